"""msgr v1 server, fed raw connect messages: the reply it sends (tag, features,
protocol version, SEQ or READY), what it records about the peer, the replies that
wait for another connect message (BADPROTOVER, FEATURES, BADAUTHORIZER,
RESETSESSION, RETRY_*, WAIT), and the accept_conn refusal (Ceph Pacific
``ProtocolV1::handle_connect_message_2`` / ``open`` / ``send_connect_message_reply``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from asyncmsgr.auth.base import AuthReply
from asyncmsgr.features import CEPH_FEATURE_CEPHX_V2, CEPH_FEATURE_RECONNECT_SEQ, CEPH_FEATURES_ALL
from asyncmsgr.frames.v1 import (
    BANNER,
    CEPH_OSD_PROTOCOL,
    CEPH_OSDC_PROTOCOL,
    CONNECT_LOSSY,
    CONNECT_REPLY_LEN,
    ConnectMsg,
    ConnectReply,
    V1Tag,
    decode_seq,
    encode_seq,
)
from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.common import PolicyLike, ProtocolOptions, State
from asyncmsgr.protocol.v1 import ProtocolV1
from asyncmsgr.protocol.v1_handshake import existing_view, my_legacy_addr
from asyncmsgr.protocol.v2 import ProtocolV2
from asyncmsgr.testing.v2pair import SERVER_V1_ADDR, FakeRegistry, ProtocolPair
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec, EntityName, EntityType
from asyncmsgr.wire.codecs import encode_legacy_addr

T = V1Tag
NOW = 11.0
CLIENT_ADDR = EntityAddr.from_host("127.0.0.1", 40000, nonce=9, type=AddrType.LEGACY)
_HELLO_LEN = len(BANNER) + 2 * 136


class _Registry(FakeRegistry):
    """Records which peer type the policy was asked for; refuses when told."""

    __slots__ = ()

    def policy_for(self, peer_type: int) -> PolicyLike:
        self.learned.append(EntityAddr(nonce=peer_type))  # the asked types, as nonces
        return self.policy

    def accept_conn(self, conn: object, peer_addrs: EntityAddrVec) -> bool:
        self.accepted.append(peer_addrs)
        return not self.kicked  # a kicked marker in the list: refuse


@dataclass
class Server:
    machine: ProtocolV1
    registry: _Registry

    def feed(self, data: bytes) -> bytes:
        self.machine.receive_data(data, NOW)
        return b"".join(bytes(x) for x in self.machine.data_to_send(NOW))

    def closes(self) -> list[str]:
        return [e.reason for e in self.machine.events_received()
                if isinstance(e, ev.CloseSocket)]


def _state(m: ProtocolV1) -> State:
    return m.state


def _server(policy: Policy | None = None, *, tolerate: bool = True) -> Server:
    """A v1 server taking connections without an authorizer (as a monitor does)
    unless ``tolerate`` is False (it has no auth server: BADAUTHORIZER)."""
    reg = _Registry(EntityName(EntityType.OSD, 3), EntityAddrVec((SERVER_V1_ADDR,)),
                    policy or Policy.stateful_server(), tolerate_missing_authorizer=tolerate)
    m = ProtocolV1(owner="s", registry=reg, options=ProtocolOptions(), policy=reg.policy,
                   rng=random.Random(3))
    reg.machines["s"] = m
    m.start_accept(NOW, CLIENT_ADDR)
    hello = b"".join(bytes(x) for x in m.data_to_send(NOW))
    assert len(hello) == _HELLO_LEN
    return Server(m, reg)


def _connect(features: int = CEPH_FEATURES_ALL, *, connect_seq: int = 0, global_seq: int = 4,
             protocol_version: int = CEPH_OSDC_PROTOCOL, flags: int = 0) -> bytes:
    return ConnectMsg(features=features, host_type=EntityType.CLIENT, global_seq=global_seq,
                      connect_seq=connect_seq, protocol_version=protocol_version,
                      flags=flags).encode()


def _open(s: Server, connect: bytes,
          addr: EntityAddr = CLIENT_ADDR) -> tuple[ConnectReply, bytes]:
    out = s.feed(BANNER + encode_legacy_addr(addr) + connect)
    return ConnectReply.decode(out[:CONNECT_REPLY_LEN]), out[CONNECT_REPLY_LEN:]


def test_new_session_with_reconnect_seq_answers_seq_and_waits_for_the_clients() -> None:
    s = _server()
    s.machine.session.in_seq = 0
    reply, rest = _open(s, _connect(CEPH_FEATURES_ALL & ~CEPH_FEATURE_CEPHX_V2))
    m = s.machine
    assert reply.tag == T.SEQ
    assert reply.protocol_version == CEPH_OSDC_PROTOCOL
    assert reply.connect_seq == 1
    assert reply.global_seq > 0
    assert reply.flags == 0
    assert decode_seq(rest) == 0
    assert m.features == CEPH_FEATURES_ALL & ~CEPH_FEATURE_CEPHX_V2
    assert m.peer_type == EntityType.CLIENT
    assert m.peer_name == EntityName(EntityType.CLIENT, -1)
    assert [a.nonce for a in s.registry.learned] == [EntityType.CLIENT]
    assert m.session.peer_global_seq == 4
    assert m.handshake_counts["recv_CONNECT"] == 1
    assert m.handshake_counts["send_SEQ"] == 1
    assert m.hs.connect is None
    assert m.replacing is False
    assert s.registry.accepted == [EntityAddrVec((CLIENT_ADDR,))]
    assert m.state is State.ACCEPTING_WAIT_SEQ
    assert ev.Accepted(reconnect=False) in m.events_received()
    assert s.feed(encode_seq(0)) == b""
    assert _state(m) is State.OPEN
    assert m.last_active == NOW


def test_client_without_reconnect_seq_gets_ready_at_once() -> None:
    s = _server()
    s.machine.session.in_seq = 5  # a stale count from an earlier session
    reply, rest = _open(s, _connect(CEPH_FEATURES_ALL & ~CEPH_FEATURE_RECONNECT_SEQ))
    m = s.machine
    assert reply.tag == T.READY
    assert rest == b""
    assert m.session.in_seq == 0
    assert m.hs.reset_from_peer is False
    assert m.state is State.OPEN
    assert m.last_active == NOW
    assert m.handshake_counts["send_READY"] == 1


def test_lossy_server_says_so() -> None:
    s = _server(Policy.stateless_server())
    reply, _ = _open(s, _connect(flags=CONNECT_LOSSY))
    assert reply.flags == CONNECT_LOSSY


@pytest.mark.parametrize(("connect", "tag", "count"), [
    (_connect(protocol_version=99), T.BADPROTOVER, "send_BADPROTOVER"),
    (_connect(CEPH_FEATURES_ALL & ~CEPH_FEATURE_CEPHX_V2), T.FEATURES, "send_FEATURES"),
    (_connect(connect_seq=3), T.RESETSESSION, "send_RESETSESSION"),
])
def test_refusing_replies_wait_for_the_next_connect(connect: bytes, tag: int,
                                                     count: str) -> None:
    s = _server(Policy.stateful_server(features_required=CEPH_FEATURE_CEPHX_V2))
    reply, rest = _open(s, connect)
    m = s.machine
    assert reply.tag == tag
    assert rest == b""
    assert reply.protocol_version == CEPH_OSDC_PROTOCOL
    # features: what we both support, plus what we require
    asked = ConnectMsg.decode(connect).features
    assert reply.features == (asked & m.policy.features_supported) | CEPH_FEATURE_CEPHX_V2
    assert m.handshake_counts[count] == 1
    assert m.state is State.ACCEPTING_WAIT_CONNECT_MSG
    assert m.hs.connect is None
    # the next connect message is read
    reply2, _ = ConnectReply.decode(s.feed(_connect())[:CONNECT_REPLY_LEN]), None
    assert reply2.tag == T.SEQ


def test_connect_without_authorizer_and_auth_server_is_badauthorizer() -> None:
    s = _server(tolerate=False)
    reply, rest = _open(s, _connect())
    assert reply.tag == T.BADAUTHORIZER
    assert rest == b""
    assert s.machine.state is State.ACCEPTING_WAIT_CONNECT_MSG
    assert s.machine.handshake_counts["send_BADAUTHORIZER"] == 1
    assert s.machine.hs.challenged is False


def test_open_refused_by_the_registry_faults() -> None:
    s = _server()
    s.registry.kicked.append(s.machine)  # makes _Registry refuse
    out = s.feed(BANNER + encode_legacy_addr(CLIENT_ADDR) + _connect())
    assert out == b""
    assert s.closes() == ["another connection owns this peer address"]
    assert s.machine.state is State.CLOSED


# -- against an existing session (handle_connect_message_2's rules, then _act) -------------


def _existing(s: Server, *, lossy: bool = False, pgs: int = 10, cs: int = 2,
              state: State = State.STANDBY, server: bool = False,
              addr: EntityAddr = CLIENT_ADDR) -> ProtocolV1:
    reg = s.registry
    e = ProtocolV1(owner="old", registry=reg, options=ProtocolOptions(),
                   policy=Policy.lossy_client() if lossy else
                   Policy.stateful_server() if server else Policy.lossless_peer(),
                   peer_type=EntityType.CLIENT, target_addr=addr,
                   rng=random.Random(4))
    e.peer_addrs = EntityAddrVec((addr,))
    e.session.peer_global_seq = pgs
    e.session.connect_seq = cs
    e.lossy = lossy
    e.state = state
    reg.machines["old"] = e
    reg.registered[e.peer_addrs] = e
    return e


def test_older_global_seq_gets_retry_global_with_the_existing_one() -> None:
    s = _server()
    _existing(s, pgs=10)
    reply, _ = _open(s, _connect(global_seq=4, connect_seq=2))
    assert reply.tag == T.RETRY_GLOBAL
    assert reply.global_seq == 10
    assert s.machine.handshake_counts["send_RETRY_GLOBAL"] == 1


def test_older_connect_seq_gets_retry_session_with_the_next_one() -> None:
    s = _server()
    _existing(s, pgs=10, cs=3)
    reply, _ = _open(s, _connect(global_seq=20, connect_seq=1))
    assert reply.tag == T.RETRY_SESSION
    assert reply.connect_seq == 4
    assert s.machine.handshake_counts["send_RETRY_SESSION"] == 1


def test_lost_race_gets_wait_and_kicks_the_existing_connection() -> None:
    s = _server()
    high = CLIENT_ADDR.with_nonce(0xFFFF)  # memcmp: its nonce's LE bytes beat ours
    e = _existing(s, pgs=1, cs=2, state=State.CONNECTING_WAIT_CONNECT_REPLY, addr=high)
    reply, _ = _open(s, _connect(global_seq=20, connect_seq=2), addr=high)
    assert reply.tag == T.WAIT
    assert s.registry.kicked == [e]
    assert s.machine.handshake_counts["send_WAIT"] == 1


def test_lossy_existing_connection_is_replaced_with_a_reset() -> None:
    s = _server()
    e = _existing(s, lossy=True, pgs=1, cs=0, state=State.OPEN)
    reply, _ = _open(s, _connect(global_seq=20, connect_seq=0))
    assert reply.tag == T.SEQ
    assert s.registry.stopped == [e]
    assert e.state is State.CLOSED
    assert ev.ResetSession() in e.events_received()


def test_reconnect_is_accepted_as_a_reconnect() -> None:
    p = ProtocolPair(protocol=1, client_policy=Policy.lossless_client(),
                     server_policy=Policy.stateful_server())
    p.handshake()
    assert ev.Accepted(reconnect=False) in p.server_events
    existing = p.server
    p.break_connection()
    p.server_events.clear()
    p.reconnect()
    p.transfer()
    assert p.server is existing
    assert existing.state is State.OPEN
    assert ev.Accepted(reconnect=True) in p.server_events
    assert existing.session.connect_seq == p.client.session.connect_seq > 1


# -- start_accept, the client's seq, caps, existing_view, my_legacy_addr ------------------


def test_start_accept_records_the_socket_peer() -> None:
    reg = _Registry(EntityName(EntityType.OSD, 3), EntityAddrVec((SERVER_V1_ADDR,)),
                    Policy.stateful_server())
    m = ProtocolV1(owner="s", registry=reg, options=ProtocolOptions(), policy=reg.policy,
                   rng=random.Random(3))
    sock = EntityAddr.from_host("127.0.0.1", 40000, nonce=0)
    m.start_accept(NOW, sock)
    legacy = sock.with_type(AddrType.LEGACY)
    assert m.peer_addrs == EntityAddrVec((legacy,))
    assert m.target_addr == legacy
    assert m.connect_started == NOW
    assert m.last_active == NOW
    assert m._ready_deadline == NOW + m.options.connection_ready_timeout
    assert " server " in repr(m)
    assert m.state is State.ACCEPTING_WAIT_BANNER_ADDR
    hello = b"".join(bytes(x) for x in m.data_to_send(NOW))
    assert hello[len(BANNER) + 136:] == encode_legacy_addr(legacy)


def test_clients_seq_acks_requeued_messages_then_ready() -> None:
    s = _server()
    _open(s, _connect())
    m = s.machine
    assert m.state is State.ACCEPTING_WAIT_SEQ
    for i in range(3):
        msg = MPing(priority=127, tid=i)
        msg.seq = i + 1
        m.session.sent.append(msg)
    m.session.out_seq = 3
    m.session.requeue_sent()
    m.events_received()
    s.feed(encode_seq(2))
    acked = [e for e in m.events_received() if isinstance(e, ev.MessagesAcked)]
    assert [[x.seq for x in e.messages] for e in acked] == [[1, 2]]
    assert _state(m) is State.OPEN


def test_authorizer_at_the_cap_is_read_and_above_it_refused() -> None:
    cap = ProtocolOptions().max_authorizer_len
    s = _server()
    connect = ConnectMsg(features=CEPH_FEATURES_ALL, host_type=EntityType.CLIENT,
                         global_seq=4, connect_seq=0, protocol_version=CEPH_OSDC_PROTOCOL,
                         authorizer_protocol=1, authorizer_len=cap)
    s.feed(BANNER + encode_legacy_addr(CLIENT_ADDR) + connect.encode())
    assert s.machine.state is State.ACCEPTING_WAIT_CONNECT_MSG_AUTH
    assert s.closes() == []
    s2 = _server()
    too_big = ConnectMsg(features=CEPH_FEATURES_ALL, host_type=EntityType.CLIENT,
                         global_seq=4, connect_seq=0, protocol_version=CEPH_OSDC_PROTOCOL,
                         authorizer_protocol=1, authorizer_len=cap + 1)
    s2.feed(BANNER + encode_legacy_addr(CLIENT_ADDR) + too_big.encode())
    assert s2.closes() == [f"FrameTooLarge: authorizer of {cap + 1} bytes exceeds cap {cap}"]


def test_v1_existing_view_reports_the_registered_connection() -> None:
    s = _server()
    e = _existing(s, lossy=True, pgs=6, cs=4, state=State.OPEN)
    e.replacing = True
    view = existing_view(e)
    assert view.closed is False
    assert view.replacing is True
    assert view.ready_or_standby is True
    assert view.lossy is True
    assert view.server is False
    assert (view.client_cookie, view.server_cookie) == (0, 0)
    assert type(view.client_cookie) is int
    assert type(view.server_cookie) is int
    assert (view.connect_seq, view.peer_global_seq) == (4, 6)
    assert view.peer_addr == CLIENT_ADDR
    e.state = State.STANDBY
    assert existing_view(e).ready_or_standby is True
    e.state = State.CONNECTING_WAIT_CONNECT_REPLY
    assert existing_view(e).ready_or_standby is False
    e.stop()
    assert existing_view(e).closed is True
    assert existing_view(e).ready_or_standby is False
    server_side = _existing(_server(), server=True)
    assert existing_view(server_side).server is True
    assert existing_view(server_side).lossy is False


class _Addrs:
    def __init__(self, addrs: tuple[EntityAddr, ...]) -> None:
        self.registry = FakeRegistry(EntityName(EntityType.OSD, 0), EntityAddrVec(addrs))


@pytest.mark.parametrize(("addrs", "expected"), [
    ((SERVER_V1_ADDR.with_type(AddrType.MSGR2).with_port(3300), SERVER_V1_ADDR),
     SERVER_V1_ADDR),                                        # the legacy one
    ((SERVER_V1_ADDR.with_type(AddrType.MSGR2),), SERVER_V1_ADDR),  # the first, as legacy
    ((), EntityAddr(type=AddrType.LEGACY)),                  # none: a blank legacy address
])
def test_my_legacy_addr(addrs: tuple[EntityAddr, ...], expected: EntityAddr) -> None:
    assert my_legacy_addr(_Addrs(addrs)) == expected  # type: ignore[arg-type]


# -- take_over: the existing session adopts the socket and answers RETRY_GLOBAL -------------


def _v1_pair() -> ProtocolPair:
    p = ProtocolPair(protocol=1, client_policy=Policy.lossless_client(),
                     server_policy=Policy.stateful_server())
    p.handshake()
    return p


def _spy_take_over(p: ProtocolPair) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []
    original = p.server_registry.on_reuse
    assert original is not None

    def on_reuse(temp: object, existing: object, handover: object) -> None:
        # the temporary machine's RETRY_GLOBAL-to-be: what the existing one sends
        original(temp, existing, handover)  # type: ignore[arg-type]
        assert isinstance(existing, ProtocolV1)
        out = b"".join(bytes(x) for x in existing.data_to_send(p.now))
        seen.append({"m": existing, "h": handover, "out": out, "state": existing.state,
                     "replacing": existing.replacing, "repr": repr(existing),
                     "started": existing.connect_started,
                     "deadline": existing._ready_deadline,
                     "reset_from_peer": existing.hs.reset_from_peer,
                     "peer_type": existing.peer_type, "peer_addrs": existing.peer_addrs,
                     "target": existing.target_addr,
                     "pgs": existing.session.peer_global_seq})
        p.wire_s2c.append(out)
        p.client.receive_data(out, p.now)

    p.server_registry.on_reuse = on_reuse
    return seen


def test_v1_take_over_answers_retry_global_from_the_existing_session() -> None:
    p = _v1_pair()
    existing = p.server
    p.break_connection()
    p.now += 3.0
    seen = _spy_take_over(p)
    p.server_events.clear()
    p.reconnect()
    p.transfer()
    [t] = seen
    assert t["m"] is existing
    reply = ConnectReply.decode(t["out"][:CONNECT_REPLY_LEN])  # type: ignore[index]
    assert reply.tag == T.RETRY_GLOBAL
    assert reply.global_seq == t["pgs"]
    assert reply.global_seq > 0
    assert reply.protocol_version == CEPH_OSDC_PROTOCOL
    assert reply.features == CEPH_FEATURES_ALL & existing.policy.features_supported
    assert t["state"] is State.ACCEPTING_WAIT_CONNECT_MSG
    assert t["replacing"] is True
    assert " server " in str(t["repr"])
    assert t["started"] == p.now
    assert t["deadline"] == p.now + existing.options.connection_ready_timeout
    assert t["reset_from_peer"] is False
    assert t["peer_type"] == EntityType.CLIENT
    assert t["peer_addrs"] == existing.peer_addrs
    assert t["target"] == existing.target_addr
    assert t["target"] is not None
    # the client retried on the same socket and the session is open again
    assert p.server is existing
    assert existing.state is State.OPEN
    assert existing.replacing is False
    assert ev.RemoteReset() not in p.server_events
    # the temporary connection is stopped with a reset and says why
    assert ev.CloseSocket(reason="socket moved into the existing session") in p.server_events
    assert ev.ResetSession() in p.server_events


def test_v1_restarted_client_resets_the_existing_session() -> None:
    p = _v1_pair()
    existing = p.server
    p.break_connection()
    fresh = ProtocolPair(protocol=1, client_policy=Policy.lossless_client(),
                         server_policy=Policy.stateful_server(), seed=2)
    p.client = fresh.client
    p.client.registry = p.client_registry
    p.client_registry.machines["client"] = p.client
    p.client_events = []
    seen = _spy_take_over(p)
    p.server_events.clear()
    p.reconnect()
    p.transfer()
    [t] = seen
    assert t["reset_from_peer"] is True
    assert ev.RemoteReset() in p.server_events  # resetcheck: the old session is reset
    assert existing.state is State.OPEN


def test_server_counts_its_banner_and_takes_a_blank_peer_ip_from_the_socket() -> None:
    s = _server()
    assert s.machine.handshake_counts["banner"] == 1
    blank = EntityAddr(type=AddrType.LEGACY, nonce=9, family=2, ip=bytes(4), port=5555)
    s.feed(BANNER + encode_legacy_addr(blank))
    m = s.machine
    expected = CLIENT_ADDR.with_port(5555).with_nonce(9).with_type(AddrType.LEGACY)
    assert m.peer_addrs == EntityAddrVec((expected,))
    assert m.target_addr == expected


def test_refusal_carries_no_seqs_and_only_shared_features() -> None:
    lacking = Policy.stateful_server().replace(
        features_supported=CEPH_FEATURES_ALL & ~CEPH_FEATURE_CEPHX_V2)
    s = _server(lacking)
    reply, _ = _open(s, _connect(protocol_version=99))
    assert reply.tag == T.BADPROTOVER
    assert (reply.global_seq, reply.connect_seq) == (0, 0)
    assert reply.features == CEPH_FEATURES_ALL & ~CEPH_FEATURE_CEPHX_V2


def test_osd_peer_gets_the_cluster_protocol() -> None:
    s = _server()
    connect = ConnectMsg(features=CEPH_FEATURES_ALL, host_type=EntityType.OSD, global_seq=4,
                         connect_seq=0, protocol_version=99).encode()
    reply, _ = _open(s, connect)
    assert reply.tag == T.BADPROTOVER
    assert reply.protocol_version == CEPH_OSD_PROTOCOL


def test_connect_with_authorizer_in_pieces_then_ready_at_once() -> None:
    """The authorizer may arrive after the connect message; a client without
    RECONNECT_SEQ is then READY (active as of now)."""

    class _Accepting:
        def handle_auth_request(self, *args: object) -> AuthReply:
            return AuthReply(done=True, payload=b"")

    s = _server(tolerate=False)
    s.machine.auth_server = _Accepting()  # type: ignore[assignment]
    connect = ConnectMsg(features=CEPH_FEATURES_ALL & ~CEPH_FEATURE_RECONNECT_SEQ,
                         host_type=EntityType.CLIENT, global_seq=4, connect_seq=0,
                         protocol_version=CEPH_OSDC_PROTOCOL, authorizer_protocol=2,
                         authorizer_len=4).encode()
    assert s.feed(BANNER + encode_legacy_addr(CLIENT_ADDR) + connect + b"ab") == b""
    assert s.machine.state is State.ACCEPTING_WAIT_CONNECT_MSG_AUTH
    s.machine.receive_data(b"cd", NOW)
    assert _state(s.machine) is State.OPEN
    assert s.machine.last_active == NOW  # before anything is written
    out = b"".join(bytes(x) for x in s.machine.data_to_send(NOW))
    assert ConnectReply.decode(out[:CONNECT_REPLY_LEN]).tag == T.READY


# -- the authorizer reply rides on every answer; open() details -------------------------------


class _ReplyingAuth:
    """Accepts any authorizer and proves it with ``b"AR"``."""

    def handle_auth_request(self, *args: object) -> AuthReply:
        return AuthReply(done=True, payload=b"AR")


def _authed_connect(*, global_seq: int = 4, connect_seq: int = 0,
                    features: int = CEPH_FEATURES_ALL,
                    host_type: int = EntityType.CLIENT,
                    protocol_version: int = CEPH_OSDC_PROTOCOL) -> bytes:
    return ConnectMsg(features=features, host_type=host_type, global_seq=global_seq,
                      connect_seq=connect_seq, protocol_version=protocol_version,
                      authorizer_protocol=2, authorizer_len=2).encode() + b"az"


@pytest.mark.parametrize(("setup", "connect", "tag"), [
    ("none", _authed_connect(connect_seq=3), T.RESETSESSION),
    ("older-gs", _authed_connect(global_seq=1, connect_seq=2), T.RETRY_GLOBAL),
    ("older-cs", _authed_connect(global_seq=20, connect_seq=1), T.RETRY_SESSION),
    ("race", _authed_connect(global_seq=20, connect_seq=2), T.WAIT),
])
def test_every_answer_carries_the_authorizer_reply(setup: str, connect: bytes,
                                                   tag: int) -> None:
    s = _server(tolerate=False)
    s.machine.auth_server = _ReplyingAuth()  # type: ignore[assignment]
    addr = CLIENT_ADDR
    if setup == "older-gs":
        _existing(s, pgs=10)
    elif setup == "older-cs":
        _existing(s, pgs=10, cs=3)
    elif setup == "race":
        addr = CLIENT_ADDR.with_nonce(0xFFFF)
        _existing(s, pgs=1, cs=2, state=State.CONNECTING_WAIT_CONNECT_REPLY, addr=addr)
    reply, rest = _open(s, connect, addr=addr)
    assert reply.tag == tag
    assert reply.authorizer_len == 2
    assert rest[:2] == b"AR"


@pytest.mark.parametrize("lossy_existing", [False, True])
def test_open_without_reconnect_seq_is_ready_as_of_now(lossy_existing: bool) -> None:
    s = _server()
    if lossy_existing:
        _existing(s, lossy=True, pgs=1, cs=0, state=State.OPEN)  # replaced
    s.machine.receive_data(BANNER + encode_legacy_addr(CLIENT_ADDR)
                           + _connect(CEPH_FEATURES_ALL & ~CEPH_FEATURE_RECONNECT_SEQ,
                                      global_seq=20), NOW)
    assert _state(s.machine) is State.OPEN
    assert s.machine.last_active == NOW  # before anything is written


def test_open_without_reconnect_seq_keeps_requeued_messages() -> None:
    s = _server()
    m = s.machine
    for i in (1, 2):
        msg = MPing(priority=127, tid=i)
        msg.seq = i
        m.session.sent.append(msg)
    m.session.out_seq = 2
    m.session.requeue_sent()
    _open(s, _connect(CEPH_FEATURES_ALL & ~CEPH_FEATURE_RECONNECT_SEQ))
    assert m.session.in_seq == 0
    assert [x.tid for x in m.session.sent] == [1, 2]  # both went out again


def test_osd_peer_session_gets_the_cluster_protocol() -> None:
    s = _server()
    connect = ConnectMsg(features=CEPH_FEATURES_ALL, host_type=EntityType.OSD, global_seq=4,
                         connect_seq=0, protocol_version=CEPH_OSD_PROTOCOL).encode()
    reply, _ = _open(s, connect)
    assert reply.tag == T.SEQ
    assert reply.protocol_version == CEPH_OSD_PROTOCOL


# -- an existing connection of another kind, or closed; the race the peer wins -------------


def test_msgr2_connection_to_the_same_peer_is_stopped_without_reset() -> None:
    s = _server()
    v2 = ProtocolV2(owner="v2", registry=s.registry, options=ProtocolOptions(),
                    policy=Policy.lossless_peer(), peer_type=EntityType.CLIENT,
                    target_addr=CLIENT_ADDR, rng=random.Random(6))
    v2.peer_addrs = EntityAddrVec((CLIENT_ADDR,))
    s.registry.machines["v2"] = v2
    s.registry.registered[v2.peer_addrs] = v2
    v2.start_connect(NOW)
    reply, _ = _open(s, _connect())
    assert reply.tag == T.SEQ
    assert s.registry.stopped == [v2]
    assert ev.ResetSession() not in v2.events_received()


def test_closed_existing_session_is_as_good_as_none() -> None:
    s = _server()
    e = _existing(s, pgs=1, cs=2, state=State.OPEN)
    e.stop()
    reply, _ = _open(s, _connect(connect_seq=3))
    assert reply.tag == T.RESETSESSION


def test_connection_race_the_lower_peer_wins() -> None:
    s = _server()
    e = _existing(s, pgs=1, cs=2, state=State.CONNECTING_WAIT_CONNECT_REPLY)
    # memcmp order: the peer's nonce 9 (09 00) sorts before our 1234 (d2 04)
    out = s.feed(BANNER + encode_legacy_addr(CLIENT_ADDR) + _connect(global_seq=20,
                                                                     connect_seq=2))
    assert out == b""  # the socket moved into the existing connection
    assert s.registry.reused == [("s", e)]
    assert s.machine.state is State.CLOSED


def test_authorizer_less_connect_hands_the_auth_server_empty_bytes() -> None:
    seen: list[object] = []

    class _Recording:
        def handle_auth_request(self, *args: object) -> AuthReply:
            seen.append(args[-1])
            return AuthReply(done=True, payload=b"")

    s = _server(tolerate=False)
    s.machine.auth_server = _Recording()  # type: ignore[assignment]
    reply, _ = _open(s, _connect())
    assert reply.tag == T.SEQ
    assert seen == [b""]
    assert type(seen[0]) is bytes
