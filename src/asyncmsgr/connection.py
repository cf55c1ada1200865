"""The public Connection interface (Ceph's ``Connection``), independent of transport.

A Connection is one session with one peer. ``send_message`` only queues; what
is delivered depends on the policy (lossy sessions drop on fault, lossless ones
replay). Implementations: the socket connection of :mod:`asyncmsgr.aio` and the
loopback connection that delivers to the messenger itself.

Callable from any thread: ``send_message``, ``send_keepalive``, ``mark_down``
and the getters.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from asyncmsgr.types import EntityAddr, EntityAddrVec, EntityName, UTime

if TYPE_CHECKING:
    from asyncmsgr.message import Message


class Connection(ABC):
    """One session with a peer (``ConnectionRef`` in Ceph)."""

    #: Unique id within the process; keys the dispatch queue's per-connection FIFOs.
    conn_id: int
    #: User data (Ceph's ``set_priv`` / ``get_priv``).
    priv: Any = None

    @abstractmethod
    def send_message(self, m: Message) -> None:
        """Queue ``m`` for the peer; never blocks. The message must not be reused."""

    @abstractmethod
    def send_keepalive(self) -> None:
        """Ask for a KEEPALIVE2 (no-op once closed)."""

    @abstractmethod
    def mark_down(self) -> None:
        """Close now; queued messages are discarded and no reset callback follows."""

    @abstractmethod
    def mark_disposable(self) -> None:
        """Make the session lossy."""

    @abstractmethod
    def is_connected(self) -> bool:
        """True when a session is established (or this is the loopback connection)."""

    @property
    @abstractmethod
    def peer_type(self) -> int:
        """The peer's entity type (``CEPH_ENTITY_TYPE_*``), 0 until known."""

    @property
    @abstractmethod
    def peer_addrs(self) -> EntityAddrVec:
        """The peer's addresses as known (dialled, or learnt from its ident)."""

    @property
    def peer_addr(self) -> EntityAddr:
        """The peer's first address (``get_peer_addr``)."""
        addrs = self.peer_addrs.addrs
        return addrs[0] if addrs else EntityAddr()

    @property
    @abstractmethod
    def peer_name(self) -> EntityName:
        """``entity_name_t`` of the peer (type and global id), once identified."""

    @property
    @abstractmethod
    def features(self) -> int:
        """Negotiated feature bits (peer supported & ours)."""

    def has_feature(self, mask: int) -> bool:
        """``has_feature``: every bit of ``mask`` was negotiated."""
        return self.features & mask == mask

    @property
    @abstractmethod
    def is_loopback(self) -> bool:
        """True for the messenger's connection to itself."""

    @property
    @abstractmethod
    def is_anon(self) -> bool:
        """True for an anonymous (unregistered) outgoing connection."""

    @property
    @abstractmethod
    def is_msgr2(self) -> bool:
        """True when the session speaks msgr2."""

    @property
    @abstractmethod
    def last_keepalive(self) -> UTime:
        """When we last received a KEEPALIVE2 (the peer's clock)."""

    @property
    @abstractmethod
    def last_keepalive_ack(self) -> UTime:
        """The timestamp echoed by the last KEEPALIVE2_ACK we received."""

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} #{self.conn_id} peer={self.peer_addrs} "
                f"type={self.peer_type} connected={self.is_connected()}>")


__all__ = ["Connection"]
