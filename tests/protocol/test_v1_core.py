"""ProtocolV1 without sockets: the accept and connect state walks (with a stall in
every read state), bad input (crcs, caps, banners, peers), every connect-reply
tag on the client, sessions across faults, keepalives, and cephx authorizers
with challenge and CEPHX_V2 message signatures."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

import pytest

from asyncmsgr.auth.base import ModeOptions
from asyncmsgr.auth.cephx import CephxAuthServer, CephxClient, CryptoKey, Keyring, KeyServer
from asyncmsgr.auth.cephx.sign import signature_of
from asyncmsgr.features import CEPH_FEATURE_MSG_AUTH, CEPH_FEATURES_ALL
from asyncmsgr.frames.v1 import (
    BANNER,
    CONNECT_LEN,
    ConnectMsg,
    ConnectReply,
    V1Tag,
    encode_seq,
    encode_server_hello,
)
from asyncmsgr.frames.v2 import encode_banner
from asyncmsgr.message import MSG_HEADER_LEN, FooterFlags, MsgHeader
from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import ProtocolOptions, State
from asyncmsgr.protocol.v1 import ProtocolV1
from asyncmsgr.testing.v2pair import SERVER_V1_ADDR, FakeRegistry, ProtocolPair
from asyncmsgr.throttle import Throttle
from asyncmsgr.types import AddrType, AuthName, EntityAddr, EntityAddrVec, EntityName, EntityType
from asyncmsgr.wire.codecs import encode_legacy_addr

S = State
pytestmark = pytest.mark.timeout(30)


def v1_pair(**kw: object) -> ProtocolPair:
    return ProtocolPair(protocol=1, **kw)  # type: ignore[arg-type]


def received(events: list[ev.Event]) -> list[bytes]:
    return [bytes(e.message.data) for e in events if isinstance(e, ev.MessageReceived)]


def kinds(events: list[ev.Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def first_close(events: list[ev.Event]) -> str:
    """The reason of the first CloseSocket (asserts there is one)."""
    reasons = [e.reason for e in events if isinstance(e, ev.CloseSocket)]
    assert reasons, kinds(events)
    return reasons[0]


# -- state walks -------------------------------------------------------------------------


class StateTrail:
    """Records every assignment of a machine's ``_state`` (also the hot path's)."""

    def __init__(self, machine: ProtocolV1) -> None:
        self.trail: list[State] = [machine._state]
        cls = type(machine)
        trail = self.trail

        class Spy(cls):  # type: ignore[valid-type,misc]
            @property
            def _state(self) -> State:
                return self.__dict__["_spy_state"]  # type: ignore[no-any-return]

            @_state.setter
            def _state(self, new: State) -> None:
                self.__dict__["_spy_state"] = new
                if trail[-1] is not new:
                    trail.append(new)

        machine.__dict__["_spy_state"] = machine.__dict__.pop("_state")
        machine.__class__ = Spy


def test_accept_side_walks_cephs_states_with_a_stall_in_each() -> None:
    """Trickling the client one byte at a time, the server passes through exactly
    Ceph's accept and open states; every read state is a stall point."""
    t_msgs = Throttle("msgs", 10)
    t_bytes = Throttle("bytes", 1 << 20)
    server_policy = Policy.stateful_server().replace(throttler_messages=t_msgs,
                                                     throttler_bytes=t_bytes)
    p = v1_pair(server_policy=server_policy)
    trail = StateTrail(p.server)  # type: ignore[arg-type]
    p.connect()
    p.transfer(trickle=1)
    # a message with front, middle and data parts, trickled one byte at a time
    msg = MPing(priority=127, payload=b"f" * 10, data=b"x" * 30)
    msg.middle = b"m" * 20
    p.client.send_message(msg, p.now)
    p.transfer(trickle=1)
    assert received(p.server_events) == [b"x" * 30]
    assert trail.trail == [
        S.NONE, S.START_ACCEPT, S.ACCEPTING, S.ACCEPTING_WAIT_BANNER_ADDR,
        S.ACCEPTING_WAIT_CONNECT_MSG, S.ACCEPTING_WAIT_CONNECT_MSG_AUTH,
        S.ACCEPTING_WAIT_SEQ, S.ACCEPTING_READY, S.OPEN,
        S.OPEN_MESSAGE_HEADER, S.THROTTLE_MESSAGE, S.THROTTLE_BYTES,
        S.THROTTLE_DISPATCH_QUEUE, S.THROTTLE_DONE, S.READ_FRONT, S.READ_MIDDLE,
        S.READ_DATA_PREPARE, S.READ_DATA, S.READ_FOOTER_AND_DISPATCH, S.OPEN,
    ], trail.trail
    assert t_msgs.current == 1  # held until the message is dispatched
    assert t_bytes.current == 10 + 20 + 30


def test_connect_side_walks_cephs_states() -> None:
    p = v1_pair()
    trail = StateTrail(p.client)  # type: ignore[arg-type]
    p.client.start_connect(p.now)
    p.connect()
    p.transfer(trickle=1)
    assert trail.trail == [
        S.NONE, S.START_CONNECT, S.CONNECTING, S.CONNECTING_WAIT_BANNER_AND_IDENTIFY,
        S.CONNECTING_SEND_CONNECT_MSG, S.CONNECTING_WAIT_CONNECT_REPLY,
        S.CONNECTING_WAIT_ACK_SEQ, S.CONNECTING_READY, S.OPEN]


def _message_bytes(p: ProtocolPair, m: MPing) -> bytes:
    p.client.send_message(m, p.now)
    return b"".join(bytes(c) for c in p.client.data_to_send(p.now))


@pytest.mark.parametrize(("cut", "state"), [
    (1, S.OPEN_MESSAGE_HEADER), (1 + MSG_HEADER_LEN - 3, S.OPEN_MESSAGE_HEADER),
    (1 + MSG_HEADER_LEN + 5, S.READ_FRONT), (1 + MSG_HEADER_LEN + 12 + 4, S.READ_MIDDLE),
    (1 + MSG_HEADER_LEN + 12 + 10, S.READ_DATA_PREPARE),
    (1 + MSG_HEADER_LEN + 12 + 10 + 7, S.READ_DATA),
    (-4, S.READ_FOOTER_AND_DISPATCH)])
@pytest.mark.parametrize("big", [False, True])
def test_stall_in_each_read_state(cut: int, state: State, big: bool) -> None:
    """Stop the bytes inside each part: the machine waits in that part's state,
    delivers nothing, holds no timer but the idle one, and completes when the rest
    arrives (also for a body received into its own buffer)."""
    opts = ProtocolOptions(large_segment_threshold=64 if big else 65536)
    p = v1_pair(options=opts)
    p.handshake()
    m = MPing(priority=127, payload=b"F" * 12, data=b"D" * 30)
    m.middle = b"M" * 10
    raw = _message_bytes(p, m)
    head, tail = raw[:cut], raw[cut:]
    p.server.receive_data(head, p.now)
    assert p.server.state is state
    assert received(p.server.events_received()) == []
    p.advance(5.0)
    assert p.server.state is state  # a stall is not a fault
    p.server.receive_data(tail, p.now)
    got = [e.message for e in p.server.events_received() if isinstance(e, ev.MessageReceived)]
    assert len(got) == 1
    assert (bytes(got[0].front), bytes(got[0].middle), bytes(got[0].data)) == \
        (b"F" * 12, b"M" * 10, b"D" * 30)
    assert p.server.state is S.OPEN


def _flip(raw: bytes, pos: int) -> bytes:
    b = bytearray(raw)
    b[pos] ^= 0x40
    return bytes(b)


@pytest.mark.parametrize(("where", "error"), [
    ("header", "BadMessageCrc: bad header crc"),
    ("front", "BadMessageCrc: bad front crc"),
    ("data", "BadMessageCrc: bad data crc")])
def test_bad_crc_is_a_typed_fault_and_releases_throttles(where: str, error: str) -> None:
    t_bytes = Throttle("bytes", 1 << 20)
    dq = Throttle("dispatch", 1 << 20)
    p = v1_pair(server_policy=Policy.stateful_server().replace(throttler_bytes=t_bytes))
    p.server.dispatch_throttle = dq
    p.handshake()
    m = MPing(priority=127, payload=b"F" * 20, data=b"D" * 300)
    raw = _message_bytes(p, m)
    front_len = len(bytes(m.front))
    assert front_len == 20
    pos = {"header": 1 + 20, "front": 1 + MSG_HEADER_LEN + 2,
           "data": 1 + MSG_HEADER_LEN + front_len + 100}[where]
    p.server.receive_data(_flip(raw, pos), p.now)
    evs = p.server.events_received()
    assert received(evs) == []
    assert first_close(evs).startswith(error)
    assert p.server.state is S.STANDBY  # a stateful server waits for the reconnect
    assert t_bytes.current == 0
    assert dq.current == 0
    # nothing is lost: the client replays it on the next connection
    p.client.connection_lost(p.now, "test")
    p.advance(1)
    p.reconnect()
    p.transfer()
    assert received(p.server_events) == [b"D" * 300]


def test_oversized_parts_fault_before_allocation() -> None:
    p = v1_pair(options=ProtocolOptions(limits=ProtocolOptions().limits.__class__(
        front=1000, middle=1000, data=4096)))
    p.handshake()
    header = MsgHeader(seq=1, type=MPing.TYPE, priority=127, data_len=1 << 30,
                       src=EntityName(EntityType.CLIENT, 1)).with_crc()
    p.server.receive_data(bytes([V1Tag.MSG]) + header.encode(), p.now)
    assert first_close(p.server.events_received()).startswith("FrameTooLarge")
    assert p.server._rx.capacity < (1 << 20)  # nothing sized by the bogus length


def test_unknown_tag_faults() -> None:
    p = v1_pair()
    p.handshake()
    p.server.receive_data(b"\x63", p.now)
    assert first_close(p.server.events_received()).startswith("UnknownTag")


# -- banners and peers -------------------------------------------------------------------


def _client_machine(**kw: object) -> tuple[ProtocolV1, FakeRegistry]:
    reg = FakeRegistry(EntityName(EntityType.CLIENT, 4100),
                       EntityAddrVec((EntityAddr(type=AddrType.ANY, nonce=77),)),
                       Policy.lossless_client())
    c = ProtocolV1(owner="c", registry=reg, options=ProtocolOptions(), policy=reg.policy,
                   peer_type=EntityType.OSD, target_addr=SERVER_V1_ADDR,
                   rng=random.Random(1), **kw)  # type: ignore[arg-type]
    c.start_connect(0.0)
    c.connection_made(0.0)
    assert b"".join(bytes(x) for x in c.data_to_send(0.0)) == BANNER
    return c, reg


def _reason(m: ProtocolV1 | ProtocolBase) -> str:
    return first_close(m.events_received())


def test_v1_client_meeting_a_msgr2_server_fails_at_once() -> None:
    c, _ = _client_machine()
    c.receive_data(encode_banner()[:7], 0.0)
    reason = _reason(c)
    assert reason.startswith("BannerMismatch")
    assert "peer speaks msgr2" in reason


def test_garbage_banner_fails_at_first_wrong_byte() -> None:
    c, _ = _client_machine()
    c.receive_data(b"GET /", 0.0)
    assert "bad banner" in _reason(c)


def test_server_claiming_another_address_is_wrong_peer() -> None:
    c, _ = _client_machine()
    other = SERVER_V1_ADDR.with_port(7000)
    c.receive_data(encode_server_hello(other, EntityAddr.from_host("127.0.0.1", 5000)), 0.0)
    assert _reason(c).startswith("WrongPeer")


def test_blank_ip_same_port_and_nonce_is_the_same_node() -> None:
    c, reg = _client_machine()
    blank = EntityAddr(type=AddrType.LEGACY, nonce=SERVER_V1_ADDR.nonce,
                       family=SERVER_V1_ADDR.family, ip=bytes(4), port=SERVER_V1_ADDR.port)
    me = EntityAddr.from_host("127.0.0.9", 5000)
    c.receive_data(encode_server_hello(blank, me), 0.0)
    assert c.state is S.CONNECTING_WAIT_CONNECT_REPLY
    assert reg.learned == [me.with_type(AddrType.LEGACY)] or reg.learned[0].host == "127.0.0.9"
    out = b"".join(bytes(x) for x in c.data_to_send(0.0))
    # our legacy address (IP learnt from the server), then the connect message
    assert out[:136] == encode_legacy_addr(reg.my_addrs.addrs[0])
    connect = ConnectMsg.decode(out[136:136 + CONNECT_LEN])
    assert connect.host_type == EntityType.CLIENT
    assert connect.connect_seq == 0
    assert connect.protocol_version == 24  # CEPH_OSDC_PROTOCOL


def test_v1_server_meeting_a_msgr2_client_fails_at_once() -> None:
    p = v1_pair()
    p.server.start_accept(p.now, EntityAddr.from_host("127.0.0.1", 40000))
    p.server.receive_data(encode_banner(), p.now)
    assert "peer speaks msgr2" in _reason(p.server)


# -- every reply tag on the client -------------------------------------------------------


def _at_reply(**kw: object) -> tuple[ProtocolV1, FakeRegistry, ConnectMsg]:
    c, reg = _client_machine(**kw)
    c.receive_data(encode_server_hello(SERVER_V1_ADDR, EntityAddr.from_host("127.0.0.1", 5000)),
                   0.0)
    out = b"".join(bytes(x) for x in c.data_to_send(0.0))
    return c, reg, ConnectMsg.decode(out[136:])


def _sent_connect(c: ProtocolV1) -> ConnectMsg:
    return ConnectMsg.decode(b"".join(bytes(x) for x in c.data_to_send(0.0)))


def _reply(tag: int, **kw: int) -> bytes:
    fields = {"features": CEPH_FEATURES_ALL, "global_seq": 0, "connect_seq": 0,
              "protocol_version": 24, **kw}
    return ConnectReply(tag=tag, **fields).encode()


@pytest.mark.parametrize(("tag", "error"), [
    (V1Tag.BADPROTOVER, "ConnectRefused"), (V1Tag.FEATURES, "MissingFeatures"),
    (V1Tag.BADAUTHORIZER, "AuthFailed")])
def test_error_replies_fault_with_typed_errors(tag: int, error: str) -> None:
    c, _, _ = _at_reply()
    c.receive_data(_reply(tag), 0.0)
    assert _reason(c).startswith(error)
    assert c.state is S.START_CONNECT  # a lossless client retries after a backoff
    assert c.backoff == pytest.approx(0.2)


def test_retry_global_picks_a_higher_global_seq() -> None:
    c, _, first = _at_reply()
    c.receive_data(_reply(V1Tag.RETRY_GLOBAL, global_seq=500), 0.0)
    again = _sent_connect(c)
    assert again.global_seq > 500 > first.global_seq
    assert again.connect_seq == first.connect_seq


def test_retry_session_takes_the_servers_connect_seq() -> None:
    c, _, _ = _at_reply()
    c.receive_data(_reply(V1Tag.RETRY_SESSION, connect_seq=7), 0.0)
    assert _sent_connect(c).connect_seq == 7
    # a RETRY_SESSION that does not move forward is a protocol error
    c.receive_data(_reply(V1Tag.RETRY_SESSION, connect_seq=7), 0.0)
    assert _reason(c).startswith("DecodeError")


def test_resetsession_resets_and_retries_from_zero() -> None:
    c, _, _ = _at_reply()
    c.features = CEPH_FEATURE_MSG_AUTH
    c.session.connect_seq = 3
    c.session.in_seq = 9
    c.send_message(MPing(priority=127), 0.0)
    c.receive_data(_reply(V1Tag.RESETSESSION), 0.0)
    evs = c.events_received()
    assert "RemoteReset" in kinds(evs)
    assert "MessagesDropped" in kinds(evs)
    assert _sent_connect(c).connect_seq == 0
    assert c.session.in_seq == 0
    assert 0 <= c.session.out_seq < 0x80000000  # restarts at a random point


def test_wait_backs_off_to_the_maximum() -> None:
    c, _, _ = _at_reply()
    c.receive_data(_reply(V1Tag.WAIT), 0.0)
    assert c.state is S.START_CONNECT
    assert c.backoff == ProtocolOptions().max_backoff
    assert any(isinstance(e, ev.NeedConnect) and e.at == ProtocolOptions().max_backoff
               for e in c.events_received())


def test_seq_exchange_drops_what_the_server_has_and_answers_in_seq() -> None:
    c, _, _ = _at_reply()
    s = c.session
    # an earlier session sent 3 messages (seqs 1..3), then faulted: requeued
    for i in range(3):
        m = MPing(priority=127, data=bytes([i]))
        m.seq = i + 1
        s.sent.append(m)
    s.out_seq = 3
    s.in_seq = 41
    s.requeue_sent()
    c.receive_data(_reply(V1Tag.SEQ, connect_seq=1, global_seq=2) + encode_seq(2), 0.0)
    acked = [e for e in c.events_received() if isinstance(e, ev.MessagesAcked)]
    assert [m.seq for m in acked[0].messages] == [1, 2]
    out = b"".join(bytes(x) for x in c.data_to_send(0.0))
    assert out[:8] == encode_seq(41)
    assert c.state is S.OPEN
    # the third message is resent with its seq
    assert struct.unpack_from("<Q", out, 8 + 1)[0] == 3


def test_ready_with_a_wrong_connect_seq_faults() -> None:
    c, _, _ = _at_reply()
    c.receive_data(_reply(V1Tag.READY, connect_seq=5), 0.0)
    assert _reason(c).startswith("DecodeError")


def test_unknown_reply_tag_faults() -> None:
    c, _, _ = _at_reply()
    c.receive_data(_reply(99), 0.0)
    assert _reason(c).startswith("UnknownTag")


def test_oversized_authorizer_reply_faults() -> None:
    c, _, _ = _at_reply()
    c.receive_data(_reply(V1Tag.READY, connect_seq=1, authorizer_len=1 << 20), 0.0)
    assert _reason(c).startswith("FrameTooLarge")


def test_server_checks_protocol_version_and_features() -> None:
    p = v1_pair(server_policy=Policy.stateful_server().replace(features_required=1 << 61))
    p.client.policy = Policy.lossless_client().replace(
        features_supported=CEPH_FEATURES_ALL & ~(1 << 61))
    p.connect()
    p.transfer()
    assert "send_FEATURES" in p.server.handshake_counts
    assert p.client.state is S.START_CONNECT


def test_server_refuses_oversized_authorizer() -> None:
    p = v1_pair()
    p.server.start_accept(p.now, EntityAddr.from_host("127.0.0.1", 40000))
    connect = ConnectMsg(features=CEPH_FEATURES_ALL, host_type=EntityType.CLIENT,
                         global_seq=1, connect_seq=0, protocol_version=24,
                         authorizer_protocol=1, authorizer_len=1 << 24)
    p.server.receive_data(BANNER + encode_legacy_addr(EntityAddr.from_host("127.0.0.1", 0))
                          + connect.encode(), p.now)
    assert _reason(p.server).startswith("FrameTooLarge")


# -- sessions ----------------------------------------------------------------------------


def test_lossless_session_survives_faults_exactly_once() -> None:
    p = v1_pair()
    p.handshake()
    for i in range(5):
        p.client.send_message(MPing(priority=127, data=b"%d" % i), p.now)
    chunks = p.client.data_to_send(p.now)
    # only part of the bytes arrive, then the connection breaks
    data = b"".join(bytes(c) for c in chunks)
    p.server.receive_data(data[: len(data) // 2], p.now)
    p.break_connection()
    p.advance(1.0)
    p.reconnect()
    p.transfer()
    assert p.client.state is S.OPEN
    assert p.server.state is S.OPEN
    assert received(p.server_events) == [b"%d" % i for i in range(5)]  # exactly once
    assert not p.client.session.sent  # all acknowledged
    # the server took the socket into its existing session (RETRY_GLOBAL, then SEQ)
    assert p.server_registry.reused
    assert p.client.handshake_counts.get("recv_RETRY_GLOBAL") == 1
    assert p.client.session.connect_seq == p.server.session.connect_seq == 3


def test_acks_trim_the_sent_list() -> None:
    p = v1_pair()
    p.handshake()
    for _ in range(3):
        p.client.send_message(MPing(priority=127), p.now)
    p.transfer()
    assert len(p.client.session.sent) == 0
    acked = [m.seq for e in p.client_events if isinstance(e, ev.MessagesAcked)
             for m in e.messages]
    assert acked == [1, 2, 3]


def test_lossy_session_sends_no_acks_and_resets_on_fault() -> None:
    p = v1_pair(client_policy=Policy.lossy_client(),
                server_policy=Policy.stateless_server())
    p.handshake()
    assert p.client.lossy
    assert p.server.lossy
    p.client.send_message(MPing(priority=127), p.now)
    p.transfer()
    assert not any(c[:1] == bytes([V1Tag.ACK]) for c in p.wire_s2c)
    p.break_connection()
    assert "ResetSession" in kinds(p.client_events)
    assert p.client.state is S.CLOSED


def test_keepalive2_is_echoed_and_old_keepalive_noted() -> None:
    p = v1_pair()
    p.handshake()
    p.wall = 1_700_000_123.5
    p.client.send_keepalive(p.now)
    p.transfer()
    acks = [e for e in p.client_events if isinstance(e, ev.KeepaliveAck)]
    assert [float(a.timestamp) for a in acks] == [pytest.approx(1_700_000_123.5)]
    assert float(p.server.last_keepalive) == pytest.approx(1_700_000_123.5)
    p.client.features &= ~(1 << 42)  # a peer without MSGR_KEEPALIVE2: the lone tag
    p.client.send_keepalive(p.now)
    assert b"".join(bytes(c) for c in p.client.data_to_send(p.now)) == bytes([V1Tag.KEEPALIVE])


def test_close_tag_stops_the_connection() -> None:
    p = v1_pair()
    p.handshake()
    p.server.receive_data(bytes([V1Tag.CLOSE]), p.now)
    assert p.server.state is S.CLOSED


# -- cephx authorizers and signatures ----------------------------------------------------

ADMIN = AuthName(EntityType.CLIENT, "admin")
ADMIN_KEY = CryptoKey.from_base64("AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==")
KEYRING = Keyring.from_text(f"""
[client.admin]
    key = {ADMIN_KEY.to_base64()}
    caps mon = "allow *"
    caps osd = "allow *"
""")


def cephx_v1_pair() -> tuple[ProtocolPair, CephxClient]:
    now = [1_700_000_000.0]
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    ks = KeyServer(KEYRING, clock=clock, rng=random.Random(1))
    mon = CephxAuthServer(ks, AuthName(EntityType.MON, "a"), clock, role="mon",
                          rng=random.Random(2))
    osd = CephxAuthServer(ks, AuthName(EntityType.OSD, "0"), clock, rng=random.Random(3))
    client = CephxClient(ADMIN, ADMIN_KEY, clock=clock, rng=random.Random(4),
                         modes=ModeOptions(mon_client="crc"))
    # tickets from the mon over MAuth (the v1 way)
    session = None
    proto, payload = 0, client.build_v1_hello()
    while True:
        res = mon.handle_mauth(session, proto, payload)
        session = res.session
        nxt = client.handle_v1_reply(res.protocol, res.result, res.global_id, res.result_bl)
        if nxt is None:
            break
        proto, payload = 2, nxt
    assert EntityType.OSD in client.tickets
    p = v1_pair(client_auth=client, server_auth=osd)
    return p, client


def test_cephx_authorizer_with_challenge_then_signed_messages() -> None:
    p, client = cephx_v1_pair()
    p.handshake(trickle=11)
    assert p.client.handshake_counts.get("recv_CHALLENGE_AUTHORIZER") == 1
    assert p.server.handshake_counts.get("send_CHALLENGE_AUTHORIZER") == 1
    key = client.tickets[EntityType.OSD].session_key.secret
    assert p.client.sign_key == p.server.sign_key == key  # type: ignore[attr-defined]
    assert p.server.auth_meta.peer_name == ADMIN
    p.client.send_message(MPing(priority=127, data=b"hello"), p.now)
    p.server.send_message(MPing(priority=127, data=b"world"), p.now)
    p.transfer()
    assert received(p.server_events) == [b"hello"]
    assert received(p.client_events) == [b"world"]
    # the client's message was signed: footer flag SIGNED and a matching sig
    msg = next(c for c in p.wire_c2s if c[:1] == bytes([V1Tag.MSG]))
    footer = msg[-21:]
    fcrc, mcrc, dcrc, sig, flags = struct.unpack("<IIIQB", footer)
    assert flags & FooterFlags.SIGNED
    hdr = MsgHeader.decode(msg[1:1 + MSG_HEADER_LEN])
    assert sig == signature_of(key, hdr.crc, fcrc, hdr.front_len, mcrc, 0, dcrc, 5, hdr.seq)


def test_tampered_signature_is_a_typed_fault() -> None:
    p, _ = cephx_v1_pair()
    p.handshake()
    p.client.send_message(MPing(priority=127, data=b"hello"), p.now)
    raw = b"".join(bytes(c) for c in p.client.data_to_send(p.now))
    tampered = raw[:-9] + bytes([raw[-9] ^ 1]) + raw[-8:]  # one bit of the signature
    p.server.receive_data(tampered, p.now)
    evs = p.server.events_received()
    assert received(evs) == []
    assert first_close(evs).startswith("BadSignature")


def test_wrong_authorizer_gets_badauthorizer() -> None:
    p, client = cephx_v1_pair()
    t = client.tickets[EntityType.OSD]
    # a ticket whose session key is wrong: the server cannot decrypt the authorize
    client.tickets[EntityType.OSD] = t.replace(session_key=CryptoKey.aes(bytes(16)))
    p.connect()
    p.transfer()
    assert p.server.handshake_counts.get("send_BADAUTHORIZER") == 1
    assert p.client.state is S.START_CONNECT  # faulted; retries after a backoff
    assert any(e.reason.startswith("AuthFailed") for e in p.client_events
               if isinstance(e, ev.CloseSocket))


def test_signature_vector_from_a_capture() -> None:
    """wire-protocol.md §4.4: MMonProbe seq 1 of v1-monpair-authorizer-signed."""
    key = bytes.fromhex("8d8c477e00b01ae5fea8733e69223116")
    assert signature_of(key, 0x8DC0454E, 0xCBAA41D0, 63, 0, 0, 0, 0, 1) == 0x249D60E773DB3B5A
