"""cephx client <-> server through real ProtocolV2 machines (in memory, injected
clock): mon authentication, authorizers with challenge, modes, failures with
readable errors, auth none alongside, ticket renewal over MAuth, msgr v1 MAuth,
global_id reclaim, and the secure-mode nonce limit."""

from __future__ import annotations

import random

import pytest

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer, ModeOptions
from asyncmsgr.auth.cephx import CephxAuthServer, CephxClient, CryptoKey, Keyring, KeyServer
from asyncmsgr.auth.cephx.client import build_authorizer
from asyncmsgr.crypto.onwire import GcmTx, SecureKeys
from asyncmsgr.errors import AuthFailed
from asyncmsgr.frames.v2 import AUTH_CEPHX, AUTH_NONE, CON_MODE_CRC, CON_MODE_SECURE
from asyncmsgr.messages import MPing
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import State
from asyncmsgr.protocol.v2 import ProtocolV2
from asyncmsgr.testing.v2pair import ProtocolPair
from asyncmsgr.types import AuthName, EntityAddrVec, EntityName, EntityType

ADMIN = AuthName(EntityType.CLIENT, "admin")
ADMIN_KEY = CryptoKey.from_base64("AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==")
WRONG_KEY = CryptoKey.aes(bytes(range(16)))
KEYRING = Keyring.from_text(f"""
[client.admin]
    key = {ADMIN_KEY.to_base64()}
    caps mon = "allow *"
    caps osd = "allow *"
[client.nocaps]
    key = {ADMIN_KEY.to_base64()}
""")
MON = AuthName(EntityType.MON, "a")
OSD = AuthName(EntityType.OSD, "0")
MON_PEER = AuthPeer(peer_type=EntityType.MON, peer_addrs=EntityAddrVec(),
                    my_type=EntityType.CLIENT)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def state(side: ProtocolBase) -> State:
    return side.state


def setup(modes: ModeOptions | None = None, **client_kw: object) -> tuple[
        Clock, KeyServer, CephxAuthServer, CephxAuthServer, CephxClient]:
    clock = Clock()
    ks = KeyServer(KEYRING, clock=clock, rng=random.Random(1))
    mon = CephxAuthServer(ks, MON, clock, role="mon", rng=random.Random(2),
                          modes=modes or ModeOptions())
    osd = CephxAuthServer(ks, OSD, clock, rng=random.Random(3), modes=modes or ModeOptions())
    client = CephxClient(ADMIN, ADMIN_KEY, clock=clock, rng=random.Random(4),
                         modes=modes, **client_kw)  # type: ignore[arg-type]
    return clock, ks, mon, osd, client


def pair_to(peer_type: int, client_auth: CephxClient, server_auth: CephxAuthServer
            ) -> ProtocolPair:
    def set_peer(p: ProtocolBase) -> None:
        p.peer_type = peer_type
    pair = ProtocolPair(client_auth=client_auth, server_auth=server_auth, client_setup=set_peer)
    pair.server_registry.my_name = EntityName(peer_type, 0)
    return pair


def ping_both_ways(p: ProtocolPair) -> None:
    p.client.send_message(MPing(priority=127, data=b"c" * 100), p.now)
    p.server.send_message(MPing(priority=127, data=b"s" * 100), p.now)
    p.transfer()
    got_s = [e.message for e in p.server_events if isinstance(e, ev.MessageReceived)]
    got_c = [e.message for e in p.client_events if isinstance(e, ev.MessageReceived)]
    assert [bytes(m.data) for m in got_s] == [b"c" * 100]
    assert [bytes(m.data) for m in got_c] == [b"s" * 100]


@pytest.mark.parametrize(("mode_text", "expect"), [
    ("crc", CON_MODE_CRC), ("secure", CON_MODE_SECURE), ("secure crc", CON_MODE_SECURE),
    ("crc secure", CON_MODE_CRC)])
def test_mon_then_osd(mode_text: str, expect: int) -> None:
    modes = ModeOptions(mon_client=mode_text, client=mode_text, service="crc secure",
                        mon_service="secure crc")
    _clock, _ks, mon, osd, client = setup(modes)
    p = pair_to(EntityType.MON, client, mon)
    p.handshake()
    assert p.client.auth_meta.con_mode == p.server.auth_meta.con_mode == expect
    assert p.client.auth_meta.session_key == p.server.auth_meta.session_key
    assert len(p.client.auth_meta.session_key) == 16
    secret = p.client.auth_meta.connection_secret
    assert secret == p.server.auth_meta.connection_secret
    assert len(secret) == (64 if expect == CON_MODE_SECURE else 0)
    assert client.global_id == 4096
    assert p.server.auth_meta.peer_name == ADMIN
    assert set(client.tickets) == {EntityType.AUTH, EntityType.MON, EntityType.OSD,
                                   EntityType.MGR}
    assert client.tickets[EntityType.AUTH].validity == 72 * 3600
    assert client.tickets[EntityType.OSD].validity == 3600
    ping_both_ways(p)
    # now the osd, through the authorizer with challenge
    q = pair_to(EntityType.OSD, client, osd)
    q.handshake()
    assert q.client.auth_meta.con_mode == expect
    assert q.client.auth_meta.session_key == client.tickets[EntityType.OSD].session_key.secret
    assert q.server.auth_meta.peer_name == ADMIN
    assert q.server.auth_meta.peer_global_id == 4096
    assert len(q.client.auth_meta.connection_secret) == (64 if expect == CON_MODE_SECURE else 0)
    assert q.client.auth_meta.connection_secret == q.server.auth_meta.connection_secret
    ping_both_ways(q)
    assert client.last_error is None


def test_mode_negotiation_follows_client_order_and_server_list() -> None:
    _clock, _ks, mon, _osd, client = setup()
    client.modes = ModeOptions(mon_client="secure crc")
    mon.modes = ModeOptions(mon_service="crc")
    p = pair_to(EntityType.MON, client, mon)
    p.handshake()
    assert p.client.auth_meta.con_mode == CON_MODE_CRC
    # nothing in common: refused, readable error, never READY
    client.modes = ModeOptions(mon_client="secure")
    p = pair_to(EntityType.MON, client, mon)
    p.connect()
    p.transfer()
    assert state(p.client) is not State.READY
    assert client.last_error is not None


@pytest.mark.parametrize("who", ["wrong key", "unknown entity", "no mon caps"])
def test_refused_authentication(who: str) -> None:
    clock, _ks, mon, _osd, _client = setup()
    name = {"wrong key": ADMIN, "unknown entity": AuthName(EntityType.CLIENT, "bob"),
            "no mon caps": AuthName(EntityType.CLIENT, "nocaps")}[who]
    key = WRONG_KEY if who == "wrong key" else ADMIN_KEY
    client = CephxClient(name, key, clock=clock)
    p = pair_to(EntityType.MON, client, mon)
    p.connect()
    p.transfer()
    assert state(p.client) is not State.READY
    assert not [e for e in p.server_events if isinstance(e, ev.Accepted)]
    assert client.last_error is not None
    msg = str(client.last_error)
    assert f"authentication failed for {name}: permission denied" in msg
    assert client.last_error.result == (-1 if who == "unknown entity" else -13)
    assert not client.tickets


def test_osd_without_ticket_or_with_expired_ticket() -> None:
    clock, _ks, mon, osd, client = setup(want_keys=int(EntityType.MON))
    p = pair_to(EntityType.MON, client, mon)
    p.handshake()
    q = pair_to(EntityType.OSD, client, osd)
    q.connect()
    q.transfer()
    assert state(q.client) is not State.READY
    assert "no cephx ticket for osd" in str(client.last_error)
    # an expired ticket (client clock past expiry) is not offered
    _c2, _ks2, mon2, osd2, client2 = setup()
    client2.clock = clock
    pair_to(EntityType.MON, client2, mon2).handshake()
    clock.now += 2 * 3600
    q = pair_to(EntityType.OSD, client2, osd2)
    q.connect()
    q.transfer()
    assert "ticket expired" in str(client2.last_error)


def test_osd_rejects_expired_ticket_even_if_client_offers_it() -> None:
    clock, _ks, mon, osd, client = setup()
    pair_to(EntityType.MON, client, mon).handshake()
    client_clock = Clock()
    client_clock.now = clock.now
    client.clock = client_clock  # the client's clock lags behind
    clock.now += 3601
    q = pair_to(EntityType.OSD, client, osd)
    q.connect()
    q.transfer()
    assert state(q.client) is not State.READY
    assert "permission denied" in str(client.last_error)


def test_tampered_authorizer_answer_is_refused() -> None:
    _clock, _ks, mon, osd, client = setup()
    pair_to(EntityType.MON, client, mon).handshake()
    q = pair_to(EntityType.OSD, client, osd)
    real = client.handle_auth_reply_more

    def wrong_answer(peer: AuthPeer, meta: AuthConnectionMeta, payload: bytes) -> bytes:
        real(peer, meta, payload)
        # answer as if the challenge had not been seen
        st = meta.method_state["cephx"]
        return build_authorizer(client.global_id, st.ticket, st.nonce)  # type: ignore[attr-defined]

    client.handle_auth_reply_more = wrong_answer  # type: ignore[method-assign]
    q.connect()
    q.transfer()
    assert state(q.server) is not State.READY
    assert state(q.client) is not State.READY


@pytest.mark.parametrize(("client_methods", "server_methods"), [
    ((AUTH_NONE,), (AUTH_CEPHX, AUTH_NONE)),
    ((AUTH_CEPHX, AUTH_NONE), (AUTH_NONE,)),
])
def test_auth_none_alongside(client_methods: tuple[int, ...],
                             server_methods: tuple[int, ...]) -> None:
    _clock, _ks, mon, osd, client = setup(methods=client_methods)
    mon.methods = osd.methods = server_methods
    p = pair_to(EntityType.MON, client, mon)
    p.handshake()
    assert p.client.auth_meta.auth_method == AUTH_NONE
    assert p.client.auth_meta.session_key == b""
    assert client.global_id == 4096
    ping_both_ways(p)
    q = pair_to(EntityType.OSD, client, osd)
    q.handshake()
    assert q.server.auth_meta.peer_name == ADMIN


def test_cephx_only_client_against_none_only_server() -> None:
    _clock, _ks, mon, _osd, client = setup()
    mon.methods = (AUTH_NONE,)
    p = pair_to(EntityType.MON, client, mon)
    p.connect()
    p.transfer()
    assert state(p.client) is not State.READY
    assert "does not support this auth method" in str(client.last_error)


# -- renewal over MAuth, msgr v1, reclaim -----------------------------------------------


def _v1_login(client: CephxClient, mon: CephxAuthServer) -> object:
    r = mon.handle_mauth(None, 0, client.build_v1_hello())
    assert r.result == 0
    nxt = client.handle_v1_reply(r.protocol, r.result, r.global_id, r.result_bl)
    session = r.session
    while nxt is not None:
        r = mon.handle_mauth(session, 2, nxt)
        nxt = client.handle_v1_reply(r.protocol, r.result, r.global_id, r.result_bl)
    return session


def test_v1_mauth_login_and_renewals() -> None:
    clock, _ks, mon, osd, client = setup()
    session = _v1_login(client, mon)
    assert client.global_id == 4096
    assert set(client.tickets) == {EntityType.AUTH, EntityType.MON, EntityType.OSD,
                                   EntityType.MGR}
    assert not client.need_tickets()
    old_osd = client.tickets[EntityType.OSD]
    clock.now += 3600 * 0.76  # past renew_after (3/4 of the hour)
    assert client.need_tickets()
    req = client.build_ticket_request()
    assert req[:2] == b"\x00\x02"  # GET_PRINCIPAL_SESSION_KEY
    r = mon.handle_mauth(session, 2, req)  # type: ignore[arg-type]
    assert r.result == 0
    client.handle_ticket_reply(r.result_bl)
    assert client.tickets[EntityType.OSD].expires > old_osd.expires
    assert client.tickets[EntityType.OSD].session_key != old_osd.session_key
    assert not client.need_tickets()
    # the AUTH ticket itself: renewed with the old ticket, same session challenge
    old_auth = client.tickets[EntityType.AUTH]
    clock.now += 72 * 3600 * 0.76
    req = client.build_ticket_request()
    assert req[:2] == b"\x00\x01"
    r = mon.handle_mauth(session, 2, req)  # type: ignore[arg-type]
    assert r.result == 0
    client.handle_ticket_reply(r.result_bl)
    assert client.tickets[EntityType.AUTH].expires > old_auth.expires
    assert not client.need_tickets()
    # and the new tickets work against the osd
    pair_to(EntityType.OSD, client, osd).handshake()


def test_v1_mauth_wrong_key() -> None:
    clock, _ks, mon, _osd, _client = setup()
    client = CephxClient(ADMIN, WRONG_KEY, clock=clock)
    with pytest.raises(AuthFailed, match="permission denied"):
        _v1_login(client, mon)
    assert client.last_error is not None


def test_principal_request_with_forged_authorizer_is_refused() -> None:
    _clock, _ks, mon, _osd, client = setup()
    session = _v1_login(client, mon)
    req = bytearray(client.build_ticket_request(client.clock() + 3000))
    req[40] ^= 1  # inside the AUTH ticket blob
    r = mon.handle_mauth(session, 2, bytes(req))  # type: ignore[arg-type]
    assert r.result == -1


def test_reclaim_global_id_with_old_ticket() -> None:
    _clock, _ks, mon, _osd, client = setup()
    pair_to(EntityType.MON, client, mon).handshake()
    gid = client.global_id
    old = client.tickets[EntityType.AUTH]
    p = pair_to(EntityType.MON, client, mon)
    p.handshake()
    assert client.global_id == gid
    assert p.server.auth_meta.peer_global_id == gid
    assert client.tickets[EntityType.AUTH].ticket != old.ticket
    # a forged old ticket cannot reclaim an id
    client.tickets[EntityType.AUTH] = old.__class__(
        old.service_id, old.session_key, old.ticket.__class__(old.ticket.secret_id,
                                                              b"\x00" * 96),
        old.validity, old.expires, old.renew_after)
    p = pair_to(EntityType.MON, client, mon)
    p.connect()
    p.transfer()
    assert state(p.client) is not State.READY
    assert client.last_error is not None
    assert client.last_error.result == -13


def test_rotating_secrets_expire_old_tickets() -> None:
    clock, ks, mon, _osd, client = setup()
    pair_to(EntityType.MON, client, mon).handshake()
    first = ks.get_service_secret(EntityType.OSD)
    clock.now += 3600 + 1
    second = ks.get_service_secret(EntityType.OSD)
    assert second.secret_id == first.secret_id + 1
    assert ks.find_service_secret(EntityType.OSD, first.secret_id) is not None
    clock.now += 3600
    ks.get_service_secret(EntityType.OSD)
    assert ks.find_service_secret(EntityType.OSD, first.secret_id) is None


# -- secure mode: the nonce counter never wraps ------------------------------------------------


def _limit_tx(p: ProtocolBase, limit: int) -> None:
    assert isinstance(p, ProtocolV2)
    keys = SecureKeys.from_connection_secret(p.auth_meta.connection_secret, crossed=False)
    tx = p._asm.tx
    assert isinstance(tx, GcmTx)
    p._asm.set_tx(GcmTx(keys.key, tx.next_nonce(), nonce_limit=limit))


def test_nonce_exhaustion_faults_the_connection() -> None:
    modes = ModeOptions(mon_client="secure")
    _clock, _ks, mon, _osd, client = setup(modes)
    p = pair_to(EntityType.MON, client, mon)
    p.handshake()
    _limit_tx(p.client, 1)
    p.client.send_message(MPing(priority=127, data=b"one"), p.now)
    p.client.send_message(MPing(priority=127, data=b"two"), p.now)
    p.transfer()  # must not raise out of data_to_send
    got = [e.message for e in p.server_events if isinstance(e, ev.MessageReceived)]
    assert len(got) <= 1
    assert state(p.client) is not State.READY
    assert [e for e in p.client_events if isinstance(e, ev.CloseSocket)]


