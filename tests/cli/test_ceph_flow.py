"""``asyncmsgr ceph``'s flow on a fake session: where commands go and what is printed.

The session answers ``get_command_descriptions`` with the descriptions a real
cluster served (``tests/data/ceph_cli``) and records every command; the checks
are ``ceph``'s rules (``/usr/bin/ceph`` ``main()``): the JSON sent and its
target, the blank line before JSON output, the ``TARGET: `` prefixes of a ``*``
tell, ``-o``, polling, ``-w`` lines and channels, the exit statuses.
"""

from __future__ import annotations

import errno
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asyncmsgr.cli.ceph_commands import Flow, Output, ToolOptions, format_stamp, watch_level
from asyncmsgr.messages import LogEntry
from asyncmsgr.monc.common import CommandResult
from asyncmsgr.types import AuthName, EntityAddrVec, EntityName, EntityType, UTime

DATA = Path(__file__).resolve().parent.parent / "data" / "ceph_cli"
DESCRIPTIONS = {kind: (DATA / f"descriptions.{kind}.json").read_bytes()
                for kind in ("mon", "mgr", "osd")}


class FakeSession:
    """Answers as a cluster with mons a, b and OSDs 0, 1 would."""

    def __init__(self, answers: dict[str, CommandResult] | None = None) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.answers = answers or {}
        self.log: list[LogEntry] = []

    def _answer(self, where: str, cmd: str, kind: str) -> CommandResult:
        d = json.loads(cmd)
        self.calls.append((where, d["prefix"], d))
        if d["prefix"] == "get_command_descriptions":
            return CommandResult(0, "", DESCRIPTIONS[kind])
        if d["prefix"] in self.answers:
            return self.answers[d["prefix"]]
        if d["prefix"] == "mon dump":
            return CommandResult(0, "", b'{"mons": [{"name": "a"}, {"name": "b"}]}')
        if d["prefix"] == "osd ls":
            return CommandResult(0, "", b"0\n1\n")
        return self.answers.get(d["prefix"], CommandResult(0, "", b"out:" + where.encode()))

    def connect(self, timeout: float | None) -> None:
        pass

    def mon_command(self, cmd: str, inbuf: bytes = b"", *, name: str = "",
                    timeout: float | None = None) -> CommandResult:
        return self._answer(f"mon.{name}" if name else "mon", cmd, "mon")

    def mgr_command(self, cmd: str, inbuf: bytes = b"", *, tell: bool = False,
                    name: str = "", timeout: float | None = None) -> CommandResult:
        return self._answer(f"mgr.{name}" if tell else "mgr", cmd, "mgr")

    def osd_command(self, osd: int, cmd: str, inbuf: bytes = b"", *,
                    timeout: float | None = None) -> CommandResult:
        if osd == 9:
            return CommandResult(-errno.ENOENT, "osd dne", b"")
        return self._answer(f"osd.{osd}", cmd, "osd")

    def pg_command(self, pgid: str, cmd: str, inbuf: bytes = b"", *,
                   timeout: float | None = None) -> CommandResult:
        return self._answer(f"pg.{pgid}", cmd, "osd")

    def watch(self, level: str, on_entry: Callable[[LogEntry], None]) -> None:
        self.calls.append(("watch", level, {}))
        for entry in self.log:
            on_entry(entry)

    def close(self) -> None:
        pass


def run(args: str, session: FakeSession | None = None,
        **opts: Any) -> tuple[int, str, str, FakeSession]:
    session = session or FakeSession()
    out, err = io.StringIO(), io.StringIO()
    rc = Flow(session, ToolOptions(**opts), Output(out), err).run(args.split())
    return rc, out.getvalue(), err.getvalue(), session


def sent(session: FakeSession) -> list[tuple[str, dict[str, Any]]]:
    return [(where, d) for where, prefix, d in session.calls
            if prefix != "get_command_descriptions"]


def test_mon_command_json_and_format() -> None:
    rc, out, _err, s = run("osd pool get test size", output_format="json")
    assert rc == 0
    assert sent(s) == [("mon", {"prefix": "osd pool get", "pool": "test", "var": "size",
                                "format": "json"})]
    assert out == "\nout:mon"                      # a blank line first, the bytes as they are


def test_mgr_commands_carry_the_mon_mgr_target() -> None:
    _rc, out, _err, s = run("pg stat")
    assert sent(s) == [("mgr", {"prefix": "pg stat", "target": ["mon-mgr", ""]})]
    assert out == "out:mgr"


def test_tells() -> None:
    _rc, _out, _err, s = run("tell osd.1 version")
    assert [w for w, _ in sent(s)] == ["osd.1"]
    assert sent(s)[0][1] == {"prefix": "version"}   # no target field for an OSD
    _rc, _out, _err, s = run("tell mgr pg stat")
    assert [w for w, _ in sent(s)] == ["mgr."]       # a tell to any active manager
    _rc, _out, _err, s = run("tell mon.b version")
    assert [w for w, _ in sent(s)] == ["mon.b"]
    _rc, _out, _err, s = run("tell 1.3 query")
    assert sent(s) == [("pg.1.3", {"prefix": "query", "pgid": "1.3"})]


def test_star_prefixes_each_output() -> None:
    rc, out, _err, s = run("tell osd.* version")
    assert rc == 0
    assert [w for w, _ in sent(s)][-2:] == ["osd.0", "osd.1"]
    assert out == "osd.0: out:osd.0\nosd.1: out:osd.1\n"


def test_unreachable_target() -> None:
    rc, out, err, _s = run("tell osd.9 version")
    assert (rc, out) == (errno.ENOENT, "")
    assert err == "Error ENOENT: problem getting command descriptions from osd.9\n"


def test_failed_command_status_and_message() -> None:
    session = FakeSession({"osd pool get": CommandResult(-2, "unrecognized pool 'x'", b"")})
    rc, out, err, _s = run("osd pool get x size", session)
    assert (rc, out, err) == (2, "", "Error ENOENT: unrecognized pool 'x'\n")


def test_status_text_goes_to_stderr() -> None:
    session = FakeSession({"mon dump": CommandResult(0, "dumped monmap epoch 1", b"m\n")})
    rc, out, err, _s = run("mon dump", session)
    assert (rc, out, err) == (0, "m\n", "dumped monmap epoch 1\n")


def test_invalid_command() -> None:
    rc, out, err, s = run("osd set-full-ratio 2")
    assert (rc, out) == (errno.EINVAL, "")
    assert err.splitlines() == [
        "Invalid command: 2.0 not in range [0.0, 1.0]",
        "osd set-full-ratio <ratio:float> :  set usage ratio at which OSDs are marked full",
        "Error EINVAL: invalid command"]
    assert sent(s) == []


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "o"
    rc, out, _err, _s = run("config-key get k", output_file=str(target), output_format="json")
    assert (rc, out) == (0, "")
    assert target.read_bytes() == b"out:mon"


def test_tell_without_a_command() -> None:
    rc, _out, err, _s = run("tell osd.0", program="asyncmsgr ceph")
    assert rc == errno.EINVAL
    assert err == ('"asyncmsgr ceph tell" requires additional arguments. '
                   'Try "asyncmsgr ceph tell <name> <command> [options...]" instead.\n')


def test_bad_tell_target() -> None:
    rc, _out, err, _s = run("tell foo version")
    assert (rc, err) == (1, "error handling command target: CephName: no . in foo\n")


def test_polling_command_runs_once_with_period_zero() -> None:
    rc, out, _err, s = run("iostat", period=0.0)
    assert rc == 0
    (where, d), = sent(s)
    assert where == "mgr"
    assert (d["poll"], d["print_header"], d["width"]) == (True, True, 80)
    assert out == "out:mgr\nout:mgr"               # printed by the loop, then as any output


def _entry(msg: str, channel: str, prio: int = 1) -> LogEntry:
    return LogEntry(name=AuthName(EntityType.MON, "a"), rank=EntityName(EntityType.MON, 0),
                    addrs=EntityAddrVec(), stamp=UTime(1_700_000_000, 123_456_789), seq=1,
                    prio=prio, msg=msg, channel=channel)


def test_watch_prints_the_status_then_the_channel() -> None:
    session = FakeSession({"status": CommandResult(0, "", b"  cluster:\n")})
    session.log = [_entry("in cluster", "cluster"), _entry("audited", "audit")]
    rc, out, _err, s = run("", session, watch=True, watch_channel="cluster")
    assert rc == 0
    assert ("watch", "info", {}) in s.calls
    lines = out.splitlines()
    assert lines[:2] == ["  cluster:", ""]
    assert len(lines) == 3
    assert lines[2].endswith(" mon.a [INF] in cluster")


def test_watch_levels() -> None:
    assert watch_level(ToolOptions(watch=True)) == "info"
    assert watch_level(ToolOptions(watch=True, watch_levels={"debug": True})) == "debug"
    assert watch_level(ToolOptions(watch_levels={"debug": True, "warn": True})) == "warn"
    assert watch_level(ToolOptions()) == ""


@pytest.mark.parametrize(("offset", "text"), [
    (0, "2023-11-14T22:13:20.123456+0000"),
    (19800, "2023-11-15T03:43:20.123456+0530"),
    (-28800, "2023-11-14T14:13:20.123456-0800")])
def test_stamps_print_as_utime(offset: int, text: str) -> None:
    assert format_stamp(UTime(1_700_000_000, 123_456_789), offset) == text


def test_help_lists_matching_commands() -> None:
    rc, out, _err, _s = run("osd pool get", help=True)
    assert rc == 0
    assert out.startswith("\n Monitor commands: \n =================\n")
    assert "osd pool get <pool> size|min_size" in out
    assert "osd tree" not in out


class _ClosedPipe(io.StringIO):
    """A stdout whose reader went away."""

    def write(self, s: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reader_going_away_is_ignored() -> None:
    """As ``ceph`` (``raw_write`` ignores EPIPE): the command's status stands."""
    session = FakeSession({"osd pool get": CommandResult(-2, "unrecognized pool 'x'", b"")})
    out, err = _ClosedPipe(), io.StringIO()
    output = Output(out)
    rc = Flow(session, ToolOptions(), output, err).run(["osd", "pool", "get", "x", "size"])
    assert (rc, output.broken) == (2, True)
    assert err.getvalue() == "Error ENOENT: unrecognized pool 'x'\n"
    rc = Flow(FakeSession(), ToolOptions(), output, err).run(["status"])
    assert rc == 0
