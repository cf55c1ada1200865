"""Helpers of the ``asyncmsgr.rados`` interop tests: our client, python3-rados, run().

* :func:`client` makes an :class:`asyncmsgr.rados.Rados` for a test cluster
  (its ceph.conf and admin keyring, plus any options);
* :func:`pyrados` runs a snippet under Debian's ``/usr/bin/python3`` with
  python3-rados (librados, the C++ client) connected to the cluster; the snippet
  sees ``cluster`` and ``ioctx`` and sets ``out`` (JSON-able, bytes as hex);
* :func:`run` runs a coroutine function with a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from ceph_cluster import CephCluster

from asyncmsgr.rados import Rados

PYTHON3 = "/usr/bin/python3"

_PRELUDE = """
import json, sys, rados
def _enc(v):
    if isinstance(v, (bytes, bytearray)):
        return {"hex": bytes(v).hex()}
    if isinstance(v, dict):
        return {k: _enc(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_enc(x) for x in v]
    return v
cluster = rados.Rados(conffile=sys.argv[1], conf={"keyring": sys.argv[2]})
cluster.connect()
ioctx = cluster.open_ioctx(sys.argv[3])
if sys.argv[4]:
    ioctx.set_namespace(sys.argv[4])
out = None
"""

_EPILOGUE = """
ioctx.close()
cluster.shutdown()
print(json.dumps(_enc(out)))
"""


def have_python_rados() -> bool:
    """Debian's python3 with python3-rados is installed."""
    if not os.path.exists(PYTHON3):
        return False
    proc = subprocess.run([PYTHON3, "-c", "import rados"], capture_output=True, check=False)
    return proc.returncode == 0


def require_python_rados() -> None:
    """Skip unless python3-rados can be imported by /usr/bin/python3."""
    if not have_python_rados():
        pytest.skip("python3-rados is not installed (apt-get install python3-rados)")


def _dec(v: Any) -> Any:
    if isinstance(v, dict):
        if set(v) == {"hex"}:
            return bytes.fromhex(v["hex"])
        return {k: _dec(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_dec(x) for x in v]
    return v


def pyrados(cluster: CephCluster, snippet: str, *, pool: str = "test", nspace: str = "",
            timeout: float = 60.0) -> Any:
    """Run ``snippet`` with python3-rados connected to ``cluster``; its ``out``."""
    require_python_rados()
    code = _PRELUDE + textwrap.dedent(snippet) + _EPILOGUE
    proc = subprocess.run(
        [PYTHON3, "-c", code, str(cluster.conf_path), str(cluster.keyring_path), pool,
         nspace], capture_output=True, timeout=timeout, check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    if proc.returncode != 0:
        raise AssertionError(f"python3-rados failed ({proc.returncode}):\n"
                             f"{proc.stderr.decode(errors='replace')}")
    return _dec(json.loads(proc.stdout.decode().strip().splitlines()[-1]))


def client(cluster: CephCluster, **conf: str) -> Rados:
    """An (unconnected) asyncmsgr Rados for ``cluster`` with extra ``conf`` options."""
    options = {"keyring": str(cluster.keyring_path)}
    options.update(conf)
    return Rados(conffile=str(cluster.conf_path), conf=options)


def run(body: Callable[[], Coroutine[Any, Any, None]], timeout: float = 90.0) -> None:
    """``asyncio.run(body())`` with a deadline."""
    async def main() -> None:
        await asyncio.wait_for(body(), timeout)
    asyncio.run(main())


def rados_tool() -> str:
    """The C++ ``rados`` tool (the fixtures skip without Ceph, so it is there)."""
    path = shutil.which("rados")
    assert path is not None
    return path


def write_file(tmp: Path, name: str, data: bytes) -> Path:
    """``tmp/name`` holding ``data``."""
    p = tmp / name
    p.write_bytes(data)
    return p


__all__ = ["PYTHON3", "client", "have_python_rados", "pyrados", "rados_tool",
           "require_python_rados", "run", "write_file"]
