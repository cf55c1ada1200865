"""msgr v1 against msgr2 in one run: the ``asyncmsgr bench`` peers over each protocol.

Every measurement puts a bench server (:func:`asyncmsgr.cli.benchlib.start_server`,
stateless_server) and a client (:func:`asyncmsgr.cli.benchlib.run_client`,
lossy_client, auth none) in two fresh forked processes, the server bound to a
``v2:`` address (msgr2.1, crc mode) or a ``v1:`` address (legacy msgr). The
protocols are interleaved so that machine noise hits both alike: each round
measures every case over both protocols back to back, v2 first in even rounds
and v1 first in odd ones (v2 v1, v1 v2, v2 v1 ...).

Cases:

* ``stream_4k``: 4 KiB one way (16 MiB window), messages per second the server
  received between its first and last message;
* ``stream_4m``: 4 MiB one way (4 in flight), MB/s (10^6) the server received;
* ``pingpong``: 64 B request / reply, one in flight: round trips per second on
  the client, with the mean time per round trip and the p50 / p99 latency.

Reported per case: the median of the rounds for each protocol with its range,
and the v1/v2 ratio of throughput (higher is better for v1; for ping-pong it is
the inverse of the latency ratio) as the median of the per-round ratios (each
from two adjacent measurements), next to the ratio of the medians. Target: v1
at least 0.9x v2 in every case. The protocol is checked on both ends: a
measurement whose connection did not speak the intended protocol fails.

Messenger options (``--ms_*``, ``--asyncmsgr_*``, ``CEPH_ARGS``) apply to both
peers. A default run (10 rounds, 1.2 s per measurement, 60 measurements) takes
about 75 s: many short pairs cancel bursts of foreign load better than a few
long ones. Each measurement also records the foreign CPU load (machine busy
time minus ours) and both processes' CPU time per message; the CPU ratio is far
less sensitive to other jobs than the rates.

Run: ``python benchmarks/bench_v1_v2.py [--rounds 10] [--duration 1.2] [--cases
stream_4k,pingpong] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any

from asyncmsgr.cli import benchlib
from asyncmsgr.cli.benchlib import MsgrVersion
from asyncmsgr.config import ConfigError, MessengerConfig, parse_config_args
from asyncmsgr.policy import Policy

KiB = 1024
MiB = 1024 * 1024
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0
TARGET = 0.9
PROTOCOLS: tuple[MsgrVersion, ...] = ("v2", "v1")


@dataclass(frozen=True, slots=True)
class Case:
    """One measured traffic pattern."""

    key: str
    title: str
    stream: bool
    size: int
    inflight: int


CASES: tuple[Case, ...] = (
    Case("stream_4k", "4 KiB one-way stream", True, 4 * KiB, (16 * MiB) // (4 * KiB)),
    Case("stream_4m", "4 MiB one-way stream", True, 4 * MiB, 4),
    Case("pingpong", "64 B ping-pong, 1 in flight", False, 64, 1),
)

#: Messenger options from the command line; set by :func:`main` before any fork.
BASE_CONFIG = MessengerConfig()


# -- the two processes ----------------------------------------------------------------------


async def _server(msgr_version: MsgrVersion, pipe: Pipe) -> dict[str, Any]:
    msgr, server = await benchlib.start_server(
        BASE_CONFIG, benchlib.bind_addr(msgr_version), Policy.stateless_server())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        pipe.send(str(msgr.my_addrs))
        loop.add_reader(pipe.fileno(), stop.set)  # "stop" arrived (or the parent died)
        await stop.wait()
        loop.remove_reader(pipe.fileno())
        pipe.recv()
    finally:
        msgr.shutdown()
        await msgr.wait()
    s = server.statistics()
    return {"messages": s.stream_messages or s.messages, "bytes": s.data_bytes,
            "first_ns": s.first_ns, "last_ns": s.last_ns, "msgrs": list(s.msgrs),
            "cpu_s": time.process_time() - s.first_cpu if s.first_cpu else 0.0}


async def _client(msgr_version: MsgrVersion, case: Case, addr: str,
                  duration: float) -> dict[str, Any]:
    opts = benchlib.ClientOptions(addr=addr, mode="stream" if case.stream else "request",
                                  size=case.size, duration=duration,
                                  concurrency=case.inflight)
    config = BASE_CONFIG.replace(asyncmsgr_connect_msgr=msgr_version)
    r = await benchlib.run_client(config, opts)
    if r.errors:
        return {"error": "; ".join(r.errors)}
    lat = list(r.latencies_ns)
    return {"completed": r.messages, "elapsed_s": r.elapsed, "msgrs": r.msgrs,
            "con_modes": r.con_modes, "cpu_s": r.cpu_s,
            "p50_us": _us(benchlib.percentile(lat, 0.5)),
            "p99_us": _us(benchlib.percentile(lat, 0.99))}


def _us(ns: float | None) -> float | None:
    return None if ns is None else ns / 1e3


def _server_main(msgr_version: MsgrVersion, pipe: Pipe) -> None:
    try:
        report = asyncio.run(_server(msgr_version, pipe))
    except Exception as exc:
        report = {"error": f"server: {exc!r}"}
    pipe.send(report)


def _client_main(msgr_version: MsgrVersion, case: Case, addr: str, duration: float,
                 pipe: Pipe) -> None:
    try:
        report = asyncio.run(_client(msgr_version, case, addr, duration))
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


def _cpu_snapshot() -> tuple[float, float, float]:
    """(wall, machine busy CPU seconds from /proc/stat, reaped children's CPU seconds)."""
    busy = 0.0
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        busy = (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # not guest time
    except (OSError, ValueError, IndexError):
        pass
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.monotonic(), busy, ru.ru_utime + ru.ru_stime


def foreign_load(before: tuple[float, float, float], after: tuple[float, float, float],
                 ) -> float | None:
    """CPUs (of ``os.cpu_count()``) busy with other work than this benchmark between
    two snapshots: machine busy time minus what our children used, per second."""
    wall = after[0] - before[0]
    if wall <= 0 or not after[1]:
        return None
    return max(0.0, ((after[1] - before[1]) - (after[2] - before[2])) / wall)


def run_one(msgr_version: MsgrVersion, case: Case, duration: float) -> dict[str, Any]:
    """One measurement in fresh server and client processes; returns its metrics
    (and the foreign CPU load while it ran)."""
    before = _cpu_snapshot()
    m = _run_one(msgr_version, case, duration)
    m["foreign_load"] = foreign_load(before, _cpu_snapshot())
    return m


def _run_one(msgr_version: MsgrVersion, case: Case, duration: float) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    srv_pipe, srv_child = ctx.Pipe()
    cli_pipe, cli_child = ctx.Pipe()
    server = ctx.Process(target=_server_main, args=(msgr_version, srv_child), daemon=True)
    server.start()
    client: multiprocessing.process.BaseProcess | None = None
    try:
        addr = _recv(srv_pipe, START_TIMEOUT, "server")
        if isinstance(addr, dict):
            return {"error": addr.get("error", "server failed")}
        client = ctx.Process(target=_client_main,
                             args=(msgr_version, case, addr, duration, cli_child),
                             daemon=True)
        client.start()
        cr: dict[str, Any] = _recv(cli_pipe, duration + 60, "client")
        srv_pipe.send("stop")
        sr: dict[str, Any] = _recv(srv_pipe, STOP_TIMEOUT, "server")
    except TimeoutError as exc:
        return {"error": str(exc)}
    finally:
        for proc in (client, server):
            if proc is not None:
                _reap(proc)
    if "error" in cr or "error" in sr:
        return {"error": cr.get("error") or sr.get("error")}
    spoken = {*cr["msgrs"], *sr["msgrs"]}
    if spoken != {msgr_version}:
        return {"error": f"wanted msgr {msgr_version}, the connections spoke {sorted(spoken)}"}
    return _metrics(case, cr, sr)


def _metrics(case: Case, cr: dict[str, Any], sr: dict[str, Any]) -> dict[str, Any]:
    cpu_s = cr["cpu_s"] + sr["cpu_s"]  # both processes while the messages flowed
    if case.stream:
        span = (sr["last_ns"] - sr["first_ns"]) / 1e9
        rate = sr["messages"] / span if span > 0 else 0.0
        return {"rate": rate, "msgs_per_s": rate, "mb_per_s": rate * case.size / 1e6,
                "messages": sr["messages"],
                "cpu_us": cpu_s / sr["messages"] * 1e6 if sr["messages"] else None}
    elapsed = cr["elapsed_s"]
    rate = cr["completed"] / elapsed if elapsed > 0 else 0.0
    return {"rate": rate, "msgs_per_s": rate, "us_per_rt": 1e6 / rate if rate else None,
            "messages": cr["completed"], "p50_us": cr["p50_us"], "p99_us": cr["p99_us"],
            "con_modes": cr["con_modes"],
            "cpu_us": cpu_s / cr["completed"] * 1e6 if cr["completed"] else None}


# -- rounds and the summary -----------------------------------------------------------------


Runs = dict[str, dict[str, list[dict[str, Any]]]]


def run_rounds(cases: list[Case], rounds: int, duration: float,
               log: Callable[[str], None]) -> Runs:
    """Every case over both protocols, ``rounds`` times, alternating which goes first."""
    runs: Runs = {c.key: {p: [] for p in PROTOCOLS} for c in cases}
    for r in range(rounds):
        for case in cases:
            order = PROTOCOLS if r % 2 == 0 else tuple(reversed(PROTOCOLS))
            for proto in order:
                m = run_one(proto, case, duration)
                runs[case.key][proto].append(m)
                log(f"round {r + 1}/{rounds} {case.key:<10} {proto}  {_shown(case, m)}")
    return runs


def _shown(case: Case, m: dict[str, Any]) -> str:
    if "error" in m:
        return f"FAILED: {m['error']}"
    load = m.get("foreign_load")
    noise = f"  [foreign load {load:.2f} CPU]" if load is not None else ""
    if case.key == "stream_4m":
        return f"{m['mb_per_s']:,.0f} MB/s{noise}"
    if case.stream:
        return f"{m['msgs_per_s']:,.0f} msg/s ({m['mb_per_s']:,.0f} MB/s){noise}"
    return (f"{m['msgs_per_s']:,.0f} rt/s = {m['us_per_rt']:,.1f} us/rt, "
            f"p50 {m['p50_us']:,.0f} us{noise}")


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise(runs: Runs, cases: list[Case]) -> dict[str, Any]:
    """Per case and protocol: median, range; per case: the v1/v2 ratios."""
    out: dict[str, Any] = {}
    for case in cases:
        by_proto = runs[case.key]
        entry: dict[str, Any] = {"title": case.title}
        for proto in PROTOCOLS:
            good = [m for m in by_proto[proto] if "error" not in m]
            rates = [m["rate"] for m in good]
            entry[proto] = {
                "msgs_per_s": _median(rates),
                "min": min(rates) if rates else None,
                "max": max(rates) if rates else None,
                "runs": rates,
                "mb_per_s": _median([m["mb_per_s"] for m in good if "mb_per_s" in m]),
                "us_per_rt": _median([m["us_per_rt"] for m in good
                                      if m.get("us_per_rt") is not None]),
                "p50_us": _median([m["p50_us"] for m in good if m.get("p50_us") is not None]),
                "p99_us": _median([m["p99_us"] for m in good if m.get("p99_us") is not None]),
                "cpu_us": _median([m["cpu_us"] for m in good if m.get("cpu_us") is not None]),
                "foreign_load": _median([m["foreign_load"] for m in by_proto[proto]
                                         if m.get("foreign_load") is not None]),
                "errors": [m["error"] for m in by_proto[proto] if "error" in m],
            }
        paired = [v1["rate"] / v2["rate"]
                  for v2, v1 in zip(by_proto["v2"], by_proto["v1"], strict=True)
                  if "error" not in v1 and "error" not in v2 and v2["rate"]]
        m2, m1 = entry["v2"]["msgs_per_s"], entry["v1"]["msgs_per_s"]
        ratio = _median(paired)
        entry["ratio_rounds"] = paired
        entry["ratio"] = ratio
        entry["ratio_of_medians"] = m1 / m2 if m1 and m2 else None
        # CPU efficiency: v2's CPU time per message over v1's (> 1: v1 is cheaper);
        # much less sensitive to other load on the machine than the rates
        cpu = [v2["cpu_us"] / v1["cpu_us"]
               for v2, v1 in zip(by_proto["v2"], by_proto["v1"], strict=True)
               if v1.get("cpu_us") and v2.get("cpu_us")]
        entry["cpu_ratio_rounds"] = cpu
        entry["cpu_ratio"] = _median(cpu)
        entry["target"] = TARGET
        entry["met"] = None if ratio is None else ratio >= TARGET
        out[case.key] = entry
    return out


def _fmt(v: float | None, digits: int = 0) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def print_summary(summary: dict[str, Any], cases: list[Case]) -> None:
    print(f"{'case':<30}{'v2 (median [min-max])':>34}{'v1 (median [min-max])':>34}"
          f"{'v1/v2':>8}{'of medians':>12}")
    for case in cases:
        e = summary[case.key]
        cells = []
        for proto in PROTOCOLS:
            s = e[proto]
            if case.key == "stream_4m":
                scale, unit = case.size / 1e6, "MB/s"
            else:
                scale, unit = 1.0, "msg/s" if case.stream else "rt/s"
            med = s["msgs_per_s"]
            if med is None:
                cells.append("failed")
                continue
            cells.append(f"{med * scale:,.0f} [{s['min'] * scale:,.0f}-"
                         f"{s['max'] * scale:,.0f}] {unit}")
        ratio = "-" if e["ratio"] is None else f"{e['ratio']:.2f}"
        rom = "-" if e["ratio_of_medians"] is None else f"{e['ratio_of_medians']:.2f}"
        print(f"{case.title:<30}{cells[0]:>34}{cells[1]:>34}{ratio:>8}{rom:>12}")
        v2, v1 = e["v2"], e["v1"]
        cpu_ratio = "-" if e["cpu_ratio"] is None else f"{e['cpu_ratio']:.2f}"
        what = "msg" if case.stream else "round trip"
        print(f"{'  CPU us per ' + what:<30}{_fmt(v2['cpu_us'], 1):>34}"
              f"{_fmt(v1['cpu_us'], 1):>34}{cpu_ratio:>8}")
        if not case.stream:
            print(f"{'  us per round trip':<30}{_fmt(v2['us_per_rt'], 1):>34}"
                  f"{_fmt(v1['us_per_rt'], 1):>34}")
            print(f"{'  latency p50 / p99 (us)':<30}"
                  f"{_fmt(v2['p50_us']) + ' / ' + _fmt(v2['p99_us']):>34}"
                  f"{_fmt(v1['p50_us']) + ' / ' + _fmt(v1['p99_us']):>34}")
    loads = [e[p]["foreign_load"] for e in summary.values() for p in PROTOCOLS
             if e[p]["foreign_load"] is not None]
    if loads:
        print(f"foreign CPU load during the measurements (median per case and protocol): "
              f"{min(loads):.2f}-{max(loads):.2f} of {os.cpu_count()} CPUs")
    print("(CPU rows: both processes' CPU time per message while messages flowed; "
          "their ratio is v2 / v1, > 1 when v1 is cheaper)")
    print(f"\nv1/v2 = median of the per-round throughput ratios (target >= {TARGET}):")
    for case in cases:
        e = summary[case.key]
        met = {True: "met", False: "MISSED", None: "n/a"}[e["met"]]
        rounds = ", ".join(f"{r:.2f}" for r in e["ratio_rounds"])
        ratio = "n/a" if e["ratio"] is None else f"{e['ratio']:.2f}"
        cpu = "n/a" if e["cpu_ratio"] is None else f"{e['cpu_ratio']:.2f}"
        print(f"  {case.key:<10} {ratio:>5}  ({met}; rounds {rounds}); CPU efficiency {cpu}")
        for proto in PROTOCOLS:
            for err in e[proto]["errors"]:
                print(f"  {case.key:<10} {proto} error: {err}")


# -- command line ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    global BASE_CONFIG  # read by the forked children
    try:
        BASE_CONFIG, rest = parse_config_args(sys.argv[1:] if argv is None else argv)
    except ConfigError as exc:
        print(f"bench_v1_v2: {exc}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10,
                        help="rounds, each measuring every case over v2 and v1 (default 10)")
    parser.add_argument("--duration", type=float, default=1.2,
                        help="seconds per measurement (default 1.2)")
    parser.add_argument("--cases", default="",
                        help="comma-separated subset of " + ",".join(c.key for c in CASES))
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(rest)
    if args.rounds < 1 or not args.duration > 0:
        parser.error("--rounds must be >= 1 and --duration > 0")
    wanted = [k for k in args.cases.split(",") if k]
    unknown = set(wanted) - {c.key for c in CASES}
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}")
    cases = [c for c in CASES if not wanted or c.key in wanted]

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    t0 = time.monotonic()
    log(f"bench_v1_v2: {len(cases)} case(s) x 2 protocols x {args.rounds} round(s), "
        f"{args.duration:g} s each")
    runs = run_rounds(cases, args.rounds, args.duration, log)
    summary = summarise(runs, cases)
    wall = time.monotonic() - t0
    failed = any(summary[c.key][p]["errors"] for c in cases for p in PROTOCOLS)
    if args.json:
        print(json.dumps({"config": {"rounds": args.rounds, "duration": args.duration,
                                     "messenger_options": BASE_CONFIG.diff(),
                                     "wall_s": round(wall, 1)},
                          "cases": summary}))
    else:
        print_summary(summary, cases)
        print(f"\n{wall:.0f} s wall time")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
