"""``asyncmsgr bench`` and ``benchmarks/bench_messenger.py``: short real runs on loopback.

Each ``asyncmsgr bench`` test starts the server as a child process (the default,
combined form) and runs a few hundred messages, so it takes well under a second.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from asyncmsgr.cli import benchlib
from asyncmsgr.cli.main import main
from asyncmsgr.config import MessengerConfig
from asyncmsgr.message import RawMessage
from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy

REPO = Path(__file__).resolve().parents[2]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str,
             env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    status = main(["bench", *argv, "--json"], env=env or {})
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out  # exactly one JSON object
    report = json.loads(lines[0])
    assert isinstance(report, dict)
    return status, report


def check_common(report: dict[str, Any]) -> None:
    assert isinstance(report["messages_per_s"], float)
    assert report["messages_per_s"] > 0
    assert isinstance(report["mb_per_s"], float)
    assert report["mb_per_s"] > 0
    assert set(report["latency_us"]) >= {"p50", "p99"}
    for key, kind in (("size", int), ("concurrency", int), ("jobs", int), ("policy", str),
                      ("mode", str), ("embedded", bool), ("threads", int),
                      ("messages", int), ("elapsed_s", float)):
        assert isinstance(report[key], kind), key
    assert "duration" in report
    assert report["errors"] == []


def test_request_mode_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, r = run_json(capsys, "--ios", "200", "--size", "1024", "--concurrency", "8")
    assert status == 0
    check_common(r)
    assert r["mode"] == "request"
    assert r["messages"] == 200
    assert (r["size"], r["concurrency"], r["jobs"]) == (1024, 8, 1)
    assert r["policy"] == "lossy_client"
    assert r["server_policy"] == "stateless_server"
    p50, p99 = r["latency_us"]["p50"], r["latency_us"]["p99"]
    assert isinstance(p50, float)
    assert isinstance(p99, float)
    assert 0 < p50 <= p99
    assert r["embedded"] is True
    assert r["threads"] == 0
    assert r["server_stats"]["messages"] == 200


def test_stream_mode_json_duration(capsys: pytest.CaptureFixture[str]) -> None:
    status, r = run_json(capsys, "--mode", "stream", "--duration", "0.5", "--jobs", "2")
    assert status == 0
    check_common(r)
    assert r["mode"] == "stream"
    assert r["duration"] == 0.5
    assert r["latency_us"]["p50"] is None
    assert r["jobs"] == 2
    assert r["concurrency"] == (16 << 20) // 4096  # the default stream window
    # the server counted every stream message the client reports (+1 start request/job)
    assert r["server_stats"]["messages"] == r["messages"] + 2
    assert 0.4 < r["elapsed_s"] < 3


@pytest.mark.parametrize(("auth", "mode", "expect"), [
    ("dummy", "secure", "secure"),
    ("dummy", "crc", "crc"),
    ("none", "crc secure", "crc"),
])
def test_auth_and_connection_mode(capsys: pytest.CaptureFixture[str], auth: str, mode: str,
                                  expect: str) -> None:
    status, r = run_json(capsys, "--ios", "100", "--auth", auth, f"--ms_client_mode={mode}")
    assert status == 0
    check_common(r)
    assert r["auth"] == auth
    assert r["con_mode"] == expect  # what the connection's handshake negotiated
    assert r["messages"] == 100


def test_secure_mode_on_the_connection() -> None:
    """run_client's con_modes come from the connection's negotiated auth state."""
    async def go() -> list[str | None]:
        config = MessengerConfig().replace(ms_client_mode="secure")
        msgr, _server = await benchlib.start_server(config, "v2:127.0.0.1:0",
                                                    Policy.stateless_server(), auth="dummy")
        try:
            opts = benchlib.ClientOptions(addr=str(msgr.my_addrs), ios=20, duration=None,
                                          auth="dummy")
            result = await benchlib.run_client(config, opts)
        finally:
            msgr.shutdown()
            await msgr.wait()
        assert result.messages == 20
        assert result.errors == []
        return result.con_modes

    assert asyncio.run(go()) == ["secure"]
    assert benchlib.con_mode_name(None) is None


def test_lossless_policy_gets_stateful_server(capsys: pytest.CaptureFixture[str]) -> None:
    status, r = run_json(capsys, "--ios", "100", "--policy", "lossless_client")
    assert status == 0
    assert r["messages"] == 100
    assert r["server_policy"] == "stateful_server"


@pytest.mark.parametrize("how", ["argv", "ceph_args"])
def test_config_options_reach_the_messenger(capsys: pytest.CaptureFixture[str],
                                            how: str) -> None:
    opts = ["--ms_async_op_threads=2", "--asyncmsgr_embedded=false"]
    if how == "argv":
        status, r = run_json(capsys, "--ios", "100", *opts)
    else:
        status, r = run_json(capsys, "--ios", "100",
                             env={"CEPH_ARGS": "--ms-async-op-threads 2 "
                                               "--asyncmsgr-embedded=false"})
    assert status == 0
    assert r["embedded"] is False
    assert r["threads"] == 2
    assert r["client_worker_threads"] == 2  # the messenger really started 2 workers
    assert r["messages"] == 100


@pytest.mark.parametrize("argv", [
    ["bench", "--ms_no_such_option=1"],
    ["bench", "--ms_async_op_threads=lots"],
    ["bench", "--ms_async_op_threads=99"],
    ["bench", "--asyncmsgr_embedded=maybe"],
    ["decode", "x.pcap", "--ms_bogus"],
    ["bench", "--size", "-1"],
    ["bench", "--mode", "sideways"],
    ["bench", "--duration", "1", "--ios", "5"],
    ["bench", "client"],
    [],
])
def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv, env={}) == 2
    assert "error" in capsys.readouterr().err


def test_bad_ceph_args_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench"], env={"CEPH_ARGS": "--ms_typo_option 3"}) == 2
    assert "ms_typo_option" in capsys.readouterr().err


def test_help_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help-config"], env={}) == 0
    out = capsys.readouterr().out
    assert "--ms_async_op_threads (int, default 3)" in out
    assert "--asyncmsgr_embedded (bool, default True)" in out


def test_unreachable_server_fails_fast(capsys: pytest.CaptureFixture[str]) -> None:
    status, r = run_json(capsys, "client", "--addr", "v2:127.0.0.1:1/0", "--ios", "5")
    assert status == 1
    assert r["messages"] == 0
    assert any("refused" in e for e in r["errors"])


def test_percentile_and_policies() -> None:
    assert benchlib.percentile([], 0.5) is None
    values = list(range(1, 101))
    assert benchlib.percentile(values, 0.5) == 50
    assert benchlib.percentile(values, 0.99) == 99
    assert benchlib.percentile(values, 1.0) == 100
    assert benchlib.percentile([7], 0.99) == 7
    assert benchlib.server_policy_name("lossy_client") == "stateless_server"
    assert benchlib.server_policy_name("lossless_peer") == "stateful_server"
    assert benchlib.server_policy_name("stateful_server") == "stateful_server"
    assert benchlib.server_policy_for("default") == Policy.stateful_server()
    with pytest.raises(ValueError, match="unknown policy"):
        benchlib.server_policy_for("nope")


def test_parse_op() -> None:
    assert benchlib.parse_op(MPing()) == (benchlib.OP_REQUEST, 0, 0)
    m = RawMessage(raw_type=MPing.TYPE,
                   front=benchlib.BENCH_OP.pack(benchlib.OP_CREDIT, 7, 1 << 40))
    assert benchlib.parse_op(m) == (benchlib.OP_CREDIT, 7, 1 << 40)


def run_script(*argv: str, timeout: float) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_messenger.py"),
                           *argv], capture_output=True, text=True, timeout=timeout,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert isinstance(report, dict)
    return report


def test_bench_messenger_quick_json() -> None:
    r = run_script("--quick", "--json", timeout=90)
    assert r["config"]["rounds"] == 1
    for peer in ("asyncmsgr-embedded", "asyncmsgr-threaded", "minimal"):
        for key in ("stream_4k", "pingpong_16"):
            result = r["results"][peer][key]
            assert result["median"] > 0, (peer, key, result)
            assert result["errors"] == []
    ratio_keys = {(x["peer"], x["workload"], x["vs"]) for x in r["ratios"]}
    assert ("asyncmsgr-embedded", "stream_4k", "minimal") in ratio_keys


def test_bench_messenger_connections_quick() -> None:
    r = run_script("--connections", "40", "--per-messenger", "16", "--json", timeout=90)
    assert r["connections"] == 40
    assert r["replies"] == 40
    assert r["client_messengers"] == 3
    assert r["server_messages"] == 40
    assert isinstance(r["setup_s"], float)
    assert isinstance(r["server_rss_per_conn"], float)
