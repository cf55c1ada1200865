"""The protocol machines before authentication, in both roles.

One machine (server or client, auth none or cephx) is started as on a fresh
socket and fed what a hostile peer would send: for msgr2 a banner and
pre-auth frames framed with valid crcs (so the handshake handlers and the auth
payload decoders, not the preamble crc, see the mutations), raw bytes and
passing time; for msgr v1 the raw handshake stream (banner, address, connect
or connect_reply, authorizer, seq), which has no integrity check to get past.
Nothing may escape the machine; a machine that gives up must say so with a
CloseSocket event.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from asyncmsgr.errors import EncodeError
from asyncmsgr.features import CEPH_MSGR2_FEATURE_REVISION_1
from asyncmsgr.frames.assembler import FrameAssembler
from asyncmsgr.frames.v2 import BANNER_PREFIX, Tag
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import State
from asyncmsgr.testing.v2pair import ProtocolPair

from .common import Cursor, Harness, OracleFailure, register
from .samples import clear_frames, v1_streams, v2_streams
from .sessions import cephx_auth

MAX_OPS = 24
_TAGS = tuple(int(t) for t in Tag)


class _Target:
    """One machine under test and what it announced."""

    def __init__(self, protocol: int, *, server: bool, cephx: bool) -> None:
        kw: dict[str, object] = {}
        if cephx:
            client_auth, server_auth, _ = cephx_auth("crc", v1=protocol == 1)
            kw = {"client_auth": client_auth, "server_auth": server_auth}
        self.pair = ProtocolPair(protocol=protocol, **kw)  # type: ignore[arg-type]
        self.pair.connect()
        self.machine: ProtocolBase = self.pair.server if server else self.pair.client
        self.machine.data_to_send(self.pair.now)  # its banner: nobody reads it
        self.closed = False

    @property
    def done(self) -> bool:
        """The machine closed for good."""
        return self.machine.state is State.CLOSED

    def feed(self, data: bytes, chunk: int) -> None:
        """Deliver ``data`` (``chunk`` bytes at a time), drop what it answers."""
        m = self.machine
        step = chunk or len(data) or 1
        for i in range(0, len(data), step):
            if m.state is State.CLOSED:
                break
            m.receive_data(data[i : i + step], self.pair.now)
        m.data_to_send(self.pair.now)
        self.check()

    def advance(self, seconds: float) -> None:
        """Time passes (the ready timeout, backoffs)."""
        self.pair.now += seconds
        self.pair.wall += seconds
        timer = self.machine.get_timer()
        if timer is not None and timer <= self.pair.now:
            self.machine.handle_timer(self.pair.now)
        self.check()

    def check(self) -> None:
        """A machine that closes announces it (CloseSocket) when it does."""
        events = self.machine.events_received()
        if any(isinstance(e, ev.CloseSocket) for e in events):
            self.closed = True
        if self.machine.state is State.CLOSED and not self.closed:
            raise OracleFailure(f"{self.machine!r} closed without a CloseSocket event")


def v2_handshake_target(data: bytes) -> None:
    """A msgr2 machine before auth: banner, crc-framed pre-auth frames, raw bytes."""
    c = Cursor(data)
    flags = c.u8()
    t = _Target(2, server=bool(flags & 1), cephx=bool(flags & 2))
    chunk = c.u8() if flags & 4 else 0
    supported = c.u64() if flags & 8 else CEPH_MSGR2_FEATURE_REVISION_1
    required = c.u64() if flags & 16 else 0
    banner = BANNER_PREFIX + struct.pack("<HQQ", 16, supported, required)
    if flags & 32:
        banner = c.blob(64)
    t.feed(banner, chunk)
    asm = FrameAssembler(rev1=bool(supported & CEPH_MSGR2_FEATURE_REVISION_1))
    for _ in range(MAX_OPS):
        if not c.remaining or t.done:
            break
        op = c.below(4)
        if op <= 1:
            tag = c.choice(_TAGS)
            payload = c.blob(4096)
            try:
                out = b"".join(bytes(x) for x in asm.assemble(tag, (payload,)))
            except EncodeError:
                continue
        elif op == 2:
            out = c.blob(256)
        else:
            t.advance(c.u8() / 4.0)
            continue
        t.feed(out, chunk)


def encode_v2_handshake_seed(frames: list[tuple[int, bytes]], *, server: bool,
                             cephx: bool) -> bytes:
    """An input feeding ``frames`` (tag, payload) after a valid rev1 banner."""
    out = bytearray([int(server) | (2 if cephx else 0)])
    for tag, payload in frames:
        if tag not in _TAGS:
            continue
        out += bytes([0, _TAGS.index(tag)]) + struct.pack("<H", len(payload[:4096]))
        out += payload[:4096]
    return bytes(out)


def _v2_seeds() -> Iterator[bytes]:
    for c2s, s2c in v2_streams():
        for stream, server in ((c2s, True), (s2c, False)):
            frames = [(f.tag, f.segments[0]) for f in clear_frames(stream)
                      if len(f.segments) == 1 and f.tag != Tag.MESSAGE][:8]
            for cephx in (False, True):
                yield encode_v2_handshake_seed(frames, server=server, cephx=cephx)


register(Harness(
    name="handshake_v2",
    target=v2_handshake_target,
    seeds=_v2_seeds,
    allowed=(),
    max_len=16384,
    doc="msgr2 machine before auth, server or client role, auth none or cephx",
))


def v1_handshake_target(data: bytes) -> None:
    """A msgr v1 machine before the session opens, fed the raw handshake stream."""
    c = Cursor(data)
    flags = c.u8()
    t = _Target(1, server=bool(flags & 1), cephx=bool(flags & 2))
    chunk = c.u8() if flags & 4 else 0
    for _ in range(MAX_OPS):
        if not c.remaining or t.done:
            break
        if c.below(8) == 7:
            t.advance(c.u8() / 4.0)
            continue
        t.feed(c.blob(1024), chunk)


def _v1_seeds() -> Iterator[bytes]:
    for c2s, s2c in v1_streams():
        for stream, server in ((c2s, True), (s2c, False)):
            head = stream[:600]
            for cephx in (False, True):
                out = bytearray([int(server) | (2 if cephx else 0)])
                for i in range(0, len(head), 300):
                    part = head[i : i + 300]
                    out += bytes([0]) + struct.pack("<H", len(part)) + part
                yield bytes(out)


register(Harness(
    name="handshake_v1",
    target=v1_handshake_target,
    seeds=_v1_seeds,
    allowed=(),
    max_len=8192,
    doc="msgr v1 machine before the session opens, server or client role",
))
