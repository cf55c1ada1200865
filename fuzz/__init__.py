"""Coverage-guided fuzzing of asyncmsgr (atheris / libFuzzer).

* :mod:`fuzz.harnesses`: the harness functions, one per target, registered in
  ``HARNESSES``; each takes the fuzzer's bytes and raises nothing but the
  exceptions its harness allows (the package's typed errors). They need no
  atheris: ``tests/fuzz`` replays the corpus and every input that ever found a
  bug through the same functions.
* :mod:`fuzz.target`: the libFuzzer entry point of one harness (a child process).
* :mod:`fuzz.run`: runs harnesses for a given time; reports execs, coverage,
  peak RSS and crashes (new crashing inputs go to ``fuzz/crashes/``).
* :mod:`fuzz.seeds`: builds the seed corpus from the captures in
  ``tests/data/captures`` and the map samples in ``tests/data``.
"""
