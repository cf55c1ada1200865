"""frames/ details the campaign found unguarded: the names in the small-list caps
of AUTH_BAD_METHOD and COMPRESSION_REQUEST, COMPRESSION_DONE's flag, the msgr v1
client's address + connect + authorizer, and MESSAGE frames built from buffers
that are not flat bytes (the fast path must not take them)."""

from __future__ import annotations

import array

import pytest

from asyncmsgr.errors import (
    BadMessageCrc,
    BadPreambleCrc,
    BadSegmentCrc,
    BannerMismatch,
    DecodeError,
    EncodeError,
    FrameTooLarge,
    UnknownTag,
)
from asyncmsgr.features import CEPH_FEATURES_ALL
from asyncmsgr.frames.assembler import PREAMBLE_LEN, FrameAssembler, FrameLimits
from asyncmsgr.frames.v1 import (
    BANNER,
    AckItem,
    CloseItem,
    ConnectMsg,
    ConnectReply,
    Keepalive2AckItem,
    Keepalive2Item,
    KeepaliveItem,
    MsgItem,
    V1ItemReader,
    V1Tag,
    decode_seq,
    decode_server_hello,
    encode_addr_and_connect,
    encode_connect,
    encode_item,
    v1_tag_name,
)
from asyncmsgr.frames.v2 import (
    MAX_AUTH_LIST,
    MESSAGE_ALIGNMENTS,
    AuthSignatureFrame,
    CompressionDoneFrame,
    Tag,
    decode_banner_payload,
    decode_banner_prefix,
    decode_frame,
    encode_banner,
)
from asyncmsgr.message import MsgFooter, MsgHeader, MsgHeader2
from asyncmsgr.types import EntityAddr, EntityType, UTime
from asyncmsgr.wire.buffer import Writer


def _u32_list(n: int) -> bytes:
    w = Writer()
    w.push_u32(n)
    for i in range(n):
        w.push_u32(i)
    return w.getvalue()


def _bad_method(methods: int, modes: int) -> bytes:
    w = Writer()
    w.push_u32(2)
    w.push_s32(-13)
    return w.getvalue() + _u32_list(methods) + _u32_list(modes)


@pytest.mark.parametrize(("payload", "what"), [
    (_bad_method(MAX_AUTH_LIST + 1, 1), "allowed_methods"),
    (_bad_method(1, MAX_AUTH_LIST + 1), "allowed_modes"),
])
def test_auth_bad_method_lists_are_capped_by_name(payload: bytes, what: str) -> None:
    with pytest.raises(DecodeError, match=rf"^{what}: {MAX_AUTH_LIST + 1} entries exceeds "
                                          rf"the limit of {MAX_AUTH_LIST}$"):
        decode_frame(Tag.AUTH_BAD_METHOD, (payload,))


def test_compression_request_list_is_capped_by_name() -> None:
    payload = b"\x01" + _u32_list(MAX_AUTH_LIST + 1)
    with pytest.raises(DecodeError, match=rf"^preferred_methods: {MAX_AUTH_LIST + 1} "
                                          rf"entries exceeds the limit"):
        decode_frame(Tag.COMPRESSION_REQUEST, (payload,))


@pytest.mark.parametrize("on", [True, False])
def test_compression_done_round_trip(on: bool) -> None:
    frame = CompressionDoneFrame(is_compress=on, method=2)
    payload = frame.encode_payload()
    assert payload[0] == int(on)
    back = decode_frame(Tag.COMPRESSION_DONE, (payload,))
    assert isinstance(back, CompressionDoneFrame)
    assert (back.is_compress, back.method) == (on, 2)


def test_v1_address_connect_and_authorizer() -> None:
    connect = ConnectMsg(features=CEPH_FEATURES_ALL, host_type=EntityType.CLIENT, global_seq=1,
                         connect_seq=0, protocol_version=24, authorizer_protocol=2,
                         authorizer_len=3)
    raw = encode_addr_and_connect(EntityAddr.from_host("127.0.0.1", 1), connect, b"xyz")
    assert raw.endswith(connect.encode() + b"xyz")
    assert len(raw) == 136 + len(connect.encode()) + 3


@pytest.mark.parametrize("where", [0, 1, 2])
@pytest.mark.parametrize("odd", ["wide", "bytearray"])
def test_message_from_odd_buffers_matches_bytes(odd: str, where: int) -> None:
    header2 = MsgHeader2(seq=1, tid=2, type=3).encode()
    parts = [b"fronT", b"middle", bytes(range(8))]
    # the same 8 bytes as 4 two-byte items (little-endian), or as a bytearray
    buf: object = memoryview(array.array("H", [0x0100, 0x0302, 0x0504, 0x0706])) \
        if odd == "wide" else bytearray(bytes(range(8)))
    odd_parts: list[object] = list(parts)
    parts[where] = bytes(range(8))
    odd_parts[where] = buf
    want = b"".join(bytes(c) for c in FrameAssembler(rev1=True).assemble_message(
        header2, *parts))
    got = b"".join(bytes(c) for c in FrameAssembler(rev1=True).assemble_message(
        header2, *odd_parts))  # type: ignore[arg-type]
    assert got == want


def test_message_without_payload_is_one_segment() -> None:
    header2 = MsgHeader2(seq=1).encode()
    fast = b"".join(bytes(c) for c in FrameAssembler(rev1=True).assemble_message(header2))
    general = b"".join(bytes(c) for c in FrameAssembler(rev1=True).assemble(
        Tag.MESSAGE, (header2,), MESSAGE_ALIGNMENTS))
    assert fast == general


def _message_wire(front: bytes, middle: bytes, data: bytes) -> bytes:
    tx = FrameAssembler(rev1=True)
    header2 = MsgHeader2(seq=1, type=2).encode()
    return b"".join(bytes(c) for c in tx.assemble_message(header2, front, middle, data))


def test_disassemble_message_errors_say_what_and_where() -> None:
    rx = FrameAssembler(rev1=True)
    wire = _message_wire(b"f", b"mm", b"ddd")
    pre = rx.disassemble_preamble(wire[:PREAMBLE_LEN])
    with pytest.raises(DecodeError, match=r"^frame body length does not match its preamble$"):
        rx.disassemble_message(pre, wire[PREAMBLE_LEN:-1])
    bad = bytearray(wire)
    bad[PREAMBLE_LEN] ^= 1  # header2
    stored = int.from_bytes(wire[PREAMBLE_LEN + 41:PREAMBLE_LEN + 45], "little")
    with pytest.raises(BadSegmentCrc, match=rf"^bad segment 0 crc calculated=0x[0-9a-f]{{8}} "
                                            rf"expected={stored:#010x}$"):
        rx.disassemble_message(pre, bytes(bad[PREAMBLE_LEN:]))
    bad = bytearray(wire)
    bad[PREAMBLE_LEN + 45 + 1] ^= 1  # the middle (front is 1 byte)
    with pytest.raises(BadSegmentCrc, match=r"^bad segment 2 crc "):
        rx.disassemble_message(pre, bytes(bad[PREAMBLE_LEN:]))
    short = b"".join(bytes(c) for c in FrameAssembler(rev1=True).assemble(
        Tag.MESSAGE, (b"x" * 40, b"f"), MESSAGE_ALIGNMENTS))
    pre = rx.disassemble_preamble(short[:PREAMBLE_LEN])
    with pytest.raises(DecodeError, match=r"^ceph_msg_header2 must be 41 bytes, got 40$"):
        rx.disassemble_message(pre, short[PREAMBLE_LEN:])


def test_back_to_crc_mode_reads_preambles_again() -> None:
    asm = FrameAssembler(rev1=True)
    asm.set_rx(None)
    wire = _message_wire(b"f", b"", b"")
    assert asm.disassemble_preamble(wire[:PREAMBLE_LEN]).tag == Tag.MESSAGE


def test_v1_small_codec_errors() -> None:
    with pytest.raises(DecodeError, match=r"^seq exchange needs 8 bytes$"):
        decode_seq(bytes(7))
    with pytest.raises(DecodeError, match=r"^ceph_msg_connect needs 33 bytes$"):
        ConnectMsg.decode(bytes(32))
    with pytest.raises(DecodeError, match=r"^ceph_msg_connect_reply needs 26 bytes$"):
        ConnectReply.decode(bytes(25))
    bad = ConnectMsg(features=-1, host_type=8, global_seq=0, connect_seq=0, protocol_version=0)
    with pytest.raises(EncodeError, match=r"^ceph_msg_connect field out of range: "):
        bad.encode()
    with pytest.raises(EncodeError, match=r"^ceph_msg_connect_reply field out of range: "):
        ConnectReply(tag=1, features=-1, global_seq=0, connect_seq=0,
                     protocol_version=0).encode()
    connect = ConnectMsg(features=1, host_type=8, global_seq=0, connect_seq=0,
                         protocol_version=0)
    assert encode_connect(connect) == connect.encode()
    with pytest.raises(EncodeError, match=r"^authorizer_len does not match the authorizer$"):
        encode_connect(connect, b"x")


# -- msgr v1 items -----------------------------------------------------------------------


def _v1_msg(front: bytes, middle: bytes, data: bytes, *, crc: bool = True) -> bytes:
    header = MsgHeader(seq=1, type=2, front_len=len(front), middle_len=len(middle),
                       data_len=len(data))
    if crc:
        header = header.with_crc()
    footer = MsgFooter(front_crc=1, middle_crc=2, data_crc=3)
    return bytes([V1Tag.MSG]) + header.encode() + front + middle + data + footer.encode()


def test_v1_message_with_all_three_segments() -> None:
    raw = _v1_msg(b"front", b"mid", b"data!") + bytes([V1Tag.KEEPALIVE])
    r = V1ItemReader()
    r.feed(raw)
    item = r.next_item()
    assert isinstance(item, MsgItem)
    assert (bytes(item.front), bytes(item.middle), bytes(item.data)) == \
        (b"front", b"mid", b"data!")
    assert (item.footer.front_crc, item.footer.middle_crc, item.footer.data_crc) == (1, 2, 3)
    assert r.last_raw == raw[:-1]
    assert isinstance(r.next_item(), KeepaliveItem)
    assert r.last_raw == bytes([V1Tag.KEEPALIVE])


def test_v1_header_crc_is_checked_unless_disabled() -> None:
    raw = _v1_msg(b"f", b"", b"", crc=False)
    r = V1ItemReader()
    r.feed(raw)
    with pytest.raises(BadMessageCrc):
        r.next_item()
    lenient = V1ItemReader(check_header_crc=False)  # ms_crc_header = false
    lenient.feed(raw)
    assert isinstance(lenient.next_item(), MsgItem)


@pytest.mark.parametrize("which", ["front", "middle", "data"])
def test_v1_segment_caps_are_exact_and_named(which: str) -> None:
    limits = FrameLimits(front=4, middle=4, data=4)
    at_cap = {"front": b"", "middle": b"", "data": b"", which: b"1234"}
    r = V1ItemReader(limits=limits)
    r.feed(_v1_msg(at_cap["front"], at_cap["middle"], at_cap["data"]))
    assert isinstance(r.next_item(), MsgItem)
    over = {"front": b"", "middle": b"", "data": b"", which: b"12345"}
    r.feed(_v1_msg(over["front"], over["middle"], over["data"]))
    with pytest.raises(FrameTooLarge, match=rf"^msgr v1 {which} of 5 bytes exceeds cap 4$"):
        r.next_item()


@pytest.mark.parametrize("item", [
    KeepaliveItem(), CloseItem(), AckItem(seq=7),
    Keepalive2Item(timestamp=UTime(5, 6)), Keepalive2AckItem(timestamp=UTime(8, 9))])
def test_v1_fixed_items_round_trip(item: object) -> None:
    chunks = encode_item(item)  # type: ignore[arg-type]
    r = V1ItemReader()
    r.feed(b"".join(bytes(c) for c in chunks))
    assert r.next_item() == item
    assert r.buffered == 0


def test_server_hello_needs_its_281_bytes() -> None:
    with pytest.raises(DecodeError, match=r"^msgr v1 server hello needs 281 bytes$"):
        decode_server_hello(BANNER + bytes(100))


def test_v1_banner_from_a_msgr2_peer_says_so() -> None:
    with pytest.raises(BannerMismatch,
                       match=r"^peer speaks msgr2 \(banner 'ceph v2'\), not msgr v1$"):
        decode_server_hello(b"ceph v2\n" + bytes(300))


def test_v1_reader_starts_empty_and_names_unknown_tags() -> None:
    r = V1ItemReader()
    assert r.last_raw == b""
    assert r.next_item() is None
    r.feed(bytes([99]))
    with pytest.raises(UnknownTag, match=r"^unexpected msgr v1 tag 99 \(.*\)$") as e:
        r.next_item()
    assert str(e.value) == f"unexpected msgr v1 tag 99 ({v1_tag_name(99)})"


# -- msgr2 banner, frame and preamble errors, by their texts ------------------------------


@pytest.mark.parametrize(("raw", "error", "text"), [
    (b"ceph v2", DecodeError, r"^banner truncated$"),
    (b"ceph v027\x00", BannerMismatch, r"^peer speaks msgr v1 \(banner 'ceph v027'\), not msgr2$"),
    (b"GET / HTTP", BannerMismatch, r"^bad banner b'GET / HTTP': not a Ceph msgr2 peer$"),
])
def test_banner_prefix_errors(raw: bytes, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        decode_banner_prefix(raw)


def test_banner_payload_and_features_errors() -> None:
    with pytest.raises(DecodeError, match=r"^banner payload truncated$"):
        decode_banner_payload(bytes(15))
    with pytest.raises(EncodeError, match=r"^banner features out of range: "):
        encode_banner(-1, 0)


def test_frame_errors_by_text() -> None:
    with pytest.raises(DecodeError, match=r"^MESSAGE frame without segments$"):
        decode_frame(Tag.MESSAGE, ())
    with pytest.raises(UnknownTag, match=r"^unknown msgr2 frame tag 250$"):
        decode_frame(250, (b"",))
    with pytest.raises(EncodeError, match=r"^AUTH_SIGNATURE must be 32 bytes$"):
        AuthSignatureFrame(signature=b"short").encode_payload()
    with pytest.raises(EncodeError, match=r"^a frame has 1\.\.4 segments, got 5$"):
        FrameAssembler(rev1=True).assemble(Tag.MESSAGE, (b"a",) * 5, (8,) * 5)
    payload = (2).to_bytes(4, "little") + _u32_list(MAX_AUTH_LIST + 1)  # method, modes
    with pytest.raises(DecodeError, match=r"^preferred_modes: 9 entries exceeds"):
        decode_frame(Tag.AUTH_REQUEST, (payload,))


def test_preamble_errors_by_text() -> None:
    rx = FrameAssembler(rev1=True)
    with pytest.raises(DecodeError, match=r"^preamble must be 32 bytes$"):
        rx.disassemble_preamble(bytes(31))
    good = _message_wire(b"f", b"", b"")[:PREAMBLE_LEN]
    bad = bytearray(good)
    bad[1] ^= 1
    stored = int.from_bytes(good[28:32], "little")
    with pytest.raises(BadPreambleCrc, match=rf"^bad preamble crc calculated=0x[0-9a-f]{{8}} "
                                             rf"expected={stored:#010x}$"):
        rx.disassemble_preamble(bytes(bad))
