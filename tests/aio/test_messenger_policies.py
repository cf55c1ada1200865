"""Messenger over real sockets: send priorities, fast versus queued dispatch, and the
policy/dispatch throttles (ceph-messenger.md §3, §4.1, §5)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from msgr_harness import (
    EMBEDDED_IDS,
    EMBEDDED_MODES,
    PROTOCOLS,
    FakeDispatcher,
    as_async,
    msgr_pair,
    run,
)

from asyncmsgr.message import CEPH_MSG_PRIO_DEFAULT, CEPH_MSG_PRIO_HIGH, CEPH_MSG_PRIO_LOW, Message
from asyncmsgr.messages import MCommand, MPing
from asyncmsgr.policy import Policy
from asyncmsgr.throttle import Throttle
from asyncmsgr.types import EntityType

modes = pytest.mark.parametrize("embedded", EMBEDDED_MODES, ids=EMBEDDED_IDS)
protocols = pytest.mark.parametrize("protocol", PROTOCOLS)

KiB = 1024
MiB = 1024 * KiB


def _tag(m: Message) -> bytes:
    return bytes(m.data)


@protocols
def test_priorities_queued_before_connect_arrive_highest_first(protocol: str) -> None:
    """Messages queued before the session is up go out highest priority first,
    FIFO within one priority (``out_queue``), and are dispatched in that order.

    Embedded only: there every send happens before the loop can run the handshake,
    so all the messages are queued for sure. A new msgr v1 session numbers its
    messages from 1 as msgr2 does (only a reset session starts at a random seq).
    """
    async def main() -> None:
        sd = FakeDispatcher(is_server=True, fast_ping=False)
        async with msgr_pair(sd=sd, protocol=protocol) as p:
            con = as_async(p.client.connect_to(EntityType.OSD, p.server.my_addrs))
            sent = []
            prios = [CEPH_MSG_PRIO_DEFAULT, CEPH_MSG_PRIO_LOW, CEPH_MSG_PRIO_HIGH] * 3
            for i, prio in enumerate(prios):
                tag = f"{prio}-{i}".encode()
                sent.append((prio, tag))
                con.send_message(MPing(priority=prio, data=tag))
            assert not con.is_connected()
            await p.sd.wait_count(len(sent))
            # stable sort by priority, highest first = the wire order
            expected = [tag for _prio, tag in sorted(sent, key=lambda pt: -pt[0])]
            assert [_tag(m) for m in p.sd.preprocessed] == expected
            assert [_tag(m) for m in p.sd.got] == expected
            assert [m.seq for m in p.sd.preprocessed] == list(range(1, len(sent) + 1))
            assert [m.priority for m in p.sd.got] == sorted(prios, reverse=True)
    run(main)


@modes
@protocols
def test_fast_and_queued_dispatch(embedded: bool, protocol: str) -> None:
    """PING goes to ms_fast_dispatch on the I/O worker; COMMAND to ms_dispatch on
    the dispatch task; ms_fast_preprocess sees every message in receipt order."""
    main_thread = threading.current_thread().name

    class Recording(FakeDispatcher):
        def __init__(self) -> None:
            super().__init__(is_server=True)
            self.fast_in_task: list[bool] = []

        def ms_fast_dispatch(self, m: Message) -> None:
            try:
                task = asyncio.current_task()
            except RuntimeError:
                task = None
            self.fast_in_task.append(task is not None)
            super().ms_fast_dispatch(m)

    sd = Recording()

    async def main() -> None:
        async with msgr_pair(embedded=embedded, sd=sd, protocol=protocol) as p:
            con = await p.connect()
            sent: list[tuple[type[Message], bytes]] = []
            for i in range(20):
                tag = str(i).encode()
                m: Message = MPing(data=tag) if i % 2 == 0 else MCommand(cmd=["x"], data=tag)
                sent.append((type(m), tag))
                con.send_message(m)
            await p.sd.wait_count(len(sent))
            assert [(type(m), _tag(m)) for m in p.sd.preprocessed] == sent
            assert all(m.type == MPing.TYPE for m, _t in p.sd.fast)
            assert all(m.type == MCommand.TYPE for m, _t in p.sd.queued)
            assert len(p.sd.fast) == len(p.sd.queued) == 10
            # per type, dispatch keeps the order of receipt
            assert [_tag(m) for m, _t in p.sd.fast] == [t for k, t in sent if k is MPing]
            assert [_tag(m) for m, _t in p.sd.queued] == [t for k, t in sent if k is MCommand]
            fast_threads = {t for _m, t in p.sd.fast}
            queued_threads = {t for _m, t in p.sd.queued}
            assert queued_threads == {main_thread}
            if embedded:
                assert fast_threads == {main_thread}
            else:
                assert all(t.startswith("msgr-worker-") for t in fast_threads)
            # fast dispatch runs inline in an I/O callback, never on the dispatch task
            assert sd.fast_in_task == [False] * 10
            assert sd.dispatch_task is not None
    run(main)


@modes
@protocols
def test_throttles_bound_held_bytes(embedded: bool, protocol: str) -> None:
    """A slow dispatcher and a 1 MiB policy byte throttle: the server never holds
    more than the limit (plus one message, Ceph's rule for an oversize request);
    everything arrives in order; afterwards every throttle is back to 0."""
    limit = 1 * MiB
    size = 64 * KiB
    count = 48
    samples: list[tuple[int, int, int]] = []
    throttles: dict[str, Throttle] = {}

    async def slow(m: Message) -> None:
        samples.append((throttles["bytes"].current, throttles["messages"].current,
                        throttles["dispatch"].current))
        await asyncio.sleep(0.001)

    sd = FakeDispatcher(is_server=True, fast_ping=False, slow=slow)

    async def main() -> None:
        async with msgr_pair(embedded=embedded, sd=sd, protocol=protocol) as p:
            p.server.set_policy_throttlers(EntityType.CLIENT, bytes=limit, messages=64)
            policy = p.server.get_policy(EntityType.CLIENT)
            assert policy.throttler_bytes is not None
            assert policy.throttler_messages is not None
            throttles["bytes"] = policy.throttler_bytes
            throttles["messages"] = policy.throttler_messages
            throttles["dispatch"] = p.server.dispatch_queue.throttle
            con = await p.connect()
            payloads = [bytes([i]) * size for i in range(count)]
            for data in payloads:
                con.send_message(MPing(data=data))
            await p.sd.wait_count(count, timeout=10)
            await p.cd.wait_count(count, timeout=10)
            assert [bytes(m.data) for m in p.sd.got] == payloads
            assert max(b for b, _m, _d in samples) <= limit + size
            assert max(b for b, _m, _d in samples) >= limit - size  # it did fill up
            assert max(d for _b, _m, d in samples) <= limit + size
            assert max(m for _b, m, _d in samples) <= 64
            assert throttles["bytes"].statistics().get_or_fail_fail > 0
            await p.server.dispatch_queue.wait_empty()
            await p.client.dispatch_queue.wait_empty()
            for name, t in throttles.items():
                assert t.current == 0, name
            # the client fast-dispatches the echoes on its I/O worker, which releases
            # the dispatch throttle just after our dispatcher counted the message
            client_throttle = p.client.dispatch_queue.throttle
            await p.cd.rec.wait_until(lambda: client_throttle.current == 0,
                                      what="client dispatch throttle empty", poll=0.01)
            assert f"throttle-{throttles['bytes'].name}" in p.server.perf_dump()
    run(main)


@protocols
@pytest.mark.parametrize("policy", ["lossless", "lossy"])
def test_policy_decides_lossiness(protocol: str, policy: str) -> None:
    """The server decides: a lossless client talking to a stateless server is lossy."""
    async def main() -> None:
        server_policy = (Policy.stateful_server() if policy == "lossless"
                         else Policy.stateless_server())
        async with msgr_pair(server_policy=server_policy,
                             client_policy=Policy.lossless_client(),
                             protocol=protocol) as p:
            con = await p.connect()
            assert con.core.lossy is (policy == "lossy")
            con.send_message(MPing())
            await p.cd.wait_count(1)
            server_con = p.sd.got[0].connection
            assert server_con is not None
            if policy == "lossless":  # registered under the client's addresses
                assert p.server.lookup_conn(server_con.peer_addrs) is server_con
            else:  # a stateless server does not register lossy clients
                assert p.server.lookup_conn(server_con.peer_addrs) is None
    run(main)
