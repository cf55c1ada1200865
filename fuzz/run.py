"""Run the fuzz harnesses and report: ``fuzz/run.py --seconds N [--harness NAME]...``.

Each harness runs in its own process (:mod:`fuzz.target`, atheris/libFuzzer) for
``--seconds`` (or ``--runs`` inputs), on the committed corpus ``fuzz/corpus/NAME``
(built from the captures by :mod:`fuzz.seeds` when missing) plus a working
corpus ``fuzz/work/NAME`` that keeps what this machine found. The report gives,
per harness: executions, executions per second, libFuzzer's coverage figures
(``cov``: edges, ``ft``: features), corpus size, peak RSS and crashes. A crash
(an exception other than the harness's typed errors, a timeout or an RSS blow-up)
is written to ``fuzz/crashes/`` and the harness is restarted for the time left.

``--merge`` minimises ``fuzz/corpus/NAME`` with what ``fuzz/work/NAME`` found
(libFuzzer ``-merge=1``): the committed corpus stays small. ``--json FILE`` writes the
figures. Exit status: 1 when any harness crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from fuzz.harnesses import HARNESSES, TARGETS  # noqa: E402
from fuzz.seeds import write_seeds  # noqa: E402

FUZZ = ROOT / "fuzz"
CRASHES = FUZZ / "crashes"
#: libFuzzer per-input time limit (seconds): a longer input is reported as a hang.
INPUT_TIMEOUT = 10
#: libFuzzer RSS limit (MiB): past it, the input is reported as a memory blow-up.
RSS_LIMIT_MB = 2048
MAX_RESTARTS = 8

_STATUS = re.compile(r"^#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+) corp: (\d+)/")
_STAT = re.compile(r"^stat::(\w+):\s+(\d+)")
_ARTIFACT = re.compile(r"Test unit written to (\S+)")
_CRASHED = re.compile(r"Uncaught Python exception|libFuzzer: (deadly signal|timeout|"
                      r"out-of-memory|fuzz target exited)")


@dataclass(slots=True)
class Result:
    """One harness's figures over its run (all restarts)."""

    harness: str
    execs: int = 0
    seconds: float = 0.0
    cov: int = 0
    ft: int = 0
    corpus: int = 0
    peak_rss_mb: int = 0
    crashes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    interruptions: list[str] = field(default_factory=list)

    @property
    def execs_per_sec(self) -> float:
        """Executions per second of wall time."""
        return self.execs / self.seconds if self.seconds else 0.0


def _env(root: Path = ROOT) -> dict[str, str]:
    # this tree's package and harnesses, not whatever the venv's editable install
    # points at: a copy of the tree (``git archive``) fuzzes its own code
    env = dict(os.environ)
    ours = os.pathsep.join([str(root), str(root / "src")])
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = f"{ours}{os.pathsep}{path}" if path else ours
    return env


def preflight(names: list[str], root: Path = ROOT) -> str | None:
    """Import the harness package as the fuzzing processes will; the error, if any.

    A harness process that dies while importing used to count as a zero-exec run
    (campaign 2's ``session_v2_secure``: the tree was edited while it ran); the
    runner now refuses to start instead.
    """
    code = ("import sys; from fuzz.harnesses import HARNESSES; "
            "missing = [n for n in sys.argv[1:] if n not in HARNESSES]; "
            "sys.exit('unknown: ' + ' '.join(missing) if missing else 0)")
    proc = subprocess.run([sys.executable, "-c", code, *names], cwd=root, env=_env(root),
                          capture_output=True, text=True, errors="replace", check=False)
    if proc.returncode == 0:
        return None
    lines = proc.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit {proc.returncode}"


def tree_state() -> str:
    """``<commit>`` of the tree being fuzzed, ``+dirty`` when it has local edits."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "fuzz/harnesses",
                                "fuzz/target.py"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        marker = ROOT / "fuzz" / "work" / "TREE"  # a git-archive copy names its commit here
        return marker.read_text().strip() if marker.is_file() else "unknown"
    return head + ("+dirty" if dirty else "")


def _corpus_dirs(name: str) -> tuple[Path, Path]:
    committed = FUZZ / "corpus" / name
    work = FUZZ / "work" / name
    if not committed.is_dir() or not any(committed.iterdir()):
        write_seeds(FUZZ / "corpus", [name])
    work.mkdir(parents=True, exist_ok=True)
    return work, committed


def _parse(text: str, res: Result, run_execs: list[int]) -> None:
    execs = 0
    for line in text.splitlines():
        m = _STATUS.match(line)
        if m:
            execs = int(m.group(1))
            res.cov, res.ft, res.corpus = int(m.group(2)), int(m.group(3)), int(m.group(4))
            continue
        m = _STAT.match(line)
        if m:
            key, value = m.group(1), int(m.group(2))
            if key == "number_of_executed_units":
                execs = value
            elif key == "peak_rss_mb":
                res.peak_rss_mb = max(res.peak_rss_mb, value)
    run_execs.append(execs)


def _what_crashed(text: str) -> str:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "Uncaught Python exception" in line:
            tail = [x for x in lines[i + 1 : i + 80] if x and not x.startswith((" ", "Trace"))]
            return tail[0][:200] if tail else "exception"
        if "libFuzzer: timeout" in line:
            return "timeout (hang)"
        if "out-of-memory" in line:
            return "out of memory"
    return "crash"


def run_harness(name: str, *, seconds: float | None, runs: int | None,
                max_len: int, log_dir: Path) -> Result:
    """Run one harness until its time (or runs) is used up, restarting after crashes."""
    res = Result(harness=name)
    work, committed = _corpus_dirs(name)
    CRASHES.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    run_execs: list[int] = []
    log = log_dir / f"{name}.log"
    with log.open("w") as logf:
        for _ in range(MAX_RESTARTS + 1):
            args = [sys.executable, "-m", "fuzz.target", name, str(work), str(committed),
                    f"-max_len={max_len}", f"-timeout={INPUT_TIMEOUT}",
                    f"-rss_limit_mb={RSS_LIMIT_MB}", "-print_final_stats=1",
                    f"-artifact_prefix={CRASHES}/{name}-", "-print_pcs=0"]
            if runs is not None:
                args.append(f"-runs={max(runs - sum(run_execs), 1)}")
            if seconds is not None:
                left = seconds - (time.monotonic() - start)
                if left < 1:
                    break
                args.append(f"-max_total_time={int(left)}")
            proc = subprocess.run(args, cwd=ROOT, env=_env(), capture_output=True,
                                  text=True, errors="replace", check=False)
            logf.write(proc.stdout)
            logf.write(proc.stderr)
            _parse(proc.stderr, res, run_execs)
            if proc.returncode == 0:
                break
            artifacts = _ARTIFACT.findall(proc.stderr)
            both = proc.stdout + proc.stderr  # atheris prints the exception on stdout
            if not artifacts and _CRASHED.search(both):
                # a crash whose input libFuzzer did not report writing (campaign 4's
                # session_v2_secure: the exception on stdout, stderr cut short)
                res.crashes.append(f"(input not written) {_what_crashed(both)}")
                continue
            if not artifacts and run_execs[-1]:
                # stopped mid-run with nothing to blame (a signal from outside):
                # note it, run the time left
                res.interruptions.append(f"exit {proc.returncode} after {run_execs[-1]} "
                                         "inputs, no crash artifact")
                continue
            if not artifacts:  # died before fuzzing (bad harness, import error)
                res.errors.append(proc.stderr.strip().splitlines()[-1:][0][:300]
                                  if proc.stderr.strip() else f"exit {proc.returncode}")
                break
            res.crashes += [f"{a}: {_what_crashed(proc.stderr)}" for a in artifacts]
            if runs is not None and sum(run_execs) >= runs:
                break
    res.execs = sum(run_execs)
    res.seconds = time.monotonic() - start
    return res


def merge(name: str) -> int:
    """Minimise ``fuzz/corpus/NAME`` with ``fuzz/work/NAME``; the new file count."""
    work, committed = _corpus_dirs(name)
    new = committed.with_name(name + ".merging")
    if new.exists():
        shutil.rmtree(new)
    new.mkdir()
    args = [sys.executable, "-m", "fuzz.target", name, "-merge=1", str(new), str(committed),
            str(work), f"-max_len={HARNESSES[name].max_len}", f"-timeout={INPUT_TIMEOUT}",
            f"-artifact_prefix={CRASHES}/{name}-"]
    # libFuzzer's merge runs its inner pass as "argv[0] ARGS" through the shell
    wrapper = FUZZ / "work" / f"merge-{name}.sh"
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m fuzz.target "
                       f"{shlex.quote(name)} \"$@\"\n")
    wrapper.chmod(0o755)
    env = {**_env(), "FUZZ_TARGET_ARGV0": str(wrapper)}
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True,
                          text=True, errors="replace", check=False)
    if proc.returncode != 0 or not any(new.iterdir()):
        shutil.rmtree(new)
        raise RuntimeError(f"merge of {name} failed: {proc.stderr[-500:]}")
    shutil.rmtree(committed)
    new.rename(committed)
    return sum(1 for _ in committed.iterdir())


def _table(results: list[Result]) -> str:
    head = (f"{'harness':24} {'execs':>10} {'exec/s':>8} {'cov':>6} {'ft':>7} "
            f"{'corpus':>6} {'rss MB':>6} crashes")
    rows = [head, "-" * len(head)]
    for r in results:
        rows.append(f"{r.harness:24} {r.execs:10d} {r.execs_per_sec:8.0f} "
                    f"{r.cov:6d} {r.ft:7d} {r.corpus:6d} {r.peak_rss_mb:6d} "
                    f"{len(r.crashes)}{' ERROR' if r.errors else ''}")
    total = sum(r.execs for r in results)
    rows.append(f"{'total':24} {total:10d}")
    for r in results:
        rows += [f"  {r.harness}: {c}" for c in r.crashes]
        rows += [f"  {r.harness}: error: {e}" for e in r.errors]
        rows += [f"  {r.harness}: interrupted: {e}" for e in r.interruptions]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, help="time per harness")
    p.add_argument("--runs", type=int, help="inputs per harness (instead of --seconds)")
    p.add_argument("--harness", action="append", choices=sorted(HARNESSES),
                   help="run only these (repeatable); default: all")
    p.add_argument("--jobs", type=int, default=1, help="harnesses run at the same time")
    p.add_argument("--merge", action="store_true",
                   help="minimise fuzz/corpus/NAME with what the run found")
    p.add_argument("--json", type=Path, help="write the figures to this file")
    args = p.parse_args(argv)
    if args.seconds is None and args.runs is None:
        p.error("give --seconds or --runs")
    names = args.harness or list(TARGETS)  # "any" (the multiplexer) only when named
    error = preflight(names)
    if error is not None:
        print(f"the harnesses do not import: {error}", file=sys.stderr)
        return 2
    tree = tree_state()
    print(f"fuzzing tree {tree}", flush=True)
    log_dir = FUZZ / "work" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    if args.jobs <= 1:
        for n in names:
            results.append(run_harness(n, seconds=args.seconds, runs=args.runs,
                                       max_len=HARNESSES[n].max_len, log_dir=log_dir))
            print(_table(results[-1:]).splitlines()[2], flush=True)
    else:
        with ThreadPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(run_harness, n, seconds=args.seconds, runs=args.runs,
                                   max_len=HARNESSES[n].max_len, log_dir=log_dir)
                       for n in names]
            results = [f.result() for f in futures]
    if args.merge:
        for n in names:
            print(f"merged {n}: {merge(n)} inputs in fuzz/corpus/{n}")
    print(_table(results))
    if args.json:
        args.json.write_text(json.dumps(
            [{**asdict(r), "execs_per_sec": round(r.execs_per_sec, 1), "tree": tree}
             for r in results],
            indent=1))
    return 1 if any(r.crashes or r.errors for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
