"""MonClient against real Ceph Pacific monitors (fixtures in conftest.py).

Each test compares with the real ``ceph`` CLI (the oracle) where it can.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from ceph_cluster import MonCluster

from asyncmsgr.auth.base import AuthClient, ModeOptions
from asyncmsgr.auth.cephx import CephxClient, CryptoKey, Keyring
from asyncmsgr.auth.none import AuthNoneClient
from asyncmsgr.frames.v2 import CON_MODE_CRC, CON_MODE_SECURE
from asyncmsgr.monc.client import MonAuthError, MonClient, MonClientOptions
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType

pytestmark = [pytest.mark.interop, pytest.mark.timeout(90)]

FAST = MonClientOptions(hunt_interval=0.5, ping_interval=0.5, ping_timeout=3.0,
                        mount_timeout=20.0)


def run(body: Callable[[], Coroutine[Any, Any, None]], timeout: float = 60.0) -> None:
    async def main() -> None:
        await asyncio.wait_for(body(), timeout)
    asyncio.run(main())


def make_auth(cluster: MonCluster, method: str, mode: str) -> AuthClient:
    """An auth client for client.admin: ``none`` or ``cephx``, mode crc or secure."""
    modes = ModeOptions(mon_client=mode, client=mode)
    name = AuthName(EntityType.CLIENT, "admin")
    if method == "none":
        return AuthNoneClient(name, modes=modes)
    keyring = Keyring.from_file(str(cluster.keyring_path))
    key = keyring.get(name)
    assert key is not None
    return CephxClient(name, key, clock=time.time, modes=modes)


def con_mode(con: object) -> int:
    """The msgr2 connection mode a connection runs (CON_MODE_CRC / _SECURE)."""
    return int(con.core.auth_meta.con_mode)  # type: ignore[attr-defined]


def addrs_of(cluster: MonCluster) -> list[EntityAddrVec]:
    return [EntityAddrVec.parse(a) for a in cluster.mon_addrs]


#: auth none has no session key, hence no secure mode (as in Ceph).
MATRIX = [("cephx", "crc"), ("cephx", "secure"), ("none", "crc")]
MODES = {"crc": CON_MODE_CRC, "secure": CON_MODE_SECURE}


@pytest.mark.parametrize(("method", "mode"), MATRIX)
def test_status_version_command_subscribe(ceph_mon: MonCluster, method: str,
                                          mode: str) -> None:
    async def body() -> None:
        monc = MonClient(addrs_of(ceph_mon), auth_client=make_auth(ceph_mon, method, mode),
                         options=FAST)
        await monc.connect()
        try:
            assert monc.monmap is not None
            assert str(monc.monmap.fsid) == ceph_mon.fsid
            assert monc.global_id > 0
            assert monc.active_connection is not None
            assert con_mode(monc.active_connection) == MODES[mode]
            status = await monc.command({"prefix": "status", "format": "json"})
            assert status.r == 0
            got = status.json()
            oracle = ceph_mon.ceph_json("status")
            assert isinstance(oracle, dict)
            assert got["fsid"] == oracle["fsid"]
            assert got["quorum_names"] == oracle["quorum_names"]
            assert got["health"]["status"] == oracle["health"]["status"]
            assert set(got) == set(oracle)
            version = await monc.command({"prefix": "version", "format": "json"})
            assert version.json() == ceph_mon.ceph_json("version")
            bad = await monc.command({"prefix": "no such command"})
            assert bad.r == -22
            newest, oldest = await monc.get_version("osdmap")
            assert newest >= 1
            assert oldest >= 0
            monc.sub_want("osdmap", 0)
            monc.sub_want("mgrmap", 0)
            monc.sub_want("config", 0)
            await monc.wait_for_map("osdmap", min_epoch=1, timeout=10)
            await monc.wait_for_map("mgrmap", min_epoch=1, timeout=10)
            await monc.wait_for_map("config", timeout=10)
            dump = await monc.command({"prefix": "mon dump", "format": "json"})
            assert dump.r == 0
            assert "dumped monmap epoch" in dump.rs
            assert json.loads(dump.outbuf)["fsid"] == ceph_mon.fsid
        finally:
            await monc.shutdown()
    run(body)


def _dead_addrvec() -> EntityAddrVec:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return EntityAddrVec.parse(f"[v2:127.0.0.1:{port},v1:127.0.0.1:{port + 1}]")


def test_hunting_past_a_dead_monitor(ceph_mon: MonCluster) -> None:
    """mon_host lists a monitor that is down before the live one; dialling one at
    a time, the client moves on after mon_client_hunt_interval and gets a session."""
    async def body() -> None:
        for seed in range(2):
            opts = MonClientOptions(hunt_interval=0.5, hunt_parallel=1, mount_timeout=20.0)
            monc = MonClient([_dead_addrvec(), *addrs_of(ceph_mon)],
                             auth_client=make_auth(ceph_mon, "none", "crc"), options=opts,
                             rng=random.Random(seed))
            await monc.connect()
            try:
                con = monc.active_connection
                assert con is not None
                assert con.peer_addrs == addrs_of(ceph_mon)[0]
                assert (await monc.command({"prefix": "health"})).r == 0
            finally:
                await monc.shutdown()
    run(body)


def test_hunting_with_one_of_three_mons_down(mon_cluster_factory: Any) -> None:
    """Three mons, one killed (quorum holds with two): a client whose mon_host lists
    all three, dialling one at a time, hunts past the dead one to a session."""
    cluster: MonCluster = mon_cluster_factory(
        num_mons=3, auth_none=True,
        extra_conf={"mon_lease": "0.5", "mon_election_timeout": "1"})
    cluster.kill("c")
    dead = addrs_of(cluster)[2]
    deadline = time.monotonic() + 30
    while len(cluster.mon_status("a").get("quorum", [])) != 2:  # type: ignore[arg-type]
        assert time.monotonic() < deadline, "the two mons left never formed a quorum"
        time.sleep(0.1)

    async def body() -> None:
        hunted_past_dead = False
        for seed in range(6):
            opts = MonClientOptions(hunt_interval=0.5, hunt_parallel=1, mount_timeout=30.0)
            monc = MonClient(addrs_of(cluster), auth_client=make_auth(cluster, "cephx", "crc"),
                             options=opts, rng=random.Random(seed))
            await monc.connect()
            try:
                con = monc.active_connection
                assert con is not None
                assert con.peer_addrs != dead
                assert (await monc.command({"prefix": "health"})).r == 0
                hunted_past_dead |= monc.hunts > 1
            finally:
                await monc.shutdown()
        assert hunted_past_dead, "no seed tried the dead mon first"
    run(body)


@pytest.mark.parametrize(("method", "mode"), MATRIX)
def test_mon_killed_and_restarted(mon_cluster_factory: Any, method: str, mode: str) -> None:
    """The only mon dies; once it is back the client reconnects by itself (cephx:
    reclaiming its global_id with the old ticket) and the next command succeeds."""
    cluster: MonCluster = mon_cluster_factory(num_mons=1, auth_none=True)

    async def body() -> None:
        auth = make_auth(cluster, method, mode)
        monc = MonClient(addrs_of(cluster), auth_client=auth, options=FAST)
        await monc.connect()
        try:
            assert (await monc.command({"prefix": "health"})).r == 0
            first_gid = monc.global_id
            await asyncio.to_thread(cluster.kill, "a")
            await asyncio.to_thread(cluster.restart, "a")
            await asyncio.to_thread(cluster.wait_ready)
            res = await monc.command({"prefix": "health", "format": "json"}, timeout=30)
            assert res.r == 0
            assert monc.sessions >= 2
            if method == "cephx":
                assert monc.global_id == first_gid  # reclaimed, not a new id
        finally:
            await monc.shutdown()
    run(body, timeout=80)


@pytest.mark.parametrize("mode", ["crc", "secure"])
def test_wrong_key_is_refused(ceph_mon: MonCluster, mode: str) -> None:
    """A wrong client.admin key: MonAuthError with a readable reason, quickly."""
    async def body() -> None:
        name = AuthName(EntityType.CLIENT, "admin")
        wrong = CryptoKey.aes(bytes(range(16)))
        auth = CephxClient(name, wrong, clock=time.time,
                           modes=ModeOptions(mon_client=mode))
        monc = MonClient(addrs_of(ceph_mon), auth_client=auth, options=FAST)
        try:
            start = time.monotonic()
            with pytest.raises(MonAuthError) as info:
                await monc.connect()
            assert time.monotonic() - start < 5
            assert info.value.result in (-1, -13)
            assert "client.admin" in str(info.value) or "denied" in str(info.value)
        finally:
            await monc.shutdown()
    run(body)


def test_secure_session_carries_large_commands(ceph_mon: MonCluster) -> None:
    """Secure mode with cephx: a command whose reply spans several GCM segments."""
    async def body() -> None:
        monc = MonClient(addrs_of(ceph_mon), auth_client=make_auth(ceph_mon, "cephx", "secure"),
                         options=FAST)
        await monc.connect()
        try:
            res = await monc.command({"prefix": "get_command_descriptions"})
            assert res.r == 0
            assert len(res.outbuf) > 50_000
            descs = json.loads(res.outbuf)
            assert any(d["sig"] == ["status"] for d in descs.values())
        finally:
            await monc.shutdown()
    run(body)


@pytest.mark.parametrize("mode", ["crc", "secure"])
def test_ticket_renewal(mon_cluster_factory: Any, mode: str) -> None:
    """Service tickets of 4 s: the client renews them over its session (MAuth,
    GET_PRINCIPAL_SESSION_KEY) before they expire, and keeps working."""
    cluster: MonCluster = mon_cluster_factory(
        num_mons=1, auth_none=False, extra_conf={"auth_service_ticket_ttl": "4"})

    async def body() -> None:
        auth = make_auth(cluster, "cephx", mode)
        assert isinstance(auth, CephxClient)
        monc = MonClient(addrs_of(cluster), auth_client=auth, options=FAST)
        await monc.connect()
        try:
            first = auth.tickets[EntityType.OSD].expires
            deadline = time.monotonic() + 20
            while auth.tickets[EntityType.OSD].expires == first:
                assert time.monotonic() < deadline, "tickets never renewed"
                await asyncio.sleep(0.1)
            assert monc.renewals >= 1
            assert monc.sessions == 1
            assert auth.tickets[EntityType.OSD].expires > first
            assert (await monc.command({"prefix": "health"})).r == 0
        finally:
            await monc.shutdown()
    run(body)
