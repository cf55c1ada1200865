"""fuzz/run.py's preflight: a harness package that does not import stops the run.

Campaign 2 recorded ``session_v2_secure`` with 0 executions: its process died
importing the harnesses (the tree was edited while the campaign ran) and the
runner counted that as a run. The runner now imports the harnesses once, as its
fuzzing processes will (this tree's ``src`` first on the path), before starting.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

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
