"""Events a protocol machine emits (``events_received()``), for the I/O layer.

The I/O layer acts on them in order: socket actions (:class:`CloseSocket`,
:class:`NeedConnect`), dispatch (:class:`MessageReceived` and the connect /
accept / reset notifications, which map to Ceph's ``queue_*`` calls), and
bookkeeping (:class:`MessagesAcked`, :class:`KeepaliveAck`).
"""

from __future__ import annotations

from dataclasses import dataclass

from asyncmsgr.message import Message
from asyncmsgr.types import UTime


@dataclass(frozen=True, slots=True, kw_only=True)
class Connected:
    """Outgoing session established or re-established (``queue_connect``)."""

    reconnect: bool
    """True when an existing session resumed (RECONNECT_OK)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted:
    """Incoming session established or re-established (``queue_accept``)."""

    reconnect: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageReceived:
    """A message arrived, in order; the I/O layer preprocesses and dispatches it."""

    message: Message


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagesAcked:
    """The peer acknowledged these messages (lossless sessions)."""

    messages: tuple[Message, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagesDropped:
    """Queued messages discarded (stop, lossy fault, session reset)."""

    messages: tuple[Message, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class KeepaliveAck:
    """A KEEPALIVE2_ACK echoed ``timestamp``."""

    timestamp: UTime


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseSocket:
    """Close the current socket (fault or stop); ``reason`` is for logs."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedConnect:
    """Open a new socket at monotonic time ``at`` and call ``connection_made``."""

    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetSession:
    """The connection failed for good with possible loss (``queue_reset``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteReset:
    """The peer lost our session; queues were discarded (``queue_remote_reset``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused:
    """A connect attempt was refused (``queue_refused``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Stopped:
    """The connection is closed for good (state CLOSED)."""


Event = (Connected | Accepted | MessageReceived | MessagesAcked | MessagesDropped
         | KeepaliveAck | CloseSocket | NeedConnect | ResetSession | RemoteReset | Refused
         | Stopped)

__all__ = [
    "Accepted",
    "CloseSocket",
    "Connected",
    "Event",
    "KeepaliveAck",
    "MessageReceived",
    "MessagesAcked",
    "MessagesDropped",
    "NeedConnect",
    "Refused",
    "RemoteReset",
    "ResetSession",
    "Stopped",
]
