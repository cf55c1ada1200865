"""``asyncmsgr.rados`` over every session kind, and against what goes wrong.

* cephx and auth none, msgr2 crc and secure, msgr v1, and the threaded messenger
  (``asyncmsgr_embedded=false``): an object written each way is read back by
  python3-rados;
* bad input: an object past ``osd_max_object_size`` (EFBIG), a client whose caps
  deny the pool (EPERM → PermissionError), a wrong key (PermissionDeniedError);
* the cluster paused (``ceph osd pause``): ops wait and complete on ``unpause``;
* ``rados_osd_op_timeout``: an op that cannot be served fails with TimedOut;
* a map gap: the monitor trimmed the maps the client misses and sends a full map,
  and the client carries on.
"""

from __future__ import annotations

import asyncio
import errno
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ceph_cluster import CephCluster, CephCommandError, ceph_mon_binary, ceph_osd_binary
from rados_util import client, pyrados, run

from asyncmsgr.frames.v2 import CON_MODE_CRC, CON_MODE_SECURE
from asyncmsgr.rados import (
    OSError,
    PermissionDeniedError,
    PermissionError,
    Rados,
    TimedOut,
)

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


SESSIONS = [
    pytest.param({"ms_client_mode": "crc", "ms_mon_client_mode": "crc"}, 2, CON_MODE_CRC,
                 id="cephx-crc"),
    pytest.param({"ms_client_mode": "secure", "ms_mon_client_mode": "secure"}, 2,
                 CON_MODE_SECURE, id="cephx-secure"),
    pytest.param({"auth_client_required": "none", "ms_client_mode": "crc"}, 2, CON_MODE_CRC,
                 id="none-crc"),
    pytest.param({"asyncmsgr_connect_msgr": "v1"}, 1, None, id="cephx-msgr1"),
    pytest.param({"asyncmsgr_connect_msgr": "v1", "auth_client_required": "none"}, 1, None,
                 id="none-msgr1"),
    pytest.param({"asyncmsgr_embedded": "false", "ms_client_mode": "secure"}, 2,
                 CON_MODE_SECURE, id="threaded-secure"),
]


@pytest.mark.parametrize(("conf", "msgr", "mode"), SESSIONS)
def test_object_io_over_each_session_kind(ceph_osd: CephCluster, conf: dict[str, str],
                                          msgr: int, mode: int | None) -> None:
    name = _name("sess")
    data = f"over {conf}".encode() * 100

    async def body() -> None:
        async with client(ceph_osd, **conf) as cluster:
            ioctx = await cluster.open_ioctx("test")
            await ioctx.write_full(name, data)
            await ioctx.set_xattr(name, "k", b"v")
            assert await ioctx.read(name, len(data)) == data
            (session,) = [s for s in cluster.objecter.sessions() if s.con is not None]
            con = session.con
            assert con is not None
            assert con.is_msgr2 == (msgr == 2)
            if mode is not None:
                assert con.core.auth_meta.con_mode == mode  # type: ignore[attr-defined]

    run(body)
    assert pyrados(ceph_osd, f"out = [ioctx.read({name!r}, 100000), "
                             f"ioctx.get_xattr({name!r}, 'k')]") == [data, b"v"]


def test_object_past_max_object_size_is_efbig(ceph_osd: CephCluster,
                                              tmp_path: Path) -> None:
    name = _name("big")
    limit = 0

    async def body() -> None:
        nonlocal limit
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            r, out, _ = await cluster.mon_command(json.dumps({
                "prefix": "config get", "who": "osd.0", "key": "osd_max_object_size"}))
            assert r == 0
            limit = int(out.decode().strip())
            await ioctx.write(name, b"x", limit - 1)  # the last byte allowed
            with pytest.raises(OSError) as ei:
                await ioctx.write(name, b"xy", limit - 1)
            assert ei.value.errno == errno.EFBIG
            assert "[errno 27]" in str(ei.value)
            assert (await ioctx.stat(name))[0] == limit

    run(body)
    one = tmp_path / "one"
    one.write_bytes(b"z")
    with pytest.raises(CephCommandError) as ei:  # the C++ tool meets the same limit
        ceph_osd.rados("-p", "test", "put", _name("big"), str(one), "--offset", str(limit))
    assert "(27) File too large" in ei.value.stderr


def test_caps_that_deny_the_pool_are_permission_error(ceph_osd: CephCluster,
                                                      tmp_path: Path) -> None:
    user = f"client.{_name('limited')}"
    keyring = tmp_path / "limited.keyring"
    ceph_osd.ceph("auth", "get-or-create", user, "mon", "allow r", "osd",
                  "allow rw pool=elsewhere", "-o", str(keyring))
    name = _name("denied")
    ceph_osd.rados("-p", "test", "put", name, "/dev/null")

    async def body() -> None:
        limited = Rados(conffile=str(ceph_osd.conf_path), name=user,
                        conf={"keyring": str(keyring)})
        async with limited:
            ioctx = await limited.open_ioctx("test")
            with pytest.raises(PermissionError) as ei:
                await ioctx.write_full(name, b"nope")
            assert ei.value.errno == errno.EPERM
            with pytest.raises(PermissionError):
                await ioctx.read(name)
        wrong = Rados(conffile=str(ceph_osd.conf_path), name=user, conf={
            "key": "AQBPUFdkAAAAABAAcTMmTE2zNLvJfXFtAaSPCQ==", "auth_client_required": "cephx"})
        with pytest.raises(PermissionDeniedError) as refused:
            await wrong.connect(timeout=20)
        assert refused.value.errno == errno.EACCES

    run(body)


@pytest.fixture(scope="module")
def private_osd() -> Iterator[CephCluster]:
    """One OSD the tests here may pause and whose monitor trims old maps quickly."""
    if ceph_mon_binary() is None or ceph_osd_binary() is None:
        pytest.skip("ceph-mon and ceph-osd are not installed (see .ci/run)")
    cluster = CephCluster(num_osds=1, extra_conf={
        "mon_min_osdmap_epochs": "2", "paxos_service_trim_min": "1",
        "mon_tick_interval": "1"})
    cluster.start()
    try:
        cluster.wait_ready()
        yield cluster
    finally:
        cluster.stop()


def test_pause_holds_ops_until_unpause(private_osd: CephCluster) -> None:
    name = _name("paused")

    async def body() -> None:
        async with client(private_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            await ioctx.write_full(name, b"before")
            epoch = cluster.objecter.osdmap.epoch
            await asyncio.to_thread(private_osd.ceph, "osd", "pause")
            try:
                await cluster.objecter.wait_for_map(epoch + 1, timeout=20)
                assert cluster.objecter.osdmap.pauserd
                write = asyncio.ensure_future(ioctx.write_full(name, b"after"))
                read = asyncio.ensure_future(ioctx.read(name))
                done, _ = await asyncio.wait({write, read}, timeout=1.5)
                assert not done  # both held
                assert cluster.objecter.num_in_flight == 2
            finally:
                await asyncio.to_thread(private_osd.ceph, "osd", "unpause")
            await asyncio.wait_for(write, 20)
            assert await asyncio.wait_for(read, 20) in (b"before", b"after")
            assert await ioctx.read(name) == b"after"

    run(body)


def test_op_timeout_is_timed_out(private_osd: CephCluster) -> None:
    async def body() -> None:
        async with client(private_osd, rados_osd_op_timeout="1") as cluster:
            ioctx = await cluster.open_ioctx("test")
            await ioctx.write_full("t", b"ok")  # served in time
            await asyncio.to_thread(private_osd.ceph, "osd", "pause")
            try:
                await cluster.wait_for_latest_osdmap()
                with pytest.raises(TimedOut) as ei:
                    await ioctx.read("t")
                assert ei.value.errno == errno.ETIMEDOUT
                assert cluster.objecter.perf_dump()["op_timeout"] == 1
                assert cluster.objecter.num_in_flight == 0
            finally:
                await asyncio.to_thread(private_osd.ceph, "osd", "unpause")
            assert await ioctx.read("t") == b"ok"

    run(body)


def test_trimmed_maps_are_skipped_with_a_full_map(private_osd: CephCluster) -> None:
    """The client sits at epoch E while the cluster moves on and the monitor trims
    E+1..; asked for E+1 it sends its oldest map in full (a gap): the client takes
    it (a full map: ``map_full``) and goes on."""
    async def body() -> None:
        async with client(private_osd) as cluster:
            o = cluster.objecter
            ioctx = await cluster.open_ioctx("test")
            await ioctx.write_full("gap", b"0")
            start = o.osdmap.epoch
            full_before = o.perf_dump()["map_full"]
            for i in range(12):  # new epochs the client does not ask for
                await asyncio.to_thread(private_osd.ceph, "osd", "unset" if i % 2 else "set",
                                        "noscrub")
            newest, _ = await cluster.monc.get_version("osdmap")  # type: ignore[union-attr]
            await asyncio.to_thread(private_osd.ceph, "config", "set", "mon",
                                    "mon_osd_force_trim_to", str(newest - 1))
            first = start
            for _ in range(100):  # the mon trims on its tick
                r, out, _ = await cluster.mon_command(json.dumps({"prefix": "report"}))
                assert r == 0
                first = json.loads(out)["osdmap_first_committed"]
                if first > start + 1:
                    break
                await asyncio.sleep(0.2)
            assert first > start + 1, "the monitor did not trim"
            assert o.osdmap.epoch == start
            await cluster.wait_for_latest_osdmap()
            assert o.osdmap.epoch >= newest
            assert o.perf_dump()["map_full"] > full_before
            await ioctx.append("gap", b"1")
            assert await ioctx.read("gap") == b"01"

    run(body)
