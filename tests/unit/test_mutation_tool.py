"""mutation/run.py's bookkeeping (no mutmut run): explanations and stale patterns."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "mutation"))
import explained
import run


def test_every_explanation_is_a_valid_pattern_with_a_reason() -> None:
    for pattern, reason in explained.EXPLAINED:
        re.compile(pattern)
        assert reason.strip(), pattern


def test_explain_by_pattern_then_by_log_only_lines() -> None:
    pattern, reason = explained.EXPLAINED[0]
    name = "asyncmsgr.crypto.onwire.xǁ_NonceCounterǁ__init____mutmut_19"
    assert re.fullmatch(pattern, name)
    assert run.explain(name, []) == reason
    log_line = ['-    logger.debug("%r: x", self)', '+    logger.debug(None, self)']
    assert run.explain("asyncmsgr.x.y__mutmut_1", log_line) is not None
    assert run.explain("asyncmsgr.x.y__mutmut_1", ["-    a = 1", "+    a = 2"]) is None


def test_stale_explanations_are_the_patterns_matching_no_survivor(
        monkeypatch: pytest.MonkeyPatch) -> None:
    patterns = [p for p, _ in explained.EXPLAINED]
    live = "asyncmsgr.crypto.onwire.xǁ_NonceCounterǁ__init____mutmut_19"
    assert re.fullmatch(patterns[0], live)
    monkeypatch.setattr(run, "survivors", lambda c: [live] if c is run.MODULES[0] else [])
    stale = run.stale_explanations(list(run.MODULES))
    assert patterns[0] not in stale
    assert stale == [p for p in patterns if not re.fullmatch(p, live)]
