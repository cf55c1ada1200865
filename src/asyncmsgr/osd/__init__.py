"""RADOS data types, pools and the OSDMap (Ceph ``src/osd/``), sans-I/O.

Modules:

* :mod:`.types`: ``pg_t`` (:class:`~.types.PG`), ``spg_t``, ``object_locator_t``,
  ``osd_reqid_t``, ``eversion_t``, ``hobject_t``, ``ceph_stable_mod``;
* :mod:`.pool`: ``pg_pool_t`` (:class:`~.pool.PgPool`) and its codec, the pool flags,
  ``hash_key``/``raw_pg_to_pg``/``raw_pg_to_pps``;
* :mod:`.mapcommon`: ``osd_info_t``, ``osd_xinfo_t``, OSD states, weights, map flags;
* :mod:`.osdmap` / :mod:`.osdmap_codec`: :class:`~.osdmap.OSDMap` (full map codec,
  crc, ``apply_incremental``); :mod:`.incremental`: ``OSDMap::Incremental``;
* :mod:`.placement`: object -> PG -> OSDs, Pacific's algorithm step by step;
* :mod:`.crush_edit`: ``CrushWrapper::adjust_item_weight`` (for osdmaptool);
* :mod:`.ops` (helper osdmsgs): OSD op codes and the op vector of MOSDOp.

What the Objecter uses::

    from asyncmsgr.osd.osdmap import OSDMap, EpochGap
    from asyncmsgr.osd.incremental import Incremental
    from asyncmsgr.osd.types import PG, ObjectLocator

    m = OSDMap.decode(mosdmap.maps[e])               # full map (DecodeError, BadMapCrc)
    m.apply_incremental(Incremental.decode(blob))    # next epoch; EpochGap on a gap:
                                                     # then subscribe "osdmap" from 0
                                                     # (ONETIME) for a full map
    m.epoch, m.fsid, m.flags, m.pauserd, m.pausewr, m.full
    pool_id = m.lookup_pg_pool_name("rbd")           # -2 (-ENOENT) if absent
    pool = m.get_pg_pool(pool_id)                    # PgPool or None; pool.has_flag(
                                                     #   FLAG_FULL / FLAG_FULL_QUOTA)
    raw = m.object_locator_to_pg("obj", ObjectLocator(pool_id, nspace="ns"))
    pgid = m.raw_pg_to_pg(raw)                       # raw.seed is the hobject hash
    up, up_primary, acting, acting_primary = m.pg_to_up_acting_osds(pgid)
    m.is_up(acting_primary), m.get_addrs(acting_primary)   # EntityAddrVec to dial

An op goes to ``acting_primary`` (-1: no primary, wait for a new map); EC pools
address shard ``acting.index(acting_primary)`` (``spg_t``); a new map that changes
the PG's acting primary (or its acting set / up set as the Objecter's
``_calc_target`` checks) means resend.
"""
