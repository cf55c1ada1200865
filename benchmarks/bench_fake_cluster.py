"""The fake cluster against a real one: ``rados bench`` throughput and start-up time.

In one run, alternating the two in every round:

1. **4 KiB writes** (``rados bench SECONDS write -t 16 -b 4096``, the real C++
   client) against ``asyncmsgr fake-cluster --osds 1 --pool test --size 1`` (a
   child process, as a user runs it) and against a real one-mon one-OSD memstore
   cluster (``asyncmsgr.testing.ceph_cluster.CephCluster``, pool ``test``, size
   1); then ``rados bench SECONDS seq -t 16`` on what was written. Reported:
   ``average_iops`` per round and their medians, the ratio fake / real (target
   >= 0.8 for writes), and the server side's CPU per op (``/proc/PID/stat`` of
   the fake's process, of ``ceph-osd`` plus ``ceph-mon``), with the share of the
   run each spent on a CPU and runnable but waiting for one (``schedstat``: on a
   loaded machine a single-threaded server gets less CPU than a multi-threaded one).
2. **Start-up to ready**: the fake in process (``FakeCluster.start()``, binding a
   mon and an OSD, building the maps: target <= 0.2 s), the fake as a process
   (``asyncmsgr fake-cluster`` until its ready line, interpreter and imports
   included) and the real cluster (``CephCluster`` until a probe object is
   written, about 6 s here).

The machine is shared: wall-clock figures are noisy, so rounds alternate the peers
and medians are reported with their ranges; CPU per op is the steadier figure.

Run: ``python benchmarks/bench_fake_cluster.py [--rounds 3] [--seconds 5]
[--quick] [--json] [--no-real]``. Needs ``rados`` (and ``ceph-mon``/``ceph-osd``
for the real side). About 2 minutes; ``--quick`` about 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from asyncmsgr.testing.fake_cluster import FakeCluster


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (0.0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sched_wait_seconds(pid: int) -> float:
    """Seconds the process's threads spent runnable but waiting for a CPU
    (``/proc/PID/task/*/schedstat``, second field)."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[1])
    except OSError:
        pass
    return total / 1e9


def rados_bench(conf: str, keyring: str, mode: str, seconds: int, threads: int,
                run_name: str) -> dict[str, Any]:
    """One ``rados bench`` run; its JSON summary."""
    argv = ["rados", "-c", conf, "-k", keyring, "-p", "test", "bench", str(seconds), mode,
            "-t", str(threads), "--format", "json", "--run-name", run_name]
    if mode == "write":
        argv += ["-b", "4096", "--no-cleanup"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds * 10 + 60,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {proc.stderr.strip()}")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    return {k: float(v) for k, v in summary.items() if isinstance(v, (int, float, str))
            and str(v).replace(".", "", 1).replace("e-", "", 1).isdigit()}


class FakeProcess:
    """``asyncmsgr fake-cluster`` in a child process."""

    def __init__(self, workdir: Path) -> None:
        self.conf = workdir / "fake" / "ceph.conf"
        self.keyring = workdir / "fake" / "ceph.client.admin.keyring"
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "asyncmsgr", "fake-cluster", "--osds", "1", "--pool",
             "test", "--size", "1", "--conf-out", str(self.conf), "--json"],
            stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.ready = json.loads(self.proc.stdout.readline())
        self.process_seconds = time.perf_counter() - t0

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def waited(self) -> float:
        return sched_wait_seconds(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


class RealCluster:
    """A real one-mon one-OSD memstore cluster."""

    def __init__(self, workdir: Path) -> None:
        from asyncmsgr.testing.ceph_cluster import CephCluster  # noqa: PLC0415
        t0 = time.perf_counter()
        self.cluster = CephCluster(num_osds=1, pool="test", base_dir=workdir)
        self.cluster.__enter__()
        self.cluster.wait_ready()
        self.start_seconds = time.perf_counter() - t0
        self.conf = str(self.cluster.conf_path)
        self.keyring = str(self.cluster.keyring_path)

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for d in ("a", "osd.0")
                   if (pid := self.cluster.pid(d)) is not None)

    def waited(self) -> float:
        return sum(sched_wait_seconds(pid) for d in ("a", "osd.0")
                   if (pid := self.cluster.pid(d)) is not None)

    def stop(self) -> None:
        self.cluster.__exit__(None, None, None)


async def _start_in_process() -> float:
    cluster = FakeCluster(osds=1, pools=["test"], pool_size=1)
    await cluster.start()
    try:
        return cluster.ready_seconds
    finally:
        await cluster.stop()


def startup_in_process(n: int) -> list[float]:
    """Seconds to ready of ``n`` in-process starts (after one warm-up)."""
    asyncio.run(_start_in_process())
    return [asyncio.run(_start_in_process()) for _ in range(n)]


def measure(server: FakeProcess | RealCluster, seconds: int, threads: int,
            tag: str) -> dict[str, float]:
    """Writes then seq reads against one server; IOPS and server CPU per op."""
    c0 = server.cpu()
    s0 = server.waited()
    t0 = time.perf_counter()
    w = rados_bench(str(server.conf), str(server.keyring), "write", seconds, threads, tag)
    wall = time.perf_counter() - t0
    c1 = server.cpu()
    s1 = server.waited()
    r = rados_bench(str(server.conf), str(server.keyring), "seq", seconds, threads, tag)
    c2 = server.cpu()
    writes = max(w.get("total_writes_made", 1.0), 1.0)
    reads = max(r.get("total_reads_made", 1.0), 1.0)
    return {"write_iops": w["average_iops"], "seq_iops": r["average_iops"],
            "write_cpu_us_per_op": (c1 - c0) / writes * 1e6,
            "write_cpu_share": (c1 - c0) / wall,
            "write_runnable_wait_share": (s1 - s0) / wall,
            "seq_cpu_us_per_op": (c2 - c1) / reads * 1e6}


def _median(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--quick", action="store_true", help="1 round of 2 s")
    ap.add_argument("--no-real", action="store_true", help="the fake only")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds = 1, 2
    if shutil.which("rados") is None:
        print("bench_fake_cluster: the rados tool is not installed", file=sys.stderr)
        return 2
    report: dict[str, Any] = {"rounds": args.rounds, "seconds": args.seconds,
                              "threads": args.threads}
    report["startup_in_process_s"] = _median(startup_in_process(5))
    peers = ["fake"] if args.no_real else ["fake", "real"]
    results: dict[str, list[dict[str, float]]] = {p: [] for p in peers}
    starts: dict[str, list[float]] = {p: [] for p in peers}
    with tempfile.TemporaryDirectory(prefix="bench-fake-cluster-") as tmp:
        for rnd in range(args.rounds):
            order = peers if rnd % 2 == 0 else list(reversed(peers))
            for peer in order:
                work = Path(tmp) / f"{peer}{rnd}"
                work.mkdir()
                server: FakeProcess | RealCluster
                if peer == "fake":
                    server = FakeProcess(work)
                    starts[peer].append(server.process_seconds)
                else:
                    server = RealCluster(work)
                    starts[peer].append(server.start_seconds)
                try:
                    results[peer].append(measure(server, args.seconds, args.threads,
                                                 f"r{rnd}"))
                finally:
                    server.stop()
    for peer in peers:
        report[peer] = {k: _median([r[k] for r in results[peer]]) for k in results[peer][0]}
        report[peer]["startup_s"] = _median(starts[peer])
    if "real" in report:
        ratios = [f["write_iops"] / r["write_iops"]
                  for f, r in zip(results["fake"], results["real"], strict=True)]
        report["write_iops_ratio"] = _median(ratios)
        report["seq_iops_ratio"] = _median(
            [f["seq_iops"] / r["seq_iops"]
             for f, r in zip(results["fake"], results["real"], strict=True)])
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report, peers)
    return 0


def print_report(report: dict[str, Any], peers: list[str]) -> None:
    def fmt(d: dict[str, float], unit: str = "") -> str:
        return f"{d['median']:.3g}{unit} ({d['min']:.3g}-{d['max']:.3g})"
    print(f"rados bench {report['seconds']} s, -t {report['threads']}, 4 KiB, "
          f"{report['rounds']} round(s), medians (range)")
    for peer in peers:
        r = report[peer]
        print(f"  {peer:<5} write {fmt(r['write_iops'])} IOPS, "
              f"{fmt(r['write_cpu_us_per_op'], ' us')} server CPU/op, CPU share "
              f"{fmt(r['write_cpu_share'])}, waiting for a CPU "
              f"{fmt(r['write_runnable_wait_share'])}; "
              f"seq {fmt(r['seq_iops'])} IOPS, {fmt(r['seq_cpu_us_per_op'], ' us')}/op; "
              f"start-up {fmt(r['startup_s'], ' s')}")
    if "write_iops_ratio" in report:
        print(f"  fake / real: writes {fmt(report['write_iops_ratio'])} (target >= 0.8), "
              f"seq reads {fmt(report['seq_iops_ratio'])}")
    print(f"  fake start-up in process: {fmt(report['startup_in_process_s'], ' s')} "
          "(target <= 0.2 s)")


if __name__ == "__main__":
    sys.exit(main())
