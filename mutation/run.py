"""Mutation testing of the cores with mutmut, per module, incremental, in a budget.

Each campaign (``MODULES``) mutates a few source files and selects the tests
that matter for them; it lives in its own work directory
``mutation/work/<name>/`` (a generated ``pyproject.toml`` with the
``[tool.mutmut]`` section for that campaign, and links to ``src`` and
``tests``), so its results stay there between runs: a rerun only tests the
mutants not tested yet and those of functions whose source changed (mutmut 3
keys results by a hash of each function). mutmut records which tests reach each
function in one traced run of the selection, then runs only those for each
mutant, each in a forked worker, stopping at the first failing test.

    nice -n 19 .venv/bin/python mutation/run.py [NAME ...] [--budget SECONDS]
        [--children N] [--report] [--rerun-survivors] [--keep-verdicts]
        [--survivors [--diffs]]

``--budget`` is per campaign (default 1200 s): when it runs out the campaign
is interrupted like Ctrl-C (results so far are kept; the next run continues).
``--report`` only prints the scores (and, without campaign names, writes
``mutation/score.md`` and ``mutation/survivors.md``);
``--rerun-survivors`` forgets the survivors' verdicts first (after new tests);
``--keep-verdicts`` after adding test files to a campaign's selection (mutmut
would otherwise reset every verdict).
Run it niced: the machine is shared.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutation" / "work"
SCORE = ROOT / "mutation" / "score.md"
SURVIVORS = ROOT / "mutation" / "survivors.md"
#: mutmut's timeout_multiplier for every campaign (see prepare)
TIMEOUT_MULTIPLIER = 3.0

sys.path.insert(0, str(Path(__file__).resolve().parent))
from explained import EXPLAINED, LOG_ONLY, NOT_KILLED  # noqa: E402


@dataclass(frozen=True)
class Campaign:
    """What one campaign mutates and which tests it gives mutmut to choose from."""

    name: str
    mutate: tuple[str, ...]
    tests: tuple[str, ...]
    pytest_args: tuple[str, ...] = ()


_PROTO_TESTS = ("tests/protocol", "tests/unit/test_integrity_checks.py",
                "tests/unit/test_kat_v1_signed_middle.py",
                "tests/unit/test_kat_rev1_empty_segments.py", "tests/unit/test_cephx_flow.py",
                "tests/unit/test_inject.py", "tests/unit/test_policy.py")
MODULES: tuple[Campaign, ...] = (
    Campaign("wire", ("src/asyncmsgr/wire/*",),
             ("tests/unit/test_wire.py", "tests/unit/test_wire_bounds.py",
              "tests/unit/test_crc32c.py",
              "tests/unit/test_kat_nested_versioned.py", "tests/unit/test_messages.py",
              "tests/unit/test_frames_v2.py", "tests/unit/test_frames_v1.py",
              "tests/unit/test_osd_types.py", "tests/unit/test_decode_keyring.py",
              "tests/vectors")),
    Campaign("frames", ("src/asyncmsgr/frames/*",),
             ("tests/unit/test_frames_v2.py", "tests/unit/test_frames_v1.py",
              "tests/unit/test_frames_details.py", "tests/unit/test_frames_bounds.py",
              "tests/unit/test_kat_v1_signed_middle.py",
              "tests/unit/test_integrity_checks.py",
              "tests/unit/test_assembler_fastpaths.py", "tests/unit/test_onwire_pool.py",
              "tests/unit/test_kat_rev1_empty_segments.py", "tests/vectors",
              "tests/protocol")),
    Campaign("crypto", ("src/asyncmsgr/crypto/*",),
             ("tests/unit/test_onwire_pool.py", "tests/unit/test_onwire_gcm.py",
              "tests/unit/test_onwire_probe.py",
              "tests/unit/test_frames_v2.py", "tests/unit/test_cephx_flow.py",
              "tests/protocol/test_v2_core.py", "tests/vectors")),
    Campaign("auth", ("src/asyncmsgr/auth/*",),
             ("tests/unit/test_cephx_crypto.py", "tests/unit/test_cephx_flow.py",
              "tests/unit/test_cephx_vectors.py", "tests/unit/test_decode_keyring.py",
              "tests/unit/test_integrity_checks.py", "tests/unit/test_kat_v1_signed_middle.py",
              "tests/protocol/test_v1_core.py", "tests/protocol/test_v2_core.py",
              "tests/unit/test_cephx_parallel_hunt.py", "tests/aio/test_cephx_messenger.py",
              "tests/aio/test_monclient_v1.py", "tests/aio/test_monclient_sync.py",
              "tests/vectors", "tests/unit/test_auth_basics.py",
              "tests/unit/test_auth_keyserver.py", "tests/unit/test_auth_server.py",
              "tests/unit/test_auth_client.py"),
             # property tests miss their 200 ms deadline under mutmut's tracing
             ("-p", "hypothesis_no_deadline")),
    Campaign("protocol-handshake",
             ("src/asyncmsgr/protocol/v2_handshake.py", "src/asyncmsgr/protocol/v1_handshake.py",
              "src/asyncmsgr/protocol/races.py", "src/asyncmsgr/protocol/session.py",
              "src/asyncmsgr/protocol/common.py", "src/asyncmsgr/protocol/events.py"),
             _PROTO_TESTS),
    Campaign("protocol-core",
             ("src/asyncmsgr/protocol/base.py", "src/asyncmsgr/protocol/v2.py",
              "src/asyncmsgr/protocol/v1.py", "src/asyncmsgr/protocol/rxbuffer.py"),
             _PROTO_TESTS),
    Campaign("message", ("src/asyncmsgr/message.py",),
             ("tests/unit/test_messages.py", "tests/unit/test_message_details.py",
              "tests/unit/test_message_fields.py",
              "tests/unit/test_integrity_checks.py",
              "tests/unit/test_osd_messages.py", "tests/unit/test_kat_v1_signed_middle.py",
              "tests/vectors", "tests/protocol")),
)
BY_NAME = {c.name: c for c in MODULES}

#: mutmut's exit codes by verdict (mutmut/stats.py)
KILLED = {1, 3, 36, 37, -24, 24, 152, 255, -11, -9}  # killed, timeout, type check, crash
SURVIVED = {0}
NO_TESTS = {5, 33}


def _toml_list(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def prepare(c: Campaign) -> Path:
    """The campaign's work directory: links to the tree and its own pyproject."""
    d = WORK / c.name
    d.mkdir(parents=True, exist_ok=True)
    for name in ("src", "tests"):
        link = d / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    base = (ROOT / "pyproject.toml").read_text()
    base = base.split("\n[tool.mutmut]")[0].rstrip() + "\n"
    base += (f"\n[tool.mutmut]\nsource_paths = [\"src\"]\n"
             f"only_mutate = {_toml_list(c.mutate)}\n"
             f"pytest_add_cli_args_test_selection = {_toml_list(c.tests)}\n"
             "pytest_add_cli_args = "
             f"{_toml_list(('-p', 'no:cacheprovider', *c.pytest_args, '-x', '-q'))}\n"
             "use_git_change_detection = false\n"
             # a mutant that hangs costs its CPU-time limit, (tests' time + 1 s) x
             # multiplier x 2: mutmut's default multiplier (15) made each hang of the
             # receive buffer's mutants cost minutes on this 2-core machine
             f"timeout_multiplier = {TIMEOUT_MULTIPLIER}\n")
    (d / "pyproject.toml").write_text(base)
    return d


def results(c: Campaign) -> dict[str, int | None]:
    """mutant name -> exit code (None: not tested yet), from the .meta files."""
    out: dict[str, int | None] = {}
    for meta in sorted((WORK / c.name / "mutants").rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        out.update(data.get("exit_code_by_key", {}))
    return out


def _fingerprint(items: tuple[str, ...]) -> str:
    """mutmut's hash of a config list (Config.config_fingerprint)."""
    return hashlib.sha256(repr(tuple(items)).encode()).hexdigest()[:12]


def keep_verdicts(c: Campaign) -> bool:
    """After tests were *added* to ``c``'s selection: make mutmut keep its verdicts.

    mutmut resets every result when the test selection changes. Added tests can only
    kill more, so killed mutants stay killed; the survivors are tested again with
    ``--rerun-survivors`` (mutmut traces the new tests first). True if changed.
    """
    stats = WORK / c.name / "mutants" / "mutmut-stats.json"
    if not stats.exists():
        return False
    data = json.loads(stats.read_text())
    fp = data.get("config_fingerprint") or {}
    new = _fingerprint(c.tests)
    if not fp or fp.get("test_selection") == new:
        return False
    fp["test_selection"] = new
    data["config_fingerprint"] = fp
    stats.write_text(json.dumps(data))
    return True


def forget_survivors(c: Campaign) -> int:
    """Drop the survivors' (and untested functions') verdicts so they run again."""
    n = 0
    for meta in (WORK / c.name / "mutants").rglob("*.py.meta"):
        data = json.loads(meta.read_text())
        codes = data.get("exit_code_by_key", {})
        for key, code in codes.items():
            if code in SURVIVED or code in NO_TESTS:
                codes[key] = None
                n += 1
        meta.write_text(json.dumps(data))
    return n


def run(c: Campaign, budget: float, children: int) -> float:
    """Run mutmut for ``c`` until done or ``budget`` seconds; the seconds it took."""
    d = prepare(c)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "mutation"),
                                                        os.environ.get("PYTHONPATH")])))
    mutmut = Path(sys.executable).parent / "mutmut"
    log = open(d / "mutmut.log", "w")  # noqa: SIM115 - closed below
    start = time.monotonic()
    proc = subprocess.Popen(["nice", "-n", "19", str(mutmut), "run", "--max-children",
                             str(children)], cwd=d, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        proc.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)  # mutmut keeps what it has
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    finally:
        log.close()
    return time.monotonic() - start


@dataclass(frozen=True)
class Score:
    """A campaign's counts."""

    name: str
    total: int
    killed: int
    survived: int
    no_tests: int
    untested: int

    @property
    def percent(self) -> float:
        """Killed among the tested mutants (no-test mutants count as not killed)."""
        done = self.total - self.untested
        return 100.0 * self.killed / done if done else 0.0


def score(c: Campaign) -> Score:
    codes = Counter(results(c).values())
    total = sum(codes.values())
    return Score(c.name, total, sum(n for k, n in codes.items() if k in KILLED),
                 sum(n for k, n in codes.items() if k in SURVIVED),
                 sum(n for k, n in codes.items() if k in NO_TESTS), codes[None])


def survivors(c: Campaign) -> list[str]:
    """The survivors and no-test mutants of ``c``."""
    return sorted(k for k, v in results(c).items() if v in SURVIVED or v in NO_TESTS)


_DIFFS = """
import json, sys
from pathlib import Path
from mutmut.mutation.diff_apply import get_diff_for_mutant
for meta in sorted(Path("mutants").rglob("*.py.meta")):
    codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
    src = Path(str(meta.relative_to("mutants"))[:-len(".meta")])
    for key in sorted(k for k, v in codes.items() if k in set(sys.argv[1:])):
        print("#", key)
        print(get_diff_for_mutant(key, path=src))
"""


def diffs(c: Campaign) -> str:
    """The survivors' diffs, as mutmut shows them (read in the campaign's directory)."""
    names = survivors(c)
    if not names:
        return ""
    out = subprocess.run([sys.executable, "-c", _DIFFS, *names], cwd=WORK / c.name,
                         capture_output=True, text=True, check=True)
    return out.stdout


def diffs_by_name(c: Campaign) -> dict[str, list[str]]:
    """Each survivor's changed lines (``-`` then ``+``)."""
    out: dict[str, list[str]] = {}
    name = ""
    for line in diffs(c).splitlines():
        if line.startswith("# "):
            name = line[2:]
            out[name] = []
        elif name and line[:1] in "-+" and not line.startswith(("---", "+++")):
            out[name].append(line)
    return out


def explain(name: str, changed: list[str]) -> str | None:
    """Why a survivor is equivalent, or None (see mutation/explained.py)."""
    for pattern, reason in EXPLAINED:
        if re.fullmatch(pattern, name):
            return reason
    if changed and all(any(re.fullmatch(p, line[1:]) for p in LOG_ONLY) for line in changed):
        return "changes only the arguments of a log call (the text of a log line)"
    return None


def survivors_md(campaigns: list[Campaign]) -> str:
    """mutation/survivors.md: every survivor, explained or not, with its change."""
    out = ["# Mutation survivors (mutation/run.py --report)", "",
           "Every mutant that survived its tests (or had none), per campaign: first those "
           "judged equivalent, grouped by the reason (mutation/explained.py), then those "
           "not explained yet, each with the lines it changes.", ""]
    for c in campaigns:
        changed = diffs_by_name(c)
        names = survivors(c)
        if not names:
            continue
        groups: dict[str, list[str]] = {}
        open_: list[str] = []
        for n in names:
            why = explain(n, changed.get(n, []))
            if why is None:
                open_.append(n)
            else:
                groups.setdefault(why, []).append(n)
        done = len(names) - len(open_)
        out += [f"## {c.name}: {len(names)} survivors, {done} explained, "
                f"{len(open_)} not explained", ""]
        for why, group in groups.items():
            out.append(f"- **equivalent** ({len(group)}): {why}")
            out += [f"  - `{n}`" for n in group]
        if groups:
            out.append("")
        if open_:
            out.append("Not explained:")
            out.append("")
            for n in open_:
                lines = changed.get(n, [])
                why = next((r for pat, r in NOT_KILLED if re.fullmatch(pat, n)), None)
                out.append(f"- `{n}`" + (f": not killed yet: {why}" if why else ""))
                out += ["  ```", *("  " + line for line in lines[:6]), "  ```"]
            out.append("")
    return "\n".join(out) + "\n"


def stale_explanations(campaigns: list[Campaign]) -> list[str]:
    """Patterns of mutation/explained.py that match no survivor of ``campaigns``
    (killed since, or their mutant changed): to be removed, not kept as noise."""
    names = [n for c in campaigns for n in survivors(c)]
    return [pat for pat, _ in EXPLAINED if not any(re.fullmatch(pat, n) for n in names)]


def report(campaigns: list[Campaign], took: dict[str, float]) -> str:
    lines = ["| campaign | mutants | killed | survived | no tests | not run | score "
             "| explained equivalent | score of the rest |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in campaigns:
        s = score(c)
        if not s.total:
            lines.append(f"| {s.name} | not run | | | | | | | |")
            continue
        changed = diffs_by_name(c)
        eq = sum(1 for n in survivors(c) if explain(n, changed.get(n, [])) is not None)
        rest = s.total - s.untested - eq
        adjusted = 100.0 * s.killed / rest if rest else 0.0
        lines.append(f"| {s.name} | {s.total} | {s.killed} | {s.survived} | {s.no_tests} "
                     f"| {s.untested} | {s.percent:.1f} % | {eq} | {adjusted:.1f} % |")
    lines += ["", "score: killed / tested; score of the rest: killed / (tested - the "
              "survivors explained as equivalent in mutation/explained.py)."]
    if took:
        lines.append("")
        lines.append("Wall time this run: " + ", ".join(
            f"{name} {secs:.0f} s" for name, secs in took.items()))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"campaigns (default all: {', '.join(BY_NAME)})")
    ap.add_argument("--budget", type=float, default=1200.0, help="seconds per campaign")
    ap.add_argument("--children", type=int, default=2, help="parallel mutant workers")
    ap.add_argument("--report", action="store_true", help="scores only, run nothing")
    ap.add_argument("--rerun-survivors", action="store_true",
                    help="test the survivors again (after adding tests)")
    ap.add_argument("--keep-verdicts", action="store_true",
                    help="tests were only added to the selection: keep the verdicts")
    ap.add_argument("--survivors", action="store_true", help="list the survivors")
    ap.add_argument("--diffs", action="store_true", help="with --survivors: their diffs")
    args = ap.parse_args(argv)
    # A shell's background job starts with SIGINT ignored, and an ignored signal stays
    # ignored across exec: handle it again so that mutmut (which inherits a handled
    # signal as the default) stops on the budget's SIGINT like on Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    unknown = [n for n in args.names if n not in BY_NAME]
    if unknown:
        ap.error(f"unknown campaigns {unknown}; known: {list(BY_NAME)}")
    campaigns = [BY_NAME[n] for n in args.names] or list(MODULES)
    took: dict[str, float] = {}
    if args.survivors:
        for c in campaigns:
            if args.diffs:
                print(diffs(c), end="")
                continue
            for name in survivors(c):
                print(f"{c.name}\t{name}")
        return 0
    if not args.report:
        for c in campaigns:
            if args.keep_verdicts and keep_verdicts(c):
                print(f"{c.name}: test selection widened, verdicts kept")
            if args.rerun_survivors and (WORK / c.name / "mutants").exists():
                print(f"{c.name}: {forget_survivors(c)} survivors to test again")
            took[c.name] = run(c, args.budget, args.children)
            s = score(c)
            print(f"{c.name}: {s.killed}/{s.total - s.untested} killed ({s.percent:.1f} %), "
                  f"{s.untested} not run, {took[c.name]:.0f} s", flush=True)
    text = report(campaigns, took)
    print(text)
    if not args.names:  # all campaigns: the files list every one of them
        SCORE.write_text("# Mutation score (mutation/run.py)\n\n" + text)
        SURVIVORS.write_text(survivors_md(campaigns))
        for pat in stale_explanations(campaigns):
            print(f"explained.py: {pat!r} matches no survivor (remove it)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
