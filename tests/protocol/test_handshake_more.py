"""Handshake paths the mutation campaign found unguarded (Ceph Pacific
``ProtocolV1.cc`` / ``ProtocolV2.cc``): a whole handshake arriving in one read is
processed without waiting for more bytes; an accepting connection refused by the
registry that then reconnects by itself (a non-server policy with messages queued)
schedules it from the current time; a msgr2 CLIENT_IDENT resent with the same
client cookie continues the interrupted session establishment (no reset); the
msgr2 connection race is decided by comparing the peer's address with ours; a v1
take-over's RETRY_GLOBAL carries the authorizer reply; a v1 session replacing a
lossy one at connect_seq 1 is a reconnect; and the early msgr2-banner refusal's text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer, AuthReply, AuthRequest
from asyncmsgr.auth.none import AuthNoneClient
from asyncmsgr.features import CEPH_FEATURES_ALL
from asyncmsgr.frames.v1 import (
    BANNER,
    CEPH_OSDC_PROTOCOL,
    CONNECT_REPLY_LEN,
    ConnectMsg,
    ConnectReply,
    V1Tag,
)
from asyncmsgr.frames.v2 import CON_MODE_CRC, encode_banner
from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import ProtocolOptions, State
from asyncmsgr.protocol.v1 import ProtocolV1
from asyncmsgr.protocol.v2 import ProtocolV2
from asyncmsgr.testing.v2pair import SERVER_V1_ADDR, FakeRegistry, ProtocolPair
from asyncmsgr.types import AddrType, AuthName, EntityAddr, EntityAddrVec, EntityName, EntityType
from asyncmsgr.wire.codecs import encode_legacy_addr

pytestmark = pytest.mark.timeout(30)


def _closes(events: list[ev.Event]) -> list[str]:
    return [e.reason for e in events if isinstance(e, ev.CloseSocket)]


def _state(m: ProtocolBase) -> State:
    return m.state  # read through a call: mypy keeps no narrowing across steps


def _received(events: list[ev.Event]) -> list[int]:
    return [e.message.tid for e in events if isinstance(e, ev.MessageReceived)]


# -- everything in one read ----------------------------------------------------------


@pytest.mark.parametrize("protocol", [1, 2])
def test_a_whole_handshake_in_one_read_is_processed_at_once(protocol: int) -> None:
    """Each side's complete stream of a recorded handshake (and a message), fed in
    one piece to a fresh pair with the same seed: nothing waits for a next read."""
    recorded = ProtocolPair(protocol=protocol)
    recorded.handshake()
    recorded.client.send_message(MPing(priority=127, tid=7), recorded.now)
    recorded.server.send_message(MPing(priority=127, tid=8), recorded.now)
    recorded.transfer()
    c2s, s2c = b"".join(recorded.wire_c2s), b"".join(recorded.wire_s2c)

    p = ProtocolPair(protocol=protocol)
    p.connect()
    p.client.data_to_send(p.now)
    p.server.data_to_send(p.now)
    p.server.receive_data(c2s, p.now)
    assert p.server.state is p.machine_class.OPEN_STATE
    assert _received(p.server.events_received()) == [7]
    p.client.receive_data(s2c, p.now)
    assert p.client.state is p.machine_class.OPEN_STATE
    assert _received(p.client.events_received()) == [8]


# -- refused by the registry, then reconnecting by itself -----------------------------


class _Refusing(FakeRegistry):
    """A registry where another connection always owns the peer's address."""

    __slots__ = ()

    def accept_conn(self, conn: object, peer_addrs: EntityAddrVec) -> bool:
        self.accepted.append(conn)
        return False


def _refuse(p: ProtocolPair) -> None:
    p.server_registry.__class__ = _Refusing


@pytest.mark.parametrize("protocol", [1, 2])
def test_refused_accept_with_queued_messages_reconnects_after_a_backoff(
        protocol: int) -> None:
    """Ceph's ``_fault()`` on the accepting side of a lossless peer with messages
    queued: not stopped, it connects to the peer itself, after the first backoff
    counted from now (SERVER_IDENT / open refused by accept_conn)."""
    p = ProtocolPair(protocol=protocol, client_policy=Policy.lossless_peer(),
                     server_policy=Policy.lossless_peer())
    p.server.send_message(MPing(priority=127, tid=5), p.now)
    _refuse(p)
    p.connect()
    p.transfer()
    backoff = ProtocolOptions().initial_backoff
    assert _closes(p.server_events) == ["another connection owns this peer address"]
    assert [e for e in p.server_events if isinstance(e, ev.NeedConnect)] == [
        ev.NeedConnect(at=p.now + backoff)]
    assert p.server.state is State.START_CONNECT


def test_refused_reconnect_ok_with_queued_messages_reconnects_after_a_backoff() -> None:
    """The same on msgr2's SESSION_RECONNECT path (RECONNECT_OK refused)."""
    p = ProtocolPair(client_policy=Policy.lossless_peer(),
                     server_policy=Policy.lossless_peer())
    p.handshake()
    p.break_connection()
    existing = p.server
    existing.send_message(MPing(priority=127, tid=6), p.now)
    p.server_events.clear()
    _refuse(p)
    p.now += 3.0
    p.reconnect()
    p.transfer()
    assert p.server is existing
    assert existing.handshake_counts.get("send_SESSION_RECONNECT_OK", 0) == 0
    assert _closes(p.server_events)[-1] == "another connection owns this peer address"
    backoff = ProtocolOptions().initial_backoff
    assert [e for e in p.server_events if isinstance(e, ev.NeedConnect)][-1] == \
        ev.NeedConnect(at=p.now + backoff)


# -- msgr2 CLIENT_IDENT against an existing session ---------------------------------


def test_client_ident_with_the_same_cookie_continues_without_reset() -> None:
    """``handle_existing_connection``: SERVER_IDENT never reached the client, which
    sends CLIENT_IDENT again with its cookie: the session establishment continues on
    the existing connection, which is not reset (stateful server: resetcheck on)."""
    p = ProtocolPair(client_policy=Policy.lossless_client(),
                     server_policy=Policy.stateful_server())
    assert p.server_registry.policy.resetcheck
    p.connect()
    # the server answers SERVER_IDENT (and is READY) but the answer is lost
    p.transfer(trickle=1 << 20,
               mangle_s2c=lambda d: b"" if p.server.state is State.READY else d)
    existing = p.server
    cookie = p.client.session.client_cookie
    assert existing.session.client_cookie == cookie != 0
    assert existing.session.server_cookie != 0
    assert p.client.session.server_cookie == 0
    p.break_connection()
    assert _state(existing) is State.STANDBY
    handovers: list[object] = []
    original = p.server_registry.on_reuse
    assert original is not None

    def spy(temp: object, machine: object, handover: object) -> None:
        handovers.append(handover)
        original(temp, machine, handover)  # type: ignore[arg-type]

    p.server_registry.on_reuse = spy
    p.server_events.clear()
    p.reconnect()
    p.transfer()
    assert p.server is existing
    [h] = handovers
    assert h.reconnect is False  # type: ignore[attr-defined]
    assert h.reset_existing is False  # type: ignore[attr-defined]
    assert ev.RemoteReset() not in p.server_events
    assert existing.session.client_cookie == cookie
    assert p.client.state is State.READY
    assert existing.state is State.READY


def _racing_pair(client_nonce: int) -> tuple[ProtocolPair, ProtocolV2]:
    """Two lossless peers; the server side also connects to the client (its own
    connection, still in the banner exchange) when the client's arrives."""
    p = ProtocolPair(client_policy=Policy.lossless_peer(),
                     server_policy=Policy.lossless_peer())
    addrs = EntityAddrVec((EntityAddr.from_host("127.0.0.1", 40001, nonce=client_nonce),))
    p.client_registry.my_addrs = addrs
    mine = ProtocolV2(owner="mine", registry=p.server_registry, options=ProtocolOptions(),
                      policy=Policy.lossless_peer(),
                      auth_client=AuthNoneClient(AuthName(EntityType.OSD, "0")),
                      peer_type=EntityType.CLIENT, target_addr=addrs.addrs[0],
                      rng=random.Random(9))
    p.server_registry.machines["mine"] = mine
    p.server_registry.registered[addrs] = mine
    mine.start_connect(p.now)
    mine.connection_made(p.now)
    mine.data_to_send(p.now)
    return p, mine


def test_connection_race_peer_with_the_lower_address_wins() -> None:
    # entity_addr_t order compares the nonce's little-endian bytes: 05 < d2 (1234)
    p, mine = _racing_pair(5)
    p.connect()
    p.transfer()
    assert p.server is mine  # its socket moved into our connection
    assert p.client.state is State.READY
    assert p.client.handshake_counts.get("recv_WAIT", 0) == 0
    assert p.server_registry.kicked == []


def test_connection_race_peer_with_the_higher_address_waits() -> None:
    p, mine = _racing_pair(255)  # ff > d2
    p.connect()
    p.transfer()
    assert p.server is not mine
    assert p.client.handshake_counts.get("recv_WAIT", 0) == 1
    assert p.server_registry.kicked == [mine]


# -- msgr v1 ------------------------------------------------------------------------


@dataclass
class _ProofClient:
    """An authorizer of another method than cephx; records the replies it is given."""

    replies: list[bytes] = field(default_factory=list)

    def get_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta) -> AuthRequest:
        return AuthRequest(1, (CON_MODE_CRC,), b"authorizer")

    def handle_auth_done(self, peer: AuthPeer, meta: AuthConnectionMeta, global_id: int,
                         con_mode: int, payload: bytes) -> None:
        self.replies.append(payload)


@dataclass
class _ProofServer:
    """Accepts any authorizer in one round with a fixed reply."""

    def handle_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta, more: bool,
                            method: int, payload: bytes) -> AuthReply:
        return AuthReply(done=True, payload=b"proof")


def test_v1_take_over_retry_global_carries_the_authorizer_reply() -> None:
    client = _ProofClient()
    p = ProtocolPair(protocol=1, client_auth=client,  # type: ignore[arg-type]
                     server_auth=_ProofServer())  # type: ignore[arg-type]
    p.handshake()
    p.break_connection()
    start = len(p.wire_s2c)
    p.reconnect()
    p.transfer()
    replies = [(ConnectReply.decode(x[:CONNECT_REPLY_LEN]), x[CONNECT_REPLY_LEN:])
               for x in p.wire_s2c[start:] if len(x) != len(BANNER) + 2 * 136]
    assert [r.tag for r, _ in replies] == [V1Tag.RETRY_GLOBAL, V1Tag.SEQ]
    retry, rest = replies[0]
    assert retry.authorizer_len == 5
    assert rest == b"proof"
    assert p.client.state is State.OPEN


class _V1Server:
    """A v1 server machine fed raw bytes (tolerating a missing authorizer)."""

    def __init__(self, policy: Policy) -> None:
        self.registry = FakeRegistry(EntityName(EntityType.OSD, 3),
                                     EntityAddrVec((SERVER_V1_ADDR,)), policy,
                                     tolerate_missing_authorizer=True)
        self.machine = ProtocolV1(owner="s", registry=self.registry,
                                  options=ProtocolOptions(), policy=policy,
                                  rng=random.Random(3))
        self.registry.machines["s"] = self.machine
        self.machine.start_accept(1.0, _V1_CLIENT)
        self.machine.data_to_send(1.0)


_V1_CLIENT = EntityAddr.from_host("127.0.0.1", 40000, nonce=9, type=AddrType.LEGACY)


def test_v1_replacing_a_lossy_session_at_connect_seq_1_is_a_reconnect() -> None:
    s = _V1Server(Policy.stateful_server())
    old = ProtocolV1(owner="old", registry=s.registry, options=ProtocolOptions(),
                     policy=Policy.lossy_client(), peer_type=EntityType.CLIENT,
                     target_addr=_V1_CLIENT, rng=random.Random(4))
    old.peer_addrs = EntityAddrVec((_V1_CLIENT,))
    old.lossy = True
    old.state = State.STANDBY
    s.registry.machines["old"] = old
    s.registry.registered[old.peer_addrs] = old
    connect = ConnectMsg(features=CEPH_FEATURES_ALL, host_type=EntityType.CLIENT,
                         global_seq=20, connect_seq=1, protocol_version=CEPH_OSDC_PROTOCOL)
    m = s.machine
    m.receive_data(BANNER + encode_legacy_addr(_V1_CLIENT) + connect.encode(), 1.0)
    assert old in s.registry.stopped
    assert m.session.connect_seq == 2
    assert ev.Accepted(reconnect=True) in m.events_received()


def test_v1_partial_msgr2_banner_refusal_text() -> None:
    s = _V1Server(Policy.stateful_server())
    s.machine.receive_data(encode_banner()[:7], 1.0)
    assert _closes(s.machine.events_received()) == [
        "BannerMismatch: peer speaks msgr2 (banner 'ceph v2'), not msgr v1"]
