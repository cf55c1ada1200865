"""The protocol core does no I/O and reads no clock (style.md §3 rules 1, 2, 14).

Every module under ``src/asyncmsgr/{wire,frames,crypto,auth,protocol,messages,crush,osd}`` and
the shared ``message.py``, ``message_types.py``, ``types.py``, ``features.py``,
``errors.py``, ``record.py``, the monitor client's sans-I/O modules
(``monc/core.py``, ``auth.py``, ``conf.py``, ``monhost.py``, ``common.py``,
``conffile.py``, ``conf_argv.py``, ``tell.py``), the manager client's
(``mgrc/core.py``) and the Objecter's (``osdc/target.py``, ``backoff.py``,
``maps.py``, ``wire.py``) is parsed with
:mod:`ast`; importing ``asyncio``, ``socket``, ``selectors``, ``threading`` or
``time`` (``import X``, ``import X.y``, ``from X import y``, ``__import__("X")``,
``importlib.import_module("X")``) fails the test with ``file:line``. Time and
I/O must be passed in by the asyncio layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FORBIDDEN = frozenset({"asyncio", "socket", "selectors", "threading", "time"})
SRC = Path(__file__).resolve().parents[2] / "src" / "asyncmsgr"
CORE_PACKAGES = ("wire", "frames", "crypto", "auth", "protocol", "messages", "crush", "osd")
CORE_MODULES = ("message.py", "message_types.py", "types.py", "features.py", "errors.py",
                "record.py", "monc/core.py", "monc/auth.py", "monc/conf.py", "monc/monhost.py",
                "monc/common.py", "monc/conffile.py", "monc/conf_argv.py", "monc/tell.py",
                "mgrc/core.py",
                # the Objecter's sans-I/O decisions (the rest of osdc/ is its asyncio layer)
                "osdc/target.py", "osdc/backoff.py", "osdc/maps.py", "osdc/wire.py",
                "osdc/hashing.py")


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def forbidden_imports(source: str, filename: str = "<string>") -> list[str]:
    """``file:line: what`` for every import of a forbidden module in ``source``."""
    tree = ast.parse(source, filename)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, f"import {alias.name}") for alias in node.names
                         if _top(alias.name) in FORBIDDEN)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and _top(node.module) in FORBIDDEN:
                found.append((node.lineno, f"from {node.module} import ..."))
        elif isinstance(node, ast.Call):
            func = node.func
            name = (func.id if isinstance(func, ast.Name)
                    else func.attr if isinstance(func, ast.Attribute) else "")
            if (name in ("__import__", "import_module") and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and _top(node.args[0].value) in FORBIDDEN):
                found.append((node.lineno, f"{name}({node.args[0].value!r})"))
    return [f"{filename}:{line}: {what}" for line, what in sorted(found)]


def core_files() -> list[Path]:
    """The modules that must stay free of I/O and clocks."""
    files: list[Path] = []
    for pkg in CORE_PACKAGES:
        if (SRC / pkg).is_dir():
            files.extend(sorted((SRC / pkg).rglob("*.py")))
    files.extend(SRC / name for name in CORE_MODULES if (SRC / name).is_file())
    return files


def check_file(path: Path) -> list[str]:
    return forbidden_imports(path.read_text(encoding="utf-8"), str(path))


def test_core_modules_import_no_io_or_clock() -> None:
    files = core_files()
    rel = {p.relative_to(SRC).as_posix() for p in files}
    # the checker must actually be looking at the core
    assert {"wire/buffer.py", "wire/codecs.py", "frames/v2.py", "frames/assembler.py",
            "crypto/onwire.py", "crush/hash.py", "message.py", "types.py", "errors.py",
            "osdc/target.py"} <= rel
    offenders = [line for path in files for line in check_file(path)]
    assert not offenders, "I/O or clock imports in the sans-I/O core:\n" + "\n".join(offenders)


@pytest.mark.parametrize(("source", "lines"), [
    ("import asyncio\n", [1]),
    ("import socket\n", [1]),
    ("import selectors\n", [1]),
    ("import threading\n", [1]),
    ("import time\n", [1]),
    ("import os, time\n", [1]),
    ("import asyncio.events as ev\n", [1]),
    ("import time as clock\n", [1]),
    ("from time import monotonic\n", [1]),
    ("from asyncio import Queue, Event\n", [1]),
    ("from asyncio.streams import StreamReader\n", [1]),
    ("x = 1\n\n\nfrom socket import AF_INET\n", [4]),
    ("def f() -> None:\n    import threading\n", [2]),
    ("if True:\n    from selectors import DefaultSelector\n", [2]),
    ("t = __import__('time')\n", [1]),
    ("import importlib\nm = importlib.import_module('asyncio.tasks')\n", [2]),
    ("import time\nimport socket\n", [1, 2]),
])
def test_checker_flags_forbidden_imports(source: str, lines: list[int]) -> None:
    found = forbidden_imports(source, "pkg/mod.py")
    assert [int(entry.split(":")[1]) for entry in found] == lines
    assert all(entry.startswith("pkg/mod.py:") for entry in found)


@pytest.mark.parametrize("source", [
    "import os\nimport struct\n",
    "import timeit\nimport datetime\n",
    "from datetime import datetime\n",
    "from asyncmsgr import types\n",
    "from . import time\n",
    "from .time import now\n",
    "import sockets_helper\n",
    "x = 'import time'\n",
    "__import__(name)\n",
    "from typing import TYPE_CHECKING\n",
])
def test_checker_allows_other_imports(source: str) -> None:
    assert forbidden_imports(source) == []


def test_checker_reports_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('"""doc."""\n\nfrom __future__ import annotations\n\nimport time\n')
    assert check_file(bad) == [f"{bad}:5: import time"]
    good = tmp_path / "good.py"
    good.write_text("import struct\n")
    assert check_file(good) == []
