"""The in-place probe behind ``onwire.IN_PLACE`` against both rules of
``cryptography``'s AESGCM ``encrypt_into``/``decrypt_into``: up to 50 the output
may overlap the input, 51 refuses any overlap with ValueError. Both rules are
played by stand-ins that otherwise check like the library (exact buffer sizes,
real AES-GCM through ``AESGCM``), so the probe answers True under the old rule and
False under the new one whichever version is installed; under the old rule
``encrypt_in_place``/``decrypt_in_place`` write over the caller's buffer."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from asyncmsgr.crypto import onwire
from asyncmsgr.crypto.onwire import GCM_TAG_LEN, GcmRx, GcmTx


class _Aead:
    """AES-GCM with ``*_into`` writing through a copy (overlap allowed)."""

    overlap_allowed = True

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self.calls: list[str] = []

    @staticmethod
    def _overlap(a: Any, b: Any) -> bool:
        return bool(isinstance(a, memoryview) and a.obj is b)

    def _check(self, data: Any, out: Any, size: int) -> None:
        if len(out) != size:
            raise ValueError(f"buffer must be {size} bytes")
        if not self.overlap_allowed and (self._overlap(data, out) or self._overlap(out, data)):
            raise ValueError("buffers overlap")

    def encrypt_into(self, nonce: bytes, data: Any, aad: bytes | None, out: Any) -> int:
        self._check(data, out, len(data) + GCM_TAG_LEN)
        sealed = self._aead.encrypt(nonce, bytes(data), aad)
        out[:] = sealed
        self.calls.append("encrypt_into")
        return len(sealed)

    def decrypt_into(self, nonce: bytes, data: Any, aad: bytes | None, out: Any) -> int:
        self._check(data, out, len(data) - GCM_TAG_LEN)
        plain = self._aead.decrypt(nonce, bytes(data), aad)
        out[:] = plain
        self.calls.append("decrypt_into")
        return len(plain)


class _StrictAead(_Aead):
    overlap_allowed = False


def test_probe_allows_in_place_under_the_old_rule() -> None:
    made: list[_Aead] = []

    def build(key: bytes) -> AESGCM:
        assert key == bytes(16)
        made.append(_Aead(key))
        return made[-1]  # type: ignore[return-value]

    assert onwire._in_place_allowed(build) is True
    assert made[0].calls == ["encrypt_into", "decrypt_into"]


def test_probe_refuses_in_place_under_the_new_rule() -> None:
    made: list[_Aead] = []

    def build(key: bytes) -> AESGCM:
        made.append(_StrictAead(key))
        return made[-1]  # type: ignore[return-value]

    assert onwire._in_place_allowed(build) is False
    assert made[0].calls == []  # refused at the first overlapping call


# -- the in-place paths, as they run where the library allows overlap ---------------

KEY = bytes(range(16))
NONCE = bytes(range(40, 52))


def test_encrypt_in_place_writes_over_the_callers_buffer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onwire, "IN_PLACE", True)
    tx = GcmTx(KEY, NONCE)
    monkeypatch.setattr(tx, "_aead", _Aead(KEY))
    plain = bytes(range(100))
    buf = bytearray(plain) + bytearray(GCM_TAG_LEN)
    out = tx.encrypt_in_place(buf)
    assert out is buf
    assert bytes(out) == bytes(GcmTx(KEY, NONCE).encrypt(plain))


def test_decrypt_in_place_writes_over_the_callers_buffer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    plain = bytes(range(100))
    sealed = bytearray(GcmTx(KEY, NONCE).encrypt(plain))
    monkeypatch.setattr(onwire, "IN_PLACE", True)
    rx = GcmRx(KEY, NONCE)
    monkeypatch.setattr(rx, "_aead", _Aead(KEY))
    out = rx.decrypt_in_place(memoryview(sealed))
    assert out.obj is sealed
    assert len(out) == len(plain)
    assert bytes(out) == plain
    assert sealed[:len(plain)] == plain  # the plaintext is now in the caller's buffer
