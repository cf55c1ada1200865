"""Messenger benchmark: asyncmsgr against a minimal asyncio framing and pyzmq, on loopback.

Every run puts the server and the client in two separate processes (forked), the
way performance-notes.md §2 measured its peer table:

* ``asyncmsgr-embedded`` / ``asyncmsgr-threaded``: the ``asyncmsgr bench`` peers
  (:mod:`asyncmsgr.cli.benchlib`), with ``asyncmsgr_embedded`` true, or false with
  the default ``ms_async_op_threads``; lossy_client / stateless_server.
* ``minimal`` (``baseline_peers.py``): an ``asyncio.BufferedProtocol`` with an
  8-byte header (length, crc32c of the payload, computed by the sender and
  checked by the receiver), frames parsed in place from a reused 256 KiB buffer,
  frames over 64 KiB received straight into their own buffer, and writes
  batched: one ``transport.write`` of the joined buffers per loop iteration.
* ``pyzmq`` (``baseline_peers.py``, when importable): PUSH/PULL for the streams,
  DEALER/ROUTER for the ping-pongs (``copy=False`` for 4 MiB).

Messenger options (``--ms_*``, ``--asyncmsgr_*``, ``CEPH_ARGS``) apply to every
asyncmsgr peer, e.g. ``--connections 1000 --asyncmsgr_rx_buffer_size=16384``.

Workloads (each ``--duration`` seconds, ``--rounds`` rounds, every other round
in reverse peer order, medians reported with their range):

* ``stream_4k``: 4 KiB one way, messages the server received per second;
* ``stream_4m``: 4 MiB one way, MB/s (10^6) the server received;
* ``pingpong_1``: 64 B request/echo, one in flight: microseconds per round trip;
* ``pingpong_16``: 64 B, 16 in flight: round trips per second.

Stream rates are measured on the server (messages between its first and last
receive); ping-pong rates on the client. ``--connections N`` instead measures
one asyncmsgr server with N concurrent client connections: set-up time and
server RSS per idle connection.

Run: ``python benchmarks/bench_messenger.py [--json] [--quick] [--rounds 3]
[--duration 3] [--only minimal,asyncmsgr-embedded] [--connections 1000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection as Pipe
from typing import Any

import baseline_peers
from baseline_peers import (
    ALL_PEERS,
    HAVE_ZMQ,
    WORKLOADS,
    ClientReport,
    ServerReport,
    Workload,
    latency_summary,
    wait_stop,
)

from asyncmsgr.cli import benchlib
from asyncmsgr.config import ConfigError, MessengerConfig, parse_config_args
from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.message import Message
from asyncmsgr.messages import MPing
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.types import EntityType

KiB = 1024
MiB = 1024 * 1024
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0


def _rss_bytes() -> int:
    """This process's resident set size, from /proc/self/status (VmRSS)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


#: File descriptors a --connections process needs beyond one per connection
#: (listener, epoll, self-pipes, pipes to the orchestrator, the interpreter's own).
_FD_MARGIN = 256


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def fd_limit_problem(n: int) -> str | None:
    """Why ``n`` connections cannot be opened here (each side needs one fd per
    connection; the soft limit is raised to the hard one), or None."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n + _FD_MARGIN:
        return (f"{n} connections need about {n + _FD_MARGIN} file descriptors per "
                f"process, the hard limit is {hard} (raise it: ulimit -Hn)")
    return None


# -- asyncmsgr --------------------------------------------------------------------------


#: Messenger options from the command line (``--ms_*``, ``--asyncmsgr_*``, CEPH_ARGS);
#: set by :func:`main` before any child is forked.
BASE_CONFIG = MessengerConfig()


def _msgr_config(peer: str) -> MessengerConfig:
    return BASE_CONFIG.replace(asyncmsgr_embedded=peer == "asyncmsgr-embedded")


async def _msgr_server(peer: str, pipe: Pipe) -> ServerReport:
    msgr, server = await benchlib.start_server(_msgr_config(peer), "v2:127.0.0.1:0",
                                               Policy.stateless_server())
    stop = asyncio.Event()
    try:
        pipe.send(str(msgr.my_addrs))
        wait_stop(pipe, stop)
        await stop.wait()
    finally:
        msgr.shutdown()
        await msgr.wait()
    s = server.statistics()
    return {"messages": s.stream_messages or s.messages, "bytes": s.data_bytes,
            "first_ns": s.first_ns, "last_ns": s.last_ns}


async def _msgr_client(peer: str, w: Workload, addr: str, duration: float) -> ClientReport:
    opts = benchlib.ClientOptions(
        addr=addr, mode="stream" if w.stream else "request", size=w.size, duration=duration,
        concurrency=w.inflight or max(4, (16 * MiB) // w.size))
    r = await benchlib.run_client(_msgr_config(peer), opts)
    if r.errors:
        return {"error": "; ".join(r.errors)}
    return {"completed": r.messages, "elapsed_s": r.elapsed,
            **latency_summary(list(r.latencies_ns))}


# -- process plumbing -------------------------------------------------------------------


def _server_main(peer: str, w: Workload, pipe: Pipe) -> None:
    try:
        if peer == "minimal":
            report = asyncio.run(baseline_peers.minimal_server(w, pipe))
        elif peer == "pyzmq":
            report = baseline_peers.zmq_server(w, pipe)
        else:
            report = asyncio.run(_msgr_server(peer, pipe))
        pipe.send(report)
    except Exception as exc:
        pipe.send({"error": f"server: {exc!r}"})


def _client_main(peer: str, w: Workload, addr: Any, duration: float, pipe: Pipe) -> None:
    try:
        if peer == "minimal":
            report = asyncio.run(baseline_peers.minimal_client(w, addr, duration))
        elif peer == "pyzmq":
            report = baseline_peers.zmq_client(w, addr, duration)
        else:
            report = asyncio.run(_msgr_client(peer, w, addr, duration))
    except Exception as exc:
        report = {"error": f"client: {exc!r}"}
    pipe.send(report)


def _recv(pipe: Pipe, timeout: float, what: str) -> Any:
    if not pipe.poll(timeout):
        raise TimeoutError(f"no answer from the {what} within {timeout:g} s")
    return pipe.recv()


def _reap(proc: multiprocessing.process.BaseProcess) -> None:
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()


def run_one(peer: str, w: Workload, duration: float) -> dict[str, Any]:
    """One measurement in fresh server and client processes; returns the metrics."""
    ctx = multiprocessing.get_context("fork")
    srv_pipe, srv_child = ctx.Pipe()
    cli_pipe, cli_child = ctx.Pipe()
    server = ctx.Process(target=_server_main, args=(peer, w, srv_child), daemon=True)
    server.start()
    client: multiprocessing.process.BaseProcess | None = None
    try:
        addr = _recv(srv_pipe, START_TIMEOUT, "server")
        if isinstance(addr, dict):
            return {"error": addr.get("error", "server failed")}
        client = ctx.Process(target=_client_main, args=(peer, w, addr, duration, cli_child),
                             daemon=True)
        client.start()
        cr: ClientReport = _recv(cli_pipe, duration + 60, "client")
        srv_pipe.send("stop")
        sr: ServerReport = _recv(srv_pipe, STOP_TIMEOUT, "server")
    except TimeoutError as exc:
        return {"error": str(exc)}
    finally:
        for proc in (client, server):
            if proc is not None:
                _reap(proc)
    if "error" in cr or "error" in sr:
        return {"error": cr.get("error") or sr.get("error")}
    return _metrics(w, cr, sr)


def _metrics(w: Workload, cr: ClientReport, sr: ServerReport) -> dict[str, Any]:
    if w.stream:
        span = (sr["last_ns"] - sr["first_ns"]) / 1e9
        rate = sr["messages"] / span if span > 0 else 0.0
        mbps = sr["bytes"] / span / 1e6 if span > 0 else 0.0
        value = mbps if w.unit == "MB/s" else rate
        return {"value": value, "msgs_per_s": rate, "mb_per_s": mbps,
                "messages": sr["messages"]}
    elapsed = cr["elapsed_s"]
    rate = cr["completed"] / elapsed if elapsed > 0 else 0.0
    value = 1e6 / rate if w.unit == "us/rt" and rate else rate
    return {"value": value, "msgs_per_s": rate, "messages": cr["completed"],
            "p50_us": cr.get("p50_us"), "p99_us": cr.get("p99_us")}


# -- rounds, table, ratios ----------------------------------------------------------------


def run_matrix(peers: list[str], workloads: list[Workload], rounds: int, duration: float,
               log: Callable[[str], None]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every peer x workload, ``rounds`` times, alternating the peer order."""
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        p: {w.key: [] for w in workloads} for p in peers}
    for r in range(rounds):
        order = peers if r % 2 == 0 else list(reversed(peers))
        for w in workloads:
            for peer in order:
                m = run_one(peer, w, duration)
                runs[peer][w.key].append(m)
                shown = f"{m['value']:,.1f} {w.unit}" if "value" in m else m["error"]
                log(f"round {r + 1}/{rounds} {w.key:<12} {peer:<19} {shown}")
    return runs


def summarise(runs: dict[str, dict[str, list[dict[str, Any]]]],
              workloads: list[Workload]) -> dict[str, dict[str, dict[str, Any]]]:
    """Median, min and max of each peer x workload (failed runs left out)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for peer, by_w in runs.items():
        out[peer] = {}
        for w in workloads:
            values = [m["value"] for m in by_w[w.key] if "value" in m]
            p50s = [m["p50_us"] for m in by_w[w.key] if m.get("p50_us") is not None]
            p99s = [m["p99_us"] for m in by_w[w.key] if m.get("p99_us") is not None]
            errors = [m["error"] for m in by_w[w.key] if "error" in m]
            out[peer][w.key] = {
                "unit": w.unit,
                "median": statistics.median(values) if values else None,
                "min": min(values) if values else None,
                "max": max(values) if values else None,
                "runs": values,
                "p50_us": statistics.median(p50s) if p50s else None,
                "p99_us": statistics.median(p99s) if p99s else None,
                "errors": errors,
            }
    return out


#: (workload, reference peer, target, True if higher is better)
TARGETS: tuple[tuple[str, str, float, bool], ...] = (
    ("stream_4k", "minimal", 0.6, True),
    ("stream_4m", "minimal", 0.9, True),
    ("pingpong_1", "minimal", 1.3, False),
    ("stream_4k", "pyzmq", 2.0, True),
)


def ratios(summary: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """asyncmsgr / reference for each target, with pass/miss."""
    out: list[dict[str, Any]] = []
    for peer in ("asyncmsgr-embedded", "asyncmsgr-threaded"):
        if peer not in summary:
            continue
        for key, ref, target, higher in TARGETS:
            if ref not in summary or key not in summary[peer]:
                continue
            mine, theirs = summary[peer][key]["median"], summary[ref][key]["median"]
            ratio = mine / theirs if mine and theirs else None
            ok = None if ratio is None else (ratio >= target if higher else ratio <= target)
            out.append({"peer": peer, "workload": key, "vs": ref, "ratio": ratio,
                        "target": f"{'>=' if higher else '<='} {target}", "met": ok})
    return out


def _fmt(v: float | None) -> str:
    if v is None:
        return "failed"
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def print_table(summary: dict[str, dict[str, dict[str, Any]]], workloads: list[Workload],
                rat: list[dict[str, Any]]) -> None:
    peers = list(summary)
    width = 26
    print(f"{'workload':<36}" + "".join(f"{p:>{width}}" for p in peers))
    for w in workloads:
        cells = []
        for p in peers:
            s = summary[p][w.key]
            cell = _fmt(s["median"])
            if s["median"] is not None and len(s["runs"]) > 1:
                cell += f" [{_fmt(s['min'])}-{_fmt(s['max'])}]"
            cells.append(f"{cell:>{width}}")
        print(f"{w.title + ' (' + w.unit + ')':<36}" + "".join(cells))
    lat = [(p, summary[p]["pingpong_1"]) for p in peers if "pingpong_1" in summary[p]]
    if lat:
        print(f"{'  1-in-flight p50 / p99 (us)':<36}" + "".join(
            f"{_fmt(s['p50_us']) + ' / ' + _fmt(s['p99_us']):>{width}}" for _, s in lat))
    if rat:
        print("\nratios (median / median):")
        for r in rat:
            ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}"
            met = {True: "met", False: "MISSED", None: "n/a"}[r["met"]]
            print(f"  {r['peer']:<19} {r['workload']:<12} vs {r['vs']:<8} {ratio:>6} "
                  f"(target {r['target']}): {met}")


# -- many connections ---------------------------------------------------------------------


class _OneShot(Dispatcher):
    """Counts replies, one per connection; resolves ``done`` at ``expected``."""

    def __init__(self, expected: int, loop: asyncio.AbstractEventLoop) -> None:
        self.expected = expected
        self.replies = 0
        self.resets = 0
        self.loop = loop
        self.done: asyncio.Future[None] = loop.create_future()

    def ms_can_fast_dispatch_any(self) -> bool:
        return True

    def ms_can_fast_dispatch(self, m: Message) -> bool:
        return m.type == MPing.TYPE

    def ms_fast_dispatch(self, m: Message) -> None:
        self.replies += 1
        if self.replies == self.expected:
            self.loop.call_soon_threadsafe(self._finish)

    def _finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def ms_handle_reset(self, con: Connection) -> bool:
        self.resets += 1
        return True


async def _conn_server(threaded: bool, pipe: Pipe) -> None:
    _raise_fd_limit()
    config = BASE_CONFIG.replace(asyncmsgr_embedded=not threaded)
    msgr, server = await benchlib.start_server(config, "v2:127.0.0.1:0",
                                               Policy.stateless_server())
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[str] = asyncio.Queue()
    loop.add_reader(pipe.fileno(), lambda: commands.put_nowait(pipe.recv()))
    pipe.send(str(msgr.my_addrs))
    try:
        while await commands.get() != "stop":
            await asyncio.sleep(0.2)  # let the last events settle
            gc.collect()
            pipe.send({"rss": _rss_bytes(), "connections": len(msgr.get_connections()),
                       "messages": server.statistics().messages})
    finally:
        loop.remove_reader(pipe.fileno())
        msgr.shutdown()
        await msgr.wait()


async def _conn_client(n: int, per_msgr: int, addr: str, pipe: Pipe) -> None:
    _raise_fd_limit()
    loop = asyncio.get_running_loop()
    msgrs: list[Messenger] = []
    conns: list[Connection] = []
    counter = _OneShot(n, loop)
    rss0 = _rss_bytes()
    t0 = time.perf_counter()
    for i in range(n):
        if i % per_msgr == 0:
            msgr = Messenger.create(f"client.{5000 + len(msgrs)}", config=BASE_CONFIG)
            msgr.set_default_policy(Policy.lossy_client())
            msgr.add_dispatcher_tail(counter)
            msgr.start()
            msgrs.append(msgr)
        con = msgrs[-1].connect_to(EntityType.OSD, addr, anon=True)
        con.send_message(MPing(payload=benchlib.BENCH_OP.pack(benchlib.OP_REQUEST, 0, 0)))
        conns.append(con)
    try:
        await asyncio.wait_for(counter.done, 120)
        setup = time.perf_counter() - t0
        gc.collect()
        pipe.send({"setup_s": setup, "replies": counter.replies, "resets": counter.resets,
                   "client_rss_per_conn": (_rss_bytes() - rss0) / n,
                   "client_messengers": len(msgrs)})
    except TimeoutError:
        pipe.send({"error": f"only {counter.replies} of {n} replies within 120 s "
                            f"({counter.resets} resets)"})
    await loop.run_in_executor(None, pipe.recv)  # hold the connections until told
    for msgr in msgrs:
        msgr.shutdown()
    for msgr in msgrs:
        await msgr.wait()


def run_connections(n: int, per_msgr: int, threaded: bool) -> dict[str, Any]:
    """One server, ``n`` client connections each exchanging one message."""
    problem = fd_limit_problem(n)
    if problem is not None:
        return {"error": problem}
    ctx = multiprocessing.get_context("fork")
    srv_pipe, srv_child = ctx.Pipe()
    cli_pipe, cli_child = ctx.Pipe()
    server = ctx.Process(target=lambda: asyncio.run(_conn_server(threaded, srv_child)),
                         daemon=True)
    server.start()
    client: multiprocessing.process.BaseProcess | None = None
    try:
        addr = _recv(srv_pipe, START_TIMEOUT, "server")
        srv_pipe.send("measure")
        before = _recv(srv_pipe, START_TIMEOUT, "server")
        client = ctx.Process(
            target=lambda: asyncio.run(_conn_client(n, per_msgr, addr, cli_child)),
            daemon=True)
        client.start()
        cr = _recv(cli_pipe, 180, "client")
        srv_pipe.send("measure")
        after = _recv(srv_pipe, START_TIMEOUT, "server")
        cli_pipe.send("close")
        srv_pipe.send("stop")
    except TimeoutError as exc:
        return {"error": str(exc)}
    finally:
        for proc in (client, server):
            if proc is not None:
                _reap(proc)
    if "error" in cr:
        return {"error": cr["error"]}
    return {
        "connections": n, "threaded_server": threaded, **cr,
        "server_connections_open": after["connections"],
        "server_messages": after["messages"],
        "server_rss_before": before["rss"], "server_rss_after": after["rss"],
        "server_rss_per_conn": (after["rss"] - before["rss"]) / n,
    }


# -- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    global BASE_CONFIG  # read by the forked children
    try:
        BASE_CONFIG, rest = parse_config_args(sys.argv[1:] if argv is None else argv,
                                              os.environ)
    except ConfigError as exc:
        print(f"bench_messenger: error: {exc}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Messenger options (--ms_*, --asyncmsgr_*, CEPH_ARGS) apply to every "
               "asyncmsgr peer; asyncmsgr_embedded is set per peer.")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--json-out", metavar="FILE",
                        help="also write the JSON object to FILE (with the table printed)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 round of 0.3 s, 4 KiB stream and 16-in-flight "
                             "ping-pong only")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per run")
    parser.add_argument("--only", default="", help="comma-separated peers "
                        f"({', '.join(ALL_PEERS)})")
    parser.add_argument("--workloads", default="",
                        help=f"comma-separated ({', '.join(w.key for w in WORKLOADS)})")
    parser.add_argument("--connections", type=int, default=0, metavar="N",
                        help="instead: N concurrent connections to one server")
    parser.add_argument("--per-messenger", type=int, default=250,
                        help="--connections: anon connections per client messenger")
    parser.add_argument("--threaded", action="store_true",
                        help="--connections: threaded server (default embedded)")
    args = parser.parse_args(rest)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    if args.connections:
        n = args.connections if not args.quick else min(args.connections, 50)
        result = run_connections(n, max(1, args.per_messenger), args.threaded)
        if args.json:
            print(json.dumps(result))
        elif "error" in result:
            print(f"failed: {result['error']}")
        else:
            print(f"{n} connections ({result['client_messengers']} client messengers, "
                  f"{'threaded' if args.threaded else 'embedded'} server): set-up + one "
                  f"request/reply each in {result['setup_s']:.3f} s; server RSS "
                  f"{result['server_rss_before'] / MiB:.1f} -> "
                  f"{result['server_rss_after'] / MiB:.1f} MiB = "
                  f"{result['server_rss_per_conn'] / KiB:.1f} KiB per idle connection; "
                  f"client {result['client_rss_per_conn'] / KiB:.1f} KiB per connection")
        return 1 if "error" in result else 0

    peers = [p for p in (args.only.split(",") if args.only else ALL_PEERS) if p]
    unknown = [p for p in peers if p not in ALL_PEERS]
    if unknown:
        parser.error(f"unknown peer(s) {unknown}")
    if not HAVE_ZMQ and "pyzmq" in peers:
        log("pyzmq is not importable: skipped")
        peers.remove("pyzmq")
    wanted = args.workloads.split(",") if args.workloads else []
    workloads = [w for w in WORKLOADS if not wanted or w.key in wanted]
    rounds, duration = args.rounds, args.duration
    if args.quick:
        rounds, duration = 1, 0.3
        if not wanted:
            workloads = [w for w in workloads if w.key in ("stream_4k", "pingpong_16")]
    runs = run_matrix(peers, workloads, rounds, duration, log)
    summary = summarise(runs, workloads)
    rat = ratios(summary)
    report = {
        "config": {"rounds": rounds, "duration": duration, "peers": peers,
                   "messenger_options": BASE_CONFIG.diff(),
                   "workloads": [w.key for w in workloads], "cpus": os.cpu_count(),
                   "python": sys.version.split()[0]},
        "results": summary, "ratios": rat}
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=1)
    if args.json:
        print(json.dumps(report))
    else:
        print_table(summary, workloads, rat)
    failed = any(s["median"] is None for by_w in summary.values() for s in by_w.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
