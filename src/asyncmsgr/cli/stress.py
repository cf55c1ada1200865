"""``asyncmsgr stress``: Ceph's test_msgr synthetic workload, checked by a per-session ledger.

Runs ``--servers`` server messengers (``osd.N``) and ``--clients`` client
messengers (``client.N``) in this process on 127.0.0.1, seeds
``--seed-connections`` connections, then performs ``--ops`` ops (or ops for
``--duration`` seconds) drawn from ``--mix``:

  connect  a random client connects to a random server (up to --max-connections)
  drop     mark a random connection down (both sides for lossless peers);
           only with at least 10 connections
  send     wait until fewer than --max-in-flight tracked messages are pending, then
           send one with a random payload of --min-payload..--max-payload bytes
           (one of --payloads canonical payloads); --noise-percent of the sends are
           untracked priority-200 MCommands instead
  sleep    sleep 0.5-1.5 ms (--sleep-min-ms / --sleep-max-ms)

Servers echo every tracked message back as a tracked message of their own. Each
tracked message carries a ledger header (stream, counter, payload index); every
arrival must be the next of its stream (sending messenger, connection,
generation, priority, client connection), arrive once, at the right messenger,
with the canonical bytes. A stream is excused from delivering only when it was
closed: by ms_handle_reset / ms_handle_remote_reset on the sending side of that
connection (counted as "discarded_by_reset"), or by the workload's own mark_down
of the session ("discarded_by_mark_down"). At the end the tool waits until
nothing tracked is pending (giving up after --timeout seconds without
progress), shuts everything down and checks the dispatch queues are empty.

Protocol (--msgr): v2 (msgr2, the default) or v1 (msgr v1, "ceph v027"): every
messenger binds an address of that type, so every connection speaks it.

Policies (--policy): lossless_client (servers stateful_server, clients
lossless_client; the default, as SyntheticStressTest), lossy_client
(stateless_server / lossy_client), lossless_peer and lossless_peer_reuse (both
sides).

Messenger options go on the same command line, e.g.
--ms_inject_socket_failures=30 --ms_inject_internal_delays=0.1
--ms_dispatch_throttle_bytes=16M --ms_inject_network_congestion=100; see
'asyncmsgr --help-config'. As in test_msgr's main(), ms_max_backoff is 1 s
unless given. --embedded / --threaded override asyncmsgr_embedded.

Ceph's tests as commands:

  SyntheticStressTest   asyncmsgr stress
  SyntheticStressTest1  --servers 16 --policy lossless_peer_reuse --seed-connections 10
                        --ops 10000 --mix connect=19,drop=20,send=50,sleep=10
  SyntheticInjectTest   --ops 1000 --ms_inject_socket_failures=30
                        --ms_inject_internal_delays=0.1 --ms_dispatch_throttle_bytes=16M
                        --sleep-min-ms 0.1 --sleep-max-ms 0.6
  SyntheticInjectTest2  --clients 16 --policy lossless_peer_reuse --ops 1000
                        --ms_inject_socket_failures=30 --ms_inject_internal_delays=0.1
  SyntheticInjectTest3  --policy lossy_client --clients 16 --ops 1000
                        --ms_inject_socket_failures=600 --ms_inject_internal_delays=0.1
  SyntheticInjectTest4  --servers 16 --policy lossless_peer --mix connect=4,send=70,sleep=26
                        --ms_inject_socket_failures=30 --ms_inject_internal_delays=0.1
                        --ms_inject_delay_probability=1 --ms_inject_delay_type='client osd'
                        --ms_inject_delay_max=5
  SyntheticInjectTest5  --servers 1 --clients 8 --max-connections 2 --seed-connections 2
                        --mix send=1 --noise-percent 0 --tracked-type command
                        --min-payload 6M --max-payload 7M --payloads 4
                        --congestion-ops 1600 --ms_inject_network_congestion=100

(Add --threaded to run the messengers on worker threads as Ceph does, --msgr v1
to run any of them over msgr v1. Tracked
MCommands carry the payload in their data segment; Ceph's SyntheticInjectTest5
puts its ~6.8 MB in the front.)

Output: a summary, or with --json one object with at least sent, delivered,
lost, duplicated, reordered, corrupted, faults_injected, reconnects, resets.
With --progress, or when stderr is a terminal, a line per second on stderr
(ops, tracked messages sent, delivered and pending, faults, resets). Ctrl-C
stops the ops, waits a few seconds for what is pending and prints the summary
of the run so far (messages still pending then are reported as pending, not
lost); the exit status is then 130.
Exit status: 0 clean; 1 on any duplicate, reorder or corruption, any loss not
explained by a reset or mark_down (for every policy: a lossy session must
report what it drops with ms_handle_reset), a stall, or messages left in a
dispatch queue, or when the messengers cannot bind; 2 for usage errors (a
payload above asyncmsgr_max_data_segment, more messengers than ports in
ms_bind_port_min..max or than file descriptors); 130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import signal
import sys
from typing import IO, Any

from asyncmsgr.aio.processor import BindError
from asyncmsgr.config import MessengerConfig, default_config, parse_size
from asyncmsgr.context import Context
from asyncmsgr.stress.workload import (
    DEBUG_VIOLATIONS,
    POLICY_PAIRS,
    PROTOCOLS,
    OpMix,
    ProgressSample,
    WorkloadOptions,
    WorkloadResult,
    run_workload,
)

#: Keys every ``--json`` report has.
REPORT_KEYS = ("sent", "delivered", "lost", "duplicated", "reordered", "corrupted",
               "faults_injected", "reconnects", "resets")
#: test_msgr's ``main()`` setting, applied unless the option is given.
TEST_MSGR_MAX_BACKOFF = 1.0
EXIT_INTERRUPTED = 130
#: File descriptors kept for everything but the messengers' sockets.
FD_SLACK = 64


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _size(text: str) -> int:
    try:
        value = parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text.strip()}")
    return value


def _mix(text: str) -> OpMix:
    try:
        return OpMix.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: Any) -> None:
    """Add the ``stress`` subcommand."""
    d = WorkloadOptions()
    p = sub.add_parser("stress", help="test_msgr's synthetic workload with a delivery ledger",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--policy", choices=tuple(POLICY_PAIRS), default=d.policy,
                   help="session policy (default lossless_client: stateful_server servers, "
                        "lossless_client clients)")
    p.add_argument("--msgr", choices=PROTOCOLS, default=d.protocol,
                   help="wire protocol: v2 (msgr2, default) or v1 (msgr v1); the address "
                        "type every messenger binds")
    p.add_argument("--servers", type=_positive_int, default=d.servers, metavar="N",
                   help=f"server messengers (default {d.servers})")
    p.add_argument("--clients", type=_positive_int, default=d.clients, metavar="N",
                   help=f"client messengers (default {d.clients})")
    span = p.add_mutually_exclusive_group()
    span.add_argument("--ops", type=_non_negative_int, default=None, metavar="N",
                      help=f"ops after the seed connections (default {d.ops})")
    span.add_argument("--duration", type=_positive_float, default=None, metavar="SECONDS",
                      help="run ops for this long instead of a count")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="random seed for ops and payloads (default: random, reported)")
    p.add_argument("--seed-connections", type=_non_negative_int,
                   default=d.seed_connections, metavar="N",
                   help=f"connections made before the ops (default {d.seed_connections})")
    p.add_argument("--max-in-flight", type=_positive_int, default=d.max_in_flight,
                   metavar="N", help="tracked messages pending (both directions) before a "
                                     f"send waits (default {d.max_in_flight})")
    p.add_argument("--max-connections", type=_positive_int, default=d.max_connections,
                   metavar="N", help=f"connections in use (default {d.max_connections})")
    p.add_argument("--mix", type=_mix, default=d.mix, metavar="connect=W,drop=W,send=W,sleep=W",
                   help=f"op weights (default {d.mix.text()}; omitted ops weigh 0)")
    p.add_argument("--sleep-min-ms", type=_non_negative_float, default=d.sleep_min * 1e3,
                   metavar="MS", help=f"shortest sleep op (default {d.sleep_min * 1e3:g})")
    p.add_argument("--sleep-max-ms", type=_non_negative_float, default=d.sleep_max * 1e3,
                   metavar="MS", help=f"longest sleep op (default {d.sleep_max * 1e3:g})")
    p.add_argument("--payloads", type=_positive_int, default=d.payloads, metavar="N",
                   help=f"canonical payloads (default {d.payloads})")
    p.add_argument("--min-payload", type=_size, default=d.min_payload, metavar="BYTES",
                   help=f"smallest payload (default {d.min_payload})")
    p.add_argument("--max-payload", type=_size, default=d.max_payload, metavar="BYTES",
                   help="largest payload (default 4M)")
    p.add_argument("--noise-percent", type=_non_negative_float, default=d.noise_percent,
                   metavar="P", help="share of sends that are untracked priority-200 "
                                     f"MCommands (default {d.noise_percent:g})")
    p.add_argument("--tracked-type", choices=("ping", "command"), default=d.tracked_type,
                   help="tracked messages are MPing (default) or MCommand")
    p.add_argument("--queued-dispatch", action="store_true",
                   help="deliver through the dispatch queue instead of fast dispatch")
    p.add_argument("--congestion-ops", type=_non_negative_int, default=d.congestion_ops,
                   metavar="N", help="switch ms_inject_network_congestion off after N ops "
                                     "(default 0: keep it for the whole run)")
    p.add_argument("--timeout", type=_positive_float, default=d.timeout, metavar="SECONDS",
                   help=f"give up after this long without progress (default {d.timeout:g})")
    threads = p.add_mutually_exclusive_group()
    threads.add_argument("--embedded", dest="embedded", action="store_true", default=None,
                         help="run everything on this event loop (asyncmsgr_embedded=true)")
    threads.add_argument("--threaded", dest="embedded", action="store_false",
                         help="ms_async_op_threads worker threads per messenger")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--progress", action="store_true",
                   help="a line per second on stderr (the default when stderr is a terminal)")
    p.add_argument("--debug-violation", choices=DEBUG_VIOLATIONS, default=None,
                   help=argparse.SUPPRESS)  # commit one violation: tests the exit status
    p.set_defaults(func=run)


def options_from_args(args: argparse.Namespace) -> WorkloadOptions:
    """The workload options of a parsed command line.

    Raises:
        ValueError: inconsistent values (e.g. --min-payload above --max-payload).
    """
    seed = args.seed if args.seed is not None else _random_seed()
    ops = args.ops
    if ops is None and args.duration is None:
        ops = WorkloadOptions().ops
    return WorkloadOptions(
        servers=args.servers, clients=args.clients, policy=args.policy,
        protocol=args.msgr, ops=ops,
        duration=args.duration, seed=seed, seed_connections=args.seed_connections,
        max_in_flight=args.max_in_flight, max_connections=args.max_connections,
        mix=args.mix, sleep_min=args.sleep_min_ms / 1e3, sleep_max=args.sleep_max_ms / 1e3,
        payloads=args.payloads, min_payload=args.min_payload, max_payload=args.max_payload,
        noise_percent=args.noise_percent, tracked_type=args.tracked_type,
        queued_dispatch=args.queued_dispatch, congestion_ops=args.congestion_ops,
        timeout=args.timeout, debug_violation=args.debug_violation)


def config_from_args(args: argparse.Namespace) -> MessengerConfig:
    """The messenger options: the command line's, test_msgr's max backoff unless
    given, and --embedded/--threaded."""
    config: MessengerConfig = getattr(args, "config", None) or MessengerConfig()
    if "ms_max_backoff" not in config.diff():
        config = config.replace(ms_max_backoff=TEST_MSGR_MAX_BACKOFF)
    if "ms_bind_retry_count" not in config.diff():
        config = config.replace(ms_bind_retry_count=0)  # no port free: say so at once
    if args.embedded is not None:
        config = config.replace(asyncmsgr_embedded=args.embedded)
    return config


def _random_seed() -> int:
    return random.SystemRandom().randrange(1 << 31)


def check_resources(options: WorkloadOptions, config: MessengerConfig) -> str | None:
    """Why the run cannot work with these options and limits (None: it can): a
    payload the receivers refuse, more messengers than ports, or than file
    descriptors."""
    limit = config.asyncmsgr_max_data_segment
    if options.max_payload > limit:
        return (f"--max-payload {options.max_payload} is above asyncmsgr_max_data_segment "
                f"({limit}), the largest data segment a messenger accepts (raise it with "
                f"--asyncmsgr_max_data_segment={options.max_payload})")
    messengers = options.servers + options.clients
    ports = config.ms_bind_port_max - config.ms_bind_port_min + 1
    if messengers > ports:
        return (f"{options.servers} servers and {options.clients} clients need {messengers} "
                f"ports; ms_bind_port_min..ms_bind_port_max ({config.ms_bind_port_min}-"
                f"{config.ms_bind_port_max}) has {ports}")
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    fds = messengers + 2 * options.max_connections + FD_SLACK
    if soft != resource.RLIM_INFINITY and fds > soft:
        return (f"{messengers} messengers and {options.max_connections} connections need "
                f"about {fds} file descriptors; the limit is {soft} (ulimit -n)")
    return None


def run(args: argparse.Namespace) -> int:
    """Run the workload; print the report; the exit status."""
    try:
        options = options_from_args(args)
    except ValueError as exc:
        print(f"asyncmsgr stress: error: {exc}", file=sys.stderr)
        return 2
    config = config_from_args(args)
    problem = check_resources(options, config)
    if problem is not None:
        print(f"asyncmsgr stress: error: {problem}", file=sys.stderr)
        return 2
    progress = bool(args.progress) or sys.stderr.isatty()
    try:
        result = asyncio.run(_run(options, config, getattr(args, "context", None), progress))
    except KeyboardInterrupt:  # before the signal handler was in place
        print("asyncmsgr stress: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BindError as exc:
        print(f"asyncmsgr stress: {exc.strerror}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"asyncmsgr stress: not enough memory for {options.payloads} payloads of up to "
              f"{options.max_payload} bytes", file=sys.stderr)
        return 1
    report = build_report(options, config, result)
    if args.json:
        print(json.dumps(report))
    else:
        print_text(report, sys.stdout)
    for line in report["violations"]:
        print(f"asyncmsgr stress: {line}", file=sys.stderr)
    if result.interrupted:
        print("asyncmsgr stress: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return exit_status(result)


async def _run(options: WorkloadOptions, config: MessengerConfig, context: Context | None,
               progress: bool) -> WorkloadResult:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    if progress:
        print(f"{'sec':>5} {'ops':>8} {'sent':>9} {'delivered':>9} {'pending':>7} "
              f"{'msgs/s':>8} {'faults':>7} {'resets':>6}", file=sys.stderr, flush=True)
    state = {"delivered": 0}

    def line(p: ProgressSample) -> None:
        rate = p.delivered - state["delivered"]
        state["delivered"] = p.delivered
        print(f"{p.elapsed:5.0f} {p.ops:8d} {p.sent:9d} {p.delivered:9d} {p.pending:7d} "
              f"{rate:8d} {p.faults:7d} {p.resets:6d}", file=sys.stderr, flush=True)
    return await run_workload(options, config, context=context, stop=stop,
                              on_progress=line if progress else None)


def verdict(result: WorkloadResult) -> list[str]:
    """Every reason the run failed; empty for a clean run.

    Duplicates, reorders, corruption and loss not explained by a reset or
    mark_down fail every policy; so do a stall and messages left in a dispatch
    queue after shutdown. An interrupted run's pending messages are no loss.
    """
    return [*result.stats.violations(loss_is_violation=not result.interrupted),
            *result.errors]


def exit_status(result: WorkloadResult) -> int:
    """0 for a clean run, 1 otherwise (see :func:`verdict`)."""
    return 1 if verdict(result) else 0


def build_report(options: WorkloadOptions, config: MessengerConfig,
                 result: WorkloadResult) -> dict[str, Any]:
    """The ``--json`` object (also what the text summary prints)."""
    s = result.stats
    elapsed = result.elapsed
    return {
        "sent": s.sent,
        "delivered": s.delivered,
        "lost": 0 if result.interrupted else s.lost,
        "duplicated": s.duplicated,
        "reordered": s.reordered,
        "corrupted": s.corrupted,
        "discarded_by_reset": s.discarded_by_reset,
        "discarded_by_mark_down": s.discarded_by_mark_down,
        "faults_injected": result.faults_injected,
        "faults": dict(sorted(result.faults.items())),
        "socket_failures": result.faults.get("socket_failures", 0),
        "reconnects": result.reconnects,
        "reaccepts": result.reaccepts,
        "sessions_by_protocol": dict(sorted(result.sessions_by_protocol.items())),
        "resets": result.resets + result.remote_resets,
        "handle_reset": result.resets,
        "handle_remote_reset": result.remote_resets,
        "noise_sent": result.noise_sent,
        "noise_received": result.noise_received,
        "ops": dict(sorted(result.ops.items())),
        "elapsed": round(elapsed, 3),
        "msgs_per_s": round(s.delivered / elapsed, 1) if elapsed > 0 else 0.0,
        "policy": options.policy,
        "msgr": options.protocol,
        "server_policy": options.server_policy,
        "client_policy": options.client_policy,
        "servers": options.servers,
        "clients": options.clients,
        "seed": options.seed,
        "embedded": config.asyncmsgr_embedded,
        "threads": 0 if config.asyncmsgr_embedded else config.ms_async_op_threads,
        "config": {k: v for k, v in sorted(config.diff(default_config()).items())
                   if k != "asyncmsgr_embedded"},
        "stalled": result.stalled,
        "pending_streams": list(result.pending_streams),
        "dispatch_queue_leftover": result.dispatch_queue_leftover,
        "samples": list(s.samples),
        "violations": verdict(result),
        "ok": not verdict(result),
        "interrupted": result.interrupted,
        "pending": s.pending if result.interrupted else 0,
    }


def print_text(r: dict[str, Any], out: IO[str]) -> None:
    """The readable summary of a report."""
    mode = "embedded" if r["embedded"] else f"threaded ({r['threads']} workers/messenger)"
    print(f"asyncmsgr stress: {r['policy']} ({r['server_policy']} servers, "
          f"{r['client_policy']} clients), {r['servers']} x {r['clients']} messengers, "
          f"msgr {r['msgr']}, seed {r['seed']}, {mode}", file=out)
    if r["config"]:
        print("  options     " + " ".join(f"--{k}={v}" for k, v in r["config"].items()),
              file=out)
    ops = ", ".join(f"{k} {v}" for k, v in r["ops"].items())
    print(f"  ops         {ops}; noise {r['noise_sent']} sent, {r['noise_received']} "
          "received", file=out)
    print(f"  tracked     sent {r['sent']}, delivered {r['delivered']}, lost {r['lost']}, "
          f"discarded by reset {r['discarded_by_reset']}, by mark_down "
          f"{r['discarded_by_mark_down']}", file=out)
    print(f"  violations  duplicated {r['duplicated']}, reordered {r['reordered']}, "
          f"corrupted {r['corrupted']}", file=out)
    faults = ", ".join(f"{k} {v}" for k, v in r["faults"].items()) or "none"
    print(f"  injected    {faults}", file=out)
    by_protocol = ", ".join(f"{k} {v}" for k, v in r["sessions_by_protocol"].items())
    print(f"  sessions    {by_protocol or 'none'}; reconnects {r['reconnects']}, "
          f"reaccepts {r['reaccepts']}, resets {r['resets']} (ms_handle_reset "
          f"{r['handle_reset']}, ms_handle_remote_reset {r['handle_remote_reset']})",
          file=out)
    print(f"  time        {r['elapsed']:.3f} s, {r['msgs_per_s']:,.0f} tracked msgs/s",
          file=out)
    for line in r["samples"]:
        print(f"  sample      {line}", file=out)
    for line in r["pending_streams"]:
        print(f"  pending     {line}", file=out)
    if r.get("interrupted"):
        print(f"  interrupted {r['pending']} tracked messages still pending at Ctrl-C",
              file=out)
    print("  result      " + ("OK" if r["ok"] else "FAILED: " + "; ".join(r["violations"])),
          file=out)


__all__ = ["REPORT_KEYS", "build_report", "exit_status", "register", "run", "verdict"]
