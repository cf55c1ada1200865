"""Faults on the Ceph side: real daemons that misbehave while asyncmsgr works.

* a monitor with ``ms_inject_socket_failures`` set (its own messenger shuts one
  socket operation in N) while a MonClient with injection on too runs 1,000
  commands: every one completes, and none is executed twice where that matters;
* monitors restarted and re-elected in a three-monitor cluster during a command
  stream: the MonClient fails over and every command completes (failover times
  are measured);
* an OSD with injection on during a write/read workload through
  :mod:`asyncmsgr.rados`: every object's content is verified, by asyncmsgr and by
  the C++ ``rados`` tool.

"Executed twice" is checked with a command that is not idempotent: ``osd create``
without a uuid allocates the next OSD id each time it runs. Ceph's MonClient
re-sends the commands still waiting for an answer on every new session, and a
monitor does not recognise a re-sent command, so a command whose answer was lost
can run twice (that is why ``osd create`` takes a uuid): the ids the client is
told must rise, and an id skipped (allocated by a run whose answer was lost) is
allowed only before a command that was in flight across a session change. Every
``config-key set`` is read back with ``config-key get`` before the next one.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ceph_cluster import CephCluster, MonCluster, MonClusterFactory, admin_socket_command
from rados_util import client, run

from asyncmsgr.auth.base import ModeOptions
from asyncmsgr.auth.cephx import CephxClient, Keyring
from asyncmsgr.config import MessengerConfig
from asyncmsgr.monc.client import MonClient, MonClientOptions
from asyncmsgr.rados import IoCtx
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType

pytestmark = [pytest.mark.interop, pytest.mark.timeout(300)]

#: Monitors propose quickly (the default waits up to a second per change).
FAST_PAXOS = {"paxos_propose_interval": "0.02", "paxos_min_wait": "0.01"}
#: Ceph's "system level" injection rates are 1/500..1/5000; 1/100 is harsher.
INJECT = 100
INJECTED = re.compile(r"injecting socket failure")


def mon_client(cluster: MonCluster, *, inject: int = 0, mode: str = "crc",
               options: MonClientOptions | None = None) -> MonClient:
    """A cephx MonClient for client.admin, with our messenger's injection."""
    name = AuthName(EntityType.CLIENT, "admin")
    key = Keyring.from_file(str(cluster.keyring_path)).get(name)
    assert key is not None
    auth = CephxClient(name, key, clock=time.time,
                       modes=ModeOptions(mon_client=mode, client=mode))
    config = MessengerConfig.from_ceph_options({"ms_inject_socket_failures": inject})
    return MonClient([EntityAddrVec.parse(a) for a in cluster.mon_addrs], auth_client=auth,
                     config=config,
                     options=options or MonClientOptions(
                         hunt_interval=0.3, ping_interval=0.5, ping_timeout=3.0,
                         mount_timeout=30.0))


@dataclass
class Ledger:
    """What the command stream was told, to check nothing ran twice."""

    osd_ids: list[int] = field(default_factory=list)
    resent: list[bool] = field(default_factory=list)
    """Per ``osd create``: a session change happened while it was in flight."""
    osd_spans: list[tuple[float, float]] = field(default_factory=list)
    """Per ``osd create``: when it was sent and answered."""
    fault_windows: list[tuple[float, float]] = field(default_factory=list)
    """From a monitor's kill or restart to the quorum being whole again: a monitor
    that forwarded a command to a leader that died re-sends it to the next one
    (``resend_routed_requests``), so it may run twice without a new session."""
    commands: int = 0
    spans: list[tuple[float, float]] = field(default_factory=list)
    """(start, end) of each command round, monotonic seconds."""

    def failover(self, since: float) -> float:
        """Seconds from ``since`` until a command round started after it completed."""
        ends = [end for start, end in self.spans if start >= since]
        assert ends, "no command completed after the fault"
        return min(ends) - since

    def check_osd_ids(self, in_map: list[int]) -> int:
        """Ids rise; a skipped id only before a re-sent command; the map holds
        exactly the ids handed out plus the skipped ones. Returns the skips."""
        skipped = 0
        prev = -1
        for got, resent, (start, end) in zip(self.osd_ids, self.resent, self.osd_spans,
                                             strict=True):
            assert got > prev, f"osd create answers went backwards: {got} after {prev}"
            gap = got - prev - 1
            in_fault = any(start <= b and a <= end for a, b in self.fault_windows)
            assert gap == 0 or resent or in_fault, (
                f"osd id {prev + 1}..{got - 1} allocated by nobody we know of, before a "
                f"command that was neither re-sent nor in flight during a fault")
            skipped += gap
            prev = got
        assert sorted(in_map) == list(range(prev + 1)), in_map
        return skipped


async def command_stream(monc: MonClient, ledger: Ledger, n: int, *, key: str,
                         every_osd_create: int = 5,
                         stop: asyncio.Event | None = None) -> None:
    """``n`` commands in rounds: ``osd create`` every ``every_osd_create``-th
    round, else a ``config-key set`` of an incrementing value and its ``get``."""
    value = 0
    i = 0
    rounds = 0
    while i < n and not (stop is not None and stop.is_set()):
        before = monc.sessions
        t0 = time.monotonic()
        rounds += 1
        if rounds % every_osd_create == 1:
            res = await monc.command({"prefix": "osd create"}, timeout=120)
            assert res.r == 0, (res.r, res.rs)
            ledger.osd_ids.append(int(res.outbuf))
            ledger.resent.append(monc.sessions != before)
            ledger.osd_spans.append((t0, time.monotonic()))
            i += 1
        else:
            value += 1
            res = await monc.command({"prefix": "config-key set", "key": key,
                                      "val": str(value)}, timeout=120)
            assert res.r == 0, (res.r, res.rs)
            got = await monc.command({"prefix": "config-key get", "key": key}, timeout=120)
            assert got.r == 0, (got.r, got.rs)
            assert got.outbuf == str(value).encode(), (got.outbuf, value)
            i += 2
        ledger.spans.append((t0, time.monotonic()))
        ledger.commands = i


def injected_in_log(cluster: MonCluster, daemon: str) -> int:
    """Socket failures the daemon logged having injected."""
    path = Path(cluster.log_path(daemon))
    if not path.exists():
        return 0
    return len(INJECTED.findall(path.read_text(errors="replace")))


def osd_ids(cluster: MonCluster) -> list[int]:
    """The OSD ids in the map (the ``ceph`` CLI as the oracle)."""
    t = time.monotonic()
    try:
        got = json.loads(cluster.ceph("osd", "ls", "--format", "json", connect_timeout=60,
                                      timeout=90))
    finally:
        print(f"ceph osd ls: {time.monotonic() - t:.1f} s; "
              + ", ".join(f"{m}: {_state(cluster, m)}" for m in cluster.mon_ids))
    assert isinstance(got, list)
    return [int(x) for x in got]


def _state(cluster: MonCluster, mid: str) -> str:
    try:
        status = admin_socket_command(cluster.asok_path(mid), "mon_status")
    except (OSError, ValueError) as exc:
        return repr(exc)
    return str(status.get("state")) if isinstance(status, dict) else "?"


def test_monitor_and_client_inject_socket_failures_1000_commands(
        mon_cluster_factory: MonClusterFactory) -> None:
    cluster = mon_cluster_factory(num_mons=1, extra_conf=FAST_PAXOS)
    cluster.ceph("config", "set", "mon", "ms_inject_socket_failures", str(INJECT))
    ledger = Ledger()
    stats: dict[str, Any] = {}

    async def body() -> None:
        monc = mon_client(cluster, inject=INJECT)
        await monc.connect()
        try:
            t0 = time.monotonic()
            await command_stream(monc, ledger, 1000, key="faults/counter")
            stats["seconds"] = time.monotonic() - t0
            stats["sessions"] = monc.sessions
            stats["ours"] = monc.messenger.injector.counts.get("socket_failures", 0)
            # the oracle runs without injection
            res = await monc.command({"prefix": "config rm", "who": "mon",
                                      "name": "ms_inject_socket_failures"}, timeout=120)
            assert res.r == 0
        finally:
            await monc.shutdown()

    run(body, timeout=280)
    stats["theirs"] = injected_in_log(cluster, cluster.mon_ids[0])
    print(f"1000 commands in {stats['seconds']:.1f} s over {stats['sessions']} sessions; "
          f"socket failures injected: monitor {stats['theirs']}, client {stats['ours']}")
    assert ledger.commands >= 1000
    assert stats["theirs"] > 0, "the monitor injected nothing"
    assert stats["ours"] > 0, "the client injected nothing"
    assert stats["sessions"] > 2
    skipped = ledger.check_osd_ids(osd_ids(cluster))
    print(f"osd create: {len(ledger.osd_ids)} answers, {sum(ledger.resent)} re-sent, "
          f"{skipped} ids run twice")
    sets = (ledger.commands - len(ledger.osd_ids)) // 2
    assert cluster.ceph("config-key", "get", "faults/counter").strip() == str(sets)


#: Elections and lease expiry in about a second (defaults: 5 s each).
FAST_ELECTIONS = {**FAST_PAXOS, "mon_election_timeout": "1", "mon_lease": "1"}


def mon_of(cluster: MonCluster, monc: MonClient) -> str | None:
    """The id of the monitor the client's session is with."""
    con = monc.active_connection
    if con is None:
        return None
    ports = {a.port for a in con.peer_addrs.addrs}
    for spec in cluster.mons:
        if ports & {spec.v2_port, spec.v1_port}:
            return spec.mon_id
    return None


def leader_of(cluster: MonCluster) -> str | None:
    """The quorum leader, from the running monitors' admin sockets."""
    for mid in cluster.mon_ids:
        if not cluster.is_running(mid):
            continue
        try:
            status = admin_socket_command(cluster.asok_path(mid), "mon_status")
        except (OSError, ValueError):
            continue
        if isinstance(status, dict) and status.get("state") == "leader":
            return mid
    return None


class StreamThread(threading.Thread):
    """A MonClient command stream on its own event loop, in a thread.

    The daemons are killed and restarted from the test's own thread: the cluster
    starts them with a parent-death signal, which Linux ties to the *thread* that
    started them (one from ``asyncio.to_thread`` would die with the pool thread).
    """

    def __init__(self, cluster: MonCluster, ledger: Ledger, key: str) -> None:
        super().__init__(daemon=True)
        self.cluster = cluster
        self.ledger = ledger
        self.key = key
        self.monc: MonClient | None = None
        self.connected = threading.Event()
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by join_checked()
            self.error = exc

    async def _main(self) -> None:
        monc = self.monc = mon_client(self.cluster)
        await monc.connect()
        self.connected.set()
        stop = asyncio.Event()

        async def watch() -> None:
            while not self._halt.is_set():
                await asyncio.sleep(0.02)
            stop.set()

        watcher = asyncio.ensure_future(watch())
        try:
            await command_stream(monc, self.ledger, 1 << 30, key=self.key, stop=stop)
        finally:
            watcher.cancel()
            await monc.shutdown()

    def progress(self, n: int, timeout: float = 120.0) -> None:
        """Wait (in the caller's thread) until ``n`` more commands completed."""
        target = self.ledger.commands + n
        deadline = time.monotonic() + timeout
        while self.ledger.commands < target:
            assert self.is_alive(), f"the command stream ended: {self.error!r}"
            assert time.monotonic() < deadline, "the command stream stalled"
            time.sleep(0.02)

    def join_checked(self) -> None:
        """Stop the stream, wait for it, re-raise what it failed with."""
        self._halt.set()
        self.join(60)
        assert not self.is_alive()
        if self.error is not None:
            raise self.error


def test_monitor_restarts_and_elections_during_a_command_stream(
        mon_cluster_factory: MonClusterFactory) -> None:
    """Three monitors; while commands stream: the client's monitor is killed, then
    the leader (an election), then the client's monitor is restarted cleanly.
    Each time the client fails over and every command completes."""
    cluster = mon_cluster_factory(num_mons=3, extra_conf=FAST_ELECTIONS)
    ledger = Ledger()
    faults: list[tuple[str, str, float]] = []
    stream = StreamThread(cluster, ledger, "faults/election")
    stream.start()
    try:
        assert stream.connected.wait(60), stream.error
        assert stream.monc is not None
        for kind in ("kill the client's monitor", "kill the leader",
                     "restart the client's monitor"):
            stream.progress(40)
            victim = (leader_of(cluster) if kind == "kill the leader"
                      else mon_of(cluster, stream.monc))
            assert victim is not None, kind
            t = time.monotonic()
            if kind.startswith("kill"):
                cluster.kill(victim)
                stream.progress(20)  # the survivors serve
            cluster.restart(victim)  # a running one is stopped with SIGTERM first
            faults.append((kind, victim, t))
            cluster.wait_ready(60.0)
            ledger.fault_windows.append((t, time.monotonic()))
        stream.progress(40)
    finally:
        stream.join_checked()
    for kind, victim, t in faults:
        print(f"{kind} (mon.{victim}): next command answered after "
              f"{ledger.failover(t):.2f} s")
    skipped = ledger.check_osd_ids(osd_ids(cluster))
    print(f"{ledger.commands} commands; osd create: {len(ledger.osd_ids)} answers, "
          f"{sum(ledger.resent)} re-sent, {skipped} ids run twice")
    sets = (ledger.commands - len(ledger.osd_ids)) // 2
    assert cluster.ceph("config-key", "get", "faults/election").strip() == str(sets)
    for _, _, t in faults:
        assert ledger.failover(t) < 30.0


OBJECTS = 16
ROUNDS = 24


def test_osd_injecting_socket_failures_during_writes_and_reads(
        ceph_cluster_factory: MonClusterFactory) -> None:
    """One OSD and the client both shut one socket operation in 100 while 16
    writers append numbered records (rewriting now and then) and read their
    object back after every write: every read returns exactly what was written,
    so a re-sent write applied twice (or lost) shows. The OSD recognises a
    re-sent op by its reqid; the C++ ``rados`` tool checks every object too."""
    cluster = ceph_cluster_factory(num_osds=1)
    assert isinstance(cluster, CephCluster)
    cluster.ceph("config", "set", "osd", "ms_inject_socket_failures", str(INJECT))
    expected: dict[str, bytes] = {}
    stats: dict[str, Any] = {}

    async def writer(ioctx: IoCtx, i: int) -> None:
        oid = f"inject-{i}"
        content = b"head;"
        await ioctx.write_full(oid, content)
        for n in range(ROUNDS):
            rec = f"{i}:{n};".encode() * (1 + n % 5)
            if n % 8 == 7:
                content = b"re" + rec
                await ioctx.write_full(oid, content)
            else:
                await ioctx.append(oid, rec)
                content += rec
            got = await ioctx.read(oid, len(content) + 64)
            assert got == content, f"{oid} after write {n}: {got!r} != {content!r}"
        expected[oid] = content

    async def body() -> None:
        async with client(cluster, ms_inject_socket_failures=str(INJECT)) as rados:
            ioctx = await rados.open_ioctx("test")
            t0 = time.monotonic()
            await asyncio.gather(*(writer(ioctx, i) for i in range(OBJECTS)))
            stats["seconds"] = time.monotonic() - t0
            stats["objecter"] = rados.objecter.perf_dump()
            stats["ours"] = rados.objecter.messenger.injector.counts.get("socket_failures", 0)

    run(body, timeout=240)
    cluster.ceph("config", "rm", "osd", "ms_inject_socket_failures")
    theirs = injected_in_log(cluster, "osd.0")
    counters = stats["objecter"]
    ops = OBJECTS * (1 + 2 * ROUNDS)
    print(f"{ops} ops in {stats['seconds']:.1f} s; socket failures injected: OSD {theirs}, "
          f"client {stats['ours']}; op_resend {counters.get('op_resend')}, "
          f"osd_session_close {counters.get('osd_session_close')}")
    assert len(expected) == OBJECTS
    assert theirs > 0, "the OSD injected nothing"
    assert stats["ours"] > 0, "the client injected nothing"
    assert counters["op_resend"] > 0
    for oid, content in expected.items():
        assert cluster.rados("-p", "test", "get", oid, "-") == content, oid
