"""Secure-mode send buffers: recycled only when nothing references them, and the
frames built in recycled buffers decrypt to the right bytes (padding zeroed)."""

from __future__ import annotations

import os

from asyncmsgr.crypto.onwire import GcmTx, SecureKeys
from asyncmsgr.frames.assembler import FrameAssembler
from asyncmsgr.frames.v2 import Tag

SECRET = bytes(range(64))


def test_scratch_recycles_only_unreferenced_buffers() -> None:
    tx = GcmTx(bytes(16), bytes(12))
    a = tx.scratch(1 << 20)
    held = memoryview(a)  # like a socket layer still sending it
    b = tx.scratch(1 << 20)
    assert b is not a
    held.release()
    del held
    b_id = id(b)
    del b
    c = tx.scratch(1 << 20)
    assert c is a or id(c) == b_id  # a free buffer of that size came back
    assert tx.scratch(100) is not tx.scratch(100)  # small ones are never pooled


def test_frames_in_recycled_buffers_round_trip() -> None:
    client = SecureKeys.from_connection_secret(SECRET, crossed=False)
    server = SecureKeys.from_connection_secret(SECRET, crossed=True)
    ctx, _ = client.handlers()
    _, srx = server.handlers()
    sender = FrameAssembler(tx=ctx)
    receiver = FrameAssembler(rx=srx)
    for round_ in range(6):
        # Odd lengths: the padding of a recycled buffer must be rewritten.
        payload = os.urandom((1 << 20) + 2 * round_ + 1)
        wire = b"".join(bytes(c) for c in sender.assemble(
            Tag.MESSAGE, [bytes(41), b"front", payload]))
        n = receiver.preamble_onwire_len
        pre = receiver.disassemble_preamble(wire[:n])
        body = bytearray(wire[n:])
        segs = receiver.disassemble_segments(pre, memoryview(body), in_place=True)
        assert segs is not None
        assert bytes(segs[1]) == b"front"
        assert bytes(segs[2]) == payload


def test_hmac_sha256_rfc4231_and_constant_time_compare() -> None:
    """msgr2's AUTH_SIGNATURE digest: RFC 4231 test cases 1 and 2."""
    from asyncmsgr.crypto.onwire import digests_equal, hmac_sha256  # noqa: PLC0415

    assert hmac_sha256(b"\x0b" * 20, b"Hi There").hex() == (
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    assert hmac_sha256(b"Jefe", memoryview(b"what do ya want for nothing?")).hex() == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    assert digests_equal(b"\x01" * 32, b"\x01" * 32)
    assert not digests_equal(b"\x01" * 32, b"\x01" * 31 + b"\x02")
