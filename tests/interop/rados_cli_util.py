"""Helpers of the ``asyncmsgr rados`` interop tests: run both tools, compare.

* :func:`real` runs the C++ ``rados`` tool against a test cluster;
* :func:`ours` runs ``asyncmsgr rados`` in this process (:func:`asyncmsgr.cli.rados.main`
  with byte streams), :func:`ours_proc` as a child process (``python -m asyncmsgr
  rados``: the console entry point, real stdin/stdout);
* :func:`assert_same` runs both with the same arguments and asserts identical
  stdout, stderr and exit status.
"""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from ceph_cluster import CephCluster

from asyncmsgr.cli import rados as rados_cli
from asyncmsgr.testing.ceph_daemons import clean_env


@dataclass(frozen=True)
class Run:
    """One tool run: exit status and both streams."""

    rc: int
    out: bytes
    err: bytes

    @property
    def text(self) -> str:
        """stdout as text."""
        return self.out.decode("utf-8", "surrogateescape")

    @property
    def err_text(self) -> str:
        """stderr as text."""
        return self.err.decode("utf-8", "surrogateescape")


def uniq(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _conf(cluster: CephCluster) -> list[str]:
    return ["-c", str(cluster.conf_path), "-k", str(cluster.keyring_path)]


def real(cluster: CephCluster, *args: str, stdin: bytes = b"",
         env: Mapping[str, str] | None = None, conf: bool = True,
         timeout: float = 60.0) -> Run:
    """The C++ ``rados`` tool."""
    argv = ["rados", *(_conf(cluster) if conf else []), *args]
    proc = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout,
                          env=clean_env(env), check=False)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def ours(cluster: CephCluster, *args: str, stdin: bytes = b"",
         env: Mapping[str, str] | None = None, conf: bool = True) -> Run:
    """``asyncmsgr rados`` in this process."""
    out, err = io.BytesIO(), io.BytesIO()
    rc = rados_cli.main([*(_conf(cluster) if conf else []), *args], clean_env(env),
                        stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return Run(rc, out.getvalue(), err.getvalue())


def ours_proc(cluster: CephCluster, *args: str, stdin: bytes = b"",
              env: Mapping[str, str] | None = None, timeout: float = 60.0) -> Run:
    """``python -m asyncmsgr rados`` as a child process."""
    argv = [sys.executable, "-m", "asyncmsgr", "rados", *_conf(cluster), *args]
    proc = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout,
                          env=clean_env(env), check=False)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_same(cluster: CephCluster, *args: str, stdin: bytes = b"",
                env: Mapping[str, str] | None = None, conf: bool = True) -> Run:
    """Both tools give the same stdout, stderr and exit status; returns the run."""
    a = ours(cluster, *args, stdin=stdin, env=env, conf=conf)
    r = real(cluster, *args, stdin=stdin, env=env, conf=conf)
    assert (a.rc, a.text, a.err_text) == (r.rc, r.text, r.err_text), args
    return a


__all__ = ["Run", "assert_same", "ours", "ours_proc", "real", "uniq"]
