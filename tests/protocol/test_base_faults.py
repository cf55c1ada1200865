"""ProtocolBase's fault, stop and reset rules (Ceph's ``ProtocolV2::_fault``,
``stop``, ``reset_session``) and what they leave behind: the session's
connect_seq / global_seq, the backoff, the ready deadline, the events and the
reasons the user reads. Also ``has_data_to_send`` and the send inputs."""

from __future__ import annotations

from typing import TypeVar

from asyncmsgr.errors import EncodeError
from asyncmsgr.message import RawMessage
from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import ProtocolOptions, State
from asyncmsgr.testing.v2pair import ProtocolPair

E = TypeVar("E")


def of_type(events: list[ev.Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def closes(events: list[ev.Event]) -> list[str]:
    return [e.reason for e in of_type(events, ev.CloseSocket)]


def state(side: ProtocolBase) -> State:
    return side.state


def ready_pair(**kw: object) -> ProtocolPair:
    p = ProtocolPair(**kw)  # type: ignore[arg-type]
    p.handshake()
    p.client.events_received()
    p.server.events_received()
    return p


# -- fault() after READY -------------------------------------------------------------


def test_fault_after_ready_reconnects_at_once_with_next_connect_and_global_seq() -> None:
    """Ceph: connect_seq++, a fresh global_seq, START_CONNECT, backoff reset."""
    p = ready_pair()
    c = p.client
    c.session.connect_seq = 3
    c.backoff = 0.8  # left over from earlier failed attempts
    gseq_before = c.session.global_seq
    p.now += 5.0
    c.fault(p.now)
    events = c.events_received()
    assert closes(events) == ["fault"]  # no reason given
    assert of_type(events, ev.NeedConnect) == [ev.NeedConnect(at=p.now)]
    assert state(c) is State.START_CONNECT
    assert c.session.connect_seq == 4
    assert c.session.global_seq == p.client_registry.get_global_seq() - 1 > gseq_before
    assert c.backoff == 0.0
    assert c.can_write is False
    assert c.is_connected is False
    assert c.reconnecting is False
    assert c.replacing is False
    assert c.connect_started == p.now
    assert c.get_timer() == p.now + c.options.connection_ready_timeout


def test_fault_in_none_or_closed_does_nothing() -> None:
    p = ProtocolPair()
    c = p.client
    c.fault(p.now, "early")
    assert state(c) is State.NONE
    assert c.events_received() == []
    assert c.get_timer() is None
    c.stop()
    c.events_received()
    c.fault(p.now, "late")
    assert state(c) is State.CLOSED
    assert c.events_received() == []


def test_lossy_fault_after_ready_stops_with_the_reason() -> None:
    p = ready_pair(client_policy=Policy.lossy_client(),
                   server_policy=Policy.stateless_server())
    p.client.fault(p.now, "test: broken")
    events = p.client.events_received()
    assert events[0] == ev.CloseSocket(reason="test: broken")
    assert ev.ResetSession() in events
    assert events[-1] == ev.Stopped()


def test_fault_to_standby_clears_the_ready_deadline() -> None:
    p = ready_pair(client_policy=Policy.lossless_peer(),
                   server_policy=Policy.lossless_peer())
    c = p.client
    c.connection_lost(p.now)
    assert state(c) is State.STANDBY
    assert closes(c.events_received()) == ["connection lost"]
    assert c.get_timer() is None
    assert c.is_connected is False


def test_server_fault_goes_to_standby_without_a_timer() -> None:
    p = ready_pair()
    s = p.server
    s.send_message(MPing(priority=127), p.now)  # queued: not the standby branch
    s.fault(p.now, "test")
    assert state(s) is State.STANDBY
    assert closes(s.events_received()) == ["test"]
    assert s.get_timer() is None
    assert len(s.session.out_queue) == 1


# -- fault() while connecting: backoff ------------------------------------------------


def test_connect_failure_backs_off_with_fresh_global_seq_and_deadline() -> None:
    opts = ProtocolOptions(initial_backoff=0.25, max_backoff=2.0,
                           connection_ready_timeout=7.0)
    p = ProtocolPair(options=opts)
    c = p.client
    c.start_connect(p.now)
    for expect in (0.25, 0.5):
        before = c.session.global_seq
        c.connection_failed(p.now, refused=False)
        events = c.events_received()
        assert closes(events) == ["connect failed"]
        assert of_type(events, ev.NeedConnect) == [ev.NeedConnect(at=p.now + expect)]
        assert c.backoff == expect
        assert c.session.global_seq > before
        assert c.session.global_seq == p.client_registry.get_global_seq() - 1
        assert c.connect_started == p.now + expect
        assert c.get_timer() == p.now + expect + 7.0
        # no session yet (no server cookie): connect_seq stays 0
        assert c.session.connect_seq == 0


def test_connect_failure_with_a_session_bumps_connect_seq_by_one() -> None:
    """v2: ``if (server_cookie) connect_seq++`` on every retry."""
    p = ready_pair()
    c = p.client
    assert c.session.server_cookie
    c.fault(p.now)  # from READY: connect_seq 0 -> 1, reconnect at once
    assert c.session.connect_seq == 1
    c.connection_failed(p.now, refused=True)
    assert c.session.connect_seq == 2
    c.connection_failed(p.now, refused=True)
    assert c.session.connect_seq == 3


def test_connection_failed_reasons() -> None:
    p = ProtocolPair()
    c = p.client
    c.start_connect(p.now)
    c.connection_failed(p.now, refused=True)
    events = c.events_received()
    assert events[0] == ev.Refused()
    assert closes(events) == ["connection refused"]
    c.connection_failed(p.now, refused=False, reason="no route")
    assert closes(c.events_received()) == ["no route"]


def test_connection_lost_default_reason() -> None:
    p = ready_pair()
    p.client.connection_lost(p.now)
    assert closes(p.client.events_received()) == ["connection lost"]


# -- stop / reset_session -------------------------------------------------------------


def test_stop_defaults_and_what_it_emits() -> None:
    p = ProtocolPair()
    c = p.client
    c.start_connect(p.now)
    assert c.get_timer() is not None
    m = MPing(priority=127)
    c.send_message(m, p.now)
    c.stop()
    events = c.events_received()
    assert events == [ev.CloseSocket(reason="stopped"), ev.MessagesDropped(messages=(m,)),
                      ev.Stopped()]
    assert state(c) is State.CLOSED
    assert c.get_timer() is None
    assert c.can_write is False


def test_stop_of_a_ready_connection_cannot_write() -> None:
    p = ready_pair()
    p.client.stop(queue_reset=True, reason="bye")
    assert p.client.events_received() == [ev.CloseSocket(reason="bye"), ev.ResetSession(),
                                          ev.Stopped()]
    assert p.client.can_write is False
    assert p.client.is_connected is False


def test_reset_session_drops_queue_and_stops_writing() -> None:
    p = ready_pair()
    c = p.client
    m = MPing(priority=127)
    c.send_message(m, p.now)
    c.reset_session()
    assert c.events_received() == [ev.MessagesDropped(messages=(m,)), ev.RemoteReset()]
    assert c.can_write is False
    assert not c.has_data_to_send()


def test_send_to_closed_is_dropped() -> None:
    p = ProtocolPair()
    p.client.stop()
    p.client.events_received()
    m = MPing()
    p.client.send_message(m, p.now)
    assert p.client.events_received() == [ev.MessagesDropped(messages=(m,))]


def test_standby_client_kick_reconnects_now() -> None:
    for use_keepalive in (False, True):
        p = ready_pair(client_policy=Policy.lossless_peer(),
                       server_policy=Policy.lossless_peer())
        c = p.client
        c.connection_lost(p.now)
        c.events_received()
        assert state(c) is State.STANDBY
        c.session.connect_seq = 4
        p.now += 3.0
        if use_keepalive:
            c.send_keepalive(p.now)
        else:
            c.send_message(MPing(), p.now)
        assert c.events_received() == [ev.NeedConnect(at=p.now)]
        assert state(c) is State.START_CONNECT
        assert c.session.connect_seq == 5  # there is a session: bumped once
        assert c.get_timer() == p.now + c.options.connection_ready_timeout


# -- outputs ---------------------------------------------------------------------------


def test_take_events_returns_messages_unwrapped_and_clears() -> None:
    p = ready_pair()
    m = MPing(priority=127)
    p.client.send_message(m, p.now)
    p.server.receive_data(b"".join(bytes(c) for c in p.client.data_to_send(p.now)), p.now)
    (got,) = p.server.take_events()
    assert isinstance(got, MPing)
    assert p.server.take_events() == []
    assert not p.server.has_events


def test_repr_names_class_and_role() -> None:
    p = ready_pair()
    assert repr(p.client).startswith("<ProtocolV2 client ")
    assert repr(p.server).startswith("<ProtocolV2 server ")
    assert " s=READY " in repr(p.client)


def test_has_data_to_send_for_each_kind_of_output() -> None:
    p = ProtocolPair()
    c, s = p.client, p.server
    c.send_message(MPing(priority=127), p.now)
    assert not c.has_data_to_send()  # queued, but not connected
    c.start_connect(p.now)
    c.connection_made(p.now)
    assert c.has_data_to_send()  # the banner is written, though can_write is False
    assert not c.can_write
    p.server.start_accept(p.now, p.client.target_addr)
    p.transfer()
    assert c.state is State.READY
    assert not c.has_data_to_send()
    assert not s.has_data_to_send()
    # only a queued message
    c.send_message(MPing(priority=127), p.now)
    assert c.has_data_to_send()
    wire = b"".join(bytes(x) for x in c.data_to_send(p.now))
    assert not c.has_data_to_send()
    # only an ack owed (one message received)
    s.receive_data(wire, p.now)
    assert s.session.ack_left == 1
    assert s.has_data_to_send()
    s.data_to_send(p.now)
    assert s.session.ack_left == 0
    assert not s.has_data_to_send()
    # only a keepalive
    c.send_keepalive(p.now)
    assert c.keepalive is True
    assert c.has_data_to_send()
    wire = b"".join(bytes(x) for x in c.data_to_send(p.now))
    assert c.keepalive is False
    assert not c.has_data_to_send()
    # only a keepalive ack owed
    s.receive_data(wire, p.now)
    assert s.keepalive_acks
    assert s.has_data_to_send()
    s.data_to_send(p.now)
    assert not s.has_data_to_send()


def test_take_over_by_a_connection_closed_meanwhile_does_nothing() -> None:
    """``_begin_take_over``: the existing connection was stopped between the
    lookup and the move; it stays CLOSED and answers nothing."""
    p = ready_pair()
    original = p.server_registry.on_reuse
    assert original is not None
    moved: list[ProtocolBase] = []

    def on_reuse(temp: ProtocolBase, existing: ProtocolBase, handover: object) -> None:
        existing.stop()
        existing.events_received()
        moved.append(existing)
        original(temp, existing, handover)

    p.server_registry.on_reuse = on_reuse
    p.break_connection()
    p.reconnect()
    p.transfer()
    (existing,) = moved
    assert state(existing) is State.CLOSED
    assert existing.data_to_send(p.now) == []
    assert existing.events_received() == []
    assert existing.replacing is False


def test_start_connect_notes_the_attempt() -> None:
    p = ProtocolPair(options=ProtocolOptions(connection_ready_timeout=6.0))
    p.client.start_connect(p.now)
    assert state(p.client) is State.START_CONNECT
    assert p.client.connect_started == p.now
    assert p.client.get_timer() == p.now + 6.0


def test_encode_error_while_writing_faults_with_its_text() -> None:
    class Unencodable(RawMessage):
        def encode_payload(self, features: int) -> None:
            raise EncodeError("field out of range")

    p = ready_pair()
    c = p.client
    c.send_message(Unencodable(raw_type=0x7777, priority=127), p.now)
    c.data_to_send(p.now)
    events = c.events_received()
    assert closes(events) == ["EncodeError: field out of range"]
    assert of_type(events, ev.NeedConnect) == [ev.NeedConnect(at=p.now)]


def test_nothing_is_written_while_the_session_cannot_write() -> None:
    p = ready_pair()
    c = p.client
    c.reset_session()
    c.events_received()
    assert state(c) is State.READY
    c.send_message(MPing(priority=127), p.now)
    assert c.data_to_send(p.now) == []
    assert len(c.session.out_queue) == 1
    # not connected: no idle timeout either (Ceph's tick checks idleness only
    # while is_connected()), and ready() already cleared the ready deadline
    assert c.get_timer() is None
