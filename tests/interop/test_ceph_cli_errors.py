"""Errors around ``asyncmsgr ceph``'s command line, each compared with Pacific's ``ceph``.

The real tool and ``asyncmsgr ceph`` (as a program: ``python -m asyncmsgr``) run
with the same arguments against the session's one-mon cluster (cephx, auth none
also allowed; ``--auth_client_required cephx`` where only cephx may be used).
They must exit the same and print the same lines, except that librados's own log
lines (a timestamp and a thread id first) are not compared, and ``asyncmsgr
ceph`` may add one line of its own (``asyncmsgr ...: why``) after Ceph's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ceph_cluster import MonCluster

pytestmark = [pytest.mark.interop, pytest.mark.timeout(90)]

WRONG_KEY = "AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkr0=="
_LIBCEPH_LOG = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+[+-]\d{4} [0-9a-f]+ +-?\d+ ")


def _run(argv: list[str], *, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> tuple[int, str, list[str]]:
    base = {k: v for k, v in os.environ.items() if k not in ("CEPH_ARGS", "CEPH_CONF")}
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False,
                          cwd=cwd, env={**base, **(env or {})})
    lines = [line for line in proc.stderr.splitlines()
             if line and not _LIBCEPH_LOG.match(line)]
    return proc.returncode, proc.stdout, lines


def both(cluster: MonCluster | None, *args: str, cwd: Path | None = None,
         env: dict[str, str] | None = None
         ) -> tuple[tuple[int, str, list[str]], tuple[int, str, list[str]]]:
    """(real ceph, asyncmsgr ceph) -> (exit status, stdout, stderr lines)."""
    head = (["-c", str(cluster.conf_path), "-k", str(cluster.keyring_path)]
            if cluster is not None else [])
    real = _run(["ceph", *head, *args], cwd=cwd, env=env)
    ours = _run([sys.executable, "-m", "asyncmsgr", "ceph", *head, *args], cwd=cwd, env=env)
    return real, ours


def ceph_lines(lines: list[str]) -> list[str]:
    """Ceph's lines of our stderr (without the ``asyncmsgr...:`` explanations)."""
    return [line for line in lines if not line.startswith("asyncmsgr")]


def test_negative_connect_timeout(ceph_mon: MonCluster) -> None:
    """``--connect-timeout -1``: ceph's wait ends at once ("timed out", 1)."""
    real, ours = both(ceph_mon, "--connect-timeout", "-1", "status")
    assert real == (1, "", ["timed out"])
    assert ours == real


def test_connect_timeout_not_an_int(ceph_mon: MonCluster) -> None:
    """A usage error of the tool's own options: exit 2, argparse's message."""
    real, ours = both(ceph_mon, "--connect-timeout", "1.5", "status")
    assert real[0] == ours[0] == 2
    assert real[2][-1].replace("ceph:", "") == ours[2][-1].replace("asyncmsgr ceph:", "")


@pytest.mark.parametrize("args", [["--ms_foo", "1", "version"], ["--ms-bar=2", "version"],
                                  ["--frobnicate", "version"], ["version", "--ms_foo"]])
def test_unknown_options_are_unused_arguments(ceph_mon: MonCluster, args: list[str]) -> None:
    """An ``--option`` Ceph does not know is left to the command: EINVAL (22)."""
    real, ours = both(ceph_mon, *args)
    assert real[0] == 22
    assert ours == real


@pytest.mark.parametrize("args", [["--ms_bind_port_min", "abc", "version"],
                                  ["version", "--debug_ms"], ["--ms_crc_data=maybe", "version"],
                                  ["version", "-m"]])
def test_bad_option_values(ceph_mon: MonCluster, args: list[str]) -> None:
    """A known option with a bad or missing value: librados refuses it (1)."""
    real, ours = both(ceph_mon, *args)
    assert real[0] == ours[0] == 1
    assert ours[2][0].split(" (")[0] == real[2][0].split(" (")[0]
    assert ours[2][-1] == real[2][-1]


def test_wrong_key_reported_once(ceph_mon: MonCluster) -> None:
    """cephx only, a wrong key: 13, and the reason said once (librados logs none)."""
    real, ours = both(ceph_mon, "--key", WRONG_KEY, "--auth_client_required", "cephx",
                      "status")
    assert real[0] == ours[0] == 13
    assert ceph_lines(ours[2]) == real[2] == [
        "[errno 13] RADOS permission denied (error connecting to the cluster)"]
    assert sum("wrong key" in line for line in ours[2]) == 1


def test_wrong_key_falls_back_to_auth_none(ceph_mon: MonCluster) -> None:
    """With auth none allowed, the monitor's AUTH_BAD_METHOD leads to none (0)."""
    real, ours = both(ceph_mon, "--key", WRONG_KEY, "version")
    assert real[0] == ours[0] == 0
    assert ours[1] == real[1]


@pytest.mark.parametrize(("required", "status"), [("cephx", 13), ("cephx, none", 0)])
def test_unknown_id(ceph_mon: MonCluster, required: str, status: int) -> None:
    """``--id nobody``: no key for client.nobody: refused (13) with cephx only."""
    real, ours = both(ceph_mon, "--id", "nobody", "--auth_client_required", required,
                      "version")
    assert real[0] == ours[0] == status
    assert ceph_lines(ours[2]) == real[2]


def test_unresolvable_mon_host(ceph_mon: MonCluster) -> None:
    """The host is named, as Ceph names it; EINVAL at connect (1)."""
    real, ours = both(ceph_mon, "-m", "nosuchhost.invalid", "status")
    assert real[0] == ours[0] == 1
    assert real[1].startswith("server name not found: nosuchhost.invalid (")  # on stdout
    assert ours == real


@pytest.mark.parametrize("content", ["garbage\n", "[client.admin]\n\tkey = nope\n"])
def test_garbage_keyring(ceph_mon: MonCluster, tmp_path: Path, content: str) -> None:
    """A keyring that does not parse is EIO even though auth none is allowed."""
    ring = tmp_path / "bad.keyring"
    ring.write_text(content)
    real, ours = both(None, "-c", str(ceph_mon.conf_path), "-k", str(ring), "status")
    assert real[0] == ours[0] == 1
    assert ceph_lines(ours[2]) == real[2][-1:] == [
        "[errno 5] RADOS I/O error (error connecting to the cluster)"]


def test_bad_key(ceph_mon: MonCluster) -> None:
    """``--key`` that is not base64: EINVAL (1)."""
    real, ours = both(ceph_mon, "--key", "garbage", "status")
    assert real[0] == ours[0] == 1
    assert ceph_lines(ours[2]) == real[2][-1:]


@pytest.mark.parametrize("name", ["foo", "nosuchtype.x"])
def test_bad_name(ceph_mon: MonCluster, name: str) -> None:
    """An entity name librados refuses."""
    real, ours = both(ceph_mon, "--name", name, "status")
    assert real[0] == ours[0] == 1
    assert ours[2] == real[2]


def test_missing_conf_file(ceph_mon: MonCluster, tmp_path: Path) -> None:
    real, ours = both(None, "-c", str(tmp_path / "nope.conf"), "status")
    assert real[0] == ours[0] == 1
    assert ceph_lines(ours[2]) == real[2]
    assert any(str(tmp_path / "nope.conf") in line for line in ours[2])


@pytest.mark.skipif(os.path.exists("/etc/ceph/ceph.conf"), reason="/etc/ceph/ceph.conf exists")
def test_no_conf_names_the_files_searched(tmp_path: Path) -> None:
    """No ``-c``, no CEPH_CONF, nothing in the search list: Ceph's error, then the
    files that were looked for."""
    env = {"HOME": str(tmp_path)}
    real, ours = both(None, "-s", cwd=tmp_path, env=env)
    assert real[0] == ours[0] == 1
    assert ceph_lines(ours[2]) == real[2]
    searched = "\n".join(ours[2])
    for path in ("/etc/ceph/ceph.conf", f"{tmp_path}/.ceph/ceph.conf", "ceph.conf"):
        assert path in searched


def test_help_documents_the_options(tmp_path: Path) -> None:
    """``asyncmsgr ceph --help`` without a cluster: the options, exit 0."""
    env = {"HOME": str(tmp_path)}
    rc, out, _err = _run([sys.executable, "-m", "asyncmsgr", "ceph", "--help"],
                         cwd=tmp_path, env=env)
    assert rc == 0
    for option in ("--conf", "--id", "--name", "-m MONHOST", "-k KEYRING", "--keyfile",
                   "--connect-timeout", "--format", "--watch-channel", "CEPH_ARGS",
                   "exit status"):
        assert option in out


def test_version() -> None:
    """``--version`` names this tool and the Ceph release it follows."""
    rc, out, _err = _run([sys.executable, "-m", "asyncmsgr", "ceph", "--version"])
    assert rc == 0
    assert out.startswith("asyncmsgr ceph ")
    assert "16.2.15" in out



def test_commands_from_stdin(ceph_mon: MonCluster) -> None:
    """No command on the line: one a line from stdin, as ``ceph`` reads them (and a
    ``tell`` refused there)."""
    lines = "mon dump\n\nversion -f json\nfrobnicate\ntell mon.a version\nhealth extra\n"
    head = ["-c", str(ceph_mon.conf_path), "-k", str(ceph_mon.keyring_path)]
    procs = [subprocess.run([*tool, *head], input=lines, capture_output=True, text=True,
                            timeout=60, check=False)
             for tool in (["ceph"], [sys.executable, "-m", "asyncmsgr", "ceph"])]
    real, ours = ((p.returncode, p.stdout, p.stderr) for p in procs)
    assert real[0] == 0
    assert "Can not use 'tell' in interactive mode." in real[2]
    assert ours == real
