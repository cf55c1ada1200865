"""MWatchNotify (44): an OSD tells a watcher about a notify, its completion or a disconnect.

Front (header v3, compat 1)::

    u8 msg_ver (1), u8 opcode, u64 cookie, u64 ver, u64 notify_id,
    bufferlist bl, s32 return_code (v2), u64 notifier_gid (v3)

``opcode`` is a :class:`~asyncmsgr.osd.ops.WatchEvent`. A NOTIFY event carries
the notifier's payload in ``bl`` and goes to each watch ``cookie``; the
NOTIFY_COMPLETE event goes to the notifier (``cookie`` is its notify's cookie)
and carries the watchers' replies in the message's **data** segment (as the
Pacific OSD sends it): decode them with :meth:`MWatchNotify.notify_result`.
"""

from __future__ import annotations

from typing import Any, Self

from asyncmsgr.message import Message, MsgHeader, register_message
from asyncmsgr.osd.op_data import NotifyResult, decode_notify_result
from asyncmsgr.osd.ops import WatchEvent, ceph_watch_event_name
from asyncmsgr.wire.buffer import Reader, Writer


@register_message
class MWatchNotify(Message):
    """``MWatchNotify``: a watch event for one watch (or notify) cookie."""

    TYPE = 44  # CEPH_MSG_WATCH_NOTIFY
    HEAD_VERSION = 3
    COMPAT_VERSION = 1

    opcode: int
    cookie: int
    ver: int
    """The object's version (informational)."""
    notify_id: int
    bl: bytes
    """The notify payload (NOTIFY)."""
    return_code: int
    """The notify's result (NOTIFY_COMPLETE: -ETIMEDOUT when a watcher timed out)."""
    notifier_gid: int
    """The global id of the client that sent the notify."""
    msg_ver: int
    """The payload's own version byte (1: ``bl`` present)."""

    __slots__ = ("bl", "cookie", "msg_ver", "notifier_gid", "notify_id", "opcode",
                 "return_code", "ver")

    def __init__(self, *, opcode: int = WatchEvent.NOTIFY, cookie: int = 0, ver: int = 0,
                 notify_id: int = 0, bl: bytes = b"", return_code: int = 0,
                 notifier_gid: int = 0, msg_ver: int = 1, **base: Any) -> None:
        Message.__init__(self, **base)
        self.opcode = opcode
        self.cookie = cookie
        self.ver = ver
        self.notify_id = notify_id
        self.bl = bl
        self.return_code = return_code
        self.notifier_gid = notifier_gid
        self.msg_ver = msg_ver

    def encode_payload(self, features: int) -> None:
        """Front v3; ``data`` is left as set (the NOTIFY_COMPLETE replies)."""
        w = Writer()
        w.push_u8(self.msg_ver)
        w.push_u8(self.opcode)
        w.push_u64(self.cookie)
        w.push_u64(self.ver)
        w.push_u64(self.notify_id)
        w.push_blob(self.bl)
        w.push_s32(self.return_code)
        w.push_u64(self.notifier_gid)
        self.version = self.HEAD_VERSION
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front (return code from v2, notifier from v3)."""
        msg_ver = front.pull_u8()
        opcode = front.pull_u8()
        cookie = front.pull_u64()
        ver = front.pull_u64()
        notify_id = front.pull_u64()
        bl = front.pull_blob() if msg_ver >= 1 else b""
        rc = front.pull_s32() if header.version >= 2 else 0
        gid = front.pull_u64() if header.version >= 3 else 0
        return cls(opcode=opcode, cookie=cookie, ver=ver, notify_id=notify_id, bl=bl,
                   return_code=rc, notifier_gid=gid, msg_ver=msg_ver)

    def notify_result(self) -> NotifyResult:
        """The watchers' replies of a NOTIFY_COMPLETE (its data segment)."""
        return decode_notify_result(self.data)

    def describe(self) -> str:
        """As Ceph logs it: ``watch-notify(notify (1) cookie C notify N ret 0) v3``."""
        return (f"watch-notify({ceph_watch_event_name(self.opcode)} ({self.opcode}) "
                f"cookie {self.cookie} notify {self.notify_id} ret {self.return_code}) "
                f"v{self.version}")


__all__ = ["MWatchNotify"]
