"""The small structures and constants an OSDMap holds (``src/osd/OSDMap.h``, ``rados.h``).

* :class:`OsdInfo` ``osd_info_t`` (clean interval, up_from/up_thru, down_at, lost_at),
  :class:`OsdXInfo` ``osd_xinfo_t`` (down stamp, laggy statistics, features, ...);
* codecs for the containers keyed by ``pg_t`` (``pg_temp``, ``primary_temp``,
  ``pg_upmap``, ``pg_upmap_items``), by OSD id, by address (the blocklist), and
  for address vectors written for pre-Nautilus peers;
* OSD state bits (``CEPH_OSD_*``), weights and OSDMap flags (``CEPH_OSDMAP_*``);
* :func:`release_ge` / :func:`release_gt`: ``ceph_release_t`` comparisons, where
  0xFF (Ceph's old ``-1``, "no change" in an incremental) is below every release.

``std::map`` containers are encoded sorted by Ceph's key order: ``pg_t`` by
(pool, seed), integers numerically, ``entity_addr_t`` by ``memcmp`` of its
in-memory form (:func:`addr_sort_key`).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, TypeVar

from asyncmsgr.errors import DecodeError
from asyncmsgr.features import CEPH_FEATURE_MSG_ADDR2
from asyncmsgr.types import AF_INET, AF_INET6, AddrType, EntityAddr, EntityAddrVec, UTime
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import (
    pull_entity_addr,
    pull_entity_addrvec,
    pull_utime,
    push_entity_addr,
    push_entity_addrvec,
    push_utime,
)

from .types import PG, pull_pg, push_pg

V = TypeVar("V")

#: ``utime_t()``: the zero time (a shared immutable default).
ZERO_TIME: Final = UTime()

# -- OSD state, weights, affinity, map flags -------------------------------------------

CEPH_OSD_EXISTS: Final = 1 << 0
CEPH_OSD_UP: Final = 1 << 1
CEPH_OSD_AUTOOUT: Final = 1 << 2
CEPH_OSD_NEW: Final = 1 << 3
CEPH_OSD_FULL: Final = 1 << 4
CEPH_OSD_NEARFULL: Final = 1 << 5
CEPH_OSD_BACKFILLFULL: Final = 1 << 6
CEPH_OSD_DESTROYED: Final = 1 << 7
CEPH_OSD_NOUP: Final = 1 << 8
CEPH_OSD_NODOWN: Final = 1 << 9
CEPH_OSD_NOIN: Final = 1 << 10
CEPH_OSD_NOOUT: Final = 1 << 11
CEPH_OSD_STOP: Final = 1 << 12

#: ``ceph_osd_state_name`` in bit order.
OSD_STATE_NAMES: Final = (
    "exists", "up", "autoout", "new", "full", "nearfull", "backfillfull",
    "destroyed", "noup", "nodown", "noin", "noout", "stop",
)

#: Weight of an OSD that is in (16.16 fixed point 1.0); out is 0.
CEPH_OSD_IN: Final = 0x10000
CEPH_OSD_OUT: Final = 0
CEPH_OSD_MAX_PRIMARY_AFFINITY: Final = 0x10000
CEPH_OSD_DEFAULT_PRIMARY_AFFINITY: Final = 0x10000

CEPH_OSDMAP_NEARFULL: Final = 1 << 0
CEPH_OSDMAP_FULL: Final = 1 << 1
CEPH_OSDMAP_PAUSERD: Final = 1 << 2
CEPH_OSDMAP_PAUSEWR: Final = 1 << 3
CEPH_OSDMAP_PAUSEREC: Final = 1 << 4
CEPH_OSDMAP_NOUP: Final = 1 << 5
CEPH_OSDMAP_NODOWN: Final = 1 << 6
CEPH_OSDMAP_NOOUT: Final = 1 << 7
CEPH_OSDMAP_NOIN: Final = 1 << 8
CEPH_OSDMAP_NOBACKFILL: Final = 1 << 9
CEPH_OSDMAP_NORECOVER: Final = 1 << 10
CEPH_OSDMAP_NOSCRUB: Final = 1 << 11
CEPH_OSDMAP_NODEEP_SCRUB: Final = 1 << 12
CEPH_OSDMAP_NOTIERAGENT: Final = 1 << 13
CEPH_OSDMAP_NOREBALANCE: Final = 1 << 14
CEPH_OSDMAP_SORTBITWISE: Final = 1 << 15
CEPH_OSDMAP_REQUIRE_JEWEL: Final = 1 << 16
CEPH_OSDMAP_REQUIRE_KRAKEN: Final = 1 << 17
CEPH_OSDMAP_REQUIRE_LUMINOUS: Final = 1 << 18
CEPH_OSDMAP_RECOVERY_DELETES: Final = 1 << 19
CEPH_OSDMAP_PURGED_SNAPDIRS: Final = 1 << 20
CEPH_OSDMAP_NOSNAPTRIM: Final = 1 << 21
CEPH_OSDMAP_PGLOG_HARDLIMIT: Final = 1 << 22
CEPH_OSDMAP_LEGACY_REQUIRE_FLAGS: Final = (
    CEPH_OSDMAP_REQUIRE_JEWEL | CEPH_OSDMAP_REQUIRE_KRAKEN | CEPH_OSDMAP_REQUIRE_LUMINOUS
)

#: ``ceph_release_t`` values the OSDMap logic compares against.
CEPH_RELEASE_UNKNOWN: Final = 0
CEPH_RELEASE_JEWEL: Final = 10
CEPH_RELEASE_KRAKEN: Final = 11
CEPH_RELEASE_LUMINOUS: Final = 12
CEPH_RELEASE_MIMIC: Final = 13
CEPH_RELEASE_NAUTILUS: Final = 14
CEPH_RELEASE_OCTOPUS: Final = 15
CEPH_RELEASE_PACIFIC: Final = 16
#: ``ceph_release_t{0xff}``: an incremental's "no change".
CEPH_RELEASE_NONE: Final = 0xFF

RELEASE_NAMES: Final = (
    "unknown", "argonaut", "bobtail", "cuttlefish", "dumpling", "emperor", "firefly",
    "giant", "hammer", "infernalis", "jewel", "kraken", "luminous", "mimic", "nautilus",
    "octopus", "pacific", "quincy", "reef", "squid",
)


def _release_signed(r: int) -> int:
    return r - 256 if r >= 128 else r


def release_ge(a: int, b: int) -> bool:
    """``a >= b`` for ``ceph_release_t`` (a value >= 0x80 is below everything)."""
    return _release_signed(a) >= _release_signed(b)


def release_gt(a: int, b: int) -> bool:
    """``a > b`` for ``ceph_release_t``."""
    return _release_signed(a) > _release_signed(b)


# -- osd_info_t / osd_xinfo_t ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OsdInfo:
    """``osd_info_t``: epochs of an OSD's life (all ``epoch_t``)."""

    last_clean_begin: int = 0
    last_clean_end: int = 0
    up_from: int = 0
    up_thru: int = 0
    down_at: int = 0
    lost_at: int = 0


def pull_osd_info(r: Reader) -> OsdInfo:
    """``osd_info_t``: u8 struct_v (1), then six u32 epochs (no length header)."""
    r.pull_u8()
    return OsdInfo(r.pull_u32(), r.pull_u32(), r.pull_u32(), r.pull_u32(),
                   r.pull_u32(), r.pull_u32())


def push_osd_info(w: Writer, i: OsdInfo) -> None:
    """``osd_info_t`` (struct_v 1)."""
    w.push_u8(1)
    for v in (i.last_clean_begin, i.last_clean_end, i.up_from, i.up_thru,
              i.down_at, i.lost_at):
        w.push_u32(v)


#: Encoded size of :class:`OsdInfo`.
OSD_INFO_SIZE: Final = 25


@dataclass(frozen=True, slots=True)
class OsdXInfo:
    """``osd_xinfo_t``: extended per-OSD information.

    ``laggy_probability_raw`` is the encoded u32 (``probability * 0xffffffff``),
    kept exact so re-encoding gives the same bytes.
    """

    down_stamp: UTime = ZERO_TIME
    laggy_probability_raw: int = 0
    laggy_interval: int = 0
    features: int = 0
    old_weight: int = 0
    last_purged_snaps_scrub: UTime = ZERO_TIME
    dead_epoch: int = 0

    @property
    def laggy_probability(self) -> float:
        """The probability as Ceph computes it on decode."""
        return self.laggy_probability_raw / 0xFFFFFFFF


def pull_osd_xinfo(r: Reader) -> OsdXInfo:
    """``osd_xinfo_t`` (v4, compat 1)."""
    struct_v, b = r.pull_versioned(4, "osd_xinfo_t")
    down_stamp = pull_utime(b)
    lp = b.pull_u32()
    interval = b.pull_u32()
    features = b.pull_u64() if struct_v >= 2 else 0
    old_weight = b.pull_u32() if struct_v >= 3 else 0
    scrub, dead = UTime(), 0
    if struct_v >= 4:
        scrub = pull_utime(b)
        dead = b.pull_u32()
    return OsdXInfo(down_stamp, lp, interval, features, old_weight, scrub, dead)


def push_osd_xinfo(w: Writer, x: OsdXInfo, octopus: bool = True) -> None:
    """``osd_xinfo_t``: v4 for Octopus+ peers, v3 otherwise."""
    with w.versioned(4 if octopus else 3, 1):
        push_utime(w, x.down_stamp)
        w.push_u32(x.laggy_probability_raw)
        w.push_u32(x.laggy_interval)
        w.push_u64(x.features)
        w.push_u32(x.old_weight)
        if octopus:
            push_utime(w, x.last_purged_snaps_scrub)
            w.push_u32(x.dead_epoch)


# -- pg_t-keyed containers -----------------------------------------------------------------

#: Encoded size of a pg_t.
PG_SIZE: Final = 17


def pull_osd_list(r: Reader) -> tuple[int, ...]:
    """``vector<int32_t>``."""
    n = r.pull_count(4, "vector<int32_t>")
    return struct.unpack_from(f"<{n}i", r.pull_view(4 * n))


def push_osd_list(w: Writer, osds: tuple[int, ...] | list[int]) -> None:
    """``vector<int32_t>``."""
    w.push_u32(len(osds))
    w.push_bytes(struct.pack(f"<{len(osds)}i", *osds))


def pull_pg_map(r: Reader, value: Callable[[Reader], V], min_value: int) -> dict[PG, V]:
    """``map<pg_t, V>`` (the last duplicate wins, as ``m[k] = v`` does)."""
    n = r.pull_count(PG_SIZE + min_value, "map<pg_t,...>")
    out: dict[PG, V] = {}
    for _ in range(n):
        pg = pull_pg(r)
        out[pg] = value(r)
    return out


def push_pg_map(w: Writer, m: Mapping[PG, V], value: Callable[[Writer, V], None]) -> None:
    """``map<pg_t, V>``, sorted by (pool, seed)."""
    w.push_u32(len(m))
    for pg in sorted(m):
        push_pg(w, pg)
        value(w, m[pg])


def pull_pg_set(r: Reader) -> tuple[PG, ...]:
    """``set<pg_t>``."""
    n = r.pull_count(PG_SIZE, "set<pg_t>")
    return tuple(pull_pg(r) for _ in range(n))


def push_pg_set(w: Writer, s: tuple[PG, ...] | set[PG]) -> None:
    """``set<pg_t>``, sorted."""
    items = sorted(set(s))
    w.push_u32(len(items))
    for pg in items:
        push_pg(w, pg)


UpmapItems = tuple[tuple[int, int], ...]
"""``vector<pair<int32_t, int32_t>>``: (from, to) OSD replacements."""


def pull_upmap_items(r: Reader) -> UpmapItems:
    """``vector<pair<int32_t,int32_t>>``."""
    n = r.pull_count(8, "pg_upmap_items")
    flat = struct.unpack_from(f"<{2 * n}i", r.pull_view(8 * n))
    return tuple((flat[2 * i], flat[2 * i + 1]) for i in range(n))


def push_upmap_items(w: Writer, items: UpmapItems) -> None:
    """``vector<pair<int32_t,int32_t>>``."""
    w.push_u32(len(items))
    for a, b in items:
        w.push_s32(a)
        w.push_s32(b)


# -- integer-keyed containers ----------------------------------------------------------------


def pull_int_map(
    r: Reader, key: Callable[[Reader], int], value: Callable[[Reader], V],
    min_item: int, what: str,
) -> dict[int, V]:
    """``map<int, V>`` (last duplicate wins)."""
    n = r.pull_count(min_item, what)
    out: dict[int, V] = {}
    for _ in range(n):
        k = key(r)
        out[k] = value(r)
    return out


def push_int_map(
    w: Writer, m: Mapping[int, V], key: Callable[[Writer, int], None],
    value: Callable[[Writer, V], None],
) -> None:
    """``map<int, V>``, sorted numerically."""
    w.push_u32(len(m))
    for k in sorted(m):
        key(w, k)
        value(w, m[k])


def pull_u32_vector(r: Reader, what: str) -> list[int]:
    """``vector<uint32_t>``."""
    n = r.pull_count(4, what)
    return list(struct.unpack_from(f"<{n}I", r.pull_view(4 * n)))


def push_u32_vector(w: Writer, v: list[int]) -> None:
    """``vector<uint32_t>``."""
    w.push_u32(len(v))
    w.push_bytes(struct.pack(f"<{len(v)}I", *v))


# -- addresses ------------------------------------------------------------------------------

_ADDR_HDR = struct.Struct("<IIH")
_BE16 = struct.Struct(">H")
#: sizeof(entity_addr_t): type, nonce and the sockaddr union (sockaddr_in6).
_ADDR_MEM_SIZE = 36


def addr_sort_key(a: EntityAddr) -> bytes:
    """``entity_addr_t``'s ``operator<``: ``memcmp`` of type, nonce and the sockaddr."""
    head = _ADDR_HDR.pack(a.type & 0xFFFFFFFF, a.nonce & 0xFFFFFFFF, a.family & 0xFFFF)
    if a.family == AF_INET:
        key = head + _BE16.pack(a.port) + a.ip
    elif a.family == AF_INET6:
        key = (head + _BE16.pack(a.port) + a.flowinfo.to_bytes(4, "big") + a.ip
               + a.scope_id.to_bytes(4, "little"))
    else:
        key = head
    return key.ljust(_ADDR_MEM_SIZE, b"\0")


#: Smallest encoded entity_addr_t (marker + struct header + type + nonce + elen).
ADDR_MIN: Final = 19


def pull_addr_map(r: Reader, what: str) -> dict[EntityAddr, UTime]:
    """``map<entity_addr_t, utime_t>`` (blocklists)."""
    n = r.pull_count(ADDR_MIN + 8, what)
    out: dict[EntityAddr, UTime] = {}
    for _ in range(n):
        a = pull_entity_addr(r)
        out[a] = pull_utime(r)
    return out


def push_addr_map(w: Writer, m: Mapping[EntityAddr, UTime], features: int) -> None:
    """``map<entity_addr_t, utime_t>``, in ``entity_addr_t`` order."""
    w.push_u32(len(m))
    for a in sorted(m, key=addr_sort_key):
        push_entity_addr(w, a, features)
        push_utime(w, m[a])


def pull_addr_list(r: Reader, what: str) -> tuple[EntityAddr, ...]:
    """``vector<entity_addr_t>``."""
    n = r.pull_count(ADDR_MIN, what)
    return tuple(pull_entity_addr(r) for _ in range(n))


def push_addr_list(w: Writer, addrs: tuple[EntityAddr, ...], features: int) -> None:
    """``vector<entity_addr_t>`` in the given order."""
    w.push_u32(len(addrs))
    for a in addrs:
        push_entity_addr(w, a, features)


#: Smallest encoded entity_addrvec_t (legacy/new single address or marker 2 + count).
ADDRVEC_MIN: Final = 5


def pull_addrvec_vector(r: Reader, what: str) -> list[EntityAddrVec]:
    """``vector<shared_ptr<entity_addrvec_t>>``."""
    n = r.pull_count(ADDRVEC_MIN, what)
    return [pull_entity_addrvec(r) for _ in range(n)]


def legacy_addr(av: EntityAddrVec) -> EntityAddr:
    """``entity_addrvec_t::legacy_addr``: the first v1 address, else a blank one."""
    for a in av.addrs:
        if a.type == AddrType.LEGACY:
            return a
    return EntityAddr()


def push_addrvec_vector(
    w: Writer, v: list[EntityAddrVec], features: int, as_addr: bool = False
) -> None:
    """``vector<entity_addrvec_t>``; ``as_addr`` writes each as its legacy address
    (``encode_addrvec_pvec_as_addr``, for pre-Nautilus encodings)."""
    w.push_u32(len(v))
    for av in v:
        if as_addr:
            push_entity_addr(w, legacy_addr(av), features)
        else:
            push_entity_addrvec(w, av, features)


def pull_addrvec_map(r: Reader, what: str) -> dict[int, EntityAddrVec]:
    """``map<int32_t, entity_addrvec_t>``."""
    return pull_int_map(r, Reader.pull_s32, pull_entity_addrvec, 4 + ADDRVEC_MIN, what)


def push_addrvec_map(
    w: Writer, m: Mapping[int, EntityAddrVec], features: int, as_addr: bool = False
) -> None:
    """``map<int32_t, entity_addrvec_t>`` (or of legacy addresses)."""
    w.push_u32(len(m))
    for k in sorted(m):
        w.push_s32(k)
        if as_addr:
            push_entity_addr(w, legacy_addr(m[k]), features)
        else:
            push_entity_addrvec(w, m[k], features)


def has_addr2(features: int) -> bool:
    """The peer decodes new-form addresses."""
    return bool(features & CEPH_FEATURE_MSG_ADDR2)


def pull_float(r: Reader) -> float:
    """A C ``float`` (4 bytes)."""
    return struct.unpack("<f", r.pull_bytes(4))[0]  # type: ignore[no-any-return]


def push_float(w: Writer, v: float) -> None:
    """A C ``float``."""
    w.push_bytes(struct.pack("<f", v))


def check_osd_id(osd: int, max_osd: int, what: str) -> None:
    """Raise DecodeError when an incremental names an OSD outside ``[0, max_osd)``."""
    if not 0 <= osd < max_osd:
        raise DecodeError(f"{what}: osd.{osd} outside max_osd {max_osd}")


__all__ = [
    "ADDRVEC_MIN",
    "ADDR_MIN",
    "CEPH_OSDMAP_FULL",
    "CEPH_OSDMAP_NEARFULL",
    "CEPH_OSDMAP_PAUSERD",
    "CEPH_OSDMAP_PAUSEWR",
    "CEPH_OSD_DEFAULT_PRIMARY_AFFINITY",
    "CEPH_OSD_EXISTS",
    "CEPH_OSD_IN",
    "CEPH_OSD_MAX_PRIMARY_AFFINITY",
    "CEPH_OSD_OUT",
    "CEPH_OSD_UP",
    "OSD_INFO_SIZE",
    "OSD_STATE_NAMES",
    "PG_SIZE",
    "RELEASE_NAMES",
    "ZERO_TIME",
    "OsdInfo",
    "OsdXInfo",
    "UpmapItems",
    "addr_sort_key",
    "legacy_addr",
    "pull_addr_list",
    "pull_addr_map",
    "pull_addrvec_map",
    "pull_addrvec_vector",
    "pull_float",
    "pull_int_map",
    "pull_osd_info",
    "pull_osd_list",
    "pull_osd_xinfo",
    "pull_pg_map",
    "pull_pg_set",
    "pull_u32_vector",
    "pull_upmap_items",
    "push_addr_list",
    "push_addr_map",
    "push_addrvec_map",
    "push_addrvec_vector",
    "push_float",
    "push_int_map",
    "push_osd_info",
    "push_osd_list",
    "push_osd_xinfo",
    "push_pg_map",
    "push_pg_set",
    "push_u32_vector",
    "push_upmap_items",
    "release_ge",
    "release_gt",
]
