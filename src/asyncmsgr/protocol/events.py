"""Events a protocol machine emits (``events_received()``), for the I/O layer.

The I/O layer acts on them in order: socket actions (:class:`CloseSocket`,
:class:`NeedConnect`), dispatch (:class:`MessageReceived` and the connect /
accept / reset notifications, which map to Ceph's ``queue_*`` calls), and
bookkeeping (:class:`MessagesAcked`, :class:`KeepaliveAck`).
"""

from __future__ import annotations

from asyncmsgr.message import Message
from asyncmsgr.record import Record
from asyncmsgr.types import UTime

_set = object.__setattr__  # what a frozen class's __init__ assigns with


class Connected(Record):
    """Outgoing session established or re-established (``queue_connect``)."""

    reconnect: bool
    """True when an existing session resumed (RECONNECT_OK)."""

    __slots__ = ("reconnect",)

    def __init__(self, *, reconnect: bool) -> None:
        _set(self, "reconnect", reconnect)


class Accepted(Record):
    """Incoming session established or re-established (``queue_accept``)."""

    reconnect: bool

    __slots__ = ("reconnect",)

    def __init__(self, *, reconnect: bool) -> None:
        _set(self, "reconnect", reconnect)


class MessageReceived(Record):
    """A message arrived, in order; the I/O layer preprocesses and dispatches it."""

    message: Message

    __slots__ = ("message",)

    def __init__(self, *, message: Message) -> None:
        _set(self, "message", message)


class MessagesAcked(Record):
    """The peer acknowledged these messages (lossless sessions)."""

    messages: tuple[Message, ...]

    __slots__ = ("messages",)

    def __init__(self, *, messages: tuple[Message, ...]) -> None:
        _set(self, "messages", messages)


class MessagesDropped(Record):
    """Queued messages discarded (stop, lossy fault, session reset)."""

    messages: tuple[Message, ...]

    __slots__ = ("messages",)

    def __init__(self, *, messages: tuple[Message, ...]) -> None:
        _set(self, "messages", messages)


class KeepaliveAck(Record):
    """A KEEPALIVE2_ACK echoed ``timestamp``."""

    timestamp: UTime

    __slots__ = ("timestamp",)

    def __init__(self, *, timestamp: UTime) -> None:
        _set(self, "timestamp", timestamp)


class CloseSocket(Record):
    """Close the current socket (fault or stop); ``reason`` is for logs."""

    reason: str

    __slots__ = ("reason",)

    def __init__(self, *, reason: str) -> None:
        _set(self, "reason", reason)


class NeedConnect(Record):
    """Open a new socket at monotonic time ``at`` and call ``connection_made``."""

    at: float

    __slots__ = ("at",)

    def __init__(self, *, at: float) -> None:
        _set(self, "at", at)


class ResetSession(Record):
    """The connection failed for good with possible loss (``queue_reset``)."""

    __slots__ = ()


class RemoteReset(Record):
    """The peer lost our session; queues were discarded (``queue_remote_reset``)."""

    __slots__ = ()


class Refused(Record):
    """A connect attempt was refused (``queue_refused``)."""

    __slots__ = ()


class Stopped(Record):
    """The connection is closed for good (state CLOSED)."""

    __slots__ = ()


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
