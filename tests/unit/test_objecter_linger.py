"""Watch and notify (linger ops) without sockets: register, ping, reconnect, events."""

from __future__ import annotations

import asyncio
import errno

from objecter_harness import LOC, FakeConnection, World, osd_addrs, run_world, settle

from asyncmsgr.messages import MOSDOp, MWatchNotify
from asyncmsgr.osd.mapcommon import CEPH_OSD_UP
from asyncmsgr.osd.op_data import NotifyResult, push_notify_result
from asyncmsgr.osd.ops import OSDOp, OsdOpCode, WatchEvent, WatchOp, notify
from asyncmsgr.osdc import linger
from asyncmsgr.osdc.op import LingerOp
from asyncmsgr.wire.buffer import Writer


def _notify_id_out(n: int) -> list[OSDOp]:
    op = notify(0, b"", 0)
    return [OSDOp(op.op, op.flags, op.args, outdata=n.to_bytes(8, "little"))]


async def _watch(w: World) -> tuple[LingerOp, list[tuple[int, int, int, bytes]],
                                    list[tuple[int, int]]]:
    events: list[tuple[int, int, int, bytes]] = []
    errors: list[tuple[int, int]] = []
    o = w.objecter
    info = linger.linger_register(o, "wobj", LOC, 0)
    info.on_notify = lambda *a: events.append(a)
    info.on_error = lambda *a: errors.append(a)
    reg = asyncio.ensure_future(linger.linger_watch(o, info, timeout=30))
    await settle()
    con, m = w.ops_sent()[-1]
    (op,) = m.ops
    assert op.op == OsdOpCode.WATCH
    assert (op.watch.op, op.watch.cookie, op.watch.timeout) == (WatchOp.WATCH, info.cookie, 30)
    assert m.flags & 0x20  # a write
    w.reply(con, m)
    assert await reg == 0
    assert info.registered
    return info, events, errors


def test_watch_registers_pings_and_delivers_notifies() -> None:
    async def body(w: World) -> None:
        info, events, errors = await _watch(w)
        w.objecter.tick()
        con, ping = w.ops_sent()[-1]
        assert (ping.ops[0].watch.op, ping.ops[0].watch.gen) == (WatchOp.PING, 0)
        before = info.watch_valid_thru
        await asyncio.sleep(0.01)
        w.objecter.tick()
        con, ping2 = w.ops_sent()[-1]
        w.reply(con, ping2)
        assert info.watch_valid_thru > before
        assert isinstance(linger.linger_check(w.objecter, info), float)
        ev = MWatchNotify(opcode=WatchEvent.NOTIFY, cookie=info.cookie, notify_id=77,
                          bl=b"hello", notifier_gid=4100)
        ev.connection = con
        w.objecter.ms_fast_dispatch(ev)
        await settle()
        assert events == [(77, info.cookie, 4100, b"hello")]
        assert errors == []

    run_world(body)


def test_watch_reconnects_after_reset_and_reports_a_failed_reconnect() -> None:
    async def body(w: World) -> None:
        info, _, errors = await _watch(w)
        con = w.ops_sent()[-1][0]
        w.reset(con)
        await settle()
        con2, m = w.ops_sent()[-1]
        assert con2 is not con
        assert (m.ops[0].watch.op, m.ops[0].watch.gen) == (WatchOp.RECONNECT, 1)
        w.reply(con2, m, -errno.ENOENT)  # the object went away meanwhile
        await settle()
        assert errors == [(info.cookie, -errno.ENOTCONN)]
        assert linger.linger_check(w.objecter, info) == -errno.ENOTCONN

    run_world(body)


def test_watch_follows_its_pg_to_a_new_primary() -> None:
    async def body(w: World) -> None:
        info, _, errors = await _watch(w)
        old = info.target.osd
        w.publish_incs([w.next_inc(new_state={old: CEPH_OSD_UP})])
        await settle()
        con, m = w.ops_sent()[-1]
        assert con.peer_addrs == osd_addrs(info.target.osd) != osd_addrs(old)
        assert m.ops[0].watch.op == WatchOp.RECONNECT
        w.reply(con, m)
        await settle()
        assert errors == []
        assert w.objecter.perf_dump()["linger_resend"] == 1

    run_world(body)


def test_disconnect_event_is_an_error_once() -> None:
    async def body(w: World) -> None:
        info, _, errors = await _watch(w)
        for _ in range(2):
            ev = MWatchNotify(opcode=WatchEvent.DISCONNECT, cookie=info.cookie)
            w.objecter.ms_fast_dispatch(ev)
        await settle()
        assert errors == [(info.cookie, -errno.ENOTCONN)]
        linger.linger_cancel(w.objecter, info)
        assert info.cookie not in w.objecter.linger_ops

    run_world(body)


async def _notify(w: World, payload: bytes) -> tuple[
        LingerOp, asyncio.Future[tuple[int, bytes]], FakeConnection, MOSDOp]:
    """Start a notify on ``nobj``; (its linger op, its task, the MOSDOp sent and where)."""
    info = linger.linger_register(w.objecter, "nobj", LOC, 0)
    task = asyncio.ensure_future(linger.linger_notify(w.objecter, info, payload, 5))
    await settle()
    con, m = w.ops_sent()[-1]
    return info, task, con, m


def test_notify_completes_with_the_watchers_replies() -> None:
    async def body(w: World) -> None:
        o = w.objecter
        info, task, con, m = await _notify(w, b"ping")
        assert m.ops[0].op == OsdOpCode.NOTIFY
        assert not m.flags & 0x20  # a read
        w.reply(con, m, outs=_notify_id_out(42))
        await settle()
        assert info.notify_id == 42
        stale = MWatchNotify(opcode=WatchEvent.NOTIFY_COMPLETE, cookie=info.cookie,
                             notify_id=41)
        o.ms_fast_dispatch(stale)
        await settle()
        assert not task.done()
        wr = Writer()
        push_notify_result(wr, NotifyResult({(4100, 9): b"ack"}, frozenset()))
        done = MWatchNotify(opcode=WatchEvent.NOTIFY_COMPLETE, cookie=info.cookie,
                            notify_id=42, return_code=0)
        done.data = wr.getvalue()
        o.ms_fast_dispatch(done)
        r, replies = await task
        assert r == 0
        assert replies == wr.getvalue()
        linger.linger_cancel(o, info)

    run_world(body)


def test_notify_op_error_is_the_result() -> None:
    async def body(w: World) -> None:
        _, task, con, m = await _notify(w, b"")
        w.reply(con, m, -errno.ENOENT)
        assert await task == (-errno.ENOENT, b"")

    run_world(body)
