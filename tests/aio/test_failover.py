"""The failover scenarios of Ceph's second implementation (Crimson's
``test_v2_protocol``, ceph-messenger.md §9.3 / faults-and-bad-input.md §1.4), over
real sockets: every policy pair x a fault on the connecting or the accepting
side, early in the handshake, while establishing the session, or once
connected; racing connects and reconnects, won and lost. Each case asserts the
final state, the connect / accept / reset callbacks, and what was delivered.

A fault is an interceptor FAIL at one of Ceph's steps, taken once by the first
connection reaching it. Every case ends with a ping-pong on the surviving
session, so the counts are final when they are checked.

msgr2 only, as in Ceph: Crimson implements msgr2 alone and its matrix is built on
the msgr2 steps (banner and hello exchange, auth, SESSION_RECONNECT / RETRY).
The v1 session and race behaviour is covered by test_messenger_sessions.py,
test_messenger_races.py and test_synthetic.py, which run over both protocols.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    stop,
)

from asyncmsgr.aio.connection import AsyncConnection
from asyncmsgr.connection import Connection
from asyncmsgr.messages import MPing
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.protocol.common import InterceptAction, State, Step
from asyncmsgr.testing.interceptor import TestInterceptor
from asyncmsgr.types import EntityType

A = InterceptAction

#: name -> (acceptor policy for clients, connector policy for OSDs)
POLICIES = {
    "lossy": (Policy.stateless_server(), Policy.lossy_client()),
    "lossless": (Policy.stateful_server(), Policy.lossless_client()),
    "peer": (Policy.lossless_peer(), Policy.lossless_peer()),
    "peer_reuse": (Policy.lossless_peer_reuse(), Policy.lossless_peer_reuse()),
}


@dataclass(frozen=True)
class Counts:
    """Dispatcher callbacks: session establishments seen by the connector
    (``ms_handle_connect``) and by the acceptor (``ms_handle_accept``), the
    reverse ones (a lossless peer acceptor may reconnect to the connector
    itself), and resets on connections each side knew."""

    connects: int
    accepts: int
    reverse_connects: int = 0
    """The acceptor's ms_handle_connect (it reconnected to the connector)."""
    reverse_accepts: int = 0
    """The connector's ms_handle_accept."""
    connector_resets: int = 0
    connector_remote_resets: int = 0
    acceptor_resets: int = 0
    acceptor_remote_resets: int = 0


@dataclass
class World:
    acceptor: Messenger
    connector: Messenger
    ad: FakeDispatcher
    cd: FakeDispatcher
    ai: TestInterceptor
    ci: TestInterceptor

    def counts(self) -> Counts:
        known_c = _ids(self.cd.connects) | _ids(self.cd.accepts)
        known_a = _ids(self.ad.accepts) | _ids(self.ad.connects)
        return Counts(
            connects=len(self.cd.connects), accepts=len(self.ad.accepts),
            reverse_connects=len(self.ad.connects), reverse_accepts=len(self.cd.accepts),
            connector_resets=sum(id(c) in known_c for c in self.cd.resets),
            connector_remote_resets=len(self.cd.remote_resets),
            acceptor_resets=sum(id(c) in known_a for c in self.ad.resets),
            acceptor_remote_resets=len(self.ad.remote_resets))

    def c2s(self) -> AsyncConnection:
        return as_async(self.connector.connect_to(EntityType.OSD, self.acceptor.my_addrs))


def _ids(conns: list[Connection]) -> set[int]:
    return {id(c) for c in conns}


@asynccontextmanager
async def world(policy: str, *, embedded: bool = True,
                connector_lower: bool = False) -> AsyncIterator[World]:
    """An acceptor (osd.0) and a bound connector (client.-1) sharing a nonce, so
    the port decides the address order; ``connector_lower`` puts the connector's
    address below the acceptor's (it wins races)."""
    acceptor_policy, connector_policy = POLICIES[policy]
    cfg = make_config(embedded, ms_initial_backoff=0.01, ms_max_backoff=0.1)
    nonce = os.getpid()
    first = Messenger.create("client.-1" if connector_lower else "osd.0", config=cfg,
                             nonce=nonce)
    await first.bind("v2:127.0.0.1:0")
    port = first.my_addrs.addrs[0].port
    second = Messenger.create("osd.0" if connector_lower else "client.-1",
                              config=cfg.replace(ms_bind_port_min=port + 1), nonce=nonce)
    await second.bind("v2:127.0.0.1:0")
    acceptor, connector = (second, first) if connector_lower else (first, second)
    acceptor.set_default_policy(Policy.stateless_server())
    acceptor.set_policy(EntityType.CLIENT, acceptor_policy)
    connector.set_default_policy(Policy.lossy_client())
    connector.set_policy(EntityType.OSD, connector_policy)
    ai = acceptor.interceptor = TestInterceptor()
    ci = connector.interceptor = TestInterceptor()
    ad = FakeDispatcher(is_server=True)
    cd = FakeDispatcher(is_server=False)
    acceptor.add_dispatcher_head(ad)
    acceptor.start()
    connector.add_dispatcher_head(cd)
    connector.start()
    try:
        yield World(acceptor, connector, ad, cd, ai, ci)
    finally:
        await stop(connector, acceptor)


async def ping_pong(w: World, tag: bytes) -> AsyncConnection:
    """Send ``tag`` on the current connection (a new one if it was reset) and wait
    for the echo: the session works end to end."""
    con = w.c2s()
    con.send_message(MPing(data=tag))
    await w.cd.rec.wait_until(lambda: any(bytes(m.data) == tag for m in w.cd.got), 10,
                              f"echo of {tag!r}")
    return con


def tags(d: FakeDispatcher) -> list[bytes]:
    return [bytes(m.data) for m in d.got]


# -- single faults ---------------------------------------------------------------------

CONNECTOR_EARLY = Step.SEND_AUTH_REQUEST
ACCEPTOR_EARLY = Step.HANDLE_AUTH_REQUEST_ACCEPTING_SIGN
CONNECTOR_ESTABLISHING = Step.SEND_CLIENT_IDENTITY
ACCEPTOR_ESTABLISHING = Step.SEND_SERVER_IDENTITY
CONNECTED = Step.HANDLE_MESSAGE


@dataclass(frozen=True)
class FaultCase:
    policy: str
    side: str
    """"connector" or "acceptor": whose interceptor fails."""
    step: Step
    counts: Counts
    first_delivered: bool = True
    """Whether the first message (sent before the fault) reaches the acceptor."""

    @property
    def id(self) -> str:
        return f"{self.policy}-{self.side}-{self.step.name.lower()}"


# Expected callbacks, reasoned from Ceph's rules (ceph-messenger.md §3-§4):
# * a fault before the session exists costs a retry only: one connect, one accept
#   (a half-accepted acceptor stops with a reset on a connection never accepted,
#   which is not counted);
# * an acceptor failing at SEND_SERVER_IDENTITY has already accepted (accept is
#   queued before that step, as in Ceph): with nothing queued it stops (reset);
#   the connector then establishes a new session: 2 accepts;
# * once connected, a lossy session ends on a fault: both sides reset, the first
#   message is lost if the fault was on its way in, and the next message opens a
#   new session (2 connects, 2 accepts);
# * once connected, a lossless session reconnects (SESSION_RECONNECT /
#   RECONNECT_OK): connect and accept fire again, no reset, nothing lost. With
#   lossless_peer the side with something unacknowledged reconnects: when the
#   connector fails reading the echo, it has nothing to send and stands by
#   (standby), while the acceptor still holds the echo and reconnects itself:
#   the reverse callbacks fire instead.
FAULT_CASES = [
    # lossy_client / stateless_server
    FaultCase("lossy", "connector", CONNECTOR_EARLY, Counts(1, 1)),
    FaultCase("lossy", "acceptor", ACCEPTOR_EARLY, Counts(1, 1)),
    FaultCase("lossy", "connector", CONNECTOR_ESTABLISHING, Counts(1, 1)),
    FaultCase("lossy", "acceptor", ACCEPTOR_ESTABLISHING, Counts(1, 2, acceptor_resets=1)),
    FaultCase("lossy", "connector", CONNECTED,
              Counts(2, 2, connector_resets=1, acceptor_resets=1)),
    FaultCase("lossy", "acceptor", CONNECTED,
              Counts(2, 2, connector_resets=1, acceptor_resets=1), first_delivered=False),
    # lossless_client / stateful_server
    FaultCase("lossless", "connector", CONNECTOR_EARLY, Counts(1, 1)),
    FaultCase("lossless", "acceptor", ACCEPTOR_EARLY, Counts(1, 1)),
    FaultCase("lossless", "connector", CONNECTOR_ESTABLISHING, Counts(1, 1)),
    FaultCase("lossless", "acceptor", ACCEPTOR_ESTABLISHING, Counts(1, 2, acceptor_resets=1)),
    FaultCase("lossless", "connector", CONNECTED, Counts(2, 2)),
    FaultCase("lossless", "acceptor", CONNECTED, Counts(2, 2)),
    # lossless_peer both ways
    FaultCase("peer", "connector", CONNECTOR_EARLY, Counts(1, 1)),
    FaultCase("peer", "acceptor", ACCEPTOR_EARLY, Counts(1, 1)),
    FaultCase("peer", "connector", CONNECTOR_ESTABLISHING, Counts(1, 1)),
    FaultCase("peer", "acceptor", ACCEPTOR_ESTABLISHING, Counts(1, 2, acceptor_resets=1)),
    FaultCase("peer", "connector", CONNECTED,
              Counts(1, 1, reverse_connects=1, reverse_accepts=1)),
    FaultCase("peer", "acceptor", CONNECTED, Counts(2, 2)),
    # lossless_peer_reuse both ways
    FaultCase("peer_reuse", "connector", CONNECTOR_EARLY, Counts(1, 1)),
    FaultCase("peer_reuse", "acceptor", ACCEPTOR_EARLY, Counts(1, 1)),
    FaultCase("peer_reuse", "connector", CONNECTOR_ESTABLISHING, Counts(1, 1)),
    FaultCase("peer_reuse", "acceptor", ACCEPTOR_ESTABLISHING,
              Counts(1, 2, acceptor_resets=1)),
    FaultCase("peer_reuse", "connector", CONNECTED,
              Counts(1, 1, reverse_connects=1, reverse_accepts=1)),
    FaultCase("peer_reuse", "acceptor", CONNECTED, Counts(2, 2)),
]


@pytest.mark.parametrize("embedded", EMBEDDED_MODES, ids=EMBEDDED_IDS)
@pytest.mark.parametrize("case", FAULT_CASES, ids=[c.id for c in FAULT_CASES])
def test_single_fault(case: FaultCase, embedded: bool) -> None:
    async def main() -> None:
        async with world(case.policy, embedded=embedded) as w:
            (w.ci if case.side == "connector" else w.ai).proceed(case.step, A.FAIL)
            con = w.c2s()
            con.send_message(MPing(data=b"first"))
            # settle: the echo of "first" arrives, or the lossy session is reset
            await w.cd.rec.wait_until(lambda: b"first" in tags(w.cd) or bool(w.cd.resets),
                                      10, "the first exchange to settle")
            last = await ping_pong(w, b"last")
            assert last.is_connected()
            assert last.core.state is State.READY
            lossless = case.policy != "lossy"
            if lossless:
                assert last is con  # the same session object survived
            got = tags(w.ad)
            expected = [b"first", b"last"] if case.first_delivered else [b"last"]
            assert got == expected  # exactly once, in order
            # callbacks go through the dispatch queue: let those still queued run
            with contextlib.suppress(TimeoutError):
                await w.cd.rec.wait_until(lambda: w.counts() == case.counts, 2,
                                          "callbacks", poll=0.01)
            assert w.counts() == case.counts
            # the fault really happened where asked
            side = w.ci if case.side == "connector" else w.ai
            assert case.step not in side.decisions
    run(main)


# -- races -------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["peer", "peer_reuse"])
@pytest.mark.parametrize("connector_wins", [True, False], ids=["win", "lose"])
def test_racing_connect(policy: str, connector_wins: bool) -> None:
    """Both sides connect at once (paused before CLIENT_IDENT, then released): one
    session each way is left, in the objects the users hold, and the winner's
    connection is the one established (the loser answered WAIT or reused)."""
    async def main() -> None:
        async with world(policy, connector_lower=connector_wins) as w:
            w.ci.breakpoint(Step.SEND_CLIENT_IDENTITY)
            w.ai.breakpoint(Step.SEND_CLIENT_IDENTITY)
            c2s = w.c2s()
            c2s.send_message(MPing(data=b"c"))
            s2c = as_async(w.acceptor.connect_to(EntityType.CLIENT, w.connector.my_addrs))
            s2c.send_message(MPing(data=b"s"))
            await w.ci.wait(Step.SEND_CLIENT_IDENTITY, c2s)
            await w.ai.wait(Step.SEND_CLIENT_IDENTITY, s2c)
            for i in (w.ci, w.ai):
                i.remove_bp(Step.SEND_CLIENT_IDENTITY)
                i.proceed(Step.SEND_CLIENT_IDENTITY, A.CONTINUE)
            await w.ad.rec.wait_until(lambda: b"c" in tags(w.ad), 10, "c delivered")
            await w.cd.rec.wait_until(lambda: b"s" in tags(w.cd), 10, "s delivered")
            assert c2s.is_connected()
            assert s2c.is_connected()
            assert w.connector.lookup_conn(w.acceptor.my_addrs) is c2s
            assert w.acceptor.lookup_conn(w.connector.my_addrs) is s2c
            assert tags(w.ad).count(b"c") == 1
            assert tags(w.cd).count(b"s") == 1
            # the winner's attempt is the session: it got SERVER_IDENT from the
            # loser's connection object, which took the winner's socket over
            winner, loser = (c2s, s2c) if connector_wins else (s2c, c2s)
            assert winner.core.handshake_counts.get("recv_SERVER_IDENT", 0) == 1
            assert winner.core.handshake_counts.get("send_SERVER_IDENT", 0) == 0
            assert loser.core.handshake_counts.get("send_SERVER_IDENT", 0) == 1
            assert not w.cd.remote_resets
            assert not w.ad.remote_resets
    run(main)


@pytest.mark.parametrize("connector_wins", [True, False], ids=["win", "lose"])
def test_racing_reconnect(connector_wins: bool) -> None:
    """After a fault both lossless peers reconnect at once; the lower address wins:
    the loser's RECONNECT is answered WAIT (or RETRY), the winner's RECONNECT_OK;
    nothing is lost or duplicated."""
    async def main() -> None:
        async with world("peer", connector_lower=connector_wins) as w:
            c2s = await ping_pong(w, b"one")
            w.ci.breakpoint(Step.HANDLE_MESSAGE)
            c2s.send_message(MPing(data=b"two"))
            await w.ci.wait(Step.HANDLE_MESSAGE, c2s)
            w.ci.remove_bp(Step.HANDLE_MESSAGE)
            w.ci.breakpoint(Step.SEND_RECONNECT)
            w.ai.breakpoint(Step.SEND_RECONNECT)
            w.ci.proceed(Step.HANDLE_MESSAGE, A.FAIL)
            c2s.send_message(MPing(data=b"three"))
            await w.ci.wait(Step.SEND_RECONNECT, c2s)
            s_side = await w.ai.wait(Step.SEND_RECONNECT)
            for i in (w.ci, w.ai):
                i.remove_bp(Step.SEND_RECONNECT)
                i.proceed(Step.SEND_RECONNECT, A.CONTINUE)
            await ping_pong(w, b"four")
            assert tags(w.ad) == [b"one", b"two", b"three", b"four"]
            assert tags(w.cd) == [b"one", b"two", b"three", b"four"]
            assert isinstance(s_side, AsyncConnection)
            winner, loser = (c2s, s_side) if connector_wins else (s_side, c2s)
            # the winner's reconnect was accepted by the loser's messenger (which
            # answered RECONNECT_OK from the loser's connection object)
            assert loser.core.handshake_counts.get("send_SESSION_RECONNECT_OK", 0) == 1
            assert winner.core.handshake_counts.get("send_SESSION_RECONNECT_OK", 0) == 0
            assert not w.cd.remote_resets
            assert not w.ad.remote_resets
    run(main)


# -- stale attempts --------------------------------------------------------------------


def test_stale_reconnect_is_retried_then_resumes() -> None:
    """A connector's reconnect attempt paused long enough for the acceptor to see
    a later connect_seq is answered RETRY; the session resumes, nothing lost."""
    async def main() -> None:
        async with world("lossless") as w:
            c2s = await ping_pong(w, b"one")
            # the acceptor fails right when it would answer RECONNECT_OK, twice
            w.ci.breakpoint(Step.HANDLE_MESSAGE)
            c2s.send_message(MPing(data=b"two"))
            await w.ci.wait(Step.HANDLE_MESSAGE, c2s)
            w.ci.remove_bp(Step.HANDLE_MESSAGE)
            w.ai.proceed(Step.SEND_RECONNECT_OK, A.FAIL)
            w.ci.proceed(Step.HANDLE_MESSAGE, A.FAIL)
            await ping_pong(w, b"three")
            assert tags(w.ad) == [b"one", b"two", b"three"]
            assert c2s.core.handshake_counts["send_SESSION_RECONNECT"] >= 2
            assert not w.cd.remote_resets
            assert not w.cd.resets
    run(main)


def test_stale_accept_after_acceptor_marks_down() -> None:
    """The acceptor marks its session down while the connector is connected: the
    connector's next reconnect is told its session is gone (remote reset), and a
    new session carries on."""
    async def main() -> None:
        async with world("lossless") as w:
            c2s = await ping_pong(w, b"one")
            await w.ad.wait_for(w.ad.accepts)
            w.ad.accepts[-1].mark_down()
            await w.cd.wait_for(w.cd.remote_resets)
            assert w.cd.remote_resets == [c2s]
            await ping_pong(w, b"two")
            assert tags(w.ad) == [b"one", b"two"]
            assert w.counts().accepts == 2
    run(main)


def test_fault_during_reconnect_keeps_the_session() -> None:
    """A second fault while reconnecting (the connector fails its first
    SESSION_RECONNECT): the next attempt still resumes the same session."""
    async def main() -> None:
        async with world("lossless") as w:
            c2s = await ping_pong(w, b"one")
            w.ci.proceed(Step.SEND_RECONNECT, A.FAIL)
            w.ci.proceed(Step.HANDLE_MESSAGE, A.FAIL)
            c2s.send_message(MPing(data=b"two"))
            await ping_pong(w, b"three")
            assert tags(w.ad) == [b"one", b"two", b"three"]
            assert c2s.core.handshake_counts["SEND_RECONNECT"] >= 2
            assert not w.cd.remote_resets
            assert not w.ad.remote_resets
    run(main)


def test_asyncio_timeout_guard() -> None:
    """Sanity: the world fixture tears down cleanly even when the test body fails."""
    async def main() -> None:
        with pytest.raises(RuntimeError):
            async with world("lossy"):
                raise RuntimeError("boom")
        await asyncio.sleep(0)
    run(main)
