"""The READY message paths of ProtocolBase / ProtocolV2 with exact numbers: the
write batch budget, the ``msgr_*`` counters, the features a message is encoded
with, header2's zero fields, the receive stamps and seq rules (Ceph's
``handle_message``: an old message is dropped *before* its ack is looked at),
throttles taken on the fast path, aborted frames and unknown types."""

from __future__ import annotations

from typing import TypeVar

import pytest

from asyncmsgr.features import CEPH_FEATURE_RECONNECT_SEQ
from asyncmsgr.frames.assembler import LATE_STATUS_ABORTED, PREAMBLE_LEN
from asyncmsgr.message import Message, MsgHeader2, RawMessage
from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import ProtocolOptions, State
from asyncmsgr.testing.v2pair import ProtocolPair
from asyncmsgr.throttle import Throttle
from asyncmsgr.types import EntityName, EntityType

E = TypeVar("E")
PATHS = pytest.mark.parametrize("fast", [True, False], ids=["fast", "general"])


def of_type(events: list[ev.Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def received(events: list[ev.Event]) -> list[Message]:
    return [e.message for e in events if isinstance(e, ev.MessageReceived)]


def wire_of(side: ProtocolBase, now: float) -> bytes:
    return b"".join(bytes(c) for c in side.data_to_send(now))


def state(side: ProtocolBase) -> State:
    return side.state


class Counts:
    """Records ``inc`` and ``tinc_many`` exactly."""

    def __init__(self) -> None:
        self.n: dict[str, int] = {}
        self.lat: list[tuple[str, float, int]] = []

    def inc(self, name: str, n: int = 1) -> None:
        self.n[name] = self.n.get(name, 0) + n

    def tinc(self, name: str, seconds: float) -> None:
        self.lat.append((name, seconds, 1))

    def tinc_many(self, name: str, seconds: float, count: int) -> None:
        self.lat.append((name, seconds, count))


def ready_pair(fast: bool = True, **kw: object) -> ProtocolPair:
    p = ProtocolPair(options=ProtocolOptions(fast_path=fast), **kw)  # type: ignore[arg-type]
    p.handshake()
    p.client.events_received()
    p.server.events_received()
    return p


# -- writing ---------------------------------------------------------------------------


def test_write_counts_messages_bytes_and_queue_latency() -> None:
    p = ready_pair()
    c = p.client
    rec = Counts()
    c.counters = rec
    for stamp in (p.now - 0.5, p.now - 0.25, 0.0):  # 0: not stamped, not counted
        c.send_message(MPing(priority=127, send_stamp=stamp), p.now)
    c.send_keepalive(p.now)
    chunks = c.data_to_send(p.now)
    keepalive_len = len(bytes(chunks[0]))
    total = sum(len(bytes(x)) for x in chunks)
    assert rec.lat == [("msgr_send_messages_queue_lat", 0.75, 2)]
    assert rec.n == {"msgr_send_messages": 3, "msgr_send_bytes": total - keepalive_len}
    assert [m.seq for m in c.session.sent] == [1, 2, 3]


def test_message_is_encoded_with_the_connection_features() -> None:
    seen: list[int] = []

    class Recording(RawMessage):
        def encode_payload(self, features: int) -> None:
            seen.append(features)

    p = ready_pair()
    p.client.send_message(Recording(raw_type=0x7777, priority=127, front=b"f"), p.now)
    p.client.data_to_send(p.now)
    assert seen == [p.client.features]
    assert p.client.features != 0


def test_write_batch_budget_is_exact() -> None:
    """Messages are taken while budget remains (> 0); each costs its segments
    plus MESSAGE_OVERHEAD."""

    def msg() -> RawMessage:
        return RawMessage(raw_type=0x7777, priority=127, front=b"f" * 100,
                          middle=b"m" * 50, data=b"d" * 30)

    cost = 100 + 50 + 30 + ready_pair().client.MESSAGE_OVERHEAD
    for budget, batches in ((cost, [1, 1, 1]), (cost + 1, [2, 1]), (3 * cost, [3])):
        p = ProtocolPair(options=ProtocolOptions(write_batch_bytes=budget))
        p.handshake()
        c = p.client
        for _ in range(3):
            c.send_message(msg(), p.now)
        got = []
        while c.has_data_to_send():
            before = c.session.out_seq
            c.data_to_send(p.now)
            got.append(c.session.out_seq - before)
        assert got == batches, budget


def test_header2_zero_fields_and_piggy_backed_ack() -> None:
    p = ready_pair()
    c, s = p.client, p.server
    c.send_message(MPing(priority=127), p.now)
    s.receive_data(wire_of(c, p.now), p.now)
    s.send_message(MPing(priority=127, tid=9), p.now)
    wire = wire_of(s, p.now)
    h2 = MsgHeader2.decode(wire[PREAMBLE_LEN : PREAMBLE_LEN + 41])
    assert (h2.seq, h2.tid, h2.ack_seq) == (1, 9, 1)
    assert h2.data_pre_padding_len == 0
    assert h2.reserved == 0
    assert s.session.ack_left == 0  # the ack went with the message


# -- receiving -------------------------------------------------------------------------


@PATHS
def test_receive_stamps_counts_and_acks(fast: bool) -> None:
    p = ready_pair(fast)
    c, s = p.client, p.server
    rec = Counts()
    s.counters = rec
    for tid in (1, 2):
        c.send_message(MPing(priority=127, tid=tid), p.now)
    wire = wire_of(c, p.now)
    later = p.now + 3.0
    s.receive_data(wire, later)
    got = received(s.events_received())
    assert [m.tid for m in got] == [1, 2]
    for m in got:
        assert (m.recv_stamp, m.throttle_stamp, m.recv_complete_stamp) == (later,) * 3
        assert m.src == EntityName(EntityType.CLIENT, 4100)
        assert m.dispatch_throttle_size == 0
    assert rec.n == {"msgr_recv_messages": 2, "msgr_recv_bytes": len(wire)}
    assert s.session.in_seq == 2
    assert s.session.ack_left == 2
    assert s.last_active == later


@PATHS
def test_in_order_messages_never_trip_die_on_skipped_message(fast: bool) -> None:
    p = ProtocolPair(options=ProtocolOptions(fast_path=fast, die_on_skipped_message=True))
    p.handshake()
    for tid in range(3):
        p.client.send_message(MPing(priority=127, tid=tid), p.now)
    p.transfer()
    assert [m.seq for m in received(p.server_events)] == [1, 2, 3]


def test_die_on_old_message_needs_the_reconnect_seq_feature() -> None:
    p = ProtocolPair(options=ProtocolOptions(die_on_old_message=True))
    p.handshake()
    p.client.send_message(MPing(priority=127), p.now)
    wire = wire_of(p.client, p.now)
    p.server.receive_data(wire, p.now)
    p.server.features &= ~CEPH_FEATURE_RECONNECT_SEQ
    p.server.receive_data(wire, p.now)  # dropped, not fatal without the feature
    assert len(received(p.server.events_received())) == 1
    p.server.features |= CEPH_FEATURE_RECONNECT_SEQ
    with pytest.raises(AssertionError, match=r"^old msgs despite reconnect_seq feature$"):
        p.server.receive_data(wire, p.now)


def test_skipped_message_assertion_text() -> None:
    p = ProtocolPair(options=ProtocolOptions(die_on_skipped_message=True))
    p.handshake()
    p.client.send_message(MPing(priority=127), p.now)
    p.client.data_to_send(p.now)  # seq 1 lost
    p.client.send_message(MPing(priority=127), p.now)
    with pytest.raises(AssertionError, match=r"^skipped incoming seq$"):
        p.server.receive_data(wire_of(p.client, p.now), p.now)


@PATHS
def test_old_message_is_dropped_before_its_ack_is_read(fast: bool) -> None:
    """A resent old message carries a newer ack; Ceph drops it before
    ``handle_message_ack``, so the ack does not count."""
    p = ready_pair(fast)
    c, s = p.client, p.server
    s.send_message(MPing(priority=127, tid=1), p.now)
    c.receive_data(wire_of(s, p.now), p.now)  # client in_seq 1
    sent = [MPing(priority=127, tid=10), MPing(priority=127, tid=11)]
    for m in sent:
        c.send_message(m, p.now)
    s.receive_data(wire_of(c, p.now), p.now)  # server in_seq 2, not acked yet
    c.events_received()
    # the server writes seq 1 again (as after a requeue), now with ack_seq 2
    s.session.out_seq = 0
    s.send_message(MPing(priority=127, tid=1), p.now)
    c.receive_data(wire_of(s, p.now), p.now)
    events = c.events_received()
    assert received(events) == []
    assert of_type(events, ev.MessagesAcked) == []
    assert list(c.session.sent) == sent


# -- throttles on the fast path -----------------------------------------------------


@PATHS
def test_each_throttle_alone_is_taken_on_both_paths(fast: bool) -> None:
    m = MPing(priority=127, data=b"x" * 40)
    m.prepare()
    size = len(m.front) + len(m.middle) + len(m.data)
    for kind in ("bytes", "dispatch", "messages"):
        t = Throttle(f"test-{kind}", 10_000)
        if kind == "bytes":
            policy = Policy.stateful_server().with_throttlers(bytes=t)
        elif kind == "messages":
            policy = Policy.stateful_server().with_throttlers(messages=t)
        else:
            policy = Policy.stateful_server()
        p = ProtocolPair(server_policy=policy, options=ProtocolOptions(fast_path=fast))
        if kind == "dispatch":
            p.server.dispatch_throttle = t
        p.handshake()
        p.client.send_message(MPing(priority=127, data=b"x" * 40), p.now)
        p.server.receive_data(wire_of(p.client, p.now), p.now)
        (got,) = received(p.server.events_received())
        assert t.current == (1 if kind == "messages" else size), kind
        if kind == "dispatch":
            assert got.dispatch_throttle_size == size
        else:
            assert got.dispatch_throttle_size == 0
            got.release_throttles()
            assert t.current == 0


# -- aborted frames and unknown types ----------------------------------------------


def _abort(frame: bytes) -> bytes:
    """Set the late status of a rev1 crc MESSAGE frame to ABORTED."""
    out = bytearray(frame)
    out[-13] = LATE_STATUS_ABORTED
    return bytes(out)


@PATHS
def test_aborted_message_frame_is_skipped_and_state_stays_ready(fast: bool) -> None:
    for last in (True, False):
        t = Throttle("test-msgs", 10)
        p = ProtocolPair(server_policy=Policy.stateful_server().with_throttlers(messages=t),
                         options=ProtocolOptions(fast_path=fast))
        p.handshake()
        c, s = p.client, p.server
        c.send_message(MPing(priority=127, tid=1, data=b"a"), p.now)
        aborted = _abort(wire_of(c, p.now))
        c.session.out_seq = 0  # the sender reuses the seq of an aborted frame
        c.session.sent.clear()
        c.send_message(MPing(priority=127, tid=2), p.now)
        good = wire_of(c, p.now)
        s.receive_data(aborted if last else aborted + good, p.now)
        assert state(s) is State.READY
        # the aborted frame's throttle was returned (the good one holds its own)
        assert t.current == (0 if last else 1)
        if last:
            s.receive_data(good, p.now)
        (m,) = received(s.events_received())
        assert (m.tid, m.seq) == (2, 1)
        assert state(s) is State.READY


def test_unknown_type_keeps_every_header_field() -> None:
    p = ready_pair()
    p.client.send_message(RawMessage(raw_type=0x7777, priority=99, tid=12345, version=7,
                                     compat_version=3, data_off=4096, front=b"abc",
                                     middle=b"mid", data=b"payload"), p.now)
    p.transfer()
    (m,) = received(p.server_events)
    assert isinstance(m, RawMessage)
    assert (m.type, m.tid, m.priority, m.version, m.compat_version, m.data_off, m.seq) == (
        0x7777, 12345, 99, 7, 3, 4096, 1)
    assert (bytes(m.front), bytes(m.middle), bytes(m.data)) == (b"abc", b"mid", b"payload")
    assert m.src == EntityName(EntityType.CLIENT, 4100)


def test_buffer_updated_processes_with_the_callers_time() -> None:
    """The recv_into path (``get_buffer`` + ``buffer_updated``), on a scratch buffer."""
    p = ready_pair()
    s = p.server
    s.rx_scratch = bytearray(s.options.rx_buffer_size)
    p.client.send_message(MPing(priority=127, tid=4), p.now)
    data = wire_of(p.client, p.now)
    later = p.now + 7.0
    buf = s.get_buffer()
    buf[: len(data)] = data
    s.buffer_updated(len(data), later)
    (m,) = received(s.events_received())
    assert (m.tid, m.recv_stamp) == (4, later)
    assert s.last_active == later
    assert s.get_timer() == later + s.options.connection_idle_timeout
