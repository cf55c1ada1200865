"""cephx message signatures of msgr v1 (wire-protocol.md §4.4).

A session set up with a cephx authorizer signs every message with the
ticket's session key when ``cephx_sign_messages`` is on and the peer has
MSG_AUTH. With CEPHX_V2 (every peer since Luminous) the 32-byte block
``le32 header_crc, front_crc, front_len, middle_crc, middle_len, data_crc,
data_len, seq (low 32 bits)`` is encrypted with AES-128-CBC and the signature
is the XOR of the first four little-endian u64 words of the ciphertext.
"""

from __future__ import annotations

import struct

from asyncmsgr.auth.cephx.crypto import aes_encrypt
from asyncmsgr.auth.keyring import CryptoKey
from asyncmsgr.message import MsgFooter, MsgHeader

_SIG_BLOCK = struct.Struct("<8I")
_FOUR_U64 = struct.Struct("<4Q")


def signature_of(key: CryptoKey | bytes, header_crc: int, front_crc: int, front_len: int,
                 middle_crc: int, middle_len: int, data_crc: int, data_len: int,
                 seq: int) -> int:
    """The CEPHX_V2 signature from the crcs and lengths (the send/receive hot path)."""
    block = _SIG_BLOCK.pack(header_crc, front_crc, front_len, middle_crc, middle_len,
                            data_crc, data_len, seq & 0xFFFFFFFF)
    a, b, c, d = _FOUR_U64.unpack_from(aes_encrypt(key, block), 0)
    sig: int = a ^ b ^ c ^ d
    return sig


def message_signature(key: CryptoKey | bytes, header: MsgHeader, footer: MsgFooter) -> int:
    """The CEPHX_V2 signature of a message (its header crc and footer crcs set)."""
    return signature_of(key, header.crc, footer.front_crc, header.front_len,
                        footer.middle_crc, header.middle_len, footer.data_crc,
                        header.data_len, header.seq)


__all__ = ["message_signature", "signature_of"]
