"""auth/base.py, auth/none.py, auth/keyring.py, the cephx package's lazy names and
the cephx crypto helpers' edge cases, driven directly (no protocol machine).

Facts checked against Ceph Pacific: the ``ms_*_mode`` defaults (options.cc:
``crc secure`` for cluster/service/client, ``secure crc`` for the mon ones),
AuthNoneClientHandler (``u8 AUTH_MODE_MON | EntityName | u64 global_id`` to a
mon, an authorizer ``u8 1 | EntityName | u64 global_id`` elsewhere) and
KeyRing.cc (``key``/``caps <svc>`` lines, quotes, comments)."""

from __future__ import annotations

import errno
import locale
import os
from itertools import count
from pathlib import Path

import pytest

from asyncmsgr.auth import cephx as cephx_pkg
from asyncmsgr.auth.base import (
    AuthConnectionMeta,
    AuthPeer,
    AuthReply,
    ModeOptions,
    parse_auth_methods,
    parse_con_modes,
)
from asyncmsgr.auth.cephx import client, keyserver, server
from asyncmsgr.auth.cephx.crypto import (
    MAX_ENC_LEN,
    aes_decrypt,
    aes_encrypt,
    dec_bl,
    encode_encrypt,
)
from asyncmsgr.auth.keyring import CRYPTO_AES, CRYPTO_NONE, CryptoKey, Keyring, KeyringEntry
from asyncmsgr.auth.none import (
    AUTH_MODE_AUTHORIZER,
    AUTH_MODE_MON,
    AuthNoneClient,
    AuthNoneServer,
    decode_none_payload,
    encode_none_payload,
)
from asyncmsgr.errors import (
    AuthFailed,
    CephxDecryptError,
    DecodeError,
    EncodeError,
    KeyringError,
)
from asyncmsgr.frames.v2 import (
    AUTH_CEPHX,
    AUTH_NONE,
    AUTH_UNKNOWN,
    CON_MODE_CRC,
    CON_MODE_SECURE,
    CON_MODE_UNKNOWN,
)
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType, UTime
from asyncmsgr.wire.buffer import Writer

CRC, SECURE = CON_MODE_CRC, CON_MODE_SECURE
ADMIN = AuthName(EntityType.CLIENT, "admin")
KEY = CryptoKey.from_base64("AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==")


def peer(peer_type: int, my_type: int = EntityType.CLIENT) -> AuthPeer:
    return AuthPeer(peer_type=peer_type, peer_addrs=EntityAddrVec(), my_type=my_type)


# -- base.py -------------------------------------------------------------------------


def test_parse_con_modes_and_methods() -> None:
    assert parse_con_modes("secure crc") == (SECURE, CRC)
    assert parse_con_modes("crc,secure") == (CRC, SECURE)
    assert parse_con_modes("CRC, Secure, crc") == (CRC, SECURE)
    assert parse_con_modes("") == ()
    assert parse_auth_methods("cephx, none") == (AUTH_CEPHX, AUTH_NONE)
    assert parse_auth_methods("none,cephx,NONE") == (AUTH_NONE, AUTH_CEPHX)
    with pytest.raises(ValueError, match=r"^unknown connection mode 'gcm' \(want crc or "
                       r"secure\)$"):
        parse_con_modes("crc gcm")
    with pytest.raises(ValueError, match=r"^unknown auth method 'krb' \(want cephx or "
                       r"none\)$"):
        parse_auth_methods("cephx krb")


def test_mode_options_defaults_are_ceph_pacific_defaults() -> None:
    m = ModeOptions()
    assert (m.cluster, m.service, m.client) == ("crc secure",) * 3
    assert (m.mon_cluster, m.mon_service, m.mon_client) == ("secure crc",) * 3


def test_modes_for_picks_the_option_by_role() -> None:
    m = ModeOptions(cluster="crc", service="secure", client="secure crc",
                    mon_cluster="crc secure", mon_service="secure", mon_client="crc")
    MON, OSD, CLIENT, MGR = EntityType.MON, EntityType.OSD, EntityType.CLIENT, EntityType.MGR
    assert m.modes_for(MON, MON, i_am_client=False) == (CRC, SECURE)      # mon_cluster
    assert m.modes_for(MON, CLIENT, i_am_client=False) == (SECURE,)       # mon_service
    assert m.modes_for(MON, OSD, i_am_client=False) == (SECURE,)          # mon_service
    assert m.modes_for(OSD, MON, i_am_client=False) == (CRC,)             # mon_client
    assert m.modes_for(CLIENT, MON, i_am_client=True) == (CRC,)           # mon_client
    assert m.modes_for(CLIENT, OSD, i_am_client=True) == (SECURE, CRC)    # client
    assert m.modes_for(OSD, CLIENT, i_am_client=False) == (SECURE,)       # service
    assert m.modes_for(OSD, OSD, i_am_client=False) == (CRC,)             # cluster
    assert m.modes_for(OSD, MGR, i_am_client=False) == (CRC,)             # cluster


def test_auth_records_keep_their_values_and_defaults() -> None:
    addrs = EntityAddrVec()
    p = AuthPeer(peer_type=EntityType.OSD, peer_addrs=addrs, my_type=EntityType.CLIENT)
    assert (p.peer_type, p.peer_addrs, p.my_type) == (EntityType.OSD, addrs,
                                                      EntityType.CLIENT)
    assert AuthReply(True, b"x").global_id == 0
    meta = AuthConnectionMeta()
    assert (meta.auth_method, meta.con_mode, meta.session_key, meta.connection_secret,
            meta.peer_name, meta.peer_global_id, meta.allowed_methods, meta.allowed_modes,
            meta.method_state) == (AUTH_UNKNOWN, CON_MODE_UNKNOWN, b"", b"", None, 0, (), (),
                                   {})
    state: dict[str, object] = {"k": 1}
    meta = AuthConnectionMeta(AUTH_CEPHX, SECURE, b"s" * 16, b"c" * 64, ADMIN, 7,
                              (AUTH_CEPHX,), (SECURE,), state)
    assert (meta.auth_method, meta.con_mode, meta.session_key, meta.connection_secret,
            meta.peer_name, meta.peer_global_id, meta.allowed_methods,
            meta.allowed_modes) == (AUTH_CEPHX, SECURE, b"s" * 16, b"c" * 64, ADMIN, 7,
                                    (AUTH_CEPHX,), (SECURE,))
    assert meta.method_state is state
    # each meta has its own scratch dict
    assert AuthConnectionMeta().method_state is not AuthConnectionMeta().method_state


# -- none.py -------------------------------------------------------------------------


def test_none_payload_layout() -> None:
    name = b"\x08\x00\x00\x00" + b"\x05\x00\x00\x00admin"
    assert encode_none_payload(ADMIN, 0x0102, to_mon=True) == \
        bytes([AUTH_MODE_MON]) + name + (0x0102).to_bytes(8, "little")
    assert encode_none_payload(ADMIN, 5, to_mon=False) == \
        bytes([AUTH_MODE_AUTHORIZER]) + name + (5).to_bytes(8, "little")
    assert decode_none_payload(encode_none_payload(ADMIN, 9, to_mon=False)) == \
        (AUTH_MODE_AUTHORIZER, ADMIN, 9)
    with pytest.raises(DecodeError, match=r"^auth none: unknown payload mode 2$"):
        decode_none_payload(b"\x02" + name + bytes(8))


def test_none_client_request() -> None:
    c = AuthNoneClient(ADMIN)
    assert (c.global_id, c.i_am_client) == (0, True)
    assert c.modes == ModeOptions()
    meta = AuthConnectionMeta()
    req = c.get_auth_request(peer(EntityType.MON), meta)
    assert (req.method, req.preferred_modes) == (AUTH_NONE, (CRC,))
    assert req.payload == encode_none_payload(ADMIN, 0, to_mon=True)
    req = c.get_auth_request(peer(EntityType.OSD), meta)
    assert req.payload == encode_none_payload(ADMIN, 0, to_mon=False)
    # the options decide; a secure-only option still offers crc (the only mode of none)
    c2 = AuthNoneClient(ADMIN, 3, ModeOptions(client="secure"), i_am_client=True)
    assert c2.get_auth_request(peer(EntityType.OSD), meta).preferred_modes == (CRC,)
    assert c2.get_auth_request(peer(EntityType.OSD), meta).payload == \
        encode_none_payload(ADMIN, 3, to_mon=False)


def test_none_client_refusals() -> None:
    c = AuthNoneClient(ADMIN)
    with pytest.raises(AuthFailed, match=r"^peer does not allow auth none$") as ei:
        c.get_auth_request(peer(EntityType.MON), AuthConnectionMeta(
            allowed_methods=(AUTH_CEPHX,)))
    assert ei.value.result == -errno.EACCES
    assert c.get_auth_request(peer(EntityType.MON), AuthConnectionMeta(
        allowed_methods=(AUTH_CEPHX, AUTH_NONE))).method == AUTH_NONE
    with pytest.raises(AuthFailed, match=r"^auth none: unexpected AUTH_REPLY_MORE$") as ei:
        c.handle_auth_reply_more(peer(EntityType.MON), AuthConnectionMeta(), b"")
    assert ei.value.result == -errno.EINVAL
    assert c.handle_auth_bad_method(peer(EntityType.MON), AuthConnectionMeta(), AUTH_NONE,
                                    -13, (AUTH_CEPHX,), (CRC,)) is False


def test_none_client_done() -> None:
    c = AuthNoneClient(ADMIN)
    meta = AuthConnectionMeta(session_key=b"x", connection_secret=b"y")
    with pytest.raises(AuthFailed, match=r"^auth none cannot run connection mode 2$") as ei:
        c.handle_auth_done(peer(EntityType.MON), meta, 5, SECURE, b"")
    assert ei.value.result == -errno.EINVAL
    c.handle_auth_done(peer(EntityType.OSD), meta, 77, CRC, b"")
    assert c.global_id == 0  # only a mon assigns global ids
    assert (meta.session_key, meta.connection_secret) == (b"", b"")
    c.handle_auth_done(peer(EntityType.MON), meta, 0, CRC, b"")
    assert c.global_id == 0
    c.handle_auth_done(peer(EntityType.MON), meta, 4242, CRC, b"")
    assert c.global_id == 4242


def test_none_server() -> None:
    s = AuthNoneServer()
    assert s.my_type == EntityType.OSD
    assert s.modes == ModeOptions()
    assert s.get_supported_auth_methods(EntityType.CLIENT) == ((AUTH_NONE,), (CRC,))
    assert s.pick_con_mode(EntityType.CLIENT, AUTH_NONE, (SECURE, CRC)) == CRC
    assert s.pick_con_mode(EntityType.CLIENT, AUTH_CEPHX, (CRC,)) == CON_MODE_UNKNOWN
    assert s.pick_con_mode(EntityType.CLIENT, AUTH_NONE, (SECURE,)) == CON_MODE_UNKNOWN
    meta = AuthConnectionMeta()
    rep = s.handle_auth_request(peer(EntityType.OSD), meta, False, AUTH_NONE,
                                encode_none_payload(ADMIN, 0, to_mon=False))
    assert (rep.done, rep.payload, rep.global_id) == (True, b"", 4096)
    assert (meta.peer_name, meta.peer_global_id) == (ADMIN, 4096)
    rep = s.handle_auth_request(peer(EntityType.OSD), meta, False, AUTH_NONE,
                                encode_none_payload(ADMIN, 0, to_mon=False))
    assert rep.global_id == meta.peer_global_id == 4097
    rep = s.handle_auth_request(peer(EntityType.OSD), meta, False, AUTH_NONE,
                                encode_none_payload(ADMIN, 31, to_mon=True))
    assert rep.global_id == meta.peer_global_id == 31
    for method, more in ((AUTH_CEPHX, False), (AUTH_NONE, True)):
        with pytest.raises(AuthFailed, match=f"^auth method {method} not supported$") as ei:
            s.handle_auth_request(peer(EntityType.OSD), meta, more, method, b"")
        assert ei.value.result == -errno.EOPNOTSUPP
    with pytest.raises(AuthFailed, match=r"^bad auth none payload: ") as ei:
        s.handle_auth_request(peer(EntityType.OSD), meta, False, AUTH_NONE, b"\x01")
    assert ei.value.result == -errno.EINVAL
    # injected counter
    s2 = AuthNoneServer(_next_global_id=count(10))
    assert s2.handle_auth_request(peer(EntityType.OSD), AuthConnectionMeta(), False,
                                  AUTH_NONE,
                                  encode_none_payload(ADMIN, 0, to_mon=True)).global_id == 10


def test_none_server_modes_follow_its_options() -> None:
    # a mon whose mon_service option allows only secure cannot run auth none
    mon = AuthNoneServer(ModeOptions(mon_service="secure", service="crc"),
                         my_type=EntityType.MON)
    assert mon.my_type == EntityType.MON
    assert mon.pick_con_mode(EntityType.CLIENT, AUTH_NONE, (CRC,)) == CON_MODE_UNKNOWN
    # an osd: crc towards clients (service), but its cluster option is secure only
    osd = AuthNoneServer(ModeOptions(service="crc", cluster="secure"))
    assert osd.pick_con_mode(EntityType.CLIENT, AUTH_NONE, (SECURE, CRC)) == CRC
    assert osd.pick_con_mode(EntityType.OSD, AUTH_NONE, (CRC,)) == CON_MODE_UNKNOWN
    # i_am_client=False: a client option would not apply
    osd2 = AuthNoneServer(ModeOptions(service="crc secure", client="secure"))
    assert osd2.pick_con_mode(EntityType.CLIENT, AUTH_NONE, (CRC,)) == CRC


# -- cephx package (PEP 562 names) -----------------------------------------------------


def test_cephx_lazy_names() -> None:
    # called directly: an earlier import may have cached the names already
    assert cephx_pkg.__getattr__("CephxClient") is client.CephxClient
    assert cephx_pkg.__getattr__("KeyServer") is keyserver.KeyServer
    assert cephx_pkg.__getattr__("MAuthResult") is server.MAuthResult
    assert cephx_pkg.__getattr__("describe_result") is client.describe_result
    assert vars(cephx_pkg)["describe_result"] is client.describe_result  # cached
    with pytest.raises(AttributeError,
                       match=r"^module 'asyncmsgr.auth.cephx' has no attribute 'Nope'$"):
        cephx_pkg.__getattr__("Nope")
    names = dir(cephx_pkg)
    assert names == sorted(names)
    assert set(cephx_pkg.__all__) <= set(names)
    assert "__getattr__" in names


# -- keyring.py ----------------------------------------------------------------------


def test_crypto_key_checks() -> None:
    assert CryptoKey(CRYPTO_NONE).secret == b""
    with pytest.raises(EncodeError, match=r"^an AES key needs 16 secret bytes, got 0$"):
        CryptoKey(CRYPTO_AES)
    with pytest.raises(EncodeError, match=r"^a type-NONE key has no secret$"):
        CryptoKey(CRYPTO_NONE, UTime(), b"x")
    with pytest.raises(EncodeError, match=r"^unsupported key type 7$"):
        CryptoKey(7, UTime(), b"x")


def _key_bytes(ktype: int, secret: bytes, length: int | None = None) -> bytes:
    w = Writer()
    w.push_u16(ktype)
    w.push_u32(1)
    w.push_u32(2)
    w.push_u16(len(secret) if length is None else length)
    w.push_bytes(secret)
    return w.getvalue()


def test_crypto_key_decode_checks() -> None:
    k = CryptoKey.from_bytes(_key_bytes(CRYPTO_AES, bytes(range(16))))
    assert (k.type, k.created, k.secret) == (CRYPTO_AES, UTime(1, 2), bytes(range(16)))
    assert CryptoKey.from_bytes(_key_bytes(CRYPTO_NONE, b"")).secret == b""
    with pytest.raises(DecodeError, match=r"^AES key of 15 bytes \(want 16\)$"):
        CryptoKey.from_bytes(_key_bytes(CRYPTO_AES, bytes(15)))
    with pytest.raises(DecodeError, match=r"^type-NONE key with a secret$"):
        CryptoKey.from_bytes(_key_bytes(CRYPTO_NONE, b"ab"))
    with pytest.raises(DecodeError, match=r"^unsupported key type 3$"):
        CryptoKey.from_bytes(_key_bytes(3, b""))
    with pytest.raises(DecodeError, match=r"^CryptoKey: 1 unexpected trailing bytes$"):
        CryptoKey.from_bytes(_key_bytes(CRYPTO_AES, bytes(16)) + b"!")


def test_crypto_key_base64() -> None:
    text = KEY.to_base64()
    assert text == "AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg=="
    assert CryptoKey.from_base64(f"  {text}\n") == KEY
    # not base64 at all: validate=True refuses characters the lenient decoder skips
    with pytest.raises(KeyringError, match=r"^key 'AQDeHAZr'\.\.\. is not valid base64$"):
        CryptoKey.from_base64("AQDeHAZr6oMs!HxAA019FEnzwuOARTTPFYEVkrg==")
    with pytest.raises(KeyringError, match=r"^key 'AAAAAAAA'\.\.\. is not a Ceph key "):
        CryptoKey.from_base64("AAAAAAAAAAAA")


def test_keyring_entry_defaults() -> None:
    e = KeyringEntry(ADMIN, KEY)
    assert (e.name, e.key, dict(e.caps)) == (ADMIN, KEY, {})
    assert Keyring(Keyring.from_text("").entries).source == "<keyring>"


def test_keyring_parsing_edge_cases() -> None:
    kr = Keyring.from_text(f"""
# comment
[client.admin]   ; trailing comment
    key = "{KEY.to_base64()}"
    caps mon = "allow * # not a comment"
    caps osd = 'allow rw; pool=x'
    caps mds=allow
    caps   mgr   =   "a"
    auid = 0
    key x = ignored
    caps = ignored
[ osd.0 ]
    key = '{KEY.to_base64()}'   # quoted with single quotes
""", "kr")
    admin = kr.entry("client.admin")
    assert admin.name == ADMIN
    assert dict(admin.caps) == {"mon": "allow * # not a comment", "osd": "allow rw; pool=x",
                                "mds": "allow", "mgr": "a"}
    assert kr.get(AuthName(EntityType.OSD, "0")) == KEY
    assert kr.entry("osd.0").name == AuthName(EntityType.OSD, "0")
    assert "osd.0" in kr
    assert ADMIN in kr
    assert 3 not in kr
    with pytest.raises(KeyringError, match=r"^no key for client.bob in kr \(it has: "
                       r"client.admin, osd.0\)$"):
        kr.entry("client.bob")
    with pytest.raises(KeyringError, match=r"^no key for client.bob in <keyring> \(it "
                       r"has: none\)$"):
        Keyring.from_text("").entry("client.bob")


@pytest.mark.parametrize(("text", "message"), [
    ("[client.a", r"^k:1: unterminated section header '\[client.a'$"),
    ("key = x", r"^k:1: 'key' before any \[entity\] section$"),
    ("[client.a]\nfoo", r"^k:2: expected 'name = value', got 'foo'$"),
    ("[client.a]\n", r"^k: \[client.a\] has no 'key =' line$"),
    ("[client.a]\ncaps mon = x\n[client.b]\nkey = " + KEY.to_base64(),
     r"^k: \[client.a\] has no 'key =' line$"),
    ("[client.a]\nkey = zz", r"^k:2: \[client.a\]: key 'zz'\.\.\. is not valid base64$"),
    ("[nosuchtype.a]\nkey = x", r"^k:1: "),
])
def test_keyring_errors(text: str, message: str) -> None:
    with pytest.raises(KeyringError, match=message):
        Keyring.from_text(text, "k")


def test_unquote_and_comment_rules() -> None:
    kr = Keyring.from_text(f"""[client.a]
key = {KEY.to_base64()}
caps a = "
caps b = ""
caps c = 'x"
caps d = "x;y" ; real comment
caps e = 'it''s'
caps f = "#" # "
caps g = aXb # X is no quote and no comment
caps h = XabX
""")
    assert dict(kr.entry("client.a").caps) == {"a": '"', "b": "", "c": "'x\"",
                                               "d": "x;y", "e": "it''s", "f": "#",
                                               "g": "aXb", "h": "XabX"}


def test_keyring_from_file(tmp_path: Path) -> None:
    p = tmp_path / "ceph.keyring"
    p.write_text(f"[client.admin]\n\tkey = {KEY.to_base64()}\n\tcaps mon = \"é\"\n",
                 encoding="utf-8")
    kr = Keyring.from_file(p)
    assert kr.source == str(p)
    assert kr.entry(ADMIN).caps["mon"] == "é"
    with pytest.raises(KeyringError, match=r"^keyring file '.*missing' does not exist$"):
        Keyring.from_file(tmp_path / "missing")
    with pytest.raises(KeyringError, match=f"^cannot read keyring file '{tmp_path}': "):
        Keyring.from_file(tmp_path)
    bad = tmp_path / "bin"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(KeyringError, match=f"^keyring file '{bad}' is not text$"):
        Keyring.from_file(os.fspath(bad))
    p.write_text("[client.admin\n")
    with pytest.raises(KeyringError, match=f"^{p}:1: "):
        Keyring.from_file(p)


def test_keyring_from_file_in_an_ascii_locale(tmp_path: Path) -> None:
    # Ceph's keyrings are UTF-8 text; an ASCII locale (LC_CTYPE=C without Python's
    # UTF-8 mode) must not change how they are read
    p = tmp_path / "k"
    p.write_bytes(f"[client.admin]\nkey = {KEY.to_base64()}\ncaps mon = \"\u00e9\"\n"
                  .encode())
    old = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C")
        assert Keyring.from_file(p).entry(ADMIN).caps["mon"] == "\u00e9"
    finally:
        locale.setlocale(locale.LC_CTYPE, old)


# -- cephx crypto edges ----------------------------------------------------------------


def test_cephx_crypto_messages() -> None:
    with pytest.raises(EncodeError, match=r"^cephx needs an AES key$"):
        aes_encrypt(CryptoKey(CRYPTO_NONE), b"x")
    with pytest.raises(EncodeError, match=r"^AES-128 key must be 16 bytes, got 3$"):
        aes_encrypt(b"abc", b"x")
    with pytest.raises(CephxDecryptError, match=r"^bad AES-CBC padding \(wrong key\?\)$"):
        aes_decrypt(bytes(16), aes_encrypt(bytes(range(16)), b"hello"))
    with pytest.raises(CephxDecryptError,
                       match=r"^decrypted cephx blob too short for its header$"):
        dec_bl(KEY, aes_encrypt(KEY, b"short"))
    # the length prefix of encode_encrypt is an unsigned u32
    assert encode_encrypt(KEY, b"")[:4] == (16).to_bytes(4, "little")


def test_aes_decrypt_size_cap_is_inclusive() -> None:
    big = aes_encrypt(KEY, bytes(MAX_ENC_LEN - 1))
    assert len(big) == MAX_ENC_LEN
    assert aes_decrypt(KEY, big) == bytes(MAX_ENC_LEN - 1)
    with pytest.raises(CephxDecryptError,
                       match=f"^AES-CBC ciphertext of {MAX_ENC_LEN + 16} bytes is too large$"):
        aes_decrypt(KEY, bytes(MAX_ENC_LEN + 16))
