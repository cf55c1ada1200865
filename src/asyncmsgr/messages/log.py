"""The cluster log: MLog (52) and its entries (``src/messages/MLog.h``,
``src/common/LogEntry.{h,cc}``).

MLog front: PaxosServiceMessage header (its ``version`` is the log's version),
``uuid fsid``, ``deque<LogEntry> entries``. A mon sends MLog to clients that
subscribed to ``log-debug``, ``log-info``, ``log-sec``, ``log-warn`` or
``log-error`` (the lowest priority they want) with the entries since the last
version they got; daemons send it to the mons to log.

LogEntry, ``DECODE_START_LEGACY_COMPAT_LEN(v, 2, 2)``: v5+ (Nautilus and later)
``EntityName name, entity_name_t rank, entity_addrvec_t addrs, utime_t stamp,
u64 seq, u16 prio, string msg, string channel`` (v6 adds fields skipped here);
v2-v4 ``entity_inst_t who, utime_t stamp, u64 seq, u16 prio, string msg`` then
``channel`` (v3) and ``name`` (v4).
"""

from __future__ import annotations

import uuid
from typing import Any, Self

from asyncmsgr.errors import DecodeError
from asyncmsgr.message import Message, MsgHeader, register_message
from asyncmsgr.messages._encoding import ZERO_UUID
from asyncmsgr.messages.paxos import (
    DEFAULT_PAXOS_HEADER,
    PaxosHeader,
    pull_paxos_header,
    push_paxos_header,
)
from asyncmsgr.record import Record
from asyncmsgr.types import AuthName, EntityAddrVec, EntityName, UTime
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import (
    pull_auth_name,
    pull_entity_addr,
    pull_entity_addrvec,
    pull_entity_name,
    pull_utime,
    pull_uuid,
    push_auth_name,
    push_entity_addrvec,
    push_entity_name,
    push_utime,
    push_uuid,
)

_set = object.__setattr__

CLOG_DEBUG = 0
CLOG_INFO = 1
CLOG_SEC = 2
CLOG_WARN = 3
CLOG_ERROR = 4
#: How ``operator<<(clog_type)`` prints each priority.
PRIO_NAMES = {CLOG_DEBUG: "[DBG]", CLOG_INFO: "[INF]", CLOG_SEC: "[SEC]",
              CLOG_WARN: "[WRN]", CLOG_ERROR: "[ERR]"}
#: ``LogEntry::encode`` (Pacific).
LOG_ENTRY_VERSION = 5
#: Smallest encoded entry: its struct header.
_ENTRY_MIN = 6


class LogEntry(Record):
    """One cluster log entry."""

    name: AuthName
    """Who logged it (``mon.a``, ``client.admin``)."""
    rank: EntityName
    """Its entity name with the number (``mon.0``, ``client.4123``)."""
    addrs: EntityAddrVec
    stamp: UTime
    seq: int
    prio: int
    """``CLOG_DEBUG`` .. ``CLOG_ERROR``."""
    msg: str
    channel: str
    """``cluster``, ``audit``..."""

    __slots__ = ("addrs", "channel", "msg", "name", "prio", "rank", "seq", "stamp")

    def __init__(self, *, name: AuthName, rank: EntityName, addrs: EntityAddrVec,
                 stamp: UTime, seq: int, prio: int, msg: str, channel: str) -> None:
        _set(self, "name", name)
        _set(self, "rank", rank)
        _set(self, "addrs", addrs)
        _set(self, "stamp", stamp)
        _set(self, "seq", seq)
        _set(self, "prio", prio)
        _set(self, "msg", msg)
        _set(self, "channel", channel)

    @property
    def prio_name(self) -> str:
        """``[DBG]``, ``[INF]``, ``[SEC]``, ``[WRN]``, ``[ERR]`` (``[???]`` else)."""
        return PRIO_NAMES.get(self.prio, "[???]")

    @classmethod
    def pull(cls, r: Reader) -> Self:
        """Decode one entry (v2 or later); raises DecodeError."""
        struct_v, body = r.pull_versioned(LOG_ENTRY_VERSION, "LogEntry")
        if struct_v < 2:
            raise DecodeError(f"LogEntry: version {struct_v} has no length (before v2)")
        if struct_v >= 5:
            name = pull_auth_name(body)
            rank = pull_entity_name(body)
            addrs = pull_entity_addrvec(body)
            stamp = pull_utime(body)
            seq = body.pull_u64()
            prio = body.pull_u16()
            msg = body.pull_string()
            channel = body.pull_string()
            return cls(name=name, rank=rank, addrs=addrs, stamp=stamp, seq=seq, prio=prio,
                       msg=msg, channel=channel)
        rank = pull_entity_name(body)
        addrs = EntityAddrVec((pull_entity_addr(body),))
        stamp = pull_utime(body)
        seq = body.pull_u64()
        prio = body.pull_u16()
        msg = body.pull_string()
        channel = body.pull_string() if struct_v >= 3 else "cluster"
        name = (pull_auth_name(body) if struct_v >= 4
                else AuthName(rank.type, str(rank.num)))
        return cls(name=name, rank=rank, addrs=addrs, stamp=stamp, seq=seq, prio=prio,
                   msg=msg, channel=channel)

    def push(self, w: Writer, features: int) -> None:
        """Encode as Pacific does (v5, compat 5)."""
        body = Writer()
        push_auth_name(body, self.name)
        push_entity_name(body, self.rank)
        push_entity_addrvec(body, self.addrs, features)
        push_utime(body, self.stamp)
        body.push_u64(self.seq)
        body.push_u16(self.prio)
        body.push_string(self.msg)
        body.push_string(self.channel)
        w.push_u8(LOG_ENTRY_VERSION)
        w.push_u8(5)
        w.push_blob(body.getvalue())


@register_message
class MLog(Message):
    """``MLog``: cluster log entries (``paxos.version`` is the log's version)."""

    TYPE = 52  # MSG_LOG
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    paxos: PaxosHeader
    fsid: uuid.UUID
    entries: list[LogEntry]

    __slots__ = ("entries", "fsid", "paxos")

    def __init__(self, *, paxos: PaxosHeader = DEFAULT_PAXOS_HEADER,
                 fsid: uuid.UUID = ZERO_UUID, entries: list[LogEntry] | None = None,
                 **base: Any) -> None:
        Message.__init__(self, **base)
        self.paxos = paxos
        self.fsid = fsid
        self.entries = [] if entries is None else entries

    def encode_payload(self, features: int) -> None:
        """Build the front."""
        w = Writer()
        push_paxos_header(w, self.paxos)
        push_uuid(w, self.fsid)
        w.push_u32(len(self.entries))
        for e in self.entries:
            e.push(w, features)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front."""
        paxos = pull_paxos_header(front)
        fsid = pull_uuid(front)
        entries = front.pull_list(LogEntry.pull, _ENTRY_MIN)
        return cls(paxos=paxos, fsid=fsid, entries=entries)


__all__ = ["CLOG_DEBUG", "CLOG_ERROR", "CLOG_INFO", "CLOG_SEC", "CLOG_WARN",
           "LOG_ENTRY_VERSION", "PRIO_NAMES", "LogEntry", "MLog"]
