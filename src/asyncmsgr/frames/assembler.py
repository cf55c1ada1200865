"""msgr2 frame assembly and disassembly: rev0/rev1 x crc/secure.

Layouts (wire-protocol.md §5.2, Ceph ``frames_v2.cc``); ``L[i]`` are the segment
lengths, ``P[i]`` the lengths padded to 16, ``n`` the number of segments (trailing
empty segments are dropped, at least one remains):

=============  ================================================================
rev1 crc       preamble(32); seg0 + le32 crc (only if L0 > 0); seg1..; epilogue
               (13: late_status + 3 crcs) only if n > 1
rev0 crc       preamble(32); seg0..seg3; epilogue (17: late_flags + 4 crcs)
rev1 secure    GCM[preamble + first 48 bytes of seg0, padded] (96 with tag);
               GCM[rest of seg0] if P0 > 48; GCM[seg1.. padded + epilogue(16)]
               if n > 1
rev0 secure    one GCM message over preamble + padded segments + epilogue(16)
=============  ================================================================

Preamble crcs use seed 0, segment crcs seed 0xFFFFFFFF (an empty segment inside
``n`` has crc 0xFFFFFFFF). Receiving is three calls: :meth:`disassemble_preamble`
on :attr:`preamble_onwire_len` bytes (preamble crc, segment count, tag and
per-segment caps are all checked here, before anything is allocated for the
body), then :meth:`body_onwire_len` to learn how many bytes follow, then
:meth:`disassemble_segments` on exactly those bytes. Output chunks of
:meth:`assemble` are suitable for ``writelines``/``sendmsg``: big segments are
passed through without being copied in crc mode.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import NamedTuple

from asyncmsgr.crypto.onwire import GCM_TAG_LEN, GcmRx, GcmTx
from asyncmsgr.errors import (
    BadFrameStructure,
    BadPreambleCrc,
    BadSegmentCrc,
    DecodeError,
    EncodeError,
    FrameTooLarge,
    UnknownTag,
)
from asyncmsgr.frames.v2 import DEFAULT_ALIGNMENT, Tag
from asyncmsgr.message import HEADER2_STRUCT, MSG_HEADER2_LEN, MsgHeader2
from asyncmsgr.record import Record
from asyncmsgr.types import Buffer
from asyncmsgr.wire.buffer import as_view
from asyncmsgr.wire.crc32c import SEGMENT_SEED, ceph_crc32c, crc32c_std

MAX_NUM_SEGMENTS = 4
PREAMBLE_LEN = 32
PREAMBLE_CRC_OFFSET = 28
INLINE_LEN = 48  # FRAME_PREAMBLE_INLINE_SIZE
CRC_LEN = 4
CRYPTO_BLOCK = 16
EPILOGUE_CRC_REV0_LEN = 17
EPILOGUE_CRC_REV1_LEN = 13
EPILOGUE_SECURE_LEN = 16
SECURE_PREAMBLE_REV1_LEN = PREAMBLE_LEN + INLINE_LEN + GCM_TAG_LEN  # 96

LATE_STATUS_COMPLETE = 0x0E
LATE_STATUS_ABORTED = 0x01
LATE_STATUS_MASK = 0x0F
LATE_FLAG_ABORTED = 0x01  # rev0

_PREAMBLE = struct.Struct("<BBIHIHIHIHBBI")
_U32 = struct.Struct("<I")
_EPI_REV1 = struct.Struct("<BIII")
_EPI_REV0 = struct.Struct("<BIIII")
_ZERO48 = bytes(INLINE_LEN)
_EPI_SECURE = bytes([LATE_STATUS_COMPLETE]) + bytes(EPILOGUE_SECURE_LEN - 1)
_EPI_SECURE_REV0 = bytes(EPILOGUE_SECURE_LEN)
_FIRST_TAG = 1
_LAST_TAG = max(Tag)
_TAG_MESSAGE = int(Tag.MESSAGE)  # enum members are looked up through a descriptor
_M = 0xFFFFFFFF
_std = crc32c_std
_PRE28 = struct.Struct("<BBIHIHIHIHBB")
#: Alignment entries of a MESSAGE preamble by segment count (beyond it: zero).
_MSG_ALIGNS = {1: (8, 0, 0, 0), 2: (8, 8, 0, 0), 3: (8, 8, 8, 0), 4: (8, 8, 8, 4096)}
#: Memo caches of preambles are bounded; cleared when full.
_CACHE_MAX = 512
_EMPTY_VIEW = memoryview(b"")
_tuple_new = tuple.__new__

KiB = 1024
MiB = 1024 * KiB


_set = object.__setattr__  # what a frozen class's __init__ assigns with


def padded_len(n: int) -> int:
    """``n`` rounded up to the 16-byte cipher block."""
    return (n + CRYPTO_BLOCK - 1) & ~(CRYPTO_BLOCK - 1)


class FrameLimits(Record):
    """Caps on segment lengths, checked on the preamble before any allocation.

    The defaults are the kernel client's caps (control, front and middle
    16 MiB, data 64 MiB). :meth:`pre_auth` is the much smaller set used until
    authentication completes.
    """

    control: int
    """Any segment of a control frame (and MESSAGE segment 0)."""
    front: int
    """MESSAGE front."""
    middle: int
    """MESSAGE middle."""
    data: int
    """MESSAGE data."""

    __slots__ = ("control", "data", "front", "middle")

    def __init__(self, *, control: int = 16 * MiB, front: int = 16 * MiB,
                 middle: int = 16 * MiB, data: int = 64 * MiB) -> None:
        _set(self, "control", control)
        _set(self, "front", front)
        _set(self, "middle", middle)
        _set(self, "data", data)

    @classmethod
    def pre_auth(cls, cap: int = 64 * KiB) -> FrameLimits:
        """Limits for frames received before authentication completes."""
        return cls(control=cap, front=cap, middle=cap, data=cap)

    def cap(self, tag: int, index: int) -> int:
        """The cap of segment ``index`` of a frame with ``tag``."""
        if tag == Tag.MESSAGE:
            return (self.control, self.front, self.middle, self.data)[index]
        return self.control


class Preamble(NamedTuple):
    """A verified preamble.

    ``inline`` is the decrypted start of seg0 (rev1 secure); ``body_len`` is the
    number of bytes that follow the preamble on the wire. A NamedTuple, not a
    frozen dataclass: one is built per received frame.
    """

    tag: int
    lengths: tuple[int, ...]
    alignments: tuple[int, ...]
    flags: int = 0
    inline: bytes = b""
    body_len: int = 0
    payload_len: int = 0
    """Segments 1.. together (a MESSAGE's front + middle + data: what throttles count)."""

    @property
    def num_segments(self) -> int:
        """Segments in the frame (1..4)."""
        return len(self.lengths)


def _odd_view(b: Buffer) -> bool:
    """True for a memoryview whose items are not bytes (len() is not its size)."""
    return isinstance(b, memoryview) and b.itemsize != 1


def _last_nonempty(segments: Sequence[Buffer]) -> int:
    for i in range(len(segments) - 1, -1, -1):
        if len(segments[i]):
            return i + 1
    return 1


class FrameAssembler:
    """Per-connection msgr2 frame codec.

    ``rev1`` selects msgr2.1 (set from the peer banner). Secure mode is on in a
    direction once :meth:`set_tx` / :meth:`set_rx` installed a GCM handler
    (right after AUTH_DONE). ``limits`` may be replaced when authentication ends.

    Crc-mode preambles are memoised (a pure function of the 32 bytes and the
    limits), which takes most of the per-frame cost off streams of same-sized
    messages.
    """

    __slots__ = ("_limits", "_msg_caps", "_rev1", "_rx_cache", "_tx_cache", "rx", "tx")
    _rx_cache: dict[bytes, Preamble]
    """Crc-mode preambles by their 32 bytes; reset whenever the limits or rx change."""

    def __init__(self, *, rev1: bool = True, limits: FrameLimits | None = None,
                 tx: GcmTx | None = None, rx: GcmRx | None = None) -> None:
        self.tx = tx
        self.rx = rx
        self._tx_cache: dict[tuple[int, int, int], bytes] = {}
        self._rev1 = rev1
        self.limits = limits if limits is not None else FrameLimits()  # sets _rx_cache

    @property
    def rev1(self) -> bool:
        """msgr2.1 framing (else msgr2.0)."""
        return self._rev1

    @rev1.setter
    def rev1(self, rev1: bool) -> None:
        self._rev1 = rev1
        self._rx_cache = {}

    @property
    def limits(self) -> FrameLimits:
        """Segment caps applied to received preambles."""
        return self._limits

    @limits.setter
    def limits(self, limits: FrameLimits) -> None:
        self._limits = limits
        self._msg_caps = (limits.control, limits.front, limits.middle, limits.data)
        self._rx_cache = {}

    def set_tx(self, tx: GcmTx | None) -> None:
        """Encrypt frames sent from now on (None: back to crc mode)."""
        self.tx = tx

    def set_rx(self, rx: GcmRx | None) -> None:
        """Decrypt frames received from now on."""
        self.rx = rx
        self._rx_cache = {}

    # -- sending -----------------------------------------------------------------------

    def assemble(self, tag: int, segments: Sequence[Buffer],
                 alignments: Sequence[int] = (DEFAULT_ALIGNMENT,)) -> list[Buffer]:
        """Encode one frame as a list of chunks to write in order.

        ``segments`` holds 1..4 buffers; missing alignments default to 8.
        Raises NonceExhausted in secure mode when the counter would repeat.
        """
        if not 1 <= len(segments) <= MAX_NUM_SEGMENTS:
            raise EncodeError(f"a frame has 1..4 segments, got {len(segments)}")
        segments = [as_view(s) if isinstance(s, memoryview) else s for s in segments]
        n = _last_nonempty(segments)
        lens = [len(segments[i]) for i in range(n)]
        aligns = [alignments[i] if i < len(alignments) else DEFAULT_ALIGNMENT
                  for i in range(n)]
        preamble = self._preamble(tag, lens, aligns)
        if self.tx is None:
            if self.rev1:
                return self._crc_rev1(preamble, segments, lens, n)
            return self._crc_rev0(preamble, segments, n)
        if self.rev1:
            return self._secure_rev1(self.tx, preamble, segments, lens, n)
        return self._secure_rev0(self.tx, preamble, segments, lens, n)

    def assemble_message(self, header2: Buffer, front: Buffer = b"", middle: Buffer = b"",
                         data: Buffer = b"") -> list[Buffer]:
        """Encode a MESSAGE frame (``header2`` is the encoded 41-byte header).

        Same output as ``assemble(Tag.MESSAGE, ...)``; the msgr2.1 crc-mode case
        is the messenger's hot path and avoids every avoidable allocation.
        """
        if (self.tx is not None or not self._rev1 or not header2
                or (type(front) is not bytes and _odd_view(front))
                or (type(middle) is not bytes and _odd_view(middle))
                or (type(data) is not bytes and _odd_view(data))):
            return self.assemble(Tag.MESSAGE, (header2, front, middle, data),
                                 (8, 8, 8, 4096))
        lf, lm, ld = len(front), len(middle), len(data)
        key = (lf, lm, ld)
        pre = self._tx_cache.get(key)
        if pre is None:
            n = 4 if ld else 3 if lm else 2 if lf else 1
            al = _MSG_ALIGNS[n]
            try:
                pre28 = _PRE28.pack(Tag.MESSAGE, n, len(header2), al[0], lf, al[1], lm,
                                    al[2], ld, al[3], 0, 0)
            except struct.error as exc:
                raise EncodeError(f"frame field out of range: {exc}") from exc
            pre = pre28 + _U32.pack(_std(pre28, _M) ^ _M)
            if len(self._tx_cache) >= _CACHE_MAX:
                self._tx_cache.clear()
            self._tx_cache[key] = pre
        head = pre + header2 + _U32.pack(_std(header2) ^ _M)
        if not (lf or lm or ld):
            return [head]
        out: list[Buffer] = [head]
        cf = cm = cd = _M
        if lf:
            cf = _std(front) ^ _M
            out.append(front)
        if lm or ld:
            if lm:
                cm = _std(middle) ^ _M
                out.append(middle)
            if ld:
                cd = _std(data) ^ _M
                out.append(data)
            else:
                cd = 0
        else:
            cm = cd = 0
        out.append(_EPI_REV1.pack(LATE_STATUS_COMPLETE, cf, cm, cd))
        return out

    @staticmethod
    def _preamble(tag: int, lens: list[int], aligns: list[int]) -> bytearray:
        l4 = lens + [0] * (MAX_NUM_SEGMENTS - len(lens))
        a4 = aligns + [0] * (MAX_NUM_SEGMENTS - len(aligns))
        try:
            buf = bytearray(_PRE28.pack(tag, len(lens), l4[0], a4[0], l4[1], a4[1],
                                        l4[2], a4[2], l4[3], a4[3], 0, 0))
        except struct.error as exc:
            raise EncodeError(f"frame field out of range: {exc}") from exc
        buf += _U32.pack(ceph_crc32c(0, buf))
        return buf

    @staticmethod
    def _crc_rev1(preamble: bytearray, segs: Sequence[Buffer], lens: list[int],
                  n: int) -> list[Buffer]:
        out: list[Buffer]
        if lens[0]:
            crc0 = _U32.pack(ceph_crc32c(SEGMENT_SEED, segs[0]))
            if lens[0] <= 4096:
                preamble += segs[0]
                preamble += crc0
                out = [preamble]
            else:
                out = [preamble, segs[0], crc0]
        else:
            out = [preamble]
        if n == 1:
            return out
        crcs = [0, 0, 0]
        for i in range(1, n):
            seg = segs[i]
            crcs[i - 1] = ceph_crc32c(SEGMENT_SEED, seg)
            if lens[i]:
                out.append(seg)
        out.append(_EPI_REV1.pack(LATE_STATUS_COMPLETE, *crcs))
        return out

    @staticmethod
    def _crc_rev0(preamble: bytearray, segs: Sequence[Buffer], n: int) -> list[Buffer]:
        out: list[Buffer] = [preamble]
        crcs = [0, 0, 0, 0]
        for i in range(n):
            crcs[i] = ceph_crc32c(SEGMENT_SEED, segs[i])
            if len(segs[i]):
                out.append(segs[i])
        out.append(_EPI_REV0.pack(0, *crcs))
        return out

    @staticmethod
    def _secure_rev1(tx: GcmTx, preamble: bytearray, segs: Sequence[Buffer],
                     lens: list[int], n: int) -> list[Buffer]:
        seg0 = as_view(segs[0])
        p0 = padded_len(lens[0])
        first = preamble
        if p0 > INLINE_LEN:
            first += seg0[:INLINE_LEN]
        else:
            first += seg0
            first += _ZERO48[: INLINE_LEN - lens[0]]
        out: list[Buffer] = [tx.encrypt(first)]
        if p0 > INLINE_LEN:
            rest = bytearray(seg0[INLINE_LEN:])
            rest += bytes(p0 - lens[0])
            out.append(tx.encrypt(rest))
        if n > 1:
            # One zero-filled buffer (padding already zero), segments copied in
            # once, encrypted in place: the only copy of the data on the way out.
            total = sum(padded_len(lens[i]) for i in range(1, n)) + EPILOGUE_SECURE_LEN
            body = tx.scratch(total + GCM_TAG_LEN)
            pos = 0
            for i in range(1, n):
                end = pos + lens[i]
                body[pos:end] = segs[i]
                pos += padded_len(lens[i])
                body[end:pos] = _ZERO48[: pos - end]
            body[pos:pos + EPILOGUE_SECURE_LEN] = _EPI_SECURE
            out.append(tx.encrypt_in_place(body))
        return out

    @staticmethod
    def _secure_rev0(tx: GcmTx, preamble: bytearray, segs: Sequence[Buffer],
                     lens: list[int], n: int) -> list[Buffer]:
        body = preamble
        for i in range(n):
            body += segs[i]
            body += bytes(padded_len(lens[i]) - lens[i])
        body += _EPI_SECURE_REV0
        return [tx.encrypt(body)]

    # -- receiving ---------------------------------------------------------------------

    @property
    def preamble_onwire_len(self) -> int:
        """Bytes to read for :meth:`disassemble_preamble` (32, or 96 in rev1 secure)."""
        if self.rx is not None and self.rev1:
            return SECURE_PREAMBLE_REV1_LEN
        return PREAMBLE_LEN

    def disassemble_preamble(self, data: Buffer) -> Preamble:
        """Decrypt (secure) and verify a preamble; check counts, tag and caps.

        Raises BadPreambleCrc, BadFrameStructure, UnknownTag, FrameTooLarge or
        DecryptError. Nothing is allocated from the announced lengths.
        """
        if self.rx is None:
            if len(data) != PREAMBLE_LEN:
                raise DecodeError(f"preamble must be {PREAMBLE_LEN} bytes")
            key = bytes(data)
            hit = self._rx_cache.get(key)
            if hit is not None:
                return hit
            pre = self._parse_preamble(key, b"")
            if len(self._rx_cache) >= _CACHE_MAX:
                self._rx_cache.clear()
            self._rx_cache[key] = pre
            return pre
        mv = as_view(data)
        if len(mv) != self.preamble_onwire_len:
            raise DecodeError(f"preamble must be {self.preamble_onwire_len} bytes")
        if self.rev1:
            plain = self.rx.decrypt(mv)
            return self._parse_preamble(plain[:PREAMBLE_LEN], bytes(plain[PREAMBLE_LEN:]))
        return self._parse_preamble(self.rx.stream_begin(mv), b"")

    def _parse_preamble(self, pre: Buffer, inline: bytes) -> Preamble:
        (tag, nseg, l0, a0, l1, a1, l2, a2, l3, a3, flags, _reserved,
         crc) = _PREAMBLE.unpack_from(pre, 0)
        if _std(pre, _M) != _M:  # crc appended: the whole block has Ceph crc 0
            calc = ceph_crc32c(0, as_view(pre)[:PREAMBLE_CRC_OFFSET])
            raise BadPreambleCrc(f"bad preamble crc calculated={calc:#010x} "
                                 f"expected={crc:#010x}")
        if not 1 <= nseg <= MAX_NUM_SEGMENTS:
            raise BadFrameStructure(f"bad number of segments num_segments={nseg}")
        lengths = (l0, l1, l2, l3)[:nseg]
        if nseg > 1 and lengths[-1] == 0:
            raise BadFrameStructure("last segment empty")
        if flags:
            raise BadFrameStructure(
                f"preamble flags {flags:#x} set (compression was not negotiated)")
        if not _FIRST_TAG <= tag <= _LAST_TAG:
            raise UnknownTag(f"unknown msgr2 frame tag {tag}")
        if nseg != 1 and tag != _TAG_MESSAGE:
            # every control frame is one segment (Ceph's ControlFrame): refused
            # here, before its body is buffered, not after by decode_frame
            raise BadFrameStructure(
                f"{Tag(tag).name} frame with {nseg} segments (control frames have 1)")
        # segment i against (control, front, middle, data)[i], as the kernel's
        # decode_preamble (net/ceph/messenger_v2.c): a control frame's only segment
        # gets the control cap, a MESSAGE's header2 too
        caps = self._msg_caps
        for i, length in enumerate(lengths):
            if length > caps[i]:
                raise FrameTooLarge(
                    f"{Tag(tag).name} segment {i} of {length} bytes exceeds cap {caps[i]}")
        return Preamble(tag, lengths, (a0, a1, a2, a3)[:nseg], flags, inline,
                        self._body_len(lengths), sum(lengths[1:]))

    def _body_len(self, lens: tuple[int, ...]) -> int:
        n = len(lens)
        if self.rx is None:
            if self.rev1:
                total = lens[0] + CRC_LEN if lens[0] else 0
                if n > 1:
                    total += sum(lens[1:]) + EPILOGUE_CRC_REV1_LEN
                return total
            return sum(lens) + EPILOGUE_CRC_REV0_LEN
        if self.rev1:
            p0 = padded_len(lens[0])
            total = p0 - INLINE_LEN + GCM_TAG_LEN if p0 > INLINE_LEN else 0
            if n > 1:
                total += (sum(padded_len(x) for x in lens[1:]) + EPILOGUE_SECURE_LEN
                          + GCM_TAG_LEN)
            return total
        return sum(padded_len(x) for x in lens) + EPILOGUE_SECURE_LEN + GCM_TAG_LEN

    def body_onwire_len(self, pre: Preamble) -> int:
        """Bytes that follow the preamble on the wire for this frame."""
        return pre.body_len

    def disassemble_segments(self, pre: Preamble, body: Buffer, *,
                             in_place: bool = False) -> tuple[memoryview, ...] | None:
        """Verify and return the segments (views), or None if the sender aborted.

        ``body`` must be exactly :meth:`body_onwire_len` bytes. Raises
        BadSegmentCrc, BadFrameStructure (bad late status) or DecryptError.
        ``in_place``: secure mode may decrypt over ``body`` (writable, the
        caller's to spoil) instead of into a new buffer.
        """
        mv = body if isinstance(body, memoryview) else memoryview(body)
        if len(mv) != pre.body_len:
            raise DecodeError("frame body length does not match its preamble")
        if self.rx is None:
            if self.rev1:
                return self._disasm_crc_rev1(pre.lengths, mv)
            return self._disasm_crc_rev0(pre, mv)
        if self.rev1:
            return self._disasm_secure_rev1(self.rx, pre, mv,
                                            in_place and not mv.readonly)
        return self._disasm_secure_rev0(self.rx, pre, mv)

    def disassemble_message(
        self, pre: Preamble, body: Buffer, *, in_place: bool = False
    ) -> tuple[MsgHeader2, memoryview, memoryview, memoryview] | None:
        """Verify a MESSAGE frame body; return (header2, front, middle, data) views.

        None when the sender aborted the frame. Same checks as
        :meth:`disassemble_segments` plus the 41-byte header2 size; the msgr2.1
        crc-mode case parses the header in place (the receive hot path).
        """
        if self.rx is not None or not self._rev1 or pre.tag != _TAG_MESSAGE:
            segs = self.disassemble_segments(pre, body, in_place=in_place)
            if segs is None:
                return None
            header = MsgHeader2.decode(segs[0])
            rest = (*segs[1:], _EMPTY_VIEW, _EMPTY_VIEW, _EMPTY_VIEW)
            return header, rest[0], rest[1], rest[2]
        mv = body if isinstance(body, memoryview) else memoryview(body)
        lens = pre.lengths
        if len(mv) != pre.body_len:
            raise DecodeError("frame body length does not match its preamble")
        if lens[0] != MSG_HEADER2_LEN:
            raise DecodeError(f"ceph_msg_header2 must be {MSG_HEADER2_LEN} bytes, "
                              f"got {lens[0]}")
        if _std(mv[: MSG_HEADER2_LEN + CRC_LEN]) != _M:
            raise self._bad_crc(mv[:MSG_HEADER2_LEN],
                                _U32.unpack_from(mv, MSG_HEADER2_LEN)[0], 0)
        header = _tuple_new(MsgHeader2, HEADER2_STRUCT.unpack_from(mv, 0))
        n = len(lens)
        if n == 1:
            return header, _EMPTY_VIEW, _EMPTY_VIEW, _EMPTY_VIEW
        status, *crcs = _EPI_REV1.unpack_from(mv, len(mv) - EPILOGUE_CRC_REV1_LEN)
        pos = MSG_HEADER2_LEN + CRC_LEN
        views = [_EMPTY_VIEW, _EMPTY_VIEW, _EMPTY_VIEW]
        for i in range(n - 1):
            expected = crcs[i]
            length = lens[i + 1]
            if length:
                end = pos + length
                seg = mv[pos:end]
                pos = end
                if _std(seg) ^ _M != expected:
                    raise self._bad_crc(seg, expected, i + 1)
                views[i] = seg
            elif expected != _M:
                raise self._bad_crc(_EMPTY_VIEW, expected, i + 1)
        if status & LATE_STATUS_MASK != LATE_STATUS_COMPLETE:
            self._late_status_complete(status)  # raises unless ABORTED
            return None
        return header, views[0], views[1], views[2]

    @staticmethod
    def _bad_crc(seg: memoryview, expected: int, index: int) -> BadSegmentCrc:
        calc = ceph_crc32c(SEGMENT_SEED, seg)
        return BadSegmentCrc(f"bad segment {index} crc calculated={calc:#010x} "
                             f"expected={expected:#010x}")

    @staticmethod
    def _late_status_complete(status: int) -> bool:
        low = status & LATE_STATUS_MASK
        if low not in (LATE_STATUS_COMPLETE, LATE_STATUS_ABORTED):
            raise BadFrameStructure(f"bad late_status {status:#04x}")
        return low == LATE_STATUS_COMPLETE

    @staticmethod
    def _disasm_crc_rev1(lens: tuple[int, ...],
                         mv: memoryview) -> tuple[memoryview, ...] | None:
        l0 = lens[0]
        if l0:
            seg0 = mv[:l0]
            if _std(mv[: l0 + CRC_LEN]) != _M:  # seg0 + its crc has Ceph crc 0
                raise FrameAssembler._bad_crc(seg0, _U32.unpack_from(mv, l0)[0], 0)
            pos = l0 + CRC_LEN
        else:
            seg0 = _EMPTY_VIEW
            pos = 0
        n = len(lens)
        if n == 1:
            return (seg0,)
        status, c1, c2, c3 = _EPI_REV1.unpack_from(mv, len(mv) - EPILOGUE_CRC_REV1_LEN)
        out = [seg0]
        for i, expected in enumerate((c1, c2, c3)[: n - 1], 1):
            length = lens[i]
            if length:
                seg = mv[pos : pos + length]
                pos += length
                if _std(seg) ^ _M != expected:
                    raise FrameAssembler._bad_crc(seg, expected, i)
            else:
                seg = _EMPTY_VIEW
                if expected != _M:
                    raise FrameAssembler._bad_crc(seg, expected, i)
            out.append(seg)
        if status & LATE_STATUS_MASK != LATE_STATUS_COMPLETE:
            FrameAssembler._late_status_complete(status)  # raises unless ABORTED
            return None
        return tuple(out)

    def _disasm_crc_rev0(self, pre: Preamble,
                         mv: memoryview) -> tuple[memoryview, ...] | None:
        segs: list[memoryview] = []
        pos = 0
        for length in pre.lengths:
            segs.append(mv[pos : pos + length])
            pos += length
        late_flags, *crcs = _EPI_REV0.unpack_from(mv, pos)
        for i, seg in enumerate(segs):
            if ceph_crc32c(SEGMENT_SEED, seg) != crcs[i]:
                raise self._bad_crc(seg, crcs[i], i)
        return None if late_flags & LATE_FLAG_ABORTED else tuple(segs)

    @staticmethod
    def _disasm_secure_rev1(rx: GcmRx, pre: Preamble, mv: memoryview,
                            in_place: bool = False) -> tuple[memoryview, ...] | None:
        lens = pre.lengths
        p0 = padded_len(lens[0])
        pos = 0
        if p0 > INLINE_LEN:
            rest_len = p0 - INLINE_LEN + GCM_TAG_LEN
            seg0_buf = bytearray(pre.inline)
            seg0_buf += rx.decrypt(mv[:rest_len])
            pos = rest_len
            seg0 = memoryview(seg0_buf)[: lens[0]]
        else:
            seg0 = memoryview(pre.inline)[: lens[0]]
        if len(lens) == 1:
            return (seg0,)
        plain = rx.decrypt_in_place(mv[pos:]) if in_place else memoryview(rx.decrypt(mv[pos:]))
        segs = [seg0]
        off = 0
        for length in lens[1:]:
            segs.append(plain[off : off + length])
            off += padded_len(length)
        status = plain[off]
        return tuple(segs) if FrameAssembler._late_status_complete(status) else None

    @staticmethod
    def _disasm_secure_rev0(rx: GcmRx, pre: Preamble,
                            mv: memoryview) -> tuple[memoryview, ...] | None:
        plain = memoryview(rx.stream_finish(mv[:-GCM_TAG_LEN], mv[-GCM_TAG_LEN:]))
        segs: list[memoryview] = []
        off = 0
        for length in pre.lengths:
            segs.append(plain[off : off + length])
            off += padded_len(length)
        return None if plain[off] & LATE_FLAG_ABORTED else tuple(segs)

    def onwire_lengths(self, lengths: Sequence[int]) -> tuple[int, list[int], int]:
        """(preamble, per-segment, epilogue) on-wire lengths, as test_frames_v2 checks.

        Uses the transmit side's mode (crc unless a tx handler is installed).
        """
        n = len(lengths)
        secure = self.tx is not None
        if not secure:
            if self.rev1:
                segs = [lengths[0] + CRC_LEN if lengths[0] else 0, *lengths[1:]]
                return PREAMBLE_LEN, segs, EPILOGUE_CRC_REV1_LEN if n > 1 else 0
            return PREAMBLE_LEN, list(lengths), EPILOGUE_CRC_REV0_LEN
        pads = [padded_len(x) for x in lengths]
        if self.rev1:
            p0 = pads[0]
            seg0 = p0 - INLINE_LEN + GCM_TAG_LEN if p0 > INLINE_LEN else 0
            epi = EPILOGUE_SECURE_LEN + GCM_TAG_LEN if n > 1 else 0
            return SECURE_PREAMBLE_REV1_LEN, [seg0, *pads[1:]], epi
        return PREAMBLE_LEN, pads, EPILOGUE_SECURE_LEN + GCM_TAG_LEN


class RawFrame(Record):
    """One frame read off a stream: verified segments and its on-wire bytes."""

    tag: int
    segments: tuple[memoryview, ...] | None
    """None when the sender aborted the frame (late status)."""
    raw: bytes
    """The frame exactly as it was on the wire (for pre-auth signatures)."""
    preamble: Preamble

    __slots__ = ("preamble", "raw", "segments", "tag")

    def __init__(self, tag: int, segments: tuple[memoryview, ...] | None, raw: bytes,
                 preamble: Preamble) -> None:
        _set(self, "tag", tag)
        _set(self, "segments", segments)
        _set(self, "raw", raw)
        _set(self, "preamble", preamble)

    @property
    def aborted(self) -> bool:
        """True when the sender aborted this frame."""
        return self.segments is None


class FrameReader:
    """Incremental frame decoder over a byte stream that follows the banners.

    ``feed`` bytes, then call ``next_frame`` until it returns None. Settings of
    the assembler (rev1, crypto handlers, limits) may change between frames.
    Errors leave the reader unusable, as a fault closes the connection.
    """

    __slots__ = ("_asm", "_buf", "_pre", "_pre_len")

    def __init__(self, assembler: FrameAssembler) -> None:
        self._asm = assembler
        self._buf = bytearray()
        self._pre: Preamble | None = None
        self._pre_len = 0

    @property
    def buffered(self) -> int:
        """Bytes received and not yet consumed."""
        return len(self._buf)

    def feed(self, data: Buffer) -> None:
        """Append received bytes."""
        self._buf += data

    def next_frame(self) -> RawFrame | None:
        """The next complete frame, or None until more bytes arrive."""
        asm = self._asm
        if self._pre is None:
            need = asm.preamble_onwire_len
            if len(self._buf) < need:
                return None
            # a copy (32 or 96 bytes): a view would pin the bytearray while an
            # exception's traceback is alive, and feed() would raise BufferError
            self._pre = asm.disassemble_preamble(bytes(memoryview(self._buf)[:need]))
            self._pre_len = need
        pre = self._pre
        total = self._pre_len + pre.body_len
        if len(self._buf) < total:
            return None
        raw = bytes(self._buf[:total])
        del self._buf[:total]
        self._pre = None
        segs = asm.disassemble_segments(pre, memoryview(raw)[self._pre_len :])
        return RawFrame(pre.tag, segs, raw, pre)


__all__ = [
    "INLINE_LEN",
    "MAX_NUM_SEGMENTS",
    "PREAMBLE_LEN",
    "FrameAssembler",
    "FrameLimits",
    "FrameReader",
    "Preamble",
    "RawFrame",
    "padded_len",
]
