"""The messenger benchmark's peers: Ceph's ``ceph_perf_msgr_server`` / ``_client`` in Python.

Used by ``asyncmsgr bench`` (:mod:`asyncmsgr.cli.bench`) and by
``benchmarks/bench_messenger.py``. Every message is an :class:`MPing`: the front
carries a 16-byte bench header (:data:`BENCH_OP`: op, argument, value), the data
segment the payload, ``tid`` the request number. A plain MPing (empty front) is
treated as a request, so any Ceph client's ping gets an answer.

* **Server** (:class:`BenchServer`, :func:`serve`): ``osd.0``, nonce 0 (as the
  Ceph perf tools, so ``v2:IP:PORT`` with no nonce reaches it). Fast-dispatches
  every MPing on the I/O worker: a request (after ``think_time_us`` of blocking
  sleep, like ``perf_msgr_server``) gets a small reply carrying the same tid; a
  stream message is only counted, and every ``argument``-th one is answered with
  a credit (messages received so far on that connection); a flush is answered
  with the final count.
* **Client** (:class:`BenchJob`, :func:`run_client`): ``jobs`` messengers with one
  connection each, like ``perf_msgr_client``. *request* mode keeps ``concurrency``
  requests in flight and records the send-to-reply latency of each; *stream* mode
  keeps at most ``concurrency`` messages not yet credited by the server (one
  credit every ``concurrency // 4`` messages), then flushes and takes the server's
  count. Sends are driven from the client's fast dispatch, on the I/O worker that
  owns the connection, so no thread hop is needed per message in either mode.

State shared between the caller's thread and an I/O worker thread (threaded
mode) is guarded by a per-job lock; per-connection server counters are only
touched by the connection's worker.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import math
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from asyncmsgr.aio.connection import AsyncConnection
from asyncmsgr.auth.base import AuthClient, AuthServer, parse_con_modes
from asyncmsgr.config import MessengerConfig
from asyncmsgr.connection import Connection
from asyncmsgr.context import Context
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.frames.v2 import CON_MODE_CRC, CON_MODE_SECURE
from asyncmsgr.message import Message
from asyncmsgr.messages import MPing
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import POLICY_NAMES, Policy
from asyncmsgr.testing.dummy_auth import DummyAuthClient, DummyAuthServer
from asyncmsgr.types import EntityType

#: ``op (u8), pad (3), argument (u32), value (u64)``, little-endian, in the MPing front.
BENCH_OP = struct.Struct("<BxxxIQ")

OP_REQUEST = 1
"""Reply with :data:`OP_REPLY` and the same tid."""
OP_REPLY = 2
"""The answer to a request."""
OP_STREAM = 3
"""Count only; every ``argument``-th message on a connection is answered by a credit."""
OP_CREDIT = 4
"""``value`` = stream messages the server received so far on this connection."""
OP_FLUSH = 5
"""End of a stream: answered by :data:`OP_DONE`."""
OP_DONE = 6
"""``value`` = stream messages received on this connection, final."""

Mode = Literal["request", "stream"]
MODES: tuple[Mode, ...] = ("request", "stream")

MsgrVersion = Literal["v2", "v1"]
#: The wire protocols a bench server can bind and a client can dial: ``v2`` (msgr2.1)
#: or ``v1`` (legacy msgr, "ceph v027"). Also the names reported per connection.
MSGR_VERSIONS: tuple[MsgrVersion, ...] = ("v2", "v1")

AuthMethod = Literal["none", "dummy"]
#: ``none``: auth none, crc mode only. ``dummy``: the test method of
#: :mod:`asyncmsgr.testing.dummy_auth` (a real session key and connection secret,
#: no identity), so ``ms_client_mode`` / ``ms_service_mode`` can select secure mode.
AUTH_METHODS: tuple[AuthMethod, ...] = ("none", "dummy")

#: ``AuthConnectionMeta.con_mode`` values by name (as reported).
_CON_MODE_TEXT = {CON_MODE_CRC: "crc", CON_MODE_SECURE: "secure"}

#: How long a client waits for its connection and, after the run, for the last replies.
CONNECT_TIMEOUT = 10.0
DRAIN_TIMEOUT = 10.0

_REQUEST_FRONT = BENCH_OP.pack(OP_REQUEST, 0, 0)
_REPLY_FRONT = BENCH_OP.pack(OP_REPLY, 0, 0)
_FLUSH_FRONT = BENCH_OP.pack(OP_FLUSH, 0, 0)


class BenchError(Exception):
    """The benchmark could not run (no connection, server gone, timeout)."""


def parse_op(m: Message) -> tuple[int, int, int]:
    """``(op, argument, value)`` of a bench message; a plain MPing is a request."""
    front = m.front
    if len(front) < BENCH_OP.size:
        return OP_REQUEST, 0, 0
    op, arg, value = BENCH_OP.unpack_from(front)
    return op, arg, value


def server_policy_for(name: str) -> Policy:
    """The server side of a client policy: lossy -> ``stateless_server``, lossless ->
    ``stateful_server``; a server policy name is used as is.

    Raises:
        ValueError: unknown policy name.
    """
    policy = Policy.by_name(name)
    if policy.server:
        return policy
    return Policy.stateless_server() if policy.lossy else Policy.stateful_server()


def server_policy_name(name: str) -> str:
    """The name of :func:`server_policy_for` (``stateless_server`` ...)."""
    policy = server_policy_for(name)
    for candidate in POLICY_NAMES:
        if Policy.by_name(candidate) == policy:
            return candidate
    return "default"  # pragma: no cover - every server policy has a factory name


def client_auth(method: AuthMethod, config: MessengerConfig) -> AuthClient | None:
    """The bench client's auth (None: the messenger's default, auth none).

    ``dummy`` asks for the modes of ``ms_client_mode``, preferred first.
    """
    if method == "dummy":
        return DummyAuthClient(modes=parse_con_modes(config.ms_client_mode))
    return None


def server_auth(method: AuthMethod, config: MessengerConfig) -> AuthServer | None:
    """The bench server's auth (None: auth none); ``dummy`` allows ``ms_service_mode``."""
    if method == "dummy":
        return DummyAuthServer(modes=parse_con_modes(config.ms_service_mode))
    return None


def con_mode_name(con: Connection | None) -> str | None:
    """``crc`` or ``secure``: the mode a msgr2 connection negotiated (None otherwise,
    msgr v1 included: it has no modes)."""
    if not isinstance(con, AsyncConnection) or not con.is_msgr2:
        return None
    return _CON_MODE_TEXT.get(con.core.auth_meta.con_mode)


def msgr_name(con: Connection | None) -> MsgrVersion | None:
    """``v2`` or ``v1``: the protocol a socket connection speaks (None otherwise)."""
    if not isinstance(con, AsyncConnection):
        return None
    return "v2" if con.is_msgr2 else "v1"


def bind_addr(msgr: MsgrVersion, ip: str = "127.0.0.1") -> str:
    """The address a bench server binds for ``msgr``: ``v1:IP:0`` or ``v2:IP:0``
    (port 0: a free port of ms_bind_port_min..max)."""
    if msgr not in MSGR_VERSIONS:
        raise ValueError(f"unknown msgr version {msgr!r} (expected v2 or v1)")
    return f"{msgr}:{ip}:0"


def summarise_names(names: Sequence[str | None]) -> str | None:
    """The one name all connections share, ``mixed`` if they differ, None if none."""
    seen = {n for n in names if n is not None}
    if not seen:
        return None
    return seen.pop() if len(seen) == 1 else "mixed"


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..1) of an ascending sequence; None if empty."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n))
    return float(sorted_values[min(n, rank) - 1])


def _resolve_soon(loop: asyncio.AbstractEventLoop, fut: asyncio.Future[None],
                  error: BaseException | None = None) -> None:
    """Settle ``fut`` (of ``loop``) from any thread, once."""
    def settle() -> None:
        if fut.done():
            return
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        settle()
    elif not loop.is_closed():
        loop.call_soon_threadsafe(settle)


# -- server ------------------------------------------------------------------------------


@dataclass(slots=True)
class ConnStats:
    """Counters of one server connection (touched only by its I/O worker)."""

    messages: int = 0
    """Bench messages received (requests and stream messages)."""
    data_bytes: int = 0
    """Payload (data segment) bytes received."""
    stream: int = 0
    """Stream messages received (what credits count)."""
    first_ns: int = 0
    """``perf_counter_ns`` of the first message."""
    last_ns: int = 0
    """``perf_counter_ns`` of the latest message."""
    msgr: MsgrVersion | None = None
    """The protocol the connection speaks (set with its first message)."""
    first_cpu: float = 0.0
    """``process_time()`` at the first message (CPU used since = serving)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerStats:
    """A snapshot of a server's counters, summed over its connections."""

    connections: int
    """Connections that sent at least one message."""
    messages: int
    """Messages received."""
    data_bytes: int
    """Payload bytes received."""
    stream_messages: int
    """Stream messages received (part of ``messages``)."""
    first_ns: int
    """``perf_counter_ns`` of the first message (0 if none)."""
    last_ns: int
    """``perf_counter_ns`` of the latest message (0 if none)."""
    msgrs: tuple[str | None, ...] = ()
    """The protocol (``v2`` / ``v1``) of each connection that sent a message."""
    first_cpu: float = 0.0
    """``process_time()`` when the first message arrived (0.0 if none): the
    process's CPU time since then, taken after the run, is what serving cost."""
    event_loop: str | None = None
    """The event loop the server's messenger ran on (``uvloop`` / ``asyncio``)."""


class BenchServer(Dispatcher):
    """``perf_msgr_server``'s dispatcher: fast-dispatch, answer on the I/O worker."""

    def __init__(self, *, think_time_us: int = 0) -> None:
        self.think_time = think_time_us / 1e6
        self._lock = threading.Lock()
        self._stats: list[ConnStats] = []

    def ms_can_fast_dispatch_any(self) -> bool:
        return True

    def ms_can_fast_dispatch(self, m: Message) -> bool:
        return m.type == MPing.TYPE

    def _conn_stats(self, con: Connection) -> ConnStats:
        stats = con.priv
        if not isinstance(stats, ConnStats):
            stats = ConnStats()
            con.priv = stats
            with self._lock:
                self._stats.append(stats)
        return stats

    def ms_fast_dispatch(self, m: Message) -> None:
        con = m.connection
        if con is None:
            return
        now = time.perf_counter_ns()
        stats = self._conn_stats(con)
        if not stats.messages:
            stats.first_ns = now
            stats.msgr = msgr_name(con)
            stats.first_cpu = time.process_time()
        stats.messages += 1
        stats.last_ns = now
        stats.data_bytes += len(m.data)
        op, arg, _value = parse_op(m)
        if op == OP_STREAM:
            stats.stream += 1
            if arg and stats.stream % arg == 0:
                con.send_message(MPing(payload=BENCH_OP.pack(OP_CREDIT, 0, stats.stream)))
        elif op == OP_FLUSH:
            stats.messages -= 1
            con.send_message(MPing(payload=BENCH_OP.pack(OP_DONE, 0, stats.stream)))
        else:
            if self.think_time:
                time.sleep(self.think_time)  # blocks the worker, as perf_msgr_server does
            con.send_message(MPing(payload=_REPLY_FRONT, tid=m.tid))

    def ms_dispatch(self, m: Message) -> bool:
        return False

    def ms_handle_reset(self, con: Connection) -> bool:
        return True

    def statistics(self, event_loop: str | None = None) -> ServerStats:
        """Counters summed over every connection seen so far."""
        with self._lock:
            stats = list(self._stats)
        active = [s for s in stats if s.messages]
        return ServerStats(
            connections=len(active),
            messages=sum(s.messages for s in active),
            data_bytes=sum(s.data_bytes for s in active),
            stream_messages=sum(s.stream for s in active),
            first_ns=min((s.first_ns for s in active), default=0),
            last_ns=max((s.last_ns for s in active), default=0),
            msgrs=tuple(s.msgr for s in active),
            first_cpu=min((s.first_cpu for s in active), default=0.0),
            event_loop=event_loop,
        )


async def start_server(config: MessengerConfig, addr: str, policy: Policy, *,
                       think_time_us: int = 0, auth: AuthMethod = "none",
                       context: Context | None = None) -> tuple[Messenger, BenchServer]:
    """Bind and start a bench server messenger (``osd.0``, nonce 0) in ``context``
    (default: its own).

    Raises:
        OSError: the address cannot be bound.
    """
    msgr = Messenger.create("osd.0", config=config, nonce=0, lname="bench-server",
                            auth_server=server_auth(auth, config), context=context)
    msgr.set_default_policy(policy)
    await msgr.bind(addr)
    server = BenchServer(think_time_us=think_time_us)
    msgr.add_dispatcher_tail(server)
    msgr.start()
    return msgr, server


async def serve(config: MessengerConfig, addr: str, policy: Policy, *,
                think_time_us: int, on_ready: Callable[[str], None],
                stop: asyncio.Event, auth: AuthMethod = "none",
                context: Context | None = None) -> ServerStats:
    """Run a bench server until ``stop`` is set; returns its counters."""
    msgr, server = await start_server(config, addr, policy, think_time_us=think_time_us,
                                      auth=auth, context=context)
    try:
        on_ready(str(msgr.my_addrs))
        await stop.wait()
        event_loop = msgr.event_loop_name
    finally:
        msgr.shutdown()
        await msgr.wait()
    return server.statistics(event_loop)


# -- client ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOptions:
    """What one client run does."""

    addr: str
    """The server's address (``v2:127.0.0.1:6800/0``)."""
    mode: Mode = "request"
    """``request`` (ping-pong with replies) or ``stream`` (one way, credited)."""
    size: int = 4096
    """Payload bytes per message (data segment)."""
    duration: float | None = 5.0
    """Seconds to issue messages for (None: use ``ios``)."""
    ios: int | None = None
    """Messages per job (instead of a duration)."""
    concurrency: int = 16
    """Messages in flight per job (request: unanswered; stream: uncredited)."""
    jobs: int = 1
    """Client messengers, one connection each."""
    policy: str = "lossy_client"
    """Client policy name (:meth:`Policy.by_name`)."""
    auth: AuthMethod = "none"
    """Auth method (:data:`AUTH_METHODS`); ``dummy`` makes secure mode possible."""


@dataclass(slots=True)
class JobResult:
    """What one job measured."""

    completed: int = 0
    """Replies received (request) or messages the server counted (stream)."""
    end_ns: int = 0
    """``perf_counter_ns`` when the last one completed."""
    latencies_ns: array.array[int] = field(default_factory=lambda: array.array("q"))
    """Send-to-reply time per request (request mode)."""
    error: str | None = None
    """Why the job stopped early, if it did."""


class BenchJob(Dispatcher):
    """One ``perf_msgr_client`` job: a connection and its in-flight window."""

    def __init__(self, opts: ClientOptions, loop: asyncio.AbstractEventLoop) -> None:
        self.opts = opts
        self.loop = loop
        self.done: asyncio.Future[None] = loop.create_future()
        self.result = JobResult()
        self.con: Connection | None = None
        self._payload = bytes(opts.size)
        self._stream_front = BENCH_OP.pack(OP_STREAM, max(1, opts.concurrency // 4), 0)
        self._lock = threading.Lock()
        self._sent_ns: dict[int, int] = {}
        self._issued = 0
        self._credited = 0
        self._deadline_ns = 0
        self._stopping = False
        self._flushed = False
        self._finished = False
        self.t0_ns = 0

    @property
    def issued(self) -> int:
        """Messages sent so far."""
        return self._issued

    # -- control (caller's thread) ------------------------------------------------------

    def start(self, t0_ns: int) -> None:
        """Begin issuing; ``t0_ns`` is the common start (``perf_counter_ns``)."""
        self.t0_ns = t0_ns
        if self.opts.duration is not None:
            self._deadline_ns = t0_ns + int(self.opts.duration * 1e9)
        con = self.con
        assert con is not None
        if self.opts.mode == "request":
            for _ in range(self.opts.concurrency):
                self._issue_request()
        else:
            # One request first: its reply starts the stream on the connection's own
            # I/O worker, so every stream message and the final flush are sent from
            # one thread, in order.
            con.send_message(MPing(payload=_REQUEST_FRONT, tid=0))

    def stop_issuing(self) -> None:
        """Send nothing more (Ctrl-C): what is in flight completes, a stream is
        flushed, then :attr:`done` resolves as after a full run."""
        with self._lock:
            if self._stopping or self._finished:
                return
            self._stopping = True
            flush = self.opts.mode == "stream" and not self._flushed and self._issued
            if flush:
                self._flushed = True
            idle = self.opts.mode == "request" and not self._sent_ns
            if idle or (self.opts.mode == "stream" and not self._issued):
                self._finished = True
        con = self.con
        if flush and con is not None:
            con.send_message(MPing(payload=_FLUSH_FRONT))
        if self._finished:
            _resolve_soon(self.loop, self.done)

    def fail(self, reason: str) -> None:
        """Stop the job with an error (e.g. the connection was reset)."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            self.result.error = reason
        _resolve_soon(self.loop, self.done)

    # -- issuing (any thread, under the lock) -----------------------------------------

    def _may_issue_locked(self) -> bool:
        if self._stopping:
            return False
        opts = self.opts
        if opts.ios is not None:
            if self._issued >= opts.ios:
                self._stopping = True
                return False
        elif time.perf_counter_ns() >= self._deadline_ns:
            self._stopping = True
            return False
        return True

    def _issue_request(self) -> None:
        con = self.con
        assert con is not None
        with self._lock:
            if not self._may_issue_locked():
                return
            self._issued += 1
            tid = self._issued
            self._sent_ns[tid] = time.perf_counter_ns()
        con.send_message(MPing(payload=_REQUEST_FRONT, data=self._payload, tid=tid))

    def _pump(self) -> None:
        con = self.con
        assert con is not None
        window = self.opts.concurrency
        front, payload = self._stream_front, self._payload
        while True:
            with self._lock:
                if not self._may_issue_locked():
                    flush = not self._flushed
                    self._flushed = True
                    break
                if self._issued - self._credited >= window:
                    return
                self._issued += 1
            con.send_message(MPing(payload=front, data=payload))
        if flush:
            con.send_message(MPing(payload=_FLUSH_FRONT))

    # -- replies (the connection's I/O worker) -----------------------------------------

    def ms_can_fast_dispatch_any(self) -> bool:
        return True

    def ms_can_fast_dispatch(self, m: Message) -> bool:
        return m.type == MPing.TYPE

    def ms_fast_dispatch(self, m: Message) -> None:
        now = time.perf_counter_ns()
        op, _arg, value = parse_op(m)
        result = self.result
        finished = False
        if op == OP_REPLY and m.tid == 0 and self.opts.mode == "stream":
            self._pump()
        elif op == OP_REPLY:
            with self._lock:
                sent = self._sent_ns.pop(m.tid, None)
                if sent is None or self._finished:
                    return
                result.latencies_ns.append(now - sent)
                result.completed += 1
                result.end_ns = now
                more = self._may_issue_locked()
                if not more and not self._sent_ns:
                    finished = self._finished = True
            if more:
                self._issue_request()
        elif op == OP_CREDIT:
            with self._lock:
                self._credited = max(self._credited, value)
            self._pump()
        elif op == OP_DONE:
            with self._lock:
                if self._finished:
                    return
                result.completed = value
                result.end_ns = now
                finished = self._finished = True
        if finished:
            _resolve_soon(self.loop, self.done)

    def ms_dispatch(self, m: Message) -> bool:
        return False

    def ms_handle_reset(self, con: Connection) -> bool:
        self.fail("connection reset by the server (or the network)")
        return True

    def ms_handle_remote_reset(self, con: Connection) -> None:
        self.fail("the server reset the session")

    def ms_handle_refused(self, con: Connection) -> bool:
        self.fail("connection refused")
        return True

    def progress(self) -> int:
        """Messages completed so far (replies, or credits in stream mode)."""
        if self.opts.mode == "request":
            return self.result.completed
        return max(self.result.completed, self._credited)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientResult:
    """A whole client run, all jobs together."""

    messages: int
    """Messages completed (replies received, or stream messages the server counted)."""
    elapsed: float
    """Seconds from the common start to the last completion."""
    latencies_ns: list[int]
    """Every request's send-to-reply time, ascending (empty in stream mode)."""
    errors: list[str]
    """One line per job that stopped early."""
    worker_threads: int
    """``msgr-worker`` threads running in this process during the run (0 if embedded)."""
    con_modes: list[str | None] = field(default_factory=list)
    """The msgr2 mode each job's connection negotiated (``crc`` / ``secure``)."""
    msgrs: list[str | None] = field(default_factory=list)
    """The protocol each job's connection speaks (``v2`` / ``v1``)."""
    cpu_s: float = 0.0
    """This process's CPU time from the common start until every job finished."""
    event_loop: str | None = None
    """The event loop the client messengers ran on (``uvloop`` / ``asyncio``)."""

    @property
    def messages_per_s(self) -> float:
        """Completed messages per second."""
        return self.messages / self.elapsed if self.elapsed > 0 else 0.0


async def run_client(config: MessengerConfig, opts: ClientOptions, *,
                     on_start: Callable[[list[BenchJob], float], None] | None = None,
                     context: Context | None = None,
                     stop: asyncio.Event | None = None) -> ClientResult:
    """Connect ``opts.jobs`` client messengers to the server and run the workload.

    ``on_start(jobs, t0)`` is called once every connection is up, right after the
    jobs started (for progress reporting). The messengers run in ``context``
    (default: each its own). Setting ``stop`` ends the run early: the jobs stop
    issuing, what is in flight completes (for up to :data:`DRAIN_TIMEOUT`
    seconds) and the result counts what completed.

    Raises:
        BenchError: a connection could not be established.
    """
    loop = asyncio.get_running_loop()
    policy = Policy.by_name(opts.policy)
    msgrs: list[Messenger] = []
    jobs: list[BenchJob] = []
    try:
        for i in range(opts.jobs):
            msgr = Messenger.create(f"client.{4100 + i}", config=config,
                                    lname=f"bench-client-{i}",
                                    auth_client=client_auth(opts.auth, config),
                                    context=context)
            msgr.set_default_policy(policy)
            job = BenchJob(opts, loop)
            msgr.add_dispatcher_tail(job)
            msgr.start()
            msgrs.append(msgr)
            try:
                job.con = msgr.connect_to(EntityType.OSD, opts.addr)
            except ValueError as exc:  # no address of the wanted protocol, bad address
                raise BenchError(f"cannot connect to {opts.addr}: {exc}") from exc
            jobs.append(job)
        for job in jobs:
            await _wait_connected(job, opts.addr, stop)
        con_modes = [con_mode_name(job.con) for job in jobs]
        protocols: list[str | None] = [msgr_name(job.con) for job in jobs]
        worker_threads = sum(1 for t in threading.enumerate()
                             if t.name.startswith("msgr-worker"))
        event_loop = summarise_names([m.event_loop_name for m in msgrs])
        cpu0 = time.process_time()
        t0 = time.perf_counter_ns()
        for job in jobs:
            job.start(t0)
        if on_start is not None:
            on_start(jobs, t0 / 1e9)
        limit = (opts.duration or 0.0) + DRAIN_TIMEOUT
        if opts.ios is not None:
            limit = max(60.0, opts.ios * opts.jobs * 1e-3)  # >= 1 ms per message
        done = await _wait_jobs(jobs, limit, stop)
        cpu_s = time.process_time() - cpu0
        for job in jobs:
            if job.done not in done:
                job.fail(f"no answer from the server for {limit:g} s "
                         f"({job.progress()} of {job.issued} completed)")
    finally:
        for msgr in msgrs:
            msgr.shutdown()
        for msgr in msgrs:
            await msgr.wait()
    return _summarise(jobs, t0, worker_threads, con_modes, protocols, cpu_s, event_loop)


async def _wait_jobs(jobs: Sequence[BenchJob], limit: float,
                     stop: asyncio.Event | None) -> set[asyncio.Future[None]]:
    """Wait for every job, ``limit`` seconds at most; when ``stop`` is set, stop
    them issuing and give what is in flight :data:`DRAIN_TIMEOUT` seconds. Returns
    the jobs' futures that resolved."""
    futures: list[asyncio.Future[None]] = [job.done for job in jobs]
    deadline = time.monotonic() + limit
    stopper: asyncio.Future[Any] | None = \
        asyncio.ensure_future(stop.wait()) if stop is not None else None
    try:
        pending: list[asyncio.Future[Any]] = list(futures)
        while pending and not (stopper is not None and stopper.done()):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            waits = pending if stopper is None else [*pending, stopper]
            await asyncio.wait(waits, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            pending = [f for f in futures if not f.done()]
    finally:
        if stopper is not None:
            stopper.cancel()
    if stop is not None and stop.is_set() and pending:
        for job in jobs:
            job.stop_issuing()
        await asyncio.wait(pending, timeout=DRAIN_TIMEOUT)
    return {f for f in futures if f.done()}


async def _wait_connected(job: BenchJob, addr: str, stop: asyncio.Event | None = None) -> None:
    """Wait for the job's session, or its failure (refused, reset), or time out
    (BenchError), or ``stop`` (BenchError too)."""
    con = job.con
    if not isinstance(con, AsyncConnection):  # the loopback connection: we are the server
        raise BenchError(f"{addr} is this process's own messenger")
    connected = asyncio.ensure_future(con.wait_connected())
    stopper = asyncio.ensure_future(stop.wait()) if stop is not None else None
    waits: list[asyncio.Future[Any]] = [connected, job.done]
    if stopper is not None:
        waits.append(stopper)
    try:
        done, _pending = await asyncio.wait(waits, timeout=CONNECT_TIMEOUT,
                                            return_when=asyncio.FIRST_COMPLETED)
    finally:
        if stopper is not None:
            stopper.cancel()
    if stopper is not None and stopper in done and connected not in done:
        connected.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await connected
        raise BenchError(f"interrupted while connecting to {addr}")
    if connected in done:
        try:
            connected.result()
        except Exception as exc:
            raise BenchError(f"cannot connect to {addr}: {exc}") from exc
        return
    connected.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await connected
    if job.done in done:
        raise BenchError(f"cannot connect to {addr}: {job.result.error}")
    raise BenchError(
        f"cannot connect to {addr} within {CONNECT_TIMEOUT:g} s (is the server up, and "
        "is the address complete with its nonce, e.g. v2:127.0.0.1:6800/0?)")


def _summarise(jobs: Sequence[BenchJob], t0_ns: int, worker_threads: int,
               con_modes: list[str | None], msgrs: list[str | None],
               cpu_s: float, event_loop: str | None = None) -> ClientResult:
    latencies: list[int] = []
    errors: list[str] = []
    messages = 0
    end = t0_ns
    for i, job in enumerate(jobs):
        r = job.result
        messages += r.completed
        end = max(end, r.end_ns)
        latencies.extend(r.latencies_ns)
        if r.error is not None:
            errors.append(f"job {i}: {r.error}")
    latencies.sort()
    return ClientResult(messages=messages, elapsed=(end - t0_ns) / 1e9,
                        latencies_ns=latencies, errors=errors,
                        worker_threads=worker_threads, con_modes=con_modes,
                        msgrs=msgrs, cpu_s=cpu_s, event_loop=event_loop)


__all__ = [
    "AUTH_METHODS",
    "BENCH_OP",
    "MODES",
    "MSGR_VERSIONS",
    "AuthMethod",
    "BenchError",
    "BenchJob",
    "BenchServer",
    "ClientOptions",
    "ClientResult",
    "ConnStats",
    "JobResult",
    "Mode",
    "MsgrVersion",
    "ServerStats",
    "bind_addr",
    "client_auth",
    "con_mode_name",
    "msgr_name",
    "parse_op",
    "percentile",
    "run_client",
    "serve",
    "server_auth",
    "server_policy_for",
    "server_policy_name",
    "start_server",
    "summarise_names",
]
