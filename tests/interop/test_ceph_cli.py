"""``asyncmsgr ceph`` against a real Pacific monitor, with the ``ceph`` CLI as oracle.

Every test runs on both drivers (``driver``): the blocking one-shot client the
command uses (``sync``) and the asyncio MonClient (``asyncio``); they must print
the same and exit the same.
"""

from __future__ import annotations

import io
import json
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
from ceph_cluster import MonCluster

from asyncmsgr.cli import ceph as ceph_cli

pytestmark = [pytest.mark.interop, pytest.mark.timeout(90)]

WRONG_KEY = "AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkr0=="


@pytest.fixture(params=["sync", "asyncio"])
def driver(request: pytest.FixtureRequest) -> ceph_cli.Driver:
    """The client ``asyncmsgr ceph`` runs on."""
    value: ceph_cli.Driver = request.param
    return value


def run_cli(cluster: MonCluster, driver: ceph_cli.Driver, *args: str,
            env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["-c", str(cluster.conf_path), "-k", str(cluster.keyring_path),
            "--connect-timeout", "20", *args]
    rc = ceph_cli.main(argv, env or {}, stdout=out, stderr=err, driver=driver)
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("mode", ["crc", "secure"])
def test_status_json_matches_the_monitors(ceph_mon: MonCluster, driver: ceph_cli.Driver,
                                          mode: str) -> None:
    rc, out, err = run_cli(ceph_mon, driver, f"--ms_mon_client_mode={mode}", "status",
                           "--format", "json")
    assert rc == 0, err
    got = json.loads(out)
    oracle = ceph_mon.ceph_json("status")
    assert isinstance(oracle, dict)
    assert set(got) == set(oracle)
    for key in ("fsid", "quorum", "quorum_names", "monmap", "osdmap", "pgmap"):
        assert got[key] == oracle[key], key
    assert got["health"]["status"] == oracle["health"]["status"]


@pytest.mark.parametrize("args", [["version"], ["health"], ["health", "detail"],
                                  ["mon", "dump"], ["mon", "dump", "--format", "json"],
                                  ["version", "--format", "json-pretty"]])
def test_output_equals_ceph(ceph_mon: MonCluster, driver: ceph_cli.Driver,
                           args: list[str]) -> None:
    rc, out, err = run_cli(ceph_mon, driver, *args)
    assert rc == 0, err
    oracle = ceph_mon.ceph(*args)
    if "--format" in args and args[-1] == "json":
        assert json.loads(out) == json.loads(oracle)
    else:
        assert out.strip() == oracle.strip()
    if args[:2] == ["mon", "dump"]:
        assert "dumped monmap epoch 1" in err


def test_auth_none_mon_dump(ceph_mon: MonCluster, driver: ceph_cli.Driver) -> None:
    rc, out, err = run_cli(ceph_mon, driver, "--auth_client_required=none", "mon", "dump",
                           "--format", "json")
    assert rc == 0, err
    assert json.loads(out)["fsid"] == ceph_mon.fsid


def test_failed_command_exit_status(ceph_mon: MonCluster, driver: ceph_cli.Driver) -> None:
    rc, _out, err = run_cli(ceph_mon, driver, "osd", "pool", "get", "nosuchpool", "size")
    assert rc == 2
    assert err == "Error ENOENT: unrecognized pool 'nosuchpool'\n"


def test_wrong_key_exit_status(ceph_mon: MonCluster, driver: ceph_cli.Driver) -> None:
    rc, _out, err = run_cli(ceph_mon, driver, "--key", WRONG_KEY,
                            "--auth_client_required=cephx", "status")
    assert rc == 13
    assert "[errno 13] RADOS permission denied (error connecting to the cluster)" in err


def test_usage_errors(ceph_mon: MonCluster) -> None:
    """An unknown command is ceph's invalid command (EINVAL); a bad --format is a
    usage error of the tool's own options (2); yaml is one of ceph's formats."""
    rc, _out, err = run_cli(ceph_mon, "sync", "frobnicate")
    assert rc == 22
    assert err.startswith("no valid command found; ")
    assert err.endswith("Error EINVAL: invalid command\n")
    rc, _out, err = run_cli(ceph_mon, "sync", "status", "--format", "toml")
    assert rc == 2
    assert "argument -f/--format: invalid choice: 'toml'" in err
    rc, _out, err = run_cli(ceph_mon, "sync", "version", "--format", "yaml")
    assert rc == 0, err


def test_no_monitor_answers_exit_status(ceph_mon: MonCluster, driver: ceph_cli.Driver) -> None:
    out, err = io.StringIO(), io.StringIO()
    rc = ceph_cli.main(["-c", str(ceph_mon.conf_path), "-m", "v2:127.0.0.1:1",
                        "--auth_client_required=none", "--connect-timeout", "1", "status"],
                       {}, stdout=out, stderr=err, driver=driver)
    assert rc == 1
    assert "RADOS timed out" in err.getvalue()


def test_fails_over_to_a_monitor_that_answers(ceph_mon: MonCluster,
                                              driver: ceph_cli.Driver) -> None:
    """``mon_host`` lists a monitor that accepts TCP and never answers, then the real
    one; one dialled at a time: whichever comes first, the command is answered."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        mon_host = f"v2:127.0.0.1:{silent.getsockname()[1]},{ceph_mon.mon_addrs[0]}"
        rc, out, err = run_cli(ceph_mon, driver, "-m", mon_host,
                               "--mon_client_hunt_parallel=1",
                               "--mon_client_hunt_interval=0.5", "version")
    assert rc == 0, err
    assert out.strip() == ceph_mon.ceph("version").strip()


def test_console_script_with_ceph_args(ceph_mon: MonCluster) -> None:
    """The real entry point, options from CEPH_ARGS as ``ceph`` reads them."""
    env = {"CEPH_ARGS": f"-c {ceph_mon.conf_path} -k {ceph_mon.keyring_path}",
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "asyncmsgr", "ceph", "-s"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert ceph_mon.fsid in proc.stdout
    assert "HEALTH_OK" in proc.stdout or "HEALTH_WARN" in proc.stdout


class _Watcher:
    """A ``-W '*'`` process whose stdout lines are read by a thread."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, predicate: Callable[[str], bool], timeout: float = 30.0) -> list[str]:
        """Lines read until one satisfies ``predicate`` (included)."""
        got: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            got.append(line)
            if predicate(line):
                return got

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def test_watch_prints_log_lines_as_ceph(ceph_mon: MonCluster) -> None:
    """``-W '*'``: the status, then each cluster log entry as ``ceph -w`` prints it;
    the real tool and both drivers print the same line for the same entry."""
    head = ["-c", str(ceph_mon.conf_path), "-k", str(ceph_mon.keyring_path), "-W", "*"]
    code = "import sys; from asyncmsgr.cli import ceph; sys.exit(ceph.main(sys.argv[1:], {}, "
    watchers = {
        "real": _Watcher(["ceph", *head]),
        "sync": _Watcher([sys.executable, "-c", code + "driver='sync'))", *head]),
        "asyncio": _Watcher([sys.executable, "-c", code + "driver='asyncio'))", *head]),
    }
    try:
        for w in watchers.values():  # the status first, then an empty line
            status = w.until(lambda line: line == "")
            assert any(ceph_mon.fsid in line for line in status)
        marker = f"asyncmsgr-watch-{time.monotonic_ns()}"
        ceph_mon.ceph("log", marker)
        seen = {name: [line for line in w.until(lambda line: line.endswith(f"] {marker}"))
                       if marker in line][-1]
                for name, w in watchers.items()}
    finally:
        for w in watchers.values():
            w.stop()
    assert seen["sync"] == seen["asyncio"] == seen["real"]
    assert re.fullmatch(rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{6}}[+-]\d{{4}} "
                        rf"client\.admin \[INF\] {marker}", seen["real"])
