"""The bugs the fuzz harnesses found, pinned directly on the fixed functions
(the inputs themselves are replayed by test_fuzz_regressions.py)."""

from __future__ import annotations

import pytest

from asyncmsgr.crypto.onwire import GCM_TAG_LEN, GcmRx, GcmTx
from asyncmsgr.errors import DecryptError
from asyncmsgr.messages.osd_op import cpp_strerror

KEY = bytes(range(16))
NONCE = bytes(range(100, 112))


def test_gcm_in_place_round_trip() -> None:
    """frames_v2: ``encrypt_in_place`` raised ValueError ("data and buf must not
    overlap") under cryptography 51, which refuses overlapping buffers; secure
    mode could send no multi-segment frame. The result buffer is the one to use."""
    tx, rx = GcmTx(KEY, NONCE), GcmRx(KEY, NONCE)
    for size in (16, 48, 4096 + 16):
        plain = bytes(i % 251 for i in range(size))
        buf = bytearray(plain + bytes(GCM_TAG_LEN))
        sealed = tx.encrypt_in_place(buf)
        assert bytes(sealed[:size]) != plain
        assert bytes(rx.decrypt_in_place(memoryview(bytearray(sealed)))) == plain


def test_gcm_in_place_still_checks_the_tag() -> None:
    tx, rx = GcmTx(KEY, NONCE), GcmRx(KEY, NONCE)
    sealed = bytearray(tx.encrypt_in_place(bytearray(64 + GCM_TAG_LEN)))
    sealed[3] ^= 1
    with pytest.raises(DecryptError):
        rx.decrypt_in_place(memoryview(sealed))


@pytest.mark.parametrize(("r", "text"), [
    (-2, "(2) No such file or directory"),
    (2**31, "(-2147483648) Unknown error -2147483648"),  # -INT_MIN stays negative in C
    (-(2**31), "(-2147483648) Unknown error -2147483648"),
])
def test_cpp_strerror_is_total(r: int, text: str) -> None:
    """messages: ``MPoolOpReply.describe`` of a reply code INT_MIN raised
    OverflowError in ``os.strerror``; Ceph's ``cpp_strerror`` takes a C int."""
    assert cpp_strerror(r) == text
