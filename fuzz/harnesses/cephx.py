"""cephx: the struct decoders and both ends of the exchanges.

The input picks an entry point (a struct's ``from_bytes``; the mon's
``handle_auth_request`` / ``handle_mauth``; a service's authorizer check; the
client's ``handle_auth_reply_more`` / ``handle_auth_done`` /
``handle_ticket_reply`` / ``handle_v1_reply``) and builds its payload from
chunks, each raw or *encrypted* with one of the keys the receiver holds (the
client's key, the rotating service secrets, a session key a ticket carries), so
mutations reach the decoders behind the AES-CBC layer instead of stopping at
CephxDecryptError.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterator

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer
from asyncmsgr.auth.cephx import CephxAuthServer, CephxClient, CryptoKey, KeyServer
from asyncmsgr.auth.cephx import types as ct
from asyncmsgr.auth.cephx.crypto import decode_decrypt, enc_bl, encode_encrypt
from asyncmsgr.errors import AuthFailed, RemoteProtocolError
from asyncmsgr.frames.v2 import AUTH_CEPHX, CON_MODE_CRC, CON_MODE_SECURE
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType

from .common import Cursor, Harness, register
from .sessions import ADMIN, ADMIN_KEY, KEYRING, WALL

#: The struct codecs of ``asyncmsgr.auth.cephx.types`` (every ``_Codec`` subclass).
CODECS: tuple[type[ct._Codec], ...] = tuple(
    sorted((v for v in vars(ct).values()
            if isinstance(v, type) and issubclass(v, ct._Codec) and v is not ct._Codec),
           key=lambda t: t.__name__))
SESSION_KEY = CryptoKey.aes(bytes(range(16, 32)))
_ENTRY_POINTS = 9


class _World:
    """A key server, a mon and an OSD authenticating, a client; fixed randomness."""

    def __init__(self) -> None:
        clock: Callable[[], float] = lambda: WALL  # noqa: E731
        self.ks = KeyServer(KEYRING, clock=clock, rng=random.Random(1))
        self.mon = CephxAuthServer(self.ks, AuthName(EntityType.MON, "a"), clock, role="mon",
                                   rng=random.Random(2))
        self.osd = CephxAuthServer(self.ks, AuthName(EntityType.OSD, "0"), clock,
                                   rng=random.Random(3))
        self.client = CephxClient(ADMIN, ADMIN_KEY, clock=clock, rng=random.Random(4))
        self.keys = [ADMIN_KEY, SESSION_KEY] + [
            self.ks.get_service_secret(s).key
            for s in (EntityType.AUTH, EntityType.MON, EntityType.OSD)]

    def payload(self, c: Cursor) -> bytes:
        """1-6 chunks: raw, encode_encrypt (u32 length + ciphertext), bare ciphertext,
        or an integer, each encryption under a key the receivers hold."""
        out = bytearray()
        for _ in range(c.below(6) + 1):
            kind = c.below(5)
            if kind == 0:
                out += c.blob(512)
            elif kind in (1, 2):
                key = c.choice(self.keys)
                plain = c.blob(512)
                out += encode_encrypt(key, plain) if kind == 1 else enc_bl(key, plain)
            elif kind == 3:
                out += struct.pack("<Q", c.u64())
            else:
                out += struct.pack("<I", c.u32())
        return bytes(out)


def _meta(method: int = AUTH_CEPHX) -> AuthConnectionMeta:
    meta = AuthConnectionMeta()
    meta.auth_method = method
    return meta


def cephx_target(data: bytes) -> None:
    """One cephx entry point with a chunked (partly encrypted) payload."""
    c = Cursor(data)
    what = c.below(_ENTRY_POINTS)
    if what == 0:
        codec = c.choice(CODECS)
        codec.from_bytes(c.rest())
        return
    w = _World()
    if what == 7:
        decode_decrypt(c.choice(w.keys), w.payload(c))
        return
    payload = w.payload(c)
    to_mon = AuthPeer(peer_type=EntityType.CLIENT, peer_addrs=EntityAddrVec(),
                      my_type=EntityType.MON)
    to_client = AuthPeer(peer_type=EntityType.MON, peer_addrs=EntityAddrVec(),
                         my_type=EntityType.CLIENT)
    try:
        if what == 1:  # the mon: a first request, then (maybe) the second round
            meta = _meta()
            w.mon.handle_auth_request(to_mon, meta, False, AUTH_CEPHX, payload)
            w.mon.handle_auth_request(to_mon, meta, True, AUTH_CEPHX, w.payload(c))
        elif what == 2:  # a service checking an authorizer (with challenge)
            meta = _meta()
            w.osd.handle_auth_request(to_mon, meta, False, AUTH_CEPHX, payload)
            w.osd.handle_auth_request(to_mon, meta, True, AUTH_CEPHX, w.payload(c))
        elif what == 3:  # the client: the mon's challenge, then AUTH_DONE
            meta = _meta()
            w.client.get_auth_request(to_client, meta)
            w.client.handle_auth_reply_more(to_client, meta, payload)
            w.client.handle_auth_done(to_client, meta, c.u64(),
                                      c.choice((CON_MODE_CRC, CON_MODE_SECURE)), w.payload(c))
        elif what == 4:  # the client: AUTH_DONE at once
            meta = _meta()
            w.client.get_auth_request(to_client, meta)
            w.client.handle_auth_done(to_client, meta, c.u64(),
                                      c.choice((CON_MODE_CRC, CON_MODE_SECURE)), payload)
        elif what == 5:  # the client: a ticket renewal reply (MAuthReply)
            w.client.handle_ticket_reply(payload)
        elif what == 6:  # the client: msgr v1 MAuthReply rounds
            w.client.build_v1_hello()
            w.client.handle_v1_reply(AUTH_CEPHX, 0, c.u64(), payload)
            w.client.handle_v1_reply(AUTH_CEPHX, 0, c.u64(), w.payload(c))
        else:  # the mon: msgr v1 MAuth rounds
            res = w.mon.handle_mauth(None, c.u8() % 3, payload)
            w.mon.handle_mauth(res.session, AUTH_CEPHX, w.payload(c))
    except AuthFailed:
        pass  # the typed refusal of a bad exchange


def _seeds() -> Iterator[bytes]:
    """Real exchanges: each answer recorded as one raw chunk."""
    for i in range(len(CODECS)):
        yield bytes([0, i]) + bytes(64)
    w = _World()
    to_client = AuthPeer(peer_type=EntityType.MON, peer_addrs=EntityAddrVec(),
                         my_type=EntityType.CLIENT)
    to_mon = AuthPeer(peer_type=EntityType.CLIENT, peer_addrs=EntityAddrVec(),
                      my_type=EntityType.MON)
    cmeta, smeta = _meta(), _meta()
    req = w.client.get_auth_request(to_client, cmeta)
    r1 = w.mon.handle_auth_request(to_mon, smeta, False, AUTH_CEPHX, req.payload)
    more = w.client.handle_auth_reply_more(to_client, cmeta, r1.payload)
    r2 = w.mon.handle_auth_request(to_mon, smeta, True, AUTH_CEPHX, more)

    def raw(b: bytes) -> bytes:
        return bytes([0, 0]) + struct.pack("<H", len(b[:512])) + b[:512]

    yield bytes([1]) + raw(req.payload) + raw(more)
    yield bytes([3]) + raw(r1.payload) + bytes(8) + bytes([0]) + raw(r2.payload)
    yield bytes([4]) + raw(r2.payload)
    yield bytes([8, 0]) + raw(w.client.build_v1_hello())


register(Harness(
    name="cephx",
    target=cephx_target,
    seeds=_seeds,
    allowed=(RemoteProtocolError,),
    max_len=8192,
    doc="cephx struct decoders, mon/service/client exchange steps, encrypted payloads",
))
