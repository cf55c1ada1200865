"""Build the seed corpus: ``python -m fuzz.seeds [--out fuzz/seeds] [HARNESS ...]``.

Each harness turns the captures (``tests/data/captures``, reassembled with
:mod:`asyncmsgr.tools.pcap`) and the sample maps into inputs of its own grammar;
they are written as ``<out>/<harness>/<sha1>``. The committed corpus
(``fuzz/corpus``) is these seeds plus what fuzzing found, minimised with
``fuzz/run.py --merge``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from fuzz.harnesses import HARNESSES, TARGETS  # noqa: E402


def write_seeds(out: Path, names: list[str]) -> dict[str, int]:
    """Write every seed of the named harnesses (all when empty); count per harness."""
    counts: dict[str, int] = {}
    for name in names or TARGETS:
        harness = HARNESSES[name]
        d = out / name
        d.mkdir(parents=True, exist_ok=True)
        n = 0
        for whole in harness.seeds():
            seed = whole[: harness.max_len]
            (d / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
            n += 1
        counts[name] = n
    return counts


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "fuzz" / "seeds")
    p.add_argument("harness", nargs="*")
    args = p.parse_args(argv)
    for name, n in write_seeds(args.out, args.harness).items():
        print(f"{name:24} {n:6} seeds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
