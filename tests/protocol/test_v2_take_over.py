"""Session take-over on the accepting side (Ceph's ``ProtocolV2::reuse_connection``):
what the temporary connection hands over (``_handover``), what the existing
connection adopts (``take_over``), seen while an interceptor holds it before its
answer (between adopting and ready), and that the stream then works both ways.
Both paths: SESSION_RECONNECT (RECONNECT_OK) and a restarted client's CLIENT_IDENT
(SERVER_IDENT, old session reset).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import State, Step
from asyncmsgr.protocol.v2_handshake import Handover
from asyncmsgr.testing.interceptor import TestInterceptor
from asyncmsgr.testing.v2pair import ProtocolPair
from asyncmsgr.types import EntityName, EntityType


@dataclass
class TakeOver:
    """One take-over as the registry saw it, with the existing machine's fields
    read right after ``take_over`` returned."""

    temp: ProtocolBase
    existing: ProtocolBase
    handover: Handover
    seen: dict[str, Any]


_FIELDS = ("state", "replacing", "reconnecting", "connect_started", "_ready_deadline",
           "_banner_done", "_banner_len", "_transcript_on", "_is_server", "_pre",
           "peer_type", "peer_addrs", "target_addr", "peer_name", "features", "auth_meta",
           "_asm", "_rx", "can_write", "last_active")


def _spy(p: ProtocolPair) -> list[TakeOver]:
    seen: list[TakeOver] = []
    original = p.server_registry.on_reuse
    assert original is not None

    def on_reuse(temp: ProtocolBase, existing: ProtocolBase, handover: object) -> None:
        assert isinstance(handover, Handover)
        # what the temporary machine negotiated, before it is stopped (its stream
        # state was already replaced by fresh objects: the handover has it)
        before = {"auth_meta": temp.auth_meta}
        original(temp, existing, handover)
        fields = {name: getattr(existing, name) for name in _FIELDS}
        s = existing.session
        fields.update(client_cookie=s.client_cookie, peer_global_seq=s.peer_global_seq,
                      connect_seq=s.connect_seq, message_seq=s.message_seq,
                      repr=repr(existing), temp_before=before)
        seen.append(TakeOver(temp, existing, handover, fields))

    p.server_registry.on_reuse = on_reuse
    return seen


def _pair() -> ProtocolPair:
    p = ProtocolPair(client_policy=Policy.lossless_client(),
                     server_policy=Policy.stateful_server())
    p.handshake()
    return p


def _hold(p: ProtocolPair, step: Step) -> TestInterceptor:
    """Pause the (existing) server machine before ``step``."""
    t = TestInterceptor()
    t.breakpoint(step)
    p.server.interceptor = t
    return t


def _release(p: ProtocolPair, t: TakeOver, step: Step) -> None:
    assert t.existing.held_step is step
    assert t.existing.state is State.SESSION_ACCEPTING
    t.existing.release(p.now)
    p.transfer()


def _exchange(p: ProtocolPair, tid: int) -> None:
    """A message each way over the adopted stream arrives."""
    p.client_events.clear()
    p.server_events.clear()
    p.client.send_message(MPing(priority=127, tid=tid), p.now)
    p.server.send_message(MPing(priority=127, tid=tid + 1), p.now)
    p.transfer()
    got_server = [e.message.tid for e in p.server_events if isinstance(e, ev.MessageReceived)]
    got_client = [e.message.tid for e in p.client_events if isinstance(e, ev.MessageReceived)]
    assert got_server == [tid]
    assert got_client == [tid + 1]


def _common(t: TakeOver, p: ProtocolPair) -> None:
    f = t.seen
    h = t.handover
    client = p.client
    # the handover carries what the temporary connection negotiated
    assert h.auth_meta is f["temp_before"]["auth_meta"]
    assert h.peer_type == EntityType.CLIENT
    assert h.peer_addrs == p.client_registry.my_addrs
    if not h.reconnect:  # SESSION_RECONNECT does not say who the peer is: kept
        assert h.peer_name == EntityName(EntityType.CLIENT, 4100)
        assert h.features == p.server_registry.policy.features_supported
    assert h.client_cookie == client.session.client_cookie
    assert h.peer_global_seq == client.session.global_seq
    # ... and the existing connection adopts all of it
    assert f["auth_meta"] is h.auth_meta
    assert f["_asm"] is h.asm
    assert f["_rx"] is h.rx
    assert f["_pre"] is None
    assert f["peer_type"] == EntityType.CLIENT
    assert f["peer_addrs"] == p.client_registry.my_addrs
    assert f["target_addr"] == h.target_addr
    assert f["target_addr"] is not None
    assert f["peer_name"] == EntityName(EntityType.CLIENT, 4100)
    assert f["features"] == p.server_registry.policy.features_supported
    assert f["client_cookie"] == client.session.client_cookie
    assert f["peer_global_seq"] == client.session.global_seq
    # the stream is past banner and authentication: no banner, no transcript
    assert f["_banner_done"] is True
    assert f["_banner_len"] == 0
    assert f["_transcript_on"] is False
    assert f["_is_server"] is True
    assert " server " in f["repr"]
    # in between: accepting, replacing, not writable yet, a ready deadline from now
    assert f["replacing"] is True
    assert f["connect_started"] == p.now
    assert f["_ready_deadline"] == p.now + t.existing.options.connection_ready_timeout
    assert f["can_write"] is False
    # the temporary connection is stopped with a reset; it keeps none of the stream
    assert t.temp.state is State.CLOSED
    assert t.temp._asm is not h.asm  # type: ignore[attr-defined]
    assert t.temp._rx is not h.rx



def _after(t: TakeOver) -> None:
    # once released: ready, no longer replacing, no ready deadline
    assert t.existing.state is State.READY
    assert t.existing.replacing is False
    assert t.existing.reconnecting is False
    assert t.existing._ready_deadline is None


def test_reconnect_take_over_adopts_the_stream_and_the_peer() -> None:
    p = _pair()
    existing = p.server
    p.client.send_message(MPing(priority=127, tid=1), p.now)
    p.server.send_message(MPing(priority=127, tid=2), p.now)
    p.transfer()
    p.break_connection()
    seen = _spy(p)
    _hold(p, Step.SEND_RECONNECT_OK)
    p.server_events.clear()
    p.reconnect()
    p.transfer()
    assert p.server is existing
    [t] = seen
    assert t.existing is existing
    h = t.handover
    assert h.reconnect is True
    assert h.reset_existing is False
    assert h.connect_seq == p.client.session.connect_seq
    assert h.connect_seq > 0
    assert h.msg_seq == p.client.session.in_seq == 1  # the server's message it had
    _common(t, p)
    f = t.seen
    assert f["reconnecting"] is True
    assert f["state"] is State.SESSION_ACCEPTING
    assert f["connect_seq"] == h.connect_seq
    assert f["message_seq"] == h.msg_seq
    _release(p, t, Step.SEND_RECONNECT_OK)
    _after(t)
    assert existing.session.connect_seq == h.connect_seq
    assert ev.Accepted(reconnect=True) in p.server_events
    assert ev.CloseSocket(reason="socket moved into the existing session") in p.server_events
    _exchange(p, 10)


def test_restarted_client_take_over_answers_server_ident() -> None:
    p = _pair()
    existing = p.server
    p.break_connection()
    fresh = ProtocolPair(client_policy=Policy.lossless_client(),
                         server_policy=Policy.stateful_server(), seed=2)
    p.client = fresh.client
    p.client.registry = p.client_registry
    p.client_registry.machines["client"] = p.client
    p.client_events = []
    seen = _spy(p)
    _hold(p, Step.SEND_SERVER_IDENTITY)
    p.server_events.clear()
    p.reconnect()
    p.transfer()
    assert p.server is existing
    [t] = seen
    h = t.handover
    assert h.reconnect is False
    assert h.reset_existing is True
    assert h.connect_seq == 0
    assert h.msg_seq == 0
    _common(t, p)
    assert t.seen["reconnecting"] is False
    assert t.seen["state"] is State.SESSION_ACCEPTING
    _release(p, t, Step.SEND_SERVER_IDENTITY)
    _after(t)
    assert ev.Accepted(reconnect=False) in p.server_events
    assert ev.CloseSocket(reason="socket moved into the existing session") in p.server_events
    assert ev.RemoteReset() in p.server_events
    _exchange(p, 20)


def test_take_over_without_a_pause_is_ready_at_once_and_active_now() -> None:
    """Not held: SERVER_IDENT / RECONNECT_OK go out and the session is ready, active
    as of the take-over (the idle timer counts from then)."""
    for restart in (False, True):
        p = _pair()
        existing = p.server
        p.break_connection()
        p.now += 5.0
        if restart:
            fresh = ProtocolPair(client_policy=Policy.lossless_client(),
                                 server_policy=Policy.stateful_server(), seed=2)
            p.client = fresh.client
            p.client.registry = p.client_registry
            p.client_registry.machines["client"] = p.client
        seen = _spy(p)
        p.reconnect()
        p.transfer()
        [t] = seen
        assert t.handover.reconnect is not restart
        assert t.seen["state"] is State.READY
        assert t.seen["last_active"] == p.now  # before anything was written
        assert existing.last_active == p.now
        _exchange(p, 30)
