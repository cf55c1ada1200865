"""Lossless sessions over real sockets (ceph-messenger.md §3-§4, §9.1 tests 11, 14
and 23): a stateful server keeps the session across a client's mark_down and a
new client session resets it (resetcheck); a server mark_down makes the client
see ms_handle_remote_reset on its next attempt; a standby client comes back on
its next send; sessions survive TCP faults with every message delivered once;
blackholed and delayed peers; and Ceph's MarkdownTest (mark_down racing
dispatch, 1,000 rounds, progress guaranteed).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

import pytest
from msgr_harness import (
    EMBEDDED_IDS,
    EMBEDDED_MODES,
    PROTOCOLS,
    FakeDispatcher,
    Recorder,
    as_async,
    bind_addr,
    make_client,
    make_config,
    make_server,
    msgr_pair,
    reconnects_sent,
    run,
    session_of,
    stop,
)

from asyncmsgr.aio.connection import AsyncConnection
from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.message import Message
from asyncmsgr.messages import MPing
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.protocol.common import State
from asyncmsgr.types import EntityType

modes = pytest.mark.parametrize("embedded", EMBEDDED_MODES, ids=EMBEDDED_IDS)
protocols = pytest.mark.parametrize("protocol", PROTOCOLS)


@modes
@protocols
def test_stateful_server_keeps_and_resets_sessions(embedded: bool, protocol: str) -> None:
    """StatefulTest (stateful_server / lossless_client).

    The same callbacks on msgr v1, by other rules (ceph-messenger.md §4.5): the
    new client session is a connect with connect_seq 0 against an existing
    session with connect_seq > 0 ("peer reset", rule 5: resetcheck resets it),
    and the reconnect after the server's mark_down (connect_seq > 0, no existing
    session, rule 9) is answered RESETSESSION, the client's remote reset.
    """
    async def main() -> None:
        async with msgr_pair(embedded=embedded, server_policy=Policy.stateful_server(),
                             client_policy=Policy.lossless_client(),
                             protocol=protocol) as p:
            # 1. the server keeps its state after the client marks down
            conn = await p.connect()
            conn.send_message(MPing())
            await p.cd.wait_count(1)
            assert session_of(conn).count == 1
            await p.sd.wait_for(p.sd.accepts)
            last_accept = p.sd.accepts[-1].peer_addrs
            conn.mark_down()
            assert not conn.is_connected()
            server_conn = p.server.connect_to(EntityType.CLIENT, last_accept)
            assert server_conn is p.sd.accepts[-1]  # the registered session, not new
            assert session_of(server_conn).count == 1  # state not lost

            # a new client session: resetcheck resets the server's old one
            conn = await p.connect()
            conn.send_message(MPing())
            await p.cd.wait_count(2)
            assert session_of(conn).count == 1
            await p.sd.wait_for(p.sd.remote_resets)
            assert p.sd.remote_resets == [server_conn]
            assert p.server.connect_to(EntityType.CLIENT, last_accept) is server_conn

            # 2. the server marks down: the client reconnects and learns its
            # session was reset (remote reset, then connect), then delivers
            assert not p.cd.remote_resets
            connects = len(p.cd.connects)
            server_conn.mark_down()
            assert not server_conn.is_connected()
            await p.cd.wait_for(p.cd.remote_resets)
            assert p.cd.remote_resets == [conn]
            await p.cd.wait_for(p.cd.connects, connects + 1)
            await asyncio.wait_for(conn.wait_connected(), 5)
            conn.send_message(MPing())
            await p.cd.wait_count(3)
            assert session_of(conn).count == 1  # counted from the new session
            server_conn = p.server.connect_to(EntityType.CLIENT, last_accept)
            await p.sd.wait_count(3)
            assert session_of(server_conn).count == 1
            assert not p.cd.resets  # a lossless client is never reset locally
            # the client's first message of the reset session: msgr2 numbers it 1;
            # v1 (session_reset -> randomize_out_seq, with MSG_AUTH) starts at a
            # random point below 2^31 (0, giving seq 1, has chance 2^-31)
            first = p.sd.got[-1].seq
            if protocol == "v1":
                assert 1 < first <= 0x80000000
            else:
                assert first == 1
    run(main)


@modes
@protocols
def test_client_standby_reconnects_on_send(embedded: bool, protocol: str) -> None:
    """ClientStandbyTest (stateful_server / lossless_peer): with nothing to send
    the client stands by after the server marks down; its next send reconnects,
    gets the remote reset, and goes through on the same Connection object."""
    async def main() -> None:
        async with msgr_pair(embedded=embedded, server_policy=Policy.stateful_server(),
                             client_policy=Policy.lossless_peer(),
                             protocol=protocol) as p:
            conn = await p.connect()
            conn.send_message(MPing())
            await p.cd.wait_count(1)
            assert session_of(conn).count == 1
            await p.sd.wait_for(p.sd.accepts)
            server_conn = p.server.connect_to(EntityType.CLIENT, p.sd.accepts[-1].peer_addrs)
            assert not p.cd.remote_resets
            server_conn.mark_down()
            assert not server_conn.is_connected()
            await p.cd.rec.wait_until(lambda: conn.state is State.STANDBY, 5,
                                      "client standby", poll=0.01)
            assert not p.cd.remote_resets  # standing by, not reconnecting
            connects = len(p.cd.connects)
            conn.send_message(MPing())
            await p.cd.wait_for(p.cd.remote_resets)
            await p.cd.wait_for(p.cd.connects, connects + 1)
            await asyncio.wait_for(conn.wait_connected(), 5)
            conn.send_message(MPing())
            await p.cd.wait_count(2)
            # the message sent into the reset session was dropped with the reset
            assert session_of(conn).count == 1
            server_conn = p.server.connect_to(EntityType.CLIENT, p.sd.accepts[-1].peer_addrs)
            assert session_of(server_conn).count == 1
    run(main)


@modes
@protocols
def test_mark_down_all_then_peer_reconnect_is_told_of_the_reset(embedded: bool,
                                                                 protocol: str) -> None:
    """``mark_down_all`` resets every session (ms_handle_reset locally); a lossless
    peer that comes back is told (ms_handle_remote_reset), then carries on."""
    async def main() -> None:
        cfg = make_config(embedded)
        server, sd = await make_server(cfg, policy=Policy.stateful_server(),
                                       protocol=protocol)
        clients = [await make_client(cfg, policy=Policy.lossless_client()) for _ in range(3)]
        try:
            conns = [as_async(c.connect_to(EntityType.OSD, server.my_addrs))
                     for c, _ in clients]
            for con in conns:
                con.send_message(MPing())
            for _, cd in clients:
                await cd.wait_count(1)
            await sd.wait_for(sd.accepts, 3)
            sessions = list(sd.accepts)
            server.mark_down_all()
            await sd.wait_for(sd.resets, 3)
            # the first three resets are those sessions (the clients then come back)
            assert {id(c) for c in sd.resets[:3]} == {id(c) for c in sessions}
            for con, (_, cd) in zip(conns, clients, strict=True):
                await cd.wait_for(cd.remote_resets)
                assert cd.remote_resets == [con]
                con.send_message(MPing())
                await cd.wait_count(2)
        finally:
            await stop(*(c for c, _ in clients), server)
    run(main)


# -- lossless sessions across TCP faults -------------------------------------------


def _kill_socket(con: AsyncConnection) -> None:
    """Shut the connection's TCP socket down under it (a network fault)."""
    sock = con._sock
    if sock is not None:
        with contextlib.suppress(OSError):  # it may be failing already
            sock.shutdown(socket.SHUT_RDWR)


@modes
@protocols
@pytest.mark.parametrize("policy", ["lossless_client", "lossless_peer"])
def test_session_survives_tcp_faults_exactly_once(embedded: bool, protocol: str,
                                                  policy: str) -> None:
    """Messages in flight when TCP breaks are replayed on the same session: every
    one arrives exactly once and in order, both directions, without resets.

    On msgr v1 the replay is trimmed by the TAG_SEQ exchange after the reconnect
    (each side sends the last seq it received) instead of RECONNECT_OK/msg_seq,
    and acks travel as explicit TAG_ACKs; the outcome must be the same.
    """
    async def main() -> None:
        client_policy = getattr(Policy, policy)()
        sd = FakeDispatcher(is_server=True, fast_ping=True)
        async with msgr_pair(embedded=embedded, server_policy=Policy.stateful_server(),
                             client_policy=client_policy, sd=sd, protocol=protocol) as p:
            conn = await p.connect()
            n = 0
            for round_ in range(5):
                for _ in range(200):
                    conn.send_message(MPing(data=n.to_bytes(4, "little")))
                    n += 1
                # break the socket from one side or the other while traffic flows
                await asyncio.sleep(0)
                if round_ % 2:
                    await p.sd.wait_for(p.sd.accepts)
                    _kill_socket(as_async(p.sd.accepts[-1]))
                else:
                    _kill_socket(conn)
            await p.sd.wait_count(n, timeout=20)
            await p.cd.wait_count(n, timeout=20)
            got = [int.from_bytes(bytes(m.data), "little") for m in p.sd.got]
            assert got == list(range(n))  # exactly once, in order
            echoed = [int.from_bytes(bytes(m.data), "little") for m in p.cd.got]
            assert echoed == list(range(n))
            assert not p.cd.remote_resets
            assert not p.sd.remote_resets
            assert not p.cd.resets
            assert reconnects_sent(conn) >= 1  # it really reconnected
            if protocol == "v1":  # v1 reconnects resume with the SEQ exchange
                assert p.sd.accepts  # the server answered SEQ, never READY (a reset)
                server_counts = as_async(p.sd.accepts[-1]).core.handshake_counts
                assert server_counts.get("send_SEQ", 0) >= 2
                assert server_counts.get("send_RESETSESSION", 0) == 0
    run(main, timeout=60)


@modes
@protocols
def test_blackholed_peer_gets_nothing_but_the_session_stays_up(embedded: bool,
                                                                protocol: str) -> None:
    """``ms_blackhole_osd``: the client drops what it would send to the OSD and
    what it receives from it (acknowledged, never dispatched); TCP stays up."""
    async def main() -> None:
        cfg = make_config(embedded)
        server, sd = await make_server(cfg, policy=Policy.stateful_server(),
                                       protocol=protocol)
        client, cd = await make_client(cfg.replace(ms_blackhole_osd=True),
                                       policy=Policy.lossless_client())
        try:
            con = as_async(client.connect_to(EntityType.OSD, server.my_addrs))
            await asyncio.wait_for(con.wait_connected(), 5)
            con.send_message(MPing())
            await sd.wait_for(sd.accepts)
            srv = as_async(sd.accepts[-1])
            m = MPing(data=b"to the blackhole")
            srv.send_message(m)
            await asyncio.wait_for(srv.wait_acked(m), 5)  # received and acked ...
            assert cd.count() == 0  # ... but never dispatched
            assert sd.count() == 0  # and the client's send was dropped
            assert con.is_connected()
            assert client.injector.counts["blackholed_messages"] == 2
        finally:
            await stop(client, server)
    run(main)


@modes
@protocols
def test_delayed_delivery_keeps_order(embedded: bool, protocol: str) -> None:
    """``ms_inject_delay_*`` with probability 1: every message from the OSD is held
    a random time, yet they are delivered in order."""
    async def main() -> None:
        cfg = make_config(embedded)
        server, sd = await make_server(cfg, policy=Policy.stateful_server(),
                                       dispatcher=FakeDispatcher(is_server=False),
                                       protocol=protocol)
        client, cd = await make_client(
            cfg.replace(ms_inject_delay_type="osd", ms_inject_delay_probability=1.0,
                        ms_inject_delay_max=0.02), policy=Policy.lossless_client())
        try:
            con = as_async(client.connect_to(EntityType.OSD, server.my_addrs))
            await asyncio.wait_for(con.wait_connected(), 5)
            con.send_message(MPing())
            await sd.wait_for(sd.accepts)
            srv = as_async(sd.accepts[-1])
            for i in range(100):
                srv.send_message(MPing(data=i.to_bytes(2, "little")))
            await cd.wait_count(100)
            got = [int.from_bytes(bytes(m.data), "little") for m in cd.got]
            assert got == list(range(100))
            assert client.injector.counts["delayed_messages"] == 100
        finally:
            await stop(client, server)
    run(main)


# -- MarkdownTest ---------------------------------------------------------------------


class MarkdownDispatcher(Dispatcher):
    """Ceph's MarkdownDispatcher: queued dispatch only; each message marks down
    another connection it knows (racing mark_down with dispatch and reset)."""

    def __init__(self) -> None:
        self.rec = Recorder()
        self._lock = threading.Lock()
        self.conns: list[Connection] = []
        self.last_mark = False
        self.count = 0

    def _add(self, con: Connection) -> None:
        with self._lock:
            if con not in self.conns:
                self.conns.append(con)

    def _drop(self, con: Connection) -> None:
        with self._lock:
            if con in self.conns:
                self.conns.remove(con)

    def ms_handle_fast_connect(self, con: Connection) -> None:
        self._add(con)

    def ms_handle_fast_accept(self, con: Connection) -> None:
        self._add(con)

    async def ms_dispatch(self, m: Message) -> bool:
        con = m.connection
        assert con is not None
        with self._lock:
            self.count += 1
            if con not in self.conns:
                self.conns.append(con)
            mark = len(self.conns) >= 2 or self.last_mark
            victim = None
            if mark:
                self.last_mark = True
                for other in self.conns:
                    if other is not con:
                        victim = other
                        self.conns.remove(other)
                        break
                if not self.conns:
                    self.last_mark = False
        await asyncio.sleep(0)  # widen the race window (Ceph sleeps < 0.5 ms)
        if victim is not None:
            victim.mark_down()
        self.rec.changed()
        return True

    async def ms_handle_reset(self, con: Connection) -> bool:
        self._drop(con)
        await asyncio.sleep(0)
        return True

    def ms_handle_remote_reset(self, con: Connection) -> None:
        self._drop(con)

    def ms_handle_refused(self, con: Connection) -> bool:
        return False


def _closed(con: Connection) -> bool:
    return as_async(con).core.state is State.CLOSED


@pytest.mark.parametrize(("embedded", "protocol"), [(True, "v2"), (False, "v2"),
                                                    (True, "v1")],
                         ids=["embedded-v2", "threaded-v2", "embedded-v1"])
def test_markdown_races_dispatch_and_keeps_progressing(embedded: bool,
                                                        protocol: str) -> None:
    """MarkdownTest: 1,000 rounds of connecting to two servers whose (shared)
    dispatcher marks down the other connection on every message; each round must
    make progress within 1 s, with at most 3 stalled rounds in a row. (Over v1
    in one threading model only: 1,000 rounds take seconds.)"""
    async def main() -> None:
        cfg = make_config(embedded)
        srv_d = MarkdownDispatcher()
        servers = []
        for _ in range(2):
            s = Messenger.create("osd.0", config=cfg)
            s.set_default_policy(Policy.stateless_server())
            await s.bind(bind_addr(protocol))
            s.add_dispatcher_head(srv_d)
            s.start()
            servers.append(s)
        s1, s2 = servers
        client = Messenger.create("client.-1", config=cfg)
        client.set_default_policy(Policy.lossy_client())
        client.add_dispatcher_head(MarkdownDispatcher())
        client.start()
        try:
            last = 0
            stalled = 0
            for _ in range(1000):
                c1 = client.connect_to(EntityType.OSD, s1.my_addrs)
                c2 = client.connect_to(EntityType.OSD, s2.my_addrs)
                c1.send_message(MPing())
                c2.send_message(MPing())
                # both dispatched, or one lost with its (lossy) connection reset
                def round_done(c1: Connection = c1, c2: Connection = c2,
                               last: int = last) -> bool:
                    n = srv_d.count - last
                    return n >= 2 or (n >= 1 and (_closed(c1) or _closed(c2)))
                with contextlib.suppress(TimeoutError):
                    await srv_d.rec.wait_until(round_done, 1.0, "server dispatch",
                                               poll=0.005)
                if srv_d.count == last:
                    stalled += 1
                    assert stalled <= 3, f"no progress for {stalled} rounds at {last}"
                    await asyncio.sleep(0.05)  # Ceph's back-off (500 ms), scaled
                else:
                    stalled = 0
                last = srv_d.count
            assert srv_d.count >= 1000
        finally:
            await stop(client, s1, s2)
    run(main, timeout=120)
