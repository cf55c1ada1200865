"""``Objecter.aio_operate`` / ``op_submit``: completion callbacks, no task per op, the
in-flight budget taken in FIFO order by callback waiters, cancellation and shutdown."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable

from objecter_harness import LOC, R, W, World, run, run_world

from asyncmsgr.osd import ops
from asyncmsgr.osdc.budget import OpBudget
from asyncmsgr.osdc.op import ObjecterOptions, OpResult


def test_aio_operate_completes_through_the_callback_without_tasks() -> None:
    async def body(w: World) -> None:
        o = w.objecter
        got: list[OpResult] = []
        tasks_before = len(asyncio.all_tasks())
        op = o.aio_operate("obj", LOC, [ops.writefull(b"data")], W, got.append)
        assert op.future is None
        assert len(asyncio.all_tasks()) == tasks_before
        (con, m), = w.ops_sent()  # sent at once, from the caller's stack
        assert m.tid == op.tid
        assert o.budget.statistics().ops == 1
        w.reply(con, m, user_version=3)
        assert [(r.result, r.user_version) for r in got] == [(0, 3)]
        assert o.budget.statistics().ops == 0
        assert o.num_in_flight == 0

    run_world(body)


def test_short_budget_queues_callbacks_in_fifo_order() -> None:
    async def body(w: World) -> None:
        o = w.objecter
        done: list[str] = []
        def finished(name: str) -> Callable[[OpResult], None]:
            return lambda r: done.append(f"{name}:{r.result}")

        for i in range(5):
            o.aio_operate(f"o{i}", LOC, [ops.read(0, 1)], R, finished(f"o{i}"))
        assert [m.oid for _, m in w.ops_sent()] == ["o0", "o1"]
        st = o.budget.statistics()
        assert (st.ops, st.waiters) == (2, 3)
        con, m = w.ops_sent()[1]
        w.reply(con, m)  # frees one op of budget: o2 goes, from this completion
        assert [m.oid for _, m in w.ops_sent()] == ["o0", "o1", "o2"]
        for con, m in w.ops_sent()[:1] + w.ops_sent()[2:]:
            w.reply(con, m)
        assert [m.oid for _, m in w.ops_sent()] == ["o0", "o1", "o2", "o3", "o4"]
        for con, m in w.ops_sent()[3:]:
            w.reply(con, m)
        assert done == ["o1:0", "o0:0", "o2:0", "o3:0", "o4:0"]
        assert o.budget.statistics() == (0, 0, 2, 0, 0, 3)

    run_world(body, options=ObjecterOptions(inflight_ops=2, inflight_op_bytes=0))


def test_cancel_a_queued_op_takes_no_budget_and_lets_the_next_go() -> None:
    async def body(w: World) -> None:
        o = w.objecter
        got: dict[str, int] = {}
        first = o.aio_operate("a", LOC, [ops.read(0, 1)], R,
                              lambda r: got.__setitem__("a", r.result))
        queued = o.aio_operate("b", LOC, [ops.read(0, 1)], R,
                               lambda r: got.__setitem__("b", r.result))
        o.aio_operate("c", LOC, [ops.read(0, 1)], R, lambda r: got.__setitem__("c", r.result))
        assert o.cancel(queued)
        assert got == {"b": -errno.ECANCELED}
        assert not o.cancel(queued)  # done already
        con, m = w.ops_sent()[0]
        w.reply(con, m)
        assert [m.oid for _, m in w.ops_sent()] == ["a", "c"]  # b never sent
        con, m = w.ops_sent()[1]
        w.reply(con, m)
        assert got == {"a": 0, "b": -errno.ECANCELED, "c": 0}
        assert o.budget.statistics().ops == 0
        assert first.tid

    run_world(body, options=ObjecterOptions(inflight_ops=1, inflight_op_bytes=0))


def test_cancel_a_sent_op() -> None:
    async def body(w: World) -> None:
        o = w.objecter
        got: list[int] = []
        op = o.aio_operate("a", LOC, [ops.read(0, 1)], R, lambda r: got.append(r.result))
        assert o.cancel(op, -errno.ETIMEDOUT)
        assert got == [-errno.ETIMEDOUT]
        assert o.num_in_flight == 0
        assert o.budget.statistics().ops == 0
        (con, m), = w.ops_sent()
        w.reply(con, m)  # too late
        assert got == [-errno.ETIMEDOUT]

    run_world(body)


def test_shutdown_fails_queued_and_sent_ops() -> None:
    async def body(w: World) -> None:
        o = w.objecter
        got: list[tuple[str, int]] = []
        def finished(name: str) -> Callable[[OpResult], None]:
            return lambda r: got.append((name, r.result))

        for name in ("a", "b", "c"):
            o.aio_operate(name, LOC, [ops.read(0, 1)], R, finished(name))
        await o.shutdown()
        assert sorted(got) == [("a", -errno.ESHUTDOWN), ("b", -errno.ESHUTDOWN),
                               ("c", -errno.ESHUTDOWN)]
        assert len(w.ops_sent()) == 1
        late: list[int] = []
        o.aio_operate("d", LOC, [ops.read(0, 1)], R, lambda r: late.append(r.result))
        assert late == [-errno.ESHUTDOWN]

    run_world(body, options=ObjecterOptions(inflight_ops=1, inflight_op_bytes=0))


def test_budget_callback_and_coroutine_waiters_share_one_fifo() -> None:
    async def body() -> None:
        b = OpBudget(1, 0)
        order: list[str] = []
        assert b.try_take(0)
        b.wait(0, lambda: order.append("cb1"))
        coro = asyncio.ensure_future(b.take(0))
        coro.add_done_callback(lambda _: order.append("coro"))
        await asyncio.sleep(0)
        w3 = b.wait(0, lambda: order.append("cb3"))
        assert b.statistics().waiters == 3
        b.put(0)  # cb1 granted at once
        assert order == ["cb1"]
        b.put(0)  # the coroutine's turn
        await coro
        await asyncio.sleep(0)
        assert order == ["cb1", "coro"]
        assert b.cancel(w3)
        assert b.cancel(w3)  # cancelling twice is harmless
        b.put(0)
        assert order == ["cb1", "coro"]
        assert b.statistics().ops == 0
        assert b.try_take(0)  # nothing left in the queue

    run(body)


def test_cancelled_head_waiter_does_not_block_try_take() -> None:
    b = OpBudget(1, 0)
    assert b.try_take(0)
    w = b.wait(0, lambda: None)
    b.put(0)  # granted to w
    assert w.granted
    b.put(0)
    w2 = b.wait(0, lambda: None)  # queued behind nothing: try_take was not asked
    assert b.cancel(w2)
    assert b.try_take(0)
