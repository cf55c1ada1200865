"""Shared helpers of the msgr v1 machine tests (test_v1_read_paths.py,
test_v1_write_paths.py): a v1 pair, counters that record, wire splitting."""

from __future__ import annotations

import struct
from collections import Counter
from typing import Any

from asyncmsgr.message import MSG_HEADER_LEN, MsgHeader, RawMessage
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.testing.v2pair import ProtocolPair
from asyncmsgr.types import EntityName, EntityType
from asyncmsgr.wire.crc32c import ceph_crc32c

#: a type number no module registers: it arrives as a RawMessage
RAW_TYPE = 0x7FF3
FOOTER = struct.Struct("<IIIQB")
OLD_FOOTER = struct.Struct("<IIIB")


def v1_pair(**kw: Any) -> ProtocolPair:
    """A msgr v1 client/server pair (ProtocolPair's keywords)."""
    return ProtocolPair(protocol=1, **kw)


class RecCounters:
    """A Counters that keeps the sums of ``inc``."""

    def __init__(self) -> None:
        self.n: Counter[str] = Counter()

    def inc(self, name: str, n: int = 1) -> None:
        self.n[name] += n

    def tinc(self, name: str, seconds: float) -> None:
        pass

    def tinc_many(self, name: str, seconds: float, count: int) -> None:
        pass


def out_bytes(m: ProtocolBase, now: float) -> bytes:
    """Everything ``m`` has to send, joined."""
    return b"".join(bytes(c) for c in m.data_to_send(now))


def messages(events: list[ev.Event]) -> list[Any]:
    """The received messages among ``events``."""
    return [e.message for e in events if isinstance(e, ev.MessageReceived)]


def closes(events: list[ev.Event]) -> list[str]:
    """The reasons of the CloseSocket events."""
    return [e.reason for e in events if isinstance(e, ev.CloseSocket)]


def raw(front: bytes = b"", middle: bytes = b"", data: bytes = b"", **kw: Any) -> RawMessage:
    """A message of an unregistered type with these parts, from the pair's client
    (the messenger sets ``src``; the sans-I/O machine sends what it is given)."""
    kw.setdefault("src", EntityName(EntityType.CLIENT, 4100))
    return RawMessage(raw_type=RAW_TYPE, priority=127, front=front, middle=middle, data=data,
                      **kw)


def header_of(item: bytes) -> MsgHeader:
    """The ceph_msg_header of a tag MSG item."""
    return MsgHeader.decode(item[1:1 + MSG_HEADER_LEN], check_crc=False)


def ceph_crc(data: bytes) -> int:
    """``ceph_crc32c(0, data)`` as Ceph puts it in a header or footer."""
    return ceph_crc32c(0, data)


def with_src(item: bytes, src: EntityName) -> bytes:
    """A MSG item whose header names another sender (header crc recomputed)."""
    hdr = header_of(item)._replace(src=src).with_crc()
    return item[:1] + hdr.encode() + item[1 + MSG_HEADER_LEN:]
