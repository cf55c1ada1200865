"""Secure-mode AES-GCM (crypto/onwire.py) against the ``cryptography`` reference:
the nonce sequence of rev1 and rev0 (fixed part, counter, wrap), the nonce limit,
every refusal with its text, the in-place and streaming paths, the connection
secret's split and the scratch pool's limits (Ceph Pacific ``crypto_onwire.cc``).
"""

from __future__ import annotations

import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from asyncmsgr.crypto import onwire
from asyncmsgr.crypto.onwire import GCM_TAG_LEN, GcmRx, GcmTx, SecureKeys
from asyncmsgr.errors import DecodeError, DecryptError, NonceExhausted

KEY = bytes(range(16))
FIXED = b"\xa1\xa2\xa3\xa4"


def _rev1_nonce(counter: int) -> bytes:
    return FIXED + struct.pack("<Q", counter)


def _rev0_nonce(counter: int, fixed: bytes = b"\xb1" * 8) -> bytes:
    return struct.pack("<I", counter) + fixed


def test_rev1_nonces_count_up_after_the_fixed_part() -> None:
    tx = GcmTx(KEY, _rev1_nonce(5))
    ref = AESGCM(KEY)
    for counter in (5, 6, 7):
        assert tx.next_nonce() == _rev1_nonce(counter)
        assert bytes(tx.encrypt(b"msg")) == ref.encrypt(_rev1_nonce(counter), b"msg", None)
    assert tx.nonces_used == 3


def test_rev1_counter_wraps_at_64_bits() -> None:
    tx = GcmTx(KEY, _rev1_nonce((1 << 64) - 1))
    tx.encrypt(b"")
    assert tx.next_nonce() == _rev1_nonce(0)


def test_rev0_nonces_count_up_before_the_fixed_part_and_wrap_at_32_bits() -> None:
    tx = GcmTx(KEY, _rev0_nonce(0xFFFFFFFE), rev1=False)
    ref = AESGCM(KEY)
    assert bytes(tx.encrypt(b"a")) == ref.encrypt(_rev0_nonce(0xFFFFFFFE), b"a", None)
    assert bytes(tx.encrypt(b"a")) == ref.encrypt(_rev0_nonce(0xFFFFFFFF), b"a", None)
    assert tx.next_nonce() == _rev0_nonce(0)


@pytest.mark.parametrize("rev1", [True, False])
def test_nonce_limit_is_exact(rev1: bool) -> None:
    nonce = _rev1_nonce(0) if rev1 else _rev0_nonce(0)
    tx = GcmTx(KEY, nonce, rev1=rev1, nonce_limit=2)
    rx = GcmRx(KEY, nonce, rev1=rev1, nonce_limit=2)
    for _ in range(2):
        assert rx.decrypt(tx.encrypt(b"x")) == b"x"
    with pytest.raises(NonceExhausted,
                       match=r"^out of nonces: the GCM nonce counter would repeat$"):
        tx.encrypt(b"x")
    with pytest.raises(DecryptError, match=r"^receive nonce counter exhausted$"):
        rx.decrypt(bytes(17))
    assert tx.nonces_used == 2


def test_default_limits_are_the_counter_sizes() -> None:
    # a counter that starts at the top still has its full range before repeating
    rx = GcmRx(KEY, _rev0_nonce(0xFFFFFFFF), rev1=False)
    tx = GcmTx(KEY, _rev0_nonce(0xFFFFFFFF), rev1=False)
    for _ in range(3):
        assert rx.decrypt(tx.encrypt(b"y")) == b"y"
    assert onwire._NonceCounter(_rev0_nonce(0), rev1=False, nonce_limit=None)._limit == 1 << 32
    assert onwire._NonceCounter(_rev1_nonce(0), rev1=True, nonce_limit=None)._limit == 1 << 64


def test_bad_keys_and_nonces_are_refused() -> None:
    with pytest.raises(DecodeError, match=r"^AES-128 key must be 16 bytes$"):
        GcmTx(KEY[:15], _rev1_nonce(0))
    with pytest.raises(DecodeError, match=r"^AES-128 key must be 16 bytes$"):
        GcmRx(KEY + b"x", _rev1_nonce(0))
    with pytest.raises(DecodeError, match=r"^GCM nonce must be 12 bytes, got 11$"):
        GcmTx(KEY, _rev1_nonce(0)[:11])


@pytest.mark.parametrize("in_place", [False, True])
def test_decrypt_refuses_short_and_tampered_messages(in_place: bool) -> None:
    tx, rx = GcmTx(KEY, _rev1_nonce(0)), GcmRx(KEY, _rev1_nonce(0))

    def dec(data: bytes) -> bytes:
        if in_place:
            return bytes(rx.decrypt_in_place(memoryview(bytearray(data))))
        return bytes(rx.decrypt(data))

    with pytest.raises(DecryptError, match=r"^GCM message shorter than its tag$"):
        dec(bytes(GCM_TAG_LEN - 1))
    assert rx.nonces_used == 0  # a refused length takes no nonce
    good = bytes(tx.encrypt(b"payload"))
    bad = bytearray(good)
    bad[0] ^= 1
    with pytest.raises(DecryptError, match=r"^AES-GCM tag mismatch$"):
        dec(bytes(bad))
    # the next message uses the next nonce on both sides
    assert dec(bytes(tx.encrypt(b"next"))) == b"next"
    assert dec(bytes(GcmTx(KEY, _rev1_nonce(2)).encrypt(b""))) == b""  # the third nonce


def test_empty_message_is_just_a_tag() -> None:
    tx, rx = GcmTx(KEY, _rev1_nonce(0)), GcmRx(KEY, _rev1_nonce(0))
    sealed = tx.encrypt(b"")
    assert len(sealed) == GCM_TAG_LEN
    assert rx.decrypt(sealed) == b""


def test_in_place_round_trip_matches_the_reference() -> None:
    tx, rx = GcmTx(KEY, _rev1_nonce(9)), GcmRx(KEY, _rev1_nonce(9))
    buf = bytearray(b"secret data" + bytes(GCM_TAG_LEN))
    sealed = tx.encrypt_in_place(buf)
    assert bytes(sealed) == AESGCM(KEY).encrypt(_rev1_nonce(9), b"secret data", None)
    assert len(sealed) == len(buf)
    plain = rx.decrypt_in_place(memoryview(bytearray(sealed)))
    assert bytes(plain) == b"secret data"


def test_streaming_decrypt() -> None:
    tx, rx = GcmTx(KEY, _rev1_nonce(0)), GcmRx(KEY, _rev1_nonce(0))
    sealed = bytes(tx.encrypt(b"0123456789abcdef-tail"))
    body, tag = sealed[:-GCM_TAG_LEN], sealed[-GCM_TAG_LEN:]
    assert rx.stream_begin(body[:16]) == b"0123456789abcdef"
    assert rx.stream_finish(body[16:], tag) == b"-tail"
    assert rx.nonces_used == 1
    with pytest.raises(DecryptError, match=r"^no streaming GCM message in progress$"):
        rx.stream_finish(b"", tag)
    sealed2 = bytearray(tx.encrypt(b"0123456789abcdef"))
    sealed2[-1] ^= 1
    rx.stream_begin(bytes(sealed2[:8]))
    with pytest.raises(DecryptError, match=r"^AES-GCM tag mismatch$"):
        rx.stream_finish(bytes(sealed2[8:-GCM_TAG_LEN]), bytes(sealed2[-GCM_TAG_LEN:]))


def test_connection_secret_split() -> None:
    secret = bytes(range(64))
    client = SecureKeys.from_connection_secret(secret, crossed=False)
    server = SecureKeys.from_connection_secret(secret, crossed=True)
    assert client.key == server.key == secret[:16]
    assert client.rx_nonce == server.tx_nonce == secret[16:28]   # server to client
    assert client.tx_nonce == server.rx_nonce == secret[28:40]   # client to server
    ctx, crx = client.handlers()
    stx, srx = server.handlers()
    assert srx.decrypt(ctx.encrypt(b"c2s")) == b"c2s"
    assert crx.decrypt(stx.encrypt(b"s2c")) == b"s2c"
    assert SecureKeys.from_connection_secret(secret[:40], crossed=False).tx_nonce == \
        secret[28:40]
    with pytest.raises(DecodeError,
                       match=r"^connection secret of 39 bytes is too short for secure mode$"):
        SecureKeys.from_connection_secret(secret[:39], crossed=False)


def test_handlers_pass_rev_and_limit() -> None:
    keys = SecureKeys(KEY, rx_nonce=_rev0_nonce(7), tx_nonce=_rev0_nonce(7))
    tx, rx = keys.handlers(rev1=False, nonce_limit=1)
    assert tx.next_nonce() == _rev0_nonce(7)
    assert rx.decrypt(tx.encrypt(b"z")) == b"z"
    assert tx.next_nonce() == _rev0_nonce(8)
    with pytest.raises(NonceExhausted):
        tx.encrypt(b"z")
    with pytest.raises(DecryptError, match=r"^receive nonce counter exhausted$"):
        rx.decrypt(bytes(GCM_TAG_LEN))


def test_scratch_pool_limits() -> None:
    tx = GcmTx(KEY, _rev1_nonce(0))
    small = tx.scratch(onwire._POOL_MIN - 1)
    assert len(small) == onwire._POOL_MIN - 1
    assert tx.scratch(onwire._POOL_MIN - 1) is not small  # small ones are not kept
    assert tx._pool == []
    size = onwire._POOL_MIN
    held = [tx.scratch(size) for _ in range(onwire._POOL_MAX)]
    assert len({id(b) for b in held}) == onwire._POOL_MAX  # all in use: all new
    assert len(tx._pool) == onwire._POOL_MAX
    extra = tx.scratch(size)  # pool full and busy: a buffer that is not pooled
    assert all(extra is not b for b in tx._pool)
    del extra
    held.pop()  # now only the pool holds that one
    again = tx.scratch(size)  # the free one of the same size is reused
    assert any(again is b for b in tx._pool)
    held.append(again)
    del again
    held.pop()  # free again
    other = tx.scratch(size + 1)  # another size, pool full: the free one is evicted
    assert other is not None
    assert len(other) == size + 1
    assert any(other is b for b in tx._pool)
    assert len(tx._pool) == onwire._POOL_MAX


def test_in_place_probe_matches_the_installed_library() -> None:
    """IN_PLACE says whether encrypt_into/decrypt_into may overlap (cryptography up
    to 50 allows it, 51 refuses): probed once, the probe agrees with a direct try."""
    aead = AESGCM(KEY)
    buf = bytearray(32 + GCM_TAG_LEN)
    try:
        aead.encrypt_into(bytes(12), memoryview(buf)[:32], None, buf)
        allowed = True
    except ValueError:
        allowed = False
    assert onwire._in_place_allowed() is allowed
    assert onwire.IN_PLACE is allowed


def test_default_handlers_are_rev1() -> None:
    keys = SecureKeys(KEY, rx_nonce=_rev1_nonce(7), tx_nonce=_rev1_nonce(7))
    tx, rx = keys.handlers()
    tx.encrypt(b"")
    assert tx.next_nonce() == _rev1_nonce(8)  # the counter after the fixed part
    rx.decrypt(GcmTx(KEY, _rev1_nonce(7)).encrypt(b""))
