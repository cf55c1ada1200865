"""What each msgr2 handshake step records and sends, field by field: SERVER_IDENT
(both sides), RECONNECT_OK, the server cookie, the accept_conn refusal, the
messages a reconnect finds the peer already had, a new session's requeued
messages, CLIENT_IDENT without addresses, IDENT_MISSING_FEATURES, AUTH_BAD_METHOD,
WAIT and ``infer_target_addr`` (Ceph Pacific ``ProtocolV2``).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field

import pytest
from handshake_walk import V2Walk, inject
from v2pair_helpers import Recorder

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer, AuthReply
from asyncmsgr.crypto.onwire import GcmTx, SecureKeys
from asyncmsgr.errors import AuthFailed
from asyncmsgr.features import CEPH_FEATURE_CEPHX_V2, CEPH_FEATURE_SERVER_PACIFIC, MSGR2_REQUIRED
from asyncmsgr.frames.assembler import FrameAssembler
from asyncmsgr.frames.v2 import (
    CON_MODE_CRC,
    CON_MODE_SECURE,
    ClientIdentFrame,
    ServerIdentFrame,
    Tag,
    WaitFrame,
)
from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.common import State, Step
from asyncmsgr.protocol.v2_handshake import existing_view, infer_target_addr
from asyncmsgr.testing.dummy_auth import AUTH_DUMMY, DummyAuthClient, DummyAuthServer
from asyncmsgr.testing.interceptor import TestInterceptor
from asyncmsgr.testing.v2pair import FakeRegistry, ProtocolPair
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec, EntityName, EntityType


def closes(events: list[ev.Event]) -> list[str]:
    return [e.reason for e in events if isinstance(e, ev.CloseSocket)]


def tids(events: list[ev.Event]) -> list[int]:
    return [e.message.tid for e in events if isinstance(e, ev.MessageReceived)]


def lockstep(p: ProtocolPair) -> None:
    """``transfer``, checking after every delivery that the receiver counts itself
    active as of now (no step may leave ``last_active`` behind)."""
    for _ in range(100):
        moved = 0
        for src, dst in ((p.client, p.server), (p.server, p.client)):
            chunks = src.data_to_send(p.now)
            if not chunks:
                continue
            data = b"".join(bytes(c) for c in chunks)
            moved += len(data)
            dst.receive_data(data, p.now)
            assert dst.last_active == p.now
            p._collect()
        if not moved:
            return
    raise AssertionError("did not go quiet")


def lossless() -> ProtocolPair:
    return ProtocolPair(client_policy=Policy.lossless_client(),
                        server_policy=Policy.stateful_server())


# -- SERVER_IDENT ----------------------------------------------------------------------


def test_server_ident_fields_on_both_sides() -> None:
    # the server does not support one feature the client does: both use the intersection
    server_policy = dataclasses.replace(
        Policy.stateful_server(features_required=CEPH_FEATURE_SERVER_PACIFIC),
        features_supported=Policy().features_supported & ~CEPH_FEATURE_CEPHX_V2)
    p = ProtocolPair(client_policy=Policy.lossless_client(), server_policy=server_policy)
    sent: list[object] = []
    queue = p.server._queue_frame  # type: ignore[attr-defined]

    def spy(frame: object) -> None:
        sent.append(frame)
        queue(frame)

    p.server._queue_frame = spy  # type: ignore[attr-defined]
    p.client.backoff = 3.0
    p.connect()
    lockstep(p)
    assert p.client.state is State.READY
    assert p.server.state is State.READY
    [ident] = [f for f in sent if isinstance(f, ServerIdentFrame)]
    assert ident.required_features == CEPH_FEATURE_SERVER_PACIFIC | MSGR2_REQUIRED
    assert ident.supported_features == server_policy.features_supported
    both = Policy().features_supported & ~CEPH_FEATURE_CEPHX_V2
    assert p.client.features == both
    assert p.server.features == both
    assert p.client.peer_name == EntityName(EntityType.OSD, 0)
    assert p.client.session.peer_global_seq == ident.global_seq > 0
    assert p.client.session.server_cookie == ident.cookie
    assert p.client.backoff == 0.0
    # registered under the client's addresses, and nothing else
    assert set(p.server_registry.registered) == {p.client_registry.my_addrs}


class _LowRng(random.Random):
    """Always the lowest value asked for."""

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        return 0 if stop is None else start


def test_session_cookies_are_never_zero() -> None:
    """0 means "no session": the lowest cookie either side may pick is 1."""
    p = lossless()
    p.client.rng = _LowRng()
    p.server.rng = _LowRng()
    p.handshake()
    assert p.client.session.client_cookie == 1
    assert p.server.session.server_cookie == 1
    assert p.client.session.server_cookie == 1


class _Refusing(FakeRegistry):
    """A registry in which another connection owns every peer address."""

    __slots__ = ()

    def accept_conn(self, conn: object, peer_addrs: EntityAddrVec) -> bool:
        self.accepted.append(peer_addrs)
        return False


def test_server_ident_refused_by_the_registry_faults() -> None:
    p = lossless()
    p.server_registry.__class__ = _Refusing
    p.connect()
    p.transfer()
    assert closes(p.server_events) == ["another connection owns this peer address"]
    assert p.server_registry.accepted == [p.client_registry.my_addrs]
    assert "send_SERVER_IDENT" not in p.server.handshake_counts
    assert p.server.state is State.CLOSED


def test_reconnect_ok_refused_by_the_registry_faults() -> None:
    p = lossless()
    p.handshake()
    existing = p.server
    p.break_connection()
    p.server_events.clear()
    p.server_registry.__class__ = _Refusing
    p.reconnect()
    p.transfer()
    assert "another connection owns this peer address" in closes(p.server_events)
    assert p.client_registry.my_addrs in p.server_registry.accepted
    assert p.server_registry.accepted[-1] == p.client_registry.my_addrs
    assert "send_SESSION_RECONNECT_OK" not in existing.handshake_counts
    assert existing.state is State.STANDBY  # a server session waits for the client


# -- RECONNECT_OK ----------------------------------------------------------------------


def test_reconnect_reports_what_the_peer_already_had_as_acked() -> None:
    """The client got the server's messages but its ACK was lost: on reconnect the
    server learns it from msg_seq, reports them acknowledged and does not resend."""
    p = lossless()
    p.handshake()
    existing = p.server
    for tid in (1, 2, 3):
        existing.send_message(MPing(priority=127, tid=tid), p.now)
    data = b"".join(bytes(c) for c in existing.data_to_send(p.now))
    p.client.receive_data(data, p.now)
    p._collect()
    assert tids(p.client_events) == [1, 2, 3]
    p.client_events.clear()
    p.break_connection()  # before the client's ACK left
    p.server_events.clear()
    p.client.backoff = 3.0
    rec = Recorder.install(existing)
    p.reconnect()
    lockstep(p)
    assert rec.counts.get("msgr_send_messages", 0) == 0  # none sent again
    assert p.server is existing
    acked = [m.tid for e in p.server_events if isinstance(e, ev.MessagesAcked)
             for m in e.messages]
    assert acked == [1, 2, 3]
    assert tids(p.client_events) == []  # nothing twice
    assert p.client.backoff == 0.0
    assert set(p.server_registry.registered) == {p.client_registry.my_addrs}


def test_new_session_keeps_every_requeued_message() -> None:
    """A restarted peer reusing a session without resetcheck (lossless_peer): the
    server's unacknowledged messages are all sent again, from seq 1."""
    policy = Policy.lossless_peer()
    p = ProtocolPair(client_policy=policy, server_policy=policy)
    p.handshake()
    existing = p.server
    for tid in (1, 2):
        existing.send_message(MPing(priority=127, tid=tid), p.now)
    existing.data_to_send(p.now)  # sent, never received
    p.break_connection()
    fresh = ProtocolPair(client_policy=policy, server_policy=policy, seed=2)
    p.client = fresh.client
    p.client.registry = p.client_registry
    p.client_registry.machines["client"] = p.client
    p.client_events = []
    p.reconnect()
    p.transfer()
    assert p.server is existing
    assert tids(p.client_events) == [1, 2]


# -- CLIENT_IDENT / IDENT_MISSING_FEATURES ------------------------------------------------


class _Unlearning(FakeRegistry):
    """A client registry that does not learn its address from HELLO."""

    __slots__ = ()

    def learned_addr(self, peer_addr_for_me: EntityAddr) -> None:
        self.learned.append(peer_addr_for_me)


@pytest.mark.parametrize("addrs", [(), (EntityAddr(),)], ids=["none", "blank"])
def test_client_ident_without_addresses_is_a_decode_fault(
        addrs: tuple[EntityAddr, ...]) -> None:
    p = lossless()
    p.client_registry.__class__ = _Unlearning
    p.client_registry.my_addrs = EntityAddrVec(addrs)
    p.connect()
    p.transfer()
    assert closes(p.server_events) == ["DecodeError: client_ident with empty addrs"]


def test_ident_missing_features_names_them() -> None:
    p = ProtocolPair(
        client_policy=dataclasses.replace(
            Policy.lossless_client(),
            features_supported=Policy().features_supported & ~CEPH_FEATURE_CEPHX_V2),
        server_policy=Policy.stateful_server(features_required=CEPH_FEATURE_CEPHX_V2))
    p.connect()
    p.transfer()
    [reason] = closes(p.client_events)[:1]
    assert reason == (f"MissingFeatures: server requires features "
                      f"{CEPH_FEATURE_CEPHX_V2:#x} we lack")


# -- AUTH_BAD_METHOD ----------------------------------------------------------------------


@dataclass(slots=True)
class _RecordingClient(DummyAuthClient):
    seen: list[tuple[object, ...]] = field(default_factory=list)

    def handle_auth_bad_method(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               old_method: int, result: int,
                               allowed_methods: tuple[int, ...],
                               allowed_modes: tuple[int, ...]) -> bool:
        self.seen.append((peer, old_method, result, allowed_methods, allowed_modes,
                          meta.allowed_methods, meta.allowed_modes))
        return False

    def handle_auth_reply_more(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               payload: bytes) -> bytes:
        self.seen.append((peer,))
        return DummyAuthClient.handle_auth_reply_more(self, peer, meta, payload)


@dataclass(slots=True)
class _RefusingServer(DummyAuthServer):
    peer_types: list[int] = field(default_factory=list)

    def get_supported_auth_methods(self, peer_type: int) -> tuple[tuple[int, ...],
                                                                   tuple[int, ...]]:
        self.peer_types.append(peer_type)
        return (AUTH_DUMMY, 7), (CON_MODE_CRC,)

    def handle_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta, more: bool,
                            method: int, payload: bytes) -> AuthReply:
        raise AuthFailed("not today", -95)


def test_auth_bad_method_is_recorded_and_refused_with_the_servers_result() -> None:
    client = _RecordingClient()
    server = _RefusingServer()
    p = ProtocolPair(client_auth=client, server_auth=server)
    p.connect()
    p.transfer()
    assert server.peer_types == [EntityType.CLIENT]
    [(peer, method, result, methods, modes, meta_methods, meta_modes)] = client.seen
    assert isinstance(peer, AuthPeer)
    assert peer.peer_type == EntityType.OSD
    assert peer.my_type == EntityType.CLIENT
    assert peer.peer_addrs == p.client.peer_addrs
    assert peer.peer_addrs is not None
    assert (method, result) == (AUTH_DUMMY, -95)
    assert methods == meta_methods == (AUTH_DUMMY, 7)
    assert modes == meta_modes == (CON_MODE_CRC,)
    assert p.client.auth_meta.allowed_methods == (AUTH_DUMMY, 7)
    assert p.client.auth_meta.allowed_modes == (CON_MODE_CRC,)
    [reason] = closes(p.client_events)[:1]
    assert reason == (f"AuthFailed: server refused auth method {AUTH_DUMMY} "
                      f"(result -95, allowed [{AUTH_DUMMY}, 7])")


def test_auth_reply_more_gives_the_auth_client_the_peer() -> None:
    client = _RecordingClient()
    p = ProtocolPair(client_auth=client, server_auth=DummyAuthServer())
    p.handshake()
    [(peer,)] = client.seen
    assert isinstance(peer, AuthPeer)
    assert peer.peer_type == EntityType.OSD


# -- infer_target_addr ---------------------------------------------------------------------


V4 = EntityAddr.from_host("10.0.0.1", 3300, nonce=5)
V4_LEGACY = EntityAddr.from_host("10.0.0.1", 6789, type=AddrType.LEGACY, nonce=5)
V6 = EntityAddr.from_host("::1", 3300, nonce=5)
SOCKET_V4 = EntityAddr.from_host("10.0.0.9", 40000, nonce=0)


@pytest.mark.parametrize(("addrs", "expected"), [
    ((V4_LEGACY, V4), V4),          # the msgr2 address, not the legacy one
    ((V6, V4), V4),                 # the socket's family
    ((V4_LEGACY,), SOCKET_V4),      # only legacy: the socket address
    ((V6,), SOCKET_V4),             # no address of the socket's family
])
def test_infer_target_addr(addrs: tuple[EntityAddr, ...], expected: EntityAddr) -> None:
    assert infer_target_addr(EntityAddrVec(addrs), SOCKET_V4) == expected


# -- WAIT -------------------------------------------------------------------------------


def test_wait_backs_off_the_most_and_says_why() -> None:
    w = V2Walk()
    w.connect()
    client = w.run_until("client", State.SESSION_CONNECTING)
    chunks = FrameAssembler(rev1=True).assemble(Tag.WAIT, (WaitFrame().encode_payload(),))
    seen = inject(client, b"".join(bytes(c) for c in chunks), w.pair.now, "recv_WAIT")
    assert seen.handled == 1
    assert seen.reasons == ["received WAIT (connection race)"]
    assert seen.state is State.START_CONNECT
    assert client.backoff == client.options.max_backoff


# -- SESSION_RECONNECT answers ------------------------------------------------------------


def _reconnect_with(p: ProtocolPair, *, cookie_delta: int = 0, forget: bool = False) -> None:
    p.client.send_message(MPing(priority=127, tid=5), p.now)  # queued across the reset
    p.break_connection()
    p.client.session.client_cookie += cookie_delta
    if forget:  # the server lost the session (restarted)
        p.server_registry.registered.clear()
    p.server_events.clear()
    p.client_events.clear()
    p.reconnect()
    p.transfer()


@pytest.mark.parametrize(("resetcheck", "full"), [(True, True), (False, False)])
def test_reconnect_with_another_cookie_is_reset_full_as_resetcheck_says(
        resetcheck: bool, full: bool) -> None:
    server_policy = dataclasses.replace(Policy.stateful_server(), resetcheck=resetcheck)
    p = ProtocolPair(client_policy=Policy.lossless_client(), server_policy=server_policy)
    p.handshake()
    _reconnect_with(p, cookie_delta=1)
    assert p.client.handshake_counts.get("recv_SESSION_RESET") == 1
    assert (ev.RemoteReset() in p.client_events) is full
    assert p.client.state is State.READY


def test_reconnect_to_a_server_without_the_session_is_reset_full() -> None:
    p = lossless()
    p.handshake()
    _reconnect_with(p, forget=True)
    assert p.client.handshake_counts.get("recv_SESSION_RESET") == 1
    assert ev.RemoteReset() in p.client_events
    assert p.client.state is State.READY


# -- existing_view ---------------------------------------------------------------------------


def test_existing_view_reports_the_registered_connection() -> None:
    p = lossless()
    p.handshake()
    server = p.server
    view = existing_view(server)  # type: ignore[arg-type]
    assert view.closed is False
    assert view.replacing is False
    assert view.ready_or_standby is True
    assert view.lossy is False
    assert view.server is True
    assert view.client_cookie == p.client.session.client_cookie
    assert view.server_cookie == server.session.server_cookie
    assert view.peer_addr == p.client_registry.my_addrs.msgr2_addr
    assert view.peer_addr is not None
    server.replacing = True
    assert existing_view(server).replacing is True  # type: ignore[arg-type]
    server.replacing = False
    p.break_connection()
    assert server.state is State.STANDBY
    assert existing_view(server).ready_or_standby is True  # type: ignore[arg-type]
    server.stop()
    view = existing_view(server)  # type: ignore[arg-type]
    assert view.closed is True
    assert view.ready_or_standby is False
    # a connection still shaking hands is neither
    q = lossless()
    q.connect()
    assert existing_view(q.server).ready_or_standby is False  # type: ignore[arg-type]
    assert existing_view(q.server).closed is False  # type: ignore[arg-type]


# -- reconnect races (equal connect_seq: the address order decides) ---------------------------


def _racing_peers(client_nonce: int) -> ProtocolPair:
    p = ProtocolPair(client_policy=Policy.lossless_peer(),
                     server_policy=Policy.lossless_peer())
    p.client_registry.my_addrs = EntityAddrVec((EntityAddr(type=AddrType.MSGR2,
                                                           nonce=client_nonce),))
    p.handshake()
    existing = p.server
    p.break_connection()
    p.server_events.clear()
    p.client_events.clear()
    p.client.send_message(MPing(priority=127, tid=1), p.now)  # kicks the standby client
    # the server connected too meanwhile: the same connect_seq on both sides
    existing.session.connect_seq = p.client.session.connect_seq
    return p


def test_reconnect_race_lower_peer_address_is_reused() -> None:
    # memcmp order (same type): nonce 77's LE bytes (4d 00) sort before 1234's (d2 04)
    p = _racing_peers(77)
    existing = p.server
    p.reconnect()
    p.transfer()
    assert p.client.handshake_counts.get("recv_SESSION_RECONNECT_OK") == 1
    assert p.server is existing
    assert tids(p.server_events) == [1]


def test_reconnect_race_higher_peer_address_waits() -> None:
    p = _racing_peers(0xFFFF)  # ff ff sorts after d2 04: the existing connection wins
    p.reconnect()
    p.transfer()
    assert p.client.handshake_counts.get("recv_WAIT") == 1
    assert "received WAIT (connection race)" in closes(p.client_events)


def test_client_ident_with_an_address_of_another_family_is_not_blank() -> None:
    """Ceph refuses only ``entity_addr_t()``: a family it cannot parse (AF_UNIX, no
    ip bytes) is still an address."""
    p = lossless()
    p.client_registry.__class__ = _Unlearning
    p.client_registry.my_addrs = EntityAddrVec((EntityAddr(type=AddrType.MSGR2, nonce=77,
                                                           family=1),))
    p.connect()
    p.transfer()
    assert "DecodeError: client_ident with empty addrs" not in closes(p.server_events)
    assert p.server.handshake_counts.get("send_SERVER_IDENT") == 1


# -- more of CLIENT_IDENT ---------------------------------------------------------------------


def _queued(machine: object) -> list[object]:
    sent: list[object] = []
    queue = machine._queue_frame  # type: ignore[attr-defined]

    def spy(frame: object) -> None:
        sent.append(frame)
        queue(frame)

    machine._queue_frame = spy  # type: ignore[attr-defined]
    return sent


@pytest.mark.parametrize(("policy", "flags"), [(Policy.lossy_client(), 1),
                                                (Policy.lossless_client(), 0)])
def test_client_ident_fields(policy: Policy, flags: int) -> None:
    p = ProtocolPair(client_policy=policy, server_policy=Policy.stateful_server())
    sent = _queued(p.client)
    p.handshake()
    [ident] = [f for f in sent if isinstance(f, ClientIdentFrame)]
    assert ident.flags == flags
    assert ident.required_features == policy.features_required | MSGR2_REQUIRED
    assert ident.required_features & MSGR2_REQUIRED == MSGR2_REQUIRED


def test_auth_signature_over_other_bytes_is_refused() -> None:
    p = ProtocolPair(client_auth=DummyAuthClient(), server_auth=DummyAuthServer())
    p.connect()
    p.client._tx_transcript.extend(b"not what the server saw")  # type: ignore[attr-defined]
    p.transfer()
    assert closes(p.client_events)[:1] == ["AuthFailed: pre-auth signature mismatch"]


def test_client_ident_after_the_session_was_stopped_opens_a_new_one() -> None:
    p = lossless()
    p.handshake()
    old = p.server
    p.break_connection()
    old.stop()  # stopped, still registered
    p.reconnect()
    p.transfer()
    assert p.server is not old
    assert p.server.state is State.READY
    assert p.client.state is State.READY


def test_client_ident_replaces_a_lossy_registered_connection() -> None:
    server_policy = dataclasses.replace(Policy.stateless_server(), register_lossy_clients=True)
    p = ProtocolPair(client_policy=Policy.lossy_client(), server_policy=server_policy)
    p.handshake()
    old = p.server  # still open: the client's new connection replaces it
    p.client = ProtocolPair(client_policy=Policy.lossy_client(), seed=3).client
    p.client.registry = p.client_registry
    p.client_registry.machines["client"] = p.client
    p.server_events.clear()
    old.events_received()
    p.reconnect()
    lockstep(p)
    assert old in p.server_registry.stopped
    assert ev.ResetSession() in old.events_received()  # stopped with a reset
    assert p.server is not old
    assert p.server.state is State.READY


def test_client_ident_older_than_the_session_is_stale() -> None:
    p = lossless()
    p.handshake()
    old = p.server
    p.break_connection()
    old.session.peer_global_seq = 1 << 40  # the session saw a later connection
    p.client = ProtocolPair(seed=4).client
    p.client.registry = p.client_registry
    p.client_registry.machines["client"] = p.client
    p.server_events.clear()
    p.reconnect()
    p.transfer()
    assert "stale connection (older global_seq)" in closes(p.server_events)


# -- the server's auth steps ---------------------------------------------------------------


def test_server_without_auth_server_refuses_auth_request() -> None:
    p = lossless()
    p.server.auth_server = None
    p.connect()
    p.transfer()
    assert closes(p.server_events)[:1] == ["AuthFailed: no auth server configured"]


@dataclass(slots=True)
class _BusyServer(DummyAuthServer):
    """Records what it is asked; answers EBUSY (-16)."""

    modes_asked: list[int] = field(default_factory=list)
    peers: list[AuthPeer] = field(default_factory=list)

    def pick_con_mode(self, peer_type: int, method: int,
                      preferred_modes: tuple[int, ...]) -> int:
        self.modes_asked.append(peer_type)
        return CON_MODE_CRC

    def handle_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta, more: bool,
                            method: int, payload: bytes) -> AuthReply:
        self.peers.append(peer)
        raise AuthFailed("busy", -16)


def test_busy_auth_server_drops_the_connection_instead_of_bad_method() -> None:
    server = _BusyServer()
    p = ProtocolPair(client_auth=DummyAuthClient(), server_auth=server)
    p.connect()
    p.transfer()
    assert server.modes_asked == [EntityType.CLIENT]
    [peer] = server.peers
    assert peer.peer_type == EntityType.CLIENT
    assert closes(p.server_events)[:1] == ["AuthFailed: busy"]
    assert "recv_AUTH_BAD_METHOD" not in p.client.handshake_counts


def test_auth_done_held_by_an_interceptor_goes_out_when_released() -> None:
    t = TestInterceptor()
    t.breakpoint(Step.HANDLE_AUTH_REQUEST_ACCEPTING_SIGN)
    p = ProtocolPair(client_auth=DummyAuthClient(), server_auth=DummyAuthServer())
    p.server.interceptor = t
    p.connect()
    p.transfer()
    assert p.server.held_step is Step.HANDLE_AUTH_REQUEST_ACCEPTING_SIGN
    assert "recv_AUTH_DONE" not in p.client.handshake_counts
    p.server.release(p.now)
    p.transfer()
    assert p.client.state is State.READY
    assert p.server.state is State.READY


def test_secure_mode_uses_rev1_nonces() -> None:
    p = ProtocolPair(client_auth=DummyAuthClient(modes=(CON_MODE_SECURE,)),
                     server_auth=DummyAuthServer(modes=(CON_MODE_SECURE,)))
    p.handshake()
    p.client.send_message(MPing(priority=127, tid=1), p.now)
    p.transfer()
    keys = SecureKeys.from_connection_secret(p.client.auth_meta.connection_secret,
                                             crossed=False)
    tx = p.client._asm.tx  # type: ignore[attr-defined]
    assert isinstance(tx, GcmTx)
    reference = GcmTx(keys.key, keys.tx_nonce, rev1=True)
    for _ in range(tx.nonces_used):
        reference.encrypt(b"")
    assert tx.next_nonce() == reference.next_nonce()
    assert tx.nonces_used > 1


def test_accepted_and_connected_say_whether_they_resumed() -> None:
    p = lossless()
    p.handshake()
    [a] = [e for e in p.server_events if isinstance(e, ev.Accepted)]
    [c] = [e for e in p.client_events if isinstance(e, ev.Connected)]
    assert a.reconnect is False
    assert c.reconnect is False
    p.break_connection()
    p.server_events.clear()
    p.client_events.clear()
    p.reconnect()
    p.transfer()
    [a] = [e for e in p.server_events if isinstance(e, ev.Accepted)]
    [c] = [e for e in p.client_events if isinstance(e, ev.Connected)]
    assert a.reconnect is True
    assert c.reconnect is True
