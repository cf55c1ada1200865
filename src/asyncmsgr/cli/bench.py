"""``asyncmsgr bench``: messenger throughput and latency, like Ceph's perf_msgr tools.

Three forms:

``asyncmsgr bench [options]``
    Starts a server in a child process (``python -m asyncmsgr bench server``) on
    loopback, runs the client here, stops the server. Takes about ``--duration``
    plus half a second.
``asyncmsgr bench server [--addr v2:IP:PORT | --msgr v1] [--think-time US] [--policy NAME]``
    ``ceph_perf_msgr_server``: prints ``listening on ADDR`` and answers until
    SIGINT/SIGTERM; every request gets a small reply, sent from the I/O worker's
    fast dispatch after ``--think-time`` microseconds of (blocking) sleep.
``asyncmsgr bench client --addr ADDR [options]``
    ``ceph_perf_msgr_client``: ``--jobs`` client messengers with one connection
    each.

Protocol: ``--msgr v2`` (msgr2.1, the default) or ``--msgr v1`` (legacy msgr,
"ceph v027"): the combined form's server binds an address of that protocol and
the client dials it; ``client --msgr`` forces the protocol to dial (default:
v2 if the server's address has one, else v1). The protocol every connection
actually spoke is reported (``msgr``, on both sides).

Modes: ``request`` keeps ``--concurrency`` requests of ``--size`` payload bytes in
flight per job and reports the send-to-reply latency; ``stream`` sends one way,
keeping at most ``--concurrency`` messages not yet counted by the server (default
``max(4, 16 MiB / size)``), and reports what the server received. MB/s counts
payload bytes in the client-to-server direction, in 10^6 bytes.

Messenger options (``--ms_async_op_threads=2``, ``--asyncmsgr_embedded=false``,
``CEPH_ARGS``) apply to the client and are passed on to the child server.
Secure mode: ``--auth dummy`` (a test auth method with a real connection secret;
the default ``none`` allows crc only) and ``--ms_client_mode=secure``; the server
accepts the modes of ``ms_service_mode`` (default ``crc secure``). The mode the
connection negotiated is reported (``con_mode``). The
server uses the server side of ``--policy``: lossy policies get
``stateless_server``, lossless ones ``stateful_server``.

Progress: with ``--progress``, or when stderr is a terminal, a line per second
on stderr (seconds, messages completed, current and average msg/s and MB/s; the
server: connections and messages received). Ctrl-C stops issuing, lets what is
in flight finish (a few seconds at most), prints the summary of what was
measured and exits 130.

Limits: ``--size`` above ``asyncmsgr_max_data_segment`` (64 MiB by default;
the server refuses such a data segment) is a usage error, as an address that
does not parse. A server whose port is taken fails at once, naming it. A peer
that sends more than a messenger accepts is logged by that messenger (level 0)
with the option that refused it. Exit status: 0, 1 when no message completed
or the server failed, 2 for usage errors, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import asyncmsgr
from asyncmsgr.aio.processor import BindError
from asyncmsgr.cli import benchlib
from asyncmsgr.cli.benchlib import BenchError, BenchJob, ClientOptions, ClientResult
from asyncmsgr.config import MessengerConfig, parse_size
from asyncmsgr.context import Context
from asyncmsgr.policy import POLICY_NAMES
from asyncmsgr.types import EntityAddr, EntityAddrVec

DEFAULT_SIZE = 4096
DEFAULT_DURATION = 5.0
DEFAULT_CONCURRENCY = 16
#: Stream mode's default window: this many bytes, at least 4 messages.
STREAM_WINDOW_BYTES = 16 << 20
SERVER_START_TIMEOUT = 15.0
SERVER_STOP_TIMEOUT = 10.0
#: Seconds between progress lines.
PROGRESS_INTERVAL = 1.0
#: The largest payload a message can carry: msgr2's segment lengths are u32.
MAX_PAYLOAD = (1 << 32) - 1
EXIT_INTERRUPTED = 130

_POLICY_CHOICES = ("default", *POLICY_NAMES)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _size(text: str) -> int:
    try:
        value = parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text.strip()}")
    if value > MAX_PAYLOAD:
        raise argparse.ArgumentTypeError(
            f"{text.strip()} is more than a message carries ({MAX_PAYLOAD} bytes, "
            "msgr2's u32 segment length)")
    return value


def _addrvec(text: str) -> str:
    """A server address as ``connect_to`` takes it (``v2:IP:PORT/NONCE`` or an addrvec)."""
    try:
        EntityAddrVec.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid address {text!r}: {exc}") from None
    return text


def _bind_addr(text: str) -> str:
    """An address to bind (``v2:IP:PORT``, port 0 for any of the range)."""
    try:
        EntityAddr.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid address {text!r}: {exc}") from None
    return text


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def _add_client_options(p: argparse.ArgumentParser, *, top: bool) -> None:
    """Client options; on sub-parsers they only override what was given."""
    def d(value: object) -> object:
        return value if top else argparse.SUPPRESS
    p.add_argument("--size", type=_size, default=d(DEFAULT_SIZE), metavar="BYTES",
                   help="payload bytes per message (4096, 4K, 4M; default 4096)")
    span = p.add_mutually_exclusive_group()
    span.add_argument("--duration", type=_positive_float, default=d(None),
                      metavar="SECONDS", help="issue messages for this long (default 5)")
    span.add_argument("--ios", type=_positive_int, default=d(None), metavar="N",
                      help="messages per job, instead of a duration")
    p.add_argument("--concurrency", type=_positive_int, default=d(None), metavar="N",
                   help="in flight per job (default 16; stream: max(4, 16 MiB / size))")
    p.add_argument("--jobs", type=_positive_int, default=d(1), metavar="N",
                   help="client messengers, one connection each (default 1)")
    p.add_argument("--mode", choices=benchlib.MODES, default=d("request"),
                   help="request/reply ping-pong (default) or one-way stream")
    p.add_argument("--json", action="store_true", default=d(False),
                   help="print one JSON object instead of text")
    p.add_argument("--progress", action="store_true", default=d(False),
                   help="a line per second on stderr (the default when stderr is a terminal)")


def _add_policy(p: argparse.ArgumentParser, *, top: bool) -> None:
    p.add_argument("--policy", choices=_POLICY_CHOICES,
                   default="lossy_client" if top else argparse.SUPPRESS,
                   help="client policy (default lossy_client); the server takes the "
                        "matching server policy")


def _add_auth(p: argparse.ArgumentParser, *, top: bool) -> None:
    p.add_argument("--auth", choices=benchlib.AUTH_METHODS,
                   default="none" if top else argparse.SUPPRESS,
                   help="auth method (default none: crc only; dummy: a test method "
                        "with a connection secret, for --ms_client_mode=secure)")


def _add_msgr(p: argparse.ArgumentParser, *, top: bool, role: str) -> None:
    helps = {
        "bench": "wire protocol: v2 (msgr2, default) or v1 (legacy msgr); the server "
                 "binds an address of that protocol and the client dials it",
        "server": "bind a v2 (default) or v1 address on 127.0.0.1 (when --addr is not given)",
        "client": "protocol to dial (default: v2 if the address has one, else v1)",
    }
    p.add_argument("--msgr", choices=benchlib.MSGR_VERSIONS,
                   default=None if top else argparse.SUPPRESS, help=helps[role])


def _add_think_time(p: argparse.ArgumentParser, *, top: bool) -> None:
    p.add_argument("--think-time", type=_non_negative_int, default=0 if top else
                   argparse.SUPPRESS, metavar="US",
                   help="server: microseconds of blocking sleep before each reply")


def register(sub: Any) -> None:
    """Add the ``bench`` subcommand (and its ``server`` / ``client`` forms)."""
    p = sub.add_parser("bench", help="messenger throughput and latency (perf_msgr tools)",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_client_options(p, top=True)
    _add_policy(p, top=True)
    _add_auth(p, top=True)
    _add_think_time(p, top=True)
    _add_msgr(p, top=True, role="bench")
    p.set_defaults(func=run, role=None, addr=None)
    roles = p.add_subparsers(dest="role", metavar="ROLE")

    ps = roles.add_parser("server", help="run a bench server until SIGINT/SIGTERM",
                          description="ceph_perf_msgr_server: answer bench clients.")
    ps.add_argument("--addr", default=None, type=_bind_addr,
                    help="address to bind (default v2:127.0.0.1:0, or v1:127.0.0.1:0 with "
                         "--msgr v1: a free port of ms_bind_port_min..max); a taken port, or "
                         "no free port in the range, fails at once unless "
                         "--ms_bind_retry_count is given")
    _add_msgr(ps, top=False, role="server")
    _add_think_time(ps, top=False)
    _add_policy(ps, top=False)
    _add_auth(ps, top=False)
    ps.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                    help="print the final counters as one JSON object on exit")
    ps.add_argument("--progress", action="store_true", default=argparse.SUPPRESS,
                    help="a line per second on stderr (the default when stderr is a terminal)")

    pc = roles.add_parser("client", help="run the client against a running server",
                          description="ceph_perf_msgr_client: load a bench server.")
    pc.add_argument("--addr", required=True, type=_addrvec,
                    help="the server's address as it printed it (v2:IP:PORT/NONCE)")
    _add_client_options(pc, top=False)
    _add_msgr(pc, top=False, role="client")
    _add_policy(pc, top=False)
    _add_auth(pc, top=False)


def run(args: argparse.Namespace) -> int:
    """Dispatch on the role; returns the exit status."""
    config: MessengerConfig = getattr(args, "config", None) or MessengerConfig()
    context: Context | None = getattr(args, "context", None)
    if args.role != "server":
        limit = config.asyncmsgr_max_data_segment
        if args.size > limit:
            print(f"asyncmsgr bench: error: --size {args.size} is above "
                  f"asyncmsgr_max_data_segment ({limit}), the largest data segment a "
                  f"messenger accepts: the server would refuse it; raise the limit on both "
                  f"sides (--asyncmsgr_max_data_segment={args.size})", file=sys.stderr)
            return 2
    try:
        if args.role == "server":
            return asyncio.run(_run_server(args, config, context))
        return asyncio.run(_run_bench(args, config, context))
    except KeyboardInterrupt:  # before the signal handler was in place
        print("asyncmsgr bench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print(f"asyncmsgr bench: not enough memory for {args.jobs} job(s) of "
              f"{args.size}-byte payloads", file=sys.stderr)
        return 1


def _want_progress(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "progress", False)) or sys.stderr.isatty()


def _interrupt_event() -> asyncio.Event:
    """Set by SIGINT (Ctrl-C) or SIGTERM from now on, instead of KeyboardInterrupt."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, event.set)
    return event


# -- server ------------------------------------------------------------------------------


async def _run_server(args: argparse.Namespace, config: MessengerConfig,
                      context: Context | None) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    policy_name = benchlib.server_policy_name(args.policy)
    addr = args.addr or benchlib.bind_addr(args.msgr or "v2")
    if "ms_bind_retry_count" not in config.diff():
        # a taken port, or no free port in the range: say so at once (Ceph's daemons
        # retry for a restarting neighbour's sake; a benchmark has none)
        config = config.replace(ms_bind_retry_count=0)
    try:
        msgr, server = await benchlib.start_server(
            config, addr, benchlib.server_policy_for(args.policy),
            think_time_us=args.think_time, auth=args.auth, context=context)
    except BindError as exc:
        print(f"asyncmsgr bench server: {exc.strerror}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"asyncmsgr bench server: cannot bind {addr}: {exc}", file=sys.stderr)
        return 1
    print(f"listening on {msgr.my_addrs}", flush=True)
    print(f"asyncmsgr bench server: policy {policy_name}, {_threads_text(config)}, "
          f"think time {args.think_time} us; SIGINT/SIGTERM to stop",
          file=sys.stderr, flush=True)
    progress = _ServerProgress(server, sys.stderr) if _want_progress(args) else None
    try:
        if progress is not None:
            progress.start()
        await stop.wait()
        event_loop = msgr.event_loop_name
    finally:
        if progress is not None:
            await progress.close()
        msgr.shutdown()
        await msgr.wait()
    stats = server.statistics(event_loop)
    span = (stats.last_ns - stats.first_ns) / 1e9
    names = benchlib.summarise_names(stats.msgrs)
    if args.json:
        print(json.dumps({"connections": stats.connections, "messages": stats.messages,
                          "data_bytes": stats.data_bytes, "active_s": round(span, 6),
                          "msgr": names, "event_loop": stats.event_loop,
                          "cpu_s": round(time.process_time(), 3)}),
              flush=True)
    else:
        print(f"received {stats.messages} messages ({stats.data_bytes} payload bytes) on "
              f"{stats.connections} connections ({names or 'no'} msgr) in {span:.3f} s "
              f"on {stats.event_loop or '?'}'s event loop",
              flush=True)
    return 0


class _ServerProgress:
    """``sec  conns  msgs  msg/s  MB/s`` on stderr every second."""

    def __init__(self, server: benchlib.BenchServer, out: IO[str]) -> None:
        self.server = server
        self.out = out
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        self.out.write(f"{'sec':>5} {'conns':>6} {'msgs':>12} {'msg/s':>10} {'MB/s':>9}\n")
        t0 = time.monotonic()
        last_msgs = last_bytes = 0
        sec = 0
        while True:
            sec += 1
            await asyncio.sleep(max(0.0, t0 + sec * PROGRESS_INTERVAL - time.monotonic()))
            st = self.server.statistics()
            self.out.write(f"{sec:5d} {st.connections:6d} {st.messages:12d} "
                           f"{st.messages - last_msgs:10d} "
                           f"{(st.data_bytes - last_bytes) / 1e6:9.1f}\n")
            self.out.flush()
            last_msgs, last_bytes = st.messages, st.data_bytes

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


# -- client and combined ------------------------------------------------------------------


def _threads_text(config: MessengerConfig) -> str:
    if config.asyncmsgr_embedded:
        return "embedded (caller's event loop)"
    return f"threaded ({config.ms_async_op_threads} worker threads)"


def _client_options(args: argparse.Namespace, addr: str) -> ClientOptions:
    concurrency = args.concurrency
    if concurrency is None:
        concurrency = DEFAULT_CONCURRENCY if args.mode == "request" else \
            max(4, STREAM_WINDOW_BYTES // max(1, args.size))
    duration = None if args.ios is not None else (args.duration or DEFAULT_DURATION)
    return ClientOptions(addr=addr, mode=args.mode, size=args.size, duration=duration,
                         ios=args.ios, concurrency=concurrency, jobs=args.jobs,
                         policy=args.policy, auth=args.auth)


#: Options the child server does not get: this process serves them (one admin
#: socket path, one metrics port).
_CLIENT_ONLY_OPTIONS = frozenset({"admin_socket", "asyncmsgr_prometheus_addr"})


class _ServerProcess:
    """``python -m asyncmsgr bench server`` as a child, stopped with SIGTERM."""

    def __init__(self, args: argparse.Namespace, config: MessengerConfig) -> None:
        self.argv = [sys.executable, "-m", "asyncmsgr", "bench", "server",
                     "--addr", benchlib.bind_addr(args.msgr or "v2"),
                     "--think-time", str(args.think_time),
                     "--policy", args.policy, "--auth", args.auth, "--json",
                     *(f"--{k}={v}" for k, v in config.diff().items()
                       if k not in _CLIENT_ONLY_OPTIONS)]
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop)
        self.stats: dict[str, Any] | None = None
        self.failure: str | None = None
        self.ready = False

    async def start(self) -> str:
        env = dict(os.environ)
        env.pop("CEPH_ARGS", None)  # the options are on the command line already
        src = str(Path(asyncmsgr.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=self.stderr, env=env,
            start_new_session=True)  # Ctrl-C reaches us only: we stop it, after the run
        assert self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), SERVER_START_TIMEOUT)
        except TimeoutError:
            line = b""
        text = line.decode(errors="replace").strip()
        if not text.startswith("listening on "):
            await self.stop()
            raise BenchError(f"the server did not start: {self.error_text() or text}")
        self.ready = True
        return text.removeprefix("listening on ")

    def error_text(self) -> str:
        self.stderr.seek(0)
        lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        return " | ".join(lines[-5:])

    async def stop(self, *, interrupted: bool = False) -> None:
        """Stop the server (SIGTERM) and collect its counters; ``interrupted``: we
        are stopping a run cut short, its early end is no failure."""
        proc = self.proc
        if proc is None:
            return
        if interrupted and not self.ready:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.communicate()
            self.stderr.close()
            return
        if proc.returncode is not None:
            self.failure = f"the server exited early with status {proc.returncode}"
        else:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), SERVER_STOP_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            out, _ = await proc.communicate()
            self.failure = self.failure or "the server did not stop on SIGTERM"
        if proc.returncode and self.failure is None:
            self.failure = f"the server failed with status {proc.returncode}"
        for line in reversed(out.decode(errors="replace").splitlines()):
            with contextlib.suppress(ValueError):
                value = json.loads(line)
                if isinstance(value, dict):
                    self.stats = value
                    break
        if self.failure:
            detail = self.error_text()
            if detail:
                self.failure += f": {detail}"
        self.stderr.close()


class _Progress:
    """A line per second on stderr: seconds, messages completed, msg/s and MB/s
    (the last second's and the average), as ``rados bench`` prints its seconds."""

    def __init__(self, opts: ClientOptions, out: IO[str]) -> None:
        self.opts = opts
        self.out = out
        self.jobs: list[BenchJob] = []
        self.task: asyncio.Task[None] | None = None

    def start(self, jobs: list[BenchJob], t0: float) -> None:
        self.jobs = jobs
        self.task = asyncio.get_running_loop().create_task(self._run(t0))

    async def _run(self, t0: float) -> None:
        size = self.opts.size
        self.out.write(f"{'sec':>5} {'completed':>12} {'msg/s':>10} {'avg msg/s':>10} "
                       f"{'MB/s':>9} {'avg MB/s':>9}\n")
        last = 0
        sec = 0
        while True:
            sec += 1
            await asyncio.sleep(max(0.0, t0 + sec * PROGRESS_INTERVAL - time.perf_counter()))
            done = sum(job.progress() for job in self.jobs)
            cur, avg = done - last, done / (sec * PROGRESS_INTERVAL)
            self.out.write(f"{sec:5d} {done:12d} {cur:10d} {avg:10.0f} "
                           f"{cur * size / 1e6:9.1f} {avg * size / 1e6:9.1f}\n")
            self.out.flush()
            last = done

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


async def _until(aw: Any, interrupted: asyncio.Event) -> tuple[bool, Any]:
    """Await ``aw`` unless ``interrupted`` is set first: ``(interrupted, result)``."""
    task = asyncio.ensure_future(aw)
    stop = asyncio.ensure_future(interrupted.wait())
    try:
        await asyncio.wait([task, stop], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if task.done():
        return False, task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return True, None


async def _run_bench(args: argparse.Namespace, config: MessengerConfig,
                     context: Context | None) -> int:
    server: _ServerProcess | None = None
    addr: str = args.addr or ""
    result: ClientResult | None = None
    errors: list[str] = []
    opts = _client_options(args, addr)
    progress = _Progress(opts, sys.stderr) if _want_progress(args) else None
    interrupted = _interrupt_event()
    client_config = config
    if args.msgr is not None:  # dial exactly that protocol (fails if the address lacks it)
        client_config = config.replace(asyncmsgr_connect_msgr=args.msgr)
    try:
        if args.role is None:
            server = _ServerProcess(args, config)
            stopped, started = await _until(server.start(), interrupted)
            if stopped:
                raise _Interrupted
            addr = started
            opts = _client_options(args, addr)
            if progress is not None:
                progress.opts = opts
        result = await benchlib.run_client(
            client_config, opts, on_start=progress.start if progress is not None else None,
            context=context, stop=interrupted)
        errors.extend(result.errors)
    except _Interrupted:
        pass
    except BenchError as exc:
        errors.append(str(exc))
    finally:
        if progress is not None:
            await progress.close()
        if server is not None:
            await server.stop(interrupted=interrupted.is_set())
            if server.failure:
                errors.append(server.failure)
            elif errors and server.error_text():
                errors.append(f"the server said: {server.error_text()}")
    if errors and result is not None and result.messages == 0 \
            and opts.size > MessengerConfig().asyncmsgr_max_data_segment:
        errors.append(f"a {opts.size}-byte data segment is above the default "
                      "asyncmsgr_max_data_segment: was it raised on the server too?")
    report = _report(args, config, opts, result, errors,
                     server.stats if server is not None else None)
    report["interrupted"] = interrupted.is_set()
    if args.json:
        print(json.dumps(report))
    else:
        _print_text(report, sys.stdout)
    for err in errors:
        print(f"asyncmsgr bench: {err}", file=sys.stderr)
    if interrupted.is_set():
        print("asyncmsgr bench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    ok = result is not None and result.messages > 0 and not errors
    return 0 if ok else 1


class _Interrupted(Exception):
    """Ctrl-C before the client started."""


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _report(args: argparse.Namespace, config: MessengerConfig, opts: ClientOptions,
            result: ClientResult | None, errors: Sequence[str],
            server_stats: dict[str, Any] | None) -> dict[str, Any]:
    messages = result.messages if result is not None else 0
    elapsed = result.elapsed if result is not None else 0.0
    rate = result.messages_per_s if result is not None else 0.0
    lat = result.latencies_ns if result is not None else []
    mean = sum(lat) / len(lat) / 1e3 if lat else None
    return {
        "mode": opts.mode,
        "messages": messages,
        "bytes": messages * opts.size,
        "elapsed_s": round(elapsed, 6),
        "messages_per_s": round(rate, 1),
        "mb_per_s": round(rate * opts.size / 1e6, 3),
        "latency_us": {
            "p50": _round(_us(benchlib.percentile(lat, 0.50))),
            "p99": _round(_us(benchlib.percentile(lat, 0.99))),
            "mean": _round(mean),
            "max": _round(_us(lat[-1] if lat else None)),
        },
        "size": opts.size,
        "concurrency": opts.concurrency,
        "jobs": opts.jobs,
        "policy": opts.policy,
        "server_policy": benchlib.server_policy_name(opts.policy),
        "auth": opts.auth,
        "msgr": benchlib.summarise_names(result.msgrs) if result is not None else None,
        "con_mode": _con_mode(result),
        "duration": opts.duration,
        "ios": opts.ios,
        "think_time_us": args.think_time if args.role is None else None,
        "embedded": config.asyncmsgr_embedded,
        "threads": 0 if config.asyncmsgr_embedded else config.ms_async_op_threads,
        "server": opts.addr or None,
        "client_worker_threads": result.worker_threads if result is not None else None,
        "event_loop": result.event_loop if result is not None else None,
        "client_cpu_s": round(time.process_time(), 3),
        "server_stats": server_stats,
        "errors": list(errors),
    }


def _con_mode(result: ClientResult | None) -> str | None:
    """The connections' negotiated mode (``crc``/``secure``; ``mixed`` if they differ)."""
    return benchlib.summarise_names(result.con_modes) if result is not None else None


def _us(ns: float | None) -> float | None:
    return None if ns is None else ns / 1e3


def _print_text(r: dict[str, Any], out: IO[str]) -> None:
    threads = ("embedded (one event loop, no worker threads)" if r["embedded"]
               else f"threaded ({r['threads']} worker threads per messenger)")
    span = f"{r['duration']:g} s" if r["duration"] is not None else f"{r['ios']} msgs/job"
    window = "in flight" if r["mode"] == "request" else "uncredited window"
    print(f"asyncmsgr bench: {r['mode']} mode, {r['size']} B payload, {r['jobs']} job(s) x "
          f"{r['concurrency']} {window}, {span}, policy {r['policy']} -> "
          f"{r['server_policy']}, {threads}, msgr {r['msgr'] or '?'}, auth {r['auth']}, "
          f"{r['con_mode'] or 'no'} mode, {r['event_loop'] or '?'} event loop", file=out)
    if r["server"]:
        print(f"  server      {r['server']}", file=out)
    cut = " (interrupted: what was measured until Ctrl-C)" if r.get("interrupted") else ""
    print(f"  messages    {r['messages']} in {r['elapsed_s']:.3f} s{cut}", file=out)
    print(f"  throughput  {r['messages_per_s']:,.0f} msg/s, {r['mb_per_s']:,.1f} MB/s",
          file=out)
    lat = r["latency_us"]
    if lat["p50"] is not None:
        print(f"  latency     p50 {lat['p50']:,.0f} us, p99 {lat['p99']:,.0f} us, "
              f"mean {lat['mean']:,.0f} us (send -> reply)", file=out)


__all__ = ["register", "run"]
