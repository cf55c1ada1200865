"""Interceptor steps on the sans-I/O machine: every step is reached, a PAUSE stops
before the step (nothing of it done) and FAIL/STOP/CONTINUE apply on release."""

from __future__ import annotations

import pytest

from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import InterceptAction, State, Step
from asyncmsgr.testing.interceptor import TestInterceptor
from asyncmsgr.testing.v2pair import ProtocolPair

A = InterceptAction


def pair_with(interceptor: TestInterceptor, **kw: Policy) -> ProtocolPair:
    p = ProtocolPair(client_policy=kw.get("client", Policy.lossless_client()),
                     server_policy=kw.get("server", Policy.stateful_server()))
    p.client.interceptor = interceptor
    p.server.interceptor = interceptor
    return p


def state(side: ProtocolBase) -> State:
    return side.state


def steps_of(t: TestInterceptor, side: ProtocolBase) -> list[Step]:
    return list(t.step_history[side.owner])


def test_handshake_and_message_reach_cephs_steps_in_order() -> None:
    t = TestInterceptor()
    p = pair_with(t)
    p.handshake()
    assert steps_of(t, p.client) == [
        Step.START_CLIENT_BANNER_EXCHANGE, Step.BANNER_EXCHANGE_BANNER_CONNECTING,
        Step.HANDLE_PEER_BANNER_BANNER_CONNECTING,
        Step.HANDLE_PEER_BANNER_PAYLOAD_HELLO_CONNECTING, Step.SEND_AUTH_REQUEST,
        Step.SEND_CLIENT_IDENTITY, Step.READY]
    assert steps_of(t, p.server) == [
        Step.START_SERVER_BANNER_EXCHANGE, Step.BANNER_EXCHANGE, Step.HANDLE_PEER_BANNER,
        Step.HANDLE_PEER_BANNER_PAYLOAD, Step.HANDLE_AUTH_REQUEST_ACCEPTING_SIGN,
        Step.SEND_SERVER_IDENTITY, Step.READY]
    p.client.send_message(MPing(), p.now)
    p.transfer()
    assert steps_of(t, p.server)[-2:] == [Step.HANDLE_MESSAGE, Step.READ_MESSAGE_COMPLETE]
    assert p.server.handshake_counts["SEND_SERVER_IDENTITY"] == 1


def test_pause_stops_before_the_step_and_continue_runs_it() -> None:
    t = TestInterceptor()
    t.breakpoint(Step.SEND_SERVER_IDENTITY)
    p = pair_with(t)
    p.connect()
    p.transfer()
    assert t.paused() == {p.server.owner: Step.SEND_SERVER_IDENTITY}
    assert p.server.held_step is Step.SEND_SERVER_IDENTITY
    assert state(p.server) is State.SESSION_ACCEPTING  # not READY: the step has not run
    assert state(p.client) is State.SESSION_CONNECTING
    assert p.server.handshake_counts.get("send_SERVER_IDENT") is None
    assert p.server.get_timer() is None
    assert not p.server.wants_read
    t.remove_bp(Step.SEND_SERVER_IDENTITY)
    p.server.release(p.now)  # (the pair's owners are names: release the machine)
    p.transfer()
    assert state(p.client) is State.READY
    assert state(p.server) is State.READY


@pytest.mark.parametrize(("action", "server_state"), [
    (A.FAIL, State.STANDBY),  # a stateful server waits for the client to come back
    (A.STOP, State.CLOSED),
])
def test_release_with_fail_or_stop(action: InterceptAction, server_state: State) -> None:
    t = TestInterceptor()
    t.breakpoint(Step.SEND_SERVER_IDENTITY)
    p = pair_with(t)
    p.server.send_message(MPing(tid=9), p.now)  # something queued: standby, not close
    p.connect()
    p.transfer()
    p.server.release(p.now, action)
    p.server_events += p.server.events_received()
    assert state(p.server) is server_state
    assert p.server.held_step is None
    if action is A.STOP:
        assert ev.ResetSession() in p.server_events


def test_pause_at_handle_message_then_fail_does_not_consume_the_message() -> None:
    """Ceph's ReconnectTest: the client faults while handling a message; the
    message was not taken, so the server replays it after the reconnect."""
    t = TestInterceptor()
    p = pair_with(t, client=Policy.lossless_peer(), server=Policy.stateful_server())
    p.handshake()
    t.breakpoint(Step.HANDLE_MESSAGE)
    p.server.send_message(MPing(tid=5), p.now)
    p.transfer()
    assert p.client.held_step is Step.HANDLE_MESSAGE
    assert not [e for e in p.client_events if isinstance(e, ev.MessageReceived)]
    assert p.client.session.in_seq == 0
    t.remove_bp(Step.HANDLE_MESSAGE)
    p.client.release(p.now, A.FAIL)
    p.client_events += p.client.events_received()
    p.server.connection_lost(p.now, "peer faulted")
    p.reconnect()
    p.transfer()
    got = [e.message.tid for e in p.client_events if isinstance(e, ev.MessageReceived)]
    assert got == [5]
    assert p.client.handshake_counts["SEND_RECONNECT"] == 1
    assert p.server.handshake_counts["SEND_RECONNECT_OK"] == 1


def test_decision_is_used_once() -> None:
    t = TestInterceptor()
    t.proceed(Step.SEND_CLIENT_IDENTITY, A.FAIL)  # nobody paused: kept for the next one
    p = pair_with(t)
    p.connect()
    p.transfer()
    assert p.client.handshake_counts["SEND_CLIENT_IDENTITY"] == 1
    assert Step.SEND_CLIENT_IDENTITY not in t.decisions
    assert state(p.client) is State.START_CONNECT  # faulted, will retry
    p.advance(1.0)
    p.reconnect()
    p.transfer()
    assert state(p.client) is State.READY


def test_stop_cancels_a_pause() -> None:
    t = TestInterceptor()
    t.breakpoint(Step.SEND_CLIENT_IDENTITY)
    p = pair_with(t)
    p.connect()
    p.transfer()
    assert p.client.held_step is Step.SEND_CLIENT_IDENTITY
    p.client.stop()
    assert p.client.held_step is None
    p.client.release(p.now)  # a late release is harmless
    assert state(p.client) is State.CLOSED
