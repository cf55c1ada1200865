"""Lossless sessions without sockets: replay after a fault, session reuse on the
accept side, reconnect with RECONNECT_OK, resets after restarts."""

from __future__ import annotations

from typing import TypeVar

from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import State
from asyncmsgr.testing.v2pair import ProtocolPair

E = TypeVar("E")


def of_type(events: list[ev.Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def tids(events: list[ev.Event]) -> list[int]:
    return [e.message.tid for e in events if isinstance(e, ev.MessageReceived)]


def state(side: ProtocolBase) -> State:
    return side.state


def lossless_pair() -> ProtocolPair:
    p = ProtocolPair(client_policy=Policy.lossless_client(),
                     server_policy=Policy.stateful_server())
    p.handshake()
    return p


def test_messages_lost_in_flight_are_replayed_with_the_same_seqs() -> None:
    p = lossless_pair()
    for i in range(5):
        p.client.send_message(MPing(priority=127, tid=i), p.now)
    lost = p.client.data_to_send(p.now)  # written, never delivered
    assert lost
    p.break_connection()
    assert state(p.client) is State.START_CONNECT
    assert state(p.server) is State.STANDBY
    existing = p.reconnect()
    p.transfer()
    assert p.server is existing  # the accepted socket moved into the old session
    assert state(p.server) is State.READY
    assert tids(p.server_events) == [0, 1, 2, 3, 4]
    got = [e.message.seq for e in p.server_events if isinstance(e, ev.MessageReceived)]
    assert got == [1, 2, 3, 4, 5]
    assert of_type(p.client_events, ev.Connected)[-1] == ev.Connected(reconnect=True)
    assert ev.Accepted(reconnect=True) in p.server_events
    assert ev.ResetSession() in p.server_events  # the temporary connection's, as in Ceph
    assert p.client.handshake_counts["send_SESSION_RECONNECT"] == 1
    assert existing.handshake_counts["send_SESSION_RECONNECT_OK"] == 1
    # the acks trim the client's sent list
    p.transfer()
    assert not p.client.session.sent


def test_partially_delivered_batch_is_not_duplicated() -> None:
    p = lossless_pair()
    for i in range(5):
        p.client.send_message(MPing(priority=127, tid=i), p.now)
    wire = b"".join(bytes(c) for c in p.client.data_to_send(p.now))
    frame_len = len(wire) // 5
    p.server.receive_data(wire[: 3 * frame_len], p.now)  # three arrive
    p.server_events += p.server.events_received()
    assert tids(p.server_events) == [0, 1, 2]
    p.break_connection()
    p.reconnect()
    p.transfer()
    assert tids(p.server_events) == [0, 1, 2, 3, 4]  # exactly once, in order
    assert p.server.session.in_seq == 5


def test_server_side_messages_are_replayed_to_the_client() -> None:
    p = lossless_pair()
    for i in range(3):
        p.server.send_message(MPing(priority=127, tid=10 + i), p.now)
    p.server.data_to_send(p.now)  # lost
    p.break_connection()
    p.reconnect()
    p.transfer()
    assert tids(p.client_events) == [10, 11, 12]


def test_server_lost_the_session_resets_the_client() -> None:
    p = lossless_pair()
    p.client.send_message(MPing(priority=127, tid=1), p.now)
    p.client.data_to_send(p.now)
    p.break_connection()
    p.server_registry.registered.clear()  # the server restarted: no session
    p.reconnect()
    p.transfer()
    assert p.server.handshake_counts["send_SESSION_RESET"] == 1
    assert ev.RemoteReset() in p.client_events
    assert of_type(p.client_events, ev.MessagesDropped)
    assert state(p.client) is State.READY  # a new session right away
    assert p.client.handshake_counts["send_CLIENT_IDENT"] == 2


def test_restarted_client_gets_the_old_session_reset() -> None:
    p = lossless_pair()
    p.server.send_message(MPing(priority=127, tid=7), p.now)
    p.server.data_to_send(p.now)
    p.break_connection()
    existing = p.server
    # a new client incarnation: same address, fresh session (new cookie)
    fresh = ProtocolPair(client_policy=Policy.lossless_client(),
                         server_policy=Policy.stateful_server(), seed=2)
    p.client = fresh.client
    p.client.registry = p.client_registry
    p.client_registry.machines["client"] = p.client
    p.client_events = []
    p.reconnect()
    p.transfer()
    assert p.server is existing  # reused (resetcheck: the old session is reset first)
    assert ev.RemoteReset() in p.server_events
    assert state(p.server) is State.READY
    assert tids(p.client_events) == []  # the old incarnation's message is not delivered


def test_reconnect_with_stale_connect_seq_is_retried() -> None:
    p = lossless_pair()
    p.break_connection()
    p.server.session.connect_seq = 5  # the server has seen a later attempt
    p.reconnect()
    p.transfer()
    assert p.client.handshake_counts.get("recv_SESSION_RETRY") == 1
    assert p.client.session.connect_seq == 6
    assert state(p.client) is State.READY


def test_one_ack_trims_every_acknowledged_message() -> None:
    """No per-ACK cap: 300 messages acked by one ACK are all reported acked."""
    p = lossless_pair()
    for i in range(300):
        p.client.send_message(MPing(priority=127, tid=i), p.now)
    p.transfer()
    acked = [m.tid for e in of_type(p.client_events, ev.MessagesAcked) for m in e.messages]
    assert acked == list(range(300))
    assert not p.client.session.sent


def test_requeued_messages_the_peer_had_are_reported_acked_on_reconnect() -> None:
    """RECONNECT_OK(msg_seq) drops the requeued messages the server already got:
    they count as acknowledged (wait_acked resolves), not lost."""
    p = lossless_pair()
    for i in range(4):
        p.client.send_message(MPing(priority=127, tid=i), p.now)
    wire = b"".join(bytes(c) for c in p.client.data_to_send(p.now))
    p.server.receive_data(wire, p.now)  # all four arrive; the ACK never does
    p.server.data_to_send(p.now)
    p.server_events += p.server.events_received()
    p.break_connection()
    p.reconnect()
    p.transfer()
    acked = [m.tid for e in of_type(p.client_events, ev.MessagesAcked) for m in e.messages]
    assert acked == [0, 1, 2, 3]
    assert tids(p.server_events) == [0, 1, 2, 3]  # not delivered twice
    assert not of_type(p.client_events, ev.MessagesDropped)


def test_stale_client_ident_is_refused_and_the_session_kept() -> None:
    """A CLIENT_IDENT with an older global_seq than the registered session's peer
    (an attempt overtaken by a later one) is stale: that connection is stopped
    (reset) and the existing session is untouched."""
    p = lossless_pair()
    existing = p.server
    existing.session.peer_global_seq = 10 ** 6  # the session has seen a later attempt
    p.break_connection()
    p.client.session.server_cookie = 0  # force CLIENT_IDENT rather than RECONNECT
    p.reconnect()
    p.transfer()
    assert state(p.server) is State.CLOSED  # the new, stale connection
    assert ev.ResetSession() in p.server_events
    assert existing.state is State.STANDBY
    assert p.server_registry.registered[p.server.peer_addrs] is existing


def test_reconnect_with_stale_global_seq_gets_retry_global() -> None:
    p = lossless_pair()
    p.break_connection()
    p.server.session.peer_global_seq = 500
    p.reconnect()
    p.transfer()
    assert p.client.handshake_counts.get("recv_SESSION_RETRY_GLOBAL") == 1
    assert p.client.session.global_seq > 500
    assert state(p.client) is State.READY
    assert p.client.handshake_counts["send_SESSION_RECONNECT"] == 2


def test_lossy_session_is_replaced_by_a_new_connection() -> None:
    """A new CLIENT_IDENT for a registered lossy session stops the old connection
    (ms_handle_reset) and takes its place."""
    p = ProtocolPair(client_policy=Policy.lossy_client(),
                     server_policy=Policy.stateless_registered_server())
    p.handshake()
    old = p.server
    p.reconnect()  # the client's next connection (its old one is gone)
    p.transfer()
    assert old.state is State.CLOSED
    assert old in p.server_registry.stopped
    assert state(p.server) is State.READY
