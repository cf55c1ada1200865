"""The fake cluster in process: asyncmsgr's own MonClient and messenger as its clients.

What a client sees of the fake mons (commands, ``tell`` as MCommand, monmap with
Pacific's features, osdmap/mgrmap subscriptions and new epochs, pool operations,
statfs) and of the fake OSDs (cephx authorizers with the mons' service tickets,
MOSDOp/MOSDOpReply, op hooks that fail, delay or drop ops, OSDs marked down), over
msgr2 and msgr v1, cephx and auth none; the cluster run in a thread of its own;
the pytest fixtures (through the installed ``pytest11`` entry point) and
``asyncmsgr fake-cluster``. The real ``ceph``/``rados``/librados against it are in
``tests/interop/test_fake_cluster_real_tools.py``.
"""

from __future__ import annotations

import asyncio
import errno
import json
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from msgr_harness import run

from asyncmsgr.auth.base import AuthClient
from asyncmsgr.auth.cephx import CephxClient, CryptoKey
from asyncmsgr.auth.none import AuthNoneClient
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.features import CEPH_FEATURES_ALL
from asyncmsgr.message import Message
from asyncmsgr.messages import (
    MCommand,
    MCommandReply,
    MOSDOp,
    MOSDOpReply,
    MPoolOp,
    MPoolOpReply,
    MStatfs,
    MStatfsReply,
)
from asyncmsgr.messages.monmap import CephRelease
from asyncmsgr.messages.osdmap import MOSDMap
from asyncmsgr.messages.pool import PoolOp
from asyncmsgr.monc.client import MonClient, MonClientOptions
from asyncmsgr.osd import ops
from asyncmsgr.osd.op_codes import OsdFlag
from asyncmsgr.osd.op_data import decode_stat
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.types import PG, SPG, ObjectLocator
from asyncmsgr.testing.fake_cluster import FakeCluster
from asyncmsgr.testing.fake_mon import PACIFIC_MON_FEATURES
from asyncmsgr.testing.fake_osd import OpFault, OpRequest
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType

FAST = MonClientOptions(hunt_interval=0.3, ping_interval=0.5, ping_timeout=3.0,
                        mount_timeout=5.0)
ADMIN = AuthName(EntityType.CLIENT, "admin")


class Replies(Dispatcher):
    """Collects what the cluster sends besides the MonClient's own messages."""

    def __init__(self) -> None:
        self.got: asyncio.Queue[Message] = asyncio.Queue()

    def ms_dispatch(self, m: Message) -> bool:
        if isinstance(m, (MOSDOpReply, MCommandReply, MPoolOpReply, MStatfsReply)):
            self.got.put_nowait(m)
            return True
        return False

    async def next(self, kind: type[Message], timeout: float = 5.0) -> Message:
        async with asyncio.timeout(timeout):
            while True:
                m = await self.got.get()
                if isinstance(m, kind):
                    return m


def _auth(cluster: FakeCluster) -> AuthClient:
    if cluster.auth_mode == "none":
        return AuthNoneClient(ADMIN)
    return CephxClient(ADMIN, CryptoKey.from_base64(cluster.admin_key), clock=time.time)


@asynccontextmanager
async def client(cluster: FakeCluster) -> AsyncIterator[tuple[MonClient, Replies]]:
    monc = MonClient([EntityAddrVec.parse(a) for a in cluster.mon_addrs],
                     auth_client=_auth(cluster), options=FAST)
    replies = Replies()
    monc.messenger.add_dispatcher_tail(replies)
    await monc.connect()
    try:
        yield monc, replies
    finally:
        await monc.shutdown()


async def osd_op(monc: MonClient, replies: Replies, cluster: FakeCluster, pool: str,
                 oid: str, vector: list[ops.OSDOp], tid: int,
                 timeout: float = 5.0) -> MOSDOpReply:
    """Send one MOSDOp to the object's primary, as an Objecter would; its reply."""
    m = cluster.osdmap
    pid = cluster.pool_id(pool)
    raw = m.object_locator_to_pg(oid, ObjectLocator(pid))
    pg = m.raw_pg_to_pg(raw)
    primary = m.pg_to_up_acting_osds(pg)[3]
    con = monc.messenger.connect_to(EntityType.OSD, m.get_addrs(primary))
    write = any(o.op & 0x2000 for o in vector)
    op = MOSDOp(pgid=SPG(pg), hash=raw.seed, osdmap_epoch=m.epoch,
                flags=int(OsdFlag.ONDISK | (OsdFlag.WRITE if write else OsdFlag.READ)),
                oloc=ObjectLocator(pid), oid=oid, ops=vector, retry_attempt=0,
                features=CEPH_FEATURES_ALL)
    op.tid = tid
    con.send_message(op)
    reply = await replies.next(MOSDOpReply, timeout)
    assert isinstance(reply, MOSDOpReply)
    assert reply.tid == tid
    return reply


@pytest.mark.parametrize(("msgr", "auth", "mode"), [
    ("v2+v1", "cephx", "secure"), ("v2+v1", "cephx", "crc"), ("v1", "cephx", "any"),
    ("v2", "none", "crc"), ("v1", "none", "any")])
def test_monclient_and_object_io(msgr: str, auth: str, mode: str) -> None:
    async def body() -> None:
        async with FakeCluster(osds=3, pools=["test"], msgr=msgr, auth=auth,  # type: ignore[arg-type]
                               ms_mode=mode) as cluster, client(cluster) as (monc, replies):  # type: ignore[arg-type]
            res = await monc.command({"prefix": "status", "format": "json"})
            assert res.r == 0
            assert res.json()["fsid"] == str(cluster.fsid)
            assert monc.monmap is not None
            assert monc.monmap.min_mon_release == CephRelease.PACIFIC
            assert monc.monmap.persistent_features == PACIFIC_MON_FEATURES
            w = await osd_op(monc, replies, cluster, "test", "obj", [ops.writefull(b"hi")], 1)
            assert (w.result, w.user_version) == (0, 1)
            r = await osd_op(monc, replies, cluster, "test", "obj", [ops.read(0, 0),
                                                                    ops.stat()], 2)
            assert bytes(r.ops[0].outdata) == b"hi"
            assert decode_stat(r.ops[1].outdata).size == 2
            assert cluster.object_data("test", "obj") == b"hi"
            missing = await osd_op(monc, replies, cluster, "test", "nope", [ops.stat()], 3)
            assert missing.result == -errno.ENOENT
    run(body, timeout=30)


def test_maps_follow_the_cluster() -> None:
    async def body() -> None:
        async with FakeCluster(osds=2) as cluster, client(cluster) as (monc, replies):
            newest, oldest = await monc.get_version("osdmap")
            assert newest == oldest == cluster.osdmap.epoch
            monc.sub_want("osdmap")
            monc.sub_want("mgrmap")
            await monc.wait_for_map("mgrmap", timeout=5)
            m = await monc.wait_for_map("osdmap", timeout=5)
            assert isinstance(m, MOSDMap)
            assert OSDMap.decode(m.maps[m.last]).get_num_up_osds() == 2
            res = await monc.command({"prefix": "osd pool create", "pool": "p1",
                                      "pg_num": 4})
            assert (res.r, res.rs) == (0, "pool 'p1' created")
            m = await monc.wait_for_map("osdmap", min_epoch=newest + 1, timeout=5)
            assert isinstance(m, MOSDMap)
            full = OSDMap.decode(m.maps[m.last])
            assert full.lookup_pg_pool_name("p1") == 1
            # librados' create_pool/delete_pool: MPoolOp
            con = monc.active_connection
            assert con is not None
            op = MPoolOp(fsid=cluster.fsid, op=PoolOp.CREATE, name="p2")
            op.tid = 7
            con.send_message(op)
            reply = await replies.next(MPoolOpReply)
            assert isinstance(reply, MPoolOpReply)
            assert (reply.tid, reply.reply_code, reply.epoch) == (7, 0, cluster.osdmap.epoch)
            con.send_message(op)
            again = await replies.next(MPoolOpReply)
            assert isinstance(again, MPoolOpReply)
            assert again.reply_code == -errno.EEXIST
            delete = MPoolOp(fsid=cluster.fsid, op=PoolOp.DELETE, pool=cluster.pool_id("p2"))
            con.send_message(delete)
            gone = await replies.next(MPoolOpReply)
            assert isinstance(gone, MPoolOpReply)
            assert gone.reply_code == 0
            assert cluster.osdmap.lookup_pg_pool_name("p2") < 0
            con.send_message(MStatfs(fsid=cluster.fsid))
            st = await replies.next(MStatfsReply)
            assert isinstance(st, MStatfsReply)
            assert st.st.kb == 2 * cluster.osd_size >> 10
    run(body, timeout=30)


def test_tell_is_an_mcommand_on_its_own_connection() -> None:
    async def body() -> None:
        async with FakeCluster() as cluster, client(cluster) as (monc, replies):
            con = monc.messenger.connect_to(EntityType.MON,
                                            EntityAddrVec.parse(cluster.mon_addrs[0]))
            cmd = MCommand(fsid=cluster.fsid, cmd=['{"prefix": "version"}'])
            cmd.tid = 3
            con.send_message(cmd)
            reply = await replies.next(MCommandReply)
            assert isinstance(reply, MCommandReply)
            assert reply.tid == 3
            assert reply.r == 0
            assert json.loads(bytes(reply.data))["release"] == "pacific"
            assert cluster.mon_cluster is not None
            assert ['{"prefix": "version"}'] in cluster.mon_cluster.mons[0].commands
    run(body, timeout=30)


def test_op_hooks_and_osds_going_down() -> None:
    async def body() -> None:
        async with FakeCluster(osds=3, pools=["test"]) as cluster, \
                client(cluster) as (monc, replies):
            seen: list[OpRequest] = []

            def hook(req: OpRequest) -> OpFault | None:
                seen.append(req)
                if req.oid == "eio":
                    return OpFault(result=-errno.EIO)
                if req.oid == "slow":
                    return OpFault(delay=0.2)
                if req.oid == "lost":
                    return OpFault(drop=True)
                return None
            remove = cluster.add_op_hook(hook)
            r = await osd_op(monc, replies, cluster, "test", "eio", [ops.read(0, 0)], 1)
            assert r.result == -errno.EIO
            assert seen[-1].ops == ("read",)
            assert seen[-1].pool_name == "test"
            t0 = time.monotonic()
            r = await osd_op(monc, replies, cluster, "test", "slow", [ops.writefull(b"z")], 2)
            assert (r.result, time.monotonic() - t0 >= 0.2) == (0, True)
            with pytest.raises(TimeoutError):
                await osd_op(monc, replies, cluster, "test", "lost", [ops.stat()], 3,
                             timeout=0.5)
            remove()
            assert (await osd_op(monc, replies, cluster, "test", "lost",
                                 [ops.writefull(b"x")], 4)).result == 0
            # the primary goes down: it answers nothing, the map moves its PGs
            pid = cluster.pool_id("test")
            pg = cluster.osdmap.raw_pg_to_pg(
                cluster.osdmap.object_locator_to_pg("lost", ObjectLocator(pid)))
            old = cluster.osdmap.pg_to_up_acting_osds(pg)[3]
            old_addrs = cluster.osdmap.get_addrs(old)
            cluster.mark_osd_down(old)
            assert cluster.osdmap.pg_to_up_acting_osds(PG(pid, pg.seed))[3] != old
            stale = MOSDOp(pgid=SPG(pg), hash=0, oloc=ObjectLocator(pid), oid="lost",
                           ops=[ops.stat()], flags=int(OsdFlag.READ))
            monc.messenger.connect_to(EntityType.OSD, old_addrs).send_message(stale)
            r = await osd_op(monc, replies, cluster, "test", "lost", [ops.read(0, 0)], 5)
            assert bytes(r.ops[0].outdata) == b"x", "the new primary has the data"
            assert cluster.osds[old].dropped >= 1
            cluster.mark_osd_up(old)
    run(body, timeout=30)


def test_threaded_cluster_and_calls_from_another_thread(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    with FakeCluster(osds=3, pools=["a", "b"], conf_dir=tmp_path) as cluster:
        started = time.perf_counter() - t0
        # the requirement (measured for both sides in bench_fake_cluster.py)
        assert cluster.ready_seconds < 0.2
        assert started < 2.0
        assert cluster.conf_path == tmp_path / "ceph.conf"
        conf = cluster.conf_path.read_text()
        assert f"mon_host = {cluster.mon_host}" in conf
        assert f"keyring = {tmp_path / 'ceph.client.admin.keyring'}" in conf
        assert cluster.admin_key in (tmp_path / "ceph.client.admin.keyring").read_text()
        assert oct((tmp_path / "ceph.client.admin.keyring").stat().st_mode & 0o777) == "0o600"
        pid = cluster.create_pool("c", pg_num=16)
        assert pid == 3
        assert cluster.mon_command({"prefix": "osd pool ls"}).out == b"a\nb\nc\n"
        with pytest.raises(ValueError, match="already exists"):
            cluster.create_pool("c")
        cluster.delete_pool("c")
        assert cluster.list_objects("a") == []
        assert cluster.client_env() == {"CEPH_CONF": str(tmp_path / "ceph.conf"),
                                        "CEPH_KEYRING": str(tmp_path /
                                                            "ceph.client.admin.keyring")}


def test_fixed_ports() -> None:
    import socket  # noqa: PLC0415

    def free() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    ports = [free() for _ in range(4)]
    with FakeCluster(mon_ports=[(ports[0], ports[1])], osd_ports=[(ports[2], ports[3])],
                     pools=["t"]) as cluster:
        assert cluster.mon_host == f"[v2:127.0.0.1:{ports[0]}/0,v1:127.0.0.1:{ports[1]}/0]"
        addrs = cluster.osdmap.get_addrs(0)
        assert [a.port for a in addrs.addrs] == [ports[2], ports[3]]
    with pytest.raises(ValueError, match="mon_ports"):
        FakeCluster(mons=2, mon_ports=[(1, 2)])


PLUGIN_TEST = textwrap.dedent('''
    import json
    import pytest

    def test_default(fake_cluster):
        assert fake_cluster.num_osds == 1
        assert json.loads(fake_cluster.mon_command(
            {"prefix": "osd pool ls", "format": "json"}).out) == ["test"]
        assert fake_cluster.conf_path.exists()

    @pytest.mark.fake_cluster(osds=2, pools=["rbd"], auth="none")
    def test_marker(fake_ceph_env):
        import os
        assert os.environ["CEPH_CONF"] == str(fake_ceph_env.conf_path)
        assert fake_ceph_env.num_osds == 2 and fake_ceph_env.auth_mode == "none"

    def test_factory(fake_cluster_factory):
        a = fake_cluster_factory(pools=["x"])
        b = fake_cluster_factory(msgr="v1")
        assert a.fsid != b.fsid and b.mon_host.startswith("v1:")
''')


def test_pytest_plugin_from_the_entry_point(tmp_path: Path) -> None:
    test_file = tmp_path / "test_user.py"
    test_file.write_text(PLUGIN_TEST)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(test_file)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    conf = tmp_path / "c" / "ceph.conf"
    proc = subprocess.Popen([sys.executable, "-m", "asyncmsgr", "fake-cluster", "--osds", "2",
                             "--pool", "rbd", "--pool", "data", "--conf-out", str(conf),
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert ready["ready"] is True
        assert ready["pools"] == ["rbd", "data"]
        assert ready["conf"] == str(conf)
        assert Path(ready["keyring"]).exists()

        async def check() -> None:
            key = (tmp_path / "c" / "ceph.client.admin.keyring").read_text().split(
                "key = ")[1].split()[0]
            monc = MonClient([EntityAddrVec.parse(ready["mon_host"])],
                             auth_client=CephxClient(ADMIN, CryptoKey.from_base64(key),
                                                     clock=time.time), options=FAST)
            await monc.connect()
            try:
                res = await monc.command({"prefix": "osd pool ls", "format": "json"})
                assert res.json() == ["rbd", "data"]
            finally:
                await monc.shutdown()
        run(check, timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    bad = subprocess.run([sys.executable, "-m", "asyncmsgr", "fake-cluster", "--conf-out",
                          str(conf), "--mons", "2", "--mon-port", "7000"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2
    assert "--mon-port given 1 times for 2 mon(s)" in bad.stderr


def _readme_block(after: str) -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split(after, 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    return block


def test_readme_in_process_example_runs(tmp_path: Path) -> None:
    code = _readme_block("**In process**").replace("/tmp/fc-example", str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["b'[\"data\"]'", "b'hi you'"]
