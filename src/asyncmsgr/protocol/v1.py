"""ProtocolV1: the legacy ("ceph v027") state machine of one connection, without I/O.

Shares the session, throttles, fault handling and timers with msgr2 through
:class:`~asyncmsgr.protocol.base.ProtocolBase`, so every policy behaves the
same on both protocols. This module holds the receive loop and the send path;
the banner / connect handshake lives in :mod:`asyncmsgr.protocol.v1_handshake`.

Once OPEN, items are read one at a time (wire-protocol.md §4.3)::

    OPEN --tag MSG--> OPEN_MESSAGE_HEADER (header crc, caps) -> THROTTLE_MESSAGE
    -> THROTTLE_BYTES -> THROTTLE_DISPATCH_QUEUE -> READ_FRONT -> READ_MIDDLE
    -> READ_DATA_PREPARE -> READ_DATA -> READ_FOOTER_AND_DISPATCH (crcs,
    signature, decode, dispatch) -> OPEN

Front, middle, data and footer are received as one body (into the reused
buffer, or into their own buffer when large); while bytes are missing the state
names the part being read. Every length is checked against its cap before
anything is allocated.
"""

from __future__ import annotations

import struct
from typing import ClassVar

from asyncmsgr.auth.cephx.sign import signature_of
from asyncmsgr.errors import (
    BadMessageCrc,
    BadSignature,
    FrameTooLarge,
    MessageAborted,
    MessageDecodeError,
    UnknownMessageType,
    UnknownTag,
)
from asyncmsgr.features import (
    CEPH_FEATURE_CEPHX_V2,
    CEPH_FEATURE_MSG_AUTH,
    CEPH_FEATURE_MSGR_KEEPALIVE2,
)
from asyncmsgr.frames.v1 import V1Tag, v1_tag_name
from asyncmsgr.message import (
    MSG_FOOTER_LEN,
    MSG_HEADER_CRC_OFFSET,
    MSG_HEADER_LEN,
    MSG_OLD_FOOTER_LEN,
    CrcFlags,
    FooterFlags,
    Message,
    MsgHeader,
    RawMessage,
    decode_message,
)
from asyncmsgr.protocol import v1_handshake as hs
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import (
    V1_ACCEPTING_STATES,
    V1_OPEN_STATES,
    State,
    Step,
)
from asyncmsgr.types import Buffer, EntityAddr, EntityName, UTime
from asyncmsgr.wire.crc32c import crc32c_std

# Enum member lookups go through a descriptor in 3.11, and IntFlag operators are
# Python code (~0.5 us each): the hot path uses these plain values.
_OPEN = State.OPEN
_OPEN_MESSAGE_HEADER = State.OPEN_MESSAGE_HEADER
_THROTTLE_MESSAGE = State.THROTTLE_MESSAGE
_THROTTLE_BYTES = State.THROTTLE_BYTES
_THROTTLE_DISPATCH_QUEUE = State.THROTTLE_DISPATCH_QUEUE
_READ_FOOTER_AND_DISPATCH = State.READ_FOOTER_AND_DISPATCH
_CRC_HEADER = int(CrcFlags.HEADER)
_CRC_DATA = int(CrcFlags.DATA)
_COMPLETE = int(FooterFlags.COMPLETE)
_NOCRC = int(FooterFlags.NOCRC)
_SIGNED = int(FooterFlags.SIGNED)
_TAG_ACK = int(V1Tag.ACK)
_TAG_KEEPALIVE = int(V1Tag.KEEPALIVE)
_TAG_KEEPALIVE2 = int(V1Tag.KEEPALIVE2)
_TAG_KEEPALIVE2_ACK = int(V1Tag.KEEPALIVE2_ACK)
_EMPTY = b""
#: ``ceph_crc32c(0, d) == _std(d, _M) ^ _M`` (the C call without the wrapper).
_std = crc32c_std
_M = 0xFFFFFFFF
#: Builds a NamedTuple from a tuple in C (``MsgHeader(...)`` is a Python ``__new__``).
_new_tuple = tuple.__new__
_THROTTLE_STATES = frozenset({State.THROTTLE_MESSAGE, State.THROTTLE_BYTES,
                              State.THROTTLE_DISPATCH_QUEUE})
_MESSAGE_STATES = V1_OPEN_STATES | _THROTTLE_STATES | {State.THROTTLE_DONE}
_IDLE_STATES = frozenset({State.CLOSED, State.NONE, State.STANDBY, State.WAIT,
                          State.START_CONNECT, State.START_ACCEPT})
_TAG_MSG = int(V1Tag.MSG)
_MSG_HEAD_LEN = 1 + MSG_HEADER_LEN  # tag + ceph_msg_header
#: tag, then ceph_msg_header (seq .. reserved, crc)
_HEAD_ITEM = struct.Struct("<BQQHHHIIIHBqHHI")
#: the header crc covers the item's bytes 1 .. 49, and is stored right after them
_HEAD_CRC_END = 1 + MSG_HEADER_CRC_OFFSET
#: ceph_msg_header without its crc (seq .. reserved: the bytes the crc covers)
_HEAD_NOCRC = struct.Struct("<QQHHHIIIHBqHH")
_TAG_MSG_BYTE = bytes((_TAG_MSG,))
_U32 = struct.Struct("<I")
_FOOTER = struct.Struct("<IIIQB")
_OLD_FOOTER = struct.Struct("<IIIB")
_STAMP_ITEM = struct.Struct("<BII")
_ACK_ITEM = struct.Struct("<BQ")
#: Fixed-size items after OPEN: tag -> (total bytes, state while partial)
_CONTROL_ITEMS: dict[int, tuple[int, State]] = {
    V1Tag.ACK: (9, State.OPEN_TAG_ACK),
    V1Tag.KEEPALIVE: (1, State.OPEN),
    V1Tag.KEEPALIVE2: (9, State.OPEN_KEEPALIVE2),
    V1Tag.KEEPALIVE2_ACK: (9, State.OPEN_KEEPALIVE2_ACK),
    V1Tag.CLOSE: (1, State.OPEN),
}


class ProtocolV1(ProtocolBase):
    """One msgr v1 connection's protocol state (client or server role)."""

    proto_type: ClassVar[int] = 1
    OPEN_STATE: ClassVar[State] = State.OPEN
    #: tag + ceph_msg_header, footer
    MESSAGE_OVERHEAD = 1 + MSG_HEADER_LEN + MSG_FOOTER_LEN
    BACKOFF_STATES = ProtocolBase.BACKOFF_STATES | V1_ACCEPTING_STATES

    def _init_stream(self) -> None:
        self._hdr: MsgHeader | None = None
        self.hs = hs.HandshakeState()
        self.sign_key = b""
        """The cephx session key signing messages (empty: no signatures)."""
        self._old_footer = False
        self._footer_len = MSG_FOOTER_LEN
        crc = self.options
        self._crc_flags = (CrcFlags.HEADER if crc.crc_header else 0) | \
            (CrcFlags.DATA if crc.crc_data else 0)

    # -- handshake entry points (see v1_handshake) ------------------------------------

    def connection_made(self, now: float) -> None:
        """Client: the TCP connection is up; send the banner."""
        hs.connection_made(self, now)

    def start_accept(self, now: float, peer_socket_addr: EntityAddr) -> None:
        """Server: a socket was accepted; send banner and addresses."""
        hs.start_accept(self, now, peer_socket_addr)

    def take_over(self, handover: hs.Handover, now: float) -> None:
        """Adopt a moved socket (``replace``): answer RETRY_GLOBAL on it."""
        hs.take_over(self, handover, now)

    def _reset_stream(self) -> None:
        self._hdr = None
        self.hs = hs.HandshakeState()

    def _rx_wanted(self) -> int:
        if self.held_step is not None:  # paused inside a step: its item was read
            return 0
        connect = self.hs.connect
        if self._state is State.ACCEPTING_WAIT_CONNECT_MSG_AUTH and connect is not None:
            return max(0, connect.authorizer_len - self._rx.available)
        if self._state is State.ACCEPTING_WAIT_BANNER_ADDR:
            return max(0, hs.ACCEPT_HELLO_LEN - self._rx.available)
        return 0

    def _on_ready(self) -> None:
        self._old_footer = not self.features & CEPH_FEATURE_MSG_AUTH
        self._footer_len = MSG_OLD_FOOTER_LEN if self._old_footer else MSG_FOOTER_LEN
        key = self.auth_meta.session_key
        self.sign_key = key if (key and self.options.sign_messages
                                and self.features & CEPH_FEATURE_MSG_AUTH
                                and self.features & CEPH_FEATURE_CEPHX_V2) else b""

    def reset_session(self) -> None:
        """``session_reset``: as msgr2, and the next out_seq starts at random."""
        super().reset_session()
        self.randomize_out_seq()

    def randomize_out_seq(self) -> None:
        """With MSG_AUTH a reset session numbers from a random point (``SEQ_MASK``),
        so message crcs are not predictable; else from 0."""
        s = self.session
        s.out_seq = self.rng.randrange(0, 0x80000000) \
            if self.features & CEPH_FEATURE_MSG_AUTH else 0

    # -- receiving ---------------------------------------------------------------------

    def _step(self, now: float) -> bool:
        state = self._state
        if state in _IDLE_STATES or self._throttle_retry_at is not None \
                or self.held_step is not None:
            return False
        if state in _MESSAGE_STATES:
            return self._read_open(now)
        reader = hs.READERS.get(state)
        return reader(self, now) if reader is not None else False

    def _read_open(self, now: float) -> bool:
        rx = self._rx
        hdr = self._hdr
        if hdr is None:
            avail = rx.available
            if avail < _MSG_HEAD_LEN:
                if not avail:
                    self._state = _OPEN
                    return False
                tag = rx.peek(1)[0]
                if tag != _TAG_MSG:
                    return self._read_control_item(tag, avail)
                self._state = _OPEN_MESSAGE_HEADER
                rx.ensure_room(_MSG_HEAD_LEN)
                return False
            raw = rx.peek(_MSG_HEAD_LEN)
            if raw[0] != _TAG_MSG:
                return self._read_control_item(raw[0], avail)
            # tag + ceph_msg_header, parsed in place; the crc first, then the caps
            (_, seq, tid, mtype, prio, ver, flen, mlen, dlen, doff, stype, snum, compat,
             reserved, hcrc) = _HEAD_ITEM.unpack_from(raw)
            if int(self._crc_flags) & _CRC_HEADER:
                calc = _std(raw[1:_HEAD_CRC_END], _M) ^ _M
                if calc != hcrc:
                    raise BadMessageCrc(f"bad header crc {hcrc:#010x} != {calc:#010x}")
            lim = self.options.limits
            if flen > lim.front or mlen > lim.middle or dlen > lim.data:
                raise FrameTooLarge(
                    f"msgr v1 message of front {flen}, middle {mlen}, "
                    f"data {dlen} bytes exceeds the caps")
            src = self.peer_name  # the same sender every time: share its EntityName
            if src.num != snum or src.type != stype:
                src = EntityName(stype, snum)
            hdr = _new_tuple(MsgHeader, (seq, tid, mtype, prio, ver, flen, mlen, dlen, doff,
                                         src, compat, reserved, hcrc))
            rx.consume(_MSG_HEAD_LEN)
            self._hdr = hdr
            self._msg_size = flen + mlen + dlen
            self._state = _THROTTLE_MESSAGE
            if not self._take_throttles(now):
                return False
        else:
            state = self._state
            if (state is _THROTTLE_MESSAGE or state is _THROTTLE_BYTES
                    or state is _THROTTLE_DISPATCH_QUEUE) and not self._take_throttles(now):
                return False
        body_len = self._msg_size + self._footer_len
        body: Buffer
        if rx.receiving_big:
            if not rx.big_complete():
                self._note_progress(hdr, rx.big_filled)
                return False
            body = rx.take_big()
            owned = True
        elif body_len > self.options.large_segment_threshold:
            rx.start_big(body_len)
            return True
        else:
            if rx.available < body_len:
                rx.ensure_room(body_len)
                self._note_progress(hdr, rx.available)
                return False
            body = rx.peek(body_len)
            owned = False
        self._hdr = None
        self._state = _READ_FOOTER_AND_DISPATCH
        try:
            self._handle_message(hdr, body, owned, now)
        finally:
            if not owned:
                rx.consume(body_len)
        return True

    def _note_progress(self, hdr: MsgHeader, have: int) -> None:
        """Name the part being read (Ceph's READ_* states) while bytes are missing."""
        f, m, d = hdr.front_len, hdr.middle_len, hdr.data_len
        if f and have < f:
            self._state = State.READ_FRONT
        elif m and have < f + m:
            self._state = State.READ_MIDDLE
        elif d and have == f + m:
            self._state = State.READ_DATA_PREPARE
        elif d and have < f + m + d:
            self._state = State.READ_DATA
        else:
            self._state = _READ_FOOTER_AND_DISPATCH

    def _read_control_item(self, tag: int, avail: int) -> bool:
        item = _CONTROL_ITEMS.get(tag)
        if item is None:
            raise UnknownTag(f"unexpected msgr v1 tag {tag} ({v1_tag_name(tag)}) "
                             f"in state {self._state.name}")
        size, partial_state = item
        if avail < size:
            self._state = partial_state
            return False
        raw = bytes(self._rx.peek(size))
        self._rx.consume(size)
        self._state = _OPEN
        if tag == _TAG_ACK:
            self._handle_ack(_ACK_ITEM.unpack(raw)[1])
        elif tag == _TAG_KEEPALIVE:
            self.last_keepalive = UTime.from_float(self.wallclock())
        elif tag == _TAG_KEEPALIVE2:
            _, sec, nsec = _STAMP_ITEM.unpack(raw)
            self._got_keepalive2(UTime(sec, nsec))
        elif tag == _TAG_KEEPALIVE2_ACK:
            _, sec, nsec = _STAMP_ITEM.unpack(raw)
            self._got_keepalive2_ack(UTime(sec, nsec))
        else:  # CLOSE
            self.stop(queue_reset=True, reason="peer sent CLOSE")
            return False
        return True

    def _handle_message(self, hdr: MsgHeader, body: Buffer, owned: bool, now: float) -> None:
        f, m, d = hdr.front_len, hdr.middle_len, hdr.data_len
        fm = f + m
        end = fm + d
        if self._old_footer:
            fc, mc, dc, flags = _OLD_FOOTER.unpack_from(body, end)
            sig = 0
        else:
            fc, mc, dc, sig, flags = _FOOTER.unpack_from(body, end)
        if not flags & _COMPLETE:  # handle_message_footer: "ABORTED", _fault()
            raise MessageAborted(f"message seq {hdr.seq} aborted by its sender "
                                 "(footer without COMPLETE)")
        mv = memoryview(body)
        front: Buffer
        middle: Buffer
        data: Buffer
        if owned:  # the message's own buffer: views, no copy
            front, middle, data = mv[:f], mv[f:fm], mv[fm:end]
        else:  # views into the reused receive buffer: copy out
            front = bytes(mv[:f]) if f else _EMPTY
            middle = bytes(mv[f:fm]) if m else _EMPTY
            data = bytes(mv[fm:end]) if d else _EMPTY
        crc_flags = int(self._crc_flags)
        if crc_flags & _CRC_HEADER:
            calc = _std(front, _M) ^ _M if f else 0
            if calc != fc:
                raise BadMessageCrc(f"bad front crc {fc:#010x} != {calc:#010x}")
            calc = _std(middle, _M) ^ _M if m else 0
            if calc != mc:
                raise BadMessageCrc(f"bad middle crc {mc:#010x} != {calc:#010x}")
        if crc_flags & _CRC_DATA and not flags & _NOCRC:
            calc = _std(data, _M) ^ _M if d else 0
            if calc != dc:
                raise BadMessageCrc(f"bad data crc {dc:#010x} != {calc:#010x}")
        key = self.sign_key
        if key:
            expected = signature_of(key, hdr.crc, fc, f, mc, m, dc, d, hdr.seq)
            if expected != sig:
                signed = "signed" if flags & _SIGNED else "not signed"
                raise BadSignature(f"message seq {hdr.seq} ({signed}): signature "
                                   f"{sig:#018x} != {expected:#018x}")
        wire_len = _MSG_HEAD_LEN + end + self._footer_len
        if self.interceptor is not None and self._intercept(
                Step.HANDLE_MESSAGE,
                lambda now: self._decode(hdr, front, middle, data, wire_len, now)):
            return
        self._decode(hdr, front, middle, data, wire_len, now)

    def _decode(self, hdr: MsgHeader, front: Buffer, middle: Buffer, data: Buffer,
                wire_len: int, now: float) -> None:
        try:
            msg = decode_message(hdr, front, middle, data)
        except UnknownMessageType:
            msg = RawMessage(raw_type=hdr.type, seq=hdr.seq, tid=hdr.tid,
                             priority=hdr.priority, version=hdr.version,
                             compat_version=hdr.compat_version, data_off=hdr.data_off,
                             src=hdr.src, front=front, middle=middle, data=data)
        except MessageDecodeError:
            self._release_throttles()
            raise
        src = hdr.src
        if self.peer_name.num != src.num and src.type == self.peer_type:
            self.peer_name = EntityName(src.type, src.num)
        if self.interceptor is None:
            self._accept_message(msg, wire_len, now)
            return
        def accept(at: float) -> None:
            self._accept_message(msg, wire_len, at)
        if self._intercept(Step.READ_MESSAGE_COMPLETE, accept):
            return
        accept(now)

    # -- sending -----------------------------------------------------------------------

    def _write_keepalive(self, stamp: UTime) -> None:
        if self.features & CEPH_FEATURE_MSGR_KEEPALIVE2:
            self._out.append(_STAMP_ITEM.pack(_TAG_KEEPALIVE2, stamp.sec, stamp.nsec))
        else:
            self._out.append(bytes((_TAG_KEEPALIVE,)))

    def _write_keepalive_ack(self, stamp: UTime) -> None:
        self._out.append(_STAMP_ITEM.pack(_TAG_KEEPALIVE2_ACK, stamp.sec, stamp.nsec))

    def _write_messages(self, batch: list[Message]) -> int:
        """Tag MSG, ``ceph_msg_header``, front, middle, data, footer (crcs as
        ``ms_crc_*`` say; signed when the session has a signing key)."""
        crc_flags = int(self._crc_flags)
        crc_header = crc_flags & _CRC_HEADER
        crc_data = crc_flags & _CRC_DATA
        base_flags = _COMPLETE if crc_data else _COMPLETE | _NOCRC
        key = self.sign_key
        old_footer = self._old_footer
        footer_len = self._footer_len
        append = self._out.append
        nbytes = 0
        for m in batch:
            seq = m.seq
            front, middle, data = m.front, m.middle, m.data
            flen, mlen, dlen = len(front), len(middle), len(data)
            src = m.src
            # ceph_msg_header up to its crc, checksummed as packed; then tag + it + crc
            head = _HEAD_NOCRC.pack(seq, m.tid, m.type, m.priority, m.version, flen, mlen,
                                    dlen, m.data_off, src.type, src.num, m.compat_version, 0)
            if crc_header:
                hcrc = _std(head, _M) ^ _M
                fcrc = _std(front, _M) ^ _M if flen else 0
                mcrc = _std(middle, _M) ^ _M if mlen else 0
            else:
                hcrc = fcrc = mcrc = 0
            dcrc = _std(data, _M) ^ _M if crc_data and dlen else 0
            append(_TAG_MSG_BYTE + head + _U32.pack(hcrc))
            if flen:
                append(front)
            if mlen:
                append(middle)
            if dlen:
                append(data)
            if old_footer:
                append(_OLD_FOOTER.pack(fcrc, mcrc, dcrc, base_flags))
            elif key:
                sig = signature_of(key, hcrc, fcrc, flen, mcrc, mlen, dcrc, dlen, seq)
                append(_FOOTER.pack(fcrc, mcrc, dcrc, sig, base_flags | _SIGNED))
            else:
                append(_FOOTER.pack(fcrc, mcrc, dcrc, 0, base_flags))
            nbytes += _MSG_HEAD_LEN + flen + mlen + dlen + footer_len
        return nbytes

    def _write_ack(self, seq: int) -> None:
        self._out.append(_ACK_ITEM.pack(_TAG_ACK, seq))

    def _queue(self, data: bytes) -> None:
        """Queue handshake bytes."""
        self._out.append(data)


__all__ = ["ProtocolV1"]
