"""Deterministic per-message cost of the messenger: Python calls and CPU per message.

Runs ``asyncmsgr bench``'s client and server (:mod:`asyncmsgr.cli.benchlib`) in
this one process, embedded, over loopback: ``--ios N`` messages in ``stream``
mode (4 KiB, one way) or ``request`` mode (64 B ping-pong, one in flight), after
a warm-up of 200. Prints CPU microseconds per message (noisy on a shared
machine) and, with ``--calls``, Python function calls per message (cProfile:
deterministic) with the top functions.

Instructions per message, the figure the per-message work is tuned on, come
from two runs under callgrind with different N (start-up cancels out)::

    for n in 2000 6000; do valgrind --tool=callgrind --callgrind-out-file=cg.$n \\
        python benchmarks/profile_messenger.py stream --ios $n; done
    # (Ir(cg.6000) - Ir(cg.2000)) / 4000, Ir from the "summary:" line

Set ``ASYNCMSGR_GENERAL_PATH=1`` for the per-frame path.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time

from asyncmsgr.cli import benchlib
from asyncmsgr.config import MessengerConfig
from asyncmsgr.policy import Policy

WARMUP = 200


async def _run(mode: benchlib.Mode, ios: int, size: int,
               profile: cProfile.Profile | None) -> tuple[float, int]:
    config = MessengerConfig()
    msgr, _server = await benchlib.start_server(config, "v2:127.0.0.1:0",
                                                Policy.stateless_server())
    try:
        concurrency = 1 if mode == "request" else 4096

        def opts(n: int) -> benchlib.ClientOptions:
            return benchlib.ClientOptions(addr=str(msgr.my_addrs), mode=mode, size=size,
                                          duration=None, ios=n, concurrency=concurrency)
        await benchlib.run_client(config, opts(WARMUP))
        cpu0 = time.process_time()
        if profile is not None:
            profile.enable()
        result = await benchlib.run_client(config, opts(ios))
        if profile is not None:
            profile.disable()
        cpu = time.process_time() - cpu0
    finally:
        msgr.shutdown()
        await msgr.wait()
    if result.errors:
        raise SystemExit(f"profile_messenger: {result.errors}")
    return cpu, result.messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=benchlib.MODES)
    parser.add_argument("--ios", type=int, default=20000, help="messages (default 20000)")
    parser.add_argument("--size", type=int, default=0,
                        help="payload bytes (default: 4096 stream, 64 request)")
    parser.add_argument("--calls", action="store_true",
                        help="count Python calls per message (cProfile; slower)")
    parser.add_argument("--top", type=int, default=30, help="functions listed with --calls")
    args = parser.parse_args()
    size = args.size or (4096 if args.mode == "stream" else 64)
    profile = cProfile.Profile() if args.calls else None
    cpu, done = asyncio.run(_run(args.mode, args.ios, size, profile))
    unit = "round trip" if args.mode == "request" else "message"
    print(f"{args.mode}, {size} B, {done} messages: {cpu / done * 1e6:.1f} us CPU per "
          f"{unit} (client and server together{', profiled' if profile else ''})")
    if profile is not None:
        stats = pstats.Stats(profile)
        print(f"{stats.total_calls / done:.1f} Python calls per {unit}")  # type: ignore[attr-defined]
        rows = sorted(((v[1] / done, f"{k[0]}:{k[1]}({k[2]})")
                       for k, v in stats.stats.items()),  # type: ignore[attr-defined]
                      reverse=True)
        for calls, name in rows[: args.top]:
            print(f"{calls:8.2f}  {name}")


if __name__ == "__main__":
    main()
