"""Watch and notify between asyncmsgr, python3-rados and the C++ ``rados`` tool."""

from __future__ import annotations

import asyncio
import errno
import uuid

import pytest
from ceph_cluster import CephCluster
from rados_util import PYTHON3, client, require_python_rados, run

from asyncmsgr.osd.op_data import NotifyResult
from asyncmsgr.rados import Error, NotConnected, TimedOut

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]

_PY_WATCHER = """
import sys, threading, rados
cluster = rados.Rados(conffile=sys.argv[1], conf={"keyring": sys.argv[2]})
cluster.connect()
ioctx = cluster.open_ioctx("test")
got = threading.Event()
seen = []
def callback(notify_id, notifier_id, watch_id, data):
    seen.append(data)
    got.set()
    return b"reply from librados"
with ioctx.watch(sys.argv[3], callback):
    print("ready", flush=True)
    got.wait(30)
print("got", seen[0].decode() if seen else "-", flush=True)
ioctx.close()
cluster.shutdown()
"""


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_asyncmsgr_watches_librados_and_rados_tool_notify(ceph_osd: CephCluster) -> None:
    require_python_rados()
    oid = _name("watched")

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            await ioctx.write_full(oid, b"x")
            got: list[tuple[int, bytes]] = []
            event = asyncio.Event()

            async def on_notify(notify_id: int, notifier: int, watch_id: int,
                                data: bytes) -> bytes:
                got.append((notifier, data))
                event.set()
                return b"reply from asyncmsgr"

            async with await ioctx.watch(oid, on_notify) as watch:
                assert watch.check() >= 0
                proc = await asyncio.create_subprocess_exec(
                    PYTHON3, "-c", (
                        "import sys, rados\n"
                        "c = rados.Rados(conffile=sys.argv[1], conf={'keyring': sys.argv[2]})\n"
                        "c.connect(); io = c.open_ioctx('test')\n"
                        "print(io.notify(sys.argv[3], 'hello from librados', 10000))\n"),
                    str(ceph_osd.conf_path), str(ceph_osd.keyring_path), oid,
                    stdout=asyncio.subprocess.PIPE)
                out, _ = await asyncio.wait_for(proc.communicate(), 30)
                assert proc.returncode == 0
                assert out.strip() == b"True"
                await asyncio.wait_for(event.wait(), 10)
                assert got[0][1] == b"hello from librados"
                assert got[0][0] > 0  # the notifier's global id
                tool = await asyncio.to_thread(ceph_osd.rados, "-p", "test", "notify", oid,
                                               "from-the-tool")
                assert b"reply client." in tool
                assert b": 20 bytes" in tool  # our reply, hexdumped by the tool
                assert b"|reply from async|" in tool
                # the tool sends its message as an encoded string (u32 length first)
                assert [d for _, d in got] == [b"hello from librados",
                                               b"\x0d\x00\x00\x00from-the-tool"]

    run(body)


def test_librados_watches_asyncmsgr_notifies(ceph_osd: CephCluster) -> None:
    require_python_rados()
    oid = _name("pywatched")
    ceph_osd.rados("-p", "test", "put", oid, "/dev/null")

    async def body() -> None:
        proc = await asyncio.create_subprocess_exec(
            PYTHON3, "-c", _PY_WATCHER, str(ceph_osd.conf_path), str(ceph_osd.keyring_path),
            oid, stdout=asyncio.subprocess.PIPE)
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert line.strip() == b"ready"
            async with client(ceph_osd) as cluster:
                ioctx = await cluster.open_ioctx("test")
                res = await ioctx.notify_with_replies(oid, "hello from asyncmsgr", 10000)
                assert isinstance(res, NotifyResult)
                assert not res.timeouts
                # librados' watcher acks asynchronously: the OSD often completes the
                # notify before its reply (the C++ rados tool sees the same); when the
                # reply made it, it is the callback's
                assert set(res.acks.values()) <= {b"reply from librados"}
            rest = await asyncio.wait_for(proc.stdout.read(), 30)
            assert rest.strip() == b"got hello from asyncmsgr"
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()

    run(body)


def test_notify_without_watchers_and_with_a_silent_watcher(ceph_osd: CephCluster) -> None:
    oid = _name("silent")

    async def body() -> None:
        async with client(ceph_osd) as a, client(ceph_osd) as b:
            ia = await a.open_ioctx("test")
            ib = await b.open_ioctx("test")
            await ia.write_full(oid, b"x")
            assert await ia.notify(oid, "nobody listens", 2000) is True

            never = asyncio.Event()

            async def silent(notify_id: int, notifier: int, watch_id: int,
                             data: bytes) -> bytes:
                await never.wait()  # never acks
                return b""

            watch = await ib.watch(oid, silent)
            with pytest.raises(TimedOut) as ei:
                await ia.notify(oid, "anyone?", 1000)
            assert ei.value.errno == errno.ETIMEDOUT
            await watch.close()

    run(body)


def test_watch_of_a_deleted_object_reports_the_error(ceph_osd: CephCluster) -> None:
    oid = _name("gone")

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            await ioctx.write_full(oid, b"x")
            errors: list[Error] = []
            failed = asyncio.Event()

            def on_error(watch_id: int, err: Error) -> None:
                errors.append(err)
                failed.set()

            watch = await ioctx.watch(oid, lambda *a: None, on_error)
            await ioctx.remove_object(oid)  # the OSD disconnects its watchers
            await asyncio.wait_for(failed.wait(), 20)
            assert isinstance(errors[0], NotConnected)
            with pytest.raises(NotConnected):
                watch.check()
            await watch.close()

    run(body)
