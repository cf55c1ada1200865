"""``ceph.conf`` files as Ceph Pacific's ``ConfUtils`` parses them (:class:`ConfFile`).

The rules are listed in :mod:`asyncmsgr.monc.conf` ("Files"), which re-exports
this module's names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from asyncmsgr.monc.monhost import ConfError
from asyncmsgr.record import Record

_assign = object.__setattr__  # what a frozen class's __init__ assigns with


def normalize_conf_key(key: str) -> str:
    """``ConfFile::normalize_key_name``: trim, each run of blanks -> ``_``."""
    return "_".join(key.split())


class ConfFile(Record):
    """A parsed ``ceph.conf``: section name -> normalised key -> raw value."""

    sections: Mapping[str, Mapping[str, str]]

    __slots__ = ("sections",)

    def __init__(self, sections: Mapping[str, Mapping[str, str]]) -> None:
        _assign(self, "sections", sections)

    @classmethod
    def parse(cls, text: str, source: str = "<string>") -> ConfFile:
        """Parse ``ceph.conf`` text (rules in the module docstring).

        Raises:
            ConfError: a syntax error, naming ``source`` and the line.
        """
        sections: dict[str, dict[str, str]] = {"global": {}}
        current = sections["global"]
        pending = ""
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for number, raw in enumerate(lines, 1):
            line = raw.removesuffix("\r")
            if line.endswith("\\"):
                pending += line[:-1]
                continue
            line, pending = pending + line, ""
            try:
                parsed = _parse_line(line)
            except ConfError as exc:
                raise ConfError(f"{source}: line {number}: {exc}") from None
            if parsed is None:
                continue
            section, key, value = parsed
            if section is not None:
                current = sections.setdefault(section, {})
            else:
                current[key] = value
        if pending:
            raise ConfError(f"{source}: the last line ends with a backslash")
        return cls({name: dict(items) for name, items in sections.items()})

    def lookup(self, key: str, sections: Iterable[str]) -> str | None:
        """The raw value of ``key`` in the first of ``sections`` that has it."""
        name = normalize_conf_key(key)
        for section in sections:
            values = self.sections.get(section)
            if values is not None and name in values:
                return values[name]
        return None

    def merged(self, sections: Sequence[str]) -> dict[str, str]:
        """Every key visible from ``sections`` (earlier sections win)."""
        out: dict[str, str] = {}
        for section in reversed(sections):
            out.update(self.sections.get(section, {}))
        return out


def _parse_line(line: str) -> tuple[str | None, str, str] | None:
    """One logical line -> (section, "", "") | (None, key, value) | None (blank)."""
    s = line.lstrip()
    if not s or s[0] in "#;":
        return None
    if s[0] == "[":
        end = s.find("]")
        if end < 0:
            raise ConfError("expected ']' after the section name")
        name = s[1:end]
        if not name:
            raise ConfError("empty section name")
        _expect_comment_or_end(s[end + 1:])
        return name, "", ""
    if s[0] == "]":
        raise ConfError("unexpected ']'")
    key_text, eq, rest = s.partition("=")
    if not eq:
        raise ConfError("expected 'key = value'")
    if any(c in key_text for c in "#;\"[]"):
        raise ConfError(f"bad key {key_text.strip()!r}")
    key = normalize_conf_key(key_text)
    if not key:
        raise ConfError("empty key")
    rest = rest.lstrip()
    if rest.startswith('"'):
        value, tail = _quoted(rest[1:])
        _expect_comment_or_end(tail)
        return None, key, value
    return None, key, _unquoted(rest)


def _quoted(s: str) -> tuple[str, str]:
    out: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(s[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), s[i + 1:]
        if c in "#;":
            raise ConfError(f"'{c}' inside a quoted value (Ceph refuses it)")
        out.append(c)
        i += 1
    raise ConfError("missing closing quote")


def _unquoted(s: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s):
                raise ConfError("unterminated escape")
            out.append(s[i + 1])
            i += 2
            continue
        if c in "#;":
            break
        out.append(c)
        i += 1
    return "".join(out).strip()


def _expect_comment_or_end(tail: str) -> None:
    tail = tail.lstrip()
    if tail and tail[0] not in "#;":
        raise ConfError(f"unexpected text {tail!r}")


__all__ = ["ConfFile", "normalize_conf_key"]
