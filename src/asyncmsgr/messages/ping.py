"""MPing (``CEPH_MSG_PING``, 2): keepalive probe, and the mon's status reply.

A client sends an empty front. A monitor answers ``ping_monitor`` with an MPing
whose front is an encoded ``std::string`` holding health/status JSON
(wire-protocol.md §7.2). The front is kept raw in :attr:`MPing.payload`, as
Ceph keeps it in the message payload, so every front decodes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Self

from asyncmsgr.message import NO_SRC, Message, MsgHeader, register_message
from asyncmsgr.types import Buffer, EntityName
from asyncmsgr.wire.buffer import Reader, Writer

if TYPE_CHECKING:
    from asyncmsgr.connection import Connection


@register_message
class MPing(Message):
    """``MPing``: the front is opaque (empty, or a mon's JSON reply)."""

    TYPE = 2  # CEPH_MSG_PING
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    payload: bytes
    """The raw front."""

    __slots__ = ("payload",)

    def __init__(self, *, payload: bytes = b"", seq: int = 0, tid: int = 0, priority: int = 0,
                 version: int = 0, compat_version: int = 0, data_off: int = 0,
                 src: EntityName = NO_SRC, front: Buffer = b"", middle: Buffer = b"",
                 data: Buffer = b"", connection: Connection | None = None,
                 recv_stamp: float = 0.0, throttle_stamp: float = 0.0,
                 recv_complete_stamp: float = 0.0, dispatch_stamp: float = 0.0,
                 send_stamp: float = 0.0, dispatch_throttle_size: int = 0,
                 release_hook: Callable[[], None] | None = None) -> None:
        # A hot class: Message's fields are set here, not by a call (test_messages
        # checks that every field of every class is set).
        self.seq = seq
        self.tid = tid
        self.priority = priority
        self.version = version
        self.compat_version = compat_version
        self.data_off = data_off
        self.src = src
        self.front = front
        self.middle = middle
        self.data = data
        self.connection = connection
        self.recv_stamp = recv_stamp
        self.throttle_stamp = throttle_stamp
        self.recv_complete_stamp = recv_complete_stamp
        self.dispatch_stamp = dispatch_stamp
        self.send_stamp = send_stamp
        self.dispatch_throttle_size = dispatch_throttle_size
        self.release_hook = release_hook
        self.payload = payload

    @classmethod
    def with_json(cls, text: str) -> Self:
        """A mon-style reply carrying ``text`` as an encoded string."""
        w = Writer()
        w.push_string(text)
        return cls(payload=w.getvalue())

    def json_text(self) -> str | None:
        """The JSON string of a mon's reply, None for an empty payload.

        Raises DecodeError if a non-empty payload is not an encoded string.
        """
        if not self.payload:
            return None
        return Reader(self.payload).pull_string()

    def encode_payload(self, features: int) -> None:
        """Front = :attr:`payload`."""
        self.front = self.payload

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Keep the whole front."""
        return cls(payload=bytes(front.pull_rest()))


__all__ = ["MPing"]
