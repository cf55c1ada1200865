"""The AuthClient / AuthServer interfaces the protocol machines call (Ceph's
``auth/AuthClient.h`` and ``auth/AuthServer.h``), and connection-mode selection.

Calls are synchronous and do no I/O. A method that cannot proceed raises
:class:`~asyncmsgr.errors.AuthFailed`; the connection then faults (client) or
answers AUTH_BAD_METHOD (server).
"""

from __future__ import annotations

from typing import Protocol

from asyncmsgr.frames.v2 import (
    AUTH_CEPHX,
    AUTH_NONE,
    AUTH_UNKNOWN,
    CON_MODE_CRC,
    CON_MODE_SECURE,
    CON_MODE_UNKNOWN,
)
from asyncmsgr.record import MutableRecord, Record
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType

_set = object.__setattr__  # what a frozen class's __init__ assigns with

CON_MODE_NAMES = {"crc": CON_MODE_CRC, "secure": CON_MODE_SECURE}
AUTH_METHOD_NAMES = {"none": AUTH_NONE, "cephx": AUTH_CEPHX}


def parse_con_modes(text: str) -> tuple[int, ...]:
    """``"secure crc"`` -> (SECURE, CRC); unknown words raise ValueError."""
    out: list[int] = []
    for word in text.replace(",", " ").split():
        mode = CON_MODE_NAMES.get(word.lower())
        if mode is None:
            raise ValueError(f"unknown connection mode {word!r} (want crc or secure)")
        if mode not in out:
            out.append(mode)
    return tuple(out)


def parse_auth_methods(text: str) -> tuple[int, ...]:
    """``"cephx, none"`` -> (CEPHX, NONE); unknown words raise ValueError."""
    out: list[int] = []
    for word in text.replace(",", " ").split():
        method = AUTH_METHOD_NAMES.get(word.lower())
        if method is None:
            raise ValueError(f"unknown auth method {word!r} (want cephx or none)")
        if method not in out:
            out.append(method)
    return tuple(out)


class ModeOptions(Record):
    """The ``ms_*_mode`` options, as Ceph's AuthRegistry reads them."""

    cluster: str
    service: str
    client: str
    mon_cluster: str
    mon_service: str
    mon_client: str

    __slots__ = ("client", "cluster", "mon_client", "mon_cluster", "mon_service", "service")

    def __init__(self, *, cluster: str = "crc secure", service: str = "crc secure",
                 client: str = "crc secure", mon_cluster: str = "secure crc",
                 mon_service: str = "secure crc", mon_client: str = "secure crc") -> None:
        _set(self, "cluster", cluster)
        _set(self, "service", service)
        _set(self, "client", client)
        _set(self, "mon_cluster", mon_cluster)
        _set(self, "mon_service", mon_service)
        _set(self, "mon_client", mon_client)

    def modes_for(self, my_type: int, peer_type: int, *, i_am_client: bool) -> tuple[int, ...]:
        """Allowed connection modes, most preferred first.

        ``i_am_client``: this process is a client (not a daemon). Mons use the
        mon_cluster/mon_service lists; others talking to a mon use mon_client;
        clients use client; daemons use service towards clients, cluster
        towards daemons.
        """
        if my_type == EntityType.MON:
            text = self.mon_cluster if peer_type == EntityType.MON else self.mon_service
        elif peer_type == EntityType.MON:
            text = self.mon_client
        elif i_am_client:
            text = self.client
        elif peer_type == EntityType.CLIENT:
            text = self.service
        else:
            text = self.cluster
        return parse_con_modes(text)


class AuthPeer(Record):
    """What an auth method may know about the other end of a connection."""

    peer_type: int
    """The peer's entity type (from HELLO on the server side, dialled on the client)."""
    peer_addrs: EntityAddrVec
    my_type: int

    __slots__ = ("my_type", "peer_addrs", "peer_type")

    def __init__(self, *, peer_type: int, peer_addrs: EntityAddrVec, my_type: int) -> None:
        _set(self, "peer_type", peer_type)
        _set(self, "peer_addrs", peer_addrs)
        _set(self, "my_type", my_type)


class AuthConnectionMeta(MutableRecord):
    """Per-connection auth state (``AuthConnectionMeta``); reset on every attempt."""

    auth_method: int
    con_mode: int
    session_key: bytes
    """AES secret signing the pre-auth transcript (empty for auth none)."""
    connection_secret: bytes
    """Secure-mode key material (64 bytes), empty in crc mode."""
    peer_name: AuthName | None
    """Who the peer authenticated as (server side)."""
    peer_global_id: int
    allowed_methods: tuple[int, ...]
    allowed_modes: tuple[int, ...]
    method_state: dict[str, object]
    """Scratch space for the method (challenges, nonces) across rounds."""

    __slots__ = ("allowed_methods", "allowed_modes", "auth_method", "con_mode", "connection_secret",
                 "method_state", "peer_global_id", "peer_name", "session_key")

    def __init__(self, auth_method: int = AUTH_UNKNOWN, con_mode: int = CON_MODE_UNKNOWN,
                 session_key: bytes = b"", connection_secret: bytes = b"",
                 peer_name: AuthName | None = None, peer_global_id: int = 0,
                 allowed_methods: tuple[int, ...] = (), allowed_modes: tuple[int, ...] = (),
                 method_state: dict[str, object] | None = None) -> None:
        self.auth_method = auth_method
        self.con_mode = con_mode
        self.session_key = session_key
        self.connection_secret = connection_secret
        self.peer_name = peer_name
        self.peer_global_id = peer_global_id
        self.allowed_methods = allowed_methods
        self.allowed_modes = allowed_modes
        self.method_state = {} if method_state is None else method_state


class AuthRequest(Record):
    """First client step: the method, its preferred modes and its payload."""

    method: int
    preferred_modes: tuple[int, ...]
    payload: bytes

    __slots__ = ("method", "payload", "preferred_modes")

    def __init__(self, method: int, preferred_modes: tuple[int, ...], payload: bytes) -> None:
        _set(self, "method", method)
        _set(self, "preferred_modes", preferred_modes)
        _set(self, "payload", payload)


class AuthReply(Record):
    """A server step: ``done`` (AUTH_DONE) or more (AUTH_REPLY_MORE)."""

    done: bool
    payload: bytes
    global_id: int

    __slots__ = ("done", "global_id", "payload")

    def __init__(self, done: bool, payload: bytes, global_id: int = 0) -> None:
        _set(self, "done", done)
        _set(self, "payload", payload)
        _set(self, "global_id", global_id)


class AuthClient(Protocol):
    """Client side of an authentication method (Ceph's ``AuthClient``)."""

    def get_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta) -> AuthRequest:
        """The AUTH_REQUEST to send (``meta.allowed_methods`` narrows after BAD_METHOD)."""
        ...

    def handle_auth_reply_more(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               payload: bytes) -> bytes:
        """The AUTH_REQUEST_MORE payload answering an AUTH_REPLY_MORE."""
        ...

    def handle_auth_done(self, peer: AuthPeer, meta: AuthConnectionMeta, global_id: int,
                         con_mode: int, payload: bytes) -> None:
        """Finish: fill ``meta.session_key`` and ``meta.connection_secret``."""
        ...

    def handle_auth_bad_method(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               old_method: int, result: int,
                               allowed_methods: tuple[int, ...],
                               allowed_modes: tuple[int, ...]) -> bool:
        """True to retry with another ``get_auth_request``; False to give up."""
        ...


class AuthServer(Protocol):
    """Server side of the authentication methods (Ceph's ``AuthServer``)."""

    def get_supported_auth_methods(self, peer_type: int) -> tuple[tuple[int, ...],
                                                                   tuple[int, ...]]:
        """(methods, modes) we accept from a peer of this type."""
        ...

    def pick_con_mode(self, peer_type: int, method: int,
                      preferred_modes: tuple[int, ...]) -> int:
        """The first of the client's modes we allow, or CON_MODE_UNKNOWN."""
        ...

    def handle_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta, more: bool,
                            method: int, payload: bytes) -> AuthReply:
        """One server step; raise AuthFailed (result -EBUSY means: fault, retry later)."""
        ...


__all__ = [
    "AUTH_METHOD_NAMES",
    "CON_MODE_NAMES",
    "AuthClient",
    "AuthConnectionMeta",
    "AuthPeer",
    "AuthReply",
    "AuthRequest",
    "AuthServer",
    "ModeOptions",
    "parse_auth_methods",
    "parse_con_modes",
]
