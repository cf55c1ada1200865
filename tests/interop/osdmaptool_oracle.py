"""Run the real ``osdmaptool`` and ``asyncmsgr osdmaptool`` side by side.

:func:`compare` runs both with the same arguments and returns both results;
tests assert they are equal (stdout byte for byte, stderr without Ceph's
timestamped log lines, and the exit status).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from asyncmsgr.cli.osdmaptool import run

_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT.*$\n?", re.MULTILINE)


@dataclass(frozen=True)
class Result:
    """One tool run."""

    status: int
    out: str
    err: str


def require_tools() -> None:
    """Skip unless osdmaptool and crushtool are installed (CI installs them)."""
    for tool in ("osdmaptool", "crushtool"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install ceph-common)")


def real(*argv: str, cwd: Path | None = None) -> Result:
    """The C++ osdmaptool (exit status 255 for its ``return -1``)."""
    proc = subprocess.run(["osdmaptool", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=120, check=False)
    return Result(proc.returncode, proc.stdout, _LOG_LINE.sub("", proc.stderr))


def ours(*argv: str) -> Result:
    """asyncmsgr's osdmaptool, in-process."""
    out, err = io.StringIO(), io.StringIO()
    status = run(list(argv), out, err)
    return Result(status, out.getvalue(), err.getvalue())


def compare(*argv: str) -> tuple[Result, Result]:
    """(real, ours) for the same arguments."""
    return real(*argv), ours(*argv)


def pg_lines(text: str) -> int:
    """How many PG lines a --test-map-pgs-dump[-all] output has."""
    return sum(1 for line in text.splitlines() if re.match(r"^\d+\.[0-9a-f]+[\t ]", line))


def tool(*argv: str, cwd: Path | None = None) -> str:
    """Run a Ceph tool (crushtool, osdmaptool) that must succeed; its stdout."""
    return subprocess.run(list(argv), capture_output=True, text=True, check=True, cwd=cwd,
                          timeout=120).stdout
