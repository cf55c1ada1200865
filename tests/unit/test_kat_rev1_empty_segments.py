"""Known answers: msgr2.1 crc-mode MESSAGE frames with empty segments inside
num_segments (no capture has one: Pacific's messages seldom carry a middle).

Provenance: the hex below was computed with ``tests/kat_reference.py`` (bitwise
CRC-32C, layouts of wire-protocol.md §5.2 and Ceph ``frames_v2.cc``), by hand
from the layout, not with asyncmsgr. header2 is ``ceph_msg_header2`` seq 1, tid 2,
type 0x7ff0, priority 127, version 1, ack_seq 0, flags COMPLETE|NOCRC,
compat_version 1. An empty segment inside num_segments has crc 0xffffffff in the
epilogue (``crc32c(-1)`` of nothing); a segment beyond it has 0.
"""

from __future__ import annotations

import pytest

from asyncmsgr.errors import BadSegmentCrc
from asyncmsgr.frames.assembler import PREAMBLE_LEN, FrameAssembler
from asyncmsgr.frames.v2 import MESSAGE_ALIGNMENTS, Tag
from asyncmsgr.message import MsgHeader2
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.common import ProtocolOptions
from asyncmsgr.testing.v2pair import ProtocolPair
from kat_reference import msgr2_rev1_crc_frame

H = bytes.fromhex
HEADER2 = H("0100000000000000" "0200000000000000" "f07f" "7f00" "0100" "00000000" "0000"
            "0000000000000000" "03" "0100" "0000")

#: front "front", empty middle, data "data!" (num_segments 4)
FRONT_EMPTY_MIDDLE_DATA = H(
    "1104" "29000000" "0800" "05000000" "0800" "00000000" "0800" "05000000" "0010" "0000"
    "de57dcee"                                        # preamble crc (seed 0)
    + HEADER2.hex() + "05c1ffd0"                      # seg0 + its crc (seed -1)
    "66726f6e74" "6461746121"                         # front, data
    "0e" "f4bb5684" "ffffffff" "a61b425e")            # epilogue: front, empty middle, data
#: empty front and middle, data "data!" (num_segments 4)
EMPTY_FRONT_MIDDLE_DATA = H(
    "1104" "29000000" "0800" "00000000" "0800" "00000000" "0800" "05000000" "0010" "0000"
    "977e9004"
    + HEADER2.hex() + "05c1ffd0"
    "6461746121"
    "0e" "ffffffff" "ffffffff" "a61b425e")
#: empty front, middle "mid" (num_segments 3: data beyond it has crc 0)
EMPTY_FRONT_MIDDLE = H(
    "1103" "29000000" "0800" "00000000" "0800" "03000000" "0800" "00000000" "0000" "0000"
    "0c884f7f"
    + HEADER2.hex() + "05c1ffd0"
    "6d6964"
    "0e" "ffffffff" "5d550212" "00000000")

CASES = {
    "front-empty_middle-data": (FRONT_EMPTY_MIDDLE_DATA, b"front", b"", b"data!"),
    "empty_front-empty_middle-data": (EMPTY_FRONT_MIDDLE_DATA, b"", b"", b"data!"),
    "empty_front-middle": (EMPTY_FRONT_MIDDLE, b"", b"mid", b""),
}


def _segments(front: bytes, middle: bytes, data: bytes) -> list[bytes]:
    segs = [HEADER2, front, middle, data]
    while len(segs) > 1 and not segs[-1]:
        segs.pop()
    return segs


def test_header2_vector() -> None:
    assert MsgHeader2(seq=1, tid=2, type=0x7FF0, priority=127, version=1,
                      compat_version=1).encode() == HEADER2


@pytest.mark.parametrize("name", CASES)
def test_vectors_follow_the_layout(name: str) -> None:
    wire, front, middle, data = CASES[name]
    segs = _segments(front, middle, data)
    assert msgr2_rev1_crc_frame(Tag.MESSAGE, segs, list(MESSAGE_ALIGNMENTS[:len(segs)])) \
        == wire


@pytest.mark.parametrize("name", CASES)
def test_assembler_writes_the_vectors(name: str) -> None:
    wire, front, middle, data = CASES[name]
    asm = FrameAssembler(rev1=True)
    assert b"".join(bytes(c) for c in asm.assemble_message(HEADER2, front, middle, data)) \
        == wire
    asm = FrameAssembler(rev1=True)
    assert b"".join(bytes(c) for c in asm.assemble(
        Tag.MESSAGE, (HEADER2, front, middle, data), MESSAGE_ALIGNMENTS)) == wire


def _both_decoders(wire: bytes) -> list[tuple[bytes, bytes, bytes]]:
    out = []
    asm = FrameAssembler(rev1=True)
    pre = asm.disassemble_preamble(wire[:PREAMBLE_LEN])
    body = wire[PREAMBLE_LEN:]
    got = asm.disassemble_message(pre, body)
    assert got is not None
    out.append((bytes(got[1]), bytes(got[2]), bytes(got[3])))
    segs = asm.disassemble_segments(pre, body)
    assert segs is not None
    rest = [bytes(s) for s in segs[1:]] + [b"", b"", b""]
    out.append((rest[0], rest[1], rest[2]))
    return out


@pytest.mark.parametrize("name", CASES)
def test_decoders_read_the_vectors(name: str) -> None:
    wire, front, middle, data = CASES[name]
    assert _both_decoders(wire) == [(front, middle, data)] * 2


def _epilogue_crc(wire: bytes, index: int, value: bytes) -> bytes:
    """``wire`` with epilogue crc ``index`` (1..3) replaced."""
    at = len(wire) - 13 + 1 + 4 * (index - 1)
    return wire[:at] + value + wire[at + 4:]


@pytest.mark.parametrize(("name", "index"), [
    ("front-empty_middle-data", 2), ("empty_front-empty_middle-data", 1),
    ("empty_front-empty_middle-data", 2), ("empty_front-middle", 1)])
@pytest.mark.parametrize("value", [H("00000000"), H("fffffffe")])
def test_an_empty_segments_crc_is_checked(name: str, index: int, value: bytes) -> None:
    """The crc of an empty segment must be crc32c(-1, b"") = 0xffffffff."""
    wire = _epilogue_crc(CASES[name][0], index, value)
    asm = FrameAssembler(rev1=True)
    pre = asm.disassemble_preamble(wire[:PREAMBLE_LEN])
    with pytest.raises(BadSegmentCrc, match=f"segment {index}"):
        asm.disassemble_message(pre, wire[PREAMBLE_LEN:])
    with pytest.raises(BadSegmentCrc, match=f"segment {index}"):
        asm.disassemble_segments(pre, wire[PREAMBLE_LEN:])


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_connection_faults_on_a_bad_empty_segment_crc(fast_path: bool) -> None:
    p = ProtocolPair(options=ProtocolOptions(fast_path=fast_path))
    p.handshake()
    good = H(FRONT_EMPTY_MIDDLE_DATA.hex())
    p.server.receive_data(good, p.now)
    evs = p.server.events_received()
    assert [bytes(e.message.data) for e in evs if isinstance(e, ev.MessageReceived)] == \
        [b"data!"]
    bad = MsgHeader2(seq=2, tid=2, type=0x7FF0, priority=127, version=1,
                     compat_version=1).encode()
    frame = b"".join(bytes(c) for c in FrameAssembler(rev1=True).assemble_message(
        bad, b"front", b"", b"data!"))
    p.server.receive_data(_epilogue_crc(frame, 2, H("00000000")), p.now)
    reasons = [e.reason for e in p.server.events_received() if isinstance(e, ev.CloseSocket)]
    assert reasons
    assert reasons[0].startswith("BadSegmentCrc: bad segment 2 crc")
