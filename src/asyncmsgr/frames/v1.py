"""msgr v1 ("ceph v027") codecs: banner, address exchange, connect, tags, items.

Connection sequence (wire-protocol.md §4.1): the client sends the 9-byte banner;
the server answers banner + its legacy address + the client's address as seen
(281 bytes); the client sends its legacy address, then ``ceph_msg_connect`` (33
bytes) + authorizer; the server answers ``ceph_msg_connect_reply`` (26 bytes) +
authorizer reply, repeated until READY or SEQ (SEQ: the server sends a u64, the
client answers a u64). Then both sides exchange tagged items: MSG (header 53 +
front + middle + data + footer 21, or the 13-byte old footer when the peer lacks
MSG_AUTH), ACK + u64, KEEPALIVE, KEEPALIVE2 / KEEPALIVE2_ACK + timespec, CLOSE.

:class:`V1ItemReader` decodes the item stream incrementally; the header crc is
checked before its lengths are used, and every length is checked against its
cap before anything is allocated.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from asyncmsgr.errors import BannerMismatch, DecodeError, EncodeError, FrameTooLarge, UnknownTag
from asyncmsgr.frames.assembler import FrameLimits
from asyncmsgr.message import (
    MSG_FOOTER_LEN,
    MSG_HEADER_LEN,
    MSG_OLD_FOOTER_LEN,
    MsgFooter,
    MsgHeader,
)
from asyncmsgr.types import Buffer, EntityAddr, UTime
from asyncmsgr.wire.buffer import Reader, Writer, as_view
from asyncmsgr.wire.codecs import LEGACY_ADDR_LEN, encode_legacy_addr, pull_legacy_addr

BANNER = b"ceph v027"
BANNER_LEN = len(BANNER)
SERVER_HELLO_LEN = BANNER_LEN + 2 * LEGACY_ADDR_LEN  # 281
MSGR2_BANNER_PREFIX = b"ceph v2\n"

#: ``CEPH_MSG_CONNECT_LOSSY``
CONNECT_LOSSY = 1

#: Protocol versions carried in ceph_msg_connect (``CEPH_*_PROTOCOL``).
CEPH_OSD_PROTOCOL = 10
CEPH_MDS_PROTOCOL = 12
CEPH_MON_PROTOCOL = 13
CEPH_OSDC_PROTOCOL = 24
CEPH_MDSC_PROTOCOL = 32
CEPH_MONC_PROTOCOL = 15

#: authorizer_protocol values (``CEPH_AUTH_*``)
CEPH_AUTH_UNKNOWN = 0
CEPH_AUTH_NONE = 1
CEPH_AUTH_CEPHX = 2


class V1Tag(IntEnum):
    """``CEPH_MSGR_TAG_*``."""

    READY = 1
    RESETSESSION = 2
    WAIT = 3
    RETRY_SESSION = 4
    RETRY_GLOBAL = 5
    CLOSE = 6
    MSG = 7
    ACK = 8
    KEEPALIVE = 9
    BADPROTOVER = 10
    BADAUTHORIZER = 11
    FEATURES = 12
    SEQ = 13
    KEEPALIVE2 = 14
    KEEPALIVE2_ACK = 15
    CHALLENGE_AUTHORIZER = 16


def v1_tag_name(tag: int) -> str:
    """Name of a v1 tag (``UNKNOWN_<n>`` when undefined)."""
    try:
        return V1Tag(tag).name
    except ValueError:
        return f"UNKNOWN_{tag}"


# -- banner and address exchange -------------------------------------------------------


def check_banner(data: Buffer) -> None:
    """Raise BannerMismatch unless ``data`` starts with ``ceph v027``."""
    raw = bytes(data[:BANNER_LEN])
    if raw == BANNER:
        return
    if raw.startswith(MSGR2_BANNER_PREFIX):
        raise BannerMismatch("peer speaks msgr2 (banner 'ceph v2'), not msgr v1")
    raise BannerMismatch(f"bad banner {raw!r}: not a Ceph msgr v1 peer")


def encode_server_hello(my_addr: EntityAddr, peer_addr: EntityAddr) -> bytes:
    """Banner + my legacy address + the peer's address as I see it (281 bytes)."""
    return BANNER + encode_legacy_addr(my_addr) + encode_legacy_addr(peer_addr)


def decode_server_hello(data: Buffer) -> tuple[EntityAddr, EntityAddr]:
    """(server address, our address as the server sees it) from 281 bytes."""
    check_banner(data)
    if len(data) < SERVER_HELLO_LEN:
        raise DecodeError(f"msgr v1 server hello needs {SERVER_HELLO_LEN} bytes")
    r = Reader(data, BANNER_LEN, SERVER_HELLO_LEN)
    server = pull_legacy_addr(r)
    return server, pull_legacy_addr(r)


def decode_legacy_addr(data: Buffer) -> EntityAddr:
    """One 136-byte legacy address (the client's address after the banner)."""
    return pull_legacy_addr(Reader(data, 0, LEGACY_ADDR_LEN))


# -- connect / reply -------------------------------------------------------------------

_CONNECT = struct.Struct("<QIIIIIIB")
_REPLY = struct.Struct("<BQIIIIB")
CONNECT_LEN = _CONNECT.size  # 33
CONNECT_REPLY_LEN = _REPLY.size  # 26
_U64 = struct.Struct("<Q")
_TIMESPEC = struct.Struct("<II")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectMsg:
    """``ceph_msg_connect`` (33 bytes); the authorizer follows it on the wire."""

    features: int
    host_type: int
    global_seq: int
    connect_seq: int
    protocol_version: int
    authorizer_protocol: int = CEPH_AUTH_UNKNOWN
    authorizer_len: int = 0
    flags: int = 0

    def encode(self) -> bytes:
        """The 33 bytes."""
        try:
            return _CONNECT.pack(self.features, self.host_type, self.global_seq,
                                 self.connect_seq, self.protocol_version,
                                 self.authorizer_protocol, self.authorizer_len, self.flags)
        except struct.error as exc:
            raise EncodeError(f"ceph_msg_connect field out of range: {exc}") from exc

    @classmethod
    def decode(cls, data: Buffer) -> ConnectMsg:
        """Parse 33 bytes."""
        if len(data) < CONNECT_LEN:
            raise DecodeError(f"ceph_msg_connect needs {CONNECT_LEN} bytes")
        f, ht, gs, cs, pv, ap, al, fl = _CONNECT.unpack_from(data, 0)
        return cls(features=f, host_type=ht, global_seq=gs, connect_seq=cs,
                   protocol_version=pv, authorizer_protocol=ap, authorizer_len=al, flags=fl)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectReply:
    """``ceph_msg_connect_reply`` (26 bytes); the authorizer reply follows it."""

    tag: int
    features: int
    global_seq: int
    connect_seq: int
    protocol_version: int
    authorizer_len: int = 0
    flags: int = 0

    def encode(self) -> bytes:
        """The 26 bytes."""
        try:
            return _REPLY.pack(self.tag, self.features, self.global_seq, self.connect_seq,
                               self.protocol_version, self.authorizer_len, self.flags)
        except struct.error as exc:
            raise EncodeError(f"ceph_msg_connect_reply field out of range: {exc}") from exc

    @classmethod
    def decode(cls, data: Buffer) -> ConnectReply:
        """Parse 26 bytes."""
        if len(data) < CONNECT_REPLY_LEN:
            raise DecodeError(f"ceph_msg_connect_reply needs {CONNECT_REPLY_LEN} bytes")
        tag, f, gs, cs, pv, al, fl = _REPLY.unpack_from(data, 0)
        return cls(tag=tag, features=f, global_seq=gs, connect_seq=cs,
                   protocol_version=pv, authorizer_len=al, flags=fl)


def encode_seq(seq: int) -> bytes:
    """The u64 exchanged after a SEQ reply."""
    return _U64.pack(seq)


def decode_seq(data: Buffer) -> int:
    """The u64 exchanged after a SEQ reply."""
    if len(data) < 8:
        raise DecodeError("seq exchange needs 8 bytes")
    v: int = _U64.unpack_from(data, 0)[0]
    return v


# -- items -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MsgItem:
    """TAG_MSG: a message with its v1 header and footer (payloads are views)."""

    header: MsgHeader
    front: Buffer
    middle: Buffer
    data: Buffer
    footer: MsgFooter


@dataclass(frozen=True, slots=True, kw_only=True)
class AckItem:
    """TAG_ACK + le64 seq."""

    seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class KeepaliveItem:
    """TAG_KEEPALIVE (no payload)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Keepalive2Item:
    """TAG_KEEPALIVE2 + ceph_timespec."""

    timestamp: UTime


@dataclass(frozen=True, slots=True, kw_only=True)
class Keepalive2AckItem:
    """TAG_KEEPALIVE2_ACK + the echoed ceph_timespec."""

    timestamp: UTime


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseItem:
    """TAG_CLOSE."""


Item = MsgItem | AckItem | KeepaliveItem | Keepalive2Item | Keepalive2AckItem | CloseItem


def encode_item(item: Item, *, old_footer: bool = False) -> list[Buffer]:
    """Chunks of one item; message payloads are passed through without copies."""
    if isinstance(item, MsgItem):
        out: list[Buffer] = [bytes([V1Tag.MSG]) + item.header.encode()]
        out.extend(b for b in (item.front, item.middle, item.data) if len(b))
        out.append(item.footer.encode(old=old_footer))
        return out
    if isinstance(item, AckItem):
        return [bytes([V1Tag.ACK]) + _U64.pack(item.seq)]
    if isinstance(item, KeepaliveItem):
        return [bytes([V1Tag.KEEPALIVE])]
    if isinstance(item, Keepalive2Item):
        return [bytes([V1Tag.KEEPALIVE2])
                + _TIMESPEC.pack(item.timestamp.sec, item.timestamp.nsec)]
    if isinstance(item, Keepalive2AckItem):
        return [bytes([V1Tag.KEEPALIVE2_ACK])
                + _TIMESPEC.pack(item.timestamp.sec, item.timestamp.nsec)]
    return [bytes([V1Tag.CLOSE])]


def encode_connect(connect: ConnectMsg, authorizer: Buffer = b"") -> bytes:
    """ceph_msg_connect + authorizer (authorizer_len must match)."""
    if connect.authorizer_len != len(authorizer):
        raise EncodeError("authorizer_len does not match the authorizer")
    return connect.encode() + bytes(authorizer)


class V1ItemReader:
    """Incremental decoder of the item stream that follows the v1 handshake.

    ``old_footer`` is True when the peer lacks MSG_AUTH (13-byte footers).
    ``feed`` bytes, then call :meth:`next_item` until it returns None. For MSG
    items the header crc is verified (when ``check_header_crc``) before its
    lengths are trusted, and each length is capped by ``limits``. Footer crcs are
    not checked here (``decode_message`` does, after the optional signature
    check). ``raw_len`` of the last item is available for byte counters.
    """

    __slots__ = ("_buf", "check_header_crc", "last_raw", "limits", "old_footer")

    def __init__(self, *, old_footer: bool = False, limits: FrameLimits | None = None,
                 check_header_crc: bool = True) -> None:
        self._buf = bytearray()
        self.old_footer = old_footer
        self.limits = limits if limits is not None else FrameLimits()
        self.check_header_crc = check_header_crc
        self.last_raw = b""

    @property
    def buffered(self) -> int:
        """Bytes received and not yet consumed."""
        return len(self._buf)

    def feed(self, data: Buffer) -> None:
        """Append received bytes."""
        self._buf += data

    def next_item(self) -> Item | None:
        """The next complete item or None; raises UnknownTag/BadMessageCrc/FrameTooLarge."""
        buf = self._buf
        if not buf:
            return None
        tag = buf[0]
        if tag == V1Tag.MSG:
            return self._msg()
        size = _FIXED_ITEM_SIZES.get(tag)
        if size is None:
            raise UnknownTag(f"unexpected msgr v1 tag {tag} ({v1_tag_name(tag)})")
        if len(buf) < size:
            return None
        raw = bytes(buf[:size])
        del buf[:size]
        self.last_raw = raw
        if tag == V1Tag.ACK:
            return AckItem(seq=_U64.unpack_from(raw, 1)[0])
        if tag == V1Tag.KEEPALIVE:
            return KeepaliveItem()
        if tag == V1Tag.CLOSE:
            return CloseItem()
        sec, nsec = _TIMESPEC.unpack_from(raw, 1)
        if tag == V1Tag.KEEPALIVE2:
            return Keepalive2Item(timestamp=UTime(sec, nsec))
        return Keepalive2AckItem(timestamp=UTime(sec, nsec))

    def _msg(self) -> MsgItem | None:
        buf = self._buf
        if len(buf) < 1 + MSG_HEADER_LEN:
            return None
        header = MsgHeader.decode(memoryview(buf)[1 : 1 + MSG_HEADER_LEN],
                                  check_crc=self.check_header_crc)
        lim = self.limits
        for name, length, cap in (("front", header.front_len, lim.front),
                                  ("middle", header.middle_len, lim.middle),
                                  ("data", header.data_len, lim.data)):
            if length > cap:
                raise FrameTooLarge(f"msgr v1 {name} of {length} bytes exceeds cap {cap}")
        footer_len = MSG_OLD_FOOTER_LEN if self.old_footer else MSG_FOOTER_LEN
        body = header.front_len + header.middle_len + header.data_len
        total = 1 + MSG_HEADER_LEN + body + footer_len
        if len(buf) < total:
            return None
        raw = bytes(buf[:total])
        del buf[:total]
        self.last_raw = raw
        mv = as_view(raw)
        pos = 1 + MSG_HEADER_LEN
        front = mv[pos : pos + header.front_len]
        pos += header.front_len
        middle = mv[pos : pos + header.middle_len]
        pos += header.middle_len
        data = mv[pos : pos + header.data_len]
        pos += header.data_len
        footer = MsgFooter.decode(mv[pos:], old=self.old_footer)
        return MsgItem(header=header, front=front, middle=middle, data=data, footer=footer)


_FIXED_ITEM_SIZES: dict[int, int] = {
    V1Tag.ACK: 9,
    V1Tag.KEEPALIVE: 1,
    V1Tag.KEEPALIVE2: 9,
    V1Tag.KEEPALIVE2_ACK: 9,
    V1Tag.CLOSE: 1,
}


def encode_addr_and_connect(my_addr: EntityAddr, connect: ConnectMsg,
                            authorizer: Buffer = b"") -> bytes:
    """What a client sends after reading the server hello: address + connect."""
    w = Writer()
    w.push_bytes(encode_legacy_addr(my_addr))
    w.push_bytes(encode_connect(connect, authorizer))
    return w.getvalue()


__all__ = [
    "BANNER",
    "BANNER_LEN",
    "CEPH_AUTH_CEPHX",
    "CEPH_AUTH_NONE",
    "CEPH_AUTH_UNKNOWN",
    "CEPH_MDSC_PROTOCOL",
    "CEPH_MDS_PROTOCOL",
    "CEPH_MONC_PROTOCOL",
    "CEPH_MON_PROTOCOL",
    "CEPH_OSDC_PROTOCOL",
    "CEPH_OSD_PROTOCOL",
    "CONNECT_LEN",
    "CONNECT_LOSSY",
    "CONNECT_REPLY_LEN",
    "SERVER_HELLO_LEN",
    "AckItem",
    "CloseItem",
    "ConnectMsg",
    "ConnectReply",
    "Item",
    "Keepalive2AckItem",
    "Keepalive2Item",
    "KeepaliveItem",
    "MsgItem",
    "V1ItemReader",
    "V1Tag",
    "check_banner",
    "decode_legacy_addr",
    "decode_seq",
    "decode_server_hello",
    "encode_addr_and_connect",
    "encode_connect",
    "encode_item",
    "encode_seq",
    "encode_server_hello",
    "v1_tag_name",
]
