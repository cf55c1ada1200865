"""Every input that ever made a fuzz harness fail, replayed through the same
harness function (no atheris needed), and the committed corpus with a memory
bound.

``tests/fuzz/regressions/<harness>/<what-it-found>`` holds the inputs; each one
failed (or hung) before its fix and must now end, quickly, with nothing but the
harness's typed errors. Fixes: ``frames_v2/gcm-*`` (``crypto.onwire`` in place
under cryptography 51), ``messages/pool-op-reply-*`` (``cpp_strerror``),
``crush/*`` and ``osdmap/*`` (maps whose CRUSH mapping loops by design: the
harness does not map them).
"""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the harnesses are the top-level "fuzz" package
    sys.path.insert(0, str(ROOT))

from fuzz.harnesses import HARNESSES, TARGETS, run_one  # noqa: E402
from fuzz.harnesses.decoders import MESSAGE_TYPE_ORDER  # noqa: E402

HERE = Path(__file__).resolve().parent
REGRESSIONS = sorted((HERE / "regressions").glob("*/*"))
CORPUS = Path(__file__).resolve().parents[2] / "fuzz" / "corpus"
#: Corpus inputs replayed per harness under tracemalloc (a sample keeps CI short).
SAMPLE = 12


def test_every_regression_names_a_harness() -> None:
    assert REGRESSIONS
    for path in REGRESSIONS:
        assert path.parent.name in HARNESSES, path


@pytest.mark.parametrize("path", REGRESSIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_regression_input(path: Path) -> None:
    run_one(HARNESSES[path.parent.name], path.read_bytes())


def _sample(name: str) -> list[Path]:
    files = sorted((CORPUS / name).glob("*")) if (CORPUS / name).is_dir() else []
    files.sort(key=lambda p: p.stat().st_size)
    step = max(1, len(files) // SAMPLE)
    return files[::step][:SAMPLE] + files[-2:]


@pytest.mark.parametrize("name", TARGETS)
def test_corpus_sample_allocates_in_proportion(name: str) -> None:
    """Committed corpus inputs run clean, each allocating at most a fixed budget
    plus a small multiple of its size (no allocation from announced lengths)."""
    files = _sample(name)
    if not files:
        pytest.skip(f"no committed corpus for {name} (python -m fuzz.run --merge)")
    harness = HARNESSES[name]
    run_one(harness, files[0].read_bytes())  # first-use imports and caches
    for path in files:
        data = path.read_bytes()
        tracemalloc.start()
        try:
            run_one(harness, data)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak <= 8 * 2**20 + 64 * len(data), (path.name, peak)


def test_message_seeds_cover_every_registered_type() -> None:
    """Every class in MESSAGE_TYPES gets a seed (from a capture, else encoded)."""
    seeded = {MESSAGE_TYPE_ORDER[s[0] % len(MESSAGE_TYPE_ORDER)]
              for s in HARNESSES["messages"].seeds()}
    assert seeded == set(MESSAGE_TYPE_ORDER)
