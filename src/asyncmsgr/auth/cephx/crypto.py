"""cephx crypto primitives (wire-protocol.md §6.1).

* :func:`aes_encrypt` / :func:`aes_decrypt`: AES-128-CBC with Ceph's fixed IV
  ``"cephsageyudagreg"`` and PKCS#7 padding (1..16 bytes, always present).
* :func:`enc_bl` / :func:`dec_bl`: encrypt ``u8 1 | u64 AUTH_ENC_MAGIC |
  payload`` (Ceph's ``encode_encrypt_enc_bl``); decryption checks the magic.
* :func:`encode_encrypt` / :func:`decode_decrypt`: the same as a bufferlist
  (``u32 len`` + ciphertext), which is what most cephx fields carry.
* :func:`challenge_key`: the client's proof, the XOR of the LE u64 words of
  ``encode_encrypt(secret, CephXChallengeBlob)`` including its length prefix.

Every failure on received data is :class:`~asyncmsgr.errors.CephxDecryptError`
(a DecodeError); lengths are checked before anything is decrypted.
"""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from asyncmsgr.auth.keyring import AES_KEY_LEN, CRYPTO_AES, CryptoKey
from asyncmsgr.errors import CephxDecryptError, DecodeError, EncodeError
from asyncmsgr.types import Buffer
from asyncmsgr.wire.buffer import Reader, Writer

CEPH_AES_IV = b"cephsageyudagreg"
AUTH_ENC_MAGIC = 0xFF009CAD8826AA55
BLOCK = 16
_ENC_HDR = struct.Struct("<BQ")
_U64 = struct.Struct("<Q")
#: Upper bound on one encrypted cephx blob we accept (Ceph's are < 4 KiB).
MAX_ENC_LEN = 1 << 20


def _secret(key: CryptoKey | bytes) -> bytes:
    secret = key.secret if isinstance(key, CryptoKey) else bytes(key)
    if isinstance(key, CryptoKey) and key.type != CRYPTO_AES:
        raise EncodeError("cephx needs an AES key")
    if len(secret) != AES_KEY_LEN:
        raise EncodeError(f"AES-128 key must be {AES_KEY_LEN} bytes, got {len(secret)}")
    return secret


def aes_encrypt(key: CryptoKey | bytes, plaintext: Buffer) -> bytes:
    """AES-128-CBC, fixed IV, PKCS#7 (an aligned input gets a whole pad block)."""
    data = bytes(plaintext)
    pad = BLOCK - len(data) % BLOCK
    enc = Cipher(algorithms.AES(_secret(key)), modes.CBC(CEPH_AES_IV)).encryptor()
    return enc.update(data + bytes([pad]) * pad) + enc.finalize()


def aes_decrypt(key: CryptoKey | bytes, ciphertext: Buffer) -> bytes:
    """Inverse of :func:`aes_encrypt`; CephxDecryptError on a bad length or padding."""
    n = len(ciphertext)
    if n == 0 or n % BLOCK:
        raise CephxDecryptError(f"AES-CBC ciphertext of {n} bytes is not whole blocks")
    if n > MAX_ENC_LEN:
        raise CephxDecryptError(f"AES-CBC ciphertext of {n} bytes is too large")
    dec = Cipher(algorithms.AES(_secret(key)), modes.CBC(CEPH_AES_IV)).decryptor()
    out = dec.update(bytes(ciphertext)) + dec.finalize()
    pad = out[-1]
    if not 1 <= pad <= BLOCK or out[-pad:] != bytes([pad]) * pad:
        raise CephxDecryptError("bad AES-CBC padding (wrong key?)")
    return out[:-pad]


def enc_bl(key: CryptoKey | bytes, payload: Buffer) -> bytes:
    """Ceph's ``encode_encrypt_enc_bl``: encrypt ``u8 1 | magic | payload``."""
    return aes_encrypt(key, _ENC_HDR.pack(1, AUTH_ENC_MAGIC) + bytes(payload))


def dec_bl(key: CryptoKey | bytes, ciphertext: Buffer) -> bytes:
    """Ceph's ``decode_decrypt_enc_bl``: decrypt and check the magic; returns the
    encoded payload (the caller decodes it)."""
    plain = aes_decrypt(key, ciphertext)
    if len(plain) < _ENC_HDR.size:
        raise CephxDecryptError("decrypted cephx blob too short for its header")
    _v, magic = _ENC_HDR.unpack_from(plain)
    if magic != AUTH_ENC_MAGIC:
        raise CephxDecryptError(f"bad cephx magic {magic:#x} (wrong key?)")
    return plain[_ENC_HDR.size:]


def encode_encrypt(key: CryptoKey | bytes, payload: Buffer) -> bytes:
    """Ceph's ``encode_encrypt``: ``u32 len`` + :func:`enc_bl`."""
    ct = enc_bl(key, payload)
    return struct.pack("<I", len(ct)) + ct


def push_encrypted(w: Writer, key: CryptoKey | bytes, payload: Buffer) -> None:
    """Append ``encode_encrypt(key, payload)``."""
    w.push_blob(enc_bl(key, payload))


def pull_decrypted(r: Reader, key: CryptoKey | bytes) -> Reader:
    """Read one ``encode_encrypt`` field and return a reader over its payload."""
    try:
        ct = r.pull_blob_view()
    except DecodeError as exc:
        raise CephxDecryptError(f"truncated encrypted field: {exc}") from None
    return Reader(dec_bl(key, ct))


def decode_decrypt(key: CryptoKey | bytes, data: Buffer) -> bytes:
    """Decrypt a whole ``encode_encrypt`` buffer; returns the payload."""
    r = Reader(data)
    inner = pull_decrypted(r, key)
    return bytes(inner.pull_rest())


def challenge_key(key: CryptoKey | bytes, server_challenge: int,
                  client_challenge: int) -> int:
    """``cephx_calc_client_server_challenge``: XOR of the LE u64 words of
    ``encode_encrypt(key, CephXChallengeBlob{server, client})`` from its length
    prefix on (whole words only)."""
    blob = encode_encrypt(key, _U64.pack(server_challenge) + _U64.pack(client_challenge))
    k = 0
    for pos in range(0, len(blob) - 7, 8):
        k ^= _U64.unpack_from(blob, pos)[0]
    return k


__all__ = [
    "AUTH_ENC_MAGIC",
    "CEPH_AES_IV",
    "aes_decrypt",
    "aes_encrypt",
    "challenge_key",
    "dec_bl",
    "decode_decrypt",
    "enc_bl",
    "encode_encrypt",
    "pull_decrypted",
    "push_encrypted",
]
