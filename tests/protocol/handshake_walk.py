"""Drive a protocol pair to a given (role, state) at a frame boundary, then inject
one frame: the helpers of the handshake validation suites.

The bytes each side sends are cut into units (the msgr2 banner, then whole
frames, read from their preambles) and delivered one unit at a time, so the
machine under test stops right after the frame that moved it into the wanted
state, with nothing of the next frame received. Only msgr2.1 crc mode is cut
(frames are then readable without keys).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from asyncmsgr.frames.assembler import PREAMBLE_LEN, FrameAssembler
from asyncmsgr.frames.v2 import BANNER_LEN, CON_MODE_CRC
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import State
from asyncmsgr.testing.dummy_auth import DummyAuthClient, DummyAuthServer
from asyncmsgr.testing.v2pair import ProtocolPair
from asyncmsgr.throttle import Throttle

#: Throttle caps large enough never to block the walk.
_CAP = 1 << 30


@dataclass
class Throttles:
    """Every throttle of a pair, to check that a fault leaves none held."""

    all: list[Throttle] = field(default_factory=list)

    def held(self) -> dict[str, int]:
        """Name -> current, for the throttles that hold anything."""
        return {t.name: t.current for t in self.all if t.current}


class _Cutter:
    """Cuts one direction's byte stream into banner and whole msgr2 frames."""

    def __init__(self) -> None:
        self.buf = b""
        self.banner_done = False
        self._asm = FrameAssembler(rev1=True)

    def new_socket(self) -> None:
        self.buf = b""
        self.banner_done = False

    def cut(self, data: bytes) -> list[bytes]:
        self.buf += data
        out: list[bytes] = []
        while True:
            if not self.banner_done:
                if len(self.buf) < BANNER_LEN:
                    return out
                out.append(self.buf[:BANNER_LEN])
                self.buf = self.buf[BANNER_LEN:]
                self.banner_done = True
                continue
            if len(self.buf) < PREAMBLE_LEN:
                return out
            pre = self._asm.disassemble_preamble(self.buf[:PREAMBLE_LEN])
            total = PREAMBLE_LEN + pre.body_len
            if len(self.buf) < total:
                return out
            out.append(self.buf[:total])
            self.buf = self.buf[total:]


class V2Walk:
    """A msgr2 pair (crc mode, two-round dummy auth, throttles everywhere) that
    can be stopped at a (role, state) and fed one frame."""

    def __init__(self) -> None:
        self.throttles = Throttles()

        def policy(base: Policy, who: str) -> Policy:
            t_msgs = Throttle(f"{who}-msgs", _CAP)
            t_bytes = Throttle(f"{who}-bytes", _CAP)
            self.throttles.all += [t_msgs, t_bytes]
            return base.with_throttlers(bytes=t_bytes, messages=t_msgs)

        self.pair = ProtocolPair(
            client_policy=policy(Policy.lossless_client(), "client"),
            server_policy=policy(Policy.stateful_server(), "server"),
            client_auth=DummyAuthClient(modes=(CON_MODE_CRC,)),
            server_auth=DummyAuthServer(modes=(CON_MODE_CRC,)))
        self._dispatch: dict[str, Throttle] = {}
        self._c2s = _Cutter()
        self._s2c = _Cutter()

    def _with_dispatch_throttle(self, machine: ProtocolBase) -> None:
        if machine.dispatch_throttle is None:
            t = Throttle(f"dispatch-{machine.owner}", _CAP)
            self.throttles.all.append(t)
            machine.dispatch_throttle = t

    def machine(self, role: str) -> ProtocolBase:
        """The pair's current client or server machine."""
        return self.pair.client if role == "client" else self.pair.server

    def connect(self) -> None:
        """Start a connection (both sides send their banner)."""
        self._c2s.new_socket()
        self._s2c.new_socket()
        self.pair.connect()

    def reconnect(self) -> None:
        """Break the established connection and start the client's next attempt."""
        self.pair.break_connection()
        self._c2s.new_socket()
        self._s2c.new_socket()
        self.pair.reconnect()

    def run_until(self, role: str, wanted: State, *, limit: int = 200) -> ProtocolBase:
        """Deliver whole units alternately until ``role``'s machine is in ``wanted``."""
        p = self.pair
        queues: tuple[deque[bytes], deque[bytes]] = (deque(), deque())
        for _ in range(limit):
            for side in (p.client, p.server):
                self._with_dispatch_throttle(side)
            if self.machine(role).state is wanted:
                return self.machine(role)
            queues[0].extend(self._c2s.cut(b"".join(bytes(c) for c in
                                                    p.client.data_to_send(p.now))))
            queues[1].extend(self._s2c.cut(b"".join(bytes(c) for c in
                                                    p.server.data_to_send(p.now))))
            if not queues[0] and not queues[1]:
                break
            for q, dst in ((queues[0], p.server), (queues[1], p.client)):
                if q:
                    dst.receive_data(q.popleft(), p.now)
                    p.client_events += p.client.events_received()
                    p.server_events += p.server.events_received()
                    if self.machine(role).state is wanted:
                        return self.machine(role)
        raise AssertionError(f"{role} never reached {wanted.name} "
                             f"(it is {self.machine(role).state.name})")

    def established(self) -> None:
        """A full handshake; a message each way so both in_seqs move."""
        self.connect()
        self.run_until("client", State.READY)
        self.run_until("server", State.READY)
        self.pair.transfer()


@dataclass(frozen=True)
class FaultSeen:
    """What a machine did with an injected frame."""

    reasons: list[str]
    state: State
    handled: int


def inject(machine: ProtocolBase, data: bytes, now: float,
           counter: str) -> FaultSeen:
    """Feed ``data``; report the close reasons, the state after, and how often
    ``counter`` (a handshake count such as ``recv_SERVER_IDENT``) moved."""
    before = machine.handshake_counts.get(counter, 0)
    machine.receive_data(data, now)
    events = machine.events_received()
    reasons = [e.reason for e in events if isinstance(e, ev.CloseSocket)]
    return FaultSeen(reasons, machine.state,
                     machine.handshake_counts.get(counter, 0) - before)


#: Where a fault may leave a machine (Ceph's _fault(): stop, standby, reconnect).
FAULTED_STATES = frozenset({State.CLOSED, State.STANDBY, State.START_CONNECT, State.WAIT})

Prepare = Callable[[V2Walk], None]
