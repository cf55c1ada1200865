"""The Objecter's sans-I/O decisions on hand-built OSDMaps: targets, resends, pauses,
backoff ranges, map walking and the in-flight budget."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from objecter_harness import FSID, R, W, copy_map, make_osdmap, make_pool, run

from asyncmsgr.crush.map import CrushRule, CrushRuleStep, RuleOp
from asyncmsgr.messages import MOSDMap
from asyncmsgr.osd import ops
from asyncmsgr.osd.incremental import Incremental
from asyncmsgr.osd.mapcommon import (
    CEPH_OSD_UP,
    CEPH_OSDMAP_FULL,
    CEPH_OSDMAP_PAUSERD,
    CEPH_OSDMAP_PAUSEWR,
)
from asyncmsgr.osd.ops import OsdFlag
from asyncmsgr.osd.pool import FLAG_EIO, FLAG_FULL, TYPE_ERASURE
from asyncmsgr.osd.types import CEPH_NOSNAP, PG, SPG, HObject, ObjectLocator
from asyncmsgr.osdc.backoff import Backoff, BackoffTable, contained_by, hobject_sort_key
from asyncmsgr.osdc.budget import OpBudget
from asyncmsgr.osdc.maps import MapStep, NeedMap, advance_map
from asyncmsgr.osdc.op import calc_op_budget
from asyncmsgr.osdc.target import (
    OpTarget,
    PgMappingCache,
    RecalcResult,
    calc_target,
    is_pg_changed,
    pg_is_merge_source,
    pg_is_merge_target,
    pg_is_split,
    pool_full_map,
    target_should_be_paused,
)


def target(oid: str = "obj", pool: int = 1, flags: int = W, **kw: object) -> OpTarget:
    return OpTarget(flags, oid, ObjectLocator(pool, **kw))  # type: ignore[arg-type]


# -- calc_target ---------------------------------------------------------------------------


def test_first_calc_aims_at_the_acting_primary() -> None:
    m = make_osdmap()
    t = target()
    assert calc_target(m, t, PgMappingCache()) == RecalcResult.NEED_RESEND
    raw = m.object_locator_to_pg("obj", ObjectLocator(1))
    pg = m.raw_pg_to_pg(raw)
    up, up_primary, acting, primary = m.pg_to_up_acting_osds(pg)
    assert (t.pgid, t.actual_pgid, t.osd) == (raw, SPG(pg), primary)
    assert (t.up, t.acting, t.up_primary) == (tuple(up), tuple(acting), up_primary)
    assert t.get_hobj() == HObject("obj", "", CEPH_NOSNAP, raw.seed, False, "", 1)
    assert calc_target(m, t, PgMappingCache()) == RecalcResult.NO_ACTION


def test_namespace_and_locator_key_place_the_object() -> None:
    m = make_osdmap(pools={1: ("p", make_pool(pg_num=64))})
    cache = PgMappingCache()
    a, b, c = target("x"), target("x", nspace="ns"), target("x", key="other")
    for t in (a, b, c):
        calc_target(m, t, cache)
    pool = m.pools[1]
    assert b.pgid.seed == pool.hash_key("x", "ns") != a.pgid.seed
    assert c.pgid.seed == pool.hash_key("other", "")
    k = target("other")
    calc_target(m, k, cache)
    assert k.actual_pgid == c.actual_pgid
    assert c.get_hobj().key == "other"


def test_missing_pool_and_eio_pool() -> None:
    m = make_osdmap()
    t = target(pool=7)
    assert calc_target(m, t, PgMappingCache()) == RecalcResult.POOL_DNE
    assert t.osd == -1
    assert not t.pool_ever_existed
    m.pools[1] = replace(m.pools[1], flags=m.pools[1].flags | FLAG_EIO)
    assert calc_target(m, target(), PgMappingCache()) == RecalcResult.POOL_EIO


def test_primary_change_resends_replica_change_does_not() -> None:
    m = make_osdmap(num_osds=5, pools={1: ("p", make_pool(size=2))})
    t = target()
    calc_target(m, t, PgMappingCache())
    primary, _ = t.acting
    other = [o for o in range(5) if o not in t.acting]
    m2 = copy_map(m)
    m2.epoch += 1
    m2.pg_temp[t.actual_pgid.pgid] = (primary, other[0])  # the replica moves
    assert calc_target(m2, t, PgMappingCache()) == RecalcResult.NO_ACTION
    assert t.osd == primary
    m3 = copy_map(m2)
    m3.epoch += 1
    m3.primary_temp[t.actual_pgid.pgid] = other[0]  # the primary moves
    assert calc_target(m3, t, PgMappingCache()) == RecalcResult.NEED_RESEND
    assert t.osd == other[0]


def test_linger_targets_resend_on_any_new_interval() -> None:
    m = make_osdmap(num_osds=5, pools={1: ("p", make_pool(size=2))})
    t = target()
    calc_target(m, t, PgMappingCache(), any_change=True)
    primary, _ = t.acting
    other = [o for o in range(5) if o not in t.acting]
    m2 = copy_map(m)
    m2.epoch += 1
    m2.pg_temp[t.actual_pgid.pgid] = (primary, other[0])
    assert calc_target(m2, t, PgMappingCache(), any_change=True) == RecalcResult.NEED_RESEND


def test_pool_force_resend_epoch() -> None:
    m = make_osdmap()
    t = target()
    calc_target(m, t, PgMappingCache())
    m2 = copy_map(m)
    m2.epoch = 5
    m2.pools[1] = replace(m2.pools[1], last_force_op_resend=5)
    assert calc_target(m2, t, PgMappingCache()) == RecalcResult.NEED_RESEND
    assert calc_target(m2, t, PgMappingCache()) == RecalcResult.NO_ACTION


def test_split_resends() -> None:
    m = make_osdmap(pools={1: ("p", make_pool(pg_num=4))})
    t = target("obj3")
    calc_target(m, t, PgMappingCache())
    m2 = copy_map(m)
    m2.epoch += 1
    pool = m2.pools[1]
    m2.pools[1] = replace(pool, pg_num=8, pgp_num=4, pg_num_pending=8)
    if pg_is_split(t.actual_pgid.pgid.seed, 4, 8):
        assert calc_target(m2, t, PgMappingCache()) == RecalcResult.NEED_RESEND
        assert t.pg_num == 8


def test_tiering_redirects_reads_and_writes() -> None:
    m = make_osdmap(pools={1: ("base", make_pool()), 2: ("cache", make_pool())})
    m.pools[1] = replace(m.pools[1], read_tier=2, write_tier=2, tiers=(2,))
    t = target(flags=R)
    calc_target(m, t, PgMappingCache())
    assert t.target_oloc.pool == 2
    assert t.actual_pgid.pgid.pool == 2
    t2 = target(flags=R | int(OsdFlag.IGNORE_OVERLAY))
    calc_target(m, t2, PgMappingCache())
    assert t2.target_oloc.pool == 1


def test_precalculated_pg_op() -> None:
    m = make_osdmap()
    t = OpTarget(R | int(OsdFlag.PGOP | OsdFlag.IGNORE_OVERLAY), "", ObjectLocator(1),
                 precalc_pgid=True, base_pgid=PG(1, 3))
    calc_target(m, t, PgMappingCache())
    assert t.actual_pgid == SPG(PG(1, 3))
    assert t.object_hash() == 3
    assert t.osd == m.pg_to_up_acting_osds(PG(1, 3))[3]


def test_erasure_pool_gets_the_primary_shard() -> None:
    m = make_osdmap(num_osds=4, pools={1: ("ec", replace(make_pool(size=3),
                                                          type=TYPE_ERASURE))})
    crush = m.crush
    rules = (*crush.rules, CrushRule(ruleset=1, type=3, min_size=1, max_size=10, steps=(
        CrushRuleStep(RuleOp.TAKE, -1), CrushRuleStep(RuleOp.CHOOSELEAF_INDEP, 0, 0),
        CrushRuleStep(RuleOp.EMIT))))
    m.set_crush(replace(crush, rules=rules))
    m.pools[1] = replace(m.pools[1], crush_rule=1)
    t = target()
    calc_target(m, t, PgMappingCache())
    assert t.acting[t.actual_pgid.shard] == t.osd


def test_pg_mapping_cache_is_per_epoch() -> None:
    m = make_osdmap()
    cache = PgMappingCache()
    cache.lookup(m, PG(1, 1))
    cache.lookup(m, PG(1, 1))
    assert (cache.hits, cache.misses) == (1, 1)
    m2 = copy_map(m)
    m2.epoch += 1
    cache.lookup(m2, PG(1, 1))
    assert cache.misses == 2


def test_pause_rules() -> None:
    m = make_osdmap()
    w, r = target(flags=W), target(flags=R)
    m.flags |= CEPH_OSDMAP_PAUSEWR
    assert target_should_be_paused(m, w)
    assert not target_should_be_paused(m, r)
    m.flags = (m.flags & ~CEPH_OSDMAP_PAUSEWR) | CEPH_OSDMAP_PAUSERD
    assert target_should_be_paused(m, r)
    assert not target_should_be_paused(m, w)
    m.flags &= ~CEPH_OSDMAP_PAUSERD
    m.flags |= CEPH_OSDMAP_FULL
    assert target_should_be_paused(m, w)
    assert not target_should_be_paused(m, w, honor_full=False)
    assert not target_should_be_paused(m, target(flags=W | int(OsdFlag.FULL_TRY)))
    assert not target_should_be_paused(m, target(flags=W | int(OsdFlag.FULL_FORCE)))
    m.flags &= ~CEPH_OSDMAP_FULL
    m.pools[1] = replace(m.pools[1], flags=m.pools[1].flags | FLAG_FULL)
    assert target_should_be_paused(m, w)
    assert pool_full_map(m) == {1: True}
    assert pool_full_map(make_osdmap(), {1: True}) == {1: True}  # was full: still counts


def test_unpause_resends() -> None:
    m = make_osdmap()
    m.flags |= CEPH_OSDMAP_PAUSEWR
    t = target()
    calc_target(m, t, PgMappingCache())
    assert t.paused
    m2 = copy_map(m)
    m2.epoch += 1
    m2.flags &= ~CEPH_OSDMAP_PAUSEWR
    assert calc_target(m2, t, PgMappingCache()) == RecalcResult.NEED_RESEND
    assert not t.paused


@pytest.mark.parametrize(("seed", "old", "new", "split"), [
    (3, 8, 16, True), (3, 8, 12, True), (4, 8, 12, False), (0, 1, 2, True),
    (9, 8, 16, False), (2, 8, 8, False), (5, 16, 8, False),
    (1, 3, 6, True), (1, 3, 4, True), (0, 3, 4, False)])
def test_pg_split(seed: int, old: int, new: int, split: bool) -> None:
    assert pg_is_split(seed, old, new) is split


def test_pg_merge() -> None:
    assert pg_is_merge_source(11, 16, 8)
    assert not pg_is_merge_source(3, 16, 8)
    assert pg_is_merge_target(3, 16, 8)
    assert not pg_is_merge_target(3, 8, 16)


def test_is_pg_changed() -> None:
    assert not is_pg_changed(1, (1, 2), 1, (1, 3), False)
    assert is_pg_changed(1, (1, 2), 1, (1, 3), True)
    assert is_pg_changed(1, (1, 2), 2, (2, 1), False)
    assert is_pg_changed(1, (1, 2), 1, (2, 1), False)  # same primary, another rank
    assert is_pg_changed(-1, (), 1, (1,), False)
    assert not is_pg_changed(-1, (), -1, (), True)


# -- backoffs --------------------------------------------------------------------------------


def h(name: str, hash_: int, pool: int = 1, nspace: str = "") -> HObject:
    return HObject(name, "", CEPH_NOSNAP, hash_, False, nspace, pool)


def test_hobject_order_is_ceph_bitwise() -> None:
    objs = [HObject.get_max(), h("b", 0x80000000), h("a", 0x1), h("a", 0x2), HObject(),
            h("z", 0x80000000, nspace="n"), h("a", 0x80000000)]
    got = sorted(objs, key=hobject_sort_key)
    # reversed hash bits: 0x80000000 -> 1, 0x2 -> 0x40000000, 0x1 -> 0x80000000
    assert got == [HObject(), h("a", 0x80000000), h("b", 0x80000000),
                   h("z", 0x80000000, nspace="n"), h("a", 0x2), h("a", 0x1),
                   HObject.get_max()]


def test_backoff_ranges() -> None:
    pg = SPG(PG(1, 0))
    table = BackoffTable()
    # bitwise order sorts by the reversed hash: 0x8 < 0x4 < 0x2 < 0x1
    lo, mid, hi = h("a", 0x8), h("b", 0x4), h("c", 0x2)
    table.block(Backoff(pg, 1, lo, hi))
    table.block(Backoff(pg, 2, h("x", 0x1), h("x", 0x1)))  # one object
    assert table.blocking(pg, lo) is not None
    assert table.blocking(pg, mid) is not None
    assert table.blocking(pg, hi) is None  # end excluded
    assert table.blocking(SPG(PG(1, 1)), mid) is None
    assert table.blocking(pg, h("x", 0x1)).id == 2  # type: ignore[union-attr]
    assert table.blocking(pg, h("y", 0x1)) is None
    assert contained_by(mid, lo, hi)
    assert not contained_by(hi, lo, hi)
    assert contained_by(lo, lo, lo)
    assert table.unblock(1) is not None
    assert table.blocking(pg, mid) is None
    assert table.unblock(1) is None
    assert len(table) == 1
    table.clear()
    assert not table


# -- map walking -------------------------------------------------------------------------


def _msg(incs: dict[int, bytes] | None = None, maps: dict[int, bytes] | None = None,
         oldest: int = 1) -> MOSDMap:
    epochs = [*(incs or {}), *(maps or {})]
    return MOSDMap(fsid=FSID, incremental_maps=incs or {}, maps=maps or {},
                   oldest_map=oldest, newest_map=max(epochs) if epochs else 0)


def test_advance_map_walks_incrementals_in_order() -> None:
    m = make_osdmap()
    incs = {e: Incremental(fsid=FSID, epoch=e).encode() for e in (2, 3, 4)}
    seen = [(s.osdmap.epoch, s.full, s.osdmap is m) for s in advance_map(m, _msg(incs))
            if isinstance(s, MapStep)]  # one map, updated in place
    assert seen == [(2, False, True), (3, False, True), (4, False, True)]
    assert list(advance_map(m, _msg(incs))) == []  # nothing newer


def test_advance_map_gap_and_full_maps() -> None:
    m = make_osdmap()
    assert list(advance_map(m, _msg({3: Incremental(fsid=FSID, epoch=3).encode()}))) == [
        NeedMap(2, "epoch 2 missing")]
    later = copy_map(m)
    later.epoch = 6
    steps = list(advance_map(m, _msg(maps={6: later.encode()}, oldest=6)))
    (step,) = steps
    assert isinstance(step, MapStep)
    assert (step.osdmap.epoch, step.skipped_map, step.full) == (6, True, True)


def test_advance_map_first_map_and_bad_blobs() -> None:
    m = make_osdmap()
    assert list(advance_map(None, _msg({2: b"junk"}))) == [
        NeedMap(0, "no map yet and no full map in the message")]
    (step,) = advance_map(None, _msg(maps={1: m.encode()}))
    assert isinstance(step, MapStep)
    assert step.osdmap.epoch == 1
    (bad,) = advance_map(m, _msg({2: b"junk"}))
    assert isinstance(bad, NeedMap)
    assert bad.start == 0
    (bad,) = advance_map(None, _msg(maps={1: m.encode()[:-3]}))
    assert isinstance(bad, NeedMap)
    down = Incremental(fsid=FSID, epoch=2, new_state={9: CEPH_OSD_UP}).encode()
    (bad,) = advance_map(copy_map(m), _msg({2: down}))
    assert isinstance(bad, NeedMap)
    assert bad.start == 0


# -- budget ------------------------------------------------------------------------------------


def test_op_budget_counts_writes_and_read_extents() -> None:
    assert calc_op_budget([ops.writefull(b"x" * 10), ops.read(0, 100),
                           ops.getxattr("abc"), ops.stat()]) == 113
    assert calc_op_budget([ops.read(0, 0)]) == 0


def test_budget_waits_fifo_and_lets_a_big_op_through_alone() -> None:
    async def body() -> None:
        b = OpBudget(2, 100)
        assert b.try_take(60)
        assert not b.try_take(60)
        order: list[str] = []

        async def take(name: str, n: int) -> None:
            await b.take(n)
            order.append(name)

        t1 = asyncio.ensure_future(take("a", 60))
        t2 = asyncio.ensure_future(take("huge", 500))
        t3 = asyncio.ensure_future(take("small", 1))
        await asyncio.sleep(0)
        assert b.statistics().waiters == 3
        b.put(60)
        await asyncio.sleep(0)
        # Throttle::_should_wait: a request over the whole budget waits only while
        # more than the budget is held; then the ops limit (2) stops "small"
        assert order == ["a", "huge"]
        b.put(60)
        await asyncio.sleep(0)
        assert order == ["a", "huge"]  # 500 bytes still held: 1 more would not fit
        b.put(500)
        await asyncio.gather(t1, t2, t3)
        assert order == ["a", "huge", "small"]
        b.put(1)
        assert b.statistics().ops == 0
        with pytest.raises(ValueError, match="budget"):
            b.put(1)

    run(body)


def test_budget_cancelled_waiter_takes_nothing() -> None:
    async def body() -> None:
        b = OpBudget(1, 0)
        assert b.try_take(5)
        t = asyncio.ensure_future(b.take(5))
        await asyncio.sleep(0)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        b.put(5)
        assert b.statistics() == (0, 0, 1, 0, 0, 1)

    run(body)
