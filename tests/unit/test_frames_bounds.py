"""msgr2 frame bounds and edges the mutation campaign found unguarded: which cap
each segment gets (the kernel's decode_preamble in net/ceph/messenger_v2.c),
FrameLimits.pre_auth on every segment, a MESSAGE preamble's payload length (what
Ceph's ProtocolV2::get_current_msg_size throttles: segments 1.., not the header),
the whole Preamble a disassembly returns in each mode, the 4 KiB boundary below
which crc-mode seg0 is coalesced with the preamble, and the exact error texts."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import pytest

from asyncmsgr.crypto.onwire import GCM_TAG_LEN, GcmRx, GcmTx
from asyncmsgr.errors import (
    BadFrameStructure,
    BadPreambleCrc,
    BannerMismatch,
    DecodeError,
    EncodeError,
    FrameTooLarge,
    UnknownTag,
)
from asyncmsgr.frames.assembler import (
    EPILOGUE_CRC_REV0_LEN,
    EPILOGUE_CRC_REV1_LEN,
    EPILOGUE_SECURE_LEN,
    INLINE_LEN,
    FrameAssembler,
    FrameLimits,
    FrameReader,
    Preamble,
)
from asyncmsgr.frames.v2 import (
    MESSAGE_ALIGNMENTS,
    AckFrame,
    MessageFrame,
    Tag,
    decode_banner_prefix,
    decode_frame,
)
from asyncmsgr.message import MsgHeader2
from asyncmsgr.wire.crc32c import SEGMENT_SEED, ceph_crc32c

KiB = 1024
KEY = bytes(range(16))
NONCE = bytes(range(100, 112))
HEADER2 = MsgHeader2(seq=1, type=2).encode()


def _preamble(tag: int, lens: Sequence[int], *, nseg: int | None = None,
              aligns: Sequence[int] = (8, 8, 8, 8)) -> bytes:
    """A crc-mode preamble built by hand with a valid crc."""
    body = bytes([tag, len(lens) if nseg is None else nseg])
    for i in range(4):
        body += struct.pack("<IH", lens[i] if i < len(lens) else 0,
                            aligns[i] if i < len(lens) else 0)
    body += b"\x00\x00"
    return body + struct.pack("<I", ceph_crc32c(0, body))


def _wire(chunks: Sequence[object]) -> bytes:
    return b"".join(bytes(c) for c in chunks)  # type: ignore[call-overload]


class _Huge:
    """A buffer whose length does not fit a preamble's u32 (never read)."""

    def __len__(self) -> int:
        return 1 << 32


# -- caps ------------------------------------------------------------------------------


@pytest.mark.parametrize("cap", [64 * KiB, 100])
def test_pre_auth_limits_cap_every_segment(cap: int) -> None:
    limits = FrameLimits.pre_auth() if cap == 64 * KiB else FrameLimits.pre_auth(cap)
    assert (limits.control, limits.front, limits.middle, limits.data) == (cap,) * 4
    asm = FrameAssembler(limits=limits)
    for i in range(1, 4):
        lens = [41, 0, 0, 0][: i + 1]
        lens[i] = cap
        assert asm.disassemble_preamble(_preamble(Tag.MESSAGE, lens)).lengths == tuple(lens)
        lens[i] = cap + 1
        with pytest.raises(FrameTooLarge, match=rf"^MESSAGE segment {i} of {cap + 1} bytes "
                                                rf"exceeds cap {cap}$"):
            asm.disassemble_preamble(_preamble(Tag.MESSAGE, lens))


def test_each_segment_gets_its_own_cap() -> None:
    asm = FrameAssembler(limits=FrameLimits(control=50, front=60, middle=70, data=80))
    for i, cap in enumerate((50, 60, 70, 80)):
        lens = [1, 1, 1, 1]
        lens[i] = cap
        asm.disassemble_preamble(_preamble(Tag.MESSAGE, lens))
        lens[i] = cap + 1
        with pytest.raises(FrameTooLarge, match=rf"^MESSAGE segment {i} of {cap + 1} "):
            asm.disassemble_preamble(_preamble(Tag.MESSAGE, lens))
    # a control frame's single segment gets the control cap, not a MESSAGE one
    assert asm.disassemble_preamble(_preamble(Tag.ACK, [50])).lengths == (50,)
    with pytest.raises(FrameTooLarge, match=r"^ACK segment 0 of 51 bytes exceeds cap 50$"):
        asm.disassemble_preamble(_preamble(Tag.ACK, [51]))


# -- the Preamble returned -------------------------------------------------------------


@pytest.mark.parametrize(("lens", "payload"), [
    ([41], 0), ([41, 5], 5), ([41, 5, 7], 12), ([41, 5, 7, 11], 23), ([41, 0, 0, 11], 11),
    ([41, 0, 7], 7),
])
def test_message_payload_len_is_segments_after_the_header(lens: list[int],
                                                          payload: int) -> None:
    pre = FrameAssembler().disassemble_preamble(_preamble(Tag.MESSAGE, lens))
    assert pre.payload_len == payload == sum(lens) - 41
    epilogue = EPILOGUE_CRC_REV1_LEN if len(lens) > 1 else 0
    assert pre.body_len == sum(lens) + 4 + epilogue


@pytest.mark.parametrize("rev1", [True, False])
def test_crc_preamble_in_full(rev1: bool) -> None:
    lens = (41, 5, 0, 4096)
    pre = FrameAssembler(rev1=rev1).disassemble_preamble(
        _preamble(Tag.MESSAGE, lens, aligns=MESSAGE_ALIGNMENTS))
    body = 41 + 4 + 5 + 4096 + EPILOGUE_CRC_REV1_LEN if rev1 else \
        41 + 5 + 4096 + EPILOGUE_CRC_REV0_LEN
    assert pre == Preamble(Tag.MESSAGE, lens, MESSAGE_ALIGNMENTS, 0, b"", body, 4101)
    assert type(pre.flags) is int
    assert type(pre.inline) is bytes


@pytest.mark.parametrize("rev1", [True, False])
def test_secure_preamble_in_full(rev1: bool) -> None:
    tx = FrameAssembler(rev1=rev1, tx=GcmTx(KEY, NONCE, rev1=rev1))
    rx = FrameAssembler(rev1=rev1, rx=GcmRx(KEY, NONCE, rev1=rev1))
    seg0 = bytes(range(20))
    wire = _wire(tx.assemble(Tag.AUTH_SIGNATURE, (seg0,)))
    head = wire[: rx.preamble_onwire_len]
    pre = rx.disassemble_preamble(head)
    if rev1:
        # seg0 travels inline with the preamble, zero-padded to 48 bytes
        assert pre == Preamble(Tag.AUTH_SIGNATURE, (20,), (8,), 0,
                               seg0 + bytes(INLINE_LEN - 20), 0, 0)
    else:
        assert pre == Preamble(Tag.AUTH_SIGNATURE, (20,), (8,), 0, b"",
                               32 + EPILOGUE_SECURE_LEN + GCM_TAG_LEN, 0)
    segs = rx.disassemble_segments(pre, wire[len(head):])
    assert segs is not None
    assert bytes(segs[0]) == seg0


# -- error texts -----------------------------------------------------------------------


def test_preamble_crc_error_names_both_crcs() -> None:
    good = _preamble(Tag.ACK, [8])
    bad = bytes([good[0], good[1], good[2] ^ 1]) + good[3:]
    calc = ceph_crc32c(0, bad[:28])
    expected = struct.unpack_from("<I", bad, 28)[0]
    with pytest.raises(BadPreambleCrc, match=rf"^bad preamble crc calculated={calc:#010x} "
                                             rf"expected={expected:#010x}$"):
        FrameAssembler().disassemble_preamble(bad)


def test_preamble_structure_errors() -> None:
    asm = FrameAssembler()
    with pytest.raises(BadFrameStructure, match=r"^last segment empty$"):
        asm.disassemble_preamble(_preamble(Tag.MESSAGE, [41, 5, 0]))
    with pytest.raises(UnknownTag, match=r"^unknown msgr2 frame tag 23$"):
        asm.disassemble_preamble(_preamble(23, [8]))
    with pytest.raises(UnknownTag, match=r"^unknown msgr2 frame tag 0$"):
        asm.disassemble_preamble(_preamble(0, [8]))


@pytest.mark.parametrize(("rev1", "size"), [(True, 96), (False, 32)])
def test_secure_preamble_wrong_size(rev1: bool, size: int) -> None:
    rx = FrameAssembler(rev1=rev1, rx=GcmRx(KEY, NONCE, rev1=rev1))
    with pytest.raises(DecodeError, match=rf"^preamble must be {size} bytes$"):
        rx.disassemble_preamble(bytes(size - 1))


def test_body_length_mismatch_text_and_views() -> None:
    asm = FrameAssembler()
    wire = _wire(asm.assemble(Tag.ACK, (AckFrame(seq=7).encode_payload(),)))
    pre = asm.disassemble_preamble(wire[:32])
    for body in (wire[32:] + b"\x00", wire[32:-1]):
        with pytest.raises(DecodeError,
                           match=r"^frame body length does not match its preamble$"):
            asm.disassemble_segments(pre, body)
    # bytes in, memoryviews out (the documented return type), in both revisions
    segs = asm.disassemble_segments(pre, wire[32:])
    assert segs is not None
    assert type(segs[0]) is memoryview
    rev0 = FrameAssembler(rev1=False)
    wire0 = _wire(rev0.assemble(Tag.ACK, (AckFrame(seq=7).encode_payload(),)))
    segs0 = rev0.disassemble_segments(rev0.disassemble_preamble(wire0[:32]), wire0[32:])
    assert segs0 is not None
    assert type(segs0[0]) is memoryview


def test_out_of_range_fields_are_encode_errors() -> None:
    asm = FrameAssembler()
    with pytest.raises(EncodeError, match=r"^frame field out of range: "):
        asm.assemble(256, (b"x",))
    with pytest.raises(EncodeError, match=r"^frame field out of range: "):
        asm.assemble(Tag.ACK, (_Huge(),))  # type: ignore[arg-type]
    # the MESSAGE fast path refuses the same way as the general one
    with pytest.raises(EncodeError, match=r"^frame field out of range: "):
        asm.assemble_message(HEADER2, _Huge())  # type: ignore[arg-type]
    with pytest.raises(EncodeError, match=r"^frame field out of range: "):
        asm.assemble(Tag.MESSAGE, (HEADER2, _Huge()))  # type: ignore[arg-type]


def test_control_payload_trailing_bytes_named_by_tag() -> None:
    payload = AckFrame(seq=7).encode_payload()
    with pytest.raises(DecodeError, match=r"^ACK: 2 unexpected trailing bytes$"):
        decode_frame(Tag.ACK, (payload + b"\x00\x00",))


def test_auth_list_count_beyond_payload_named() -> None:
    # AUTH_BAD_METHOD: method, result, then allowed_methods claims 3 u32s, has 4 bytes
    payload = struct.pack("<Ii", 2, -13) + struct.pack("<II", 3, 1)
    with pytest.raises(DecodeError, match=r"^allowed_methods: count 3 needs at least 12 "
                                          r"bytes, have 4$"):
        decode_frame(Tag.AUTH_BAD_METHOD, (payload,))


# -- banners and MESSAGE frames --------------------------------------------------------


@pytest.mark.parametrize(("raw", "v1"), [
    (b"ceph v027\n", True), (b"ceph v027\x00", True), (b"ceph v028\n", False),
    (b"ceph v02\n\x10", False), (b"ceph v1\n\x10\x00", False),
])
def test_banner_prefix_tells_msgr_v1(raw: bytes, v1: bool) -> None:
    text = r"^peer speaks msgr v1 \(banner 'ceph v027'\), not msgr2$" if v1 else \
        r"^bad banner b'.*': not a Ceph msgr2 peer$"
    with pytest.raises(BannerMismatch, match=text):
        decode_banner_prefix(raw + bytes(16))


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_decode_message_frame_missing_segments_are_empty(n: int) -> None:
    parts = [HEADER2, b"front", b"middle", b"data"][:n]
    frame = decode_frame(Tag.MESSAGE, parts)
    assert isinstance(frame, MessageFrame)
    got = (bytes(frame.front), bytes(frame.middle), bytes(frame.data))
    assert got == tuple(parts[1:]) + (b"",) * (4 - n)


# -- crc-mode seg0: coalesced up to 4 KiB, passed through beyond -----------------------


@pytest.mark.parametrize(("size", "coalesced"), [(4095, True), (4096, True),
                                                 (4097, False)])
@pytest.mark.parametrize("more", [False, True])
def test_crc_rev1_seg0_coalesced_up_to_4096(size: int, coalesced: bool, more: bool) -> None:
    seg0 = bytes(i & 0xFF for i in range(size))
    segs = (seg0, b"front") if more else (seg0,)
    tag = Tag.MESSAGE if more else Tag.AUTH_REQUEST
    out = FrameAssembler().assemble(tag, segs)
    crc0 = struct.pack("<I", ceph_crc32c(SEGMENT_SEED, seg0))
    if coalesced:
        assert bytes(out[0]) == _wire(out)[: 32 + size + 4]
        assert bytes(out[0]).endswith(seg0 + crc0)
    else:
        assert len(out[0]) == 32
        assert out[1] is seg0  # not copied
        assert bytes(out[2]) == crc0
    assert len(out) == (1 if coalesced else 3) + (2 if more else 0)
    rx = FrameAssembler()
    wire = _wire(out)
    pre = rx.disassemble_preamble(wire[:32])
    got = rx.disassemble_segments(pre, wire[32:])
    assert got is not None
    assert [bytes(s) for s in got] == list(segs)


# -- FrameReader's RawFrame ------------------------------------------------------------


def test_frame_reader_raw_frame_fields() -> None:
    tx = FrameAssembler()
    ack = _wire(tx.assemble(Tag.ACK, (AckFrame(seq=9).encode_payload(),)))
    msg = _wire(tx.assemble(Tag.MESSAGE, (HEADER2, b"front", b"", b"data"), MESSAGE_ALIGNMENTS))
    reader = FrameReader(FrameAssembler())
    reader.feed(ack + msg)
    first = reader.next_frame()
    assert first is not None
    assert first.tag == Tag.ACK
    assert first.raw == ack
    assert first.preamble == Preamble(Tag.ACK, (8,), (8,), 0, b"", 12, 0)
    assert first.segments is not None
    assert [bytes(s) for s in first.segments] == [AckFrame(seq=9).encode_payload()]
    assert first.aborted is False
    second = reader.next_frame()
    assert second is not None
    assert (second.tag, second.raw, second.preamble.lengths) == (Tag.MESSAGE, msg,
                                                                 (41, 5, 0, 4))
    assert second.segments is not None
    assert [bytes(s) for s in second.segments] == [HEADER2, b"front", b"", b"data"]
    assert reader.next_frame() is None
    assert reader.buffered == 0
