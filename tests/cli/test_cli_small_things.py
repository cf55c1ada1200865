"""Issue 13's small things: ``--version``, shell completion through shtab (the
script works in bash), ``--help-config`` listing the operations options."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

import asyncmsgr
from asyncmsgr.cli.main import main

EXE = [sys.executable, "-m", "asyncmsgr"]


def test_version_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"], env={}) == 0
    assert capsys.readouterr().out == f"asyncmsgr {asyncmsgr.__version__}\n"
    assert asyncmsgr.__version__.count(".") >= 2


def _complete(script: str, words: list[str]) -> list[str]:
    """What bash offers for ``words`` (the last one being completed)."""
    line = " ".join(words)
    program = (f"source /dev/stdin <<'EOF_SCRIPT'\n{script}\nEOF_SCRIPT\n"
               f"COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; COMP_LINE='{line}'; "
               f"COMP_POINT={len(line)}; _shtab_asyncmsgr; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30,
                          check=True)
    return done.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--print-completion", "bash"], env={}) == 0
    script = capsys.readouterr().out
    assert "complete -o bashdefault -F _shtab_asyncmsgr asyncmsgr" in script
    assert _complete(script, ["asyncmsgr", "be"]) == ["bench"]
    assert "stress" in _complete(script, ["asyncmsgr", "s"])
    assert _complete(script, ["asyncmsgr", "stress", "--pro"]) == ["--progress"]
    assert "--max-payload" in _complete(script, ["asyncmsgr", "stress", "--max"])


@pytest.mark.parametrize(("shell", "mark"), [("zsh", "#compdef asyncmsgr"),
                                             ("tcsh", "complete asyncmsgr")])
def test_other_shells(capsys: pytest.CaptureFixture[str], shell: str, mark: str) -> None:
    assert main(["--print-completion", shell], env={}) == 0
    assert mark in capsys.readouterr().out


def test_unknown_shell(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--print-completion", "fish"], env={}) == 2
    assert "choose from bash, zsh, tcsh" in capsys.readouterr().err


def test_help_config_lists_the_operations_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help-config"], env={}) == 0
    out = capsys.readouterr().out
    for option in ("debug_ms", "debug_monc", "log_file", "log_to_stderr", "admin_socket",
                   "run_dir", "asyncmsgr_prometheus_addr"):
        assert option in out, option
