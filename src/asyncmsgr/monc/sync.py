"""A blocking monitor client for one-shot commands: :class:`SyncMonClient`.

``asyncmsgr ceph status`` connects, runs one command and exits; on asyncio that
costs the import of asyncio and of the messenger (about 50 ms on the development
machine) for a session of a few round trips. Because both layers below are
sans-I/O, the same machinery runs from plain sockets in the calling thread:

* the protocol machines (:class:`~asyncmsgr.protocol.v2.ProtocolV2`, and
  :class:`~asyncmsgr.protocol.v1.ProtocolV1` for a monitor with only a v1
  address, imported only then) speak the wire, cephx or none, crc or secure;
* :class:`~asyncmsgr.monc.core.MonClientCore` makes every monitor-client
  decision, exactly as for the asyncio :class:`~asyncmsgr.monc.client.MonClient`:
  hunting in parallel and failing over within the connect timeout, auth
  refusals, session set-up, requests by tid.

Other clients of the same process share this loop: :meth:`SyncMonClient.dial_daemon`
opens a connection to a manager, an OSD or one given monitor whose events go to
a :class:`ConnHandler` (the manager client of :mod:`asyncmsgr.mgrc.sync`, a
``tell``), :meth:`SyncMonClient.add_ticker` adds their timers,
:meth:`SyncMonClient.add_map_listener` tells them of new maps, and
:meth:`SyncMonClient.run_until` serves everything until what they wait for happened.

This module is the I/O: non-blocking sockets (``TCP_NODELAY``), one
``select.poll`` loop that runs only while a call waits, ``recv_into`` the
machine's buffer, ``sendmsg`` of its chunks once per loop turn, and the machines'
and the core's timers. It is a client for one thread; it starts no thread and
no event loop.
"""

from __future__ import annotations

import errno
import random
import select
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from asyncmsgr.auth.base import AuthClient
from asyncmsgr.config import MessengerConfig, protocol_options
from asyncmsgr.errors import AuthFailed
from asyncmsgr.features import CEPH_FEATURES_SUPPORTED_DEFAULT
from asyncmsgr.lazylog import get_logger
from asyncmsgr.message import Message
from asyncmsgr.messages import MonMap
from asyncmsgr.monc.auth import MonAuthAdapter
from asyncmsgr.monc.core import (
    CommandResult,
    MonAuthError,
    MonClientClosed,
    MonClientCore,
    MonClientOptions,
    MonTimeout,
    dial_target,
)
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import State
from asyncmsgr.protocol.v2 import ProtocolV2
from asyncmsgr.record import MutableRecord
from asyncmsgr.types import (
    AF_INET6,
    AddrType,
    Buffer,
    EntityAddr,
    EntityAddrVec,
    EntityName,
    EntityType,
)

logger = get_logger("asyncmsgr.monc.sync")

#: Most chunks handed to one sendmsg call (Linux IOV_MAX is 1024).
_IOV_MAX = 512
_POLLIN = select.POLLIN
_POLLOUT = select.POLLOUT
_POLLERR = select.POLLERR | select.POLLHUP | select.POLLNVAL


class _LossyClientPolicy:
    """``Policy.lossy_client()`` as the machines read it (``PolicyLike``), without
    :mod:`asyncmsgr.policy`'s throttles (which import asyncio)."""

    lossy = True
    server = False
    standby = False
    resetcheck = False
    register_lossy_clients = True
    features_supported = CEPH_FEATURES_SUPPORTED_DEFAULT
    features_required = 0
    throttler_bytes = None
    throttler_messages = None


LOSSY_CLIENT = _LossyClientPolicy()


class _Registry:
    """The ConnectionRegistry of a client that only dials out (no sessions to
    look up, replace or accept)."""

    def __init__(self, nonce: int) -> None:
        self.my_name = EntityName(EntityType.CLIENT, -1)
        self.my_addrs = EntityAddrVec((EntityAddr(type=AddrType.ANY, nonce=nonce),))
        self._global_seq = 0

    def get_global_seq(self, old: int = 0) -> int:
        """``max(global_seq, old) + 1``."""
        self._global_seq = max(self._global_seq, old) + 1
        return self._global_seq

    def learned_addr(self, peer_addr_for_me: EntityAddr) -> None:
        """Fill our blank IP from how the monitor sees us."""
        mine = self.my_addrs.addrs[0]
        if mine.is_blank_ip and not peer_addr_for_me.is_blank_ip:
            self.my_addrs = EntityAddrVec((mine.with_ip_of(peer_addr_for_me),))

    def policy_for(self, peer_type: int) -> _LossyClientPolicy:
        """Every peer is a monitor we dial: lossy client."""
        return LOSSY_CLIENT

    def lookup_existing(self, conn: object, peer_addrs: EntityAddrVec) -> None:
        """Anonymous connections: never a registered one."""
        return None

    def stop_connection(self, machine: Any, *, queue_reset: bool) -> None:
        """Not asked of a client (accept side only)."""
        machine.stop(queue_reset=queue_reset)

    def kick_connection(self, machine: Any) -> None:
        """Not asked of a client (accept side only)."""

    def reuse_connection(self, conn: object, machine: Any, handover: Any) -> None:
        """Not asked of a client (accept side only)."""
        raise RuntimeError("a client connection has no session to take over")

    def accept_conn(self, conn: object, peer_addrs: EntityAddrVec) -> bool:
        """Not asked of a client (accept side only)."""
        return True

    def tolerates_missing_authorizer(self) -> bool:
        """We accept no connections."""
        return False


class ConnHandler(Protocol):
    """Who gets the events of a :meth:`SyncMonClient.dial_daemon` connection."""

    def handle_connect(self, con: SyncConnection, now: float) -> None:
        """The handshake finished (the peer accepted our authorizer)."""
        ...

    def handle_message(self, con: SyncConnection, m: Message, now: float) -> bool:
        """A message arrived; False when it was not expected."""
        ...

    def handle_reset(self, con: SyncConnection, now: float) -> None:
        """The connection failed (refused, reset, authentication failed): it is gone."""
        ...


class Ticker(Protocol):
    """A timer source served by the loop (:meth:`SyncMonClient.add_ticker`)."""

    def next_tick(self) -> float | None:
        """When :meth:`tick` is due (monotonic seconds), or None."""
        ...

    def tick(self, now: float) -> None:
        """Run what is due."""
        ...


class _Conn:
    """One connection: its machine and (while connected) its socket; the mon
    client's own (``handler`` None) or another client's."""

    __slots__ = ("addrs", "closed", "connect_at", "connecting", "fd", "handler", "machine",
                 "mask", "out", "peer_type", "protocol", "sock", "target")

    def __init__(self, addrs: EntityAddrVec, target: EntityAddr, protocol: int,
                 peer_type: int = EntityType.MON, handler: ConnHandler | None = None) -> None:
        self.addrs = addrs
        self.target = target
        self.protocol = protocol
        self.peer_type = peer_type
        self.handler = handler
        self.machine: ProtocolBase | None = None
        self.sock: socket.socket | None = None
        self.fd = -1
        self.mask = 0
        self.connecting = False
        self.connect_at: float | None = None
        """When the machine asked (NeedConnect) to open a new socket."""
        self.out: list[Buffer] = []
        """Chunks taken from the machine and not written yet."""
        self.closed = False

    def __repr__(self) -> str:
        return f"<{EntityType(self.peer_type).type_str} connection {self.target} v{self.protocol}>"


#: A connection of :meth:`SyncMonClient.dial_daemon`.
SyncConnection = _Conn


class _Slot(MutableRecord):
    """Where a request's answer lands."""

    done: bool
    value: object

    __slots__ = ("done", "value")

    def __init__(self) -> None:
        self.done = False
        self.value = None


class SyncMonClient:
    """A monitor session driven from the calling thread (see the module docstring).

    Same arguments and errors as :class:`~asyncmsgr.monc.client.MonClient`:
    :meth:`connect` raises :class:`~asyncmsgr.monc.core.MonAuthError` when the
    monitors refuse our credentials and :class:`~asyncmsgr.monc.core.MonTimeout`
    when none answers in time. Use as a context manager or call :meth:`close`.
    """

    def __init__(self, mon_addrs: Sequence[EntityAddrVec], *, auth_client: AuthClient,
                 config: MessengerConfig | None = None,
                 options: MonClientOptions | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 rng: random.Random | None = None) -> None:
        self.config = config or MessengerConfig()
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self._registry = _Registry(self._rng.randrange(1, 1 << 32))
        self._proto_options = protocol_options(self.config)
        self.auth_client = auth_client
        self._auth = MonAuthAdapter(auth_client, self._reports_append)
        self._reports: list[AuthFailed] = []
        self.core: MonClientCore[_Conn, _Slot] = MonClientCore(
            mon_addrs, link=self, auth_client=auth_client, options=options,
            connect_msgr=self.config.asyncmsgr_connect_msgr, rng=self._rng)
        self._conns: dict[int, _Conn] = {}
        """Connections with a socket, by file descriptor."""
        self._all: list[_Conn] = []
        self._poll = select.poll()
        self._dirty: list[_Conn] = []
        """Connections that may have bytes to write (flushed once per loop turn)."""
        self._tick_at: float | None = None
        self._ready = False
        self._failed: MonAuthError | None = None
        self._tickers: list[Ticker] = []
        self._map_listeners: list[Callable[[str], None]] = []

    # -- public API ----------------------------------------------------------------------

    @property
    def monmap(self) -> MonMap | None:
        """The latest monmap."""
        return self.core.monmap

    @property
    def global_id(self) -> int:
        """Our global id once authenticated."""
        return self.core.global_id

    @property
    def is_connected(self) -> bool:
        """True while a session with a monitor is up."""
        return self.core.active is not None

    @property
    def is_msgr2(self) -> bool:
        """The current session speaks msgr2 (False: msgr v1, or no session)."""
        con = self.core.active
        return con is not None and con.protocol == 2

    @property
    def connection_mode(self) -> int:
        """The session's msgr2 connection mode (``CON_MODE_CRC`` 1 or
        ``CON_MODE_SECURE`` 2); 0 without a session or over msgr v1."""
        con = self.core.active
        if con is None or con.machine is None or con.protocol != 2:
            return 0
        return con.machine.auth_meta.con_mode

    @property
    def active_target(self) -> EntityAddr | None:
        """The address of the monitor of the current session."""
        con = self.core.active
        return con.target if con is not None else None

    def connect(self, timeout: float | None = None) -> None:
        """Hunt and authenticate; return once a session is usable (first monmap).

        ``timeout`` (default ``client_mount_timeout``; 0 or None: no limit)."""
        limit = self.core.options.mount_timeout if timeout is None else timeout
        now = self._clock()
        deadline = now + limit if limit else None
        self._failed = None
        self.core.start(now)
        self._tick_at = now
        self._run(lambda: self._ready or self._failed is not None, deadline)
        if self._ready:
            return
        if self._failed is not None:
            raise self._failed
        if self.core.closing:
            raise MonClientClosed("monitor client shut down")
        raise MonTimeout(f"timed out after {limit:g} s connecting to the monitors "
                         f"{self.core.describe_candidates()}")

    def command(self, cmd: str | Mapping[str, object] | Sequence[str], inbuf: bytes = b"",
                *, timeout: float | None = None) -> CommandResult:
        """Send an MMonCommand and wait for its ack (``r`` may be negative).

        Re-sent on the next session if this one fails; raises MonTimeout after
        ``timeout`` (default ``rados_mon_op_timeout``; 0: none), and MonAuthError
        when a new hunt ends with every monitor refusing us."""
        value = self._request(self.core.command_builder(cmd, inbuf), timeout)
        assert isinstance(value, CommandResult)
        return value

    def get_version(self, what: str, *, timeout: float | None = None) -> tuple[int, int]:
        """(newest, oldest) epochs of map ``what``."""
        value = self._request(self.core.version_builder(what), timeout)
        assert isinstance(value, tuple)
        newest, oldest = value
        return int(newest), int(oldest)

    def _request(self, build: Callable[[int], Message], timeout: float | None) -> object:
        slot = _Slot()
        req = self.core.submit(build, slot)
        self._flush_dirty(self._clock())
        limit = self.core.options.op_timeout if timeout is None else timeout
        deadline = self._clock() + limit if limit else None
        try:
            self._run(lambda: slot.done or self._failed is not None, deadline)
        finally:
            self.core.forget(req.tid)
        if not slot.done:
            if self._failed is not None:  # hunting again, every monitor refused us
                raise self._failed
            if self.core.closing:
                raise MonClientClosed("monitor client shut down")
            raise MonTimeout(f"no reply from the monitors within {limit:g} s")
        return slot.value

    def run_until(self, done: Callable[[], bool], timeout: float | None = None) -> bool:
        """Serve every connection and timer until ``done()`` or ``timeout`` seconds
        (None: no limit); returns ``done()``."""
        deadline = None if timeout is None else self._clock() + timeout
        self._run(done, deadline)
        return done()

    def wait_for_map(self, what: str, timeout: float | None = None) -> Message | None:
        """The latest ``what`` map message, waiting for the first (None on timeout)."""
        self.run_until(lambda: what in self.core.maps or self._failed is not None, timeout)
        return self.core.maps.get(what)

    def add_map_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(what)`` whenever a map (or MLog: ``log``) arrives."""
        self._map_listeners.append(listener)

    def add_ticker(self, ticker: Ticker) -> None:
        """Serve ``ticker``'s timer in this loop."""
        self._tickers.append(ticker)

    def clock(self) -> float:
        """The monotonic clock this client runs on."""
        return self._clock()

    def wall_clock(self) -> float:
        """Seconds since the epoch, as this client reads them (tickets expire by it)."""
        return self._wall_clock()

    def dial_daemon(self, peer_type: int, addrs: EntityAddrVec,
                    handler: ConnHandler) -> SyncConnection:
        """A lossy connection to a manager, an OSD or one monitor (``peer_type``),
        authenticated with the client's auth client (an authorizer from the
        service's ticket, or a whole mon authentication); its events go to
        ``handler``. Raises ValueError when ``addrs`` has no address of a
        protocol we may speak."""
        target, protocol = dial_target(addrs, self.config.asyncmsgr_connect_msgr)
        return self._dial(addrs, target, protocol, peer_type=peer_type, handler=handler)

    def send_to(self, con: SyncConnection, m: Message) -> None:
        """Queue ``m`` on a :meth:`dial_daemon` connection."""
        self.send(con, m)

    def close(self) -> None:
        """Close every connection (nothing is waited for)."""
        if not self.core.closing:
            self.core.close()
        for con in list(self._all):
            self._close_socket(con)
        self._all.clear()

    def __enter__(self) -> SyncMonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- MonLink ---------------------------------------------------------------------------

    def dial(self, addrs: EntityAddrVec, target: EntityAddr, protocol: int) -> _Conn:
        """A new anonymous lossy connection; the socket opens at once."""
        return self._dial(addrs, target, protocol)

    def _dial(self, addrs: EntityAddrVec, target: EntityAddr, protocol: int, *,
              peer_type: int = EntityType.MON, handler: ConnHandler | None = None) -> _Conn:
        con = _Conn(addrs, target, protocol, peer_type, handler)
        if protocol == 1:
            from asyncmsgr.protocol.v1 import ProtocolV1  # noqa: PLC0415  (v1 mons only)

            cls: type[ProtocolBase] = ProtocolV1
        else:
            cls = ProtocolV2
        auth = self._auth if handler is None else self.auth_client
        machine = cls(owner=con, registry=self._registry, options=self._proto_options,
                      policy=LOSSY_CLIENT, auth_client=auth, peer_type=peer_type,
                      target_addr=target, wallclock=self._wall_clock, rng=self._rng)
        con.machine = machine
        self._all.append(con)
        now = self._clock()
        machine.start_connect(now)
        self._open_socket(con, now)
        return con

    def send(self, con: _Conn, m: Message) -> None:
        """Queue ``m`` (written at the end of this loop turn)."""
        if con.machine is not None and not con.closed:
            con.machine.send_message(m, self._clock())
            self._dirty.append(con)

    def send_keepalive(self, con: _Conn) -> None:
        """Queue a KEEPALIVE2."""
        if con.machine is not None and not con.closed:
            con.machine.send_keepalive(self._clock())
            self._dirty.append(con)

    def last_keepalive_ack(self, con: _Conn) -> object:
        """The last KEEPALIVE2_ACK stamp."""
        return con.machine.last_keepalive_ack if con.machine is not None else None

    def mark_down(self, con: _Conn) -> None:
        """Stop the machine and close the socket (no reset is reported)."""
        if con.closed:
            return
        con.closed = True
        if con.machine is not None:
            con.machine.stop()
            con.machine.events_received()  # CloseSocket / Stopped: done right here
        self._close_socket(con)
        if con in self._all:
            self._all.remove(con)

    def session_established(self, con: _Conn, global_id: int) -> None:
        """We are ``client.<global_id>`` from now on."""
        if global_id > 0:
            self._registry.my_name = EntityName(EntityType.CLIENT, global_id)

    def session_ready(self) -> None:
        """The session is usable."""
        self._ready = True

    def session_lost(self) -> None:
        """Hunting again."""
        self._ready = False
        self._tick_at = self._clock()

    def connect_failed(self, err: MonAuthError) -> None:
        """The monitors refused us."""
        self._failed = err

    def request_done(self, waiter: _Slot, value: object) -> None:
        """Fill the request's slot."""
        waiter.done = True
        waiter.value = value

    def map_received(self, what: str) -> None:
        """Tell the map listeners."""
        for listener in self._map_listeners:
            listener(what)

    def _reports_append(self, err: AuthFailed) -> None:
        # called inside a machine's input processing: handled after it returns
        self._reports.append(err)

    # -- the loop --------------------------------------------------------------------------

    def _run(self, done: Callable[[], bool], deadline: float | None) -> None:
        """Serve the sockets and timers until ``done()`` or ``deadline``."""
        poll = self._poll.poll
        timers_at: float | None = -1.0  # the earliest timer seen by the last scan
        while True:
            now = self._clock()
            if timers_at is not None and now >= timers_at:
                self._run_timers(now)
            self._after_io(now)
            if done() or (deadline is not None and now >= deadline):
                return
            timers_at = self._next_timer()
            wake = timers_at if deadline is None or (
                timers_at is not None and timers_at < deadline) else deadline
            if wake is None:
                timeout_ms = -1
            elif wake <= now:
                timeout_ms = 0
            else:  # poll's unit is the ms: round up rather than wake early
                timeout_ms = int((wake - now) * 1000) + 1
            try:
                ready = poll(timeout_ms)
            except InterruptedError:
                continue
            now = self._clock()
            for fd, mask in ready:
                con = self._conns.get(fd)
                if con is not None:
                    self._on_event(con, mask, now)

    def _next_timer(self) -> float | None:
        """The earliest of the core's tick, the tickers' and the connections' timers."""
        at = self._tick_at
        for ticker in self._tickers:
            t = ticker.next_tick()
            if t is not None and (at is None or t < at):
                at = t
        for con in self._all:
            t = self._timer_of(con)
            if t is not None and (at is None or t < at):
                at = t
        return at

    @staticmethod
    def _timer_of(con: _Conn) -> float | None:
        machine = con.machine
        if machine is None or con.closed:
            return None
        at = machine.get_timer()
        if con.connect_at is not None and (at is None or con.connect_at < at):
            at = con.connect_at
        return at

    def _run_timers(self, now: float) -> None:
        for con in list(self._all):
            machine = con.machine
            if machine is None or con.closed:
                continue
            if con.connect_at is not None and now >= con.connect_at:
                con.connect_at = None
                if machine.state is State.START_CONNECT:
                    self._open_socket(con, now)
            at = machine.get_timer()
            if at is not None and now >= at:
                machine.handle_timer(now)
                self._handle_events(con, now)
                self._dirty.append(con)
        if self._tick_at is not None and now >= self._tick_at and not self.core.closing:
            self._tick_at = now + self.core.tick(now, self._wall_clock())
        for ticker in self._tickers:
            at = ticker.next_tick()
            if at is not None and now >= at:
                ticker.tick(now)

    def _after_io(self, now: float) -> None:
        while self._reports:
            self.core.auth_refused(self._reports.pop(0))
        if self.core.hunt_exhausted:
            self._tick_at = now
        self._flush_dirty(now)

    # -- sockets ---------------------------------------------------------------------------

    def _open_socket(self, con: _Conn, now: float) -> None:
        target = con.target
        family = socket.AF_INET6 if target.family == AF_INET6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        if self.config.ms_tcp_nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        con.sock = sock
        con.fd = sock.fileno()
        con.out = []
        con.connecting = True
        self._conns[con.fd] = con
        address: tuple[Any, ...] = ((target.host, target.port, target.flowinfo, target.scope_id)
                                    if target.family == AF_INET6
                                    else (target.host, target.port))
        err = sock.connect_ex(address)
        if err in (0, errno.EINPROGRESS, errno.EAGAIN):
            self._watch(con, _POLLOUT)
            return
        self._connect_failed(con, err, now)

    def _watch(self, con: _Conn, mask: int) -> None:
        if con.sock is None or mask == con.mask:
            return
        if con.mask:
            self._poll.modify(con.fd, mask)
        else:
            self._poll.register(con.fd, mask)
        con.mask = mask

    def _close_socket(self, con: _Conn) -> None:
        sock = con.sock
        if sock is None:
            return
        if con.mask:
            self._poll.unregister(con.fd)
        self._conns.pop(con.fd, None)
        con.sock = None
        con.fd = -1
        con.mask = 0
        con.out = []
        con.connecting = False
        sock.close()

    def _connect_failed(self, con: _Conn, err: int, now: float) -> None:
        self._close_socket(con)
        if con.machine is not None:
            con.machine.connection_failed(now, refused=err == errno.ECONNREFUSED,
                                          reason=f"connect: {errno.errorcode.get(err, err)}")
            self._handle_events(con, now)

    def _on_event(self, con: _Conn, mask: int, now: float) -> None:
        machine = con.machine
        sock = con.sock
        if machine is None or sock is None:
            return
        if con.connecting:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._connect_failed(con, err, now)
                return
            con.connecting = False
            machine.connection_made(now)
            self._watch(con, _POLLIN)
            self._handle_events(con, now)
            self._dirty.append(con)
            return
        if mask & (_POLLIN | _POLLERR):
            self._read(con, sock, machine, now)
        if mask & _POLLOUT and con.sock is sock:
            self._flush(con, now)

    def _read(self, con: _Conn, sock: socket.socket, machine: ProtocolBase,
              now: float) -> None:
        while machine.wants_read and con.sock is sock:
            buf = machine.get_buffer()
            try:
                n = sock.recv_into(buf)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                machine.connection_lost(now, f"read: {exc}")
                break
            if n == 0:
                machine.connection_lost(now, "peer closed the connection")
                break
            machine.buffer_updated(n, now)
            if machine.has_events:
                self._handle_events(con, now)
            if n < len(buf):
                break  # drained: skip the EAGAIN round trip
        self._handle_events(con, now)
        if machine.has_data_to_send():
            self._dirty.append(con)

    def _flush_dirty(self, now: float) -> None:
        dirty, self._dirty = self._dirty, []
        seen: set[int] = set()
        for con in dirty:
            if id(con) not in seen:
                seen.add(id(con))
                self._flush(con, now)

    def _flush(self, con: _Conn, now: float) -> None:
        """Write what the machine has with ``sendmsg``; watch POLLOUT if blocked."""
        sock, machine = con.sock, con.machine
        if sock is None or machine is None or con.connecting or con.closed:
            return
        out = con.out
        if not out and not machine.has_data_to_send():
            return
        while True:
            if not out:
                out.extend(machine.data_to_send(now))
                if not out:
                    break
            try:
                sent = sock.sendmsg(out[:_IOV_MAX])
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                con.out = out = []
                machine.connection_lost(now, f"write: {exc}")
                break
            _advance(out, sent)
        if con.sock is sock:
            self._watch(con, _POLLIN | _POLLOUT if out else _POLLIN)
        if machine.has_events:
            self._handle_events(con, now)

    # -- machine events --------------------------------------------------------------------

    def _handle_events(self, con: _Conn, now: float) -> None:
        machine = con.machine
        if machine is None:
            return
        if con.handler is not None:
            self._handle_daemon_events(con, con.handler, machine, now)
            return
        core = self.core
        while machine.has_events:
            for e in machine.events_received():
                if isinstance(e, ev.MessageReceived):
                    if not con.closed and not core.handle_message(con, e.message, now):
                        logger.debug("%r: unexpected %r", con, e.message)
                elif isinstance(e, ev.Connected):
                    if not con.closed and not core.handle_connect(
                            con, msgr2=con.protocol == 2, now=now):
                        self.mark_down(con)
                elif isinstance(e, ev.CloseSocket):
                    self._close_socket(con)
                elif isinstance(e, ev.NeedConnect):
                    con.connect_at = e.at
                elif isinstance(e, ev.ResetSession):
                    if not con.closed:
                        con.closed = True
                        if con in self._all:
                            self._all.remove(con)
                        core.handle_reset(con, now)
                        self._tick_at = now
                elif isinstance(e, ev.Stopped):
                    self._close_socket(con)


    def _handle_daemon_events(self, con: _Conn, handler: ConnHandler, machine: ProtocolBase,
                              now: float) -> None:
        """Events of a :meth:`dial_daemon` connection, for its handler."""
        while machine.has_events:
            for e in machine.events_received():
                if isinstance(e, ev.MessageReceived):
                    if not con.closed and not handler.handle_message(con, e.message, now):
                        logger.debug("%r: unexpected %r", con, e.message)
                elif isinstance(e, ev.Connected):
                    if not con.closed:
                        handler.handle_connect(con, now)
                elif isinstance(e, ev.CloseSocket | ev.Stopped):
                    self._close_socket(con)
                elif isinstance(e, ev.NeedConnect):
                    con.connect_at = e.at
                elif isinstance(e, ev.ResetSession) and not con.closed:
                    con.closed = True
                    if con in self._all:
                        self._all.remove(con)
                    handler.handle_reset(con, now)


def _advance(pending: list[Buffer], sent: int) -> None:
    """Drop ``sent`` bytes from the front of the chunk list (views, no copies)."""
    i = 0
    while sent > 0 and i < len(pending):
        size = len(pending[i])
        if sent >= size:
            sent -= size
            i += 1
        else:
            pending[i] = memoryview(pending[i])[sent:]
            sent = 0
    del pending[:i]


__all__ = ["LOSSY_CLIENT", "ConnHandler", "SyncConnection", "SyncMonClient", "Ticker"]
