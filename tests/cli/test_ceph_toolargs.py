"""The quick reading of ``ceph``'s own options against argparse's ``parse_known_args``.

Wherever :func:`quick_parse` answers (it hands the rest to argparse), its
options and leftover arguments must be exactly argparse's, for the same parser.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncmsgr.cli.ceph_toolargs import (
    DEFAULTS,
    OPTIONS,
    ArgsExit,
    build_parser,
    parse_tool_args,
    quick_parse,
)

WORDS = [*OPTIONS, "--conn", "--wat", "--c", "-sw", "-cfoo", "--format=json", "--format=x",
         "--id=x", "--status=1", "json", "plain", "toml", "5", "-1", "1.5", "-0.5", "x",
         "osd", "tree", "-m", "-k", "--ms_foo", "--ms_foo=1", "--debug-ms", "--", "-",
         "--period=0", "-p0", "a b", "-x y"]


def argparse_answer(args: list[str]) -> tuple[dict[str, Any], list[str]] | str:
    try:
        ns, extras = build_parser(*_sinks()).parse_known_args(args)
    except ArgsExit as exc:
        return f"exit {exc.status}"
    return vars(ns), extras


def _sinks() -> tuple[Any, Any]:
    return io.StringIO(), io.StringIO()


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(WORDS), max_size=6))
def test_quick_parse_is_argparse(args: list[str]) -> None:
    quick = quick_parse(args)
    if quick is None:
        return
    ns, extras = quick
    assert (vars(ns), extras) == argparse_answer(args)


@pytest.mark.parametrize(("args", "want"), [
    (["-c", "c.conf", "-k", "k", "osd", "tree", "-f", "json"],
     ({"cephconf": "c.conf", "output_format": "json"}, ["-k", "k", "osd", "tree"])),
    (["--connect-timeout", "-1", "-s"], ({"cluster_timeout": -1, "status": True}, [])),
    (["status", "--", "-s"], ({}, ["status", "--", "-s"])),
    (["--ms_foo", "1", "version"], ({}, ["--ms_foo", "1", "version"])),
    (["--verbose", "-W", "*"], ({"verbose": True, "watch_channel": "*"}, [])),
])
def test_plain_lines_are_read_without_argparse(args: list[str],
                                               want: tuple[dict[str, Any], list[str]]) -> None:
    quick = quick_parse(args)
    assert quick is not None
    ns, extras = quick
    assert ({k: v for k, v in vars(ns).items() if v != DEFAULTS[k]}, extras) == want


@pytest.mark.parametrize("args", [["--conn", "5"], ["-sw"], ["-cfoo"], ["--format", "toml"],
                                  ["--id"], ["--status=1"], ["--help"], ["-p", "x"]])
def test_the_rest_goes_to_argparse(args: list[str]) -> None:
    assert quick_parse(args) is None
    theirs = argparse_answer(args)
    try:
        ours: Any = parse_tool_args(args, *_sinks())
        ours = (vars(ours[0]), ours[1])
    except ArgsExit as exc:
        ours = f"exit {exc.status}"
    assert ours == theirs
