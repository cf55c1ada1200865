"""Pre-auth memory attack (issue 14): server RSS and a legitimate client's latency.

``--connections N`` raw sockets each write a valid handshake prefix that stops one
byte short of the item the server must buffer before judging it
(:mod:`asyncmsgr.testing.preauth_attack`): a msgr2.1 AUTH_REQUEST of
``--segments`` segments at the 64 KiB pre-auth cap, or (``--protocol v1``) a
connect message with a 4 KiB authorizer. Three processes (forked):

* the server: ``asyncmsgr bench``'s server messenger (``osd.0``, auth none,
  stateless_server), ``ms_connection_ready_timeout`` raised to
  ``--ready-timeout`` so the attack is held while it is measured;
* a legitimate client: one authenticated session doing 64-byte request/echo
  round trips, one in flight, all the time; during the held attack it also
  opens a new session (connect, authenticate, first reply);
* the attacker (this process).

Reported: server RSS before the attack, once the attack is held and settled
(``VmRSS``; ``VmHWM`` reset before the attack gives the peak), once the server
dropped every attack connection after the attackers closed, and then after
``malloc_trim(0)`` (what the allocator kept but was free); with ``--tracemalloc``
the Python allocations made during the attack and still alive after it; how
many attack connections the server holds; the client's round trip (median and
99th percentile) before and during the attack, with their ratio (the same
client, same run); the new session's set-up time.

Run: ``python benchmarks/bench_preauth.py [--connections 1000] [--segments 1|4]
[--protocol v2|v1] [--json] [--asyncmsgr_preauth_buffer_budget=0 ...]``.
To measure a tree without the budget (the "before" figures), run this script
with ``PYTHONPATH=<that tree>/src`` after copying
``src/asyncmsgr/testing/preauth_attack.py`` into it.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import errno
import gc
import json
import multiprocessing
import os
import resource
import socket
import statistics
import sys
import time
import tracemalloc
from multiprocessing.connection import Connection as Pipe
from typing import Any

from asyncmsgr.aio.connection import AsyncConnection
from asyncmsgr.cli import benchlib
from asyncmsgr.config import MessengerConfig, parse_config_args
from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.message import Message
from asyncmsgr.messages import MPing
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.testing.preauth_attack import v1_connect_prefix, v2_auth_request_prefix
from asyncmsgr.types import EntityType

MiB = 1024 * 1024
BASE_CONFIG = MessengerConfig()
_REQUEST = benchlib.BENCH_OP.pack(benchlib.OP_REQUEST, 0, 0)


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _recv(pipe: Pipe, timeout: float, what: str) -> Any:
    if not pipe.poll(timeout):
        raise TimeoutError(f"no answer from the {what} within {timeout:g} s")
    return pipe.recv()


# -- server -----------------------------------------------------------------------------

async def _server(protocol: str, pipe: Pipe) -> None:
    _raise_fd_limit()
    msgr, _stats = await benchlib.start_server(BASE_CONFIG, f"{protocol}:127.0.0.1:0",
                                               Policy.stateless_server())
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[str] = asyncio.Queue()
    loop.add_reader(pipe.fileno(), lambda: commands.put_nowait(pipe.recv()))
    pipe.send(str(msgr.my_addrs))
    start: tracemalloc.Snapshot | None = None
    try:
        while (cmd := await commands.get()) != "stop":
            if cmd == "clear_hwm":  # reset VmHWM to the current RSS (Linux >= 4.0)
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")
                pipe.send(None)
                continue
            if cmd == "trace_start":
                gc.collect()
                tracemalloc.start(8)
                start = tracemalloc.take_snapshot()
                pipe.send(None)
                continue
            if cmd == "trace_diff":  # what Python objects still hold, by allocation site
                gc.collect()
                assert start is not None
                diff = tracemalloc.take_snapshot().compare_to(start, "lineno")
                pipe.send({"traced_growth": sum(d.size_diff for d in diff),
                           "top": [(str(d.traceback[0]), d.size_diff, d.count_diff)
                                   for d in diff[:5]]})
                continue
            if cmd == "trim":  # hand free heap memory back to the kernel (glibc)
                ctypes.CDLL("libc.so.6").malloc_trim(0)
            await asyncio.sleep(0.1)
            gc.collect()
            budget = getattr(msgr, "preauth_budget", None)
            alive = sum(isinstance(o, AsyncConnection) for o in gc.get_objects())
            pipe.send({"rss": _status("VmRSS"), "hwm": _status("VmHWM"),
                       "accepting": len(msgr._accepting), "alive": alive,
                       "budget_held": budget.current if budget is not None else None})
    finally:
        loop.remove_reader(pipe.fileno())
        msgr.shutdown()
        await msgr.wait()


# -- legitimate client ------------------------------------------------------------------

class _Echo(Dispatcher):
    def __init__(self) -> None:
        self.waiter: asyncio.Future[None] | None = None

    def ms_can_fast_dispatch_any(self) -> bool:
        return True

    def ms_can_fast_dispatch(self, m: Message) -> bool:
        return True

    def ms_fast_dispatch(self, m: Message) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.get_loop().call_soon_threadsafe(_settle, w)

    def ms_handle_reset(self, con: Connection) -> bool:
        return True


def _settle(w: asyncio.Future[None]) -> None:
    if not w.done():
        w.set_result(None)


async def _round_trip(echo: _Echo, con: Connection, timeout: float) -> float:
    loop = asyncio.get_running_loop()
    echo.waiter = loop.create_future()
    t0 = time.monotonic()
    con.send_message(MPing(payload=_REQUEST))
    await asyncio.wait_for(echo.waiter, timeout)
    return time.monotonic() - t0


async def _new_session(addr: str, name: str) -> tuple[Messenger, _Echo, Connection, float]:
    t0 = time.monotonic()
    msgr = Messenger.create(name, config=BASE_CONFIG)
    msgr.set_default_policy(Policy.lossy_client())
    echo = _Echo()
    msgr.add_dispatcher_tail(echo)
    msgr.start()
    con = msgr.connect_to(EntityType.OSD, addr)
    await _round_trip(echo, con, 30)
    return msgr, echo, con, time.monotonic() - t0


async def _client(addr: str, pipe: Pipe) -> None:
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[str] = asyncio.Queue()
    loop.add_reader(pipe.fileno(), lambda: commands.put_nowait(pipe.recv()))
    msgr, echo, con, _ = await _new_session(addr, "client.7001")
    samples: list[tuple[float, float]] = []
    errors = 0
    pipe.send("ready")
    while True:
        while not commands.empty():
            cmd = commands.get_nowait()
            if cmd == "stop":
                pipe.send({"samples": samples, "errors": errors})
                msgr.shutdown()
                await msgr.wait()
                return
            if cmd == "fresh":  # a new session while the attack is held
                try:
                    m2, _e, _c, setup = await _new_session(addr, "client.7002")
                    m2.shutdown()
                    await m2.wait()
                    pipe.send({"setup_s": setup})
                except TimeoutError:
                    pipe.send({"error": "the new session got no reply within 30 s"})
        t = time.monotonic()
        try:
            samples.append((t, await _round_trip(echo, con, 10)))
        except TimeoutError:
            errors += 1


# -- attacker ---------------------------------------------------------------------------

def _attack(host: str, port: int, payload: bytes, n: int) -> tuple[list[socket.socket], int]:
    socks: list[socket.socket] = []
    refused = 0
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=30)
        try:
            s.sendall(payload)
        except OSError:
            refused += 1
            s.close()
            continue
        socks.append(s)
    return socks, refused


def _closed_by_server(s: socket.socket) -> bool:
    s.setblocking(False)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError as exc:
        return exc.errno in (errno.ECONNRESET, errno.EPIPE)


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "median_us": None, "p99_us": None}
    v = sorted(values)
    return {"n": len(v), "median_us": statistics.median(v) * 1e6,
            "p99_us": v[min(len(v) - 1, int(len(v) * 0.99))] * 1e6}


def run(connections: int, segments: int, protocol: str, *,
        trace: bool = False) -> dict[str, Any]:
    """One attack; the figures (``trace``: tracemalloc in the server from just
    before the attack to after it)."""
    payload = (v1_connect_prefix() if protocol == "v1"
               else v2_auth_request_prefix(segments=segments))
    ctx = multiprocessing.get_context("fork")
    srv_pipe, srv_child = ctx.Pipe()
    cli_pipe, cli_child = ctx.Pipe()
    server = ctx.Process(target=lambda: asyncio.run(_server(protocol, srv_child)), daemon=True)
    server.start()
    client = None
    socks: list[socket.socket] = []
    try:
        addrs = _recv(srv_pipe, 15, "server")
        addr = addrs.strip("[]").split(",")[0]
        hostport = addr.split(":", 1)[1].split("/")[0]
        host, port = hostport.rsplit(":", 1)
        client = ctx.Process(target=lambda: asyncio.run(_client(addrs, cli_child)), daemon=True)
        client.start()
        _recv(cli_pipe, 30, "client")
        time.sleep(2.0)  # baseline round trips
        srv_pipe.send("measure")
        before = _recv(srv_pipe, 15, "server")
        srv_pipe.send("clear_hwm")
        _recv(srv_pipe, 15, "server")
        if trace:
            srv_pipe.send("trace_start")
            _recv(srv_pipe, 15, "server")
        t_attack = time.monotonic()
        socks, refused_on_send = _attack(host, int(port), payload, connections)
        t_sent = time.monotonic()
        last: dict[str, Any] | None = None
        for _ in range(120):  # settled: two measures in a row agree
            srv_pipe.send("measure")
            held = _recv(srv_pipe, 30, "server")
            if last is not None and held["accepting"] == last["accepting"] \
                    and abs(held["rss"] - last["rss"]) < MiB:
                break
            last = held
            time.sleep(0.3)
        t_settled = time.monotonic()
        cli_pipe.send("fresh")
        fresh = _recv(cli_pipe, 60, "client")
        closed = sum(_closed_by_server(s) for s in socks) + refused_on_send
        for s in socks:
            s.close()
        socks = []
        t_closed = time.monotonic()
        for _ in range(300):  # until the server let go of every attack connection
            srv_pipe.send("measure")
            after = _recv(srv_pipe, 15, "server")
            # the client's session, and the last reset the dispatch loop handled
            if not after["accepting"] and after["alive"] <= 2:
                break
        drained = time.monotonic() - t_closed
        traced = None
        if trace:
            srv_pipe.send("trace_diff")
            traced = _recv(srv_pipe, 60, "server")
        srv_pipe.send("trim")
        trimmed = _recv(srv_pipe, 15, "server")
        cli_pipe.send("stop")
        cr = _recv(cli_pipe, 30, "client")
        srv_pipe.send("stop")
    finally:
        for s in socks:
            s.close()
        for proc in (client, server):
            if proc is not None:
                proc.join(5)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
    base = [rtt for t, rtt in cr["samples"] if t < t_attack]
    during = [rtt for t, rtt in cr["samples"] if t_attack <= t <= t_settled]
    lat_base, lat_during = _percentiles(base), _percentiles(during)
    ratio = (lat_during["median_us"] / lat_base["median_us"]
             if lat_during["median_us"] and lat_base["median_us"] else None)
    return {
        "protocol": protocol, "segments": segments if protocol == "v2" else None,
        "connections": connections, "payload_bytes": len(payload),
        "budget": BASE_CONFIG.as_dict().get("asyncmsgr_preauth_buffer_budget"),
        "send_s": t_sent - t_attack, "settle_s": t_settled - t_attack,
        "closed_by_server": closed, "held_by_server": held["accepting"],
        "budget_held": held["budget_held"],
        "rss_before_mib": before["rss"] / MiB, "rss_held_mib": held["rss"] / MiB,
        "rss_growth_mib": (held["rss"] - before["rss"]) / MiB,
        "peak_growth_mib": (held["hwm"] - before["rss"]) / MiB,
        "rss_after_close_mib": after["rss"] / MiB, "drain_s": drained,
        "connections_alive_after": after["alive"],
        "rss_after_trim_mib": trimmed["rss"] / MiB, "traced_after_close": traced,
        "rtt_before": lat_base, "rtt_during": lat_during, "rtt_median_ratio": ratio,
        "client_errors": cr["errors"], "new_session": fresh,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    global BASE_CONFIG  # noqa: PLW0603  (read by the forked children)
    config, rest = parse_config_args(sys.argv[1:] if argv is None else argv, env=os.environ)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--connections", type=int, default=1000)
    p.add_argument("--segments", type=int, default=1, choices=[1, 2, 3, 4])
    p.add_argument("--protocol", choices=["v2", "v1"], default="v2")
    p.add_argument("--ready-timeout", type=float, default=60.0,
                   help="ms_connection_ready_timeout of the server (hold the attack)")
    p.add_argument("--tracemalloc", action="store_true",
                   help="trace the server's Python allocations over the attack")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(rest)
    _raise_fd_limit()
    BASE_CONFIG = config.replace(ms_connection_ready_timeout=args.ready_timeout)
    result = run(args.connections, args.segments, args.protocol, trace=args.tracemalloc)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    b, d = result["rtt_before"], result["rtt_during"]
    print(f"{result['connections']} x {result['payload_bytes']} B ({result['protocol']}, "
          f"{result['segments']} segment(s)), budget {result['budget']}: server held "
          f"{result['held_by_server']}, closed {result['closed_by_server']}")
    print(f"server RSS {result['rss_before_mib']:.1f} -> {result['rss_held_mib']:.1f} MiB "
          f"(+{result['rss_growth_mib']:.1f}, peak +{result['peak_growth_mib']:.1f}); "
          f"{result['rss_after_close_mib']:.1f} MiB once the server dropped them "
          f"({result['drain_s']:.1f} s after the attackers closed), "
          f"{result['rss_after_trim_mib']:.1f} MiB after malloc_trim(0)")
    if result["traced_after_close"] is not None:
        t = result["traced_after_close"]
        print(f"tracemalloc: Python objects allocated during the attack and still alive "
              f"after it: {t['traced_growth'] / 1024:.0f} KiB; top: {t['top'][:3]}")
    print(f"client round trip: median {b['median_us']:.0f} us before, "
          f"{d['median_us'] or 0:.0f} us during ({result['rtt_median_ratio'] or 0:.2f}x); "
          f"p99 {b['p99_us']:.0f} -> {d['p99_us'] or 0:.0f} us; "
          f"new session during the attack: {result['new_session']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
