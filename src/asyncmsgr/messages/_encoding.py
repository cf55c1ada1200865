"""Container codecs shared by the message modules.

Ordering and duplicate rules follow Ceph's two decoders:

* ``std::map``/``std::set`` are ordered, so encoders here sort keys. Strings sort
  by their UTF-8 bytes (``std::string`` compares like ``memcmp``), which also
  places surrogate-escaped raw bytes where Ceph would.
* Containers whose elements all have ``denc`` support (``map<string,string>``,
  ``set<string>``, ``set<int32>``) decode with ``emplace_hint``: the **first** of
  duplicate keys wins. Maps with a non-denc value (``mon_info_t``,
  ``ceph_mon_subscribe_item``) decode with ``m[k] = v``: the **last** wins
  (:meth:`Reader.pull_map`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from asyncmsgr.wire.buffer import Reader, Writer, pull_string_item, push_string_item

V = TypeVar("V")

#: Smallest encoded string: its u32 length.
STRING_MIN = 4


#: The nil uuid (``uuid_d()``), the default fsid (a UUID is immutable: one is shared).
ZERO_UUID = uuid.UUID(int=0)


def zero_uuid() -> uuid.UUID:
    """Default fsid: the nil uuid (``uuid_d()``)."""
    return uuid.UUID(int=0)


def string_key(s: str) -> bytes:
    """Sort key giving ``std::string`` order (bytes as Ceph sees them)."""
    return s.encode("utf-8", "surrogateescape")


def pull_string_list(r: Reader) -> list[str]:
    """``vector<string>``."""
    return r.pull_list(pull_string_item, STRING_MIN)


def push_string_list(w: Writer, items: Iterable[str]) -> None:
    """``vector<string>`` in the given order."""
    w.push_list(items, push_string_item)


def pull_string_map(r: Reader) -> dict[str, str]:
    """``map<string,string>`` (denc: the first duplicate wins)."""
    n = r.pull_count(2 * STRING_MIN, "map<string,string>")
    out: dict[str, str] = {}
    for _ in range(n):
        k = r.pull_string()
        v = r.pull_string()
        out.setdefault(k, v)
    return out


def push_string_map(w: Writer, m: Mapping[str, str]) -> None:
    """``map<string,string>``, keys sorted."""
    push_sorted_map(w, m, push_string_item)


def push_sorted_map(w: Writer, m: Mapping[str, V], value: Callable[[Writer, V], None]) -> None:
    """``map<string,V>``, keys sorted as ``std::map`` holds them."""
    w.push_u32(len(m))
    for k in sorted(m, key=string_key):
        w.push_string(k)
        value(w, m[k])


def pull_string_set(r: Reader) -> frozenset[str]:
    """``set<string>`` (duplicates collapse)."""
    return frozenset(r.pull_list(pull_string_item, STRING_MIN))


def push_string_set(w: Writer, s: Iterable[str]) -> None:
    """``set<string>``, sorted."""
    push_string_list(w, sorted(set(s), key=string_key))


def pull_s32_set(r: Reader) -> frozenset[int]:
    """``set<int32_t>`` (duplicates collapse)."""
    return frozenset(r.pull_list(Reader.pull_s32, 4))


def push_s32_set(w: Writer, s: Iterable[int]) -> None:
    """``set<int32_t>``, sorted."""
    w.push_list(sorted(set(s)), Writer.push_s32)


__all__ = [
    "STRING_MIN",
    "ZERO_UUID",
    "pull_s32_set",
    "pull_string_list",
    "pull_string_map",
    "pull_string_set",
    "push_s32_set",
    "push_sorted_map",
    "push_string_list",
    "push_string_map",
    "push_string_set",
    "string_key",
    "zero_uuid",
]
