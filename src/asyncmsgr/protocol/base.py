"""What every protocol machine shares: Ceph's ``Protocol`` base on both msgr v1
and msgr2 (ceph-messenger.md §4): the session queues and sequence numbers, the
send / receive interface the I/O layer drives, throttles, fault handling
(``_fault()``), stop, remote reset, timers and the test interceptor.

Rules of operation (the h11 / websockets model):

* Inputs: :meth:`start_connect` / ``connection_made`` (client),
  ``start_accept`` (server), received bytes via :meth:`get_buffer` +
  :meth:`buffer_updated` (``asyncio.BufferedProtocol`` shape, so the I/O layer
  can ``recv_into`` directly), :meth:`connection_lost`, :meth:`send_message`,
  :meth:`send_keepalive`, :meth:`stop`, and :meth:`handle_timer`. Every input
  takes ``now`` (monotonic seconds); the machine never reads a clock.
* Outputs: :meth:`data_to_send` (chunks for ``sendmsg``, never joined),
  :meth:`events_received` (:mod:`asyncmsgr.protocol.events`), :meth:`get_timer`
  and :attr:`wants_read` (False while a throttle holds the next message: the I/O
  layer stops reading, so back-pressure reaches TCP).
* States carry Ceph's names; every change goes through the ``state`` setter.

A subclass provides the wire: ``_step`` (one unit of receive progress),
``_write_ready`` (encode what is queued), ``_reset_stream`` (forget the
socket's stream state), and the hooks ``_on_ready`` / ``_retry_connect_seq``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from asyncmsgr.auth.base import AuthClient, AuthConnectionMeta, AuthServer
from asyncmsgr.errors import (
    LocalProtocolError,
    MessageDecodeError,
    RemoteProtocolError,
)
from asyncmsgr.features import CEPH_FEATURE_RECONNECT_SEQ
from asyncmsgr.lazylog import DEBUG, get_logger
from asyncmsgr.message import Message
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.common import (
    ACCEPTING_STATES,
    CONNECTING_STATES,
    READY_STATES,
    UNAUTHENTICATED_ACCEPTING_STATES,
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
from asyncmsgr.types import Buffer, EntityAddr, EntityAddrVec, EntityName, UTime

logger = get_logger("asyncmsgr.ms.protocol")

_THROTTLE_MESSAGE = State.THROTTLE_MESSAGE
_THROTTLE_BYTES = State.THROTTLE_BYTES
_THROTTLE_DISPATCH_QUEUE = State.THROTTLE_DISPATCH_QUEUE
_THROTTLE_DONE = State.THROTTLE_DONE
_CLOSED = State.CLOSED
_STANDBY = State.STANDBY
#: States in which the machine takes no bytes (no socket, or not connected yet).
_NO_READ_STATES = frozenset({State.NONE, State.START_CONNECT, State.CLOSED})

class Counters(Protocol):
    """Where the machine counts (the worker's ``msgr_*`` perf counters)."""

    def inc(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name``."""
        ...

    def tinc(self, name: str, seconds: float) -> None:
        """Add a duration to time counter ``name``."""
        ...

    def tinc_many(self, name: str, seconds: float, count: int) -> None:
        """Add ``count`` samples totalling ``seconds`` to time_avg counter ``name``."""
        ...


class _NoCounters:
    def inc(self, name: str, n: int = 1) -> None:
        pass

    def tinc(self, name: str, seconds: float) -> None:
        pass

    def tinc_many(self, name: str, seconds: float, count: int) -> None:
        pass


class ProtocolBase:
    """State and behaviour common to :class:`ProtocolV1` and :class:`ProtocolV2`."""

    proto_type: ClassVar[int] = 0
    #: Faults in these states back off before reconnecting (else: at once).
    BACKOFF_STATES: ClassVar[frozenset[State]] = CONNECTING_STATES | {State.WAIT}
    #: The steady state (READY on msgr2, OPEN on v1).
    OPEN_STATE: ClassVar[State] = State.READY
    #: Bytes a message costs on the wire beyond its payload (for the write budget).
    MESSAGE_OVERHEAD: ClassVar[int] = 0

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
        #: A receive buffer shared with the other connections of the I/O thread
        #: (``options.rx_buffer_size`` bytes), or None: see :mod:`.rxbuffer`.
        self.rx_scratch: bytearray | None = None
        self._msg_size = 0
        self._throttled: list[tuple[ThrottleLike, int]] = []
        self._out: list[Buffer] = []
        #: Events in order; a received message is queued as the Message itself
        #: (wrapped in MessageReceived only by :meth:`events_received`).
        self._events: list[ev.Event | Message] = []
        self._recv_msgs = 0
        self._recv_bytes = 0
        self.auth_meta = AuthConnectionMeta()
        self.connect_started = 0.0
        self.last_active = 0.0
        self._ready_deadline: float | None = None
        self._throttle_retry_at: float | None = None
        self.handshake_counts: dict[str, int] = {}
        self.held_step: int | None = None
        self._resume: Callable[[float], None] | None = None
        self.delay_hook: Callable[[], None] | None = None
        self._init_stream()


    # -- state -------------------------------------------------------------------------

    @property
    def state(self) -> State:
        """Current state (Ceph's names)."""
        return self._state

    @state.setter
    def state(self, new: State) -> None:
        if new is not self._state:
            if logger.isEnabledFor(DEBUG):
                logger.debug("%r: %s -> %s", self, self._state.name, new.name)
            self._state = new

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {'server' if self._is_server else 'client'} "
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

    # -- outputs -----------------------------------------------------------------------

    def data_to_send(self, now: float) -> list[Buffer]:
        """Chunks to write now, in order; the caller writes them with ``sendmsg``."""
        if self.held_step is not None:
            return []
        if self.can_write and self._state in READY_STATES:
            try:
                self._write_ready(now)
            except LocalProtocolError as exc:  # e.g. NonceExhausted: fault, re-key
                logger.info("%r: fault: %s: %s", self, type(exc).__name__, exc)
                self.fault(now, f"{type(exc).__name__}: {exc}")
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
        return [ev.MessageReceived(message=e) if isinstance(e, Message) else e for e in out]

    def take_events(self) -> list[ev.Event | Message]:
        """:meth:`events_received` for the I/O layer: a received message is
        returned as the :class:`Message` itself (no wrapper per message)."""
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

    def _emit(self, event: ev.Event | Message) -> None:
        self._events.append(event)


    # -- starting ----------------------------------------------------------------------

    def start_connect(self, now: float) -> None:
        """Client: a connect attempt begins (the I/O layer opens a socket next)."""
        if self._state is State.CLOSED:
            return
        self.state = State.START_CONNECT
        self.connect_started = now
        self._ready_deadline = now + self.options.connection_ready_timeout


    # -- pre-auth memory ------------------------------------------------------------------

    @property
    def pre_auth_bytes(self) -> int:
        """Accepting a peer not authenticated yet: the bytes this machine holds for
        it (receive buffers, a shared scratch buffer excepted, and handshake
        records) plus those the item being read still needs, as announced by its
        preamble or length field; 0 otherwise. The messenger charges this to its
        ``asyncmsgr_preauth_buffer_budget`` after each input."""
        if not self._is_server or self._state not in UNAUTHENTICATED_ACCEPTING_STATES:
            return 0
        return self._rx.held + self._rx_wanted() + self._handshake_held()

    def _rx_wanted(self) -> int:
        """Bytes still to arrive for the item being read (0 between items)."""
        return 0

    def _handshake_held(self) -> int:
        """Bytes kept for the handshake besides the receive buffer (transcripts)."""
        return 0

    # -- receiving ---------------------------------------------------------------------

    def get_buffer(self) -> memoryview:
        """Where the next received bytes go (``recv_into``): :attr:`rx_scratch`
        when set, else the machine's own buffer."""
        return self._rx.get_buffer(self.rx_scratch)

    def buffer_updated(self, nbytes: int, now: float) -> None:
        """``nbytes`` arrived in the buffer from :meth:`get_buffer`; process them
        (what is left of an incomplete frame is then moved off the scratch buffer)."""
        rx = self._rx
        rx.buffer_updated(nbytes)
        self.last_active = now
        try:
            self._process(now)
        finally:
            rx.detach()

    def receive_data(self, data: Buffer, now: float) -> None:
        """Feed bytes held elsewhere (tests and proxies); same as recv_into."""
        view = memoryview(data)
        self.last_active = now
        while True:
            taken = self._rx.feed(view)
            view = view[taken:]
            self._process(now)
            if not len(view) or self._state is State.CLOSED:
                return
            if not taken and self._rx.receiving_big and self._rx.big_complete():
                raise RuntimeError("receive_data: a received body is held (paused or "
                                   "throttled); feed the rest after it is taken")

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
        finally:
            if self._recv_msgs:  # msgr_recv_* counted once per batch of input
                self.counters.inc("msgr_recv_messages", self._recv_msgs)
                self.counters.inc("msgr_recv_bytes", self._recv_bytes)
                self._recv_msgs = self._recv_bytes = 0


    # -- READY: messages ---------------------------------------------------------------

    def _take_throttles(self, now: float) -> bool:
        """THROTTLE_MESSAGE -> BYTES -> DISPATCH_QUEUE -> DONE, or pause 1 ms."""
        size = self._msg_size
        held = self._throttled
        state = self._state
        if state is _THROTTLE_MESSAGE:
            t = self.policy.throttler_messages
            if t is not None:
                if not t.get_or_fail(1):
                    return self._throttle_wait(now)
                held.append((t, 1))
            state = self._state = _THROTTLE_BYTES
        if state is _THROTTLE_BYTES:
            t = self.policy.throttler_bytes
            if size and t is not None:
                if not t.get_or_fail(size):
                    return self._throttle_wait(now)
                held.append((t, size))
            state = self._state = _THROTTLE_DISPATCH_QUEUE
        if state is _THROTTLE_DISPATCH_QUEUE:
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

    def _accept_message(self, m: Message, wire_len: int, now: float) -> bool:
        """Stamp, attach throttles and check the seq of a decoded message; emit it.

        False when it was an old duplicate (dropped, throttles returned).
        """
        throttled = self._throttled
        dispatch_size = 0
        if throttled:
            self._throttled = []
            dt = self.dispatch_throttle
            policy_holds: list[tuple[ThrottleLike, int]] = []
            for throttle, amount in throttled:
                if throttle is dt:
                    dispatch_size = amount
                else:
                    policy_holds.append((throttle, amount))
            if policy_holds:
                m.release_hook = _Releaser(policy_holds)
            m.dispatch_throttle_size = dispatch_size
        m.recv_stamp = m.throttle_stamp = m.recv_complete_stamp = now
        s = self.session
        self._state = self.OPEN_STATE
        seq = m.seq
        if seq != s.in_seq + 1:
            if seq <= s.in_seq:
                logger.warning("%r: got old message %d <= %d, discarding", self, seq,
                               s.in_seq)
                m.release_throttles()
                if dispatch_size:
                    assert self.dispatch_throttle is not None
                    self.dispatch_throttle.put(dispatch_size)
                if (self.options.die_on_old_message
                        and self.features & CEPH_FEATURE_RECONNECT_SEQ):
                    raise AssertionError("old msgs despite reconnect_seq feature")
                return False
            logger.info("%r: missed message? skipped from seq %d to %d", self, s.in_seq,
                        seq)
            if self.options.die_on_skipped_message:
                raise AssertionError("skipped incoming seq")
        s.in_seq = seq
        if not self.lossy:
            s.ack_left += 1
        self._recv_msgs += 1
        self._recv_bytes += wire_len
        self._events.append(m)
        return True

    def _handle_ack(self, seq: int) -> None:
        if self.lossy:
            return
        sent = self.session.sent
        if sent and sent[0].seq <= seq:
            self._emit(ev.MessagesAcked(messages=tuple(self.session.handle_ack(seq))))

    def _got_keepalive2(self, stamp: UTime) -> None:
        """KEEPALIVE2: echo the stamp, note when we heard from the peer."""
        self.keepalive_acks.append(stamp)
        self.last_keepalive = UTime.from_float(self.wallclock())

    def _got_keepalive2_ack(self, stamp: UTime) -> None:
        """KEEPALIVE2_ACK: the peer echoed our stamp."""
        self.last_keepalive_ack = stamp
        self._emit(ev.KeepaliveAck(timestamp=stamp))

    # -- sending -----------------------------------------------------------------------

    def send_message(self, m: Message, now: float) -> None:
        """Queue ``m`` (Ceph's ``send_message``); dropped when CLOSED."""
        state = self._state
        if state is _CLOSED:
            self._emit(ev.MessagesDropped(messages=(m,)))
            return
        self.session.out_queue.push(m)
        if state is _STANDBY:
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
            self._standby_connect_seq()
            self.start_connect(now)
            self._emit(ev.NeedConnect(at=now))


    # -- ready / faults / stop ---------------------------------------------------------

    def ready(self, now: float) -> None:
        """The session is established (Ceph's ``ready()``)."""
        self.reconnecting = False
        self.replacing = False
        self.can_write = True
        self._ready_deadline = None
        self.last_active = now
        self._on_ready()
        self.state = self.OPEN_STATE
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
        if state not in self.BACKOFF_STATES:
            s.connect_seq += 1
            s.global_seq = self.registry.get_global_seq()
            self.backoff = 0.0
            self.start_connect(now)
            self._emit(ev.NeedConnect(at=now))
            return
        self.backoff = next_backoff(self.backoff, self.options, wait=state is State.WAIT)
        self._retry_connect_seq()
        s.global_seq = self.registry.get_global_seq()
        self.state = State.START_CONNECT
        self.connect_started = now + self.backoff
        self._ready_deadline = self.connect_started + self.options.connection_ready_timeout
        self._emit(ev.NeedConnect(at=now + self.backoff))

    def _reset_recv_state(self) -> None:
        self._release_throttles()
        self._rx.reset()
        self._out = []
        self._reset_stream()

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

    def _begin_take_over(self, *, reset_existing: bool) -> bool:
        """The common start of ``take_over`` (Ceph's replace / reuse_connection):
        False when this connection closed meanwhile; else optionally reset the
        session (the peer restarted), drop what a half-read message holds, and
        requeue the unacknowledged messages for the new socket."""
        if self._state is State.CLOSED:
            return False
        if reset_existing:
            self.reset_session()
        self._release_throttles()
        self.can_write = False
        self.session.requeue_sent()
        self._out = []
        return True

    # -- what a protocol provides ------------------------------------------------------

    def _init_stream(self) -> None:
        """Create the protocol's stream state (called at the end of ``__init__``)."""

    def connection_made(self, now: float) -> None:
        """Client: the TCP connection is up; start the handshake."""
        raise NotImplementedError

    def start_accept(self, now: float, peer_socket_addr: EntityAddr) -> None:
        """Server: a socket was accepted; start the handshake."""
        raise NotImplementedError

    def take_over(self, handover: Any, now: float) -> None:
        """Adopt a socket moved from an accepting connection into this session."""
        raise NotImplementedError

    def _step(self, now: float) -> bool:
        """Make one unit of receive progress; False when more bytes (or time) are needed."""
        raise NotImplementedError

    def _write_ready(self, now: float) -> None:
        """``write_event``: keepalive, keepalive acks, queued messages (stamped
        with their seq; kept in ``sent`` on a lossless session), then an
        explicit ACK if received messages are still unacknowledged."""
        if self.keepalive:
            self.keepalive = False
            self._write_keepalive(UTime.from_float(self.wallclock()))
        if self.keepalive_acks:
            acks, self.keepalive_acks = self.keepalive_acks, []
            for stamp in acks:
                self._write_keepalive_ack(stamp)
        s = self.session
        q = s.out_queue
        if q:
            batch: list[Message] = []
            budget = self.options.write_batch_bytes
            overhead = self.MESSAGE_OVERHEAD
            features = self.features
            sent = None if self.lossy else s.sent
            seq = s.out_seq
            lat = 0.0
            nlat = 0
            while q and budget > 0:
                m = q.pop()
                assert m is not None
                if sent is not None:
                    sent.append(m)
                seq += 1
                m.seq = seq
                if m.send_stamp:
                    lat += now - m.send_stamp
                    nlat += 1
                m.prepare(features)
                budget -= len(m.front) + len(m.middle) + len(m.data) + overhead
                batch.append(m)
            s.out_seq = seq
            counters = self.counters
            if nlat:
                counters.tinc_many("msgr_send_messages_queue_lat", lat, nlat)
            counters.inc("msgr_send_messages", len(batch))
            counters.inc("msgr_send_bytes", self._write_messages(batch))
        if s.ack_left and not self.lossy:
            s.ack_left = 0
            self._write_ack(s.in_seq)

    def _write_keepalive(self, stamp: UTime) -> None:
        """Queue a KEEPALIVE2 carrying our clock's ``stamp``."""
        raise NotImplementedError

    def _write_keepalive_ack(self, stamp: UTime) -> None:
        """Queue a KEEPALIVE2_ACK echoing ``stamp``."""
        raise NotImplementedError

    def _write_messages(self, batch: list[Message]) -> int:
        """Encode prepared, sequenced messages into ``self._out``; return the bytes."""
        raise NotImplementedError

    def _write_ack(self, seq: int) -> None:
        """Queue an explicit ACK of ``seq``."""
        raise NotImplementedError

    def _reset_stream(self) -> None:
        """Forget the socket's stream state (framing, crypto, handshake progress)."""
        raise NotImplementedError

    def _on_ready(self) -> None:
        """The session just became established (hook)."""

    def _retry_connect_seq(self) -> None:
        """A connect attempt failed and will be retried: adjust connect_seq (hook)."""

    def _standby_connect_seq(self) -> None:
        """Leaving STANDBY to reconnect: adjust connect_seq (hook)."""


class _Releaser:
    """A message's ``release_hook``: gives back the policy throttles it holds."""

    __slots__ = ("holds",)

    def __init__(self, holds: list[tuple[ThrottleLike, int]]) -> None:
        self.holds = holds

    def __call__(self) -> None:
        for throttle, amount in self.holds:
            throttle.put(amount)
