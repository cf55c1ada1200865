"""pytest plugin for mutation runs (``-p hypothesis_no_deadline``): Hypothesis
tests without a deadline and derandomized. Under mutmut's tracing and a shared
machine a property test can exceed its 200 ms deadline and fail the clean run;
a mutant must be judged by the same examples every time."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("mutation", deadline=None, derandomize=True)
settings.load_profile("mutation")
