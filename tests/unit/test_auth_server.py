"""cephx server (CephxAuthServer) driven directly: exact replies, error codes and
state for every branch of the mon exchange, MAuth (msgr v1), ticket renewal,
global_id reclaim and authorizer verification (Ceph's CephxServiceHandler.cc and
cephx_verify_authorizer in CephxProtocol.cc)."""

from __future__ import annotations

import errno
import random

import pytest

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer, ModeOptions
from asyncmsgr.auth.cephx.client import CephxClient, build_authorizer
from asyncmsgr.auth.cephx.crypto import challenge_key, dec_bl, enc_bl, pull_decrypted
from asyncmsgr.auth.cephx.keyserver import KeyServer
from asyncmsgr.auth.cephx.server import CephxAuthServer, MAuthResult, MonSession
from asyncmsgr.auth.cephx.tickets import Ticket, decode_ticket_reply
from asyncmsgr.auth.cephx.types import (
    AuthCapsInfo,
    CephXAuthenticate,
    CephXAuthorize,
    CephXAuthorizeChallenge,
    CephXAuthorizer,
    CephXAuthorizeReply,
    CephXRequestHeader,
    CephXResponseHeader,
    CephXServerChallenge,
    CephXTicketBlob,
)
from asyncmsgr.auth.keyring import CryptoKey, Keyring
from asyncmsgr.auth.none import encode_none_payload
from asyncmsgr.errors import AuthFailed
from asyncmsgr.frames.v2 import (
    AUTH_CEPHX,
    AUTH_NONE,
    CON_MODE_CRC,
    CON_MODE_SECURE,
    CON_MODE_UNKNOWN,
)
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import push_auth_name

KEY = CryptoKey.from_base64("AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==")
ADMIN = AuthName(EntityType.CLIENT, "admin")
NOCAPS = AuthName(EntityType.CLIENT, "nocaps")
BOB = AuthName(EntityType.CLIENT, "bob")
MON_A = AuthName(EntityType.MON, "a")
OSD_0 = AuthName(EntityType.OSD, "0")
MON, MDS, OSD, MGR, AUTH = (EntityType.MON, EntityType.MDS, EntityType.OSD, EntityType.MGR,
                            EntityType.AUTH)
T0 = 1_700_000_000.0
KEYRING = Keyring.from_text(f"""
[client.admin]
    key = {KEY.to_base64()}
    caps mon = "allow *"
    caps osd = "allow *"
    caps auth = "never in an AUTH ticket"
[client.nocaps]
    key = {KEY.to_base64()}
[client.bob]
    key = {KEY.to_base64()}
    caps mon = "allow r"
""")
EACCES, EPERM, EINVAL, EOPNOTSUPP = -errno.EACCES, -errno.EPERM, -errno.EINVAL, -errno.EOPNOTSUPP
FAIL = b"", None, b""


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class Env:
    def __init__(self, *, methods: tuple[int, ...] = (AUTH_CEPHX,),
                 modes: ModeOptions | None = None) -> None:
        self.clock = Clock()
        self.ks = KeyServer(KEYRING, clock=self.clock, rng=random.Random(1))
        self.mon = CephxAuthServer(self.ks, MON_A, self.clock, role="mon",
                                   rng=random.Random(2), methods=methods,
                                   modes=modes or ModeOptions())
        self.osd = CephxAuthServer(self.ks, OSD_0, self.clock, rng=random.Random(3),
                                   methods=methods, modes=modes or ModeOptions())

    def client(self, name: AuthName = ADMIN, want: int = MON | OSD | MGR) -> CephxClient:
        return CephxClient(name, KEY, clock=self.clock, rng=random.Random(4), want_keys=want)


def peer(peer_type: int, my_type: int = EntityType.CLIENT) -> AuthPeer:
    return AuthPeer(peer_type=peer_type, peer_addrs=EntityAddrVec(), my_type=my_type)


def mon_hello(name: AuthName = ADMIN, gid: int = 0, mode: int = 10) -> bytes:
    w = Writer()
    w.push_u8(mode)
    push_auth_name(w, name)
    w.push_u64(gid)
    return w.getvalue()


def authenticate(session: MonSession, *, key: CryptoKey = KEY, cc: int = 99,
                 old: CephXTicketBlob | None = None, other: int = 0,
                 wrong: bool = False) -> bytes:
    k = challenge_key(key, session.server_challenge, cc) ^ (1 if wrong else 0)
    return CephXRequestHeader(0x100).to_bytes() + CephXAuthenticate(
        cc, k, old or CephXTicketBlob(), other).to_bytes()


def reply_tickets(bl: bytes, key: CryptoKey, old: dict[int, CryptoKey] | None = None
                  ) -> tuple[CephXResponseHeader, list[Ticket], Reader]:
    r = Reader(bl)
    header = CephXResponseHeader.decode(r)
    return header, decode_ticket_reply(r, key, T0, old or {}), r


def mon_login(env: Env, client: CephxClient, meta: AuthConnectionMeta | None = None
              ) -> AuthConnectionMeta:
    """The msgr2 mon exchange, client and server objects only."""
    cmeta = AuthConnectionMeta()
    smeta = meta or AuthConnectionMeta()
    req = client.get_auth_request(peer(MON), cmeta)
    more = env.mon.handle_auth_request(peer(EntityType.CLIENT), smeta, False, AUTH_CEPHX,
                                       req.payload)
    answer = client.handle_auth_reply_more(peer(MON), cmeta, more.payload)
    done = env.mon.handle_auth_request(peer(EntityType.CLIENT), smeta, True, AUTH_CEPHX,
                                       answer)
    cmeta.con_mode = smeta.con_mode
    client.handle_auth_done(peer(MON), cmeta, done.global_id, smeta.con_mode or CON_MODE_CRC,
                            done.payload)
    return smeta


# -- methods and modes -----------------------------------------------------------------


def test_supported_methods_and_modes_follow_the_options() -> None:
    modes = ModeOptions(mon_service="secure", mon_cluster="crc", service="crc",
                        cluster="secure", client="secure crc")
    env = Env(methods=(AUTH_CEPHX, AUTH_NONE), modes=modes)
    assert env.mon.get_supported_auth_methods(EntityType.CLIENT) == (
        (AUTH_CEPHX, AUTH_NONE), (CON_MODE_SECURE,))
    assert env.mon.get_supported_auth_methods(MON) == ((AUTH_CEPHX, AUTH_NONE),
                                                       (CON_MODE_CRC,))
    # an osd: ms_service_mode towards clients, ms_cluster_mode towards daemons; never
    # the client option (it is a daemon)
    assert env.osd.get_supported_auth_methods(EntityType.CLIENT)[1] == (CON_MODE_CRC,)
    assert env.osd.get_supported_auth_methods(OSD)[1] == (CON_MODE_SECURE,)
    both = (CON_MODE_SECURE, CON_MODE_CRC)
    assert env.osd.pick_con_mode(EntityType.CLIENT, AUTH_CEPHX, both) == CON_MODE_CRC
    assert env.osd.pick_con_mode(OSD, AUTH_CEPHX, both) == CON_MODE_SECURE
    assert env.osd.pick_con_mode(OSD, AUTH_NONE, both) == CON_MODE_UNKNOWN
    assert env.osd.pick_con_mode(EntityType.CLIENT, AUTH_NONE, both) == CON_MODE_CRC
    assert Env().osd.pick_con_mode(EntityType.CLIENT, AUTH_NONE, both) == CON_MODE_UNKNOWN


# -- handle_auth_request dispatch ------------------------------------------------------


def test_refused_methods_and_stray_rounds() -> None:
    env = Env()
    meta = AuthConnectionMeta()
    with pytest.raises(AuthFailed, match=r"^cephx: auth method 1 not allowed$") as ei:
        env.mon.handle_auth_request(peer(MON), meta, False, AUTH_NONE, b"")
    assert ei.value.result == EOPNOTSUPP
    env.mon.methods = (AUTH_CEPHX, 3)
    with pytest.raises(AuthFailed, match=r"^cephx: auth method 3 not supported$") as ei:
        env.mon.handle_auth_request(peer(MON), meta, False, 3, b"")
    assert ei.value.result == EOPNOTSUPP
    with pytest.raises(AuthFailed, match=r"^cephx: AUTH_REQUEST_MORE without a pending "
                       r"cephx exchange$") as ei:
        env.mon.handle_auth_request(peer(MON), meta, True, AUTH_CEPHX, b"")
    assert ei.value.result == EINVAL
    with pytest.raises(AuthFailed, match=r"^cephx: malformed request: ") as ei:
        env.mon.handle_auth_request(peer(MON), meta, False, AUTH_CEPHX, b"\x0a\x08")
    assert ei.value.result == EPERM


def test_auth_none_through_the_cephx_server() -> None:
    env = Env(methods=(AUTH_CEPHX, AUTH_NONE))
    meta = AuthConnectionMeta(session_key=b"k", connection_secret=b"s")
    rep = env.osd.handle_auth_request(peer(OSD), meta, False, AUTH_NONE,
                                      encode_none_payload(ADMIN, 0, to_mon=False))
    assert (rep.done, rep.payload, rep.global_id) == (True, b"", 4096)
    assert (meta.peer_name, meta.peer_global_id, meta.session_key,
            meta.connection_secret) == (ADMIN, 4096, b"", b"")
    rep = env.osd.handle_auth_request(peer(OSD), meta, False, AUTH_NONE,
                                      encode_none_payload(ADMIN, 12, to_mon=False))
    assert rep.global_id == meta.peer_global_id == 12
    with pytest.raises(AuthFailed, match=r"^cephx: auth none has one round$") as ei:
        env.osd.handle_auth_request(peer(OSD), meta, True, AUTH_NONE,
                                    encode_none_payload(ADMIN, 0, to_mon=False))
    assert ei.value.result == EINVAL


def test_mon_mode_bytes_10_to_19_start_a_mon_session() -> None:
    env = Env()
    for mode in (10, 19):
        rep = env.mon.handle_auth_request(peer(EntityType.CLIENT), AuthConnectionMeta(),
                                          False, AUTH_CEPHX, mon_hello(mode=mode))
        assert rep.done is False
        assert CephXServerChallenge.from_bytes(rep.payload).server_challenge > 0
    # 20 is not a mon mode: it is read as an authorizer (struct_v 20), which this
    # hello is not
    with pytest.raises(AuthFailed, match=r"^cephx: malformed request"):
        env.mon.handle_auth_request(peer(EntityType.CLIENT), AuthConnectionMeta(), False,
                                    AUTH_CEPHX, mon_hello(mode=20))


def test_new_request_forgets_the_previous_exchange() -> None:
    env = Env()
    meta = AuthConnectionMeta()
    env.mon.handle_auth_request(peer(EntityType.CLIENT), meta, False, AUTH_CEPHX,
                                mon_hello())
    assert "cephx_server" in meta.method_state
    with pytest.raises(AuthFailed):
        env.mon.handle_auth_request(peer(EntityType.CLIENT), meta, False, AUTH_CEPHX,
                                    b"\x01")
    assert "cephx_server" not in meta.method_state
    with pytest.raises(AuthFailed, match="without a pending cephx exchange"):
        env.mon.handle_auth_request(peer(EntityType.CLIENT), meta, True, AUTH_CEPHX, b"")


# -- the msgr2 mon exchange ------------------------------------------------------------


@pytest.mark.parametrize(("con_mode", "secret_len"), [(CON_MODE_CRC, 0),
                                                      (CON_MODE_SECURE, 64)])
def test_mon_exchange_fills_meta(con_mode: int, secret_len: int) -> None:
    env = Env()
    client = env.client()
    smeta = mon_login(env, client, AuthConnectionMeta(con_mode=con_mode))
    assert smeta.peer_name == ADMIN
    assert smeta.peer_global_id == 4096
    assert smeta.session_key == client.tickets[AUTH].session_key.secret
    assert len(smeta.connection_secret) == secret_len
    assert "cephx_server" not in smeta.method_state
    assert client.global_id == 4096


def test_mon_exchange_refusal_names_the_entity() -> None:
    env = Env()
    meta = AuthConnectionMeta()
    env.mon.handle_auth_request(peer(EntityType.CLIENT), meta, False, AUTH_CEPHX,
                                mon_hello(NOCAPS))
    session = meta.method_state["cephx_server"]
    assert isinstance(session, MonSession)
    with pytest.raises(AuthFailed, match=r"^cephx: authentication of client.nocaps "
                       r"refused$") as ei:
        env.mon.handle_auth_request(peer(EntityType.CLIENT), meta, True, AUTH_CEPHX,
                                    authenticate(session))
    assert ei.value.result == EACCES


def test_start_session() -> None:
    env = Env()
    with pytest.raises(AuthFailed, match=r"^cephx: osd.0 is not a monitor$") as ei:
        env.osd.start_session(ADMIN, 0)
    assert ei.value.result == EOPNOTSUPP

    class Lowest(random.Random):
        def randint(self, a: int, b: int) -> int:
            assert b == (1 << 64) - 1
            return a

    env.mon.rng = Lowest()
    s = env.mon.start_session(ADMIN, 0)
    assert (s.name, s.global_id, s.reclaim, s.server_challenge, s.authenticated) == (
        ADMIN, 4096, False, 1, False)
    s = env.mon.start_session(ADMIN, 5000)
    assert (s.global_id, s.reclaim) == (5000, True)


# -- handle_request: GET_AUTH_SESSION_KEY ----------------------------------------------


def test_handle_request_malformed_and_unknown() -> None:
    env = Env()
    s = env.mon.start_session(ADMIN, 0)
    assert env.mon.handle_request(s, b"\x01") == (EPERM, *FAIL)
    assert env.mon.handle_request(s, CephXRequestHeader(0x100).to_bytes() + b"\x03") == \
        (EPERM, *FAIL)
    assert env.mon.handle_request(s, CephXRequestHeader(0x400).to_bytes()) == (EINVAL, *FAIL)
    # service tickets only for an authenticated session
    assert env.mon.handle_request(s, CephXRequestHeader(0x200).to_bytes()) == (EINVAL, *FAIL)
    s.authenticated = True
    assert env.mon.handle_request(s, CephXRequestHeader(0x400).to_bytes()) == (EINVAL, *FAIL)


def test_wrong_key_unknown_entity_no_caps() -> None:
    env = Env()
    s = env.mon.start_session(ADMIN, 0)
    assert env.mon.handle_request(s, authenticate(s, wrong=True)) == (EACCES, *FAIL)
    assert not s.authenticated
    s = env.mon.start_session(AuthName(EntityType.CLIENT, "ghost"), 0)
    assert env.mon.handle_request(s, authenticate(s)) == (EPERM, *FAIL)
    s = env.mon.start_session(NOCAPS, 0)
    assert env.mon.handle_request(s, authenticate(s)) == (EACCES, *FAIL)
    env.mon.require_mon_caps = False
    assert env.mon.handle_request(s, authenticate(s))[0] == 0
    s = env.mon.start_session(ADMIN, 0)
    s.server_challenge = 0
    assert env.mon.handle_request(s, authenticate(s)) == (EPERM, *FAIL)


def test_auth_session_key_reply_layout() -> None:
    env = Env()
    s = env.mon.start_session(ADMIN, 0)
    status, bl, key, secret = env.mon.handle_request(s, authenticate(s))
    assert (status, secret) == (0, b"")
    assert s.authenticated
    header, (auth,), r = reply_tickets(bl, KEY)
    assert (header.request_type, header.status) == (0x100, 0)
    assert r.at_end()  # no other_keys: no cbl/extra
    assert auth.service_id == AUTH
    assert auth.session_key == key
    info = env.ks.decode_ticket(AUTH, auth.ticket)
    # the AUTH ticket carries no caps (CephxServiceHandler leaves them empty)
    assert info.ticket.caps == AuthCapsInfo()
    assert (info.ticket.name, info.ticket.global_id) == (ADMIN, 4096)


def test_other_keys_msgr1_and_msgr2() -> None:
    env = Env()
    # msgr v1 (the default): cbl is sent empty
    s = env.mon.start_session(ADMIN, 0)
    status, bl, key, secret = env.mon.handle_request(s, authenticate(s, other=AUTH | OSD))
    assert status == 0
    assert secret == b""
    assert key is not None
    _h, _t, r = reply_tickets(bl, KEY)
    assert r.pull_blob() == b""
    extra = decode_ticket_reply(Reader(r.pull_blob()), key, T0, {})
    assert [t.service_id for t in extra] == [OSD]  # AUTH is not repeated
    assert r.at_end()
    # msgr2 without a secret length (crc mode): cbl holds an empty secret
    s = env.mon.start_session(ADMIN, 0)
    status, bl, key, secret = env.mon.handle_request(s, authenticate(s, other=MON | MDS),
                                                     msgr2=True)
    assert status == 0
    assert secret == b""
    assert key is not None
    _h, _t, r = reply_tickets(bl, KEY)
    assert pull_decrypted(Reader(r.pull_blob()), key).pull_blob() == b""
    extra = decode_ticket_reply(Reader(r.pull_blob()), key, T0, {})
    assert [t.service_id for t in extra] == [MON, MDS]
    # msgr2 secure: 64 bytes, the same in cbl and returned
    s = env.mon.start_session(ADMIN, 0)
    status, bl, key, secret = env.mon.handle_request(s, authenticate(s, other=MGR), 64,
                                                     msgr2=True)
    assert len(secret) == 64
    assert key is not None
    _h, _t, r = reply_tickets(bl, KEY)
    assert pull_decrypted(Reader(r.pull_blob()), key).pull_blob() == secret


def test_superfluous_old_ticket_for_a_new_global_id() -> None:
    env = Env()
    s = env.mon.start_session(ADMIN, 0)
    old = env.ks.build_grant(AUTH, ADMIN, 4096).ticket
    assert env.mon.handle_request(s, authenticate(s, old=old)) == (EINVAL, *FAIL)


def test_global_id_reclaim() -> None:
    env = Env()
    prev = env.ks.build_grant(AUTH, ADMIN, 5000)
    # no old ticket, another name's ticket, another global id's ticket: refused
    for old in (None, env.ks.build_grant(AUTH, BOB, 5000).ticket,
                env.ks.build_grant(AUTH, ADMIN, 5001).ticket,
                CephXTicketBlob(prev.ticket.secret_id, b"x" * 16)):
        s = env.mon.start_session(ADMIN, 5000)
        assert env.mon.handle_request(s, authenticate(s, old=old)) == (EACCES, *FAIL)
    s = env.mon.start_session(ADMIN, 5000)
    status, bl, key, _secret = env.mon.handle_request(s, authenticate(s, old=prev.ticket))
    assert status == 0
    assert s.global_id == 5000
    # the new ticket blob is encrypted with the old ticket's session key
    r = Reader(bl)
    CephXResponseHeader.decode(r)
    r.pull_bytes(1 + 4 + 4 + 1)
    pull_decrypted(r, KEY)
    assert r.pull_u8() == 1
    (auth,) = decode_ticket_reply(Reader(bl[6:]), KEY, T0, {AUTH: prev.session_key})
    assert env.ks.decode_ticket(AUTH, auth.ticket).ticket.global_id == 5000
    assert auth.session_key == key


def test_renewal_over_an_authenticated_session() -> None:
    """CephxServiceHandler::verify_old_ticket: once authenticated (NEW_OK), another
    GET_AUTH_SESSION_KEY must present the old ticket, and the new blob is then
    encrypted with its session key (should_enc_ticket)."""
    env = Env()
    s = env.mon.start_session(ADMIN, 0)
    status, bl, _key, _ = env.mon.handle_request(s, authenticate(s))
    (auth,) = reply_tickets(bl, KEY)[1]
    assert env.mon.handle_request(s, authenticate(s, cc=5)) == (EACCES, *FAIL)
    status, bl, _key, _ = env.mon.handle_request(s, authenticate(s, old=auth.ticket))
    assert status == 0
    r = Reader(bl)
    CephXResponseHeader.decode(r)
    r.pull_bytes(1 + 4 + 4 + 1)
    pull_decrypted(r, KEY)
    assert r.pull_u8() == 1
    (new,) = decode_ticket_reply(Reader(bl[6:]), KEY, T0, {AUTH: auth.session_key})
    assert env.ks.decode_ticket(AUTH, new.ticket).ticket.name == ADMIN
    other = env.ks.build_grant(AUTH, ADMIN, 9999).ticket
    assert env.mon.handle_request(s, authenticate(s, old=other)) == (EACCES, *FAIL)


# -- handle_request: GET_PRINCIPAL_SESSION_KEY -----------------------------------------


def test_principal_session_key() -> None:
    env = Env()
    client = env.client(want=MON | OSD)
    s = env.mon.start_session(ADMIN, 0)
    client.server_challenge = s.server_challenge
    status, bl, _key, _ = env.mon.handle_request(s, authenticate(s))
    client.handle_ticket_reply(bl)
    client.global_id = s.global_id
    req = client.build_ticket_request()
    assert req[:2] == b"\x00\x02"
    status, bl, key, secret = env.mon.handle_request(s, req)
    assert (status, key, secret) == (0, None, b"")
    header, tickets, r = reply_tickets(bl, client.tickets[AUTH].session_key)
    assert (header.request_type, header.status) == (0x200, 0)
    assert [t.service_id for t in tickets] == [MON, OSD]
    assert r.at_end()
    # a bad authorizer or a truncated request: -EPERM
    assert env.mon.handle_request(s, req[:2] + b"\x01") == (EPERM, *FAIL)
    assert env.mon.handle_request(s, req[:-1]) == (EPERM, *FAIL)


# -- MAuth (msgr v1) -------------------------------------------------------------------


def v1_hello(methods: list[int], name: AuthName = ADMIN, gid: int = 0) -> bytes:
    w = Writer()
    w.push_u8(1)
    w.push_u32(len(methods))
    for m in methods:
        w.push_u32(m)
    push_auth_name(w, name)
    w.push_u64(gid)
    return w.getvalue()


def test_mauth_start() -> None:
    env = Env(methods=(AUTH_CEPHX, AUTH_NONE))
    assert env.mon.handle_mauth(None, 0, b"\x01") == MAuthResult(0, EINVAL, 0, b"", None)
    assert env.mon.handle_mauth(None, 0, v1_hello([7, 9])) == \
        MAuthResult(0, EOPNOTSUPP, 0, b"", None)
    assert env.mon.handle_mauth(None, 0, v1_hello([AUTH_NONE, AUTH_CEPHX])) == \
        MAuthResult(AUTH_NONE, 0, 4096, b"", None)
    assert env.mon.handle_mauth(None, 0, v1_hello([AUTH_NONE], gid=77)) == \
        MAuthResult(AUTH_NONE, 0, 77, b"", None)
    res = env.mon.handle_mauth(None, 0, v1_hello([9, AUTH_CEPHX, AUTH_NONE]))
    assert res.session is not None
    assert (res.protocol, res.result, res.global_id) == (AUTH_CEPHX, 0, 4097)
    assert res.result_bl == CephXServerChallenge(res.session.server_challenge).to_bytes()
    # a long method list is fine: each entry is a u32
    res = env.mon.handle_mauth(None, 0, v1_hello([AUTH_CEPHX] * 30))
    assert (res.protocol, res.result) == (AUTH_CEPHX, 0)


def test_mauth_continue() -> None:
    env = Env()
    res = env.mon.handle_mauth(None, 0, v1_hello([AUTH_CEPHX]))
    s = res.session
    assert s is not None
    assert env.mon.handle_mauth(None, AUTH_CEPHX, b"") == \
        MAuthResult(AUTH_CEPHX, EINVAL, 0, b"", None)
    assert env.mon.handle_mauth(s, AUTH_NONE, authenticate(s)) == \
        MAuthResult(AUTH_NONE, EINVAL, 0, b"", s)
    assert not s.authenticated
    res = env.mon.handle_mauth(s, AUTH_CEPHX, authenticate(s, wrong=True))
    assert res == MAuthResult(AUTH_CEPHX, EACCES, 4096, b"", s)
    res = env.mon.handle_mauth(s, AUTH_CEPHX, authenticate(s))
    assert (res.protocol, res.result, res.global_id, res.session) == (AUTH_CEPHX, 0, 4096, s)
    assert reply_tickets(res.result_bl, KEY)[1][0].service_id == AUTH


# -- authorizers -----------------------------------------------------------------------


def _ticket(env: Env, sid: int = OSD, gid: int = 4096, name: AuthName = ADMIN) -> Ticket:
    g = env.ks.build_grant(sid, name, gid)
    return Ticket(sid, g.session_key, g.ticket, 3600.0, T0 + 3600, T0 + 2700)


def test_verify_authorizer_checks() -> None:
    env = Env()
    t = _ticket(env)
    v = env.osd.verify_authorizer(Reader(build_authorizer(4096, t, 55)), OSD)
    assert (v.authorizer.global_id, v.authorizer.service_id) == (4096, OSD)
    assert (v.info.ticket.name, v.authorize.nonce) == (ADMIN, 55)
    cases = [
        (build_authorizer(4096, _ticket(env, MGR), 1), r"authorizer for service 16, we are 4"),
        (CephXAuthorizer(4096, OSD, CephXTicketBlob(42, t.ticket.blob), b"").to_bytes(),
         r"unknown ticket secret: .*no osd secret with id 42"),
        (CephXAuthorizer(4096, OSD, CephXTicketBlob(t.ticket.secret_id, b"z" * 32),
                         b"").to_bytes(), r"ticket does not decrypt: "),
        (build_authorizer(4097, t, 1), r"authorizer global_id does not match its ticket"),
        (CephXAuthorizer(4096, OSD, t.ticket, enc_bl(KEY, CephXAuthorize(1).to_bytes())
                         ).to_bytes(), r"authorize message does not decrypt: "),
    ]
    for payload, message in cases:
        with pytest.raises(AuthFailed, match=f"^cephx: {message}") as ei:
            env.osd.verify_authorizer(Reader(payload), OSD)
        assert ei.value.result == EACCES


def test_verify_authorizer_expiry_boundary() -> None:
    env = Env()
    t = _ticket(env)
    env.clock.now = T0 + 3599.999
    env.osd.verify_authorizer(Reader(build_authorizer(4096, t, 1)), OSD)
    env.clock.now = T0 + 3600
    with pytest.raises(AuthFailed, match=r"^cephx: ticket of client.admin expired$") as ei:
        env.osd.verify_authorizer(Reader(build_authorizer(4096, t, 1)), OSD)
    assert ei.value.result == EACCES


def test_authorizer_exchange() -> None:
    env = Env()
    t = _ticket(env)
    meta = AuthConnectionMeta(con_mode=CON_MODE_SECURE)
    rep = env.osd.handle_auth_request(peer(OSD), meta, False, AUTH_CEPHX,
                                      build_authorizer(4096, t, 2**64 - 1))
    assert rep.done is False
    ch = CephXAuthorizeChallenge.from_bytes(dec_bl(t.session_key, rep.payload))
    st = meta.method_state["cephx_server"]
    assert ch.server_challenge == st.challenge  # type: ignore[attr-defined]
    # a wrong answer (no challenge, or challenge + 2) is refused
    for have, plus in ((False, ch.server_challenge + 1), (True, ch.server_challenge + 2)):
        with pytest.raises(AuthFailed, match=r"^cephx: authorizer challenge answer is "
                           r"wrong$") as ei:
            env.osd.handle_auth_request(
                peer(OSD), meta, True, AUTH_CEPHX, build_authorizer(
                    4096, t, 2**64 - 1, have_challenge=have,
                    server_challenge_plus_one=plus & (2**64 - 1)))
        assert ei.value.result == EACCES
    rep = env.osd.handle_auth_request(
        peer(OSD), meta, True, AUTH_CEPHX, build_authorizer(
            4096, t, 2**64 - 1, have_challenge=True,
            server_challenge_plus_one=(ch.server_challenge + 1) & (2**64 - 1)))
    assert (rep.done, rep.global_id) == (True, 4096)
    reply = CephXAuthorizeReply.decode(pull_decrypted(Reader(rep.payload), t.session_key))
    assert reply.nonce_plus_one == 0  # nonce + 1 wraps at 2**64
    assert len(reply.connection_secret) == 64
    assert (meta.session_key, meta.connection_secret, meta.peer_name,
            meta.peer_global_id) == (t.session_key.secret, reply.connection_secret, ADMIN,
                                     4096)
    assert "cephx_server" not in meta.method_state
    # crc: no secret, a v1 reply
    meta = AuthConnectionMeta(con_mode=CON_MODE_CRC)
    rep = env.osd.handle_auth_request(peer(OSD), meta, False, AUTH_CEPHX,
                                      build_authorizer(4096, t, 5))
    ch = CephXAuthorizeChallenge.from_bytes(dec_bl(t.session_key, rep.payload))
    rep = env.osd.handle_auth_request(
        peer(OSD), meta, True, AUTH_CEPHX, build_authorizer(
            4096, t, 5, have_challenge=True, server_challenge_plus_one=ch.server_challenge + 1))
    reply = CephXAuthorizeReply.decode(pull_decrypted(Reader(rep.payload), t.session_key))
    assert (reply.nonce_plus_one, reply.connection_secret, meta.connection_secret) == (
        6, b"", b"")
