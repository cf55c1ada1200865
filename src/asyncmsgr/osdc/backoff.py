"""OSD backoffs, sans-I/O: which object ranges of which PGs an OSD asked us not to touch.

An OSD that cannot serve a PG (peering) or an object (unfound, being recovered)
sends MOSDBackoff BLOCK with an id and an object range ``[begin, end)`` (a single
object when they are equal); the client acks it, holds every op for that range and
sends them again once UNBLOCK arrives (``Objecter::handle_osd_backoff``). A
session reset forgets every backoff of the session.

Ranges compare objects the way Pacific's OSD does with SORTBITWISE
(``cmp(const hobject_t&, const hobject_t&)``): max flag, pool, the bit-reversed
hash, namespace, effective key, name, snap (:func:`hobject_sort_key`).
"""

from __future__ import annotations

import bisect
from typing import NamedTuple

from asyncmsgr.osd.types import SPG, HObject, reverse_bits

_MAX_BITWISE_KEY = 0x100000000

SortKey = tuple[bool, int, int, bytes, bytes, bytes, int]


def _b(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def hobject_sort_key(h: HObject) -> SortKey:
    """A key ordering ``hobject_t``s as Ceph's bitwise ``cmp`` does.

    Names compare as bytes (``std::string``); the key compares before the name
    (an object without a locator key uses its name).
    """
    bitwise = _MAX_BITWISE_KEY if h.max else reverse_bits(h.hash)
    return (h.max, h.pool, bitwise, _b(h.nspace), _b(h.key or h.oid), _b(h.oid), h.snap)


def contained_by(h: HObject, begin: HObject, end: HObject) -> bool:
    """``op_target_t::contained_by``: ``h == begin`` or ``begin < h < end``."""
    k = hobject_sort_key(h)
    b = hobject_sort_key(begin)
    return k == b or b < k < hobject_sort_key(end)


class Backoff(NamedTuple):
    """``OSDBackoff``: one blocked range of a PG."""

    pgid: SPG
    id: int
    begin: HObject
    end: HObject


class BackoffTable:
    """A session's backoffs (``OSDSession::backoffs`` and ``backoffs_by_id``).

    Per PG the ranges are kept sorted by their begin; :meth:`blocking` finds the
    range covering an object like ``Objecter::_send_op`` does.
    """

    __slots__ = ("_by_id", "_by_pg")

    def __init__(self) -> None:
        self._by_pg: dict[SPG, list[tuple[SortKey, Backoff]]] = {}
        self._by_id: dict[int, Backoff] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __bool__(self) -> bool:
        return bool(self._by_id)

    def block(self, b: Backoff) -> None:
        """Register a BLOCK (a range with the same begin in the PG is replaced)."""
        ranges = self._by_pg.setdefault(b.pgid, [])
        key = hobject_sort_key(b.begin)
        i = bisect.bisect_left(ranges, key, key=lambda e: e[0])
        if i < len(ranges) and ranges[i][0] == key:
            self._by_id.pop(ranges[i][1].id, None)
            ranges[i] = (key, b)
        else:
            ranges.insert(i, (key, b))
        self._by_id[b.id] = b

    def unblock(self, backoff_id: int) -> Backoff | None:
        """Remove the backoff with this id; None if there is none."""
        b = self._by_id.pop(backoff_id, None)
        if b is None:
            return None
        ranges = self._by_pg.get(b.pgid, [])
        for i, (_, other) in enumerate(ranges):
            if other is b:
                del ranges[i]
                break
        if not ranges:
            self._by_pg.pop(b.pgid, None)
        return b

    def blocking(self, pgid: SPG, h: HObject) -> Backoff | None:
        """The backoff of ``pgid`` whose range holds ``h``, or None."""
        ranges = self._by_pg.get(pgid)
        if not ranges:
            return None
        key = hobject_sort_key(h)
        i = bisect.bisect_left(ranges, key, key=lambda e: e[0])  # lower_bound
        if i > 0:
            i -= 1
            if key >= hobject_sort_key(ranges[i][1].end):
                i += 1
        if i >= len(ranges):
            return None
        qkey, b = ranges[i]
        if qkey == key or (qkey < key < hobject_sort_key(b.end)):
            return b
        return None

    def clear(self) -> None:
        """Forget every backoff (the session was reset)."""
        self._by_pg.clear()
        self._by_id.clear()

    def values(self) -> list[Backoff]:
        """Every backoff held."""
        return list(self._by_id.values())


__all__ = ["Backoff", "BackoffTable", "contained_by", "hobject_sort_key"]
