"""Monitor client messages: maps, subscriptions and map versions (wire-protocol.md §7.2).

* MMonMap (4): ``bufferlist monmap`` (a :class:`~asyncmsgr.messages.monmap.MonMap`).
* MMonGetMap (5): empty; the mon answers with an MMonMap.
* MMonSubscribe (15, v3/1): ``map<string, {u64 start, u8 flags}> what`` then
  ``string hostname`` (v3). A v0/v1 front holds the old
  ``map<string, {u64 unused, u64 have, u8 onetime}>`` instead.
* MMonSubscribeAck (16): ``u32 interval, uuid fsid``.
* MMonGetVersion (19): ``u64 handle, string what``.
* MMonGetVersionReply (20, v2/2): ``u64 handle, u64 version``, then
  ``u64 oldest_version`` when the header version is 2 or more.

Every decoder ignores front bytes after its last field, as Ceph does.
"""

from __future__ import annotations

import uuid
from typing import Any, Self

from asyncmsgr.errors import EncodeError
from asyncmsgr.features import feature_mask, has_feature
from asyncmsgr.message import Message, MsgHeader, register_message
from asyncmsgr.messages._encoding import STRING_MIN, ZERO_UUID, push_sorted_map
from asyncmsgr.messages.monmap import MonMap
from asyncmsgr.record import Record
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import pull_uuid, push_uuid

_SUBSCRIBE2 = feature_mask("SUBSCRIBE2")
_MONENC = feature_mask("MONENC")
_MSG_ADDR2 = feature_mask("MSG_ADDR2")

_U64_MASK = (1 << 64) - 1

#: ``CEPH_SUBSCRIBE_ONETIME``: send the next map once, then drop the subscription.
CEPH_SUBSCRIBE_ONETIME = 1


@register_message
class MMonMap(Message):
    """``MMonMap``: the encoded monmap, kept as bytes."""

    TYPE = 4  # CEPH_MSG_MON_MAP
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    monmap: bytes
    """The monmap blob (decode it with :meth:`decode_monmap`)."""

    __slots__ = ("monmap",)

    def __init__(self, *, monmap: bytes = b"", **base: Any) -> None:
        Message.__init__(self, **base)
        self.monmap = monmap

    @classmethod
    def from_monmap(cls, monmap: MonMap) -> Self:
        """A message carrying ``monmap`` in its current (v9) encoding."""
        return cls(monmap=monmap.encode())

    def decode_monmap(self) -> MonMap:
        """Decode :attr:`monmap`; raises DecodeError."""
        return MonMap.decode(self.monmap)

    def encode_payload(self, features: int) -> None:
        """Front = bufferlist monmap.

        Ceph re-encodes the map in an old format for peers without MONENC or
        MSG_ADDR2 (pre-Nautilus); that is not supported and raises EncodeError.
        """
        if self.monmap and not has_feature(features, _MONENC | _MSG_ADDR2):
            raise EncodeError("MMonMap for a peer without MONENC/MSG_ADDR2 is not supported")
        w = Writer()
        w.push_blob(self.monmap)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front (the monmap itself is not decoded here)."""
        return cls(monmap=front.pull_blob())


_set = object.__setattr__  # what a frozen class's __init__ assigns with


class SubscribeItem(Record):
    """``ceph_mon_subscribe_item``: first epoch wanted and flags."""

    start: int
    """First epoch wanted (u64; 0 = the latest)."""
    flags: int
    """u8; :data:`CEPH_SUBSCRIBE_ONETIME`."""

    __slots__ = ("flags", "start")

    def __init__(self, start: int = 0, flags: int = 0) -> None:
        _set(self, "start", start)
        _set(self, "flags", flags)


def _pull_subscribe_item(r: Reader) -> SubscribeItem:
    start = r.pull_u64()
    return SubscribeItem(start, r.pull_u8())


def _push_subscribe_item(w: Writer, item: SubscribeItem) -> None:
    w.push_u64(item.start)
    w.push_u8(item.flags)


def _pull_old_subscribe_item(r: Reader) -> SubscribeItem:
    """``ceph_mon_subscribe_item_old`` (u64 unused, u64 have, u8 onetime), converted."""
    r.pull_u64()
    have = r.pull_u64()
    onetime = r.pull_u8()
    start = (have + 1) & _U64_MASK if have else 0  # wraps like Ceph's u64
    return SubscribeItem(start, CEPH_SUBSCRIBE_ONETIME if onetime else 0)


def _push_old_subscribe_item(w: Writer, item: SubscribeItem) -> None:
    w.push_u64(0)
    w.push_u64(item.start - 1 if item.start else 0)
    w.push_u8(1 if item.flags & CEPH_SUBSCRIBE_ONETIME else 0)


@register_message
class MMonSubscribe(Message):
    """``MMonSubscribe``: which maps to receive, from which epoch."""

    TYPE = 15  # CEPH_MSG_MON_SUBSCRIBE
    HEAD_VERSION = 3
    COMPAT_VERSION = 1

    what: dict[str, SubscribeItem]
    """Map name (``monmap``, ``config``, ``osdmap``, ...) to subscription."""
    hostname: str
    """The client's host name (v3)."""

    __slots__ = ("hostname", "what")

    def __init__(self, *, what: dict[str, SubscribeItem] | None = None, hostname: str = "",
                 **base: Any) -> None:
        Message.__init__(self, **base)
        self.what = {} if what is None else what
        self.hostname = hostname

    def encode_payload(self, features: int) -> None:
        """Build the front; sets the header version as Ceph does.

        A peer without SUBSCRIBE2 gets the old layout and header version 0 (the
        hostname is dropped); otherwise version 3.
        """
        w = Writer()
        if not has_feature(features, _SUBSCRIBE2):
            self.version = 0
            push_sorted_map(w, self.what, _push_old_subscribe_item)
        else:
            self.version = self.HEAD_VERSION
            push_sorted_map(w, self.what, _push_subscribe_item)
            w.push_string(self.hostname)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front by header version (old items below v2, hostname from v3)."""
        if header.version < 2:
            old = front.pull_map(Reader.pull_string, _pull_old_subscribe_item, STRING_MIN + 17)
            return cls(what=old)
        what = front.pull_map(Reader.pull_string, _pull_subscribe_item, STRING_MIN + 9)
        hostname = front.pull_string() if header.version >= 3 else ""
        return cls(what=what, hostname=hostname)


@register_message
class MMonSubscribeAck(Message):
    """``MMonSubscribeAck``: renewal interval (not sent to modern clients)."""

    TYPE = 16  # CEPH_MSG_MON_SUBSCRIBE_ACK
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    interval: int
    """Seconds before the subscription should be renewed (u32)."""
    fsid: uuid.UUID

    __slots__ = ("fsid", "interval")

    def __init__(self, *, interval: int = 0, fsid: uuid.UUID = ZERO_UUID, **base: Any) -> None:
        Message.__init__(self, **base)
        self.interval = interval
        self.fsid = fsid

    def encode_payload(self, features: int) -> None:
        """Build the front."""
        w = Writer()
        w.push_u32(self.interval)
        push_uuid(w, self.fsid)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front."""
        interval = front.pull_u32()
        return cls(interval=interval, fsid=pull_uuid(front))


@register_message
class MMonGetMap(Message):
    """``MMonGetMap``: ask the mon for its current monmap (empty front)."""

    TYPE = 5  # CEPH_MSG_MON_GET_MAP
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    __slots__ = ()

    def encode_payload(self, features: int) -> None:
        """Nothing to encode."""
        self.front = b""

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Nothing to parse (trailing bytes are ignored)."""
        return cls()


@register_message
class MMonGetVersion(Message):
    """``MMonGetVersion``: ask for the newest and oldest epochs of a map."""

    TYPE = 19  # CEPH_MSG_MON_GET_VERSION
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    handle: int
    """Request id echoed in the reply (u64)."""
    what: str
    """Map name, e.g. ``osdmap``."""

    __slots__ = ("handle", "what")

    def __init__(self, *, handle: int = 0, what: str = "", **base: Any) -> None:
        Message.__init__(self, **base)
        self.handle = handle
        self.what = what

    def encode_payload(self, features: int) -> None:
        """Build the front."""
        w = Writer()
        w.push_u64(self.handle)
        w.push_string(self.what)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front."""
        handle = front.pull_u64()
        return cls(handle=handle, what=front.pull_string())


@register_message
class MMonGetVersionReply(Message):
    """``MMonGetVersionReply``. Ceph's ``version`` field is :attr:`map_version` here."""

    TYPE = 20  # CEPH_MSG_MON_GET_VERSION_REPLY
    HEAD_VERSION = 2
    COMPAT_VERSION = 2

    handle: int
    """The request's handle (u64)."""
    map_version: int
    """Newest epoch of the map (Ceph's ``version``, u64)."""
    oldest_version: int
    """Oldest epoch the mon still has (u64; header version 2)."""

    __slots__ = ("handle", "map_version", "oldest_version")

    def __init__(self, *, handle: int = 0, map_version: int = 0, oldest_version: int = 0,
                 **base: Any) -> None:
        Message.__init__(self, **base)
        self.handle = handle
        self.map_version = map_version
        self.oldest_version = oldest_version

    def encode_payload(self, features: int) -> None:
        """Build the front (oldest_version always written)."""
        w = Writer()
        w.push_u64(self.handle)
        w.push_u64(self.map_version)
        w.push_u64(self.oldest_version)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front; oldest_version only from header version 2."""
        handle = front.pull_u64()
        version = front.pull_u64()
        oldest = front.pull_u64() if header.version >= 2 else 0
        return cls(handle=handle, map_version=version, oldest_version=oldest)


__all__ = [
    "CEPH_SUBSCRIBE_ONETIME",
    "MMonGetMap",
    "MMonGetVersion",
    "MMonGetVersionReply",
    "MMonMap",
    "MMonSubscribe",
    "MMonSubscribeAck",
    "SubscribeItem",
]
