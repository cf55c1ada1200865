"""cephx structures (``CephxProtocol.h``, ``Auth.h``) as frozen dataclasses.

Each has ``encode(w)`` / ``decode(r)`` (and ``to_bytes`` / ``from_bytes``).
Most start with a bare ``u8 struct_v`` (no compat, no length; wire-protocol.md
§2.2). Decoders raise only DecodeError; trailing bytes are left to the caller,
as Ceph leaves them.

Encrypted parts are carried as ciphertext bytes (``enc_*`` fields) and opened
with the helpers in :mod:`asyncmsgr.auth.cephx.crypto`.
"""

from __future__ import annotations

from typing import Self

from asyncmsgr.auth.keyring import CryptoKey
from asyncmsgr.errors import DecodeError
from asyncmsgr.record import Record
from asyncmsgr.types import AuthName, UTime
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import pull_auth_name, pull_utime, push_auth_name, push_utime

_set = object.__setattr__  # what a frozen class's __init__ assigns with

CEPHX_GET_AUTH_SESSION_KEY = 0x0100
CEPHX_GET_PRINCIPAL_SESSION_KEY = 0x0200
CEPHX_GET_ROTATING_KEY = 0x0400
#: ``CEPH_AUTH_UID_DEFAULT``: the auid every AuthTicket carries.
AUID_DEFAULT = (1 << 64) - 1
#: secret_id meaning "encrypted with the service's own entity key" (mon<->mon).
SECRET_ID_ENTITY_KEY = (1 << 64) - 1


class _Codec(Record):
    """``to_bytes`` / ``from_bytes`` on top of ``encode`` / ``decode``."""

    __slots__ = ()

    def encode(self, w: Writer) -> None:
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """The encoding."""
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def decode(cls, r: Reader) -> Self:
        raise NotImplementedError

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Self:
        """Decode one value from the start of ``data`` (trailing bytes ignored)."""
        return cls.decode(Reader(data))


def _v(r: Reader, what: str, minimum: int = 1) -> int:
    v = r.pull_u8()
    if v < minimum:
        raise DecodeError(f"{what}: struct_v {v} < {minimum}")
    return v


class CephXServerChallenge(_Codec):
    """``u8 1, u64 server_challenge`` (AUTH_REPLY_MORE from a mon)."""

    server_challenge: int

    __slots__ = ("server_challenge",)

    def __init__(self, server_challenge: int) -> None:
        _set(self, "server_challenge", server_challenge)

    def encode(self, w: Writer) -> None:
        w.push_u8(1)
        w.push_u64(self.server_challenge)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        _v(r, "CephXServerChallenge")
        return cls(r.pull_u64())


class CephXRequestHeader(_Codec):
    """``u16 request_type``."""

    request_type: int

    __slots__ = ("request_type",)

    def __init__(self, request_type: int) -> None:
        _set(self, "request_type", request_type)

    def encode(self, w: Writer) -> None:
        w.push_u16(self.request_type)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.pull_u16())


class CephXResponseHeader(_Codec):
    """``u16 request_type, s32 status``."""

    request_type: int
    status: int

    __slots__ = ("request_type", "status")

    def __init__(self, request_type: int, status: int = 0) -> None:
        _set(self, "request_type", request_type)
        _set(self, "status", status)

    def encode(self, w: Writer) -> None:
        w.push_u16(self.request_type)
        w.push_s32(self.status)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        rt = r.pull_u16()
        return cls(rt, r.pull_s32())


class CephXTicketBlob(_Codec):
    """``u8 1, u64 secret_id, bufferlist blob`` (the blob is opaque to clients)."""

    secret_id: int
    blob: bytes

    __slots__ = ("blob", "secret_id")

    def __init__(self, secret_id: int = 0, blob: bytes = b"") -> None:
        _set(self, "secret_id", secret_id)
        _set(self, "blob", blob)

    def encode(self, w: Writer) -> None:
        w.push_u8(1)
        w.push_u64(self.secret_id)
        w.push_blob(self.blob)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        _v(r, "CephXTicketBlob")
        sid = r.pull_u64()
        return cls(sid, r.pull_blob())


#: The empty ticket blob (no previous ticket).
_NO_TICKET = CephXTicketBlob()


class CephXAuthenticate(_Codec):
    """``u8 v, u64 client_challenge, u64 key, CephXTicketBlob old_ticket,
    [v>=2] u32 other_keys``. We send v3 (old_ticket always populated)."""

    client_challenge: int
    key: int
    old_ticket: CephXTicketBlob
    other_keys: int
    struct_v: int

    __slots__ = ("client_challenge", "key", "old_ticket", "other_keys", "struct_v")

    def __init__(self, client_challenge: int, key: int,
                 old_ticket: CephXTicketBlob = _NO_TICKET, other_keys: int = 0,
                 struct_v: int = 3) -> None:
        _set(self, "client_challenge", client_challenge)
        _set(self, "key", key)
        _set(self, "old_ticket", old_ticket)
        _set(self, "other_keys", other_keys)
        _set(self, "struct_v", struct_v)

    def encode(self, w: Writer) -> None:
        w.push_u8(self.struct_v)
        w.push_u64(self.client_challenge)
        w.push_u64(self.key)
        self.old_ticket.encode(w)
        if self.struct_v >= 2:
            w.push_u32(self.other_keys)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        v = _v(r, "CephXAuthenticate")
        cc = r.pull_u64()
        key = r.pull_u64()
        old = CephXTicketBlob.decode(r)
        other = r.pull_u32() if v >= 2 else 0
        return cls(cc, key, old, other, v)


class CephXChallengeBlob(_Codec):
    """``u64 server_challenge, u64 client_challenge`` (no version byte)."""

    server_challenge: int
    client_challenge: int

    __slots__ = ("client_challenge", "server_challenge")

    def __init__(self, server_challenge: int, client_challenge: int) -> None:
        _set(self, "server_challenge", server_challenge)
        _set(self, "client_challenge", client_challenge)

    def encode(self, w: Writer) -> None:
        w.push_u64(self.server_challenge)
        w.push_u64(self.client_challenge)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        s = r.pull_u64()
        return cls(s, r.pull_u64())


class CephXServiceTicket(_Codec):
    """"msg_a": ``u8 1, CryptoKey session_key, utime_t validity``."""

    session_key: CryptoKey
    validity: UTime

    __slots__ = ("session_key", "validity")

    def __init__(self, session_key: CryptoKey, validity: UTime) -> None:
        _set(self, "session_key", session_key)
        _set(self, "validity", validity)

    def encode(self, w: Writer) -> None:
        w.push_u8(1)
        self.session_key.encode(w)
        push_utime(w, self.validity)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        _v(r, "CephXServiceTicket")
        key = CryptoKey.decode(r)
        return cls(key, pull_utime(r))


class AuthCapsInfo(_Codec):
    """``u8 1, bool allow_all, bufferlist caps``."""

    allow_all: bool
    caps: bytes

    __slots__ = ("allow_all", "caps")

    def __init__(self, allow_all: bool = False, caps: bytes = b"") -> None:
        _set(self, "allow_all", allow_all)
        _set(self, "caps", caps)

    def encode(self, w: Writer) -> None:
        w.push_u8(1)
        w.push_bool(self.allow_all)
        w.push_blob(self.caps)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        _v(r, "AuthCapsInfo")
        allow_all = r.pull_bool()
        return cls(allow_all, r.pull_blob())


#: No capabilities.
_NO_CAPS = AuthCapsInfo()


class AuthTicket(_Codec):
    """``u8 2, EntityName name, u64 global_id, u64 auid, utime created,
    utime expires, AuthCapsInfo caps, u32 flags``."""

    name: AuthName
    global_id: int
    created: UTime
    expires: UTime
    caps: AuthCapsInfo
    flags: int
    auid: int

    __slots__ = ("auid", "caps", "created", "expires", "flags", "global_id", "name")

    def __init__(self, name: AuthName, global_id: int, created: UTime, expires: UTime,
                 caps: AuthCapsInfo = _NO_CAPS, flags: int = 0,
                 auid: int = AUID_DEFAULT) -> None:
        _set(self, "name", name)
        _set(self, "global_id", global_id)
        _set(self, "created", created)
        _set(self, "expires", expires)
        _set(self, "caps", caps)
        _set(self, "flags", flags)
        _set(self, "auid", auid)

    def encode(self, w: Writer) -> None:
        w.push_u8(2)
        push_auth_name(w, self.name)
        w.push_u64(self.global_id)
        w.push_u64(self.auid)
        push_utime(w, self.created)
        push_utime(w, self.expires)
        self.caps.encode(w)
        w.push_u32(self.flags)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        v = _v(r, "AuthTicket")
        name = pull_auth_name(r)
        gid = r.pull_u64()
        auid = r.pull_u64() if v >= 2 else AUID_DEFAULT
        created = pull_utime(r)
        expires = pull_utime(r)
        caps = AuthCapsInfo.decode(r)
        return cls(name, gid, created, expires, caps, r.pull_u32(), auid)


class CephXServiceTicketInfo(_Codec):
    """"ticket B" (inside the opaque blob): ``u8 1, AuthTicket, CryptoKey session_key``."""

    ticket: AuthTicket
    session_key: CryptoKey

    __slots__ = ("session_key", "ticket")

    def __init__(self, ticket: AuthTicket, session_key: CryptoKey) -> None:
        _set(self, "ticket", ticket)
        _set(self, "session_key", session_key)

    def encode(self, w: Writer) -> None:
        w.push_u8(1)
        self.ticket.encode(w)
        self.session_key.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        _v(r, "CephXServiceTicketInfo")
        ticket = AuthTicket.decode(r)
        return cls(ticket, CryptoKey.decode(r))


class CephXAuthorize(_Codec):
    """``u8 2, u64 nonce, bool have_challenge, u64 server_challenge_plus_one``
    (v1 has the nonce only)."""

    nonce: int
    have_challenge: bool
    server_challenge_plus_one: int

    __slots__ = ("have_challenge", "nonce", "server_challenge_plus_one")

    def __init__(self, nonce: int, have_challenge: bool = False,
                 server_challenge_plus_one: int = 0) -> None:
        _set(self, "nonce", nonce)
        _set(self, "have_challenge", have_challenge)
        _set(self, "server_challenge_plus_one", server_challenge_plus_one)

    def encode(self, w: Writer) -> None:
        w.push_u8(2)
        w.push_u64(self.nonce)
        w.push_bool(self.have_challenge)
        w.push_u64(self.server_challenge_plus_one)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        v = _v(r, "CephXAuthorize")
        nonce = r.pull_u64()
        if v < 2:
            return cls(nonce)
        have = r.pull_bool()
        return cls(nonce, have, r.pull_u64())


class CephXAuthorizer(_Codec):
    """``u8 1, u64 global_id, u32 service_id, CephXTicketBlob ticket,
    encode_encrypt(session_key, CephXAuthorize)``; ``enc_authorize`` is the
    ciphertext (without its u32 length)."""

    global_id: int
    service_id: int
    ticket: CephXTicketBlob
    enc_authorize: bytes

    __slots__ = ("enc_authorize", "global_id", "service_id", "ticket")

    def __init__(self, global_id: int, service_id: int, ticket: CephXTicketBlob,
                 enc_authorize: bytes) -> None:
        _set(self, "global_id", global_id)
        _set(self, "service_id", service_id)
        _set(self, "ticket", ticket)
        _set(self, "enc_authorize", enc_authorize)

    def encode(self, w: Writer) -> None:
        w.push_u8(1)
        w.push_u64(self.global_id)
        w.push_u32(self.service_id)
        self.ticket.encode(w)
        w.push_blob(self.enc_authorize)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        _v(r, "CephXAuthorizer")
        gid = r.pull_u64()
        sid = r.pull_u32()
        ticket = CephXTicketBlob.decode(r)
        return cls(gid, sid, ticket, r.pull_blob())


class CephXAuthorizeChallenge(_Codec):
    """``u8 1, u64 server_challenge`` (sent as a bare enc_bl)."""

    server_challenge: int

    __slots__ = ("server_challenge",)

    def __init__(self, server_challenge: int) -> None:
        _set(self, "server_challenge", server_challenge)

    def encode(self, w: Writer) -> None:
        w.push_u8(1)
        w.push_u64(self.server_challenge)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        _v(r, "CephXAuthorizeChallenge")
        return cls(r.pull_u64())


class CephXAuthorizeReply(_Codec):
    """``u8 v, u64 nonce_plus_one, [v2] string connection_secret``; v2 exactly
    when there is a secret."""

    nonce_plus_one: int
    connection_secret: bytes

    __slots__ = ("connection_secret", "nonce_plus_one")

    def __init__(self, nonce_plus_one: int, connection_secret: bytes = b"") -> None:
        _set(self, "nonce_plus_one", nonce_plus_one)
        _set(self, "connection_secret", connection_secret)

    def encode(self, w: Writer) -> None:
        w.push_u8(2 if self.connection_secret else 1)
        w.push_u64(self.nonce_plus_one)
        if self.connection_secret:
            w.push_blob(self.connection_secret)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        v = _v(r, "CephXAuthorizeReply")
        n = r.pull_u64()
        return cls(n, r.pull_blob() if v >= 2 else b"")


class CephXServiceTicketRequest(_Codec):
    """``u8 1, u32 keys`` (service-id bitmask)."""

    keys: int

    __slots__ = ("keys",)

    def __init__(self, keys: int) -> None:
        _set(self, "keys", keys)

    def encode(self, w: Writer) -> None:
        w.push_u8(1)
        w.push_u32(self.keys)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        _v(r, "CephXServiceTicketRequest")
        return cls(r.pull_u32())


__all__ = [
    "AUID_DEFAULT",
    "CEPHX_GET_AUTH_SESSION_KEY",
    "CEPHX_GET_PRINCIPAL_SESSION_KEY",
    "CEPHX_GET_ROTATING_KEY",
    "SECRET_ID_ENTITY_KEY",
    "AuthCapsInfo",
    "AuthTicket",
    "CephXAuthenticate",
    "CephXAuthorize",
    "CephXAuthorizeChallenge",
    "CephXAuthorizeReply",
    "CephXAuthorizer",
    "CephXChallengeBlob",
    "CephXRequestHeader",
    "CephXResponseHeader",
    "CephXServerChallenge",
    "CephXServiceTicket",
    "CephXServiceTicketInfo",
    "CephXServiceTicketRequest",
    "CephXTicketBlob",
]
