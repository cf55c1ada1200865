"""Partition and heal between two network namespaces joined by a veth pair.

The server peer runs in one namespace and the client peer in the other, each a
``netns_peer.py`` subprocess reporting JSON lines (this process never changes
namespace). The client sends numbered MPings continuously; a table in the
server's namespace drops every packet to and from the client's address (input
and output) until the test deletes it.

The server's session hears nothing and faults after
``ms_connection_idle_timeout``; the client's faults the same way once its
socket buffer is full, or when the kernel gives up retransmitting
(``net.ipv4.tcp_retries2``, lowered in both namespaces), whichever comes first.
While partitioned, the client's reconnect attempts time out
(``ms_connection_ready_timeout``) and back off; after the heal the next one
gets through.

Needs root, ``ip`` (iproute2) and ``nft`` (nftables); skipped with the reason
otherwise, or where a namespace or an nftables table cannot be made.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from msgr_harness import Recorder, run

from asyncmsgr.protocol.common import READY_STATES

PEER_SCRIPT = Path(__file__).with_name("netns_peer.py")

#: Limit for every ``ip``/``nft``/``sysctl`` command.
CMD_TIMEOUT = 10.0
#: ``net.ipv4.tcp_retries2`` in both namespaces: ETIMEDOUT about 1.4-3 s after a
#: segment goes unacknowledged (the default 15 takes about 15 minutes).
TCP_RETRIES2 = 2
#: Both messengers: a session with no socket activity for this long faults; a connect
#: attempt that did not reach READY in time is retried after a backoff.
PEER_OPTIONS = ("--ms_connection_idle_timeout=1.5", "--ms_connection_ready_timeout=1",
                "--ms_initial_backoff=0.05", "--ms_max_backoff=0.5")
#: The client sends one message of 8 + SIZE bytes every INTERVAL seconds.
INTERVAL = 0.01
SIZE = 512
#: Messages delivered before the partition starts, and sent after the session is
#: back before the client stops (traffic on the resumed session).
WARMUP = 50
AFTER = 20
#: How long the partition lasts after the client's session faulted: reconnect
#: attempts (ms_connection_ready_timeout) fail meanwhile.
HOLD = 1.5
#: Limits for the partition to be detected, for recovery after the heal, and for
#: a peer to exit.
FAULT_TIMEOUT = 10.0
RECOVER_TIMEOUT = 10.0
EXIT_TIMEOUT = 10.0

READY_NAMES = frozenset(s.name for s in READY_STATES)

_ids = itertools.count()


# -- namespaces ------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """Two namespaces joined by ``veth0`` <-> ``veth0``, private addresses."""

    server_ns: str
    client_ns: str
    server_ip: str = "10.77.0.1"
    client_ip: str = "10.77.0.2"


def _cmd(*argv: str, stdin: str | None = None) -> None:
    """Run ``argv``; CalledProcessError (with its stderr) if it fails."""
    subprocess.run(argv, input=stdin, check=True, capture_output=True, text=True,
                   timeout=CMD_TIMEOUT)


@pytest.fixture
def link() -> Iterator[Link]:
    """A fresh namespace pair (names unique per process and test), deleted after."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create network namespaces")
    missing = [tool for tool in ("ip", "nft") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed "
                    "(apt-get install iproute2 nftables; .ci/run does)")
    tag = f"{os.getpid()}-{next(_ids)}"
    ln = Link(server_ns=f"amsgr-{tag}-s", client_ns=f"amsgr-{tag}-c")
    made: list[str] = []
    try:
        try:
            for ns in (ln.server_ns, ln.client_ns):
                _cmd("ip", "netns", "add", ns)
                made.append(ns)
            _cmd("ip", "link", "add", "veth0", "netns", ln.server_ns, "type", "veth",
                 "peer", "name", "veth0", "netns", ln.client_ns)
            for ns, addr in ((ln.server_ns, ln.server_ip), (ln.client_ns, ln.client_ip)):
                _cmd("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "veth0")
                _cmd("ip", "-n", ns, "link", "set", "veth0", "up")
                _cmd("ip", "-n", ns, "link", "set", "lo", "up")
                _cmd("ip", "netns", "exec", ns, "sysctl", "-qw",
                     f"net.ipv4.tcp_retries2={TCP_RETRIES2}")
            _cmd("ip", "netns", "exec", ln.server_ns, "nft", "list", "ruleset")
        except subprocess.CalledProcessError as exc:
            pytest.skip(f"cannot set up network namespaces: {' '.join(exc.cmd)}: "
                        f"{exc.stderr.strip()}")
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"cannot set up network namespaces: {exc}")
        yield ln
    finally:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True,
                           timeout=CMD_TIMEOUT, check=False)


_PARTITION_TABLE = "asyncmsgr_partition"


@contextlib.contextmanager
def partitioned(ln: Link) -> Iterator[None]:
    """Drop every packet between the peers while the block runs (nftables in the
    server's namespace, input and output); the table is deleted on exit."""
    peer = ln.client_ip
    _cmd("ip", "netns", "exec", ln.server_ns, "nft", "-f", "-", stdin=f"""
table inet {_PARTITION_TABLE} {{
    chain input {{ type filter hook input priority 0; policy accept; ip saddr {peer} drop; }}
    chain output {{ type filter hook output priority 0; policy accept; ip daddr {peer} drop; }}
}}
""")
    try:
        yield
    finally:
        _cmd("ip", "netns", "exec", ln.server_ns, "nft", "delete", "table", "inet",
             _PARTITION_TABLE)


# -- peers -------------------------------------------------------------------------------

Event = dict[str, Any]


class Peer:
    """A ``netns_peer.py`` subprocess: its reports as they arrive, and its commands."""

    def __init__(self, role: str, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.role = role
        self.proc = proc
        self.log = log
        self.events: list[Event] = []
        self.eof = False
        self.rec = Recorder()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, ns: str, role: str, *args: str, log: Path) -> Peer:
        """Start ``netns_peer.py ROLE ARGS`` in namespace ``ns``; stderr goes to ``log``."""
        with log.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                "ip", "netns", "exec", ns, sys.executable, str(PEER_SCRIPT), *PEER_OPTIONS,
                "--debug", role, *args, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=err)
        return cls(role, proc, log)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.events.append(json.loads(line))
            self.rec.changed()
        self.eof = True
        self.rec.changed()

    def of(self, ev: str, since: float = 0.0) -> list[Event]:
        """The reports of kind ``ev`` stamped at or after ``since`` (monotonic)."""
        return [e for e in self.events if e["ev"] == ev and e["t"] >= since]

    def log_tail(self, lines: int = 30) -> str:
        """The end of the peer's stderr (asyncmsgr DEBUG log), for failure messages."""
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    async def wait_for(self, ev: str, pred: Callable[[Event], bool] = lambda e: True, *,
                       since: float = 0.0, timeout: float = 10.0) -> Event:
        """The first report of kind ``ev`` since ``since`` matching ``pred``."""
        def found() -> Event | None:
            return next((e for e in self.of(ev, since) if pred(e)), None)
        try:
            await self.rec.wait_until(lambda: self.eof or found() is not None, timeout,
                                      f"{self.role}: {ev}")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; {self.role} log:\n{self.log_tail()}") from None
        e = found()
        if e is None:
            raise AssertionError(f"{self.role} exited waiting for {ev}; log:\n"
                                 f"{self.log_tail()}")
        return e

    async def command(self, line: str) -> None:
        """Send one command line."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def close(self) -> None:
        """Ask the peer to exit; kill it if it has not within :data:`EXIT_TIMEOUT`."""
        if self.proc.returncode is None:
            with contextlib.suppress(ConnectionError):
                await self.command("exit")
            try:
                await asyncio.wait_for(self.proc.wait(), EXIT_TIMEOUT)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        await asyncio.wait_for(self._reader, EXIT_TIMEOUT)

    def errors(self) -> list[str]:
        """WARNING and ERROR lines of the peer's log (the messenger's own complaints)."""
        return [line for line in self.log.read_text(errors="replace").splitlines()
                if " WARNING " in line or " ERROR " in line or "Traceback" in line]


@asynccontextmanager
async def peers(ln: Link, logs: Path, *, server: tuple[str, ...],
                client: tuple[str, ...]) -> AsyncIterator[tuple[Peer, Peer]]:
    """The server peer in ``ln.server_ns`` and a client connected to it in
    ``ln.client_ns``; both asked to exit (or killed) at the end."""
    srv = await Peer.start(ln.server_ns, "server", "--bind", f"v2:{ln.server_ip}:0",
                           *server, log=logs / "server.log")
    try:
        bound = await srv.wait_for("bound")
        cli = await Peer.start(ln.client_ns, "client", "--connect", bound["addrs"],
                               "--interval", str(INTERVAL), "--size", str(SIZE), *client,
                               log=logs / "client.log")
        try:
            yield srv, cli
        finally:
            await cli.close()
    finally:
        await srv.close()


@dataclass(frozen=True)
class Partition:
    """What the peers reported around one partition (``t``: monotonic seconds)."""

    first: Event
    """The client's first ``connect``."""
    t_cut: float
    fault: Event
    """The client's first report, after the cut, that its session failed."""
    t_heal: float
    again: Event
    """The client's first ``connect`` after the heal."""
    caught_up: Event
    """The server's first ``msg`` sent after that connect: the backlog is through."""
    sent: int
    """Messages sent in all (``n`` = 0 .. sent - 1)."""

    def figures(self, server: Peer) -> str:
        """The measured times and counts, for the test output (``pytest -s``)."""
        backlog = self.again["sent"] - len([e for e in server.of("msg")
                                            if e["t"] < self.t_heal])
        return (f"messages={self.sent} backlog_at_reconnect={backlog} "
                f"fault_after_cut={self.fault['t'] - self.t_cut:.2f}s "
                f"partition={self.t_heal - self.t_cut:.2f}s "
                f"reconnect_after_heal={self.again['t'] - self.t_heal:.2f}s "
                f"caught_up_after_heal={self.caught_up['t'] - self.t_heal:.2f}s")


async def partition_and_heal(ln: Link, server: Peer, client: Peer, *, fault_ev: str,
                             faulted: Callable[[Event], bool] = lambda e: True,
                             ) -> Partition:
    """Traffic flows, partition until the client reports ``fault_ev`` plus
    :data:`HOLD`, heal, wait until :data:`AFTER` messages sent after the
    reconnect arrived, then stop the client and wait for its last message."""
    first = await client.wait_for("connect")
    await server.wait_for("msg", lambda e: e["n"] >= WARMUP)
    t_cut = time.monotonic()
    with partitioned(ln):
        fault = await client.wait_for(fault_ev, faulted, since=t_cut, timeout=FAULT_TIMEOUT)
        await asyncio.sleep(HOLD)  # the partition itself lasts
    t_heal = time.monotonic()
    again = await client.wait_for("connect", since=t_heal, timeout=RECOVER_TIMEOUT)
    caught_up = await server.wait_for("msg", lambda e: e["n"] >= again["sent"],
                                      timeout=RECOVER_TIMEOUT)
    await server.wait_for("msg", lambda e: e["n"] >= again["sent"] + AFTER,
                          timeout=RECOVER_TIMEOUT)
    await client.command("stop")
    sent: int = (await client.wait_for("stopped"))["sent"]
    await server.wait_for("msg", lambda e: e["n"] == sent - 1, timeout=RECOVER_TIMEOUT)
    return Partition(first=first, t_cut=t_cut, fault=fault, t_heal=t_heal, again=again,
                     caught_up=caught_up, sent=sent)


# -- tests -------------------------------------------------------------------------------


@pytest.mark.parametrize(("server_policy", "client_policy", "server_name", "client_name"), [
    pytest.param("stateful_server", "lossless_client", "mds.0", "client.4100",
                 id="stateful_server-lossless_client"),
    pytest.param("lossless_peer", "lossless_peer", "osd.0", "osd.1", id="lossless_peer"),
])
def test_lossless_session_resumes_after_partition(
        link: Link, tmp_path: Path, server_policy: str, client_policy: str,
        server_name: str, client_name: str) -> None:
    """Both sides' sessions fault during the partition; after the heal the client
    reconnects into the same session (SESSION_RECONNECT -> RECONNECT_OK, no reset
    on either side) and the ledger is clean: message ``n`` arrived exactly once,
    in order, with its bytes, for every ``n`` sent, on one server connection
    whose seqs run 1..N; the client saw the last one acknowledged."""
    async def main() -> None:
        async with peers(link, tmp_path, server=("--policy", server_policy, "--name",
                                                 server_name),
                         client=("--policy", client_policy, "--name", client_name,
                                 "--peer-type", server_name.partition(".")[0])
                         ) as (server, client):
            p = await partition_and_heal(
                link, server, client, fault_ev="state",
                faulted=lambda e: e["state"] not in READY_NAMES)
            acked = await client.wait_for("acked", timeout=RECOVER_TIMEOUT)
            n = p.sent

            # The partition held: nothing arrived between the fault and the heal.
            assert not [e for e in server.of("msg", p.fault["t"]) if e["t"] < p.t_heal]
            # Resumed, not replaced: the same connection, one SERVER_IDENT and a
            # RECONNECT_OK, no reset of any kind on the client.
            assert p.again["conn"] == p.first["conn"]
            counts = p.again["counts"]
            assert counts.get("recv_SERVER_IDENT") == 1, counts
            assert counts.get("recv_SESSION_RECONNECT_OK", 0) >= 1, counts
            assert "recv_SESSION_RESET" not in counts, counts
            assert not client.of("reset")
            assert not client.of("remote_reset")
            assert acked["ok"], acked
            # The ledger.
            msgs = server.of("msg")
            assert [e["n"] for e in msgs] == list(range(n))
            assert all(e["ok"] for e in msgs), [e["n"] for e in msgs if not e["ok"]]
            assert [e["seq"] for e in msgs] == list(range(1, n + 1))
            session = {e["conn"] for e in msgs}
            assert len(session) == 1, session
            # Server side: the session was neither reset nor remote-reset (a reset
            # of the accepting connection whose socket moved into it is Ceph's),
            # and it was accepted again after the heal.
            assert not server.of("remote_reset")
            assert session.isdisjoint(e["conn"] for e in server.of("reset"))
            assert [e for e in server.of("accept", p.t_heal) if e["conn"] in session]
            assert server.errors() == []
            assert client.errors() == []
            print(f"lossless {server_policy}/{client_policy}: {p.figures(server)}")
    run(main, timeout=45)


def test_lossy_session_resets_after_partition(link: Link, tmp_path: Path) -> None:
    """A lossy client's session ends at the fault (``ms_handle_reset``, no remote
    reset); the client then opens a new one, which connects after the heal.
    Messages may be lost but never duplicated or reordered: the ledger is the
    prefix the old session delivered, then every message sent on the new one."""
    async def main() -> None:
        async with peers(link, tmp_path, server=("--policy", "stateless_server"),
                         client=("--policy", "lossy_client", "--reconnect-on-reset")
                         ) as (server, client):
            p = await partition_and_heal(link, server, client, fault_ev="reset")
            switch = await client.wait_for("switch")
            n = p.sent

            assert p.fault["conn"] == p.first["conn"]
            assert p.again["conn"] == switch["conn"] != p.first["conn"]
            assert len(client.of("reset")) == 1
            assert not client.of("remote_reset")
            msgs = server.of("msg")
            got = [e["n"] for e in msgs]
            assert all(e["ok"] for e in msgs), [e["n"] for e in msgs if not e["ok"]]
            # Never duplicated nor reordered; lost only around the fault.
            assert got == sorted(set(got)), got
            kept = [k for k in got if k < switch["first"]]
            assert kept == list(range(len(kept)))
            assert got[len(kept):] == list(range(switch["first"], n))
            # Each server connection saw its own session: seqs from 1, no gaps.
            for conn in {e["conn"] for e in msgs}:
                seqs = [e["seq"] for e in msgs if e["conn"] == conn]
                assert seqs == list(range(1, len(seqs) + 1)), (conn, seqs)
            assert server.errors() == []
            assert client.errors() == []
            print(f"lossy stateless_server/lossy_client: lost={n - len(got)} "
                  f"{p.figures(server)}")
    run(main, timeout=45)
