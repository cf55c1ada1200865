"""msgr2 secure mode: AES-128-GCM per direction, keys and nonces from cephx.

The connection secret (64 bytes in secure mode) splits into the AES key
``[0:16]``, the server->client nonce ``[16:28]`` and the client->server nonce
``[28:40]`` (wire-protocol.md §5.6). The client transmits with the c2s nonce and
receives with the s2c nonce; the server ("crossed") does the opposite.

A nonce is 12 bytes and is used as is for the first GCM message in a direction,
then advanced after every message:

* msgr2.1 (rev1): ``le32 fixed | le64 counter``, the counter increments;
* msgr2.0 (rev0): the leading ``le32`` increments.

A nonce must never repeat under one key (CVE-2020-1759): the handler raises
:class:`~asyncmsgr.errors.NonceExhausted` instead of wrapping, and the connection
must fault and re-authenticate. ``nonce_limit`` (the number of distinct nonces)
is 2**64 for rev1 and 2**32 for rev0; tests pass a small value.
"""

from __future__ import annotations

import struct
import sys
from _operator import _compare_digest
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import (
    AEADDecryptionContext,
    Cipher,
    algorithms,
    modes,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from asyncmsgr.errors import DecodeError, DecryptError, NonceExhausted
from asyncmsgr.record import Record
from asyncmsgr.types import Buffer

GCM_TAG_LEN = 16
AES_KEY_LEN = 16
NONCE_LEN = 12
CONNECTION_SECRET_LEN = 64

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def _in_place_allowed(aead_class: Callable[[bytes], AESGCM] = AESGCM) -> bool:
    """Whether this ``cryptography`` lets ``encrypt_into``/``decrypt_into`` write
    over their input (up to 50 it does; 51 refuses any overlap with ValueError).

    ``aead_class`` builds the AEAD to probe (tests pass one with the other rule).
    """
    aead = aead_class(bytes(AES_KEY_LEN))
    buf = bytearray(32 + GCM_TAG_LEN)
    try:
        with memoryview(buf)[:32] as plain:
            aead.encrypt_into(bytes(NONCE_LEN), plain, None, buf)
        with memoryview(buf)[:32] as out:
            aead.decrypt_into(bytes(NONCE_LEN), buf, None, out)
    except ValueError:
        return False
    return True


#: In-place AES-GCM works with the installed ``cryptography`` (probed once).
IN_PLACE = _in_place_allowed()


class _NonceCounter:
    """A 12-byte GCM nonce advanced per message, refusing to repeat."""

    __slots__ = ("_fixed", "_limit", "_rev1", "_used", "_value")

    def __init__(self, nonce: bytes, *, rev1: bool, nonce_limit: int | None) -> None:
        if len(nonce) != NONCE_LEN:
            raise DecodeError(f"GCM nonce must be {NONCE_LEN} bytes, got {len(nonce)}")
        self._rev1 = rev1
        if rev1:
            self._fixed = nonce[:4]
            self._value = _U64.unpack_from(nonce, 4)[0]
        else:
            self._fixed = nonce[4:]
            self._value = _U32.unpack_from(nonce, 0)[0]
        self._limit = nonce_limit if nonce_limit is not None else (1 << 64 if rev1 else 1 << 32)
        self._used = 0

    @property
    def used(self) -> int:
        """How many nonces have been handed out."""
        return self._used

    def take(self) -> bytes:
        """The nonce for the next GCM message; raises NonceExhausted at the limit."""
        if self._used >= self._limit:
            raise NonceExhausted("out of nonces: the GCM nonce counter would repeat")
        self._used += 1
        if self._rev1:
            nonce = self._fixed + _U64.pack(self._value)
            self._value = (self._value + 1) & 0xFFFFFFFFFFFFFFFF
        else:
            nonce = _U32.pack(self._value) + self._fixed
            self._value = (self._value + 1) & 0xFFFFFFFF
        return nonce

    def peek(self) -> bytes:
        """The nonce the next :meth:`take` will return (for logs and tests)."""
        if self._rev1:
            return self._fixed + _U64.pack(self._value)
        return _U32.pack(self._value) + self._fixed


#: Buffers below this size are not recycled; at most _POOL_MAX are kept.
_POOL_MIN = 256 * 1024
_POOL_MAX = 4


class GcmTx:
    """Encrypting side of one direction."""

    __slots__ = ("_aead", "_nonce", "_pool")

    def __init__(self, key: bytes, nonce: bytes, *, rev1: bool = True,
                 nonce_limit: int | None = None) -> None:
        if len(key) != AES_KEY_LEN:
            raise DecodeError(f"AES-128 key must be {AES_KEY_LEN} bytes")
        self._aead = AESGCM(key)
        self._nonce = _NonceCounter(nonce, rev1=rev1, nonce_limit=nonce_limit)
        self._pool: list[bytearray] = []

    def scratch(self, size: int) -> bytearray:
        """A ``size``-byte buffer for :meth:`encrypt_in_place` (contents undefined).

        Large buffers are recycled once nothing else references them (the socket
        layer dropped its chunk and views): fresh multi-MiB allocations cost page
        faults on every frame. The caller must write every byte it sends.
        """
        if size < _POOL_MIN:
            return bytearray(size)
        pool = self._pool
        for i in range(len(pool)):
            # Referenced by the list, getrefcount's argument and nothing else: free.
            if len(pool[i]) == size and sys.getrefcount(pool[i]) <= 2:
                return pool[i]
        buf = bytearray(size)
        if len(pool) >= _POOL_MAX:
            for i in range(len(pool)):
                if sys.getrefcount(pool[i]) <= 2:
                    del pool[i]
                    break
            else:
                return buf
        pool.append(buf)
        return buf

    @property
    def nonces_used(self) -> int:
        """GCM messages encrypted so far."""
        return self._nonce.used

    def next_nonce(self) -> bytes:
        """The nonce of the next message (does not consume it)."""
        return self._nonce.peek()

    def encrypt(self, plaintext: Buffer) -> bytearray:
        """One GCM message: ciphertext followed by the 16-byte tag, in a new buffer."""
        nonce = self._nonce.take()
        out = bytearray(len(plaintext) + GCM_TAG_LEN)
        self._aead.encrypt_into(nonce, plaintext, None, out)
        return out

    def encrypt_in_place(self, buf: bytearray) -> bytearray:
        """One GCM message over ``buf[:-16]``, written over ``buf`` itself (the
        last 16 bytes receive the tag): no allocation, no copy. Where the
        installed ``cryptography`` refuses overlapping buffers (:data:`IN_PLACE`
        false) the result is a new buffer: always use the returned one."""
        nonce = self._nonce.take()
        view = memoryview(buf)
        out = buf if IN_PLACE else bytearray(len(buf))
        with view[:len(buf) - GCM_TAG_LEN] as plain:
            self._aead.encrypt_into(nonce, plain, None, out)
        return out


class GcmRx:
    """Decrypting side of one direction."""

    __slots__ = ("_aead", "_key", "_nonce", "_stream")

    def __init__(self, key: bytes, nonce: bytes, *, rev1: bool = True,
                 nonce_limit: int | None = None) -> None:
        if len(key) != AES_KEY_LEN:
            raise DecodeError(f"AES-128 key must be {AES_KEY_LEN} bytes")
        self._key = key
        self._aead = AESGCM(key)
        self._nonce = _NonceCounter(nonce, rev1=rev1, nonce_limit=nonce_limit)
        self._stream: AEADDecryptionContext | None = None

    @property
    def nonces_used(self) -> int:
        """GCM messages decrypted (or attempted) so far."""
        return self._nonce.used

    def decrypt(self, ciphertext_and_tag: Buffer) -> bytearray:
        """Verify and decrypt one GCM message; DecryptError if the tag is wrong."""
        n = len(ciphertext_and_tag)
        if n < GCM_TAG_LEN:
            raise DecryptError("GCM message shorter than its tag")
        nonce = self._take()
        out = bytearray(n - GCM_TAG_LEN)
        try:
            self._aead.decrypt_into(nonce, ciphertext_and_tag, None, out)
        except InvalidTag:
            raise DecryptError("AES-GCM tag mismatch") from None
        return out

    def decrypt_in_place(self, ciphertext_and_tag: memoryview) -> memoryview:
        """Like :meth:`decrypt`, writing the plaintext over the ciphertext (the
        buffer must be writable and owned by the caller); returns its view. Where
        the installed ``cryptography`` refuses overlapping buffers (:data:`IN_PLACE`
        false) the plaintext goes to a new buffer instead."""
        n = len(ciphertext_and_tag)
        if n < GCM_TAG_LEN:
            raise DecryptError("GCM message shorter than its tag")
        nonce = self._take()
        out = ciphertext_and_tag[:n - GCM_TAG_LEN] if IN_PLACE else \
            memoryview(bytearray(n - GCM_TAG_LEN))
        try:
            self._aead.decrypt_into(nonce, ciphertext_and_tag, None, out)
        except InvalidTag:
            raise DecryptError("AES-GCM tag mismatch") from None
        return out

    def _take(self) -> bytes:
        try:
            return self._nonce.take()
        except NonceExhausted as exc:
            raise DecryptError("receive nonce counter exhausted") from exc

    # rev0 decrypts its preamble before the frame's tag can be checked.
    def stream_begin(self, head_ciphertext: Buffer) -> bytes:
        """Start a streaming message: decrypt (unauthenticated) its first bytes."""
        nonce = self._take()
        dec = Cipher(algorithms.AES(self._key), modes.GCM(nonce)).decryptor()
        self._stream = dec
        return dec.update(bytes(head_ciphertext))

    def stream_finish(self, rest_ciphertext: Buffer, tag: Buffer) -> bytes:
        """Decrypt the rest of a streaming message and verify the tag."""
        dec = self._stream
        if dec is None:
            raise DecryptError("no streaming GCM message in progress")
        self._stream = None
        try:
            out = dec.update(bytes(rest_ciphertext))
            dec.finalize_with_tag(bytes(tag))
        except (InvalidTag, ValueError):
            raise DecryptError("AES-GCM tag mismatch") from None
        return out


_set = object.__setattr__  # what a frozen class's __init__ assigns with


def hmac_sha256(key: bytes, data: Buffer) -> bytes:
    """HMAC-SHA256 of ``data`` (msgr2's AUTH_SIGNATURE). Computed with the
    ``cryptography`` library, already loaded for AES: the ``hmac`` module would
    load a second OpenSSL (``_hashlib``) into a one-shot command."""
    h = hmac.HMAC(key, hashes.SHA256())
    h.update(data)
    return h.finalize()


def digests_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two digests: CPython's C function behind
    ``hmac.compare_digest`` (which ``hmac`` itself falls back to), without
    importing ``hmac`` and the OpenSSL it loads."""
    return _compare_digest(a, b)


class SecureKeys(Record):
    """Key material for both directions, split out of a connection secret."""

    key: bytes
    rx_nonce: bytes
    tx_nonce: bytes

    __slots__ = ("key", "rx_nonce", "tx_nonce")

    def __init__(self, key: bytes, rx_nonce: bytes, tx_nonce: bytes) -> None:
        _set(self, "key", key)
        _set(self, "rx_nonce", rx_nonce)
        _set(self, "tx_nonce", tx_nonce)

    @classmethod
    def from_connection_secret(cls, secret: bytes, *, crossed: bool) -> SecureKeys:
        """Split a 64-byte secret; ``crossed`` is True on the server side."""
        if len(secret) < 40:
            raise DecodeError(
                f"connection secret of {len(secret)} bytes is too short for secure mode"
            )
        key = bytes(secret[0:16])
        s2c = bytes(secret[16:28])
        c2s = bytes(secret[28:40])
        if crossed:
            return cls(key, rx_nonce=c2s, tx_nonce=s2c)
        return cls(key, rx_nonce=s2c, tx_nonce=c2s)

    def handlers(self, *, rev1: bool = True,
                 nonce_limit: int | None = None) -> tuple[GcmTx, GcmRx]:
        """Fresh (tx, rx) handlers for a connection."""
        return (GcmTx(self.key, self.tx_nonce, rev1=rev1, nonce_limit=nonce_limit),
                GcmRx(self.key, self.rx_nonce, rev1=rev1, nonce_limit=nonce_limit))


__all__ = [
    "AES_KEY_LEN",
    "CONNECTION_SECRET_LEN",
    "GCM_TAG_LEN",
    "IN_PLACE",
    "NONCE_LEN",
    "GcmRx",
    "GcmTx",
    "SecureKeys",
    "digests_equal",
    "hmac_sha256",
]
