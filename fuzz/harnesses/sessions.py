"""Stateful harnesses: a valid handshake first, then fuzzer-shaped traffic.

Each input builds a client and a server protocol machine
(:class:`~asyncmsgr.testing.v2pair.ProtocolPair`, no sockets), completes a real
handshake (msgr2 crc with auth none, msgr2 secure with cephx, msgr v1 with auth
none, msgr v1 with cephx authorizers and message signatures), then plays a
program read from the input: the *peer* machine sends messages of any registered
type with fuzzed fronts, middles, data, header fields and sequence numbers,
control frames of any tag, keepalives; the connection breaks and reconnects;
time passes. The peer's own send path frames everything, so crcs, GCM tags and
v1 signatures are valid and the *target* machine's decoders and session logic,
not its integrity checks, face the mutations (an input may still corrupt a byte
to reach those). The first input byte picks which side is the target.

The oracle: nothing escapes the machines (they turn the package's typed errors
into faults), every fault is announced with a CloseSocket event, and the pair
goes quiet (no endless exchange).
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import asyncmsgr.auth.cephx.client
import asyncmsgr.auth.cephx.keyserver
import asyncmsgr.auth.cephx.server  # noqa: F401  (instrumented before first use)
from asyncmsgr.auth.base import AuthClient, AuthServer, ModeOptions
from asyncmsgr.auth.cephx import CephxAuthServer, CephxClient, CryptoKey, Keyring, KeyServer
from asyncmsgr.errors import EncodeError
from asyncmsgr.frames.v1 import V1Tag
from asyncmsgr.frames.v2 import Tag
from asyncmsgr.message import RawMessage
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import READY_STATES, State
from asyncmsgr.protocol.v2 import ProtocolV2
from asyncmsgr.testing.v2pair import ProtocolPair
from asyncmsgr.types import AuthName, EntityName, EntityType

from .common import Cursor, Harness, OracleFailure, register
from .decoders import MESSAGE_TYPE_ORDER
from .samples import captured_messages

#: Program steps per input (bounded work).
MAX_OPS = 32
ADMIN = AuthName(EntityType.CLIENT, "admin")
#: The captures' test key (tests/data/captures/README.md).
ADMIN_KEY = CryptoKey.from_base64("AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==")
KEYRING = Keyring.from_text(f"""
[client.admin]
    key = {ADMIN_KEY.to_base64()}
    caps mon = "allow *"
    caps osd = "allow *"
""")
WALL = 1_700_000_000.0
#: Types no registered class decodes (RawMessage on receipt), plus the registered ones.
TYPES = (*MESSAGE_TYPE_ORDER, 0x0700, 0x7FFF)
_POLICIES: tuple[tuple[Callable[[], Policy], Callable[[], Policy]], ...] = (
    (Policy.lossless_client, Policy.stateful_server),
    (Policy.lossy_client, Policy.stateless_server),
    (Policy.lossless_peer, Policy.lossless_peer),
)
_V2_TAGS = tuple(int(t) for t in Tag)
_V1_ITEMS = {V1Tag.ACK: 8, V1Tag.KEEPALIVE: 0, V1Tag.KEEPALIVE2: 8,
             V1Tag.KEEPALIVE2_ACK: 8, V1Tag.CLOSE: 0}


@dataclass(frozen=True, slots=True)
class SessionKind:
    """How a harness's pair is built."""

    name: str
    protocol: int
    auth: str
    """``none``, ``cephx-crc``, ``cephx-secure`` (msgr2) or ``cephx`` (v1, signed)."""


def cephx_auth(mode: str | None, *, v1: bool) -> tuple[AuthClient, AuthServer, int]:
    """A cephx client for client.admin and the server it authenticates with: a mon
    (msgr2) or, for msgr v1, an OSD checking authorizers once the client got its
    tickets over MAuth. Fixed clocks and seeds: every input sees the same keys."""
    clock: Callable[[], float] = lambda: WALL  # noqa: E731
    modes = ModeOptions(mon_client=mode or "crc", mon_service=mode or "crc",
                        client=mode or "crc", service=mode or "crc")
    ks = KeyServer(KEYRING, clock=clock, rng=random.Random(1))
    mon = CephxAuthServer(ks, AuthName(EntityType.MON, "a"), clock, role="mon",
                          rng=random.Random(2), modes=modes)
    client = CephxClient(ADMIN, ADMIN_KEY, clock=clock, rng=random.Random(4), modes=modes)
    if not v1:
        return client, mon, EntityType.MON
    # msgr v1: tickets from the mon over MAuth first, then an OSD session (authorizer)
    session = None
    proto, payload = 0, client.build_v1_hello()
    for _ in range(8):
        res = mon.handle_mauth(session, proto, payload)
        session = res.session
        nxt = client.handle_v1_reply(res.protocol, res.result, res.global_id, res.result_bl)
        if nxt is None:
            break
        proto, payload = 2, nxt
    osd = CephxAuthServer(ks, AuthName(EntityType.OSD, "0"), clock, rng=random.Random(3),
                          modes=modes)
    return client, osd, EntityType.OSD


def build_pair(kind: SessionKind, policy: int) -> ProtocolPair:
    """A pair of machines of ``kind`` after a completed handshake."""
    client_policy, server_policy = _POLICIES[policy % len(_POLICIES)]
    kw: dict[str, object] = {}
    peer_type: int = EntityType.OSD
    if kind.auth != "none":
        mode = kind.auth.removeprefix("cephx-") if kind.auth.startswith("cephx-") else None
        client_auth, server_auth, peer_type = cephx_auth(mode, v1=kind.protocol == 1)
        kw = {"client_auth": client_auth, "server_auth": server_auth}

    def set_peer(m: ProtocolBase) -> None:
        m.peer_type = peer_type

    pair = ProtocolPair(client_policy=client_policy(), server_policy=server_policy(),
                        protocol=kind.protocol, client_setup=set_peer, **kw)  # type: ignore[arg-type]
    pair.server_registry.my_name = EntityName(peer_type, 0)
    pair.wall = WALL
    pair.handshake()
    return pair


class _Session:
    """One input's pair, target side and checks."""

    def __init__(self, pair: ProtocolPair, target_is_server: bool) -> None:
        self.pair = pair
        self.target_is_server = target_is_server

    @property
    def target(self) -> ProtocolBase:
        return self.pair.server if self.target_is_server else self.pair.client

    @property
    def peer(self) -> ProtocolBase:
        return self.pair.client if self.target_is_server else self.pair.server

    def deliver(self, data: bytes, chunk: int) -> None:
        """Feed ``data`` to the target, ``chunk`` bytes at a time (0: at once); a
        target that leaves its open state must say so with a CloseSocket event."""
        target = self.target
        was_open = target.state in READY_STATES
        step = chunk or len(data) or 1
        for i in range(0, len(data), step):
            if target.state is State.CLOSED:
                break
            target.receive_data(data[i : i + step], self.pair.now)
        events = target.events_received()
        if was_open and target.state not in READY_STATES and \
                not any(isinstance(e, ev.CloseSocket) for e in events):
            raise OracleFailure(f"{target!r} left {State.READY.name} without a fault event")
        (self.pair.server_events if self.target_is_server
         else self.pair.client_events).extend(events)

    def peer_output(self) -> bytes:
        """What the peer machine has to send now, joined."""
        return b"".join(bytes(x) for x in self.peer.data_to_send(self.pair.now))

    def settle(self) -> None:
        """Let both sides exchange what they have (acks, keepalive acks, replies)."""
        self.pair.transfer(rounds=200)


def _message(c: Cursor) -> RawMessage:
    mtype = c.choice(TYPES)
    version, compat = c.u8(), c.u8()
    tid, priority, data_off = c.u64(), c.u8(), c.u16()
    front, middle, data = c.blob(8192), c.blob(1024), c.blob(4096)
    return RawMessage(raw_type=mtype, version=version, compat_version=compat, tid=tid,
                      priority=priority, data_off=data_off, front=front, middle=middle,
                      data=data)


def session_target(kind: SessionKind, data: bytes) -> None:
    """Run one input against a fresh, handshaken pair of ``kind``."""
    c = Cursor(data)
    flags = c.u8()
    s = _Session(build_pair(kind, flags >> 1), target_is_server=bool(flags & 1))
    pair = s.pair
    corrupt_next = -1
    for _ in range(MAX_OPS):
        if not c.remaining:
            break
        op = c.below(8)
        chunk = 0
        if op <= 2:  # the peer sends a message (with fuzzed seq / ack when asked)
            m = _message(c)
            how = c.u8()
            peer = s.peer
            if how & 1:
                # the next seq is out_seq + 1 (a real sender never gets near 2**64).
                # Never below the messages a fault may requeue: requeue_sent takes
                # their count off out_seq, and a real out_seq counts them (an
                # out_seq of 0 with 2 messages sent made seq -1: campaign 4)
                ses = peer.session
                ses.out_seq = max(c.u64() % (1 << 63), len(ses.sent) + len(ses.out_queue))
            if how & 2:
                peer.session.in_seq = c.u64()
            chunk = c.u8() if how & 4 else 0
            try:
                peer.send_message(m, pair.now)
                out = s.peer_output()
            except EncodeError:  # the fuzzer's header values do not fit (ours to refuse)
                continue
        elif op == 3:  # a control frame / item of any tag, framed by the peer
            out = _control(s.peer, c)
        elif op == 4:  # keepalive from the peer, or from the target
            if c.flag():
                s.peer.send_keepalive(pair.now)
                out = s.peer_output()
            else:
                s.target.send_keepalive(pair.now)
                s.settle()
                continue
        elif op == 5:  # corrupt a byte of the next delivery / raw garbage
            if c.flag():
                corrupt_next = c.u16()
                continue
            out = c.blob(128)
        elif op == 6:  # time passes (timers: throttle retries, idle and ready timeouts)
            pair.advance(c.u16() / 16.0)
            s.settle()
            continue
        else:  # the connection breaks and the client reconnects
            pair.break_connection()
            if pair.client.state is State.START_CONNECT:
                pair.advance(c.u8() / 8.0)
                pair.reconnect()
                s.settle()
            continue
        if corrupt_next >= 0 and out:
            raw = bytearray(out)
            raw[corrupt_next % len(raw)] ^= 0x5A
            out = bytes(raw)
            corrupt_next = -1
        s.deliver(out, chunk)
        s.settle()


def _control(peer: ProtocolBase, c: Cursor) -> bytes:
    """A control frame (msgr2: any tag, one segment, valid crc/GCM) or v1 item."""
    if isinstance(peer, ProtocolV2):
        tag = c.choice(_V2_TAGS)
        payload = c.blob(512)
        asm = peer._asm  # the peer's framing state (crc or secure, nonces in step)
        try:
            return b"".join(bytes(x) for x in asm.assemble(tag, (payload,)))
        except EncodeError:
            return b""
    tag = c.choice(tuple(_V1_ITEMS))
    return bytes([tag]) + c.take(_V1_ITEMS[tag]).ljust(_V1_ITEMS[tag], b"\0")


def encode_session_seed(messages: list[tuple[int, int, int, bytes, bytes, bytes]], *,
                        server_target: bool, policy: int = 0) -> bytes:
    """An input that sends ``messages`` (type, version, compat, front, middle, data)."""
    out = bytearray([(policy << 1) | int(server_target)])
    for mtype, version, compat, front, middle, data in messages:
        if mtype not in TYPES:
            continue
        out += bytes([0, TYPES.index(mtype), version & 0xFF, compat & 0xFF])
        out += struct.pack("<QBH", 1, 127, 0)
        for whole, cap in ((front, 8192), (middle, 1024), (data, 4096)):
            part = whole[:cap]
            out += struct.pack("<H", len(part)) + part
        out += bytes([0])
    return bytes(out)


def _seeds(kind: SessionKind) -> Callable[[], Iterator[bytes]]:
    def seeds() -> Iterator[bytes]:
        by_type: dict[int, list[tuple[int, int, int, bytes, bytes, bytes]]] = {}
        for m in captured_messages():
            got = by_type.setdefault(m.type, [])
            if len(got) < 3:
                got.append((m.type, m.version, m.compat_version, m.front, m.middle, m.data))
        for i, msgs in enumerate(by_type.values()):
            yield encode_session_seed(msgs[:2], server_target=bool(i & 1), policy=i % 3)
        # keepalives, acks, a reconnect, time passing
        yield bytes([0, 4, 1, 3, 0, 0, 6, 16, 0, 7, 4])
        yield bytes([1, 4, 1, 3, 1, 0, 7, 4, 6, 255, 255])
    return seeds


SESSION_KINDS = (
    SessionKind("session_v2_crc", 2, "none"),
    SessionKind("session_v2_secure", 2, "cephx-secure"),
    SessionKind("session_v1", 1, "none"),
    SessionKind("session_v1_signed", 1, "cephx"),
)


def _target_of(kind: SessionKind) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        session_target(kind, data)
    target.__name__ = f"{kind.name}_target"
    return target


for _kind in SESSION_KINDS:
    register(Harness(
        name=_kind.name,
        target=_target_of(_kind),
        seeds=_seeds(_kind),
        allowed=(),  # the machines turn typed errors into faults: nothing may escape
        max_len=16384,
        doc=f"msgr{'2' if _kind.protocol == 2 else ' v1'} session ({_kind.auth}) past a "
            f"valid handshake, either role, fuzzer-shaped frames with valid integrity",
    ))
