"""ProtocolV2: the msgr2.1 state machine of one connection, without I/O.

The shared machinery (inputs, outputs, throttles, faults, timers) is
:class:`~asyncmsgr.protocol.base.ProtocolBase`; this module holds the msgr2
receive loop, frame dispatch and the send path. Which frame is allowed in which
state is the table ``FRAME_STATES``; any other combination faults the
connection. Handshake phases live in :mod:`asyncmsgr.protocol.v2_handshake`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from asyncmsgr.auth.base import AuthConnectionMeta
from asyncmsgr.crypto.onwire import digests_equal, hmac_sha256
from asyncmsgr.errors import (
    AsyncmsgrError,
    BannerMismatch,
    DecodeError,
    MessageDecodeError,
    UnknownMessageType,
    UnknownTag,
)
from asyncmsgr.frames.assembler import (
    EPILOGUE_CRC_REV1_LEN,
    PREAMBLE_LEN,
    FrameAssembler,
    Preamble,
)
from asyncmsgr.frames.v2 import (
    BANNER_PREFIX,
    V1_BANNER,
    AckFrame,
    ControlFrame,
    Keepalive2AckFrame,
    Keepalive2Frame,
    Tag,
    decode_banner_prefix,
    decode_frame,
    encode_banner,
    tag_name,
)
from asyncmsgr.message import (
    HEADER2_STRUCT,
    MSG_HEADER2_LEN,
    Message,
    MsgHeader2,
    RawMessage,
    decode_message,
)
from asyncmsgr.protocol import v2_handshake as hs
from asyncmsgr.protocol.base import Counters, ProtocolBase
from asyncmsgr.protocol.common import PRE_AUTH_STATES, State, Step
from asyncmsgr.protocol.v2_handshake import FRAME_STATES
from asyncmsgr.types import Buffer, EntityAddr, EntityAddrVec, UTime

_BANNER_PREFIX_LEN = 10
_THROTTLE_STATES = frozenset({State.THROTTLE_MESSAGE, State.THROTTLE_BYTES,
                              State.THROTTLE_DISPATCH_QUEUE})
#: States in which received bytes are not processed.
_IDLE_STATES = frozenset({State.CLOSED, State.NONE, State.STANDBY, State.WAIT,
                          State.START_CONNECT, State.START_ACCEPT})
# Enum member lookups go through a descriptor in 3.11; the hot path uses these.
_READY = State.READY
_THROTTLE_MESSAGE = State.THROTTLE_MESSAGE
_THROTTLE_BYTES = State.THROTTLE_BYTES
_THROTTLE_DISPATCH_QUEUE = State.THROTTLE_DISPATCH_QUEUE
_THROTTLE_DONE = State.THROTTLE_DONE
_READ_MESSAGE_COMPLETE = State.READ_MESSAGE_COMPLETE
_TAG_MESSAGE = int(Tag.MESSAGE)
_MSG_FLAGS = 3  # COMPLETE | NOCRC, what Pacific sends in header2
_PREAMBLE_LEN = PREAMBLE_LEN
_EMPTY = b""


class ProtocolV2(ProtocolBase):
    """One msgr2 connection's protocol state (client or server role)."""

    proto_type: ClassVar[int] = 2
    #: preamble, header2 + crc, epilogue
    MESSAGE_OVERHEAD = PREAMBLE_LEN + MSG_HEADER2_LEN + 4 + EPILOGUE_CRC_REV1_LEN
    BACKOFF_STATES = ProtocolBase.BACKOFF_STATES | {State.SESSION_ACCEPTING}

    def _init_stream(self) -> None:
        self._asm = FrameAssembler(limits=self.options.pre_auth_limits)
        self._banner_done = False
        self._banner_len = 0
        self._pre: Preamble | None = None
        self._pre_raw = _EMPTY
        self._rx_transcript = bytearray()
        self._tx_transcript = bytearray()
        self._transcript_on = False
        self._sent_modes: tuple[int, ...] = ()

    def take_over(self, handover: hs.Handover, now: float) -> None:
        """Adopt a moved socket's stream for this session (see ``v2_handshake.take_over``)."""
        hs.take_over(self, handover, now)

    def _queue_frame(self, frame: ControlFrame) -> None:
        chunks = self._asm.assemble(frame.TAG, (frame.encode_payload(),))
        self._count(f"send_{frame.TAG.name}")
        if self._transcript_on:
            for c in chunks:
                self._tx_transcript += c
        self._out.extend(chunks)

    # -- starting ----------------------------------------------------------------------

    def connection_made(self, now: float) -> None:
        """Client: the TCP connection is up; send the banner (Ceph's step 1)."""
        if self._state is not State.START_CONNECT:
            return
        self.last_active = now
        if self._intercept(Step.START_CLIENT_BANNER_EXCHANGE, self._start_client_banner):
            return
        self._start_client_banner(now)

    def _start_client_banner(self, now: float) -> None:
        self._is_server = False
        self._reset_for_new_socket()
        self.state = State.BANNER_CONNECTING
        self.session.global_seq = self.registry.get_global_seq()
        self._send_banner()

    def start_accept(self, now: float, peer_socket_addr: EntityAddr) -> None:
        """Server: a socket was accepted; send the banner (Ceph's step 2)."""
        self._is_server = True
        self.target_addr = peer_socket_addr
        self.peer_addrs = EntityAddrVec((peer_socket_addr,))
        self.connect_started = self.last_active = now
        self._ready_deadline = now + self.options.connection_ready_timeout
        self.state = State.START_ACCEPT
        if self._intercept(Step.START_SERVER_BANNER_EXCHANGE, self._start_server_banner):
            return
        self._start_server_banner(now)

    def _start_server_banner(self, now: float) -> None:
        self._reset_for_new_socket()
        self.state = State.BANNER_ACCEPTING
        self._send_banner()

    def _reset_for_new_socket(self) -> None:
        self._rx.reset()
        self._asm = FrameAssembler(limits=self.options.pre_auth_limits)
        self._banner_done = False
        self._pre = None
        self._out = []
        self.auth_meta = AuthConnectionMeta()
        self._rx_transcript = bytearray()
        self._tx_transcript = bytearray()
        self._transcript_on = True

    def _send_banner(self) -> None:
        if self._intercept(Step.BANNER_EXCHANGE_BANNER_CONNECTING
                           if self._state is State.BANNER_CONNECTING else Step.BANNER_EXCHANGE,
                           lambda now: self._write_banner()):
            return
        self._write_banner()

    def _write_banner(self) -> None:
        banner = encode_banner()
        self._count("banner")
        self._tx_transcript += banner
        self._out.append(banner)

    # -- receiving ---------------------------------------------------------------------

    def _step(self, now: float) -> bool:
        """Make one unit of progress; False when more bytes (or time) are needed."""
        state = self._state
        if state in _IDLE_STATES or self._throttle_retry_at is not None \
                or self.held_step is not None:
            return False
        if state is _READY and self._pre is None and self._read_messages(now):
            return self._rx.available > 0 or self._pre is not None
        rx = self._rx
        if not self._banner_done:
            return self._read_banner()
        pre = self._pre
        if pre is None:
            need = self._asm.preamble_onwire_len
            if rx.available < need:
                return False
            raw = rx.peek(need)
            pre = self._asm.disassemble_preamble(bytes(raw))
            if self._transcript_on:
                self._pre_raw = bytes(raw)
            rx.consume(need)
            self._pre = pre
            if pre.tag == _TAG_MESSAGE:
                if state is not _READY:
                    raise UnknownTag(f"MESSAGE frame in state {state.name}")
                self._msg_size = pre.payload_len
                # The READY sub-steps of a message are not logged one by one.
                self._state = _THROTTLE_MESSAGE
            elif pre.tag not in FRAME_STATES:
                raise UnknownTag(f"unexpected frame {tag_name(pre.tag)} in {state.name}")
        if self._state in _THROTTLE_STATES and not self._take_throttles(now):
            return False
        body_len = pre.body_len
        if rx.receiving_big:
            if not rx.big_complete():
                return False
            body: Buffer = rx.take_big()
            owned = True
        elif body_len > self.options.large_segment_threshold:
            rx.start_big(body_len)
            return True
        else:
            if rx.available < body_len:
                rx.ensure_room(body_len)
                return False
            body = rx.peek(body_len)
            owned = False
        self._pre = None
        if pre.tag != _TAG_MESSAGE:
            if not owned:  # small: copy out, so a handler may hand the buffer over
                body = bytes(body)
                rx.consume(body_len)
            self._handle_control_frame(pre, body, now)
            return True
        try:
            self._handle_message_frame(pre, body, owned, now)
        finally:
            if not owned:
                rx.consume(body_len)
        return True

    def _rx_wanted(self) -> int:
        rx = self._rx
        pre = self._pre
        if pre is not None:
            return 0 if rx.receiving_big else max(0, pre.body_len - rx.available)
        if not self._banner_done and self._banner_len:
            return max(0, self._banner_len - rx.available)
        return 0

    def _handshake_held(self) -> int:
        return len(self._rx_transcript) + len(self._tx_transcript)

    def _read_messages(self, now: float) -> bool:
        """READY in msgr2.1 crc mode without an interceptor: take every complete
        MESSAGE frame with a small body in the buffer, in one loop.

        The rules are those of :meth:`_step`, run in the same order through the
        same calls (the assembler's preamble and segment checks,
        :meth:`_take_throttles`, :meth:`_decode_message`); the loop only skips
        the per-frame state dispatch and buffer bookkeeping. It stops at
        anything else (a control frame, a large or incomplete body, a full
        throttle), which :meth:`_step` then handles. False if nothing was taken.
        """
        asm = self._asm
        rx = self._rx
        if (asm.rx is not None or not asm.rev1 or self.interceptor is not None
                or not self.options.fast_path or rx.receiving_big or self._transcript_on):
            return False
        buf, r, end = rx.window()
        start = r
        threshold = self.options.large_segment_threshold
        policy = self.policy
        throttled = (self.dispatch_throttle is not None
                     or policy.throttler_messages is not None
                     or policy.throttler_bytes is not None)
        disassemble_preamble = asm.disassemble_preamble
        disassemble_message = asm.disassemble_message
        try:
            while end - r >= _PREAMBLE_LEN:
                pre = disassemble_preamble(bytes(buf[r : r + _PREAMBLE_LEN]))
                body_len = pre.body_len
                if (pre.tag != _TAG_MESSAGE or body_len > threshold
                        or end - r - _PREAMBLE_LEN < body_len):
                    break
                if throttled:
                    self._msg_size = pre.payload_len
                    self._state = _THROTTLE_MESSAGE
                    if not self._take_throttles(now):  # _step resumes this frame
                        self._pre = pre
                        r += _PREAMBLE_LEN
                        break
                body = r + _PREAMBLE_LEN
                r = body + body_len
                got = disassemble_message(pre, buf[body:r])
                if got is None:  # the sender aborted the frame
                    self._release_throttles()
                    self._state = _READY
                    continue
                h2, fv, mv, dv = got
                self._decode_message(h2, bytes(fv), bytes(mv), bytes(dv),
                                     _PREAMBLE_LEN + body_len, now)
        finally:
            rx.consume(r - start)
        return r != start

    def _read_banner(self) -> bool:
        rx = self._rx
        if not self._banner_len:
            if rx.available < _BANNER_PREFIX_LEN:
                _check_partial_banner(rx.peek(rx.available))
                return False
            head = rx.peek(_BANNER_PREFIX_LEN)
            self._banner_len = decode_banner_prefix(head)
            self._rx_transcript += head
            rx.consume(_BANNER_PREFIX_LEN)
        if rx.available < self._banner_len:
            rx.ensure_room(self._banner_len)
            return False
        payload = bytes(rx.peek(self._banner_len))
        self._rx_transcript += payload
        rx.consume(self._banner_len)
        self._banner_len = 0
        self._banner_done = True
        hs.handle_banner_payload(self, payload)
        return True

    def _handle_control_frame(self, pre: Preamble, body: Buffer, now: float) -> None:
        if self._transcript_on and self._state in PRE_AUTH_STATES:
            self._rx_transcript += self._pre_raw
            self._rx_transcript += body
            if len(self._rx_transcript) > self.options.max_pre_auth_transcript:
                raise DecodeError("pre-auth transcript too long")
        segments = self._asm.disassemble_segments(pre, body)
        if segments is None:
            return  # aborted by the sender
        frame = decode_frame(pre.tag, segments)
        assert isinstance(frame, ControlFrame)
        allowed = FRAME_STATES.get(frame.TAG)
        if allowed is None or self._state not in allowed:
            raise UnknownTag(f"{frame.TAG.name} not allowed in state {self._state.name}")
        self._count(f"recv_{frame.TAG.name}")
        FRAME_HANDLERS[frame.TAG](self, frame, now)

    # -- READY: messages ---------------------------------------------------------------

    def _handle_message_frame(self, pre: Preamble, body: Buffer, owned: bool,
                              now: float) -> None:
        got = self._asm.disassemble_message(pre, body, in_place=True)
        if got is None:  # the sender aborted the frame
            self._release_throttles()
            self._state = _READY
            return
        h2, fv, mv, dv = got
        front: Buffer = fv
        middle: Buffer = mv
        data: Buffer = dv
        if not owned:  # views into the reused receive buffer: copy out
            front, middle, data = bytes(fv), bytes(mv), bytes(dv)
        wire_len = pre.body_len + self._asm.preamble_onwire_len
        if self.interceptor is not None and self._intercept(
                Step.HANDLE_MESSAGE,
                lambda now: self._decode_message(h2, front, middle, data, wire_len, now)):
            return
        self._decode_message(h2, front, middle, data, wire_len, now)

    def _decode_message(self, h2: MsgHeader2, front: Buffer, middle: Buffer, data: Buffer,
                        wire_len: int, now: float) -> None:
        """Build the message (``ceph_msg_header`` rebuilt from header2, src from
        the connection), then accept it and its piggy-backed ack."""
        header = h2.to_legacy(self.peer_name, len(front), len(middle), len(data))
        try:
            m = decode_message(header, front, middle, data)
        except UnknownMessageType:
            m = RawMessage(raw_type=header.type, seq=header.seq, tid=header.tid,
                           priority=header.priority, version=header.version,
                           compat_version=header.compat_version,
                           data_off=header.data_off, src=header.src, front=front,
                           middle=middle, data=data)
        except MessageDecodeError:
            self._release_throttles()
            raise
        self._state = _READ_MESSAGE_COMPLETE
        if self.interceptor is not None and self._intercept(
                Step.READ_MESSAGE_COMPLETE,
                lambda now: self._accept_v2_message(h2, m, wire_len, now)):
            return
        if self._accept_message(m, wire_len, now):
            self._handle_ack(h2.ack_seq)

    def _accept_v2_message(self, h2: MsgHeader2, m: Message, wire_len: int,
                           now: float) -> None:
        if self._accept_message(m, wire_len, now):
            self._handle_ack(h2.ack_seq)

    def handle_keepalive2(self, frame: Keepalive2Frame, now: float) -> None:
        """KEEPALIVE2: echo the stamp."""
        self._got_keepalive2(frame.timestamp)

    def handle_keepalive2_ack(self, frame: Keepalive2AckFrame, now: float) -> None:
        """KEEPALIVE2_ACK: the peer echoed our stamp."""
        self._got_keepalive2_ack(frame.timestamp)

    def handle_ack_frame(self, frame: AckFrame, now: float) -> None:
        """ACK: trim the sent list."""
        self._handle_ack(frame.seq)

    # -- sending -----------------------------------------------------------------------

    def _write_keepalive(self, stamp: UTime) -> None:
        self._out.extend(self._asm.assemble(
            Tag.KEEPALIVE2, (Keepalive2Frame(timestamp=stamp).encode_payload(),)))

    def _write_keepalive_ack(self, stamp: UTime) -> None:
        self._out.extend(self._asm.assemble(
            Tag.KEEPALIVE2_ACK, (Keepalive2AckFrame(timestamp=stamp).encode_payload(),)))

    def _write_messages(self, batch: list[Message]) -> int:
        """MESSAGE frames; header2 carries ``in_seq`` as the piggy-backed ack."""
        s = self.session
        in_seq = s.in_seq
        assemble_message = self._asm.assemble_message
        pack = HEADER2_STRUCT.pack
        out = self._out
        start = len(out)
        for m in batch:
            out += assemble_message(
                pack(m.seq, m.tid, m.type, m.priority, m.version, 0, m.data_off, in_seq,
                     _MSG_FLAGS, m.compat_version, 0),
                m.front, m.middle, m.data)
        s.ack_left = 0
        return sum(map(len, out[start:]))

    def _write_ack(self, seq: int) -> None:
        self._out.extend(self._asm.assemble(Tag.ACK, (AckFrame(seq=seq).encode_payload(),)))

    # -- ready / faults / stop ---------------------------------------------------------

    # -- hooks -------------------------------------------------------------------------

    def _on_ready(self) -> None:
        self._asm.limits = self.options.limits

    def _retry_connect_seq(self) -> None:
        if self.session.server_cookie:
            self.session.connect_seq += 1

    def _standby_connect_seq(self) -> None:
        if self.session.server_cookie:
            self.session.connect_seq += 1

    def _reset_stream(self) -> None:
        self._pre = None
        self._banner_done = False
        self._banner_len = 0
        self._asm = FrameAssembler(limits=self.options.pre_auth_limits)
        self._transcript_on = False

    # -- helpers for the handshake mixin ---------------------------------------------

    def _verify_signature(self, signature: bytes) -> bool:
        key = self.auth_meta.session_key
        expected = hmac_sha256(key, bytes(self._tx_transcript)) if key else bytes(32)
        self._tx_transcript = bytearray()
        return digests_equal(signature, expected)

    def _own_signature(self) -> bytes:
        key = self.auth_meta.session_key
        sig = hmac_sha256(key, bytes(self._rx_transcript)) if key else bytes(32)
        self._rx_transcript = bytearray()
        self._transcript_on = False
        return sig


FRAME_HANDLERS: dict[Tag, Callable[[ProtocolV2, Any, float], None]] = {
    Tag.HELLO: hs.handle_hello,
    Tag.AUTH_REQUEST: hs.handle_auth_request,
    Tag.AUTH_BAD_METHOD: hs.handle_auth_bad_method,
    Tag.AUTH_REPLY_MORE: hs.handle_auth_reply_more,
    Tag.AUTH_REQUEST_MORE: hs.handle_auth_request_more,
    Tag.AUTH_DONE: hs.handle_auth_done,
    Tag.AUTH_SIGNATURE: hs.handle_auth_signature,
    Tag.CLIENT_IDENT: hs.handle_client_ident,
    Tag.SERVER_IDENT: hs.handle_server_ident,
    Tag.IDENT_MISSING_FEATURES: hs.handle_ident_missing_features,
    Tag.SESSION_RECONNECT: hs.handle_reconnect,
    Tag.SESSION_RESET: hs.handle_session_reset,
    Tag.SESSION_RETRY: hs.handle_session_retry,
    Tag.SESSION_RETRY_GLOBAL: hs.handle_session_retry_global,
    Tag.SESSION_RECONNECT_OK: hs.handle_reconnect_ok,
    Tag.WAIT: hs.handle_wait,
    Tag.KEEPALIVE2: ProtocolV2.handle_keepalive2,
    Tag.KEEPALIVE2_ACK: ProtocolV2.handle_keepalive2_ack,
    Tag.ACK: ProtocolV2.handle_ack_frame,
}
"""The handler of each control frame; ``FRAME_STATES`` says when it is allowed."""


def _check_partial_banner(head: Buffer) -> None:
    """Fault on the first byte that cannot start ``ceph v2\\n``.

    A msgr v1 peer sends only its 9-byte banner ``ceph v027`` and then waits for
    ours, so waiting for the 10 bytes of a v2 banner prefix would stall until the
    ready timeout; garbage is refused as early too.
    """
    have = bytes(head)
    if BANNER_PREFIX.startswith(have[: len(BANNER_PREFIX)]):
        return  # so far a v2 banner (the le16 length may follow)
    if V1_BANNER.startswith(have[: len(V1_BANNER)]) and len(have) >= len("ceph v0"):
        raise BannerMismatch("peer speaks msgr v1 (banner 'ceph v027'), not msgr2")
    raise BannerMismatch(f"bad banner {have!r}: not a Ceph msgr2 peer")




__all__ = ["AsyncmsgrError", "Counters", "ProtocolV2"]
