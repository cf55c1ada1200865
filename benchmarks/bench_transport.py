"""Transport choice: asyncio.BufferedProtocol vs file events (recv_into + sendmsg).

The messenger can drive its sockets either through an ``asyncio.BufferedProtocol``
(transport writes) or, as Ceph's AsyncConnection does, through the event
center's file events with non-blocking ``recv_into`` and scatter-gather
``sendmsg``. This benchmark runs the same minimal framing (8-byte header with
length and crc32c) both ways, client and server in separate processes, and
reports:

* 4 KiB one-way stream: messages/s received by the server;
* 4 MiB one-way stream: MB/s;
* 64 B ping-pong, one in flight: microseconds per round trip.

Run: ``python benchmarks/bench_transport.py [--seconds 3] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import socket
import struct
import time
from collections.abc import Callable
from statistics import median

import crc32c

_HDR = struct.Struct("<II")
_BUF = 256 * 1024


def _frame(payload: bytes) -> list[bytes]:
    return [_HDR.pack(len(payload), crc32c.crc32c(payload)), payload]


class _Parser:
    """Frames from a reused buffer; large payloads into their own buffer."""

    def __init__(self, on_frame: Callable[[memoryview], None]) -> None:
        self.buf = bytearray(_BUF)
        self.view = memoryview(self.buf)
        self.r = self.w = 0
        self.big: bytearray | None = None
        self.big_fill = 0
        self.on_frame = on_frame

    def get_buffer(self) -> memoryview:
        if self.big is not None:
            return memoryview(self.big)[self.big_fill :]
        if self.w == len(self.buf):
            n = self.w - self.r
            self.buf[:n] = self.buf[self.r : self.w]
            self.r, self.w = 0, n
        return self.view[self.w :]

    def updated(self, n: int) -> None:
        if self.big is not None:
            self.big_fill += n
            if self.big_fill == len(self.big):
                self.on_frame(memoryview(self.big))
                self.big = None
            return
        self.w += n
        while self.w - self.r >= 8:
            length, crc = _HDR.unpack_from(self.buf, self.r)
            if length > 65536:
                have = self.w - self.r - 8
                self.big = bytearray(length)
                self.big[:have] = self.view[self.r + 8 : self.w]
                self.big_fill = have
                self.r = self.w = 0
                return
            if self.w - self.r - 8 < length:
                return
            payload = self.view[self.r + 8 : self.r + 8 + length]
            if crc32c.crc32c(payload) != crc:
                raise ValueError("bad crc")
            self.r += 8 + length
            self.on_frame(payload)
        if self.r == self.w:
            self.r = self.w = 0


# -- server (child process) ---------------------------------------------------------------


def _server(style: str, port_q: mp.Queue[int], echo: bool) -> None:
    asyncio.run(_serve(style, port_q, echo))


async def _serve(style: str, port_q: mp.Queue[int], echo: bool) -> None:
    loop = asyncio.get_running_loop()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    lsock.setblocking(False)
    port_q.put(lsock.getsockname()[1])
    done = loop.create_future()
    count = [0, 0]

    if style == "protocol":
        class P(asyncio.BufferedProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                assert isinstance(transport, asyncio.Transport)
                self.t = transport
                self.parser = _Parser(self.on_frame)

            def on_frame(self, payload: memoryview) -> None:
                count[0] += 1
                count[1] += len(payload)
                if echo:
                    self.t.write(b"".join(_frame(bytes(payload))))

            def get_buffer(self, sizehint: int) -> memoryview:
                return self.parser.get_buffer()

            def buffer_updated(self, nbytes: int) -> None:
                self.parser.updated(nbytes)

            def connection_lost(self, exc: Exception | None) -> None:
                if not done.done():
                    done.set_result(None)

        sock, _ = await loop.sock_accept(lsock)
        await loop.connect_accepted_socket(P, sock)
    else:
        sock, _ = await loop.sock_accept(lsock)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def on_frame(payload: memoryview) -> None:
            count[0] += 1
            count[1] += len(payload)
            if echo:
                sock.sendmsg(_frame(bytes(payload)))

        parser = _Parser(on_frame)

        def readable() -> None:
            while True:
                try:
                    n = sock.recv_into(parser.get_buffer())
                except BlockingIOError:
                    return
                if n == 0:
                    loop.remove_reader(sock.fileno())
                    if not done.done():
                        done.set_result(None)
                    return
                parser.updated(n)
        loop.add_reader(sock.fileno(), readable)
    await done
    port_q.put(count[0])
    port_q.put(count[1])


# -- clients --------------------------------------------------------------------------------


async def _client_stream(style: str, port: int, size: int, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    payload = bytes(size)
    frame = _frame(payload)
    deadline = time.perf_counter() + seconds
    if style == "protocol":
        reader_done = loop.create_future()

        class C(asyncio.BufferedProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.paused = False

            def pause_writing(self) -> None:
                self.paused = True
                self.resume = loop.create_future()

            def resume_writing(self) -> None:
                self.paused = False
                self.resume.set_result(None)

            def get_buffer(self, sizehint: int) -> bytearray:
                return bytearray(16)

            def buffer_updated(self, nbytes: int) -> None:
                pass

            def connection_lost(self, exc: Exception | None) -> None:
                reader_done.set_result(None)

        transport, proto = await loop.create_connection(C, "127.0.0.1", port)
        assert isinstance(transport, asyncio.Transport)
        batch = max(1, (256 * 1024) // (size + 8))
        joined = b"".join(frame) * batch
        while time.perf_counter() < deadline:
            transport.write(joined)  # one write per loop turn, batched
            if proto.paused:
                await proto.resume
            else:
                await asyncio.sleep(0)
        transport.close()
        await reader_done
        return
    sock = socket.socket()
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending: list[memoryview] = []
    writable = asyncio.Event()
    batch = max(1, (256 * 1024) // (size + 8))
    chunks = [memoryview(c) for c in frame] * batch

    def on_writable() -> None:
        writable.set()
    while time.perf_counter() < deadline:
        if not pending:
            pending = list(chunks)
        try:
            sent = sock.sendmsg(pending[:512])
        except BlockingIOError:
            writable.clear()
            loop.add_writer(sock.fileno(), on_writable)
            await writable.wait()
            loop.remove_writer(sock.fileno())
            continue
        i = 0
        while sent and i < len(pending):
            if sent >= len(pending[i]):
                sent -= len(pending[i])
                i += 1
            else:
                pending[i] = pending[i][sent:]
                sent = 0
        del pending[:i]
    sock.close()


async def _client_pingpong(style: str, port: int, seconds: float) -> int:
    loop = asyncio.get_running_loop()
    payload = bytes(64)
    rounds = 0
    deadline = time.perf_counter() + seconds
    got: asyncio.Future[None] = loop.create_future()

    def on_frame(_p: memoryview) -> None:
        nonlocal got
        if not got.done():
            got.set_result(None)
    parser = _Parser(on_frame)
    if style == "protocol":
        class C(asyncio.BufferedProtocol):
            def get_buffer(self, sizehint: int) -> memoryview:
                return parser.get_buffer()

            def buffer_updated(self, nbytes: int) -> None:
                parser.updated(nbytes)

        transport, _ = await loop.create_connection(C, "127.0.0.1", port)
        assert isinstance(transport, asyncio.Transport)
        while time.perf_counter() < deadline:
            got = loop.create_future()
            transport.write(b"".join(_frame(payload)))
            await got
            rounds += 1
        transport.close()
        return rounds
    sock = socket.socket()
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def readable() -> None:
        while True:
            try:
                n = sock.recv_into(parser.get_buffer())
            except BlockingIOError:
                return
            if n == 0:
                return
            parser.updated(n)
    loop.add_reader(sock.fileno(), readable)
    while time.perf_counter() < deadline:
        got = loop.create_future()
        sock.sendmsg(_frame(payload))
        await got
        rounds += 1
    loop.remove_reader(sock.fileno())
    sock.close()
    return rounds


def run(style: str, workload: str, seconds: float) -> float:
    """One measurement: msgs/s (4k), MB/s (4m) or µs per round trip (pingpong)."""
    ctx = mp.get_context("fork")
    q: mp.Queue[int] = ctx.Queue()
    echo = workload == "pingpong"
    proc = ctx.Process(target=_server, args=(style, q, echo))
    proc.start()
    port = q.get(timeout=10)
    t0 = time.perf_counter()
    if workload == "pingpong":
        rounds = asyncio.run(_client_pingpong(style, port, seconds))
        elapsed = time.perf_counter() - t0
        result = elapsed / rounds * 1e6
    else:
        size = 4096 if workload == "4k" else 4 << 20
        asyncio.run(_client_stream(style, port, size, seconds))
    msgs = q.get(timeout=30)
    nbytes = q.get(timeout=30)
    elapsed = time.perf_counter() - t0
    proc.join(10)
    if workload == "4k":
        result = msgs / elapsed
    elif workload == "4m":
        result = nbytes / elapsed / 1e6
    return result


def main() -> None:
    """Measure both styles, alternating, and print medians."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results: dict[str, dict[str, float]] = {}
    for workload in ("4k", "4m", "pingpong"):
        samples: dict[str, list[float]] = {"protocol": [], "fileevents": []}
        for rnd in range(args.rounds):
            order = ("protocol", "fileevents") if rnd % 2 == 0 else ("fileevents", "protocol")
            for style in order:
                samples[style].append(run(style, workload, args.seconds))
        results[workload] = {k: median(v) for k, v in samples.items()}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    units = {"4k": "msgs/s", "4m": "MB/s", "pingpong": "us/rt"}
    print(f"{'workload':10} {'BufferedProtocol':>18} {'file events':>14} {'ratio fe/bp':>12}")
    for w, r in results.items():
        print(f"{w:10} {r['protocol']:18.1f} {r['fileevents']:14.1f} "
              f"{r['fileevents'] / r['protocol']:12.2f}  ({units[w]})")


if __name__ == "__main__":
    main()
