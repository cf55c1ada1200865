"""A protocol machine before its first input, built with only the required
arguments: every output is empty and every default is Ceph's starting point
(state NONE, no features, no timers, a peer name with number -1). Also the
interceptor's one-shot FAIL/STOP decisions, errors during processing and the
``msgr_recv_*`` counting per input."""

from __future__ import annotations

from typing import TypeVar

from asyncmsgr.auth.base import AuthConnectionMeta
from asyncmsgr.message import Message
from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import InterceptAction, ProtocolOptions, State, Step
from asyncmsgr.protocol.session import Session
from asyncmsgr.protocol.v2 import ProtocolV2
from asyncmsgr.testing.interceptor import TestInterceptor
from asyncmsgr.testing.v2pair import CLIENT_SOCKET_ADDR, SERVER_ADDR, FakeRegistry, ProtocolPair
from asyncmsgr.throttle import Throttle
from asyncmsgr.types import EntityAddr, EntityAddrVec, EntityName, EntityType, UTime

E = TypeVar("E")
NOW = 1000.0


def of_type(events: list[ev.Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def received(events: list[ev.Event]) -> list[Message]:
    return [e.message for e in events if isinstance(e, ev.MessageReceived)]


def state(side: ProtocolBase) -> State:
    return side.state


def _registry() -> FakeRegistry:
    return FakeRegistry(EntityName(EntityType.CLIENT, 1),
                        EntityAddrVec((EntityAddr(nonce=5),)))


def test_fresh_machine_defaults() -> None:
    opts = ProtocolOptions()
    policy = Policy.lossy_client()
    m = ProtocolV2(owner="me", registry=_registry(), options=opts, policy=policy,
                   peer_type=EntityType.MON, target_addr=SERVER_ADDR)
    assert (m.owner, m.options, m.policy) == ("me", opts, policy)
    assert m.lossy is True
    assert m.dispatch_throttle is None
    assert m.auth_client is None
    assert m.auth_server is None
    assert m.interceptor is None
    assert m.peer_type == EntityType.MON
    assert m.target_addr == SERVER_ADDR
    assert m.peer_addrs == EntityAddrVec((SERVER_ADDR,))
    assert m.peer_name == EntityName(EntityType.MON, -1)
    assert m.features == 0
    s = m.session
    assert isinstance(s, Session)
    assert not s.out_queue
    assert not s.sent
    assert (s.out_seq, s.in_seq, s.ack_left, s.connect_seq, s.global_seq) == (0, 0, 0, 0, 0)
    assert m.keepalive is False
    assert m.keepalive_acks == []
    assert m.last_keepalive == UTime() == m.last_keepalive_ack
    assert m.can_write is False
    assert m.replacing is False
    assert m.reconnecting is False
    assert m.backoff == 0.0
    assert state(m) is State.NONE
    assert m.rx_scratch is None
    assert m.auth_meta == AuthConnectionMeta()
    assert (m.connect_started, m.last_active) == (0.0, 0.0)
    assert m.handshake_counts == {}
    assert m.held_step is None
    assert m.delay_hook is None
    assert m.get_timer() is None
    assert m.wants_read is False
    assert m.is_connected is False
    assert not m.has_data_to_send()
    assert m.data_to_send(NOW) == []
    assert not m.has_events
    assert m.events_received() == []
    assert m.pre_auth_bytes == 0
    assert len(m.get_buffer()) > 0
    assert repr(m).startswith("<ProtocolV2 client ")


def test_fresh_machine_without_target() -> None:
    m = ProtocolV2(owner="me", registry=_registry(), options=ProtocolOptions(),
                   policy=Policy.stateful_server())
    assert m.target_addr == EntityAddr()
    assert m.peer_addrs == EntityAddrVec()
    assert m.peer_name == EntityName(0, -1)
    assert m.lossy is False


def test_default_clock_and_counters() -> None:
    """Without a wall clock the keepalive stamp is 0; without counters nothing
    is counted, and nothing fails."""
    p = ProtocolPair()
    p.handshake()
    c = ProtocolV2(owner="client", registry=p.client_registry, options=ProtocolOptions(),
                   policy=p.client_registry.policy, auth_client=p.client.auth_client,
                   peer_type=EntityType.OSD, target_addr=p.server_addr)
    p.client_registry.machines["client"] = c
    p.client = c
    p.server = p._new_server()
    p.handshake()
    c.send_keepalive(p.now)
    c.send_message(MPing(priority=127), p.now)
    p.transfer()
    assert p.server.last_keepalive == UTime.from_float(p.wall)
    acks = of_type(p.client_events, ev.KeepaliveAck)
    assert acks == [ev.KeepaliveAck(timestamp=UTime(0, 0))]
    assert len(received(p.server_events)) == 1


# -- interceptor decisions ---------------------------------------------------------


def test_interceptor_fail_decision_faults_at_the_last_activity() -> None:
    t = TestInterceptor()
    t.decisions[Step.SEND_CLIENT_IDENTITY] = InterceptAction.FAIL
    p = ProtocolPair(options=ProtocolOptions(initial_backoff=0.5))
    p.client.interceptor = t
    p.connect()
    p.transfer()
    events = p.client_events
    assert [e.reason for e in of_type(events, ev.CloseSocket)] == [
        "interceptor FAIL at step 11"]
    assert of_type(events, ev.NeedConnect) == [
        ev.NeedConnect(at=p.client.last_active + 0.5)]
    assert p.client.handshake_counts["SEND_CLIENT_IDENTITY"] == 1
    # the failed step did not go on: no CLIENT_IDENT was written after the fault
    assert "send_CLIENT_IDENT" not in p.client.handshake_counts
    assert "recv_CLIENT_IDENT" not in p.server.handshake_counts
    assert state(p.client) is State.START_CONNECT


def test_interceptor_stop_decision_stops_with_a_reset() -> None:
    t = TestInterceptor()
    t.decisions[Step.SEND_SERVER_IDENTITY] = InterceptAction.STOP
    p = ProtocolPair()
    p.server.interceptor = t
    p.connect()
    p.transfer()
    events = p.server_events
    assert events[-3:] == [ev.CloseSocket(reason="stopped"), ev.ResetSession(),
                           ev.Stopped()]
    assert state(p.server) is State.CLOSED
    assert p.server.held_step is None


def test_handshake_counts_count_each_step_once() -> None:
    t = TestInterceptor()
    p = ProtocolPair()
    p.client.interceptor = t
    p.handshake()
    counts = p.client.handshake_counts
    assert counts["START_CLIENT_BANNER_EXCHANGE"] == 1
    assert counts["READY"] == 1
    assert counts["ready"] == 1
    assert counts["send_HELLO"] == 1


# -- errors and counting in _process -----------------------------------------------


def test_protocol_errors_fault_even_with_die_on_bad_msg() -> None:
    """die_on_bad_msg raises only for an undecodable message; a bad banner faults."""
    p = ProtocolPair(options=ProtocolOptions(die_on_bad_msg=True))
    s = p.server
    s.start_accept(NOW, CLIENT_SOCKET_ADDR)
    s.receive_data(b"GET / HTTP/1.1\r\n", NOW)
    assert state(s) is State.CLOSED
    assert [e.reason for e in of_type(s.events_received(), ev.CloseSocket)] == [
        "BannerMismatch: bad banner b'GET / HTTP': not a Ceph msgr2 peer"]


class _Counts:
    def __init__(self) -> None:
        self.n: dict[str, int] = {}

    def inc(self, name: str, n: int = 1) -> None:
        self.n[name] = self.n.get(name, 0) + n

    def tinc(self, name: str, seconds: float) -> None:
        pass

    def tinc_many(self, name: str, seconds: float, count: int) -> None:
        pass


def test_recv_counters_are_added_once_per_input() -> None:
    p = ProtocolPair()
    p.handshake()
    c, s = p.client, p.server
    rec = _Counts()
    s.counters = rec
    c.send_keepalive(p.now)
    s.receive_data(b"".join(bytes(x) for x in c.data_to_send(p.now)), p.now)
    assert rec.n == {}  # no message: nothing counted
    total = 0
    for tid in (1, 2):
        c.send_message(MPing(priority=127, tid=tid), p.now)
        wire = b"".join(bytes(x) for x in c.data_to_send(p.now))
        total += len(wire)
        s.receive_data(wire, p.now)
    assert rec.n == {"msgr_recv_messages": 2, "msgr_recv_bytes": total}


def test_constructor_arguments_are_the_ones_used() -> None:
    t = TestInterceptor()
    rec = _Counts()
    dt = Throttle("test-dispatch", 100)
    m = ProtocolV2(owner="me", registry=_registry(), options=ProtocolOptions(),
                   policy=Policy.lossless_client(), dispatch_throttle=dt, counters=rec,
                   interceptor=t, target_addr=SERVER_ADDR)
    assert m.dispatch_throttle is dt
    assert m.counters is rec
    assert m.interceptor is t
    m.start_connect(NOW)
    m.connection_made(NOW)
    assert t.step_history["me"][0] == Step.START_CLIENT_BANNER_EXCHANGE


def test_a_handshake_counts_no_received_messages() -> None:
    p = ProtocolPair()
    rec = _Counts()
    p.server.counters = rec
    p.client.counters = rec
    p.handshake()
    assert rec.n == {}
