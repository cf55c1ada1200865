"""The argument types of Ceph's command descriptions (``ceph_argparse.py``'s ``Ceph*``).

Each type checks one word typed on a ``ceph`` command line and gives the value
sent in the JSON command: :class:`CephInt` (``int(s, 0)``, an optional range
``min`` or ``min|max``), :class:`CephFloat`, :class:`CephString` (``goodchars``,
a regex character class), :class:`CephChoices`, :class:`CephPoolname`,
:class:`CephObjectname`, :class:`CephPgid`, :class:`CephName` (``type.id``),
:class:`CephOsdName` (``N`` or ``osd.N``, the value is the integer),
:class:`CephIPAddr`, :class:`CephEntityAddr`, :class:`CephBool`,
:class:`CephFilepath`, :class:`CephFragment`, :class:`CephUUID`,
:class:`CephSocketpath` and :class:`CephPrefix` (a fixed word). A bad word raises
one of the :class:`ArgumentError` subclasses, with ``ceph``'s message.

Where ``ceph`` itself crashes on odd input (an IPv6 address ending in ``]``, a
non-numeric port, an address or fragment with two ``/``, a socket path that does
not exist), the word is refused with :class:`ArgumentValid` or
:class:`ArgumentFormat` instead.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import string
import uuid
from collections.abc import Callable, Mapping
from typing import Any

Value = Any
"""A validated value: int, float, bool, str, or a list of them (repeated arguments)."""


# -- errors ------------------------------------------------------------------------------

class ArgumentError(Exception):
    """Something wrong with the arguments (``ceph_argparse.ArgumentError``)."""


class ArgumentNumber(ArgumentError):
    """Wrong number of a repeated argument."""


class ArgumentFormat(ArgumentError):
    """An argument's value has the wrong format."""


class ArgumentMissing(ArgumentError):
    """A required argument is missing."""


class ArgumentValid(ArgumentError):
    """An argument's value is otherwise invalid (not among the choices...)."""


class ArgumentTooFew(ArgumentError):
    """Fewer arguments than the signature requires (the search goes on)."""


class ArgumentPrefix(ArgumentError):
    """A word does not match the command's fixed words (the search goes on)."""


class JsonFormat(ValueError):
    """The command descriptions are not what ``ceph`` can use."""


# -- argument types ----------------------------------------------------------------------

class ArgType:
    """One argument type; :meth:`valid` checks a word and returns its value."""

    def valid(self, s: str, partial: bool = False) -> Value:
        """The value of ``s``, or raise an :class:`ArgumentError`."""
        return s

    def complete(self, s: str) -> list[str]:
        """Completions of ``s`` (used by shells)."""
        return []

    def __str__(self) -> str:
        return f"<{type(self).__name__}>"


def _range(text: str, cast: Callable[[str], Any]) -> list[Any]:
    return [cast(x) for x in text.split("|")] if text else []


def _check_range(val: float, rng: list[Any]) -> None:
    if (len(rng) == 2 and (val < rng[0] or val > rng[1])) or (len(rng) == 1 and val < rng[0]):
        raise ArgumentValid(f"{val} not in range {rng}")


def _range_str(rng: list[Any]) -> str:
    if len(rng) == 1:
        return f"[{rng[0]}-]"
    if len(rng) == 2:
        return f"[{rng[0]}-{rng[1]}]"
    return ""


class CephInt(ArgType):
    """Integers (``int(s, 0)``: ``-5``, ``0x1f``), with an optional ``range``
    ``min`` or ``min|max``."""

    def __init__(self, range: str = "") -> None:
        self.range = _range(range, int)

    def valid(self, s: str, partial: bool = False) -> Value:
        try:
            val = int(s, 0)
        except ValueError:
            raise ArgumentValid(f"{s} doesn't represent an int") from None
        _check_range(val, self.range)
        return val

    def __str__(self) -> str:
        return f"<int{_range_str(self.range)}>"


class CephFloat(ArgType):
    """Floats, with an optional ``range``."""

    def __init__(self, range: str = "") -> None:
        self.range = _range(range, float)

    def valid(self, s: str, partial: bool = False) -> Value:
        try:
            val = float(s)
        except ValueError:
            raise ArgumentValid(f"{s} doesn't represent a float") from None
        _check_range(val, self.range)
        return val

    def __str__(self) -> str:
        return f"<float{_range_str(self.range)}>"


class CephString(ArgType):
    """Any string; ``goodchars`` is a regex character class of the allowed ones."""

    def __init__(self, goodchars: str = "") -> None:
        try:
            pattern = re.compile(goodchars)
        except re.error:
            raise JsonFormat(f'CephString(): "{goodchars}" is not a valid RE') from None
        self.goodchars = goodchars
        self.goodset = frozenset(c for c in string.printable if pattern.match(c))

    def valid(self, s: str, partial: bool = False) -> Value:
        chars = set(s)
        if self.goodset and not chars <= self.goodset:
            raise ArgumentFormat(f"invalid chars {''.join(chars - self.goodset)} in {s}")
        return s

    def complete(self, s: str) -> list[str]:
        return [s] if s else []

    def __str__(self) -> str:
        return f"<string(goodchars {self.goodchars})>" if self.goodchars else "<string>"


class CephSocketpath(ArgType):
    """An admin socket path: it must exist and be a socket."""

    def valid(self, s: str, partial: bool = False) -> Value:
        try:
            mode = os.stat(s).st_mode
        except OSError as exc:
            raise ArgumentValid(f"socket path {s}: {exc.strerror}") from None
        if not stat.S_ISSOCK(mode):
            raise ArgumentValid(f"socket path {s} is not a socket")
        return s

    def __str__(self) -> str:
        return "<admin-socket-path>"


def _check_ip(s: str) -> str:
    """``CephIPAddr.valid``: an IPv4 or IPv6 address with an optional port and
    ``v1:``/``v2:``/``any:`` prefix; returns the address without the prefix."""
    kind = 6
    if s.startswith("v1:"):
        s, kind = s[3:], 4
    elif s.startswith("v2:"):
        s, kind = s[3:], 6
    elif s.startswith("any:"):
        s, kind = s[4:], 4
    elif s.startswith("["):
        kind = 6
    elif "." in s:
        kind = 4
    port: str | None = None
    if kind == 4:
        a, colon, p = s.partition(":")
        if colon:
            port = p
            try:
                number = int(p)
            except ValueError:
                raise ArgumentValid(f"{p}: invalid IPv4 port") from None
            if number > 65535:
                raise ArgumentValid(f"{p}: invalid IPv4 port")
        try:
            socket.inet_pton(socket.AF_INET, a)
        except OSError:
            raise ArgumentValid(f"{a}: invalid IPv4 address") from None
    else:
        a = s
        if s.startswith("["):
            end = s.find("]")
            if end == -1:
                raise ArgumentFormat(f"{s} missing terminating ]")
            if end + 1 < len(s) and s[end + 1] == ":":
                port = s[end + 2:end + 3]  # ceph reads one digit here
                if not port.isdigit():
                    raise ArgumentValid(f"{s}: bad port number")
            a = s[1:end]
        try:
            socket.inet_pton(socket.AF_INET6, a)
        except OSError:
            raise ArgumentValid(f"{s} not valid IPv6 address") from None
    if port is not None and int(port) > 65535:
        raise ArgumentValid(f"{port} not a valid port number")
    return s


class CephIPAddr(ArgType):
    """An IP address (v4 or v6) with an optional port."""

    def valid(self, s: str, partial: bool = False) -> Value:
        _check_ip(s)
        return s

    def __str__(self) -> str:
        return "<IPaddr[:port]>"


class CephEntityAddr(CephIPAddr):
    """An entity address: IP address[:port][/nonce]."""

    def valid(self, s: str, partial: bool = False) -> Value:
        nonce: str | None = None
        ip = s
        if "/" in s:
            parts = s.split("/")
            if len(parts) != 2:
                raise ArgumentValid(f"{s}: invalid entity address")
            ip, nonce = parts
            if nonce.endswith("]"):
                nonce = nonce[:-1]
                ip += "]"
        _check_ip(ip)
        if nonce:
            try:
                nonce_int: int | None = int(nonce)
            except ValueError:
                nonce_int = None
            if nonce_int is None or nonce_int < 0:
                raise ArgumentValid(f"{s}: invalid entity, nonce {nonce} not integer > 0")
        return s

    def __str__(self) -> str:
        return "<EntityAddr>"


class CephPoolname(ArgType):
    """A pool name (not checked)."""

    def __str__(self) -> str:
        return "<poolname>"


class CephObjectname(ArgType):
    """An object name (not checked)."""

    def __str__(self) -> str:
        return "<objectname>"


class CephPgid(ArgType):
    """A PG id ``POOL.SEED`` (decimal pool, hex seed)."""

    def valid(self, s: str, partial: bool = False) -> Value:
        if "." not in s:
            raise ArgumentFormat("pgid has no .")
        pool, seed = s.split(".", 1)
        try:
            poolid = int(pool)
        except ValueError:
            raise ArgumentFormat(f"pool {pool} not integer") from None
        if poolid < 0:
            raise ArgumentFormat(f"pool {poolid} < 0")
        try:
            int(seed, 16)
        except ValueError:
            raise ArgumentFormat(f"pgnum {seed} not hex integer") from None
        return s

    def __str__(self) -> str:
        return "<pgid>"


def parse_name(s: str) -> tuple[str | None, str | int | None]:
    """``CephName``: ``type.id`` (osd ids are integers), ``mgr``, ``mon`` or ``*``
    -> (type, id); raises ArgumentFormat / ArgumentValid."""
    if s == "*":
        return None, None
    if s in ("mgr", "mon"):
        return s, None
    if "." not in s:
        raise ArgumentFormat(f"CephName: no . in {s}")
    kind, ident = s.split(".", 1)
    if kind not in ("osd", "mon", "client", "mds", "mgr"):
        raise ArgumentValid("unknown type " + kind)
    if kind == "osd" and ident != "*":
        try:
            return kind, int(ident)
        except ValueError:
            raise ArgumentFormat("osd id " + ident + " not integer") from None
    return kind, ident


class CephName(ArgType):
    """An entity name ``type.id`` (``osd``, ``mon``, ``client``, ``mds``, ``mgr``),
    or ``mgr``, ``mon``, ``*``."""

    def valid(self, s: str, partial: bool = False) -> Value:
        parse_name(s)
        return s

    def __str__(self) -> str:
        return "<name (type.id)>"


class CephOsdName(ArgType):
    """An OSD: ``osd.N``, ``N`` or ``*``; the value is the integer id (or ``*``)."""

    def valid(self, s: str, partial: bool = False) -> Value:
        if s == "*":
            return s
        ident = s
        if "." in s:
            kind, ident = s.split(".", 1)
            if kind != "osd":
                raise ArgumentValid("unknown type " + kind)
        try:
            num = int(ident)
        except ValueError:
            raise ArgumentFormat("osd id " + ident + " not integer") from None
        if num < 0:
            raise ArgumentFormat(f"osd id {num} is less than 0")
        return num

    def __str__(self) -> str:
        return "<osdname (id|osd.id)>"


class CephChoices(ArgType):
    """One of a set of words (``strings``: ``a|b|c``)."""

    def __init__(self, strings: str = "") -> None:
        self.strings = strings.split("|")

    def valid(self, s: str, partial: bool = False) -> Value:
        if (not partial and s in self.strings) or \
                (partial and any(t.startswith(s) for t in self.strings)):
            return s
        raise ArgumentValid(f"{s} not in {self}")

    def complete(self, s: str) -> list[str]:
        return [t for t in self.strings if t.startswith(s)]

    def __str__(self) -> str:
        return "|".join(self.strings)


class CephBool(ArgType):
    """``true``/``false``/``1``/``0`` in any case; bare ``--name`` means true."""

    def __init__(self, strings: str = "") -> None:
        self.strings = strings.split("|")

    def valid(self, s: str, partial: bool = False) -> Value:
        lower = s.lower()
        if lower in ("true", "1"):
            return True
        if lower in ("false", "0"):
            return False
        raise ArgumentValid(f"{s} not one of 'true', 'false'")

    def __str__(self) -> str:
        return "<bool>"


class CephFilepath(ArgType):
    """A file that can be read, or written (created); the value is absolute."""

    def valid(self, s: str, partial: bool = False) -> Value:
        path = os.path.abspath(s)
        if not os.access(path, os.R_OK):
            if os.path.exists(path):
                if not os.path.isfile(path):
                    raise ArgumentValid(f"{path} is not file")
                if not os.access(path, os.W_OK):
                    raise ArgumentValid(f"{path} is not writable")
            elif not os.access(os.path.dirname(path), os.W_OK):
                raise ArgumentValid(f"cannot create file in {os.path.dirname(path)}")
        return path

    def __str__(self) -> str:
        return "<outfilename>"


class CephFragment(ArgType):
    """A CephFS fragment id ``0xVVV/BBB``, checked as ``ceph`` checks it: the value
    must start with ``0x`` and also parse as a decimal integer, which no such
    word does, so ``ceph`` (and this) refuses every fragment."""

    def valid(self, s: str, partial: bool = False) -> Value:
        if "/" not in s:
            raise ArgumentFormat(f"{s}: no /")
        parts = s.split("/")
        if len(parts) != 2:
            raise ArgumentFormat(f"{s}: more than one /")
        val, bits = parts
        if not val.startswith("0x"):
            raise ArgumentFormat(f"{val} not a hex integer")
        for part in (val, bits):
            try:
                int(part)
            except ValueError:
                raise ArgumentFormat(f"can't convert {part} to integer") from None
        return s

    def __str__(self) -> str:
        return "<CephFS fragment ID (0xvvv/bbb)>"


class CephUUID(ArgType):
    """A UUID."""

    def valid(self, s: str, partial: bool = False) -> Value:
        try:
            uuid.UUID(s)
        except ValueError as exc:
            raise ArgumentFormat(f"invalid UUID {s}: {exc}") from None
        return s

    def __str__(self) -> str:
        return "<uuid>"


class CephPrefix(ArgType):
    """A fixed word of the command (``osd``, ``pool``, ``ls``)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def valid(self, s: str, partial: bool = False) -> Value:
        if s == self.prefix or (partial and self.prefix.startswith(s)):
            return s
        raise ArgumentPrefix(f"no match for {s}")

    def complete(self, s: str) -> list[str]:
        return [self.prefix.rstrip(" ")] if self.prefix.startswith(s) else []

    def __str__(self) -> str:
        return self.prefix


#: The types a description may name.
ARG_TYPES: Mapping[str, type[ArgType]] = {cls.__name__: cls for cls in (
    CephInt, CephFloat, CephString, CephSocketpath, CephIPAddr, CephEntityAddr,
    CephPoolname, CephObjectname, CephPgid, CephName, CephOsdName, CephChoices, CephBool,
    CephFilepath, CephFragment, CephUUID, CephPrefix)}


__all__ = [
    "ARG_TYPES",
    "ArgType",
    "ArgumentError",
    "ArgumentFormat",
    "ArgumentMissing",
    "ArgumentNumber",
    "ArgumentPrefix",
    "ArgumentTooFew",
    "ArgumentValid",
    "CephBool",
    "CephChoices",
    "CephEntityAddr",
    "CephFilepath",
    "CephFloat",
    "CephFragment",
    "CephIPAddr",
    "CephInt",
    "CephName",
    "CephObjectname",
    "CephOsdName",
    "CephPgid",
    "CephPoolname",
    "CephPrefix",
    "CephSocketpath",
    "CephString",
    "CephUUID",
    "JsonFormat",
    "Value",
    "parse_name",
]
