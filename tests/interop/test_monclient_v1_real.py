"""MonClient and ``asyncmsgr ceph`` over msgr v1 against real Pacific monitors.

* a v1-only monitor (``ceph_mon_v1``: ``ms_bind_msgr2 = false``, v1-only monmap,
  cephx and none allowed): MAuth with cephx (service tickets) or none, commands,
  versions, subscriptions, ``asyncmsgr ceph`` output equal to the ``ceph`` CLI's
  (the oracle), a wrong key refused as by ``ceph``;
* a v1-only cephx-only monitor with 4 s service tickets (this module's own):
  renewal over the v1 session, auth none refused, a restart with global_id
  reclaim;
* the dual (v2+v1) session monitor ``ceph_mon`` reached on its v1 address only,
  or with v1 forced: the connection really speaks msgr v1.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
from ceph_cluster import CephCommandError, MonCluster, ceph_mon_binary

from asyncmsgr.auth.base import AuthClient, ModeOptions
from asyncmsgr.auth.cephx import CephxClient, CryptoKey, Keyring
from asyncmsgr.auth.none import AuthNoneClient
from asyncmsgr.cli import ceph as ceph_cli
from asyncmsgr.config import MessengerConfig
from asyncmsgr.monc import client as monc_client
from asyncmsgr.monc import sync as monc_sync
from asyncmsgr.monc.client import MonAuthError, MonClient, MonClientOptions
from asyncmsgr.monc.sync import SyncMonClient
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType

pytestmark = [pytest.mark.interop, pytest.mark.timeout(90)]

FAST = MonClientOptions(hunt_interval=0.5, ping_interval=0.5, ping_timeout=3.0,
                        mount_timeout=20.0)
ADMIN = AuthName(EntityType.CLIENT, "admin")
WRONG_KEY = "AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkr0=="
SERVICES = (EntityType.AUTH, EntityType.MON, EntityType.OSD, EntityType.MGR)


def run(body: Callable[[], Coroutine[Any, Any, None]], timeout: float = 60.0) -> None:
    async def main() -> None:
        await asyncio.wait_for(body(), timeout)
    asyncio.run(main())


def make_auth(cluster: MonCluster, method: str) -> AuthClient:
    if method == "none":
        return AuthNoneClient(ADMIN, modes=ModeOptions(mon_client="crc"))
    key = Keyring.from_file(str(cluster.keyring_path)).get(ADMIN)
    assert key is not None
    return CephxClient(ADMIN, key, clock=time.time)


def addrs_of(cluster: MonCluster) -> list[EntityAddrVec]:
    return [EntityAddrVec.parse(a) for a in cluster.mon_addrs]


def v1_addr_of(cluster: MonCluster) -> str:
    """``v1:127.0.0.1:PORT`` of the first mon."""
    return f"v1:127.0.0.1:{cluster.mons[0].v1_port}"


_SESSIONS: list[bool] = []
"""``is_msgr2`` of every session ``asyncmsgr ceph`` opened during a test."""


class _RecordingMonClient(MonClient):
    """The MonClient ``asyncmsgr ceph`` builds (asyncio driver), noting protocols."""

    async def connect(self, timeout: float | None = None) -> None:
        await super().connect(timeout)
        con = self.active_connection
        assert con is not None
        _SESSIONS.append(con.is_msgr2)


class _RecordingSyncMonClient(SyncMonClient):
    """The SyncMonClient ``asyncmsgr ceph`` builds (default driver), noting protocols."""

    def connect(self, timeout: float | None = None) -> None:
        super().connect(timeout)
        _SESSIONS.append(self.is_msgr2)


class CliRunner:
    """``asyncmsgr ceph`` with one driver; :attr:`protocols` lists the sessions'."""

    def __init__(self, driver: ceph_cli.Driver) -> None:
        self.driver: ceph_cli.Driver = driver
        self.protocols = _SESSIONS

    def __call__(self, cluster: MonCluster, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        argv = ["-c", str(cluster.conf_path), "-k", str(cluster.keyring_path),
                "--connect-timeout", "20", *args]
        rc = ceph_cli.main(argv, {}, stdout=out, stderr=err, driver=self.driver)
        return rc, out.getvalue(), err.getvalue()


@pytest.fixture(params=["sync", "asyncio"])
def cli(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """``asyncmsgr ceph`` on each driver, recording the protocol of its sessions."""
    _SESSIONS.clear()
    monkeypatch.setattr(monc_client, "MonClient", _RecordingMonClient)
    monkeypatch.setattr(monc_sync, "SyncMonClient", _RecordingSyncMonClient)
    return CliRunner(request.param)


def run_cli(cluster: MonCluster, *args: str) -> tuple[int, str, str]:
    return CliRunner("sync")(cluster, *args)


def oracle_exit(cluster: MonCluster, *args: str) -> int:
    """The ``ceph`` CLI's exit status for ``args``."""
    try:
        cluster.ceph(*args)
    except CephCommandError as exc:
        return exc.returncode
    return 0


@pytest.fixture(scope="module")
def v1_cephx_only() -> Iterator[MonCluster]:
    """A v1-only, cephx-only mon whose service tickets last 4 s (this module's)."""
    if ceph_mon_binary() is None:
        pytest.skip("ceph-mon is not installed (apt-get install ceph-mon ceph-common)")
    cluster = MonCluster(num_mons=1, auth_none=False, msgr="v1",
                         extra_conf={"auth_service_ticket_ttl": "4"})
    cluster.start()
    try:
        cluster.wait_ready()
        yield cluster
    finally:
        cluster.stop()


# -- a v1-only monitor -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["cephx", "none"])
def test_v1_session_command_version_subscribe(ceph_mon_v1: MonCluster, method: str) -> None:
    async def body() -> None:
        auth = make_auth(ceph_mon_v1, method)
        monc = MonClient(addrs_of(ceph_mon_v1), auth_client=auth, options=FAST)
        await monc.connect()
        try:
            con = monc.active_connection
            assert con is not None
            assert not con.is_msgr2
            assert monc.global_id > 0
            assert str(monc.messenger.my_name) == f"client.{monc.global_id}"
            assert monc.monmap is not None
            assert str(monc.monmap.fsid) == ceph_mon_v1.fsid
            if isinstance(auth, CephxClient):  # tickets from the MAuth rounds
                assert auth.global_id == monc.global_id
                for service in SERVICES:
                    assert auth.ticket_for(service) is not None, service
            version = await monc.command({"prefix": "version", "format": "json"})
            assert version.r == 0
            assert version.json() == ceph_mon_v1.ceph_json("version")
            dump = await monc.command({"prefix": "mon dump", "format": "json"})
            assert dump.r == 0
            assert "dumped monmap epoch" in dump.rs
            got = json.loads(dump.outbuf)
            assert got["fsid"] == ceph_mon_v1.fsid
            assert [m["public_addrs"] for m in got["mons"]] == \
                [m["public_addrs"] for m in ceph_mon_v1.ceph_json("mon", "dump")["mons"]]  # type: ignore[index]
            assert (await monc.command({"prefix": "no such command"})).r == -22
            newest, _oldest = await monc.get_version("osdmap")
            assert newest >= 1
            monc.sub_want("osdmap", 0)
            monc.sub_want("config", 0)
            await monc.wait_for_map("osdmap", min_epoch=1, timeout=10)
            await monc.wait_for_map("config", timeout=10)
        finally:
            await monc.shutdown()
    run(body)


@pytest.mark.parametrize("auth", ["cephx", "none"])
@pytest.mark.parametrize("args", [["version"], ["mon", "dump"],
                                  ["mon", "dump", "--format", "json"]])
def test_v1_cli_output_equals_ceph(ceph_mon_v1: MonCluster, cli: CliRunner,
                                   auth: str, args: list[str]) -> None:
    rc, out, err = cli(ceph_mon_v1, f"--auth_client_required={auth}", *args)
    assert rc == 0, err
    oracle = ceph_mon_v1.ceph(*args)
    if args[-1] == "json":
        assert json.loads(out) == json.loads(oracle)
    else:
        assert out.strip() == oracle.strip()
    assert cli.protocols == [False]


def test_v1_cli_status_matches_ceph(ceph_mon_v1: MonCluster, cli: CliRunner) -> None:
    rc, out, err = cli(ceph_mon_v1, "status", "--format", "json")
    assert rc == 0, err
    got = json.loads(out)
    oracle = ceph_mon_v1.ceph_json("status")
    assert isinstance(oracle, dict)
    assert set(got) == set(oracle)
    for key in ("fsid", "quorum", "quorum_names", "monmap", "osdmap", "pgmap"):
        assert got[key] == oracle[key], key
    assert cli.protocols == [False]


def test_v1_plain_ip_port_mon_host(ceph_mon_v1: MonCluster, cli: CliRunner) -> None:
    """``-m 127.0.0.1:PORT`` (Ceph's rules: v2 and v1 on that port): the v2 attempt
    fails on the v1 port, hunting ends on v1."""
    port = ceph_mon_v1.mons[0].v1_port
    rc, out, err = cli(ceph_mon_v1, "-m", f"127.0.0.1:{port}",
                       "--mon_client_hunt_interval=0.5", "version")
    assert rc == 0, err
    assert out.strip() == ceph_mon_v1.ceph("version").strip()
    assert cli.protocols == [False]


def test_v1_wrong_key(ceph_mon_v1: MonCluster) -> None:
    async def body() -> None:
        auth = CephxClient(ADMIN, CryptoKey.from_base64(WRONG_KEY), clock=time.time)
        monc = MonClient(addrs_of(ceph_mon_v1), auth_client=auth, options=FAST)
        try:
            start = time.monotonic()
            with pytest.raises(MonAuthError, match=r"client\.admin") as info:
                await monc.connect()
            assert time.monotonic() - start < 5
            assert info.value.result == -13  # Pacific's mon: EACCES in the MAuthReply
            assert info.value.msgr_v1
            assert monc.active_connection is None
        finally:
            await monc.shutdown()
    run(body)
    args = ("--key", WRONG_KEY, "--auth_client_required=cephx", "status")
    rc, _out, err = run_cli(ceph_mon_v1, *args)
    assert rc == 13
    assert "[errno 13] RADOS permission denied (error connecting to the cluster)" in err
    assert oracle_exit(ceph_mon_v1, *args) == rc


# -- a v1-only cephx-only monitor ------------------------------------------------------


def test_v1_ticket_renewal(v1_cephx_only: MonCluster) -> None:
    """4 s service tickets: renewed over the v1 session with MAuth before they expire."""
    async def body() -> None:
        auth = make_auth(v1_cephx_only, "cephx")
        assert isinstance(auth, CephxClient)
        monc = MonClient(addrs_of(v1_cephx_only), auth_client=auth, options=FAST)
        await monc.connect()
        try:
            assert monc.active_connection is not None
            assert not monc.active_connection.is_msgr2
            first = auth.tickets[EntityType.OSD].expires
            async with asyncio.timeout(20):
                while auth.tickets[EntityType.OSD].expires == first:
                    await asyncio.sleep(0.1)  # renewal reports no event: poll
            assert monc.renewals >= 1
            assert monc.sessions == 1
            assert auth.tickets[EntityType.OSD].expires > first
            assert (await monc.command({"prefix": "health"})).r == 0
        finally:
            await monc.shutdown()
    run(body)


def test_v1_auth_none_refused_by_cephx_only_mon(v1_cephx_only: MonCluster) -> None:
    async def body() -> None:
        monc = MonClient(addrs_of(v1_cephx_only),
                         auth_client=make_auth(v1_cephx_only, "none"), options=FAST)
        try:
            with pytest.raises(MonAuthError) as info:
                await monc.connect()
            assert info.value.result == -95  # the mon's EOPNOTSUPP, as librados gets it
            assert info.value.msgr_v1
        finally:
            await monc.shutdown()
    run(body)
    rc, _out, err = run_cli(v1_cephx_only, "--auth_client_required=none", "status")
    assert rc == 1, err
    assert "[errno 95] error connecting to the cluster" in err
    assert oracle_exit(v1_cephx_only, "--auth_client_required=none", "status") == rc


def test_v1_mon_restart_reclaims_global_id(v1_cephx_only: MonCluster) -> None:
    """The mon dies and comes back: the client hunts again over v1, reclaims its
    global_id with the old AUTH ticket and the next command succeeds."""
    async def body() -> None:
        auth = make_auth(v1_cephx_only, "cephx")
        monc = MonClient(addrs_of(v1_cephx_only), auth_client=auth, options=FAST)
        await monc.connect()
        try:
            assert (await monc.command({"prefix": "health"})).r == 0
            first_gid = monc.global_id
            await asyncio.to_thread(v1_cephx_only.kill, "a")
            await asyncio.to_thread(v1_cephx_only.restart, "a")
            await asyncio.to_thread(v1_cephx_only.wait_ready)
            res = await monc.command({"prefix": "health", "format": "json"}, timeout=30)
            assert res.r == 0
            assert monc.sessions >= 2
            assert monc.global_id == first_gid
            con = monc.active_connection
            assert con is not None
            assert not con.is_msgr2
        finally:
            await monc.shutdown()
    run(body, timeout=80)


# -- a dual (v2+v1) monitor over v1 ----------------------------------------------------


@pytest.mark.parametrize("method", ["cephx", "none"])
@pytest.mark.parametrize("how", ["v1-address", "forced-v1"])
def test_dual_mon_over_v1(ceph_mon: MonCluster, method: str, how: str) -> None:
    async def body() -> None:
        if how == "v1-address":
            addrs = [EntityAddrVec.parse(v1_addr_of(ceph_mon))]
            config = None
        else:
            addrs = addrs_of(ceph_mon)
            assert addrs[0].msgr2_addr is not None
            config = MessengerConfig(asyncmsgr_connect_msgr="v1")
        auth = make_auth(ceph_mon, method)
        monc = MonClient(addrs, auth_client=auth, options=FAST, config=config)
        await monc.connect()
        try:
            con = monc.active_connection
            assert con is not None
            assert not con.is_msgr2
            if isinstance(auth, CephxClient):
                for service in SERVICES:
                    assert auth.ticket_for(service) is not None, service
            version = await monc.command({"prefix": "version", "format": "json"})
            assert version.json() == ceph_mon.ceph_json("version")
            status = await monc.command({"prefix": "status", "format": "json"})
            assert status.json()["fsid"] == ceph_mon.fsid
        finally:
            await monc.shutdown()
    run(body)


@pytest.mark.parametrize("args", [["version"], ["mon", "dump"]])
@pytest.mark.parametrize("how", ["v1-address", "forced-v1"])
def test_dual_mon_cli_over_v1(ceph_mon: MonCluster, cli: CliRunner,
                              args: list[str], how: str) -> None:
    select = (["-m", v1_addr_of(ceph_mon)] if how == "v1-address"
              else ["--asyncmsgr_connect_msgr=v1"])
    rc, out, err = cli(ceph_mon, *select, *args)
    assert rc == 0, err
    assert out.strip() == ceph_mon.ceph(*args).strip()
    assert cli.protocols == [False]
