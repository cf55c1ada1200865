"""Long runs as processes: per-second progress lines, Ctrl-C (SIGINT) printing the
partial summary with exit 130, Ctrl-C during start-up, and a server's metrics
endpoint and admin socket started from the command line."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

import pytest
from prometheus_client.parser import text_string_to_metric_families

from asyncmsgr.cli import main as cli_main
from asyncmsgr.testing.fake_cluster import FakeCluster

EXE = [sys.executable, "-m", "asyncmsgr"]
#: A data line of bench's progress: ``  sec completed msg/s avg msg/s MB/s avg MB/s``.
BENCH_LINE = re.compile(r"^\s*\d+\s+\d+\s+\d+\s+\d+\s+[\d.]+\s+[\d.]+$")
#: stress: ``sec ops sent delivered pending msgs/s faults resets``.
STRESS_LINE = re.compile(r"^\s*\d+(\s+\d+){7}$")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CEPH_ARGS", None)
    return env


def read_until(stream: IO[str], pattern: re.Pattern[str], timeout: float = 20.0) -> list[str]:
    """Lines of ``stream`` up to the first matching ``pattern`` (all of them)."""
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if pattern.search(line):
            return lines
    raise AssertionError(f"no line matching {pattern.pattern!r} in {lines}")


def interrupt_after_progress(argv: list[str], line: re.Pattern[str]) -> tuple[int, str, str]:
    """Run, wait for the first progress line, SIGINT; (status, stdout, stderr)."""
    proc = subprocess.Popen([*EXE, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env())
    try:
        assert proc.stderr is not None
        before = read_until(proc.stderr, line)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, "\n".join(before) + "\n" + err


@pytest.mark.timeout(60)
def test_bench_progress_and_ctrl_c() -> None:
    status, out, err = interrupt_after_progress(
        ["bench", "--progress", "--duration", "30", "--size", "512"], BENCH_LINE)
    assert status == 130
    assert "sec    completed" in err
    assert "asyncmsgr bench: interrupted" in err
    assert "Traceback" not in err
    assert "interrupted: what was measured until Ctrl-C" in out
    messages = re.search(r"messages\s+(\d+) in ([\d.]+) s", out)
    assert messages is not None, out
    assert int(messages.group(1)) > 0
    assert float(messages.group(2)) < 25  # stopped early, not at --duration


@pytest.mark.timeout(60)
def test_bench_ctrl_c_json_partial() -> None:
    status, out, _err = interrupt_after_progress(
        ["bench", "--progress", "--duration", "30", "--json"], BENCH_LINE)
    assert status == 130
    report = json.loads(out)
    assert report["interrupted"] is True
    assert report["messages"] > 0


@pytest.mark.timeout(60)
def test_stress_progress_and_ctrl_c() -> None:
    status, out, err = interrupt_after_progress(
        ["stress", "--progress", "--duration", "30", "--servers", "2", "--clients", "4",
         "--max-payload", "4K", "--seed", "3"], STRESS_LINE)
    assert status == 130
    assert "sec      ops      sent delivered pending" in err
    assert "asyncmsgr stress: interrupted" in err
    assert "Traceback" not in err
    assert "tracked messages still pending at Ctrl-C" in out
    tracked = re.search(r"tracked\s+sent (\d+), delivered (\d+), lost (\d+)", out)
    assert tracked is not None, out
    assert int(tracked.group(1)) > 0
    assert int(tracked.group(3)) == 0  # pending at Ctrl-C is not lost
    assert "result      OK" in out


def test_no_progress_lines_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    """stderr is not a terminal under pytest: no progress without --progress."""
    assert cli_main.main(["stress", "--servers", "1", "--clients", "1", "--ops", "30",
                          "--max-payload", "1K"], env={}) == 0
    err = capsys.readouterr().err
    assert not any(STRESS_LINE.match(line) for line in err.splitlines())


def test_ctrl_c_in_start_up_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """KeyboardInterrupt before any handler is in place (imports, parsing): one
    line, exit 130, no traceback."""
    def interrupted(argv: object = None, env: object = None) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "main", interrupted)
    monkeypatch.setattr(sys, "argv", ["asyncmsgr", "bench"])
    with pytest.raises(SystemExit) as info:
        cli_main.entry()
    assert info.value.code == 130
    assert capsys.readouterr().err == "asyncmsgr: interrupted\n"


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


@pytest.mark.timeout(60)
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_ctrl_c_while_starting_the_server() -> None:
    """SIGINT while ``bench`` waits for its server child to come up: one line,
    exit 130, no traceback, the child stopped too."""
    proc = subprocess.Popen([*EXE, "bench", "--duration", "5"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env())
    try:
        deadline = time.monotonic() + 20
        children: list[int] = []
        while not children and time.monotonic() < deadline and proc.poll() is None:
            children = _children(proc.pid)
            time.sleep(0.005)
        assert children, "bench started no server"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in err, err
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].endswith("interrupted"), err
    for child in children:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        status = Path(f"/proc/{child}/stat")
        assert not status.exists() or status.read_text().split()[2] == "Z", \
            "the server child outlived an interrupted bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(60)
def test_server_metrics_and_admin_socket_from_the_command_line(tmp_path: Path) -> None:
    """``bench server --asyncmsgr_prometheus_addr=127.0.0.1:PORT --admin_socket=...``:
    /metrics counts a client's messages; the socket answers the real tool."""
    port = _free_port()
    asok = tmp_path / "$cluster-$name.asok"
    server = subprocess.Popen(
        [*EXE, "bench", "server", f"--asyncmsgr_prometheus_addr=127.0.0.1:{port}",
         f"--admin_socket={asok}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=_env())
    try:
        assert server.stdout is not None
        addr = read_until(server.stdout, re.compile("listening on"))[-1].split()[-1]
        client = subprocess.run([*EXE, "bench", "client", "--addr", addr, "--ios", "50",
                                 "--json"], capture_output=True, text=True, timeout=30,
                                env=_env(), check=False)
        assert client.returncode == 0, client.stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        received = families["ceph_asyncmessenger_worker_msgr_recv_messages"]
        assert received.type == "counter"
        assert sum(s.value for s in received.samples if s.name.endswith("_total")) >= 50
        assert all(s.labels["ceph_daemon"] == "client.admin" for s in received.samples)
        socket_path = tmp_path / "ceph-client.admin.asok"
        assert socket_path.is_socket()
        if shutil.which("ceph"):
            done = subprocess.run(["ceph", "--admin-daemon", str(socket_path), "perf", "dump"],
                                  capture_output=True, text=True, timeout=30, check=False)
            assert done.returncode == 0, done.stderr
            dump = json.loads(done.stdout)
            assert sum(v["msgr_recv_messages"] for k, v in dump.items()
                       if k.startswith("AsyncMessenger::Worker-")) >= 50
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.communicate(timeout=20)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    assert not (tmp_path / "ceph-client.admin.asok").exists()


@pytest.mark.timeout(60)
def test_rados_bench_ctrl_c_prints_the_summary(tmp_path: Path) -> None:
    """``asyncmsgr rados bench 30 write`` against a fake cluster, SIGINT after the
    first per-second line: the summary of what was written, exit 130."""
    with FakeCluster(osds=1, pools=("test",), auth="none", conf_dir=tmp_path) as cluster:
        proc = subprocess.Popen(
            [*EXE, "rados", "-c", str(cluster.conf_path), "-p", "test", "bench", "30",
             "write", "-b", "4096", "-t", "4"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=_env())
        try:
            assert proc.stdout is not None
            before = read_until(proc.stdout, re.compile(r"^\s+1\s+\d+\s+\d+\s+\d+"))
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "Interrupted"
    assert "Traceback" not in err
    total = re.search(r"Total time run:\s+([\d.]+)", out)
    assert total is not None, "\n".join(before) + out
    assert float(total.group(1)) < 25
    writes = re.search(r"Total writes made:\s+(\d+)", out)
    assert writes is not None
    assert int(writes.group(1)) > 0


def test_ctrl_c_still_works_after_an_in_process_run(capsys: pytest.CaptureFixture[str]) -> None:
    """A closed uvloop loop keeps its SIGINT/SIGTERM handlers (which then swallow
    Ctrl-C); ``main()`` puts the program's own back."""
    pytest.importorskip("uvloop")
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert cli_main.main(["bench", "--ios", "20", "--json", "--asyncmsgr_use_uvloop=true"],
                         env={}) == 0
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
