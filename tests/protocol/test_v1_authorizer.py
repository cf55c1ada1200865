"""msgr v1 authorizers with recording auth stubs: which peer the client builds an
authorizer for (none towards a monitor), what it checks in the server's reply
(a cephx reply must prove the session key), and that a server answering
BADAUTHORIZER starts the next attempt with fresh auth state (Ceph Pacific
``ProtocolV1``: ``ms_deliver_get_authorizer``, ``handle_connect_reply_2``,
``handle_connect_message_auth``)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer, AuthReply, AuthRequest
from asyncmsgr.errors import AuthFailed
from asyncmsgr.features import CEPH_FEATURES_ALL
from asyncmsgr.frames.v1 import (
    BANNER,
    CEPH_AUTH_CEPHX,
    CEPH_OSD_PROTOCOL,
    CEPH_OSDC_PROTOCOL,
    CONNECT_REPLY_LEN,
    ConnectMsg,
    ConnectReply,
    V1Tag,
    encode_server_hello,
)
from asyncmsgr.frames.v2 import CON_MODE_CRC
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.common import ProtocolOptions, State
from asyncmsgr.protocol.v1 import ProtocolV1
from asyncmsgr.testing.v2pair import SERVER_V1_ADDR, FakeRegistry
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec, EntityName, EntityType
from asyncmsgr.wire.codecs import encode_legacy_addr

T = V1Tag
NOW = 5.0


@dataclass
class _Client:
    """An auth client sending ``payload`` with ``method``, recording its calls."""

    method: int = CEPH_AUTH_CEPHX
    payload: bytes = b"authorizer"
    requests: list[AuthPeer] = field(default_factory=list)
    done: list[tuple[AuthPeer, int, int, bytes]] = field(default_factory=list)
    more_peers: list[AuthPeer] = field(default_factory=list)

    def get_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta) -> AuthRequest:
        self.requests.append(peer)
        return AuthRequest(self.method, (CON_MODE_CRC,), self.payload)

    def handle_auth_reply_more(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               payload: bytes) -> bytes:
        self.more_peers.append(peer)
        return b"more:" + payload

    def handle_auth_done(self, peer: AuthPeer, meta: AuthConnectionMeta, global_id: int,
                         con_mode: int, payload: bytes) -> None:
        self.done.append((peer, global_id, con_mode, payload))

    def handle_auth_bad_method(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               old_method: int, result: int,
                               allowed_methods: tuple[int, ...],
                               allowed_modes: tuple[int, ...]) -> bool:
        return False


def _client(auth: _Client, *, me: int = EntityType.CLIENT,
            peer: int = EntityType.OSD) -> tuple[ProtocolV1, ConnectMsg, bytes]:
    reg = FakeRegistry(EntityName(me, 1),
                       EntityAddrVec((EntityAddr(type=AddrType.ANY, nonce=77),)),
                       Policy.lossless_client())
    c = ProtocolV1(owner="c", registry=reg, options=ProtocolOptions(), policy=reg.policy,
                   peer_type=peer, target_addr=SERVER_V1_ADDR, rng=random.Random(1),
                   auth_client=auth)
    c.start_connect(0.0)
    c.connection_made(0.0)
    c.data_to_send(0.0)
    c.receive_data(encode_server_hello(SERVER_V1_ADDR, EntityAddr.from_host("127.0.0.1", 5000)),
                   0.0)
    out = b"".join(bytes(x) for x in c.data_to_send(0.0))[136:]
    c.events_received()
    connect = ConnectMsg.decode(out)
    return c, connect, out[len(connect.encode()):]


def _ready(authorizer_reply: bytes = b"") -> bytes:
    return ConnectReply(tag=T.READY, features=CEPH_FEATURES_ALL, global_seq=1, connect_seq=1,
                        protocol_version=CEPH_OSDC_PROTOCOL,
                        authorizer_len=len(authorizer_reply)).encode() + authorizer_reply


def _closes(c: ProtocolV1) -> list[str]:
    return [e.reason for e in c.events_received() if isinstance(e, ev.CloseSocket)]


def test_client_builds_its_authorizer_for_the_peer() -> None:
    auth = _Client()
    c, connect, authorizer = _client(auth)
    [peer] = auth.requests
    assert peer.peer_type == EntityType.OSD
    assert peer.my_type == EntityType.CLIENT
    assert peer.peer_addrs == c.peer_addrs
    assert peer.peer_addrs is not None
    assert connect.authorizer_protocol == CEPH_AUTH_CEPHX
    assert authorizer == b"authorizer"
    assert c.auth_meta.auth_method == CEPH_AUTH_CEPHX


@pytest.mark.parametrize(("me", "sent"), [(EntityType.CLIENT, False), (EntityType.MON, True)])
def test_no_authorizer_towards_a_monitor_unless_we_are_one(me: int, sent: bool) -> None:
    auth = _Client()
    _, connect, _ = _client(auth, me=me, peer=EntityType.MON)
    assert bool(auth.requests) is sent
    assert (connect.authorizer_len > 0) is sent


def test_cephx_ready_without_proof_of_the_session_key_is_refused() -> None:
    auth = _Client()
    c, _, _ = _client(auth)
    c.receive_data(_ready(), NOW)
    assert _closes(c) == ["AuthFailed: the server accepted our authorizer without proving "
                          "it knows the session key"]
    assert auth.done == []


def test_ready_with_proof_is_handed_to_the_auth_client() -> None:
    auth = _Client()
    c, _, _ = _client(auth)
    c.receive_data(_ready(b"proof"), NOW)
    [(peer, global_id, mode, payload)] = auth.done
    assert peer.peer_type == EntityType.OSD
    assert (global_id, mode, payload) == (0, CON_MODE_CRC, b"proof")
    assert c.last_active == NOW
    assert type(global_id) is int
    assert c.state is State.OPEN


def test_no_authorizer_sent_nothing_to_verify() -> None:
    auth = _Client(method=1, payload=b"")
    c, connect, _ = _client(auth)
    assert connect.authorizer_len == 0
    c.receive_data(_ready(), NOW)
    assert auth.done == []
    assert c.state is State.OPEN


# -- server side -------------------------------------------------------------------------


@dataclass
class _Server:
    """Refuses the first authorizer, accepts the next; records what it was given."""

    calls: list[tuple[AuthPeer, AuthConnectionMeta, bool, int, bytes]] = \
        field(default_factory=list)

    def get_supported_auth_methods(self, peer_type: int) -> tuple[tuple[int, ...],
                                                                   tuple[int, ...]]:
        return (CEPH_AUTH_CEPHX,), (CON_MODE_CRC,)

    def pick_con_mode(self, peer_type: int, method: int,
                      preferred_modes: tuple[int, ...]) -> int:
        return CON_MODE_CRC

    def handle_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta, more: bool,
                            method: int, payload: bytes) -> AuthReply:
        self.calls.append((peer, meta, more, method, payload))
        if len(self.calls) == 1:
            raise AuthFailed("first one refused", -13)
        return AuthReply(done=True, payload=b"reply")


def test_server_after_badauthorizer_starts_over_with_fresh_auth_state() -> None:
    auth = _Server()
    reg = FakeRegistry(EntityName(EntityType.OSD, 3), EntityAddrVec((SERVER_V1_ADDR,)),
                       Policy.stateful_server())
    s = ProtocolV1(owner="s", registry=reg, options=ProtocolOptions(), policy=reg.policy,
                   rng=random.Random(3), auth_server=auth)
    reg.machines["s"] = s
    client_addr = EntityAddr.from_host("127.0.0.1", 40000, nonce=9, type=AddrType.LEGACY)
    s.start_accept(NOW, client_addr)
    s.data_to_send(NOW)
    connect = ConnectMsg(features=CEPH_FEATURES_ALL, host_type=EntityType.CLIENT,
                         global_seq=4, connect_seq=0, protocol_version=CEPH_OSDC_PROTOCOL,
                         authorizer_protocol=CEPH_AUTH_CEPHX, authorizer_len=3).encode()
    s.receive_data(BANNER + encode_legacy_addr(client_addr) + connect + b"abc", NOW)
    out = b"".join(bytes(x) for x in s.data_to_send(NOW))
    assert ConnectReply.decode(out[:CONNECT_REPLY_LEN]).tag == T.BADAUTHORIZER
    s.receive_data(connect + b"xyz", NOW)
    out = b"".join(bytes(x) for x in s.data_to_send(NOW))
    reply = ConnectReply.decode(out[:CONNECT_REPLY_LEN])
    assert reply.tag == T.SEQ
    assert out[CONNECT_REPLY_LEN:CONNECT_REPLY_LEN + reply.authorizer_len] == b"reply"
    (peer1, meta1, more1, m1, p1), (peer2, meta2, more2, m2, p2) = auth.calls
    assert (more1, m1, p1) == (False, CEPH_AUTH_CEPHX, b"abc")
    assert (more2, m2, p2) == (False, CEPH_AUTH_CEPHX, b"xyz")
    assert meta2 is not meta1
    assert isinstance(meta2, AuthConnectionMeta)
    assert peer1.peer_type == peer2.peer_type == EntityType.CLIENT
    assert s.hs.challenged is False


def test_challenge_is_answered_with_a_new_authorizer() -> None:
    auth = _Client()
    c, _, _ = _client(auth)
    challenge = b"nonce"
    c.receive_data(ConnectReply(tag=T.CHALLENGE_AUTHORIZER, features=CEPH_FEATURES_ALL,
                                global_seq=0, connect_seq=0,
                                protocol_version=CEPH_OSDC_PROTOCOL,
                                authorizer_len=len(challenge)).encode() + challenge, NOW)
    [peer] = auth.more_peers
    assert peer.peer_type == EntityType.OSD
    out = b"".join(bytes(x) for x in c.data_to_send(NOW))
    connect = ConnectMsg.decode(out)
    assert out[len(connect.encode()):] == b"more:nonce"


def test_challenge_without_our_authorizer_is_refused() -> None:
    auth = _Client()
    c, connect, _ = _client(auth, peer=EntityType.MON)  # no authorizer towards a mon
    assert connect.authorizer_len == 0
    c.receive_data(ConnectReply(tag=T.CHALLENGE_AUTHORIZER, features=CEPH_FEATURES_ALL,
                                global_seq=0, connect_seq=0,
                                protocol_version=CEPH_OSDC_PROTOCOL).encode(), NOW)
    assert _closes(c) == ["AuthFailed: the server challenged an authorizer we did not send"]


def test_other_method_ready_without_reply_gives_the_client_empty_bytes() -> None:
    auth = _Client(method=1)  # not cephx: no proof required
    c, _, _ = _client(auth)
    c.receive_data(_ready(), NOW)
    [(_, _, _, payload)] = auth.done
    assert payload == b""
    assert type(payload) is bytes


def test_connection_made_is_activity() -> None:
    reg = FakeRegistry(EntityName(EntityType.CLIENT, 1),
                       EntityAddrVec((EntityAddr(type=AddrType.ANY, nonce=77),)),
                       Policy.lossless_client())
    c = ProtocolV1(owner="c", registry=reg, options=ProtocolOptions(), policy=reg.policy,
                   peer_type=EntityType.OSD, target_addr=SERVER_V1_ADDR, rng=random.Random(1))
    c.start_connect(0.0)
    c.connection_made(NOW)
    assert c.last_active == NOW


def test_osd_badprotover_names_the_cluster_protocol() -> None:
    auth = _Client()
    c, connect, _ = _client(auth, me=EntityType.OSD)
    assert connect.protocol_version == CEPH_OSD_PROTOCOL
    c.receive_data(ConnectReply(tag=T.BADPROTOVER, features=CEPH_FEATURES_ALL, global_seq=0,
                                connect_seq=0, protocol_version=99).encode(), NOW)
    assert _closes(c) == [f"ConnectRefused: protocol version mismatch: ours "
                          f"{CEPH_OSD_PROTOCOL}, the server's 99"]
