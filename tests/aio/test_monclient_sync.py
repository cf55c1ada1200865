"""SyncMonClient (the blocking one-shot driver of asyncmsgr ceph) against fake mons.

The fake monitors (asyncmsgr.testing.fake_mon) run on this test's event loop; the
blocking client runs on a thread (``asyncio.to_thread``). Covered: sessions over
msgr2 (auth none, cephx in crc and secure mode) and msgr v1, commands and
versions, hunting past a monitor that never answers, failover of an established
session with the command re-sent, refusals (MonAuthError), no monitor answering
(MonTimeout), a command timeout, and that ``asyncmsgr ceph`` on this path imports
neither asyncio nor the messenger. The same client against real Pacific monitors
runs in tests/interop/ (test_ceph_cli.py, test_monclient_v1_real.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from msgr_harness import run

from asyncmsgr.auth.base import AuthClient, AuthServer, ModeOptions
from asyncmsgr.auth.cephx import CephxAuthServer, CephxClient, CryptoKey, Keyring, KeyServer
from asyncmsgr.auth.none import AuthNoneClient
from asyncmsgr.config import MessengerConfig
from asyncmsgr.frames.v2 import AUTH_CEPHX, CON_MODE_CRC, CON_MODE_SECURE
from asyncmsgr.monc.core import MonAuthError, MonClientClosed, MonClientOptions, MonTimeout
from asyncmsgr.monc.sync import LOSSY_CLIENT, SyncMonClient
from asyncmsgr.policy import Policy
from asyncmsgr.testing.fake_mon import FAKE_VERSION, FakeMonCluster
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType

FAST = MonClientOptions(hunt_interval=0.3, hunt_parallel=1, ping_interval=0.2,
                        ping_timeout=2.0, mount_timeout=5.0)
ADMIN = AuthName(EntityType.CLIENT, "admin")
ADMIN_KEY = CryptoKey.from_base64("AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==")
WRONG_KEY = CryptoKey.aes(bytes(range(16)))
KEYRING = Keyring.from_text(f"""
[client.admin]
    key = {ADMIN_KEY.to_base64()}
    caps mon = "allow *"
""")


def _none() -> AuthNoneClient:
    return AuthNoneClient(ADMIN, modes=ModeOptions(mon_client="crc"))


def _cephx(key: CryptoKey = ADMIN_KEY, mode: str = "secure crc") -> CephxClient:
    return CephxClient(ADMIN, key, clock=time.time, modes=ModeOptions(mon_client=mode),
                       methods=(AUTH_CEPHX,))


def _cephx_mons() -> Callable[[], AuthServer]:
    ks = KeyServer(KEYRING, clock=time.time)
    ids = itertools.count(10000, 10000)

    def make() -> AuthServer:
        return CephxAuthServer(ks, AuthName(EntityType.MON, "a"), time.time, role="mon",
                               methods=(AUTH_CEPHX,), rng=random.Random(7),
                               _global_ids=itertools.count(next(ids)))
    return make


def _client(addrs: list[EntityAddrVec], auth: AuthClient, **kw: object) -> SyncMonClient:
    options = kw.pop("options", FAST)
    assert isinstance(options, MonClientOptions)
    rng = kw.pop("rng", None)
    assert rng is None or isinstance(rng, random.Random)
    config = kw.pop("config", None)
    assert config is None or isinstance(config, MessengerConfig)
    assert not kw
    return SyncMonClient(addrs, auth_client=auth, options=options, rng=rng, config=config)


@contextmanager
def _silent_listener() -> Iterator[EntityAddrVec]:
    """A msgr2 address that accepts TCP connections and never says a word."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield EntityAddrVec.parse(f"v2:127.0.0.1:{s.getsockname()[1]}")


def _dead_addr() -> EntityAddrVec:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return EntityAddrVec.parse(f"v2:127.0.0.1:{port}")


def _rng_picking_first(candidates: list[EntityAddrVec], first: EntityAddrVec) -> random.Random:
    """A seeded rng whose first shuffle of ``candidates`` puts ``first`` first."""
    for seed in range(1000):
        trial = list(candidates)
        random.Random(seed).shuffle(trial)
        if trial[0] == first:
            return random.Random(seed)
    raise AssertionError("no seed found")


def test_policy_is_the_messengers_lossy_client() -> None:
    want = Policy.lossy_client()
    for name in ("lossy", "server", "standby", "resetcheck", "register_lossy_clients",
                 "features_supported", "features_required", "throttler_bytes",
                 "throttler_messages"):
        assert getattr(LOSSY_CLIENT, name) == getattr(want, name), name


def test_session_command_and_version_auth_none() -> None:
    async def body() -> None:
        async with FakeMonCluster(1) as cluster:
            def client_side() -> None:
                with _client(cluster.addrs, _none()) as monc:
                    monc.connect()
                    assert monc.is_connected
                    assert monc.is_msgr2
                    assert monc.connection_mode == CON_MODE_CRC
                    assert monc.monmap is not None
                    assert monc.monmap.fsid == cluster.fsid
                    assert monc.global_id > 0
                    res = monc.command({"prefix": "version", "format": "json"})
                    assert res.r == 0
                    assert res.json() == {"version": FAKE_VERSION}
                    bad = monc.command('{"prefix": "nope"}')
                    assert bad.r == -22
                    assert monc.get_version("osdmap") == (1, 1)
            await asyncio.to_thread(client_side)
            assert cluster.mons[0].commands[-1] == ['{"prefix": "nope"}']
    run(body)


@pytest.mark.parametrize(("mode", "want"), [("secure", CON_MODE_SECURE), ("crc", CON_MODE_CRC)])
def test_cephx_session_in_each_mode(mode: str, want: int) -> None:
    async def body() -> None:
        async with FakeMonCluster(1, auth_server_factory=_cephx_mons()) as cluster:
            def client_side() -> None:
                with _client(cluster.addrs, _cephx(mode=mode)) as monc:
                    monc.connect()
                    assert monc.connection_mode == want
                    assert monc.global_id == 10000
                    res = monc.command({"prefix": "status"})
                    assert res.json()["fsid"] == str(cluster.fsid)
            await asyncio.to_thread(client_side)
    run(body)


@pytest.mark.parametrize("method", ["cephx", "none"])
def test_v1_only_monitor(method: str) -> None:
    async def body() -> None:
        factory = _cephx_mons() if method == "cephx" else None
        async with FakeMonCluster(1, msgr="v1", auth_server_factory=factory) as cluster:
            def client_side() -> None:
                auth = _cephx() if method == "cephx" else _none()
                with _client(cluster.addrs, auth) as monc:
                    monc.connect()
                    assert monc.is_connected
                    assert not monc.is_msgr2
                    res = monc.command({"prefix": "version"})
                    assert res.json() == {"version": FAKE_VERSION}
            await asyncio.to_thread(client_side)
            protocols = [p for p, _r in cluster.mons[0].mauths]
            assert protocols[0] == 0, "MAuth(protocol 0) opened the v1 session"
    run(body)


def test_hunting_fails_over_past_a_silent_monitor() -> None:
    """parallel 1, the silent one dialled first: its round times out, the next
    round (avoiding it) reaches the real monitor."""
    async def body() -> None:
        async with FakeMonCluster(1) as cluster:
            with _silent_listener() as silent:
                addrs = [silent, cluster.addrs[0]]
                rng = _rng_picking_first(addrs, silent)

                def client_side() -> None:
                    with _client(addrs, _none(), rng=rng) as monc:
                        began = time.monotonic()
                        monc.connect(5.0)
                        assert time.monotonic() - began >= FAST.hunt_interval
                        assert monc.core.hunts >= 2
                        assert monc.active_target == cluster.addrs[0].msgr2_addr
                        assert monc.command({"prefix": "status"}).r == 0
                await asyncio.to_thread(client_side)
    run(body)


def test_session_failover_resends_the_command() -> None:
    """The session's monitor goes away: the client hunts, reaches the other one
    and the command is answered there."""
    async def body() -> None:
        async with FakeMonCluster(2) as cluster:
            loop = asyncio.get_running_loop()

            def client_side() -> None:
                options = FAST.replace(hunt_parallel=2)
                with _client(cluster.addrs, _none(), options=options) as monc:
                    monc.connect()
                    first = monc.active_target
                    victim = next(m for m in cluster.mons if m.addrs.msgr2_addr == first)
                    asyncio.run_coroutine_threadsafe(victim.stop(), loop).result(10)
                    res = monc.command({"prefix": "status"}, timeout=10)
                    assert res.r == 0
                    assert monc.active_target != first
                    assert monc.core.sessions == 2
            await asyncio.to_thread(client_side)
    run(body, timeout=40)


def test_wrong_key_is_refused_over_msgr2_and_v1() -> None:
    async def body() -> None:
        for msgr in ("v2", "v1"):
            async with FakeMonCluster(1, msgr=msgr, auth_server_factory=_cephx_mons()) as c:
                def client_side(cluster: FakeMonCluster = c) -> None:
                    with _client(cluster.addrs, _cephx(WRONG_KEY)) as monc, \
                            pytest.raises(MonAuthError) as info:
                        monc.connect()
                    assert info.value.result in (-1, -13)
                await asyncio.to_thread(client_side)
    run(body)


def test_no_monitor_answers() -> None:
    def client_side() -> None:
        with _client([_dead_addr()], _none()) as monc:
            began = time.monotonic()
            with pytest.raises(MonTimeout):
                monc.connect(0.5)
            assert 0.5 <= time.monotonic() - began < 3.0
    client_side()


def test_command_timeout_and_closed_client() -> None:
    async def body() -> None:
        async with FakeMonCluster(1) as cluster:
            def client_side() -> None:
                monc = _client(cluster.addrs, _none())
                monc.connect()
                cluster.mons[0].freeze()
                try:
                    with pytest.raises(MonTimeout):
                        monc.command({"prefix": "status"}, timeout=0.3)
                    assert not monc.core.requests
                finally:
                    cluster.mons[0].thaw()
                monc.close()
                with pytest.raises(MonClientClosed):
                    monc.command({"prefix": "status"})
            await asyncio.to_thread(client_side)
    run(body)


# -- asyncmsgr ceph on this path: what it imports ----------------------------------


_VERSION_DESCRIPTIONS = json.dumps({"cmd000": {
    "sig": ["version"], "help": "show mon daemon version", "module": "mon", "perm": "r",
    "flags": 0}})


def test_cli_imports_neither_asyncio_nor_the_messenger(tmp_path: Path) -> None:
    """``asyncmsgr ceph version`` (descriptions, then the command) on the blocking
    client: no asyncio, messenger, argparse...; the CLI's own rules are loaded."""
    async def body() -> None:
        async with FakeMonCluster(1) as cluster:
            def handler(cmd: list[str], inbuf: bytes) -> tuple[int, str, bytes]:
                if cmd and json.loads(cmd[0]).get("prefix") == "get_command_descriptions":
                    return 0, "", _VERSION_DESCRIPTIONS.encode()
                return cluster.default_handler(cmd, inbuf)

            for mon in cluster.mons:
                mon.handler = handler
            conf = tmp_path / "ceph.conf"
            conf.write_text(f"[global]\nmon_host = {cluster.addrs[0]}\n")
            env = {k: v for k, v in os.environ.items() if k != "CEPH_ARGS"}
            env["CEPH_CONF"] = str(conf)
            argv = [sys.executable, "-X", "importtime", "-m", "asyncmsgr", "ceph",
                    "--auth_client_required=none", "--ms_mon_client_mode=crc",
                    "--connect-timeout", "10", "version"]
            proc = await asyncio.to_thread(subprocess.run, argv, env=env,
                                           capture_output=True, text=True, timeout=60)
            assert proc.returncode == 0, proc.stderr
            assert json.loads(proc.stdout) == {"version": FAKE_VERSION}
            assert "asyncmsgr.cli.ceph_args" in {
                line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
            imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
                        if line.startswith("import time:")}
            assert "asyncmsgr.monc.sync" in imported
            # (logging is imported when the run starts: Ceph's tools print their
            # level 0 and -1 lines on stderr in Ceph's format, asyncmsgr.log.configure)
            for absent in ("asyncio", "asyncmsgr.messenger", "asyncmsgr.aio",
                           "asyncmsgr.dispatch", "asyncmsgr.monc.client",
                           "asyncmsgr.protocol.v1", "asyncmsgr.auth.cephx.server",
                           "importlib.metadata", "argparse", "crc32c", "dataclasses",
                           "hmac", "asyncmsgr.osdc", "asyncmsgr.crush",
                           "asyncmsgr.osd", "asyncmsgr.messages.osd_op",
                           "asyncmsgr.messages.osd_op_reply"):
                assert absent not in imported, absent
    run(body)


def test_a_command_ends_when_the_new_hunt_is_refused() -> None:
    """The session's monitor goes away and the other one refuses us (our key changed
    meanwhile): the waiting command raises MonAuthError instead of waiting on."""
    async def body() -> None:
        async with FakeMonCluster(2, auth_server_factory=_cephx_mons()) as cluster:
            loop = asyncio.get_running_loop()

            def client_side() -> None:
                auth = _cephx()
                with _client(cluster.addrs, auth, options=FAST.replace(hunt_parallel=2)) \
                        as monc:
                    monc.connect()
                    first = monc.active_target
                    auth.key = WRONG_KEY
                    auth.tickets.clear()
                    victim = next(m for m in cluster.mons if m.addrs.msgr2_addr == first)
                    asyncio.run_coroutine_threadsafe(victim.stop(), loop).result(10)
                    began = time.monotonic()
                    with pytest.raises(MonAuthError):
                        monc.command({"prefix": "status"}, timeout=10)
                    assert time.monotonic() - began < 5
            await asyncio.to_thread(client_side)
    run(body, timeout=40)
