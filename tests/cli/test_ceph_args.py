"""``asyncmsgr.cli.ceph_args`` against the real ``ceph_argparse`` (Pacific 16.2.15).

The command descriptions in ``tests/data/ceph_cli`` were fetched from a real
mon + mgr + OSD cluster (``get_command_descriptions``). Every command line here
is validated by both implementations and must give the same JSON fields and
the same stderr lines. The real module (``ceph-common``'s
``/usr/lib/python3/dist-packages/ceph_argparse.py``) is loaded from its file;
without it these oracle tests skip, and the table-driven ones below still run.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import json
import string
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncmsgr.cli import ceph_args as ca

DATA = Path(__file__).resolve().parent.parent / "data" / "ceph_cli"
REAL = Path("/usr/lib/python3/dist-packages/ceph_argparse.py")


def _load_real() -> ModuleType | None:
    if not REAL.exists():
        return None
    spec = importlib.util.spec_from_file_location("real_ceph_argparse", REAL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


real = _load_real()
needs_real = pytest.mark.skipif(real is None, reason="ceph-common's ceph_argparse.py absent")


def _text(kind: str) -> str:
    return (DATA / f"descriptions.{kind}.json").read_text()


OURS = {kind: ca.parse_descriptions(_text(kind)) for kind in ("mon", "mgr", "osd")}


def _jsonable(d: dict[str, Any]) -> Any:
    return json.loads(json.dumps(d))


_REAL_SIGS: dict[str, Any] = {}


def _real_sigs(kind: str) -> Any:
    assert real is not None
    if kind not in _REAL_SIGS:
        _REAL_SIGS[kind] = real.parse_json_funcsigs(_text(kind), "cli")
    return _REAL_SIGS[kind]


def real_validate(kind: str, args: list[str]) -> list[Any]:
    """[fields, stderr lines] of the real ``validate_command``."""
    assert real is not None
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            d = real.validate_command(_real_sigs(kind), args)
        except Exception as exc:  # the real tool crashes on some words
            return [["crash", type(exc).__name__], []]
    return [_jsonable(d), err.getvalue().splitlines()]


def _ours(kind: str, args: list[str]) -> list[Any]:
    v = ca.validate_command(OURS[kind], args)
    return [_jsonable(v.args), v.messages]


#: Command lines checked against what the real ``ceph_argparse`` made of them
#: (fields and stderr lines), recorded in ``validate_golden.json`` by
#: ``python tests/cli/test_ceph_args.py --record`` (the real module takes 0.1 s a
#: line); ``test_golden_is_ceph`` re-checks a sample against it on every run.
GOLDEN_PATH = DATA / "validate_golden.json"
CASES: dict[str, list[str]] = {
    "mon": [
        "status", "-s", "health detail", "osd tree", "osd tree 3 up", "osd tree extra",
        "osd pool ls detail", "osd pool get test size", "osd pool get test foo",
        "osd pool create", "osd pool create p 8 8 replicated", "osd pool create p --pg_num 16",
        "osd pool create p --pg-num=16 --bulk", "osd pool create p abc",
        "osd pool set test size abc", "osd pool set test size 2 --yes-i-really-mean-it",
        "pg map 1.zz", "pg map 1.0", "pg map -1.0", "pg map 10", "osd down abc",
        "osd down 0 1 osd.2", "osd set-full-ratio 2", "osd set-full-ratio 0.9",
        "osd reweight 0 1.5", "osd reweight osd.0 0.5", "osd reweight foo.0 0.5",
        "osd reweight -1 0.5", "mon dump 1 2", "mon dump", "mon dump 0x10",
        "config set", "config set osd debug_osd 20", "config get mon.a", "frobnicate",
        "osd", "osd pool", "osd po", "pg dump all pgs", "pg dump nope", "pg ls 1 active",
        "osd blocklist add 1.2.3.4/5x", "osd blocklist add 1.2.3.4:6789/12",
        "osd blocklist add 1.2.3.4:99999/1", "osd blocklist add v2:1.2.3.4:3300/1",
        "osd blocklist add ::1/3", "osd blocklist add 1.2.3/1", "osd blocklist rm 1.2.3.4",
        "auth get client.admin", "auth get-or-create client.x mon 'allow r'",
        "auth caps client.x mon allow", "osd crush add osd.0 1.0 host=a root=default",
        "osd crush add osd.0 abc", "osd pool set-quota test max_objects 10",
        "osd pool application enable test rbd",
        "osd pool application enable test rbd --yes-i-really-mean-it",
        "osd new 5a1d0c1e-0000-4000-8000-000000000001", "osd new nope",
        "osd ok-to-stop 0 1 --max 3", "osd safe-to-destroy 0,1", "osd pool stats",
        "log hello world", "log last 10 info cluster", "log last 10 loud",
        "osd erasure-code-profile set p k=2 m=1", "mgr module enable nope --force",
        "osd pool rename a b", "osd pool delete test", "config-key set k v", "quorum_status",
        "osd getmaxosd", "osd map test obj", "osd map test obj ns", "fs ls", "--format json",
        "osd pool get test size --format json", "osd tree --states=up,down",
        "osd tree --states up", "osd tree --epoch=1", "osd tree --epoch", "osd tree --bogus",
        "osd pool create p --autoscale-mode warn", "osd pool create p --autoscale_mode maybe",
        "osd crush rule create-replicated r default host", "osd pool mksnap test s",
        "pg repeer 1.0", "pg ls-by-pool test", "mon add x 1.2.3.4", "mon add x 1.2.3.4:99999",
        "osd primary-affinity 0 2", "osd set noout", "osd set nope", "injectargs --debug_ms 1",
        "tell osd.0 version", "pg dump_stuck inactive 10", "osd df tree", "osd df plain",
        "balancer status", "osd pool autoscale-status", "iostat", "iostat 5 --print-header",
        "", "auth ls", "auth get client.nobody", "osd pool ls detail extra",
        "osd crush tree --show-shadow", "osd crush dump", "osd utilization", "versions",
        "osd count-metadata os", "mon stat", "osd stat", "mgr stat", "osd pool get-quota test",
        "config dump", "config log 5", "config-key ls", "osd crush rule ls", "df detail",
        "osd tree 1 2", "osd tree -1", "time-sync-status", "osd dump 99999999999",
        "osd pool set test pg_num -5", "osd pool set test nosuchvar 1", "node ls osd",
        "osd erasure-code-profile get default", "osd lspools", "auth print-key client.admin",
    ],
    "osd": ["version", "perf dump", "dump_ops_in_flight", "injectargs --debug_osd 20",
            "config get osd_op_threads", "bench 1024 4096", "bench abc", "nope", "smart 10",
            "config set a b c", "cache drop", "heap stats", "status", "config show"],
    "mgr": ["pg stat", "pg dump pgs_brief", "osd df", "osd perf", "osd pool stats test",
            "config show osd.0", "device ls", "mgr nope", "pg ls-by-osd 0 1", "version",
            "osd status", "iostat -p"],
}


def _record() -> None:
    golden = {kind: {line: real_validate(kind, line.split()) for line in lines}
              for kind, lines in CASES.items()}
    GOLDEN_PATH.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")


GOLDEN: dict[str, dict[str, Any]] = (json.loads(GOLDEN_PATH.read_text())
                                     if GOLDEN_PATH.exists() else {})


@pytest.mark.parametrize(("kind", "line"), [(k, line) for k, v in CASES.items() for line in v])
def test_validation_matches_ceph(kind: str, line: str) -> None:
    """Fields and stderr lines as the real ``validate_command`` gave them."""
    assert _ours(kind, line.split()) == GOLDEN[kind][line]


@needs_real
@pytest.mark.parametrize(("kind", "line"), [
    ("mon", "osd tree extra"), ("mon", "frobnicate"), ("mon", "osd pool create"),
    ("mon", "osd pool create p --pg-num=16 --bulk"), ("mon", "osd blocklist add ::1/3"),
    ("osd", "bench abc"), ("mgr", "pg dump pgs_brief")])
def test_golden_is_ceph(kind: str, line: str) -> None:
    """The recorded answers are still what the installed ``ceph_argparse`` says."""
    assert real_validate(kind, line.split()) == GOLDEN[kind][line]


def _vocabulary() -> list[str]:
    words: set[str] = set()
    for cmd in OURS["mon"].values():
        for desc in cmd.sig:
            inst = desc.instance
            if isinstance(inst, ca.CephPrefix):
                words.add(inst.prefix)
            elif isinstance(inst, ca.CephChoices):
                words.update(inst.strings[:3])
            words.add(f"--{desc.name}")
    return [*sorted(words), "0", "1", "-1", "1.5", "0x10", "1.0", "osd.0", "abc", "a,b",
            "--yes-i-really-mean-it", "1.2.3.4", "true", "*", ""]


VOCAB = _vocabulary()


@needs_real
@settings(max_examples=15, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(VOCAB), min_size=0, max_size=6))
def test_random_word_lists_match_ceph(words: list[str]) -> None:
    assert _ours("mon", words) == real_validate("mon", words)


@needs_real
@pytest.mark.parametrize("line", ["tell osd.0 version", "tell mon.a version", "tell mgr",
                                  "tell mgr.x help", "tell 1.0 query", "tell osd.* version",
                                  "pg 1.0 query", "pg map 1.0", "status", "tell * version",
                                  "tell mon version", "osd tree", "", "pg", "tell"])
def test_find_cmd_target_matches_ceph(line: str) -> None:
    assert real is not None
    args = line.split()
    assert list(ca.find_cmd_target(args)) == list(real.find_cmd_target(args))


@needs_real
@pytest.mark.parametrize("line", ["tell foo version", "tell osd.x version", "tell bad.0 x"])
def test_find_cmd_target_errors_match_ceph(line: str) -> None:
    assert real is not None
    with pytest.raises(real.ArgumentError) as theirs:
        real.find_cmd_target(line.split())
    with pytest.raises(ca.ArgumentError) as ours:
        ca.find_cmd_target(line.split())
    assert str(ours.value) == str(theirs.value)


def _real_cli_functions() -> dict[str, Any] | None:
    """``wrap`` and ``format_help`` from the real ``/usr/bin/ceph`` (its module body
    needs librados, so only these function definitions are executed)."""
    script = Path("/usr/bin/ceph")
    if real is None or not script.exists():
        return None
    tree = ast.parse(script.read_text())
    wanted = [node for node in tree.body if isinstance(node, ast.FunctionDef | ast.Assign)
              and (getattr(node, "name", None) in ("wrap", "format_help")
                   or any(isinstance(t, ast.Name) and t.id == "DONTSPLIT"
                          for t in getattr(node, "targets", [])))]
    namespace: dict[str, Any] = {"string": string, "Flag": real.Flag,
                                 "concise_sig": real.concise_sig,
                                 "descsort_key": real.descsort_key}
    body: list[ast.stmt] = list(wanted)
    exec(compile(ast.Module(body=body, type_ignores=[]), str(script), "exec"), namespace)
    return namespace


REAL_CLI = _real_cli_functions()


@pytest.mark.skipif(REAL_CLI is None, reason="ceph-common's ceph tool absent")
@pytest.mark.parametrize(("kind", "cols", "partial"), [("mon", 80, None), ("mon", 120, "osd pool"),
                                                       ("osd", 80, None), ("mgr", 57, "pg")])
def test_help_matches_ceph(kind: str, cols: int, partial: str | None) -> None:
    """``ceph -h``'s command table, as the real tool's own ``format_help`` prints it."""
    assert REAL_CLI is not None

    class Termsize:
        def __init__(self) -> None:
            self.rows, self.cols = 25, cols

    REAL_CLI["Termsize"] = Termsize
    theirs = REAL_CLI["format_help"](_real_sigs(kind), partial=partial)
    assert ca.format_help(OURS[kind], columns=cols, partial=partial) == theirs


@pytest.mark.skipif(REAL_CLI is None, reason="ceph-common's ceph tool absent")
@pytest.mark.parametrize(("text", "width", "indent"), [
    ("long string long string long string", 11, 1), ("abcdefghij", 4, 2),
    ("osd pool get <pool> size|min_size|pg_num", 20, 1), ("", 5, 1), ("a b", 2, 1)])
def test_wrap_matches_ceph(text: str, width: int, indent: int) -> None:
    assert REAL_CLI is not None
    assert ca.wrap(text, width, indent) == list(REAL_CLI["wrap"](text, width, indent))


# -- table-driven checks that run without ceph-common -------------------------------------

@pytest.mark.parametrize(("line", "want", "messages"), [
    ("osd pool get test size", {"prefix": "osd pool get", "pool": "test", "var": "size"}, []),
    ("osd tree --states=up,down", {"prefix": "osd tree", "states": ["up", "down"]}, []),
    ("pg stat", {"prefix": "pg stat", "target": ["mon-mgr", ""]}, []),
    ("osd set-full-ratio 2", {}, [
        "Invalid command: 2.0 not in range [0.0, 1.0]",
        "osd set-full-ratio <ratio:float> :  set usage ratio at which OSDs are marked full"]),
    ("osd tree extra", {}, [
        "extra not valid:  extra not in up|down|in|out|destroyed",
        "Invalid command: unused arguments: ['extra']",
        "osd tree [<epoch:int>] [up|down|in|out|destroyed...] :  print OSD tree"]),
])
def test_validate_command_table(line: str, want: dict[str, Any], messages: list[str]) -> None:
    v = ca.validate_command(OURS["mon"], line.split())
    assert _jsonable(v.args) == want
    assert v.messages == messages


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ca.JsonFormat, match="unknown type CephNope"):
        ca.parse_descriptions('{"cmd0": {"sig": ["x", {"type": "CephNope", "name": "a"}]}}')
    with pytest.raises(ca.JsonFormat, match="has no 'sig'"):
        ca.parse_descriptions('{"cmd0": {"help": "x"}}')
    assert ca.parse_descriptions('{"c": {"sig": ["x"], "avail": "rest"}}') == {}


def test_types() -> None:
    assert ca.CephInt("0|10").valid("0x0a") == 10
    with pytest.raises(ca.ArgumentValid, match=r"11 not in range \[0, 10\]"):
        ca.CephInt("0|10").valid("11")
    with pytest.raises(ca.ArgumentValid, match="doesn't represent an int"):
        ca.CephInt().valid("1.5")
    assert ca.CephOsdName().valid("osd.3") == 3
    with pytest.raises(ca.ArgumentFormat, match="less than 0"):
        ca.CephOsdName().valid("-1")
    assert ca.CephBool().valid("TRUE") is True
    with pytest.raises(ca.ArgumentFormat, match="invalid chars / in a/b"):
        ca.CephString("[A-Za-z]").valid("a/b")
    with pytest.raises(ca.ArgumentFormat, match="pgnum zz not hex"):
        ca.CephPgid().valid("1.zz")
    with pytest.raises(ca.ArgumentValid, match="invalid entity"):
        ca.CephEntityAddr().valid("1.2.3.4/x")
    with pytest.raises(ca.ArgumentValid):
        ca.CephEntityAddr().valid("1.2.3.4/1/2")
    with pytest.raises(ca.ArgumentValid):
        ca.CephIPAddr().valid("[::1]:x")
    assert ca.CephIPAddr().valid("[::1]") == "[::1]"
    with pytest.raises(ca.ArgumentFormat, match="can't convert 0x1 to integer"):
        ca.CephFragment().valid("0x1/2")
    with pytest.raises(ca.ArgumentFormat, match="invalid UUID"):
        ca.CephUUID().valid("nope")
    assert ca.parse_name("osd.4") == ("osd", 4)
    assert ca.parse_name("mgr") == ("mgr", None)
    assert ca.find_cmd_target(["pg", "2.1f", "query"]) == ("pg", "2.1f")


def test_wrap() -> None:
    """Breaks before the last run of letters that does not fit; a run longer
    than the width is cut."""
    assert ca.wrap("long string long string", 11, 1) == ["long ", " string ", " long ",
                                                          " string"]
    assert ca.wrap("abcdefghij", 4, 2) == ["abcd", "  efg", "  hij"]


if __name__ == "__main__" and "--record" in sys.argv:
    _record()
