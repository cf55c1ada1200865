"""Ceph's interceptor race tests over real sockets (test_msgr.cc, ceph-messenger.md
§9.1 tests 1-6): connection races, reuse of a connection still in
BANNER_CONNECTING, a server failing before SERVER_IDENT, reconnect and reconnect
races — asserting handshake step counts as Ceph does, not only delivery.

Ceph binds 3300 (server) and 3301 (client) with the same nonce (the pid); we
bind free ports with the server's below the client's and share a nonce, so the
address order (who wins a race: type, nonce, then port) is the same.

Every test also runs over msgr v1 (both messengers bound on v1 addresses). Ceph
has no interceptor in ProtocolV1; asyncmsgr calls the same steps at the v1
equivalents (SEND_CLIENT_IDENTITY / SEND_RECONNECT: the connect message with
connect_seq 0 / > 0; SEND_SERVER_IDENTITY: the READY or SEQ reply), so the same
scenarios run, with the same outcome. The step counts differ where the v1
rules differ (ceph-messenger.md §4.5), and each test spells the v1 figures out:

* a connection that replaces an existing one (``replace``) hands its socket to
  the existing connection, which answers RETRY_GLOBAL, so the peer sends its
  connect message twice (msgr2 continues on the reused socket at once);
* there is no SESSION_RECONNECT_OK: the reconnect is answered by SEQ (READY
  after a reset), counted as SEND_SERVER_IDENTITY;
* a reconnect race is decided by connect_seq equality (rule 7), the loser gets
  WAIT, as in msgr2, but the winner's second connect is the RETRY_GLOBAL above.
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
    PROTOCOLS,
    FakeDispatcher,
    as_async,
    bind_addr,
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
protocols = pytest.mark.parametrize("protocol", PROTOCOLS)

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
                server_replies: bool = False, protocol: str = "v2") -> AsyncIterator[Peers]:
    """Ceph's fixture for the interceptor tests: default policies
    stateless_server/lossy_client, per-type policies as given, both bound (on
    ``protocol`` addresses)."""
    cfg = make_config(embedded)
    nonce = os.getpid()
    server = Messenger.create("osd.0", config=cfg, nonce=nonce)
    server.set_default_policy(Policy.stateless_server())
    server.set_policy(EntityType.CLIENT, server_policy)
    si = server.interceptor = TestInterceptor()
    await server.bind(bind_addr(protocol))
    port = server.my_addrs.addrs[0].port
    client = Messenger.create("client.-1", config=cfg.replace(ms_bind_port_min=port + 1),
                              nonce=nonce)
    client.set_default_policy(Policy.lossy_client())
    client.set_policy(EntityType.OSD, client_policy)
    ci = client.interceptor = TestInterceptor()
    await client.bind(bind_addr(protocol))
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
@protocols
def test_connection_race(embedded: bool, protocol: str) -> None:
    """ConnectionRaceTest: A->B and B->A both pause before CLIENT_IDENT, then go.

    v1: both connect messages carry connect_seq 0 against an existing connection
    with connect_seq 0 that is still connecting: a race (rule 7); the lower
    address (the server) wins, so the client's acceptor replaces c2s, which
    answers RETRY_GLOBAL on the moved socket: the server sends 2 connect
    messages, the client 1 (answered WAIT, or never answered if its socket went
    away first).
    """
    async def main() -> None:
        async with peers(embedded, server_policy=Policy.lossless_peer_reuse(),
                         client_policy=Policy.lossless_peer_reuse(),
                         protocol=protocol) as p:
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
            if protocol == "v1":
                assert p.si.count_step(s2c, Step.SEND_CLIENT_IDENTITY) == 2
                assert s2c.core.handshake_counts.get("recv_RETRY_GLOBAL") == 1
                assert c2s.core.handshake_counts.get("send_RETRY_GLOBAL") == 1
                assert p.ci.count_step(c2s, Step.SEND_CLIENT_IDENTITY) == 1
                assert p.ci.count_step(c2s, Step.SEND_SERVER_IDENTITY) == 1
            else:
                assert p.si.count_step(s2c, Step.SEND_CLIENT_IDENTITY) == 1
                assert p.ci.count_step(c2s, Step.SEND_CLIENT_IDENTITY) == 1
    run(main)


@modes
@protocols
def test_connection_race_reuses_a_connection_still_in_banner_connecting(
        embedded: bool, protocol: str) -> None:
    """ConnectionRaceReuseBannerTest: the winner's socket replaces a connection that
    is still in BANNER_CONNECTING; established exactly once.

    v1 has no BANNER_EXCHANGE steps: c2s is held in the v1 equivalent,
    CONNECTING_WAIT_BANNER_AND_IDENTIFY (its banner sent, the server's pending),
    by pausing its acceptor at START_SERVER_BANNER_EXCHANGE. s2c's connect
    message (connect_seq 0) meets c2s (connect_seq 0, connecting): a race won by
    the lower address (rule 7), so c2s takes the socket over and answers
    RETRY_GLOBAL; s2c connects again and c2s opens the session (SEQ).
    """
    v1 = protocol == "v1"
    server_banner = Step.START_SERVER_BANNER_EXCHANGE if v1 else Step.BANNER_EXCHANGE
    client_banner = Step.START_CLIENT_BANNER_EXCHANGE if v1 else \
        Step.BANNER_EXCHANGE_BANNER_CONNECTING

    async def main() -> None:
        async with peers(embedded, server_policy=Policy.lossless_peer_reuse(),
                         client_policy=Policy.lossless_peer_reuse(),
                         protocol=protocol) as p:
            p.si.breakpoint(Step.SEND_CLIENT_IDENTITY)
            s2c = p.s2c()
            s2c.send_message(MPing())
            await p.si.wait(Step.SEND_CLIENT_IDENTITY)
            p.si.remove_bp(Step.SEND_CLIENT_IDENTITY)

            # keep the second connection in BANNER_CONNECTING: its acceptor pauses
            # before its banner (set before connecting: the accept is concurrent)
            p.si.breakpoint(server_banner)
            p.ci.breakpoint(client_banner)
            c2s = p.c2s()
            c2s.send_message(MPing())
            await p.ci.wait(client_banner)
            p.ci.remove_bp(client_banner)
            if v1:  # let c2s send its banner: it then waits for the server's
                p.ci.proceed(client_banner, A.CONTINUE)
                await p.cd.rec.wait_until(
                    lambda: c2s.core.state is State.CONNECTING_WAIT_BANNER_AND_IDENTIFY,
                    5, "c2s waiting for the server's banner", poll=0.01)

            p.si.proceed(Step.SEND_CLIENT_IDENTITY, A.CONTINUE)
            # CLIENT_IDENT reaches the client: reuse_connection() into c2s
            p.ci.breakpoint(Step.READY)
            if not v1:
                p.ci.proceed(client_banner, A.CONTINUE)
            await p.ci.wait(Step.READY)
            p.ci.remove_bp(Step.READY)

            s2c_accepter = await p.si.wait(server_banner)
            p.si.remove_bp(server_banner)
            p.si.proceed(server_banner, A.CONTINUE)
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
            if v1:  # the replaced c2s answered RETRY_GLOBAL: s2c connected twice
                assert c2s.core.handshake_counts.get("send_RETRY_GLOBAL") == 1
                assert p.si.count_step(s2c, Step.SEND_CLIENT_IDENTITY) == 2
                assert p.ci.count_step(c2s, Step.SEND_SERVER_IDENTITY) == 1
            else:
                assert p.si.count_step(s2c, Step.SEND_CLIENT_IDENTITY) == 1
    run(main)


@modes
@protocols
def test_missing_server_ident_lossy_client_reconnects(embedded: bool, protocol: str) -> None:
    """MissingServerIdenTest: the server faults right before SERVER_IDENT with a
    message queued; the (lossy) client reconnects into the server's session and
    each side gets its message exactly once.

    v1 differs by rule: the server had set connect_seq = 1 on its session before
    the fault (``open()``), while the client, whose first attempt never became
    ready, connects again with connect_seq 0. That is rule 5 of
    handle_connect_message_2, "the peer reset": with resetcheck
    (stateful_server) the server resets its session, discarding the queued
    message (ms_handle_remote_reset on the acceptor), and replaces it (RETRY_GLOBAL,
    then READY rather than SEQ). The client's own message is delivered once; the
    server's first message never arrives, a later one does.
    """
    async def main() -> None:
        async with peers(embedded, server_policy=Policy.stateful_server(),
                         client_policy=Policy.lossy_client(), protocol=protocol) as p:
            p.si.breakpoint(Step.SEND_SERVER_IDENTITY)
            c2s = p.c2s()
            c2s.send_message(MPing(data=b"from the client"))
            c2s_accepter = as_async(await p.si.wait(Step.SEND_SERVER_IDENTITY))  # type: ignore[arg-type]
            p.si.remove_bp(Step.SEND_SERVER_IDENTITY)
            # queued: the fault keeps the session
            c2s_accepter.send_message(MPing(data=b"queued"))
            p.si.proceed(Step.SEND_SERVER_IDENTITY, A.FAIL)
            await p.sd.wait_count(1)
            if protocol == "v1":
                await p.sd.wait_for(p.sd.remote_resets)
                assert p.sd.remote_resets == [c2s_accepter]
                await asyncio.wait_for(c2s_accepter.wait_connected(), 5)
                c2s_accepter.send_message(MPing(data=b"after the reset"))
                await p.cd.wait_count(1)
                assert [bytes(m.data) for m in p.cd.got] == [b"after the reset"]
                counts = c2s_accepter.core.handshake_counts
                assert (counts.get("send_RETRY_GLOBAL"), counts.get("send_READY")) == (1, 1)
                # the failed attempt, the one answered RETRY_GLOBAL, the last one
                assert p.ci.count_step(c2s, Step.SEND_CLIENT_IDENTITY) == 3
                assert p.ci.count_step(c2s, Step.SEND_RECONNECT) == 0
                # (the acceptor's Session count is not checked: the remote reset
                # goes through the dispatch queue and the fast-dispatched MPing
                # may overtake it, dropping the count with the session; sd.got
                # shows the message arrived exactly once)
            else:
                await p.cd.wait_count(1)
                assert [bytes(m.data) for m in p.cd.got] == [b"queued"]
                assert not p.sd.remote_resets
                assert session_of(c2s_accepter).count == 1
            assert [bytes(m.data) for m in p.sd.got] == [b"from the client"]
            assert c2s.is_connected()
            assert session_of(c2s).count == 1
            assert c2s.peer_type == EntityType.OSD
            assert c2s_accepter.is_connected()
            assert c2s_accepter.peer_type == EntityType.CLIENT
            assert p.server.lookup_conn(c2s_accepter.peer_addrs) is c2s_accepter
    run(main)


@modes
@protocols
def test_missing_server_ident_lossless_peer_server_reconnects(embedded: bool,
                                                              protocol: str) -> None:
    """MissingServerIdenTest2: both lossless_peer; the server faults before
    SERVER_IDENT with a message queued, so it reconnects to the client itself; the
    client gets that message once, the acceptor none.

    v1: the server's session has connect_seq 1 (set by ``open()`` before the
    fault), the client's c2s 0. Whichever connect message arrives first, the
    receiving side replaces its connection (rule 8: a higher connect_seq without
    resetcheck; or rule 5: the peer's 0 against our 1, no resetcheck for
    lossless_peer so nothing is reset), and that replacement answers
    RETRY_GLOBAL. No session is reset on either side.
    """
    async def main() -> None:
        async with peers(embedded, server_policy=Policy.lossless_peer(),
                         client_policy=Policy.lossless_peer(), protocol=protocol) as p:
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
            assert not p.cd.remote_resets
            assert not p.sd.remote_resets
            if protocol == "v1":
                retries = c2s.core.handshake_counts.get("send_RETRY_GLOBAL", 0) + \
                    c2s_accepter.core.handshake_counts.get("send_RETRY_GLOBAL", 0)
                assert retries >= 1  # one side replaced its connection
    run(main)


@modes
@protocols
def test_reconnect_counts(embedded: bool, protocol: str) -> None:
    """ReconnectTest: the client faults while handling a message; it sends one
    SESSION_RECONNECT, the server one RECONNECT_OK, and the session resumes.

    v1: the client's reconnect (connect_seq 2 against the server's 1: rule 8, a
    normal reconnect) is accepted by replacing the server's session, which
    answers RETRY_GLOBAL on the moved socket, so the client sends its reconnect
    twice; the second is answered SEQ (there is no RECONNECT_OK: the
    SEND_SERVER_IDENTITY step, counted twice on the acceptor with the first
    session's). connect_seq ends at 3 on both sides (v1: the server sets the
    client's value + 1, the client increments and must match on READY).
    """
    v1 = protocol == "v1"

    async def main() -> None:
        async with peers(embedded, server_policy=Policy.stateful_server(),
                         client_policy=Policy.lossless_peer(), server_replies=True,
                         protocol=protocol) as p:
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
            assert p.ci.count_step(c2s, Step.SEND_RECONNECT_OK) == 0
            if v1:
                assert p.si.count_step(c2s_accepter, Step.SEND_SERVER_IDENTITY) == 2
                assert p.ci.count_step(c2s, Step.SEND_RECONNECT) == 2
                counts = c2s_accepter.core.handshake_counts
                assert (counts.get("send_RETRY_GLOBAL"), counts.get("send_SEQ")) == (1, 2)
                assert c2s.core.handshake_counts.get("recv_RETRY_GLOBAL") == 1
                assert c2s_accepter.core.session.connect_seq == 3
            else:
                assert p.si.count_step(c2s_accepter, Step.SEND_RECONNECT_OK) == 1
                assert p.ci.count_step(c2s, Step.SEND_RECONNECT) == 1
            p.si.proceed(Step.READY, A.CONTINUE)
            # the reply interrupted by the fault is replayed, the third one follows
            await p.cd.wait_count(3)
            assert session_of(c2s).count == 3
            assert p.sd.count() == 3  # each request exactly once
            if v1:
                assert c2s.core.session.connect_seq == 3
    run(main)


@modes
@protocols
def test_reconnect_race_server_wins(embedded: bool, protocol: str) -> None:
    """ReconnectRaceTest: after the client's fault both sides reconnect at once;
    the server side wins (lower address).

    v1: both reconnect with connect_seq 2 (each incremented its 1 on the fault),
    so each side's acceptor sees an equal connect_seq on a connection that is
    still connecting: a race (rule 7). On the server the client's attempt loses
    (higher address, not a server policy): WAIT, which reaches the client unless
    its socket was dropped first by the replacement; on the client the server's
    attempt wins: c2s is replaced and answers
    RETRY_GLOBAL, so the server sends its reconnect exactly twice (msgr2: one
    or two) and c2s answers the second with SEQ (SEND_SERVER_IDENTITY, in place
    of RECONNECT_OK). connect_seq ends at 3 on both sides.
    """
    v1 = protocol == "v1"

    async def main() -> None:
        async with peers(embedded, server_policy=Policy.lossless_peer(),
                         client_policy=Policy.lossless_peer(), server_replies=True,
                         protocol=protocol) as p:
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
            assert p.si.count_step(c2s_accepter, Step.SEND_RECONNECT_OK) == 0
            assert p.ci.count_step(c2s, Step.SEND_RECONNECT) == 1
            counts = c2s_accepter.core.handshake_counts
            if v1:
                assert server_reconnects == 2
                assert counts.get("recv_RETRY_GLOBAL") == 1
                assert c2s.core.handshake_counts.get("send_RETRY_GLOBAL") == 1
                assert p.ci.count_step(c2s, Step.SEND_SERVER_IDENTITY) == 1
                assert p.si.count_step(c2s_accepter, Step.SEND_SERVER_IDENTITY) == 1
                assert c2s.core.handshake_counts.get("recv_WAIT", 0) <= 1
                assert c2s_accepter.core.session.connect_seq == 3
            else:
                assert 0 < server_reconnects < 3
                assert p.ci.count_step(c2s, Step.SEND_RECONNECT_OK) == 1
                # a second RECONNECT from the server means the client told it to
                # retry (Ceph counts only RETRY_GLOBAL; which retry depends on timing)
                retries = counts.get("recv_SESSION_RETRY", 0) + \
                    counts.get("recv_SESSION_RETRY_GLOBAL", 0)
                assert retries == server_reconnects - 1
            p.si.proceed(Step.READY, A.CONTINUE)
            await p.cd.wait_count(3)
            assert p.sd.count() == 3
            assert c2s.core.state is c2s.core.OPEN_STATE  # READY (v1: OPEN)
            if v1:
                assert c2s.core.session.connect_seq == 3
    run(main)


def test_wait_helper_times_out_clearly() -> None:
    async def main() -> None:
        t = TestInterceptor()
        with pytest.raises(TimeoutError, match="SEND_SERVER_IDENTITY"):
            await t.wait(Step.SEND_SERVER_IDENTITY, timeout=0.05)
        await asyncio.sleep(0)
    run(main)
