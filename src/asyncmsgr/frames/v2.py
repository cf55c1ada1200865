"""msgr2 frame payloads: the banner, tags 1-22 as frozen records, MESSAGE.

A control frame is one segment (alignment 8) whose bytes are the plain
concatenation of its fields, encoded as if the peer had ``MSG_ADDR2 |
SERVER_NAUTILUS`` (``doc/dev/msgr2.rst``, wire-protocol.md §5.3). A MESSAGE frame
has four segments: ``ceph_msg_header2``, front, middle, data (alignment 8, 8, 8,
4096).

``decode_frame(tag, segments)`` turns the segments the
:class:`~asyncmsgr.frames.assembler.FrameAssembler` produced into one of the
classes below. Control payloads must decode exactly: a short payload, a count
larger than the bytes present, more than :data:`MAX_AUTH_LIST` methods or modes,
or trailing bytes raise :class:`~asyncmsgr.errors.DecodeError`; an undefined tag
raises :class:`~asyncmsgr.errors.UnknownTag`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from enum import IntEnum
from typing import ClassVar, Self

from asyncmsgr.errors import BannerMismatch, DecodeError, EncodeError, UnknownTag
from asyncmsgr.features import CEPH_MSGR2_REQUIRED_FEATURES, CEPH_MSGR2_SUPPORTED_FEATURES
from asyncmsgr.message import MsgHeader2
from asyncmsgr.record import Record
from asyncmsgr.types import Buffer, EntityAddr, EntityAddrVec, UTime
from asyncmsgr.wire.buffer import Reader, Writer, pull_u32_item, push_u32_item
from asyncmsgr.wire.codecs import (
    pull_entity_addr,
    pull_entity_addrvec,
    pull_utime,
    push_entity_addr,
    push_entity_addrvec,
    push_utime,
)

# -- banner ----------------------------------------------------------------------------

BANNER_PREFIX = b"ceph v2\n"
#: ``ceph v2\n`` + le16 payload length
BANNER_PREFIX_LEN = len(BANNER_PREFIX) + 2
BANNER_PAYLOAD_LEN = 16
BANNER_LEN = BANNER_PREFIX_LEN + BANNER_PAYLOAD_LEN
#: The msgr v1 banner; seeing it where a v2 banner belongs means a v1 peer.
V1_BANNER = b"ceph v027"
_U16 = struct.Struct("<H")
_BANNER_PAYLOAD = struct.Struct("<QQ")


def encode_banner(supported: int = CEPH_MSGR2_SUPPORTED_FEATURES,
                  required: int = CEPH_MSGR2_REQUIRED_FEATURES) -> bytes:
    """The 26-byte banner: prefix, le16 16, le64 supported, le64 required."""
    try:
        payload = _BANNER_PAYLOAD.pack(supported, required)
    except struct.error as exc:
        raise EncodeError(f"banner features out of range: {exc}") from exc
    return BANNER_PREFIX + _U16.pack(len(payload)) + payload


def decode_banner_prefix(data: Buffer) -> int:
    """Check the first 10 bytes and return the payload length that follows.

    Raises BannerMismatch for a msgr v1 banner or anything else that is not
    ``ceph v2\\n``, and DecodeError for a payload shorter than 16 bytes.
    """
    raw = bytes(data[:BANNER_PREFIX_LEN])
    if len(raw) < BANNER_PREFIX_LEN:
        raise DecodeError("banner truncated")
    if raw[: len(BANNER_PREFIX)] != BANNER_PREFIX:
        if raw.startswith(V1_BANNER):
            raise BannerMismatch("peer speaks msgr v1 (banner 'ceph v027'), not msgr2")
        raise BannerMismatch(f"bad banner {raw!r}: not a Ceph msgr2 peer")
    length: int = _U16.unpack_from(raw, len(BANNER_PREFIX))[0]
    if length < BANNER_PAYLOAD_LEN:
        raise DecodeError(f"banner payload length {length} < {BANNER_PAYLOAD_LEN}")
    return length


def decode_banner_payload(data: Buffer) -> tuple[int, int]:
    """(supported, required) msgr2 features; extra payload bytes are ignored."""
    if len(data) < BANNER_PAYLOAD_LEN:
        raise DecodeError("banner payload truncated")
    supported, required = _BANNER_PAYLOAD.unpack_from(data, 0)
    return supported, required


# -- tags ------------------------------------------------------------------------------


class Tag(IntEnum):
    """msgr2 frame tags (``ceph::msgr::v2::Tag``)."""

    HELLO = 1
    AUTH_REQUEST = 2
    AUTH_BAD_METHOD = 3
    AUTH_REPLY_MORE = 4
    AUTH_REQUEST_MORE = 5
    AUTH_DONE = 6
    AUTH_SIGNATURE = 7
    CLIENT_IDENT = 8
    SERVER_IDENT = 9
    IDENT_MISSING_FEATURES = 10
    SESSION_RECONNECT = 11
    SESSION_RESET = 12
    SESSION_RETRY = 13
    SESSION_RETRY_GLOBAL = 14
    SESSION_RECONNECT_OK = 15
    WAIT = 16
    MESSAGE = 17
    KEEPALIVE2 = 18
    KEEPALIVE2_ACK = 19
    ACK = 20
    COMPRESSION_REQUEST = 21
    COMPRESSION_DONE = 22


def tag_name(tag: int) -> str:
    """Name of a tag number (``UNKNOWN_<n>`` when undefined)."""
    try:
        return Tag(tag).name
    except ValueError:
        return f"UNKNOWN_{tag}"


#: Segment alignment of control frames and of MESSAGE header/front/middle.
DEFAULT_ALIGNMENT = 8
#: Segment alignment of MESSAGE data (a page).
PAGE_ALIGNMENT = 4096
MESSAGE_ALIGNMENTS = (DEFAULT_ALIGNMENT, DEFAULT_ALIGNMENT, DEFAULT_ALIGNMENT, PAGE_ALIGNMENT)
#: Longest allowed_methods / allowed_modes / preferred_modes list we accept.
MAX_AUTH_LIST = 8
SIGNATURE_LEN = 32

# msgr2 connection modes and auth methods
CON_MODE_UNKNOWN = 0
CON_MODE_CRC = 1
CON_MODE_SECURE = 2
AUTH_UNKNOWN = 0
AUTH_NONE = 1
AUTH_CEPHX = 2

#: CLIENT_IDENT / SERVER_IDENT flag: the session is lossy.
CEPH_MSG_CONNECT_LOSSY = 1

_set = object.__setattr__  # what a frozen class's __init__ assigns with


def _pull_small_u32_list(r: Reader, what: str) -> tuple[int, ...]:
    n = r.pull_count(4, what)
    if n > MAX_AUTH_LIST:
        raise DecodeError(f"{what}: {n} entries exceeds the limit of {MAX_AUTH_LIST}")
    return tuple(pull_u32_item(r) for _ in range(n))


class ControlFrame(Record):
    """Base of the single-segment frames; subclasses define fields and codecs."""

    TAG: ClassVar[Tag]

    __slots__ = ()

    def encode_payload(self) -> bytes:
        """The segment bytes."""
        w = Writer()
        self._push(w)
        return w.getvalue()

    def _push(self, w: Writer) -> None:
        raise NotImplementedError

    @classmethod
    def decode_payload(cls, payload: Buffer) -> Self:
        """Parse exactly one segment; raise DecodeError on any malformation."""
        r = Reader(payload)
        frame = cls._pull(r)
        r.expect_end(cls.TAG.name)
        return frame

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        raise NotImplementedError


class HelloFrame(ControlFrame):
    """HELLO: my entity type and the peer's address as I see it."""

    TAG: ClassVar[Tag] = Tag.HELLO
    entity_type: int
    peer_addr: EntityAddr

    __slots__ = ("entity_type", "peer_addr")

    def __init__(self, *, entity_type: int, peer_addr: EntityAddr) -> None:
        _set(self, "entity_type", entity_type)
        _set(self, "peer_addr", peer_addr)

    def _push(self, w: Writer) -> None:
        w.push_u8(self.entity_type)
        push_entity_addr(w, self.peer_addr)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        return cls(entity_type=r.pull_u8(), peer_addr=pull_entity_addr(r))


class AuthRequestFrame(ControlFrame):
    """AUTH_REQUEST: method, preferred connection modes, method payload."""

    TAG: ClassVar[Tag] = Tag.AUTH_REQUEST
    method: int
    preferred_modes: tuple[int, ...]
    auth_payload: bytes

    __slots__ = ("auth_payload", "method", "preferred_modes")

    def __init__(self, *, method: int, preferred_modes: tuple[int, ...],
                 auth_payload: bytes) -> None:
        _set(self, "method", method)
        _set(self, "preferred_modes", preferred_modes)
        _set(self, "auth_payload", auth_payload)

    def _push(self, w: Writer) -> None:
        w.push_u32(self.method)
        w.push_list(self.preferred_modes, push_u32_item)
        w.push_blob(self.auth_payload)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        method = r.pull_u32()
        modes = _pull_small_u32_list(r, "preferred_modes")
        return cls(method=method, preferred_modes=modes, auth_payload=r.pull_blob())


class AuthBadMethodFrame(ControlFrame):
    """AUTH_BAD_METHOD: the rejected method, the error and what is allowed."""

    TAG: ClassVar[Tag] = Tag.AUTH_BAD_METHOD
    method: int
    result: int
    allowed_methods: tuple[int, ...]
    allowed_modes: tuple[int, ...]

    __slots__ = ("allowed_methods", "allowed_modes", "method", "result")

    def __init__(self, *, method: int, result: int, allowed_methods: tuple[int, ...],
                 allowed_modes: tuple[int, ...]) -> None:
        _set(self, "method", method)
        _set(self, "result", result)
        _set(self, "allowed_methods", allowed_methods)
        _set(self, "allowed_modes", allowed_modes)

    def _push(self, w: Writer) -> None:
        w.push_u32(self.method)
        w.push_s32(self.result)
        w.push_list(self.allowed_methods, push_u32_item)
        w.push_list(self.allowed_modes, push_u32_item)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        method = r.pull_u32()
        result = r.pull_s32()
        methods = _pull_small_u32_list(r, "allowed_methods")
        modes = _pull_small_u32_list(r, "allowed_modes")
        return cls(method=method, result=result, allowed_methods=methods,
                   allowed_modes=modes)


class AuthReplyMoreFrame(ControlFrame):
    """AUTH_REPLY_MORE: the next server step of a multi-round method."""

    TAG: ClassVar[Tag] = Tag.AUTH_REPLY_MORE
    auth_payload: bytes

    __slots__ = ("auth_payload",)

    def __init__(self, *, auth_payload: bytes) -> None:
        _set(self, "auth_payload", auth_payload)

    def _push(self, w: Writer) -> None:
        w.push_blob(self.auth_payload)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        return cls(auth_payload=r.pull_blob())


class AuthRequestMoreFrame(ControlFrame):
    """AUTH_REQUEST_MORE: the client's answer to AUTH_REPLY_MORE."""

    TAG: ClassVar[Tag] = Tag.AUTH_REQUEST_MORE
    auth_payload: bytes

    __slots__ = ("auth_payload",)

    def __init__(self, *, auth_payload: bytes) -> None:
        _set(self, "auth_payload", auth_payload)

    def _push(self, w: Writer) -> None:
        w.push_blob(self.auth_payload)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        return cls(auth_payload=r.pull_blob())


class AuthDoneFrame(ControlFrame):
    """AUTH_DONE: global id, chosen connection mode, final method payload."""

    TAG: ClassVar[Tag] = Tag.AUTH_DONE
    global_id: int
    con_mode: int
    auth_payload: bytes

    __slots__ = ("auth_payload", "con_mode", "global_id")

    def __init__(self, *, global_id: int, con_mode: int, auth_payload: bytes) -> None:
        _set(self, "global_id", global_id)
        _set(self, "con_mode", con_mode)
        _set(self, "auth_payload", auth_payload)

    def _push(self, w: Writer) -> None:
        w.push_u64(self.global_id)
        w.push_u32(self.con_mode)
        w.push_blob(self.auth_payload)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        gid = r.pull_u64()
        mode = r.pull_u32()
        return cls(global_id=gid, con_mode=mode, auth_payload=r.pull_blob())


class AuthSignatureFrame(ControlFrame):
    """AUTH_SIGNATURE: HMAC-SHA256 of the pre-auth bytes received (32 raw bytes)."""

    TAG: ClassVar[Tag] = Tag.AUTH_SIGNATURE
    signature: bytes

    __slots__ = ("signature",)

    def __init__(self, *, signature: bytes) -> None:
        _set(self, "signature", signature)

    def _push(self, w: Writer) -> None:
        if len(self.signature) != SIGNATURE_LEN:
            raise EncodeError(f"AUTH_SIGNATURE must be {SIGNATURE_LEN} bytes")
        w.push_bytes(self.signature)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        return cls(signature=r.pull_bytes(SIGNATURE_LEN))


class ClientIdentFrame(ControlFrame):
    """CLIENT_IDENT: who the client is and what it wants (new session)."""

    TAG: ClassVar[Tag] = Tag.CLIENT_IDENT
    addrs: EntityAddrVec
    target_addr: EntityAddr
    gid: int
    global_seq: int
    supported_features: int
    required_features: int
    flags: int
    cookie: int

    __slots__ = ("addrs", "cookie", "flags", "gid", "global_seq", "required_features",
                 "supported_features", "target_addr")

    def __init__(self, *, addrs: EntityAddrVec, target_addr: EntityAddr, gid: int, global_seq: int,
                 supported_features: int, required_features: int, flags: int, cookie: int) -> None:
        _set(self, "addrs", addrs)
        _set(self, "target_addr", target_addr)
        _set(self, "gid", gid)
        _set(self, "global_seq", global_seq)
        _set(self, "supported_features", supported_features)
        _set(self, "required_features", required_features)
        _set(self, "flags", flags)
        _set(self, "cookie", cookie)

    def _push(self, w: Writer) -> None:
        push_entity_addrvec(w, self.addrs)
        push_entity_addr(w, self.target_addr)
        w.push_s64(self.gid)
        w.push_u64(self.global_seq)
        w.push_u64(self.supported_features)
        w.push_u64(self.required_features)
        w.push_u64(self.flags)
        w.push_u64(self.cookie)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        addrs = pull_entity_addrvec(r)
        target = pull_entity_addr(r)
        return cls(addrs=addrs, target_addr=target, gid=r.pull_s64(),
                   global_seq=r.pull_u64(), supported_features=r.pull_u64(),
                   required_features=r.pull_u64(), flags=r.pull_u64(),
                   cookie=r.pull_u64())


class ServerIdentFrame(ControlFrame):
    """SERVER_IDENT: the server's identity; a new session is established."""

    TAG: ClassVar[Tag] = Tag.SERVER_IDENT
    addrs: EntityAddrVec
    gid: int
    global_seq: int
    supported_features: int
    required_features: int
    flags: int
    cookie: int

    __slots__ = ("addrs", "cookie", "flags", "gid", "global_seq", "required_features",
                 "supported_features")

    def __init__(self, *, addrs: EntityAddrVec, gid: int, global_seq: int, supported_features: int,
                 required_features: int, flags: int, cookie: int) -> None:
        _set(self, "addrs", addrs)
        _set(self, "gid", gid)
        _set(self, "global_seq", global_seq)
        _set(self, "supported_features", supported_features)
        _set(self, "required_features", required_features)
        _set(self, "flags", flags)
        _set(self, "cookie", cookie)

    def _push(self, w: Writer) -> None:
        push_entity_addrvec(w, self.addrs)
        w.push_s64(self.gid)
        w.push_u64(self.global_seq)
        w.push_u64(self.supported_features)
        w.push_u64(self.required_features)
        w.push_u64(self.flags)
        w.push_u64(self.cookie)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        addrs = pull_entity_addrvec(r)
        return cls(addrs=addrs, gid=r.pull_s64(), global_seq=r.pull_u64(),
                   supported_features=r.pull_u64(), required_features=r.pull_u64(),
                   flags=r.pull_u64(), cookie=r.pull_u64())


class IdentMissingFeaturesFrame(ControlFrame):
    """IDENT_MISSING_FEATURES: features the server requires and we lack."""

    TAG: ClassVar[Tag] = Tag.IDENT_MISSING_FEATURES
    features: int

    __slots__ = ("features",)

    def __init__(self, *, features: int) -> None:
        _set(self, "features", features)

    def _push(self, w: Writer) -> None:
        w.push_u64(self.features)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        return cls(features=r.pull_u64())


class SessionReconnectFrame(ControlFrame):
    """SESSION_RECONNECT: resume a lossless session after a fault."""

    TAG: ClassVar[Tag] = Tag.SESSION_RECONNECT
    addrs: EntityAddrVec
    client_cookie: int
    server_cookie: int
    global_seq: int
    connect_seq: int
    msg_seq: int

    __slots__ = ("addrs", "client_cookie", "connect_seq", "global_seq", "msg_seq", "server_cookie")

    def __init__(self, *, addrs: EntityAddrVec, client_cookie: int, server_cookie: int,
                 global_seq: int, connect_seq: int, msg_seq: int) -> None:
        _set(self, "addrs", addrs)
        _set(self, "client_cookie", client_cookie)
        _set(self, "server_cookie", server_cookie)
        _set(self, "global_seq", global_seq)
        _set(self, "connect_seq", connect_seq)
        _set(self, "msg_seq", msg_seq)

    def _push(self, w: Writer) -> None:
        push_entity_addrvec(w, self.addrs)
        w.push_u64(self.client_cookie)
        w.push_u64(self.server_cookie)
        w.push_u64(self.global_seq)
        w.push_u64(self.connect_seq)
        w.push_u64(self.msg_seq)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        addrs = pull_entity_addrvec(r)
        return cls(addrs=addrs, client_cookie=r.pull_u64(), server_cookie=r.pull_u64(),
                   global_seq=r.pull_u64(), connect_seq=r.pull_u64(),
                   msg_seq=r.pull_u64())


class SessionResetFrame(ControlFrame):
    """SESSION_RESET: the server has no such session (``full``: drop the queue too)."""

    TAG: ClassVar[Tag] = Tag.SESSION_RESET
    full: bool

    __slots__ = ("full",)

    def __init__(self, *, full: bool) -> None:
        _set(self, "full", full)

    def _push(self, w: Writer) -> None:
        w.push_bool(self.full)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        return cls(full=r.pull_bool())


class SessionRetryFrame(ControlFrame):
    """SESSION_RETRY: reconnect again with a higher connect_seq."""

    TAG: ClassVar[Tag] = Tag.SESSION_RETRY
    connect_seq: int

    __slots__ = ("connect_seq",)

    def __init__(self, *, connect_seq: int) -> None:
        _set(self, "connect_seq", connect_seq)

    def _push(self, w: Writer) -> None:
        w.push_u64(self.connect_seq)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        return cls(connect_seq=r.pull_u64())


class SessionRetryGlobalFrame(ControlFrame):
    """SESSION_RETRY_GLOBAL: reconnect again with a higher global_seq."""

    TAG: ClassVar[Tag] = Tag.SESSION_RETRY_GLOBAL
    global_seq: int

    __slots__ = ("global_seq",)

    def __init__(self, *, global_seq: int) -> None:
        _set(self, "global_seq", global_seq)

    def _push(self, w: Writer) -> None:
        w.push_u64(self.global_seq)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        return cls(global_seq=r.pull_u64())


class SessionReconnectOkFrame(ControlFrame):
    """SESSION_RECONNECT_OK: resumed; ``msg_seq`` is the last seq the server got."""

    TAG: ClassVar[Tag] = Tag.SESSION_RECONNECT_OK
    msg_seq: int

    __slots__ = ("msg_seq",)

    def __init__(self, *, msg_seq: int) -> None:
        _set(self, "msg_seq", msg_seq)

    def _push(self, w: Writer) -> None:
        w.push_u64(self.msg_seq)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        return cls(msg_seq=r.pull_u64())


class WaitFrame(ControlFrame):
    """WAIT: lost a connection race; back off and reconnect later."""

    TAG: ClassVar[Tag] = Tag.WAIT

    __slots__ = ()

    def _push(self, w: Writer) -> None:
        pass

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        return cls()


class Keepalive2Frame(ControlFrame):
    """KEEPALIVE2: the sender's timestamp, echoed by KEEPALIVE2_ACK."""

    TAG: ClassVar[Tag] = Tag.KEEPALIVE2
    timestamp: UTime

    __slots__ = ("timestamp",)

    def __init__(self, *, timestamp: UTime) -> None:
        _set(self, "timestamp", timestamp)

    def _push(self, w: Writer) -> None:
        push_utime(w, self.timestamp)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        return cls(timestamp=pull_utime(r))


class Keepalive2AckFrame(ControlFrame):
    """KEEPALIVE2_ACK: echo of a KEEPALIVE2 timestamp."""

    TAG: ClassVar[Tag] = Tag.KEEPALIVE2_ACK
    timestamp: UTime

    __slots__ = ("timestamp",)

    def __init__(self, *, timestamp: UTime) -> None:
        _set(self, "timestamp", timestamp)

    def _push(self, w: Writer) -> None:
        push_utime(w, self.timestamp)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        return cls(timestamp=pull_utime(r))


class AckFrame(ControlFrame):
    """ACK: cumulative acknowledgement of received message seqs."""

    TAG: ClassVar[Tag] = Tag.ACK
    seq: int

    __slots__ = ("seq",)

    def __init__(self, *, seq: int) -> None:
        _set(self, "seq", seq)

    def _push(self, w: Writer) -> None:
        w.push_u64(self.seq)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        return cls(seq=r.pull_u64())


class CompressionRequestFrame(ControlFrame):
    """COMPRESSION_REQUEST (Quincy+; never send to a peer without banner bit 1)."""

    TAG: ClassVar[Tag] = Tag.COMPRESSION_REQUEST
    is_compress: bool
    preferred_methods: tuple[int, ...]

    __slots__ = ("is_compress", "preferred_methods")

    def __init__(self, *, is_compress: bool, preferred_methods: tuple[int, ...]) -> None:
        _set(self, "is_compress", is_compress)
        _set(self, "preferred_methods", preferred_methods)

    def _push(self, w: Writer) -> None:
        w.push_bool(self.is_compress)
        w.push_list(self.preferred_methods, push_u32_item)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        on = r.pull_bool()
        return cls(is_compress=on,
                   preferred_methods=_pull_small_u32_list(r, "preferred_methods"))


class CompressionDoneFrame(ControlFrame):
    """COMPRESSION_DONE (Quincy+)."""

    TAG: ClassVar[Tag] = Tag.COMPRESSION_DONE
    is_compress: bool
    method: int

    __slots__ = ("is_compress", "method")

    def __init__(self, *, is_compress: bool, method: int) -> None:
        _set(self, "is_compress", is_compress)
        _set(self, "method", method)

    def _push(self, w: Writer) -> None:
        w.push_bool(self.is_compress)
        w.push_u32(self.method)

    @classmethod
    def _pull(cls, r: Reader) -> Self:
        on = r.pull_bool()
        return cls(is_compress=on, method=r.pull_u32())


CONTROL_FRAMES: dict[Tag, type[ControlFrame]] = {
    cls.TAG: cls
    for cls in (
        HelloFrame, AuthRequestFrame, AuthBadMethodFrame, AuthReplyMoreFrame,
        AuthRequestMoreFrame, AuthDoneFrame, AuthSignatureFrame, ClientIdentFrame,
        ServerIdentFrame, IdentMissingFeaturesFrame, SessionReconnectFrame,
        SessionResetFrame, SessionRetryFrame, SessionRetryGlobalFrame,
        SessionReconnectOkFrame, WaitFrame, Keepalive2Frame, Keepalive2AckFrame,
        AckFrame, CompressionRequestFrame, CompressionDoneFrame,
    )
}


class MessageFrame(Record):
    """MESSAGE: ``ceph_msg_header2`` plus front, middle and data (views, not copies)."""

    TAG: ClassVar[Tag] = Tag.MESSAGE
    header: MsgHeader2
    front: Buffer
    middle: Buffer
    data: Buffer

    __slots__ = ("data", "front", "header", "middle")

    def __init__(self, *, header: MsgHeader2, front: Buffer = b"", middle: Buffer = b"",
                 data: Buffer = b"") -> None:
        _set(self, "header", header)
        _set(self, "front", front)
        _set(self, "middle", middle)
        _set(self, "data", data)

    def segments(self) -> tuple[Buffer, Buffer, Buffer, Buffer]:
        """The four segments in wire order (header encoded)."""
        return (self.header.encode(), self.front, self.middle, self.data)


Frame = ControlFrame | MessageFrame


class FrameSpec(Record):
    """What to hand the assembler: tag, segments and their alignments."""

    tag: int
    segments: tuple[Buffer, ...]
    alignments: tuple[int, ...]

    __slots__ = ("alignments", "segments", "tag")

    def __init__(self, tag: int, segments: tuple[Buffer, ...],
                 alignments: tuple[int, ...] = (DEFAULT_ALIGNMENT,)) -> None:
        _set(self, "tag", tag)
        _set(self, "segments", segments)
        _set(self, "alignments", alignments)


def frame_spec(frame: Frame) -> FrameSpec:
    """The tag and segments of a frame, ready for ``FrameAssembler.assemble``."""
    if isinstance(frame, MessageFrame):
        return FrameSpec(Tag.MESSAGE, frame.segments(), MESSAGE_ALIGNMENTS)
    return FrameSpec(frame.TAG, (frame.encode_payload(),), (DEFAULT_ALIGNMENT,))


def decode_frame(tag: int, segments: Sequence[Buffer]) -> Frame:
    """Build the frame object for a disassembled frame.

    Control frames must have exactly one segment; MESSAGE frames carry a 41-byte
    header2 first. Raises UnknownTag or DecodeError.
    """
    if tag == Tag.MESSAGE:
        if not segments:
            raise DecodeError("MESSAGE frame without segments")
        header = MsgHeader2.decode(segments[0])
        rest = (*segments[1:], b"", b"", b"")  # front, middle, data
        return MessageFrame(header=header, front=rest[0], middle=rest[1], data=rest[2])
    try:
        cls = CONTROL_FRAMES[Tag(tag)]
    except (ValueError, KeyError):
        raise UnknownTag(f"unknown msgr2 frame tag {tag}") from None
    if len(segments) != 1:
        raise DecodeError(f"{cls.TAG.name} frame must have 1 segment, got {len(segments)}")
    return cls.decode_payload(segments[0])


__all__ = [
    "AUTH_CEPHX",
    "AUTH_NONE",
    "AUTH_UNKNOWN",
    "BANNER_LEN",
    "BANNER_PAYLOAD_LEN",
    "BANNER_PREFIX",
    "BANNER_PREFIX_LEN",
    "CEPH_MSG_CONNECT_LOSSY",
    "CONTROL_FRAMES",
    "CON_MODE_CRC",
    "CON_MODE_SECURE",
    "CON_MODE_UNKNOWN",
    "DEFAULT_ALIGNMENT",
    "MAX_AUTH_LIST",
    "MESSAGE_ALIGNMENTS",
    "PAGE_ALIGNMENT",
    "V1_BANNER",
    "AckFrame",
    "AuthBadMethodFrame",
    "AuthDoneFrame",
    "AuthReplyMoreFrame",
    "AuthRequestFrame",
    "AuthRequestMoreFrame",
    "AuthSignatureFrame",
    "ClientIdentFrame",
    "CompressionDoneFrame",
    "CompressionRequestFrame",
    "ControlFrame",
    "Frame",
    "FrameSpec",
    "HelloFrame",
    "IdentMissingFeaturesFrame",
    "Keepalive2AckFrame",
    "Keepalive2Frame",
    "MessageFrame",
    "ServerIdentFrame",
    "SessionReconnectFrame",
    "SessionReconnectOkFrame",
    "SessionResetFrame",
    "SessionRetryFrame",
    "SessionRetryGlobalFrame",
    "Tag",
    "WaitFrame",
    "decode_banner_payload",
    "decode_banner_prefix",
    "decode_frame",
    "encode_banner",
    "frame_spec",
    "tag_name",
]
