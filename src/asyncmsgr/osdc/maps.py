"""Following the OSDMap from MOSDMap messages, sans-I/O (``Objecter::handle_osd_map``).

:func:`advance_map` walks the epochs an MOSDMap carries beyond the current map and
yields, in order, each map reached (:class:`MapStep`: the caller scans its requests
against every epoch, as Ceph does) or, when the chain breaks, what to ask the
monitor for (:class:`NeedMap`):

* no map yet: the message's newest full map, else a full map is asked for
  (``sub_want("osdmap", 0, ONETIME)``);
* each next epoch from its incremental (``apply_incremental``), else from a full
  map of that epoch;
* a missing epoch the sender still has (``>= oldest_map``): ask for the maps from
  the current epoch + 1 and stop;
* a missing epoch the sender no longer has: jump to its oldest map, and tell the
  caller a map was skipped (every op is then resent: ``skipped_map``).

A map that cannot be decoded or applied ends the walk with a request for a full map
(:attr:`NeedMap.reason` says why).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from asyncmsgr.errors import AsyncmsgrError, DecodeError
from asyncmsgr.messages.osdmap import MOSDMap
from asyncmsgr.osd.incremental import Incremental
from asyncmsgr.osd.osdmap import OSDMap


class MapStep(NamedTuple):
    """The map reached one more epoch."""

    osdmap: OSDMap
    """The map now (a full map is a new object; an incremental updates in place)."""
    skipped_map: bool
    """An epoch was skipped before this one: resend every op."""
    full: bool
    """It came from a full map (``map_full``), else an incremental (``map_inc``)."""


class NeedMap(NamedTuple):
    """Ask the monitor for maps from ``start`` (0: the latest full map)."""

    start: int
    reason: str


def advance_map(current: OSDMap | None, m: MOSDMap) -> Iterator[MapStep | NeedMap]:
    """Yield the epochs ``m`` moves ``current`` through (see the module docstring).

    ``current`` (an incremental is applied to it in place) may be None or
    epoch 0 when no map is held yet. Nothing is yielded for a message that is
    not newer than ``current``.
    """
    last = m.last
    if current is None or current.epoch == 0:
        blob = m.maps.get(last)
        if blob is None:
            yield NeedMap(0, "no map yet and no full map in the message")
            return
        try:
            yield MapStep(OSDMap.decode(blob), False, True)
        except DecodeError as exc:
            yield NeedMap(0, f"undecodable full map {last}: {exc}")
        return
    if last <= current.epoch:
        return
    skipped = False
    e = current.epoch + 1
    while e <= last:
        inc_blob = m.incremental_maps.get(e)
        full_blob = m.maps.get(e)
        if current.epoch == e - 1 and inc_blob is not None:
            try:
                current.apply_incremental(Incremental.decode(inc_blob))
            except AsyncmsgrError as exc:
                yield NeedMap(0, f"incremental {e}: {exc}")
                return
            yield MapStep(current, skipped, False)
        elif full_blob is not None:
            try:
                current = OSDMap.decode(full_blob)
            except DecodeError as exc:
                yield NeedMap(0, f"undecodable full map {e}: {exc}")
                return
            yield MapStep(current, skipped, True)
        elif e >= m.oldest_map:
            yield NeedMap(current.epoch + 1, f"epoch {e} missing")
            return
        else:
            e = m.oldest_map
            skipped = True
            continue
        e += 1


__all__ = ["MapStep", "NeedMap", "advance_map"]
