"""fuzz/run.py's preflight: a harness package that does not import stops the run.

Campaign 2 recorded ``session_v2_secure`` with 0 executions: its process died
importing the harnesses (the tree was edited while the campaign ran) and the
runner counted that as a run. The runner now imports the harnesses once, as its
fuzzing processes will (this tree's ``src`` first on the path), before starting.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fuzz import run  # noqa: E402


def test_preflight_accepts_the_session_harnesses() -> None:
    assert run.preflight(["session_v2_crc", "session_v2_secure", "session_v1",
                          "session_v1_signed"]) is None


def test_preflight_names_an_unknown_harness() -> None:
    error = run.preflight(["session_v2_secure", "no_such_harness"])
    assert error is not None
    assert "no_such_harness" in error


def test_preflight_reports_a_broken_import(tmp_path: Path) -> None:
    # a copy of the harness package whose sessions module lost a name another imports
    copy = tmp_path / "tree"
    shutil.copytree(ROOT / "fuzz", copy / "fuzz",
                    ignore=shutil.ignore_patterns("work", "corpus", "crashes", "__pycache__"))
    sessions = copy / "fuzz" / "harnesses" / "sessions.py"
    sessions.write_text(sessions.read_text().replace("def cephx_auth(", "def _cephx_auth("))
    error = run.preflight(["session_v2_secure"], root=copy)
    assert error is not None
    assert "ImportError" in error
    assert "cephx_auth" in error


def test_a_run_stopped_from_outside_is_noted_and_resumed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A harness process that ends mid-run with no crash artifact (a signal) is
    restarted for the time left and noted, not reported as a harness error."""
    status = "#{n}\tNEW    cov: 10 ft: 20 corp: 3/9b lim: 4 exec/s: 0 rss: 60Mb\n"
    outcomes = [
        subprocess.CompletedProcess([], -9, "", status.format(n=3961)),
        subprocess.CompletedProcess([], 0, "", status.format(n=500)
                                    + "stat::number_of_executed_units: 500\n"),
    ]
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: outcomes.pop(0))
    res = run.run_harness("session_v2_secure", seconds=None, runs=10_000, max_len=64,
                          log_dir=tmp_path)
    assert res.execs == 4461
    assert res.errors == []
    assert res.interruptions == ["exit -9 after 3961 inputs, no crash artifact"]
    assert outcomes == []


def test_a_crash_without_an_artifact_line_is_a_crash(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Campaign 4: the harness's exception reached stdout, stderr stopped short of
    libFuzzer's artifact line; it is a crash all the same, not an interruption."""
    status = "#{n}\tNEW    cov: 10 ft: 20 corp: 3/9b lim: 4 exec/s: 0 rss: 60Mb\n"
    exception = (" === Uncaught Python exception: ===\nerror: argument out of range\n"
                 "Traceback (most recent call last):\n  File \"x.py\", line 1\n")
    outcomes = [
        subprocess.CompletedProcess([], 1, exception, status.format(n=3961)),
        subprocess.CompletedProcess([], 0, "", status.format(n=10)),
    ]
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: outcomes.pop(0))
    res = run.run_harness("session_v2_secure", seconds=None, runs=10_000, max_len=64,
                          log_dir=tmp_path)
    assert res.crashes == ["(input not written) error: argument out of range"]
    assert res.interruptions == []
