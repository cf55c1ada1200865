"""Soak: the synthetic workload under 1/500 socket failures, checked by the ledger.

Two phases in one invocation, each the ``asyncmsgr stress`` workload (8 servers x
32 clients, stateful_server / lossless_client by default, SyntheticStressTest's
op mix 9/10/70/10, 64 in flight, payloads 32 B .. ``--max-payload``) run by
duration instead of op count:

1. **baseline**: no injection, ``--baseline-duration`` seconds;
2. **injected**: ``ms_inject_socket_failures=--failures`` (default 500, teuthology's
   "many"), ``--duration`` seconds (default 600).

Each phase must leave the ledger clean (nothing lost, duplicated, reordered or
corrupted). Reported: tracked messages/s of each phase and their ratio, and for
the injected phase the reconnect latency per injected fault:

* ``reconnect``: from the injected socket failure to the next
  ``ms_handle_fast_connect`` / ``ms_handle_fast_accept`` on the *client's*
  connection of that session (a failure on a server-side connection is
  charged to the client connection it last carried messages for, so a server
  connection whose client was dropped, and that only comes back with a new
  session much later, gives no sample);
* ``replay``: from the failure to the first tracked message delivered after that
  re-establishment that was sent *before* the failure (a replayed or requeued
  message), on that session in either direction. Faults with nothing in
  flight give no replay sample.

Measuring the fault time needs the failing connection: the soak sets each
messenger's ``injector.on_socket_failure`` hook, called with the connection
whose socket an injected failure shuts.

Run: ``python benchmarks/soak.py [--duration 600] [--baseline-duration 120]
[--failures 500] [--max-payload 64K] [--policy lossless_client] [--threaded]
[--json] [--ms_*=...]``. Exit status 0 when both phases were clean, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from asyncmsgr.aio.connection import AsyncConnection
from asyncmsgr.config import ConfigError, MessengerConfig, parse_config_args, parse_size
from asyncmsgr.connection import Connection
from asyncmsgr.messenger import Messenger
from asyncmsgr.stress.workload import (
    POLICY_PAIRS,
    WorkloadObserver,
    WorkloadOptions,
    WorkloadResult,
    run_workload,
)
from asyncmsgr.testing.ledger import Arrival


@dataclass
class FaultClock(WorkloadObserver):
    """Per connection: last injected fault, the re-establishment after it, samples."""

    inject: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    fault_at: dict[int, int] = field(default_factory=dict)
    link_of: dict[int, int] = field(default_factory=dict)
    """conn_id -> the client connection (ledger link) it last carried messages for."""
    reconnected_at: dict[int, int] = field(default_factory=dict)
    reconnect_ns: list[int] = field(default_factory=list)
    replay_ns: list[int] = field(default_factory=list)
    faults: int = 0
    unattributed: int = 0

    def messenger_created(self, index: int, msgr: Messenger) -> None:
        if self.inject:
            msgr.injector.on_socket_failure = self.socket_failure

    def socket_failure(self, conn: object) -> None:
        """The injector shut ``conn``'s socket."""
        if isinstance(conn, AsyncConnection):
            self.fault(conn.conn_id)
        else:
            with self.lock:
                self.unattributed += 1

    def fault(self, conn_id: int) -> None:
        now = time.monotonic_ns()
        with self.lock:
            self.faults += 1
            cid = self.link_of.get(conn_id, conn_id)
            self.fault_at[cid] = now
            self.reconnected_at.pop(cid, None)

    def session(self, index: int, con: Connection, *, accept: bool) -> None:
        now = time.monotonic_ns()
        cid = con.conn_id
        with self.lock:
            at = self.fault_at.get(cid)
            if at is not None and cid not in self.reconnected_at:
                self.reconnected_at[cid] = now
                self.reconnect_ns.append(now - at)

    def delivered(self, index: int, con: Connection, arrival: Arrival) -> None:
        h = arrival.header
        if h is None:
            return
        now = time.monotonic_ns()
        with self.lock:
            self.link_of[con.conn_id] = self.link_of[h.key.conn] = h.key.link
            if not self.fault_at:
                return
            for cid in {con.conn_id, h.key.conn, h.key.link}:
                at = self.fault_at.get(cid)
                if at is None or cid not in self.reconnected_at or h.stamp >= at:
                    continue
                self.replay_ns.append(now - at)
                del self.fault_at[cid]
                del self.reconnected_at[cid]


def percentile_ms(samples: list[int], q: float) -> float | None:
    """The ``q`` quantile (nearest rank) of nanosecond samples, in milliseconds."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
    return round(ordered[rank] / 1e6, 3)


def phase_report(name: str, result: WorkloadResult, clock: FaultClock) -> dict[str, Any]:
    """One phase's figures."""
    s = result.stats
    problems = [*s.violations(), *result.errors]
    return {
        "phase": name,
        "elapsed_s": round(result.elapsed, 3),
        "sent": s.sent,
        "delivered": s.delivered,
        "msgs_per_s": round(s.delivered / result.elapsed, 1) if result.elapsed else 0.0,
        "lost": s.lost,
        "duplicated": s.duplicated,
        "reordered": s.reordered,
        "corrupted": s.corrupted,
        "discarded_by_reset": s.discarded_by_reset,
        "discarded_by_mark_down": s.discarded_by_mark_down,
        "faults": dict(sorted(result.faults.items())),
        "reconnects": result.reconnects,
        "reaccepts": result.reaccepts,
        "resets": result.resets + result.remote_resets,
        "ops": dict(sorted(result.ops.items())),
        "attributed_faults": clock.faults,
        "unattributed_faults": clock.unattributed,
        "reconnect_ms": {"n": len(clock.reconnect_ns),
                         "p50": percentile_ms(clock.reconnect_ns, 0.50),
                         "p99": percentile_ms(clock.reconnect_ns, 0.99)},
        "replay_ms": {"n": len(clock.replay_ns),
                      "p50": percentile_ms(clock.replay_ns, 0.50),
                      "p99": percentile_ms(clock.replay_ns, 0.99)},
        "violations": problems,
        "samples": list(s.samples),
        "pending_streams": list(result.pending_streams),
    }


async def run_phase(name: str, options: WorkloadOptions, config: MessengerConfig,
                    *, inject: bool) -> dict[str, Any]:
    """Run one phase and report it (progress on stderr)."""
    print(f"soak: {name} phase, {options.duration:g} s ...", file=sys.stderr, flush=True)
    clock = FaultClock(inject=inject)
    result = await run_workload(options, config, observer=clock)
    report = phase_report(name, result, clock)
    print(f"soak: {name}: {report['delivered']} delivered, {report['msgs_per_s']:,.0f} "
          f"msgs/s, violations {report['violations'] or 'none'}", file=sys.stderr,
          flush=True)
    return report


async def soak(args: argparse.Namespace, base: MessengerConfig) -> dict[str, Any]:
    """Both phases; the combined report."""
    common: dict[str, Any] = {
        "servers": args.servers, "clients": args.clients, "policy": args.policy,
        "ops": None, "seed": args.seed, "max_payload": args.max_payload,
        "timeout": args.timeout,
    }
    baseline = await run_phase(
        "baseline", WorkloadOptions(duration=args.baseline_duration, **common),
        base.replace(ms_inject_socket_failures=0), inject=False)
    injected = await run_phase(
        "injected", WorkloadOptions(duration=args.duration, **common),
        base.replace(ms_inject_socket_failures=args.failures), inject=True)
    ratio = (injected["msgs_per_s"] / baseline["msgs_per_s"]
             if baseline["msgs_per_s"] else None)
    return {
        "policy": args.policy,
        "servers": args.servers,
        "clients": args.clients,
        "max_payload": args.max_payload,
        "failures": args.failures,
        "seed": args.seed,
        "embedded": base.asyncmsgr_embedded,
        "threads": 0 if base.asyncmsgr_embedded else base.ms_async_op_threads,
        "baseline": baseline,
        "injected": injected,
        "rate_ratio": None if ratio is None else round(ratio, 3),
        "ok": not baseline["violations"] and not injected["violations"],
    }


def print_text(r: dict[str, Any]) -> None:
    """The readable summary."""
    mode = "embedded" if r["embedded"] else f"threaded ({r['threads']} workers)"
    print(f"soak: {r['policy']}, {r['servers']} x {r['clients']} messengers, payloads "
          f"<= {r['max_payload']} B, {mode}, seed {r['seed']}")
    for key in ("baseline", "injected"):
        p = r[key]
        print(f"  {key:9} {p['elapsed_s']:8.1f} s  {p['delivered']:>9} delivered  "
              f"{p['msgs_per_s']:>9,.1f} msgs/s  lost {p['lost']} dup {p['duplicated']} "
              f"reord {p['reordered']} corrupt {p['corrupted']}  "
              f"discarded (reset {p['discarded_by_reset']}, mark_down "
              f"{p['discarded_by_mark_down']})")
    inj = r["injected"]
    print(f"  injected faults {inj['faults']}; reconnects {inj['reconnects']}, reaccepts "
          f"{inj['reaccepts']}")
    print(f"  rate ratio (injected / baseline): {r['rate_ratio']}")
    for key, what in (("reconnect_ms", "fault -> session re-established"),
                      ("replay_ms", "fault -> first replayed message delivered")):
        m = inj[key]
        print(f"  {what}: p50 {m['p50']} ms, p99 {m['p99']} ms (n={m['n']})")
    print("  result: " + ("OK" if r["ok"] else
                          "FAILED " + str(r["baseline"]["violations"] +
                                          r["injected"]["violations"])))


def main(argv: list[str] | None = None) -> int:
    """Parse, run both phases, print; the exit status."""
    try:
        base, rest = parse_config_args(sys.argv[1:] if argv is None else argv, os.environ)
    except ConfigError as exc:
        print(f"soak: error: {exc}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0,
                        help="seconds of the injected phase (default 600)")
    parser.add_argument("--baseline-duration", type=float, default=120.0,
                        help="seconds of the injection-free phase (default 120)")
    parser.add_argument("--failures", type=int, default=500,
                        help="ms_inject_socket_failures of the injected phase (default 500)")
    parser.add_argument("--servers", type=int, default=8)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--policy", choices=tuple(POLICY_PAIRS), default="lossless_client")
    parser.add_argument("--max-payload", type=parse_size, default=64 << 10,
                        help="largest payload (default 64K; Ceph's tests use 4M)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="give up after this long without progress (default 120)")
    parser.add_argument("--threaded", action="store_true",
                        help="worker threads (asyncmsgr_embedded=false)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(rest)
    if "ms_max_backoff" not in base.diff():
        base = base.replace(ms_max_backoff=1.0)  # test_msgr's main()
    if args.threaded:
        base = base.replace(asyncmsgr_embedded=False)
    report = asyncio.run(soak(args, base))
    if args.json:
        print(json.dumps(report))
    else:
        print_text(report)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
