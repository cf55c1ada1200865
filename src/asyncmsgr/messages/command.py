"""Admin commands: MMonCommand/Ack (50/51) to mons, MCommand/Reply (97/98) to daemons.

Fronts (wire-protocol.md §7.2):

* MMonCommand: PaxosServiceMessage header, ``uuid fsid``, ``vector<string> cmd``;
* MMonCommandAck: PaxosServiceMessage header, ``s32 r``, ``string rs``,
  ``vector<string> cmd``;
* MCommand: ``uuid fsid``, ``vector<string> cmd``;
* MCommandReply: ``s32 r``, ``string rs``.

The command input (requests) and output (replies) travel in the message's
``data`` segment, which these classes leave as it is. ``cmd`` holds JSON strings
such as ``{"prefix": "status"}``. Trailing front bytes are ignored, as in Ceph.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

from asyncmsgr.message import NO_SRC, Message, MsgHeader, register_message
from asyncmsgr.messages._encoding import ZERO_UUID, pull_string_list, push_string_list
from asyncmsgr.messages.paxos import (
    DEFAULT_PAXOS_HEADER,
    PaxosHeader,
    pull_paxos_header,
    push_paxos_header,
)
from asyncmsgr.types import Buffer, EntityName
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import pull_uuid, push_uuid

if TYPE_CHECKING:
    from asyncmsgr.connection import Connection


@register_message
class MMonCommand(Message):
    """``MMonCommand``: a command for the mons; input bytes in ``data``."""

    TYPE = 50  # MSG_MON_COMMAND
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    paxos: PaxosHeader
    fsid: uuid.UUID
    """Cluster fsid."""
    cmd: list[str]
    """The command as JSON strings."""

    __slots__ = ("cmd", "fsid", "paxos")

    def __init__(self, *, paxos: PaxosHeader = DEFAULT_PAXOS_HEADER,
                 fsid: uuid.UUID = ZERO_UUID, cmd: list[str] | None = None, seq: int = 0,
                 tid: int = 0, priority: int = 0, version: int = 0, compat_version: int = 0,
                 data_off: int = 0, src: EntityName = NO_SRC, front: Buffer = b"",
                 middle: Buffer = b"", data: Buffer = b"",
                 connection: Connection | None = None, recv_stamp: float = 0.0,
                 throttle_stamp: float = 0.0, recv_complete_stamp: float = 0.0,
                 dispatch_stamp: float = 0.0, send_stamp: float = 0.0,
                 dispatch_throttle_size: int = 0,
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
        self.paxos = paxos
        self.fsid = fsid
        self.cmd = [] if cmd is None else cmd

    def encode_payload(self, features: int) -> None:
        """Build the front; ``data`` is left as set."""
        w = Writer()
        push_paxos_header(w, self.paxos)
        push_uuid(w, self.fsid)
        push_string_list(w, self.cmd)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front."""
        paxos = pull_paxos_header(front)
        fsid = pull_uuid(front)
        return cls(paxos=paxos, fsid=fsid, cmd=pull_string_list(front))


@register_message
class MMonCommandAck(Message):
    """``MMonCommandAck``: result of an MMonCommand; output bytes in ``data``."""

    TYPE = 51  # MSG_MON_COMMAND_ACK
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    paxos: PaxosHeader
    r: int
    """0 or a negative errno (s32)."""
    rs: str
    """Status text."""
    cmd: list[str]
    """The command answered."""

    __slots__ = ("cmd", "paxos", "r", "rs")

    def __init__(self, *, paxos: PaxosHeader = DEFAULT_PAXOS_HEADER, r: int = 0, rs: str = "",
                 cmd: list[str] | None = None, seq: int = 0, tid: int = 0, priority: int = 0,
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
        self.paxos = paxos
        self.r = r
        self.rs = rs
        self.cmd = [] if cmd is None else cmd

    def encode_payload(self, features: int) -> None:
        """Build the front; ``data`` is left as set."""
        w = Writer()
        push_paxos_header(w, self.paxos)
        w.push_s32(self.r)
        w.push_string(self.rs)
        push_string_list(w, self.cmd)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front."""
        paxos = pull_paxos_header(front)
        r = front.pull_s32()
        rs = front.pull_string()
        return cls(paxos=paxos, r=r, rs=rs, cmd=pull_string_list(front))


@register_message
class MCommand(Message):
    """``MCommand``: a command for an OSD/MDS/MGR; input bytes in ``data``."""

    TYPE = 97  # MSG_COMMAND
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    fsid: uuid.UUID
    """Cluster fsid."""
    cmd: list[str]
    """The command as JSON strings."""

    __slots__ = ("cmd", "fsid")

    def __init__(self, *, fsid: uuid.UUID = ZERO_UUID, cmd: list[str] | None = None,
                 **base: Any) -> None:
        Message.__init__(self, **base)
        self.fsid = fsid
        self.cmd = [] if cmd is None else cmd

    def encode_payload(self, features: int) -> None:
        """Build the front; ``data`` is left as set."""
        w = Writer()
        push_uuid(w, self.fsid)
        push_string_list(w, self.cmd)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front."""
        fsid = pull_uuid(front)
        return cls(fsid=fsid, cmd=pull_string_list(front))


@register_message
class MCommandReply(Message):
    """``MCommandReply``: result of an MCommand; output bytes in ``data``."""

    TYPE = 98  # MSG_COMMAND_REPLY
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    r: int
    """0 or a negative errno (s32)."""
    rs: str
    """Status text."""

    __slots__ = ("r", "rs")

    def __init__(self, *, r: int = 0, rs: str = "", **base: Any) -> None:
        Message.__init__(self, **base)
        self.r = r
        self.rs = rs

    def encode_payload(self, features: int) -> None:
        """Build the front; ``data`` is left as set."""
        w = Writer()
        w.push_s32(self.r)
        w.push_string(self.rs)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front."""
        r = front.pull_s32()
        return cls(r=r, rs=front.pull_string())


__all__ = ["MCommand", "MCommandReply", "MMonCommand", "MMonCommandAck"]
