"""AsyncConnection: a socket, an EventCenter and a sans-I/O protocol machine.

The seed's design on asyncio: a non-blocking socket driven by the center's file
events. Reading is ``sock.recv_into(core.get_buffer())`` (the machine owns a
reused receive buffer and receives large segments straight into their own
buffer); writing is ``sock.sendmsg(chunks)`` so header, front, middle and data
go out without being joined (Python 3.11's transports join ``writelines``).
Frames are queued and flushed once per loop iteration.

Everything touching the socket or the machine runs on the owning center's
thread; the public methods may be called from any thread and hop over with
``dispatch_event_external`` when needed.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import errno
import functools
import itertools
import logging
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from asyncmsgr.aio.event_center import EVENT_READABLE, EVENT_WRITABLE, EventCenter, Worker
from asyncmsgr.aio.inject import DelayedDelivery, FaultInjector
from asyncmsgr.aio.limits import refusing_limit
from asyncmsgr.aio.waiters import SessionWaiters, settle_threadsafe
from asyncmsgr.connection import Connection
from asyncmsgr.errors import ConnectionBroken, ConnectionClosed
from asyncmsgr.frames.v2 import CON_MODE_SECURE
from asyncmsgr.message import Message
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import (
    UNAUTHENTICATED_ACCEPTING_STATES,
    InterceptAction,
    State,
)
from asyncmsgr.types import (
    AF_INET6,
    AddrType,
    Buffer,
    EntityAddr,
    EntityAddrVec,
    EntityName,
    UTime,
)

if TYPE_CHECKING:
    from asyncmsgr.messenger import Messenger

logger = logging.getLogger("asyncmsgr.ms.connection")

_conn_ids = itertools.count(1)
#: Most chunks handed to one sendmsg call (Linux IOV_MAX is 1024).
_IOV_MAX = 512
#: Bytes read per readable event before yielding to other connections.
_READ_BUDGET = 4 << 20


def sockaddr_of(addr: EntityAddr) -> tuple[object, ...]:
    """The Python socket address tuple of an entity address."""
    if addr.family == AF_INET6:
        return (addr.host, addr.port, addr.flowinfo, addr.scope_id)
    return (addr.host, addr.port)


def addr_from_sockaddr(sa: tuple[object, ...], *, type: int = AddrType.MSGR2,
                       nonce: int = 0) -> EntityAddr:
    """An entity address from a ``getpeername()``/``accept()`` tuple."""
    host = str(sa[0]).split("%", 1)[0]
    port = sa[1]
    assert isinstance(port, int)
    return EntityAddr.from_host(host, port, type=type, nonce=nonce)


class AsyncConnection(Connection):
    """One session with a peer over msgr2 or msgr v1 (Ceph's ``AsyncConnection``)."""

    def __init__(self, messenger: Messenger, worker: Worker, core: ProtocolBase, *,
                 anon: bool = False) -> None:
        self.conn_id = next(_conn_ids)
        self.msgr = messenger
        self.worker = worker
        self.center: EventCenter = worker.center
        self.core = core
        core.rx_scratch = worker.rx_scratch(messenger.options.rx_buffer_size)
        self._anon = anon
        self._sock: socket.socket | None = None
        self._fd = -1
        self._pending: list[Buffer] = []
        self._read_registered = False
        self._write_registered = False
        self._flush_scheduled = False
        #: True while a socket event handler of this connection runs: it flushes
        #: when it ends, so sends made meanwhile (replies) need no flush callback.
        self._in_event = False
        self._timer_id: int | None = None
        self._timer_at: float | None = None
        self._connect_timer: int | None = None
        self._waiters = SessionWaiters()
        self._closed = False
        self._marked_down = False
        self.counters = messenger.counters_for(worker)
        #: None unless fault injection is configured (the hot path checks once).
        self._inject: FaultInjector | None = messenger.injector if \
            messenger.injection_enabled else None
        self._delayed: DelayedDelivery | None = None
        self._delay_timer: int | None = None
        #: An accepted connection whose peer has not authenticated yet: what its
        #: machine holds is charged to ``messenger.preauth_budget`` (see
        #: :meth:`_charge_pre_auth`); cleared for good once authenticated.
        self._pre_auth = False
        self._pre_auth_charged = 0
        #: Why the socket last closed (a fault's reason, ``stopped``...).
        self.last_close_reason = ""

    # -- Connection API (any thread) ---------------------------------------------------

    def send_message(self, m: Message) -> None:
        """Queue ``m``; never blocks."""
        msgr = self.msgr
        if not m.priority:
            m.priority = msgr.default_send_priority
        m.src = msgr.my_name
        now = m.send_stamp = time.monotonic()
        inj = self._inject
        if inj is not None and inj.blackholed(self.core.peer_type):
            logger.debug("%r: blackholed %r", self, m)
            return
        if len(m.data) > msgr.config.asyncmsgr_max_data_segment:
            # a peer with the same limit refuses the frame and resets the session:
            # say why here too, where the message comes from
            logger.warning("%r: sending %r with a data segment of %d bytes, above "
                           "asyncmsgr_max_data_segment = %d: a peer with the same limit "
                           "refuses it and drops the connection", self, m, len(m.data),
                           msgr.config.asyncmsgr_max_data_segment)
        if self.center.in_thread():
            self._send(m, now)
        else:
            self.center.dispatch_event_external(functools.partial(self._send_external, m))

    def send_keepalive(self) -> None:
        """Queue a KEEPALIVE2."""
        self._run(lambda: self._do(self.core.send_keepalive))

    def mark_down(self) -> None:
        """Close now, discarding queues, without a reset callback."""
        self._marked_down = True
        self._run(lambda: self._do(lambda now: self.core.stop()))

    def stop(self, *, queue_reset: bool) -> None:
        """Close now; ``queue_reset`` delivers ``ms_handle_reset`` (``mark_down(addr)``)."""
        self._marked_down = True
        self._run(lambda: self._do(lambda now: self.core.stop(queue_reset=queue_reset)))

    @property
    def marked_down(self) -> bool:
        """True once :meth:`mark_down` or :meth:`stop` was called (from any thread),
        even before the owning thread has closed the socket."""
        return self._marked_down or self.core.state is State.CLOSED

    def mark_disposable(self) -> None:
        """Make the session lossy."""
        def go() -> None:
            self.core.lossy = True
        self._run(go)

    def is_connected(self) -> bool:
        """True once the session is established and until it faults or is marked down
        (false as soon as :meth:`mark_down` returns, as in Ceph, whatever the thread)."""
        return not self._marked_down and self.core.is_connected

    @property
    def state(self) -> State:
        """The protocol state (Ceph's names)."""
        return self.core.state

    @property
    def peer_type(self) -> int:
        """The peer's entity type."""
        return self.core.peer_type

    @property
    def peer_addrs(self) -> EntityAddrVec:
        """The peer's addresses."""
        return self.core.peer_addrs

    @property
    def peer_name(self) -> EntityName:
        """``entity_name_t`` of the peer."""
        return self.core.peer_name

    @property
    def features(self) -> int:
        """Negotiated features."""
        return self.core.features

    @property
    def is_loopback(self) -> bool:
        """Never: this is a socket connection."""
        return False

    @property
    def is_anon(self) -> bool:
        """True for ``connect_to(..., anon=True)``."""
        return self._anon

    @property
    def is_msgr2(self) -> bool:
        """True when this connection speaks msgr2 (False: msgr v1)."""
        return self.core.proto_type == 2

    @property
    def last_keepalive(self) -> UTime:
        """When the peer last sent KEEPALIVE2 (its clock)."""
        return self.core.last_keepalive

    @property
    def last_keepalive_ack(self) -> UTime:
        """The stamp of the last KEEPALIVE2_ACK."""
        return self.core.last_keepalive_ack

    def set_injector(self, injector: FaultInjector | None,
                     delay: Callable[[], None] | None) -> None:
        """Use ``injector`` from now on (None: no injection) and ``delay`` at the
        protocol's race points (``config set ms_inject_*`` at runtime)."""
        self._inject = injector
        self.core.delay_hook = delay

    def status(self, registry: str) -> dict[str, object]:
        """This connection for ``messenger status`` (read from any thread: a
        snapshot that may be a step behind the owning worker). ``registry``:
        ``registered``, ``anon`` or ``accepting``."""
        core = self.core
        s = core.session
        return {
            "conn_id": self.conn_id, "registry": registry,
            "protocol": "v2" if core.proto_type == 2 else "v1",
            "state": core.state.name, "peer_name": str(core.peer_name),
            "peer_addrs": str(core.peer_addrs), "lossy": core.lossy,
            "marked_down": self._marked_down, "features": f"{core.features:#x}",
            "con_mode": ("secure" if core.auth_meta.con_mode == CON_MODE_SECURE else "crc")
            if core.proto_type == 2 else None,
            "worker": self.worker.worker_id,
            "out_queue": len(s.out_queue), "sent_unacked": len(s.sent),
            "in_seq": s.in_seq, "out_seq": s.out_seq, "connect_seq": s.connect_seq,
            "global_seq": s.global_seq, "peer_global_seq": s.peer_global_seq,
            "pending_send_chunks": len(self._pending),
        }

    async def wait_acked(self, m: Message) -> None:
        """Resolve when the peer acknowledged ``m`` (lossless sessions only).

        Raises ConnectionClosed if the message was discarded (mark_down, reset)
        or the connection is closed, and ValueError on a lossy session, which
        never acknowledges (also when the server makes the session lossy while
        we wait).
        """
        if self.core.lossy:
            raise ValueError("lossy sessions do not acknowledge messages")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def register() -> None:  # on the owning thread: settle thread-safely
            core = self.core
            s = core.session
            if m.seq and m.seq <= self._waiters.acked_seq and m not in s.sent \
                    and m not in s.out_queue:
                settle_threadsafe(fut, None)  # acknowledged already
            elif core.state is State.CLOSED:
                settle_threadsafe(fut, ConnectionClosed(f"{self!r} is closed"))
            elif core.lossy:
                settle_threadsafe(fut, ValueError("lossy sessions do not acknowledge messages"))
            else:
                self._waiters.add_ack_waiter(m, fut)
        self._run(register)
        await fut

    async def wait_connected(self) -> None:
        """Resolve once the session is established; ConnectionClosed if it closes first."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def register() -> None:
            if self.core.is_connected:
                settle_threadsafe(fut, None)
            elif self.core.state is State.CLOSED:
                settle_threadsafe(fut, ConnectionClosed(f"{self!r} is closed"))
            else:
                self._waiters.add_connect_waiter(fut)
        self._run(register)
        await fut

    # -- thread hopping ------------------------------------------------------------------

    def _run(self, fn: Callable[[], None]) -> None:
        if self.center.in_thread():
            fn()
        else:
            self.center.dispatch_event_external(fn)

    def _do(self, action: Callable[[float], None]) -> None:
        now = time.monotonic()
        action(now)
        self._after_input(now)

    def _send_external(self, m: Message) -> None:
        self._send(m, time.monotonic())

    def _send(self, m: Message, now: float) -> None:
        core = self.core
        core.send_message(m, now)
        if self._in_event or (self._flush_scheduled and not core.has_events):
            return  # the running event handler (or the scheduled flush) writes it
        self._after_input(now, flush_soon=True)

    # -- starting ----------------------------------------------------------------------

    def start_connect(self) -> None:
        """Client: begin connecting (on the owning thread)."""
        def go() -> None:
            now = time.monotonic()
            self.core.start_connect(now)
            self._open_socket()
        self._run(go)

    def start_accept(self, sock: socket.socket, peer: EntityAddr) -> None:
        """Server: adopt an accepted socket (on the owning thread)."""
        def go() -> None:
            self._adopt(sock)
            self._pre_auth = self.msgr.preauth_budget is not None
            now = time.monotonic()
            self.core.start_accept(now, peer)
            self._register_read()
            self._after_input(now)
        self._run(go)

    def _adopt(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        if self.msgr.config.ms_tcp_nodelay:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rcvbuf = self.msgr.config.ms_tcp_rcvbuf
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self._sock = sock
        self._fd = sock.fileno()
        self._pending = []

    def _open_socket(self) -> None:
        target = self.core.target_addr
        family = socket.AF_INET6 if target.family == AF_INET6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        self._adopt(sock)
        self.counters.inc("msgr_created_connections")
        err = sock.connect_ex(sockaddr_of(target))
        if err in (0, errno.EINPROGRESS, errno.EAGAIN):
            self.center.create_file_event(self._fd, EVENT_WRITABLE, self._on_connect_ready)
            self._write_registered = True
            return
        self._connect_failed(err)

    def _on_connect_ready(self, fd: int) -> None:
        sock = self._sock
        if sock is None or fd != self._fd:
            return
        self.center.delete_file_event(fd, EVENT_WRITABLE)
        self._write_registered = False
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._connect_failed(err)
            return
        now = time.monotonic()
        self.core.connection_made(now)
        self._register_read()
        self._after_input(now)

    def _connect_failed(self, err: int) -> None:
        now = time.monotonic()
        logger.debug("%r: connect failed: %s", self, errno.errorcode.get(err, err))
        self._close_socket()
        self.core.connection_failed(now, refused=err == errno.ECONNREFUSED,
                                    reason=f"connect: {errno.errorcode.get(err, err)}")
        self._after_input(now)

    # -- socket events -----------------------------------------------------------------

    def _register_read(self) -> None:
        if not self._read_registered and self._sock is not None:
            self.center.create_file_event(self._fd, EVENT_READABLE, self._on_readable)
            self._read_registered = True

    def _on_readable(self, fd: int) -> None:
        sock = self._sock
        core = self.core
        if sock is None or fd != self._fd:
            return
        now = time.monotonic()
        budget = _READ_BUDGET
        inj = self._inject
        self._in_event = True
        try:
            while budget > 0 and core.wants_read and self._sock is sock:
                if inj is not None and inj.fail_socket_op(self):
                    _inject_shutdown(sock, "read")
                buf = core.get_buffer()
                try:
                    n = sock.recv_into(buf)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as exc:
                    core.connection_lost(now, f"read: {exc}")
                    break
                if n == 0:
                    core.connection_lost(now, "peer closed the connection")
                    break
                budget -= n
                core.buffer_updated(n, now)
                if core.has_events:
                    self._handle_events(now)
                if n < len(buf):
                    break  # a short read: the socket is drained, skip the EAGAIN round trip
        finally:
            self._in_event = False
        spent = time.monotonic() - now
        counters = self.counters
        counters.tinc("msgr_running_recv_time", spent)
        counters.tinc("msgr_running_total_time", spent)
        self._after_input(now)

    def _on_writable(self, fd: int) -> None:
        if fd == self._fd:
            self._flush()

    def _flush_soon(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.center.loop.call_soon(self._flush_cb)

    def _flush_cb(self) -> None:
        self._flush_scheduled = False
        self._flush()

    def _flush(self) -> None:
        """Write what the machine has, with ``sendmsg``; arm WRITABLE if blocked."""
        sock = self._sock
        if sock is None:
            return
        core = self.core
        now = time.monotonic()
        pending = self._pending
        while True:
            if not pending:
                if core.state is State.START_CONNECT or core.state is State.CLOSED:
                    break
                pending.extend(core.data_to_send(now))
                if not pending:
                    break
            inj = self._inject
            if inj is not None:
                if inj.fail_socket_op(self):
                    _inject_shutdown(sock, "send")
                elif inj.congested():
                    break  # as if the socket said EAGAIN: wait for WRITABLE
            batch = pending[:_IOV_MAX] if len(pending) > _IOV_MAX else pending
            try:
                sent = sock.sendmsg(batch)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self._pending = pending = []
                core.connection_lost(now, f"write: {exc}")
                break
            if batch is pending and sent == sum(map(len, pending)):
                pending.clear()  # all written (the common case): no walk over the chunks
            else:
                _advance(pending, sent)
        spent = time.monotonic() - now
        self.counters.tinc("msgr_running_send_time", spent)
        self.counters.tinc("msgr_running_total_time", spent)
        if pending and self._sock is sock:
            if not self._write_registered:
                self.center.create_file_event(self._fd, EVENT_WRITABLE, self._on_writable)
                self._write_registered = True
        elif self._write_registered and self._sock is sock:
            self.center.delete_file_event(self._fd, EVENT_WRITABLE)
            self._write_registered = False
        if core.has_events:
            self._handle_events(now)
        self._arm_timer()

    def _after_input(self, now: float, *, flush_soon: bool = False) -> None:
        core = self.core
        if self._pre_auth:
            self._charge_pre_auth(now)
        if core.has_events:
            self._handle_events(now)
        if self._sock is not None:
            if core.wants_read:
                self._register_read()
            elif self._read_registered:
                self.center.delete_file_event(self._fd, EVENT_READABLE)
                self._read_registered = False
            if core.has_data_to_send() or self._pending:
                if flush_soon:
                    self._flush_soon()
                else:
                    self._flush()
        self._arm_timer()

    def _charge_pre_auth(self, now: float) -> None:
        """Bring this connection's charge to the messenger's pre-auth budget up to
        what its machine now holds for an unauthenticated peer
        (``core.pre_auth_bytes``); fault the connection when the growth does not
        fit. The charge is dropped once the peer authenticated or the socket
        closed."""
        budget = self.msgr.preauth_budget
        assert budget is not None
        want = self.core.pre_auth_bytes if self._sock is not None else 0
        held = self._pre_auth_charged
        if want <= held:
            if want < held:
                budget.put(held - want)
                self._pre_auth_charged = want
            if not want and self.core.state not in UNAUTHENTICATED_ACCEPTING_STATES:
                self._pre_auth = False  # authenticated (or closed): never again
            return
        if budget.get_or_fail(want - held):
            self._pre_auth_charged = want
            return
        budget.put(held)
        self._pre_auth_charged = 0
        self._pre_auth = False
        reason = (f"pre-auth buffer budget exhausted: {want} bytes wanted, "
                  f"{budget.current} of {budget.max} held by unauthenticated peers")
        logger.info("%r: %s", self, reason)
        self.core.fault(now, reason)

    def detach_socket(self) -> socket.socket | None:
        """Give up the socket without closing it (it moves to another connection);
        call on the owning thread."""
        sock = self._sock
        if sock is None:
            return None
        self.center.delete_file_event(self._fd, EVENT_READABLE | EVENT_WRITABLE)
        self._read_registered = self._write_registered = False
        self._sock = None
        self._fd = -1
        self._pending = []
        return sock

    def adopt_handover(self, sock: socket.socket | None, handover: object) -> None:
        """Take a socket moved from an accepting connection into this session
        (Ceph's ``reuse_connection``), on this connection's thread."""
        def go() -> None:
            now = time.monotonic()
            if sock is None or self.core.state is State.CLOSED:
                if sock is not None:
                    sock.close()
                return
            self._close_socket()
            if self._connect_timer is not None:
                self.center.delete_time_event(self._connect_timer)
                self._connect_timer = None
            self._marked_down = False
            self._adopt(sock)
            self.core.take_over(handover, now)
            self._register_read()
            self._after_input(now)
        self._run(go)

    def release(self, action: InterceptAction = InterceptAction.CONTINUE) -> None:
        """End an interceptor PAUSE on this connection with ``action`` (any thread)."""
        self._run(lambda: self._do(lambda now: self.core.release(now, action)))

    def _note_close(self, reason: str) -> None:
        """Remember why the socket closes; a frame refused for its size is logged
        at level 0 with the option that refused it (a peer sending more than
        this messenger's limits allow is a configuration mismatch)."""
        self.last_close_reason = reason
        if reason.startswith("FrameTooLarge"):
            option = refusing_limit(reason, self.msgr.config)
            logger.warning("%r: refused a frame from %s: %s (the limit is %s)", self,
                           self.core.peer_addrs, reason.partition(": ")[2], option)

    def _close_socket(self) -> None:
        sock = self._sock
        if sock is None:
            return
        self.center.delete_file_event(self._fd, EVENT_READABLE | EVENT_WRITABLE)
        self._read_registered = self._write_registered = False
        self._sock = None
        self._fd = -1
        self._pending = []
        with contextlib.suppress(OSError):
            sock.close()

    # -- timers --------------------------------------------------------------------------

    def _arm_timer(self) -> None:
        at = self.core.get_timer()
        if at is None:
            return
        if self._timer_at is not None and self._timer_at <= at:
            return
        if self._timer_id is not None:
            self.center.delete_time_event(self._timer_id)
        self._timer_at = at
        delay_us = max(0, int((at - time.monotonic()) * 1e6))
        self._timer_id = self.center.create_time_event(delay_us, self._on_timer)

    def _on_timer(self, _id: int) -> None:
        self._timer_id = None
        self._timer_at = None
        now = time.monotonic()
        self.core.handle_timer(now)
        self._after_input(now)

    # -- protocol events -------------------------------------------------------------

    def _handle_events(self, now: float) -> None:
        msgr = self.msgr
        deliver = msgr.deliver_received if self._inject is None else None
        spent = 0.0
        for e in self.core.take_events():
            if isinstance(e, Message):  # received, in order
                if deliver is not None:
                    spent += deliver(self, e)
                else:
                    self._deliver_injected(e)
            elif isinstance(e, ev.MessagesAcked):
                ack_start = time.monotonic()
                self._waiters.acked(e.messages)
                self.counters.tinc("msgr_handle_ack_lat", time.monotonic() - ack_start)
            elif isinstance(e, ev.CloseSocket):
                self._note_close(e.reason)
                self._close_socket()
            elif isinstance(e, ev.NeedConnect):
                self._schedule_connect(e.at)
            elif isinstance(e, ev.Connected):
                self._maybe_start_delay()
                if self.core.lossy:  # the server decided: nothing will be acked
                    self._waiters.fail_acks(
                        ValueError("the server made the session lossy: no acks"))
                msgr.dispatch_queue.queue_connect(self)
                msgr.chain.fast_connect(self)
                self._waiters.wake_connected(None)
            elif isinstance(e, ev.Accepted):
                self._maybe_start_delay()
                msgr.dispatch_queue.queue_accept(self)
                msgr.chain.fast_accept(self)
                self._waiters.wake_connected(None)
            elif isinstance(e, ev.MessagesDropped):
                self._waiters.discarded(e.messages)
            elif isinstance(e, ev.ResetSession):
                msgr.dispatch_queue.queue_reset(self)
            elif isinstance(e, ev.RemoteReset):
                self._waiters.acked_seq = 0  # a new session numbers from 1 again
                self._discard_delayed()
                msgr.dispatch_queue.discard_queue(self.conn_id)
                msgr.dispatch_queue.queue_remote_reset(self)
            elif isinstance(e, ev.Refused):
                msgr.dispatch_queue.queue_refused(self)
            elif isinstance(e, ev.Stopped):
                self._on_stopped()
        if spent:
            self.counters.tinc("msgr_running_fast_dispatch_time", spent)

    def _deliver(self, m: Message) -> None:
        """Deliver one message outside a batch (injected delays)."""
        spent = self.msgr.deliver_received(self, m)
        if spent:
            self.counters.tinc("msgr_running_fast_dispatch_time", spent)

    # -- injection (only when configured) ------------------------------------------

    def _deliver_injected(self, m: Message) -> None:
        """Blackhole or delay a received message before the normal delivery."""
        inj = self._inject
        assert inj is not None
        msgr = self.msgr
        if inj.blackholed(self.core.peer_type):
            msgr.dispatch_queue.release_message(m)  # in_seq advanced; acked; dropped
            return
        delayed = self._delayed
        if delayed is None:
            self._deliver(m)
            return
        delayed.queue(time.monotonic() + inj.delivery_delay(), m)
        self._arm_delay_timer()

    def _maybe_start_delay(self) -> None:
        """``maybe_start_delay_thread``: attach DelayedDelivery for the listed types."""
        inj = self._inject
        if inj is not None and self._delayed is None and inj.delays_peer(self.core.peer_type):
            self._delayed = DelayedDelivery()

    def _arm_delay_timer(self) -> None:
        delayed = self._delayed
        if delayed is None or self._delay_timer is not None:
            return
        at = delayed.next_deadline()
        if at is None:
            return
        delay_us = max(0, int((at - time.monotonic()) * 1e6))
        self._delay_timer = self.center.create_time_event(delay_us, self._on_delay_timer)

    def _on_delay_timer(self, _id: int) -> None:
        self._delay_timer = None
        delayed = self._delayed
        if delayed is None:
            return
        for m in delayed.pop_due(time.monotonic()):
            self._deliver(m)
        self._arm_delay_timer()

    def _discard_delayed(self) -> None:
        if self._delayed is not None:
            self._delayed.discard(self.msgr.dispatch_queue.release_message)

    def _flush_delayed(self) -> None:
        delayed = self._delayed
        if delayed is None:
            return
        if self._delay_timer is not None:
            self.center.delete_time_event(self._delay_timer)
            self._delay_timer = None
        for m in delayed.flush():
            self._deliver(m)

    def _schedule_connect(self, at: float) -> None:
        if self._connect_timer is not None:
            self.center.delete_time_event(self._connect_timer)
        delay_us = max(0, int((at - time.monotonic()) * 1e6))

        def fire(_id: int) -> None:
            self._connect_timer = None
            if self.core.state is State.START_CONNECT:
                self._open_socket()
        self._connect_timer = self.center.create_time_event(delay_us, fire)

    def _on_stopped(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._close_socket()
        if self._pre_auth_charged:
            budget = self.msgr.preauth_budget
            assert budget is not None
            budget.put(self._pre_auth_charged)
            self._pre_auth_charged = 0
        self._pre_auth = False
        self._flush_delayed()
        for tid in (self._timer_id, self._connect_timer):
            if tid is not None:
                self.center.delete_time_event(tid)
        self._timer_id = self._connect_timer = None
        self._timer_at = None
        self._waiters.fail_acks(ConnectionBroken("connection closed"))
        self._waiters.wake_connected(ConnectionClosed(f"{self!r} closed"))
        self.msgr.dispatch_queue.discard_queue(self.conn_id)
        self.msgr.unregister(self)


def _inject_shutdown(sock: socket.socket, op: str) -> None:
    """``ms_inject_socket_failures``: shut the socket; the I/O call then fails."""
    logger.debug("injecting socket failure on %s", op)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _advance(pending: list[Buffer], sent: int) -> None:
    """Drop ``sent`` bytes from the front of the chunk list (views, no copies)."""
    ends = list(itertools.accumulate(map(len, itertools.islice(pending, _IOV_MAX))))
    done = bisect.bisect_right(ends, sent)  # chunks written whole
    if done < len(pending):
        rest = sent - (ends[done - 1] if done else 0)
        if rest:
            pending[done] = memoryview(pending[done])[rest:]
    del pending[:done]


__all__ = ["AsyncConnection", "addr_from_sockaddr", "sockaddr_of"]
