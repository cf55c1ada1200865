"""ProtocolBase's deadlines at their exact boundaries (time is an input): the
throttle retry, the ready timeout and the idle timeout; ``get_timer`` picks the
earliest; an interceptor PAUSE holds timers and output, and ``release`` applies
CONTINUE (with the releaser's time), FAIL and STOP."""

from __future__ import annotations

from typing import TypeVar

from asyncmsgr.message import Message, RawMessage
from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import InterceptAction, ProtocolOptions, State, Step
from asyncmsgr.testing.interceptor import TestInterceptor
from asyncmsgr.testing.v2pair import ProtocolPair
from asyncmsgr.throttle import Throttle

E = TypeVar("E")


def of_type(events: list[ev.Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def received(events: list[ev.Event]) -> list[Message]:
    return [e.message for e in events if isinstance(e, ev.MessageReceived)]


def state(side: ProtocolBase) -> State:
    return side.state


def wire_of(side: ProtocolBase, now: float) -> bytes:
    return b"".join(bytes(c) for c in side.data_to_send(now))


# -- ready timeout ---------------------------------------------------------------------


def test_ready_timeout_fires_exactly_at_the_deadline() -> None:
    p = ProtocolPair(options=ProtocolOptions(connection_ready_timeout=4.0))
    c = p.client
    t0 = p.now
    c.start_connect(t0)
    c.connection_made(t0)
    c.events_received()
    c.handle_timer(t0 + 3.5)  # before the deadline: nothing
    assert state(c) is State.BANNER_CONNECTING
    assert c.events_received() == []
    assert c.get_timer() == t0 + 4.0
    c.handle_timer(t0 + 4.0)
    events = c.events_received()
    assert [e.reason for e in of_type(events, ev.CloseSocket)] == ["ready timeout"]
    # a connecting client backs off: the next attempt's deadline follows it
    (need,) = of_type(events, ev.NeedConnect)
    assert need.at == t0 + 4.0 + c.options.initial_backoff
    assert c.get_timer() == need.at + 4.0


def test_ready_deadline_is_not_shadowed_by_a_shorter_idle_timeout() -> None:
    """The idle timeout only counts on an established connection."""
    p = ProtocolPair(options=ProtocolOptions(connection_ready_timeout=10.0,
                                             connection_idle_timeout=1.0))
    c = p.client
    c.start_connect(p.now)
    c.connection_made(p.now)
    assert c.get_timer() == p.now + 10.0
    c.handle_timer(p.now + 5.0)
    assert state(c) is State.BANNER_CONNECTING


def test_server_accept_sets_the_ready_deadline_from_now() -> None:
    p = ProtocolPair(options=ProtocolOptions(connection_ready_timeout=3.0))
    s = p.server
    s.start_accept(p.now, p.client.target_addr)
    assert state(s) is State.BANNER_ACCEPTING
    assert s.connect_started == s.last_active == p.now
    assert s.get_timer() == p.now + 3.0
    s.handle_timer(p.now + 3.0)
    # a half-accepted connection with nothing queued is stopped
    events = s.events_received()
    assert events[0] == ev.CloseSocket(reason="ready timeout")
    assert state(s) is State.CLOSED


# -- idle timeout ----------------------------------------------------------------------


def test_idle_timeout_fires_exactly_after_the_idle_time() -> None:
    p = ProtocolPair(options=ProtocolOptions(connection_idle_timeout=30.0))
    p.handshake()
    c = p.client
    c.events_received()
    last = c.last_active
    assert c.get_timer() == last + 30.0
    c.handle_timer(last + 29.5)
    assert state(c) is State.READY
    c.handle_timer(last + 30.0)
    events = c.events_received()
    assert [e.reason for e in of_type(events, ev.CloseSocket)] == ["idle timeout"]
    assert of_type(events, ev.NeedConnect) == [ev.NeedConnect(at=last + 30.0)]
    assert c.connect_started == last + 30.0


# -- throttle retry --------------------------------------------------------------------


def _payload(m: Message) -> int:
    m.prepare()
    return len(m.front) + len(m.middle) + len(m.data)


def _throttled_server(kind: str) -> tuple[ProtocolPair, Throttle]:
    one = _payload(MPing(priority=127, data=b"d" * 5))
    t = Throttle(f"test-{kind}", 1 if kind == "messages" else one + one // 2)
    if kind == "messages":
        policy = Policy.stateful_server().with_throttlers(messages=t)
    elif kind == "bytes":
        policy = Policy.stateful_server().with_throttlers(bytes=t)
    else:
        policy = Policy.stateful_server()
    p = ProtocolPair(server_policy=policy,
                     options=ProtocolOptions(throttle_retry=0.25))
    if kind == "dispatch":
        p.server.dispatch_throttle = t
    p.handshake()
    return p, t


def test_throttle_retry_runs_exactly_at_its_time() -> None:
    for kind in ("messages", "bytes", "dispatch"):
        p, t = _throttled_server(kind)
        s = p.server
        for tid in (1, 2):
            p.client.send_message(MPing(priority=127, tid=tid, data=b"d" * 5), p.now)
        s.receive_data(wire_of(p.client, p.now), p.now)
        (first,) = received(s.events_received())
        assert not s.wants_read, kind
        assert s.get_timer() == p.now + 0.25, kind
        if kind == "dispatch":
            assert first.dispatch_throttle_size > 0
            t.put(first.dispatch_throttle_size)
        else:
            first.release_throttles()
        assert t.current == 0
        s.handle_timer(p.now + 0.2)  # too early
        assert received(s.events_received()) == [], kind
        s.handle_timer(p.now + 0.25)
        (second,) = received(s.events_received())
        assert second.tid == 2, kind
        assert s.wants_read, kind


# -- interceptor PAUSE / release -------------------------------------------------------


class _Counts:
    def __init__(self) -> None:
        self.n: dict[str, int] = {}

    def inc(self, name: str, n: int = 1) -> None:
        self.n[name] = self.n.get(name, 0) + n

    def tinc(self, name: str, seconds: float) -> None:
        pass

    def tinc_many(self, name: str, seconds: float, count: int) -> None:
        pass


def _paused_pair(step: Step, *, on: str = "server") -> tuple[ProtocolPair, TestInterceptor]:
    t = TestInterceptor()
    p = ProtocolPair()
    p.handshake()
    t.breakpoint(step)
    side = p.server if on == "server" else p.client
    side.interceptor = t
    return p, t


def test_pause_holds_output_and_timers_until_release() -> None:
    p, _ = _paused_pair(Step.HANDLE_MESSAGE)
    s = p.server
    p.client.send_message(RawMessage(raw_type=0x7777, priority=127, tid=5, front=b"front",
                                     middle=b"middle", data=b"data"), p.now)
    wire = wire_of(p.client, p.now)
    s.receive_data(wire, p.now)
    assert s.held_step == Step.HANDLE_MESSAGE
    s.send_message(MPing(priority=127), p.now)
    assert not s.has_data_to_send()
    assert s.data_to_send(p.now) == []
    assert s.get_timer() is None
    s.handle_timer(p.now + 10_000.0)  # nothing runs while held (not even idle)
    assert state(s) is State.THROTTLE_DONE
    assert not s.wants_read
    rec = _Counts()
    s.counters = rec
    later = p.now + 2.0
    s.release(later)
    assert s.held_step is None
    (m,) = received(s.events_received())
    assert (m.type, m.tid, m.seq) == (0x7777, 5, 1)
    assert (bytes(m.front), bytes(m.middle), bytes(m.data)) == (b"front", b"middle", b"data")
    assert (m.recv_stamp, m.throttle_stamp, m.recv_complete_stamp) == (later, later, later)
    assert rec.n == {"msgr_recv_messages": 1, "msgr_recv_bytes": len(wire)}
    assert s.has_data_to_send()
    s.release(later)  # nothing held: no-op
    assert s.events_received() == []


def test_release_at_read_message_complete_accepts_message_and_its_ack() -> None:
    p, _ = _paused_pair(Step.READ_MESSAGE_COMPLETE, on="client")
    c, s = p.client, p.server
    sent = MPing(priority=127, tid=1)
    c.send_message(sent, p.now)
    s.receive_data(wire_of(c, p.now), p.now)
    s.send_message(MPing(priority=127, tid=2, data=b"xyz"), p.now)
    reply = wire_of(s, p.now)  # carries the piggy-backed ack of seq 1
    c.receive_data(reply, p.now)
    assert c.held_step == Step.READ_MESSAGE_COMPLETE
    assert state(c) is State.READ_MESSAGE_COMPLETE
    assert received(c.events_received()) == []
    counts: dict[str, int] = {}

    class Rec:
        def inc(self, name: str, n: int = 1) -> None:
            counts[name] = counts.get(name, 0) + n

        def tinc(self, name: str, seconds: float) -> None:
            pass

        def tinc_many(self, name: str, seconds: float, count: int) -> None:
            pass

    c.counters = Rec()
    later = p.now + 1.5
    c.release(later)
    events = c.events_received()
    (m,) = received(events)
    assert (m.tid, bytes(m.data), m.recv_stamp) == (2, b"xyz", later)
    assert of_type(events, ev.MessagesAcked) == [ev.MessagesAcked(messages=(sent,))]
    assert counts == {"msgr_recv_messages": 1, "msgr_recv_bytes": len(reply)}
    assert state(c) is State.READY
    assert c.session.in_seq == 1


def test_release_fail_faults_with_the_step_in_the_reason() -> None:
    p, _ = _paused_pair(Step.HANDLE_MESSAGE, on="client")
    c = p.client
    p.server.send_message(MPing(priority=127), p.now)
    c.receive_data(wire_of(p.server, p.now), p.now)
    later = p.now + 1.0
    c.release(later, InterceptAction.FAIL)
    events = c.events_received()
    assert [e.reason for e in of_type(events, ev.CloseSocket)] == [
        "interceptor FAIL at step 16"]
    assert of_type(events, ev.NeedConnect) == [ev.NeedConnect(at=later)]
    assert c.held_step is None


def test_release_stop_stops_with_the_step_in_the_reason() -> None:
    p, _ = _paused_pair(Step.HANDLE_MESSAGE, on="client")
    c = p.client
    p.server.send_message(MPing(priority=127), p.now)
    c.receive_data(wire_of(p.server, p.now), p.now)
    c.release(p.now, InterceptAction.STOP)
    assert c.events_received() == [ev.CloseSocket(reason="interceptor STOP at step 16"),
                                   ev.ResetSession(), ev.Stopped()]
    assert state(c) is State.CLOSED


def test_pause_in_connection_made_then_continue_sends_the_banner() -> None:
    t = TestInterceptor()
    t.breakpoint(Step.START_CLIENT_BANNER_EXCHANGE)
    p = ProtocolPair()
    c = p.client
    c.interceptor = t
    c.start_connect(p.now)
    c.connection_made(p.now + 1.0)
    assert c.last_active == p.now + 1.0
    assert c.held_step == Step.START_CLIENT_BANNER_EXCHANGE
    assert state(c) is State.START_CONNECT
    t.remove_bp(Step.START_CLIENT_BANNER_EXCHANGE)
    c.release(p.now + 2.0)
    assert state(c) is State.BANNER_CONNECTING
    assert c.data_to_send(p.now + 2.0)[0][:8] == b"ceph v2\n"
    assert repr(c).startswith("<ProtocolV2 client ")


def test_pause_in_start_accept_then_continue_sends_the_banner() -> None:
    t = TestInterceptor()
    t.breakpoint(Step.START_SERVER_BANNER_EXCHANGE)
    p = ProtocolPair()
    s = p.server
    s.interceptor = t
    s.start_accept(p.now, p.client.target_addr)
    assert state(s) is State.START_ACCEPT
    assert s.held_step == Step.START_SERVER_BANNER_EXCHANGE
    t.remove_bp(Step.START_SERVER_BANNER_EXCHANGE)
    s.release(p.now)
    assert state(s) is State.BANNER_ACCEPTING
    assert s.data_to_send(p.now)[0][:8] == b"ceph v2\n"
