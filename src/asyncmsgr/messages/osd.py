"""MOSDBackoff (61): an OSD asks a client to stop (and later resume) sending ops.

Front (v1)::

    spg_t pgid, u32 map_epoch, u8 op, u64 id, hobject_t begin, hobject_t end

``op`` is a :class:`~asyncmsgr.osd.ops.BackoffOp`: the OSD sends BLOCK for the
object range ``[begin, end)`` (a single object when they are equal), the client
answers ACK_BLOCK with the same id and range and holds its ops for the range
until UNBLOCK arrives (then re-sends them). Object I/O itself is in
:mod:`asyncmsgr.messages.osd_op`, watch events in :mod:`asyncmsgr.messages.watch`.
"""

from __future__ import annotations

from typing import Any, Self

from asyncmsgr.message import Message, MsgHeader, register_message
from asyncmsgr.osd.ops import BackoffOp, ceph_osd_backoff_op_name
from asyncmsgr.osd.types import PG, SPG, HObject, pull_hobject, pull_spg, push_hobject, push_spg
from asyncmsgr.wire.buffer import Reader, Writer

_NO_SPG = SPG(PG(0, 0))
_MIN = HObject()


@register_message
class MOSDBackoff(Message):
    """``MOSDBackoff``: block, ack-block or unblock an object range of a PG."""

    TYPE = 61  # CEPH_MSG_OSD_BACKOFF
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    pgid: SPG
    map_epoch: int
    op: int
    id: int
    """Unique within the session; the ack and unblock repeat it."""
    begin: HObject
    end: HObject

    __slots__ = ("begin", "end", "id", "map_epoch", "op", "pgid")

    def __init__(self, *, pgid: SPG = _NO_SPG, map_epoch: int = 0, op: int = BackoffOp.BLOCK,
                 id: int = 0, begin: HObject = _MIN, end: HObject = _MIN, **base: Any) -> None:
        Message.__init__(self, **base)
        self.pgid = pgid
        self.map_epoch = map_epoch
        self.op = op
        self.id = id
        self.begin = begin
        self.end = end

    def encode_payload(self, features: int) -> None:
        """Build the front."""
        w = Writer()
        push_spg(w, self.pgid)
        w.push_u32(self.map_epoch)
        w.push_u8(self.op)
        w.push_u64(self.id)
        push_hobject(w, self.begin)
        push_hobject(w, self.end)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front."""
        pgid = pull_spg(front)
        epoch = front.pull_u32()
        op = front.pull_u8()
        id_ = front.pull_u64()
        begin = pull_hobject(front)
        return cls(pgid=pgid, map_epoch=epoch, op=op, id=id_, begin=begin,
                   end=pull_hobject(front))

    def describe(self) -> str:
        """As Ceph logs it: ``osd_backoff(1.6 block id 1 [BEGIN,END) e9) v1``."""
        return (f"osd_backoff({self.pgid} {ceph_osd_backoff_op_name(self.op)} id {self.id} "
                f"[{self.begin},{self.end}) e{self.map_epoch}) v{self.version}")


__all__ = ["MOSDBackoff"]
