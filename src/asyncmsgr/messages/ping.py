"""MPing (``CEPH_MSG_PING``, 2): keepalive probe, and the mon's status reply.

A client sends an empty front. A monitor answers ``ping_monitor`` with an MPing
whose front is an encoded ``std::string`` holding health/status JSON
(wire-protocol.md §7.2). The front is kept raw in :attr:`MPing.payload`, as
Ceph keeps it in the message payload, so every front decodes.
"""

from __future__ import annotations

from typing import Any, Self

from asyncmsgr.message import Message, MsgHeader, register_message
from asyncmsgr.wire.buffer import Reader, Writer


@register_message
class MPing(Message):
    """``MPing``: the front is opaque (empty, or a mon's JSON reply)."""

    TYPE = 2  # CEPH_MSG_PING
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    payload: bytes
    """The raw front."""

    __slots__ = ("payload",)

    def __init__(self, *, payload: bytes = b"", **base: Any) -> None:
        Message.__init__(self, **base)
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
