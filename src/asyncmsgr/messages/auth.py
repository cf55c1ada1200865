"""MAuth (17) and MAuthReply (18): authentication over msgr v1 (wire-protocol.md §6.4).

* MAuth front: PaxosServiceMessage header, ``u32 protocol``, ``bufferlist
  auth_payload``, ``u32 monmap_epoch``. The epoch is decoded only when bytes
  remain after the payload (else 0), so a front ending after ``auth_payload`` is
  valid; one to three bytes there are a truncated epoch (DecodeError).
* MAuthReply front: ``u32 protocol, s32 result, u64 global_id, bufferlist
  result_bl, string result_msg``.

Trailing front bytes after the last field are ignored, as Ceph ignores them.
"""

from __future__ import annotations

from typing import Any, Self

from asyncmsgr.message import Message, MsgHeader, register_message
from asyncmsgr.messages.paxos import (
    DEFAULT_PAXOS_HEADER,
    PaxosHeader,
    pull_paxos_header,
    push_paxos_header,
)
from asyncmsgr.wire.buffer import Reader, Writer


@register_message
class MAuth(Message):
    """``MAuth``: a client's auth request to a mon (msgr v1 only in practice)."""

    TYPE = 17  # CEPH_MSG_AUTH
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    paxos: PaxosHeader
    protocol: int
    """Auth method (u32): 0 for the first request, then CEPH_AUTH_*."""
    auth_payload: bytes
    """Method-specific request (the supported methods list when ``protocol`` is 0)."""
    monmap_epoch: int
    """Epoch of the client's monmap (u32)."""

    __slots__ = ("auth_payload", "monmap_epoch", "paxos", "protocol")

    def __init__(self, *, paxos: PaxosHeader = DEFAULT_PAXOS_HEADER, protocol: int = 0,
                 auth_payload: bytes = b"", monmap_epoch: int = 0, **base: Any) -> None:
        Message.__init__(self, **base)
        self.paxos = paxos
        self.protocol = protocol
        self.auth_payload = auth_payload
        self.monmap_epoch = monmap_epoch

    def encode_payload(self, features: int) -> None:
        """Build the front (the epoch is always written)."""
        w = Writer()
        push_paxos_header(w, self.paxos)
        w.push_u32(self.protocol)
        w.push_blob(self.auth_payload)
        w.push_u32(self.monmap_epoch)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front; a missing epoch reads as 0."""
        paxos = pull_paxos_header(front)
        protocol = front.pull_u32()
        payload = front.pull_blob()
        epoch = 0 if front.at_end() else front.pull_u32()
        return cls(paxos=paxos, protocol=protocol, auth_payload=payload, monmap_epoch=epoch)


@register_message
class MAuthReply(Message):
    """``MAuthReply``: a mon's answer to MAuth."""

    TYPE = 18  # CEPH_MSG_AUTH_REPLY
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    protocol: int
    """Auth method chosen (u32)."""
    result: int
    """0 or a negative errno (s32)."""
    global_id: int
    """Global id assigned to the client (u64; 0 = none)."""
    result_bl: bytes
    """Method-specific reply."""
    result_msg: str
    """Human-readable status."""

    __slots__ = ("global_id", "protocol", "result", "result_bl", "result_msg")

    def __init__(self, *, protocol: int = 0, result: int = 0, global_id: int = 0,
                 result_bl: bytes = b"", result_msg: str = "", **base: Any) -> None:
        Message.__init__(self, **base)
        self.protocol = protocol
        self.result = result
        self.global_id = global_id
        self.result_bl = result_bl
        self.result_msg = result_msg

    def encode_payload(self, features: int) -> None:
        """Build the front."""
        w = Writer()
        w.push_u32(self.protocol)
        w.push_s32(self.result)
        w.push_u64(self.global_id)
        w.push_blob(self.result_bl)
        w.push_string(self.result_msg)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front."""
        protocol = front.pull_u32()
        result = front.pull_s32()
        global_id = front.pull_u64()
        result_bl = front.pull_blob()
        return cls(protocol=protocol, result=result, global_id=global_id,
                   result_bl=result_bl, result_msg=front.pull_string())


__all__ = ["MAuth", "MAuthReply"]
