"""Integrity and identity checks of issue 16 outside the protocol machines: the
footer crcs ``decode_message`` checks (middle, NOCRC), and the cephx authorizer
whose global_id is not its ticket's (refused with a typed auth error, on the
server and through msgr2 and msgr v1 connections)."""

from __future__ import annotations

import errno
import random

import pytest

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer, AuthRequest
from asyncmsgr.auth.cephx import CephxAuthServer, CephxClient, CryptoKey, Keyring, KeyServer
from asyncmsgr.auth.cephx.client import build_authorizer
from asyncmsgr.errors import AuthFailed, BadMessageCrc
from asyncmsgr.message import CrcFlags, FooterFlags, MsgFooter, MsgHeader, decode_message
from asyncmsgr.messages import MPing
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import State
from asyncmsgr.testing.v2pair import ProtocolPair
from asyncmsgr.types import AuthName, EntityName, EntityType
from asyncmsgr.wire.buffer import Reader
from asyncmsgr.wire.crc32c import ceph_crc32c

# -- decode_message: footer crcs ----------------------------------------------------------

FRONT, MIDDLE, DATA = b"", b"middle-part", b"data-part"


def _header() -> MsgHeader:
    return MsgHeader(seq=1, type=MPing.TYPE, priority=127, version=1, front_len=0,
                     middle_len=len(MIDDLE), data_len=len(DATA),
                     src=EntityName(EntityType.CLIENT, 1))


def _footer(*, middle_crc: int | None = None, data_crc: int | None = None,
            flags: int = FooterFlags.COMPLETE) -> MsgFooter:
    return MsgFooter(front_crc=0,
                     middle_crc=ceph_crc32c(0, MIDDLE) if middle_crc is None else middle_crc,
                     data_crc=ceph_crc32c(0, DATA) if data_crc is None else data_crc,
                     flags=flags)


def test_decode_message_accepts_right_crcs() -> None:
    m = decode_message(_header(), FRONT, MIDDLE, DATA, footer=_footer())
    assert (bytes(m.middle), bytes(m.data)) == (MIDDLE, DATA)


def test_decode_message_checks_the_middle_crc() -> None:
    bad = _footer(middle_crc=ceph_crc32c(0, MIDDLE) ^ 1)
    with pytest.raises(BadMessageCrc, match="bad middle crc"):
        decode_message(_header(), FRONT, MIDDLE, DATA, footer=bad)
    with pytest.raises(BadMessageCrc, match="bad middle crc"):
        decode_message(_header(), FRONT, MIDDLE, DATA, footer=_footer(middle_crc=0))


def test_decode_message_checks_the_data_crc_without_nocrc() -> None:
    with pytest.raises(BadMessageCrc, match="bad data crc"):
        decode_message(_header(), FRONT, MIDDLE, DATA, footer=_footer(data_crc=0))


def test_decode_message_honours_nocrc() -> None:
    """A sender with ``ms_crc_data = false`` writes data crc 0 and NOCRC: valid."""
    footer = _footer(data_crc=0, flags=FooterFlags.COMPLETE | FooterFlags.NOCRC)
    m = decode_message(_header(), FRONT, MIDDLE, DATA, footer=footer)
    assert bytes(m.data) == DATA


def test_decode_message_crc_flags_select_the_checks() -> None:
    no_header = _footer(middle_crc=0)
    m = decode_message(_header(), FRONT, MIDDLE, DATA, footer=no_header,
                       crc_flags=CrcFlags.DATA)
    assert bytes(m.middle) == MIDDLE
    no_data = _footer(data_crc=0)
    m = decode_message(_header(), FRONT, MIDDLE, DATA, footer=no_data,
                       crc_flags=CrcFlags.HEADER)
    assert bytes(m.data) == DATA
    with pytest.raises(BadMessageCrc, match="bad middle crc"):
        decode_message(_header(), FRONT, MIDDLE, DATA, footer=no_header,
                       crc_flags=CrcFlags.HEADER)


def test_v1_footer_sets_nocrc_when_data_crcs_are_off() -> None:
    m = MPing(priority=127, data=DATA)
    m.middle = MIDDLE
    m.prepare()
    f = m.v1_footer(CrcFlags.HEADER)
    assert f.flags == FooterFlags.COMPLETE | FooterFlags.NOCRC
    assert (f.middle_crc, f.data_crc) == (ceph_crc32c(0, MIDDLE), 0)
    full = m.v1_footer(CrcFlags.ALL)
    assert full.flags == FooterFlags.COMPLETE
    assert full.data_crc == ceph_crc32c(0, DATA)


# -- cephx: an authorizer's global_id must be its ticket's --------------------------------

ADMIN = AuthName(EntityType.CLIENT, "admin")
ADMIN_KEY = CryptoKey.from_base64("AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==")
KEYRING = Keyring.from_text(f"""
[client.admin]
    key = {ADMIN_KEY.to_base64()}
    caps mon = "allow *"
    caps osd = "allow *"
""")


class _Env:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        clock = self.clock
        ks = KeyServer(KEYRING, clock=clock, rng=random.Random(1))
        self.mon = CephxAuthServer(ks, AuthName(EntityType.MON, "a"), clock, role="mon",
                                   rng=random.Random(2))
        self.osd = CephxAuthServer(ks, AuthName(EntityType.OSD, "0"), clock,
                                   rng=random.Random(3))
        self.client = CephxClient(ADMIN, ADMIN_KEY, clock=clock, rng=random.Random(4))
        session = None
        proto, payload = 0, self.client.build_v1_hello()
        while True:  # tickets from the mon over MAuth
            res = self.mon.handle_mauth(session, proto, payload)
            session = res.session
            nxt = self.client.handle_v1_reply(res.protocol, res.result, res.global_id,
                                              res.result_bl)
            if nxt is None:
                break
            proto, payload = 2, nxt
        assert self.client.global_id

    def clock(self) -> float:
        return self.now


def test_authorizer_with_its_tickets_global_id_is_verified() -> None:
    env = _Env()
    ticket = env.client.tickets[EntityType.OSD]
    raw = build_authorizer(env.client.global_id, ticket, 7)
    v = env.osd.verify_authorizer(Reader(raw), EntityType.OSD)
    assert v.info.ticket.global_id == env.client.global_id


@pytest.mark.parametrize("delta", [1, -1, 1 << 40])
def test_authorizer_with_another_global_id_is_refused(delta: int) -> None:
    env = _Env()
    ticket = env.client.tickets[EntityType.OSD]
    raw = build_authorizer((env.client.global_id + delta) % (1 << 64), ticket, 7)
    with pytest.raises(AuthFailed, match="global_id does not match its ticket") as info:
        env.osd.verify_authorizer(Reader(raw), EntityType.OSD)
    assert info.value.result == -errno.EACCES


class _LyingClient:
    """Wraps a CephxClient: every authorizer it sends claims ``global_id + 1``."""

    def __init__(self, inner: CephxClient) -> None:
        self.inner = inner

    @staticmethod
    def _lie(authorizer: bytes) -> bytes:
        assert authorizer[0] == 1  # CephXAuthorizer v1, then le64 global_id
        gid = int.from_bytes(authorizer[1:9], "little") + 1
        return authorizer[:1] + gid.to_bytes(8, "little") + authorizer[9:]

    def get_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta) -> AuthRequest:
        r = self.inner.get_auth_request(peer, meta)
        return AuthRequest(r.method, r.preferred_modes, self._lie(r.payload))

    def handle_auth_reply_more(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               payload: bytes) -> bytes:
        return self._lie(self.inner.handle_auth_reply_more(peer, meta, payload))

    def handle_auth_done(self, peer: AuthPeer, meta: AuthConnectionMeta, global_id: int,
                         con_mode: int, payload: bytes) -> None:
        self.inner.handle_auth_done(peer, meta, global_id, con_mode, payload)

    def handle_auth_bad_method(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               old_method: int, result: int,
                               allowed_methods: tuple[int, ...],
                               allowed_modes: tuple[int, ...]) -> bool:
        return self.inner.handle_auth_bad_method(peer, meta, old_method, result,
                                                 allowed_methods, allowed_modes)


def _state(side: ProtocolBase) -> State:
    return side.state


@pytest.mark.parametrize("protocol", [2, 1])
def test_connection_with_a_lying_authorizer_is_refused(protocol: int) -> None:
    env = _Env()
    p = ProtocolPair(protocol=protocol, client_auth=_LyingClient(env.client),
                     server_auth=env.osd)
    p.connect()
    p.transfer()
    assert _state(p.server) is not State.READY
    assert _state(p.server) is not State.OPEN
    assert not p.client.is_connected
    reasons = [e.reason for e in p.client_events if isinstance(e, ev.CloseSocket)]
    assert reasons
    assert reasons[0].startswith("AuthFailed:"), reasons
    if protocol == 2:
        assert p.server.handshake_counts.get("send_AUTH_BAD_METHOD") == 1
        assert "send_AUTH_DONE" not in p.server.handshake_counts
        assert env.client.last_error is not None
        assert env.client.last_error.result == -errno.EACCES
    else:
        assert p.server.handshake_counts.get("send_BADAUTHORIZER", 0) >= 1
        assert "send_READY" not in p.server.handshake_counts
        assert "send_SEQ" not in p.server.handshake_counts


@pytest.mark.parametrize("protocol", [2, 1])
def test_connection_with_an_honest_authorizer_is_accepted(protocol: int) -> None:
    env = _Env()
    p = ProtocolPair(protocol=protocol, client_auth=env.client, server_auth=env.osd)
    p.handshake()
    assert p.server.auth_meta.peer_global_id == env.client.global_id
