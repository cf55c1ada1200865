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
from dataclasses import dataclass, field
from typing import Self

from asyncmsgr.message import Message, MsgHeader, register_message
from asyncmsgr.messages._encoding import pull_string_list, push_string_list, zero_uuid
from asyncmsgr.messages.paxos import (
    DEFAULT_PAXOS_HEADER,
    PaxosHeader,
    pull_paxos_header,
    push_paxos_header,
)
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import pull_uuid, push_uuid


@register_message
@dataclass(kw_only=True, eq=False, slots=True, repr=False)
class MMonCommand(Message):
    """``MMonCommand``: a command for the mons; input bytes in ``data``."""

    TYPE = 50  # MSG_MON_COMMAND
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    paxos: PaxosHeader = DEFAULT_PAXOS_HEADER
    fsid: uuid.UUID = field(default_factory=zero_uuid)
    """Cluster fsid."""
    cmd: list[str] = field(default_factory=list)
    """The command as JSON strings."""

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
@dataclass(kw_only=True, eq=False, slots=True, repr=False)
class MMonCommandAck(Message):
    """``MMonCommandAck``: result of an MMonCommand; output bytes in ``data``."""

    TYPE = 51  # MSG_MON_COMMAND_ACK
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    paxos: PaxosHeader = DEFAULT_PAXOS_HEADER
    r: int = 0
    """0 or a negative errno (s32)."""
    rs: str = ""
    """Status text."""
    cmd: list[str] = field(default_factory=list)
    """The command answered."""

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
@dataclass(kw_only=True, eq=False, slots=True, repr=False)
class MCommand(Message):
    """``MCommand``: a command for an OSD/MDS/MGR; input bytes in ``data``."""

    TYPE = 97  # MSG_COMMAND
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    fsid: uuid.UUID = field(default_factory=zero_uuid)
    """Cluster fsid."""
    cmd: list[str] = field(default_factory=list)
    """The command as JSON strings."""

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
@dataclass(kw_only=True, eq=False, slots=True, repr=False)
class MCommandReply(Message):
    """``MCommandReply``: result of an MCommand; output bytes in ``data``."""

    TYPE = 98  # MSG_COMMAND_REPLY
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    r: int = 0
    """0 or a negative errno (s32)."""
    rs: str = ""
    """Status text."""

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
