"""msgr2 banner, control frames, MESSAGE frames and the frame assembler.

Includes a port of Ceph's ``test_frames_v2.cc`` (RoundTripTest.Basic and .Reuse over
32 segment-size instances x rev0/rev1 x crc/secure). The expected on-wire lengths
and byte layouts are computed here, independently of the assembler, from the rules
of wire-protocol.md §5.2 (with a reference decoder that uses AES-GCM directly), and
checked against the published row of ceph-messenger.md §6.3.

Vectors: wire-protocol.md §5.1 (banner), §5.6 (nonces), §5.7 (MESSAGE, KEEPALIVE2),
§5.8 (crc-mode handshake of ``captures/v2-crc-cephx-status.pcap``).
"""

from __future__ import annotations

import array
import itertools
import struct
from collections.abc import Iterator, Sequence

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from asyncmsgr.crypto.onwire import GCM_TAG_LEN, GcmRx, GcmTx, SecureKeys
from asyncmsgr.errors import (
    BadFrameStructure,
    BadPreambleCrc,
    BadSegmentCrc,
    BannerMismatch,
    DecodeError,
    DecryptError,
    EncodeError,
    FrameError,
    FrameTooLarge,
    LocalProtocolError,
    NonceExhausted,
    UnknownTag,
)
from asyncmsgr.frames.assembler import (
    FrameAssembler,
    FrameLimits,
    FrameReader,
    Preamble,
    RawFrame,
)
from asyncmsgr.frames.v2 import (
    BANNER_LEN,
    CONTROL_FRAMES,
    MAX_AUTH_LIST,
    MESSAGE_ALIGNMENTS,
    AckFrame,
    AuthBadMethodFrame,
    AuthDoneFrame,
    AuthReplyMoreFrame,
    AuthRequestFrame,
    AuthRequestMoreFrame,
    AuthSignatureFrame,
    ClientIdentFrame,
    CompressionDoneFrame,
    CompressionRequestFrame,
    ControlFrame,
    Frame,
    HelloFrame,
    IdentMissingFeaturesFrame,
    Keepalive2AckFrame,
    Keepalive2Frame,
    MessageFrame,
    ServerIdentFrame,
    SessionReconnectFrame,
    SessionReconnectOkFrame,
    SessionResetFrame,
    SessionRetryFrame,
    SessionRetryGlobalFrame,
    Tag,
    WaitFrame,
    decode_banner_payload,
    decode_banner_prefix,
    decode_frame,
    encode_banner,
    frame_spec,
    tag_name,
)
from asyncmsgr.message import MsgHeader2
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec, EntityType, UTime
from asyncmsgr.wire.crc32c import ceph_crc32c

H = bytes.fromhex
MODES = ("rev0-crc", "rev0-secure", "rev1-crc", "rev1-secure")
# wire-protocol.md §5.6: the first 40 bytes of the secure capture's connection secret
SECRET = H("16578de10f5d316340256ac303070934" "3ebeb413417a5716d0b07637"
           "efb49f783f01b2f2f803bf35") + bytes(24)
KEY, S2C_NONCE, C2S_NONCE = SECRET[:16], SECRET[16:28], SECRET[28:40]


# -- helpers -------------------------------------------------------------------------


def is_rev1(mode: str) -> bool:
    return mode.startswith("rev1")


def is_secure(mode: str) -> bool:
    return mode.endswith("secure")


def make_peers(mode: str, *, nonce_limit: int | None = None,
               limits: FrameLimits | None = None) -> tuple[FrameAssembler, FrameAssembler]:
    """(client, server) assemblers; secure handlers derived from SECRET, crossed correctly."""
    rev1 = is_rev1(mode)
    client = FrameAssembler(rev1=rev1, limits=limits)
    server = FrameAssembler(rev1=rev1, limits=limits)
    if is_secure(mode):
        ctx, crx = SecureKeys.from_connection_secret(SECRET, crossed=False).handlers(
            rev1=rev1, nonce_limit=nonce_limit)
        stx, srx = SecureKeys.from_connection_secret(SECRET, crossed=True).handlers(
            rev1=rev1, nonce_limit=nonce_limit)
        client.set_tx(ctx)
        client.set_rx(crx)
        server.set_tx(stx)
        server.set_rx(srx)
    return client, server


def assemble_bytes(asm: FrameAssembler, tag: int, segments: Sequence[bytes],
                   alignments: Sequence[int] = (8,)) -> bytes:
    return b"".join(bytes(c) for c in asm.assemble(tag, segments, alignments))


def frame_bytes(asm: FrameAssembler, frame: Frame) -> bytes:
    spec = frame_spec(frame)
    return b"".join(bytes(c) for c in asm.assemble(spec.tag, spec.segments, spec.alignments))


def receive(asm: FrameAssembler, wire: bytes) -> tuple[Preamble, tuple[memoryview, ...] | None]:
    """Disassemble exactly one frame, checking that it uses all of ``wire``."""
    n = asm.preamble_onwire_len
    pre = asm.disassemble_preamble(wire[:n])
    assert n + asm.body_onwire_len(pre) == len(wire)
    return pre, asm.disassemble_segments(pre, wire[n:])


def decode_one(asm: FrameAssembler, wire: bytes) -> Frame:
    pre, segs = receive(asm, wire)
    assert segs is not None
    return decode_frame(pre.tag, segs)


def pad16(n: int) -> int:
    return -(-n // 16) * 16


def le32(b: bytes) -> int:
    return int.from_bytes(b, "little")


def make_preamble(tag: int, lens: Sequence[int], aligns: Sequence[int] | None = None, *,
                  nseg: int | None = None, flags: int = 0, crc: int | None = None) -> bytes:
    """A preamble built by hand (valid crc unless ``crc`` is given)."""
    lens4 = list(lens) + [0] * (4 - len(lens))
    al = list(aligns) if aligns is not None else [8] * len(lens)
    al4 = al + [0] * (4 - len(al))
    body = bytes([tag, len(lens) if nseg is None else nseg])
    for length, align in zip(lens4, al4, strict=True):
        body += struct.pack("<IH", length, align)
    body += bytes([flags, 0])
    return body + struct.pack("<I", ceph_crc32c(0, body) if crc is None else crc)


def ref_nonces(start: bytes, rev1: bool) -> Iterator[bytes]:
    """wire-protocol.md §5.6: rev1 bumps le64 at bytes 4..11, rev0 le32 at bytes 0..3."""
    if rev1:
        fixed, ctr = start[:4], le32(start[4:])
        while True:
            yield fixed + ctr.to_bytes(8, "little")
            ctr = (ctr + 1) % (1 << 64)
    else:
        ctr, rest = le32(start[:4]), start[4:]
        while True:
            yield ctr.to_bytes(4, "little") + rest
            ctr = (ctr + 1) % (1 << 32)


def parse_preamble(pre: bytes) -> tuple[int, int, list[int], list[int]]:
    assert len(pre) == 32
    assert le32(pre[28:]) == ceph_crc32c(0, pre[:28])
    lens = [le32(pre[2 + 6 * i: 6 + 6 * i]) for i in range(4)]
    aligns = [int.from_bytes(pre[6 + 6 * i: 8 + 6 * i], "little") for i in range(4)]
    return pre[0], pre[1], lens, aligns


def reference_decode(mode: str, wire: bytes, nonce: bytes) -> tuple[int, list[bytes], int]:
    """Decode one frame straight from the layout rules; returns (tag, segments, late byte).

    ``nonce`` is the sender's nonce for the frame's first GCM message (secure modes).
    """
    rev1 = is_rev1(mode)
    segs: list[bytes] = []
    if not is_secure(mode):
        tag, n, lens, _ = parse_preamble(wire[:32])
        off = 32
        late = 0x0E
        if rev1:
            segs.append(wire[off: off + lens[0]])
            if lens[0]:
                off += lens[0]
                assert le32(wire[off: off + 4]) == ceph_crc32c(0xFFFFFFFF, segs[0])
                off += 4
            for i in range(1, n):
                segs.append(wire[off: off + lens[i]])
                off += lens[i]
            if n > 1:
                late = wire[off]
                crcs = [le32(wire[off + 1 + 4 * i: off + 5 + 4 * i]) for i in range(3)]
                for i in range(1, 4):
                    want = ceph_crc32c(0xFFFFFFFF, segs[i]) if i < n else 0
                    assert crcs[i - 1] == want
                off += 13
        else:
            for i in range(n):
                segs.append(wire[off: off + lens[i]])
                off += lens[i]
            late = wire[off]
            crcs = [le32(wire[off + 1 + 4 * i: off + 5 + 4 * i]) for i in range(4)]
            for i in range(4):
                assert crcs[i] == (ceph_crc32c(0xFFFFFFFF, segs[i]) if i < n else 0)
            off += 17
        assert off == len(wire)
        return tag, segs, late
    aead = AESGCM(KEY)
    nonces = ref_nonces(nonce, rev1)
    if rev1:
        first = aead.decrypt(next(nonces), wire[:96], None)
        tag, n, lens, _ = parse_preamble(first[:32])
        seg0 = first[32:]
        off = 96
        if pad16(lens[0]) > 48:
            size = pad16(lens[0]) - 48 + 16
            seg0 += aead.decrypt(next(nonces), wire[off: off + size], None)
            off += size
        assert seg0[lens[0]:] == bytes(len(seg0) - lens[0])  # zero padding
        segs.append(seg0[: lens[0]])
        late = 0x0E
        if n > 1:
            rest = aead.decrypt(next(nonces), wire[off:], None)
            off = len(wire)
            pos = 0
            for i in range(1, n):
                segs.append(rest[pos: pos + lens[i]])
                assert rest[pos + lens[i]: pos + pad16(lens[i])] == bytes(
                    pad16(lens[i]) - lens[i])
                pos += pad16(lens[i])
            late = rest[pos]
            assert rest[pos + 1:] == bytes(15)
        assert off == len(wire)
        return tag, segs, late
    plain = aead.decrypt(next(nonces), wire, None)
    tag, n, lens, _ = parse_preamble(plain[:32])
    pos = 32
    for i in range(n):
        segs.append(plain[pos: pos + lens[i]])
        pos += pad16(lens[i])
    late = plain[pos]
    assert plain[pos + 1:] == bytes(15)
    return tag, segs, late


def expected_onwire(mode: str, lens4: Sequence[int]) -> tuple[int, ...]:
    """(preamble, seg0..seg3, epilogue) on-wire sizes from the layout rules."""
    n = max((i + 1 for i, x in enumerate(lens4) if x), default=1)
    used = list(lens4[:n])
    if mode == "rev0-crc":
        pre, segs, epi = 32, used, 17
    elif mode == "rev1-crc":
        pre, segs, epi = 32, [used[0] + 4 if used[0] else 0, *used[1:]], 13 if n > 1 else 0
    elif mode == "rev0-secure":
        pre, segs, epi = 32, [pad16(x) for x in used], 16 + 16
    else:
        p0 = pad16(used[0])
        seg0 = p0 - 48 + 16 if p0 > 48 else 0
        pre, segs, epi = 96, [seg0, *(pad16(x) for x in used[1:])], 32 if n > 1 else 0
    return (pre, *segs, *([0] * (4 - n)), epi)


# -- banner --------------------------------------------------------------------------

PACIFIC_BANNER = H("636570682076320a" "1000" "0100000000000000" "0000000000000000")


def test_banner_encode() -> None:
    assert encode_banner() == PACIFIC_BANNER
    assert len(PACIFIC_BANNER) == BANNER_LEN == 26
    assert encode_banner(3, 1)[10:] == H("0300000000000000" "0100000000000000")
    with pytest.raises(EncodeError):
        encode_banner(1 << 64)


def test_banner_decode() -> None:
    assert decode_banner_prefix(PACIFIC_BANNER) == 16
    assert decode_banner_prefix(memoryview(PACIFIC_BANNER)[:10]) == 16
    assert decode_banner_payload(PACIFIC_BANNER[10:]) == (1, 0)
    # a longer payload is allowed; the extra bytes are ignored
    longer = b"ceph v2\n" + H("1800")
    assert decode_banner_prefix(longer) == 24
    assert decode_banner_payload(H("0300000000000000" "0100000000000000") + b"future..") == (
        3, 1)


def test_v1_banner_is_banner_mismatch_saying_msgr_v1() -> None:
    v1 = b"ceph v027" + bytes(136)
    with pytest.raises(BannerMismatch, match="msgr v1"):
        decode_banner_prefix(v1)


@pytest.mark.parametrize("raw", [b"GET / HTTP/1.1\r\n", b"ceph v3\n\x10\x00", bytes(10),
                                 b"CEPH V2\n\x10\x00"])
def test_other_banners_are_mismatch_not_v1(raw: bytes) -> None:
    with pytest.raises(BannerMismatch) as info:
        decode_banner_prefix(raw)
    assert "msgr v1" not in str(info.value)


def test_banner_short_and_short_payload() -> None:
    with pytest.raises(DecodeError):
        decode_banner_prefix(PACIFIC_BANNER[:9])
    with pytest.raises(DecodeError, match="15"):
        decode_banner_prefix(b"ceph v2\n" + H("0f00"))
    with pytest.raises(DecodeError):
        decode_banner_prefix(b"ceph v2\n" + H("0000"))
    with pytest.raises(DecodeError):
        decode_banner_payload(PACIFIC_BANNER[10:25])


def test_tag_names() -> None:
    assert [int(t) for t in Tag] == list(range(1, 23))
    assert tag_name(17) == "MESSAGE"
    assert tag_name(23) == "UNKNOWN_23"
    assert tag_name(0) == "UNKNOWN_0"


# -- control frames: one sample per tag, with hand-derived payloads (§5.3) -----------

V2_3300 = EntityAddr.parse("v2:127.0.0.1:3300/0")
MON_A = EntityAddrVec.parse("[v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0]")
ADDR_V2_3300 = "0101011c00000002000000000000001000000002000ce47f0000010000000000000000"
ADDRVEC_MON_A = ("0202000000" + ADDR_V2_3300
                 + "0101011c00000001000000000000001000000002001a857f0000010000000000000000")
STAMP = UTime(0x6B062038, 0x2DB09DDF)
CLIENT_ADDR = EntityAddr(type=AddrType.ANY, nonce=0xAEADDA34, family=2,
                         ip=b"\x7f\x00\x00\x01", port=0)

SAMPLES: list[tuple[ControlFrame, str]] = [
    (HelloFrame(entity_type=EntityType.MON,
                peer_addr=EntityAddr.parse("v2:127.0.0.1:52844/0")),
     "01" "0101011c0000000200000000000000100000000200ce6c7f0000010000000000000000"),
    (AuthRequestFrame(method=2, preferred_modes=(1,),
                      auth_payload=H("0a080000000500000061646d696e0000000000000000")),
     "02000000" "0100000001000000" "16000000" "0a080000000500000061646d696e0000000000000000"),
    (AuthBadMethodFrame(method=2, result=-13, allowed_methods=(2, 1), allowed_modes=(2, 1)),
     "02000000" "f3ffffff" "020000000200000001000000" "020000000200000001000000"),
    (AuthReplyMoreFrame(auth_payload=H("019df01e53f0f5267c")), "09000000" "019df01e53f0f5267c"),
    (AuthRequestMoreFrame(auth_payload=b"\x01\x02"), "02000000" "0102"),
    (AuthDoneFrame(global_id=4111, con_mode=1, auth_payload=b""),
     "0f10000000000000" "01000000" "00000000"),
    (AuthSignatureFrame(signature=bytes(range(32))), bytes(range(32)).hex()),
    (ClientIdentFrame(addrs=EntityAddrVec((CLIENT_ADDR,)), target_addr=V2_3300, gid=-1,
                      global_seq=1, supported_features=0x3F01CFBDFFFDFFFF,
                      required_features=0x0800000000000000, flags=0,
                      cookie=0x6B115E12562A5EEB),
     "0201000000" "0101011c0000000300000034daadae10000000020000007f0000010000000000000000"
     + ADDR_V2_3300 + "ffffffffffffffff" "0100000000000000" "fffffdffbdcf013f"
     "0000000000000008" "0000000000000000" "eb5e2a56125e116b"),
    (ServerIdentFrame(addrs=MON_A, gid=0, global_seq=12, supported_features=0x3F01CFBDFFFDFFFF,
                      required_features=0x0C01020002040000, flags=1, cookie=0),
     ADDRVEC_MON_A + "0000000000000000" "0c00000000000000" "fffffdffbdcf013f"
     "000004020002010c" "0100000000000000" "0000000000000000"),
    (IdentMissingFeaturesFrame(features=0x0800000000200000), "0000200000000008"),
    (SessionReconnectFrame(addrs=MON_A, client_cookie=0x0102030405060708,
                           server_cookie=0x1112131415161718, global_seq=3, connect_seq=4,
                           msg_seq=5),
     ADDRVEC_MON_A + "0807060504030201" "1817161514131211" "0300000000000000"
     "0400000000000000" "0500000000000000"),
    (SessionResetFrame(full=True), "01"),
    (SessionRetryFrame(connect_seq=7), "0700000000000000"),
    (SessionRetryGlobalFrame(global_seq=0x1234), "3412000000000000"),
    (SessionReconnectOkFrame(msg_seq=9), "0900000000000000"),
    (WaitFrame(), ""),
    (Keepalive2Frame(timestamp=STAMP), "3820066b" "df9db02d"),
    (Keepalive2AckFrame(timestamp=STAMP), "3820066b" "df9db02d"),
    (AckFrame(seq=2), "0200000000000000"),
    (CompressionRequestFrame(is_compress=True, preferred_methods=(1, 2)),
     "01" "02000000" "01000000" "02000000"),
    (CompressionDoneFrame(is_compress=False, method=3), "00" "03000000"),
]
SAMPLE_IDS = [f.TAG.name for f, _ in SAMPLES]

GETMAP_HEADER = MsgHeader2(seq=1, tid=0, type=5, priority=127, version=1, flags=3,
                           compat_version=1)
SUB_FRONT = H("0200000006000000636f6e666967000000000000000000060000006d6f6e6d61700000000000"
              "0000000002000000766d")
SUB_HEADER = MsgHeader2(seq=2, tid=0, type=15, priority=127, version=3, flags=3,
                        compat_version=1)


def test_samples_cover_every_control_tag() -> None:
    tags = sorted(f.TAG for f, _ in SAMPLES)
    assert tags == [t for t in Tag if t != Tag.MESSAGE]
    assert set(CONTROL_FRAMES) == set(tags)
    for frame, _ in SAMPLES:
        assert CONTROL_FRAMES[frame.TAG] is type(frame)


@pytest.mark.parametrize(("frame", "payload"), SAMPLES, ids=SAMPLE_IDS)
def test_control_payload_exact_bytes(frame: ControlFrame, payload: str) -> None:
    raw = frame.encode_payload()
    assert raw.hex() == payload
    assert type(frame).decode_payload(raw) == frame
    assert type(frame).decode_payload(memoryview(bytearray(raw))) == frame
    spec = frame_spec(frame)
    assert spec.tag == frame.TAG
    assert spec.alignments == (8,)
    assert [bytes(s) for s in spec.segments] == [raw]


@pytest.mark.parametrize(("frame", "payload"), SAMPLES, ids=SAMPLE_IDS)
def test_control_payload_trailing_and_short(frame: ControlFrame, payload: str) -> None:
    raw = H(payload)
    with pytest.raises(DecodeError, match="trailing"):
        type(frame).decode_payload(raw + b"\x00")
    if raw:
        with pytest.raises(DecodeError):
            type(frame).decode_payload(raw[:-1])
        with pytest.raises(DecodeError):
            decode_frame(frame.TAG, [raw[: len(raw) // 2]])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("frame", "payload"), SAMPLES, ids=SAMPLE_IDS)
def test_control_frame_round_trip_every_mode(frame: ControlFrame, payload: str,
                                             mode: str) -> None:
    client, server = make_peers(mode)
    nonce = client.tx.next_nonce() if client.tx is not None else b""
    wire = frame_bytes(client, frame)
    assert decode_one(server, wire) == frame
    tag, segs, late = reference_decode(mode, wire, nonce)
    assert (tag, late) == (frame.TAG, 0x0E if is_rev1(mode) else 0)
    assert segs == [H(payload)]


def test_auth_lists_are_capped() -> None:
    nine = tuple(range(MAX_AUTH_LIST + 1))
    too_many: list[ControlFrame] = [
        AuthRequestFrame(method=2, preferred_modes=nine, auth_payload=b""),
        AuthBadMethodFrame(method=2, result=-1, allowed_methods=nine, allowed_modes=()),
        AuthBadMethodFrame(method=2, result=-1, allowed_methods=(), allowed_modes=nine),
        CompressionRequestFrame(is_compress=True, preferred_methods=nine),
    ]
    for frame in too_many:
        with pytest.raises(DecodeError, match="limit"):
            type(frame).decode_payload(frame.encode_payload())
        with pytest.raises(DecodeError, match="limit"):
            decode_frame(frame.TAG, [frame.encode_payload()])
    ok = AuthRequestFrame(method=2, preferred_modes=nine[:-1], auth_payload=b"")
    assert AuthRequestFrame.decode_payload(ok.encode_payload()) == ok


def test_list_count_larger_than_payload() -> None:
    raw = H("02000000" "ffffff7f" "00000000")
    with pytest.raises(DecodeError):
        AuthRequestFrame.decode_payload(raw)


def test_auth_signature_must_be_32_bytes() -> None:
    with pytest.raises(EncodeError):
        AuthSignatureFrame(signature=bytes(31)).encode_payload()
    with pytest.raises(DecodeError):
        AuthSignatureFrame.decode_payload(bytes(31))


def test_hello_with_bad_address_marker() -> None:
    with pytest.raises(DecodeError, match="marker"):
        HelloFrame.decode_payload(H("01" "05") + H(ADDR_V2_3300))


def test_decode_frame_errors() -> None:
    for tag in (0, 23, 255):
        with pytest.raises(UnknownTag):
            decode_frame(tag, [b""])
    with pytest.raises(DecodeError, match="1 segment"):
        decode_frame(Tag.ACK, [bytes(8), b"\x01"])
    with pytest.raises(DecodeError):
        decode_frame(Tag.MESSAGE, [])
    with pytest.raises(DecodeError, match="41"):
        decode_frame(Tag.MESSAGE, [bytes(40)])
    with pytest.raises(DecodeError, match="41"):
        decode_frame(Tag.MESSAGE, [bytes(42), b"front"])


def test_decode_message_frame_segments() -> None:
    hdr = GETMAP_HEADER.encode()
    one = decode_frame(Tag.MESSAGE, [hdr])
    assert isinstance(one, MessageFrame)
    assert one.header == GETMAP_HEADER
    assert (bytes(one.front), bytes(one.middle), bytes(one.data)) == (b"", b"", b"")
    four = decode_frame(Tag.MESSAGE, [hdr, b"f", b"", b"dd"])
    assert isinstance(four, MessageFrame)
    assert (bytes(four.front), bytes(four.middle), bytes(four.data)) == (b"f", b"", b"dd")


# -- captured frames (wire-protocol.md §5.7, §5.8), rev1 crc --------------------------

CAPTURED: list[tuple[str, Frame, str]] = [
    ("S_HELLO", SAMPLES[0][0],
     "010124000000080000000000000000000000000000000000000000003fbd6b06"
     "010101011c0000000200000000000000100000000200ce6c7f0000010000000000000000" "72d9604b"),
    ("C_HELLO", HelloFrame(entity_type=EntityType.CLIENT, peer_addr=V2_3300),
     "010124000000080000000000000000000000000000000000000000003fbd6b06"
     "08" + ADDR_V2_3300 + "7d883e07"),
    ("AUTH_REQUEST", SAMPLES[1][0],
     "020126000000080000000000000000000000000000000000000000008c5ee4be"
     "020000000100000001000000160000000a080000000500000061646d696e0000000000000000"
     "b80d75c8"),
    ("AUTH_REPLY_MORE", SAMPLES[3][0],
     "04010d000000080000000000000000000000000000000000000000006a094bc5"
     "09000000019df01e53f0f5267c" "c54c5182"),
    ("AUTH_REQUEST_MORE",
     AuthRequestMoreFrame(auth_payload=H("000103d7ee1a2c62f82c36bd8a6029a251ca4101000000000000"
                                         "00000000000020000000")),
     "05012800000008000000000000000000000000000000000000000000b83ac75b"
     "24000000000103d7ee1a2c62f82c36bd8a6029a251ca410100000000000000000000000020000000"
     "b619ee3a"),
    ("S_AUTH_SIGNATURE",
     AuthSignatureFrame(signature=H("ed9bfdbdd7a87f9b8dee7d6c9d6f4a40"
                                    "2192b93b36f146d6151e10f3955c5d6c")),
     "07012000000008000000000000000000000000000000000000000000a80c9872"
     "ed9bfdbdd7a87f9b8dee7d6c9d6f4a402192b93b36f146d6151e10f3955c5d6c" "2cc3f5be"),
    ("C_AUTH_SIGNATURE",
     AuthSignatureFrame(signature=H("127767d4a33271f32a4328b40623959e"
                                    "e1e7a5476066b857a550bbf5f2498fcf")),
     "07012000000008000000000000000000000000000000000000000000a80c9872"
     "127767d4a33271f32a4328b40623959ee1e7a5476066b857a550bbf5f2498fcf" "42e5e94d"),
    ("CLIENT_IDENT", SAMPLES[7][0],
     "08017b00000008000000000000000000000000000000000000000000738a9895"
     + SAMPLES[7][1] + "a3daec86"),
    ("SERVER_IDENT", SAMPLES[8][0],
     "09017b0000000800000000000000000000000000000000000000000047018d37"
     + SAMPLES[8][1] + "60f4a826"),
    ("KEEPALIVE2", Keepalive2Frame(timestamp=STAMP),
     "12010800000008000000000000000000000000000000000000000000d8d5f599"
     "3820066bdf9db02d" "c181606e"),
    ("KEEPALIVE2_ACK", Keepalive2AckFrame(timestamp=STAMP),
     "13010800000008000000000000000000000000000000000000000000ec5ee03b"
     "3820066bdf9db02d" "c181606e"),
    ("MMonGetMap", MessageFrame(header=GETMAP_HEADER),
     "11012900000008000000000000000000000000000000000000000000af9604f0"
     "0100000000000000" "0000000000000000" "0500" "7f00" "0100" "00000000" "0000"
     "0000000000000000" "03" "0100" "0000" "073be540"),
    ("MMonSubscribe", MessageFrame(header=SUB_HEADER, front=SUB_FRONT),
     "110229000000080030000000080000000000000000000000000000002d2fbe15"
     + SUB_HEADER.encode().hex() + "1f2504bd" + SUB_FRONT.hex()
     + "0e" "804d2c73" "00000000" "00000000"),
]


def _frames_equal(a: Frame, b: Frame) -> bool:
    if isinstance(a, MessageFrame) and isinstance(b, MessageFrame):
        return (a.header == b.header and bytes(a.front) == bytes(b.front)
                and bytes(a.middle) == bytes(b.middle) and bytes(a.data) == bytes(b.data))
    return a == b


@pytest.mark.parametrize(("name", "frame", "wire"), CAPTURED, ids=[c[0] for c in CAPTURED])
def test_captured_frame_vectors(name: str, frame: Frame, wire: str) -> None:
    raw = H(wire)
    asm = FrameAssembler(rev1=True)
    assert frame_bytes(asm, frame) == raw
    assert _frames_equal(decode_one(asm, raw), frame)


def test_captured_message_lengths() -> None:
    assert len(H(CAPTURED[-2][2])) == 77
    assert len(H(CAPTURED[-1][2])) == 138
    assert len(GETMAP_HEADER.encode()) == 41


# -- the test_frames_v2 port ---------------------------------------------------------

SIZES = list(itertools.product((0, 1, 48, 49), (0, 101), (0, 202), (0, 303)))


def payload(length: int, seed: int) -> bytes:
    return bytes((seed * 31 + i * 7) & 0xFF for i in range(length))


def segments_for(sizes: Sequence[int], seed: int) -> list[bytes]:
    return [payload(n, seed + i) for i, n in enumerate(sizes)]


def test_published_onwire_lengths() -> None:
    # ceph-messenger.md §6.3, the test_frames_v2 row for a 0+0+0+303 frame
    published = {
        "rev0-crc": (32, 0, 0, 0, 303, 17),
        "rev0-secure": (32, 0, 0, 0, 304, 32),
        "rev1-crc": (32, 0, 0, 0, 303, 13),
        "rev1-secure": (96, 0, 0, 0, 304, 32),
    }
    for mode, row in published.items():
        assert expected_onwire(mode, (0, 0, 0, 303)) == row
        client, _ = make_peers(mode)
        pre, segs, epi = client.onwire_lengths([0, 0, 0, 303])
        assert (pre, *segs, epi) == row


def test_secure_sizes_from_the_capture_notes() -> None:
    # wire-protocol.md §5.2: AUTH_SIGNATURE 96; CLIENT_IDENT (123) 192; MESSAGE with a
    # header only 96; MESSAGE 41+48 = 176
    client, _ = make_peers("rev1-secure")
    assert len(frame_bytes(client, AuthSignatureFrame(signature=bytes(32)))) == 96
    assert len(frame_bytes(client, SAMPLES[7][0])) == 192
    assert len(frame_bytes(client, MessageFrame(header=GETMAP_HEADER))) == 96
    assert len(frame_bytes(client, MessageFrame(header=SUB_HEADER, front=SUB_FRONT))) == 176


@pytest.mark.parametrize("mode", MODES)
def test_onwire_length_table(mode: str) -> None:
    client, _ = make_peers(mode)
    for sizes in SIZES:
        n = max((i + 1 for i, x in enumerate(sizes) if x), default=1)
        expected = expected_onwire(mode, sizes)
        pre, segs, epi = client.onwire_lengths(list(sizes[:n]))
        got = (pre, *segs, *([0] * (4 - len(segs))), epi)
        assert got == expected, sizes
        wire = assemble_bytes(client, Tag.MESSAGE, segments_for(sizes, 1), MESSAGE_ALIGNMENTS)
        assert len(wire) == sum(expected), sizes


def _check_round_trip(mode: str, sender: FrameAssembler, receiver: FrameAssembler,
                      sizes: Sequence[int], seed: int) -> None:
    segs = segments_for(sizes, seed)
    n = max((i + 1 for i, x in enumerate(sizes) if x), default=1)
    nonce = sender.tx.next_nonce() if sender.tx is not None else b""
    wire = assemble_bytes(sender, Tag.MESSAGE, segs, MESSAGE_ALIGNMENTS)
    assert len(wire) == sum(expected_onwire(mode, sizes))
    # independent decode of the layout
    tag, ref_segs, _late = reference_decode(mode, wire, nonce)
    assert tag == Tag.MESSAGE
    assert ref_segs == segs[:n]
    # and the assembler's own receive path
    pre, out = receive(receiver, wire)
    assert pre.num_segments == n
    assert pre.lengths == tuple(sizes[:n])
    assert pre.alignments == MESSAGE_ALIGNMENTS[:n]
    assert out is not None
    assert [bytes(s) for s in out] == segs[:n]


@pytest.mark.parametrize("mode", MODES)
def test_round_trip_basic(mode: str) -> None:
    for sizes in SIZES:
        client, server = make_peers(mode)
        _check_round_trip(mode, client, server, sizes, seed=sum(sizes))


@pytest.mark.parametrize("mode", MODES)
def test_round_trip_reuse(mode: str) -> None:
    for sizes in SIZES:
        client, server = make_peers(mode)
        for rnd in range(3):
            _check_round_trip(mode, client, server, sizes, seed=rnd)
            _check_round_trip(mode, server, client, sizes, seed=rnd + 100)


@pytest.mark.parametrize("mode", ["rev0-secure", "rev1-secure"])
def test_secure_handlers_are_crossed(mode: str) -> None:
    client, server = make_peers(mode)
    assert client.tx is not None
    assert server.tx is not None
    assert client.tx.next_nonce() == C2S_NONCE
    assert server.tx.next_nonce() == S2C_NONCE
    wire = assemble_bytes(client, Tag.ACK, [bytes(8)])
    # the client cannot read its own frames: its rx uses the s2c nonce
    loopback, _ = make_peers(mode)
    with pytest.raises(DecryptError if is_rev1(mode) else FrameError):
        receive(loopback, wire)
    assert decode_one(server, wire) == AckFrame(seq=0)


def test_large_crc_segments_are_passed_through_without_copy() -> None:
    data = bytes(70000)
    header = GETMAP_HEADER.encode()
    for rev1 in (True, False):
        chunks = FrameAssembler(rev1=rev1).assemble(
            Tag.MESSAGE, [header, b"", b"", data], MESSAGE_ALIGNMENTS)
        assert any(c is data for c in chunks)
    # rev1: a big segment 0 is its own chunk too, followed by its crc
    big0 = bytes(5000)
    chunks = FrameAssembler(rev1=True).assemble(Tag.AUTH_REPLY_MORE, [big0])
    assert any(c is big0 for c in chunks)


@pytest.mark.parametrize("mode", MODES)
def test_large_control_segment_round_trip(mode: str) -> None:
    frame = AuthReplyMoreFrame(auth_payload=payload(5000, 3))
    client, server = make_peers(mode)
    assert decode_one(server, frame_bytes(client, frame)) == frame


# -- MESSAGE alignment in the preamble -----------------------------------------------


def test_message_alignments_in_preamble() -> None:
    asm = FrameAssembler(rev1=True)
    full = MessageFrame(header=GETMAP_HEADER, front=b"f", middle=b"", data=b"d")
    assert frame_spec(full).alignments == MESSAGE_ALIGNMENTS == (8, 8, 8, 4096)
    _, n, lens, aligns = parse_preamble(frame_bytes(asm, full)[:32])
    assert (n, lens, aligns) == (4, [41, 1, 0, 1], [8, 8, 8, 4096])
    # trailing empty segments are dropped and their entries are zero
    _, n, lens, aligns = parse_preamble(
        frame_bytes(asm, MessageFrame(header=GETMAP_HEADER, front=b"ff"))[:32])
    assert (n, lens, aligns) == (2, [41, 2, 0, 0], [8, 8, 0, 0])


def test_command_ack_preamble_and_epilogue_shape() -> None:
    # wire-protocol.md §5.7: segs (41,8)(72,8)(0,8)(73271,4096); middle crc ffffffff
    asm = FrameAssembler(rev1=True)
    data = payload(73271, 5)
    front = payload(72, 6)
    wire = frame_bytes(asm, MessageFrame(header=GETMAP_HEADER, front=front, data=data))
    _, n, lens, aligns = parse_preamble(wire[:32])
    assert (n, lens, aligns) == (4, [41, 72, 0, 73271], [8, 8, 8, 4096])
    epilogue = wire[-13:]
    assert epilogue[0] == 0x0E
    assert epilogue[5:9] == H("ffffffff")
    assert le32(epilogue[1:5]) == ceph_crc32c(0xFFFFFFFF, front)
    assert le32(epilogue[9:13]) == ceph_crc32c(0xFFFFFFFF, data)


@pytest.mark.parametrize("align", [0, 3, 65535])
def test_odd_alignment_is_only_a_hint(align: int) -> None:
    asm = FrameAssembler(rev1=True)
    wire = make_preamble(Tag.ACK, [8], [align]) + bytes(8) + struct.pack(
        "<I", ceph_crc32c(0xFFFFFFFF, bytes(8)))
    pre, segs = receive(asm, wire)
    assert pre.alignments == (align,)
    assert segs is not None
    assert decode_frame(pre.tag, segs) == AckFrame(seq=0)


# -- preamble validation (faults-and-bad-input.md §3 rows 5-10, 15) -------------------


def test_bad_preamble_crc_every_bit() -> None:
    asm = FrameAssembler(rev1=True)
    good = make_preamble(Tag.ACK, [8])
    assert asm.disassemble_preamble(good).tag == Tag.ACK
    for bit in range(32 * 8):
        bad = bytearray(good)
        bad[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(BadPreambleCrc):
            asm.disassemble_preamble(bytes(bad))


@pytest.mark.parametrize("nseg", [0, 5, 255])
def test_bad_num_segments(nseg: int) -> None:
    with pytest.raises(BadFrameStructure, match="num_segments"):
        FrameAssembler().disassemble_preamble(make_preamble(Tag.ACK, [8], nseg=nseg))


def test_last_segment_empty() -> None:
    asm = FrameAssembler()
    with pytest.raises(BadFrameStructure, match="empty"):
        asm.disassemble_preamble(make_preamble(Tag.MESSAGE, [41, 0]))
    with pytest.raises(BadFrameStructure, match="empty"):
        asm.disassemble_preamble(make_preamble(Tag.MESSAGE, [41, 5, 0, 0]))
    # a single empty segment is fine (WAIT)
    assert asm.disassemble_preamble(make_preamble(Tag.WAIT, [0])).lengths == (0,)


@pytest.mark.parametrize("flags", [1, 2, 0x80])
def test_nonzero_flags(flags: int) -> None:
    with pytest.raises(BadFrameStructure, match="flags"):
        FrameAssembler().disassemble_preamble(make_preamble(Tag.ACK, [8], flags=flags))


@pytest.mark.parametrize("tag", [0, 23, 255])
def test_unknown_tag_in_preamble(tag: int) -> None:
    with pytest.raises(UnknownTag):
        FrameAssembler().disassemble_preamble(make_preamble(tag, [8]))


def test_preamble_wrong_length() -> None:
    with pytest.raises(DecodeError):
        FrameAssembler().disassemble_preamble(make_preamble(Tag.ACK, [8])[:31])
    client, server = make_peers("rev1-secure")
    with pytest.raises(DecodeError):
        server.disassemble_preamble(assemble_bytes(client, Tag.ACK, [bytes(8)])[:32])


def test_pre_auth_cap_rejects_at_preamble() -> None:
    limits = FrameLimits.pre_auth()
    assert limits.control == 64 * 1024
    asm = FrameAssembler(limits=limits)
    assert asm.disassemble_preamble(make_preamble(Tag.AUTH_REQUEST, [64 * 1024])).lengths == (
        65536,)
    with pytest.raises(FrameTooLarge, match="AUTH_REQUEST"):
        asm.disassemble_preamble(make_preamble(Tag.AUTH_REQUEST, [64 * 1024 + 1]))
    # through a FrameReader: rejected as soon as the preamble is in, body never fed
    reader = FrameReader(asm)
    reader.feed(make_preamble(Tag.AUTH_REQUEST, [64 * 1024 + 1]))
    with pytest.raises(FrameTooLarge):
        reader.next_frame()


def test_default_caps() -> None:
    limits = FrameLimits()
    caps = [limits.cap(Tag.MESSAGE, i) for i in range(4)]
    assert caps == [16 << 20, 16 << 20, 16 << 20, 64 << 20]
    assert limits.cap(Tag.HELLO, 0) == 16 << 20
    asm = FrameAssembler()
    asm.disassemble_preamble(make_preamble(Tag.MESSAGE, [41, 0, 0, 64 << 20],
                                           MESSAGE_ALIGNMENTS))
    for lens in ([41, 0, 0, (64 << 20) + 1], [41, (16 << 20) + 1], [0xFFFFFFFF],
                 [41, 1, 0x80000000], [41, 0, 0, 0xFFFFFFFF]):
        with pytest.raises(FrameTooLarge):
            asm.disassemble_preamble(make_preamble(Tag.MESSAGE, lens))
    with pytest.raises(FrameTooLarge):
        asm.disassemble_preamble(make_preamble(Tag.HELLO, [(16 << 20) + 1]))


def test_custom_message_caps() -> None:
    asm = FrameAssembler(limits=FrameLimits(control=100, front=200, middle=300, data=400))
    asm.disassemble_preamble(make_preamble(Tag.MESSAGE, [100, 200, 300, 400]))
    for i, cap in enumerate((100, 200, 300, 400)):
        lens = [1, 1, 1, 1]
        lens[i] = cap + 1
        with pytest.raises(FrameTooLarge, match=f"segment {i}"):
            asm.disassemble_preamble(make_preamble(Tag.MESSAGE, lens))


# -- segment crcs and late status (rows 11-13) ---------------------------------------


def test_bad_segment_crc_rev1_inline() -> None:
    asm = FrameAssembler(rev1=True)
    wire = bytearray(frame_bytes(asm, AckFrame(seq=5)))
    wire[33] ^= 0x01
    with pytest.raises(BadSegmentCrc, match="segment 0"):
        receive(asm, bytes(wire))
    wire = bytearray(frame_bytes(asm, AckFrame(seq=5)))
    wire[-1] ^= 0x80  # the inline crc itself
    with pytest.raises(BadSegmentCrc):
        receive(asm, bytes(wire))


@pytest.mark.parametrize("index", [1, 2, 3])
def test_bad_segment_crc_rev1_epilogue(index: int) -> None:
    asm = FrameAssembler(rev1=True)
    segs = [GETMAP_HEADER.encode(), b"front", b"middle", b"data"]
    wire = assemble_bytes(asm, Tag.MESSAGE, segs, MESSAGE_ALIGNMENTS)
    offset = 32 + 41 + 4 + sum(len(s) for s in segs[1:index])
    bad = bytearray(wire)
    bad[offset] ^= 0x10
    with pytest.raises(BadSegmentCrc, match=f"segment {index}"):
        receive(asm, bytes(bad))
    bad = bytearray(wire)
    bad[-13 + 1 + 4 * (index - 1)] ^= 0x01  # the epilogue crc
    with pytest.raises(BadSegmentCrc, match=f"segment {index}"):
        receive(asm, bytes(bad))


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_bad_segment_crc_rev0(index: int) -> None:
    asm = FrameAssembler(rev1=False)
    segs = [GETMAP_HEADER.encode(), b"front", b"middle", b"data"]
    wire = assemble_bytes(asm, Tag.MESSAGE, segs, MESSAGE_ALIGNMENTS)
    bad = bytearray(wire)
    bad[32 + sum(len(s) for s in segs[:index])] ^= 0x04
    with pytest.raises(BadSegmentCrc, match=f"segment {index}"):
        receive(asm, bytes(bad))


def _rev1_crc_two_segment(status: int) -> bytes:
    seg0, seg1 = GETMAP_HEADER.encode(), b"front!"
    crc0 = struct.pack("<I", ceph_crc32c(0xFFFFFFFF, seg0))
    epi = struct.pack("<BIII", status, ceph_crc32c(0xFFFFFFFF, seg1), 0, 0)
    return make_preamble(Tag.MESSAGE, [41, len(seg1)]) + seg0 + crc0 + seg1 + epi


def test_crafted_rev1_crc_frame_is_accepted() -> None:
    frame = decode_one(FrameAssembler(rev1=True), _rev1_crc_two_segment(0x0E))
    assert isinstance(frame, MessageFrame)
    assert bytes(frame.front) == b"front!"
    # high nibble is reserved: still complete
    assert receive(FrameAssembler(rev1=True), _rev1_crc_two_segment(0x1E))[1] is not None


@pytest.mark.parametrize("status", [0x00, 0x02, 0x0F, 0x05, 0xE0])
def test_invalid_late_status_rev1_crc(status: int) -> None:
    with pytest.raises(BadFrameStructure, match="late_status"):
        receive(FrameAssembler(rev1=True), _rev1_crc_two_segment(status))


@pytest.mark.parametrize("status", [0x01, 0x11])
def test_aborted_late_status_rev1_crc(status: int) -> None:
    pre, segs = receive(FrameAssembler(rev1=True), _rev1_crc_two_segment(status))
    assert segs is None
    assert pre.tag == Tag.MESSAGE


def test_aborted_rev0_crc() -> None:
    seg0 = GETMAP_HEADER.encode()
    crcs = struct.pack("<IIII", ceph_crc32c(0xFFFFFFFF, seg0), 0, 0, 0)
    for flags, aborted in ((0x00, False), (0x01, True), (0x03, True), (0x02, False)):
        wire = make_preamble(Tag.MESSAGE, [41]) + seg0 + bytes([flags]) + crcs
        _, segs = receive(FrameAssembler(rev1=False), wire)
        assert (segs is None) == aborted


def _secure_rev1_two_segment(status: int) -> bytes:
    """A rev1 secure frame built with GcmTx directly, with a chosen late status."""
    tx = GcmTx(KEY, C2S_NONCE, rev1=True)
    seg0, seg1 = GETMAP_HEADER.encode(), b"front!"
    first = tx.encrypt(make_preamble(Tag.MESSAGE, [41, len(seg1)]) + seg0 + bytes(7))
    rest = tx.encrypt(seg1 + bytes(10) + bytes([status]) + bytes(15))
    return bytes(first + rest)


def test_late_status_rev1_secure() -> None:
    _, server = make_peers("rev1-secure")
    frame = decode_one(server, _secure_rev1_two_segment(0x0E))
    assert isinstance(frame, MessageFrame)
    assert bytes(frame.front) == b"front!"
    _, server = make_peers("rev1-secure")
    assert receive(server, _secure_rev1_two_segment(0x01))[1] is None
    _, server = make_peers("rev1-secure")
    with pytest.raises(BadFrameStructure):
        receive(server, _secure_rev1_two_segment(0x07))


def test_aborted_rev0_secure() -> None:
    for flags, aborted in ((0, False), (1, True)):
        tx = GcmTx(KEY, C2S_NONCE, rev1=False)
        seg0 = GETMAP_HEADER.encode()
        wire = bytes(tx.encrypt(make_preamble(Tag.MESSAGE, [41]) + seg0 + bytes(7)
                                + bytes([flags]) + bytes(15)))
        _, server = make_peers("rev0-secure")
        _, segs = receive(server, wire)
        assert (segs is None) == aborted


def test_body_wrong_length() -> None:
    asm = FrameAssembler(rev1=True)
    wire = frame_bytes(asm, AckFrame(seq=1))
    pre = asm.disassemble_preamble(wire[:32])
    with pytest.raises(DecodeError):
        asm.disassemble_segments(pre, wire[32:] + b"\x00")


# -- secure mode: tampering and nonces (rows 23-24) ----------------------------------


@pytest.mark.parametrize("mode", ["rev0-secure", "rev1-secure"])
def test_secure_bit_flip_anywhere_fails(mode: str) -> None:
    client, _ = make_peers(mode)
    segs = [GETMAP_HEADER.encode() + b"x" * 30, b"front", b"", b"data"]
    wire = assemble_bytes(client, Tag.MESSAGE, segs, MESSAGE_ALIGNMENTS)
    # rev1: GCM#1 (0..95), GCM#2 (96..127), GCM#3 (rest); rev0: one message
    positions = [0, 31, 40, 95, 96, 110, 127, 128, len(wire) - 17, len(wire) - 1]
    for pos in positions:
        bad = bytearray(wire)
        bad[pos] ^= 0x01
        _, server = make_peers(mode)
        if mode == "rev0-secure" and pos < 32:
            # rev0 reads its preamble as an unauthenticated stream prefix
            with pytest.raises(BadPreambleCrc):
                receive(server, bytes(bad))
        else:
            with pytest.raises(DecryptError):
                receive(server, bytes(bad))
    _, server = make_peers(mode)
    assert receive(server, wire)[1] is not None


def test_secure_replay_fails() -> None:
    client, server = make_peers("rev1-secure")
    wire = frame_bytes(client, AckFrame(seq=1))
    assert decode_one(server, wire) == AckFrame(seq=1)
    with pytest.raises(DecryptError):
        decode_one(server, wire)  # same bytes again: the nonce has moved on


def test_nonce_limit_tx() -> None:
    tx = GcmTx(KEY, C2S_NONCE, rev1=True, nonce_limit=3)
    aead = AESGCM(KEY)
    used: list[bytes] = []
    for i in range(3):
        nonce = tx.next_nonce()
        ct = tx.encrypt(b"message %d" % i)
        assert aead.decrypt(nonce, bytes(ct), None) == b"message %d" % i
        used.append(nonce)
    assert tx.nonces_used == 3
    assert len(set(used)) == 3
    with pytest.raises(NonceExhausted) as info:
        tx.encrypt(b"fourth")
    assert isinstance(info.value, LocalProtocolError)
    assert info.value.error_code == 75
    assert tx.nonces_used == 3
    with pytest.raises(NonceExhausted):
        tx.encrypt(b"fifth")


def test_nonce_limit_through_assembler() -> None:
    client, _ = make_peers("rev1-secure", nonce_limit=2)
    # a 2-segment frame with a big segment 0 needs 3 GCM messages
    with pytest.raises(NonceExhausted):
        client.assemble(Tag.MESSAGE, [bytes(100), b"front"], MESSAGE_ALIGNMENTS)


def test_nonce_limit_rx_is_decrypt_error() -> None:
    tx = GcmTx(KEY, C2S_NONCE, nonce_limit=None)
    rx = GcmRx(KEY, C2S_NONCE, nonce_limit=1)
    assert rx.decrypt(tx.encrypt(b"one")) == b"one"
    with pytest.raises(DecryptError):
        rx.decrypt(tx.encrypt(b"two"))


def test_rev1_nonce_sequence_vector() -> None:
    # wire-protocol.md §5.6: observed c2s nonces
    tx = GcmTx(KEY, C2S_NONCE, rev1=True)
    seen = []
    for _ in range(3):
        seen.append(tx.next_nonce().hex())
        tx.encrypt(b"")
    assert seen == ["efb49f783f01b2f2f803bf35", "efb49f784001b2f2f803bf35",
                    "efb49f784101b2f2f803bf35"]


def test_rev1_counter_is_le64_at_bytes_4_to_11() -> None:
    tx = GcmTx(KEY, H("aabbccdd" "ffffffffffffff00"), rev1=True)
    tx.encrypt(b"")
    assert tx.next_nonce() == H("aabbccdd" "0000000000000001")
    wrap = GcmTx(KEY, H("aabbccdd" "ffffffffffffffff"), rev1=True)
    wrap.encrypt(b"")
    assert wrap.next_nonce() == H("aabbccdd" "0000000000000000")


def test_rev0_counter_is_le32_at_bytes_0_to_3() -> None:
    tx = GcmTx(KEY, C2S_NONCE, rev1=False)
    first = tx.next_nonce()
    tx.encrypt(b"")
    assert first == C2S_NONCE
    assert tx.next_nonce() == H("f0b49f78" "3f01b2f2f803bf35")
    carry = GcmTx(KEY, H("ff00ffff" "0102030405060708"), rev1=False)
    carry.encrypt(b"")
    assert carry.next_nonce() == H("0001ffff" "0102030405060708")
    wrap = GcmTx(KEY, H("ffffffff" "0102030405060708"), rev1=False)
    wrap.encrypt(b"")
    assert wrap.next_nonce() == H("00000000" "0102030405060708")


def test_nonces_used_by_a_secure_frame_match_the_reference() -> None:
    for mode in ("rev0-secure", "rev1-secure"):
        client, _ = make_peers(mode)
        assert client.tx is not None
        expected = ref_nonces(C2S_NONCE, is_rev1(mode))
        client.assemble(Tag.MESSAGE, [bytes(100), b"front"], MESSAGE_ALIGNMENTS)
        used = 3 if is_rev1(mode) else 1
        assert client.tx.nonces_used == used
        for _ in range(used):
            next(expected)
        assert client.tx.next_nonce() == next(expected)


def test_secure_keys() -> None:
    client = SecureKeys.from_connection_secret(SECRET, crossed=False)
    server = SecureKeys.from_connection_secret(SECRET, crossed=True)
    assert client.key == server.key == KEY
    assert (client.tx_nonce, client.rx_nonce) == (C2S_NONCE, S2C_NONCE)
    assert (server.tx_nonce, server.rx_nonce) == (S2C_NONCE, C2S_NONCE)
    with pytest.raises(DecodeError):
        SecureKeys.from_connection_secret(SECRET[:39], crossed=False)
    with pytest.raises(DecodeError):
        GcmTx(KEY[:15], C2S_NONCE)
    with pytest.raises(DecodeError):
        GcmRx(KEY, C2S_NONCE[:11])


def test_gcm_rx_short_message_and_stream_misuse() -> None:
    rx = GcmRx(KEY, C2S_NONCE)
    with pytest.raises(DecryptError):
        rx.decrypt(bytes(GCM_TAG_LEN - 1))
    with pytest.raises(DecryptError):
        rx.stream_finish(b"", bytes(16))


def test_auth_signature_secure_vector() -> None:
    # wire-protocol.md §5.6: the server's AUTH_SIGNATURE is 96 bytes and decrypts with
    # the s2c nonce to its preamble + HMAC + 16 zero bytes
    _, server = make_peers("rev1-secure")
    sig = bytes(range(32))
    wire = frame_bytes(server, AuthSignatureFrame(signature=sig))
    assert len(wire) == 96
    plain = AESGCM(KEY).decrypt(S2C_NONCE, wire, None)
    assert plain == H("07012000000008000000000000000000000000000000000000000000a80c9872") + (
        sig + bytes(16))


# -- FrameReader ---------------------------------------------------------------------

STREAM_FRAMES: list[Frame] = [
    SAMPLES[0][0],
    WaitFrame(),
    MessageFrame(header=SUB_HEADER, front=SUB_FRONT, middle=b"mid", data=payload(5000, 9)),
    AckFrame(seq=2),
    AuthReplyMoreFrame(auth_payload=payload(60, 1)),
    MessageFrame(header=GETMAP_HEADER),
]


def _stream(mode: str) -> tuple[bytes, list[int], FrameAssembler]:
    client, server = make_peers(mode)
    chunks = [frame_bytes(client, f) for f in STREAM_FRAMES]
    return b"".join(chunks), [len(c) for c in chunks], server


def _check_raw_frames(raws: list[RawFrame], wire: bytes, sizes: list[int]) -> None:
    assert len(raws) == len(STREAM_FRAMES)
    off = 0
    for raw, size, expected in zip(raws, sizes, STREAM_FRAMES, strict=True):
        assert raw.raw == wire[off: off + size]
        off += size
        assert not raw.aborted
        assert raw.segments is not None
        assert raw.tag == expected.TAG
        assert _frames_equal(decode_frame(raw.tag, raw.segments), expected)


@pytest.mark.parametrize("mode", MODES)
def test_frame_reader_whole(mode: str) -> None:
    wire, sizes, server = _stream(mode)
    reader = FrameReader(server)
    assert reader.next_frame() is None
    reader.feed(wire)
    assert reader.buffered == len(wire)
    raws = []
    while (raw := reader.next_frame()) is not None:
        raws.append(raw)
    _check_raw_frames(raws, wire, sizes)
    assert reader.buffered == 0


@pytest.mark.parametrize("mode", MODES)
def test_frame_reader_byte_by_byte(mode: str) -> None:
    wire, sizes, server = _stream(mode)
    reader = FrameReader(server)
    raws: list[RawFrame] = []
    ends = list(itertools.accumulate(sizes))
    for i in range(len(wire)):
        reader.feed(wire[i: i + 1])
        raw = reader.next_frame()
        if raw is None:
            assert i + 1 not in ends
        else:
            assert i + 1 == ends[len(raws)]
            raws.append(raw)
            assert reader.next_frame() is None
    _check_raw_frames(raws, wire, sizes)


@pytest.mark.parametrize("mode", MODES)
def test_frame_reader_with_trailing_data(mode: str) -> None:
    wire, sizes, server = _stream(mode)
    reader = FrameReader(server)
    cut = sizes[0] + sizes[1] + sizes[2] // 2
    reader.feed(memoryview(wire)[:cut])
    raws = [reader.next_frame(), reader.next_frame()]
    assert reader.next_frame() is None
    assert reader.buffered == cut - sizes[0] - sizes[1]
    reader.feed(bytearray(wire[cut:]))
    while (raw := reader.next_frame()) is not None:
        raws.append(raw)
    _check_raw_frames([r for r in raws if r is not None], wire, sizes)


def test_frame_reader_aborted_frame_then_next() -> None:
    asm = FrameAssembler(rev1=True)
    reader = FrameReader(asm)
    reader.feed(_rev1_crc_two_segment(0x01) + frame_bytes(asm, AckFrame(seq=3)))
    first = reader.next_frame()
    assert first is not None
    assert first.aborted
    assert first.segments is None
    assert first.preamble.tag == Tag.MESSAGE
    second = reader.next_frame()
    assert second is not None
    assert second.segments is not None
    assert decode_frame(second.tag, second.segments) == AckFrame(seq=3)


def test_frame_reader_mode_switch_between_frames() -> None:
    # crc frames, then both sides switch to secure (as right after AUTH_DONE)
    client = FrameAssembler(rev1=True)
    server = FrameAssembler(rev1=True)
    reader = FrameReader(server)
    wire = frame_bytes(client, AckFrame(seq=1))
    ctx, _ = SecureKeys.from_connection_secret(SECRET, crossed=False).handlers()
    _, srx = SecureKeys.from_connection_secret(SECRET, crossed=True).handlers()
    client.set_tx(ctx)
    wire += frame_bytes(client, AckFrame(seq=2))
    reader.feed(wire)
    first = reader.next_frame()
    assert first is not None
    assert first.segments is not None
    assert decode_frame(first.tag, first.segments) == AckFrame(seq=1)
    server.set_rx(srx)
    second = reader.next_frame()
    assert second is not None
    assert second.segments is not None
    assert decode_frame(second.tag, second.segments) == AckFrame(seq=2)
    assert len(second.raw) == 96


def test_frame_reader_errors_propagate() -> None:
    asm = FrameAssembler(rev1=True)
    bad = bytearray(frame_bytes(asm, AckFrame(seq=1)))
    bad[3] ^= 0xFF
    reader = FrameReader(asm)
    reader.feed(bytes(bad))
    with pytest.raises(BadPreambleCrc):
        reader.next_frame()


def test_assemble_rejects_bad_segment_counts() -> None:
    asm = FrameAssembler()
    for segments in ((), (b"a",) * 5):
        with pytest.raises(EncodeError):
            asm.assemble(Tag.ACK, segments)
    with pytest.raises(EncodeError):
        asm.assemble(256, [b"x"])


@pytest.mark.parametrize("mode", MODES)
def test_frame_reader_feed_after_error_while_exception_alive(mode: str) -> None:
    # Regression: the preamble used to be parsed from a memoryview of the reader's
    # bytearray; the exception's traceback kept that view alive, so feeding the next
    # received bytes raised BufferError (not a protocol error) for as long as the
    # exception was kept (e.g. chained as the cause of ConnectionBroken).
    _, server = make_peers(mode)
    reader = FrameReader(server)
    junk = bytes(range(server.preamble_onwire_len))
    reader.feed(junk)
    with pytest.raises(FrameError) as info:
        reader.next_frame()
    reader.feed(b"late bytes")
    assert info.value.__traceback__ is not None
    assert reader.buffered == len(junk) + 10


# -- the MESSAGE fast path and the preamble memo -------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_assemble_message_matches_assemble(mode: str) -> None:
    for hlen, *rest in itertools.product((1, 41, 48, 49), (0, 101), (0, 202), (0, 5000)):
        segs = segments_for((hlen, *rest), hlen)
        a, _ = make_peers(mode)
        b, receiver = make_peers(mode)
        expected = assemble_bytes(a, Tag.MESSAGE, segs, MESSAGE_ALIGNMENTS)
        got = b"".join(bytes(c) for c in b.assemble_message(*segs))
        assert got == expected, (hlen, *rest)
        _, out = receive(receiver, got)
        assert out is not None
        n = max((i + 1 for i, s in enumerate(segs) if s), default=1)
        assert [bytes(s) for s in out] == segs[:n]


def test_assemble_message_memo_is_per_size() -> None:
    asm = FrameAssembler(rev1=True)
    rx = FrameAssembler(rev1=True)
    for front in (b"a", b"bb", b"a", b"cc", b""):
        frame = decode_one(rx, b"".join(
            bytes(c) for c in asm.assemble_message(GETMAP_HEADER.encode(), front)))
        assert isinstance(frame, MessageFrame)
        assert bytes(frame.front) == front


def test_assemble_message_passes_payloads_through() -> None:
    data = bytes(9000)
    chunks = FrameAssembler(rev1=True).assemble_message(GETMAP_HEADER.encode(), b"f", b"",
                                                        data)
    assert any(c is data for c in chunks)


def test_preamble_memo_respects_new_limits() -> None:
    asm = FrameAssembler(rev1=True)
    pre = make_preamble(Tag.AUTH_REQUEST, [100_000])
    assert asm.disassemble_preamble(pre).lengths == (100_000,)
    assert asm.disassemble_preamble(pre) == asm.disassemble_preamble(pre)  # memoised
    asm.limits = FrameLimits.pre_auth()
    with pytest.raises(FrameTooLarge):
        asm.disassemble_preamble(pre)
    asm.limits = FrameLimits()
    assert asm.disassemble_preamble(pre).lengths == (100_000,)


def test_preamble_memo_is_not_used_in_secure_mode() -> None:
    client, server = make_peers("rev1-secure")
    wire = frame_bytes(client, AckFrame(seq=4))
    assert decode_one(server, wire) == AckFrame(seq=4)
    # the same ciphertext again must not be served from any cache
    with pytest.raises(DecryptError):
        server.disassemble_preamble(wire[:96])


@pytest.mark.parametrize("mode", MODES)
def test_body_len_in_preamble(mode: str) -> None:
    client, server = make_peers(mode)
    for sizes in SIZES[1:]:
        wire = assemble_bytes(client, Tag.MESSAGE, segments_for(sizes, 2), MESSAGE_ALIGNMENTS)
        pre, _ = receive(server, wire)
        assert pre.body_len == server.body_onwire_len(pre) == len(wire) - (
            96 if mode == "rev1-secure" else 32)


# -- regressions of bugs found while writing these tests ------------------------------


def test_assemble_counts_bytes_of_non_byte_memoryviews() -> None:
    seg = memoryview(array.array("I", [1, 2, 3]))  # 3 items, 12 bytes
    asm = FrameAssembler(rev1=True)
    wire = assemble_bytes(asm, Tag.MESSAGE, [GETMAP_HEADER.encode(), bytes(seg)],
                          MESSAGE_ALIGNMENTS)
    got = b"".join(bytes(c) for c in asm.assemble(Tag.MESSAGE, [GETMAP_HEADER.encode(), seg],
                                                  MESSAGE_ALIGNMENTS))
    assert got == wire


def test_assemble_message_with_empty_header_matches_assemble() -> None:
    segs = [b"", b"front", b"", b""]
    expected = assemble_bytes(FrameAssembler(rev1=True), Tag.MESSAGE, segs, MESSAGE_ALIGNMENTS)
    got = b"".join(bytes(c) for c in FrameAssembler(rev1=True).assemble_message(*segs))
    assert got == expected


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("nseg", [2, 3, 4])
def test_control_frame_with_more_segments_is_refused_at_the_preamble(mode: str,
                                                                    nseg: int) -> None:
    """Issue 14: a control frame announcing 2-4 segments (each under the cap) is
    refused by ``disassemble_preamble``, before a byte of its body is needed."""
    client, server = make_peers(mode, limits=FrameLimits.pre_auth())
    segments = [bytes(65536)] * nseg
    wire = assemble_bytes(client, Tag.AUTH_REQUEST, segments, [8] * nseg)
    with pytest.raises(BadFrameStructure, match=f"AUTH_REQUEST frame with {nseg} segments"):
        server.disassemble_preamble(wire[:server.preamble_onwire_len])
    # a MESSAGE frame may have them (here after authentication, within the caps)
    client, server = make_peers(mode)
    wire = assemble_bytes(client, Tag.MESSAGE,
                          [GETMAP_HEADER.encode(), *segments[1:]], MESSAGE_ALIGNMENTS[:nseg])
    assert server.disassemble_preamble(wire[:server.preamble_onwire_len]).num_segments == nseg
