"""auth none: identity without proof (wire-protocol.md §6.7).

Client payload: to a mon ``u8 AUTH_MODE_MON (10)`` + EntityName + u64 global_id;
to any other service an authorizer ``u8 1`` + EntityName + u64 global_id. The
server accepts at once (AUTH_DONE with an empty payload); the session key is
empty, so both AUTH_SIGNATUREs are 32 zero bytes, and only crc mode is possible.
"""

from __future__ import annotations

from itertools import count

from asyncmsgr.auth.base import (
    AuthConnectionMeta,
    AuthPeer,
    AuthReply,
    AuthRequest,
    ModeOptions,
)
from asyncmsgr.errors import AuthFailed, DecodeError
from asyncmsgr.frames.v2 import AUTH_NONE, CON_MODE_CRC, CON_MODE_UNKNOWN
from asyncmsgr.record import MutableRecord
from asyncmsgr.types import AuthName, EntityType
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import pull_auth_name, push_auth_name

AUTH_MODE_AUTHORIZER = 1
AUTH_MODE_MON = 10
_EOPNOTSUPP = -95


def encode_none_payload(name: AuthName, global_id: int, *, to_mon: bool) -> bytes:
    """The auth none AUTH_REQUEST payload."""
    w = Writer()
    w.push_u8(AUTH_MODE_MON if to_mon else AUTH_MODE_AUTHORIZER)
    push_auth_name(w, name)
    w.push_u64(global_id)
    return w.getvalue()


def decode_none_payload(payload: bytes) -> tuple[int, AuthName, int]:
    """(mode byte, name, global_id); raises DecodeError."""
    r = Reader(payload)
    mode = r.pull_u8()
    if mode not in (AUTH_MODE_MON, AUTH_MODE_AUTHORIZER):
        raise DecodeError(f"auth none: unknown payload mode {mode}")
    name = pull_auth_name(r)
    return mode, name, r.pull_u64()


class AuthNoneClient(MutableRecord):
    """Client side of auth none for one entity."""

    name: AuthName
    global_id: int
    modes: ModeOptions
    i_am_client: bool

    __slots__ = ("global_id", "i_am_client", "modes", "name")

    def __init__(self, name: AuthName, global_id: int = 0, modes: ModeOptions | None = None,
                 i_am_client: bool = True) -> None:
        self.name = name
        self.global_id = global_id
        self.modes = ModeOptions() if modes is None else modes
        self.i_am_client = i_am_client

    def get_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta) -> AuthRequest:
        """Method none, crc mode, our name and global id."""
        if meta.allowed_methods and AUTH_NONE not in meta.allowed_methods:
            raise AuthFailed("peer does not allow auth none", -13)
        wanted = self.modes.modes_for(peer.my_type, peer.peer_type,
                                      i_am_client=self.i_am_client)
        modes = tuple(m for m in wanted if m == CON_MODE_CRC) or (CON_MODE_CRC,)
        payload = encode_none_payload(self.name, self.global_id,
                                      to_mon=peer.peer_type == EntityType.MON)
        return AuthRequest(AUTH_NONE, modes, payload)

    def handle_auth_reply_more(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               payload: bytes) -> bytes:
        """auth none never has a second round."""
        raise AuthFailed("auth none: unexpected AUTH_REPLY_MORE", -22)

    def handle_auth_done(self, peer: AuthPeer, meta: AuthConnectionMeta, global_id: int,
                         con_mode: int, payload: bytes) -> None:
        """Accept; remember the global id a mon assigned."""
        if con_mode != CON_MODE_CRC:
            raise AuthFailed(f"auth none cannot run connection mode {con_mode}", -22)
        if global_id and peer.peer_type == EntityType.MON:
            self.global_id = global_id
        meta.session_key = b""
        meta.connection_secret = b""

    def handle_auth_bad_method(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               old_method: int, result: int,
                               allowed_methods: tuple[int, ...],
                               allowed_modes: tuple[int, ...]) -> bool:
        """Nothing else to try."""
        return False


class AuthNoneServer(MutableRecord):
    """Server side accepting auth none from every peer type."""

    modes: ModeOptions
    my_type: int
    _next_global_id: count[int]

    __slots__ = ("_next_global_id", "modes", "my_type")

    def __init__(self, modes: ModeOptions | None = None, my_type: int = EntityType.OSD,
                 _next_global_id: count[int] | None = None) -> None:
        self.modes = ModeOptions() if modes is None else modes
        self.my_type = my_type
        self._next_global_id = count(4096) if _next_global_id is None else _next_global_id

    def get_supported_auth_methods(self, peer_type: int) -> tuple[tuple[int, ...],
                                                                   tuple[int, ...]]:
        """Only method none, only crc."""
        return (AUTH_NONE,), (CON_MODE_CRC,)

    def pick_con_mode(self, peer_type: int, method: int,
                      preferred_modes: tuple[int, ...]) -> int:
        """crc when the client offers it (and our options allow it)."""
        allowed = self.modes.modes_for(self.my_type, peer_type,
                                       i_am_client=False)
        if method != AUTH_NONE:
            return CON_MODE_UNKNOWN
        for mode in preferred_modes:
            if mode == CON_MODE_CRC and mode in allowed:
                return mode
        return CON_MODE_UNKNOWN

    def handle_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta, more: bool,
                            method: int, payload: bytes) -> AuthReply:
        """Accept at once; a client without a global id gets a new one."""
        if method != AUTH_NONE or more:
            raise AuthFailed(f"auth method {method} not supported", _EOPNOTSUPP)
        try:
            _mode, name, global_id = decode_none_payload(payload)
        except DecodeError as exc:
            raise AuthFailed(f"bad auth none payload: {exc}", -22) from exc
        if not global_id:
            global_id = next(self._next_global_id)
        meta.peer_name = name
        meta.peer_global_id = global_id
        return AuthReply(done=True, payload=b"", global_id=global_id)


__all__ = [
    "AUTH_MODE_AUTHORIZER",
    "AUTH_MODE_MON",
    "AuthNoneClient",
    "AuthNoneServer",
    "decode_none_payload",
    "encode_none_payload",
]
