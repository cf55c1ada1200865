"""The MESSAGE fast paths agree with the generic codec in every mode."""

from __future__ import annotations

import pytest

from asyncmsgr.crypto.onwire import SecureKeys
from asyncmsgr.errors import BadSegmentCrc, DecodeError
from asyncmsgr.frames.assembler import FrameAssembler
from asyncmsgr.frames.v2 import MESSAGE_ALIGNMENTS, Tag
from asyncmsgr.message import MsgHeader2

SECRET = bytes(range(64))
HEADER = MsgHeader2(seq=9, tid=4, type=42, priority=127, version=8, ack_seq=3,
                    compat_version=1)
SHAPES = [(b"", b"", b""), (b"f" * 100, b"", b""), (b"", b"m", b""), (b"", b"", b"d" * 5000),
          (b"f", b"m" * 3, b"d" * 4096)]


def _pair(mode: str) -> tuple[FrameAssembler, FrameAssembler]:
    rev1 = mode.startswith("rev1")
    if mode.endswith("crc"):
        return FrameAssembler(rev1=rev1), FrameAssembler(rev1=rev1)
    ctx, crx = SecureKeys.from_connection_secret(SECRET, crossed=False).handlers(rev1=rev1)
    stx, srx = SecureKeys.from_connection_secret(SECRET, crossed=True).handlers(rev1=rev1)
    return (FrameAssembler(rev1=rev1, tx=ctx, rx=crx),
            FrameAssembler(rev1=rev1, tx=stx, rx=srx))


@pytest.mark.parametrize("mode", ["rev0-crc", "rev1-crc", "rev0-secure", "rev1-secure"])
@pytest.mark.parametrize("shape", range(len(SHAPES)))
def test_assemble_and_disassemble_message(mode: str, shape: int) -> None:
    front, middle, data = SHAPES[shape]
    generic_tx, _ = _pair(mode)
    fast_tx, rx = _pair(mode)
    segs = (HEADER.encode(), front, middle, data)
    generic = b"".join(bytes(c) for c in generic_tx.assemble(Tag.MESSAGE, segs,
                                                               MESSAGE_ALIGNMENTS))
    fast = b"".join(bytes(c) for c in fast_tx.assemble_message(*segs))
    assert fast == generic
    # twice, so the preamble caches are exercised
    for wire in (fast, b"".join(bytes(c) for c in fast_tx.assemble_message(*segs))):
        plen = rx.preamble_onwire_len
        pre = rx.disassemble_preamble(wire[:plen])
        assert plen + pre.body_len == len(wire)
        got = rx.disassemble_message(pre, wire[plen:])
        assert got is not None
        header, f, m, d = got
        assert header == HEADER
        assert (bytes(f), bytes(m), bytes(d)) == (front, middle, data)


def test_disassemble_message_checks() -> None:
    tx, rx = _pair("rev1-crc")
    wire = bytearray(b"".join(bytes(c) for c in tx.assemble_message(
        HEADER.encode(), b"front", b"", b"data")))
    pre = rx.disassemble_preamble(bytes(wire[:32]))
    bad = bytearray(wire)
    bad[32 + 3] ^= 1  # inside header2
    with pytest.raises(BadSegmentCrc):
        rx.disassemble_message(pre, bytes(bad[32:]))
    bad = bytearray(wire)
    bad[-14] ^= 1  # last data byte
    with pytest.raises(BadSegmentCrc):
        rx.disassemble_message(pre, bytes(bad[32:]))
    with pytest.raises(DecodeError):
        rx.disassemble_message(pre, bytes(wire[32:-1]))
    # a header segment that is not 41 bytes
    short = b"".join(bytes(c) for c in tx.assemble(Tag.MESSAGE, (b"x" * 40, b"f"),
                                                   MESSAGE_ALIGNMENTS))
    pre = rx.disassemble_preamble(short[:32])
    with pytest.raises(DecodeError):
        rx.disassemble_message(pre, short[32:])


def test_aborted_message_frame_returns_none() -> None:
    tx, rx = _pair("rev1-crc")
    wire = bytearray(b"".join(bytes(c) for c in tx.assemble_message(
        HEADER.encode(), b"front", b"", b"")))
    wire[-13] = 0x01  # late_status ABORTED
    pre = rx.disassemble_preamble(bytes(wire[:32]))
    assert rx.disassemble_message(pre, bytes(wire[32:])) is None
