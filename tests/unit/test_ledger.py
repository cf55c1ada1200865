"""The synthetic workload's ledger (asyncmsgr.testing.ledger), without sockets.

Each violation kind is produced on purpose and must be detected; the excuses
(reset callbacks, mark_down of a link) must excuse exactly what they cover.
"""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest

from asyncmsgr.testing import ledger as ledger_module
from asyncmsgr.testing.ledger import (
    HEADER,
    Header,
    Ledger,
    PayloadTable,
    StreamKey,
    Verdict,
)

PRIO = 127
CLIENT, SERVER = 1, 0
CONN, LINK = 11, 11


def table() -> PayloadTable:
    return PayloadTable(count=8, min_size=0, max_size=9000, seed=5)


def new_ledger() -> Ledger:
    return Ledger(table())


def send(led: Ledger, *, payload: int = 1, priority: int = PRIO, conn: int = CONN,
         link: int = LINK, sender: int = CLIENT, dest: int = SERVER) -> Header:
    return led.record_send(sender=sender, dest=dest, conn=conn, link=link,
                           priority=priority, payload=payload)


def deliver(led: Ledger, h: Header, *, receiver: int = SERVER,
            data: bytes | bytearray | memoryview | None = None) -> Verdict:
    body = led.payloads.payload(h.payload) if data is None else data
    return led.record_delivery(h.pack(), body, receiver=receiver).verdict


# -- payloads and headers --------------------------------------------------------------


def test_payload_table_is_deterministic_and_in_range() -> None:
    a = PayloadTable(count=20, min_size=32, max_size=5000, seed=9)
    b = PayloadTable(count=20, min_size=32, max_size=5000, seed=9)
    c = PayloadTable(count=20, min_size=32, max_size=5000, seed=10)
    assert a.sizes == b.sizes
    assert all(32 <= n <= 5000 for n in a.sizes)
    assert [bytes(a.payload(i)) for i in range(20)] == [bytes(b.payload(i)) for i in range(20)]
    assert [bytes(a.payload(i)) for i in range(20)] != [bytes(c.payload(i)) for i in range(20)]
    assert len(a) == 20
    assert a.payload(0).readonly


def test_payloads_of_equal_size_differ() -> None:
    t = PayloadTable(count=2, min_size=100, max_size=100, seed=1)
    assert bytes(t.payload(0)) != bytes(t.payload(1))
    assert not t.matches(1, t.payload(0))


def test_payload_matches_exact_bytes_only() -> None:
    t = table()
    i = max(range(len(t)), key=lambda k: t.sizes[k])
    good = bytes(t.payload(i))
    assert t.matches(i, good)
    assert t.matches(i, bytearray(good))
    assert t.matches(i, memoryview(bytearray(good)))
    flipped = bytearray(good)
    flipped[len(flipped) // 2] ^= 1
    assert not t.matches(i, flipped)
    assert not t.matches(i, good[:-1])
    assert not t.matches(i, good + b"\0")
    assert not t.matches(len(t), good)
    assert not t.matches(-1, good)


def test_payload_table_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="payload table"):
        PayloadTable(count=0)
    with pytest.raises(ValueError, match="payload table"):
        PayloadTable(count=1, min_size=10, max_size=5)


def test_header_round_trip() -> None:
    key = StreamKey(sender=3, conn=1 << 40, generation=7, priority=200, link=99)
    h = Header(key=key, dest=4, counter=123456789, payload=42, stamp=1 << 60)
    packed = h.pack()
    assert len(packed) == HEADER.size == 52
    assert Header.unpack(packed) == h
    assert Header.unpack(memoryview(bytearray(packed))) == h


@pytest.mark.parametrize("data", [b"", b"x" * 51, b"x" * 53, b"XXXX" + bytes(48)])
def test_header_unpack_rejects_non_headers(data: bytes) -> None:
    assert Header.unpack(data) is None


# -- clean delivery ----------------------------------------------------------------------


def test_in_order_delivery_is_clean() -> None:
    led = new_ledger()
    hs = [send(led, payload=i % len(led.payloads)) for i in range(5)]
    assert [h.counter for h in hs] == [1, 2, 3, 4, 5]
    assert led.pending() == 5
    assert [deliver(led, h) for h in hs] == [Verdict.IN_ORDER] * 5
    s = led.stats()
    assert (s.sent, s.delivered, s.pending, s.lost) == (5, 5, 0, 0)
    assert (s.duplicated, s.reordered, s.corrupted) == (0, 0, 0)
    assert s.violations() == []
    assert s.samples == ()


def test_priorities_are_separate_streams() -> None:
    led = new_ledger()
    low = send(led, priority=127)
    high = send(led, priority=200)
    assert low.counter == high.counter == 1
    assert deliver(led, high) is Verdict.IN_ORDER  # a higher priority may overtake
    assert deliver(led, low) is Verdict.IN_ORDER
    assert led.stats().violations() == []


def test_each_connection_and_link_is_its_own_stream() -> None:
    led = new_ledger()
    a = send(led, conn=1, link=1)
    b = send(led, conn=2, link=2)
    c = send(led, conn=1, link=2)  # e.g. a server connection echoing for two links
    assert (a.counter, b.counter, c.counter) == (1, 1, 1)
    for h in (c, b, a):
        assert deliver(led, h) is Verdict.IN_ORDER


# -- violations --------------------------------------------------------------------------


def test_duplicate_is_detected() -> None:
    led = new_ledger()
    h = send(led)
    assert deliver(led, h) is Verdict.IN_ORDER
    assert deliver(led, h) is Verdict.DUPLICATED
    s = led.stats()
    assert (s.delivered, s.duplicated) == (1, 1)
    assert s.violations() == ["1 tracked messages duplicated"]
    assert "duplicate" in s.samples[0]


def test_duplicate_of_an_older_message_is_not_a_reorder() -> None:
    led = new_ledger()
    h1, h2 = send(led), send(led)
    deliver(led, h1)
    deliver(led, h2)
    assert deliver(led, h1) is Verdict.DUPLICATED
    assert led.stats().reordered == 0


def test_reorder_is_detected() -> None:
    led = new_ledger()
    h1, h2, h3 = send(led), send(led), send(led)
    assert deliver(led, h1) is Verdict.IN_ORDER
    assert deliver(led, h3) is Verdict.IN_ORDER  # a gap is not a verdict yet
    assert deliver(led, h2) is Verdict.REORDERED
    s = led.stats()
    assert (s.delivered, s.reordered, s.pending) == (3, 1, 0)
    assert s.violations() == ["1 tracked messages reordered"]


def test_flipped_byte_is_corruption() -> None:
    led = new_ledger()
    i = max(range(len(led.payloads)), key=lambda k: led.payloads.sizes[k])
    h = send(led, payload=i)
    bad = bytearray(led.payloads.payload(i))
    bad[-1] ^= 0x80
    assert deliver(led, h, data=bad) is Verdict.CORRUPTED
    s = led.stats()
    assert (s.delivered, s.corrupted, s.pending) == (1, 1, 0)  # arrived, but broken
    assert s.violations() == ["1 tracked messages corrupted"]


def test_truncated_payload_is_corruption() -> None:
    led = new_ledger()
    i = max(range(len(led.payloads)), key=lambda k: led.payloads.sizes[k])
    h = send(led, payload=i)
    assert deliver(led, h, data=bytes(led.payloads.payload(i))[:-1]) is Verdict.CORRUPTED


def test_wrong_payload_index_is_corruption() -> None:
    """The header claims another payload (and carries its bytes): still corrupt."""
    led = new_ledger()
    h = send(led, payload=1)
    forged = Header(key=h.key, dest=h.dest, counter=h.counter, payload=2, stamp=0)
    assert deliver(led, forged) is Verdict.CORRUPTED


def test_wrong_receiver_is_corruption() -> None:
    led = new_ledger()
    h = send(led, dest=SERVER)
    assert deliver(led, h, receiver=SERVER + 5) is Verdict.CORRUPTED
    assert "delivered to" in led.stats().samples[0]


def test_unknown_stream_and_unsent_counter_are_corruption() -> None:
    led = new_ledger()
    h = send(led)
    other = Header(key=StreamKey(sender=9, conn=9, generation=0, priority=PRIO, link=9),
                   dest=SERVER, counter=1, payload=1, stamp=0)
    future = Header(key=h.key, dest=h.dest, counter=2, payload=1, stamp=0)
    zero = Header(key=h.key, dest=h.dest, counter=0, payload=1, stamp=0)
    assert deliver(led, other) is Verdict.CORRUPTED
    assert deliver(led, future) is Verdict.CORRUPTED
    assert deliver(led, zero) is Verdict.CORRUPTED
    s = led.stats()
    assert s.corrupted == 3
    assert s.delivered == 0
    assert s.pending == 1  # the real message is still owed


def test_garbage_header_is_corruption() -> None:
    led = new_ledger()
    arrival = led.record_delivery(b"not a header", b"", receiver=SERVER)
    assert arrival.verdict is Verdict.CORRUPTED
    assert arrival.header is None
    assert not arrival.ok
    assert led.stats().corrupted == 1


def test_missing_message_is_lost() -> None:
    led = new_ledger()
    h1, _h2, h3 = send(led), send(led), send(led)
    deliver(led, h1)
    deliver(led, h3)
    s = led.stats()
    assert (s.lost, s.discarded_by_reset, s.discarded_by_mark_down) == (1, 0, 0)
    assert s.violations() == ["1 tracked messages lost without a reset"]
    assert s.violations(loss_is_violation=False) == []
    assert "1 outstanding (first 2" in led.pending_streams()[0]


def test_samples_are_bounded() -> None:
    led = new_ledger()
    h = send(led)
    deliver(led, h)
    for _ in range(ledger_module.MAX_SAMPLES + 5):
        deliver(led, h)
    s = led.stats()
    assert s.duplicated == ledger_module.MAX_SAMPLES + 5
    assert len(s.samples) == ledger_module.MAX_SAMPLES


# -- excuses -----------------------------------------------------------------------------


def test_reset_excuses_the_closed_generation_only() -> None:
    led = new_ledger()
    old = [send(led) for _ in range(3)]
    deliver(led, old[0])
    led.close_connection(CLIENT, CONN)  # ms_handle_reset on the sender
    assert led.pending() == 0
    new = [send(led) for _ in range(2)]
    assert new[0].key.generation == old[0].key.generation + 1
    assert new[0].counter == 1
    assert led.pending() == 2
    deliver(led, new[0])
    s = led.stats()
    assert (s.discarded_by_reset, s.discarded_by_mark_down, s.lost) == (2, 0, 1)
    assert s.closed_streams == 1
    assert s.violations() == ["1 tracked messages lost without a reset"]


def test_reset_of_another_connection_excuses_nothing() -> None:
    led = new_ledger()
    send(led, conn=1, link=1)
    led.close_connection(CLIENT, 2)
    led.close_connection(SERVER, 1)  # same conn id, other messenger
    assert led.stats().lost == 1


def test_late_arrival_on_a_closed_generation_still_counts_once() -> None:
    """Sent just before the reset callback ran, delivered by the new session."""
    led = new_ledger()
    h1, _h2, h3 = send(led), send(led), send(led)
    led.close_connection(CLIENT, CONN)
    assert deliver(led, h1) is Verdict.IN_ORDER
    assert deliver(led, h3) is Verdict.IN_ORDER  # h2 discarded by the reset: no verdict
    assert deliver(led, h3) is Verdict.DUPLICATED  # still a violation when closed
    s = led.stats()
    assert (s.delivered, s.discarded_by_reset, s.pending, s.duplicated) == (2, 1, 0, 1)


def test_reorder_on_a_closed_generation_is_still_a_violation() -> None:
    led = new_ledger()
    h1, h2 = send(led), send(led)
    led.close_connection(CLIENT, CONN)
    deliver(led, h2)
    assert deliver(led, h1) is Verdict.REORDERED


def test_close_link_excuses_both_directions_now_and_later() -> None:
    led = new_ledger()
    request = send(led, sender=CLIENT, dest=SERVER, conn=CONN, link=LINK)
    deliver(led, request)
    echo = send(led, sender=SERVER, dest=CLIENT, conn=77, link=LINK)
    other = send(led, sender=SERVER, dest=CLIENT + 1, conn=77, link=LINK + 1)
    led.close_link(LINK)  # the workload marked the client connection down
    late_echo = send(led, sender=SERVER, dest=CLIENT, conn=77, link=LINK)
    assert led.pending() == 1  # only `other`
    assert late_echo.counter == echo.counter + 1
    deliver(led, other, receiver=CLIENT + 1)
    s = led.stats()
    assert (s.lost, s.discarded_by_mark_down, s.discarded_by_reset) == (0, 2, 0)
    assert s.violations() == []


def test_first_close_reason_wins() -> None:
    led = new_ledger()
    send(led)
    led.close_link(LINK)
    led.close_connection(CLIENT, CONN)
    s = led.stats()
    assert (s.discarded_by_mark_down, s.discarded_by_reset) == (1, 0)


def test_listener_runs_on_delivery_and_close() -> None:
    led = new_ledger()
    calls: list[int] = []
    led.set_listener(lambda: calls.append(led.pending()))
    h = send(led)
    send(led)
    assert calls == []
    deliver(led, h)
    led.close_connection(CLIENT, CONN)
    led.close_link(5)
    assert calls == [1, 0, 0]
    led.set_listener(None)
    deliver(led, send(led))
    assert len(calls) == 3


# -- threads and layering ------------------------------------------------------------------


def test_concurrent_senders_and_receivers_keep_exact_counts() -> None:
    """Per stream one sender thread and one receiver thread, many streams at once."""
    led = new_ledger()
    per_stream = 300
    streams = 6
    barrier = threading.Barrier(streams * 2)
    queues: list[list[Header]] = [[] for _ in range(streams)]
    conds = [threading.Condition() for _ in range(streams)]
    verdicts: list[Verdict] = []
    lock = threading.Lock()

    def sender(i: int) -> None:
        barrier.wait()
        for n in range(per_stream):
            h = send(led, conn=100 + i, link=100 + i, payload=n % len(led.payloads))
            with conds[i]:
                queues[i].append(h)
                conds[i].notify()

    def receiver(i: int) -> None:
        barrier.wait()
        for _ in range(per_stream):
            with conds[i]:
                conds[i].wait_for(lambda: bool(queues[i]))
                h = queues[i].pop(0)
            v = deliver(led, h)
            with lock:
                verdicts.append(v)

    threads = [threading.Thread(target=f, args=(i,)) for i in range(streams)
               for f in (sender, receiver)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    s = led.stats()
    assert verdicts == [Verdict.IN_ORDER] * (streams * per_stream)
    assert (s.sent, s.delivered, s.pending) == (streams * per_stream,) * 2 + (0,)


def test_ledger_module_does_no_io_and_reads_no_clock() -> None:
    """Pure bookkeeping: no asyncio, socket, selectors or time (threading for the lock)."""
    source = Path(ledger_module.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported  # the walk found the imports
    assert not imported & {"asyncio", "socket", "selectors", "time"}, imported
