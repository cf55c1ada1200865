"""RADOS benchmark: ``asyncmsgr rados bench`` against the C++ ``rados bench``.

Starts its own cluster with :mod:`asyncmsgr.testing.ceph_cluster` (one mon, one
memstore OSD, pool ``bench`` of size 1, 32 PGs, cephx), then runs, on that same
OSD and alternating the tools round by round (every other round in reverse
order), each tool as a child process:

* ``write-4k-t16``: ``bench D write -b 4096 -t 16`` — ``average_iops``;
* ``seq-4k-t16``: ``bench D seq -t 16`` over the objects that write left — ``average_iops``;
* ``write-4m-t16`` / ``seq-4m-t16``: the same with 4 MiB ops — ``bandwidth`` (MB/s);
* ``write-4k-t1``: one write in flight — ``average_latency`` (seconds);

plus **python3-rados**: librados' aio API (``aio_write_full`` of a new object per
op / ``aio_read`` of 16 objects, completion callbacks keeping 16 in flight) driven
from Debian's ``/usr/bin/python3``, for the 4 KiB t16 workloads. Every run reports
its client's CPU time (user + system, from ``wait4``), shown per op after the CPU of
a bare connect + ``lspools`` of the same tool is taken off (start-up and connection
are not per-op costs).

Results are medians over ``--rounds`` (with the range), and the ratio
asyncmsgr / C++ of the medians; the goals of issue 12 are printed next to them
(``>=0.9x`` IOPS/bandwidth, ``>=0.8x`` 4 KiB seq, latency ``<=1.1x``).

The machine's load (``uptime``) is printed before and after: figures from a
loaded machine are noisy; compare the same-run ratios.

Figures of 2026-12-05 (``--rounds 3 --duration 4 --baseline SRC`` with SRC the
``src`` of 6588a4f, this run at 59edf50; load average 12-16 on the 2 vCPUs, so
the IOPS ranges overlap; client CPU per op, from ``wait4``, is the steadier
measure):

============  =====================  =====================  ======================
workload      C++ rados              asyncmsgr 59edf50      asyncmsgr 6588a4f
============  =====================  =====================  ======================
write-4k-t16  7,982 iops, 17 µs/op   0.62x, 75 µs/op        0.55x, 88 µs/op
seq-4k-t16    13,071 iops, 18 µs/op  0.46x, 73 µs/op        0.60x, 83 µs/op
write-4m-t16  211 MB/s               1.24x                  1.42x
seq-4m-t16    1,159 MB/s             1.42x                  1.24x
write-4k-t1   0.158 ms, 29 µs/op     3.02x, 135 µs/op       2.51x, 158 µs/op
============  =====================  =====================  ======================

An earlier run of the same command (load 8-14) gave 0.37x / 0.21x (write-4k-t16),
0.31x / 0.15x (seq-4k-t16) and 4.16x / 2.58x (write-4k-t1) for 59edf50's
predecessor b20eb0f / 6588a4f.

Run: ``python benchmarks/bench_rados.py [--rounds 3] [--duration 5] [--only
write-4k-t16,seq-4k-t16] [--json] [--dir DIR] [--baseline SRC]`` (``--quick``: 1
round of 2 s; ``--baseline``: another commit's ``src`` run as a third tool, for
same-run before/after ratios).
``--profile`` instead runs asyncmsgr's side of each workload under py-spy (``pip
install py-spy``) and prints the client CPU per op split by layer (objecter,
codecs, msgr2 frames and protocol, connection I/O, dispatch, the bench driver).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from asyncmsgr.testing.ceph_cluster import CephCluster
from asyncmsgr.testing.ceph_daemons import clean_env

PYTHON3 = "/usr/bin/python3"
POOL = "bench"


@dataclass(frozen=True)
class Workload:
    """One benchmark line."""

    name: str
    op_size: int
    threads: int
    metric: str
    """The JSON summary key compared."""
    goal: str
    """``>=0.9`` or ``<=1.1`` (asyncmsgr / C++)."""
    pyrados: bool = False
    """Also run python3-rados' aio API."""


WORKLOADS = (
    Workload("write-4k-t16", 4096, 16, "average_iops", ">=0.9", pyrados=True),
    Workload("seq-4k-t16", 4096, 16, "average_iops", ">=0.8", pyrados=True),
    Workload("write-4m-t16", 4 << 20, 16, "bandwidth", ">=0.9"),
    Workload("seq-4m-t16", 4 << 20, 16, "bandwidth", ">=0.9"),
    Workload("write-4k-t1", 4096, 1, "average_latency", "<=1.1"),
)


@dataclass
class Sample:
    """One tool's run of one workload."""

    value: float
    ops: int
    cpu: float
    """Client CPU seconds of the whole process."""


@dataclass
class Results:
    """Samples per (workload, tool), and each tool's connect-only CPU."""

    samples: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)
    base_cpu: dict[str, list[float]] = field(default_factory=dict)

    def add(self, workload: str, tool: str, s: Sample) -> None:
        self.samples.setdefault((workload, tool), []).append(s)


def _dump_stacks(pid: int, err: BinaryIO) -> None:
    """Before a hung child is killed: its Python stacks (py-spy dump) into ``err``."""
    spy = Path(sys.executable).with_name("py-spy")
    if spy.exists():
        got = subprocess.run([str(spy), "dump", "--pid", str(pid)], capture_output=True,
                             timeout=60, check=False)
        err.write(b"\n-- hung; py-spy dump --\n" + got.stdout + got.stderr)


def _run(argv: list[str], timeout: float,
         env: dict[str, str] | None = None) -> tuple[int, str, str, float]:
    """Run a child; (status, stdout, stderr, its CPU seconds from wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err,
                                env=clean_env() if env is None else env)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                _dump_stacks(proc.pid, err)
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (proc.returncode, out.read().decode(errors="replace"),
                err.read().decode(errors="replace"), usage.ru_utime + usage.ru_stime)


class Tools:
    """How to run each tool against the cluster."""

    def __init__(self, cluster: CephCluster, baseline: str | None = None) -> None:
        self.conf = ["-c", str(cluster.conf_path), "-k", str(cluster.keyring_path)]
        self.cluster = cluster
        self.baseline = baseline
        """A source tree (``src`` of another commit) run as the ``baseline`` tool."""

    def argv(self, tool: str, *args: str) -> list[str]:
        """The command line of ``tool`` (``rados``, ``asyncmsgr`` or ``baseline``)."""
        if tool == "rados":
            return ["rados", *self.conf, *args]
        return [sys.executable, "-m", "asyncmsgr", "rados", *self.conf, *args]

    def env(self, tool: str) -> dict[str, str]:
        """The child's environment (the baseline's sources first on its path)."""
        env = clean_env()
        if tool == "baseline" and self.baseline:
            env["PYTHONPATH"] = self.baseline
        return env

    def bench(self, tool: str, args: Sequence[str],
              duration: float) -> tuple[dict[str, str], float]:
        """One ``rados bench`` run; (its JSON summary, client CPU seconds)."""
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            rc, out, err, cpu = _run(self.argv(tool, "-p", POOL, "bench", *args, "--format", "json",
                                               "-o", f.name), duration + 120, self.env(tool))
            if rc != 0:
                raise RuntimeError(f"{tool} {' '.join(args)}: exit {rc}\n{out}\n{err}")
            doc = json.loads(Path(f.name).read_text())
        return {k: v for k, v in doc.items() if isinstance(v, str)}, cpu

    def connect_cpu(self, tool: str) -> float:
        """CPU seconds of connect + lspools + shutdown."""
        rc, out, err, cpu = _run(self.argv(tool, "lspools"), 60, self.env(tool))
        if rc != 0:
            raise RuntimeError(f"{tool} lspools: exit {rc}\n{out}\n{err}")
        return cpu

    def cleanup(self, tool: str, run_name: str) -> None:
        """``rados cleanup --run-name``."""
        rc, out, err, _ = _run(self.argv(tool, "-p", POOL, "cleanup", "--run-name", run_name),
                               300, self.env(tool))
        if rc != 0:
            raise RuntimeError(f"{tool} cleanup: exit {rc}\n{out}\n{err}")


_PYRADOS = textwrap.dedent("""
    import json, resource, sys, threading, time, rados
    conf, keyring, pool, mode, size, depth, duration = sys.argv[1:8]
    size, depth, duration = int(size), int(depth), float(duration)
    cluster = rados.Rados(conffile=conf, conf={"keyring": keyring})
    cluster.connect()
    io = cluster.open_ioctx(pool)
    data = b"z" * size
    lock = threading.Lock()
    done = threading.Event()
    st = {"started": 0, "finished": 0, "lat": 0.0, "errors": 0}
    tag = "pyrados_%d" % int(time.time() * 1000)
    names = ["%s_%d" % (tag, i) for i in range(depth)]
    written = []
    start = time.monotonic()
    end = start + duration
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    def issue(slot):
        t0 = time.monotonic()
        def cb(comp, *rest):
            now = time.monotonic()
            with lock:
                st["finished"] += 1
                st["lat"] += now - t0
                if comp.get_return_value() < 0:
                    st["errors"] += 1
                more = now < end
                if more:
                    st["started"] += 1
                elif st["finished"] == st["started"]:
                    done.set()
            if more:
                issue(slot)
        if mode == "write":  # a new object each time, as rados bench write does
            with lock:
                name = "%s_%d" % (tag, len(written))
                written.append(name)
            io.aio_write_full(name, data, oncomplete=cb)
        else:
            io.aio_read(names[slot], size, 0, oncomplete=cb)
    if mode == "read":
        for n in names:
            io.write_full(n, data)
        start = time.monotonic()
        end = start + duration
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    with lock:
        st["started"] = depth
    for slot in range(depth):
        issue(slot)
    done.wait(duration + 60)
    elapsed = time.monotonic() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    left = threading.Semaphore(64)
    def removed(comp, *rest):
        left.release()
    for n in (written if mode == "write" else names):
        left.acquire()
        io.aio_remove(n, oncomplete=removed)
    for _ in range(64):
        left.acquire()
    io.close()
    cluster.shutdown()
    print(json.dumps({"ops": st["finished"], "iops": st["finished"] / elapsed,
                      "lat": st["lat"] / max(1, st["finished"]), "cpu": cpu,
                      "errors": st["errors"]}))
""")


def run_pyrados(cluster: CephCluster, mode: str, size: int, depth: int,
                duration: float) -> dict[str, float]:
    """python3-rados' aio loop under Debian's python3: ops, iops, lat, cpu (run only)."""
    argv = [PYTHON3, "-c", _PYRADOS, str(cluster.conf_path), str(cluster.keyring_path), POOL,
            mode, str(size), str(depth), str(duration)]
    proc = subprocess.run(argv, capture_output=True, timeout=duration + 120, env=clean_env(),
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"python3-rados: {proc.stderr.decode(errors='replace')}")
    got: dict[str, float] = json.loads(proc.stdout.decode().splitlines()[-1])
    return got


def _ops(doc: dict[str, str]) -> int:
    return int(doc.get("total_writes_made") or doc.get("total_reads_made") or 0)


def run_round(tools: Tools, order: Sequence[str], workloads: Sequence[Workload],
              duration: float, res: Results, with_pyrados: bool) -> None:
    """Every workload once per tool, in ``order``."""
    d = f"{duration:g}"
    for tool in order:
        res.base_cpu.setdefault(tool, []).append(tools.connect_cpu(tool))
    by_size: dict[tuple[int, int], list[Workload]] = {}
    for w in workloads:
        by_size.setdefault((w.op_size, w.threads), []).append(w)
    for (size, threads), group in by_size.items():
        names = {w.name.split("-", 1)[0] for w in group}
        for tool in order:
            run_name = f"bench_{tool}_{size}_{threads}"
            if "write" in names or "seq" in names:
                doc, cpu = tools.bench(tool, [d, "write", "-b", str(size), "-t", str(threads),
                                              "--no-cleanup", "--run-name", run_name], duration)
                for w in group:
                    if w.name.startswith("write"):
                        res.add(w.name, tool, Sample(float(doc[w.metric]), _ops(doc), cpu))
            for w in group:
                if w.name.startswith("seq"):
                    doc, cpu = tools.bench(tool, [d, "seq", "-t", str(threads), "--run-name",
                                                  run_name], duration)
                    res.add(w.name, tool, Sample(float(doc[w.metric]), _ops(doc), cpu))
            tools.cleanup(tool, run_name)
    if with_pyrados and os.path.exists(PYTHON3):
        for w in workloads:
            if not w.pyrados:
                continue
            mode = "write" if w.name.startswith("write") else "read"
            got = run_pyrados(tools.cluster, mode, w.op_size, w.threads, duration)
            res.add(w.name, "python3-rados", Sample(got["iops"], int(got["ops"]), got["cpu"]))


#: Where a sample's time goes: the innermost frame from one of these paths owns it
#: (codec helpers such as ``wire/buffer.py`` count for their caller).
LAYERS = (("crush/hash.py", "crush.hash: rjenkins of the object name"),
          ("crush/", "crush: placement"), ("osd/pool.py", "osd.pool: pg of an object"),
          ("osdc/", "objecter (asyncmsgr.osdc)"),
          ("messages/osd_op", "MOSDOp/MOSDOpReply codecs"),
          ("osd/ops.py", "MOSDOp/MOSDOpReply codecs"),
          ("frames/", "msgr2 frames (assembler, crc)"),
          ("protocol/", "msgr2 protocol machine"),
          ("aio/", "connection I/O (recv_into/sendmsg)"),
          ("messenger.py", "messenger dispatch"), ("dispatch.py", "messenger dispatch"),
          ("message.py", "messenger dispatch"), ("throttle.py", "messenger dispatch"),
          ("perf.py", "messenger dispatch"),
          ("cli/rados_bench.py", "bench driver (cli/rados_bench.py)"),
          ("asyncio/", "asyncio event loop"), ("selectors.py", "asyncio event loop"))
_NOT_OWNERS = ("wire/buffer.py", "asyncmsgr/types.py", "dataclasses", "<string>")


def layer_shares(raw: str) -> list[tuple[str, float]]:
    """Shares of the steady-state samples of a py-spy ``--format raw`` profile (the
    stacks under the connection's read handler or the bench loops) by layer."""
    counts: dict[str, int] = {}
    total = 0
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit() or not any(k in stack for k in ("_on_readable", "write_bench",
                                                           "read_bench")):
            continue
        owner = "other"
        for frame in reversed(stack.split(";")):
            where = frame.rsplit(" (", 1)[-1]
            if any(x in where for x in _NOT_OWNERS):
                continue
            hit = next((name for key, name in LAYERS if key in where), None)
            if hit is not None:
                owner = hit
                break
        counts[owner] = counts.get(owner, 0) + int(n)
        total += int(n)
    return sorted(((k, v / total) for k, v in counts.items()), key=lambda kv: -kv[1]) \
        if total else []


def profile(cluster: CephCluster, workload: Workload, duration: float) -> None:
    """Run ``asyncmsgr rados bench`` for ``workload`` under py-spy; print the layers
    and the client CPU per op."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        raise SystemExit("--profile needs py-spy next to this Python (pip install py-spy)")
    tools = Tools(cluster)
    d = f"{duration:g}"
    size, t = str(workload.op_size), str(workload.threads)
    write = [d, "write", "-b", size, "-t", t, "--no-cleanup", "--run-name", "prof"]
    args = write if workload.name.startswith("write") else [d, "seq", "-t", t, "--run-name",
                                                            "prof"]
    if not workload.name.startswith("write"):
        tools.bench("rados", write, duration)
    with tempfile.NamedTemporaryFile(suffix=".raw") as raw, \
            tempfile.NamedTemporaryFile(suffix=".json") as js:
        argv = [str(spy), "record", "-r", "499", "-f", "raw", "-o", raw.name, "--",
                *tools.argv("asyncmsgr", "-p", POOL, "bench", *args, "--format", "json",
                            "-o", js.name)]
        rc, out, err, cpu = _run(argv, duration + 120)
        if rc != 0:
            raise RuntimeError(f"py-spy: exit {rc}\n{out}\n{err}")
        doc = json.loads(Path(js.name).read_text())
        shares = layer_shares(Path(raw.name).read_text())
    tools.cleanup("asyncmsgr", "prof")
    ops = _ops(doc)
    base = tools.connect_cpu("asyncmsgr")
    per_op = max(0.0, cpu - base) / max(1, ops) * 1e6
    print(f"\n{workload.name}: {doc[workload.metric]} {workload.metric}, {ops} ops, "
          f"client CPU {per_op:.0f} µs/op (under py-spy)")
    print("| layer | share | µs/op |\n|---|---|---|")
    for name, share in shares:
        print(f"| {name} | {share * 100:.1f} % | {share * per_op:.0f} |")


def _median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def _cpu_us_per_op(res: Results, workload: str, tool: str) -> float:
    samples = res.samples.get((workload, tool), [])
    if not samples:
        return float("nan")
    base = _median(res.base_cpu.get(tool, [0.0])) if tool != "python3-rados" else 0.0
    return _median([max(0.0, s.cpu - base) / max(1, s.ops) * 1e6 for s in samples])


def report(res: Results, workloads: Sequence[Workload]) -> list[dict[str, object]]:
    """One row per workload."""
    rows = []
    for w in workloads:
        cpp = [s.value for s in res.samples.get((w.name, "rados"), [])]
        ours = [s.value for s in res.samples.get((w.name, "asyncmsgr"), [])]
        py = [s.value for s in res.samples.get((w.name, "python3-rados"), [])]
        base = [s.value for s in res.samples.get((w.name, "baseline"), [])]
        ratio = _median(ours) / _median(cpp) if cpp and ours else float("nan")
        op, limit = w.goal[:2], float(w.goal[2:])
        ok = ratio >= limit if op == ">=" else ratio <= limit
        rows.append({
            "workload": w.name, "metric": w.metric,
            "rados": _median(cpp), "rados_range": [min(cpp, default=0), max(cpp, default=0)],
            "asyncmsgr": _median(ours),
            "asyncmsgr_range": [min(ours, default=0), max(ours, default=0)],
            "python3_rados": _median(py) if py else None,
            "baseline": _median(base) if base else None,
            "baseline_ratio": _median(base) / _median(cpp) if cpp and base else None,
            "ratio": ratio, "goal": w.goal, "met": ok,
            "cpu_us_per_op": {t: _cpu_us_per_op(res, w.name, t)
                              for t in ("rados", "asyncmsgr", "python3-rados", "baseline")
                              if t != "baseline" or base},
        })
    return rows


def _fmt(v: float, metric: str) -> str:
    if metric == "average_latency":
        return f"{v * 1e3:.3f} ms"
    if metric == "bandwidth":
        return f"{v:.1f} MB/s"
    return f"{v:,.0f}"


def print_table(rows: list[dict[str, object]], rounds: int, out: Callable[[str], None]) -> None:
    """The markdown table of the report."""
    out(f"\nmedians over {rounds} round(s); ratio = asyncmsgr / C++ rados; CPU = client "
        "CPU per op (connect cost taken off)\n")
    with_base = any(r.get("baseline") is not None for r in rows)
    out("| workload | metric | C++ rados | asyncmsgr | ratio | goal | python3-rados (aio) | "
        "CPU µs/op C++ / asyncmsgr / py" + (" / baseline | baseline ratio |" if with_base
                                             else " |"))
    out("|---|---|---|---|---|---|---|---|" + ("---|" if with_base else ""))
    for r in rows:
        metric = str(r["metric"])
        cpu = r["cpu_us_per_op"]
        assert isinstance(cpu, dict)
        py = r["python3_rados"]
        py_text = "" if py is None else (f"{py:,.0f} iops" if isinstance(py, float) else "")
        cpu_text = " / ".join("-" if math.isnan(v) else f"{v:.0f}" for v in cpu.values())
        out(f"| {r['workload']} | {metric} | {_fmt(float(r['rados']), metric)} | "  # type: ignore[arg-type]
            f"{_fmt(float(r['asyncmsgr']), metric)} | {float(r['ratio']):.2f}x | "  # type: ignore[arg-type]
            f"{r['goal']} {'met' if r['met'] else 'NOT met'} | {py_text} | {cpu_text} |"
            + (f" {_fmt(float(r['baseline']), metric)} ({float(r['baseline_ratio']):.2f}x) |"  # type: ignore[arg-type]
               if with_base and r.get("baseline") is not None else (" - |" if with_base else "")))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--quick", action="store_true", help="1 round of 2 s")
    ap.add_argument("--only", default="", help="comma-separated workload names")
    ap.add_argument("--no-pyrados", action="store_true")
    ap.add_argument("--baseline", metavar="SRC",
                    help="also run the asyncmsgr package under SRC (e.g. `git archive REV src` "
                         "unpacked) as a third tool in the same rounds: before/after ratios")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON too")
    ap.add_argument("--dir", help="build the cluster here (default: a temporary directory)")
    ap.add_argument("--profile", action="store_true",
                    help="instead: run asyncmsgr's side of each workload under py-spy and "
                         "print where its client CPU goes, by layer")
    args = ap.parse_args(argv)
    rounds, duration = (1, 2.0) if args.quick else (args.rounds, args.duration)
    wanted = {x for x in args.only.split(",") if x}
    workloads = [w for w in WORKLOADS if not wanted or w.name in wanted]
    load = os.getloadavg()
    print(f"load before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"(cpus: {os.cpu_count()})", flush=True)
    cluster = CephCluster(num_osds=1, pool=POOL, pg_num=32, memstore_bytes=8 << 30,
                          auth_none=False, cluster_dir=args.dir)
    res = Results()
    try:
        cluster.start()
        cluster.wait_ready()
        print(f"cluster ready in {cluster.startup_seconds:.1f} s", flush=True)
        if args.profile:
            for w in workloads:
                profile(cluster, w, duration)
            return 0
        tools = ("rados", "asyncmsgr", *(("baseline",) if args.baseline else ()))
        for i in range(rounds):
            order = tools if i % 2 == 0 else tools[::-1]
            t0 = time.monotonic()
            run_round(Tools(cluster, args.baseline), order, workloads, duration, res,
                      not args.no_pyrados)
            print(f"round {i + 1}/{rounds} done in {time.monotonic() - t0:.0f} s", flush=True)
    finally:
        cluster.stop()
    rows = report(res, workloads)
    print_table(rows, rounds, print)
    load = os.getloadavg()
    print(f"\nload after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["WORKLOADS", "Results", "Sample", "Workload", "main", "report", "run_pyrados"]
