"""OSDMap placement and codec benchmark: asyncmsgr against the C++ ``osdmaptool``.

Builds (with the real tools, in a temporary directory) a map of ``--osds`` OSDs
(``osdmaptool --createsimple N --with-default-pool``: ``64 * N`` PGs in pool 1,
size 3) with a straw2 host/rack/root CRUSH map from ``crushtool --build``, then
per round, alternating the order:

1. **Whole-pool placement**: ``--test-map-pgs-dump-all --mark-up-in`` of every PG,
   as a process (``osdmaptool`` vs ``asyncmsgr osdmaptool``: wall and CPU time of
   the child), and asyncmsgr's placement alone in this process (``pg_to_raw_up_acting_osds``
   for every PG, after decoding; the CRUSH run dominates).
2. **Decode + re-encode** of the map, in this process (no C++ peer: reported
   as microseconds per map).

Reports medians over rounds and the ratio asyncmsgr / osdmaptool (lower is better).
Also ``--profile``: cProfile's top functions of the in-process placement.

Run: ``python benchmarks/bench_osdmap.py [--osds 100] [--rounds 3] [--profile]``.
Needs ``osdmaptool`` and ``crushtool`` (Ceph Pacific).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from asyncmsgr.osd.mapcommon import CEPH_OSD_IN, CEPH_OSD_UP
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.placement import pg_to_raw_up_acting_osds
from asyncmsgr.osd.types import PG


def build_map(d: Path, osds: int) -> Path:
    path = d / "osdmap"
    subprocess.run(["osdmaptool", "--createsimple", str(osds), "--with-default-pool",
                    str(path)], check=True, capture_output=True)
    crush = d / "crush"
    hosts = max(1, osds // 10)
    subprocess.run(["crushtool", "--build", "--num_osds", str(osds), "host", "straw2",
                    str(max(1, osds // hosts)), "rack", "straw2", "4", "root", "straw2",
                    "0", "-o", str(crush)], check=True, capture_output=True)
    subprocess.run(["osdmaptool", str(path), "--import-crush", str(crush)], check=True,
                   capture_output=True)
    return path


def child(argv: list[str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def in_process(data: bytes) -> tuple[float, int]:
    """(seconds, PGs) of decoding the map and mapping every PG of every pool."""
    t0 = time.process_time()
    m = OSDMap.decode(data)
    for o in range(m.max_osd):
        m.osd_state[o] |= CEPH_OSD_UP
        m.set_weight(o, CEPH_OSD_IN)
    n = 0
    for pid, pool in m.pools.items():
        for ps in range(pool.pg_num):
            pg_to_raw_up_acting_osds(m, PG(pid, ps))
            n += 1
    return time.process_time() - t0, n


def codec(data: bytes, reps: int = 50) -> float:
    """Microseconds per decode + encode."""
    t0 = time.process_time()
    for _ in range(reps):
        OSDMap.decode(data).encode()
    return (time.process_time() - t0) / reps * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--osds", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    if not shutil.which("osdmaptool") or not shutil.which("crushtool"):
        sys.exit("needs osdmaptool and crushtool (Ceph Pacific)")
    ours_cmd = [sys.executable, "-m", "asyncmsgr", "osdmaptool"]
    with tempfile.TemporaryDirectory() as tmp:
        path = build_map(Path(tmp), args.osds)
        data = path.read_bytes()
        dump = ["--test-map-pgs-dump-all", "--mark-up-in"]
        real_wall: list[float] = []
        real_cpu: list[float] = []
        ours_wall: list[float] = []
        ours_cpu: list[float] = []
        inproc: list[float] = []
        pgs = 0
        for r in range(args.rounds):
            runs = [("real", ["osdmaptool", str(path), *dump]),
                    ("ours", [*ours_cmd, str(path), *dump])]
            if r % 2:
                runs.reverse()
            outs: dict[str, str] = {}
            for name, argv in runs:
                wall, cpu, out = child(argv)
                outs[name] = out
                (real_wall if name == "real" else ours_wall).append(wall)
                (real_cpu if name == "real" else ours_cpu).append(cpu)
            assert outs["real"] == outs["ours"], "outputs differ"
            secs, pgs = in_process(data)
            inproc.append(secs)
        med = statistics.median
        print(f"map: {args.osds} OSDs, {pgs} PGs, {len(data)} bytes; rounds {args.rounds}")
        print(f"dump-all process wall: osdmaptool {med(real_wall):.3f} s, asyncmsgr "
              f"{med(ours_wall):.3f} s, ratio {med(ours_wall) / med(real_wall):.1f}")
        print(f"dump-all process CPU:  osdmaptool {med(real_cpu):.3f} s, asyncmsgr "
              f"{med(ours_cpu):.3f} s, ratio {med(ours_cpu) / med(real_cpu):.1f}")
        print(f"in-process decode + placement of every PG: {med(inproc):.3f} s "
              f"({med(inproc) / pgs * 1e6:.0f} us per PG)")
        print(f"decode + encode of the map: {codec(data):.0f} us")
        if args.profile:
            prof = cProfile.Profile()
            prof.runcall(in_process, data)
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(12)
            print(s.getvalue())


if __name__ == "__main__":
    main()
