"""CRUSH mapping benchmark: asyncmsgr.crush against crushtool, same run.

For each workload, maps x = 0..N-1 (a whole pool of N PGs) through one rule and
reports, best of several repeats:

* ``asyncmsgr``: CPU seconds of ``CrushMapper.do_rule`` for the N inputs (the map
  compiled once, as an OSDMap keeps it);
* ``crushtool``: wall seconds of ``crushtool --test`` per N inputs, measured over
  ``--scale`` x N inputs minus a run over a single input (process start and map
  load), i.e. Ceph's C mapper;
* the ratio asyncmsgr / crushtool.

Workloads: ``large-straw2`` (160 OSDs, 40 hosts, 4 racks, size 3 replicated),
``rules-straw2`` rule 2 (erasure, chooseleaf indep, size 4), ``build-mixed``
(list/tree/straw/straw2 levels, size 3). The maps are the test corpus's.

Run: ``python benchmarks/bench_crush.py [--pgs 4096] [--repeats 3] [--scale 32]
[--json]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import time
from pathlib import Path

from asyncmsgr.crush.codec import decode_crush_map
from asyncmsgr.crush.mapper import CrushMapper

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "crush"
WORKLOADS = (("large-straw2", 0, 3), ("rules-straw2", 2, 4), ("build-mixed", 0, 3))


def ours(name: str, rule: int, size: int, pgs: int, repeats: int) -> float:
    """Best CPU seconds to map x = 0..pgs-1."""
    m = decode_crush_map((DATA / f"{name}.bin").read_bytes())
    weights = [0x10000 if m.check_item_present(i) else 0 for i in range(m.max_devices)]
    best = float("inf")
    for _ in range(repeats):
        mapper = CrushMapper(m)
        mapper.do_rule(rule, 0, size, weights)  # builds the straw2 table once
        start = time.process_time()
        for x in range(pgs):
            mapper.do_rule(rule, x, size, weights)
        best = min(best, time.process_time() - start)
    return best


def crushtool(name: str, rule: int, size: int, pgs: int, repeats: int, scale: int) -> float:
    """Best wall seconds of crushtool's mapping of ``pgs`` inputs, start-up removed
    (measured over ``scale`` times as many inputs)."""
    def run(max_x: int) -> float:
        start = time.perf_counter()
        subprocess.run(["crushtool", "-i", str(DATA / f"{name}.bin"), "--test", "--rule",
                        str(rule), "--num-rep", str(size), "--min-x", "0", "--max-x",
                        str(max_x)], check=True, capture_output=True)
        return time.perf_counter() - start

    full = min(run(pgs * scale - 1) for _ in range(repeats))
    empty = min(run(0) for _ in range(repeats))
    return max(full - empty, 1e-6) / scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pgs", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=32,
                        help="crushtool maps this many times more inputs (start-up noise)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    have_tool = shutil.which("crushtool") is not None
    rows = []
    for name, rule, size in WORKLOADS:
        mine = ours(name, rule, size, args.pgs, args.repeats)
        peer = (crushtool(name, rule, size, args.pgs, args.repeats, args.scale)
                if have_tool else None)
        rows.append({"map": name, "rule": rule, "size": size, "pgs": args.pgs,
                     "asyncmsgr_s": round(mine, 4),
                     "asyncmsgr_us_per_pg": round(mine / args.pgs * 1e6, 1),
                     "crushtool_s": None if peer is None else round(peer, 4),
                     "ratio": None if peer is None else round(mine / peer, 1)})
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    for r in rows:
        peer_text = ("crushtool n/a" if r["crushtool_s"] is None else
                     f"crushtool {r['crushtool_s']:.4f} s  ratio {r['ratio']}x")
        print(f"{r['map']:>14} rule {r['rule']} size {r['size']}: {r['pgs']} PGs "
              f"asyncmsgr {r['asyncmsgr_s']:.3f} s ({r['asyncmsgr_us_per_pg']} us/PG)  "
              f"{peer_text}")


if __name__ == "__main__":
    main()
