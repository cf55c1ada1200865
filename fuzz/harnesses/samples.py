"""Real Ceph bytes for the seed corpus: captured frames and messages, maps.

Everything here reads ``tests/data`` (the Pacific captures, OSDMap and CRUSH
samples); it is used when the seed corpus is built (:mod:`fuzz.seeds`) and by
the tests, never inside a fuzzing loop.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from asyncmsgr.errors import RemoteProtocolError
from asyncmsgr.frames.assembler import FrameAssembler, FrameLimits, FrameReader
from asyncmsgr.frames.v2 import BANNER_PREFIX, decode_banner_prefix
from asyncmsgr.message import Message
from asyncmsgr.tools.decoder import decode_capture, gunzip_capture
from asyncmsgr.tools.keyed import KeySet
from asyncmsgr.tools.pcap import reassemble

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
CAPTURES = DATA / "captures"
#: The fixed test keys of the captures (tests/data/captures/README.md).
CAPTURE_KEYS = ("client.admin=AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==",
                "mon.=AQDeHAZrH2VhHhAA+DhmW6shUSjwixiftkmR7g==")


@dataclass(frozen=True, slots=True)
class CapturedMessage:
    """A typed message seen in a capture, as raw parts."""

    type: int
    version: int
    compat_version: int
    front: bytes
    middle: bytes
    data: bytes


@dataclass(frozen=True, slots=True)
class CapturedFrame:
    """A clear (pre-auth or crc-mode) msgr2 frame: tag and segments."""

    tag: int
    segments: tuple[bytes, ...]


def capture_files() -> list[Path]:
    """Every capture (``.pcap`` and ``.pcap.gz``), sorted."""
    return sorted([*CAPTURES.glob("*.pcap"), *CAPTURES.glob("rados/*.pcap.gz")])


def _keys() -> KeySet:
    ks = KeySet()
    for spec in CAPTURE_KEYS:
        ks.add_key(spec)
    return ks


@functools.cache
def captured_messages() -> tuple[CapturedMessage, ...]:
    """Every typed message of every capture (secure ones decrypted with the keys)."""
    out: list[CapturedMessage] = []
    for path in capture_files():
        report = decode_capture(path.read_bytes(), _keys(), keep_messages=True)
        for _conn, _direction, m in report.decoded or ():
            out.append(_parts(m))
    return tuple(out)


def _parts(m: Message) -> CapturedMessage:
    return CapturedMessage(m.type, m.version, m.compat_version, bytes(m.front),
                           bytes(m.middle), bytes(m.data))


@functools.cache
def captured_streams() -> tuple[tuple[str, bytes, bytes], ...]:
    """(capture name, client-to-server bytes, server-to-client bytes) per connection."""
    out: list[tuple[str, bytes, bytes]] = []
    for path in capture_files():
        for conn in reassemble(gunzip_capture(path.read_bytes())):
            c2s, s2c = bytes(conn.c2s.data), bytes(conn.s2c.data)
            if c2s or s2c:
                out.append((path.name, c2s, s2c))
    return tuple(out)


def clear_frames(stream: bytes) -> list[CapturedFrame]:
    """The msgr2 frames at the start of ``stream`` that are in the clear (rev1 crc
    framing), up to the end or the first frame that does not parse (secure mode)."""
    if not stream.startswith(BANNER_PREFIX):
        return []
    try:
        plen = decode_banner_prefix(stream)
    except RemoteProtocolError:
        return []
    reader = FrameReader(FrameAssembler(rev1=True, limits=FrameLimits()))
    reader.feed(stream[10 + plen :])
    frames: list[CapturedFrame] = []
    while True:
        try:
            raw = reader.next_frame()
        except RemoteProtocolError:
            return frames
        if raw is None:
            return frames
        if raw.segments is not None:
            frames.append(CapturedFrame(raw.tag, tuple(bytes(s) for s in raw.segments)))


def v1_streams() -> list[tuple[bytes, bytes]]:
    """(c2s, s2c) of the msgr v1 connections."""
    return [(c, s) for _, c, s in captured_streams() if c.startswith(b"ceph v027")]


def v2_streams() -> list[tuple[bytes, bytes]]:
    """(c2s, s2c) of the msgr2 connections."""
    return [(c, s) for _, c, s in captured_streams() if c.startswith(BANNER_PREFIX)]


def osdmap_files() -> list[bytes]:
    """The encoded full OSDMaps in ``tests/data/osdmap``."""
    return [p.read_bytes() for p in sorted((DATA / "osdmap").glob("*.osdmap"))]


def crush_files() -> list[bytes]:
    """The encoded CRUSH maps in ``tests/data/crush``."""
    return [p.read_bytes() for p in sorted((DATA / "crush").glob("*.bin"))]
