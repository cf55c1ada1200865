"""``MonMap``: the monitor map carried by MMonMap (``src/mon/MonMap.cc``, Pacific).

Pacific encodes ``ENCODE_START(9, 6)``::

    uuid fsid; u32 epoch; utime last_changed; utime created;
    mon_feature_t persistent_features; mon_feature_t optional_features;
    map<string, mon_info_t> mon_info; vector<string> ranks;
    u8 min_mon_release;                                       (v7)
    set<s32> removed_ranks; u8 strategy; set<string> disallowed_leaders;  (v8)
    bool stretch_mode_enabled; string tiebreaker_mon;
    set<string> stretch_marked_down_mons                      (v9)

``mon_feature_t`` is ``ENCODE_START(1, 1)`` + u64; ``mon_info_t`` is
``ENCODE_START(5, 1)`` + string name, entity_addrvec_t public_addrs,
u16 priority (v2), u16 weight (v4), map<string,string> crush_loc (v5).

Decoding accepts struct versions 6 to 9 (everything a Nautilus or later mon
sends to a Nautilus or later peer) and fills absent fields as Ceph does.
Versions 1 to 5 (pre-Nautilus, with a legacy ``mon_addr`` map and ranks derived
from address order) raise DecodeError. Trailing bytes after the struct are
ignored, as ``MonMap::decode(bufferlist)`` ignores them. :meth:`MonMap.encode`
always writes version 9.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from enum import IntEnum

from asyncmsgr.errors import DecodeError
from asyncmsgr.features import CEPH_FEATURES_ALL
from asyncmsgr.messages._encoding import (
    STRING_MIN,
    ZERO_UUID,
    pull_s32_set,
    pull_string_list,
    pull_string_map,
    pull_string_set,
    push_s32_set,
    push_sorted_map,
    push_string_list,
    push_string_map,
    push_string_set,
    string_key,
)
from asyncmsgr.record import Record
from asyncmsgr.types import Buffer, EntityAddrVec, UTime
from asyncmsgr.wire.buffer import Reader, Writer, as_view
from asyncmsgr.wire.codecs import (
    pull_entity_addrvec,
    pull_utime,
    pull_uuid,
    push_entity_addrvec,
    push_utime,
    push_uuid,
)

MONMAP_HEAD_VERSION = 9
MONMAP_COMPAT_VERSION = 6
#: Oldest struct version decoded here (the first with ``ranks`` on the wire).
MONMAP_MIN_DECODED_VERSION = 6
MON_INFO_HEAD_VERSION = 5
MON_INFO_COMPAT_VERSION = 1


class ElectionStrategy(IntEnum):
    """``MonMap::election_strategy``."""

    CLASSIC = 1
    DISALLOW = 2
    CONNECTIVITY = 3


class CephRelease(IntEnum):
    """``ceph_release_t`` values a monmap may carry."""

    UNKNOWN = 0
    KRAKEN = 11
    LUMINOUS = 12
    MIMIC = 13
    NAUTILUS = 14
    OCTOPUS = 15
    PACIFIC = 16


class MonFeature:
    """``ceph::features::mon`` bits (``mon_feature_t``)."""

    KRAKEN = 1 << 0
    LUMINOUS = 1 << 1
    MIMIC = 1 << 2
    OSDMAP_PRUNE = 1 << 3
    NAUTILUS = 1 << 4
    OCTOPUS = 1 << 5
    PACIFIC = 1 << 6
    PINGING = 1 << 7


_RELEASE_BY_FEATURE = (
    (MonFeature.PACIFIC, CephRelease.PACIFIC),
    (MonFeature.OCTOPUS, CephRelease.OCTOPUS),
    (MonFeature.NAUTILUS, CephRelease.NAUTILUS),
    (MonFeature.MIMIC, CephRelease.MIMIC),
    (MonFeature.LUMINOUS, CephRelease.LUMINOUS),
    (MonFeature.KRAKEN, CephRelease.KRAKEN),
)


def infer_release_from_mon_features(features: int) -> int:
    """``infer_ceph_release_from_mon_features`` (used for v6 maps)."""
    for bit, release in _RELEASE_BY_FEATURE:
        if features & bit:
            return release
    return CephRelease.UNKNOWN


_set = object.__setattr__  # what a frozen class's __init__ assigns with
_DEFAULT_ENTITYADDRVEC = EntityAddrVec()
_DEFAULT_UTIME = UTime()


class MonInfo(Record):
    """``mon_info_t``: one monitor's entry."""

    name: str
    """The mon's name (``a`` for ``mon.a``)."""
    public_addrs: EntityAddrVec
    """Addresses clients reach it on (v2 first)."""
    priority: int
    """u16 connection priority (v2)."""
    weight: int
    """u16 weight for client mon selection (v4)."""
    crush_loc: Mapping[str, str]
    """Stretch-mode CRUSH location (v5)."""

    __slots__ = ("crush_loc", "name", "priority", "public_addrs", "weight")

    def __init__(self, *, name: str, public_addrs: EntityAddrVec = _DEFAULT_ENTITYADDRVEC,
                 priority: int = 0, weight: int = 0,
                 crush_loc: Mapping[str, str] | None = None) -> None:
        _set(self, "name", name)
        _set(self, "public_addrs", public_addrs)
        _set(self, "priority", priority)
        _set(self, "weight", weight)
        _set(self, "crush_loc", {} if crush_loc is None else crush_loc)


def pull_mon_feature(r: Reader) -> int:
    """``mon_feature_t``: ENCODE_START(1, 1) + u64 features."""
    _v, body = r.pull_versioned(1, "mon_feature_t")
    return body.pull_u64()


def push_mon_feature(w: Writer, features: int) -> None:
    """``mon_feature_t``."""
    with w.versioned(1, 1):
        w.push_u64(features)


def pull_mon_info(r: Reader) -> MonInfo:
    """``mon_info_t::decode``."""
    v, body = r.pull_versioned(MON_INFO_HEAD_VERSION, "mon_info_t")
    name = body.pull_string()
    addrs = pull_entity_addrvec(body)
    priority = body.pull_u16() if v >= 2 else 0
    weight = body.pull_u16() if v >= 4 else 0
    crush_loc = pull_string_map(body) if v >= 5 else {}
    return MonInfo(name=name, public_addrs=addrs, priority=priority, weight=weight,
                   crush_loc=crush_loc)


def push_mon_info(w: Writer, info: MonInfo) -> None:
    """``mon_info_t::encode`` for Nautilus and later peers (version 5)."""
    with w.versioned(MON_INFO_HEAD_VERSION, MON_INFO_COMPAT_VERSION):
        w.push_string(info.name)
        push_entity_addrvec(w, info.public_addrs, CEPH_FEATURES_ALL)
        w.push_u16(info.priority)
        w.push_u16(info.weight)
        push_string_map(w, info.crush_loc)


class MonMap(Record):
    """The monitor map. ``ranks`` lists mon names by rank."""

    fsid: uuid.UUID
    """Cluster fsid."""
    epoch: int
    """Map epoch (u32)."""
    last_changed: UTime
    created: UTime
    persistent_features: int
    """``mon_feature_t`` bits every mon has committed to (:class:`MonFeature`)."""
    optional_features: int
    mon_info: Mapping[str, MonInfo]
    """Entries keyed by mon name."""
    ranks: tuple[str, ...]
    """Mon names in rank order."""
    min_mon_release: int
    """``ceph_release_t`` (u8); inferred from the features for a v6 map."""
    removed_ranks: frozenset[int]
    strategy: int
    """Election strategy (u8, :class:`ElectionStrategy`)."""
    disallowed_leaders: frozenset[str]
    stretch_mode_enabled: bool
    tiebreaker_mon: str
    stretch_marked_down_mons: frozenset[str]

    __slots__ = ("created", "disallowed_leaders", "epoch", "fsid", "last_changed",
                 "min_mon_release", "mon_info", "optional_features", "persistent_features",
                 "ranks", "removed_ranks", "strategy", "stretch_marked_down_mons",
                 "stretch_mode_enabled", "tiebreaker_mon")

    def __init__(self, *, fsid: uuid.UUID = ZERO_UUID, epoch: int = 0,
                 last_changed: UTime = _DEFAULT_UTIME, created: UTime = _DEFAULT_UTIME,
                 persistent_features: int = 0, optional_features: int = 0,
                 mon_info: Mapping[str, MonInfo] | None = None, ranks: tuple[str, ...] = (),
                 min_mon_release: int = CephRelease.UNKNOWN,
                 removed_ranks: frozenset[int] = frozenset(),
                 strategy: int = ElectionStrategy.CLASSIC,
                 disallowed_leaders: frozenset[str] = frozenset(),
                 stretch_mode_enabled: bool = False, tiebreaker_mon: str = "",
                 stretch_marked_down_mons: frozenset[str] = frozenset()) -> None:
        _set(self, "fsid", fsid)
        _set(self, "epoch", epoch)
        _set(self, "last_changed", last_changed)
        _set(self, "created", created)
        _set(self, "persistent_features", persistent_features)
        _set(self, "optional_features", optional_features)
        _set(self, "mon_info", {} if mon_info is None else mon_info)
        _set(self, "ranks", ranks)
        _set(self, "min_mon_release", min_mon_release)
        _set(self, "removed_ranks", removed_ranks)
        _set(self, "strategy", strategy)
        _set(self, "disallowed_leaders", disallowed_leaders)
        _set(self, "stretch_mode_enabled", stretch_mode_enabled)
        _set(self, "tiebreaker_mon", tiebreaker_mon)
        _set(self, "stretch_marked_down_mons", stretch_marked_down_mons)

    @classmethod
    def decode(cls, blob: Buffer) -> MonMap:
        """Decode a monmap blob (versions 6 to 9); raises DecodeError."""
        mv = as_view(blob)
        if len(mv) and mv[0] < MONMAP_MIN_DECODED_VERSION:
            raise DecodeError(f"monmap struct_v {mv[0]} (pre-Nautilus) is not supported")
        v, r = Reader(mv).pull_versioned(MONMAP_HEAD_VERSION, "MonMap")
        fsid = pull_uuid(r)
        epoch = r.pull_u32()
        last_changed = pull_utime(r)
        created = pull_utime(r)
        persistent = pull_mon_feature(r)
        optional = pull_mon_feature(r)
        # key + the smallest mon_info_t (struct header + empty name + marker)
        mon_info = r.pull_map(Reader.pull_string, pull_mon_info, STRING_MIN + 11)
        ranks = tuple(pull_string_list(r))
        min_release = r.pull_u8() if v >= 7 else infer_release_from_mon_features(persistent)
        removed: frozenset[int] = frozenset()
        strategy: int = ElectionStrategy.CLASSIC
        disallowed: frozenset[str] = frozenset()
        if v >= 8:
            removed = pull_s32_set(r)
            strategy = r.pull_u8()
            disallowed = pull_string_set(r)
        stretch, tiebreaker = False, ""
        marked_down: frozenset[str] = frozenset()
        if v >= 9:
            stretch = r.pull_bool()
            tiebreaker = r.pull_string()
            marked_down = pull_string_set(r)
        return cls(fsid=fsid, epoch=epoch, last_changed=last_changed, created=created,
                   persistent_features=persistent, optional_features=optional,
                   mon_info=mon_info, ranks=ranks, min_mon_release=min_release,
                   removed_ranks=removed, strategy=strategy, disallowed_leaders=disallowed,
                   stretch_mode_enabled=stretch, tiebreaker_mon=tiebreaker,
                   stretch_marked_down_mons=marked_down)

    def encode(self) -> bytes:
        """The version 9 encoding (what a Pacific mon sends a Nautilus+ peer)."""
        w = Writer()
        with w.versioned(MONMAP_HEAD_VERSION, MONMAP_COMPAT_VERSION):
            push_uuid(w, self.fsid)
            w.push_u32(self.epoch)
            push_utime(w, self.last_changed)
            push_utime(w, self.created)
            push_mon_feature(w, self.persistent_features)
            push_mon_feature(w, self.optional_features)
            push_sorted_map(w, self.mon_info, push_mon_info)
            push_string_list(w, self.ranks)
            w.push_u8(self.min_mon_release)
            push_s32_set(w, self.removed_ranks)
            w.push_u8(self.strategy)
            push_string_set(w, self.disallowed_leaders)
            w.push_bool(self.stretch_mode_enabled)
            w.push_string(self.tiebreaker_mon)
            push_string_set(w, self.stretch_marked_down_mons)
        return w.getvalue()

    def get_addrs(self, name: str) -> EntityAddrVec:
        """Public addresses of the named mon (empty if it has no entry)."""
        info = self.mon_info.get(name)
        return info.public_addrs if info is not None else EntityAddrVec()

    def rank_entries(self) -> list[tuple[int, str, EntityAddrVec]]:
        """``(rank, name, public_addrs)`` for every rank, in rank order."""
        return [(rank, name, self.get_addrs(name)) for rank, name in enumerate(self.ranks)]

    def rank_lines(self) -> list[str]:
        """The per-mon lines of ``monmaptool --print`` (``0: [v2:...,v1:...] mon.a``)."""
        lines = []
        for rank, name, addrs in self.rank_entries():
            line = f"{rank}: {addrs} mon.{name}"
            info = self.mon_info.get(name)
            if info is not None and info.crush_loc:
                loc = ",".join(f"{k}={v}" for k, v in sorted(info.crush_loc.items(),
                                                               key=lambda kv: string_key(kv[0])))
                line += f"; crush_location {{{loc}}}"
            lines.append(line)
        return lines


__all__ = [
    "MONMAP_COMPAT_VERSION",
    "MONMAP_HEAD_VERSION",
    "CephRelease",
    "ElectionStrategy",
    "MonFeature",
    "MonInfo",
    "MonMap",
    "infer_release_from_mon_features",
    "pull_mon_feature",
    "pull_mon_info",
    "push_mon_feature",
    "push_mon_info",
]
