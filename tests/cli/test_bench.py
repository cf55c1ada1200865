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
    assert r["msgr"] == "v2"  # the default protocol, as the connection reports it
    assert r["server_stats"]["msgr"] == "v2"
    assert r["con_mode"] == "crc"
    assert r["event_loop"] in ("asyncio", "uvloop")  # the caller's loop (embedded)
    assert r["server_stats"]["event_loop"] == r["event_loop"]


@pytest.mark.parametrize("mode", ["request", "stream"])
def test_msgr_v1_json(capsys: pytest.CaptureFixture[str], mode: str) -> None:
    """``--msgr v1``: the server binds a v1 address and both ends speak msgr v1."""
    status, r = run_json(capsys, "--msgr", "v1", "--mode", mode, "--ios", "150",
                         "--size", "1024", "--concurrency", "8")
    assert status == 0
    check_common(r)
    assert r["server"].startswith("v1:127.0.0.1:")
    assert r["msgr"] == "v1"  # the client's connection: is_msgr2 is False
    assert r["server_stats"]["msgr"] == "v1"  # the server's accepted connection too
    assert r["con_mode"] is None  # msgr v1 has no crc/secure modes
    assert r["messages"] == 150
    extra = 1 if mode == "stream" else 0  # the stream's start request
    assert r["server_stats"]["messages"] == 150 + extra
    assert r["server_stats"]["data_bytes"] == 150 * 1024


def test_msgr_v1_on_the_connection() -> None:
    """run_client over msgr v1: the connection and the server's counters say v1."""
    async def go() -> tuple[list[str | None], tuple[str | None, ...], int]:
        config = MessengerConfig()
        msgr, server = await benchlib.start_server(config, benchlib.bind_addr("v1"),
                                                   Policy.stateless_server())
        try:
            assert msgr.my_addrs.msgr2_addr is None
            opts = benchlib.ClientOptions(addr=str(msgr.my_addrs), ios=30, duration=None,
                                          size=100)
            result = await benchlib.run_client(config, opts)
        finally:
            msgr.shutdown()
            await msgr.wait()
        assert result.errors == []
        assert result.messages == 30
        stats = server.statistics()
        return result.msgrs, stats.msgrs, stats.data_bytes

    assert asyncio.run(go()) == (["v1"], ("v1",), 3000)
    assert benchlib.msgr_name(None) is None
    with pytest.raises(ValueError, match="v3"):
        benchlib.bind_addr("v3")  # type: ignore[arg-type]


def test_client_msgr_v2_against_a_v1_server(capsys: pytest.CaptureFixture[str]) -> None:
    """``client --msgr v2`` with a v1-only address fails cleanly (no traceback)."""
    status, r = run_json(capsys, "client", "--addr", "v1:127.0.0.1:1/0", "--msgr", "v2",
                         "--ios", "5")
    assert status == 1
    assert r["messages"] == 0
    assert any("no msgr2 address" in e for e in r["errors"]), r["errors"]


def test_summarise_names() -> None:
    assert benchlib.summarise_names([]) is None
    assert benchlib.summarise_names([None]) is None
    assert benchlib.summarise_names(["v1", "v1", None]) == "v1"
    assert benchlib.summarise_names(["v1", "v2"]) == "mixed"


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
    ["bench", "--msgr", "v3"],
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


def test_bench_v1_v2_smoke() -> None:
    """benchmarks/bench_v1_v2.py runs every case over both protocols (tiny duration)."""
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_v1_v2.py"),
                           "--rounds", "1", "--duration", "0.2", "--json"],
                          capture_output=True, text=True, timeout=90, check=False)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["config"]["rounds"] == 1
    assert set(r["cases"]) == {"stream_4k", "stream_4m", "pingpong"}
    for key, case in r["cases"].items():
        for proto in ("v2", "v1"):
            assert case[proto]["errors"] == [], (key, proto)
            assert case[proto]["msgs_per_s"] > 0, (key, proto)
        assert case["ratio"] > 0
        assert len(case["ratio_rounds"]) == 1
    assert r["cases"]["pingpong"]["v1"]["p50_us"] > 0


def test_bench_messenger_connections_quick() -> None:
    r = run_script("--connections", "40", "--per-messenger", "16", "--json", timeout=90)
    assert r["connections"] == 40
    assert r["replies"] == 40
    assert r["client_messengers"] == 3
    assert r["server_messages"] == 40
    assert isinstance(r["setup_s"], float)
    assert isinstance(r["server_rss_per_conn"], float)


def test_uvloop_workers_are_reported(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("uvloop")
    status, r = run_json(capsys, "--ios", "50", "--asyncmsgr_embedded=false",
                         "--asyncmsgr_use_uvloop=true")
    assert status == 0
    assert r["event_loop"] == "uvloop"
    assert r["messages"] == 50
