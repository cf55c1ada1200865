"""Ceph's interceptor race tests over real sockets (test_msgr.cc, ceph-messenger.md
§9.1 tests 1-6): connection races, reuse of a connection still in
BANNER_CONNECTING, a server failing before SERVER_IDENT, reconnect and reconnect
races — asserting handshake step counts as Ceph does, not only delivery.

Ceph binds 3300 (server) and 3301 (client) with the same nonce (the pid); we
bind free ports with the server's below the client's and share a nonce, so the
address order (who wins a race: type, nonce, then port) is the same.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from msgr_harness import (
    EMBEDDED_IDS,
    EMBEDDED_MODES,
    FakeDispatcher,
    as_async,
    make_config,
    run,
    session_of,
    stop,
)

from asyncmsgr.aio.connection import AsyncConnection
from asyncmsgr.messages import MPing
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.protocol.common import InterceptAction, State, Step
from asyncmsgr.testing.interceptor import TestInterceptor
from asyncmsgr.types import EntityType

modes = pytest.mark.parametrize("embedded", EMBEDDED_MODES, ids=EMBEDDED_IDS)

A = InterceptAction


@dataclass
class Peers:
    """Two bound messengers with interceptors: ``server`` (osd.0, lower port)
    and ``client`` (client.-1)."""

    server: Messenger
    client: Messenger
    sd: FakeDispatcher
    cd: FakeDispatcher
    si: TestInterceptor
    ci: TestInterceptor

    def c2s(self) -> AsyncConnection:
        return as_async(self.client.connect_to(EntityType.OSD, self.server.my_addrs))

    def s2c(self) -> AsyncConnection:
        return as_async(self.server.connect_to(EntityType.CLIENT, self.client.my_addrs))


@asynccontextmanager
async def peers(embedded: bool, *, server_policy: Policy, client_policy: Policy,
                server_replies: bool = False) -> AsyncIterator[Peers]:
    """Ceph's fixture for the interceptor tests: default policies
    stateless_server/lossy_client, per-type policies as given, both bound."""
    cfg = make_config(embedded)
    nonce = os.getpid()
    server = Messenger.create("osd.0", config=cfg, nonce=nonce)
    server.set_default_policy(Policy.stateless_server())
    server.set_policy(EntityType.CLIENT, server_policy)
    si = server.interceptor = TestInterceptor()
    await server.bind("v2:127.0.0.1:0")
    port = server.my_addrs.addrs[0].port
    client = Messenger.create("client.-1", config=cfg.replace(ms_bind_port_min=port + 1),
                              nonce=nonce)
    client.set_default_policy(Policy.lossy_client())
    client.set_policy(EntityType.OSD, client_policy)
    ci = client.interceptor = TestInterceptor()
    await client.bind("v2:127.0.0.1:0")
    assert client.my_addrs.addrs[0].port > port
    sd = FakeDispatcher(is_server=server_replies)
    cd = FakeDispatcher(is_server=False)
    server.add_dispatcher_head(sd)
    server.start()
    client.add_dispatcher_head(cd)
    client.start()
    try:
        yield Peers(server, client, sd, cd, si, ci)
    finally:
        await stop(client, server)


@modes
def test_connection_race(embedded: bool) -> None:
    """ConnectionRaceTest: A->B and B->A both pause before CLIENT_IDENT, then go."""
    async def main() -> None:
        async with peers(embedded, server_policy=Policy.lossless_peer_reuse(),
                         client_policy=Policy.lossless_peer_reuse()) as p:
            p.ci.breakpoint(Step.SEND_CLIENT_IDENTITY)
            p.si.breakpoint(Step.SEND_CLIENT_IDENTITY)
            c2s = p.c2s()
            c2s.send_message(MPing())
            s2c = p.s2c()
            s2c.send_message(MPing())
            await p.ci.wait(Step.SEND_CLIENT_IDENTITY, c2s)
            await p.si.wait(Step.SEND_CLIENT_IDENTITY, s2c)
            p.ci.remove_bp(Step.SEND_CLIENT_IDENTITY)
            p.si.remove_bp(Step.SEND_CLIENT_IDENTITY)
            p.ci.proceed(Step.SEND_CLIENT_IDENTITY, A.CONTINUE)
            p.si.proceed(Step.SEND_CLIENT_IDENTITY, A.CONTINUE)
            await p.cd.wait_count(1)
            await p.sd.wait_count(1)
            assert s2c.is_connected()
            assert session_of(s2c).count == 1
            assert s2c.peer_type == EntityType.CLIENT
            assert c2s.is_connected()
            assert session_of(c2s).count == 1
            assert c2s.peer_type == EntityType.OSD
            # one session each way survived, in the user's objects
            assert p.client.lookup_conn(p.server.my_addrs) is c2s
            assert p.server.lookup_conn(p.client.my_addrs) is s2c
    run(main)


@modes
def test_connection_race_reuses_a_connection_still_in_banner_connecting(
        embedded: bool) -> None:
    """ConnectionRaceReuseBannerTest: the winner's socket replaces a connection that
    is still in BANNER_CONNECTING; established exactly once."""
    async def main() -> None:
        async with peers(embedded, server_policy=Policy.lossless_peer_reuse(),
                         client_policy=Policy.lossless_peer_reuse()) as p:
            p.si.breakpoint(Step.SEND_CLIENT_IDENTITY)
            s2c = p.s2c()
            s2c.send_message(MPing())
            await p.si.wait(Step.SEND_CLIENT_IDENTITY)
            p.si.remove_bp(Step.SEND_CLIENT_IDENTITY)

            # keep the second connection in BANNER_CONNECTING: its acceptor pauses
            # before its banner (set before connecting: the accept is concurrent)
            p.si.breakpoint(Step.BANNER_EXCHANGE)
            p.ci.breakpoint(Step.BANNER_EXCHANGE_BANNER_CONNECTING)
            c2s = p.c2s()
            c2s.send_message(MPing())
            await p.ci.wait(Step.BANNER_EXCHANGE_BANNER_CONNECTING)
            p.ci.remove_bp(Step.BANNER_EXCHANGE_BANNER_CONNECTING)

            p.si.proceed(Step.SEND_CLIENT_IDENTITY, A.CONTINUE)
            # CLIENT_IDENT reaches the client: reuse_connection() into c2s
            p.ci.breakpoint(Step.READY)
            p.ci.proceed(Step.BANNER_EXCHANGE_BANNER_CONNECTING, A.CONTINUE)
            await p.ci.wait(Step.READY)
            p.ci.remove_bp(Step.READY)

            s2c_accepter = await p.si.wait(Step.BANNER_EXCHANGE)
            p.si.remove_bp(Step.BANNER_EXCHANGE)
            p.si.proceed(Step.BANNER_EXCHANGE, A.CONTINUE)
            p.ci.proceed(Step.READY, A.CONTINUE)

            await p.cd.wait_count(1)
            await p.sd.wait_count(1)
            assert s2c.is_connected()
            assert session_of(s2c).count == 1
            assert s2c.peer_type == EntityType.CLIENT
            assert c2s.is_connected()
            assert session_of(c2s).count == 1
            assert c2s.peer_type == EntityType.OSD
            # the replaced acceptor lost its socket
            assert isinstance(s2c_accepter, AsyncConnection)
            await p.sd.rec.wait_until(lambda: not s2c_accepter.is_connected(), 5,
                                      "the replaced acceptor to close", poll=0.01)
            # established exactly once, never faulted and reconnected
            assert p.ci.count_step(c2s, Step.START_CLIENT_BANNER_EXCHANGE) == 1
            assert p.ci.count_step(c2s, Step.SEND_RECONNECT) == 0
            assert p.ci.count_step(c2s, Step.READY) == 1
    run(main)


@modes
def test_missing_server_ident_lossy_client_reconnects(embedded: bool) -> None:
    """MissingServerIdenTest: the server faults right before SERVER_IDENT with a
    message queued; the (lossy) client reconnects into the server's session and
    each side gets its message exactly once."""
    async def main() -> None:
        async with peers(embedded, server_policy=Policy.stateful_server(),
                         client_policy=Policy.lossy_client()) as p:
            p.si.breakpoint(Step.SEND_SERVER_IDENTITY)
            c2s = p.c2s()
            c2s.send_message(MPing())
            c2s_accepter = as_async(await p.si.wait(Step.SEND_SERVER_IDENTITY))  # type: ignore[arg-type]
            p.si.remove_bp(Step.SEND_SERVER_IDENTITY)
            c2s_accepter.send_message(MPing())  # queued: the fault keeps the session
            p.si.proceed(Step.SEND_SERVER_IDENTITY, A.FAIL)
            await p.sd.wait_count(1)
            await p.cd.wait_count(1)
            assert c2s.is_connected()
            assert session_of(c2s).count == 1
            assert c2s.peer_type == EntityType.OSD
            assert c2s_accepter.is_connected()
            assert session_of(c2s_accepter).count == 1
            assert c2s_accepter.peer_type == EntityType.CLIENT
            assert p.server.lookup_conn(c2s_accepter.peer_addrs) is c2s_accepter
    run(main)


@modes
def test_missing_server_ident_lossless_peer_server_reconnects(embedded: bool) -> None:
    """MissingServerIdenTest2: both lossless_peer; the server faults before
    SERVER_IDENT with a message queued, so it reconnects to the client itself; the
    client gets that message once, the acceptor none."""
    async def main() -> None:
        async with peers(embedded, server_policy=Policy.lossless_peer(),
                         client_policy=Policy.lossless_peer()) as p:
            p.si.breakpoint(Step.SEND_SERVER_IDENTITY)
            c2s = p.c2s()
            c2s_accepter = as_async(await p.si.wait(Step.SEND_SERVER_IDENTITY))  # type: ignore[arg-type]
            p.si.remove_bp(Step.SEND_SERVER_IDENTITY)
            c2s_accepter.send_message(MPing())
            p.si.proceed(Step.SEND_SERVER_IDENTITY, A.FAIL)
            await p.cd.wait_count(1)
            assert c2s.is_connected()
            assert session_of(c2s).count == 1
            assert c2s.peer_type == EntityType.OSD
            await p.sd.rec.wait_until(c2s_accepter.is_connected, 5, "acceptor connected",
                                      poll=0.01)
            assert session_of(c2s_accepter).count == 0
            assert c2s_accepter.peer_type == EntityType.CLIENT
    run(main)


@modes
def test_reconnect_counts(embedded: bool) -> None:
    """ReconnectTest: the client faults while handling a message; it sends one
    SESSION_RECONNECT, the server one RECONNECT_OK, and the session resumes."""
    async def main() -> None:
        async with peers(embedded, server_policy=Policy.stateful_server(),
                         client_policy=Policy.lossless_peer(), server_replies=True) as p:
            c2s = p.c2s()
            c2s.send_message(MPing())
            await p.cd.wait_count(1)
            assert c2s.is_connected()
            assert session_of(c2s).count == 1

            p.ci.breakpoint(Step.HANDLE_MESSAGE)
            c2s.send_message(MPing())
            await p.ci.wait(Step.HANDLE_MESSAGE, c2s)
            p.ci.remove_bp(Step.HANDLE_MESSAGE)
            p.si.breakpoint(Step.READY)
            p.ci.proceed(Step.HANDLE_MESSAGE, A.FAIL)
            c2s.send_message(MPing())

            c2s_accepter = await p.si.wait(Step.READY)  # the reconnect succeeded
            p.si.remove_bp(Step.READY)
            assert isinstance(c2s_accepter, AsyncConnection)
            assert c2s_accepter.peer_type == EntityType.CLIENT
            assert p.si.count_step(c2s_accepter, Step.SEND_RECONNECT) == 0
            assert p.si.count_step(c2s_accepter, Step.SEND_RECONNECT_OK) == 1
            assert p.ci.count_step(c2s, Step.SEND_RECONNECT) == 1
            assert p.ci.count_step(c2s, Step.SEND_RECONNECT_OK) == 0
            p.si.proceed(Step.READY, A.CONTINUE)
            # the reply interrupted by the fault is replayed, the third one follows
            await p.cd.wait_count(3)
            assert session_of(c2s).count == 3
            assert p.sd.count() == 3  # each request exactly once
    run(main)


@modes
def test_reconnect_race_server_wins(embedded: bool) -> None:
    """ReconnectRaceTest: after the client's fault both sides reconnect at once;
    the server side wins (lower address)."""
    async def main() -> None:
        async with peers(embedded, server_policy=Policy.lossless_peer(),
                         client_policy=Policy.lossless_peer(), server_replies=True) as p:
            c2s = p.c2s()
            c2s.send_message(MPing())
            await p.cd.wait_count(1)
            assert session_of(c2s).count == 1

            p.ci.breakpoint(Step.HANDLE_MESSAGE)
            c2s.send_message(MPing())
            await p.ci.wait(Step.HANDLE_MESSAGE, c2s)
            p.ci.remove_bp(Step.HANDLE_MESSAGE)
            p.ci.breakpoint(Step.SEND_RECONNECT)
            p.si.breakpoint(Step.SEND_RECONNECT)
            p.ci.proceed(Step.HANDLE_MESSAGE, A.FAIL)  # both sides now reconnect
            c2s.send_message(MPing())
            await p.ci.wait(Step.SEND_RECONNECT, c2s)
            await p.si.wait(Step.SEND_RECONNECT)
            p.ci.remove_bp(Step.SEND_RECONNECT)
            p.si.remove_bp(Step.SEND_RECONNECT)
            p.si.breakpoint(Step.READY)
            p.ci.proceed(Step.SEND_RECONNECT, A.CONTINUE)
            p.si.proceed(Step.SEND_RECONNECT, A.CONTINUE)

            c2s_accepter = await p.si.wait(Step.READY)
            p.si.remove_bp(Step.READY)
            assert isinstance(c2s_accepter, AsyncConnection)
            assert c2s_accepter.peer_type == EntityType.CLIENT
            assert c2s.peer_type == EntityType.OSD
            server_reconnects = p.si.count_step(c2s_accepter, Step.SEND_RECONNECT)
            assert 0 < server_reconnects < 3
            assert p.si.count_step(c2s_accepter, Step.SEND_RECONNECT_OK) == 0
            assert p.ci.count_step(c2s, Step.SEND_RECONNECT) == 1
            assert p.ci.count_step(c2s, Step.SEND_RECONNECT_OK) == 1
            # a second RECONNECT from the server means the client told it to retry
            # (Ceph counts only RETRY_GLOBAL; which retry it is depends on timing)
            counts = c2s_accepter.core.handshake_counts
            retries = counts.get("recv_SESSION_RETRY", 0) + \
                counts.get("recv_SESSION_RETRY_GLOBAL", 0)
            assert retries == server_reconnects - 1
            p.si.proceed(Step.READY, A.CONTINUE)
            await p.cd.wait_count(3)
            assert p.sd.count() == 3
            assert c2s.core.state is State.READY
    run(main)


def test_wait_helper_times_out_clearly() -> None:
    async def main() -> None:
        t = TestInterceptor()
        with pytest.raises(TimeoutError, match="SEND_SERVER_IDENTITY"):
            await t.wait(Step.SEND_SERVER_IDENTITY, timeout=0.05)
        await asyncio.sleep(0)
    run(main)
