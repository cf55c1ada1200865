"""cephx KeyServer, ticket replies and the cephx structures, byte for byte.

Layouts are CephxProtocol.h / Auth.h (Pacific): ``CephXServiceTicket`` v1,
``AuthTicket`` v2 (auid since v2), ``CephXAuthorize`` v2, ``CephXAuthorizeReply``
v2 only with a connection secret; ``cephx_build_service_ticket_reply`` writes
``u8 1, u32 n`` then per ticket ``u32 service_id, u8 1, encrypted msg_a, u8
ticket_enc, blob``. The client's windows are CephXTicketHandler's:
``expires = now + validity``, ``renew_after = expires - validity.sec/4``,
``have_key`` while ``now < expires``, ``need_key`` from ``renew_after`` on."""

from __future__ import annotations

import random
from typing import Any

import pytest

from asyncmsgr.auth.cephx.crypto import dec_bl, pull_decrypted
from asyncmsgr.auth.cephx.keyserver import KEEP_SECRETS, KeyServer
from asyncmsgr.auth.cephx.tickets import (
    MAX_TICKETS,
    Ticket,
    TicketGrant,
    decode_ticket_reply,
    encode_ticket_reply,
)
from asyncmsgr.auth.cephx.types import (
    AUID_DEFAULT,
    SECRET_ID_ENTITY_KEY,
    AuthCapsInfo,
    AuthTicket,
    CephXAuthenticate,
    CephXAuthorize,
    CephXAuthorizeChallenge,
    CephXAuthorizer,
    CephXAuthorizeReply,
    CephXResponseHeader,
    CephXServerChallenge,
    CephXServiceTicket,
    CephXServiceTicketInfo,
    CephXServiceTicketRequest,
    CephXTicketBlob,
)
from asyncmsgr.auth.keyring import CryptoKey, Keyring
from asyncmsgr.errors import CephxDecryptError, DecodeError
from asyncmsgr.types import AuthName, EntityType, UTime
from asyncmsgr.wire.buffer import Reader, Writer

KEY = CryptoKey.from_base64("AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==")
KEY2 = CryptoKey.aes(bytes(range(16)))
ADMIN = AuthName(EntityType.CLIENT, "admin")
MON_A = AuthName(EntityType.MON, "a")
OSD, MON, AUTH, MGR = EntityType.OSD, EntityType.MON, EntityType.AUTH, EntityType.MGR
T0 = 1_700_000_000.0


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def keyserver(clock: Clock, **kw: float) -> KeyServer:
    kr = Keyring.from_text(f"""
[client.admin]
    key = {KEY.to_base64()}
    caps mon = "allow r"
    caps osd = "allow rw pool=a"
[mon.]
    key = {KEY2.to_base64()}
""")
    return KeyServer(kr, clock=clock, rng=random.Random(7), **kw)


# -- entities --------------------------------------------------------------------------


def test_entities_and_caps() -> None:
    clock = Clock()
    rng = random.Random(1)
    ks = KeyServer(clock=clock, rng=rng)
    assert ks.rng is rng
    assert ks.get_secret(ADMIN) is None
    assert ks.get_caps(ADMIN, "mon") is None
    ks.add_entity("client.x", KEY, {"mon": "allow *"})
    assert ks.get_secret(AuthName(EntityType.CLIENT, "x")) == KEY
    assert ks.get_caps("client.x", "mon") == "allow *"
    assert ks.get_caps("client.x", "osd") is None
    ks.add_entity(ADMIN, KEY2)
    assert ks.get_secret("client.admin") == KEY2
    assert ks.get_caps(ADMIN, "mon") is None


def test_generate_secret_is_created_now() -> None:
    clock = Clock(T0 + 0.5)
    ks = keyserver(clock)
    k = ks.generate_secret()
    assert k.created == UTime.from_float(T0 + 0.5)
    assert len(k.secret) == 16
    assert k.secret != ks.generate_secret().secret


def test_service_caps_encode_the_entitys_cap_for_that_service() -> None:
    ks = keyserver(Clock())
    w = Writer()
    w.push_string("allow rw pool=a")
    assert ks.service_caps(ADMIN, OSD) == AuthCapsInfo(allow_all=False, caps=w.getvalue())
    assert ks.service_caps(ADMIN, MGR) == AuthCapsInfo()
    assert ks.service_caps(AuthName(EntityType.CLIENT, "nobody"), OSD) == AuthCapsInfo()


# -- rotating secrets --------------------------------------------------------------------


def test_rotating_secret_ids_and_boundaries() -> None:
    clock = Clock()
    ks = keyserver(clock)
    assert ks.ticket_ttl(AUTH) == 72 * 3600
    assert ks.ticket_ttl(OSD) == 3600
    s1 = ks.get_service_secret(OSD)
    assert (s1.secret_id, s1.current_until) == (1, T0 + 3600)
    assert s1.key.created == UTime.from_float(T0)
    clock.now = T0 + 3599.5
    assert ks.get_service_secret(OSD) == s1
    clock.now = T0 + 3600  # current_until reached: a new one
    s2 = ks.get_service_secret(OSD)
    assert (s2.secret_id, s2.current_until) == (2, T0 + 7200)
    assert ks.find_service_secret(OSD, 1) == s1.key  # still decrypts for one more TTL
    clock.now = T0 + 7199
    assert ks.find_service_secret(OSD, 1) == s1.key
    clock.now = T0 + 7200  # s1's last ticket has expired: dropped as s3 arrives
    assert ks.get_service_secret(OSD).secret_id == 3
    assert ks.find_service_secret(OSD, 1) is None
    assert ks.find_service_secret(OSD, 2) == s2.key
    # other services count on their own
    assert ks.get_service_secret(MGR).secret_id == 1


def test_rotating_secrets_after_a_long_pause() -> None:
    clock = Clock()
    ks = keyserver(clock)
    ks.get_service_secret(OSD)
    clock.now = T0 + 5 * 3600
    assert ks.get_service_secret(OSD).secret_id == 2
    assert ks.find_service_secret(OSD, 1) is None


def test_at_most_keep_secrets_are_kept() -> None:
    clock = Clock(0.0)
    ks = keyserver(clock, auth_service_ticket_ttl=1.0)
    ks.get_service_secret(OSD)            # 1, current until 1
    clock.now = 1.0
    ks.get_service_secret(OSD)            # 2, current until 2
    ks.auth_service_ticket_ttl = 10.0     # the option grows: old secrets live longer
    clock.now = 2.0
    assert ks.get_service_secret(OSD).secret_id == 3
    assert [ks.find_service_secret(OSD, i) is not None for i in (1, 2, 3)] == \
        [True] * KEEP_SECRETS
    clock.now = 12.0
    assert ks.get_service_secret(OSD).secret_id == 4
    assert ks.find_service_secret(OSD, 1) is None


def test_zero_ttl_still_has_a_current_secret() -> None:
    ks = keyserver(Clock(), auth_service_ticket_ttl=0.0)
    assert ks.get_service_secret(OSD).secret_id == 1


def test_entity_key_secret_id() -> None:
    ks = keyserver(Clock())
    assert ks.find_service_secret(MON, SECRET_ID_ENTITY_KEY) == KEY2
    assert ks.find_service_secret(OSD, SECRET_ID_ENTITY_KEY) is None


# -- grants and tickets ------------------------------------------------------------------


def test_build_grant_and_decode_ticket() -> None:
    clock = Clock()
    ks = keyserver(clock)
    g = ks.build_grant(OSD, ADMIN, 4100)
    assert (g.service_id, g.validity) == (OSD, UTime(3600))
    assert g.ticket.secret_id == 1
    info = ks.decode_ticket(OSD, g.ticket)
    t = info.ticket
    assert (t.name, t.global_id, t.created, t.expires) == (
        ADMIN, 4100, UTime.from_float(T0), UTime.from_float(T0 + 3600))
    assert t.caps == ks.service_caps(ADMIN, OSD) != AuthCapsInfo()
    assert info.session_key == g.session_key
    g2 = ks.build_grant(AUTH, ADMIN, 1, caps=AuthCapsInfo(True))
    assert g2.validity == UTime(72 * 3600)
    assert ks.decode_ticket(AUTH, g2.ticket).ticket.caps == AuthCapsInfo(True)
    with pytest.raises(KeyError, match="no osd secret with id 99"):
        ks.decode_ticket(OSD, CephXTicketBlob(99, g.ticket.blob))
    with pytest.raises(KeyError, match="no service 64 secret with id 99"):
        ks.decode_ticket(64, CephXTicketBlob(99, g.ticket.blob))
    with pytest.raises(CephxDecryptError):
        ks.decode_ticket(MGR, CephXTicketBlob(ks.get_service_secret(MGR).secret_id,
                                              g.ticket.blob))


def test_issue_entity_ticket() -> None:
    clock = Clock(T0 + 0.25)
    ks = keyserver(clock)
    t = ks.issue_entity_ticket(MON, MON_A, 77)
    assert (t.service_id, t.validity, t.expires, t.renew_after) == (
        MON, 3600, T0 + 0.25 + 3600, T0 + 0.25 + 2700)
    assert t.ticket.secret_id == SECRET_ID_ENTITY_KEY
    assert t.session_key.created == UTime.from_float(T0 + 0.25)
    # the blob is CephXServiceTicketInfo under mon.'s own key
    info = CephXServiceTicketInfo.decode(Reader(dec_bl(KEY2, t.ticket.blob)))
    assert info == ks.decode_ticket(MON, t.ticket)
    assert (info.ticket.name, info.ticket.global_id, info.ticket.created,
            info.ticket.expires, info.ticket.caps) == (
        MON_A, 77, UTime.from_float(T0 + 0.25), UTime.from_float(T0 + 3600.25),
        AuthCapsInfo())
    assert info.session_key == t.session_key
    assert ks.decode_ticket(MON, ks.issue_entity_ticket(MON, MON_A).ticket).ticket.global_id \
        == 0
    # the AUTH service's tickets live as long as auth_mon_ticket_ttl
    ks.add_entity(AuthName(AUTH, ""), KEY)
    assert ks.issue_entity_ticket(AUTH, MON_A).validity == 72 * 3600
    with pytest.raises(KeyError, match=r"no key for osd\."):
        ks.issue_entity_ticket(OSD, MON_A)


# -- ticket replies ----------------------------------------------------------------------


def test_ticket_windows() -> None:
    t = Ticket(OSD, KEY, CephXTicketBlob(), 400.0, 1000.0, 900.0)
    assert t.have_key(999.9)
    assert not t.have_key(1000.0)
    assert not t.need_key(899.9)
    assert t.need_key(900.0)
    never = Ticket(OSD, KEY, CephXTicketBlob(), 0.0, 0.0, 0.0)
    assert never.have_key(1e12)
    assert not never.need_key(1e12)


HOUR = UTime(3600)


def _grant(sid: int, validity: UTime = HOUR) -> TicketGrant:
    return TicketGrant(sid, KEY2, validity, CephXTicketBlob(5, b"opaque"))


def test_encode_ticket_reply_layout() -> None:
    w = Writer()
    encode_ticket_reply(w, KEY, [_grant(OSD)])
    r = Reader(w.getvalue())
    assert (r.pull_u8(), r.pull_u32(), r.pull_u32(), r.pull_u8()) == (1, 1, OSD, 1)
    msg_a = CephXServiceTicket.decode(pull_decrypted(r, KEY))
    assert msg_a == CephXServiceTicket(KEY2, UTime(3600))
    assert r.pull_u8() == 0
    assert r.pull_blob() == CephXTicketBlob(5, b"opaque").to_bytes()
    assert r.at_end()
    # ticket_enc: the blob encrypted under the old session key
    w = Writer()
    encode_ticket_reply(w, KEY, [_grant(OSD)], KEY2)
    r = Reader(w.getvalue())
    r.pull_bytes(1 + 4 + 4 + 1)
    pull_decrypted(r, KEY)
    assert r.pull_u8() == 1
    assert pull_decrypted(r, KEY2).pull_blob() == CephXTicketBlob(5, b"opaque").to_bytes()


def test_decode_ticket_reply_windows_and_old_keys() -> None:
    w = Writer()
    encode_ticket_reply(w, KEY, [_grant(OSD, UTime(401, 500_000_000)), _grant(MGR, UTime())])
    osd, mgr = decode_ticket_reply(Reader(w.getvalue()), KEY, 1000.0, {})
    assert (osd.service_id, osd.validity, osd.expires, osd.renew_after) == (
        OSD, 401.5, 1401.5, 1401.5 - 401 / 4)
    assert (mgr.validity, mgr.expires, mgr.renew_after) == (0.0, 0.0, 0.0)
    w = Writer()
    encode_ticket_reply(w, KEY, [_grant(OSD)], KEY2)
    with pytest.raises(CephxDecryptError,
                       match=r"^encrypted ticket for service 4 but no old session key$"):
        decode_ticket_reply(Reader(w.getvalue()), KEY, 0.0, {MGR: KEY2})
    (t,) = decode_ticket_reply(Reader(w.getvalue()), KEY, 0.0, {OSD: KEY2})
    assert t.ticket == CephXTicketBlob(5, b"opaque")


def _reply(n: int, body: bytes, v: int = 1) -> bytes:
    w = Writer()
    w.push_u8(v)
    w.push_u32(n)
    return w.getvalue() + body


def test_decode_ticket_reply_bounds() -> None:
    with pytest.raises(DecodeError, match=r"^service ticket reply: struct_v 0$"):
        decode_ticket_reply(Reader(_reply(0, b"", v=0)), KEY, 0.0, {})
    # a ticket takes at least 10 bytes (u32 id, u8 v, u32 len, u8 enc; encrypted part
    # may not be empty, but the count is checked against that minimum)
    with pytest.raises(DecodeError, match=r"^service tickets: count 1 needs at least 10 "
                       r"bytes, have 9$"):
        decode_ticket_reply(Reader(_reply(1, bytes(9))), KEY, 0.0, {})
    with pytest.raises(DecodeError, match=r"^service ticket: bad struct_v$"):
        decode_ticket_reply(Reader(_reply(1, bytes(10))), KEY, 0.0, {})
    # MAX_TICKETS is allowed, one more is not
    w = Writer()
    encode_ticket_reply(w, KEY, [_grant(1 << (i % 6)) for i in range(MAX_TICKETS)])
    assert len(decode_ticket_reply(Reader(w.getvalue()), KEY, 0.0, {})) == MAX_TICKETS
    with pytest.raises(DecodeError, match=r"^service ticket reply with 33 tickets$"):
        decode_ticket_reply(Reader(_reply(33, bytes(400))), KEY, 0.0, {})


# -- structures --------------------------------------------------------------------------

_STRUCTS = [
    (CephXServerChallenge(5), 1, "CephXServerChallenge"),
    (CephXTicketBlob(1, b"b"), 1, "CephXTicketBlob"),
    (CephXAuthenticate(1, 2), 3, "CephXAuthenticate"),
    (CephXServiceTicket(KEY, UTime(1)), 1, "CephXServiceTicket"),
    (AuthCapsInfo(), 1, "AuthCapsInfo"),
    (AuthTicket(ADMIN, 1, UTime(), UTime()), 2, "AuthTicket"),
    (CephXServiceTicketInfo(AuthTicket(ADMIN, 1, UTime(), UTime()), KEY), 1,
     "CephXServiceTicketInfo"),
    (CephXAuthorize(3), 2, "CephXAuthorize"),
    (CephXAuthorizer(1, 4, CephXTicketBlob(), b""), 1, "CephXAuthorizer"),
    (CephXAuthorizeChallenge(9), 1, "CephXAuthorizeChallenge"),
    (CephXAuthorizeReply(9), 1, "CephXAuthorizeReply"),
    (CephXAuthorizeReply(9, b"s" * 64), 2, "CephXAuthorizeReply"),
    (CephXServiceTicketRequest(0x14), 1, "CephXServiceTicketRequest"),
]


@pytest.mark.parametrize(("value", "version", "name"), _STRUCTS)
def test_struct_versions_and_bad_version_messages(value: Any, version: int,
                                                  name: str) -> None:
    data = value.to_bytes()
    assert data[0] == version
    assert type(value).from_bytes(data) == value
    with pytest.raises(DecodeError, match=f"^{name}: struct_v 0 < 1$"):
        type(value).from_bytes(b"\x00" + data[1:])


def test_struct_defaults_on_the_wire() -> None:
    assert CephXResponseHeader(0x100).to_bytes() == b"\x00\x01" + bytes(4)
    assert AuthCapsInfo().to_bytes() == b"\x01\x00" + bytes(4)
    assert CephXAuthenticate(1, 2).to_bytes()[-4:] == bytes(4)  # other_keys 0
    assert CephXAuthorize(3).to_bytes() == b"\x02" + (3).to_bytes(8, "little") + bytes(9)
    t = AuthTicket(ADMIN, 1, UTime(), UTime())
    assert (t.flags, t.auid) == (0, AUID_DEFAULT)
    assert t.to_bytes()[-4:] == bytes(4)


def test_auth_ticket_v1_has_no_auid() -> None:
    w = Writer()
    w.push_u8(1)
    w.push_u32(EntityType.CLIENT)
    w.push_string("admin")
    w.push_u64(42)
    w.push_u32(10)   # created
    w.push_u32(0)
    w.push_u32(20)   # expires
    w.push_u32(0)
    AuthCapsInfo().encode(w)
    w.push_u32(3)    # flags
    t = AuthTicket.from_bytes(w.getvalue())
    assert (t.name, t.global_id, t.auid, t.created, t.expires, t.flags) == (
        ADMIN, 42, AUID_DEFAULT, UTime(10), UTime(20), 3)


def test_authorize_v1_has_the_nonce_only() -> None:
    a = CephXAuthorize.from_bytes(b"\x01" + (77).to_bytes(8, "little"))
    assert (a.nonce, a.have_challenge, a.server_challenge_plus_one) == (77, False, 0)
    assert CephXAuthorizeReply.from_bytes(b"\x01" + (5).to_bytes(8, "little")) == \
        CephXAuthorizeReply(5, b"")
