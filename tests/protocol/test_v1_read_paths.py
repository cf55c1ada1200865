"""ProtocolV1's receive side in detail: what a received message carries (header
fields, sender, stamps, counted bytes), unknown types, the interceptor steps,
caps at their exact bounds, throttles at each stage, the control items (partial,
several in one read), the part being read at each exact boundary, the large-body
threshold, ``ms_crc_*`` off, signature failures, footers without COMPLETE, and
the bytes an accepting machine announces before authentication."""

from __future__ import annotations

import struct

import pytest
from v1pair_helpers import (
    FOOTER,
    RAW_TYPE,
    RecCounters,
    closes,
    messages,
    out_bytes,
    raw,
    v1_pair,
    with_src,
)

from asyncmsgr.frames.v1 import BANNER, V1Tag, encode_seq
from asyncmsgr.message import MSG_FOOTER_LEN, MSG_HEADER_LEN, FooterFlags, RawMessage
from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.common import InterceptAction, ProtocolOptions, State, Step
from asyncmsgr.protocol.v1_handshake import ACCEPT_HELLO_LEN
from asyncmsgr.testing.interceptor import TestInterceptor
from asyncmsgr.testing.preauth_attack import v1_connect_prefix
from asyncmsgr.testing.v2pair import CLIENT_SOCKET_ADDR, ProtocolPair
from asyncmsgr.throttle import Throttle
from asyncmsgr.types import EntityName, EntityType, UTime

S = State
pytestmark = pytest.mark.timeout(30)
CLIENT = EntityName(EntityType.CLIENT, 4100)
HEAD = 1 + MSG_HEADER_LEN


def _open(**kw: object) -> ProtocolPair:
    p = v1_pair(**kw)
    p.handshake()
    return p


def _stamp(t: UTime) -> bytes:
    return struct.pack("<II", t.sec, t.nsec)


def _sent(p: ProtocolPair, *msgs: object) -> bytes:
    for m in msgs:
        p.client.send_message(m, p.now)  # type: ignore[arg-type]
    return out_bytes(p.client, p.now)


# -- what a received message carries -----------------------------------------------------


def test_message_carries_its_sender_stamps_and_counted_bytes() -> None:
    """The sender comes from each header; the server learns the client's number
    from the first message; stamps are the receive time; msgr_recv_bytes counts
    the whole item (tag, header, parts, footer). No interceptor: no step counted."""
    p = _open()
    rec = RecCounters()
    p.server.counters = rec
    assert p.server.peer_name == EntityName(EntityType.CLIENT, -1)  # v1: not told yet
    wire = _sent(p, raw(b"F" * 7, b"M" * 3, b"D" * 11))
    p.advance(0.25)
    p.server.receive_data(wire, p.now)
    [m] = messages(p.server.events_received())
    assert m.src == CLIENT
    assert p.server.peer_name == CLIENT
    assert m.recv_stamp == m.throttle_stamp == m.recv_complete_stamp == p.now
    assert rec.n["msgr_recv_messages"] == 1
    assert rec.n["msgr_recv_bytes"] == len(wire) == HEAD + 7 + 3 + 11 + MSG_FOOTER_LEN
    assert "HANDLE_MESSAGE" not in p.server.handshake_counts
    assert "READ_MESSAGE_COMPLETE" not in p.server.handshake_counts


def test_each_header_names_its_sender_but_only_the_peer_type_renames_the_peer() -> None:
    p = _open()
    p.server.receive_data(_sent(p, raw(b"a")), p.now)
    # the same number under another type: the message says so, the peer stays
    item = with_src(_sent(p, raw(b"b")), EntityName(EntityType.OSD, 4100))
    # another number under another type: neither renames the peer
    other = with_src(_sent(p, raw(b"b2")), EntityName(EntityType.OSD, 7))
    # another number of the peer's type: the peer is renamed
    item2 = with_src(_sent(p, raw(b"c")), EntityName(EntityType.CLIENT, 9))
    p.server.receive_data(item + other, p.now)
    assert p.server.peer_name == CLIENT
    p.server.receive_data(item2, p.now)
    got = messages(p.server.events_received())
    assert [m.src for m in got] == [CLIENT, EntityName(EntityType.OSD, 4100),
                                    EntityName(EntityType.OSD, 7),
                                    EntityName(EntityType.CLIENT, 9)]
    assert p.server.peer_name == EntityName(EntityType.CLIENT, 9)


def test_unknown_type_arrives_raw_with_every_header_field() -> None:
    p = _open()
    m = raw(b"front", b"mid", b"data!", tid=77, version=5, compat_version=2, data_off=64)
    m.priority = 196
    p.server.receive_data(_sent(p, m), p.now)
    [got] = messages(p.server.events_received())
    assert isinstance(got, RawMessage)
    assert (got.type, got.seq, got.tid, got.priority, got.version, got.compat_version,
            got.data_off, got.src) == (RAW_TYPE, 1, 77, 196, 5, 2, 64, CLIENT)
    assert (bytes(got.front), bytes(got.middle), bytes(got.data)) == (b"front", b"mid",
                                                                      b"data!")


# -- the interceptor's message steps ------------------------------------------------------


@pytest.mark.parametrize("step", [Step.HANDLE_MESSAGE, Step.READ_MESSAGE_COMPLETE])
def test_pause_at_a_message_step_holds_everything_until_released(step: Step) -> None:
    t = TestInterceptor()
    t.breakpoint(step)
    p = _open()
    p.server.interceptor = t
    rec = RecCounters()
    p.server.counters = rec
    first = _sent(p, raw(b"one", b"m", b"1"))
    second = _sent(p, raw(b"two"))
    p.server.receive_data(first, p.now)
    assert p.server.held_step is step
    p.server.receive_data(second, p.now)  # nothing is read while paused
    assert messages(p.server.events_received()) == []
    assert p.server.state is S.READ_FOOTER_AND_DISPATCH  # the step has not run
    t.remove_bp(step)
    p.advance(2.0)
    p.server.release(p.now)
    got = messages(p.server.events_received())
    assert [bytes(m.front) for m in got] == [b"one", b"two"]
    assert [(bytes(m.middle), bytes(m.data)) for m in got] == [(b"m", b"1"), (b"", b"")]
    assert got[0].src == CLIENT
    assert got[0].seq == 1
    assert [m.recv_stamp for m in got] == [p.now, p.now]
    assert rec.n["msgr_recv_bytes"] == len(first) + len(second)
    assert t.step_history[p.server.owner][-4:] == [
        Step.HANDLE_MESSAGE, Step.READ_MESSAGE_COMPLETE] * 2


def test_interceptor_that_continues_leaves_messages_as_without_one() -> None:
    t = TestInterceptor()
    p = _open()
    p.server.interceptor = t
    rec = RecCounters()
    p.server.counters = rec
    wire = _sent(p, raw(b"x" * 5, data=b"y" * 9))
    p.server.receive_data(wire, p.now)
    [m] = messages(p.server.events_received())
    assert (bytes(m.front), bytes(m.data), m.src, m.recv_stamp) == (b"x" * 5, b"y" * 9,
                                                                    CLIENT, p.now)
    assert rec.n["msgr_recv_bytes"] == len(wire)
    assert p.server.handshake_counts["HANDLE_MESSAGE"] == 1
    assert p.server.handshake_counts["READ_MESSAGE_COMPLETE"] == 1


@pytest.mark.parametrize("step", [Step.HANDLE_MESSAGE, Step.READ_MESSAGE_COMPLETE])
def test_fail_at_a_message_step_faults_without_delivering(step: Step) -> None:
    t = TestInterceptor()
    t.decisions[step] = InterceptAction.FAIL
    p = _open()
    p.server.interceptor = t
    p.server.receive_data(_sent(p, raw(b"z")), p.now)
    evs = p.server.events_received()
    assert messages(evs) == []
    assert closes(evs) == [f"interceptor FAIL at step {step}"]


# -- caps ----------------------------------------------------------------------------------


def _capped(front: int = 100, middle: int = 100, data: int = 100) -> ProtocolPair:
    lim = ProtocolOptions().limits.__class__(front=front, middle=middle, data=data)
    return _open(server_options=ProtocolOptions(limits=lim))


def test_parts_exactly_at_their_caps_are_accepted() -> None:
    p = _capped()
    p.server.receive_data(_sent(p, raw(b"f" * 100, b"m" * 100, b"d" * 100)), p.now)
    [m] = messages(p.server.events_received())
    assert len(m.front) == len(m.middle) == len(m.data) == 100


@pytest.mark.parametrize(("sizes", "text"), [
    ((101, 0, 0), "front 101, middle 0, data 0"),
    ((0, 101, 0), "front 0, middle 101, data 0"),
    ((0, 0, 101), "front 0, middle 0, data 101")])
def test_one_part_over_its_cap_faults(sizes: tuple[int, int, int], text: str) -> None:
    p = _capped()
    f, m, d = sizes
    p.server.receive_data(_sent(p, raw(b"f" * f, b"m" * m, b"d" * d)), p.now)
    evs = p.server.events_received()
    assert messages(evs) == []
    assert closes(evs) == [f"FrameTooLarge: msgr v1 message of {text} bytes exceeds the caps"]


# -- throttles -----------------------------------------------------------------------------


@pytest.mark.parametrize("stage", [S.THROTTLE_MESSAGE, S.THROTTLE_BYTES,
                                   S.THROTTLE_DISPATCH_QUEUE])
def test_full_throttle_waits_at_its_stage_until_there_is_room(stage: State) -> None:
    """A full throttle stops the message at its stage; the retry timer (and only
    it) tries again; more bytes meanwhile are not read; room lets it through."""
    t_msgs = Throttle("msgs", 1)
    t_bytes = Throttle("bytes", 1000)
    dq = Throttle("dispatch", 1000)
    p = _open(server_policy=Policy.stateful_server().replace(throttler_messages=t_msgs,
                                                             throttler_bytes=t_bytes))
    p.server.dispatch_throttle = dq
    full = {S.THROTTLE_MESSAGE: (t_msgs, 1), S.THROTTLE_BYTES: (t_bytes, 1000),
            S.THROTTLE_DISPATCH_QUEUE: (dq, 1000)}[stage]
    assert full[0].get_or_fail(full[1])
    retry = p.server.options.throttle_retry
    p.server.receive_data(_sent(p, raw(b"f" * 10, data=b"d" * 20)), p.now)
    assert p.server.state is stage
    assert p.server.get_timer() == p.now + retry
    assert not p.server.wants_read
    for _ in range(2):  # still full at each retry: still waiting, timer re-armed
        p.advance(retry)
        assert p.server.state is stage
        assert p.server.get_timer() == pytest.approx(p.now + retry)
        assert messages(p.server_events) == []
    full[0].put(full[1])
    # bytes arriving before the timer are kept, not read
    p.server.receive_data(bytes([V1Tag.KEEPALIVE2]) + bytes(8), p.now)
    assert p.server.state is stage
    assert messages(p.server.events_received()) == []
    p.advance(retry)
    [m] = messages(p.server_events)
    assert len(m.data) == 20
    assert p.server.keepalive_acks  # then the keepalive was read
    assert (t_msgs.current, t_bytes.current, dq.current) == (1, 30, 30)
    m.release_throttles()


# -- control items -------------------------------------------------------------------------


@pytest.mark.parametrize(("tag", "state"), [
    (V1Tag.ACK, S.OPEN_TAG_ACK), (V1Tag.KEEPALIVE2, S.OPEN_KEEPALIVE2),
    (V1Tag.KEEPALIVE2_ACK, S.OPEN_KEEPALIVE2_ACK)])
def test_partial_control_item_waits_in_its_state(tag: int, state: State) -> None:
    p = _open()
    item = bytes([tag]) + bytes(8)
    p.server.receive_data(item[:1], p.now)
    assert p.server.state is state
    p.server.receive_data(item[1:5], p.now)
    assert p.server.state is state
    p.server.receive_data(item[5:], p.now)
    assert p.server.state is S.OPEN


def test_control_items_and_a_message_in_one_read_are_all_handled() -> None:
    """ACK, KEEPALIVE2 and KEEPALIVE2_ACK followed by a message, in one chunk:
    each is read in turn (a control tag first with a whole header's worth of bytes
    behind it, too)."""
    p = _open()
    p.server.send_message(MPing(priority=127), p.now)
    sent = out_bytes(p.server, p.now)
    assert sent[:1] == bytes([V1Tag.MSG])
    assert [m.seq for m in p.server.session.sent] == [1]
    chunk = (bytes([V1Tag.ACK]) + encode_seq(1)
             + bytes([V1Tag.KEEPALIVE2]) + _stamp(UTime(1_700_000_001, 123_456_789))
             + bytes([V1Tag.KEEPALIVE2_ACK]) + _stamp(UTime(1_700_000_002, 987_654_321))
             + _sent(p, raw(b"after")))
    p.server.receive_data(chunk, p.now)
    evs = p.server.events_received()
    acked = [e for e in evs if isinstance(e, ev.MessagesAcked)]
    assert [m.seq for e in acked for m in e.messages] == [1]
    assert p.server.keepalive_acks == [UTime(1_700_000_001, 123_456_789)]
    assert [e.timestamp for e in evs if isinstance(e, ev.KeepaliveAck)] == [
        UTime(1_700_000_002, 987_654_321)]
    assert p.server.last_keepalive_ack == UTime(1_700_000_002, 987_654_321)
    assert [bytes(m.front) for m in messages(evs)] == [b"after"]
    assert p.server.state is S.OPEN


def test_keepalive2_stamp_is_echoed_to_the_nanosecond() -> None:
    p = _open()
    stamp = UTime(1_700_000_003, 5)
    p.server.receive_data(bytes([V1Tag.KEEPALIVE2]) + _stamp(stamp), p.now)
    assert out_bytes(p.server, p.now) == bytes([V1Tag.KEEPALIVE2_ACK]) + _stamp(stamp)


def test_old_keepalive_notes_the_wall_clock() -> None:
    p = _open()
    p.wall = 1_700_000_321.25
    p.server.receive_data(bytes([V1Tag.KEEPALIVE]), p.now)
    assert p.server.last_keepalive == UTime.from_float(1_700_000_321.25)
    assert p.server.state is S.OPEN
    assert out_bytes(p.server, p.now) == b""  # no answer to the old keepalive


def test_close_tag_stops_with_its_reason_and_reads_nothing_after_it() -> None:
    """Ceph's handle_tag: CLOSE -> stop(). Here the user is also told (ResetSession)."""
    p = _open()
    p.server.receive_data(bytes([V1Tag.CLOSE]) + _sent(p, raw(b"late")), p.now)
    evs = p.server.events_received()
    assert p.server.state is S.CLOSED
    assert closes(evs) == ["peer sent CLOSE"]
    assert [type(e) for e in evs if isinstance(e, ev.ResetSession | ev.Stopped)] == [
        ev.ResetSession, ev.Stopped]
    assert messages(evs) == []


@pytest.mark.parametrize(("tag", "name"), [(99, "UNKNOWN_99"), (V1Tag.READY, "READY")])
def test_unexpected_tag_names_itself_and_the_state(tag: int, name: str) -> None:
    p = _open()
    p.server.receive_data(bytes([tag]), p.now)
    assert closes(p.server.events_received()) == [
        f"UnknownTag: unexpected msgr v1 tag {tag} ({name}) in state OPEN"]


# -- the part being read, at each exact boundary -------------------------------------------


@pytest.mark.parametrize(("cut", "state"), [
    (HEAD + 12, S.READ_MIDDLE),  # the front complete, no middle byte yet
    (HEAD + 12 + 10 + 30, S.READ_FOOTER_AND_DISPATCH),  # every part, no footer
    (HEAD + 12 + 10 + 29, S.READ_DATA)])
@pytest.mark.parametrize("big", [False, True])
def test_state_names_the_part_at_exact_boundaries(cut: int, state: State, big: bool) -> None:
    p = _open(options=ProtocolOptions(large_segment_threshold=64 if big else 65536))
    wire = _sent(p, raw(b"F" * 12, b"M" * 10, b"D" * 30))
    p.server.receive_data(wire[:cut], p.now)
    assert p.server.state is state
    p.server.receive_data(wire[cut:], p.now)
    assert len(messages(p.server.events_received())) == 1


@pytest.mark.parametrize(("extra", "own_buffer"), [(0, False), (1, True)])
def test_bodies_above_the_threshold_get_their_own_buffer(extra: int, own_buffer: bool) -> None:
    """``large_segment_threshold``: a body (parts and footer) larger than it is
    received into its own buffer and the message's parts are views of it; one of
    exactly the threshold goes through the reused buffer and is copied out."""
    threshold = 1000
    p = _open(options=ProtocolOptions(large_segment_threshold=threshold))
    data = b"d" * (threshold + extra - 100 - MSG_FOOTER_LEN)
    p.server.receive_data(_sent(p, raw(b"f" * 100, data=data)), p.now)
    [m] = messages(p.server.events_received())
    assert bytes(m.data) == data
    assert isinstance(m.data, memoryview) is own_buffer
    assert isinstance(m.front, memoryview) is own_buffer


# -- ms_crc_* off --------------------------------------------------------------------------


def test_receiver_without_header_crcs_ignores_them() -> None:
    """ms_crc_header off at the receiver: header, front and middle crcs are not
    checked (the data crc still is)."""
    p = _open(server_options=ProtocolOptions(crc_header=False))
    wire = bytearray(_sent(p, raw(b"front", b"middle", b"data")))
    end = len(wire) - MSG_FOOTER_LEN
    fc, mc, dc, sig, flags = FOOTER.unpack_from(wire, end)
    wire[HEAD - 4:HEAD] = bytes(4)  # header crc 0
    FOOTER.pack_into(wire, end, fc ^ 1, mc ^ 1, dc, sig, flags)
    p.server.receive_data(bytes(wire), p.now)
    [m] = messages(p.server.events_received())
    assert bytes(m.front) == b"front"
    assert bytes(m.middle) == b"middle"


def test_receiver_without_data_crcs_takes_the_data_as_is() -> None:
    """ms_crc_data off at the receiver: the data crc is not checked even when the
    sender computed one (Ceph's decode_message checks it only with MSG_CRC_DATA)."""
    p = _open(server_options=ProtocolOptions(crc_data=False))
    wire = bytearray(_sent(p, raw(b"f", data=b"data")))
    end = len(wire) - MSG_FOOTER_LEN
    assert not FOOTER.unpack_from(wire, end)[4] & FooterFlags.NOCRC
    wire[end - 1] ^= 0x20  # the data's last byte
    p.server.receive_data(bytes(wire), p.now)
    [m] = messages(p.server.events_received())
    assert bytes(m.data) == b"datA"


def test_footer_without_complete_is_an_aborted_message() -> None:
    """Ceph's handle_message_footer: a footer without CEPH_MSG_FOOTER_COMPLETE is a
    message the sender aborted: fault, deliver nothing."""
    p = _open()
    wire = bytearray(_sent(p, raw(b"f", data=b"d")))
    end = len(wire) - MSG_FOOTER_LEN
    fields = list(FOOTER.unpack_from(wire, end))
    fields[4] &= ~FooterFlags.COMPLETE
    FOOTER.pack_into(wire, end, *fields)
    p.server.receive_data(bytes(wire), p.now)
    evs = p.server.events_received()
    assert messages(evs) == []
    assert closes(evs) == ["MessageAborted: message seq 1 aborted by its sender "
                           "(footer without COMPLETE)"]


# -- pre-auth bytes announced by a v1 item -------------------------------------------------


def _state(p: ProtocolPair) -> State:
    """The server's state (a call: mypy keeps an attribute narrowed across calls)."""
    return p.server.state


def _accepting() -> ProtocolPair:
    p = v1_pair()
    p.server.start_accept(p.now, CLIENT_SOCKET_ADDR)
    out_bytes(p.server, p.now)
    return p


def test_pre_auth_bytes_announce_the_rest_of_the_banner_and_address() -> None:
    p = _accepting()
    rx = p.server._rx
    p.server.receive_data(BANNER[:5], p.now)
    assert p.server.state is S.ACCEPTING_WAIT_BANNER_ADDR
    assert p.server.pre_auth_bytes == rx.held + ACCEPT_HELLO_LEN - 5


def test_pre_auth_bytes_announce_the_rest_of_the_authorizer_only() -> None:
    p = _accepting()
    rx = p.server._rx
    prefix = v1_connect_prefix(authorizer_len=4000)
    hello_and_connect = len(prefix) - 3999  # the prefix lacks the last byte
    p.server.receive_data(prefix[:hello_and_connect - 3], p.now)
    assert p.server.state is S.ACCEPTING_WAIT_CONNECT_MSG
    assert p.server.pre_auth_bytes == rx.held  # a fixed-size item announces nothing
    p.server.receive_data(prefix[hello_and_connect - 3:hello_and_connect + 10], p.now)
    assert _state(p) is S.ACCEPTING_WAIT_CONNECT_MSG_AUTH
    assert p.server.pre_auth_bytes == rx.held + 4000 - 10


def test_server_paused_before_its_banner_holds_nothing_and_has_no_key() -> None:
    """Accepted, held by the interceptor before the banner: an unauthenticated
    peer whose machine announces no item and has no signing key yet."""
    t = TestInterceptor()
    t.breakpoint(Step.START_SERVER_BANNER_EXCHANGE)
    p = v1_pair()
    p.server.interceptor = t
    assert p.server.sign_key == b""  # type: ignore[attr-defined]
    p.server.start_accept(p.now, CLIENT_SOCKET_ADDR)
    assert p.server.held_step is Step.START_SERVER_BANNER_EXCHANGE
    assert p.server.state is S.START_ACCEPT
    assert p.server.pre_auth_bytes == p.server._rx.held
    t.remove_bp(Step.START_SERVER_BANNER_EXCHANGE)
    p.server.release(p.now)
    assert _state(p) is S.ACCEPTING_WAIT_BANNER_ADDR
    assert p.server.pre_auth_bytes == p.server._rx.held + ACCEPT_HELLO_LEN


def test_server_paused_after_the_authorizer_announces_nothing_more() -> None:
    """Held before SEND_SERVER_IDENTITY (READY), the authorizer has been read:
    only what the machine holds counts, not the authorizer again."""
    t = TestInterceptor()
    t.breakpoint(Step.SEND_SERVER_IDENTITY)
    p = v1_pair()
    p.server.interceptor = t
    p.connect()
    p.transfer()
    assert p.server.held_step is Step.SEND_SERVER_IDENTITY
    assert p.server.state is S.ACCEPTING_WAIT_CONNECT_MSG_AUTH
    assert p.server.hs.connect.authorizer_len > 0  # type: ignore[attr-defined]
    assert p.server.pre_auth_bytes == p.server._rx.held
    t.remove_bp(Step.SEND_SERVER_IDENTITY)
    p.server.release(p.now)
    p.transfer()
    assert _state(p) is S.OPEN
