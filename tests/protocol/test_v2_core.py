"""ProtocolV2 driven without sockets: handshake, messages, acks, keepalives,
throttles, timers, faults and hostile frames (no I/O, injected clock)."""

from __future__ import annotations

from typing import TypeVar

import pytest

from asyncmsgr.errors import MessageDecodeError
from asyncmsgr.frames.assembler import FrameAssembler
from asyncmsgr.frames.v2 import (
    CON_MODE_CRC,
    CON_MODE_SECURE,
    V1_BANNER,
    AckFrame,
    ClientIdentFrame,
    HelloFrame,
    Keepalive2Frame,
    Tag,
    WaitFrame,
    encode_banner,
)
from asyncmsgr.message import Message, RawMessage
from asyncmsgr.messages import MCommand, MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import ProtocolOptions, State
from asyncmsgr.protocol.v2 import ProtocolV2
from asyncmsgr.testing.dummy_auth import DummyAuthClient, DummyAuthServer
from asyncmsgr.testing.v2pair import SERVER_ADDR, ProtocolPair
from asyncmsgr.throttle import Throttle
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec, EntityType, UTime


def received(events: list[ev.Event]) -> list[Message]:
    return [e.message for e in events if isinstance(e, ev.MessageReceived)]


E = TypeVar("E")


def of_type(events: list[ev.Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def state(side: ProtocolBase) -> State:
    """The current state (a call, so mypy does not narrow across actions)."""
    return side.state


@pytest.mark.parametrize("trickle", [None, 1, 7])
def test_handshake_reaches_ready(trickle: int | None) -> None:
    p = ProtocolPair()
    p.handshake(trickle=trickle)
    assert of_type(p.client_events, ev.Connected) == [ev.Connected(reconnect=False)]
    assert of_type(p.server_events, ev.Accepted) == [ev.Accepted(reconnect=False)]
    # the client learnt its IP from the server's HELLO and kept type ANY, port 0
    assert p.client_registry.learned[0].host == "127.0.0.1"
    mine = p.client_registry.my_addrs.addrs[0]
    assert (mine.type, mine.host, mine.port, mine.nonce) == (AddrType.ANY, "127.0.0.1", 0, 77)
    # lossless client: random cookies on both sides, peer names and features known
    assert p.client.session.client_cookie != 0
    assert p.server.session.client_cookie == p.client.session.client_cookie
    assert p.client.session.server_cookie == p.server.session.server_cookie != 0
    assert p.server.peer_name.type == EntityType.CLIENT
    assert p.server.peer_name.num == 4100
    assert p.client.peer_name.type == EntityType.OSD
    assert p.client.features == p.server.features != 0
    for side in (p.client, p.server):
        assert side.handshake_counts["banner"] == 1
        assert side.handshake_counts["ready"] == 1


def test_wire_order_matches_ceph() -> None:
    p = ProtocolPair()
    p.handshake()
    client_sent = [k for k in p.client.handshake_counts if k.startswith("send_")]
    assert client_sent == ["send_HELLO", "send_AUTH_REQUEST", "send_AUTH_SIGNATURE",
                           "send_CLIENT_IDENT"]
    server_sent = [k for k in p.server.handshake_counts if k.startswith("send_")]
    assert server_sent == ["send_HELLO", "send_AUTH_DONE", "send_AUTH_SIGNATURE",
                           "send_SERVER_IDENT"]
    assert p.wire_c2s[0][:8] == b"ceph v2\n"


def test_lossy_client_session_has_no_cookies() -> None:
    p = ProtocolPair(client_policy=Policy.lossy_client(),
                     server_policy=Policy.stateless_server())
    p.handshake()
    assert p.client.session.client_cookie == 0
    assert p.server.session.server_cookie == 0
    assert p.client.lossy
    assert p.server.lossy


def test_messages_both_ways_with_acks() -> None:
    p = ProtocolPair()
    p.handshake()
    for i in range(5):
        p.client.send_message(MPing(priority=127, tid=i), p.now)
    p.server.send_message(MCommand(cmd=["{\"prefix\": \"x\"}"], priority=127), p.now)
    p.transfer()
    got = received(p.server_events)
    assert [m.tid for m in got] == [0, 1, 2, 3, 4]
    assert [m.seq for m in got] == [1, 2, 3, 4, 5]
    assert isinstance(received(p.client_events)[0], MCommand)
    # the server piggy-backed its ack on the MCommand or sent an ACK frame
    acked = [m for e in of_type(p.client_events, ev.MessagesAcked)
             for m in e.messages]
    assert [m.seq for m in acked] == [1, 2, 3, 4, 5]
    assert not p.client.session.sent
    assert p.server.session.in_seq == 5


def test_explicit_ack_frame_when_nothing_to_send() -> None:
    p = ProtocolPair()
    p.handshake()
    p.client.send_message(MPing(priority=127), p.now)
    p.transfer()
    acks = of_type(p.client_events, ev.MessagesAcked)
    assert len(acks) == 1
    assert p.server.session.ack_left == 0


def test_lossy_sends_no_acks_and_keeps_no_sent_list() -> None:
    p = ProtocolPair(client_policy=Policy.lossy_client(),
                     server_policy=Policy.stateless_server())
    p.handshake()
    p.client.send_message(MPing(priority=127), p.now)
    p.transfer()
    assert len(received(p.server_events)) == 1
    assert not p.client.session.sent
    assert not of_type(p.client_events, ev.MessagesAcked)


def test_priorities_overtake_within_a_connection() -> None:
    p = ProtocolPair()
    p.connect()
    p.client.send_message(MPing(priority=64, tid=1), p.now)
    p.client.send_message(MPing(priority=196, tid=2), p.now)
    p.client.send_message(MPing(priority=127, tid=3), p.now)
    p.client.send_message(MPing(priority=196, tid=4), p.now)
    p.transfer()
    assert [m.tid for m in received(p.server_events)] == [2, 4, 3, 1]


def test_large_message_is_received_without_copy() -> None:
    opts = ProtocolOptions(large_segment_threshold=1024)
    p = ProtocolPair(options=opts)
    p.handshake()
    payload = bytes(range(256)) * 4096  # 1 MiB
    p.client.send_message(MPing(priority=127, data=payload), p.now)
    p.transfer(trickle=65536)
    (m,) = received(p.server_events)
    assert bytes(m.data) == payload
    assert isinstance(m.data, memoryview)  # a view of the frame's own buffer


def test_unknown_message_type_arrives_raw() -> None:
    p = ProtocolPair()
    p.handshake()
    p.client.send_message(RawMessage(raw_type=0x7777, priority=127, front=b"abc"), p.now)
    p.transfer()
    (m,) = received(p.server_events)
    assert isinstance(m, RawMessage)
    assert m.type == 0x7777
    assert bytes(m.front) == b"abc"


def test_keepalive_round_trip() -> None:
    p = ProtocolPair()
    p.handshake()
    p.client.send_keepalive(p.now)
    p.transfer()
    (ack,) = of_type(p.client_events, ev.KeepaliveAck)
    assert ack == ev.KeepaliveAck(timestamp=UTime.from_float(p.wall))
    assert p.client.last_keepalive_ack == UTime.from_float(p.wall)
    assert p.server.last_keepalive == UTime.from_float(p.wall)


@pytest.mark.parametrize("modes", [(CON_MODE_SECURE,), (CON_MODE_CRC,)])
def test_dummy_auth_with_signatures_and_modes(modes: tuple[int, ...]) -> None:
    p = ProtocolPair(client_auth=DummyAuthClient(modes=modes), server_auth=DummyAuthServer())
    p.handshake(trickle=5)
    assert p.client.auth_meta.con_mode == modes[0]
    assert p.server.auth_meta.con_mode == modes[0]
    secure = modes[0] == CON_MODE_SECURE
    assert isinstance(p.client, ProtocolV2)
    assert (p.client._asm.tx is not None) == secure
    p.client.send_message(MPing(priority=127, data=b"x" * 5000), p.now)
    p.server.send_message(MPing(priority=127, data=b"y" * 100), p.now)
    p.transfer()
    assert bytes(received(p.server_events)[0].data) == b"x" * 5000
    assert bytes(received(p.client_events)[0].data) == b"y" * 100
    if secure:  # the plaintext never crosses the wire
        assert b"x" * 64 not in b"".join(p.wire_c2s)


def test_wrong_signature_faults() -> None:
    # the server's shared secret differs: the client sees a signature mismatch
    p = ProtocolPair(client_auth=DummyAuthClient(modes=(CON_MODE_CRC,)),
                     server_auth=DummyAuthServer(shared=b"other"))
    p.connect()
    p.transfer()
    assert p.client.state is not State.READY
    assert of_type(p.client_events, ev.CloseSocket)


def test_tampered_secure_frame_faults_without_delivery() -> None:
    p = ProtocolPair(client_auth=DummyAuthClient(), server_auth=DummyAuthServer())
    p.handshake()
    p.client.send_message(MPing(priority=127, data=b"secret"), p.now)

    def flip(data: bytes) -> bytes:
        b = bytearray(data)
        b[-5] ^= 0x40
        return bytes(b)

    p.transfer(mangle_c2s=flip)
    assert not received(p.server_events)
    assert of_type(p.server_events, ev.CloseSocket)


def test_v1_banner_on_v2_connection_stops_server() -> None:
    p = ProtocolPair()
    p.server.start_accept(p.now, EntityAddr.from_host("127.0.0.1", 1))
    p.server.receive_data(V1_BANNER + bytes(300), p.now)
    events = p.server.events_received()
    assert p.server.state is State.CLOSED
    assert ev.ResetSession() in events


def test_garbage_after_ready_faults_lossless_client_and_reconnects() -> None:
    p = ProtocolPair()
    p.handshake()
    p.client.send_message(MPing(priority=127), p.now)
    p.client.receive_data(b"\x00" * 40, p.now)  # a preamble with a bad crc
    events = p.client.events_received()
    assert ev.CloseSocket in [type(e) for e in events]
    need = of_type(events, ev.NeedConnect)
    assert need == [ev.NeedConnect(at=p.now)]  # immediate reconnect after READY
    assert p.client.state is State.START_CONNECT
    assert p.client.session.connect_seq == 1
    # the unacked message was requeued, its seq will be reused
    assert len(p.client.session.out_queue) == 1


def test_stateful_server_goes_to_standby_on_fault() -> None:
    p = ProtocolPair()
    p.handshake()
    p.server.connection_lost(p.now)
    assert p.server.state is State.STANDBY
    assert not of_type(p.server.events_received(), ev.ResetSession)


def test_lossy_fault_after_ready_is_a_reset() -> None:
    p = ProtocolPair(client_policy=Policy.lossy_client(),
                     server_policy=Policy.stateless_server())
    p.handshake()
    p.client.send_message(MPing(priority=127), p.now)
    p.client.connection_lost(p.now)
    events = p.client.events_received()
    assert p.client.state is State.CLOSED
    assert ev.ResetSession() in events
    assert of_type(events, ev.MessagesDropped)


def test_connect_backoff_doubles_to_the_max() -> None:
    opts = ProtocolOptions(initial_backoff=0.2, max_backoff=1.0)
    p = ProtocolPair(options=opts)
    c = p.client
    c.start_connect(p.now)
    delays = []
    for _ in range(5):
        c.connection_failed(p.now, refused=True)
        (need,) = of_type(c.events_received(), ev.NeedConnect)
        delays.append(round(need.at - p.now, 3))
    assert delays == [0.2, 0.4, 0.8, 1.0, 1.0]


def test_refused_emits_refused_event() -> None:
    p = ProtocolPair()
    p.client.start_connect(p.now)
    p.client.connection_failed(p.now, refused=True)
    assert ev.Refused() in p.client.events_received()


def test_ready_timeout() -> None:
    p = ProtocolPair(options=ProtocolOptions(connection_ready_timeout=2.0))
    p.client.start_connect(p.now)
    p.client.connection_made(p.now)
    assert p.client.get_timer() == p.now + 2.0
    p.advance(2.5)
    assert p.client.state is State.START_CONNECT
    assert of_type(p.client_events, ev.CloseSocket)


def test_idle_timeout_faults_ready_connection() -> None:
    p = ProtocolPair(options=ProtocolOptions(connection_idle_timeout=1.0),
                     client_policy=Policy.lossy_client(),
                     server_policy=Policy.stateless_server())
    p.handshake()
    p.advance(1.5)
    assert p.client.state is State.CLOSED
    assert ev.ResetSession() in p.client_events


def test_missing_features_refuses_client() -> None:
    needed = 1 << 13
    p = ProtocolPair(server_policy=Policy.stateful_server().replace(
        features_required=needed),
        client_policy=Policy.lossless_client().replace(
            features_supported=Policy().features_supported & ~needed))
    p.connect()
    p.transfer()
    assert p.client.state is not State.READY
    assert p.server.state is State.SESSION_ACCEPTING
    assert p.server.handshake_counts.get("send_IDENT_MISSING_FEATURES") == 1


def test_wait_from_server_backs_off_to_max() -> None:
    p = ProtocolPair(options=ProtocolOptions(max_backoff=3.0))
    # the server is itself connecting to this client (a race) and wins it: the
    # client's address (type ANY) orders above the server's v2 address
    racer = p._new_server()
    racer.policy = Policy.lossless_peer()
    client_addrs = EntityAddrVec((EntityAddr.from_host("127.0.0.1", 0, type=AddrType.ANY,
                                                       nonce=77),))
    racer.peer_addrs = client_addrs
    racer.start_connect(p.now)
    p.server_registry.registered[client_addrs] = racer
    p.connect()
    p.transfer()
    assert p.server.handshake_counts["send_WAIT"] == 1
    assert p.server_registry.kicked == [racer]
    need = of_type(p.client_events, ev.NeedConnect)
    assert need == [ev.NeedConnect(at=p.now + 3.0)]


def test_throttle_pauses_reading_until_released() -> None:
    msgs = Throttle("test-msgs", 1)
    p = ProtocolPair(server_policy=Policy.stateful_server().with_throttlers(messages=msgs))
    p.handshake()
    for i in range(3):
        p.client.send_message(MPing(priority=127, tid=i), p.now)
    p.transfer()
    (first,) = received(p.server_events)
    assert not p.server.wants_read
    assert p.server.state is State.THROTTLE_MESSAGE
    assert msgs.current == 1
    first.release_throttles()
    assert msgs.current == 0
    p.advance(0.002)
    got = received(p.server_events)
    assert [m.tid for m in got] == [0, 1]
    got[1].release_throttles()
    p.advance(0.002)
    assert [m.tid for m in received(p.server_events)] == [0, 1, 2]
    received(p.server_events)[2].release_throttles()
    assert msgs.current == 0
    assert p.server.wants_read


def test_fault_releases_partially_taken_throttles() -> None:
    byte_t = Throttle("test-bytes", 1000)
    msg_t = Throttle("test-msgs", 10)
    p = ProtocolPair(server_policy=Policy.stateful_server().with_throttlers(
        bytes=byte_t, messages=msg_t))
    p.handshake()
    p.client.send_message(MPing(priority=127, data=b"z" * 5000), p.now)
    wire = b"".join(bytes(c) for c in p.client.data_to_send(p.now))
    p.server.receive_data(wire[:200], p.now)  # preamble + some data: throttles taken
    assert msg_t.current == 1
    assert byte_t.current == 5000
    p.server.connection_lost(p.now)
    assert (msg_t.current, byte_t.current) == (0, 0)


def test_old_message_dropped_and_die_on_old_message_raises() -> None:
    p = ProtocolPair()
    p.handshake()
    p.client.send_message(MPing(priority=127), p.now)
    wire = b"".join(bytes(c) for c in p.client.data_to_send(p.now))
    p.server.receive_data(wire, p.now)
    p.server.receive_data(wire, p.now)  # the same seq again
    assert len(received(p.server.events_received())) == 1
    strict = ProtocolPair(options=ProtocolOptions(die_on_old_message=True))
    strict.handshake()
    strict.client.send_message(MPing(priority=127), strict.now)
    wire = b"".join(bytes(c) for c in strict.client.data_to_send(strict.now))
    strict.server.receive_data(wire, strict.now)
    with pytest.raises(AssertionError, match="old msgs"):
        strict.server.receive_data(wire, strict.now)


def test_skipped_seq_is_logged_or_raises_with_die_on_skipped_message() -> None:
    for die in (False, True):
        p = ProtocolPair(options=ProtocolOptions(die_on_skipped_message=die))
        p.handshake()
        p.client.send_message(MPing(priority=127, tid=1), p.now)
        first = b"".join(bytes(c) for c in p.client.data_to_send(p.now))
        p.client.send_message(MPing(priority=127, tid=2), p.now)
        second = b"".join(bytes(c) for c in p.client.data_to_send(p.now))
        assert first  # written, never delivered: the server sees seq 2 first
        if die:
            with pytest.raises(AssertionError, match="skipped"):
                p.server.receive_data(second, p.now)
        else:
            p.server.receive_data(second, p.now)
            assert [m.seq for m in received(p.server.events_received())] == [2]


def test_undecodable_message_faults_or_raises_with_die_on_bad_msg() -> None:
    bad = RawMessage(raw_type=MCommand.TYPE, priority=127, front=b"\x01")  # truncated
    p = ProtocolPair(client_policy=Policy.lossless_client(),
                     server_policy=Policy.stateful_server())
    p.handshake()
    p.client.send_message(bad, p.now)
    p.transfer()
    assert not received(p.server_events)
    assert p.server.state is State.STANDBY  # faulted cleanly, session kept
    strict = ProtocolPair(options=ProtocolOptions(die_on_bad_msg=True))
    strict.handshake()
    strict.client.send_message(bad, strict.now)
    wire = b"".join(bytes(c) for c in strict.client.data_to_send(strict.now))
    with pytest.raises(MessageDecodeError):
        strict.server.receive_data(wire, strict.now)


def test_oversize_pre_auth_frame_faults_before_allocation() -> None:
    p = ProtocolPair()
    p.server.start_accept(p.now, EntityAddr.from_host("127.0.0.1", 1))
    asm = FrameAssembler()
    junk = asm.assemble(Tag.AUTH_REQUEST, (b"x" * 70000,))
    p.server.receive_data(encode_banner() + b"".join(bytes(c) for c in junk)[:100], p.now)
    assert p.server.state is State.CLOSED


def _frame_bytes(tag: Tag, payload: bytes) -> bytes:
    return b"".join(bytes(c) for c in FrameAssembler().assemble(tag, (payload,)))


SAMPLE_FRAMES = {
    Tag.HELLO: HelloFrame(entity_type=8, peer_addr=SERVER_ADDR).encode_payload(),
    Tag.ACK: AckFrame(seq=1).encode_payload(),
    Tag.KEEPALIVE2: Keepalive2Frame(timestamp=UTime(1, 2)).encode_payload(),
    Tag.WAIT: WaitFrame().encode_payload(),
    Tag.CLIENT_IDENT: ClientIdentFrame(
        addrs=EntityAddrVec((EntityAddr.from_host("127.0.0.1", 0, type=AddrType.ANY),)),
        target_addr=SERVER_ADDR, gid=1, global_seq=1, supported_features=0,
        required_features=0, flags=0, cookie=1).encode_payload(),
}
OUT_OF_STATE = [(tag, "hello") for tag in (Tag.ACK, Tag.KEEPALIVE2, Tag.WAIT,
                                          Tag.CLIENT_IDENT)]
OUT_OF_STATE += [(tag, "auth") for tag in SAMPLE_FRAMES]


@pytest.mark.parametrize(("tag", "when"), OUT_OF_STATE)
def test_frames_out_of_state_fault(tag: Tag, when: str) -> None:
    """A frame that is not allowed in the current state faults the connection."""
    p = ProtocolPair()
    p.server.start_accept(p.now, EntityAddr.from_host("127.0.0.1", 1))
    p.server.receive_data(encode_banner(), p.now)
    if when == "auth":  # after HELLO only AUTH_REQUEST is allowed (a 2nd HELLO is not)
        p.server.receive_data(_frame_bytes(Tag.HELLO, SAMPLE_FRAMES[Tag.HELLO]), p.now)
        assert p.server.state is State.AUTH_ACCEPTING
    p.server.receive_data(_frame_bytes(tag, SAMPLE_FRAMES[tag]), p.now)
    assert p.server.state is State.CLOSED


def test_message_before_ready_faults() -> None:
    p = ProtocolPair()
    p.server.start_accept(p.now, EntityAddr.from_host("127.0.0.1", 1))
    msg = b"".join(bytes(c) for c in FrameAssembler().assemble_message(
        bytes(41), b"front"))
    p.server.receive_data(encode_banner() + msg, p.now)
    assert p.server.state is State.CLOSED


def test_stop_drops_queue_and_further_sends() -> None:
    p = ProtocolPair()
    p.handshake()
    p.client.send_message(MPing(priority=127), p.now)
    p.client.stop()
    events = p.client.events_received()
    assert p.client.state is State.CLOSED
    assert of_type(events, ev.MessagesDropped)
    assert ev.ResetSession() not in events  # mark_down: no reset callback
    p.client.send_message(MPing(priority=127), p.now)
    assert of_type(p.client.events_received(), ev.MessagesDropped)


def test_standby_client_reconnects_on_send() -> None:
    p = ProtocolPair(client_policy=Policy.lossless_peer(),
                     server_policy=Policy.stateful_server())
    p.handshake()
    p.client.connection_lost(p.now)
    assert state(p.client) is State.STANDBY
    p.client.send_message(MPing(priority=127), p.now)
    assert of_type(p.client.events_received(), ev.NeedConnect)
    assert state(p.client) is State.START_CONNECT
