"""asyncmsgr's own RADOS client (``asyncmsgr.rados``, the Objecter) against the fake cluster.

The same python-rados-shaped calls the real librados answers to, over msgr2 crc and
secure and msgr v1, cephx and auth none: connect, pools, object data, xattrs, omap,
compound ops, listing across namespaces, watch/notify, class calls the cluster
serves, and errnos. Skipped where ``asyncmsgr.rados`` is not installed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from msgr_harness import run

from asyncmsgr.testing.fake_cluster import FakeCluster
from asyncmsgr.testing.fake_osd_ops import OpContext

rados = pytest.importorskip("asyncmsgr.rados")

MODES = {
    "v2-crc-cephx": ({"msgr": "v2+v1"}, {"ms_mon_client_mode": "crc", "ms_client_mode": "crc"}),
    "v2-secure-cephx": ({"msgr": "v2+v1"}, {"ms_mon_client_mode": "secure",
                                            "ms_client_mode": "secure"}),
    "v1-cephx": ({"msgr": "v1"}, {}),
    "v2-none": ({"msgr": "v2", "auth": "none"}, {"ms_mon_client_mode": "crc",
                                                 "ms_client_mode": "crc"}),
}


async def _connect(cluster: FakeCluster, options: dict[str, str]) -> Any:
    client = rados.Rados(conffile=str(cluster.conf_path))
    for name, value in options.items():
        client.conf_set(name, value)
    await client.connect()
    return client


@pytest.mark.parametrize("mode", sorted(MODES))
def test_object_io(tmp_path: Path, mode: str) -> None:
    cluster_args, options = MODES[mode]

    async def body() -> None:
        async with FakeCluster(osds=3, pools=["test"], conf_dir=tmp_path,
                               **cluster_args) as cluster:  # type: ignore[arg-type]
            client = await _connect(cluster, options)
            try:
                assert client.get_fsid() == str(cluster.fsid)
                assert await client.list_pools() == ["test"]
                await client.create_pool("made")
                assert cluster.osdmap.lookup_pg_pool_name("made") > 0
                io = await client.open_ioctx("test")
                await io.write_full("a", b"hello")
                await io.write("a", b"!!", 5)
                assert await io.read("a") == b"hello!!"
                assert (await io.stat("a"))[0] == 7
                await io.set_xattr("a", "k", b"v")
                assert await io.get_xattr("a", "k") == b"v"
                await io.omap_set("a", {"x": b"1", "y": b"2"})
                assert await io.omap_get_vals_by_keys("a", ["y", "z"]) == {"y": b"2"}
                io.set_namespace("ns1")
                await io.write_full("b", b"in ns1")
                io.set_namespace(rados.LIBRADOS_ALL_NSPACES)
                names = sorted([(e.nspace, e.key) async for e in io.list_objects()])
                assert names == [("", "a"), ("ns1", "b")]
                io.set_namespace("")
                with pytest.raises(rados.ObjectNotFound):
                    await io.read("missing")
                with pytest.raises(rados.ObjectExists):
                    await io.create("a", exclusive=True)
                assert cluster.object_data("test", "a") == b"hello!!"
                await io.remove_object("a")
                assert cluster.list_objects("test", nspace="") == []
                await client.delete_pool("made")
                assert await client.list_pools() == ["test"]
            finally:
                await client.shutdown()
    run(body, timeout=60)


def test_watch_notify_and_classes(tmp_path: Path) -> None:
    def hello(ctx: OpContext, indata: bytes) -> bytes:
        return b"Hello, " + (indata or b"world") + b"!"

    async def body() -> None:
        async with FakeCluster(osds=2, pools=["test"], conf_dir=tmp_path) as cluster:
            cluster.add_cls_method("hello", "say_hello", hello)
            client = await _connect(cluster, {})
            try:
                io = await client.open_ioctx("test")
                await io.write_full("w", b"x")
                got: asyncio.Queue[bytes] = asyncio.Queue()

                def callback(notify_id: int, notifier_id: int, watch_id: int,
                             data: bytes) -> bytes:
                    got.put_nowait(data)
                    return b"pong"
                watch = await io.watch("w", callback)
                replies = await io.notify_with_replies("w", b"ping")
                assert await asyncio.wait_for(got.get(), 10) == b"ping"
                assert list(replies.acks.values()) == [b"pong"]
                await watch.close()
                length, out = await io.execute("w", "hello", "say_hello", b"you")
                assert out == b"Hello, you!"
                assert length == len(out)
            finally:
                await client.shutdown()
    run(body, timeout=60)
