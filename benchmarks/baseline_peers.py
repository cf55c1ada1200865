"""Baseline peers for ``bench_messenger.py``: a minimal asyncio framing and pyzmq.

* ``minimal``: an ``asyncio.BufferedProtocol`` with an 8-byte header (length,
  crc32c of the payload, computed by the sender and checked by the receiver),
  frames parsed in place from a reused 256 KiB buffer, frames over 64 KiB
  received straight into their own buffer, and writes batched: one
  ``transport.write`` of the joined buffers per loop iteration (performance-notes.md
  §2, "proto-asyncio+crc").
* ``pyzmq`` (when importable): PUSH/PULL for streams, DEALER/ROUTER for ping-pongs,
  ``copy=False`` above 64 KiB.

Servers return a :data:`ServerReport`, clients a :data:`ClientReport`; the
orchestrator (``bench_messenger.py``) runs each in its own process.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any

import crc32c

from asyncmsgr.cli import benchlib

try:
    import zmq
    HAVE_ZMQ = True
except ImportError:  # pragma: no cover - optional peer
    HAVE_ZMQ = False

KiB = 1024
MiB = 1024 * 1024

@dataclass(frozen=True, slots=True)
class Workload:
    """One measured traffic pattern."""

    key: str
    title: str
    stream: bool
    size: int
    inflight: int
    unit: str


WORKLOADS: tuple[Workload, ...] = (
    Workload("stream_4k", "4 KiB one-way stream", True, 4 * KiB, 0, "msg/s"),
    Workload("stream_4m", "4 MiB one-way stream", True, 4 * MiB, 0, "MB/s"),
    Workload("pingpong_1", "64 B ping-pong, 1 in flight", False, 64, 1, "us/rt"),
    Workload("pingpong_16", "64 B ping-pong, 16 in flight", False, 64, 16, "msg/s"),
)
ALL_PEERS: tuple[str, ...] = ("asyncmsgr-embedded", "asyncmsgr-threaded", "minimal", "pyzmq")

#: Result of a server process: messages, payload bytes, first and last receive (ns).
ServerReport = dict[str, int]
#: Result of a client process: completed, elapsed_s, p50_us, p99_us (or an error).
ClientReport = dict[str, Any]


def latency_summary(lat_ns: list[int]) -> dict[str, float | None]:
    lat_ns.sort()
    p50 = benchlib.percentile(lat_ns, 0.5)
    p99 = benchlib.percentile(lat_ns, 0.99)
    return {"p50_us": None if p50 is None else p50 / 1e3,
            "p99_us": None if p99 is None else p99 / 1e3}


def wait_stop(pipe: Pipe, stop: asyncio.Event) -> None:
    """Set ``stop`` when the orchestrator writes to ``pipe``."""
    loop = asyncio.get_running_loop()

    def readable() -> None:
        loop.remove_reader(pipe.fileno())
        stop.set()
    loop.add_reader(pipe.fileno(), readable)


# -- minimal BufferedProtocol framing -----------------------------------------------------

_HDR = struct.Struct("<II")  # payload length, crc32c(payload)
_RX_BUFFER = 256 * KiB
_LARGE = 64 * KiB
_BATCH = 256 * KiB


class _Framed(asyncio.BufferedProtocol):
    """Length + crc32c frames in, batched writes out; subclasses handle frames."""

    def __init__(self) -> None:
        self.buf = bytearray(_RX_BUFFER)
        self.view = memoryview(self.buf)
        self.start = self.end = 0
        self.big: bytearray | None = None
        self.big_filled = 0
        self.big_crc = 0
        self.out: list[bytes] = []
        self.flush_scheduled = False
        self.paused = False
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        if self.big is not None:
            return memoryview(self.big)[self.big_filled:]
        if _RX_BUFFER - self.end < _LARGE:
            n = self.end - self.start
            self.buf[:n] = self.buf[self.start:self.end]  # same size: allowed with views
            self.start, self.end = 0, n
        return self.view[self.end:]

    def buffer_updated(self, nbytes: int) -> None:
        if self.big is not None:
            self.big_filled += nbytes
            if self.big_filled == len(self.big):
                payload, self.big = self.big, None
                self._frame(memoryview(payload), self.big_crc)
            return
        self.end += nbytes
        buf, view = self.buf, self.view
        start, end = self.start, self.end
        while end - start >= 8:
            length, crc = _HDR.unpack_from(buf, start)
            if end - start - 8 >= length:
                self._frame(view[start + 8:start + 8 + length], crc)
                start += 8 + length
            elif length > _LARGE:  # receive the rest straight into its own buffer
                have = end - start - 8
                big = bytearray(length)
                big[:have] = view[start + 8:end]
                self.big, self.big_filled, self.big_crc = big, have, crc
                start = end
                break
            else:
                break
        if start == end:
            start = end = 0
        self.start, self.end = start, end

    def _frame(self, payload: memoryview, crc: int) -> None:
        if crc32c.crc32c(payload) != crc:
            raise ValueError("bad crc")
        self.frame_received(payload)

    def frame_received(self, payload: memoryview) -> None:
        raise NotImplementedError

    def send(self, payload: bytes) -> None:
        """Queue one frame; written with the others once per loop iteration."""
        self.out.append(_HDR.pack(len(payload), crc32c.crc32c(payload)))
        self.out.append(payload)
        if not self.flush_scheduled:
            self.flush_scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.flush_scheduled = False
        if self.out and self.transport is not None:
            self.transport.write(b"".join(self.out))
            self.out.clear()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False


class _MinimalServerProto(_Framed):
    def __init__(self, stats: dict[str, int], echo: bool) -> None:
        super().__init__()
        self.stats = stats
        self.echo = echo

    def frame_received(self, payload: memoryview) -> None:
        s = self.stats
        now = time.perf_counter_ns()
        if not s["messages"]:
            s["first_ns"] = now
        s["messages"] += 1
        s["bytes"] += len(payload)
        s["last_ns"] = now
        if self.echo:
            self.send(bytes(payload))


async def minimal_server(w: Workload, pipe: Pipe) -> ServerReport:
    loop = asyncio.get_running_loop()
    stats = {"messages": 0, "bytes": 0, "first_ns": 0, "last_ns": 0}
    server = await loop.create_server(lambda: _MinimalServerProto(stats, not w.stream),
                                      "127.0.0.1", 0)
    stop = asyncio.Event()
    pipe.send(server.sockets[0].getsockname()[1])
    wait_stop(pipe, stop)
    await stop.wait()
    server.close()
    return stats


class _MinimalClientProto(_Framed):
    def __init__(self, w: Workload, duration: float, done: asyncio.Future[None]) -> None:
        super().__init__()
        self.w = w
        self.payload = bytes(w.size)
        self.deadline = time.perf_counter() + duration
        self.done = done
        self.sent: deque[int] = deque()
        self.lat: list[int] = []
        self.t0 = time.perf_counter_ns()
        self.end_ns = self.t0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self.w.stream:
            self.produce()
        else:
            for _ in range(self.w.inflight):
                self.request()

    def produce(self) -> None:
        """Write one batch (>= 256 KiB or one message) per loop iteration."""
        if self.paused or self.transport is None or self.transport.is_closing():
            return
        if time.perf_counter() >= self.deadline:
            self.transport.close()  # flushes what is buffered
            if not self.done.done():
                self.done.set_result(None)
            return
        payload, crc = self.payload, crc32c.crc32c(self.payload)
        parts: list[bytes] = []
        size = 0
        while size < _BATCH:
            parts.append(_HDR.pack(len(payload), crc))
            parts.append(payload)
            size += 8 + len(payload)
        self.transport.write(b"".join(parts))
        self.loop.call_soon(self.produce)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.w.stream:
            self.loop.call_soon(self.produce)

    def request(self) -> None:
        if time.perf_counter() >= self.deadline:
            if not self.sent and not self.done.done():
                self.done.set_result(None)
            return
        self.sent.append(time.perf_counter_ns())
        self.send(self.payload)

    def frame_received(self, payload: memoryview) -> None:
        now = time.perf_counter_ns()
        self.lat.append(now - self.sent.popleft())
        self.end_ns = now
        self.request()


async def minimal_client(w: Workload, port: int, duration: float) -> ClientReport:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    transport, proto = await loop.create_connection(
        lambda: _MinimalClientProto(w, duration, done), "127.0.0.1", port)
    await asyncio.wait_for(done, duration + 30)
    transport.close()
    if w.stream:
        return {"completed": 0, "elapsed_s": duration}
    return {"completed": len(proto.lat), "elapsed_s": (proto.end_ns - proto.t0) / 1e9,
            **latency_summary(proto.lat)}


# -- pyzmq --------------------------------------------------------------------------------


def zmq_server(w: Workload, pipe: Pipe) -> ServerReport:
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PULL if w.stream else zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    stats = {"messages": 0, "bytes": 0, "first_ns": 0, "last_ns": 0}
    pipe.send(port)
    while not pipe.poll():
        if not sock.poll(100):
            continue
        for _ in range(1000):
            try:
                if w.stream:
                    frame = sock.recv(zmq.NOBLOCK, copy=False)
                    size = len(frame.buffer)
                else:
                    ident, msg = sock.recv_multipart(zmq.NOBLOCK)
                    sock.send_multipart([ident, msg])
                    size = len(msg)
            except zmq.Again:
                break
            now = time.perf_counter_ns()
            if not stats["messages"]:
                stats["first_ns"] = now
            stats["messages"] += 1
            stats["bytes"] += size
            stats["last_ns"] = now
    sock.close()
    ctx.term()
    return stats


def zmq_client(w: Workload, port: int, duration: float) -> ClientReport:
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUSH if w.stream else zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 2000 if w.stream else 0)
    sock.connect(f"tcp://127.0.0.1:{port}")
    payload = bytes(w.size)
    deadline = time.perf_counter() + duration
    report: ClientReport
    if w.stream:
        big = w.size > _LARGE
        n = 0
        while n % 64 or time.perf_counter() < deadline:
            if big:
                sock.send(payload, copy=False)
            else:
                sock.send(payload)
            n += 1
        report = {"completed": 0, "elapsed_s": duration}
    else:
        sent: deque[int] = deque()
        lat: list[int] = []
        t0 = time.perf_counter_ns()
        for _ in range(w.inflight):
            sent.append(time.perf_counter_ns())
            sock.send(payload)
        end = t0
        while sent:
            sock.recv()
            end = time.perf_counter_ns()
            lat.append(end - sent.popleft())
            if time.perf_counter() < deadline:
                sent.append(time.perf_counter_ns())
                sock.send(payload)
        report = {"completed": len(lat), "elapsed_s": (end - t0) / 1e9,
                  **latency_summary(lat)}
    sock.close()
    ctx.term()
    return report


__all__ = [
    "ALL_PEERS", "HAVE_ZMQ", "WORKLOADS", "ClientReport", "ServerReport", "Workload",
    "latency_summary", "minimal_client", "minimal_server", "wait_stop", "zmq_client",
    "zmq_server",
]
