"""``asyncmsgr stress``: small real runs in this process, report keys, exit status.

The exit status is proven end to end: a hidden ``--debug-violation`` flag makes
the workload commit one duplicate, reorder, corruption or loss on the wire, and
the run must fail with exactly that count; the verdict function is also checked
on hand-made results. ``--msgr v1`` runs are checked the same way, including
the lossless issue's injected run over msgr v1 (1/30 socket failures).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from asyncmsgr.cli import stress
from asyncmsgr.cli.main import main
from asyncmsgr.stress.workload import WorkloadResult
from asyncmsgr.testing.ledger import LedgerStats

REPO = Path(__file__).resolve().parents[2]
#: A run of well under a second: 2 x 4 messengers, small payloads.
SMALL = ["--servers", "2", "--clients", "4", "--seed-connections", "4", "--ops", "300",
         "--max-payload", "16K", "--seed", "7", "--timeout", "20"]
#: No drops: nothing can excuse a deliberately broken message.
NO_DROPS = ["--mix", "connect=1,send=8,sleep=1"]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status = main(["stress", *argv, "--json"], env={})
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    report = json.loads(lines[0])
    assert isinstance(report, dict)
    return status, report


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["--embedded", "--threaded"])
def test_small_run_is_clean(capsys: pytest.CaptureFixture[str], mode: str) -> None:
    status, r = run_json(capsys, *SMALL, mode, "--ms_async_op_threads=2")
    assert status == 0, r
    for key in stress.REPORT_KEYS:
        assert isinstance(r[key], int), key
    assert r["sent"] > 300  # client sends plus server echoes
    assert (r["lost"], r["duplicated"], r["reordered"], r["corrupted"]) == (0, 0, 0, 0)
    assert r["sent"] == r["delivered"] + r["discarded_by_reset"] + r["discarded_by_mark_down"]
    assert r["faults_injected"] == 0
    assert r["ok"] is True
    assert r["violations"] == []
    assert r["embedded"] is (mode == "--embedded")
    assert r["threads"] == (0 if mode == "--embedded" else 2)
    assert r["policy"] == "lossless_client"
    assert (r["server_policy"], r["client_policy"]) == ("stateful_server", "lossless_client")
    assert r["seed"] == 7
    assert r["config"]["ms_max_backoff"] == 1.0  # test_msgr's main() default
    assert r["msgs_per_s"] > 0
    assert r["ops"]["send"] > 0
    assert r["msgr"] == "v2"
    assert set(r["sessions_by_protocol"]) == {"v2"}


@pytest.mark.timeout(60)
def test_injected_run_counts_faults(capsys: pytest.CaptureFixture[str]) -> None:
    status, r = run_json(capsys, *SMALL, *NO_DROPS, "--policy", "lossless_peer",
                         "--ms_inject_socket_failures=30", "--ms_max_backoff=0.5")
    assert status == 0, r
    assert r["faults_injected"] >= r["socket_failures"] > 0
    assert r["reconnects"] + r["reaccepts"] > 0
    assert (r["lost"], r["duplicated"], r["reordered"], r["corrupted"]) == (0, 0, 0, 0)
    assert r["discarded_by_reset"] == r["discarded_by_mark_down"] == 0
    assert r["config"]["ms_max_backoff"] == 0.5  # given: kept


@pytest.mark.timeout(90)
@pytest.mark.parametrize("policy", ["lossless_client", "lossless_peer"])
def test_msgr_v1_injected_run_is_clean(capsys: pytest.CaptureFixture[str],
                                       policy: str) -> None:
    """asyncmsgr v1 servers and v1 clients, a lossless policy, 1/30 socket failures
    and internal delays, 1,000 ops without drops: nothing lost, duplicated,
    reordered or corrupted, nothing even excused by a reset, while sessions
    really faulted and reconnected (so the run could have failed)."""
    status, r = run_json(capsys, "--msgr", "v1", "--policy", policy, "--servers", "4",
                         "--clients", "8", "--seed-connections", "10", "--ops", "1000",
                         "--max-payload", "64K", "--seed", "26", "--timeout", "30",
                         *NO_DROPS, "--threaded", "--ms_async_op_threads=2",
                         "--ms_inject_socket_failures=30",
                         "--ms_inject_internal_delays=0.005")
    assert status == 0, r
    assert r["msgr"] == "v1"
    assert set(r["sessions_by_protocol"]) == {"v1"}  # every session spoke msgr v1
    assert r["ops"]["send"] >= 700  # 1,000 ops, 80% of them sends
    assert r["sent"] >= 1000  # sends and echoes
    assert (r["lost"], r["duplicated"], r["reordered"], r["corrupted"]) == (0, 0, 0, 0)
    assert r["sent"] == r["delivered"]
    assert r["discarded_by_reset"] == r["discarded_by_mark_down"] == 0
    assert r["socket_failures"] > 10
    assert r["faults"]["internal_delays"] > 0
    assert r["reconnects"] > 0
    assert r["reaccepts"] > 0
    assert r["ok"] is True


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("kind", "key", "msgr"), [
    ("duplicate", "duplicated", "v2"),
    ("reorder", "reordered", "v2"),
    ("corrupt", "corrupted", "v2"),
    ("loss", "lost", "v2"),
    ("duplicate", "duplicated", "v1"),
    ("reorder", "reordered", "v1"),
])
def test_violation_fails_the_run(capsys: pytest.CaptureFixture[str], kind: str,
                                 key: str, msgr: str) -> None:
    args = [*SMALL, *NO_DROPS, "--debug-violation", kind, "--msgr", msgr]
    if kind == "loss":
        args += ["--timeout", "0.5"]  # the final wait gives up on the missing message
    status, r = run_json(capsys, *args)
    assert status == 1
    assert r[key] == 1
    assert r["ok"] is False
    others = {"duplicated", "reordered", "corrupted", "lost"} - {key}
    assert all(r[k] == 0 for k in others), r
    assert r["violations"][0].startswith(f"1 tracked messages {key}")


@pytest.mark.timeout(60)
def test_text_summary(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["stress", *SMALL, "--policy", "lossy_client"], env={})
    out = capsys.readouterr().out
    assert status == 0
    assert "lossy_client (stateless_server servers, lossy_client clients)" in out
    assert "msgr v2," in out
    assert "duplicated 0, reordered 0, corrupted 0" in out
    assert out.rstrip().endswith("result      OK")


def test_help_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stress", "--help"], env={}) == 0
    out = capsys.readouterr().out
    for option in ("--policy", "--msgr", "--servers", "--clients", "--ops", "--duration", "--seed",
                   "--seed-connections", "--max-in-flight", "--max-connections", "--mix",
                   "--sleep-min-ms", "--sleep-max-ms", "--payloads", "--min-payload",
                   "--max-payload", "--noise-percent", "--tracked-type", "--queued-dispatch",
                   "--congestion-ops", "--timeout", "--embedded", "--threaded", "--json",
                   "--ms_inject_socket_failures", "lossless_peer_reuse",
                   "discarded_by_reset", "Exit status"):
        assert option in out, option
    assert "--debug-violation" not in out


@pytest.mark.parametrize("argv", [
    ["--min-payload", "2K", "--max-payload", "1K"],
    ["--mix", "connect=1,jump=2"],
    ["--policy", "stateful_server"],
    ["--msgr", "v3"],
    ["--servers", "0"],
    ["--ops", "5", "--duration", "1"],
    ["--ms_inject_socket_failure=3"],
])
def test_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(["stress", *argv], env={}) == 2
    assert capsys.readouterr().err


def _result(*, pending: int = 0, discarded_by_reset: int = 0,
            discarded_by_mark_down: int = 0, duplicated: int = 0, reordered: int = 0,
            corrupted: int = 0) -> WorkloadResult:
    stats = LedgerStats(sent=10, delivered=10, pending=pending,
                        discarded_by_reset=discarded_by_reset,
                        discarded_by_mark_down=discarded_by_mark_down, duplicated=duplicated,
                        reordered=reordered, corrupted=corrupted, streams=1, closed_streams=0)
    return WorkloadResult(stats=stats, ops={}, noise_sent=0, noise_received=0, faults={},
                          reconnects=0, reaccepts=0, resets=0, remote_resets=0, elapsed=1.0,
                          stalled=False, pending_streams=())


@pytest.mark.parametrize(("stats", "status"), [
    ({}, 0),
    ({"discarded_by_reset": 3, "discarded_by_mark_down": 2}, 0),
    ({"duplicated": 1}, 1),
    ({"reordered": 1}, 1),
    ({"corrupted": 1}, 1),
    ({"pending": 1}, 1),
])
def test_verdict(stats: dict[str, int], status: int) -> None:
    r = _result(**stats)
    assert stress.exit_status(r) == status
    assert bool(stress.verdict(r)) is bool(status)


def test_verdict_fails_on_stall_or_leftover_dispatch() -> None:
    r = dataclasses.replace(_result(), errors=("1 messages left in dispatch queues",))
    assert stress.exit_status(r) == 1
    assert stress.verdict(r) == ["1 messages left in dispatch queues"]


@pytest.mark.timeout(90)
def test_soak_benchmark_smoke() -> None:
    """``benchmarks/soak.py`` in miniature: both phases clean, faults attributed to
    connections, reconnect and replay latencies measured."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "soak.py"), "--duration", "2",
         "--baseline-duration", "0.5", "--failures", "30", "--servers", "2", "--clients",
         "4", "--max-payload", "16K", "--timeout", "20", "--json"],
        capture_output=True, text=True, timeout=80, check=False)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["ok"] is True
    for phase in ("baseline", "injected"):
        p = r[phase]
        assert p["violations"] == []
        assert p["delivered"] > 0
        assert p["msgs_per_s"] > 0
    inj = r["injected"]
    assert inj["faults"]["socket_failures"] > 0
    assert inj["attributed_faults"] >= inj["faults"]["socket_failures"]  # + shutdown
    assert inj["unattributed_faults"] == 0
    assert inj["reconnect_ms"]["n"] > 0
    assert 0 < inj["reconnect_ms"]["p50"] <= inj["reconnect_ms"]["p99"]
    assert r["baseline"]["faults"] == {}
    assert r["rate_ratio"] > 0
