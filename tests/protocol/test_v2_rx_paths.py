"""ProtocolV2's receive paths with exact numbers: what ``pre_auth_bytes`` counts
at each point of an unauthenticated accept (partial banner, between frames, a
partial frame, a large body), the bound on the pre-auth transcript at its exact
length, the early banner refusal, idle states ignoring input, and which frames
the READY fast loop takes (small = body up to the large-segment threshold)."""

from __future__ import annotations

from typing import TypeVar

from v2pair_helpers import Recorder

from asyncmsgr.frames.assembler import PREAMBLE_LEN, FrameAssembler
from asyncmsgr.frames.v2 import HelloFrame, Tag, encode_banner
from asyncmsgr.message import Message
from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol import v1_handshake
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import ProtocolOptions, State, Step
from asyncmsgr.testing.interceptor import TestInterceptor
from asyncmsgr.testing.v2pair import CLIENT_SOCKET_ADDR, ProtocolPair
from asyncmsgr.throttle import Throttle
from asyncmsgr.types import EntityAddr, EntityType

E = TypeVar("E")
NOW = 1000.0


def of_type(events: list[ev.Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def received(events: list[ev.Event]) -> list[Message]:
    return [e.message for e in events if isinstance(e, ev.MessageReceived)]


def closes(side: ProtocolBase) -> list[str]:
    return [e.reason for e in of_type(side.events_received(), ev.CloseSocket)]


def state(side: ProtocolBase) -> State:
    return side.state


def wire_of(side: ProtocolBase, now: float = NOW) -> bytes:
    return b"".join(bytes(c) for c in side.data_to_send(now))


def held(side: ProtocolBase) -> int:
    return side._rx.held


def _server(**opts: int) -> tuple[ProtocolBase, bytes]:
    p = ProtocolPair(options=ProtocolOptions(**opts))  # type: ignore[arg-type]
    s = p.server
    s.start_accept(NOW, CLIENT_SOCKET_ADDR)
    return s, wire_of(s)


def _hello_frame(asm: FrameAssembler) -> bytes:
    hello = HelloFrame(entity_type=EntityType.CLIENT,
                       peer_addr=EntityAddr.from_host("127.0.0.1", 0))
    return b"".join(bytes(c) for c in asm.assemble(Tag.HELLO, (hello.encode_payload(),)))


# -- pre_auth_bytes --------------------------------------------------------------------


def test_pre_auth_bytes_counts_the_rest_of_a_partial_banner() -> None:
    s, sent = _server()
    assert len(sent) == 26
    banner = encode_banner()
    s.receive_data(banner[:13], NOW)  # the 10-byte prefix and 3 payload bytes
    # held + 13 payload bytes still to come + the prefix received + our banner
    assert s.pre_auth_bytes == held(s) + 13 + 10 + 26


def test_pre_auth_bytes_between_frames_is_buffers_and_transcripts() -> None:
    s, sent = _server()
    asm = FrameAssembler(rev1=True)
    hello = _hello_frame(asm)
    s.receive_data(encode_banner() + hello, NOW)
    assert state(s) is State.AUTH_ACCEPTING
    sent += wire_of(s)  # our HELLO
    assert s.pre_auth_bytes == held(s) + (26 + len(hello)) + len(sent)
    # a partial AUTH_REQUEST: the announced rest of its body counts too
    frame = b"".join(bytes(c) for c in asm.assemble(Tag.AUTH_REQUEST, (bytes(100),)))
    body_len = len(frame) - PREAMBLE_LEN
    s.receive_data(frame[: PREAMBLE_LEN + 4], NOW)
    assert s.pre_auth_bytes == held(s) + (body_len - 4) + (26 + len(hello)) + len(sent)


def test_pre_auth_bytes_with_a_large_body_counts_its_buffer_once() -> None:
    s, sent = _server(large_segment_threshold=16)
    asm = FrameAssembler(rev1=True)
    hello = _hello_frame(asm)
    s.receive_data(encode_banner() + hello[: PREAMBLE_LEN + 5], NOW)
    assert s._rx.receiving_big
    sent += wire_of(s)  # our HELLO
    body_len = len(hello) - PREAMBLE_LEN
    assert held(s) >= body_len  # the dedicated buffer is allocated: nothing more wanted
    assert s.pre_auth_bytes == held(s) + 26 + len(sent)
    s.receive_data(hello[PREAMBLE_LEN + 5 :], NOW)
    assert state(s) is State.AUTH_ACCEPTING


def test_pre_auth_bytes_is_zero_for_a_client_and_after_auth() -> None:
    p = ProtocolPair()
    p.handshake()
    assert p.server.pre_auth_bytes == 0
    assert p.client.pre_auth_bytes == 0


# -- the pre-auth transcript bound -----------------------------------------------------


def _client_pre_auth_len() -> int:
    """The bytes a client sends before its AUTH_SIGNATURE (banner and frames),
    read off the wire of a normal handshake."""
    p = ProtocolPair()
    p.handshake()
    stream = b"".join(p.wire_c2s)
    asm = FrameAssembler(rev1=True)
    pos = 26
    while True:
        pre = asm.disassemble_preamble(stream[pos : pos + PREAMBLE_LEN])
        if pre.tag == Tag.AUTH_SIGNATURE:
            return pos
        pos += PREAMBLE_LEN + pre.body_len


def test_pre_auth_transcript_may_reach_its_bound_but_not_exceed_it() -> None:
    limit = _client_pre_auth_len()
    ok = ProtocolPair(options=ProtocolOptions(max_pre_auth_transcript=limit))
    ok.handshake()
    bad = ProtocolPair(options=ProtocolOptions(max_pre_auth_transcript=limit - 1))
    bad.connect()
    bad.transfer()
    assert state(bad.server) is State.CLOSED
    assert [e.reason for e in of_type(bad.server_events, ev.CloseSocket)] == [
        "DecodeError: pre-auth transcript too long"]


# -- banners ---------------------------------------------------------------------------


def test_partial_banner_refusals_name_the_peer() -> None:
    cases = [
        (b"ceph v", None),  # a prefix of both banners: wait
        (b"ceph v0", "BannerMismatch: peer speaks msgr v1 (banner 'ceph v027'), not msgr2"),
        (b"GET / HT", "BannerMismatch: bad banner b'GET / HT': not a Ceph msgr2 peer"),
        (b"ceph v3", "BannerMismatch: bad banner b'ceph v3': not a Ceph msgr2 peer"),
    ]
    for data, reason in cases:
        s, _ = _server()
        s.receive_data(data, NOW)
        if reason is None:
            assert state(s) is State.BANNER_ACCEPTING
            assert closes(s) == []
        else:
            assert state(s) is State.CLOSED, data
            assert closes(s) == [reason]


def test_idle_states_ignore_received_bytes() -> None:
    p = ProtocolPair()
    c = p.client
    c.start_connect(NOW)
    c.receive_data(b"garbage!!!", NOW)  # before connection_made
    assert state(c) is State.START_CONNECT
    assert c.events_received() == []
    p = ProtocolPair(client_policy=Policy.lossless_peer(),
                     server_policy=Policy.lossless_peer())
    p.handshake()
    p.client.connection_lost(NOW)
    p.client.events_received()
    assert state(p.client) is State.STANDBY
    p.client.receive_data(b"garbage!!!", NOW)
    assert state(p.client) is State.STANDBY
    assert p.client.events_received() == []


# -- the READY fast loop ---------------------------------------------------------------


def _message_wire(p: ProtocolPair, n: int, data: bytes = b"") -> bytes:
    for tid in range(n):
        p.client.send_message(MPing(priority=127, tid=tid, data=data), p.now)
    return wire_of(p.client, p.now)


def test_fast_loop_takes_every_complete_frame_up_to_the_last_byte() -> None:
    p = ProtocolPair(options=ProtocolOptions(fast_path=True))
    p.handshake()
    rec = Recorder.install(p.server)
    wire = _message_wire(p, 3)
    p.server.receive_data(wire, p.now)
    assert len(received(p.server.events_received())) == 3
    assert rec.fast_frames == 3


def test_fast_loop_takes_a_body_of_exactly_the_threshold() -> None:
    probe = ProtocolPair()
    probe.handshake()
    wire = _message_wire(probe, 1, b"z" * 200)
    body_len = FrameAssembler(rev1=True).disassemble_preamble(wire[:PREAMBLE_LEN]).body_len
    for threshold, fast_frames in ((body_len, 1), (body_len - 1, 0)):
        p = ProtocolPair(options=ProtocolOptions(fast_path=True,
                                                 large_segment_threshold=threshold))
        p.handshake()
        rec = Recorder.install(p.server)
        p.server.receive_data(_message_wire(p, 1, b"z" * 200), p.now)
        (m,) = received(p.server.events_received())
        assert bytes(m.data) == b"z" * 200
        assert rec.fast_frames == fast_frames, threshold


def test_fast_loop_throttle_failure_is_tried_once_per_attempt() -> None:
    t = Throttle("test-msgs", 1)
    p = ProtocolPair(server_policy=Policy.stateful_server().with_throttlers(messages=t),
                     options=ProtocolOptions(fast_path=True))
    p.handshake()
    p.server.receive_data(_message_wire(p, 2), p.now)
    (first,) = received(p.server.events_received())
    stats = t.statistics()
    assert (stats.get_or_fail_success, stats.get_or_fail_fail) == (1, 1)
    first.release_throttles()
    p.server.handle_timer(p.server.get_timer() or 0.0)
    assert len(received(p.server.events_received())) == 1
    assert t.statistics().get_or_fail_fail == 1


def test_v1_pre_auth_bytes_has_no_transcript() -> None:
    """msgr v1 keeps no handshake transcript: buffers plus the announced rest."""
    p = ProtocolPair(protocol=1)
    s = p.server
    s.start_accept(NOW, CLIENT_SOCKET_ADDR)
    s.data_to_send(NOW)
    assert state(s) is State.ACCEPTING_WAIT_BANNER_ADDR
    s.receive_data(b"ceph v027", NOW)
    assert s.pre_auth_bytes == held(s) + v1_handshake.ACCEPT_HELLO_LEN - 9


def test_pre_auth_bytes_with_exactly_the_banner_prefix() -> None:
    s, sent = _server()
    s.receive_data(encode_banner()[:10], NOW)
    # the prefix is taken (and kept for the signature); its payload length is known
    assert s.pre_auth_bytes == held(s) + 16 + 10 + len(sent)


def test_pre_auth_bytes_while_paused_before_the_banner() -> None:
    t = TestInterceptor()
    t.breakpoint(Step.START_SERVER_BANNER_EXCHANGE)
    p = ProtocolPair()
    s = p.server
    s.interceptor = t
    s.start_accept(NOW, CLIENT_SOCKET_ADDR)
    assert state(s) is State.START_ACCEPT
    assert s.pre_auth_bytes == held(s) == 0


def test_a_body_of_exactly_the_threshold_is_read_in_place() -> None:
    hello = _hello_frame(FrameAssembler(rev1=True))
    body_len = len(hello) - PREAMBLE_LEN
    for threshold, big in ((body_len, False), (body_len - 1, True)):
        s, _ = _server(large_segment_threshold=threshold)
        s.receive_data(encode_banner() + hello[: PREAMBLE_LEN + 5], NOW)
        assert s._rx.receiving_big is big, threshold
        s.receive_data(hello[PREAMBLE_LEN + 5 :], NOW)
        assert state(s) is State.AUTH_ACCEPTING


def test_banner_exchange_pause_then_continue_writes_the_banner() -> None:
    for step, on in ((Step.BANNER_EXCHANGE_BANNER_CONNECTING, "client"),
                     (Step.BANNER_EXCHANGE, "server")):
        t = TestInterceptor()
        t.breakpoint(step)
        p = ProtocolPair()
        side = p.client if on == "client" else p.server
        side.interceptor = t
        p.client.start_connect(NOW)
        p.client.connection_made(NOW)
        p.server.start_accept(NOW, CLIENT_SOCKET_ADDR)
        assert side.held_step == step
        assert side.data_to_send(NOW) == []
        t.remove_bp(step)
        side.release(NOW)
        banner = wire_of(side)
        assert banner == encode_banner()
        (p.server if on == "client" else p.client).receive_data(banner, NOW)
        side.interceptor = None
        p.transfer()
        assert state(p.client) is State.READY
