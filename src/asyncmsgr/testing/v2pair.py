"""Drive a client and a server :class:`ProtocolV2` against each other, in memory.

No sockets, no event loop: :meth:`ProtocolPair.transfer` moves each side's
``data_to_send`` into the other's receive buffer (whole, or trickled a few bytes
at a time) until both are quiet, collecting events. The clock is a plain float
advanced by :meth:`ProtocolPair.advance`, which also runs expired timers.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from asyncmsgr.auth.base import AuthClient, AuthServer
from asyncmsgr.auth.none import AuthNoneClient, AuthNoneServer
from asyncmsgr.frames.v2 import ClientIdentFrame
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.common import IdentDecision, PolicyLike, ProtocolOptions, State
from asyncmsgr.protocol.v2 import ProtocolV2
from asyncmsgr.types import AddrType, AuthName, EntityAddr, EntityAddrVec, EntityName, EntityType


@dataclass(slots=True)
class FakeRegistry:
    """A ConnectionRegistry for one side, recording what it was asked."""

    my_name: EntityName
    my_addrs: EntityAddrVec
    policy: Policy = field(default_factory=Policy)
    decision: IdentDecision = IdentDecision.NEW_SESSION
    learned: list[EntityAddr] = field(default_factory=list)
    accepted: list[object] = field(default_factory=list)
    _gseq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def get_global_seq(self, old: int = 0) -> int:
        """Monotonic, above ``old``."""
        n = next(self._gseq)
        while n <= old:
            n = next(self._gseq)
        return n

    def learned_addr(self, peer_addr_for_me: EntityAddr) -> None:
        """Record; fill a blank IP like the messenger does."""
        self.learned.append(peer_addr_for_me)
        mine = self.my_addrs.addrs[0] if self.my_addrs.addrs else EntityAddr()
        if mine.is_blank_ip:
            self.my_addrs = EntityAddrVec((mine.with_ip_of(peer_addr_for_me),))

    def policy_for(self, peer_type: int) -> PolicyLike:
        """The one policy this fake has."""
        return self.policy

    def handle_client_ident(self, conn: object, frame: ClientIdentFrame,
                            peer_addrs: EntityAddrVec) -> IdentDecision:
        """The configured decision."""
        return self.decision

    def accept_conn(self, conn: object, peer_addrs: EntityAddrVec) -> bool:
        """Always succeeds."""
        self.accepted.append(conn)
        return True


SERVER_ADDR = EntityAddr.from_host("127.0.0.1", 6800, nonce=1234)
CLIENT_SOCKET_ADDR = EntityAddr.from_host("127.0.0.1", 40000, nonce=0)


class ProtocolPair:
    """A connected client/server pair of protocol machines."""

    def __init__(
        self,
        *,
        client_policy: Policy | None = None,
        server_policy: Policy | None = None,
        options: ProtocolOptions | None = None,
        seed: int = 1,
        client_setup: Callable[[ProtocolV2], None] | None = None,
        client_auth: AuthClient | None = None,
        server_auth: AuthServer | None = None,
    ) -> None:
        self.now = 1000.0
        self.wall = 1_700_000_000.0
        opts = options or ProtocolOptions()
        rng = random.Random(seed)
        self.client_registry = FakeRegistry(
            EntityName(EntityType.CLIENT, 4100),
            EntityAddrVec((EntityAddr(type=AddrType.ANY, nonce=77),)),
            client_policy or Policy.lossless_client())
        self.server_registry = FakeRegistry(
            EntityName(EntityType.OSD, 0), EntityAddrVec((SERVER_ADDR,)),
            server_policy or Policy.stateful_server())
        self.client = ProtocolV2(
            owner="client", registry=self.client_registry, options=opts,
            policy=self.client_registry.policy,
            auth_client=client_auth or AuthNoneClient(AuthName(EntityType.CLIENT, "admin")),
            peer_type=EntityType.OSD, target_addr=SERVER_ADDR, wallclock=lambda: self.wall,
            rng=rng)
        self.server = ProtocolV2(
            owner="server", registry=self.server_registry, options=opts,
            policy=self.server_registry.policy,
            auth_server=server_auth or AuthNoneServer(), wallclock=lambda: self.wall, rng=rng)
        if client_setup is not None:
            client_setup(self.client)
        self.client_events: list[ev.Event] = []
        self.server_events: list[ev.Event] = []
        self.wire_c2s: list[bytes] = []
        self.wire_s2c: list[bytes] = []

    def connect(self) -> None:
        """Start both sides as if the TCP connection was just established."""
        self.client.start_connect(self.now)
        self.client.connection_made(self.now)
        self.server.start_accept(self.now, CLIENT_SOCKET_ADDR)

    def _pump(self, src: ProtocolV2, dst: ProtocolV2, log: list[bytes],
              trickle: int | None,
              mangle: Callable[[bytes], bytes] | None) -> int:
        chunks = src.data_to_send(self.now)
        if not chunks:
            return 0
        data = b"".join(bytes(c) for c in chunks)
        if mangle is not None:
            data = mangle(data)
        log.append(data)
        step = trickle or len(data)
        for i in range(0, len(data), step):
            if dst.state is State.CLOSED:
                break
            dst.receive_data(data[i : i + step], self.now)
        return len(data)

    def transfer(self, *, trickle: int | None = None,
                 mangle_c2s: Callable[[bytes], bytes] | None = None,
                 mangle_s2c: Callable[[bytes], bytes] | None = None,
                 rounds: int = 100) -> None:
        """Exchange bytes until neither side has anything to send."""
        for _ in range(rounds):
            moved = self._pump(self.client, self.server, self.wire_c2s, trickle, mangle_c2s)
            moved += self._pump(self.server, self.client, self.wire_s2c, trickle, mangle_s2c)
            self.client_events += self.client.events_received()
            self.server_events += self.server.events_received()
            if not moved:
                return
        raise AssertionError("protocol pair did not go quiet")

    def advance(self, seconds: float) -> None:
        """Move the clock and run expired timers of both sides."""
        self.now += seconds
        self.wall += seconds
        for side in (self.client, self.server):
            timer = side.get_timer()
            if timer is not None and timer <= self.now:
                side.handle_timer(self.now)
        self.client_events += self.client.events_received()
        self.server_events += self.server.events_received()

    def handshake(self, **kw: object) -> None:
        """connect() then transfer() until both are READY (asserts it)."""
        self.connect()
        self.transfer(**kw)  # type: ignore[arg-type]
        assert self.client.state is State.READY, self.client.state
        assert self.server.state is State.READY, self.server.state
