"""The OSD messages against real memstore OSDs, cross-checked with the real ``rados``.

Each test drives the OSD with MOSDOps built here (through :mod:`osd_driver`:
messenger + MonClient + ``ceph osd map`` for placement) and checks the result with
the C++ ``rados`` tool, or the reverse.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from ceph_cluster import CephCluster, MonClusterFactory
from osd_driver import READ_FLAGS, WRITE_FLAGS, OsdDriver

from asyncmsgr.messages import (
    MGetPoolStats,
    MGetPoolStatsReply,
    MOSDOp,
    MPoolOp,
    MPoolOpReply,
    MStatfs,
    MStatfsReply,
)
from asyncmsgr.messages.pool import PoolOp
from asyncmsgr.osd import ops
from asyncmsgr.osd.op_data import (
    LIBRADOS_ALL_NSPACES,
    decode_notify_id,
    decode_omap_vals,
    decode_pgnls,
    decode_stat,
    decode_xattrs,
)
from asyncmsgr.osd.ops import OsdFlag, WatchEvent
from asyncmsgr.osd.types import PG, SPG, HObject, ObjectLocator

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]


def run(body: Callable[[], Coroutine[Any, Any, None]], timeout: float = 90.0) -> None:
    async def main() -> None:
        await asyncio.wait_for(body(), timeout)
    asyncio.run(main())


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


MATRIX = [("cephx", "crc"), ("cephx", "secure"), ("none", "crc")]


@pytest.mark.parametrize(("method", "mode"), MATRIX)
def test_writefull_then_rados_get(ceph_osd: CephCluster, tmp_path: Path, method: str,
                                  mode: str) -> None:
    name = _name("w")
    data = f"written by asyncmsgr over {method}/{mode}\n".encode() * 50

    async def body() -> None:
        async with OsdDriver(ceph_osd, method=method, mode=mode) as drv:
            reply = await drv.do("test", name, [ops.writefull(data)], WRITE_FLAGS)
            assert reply.result == 0, reply.describe()
            assert reply.oid == name
            assert reply.user_version > 0
            assert reply.is_ondisk

    run(body)
    out = tmp_path / "out"
    ceph_osd.rados("-p", "test", "get", name, str(out))
    assert out.read_bytes() == data


def test_read_and_stat_object_put_by_rados(ceph_osd: CephCluster, tmp_path: Path) -> None:
    name = _name("r")
    data = bytes(range(256)) * 40 + b"tail"
    src = tmp_path / "src"
    src.write_bytes(data)
    ceph_osd.rados("-p", "test", "put", name, str(src))

    async def body() -> None:
        async with OsdDriver(ceph_osd) as drv:
            reply = await drv.do("test", name, [ops.stat(), ops.read(0, 0),
                                                ops.read(100, 50)], READ_FLAGS)
            assert reply.result == 0, reply.describe()
            st, whole, part = reply.ops
            assert decode_stat(st.outdata).size == len(data)
            assert bytes(whole.outdata) == data
            assert bytes(part.outdata) == data[100:150]

    run(body)


def test_missing_object_is_enoent(ceph_osd: CephCluster) -> None:
    async def body() -> None:
        async with OsdDriver(ceph_osd) as drv:
            reply = await drv.do("test", _name("missing"), [ops.stat()], READ_FLAGS)
            assert reply.result == -2
            assert "(2) No such file or directory" in reply.describe()

    run(body)


def test_write_ops_create_append_truncate_zero(ceph_osd: CephCluster, tmp_path: Path) -> None:
    name = _name("wo")

    async def body() -> None:
        async with OsdDriver(ceph_osd) as drv:
            r = await drv.do("test", name, [ops.create(exclusive=True)], WRITE_FLAGS)
            assert r.result == 0
            r = await drv.do("test", name, [ops.create(exclusive=True)], WRITE_FLAGS)
            assert r.result == -17  # EEXIST
            r = await drv.do("test", name, [ops.write(0, b"0123456789"),
                                            ops.append(b"abcdef"), ops.zero(2, 3),
                                            ops.write(20, b"XY")], WRITE_FLAGS)
            assert r.result == 0, r.describe()
            r = await drv.do("test", name, [ops.truncate(21)], WRITE_FLAGS)
            assert r.result == 0

    run(body)
    out = tmp_path / "out"
    ceph_osd.rados("-p", "test", "get", name, str(out))
    assert out.read_bytes() == b"01\0\0\x0056789abcdef\0\0\0\0X"


def test_xattrs_and_omap_both_ways(ceph_osd: CephCluster) -> None:
    name = _name("kv")
    ceph_osd.rados("-p", "test", "create", name)
    ceph_osd.rados("-p", "test", "setxattr", name, "from-rados", "r-value")
    ceph_osd.rados("-p", "test", "setomapval", name, "rkey", "rval")

    async def body() -> None:
        async with OsdDriver(ceph_osd) as drv:
            r = await drv.do("test", name, [ops.setxattr("from-us", b"u-value"),
                                            ops.omap_set({"ukey": b"uval", "a": b"1"})],
                             WRITE_FLAGS)
            assert r.result == 0, r.describe()
            r = await drv.do("test", name, [ops.getxattrs(), ops.getxattr("from-rados"),
                                            ops.omap_get_vals(max_return=10)], READ_FLAGS)
            assert r.result == 0, r.describe()
            xattrs, one, omap = r.ops
            assert decode_xattrs(xattrs.outdata) == {"from-rados": b"r-value",
                                                     "from-us": b"u-value"}
            assert bytes(one.outdata) == b"r-value"
            vals = decode_omap_vals(omap.outdata)
            assert vals.vals == {"a": b"1", "rkey": b"rval", "ukey": b"uval"}
            assert vals.more is False
            r = await drv.do("test", name, [ops.omap_rm_keys(["a"]),
                                            ops.rmxattr("from-rados")], WRITE_FLAGS)
            assert r.result == 0
            r = await drv.do("test", name, [ops.getxattr("from-rados")], READ_FLAGS)
            assert r.result == -61  # ENODATA

    run(body)
    assert ceph_osd.rados("-p", "test", "getxattr", name, "from-us") == b"u-value"
    keys = ceph_osd.rados("-p", "test", "listomapkeys", name).split()
    assert keys == [b"rkey", b"ukey"]


def test_cls_call_lock(ceph_osd: CephCluster) -> None:
    """cls_lock ``lock.get_info`` via CALL sees a lock ``rados lock get`` took."""
    name = _name("lock")
    ceph_osd.rados("-p", "test", "create", name)
    ceph_osd.rados("-p", "test", "lock", "get", name, "mylock")

    async def body() -> None:
        async with OsdDriver(ceph_osd) as drv:
            # cls_lock_get_info_op: ENCODE_START(1,1) string name
            arg = b"\x01\x01" + (10).to_bytes(4, "little") + (6).to_bytes(4, "little")
            r = await drv.do("test", name, [ops.call("lock", "get_info", arg + b"mylock")],
                             READ_FLAGS)
            assert r.result == 0, r.describe()
            assert len(r.ops[0].outdata) > 0
            r = await drv.do("test", name, [ops.call("nosuchclass", "m")], READ_FLAGS)
            assert r.result == -1  # EPERM: not in osd_class_load_list

    run(body)


def test_pgnls_lists_what_rados_ls_lists(ceph_osd: CephCluster) -> None:
    data = b"listed"
    names = {_name("ls") for _ in range(5)}
    src_path = ceph_osd.dir / "ls-src"
    src_path.write_bytes(data)
    for n in names:
        ceph_osd.rados("-p", "test", "put", n, str(src_path))
    ceph_osd.rados("-p", "test", "-N", "nsx", "put", "in-nsx", str(src_path))
    oracle = {line for line in ceph_osd.rados("-p", "test", "ls").decode().split("\n") if line}
    oracle_all = {tuple(line.split("\t")) if "\t" in line else ("", line)
                  for line in ceph_osd.rados("-p", "test", "ls", "--all").decode().split("\n")
                  if line}
    pool_id = ceph_osd.pool_id("test")
    got = ceph_osd.ceph_json("osd", "pool", "get", "test", "pg_num")
    assert isinstance(got, dict)
    pg_num = int(got["pg_num"])

    async def listing(drv: OsdDriver, nspace: str) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for seed in range(pg_num):
            cursor = HObject()
            while True:
                m = MOSDOp(pgid=SPG(PG(pool_id, seed)), hash=seed, osdmap_epoch=drv.epoch,
                           flags=READ_FLAGS | OsdFlag.PGOP | OsdFlag.IGNORE_OVERLAY,
                           oloc=ObjectLocator(pool_id, "", nspace, seed),
                           ops=[ops.pgnls(2, cursor, drv.epoch)], retry_attempt=0)
                m.tid = drv.next_tid()
                reply = await drv.send(0, m)
                assert reply.result in (0, 1), reply.describe()
                res = decode_pgnls(reply.ops[0].outdata)
                found.extend((e.nspace, e.oid) for e in res.entries)
                if reply.result == 1 or res.handle.max:
                    break
                cursor = res.handle
        return found

    async def body() -> None:
        async with OsdDriver(ceph_osd) as drv:
            default = await listing(drv, "")
            assert {oid for _, oid in default} == oracle
            assert names <= oracle
            everything = await listing(drv, LIBRADOS_ALL_NSPACES)
            assert set(everything) == oracle_all
            assert ("nsx", "in-nsx") in set(everything)

    run(body)


def test_watch_notify_with_rados_notify(ceph_osd: CephCluster) -> None:
    name = _name("wn")
    ceph_osd.rados("-p", "test", "create", name)

    async def body() -> None:
        async with OsdDriver(ceph_osd) as drv:
            cookie = 0x5EED
            r = await drv.do("test", name, [ops.watch(cookie, timeout=30)], WRITE_FLAGS)
            assert r.result == 0, r.describe()
            loop = asyncio.get_running_loop()
            notifier = loop.run_in_executor(None, lambda: ceph_osd.rados(
                "-p", "test", "notify", name, "ping-from-rados"))
            ev = await drv.watch_event()
            assert ev.opcode == WatchEvent.NOTIFY
            assert ev.cookie == cookie
            assert ev.bl.endswith(b"ping-from-rados")
            r = await drv.do("test", name, [ops.notify_ack(ev.notify_id, cookie,
                                                           b"pong-from-asyncmsgr")],
                             READ_FLAGS)
            assert r.result == 0
            out = (await notifier).decode()
            # rados notify prints each reply: "reply client.N cookie C : LEN bytes" + hexdump
            assert f"reply client.{drv.monc.global_id} cookie {cookie} : 19 bytes" in out
            assert "|pong-from-asyncm|" in out
            r = await drv.do("test", name, [ops.unwatch(cookie)], WRITE_FLAGS)
            assert r.result == 0

    run(body)


def test_notify_reaches_our_own_watch(ceph_osd: CephCluster) -> None:
    """Our notify, our watch: NOTIFY, NOTIFY_ACK, then NOTIFY_COMPLETE with the reply."""
    name = _name("self")
    ceph_osd.rados("-p", "test", "create", name)

    async def body() -> None:
        async with OsdDriver(ceph_osd) as drv:
            r = await drv.do("test", name, [ops.watch(7, timeout=30)], WRITE_FLAGS)
            assert r.result == 0
            r = await drv.do("test", name, [ops.notify(99, b"hello", 10)], READ_FLAGS)
            assert r.result == 0, r.describe()
            notify_id = decode_notify_id(r.ops[0].outdata)
            ev = await drv.watch_event()
            assert (ev.opcode, ev.cookie, ev.notify_id) == (WatchEvent.NOTIFY, 7, notify_id)
            assert ev.bl == b"hello"
            await drv.do("test", name, [ops.notify_ack(notify_id, 7, b"ack!")], READ_FLAGS)
            done = await drv.watch_event()
            assert done.opcode == WatchEvent.NOTIFY_COMPLETE
            assert done.cookie == 99
            result = done.notify_result()
            assert list(result.acks.values()) == [b"ack!"]
            assert not result.timeouts
            await drv.do("test", name, [ops.unwatch(7)], WRITE_FLAGS)

    run(body)


def test_pool_ops_and_stats_to_the_mon(ceph_osd: CephCluster) -> None:
    """MPoolOp create is seen by ``ceph osd pool ls``; MStatfs and MGetPoolStats answer.

    (No delete here: memstore may count the deleted pool's bytes twice and go
    full, performance-notes.md §4.4; the private-cluster test deletes.)
    """
    pool = _name("pool")

    async def body() -> None:
        async with OsdDriver(ceph_osd) as drv:
            con = drv.monc.active_connection
            assert con is not None
            assert drv.monc.monmap is not None
            fsid = drv.monc.monmap.fsid
            con.send_message(MPoolOp(fsid=fsid, op=PoolOp.CREATE, name=pool, tid=1))
            reply = await drv.next_event(MPoolOpReply)
            assert isinstance(reply, MPoolOpReply)
            assert (reply.tid, reply.reply_code) == (1, 0), reply.describe()
            assert reply.epoch > drv.epoch
            con.send_message(MStatfs(fsid=fsid, tid=2))
            st = await drv.next_event(MStatfsReply)
            assert isinstance(st, MStatfsReply)
            assert st.tid == 2
            assert st.fsid == fsid
            con.send_message(MGetPoolStats(fsid=fsid, pools=[pool], tid=3))
            ps = await drv.next_event(MGetPoolStatsReply)
            assert isinstance(ps, MGetPoolStatsReply)
            assert ps.tid == 3
            assert ps.fsid == fsid

    run(body)
    assert pool in ceph_osd.ceph("osd", "pool", "ls").split()


def test_pool_create_and_delete_private_cluster(mon_cluster_factory: MonClusterFactory
                                                ) -> None:
    cluster = mon_cluster_factory(num_osds=1, pool="")

    async def body() -> None:
        async with OsdDriver(cluster) as drv:
            con = drv.monc.active_connection
            assert con is not None
            assert drv.monc.monmap is not None
            fsid = drv.monc.monmap.fsid
            con.send_message(MPoolOp(fsid=fsid, op=PoolOp.CREATE, name="made", tid=1))
            created = await drv.next_event(MPoolOpReply)
            assert isinstance(created, MPoolOpReply)
            assert created.reply_code == 0
            pool_id = cluster.pool_id("made")
            con.send_message(MPoolOp(fsid=fsid, op=PoolOp.DELETE, pool=pool_id,
                                     name="delete", tid=2))
            deleted = await drv.next_event(MPoolOpReply)
            assert isinstance(deleted, MPoolOpReply)
            assert (deleted.tid, deleted.reply_code) == (2, 0), deleted.describe()

    run(body)
    assert "made" not in cluster.ceph("osd", "pool", "ls").split()


def test_msgr_v1_cluster(mon_cluster_factory: MonClusterFactory, tmp_path: Path) -> None:
    cluster = mon_cluster_factory(num_osds=1, msgr="v1")
    name = _name("v1")

    async def body() -> None:
        async with OsdDriver(cluster) as drv:
            con = drv.osd_connection(0)
            r = await drv.do("test", name, [ops.writefull(b"over msgr v1")], WRITE_FLAGS)
            assert r.result == 0, r.describe()
            assert not con.is_msgr2
            r = await drv.do("test", name, [ops.read(0, 0)], READ_FLAGS)
            assert bytes(r.ops[0].outdata) == b"over msgr v1"

    run(body)
    out = tmp_path / "o"
    cluster.rados("-p", "test", "get", name, str(out))
    assert out.read_bytes() == b"over msgr v1"


def test_three_osds_size_three_pool(ceph_osd3: CephCluster, tmp_path: Path) -> None:
    pool = ceph_osd3.osd_dump()["pools"][0]
    assert pool["size"] == 3
    names = [_name("r3") for _ in range(4)]

    async def body() -> None:
        async with OsdDriver(ceph_osd3) as drv:
            for n in names:
                where = drv.placement("test", n)
                r = await drv.send(where.primary, drv.make_op(
                    where, n, [ops.writefull(n.encode())], WRITE_FLAGS))
                assert r.result == 0, r.describe()

    run(body)
    for n in names:
        out = tmp_path / n
        ceph_osd3.rados("-p", "test", "get", n, str(out))
        assert out.read_bytes() == n.encode()
    up = json.loads(ceph_osd3.ceph("osd", "map", "test", names[0], "--format", "json"))["up"]
    assert sorted(up) == [0, 1, 2]
