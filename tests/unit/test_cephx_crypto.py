"""cephx primitives: AES-CBC padding, enc_bl magic, keys, keyrings, struct round trips,
and bad input (typed errors only, lengths checked before work)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from asyncmsgr.auth.cephx.crypto import (
    AUTH_ENC_MAGIC,
    aes_decrypt,
    aes_encrypt,
    dec_bl,
    decode_decrypt,
    enc_bl,
    encode_encrypt,
)
from asyncmsgr.auth.cephx.tickets import TicketGrant, decode_ticket_reply, encode_ticket_reply
from asyncmsgr.auth.cephx.types import (
    AuthCapsInfo,
    AuthTicket,
    CephXAuthenticate,
    CephXAuthorize,
    CephXAuthorizeChallenge,
    CephXAuthorizer,
    CephXAuthorizeReply,
    CephXChallengeBlob,
    CephXRequestHeader,
    CephXResponseHeader,
    CephXServerChallenge,
    CephXServiceTicket,
    CephXServiceTicketInfo,
    CephXServiceTicketRequest,
    CephXTicketBlob,
)
from asyncmsgr.auth.keyring import CryptoKey, Keyring
from asyncmsgr.errors import CephxDecryptError, DecodeError, EncodeError, KeyringError
from asyncmsgr.types import AuthName, EntityType, UTime
from asyncmsgr.wire.buffer import Reader, Writer

KEY = CryptoKey.aes(bytes.fromhex("d35f45127cf0b8e0114d33c5604564ae"),
                    UTime(0x6B061CDE, 0x1F2C83EA))
OTHER = CryptoKey.aes(bytes(range(16)))
ADMIN_B64 = "AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg=="

u64 = st.integers(0, 2**64 - 1)
u32 = st.integers(0, 2**32 - 1)
utimes = st.builds(UTime, u32, st.integers(0, 999_999_999))
keys = st.builds(CryptoKey.aes, st.binary(min_size=16, max_size=16), utimes)
names = st.builds(AuthName, st.sampled_from([1, 2, 4, 8, 16]),
                  st.text(max_size=12))
blobs = st.builds(CephXTicketBlob, u64, st.binary(max_size=64))
caps = st.builds(AuthCapsInfo, st.booleans(), st.binary(max_size=32))
tickets = st.builds(AuthTicket, names, u64, utimes, utimes, caps, u32, u64)

STRUCTS: list[st.SearchStrategy[Any]] = [
    st.builds(CephXServerChallenge, u64),
    st.builds(CephXRequestHeader, st.integers(0, 0xFFFF)),
    st.builds(CephXResponseHeader, st.integers(0, 0xFFFF), st.integers(-(2**31), 2**31 - 1)),
    blobs,
    st.builds(CephXAuthenticate, u64, u64, blobs, u32, st.sampled_from([2, 3])),
    st.builds(CephXChallengeBlob, u64, u64),
    st.builds(CephXServiceTicket, keys, utimes),
    caps,
    tickets,
    st.builds(CephXServiceTicketInfo, tickets, keys),
    st.builds(CephXAuthorize, u64, st.booleans(), u64),
    st.builds(CephXAuthorizer, u64, u32, blobs, st.binary(max_size=48)),
    st.builds(CephXAuthorizeChallenge, u64),
    st.builds(CephXAuthorizeReply, u64, st.binary(max_size=64)),
    st.builds(CephXServiceTicketRequest, u32),
]


# -- AES-CBC -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 31, 32, 33])
def test_cbc_padding_lengths(n: int) -> None:
    ct = aes_encrypt(KEY, bytes(n))
    assert len(ct) == (n // 16 + 1) * 16  # aligned input: a whole pad block
    assert aes_decrypt(KEY, ct) == bytes(n)


def test_cbc_uses_ceph_iv() -> None:
    # first block of enc_bl(challenge blob) from wire-protocol.md §6.3
    out = enc_bl(KEY, bytes.fromhex("9df01e53f0f5267cd7ee1a2c62f82c36"))
    assert out[:8].hex() == "53086085eb938eed"


@given(st.binary(max_size=100))
def test_cbc_round_trip(data: bytes) -> None:
    assert aes_decrypt(KEY, aes_encrypt(KEY, data)) == data
    assert dec_bl(KEY, enc_bl(KEY, data)) == data
    assert decode_decrypt(KEY, encode_encrypt(KEY, data)) == data


@pytest.mark.parametrize("ct", [b"", bytes(15), bytes(17), bytes(33)])
def test_cbc_bad_lengths(ct: bytes) -> None:
    with pytest.raises(CephxDecryptError, match="whole blocks"):
        aes_decrypt(KEY, ct)


def _raw_cbc(plain: bytes) -> bytes:
    enc = Cipher(algorithms.AES(KEY.secret), modes.CBC(b"cephsageyudagreg")).encryptor()
    return enc.update(plain) + enc.finalize()


@pytest.mark.parametrize("tail", [b"\x00", b"\x11", bytes([3, 2, 3]), bytes([0xFF])])
def test_cbc_bad_padding(tail: bytes) -> None:
    plain = bytes(16 - len(tail)) + tail
    with pytest.raises(CephxDecryptError, match="padding"):
        aes_decrypt(KEY, _raw_cbc(plain))


def test_wrong_key_and_bad_magic() -> None:
    ct = enc_bl(KEY, b"hello")
    with pytest.raises(CephxDecryptError):  # padding or magic: never plaintext
        dec_bl(OTHER, ct)
    bad = aes_encrypt(KEY, struct.pack("<BQ", 1, AUTH_ENC_MAGIC ^ 1) + b"x")
    with pytest.raises(CephxDecryptError, match="magic"):
        dec_bl(KEY, bad)
    with pytest.raises(CephxDecryptError, match="too short"):
        dec_bl(KEY, aes_encrypt(KEY, b"\x01\x02"))


def test_encode_encrypt_huge_length_is_rejected_before_decrypting() -> None:
    with pytest.raises(CephxDecryptError, match="truncated"):
        decode_decrypt(KEY, struct.pack("<I", 0xFFFFFFF0) + bytes(32))
    with pytest.raises(CephxDecryptError, match="truncated"):
        decode_decrypt(KEY, b"\x20\x00")


def test_key_must_be_aes_128() -> None:
    with pytest.raises(EncodeError):
        CryptoKey.aes(bytes(15))
    with pytest.raises(EncodeError):
        aes_encrypt(bytes(8), b"x")


# -- keys and keyrings ----------------------------------------------------------------


def test_crypto_key_encoding() -> None:
    k = CryptoKey.from_base64(ADMIN_B64)
    assert k.to_bytes().hex() == ("0100" "de1c066b" "ea832c1f" "1000"
                                  "d35f45127cf0b8e0114d33c5604564ae")
    assert k == KEY
    assert k.to_base64() == ADMIN_B64
    assert "d35f" not in repr(k)


@given(keys)
def test_crypto_key_round_trip(k: CryptoKey) -> None:
    assert CryptoKey.from_bytes(k.to_bytes()) == k
    assert CryptoKey.from_base64(k.to_base64()) == k


@pytest.mark.parametrize("raw", [
    "0100 00000000 00000000 0f00" + "00" * 15,  # AES with 15 bytes
    "0200 00000000 00000000 1000" + "00" * 16,  # unknown type
    "0100 00000000 00000000 1000" + "00" * 8,  # truncated
    "0100 0000",
])
def test_crypto_key_bad_input(raw: str) -> None:
    with pytest.raises(DecodeError):
        CryptoKey.from_bytes(bytes.fromhex(raw.replace(" ", "")))


KEYRING = f"""
# the admin key
[client.admin]
\tkey = {ADMIN_B64}
\tcaps mon = "allow *"
    caps  osd='allow rw'   ; trailing comment
[mon.]
key={CryptoKey.aes(bytes(16)).to_base64()}
  [ osd.0 ]
   key   =   "{CryptoKey.aes(bytes(range(16))).to_base64()}"
   auid = 0
"""


def test_keyring_parses_ceph_format() -> None:
    kr = Keyring.from_text(KEYRING)
    assert kr.get("client.admin") == KEY
    assert kr.get(AuthName(EntityType.CLIENT, "admin")) == KEY
    assert kr.entry("client.admin").caps == {"mon": "allow *", "osd": "allow rw"}
    assert kr.get("mon.").secret == bytes(16)
    assert kr.get("osd.0").secret == bytes(range(16))
    assert "mon." in kr
    assert "osd.1" not in kr
    again = Keyring.from_text(kr.to_text())
    assert again.entries == kr.entries


def test_keyring_from_file(tmp_path: Path) -> None:
    p = tmp_path / "ceph.client.admin.keyring"
    p.write_text(KEYRING)
    assert Keyring.from_file(p).get("client.admin") == KEY
    with pytest.raises(KeyringError, match="does not exist"):
        Keyring.from_file(tmp_path / "missing.keyring")


@pytest.mark.parametrize(("text", "match"), [
    ("[client.admin]\n\tkey = not*base64\n", r"keyring>:2: \[client.admin\]: .*not valid base64"),
    ("[client.admin]\n\tkey = AAAA\n", "not a Ceph key"),
    ("[client.admin]\n\tcaps mon = x\n", "has no 'key =' line"),
    ("key = x\n", "before any"),
    ("[client.admin\n", "unterminated"),
    ("[bogus.x]\nkey=AAAA\n", "unknown entity type"),
    ("[client.admin]\njunk\n", "expected 'name = value'"),
])
def test_keyring_errors_are_readable(text: str, match: str) -> None:
    with pytest.raises(KeyringError, match=match):
        Keyring.from_text(text)


def test_keyring_missing_entity() -> None:
    kr = Keyring.from_text(KEYRING, "/etc/ceph/keyring")
    with pytest.raises(KeyringError, match=r"no key for client.bob in /etc/ceph/keyring "
                                           r"\(it has: client.admin, mon., osd.0\)"):
        kr.get("client.bob")


# -- structs ---------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRUCTS, ids=lambda s: repr(s)[:40])
@given(data=st.data())
def test_struct_round_trip(strategy: st.SearchStrategy[Any], data: st.DataObject) -> None:
    value = data.draw(strategy)
    enc = value.to_bytes()
    assert type(value).from_bytes(enc) == value
    # every strict prefix is a DecodeError, never another exception
    for cut in range(len(enc)):
        try:
            type(value).from_bytes(enc[:cut])
        except DecodeError:
            continue
        # a prefix may decode only when the tail was optional (v<2 fields)
        assert isinstance(value, CephXAuthorizeReply | CephXAuthenticate)


def test_old_struct_versions() -> None:
    assert CephXAuthorize.from_bytes(b"\x01" + bytes(8)) == CephXAuthorize(0)
    assert CephXAuthorizeReply.from_bytes(b"\x01" + (5).to_bytes(8, "little")) == \
        CephXAuthorizeReply(5)
    v1 = CephXAuthenticate(1, 2, CephXTicketBlob(), 0, 1)
    assert CephXAuthenticate.from_bytes(v1.to_bytes()) == v1
    with pytest.raises(DecodeError, match="struct_v 0"):
        CephXServerChallenge.from_bytes(bytes(9))


def test_huge_lengths_are_rejected() -> None:
    with pytest.raises(DecodeError, match="exceeds"):
        CephXTicketBlob.from_bytes(b"\x01" + bytes(8) + b"\xff\xff\xff\xff")
    w = Writer()
    w.push_u8(1)
    w.push_u32(0xFFFFFFFF)
    with pytest.raises(DecodeError, match="count"):
        decode_ticket_reply(Reader(w.getvalue()), KEY, 0.0, {})


@given(st.lists(st.builds(TicketGrant, st.sampled_from([1, 4, 16, 32]), keys, utimes,
                          blobs), max_size=4), st.booleans())
def test_ticket_reply_round_trip(grants: list[TicketGrant], enc_ticket: bool) -> None:
    w = Writer()
    encode_ticket_reply(w, KEY, grants, OTHER if enc_ticket else None)
    old = {g.service_id: OTHER for g in grants}
    out = decode_ticket_reply(Reader(w.getvalue()), KEY, 100.0, old)
    assert [(t.service_id, t.session_key, t.ticket) for t in out] == \
        [(g.service_id, g.session_key, g.ticket) for g in grants]
    for t, g in zip(out, grants, strict=True):
        v = float(g.validity)
        assert t.expires == (100.0 + v if v else 0.0)
        assert t.renew_after == (100.0 + v - g.validity.sec / 4 if v else 0.0)


def test_encrypted_ticket_without_old_key_is_typed() -> None:
    w = Writer()
    g = TicketGrant(32, KEY, UTime(10), CephXTicketBlob(1, b"x"))
    encode_ticket_reply(w, KEY, [g], OTHER)
    with pytest.raises(CephxDecryptError, match="no old session key"):
        decode_ticket_reply(Reader(w.getvalue()), KEY, 0.0, {})
    with pytest.raises(CephxDecryptError):
        decode_ticket_reply(Reader(w.getvalue()), KEY, 0.0, {32: KEY})
