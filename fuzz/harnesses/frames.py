"""Frame readers: msgr2 (banner, preamble, segments, rev0/rev1 crc, secure GCM)
and msgr v1 (banner, server hello, connect / connect_reply, items with header and
footer).

The msgr2 harness builds frames from the input with a :class:`FrameAssembler`
(valid crcs, valid GCM tags), may corrupt them at input-chosen offsets, and reads
them back through :class:`FrameReader` fed in input-chosen chunks; every frame
that survives is decoded (control frames by ``decode_frame``, MESSAGE frames by
``decode_message``). The v1 harness does the same for the item stream (header
and footer crcs and the cephx signature recomputed unless told not to).
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterable, Iterator

from asyncmsgr.crypto.onwire import GcmRx, GcmTx
from asyncmsgr.errors import EncodeError, RemoteProtocolError
from asyncmsgr.frames import v1
from asyncmsgr.frames.assembler import FrameAssembler, FrameLimits, FrameReader
from asyncmsgr.frames.v2 import (
    BANNER_PREFIX_LEN,
    Tag,
    decode_banner_payload,
    decode_banner_prefix,
    decode_frame,
    encode_banner,
)
from asyncmsgr.message import (
    MSG_HEADER2_LEN,
    MsgHeader2,
    check_footer_crcs,
    decode_message,
)
from asyncmsgr.types import EntityName
from asyncmsgr.wire.crc32c import ceph_crc32c

from .common import Cursor, Harness, check_typed_cause, register
from .samples import clear_frames, v1_streams, v2_streams

#: Frames per input (bounded work).
MAX_OPS = 24
_KEY = bytes(range(16))
_NONCE = bytes(range(100, 112))
#: Small caps, so FrameTooLarge is reachable and nothing big is buffered.
_LIMITS = FrameLimits(control=8192, front=8192, middle=4096, data=16384)
_MODES = ((True, False), (False, False), (True, True), (False, True))  # (rev1, secure)
_SRC = EntityName(4, 4100)


def _decode_frame_body(tag: int, segments: tuple[memoryview, ...]) -> None:
    """What a protocol machine does with a read frame (typed errors swallowed)."""
    try:
        if tag == Tag.MESSAGE:
            h2 = MsgHeader2.decode(segments[0])
            front, middle, data = (segments[i] if i < len(segments) else b""
                                   for i in (1, 2, 3))
            header = h2.to_legacy(_SRC, len(front), len(middle), len(data))
            decode_message(header, front, middle, data)
        else:
            decode_frame(tag, segments)
    except RemoteProtocolError as exc:
        check_typed_cause(exc)


def v2_frames_target(data: bytes) -> None:
    """msgr2 frame reader: banner, then built (and maybe corrupted) frames."""
    c = Cursor(data)
    rev1, secure = _MODES[c.below(4)]
    chunk = c.u8()
    banner = c.take(BANNER_PREFIX_LEN + 16)
    try:
        plen = decode_banner_prefix(banner)
        decode_banner_payload(banner[BANNER_PREFIX_LEN : BANNER_PREFIX_LEN + plen])
    except RemoteProtocolError:
        pass
    tx = FrameAssembler(rev1=rev1, tx=GcmTx(_KEY, _NONCE, rev1=rev1) if secure else None)
    wire = bytearray()
    for _ in range(MAX_OPS):
        if not c.remaining:
            break
        kind = c.below(5)
        if kind == 0:  # control frame, 1..4 segments
            tag = c.u8()
            nseg = c.below(4) + 1
            segs = [c.blob(2048) for _ in range(nseg)]
            with contextlib.suppress(EncodeError):
                wire += b"".join(bytes(x) for x in tx.assemble(tag, segs))
        elif kind == 1:  # MESSAGE frame
            header2 = c.take(MSG_HEADER2_LEN)
            front, middle, payload = c.blob(4096), c.blob(1024), c.blob(4096)
            wire += b"".join(bytes(x) for x in tx.assemble_message(header2, front, middle,
                                                                   payload))
        elif kind == 2 and wire:  # corrupt one byte of what was built so far
            at = c.u16() % len(wire)
            wire[at] ^= c.u8() or 1
        elif kind == 3:  # raw bytes (unauthenticated garbage)
            wire += c.blob(256)
        else:  # a frame the sender aborted (rev1 crc: late status)
            tag = c.u8() % 32
            segs = [c.blob(512), c.blob(512)]
            try:
                chunks = [bytes(x) for x in tx.assemble(tag, segs)]
            except EncodeError:
                continue
            raw = bytearray(b"".join(chunks))
            if not secure and rev1 and len(raw) > 13:
                raw[-13] = c.u8()  # the late status byte of the epilogue
            wire += raw
    _read_v2(bytes(wire), rev1, secure, chunk)


def _read_v2(wire: bytes, rev1: bool, secure: bool, chunk: int) -> None:
    rx = FrameAssembler(rev1=rev1, limits=_LIMITS,
                        rx=GcmRx(_KEY, _NONCE, rev1=rev1) if secure else None)
    reader = FrameReader(rx)
    step = chunk or len(wire) or 1
    for i in range(0, len(wire), step):
        reader.feed(wire[i : i + step])
        while True:
            frame = reader.next_frame()  # framing errors end the stream (a fault)
            if frame is None:
                break
            if frame.segments is not None:
                _decode_frame_body(frame.tag, frame.segments)


def encode_v2_seed(frames: Iterable[tuple[int, tuple[bytes, ...]]], *, mode: int = 0,
                   chunk: int = 0, banner: bytes = b"") -> bytes:
    """An input for :func:`v2_frames_target` building ``frames`` (tag, segments)."""
    out = bytearray([mode, chunk])
    out += banner.ljust(BANNER_PREFIX_LEN + 16, b"\0")[: BANNER_PREFIX_LEN + 16]
    for tag, segs in frames:
        if tag == Tag.MESSAGE and len(segs[0]) == MSG_HEADER2_LEN:
            rest = (*segs[1:], b"", b"", b"")
            out += bytes([1]) + segs[0]
            for s, cap in zip(rest[:3], (4096, 1024, 4096), strict=True):
                out += _blob(s[:cap])
            continue
        some = segs[:4]
        out += bytes([0, tag, len(some) - 1])
        for s in some:
            out += _blob(s[:2048])
    return bytes(out)


def _blob(b: bytes) -> bytes:
    return struct.pack("<H", len(b)) + b


def _v2_seeds() -> Iterator[bytes]:
    for i, (c2s, s2c) in enumerate(v2_streams()):
        for stream in (c2s, s2c):
            frames = [(f.tag, f.segments) for f in clear_frames(stream)]
            if not frames:
                continue
            for start in range(0, len(frames), 8):
                part = frames[start : start + 8]
                yield encode_v2_seed(part, mode=(i + start) % 4, chunk=(7 * i) % 64,
                                     banner=encode_banner())


register(Harness(
    name="frames_v2",
    target=v2_frames_target,
    seeds=_v2_seeds,
    max_len=16384,
    doc="msgr2 banner and frame reader: preamble, segments, rev0/rev1 crc, secure GCM",
))


# -- msgr v1 ---------------------------------------------------------------------------


_M = 0xFFFFFFFF
_HEAD = struct.Struct("<QQHHHIIIHBqHH")
_FOOTER = struct.Struct("<IIIQB")
_OLD_FOOTER = struct.Struct("<IIIB")
#: Bytes of each fixed-size v1 item, tag included.
_ITEM_SIZES: dict[int, int] = {v1.V1Tag.ACK: 9, v1.V1Tag.KEEPALIVE: 1, v1.V1Tag.KEEPALIVE2: 9,
               v1.V1Tag.KEEPALIVE2_ACK: 9, v1.V1Tag.CLOSE: 1}


def v1_readers_target(data: bytes) -> None:
    """msgr v1: the handshake decoders, then the item stream."""
    c = Cursor(data)
    what = c.below(4)
    if what == 0:  # banner + server hello (as a client reads them)
        raw = c.take(v1.SERVER_HELLO_LEN)
        v1.check_banner(raw[: v1.BANNER_LEN])
        v1.decode_server_hello(raw[v1.BANNER_LEN :])
        v1.decode_legacy_addr(c.take(136))
        return
    if what == 1:  # connect and connect_reply (as both sides read them)
        v1.ConnectMsg.decode(c.take(v1.CONNECT_LEN))
        v1.ConnectReply.decode(c.take(v1.CONNECT_REPLY_LEN))
        v1.decode_seq(c.take(8))
        return
    _items(c, fix=what == 2)


def _items(c: Cursor, *, fix: bool) -> None:
    """The item stream; with ``fix`` every MSG gets valid header and footer crcs."""
    old_footer = c.flag()
    chunk = c.u8()
    wire = bytearray()
    for _ in range(MAX_OPS):
        if not c.remaining:
            break
        kind = c.below(3)
        if kind == 0:  # a message item
            head = bytearray(c.take(_HEAD.size).ljust(_HEAD.size, b"\0"))
            front, middle, payload = c.blob(4096), c.blob(1024), c.blob(4096)
            flags = c.u8()
            if fix:  # the lengths the body really has, and the crcs
                struct.pack_into("<III", head, 22, len(front), len(middle), len(payload))
            hcrc = ceph_crc32c(0, bytes(head)) if fix else c.u32()
            fc = ceph_crc32c(0, front) if front else 0
            mc = ceph_crc32c(0, middle) if middle else 0
            dc = ceph_crc32c(0, payload) if payload else 0
            if not fix:
                fc, mc, dc = c.u32(), c.u32(), c.u32()
            footer = (_OLD_FOOTER.pack(fc, mc, dc, flags) if old_footer
                      else _FOOTER.pack(fc, mc, dc, c.u64(), flags))
            wire += bytes([v1.V1Tag.MSG]) + head + struct.pack("<I", hcrc)
            wire += front + middle + payload + footer
        elif kind == 1:  # a control item (or any tag)
            tag = c.u8()
            wire += bytes([tag]) + c.take(_ITEM_SIZES.get(tag, 9) - 1)
        else:
            wire += c.blob(64)
    reader = v1.V1ItemReader(old_footer=old_footer, limits=_LIMITS)
    step = chunk or len(wire) or 1
    for i in range(0, len(wire), step):
        reader.feed(wire[i : i + step])
        while True:
            item = reader.next_item()
            if item is None:
                break
            if isinstance(item, v1.MsgItem):
                try:
                    check_footer_crcs(item.footer, item.front, item.middle, item.data, 3)
                    decode_message(item.header, item.front, item.middle, item.data)
                except RemoteProtocolError as exc:
                    check_typed_cause(exc)


def _v1_item_seed(stream: bytes, *, fix: bool) -> bytes | None:
    """Turn the items of a captured v1 stream (after the handshake) into an input."""
    out = bytearray([2 if fix else 3, 0, 0])
    reader = v1.V1ItemReader(limits=FrameLimits())
    # the handshake is variable; look for the first message item
    start = stream.find(bytes([v1.V1Tag.MSG]), 9 + 2 * 136)
    while start >= 0:
        reader = v1.V1ItemReader(limits=FrameLimits())
        reader.feed(stream[start:])
        try:
            item = reader.next_item()
        except RemoteProtocolError:
            item = None
        if isinstance(item, v1.MsgItem):
            break
        start = stream.find(bytes([v1.V1Tag.MSG]), start + 1)
    if start < 0:
        return None
    n = 0
    while n < 8:
        try:
            item = reader.next_item()
        except RemoteProtocolError:
            break
        if item is None:
            break
        n += 1
        if isinstance(item, v1.MsgItem):
            h = item.header
            head = _HEAD.pack(h.seq, h.tid, h.type, h.priority, h.version, h.front_len,
                              h.middle_len, h.data_len, h.data_off, h.src.type, h.src.num,
                              h.compat_version, h.reserved)
            out += bytes([0]) + head
            for part, cap in ((item.front, 4096), (item.middle, 1024), (item.data, 4096)):
                out += _blob(bytes(part)[:cap])
            out += bytes([item.footer.flags])
            if not fix:
                f = item.footer
                out += struct.pack("<IIII", h.crc, f.front_crc, f.middle_crc, f.data_crc)
            out += struct.pack("<Q", item.footer.sig)
        else:
            out += bytes([1]) + reader.last_raw
    return bytes(out)


def _v1_seeds() -> Iterator[bytes]:
    for c2s, s2c in v1_streams():
        for stream in (c2s, s2c):
            yield bytes([0]) + stream[: v1.SERVER_HELLO_LEN + 136]
            for fix in (True, False):
                seed = _v1_item_seed(stream, fix=fix)
                if seed is not None:
                    yield seed
        connect = c2s[v1.BANNER_LEN + 136 :][: v1.CONNECT_LEN]
        reply = s2c[v1.SERVER_HELLO_LEN :][: v1.CONNECT_REPLY_LEN]
        yield bytes([1]) + connect + reply + bytes(8)


register(Harness(
    name="frames_v1",
    target=v1_readers_target,
    seeds=_v1_seeds,
    max_len=16384,
    doc="msgr v1 banner, server hello, connect/connect_reply, items (header, footer, crcs)",
))
