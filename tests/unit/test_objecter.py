"""The Objecter without sockets: sends, replies, resends, exactly-once, flags, budget.

A :class:`~objecter_harness.World` plays the monitors and OSDs with hand-built
OSDMaps; every assertion is on the MOSDOps the Objecter sends and on how its ops
complete.
"""

from __future__ import annotations

import asyncio
import errno
from dataclasses import replace

import pytest
from objecter_harness import (
    LOC,
    R,
    W,
    World,
    copy_map,
    make_osdmap,
    make_pool,
    osd_addrs,
    run,
    run_world,
    settle,
)

from asyncmsgr.messages import MOSDBackoff, MOSDMap, MOSDOp
from asyncmsgr.osd import ops
from asyncmsgr.osd.mapcommon import CEPH_OSD_UP, CEPH_OSDMAP_PAUSERD, CEPH_OSDMAP_PAUSEWR
from asyncmsgr.osd.ops import BackoffOp, OsdFlag
from asyncmsgr.osd.pool import FLAG_FULL
from asyncmsgr.osd.types import PG, SPG, HObject, ObjectLocator
from asyncmsgr.osdc.op import ObjecterOptions, OpResult
from asyncmsgr.osdc.target import OpTarget, PgMappingCache, calc_target


def primary_of(w: World, oid: str, loc: ObjectLocator = LOC) -> int:
    t = OpTarget(W, oid, loc)
    calc_target(w.objecter.osdmap, t, PgMappingCache())
    return t.osd


def test_op_goes_to_the_acting_primary_and_completes() -> None:
    async def body(w: World) -> None:
        o = w.objecter
        task = asyncio.ensure_future(o.operate("obj", LOC, [ops.writefull(b"data")], W))
        await settle()
        (con, m), = w.ops_sent()
        _, _, _, primary = w.osdmap.pg_to_up_acting_osds(
            w.osdmap.raw_pg_to_pg(w.osdmap.object_locator_to_pg("obj", LOC)))
        assert con.peer_addrs == osd_addrs(primary)
        assert m.pgid == SPG(w.osdmap.raw_pg_to_pg(w.osdmap.object_locator_to_pg("obj", LOC)))
        assert (m.oid, m.retry_attempt, m.osdmap_epoch, m.priority) == ("obj", 0, 1, 63)
        assert m.flags == W | int(OsdFlag.ONDISK | OsdFlag.KNOWN_REDIR)
        assert m.mtime == m.mtime  # set by the caller (none here)
        w.reply(con, m, user_version=7)
        res = await task
        assert res.result == 0
        assert res.user_version == 7
        assert o.num_in_flight == 0
        assert o.perf_dump()["op_w"] == 1

    run_world(body)


def _down(w: World, osd: int) -> None:
    """Publish an incremental marking ``osd.N`` down."""
    w.publish_incs([w.next_inc(new_state={osd: CEPH_OSD_UP})])


def test_new_primary_gets_the_same_tid_with_retry_attempt_bumped() -> None:
    async def body(w: World) -> None:
        task = asyncio.ensure_future(w.objecter.operate("obj", LOC, [ops.append(b"x")], W))
        await settle()
        (con0, m0), = w.ops_sent()
        old = primary_of(w, "obj")
        _down(w, old)
        await settle()
        (_, m0again), (con1, m1) = w.ops_sent()
        assert m0again is m0
        new = primary_of(w, "obj")
        assert new != old
        assert con1.peer_addrs == osd_addrs(new)
        assert (m1.tid, m1.retry_attempt, m1.osdmap_epoch) == (m0.tid, 1, 2)
        assert m1.reqid == m0.reqid  # the OSD names both client.GID.0:tid
        w.reply(con0, m0, 0)  # the old primary answers late: dropped (no session)
        await settle()
        assert not task.done()
        w.reply(con1, m1, 0, retry_attempt=0)  # a reply to attempt 0 on the new session
        await settle()
        assert not task.done()
        w.reply(con1, m1, 0)
        assert (await task).result == 0
        assert w.objecter.perf_dump()["op_resend"] == 1

    run_world(body)


def test_map_changes_elsewhere_do_not_resend() -> None:
    async def body(w: World) -> None:
        task = asyncio.ensure_future(w.objecter.operate("obj", LOC, [ops.read(0, 1)], R))
        await settle()
        w.publish_incs([w.next_inc(new_pools={2: make_pool()}, new_pool_names={2: "b"},
                                   new_pool_max=2)])
        await settle()
        assert len(w.ops_sent()) == 1
        assert w.objecter.osdmap.epoch == 2
        con, m = w.ops_sent()[0]
        w.reply(con, m)
        assert (await task).result == 0

    run_world(body)


def test_session_reset_resends_on_a_new_connection() -> None:
    async def body(w: World) -> None:
        task = asyncio.ensure_future(w.objecter.operate("obj", LOC, [ops.append(b"x")], W))
        await settle()
        (con0, m0), = w.ops_sent()
        w.reset(con0)
        await settle()
        (_, _), (con1, m1) = w.ops_sent()
        assert con1 is not con0
        assert con1.peer_addrs == con0.peer_addrs
        assert (m1.tid, m1.retry_attempt) == (m0.tid, 1)
        w.reply(con0, m0)  # whatever arrives on the dead connection is ignored
        await settle()
        assert not task.done()
        w.reply(con1, m1)
        assert (await task).result == 0
        # sub_want osdmap after the reset (a new map may explain it)
        assert w.monc.subs[-1][0] == "osdmap"

    run_world(body)


def test_repeated_resets_back_off() -> None:
    async def body(w: World) -> None:
        task = asyncio.ensure_future(w.objecter.operate("obj", LOC, [ops.read(0, 1)], R))
        await settle()
        for _ in range(4):
            w.reset(w.ops_sent()[-1][0])
            await settle()
        sent = len(w.ops_sent())
        assert sent < 5  # the later reopens wait
        await asyncio.sleep(0.2)
        assert len(w.ops_sent()) == sent + 1
        con, m = w.ops_sent()[-1]
        w.reply(con, m)
        assert (await task).result == 0

    run_world(body, options=ObjecterOptions(reconnect_max_delay=0.05))


def test_missing_pool_is_enoent_only_once_the_map_is_the_newest() -> None:
    async def body(w: World) -> None:
        w.monc.newest = 3  # the mon has newer maps: maybe the pool is there
        task = asyncio.ensure_future(w.objecter.operate("obj", ObjectLocator(9),
                                                        [ops.read(0, 1)], R))
        await settle()
        assert not task.done()
        assert not w.ops_sent()
        assert w.monc.version_calls == 1
        w.publish_incs([w.next_inc()])
        await settle()
        assert not task.done()
        w.publish_incs([w.next_inc()])
        res = await task
        assert res.result == -errno.ENOENT
        assert w.objecter.num_in_flight == 0

    run_world(body)


def test_pool_created_in_a_newer_map_is_used() -> None:
    async def body(w: World) -> None:
        w.monc.newest = 2
        task = asyncio.ensure_future(w.objecter.operate("obj", ObjectLocator(2),
                                                        [ops.read(0, 1)], R))
        await settle()
        w.publish_incs([w.next_inc(new_pools={2: make_pool()}, new_pool_names={2: "b"},
                                   new_pool_max=2)])
        await settle()
        (con, m), = w.ops_sent()
        assert m.pgid.pgid.pool == 2
        w.reply(con, m)
        assert (await task).result == 0

    run_world(body)


def test_pool_deleted_under_an_op_fails_it() -> None:
    async def body(w: World) -> None:
        task = asyncio.ensure_future(w.objecter.operate("obj", LOC, [ops.read(0, 1)], R))
        await settle()
        w.publish_incs([w.next_inc(old_pools=(1,))])
        assert (await task).result == -errno.ENOENT

    run_world(body)


def test_pause_holds_writes_until_unpause_and_subscribes_continuously() -> None:
    async def body(w: World) -> None:
        w.publish_incs([w.next_inc(new_flags=w.osdmap.flags | CEPH_OSDMAP_PAUSEWR)])
        await settle()
        assert w.monc.subs[-1] == ("osdmap", 3, False)  # continuous while paused
        wr = asyncio.ensure_future(w.objecter.operate("a", LOC, [ops.append(b"x")], W))
        rd = asyncio.ensure_future(w.objecter.operate("b", LOC, [ops.read(0, 1)], R))
        await settle()
        assert [m.oid for _, m in w.ops_sent()] == ["b"]
        w.publish_incs([w.next_inc(new_flags=w.osdmap.flags | CEPH_OSDMAP_PAUSERD)])
        await settle()
        w.publish_incs([w.next_inc(
            new_flags=w.osdmap.flags & ~(CEPH_OSDMAP_PAUSERD | CEPH_OSDMAP_PAUSEWR))])
        await settle()
        assert sorted(m.oid for _, m in w.ops_sent()) == ["a", "b", "b"]
        for con, m in w.ops_sent()[1:]:
            w.reply(con, m)
        assert (await wr).result == 0
        assert (await rd).result == 0

    run_world(body)


def test_full_pool_holds_writes_but_not_full_try() -> None:
    async def body(w: World) -> None:
        held = asyncio.ensure_future(w.objecter.operate("a", LOC, [ops.append(b"x")], W))
        tried = asyncio.ensure_future(w.objecter.operate(
            "b", LOC, [ops.append(b"x")], W | int(OsdFlag.FULL_TRY)))
        rd = asyncio.ensure_future(w.objecter.operate("c", LOC, [ops.read(0, 1)], R))
        await settle()
        assert sorted(m.oid for _, m in w.ops_sent()) == ["b", "c"]
        pool = w.osdmap.pools[1]
        w.publish_incs([w.next_inc(new_pools={1: replace(pool, flags=pool.flags & ~FLAG_FULL)})])
        await settle()
        assert sorted(m.oid for _, m in w.ops_sent()) == ["a", "b", "c"]
        for con, m in w.ops_sent():
            w.reply(con, m, -errno.ENOSPC if m.oid == "b" else 0)
        assert (await held).result == 0
        assert (await tried).result == -errno.ENOSPC
        assert (await rd).result == 0

    pools = {1: ("test", make_pool(flags=make_pool().flags | FLAG_FULL))}
    run_world(body, make_osdmap(pools=pools))


def test_backoff_holds_its_range_and_unblock_resends() -> None:
    async def body(w: World) -> None:
        o = w.objecter
        first = asyncio.ensure_future(o.operate("obj", LOC, [ops.read(0, 1)], R))
        await settle()
        (con, m0), = w.ops_sent()
        hobj = HObject("obj", "", m0.hobj.snap, m0.hash, False, "", 1)
        block = MOSDBackoff(pgid=m0.pgid, map_epoch=1, op=BackoffOp.BLOCK, id=5,
                            begin=hobj, end=hobj)
        block.connection = con
        o.ms_fast_dispatch(block) if o.ms_can_fast_dispatch(block) else o.ms_dispatch(block)
        ack = con.sent[-1]
        assert isinstance(ack, MOSDBackoff)
        assert (ack.op, ack.id, ack.begin, ack.end) == (BackoffOp.ACK_BLOCK, 5, hobj, hobj)
        second = asyncio.ensure_future(o.operate("obj", LOC, [ops.read(0, 2)], R))
        await settle()
        assert len(w.ops_sent()) == 1  # held
        unblock = MOSDBackoff(pgid=m0.pgid, map_epoch=1, op=BackoffOp.UNBLOCK, id=5,
                              begin=hobj, end=hobj)
        unblock.connection = con
        o.ms_fast_dispatch(unblock)
        sent = w.ops_sent()
        assert [(x.tid, x.retry_attempt) for _, x in sent[1:]] == [(m0.tid, 1), (m0.tid + 1, 0)]
        for c, m in sent[1:]:
            w.reply(c, m)
        assert (await first).result == 0
        assert (await second).result == 0

    run_world(body)


def test_op_timeout_is_etimedout_and_releases_budget() -> None:
    async def body(w: World) -> None:
        res = await w.objecter.operate("obj", LOC, [ops.read(0, 1)], R)
        assert res.result == -errno.ETIMEDOUT
        assert w.objecter.budget.statistics().ops == 0
        assert w.objecter.perf_dump()["op_timeout"] == 1
        (con, m), = w.ops_sent()
        w.reply(con, m)  # too late: nobody cares
        await settle()

    run_world(body, options=ObjecterOptions(osd_op_timeout=0.05, inflight_ops=1))


def test_inflight_ops_and_bytes_throttle_submitters() -> None:
    async def body(w: World) -> None:
        o = w.objecter
        tasks = [asyncio.ensure_future(o.operate(f"o{i}", LOC, [ops.read(0, 1)], R))
                 for i in range(3)]
        big = asyncio.ensure_future(o.operate("big", LOC, [ops.write(0, b"x" * 9)], W))
        await settle()
        assert len(w.ops_sent()) == 2
        assert o.budget.statistics().waiters == 2
        con, m = w.ops_sent()[0]
        w.reply(con, m)
        await settle()
        assert [x.oid for _, x in w.ops_sent()] == ["o0", "o1", "o2"]
        for con, m in w.ops_sent()[1:]:
            w.reply(con, m)
        await settle()
        assert [x.oid for _, x in w.ops_sent()][-1] == "big"  # 9 bytes: alone
        con, m = w.ops_sent()[-1]
        w.reply(con, m)
        for t in [*tasks, big]:
            assert (await t).result == 0
        assert o.budget.statistics().ops == 0

    run_world(body, options=ObjecterOptions(inflight_ops=2, inflight_op_bytes=10))


def test_cancelled_wait_cancels_the_op() -> None:
    async def body(w: World) -> None:
        o = w.objecter
        task = asyncio.ensure_future(o.operate("obj", LOC, [ops.read(0, 1)], R))
        await settle()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert o.num_in_flight == 0
        assert o.budget.statistics().ops == 0

    run_world(body)


def test_eagain_resubmits_with_a_new_tid() -> None:
    async def body(w: World) -> None:
        task = asyncio.ensure_future(w.objecter.operate("obj", LOC, [ops.read(0, 1)], R))
        await settle()
        (con, m), = w.ops_sent()
        w.reply(con, m, -errno.EAGAIN)
        await settle()
        con2, m2 = w.ops_sent()[-1]
        assert m2.tid == m.tid + 1
        w.reply(con2, m2)
        assert (await task).result == 0

    run_world(body)


def test_osd_restart_at_a_new_address_resends() -> None:
    async def body(w: World) -> None:
        task = asyncio.ensure_future(w.objecter.operate("obj", LOC, [ops.append(b"x")], W))
        await settle()
        (con, m), = w.ops_sent()
        p = primary_of(w, "obj")
        addrs = osd_addrs(p, nonce=2)
        w.publish_incs([w.next_inc(new_up_client={p: addrs}, new_hb_back_up={p: addrs},
                                   new_hb_front_up={p: addrs})])
        await settle()
        con2, m2 = w.ops_sent()[-1]
        assert con.marked_down
        assert con2.peer_addrs == osd_addrs(p, nonce=2)
        assert (m2.tid, m2.retry_attempt) == (m.tid, 1)
        w.reply(con2, m2)
        assert (await task).result == 0

    run_world(body)


def test_map_gap_asks_for_the_missing_epochs() -> None:
    async def body(w: World) -> None:
        inc2 = w.next_inc()
        w.osdmap.apply_incremental(inc2)
        w.publish_incs([w.next_inc()])  # epoch 3 without 2
        await settle()
        assert w.objecter.osdmap.epoch == 1
        assert w.monc.subs[-1] == ("osdmap", 2, True)

    run_world(body)


def test_skipped_maps_resend_everything() -> None:
    async def body(w: World) -> None:
        task = asyncio.ensure_future(w.objecter.operate("obj", LOC, [ops.append(b"x")], W))
        await settle()
        (_, m), = w.ops_sent()
        for _ in range(4):
            w.osdmap.apply_incremental(w.next_inc())
        full = MOSDMap(fsid=w.osdmap.fsid, maps={5: w.osdmap.encode()}, oldest_map=5,
                       newest_map=5)  # the sender no longer has 2..4: a full 5
        w.deliver(full)
        await settle()
        assert w.objecter.osdmap.epoch == 5
        con2, m2 = w.ops_sent()[-1]
        assert (m2.tid, m2.retry_attempt, m2.osdmap_epoch) == (m.tid, 1, 5)
        w.reply(con2, m2)
        assert (await task).result == 0

    run_world(body)


def test_first_map_without_a_full_map_asks_for_one() -> None:
    async def body() -> None:
        w = World()
        w.objecter.start()
        await settle()
        assert w.monc.subs[-1] == ("osdmap", 0, True)
        w.publish_incs([w.next_inc()])
        await settle()
        assert w.objecter.osdmap.epoch == 0
        assert w.monc.subs[-1] == ("osdmap", 0, True)
        w.publish_full()
        await w.objecter.wait_for_osd_map(timeout=1)
        assert w.objecter.osdmap.epoch == 2

    run(body)


def test_laggy_ops_ping_their_osd() -> None:
    async def body(w: World) -> None:
        task = asyncio.ensure_future(w.objecter.operate("obj", LOC, [ops.read(0, 1)], R))
        await settle()
        (con, m), = w.ops_sent()
        w.objecter.tick()
        assert type(con.sent[-1]).__name__ == "MPing"
        assert w.objecter.perf_dump()["op_laggy"] == 1
        w.reply(con, m)
        await task

    run_world(body, options=ObjecterOptions(laggy_timeout=0.0))


def test_shutdown_fails_what_is_left() -> None:
    async def body(w: World) -> None:
        task = asyncio.ensure_future(w.objecter.operate("obj", LOC, [ops.read(0, 1)], R))
        await settle()
        await w.objecter.shutdown()
        assert (await task).result == -errno.ESHUTDOWN
        res: OpResult = await w.objecter.operate("x", LOC, [ops.read(0, 1)], R)
        assert res.result == -errno.ESHUTDOWN

    run_world(body)


def test_pg_op_goes_to_the_pg_primary() -> None:
    async def body(w: World) -> None:
        o = w.objecter
        op = o.new_op("", ObjectLocator(1, "", "ns"), [ops.pgnls(10, HObject(), 1)],
                      R | int(OsdFlag.PGOP), pgid=PG(1, 5))
        task = asyncio.ensure_future(o.submit(op))
        await settle()
        (con, m), = w.ops_sent()
        _, _, _, primary = w.osdmap.pg_to_up_acting_osds(PG(1, 5))
        assert con.peer_addrs == osd_addrs(primary)
        assert (m.pgid, m.hash, m.oid) == (SPG(PG(1, 5)), 5, "")
        assert m.oloc == ObjectLocator(1, "", "ns", 5)
        assert m.flags & int(OsdFlag.IGNORE_OVERLAY | OsdFlag.PGOP)
        w.reply(con, m, 1)
        assert (await task).result == 1

    run_world(body)


def test_reads_and_writes_are_counted() -> None:
    async def body(w: World) -> None:
        o = w.objecter
        tasks = [asyncio.ensure_future(o.operate("a", LOC, [ops.read(0, 1)], R)),
                 asyncio.ensure_future(o.operate("a", LOC, [ops.call("c", "m")], R | W))]
        await settle()
        for con, m in w.ops_sent():
            w.reply(con, m)
        await asyncio.gather(*tasks)
        d = o.perf_dump()
        assert (d["op"], d["op_r"], d["op_rmw"], d["op_send"], d["op_reply"]) == (2, 1, 1, 2, 2)

    run_world(body)


def test_reply_to_unknown_tid_or_connection_is_ignored() -> None:
    async def body(w: World) -> None:
        task = asyncio.ensure_future(w.objecter.operate("obj", LOC, [ops.read(0, 1)], R))
        await settle()
        (con, m), = w.ops_sent()
        other = MOSDOp(**{k: getattr(m, k) for k in ("pgid", "hash", "oid", "ops")})
        other.tid = m.tid + 100
        w.reply(con, other)
        stranger = w.msgr.connect_to(8, osd_addrs(7))
        w.reply(stranger, m)
        await settle()
        assert not task.done()
        w.reply(con, m)
        await task

    run_world(body)


def test_the_same_map_twice_changes_nothing() -> None:
    async def body(w: World) -> None:
        m = copy_map(w.osdmap)
        w.publish_full(m)
        await settle()
        assert w.objecter.perf_dump()["map_full"] == 1

    run_world(body)
