"""README stays true: its commands exist and its example runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_python_example_runs() -> None:
    match = re.search(r"## Using the messenger\n\n```python\n(.*?)```", README, re.S)
    assert match is not None
    out = subprocess.run([sys.executable, "-c", match.group(1)], capture_output=True,
                         text=True, timeout=60, cwd=ROOT, check=True)
    assert out.stdout.strip() == "b'hello'"


def test_two_commands_are_there_and_ci_runs_the_test_command() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    main_job, test_cmd = blocks[0].strip(), blocks[1].strip()
    assert "asyncmsgr bench" in main_job
    assert "pytest" in test_cmd
    assert test_cmd in (ROOT / ".ci" / "run").read_text()
