"""A short coverage-guided run in CI, when atheris is installed.

One libFuzzer process runs the ``any`` harness (every target, picked by the
first byte) from a small corpus made of the committed corpora, for a few
seconds: the harnesses, the instrumentation and the oracle work end to end and
nothing but typed errors escapes. Long runs are ``fuzz/run.py --seconds N``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the harnesses are the top-level "fuzz" package
    sys.path.insert(0, str(ROOT))

from fuzz.harnesses import TARGETS, prefixed  # noqa: E402

SECONDS = 15
PER_HARNESS = 3

pytestmark = pytest.mark.skipif(importlib.util.find_spec("atheris") is None,
                                reason="atheris is not installed (pip install -e '.[fuzz]')")


@pytest.mark.timeout(240)
def test_short_coverage_guided_run(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in TARGETS:
        files = sorted((ROOT / "fuzz" / "corpus" / name).glob("*"),
                       key=lambda p: p.stat().st_size)[:PER_HARNESS]
        for i, path in enumerate(files):
            (corpus / f"{name}-{i}").write_bytes(prefixed(name, path.read_bytes()))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "fuzz.target", "any", str(corpus),
         f"-max_total_time={SECONDS}", "-timeout=10", "-rss_limit_mb=2048",
         f"-artifact_prefix={tmp_path}/", "-print_final_stats=1"],
        cwd=ROOT, env=env, capture_output=True, text=True, errors="replace", timeout=200,
        check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    execs = re.search(r"stat::number_of_executed_units:\s+(\d+)", proc.stderr)
    cov = re.findall(r" cov: (\d+) ft: (\d+)", proc.stderr)
    assert execs is not None, proc.stderr[-2000:]
    assert int(execs.group(1)) > 0
    assert cov
    assert int(cov[-1][0]) > 0
