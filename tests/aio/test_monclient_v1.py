"""MonClient over msgr v1 against in-process fake monitors (asyncmsgr.testing.fake_mon).

Over v1 the client connects without an authorizer and authenticates with MAuth /
MAuthReply before anything else (auth none, or cephx with its service tickets);
these tests check that exchange, the session built on it (commands, versions,
subscriptions), ticket renewal, refusals as MonAuthError, hunting and failover,
and the choice of protocol for dual (v2+v1) monitors. The same client against a
real v1-only Pacific monitor is in tests/interop/test_monclient_v1_real.py.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_mon_cli import conf_file, describe_commands
from msgr_harness import run

from asyncmsgr.auth.base import AuthServer, ModeOptions
from asyncmsgr.auth.cephx import CephxAuthServer, CephxClient, CryptoKey, Keyring, KeyServer
from asyncmsgr.auth.none import AuthNoneClient
from asyncmsgr.cli import ceph as ceph_cli
from asyncmsgr.config import MessengerConfig
from asyncmsgr.frames.v2 import AUTH_CEPHX, AUTH_NONE
from asyncmsgr.messenger import Messenger
from asyncmsgr.monc.client import MonAuthError, MonClient, MonClientOptions
from asyncmsgr.monc.conf import ConfEnv, load_client_settings
from asyncmsgr.testing.dummy_auth import DummyAuthClient, DummyAuthServer
from asyncmsgr.testing.fake_mon import FAKE_VERSION, FakeMonCluster
from asyncmsgr.types import AuthName, EntityAddrVec, EntityName, EntityType

FAST = MonClientOptions(hunt_interval=0.3, ping_interval=0.1, ping_timeout=0.6,
                        mount_timeout=5.0)
ADMIN = AuthName(EntityType.CLIENT, "admin")
ADMIN_KEY = CryptoKey.from_base64("AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==")
WRONG_KEY = CryptoKey.aes(bytes(range(16)))
KEYRING = Keyring.from_text(f"""
[client.admin]
    key = {ADMIN_KEY.to_base64()}
    caps mon = "allow *"
    caps osd = "allow *"
""")
AUTH = int(EntityType.AUTH)
SERVICES = (int(EntityType.MON), int(EntityType.OSD), int(EntityType.MGR))


def _none() -> AuthNoneClient:
    return AuthNoneClient(ADMIN, modes=ModeOptions(mon_client="crc"))


def _cephx(key: CryptoKey = ADMIN_KEY, methods: tuple[int, ...] = (AUTH_CEPHX,)
           ) -> CephxClient:
    return CephxClient(ADMIN, key, clock=time.time, methods=methods)


def _cephx_mons(ks: KeyServer, methods: tuple[int, ...] = (AUTH_CEPHX,)
                ) -> Callable[[], AuthServer]:
    """Mon auth servers sharing ``ks``; each mon numbers global_ids from its own
    base (10000, 20000, ...) so a global_id tells which mon assigned it."""
    bases = itertools.count(10000, 10000)

    def make() -> AuthServer:
        return CephxAuthServer(ks, AuthName(EntityType.MON, "a"), time.time, role="mon",
                               methods=methods, rng=random.Random(7),
                               _global_ids=itertools.count(next(bases)))
    return make


def _key_server(service_ticket_ttl: float = 3600.0) -> KeyServer:
    return KeyServer(KEYRING, clock=time.time, auth_service_ticket_ttl=service_ticket_ttl)


def _v1_only(addrs: list[EntityAddrVec]) -> list[EntityAddrVec]:
    """Only the v1 address of each monitor (as ``-m v1:IP:PORT`` gives)."""
    out = []
    for av in addrs:
        legacy = av.legacy_addr
        assert legacy is not None
        out.append(EntityAddrVec((legacy,)))
    return out


def test_auth_none_command_version_subscribe() -> None:
    async def body() -> None:
        async with FakeMonCluster(1, msgr="v1") as cluster:
            mon = cluster.mons[0]
            assert mon.addrs.msgr2_addr is None
            monc = MonClient(cluster.addrs, auth_client=_none(), options=FAST)
            await monc.connect()
            try:
                con = monc.active_connection
                assert con is not None
                assert not con.is_msgr2
                assert mon.mauths == [(0, 0)]  # MAuth(protocol 0) → MAuthReply(none)
                assert monc.global_id >= 8192  # assigned in the MAuthReply
                assert str(monc.messenger.my_name) == f"client.{monc.global_id}"
                assert monc.monmap is not None
                assert monc.monmap.fsid == cluster.fsid
                res = await monc.command({"prefix": "version", "format": "json"})
                assert res.r == 0
                assert res.json() == {"version": FAKE_VERSION}
                res = await monc.command('{"prefix": "nope"}')
                assert res.r == -22
                assert await monc.get_version("osdmap") == (1, 1)
                mon.config["debug_ms"] = "1"
                monc.sub_want("config")
                await monc.wait_for_map("config", timeout=5)
                assert monc.config_values == {"debug_ms": "1"}
                assert mon.dropped == 0, "nothing may be sent before MAuth completes"
            finally:
                await monc.shutdown()
    run(body)


@pytest.mark.parametrize("msgr", ["v1", "v2"])
def test_cephx_gets_service_tickets(msgr: str) -> None:
    """cephx over v1 (MAuth rounds) ends like msgr2: AUTH, MON, OSD and MGR tickets
    for the global_id of the session, and commands work."""
    async def body() -> None:
        ks = _key_server()
        async with FakeMonCluster(1, msgr="v1" if msgr == "v1" else "v2",
                                  auth_server_factory=_cephx_mons(ks)) as cluster:
            auth = _cephx()
            monc = MonClient(cluster.addrs, auth_client=auth, options=FAST)
            await monc.connect()
            try:
                con = monc.active_connection
                assert con is not None
                assert con.is_msgr2 == (msgr == "v2")
                assert monc.global_id == auth.global_id == 10000
                for service in (AUTH, *SERVICES):
                    assert auth.ticket_for(service) is not None, service
                info = ks.decode_ticket(AUTH, auth.tickets[AUTH].ticket)
                assert info.ticket.global_id == monc.global_id
                assert info.ticket.name == ADMIN
                mauths = cluster.mons[0].mauths
                if msgr == "v1":  # hello, then GET_AUTH_SESSION_KEY with other_keys
                    assert mauths == [(0, 0), (AUTH_CEPHX, 0)]
                else:
                    assert mauths == []
                res = await monc.command({"prefix": "status"})
                assert res.r == 0
                assert res.json()["fsid"] == str(cluster.fsid)
            finally:
                await monc.shutdown()
    run(body)


def test_cephx_ticket_renewal_over_v1() -> None:
    """Service tickets of 1 s: renewed over the v1 session with MAuth before they
    expire, on the same session."""
    async def body() -> None:
        ks = _key_server(service_ticket_ttl=1.0)
        async with FakeMonCluster(1, msgr="v1", auth_server_factory=_cephx_mons(ks)) as cluster:
            auth = _cephx()
            monc = MonClient(cluster.addrs, auth_client=auth, options=FAST)
            await monc.connect()
            try:
                first = auth.tickets[EntityType.OSD].expires
                async with asyncio.timeout(10):
                    while auth.tickets[EntityType.OSD].expires == first:
                        await asyncio.sleep(0.05)  # renewal reports no event: poll
                assert monc.renewals >= 1
                assert monc.sessions == 1
                renewals = cluster.mons[0].mauths[2:]
                assert renewals
                assert all(r == (AUTH_CEPHX, 0) for r in renewals)
                assert (await monc.command({"prefix": "health"})).r == 0
            finally:
                await monc.shutdown()
    run(body, timeout=30)


def test_parallel_hunt_adopts_the_winners_cephx_state() -> None:
    """Three v1 mons dialled at once: each exchange has its own cephx state, none is
    refused, and the client ends with the winner's global_id and tickets."""
    async def body() -> None:
        ks = _key_server()
        async with FakeMonCluster(3, msgr="v1", auth_server_factory=_cephx_mons(ks)) as cluster:
            for seed in range(3):
                auth = _cephx()
                opts = MonClientOptions(hunt_interval=2.0, hunt_parallel=3, mount_timeout=5)
                monc = MonClient(cluster.addrs, auth_client=auth, options=opts,
                                 rng=random.Random(seed))
                await monc.connect()
                try:
                    con = monc.active_connection
                    assert con is not None
                    rank = next(m.rank for m in cluster.mons if m.addrs == con.peer_addrs)
                    assert monc.global_id // 10000 == rank + 1, "the winner's global_id"
                    assert auth.global_id == monc.global_id
                    for service in (AUTH, *SERVICES):
                        t = auth.ticket_for(service)
                        assert t is not None
                        assert ks.decode_ticket(service, t.ticket).ticket.global_id == \
                            monc.global_id
                    assert auth.last_error is None
                    assert monc.hunts == 1
                    assert (await monc.command({"prefix": "health"})).r == 0
                finally:
                    await monc.shutdown()
            for mon in cluster.mons:
                assert all(result == 0 for _, result in mon.mauths), mon.mauths
    run(body, timeout=30)


def test_wrong_key_is_mon_auth_error() -> None:
    async def body() -> None:
        ks = _key_server()
        async with FakeMonCluster(2, msgr="v1", auth_server_factory=_cephx_mons(ks)) as cluster:
            auth = _cephx(WRONG_KEY)
            monc = MonClient(cluster.addrs, auth_client=auth, options=FAST)
            try:
                with pytest.raises(MonAuthError, match=r"client\.admin") as info:
                    await monc.connect()
                assert info.value.result == -13  # EACCES, as a Pacific mon answers
                assert info.value.msgr_v1
                assert monc.hunts == 1, "both mons refused in the first round"
                assert monc.active_connection is None
                with pytest.raises(MonAuthError):  # a second attempt hunts again
                    await monc.connect()
                assert monc.hunts == 2
            finally:
                await monc.shutdown()
            for mon in cluster.mons:
                assert mon.dropped == 0
    run(body)


@pytest.mark.parametrize("client", ["cephx-only", "dummy"])
def test_no_common_method_is_mon_auth_error(client: str) -> None:
    """An auth-none monitor: a cephx-only client is refused with -EOPNOTSUPP; a
    client that cannot speak MAuth at all fails the same way without a reply."""
    async def body() -> None:
        async with FakeMonCluster(1, msgr="v1") as cluster:
            auth = _cephx() if client == "cephx-only" else DummyAuthClient()
            monc = MonClient(cluster.addrs, auth_client=auth, options=FAST)
            try:
                with pytest.raises(MonAuthError) as info:
                    await monc.connect()
                assert info.value.result == -95
                assert info.value.msgr_v1
                expected = [(0, -95)] if client == "cephx-only" else []
                assert cluster.mons[0].mauths == expected
            finally:
                await monc.shutdown()
    run(body)


def test_cephx_client_accepting_none() -> None:
    """A cephx client that also allows none, against an auth-none monitor."""
    async def body() -> None:
        async with FakeMonCluster(1, msgr="v1") as cluster:
            auth = _cephx(methods=(AUTH_CEPHX, AUTH_NONE))
            monc = MonClient(cluster.addrs, auth_client=auth, options=FAST)
            await monc.connect()
            try:
                assert monc.global_id == auth.global_id >= 8192
                assert not auth.tickets
                assert (await monc.command({"prefix": "status"})).r == 0
            finally:
                await monc.shutdown()
    run(body)


def test_v1_refusal_does_not_end_a_hunt_a_v2_mon_can_win() -> None:
    """A client that cannot authenticate over v1 hunts a v1 mon and a v2 mon that
    accepts its method, in either order: the v1 refusal alone is no MonAuthError."""
    async def body() -> None:
        async with FakeMonCluster(1, msgr="v1") as v1, \
                FakeMonCluster(1, msgr="v2", auth_server_factory=DummyAuthServer) as v2:
            for seed in range(4):
                opts = MonClientOptions(hunt_interval=2.0, hunt_parallel=2, mount_timeout=5)
                monc = MonClient([*v1.addrs, *v2.addrs], auth_client=DummyAuthClient(),
                                 options=opts, rng=random.Random(seed))
                await monc.connect()
                try:
                    con = monc.active_connection
                    assert con is not None
                    assert con.is_msgr2
                    assert monc.hunts == 1
                finally:
                    await monc.shutdown()
            assert v1.mons[0].mauths == []
    run(body)


def test_failover_over_v1() -> None:
    """The session's v1 mon stops: the client hunts to the other, authenticates
    there with MAuth and the command goes through."""
    async def body() -> None:
        ks = _key_server()
        async with FakeMonCluster(2, msgr="v1", auth_server_factory=_cephx_mons(ks)) as cluster:
            auth = _cephx()
            monc = MonClient(cluster.addrs, auth_client=auth, options=FAST)
            await monc.connect()
            try:
                first = monc.active_connection
                assert first is not None
                victim = next(m for m in cluster.mons if m.addrs == first.peer_addrs)
                survivor = next(m for m in cluster.mons if m is not victim)
                await victim.stop()
                res = await monc.command({"prefix": "status"}, timeout=10)
                assert res.r == 0
                con = monc.active_connection
                assert con is not None
                assert con.peer_addrs == survivor.addrs
                assert not con.is_msgr2
                assert monc.sessions == 2
                assert (0, 0) in survivor.mauths
                # the new session reclaimed the global_id with the old AUTH ticket
                assert auth.global_id == monc.global_id
            finally:
                await monc.shutdown()
    run(body, timeout=30)


def test_keepalive_timeout_over_v1() -> None:
    """A stalled v1 mon (no keepalive acks): the client hunts to the other one."""
    async def body() -> None:
        async with FakeMonCluster(2, msgr="v1") as cluster:
            monc = MonClient(cluster.addrs, auth_client=_none(), options=FAST)
            await monc.connect()
            try:
                first = monc.active_connection
                assert first is not None
                victim = next(m for m in cluster.mons if m.addrs == first.peer_addrs)
                victim.freeze()
                res = await monc.command({"prefix": "health"}, timeout=10)
                assert res.r == 0
                assert monc.sessions == 2
                con = monc.active_connection
                assert con is not None
                assert con.peer_addrs != victim.addrs
                assert not con.is_msgr2
            finally:
                await monc.shutdown()
    run(body, timeout=30)


@pytest.mark.parametrize(("connect_msgr", "only_v1", "want_v2"),
                         [("auto", False, True), ("v1", False, False),
                          ("auto", True, False), ("v2", False, True)])
def test_dual_monitor_protocol_choice(connect_msgr: str, only_v1: bool,
                                      want_v2: bool) -> None:
    """A v2+v1 monitor is dialled with msgr2 unless the config forces v1 or only
    its v1 address is known."""
    async def body() -> None:
        ks = _key_server()
        async with FakeMonCluster(1, msgr="v2+v1", auth_server_factory=_cephx_mons(ks)) \
                as cluster:
            addrs = _v1_only(cluster.addrs) if only_v1 else cluster.addrs
            monc = MonClient(addrs, auth_client=_cephx(), options=FAST,
                             config=MessengerConfig(asyncmsgr_connect_msgr=connect_msgr))
            await monc.connect()
            try:
                con = monc.active_connection
                assert con is not None
                assert con.is_msgr2 == want_v2
                assert bool(cluster.mons[0].mauths) == (not want_v2)
                assert (await monc.command({"prefix": "version"})).r == 0
            finally:
                await monc.shutdown()
    run(body)


def test_forced_v2_with_v1_only_monitors_fails_fast() -> None:
    async def body() -> None:
        async with FakeMonCluster(1, msgr="v1") as cluster:
            monc = MonClient(cluster.addrs, auth_client=_none(), options=FAST,
                             config=MessengerConfig(asyncmsgr_connect_msgr="v2"))
            try:
                with pytest.raises(MonAuthError, match="no monitor address"):
                    await monc.connect()
                assert cluster.mons[0].mauths == []
            finally:
                await monc.shutdown()
    run(body)


def test_threaded_messenger_over_v1() -> None:
    """Worker threads: MAuth replies and the session hop to the client's loop."""
    async def body() -> None:
        ks = _key_server()
        async with FakeMonCluster(1, msgr="v1", auth_server_factory=_cephx_mons(ks)) as cluster:
            monc = MonClient(cluster.addrs, auth_client=_cephx(), options=FAST,
                             config=MessengerConfig(asyncmsgr_embedded=False))
            await monc.connect()
            try:
                res = await monc.command({"prefix": "status"})
                assert res.r == 0
                assert res.json()["fsid"] == str(cluster.fsid)
            finally:
                await monc.shutdown()
    run(body)


# -- asyncmsgr ceph --------------------------------------------------------------------


async def _cli(cluster: FakeMonCluster, *argv: str) -> tuple[int, str, str]:
    """``asyncmsgr ceph ARGV`` on a thread (it runs its own loop), against the fake
    mons of ``cluster`` (which describe their commands; an empty ceph.conf, the
    monitors come from ``-m``)."""
    describe_commands(cluster)
    with tempfile.TemporaryDirectory() as tmp:
        conf = conf_file(Path(tmp))
        out, err = io.StringIO(), io.StringIO()
        rc = await asyncio.to_thread(ceph_cli.main, ["--connect-timeout", "10", *argv],
                                     {"CEPH_CONF": str(conf)}, stdout=out, stderr=err)
    return rc, out.getvalue(), err.getvalue()


def test_mon_host_rules_pick_v1() -> None:
    """``-m v1:IP:PORT`` and ``-m IP:6789`` give v1-only monitors, dialled with v1."""
    env = ConfEnv(environ={"CEPH_CONF": "/nonexistent"}, read_file=lambda _p: None)
    msgr = Messenger.create(EntityName(EntityType.CLIENT, -1))
    for mon_host in ("v1:127.0.0.1:7000", "127.0.0.1:6789", "127.0.0.1:6789,v1:10.0.0.1"):
        settings = load_client_settings(["-m", mon_host], env=env)
        assert settings.mon_addrs
        for av in settings.mon_addrs:
            assert av.msgr2_addr is None, (mon_host, av)
            assert msgr.pick_target(av)[1] == 1, (mon_host, av)


@pytest.mark.parametrize("form", ["v1-addr", "plain-ip-port"])
def test_cli_with_v1_only_mon_host(form: str) -> None:
    """``-m v1:IP:PORT``, and ``-m IP:PORT`` (Ceph's rules: v2 and v1 on that port;
    the v2 attempt fails on the v1 port and hunting finds the v1 one)."""
    async def body() -> None:
        ks = _key_server()
        async with FakeMonCluster(1, msgr="v1", auth_server_factory=_cephx_mons(ks)) as cluster:
            legacy = cluster.addrs[0].legacy_addr
            assert legacy is not None
            mon_host = (f"v1:127.0.0.1:{legacy.port}" if form == "v1-addr"
                        else f"127.0.0.1:{legacy.port}")
            rc, out, err = await _cli(cluster, "-m", mon_host, "--key", ADMIN_KEY.to_base64(),
                                      "--mon_client_hunt_interval=0.5",
                                      "version", "--format", "json")
            assert rc == 0, err
            assert json.loads(out) == {"version": FAKE_VERSION}
            assert cluster.mons[0].mauths[:2] == [(0, 0), (AUTH_CEPHX, 0)]
            rc, out, err = await _cli(cluster, "-m", mon_host, "--key", ADMIN_KEY.to_base64(),
                                      "--mon_client_hunt_interval=0.5", "mon", "dump")
            assert rc == 0, err
            assert "dumped monmap epoch 1" in err
    run(body, timeout=40)


def test_cli_forced_v1_and_auth_none_on_a_dual_mon() -> None:
    async def body() -> None:
        async with FakeMonCluster(1, msgr="v2+v1") as cluster:
            rc, out, err = await _cli(cluster, "-m", str(cluster.addrs[0]),
                                      "--asyncmsgr_connect_msgr=v1",
                                      "--auth_client_required=none", "status")
            assert rc == 0, err
            assert json.loads(out)["fsid"] == str(cluster.fsid)
            assert cluster.mons[0].mauths == [(0, 0)], "the session ran over v1"
    run(body)


def test_cli_wrong_key_over_v1_exits_13() -> None:
    async def body() -> None:
        ks = _key_server()
        async with FakeMonCluster(1, msgr="v1", auth_server_factory=_cephx_mons(ks)) as cluster:
            rc, _out, err = await _cli(cluster, "-m", str(cluster.addrs[0]),
                                       "--key", WRONG_KEY.to_base64(), "status")
            assert rc == 13
            assert "[errno 13] RADOS permission denied (error connecting to the cluster)" in err
            assert cluster.mons[0].mauths == [(0, 0), (AUTH_CEPHX, -13)]
    run(body)


def test_cli_no_common_method_over_v1_exits_1() -> None:
    """As ``ceph`` against a v1 mon: the mon's EOPNOTSUPP is printed, exit status 1
    (over msgr2 ``ceph`` reports EACCES and exits 13)."""
    async def body() -> None:
        async with FakeMonCluster(1, msgr="v1") as cluster:
            rc, _out, err = await _cli(cluster, "-m", str(cluster.addrs[0]), "--key",
                                       ADMIN_KEY.to_base64(), "--auth_client_required=cephx",
                                       "status")
            assert rc == 1
            assert "[errno 95] error connecting to the cluster" in err
            assert cluster.mons[0].mauths == [(0, -95)]
    run(body)
