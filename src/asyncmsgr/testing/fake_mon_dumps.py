"""What the fake monitor prints: Ceph's JSON dumps and plain-text forms of its maps.

Each ``*_json`` function returns the object a Pacific mon dumps for the
command (same keys, same nesting: ``OSDMap::dump``, ``pg_pool_t::dump``,
``MonMap::dump``, ``CrushTreeDumper``, ``Monitor::get_cluster_status``), and
each ``*_text`` function the command's plain output. They read a
:class:`ClusterView` (the maps and usage figures) and never change anything.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from asyncmsgr.messages.monmap import MonMap
from asyncmsgr.osd.mapcommon import (
    CEPH_OSD_EXISTS,
    CEPH_OSD_IN,
    CEPH_OSD_UP,
    OSD_STATE_NAMES,
    RELEASE_NAMES,
)
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.pool import (
    CACHE_MODE_NAMES,
    FLAG_SELFMANAGED_SNAPS,
    POOL_FLAG_NAMES,
    PgPool,
)
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec, UTime

#: ``ceph version`` output of the fake (Pacific 16.2.15, a zero commit id).
FAKE_GIT_SHA: Final = "0" * 40
FAKE_CEPH_VERSION: Final = f"ceph version 16.2.15 ({FAKE_GIT_SHA}) pacific (stable)"
#: ``ceph::features::mon`` names, bit order (``MonMap::dump`` "persistent").
MON_FEATURE_NAMES: Final = ("kraken", "luminous", "mimic", "osdmap-prune", "nautilus",
                            "octopus", "pacific", "elector-pinging")
#: The osdmap flags ``OSDMap::get_flag_string`` names, bit order.
OSDMAP_FLAG_NAMES: Final = (
    "nearfull", "full", "pauserd", "pausewr", "pauserec", "noup", "nodown", "noout",
    "noin", "nobackfill", "norecover", "noscrub", "nodeep-scrub", "notieragent",
    "norebalance", "sortbitwise", "require_jewel_osds", "require_kraken_osds",
    "require_luminous_osds", "recovery_deletes", "purged_snapdirs", "nosnaptrim",
    "pglog_hardlimit",
)
_HASH_NAMES: Final = {1: "linux", 2: "rjenkins"}


@dataclass(frozen=True, slots=True)
class ClusterView:
    """What the dumps read: the maps and the usage the store reports."""

    fsid: uuid.UUID
    monmap: MonMap
    osdmap: OSDMap
    quorum_since: float
    """When the mons formed quorum (seconds since the epoch)."""
    now: float
    osd_size: int
    """Bytes of one fake OSD."""
    pool_usage: Mapping[int, tuple[int, int]]
    """Pool id -> (objects, bytes stored)."""


# -- small formats -------------------------------------------------------------------------


def utime_str(t: UTime | float) -> str:
    """``utime_t::localtime`` as the JSON dumps print it: ``2026-12-05T17:22:44.003090+0000``."""
    sec = t.sec if isinstance(t, UTime) else int(t)
    usec = t.nsec // 1000 if isinstance(t, UTime) else int((t - int(t)) * 1e6)
    d = datetime.datetime.fromtimestamp(sec, datetime.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + f".{usec:06d}+0000"


def utime_z(t: UTime) -> str:
    """The monmap's form: ``2026-12-05T17:22:43.839884Z``."""
    return utime_str(t)[:-5] + "Z"


def addr_json(a: EntityAddr) -> dict[str, Any]:
    """``entity_addr_t::dump``."""
    kinds: dict[int, str] = {AddrType.MSGR2: "v2", AddrType.LEGACY: "v1", AddrType.ANY: "any"}
    kind = kinds.get(a.type, "none")
    return {"type": kind, "addr": a.sockaddr_str(), "nonce": a.nonce}


def addrvec_json(av: EntityAddrVec) -> dict[str, Any]:
    """``entity_addrvec_t::dump``."""
    return {"addrvec": [addr_json(a) for a in av.addrs]}


def legacy_str(av: EntityAddrVec) -> str:
    """``get_legacy_str``: the v1 address as ``IP:PORT/NONCE`` (or ``-``)."""
    a = av.legacy_addr
    return f"{a.sockaddr_str()}/{a.nonce}" if a is not None else "-"


def byte_u(n: float) -> str:
    """Ceph's ``byte_u_t`` (``0 B``, ``12 KiB``, ``3.0 GiB``)."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    idx = 0
    v = float(n)
    while v >= 1024 and idx < len(units) - 1:
        v /= 1024
        idx += 1
    if idx == 0 or v == int(v):
        return f"{int(v)} {units[idx]}"
    return f"{v:.1f} {units[idx]}"


def span_str(seconds: float) -> str:
    """``utimespan_str``: ``15s``, ``7m``, ``2h``, ``3d``."""
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def fmt_float(v: float) -> str:
    """A float as Ceph's plain output prints weights (``1``, ``0.95``)."""
    return f"{v:.6g}"


# -- monmap --------------------------------------------------------------------------------


def monmap_json(m: MonMap) -> dict[str, Any]:
    """``MonMap::dump``."""
    persistent = [n for i, n in enumerate(MON_FEATURE_NAMES) if m.persistent_features >> i & 1]
    mons = []
    for rank, name in enumerate(m.ranks):
        info = m.mon_info[name]
        mons.append({"rank": rank, "name": name, "public_addrs": addrvec_json(info.public_addrs),
                     "addr": legacy_str(info.public_addrs),
                     "public_addr": legacy_str(info.public_addrs),
                     "priority": info.priority, "weight": info.weight,
                     "crush_location": "{}"})
    return {
        "epoch": m.epoch, "fsid": str(m.fsid), "modified": utime_z(m.last_changed),
        "created": utime_z(m.created), "min_mon_release": m.min_mon_release,
        "min_mon_release_name": RELEASE_NAMES[m.min_mon_release],
        "election_strategy": m.strategy, "disallowed_leaders: ": "", "stretch_mode": False,
        "tiebreaker_mon": "", "removed_ranks: ": "",
        "features": {"persistent": persistent, "optional": []},
        "mons": mons,
    }


def monmap_text(m: MonMap) -> str:
    """``MonMap::print``."""
    lines = [f"epoch {m.epoch}", f"fsid {m.fsid}",
             f"last_changed {utime_str(m.last_changed)}", f"created {utime_str(m.created)}",
             f"min_mon_release {m.min_mon_release} ({RELEASE_NAMES[m.min_mon_release]})",
             f"election_strategy: {m.strategy}"]
    for rank, name in enumerate(m.ranks):
        lines.append(f"{rank}: {m.mon_info[name].public_addrs} mon.{name}")
    return "\n".join(lines) + "\n"


def mon_stat_text(m: MonMap) -> str:
    """``MonmapMonitor`` "mon stat"."""
    mons = ",".join(f"{n}={m.mon_info[n].public_addrs}" for n in m.ranks)
    quorum = ",".join(m.ranks)
    ranks = ",".join(str(i) for i in range(len(m.ranks)))
    return (f"e{m.epoch}: {len(m.ranks)} mons at {{{mons}}} removed_ranks: {{}}, election "
            f"epoch 3, leader 0 {m.ranks[0]}, quorum {ranks} {quorum}\n")


# -- pools ---------------------------------------------------------------------------------


def pool_flags_names(flags: int) -> str:
    """``pg_pool_t::get_flags_string``."""
    return ",".join(n for i, n in enumerate(POOL_FLAG_NAMES) if flags >> i & 1)


def pool_json(pool_id: int, name: str, p: PgPool, id_key: str = "pool") -> dict[str, Any]:
    """``pg_pool_t::dump`` with the pool's id (under ``id_key``: ``pool`` in ``osd
    dump``, ``pool_id`` in ``osd pool ls detail``) and name."""
    autoscale = {0: "off", 1: "warn", 2: "on"}.get(p.pg_autoscale_mode, "unknown")
    return {
        id_key: pool_id, "pool_name": name, "create_time": utime_str(p.create_time),
        "flags": p.flags, "flags_names": pool_flags_names(p.flags), "type": p.type,
        "size": p.size, "min_size": p.min_size, "crush_rule": p.crush_rule,
        "peering_crush_bucket_count": 0, "peering_crush_bucket_target": 0,
        "peering_crush_bucket_barrier": 0,
        "peering_crush_bucket_mandatory_member": 2147483647,
        "object_hash": p.object_hash, "pg_autoscale_mode": autoscale,
        "pg_num": p.pg_num, "pg_placement_num": p.pgp_num,
        "pg_placement_num_target": p.pgp_num_target, "pg_num_target": p.pg_num_target,
        "pg_num_pending": p.pg_num_pending,
        "last_pg_merge_meta": {"source_pgid": "0.0", "ready_epoch": 0,
                               "last_epoch_started": 0, "last_epoch_clean": 0,
                               "source_version": "0'0", "target_version": "0'0"},
        "last_change": str(p.last_change), "last_force_op_resend": str(p.last_force_op_resend),
        "last_force_op_resend_prenautilus": str(p.last_force_op_resend_prenautilus),
        "last_force_op_resend_preluminous": str(p.last_force_op_resend_preluminous),
        "auid": p.auid,
        "snap_mode": "selfmanaged" if not p.snaps or p.flags & FLAG_SELFMANAGED_SNAPS
        else "pool",
        "snap_seq": p.snap_seq, "snap_epoch": p.snap_epoch, "pool_snaps": [],
        "removed_snaps": "[]", "quota_max_bytes": p.quota_max_bytes,
        "quota_max_objects": p.quota_max_objects, "tiers": list(p.tiers),
        "tier_of": p.tier_of, "read_tier": p.read_tier, "write_tier": p.write_tier,
        "cache_mode": CACHE_MODE_NAMES[p.cache_mode]
        if p.cache_mode < len(CACHE_MODE_NAMES) else "unknown",
        "target_max_bytes": p.target_max_bytes, "target_max_objects": p.target_max_objects,
        "cache_target_dirty_ratio_micro": p.cache_target_dirty_ratio_micro,
        "cache_target_dirty_high_ratio_micro": p.cache_target_dirty_high_ratio_micro,
        "cache_target_full_ratio_micro": p.cache_target_full_ratio_micro,
        "cache_min_flush_age": p.cache_min_flush_age,
        "cache_min_evict_age": p.cache_min_evict_age,
        "erasure_code_profile": p.erasure_code_profile, "hit_set_params": {"type": "none"},
        "hit_set_period": p.hit_set_period, "hit_set_count": p.hit_set_count,
        "use_gmt_hitset": p.use_gmt_hitset,
        "min_read_recency_for_promote": p.min_read_recency_for_promote,
        "min_write_recency_for_promote": p.min_write_recency_for_promote,
        "hit_set_grade_decay_rate": p.hit_set_grade_decay_rate,
        "hit_set_search_last_n": p.hit_set_search_last_n, "grade_table": [],
        "stripe_width": p.stripe_width, "expected_num_objects": p.expected_num_objects,
        "fast_read": p.fast_read, "options": {},
        "application_metadata": {k: dict(v) for k, v in p.application_metadata.items()},
    }


def pool_text(pool_id: int, name: str, p: PgPool) -> str:
    """``pg_pool_t``'s ``operator<<`` as ``ceph osd dump`` prints a pool line."""
    autoscale = {0: "off", 1: "warn", 2: "on"}.get(p.pg_autoscale_mode, "unknown")
    text = (f"pool {pool_id} '{name}' {p.type_name} size {p.size} min_size {p.min_size} "
            f"crush_rule {p.crush_rule} object_hash {_HASH_NAMES.get(p.object_hash, '?')} "
            f"pg_num {p.pg_num} pgp_num {p.pgp_num} autoscale_mode {autoscale} "
            f"last_change {p.last_change}")
    if p.flags:
        text += f" flags {pool_flags_names(p.flags)}"
    if p.quota_max_bytes:
        text += f" max_bytes {p.quota_max_bytes}"
    if p.quota_max_objects:
        text += f" max_objects {p.quota_max_objects}"
    text += f" stripe_width {p.stripe_width}"
    if p.application_metadata:
        text += f" application {','.join(sorted(p.application_metadata))}"
    return text


# -- osdmap --------------------------------------------------------------------------------


def osdmap_flags(m: OSDMap) -> list[str]:
    """The map's flag names in bit order."""
    return [n for i, n in enumerate(OSDMAP_FLAG_NAMES) if m.flags >> i & 1]


def osd_state_names(state: int) -> list[str]:
    """``ceph_osd_state_name`` of each set bit."""
    return [n for i, n in enumerate(OSD_STATE_NAMES) if state >> i & 1]


def osd_dump_json(m: OSDMap) -> dict[str, Any]:
    """``OSDMap::dump``."""
    osds = []
    xinfo = []
    for o in range(m.max_osd):
        if not m.exists(o):
            continue
        info = m.osd_info[o]
        osds.append({
            "osd": o, "uuid": str(m.osd_uuid[o]), "up": int(m.is_up(o)), "in": int(m.is_in(o)),
            "weight": m.get_weightf(o), "primary_affinity": m.get_primary_affinity(o) / 0x10000,
            "last_clean_begin": info.last_clean_begin, "last_clean_end": info.last_clean_end,
            "up_from": info.up_from, "up_thru": info.up_thru, "down_at": info.down_at,
            "lost_at": info.lost_at,
            "public_addrs": addrvec_json(m.client_addrs[o]),
            "cluster_addrs": addrvec_json(m.cluster_addrs[o]),
            "heartbeat_back_addrs": addrvec_json(m.hb_back_addrs[o]),
            "heartbeat_front_addrs": addrvec_json(m.hb_front_addrs[o]),
            "public_addr": legacy_str(m.client_addrs[o]),
            "cluster_addr": legacy_str(m.cluster_addrs[o]),
            "heartbeat_back_addr": legacy_str(m.hb_back_addrs[o]),
            "heartbeat_front_addr": legacy_str(m.hb_front_addrs[o]),
            "state": osd_state_names(m.osd_state[o])})
        x = m.osd_xinfo[o]
        xinfo.append({"osd": o, "down_stamp": f"{x.down_stamp.sec}.{x.down_stamp.nsec // 1000:06d}",
                      "laggy_probability": x.laggy_probability,
                      "laggy_interval": x.laggy_interval, "features": x.features,
                      "old_weight": x.old_weight,
                      "last_purged_snaps_scrub": utime_str(x.last_purged_snaps_scrub),
                      "dead_epoch": x.dead_epoch})
    flags = osdmap_flags(m)
    return {
        "epoch": m.epoch, "fsid": str(m.fsid), "created": utime_str(m.created),
        "modified": utime_str(m.modified), "last_up_change": utime_str(m.last_up_change),
        "last_in_change": utime_str(m.last_in_change), "flags": ",".join(flags),
        "flags_num": m.flags, "flags_set": sorted(flags), "crush_version": m.crush_version,
        "full_ratio": m.full_ratio, "backfillfull_ratio": m.backfillfull_ratio,
        "nearfull_ratio": m.nearfull_ratio, "cluster_snapshot": m.cluster_snapshot,
        "pool_max": m.pool_max, "max_osd": m.max_osd,
        "require_min_compat_client": RELEASE_NAMES[m.require_min_compat_client],
        "min_compat_client": "jewel",
        "require_osd_release": RELEASE_NAMES[m.require_osd_release],
        "pools": [pool_json(pid, m.pool_name.get(pid, ""), m.pools[pid])
                  for pid in sorted(m.pools)],
        "osds": osds, "osd_xinfo": xinfo, "pg_upmap": [], "pg_upmap_items": [],
        "pg_temp": [], "primary_temp": [], "blocklist": {}, "range_blocklist": {},
        "erasure_code_profiles": {k: dict(v) for k, v in m.erasure_code_profiles.items()},
        "removed_snaps_queue": [], "new_removed_snaps": [], "new_purged_snaps": [],
        "crush_node_flags": {}, "device_class_flags": {},
        "stretch_mode": {"stretch_mode_enabled": False, "stretch_bucket_count": 0,
                         "degraded_stretch_mode": 0, "recovering_stretch_mode": 0,
                         "stretch_mode_bucket": 0},
    }


def osd_dump_text(m: OSDMap) -> str:
    """``OSDMap::print``."""
    lines = [f"epoch {m.epoch}", f"fsid {m.fsid}", f"created {utime_str(m.created)}",
             f"modified {utime_str(m.modified)}", f"flags {','.join(osdmap_flags(m))}",
             f"crush_version {m.crush_version}", f"full_ratio {fmt_float(m.full_ratio)}",
             f"backfillfull_ratio {fmt_float(m.backfillfull_ratio)}",
             f"nearfull_ratio {fmt_float(m.nearfull_ratio)}",
             f"require_min_compat_client {RELEASE_NAMES[m.require_min_compat_client]}",
             "min_compat_client jewel",
             f"require_osd_release {RELEASE_NAMES[m.require_osd_release]}",
             "stretch_mode_enabled false", ""]
    for pid in sorted(m.pools):
        lines.append(pool_text(pid, m.pool_name.get(pid, ""), m.pools[pid]))
    lines += ["", f"max_osd {m.max_osd}"]
    for o in range(m.max_osd):
        if not m.exists(o):
            continue
        i = m.osd_info[o]
        lines.append(
            f"osd.{o} {'up  ' if m.is_up(o) else 'down'} {'in ' if m.is_in(o) else 'out'} "
            f"weight {fmt_float(m.get_weightf(o))} up_from {i.up_from} up_thru {i.up_thru} "
            f"down_at {i.down_at} last_clean_interval [{i.last_clean_begin},"
            f"{i.last_clean_end}) {m.client_addrs[o]} {m.cluster_addrs[o]} "
            f"{','.join(osd_state_names(m.osd_state[o]))} {m.osd_uuid[o]}")
    return "\n".join(lines) + "\n"


def osd_tree_json(m: OSDMap) -> dict[str, Any]:
    """``OSDTreeFormattingDumper`` (``ceph osd tree -f json``)."""
    crush = m.crush
    nodes: list[dict[str, Any]] = []

    def walk(item: int, depth: int) -> None:
        if item >= 0:
            exists = m.exists(item)
            node: dict[str, Any] = {"id": item}
            cls = crush.get_item_class(item)
            if cls is not None:
                node["device_class"] = cls
            node.update({"name": crush.get_item_name(item) or f"osd.{item}", "type": "osd",
                         "type_id": 0, "crush_weight": _item_crush_weight(m, item),
                         "depth": depth, "pool_weights": {}, "exists": int(exists),
                         "status": "up" if m.is_up(item) else "down",
                         "reweight": m.get_weightf(item) if exists else 0,
                         "primary_affinity": m.get_primary_affinity(item) / 0x10000})
            nodes.append(node)
            return
        b = crush.get_bucket(item)
        if b is None:
            return
        node = {"id": item, "name": crush.get_item_name(item) or str(item),
                "type": crush.get_type_name(b.type) or str(b.type), "type_id": b.type}
        if depth:
            node["pool_weights"] = {}
        node["children"] = sorted(b.items, reverse=True)
        nodes.append(node)
        for child in sorted(b.items, key=lambda i: (i >= 0, i if i >= 0 else -i)):
            walk(child, depth + 1)

    for root in crush.find_nonshadow_roots():
        walk(root, 0)
    return {"nodes": nodes, "stray": []}


def _item_crush_weight(m: OSDMap, osd: int) -> float:
    for b in m.crush.iter_buckets():
        if osd in b.items:
            return b.item_weight(b.items.index(osd)) / 0x10000
    return 0.0


def osd_tree_text(m: OSDMap) -> str:
    """``ceph osd tree``'s table."""
    rows = [("ID", "CLASS", "WEIGHT", "TYPE NAME", "STATUS", "REWEIGHT", "PRI-AFF")]
    for n in osd_tree_json(m)["nodes"]:
        indent = "    " * _depth_of(n, m)
        if n["id"] >= 0:
            weight = f"{n['crush_weight']:.5f}"
            rows.append((str(n["id"]), n.get("device_class", ""), weight,
                         f"{indent}{n['name']}", n["status"], f"{n['reweight']:.5f}",
                         f"{n['primary_affinity']:.5f}"))
        else:
            b = m.crush.get_bucket(n["id"])
            w = (b.weight if b is not None else 0) / 0x10000
            rows.append((str(n["id"]), "", f"{w:.5f}", f"{indent}{n['type']} {n['name']}",
                         "", "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(7)]
    right = (True, True, True, False, True, True, True)
    out = []
    for n, r in enumerate(rows):
        cells = [c.rjust(w) if ra and n else c.ljust(w)
                 for c, w, ra in zip(r, widths, right, strict=True)]
        out.append("  ".join(cells))
    return "\n".join(out) + "\n"


def _depth_of(node: Mapping[str, Any], m: OSDMap) -> int:
    if "depth" in node:
        return int(node["depth"])
    depth = 0
    item = int(node["id"])
    while (parent := m.crush.get_immediate_parent_id(item)) is not None:
        depth += 1
        item = parent
    return depth


def osd_stat_json(m: OSDMap) -> dict[str, Any]:
    """``OSDMap::print_summary`` (JSON)."""
    up_since = m.last_up_change.sec
    in_since = m.last_in_change.sec
    return {"epoch": m.epoch, "num_osds": m.get_num_osds(), "num_up_osds": m.get_num_up_osds(),
            "osd_up_since": up_since, "num_in_osds": m.get_num_in_osds(),
            "osd_in_since": in_since, "num_remapped_pgs": 0}


def osd_stat_text(m: OSDMap, now: float) -> str:
    """``ceph osd stat``."""
    return (f"{m.get_num_osds()} osds: {m.get_num_up_osds()} up (since "
            f"{span_str(now - float(m.last_up_change))}), {m.get_num_in_osds()} in (since "
            f"{span_str(now - float(m.last_in_change))}); epoch: e{m.epoch}\n")


# -- status / health / df ----------------------------------------------------------------


def health_json(checks: Mapping[str, tuple[str, str, Sequence[str]]], detail: bool
                ) -> dict[str, Any]:
    """``HealthMonitor``'s dump: checks are code -> (severity, summary, detail lines)."""
    status = "HEALTH_OK"
    out: dict[str, Any] = {}
    for code, (sev, summary, lines) in checks.items():
        if sev == "HEALTH_ERR" or status == "HEALTH_OK":
            status = sev
        item: dict[str, Any] = {"severity": sev,
                                "summary": {"message": summary, "count": len(lines)},
                                "muted": False}
        if detail:
            item["detail"] = [{"message": line} for line in lines]
        out[code] = item
    return {"status": status, "checks": out, "mutes": []}


def health_text(h: Mapping[str, Any], detail: bool) -> str:
    """``ceph health [detail]``."""
    checks = h["checks"]
    if not checks:
        return f"{h['status']}\n"
    summaries = "; ".join(c["summary"]["message"] for c in checks.values())
    lines = [f"{h['status']} {summaries}"]
    if detail:
        for code, c in checks.items():
            sev = {"HEALTH_WARN": "WRN", "HEALTH_ERR": "ERR"}.get(c["severity"], "INF")
            lines.append(f"[{sev}] {code}: {c['summary']['message']}")
            lines.extend(f"    {d['message']}" for d in c.get("detail", []))
    return "\n".join(lines) + "\n"


def pg_counts(m: OSDMap) -> tuple[int, int]:
    """``(pools, pgs)`` of the map."""
    return len(m.pools), sum(p.pg_num for p in m.pools.values())


def usage(v: ClusterView) -> tuple[int, int, int, int]:
    """``(objects, bytes stored, bytes used raw, bytes total)``."""
    m = v.osdmap
    objects = stored = raw = 0
    for pid, (n, size) in v.pool_usage.items():
        pool = m.pools.get(pid)
        objects += n
        stored += size
        raw += size * (pool.size if pool is not None else 1)
    total = v.osd_size * m.get_num_in_osds()
    return objects, stored, raw, total


def status_json(v: ClusterView, health: Mapping[str, Any]) -> dict[str, Any]:
    """``Monitor::get_cluster_status`` (``ceph status -f json``)."""
    m = v.osdmap
    pools, pgs = pg_counts(m)
    objects, stored, raw, total = usage(v)
    names = list(v.monmap.ranks)
    return {
        "fsid": str(v.fsid), "health": dict(health), "election_epoch": 3,
        "quorum": list(range(len(names))), "quorum_names": names,
        "quorum_age": int(v.now - v.quorum_since),
        "monmap": {"epoch": v.monmap.epoch, "min_mon_release_name": "pacific",
                   "num_mons": len(names)},
        "osdmap": osd_stat_json(m),
        "pgmap": {"pgs_by_state": [{"state_name": "active+clean", "count": pgs}] if pgs else [],
                  "num_pgs": pgs, "num_pools": pools, "num_objects": objects,
                  "data_bytes": stored, "bytes_used": raw, "bytes_avail": total - raw,
                  "bytes_total": total},
        "fsmap": {"epoch": 1, "by_rank": [], "up:standby": 0},
        "mgrmap": {"available": False, "num_standbys": 0, "modules": [], "services": {}},
        "servicemap": {"epoch": 1, "modified": utime_str(v.quorum_since), "services": {}},
        "progress_events": {},
    }


def status_text(v: ClusterView, health: Mapping[str, Any]) -> str:
    """``ceph -s``."""
    m = v.osdmap
    pools, pgs = pg_counts(m)
    objects, stored, raw, total = usage(v)
    names = list(v.monmap.ranks)
    lines = ["  cluster:", f"    id:     {v.fsid}", f"    health: {health['status']}"]
    for c in health["checks"].values():
        lines.append(f"            {c['summary']['message']}")
    lines += [" ", "  services:",
              f"    mon: {len(names)} daemons, quorum {','.join(names)} "
              f"(age {span_str(v.now - v.quorum_since)})",
              "    mgr: no daemons active",
              f"    osd: {m.get_num_osds()} osds: {m.get_num_up_osds()} up (since "
              f"{span_str(v.now - float(m.last_up_change))}), {m.get_num_in_osds()} in "
              f"(since {span_str(v.now - float(m.last_in_change))})",
              " ", "  data:",
              f"    pools:   {pools} pools, {pgs} pgs",
              f"    objects: {objects} objects, {byte_u(stored)}",
              f"    usage:   {byte_u(raw)} used, {byte_u(total - raw)} / {byte_u(total)} avail",
              f"    pgs:     {f'{pgs} active+clean' if pgs else ''}", " ", ""]
    return "\n".join(lines)


def df_json(v: ClusterView) -> dict[str, Any]:
    """``ceph df -f json`` (``PGMapDigest::dump_cluster_stats`` and pool stats)."""
    m = v.osdmap
    _objects, _stored, raw, total = usage(v)
    n = m.get_num_in_osds()
    pools = []
    for pid in sorted(m.pools):
        count, size = v.pool_usage.get(pid, (0, 0))
        p = m.pools[pid]
        used = size * p.size
        avail = (total - raw) // max(p.size, 1)
        pools.append({"name": m.pool_name.get(pid, ""), "id": pid, "stats": {
            "stored": size, "objects": count, "kb_used": (used + 1023) // 1024,
            "bytes_used": used, "percent_used": used / total if total else 0.0,
            "max_avail": avail}})
    return {"stats": {"total_bytes": total, "total_avail_bytes": total - raw,
                      "total_used_bytes": raw, "total_used_raw_bytes": raw,
                      "total_used_raw_ratio": raw / total if total else 0.0,
                      "num_osds": n, "num_per_pool_osds": n, "num_per_pool_omap_osds": n},
            "stats_by_class": {"hdd": {"total_bytes": total, "total_avail_bytes": total - raw,
                                       "total_used_bytes": raw, "total_used_raw_bytes": raw,
                                       "total_used_raw_ratio": raw / total if total else 0.0}},
            "pools": pools}


def df_text(v: ClusterView) -> str:
    """``ceph df``."""
    d = df_json(v)
    s = d["stats"]
    pct = f"{100 * s['total_used_raw_ratio']:.2f}"
    raw = [("CLASS", "SIZE", "AVAIL", "USED", "RAW USED", "%RAW USED"),
           ("hdd", byte_u(s["total_bytes"]), byte_u(s["total_avail_bytes"]),
            byte_u(s["total_used_bytes"]), byte_u(s["total_used_raw_bytes"]), pct),
           ("TOTAL", byte_u(s["total_bytes"]), byte_u(s["total_avail_bytes"]),
            byte_u(s["total_used_bytes"]), byte_u(s["total_used_raw_bytes"]), pct)]
    pools = [("POOL", "ID", "PGS", "STORED", "OBJECTS", "USED", "%USED", "MAX AVAIL")]
    for p in d["pools"]:
        st = p["stats"]
        pools.append((p["name"], str(p["id"]), str(v.osdmap.pools[p["id"]].pg_num),
                      byte_u(st["stored"]), str(st["objects"]), byte_u(st["bytes_used"]),
                      f"{100 * st['percent_used']:.2f}", byte_u(st["max_avail"])))
    return ("--- RAW STORAGE ---\n" + _table(raw) + " \n--- POOLS ---\n" + _table(pools))


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:],
                                                                       strict=True)]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out) + "\n"


def is_up_in(m: OSDMap, osd: int) -> bool:
    """Exists, up and in."""
    return bool(m.osd_state[osd] & CEPH_OSD_EXISTS and m.osd_state[osd] & CEPH_OSD_UP
                and m.osd_weight[osd] == CEPH_OSD_IN)


__all__ = [
    "FAKE_CEPH_VERSION",
    "FAKE_GIT_SHA",
    "MON_FEATURE_NAMES",
    "ClusterView",
    "addrvec_json",
    "byte_u",
    "df_json",
    "df_text",
    "health_json",
    "health_text",
    "is_up_in",
    "mon_stat_text",
    "monmap_json",
    "monmap_text",
    "osd_dump_json",
    "osd_dump_text",
    "osd_stat_json",
    "osd_stat_text",
    "osd_tree_json",
    "osd_tree_text",
    "pool_json",
    "pool_text",
    "status_json",
    "status_text",
    "utime_str",
]
