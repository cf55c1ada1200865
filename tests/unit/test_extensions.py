"""The optional C extensions: what is compiled, and the switch that turns them off.

CI runs the whole suite twice: with the extensions ``pip install -e .`` built
(``ASYNCMSGR_EXPECT_EXTENSIONS=1`` makes this module insist they are loaded)
and with ``ASYNCMSGR_NO_EXTENSIONS=1`` (pure Python, the reference).
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import asyncmsgr
from asyncmsgr import _extensions

SRC = Path(asyncmsgr.__file__).resolve().parent
SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)

_PROBE = """
import json, sys
import asyncmsgr.messenger, asyncmsgr.protocol.v1
from asyncmsgr import _extensions
print(json.dumps({"compiled": _extensions.compiled(),
                  "files": {n: sys.modules[n].__file__ for n in _extensions.MODULES}}))
"""


def _probe(**env: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         check=True, timeout=60, env={**os.environ, **env})
    result: dict[str, object] = json.loads(out.stdout)
    return result


def _built(name: str) -> list[Path]:
    base = SRC.joinpath(*name.split(".")[1:])
    return [p for p in base.parent.glob(base.name + ".*") if str(p).endswith(SUFFIXES)]


def test_every_listed_module_has_its_source() -> None:
    for name in _extensions.MODULES:
        assert SRC.joinpath(*name.split(".")[1:]).with_suffix(".py").is_file(), name


def test_no_extensions_switch_loads_every_module_from_source() -> None:
    r = _probe(ASYNCMSGR_NO_EXTENSIONS="1")
    assert r["compiled"] == []
    files = r["files"]
    assert isinstance(files, dict)
    assert all(str(f).endswith(".py") for f in files.values())


def test_switch_values() -> None:
    assert _extensions.disabled({"ASYNCMSGR_NO_EXTENSIONS": "1"})
    assert not _extensions.disabled({"ASYNCMSGR_NO_EXTENSIONS": "0"})
    assert not _extensions.disabled({})


def test_built_extensions_are_loaded_and_current() -> None:
    """Where a module was built it is what gets imported, and it is not older
    than its source (a stale in-place build would test old code: rebuild with
    ``pip install -e .``)."""
    built = {name: _built(name) for name in _extensions.MODULES}
    expect = os.environ.get("ASYNCMSGR_EXPECT_EXTENSIONS", "") not in ("", "0")
    if expect:
        assert all(built.values()), f"not built: {[n for n, b in built.items() if not b]}"
    if not any(built.values()):
        pytest.skip("no extension built here (no compiler or no Cython at install)")
    for name, paths in built.items():
        source = SRC.joinpath(*name.split(".")[1:]).with_suffix(".py")
        for p in paths:
            assert p.stat().st_mtime >= source.stat().st_mtime, f"{p} is older than {source}"
    r = _probe(ASYNCMSGR_NO_EXTENSIONS="")
    loaded = r["compiled"]
    assert isinstance(loaded, list)
    assert sorted(loaded) == sorted(n for n, b in built.items() if b)
    if _extensions.disabled():
        assert _extensions.compiled() == []
    else:
        assert sorted(_extensions.compiled()) == sorted(
            n for n, b in built.items() if b and n in sys.modules)
