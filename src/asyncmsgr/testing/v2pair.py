"""Drive a client and a server protocol machine against each other, in memory
(:class:`ProtocolV2` by default, :class:`ProtocolV1` with ``protocol=1``).

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
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import PolicyLike, ProtocolOptions, State
from asyncmsgr.protocol.v1 import ProtocolV1
from asyncmsgr.protocol.v2 import ProtocolV2
from asyncmsgr.types import AddrType, AuthName, EntityAddr, EntityAddrVec, EntityName, EntityType


@dataclass(slots=True)
class FakeRegistry:
    """A ConnectionRegistry for one side, recording what it was asked.

    Machines register through ``accept_conn``; ``lookup_existing`` returns the
    registered machine for the same peer, so session resolution (races, reuse)
    runs exactly as in the messenger. ``on_reuse`` is called when an accepting
    machine hands its socket over (the pair rewires its wire to the existing one).
    """

    my_name: EntityName
    my_addrs: EntityAddrVec
    policy: Policy = field(default_factory=Policy)
    learned: list[EntityAddr] = field(default_factory=list)
    accepted: list[object] = field(default_factory=list)
    registered: dict[EntityAddrVec, ProtocolBase] = field(default_factory=dict)
    machines: dict[object, ProtocolBase] = field(default_factory=dict)
    stopped: list[ProtocolBase] = field(default_factory=list)
    kicked: list[ProtocolBase] = field(default_factory=list)
    reused: list[tuple[object, ProtocolBase]] = field(default_factory=list)
    on_reuse: Callable[[ProtocolBase, ProtocolBase, object], None] | None = None
    tolerate_missing_authorizer: bool = False
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

    def lookup_existing(self, conn: object, peer_addrs: EntityAddrVec) -> ProtocolBase | None:
        """The registered machine for ``peer_addrs`` unless it is ``conn``'s."""
        existing = self.registered.get(peer_addrs)
        if existing is None or existing is self.machines.get(conn):
            return None
        return existing

    def stop_connection(self, machine: ProtocolBase, *, queue_reset: bool) -> None:
        """Stop it and forget the registration."""
        self.stopped.append(machine)
        machine.stop(queue_reset=queue_reset)
        for key, value in list(self.registered.items()):
            if value is machine:
                del self.registered[key]

    def kick_connection(self, machine: ProtocolBase) -> None:
        """Record, and queue the keepalive like the messenger would."""
        self.kicked.append(machine)

    def reuse_connection(self, conn: object, machine: ProtocolBase, handover: object) -> None:
        """Record and let the pair move the wire."""
        self.reused.append((conn, machine))
        temp = self.machines[conn]
        if self.on_reuse is not None:
            self.on_reuse(temp, machine, handover)

    def tolerates_missing_authorizer(self) -> bool:
        """msgr v1: as configured (a monitor's dispatcher tolerates it)."""
        return self.tolerate_missing_authorizer

    def accept_conn(self, conn: object, peer_addrs: EntityAddrVec) -> bool:
        """Register ``conn``'s machine under ``peer_addrs`` (unless another owns it)."""
        self.accepted.append(conn)
        machine = self.machines.get(conn)
        existing = self.registered.get(peer_addrs)
        if existing is not None and existing is not machine and \
                existing.state is not State.CLOSED:
            return False
        if machine is not None:
            self.registered[peer_addrs] = machine
        return True


SERVER_ADDR = EntityAddr.from_host("127.0.0.1", 6800, nonce=1234)
SERVER_V1_ADDR = EntityAddr.from_host("127.0.0.1", 6789, type=AddrType.LEGACY, nonce=1234)
CLIENT_SOCKET_ADDR = EntityAddr.from_host("127.0.0.1", 40000, nonce=0)


class ProtocolPair:
    """A connected client/server pair of protocol machines (``protocol`` 2 or 1).

    ``options`` configure both machines unless ``server_options`` are given for the
    server's (e.g. a sender and a receiver with different ``ms_crc_*``).
    """

    def __init__(
        self,
        *,
        client_policy: Policy | None = None,
        server_policy: Policy | None = None,
        options: ProtocolOptions | None = None,
        seed: int = 1,
        client_setup: Callable[[ProtocolBase], None] | None = None,
        client_auth: AuthClient | None = None,
        server_auth: AuthServer | None = None,
        protocol: int = 2,
        server_options: ProtocolOptions | None = None,
    ) -> None:
        self.machine_class: type[ProtocolBase] = ProtocolV1 if protocol == 1 else ProtocolV2
        server_addr = SERVER_V1_ADDR if protocol == 1 else SERVER_ADDR
        self.server_addr = server_addr
        self.now = 1000.0
        self.wall = 1_700_000_000.0
        opts = options or ProtocolOptions()
        rng = random.Random(seed)
        self.client_registry = FakeRegistry(
            EntityName(EntityType.CLIENT, 4100),
            EntityAddrVec((EntityAddr(type=AddrType.ANY, nonce=77),)),
            client_policy or Policy.lossless_client())
        self.server_registry = FakeRegistry(
            EntityName(EntityType.OSD, 0), EntityAddrVec((server_addr,)),
            server_policy or Policy.stateful_server())
        self.client: ProtocolBase = self.machine_class(
            owner="client", registry=self.client_registry, options=opts,
            policy=self.client_registry.policy,
            auth_client=client_auth or AuthNoneClient(AuthName(EntityType.CLIENT, "admin")),
            peer_type=EntityType.OSD, target_addr=server_addr, wallclock=lambda: self.wall,
            rng=rng)
        self._opts = opts
        self._server_opts = server_options or opts
        self._rng = rng
        self._server_auth = server_auth or AuthNoneServer()
        self._accepts = 0
        self.client_registry.machines["client"] = self.client
        self.server_registry.on_reuse = self._on_reuse
        self.server: ProtocolBase = self._new_server()
        if client_setup is not None:
            client_setup(self.client)
        self.client_events: list[ev.Event] = []
        self.server_events: list[ev.Event] = []
        self.wire_c2s: list[bytes] = []
        self.wire_s2c: list[bytes] = []
        self._retired: list[ProtocolBase] = []

    def _new_server(self) -> ProtocolBase:
        self._accepts += 1
        owner = f"server#{self._accepts}"
        machine = self.machine_class(
            owner=owner, registry=self.server_registry, options=self._server_opts,
            policy=self.server_registry.policy, auth_server=self._server_auth,
            wallclock=lambda: self.wall, rng=self._rng)
        self.server_registry.machines[owner] = machine
        return machine

    def _on_reuse(self, temp: ProtocolBase, existing: ProtocolBase, handover: object) -> None:
        # the accepted socket moves: the wire now ends at the existing machine; the
        # temporary machine's last events (its reset) are still collected
        self._retired.append(temp)
        self.server = existing
        existing.take_over(handover, self.now)

    def connect(self) -> None:
        """Start both sides as if the TCP connection was just established."""
        if self.client.state is not State.START_CONNECT:
            self.client.start_connect(self.now)
        self.client.connection_made(self.now)
        self.server.start_accept(self.now, CLIENT_SOCKET_ADDR)

    def reconnect(self) -> ProtocolBase:
        """A new TCP connection: a fresh accepting server machine, the client's next
        attempt. The previous server machine stays registered (its session)."""
        old = self.server
        self.server_events += old.events_received()
        self.server = self._new_server()
        self.connect()
        return old

    def break_connection(self) -> None:
        """Both ends see the socket fail (as after a network fault)."""
        for side in (self.client, self.server):
            side.connection_lost(self.now, "test: connection broken")
        self._collect()

    def _collect(self) -> None:
        self.client_events += self.client.events_received()
        for retired in self._retired:
            self.server_events += retired.events_received()
        self.server_events += self.server.events_received()

    def _pump(self, src: ProtocolBase, dst: ProtocolBase, log: list[bytes],
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
            self._collect()
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
        self._collect()

    def handshake(self, **kw: object) -> None:
        """connect() then transfer() until both are READY / OPEN (asserts it)."""
        self.connect()
        self.transfer(**kw)  # type: ignore[arg-type]
        open_state = self.machine_class.OPEN_STATE
        assert self.client.state is open_state, self.client.state
        assert self.server.state is open_state, self.server.state
