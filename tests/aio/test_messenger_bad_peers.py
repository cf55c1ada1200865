"""Hostile peers on raw sockets against a server messenger (lossy stateless server).

faults-and-bad-input.md §3: a garbage banner, a msgr v1 banner, a frame whose tag
is not allowed in the state (ACK before HELLO), an oversize pre-auth segment, a
bad preamble crc, a truncated banner then close. Each time the server closes the
socket (we read EOF), stops the half-accepted connection (a reset for a
connection nobody saw accepted, as in Ceph), nothing leaks to the event loop,
and a normal client is still served afterwards.
"""

from __future__ import annotations

import asyncio
import resource
import socket
import struct
import time
from dataclasses import dataclass

import pytest
from msgr_harness import (
    EMBEDDED_IDS,
    EMBEDDED_MODES,
    as_async,
    make_config,
    msgr_pair,
    run,
)

from asyncmsgr.frames.assembler import FrameAssembler
from asyncmsgr.frames.v2 import (
    BANNER_LEN,
    V1_BANNER,
    AckFrame,
    HelloFrame,
    Tag,
    encode_banner,
)
from asyncmsgr.messages import MPing
from asyncmsgr.messenger import Messenger
from asyncmsgr.types import EntityAddr, EntityType
from asyncmsgr.wire.crc32c import ceph_crc32c

MB = 1_000_000


def _frame(tag: Tag, payload: bytes) -> bytes:
    return b"".join(bytes(c) for c in FrameAssembler().assemble(tag, (payload,)))


def _hello() -> bytes:
    return _frame(Tag.HELLO, HelloFrame(
        entity_type=EntityType.CLIENT,
        peer_addr=EntityAddr.from_host("127.0.0.1", 6800)).encode_payload())


def _oversize_preamble() -> bytes:
    """A HELLO preamble with a valid crc announcing a 100 MB segment."""
    head = struct.pack("<BB" + "IH" * 4 + "BB", Tag.HELLO, 1, 100 * MB, 8,
                       0, 0, 0, 0, 0, 0, 0, 0)
    return head + struct.pack("<I", ceph_crc32c(0, head))


def _bad_crc_hello() -> bytes:
    hello = bytearray(_hello())
    hello[2] ^= 0x01  # one bit of the first segment length
    return bytes(hello)


@dataclass(frozen=True)
class BadPeer:
    payload: bytes
    """What the peer writes."""
    half_close: bool = False
    """Shut down our write side after it."""
    fault: str = ""
    """The exception named in the server's fault log line."""
    sent_hello: bool = False
    """Whether the server got as far as queueing its HELLO (which may or may not
    reach the wire before the fault closes the socket)."""


CASES = {
    "garbage_banner": BadPeer(b"GET / HTTP/1.1\r\nHost: ceph\r\n\r\n", fault="BannerMismatch"),
    "v1_banner": BadPeer(V1_BANNER, fault="BannerMismatch"),
    "ack_before_hello": BadPeer(
        encode_banner() + _frame(Tag.ACK, AckFrame(seq=1).encode_payload()),
        fault="UnknownTag", sent_hello=True),
    "oversize_preauth_segment": BadPeer(
        encode_banner() + _oversize_preamble() + bytes(4096),
        fault="FrameTooLarge", sent_hello=True),
    "bad_preamble_crc": BadPeer(
        encode_banner() + _bad_crc_hello(), fault="BadPreambleCrc", sent_hello=True),
    "truncated_banner_then_close": BadPeer(b"ceph v", half_close=True),
}


def _worker_counter(msgr: Messenger, name: str) -> int:
    total = 0
    for logger_name, counters in msgr.perf_dump().items():
        if logger_name.startswith("AsyncMessenger::Worker-"):
            value = counters[name]
            assert isinstance(value, int)
            total += value
    return total


@pytest.mark.parametrize("embedded", EMBEDDED_MODES, ids=EMBEDDED_IDS)
@pytest.mark.parametrize("case", list(CASES))
def test_bad_peer_is_closed_and_server_keeps_serving(
        case: str, embedded: bool, caplog: pytest.LogCaptureFixture) -> None:
    bad = CASES[case]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    async def main() -> None:
        async with msgr_pair(embedded=embedded) as p:
            addr = p.server.my_addrs.msgr2_addr
            assert addr is not None
            reader, writer = await asyncio.open_connection(addr.host, addr.port)
            writer.write(bad.payload)
            if bad.half_close:
                writer.write_eof()
            got = await asyncio.wait_for(reader.read(), 5)  # returns at EOF
            writer.close()
            await writer.wait_closed()
            assert got.startswith(encode_banner())
            if not bad.sent_hello:
                assert len(got) == BANNER_LEN, got
            # the half-accepted connection was stopped, with a reset
            await p.sd.wait_for(p.sd.resets)
            bad_con = as_async(p.sd.resets[0])
            counts = bad_con.core.handshake_counts
            assert counts.get("banner") == 1
            assert counts.get("send_HELLO", 0) == int(bad.sent_hello)
            assert not any(k.startswith("recv_") for k in counts), counts
            assert "ready" not in counts
            assert p.sd.accepts == []
            assert p.sd.count() == 0
            await p.sd.rec.wait_until(lambda: p.server.get_connections() == [],
                                      what="no server connections", poll=0.01)
            assert _worker_counter(p.server, "msgr_created_connections") == 1
            assert _worker_counter(p.server, "msgr_active_connections") == 0
            # a normal client is still served
            con = await p.connect()
            con.send_message(MPing(data=b"after"))
            await p.cd.wait_count(1)
            assert bytes(p.cd.got[0].data) == b"after"
            assert _worker_counter(p.server, "msgr_created_connections") == 2

    with caplog.at_level("INFO", logger="asyncmsgr.ms.protocol"):
        run(main)
    if bad.fault:
        assert any(f"fault: {bad.fault}" in r.getMessage() for r in caplog.records), \
            [r.getMessage() for r in caplog.records]
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert grown_kib < 50 * 1024  # the 100 MB segment was never allocated


@pytest.mark.parametrize("embedded", EMBEDDED_MODES, ids=EMBEDDED_IDS)
def test_silent_peer_is_cut_at_the_ready_timeout(embedded: bool) -> None:
    """Row 1: a truncated banner, then silence; the half-accepted connection is
    faulted by ``ms_connection_ready_timeout`` (scaled down to 0.3 s)."""
    async def main() -> None:
        cfg = make_config(embedded, ms_connection_ready_timeout=0.3)
        async with msgr_pair(config=cfg) as p:
            addr = p.server.my_addrs.msgr2_addr
            assert addr is not None
            reader, writer = await asyncio.open_connection(addr.host, addr.port)
            writer.write(b"ceph v")
            t0 = time.monotonic()
            got = await asyncio.wait_for(reader.read(), 5)  # the server closes
            assert time.monotonic() - t0 >= 0.25
            assert got == encode_banner()
            writer.close()
            await writer.wait_closed()
            await p.sd.wait_for(p.sd.resets)
            con = await p.connect()
            con.send_message(MPing())
            await p.cd.wait_count(1)
    run(main)


@pytest.mark.parametrize("embedded", EMBEDDED_MODES, ids=EMBEDDED_IDS)
def test_truncated_banner_then_rst(embedded: bool) -> None:
    """Row 2: a partial banner, then a TCP reset (SO_LINGER 0)."""
    async def main() -> None:
        async with msgr_pair(embedded=embedded) as p:
            addr = p.server.my_addrs.msgr2_addr
            assert addr is not None
            reader, writer = await asyncio.open_connection(addr.host, addr.port)
            await reader.readexactly(BANNER_LEN)  # the server has accepted us
            writer.write(b"ceph v2")
            await writer.drain()
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.close()
            await p.sd.wait_for(p.sd.resets)
            await p.sd.rec.wait_until(lambda: p.server.get_connections() == [],
                                      what="no server connections", poll=0.01)
            con = await p.connect()
            con.send_message(MPing())
            await p.cd.wait_count(1)
    run(main)
