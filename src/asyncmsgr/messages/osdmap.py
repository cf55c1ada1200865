"""MOSDMap (41, v4/3): OSDMap full maps and incrementals, as Pacific sends them.

Front::

    uuid fsid
    map<u32 epoch, bufferlist> incremental_maps
    map<u32 epoch, bufferlist> maps              (full maps)
    u32 oldest_map, u32 newest_map               (header version >= 2)
    map<s64 pool, interval_set<snapid_t>> gap_removed_snaps   (>= 4; empty since Octopus)

The maps stay encoded here (a bad map must not break the session that carried
it); decode one with :meth:`asyncmsgr.osd.osdmap.OSDMap.decode` or
:meth:`asyncmsgr.osd.incremental.Incremental.decode`.
Ceph re-encodes the maps for peers with older significant features; this class
always sends them as they are (Pacific peers).
"""

from __future__ import annotations

import uuid
from typing import Any, Self

from asyncmsgr.message import Message, MsgHeader, register_message
from asyncmsgr.messages._encoding import ZERO_UUID
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import pull_uuid, push_uuid

#: ``CEPH_MSG_OSD_MAP``.
CEPH_MSG_OSD_MAP = 41


def _pull_epoch_blobs(r: Reader) -> dict[int, bytes]:
    n = r.pull_count(8, "MOSDMap maps")
    out: dict[int, bytes] = {}
    for _ in range(n):
        epoch = r.pull_u32()
        out[epoch] = r.pull_blob()
    return out


def _push_epoch_blobs(w: Writer, m: dict[int, bytes]) -> None:
    w.push_u32(len(m))
    for epoch in sorted(m):
        w.push_u32(epoch)
        w.push_blob(m[epoch])


def _pull_gap_snaps(r: Reader) -> dict[int, tuple[tuple[int, int], ...]]:
    n = r.pull_count(12, "gap_removed_snaps")
    out: dict[int, tuple[tuple[int, int], ...]] = {}
    for _ in range(n):
        pool = r.pull_s64()
        k = r.pull_count(16, "interval_set")
        out[pool] = tuple((r.pull_u64(), r.pull_u64()) for _ in range(k))
    return out


def _push_gap_snaps(w: Writer, m: dict[int, tuple[tuple[int, int], ...]]) -> None:
    w.push_u32(len(m))
    for pool in sorted(m):
        w.push_s64(pool)
        w.push_u32(len(m[pool]))
        for start, length in m[pool]:
            w.push_u64(start)
            w.push_u64(length)


@register_message
class MOSDMap(Message):
    """``MOSDMap``: some epochs of the OSDMap, as incrementals and/or full maps."""

    TYPE = CEPH_MSG_OSD_MAP
    HEAD_VERSION = 4
    COMPAT_VERSION = 3

    fsid: uuid.UUID
    incremental_maps: dict[int, bytes]
    """Epoch to encoded ``OSDMap::Incremental``."""
    maps: dict[int, bytes]
    """Epoch to encoded full ``OSDMap``."""
    oldest_map: int
    """Oldest epoch the sender still has (Reef calls it
    ``cluster_osdmap_trim_lower_bound``)."""
    newest_map: int
    """Newest epoch the sender has."""
    gap_removed_snaps: dict[int, tuple[tuple[int, int], ...]]
    """Unused since Octopus; kept so re-encoding is byte-identical."""

    __slots__ = ("fsid", "gap_removed_snaps", "incremental_maps", "maps", "newest_map",
                 "oldest_map")

    def __init__(self, *, fsid: uuid.UUID = ZERO_UUID,
                 incremental_maps: dict[int, bytes] | None = None,
                 maps: dict[int, bytes] | None = None, oldest_map: int = 0,
                 newest_map: int = 0,
                 gap_removed_snaps: dict[int, tuple[tuple[int, int], ...]] | None = None,
                 **base: Any) -> None:
        Message.__init__(self, **base)
        self.fsid = fsid
        self.incremental_maps = {} if incremental_maps is None else incremental_maps
        self.maps = {} if maps is None else maps
        self.oldest_map = oldest_map
        self.newest_map = newest_map
        self.gap_removed_snaps = {} if gap_removed_snaps is None else gap_removed_snaps

    @property
    def first(self) -> int:
        """Lowest epoch carried (0 when empty)."""
        epochs = [*self.incremental_maps, *self.maps]
        return min(epochs) if epochs else 0

    @property
    def last(self) -> int:
        """Highest epoch carried (0 when empty)."""
        epochs = [*self.incremental_maps, *self.maps]
        return max(epochs) if epochs else 0

    def encode_payload(self, features: int) -> None:
        """Front as Pacific writes it (header v4/3)."""
        self.version = self.HEAD_VERSION
        self.compat_version = self.COMPAT_VERSION
        w = Writer()
        push_uuid(w, self.fsid)
        _push_epoch_blobs(w, self.incremental_maps)
        _push_epoch_blobs(w, self.maps)
        w.push_u32(self.oldest_map)
        w.push_u32(self.newest_map)
        _push_gap_snaps(w, self.gap_removed_snaps)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front by header version (epochs from v2, gap snaps from v4)."""
        fsid = pull_uuid(front)
        incs = _pull_epoch_blobs(front)
        maps = _pull_epoch_blobs(front)
        oldest = newest = 0
        if header.version >= 2:
            oldest = front.pull_u32()
            newest = front.pull_u32()
        gap = _pull_gap_snaps(front) if header.version >= 4 else {}
        return cls(fsid=fsid, incremental_maps=incs, maps=maps, oldest_map=oldest,
                   newest_map=newest, gap_removed_snaps=gap)


__all__ = ["CEPH_MSG_OSD_MAP", "MOSDMap"]
