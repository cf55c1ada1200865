"""MonClient against in-process fake monitors (asyncmsgr.testing.fake_mon).

Hunting, failover, keepalive timeout, command re-send, auth refusal and timeouts
without a Ceph cluster; the same client against real Ceph monitors is in
tests/interop/.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket

import pytest
from msgr_harness import run

from asyncmsgr.auth.base import ModeOptions
from asyncmsgr.auth.none import AuthNoneClient
from asyncmsgr.config import MessengerConfig
from asyncmsgr.monc.client import (
    MonAuthError,
    MonClient,
    MonClientClosed,
    MonClientOptions,
    MonTimeout,
)
from asyncmsgr.testing.dummy_auth import DummyAuthClient
from asyncmsgr.testing.fake_mon import FAKE_VERSION, FakeMonCluster
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType

FAST = MonClientOptions(hunt_interval=0.3, ping_interval=0.1, ping_timeout=0.6,
                        mount_timeout=5.0)


def _auth() -> AuthNoneClient:
    return AuthNoneClient(AuthName(EntityType.CLIENT, "admin"),
                          modes=ModeOptions(mon_client="crc"))


def _dead_addr() -> EntityAddrVec:
    """A msgr2 address nobody listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return EntityAddrVec.parse(f"v2:127.0.0.1:{port}")


def test_connect_command_version_subscribe() -> None:
    async def body() -> None:
        async with FakeMonCluster(1) as cluster:
            monc = MonClient(cluster.addrs, auth_client=_auth(), options=FAST)
            await monc.connect()
            try:
                assert monc.monmap is not None
                assert monc.monmap.fsid == cluster.fsid
                assert monc.global_id > 0
                assert str(monc.messenger.my_name) == f"client.{monc.global_id}"
                res = await monc.command({"prefix": "version", "format": "json"})
                assert res.r == 0
                assert res.json() == {"version": FAKE_VERSION}
                res = await monc.command('{"prefix": "nope"}')
                assert res.r == -22
                assert "nope" in res.rs
                assert await monc.get_version("osdmap") == (1, 1)
                cluster.mons[0].config["debug_ms"] = "1"
                monc.sub_want("config")
                await monc.wait_for_map("config", timeout=5)
                assert monc.config_values == {"debug_ms": "1"}
                assert "config" in monc._subs  # persistent subscription kept
            finally:
                await monc.shutdown()
    run(body)


def test_hunting_skips_a_dead_monitor() -> None:
    """Two mons in mon_host, one down: hunting one at a time still finds the live one."""
    async def body() -> None:
        async with FakeMonCluster(1) as cluster:
            addrs = [_dead_addr(), *cluster.addrs]
            for seed in range(3):  # the dead one is tried first for some seeds
                opts = MonClientOptions(hunt_interval=0.3, hunt_parallel=1,
                                        mount_timeout=10.0)
                monc = MonClient(addrs, auth_client=_auth(), options=opts,
                                 rng=random.Random(seed))
                await monc.connect()
                assert monc.active_connection is not None
                assert monc.active_connection.peer_addrs == cluster.addrs[0]
                res = await monc.command({"prefix": "status"})
                assert res.r == 0
                await monc.shutdown()
    run(body, timeout=40)


def test_failover_when_the_monitor_goes_away() -> None:
    """The session's mon stops: the client hunts to the other and commands go on."""
    async def body() -> None:
        async with FakeMonCluster(2) as cluster:
            monc = MonClient(cluster.addrs, auth_client=_auth(), options=FAST)
            await monc.connect()
            try:
                first = monc.active_connection
                assert first is not None
                victim = next(m for m in cluster.mons if m.addrs == first.peer_addrs)
                survivor = next(m for m in cluster.mons if m is not victim)
                await victim.stop()
                res = await monc.command({"prefix": "status"}, timeout=10)
                assert res.r == 0
                assert monc.active_connection is not None
                assert monc.active_connection.peer_addrs == survivor.addrs
                assert monc.sessions >= 2
            finally:
                await monc.shutdown()
    run(body, timeout=30)


def test_keepalive_timeout_starts_hunting() -> None:
    """The session's mon stalls: after mon_client_ping_timeout without a keepalive
    ack the client hunts to the other mon and a command succeeds."""
    async def body() -> None:
        async with FakeMonCluster(2) as cluster:
            monc = MonClient(cluster.addrs, auth_client=_auth(), options=FAST)
            await monc.connect()
            try:
                first = monc.active_connection
                assert first is not None
                assert monc.sessions == 1
                victim = next(m for m in cluster.mons if m.addrs == first.peer_addrs)
                victim.freeze()
                res = await monc.command({"prefix": "health"}, timeout=10)
                assert res.r == 0
                assert monc.sessions == 2
                con = monc.active_connection
                assert con is not None
                assert con.peer_addrs != victim.addrs
            finally:
                await monc.shutdown()
    run(body, timeout=30)


def test_pending_command_is_resent_on_the_new_session() -> None:
    """A command sent to a stalled mon is answered by the next one, once."""
    async def body() -> None:
        async with FakeMonCluster(2) as cluster:
            monc = MonClient(cluster.addrs, auth_client=_auth(), options=FAST)
            await monc.connect()
            try:
                first = monc.active_connection
                assert first is not None
                victim = next(m for m in cluster.mons if m.addrs == first.peer_addrs)
                victim.freeze()
                res = await monc.command({"prefix": "version"}, timeout=10)
                assert res.r == 0
                assert json.loads(res.outbuf)["version"] == FAKE_VERSION
                assert not victim.commands
                got = [c for mon in cluster.mons for c in mon.commands]
                assert len(got) == 1, "answered once, after the failover"
            finally:
                await monc.shutdown()
    run(body, timeout=30)


def test_auth_refused_is_a_typed_error() -> None:
    """The mons allow only auth none; a client with another method gets MonAuthError."""
    async def body() -> None:
        async with FakeMonCluster(2) as cluster:
            monc = MonClient(cluster.addrs, auth_client=DummyAuthClient(), options=FAST)
            try:
                with pytest.raises(MonAuthError, match=r"refused|denied") as info:
                    await monc.connect()
                assert info.value.result < 0
                hunts = monc.hunts
                with pytest.raises(MonAuthError):  # a second attempt hunts again
                    await monc.connect()
                assert monc.hunts > hunts
            finally:
                await monc.shutdown()
    run(body)


def test_no_monitor_is_a_timeout() -> None:
    async def body() -> None:
        monc = MonClient([_dead_addr(), _dead_addr()], auth_client=_auth(),
                         options=MonClientOptions(hunt_interval=0.2))
        try:
            with pytest.raises(MonTimeout, match="timed out after 1 s"):
                await monc.connect(timeout=1.0)
        finally:
            await monc.shutdown()
    run(body)


def test_command_timeout_and_shutdown_fail_waiters() -> None:
    async def body() -> None:
        async with FakeMonCluster(1) as cluster:
            monc = MonClient(cluster.addrs, auth_client=_auth(),
                             options=MonClientOptions(ping_timeout=0))
            await monc.connect()
            cluster.mons[0].freeze()
            with pytest.raises(MonTimeout):
                await monc.command({"prefix": "status"}, timeout=0.3)
            waiter = asyncio.ensure_future(monc.command({"prefix": "status"}))
            await monc.shutdown()
            with pytest.raises(MonClientClosed):
                await waiter
            assert not monc._pending
    run(body)


def test_threaded_messenger() -> None:
    """The client works with worker threads (callbacks hop to its loop)."""
    async def body() -> None:
        async with FakeMonCluster(1) as cluster:
            monc = MonClient(cluster.addrs, auth_client=_auth(), options=FAST,
                             config=MessengerConfig(asyncmsgr_embedded=False))
            await monc.connect()
            try:
                res = await monc.command({"prefix": "status"})
                assert res.r == 0
                assert res.json()["fsid"] == str(cluster.fsid)
            finally:
                await monc.shutdown()
    run(body)


@pytest.mark.parametrize("embedded", [True, False])
def test_replies_take_the_fast_path_on_the_clients_own_loop(embedded: bool) -> None:
    """Embedded messenger: command and version replies reach the client inline (no
    dispatch-queue hop); with worker threads they take the queue to its loop."""
    async def body() -> None:
        async with FakeMonCluster(1) as cluster:
            monc = MonClient(cluster.addrs, auth_client=_auth(), options=FAST,
                             config=MessengerConfig(asyncmsgr_embedded=embedded))
            await monc.connect()
            try:
                queue = monc.messenger.dispatch_queue
                before = queue.statistics()
                for _ in range(5):
                    assert (await monc.command({"prefix": "version"})).r == 0
                assert await monc.get_version("osdmap") == (1, 1)
                after = queue.statistics()
                fast = after.fast_dispatched - before.fast_dispatched
                queued = after.dispatched - before.dispatched
                # 6 replies (+ maybe a late monmap of the session's subscription)
                if embedded:
                    assert fast >= 6
                    assert queued == 0
                else:
                    assert fast == 0
                    assert queued >= 6
            finally:
                await monc.shutdown()
    run(body)
