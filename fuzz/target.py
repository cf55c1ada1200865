"""libFuzzer entry point of one harness: ``python -m fuzz.target NAME [libFuzzer args]``.

asyncmsgr (and the harness code, whose branches describe the input grammar) is
instrumented for coverage while it is imported; then atheris runs libFuzzer with
the remaining arguments (corpus directories, ``-max_total_time=``, ``-runs=``...).
An exception :func:`fuzz.harnesses.run_one` lets through is a crash: libFuzzer
prints it and writes the input (``-artifact_prefix``). :mod:`fuzz.run` starts
this module; running it by hand works too.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> None:
    """Instrument, import the harness named ``argv[1]``, run libFuzzer."""
    if len(argv) < 2:
        raise SystemExit("usage: python -m fuzz.target HARNESS [libFuzzer arguments]")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    atheris: Any = importlib.import_module("atheris")  # optional: the "fuzz" extra

    # imported here, not at the top: instrumentation applies to modules imported
    # inside this block
    with atheris.instrument_imports(include=["asyncmsgr", "fuzz.harnesses"]):
        from fuzz.harnesses import HARNESSES, run_one  # noqa: PLC0415

    logging.disable(logging.CRITICAL)  # the machines log every fault
    name = argv[1]
    harness = HARNESSES.get(name)
    if harness is None:
        raise SystemExit(f"unknown harness {name!r}; known: {', '.join(sorted(HARNESSES))}")

    def test_one_input(data: bytes) -> None:
        run_one(harness, data)

    # libFuzzer's -merge re-runs "argv[0] ARGS" through the shell: fuzz.run gives a
    # small executable wrapper for that
    argv0 = os.environ.get("FUZZ_TARGET_ARGV0", argv[0])
    atheris.Setup([argv0, *argv[2:]], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
