"""RADOS object I/O from Python: ``asyncmsgr.rados`` against librados on one memstore OSD.

One run starts its own cluster (one mon, one memstore OSD, pool ``test``; the
``CephCluster`` of ``asyncmsgr.testing``) and measures, against that same OSD,
each peer in its own child process, rounds alternating the peer order:

* ``asyncmsgr``: ``asyncmsgr.rados`` (the Objecter on the embedded messenger, on
  the default loop of ``asyncmsgr.loop.run``: uvloop when installed);
* ``pyrados``: librados' asynchronous API driven from Python (python3-rados'
  ``aio_write_full`` / ``aio_read`` with completion callbacks, under Debian's
  ``/usr/bin/python3``), the Python client asyncmsgr should be ahead of;
* ``rados``: the C++ ``rados bench`` (``write`` / ``seq``), the reference.

Workloads (``--seconds`` each): ``write4k`` (4 KiB objects written whole, 16 in
flight), ``read4k`` (reading back what ``write4k`` wrote, 16 in flight),
``write4k-t1`` (one in flight: latency), ``write4m`` / ``read4m`` (4 MiB objects,
16 in flight: bandwidth). Reported per peer: ops/s, MB/s, mean latency, and the
client's CPU per op (user + system, from ``getrusage`` of the child); ratios are
asyncmsgr / rados and asyncmsgr / pyrados (medians over rounds).

Run: ``python benchmarks/bench_rados_api.py [--rounds 3] [--seconds 3]
[--workloads write4k,read4k] [--peers asyncmsgr,pyrados,rados] [--json]``. Needs
``ceph-mon``, ``ceph-osd``, ``rados`` and ``python3-rados``. Wall-clock figures
are noisy on a shared machine: compare the same-run ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = "/usr/bin/python3"
WORKLOADS = {
    # name: (object size, ops in flight, objects cycled through (0: a new one per op))
    "write4k": (4096, 16, 0),
    "read4k": (4096, 16, 0),
    "write4k-t1": (4096, 1, 0),
    "write4m": (4 << 20, 16, 32),
    "read4m": (4 << 20, 16, 32),
}
PEERS = ("asyncmsgr", "pyrados", "rados")

# -- the librados child (python3-rados under /usr/bin/python3) ---------------------------

_PYRADOS = r"""
import json, resource, sys, threading, time, rados
conf, keyring, kind, size, inflight, cycle, seconds, prefix, count = sys.argv[1:10]
size, inflight, cycle, count = int(size), int(inflight), int(cycle), int(count)
seconds = float(seconds)
cluster = rados.Rados(conffile=conf, conf={"keyring": keyring})
cluster.connect()
io = cluster.open_ioctx("test")
data = b"x" * size
slots = threading.Semaphore(inflight)
lock = threading.Lock()
done = [0]
lat = [0.0]
def name(i):
    return f"{prefix}{i % cycle if cycle else i % count if kind == 'read' else i}"
r0 = resource.getrusage(resource.RUSAGE_SELF)
start = time.perf_counter()
deadline = start + seconds
i = 0
def finish(t0):
    def cb(comp, *rest):
        with lock:
            done[0] += 1
            lat[0] += time.perf_counter() - t0
        slots.release()
    return cb
while time.perf_counter() < deadline:
    slots.acquire()
    t0 = time.perf_counter()
    if kind == "write":
        io.aio_write_full(name(i), data, oncomplete=finish(t0))
    else:
        io.aio_read(name(i), size, 0, finish(t0))
    i += 1
for _ in range(inflight):
    slots.acquire()
elapsed = time.perf_counter() - start
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(json.dumps({"ops": done[0], "seconds": elapsed, "cpu": cpu,
                  "lat": lat[0] / max(1, done[0])}))
io.close()
cluster.shutdown()
"""


# -- the asyncmsgr child -------------------------------------------------------------------


async def _asyncmsgr(conf: str, keyring: str, kind: str, size: int, inflight: int,
                     cycle: int, seconds: float, prefix: str, count: int) -> dict[str, float]:
    from asyncmsgr.rados import Rados  # noqa: PLC0415  (in the child only)

    async with Rados(conffile=conf, conf={"keyring": keyring}) as cluster:
        io = await cluster.open_ioctx("test")
        data = b"x" * size
        done = 0
        lat = 0.0
        nxt = 0

        def name(i: int) -> str:
            if cycle:
                return f"{prefix}{i % cycle}"
            return f"{prefix}{i % count if kind == 'read' else i}"

        async def worker(deadline: float) -> None:
            nonlocal done, lat, nxt
            while time.perf_counter() < deadline:
                i = nxt
                nxt += 1
                t0 = time.perf_counter()
                if kind == "write":
                    await io.write_full(name(i), data)
                else:
                    await io.read(name(i), size)
                lat += time.perf_counter() - t0
                done += 1

        r0 = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        await asyncio.gather(*(worker(start + seconds) for _ in range(inflight)))
        elapsed = time.perf_counter() - start
        r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"ops": done, "seconds": elapsed, "cpu": cpu, "lat": lat / max(1, done)}


def _child_main(args: argparse.Namespace) -> int:
    from asyncmsgr.config import MessengerConfig  # noqa: PLC0415
    from asyncmsgr.loop import run  # noqa: PLC0415

    config = MessengerConfig(asyncmsgr_use_uvloop=args.loop != "asyncio")
    out = run(_asyncmsgr(args.conf, args.keyring, args.kind, args.size, args.inflight,
                         args.cycle, args.seconds, args.prefix, args.count), config=config)
    print(json.dumps(out))
    return 0


# -- the parent ------------------------------------------------------------------------------


def _run_peer(peer: str, conf: str, keyring: str, workload: str, seconds: float,
              count: int, loop: str = "default") -> dict[str, float]:
    size, inflight, cycle = WORKLOADS[workload]
    kind = "read" if workload.startswith("read") else "write"
    prefix = f"{peer}-{'4m' if size > 4096 else '4k'}-"
    if peer == "rados":
        return _rados_bench(conf, keyring, kind, size, inflight, seconds, prefix)
    common = [conf, keyring, kind, str(size), str(inflight), str(cycle), str(seconds), prefix,
              str(max(1, count))]
    if peer == "pyrados":
        argv = [SYSTEM_PYTHON, "-c", _PYRADOS, *common]
    else:
        argv = [sys.executable, __file__, "--child", "--conf", conf, "--keyring", keyring,
                "--kind", kind, "--size", str(size), "--inflight", str(inflight),
                "--cycle", str(cycle), "--seconds", str(seconds), "--prefix", prefix,
                "--count", str(max(1, count)), "--loop", loop]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{peer} failed: {proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _rados_bench(conf: str, keyring: str, kind: str, size: int, inflight: int,
                 seconds: float, prefix: str) -> dict[str, float]:
    mode = "write" if kind == "write" else "seq"
    argv = ["rados", "-c", conf, "-k", keyring, "-p", "test", "bench", f"{seconds:g}", mode,
            "-t", str(inflight), "--no-cleanup", "--format", "json", "--run-name", prefix]
    if mode == "write":
        argv += ["-b", str(size)]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120,
                          check=False)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"rados bench failed: {proc.stderr[-2000:]}")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    ops = int(summary.get("total_writes_made", summary.get("total_reads_made", 0)))
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"ops": ops, "seconds": float(summary["total_time_run"]), "cpu": cpu,
            "lat": float(summary["average_latency"])}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--child``, one asyncmsgr measurement)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--peers", default=",".join(PEERS))
    p.add_argument("--json", action="store_true")
    p.add_argument("--loop", choices=("default", "asyncio"), default="default",
                   help="asyncmsgr's event loop: default (uvloop when installed) or asyncio")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("conf", "keyring", "kind", "prefix"):
        p.add_argument(f"--{name}", default="", help=argparse.SUPPRESS)
    for name in ("size", "inflight", "cycle", "count"):
        p.add_argument(f"--{name}", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return _child_main(args)

    sys.path.insert(0, str(REPO / "src"))
    from asyncmsgr.testing.ceph_cluster import CephCluster  # noqa: PLC0415

    peers = [x for x in args.peers.split(",") if x]
    workloads = [w for w in args.workloads.split(",") if w]
    cluster = CephCluster(num_osds=1, extra_conf={"debug_ms": "0/0"},
                          memstore_bytes=4 << 30)
    cluster.start()
    results: dict[str, dict[str, list[dict[str, float]]]] = {
        w: {peer: [] for peer in peers} for w in workloads}
    try:
        cluster.wait_ready()
        conf, keyring = str(cluster.conf_path), str(cluster.keyring_path)
        for rnd in range(args.rounds):
            order = peers if rnd % 2 == 0 else list(reversed(peers))
            for w in workloads:
                for peer in order:
                    writes = results.get(w.replace("read", "write"), {}).get(peer, [])
                    count = int(writes[-1]["ops"]) if writes else 1000
                    results[w][peer].append(
                        _run_peer(peer, conf, keyring, w, args.seconds, count, args.loop))
    finally:
        cluster.stop()
    report = _report(results)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    return 0


def _report(results: dict[str, dict[str, list[dict[str, float]]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for w, by_peer in results.items():
        size = WORKLOADS[w][0]
        row: dict[str, Any] = {}
        for peer, runs in by_peer.items():
            if not runs:
                continue
            iops = [r["ops"] / r["seconds"] for r in runs]
            row[peer] = {
                "iops": statistics.median(iops), "iops_range": [min(iops), max(iops)],
                "mb_s": statistics.median(iops) * size / 1e6,
                "lat_ms": statistics.median(r["lat"] for r in runs) * 1e3,
                "cpu_us_per_op": statistics.median(r["cpu"] / max(1, r["ops"])
                                                   for r in runs) * 1e6,
            }
        for ref in ("rados", "pyrados"):
            if "asyncmsgr" in row and ref in row:
                row[f"asyncmsgr/{ref}"] = row["asyncmsgr"]["iops"] / row[ref]["iops"]
        out[w] = row
    return out


def _print(report: dict[str, Any]) -> None:
    for w, row in report.items():
        print(f"{w}:")
        for peer in PEERS:
            if peer in row:
                r = row[peer]
                print(f"  {peer:10s} {r['iops']:9.0f} ops/s  {r['mb_s']:8.1f} MB/s  "
                      f"lat {r['lat_ms']:6.2f} ms  cpu {r['cpu_us_per_op']:6.1f} us/op  "
                      f"(range {r['iops_range'][0]:.0f}-{r['iops_range'][1]:.0f})")
        for ref in ("rados", "pyrados"):
            key = f"asyncmsgr/{ref}"
            if key in row:
                print(f"  {key}: {row[key]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
