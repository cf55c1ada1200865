"""The synthetic workload of Ceph's ``test_msgr.cc`` (``SyntheticWorkload``), with a ledger.

``servers`` messengers (``osd.N``) and ``clients`` messengers (``client.N``) run in
this process, all bound on 127.0.0.1 (clients too, so lossless peers can
reconnect to them), on a msgr2 address or, with ``protocol="v1"``, a msgr v1
one: every connection then speaks that protocol. An op loop, on the calling
event loop, picks one op at a time from a weighted mix:

* **connect**: a random client ``connect_to``\\ s a random server (skipped at
  ``max_connections``);
* **drop**: with at least 10 connections, mark a random one down; for lossless
  peers the server's connection back to that client too (Ceph's
  ``drop_connection``). Both directions of that session are closed in the ledger;
* **send**: wait until fewer than ``max_in_flight`` tracked messages are pending,
  then send a tracked message (an MPing, or an MCommand with ``tracked_type``
  ``command``) with a random canonical payload on a random connection; a
  ``noise_percent`` share of sends is instead an untracked MCommand at priority
  200 that only disturbs the flow;
* **sleep**: ``sleep_min``..``sleep_max`` seconds.

Servers echo every tracked message back as a tracked message of their own, so
the server-to-client direction (and its replay) is checked too. Every arrival
goes through the :class:`~asyncmsgr.testing.ledger.Ledger`; ``ms_handle_reset`` and
``ms_handle_remote_reset`` close the sending connection's current generation.
After the ops, the workload waits (up to ``timeout`` without progress) until
nothing tracked is pending, snapshots the ledger, shuts everything down and
checks the dispatch queues are empty (Ceph's ``TearDown``).

Threads: the op loop, normal dispatch and the reset callbacks run on the calling
loop; fast dispatch (the default, as in Ceph) runs on the I/O workers. Only the
ledger and a few counters are shared; both are locked.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from asyncmsgr.aio.connection import AsyncConnection
from asyncmsgr.config import MessengerConfig
from asyncmsgr.connection import Connection
from asyncmsgr.context import Context
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.message import CEPH_MSG_PRIO_DEFAULT, Message
from asyncmsgr.messages import MPing
from asyncmsgr.messages.command import MCommand
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.testing.ledger import (
    Arrival,
    CloseReason,
    Header,
    Ledger,
    LedgerStats,
    PayloadTable,
    Verdict,
)
from asyncmsgr.types import EntityType

#: ``--policy`` name -> (server policy, client policy), as in test_msgr.cc.
POLICY_PAIRS: Mapping[str, tuple[str, str]] = {
    "lossless_client": ("stateful_server", "lossless_client"),
    "lossy_client": ("stateless_server", "lossy_client"),
    "lossless_peer": ("lossless_peer", "lossless_peer"),
    "lossless_peer_reuse": ("lossless_peer_reuse", "lossless_peer_reuse"),
}
OP_NAMES = ("connect", "drop", "send", "sleep")
#: Priority of the untracked noise MCommands (Ceph: "to disorganize regular flow").
NOISE_PRIORITY = 200
#: ``drop`` only runs with at least this many connections (Ceph's threshold).
DROP_MIN_CONNECTIONS = 10
#: Deliberate violations for testing the checks end to end (hidden CLI flag).
DEBUG_VIOLATIONS = ("duplicate", "reorder", "corrupt", "loss")
#: Wire protocols (``--msgr``): the address type every messenger binds.
PROTOCOLS = ("v2", "v1")
#: Seconds an interrupted run waits for what is pending before it reports.
INTERRUPT_DRAIN = 5.0


class StallError(Exception):
    """Nothing tracked arrived for ``timeout`` seconds while messages were pending."""


@dataclass(frozen=True, kw_only=True, slots=True)
class OpMix:
    """Relative weights of the four ops (Ceph's SyntheticStressTest: 9/10/70/10)."""

    connect: float = 9.0
    drop: float = 10.0
    send: float = 70.0
    sleep: float = 10.0

    def __post_init__(self) -> None:
        weights = self.weights()
        if any(w < 0 for w in weights) or not sum(weights) > 0:
            raise ValueError(f"op weights must be >= 0 with a positive sum: {self}")

    def weights(self) -> tuple[float, float, float, float]:
        """The weights in :data:`OP_NAMES` order."""
        return (self.connect, self.drop, self.send, self.sleep)

    @classmethod
    def parse(cls, text: str) -> OpMix:
        """``"connect=9,drop=10,send=70,sleep=10"``; omitted ops weigh 0.

        Raises:
            ValueError: unknown op, bad number, or all weights zero.
        """
        values: dict[str, float] = dict.fromkeys(OP_NAMES, 0.0)
        for item in text.split(","):
            name, eq, number = item.strip().partition("=")
            if not eq or name not in values:
                raise ValueError(f"bad op weight {item!r}: use NAME=WEIGHT with NAME in "
                                 f"{', '.join(OP_NAMES)}")
            values[name] = float(number)
        return cls(**values)

    def text(self) -> str:
        """The form :meth:`parse` reads."""
        return ",".join(f"{n}={w:g}" for n, w in zip(OP_NAMES, self.weights(), strict=True))


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkloadOptions:
    """What to run; the defaults are SyntheticStressTest's."""

    servers: int = 8
    clients: int = 32
    policy: str = "lossless_client"
    """A key of :data:`POLICY_PAIRS`."""
    protocol: str = "v2"
    """``v2`` (msgr2) or ``v1`` (msgr v1): what every messenger binds and speaks."""
    ops: int | None = 5000
    """Ops after the seed connections (None: run for ``duration``)."""
    duration: float | None = None
    """Seconds of ops instead of a count (used when ``ops`` is None)."""
    seed: int = 0
    seed_connections: int = 100
    max_in_flight: int = 64
    max_connections: int = 128
    mix: OpMix = OpMix()
    sleep_min: float = 0.0005
    sleep_max: float = 0.0015
    payloads: int = 100
    min_payload: int = 32
    max_payload: int = 4 << 20
    noise_percent: float = 5.0
    tracked_type: str = "ping"
    """``ping`` (MPing, fast-dispatched) or ``command`` (MCommand)."""
    queued_dispatch: bool = False
    """Deliver through the DispatchQueue instead of fast dispatch."""
    congestion_ops: int = 0
    """If > 0, ``ms_inject_network_congestion`` is switched off after this many ops."""
    timeout: float = 300.0
    """Give up after this long without progress while messages are pending."""
    debug_violation: str | None = None
    """One of :data:`DEBUG_VIOLATIONS`: commit that violation once, to test the checks."""

    def __post_init__(self) -> None:
        if self.policy not in POLICY_PAIRS:
            raise ValueError(f"unknown policy {self.policy!r}; use one of "
                             f"{', '.join(POLICY_PAIRS)}")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {self.protocol!r}; use one of "
                             f"{', '.join(PROTOCOLS)}")
        if self.servers < 1 or self.clients < 1:
            raise ValueError("need at least one server and one client")
        if (self.ops is None) == (self.duration is None):
            raise ValueError("give exactly one of ops and duration")
        if self.tracked_type not in ("ping", "command"):
            raise ValueError(f"tracked_type must be ping or command, not {self.tracked_type!r}")
        if self.max_in_flight < 1 or self.max_connections < 1:
            raise ValueError("max_in_flight and max_connections must be at least 1")
        if self.payloads < 1 or not 0 <= self.min_payload <= self.max_payload:
            raise ValueError(f"need payloads >= 1 and 0 <= min_payload <= max_payload "
                             f"(got {self.payloads}, {self.min_payload}, {self.max_payload})")
        if not 0 <= self.noise_percent <= 100:
            raise ValueError("noise_percent must be in [0, 100]")
        if not 0 <= self.sleep_min <= self.sleep_max:
            raise ValueError("need 0 <= sleep_min <= sleep_max")
        if self.debug_violation is not None and self.debug_violation not in DEBUG_VIOLATIONS:
            raise ValueError(f"debug_violation must be one of {DEBUG_VIOLATIONS}")

    @property
    def server_policy(self) -> str:
        """The servers' policy name."""
        return POLICY_PAIRS[self.policy][0]

    @property
    def client_policy(self) -> str:
        """The clients' policy name."""
        return POLICY_PAIRS[self.policy][1]

    @property
    def lossless(self) -> bool:
        """True unless the sessions are lossy."""
        return not Policy.by_name(self.client_policy).lossy


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkloadResult:
    """What happened; ``stats`` is the ledger after the final wait, before shutdown."""

    stats: LedgerStats
    ops: dict[str, int]
    """Ops performed per kind: ``seed_connect``, ``connect``, ``drop``, ``send``,
    ``sleep``, and ``<kind>_skipped`` for no-ops (too many or too few connections)."""
    noise_sent: int
    noise_received: int
    faults: dict[str, int]
    """Injected faults per kind, summed over the messengers."""
    reconnects: int
    """Sessions re-established, seen by the connecting side."""
    reaccepts: int
    """Accepting-side connections established again: a resumed session, or a new
    session from the same peer replacing the old one on that connection."""
    resets: int
    """``ms_handle_reset`` calls during the run."""
    remote_resets: int
    """``ms_handle_remote_reset`` calls during the run."""
    elapsed: float
    """Seconds from the first op to the end of the final wait."""
    stalled: bool
    """The run gave up waiting (``timeout``); pending messages count as lost."""
    pending_streams: tuple[str, ...]
    """Open streams still waiting at the end (when something was lost)."""
    dispatch_queue_leftover: int = 0
    """Messages left in dispatch queues after shutdown (should be 0)."""
    errors: tuple[str, ...] = ()
    sessions_by_protocol: dict[str, int] = field(default_factory=dict)
    """Sessions established (both sides, first times and again) per wire
    protocol, ``v2`` or ``v1``: what the connections really spoke."""
    interrupted: bool = False
    """The run was stopped early (Ctrl-C): messages still pending then are not
    losses, only unfinished."""

    @property
    def faults_injected(self) -> int:
        """Every injected fault (socket failures, congestion, delays, drops)."""
        return sum(self.faults.values())


class WorkloadObserver:
    """Hooks for measurements (the soak benchmark); every method may be a no-op.

    ``session`` and ``delivered`` run on I/O threads, inline: keep them quick.
    """

    def messenger_created(self, index: int, msgr: Messenger) -> None:
        """``msgr`` exists, before it binds or connects."""

    def session(self, index: int, con: Connection, *, accept: bool) -> None:
        """A session was established on ``con`` of messenger ``index`` (inline
        ``ms_handle_fast_connect`` / ``_accept``; from the dispatch queue with
        ``queued_dispatch``)."""

    def delivered(self, index: int, con: Connection, arrival: Arrival) -> None:
        """A tracked message arrived on ``con`` of messenger ``index``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressSample:
    """Where a run is (``asyncmsgr stress``'s per-second line)."""

    elapsed: float
    ops: int
    sent: int
    delivered: int
    pending: int
    faults: int
    resets: int
    reconnects: int


@dataclass(slots=True)
class _ConnInfo:
    con: Connection
    client: int
    server: int


@dataclass(slots=True)
class _Counters:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sessions: dict[int, int] = field(default_factory=dict)
    by_protocol: Counter[str] = field(default_factory=Counter)
    reconnects: int = 0
    reaccepts: int = 0
    resets: int = 0
    remote_resets: int = 0
    noise_received: int = 0


class _StressDispatcher(Dispatcher):
    """One messenger's dispatcher: ledger checks, server echoes, reset bookkeeping."""

    def __init__(self, wl: SyntheticWorkload, index: int, *, is_server: bool) -> None:
        self.wl = wl
        self.index = index
        self.is_server = is_server
        self.fast = not wl.options.queued_dispatch

    def ms_can_fast_dispatch_any(self) -> bool:
        return self.fast

    def ms_can_fast_dispatch(self, m: Message) -> bool:
        return self.fast and m.type in (MPing.TYPE, MCommand.TYPE)

    def ms_fast_dispatch(self, m: Message) -> None:
        self.wl.on_message(self, m)

    def ms_dispatch(self, m: Message) -> bool:
        if m.type not in (MPing.TYPE, MCommand.TYPE):
            return False
        self.wl.on_message(self, m)
        return True

    # Sessions are counted inline when fast-dispatching (fast callbacks only reach
    # fast dispatchers), else from the dispatch queue.

    def ms_handle_fast_connect(self, con: Connection) -> None:
        self.wl.on_session(self.index, con, accept=False)

    def ms_handle_fast_accept(self, con: Connection) -> None:
        self.wl.on_session(self.index, con, accept=True)

    def ms_handle_connect(self, con: Connection) -> None:
        if not self.fast:
            self.wl.on_session(self.index, con, accept=False)

    def ms_handle_accept(self, con: Connection) -> None:
        if not self.fast:
            self.wl.on_session(self.index, con, accept=True)

    def ms_handle_reset(self, con: Connection) -> bool:
        self.wl.on_reset(self.index, con, remote=False)
        return True

    def ms_handle_remote_reset(self, con: Connection) -> None:
        self.wl.on_reset(self.index, con, remote=True)


class SyntheticWorkload:
    """Messengers, dispatchers, ledger and the op loop; see the module docstring.

    Use :func:`run_workload`, or ``await start()``, ``await run()`` (ops and the
    final wait; returns the result) and ``await shutdown()``, all on one loop.
    """

    def __init__(self, options: WorkloadOptions, config: MessengerConfig, *,
                 observer: WorkloadObserver | None = None,
                 context: Context | None = None) -> None:
        self.options = options
        self.config = config
        self.context = context
        """The context every messenger runs in (None: each its own)."""
        self.observer = observer or WorkloadObserver()
        self.rng = random.Random(options.seed)
        self.payloads = PayloadTable(count=options.payloads, min_size=options.min_payload,
                                     max_size=options.max_payload, seed=options.seed)
        self.ledger = Ledger(self.payloads)
        self.msgrs: list[Messenger] = []
        self._conns: dict[int, _ConnInfo] = {}
        self._counters = _Counters()
        self._ops: Counter[str] = Counter()
        self._noise_sent = 0
        self._progress = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._waiting = False
        self._running = False
        self._peers = not Policy.by_name(options.client_policy).lossy and \
            not Policy.by_name(options.server_policy).server
        self._debug_done = False
        self._t0 = 0.0
        self._stop: asyncio.Event | None = None

    # -- set up and tear down ---------------------------------------------------------

    async def start(self) -> None:
        """Create, bind and start every messenger."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.ledger.set_listener(self._on_progress)
        o = self.options
        names = [f"osd.{i}" for i in range(o.servers)] + \
            [f"client.{i}" for i in range(o.clients)]
        for index, name in enumerate(names):
            is_server = index < o.servers
            msgr = Messenger.create(name, config=self.config, context=self.context)
            self.msgrs.append(msgr)
            self.observer.messenger_created(index, msgr)
            msgr.set_default_policy(Policy.by_name(o.server_policy if is_server
                                                   else o.client_policy))
            await msgr.bind(f"{o.protocol}:127.0.0.1:0")
            msgr.add_dispatcher_head(_StressDispatcher(self, index, is_server=is_server))
            msgr.start()

    async def shutdown(self) -> int:
        """Shut every messenger down and wait; returns messages left in dispatch queues."""
        self._running = False
        for msgr in self.msgrs:
            msgr.shutdown()
        leftover = 0
        for msgr in self.msgrs:
            await asyncio.wait_for(msgr.wait(), 60)
            leftover += msgr.get_dispatch_queue_len()
        self.ledger.set_listener(None)
        return leftover

    # -- the run ---------------------------------------------------------------------

    def progress(self) -> ProgressSample:
        """A snapshot of the run so far (any time on the run's loop)."""
        stats = self.ledger.stats()
        faults = sum(sum(dict.copy(m.injector.counts).values()) for m in self.msgrs)
        c = self._counters
        with c.lock:
            resets, reconnects = c.resets + c.remote_resets, c.reconnects
        return ProgressSample(
            elapsed=time.monotonic() - self._t0 if self._t0 else 0.0,
            ops=sum(self._ops.values()), sent=stats.sent, delivered=stats.delivered,
            pending=stats.pending, faults=faults, resets=resets, reconnects=reconnects)

    async def run(self, stop: asyncio.Event | None = None) -> WorkloadResult:
        """Seed connections, run the ops, wait for everything pending; the result.

        Setting ``stop`` ends the ops early and waits at most
        :data:`INTERRUPT_DRAIN` seconds for what is pending (``interrupted``).
        """
        o = self.options
        self._running = True
        self._t0 = time.monotonic()
        self._stop = stop
        stalled = False
        errors: list[str] = []
        interrupted = False
        try:
            for _ in range(o.seed_connections):
                self._connect("seed_connect")
            await self._op_loop()
            if stop is not None and stop.is_set():
                interrupted = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wait_pending_below(1), INTERRUPT_DRAIN)
            else:
                await self._wait_pending_below(1)
        except StallError as exc:
            stalled = True
            errors.append(str(exc))
        elapsed = time.monotonic() - self._t0
        stats = self.ledger.stats()
        self._running = False
        faults: Counter[str] = Counter()
        for msgr in self.msgrs:
            faults.update(dict.copy(msgr.injector.counts))  # one C-level copy: workers write
        c = self._counters
        with c.lock:
            return WorkloadResult(
                stats=stats, ops=dict(self._ops), noise_sent=self._noise_sent,
                noise_received=c.noise_received, faults=dict(faults),
                reconnects=c.reconnects, reaccepts=c.reaccepts, resets=c.resets,
                remote_resets=c.remote_resets, elapsed=elapsed, stalled=stalled,
                pending_streams=tuple(self.ledger.pending_streams()) if stats.pending
                else (), errors=tuple(errors), sessions_by_protocol=dict(c.by_protocol),
                interrupted=interrupted)

    async def _op_loop(self) -> None:
        o = self.options
        rng = self.rng
        weights = o.mix.weights()
        deadline = None if o.duration is None else time.monotonic() + o.duration
        i = 0
        stop = self._stop
        while (i < o.ops) if o.ops is not None else (
                deadline is not None and time.monotonic() < deadline):
            if stop is not None and stop.is_set():
                return
            if o.congestion_ops and i == o.congestion_ops:
                self._end_congestion()
            op = rng.choices(OP_NAMES, weights)[0]
            if op == "connect":
                self._connect()
            elif op == "drop":
                self._drop()
            elif op == "send":
                await self._send()
            else:
                self._ops["sleep"] += 1
                await asyncio.sleep(rng.uniform(o.sleep_min, o.sleep_max))
            if op != "sleep":
                await asyncio.sleep(0)  # let embedded I/O interleave with the op loop
            i += 1

    def _end_congestion(self) -> None:
        for msgr in self.msgrs:
            inj = msgr.injector
            inj.config = inj.config.replace(ms_inject_network_congestion=0)

    def _connect(self, kind: str = "connect") -> None:
        o = self.options
        if len(self._conns) >= o.max_connections:
            self._ops[f"{kind}_skipped"] += 1
            return
        self._ops[kind] += 1
        ci = o.servers + self.rng.randrange(o.clients)
        si = self.rng.randrange(o.servers)
        con = self.msgrs[ci].connect_to(EntityType.OSD, self.msgrs[si].my_addrs)
        if con.conn_id not in self._conns:
            self._conns[con.conn_id] = _ConnInfo(con, ci, si)

    def _random_conn(self) -> _ConnInfo | None:
        if not self._conns:
            return None
        return self.rng.choice(list(self._conns.values()))

    def _drop(self) -> None:
        if len(self._conns) < DROP_MIN_CONNECTIONS:
            self._ops["drop_skipped"] += 1
            return
        info = self._random_conn()
        assert info is not None
        self._ops["drop"] += 1
        con = info.con
        del self._conns[con.conn_id]
        # Both directions of this session are discarded: the client's messages and
        # the server's echoes to it (whatever server connection carries them).
        self.ledger.close_link(con.conn_id)
        con.mark_down()
        if self._peers:  # lossless peers: the server side goes too (Ceph)
            peer = self.msgrs[info.server].lookup_conn(self.msgrs[info.client].my_addrs)
            if peer is not None:
                self.ledger.close_connection(info.server, peer.conn_id,
                                             reason=CloseReason.MARK_DOWN)
                peer.mark_down()

    async def _send(self) -> None:
        o = self.options
        await self._wait_pending_below(o.max_in_flight)
        info = self._random_conn()
        if info is None:
            self._ops["send_skipped"] += 1
            return
        self._ops["send"] += 1
        con = info.con
        if self.rng.random() * 100 < o.noise_percent:
            self._noise_sent += 1
            con.send_message(MCommand(cmd=["noise"], priority=NOISE_PRIORITY))
            return
        index = self.rng.randrange(len(self.payloads))
        h = self.ledger.record_send(sender=info.client, dest=info.server, conn=con.conn_id,
                                    link=con.conn_id, priority=CEPH_MSG_PRIO_DEFAULT,
                                    payload=index, stamp=time.monotonic_ns())
        if o.debug_violation is not None and not self._debug_done:
            self._debug_done = self._commit_violation(info, h)
            if self._debug_done:
                return
        con.send_message(self.tracked_message(h))

    def _commit_violation(self, info: _ConnInfo, h: Header) -> bool:
        """Send ``h`` wrongly on purpose; False if this send cannot carry the violation."""
        kind = self.options.debug_violation
        con = info.con
        if kind == "loss":  # recorded, never sent
            return True
        if kind == "duplicate":
            con.send_message(self.tracked_message(h))
            con.send_message(self.tracked_message(h))
            return True
        if kind == "corrupt":
            m = self.tracked_message(h)
            data = bytearray(self.payloads.payload(h.payload))
            if not data:
                return False
            data[len(data) // 2] ^= 0xFF
            m.data = data
            con.send_message(m)
            return True
        # reorder: record a second message and send the two swapped
        h2 = self.ledger.record_send(sender=info.client, dest=info.server,
                                     conn=con.conn_id, link=con.conn_id,
                                     priority=h.key.priority, payload=h.payload)
        con.send_message(self.tracked_message(h2))
        con.send_message(self.tracked_message(h))
        return True

    def tracked_message(self, h: Header) -> Message:
        """A tracked message carrying ledger header ``h`` and its canonical payload."""
        m: Message = MPing() if self.options.tracked_type == "ping" else \
            MCommand(cmd=["synthetic"])
        m.priority = h.key.priority
        m.middle = h.pack()
        m.data = self.payloads.payload(h.payload)
        return m

    # -- waiting ----------------------------------------------------------------------

    def _on_progress(self) -> None:
        """Ledger listener (any thread): wake :meth:`_wait_pending_below`."""
        if not self._waiting:
            return
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._progress.set()
        elif not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._progress.set)

    async def _wait_pending_below(self, limit: int) -> None:
        """Return once fewer than ``limit`` tracked messages are pending.

        Raises:
            StallError: no tracked message arrived for ``timeout`` seconds.
        """
        ledger = self.ledger
        if ledger.pending() < limit:
            return
        timeout = self.options.timeout
        last = ledger.pending()
        stuck_since = time.monotonic()
        self._waiting = True
        try:
            while True:
                self._progress.clear()
                pending = ledger.pending()
                if pending < limit:
                    return
                now = time.monotonic()
                if pending != last:
                    last, stuck_since = pending, now
                elif now - stuck_since >= timeout:
                    raise StallError(f"{pending} tracked messages pending with no progress "
                                     f"for {timeout:g} s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._progress.wait(),
                                           min(1.0, timeout - (now - stuck_since)))
        finally:
            self._waiting = False

    # -- dispatcher callbacks ----------------------------------------------------------

    def on_message(self, d: _StressDispatcher, m: Message) -> None:
        """A message arrived at ``d``'s messenger (fast or queued dispatch)."""
        con = m.connection
        assert con is not None
        if not len(m.middle):  # untracked noise
            c = self._counters
            with c.lock:
                c.noise_received += 1
            return
        arrival = self.ledger.record_delivery(m.middle, m.data, receiver=d.index)
        self.observer.delivered(d.index, con, arrival)
        h = arrival.header
        if not d.is_server or h is None or arrival.verdict in (Verdict.CORRUPTED,
                                                               Verdict.DUPLICATED):
            return
        if isinstance(con, AsyncConnection) and con.marked_down:
            # Closed for good (delayed delivery flushes at close, possibly after the
            # reset callback already closed the generation): an echo would be
            # dropped with no callback left to excuse it.
            return
        echo = self.ledger.record_send(sender=d.index, dest=h.key.sender, conn=con.conn_id,
                                       link=h.key.link, priority=h.key.priority,
                                       payload=h.payload, stamp=time.monotonic_ns())
        con.send_message(self.tracked_message(echo))

    def on_session(self, index: int, con: Connection, *, accept: bool) -> None:
        """A session was established on ``con`` (first time, or again)."""
        c = self._counters
        with c.lock:
            seen = c.sessions.get(con.conn_id, 0)
            c.sessions[con.conn_id] = seen + 1
            c.by_protocol["v2" if con.is_msgr2 else "v1"] += 1
            if seen:
                if accept:
                    c.reaccepts += 1
                else:
                    c.reconnects += 1
        self.observer.session(index, con, accept=accept)

    def on_reset(self, index: int, con: Connection, *, remote: bool) -> None:
        """A reset callback: close the sending side's generation on ``con``."""
        if not self._running:
            return  # shutdown's own mark_down_all
        c = self._counters
        with c.lock:
            if remote:
                c.remote_resets += 1
            else:
                c.resets += 1
        self.ledger.close_connection(index, con.conn_id)
        if not remote:
            self._conns.pop(con.conn_id, None)  # closed for good: stop using it


async def run_workload(options: WorkloadOptions, config: MessengerConfig, *,
                       observer: WorkloadObserver | None = None,
                       context: Context | None = None, stop: asyncio.Event | None = None,
                       on_progress: Callable[[ProgressSample], None] | None = None,
                       progress_interval: float = 1.0) -> WorkloadResult:
    """Start, run, shut down; the result with the dispatch-queue check filled in.

    ``stop`` ends the run early (see :meth:`SyntheticWorkload.run`);
    ``on_progress`` gets a :class:`ProgressSample` every ``progress_interval``
    seconds while the ops run and pending messages drain.
    """
    wl = SyntheticWorkload(options, config, observer=observer, context=context)
    ticker: asyncio.Task[None] | None = None
    try:
        await wl.start()
        if on_progress is not None:
            ticker = asyncio.get_running_loop().create_task(
                _tick(wl, on_progress, progress_interval))
        result = await wl.run(stop)
    finally:
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        leftover = await wl.shutdown()
    errors = list(result.errors)
    if leftover:
        errors.append(f"{leftover} messages left in dispatch queues after shutdown")
    return dataclasses.replace(result, dispatch_queue_leftover=leftover,
                               errors=tuple(errors))


async def _tick(wl: SyntheticWorkload, on_progress: Callable[[ProgressSample], None],
                interval: float) -> None:
    t0 = time.monotonic()
    n = 0
    while True:
        n += 1
        await asyncio.sleep(max(0.0, t0 + n * interval - time.monotonic()))
        on_progress(wl.progress())


__all__ = [
    "DEBUG_VIOLATIONS",
    "INTERRUPT_DRAIN",
    "OP_NAMES",
    "POLICY_PAIRS",
    "PROTOCOLS",
    "OpMix",
    "ProgressSample",
    "StallError",
    "SyntheticWorkload",
    "WorkloadObserver",
    "WorkloadOptions",
    "WorkloadResult",
    "run_workload",
]
