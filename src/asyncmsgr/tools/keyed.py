"""Keyed checks for ``asyncmsgr decode --keyring``: cephx, signatures, secure mode.

Sans-I/O helpers the decoder (:mod:`asyncmsgr.tools.decoder`) calls when it was
given entity keys:

* :class:`KeySet`: entity keys by name (``client.admin``, ``mon.``) plus the
  session keys learnt from earlier connections of the same capture (a global_id
  reclaim sends the new ticket encrypted with the old session key; a client's
  authorizer for an OSD carries a service ticket the mon gave it, whose session
  key the client's key revealed).
* :class:`CephxTrace`: follows one connection's cephx exchange (wire-protocol.md
  §6.3-§6.6) and yields :class:`Check` results: the client's challenge proof,
  ticket and connection secret decryption, authorizer ticket, nonce and
  challenge answers. It ends with the session key (for AUTH_SIGNATURE, §5.5,
  and msgr v1 message signatures, §4.4) and the connection secret (§5.6).
* :class:`SecureReader`: reads msgr2.1 secure frames (§5.2) from one direction,
  checking every GCM tag. A bad tag is a failed check, not an exception: the
  bytes are still decrypted (GCM is a counter mode) so the frame boundaries stay
  known and the following frames decode normally.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from asyncmsgr.auth.cephx.crypto import (
    challenge_key,
    dec_bl,
    decode_decrypt,
    pull_decrypted,
)
from asyncmsgr.auth.cephx.sign import message_signature
from asyncmsgr.auth.cephx.types import (
    CephXAuthenticate,
    CephXAuthorize,
    CephXAuthorizeChallenge,
    CephXAuthorizer,
    CephXAuthorizeReply,
    CephXRequestHeader,
    CephXResponseHeader,
    CephXServerChallenge,
    CephXServiceTicket,
    CephXServiceTicketInfo,
    CephXTicketBlob,
)
from asyncmsgr.auth.keyring import CryptoKey, Keyring
from asyncmsgr.errors import AsyncmsgrError
from asyncmsgr.frames.assembler import INLINE_LEN, PREAMBLE_LEN, padded_len
from asyncmsgr.message import MsgFooter, MsgHeader
from asyncmsgr.types import AuthName, entity_type_str
from asyncmsgr.wire.buffer import Reader
from asyncmsgr.wire.codecs import pull_auth_name
from asyncmsgr.wire.crc32c import ceph_crc32c

AUTH_MODE_AUTHORIZER = 1
AUTH_MODE_MON = 10
AUTH_CEPHX = 2
CEPHX_GET_AUTH_SESSION_KEY = 0x0100
CEPHX_GET_PRINCIPAL_SESSION_KEY = 0x0200
#: secret_id of a ticket encrypted with the service entity's own key (mon<->mon).
SECRET_ID_ENTITY_KEY = (1 << 64) - 1
SERVICE_AUTH = 0x20
GCM_TAG_LEN = 16
_SECURE_PREAMBLE = PREAMBLE_LEN + INLINE_LEN + GCM_TAG_LEN  # 96
_EPILOGUE_SECURE = 16
_MAX_TICKETS = 32
_MAX_SESSIONS = 4096
_U64 = struct.Struct("<Q")


class Check(NamedTuple):
    """One keyed check: ``kind`` is ``gcm``, ``sig`` or ``cephx``."""

    kind: str
    ok: bool
    text: str

    def label(self) -> str:
        """``text ok`` or ``text FAILED``."""
        return f"{self.text} {'ok' if self.ok else 'FAILED'}"


@dataclass(slots=True)
class KeySet:
    """Entity keys, and session keys learnt while decoding one capture."""

    keys: dict[str, CryptoKey] = field(default_factory=dict)
    sessions: dict[bytes, CryptoKey] = field(default_factory=dict)
    """Ticket blob -> its session key: AUTH tickets (for a later global_id
    reclaim) and service tickets (for a later authorizer with that ticket)."""

    def add_keyring(self, keyring: Keyring) -> None:
        """Take every entity of a parsed keyring."""
        for name, entry in keyring.entries.items():
            self.keys[name] = entry.key

    def add_key(self, spec: str) -> None:
        """``NAME=BASE64`` (``client.admin=AQD...``); ValueError when malformed."""
        name, sep, b64 = spec.partition("=")
        if not sep or not name or not b64:
            raise ValueError(f"bad --key {spec!r} (want NAME=BASE64)")
        AuthName.parse(name)
        try:
            self.keys[name] = CryptoKey.from_base64(b64 + "=" * (-len(b64) % 4))
        except (AsyncmsgrError, ValueError) as exc:
            raise ValueError(f"bad --key for {name}: {exc}") from None

    def get(self, name: str) -> CryptoKey | None:
        """The key of ``name``, or None."""
        return self.keys.get(name)

    def fresh(self) -> KeySet:
        """A copy with no session state (one per decoded capture)."""
        return KeySet(dict(self.keys))


def _service_name(service_id: int) -> str:
    name = entity_type_str(service_id)
    return name if name != "unknown" else f"service{service_id:#x}"


def _err(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


class CephxTrace:
    """Follow one connection's cephx exchange and check what the keys allow.

    Call :meth:`request` for each client auth payload and :meth:`reply` for
    each server one, in order. ``missing`` names a key that was needed but not
    given; ``session_key`` and ``connection_secret`` are what was derived.
    """

    def __init__(self, keys: KeySet) -> None:
        self.keys = keys
        self.flow = ""  # "mon", "authorizer", "none" or "" (unknown)
        self.entity = ""
        self.missing: str | None = None
        self.session_key: CryptoKey | None = None
        self.connection_secret: bytes | None = None
        self._client_key: CryptoKey | None = None
        self._server_challenge: int | None = None
        self._old_ticket: bytes = b""
        self._nonce: int | None = None
        self._authorizer_challenge: int | None = None
        self._ticket_blob: bytes = b""
        self._request_type = CEPHX_GET_AUTH_SESSION_KEY

    @property
    def server_challenge(self) -> int | None:
        """The mon's challenge, once seen (msgr v1 uses it to order replies)."""
        return self._server_challenge

    def start_mon(self, entity: str) -> None:
        """A client names itself to a mon (msgr v1 MAuth #1)."""
        self.flow = "mon"
        self.entity = entity
        self._server_challenge = None
        self._client_key = self.keys.get(entity)
        if self._client_key is None:
            self.missing = entity

    # -- requests ----------------------------------------------------------------

    def start(self, method: int, payload: bytes) -> list[Check]:
        """The first request (AUTH_REQUEST, or a v1 connect authorizer)."""
        self._server_challenge = None
        self._authorizer_challenge = None
        if method != AUTH_CEPHX:
            self.flow = "none" if method == 1 else ""
            return []
        try:
            r = Reader(payload)
            mode = r.pull_u8()
            if mode == AUTH_MODE_MON:
                self.flow = "mon"
                name = pull_auth_name(r)
                self.entity = str(name)
                self._client_key = self.keys.get(self.entity)
                if self._client_key is None:
                    self.missing = self.entity
                return []
            if mode == AUTH_MODE_AUTHORIZER:
                self.flow = "authorizer"
                return self._authorizer(payload, answer=False)
        except AsyncmsgrError as exc:
            return [Check("cephx", False, f"auth request undecodable ({_err(exc)})")]
        return [Check("cephx", False, f"unknown cephx auth mode {mode}")]

    def more(self, payload: bytes) -> list[Check]:
        """A further request (AUTH_REQUEST_MORE, or a v1 connect answering a challenge)."""
        if self.flow == "authorizer":
            return self._authorizer(payload, answer=True)
        if self.flow != "mon":
            return []
        try:
            r = Reader(payload)
            head = CephXRequestHeader.decode(r)
            self._request_type = head.request_type
            if head.request_type != CEPHX_GET_AUTH_SESSION_KEY:
                return []
            auth = CephXAuthenticate.decode(r)
        except AsyncmsgrError as exc:
            return [Check("cephx", False, f"CephXAuthenticate undecodable ({_err(exc)})")]
        self._old_ticket = auth.old_ticket.blob
        if self._client_key is None or self._server_challenge is None:
            return []
        try:
            want = challenge_key(self._client_key, self._server_challenge,
                                 auth.client_challenge)
        except AsyncmsgrError as exc:
            return [Check("cephx", False, f"cephx proof of {self.entity} ({_err(exc)})")]
        ok = want == auth.key
        return [Check("cephx", ok, f"cephx proof of {self.entity}"
                      + ("" if ok else f" (wrong key for {self.entity}?)"))]

    # -- replies -----------------------------------------------------------------

    def reply_more(self, payload: bytes) -> list[Check]:
        """AUTH_REPLY_MORE (or a v1 CHALLENGE_AUTHORIZER reply)."""
        if self.flow == "mon":
            try:
                self._server_challenge = CephXServerChallenge.from_bytes(
                    payload).server_challenge
            except AsyncmsgrError as exc:
                return [Check("cephx", False, f"server challenge undecodable ({_err(exc)})")]
            return []
        if self.flow == "authorizer" and self.session_key is not None:
            try:
                ch = CephXAuthorizeChallenge.from_bytes(dec_bl(self.session_key, payload))
            except AsyncmsgrError as exc:
                return [Check("cephx", False, f"authorizer challenge decrypt ({_err(exc)})")]
            self._authorizer_challenge = ch.server_challenge
            return [Check("cephx", True, "authorizer challenge decrypt")]
        return []

    def done(self, payload: bytes) -> list[Check]:
        """AUTH_DONE (or the authorizer reply of a v1 READY/SEQ)."""
        if self.flow == "mon":
            return self._mon_done(payload)
        if self.flow == "authorizer" and self.session_key is not None and payload:
            try:
                reply = CephXAuthorizeReply.from_bytes(
                    decode_decrypt(self.session_key, payload))
            except AsyncmsgrError as exc:
                return [Check("cephx", False, f"authorize reply decrypt ({_err(exc)})")]
            if reply.connection_secret:
                self.connection_secret = reply.connection_secret
            if self._nonce is None:
                return []
            ok = reply.nonce_plus_one == (self._nonce + 1) & 0xFFFFFFFFFFFFFFFF
            return [Check("cephx", ok, "authorize reply nonce+1")]
        return []

    def _mon_done(self, payload: bytes) -> list[Check]:
        key = self._client_key
        if key is None:
            return []
        checks: list[Check] = []
        try:
            r = Reader(payload)
            head = CephXResponseHeader.decode(r)
            if head.status != 0:
                return [Check("cephx", False, f"cephx status {head.status}")]
            if self._request_type == CEPHX_GET_PRINCIPAL_SESSION_KEY:
                return self._principal_done(r)
            old = self.keys.sessions.get(self._old_ticket) if self._old_ticket else None
            tickets = _ticket_reply(r, key, old)
        except AsyncmsgrError as exc:
            return [Check("cephx", False, f"auth ticket decrypt with {self.entity} key "
                          f"({_err(exc)}; wrong key?)")]
        auth = [t for t in tickets if t[0] == SERVICE_AUTH]
        checks.append(Check("cephx", bool(auth), f"auth ticket decrypt ({self.entity} key)"))
        if not auth:
            return checks
        _sid, skey, blob = auth[0]
        self.session_key = skey
        if blob:
            self.keys.sessions[blob] = skey
        try:
            cbl = r.pull_blob() if not r.at_end() else b""
            if cbl:
                self.connection_secret = Reader(decode_decrypt(skey, cbl)).pull_blob()
                checks.append(Check("cephx", True, "connection secret decrypt"))
            extra = r.pull_blob() if not r.at_end() else b""
        except AsyncmsgrError as exc:
            checks.append(Check("cephx", False, f"connection secret decrypt ({_err(exc)})"))
            return checks
        if extra:
            try:
                more = _ticket_reply(Reader(extra), skey, None)
                self._learn(more)
                names = ",".join(_service_name(t[0]) for t in more)
                checks.append(Check("cephx", True, f"service tickets decrypt ({names})"))
            except AsyncmsgrError as exc:
                checks.append(Check("cephx", False, f"service tickets decrypt ({_err(exc)})"))
        return checks

    def _principal_done(self, r: Reader) -> list[Check]:
        if self.session_key is None:
            return []
        try:
            more = _ticket_reply(r, self.session_key, None)
        except AsyncmsgrError as exc:
            return [Check("cephx", False, f"service tickets decrypt ({_err(exc)})")]
        self._learn(more)
        names = ",".join(_service_name(t[0]) for t in more)
        return [Check("cephx", True, f"service tickets decrypt ({names})")]

    def _learn(self, tickets: list[tuple[int, CryptoKey, bytes]]) -> None:
        """Remember service tickets' session keys by ticket blob."""
        for _sid, key, blob in tickets:
            if blob and len(self.keys.sessions) < _MAX_SESSIONS:
                self.keys.sessions[blob] = key

    def _authorizer(self, payload: bytes, *, answer: bool) -> list[Check]:
        try:
            authz = CephXAuthorizer.from_bytes(payload)
        except AsyncmsgrError as exc:
            return [Check("cephx", False, f"authorizer undecodable ({_err(exc)})")]
        checks: list[Check] = []
        if self.session_key is None or authz.ticket.blob != self._ticket_blob:
            self._ticket_blob = authz.ticket.blob
            self.session_key = None
            if authz.ticket.secret_id != SECRET_ID_ENTITY_KEY:
                # rotating service secrets never appear in a keyring, but the
                # client got this ticket's session key from a mon earlier on
                known = self.keys.sessions.get(authz.ticket.blob)
                if known is None:
                    self.missing = f"rotating {_service_name(authz.service_id)} secret"
                    return []
                self.session_key = known
                self.entity = _service_name(authz.service_id)
                checks.append(Check("cephx", True, f"authorizer ticket known from the "
                                    f"mon's {self.entity} service ticket"))
                return checks + self._authorize(authz, answer=answer)
            name = f"{_service_name(authz.service_id)}."
            svc = self.keys.get(name)
            self.entity = name
            if svc is None:
                self.missing = name
                return []
            try:
                info = CephXServiceTicketInfo.from_bytes(dec_bl(svc, authz.ticket.blob))
            except AsyncmsgrError as exc:
                return [Check("cephx", False, f"authorizer ticket decrypt with {name} key "
                              f"({_err(exc)}; wrong key?)")]
            self.session_key = info.session_key
            checks.append(Check("cephx", True, f"authorizer ticket decrypt ({name} key, "
                                f"for {info.ticket.name})"))
        return checks + self._authorize(authz, answer=answer)

    def _authorize(self, authz: CephXAuthorizer, *, answer: bool) -> list[Check]:
        """Decrypt the CephXAuthorize with the session key; nonce and challenge+1."""
        assert self.session_key is not None
        checks: list[Check] = []
        try:
            az = CephXAuthorize.from_bytes(dec_bl(self.session_key, authz.enc_authorize))
        except AsyncmsgrError as exc:
            checks.append(Check("cephx", False, f"authorize decrypt ({_err(exc)})"))
            return checks
        if not answer or self._nonce is None:
            self._nonce = az.nonce
        else:
            checks.append(Check("cephx", az.nonce == self._nonce, "authorize nonce unchanged"))
        if answer and self._authorizer_challenge is not None:
            want = (self._authorizer_challenge + 1) & 0xFFFFFFFFFFFFFFFF
            ok = az.have_challenge and az.server_challenge_plus_one == want
            checks.append(Check("cephx", ok, "authorizer challenge+1"))
        return checks

    # -- signatures ----------------------------------------------------------------

    def expected_signature(self, received: bytes) -> bytes | None:
        """HMAC-SHA256 of the pre-auth bytes a side received (§5.5), or None."""
        if self.flow == "none":
            return bytes(32)
        if self.session_key is None:
            return None
        return hmac.new(self.session_key.secret, received, hashlib.sha256).digest()


def _ticket_reply(r: Reader, principal: CryptoKey,
                  old: CryptoKey | None) -> list[tuple[int, CryptoKey, bytes]]:
    """(service_id, session key, ticket blob or b"") per ticket of a reply."""
    v = r.pull_u8()
    n = r.pull_u32()
    if v < 1 or n > _MAX_TICKETS:
        raise CephxTraceError(f"bad service ticket reply (v{v}, {n} tickets)")
    out = []
    for _ in range(n):
        sid = r.pull_u32()
        r.pull_u8()
        msg_a = CephXServiceTicket.decode(pull_decrypted(r, principal))
        enc = r.pull_u8()
        blob = b""
        if enc:
            ct = r.pull_blob()
            if old is not None:
                blob = CephXTicketBlob.from_bytes(
                    Reader(dec_bl(old, ct)).pull_blob()).blob
        else:
            blob = CephXTicketBlob.from_bytes(r.pull_blob()).blob
        out.append((sid, msg_a.session_key, blob))
    return out


class CephxTraceError(AsyncmsgrError):
    """A cephx structure in a capture does not make sense."""


# -- msgr v1 message signatures (§4.4) ---------------------------------------------------


def v1_signature(session_key: CryptoKey, header: MsgHeader, footer: MsgFooter) -> int:
    """CEPHX_V2 message signature of a v1 message."""
    return message_signature(session_key, header, footer)


# -- msgr2.1 secure frames (§5.2, §5.6) --------------------------------------------------


class SecureFrame(NamedTuple):
    """One decrypted frame: segments are None when the sender aborted it."""

    tag: int
    segments: tuple[bytes, ...] | None
    wire_len: int
    gcm: tuple[bool, ...]
    """Result of each GCM tag of the frame, in order."""


class SecureFrameError(AsyncmsgrError):
    """A decrypted preamble is not valid: the frame boundaries are lost."""


class SecureReader:
    """Read rev1 secure frames from one direction's bytes (after AUTH_DONE)."""

    def __init__(self, key: bytes, nonce: bytes, data: bytes) -> None:
        self._key = key
        self._fixed = nonce[:4]
        self._counter = _U64.unpack_from(nonce, 4)[0]
        self._data = data
        self.pos = 0

    @property
    def remaining(self) -> int:
        """Bytes not consumed yet."""
        return len(self._data) - self.pos

    def _open(self, start: int, n: int) -> tuple[bytes, bool]:
        """Decrypt one GCM message of ``n`` bytes (tag included) at ``start``."""
        nonce = self._fixed + _U64.pack(self._counter)
        self._counter = (self._counter + 1) & 0xFFFFFFFFFFFFFFFF
        ct = self._data[start : start + n - GCM_TAG_LEN]
        tag = self._data[start + n - GCM_TAG_LEN : start + n]
        dec = Cipher(algorithms.AES(self._key), modes.GCM(nonce)).decryptor()
        plain = dec.update(ct)
        try:
            dec.finalize_with_tag(tag)
        except (InvalidTag, ValueError):
            return plain, False
        return plain, True

    def next_frame(self) -> SecureFrame | None:
        """The next frame, or None when the bytes end inside one.

        Raises SecureFrameError when the decrypted preamble is invalid.
        """
        start = self.pos
        if self.remaining < _SECURE_PREAMBLE:
            return None
        counter = self._counter
        head, ok0 = self._open(start, _SECURE_PREAMBLE)
        pre = head[:PREAMBLE_LEN]
        crc = struct.unpack_from("<I", pre, 28)[0]
        if ceph_crc32c(0, pre[:28]) != crc:
            raise SecureFrameError(
                "bad preamble crc after decryption" + ("" if ok0 else " (GCM tag FAILED)"))
        tag, nseg = pre[0], pre[1]
        if not 1 <= nseg <= 4:
            raise SecureFrameError(f"bad number of segments {nseg}")
        lens = [struct.unpack_from("<I", pre, 2 + 6 * i)[0] for i in range(nseg)]
        p0 = padded_len(lens[0])
        body = 0
        if p0 > INLINE_LEN:
            body += p0 - INLINE_LEN + GCM_TAG_LEN
        rest_len = 0
        if nseg > 1:
            rest_len = sum(padded_len(x) for x in lens[1:]) + _EPILOGUE_SECURE + GCM_TAG_LEN
        if self.remaining < _SECURE_PREAMBLE + body + rest_len:
            self._counter = counter  # not consumed: the capture ends here
            return None
        results = [ok0]
        seg0 = head[PREAMBLE_LEN:]
        pos = start + _SECURE_PREAMBLE
        if body:
            more, ok = self._open(pos, body)
            results.append(ok)
            seg0 += more
            pos += body
        segs = [seg0[: lens[0]]]
        complete = True
        if nseg > 1:
            plain, ok = self._open(pos, rest_len)
            results.append(ok)
            pos += rest_len
            off = 0
            for length in lens[1:]:
                segs.append(plain[off : off + length])
                off += padded_len(length)
            complete = plain[off] & 0x0F == 0x0E
        self.pos = pos
        return SecureFrame(tag, tuple(segs) if complete else None, pos - start,
                           tuple(results))


def summarize(checks: Iterable[Check]) -> str:
    """`` cephx: a ok, b FAILED`` for a record's detail."""
    labels = [c.label() for c in checks]
    return (" | " + "; ".join(labels)) if labels else ""


__all__ = [
    "AUTH_CEPHX",
    "CephxTrace",
    "CephxTraceError",
    "Check",
    "KeySet",
    "SecureFrame",
    "SecureFrameError",
    "SecureReader",
    "summarize",
    "v1_signature",
]
