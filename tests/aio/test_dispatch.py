"""Dispatch: PrioritizedQueue, DispatcherChain walks, DispatchQueue ordering and throttles.

Async tests run through ``asyncio.run``; nothing sleeps: tests await
``DispatchQueue.drain()`` or hand-made events.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import (
    Dispatcher,
    DispatcherChain,
    DispatchQueue,
    UnhandledMessage,
)
from asyncmsgr.message import Message, RawMessage
from asyncmsgr.pqueue import PrioritizedQueue
from asyncmsgr.types import EntityAddrVec, EntityName, UTime

# -- helpers ---------------------------------------------------------------------------


class FakeConnection(Connection):
    """The smallest Connection: an id and nothing else."""

    def __init__(self, conn_id: int) -> None:
        self.conn_id = conn_id

    def send_message(self, m: Message) -> None:
        pass

    def send_keepalive(self) -> None:
        pass

    def mark_down(self) -> None:
        pass

    def mark_disposable(self) -> None:
        pass

    def is_connected(self) -> bool:
        return True

    @property
    def peer_type(self) -> int:
        return 0

    @property
    def peer_addrs(self) -> EntityAddrVec:
        return EntityAddrVec()

    @property
    def peer_name(self) -> EntityName:
        return EntityName(0, 0)

    @property
    def features(self) -> int:
        return 0

    @property
    def is_loopback(self) -> bool:
        return False

    @property
    def is_anon(self) -> bool:
        return False

    @property
    def is_msgr2(self) -> bool:
        return True

    @property
    def last_keepalive(self) -> UTime:
        return UTime()

    @property
    def last_keepalive_ack(self) -> UTime:
        return UTime()


class Releases:
    """Counts release hooks (the policy throttles a message holds)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def hook(self) -> None:
        with self._lock:
            self.count += 1


def make_msg(q: DispatchQueue | None, con: Connection | None, tid: int, priority: int = 127,
             *, size: int = 100, data: bytes = b"", releases: Releases | None = None
             ) -> RawMessage:
    """A PING-typed raw message of ``con``, holding ``size`` bytes of ``q``'s throttle."""
    m = RawMessage(raw_type=2, tid=tid, priority=priority, front=b"x" * 8, data=data)
    m.connection = con
    if q is not None and size:
        q.throttle.take(size)
        m.dispatch_throttle_size = size
    if releases is not None:
        m.release_hook = releases.hook
    return m


def conn_id_of(m: Message) -> int:
    assert m.connection is not None
    return m.connection.conn_id


Event = tuple[str, int, int]  # (what, conn id, tid)


class Recorder(Dispatcher):
    """Handles everything and records it; ``name`` tags entries in a shared log."""

    def __init__(self, log: list[tuple[str, str]] | None = None, name: str = "r",
                 handled: bool = True) -> None:
        self.events: list[Event] = []
        self.log = log if log is not None else []
        self.name = name
        self.handled = handled

    def ms_dispatch(self, m: Message) -> bool:
        self.events.append(("msg", conn_id_of(m), m.tid))
        self.log.append((self.name, "dispatch"))
        return self.handled

    def ms_handle_connect(self, con: Connection) -> None:
        self.events.append(("connect", con.conn_id, 0))
        self.log.append((self.name, "connect"))

    def ms_handle_accept(self, con: Connection) -> None:
        self.events.append(("accept", con.conn_id, 0))
        self.log.append((self.name, "accept"))

    def ms_handle_reset(self, con: Connection) -> bool:
        self.events.append(("reset", con.conn_id, 0))
        self.log.append((self.name, "reset"))
        return self.handled

    def ms_handle_remote_reset(self, con: Connection) -> None:
        self.events.append(("remote_reset", con.conn_id, 0))
        self.log.append((self.name, "remote_reset"))

    def ms_handle_refused(self, con: Connection) -> bool:
        self.events.append(("refused", con.conn_id, 0))
        self.log.append((self.name, "refused"))
        return self.handled


class FastRecorder(Recorder):
    """A fast dispatcher: takes messages whose tid is in ``fast_tids`` (all if None)."""

    def __init__(self, log: list[tuple[str, str]] | None = None, name: str = "f",
                 fast_tids: set[int] | None = None) -> None:
        super().__init__(log, name)
        self.fast_tids = fast_tids
        self.fast: list[int] = []
        self.preprocessed: list[int] = []

    def ms_can_fast_dispatch_any(self) -> bool:
        return True

    def ms_can_fast_dispatch(self, m: Message) -> bool:
        return self.fast_tids is None or m.tid in self.fast_tids

    def ms_fast_dispatch(self, m: Message) -> None:
        self.fast.append(m.tid)
        self.log.append((self.name, "fast_dispatch"))

    def ms_fast_preprocess(self, m: Message) -> None:
        self.preprocessed.append(m.tid)
        self.log.append((self.name, "preprocess"))

    def ms_handle_fast_connect(self, con: Connection) -> None:
        self.log.append((self.name, "fast_connect"))

    def ms_handle_fast_accept(self, con: Connection) -> None:
        self.log.append((self.name, "fast_accept"))


def run(coro_fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(coro_fn())


def new_queue(*dispatchers: Dispatcher, throttle_bytes: int = 1 << 30,
              die_on_unhandled: bool = False) -> DispatchQueue:
    chain = DispatcherChain()
    for d in dispatchers:
        chain.add_tail(d)
    return DispatchQueue(chain, throttle_bytes=throttle_bytes, name="test",
                         die_on_unhandled=die_on_unhandled)


# -- PrioritizedQueue ------------------------------------------------------------------


def drain_pq(pq: PrioritizedQueue[str]) -> list[str]:
    out: list[str] = []
    while pq:
        out.append(pq.dequeue())
    return out


def test_pq_strict_priority_order() -> None:
    pq: PrioritizedQueue[str] = PrioritizedQueue()
    for prio in (64, 200, 127, 255, 196):
        pq.enqueue_strict(1, prio, f"p{prio}")
    assert len(pq) == 5
    assert drain_pq(pq) == ["p255", "p200", "p196", "p127", "p64"]
    assert pq.empty()
    with pytest.raises(IndexError):
        pq.dequeue()


def test_pq_fifo_per_class() -> None:
    pq: PrioritizedQueue[str] = PrioritizedQueue()
    for i in range(50):
        pq.enqueue_strict(7, 127, f"a{i}")
    assert drain_pq(pq) == [f"a{i}" for i in range(50)]


def test_pq_round_robin_between_classes() -> None:
    pq: PrioritizedQueue[str] = PrioritizedQueue()
    # class 3 arrives first, so it is ``cur``; then classes are visited in key order
    for cl in (3, 1, 2):
        for i in range(3):
            pq.enqueue_strict(cl, 127, f"c{cl}.{i}")
    assert drain_pq(pq) == ["c3.0", "c1.0", "c2.0", "c3.1", "c1.1", "c2.1",
                            "c3.2", "c1.2", "c2.2"]


def test_pq_round_robin_class_joins_and_leaves() -> None:
    pq: PrioritizedQueue[str] = PrioritizedQueue()
    pq.enqueue_strict(1, 127, "a0")
    pq.enqueue_strict(1, 127, "a1")
    pq.enqueue_strict(5, 127, "b0")
    assert pq.dequeue() == "a0"  # cur moves on to class 5
    pq.enqueue_strict(3, 127, "c0")  # joins between 1 and 5: served after 5, before 1
    assert drain_pq(pq) == ["b0", "a1", "c0"]


def test_pq_per_class_fifo_across_many_classes() -> None:
    pq: PrioritizedQueue[str] = PrioritizedQueue()
    for i in range(30):
        for cl in (4, 2, 9):
            pq.enqueue_strict(cl, 127, f"{cl}:{i}")
    out = drain_pq(pq)
    for cl in (4, 2, 9):
        assert [x for x in out if x.startswith(f"{cl}:")] == [f"{cl}:{i}" for i in range(30)]
    # one item per class in turn
    assert [x.split(":")[0] for x in out[:6]] == ["4", "9", "2", "4", "9", "2"]


def test_pq_strict_before_token_bucket() -> None:
    pq: PrioritizedQueue[str] = PrioritizedQueue()
    pq.enqueue(1, 63, 10, "low63")
    pq.enqueue(1, 10, 10, "low10")
    pq.enqueue_strict(1, 64, "strict64")
    assert pq.dequeue() == "strict64"
    # nobody has tokens yet: the highest low priority goes first
    assert drain_pq(pq) == ["low63", "low10"]


def test_pq_token_bucket_sequence() -> None:
    # priorities 1 and 2, cost 30, total_priority 3: hand-computed from Ceph's rules.
    # step 1: tokens (0, 0), nobody can pay -> p2; +11/+21 -> (11, 21)
    # step 2: 30 < 11? 30 < 21? no -> p2; -> (22, 42)
    # step 3: p1 no, p2 30 < 42 -> p2 pays (12); -> (33, 33)
    # step 4: p1 30 < 33 -> p1 pays (3); -> (14, 54)  (both could pay: the lower
    #         priority wins, as Ceph scans from queue.begin())
    # step 5: p1 no, p2 30 < 54 -> p2 pays (24); -> (25, 45)
    pq: PrioritizedQueue[str] = PrioritizedQueue(max_tokens_per_subqueue=1000, min_cost=1)
    for i in range(10):
        pq.enqueue(1, 1, 30, f"p1.{i}")
        pq.enqueue(1, 2, 30, f"p2.{i}")
    out = drain_pq(pq)
    assert [x.split(".")[0] for x in out[:5]] == ["p2", "p2", "p2", "p1", "p2"]
    assert sorted(out) == sorted([f"p1.{i}" for i in range(10)] + [f"p2.{i}" for i in range(10)])
    for p in ("p1", "p2"):
        assert [x for x in out if x.startswith(p + ".")] == [f"{p}.{i}" for i in range(10)]


def test_pq_token_bucket_low_priority_not_starved() -> None:
    pq: PrioritizedQueue[str] = PrioritizedQueue(max_tokens_per_subqueue=10_000, min_cost=1)
    for i in range(200):
        pq.enqueue(1, 60, 30, f"hi.{i}")
        pq.enqueue(2, 1, 30, f"lo.{i}")
    out = drain_pq(pq)
    assert len(out) == 400
    first_lo = next(i for i, x in enumerate(out) if x.startswith("lo."))
    last_hi = max(i for i, x in enumerate(out) if x.startswith("hi."))
    assert first_lo < 40 < last_hi  # served long before the high priority is drained
    # ... but the high priority gets most of the early turns
    assert sum(x.startswith("hi.") for x in out[:100]) > 75


def test_pq_cost_clamped() -> None:
    pq: PrioritizedQueue[str] = PrioritizedQueue(max_tokens_per_subqueue=100, min_cost=50)
    pq.enqueue(1, 5, 1, "cheap")  # cost raised to 50
    pq.enqueue(1, 6, 10**9, "dear")  # cost capped at 100
    assert drain_pq(pq) == ["dear", "cheap"]
    with pytest.raises(ValueError):
        PrioritizedQueue[str](max_tokens_per_subqueue=0)


def test_pq_remove_by_class() -> None:
    pq: PrioritizedQueue[str] = PrioritizedQueue()
    pq.enqueue_strict(1, 127, "a0")
    pq.enqueue_strict(2, 127, "b0")
    pq.enqueue_strict(1, 127, "a1")
    pq.enqueue_strict(1, 200, "a2")
    pq.enqueue(1, 10, 0, "a3")
    pq.enqueue(2, 10, 0, "b1")
    assert pq.length_by_priority() == {200: 1, 127: 3, 10: 2}
    removed = pq.remove_by_class(1)
    assert sorted(removed) == ["a0", "a1", "a2", "a3"]
    assert [x for x in removed if x in ("a0", "a1")] == ["a0", "a1"]
    assert len(pq) == 2
    assert pq.length_by_priority() == {127: 1, 10: 1}
    assert pq.remove_by_class(99) == []
    assert drain_pq(pq) == ["b0", "b1"]


def test_pq_remove_current_class_keeps_round_robin() -> None:
    pq: PrioritizedQueue[str] = PrioritizedQueue()
    for cl in (1, 2, 3):
        pq.enqueue_strict(cl, 127, f"c{cl}.0")
        pq.enqueue_strict(cl, 127, f"c{cl}.1")
    assert pq.dequeue() == "c1.0"  # cur -> class 2
    assert pq.remove_by_class(2) == ["c2.0", "c2.1"]  # cur -> class 3
    assert drain_pq(pq) == ["c3.0", "c1.1", "c3.1"]


def test_pq_remove_by_filter_and_clear() -> None:
    pq: PrioritizedQueue[str] = PrioritizedQueue()
    for i in range(6):
        pq.enqueue_strict(i % 2, 127, f"s{i}")
        pq.enqueue(i % 2, 5, 0, f"t{i}")
    removed = pq.remove_by_filter(lambda x: x.endswith(("0", "3")))
    assert sorted(removed) == ["s0", "s3", "t0", "t3"]
    assert len(pq) == 8
    assert sorted(pq) == sorted(f"{k}{i}" for k in "st" for i in (1, 2, 4, 5))
    assert sorted(pq.clear()) == sorted(f"{k}{i}" for k in "st" for i in (1, 2, 4, 5))
    assert pq.empty()
    assert pq.length_by_priority() == {}


# -- DispatcherChain -------------------------------------------------------------------


def test_chain_head_tail_and_fast_membership() -> None:
    chain = DispatcherChain()
    a, b = Recorder(name="a"), FastRecorder(name="b")
    c, d = FastRecorder(name="c"), Recorder(name="d")
    chain.add_tail(a)
    chain.add_tail(b)
    chain.add_head(c)
    chain.add_head(d)
    assert chain.dispatchers == (d, c, a, b)
    assert chain.fast_dispatchers == (c, b)
    with pytest.raises(ValueError):
        chain.add_tail(a)


def test_chain_rejects_async_fast_methods() -> None:
    class Bad(Dispatcher):
        async def ms_fast_preprocess(self, m: Message) -> None:  # type: ignore[override]
            pass

    chain = DispatcherChain()
    with pytest.raises(TypeError, match="ms_fast_preprocess"):
        chain.add_tail(Bad())
    assert chain.dispatchers == ()


def test_chain_dispatch_stops_at_first_true() -> None:
    async def main() -> None:
        log: list[tuple[str, str]] = []
        chain = DispatcherChain()
        chain.add_tail(Recorder(log, "a", handled=False))
        chain.add_tail(Recorder(log, "b", handled=True))
        chain.add_tail(Recorder(log, "c", handled=True))
        m = make_msg(None, FakeConnection(1), 1)
        assert await chain.deliver_dispatch(m) is True
        assert log == [("a", "dispatch"), ("b", "dispatch")]

    run(main)


def test_chain_reset_refused_stop_at_first_true() -> None:
    async def main() -> None:
        log: list[tuple[str, str]] = []
        chain = DispatcherChain()
        chain.add_tail(Recorder(log, "a", handled=False))
        chain.add_tail(Recorder(log, "b", handled=True))
        chain.add_tail(Recorder(log, "c", handled=False))
        con = FakeConnection(3)
        assert await chain.deliver_reset(con) is True
        assert await chain.deliver_refused(con) is True
        assert log == [("a", "reset"), ("b", "reset"), ("a", "refused"), ("b", "refused")]

        log2: list[tuple[str, str]] = []
        none = DispatcherChain()
        none.add_tail(Recorder(log2, "x", handled=False))
        assert await none.deliver_reset(con) is False
        assert await none.deliver_refused(con) is False
        assert await DispatcherChain().deliver_reset(con) is False

    run(main)


def test_chain_connect_accept_remote_reset_reach_all() -> None:
    async def main() -> None:
        log: list[tuple[str, str]] = []
        chain = DispatcherChain()
        chain.add_tail(Recorder(log, "a", handled=True))
        chain.add_tail(FastRecorder(log, "b"))
        chain.add_head(Recorder(log, "c", handled=True))
        con = FakeConnection(2)
        await chain.deliver_connect(con)
        await chain.deliver_accept(con)
        await chain.deliver_remote_reset(con)
        assert log == [(n, ev) for ev in ("connect", "accept", "remote_reset")
                       for n in ("c", "a", "b")]

    run(main)


def test_chain_fast_callbacks() -> None:
    log: list[tuple[str, str]] = []
    chain = DispatcherChain()
    slow = Recorder(log, "slow")
    f1 = FastRecorder(log, "f1", fast_tids={1})
    f2 = FastRecorder(log, "f2", fast_tids={1, 2})
    chain.add_tail(slow)
    chain.add_tail(f1)
    chain.add_tail(f2)
    con = FakeConnection(1)
    m1, m2, m3 = (make_msg(None, con, t) for t in (1, 2, 3))
    assert chain.can_fast_dispatch(m1)
    assert chain.can_fast_dispatch(m2)
    assert not chain.can_fast_dispatch(m3)
    chain.fast_preprocess(m1)
    assert log == [("f1", "preprocess"), ("f2", "preprocess")]
    log.clear()
    assert chain.fast_dispatch(m1)
    assert chain.fast_dispatch(m2)
    assert (f1.fast, f2.fast) == ([1], [2])
    log.clear()
    chain.fast_connect(con)
    chain.fast_accept(con)
    assert log == [("f1", "fast_connect"), ("f2", "fast_connect"),
                   ("f1", "fast_accept"), ("f2", "fast_accept")]
    assert not chain.fast_dispatch(m3)  # nobody takes it: logged, dropped


def test_chain_async_and_sync_handlers_mixed() -> None:
    class AsyncNo(Dispatcher):
        def __init__(self, log: list[str]) -> None:
            self.log = log

        async def ms_dispatch(self, m: Message) -> bool:
            await asyncio.sleep(0)
            self.log.append(f"async-no {m.tid}")
            return False

        async def ms_handle_connect(self, con: Connection) -> None:
            await asyncio.sleep(0)
            self.log.append("async-connect")

        async def ms_handle_reset(self, con: Connection) -> bool:
            self.log.append("async-reset")
            return True

    class SyncYes(Dispatcher):
        def __init__(self, log: list[str]) -> None:
            self.log = log

        def ms_dispatch(self, m: Message) -> bool:
            self.log.append(f"sync-yes {m.tid}")
            return True

        def ms_handle_connect(self, con: Connection) -> None:
            self.log.append("sync-connect")

        def ms_handle_reset(self, con: Connection) -> bool:
            self.log.append("sync-reset")
            return True

    async def main() -> None:
        log: list[str] = []
        chain = DispatcherChain()
        chain.add_tail(AsyncNo(log))
        chain.add_tail(SyncYes(log))
        con = FakeConnection(1)
        assert await chain.deliver_dispatch(make_msg(None, con, 7))
        await chain.deliver_connect(con)
        assert await chain.deliver_reset(con)
        assert log == ["async-no 7", "sync-yes 7", "async-connect", "sync-connect",
                       "async-reset"]

    run(main)


def test_chain_raising_handler_is_logged_and_walk_continues(
        caplog: pytest.LogCaptureFixture) -> None:
    class Boom(Dispatcher):
        def ms_dispatch(self, m: Message) -> bool:
            raise RuntimeError("boom-dispatch")

        async def ms_handle_connect(self, con: Connection) -> None:
            raise RuntimeError("boom-connect")

        def ms_handle_reset(self, con: Connection) -> bool:
            raise RuntimeError("boom-reset")

    async def main() -> None:
        log: list[tuple[str, str]] = []
        chain = DispatcherChain()
        chain.add_tail(Boom())
        chain.add_tail(Recorder(log, "after"))
        con = FakeConnection(1)
        with caplog.at_level(logging.ERROR, logger="asyncmsgr.ms.dispatch"):
            assert await chain.deliver_dispatch(make_msg(None, con, 1)) is True
            await chain.deliver_connect(con)
            assert await chain.deliver_reset(con) is True
        # dispatch and reset count the raise as handled; connect reaches everyone
        assert log == [("after", "connect")]
        messages = [r.getMessage() for r in caplog.records]
        assert any("ms_dispatch" in t for t in messages)
        assert any("ms_handle_connect" in t for t in messages)
        assert all(r.exc_info is not None for r in caplog.records)
        assert {str(r.exc_info[1]) for r in caplog.records if r.exc_info} == {
            "boom-dispatch", "boom-connect", "boom-reset"}

    run(main)


def test_chain_unhandled_logs_or_raises(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        chain = DispatcherChain()
        chain.add_tail(Recorder(handled=False))
        m = make_msg(None, FakeConnection(1), 1)
        with caplog.at_level(logging.DEBUG, logger="asyncmsgr.ms.dispatch"):
            assert await chain.deliver_dispatch(m) is False
        assert any("unhandled message" in r.getMessage() and r.levelno == logging.DEBUG
                   for r in caplog.records)
        with pytest.raises(UnhandledMessage) as info:
            await chain.deliver_dispatch(m, die_on_unhandled=True)
        assert isinstance(info.value, AssertionError)
        assert info.value.message is m

    run(main)


# -- DispatchQueue ---------------------------------------------------------------------


def test_queue_fifo_per_connection_within_priority() -> None:
    async def main() -> None:
        rec = Recorder()
        q = new_queue(rec)
        releases = Releases()
        cons = [FakeConnection(i) for i in (1, 2, 3)]
        q.start()
        for tid in range(300):
            con = cons[tid % 3]
            q.enqueue(make_msg(q, con, tid, releases=releases), 127, con.conn_id)
        await q.drain()
        for con in cons:
            tids = [t for _w, c, t in rec.events if c == con.conn_id]
            assert tids == list(range(con.conn_id - 1, 300, 3))
        assert releases.count == 300
        assert q.throttle.current == 0
        stats = q.statistics()
        assert (stats.enqueued, stats.dispatched, stats.queued) == (300, 300, 0)
        await q.shutdown()

    run(main)


def test_queue_round_robin_between_connections() -> None:
    async def main() -> None:
        rec = Recorder()
        q = new_queue(rec)
        for conn_id in (1, 2):
            con = FakeConnection(conn_id)
            for i in range(3):
                q.enqueue(make_msg(q, con, conn_id * 10 + i), 127, conn_id)
        q.start()  # everything is queued before the task runs: deterministic
        await q.drain()
        assert [t for _w, _c, t in rec.events] == [10, 20, 11, 21, 12, 22]
        await q.shutdown()

    run(main)


def test_queue_higher_priority_overtakes() -> None:
    async def main() -> None:
        rec = Recorder()
        q = new_queue(rec)
        con = FakeConnection(1)
        for tid, prio in ((1, 127), (2, 127), (3, 196), (4, 10), (5, 255), (6, 127)):
            q.enqueue(make_msg(q, con, tid), prio, 1)
        assert q.statistics().depth_by_priority == {255: 1, 196: 1, 127: 3, 10: 1}
        q.start()
        await q.drain()
        assert [t for _w, _c, t in rec.events] == [5, 3, 1, 2, 6, 4]
        assert q.throttle.current == 0
        await q.shutdown()

    run(main)


def test_queue_code_items_overtake_messages() -> None:
    async def main() -> None:
        rec = Recorder()
        q = new_queue(rec)
        con = FakeConnection(4)
        for tid in range(3):
            q.enqueue(make_msg(q, con, tid), 196, 4)
        q.queue_connect(con)
        q.queue_accept(con)
        q.queue_remote_reset(con)
        q.queue_reset(con)
        q.queue_refused(con)
        assert q.get_queue_len() == 8
        q.start()
        await q.drain()
        assert rec.events == [("connect", 4, 0), ("accept", 4, 0), ("remote_reset", 4, 0),
                              ("reset", 4, 0), ("refused", 4, 0),
                              ("msg", 4, 0), ("msg", 4, 1), ("msg", 4, 2)]
        assert q.statistics().codes_delivered == 5
        await q.shutdown()

    run(main)


def test_queue_code_overtakes_while_handler_blocked() -> None:
    class Blocking(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.entered = asyncio.Event()
            self.release = asyncio.Event()

        async def ms_dispatch(self, m: Message) -> bool:  # type: ignore[override]
            if m.tid == 0:
                self.entered.set()
                await self.release.wait()
            self.events.append(("msg", conn_id_of(m), m.tid))
            return True

    async def main() -> None:
        rec = Blocking()
        q = new_queue(rec)
        con = FakeConnection(1)
        q.start()
        q.enqueue(make_msg(q, con, 0), 127, 1)
        await rec.entered.wait()
        assert q.statistics().dispatching
        q.enqueue(make_msg(q, con, 1), 127, 1)
        q.enqueue(make_msg(q, con, 2), 127, 1)
        q.queue_connect(con)
        rec.release.set()
        await q.drain()
        assert rec.events == [("msg", 1, 0), ("connect", 1, 0), ("msg", 1, 1), ("msg", 1, 2)]
        await q.shutdown()

    run(main)


def test_queue_async_handlers_keep_order() -> None:
    class Slow(Dispatcher):
        def __init__(self) -> None:
            self.active = 0
            self.seen: list[int] = []

        async def ms_dispatch(self, m: Message) -> bool:
            self.active += 1
            assert self.active == 1  # one handler at a time
            for _ in range(m.tid % 3):
                await asyncio.sleep(0)
            self.seen.append(m.tid)
            self.active -= 1
            return True

    async def main() -> None:
        d = Slow()
        q = new_queue(d)
        q.start()
        con = FakeConnection(1)
        for tid in range(50):
            q.enqueue(make_msg(q, con, tid), 127, 1)
        await q.drain()
        assert d.seen == list(range(50))
        await q.shutdown()

    run(main)


def test_queue_raising_handler_does_not_kill_queue(caplog: pytest.LogCaptureFixture) -> None:
    class Flaky(Recorder):
        def ms_dispatch(self, m: Message) -> bool:
            if m.tid % 2:
                raise ValueError(f"bad {m.tid}")
            return super().ms_dispatch(m)

    async def main() -> None:
        rec = Flaky()
        q = new_queue(rec)
        releases = Releases()
        con = FakeConnection(1)
        q.start()
        with caplog.at_level(logging.ERROR, logger="asyncmsgr.ms.dispatch"):
            for tid in range(10):
                q.enqueue(make_msg(q, con, tid, releases=releases), 127, 1)
            await q.drain()
        assert [t for _w, _c, t in rec.events] == [0, 2, 4, 6, 8]
        assert len([r for r in caplog.records if r.exc_info]) == 5
        assert releases.count == 10
        assert q.throttle.current == 0
        assert q.statistics().dispatched == 10
        await q.shutdown()

    run(main)


def test_queue_die_on_unhandled() -> None:
    async def main() -> None:
        q = new_queue(Recorder(handled=False), die_on_unhandled=True)
        releases = Releases()
        con = FakeConnection(1)
        for tid in range(3):
            q.enqueue(make_msg(q, con, tid, releases=releases), 127, 1)
        q.start()
        with pytest.raises(UnhandledMessage):
            await q.drain()
        # the task stopped and released everything it held
        assert releases.count == 3
        assert q.throttle.current == 0
        assert q.statistics().stopped
        with pytest.raises(UnhandledMessage):
            await q.shutdown()
        await q.shutdown()  # raised once; idempotent afterwards

    run(main)


def test_queue_fast_dispatch_inline() -> None:
    async def main() -> None:
        log: list[tuple[str, str]] = []
        fast = FastRecorder(log)
        q = new_queue(fast)
        releases = Releases()
        m = make_msg(q, FakeConnection(1), 42, size=500, releases=releases)
        assert q.throttle.current == 500
        assert q.chain.can_fast_dispatch(m)
        assert q.fast_dispatch(m)  # synchronous: done on return, no task needed
        assert fast.fast == [42]
        assert m.dispatch_stamp > 0
        assert m.dispatch_throttle_size == 0
        assert q.throttle.current == 0
        assert releases.count == 1
        assert q.statistics().fast_dispatched == 1
        q.start()
        with pytest.raises(RuntimeError):
            q.start()  # the second start fails
        # nobody takes it any more: logged, dropped, throttles still released
        fast.fast_tids = set()
        m2 = make_msg(q, FakeConnection(1), 43, size=10, releases=releases)
        assert not q.fast_dispatch(m2)
        assert q.throttle.current == 0
        assert releases.count == 2
        await q.shutdown()

    run(main)


def test_queue_fast_dispatch_default_raises_is_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    class Half(Dispatcher):  # claims fast dispatch but keeps the default handler
        def ms_can_fast_dispatch_any(self) -> bool:
            return True

        def ms_can_fast_dispatch(self, m: Message) -> bool:
            return True

    q = new_queue(Half())
    m = make_msg(q, FakeConnection(1), 1)
    with caplog.at_level(logging.ERROR, logger="asyncmsgr.ms.dispatch"):
        assert q.fast_dispatch(m)
    assert any(r.exc_info and isinstance(r.exc_info[1], NotImplementedError)
               for r in caplog.records)
    assert q.throttle.current == 0


def test_queue_local_delivery() -> None:
    async def main() -> None:
        log: list[tuple[str, str]] = []
        fast = FastRecorder(log, fast_tids={2, 4})
        q = new_queue(fast)
        releases = Releases()
        loopback = FakeConnection(0)
        msgs = [make_msg(q, loopback, tid, releases=releases) for tid in range(6)]
        q.local_delivery(msgs[0], 127)  # before start: waits for start()
        q.start()
        for m in msgs[1:]:
            q.local_delivery(m, 127)
        await q.drain()
        assert fast.preprocessed == [0, 1, 2, 3, 4, 5]
        assert fast.fast == [2, 4]
        assert [t for _w, _c, t in fast.events] == [0, 1, 3, 5]
        assert all(m.recv_stamp > 0 and m.recv_complete_stamp == m.recv_stamp for m in msgs)
        assert releases.count == 6
        assert q.throttle.current == 0
        stats = q.statistics()
        assert (stats.local_delivered, stats.fast_dispatched, stats.dispatched) == (6, 2, 4)
        await q.shutdown()

    run(main)


def test_queue_discard_queue_releases_throttles() -> None:
    async def main() -> None:
        rec = Recorder()
        q = new_queue(rec)
        rel1, rel2 = Releases(), Releases()
        c1, c2 = FakeConnection(1), FakeConnection(2)
        for tid in range(5):
            q.enqueue(make_msg(q, c1, tid, 127, size=10, releases=rel1), 127, 1)
            q.enqueue(make_msg(q, c2, 100 + tid, 50, size=7, releases=rel2), 50, 2)
        q.enqueue(make_msg(q, c1, 99, 200, size=10, releases=rel1), 200, 1)
        assert q.throttle.current == 6 * 10 + 5 * 7
        assert q.discard_queue(1) == 6
        assert rel1.count == 6
        assert rel2.count == 0
        assert q.throttle.current == 5 * 7
        assert q.discard_queue(1) == 0
        with pytest.raises(ValueError):
            q.discard_queue(0)
        q.start()
        await q.drain()
        assert [t for _w, _c, t in rec.events] == [100 + i for i in range(5)]
        assert rel2.count == 5
        assert q.throttle.current == 0
        stats = q.statistics()
        assert (stats.discarded, stats.dispatched) == (6, 5)
        await q.shutdown()

    run(main)


def test_queue_burst_from_foreign_thread() -> None:
    n_msgs, n_conns = 10_000, 4

    async def main() -> None:
        rec = Recorder()
        q = new_queue(rec, throttle_bytes=1 << 40)
        releases = Releases()
        cons = [FakeConnection(i + 1) for i in range(n_conns)]
        q.start()

        def producer() -> None:
            for tid in range(n_msgs):
                con = cons[tid % n_conns]
                prio = 127 if tid % 5 else 196
                m = make_msg(None, con, tid, prio, releases=releases)
                assert q.throttle.get_or_fail(64)
                m.dispatch_throttle_size = 64
                q.enqueue(m, prio, con.conn_id)
                if tid % 1000 == 0:
                    q.queue_connect(con)

        await asyncio.to_thread(producer)
        await q.drain()
        msgs = [(c, t) for w, c, t in rec.events if w == "msg"]
        assert len(msgs) == n_msgs
        for con in cons:
            for prio_is_high in (False, True):
                tids = [t for c, t in msgs if c == con.conn_id and (t % 5 == 0) == prio_is_high]
                expect = [t for t in range(con.conn_id - 1, n_msgs, n_conns)
                          if (t % 5 == 0) == prio_is_high]
                assert tids == expect
        assert sum(w == "connect" for w, _c, _t in rec.events) == n_msgs // 1000
        assert releases.count == n_msgs
        assert q.throttle.current == 0
        assert q.get_queue_len() == 0
        assert q.get_max_age(0.0) == 0.0
        await q.shutdown()

    run(main)


def test_queue_started_on_foreign_loop() -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        done = threading.Event()

        class Signal(Recorder):
            def ms_dispatch(self, m: Message) -> bool:
                super().ms_dispatch(m)
                if m.tid == 99:
                    done.set()
                return True

        rec = Signal()
        q = new_queue(rec)
        q.start(loop)  # from this (non-loop) thread
        con = FakeConnection(1)
        for tid in range(100):
            q.enqueue(make_msg(q, con, tid), 127, 1)
        q.local_delivery(make_msg(q, FakeConnection(0), 1000), 127)
        assert done.wait(10)
        asyncio.run_coroutine_threadsafe(q.drain(), loop).result(10)
        assert [t for _w, c, t in rec.events if c == 1] == list(range(100))
        assert (("msg", 0, 1000)) in rec.events
        asyncio.run_coroutine_threadsafe(q.shutdown(), loop).result(10)
        assert q.throttle.current == 0
        assert not q.statistics().running
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_queue_shutdown_discards_and_releases() -> None:
    async def main() -> None:
        rec = Recorder()
        q = new_queue(rec)
        releases = Releases()
        con = FakeConnection(1)
        for tid in range(20):
            q.enqueue(make_msg(q, con, tid, 127 if tid % 2 else 20, data=b"d" * tid,
                               releases=releases), 127 if tid % 2 else 20, 1)
        q.queue_connect(con)
        q.local_delivery(make_msg(q, FakeConnection(0), 500, releases=releases), 127)
        q.start()
        await q.shutdown()  # before the task ever ran
        assert rec.events == []
        assert releases.count == 21
        assert q.throttle.current == 0
        stats = q.statistics()
        assert (stats.queued, stats.discarded, stats.running, stats.stopped) == (
            0, 21, False, True)
        # after shutdown: dropped, throttles released
        q.enqueue(make_msg(q, con, 30, releases=releases), 127, 1)
        q.local_delivery(make_msg(q, con, 31, releases=releases), 127)
        q.queue_connect(con)
        assert releases.count == 23
        assert q.throttle.current == 0
        assert q.get_queue_len() == 0
        await q.shutdown()  # idempotent
        await q.drain()  # nothing left to wait for
        with pytest.raises(RuntimeError):
            q.start()

    run(main)


def test_queue_shutdown_waits_for_running_handler() -> None:
    class Gate(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.entered = asyncio.Event()
            self.release = asyncio.Event()

        async def ms_dispatch(self, m: Message) -> bool:  # type: ignore[override]
            self.entered.set()
            await self.release.wait()
            self.events.append(("msg", conn_id_of(m), m.tid))
            return True

    async def main() -> None:
        rec = Gate()
        q = new_queue(rec)
        releases = Releases()
        con = FakeConnection(1)
        q.start()
        for tid in range(5):
            q.enqueue(make_msg(q, con, tid, releases=releases), 127, 1)
        await rec.entered.wait()
        stop = asyncio.create_task(q.shutdown())
        await asyncio.sleep(0)
        assert releases.count == 4  # the queued ones were dropped at once
        assert not stop.done()
        rec.release.set()
        await stop
        assert rec.events == [("msg", 1, 0)]
        assert releases.count == 5
        assert q.throttle.current == 0

    run(main)


def test_queue_get_max_age_and_statistics() -> None:
    async def main() -> None:
        rec = Recorder()
        q = new_queue(rec)
        con = FakeConnection(1)
        assert q.get_max_age(1000.0) == 0.0
        m1 = make_msg(q, con, 1)
        m1.recv_stamp = 100.0
        m2 = make_msg(q, con, 2)
        m2.recv_stamp = 50.0
        m3 = make_msg(q, FakeConnection(2), 3)
        m3.recv_stamp = 75.0
        q.enqueue(m1, 127, 1)
        q.enqueue(m2, 127, 1)
        q.enqueue(m3, 10, 2)
        q.queue_accept(con)  # code items carry no arrival stamp
        assert q.get_max_age(200.0) == 150.0
        stats = q.statistics()
        assert stats.queued == 4
        assert dict(stats.depth_by_priority) == {255: 1, 127: 2, 10: 1}
        assert list(stats.depth_by_priority) == [255, 127, 10]
        assert stats.throttle_current == 300
        assert stats.throttle_max == 1 << 30
        assert not stats.running
        with pytest.raises(TypeError):
            stats.depth_by_priority[1] = 2  # type: ignore[index]
        assert q.discard_queue(1) == 2
        assert q.get_max_age(200.0) == 125.0
        q.start()
        await q.drain()
        assert q.get_max_age(200.0) == 0.0
        assert q.statistics().running
        assert q.throttle.name == "msgr_dispatch_throttler-test"
        await q.shutdown()

    run(main)


def test_queue_drain_requires_start() -> None:
    async def main() -> None:
        q = new_queue(Recorder())
        await q.drain()  # empty: fine
        q.enqueue(make_msg(q, FakeConnection(1), 1), 127, 1)
        with pytest.raises(RuntimeError):
            await q.wait_empty()
        await q.shutdown()
        assert q.throttle.current == 0

    run(main)


def test_queue_get_id() -> None:
    q = new_queue()
    assert [q.get_id() for _ in range(3)] == [1, 2, 3]


def test_start_needs_a_loop() -> None:
    q = new_queue()
    with pytest.raises(RuntimeError):
        q.start()
