"""cephx client (Ceph's CephxClientHandler + the msgr2 AuthClient glue).

To a **mon** (wire-protocol.md §6.3)::

    AUTH_REQUEST       u8 10 | EntityName | u64 global_id
    AUTH_REPLY_MORE    CephXServerChallenge
    AUTH_REQUEST_MORE  CephXRequestHeader(0x0100) | CephXAuthenticate v3
    AUTH_DONE          CephXResponseHeader | ticket reply (client key)
                       | cbl = encode_encrypt(AUTH key, connection secret)
                       | extra = ticket reply (AUTH key)

To any **other service** (§6.5, §6.6): an authorizer built from that service's
ticket, the server's challenge answered with ``challenge + 1`` in a fresh
authorizer with the same nonce, and an AUTH_DONE carrying
``encode_encrypt(CephXAuthorizeReply)`` whose ``nonce + 1`` is checked.

Tickets (one per service id) persist across connections; :meth:`need_tickets`,
:meth:`build_ticket_request` and :meth:`handle_ticket_reply` renew them over an
open mon session (MAuth), and :meth:`build_v1_hello` / :meth:`handle_v1_reply`
run the whole msgr v1 MAuth exchange (§6.4). Every failure raises (and records
in :attr:`CephxClient.last_error`) an :class:`~asyncmsgr.errors.AuthFailed`
whose message is meant for a ``ceph`` CLI user.
"""

from __future__ import annotations

import errno
import random
from collections.abc import Callable

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer, AuthRequest, ModeOptions
from asyncmsgr.auth.cephx.crypto import challenge_key, dec_bl, enc_bl, pull_decrypted
from asyncmsgr.auth.cephx.tickets import Ticket, decode_ticket_reply
from asyncmsgr.auth.cephx.types import (
    CEPHX_GET_AUTH_SESSION_KEY,
    CEPHX_GET_PRINCIPAL_SESSION_KEY,
    CephXAuthenticate,
    CephXAuthorize,
    CephXAuthorizeChallenge,
    CephXAuthorizer,
    CephXAuthorizeReply,
    CephXRequestHeader,
    CephXResponseHeader,
    CephXServerChallenge,
    CephXServiceTicketRequest,
    CephXTicketBlob,
)
from asyncmsgr.auth.keyring import CryptoKey
from asyncmsgr.auth.none import AUTH_MODE_MON, encode_none_payload
from asyncmsgr.crypto.onwire import CONNECTION_SECRET_LEN
from asyncmsgr.errors import AuthFailed, CephxDecryptError, DecodeError
from asyncmsgr.frames.v2 import AUTH_CEPHX, AUTH_NONE, CON_MODE_CRC, CON_MODE_SECURE
from asyncmsgr.record import MutableRecord
from asyncmsgr.types import AuthName, EntityType, entity_type_str
from asyncmsgr.wire.buffer import Reader, Writer, push_u32_item
from asyncmsgr.wire.codecs import push_auth_name

AUTH = int(EntityType.AUTH)
DEFAULT_WANT_KEYS = int(EntityType.MON | EntityType.OSD | EntityType.MGR)
_STATE = "cephx"
_NEXT_METHOD = "cephx_next_method"
_METHOD_NAMES = {AUTH_NONE: "none", AUTH_CEPHX: "cephx"}


def describe_result(name: AuthName | str, result: int) -> str:
    """A sentence for a ``ceph`` CLI user explaining a negative errno from auth."""
    code = -result
    if code in (errno.EACCES, errno.EPERM):
        why = "permission denied (wrong key, or unknown entity?)"
    elif code == errno.ENOENT:
        why = "no such entity (no key for it on the monitor)"
    elif code == errno.EOPNOTSUPP:
        why = "the server does not support this auth method or connection mode"
    elif code == errno.EKEYEXPIRED:
        why = "the ticket expired; re-authenticate with a monitor"
    elif code == errno.EBUSY:
        why = "the server is busy, try again"
    else:
        why = f"error {result} ({errno.errorcode.get(code, '?')})"
    return f"authentication failed for {name}: {why}"


def service_name(service_id: int) -> str:
    """``osd``, ``mgr``... for a service id."""
    return entity_type_str(service_id)


def build_authorizer(global_id: int, ticket: Ticket, nonce: int, *,
                     have_challenge: bool = False, server_challenge_plus_one: int = 0) -> bytes:
    """A CephXAuthorizer for ``ticket`` (CephXTicketHandler::build_authorizer)."""
    enc = enc_bl(ticket.session_key, CephXAuthorize(
        nonce, have_challenge, server_challenge_plus_one).to_bytes())
    return CephXAuthorizer(global_id, ticket.service_id, ticket.ticket, enc).to_bytes()


class _MonRound(MutableRecord):
    """Per-connection state of a mon handshake."""

    server_challenge: int | None
    old_keys: dict[int, CryptoKey] | None
    """The session keys of the tickets the request presented: the monitor encrypts
    the new ticket blobs with them. Kept per connection, because parallel hunts
    share this client and the first to finish replaces the tickets."""

    __slots__ = ("old_keys", "server_challenge")

    def __init__(self, server_challenge: int | None = None,
                 old_keys: dict[int, CryptoKey] | None = None) -> None:
        self.server_challenge = server_challenge
        self.old_keys = old_keys


class _AuthorizerRound(MutableRecord):
    """Per-connection state of an authorizer handshake."""

    ticket: Ticket
    nonce: int

    __slots__ = ("nonce", "ticket")

    def __init__(self, ticket: Ticket, nonce: int) -> None:
        self.ticket = ticket
        self.nonce = nonce


class CephxClient:
    """The cephx client for one entity (implements :class:`AuthClient`).

    ``clock`` returns seconds since the epoch; ``want_keys`` is the service-id
    bitmask of tickets to get (AUTH is always added); ``methods`` lists the
    auth methods this client accepts, most preferred first (Ceph's
    ``auth_client_required``).
    """

    def __init__(self, name: AuthName, key: CryptoKey, *, clock: Callable[[], float],
                 modes: ModeOptions | None = None, i_am_client: bool = True,
                 want_keys: int = DEFAULT_WANT_KEYS,
                 rng: random.Random | None = None,
                 methods: tuple[int, ...] = (AUTH_CEPHX,)) -> None:
        self.name = name
        self.key = key
        self.clock = clock
        self.modes = modes if modes is not None else ModeOptions()
        self.i_am_client = i_am_client
        self.want_keys = want_keys | AUTH
        self.rng = rng if rng is not None else random.SystemRandom()
        self.methods = methods
        self.global_id = 0
        self.tickets: dict[int, Ticket] = {}
        self.last_error: AuthFailed | None = None
        self.server_challenge = 0
        """The challenge of the current mon session (reused by MAuth renewals)."""
        self._v1_started = False

    # -- errors ------------------------------------------------------------------------

    def _fail(self, why: str, result: int = -errno.EACCES) -> AuthFailed:
        exc = AuthFailed(f"authentication failed for {self.name}: {why}", result)
        self.last_error = exc
        return exc

    def _record(self, exc: AuthFailed) -> AuthFailed:
        self.last_error = exc
        return exc

    # -- tickets -----------------------------------------------------------------------

    def _need(self, now: float, *, auth_invalid: bool = False) -> int:
        need = 0
        bit = 1
        while bit <= self.want_keys:
            if self.want_keys & bit:
                t = self.tickets.get(bit)
                if t is None or not t.have_key(now) or t.need_key(now) or \
                        (bit == AUTH and auth_invalid):
                    need |= bit
            bit <<= 1
        return need

    def need_tickets(self, now: float | None = None) -> bool:
        """True when a wanted ticket is missing or due for renewal (Ceph skips
        the case where only the MGR ticket is needed)."""
        need = self._need(self.clock() if now is None else now)
        return bool(need) and need != EntityType.MGR

    def ticket_for(self, service_id: int, now: float | None = None) -> Ticket | None:
        """The valid ticket for a service, if any."""
        t = self.tickets.get(service_id)
        if t is None or not t.have_key(self.clock() if now is None else now):
            return None
        return t

    def add_ticket(self, ticket: Ticket) -> None:
        """Install a ticket obtained out of band (e.g. a mon's own ticket)."""
        self.tickets[ticket.service_id] = ticket

    def _store(self, tickets: list[Ticket]) -> None:
        for t in tickets:
            self.tickets[t.service_id] = t

    def _old_keys(self) -> dict[int, CryptoKey]:
        return {sid: t.session_key for sid, t in self.tickets.items()}

    def _auth_session_request(self, server_challenge: int, now: float, *,
                              auth_invalid: bool) -> bytes:
        cc = self.rng.getrandbits(64)
        old = self.tickets.get(AUTH)
        req = CephXAuthenticate(
            client_challenge=cc, key=challenge_key(self.key, server_challenge, cc),
            old_ticket=old.ticket if old is not None else CephXTicketBlob(),
            other_keys=self._need(now, auth_invalid=auth_invalid))
        return CephXRequestHeader(CEPHX_GET_AUTH_SESSION_KEY).to_bytes() + req.to_bytes()

    def build_ticket_request(self, now: float | None = None) -> bytes:
        """The MAuth ``auth_payload`` renewing what :meth:`need_tickets` wants:
        GET_AUTH_SESSION_KEY (same server challenge, old ticket) when the AUTH
        ticket itself is due, else GET_PRINCIPAL_SESSION_KEY (an authorizer
        from the AUTH ticket + CephXServiceTicketRequest)."""
        now = self.clock() if now is None else now
        need = self._need(now)
        if need & AUTH:
            return self._auth_session_request(self.server_challenge, now, auth_invalid=False)
        auth = self.ticket_for(AUTH, now)
        if auth is None:
            raise self._fail("no valid AUTH ticket to renew service tickets with")
        w = Writer()
        CephXRequestHeader(CEPHX_GET_PRINCIPAL_SESSION_KEY).encode(w)
        w.push_bytes(build_authorizer(self.global_id, auth, self.rng.getrandbits(64)))
        CephXServiceTicketRequest(need).encode(w)
        return w.getvalue()

    def _session_reply(self, r: Reader, now: float,
                       old_keys: dict[int, CryptoKey] | None = None,
                       ) -> tuple[Ticket, bytes | None]:
        """GET_AUTH_SESSION_KEY reply after its header: tickets, then (msgr2 or
        other_keys) cbl and extra. Returns the AUTH ticket and the decrypted
        connection secret (None when no cbl was sent). ``old_keys``: the session
        keys of the tickets the request presented (default: the current ones)."""
        try:
            tickets = decode_ticket_reply(r, self.key, now,
                                          self._old_keys() if old_keys is None else old_keys)
        except CephxDecryptError as exc:
            raise self._fail("cannot decrypt the monitor's reply: wrong key "
                             f"({exc})") from None
        self._store(tickets)
        auth = self.tickets.get(AUTH)
        if auth is None:
            raise self._fail("the monitor's reply has no AUTH ticket", -errno.EIO)
        secret: bytes | None = None
        if not r.at_end():
            cbl = r.pull_blob()
            extra = r.pull_blob()
            try:
                if cbl:
                    secret = pull_decrypted(Reader(cbl), auth.session_key).pull_blob()
                if extra:
                    self._store(decode_ticket_reply(Reader(extra), auth.session_key, now,
                                                    self._old_keys()))
            except CephxDecryptError as exc:
                raise self._fail(f"cannot decrypt the connection secret or service "
                                 f"tickets: {exc}") from None
        return auth, secret

    def handle_ticket_reply(self, result_bl: bytes, now: float | None = None) -> None:
        """Apply an MAuthReply ``result_bl`` answering :meth:`build_ticket_request`."""
        now = self.clock() if now is None else now
        try:
            r = Reader(result_bl)
            header = CephXResponseHeader.decode(r)
            if header.status < 0:
                raise self._record(AuthFailed(describe_result(self.name, header.status),
                                              header.status))
            if header.request_type == CEPHX_GET_AUTH_SESSION_KEY:
                self._session_reply(r, now)
            elif header.request_type == CEPHX_GET_PRINCIPAL_SESSION_KEY:
                auth = self.tickets.get(AUTH)
                if auth is None:
                    raise self._fail("service tickets arrived without an AUTH ticket")
                try:
                    self._store(decode_ticket_reply(r, auth.session_key, now,
                                                    self._old_keys()))
                except CephxDecryptError as exc:
                    raise self._fail(f"cannot decrypt the service tickets: {exc}") from None
            else:
                raise self._fail(f"unexpected cephx reply type {header.request_type:#x}",
                                 -errno.EINVAL)
        except DecodeError as exc:
            raise self._fail(f"malformed reply from the monitor: {exc}", -errno.EINVAL) \
                from None

    # -- msgr v1 (MAuth / MAuthReply) --------------------------------------------------

    def build_v1_hello(self) -> bytes:
        """MAuth #1 (protocol 0) payload: ``u8 1, vector<u32> methods, EntityName,
        u64 global_id``."""
        self._v1_started = True
        w = Writer()
        w.push_u8(1)
        w.push_list(self.methods, push_u32_item)
        push_auth_name(w, self.name)
        w.push_u64(self.global_id)
        return w.getvalue()

    def handle_v1_reply(self, protocol: int, result: int, global_id: int,
                        result_bl: bytes, now: float | None = None) -> bytes | None:
        """One MAuthReply; returns the next MAuth payload (sent with ``protocol``
        2), or None when authentication is complete."""
        now = self.clock() if now is None else now
        if result < 0:
            raise self._record(AuthFailed(describe_result(self.name, result), result))
        if global_id:
            self.global_id = global_id
        if protocol == AUTH_NONE:
            return None
        if protocol != AUTH_CEPHX:
            raise self._fail(f"monitor chose unknown auth protocol {protocol}", -errno.EINVAL)
        if self._v1_started:
            self._v1_started = False
            try:
                self.server_challenge = CephXServerChallenge.from_bytes(
                    result_bl).server_challenge
            except DecodeError as exc:
                raise self._fail(f"malformed challenge from the monitor: {exc}",
                                 -errno.EINVAL) from None
            return self._auth_session_request(self.server_challenge, now, auth_invalid=True)
        self.handle_ticket_reply(result_bl, now)
        return self.build_ticket_request(now) if self.need_tickets(now) else None

    # -- msgr2 AuthClient --------------------------------------------------------------

    def _pick_method(self, meta: AuthConnectionMeta) -> int:
        chosen = meta.method_state.get(_NEXT_METHOD)
        if isinstance(chosen, int):
            return chosen
        for m in self.methods:
            if not meta.allowed_methods or m in meta.allowed_methods:
                return m
        allowed = ", ".join(_METHOD_NAMES.get(m, str(m)) for m in meta.allowed_methods)
        raise self._fail(f"the server allows only auth methods [{allowed}], which this "
                         "client is not configured to use", -errno.EOPNOTSUPP)

    def _pick_modes(self, peer: AuthPeer, meta: AuthConnectionMeta,
                    method: int) -> tuple[int, ...]:
        modes = self.modes.modes_for(peer.my_type, peer.peer_type,
                                     i_am_client=self.i_am_client)
        if method == AUTH_NONE:
            modes = tuple(m for m in modes if m == CON_MODE_CRC)
        if meta.allowed_modes:
            modes = tuple(m for m in modes if m in meta.allowed_modes)
        if not modes:
            raise self._fail("no connection mode in common with the server",
                             -errno.EOPNOTSUPP)
        return modes

    def get_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta) -> AuthRequest:
        """Method, modes and payload: mon hello, or an authorizer for the service."""
        method = self._pick_method(meta)
        to_mon = peer.peer_type == EntityType.MON
        if method == AUTH_CEPHX and AUTH_NONE in self.methods and \
                (not to_mon or peer.my_type == EntityType.MON) and \
                self.ticket_for(peer.peer_type) is None and \
                (not meta.allowed_methods or AUTH_NONE in meta.allowed_methods):
            method = AUTH_NONE  # no ticket for this service: fall back to none
        modes = self._pick_modes(peer, meta, method)
        meta.method_state.pop(_STATE, None)
        if method == AUTH_NONE:
            return AuthRequest(AUTH_NONE, modes,
                               encode_none_payload(self.name, self.global_id, to_mon=to_mon))
        if to_mon and peer.my_type != EntityType.MON:  # mons use authorizers between them
            meta.method_state[_STATE] = _MonRound()
            w = Writer()
            w.push_u8(AUTH_MODE_MON)
            push_auth_name(w, self.name)
            w.push_u64(self.global_id)
            return AuthRequest(AUTH_CEPHX, modes, w.getvalue())
        now = self.clock()
        sid = peer.peer_type
        t = self.tickets.get(sid)
        if t is None:
            raise self._fail(f"no cephx ticket for {service_name(sid)} (authenticate "
                             "with a monitor first, asking for it in want_keys)")
        if not t.have_key(now):
            raise self._fail(f"the {service_name(sid)} ticket expired; re-authenticate "
                             "with a monitor", -errno.EKEYEXPIRED)
        rnd = _AuthorizerRound(t, self.rng.getrandbits(64))
        meta.method_state[_STATE] = rnd
        return AuthRequest(AUTH_CEPHX, modes, build_authorizer(self.global_id, t, rnd.nonce))

    def _state(self, meta: AuthConnectionMeta) -> _MonRound | _AuthorizerRound:
        st = meta.method_state.get(_STATE)
        if not isinstance(st, _MonRound | _AuthorizerRound):
            raise self._fail("cephx reply without a cephx request", -errno.EINVAL)
        return st

    def handle_auth_reply_more(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               payload: bytes) -> bytes:
        """Answer the mon's challenge, or the service's authorizer challenge."""
        st = self._state(meta)
        try:
            if isinstance(st, _MonRound):
                if st.server_challenge is not None:
                    raise self._fail("the monitor sent a second challenge", -errno.EINVAL)
                st.server_challenge = CephXServerChallenge.from_bytes(
                    payload).server_challenge
                self.server_challenge = st.server_challenge
                st.old_keys = self._old_keys()
                return self._auth_session_request(st.server_challenge, self.clock(),
                                                  auth_invalid=True)
            t = st.ticket
            try:
                ch = CephXAuthorizeChallenge.from_bytes(dec_bl(t.session_key, payload))
            except CephxDecryptError as exc:
                raise self._fail(f"cannot decrypt the {service_name(t.service_id)}'s "
                                 f"challenge: {exc}") from None
            return build_authorizer(self.global_id, t, st.nonce, have_challenge=True,
                                    server_challenge_plus_one=(ch.server_challenge + 1)
                                    & 0xFFFFFFFFFFFFFFFF)
        except DecodeError as exc:
            raise self._fail(f"malformed cephx challenge: {exc}", -errno.EINVAL) from None

    def handle_auth_done(self, peer: AuthPeer, meta: AuthConnectionMeta, global_id: int,
                         con_mode: int, payload: bytes) -> None:
        """Check the server's proof; set ``meta.session_key`` and
        ``meta.connection_secret`` (64 bytes in secure mode, empty in crc)."""
        if meta.auth_method == AUTH_NONE:
            if con_mode != CON_MODE_CRC:
                raise self._fail(f"auth none cannot run connection mode {con_mode}",
                                 -errno.EINVAL)
            if global_id and peer.peer_type == EntityType.MON:
                self.global_id = global_id
            meta.session_key = meta.connection_secret = b""
            return
        st = self._state(meta)
        try:
            if isinstance(st, _MonRound):
                session_key, secret = self._mon_done(st, global_id, payload)
            else:
                session_key, secret = self._authorizer_done(st, payload)
        except DecodeError as exc:
            raise self._fail(f"malformed AUTH_DONE: {exc}", -errno.EINVAL) from None
        if con_mode == CON_MODE_SECURE:
            if secret is None or len(secret) < CONNECTION_SECRET_LEN:
                raise self._fail("secure mode without a full connection secret "
                                 f"({0 if secret is None else len(secret)} bytes)",
                                 -errno.EINVAL)
            meta.connection_secret = secret
        else:
            meta.connection_secret = b""
        meta.session_key = session_key
        meta.method_state.pop(_STATE, None)
        self.last_error = None

    def _mon_done(self, st: _MonRound, global_id: int,
                  payload: bytes) -> tuple[bytes, bytes | None]:
        if st.server_challenge is None:
            raise self._fail("the monitor finished without a challenge", -errno.EINVAL)
        r = Reader(payload)
        header = CephXResponseHeader.decode(r)
        if header.status < 0:
            raise self._record(AuthFailed(describe_result(self.name, header.status),
                                          header.status))
        if header.request_type != CEPHX_GET_AUTH_SESSION_KEY:
            raise self._fail(f"unexpected cephx reply type {header.request_type:#x}",
                             -errno.EINVAL)
        auth, secret = self._session_reply(r, self.clock(), st.old_keys)
        self.global_id = global_id
        return auth.session_key.secret, secret

    def _authorizer_done(self, st: _AuthorizerRound,
                         payload: bytes) -> tuple[bytes, bytes | None]:
        t = st.ticket
        try:
            reply = CephXAuthorizeReply.decode(pull_decrypted(Reader(payload),
                                                              t.session_key))
        except CephxDecryptError as exc:
            raise self._fail(f"cannot decrypt the {service_name(t.service_id)}'s reply: "
                             f"{exc}") from None
        if reply.nonce_plus_one != (st.nonce + 1) & 0xFFFFFFFFFFFFFFFF:
            raise self._fail(f"the {service_name(t.service_id)} did not prove it knows "
                             "the session key (bad nonce)")
        return t.session_key.secret, reply.connection_secret or None

    def handle_auth_bad_method(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               old_method: int, result: int,
                               allowed_methods: tuple[int, ...],
                               allowed_modes: tuple[int, ...]) -> bool:
        """Record why; True when another of our methods is allowed by the server."""
        self.last_error = AuthFailed(describe_result(self.name, result), result)
        try:
            idx = self.methods.index(old_method)
        except ValueError:
            idx = -1
        for m in self.methods[idx + 1:]:
            if m in allowed_methods:
                meta.method_state[_NEXT_METHOD] = m
                return True
        return False


__all__ = ["DEFAULT_WANT_KEYS", "CephxClient", "build_authorizer", "describe_result",
           "service_name"]
