"""Messenger: Ceph's ``AsyncMessenger`` API on asyncio.

Life cycle (ceph-messenger.md §1.4)::

    msgr = Messenger.create("osd.0", config=cfg)        # any number per process
    msgr.set_policy(EntityType.CLIENT, Policy.stateless_server())
    await msgr.bind("v2:127.0.0.1:0")                   # port 0: scan the port range
    msgr.add_dispatcher_tail(my_dispatcher)             # first one: listening starts
    msgr.start()
    con = msgr.connect_to(EntityType.OSD, peer_addrs)   # look up or create; never blocks
    con.send_message(m)
    msgr.shutdown(); await msgr.wait()                  # or: async with msgr: ...

Threads: in embedded mode (``asyncmsgr_embedded``, the default) everything runs
on the caller's event loop. Otherwise ``ms_async_op_threads`` worker threads
run the sockets and protocol machines (and fast dispatch); normal dispatch runs
on the loop that called :meth:`start`. Public methods are safe from any thread.

Shutdown order: stop listening, mark every connection down with
``ms_handle_reset``, then :meth:`wait` drains the dispatch queue, closes what is
left and stops the workers, leaving no task or thread behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Self

from asyncmsgr.aio.connection import AsyncConnection
from asyncmsgr.aio.event_center import Worker, WorkerPool, loop_name, uvloop_factory
from asyncmsgr.aio.inject import FaultInjector
from asyncmsgr.aio.processor import Processor
from asyncmsgr.auth.base import AuthClient, AuthServer, ModeOptions
from asyncmsgr.auth.none import AuthNoneClient, AuthNoneServer
from asyncmsgr.config import MessengerConfig
from asyncmsgr.connection import Connection
from asyncmsgr.context import Context, process_context
from asyncmsgr.dispatch import Dispatcher, DispatcherChain, DispatchQueue
from asyncmsgr.errors import ConnectionClosed
from asyncmsgr.features import CEPH_FEATURES_ALL
from asyncmsgr.frames.assembler import FrameLimits
from asyncmsgr.message import CEPH_MSG_PRIO_DEFAULT, Message
from asyncmsgr.perf import PerfCollection, PerfCounters, msgr_worker_counters
from asyncmsgr.policy import Policy, PolicySet
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import Interceptor, ProtocolOptions
from asyncmsgr.protocol.v1 import ProtocolV1
from asyncmsgr.protocol.v2 import ProtocolV2
from asyncmsgr.throttle import Throttle
from asyncmsgr.types import (
    AddrType,
    AuthName,
    EntityAddr,
    EntityAddrVec,
    EntityName,
    EntityType,
    UTime,
    entity_type_str,
)

logger = logging.getLogger("asyncmsgr.ms.messenger")


def _parse_name(name: EntityName | str) -> EntityName:
    if isinstance(name, EntityName):
        return name
    kind, _, num = name.partition(".")
    if not num or num == "?":
        return EntityName(EntityType.from_str(kind), -1)
    return EntityName.parse(name)


def mode_options(c: MessengerConfig) -> ModeOptions:
    """The ``ms_*_mode`` options as the auth methods take them."""
    return ModeOptions(cluster=c.ms_cluster_mode, service=c.ms_service_mode,
                       client=c.ms_client_mode, mon_cluster=c.ms_mon_cluster_mode,
                       mon_service=c.ms_mon_service_mode, mon_client=c.ms_mon_client_mode)


def protocol_options(config: MessengerConfig) -> ProtocolOptions:
    """The protocol machines' view of the configuration."""
    return ProtocolOptions(
        connection_ready_timeout=config.ms_connection_ready_timeout,
        connection_idle_timeout=config.ms_connection_idle_timeout,
        initial_backoff=config.ms_initial_backoff,
        max_backoff=config.ms_max_backoff,
        learn_addr_from_peer=config.ms_learn_addr_from_peer,
        die_on_old_message=config.ms_die_on_old_message,
        die_on_skipped_message=config.ms_die_on_skipped_message,
        die_on_bad_msg=config.ms_die_on_bad_msg,
        pre_auth_limits=FrameLimits.pre_auth(config.asyncmsgr_max_preauth_segment),
        limits=FrameLimits(control=config.asyncmsgr_max_control_segment,
                           front=config.asyncmsgr_max_front_segment,
                           middle=config.asyncmsgr_max_middle_segment,
                           data=config.asyncmsgr_max_data_segment),
        rx_buffer_size=config.asyncmsgr_rx_buffer_size,
        large_segment_threshold=config.asyncmsgr_large_segment_threshold,
        crc_header=config.ms_crc_header,
        crc_data=config.ms_crc_data,
    )


class LoopbackConnection(Connection):
    """The messenger's connection to itself: local delivery, no socket."""

    def __init__(self, msgr: Messenger) -> None:
        self.conn_id = 0
        self.msgr = msgr

    def send_message(self, m: Message) -> None:
        """Deliver ``m`` to our own dispatchers (``local_delivery``)."""
        msgr = self.msgr
        if not m.priority:
            m.priority = msgr.default_send_priority
        m.src = msgr.my_name
        m.connection = self
        msgr.dispatch_queue.local_delivery(m, m.priority)

    def send_keepalive(self) -> None:
        """Nothing to keep alive."""

    def mark_down(self) -> None:
        """Nothing to close."""

    def mark_disposable(self) -> None:
        """Nothing to change."""

    def is_connected(self) -> bool:
        """Always."""
        return True

    @property
    def peer_type(self) -> int:
        """Our own type."""
        return self.msgr.my_name.type

    @property
    def peer_addrs(self) -> EntityAddrVec:
        """Our own addresses."""
        return self.msgr.my_addrs

    @property
    def peer_name(self) -> EntityName:
        """Our own name."""
        return self.msgr.my_name

    @property
    def features(self) -> int:
        """Everything."""
        return CEPH_FEATURES_ALL

    @property
    def is_loopback(self) -> bool:
        """Yes."""
        return True

    @property
    def is_anon(self) -> bool:
        """No."""
        return False

    @property
    def is_msgr2(self) -> bool:
        """Local delivery speaks no protocol; reported as msgr2."""
        return True

    @property
    def last_keepalive(self) -> UTime:
        """Never."""
        return UTime()

    @property
    def last_keepalive_ack(self) -> UTime:
        """Never."""
        return UTime()


class Messenger:
    """Ceph's AsyncMessenger: connections, dispatch, policies and life cycle."""

    def __init__(self, name: EntityName | str, *, config: MessengerConfig | None = None,
                 nonce: int | None = None, lname: str = "",
                 auth_client: AuthClient | None = None,
                 auth_server: AuthServer | None = None,
                 context: Context | None = None) -> None:
        self.config = config or MessengerConfig()
        self._name = _parse_name(name)
        self.lname = lname or str(self._name)
        #: The CephContext this messenger runs in: its admin socket, logging and
        #: metrics; by default the command line's (``process_context()``), else one
        #: of its own, built from ``config``.
        self.context = context if context is not None else process_context() or Context(
            self.config, name=str(self._name))
        self.nonce = nonce if nonce is not None else random.randrange(1, 1 << 32)
        self._my_addrs = EntityAddrVec((EntityAddr(type=AddrType.ANY, nonce=self.nonce),))
        self._need_addr = True
        self.did_bind = False
        self.default_send_priority = CEPH_MSG_PRIO_DEFAULT
        self.policies = PolicySet()
        c = self.config
        modes = mode_options(c)
        is_client = self._name.type == EntityType.CLIENT
        self.auth_client: AuthClient = auth_client or AuthNoneClient(
            AuthName(self._name.type, str(max(self._name.num, 0)) if not is_client
                     else "admin"), modes=modes, i_am_client=is_client)
        self.auth_server: AuthServer = auth_server or AuthNoneServer(
            modes=modes, my_type=self._name.type)
        self.chain = DispatcherChain()
        self.dispatch_queue = DispatchQueue(
            self.chain, throttle_bytes=c.ms_dispatch_throttle_bytes, name=self.lname,
            pq_max_tokens_per_priority=c.ms_pq_max_tokens_per_priority,
            pq_min_cost=c.ms_pq_min_cost, die_on_unhandled=c.ms_die_on_unhandled_msg)
        self.options = protocol_options(c)
        self.local_connection = LoopbackConnection(self)
        self._lock = threading.RLock()
        self._global_seq = 0
        self._conns: dict[EntityAddrVec, AsyncConnection] = {}
        self._accepting: set[AsyncConnection] = set()
        self._anon: set[AsyncConnection] = set()
        self._pool: WorkerPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._processor: Processor | None = None
        self._perf = PerfCollection()
        self._perf.add(self.dispatch_queue.throttle)
        #: ``asyncmsgr_preauth_buffer_budget``: what accepted connections hold for
        #: peers that have not authenticated (None: unlimited); see AsyncConnection.
        self.preauth_budget: Throttle | None = None
        if c.asyncmsgr_preauth_buffer_budget:
            self.preauth_budget = Throttle("msgr-preauth-bytes",
                                           c.asyncmsgr_preauth_buffer_budget)
            self._perf.add(self.preauth_budget)
        self._worker_perf: dict[int, PerfCounters] = {}
        self._ready = False
        self.started = False
        self._stopping = False
        self._stopped = asyncio.Event()
        self._rng = random.Random()
        #: Fault injection (``ms_inject_*``, ``ms_blackhole_*``); see aio.inject.
        self.injector = FaultInjector(c)
        self.injection_enabled = _injection_enabled(c)
        #: Test hook called at Ceph's INTERCEPT steps (see asyncmsgr.testing.interceptor).
        self.interceptor: Interceptor | None = None

    @classmethod
    def create(cls, name: EntityName | str, *, config: MessengerConfig | None = None,
               nonce: int | None = None, lname: str = "",
               auth_client: AuthClient | None = None,
               auth_server: AuthServer | None = None,
               context: Context | None = None) -> Messenger:
        """``Messenger::create``: a new messenger for entity ``name`` (``osd.0``);
        ``context``: the :class:`~asyncmsgr.context.Context` to run in (shared by a
        process's messengers; default: one of its own from ``config``)."""
        return cls(name, config=config, nonce=nonce, lname=lname,
                   auth_client=auth_client, auth_server=auth_server, context=context)

    def __repr__(self) -> str:
        return f"<Messenger {self._name} {self._my_addrs}>"

    # -- identity ----------------------------------------------------------------------

    @property
    def my_name(self) -> EntityName:
        """``get_myname``."""
        return self._name

    def set_myname(self, name: EntityName) -> None:
        """``set_myname`` (e.g. a client learning its global id)."""
        self._name = name

    @property
    def my_addrs(self) -> EntityAddrVec:
        """``get_myaddrs``."""
        return self._my_addrs

    # -- policies ----------------------------------------------------------------------

    def set_default_policy(self, policy: Policy) -> None:
        """The policy for peer types without their own."""
        self.policies.set_default_policy(policy)

    def set_policy(self, peer_type: int, policy: Policy) -> None:
        """The policy for one peer entity type."""
        self.policies.set_policy(peer_type, policy)

    def set_policy_throttlers(self, peer_type: int, bytes: int | None,
                              messages: int | None) -> None:
        """Byte and message throttles for one peer type (taken per received message)."""
        self.policies.set_policy_throttlers(peer_type, bytes, messages)
        for t in self.policies.throttles():
            if t.perf_name not in self._perf:
                self._perf.add(t)

    def get_policy(self, peer_type: int) -> Policy:
        """The effective policy for a peer type."""
        return self.policies.get_policy(peer_type)

    def policy_for(self, peer_type: int) -> Policy:
        """ConnectionRegistry: the policy the protocol machine should apply."""
        return self.policies.get_policy(peer_type)

    # -- binding -----------------------------------------------------------------------

    async def bind(self, addr: EntityAddr | str, *, avoid_ports: Iterable[int] = ()) -> None:
        """Bind one address (``v2:127.0.0.1:0``: any free port of the range)."""
        a = EntityAddr.parse(addr) if isinstance(addr, str) else addr
        await self.bindv(EntityAddrVec((a,)), avoid_ports=avoid_ports)

    async def bindv(self, addrs: EntityAddrVec | str, *,
                    avoid_ports: Iterable[int] = ()) -> None:
        """Bind every address of an addrvec (e.g. ``[v2:...,v1:...]``).

        Connections accepted on a v2 address speak msgr2, on a v1 (legacy)
        address msgr v1; a peer sending the other protocol's banner faults with
        :class:`~asyncmsgr.errors.BannerMismatch`.
        """
        av = EntityAddrVec.parse(addrs) if isinstance(addrs, str) else addrs
        pool = self._ensure_pool()
        proc = Processor(pool.workers[0], backlog=self.config.ms_tcp_listen_backlog,
                         on_accept=self._on_accept)
        stamped = EntityAddrVec(tuple(a.with_nonce(self.nonce) for a in av))
        c = self.config
        bound = await proc.bind(stamped, port_min=c.ms_bind_port_min,
                                port_max=c.ms_bind_port_max, avoid_ports=avoid_ports,
                                retry_count=c.ms_bind_retry_count,
                                retry_delay=c.ms_bind_retry_delay)
        if self._processor is not None:
            self._processor.stop()
        self._processor = proc
        with self._lock:
            self._my_addrs = bound
            self._need_addr = any(a.is_blank_ip for a in bound)
            self.did_bind = True
        if self._ready:
            proc.start()

    async def rebind(self, avoid_ports: Iterable[int] = ()) -> None:
        """Re-bind to new ports, avoiding the given ones (nonce += 1,000,000)."""
        avoid = set(avoid_ports) | {a.port for a in self._my_addrs}
        old = self._my_addrs
        self.mark_down_all()
        self.nonce = (self.nonce + 1_000_000) & 0xFFFFFFFF
        await self.bindv(EntityAddrVec(tuple(a.with_port(0) for a in old)),
                         avoid_ports=avoid)

    # -- dispatchers and life cycle ------------------------------------------------------

    def add_dispatcher_head(self, d: Dispatcher) -> None:
        """Add a dispatcher before the others; the first one makes us ready."""
        first = not self.chain.dispatchers
        self.chain.add_head(d)
        if first:
            self._ready_up()

    def add_dispatcher_tail(self, d: Dispatcher) -> None:
        """Add a dispatcher after the others; the first one makes us ready."""
        first = not self.chain.dispatchers
        self.chain.add_tail(d)
        if first:
            self._ready_up()

    def _ensure_pool(self) -> WorkerPool:
        if self._pool is None:
            loop = asyncio.get_running_loop()
            self._loop = loop
            if self.config.asyncmsgr_embedded:
                self._pool = WorkerPool(1, embedded_loop=loop)
            else:
                factory = None
                if self.config.asyncmsgr_use_uvloop:
                    factory = uvloop_factory()
                    if factory is None:
                        logger.info("%r: asyncmsgr_use_uvloop is set but uvloop is not "
                                    "installed: worker threads run asyncio's loop", self)
                self._pool = WorkerPool(self.config.ms_async_op_threads,
                                        loop_factory=factory)
            self._pool.start()
            for w in self._pool.workers:
                self._perf.add(self.counters_for(w))
            self.context.attach(self)
        return self._pool

    def _ready_up(self) -> None:
        """``ready()``: workers up, listening starts, dispatch starts."""
        self._ensure_pool()
        if self._ready:
            return
        self._ready = True
        self.dispatch_queue.start(self._loop)
        if self._processor is not None:
            self._processor.start()

    def start(self) -> None:
        """``start()``: mark started (call from the event loop that will dispatch)."""
        self._ensure_pool()
        self.started = True

    @property
    def workers(self) -> tuple[Worker, ...]:
        """The workers of the pool (empty before :meth:`start`)."""
        return self._pool.workers if self._pool is not None else ()

    @property
    def event_loop_name(self) -> str | None:
        """``uvloop`` or ``asyncio``: the event loop the workers run (embedded: the
        caller's); None before the workers exist."""
        return loop_name(self._pool.workers[0].center.loop) if self._pool is not None \
            else None

    def counters_for(self, worker: Worker) -> PerfCounters:
        """The ``msgr_*`` counters of one worker."""
        with self._lock:
            counters = self._worker_perf.get(worker.worker_id)
            if counters is None:
                counters = msgr_worker_counters(worker.worker_id)
                self._worker_perf[worker.worker_id] = counters
            return counters

    def perf_dump(self) -> dict[str, dict[str, object]]:
        """Every counter set, like ``ceph daemon ... perf dump``."""
        return self._perf.perf_dump()

    @property
    def perf(self) -> PerfCollection:
        """This messenger's counter sets (workers' ``msgr_*``, throttles)."""
        return self._perf

    def apply_runtime_config(self, config: MessengerConfig) -> None:
        """Take the fault-injection options (``ms_inject_*``, ``ms_blackhole_*``) of
        ``config`` at once, for new and open connections (``config set``)."""
        names = [n for n in config.as_dict() if n.startswith(("ms_inject_", "ms_blackhole_"))]
        c = self.config.replace(**{n: getattr(config, n) for n in names})
        self.config = c
        self.injector.config = c
        self.injection_enabled = _injection_enabled(c)
        inject = self.injector if self.injection_enabled else None
        delay = self.injector.internal_delay if c.ms_inject_internal_delays > 0 else None
        for conn in self._all_connections():
            conn.set_injector(inject, delay)
    def shutdown(self) -> None:
        """Stop listening and mark every connection down (with reset callbacks)."""
        if self._stopping:
            return
        self._stopping = True
        if self._processor is not None:
            self._processor.stop()
        self.mark_down_all()
        self._stopped.set()

    async def wait(self) -> None:
        """Wait for :meth:`shutdown`, drain dispatch, stop workers; nothing left behind."""
        await self._stopped.wait()
        await self._drain_connections()
        await self.dispatch_queue.shutdown()
        pool, self._pool = self._pool, None
        if pool is not None:
            if pool.embedded:
                pool.stop()
            else:
                await asyncio.to_thread(pool.stop)
            self.context.detach(self)
        self.started = False

    async def _drain_connections(self) -> None:
        """Close anything still open without reset callbacks, then let events run."""
        for conn in self._all_connections():
            conn.mark_down()
        for _ in range(50):
            if not self._all_connections():
                return
            await asyncio.sleep(0.01)
        logger.warning("%r: connections still open after shutdown: %s", self,
                       self._all_connections())

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self.shutdown()
        await self.wait()

    # -- connections -----------------------------------------------------------------

    def _all_connections(self) -> list[AsyncConnection]:
        with self._lock:
            return [*self._conns.values(), *self._anon, *self._accepting]

    def _is_me(self, addrs: EntityAddrVec) -> bool:
        mine = self._my_addrs
        return self.did_bind and any(a in mine.addrs for a in addrs)

    def connect_to(self, peer_type: int, addrs: EntityAddrVec | EntityAddr | str, *,
                   anon: bool = False) -> Connection:
        """Look up or create the connection to ``addrs``; never blocks.

        Our own address gives the loopback connection. ``anon=True`` always makes
        a new, unregistered connection. The protocol is msgr2 when ``addrs`` has
        a v2 address, else msgr v1 (``asyncmsgr_connect_msgr`` forces one).
        """
        if self._stopping:
            raise ConnectionClosed(f"{self!r} is shut down")
        av = _as_addrvec(addrs)
        if not anon and self._is_me(av):
            return self.local_connection
        target, protocol = self.pick_target(av)
        with self._lock:
            if not anon:
                existing = self._conns.get(av)
                if existing is not None and not existing.marked_down:
                    return existing
            conn = self._new_connection(peer_type=peer_type, target=target, addrs=av,
                                        anon=anon, protocol=protocol)
            if anon:
                self._anon.add(conn)
            else:
                self._conns[av] = conn
        conn.start_connect()
        return conn

    def pick_target(self, av: EntityAddrVec) -> tuple[EntityAddr, int]:
        """The address to dial in ``av`` and the protocol (2 or 1) to speak there.

        Raises ValueError when ``av`` has no address of the wanted protocol.
        """
        want = self.config.asyncmsgr_connect_msgr
        v2 = av.msgr2_addr if want != "v1" else None
        if v2 is not None:
            return v2, 2
        v1 = av.legacy_addr if want != "v2" else None
        if v1 is not None:
            return v1.with_type(AddrType.LEGACY), 1
        kind = {"v2": "msgr2", "v1": "msgr v1"}.get(want, "v2 or v1")
        raise ValueError(f"{av} has no {kind} address to connect to")

    def connect_to_type(self, peer_type: int, addrs: EntityAddrVec | str) -> Connection:
        """``connect_to_osd`` / ``connect_to_mon`` / ... in one method."""
        return self.connect_to(peer_type, addrs)

    def send_to(self, m: Message, peer_type: int, addrs: EntityAddrVec | str) -> None:
        """``connect_to(...).send_message(m)``."""
        self.connect_to(peer_type, addrs).send_message(m)

    def get_loopback_connection(self) -> Connection:
        """The connection to ourselves."""
        return self.local_connection

    def _new_connection(self, *, peer_type: int, target: EntityAddr | None,
                        addrs: EntityAddrVec | None, anon: bool,
                        protocol: int = 2) -> AsyncConnection:
        pool = self._ensure_pool()
        worker = pool.get_worker()
        policy = self.policies.get_policy(peer_type) if peer_type else \
            self.policies.get_default_policy()
        machine = ProtocolV1 if protocol == 1 else ProtocolV2
        core = machine(
            owner=None, registry=self, options=self.options, policy=policy,
            dispatch_throttle=self.dispatch_queue.throttle,
            auth_client=self.auth_client, auth_server=self.auth_server,
            peer_type=peer_type, target_addr=target,
            wallclock=_wallclock, rng=self._rng, interceptor=self.interceptor)
        conn = AsyncConnection(self, worker, core, anon=anon)
        core.owner = conn
        if self.config.ms_inject_internal_delays > 0:
            core.delay_hook = self.injector.internal_delay
        core.counters = conn.counters
        conn.counters.inc("msgr_active_connections")
        return conn

    def _on_accept(self, sock: socket.socket, listen_addr: EntityAddr,
                   peer_addr: EntityAddr) -> None:
        if self._stopping:
            sock.close()
            return
        with self._lock:
            conn = self._new_connection(
                peer_type=0, target=None, addrs=None, anon=False,
                protocol=1 if listen_addr.type == AddrType.LEGACY else 2)
            self._accepting.add(conn)
        conn.counters.inc("msgr_created_connections")
        conn.start_accept(sock, peer_addr)

    def deliver_received(self, conn: AsyncConnection, m: Message) -> float:
        """A message arrived on ``conn``: preprocess, then fast or queued dispatch.

        Returns the seconds spent fast-dispatching it, for the caller's
        ``msgr_running_fast_dispatch_time`` (added once per batch of messages).
        """
        m.connection = conn
        return self.dispatch_queue.deliver(m, conn.conn_id)

    def unregister(self, conn: AsyncConnection) -> None:
        """A connection closed for good: forget it."""
        with self._lock:
            for key, value in list(self._conns.items()):
                if value is conn:
                    del self._conns[key]
            self._anon.discard(conn)
            self._accepting.discard(conn)
        conn.counters.dec("msgr_active_connections")
        if self._pool is not None:
            with contextlib.suppress(ValueError, RuntimeError):
                self._pool.release_worker(conn.worker)

    def mark_down(self, addrs: EntityAddrVec | EntityAddr | str) -> None:
        """Close the connection to ``addrs`` (the user gets ``ms_handle_reset``)."""
        av = _as_addrvec(addrs)
        with self._lock:
            conn = self._conns.get(av)
        if conn is not None:
            conn.stop(queue_reset=True)

    def mark_down_all(self) -> None:
        """Close every connection (each gets ``ms_handle_reset``)."""
        for conn in self._all_connections():
            conn.stop(queue_reset=True)

    # -- ConnectionRegistry (called by protocol machines on worker threads) -----------

    def get_global_seq(self, old: int = 0) -> int:
        """``max(global_seq, old) + 1``."""
        with self._lock:
            self._global_seq = max(self._global_seq, old) + 1
            return self._global_seq

    def learned_addr(self, peer_addr_for_me: EntityAddr) -> None:
        """Fill our blank IPs from how a peer sees us (``learned_addr``)."""
        with self._lock:
            if not self._need_addr or peer_addr_for_me.is_blank_ip:
                return
            self._my_addrs = EntityAddrVec(tuple(
                a.with_ip_of(peer_addr_for_me) if a.is_blank_ip else a
                for a in self._my_addrs))
            self._need_addr = False
            logger.debug("%r: learned my address %s", self, self._my_addrs)

    def lookup_existing(self, conn: object, peer_addrs: EntityAddrVec) -> ProtocolBase | None:
        """The machine of the registered connection to ``peer_addrs`` (not ``conn``)."""
        assert isinstance(conn, AsyncConnection)
        core = conn.core
        if core.lossy and not _register_lossy(core.policy):
            return None
        with self._lock:
            existing = self._conns.get(peer_addrs)
        if existing is None or existing is conn:
            return None
        return existing.core

    def stop_connection(self, machine: ProtocolBase, *, queue_reset: bool) -> None:
        """Stop the connection owning ``machine`` (a replaced lossy session)."""
        owner = machine.owner
        assert isinstance(owner, AsyncConnection)
        owner.stop(queue_reset=queue_reset)
        with self._lock:
            for key, value in list(self._conns.items()):
                if value is owner:
                    del self._conns[key]

    def kick_connection(self, machine: ProtocolBase) -> None:
        """Queue a keepalive on the connection owning ``machine``."""
        owner = machine.owner
        assert isinstance(owner, AsyncConnection)
        owner.send_keepalive()

    def reuse_connection(self, conn: object, machine: ProtocolBase, handover: object) -> None:
        """Move ``conn``'s socket into the existing connection owning ``machine``."""
        assert isinstance(conn, AsyncConnection)
        owner = machine.owner
        assert isinstance(owner, AsyncConnection)
        logger.debug("%r: reusing %r for the socket of %r", self, owner, conn)
        owner.adopt_handover(conn.detach_socket(), handover)

    def accept_conn(self, conn: object, peer_addrs: EntityAddrVec) -> bool:
        """Register an accepted connection under the peer's addresses."""
        assert isinstance(conn, AsyncConnection)
        with self._lock:
            self._accepting.discard(conn)
            core = conn.core
            if core.lossy and not _register_lossy(core.policy):
                self._anon.add(conn)
                return True
            existing = self._conns.get(peer_addrs)
            if existing is not None and existing is not conn and \
                    not existing.marked_down:
                self._accepting.add(conn)
                return False
            self._conns[peer_addrs] = conn
            return True

    def tolerates_missing_authorizer(self) -> bool:
        """msgr v1: a dispatcher has ``require_authorizer`` False (a monitor)."""
        return any(not d.require_authorizer for d in self.chain.dispatchers)

    # -- introspection ---------------------------------------------------------------

    def get_connections(self) -> list[Connection]:
        """Registered, anonymous and accepting connections."""
        return list(self._all_connections())

    def lookup_conn(self, addrs: EntityAddrVec) -> AsyncConnection | None:
        """The registered connection for ``addrs``."""
        with self._lock:
            return self._conns.get(addrs)

    def get_dispatch_queue_len(self) -> int:
        """Messages waiting for normal dispatch."""
        return self.dispatch_queue.get_queue_len()

    def status(self) -> dict[str, object]:
        """What ``messenger status`` shows: identity, life cycle, dispatch queue and
        every connection (state, peer, queues, sequence numbers)."""
        throttle = self.dispatch_queue.throttle
        with self._lock:
            registered = list(self._conns.values())
            anon = list(self._anon)
            accepting = list(self._accepting)
        conns = [c.status("registered") for c in registered]
        conns += [c.status("anon") for c in anon]
        conns += [c.status("accepting") for c in accepting]
        return {
            "name": str(self._name), "lname": self.lname, "nonce": self.nonce,
            "my_addrs": str(self._my_addrs), "did_bind": self.did_bind,
            "started": self.started, "stopping": self._stopping,
            "embedded": self.config.asyncmsgr_embedded,
            "event_loop": self.event_loop_name, "workers": len(self.workers),
            "dispatch_queue_len": self.get_dispatch_queue_len(),
            "dispatch_throttle": {"val": throttle.current, "max": throttle.max},
            "connections_count": len(conns), "connections": conns,
        }

    def describe(self) -> str:
        """One line per connection, for logs and tools."""
        lines = [repr(self)]
        for c in self._all_connections():
            lines.append(f"  #{c.conn_id} {entity_type_str(c.peer_type)} {c.peer_addrs} "
                         f"{c.state.name} lossy={c.core.lossy}")
        return "\n".join(lines)


def _injection_enabled(c: MessengerConfig) -> bool:
    return bool(c.ms_inject_socket_failures or c.ms_inject_network_congestion
                or c.ms_inject_delay_probability > 0
                or c.ms_blackhole_osd or c.ms_blackhole_mon or c.ms_blackhole_mds
                or c.ms_blackhole_mgr or c.ms_blackhole_client)


def _register_lossy(policy: object) -> bool:
    return bool(getattr(policy, "register_lossy_clients", True))


def _as_addrvec(addrs: EntityAddrVec | EntityAddr | str) -> EntityAddrVec:
    if isinstance(addrs, EntityAddrVec):
        return addrs
    if isinstance(addrs, EntityAddr):
        return EntityAddrVec((addrs,))
    return EntityAddrVec.parse(addrs)


def _wallclock() -> float:
    return time.time()


__all__ = ["LoopbackConnection", "Messenger", "protocol_options"]
