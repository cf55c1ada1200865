"""Output helpers of ``asyncmsgr rados``: Ceph's formatters and printing rules.

Everything the C++ ``rados`` tool prints goes through one of these, so that the
bytes match Pacific 16.2.15's:

* :class:`JSONFormatter` / :class:`XMLFormatter`: Ceph's ``Formatter`` API
  (``open_object_section``, ``dump_string``, ``dump_format``, ``flush``), with
  ``JSONFormatter``'s comma and indentation rules (4 spaces, ``"key": value``
  when pretty), ``escape_json_attr`` / ``escape_xml_attr`` escaping, and
  incremental :meth:`flush` (``rados bench`` flushes one entry per second);
* :func:`hexdump`: ``buffer::list::hexdump`` (``hexdump -C`` layout, runs of
  identical rows folded into ``*``);
* :func:`fmt_double`: a double through ``std::ostream`` (``%g``, 6 digits);
* :func:`format_utime`: ``utime_t``'s ``operator<<`` (local time, microseconds);
* :func:`byte_u`: ``byte_u_t`` (``0 B``, ``4 KiB``, ``1.5 MiB``);
* :func:`cpp_strerror`: ``(2) No such file or directory``;
* :func:`strict_iecstrtoll` / :func:`c_strtoll`: Ceph's and libc's integer parsers
  with their error strings.

Pure functions and small classes; no I/O besides the ``write`` callables given.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

#: ``Formatter::create`` names this tool implements (Ceph also has table/html).
FORMATS = ("json", "json-pretty", "xml", "xml-pretty")

#: What ``Formatter::create`` accepts in Pacific (the rest are refused here).
CEPH_FORMATS = (*FORMATS, "table", "table-kv", "html", "html-pretty")


def cpp_strerror(r: int) -> str:
    """Ceph's ``cpp_strerror``: ``(N) message`` for errno ``r`` (either sign)."""
    e = abs(r)
    return f"({e}) {os.strerror(e)}"


def fmt_double(x: float) -> str:
    """A double as ``std::ostream <<`` prints it by default (``%g``, precision 6)."""
    if math.isnan(x):
        return "-nan" if math.copysign(1.0, x) < 0 else "nan"
    return format(x, "g")


def fmt_f(x: float) -> str:
    """``printf("%f")``."""
    if math.isnan(x):
        return "-nan" if math.copysign(1.0, x) < 0 else "nan"
    return f"{x:f}"


# -- escaping -------------------------------------------------------------------------

def escape_json(s: str) -> str:
    """``escape_json_attr``: ``"`` ``\\`` ``\\n`` ``\\t`` named, other controls and DEL
    as ``\\u00xx``; everything else (``/``, UTF-8) as is."""
    out: list[str] = []
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04x}")
        else:
            out.append(ch)
    return "".join(out)


def escape_xml(s: str) -> str:
    """``escape_xml_attr``: the five entities, controls (but tab and newline) and DEL
    as ``&#xNN;``."""
    out: list[str] = []
    for ch in s:
        o = ord(ch)
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == "'":
            out.append("&apos;")
        elif ch == '"':
            out.append("&quot;")
        elif (o < 0x20 and ch not in "\t\n") or o == 0x7F:
            out.append(f"&#x{o:02x};")
        else:
            out.append(ch)
    return "".join(out)


# -- formatters -------------------------------------------------------------------------

class Formatter:
    """Ceph's ``Formatter`` interface (the calls ``rados`` makes)."""

    def open_object_section(self, name: str) -> None:
        """Start ``{`` (``<name>`` in XML)."""
        raise NotImplementedError

    def open_array_section(self, name: str) -> None:
        """Start ``[``."""
        raise NotImplementedError

    def close_section(self) -> None:
        """End the innermost section."""
        raise NotImplementedError

    def dump_string(self, name: str, value: str) -> None:
        """A quoted string."""
        raise NotImplementedError

    def dump_int(self, name: str, value: int) -> None:
        """A bare integer."""
        raise NotImplementedError

    def dump_format(self, name: str, value: str) -> None:
        """``dump_format(name, fmt, ...)``: the already formatted text, quoted."""
        self.dump_string(name, value)

    def flush(self, write: Callable[[str], object]) -> None:
        """Hand what was formatted so far to ``write`` and forget it."""
        raise NotImplementedError


@dataclass
class _JsonLevel:
    is_array: bool
    size: int = 0


class JSONFormatter(Formatter):
    """Ceph's ``JSONFormatter`` (``json`` or, with ``pretty``, ``json-pretty``)."""

    def __init__(self, pretty: bool = False) -> None:
        self.pretty = pretty
        self._buf: list[str] = []
        self._stack: list[_JsonLevel] = []

    def _indent(self) -> str:
        return "    " * (len(self._stack) - 1)

    def _print_name(self, name: str) -> None:
        if not self._stack:
            return
        entry = self._stack[-1]
        b = self._buf
        if entry.size:
            b.append(",\n" + self._indent() if self.pretty else ",")
        elif self.pretty:
            b.append("\n" + self._indent())
        if self.pretty and entry.is_array:
            b.append("    ")
        if not entry.is_array:
            if self.pretty:
                b.append(f'    "{escape_json(name)}": ')
            else:
                b.append(f'"{escape_json(name)}":')
        entry.size += 1

    def _open(self, name: str, is_array: bool) -> None:
        self._print_name(name)
        self._buf.append("[" if is_array else "{")
        self._stack.append(_JsonLevel(is_array))

    def open_object_section(self, name: str) -> None:
        """``{``."""
        self._open(name, False)

    def open_array_section(self, name: str) -> None:
        """``[``."""
        self._open(name, True)

    def close_section(self) -> None:
        """``}`` or ``]`` (a newline after the outermost one when pretty)."""
        entry = self._stack[-1]
        if self.pretty and entry.size:
            self._buf.append("\n" + self._indent())
        self._buf.append("]" if entry.is_array else "}")
        self._stack.pop()
        if self.pretty and not self._stack:
            self._buf.append("\n")

    def dump_string(self, name: str, value: str) -> None:
        """``"name": "value"``."""
        self._print_name(name)
        self._buf.append(f'"{escape_json(value)}"')

    def dump_int(self, name: str, value: int) -> None:
        """``"name": 12``."""
        self._print_name(name)
        self._buf.append(str(value))

    def flush(self, write: Callable[[str], object]) -> None:
        """Write the text so far."""
        write("".join(self._buf))
        self._buf.clear()


class XMLFormatter(Formatter):
    """Ceph's ``XMLFormatter`` (``xml``; ``xml-pretty`` indents one space a level)."""

    def __init__(self, pretty: bool = False) -> None:
        self.pretty = pretty
        self._buf: list[str] = []
        self._sections: list[str] = []

    def _spaces(self) -> None:
        if self.pretty:
            self._buf.append(" " * len(self._sections))

    def _open(self, name: str) -> None:
        self._spaces()
        self._buf.append(f"<{name}>")
        if self.pretty:
            self._buf.append("\n")
        self._sections.append(name)

    def open_object_section(self, name: str) -> None:
        """``<name>``."""
        self._open(name)

    def open_array_section(self, name: str) -> None:
        """``<name>`` (XML has no arrays)."""
        self._open(name)

    def close_section(self) -> None:
        """``</name>``."""
        name = self._sections.pop()
        self._spaces()
        self._buf.append(f"</{name}>")
        if self.pretty:
            self._buf.append("\n")

    def dump_string(self, name: str, value: str) -> None:
        """``<name>value</name>``."""
        self._spaces()
        self._buf.append(f"<{name}>{escape_xml(value)}</{name}>")
        if self.pretty:
            self._buf.append("\n")

    def dump_int(self, name: str, value: int) -> None:
        """``<name>12</name>``."""
        self.dump_string(name, str(value))

    def flush(self, write: Callable[[str], object]) -> None:
        """Write the text so far (a newline after it when pretty and not empty)."""
        text = "".join(self._buf)
        write(text)
        if self.pretty and text:
            write("\n")
        self._buf.clear()


def create_formatter(name: str) -> Formatter | None:
    """``Formatter::create``: the formatter called ``name`` ("" is json-pretty), or
    None for a name this tool does not know."""
    name = name or "json-pretty"
    if name == "json":
        return JSONFormatter(False)
    if name == "json-pretty":
        return JSONFormatter(True)
    if name == "xml":
        return XMLFormatter(False)
    if name == "xml-pretty":
        return XMLFormatter(True)
    return None


# -- hexdump and times --------------------------------------------------------------------

def _printable(b: int) -> bool:
    """C-locale ``isupper || islower || isdigit || ' ' || ispunct`` on a signed char."""
    return 0x20 <= b < 0x7F


def hexdump(data: bytes | bytearray | memoryview, trailing_newline: bool = True) -> str:
    """``buffer::list::hexdump``: ``hexdump -C`` rows; empty data gives ``""``."""
    buf = bytes(data)
    n = len(buf)
    if not n:
        return ""
    per = 16
    out: list[str] = []
    last_row_char = buf[0]
    was_same = did_star = False
    for o in range(0, n, per):
        if o + per < n:
            row_is_same = True
            for i in range(per):
                if o + i >= n:
                    break
                c = buf[o + i]
                if c != last_row_char:
                    if i == 0:
                        last_row_char = c
                        was_same = did_star = False
                    else:
                        row_is_same = False
            if row_is_same:
                if was_same:
                    if not did_star:
                        out.append("\n*")
                        did_star = True
                    continue
                was_same = True
            else:
                was_same = did_star = False
        if o:
            out.append("\n")
        row = buf[o:o + per]
        parts = [f"{o:08x} "]
        for i in range(per):
            if i == 8:
                parts.append(" ")
            parts.append(f" {row[i]:02x}" if i < len(row) else "   ")
        parts.append("  |")
        parts.append("".join(chr(c) if _printable(c) else "." for c in row))
        parts.append("|")
        out.append("".join(parts))
    if trailing_newline:
        out.append(f"\n{n:08x}\n")
    return "".join(out)


#: ``utime_t`` below this many seconds prints as a relative time (``sec.usec``).
_RELATIVE_BELOW = 60 * 60 * 24 * 365 * 10


def format_utime(sec: int, nsec: int = 0) -> str:
    """``utime_t`` printed as Ceph prints it: ``2026-12-05T17:13:10.182572+0000`` in
    local time (microseconds, truncated), or ``sec.usec`` below ten years."""
    usec = nsec // 1000
    if sec < _RELATIVE_BELOW:
        return f"{sec}.{usec:06d}"
    tm = time.localtime(sec)
    return time.strftime("%Y-%m-%dT%H:%M:%S", tm) + f".{usec:06d}" + time.strftime("%z", tm)


def format_now() -> str:
    """The current time as :func:`format_utime` prints it (``--show-time``)."""
    t = time.time_ns()
    return format_utime(t // 1_000_000_000, t % 1_000_000_000)


def byte_u(v: int) -> str:
    """``byte_u_t`` (``format_u``): ``0 B``, ``4 KiB``, ``1.5 KiB``, ``10.0 MiB``."""
    units = (" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB")
    n = v
    index = 0
    mult = 1
    while n >= 1024 and index < 7:
        n //= 1024
        index += 1
        mult *= 1024
    u = units[index]
    if index == 0 or v % mult == 0:
        return f"{n}{u}"
    text = ""
    for prec in (2, 1, 0):  # format_u: the first precision that fits 7 characters
        text = f"{v / mult:.{prec}f}{u}"
        if len(text) <= 7:
            break
    return text


# -- integer parsing ---------------------------------------------------------------------

class ParseError(ValueError):
    """A value Ceph's parser refuses; ``str()`` is Ceph's message."""


def strict_strtoll(text: str) -> int:
    """Ceph's ``strict_strtoll(str, 10, &err)``: libc ``strtoll`` that must consume
    the whole string and not overflow."""
    value, rest = c_strtoll(text)
    if rest == text or rest:
        raise ParseError(f"Expected option value to be integer, got '{text}'")
    if not -(1 << 63) <= value < (1 << 63):
        raise ParseError(f"The option value '{text}' seems to be invalid")
    return value


_IEC_SHIFTS = {"K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60, "B": 0}


def strict_iecstrtoll(text: str) -> int:
    """Ceph's ``strict_iecstrtoll`` (``strict_iec_cast<uint64_t>``): an integer with
    an optional unit (``B``, ``K``/``Ki``, ``M`` ... ``E``), as a u64.

    The ``rados`` tool stores the result in variables of other C types; use
    :func:`c_cast` for that.
    """
    if not text:
        raise ParseError("strict_iecstrtoll: value not specified")
    u = len(text)
    for i, ch in enumerate(text):
        if ch not in "0123456789-+":
            u = i
            break
    m = 0
    num = text
    if u < len(text):
        num, unit = text[:u], text[u:]
        if unit.endswith("i") and unit.startswith("B"):
            raise ParseError('strict_iecstrtoll: illegal prefix "Bi"')
        if len(unit) > 2:
            raise ParseError("strict_iecstrtoll: illegal prefix (length > 2)")
        if unit[0] not in _IEC_SHIFTS:
            raise ParseError("strict_iecstrtoll: unit prefix not recognized")
        m = _IEC_SHIFTS[unit[0]]
    value = strict_strtoll(num)
    if value < 0:
        raise ParseError("strict_iecstrtoll: value should not be negative")
    return (value << m) & ((1 << 64) - 1)


def c_cast(value: int, bits: int, signed: bool) -> int:
    """``value`` stored in a C integer of ``bits`` bits (two's complement wrap)."""
    value &= (1 << bits) - 1
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def c_strtoll(text: str) -> tuple[int, str]:
    """libc ``strtoll(text, &end, 10)``: (value, the unparsed rest); the value is
    not clamped to ``long long`` (libc would clamp and set ERANGE)."""
    i = 0
    n = len(text)
    while i < n and text[i] in " \t\n\v\f\r":
        i += 1
    j = i
    if j < n and text[j] in "+-":
        j += 1
    k = j
    while k < n and text[k].isdigit() and text[k].isascii():
        k += 1
    if k == j:
        return 0, text
    return int(text[i:k], 10), text[k:]


__all__ = [
    "CEPH_FORMATS",
    "FORMATS",
    "Formatter",
    "JSONFormatter",
    "ParseError",
    "XMLFormatter",
    "byte_u",
    "c_cast",
    "c_strtoll",
    "cpp_strerror",
    "create_formatter",
    "escape_json",
    "escape_xml",
    "fmt_double",
    "fmt_f",
    "format_now",
    "format_utime",
    "hexdump",
    "strict_iecstrtoll",
    "strict_strtoll",
]
