"""Ceph messages: headers, footers, the Message base class and ``decode_message``.

A :class:`Message` carries Ceph's header fields (seq, tid, type, priority,
version, compat_version, data_off, src) and three payload buffers kept apart and
never joined: ``front`` (the encoded payload), ``middle`` and ``data``. Typed
subclasses (:mod:`asyncmsgr.messages`) add fields, build ``front`` in
:meth:`Message.encode_payload` and parse it in :meth:`Message.decode_payload`.

Wire headers:

* :class:`MsgHeader` ``ceph_msg_header`` (53 bytes, msgr v1; also the legacy header
  Ceph rebuilds for msgr2 messages), with ``crc = ceph_crc32c(0, bytes[0:49])``;
* :class:`MsgFooter` ``ceph_msg_footer`` (21 bytes) and the 13-byte old footer;
* :class:`MsgHeader2` ``ceph_msg_header2`` (41 bytes, segment 0 of a msgr2
  MESSAGE frame; no lengths, no src, no crc).

``decode_message`` checks the footer crcs (when asked), looks the type up in the
registry (:func:`message_class`: a typed class's module is imported the first
time its type is met, ``message_types.MESSAGE_MODULES``) and returns the typed
message. An unregistered type raises
:class:`~asyncmsgr.errors.UnknownMessageType` (count it and skip); a payload that
does not decode raises :class:`~asyncmsgr.errors.MessageDecodeError`. Nothing else
escapes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Self, TypeVar

from asyncmsgr.errors import (
    BadMessageCrc,
    DecodeError,
    EncodeError,
    MessageDecodeError,
    RemoteProtocolError,
    UnknownMessageType,
)
from asyncmsgr.features import CEPH_FEATURES_ALL
from asyncmsgr.message_types import MESSAGE_MODULES, message_type_name
from asyncmsgr.types import Buffer, EntityName
from asyncmsgr.wire.buffer import Reader, as_view
from asyncmsgr.wire.crc32c import ceph_crc32c

if TYPE_CHECKING:
    from asyncmsgr.connection import Connection


class Priority(IntEnum):
    """``CEPH_MSG_PRIO_*``."""

    LOW = 64
    DEFAULT = 127
    HIGH = 196
    HIGHEST = 255


CEPH_MSG_PRIO_LOW = Priority.LOW
CEPH_MSG_PRIO_DEFAULT = Priority.DEFAULT
CEPH_MSG_PRIO_HIGH = Priority.HIGH
CEPH_MSG_PRIO_HIGHEST = Priority.HIGHEST


class FooterFlags(IntFlag):
    """``CEPH_MSG_FOOTER_*``."""

    COMPLETE = 1
    NOCRC = 2  # no data crc
    SIGNED = 4


class CrcFlags(IntFlag):
    """``MSG_CRC_*``: which crcs to compute and check (``ms_crc_data/header``)."""

    NONE = 0
    DATA = 1
    HEADER = 2
    ALL = 3


#: The src of a message not stamped yet.
NO_SRC = EntityName(0, 0)

_HEADER = struct.Struct("<QQHHHIIIHBqHHI")
_FOOTER = struct.Struct("<IIIQB")
_OLD_FOOTER = struct.Struct("<IIIB")
_HEADER2 = struct.Struct("<QQHHHIHQBHH")
#: The packed layout of ``ceph_msg_header2`` (for codecs that parse in place).
HEADER2_STRUCT = _HEADER2

MSG_HEADER_LEN = _HEADER.size  # 53
MSG_HEADER_CRC_OFFSET = MSG_HEADER_LEN - 4  # 49
MSG_FOOTER_LEN = _FOOTER.size  # 21
MSG_OLD_FOOTER_LEN = _OLD_FOOTER.size  # 13
MSG_HEADER2_LEN = _HEADER2.size  # 41
_tuple_new = tuple.__new__


class MsgHeader(NamedTuple):
    """``ceph_msg_header`` (msgr v1), 53 bytes.

    Wire headers are NamedTuples rather than frozen dataclasses: they are built
    once per message on the hot path, where a frozen dataclass costs ~6x more.
    """

    seq: int = 0
    tid: int = 0
    type: int = 0
    priority: int = 0
    version: int = 0
    front_len: int = 0
    middle_len: int = 0
    data_len: int = 0
    data_off: int = 0
    src: EntityName = NO_SRC
    compat_version: int = 0
    reserved: int = 0
    crc: int = 0

    def encode(self) -> bytes:
        """The 53 bytes with ``crc`` as stored (see :meth:`with_crc`)."""
        try:
            return _HEADER.pack(
                self.seq, self.tid, self.type, self.priority, self.version,
                self.front_len, self.middle_len, self.data_len, self.data_off,
                self.src.type, self.src.num, self.compat_version, self.reserved, self.crc,
            )
        except struct.error as exc:
            raise EncodeError(f"ceph_msg_header field out of range: {exc}") from exc

    def with_crc(self) -> MsgHeader:
        """A copy whose ``crc`` is ceph_crc32c(0) of the first 49 encoded bytes."""
        raw = self.encode()
        return self._replace(crc=ceph_crc32c(0, raw[:MSG_HEADER_CRC_OFFSET]))

    @classmethod
    def decode(cls, data: Buffer, *, check_crc: bool = True) -> MsgHeader:
        """Parse 53 bytes; with ``check_crc`` verify the header crc first."""
        if len(data) < MSG_HEADER_LEN:
            raise DecodeError(f"ceph_msg_header needs {MSG_HEADER_LEN} bytes, got {len(data)}")
        (seq, tid, type_, prio, ver, flen, mlen, dlen, doff, stype, snum, compat,
         reserved, crc) = _HEADER.unpack_from(data, 0)
        if check_crc:
            calc = ceph_crc32c(0, as_view(data)[:MSG_HEADER_CRC_OFFSET])
            if calc != crc:
                raise BadMessageCrc(f"bad header crc {crc:#010x} != {calc:#010x}")
        return cls(seq, tid, type_, prio, ver, flen, mlen, dlen, doff,
                   EntityName(stype, snum), compat, reserved, crc)


class MsgFooter(NamedTuple):
    """``ceph_msg_footer`` (21 bytes); ``sig`` is absent from the 13-byte old footer."""

    front_crc: int = 0
    middle_crc: int = 0
    data_crc: int = 0
    sig: int = 0
    flags: int = FooterFlags.COMPLETE

    def encode(self, *, old: bool = False) -> bytes:
        """21 bytes, or the 13-byte ``ceph_msg_footer_old`` when ``old``."""
        try:
            if old:
                return _OLD_FOOTER.pack(self.front_crc, self.middle_crc, self.data_crc,
                                        self.flags)
            return _FOOTER.pack(self.front_crc, self.middle_crc, self.data_crc, self.sig,
                                self.flags)
        except struct.error as exc:
            raise EncodeError(f"ceph_msg_footer field out of range: {exc}") from exc

    @classmethod
    def decode(cls, data: Buffer, *, old: bool = False) -> MsgFooter:
        """Parse a footer (old form without ``sig`` when ``old``)."""
        need = MSG_OLD_FOOTER_LEN if old else MSG_FOOTER_LEN
        if len(data) < need:
            raise DecodeError(f"ceph_msg_footer needs {need} bytes, got {len(data)}")
        if old:
            f, m, d, flags = _OLD_FOOTER.unpack_from(data, 0)
            return cls(f, m, d, 0, flags)
        return cls._make(_FOOTER.unpack_from(data, 0))


class MsgHeader2(NamedTuple):
    """``ceph_msg_header2`` (41 bytes), segment 0 of a msgr2 MESSAGE frame."""

    seq: int = 0
    tid: int = 0
    type: int = 0
    priority: int = 0
    version: int = 0
    data_pre_padding_len: int = 0
    data_off: int = 0
    ack_seq: int = 0
    flags: int = FooterFlags.COMPLETE | FooterFlags.NOCRC
    compat_version: int = 0
    reserved: int = 0

    def encode(self) -> bytes:
        """The 41 bytes."""
        try:
            return _HEADER2.pack(*self)
        except struct.error as exc:
            raise EncodeError(f"ceph_msg_header2 field out of range: {exc}") from exc

    @classmethod
    def decode(cls, data: Buffer) -> MsgHeader2:
        """Parse exactly 41 bytes (a short or long segment 0 is an error)."""
        if len(data) != MSG_HEADER2_LEN:
            raise DecodeError(
                f"ceph_msg_header2 must be {MSG_HEADER2_LEN} bytes, got {len(data)}"
            )
        return cls._make(_HEADER2.unpack_from(data, 0))

    def to_legacy(self, src: EntityName, front_len: int, middle_len: int,
                  data_len: int) -> MsgHeader:
        """The ``ceph_msg_header`` Ceph rebuilds on receipt (src from the connection)."""
        seq, tid, type_, prio, ver, _pad, data_off, _ack, _flags, compat, reserved = self
        return _tuple_new(MsgHeader, (seq, tid, type_, prio, ver, front_len, middle_len,
                                      data_len, data_off, src, compat, reserved, 0))


# -- Message ---------------------------------------------------------------------------

M = TypeVar("M", bound="Message")

_EMPTY = b""


class Message:
    r"""Base of every Ceph message.

    Subclasses set ``TYPE`` (and ``HEAD_VERSION``/``COMPAT_VERSION``), add their
    fields, and implement :meth:`encode_payload` / :meth:`decode_payload`. The
    header fields below are stamped by the messenger (seq, src) or chosen by the
    sender (tid, priority; 0 means the messenger's default priority).

    Buffers are kept as given (bytes, bytearray or memoryview), never joined.

    Messages are plain slotted classes with keyword ``__init__``\s written out
    (a subclass takes its own fields and passes ``**base`` on), not dataclasses:
    a dataclass compiles its ``__init__`` when the class is created, which a
    one-shot command paid for every message class it imported. ``_fields`` lists
    the field names, the base's first.
    """

    TYPE: ClassVar[int] = 0
    HEAD_VERSION: ClassVar[int] = 1
    COMPAT_VERSION: ClassVar[int] = 1

    _fields: ClassVar[tuple[str, ...]] = ()
    """Field names in declaration order, the base's first."""

    seq: int
    tid: int
    priority: int
    version: int
    compat_version: int
    data_off: int
    src: EntityName
    front: Buffer
    middle: Buffer
    data: Buffer

    # Runtime state, set by the messenger (not part of the wire encoding).
    connection: Connection | None
    """The connection the message arrived on (receive side)."""
    recv_stamp: float
    """Monotonic time the messenger started reading the message."""
    throttle_stamp: float
    """Monotonic time the throttles were granted."""
    recv_complete_stamp: float
    """Monotonic time the message was fully read."""
    dispatch_stamp: float
    """Monotonic time dispatch started."""
    send_stamp: float
    """Monotonic time ``send_message`` queued it (for ``msgr_send_messages_queue_lat``)."""
    dispatch_throttle_size: int
    """Bytes held in the messenger's dispatch throttle for this message."""
    release_hook: Callable[[], None] | None
    """Releases the policy throttles held for this message; call once via
    :meth:`release_throttles` when the message has been dispatched or dropped."""

    __slots__ = ("compat_version", "connection", "data", "data_off", "dispatch_stamp",
                 "dispatch_throttle_size", "front", "middle", "priority", "recv_complete_stamp",
                 "recv_stamp", "release_hook", "send_stamp", "seq", "src", "throttle_stamp",
                 "tid", "version")

    def __init__(self, *, seq: int = 0, tid: int = 0, priority: int = 0, version: int = 0,
                 compat_version: int = 0, data_off: int = 0, src: EntityName = NO_SRC,
                 front: Buffer = _EMPTY, middle: Buffer = _EMPTY, data: Buffer = _EMPTY,
                 connection: Connection | None = None, recv_stamp: float = 0.0,
                 throttle_stamp: float = 0.0, recv_complete_stamp: float = 0.0,
                 dispatch_stamp: float = 0.0, send_stamp: float = 0.0,
                 dispatch_throttle_size: int = 0,
                 release_hook: Callable[[], None] | None = None) -> None:
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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__slots__", ())
        if isinstance(own, str):
            own = (own,)
        declared = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
        missing = set(own) - set(declared)
        if missing:
            raise TypeError(f"{cls.__qualname__}: slots without an annotation: {sorted(missing)}")
        cls._fields = (*cls._fields, *(n for n in declared if n in own))

    def release_throttles(self) -> None:
        """Return the policy throttle budget this message holds (idempotent)."""
        hook = self.release_hook
        if hook is not None:
            self.release_hook = None
            hook()

    @property
    def type(self) -> int:
        """Ceph's message type number."""
        return self.TYPE

    @property
    def type_name(self) -> str:
        """Ceph's name for the type (``MON_COMMAND_ACK``, ``PING``, ...)."""
        return message_type_name(self.type)

    @property
    def payload_len(self) -> int:
        """front + middle + data length (what the policy byte throttle counts)."""
        return len(self.front) + len(self.middle) + len(self.data)

    def encode_payload(self, features: int) -> None:
        """Build ``front`` (and ``middle``/``data`` where the type uses them).

        The default keeps the buffers as they are, for raw messages.
        """

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Build the typed message from its payload (header given for the version).

        Raise DecodeError on malformed input. The default accepts anything.
        """
        return cls()

    def prepare(self, features: int = CEPH_FEATURES_ALL) -> None:
        """Encode the payload and settle the versions (``Message::encode`` minus crcs)."""
        if not self.version:
            self.version = self.HEAD_VERSION
        if not self.compat_version:
            self.compat_version = self.COMPAT_VERSION
        self.encode_payload(features)

    def v1_header(self, crc_flags: int = CrcFlags.ALL) -> MsgHeader:
        """The ``ceph_msg_header`` for the current state (header crc if flagged)."""
        h = MsgHeader(seq=self.seq, tid=self.tid, type=self.type, priority=self.priority,
                      version=self.version, front_len=len(self.front),
                      middle_len=len(self.middle), data_len=len(self.data),
                      data_off=self.data_off, src=self.src,
                      compat_version=self.compat_version)
        return h.with_crc() if crc_flags & CrcFlags.HEADER else h

    def v1_footer(self, crc_flags: int = CrcFlags.ALL) -> MsgFooter:
        """The footer: front/middle crcs, and data crc unless NOCRC is flagged."""
        flags = FooterFlags.COMPLETE
        fcrc = mcrc = dcrc = 0
        if crc_flags & CrcFlags.HEADER:
            fcrc = ceph_crc32c(0, self.front) if len(self.front) else 0
            mcrc = ceph_crc32c(0, self.middle) if len(self.middle) else 0
        if crc_flags & CrcFlags.DATA:
            dcrc = ceph_crc32c(0, self.data) if len(self.data) else 0
        else:
            flags |= FooterFlags.NOCRC
        return MsgFooter(front_crc=fcrc, middle_crc=mcrc, data_crc=dcrc, flags=flags)

    def v2_header(self, ack_seq: int) -> MsgHeader2:
        """The ``ceph_msg_header2`` with the piggy-backed ack."""
        return MsgHeader2(seq=self.seq, tid=self.tid, type=self.type,
                          priority=self.priority, version=self.version,
                          data_off=self.data_off, ack_seq=ack_seq,
                          compat_version=self.compat_version)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.type_name} seq={self.seq} tid={self.tid} "
                f"prio={self.priority} v{self.version} front={len(self.front)} "
                f"middle={len(self.middle)} data={len(self.data)}>")


Message._fields = tuple(n for n in Message.__annotations__ if n in Message.__slots__)


class RawMessage(Message):
    """A message of any type kept as raw buffers (for forwarding and tools)."""

    raw_type: int

    __slots__ = ("raw_type",)

    def __init__(self, *, raw_type: int = 0, seq: int = 0, tid: int = 0, priority: int = 0,
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
        self.raw_type = raw_type

    @property
    def type(self) -> int:
        """The type number given at construction."""
        return self.raw_type


# -- registry --------------------------------------------------------------------------

#: Type number -> its class, for the classes registered so far (their modules
#: were imported); :func:`message_class` imports the others on first use.
MESSAGE_TYPES: dict[int, type[Message]] = {}


def message_class(type_: int) -> type[Message] | None:
    """The class registered for ``type_``, importing its module on first use
    (``MESSAGE_MODULES``); None for a type no module defines."""
    cls = MESSAGE_TYPES.get(type_)
    if cls is None:
        module = MESSAGE_MODULES.get(type_)
        if module is not None:
            from importlib import import_module  # noqa: PLC0415  (first use of a type only)

            import_module(module)
            cls = MESSAGE_TYPES.get(type_)
    return cls


def import_message_types() -> Mapping[int, type[Message]]:
    """Import every typed message module; returns ``MESSAGE_TYPES``, then complete."""
    for type_ in MESSAGE_MODULES:
        message_class(type_)
    return MESSAGE_TYPES


def register_message(cls: type[M]) -> type[M]:
    """Class decorator: make ``decode_message`` build ``cls`` for ``cls.TYPE``."""
    existing = MESSAGE_TYPES.get(cls.TYPE)
    if existing is not None and existing is not cls:
        raise ValueError(f"message type {cls.TYPE} already registered to {existing}")
    MESSAGE_TYPES[cls.TYPE] = cls
    return cls


_EMPTY_VIEW = memoryview(_EMPTY)


def _view(b: Buffer) -> memoryview:
    if type(b) is bytes or type(b) is bytearray:
        return memoryview(b) if b else _EMPTY_VIEW
    return as_view(b)


def check_footer_crcs(footer: MsgFooter, front: Buffer, middle: Buffer, data: Buffer,
                      crc_flags: int) -> None:
    """Verify footer crcs like ``decode_message``; BadMessageCrc on a mismatch."""
    if crc_flags & CrcFlags.HEADER:
        fcrc = ceph_crc32c(0, front) if len(front) else 0
        if fcrc != footer.front_crc:
            raise BadMessageCrc(f"bad front crc {footer.front_crc:#010x} != {fcrc:#010x}")
        mcrc = ceph_crc32c(0, middle) if len(middle) else 0
        if mcrc != footer.middle_crc:
            raise BadMessageCrc(f"bad middle crc {footer.middle_crc:#010x} != {mcrc:#010x}")
    if crc_flags & CrcFlags.DATA and not footer.flags & FooterFlags.NOCRC:
        dcrc = ceph_crc32c(0, data) if len(data) else 0
        if dcrc != footer.data_crc:
            raise BadMessageCrc(f"bad data crc {footer.data_crc:#010x} != {dcrc:#010x}")


def decode_message(
    header: MsgHeader,
    front: Buffer,
    middle: Buffer = _EMPTY,
    data: Buffer = _EMPTY,
    *,
    footer: MsgFooter | None = None,
    crc_flags: int = CrcFlags.ALL,
) -> Message:
    """Check crcs (v1: pass the footer), then build the registered message class.

    Raises BadMessageCrc, UnknownMessageType (raw parts attached) or
    MessageDecodeError; never anything else.
    """
    if footer is not None:
        check_footer_crcs(footer, front, middle, data, crc_flags)
    cls = MESSAGE_TYPES.get(header.type)
    if cls is None and (cls := message_class(header.type)) is None:
        raise UnknownMessageType(header, front, middle, data)
    try:
        msg = cls.decode_payload(header, Reader(front), _view(middle), _view(data))
    except RemoteProtocolError as exc:
        raise MessageDecodeError(
            f"{message_type_name(header.type)} v{header.version}: {exc}"
        ) from exc
    except (ValueError, UnicodeError, OverflowError, IndexError) as exc:
        raise MessageDecodeError(
            f"{message_type_name(header.type)} v{header.version}: {exc!r}"
        ) from exc
    (msg.seq, msg.tid, _type, msg.priority, msg.version, _flen, _mlen, _dlen, msg.data_off,
     msg.src, msg.compat_version, _reserved, _crc) = header
    msg.front = front
    msg.middle = middle
    msg.data = data
    return msg


__all__ = [
    "CEPH_MSG_PRIO_DEFAULT",
    "CEPH_MSG_PRIO_HIGH",
    "CEPH_MSG_PRIO_HIGHEST",
    "CEPH_MSG_PRIO_LOW",
    "HEADER2_STRUCT",
    "MESSAGE_TYPES",
    "MSG_FOOTER_LEN",
    "MSG_HEADER2_LEN",
    "MSG_HEADER_LEN",
    "MSG_OLD_FOOTER_LEN",
    "CrcFlags",
    "FooterFlags",
    "Message",
    "MsgFooter",
    "MsgHeader",
    "MsgHeader2",
    "Priority",
    "RawMessage",
    "check_footer_crcs",
    "decode_message",
    "import_message_types",
    "message_class",
    "register_message",
]
