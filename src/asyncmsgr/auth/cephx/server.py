"""cephx server side (Ceph's CephxServiceHandler + cephx_verify_authorizer).

:class:`CephxAuthServer` implements :class:`~asyncmsgr.auth.base.AuthServer` in
two roles that may be combined:

* **mon** (``role="mon"``): authenticates entities from their keyring secret
  (server challenge, CephXAuthenticate proof, AUTH ticket, requested service
  tickets, connection secret; global_id reclaim with a valid old ticket) and
  answers MAuth requests (:meth:`CephxAuthServer.handle_mauth`), including
  ticket renewal (GET_PRINCIPAL_SESSION_KEY);
* **service** (always): verifies authorizers for its own service id with the
  KeyServer's rotating secrets, *always* challenges (CVE-2018-1128), checks
  ``challenge + 1`` and answers ``nonce + 1`` (with the connection secret in
  secure mode).

Failures raise AuthFailed with Ceph's errno (-EACCES for a wrong key, as Pacific
16.2.15 answers, a bad authorizer or reclaim; -EPERM for an unknown entity or a
malformed request), which the handshake turns into
AUTH_BAD_METHOD. Every proof is compared with :func:`hmac.compare_digest`.
``auth none`` is accepted too when ``methods`` lists it.
"""

from __future__ import annotations

import errno
import hmac
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Literal

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer, AuthReply, ModeOptions
from asyncmsgr.auth.cephx.crypto import challenge_key, dec_bl, enc_bl, encode_encrypt
from asyncmsgr.auth.cephx.keyserver import KeyServer
from asyncmsgr.auth.cephx.tickets import TicketGrant, encode_ticket_reply
from asyncmsgr.auth.cephx.types import (
    CEPHX_GET_AUTH_SESSION_KEY,
    CEPHX_GET_PRINCIPAL_SESSION_KEY,
    AuthCapsInfo,
    CephXAuthenticate,
    CephXAuthorize,
    CephXAuthorizeChallenge,
    CephXAuthorizer,
    CephXAuthorizeReply,
    CephXRequestHeader,
    CephXResponseHeader,
    CephXServerChallenge,
    CephXServiceTicketInfo,
    CephXServiceTicketRequest,
)
from asyncmsgr.auth.keyring import CryptoKey
from asyncmsgr.auth.none import AUTH_MODE_MON, decode_none_payload
from asyncmsgr.crypto.onwire import CONNECTION_SECRET_LEN
from asyncmsgr.errors import AuthFailed, DecodeError
from asyncmsgr.frames.v2 import (
    AUTH_CEPHX,
    AUTH_NONE,
    CON_MODE_CRC,
    CON_MODE_SECURE,
    CON_MODE_UNKNOWN,
)
from asyncmsgr.types import AuthName, EntityType
from asyncmsgr.wire.buffer import Reader, Writer, pull_u32_item
from asyncmsgr.wire.codecs import pull_auth_name

AUTH = int(EntityType.AUTH)
_U64 = struct.Struct("<Q")
_STATE = "cephx_server"
_MASK64 = 0xFFFFFFFFFFFFFFFF
_MAX_CHALLENGE = (1 << 64) - 1


def _eq64(a: int, b: int) -> bool:
    return hmac.compare_digest(_U64.pack(a & _MASK64), _U64.pack(b & _MASK64))


def _deny(why: str, result: int = -errno.EACCES) -> AuthFailed:
    return AuthFailed(f"cephx: {why}", result)


@dataclass(slots=True)
class MonSession:
    """A mon's cephx state for one authenticating entity (one connection, or
    one msgr v1 MAuth session)."""

    name: AuthName
    global_id: int
    reclaim: bool
    """The client asked to keep a global_id it had: it must show the old ticket."""
    server_challenge: int
    authenticated: bool = False


@dataclass(slots=True)
class _AuthorizerRound:
    challenge: int


@dataclass(frozen=True, slots=True)
class MAuthResult:
    """What to put in the MAuthReply answering an MAuth."""

    protocol: int
    result: int
    global_id: int
    result_bl: bytes
    session: MonSession | None


@dataclass(frozen=True, slots=True)
class VerifiedAuthorizer:
    """A decrypted, checked authorizer."""

    authorizer: CephXAuthorizer
    info: CephXServiceTicketInfo
    authorize: CephXAuthorize


@dataclass(slots=True)
class CephxAuthServer:
    """cephx (and optionally none) behind the AuthServer interface.

    ``my_name``: this daemon (its type is the service id authorizers must be
    for). ``role``: ``"mon"`` also authenticates entities by key. ``methods``:
    accepted auth methods (Ceph's ``auth_*_required``, e.g. ``(CEPHX, NONE)``).
    """

    key_server: KeyServer
    my_name: AuthName
    clock: Callable[[], float]
    role: Literal["mon", "service"] = "service"
    methods: tuple[int, ...] = (AUTH_CEPHX,)
    modes: ModeOptions = field(default_factory=ModeOptions)
    rng: random.Random = field(default_factory=random.SystemRandom)
    require_mon_caps: bool = True
    """Refuse entities without a ``mon`` cap (-EACCES), as Ceph's mon does."""
    _global_ids: count[int] = field(default_factory=lambda: count(4096))

    # -- AuthServer --------------------------------------------------------------------

    def _allowed_modes(self, peer_type: int) -> tuple[int, ...]:
        return self.modes.modes_for(self.my_name.type, peer_type, i_am_client=False)

    def get_supported_auth_methods(self, peer_type: int) -> tuple[tuple[int, ...],
                                                                   tuple[int, ...]]:
        """Our methods and the modes we allow for this peer type."""
        return self.methods, self._allowed_modes(peer_type)

    def pick_con_mode(self, peer_type: int, method: int,
                      preferred_modes: tuple[int, ...]) -> int:
        """The first of the client's modes we allow (crc only for auth none)."""
        if method not in self.methods:
            return CON_MODE_UNKNOWN
        allowed = self._allowed_modes(peer_type)
        for mode in preferred_modes:
            if mode in allowed and (method != AUTH_NONE or mode == CON_MODE_CRC):
                return mode
        return CON_MODE_UNKNOWN

    def handle_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta, more: bool,
                            method: int, payload: bytes) -> AuthReply:
        """One server step (see the module docstring)."""
        if method not in self.methods:
            raise _deny(f"auth method {method} not allowed", -errno.EOPNOTSUPP)
        try:
            if method == AUTH_NONE:
                return self._none(meta, more, payload)
            if method != AUTH_CEPHX:
                raise _deny(f"auth method {method} not supported", -errno.EOPNOTSUPP)
            st = meta.method_state.get(_STATE)
            if not more:
                meta.method_state.pop(_STATE, None)
                if payload[:1] and AUTH_MODE_MON <= payload[0] < AUTH_MODE_MON + 10:
                    return self._mon_start(meta, payload)
                return self._authorizer_step(meta, payload, None)
            if isinstance(st, MonSession):
                return self._mon_finish(meta, st, payload)
            if isinstance(st, _AuthorizerRound):
                return self._authorizer_step(meta, payload, st)
            raise _deny("AUTH_REQUEST_MORE without a pending cephx exchange", -errno.EINVAL)
        except DecodeError as exc:
            raise _deny(f"malformed request: {exc}", -errno.EPERM) from None

    def _none(self, meta: AuthConnectionMeta, more: bool, payload: bytes) -> AuthReply:
        if more:
            raise _deny("auth none has one round", -errno.EINVAL)
        _mode, name, global_id = decode_none_payload(payload)
        if not global_id:
            global_id = next(self._global_ids)
        meta.peer_name = name
        meta.peer_global_id = global_id
        meta.session_key = meta.connection_secret = b""
        return AuthReply(done=True, payload=b"", global_id=global_id)

    # -- mon: authenticate by key ------------------------------------------------------

    def start_session(self, name: AuthName, global_id: int) -> MonSession:
        """A new mon session: pick the global_id and a non-zero server challenge."""
        if self.role != "mon":
            raise _deny(f"{self.my_name} is not a monitor", -errno.EOPNOTSUPP)
        reclaim = bool(global_id)
        gid = global_id if reclaim else next(self._global_ids)
        return MonSession(name, gid, reclaim, self.rng.randint(1, _MAX_CHALLENGE))

    def _mon_start(self, meta: AuthConnectionMeta, payload: bytes) -> AuthReply:
        r = Reader(payload)
        r.pull_u8()
        name = pull_auth_name(r)
        session = self.start_session(name, r.pull_u64())
        meta.method_state[_STATE] = session
        return AuthReply(done=False,
                         payload=CephXServerChallenge(session.server_challenge).to_bytes())

    def _mon_finish(self, meta: AuthConnectionMeta, session: MonSession,
                    payload: bytes) -> AuthReply:
        secret_len = CONNECTION_SECRET_LEN if meta.con_mode == CON_MODE_SECURE else 0
        status, result_bl, session_key, secret = self.handle_request(
            session, payload, secret_len, msgr2=True)
        if status < 0 or session_key is None:
            raise _deny(f"authentication of {session.name} refused", status or -errno.EPERM)
        meta.session_key = session_key.secret
        meta.connection_secret = secret
        meta.peer_name = session.name
        meta.peer_global_id = session.global_id
        meta.method_state.pop(_STATE, None)
        return AuthReply(done=True, payload=result_bl, global_id=session.global_id)

    def handle_request(self, session: MonSession, payload: bytes, secret_len: int = 0,
                       *, msgr2: bool = False
                       ) -> tuple[int, bytes, CryptoKey | None, bytes]:
        """CephxServiceHandler::handle_request: ``(status, result_bl, session key,
        connection secret)``. ``msgr2``: always send ``cbl`` when other_keys is set
        (msgr v1 sends it empty)."""
        r = Reader(payload)
        try:
            rtype = CephXRequestHeader.decode(r).request_type
        except DecodeError:
            return -errno.EPERM, b"", None, b""
        if rtype == CEPHX_GET_AUTH_SESSION_KEY:
            return self._get_auth_session_key(session, r, secret_len, msgr2)
        if rtype == CEPHX_GET_PRINCIPAL_SESSION_KEY and session.authenticated:
            return self._get_principal_session_key(r)
        return -errno.EINVAL, b"", None, b""

    def _get_auth_session_key(self, session: MonSession, r: Reader, secret_len: int,
                              msgr2: bool) -> tuple[int, bytes, CryptoKey | None, bytes]:
        ks = self.key_server
        fail: tuple[int, bytes, None, bytes] = (-errno.EPERM, b"", None, b"")
        try:
            req = CephXAuthenticate.decode(r)
        except DecodeError:
            return fail
        secret = ks.get_secret(session.name)
        if secret is None or not session.server_challenge:
            return fail
        expected = challenge_key(secret, session.server_challenge, req.client_challenge)
        if not _eq64(req.key, expected):
            # Pacific 16.2.15: "unexpected key" -> -EACCES (v1 MAuthReply and msgr2
            # AUTH_BAD_METHOD alike); only malformed requests are -EPERM
            return -errno.EACCES, b"", None, b""
        enc_ticket_key: CryptoKey | None = None
        if session.reclaim and not session.authenticated:
            old = self._verify_old_ticket(session, req)
            if old is None:
                return -errno.EACCES, b"", None, b""
            enc_ticket_key = old.session_key
        elif req.old_ticket.blob and not session.authenticated:
            return -errno.EINVAL, b"", None, b""  # superfluous ticket for a new id
        elif session.authenticated:
            # renewal over MAuth: the old ticket must be presented and still be ours
            # (CephxServiceHandler::verify_old_ticket: once the global_id is no longer
            # NEW_PENDING, a request without the old ticket is -EACCES)
            old = self._verify_old_ticket(session, req)
            if old is None:
                return -errno.EACCES, b"", None, b""
            enc_ticket_key = old.session_key
        mon_cap = ks.get_caps(session.name, "mon")
        if self.require_mon_caps and not mon_cap:
            return -errno.EACCES, b"", None, b""
        auth = ks.build_grant(AUTH, session.name, session.global_id, caps=AuthCapsInfo())
        w = Writer()
        CephXResponseHeader(CEPHX_GET_AUTH_SESSION_KEY, 0).encode(w)
        encode_ticket_reply(w, secret, [auth], enc_ticket_key)
        conn_secret = b""
        if req.other_keys:
            cbl = b""
            if msgr2:
                conn_secret = self.rng.randbytes(secret_len) if secret_len else b""
                sw = Writer()
                sw.push_blob(conn_secret)
                cbl = encode_encrypt(auth.session_key, sw.getvalue())
            w.push_blob(cbl)
            extra = self._grants(req.other_keys & ~AUTH, session.name, session.global_id)
            ew = Writer()
            if extra:
                encode_ticket_reply(ew, auth.session_key, extra)
            w.push_blob(ew.getvalue())
        session.authenticated = True
        return 0, w.getvalue(), auth.session_key, conn_secret

    def _verify_old_ticket(self, session: MonSession,
                           req: CephXAuthenticate) -> CephXServiceTicketInfo | None:
        if not req.old_ticket.blob:
            return None
        try:
            info = self.key_server.decode_ticket(AUTH, req.old_ticket)
        except (KeyError, DecodeError):
            return None
        if not _eq64(info.ticket.global_id, session.global_id) or \
                info.ticket.name != session.name:
            return None
        return info

    def _grants(self, keys: int, name: AuthName, global_id: int) -> list[TicketGrant]:
        out = []
        bit = 1
        while bit <= keys:
            if keys & bit:
                out.append(self.key_server.build_grant(bit, name, global_id))
            bit <<= 1
        return out

    def _get_principal_session_key(self, r: Reader
                                   ) -> tuple[int, bytes, CryptoKey | None, bytes]:
        try:
            v = self.verify_authorizer(r, AUTH)
            req = CephXServiceTicketRequest.decode(r)
        except (AuthFailed, DecodeError):
            return -errno.EPERM, b"", None, b""
        ticket = v.info.ticket
        grants = self._grants(req.keys & ~AUTH, ticket.name, ticket.global_id)
        w = Writer()
        CephXResponseHeader(CEPHX_GET_PRINCIPAL_SESSION_KEY, 0).encode(w)
        encode_ticket_reply(w, v.info.session_key, grants)
        return 0, w.getvalue(), None, b""

    def handle_mauth(self, session: MonSession | None, protocol: int,
                     payload: bytes) -> MAuthResult:
        """Answer one msgr v1 MAuth (wire-protocol.md §6.4). Protocol 0 starts a
        session (its payload lists the client's methods); protocol 2 continues it."""
        if protocol == 0:
            try:
                r = Reader(payload)
                r.pull_u8()
                methods = r.pull_list(pull_u32_item, 4)
                name = pull_auth_name(r)
                gid = r.pull_u64()
            except DecodeError:
                return MAuthResult(0, -errno.EINVAL, 0, b"", None)
            chosen = next((m for m in methods if m in self.methods), None)
            if chosen is None:
                return MAuthResult(0, -errno.EOPNOTSUPP, 0, b"", None)
            if chosen == AUTH_NONE:
                return MAuthResult(AUTH_NONE, 0, gid or next(self._global_ids), b"", None)
            s = self.start_session(name, gid)
            return MAuthResult(AUTH_CEPHX, 0, s.global_id,
                               CephXServerChallenge(s.server_challenge).to_bytes(), s)
        if session is None or protocol != AUTH_CEPHX:
            return MAuthResult(protocol, -errno.EINVAL, 0, b"", session)
        status, bl, _key, _secret = self.handle_request(session, payload)
        return MAuthResult(AUTH_CEPHX, status, session.global_id, bl, session)

    # -- service: authorizers ----------------------------------------------------------

    def verify_authorizer(self, r: Reader, service_id: int) -> VerifiedAuthorizer:
        """Decode and check an authorizer for ``service_id``; AuthFailed(-EACCES)
        if the ticket is not for us, does not decrypt, expired, or names
        another global_id."""
        a = CephXAuthorizer.decode(r)
        if a.service_id != service_id:
            raise _deny(f"authorizer for service {a.service_id}, we are {service_id}")
        try:
            info = self.key_server.decode_ticket(service_id, a.ticket)
        except KeyError as exc:
            raise _deny(f"unknown ticket secret: {exc}") from None
        except DecodeError as exc:
            raise _deny(f"ticket does not decrypt: {exc}") from None
        if not _eq64(info.ticket.global_id, a.global_id):
            raise _deny("authorizer global_id does not match its ticket")
        if float(info.ticket.expires) and float(info.ticket.expires) <= self.clock():
            raise _deny(f"ticket of {info.ticket.name} expired", -errno.EACCES)
        try:
            msg = CephXAuthorize.decode(Reader(dec_bl(info.session_key, a.enc_authorize)))
        except DecodeError as exc:
            raise _deny(f"authorize message does not decrypt: {exc}") from None
        return VerifiedAuthorizer(a, info, msg)

    def _authorizer_step(self, meta: AuthConnectionMeta, payload: bytes,
                         st: _AuthorizerRound | None) -> AuthReply:
        v = self.verify_authorizer(Reader(payload), self.my_name.type)
        key = v.info.session_key
        if st is None:
            # always challenge, even when the client offers an answer (CVE-2018-1128)
            st = _AuthorizerRound(self.rng.getrandbits(64))
            meta.method_state[_STATE] = st
            return AuthReply(done=False, payload=enc_bl(
                key, CephXAuthorizeChallenge(st.challenge).to_bytes()))
        if not v.authorize.have_challenge or \
                not _eq64(v.authorize.server_challenge_plus_one, st.challenge + 1):
            raise _deny("authorizer challenge answer is wrong")
        secret = self.rng.randbytes(CONNECTION_SECRET_LEN) \
            if meta.con_mode == CON_MODE_SECURE else b""
        reply = CephXAuthorizeReply((v.authorize.nonce + 1) & _MASK64, secret)
        meta.session_key = key.secret
        meta.connection_secret = secret
        meta.peer_name = v.info.ticket.name
        meta.peer_global_id = v.info.ticket.global_id
        meta.method_state.pop(_STATE, None)
        return AuthReply(done=True, payload=encode_encrypt(key, reply.to_bytes()),
                         global_id=v.info.ticket.global_id)


__all__ = ["CephxAuthServer", "MAuthResult", "MonSession", "VerifiedAuthorizer"]
