"""``asyncmsgr.rados``' aio API and compound reads against a real memstore OSD.

``aio_*`` / ``operate_aio_*_op`` complete through callbacks on the event loop (no
task per op); what they write is read back by python3-rados, and ``ReadOp``s on a
missing object fail with ``ObjectNotFound``, their outputs undecoded.
"""

from __future__ import annotations

import asyncio
import errno
import uuid
from collections.abc import Callable

import pytest
from ceph_cluster import CephCluster
from rados_util import client, pyrados, run

from asyncmsgr.osd.op_data import ObjectStat
from asyncmsgr.rados import Completion, ObjectNotFound, ReadOp, WriteOp
from asyncmsgr.types import Buffer

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_aio_writes_reads_and_removes_complete_through_callbacks(ceph_osd: CephCluster) -> None:
    names = [_name("aio") for _ in range(40)]

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            loop = asyncio.get_running_loop()
            finished: asyncio.Future[None] = loop.create_future()
            results: dict[str, int] = {}
            tasks = len(asyncio.all_tasks())

            def written(name: str) -> Callable[[Completion], None]:
                def cb(comp: Completion) -> None:
                    results[name] = comp.get_return_value()
                    if len(results) == len(names) and not finished.done():
                        finished.set_result(None)
                return cb

            comps = [ioctx.aio_write_full(n, n.encode() * 3, oncomplete=written(n))
                     for n in names]
            assert len(asyncio.all_tasks()) == tasks  # no task per op
            await finished
            assert results == dict.fromkeys(names, 0)
            assert all(c.is_complete() and c.get_return_value() == 0 for c in comps)
            assert ioctx.get_last_version() > 0

            got: dict[str, bytes | None] = {}

            def reader(name: str) -> Callable[[Completion, Buffer | None], None]:
                def cb(comp: Completion, data: Buffer | None) -> None:
                    got[name] = None if data is None else bytes(data)
                return cb

            reads = [ioctx.aio_read(n, 100, 0, oncomplete=reader(n)) for n in names[:5]]
            assert [await c for c in reads] == [len(n) * 3 for n in names[:5]]
            assert got == {n: n.encode() * 3 for n in names[:5]}
            missing = ioctx.aio_read(_name("missing"), 10, 0, oncomplete=reader("missing"))
            assert await missing == -errno.ENOENT
            assert got["missing"] is None

            appended = ioctx.aio_append(names[0], b"+", oncomplete=None)
            partial = ioctx.aio_write(names[1], b"XY", 1)
            assert (await appended, await partial) == (0, 0)
            removed = [ioctx.aio_remove(n) for n in names[2:]]
            for c in removed:
                await c.wait_for_complete()
                assert c.get_return_value() == 0

    run(body)
    out = pyrados(ceph_osd, f"""
        out = [ioctx.read({names[0]!r}), ioctx.read({names[1]!r}),
               [o.key for o in ioctx.list_objects() if o.key in {names[2:]!r}]]
    """)
    assert out == [names[0].encode() * 3 + b"+",
                   names[1][:1].encode() + b"XY" + names[1].encode()[3:] + names[1].encode() * 2,
                   []]


def test_compound_ops_through_aio(ceph_osd: CephCluster) -> None:
    name = _name("aiocmp")

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            with WriteOp() as w:
                w.write_full(b"body")
                w.set_omap(["k"], [b"v"])
                done: list[int] = []
                c = ioctx.operate_aio_write_op(w, name,
                                               oncomplete=lambda c: done.append(
                                                   c.get_return_value()))
                assert await c == 0
                assert done == [0]
            with ReadOp() as r:
                st = r.stat()
                vals = r.get_omap_vals("", "", 10)
                c = ioctx.operate_aio_read_op(r, name)
                assert await c == 0
            assert isinstance(st.value, ObjectStat)
            assert st.value.size == 4
            assert list(vals) == [("k", b"v")]

    run(body)


def test_read_ops_on_a_missing_object_are_object_not_found(ceph_osd: CephCluster) -> None:
    """The OSD fails the whole vector (-ENOENT) with rval 0 and empty outputs: stat
    and omap outputs are not decoded (they were, giving DecodeError)."""
    missing = _name("gone")

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            with ReadOp() as r:
                st = r.stat()
                vals = r.get_omap_vals("", "", 10)
                keys = r.get_omap_keys("", 10)
                with pytest.raises(ObjectNotFound):
                    await ioctx.operate_read_op(r, missing)
            assert (st.rval, st.value) == (-errno.ENOENT, None)
            assert (vals.rval, list(vals), keys.rval) == (-errno.ENOENT, [], -errno.ENOENT)
            with ReadOp() as r:
                st = r.stat()
                assert await ioctx.operate_aio_read_op(r, missing) == -errno.ENOENT
            assert (st.rval, st.value) == (-errno.ENOENT, None)
            with pytest.raises(ObjectNotFound):
                await ioctx.omap_get_vals(missing)

    run(body)


def test_a_failing_callback_reaches_the_loop_not_the_messenger(ceph_osd: CephCluster) -> None:
    name = _name("boom")

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            loop = asyncio.get_running_loop()
            seen: list[object] = []
            loop.set_exception_handler(lambda _loop, ctx: seen.append(ctx.get("exception")))

            def boom(_c: Completion) -> None:
                raise RuntimeError("callback failed")

            c = ioctx.aio_write_full(name, b"x", oncomplete=boom)
            assert await c == 0
            assert len(seen) == 1
            assert isinstance(seen[0], RuntimeError)
            assert await ioctx.read(name) == b"x"  # the client still works

    run(body)
