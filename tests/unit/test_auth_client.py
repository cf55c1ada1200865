"""cephx client (CephxClient) driven directly against CephxAuthServer objects:
method and mode choice, the auth-none fallback, every refusal with its message
and errno, ticket windows with ``now`` as an input, renewal requests, MAuth
(msgr v1) and the secure-mode secret checks (Ceph's CephxClientHandler.cc,
MonClient's handling of AUTH_BAD_METHOD)."""

from __future__ import annotations

import errno
import random

import pytest

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer, ModeOptions
from asyncmsgr.auth.cephx.client import CephxClient, describe_result
from asyncmsgr.auth.cephx.crypto import challenge_key, enc_bl, push_encrypted
from asyncmsgr.auth.cephx.keyserver import KeyServer
from asyncmsgr.auth.cephx.server import CephxAuthServer
from asyncmsgr.auth.cephx.tickets import Ticket, TicketGrant, encode_ticket_reply
from asyncmsgr.auth.cephx.types import (
    CephXAuthenticate,
    CephXAuthorizer,
    CephXAuthorizeReply,
    CephXRequestHeader,
    CephXResponseHeader,
    CephXServiceTicket,
    CephXServiceTicketRequest,
)
from asyncmsgr.auth.keyring import CryptoKey, Keyring
from asyncmsgr.auth.none import encode_none_payload
from asyncmsgr.errors import AuthFailed
from asyncmsgr.frames.v2 import AUTH_CEPHX, AUTH_NONE, CON_MODE_CRC, CON_MODE_SECURE
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType, UTime
from asyncmsgr.wire.buffer import Reader, Writer

KEY = CryptoKey.from_base64("AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==")
OTHER = CryptoKey.aes(bytes(range(16)))
ADMIN = AuthName(EntityType.CLIENT, "admin")
MON_A = AuthName(EntityType.MON, "a")
OSD_0 = AuthName(EntityType.OSD, "0")
MON, OSD, MGR, AUTH = EntityType.MON, EntityType.OSD, EntityType.MGR, EntityType.AUTH
CLIENT = EntityType.CLIENT
T0 = 1_700_000_000.0
EACCES, EINVAL, EOPNOTSUPP = -errno.EACCES, -errno.EINVAL, -errno.EOPNOTSUPP
FAILED = "authentication failed for client.admin: "
KEYRING = Keyring.from_text(f"""
[client.admin]
    key = {KEY.to_base64()}
    caps mon = "allow *"
""")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class MaxRandom(random.Random):
    """getrandbits(k) gives the largest k-bit value: a nonce wider than 64 bits
    would not encode."""

    def getrandbits(self, k: int) -> int:
        return (1 << k) - 1


class Env:
    def __init__(self) -> None:
        self.clock = Clock()
        self.ks = KeyServer(KEYRING, clock=self.clock, rng=random.Random(1))
        self.mon = CephxAuthServer(self.ks, MON_A, self.clock, role="mon",
                                   rng=random.Random(2))
        self.osd = CephxAuthServer(self.ks, OSD_0, self.clock, rng=random.Random(3))

    def client(self, *, want: int = MON | OSD | MGR, methods: tuple[int, ...] = (AUTH_CEPHX,),
               modes: ModeOptions | None = None, rng: random.Random | None = None,
               key: CryptoKey = KEY) -> CephxClient:
        return CephxClient(ADMIN, key, clock=self.clock, rng=rng or random.Random(4),
                           want_keys=want, methods=methods, modes=modes)

    def grant(self, sid: int, gid: int = 4096) -> TicketGrant:
        return self.ks.build_grant(sid, ADMIN, gid)

    def ticket(self, sid: int, gid: int = 4096, validity: float = 3600.0) -> Ticket:
        g = self.grant(sid, gid)
        return Ticket(sid, g.session_key, g.ticket, validity, self.clock.now + validity,
                      self.clock.now + validity * 3 / 4)


def peer(peer_type: int, my_type: int = CLIENT) -> AuthPeer:
    return AuthPeer(peer_type=peer_type, peer_addrs=EntityAddrVec(), my_type=my_type)


def start_mon(env: Env, client: CephxClient, smeta: AuthConnectionMeta
              ) -> tuple[AuthConnectionMeta, bytes]:
    """Client hello and challenge answer; returns the client meta and the answer."""
    cmeta = AuthConnectionMeta(con_mode=smeta.con_mode)
    req = client.get_auth_request(peer(MON), cmeta)
    more = env.mon.handle_auth_request(peer(CLIENT), smeta, False, AUTH_CEPHX, req.payload)
    return cmeta, client.handle_auth_reply_more(peer(MON), cmeta, more.payload)


def login(env: Env, client: CephxClient, con_mode: int = CON_MODE_CRC) -> None:
    smeta = AuthConnectionMeta(con_mode=con_mode)
    cmeta, answer = start_mon(env, client, smeta)
    done = env.mon.handle_auth_request(peer(CLIENT), smeta, True, AUTH_CEPHX, answer)
    client.handle_auth_done(peer(MON), cmeta, done.global_id, con_mode, done.payload)


def session_reply(bl_tickets: list[TicketGrant], key: CryptoKey = KEY, *,
                  request_type: int = 0x100, status: int = 0, tail: bytes = b"") -> bytes:
    w = Writer()
    CephXResponseHeader(request_type, status).encode(w)
    encode_ticket_reply(w, key, bl_tickets)
    return w.getvalue() + tail


# -- describe_result -------------------------------------------------------------------


@pytest.mark.parametrize(("result", "why"), [
    (-errno.EACCES, "permission denied (wrong key, or unknown entity?)"),
    (-errno.EPERM, "permission denied (wrong key, or unknown entity?)"),
    (-errno.ENOENT, "no such entity (no key for it on the monitor)"),
    (-errno.EOPNOTSUPP, "the server does not support this auth method or connection mode"),
    (-errno.EKEYEXPIRED, "the ticket expired; re-authenticate with a monitor"),
    (-errno.EBUSY, "the server is busy, try again"),
    (-errno.EIO, "error -5 (EIO)"),
    (-9999, "error -9999 (?)"),
])
def test_describe_result(result: int, why: str) -> None:
    assert describe_result(ADMIN, result) == f"authentication failed for client.admin: {why}"


# -- method and mode choice --------------------------------------------------------------


def test_pick_method_and_refusal() -> None:
    env = Env()
    c = env.client(methods=(AUTH_CEPHX, AUTH_NONE))
    assert c.get_auth_request(peer(MON), AuthConnectionMeta(
        allowed_methods=(AUTH_CEPHX,))).method == AUTH_CEPHX
    assert c.get_auth_request(peer(MON), AuthConnectionMeta(
        allowed_methods=(AUTH_NONE,))).method == AUTH_NONE
    c = env.client()
    with pytest.raises(AuthFailed, match=f"^{FAILED}the server allows only auth methods "
                       r"\[none, 7\], which this client is not configured to use$") as ei:
        c.get_auth_request(peer(MON), AuthConnectionMeta(allowed_methods=(AUTH_NONE, 7)))
    assert ei.value.result == EOPNOTSUPP
    assert c.last_error is ei.value


def test_pick_modes() -> None:
    env = Env()
    c = env.client(modes=ModeOptions(mon_client="secure crc"))
    assert c.get_auth_request(peer(MON), AuthConnectionMeta()).preferred_modes == (
        CON_MODE_SECURE, CON_MODE_CRC)
    assert c.get_auth_request(peer(MON), AuthConnectionMeta(
        allowed_modes=(CON_MODE_CRC,))).preferred_modes == (CON_MODE_CRC,)
    c = env.client(modes=ModeOptions(mon_client="secure"))
    with pytest.raises(AuthFailed, match=f"^{FAILED}no connection mode in common with the "
                       "server$") as ei:
        c.get_auth_request(peer(MON), AuthConnectionMeta(allowed_modes=(CON_MODE_CRC,)))
    assert ei.value.result == EOPNOTSUPP


def test_bad_method_retry_picks_the_next_allowed_method() -> None:
    env = Env()
    c = env.client(methods=(AUTH_CEPHX, AUTH_NONE))
    meta = AuthConnectionMeta()
    assert c.handle_auth_bad_method(peer(OSD), meta, AUTH_CEPHX, EACCES, (AUTH_NONE,),
                                    (CON_MODE_CRC,)) is True
    assert str(c.last_error) == describe_result(ADMIN, EACCES)
    assert c.last_error is not None
    assert c.last_error.result == EACCES
    c.add_ticket(env.ticket(OSD))  # even with a ticket: the server said none
    assert c.get_auth_request(peer(OSD), meta).method == AUTH_NONE
    # nothing after the last method
    assert c.handle_auth_bad_method(peer(OSD), AuthConnectionMeta(), AUTH_NONE, EACCES,
                                    (AUTH_CEPHX, AUTH_NONE), ()) is False
    assert c.handle_auth_bad_method(peer(OSD), AuthConnectionMeta(), AUTH_CEPHX, EACCES,
                                    (AUTH_CEPHX,), ()) is False
    # a method we never offered: all of ours are candidates, in order
    meta = AuthConnectionMeta()
    assert c.handle_auth_bad_method(peer(OSD), meta, 7, EOPNOTSUPP, (AUTH_CEPHX,),
                                    ()) is True
    assert c.get_auth_request(peer(OSD), meta).method == AUTH_CEPHX


def test_auth_none_fallback_rules() -> None:
    env = Env()
    c = env.client(methods=(AUTH_CEPHX, AUTH_NONE),
                   modes=ModeOptions(client="secure crc", mon_cluster="secure crc"))
    # no osd ticket: auth none (crc only), and stale cephx state is dropped
    meta = AuthConnectionMeta(method_state={"cephx": object()})
    req = c.get_auth_request(peer(OSD), meta)
    assert (req.method, req.preferred_modes) == (AUTH_NONE, (CON_MODE_CRC,))
    assert req.payload == encode_none_payload(ADMIN, 0, to_mon=False)
    assert "cephx" not in meta.method_state
    # the server allows only cephx: no fallback, and no ticket is an error
    with pytest.raises(AuthFailed, match=f"^{FAILED}no cephx ticket for osd \\(authenticate "
                       r"with a monitor first, asking for it in want_keys\)$"):
        c.get_auth_request(peer(OSD), AuthConnectionMeta(allowed_methods=(AUTH_CEPHX,)))
    # with a ticket: cephx
    c.add_ticket(env.ticket(OSD))
    assert c.get_auth_request(peer(OSD), AuthConnectionMeta()).method == AUTH_CEPHX
    # a client to a mon always says hello with cephx (it has no mon ticket to need)
    assert c.get_auth_request(peer(MON), AuthConnectionMeta()).method == AUTH_CEPHX
    # a mon to a mon without a mon ticket: none, in the mon payload form
    req = c.get_auth_request(peer(MON, MON), AuthConnectionMeta())
    assert (req.method, req.preferred_modes) == (AUTH_NONE, (CON_MODE_CRC,))
    assert req.payload == encode_none_payload(ADMIN, 0, to_mon=True)
    # without none in our methods: never
    c2 = env.client()
    with pytest.raises(AuthFailed, match="no cephx ticket for osd"):
        c2.get_auth_request(peer(OSD), AuthConnectionMeta())


def test_mon_to_mon_uses_an_authorizer() -> None:
    env = Env()
    c = env.client()
    t = env.ticket(MON)
    c.add_ticket(t)
    meta = AuthConnectionMeta()
    req = c.get_auth_request(peer(MON, MON), meta)
    a = CephXAuthorizer.from_bytes(req.payload)
    assert (a.service_id, a.ticket) == (MON, t.ticket)


def test_authorizer_nonce_is_64_bits() -> None:
    env = Env()
    c = env.client(rng=MaxRandom())
    c.global_id = 4096
    t = env.ticket(OSD)
    c.add_ticket(t)
    req = c.get_auth_request(peer(OSD), AuthConnectionMeta())
    v = env.osd.verify_authorizer(Reader(req.payload), OSD)
    assert v.authorize.nonce == 2**64 - 1


def test_expired_ticket_is_not_offered() -> None:
    env = Env()
    c = env.client()
    c.add_ticket(env.ticket(OSD))
    env.clock.now += 3600
    with pytest.raises(AuthFailed, match=f"^{FAILED}the osd ticket expired; re-authenticate "
                       "with a monitor$") as ei:
        c.get_auth_request(peer(OSD), AuthConnectionMeta())
    assert ei.value.result == -errno.EKEYEXPIRED


# -- the mon exchange ------------------------------------------------------------------


def test_mon_exchange_state_checks() -> None:
    env = Env()
    c = env.client()
    with pytest.raises(AuthFailed, match=f"^{FAILED}cephx reply without a cephx "
                       "request$") as ei:
        c.handle_auth_reply_more(peer(MON), AuthConnectionMeta(), b"")
    assert ei.value.result == EINVAL
    with pytest.raises(AuthFailed, match="cephx reply without a cephx request"):
        c.handle_auth_done(peer(MON), AuthConnectionMeta(auth_method=AUTH_CEPHX), 1,
                           CON_MODE_CRC, b"")
    meta = AuthConnectionMeta(auth_method=AUTH_CEPHX)
    c.get_auth_request(peer(MON), meta)
    with pytest.raises(AuthFailed, match=f"^{FAILED}the monitor finished without a "
                       "challenge$") as ei:
        c.handle_auth_done(peer(MON), meta, 1, CON_MODE_CRC, b"")
    assert ei.value.result == EINVAL
    with pytest.raises(AuthFailed, match=f"^{FAILED}malformed cephx challenge: ") as ei:
        c.handle_auth_reply_more(peer(MON), meta, b"\x01\x02")
    assert ei.value.result == EINVAL
    challenge = b"\x01" + (1234).to_bytes(8, "little")
    answer = c.handle_auth_reply_more(peer(MON), meta, challenge)
    assert c.server_challenge == 1234
    r = Reader(answer)
    assert CephXRequestHeader.decode(r).request_type == 0x100
    req = CephXAuthenticate.decode(r)
    assert req.key == challenge_key(KEY, 1234, req.client_challenge)
    assert req.other_keys == AUTH | MON | OSD | MGR
    with pytest.raises(AuthFailed, match=f"^{FAILED}the monitor sent a second "
                       "challenge$") as ei:
        c.handle_auth_reply_more(peer(MON), meta, challenge)
    assert ei.value.result == EINVAL


def test_mon_done_refusals() -> None:
    env = Env()
    c = env.client()
    meta = AuthConnectionMeta(auth_method=AUTH_CEPHX)
    c.get_auth_request(peer(MON), meta)
    c.handle_auth_reply_more(peer(MON), meta, b"\x01" + bytes(8))
    with pytest.raises(AuthFailed) as ei:
        c.handle_auth_done(peer(MON), meta, 1, CON_MODE_CRC,
                           CephXResponseHeader(0x100, -errno.ENOENT).to_bytes())
    assert (str(ei.value), ei.value.result) == (describe_result(ADMIN, -errno.ENOENT),
                                                -errno.ENOENT)
    assert c.last_error is ei.value
    with pytest.raises(AuthFailed, match=f"^{FAILED}unexpected cephx reply type "
                       "0x200$") as ei:
        c.handle_auth_done(peer(MON), meta, 1, CON_MODE_CRC,
                           CephXResponseHeader(0x200, 0).to_bytes())
    assert ei.value.result == EINVAL
    with pytest.raises(AuthFailed, match=f"^{FAILED}malformed AUTH_DONE: ") as ei:
        c.handle_auth_done(peer(MON), meta, 1, CON_MODE_CRC, b"\x00\x01")
    assert ei.value.result == EINVAL
    with pytest.raises(AuthFailed, match=f"^{FAILED}cannot decrypt the monitor's reply: "
                       r"wrong key \(") as ei:
        c.handle_auth_done(peer(MON), meta, 1, CON_MODE_CRC,
                           session_reply([env.grant(AUTH)], OTHER))
    assert ei.value.result == EACCES
    with pytest.raises(AuthFailed, match=f"^{FAILED}the monitor's reply has no AUTH "
                       "ticket$") as ei:
        c.handle_auth_done(peer(MON), meta, 1, CON_MODE_CRC,
                           session_reply([env.grant(OSD)]))
    assert ei.value.result == -errno.EIO


def _extra_with_encrypted_blob(session_key: CryptoKey) -> bytes:
    """An extra ticket reply whose OSD blob claims to be encrypted (ticket_enc 1)."""
    w = Writer()
    w.push_u8(1)
    w.push_u32(1)
    w.push_u32(OSD)
    w.push_u8(1)
    push_encrypted(w, session_key, CephXServiceTicket(OTHER, UTime(60)).to_bytes())
    w.push_u8(1)
    push_encrypted(w, OTHER, b"")
    return w.getvalue()


def test_session_reply_cbl_and_extra() -> None:
    env = Env()
    c = env.client()
    meta = AuthConnectionMeta(auth_method=AUTH_CEPHX)
    c.get_auth_request(peer(MON), meta)
    c.handle_auth_reply_more(peer(MON), meta, b"\x01" + bytes(8))
    auth = env.grant(AUTH)
    w = Writer()
    w.push_blob(b"")
    w.push_blob(_extra_with_encrypted_blob(auth.session_key))
    with pytest.raises(AuthFailed, match=f"^{FAILED}cannot decrypt the connection secret or "
                       "service tickets: encrypted ticket for service 4 but no old session "
                       "key$"):
        c.handle_auth_done(peer(MON), meta, 1, CON_MODE_CRC,
                           session_reply([auth], tail=w.getvalue()))


@pytest.mark.parametrize(("secret_len", "msgr2", "have"), [(0, False, 0), (0, True, 0),
                                                          (10, True, 10)])
def test_secure_mode_needs_a_full_secret(secret_len: int, msgr2: bool, have: int) -> None:
    env = Env()
    c = env.client()
    meta = AuthConnectionMeta(auth_method=AUTH_CEPHX)
    c.get_auth_request(peer(MON), meta)
    s = env.mon.start_session(ADMIN, 0)
    answer = c.handle_auth_reply_more(peer(MON), meta, b"\x01" + s.server_challenge.to_bytes(
        8, "little"))
    status, bl, _key, _secret = env.mon.handle_request(s, answer, secret_len, msgr2=msgr2)
    assert status == 0
    with pytest.raises(AuthFailed, match=f"^{FAILED}secure mode without a full connection "
                       rf"secret \({have} bytes\)$") as ei:
        c.handle_auth_done(peer(MON), meta, s.global_id, CON_MODE_SECURE, bl)
    assert ei.value.result == EINVAL


def test_mon_login_fills_meta_and_clears_state() -> None:
    env = Env()
    c = env.client()
    smeta = AuthConnectionMeta(con_mode=CON_MODE_SECURE)
    cmeta, answer = start_mon(env, c, smeta)
    cmeta.auth_method = AUTH_CEPHX
    done = env.mon.handle_auth_request(peer(CLIENT), smeta, True, AUTH_CEPHX, answer)
    c.last_error = AuthFailed("old")
    c.handle_auth_done(peer(MON), cmeta, done.global_id, CON_MODE_SECURE, done.payload)
    assert cmeta.connection_secret == smeta.connection_secret
    assert len(cmeta.connection_secret) == 64
    assert cmeta.session_key == smeta.session_key
    assert "cephx" not in cmeta.method_state
    assert c.last_error is None
    assert c.global_id == 4096


# -- auth none done --------------------------------------------------------------------


def test_auth_none_done() -> None:
    env = Env()
    c = env.client(methods=(AUTH_CEPHX, AUTH_NONE))
    c.global_id = 5
    meta = AuthConnectionMeta(auth_method=AUTH_NONE, session_key=b"k", connection_secret=b"s")
    with pytest.raises(AuthFailed, match=f"^{FAILED}auth none cannot run connection mode "
                       "2$") as ei:
        c.handle_auth_done(peer(MON), meta, 9, CON_MODE_SECURE, b"")
    assert ei.value.result == EINVAL
    c.handle_auth_done(peer(OSD), meta, 77, CON_MODE_CRC, b"")
    assert c.global_id == 5
    c.handle_auth_done(peer(MON), meta, 0, CON_MODE_CRC, b"")
    assert c.global_id == 5
    assert (meta.session_key, meta.connection_secret) == (b"", b"")
    c.handle_auth_done(peer(MON), meta, 88, CON_MODE_CRC, b"")
    assert c.global_id == 88


# -- authorizers -----------------------------------------------------------------------


def _authorizer_round(env: Env, c: CephxClient) -> tuple[AuthConnectionMeta, Ticket]:
    t = env.ticket(OSD)
    c.add_ticket(t)
    meta = AuthConnectionMeta(auth_method=AUTH_CEPHX)
    c.get_auth_request(peer(OSD), meta)
    return meta, t


def test_authorizer_failures() -> None:
    env = Env()
    c = env.client()
    meta, t = _authorizer_round(env, c)
    with pytest.raises(AuthFailed, match=f"^{FAILED}cannot decrypt the osd's challenge: "):
        c.handle_auth_reply_more(peer(OSD), meta, enc_bl(OTHER, b"\x01" + bytes(8)))
    with pytest.raises(AuthFailed, match=f"^{FAILED}cannot decrypt the osd's reply: "):
        c.handle_auth_done(peer(OSD), meta, 0, CON_MODE_CRC,
                           CephXAuthorizeReply(1).to_bytes())
    nonce = meta.method_state["cephx"].nonce  # type: ignore[attr-defined]
    w = Writer()
    push_encrypted(w, t.session_key, CephXAuthorizeReply((nonce + 2) % 2**64).to_bytes())
    with pytest.raises(AuthFailed, match=f"^{FAILED}the osd did not prove it knows the "
                       r"session key \(bad nonce\)$") as ei:
        c.handle_auth_done(peer(OSD), meta, 0, CON_MODE_CRC, w.getvalue())
    assert ei.value.result == EACCES


# -- tickets and renewal ---------------------------------------------------------------


def test_ticket_queries_take_now() -> None:
    env = Env()
    c = env.client(want=OSD)
    for sid in (AUTH, OSD):
        c.add_ticket(env.ticket(sid))
    env.clock.now = T0 + 10 * 3600  # the clock is late; `now` rules
    assert c.ticket_for(OSD, T0) is not None
    assert c.ticket_for(OSD) is None
    assert c.need_tickets(T0) is False
    assert c.need_tickets() is True


def test_build_ticket_request_forms() -> None:
    env = Env()
    # nothing yet: GET_AUTH_SESSION_KEY with the (zero) session challenge
    c = env.client(want=OSD)
    assert c.server_challenge == 0
    r = Reader(c.build_ticket_request())
    assert CephXRequestHeader.decode(r).request_type == 0x100
    req = CephXAuthenticate.decode(r)
    assert req.key == challenge_key(KEY, 0, req.client_challenge)
    assert req.other_keys == AUTH | OSD
    # AUTH valid, OSD due: GET_PRINCIPAL_SESSION_KEY with a 64-bit nonce, at `now`
    c = env.client(want=OSD, rng=MaxRandom())
    c.global_id = 4096
    c.add_ticket(env.ticket(AUTH, validity=72 * 3600))
    c.add_ticket(env.ticket(OSD))
    env.clock.now = T0 + 100 * 3600  # past every expiry; `now` is what counts
    now = T0 + 3000
    r = Reader(c.build_ticket_request(now))
    assert CephXRequestHeader.decode(r).request_type == 0x200
    env.clock.now = T0
    v = env.mon.verify_authorizer(r, AUTH)
    assert v.authorize.nonce == 2**64 - 1
    assert CephXServiceTicketRequest.decode(r).keys == OSD
    # want_keys changed to leave AUTH out and no AUTH ticket: a readable error
    c = env.client(want=OSD)
    c.want_keys = OSD
    with pytest.raises(AuthFailed, match=f"^{FAILED}no valid AUTH ticket to renew service "
                       "tickets with$"):
        c.build_ticket_request()


def test_handle_ticket_reply_failures() -> None:
    env = Env()
    c = env.client()
    with pytest.raises(AuthFailed) as ei:
        c.handle_ticket_reply(CephXResponseHeader(0x100, -errno.EBUSY).to_bytes())
    assert (str(ei.value), ei.value.result) == (describe_result(ADMIN, -errno.EBUSY),
                                                -errno.EBUSY)
    assert c.last_error is ei.value
    with pytest.raises(AuthFailed, match=f"^{FAILED}service tickets arrived without an AUTH "
                       "ticket$"):
        c.handle_ticket_reply(session_reply([env.grant(OSD)], request_type=0x200))
    with pytest.raises(AuthFailed, match=f"^{FAILED}unexpected cephx reply type "
                       "0x400$") as ei:
        c.handle_ticket_reply(CephXResponseHeader(0x400, 0).to_bytes())
    assert ei.value.result == EINVAL
    with pytest.raises(AuthFailed, match=f"^{FAILED}malformed reply from the monitor: ") as ei:
        c.handle_ticket_reply(b"\x00")
    assert ei.value.result == EINVAL
    auth = env.ticket(AUTH)
    c.add_ticket(auth)
    with pytest.raises(AuthFailed, match=f"^{FAILED}cannot decrypt the service tickets: "):
        c.handle_ticket_reply(session_reply([env.grant(OSD)], OTHER, request_type=0x200))
    w = Writer()
    CephXResponseHeader(0x200, 0).encode(w)
    with pytest.raises(AuthFailed, match=f"^{FAILED}cannot decrypt the service tickets: "
                       "encrypted ticket for service 4 but no old session key$"):
        c.handle_ticket_reply(w.getvalue() + _extra_with_encrypted_blob(auth.session_key))


def test_handle_ticket_reply_takes_now() -> None:
    env = Env()
    c = env.client()
    c.add_ticket(env.ticket(AUTH))
    c.handle_ticket_reply(session_reply([env.grant(OSD)], c.tickets[AUTH].session_key,
                                        request_type=0x200), now=T0 + 50)
    assert c.tickets[OSD].expires == T0 + 50 + 3600
    c.handle_ticket_reply(session_reply([env.grant(AUTH)]), now=T0 + 70)
    assert c.tickets[AUTH].expires == T0 + 70 + 72 * 3600


# -- msgr v1 ---------------------------------------------------------------------------


def test_v1_exchange() -> None:
    env = Env()
    c = env.client(want=MON | OSD)
    hello = c.build_v1_hello()
    res = env.mon.handle_mauth(None, 0, hello)
    nxt = c.handle_v1_reply(res.protocol, res.result, res.global_id, res.result_bl)
    assert c.global_id == 4096
    assert nxt is not None
    res = env.mon.handle_mauth(res.session, AUTH_CEPHX, nxt)
    assert c.handle_v1_reply(res.protocol, res.result, res.global_id, res.result_bl) is None
    assert set(c.tickets) == {AUTH, MON, OSD}


def test_v1_reply_failures() -> None:
    env = Env()
    c = env.client()
    c.build_v1_hello()
    with pytest.raises(AuthFailed) as ei:
        c.handle_v1_reply(AUTH_CEPHX, -errno.EACCES, 0, b"")
    assert (str(ei.value), ei.value.result) == (describe_result(ADMIN, EACCES), EACCES)
    with pytest.raises(AuthFailed, match=f"^{FAILED}monitor chose unknown auth protocol "
                       "5$") as ei:
        c.handle_v1_reply(5, 0, 0, b"")
    assert ei.value.result == EINVAL
    with pytest.raises(AuthFailed, match=f"^{FAILED}malformed challenge from the monitor: "
                       ) as ei:
        c.handle_v1_reply(AUTH_CEPHX, 0, 0, b"\x01")
    assert ei.value.result == EINVAL
    assert c.handle_v1_reply(AUTH_NONE, 0, 31, b"") is None
    assert c.global_id == 31


def test_v1_reply_without_hello_is_a_ticket_reply() -> None:
    env = Env()
    c = env.client(want=MON)
    c.add_ticket(env.ticket(AUTH))
    reply = session_reply([env.grant(MON)], c.tickets[AUTH].session_key, request_type=0x200)
    env.clock.now = T0 + 10 * 3600
    assert c.handle_v1_reply(AUTH_CEPHX, 0, 0, reply, now=T0) is None
    assert c.tickets[MON].expires == T0 + 3600


def test_v1_reply_asks_for_what_is_still_missing() -> None:
    env = Env()
    c = env.client(want=OSD)
    # the monitor granted only the AUTH ticket: the client asks again (at `now`, not
    # at the clock's time, when every ticket would be due)
    env.clock.now = T0 + 10**6
    nxt = c.handle_v1_reply(AUTH_CEPHX, 0, 4096, session_reply([env.grant(AUTH)]), now=T0)
    assert nxt is not None
    r = Reader(nxt)
    assert CephXRequestHeader.decode(r).request_type == 0x200
    CephXAuthorizer.decode(r)
    assert CephXServiceTicketRequest.decode(r).keys == OSD
