"""Session resolution on the accept side, as pure functions (Ceph's
``handle_existing_connection`` and ``handle_reconnect`` on msgr2, and
``handle_connect_message_2`` on msgr v1, ceph-messenger.md §4.5).

The accepting connection describes the registered connection for the same
peer as an :class:`ExistingView` and asks what to do; the answer is data, so
every rule is table-tested without sockets.

Address order is Ceph's: ``entity_addr_t::operator<`` is a ``memcmp`` of the
in-memory struct (u32 type and nonce in host order, then the sockaddr union
with a host-order family, a network-order port and the address bytes);
:func:`addr_order_key` reproduces those bytes so asyncmsgr and Ceph daemons
agree on who wins a race.
"""

from __future__ import annotations

import struct
from enum import Enum

from asyncmsgr.record import Record
from asyncmsgr.types import AF_INET, AF_INET6, EntityAddr

_SOCKADDR_UNION = 28
_set = object.__setattr__  # what a frozen class's __init__ assigns with


def addr_order_key(addr: EntityAddr | None) -> bytes:
    """Bytes whose order is Ceph's ``entity_addr_t`` order (little-endian host)."""
    if addr is None:
        return b""
    head = struct.pack("<IIH", addr.type, addr.nonce, addr.family)
    port = struct.pack(">H", addr.port)
    if addr.family == AF_INET:
        body = port + addr.ip
    elif addr.family == AF_INET6:
        body = port + struct.pack(">I", addr.flowinfo) + addr.ip + struct.pack(
            "<I", addr.scope_id)
    else:
        body = b""
    return head + body.ljust(_SOCKADDR_UNION - 2, b"\0")


class ExistingView(Record):
    """What the accept side knows about the registered connection to the peer."""

    closed: bool
    """Its protocol state is CLOSED."""
    replacing: bool
    """Another accepted socket is being transplanted into it right now."""
    ready_or_standby: bool
    """Its state is READY or STANDBY."""
    lossy: bool
    """Its policy is lossy."""
    server: bool
    """Its policy is a server policy."""
    client_cookie: int
    server_cookie: int
    connect_seq: int
    peer_global_seq: int
    peer_addr: EntityAddr | None
    """Its peer's msgr2 address."""

    __slots__ = ("client_cookie", "closed", "connect_seq", "lossy", "peer_addr",
                 "peer_global_seq", "ready_or_standby", "replacing", "server",
                 "server_cookie")

    def __init__(self, *, closed: bool, replacing: bool, ready_or_standby: bool, lossy: bool,
                 server: bool, client_cookie: int, server_cookie: int, connect_seq: int,
                 peer_global_seq: int, peer_addr: EntityAddr | None) -> None:
        _set(self, "closed", closed)
        _set(self, "replacing", replacing)
        _set(self, "ready_or_standby", ready_or_standby)
        _set(self, "lossy", lossy)
        _set(self, "server", server)
        _set(self, "client_cookie", client_cookie)
        _set(self, "server_cookie", server_cookie)
        _set(self, "connect_seq", connect_seq)
        _set(self, "peer_global_seq", peer_global_seq)
        _set(self, "peer_addr", peer_addr)


class IdentAction(Enum):
    """Answer to a CLIENT_IDENT."""

    NEW_SESSION = "NEW_SESSION"
    """Send SERVER_IDENT on the new connection (no usable existing session)."""
    REPLACE_LOSSY = "REPLACE_LOSSY"
    """Stop the existing lossy connection (reset), then NEW_SESSION."""
    STALE = "STALE"
    """The new connection is stale: stop it (reset)."""
    WAIT = "WAIT"
    """Answer WAIT (and kick the existing connection with a keepalive on a race)."""
    REUSE = "REUSE"
    """Move the new socket into the existing connection and continue there."""


class IdentVerdict(Record):
    """:func:`decide_client_ident`'s answer."""

    action: IdentAction
    reset_existing: bool
    """Reset the existing session first (peer restarted and resetcheck is on)."""
    keepalive_existing: bool
    """Kick the existing connection so its own connect attempt completes."""

    __slots__ = ("action", "keepalive_existing", "reset_existing")

    def __init__(self, action: IdentAction, reset_existing: bool = False,
                 keepalive_existing: bool = False) -> None:
        _set(self, "action", action)
        _set(self, "reset_existing", reset_existing)
        _set(self, "keepalive_existing", keepalive_existing)


def decide_client_ident(existing: ExistingView | None, *, global_seq: int, cookie: int,
                        peer_addr: EntityAddr | None, my_addr: EntityAddr | None,
                        resetcheck: bool) -> IdentVerdict:
    """Ceph's ``handle_existing_connection`` for a CLIENT_IDENT.

    ``global_seq``/``cookie``: from the CLIENT_IDENT; ``peer_addr``/``my_addr``:
    msgr2 addresses for the race tie-break; ``resetcheck``: the new connection's
    policy.
    """
    if existing is None or existing.closed:
        return IdentVerdict(IdentAction.NEW_SESSION)
    if existing.replacing:
        return IdentVerdict(IdentAction.WAIT)
    if existing.peer_global_seq > global_seq:
        return IdentVerdict(IdentAction.STALE)
    if existing.lossy:
        return IdentVerdict(IdentAction.REPLACE_LOSSY)
    if existing.server_cookie and existing.client_cookie and existing.client_cookie != cookie:
        return IdentVerdict(IdentAction.REUSE, reset_existing=resetcheck)
    if existing.client_cookie == cookie:
        return IdentVerdict(IdentAction.REUSE)
    if existing.ready_or_standby:
        return IdentVerdict(IdentAction.REUSE)
    if addr_order_key(peer_addr) < addr_order_key(my_addr) or existing.server:
        return IdentVerdict(IdentAction.REUSE)
    return IdentVerdict(IdentAction.WAIT, keepalive_existing=True)


class ReconnectAction(Enum):
    """Answer to a SESSION_RECONNECT."""

    RESET = "RESET"
    """Send SESSION_RESET(full)."""
    RETRY_GLOBAL = "RETRY_GLOBAL"
    """Send SESSION_RETRY_GLOBAL(value)."""
    RETRY = "RETRY"
    """Send SESSION_RETRY(value)."""
    WAIT = "WAIT"
    """Reconnect race lost by this connection: send WAIT."""
    REUSE = "REUSE"
    """Resume the existing session on this socket (RECONNECT_OK)."""


class ReconnectVerdict(Record):
    """:func:`decide_reconnect`'s answer."""

    action: ReconnectAction
    full: bool
    """For RESET: whether the client must drop its queue too."""
    value: int
    """For RETRY / RETRY_GLOBAL: the existing connect_seq / peer_global_seq."""

    __slots__ = ("action", "full", "value")

    def __init__(self, action: ReconnectAction, full: bool = False, value: int = 0) -> None:
        _set(self, "action", action)
        _set(self, "full", full)
        _set(self, "value", value)


def decide_reconnect(existing: ExistingView | None, *, client_cookie: int,
                     global_seq: int, connect_seq: int, my_addr: EntityAddr | None,
                     resetcheck: bool) -> ReconnectVerdict:
    """Ceph's ``handle_reconnect`` decision for a SESSION_RECONNECT."""
    if existing is None or existing.closed:
        return ReconnectVerdict(ReconnectAction.RESET, full=True)
    if existing.replacing:
        return ReconnectVerdict(ReconnectAction.RETRY_GLOBAL, value=existing.peer_global_seq)
    if existing.client_cookie != client_cookie:
        return ReconnectVerdict(ReconnectAction.RESET, full=resetcheck)
    if existing.server_cookie == 0:
        return ReconnectVerdict(ReconnectAction.RESET, full=False)
    if existing.peer_global_seq > global_seq:
        return ReconnectVerdict(ReconnectAction.RETRY_GLOBAL, value=existing.peer_global_seq)
    if existing.connect_seq > connect_seq:
        return ReconnectVerdict(ReconnectAction.RETRY, value=existing.connect_seq)
    if existing.connect_seq == connect_seq and (
            addr_order_key(existing.peer_addr) > addr_order_key(my_addr)
            and not existing.server):
        return ReconnectVerdict(ReconnectAction.WAIT)
    return ReconnectVerdict(ReconnectAction.REUSE)


class ConnectAction(Enum):
    """msgr v1: the answer to a ``ceph_msg_connect``."""

    OPEN = "OPEN"
    """Open a new session on this connection (reply SEQ or READY)."""
    RETRY_GLOBAL = "RETRY_GLOBAL"
    """Reply RETRY_GLOBAL(value): the client picks a higher global_seq."""
    RETRY_SESSION = "RETRY_SESSION"
    """Reply RETRY_SESSION(value): the client retries with that connect_seq."""
    RESETSESSION = "RESETSESSION"
    """Reply RESETSESSION: we lost the session; the client resets and retries."""
    WAIT = "WAIT"
    """Connection race lost by the incoming connection: reply WAIT."""
    REPLACE_LOSSY = "REPLACE_LOSSY"
    """Stop the existing lossy connection (reset), then OPEN."""
    REPLACE = "REPLACE"
    """Move this socket into the existing connection, which answers RETRY_GLOBAL
    and then opens the session there."""


class ConnectVerdict(Record):
    """:func:`decide_connect_msg`'s answer."""

    action: ConnectAction
    value: int
    """For RETRY_GLOBAL: the existing peer_global_seq; RETRY_SESSION: connect_seq."""
    reset_existing: bool
    """REPLACE: reset the existing session first (peer restarted, resetcheck)."""
    reset_from_peer: bool
    """REPLACE: the peer reset (connect_seq 0): answer READY, not SEQ."""
    keepalive_existing: bool
    """WAIT: kick the existing connection so its own connect attempt completes."""

    __slots__ = ("action", "keepalive_existing", "reset_existing", "reset_from_peer", "value")

    def __init__(self, action: ConnectAction, value: int = 0, reset_existing: bool = False,
                 reset_from_peer: bool = False, keepalive_existing: bool = False) -> None:
        _set(self, "action", action)
        _set(self, "value", value)
        _set(self, "reset_existing", reset_existing)
        _set(self, "reset_from_peer", reset_from_peer)
        _set(self, "keepalive_existing", keepalive_existing)


def decide_connect_msg(existing: ExistingView | None, *, global_seq: int, connect_seq: int,
                       peer_addr: EntityAddr | None, my_addr: EntityAddr | None,
                       resetcheck: bool, replacing: bool) -> ConnectVerdict:
    """Ceph's ``handle_connect_message_2`` decision (after the version, feature and
    authorizer checks). ``peer_addr``/``my_addr``: legacy addresses for the race
    tie-break; ``replacing``: this connection took over a socket already."""
    A = ConnectAction
    if existing is None:
        if not replacing and connect_seq > 0:
            return ConnectVerdict(A.RESETSESSION)  # we reset; they hold an old session
        return ConnectVerdict(A.OPEN)
    if existing.closed:
        return ConnectVerdict(A.OPEN)
    if existing.replacing or global_seq < existing.peer_global_seq:
        return ConnectVerdict(A.RETRY_GLOBAL, value=existing.peer_global_seq)
    if existing.lossy:
        return ConnectVerdict(A.REPLACE_LOSSY)
    if connect_seq == 0 and existing.connect_seq > 0:  # the peer reset
        return ConnectVerdict(A.REPLACE, reset_existing=resetcheck, reset_from_peer=True)
    if connect_seq < existing.connect_seq:  # an old attempt, or our READY was lost
        return ConnectVerdict(A.RETRY_SESSION, value=existing.connect_seq + 1)
    if connect_seq == existing.connect_seq:
        if existing.ready_or_standby:
            if resetcheck and existing.connect_seq == 0:
                return ConnectVerdict(A.REPLACE)
            return ConnectVerdict(A.RETRY_SESSION, value=existing.connect_seq + 1)
        if addr_order_key(peer_addr) < addr_order_key(my_addr) or existing.server:
            return ConnectVerdict(A.REPLACE)  # a race the incoming connection wins
        return ConnectVerdict(A.WAIT, keepalive_existing=True)
    if resetcheck and existing.connect_seq == 0:
        return ConnectVerdict(A.RESETSESSION)
    return ConnectVerdict(A.REPLACE)  # a normal reconnect


__all__ = [
    "ConnectAction",
    "ConnectVerdict",
    "ExistingView",
    "IdentAction",
    "IdentVerdict",
    "ReconnectAction",
    "ReconnectVerdict",
    "addr_order_key",
    "decide_client_ident",
    "decide_connect_msg",
    "decide_reconnect",
]
