"""Issue 11's table in one command: every row against its peer, in the same run.

=====================================================  ==================================  ======
row                                                    peer                                goal
=====================================================  ==================================  ======
4 KiB one-way stream, msg/s                            minimal asyncio framing + crc32c    >= 0.6
64 B ping-pong, p50 round trip (1 in flight), us       minimal asyncio framing + crc32c    <= 1.3
4 MiB one-way stream, MB/s                             minimal asyncio framing + crc32c    >= 0.9
``asyncmsgr ceph status`` wall time, same real mon     ``ceph -s``                         <= 0.5
``mon_command(version)`` p50, 1 in flight, same mon    librados (python3-rados)            <= 0.9
idle lossless connections, server RSS per connection   (absolute: at ``--connections``)    <= 16 KiB
=====================================================  ==================================  ======

Where the numbers come from (each source alternates its peers round by round and
reports medians over rounds):

* the three messenger rows: ``benchmarks/bench_messenger.py --json`` (a child;
  asyncmsgr with the embedded messenger against the minimal framing), with CPU per
  message where that benchmark reports it;
* the connections row: ``bench_messenger.py --connections N --json``;
* the monitor rows: a one-mon Pacific cluster started here (``MonCluster`` of
  ``tests/interop/ceph_cluster.py``, its ``debug_ms`` set to 0 through the admin
  socket) and ``bench_monclient.py``'s pieces: ``asyncmsgr ceph -c CONF -k KEYRING
  status`` against ``ceph -c CONF -k KEYRING -s`` run alternately (wall and CPU
  medians, plus where asyncmsgr's time goes), and ``mon_command({"prefix":
  "version"})`` one at a time from asyncmsgr's MonClient (its default loop: uvloop
  when installed) against librados, each in a child, alternated, for every
  ``--modes`` (``secure`` is what both negotiate by default), with the client's
  and the mon's CPU per call.

Run: ``python benchmarks/perf_table.py [--quick] [--json] [--rounds 3]
[--duration 3] [--connections 10000] [--skip connections,...]``. Needs
``ceph-mon``, ``ceph`` and ``python3-rados`` for the monitor rows (skipped with a
note otherwise); about 5 minutes, ``--quick`` about 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_monclient as bm

BENCH = Path(__file__).resolve().parent
KiB = 1024
SECTIONS = ("messenger", "connections", "cli", "monc")

#: (key, title, unit, goal, higher is better)
ROWS: tuple[tuple[str, str, str, float, bool], ...] = (
    ("stream_4k", "4 KiB one-way stream", "msg/s", 0.6, True),
    ("pingpong_1", "64 B ping-pong p50 round trip", "us", 1.3, False),
    ("stream_4m", "4 MiB one-way stream", "MB/s", 0.9, True),
    ("cli", "asyncmsgr ceph status wall vs ceph -s", "ms", 0.5, False),
    ("mon_command", "mon_command(version) p50, 1 in flight", "us", 0.9, False),
    ("connections", "idle connections: server RSS per conn", "KiB", 16.0, False),
)


def _child_json(argv: list[str], timeout: float, what: str) -> dict[str, Any]:
    """Run a benchmark child that prints one JSON object; its stderr goes to ours."""
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=None, text=True,
                          timeout=timeout, env=bm._clean_env(), check=False)
    try:
        report: dict[str, Any] = json.loads(proc.stdout)
    except ValueError:
        return {"error": f"{what} exited {proc.returncode} without a JSON report"}
    return report


def _cpu_fields(entry: dict[str, Any]) -> dict[str, float]:
    """Whatever CPU-per-message figures a bench_messenger summary entry carries."""
    return {k: float(v) for k, v in entry.items()
            if "cpu" in k and isinstance(v, int | float)}


def messenger_rows(rounds: int, duration: float) -> dict[str, Any]:
    """The three messenger rows from bench_messenger.py (embedded asyncmsgr vs minimal)."""
    argv = [sys.executable, str(BENCH / "bench_messenger.py"), "--json",
            "--rounds", str(rounds), "--duration", f"{duration:g}",
            "--only", "asyncmsgr-embedded,minimal",
            "--workloads", "stream_4k,stream_4m,pingpong_1"]
    report = _child_json(argv, timeout=rounds * duration * 12 + 300, what="bench_messenger")
    if "error" in report:
        return {key: {"error": report["error"]} for key, *_ in ROWS[:3]}
    results = report.get("results", {})
    mine_all, ref_all = results.get("asyncmsgr-embedded", {}), results.get("minimal", {})
    rows: dict[str, Any] = {"raw_config": report.get("config")}
    for key, *_ in ROWS[:3]:
        mine, ref = mine_all.get(key, {}), ref_all.get(key, {})
        field = "p50_us" if key == "pingpong_1" else "median"
        rows[key] = {
            "asyncmsgr": mine.get(field), "peer": ref.get(field), "peer_name": "minimal",
            "asyncmsgr_range": [mine.get("min"), mine.get("max")],
            "peer_range": [ref.get("min"), ref.get("max")],
            "cpu": {"asyncmsgr": _cpu_fields(mine), "peer": _cpu_fields(ref)},
            "errors": (mine.get("errors") or []) + (ref.get("errors") or []),
        }
    return rows


def connections_row(n: int) -> dict[str, Any]:
    """Server RSS per idle connection at ``n`` connections (bench_messenger.py)."""
    argv = [sys.executable, str(BENCH / "bench_messenger.py"), "--json",
            "--connections", str(n)]
    report = _child_json(argv, timeout=900, what="bench_messenger --connections")
    if "error" in report:
        return {"error": report["error"], "connections": n}
    per_conn = report.get("server_rss_per_conn")
    return {"asyncmsgr": None if per_conn is None else per_conn / KiB, "peer": None,
            "peer_name": "-", "connections": n, "raw": report}


def cli_row(cluster: Any, runs: int, log: Callable[[str], None]) -> dict[str, Any]:
    """``asyncmsgr ceph status`` vs ``ceph -s``, alternated, medians."""
    res = bm.cli_section(cluster, runs, log)
    return {"asyncmsgr": res["asyncmsgr"]["median"], "peer": res["ceph"]["median"],
            "peer_name": "ceph -s",
            "cpu": {"asyncmsgr_ms": res["asyncmsgr"]["cpu_median"],
                    "peer_ms": res["ceph"]["cpu_median"]},
            "breakdown_ms": res["breakdown_ms"], "imports": res["imports"],
            "best": {"asyncmsgr": res["asyncmsgr"]["best"], "peer": res["ceph"]["best"]}}


def monc_rows(cluster: Any, modes: list[str], peers: list[str], rounds: int, calls: int,
              warmup: int, log: Callable[[str], None]) -> dict[str, Any]:
    """mon_command(version) at 1 in flight, every peer and librados, per mode."""
    table = bm.latency_rounds(cluster, [*peers, "librados"], modes, rounds, calls, warmup,
                              log, ops=("command",), inflight=(1,))
    out: dict[str, Any] = {}
    for mode in modes:
        ref = table[f"librados-{mode}"].get("command/1", {})
        for peer in peers:
            mine = table[f"{peer}-{mode}"].get("command/1", {})
            out[f"{peer}/{mode}"] = {
                "asyncmsgr": mine.get("p50_us"), "peer": ref.get("p50_us"),
                "peer_name": "librados",
                "asyncmsgr_range": mine.get("p50_range"), "peer_range": ref.get("p50_range"),
                "cpu": {"asyncmsgr_us": mine.get("cpu_us"), "peer_us": ref.get("cpu_us"),
                        "mon_us_asyncmsgr": mine.get("mon_cpu_us"),
                        "mon_us_peer": ref.get("mon_cpu_us")},
                "loop": table[f"{peer}-{mode}"]["loop"],
                "con_mode": table[f"{peer}-{mode}"]["con_mode"],
                "errors": table[f"{peer}-{mode}"]["errors"] + table[f"librados-{mode}"]["errors"],
            }
    return out


def _ratio_and_met(row: dict[str, Any], goal: float, higher: bool,
                   absolute: bool = False) -> None:
    mine, ref = row.get("asyncmsgr"), row.get("peer")
    if absolute:
        row["ratio"] = None
        row["met"] = None if mine is None else mine <= goal
    else:
        ratio = mine / ref if mine is not None and ref else None
        row["ratio"] = ratio
        row["met"] = None if ratio is None else (ratio >= goal if higher else ratio <= goal)
    row["goal"] = (f"<= {goal:g} KiB" if absolute else
                   f"{'>=' if higher else '<='} {goal:g}x")


def _f(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def _cpu_text(key: str, row: dict[str, Any]) -> str:
    cpu = row.get("cpu") or {}
    if key == "cli":
        return f"{_f(cpu.get('asyncmsgr_ms'))} / {_f(cpu.get('peer_ms'))} ms"
    if key.startswith("mon_command"):
        return (f"{_f(cpu.get('asyncmsgr_us'))} / {_f(cpu.get('peer_us'))} us; mon "
                f"{_f(cpu.get('mon_us_asyncmsgr'))} / {_f(cpu.get('mon_us_peer'))}")
    mine, peer = cpu.get("asyncmsgr") or {}, cpu.get("peer") or {}
    if not mine and not peer:
        return "(not reported)"
    return "; ".join(f"{k} {_f(mine.get(k), 1)} / {_f(peer.get(k), 1)}"
                     for k in sorted(set(mine) | set(peer)))


def print_table(report: dict[str, Any]) -> None:
    cfg = report["config"]
    print(f"perf_table: {cfg['rounds']} round(s), {cfg['duration']:g} s per messenger run, "
          f"{cfg['cpus']} CPUs, python {cfg['python']}, loop for asyncmsgr's MonClient: "
          f"{cfg.get('monc_loop') or '-'}")
    width = 58
    print(f"{'row':<{width}} {'asyncmsgr':>11} {'peer':>11} {'ratio':>7} {'goal':>12}  "
          f"{'met':<6} CPU asyncmsgr / peer")
    for key, title, unit, _goal, _higher in ROWS:
        entries = [(k, v) for k, v in report["rows"].items()
                   if k == key or k.startswith(f"{key}/")]
        if not entries:
            continue
        for name, row in entries:
            label = f"{title} ({unit})" + (f" [{name.split('/', 1)[1]}]" if "/" in name else "")
            if "error" in row:
                print(f"{label:<{width}} failed: {row['error']}")
                continue
            met = {True: "met", False: "MISSED", None: "-"}[row.get("met")]
            digits = 1 if unit in ("KiB", "us", "ms") else 0
            print(f"{label:<{width}} {_f(row.get('asyncmsgr'), digits):>11} "
                  f"{_f(row.get('peer'), digits):>11} {_f(row.get('ratio'), 2):>7} "
                  f"{row.get('goal', '-'):>12}  {met:<6} {_cpu_text(name, row)}")
    cli = report["rows"].get("cli")
    if cli and "breakdown_ms" in cli:
        print("asyncmsgr ceph status, median ms: " + ", ".join(
            f"{k} {_f(v, 1)}" for k, v in cli["breakdown_ms"].items()))
    for note in report.get("notes", []):
        print(f"note: {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--json-out", metavar="FILE", help="also write the JSON to FILE")
    parser.add_argument("--quick", action="store_true",
                        help="1 round, 1 s messenger runs, 300 calls, 3 CLI runs, "
                             "1,000 connections")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=3.0,
                        help="seconds per messenger run")
    parser.add_argument("--calls", type=int, default=2000, help="mon_command calls per round")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--cli-runs", type=int, default=10)
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--modes", default="secure,crc",
                        help="msgr2 modes of the mon_command row (first: the headline)")
    parser.add_argument("--mon-peers", default="asyncmsgr",
                        help=f"asyncmsgr peers of the mon_command row "
                             f"({', '.join(p for p in bm.PEERS if p != 'librados')})")
    parser.add_argument("--skip", default="", help=f"comma-separated: {', '.join(SECTIONS)}")
    args = parser.parse_args(argv)
    skip = {s for s in args.skip.split(",") if s}
    if skip - set(SECTIONS):
        parser.error(f"unknown section(s) {sorted(skip - set(SECTIONS))}")
    modes = [m for m in args.modes.split(",") if m]
    if set(modes) - set(bm.MODES):
        parser.error(f"unknown mode(s) {sorted(set(modes) - set(bm.MODES))}")
    mon_peers = [p for p in args.mon_peers.split(",") if p]
    if set(mon_peers) - (set(bm.PEERS) - {"librados"}):
        parser.error(f"unknown peer(s) {sorted(set(mon_peers) - set(bm.PEERS))}")
    rounds, duration, calls, warmup = args.rounds, args.duration, args.calls, args.warmup
    cli_runs, connections = args.cli_runs, args.connections
    if args.quick:
        rounds, duration, calls, warmup, cli_runs = 1, 1.0, 300, 50, 3
        connections = min(connections, 1000)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    bm.ensure_bytecode()
    rows: dict[str, Any] = {}
    notes: list[str] = []
    if "messenger" not in skip:
        log("== messenger rows (bench_messenger.py) ==")
        got = messenger_rows(rounds, duration)
        got.pop("raw_config", None)
        rows.update(got)
    if "connections" not in skip:
        log(f"== idle connections at {connections:,} (bench_messenger.py --connections) ==")
        rows["connections"] = connections_row(connections)
    monc_loop: list[str] = []
    if {"cli", "monc"} - skip:
        if shutil.which("ceph-mon") is None:
            notes.append("ceph-mon is not installed: the monitor rows were skipped")
        else:
            cluster = bm._load_mon_cluster()(num_mons=1, auth_none=True)
            try:
                cluster.start()
                log(f"== monitor rows: mon up in {cluster.wait_ready():.1f} s ==")
                bm.set_mon_debug_ms(cluster, "0/0")
                if "cli" not in skip:
                    rows["cli"] = cli_row(cluster, cli_runs, log)
                if "monc" not in skip:
                    if not os.path.exists(bm.SYSTEM_PYTHON):
                        notes.append(f"{bm.SYSTEM_PYTHON} missing: no librados peer")
                    got = monc_rows(cluster, modes, mon_peers, rounds, calls, warmup, log)
                    for key, row in got.items():
                        rows[f"mon_command/{key}"] = row
                        monc_loop.extend(row.get("loop") or [])
            finally:
                cluster.stop()  # by PID
    goals = {key: (goal, higher) for key, _t, _u, goal, higher in ROWS}
    for name, row in rows.items():
        if "error" in row:
            continue
        key = name.split("/", 1)[0]
        goal, higher = goals[key]
        _ratio_and_met(row, goal, higher, absolute=key == "connections")
    report = {
        "rows": rows, "notes": notes,
        "config": {"rounds": rounds, "duration": duration, "calls": calls,
                   "cli_runs": cli_runs, "connections": connections, "modes": modes,
                   "mon_peers": mon_peers, "skipped": sorted(skip), "cpus": os.cpu_count(),
                   "python": sys.version.split()[0],
                   "monc_loop": ",".join(sorted(set(monc_loop)))},
    }
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=1)
    if args.json:
        print(json.dumps(report))
    else:
        print_table(report)
    failed = any("error" in row for row in rows.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
