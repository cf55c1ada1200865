"""ProtocolV2: the msgr2.1 state machine of one connection, without I/O.

Rules of operation (the h11 / websockets model):

* Inputs: :meth:`start_connect` / :meth:`connection_made` (client),
  :meth:`start_accept` (server), received bytes via :meth:`get_buffer` +
  :meth:`buffer_updated` (``asyncio.BufferedProtocol`` shape, so the I/O layer
  can ``recv_into`` directly), :meth:`connection_lost`, :meth:`send_message`,
  :meth:`send_keepalive`, :meth:`stop`, and :meth:`handle_timer`. Every input
  takes ``now`` (monotonic seconds); the machine never reads a clock.
* Outputs: :meth:`data_to_send` (chunks for ``sendmsg``, never joined),
  :meth:`events_received` (:mod:`asyncmsgr.protocol.events`), :meth:`get_timer`
  and :attr:`wants_read` (False while a throttle holds the next message: the I/O
  layer stops reading, so back-pressure reaches TCP).
* States carry Ceph's names; every change goes through the ``state`` setter.
  Which frame is allowed in which state is the table ``FRAME_STATES``; any
  other combination faults the connection.
* Handshake phases live in :mod:`asyncmsgr.protocol.v2_handshake`; this module
  holds the receive loop, the READY phase, the send path and fault handling.
"""

from __future__ import annotations

import hmac
import logging
import random
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from asyncmsgr.auth.base import AuthClient, AuthConnectionMeta, AuthServer
from asyncmsgr.errors import (
    AsyncmsgrError,
    BannerMismatch,
    DecodeError,
    LocalProtocolError,
    MessageDecodeError,
    NonceExhausted,
    RemoteProtocolError,
    UnknownMessageType,
    UnknownTag,
)
from asyncmsgr.features import CEPH_FEATURE_RECONNECT_SEQ
from asyncmsgr.frames.assembler import FrameAssembler, Preamble
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
from asyncmsgr.message import HEADER2_STRUCT, Message, MsgHeader2, RawMessage, decode_message
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol import v2_handshake as hs
from asyncmsgr.protocol.common import (
    ACCEPTING_STATES,
    CONNECTING_STATES,
    PRE_AUTH_STATES,
    READY_STATES,
    ConnectionRegistry,
    InterceptAction,
    Interceptor,
    PolicyLike,
    ProtocolOptions,
    State,
    Step,
    ThrottleLike,
    next_backoff,
)
from asyncmsgr.protocol.rxbuffer import RxBuffer
from asyncmsgr.protocol.session import Session
from asyncmsgr.protocol.v2_handshake import FRAME_STATES
from asyncmsgr.types import (
    Buffer,
    EntityAddr,
    EntityAddrVec,
    EntityName,
    UTime,
)

logger = logging.getLogger("asyncmsgr.protocol")

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
#: States in which the machine takes no bytes (no socket, or not connected yet).
_NO_READ_STATES = frozenset({State.NONE, State.START_CONNECT, State.CLOSED})
_MSG_FLAGS = 3  # COMPLETE | NOCRC, what Pacific sends in header2
_EMPTY = b""


class Counters(Protocol):
    """Where the machine counts (the worker's ``msgr_*`` perf counters)."""

    def inc(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name``."""
        ...

    def tinc(self, name: str, seconds: float) -> None:
        """Add a duration to time counter ``name``."""
        ...


class _NoCounters:
    def inc(self, name: str, n: int = 1) -> None:
        pass

    def tinc(self, name: str, seconds: float) -> None:
        pass


class ProtocolV2:
    """One msgr2 connection's protocol state (client or server role)."""

    proto_type: ClassVar[int] = 2

    def __init__(
        self,
        *,
        owner: object,
        registry: ConnectionRegistry,
        options: ProtocolOptions,
        policy: PolicyLike,
        dispatch_throttle: ThrottleLike | None = None,
        auth_client: AuthClient | None = None,
        auth_server: AuthServer | None = None,
        peer_type: int = 0,
        target_addr: EntityAddr | None = None,
        counters: Counters | None = None,
        wallclock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
        interceptor: Interceptor | None = None,
    ) -> None:
        self.owner = owner
        self.registry = registry
        self.options = options
        self.policy = policy
        self.lossy = policy.lossy
        self.dispatch_throttle = dispatch_throttle
        self.auth_client = auth_client
        self.auth_server = auth_server
        self.peer_type = peer_type
        self.target_addr = target_addr or EntityAddr()
        self.peer_addrs = EntityAddrVec((target_addr,)) if target_addr else EntityAddrVec()
        self.peer_name = EntityName(peer_type, -1)
        self.features = 0
        self.counters: Counters = counters or _NoCounters()
        self.wallclock = wallclock or (lambda: 0.0)
        self.rng = rng or random.Random()
        self.interceptor = interceptor
        self.session = Session()
        self.keepalive = False
        self.keepalive_acks: list[UTime] = []
        self.last_keepalive = UTime()
        self.last_keepalive_ack = UTime()
        self.can_write = False
        self.replacing = False
        self.reconnecting = False
        self.backoff = 0.0
        self._state = State.NONE
        self._is_server = False
        self._rx = RxBuffer(options.rx_buffer_size)
        self._asm = FrameAssembler(limits=options.pre_auth_limits)
        self._banner_done = False
        self._banner_len = 0
        self._pre: Preamble | None = None
        self._pre_raw = _EMPTY
        self._msg_size = 0
        self._throttled: list[tuple[ThrottleLike, int]] = []
        self._out: list[Buffer] = []
        self._events: list[ev.Event] = []
        self._rx_transcript = bytearray()
        self._tx_transcript = bytearray()
        self._transcript_on = False
        self.auth_meta = AuthConnectionMeta()
        self._sent_modes: tuple[int, ...] = ()
        self.connect_started = 0.0
        self.last_active = 0.0
        self._ready_deadline: float | None = None
        self._throttle_retry_at: float | None = None
        self.handshake_counts: dict[str, int] = {}
        self.held_step: int | None = None
        self._resume: Callable[[float], None] | None = None
        self.delay_hook: Callable[[], None] | None = None

    # -- state -------------------------------------------------------------------------

    @property
    def state(self) -> State:
        """Current state (Ceph's names)."""
        return self._state

    @state.setter
    def state(self, new: State) -> None:
        if new is not self._state:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%r: %s -> %s", self, self._state.name, new.name)
            self._state = new

    def __repr__(self) -> str:
        return (f"<ProtocolV2 {'server' if self._is_server else 'client'} "
                f"{self.peer_addrs} s={self._state.name} pgs={self.session.peer_global_seq} "
                f"cs={self.session.connect_seq} l={int(self.lossy)}>")

    @property
    def is_connected(self) -> bool:
        """``can_write``: the session is established."""
        return self.can_write

    @property
    def wants_read(self) -> bool:
        """False while throttled, closed, or without a connected socket (NONE,
        START_CONNECT: bytes read before :meth:`connection_made` would be thrown
        away by its buffer reset): stop reading the socket."""
        return (self._throttle_retry_at is None and self._state not in _NO_READ_STATES
                and self.held_step is None)

    def _count(self, what: str) -> None:
        self.handshake_counts[what] = self.handshake_counts.get(what, 0) + 1

    def _intercept(self, step: Step, resume: Callable[[float], None] | None = None) -> bool:
        """Run the interceptor before step ``step``; True when the caller must return.

        ``resume`` is the rest of the step: on PAUSE it runs at :meth:`release`
        (CONTINUE), so a paused machine has done nothing of the step yet, as when
        Ceph's worker blocks in ``intercept``.
        """
        self._count(step.name)
        if self.interceptor is None:
            return False
        action = self.interceptor.intercept(self.owner, step)
        if action is InterceptAction.PAUSE:
            self.held_step = step
            self._resume = resume
            return True
        if action is InterceptAction.FAIL:
            self.fault(self.last_active, f"interceptor FAIL at step {step}")
            return True
        if action is InterceptAction.STOP:
            self.stop(queue_reset=True)
            return True
        return False

    # -- outputs -----------------------------------------------------------------------

    def release(self, now: float,
                action: InterceptAction = InterceptAction.CONTINUE) -> None:
        """End an interceptor PAUSE with ``action``: CONTINUE runs the rest of the
        held step and what arrived meanwhile; FAIL faults; STOP stops (reset)."""
        step, resume = self.held_step, self._resume
        if step is None:
            return
        self.held_step = None
        self._resume = None
        if action is InterceptAction.FAIL:
            self.fault(now, f"interceptor FAIL at step {step}")
            return
        if action is InterceptAction.STOP:
            self.stop(queue_reset=True, reason=f"interceptor STOP at step {step}")
            return
        self._process(now, resume)

    def _unhold(self) -> None:
        self.held_step = None
        self._resume = None

    def inject_delay(self) -> None:
        """A race-prone point: run the injected delay hook (``ms_inject_internal_delays``)."""
        if self.delay_hook is not None:
            self.delay_hook()

    def take_over(self, handover: hs.Handover, now: float) -> None:
        """Adopt a moved socket's stream for this session (see ``v2_handshake.take_over``)."""
        hs.take_over(self, handover, now)

    def data_to_send(self, now: float) -> list[Buffer]:
        """Chunks to write now, in order; the caller writes them with ``sendmsg``."""
        if self.held_step is not None:
            return []
        if self.can_write and self._state in READY_STATES:
            try:
                self._write_ready(now)
            except NonceExhausted as exc:  # never reuse a GCM nonce: fault, re-key
                logger.info("%r: fault: NonceExhausted: %s", self, exc)
                self.fault(now, f"NonceExhausted: {exc}")
        out = self._out
        if out:
            self._out = []
            self.last_active = now
        return out

    def has_data_to_send(self) -> bool:
        """True when :meth:`data_to_send` would return something."""
        if self.held_step is not None:
            return False
        if self._out:
            return True
        if not self.can_write:
            return False
        s = self.session
        return bool(s.out_queue) or self.keepalive or bool(self.keepalive_acks) or \
            s.ack_left > 0

    @property
    def has_events(self) -> bool:
        """True when :meth:`events_received` has something."""
        return bool(self._events)

    def events_received(self) -> list[ev.Event]:
        """Events since the last call, in order."""
        out = self._events
        self._events = []
        return out

    def get_timer(self) -> float | None:
        """The earliest deadline at which :meth:`handle_timer` must run."""
        if self.held_step is not None:
            return None
        at = self._ready_deadline
        retry = self._throttle_retry_at
        if retry is not None and (at is None or retry < at):
            at = retry
        if self.can_write and self._state in READY_STATES:
            idle = self.last_active + self.options.connection_idle_timeout
            if at is None or idle < at:
                at = idle
        return at

    def _emit(self, event: ev.Event) -> None:
        self._events.append(event)

    def _queue_frame(self, frame: ControlFrame) -> None:
        chunks = self._asm.assemble(frame.TAG, (frame.encode_payload(),))
        self._count(f"send_{frame.TAG.name}")
        if self._transcript_on:
            for c in chunks:
                self._tx_transcript += c
        self._out.extend(chunks)

    # -- starting ----------------------------------------------------------------------

    def start_connect(self, now: float) -> None:
        """Client: a connect attempt begins (the I/O layer opens a socket next)."""
        if self._state is State.CLOSED:
            return
        self.state = State.START_CONNECT
        self.connect_started = now
        self._ready_deadline = now + self.options.connection_ready_timeout

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

    def get_buffer(self) -> memoryview:
        """Where the next received bytes go (``recv_into``)."""
        return self._rx.get_buffer()

    def buffer_updated(self, nbytes: int, now: float) -> None:
        """``nbytes`` arrived in the buffer from :meth:`get_buffer`; process them."""
        self._rx.buffer_updated(nbytes)
        self.last_active = now
        self._process(now)

    def receive_data(self, data: Buffer, now: float) -> None:
        """Feed bytes held elsewhere (tests and proxies); same as recv_into."""
        self._rx.feed(data)
        self.last_active = now
        self._process(now)

    def connection_lost(self, now: float, reason: str = "connection lost") -> None:
        """The socket failed or reached EOF: fault."""
        self.fault(now, reason)

    def connection_failed(self, now: float, *, refused: bool, reason: str = "") -> None:
        """A connect attempt failed (``refused``: ECONNREFUSED)."""
        if refused:
            self._emit(ev.Refused())
        self.fault(now, reason or ("connection refused" if refused else "connect failed"))

    def _process(self, now: float, first: Callable[[float], None] | None = None) -> None:
        """Run ``first`` (a released step), then every complete frame received."""
        try:
            if first is not None:
                first(now)
            while self._step(now):
                pass
        except (RemoteProtocolError, LocalProtocolError) as exc:
            if isinstance(exc, MessageDecodeError) and self.options.die_on_bad_msg:
                raise
            logger.info("%r: fault: %s: %s", self, type(exc).__name__, exc)
            self.fault(now, f"{type(exc).__name__}: {exc}")

    def _step(self, now: float) -> bool:
        """Make one unit of progress; False when more bytes (or time) are needed."""
        state = self._state
        if state in _IDLE_STATES or self._throttle_retry_at is not None \
                or self.held_step is not None:
            return False
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
                self._msg_size = sum(pre.lengths[1:])
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

    def _take_throttles(self, now: float) -> bool:
        """THROTTLE_MESSAGE -> BYTES -> DISPATCH_QUEUE -> DONE, or pause 1 ms."""
        size = self._msg_size
        held = self._throttled
        if self._state is _THROTTLE_MESSAGE:
            t = self.policy.throttler_messages
            if t is not None:
                if not t.get_or_fail(1):
                    return self._throttle_wait(now)
                held.append((t, 1))
            self._state = _THROTTLE_BYTES
        if self._state is _THROTTLE_BYTES:
            t = self.policy.throttler_bytes
            if size and t is not None:
                if not t.get_or_fail(size):
                    return self._throttle_wait(now)
                held.append((t, size))
            self._state = _THROTTLE_DISPATCH_QUEUE
        if self._state is _THROTTLE_DISPATCH_QUEUE:
            dt = self.dispatch_throttle
            if size and dt is not None:
                if not dt.get_or_fail(size):
                    return self._throttle_wait(now)
                held.append((dt, size))
            self._state = _THROTTLE_DONE
        self._throttle_retry_at = None
        return True

    def _throttle_wait(self, now: float) -> bool:
        self._throttle_retry_at = now + self.options.throttle_retry
        return False

    def _release_throttles(self) -> None:
        """``reset_throttle``: return what a partly read message took."""
        for throttle, amount in self._throttled:
            throttle.put(amount)
        self._throttled = []
        self._throttle_retry_at = None

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
        if self.interceptor is not None and self._intercept(
                Step.HANDLE_MESSAGE,
                lambda now: self._decode_message(pre, h2, front, middle, data, now)):
            return
        self._decode_message(pre, h2, front, middle, data, now)

    def _decode_message(self, pre: Preamble, h2: MsgHeader2, front: Buffer, middle: Buffer,
                        data: Buffer, now: float) -> None:
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
                lambda now: self._accept_message(pre, h2, m, now)):
            return
        self._accept_message(pre, h2, m, now)

    def _accept_message(self, pre: Preamble, h2: MsgHeader2, m: Message, now: float) -> None:
        throttled, self._throttled = self._throttled, []
        dispatch_size = 0
        policy_holds: list[tuple[ThrottleLike, int]] = []
        for throttle, amount in throttled:
            if throttle is self.dispatch_throttle:
                dispatch_size = amount
            else:
                policy_holds.append((throttle, amount))
        if policy_holds:
            m.release_hook = _releaser(policy_holds)
        m.dispatch_throttle_size = dispatch_size
        m.recv_stamp = m.throttle_stamp = m.recv_complete_stamp = now
        s = self.session
        self._state = _READY
        if m.seq <= s.in_seq:
            logger.warning("%r: got old message %d <= %d, discarding", self, m.seq, s.in_seq)
            m.release_throttles()
            if dispatch_size:
                assert self.dispatch_throttle is not None
                self.dispatch_throttle.put(dispatch_size)
            if (self.options.die_on_old_message
                    and self.features & CEPH_FEATURE_RECONNECT_SEQ):
                raise AssertionError("old msgs despite reconnect_seq feature")
            return
        if m.seq > s.in_seq + 1:
            logger.info("%r: missed message? skipped from seq %d to %d", self, s.in_seq,
                        m.seq)
            if self.options.die_on_skipped_message:
                raise AssertionError("skipped incoming seq")
        s.in_seq = m.seq
        if not self.lossy:
            s.ack_left += 1
        self.counters.inc("msgr_recv_messages")
        self.counters.inc("msgr_recv_bytes", pre.body_len + self._asm.preamble_onwire_len)
        self._emit(ev.MessageReceived(message=m))
        self._handle_ack(h2.ack_seq)

    def _handle_ack(self, seq: int) -> None:
        if self.lossy:
            return
        acked = self.session.handle_ack(seq)
        if acked:
            self._emit(ev.MessagesAcked(messages=tuple(acked)))

    def handle_keepalive2(self, frame: Keepalive2Frame, now: float) -> None:
        """KEEPALIVE2: echo the stamp, note when we heard from the peer."""
        self.keepalive_acks.append(frame.timestamp)
        self.last_keepalive = UTime.from_float(self.wallclock())

    def handle_keepalive2_ack(self, frame: Keepalive2AckFrame, now: float) -> None:
        """KEEPALIVE2_ACK: the peer echoed our stamp."""
        self.last_keepalive_ack = frame.timestamp
        self._emit(ev.KeepaliveAck(timestamp=frame.timestamp))

    def handle_ack_frame(self, frame: AckFrame, now: float) -> None:
        """ACK: trim the sent list."""
        self._handle_ack(frame.seq)

    # -- sending -----------------------------------------------------------------------

    def send_message(self, m: Message, now: float) -> None:
        """Queue ``m`` (Ceph's ``send_message``); dropped when CLOSED."""
        if self._state is State.CLOSED:
            self._emit(ev.MessagesDropped(messages=(m,)))
            return
        self.session.out_queue.push(m)
        self._kick(now)

    def send_keepalive(self, now: float) -> None:
        """Request a KEEPALIVE2 (no-op when CLOSED)."""
        if self._state is State.CLOSED:
            return
        self.keepalive = True
        self._kick(now)

    def _kick(self, now: float) -> None:
        """A non-server in STANDBY reconnects when it has something to send."""
        if self._state is State.STANDBY and not self.policy.server:
            if self.session.server_cookie:
                self.session.connect_seq += 1
            self.start_connect(now)
            self._emit(ev.NeedConnect(at=now))

    def _write_ready(self, now: float) -> None:
        """``write_event``: keepalive, acks, queued messages, then an explicit ACK."""
        asm = self._asm
        out = self._out
        if self.keepalive:
            self.keepalive = False
            stamp = UTime.from_float(self.wallclock())
            out.extend(asm.assemble(Tag.KEEPALIVE2, (Keepalive2Frame(
                timestamp=stamp).encode_payload(),)))
        if self.keepalive_acks:
            for stamp in self.keepalive_acks:
                out.extend(asm.assemble(Tag.KEEPALIVE2_ACK, (Keepalive2AckFrame(
                    timestamp=stamp).encode_payload(),)))
            self.keepalive_acks = []
        s = self.session
        q = s.out_queue
        budget = self.options.write_batch_bytes
        lossy = self.lossy
        features = self.features
        counters = self.counters
        nmsgs = nbytes = 0
        while q and budget > 0:
            m = q.pop()
            assert m is not None
            if not lossy:
                s.sent.append(m)
            s.out_seq += 1
            m.seq = s.out_seq
            if m.send_stamp:
                counters.tinc("msgr_send_messages_queue_lat", now - m.send_stamp)
            m.prepare(features)
            header2 = HEADER2_STRUCT.pack(
                m.seq, m.tid, m.type, m.priority, m.version, 0, m.data_off, s.in_seq,
                _MSG_FLAGS, m.compat_version, 0)
            chunks = asm.assemble_message(header2, m.front, m.middle, m.data)
            out.extend(chunks)
            size = 0
            for c in chunks:
                size += len(c)
            budget -= size
            nbytes += size
            nmsgs += 1
            s.ack_left = 0
        if nmsgs:
            counters.inc("msgr_send_messages", nmsgs)
            counters.inc("msgr_send_bytes", nbytes)
        if s.ack_left and not lossy:
            s.ack_left = 0
            out.extend(asm.assemble(Tag.ACK, (AckFrame(seq=s.in_seq).encode_payload(),)))

    # -- ready / faults / stop ---------------------------------------------------------

    def ready(self, now: float) -> None:
        """The session is established (Ceph's ``ready()``)."""
        self.reconnecting = False
        self.replacing = False
        self.can_write = True
        self._ready_deadline = None
        self.last_active = now
        self._asm.limits = self.options.limits
        self.state = State.READY
        self._count("ready")
        self._intercept(Step.READY)

    def fault(self, now: float, reason: str = "") -> None:
        """Ceph's ``_fault()``: close the socket, then stop, stand by or reconnect."""
        state = self._state
        if state is State.CLOSED or state is State.NONE:
            return
        logger.debug("%r: fault (%s)", self, reason)
        self._unhold()
        if self.lossy and state not in CONNECTING_STATES:
            self.stop(queue_reset=True, reason=reason)
            return
        self.can_write = False
        self.session.requeue_sent()
        if not self.session.out_queue and state in ACCEPTING_STATES and not self.replacing:
            self.stop(queue_reset=True, reason=reason)
            return
        self.replacing = False
        self._reset_recv_state()
        self._emit(ev.CloseSocket(reason=reason or "fault"))
        self.reconnecting = False
        if (self.policy.standby and not self.session.out_queue and not self.keepalive
                and state is not State.WAIT):
            self.state = State.STANDBY
            self._ready_deadline = None
            return
        if self.policy.server:
            self.state = State.STANDBY
            self._ready_deadline = None
            return
        s = self.session
        if state not in CONNECTING_STATES and state is not State.WAIT \
                and state is not State.SESSION_ACCEPTING:
            s.connect_seq += 1
            s.global_seq = self.registry.get_global_seq()
            self.backoff = 0.0
            self.start_connect(now)
            self._emit(ev.NeedConnect(at=now))
            return
        self.backoff = next_backoff(self.backoff, self.options, wait=state is State.WAIT)
        if s.server_cookie:
            s.connect_seq += 1
        s.global_seq = self.registry.get_global_seq()
        self.state = State.START_CONNECT
        self.connect_started = now + self.backoff
        self._ready_deadline = self.connect_started + self.options.connection_ready_timeout
        self._emit(ev.NeedConnect(at=now + self.backoff))

    def _reset_recv_state(self) -> None:
        self._release_throttles()
        self._rx.reset()
        self._pre = None
        self._banner_done = False
        self._banner_len = 0
        self._out = []
        self._asm = FrameAssembler(limits=self.options.pre_auth_limits)
        self._transcript_on = False

    def stop(self, *, queue_reset: bool = False, reason: str = "stopped") -> None:
        """Close for good; with ``queue_reset`` the user gets ``ms_handle_reset``."""
        if self._state is State.CLOSED:
            return
        self._unhold()
        self._reset_recv_state()
        dropped = self.session.discard_out_queue()
        self.can_write = False
        self.state = State.CLOSED
        self._ready_deadline = None
        self._emit(ev.CloseSocket(reason=reason))
        if dropped:
            self._emit(ev.MessagesDropped(messages=tuple(dropped)))
        if queue_reset:
            self._emit(ev.ResetSession())
        self._emit(ev.Stopped())

    def reset_session(self) -> None:
        """The peer lost our session: drop queues, zero seqs (``reset_session``)."""
        dropped = self.session.reset()
        self.can_write = False
        if dropped:
            self._emit(ev.MessagesDropped(messages=tuple(dropped)))
        self._emit(ev.RemoteReset())

    def handle_timer(self, now: float) -> None:
        """Run expired deadlines: throttle retry, ready timeout, idle timeout."""
        if self.held_step is not None:
            return
        if self._throttle_retry_at is not None and now >= self._throttle_retry_at:
            self._throttle_retry_at = None
            self._process(now)
        if self._ready_deadline is not None and now >= self._ready_deadline \
                and not self.can_write:
            self._ready_deadline = None
            self.fault(now, "ready timeout")
            return
        if (self.can_write and self._state in READY_STATES
                and now - self.last_active >= self.options.connection_idle_timeout):
            self.fault(now, "idle timeout")

    # -- helpers for the handshake mixin ---------------------------------------------

    def _verify_signature(self, signature: bytes) -> bool:
        key = self.auth_meta.session_key
        expected = hmac.digest(key, bytes(self._tx_transcript), "sha256") if key else \
            bytes(32)
        self._tx_transcript = bytearray()
        return hmac.compare_digest(signature, expected)

    def _own_signature(self) -> bytes:
        key = self.auth_meta.session_key
        sig = hmac.digest(key, bytes(self._rx_transcript), "sha256") if key else bytes(32)
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


def _releaser(holds: list[tuple[ThrottleLike, int]]) -> Callable[[], None]:
    def release() -> None:
        for throttle, amount in holds:
            throttle.put(amount)
    return release


__all__ = ["AsyncmsgrError", "Counters", "ProtocolV2"]
