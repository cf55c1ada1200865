"""Manager messages: the MgrMap (0x704) and commands to ceph-mgr (0x709/0x70A).

* MMgrMap (``MSG_MGR_MAP``): the encoded MgrMap, kept as bytes;
  :class:`MgrMap` decodes what a client needs from it (``src/mon/MgrMap.h``,
  v11/6): ``epoch``, ``active_addrs``, ``active_gid``, ``available``,
  ``active_name``, ``standbys`` (gid -> name), ``modules``, ``services``,
  ``available_modules`` (names), ``active_change``, ``always_on_modules``,
  ``active_mgr_features``, ``last_failure_osd_epoch``; later fields are skipped.
* MMgrCommand (``MSG_MGR_COMMAND``): ``uuid fsid, vector<string> cmd``, input in
  ``data``. ``MgrClient::start_command`` sends it (fsid left nil) to a mgr whose
  features include SERVER_OCTOPUS, MCommand otherwise; a ``tell mgr.X`` is an
  MCommand with the fsid.
* MMgrCommandReply (``MSG_MGR_COMMAND_REPLY``): ``s32 r, string rs``, output in
  ``data``.

Every decoder ignores front bytes after its last field, as Ceph does.
"""

from __future__ import annotations

import uuid
from typing import Any, Self

from asyncmsgr.errors import DecodeError
from asyncmsgr.message import Message, MsgHeader, register_message
from asyncmsgr.messages._encoding import (
    STRING_MIN,
    ZERO_UUID,
    pull_string_list,
    pull_string_map,
    pull_string_set,
    push_string_list,
)
from asyncmsgr.record import Record
from asyncmsgr.types import EntityAddrVec, UTime
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import pull_entity_addrvec, pull_utime, pull_uuid, push_uuid

_set = object.__setattr__

#: ``MgrMap::encode`` for Nautilus+ peers.
MGRMAP_VERSION = 11


class MgrMap(Record):
    """What a client reads of the MgrMap (``src/mon/MgrMap.h``)."""

    epoch: int
    active_addrs: EntityAddrVec
    """Where the active manager listens (empty until it is available)."""
    active_gid: int
    available: bool
    """The active manager has started serving."""
    active_name: str
    """``x`` of ``mgr.x``."""
    standbys: dict[int, str]
    """Standby managers: gid -> name."""
    modules: frozenset[str]
    """Enabled modules."""
    services: dict[str, str]
    """Module name -> URI of what it serves."""
    available_modules: tuple[str, ...]
    """Names of the modules the active manager has."""
    active_change: UTime
    always_on_modules: dict[int, frozenset[str]]
    """Release number -> modules always on there."""
    active_mgr_features: int

    __slots__ = ("active_addrs", "active_change", "active_gid", "active_mgr_features",
                 "active_name", "always_on_modules", "available", "available_modules",
                 "epoch", "modules", "services", "standbys")

    def __init__(self, *, epoch: int = 0, active_addrs: EntityAddrVec | None = None,
                 active_gid: int = 0, available: bool = False, active_name: str = "",
                 standbys: dict[int, str] | None = None,
                 modules: frozenset[str] = frozenset(),
                 services: dict[str, str] | None = None,
                 available_modules: tuple[str, ...] = (),
                 active_change: UTime | None = None,
                 always_on_modules: dict[int, frozenset[str]] | None = None,
                 active_mgr_features: int = 0) -> None:
        _set(self, "epoch", epoch)
        _set(self, "active_addrs", active_addrs if active_addrs is not None
             else EntityAddrVec())
        _set(self, "active_gid", active_gid)
        _set(self, "available", available)
        _set(self, "active_name", active_name)
        _set(self, "standbys", {} if standbys is None else standbys)
        _set(self, "modules", modules)
        _set(self, "services", {} if services is None else services)
        _set(self, "available_modules", available_modules)
        _set(self, "active_change", active_change if active_change is not None else UTime())
        _set(self, "always_on_modules", {} if always_on_modules is None
             else always_on_modules)
        _set(self, "active_mgr_features", active_mgr_features)

    @classmethod
    def decode(cls, data: bytes | bytearray | memoryview) -> Self:
        """Decode an encoded MgrMap (v6 or later); raises DecodeError."""
        struct_v, r = Reader(data).pull_versioned(MGRMAP_VERSION, "MgrMap")
        if struct_v < 6:
            raise DecodeError(f"MgrMap: version {struct_v} predates Nautilus (6)")
        epoch = r.pull_u32()
        active_addrs = pull_entity_addrvec(r)
        active_gid = r.pull_u64()
        available = r.pull_bool()
        active_name = r.pull_string()
        standbys: dict[int, str] = {}
        for _ in range(r.pull_count(8 + 6, "MgrMap standbys")):
            gid = r.pull_u64()
            _v, info = r.pull_versioned(4, "StandbyInfo")
            info.pull_u64()
            standbys[gid] = info.pull_string()
        modules = pull_string_set(r)
        services = pull_string_map(r)
        names: list[str] = []
        for _ in range(r.pull_count(6 + STRING_MIN, "MgrMap available_modules")):
            _v, info = r.pull_versioned(2, "ModuleInfo")
            names.append(info.pull_string())
        change = pull_utime(r) if struct_v >= 7 else UTime()
        always: dict[int, frozenset[str]] = {}
        if struct_v >= 8:
            for _ in range(r.pull_count(4 + 4, "MgrMap always_on_modules")):
                release = r.pull_u32()
                always[release] = pull_string_set(r)
        features = r.pull_u64() if struct_v >= 9 else 0
        return cls(epoch=epoch, active_addrs=active_addrs, active_gid=active_gid,
                   available=available, active_name=active_name, standbys=standbys,
                   modules=modules, services=services, available_modules=tuple(names),
                   active_change=change, always_on_modules=always,
                   active_mgr_features=features)


@register_message
class MMgrMap(Message):
    """``MMgrMap``: the encoded MgrMap, kept as bytes."""

    TYPE = 0x704  # MSG_MGR_MAP
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    mgrmap: bytes
    """The MgrMap blob (decode it with :meth:`decode_mgrmap`)."""

    __slots__ = ("mgrmap",)

    def __init__(self, *, mgrmap: bytes = b"", **base: Any) -> None:
        Message.__init__(self, **base)
        self.mgrmap = mgrmap

    def decode_mgrmap(self) -> MgrMap:
        """Decode :attr:`mgrmap`; raises DecodeError."""
        return MgrMap.decode(self.mgrmap)

    def encode_payload(self, features: int) -> None:
        """The front is the map as it came."""
        self.front = self.mgrmap

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Keep the front (the map) as bytes."""
        return cls(mgrmap=bytes(front.pull_rest()))


@register_message
class MMgrCommand(Message):
    """``MMgrCommand``: a command for the active ceph-mgr; input bytes in ``data``."""

    TYPE = 0x709  # MSG_MGR_COMMAND
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    fsid: uuid.UUID
    """Nil for a command, the cluster's fsid for a tell."""
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
class MMgrCommandReply(Message):
    """``MMgrCommandReply``: result of an MMgrCommand; output bytes in ``data``."""

    TYPE = 0x70A  # MSG_MGR_COMMAND_REPLY
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


__all__ = ["MGRMAP_VERSION", "MMgrCommand", "MMgrCommandReply", "MMgrMap", "MgrMap"]
