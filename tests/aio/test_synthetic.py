"""Ceph's synthetic messenger tests (``test_msgr.cc`` 17-22 and SyntheticInjectTest5).

Real sockets on 127.0.0.1, ``servers x clients`` messengers in this process, the
op mix of :mod:`asyncmsgr.stress.workload`, and the per-session ledger of
:mod:`asyncmsgr.testing.ledger` in place of Ceph's per-connect bookkeeping: every
tracked message (both directions: servers echo) must arrive exactly once, in
order, intact, unless its session was closed by a reset callback or by the
workload's own mark_down.

Counts are scaled for CI (ops, messengers, payloads up to 64 KiB, internal
delays of 5 ms instead of 100 ms); ``asyncmsgr stress`` runs Ceph's full counts
by default. Every test is bounded by ``run(..., timeout=...)`` and by the
workload's own stall timeout.

The tests also run over msgr v1 (``protocol="v1"``: every messenger binds a v1
address), in one threading model each to keep CI time down. The ledger and
its verdict are the same: v1 sessions must be just as exactly-once, although
they get there differently (connect_seq / global_seq races decided by
handle_connect_message_2, a replaced connection answering RETRY_GLOBAL, the
TAG_SEQ exchange trimming the replay, explicit TAG_ACKs).
"""

from __future__ import annotations

from typing import Any

import pytest
from msgr_harness import PROTOCOLS, make_config, run

from asyncmsgr.config import MessengerConfig
from asyncmsgr.stress.workload import OpMix, WorkloadOptions, WorkloadResult, run_workload

KiB = 1024
MiB = 1024 * KiB
#: Scaled-down SyntheticStressTest shape shared by most tests.
SCALED: dict[str, Any] = {"max_payload": 64 * KiB, "timeout": 20.0}
#: ms_inject_internal_delays in CI (Ceph: 0.1 s).
DELAY = 0.005
NO_DROPS = OpMix(connect=9, drop=0, send=70, sleep=10)


def run_synthetic(options: WorkloadOptions, config: MessengerConfig, *,
                  timeout: float = 60.0) -> WorkloadResult:
    """Run the workload under the harness (nothing may leak or log an error)."""
    out: list[WorkloadResult] = []

    async def go() -> None:
        out.append(await run_workload(options, config))
    run(go, timeout=timeout)
    return out[0]


def assert_clean(r: WorkloadResult, protocol: str, *, excused: bool = True) -> None:
    """Zero lost, duplicated, reordered, corrupted; everything accounted for; every
    session spoke ``protocol``.

    With ``excused=False`` no message may even be excused by a reset or mark_down.
    """
    assert set(r.sessions_by_protocol) == {protocol}, r.sessions_by_protocol
    s = r.stats
    detail = f"{s} pending={r.pending_streams} errors={r.errors}"
    assert not r.stalled, detail
    assert (s.lost, s.duplicated, s.reordered, s.corrupted) == (0, 0, 0, 0), detail
    assert s.samples == (), detail
    assert r.errors == (), detail
    assert r.dispatch_queue_leftover == 0
    assert s.delivered > 0
    assert s.sent == s.delivered + s.discarded_by_reset + s.discarded_by_mark_down, detail
    if not excused:
        assert s.discarded_by_reset == s.discarded_by_mark_down == 0, detail
    assert r.ops.get("send", 0) > 0


def config(embedded: bool, **overrides: Any) -> MessengerConfig:
    """test_msgr's main() settings (ms_max_backoff=1), two workers when threaded."""
    return make_config(embedded, **overrides)


# -- SyntheticStressTest / SyntheticStressTest1 (no injection) ---------------------------


@pytest.mark.timeout(90)
@pytest.mark.parametrize(("embedded", "protocol"), [(True, "v2"), (False, "v2"),
                                                    (False, "v1")],
                         ids=["embedded", "threaded", "threaded-v1"])
def test_synthetic_stress(embedded: bool, protocol: str) -> None:
    """8 x 32 stateful_server / lossless_client, 100 seeds, 9/10/70/10 mix."""
    r = run_synthetic(WorkloadOptions(servers=8, clients=32, ops=800, seed=17,
                                      protocol=protocol, **SCALED),
                      config(embedded))
    assert_clean(r, protocol)
    assert r.ops["drop"] > 0  # the mix really ran
    assert r.ops["seed_connect"] == 100
    assert r.ops["connect"] > 0
    assert r.noise_sent > 0
    assert 0 < r.noise_received <= r.noise_sent  # untracked: may die with a dropped session
    assert r.faults_injected == 0


@pytest.mark.timeout(90)
@pytest.mark.parametrize(("embedded", "protocol"), [(True, "v2"), (False, "v2"),
                                                    (True, "v1")],
                         ids=["embedded", "threaded", "embedded-v1"])
def test_synthetic_stress1_lossless_peer_reuse(embedded: bool, protocol: str) -> None:
    """lossless_peer_reuse both sides, 10 seeds, 19/20/50/10 mix (drops mark both sides)."""
    r = run_synthetic(WorkloadOptions(
        servers=8, clients=16, policy="lossless_peer_reuse", ops=800, seed=18,
        protocol=protocol,
        seed_connections=10, mix=OpMix(connect=19, drop=20, send=50, sleep=10), **SCALED),
        config(embedded))
    assert_clean(r, protocol)
    assert r.ops["drop"] > 0


# -- SyntheticInjectTest 1-4 ---------------------------------------------------------------


@pytest.mark.timeout(90)
@pytest.mark.parametrize(("embedded", "queued", "protocol"), [
    (True, False, "v2"), (False, False, "v2"), (False, True, "v2"), (False, True, "v1")],
    ids=["embedded", "threaded", "threaded-queued", "threaded-queued-v1"])
def test_synthetic_inject(embedded: bool, queued: bool, protocol: str) -> None:
    """Socket failures 1/30, internal delays, 16 MiB dispatch throttle, sleeps 0.1-0.6 ms;
    also with every message going through the dispatch queue."""
    r = run_synthetic(WorkloadOptions(servers=8, clients=16, ops=500, seed=19,
                                      sleep_min=0.0001, sleep_max=0.0006,
                                      queued_dispatch=queued, protocol=protocol,
                                      **SCALED),
                      config(embedded, ms_inject_socket_failures=30,
                             ms_inject_internal_delays=DELAY,
                             ms_dispatch_throttle_bytes=16 * MiB))
    assert_clean(r, protocol)
    assert r.faults["socket_failures"] > 0
    assert r.reconnects > 0


@pytest.mark.timeout(90)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_synthetic_inject2_lossless_peer_reuse(protocol: str) -> None:
    """Socket failures 1/30 and internal delays on lossless_peer_reuse peers."""
    r = run_synthetic(WorkloadOptions(servers=8, clients=16, policy="lossless_peer_reuse",
                                      ops=500, seed=20, protocol=protocol, **SCALED),
                      config(True, ms_inject_socket_failures=30,
                             ms_inject_internal_delays=DELAY))
    assert_clean(r, protocol)
    assert r.faults["socket_failures"] > 0


@pytest.mark.timeout(90)
@pytest.mark.parametrize("embedded", [True, False], ids=["embedded", "threaded"])
def test_synthetic_inject3_lossy(embedded: bool) -> None:
    """stateless_server / lossy_client, failures 1/600: losses only with a reset.

    (Lossy sessions over v1 run in test_lossy_losses_are_excused_by_resets.)"""
    protocol = "v2"
    r = run_synthetic(WorkloadOptions(servers=8, clients=16, policy="lossy_client",
                                      ops=800, seed=21, protocol=protocol, **SCALED),
                      config(embedded, ms_inject_socket_failures=600,
                             ms_inject_internal_delays=DELAY))
    assert_clean(r, protocol)  # lost == 0: whatever did not arrive was excused by a reset/mark_down
    assert r.faults["internal_delays"] > 0  # 1/600 may well inject no socket failure


@pytest.mark.timeout(90)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_lossy_losses_are_excused_by_resets(protocol: str) -> None:
    """Lossy sessions under 1/30 socket failures do lose messages, and every loss
    comes with ms_handle_reset on the sending side (nothing is counted lost)."""
    r = run_synthetic(WorkloadOptions(servers=4, clients=8, policy="lossy_client", ops=600,
                                      seed=25, seed_connections=10, mix=NO_DROPS,
                                      protocol=protocol, **SCALED),
                      config(False, ms_inject_socket_failures=30))
    assert_clean(r, protocol)
    assert r.faults["socket_failures"] > 0
    assert r.resets > 0
    assert r.stats.discarded_by_reset > 0  # the excuse path really ran
    assert r.stats.discarded_by_mark_down == 0  # no drops: only resets excuse


@pytest.mark.timeout(90)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_synthetic_inject4_delayed_delivery(protocol: str) -> None:
    """lossless_peer, no drops, every received message delayed ("client osd")."""
    r = run_synthetic(WorkloadOptions(servers=8, clients=16, policy="lossless_peer",
                                      ops=500, seed=22, protocol=protocol,
                                      mix=OpMix(connect=4, drop=0, send=70, sleep=26),
                                      **SCALED),
                      config(False, ms_inject_socket_failures=30,
                             ms_inject_internal_delays=DELAY,
                             ms_inject_delay_probability=1.0,
                             ms_inject_delay_type="client osd", ms_inject_delay_max=0.01))
    assert_clean(r, protocol, excused=False)
    assert r.faults["delayed_messages"] > 0
    assert r.faults["socket_failures"] > 0


@pytest.mark.timeout(90)
@pytest.mark.parametrize(("embedded", "protocol"), [(True, "v2"), (False, "v2"),
                                                    (False, "v1")],
                         ids=["embedded", "threaded", "threaded-v1"])
def test_synthetic_inject5_congestion(embedded: bool, protocol: str) -> None:
    """1 x 8, two connections, big tracked MCommands, congestion 100 for the first third."""
    r = run_synthetic(WorkloadOptions(
        servers=1, clients=8, ops=300, seed=23, max_connections=2, seed_connections=2,
        protocol=protocol,
        mix=OpMix(connect=0, drop=0, send=1, sleep=0), tracked_type="command",
        noise_percent=0, payloads=8, min_payload=256 * KiB, max_payload=1 * MiB,
        congestion_ops=100, timeout=20.0),
        config(embedded, ms_inject_network_congestion=100))
    assert_clean(r, protocol, excused=False)
    assert r.stats.sent == 2 * 300  # every send tracked, every one echoed
    assert r.faults["congestion"] > 0


# -- exactly once across reconnects ----------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("policy", "embedded", "protocol"), [
    ("lossless_client", False, "v2"),
    ("lossless_peer", True, "v2"),
    ("lossless_peer_reuse", False, "v2"),
    ("lossless_client", True, "v1"),
    ("lossless_peer", False, "v1"),
])
def test_exactly_once_under_socket_failures(policy: str, embedded: bool,
                                            protocol: str) -> None:
    """1/30 socket failures with internal delays, 1,000 ops, no drops: every message of
    both directions arrives exactly once, in order, intact, none excused, while
    sessions really faulted and reconnected.

    Over v1: asyncmsgr v1 servers and v1 clients, lossless_client (stateful_server)
    and lossless_peer; the same ledger, nothing lost, duplicated, reordered or
    corrupted, and none excused by a reset either.
    """
    r = run_synthetic(WorkloadOptions(servers=4, clients=8, policy=policy, ops=1000,
                                      seed=24, seed_connections=10, mix=NO_DROPS,
                                      protocol=protocol, **SCALED),
                      config(embedded, ms_inject_socket_failures=30,
                             ms_inject_internal_delays=DELAY), timeout=80)
    assert_clean(r, protocol, excused=False)
    assert r.stats.sent >= 1000  # sends and echoes
    assert r.faults_injected > 0
    assert r.faults["socket_failures"] > 10
    assert r.reconnects > 0
