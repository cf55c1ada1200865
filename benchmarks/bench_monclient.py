"""Monitor client benchmark: asyncmsgr's MonClient against librados and the ``ceph`` CLI.

One run starts its own one-mon cluster (``MonCluster`` of
``tests/interop/ceph_cluster.py``: a real ``ceph-mon`` on 127.0.0.1, cephx) and
measures, against that same monitor:

1. **Per-call latency** of ``mon_command({"prefix": "version"})`` (MMonCommand)
   and of an MMonGetVersion for ``osdmap``, with 1 and 16 calls in flight,
   ``--calls`` calls after ``--warmup``: p50, p99, mean (microseconds), calls/s,
   and CPU per call of the client process and of the monitor over the measured
   calls (``/proc/PID/stat``). Peers, each in a child process, cephx,
   ``ms_mon_client_mode`` crc and secure: ``asyncmsgr`` (the asyncio
   ``MonClient``, embedded messenger, on the default loop: uvloop when installed,
   as ``asyncmsgr.loop.run`` picks it), ``asyncmsgr-asyncio`` (the same on
   asyncio's own loop), ``asyncmsgr-sync`` (the blocking ``SyncMonClient`` of
   ``asyncmsgr ceph``; 1 in flight only) and ``librados`` through
   ``python3-rados`` (a child ``/usr/bin/python3``, as the binding only exists
   for Debian's interpreter). librados has no call that sends only an
   MMonGetVersion: ``Rados.wait_for_latest_osdmap()`` is the closest (the
   Objecter asks the mon for the newest osdmap version with MMonGetVersion and,
   the map being current, returns on the reply). python3-rados has no
   asynchronous ``mon_command``, so 16 in flight = 16 threads (the binding drops
   the GIL around the call).
2. **Whole-process wall time** of ``asyncmsgr ceph -c CONF -k KEYRING status``
   against ``ceph -c CONF -k KEYRING -s`` (best and median of ``--cli-runs``,
   interleaved, after one warm-up each), and where asyncmsgr's time goes: the
   bare interpreter (``python -c pass``), importing ``asyncmsgr.cli.ceph`` and the
   run itself (connect, command, shutdown), timed inside one child, plus
   ``-X importtime`` by module.
3. **Secure vs crc throughput** of ``asyncmsgr bench`` (one-way stream, 4 KiB
   and 4 MiB messages, ``--auth dummy`` so that both modes are possible, the mode
   chosen with ``--ms_client_mode``).

The monitor's ``debug_ms`` is set to ``--mon-debug-ms`` (default ``0/0``, Ceph's
default) through its admin socket: the test cluster logs every message
otherwise. Rounds alternate the peer order; medians over rounds are reported
with their range. Ratios are asyncmsgr / librados (latency: lower is better,
target <= 0.9 for command/1, issue 11), asyncmsgr / ceph (wall time, target
<= 0.5) and secure / crc (throughput, target >= 0.6 at 4 MiB).
``benchmarks/perf_table.py`` reuses these pieces for issue 11's table.

Run: ``python benchmarks/bench_monclient.py [--quick] [--json] [--rounds 3]
[--calls 2000] [--peers asyncmsgr,librados] [--sections latency,cli,bench]``.
Needs ``ceph-mon``, ``ceph`` and ``python3-rados`` (Ceph Pacific packages); about
2 minutes, ``--quick`` about 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asyncmsgr.cli import benchlib

if TYPE_CHECKING:
    from ceph_cluster import MonCluster

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
SYSTEM_PYTHON = "/usr/bin/python3"
ADMIN = "client.admin"
MODES = ("crc", "secure")
OPS = ("command", "get_version")
INFLIGHT = (1, 16)
#: The latency peers: name -> (implementation, event loop).
PEERS: dict[str, tuple[str, str]] = {
    "asyncmsgr": ("monclient", "default"),
    "asyncmsgr-asyncio": ("monclient", "asyncio"),
    "asyncmsgr-sync": ("sync", "-"),
    "librados": ("librados", "-"),
}
DEFAULT_PEERS = ("asyncmsgr", "asyncmsgr-sync", "librados")
VERSION_CMD = {"prefix": "version"}
CHILD_TIMEOUT = 300.0

# -- librados peer (runs under /usr/bin/python3) ----------------------------------------

#: The librados side, run as ``/usr/bin/python3 -c LIBRADOS_SCRIPT SPEC_JSON``.
#: Prints one JSON object: connect time and, per "op/inflight", every call's
#: latency in ns and the elapsed time of the measured calls.
LIBRADOS_SCRIPT = r"""
import json, os, sys, threading, time
import rados

spec = json.loads(sys.argv[1])
def mon_cpu():  # the monitor's CPU seconds (utime + stime); 0.0 without its pid
    pid = spec.get("mon_pid")
    if not pid:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

t0 = time.perf_counter()
cluster = rados.Rados(conffile=spec["conf"], conf={
    "keyring": spec["keyring"], "ms_mon_client_mode": spec["mode"]})
cluster.connect(timeout=30)
connect_s = time.perf_counter() - t0
cmd = json.dumps(spec["cmd"])

def command():
    ret, _out, rs = cluster.mon_command(cmd, b"")
    if ret != 0:
        raise RuntimeError(f"mon_command: {ret} {rs}")

def get_version():
    cluster.wait_for_latest_osdmap()

def drive(fn, calls, inflight):
    lat = []
    cpu0, mon0 = time.process_time(), mon_cpu()
    barrier = threading.Barrier(inflight + 1)
    def worker(n, out):
        barrier.wait()
        clock = time.perf_counter_ns
        for _ in range(n):
            t = clock()
            fn()
            out.append(clock() - t)
    per = [calls // inflight + (1 if i < calls % inflight else 0) for i in range(inflight)]
    outs = [[] for _ in range(inflight)]
    threads = [threading.Thread(target=worker, args=(n, o)) for n, o in zip(per, outs)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    for o in outs:
        lat.extend(o)
    return {"lat_ns": lat, "elapsed_s": elapsed, "cpu_s": time.process_time() - cpu0,
            "mon_cpu_s": mon_cpu() - mon0}

results = {}
for op in spec["ops"]:
    fn = command if op == "command" else get_version
    for inflight in spec["inflight"]:
        drive(fn, spec["warmup"], inflight)
        results[f"{op}/{inflight}"] = drive(fn, spec["calls"], inflight)
cluster.shutdown()
print(json.dumps({"connect_s": connect_s, "con_mode": spec["mode"], "loop": "-",
                  "results": results}))
"""

#: The asyncmsgr side, run as ``python -c ASYNCMSGR_SCRIPT SPEC_JSON`` (same output).
ASYNCMSGR_SCRIPT = r"""
import asyncio, json, os, sys, time
from asyncmsgr.auth.base import ModeOptions
from asyncmsgr.auth.cephx import CephxClient, Keyring
from asyncmsgr.config import MessengerConfig
from asyncmsgr.loop import loop_kind, run
from asyncmsgr.monc.core import MonClientOptions
from asyncmsgr.types import AuthName, EntityAddrVec

spec = json.loads(sys.argv[1])
def mon_cpu():  # the monitor's CPU seconds (utime + stime); 0.0 without its pid
    pid = spec.get("mon_pid")
    if not pid:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
name = AuthName.parse("client.admin")
key = Keyring.from_file(spec["keyring"]).get(name)
mode = spec["mode"]
config = MessengerConfig(ms_mon_client_mode=mode,
                         asyncmsgr_use_uvloop=spec["loop"] != "asyncio")
auth = CephxClient(name, key, clock=time.time, modes=ModeOptions(mon_client=mode))
addrs = [EntityAddrVec.parse(a) for a in spec["mon_addrs"]]
options = MonClientOptions(mount_timeout=30.0)
cmd = spec["cmd"]
clock = time.perf_counter_ns

def measure(run_calls, calls):
    cpu0, mon0 = time.process_time(), mon_cpu()
    start = time.perf_counter()
    lat = run_calls(calls)
    return {"lat_ns": lat, "elapsed_s": time.perf_counter() - start,
            "cpu_s": time.process_time() - cpu0, "mon_cpu_s": mon_cpu() - mon0}

def sync_main():
    from asyncmsgr.monc.sync import SyncMonClient
    t0 = time.perf_counter()
    with SyncMonClient(addrs, auth_client=auth, config=config, options=options) as monc:
        monc.connect()
        connect_s = time.perf_counter() - t0
        fns = {"command": lambda: monc.command(cmd),
               "get_version": lambda: monc.get_version("osdmap")}
        results = {}
        for op in spec["ops"]:
            fn = fns[op]
            def calls(n, fn=fn):
                lat = []
                for _ in range(n):
                    t = clock()
                    fn()
                    lat.append(clock() - t)
                return lat
            for inflight in spec["inflight"]:
                if inflight != 1:
                    continue
                calls(spec["warmup"])
                results[f"{op}/1"] = measure(calls, spec["calls"])
        mode_name = {1: "crc", 2: "secure"}.get(monc.connection_mode)
    return {"connect_s": connect_s, "con_mode": mode_name, "loop": "-", "results": results}

async def monclient_main():
    from asyncmsgr.cli import benchlib
    from asyncmsgr.monc.client import MonClient
    t0 = time.perf_counter()
    monc = MonClient(addrs, auth_client=auth, config=config, options=options)
    await monc.connect()
    connect_s = time.perf_counter() - t0
    results = {}
    try:
        fns = {"command": lambda: monc.command(cmd),
               "get_version": lambda: monc.get_version("osdmap")}
        for op in spec["ops"]:
            fn = fns[op]
            for inflight in spec["inflight"]:
                async def calls(n, fn=fn, inflight=inflight):
                    lat = []
                    async def worker(k):
                        for _ in range(k):
                            t = clock()
                            await fn()
                            lat.append(clock() - t)
                    per = [n // inflight + (1 if i < n % inflight else 0)
                           for i in range(inflight)]
                    await asyncio.gather(*(worker(k) for k in per))
                    return lat
                await calls(spec["warmup"])
                cpu0, mon0 = time.process_time(), mon_cpu()
                start = time.perf_counter()
                lat = await calls(spec["calls"])
                results[f"{op}/{inflight}"] = {
                    "lat_ns": lat, "elapsed_s": time.perf_counter() - start,
                    "cpu_s": time.process_time() - cpu0, "mon_cpu_s": mon_cpu() - mon0}
        con_mode = benchlib.con_mode_name(monc.active_connection)
        kind = loop_kind()
    finally:
        await monc.shutdown()
    return {"connect_s": connect_s, "con_mode": con_mode, "loop": kind, "results": results}

if spec["impl"] == "sync":
    report = sync_main()
else:
    report = run(monclient_main(), config=config)
print(json.dumps(report))
"""


def _mon_pid(cluster: MonCluster) -> int | None:
    return cluster.pid(cluster.mon_ids[0])


def _child_report(argv: list[str], what: str) -> dict[str, Any]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=CHILD_TIMEOUT,
                          env=_clean_env(), check=False)
    if proc.returncode != 0:
        return {"error": f"{what} child failed ({proc.returncode}): "
                         f"{proc.stderr.strip()[-500:]}"}
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def run_librados(cluster: MonCluster, mode: str, calls: int, warmup: int, *,
                 ops: Sequence[str] = OPS,
                 inflight: Sequence[int] = INFLIGHT) -> dict[str, Any]:
    """One librados round in a child ``/usr/bin/python3``."""
    spec = {"conf": str(cluster.conf_path), "keyring": str(cluster.keyring_path),
            "mode": mode, "cmd": VERSION_CMD, "ops": list(ops), "inflight": list(inflight),
            "calls": calls, "warmup": warmup, "mon_pid": _mon_pid(cluster)}
    return _child_report([SYSTEM_PYTHON, "-c", LIBRADOS_SCRIPT, json.dumps(spec)], "librados")


def run_asyncmsgr(cluster: MonCluster, mode: str, calls: int, warmup: int, *,
                  peer: str = "asyncmsgr", ops: Sequence[str] = OPS,
                  inflight: Sequence[int] = INFLIGHT) -> dict[str, Any]:
    """One round of an asyncmsgr peer (see :data:`PEERS`) in a child of this Python."""
    impl, loop = PEERS[peer]
    spec = {"keyring": str(cluster.keyring_path), "mon_addrs": cluster.mon_addrs,
            "mode": mode, "cmd": VERSION_CMD, "ops": list(ops), "inflight": list(inflight),
            "calls": calls, "warmup": warmup, "mon_pid": _mon_pid(cluster),
            "impl": impl, "loop": loop}
    return _child_report([sys.executable, "-c", ASYNCMSGR_SCRIPT, json.dumps(spec)], peer)


def run_peer(peer: str, cluster: MonCluster, mode: str, calls: int, warmup: int, *,
             ops: Sequence[str] = OPS, inflight: Sequence[int] = INFLIGHT) -> dict[str, Any]:
    """One round of ``peer``."""
    if peer == "librados":
        return run_librados(cluster, mode, calls, warmup, ops=ops, inflight=inflight)
    return run_asyncmsgr(cluster, mode, calls, warmup, peer=peer, ops=ops,
                         inflight=inflight)


# -- section 1: latency ------------------------------------------------------------------


def _summary(case: dict[str, Any]) -> dict[str, float | None]:
    """p50/p99/mean latency (us), calls/s and CPU per call (us) of one measured case."""
    values = sorted(case["lat_ns"])
    elapsed = case["elapsed_s"]
    p50, p99 = benchlib.percentile(values, 0.50), benchlib.percentile(values, 0.99)
    n = len(values)
    cpu, mon_cpu = case.get("cpu_s"), case.get("mon_cpu_s")
    return {
        "p50_us": None if p50 is None else p50 / 1e3,
        "p99_us": None if p99 is None else p99 / 1e3,
        "mean_us": statistics.fmean(values) / 1e3 if values else None,
        "calls_per_s": n / elapsed if elapsed > 0 else None,
        "cpu_us": cpu / n * 1e6 if cpu is not None and n else None,
        "mon_cpu_us": mon_cpu / n * 1e6 if mon_cpu and n else None,
    }


def _med(values: Sequence[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return statistics.median(got) if got else None


def latency_rounds(cluster: MonCluster, peers: Sequence[str], modes: Sequence[str],
                   rounds: int, calls: int, warmup: int, log: Callable[[str], None], *,
                   ops: Sequence[str] = OPS, inflight: Sequence[int] = INFLIGHT
                   ) -> dict[str, dict[str, Any]]:
    """Every peer x mode, ``rounds`` times, alternating the order; medians over rounds
    per ``"op/inflight"`` case, keyed ``"peer-mode"``."""
    keys = [f"{peer}-{mode}" for peer in peers for mode in modes]
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in keys}
    for r in range(rounds):
        for key in (keys if r % 2 == 0 else list(reversed(keys))):
            peer, mode = key.rsplit("-", 1)
            run = run_peer(peer, cluster, mode, calls, warmup, ops=ops, inflight=inflight)
            runs[key].append(run)
            if "error" in run:
                log(f"round {r + 1}/{rounds} {key:<24} {run['error']}")
                continue
            shown = ", ".join(f"{k} {_summary(v)['p50_us']:.0f}"
                              for k, v in run["results"].items())
            log(f"round {r + 1}/{rounds} {key:<24} ({run.get('loop', '-')}) p50 us: {shown}")
    table: dict[str, dict[str, Any]] = {}
    for key, key_runs in runs.items():
        ok = [x for x in key_runs if "error" not in x]
        row: dict[str, Any] = {
            "con_mode": sorted({str(x["con_mode"]) for x in ok}),
            "loop": sorted({str(x.get("loop", "-")) for x in ok}),
            "connect_ms": _med([x["connect_s"] * 1e3 for x in ok]),
            "errors": [x["error"] for x in key_runs if "error" in x],
        }
        for op in ops:
            for n in inflight:
                case = f"{op}/{n}"
                sums = [_summary(x["results"][case]) for x in ok if case in x["results"]]
                if not sums:
                    continue
                p50s = [v for v in (s["p50_us"] for s in sums) if v is not None]
                row[case] = {
                    "p50_us": _med(p50s), "p99_us": _med([s["p99_us"] for s in sums]),
                    "mean_us": _med([s["mean_us"] for s in sums]),
                    "calls_per_s": _med([s["calls_per_s"] for s in sums]),
                    "cpu_us": _med([s["cpu_us"] for s in sums]),
                    "mon_cpu_us": _med([s["mon_cpu_us"] for s in sums]),
                    "p50_range": [min(p50s), max(p50s)] if p50s else None,
                    "rounds": len(sums),
                }
        table[key] = row
    return table


#: (case, target for asyncmsgr / librados p50): issue 11 asks <= 0.9 at 1 in flight.
LATENCY_TARGETS = {"command/1": 0.9}


def latency_section(cluster: MonCluster, rounds: int, calls: int, warmup: int,
                    log: Callable[[str], None],
                    peers: Sequence[str] = DEFAULT_PEERS) -> dict[str, Any]:
    """Every peer x mode, ``rounds`` times, alternating the order."""
    table = latency_rounds(cluster, peers, MODES, rounds, calls, warmup, log)
    ratios: list[dict[str, Any]] = []
    if "librados" in peers:
        for peer in peers:
            if peer == "librados":
                continue
            for mode in MODES:
                mine, theirs = table[f"{peer}-{mode}"], table[f"librados-{mode}"]
                for op in OPS:
                    for inflight in INFLIGHT:
                        key = f"{op}/{inflight}"
                        if key not in mine or key not in theirs:
                            continue
                        target = LATENCY_TARGETS.get(key)
                        p50 = _ratio(mine[key]["p50_us"], theirs[key]["p50_us"])
                        ratios.append({
                            "peer": peer, "mode": mode, "call": key, "p50": p50,
                            "mean": _ratio(mine[key]["mean_us"], theirs[key]["mean_us"]),
                            "target": f"<= {target}" if target else "-",
                            "met": None if p50 is None or target is None else p50 <= target,
                        })
    return {"results": table, "ratios": ratios}


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# -- section 2: whole-process CLI --------------------------------------------------------

#: Timed inside one child: imports, then the whole ``asyncmsgr ceph ... status`` run.
_TIMED_CHILD = r"""
import io, json, sys, time
t0 = time.perf_counter()
from asyncmsgr.cli import ceph
from asyncmsgr.monc import sync
t1 = time.perf_counter()
status = ceph.main(sys.argv[1:], stdout=io.StringIO(), stderr=io.StringIO())
t2 = time.perf_counter()
print(json.dumps({"status": status, "import_s": t1 - t0, "run_s": t2 - t1}))
"""


def _clean_env() -> dict[str, str]:
    """The children's environment: no Ceph overrides, bytecode caches used (an
    installed package has them; without, every run would compile the sources)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("CEPH_ARGS", "CEPH_CONF", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    return env


def ensure_bytecode() -> None:
    """Compile ``src/asyncmsgr`` for this interpreter (what ``pip install`` does)."""
    import compileall  # noqa: PLC0415  (benchmark set-up only)

    compileall.compile_dir(str(SRC / "asyncmsgr"), quiet=1)


def _timed(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, child CPU seconds and stdout of one run; raises on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env,
                          check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])}... exited {proc.returncode}: "
                           f"{proc.stderr.strip()[-300:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {"best": min(values), "median": statistics.median(values), "max": max(values)}


def import_profile(env: dict[str, str], top: int = 12) -> dict[str, Any]:
    """``-X importtime`` of ``asyncmsgr.cli.ceph``: self time grouped by package, and the
    modules with the most self time (best of 3 runs by total)."""
    best: list[tuple[int, int, str]] | None = None
    for _ in range(3):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c",
                               "import asyncmsgr.cli.main, asyncmsgr.cli.ceph, "
                               "asyncmsgr.monc.sync"],
                              capture_output=True, text=True, timeout=60, env=env,
                              check=False)
        rows = []
        for line in proc.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
            if m:
                rows.append((int(m.group(1)), int(m.group(2)), m.group(3)))
        if best is None or sum(r[0] for r in rows) < sum(r[0] for r in best):
            best = rows
    rows = best or []
    groups: dict[str, int] = {}
    for self_us, _cum, name in rows:
        mod = name.strip()
        parts = mod.split(".")
        group = ".".join(parts[:2]) if parts[0] == "asyncmsgr" else parts[0]
        groups[group] = groups.get(group, 0) + self_us
    biggest = sorted(((self_us, name.strip()) for self_us, _cum, name in rows),
                     reverse=True)[:top]
    return {
        "total_ms": sum(r[0] for r in rows) / 1e3,
        "by_package_ms": {k: v / 1e3 for k, v in
                          sorted(groups.items(), key=lambda kv: -kv[1])[:top]},
        "top_self_ms": [{"module": n, "ms": us / 1e3} for us, n in biggest],
    }


def cli_section(cluster: MonCluster, runs: int, log: Callable[[str], None]) -> dict[str, Any]:
    """``asyncmsgr ceph status`` vs ``ceph -s``, interleaved, plus asyncmsgr's breakdown."""
    env = _clean_env()
    conf, keyring = str(cluster.conf_path), str(cluster.keyring_path)
    ceph = shutil.which("ceph") or "ceph"
    script = Path(sys.executable).with_name("asyncmsgr")  # the console script users run
    entry = [str(script)] if script.exists() else [sys.executable, "-m", "asyncmsgr"]
    argv = {
        "asyncmsgr": [*entry, "ceph", "-c", conf, "-k", keyring, "status"],
        "ceph": [ceph, "-c", conf, "-k", keyring, "-s"],
        "python -c pass": [sys.executable, "-c", "pass"],
        "timed child": [sys.executable, "-c", _TIMED_CHILD, "-c", conf, "-k", keyring,
                        "status"],
    }
    walls: dict[str, list[float]] = {k: [] for k in argv}
    cpus: dict[str, list[float]] = {k: [] for k in argv}
    inner: list[dict[str, Any]] = []
    keys = list(argv)
    for i in range(runs + 1):  # run 0 is the warm-up
        for key in (keys if i % 2 == 0 else list(reversed(keys))):
            wall, cpu, out = _timed(argv[key], env)
            if key == "timed child":
                got = json.loads(out)
                if got["status"] != 0:
                    raise RuntimeError(f"asyncmsgr ceph status exited {got['status']}")
                if i:
                    inner.append(got)
            if i:
                walls[key].append(wall)
                cpus[key].append(cpu)
        if i:
            log(f"cli run {i}/{runs}: asyncmsgr {walls['asyncmsgr'][-1] * 1e3:.0f} ms, "
                f"ceph {walls['ceph'][-1] * 1e3:.0f} ms")
    result: dict[str, Any] = {
        key: {**{k: v * 1e3 for k, v in _stats(walls[key]).items()},
              "cpu_median": statistics.median(cpus[key]) * 1e3}
        for key in ("asyncmsgr", "ceph", "python -c pass")}
    interp = result["python -c pass"]["median"]
    imports = statistics.median(x["import_s"] for x in inner) * 1e3
    run = statistics.median(x["run_s"] for x in inner) * 1e3
    total = result["asyncmsgr"]["median"]
    result["breakdown_ms"] = {
        "interpreter": interp, "import asyncmsgr.cli.ceph + monc.sync": imports,
        "connect+command+shutdown": run,
        "rest (argv parsing, exit)": total - interp - imports - run,
    }
    result["ratios"] = [
        {"what": stat, "ratio": _ratio(result["asyncmsgr"][stat], result["ceph"][stat]),
         "target": "<= 0.5"} for stat in ("best", "median")]
    for r in result["ratios"]:
        r["met"] = None if r["ratio"] is None else r["ratio"] <= 0.5
    result["imports"] = import_profile(env)
    return result


# -- section 3: secure vs crc on the messenger benchmark ---------------------------------


def bench_section(rounds: int, duration: float, log: Callable[[str], None]) -> dict[str, Any]:
    """``asyncmsgr bench --mode stream --auth dummy`` at 4 KiB and 4 MiB, crc and secure."""
    env = _clean_env()
    sizes = (("4KiB", 4096), ("4MiB", 4 << 20))
    runs: dict[str, list[dict[str, Any]]] = {}
    for r in range(rounds):
        for label, size in sizes:
            for mode in (MODES if r % 2 == 0 else tuple(reversed(MODES))):
                argv = [sys.executable, "-m", "asyncmsgr", "bench", "--mode", "stream",
                        "--size", str(size), "--duration", f"{duration:g}",
                        "--auth", "dummy", f"--ms_client_mode={mode}", "--json"]
                proc = subprocess.run(argv, capture_output=True, text=True,
                                      timeout=duration + 60, env=env, check=False)
                key = f"{label}/{mode}"
                try:
                    rep = json.loads(proc.stdout)
                except ValueError:
                    rep = {"errors": [proc.stderr.strip()[-300:] or "no output"]}
                if rep.get("errors"):
                    runs.setdefault(key, []).append({"error": "; ".join(rep["errors"])})
                    log(f"round {r + 1}/{rounds} bench {key}: {rep['errors']}")
                    continue
                runs.setdefault(key, []).append(rep)
                log(f"round {r + 1}/{rounds} bench {key:<11} {rep['con_mode']:<6} "
                    f"{rep['messages_per_s']:>10,.0f} msg/s {rep['mb_per_s']:>8,.1f} MB/s")
    table: dict[str, Any] = {}
    for key, reps in runs.items():
        ok = [x for x in reps if "error" not in x]
        mbs = [float(x["mb_per_s"]) for x in ok]
        table[key] = {
            "con_mode": sorted({str(x["con_mode"]) for x in ok}),
            "mb_per_s": _med(mbs), "msgs_per_s": _med([x["messages_per_s"] for x in ok]),
            "mb_range": [min(mbs), max(mbs)] if mbs else None,
            "errors": [x["error"] for x in reps if "error" in x],
        }
    ratios = []
    for label, _size in sizes:
        sec, crc = table.get(f"{label}/secure"), table.get(f"{label}/crc")
        ratio = _ratio(sec["mb_per_s"] if sec else None, crc["mb_per_s"] if crc else None)
        target = 0.6 if label == "4MiB" else None
        ratios.append({"size": label, "ratio": ratio,
                       "target": f">= {target}" if target else "-",
                       "met": None if ratio is None or target is None else ratio >= target})
    return {"results": table, "ratios": ratios, "duration_s": duration}


# -- the cluster -------------------------------------------------------------------------


def _load_mon_cluster() -> type[MonCluster]:
    """``MonCluster`` from ``tests/interop/ceph_cluster.py`` (not a package)."""
    sys.path.insert(0, str(REPO / "tests" / "interop"))
    try:
        import ceph_cluster  # noqa: PLC0415  (found through the path set above)
    finally:
        sys.path.pop(0)
    return ceph_cluster.MonCluster


def set_mon_debug_ms(cluster: MonCluster, value: str) -> str:
    """``config set debug_ms VALUE`` on every mon's admin socket; the value now in effect."""
    got = ""
    for mon_id in cluster.mon_ids:
        for cmd in ({"prefix": "config set", "var": "debug_ms", "val": [value]},
                    {"prefix": "config get", "var": "debug_ms", "format": "json"}):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(5.0)
                sock.connect(str(cluster.asok_path(mon_id)))
                sock.sendall(json.dumps(cmd).encode() + b"\0")
                (length,) = struct.unpack(">I", _recv(sock, 4))
                reply = _recv(sock, length)
        got = str(json.loads(reply).get("debug_ms", ""))
    return got


def _recv(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("admin socket closed early")
        data += chunk
    return bytes(data)


# -- output -------------------------------------------------------------------------------


def _f(v: float | None, digits: int = 0) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def _met(m: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "-"}[m]


def print_report(report: dict[str, Any]) -> None:
    cfg = report["config"]
    print(f"bench_monclient: {cfg['rounds']} round(s), {cfg['calls']} calls "
          f"(+{cfg['warmup']} warm-up), mon debug_ms {cfg['mon_debug_ms']}, "
          f"{cfg['cpus']} CPUs, python {cfg['python']}")
    lat = report.get("latency")
    if lat:
        print("\n1. per-call latency (medians over rounds), us; CPU per call, us, of the "
              "client process and of the mon")
        print(f"  {'peer':<24} {'call':<15} {'p50':>7} {'p99':>7} {'mean':>7} "
              f"{'calls/s':>8} {'cpu':>6} {'mon cpu':>7}  mode/loop")
        for key, r in lat["results"].items():
            for case in (f"{op}/{n}" for op in OPS for n in INFLIGHT):
                if case not in r:
                    continue
                c = r[case]
                print(f"  {key:<24} {case:<15} {_f(c['p50_us']):>7} {_f(c['p99_us']):>7} "
                      f"{_f(c['mean_us']):>7} {_f(c['calls_per_s']):>8} {_f(c['cpu_us']):>6} "
                      f"{_f(c['mon_cpu_us']):>7}  {','.join(r['con_mode']) or '-'}/"
                      f"{','.join(r['loop'])}")
            print(f"  {key:<24} {'connect (ms)':<15} {_f(r['connect_ms'], 1):>7}")
        print("ratios peer / librados (same mode):")
        for r in lat["ratios"]:
            print(f"  {r['peer']:<18} {r['mode']:<7} {r['call']:<14} p50 {_f(r['p50'], 2):>5}  "
                  f"mean {_f(r['mean'], 2):>5}  (target p50 {r['target']}): {_met(r['met'])}")
    cli = report.get("cli")
    if cli:
        print("\n2. whole process, ms: best / median / max (CPU median)")
        for key in ("asyncmsgr", "ceph", "python -c pass"):
            s = cli[key]
            print(f"  {key:<16} {_f(s['best'])} / {_f(s['median'])} / {_f(s['max'])} "
                  f"({_f(s['cpu_median'])})")
        for r in cli["ratios"]:
            print(f"  ratio asyncmsgr / ceph ({r['what']}): {_f(r['ratio'], 2)} "
                  f"(target {r['target']}): {_met(r['met'])}")
        print("  asyncmsgr breakdown (medians): " + ", ".join(
            f"{k} {_f(v, 1)}" for k, v in cli["breakdown_ms"].items()))
        imp = cli["imports"]
        print(f"  -X importtime total {_f(imp['total_ms'], 1)} ms; self ms by package: "
              + ", ".join(f"{k} {_f(v, 1)}" for k, v in imp["by_package_ms"].items()))
        print("  largest self times (ms): " + ", ".join(
            f"{x['module']} {_f(x['ms'], 1)}" for x in imp["top_self_ms"]))
    bench = report.get("bench")
    if bench:
        print(f"\n3. asyncmsgr bench, one-way stream, {bench['duration_s']:g} s per run, "
              "auth dummy: MB/s (msg/s) [range]")
        for key, r in bench["results"].items():
            rng = r["mb_range"]
            print(f"  {key:<12} {','.join(r['con_mode']):<7} {_f(r['mb_per_s'], 1):>9} "
                  f"({_f(r['msgs_per_s'])}) [{_f(rng[0], 1) if rng else '-'}-"
                  f"{_f(rng[1], 1) if rng else '-'}]")
        for r in bench["ratios"]:
            print(f"  secure / crc {r['size']:<5} {_f(r['ratio'], 2)} (target {r['target']}): "
                  f"{_met(r['met'])}")


# -- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--json-out", metavar="FILE",
                        help="also write the JSON object to FILE (with the table printed)")
    parser.add_argument("--quick", action="store_true",
                        help="about 30 s: 1 round, 300 calls, 3 CLI runs, 1 s bench runs")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=2000, help="measured calls per case")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up calls per case")
    parser.add_argument("--cli-runs", type=int, default=10)
    parser.add_argument("--bench-duration", type=float, default=3.0,
                        help="seconds per asyncmsgr bench run")
    parser.add_argument("--sections", default="latency,cli,bench",
                        help="comma-separated: latency, cli, bench")
    parser.add_argument("--peers", default=",".join(DEFAULT_PEERS),
                        help=f"latency peers, comma-separated ({', '.join(PEERS)})")
    parser.add_argument("--mon-debug-ms", default="0/0",
                        help="the mon's debug_ms during the run ('keep': leave it)")
    args = parser.parse_args(argv)
    sections = {s for s in args.sections.split(",") if s}
    if sections - {"latency", "cli", "bench"}:
        parser.error(f"unknown section(s) {sorted(sections - {'latency', 'cli', 'bench'})}")
    peers = [p for p in args.peers.split(",") if p]
    if set(peers) - set(PEERS):
        parser.error(f"unknown peer(s) {sorted(set(peers) - set(PEERS))}")
    rounds, calls, warmup, cli_runs, duration = (args.rounds, args.calls, args.warmup,
                                                 args.cli_runs, args.bench_duration)
    if args.quick:
        rounds, calls, warmup, cli_runs, duration = 1, 300, 50, 3, 1.0

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    ensure_bytecode()
    report: dict[str, Any] = {}
    debug_ms = "keep"
    if sections & {"latency", "cli"}:
        cluster = _load_mon_cluster()(num_mons=1, auth_none=True)
        try:
            cluster.start()
            log(f"mon up in {cluster.wait_ready():.1f} s: {', '.join(cluster.mon_addrs)}")
            if args.mon_debug_ms != "keep":
                debug_ms = set_mon_debug_ms(cluster, args.mon_debug_ms)
            if "latency" in sections:
                report["latency"] = latency_section(cluster, rounds, calls, warmup, log,
                                                    peers)
            if "cli" in sections:
                report["cli"] = cli_section(cluster, cli_runs, log)
        finally:
            cluster.stop()  # every mon by its PID
    if "bench" in sections:
        report["bench"] = bench_section(rounds, duration, log)
    report["config"] = {"rounds": rounds, "calls": calls, "warmup": warmup,
                        "cli_runs": cli_runs, "bench_duration": duration,
                        "mon_debug_ms": debug_ms, "cpus": os.cpu_count(),
                        "python": sys.version.split()[0], "sections": sorted(sections)}
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=1)
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    failed = any(r["errors"] for r in report.get("latency", {}).get("results", {}).values())
    failed = failed or any(r["errors"] for r in report.get("bench", {}).get("results", {})
                           .values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
