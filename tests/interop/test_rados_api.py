"""``asyncmsgr.rados`` against a real memstore OSD, cross-checked with the C++ tools.

Everything asyncmsgr writes is read back by the C++ ``rados`` tool and by
python3-rados (librados), and the reverse: data (whole, at offsets, appended,
truncated), xattrs, omap, listings with namespaces and locator keys, compound ops;
plus the errors a client meets (missing object or pool, an exclusive create).
"""

from __future__ import annotations

import asyncio
import errno
import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from ceph_cluster import CephCluster
from rados_util import client, pyrados, require_python_rados, run, write_file

import asyncmsgr.rados as ours
from asyncmsgr.osd.types import ObjectLocator
from asyncmsgr.rados import (
    LIBRADOS_ALL_NSPACES,
    NoData,
    ObjectEntry,
    ObjectExists,
    ObjectNotFound,
    ReadOp,
    WriteOp,
)

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_write_full_read_back_by_rados_tool_and_python_rados(ceph_osd: CephCluster,
                                                            tmp_path: Path) -> None:
    name = _name("wf")
    data = bytes(range(256)) * 64 + b"tail"

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            assert await ioctx.write_full(name, data) == 0
            assert ioctx.get_last_version() > 0
            assert await ioctx.read(name, len(data) + 10) == data

    run(body)
    out = tmp_path / "out"
    ceph_osd.rados("-p", "test", "get", name, str(out))
    assert out.read_bytes() == data
    got = pyrados(ceph_osd, f"out = ioctx.read({name!r}, {len(data)})")
    assert got == data


def test_objects_written_by_rados_tool_read_by_asyncmsgr(ceph_osd: CephCluster,
                                                        tmp_path: Path) -> None:
    name = _name("put")
    data = b"from the C++ rados tool\n" * 1000
    ceph_osd.rados("-p", "test", "put", name, str(write_file(tmp_path, "in", data)))
    ceph_osd.rados("-p", "test", "setxattr", name, "color", "blue")
    ceph_osd.rados("-p", "test", "setomapval", name, "k1", "v1")
    stat_line = ceph_osd.rados("-p", "test", "stat", name).decode()

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            assert await ioctx.read(name, 1 << 20) == data
            assert await ioctx.read(name, 100, 10) == data[10:110]
            size, mtime = await ioctx.stat(name)
            assert size == len(data)
            assert f"size {len(data)}" in stat_line
            assert abs(time.mktime(mtime) - time.time()) < 600
            assert await ioctx.get_xattr(name, "color") == b"blue"
            assert dict(await ioctx.get_xattrs(name)) == {"color": b"blue"}
            assert await ioctx.omap_get_vals(name) == {"k1": b"v1"}

    run(body)


def test_offsets_appends_truncate_zero_match_librados(ceph_osd: CephCluster) -> None:
    name = _name("edit")

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            await ioctx.write(name, b"0123456789")
            await ioctx.write(name, b"AB", 4)
            await ioctx.append(name, b"-tail")
            await ioctx.zero(name, 1, 2)
            await ioctx.write(name, b"Z", 20)
            await ioctx.trunc(name, 18)

    run(body)
    expected = b"0\0\x003AB6789-tail" + b"\0" * 3
    got = pyrados(ceph_osd, f"out = [ioctx.read({name!r}, 100), ioctx.stat({name!r})[0]]")
    assert got == [expected, len(expected)]


def test_python_rados_writes_asyncmsgr_reads(ceph_osd: CephCluster) -> None:
    name = _name("lib")
    pyrados(ceph_osd, f"""
ioctx.write_full({name!r}, b"librados data")
ioctx.append({name!r}, b"+more")
ioctx.set_xattr({name!r}, "a1", b"x1")
ioctx.set_xattr({name!r}, "a2", b"\\x00\\xff")
with rados.WriteOpCtx() as op:
    ioctx.set_omap(op, ("k1", "k2", "k3"), (b"v1", b"v2", b""))
    ioctx.operate_write_op(op, {name!r})
""")

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            assert await ioctx.read(name) == b"librados data+more"
            assert dict(await ioctx.get_xattrs(name)) == {"a1": b"x1", "a2": b"\x00\xff"}
            with ReadOp() as op:
                vals, _ = ioctx.get_omap_vals(op, "", "", 10)
                keys, _ = ioctx.get_omap_keys(op, "k1", 10)
                some, _ = ioctx.get_omap_vals_by_keys(op, ("k2", "nope"))
                data = op.read(0, 7)
                await ioctx.operate_read_op(op, name)
            assert dict(vals) == {"k1": b"v1", "k2": b"v2", "k3": b""}
            assert [k for k, _ in keys] == ["k2", "k3"]
            assert dict(some) == {"k2": b"v2"}
            assert data.value == b"librado"

    run(body)


def test_xattrs_and_omap_written_by_asyncmsgr_seen_by_librados(ceph_osd: CephCluster) -> None:
    name = _name("meta")

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            await ioctx.write_full(name, b"x")
            assert await ioctx.set_xattr(name, "user.one", b"1")
            assert await ioctx.set_xattr(name, "user.two", b"2" * 300)
            assert await ioctx.set_xattr(name, "gone", b"-")
            assert await ioctx.rm_xattr(name, "gone")
            with pytest.raises(NoData) as ei:
                await ioctx.get_xattr(name, "gone")
            assert ei.value.errno == errno.ENODATA
            with WriteOp() as op:
                ioctx.set_omap(op, [f"key{i:03d}" for i in range(50)],
                               [f"val{i}".encode() for i in range(50)])
                await ioctx.operate_write_op(op, name)
            await ioctx.omap_rm_keys(name, ["key000", "key001"])
            assert len(await ioctx.omap_get_keys(name, max_return=1000)) == 48
            assert await ioctx.omap_get_vals_by_keys(name, ["key002", "x"]) == {
                "key002": b"val2"}

    run(body)
    got = pyrados(ceph_osd, f"""
with rados.ReadOpCtx() as op:
    it, _ = ioctx.get_omap_vals(op, "", "", 1000)
    ioctx.operate_read_op(op, {name!r})
    omap = dict(it)
out = {{"xattrs": dict(ioctx.get_xattrs({name!r})), "omap": omap}}
""")
    assert got["xattrs"] == {"user.one": b"1", "user.two": b"2" * 300}
    assert got["omap"] == {f"key{i:03d}": f"val{i}".encode() for i in range(2, 50)}
    out = ceph_osd.rados("-p", "test", "listomapvals", name).decode()
    assert "key049" in out
    assert "key000" not in out

    async def clear() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            await ioctx.omap_clear(name)
            assert await ioctx.omap_get_vals(name) == {}

    run(clear)
    assert ceph_osd.rados("-p", "test", "listomapkeys", name) == b""


def test_listing_namespaces_and_locator_keys_match_rados_ls(ceph_osd: CephCluster,
                                                            tmp_path: Path) -> None:
    pool = _name("lspool")
    ceph_osd.create_pool(pool, pg_num=16)
    src = write_file(tmp_path, "in", b"listed")
    ceph_osd.rados("-p", pool, "put", "by-tool", str(src))
    ceph_osd.rados("-p", pool, "-N", "toolns", "put", "tool-in-ns", str(src))

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx(pool)
            for i in range(40):
                await ioctx.write_full(f"plain{i}", b"p")
            ioctx.set_locator_key("lockey")
            await ioctx.write_full("keyed", b"k")
            ioctx.set_locator_key("")
            ioctx.set_namespace("ns1")
            await ioctx.write_full("in-ns1", b"n")
            ioctx.set_namespace("")
            default = [e async for e in ioctx.list_objects(page=7)]
            assert {e.key for e in default} == {f"plain{i}" for i in range(40)} | {
                "by-tool", "keyed"}
            assert ObjectEntry("keyed", "", "lockey") in default
            ioctx.set_namespace("ns1")
            assert [e async for e in ioctx.list_objects()] == [ObjectEntry("in-ns1", "ns1")]
            ioctx.set_namespace(LIBRADOS_ALL_NSPACES)
            every = {(e.nspace, e.key, e.locator_key) async for e in ioctx.list_objects()}
            assert ("toolns", "tool-in-ns", "") in every
            assert ("ns1", "in-ns1", "") in every
            assert len(every) == 44
            with pytest.raises(Exception, match="namespaces"):
                await ioctx.read("x")

    run(body)
    tool = set(ceph_osd.rados("-p", pool, "ls", "--all").decode().splitlines())
    assert "toolns\ttool-in-ns" in tool
    assert "ns1\tin-ns1" in tool
    assert "\tkeyed\tlockey" in tool
    assert len(tool) == 44
    lib = pyrados(ceph_osd, """
ioctx.set_namespace(rados.LIBRADOS_ALL_NSPACES)
out = sorted([o.nspace, o.key, o.locator_key or ""] for o in ioctx.list_objects())
""", pool=pool)
    assert len(lib) == 44
    assert ["", "keyed", "lockey"] in lib


def test_missing_object_and_pool_are_object_not_found(ceph_osd: CephCluster) -> None:
    async def body() -> None:
        async with client(ceph_osd) as cluster:
            with pytest.raises(ObjectNotFound) as ei:
                await cluster.open_ioctx(_name("nopool"))
            assert ei.value.errno == errno.ENOENT
            assert "error opening pool" in str(ei.value)
            assert not await cluster.pool_exists(_name("nopool"))
            assert await cluster.pool_lookup(_name("nopool")) is None
            ioctx = await cluster.open_ioctx("test")
            missing = _name("missing")
            for call in (ioctx.read(missing), ioctx.stat(missing),
                         ioctx.remove_object(missing), ioctx.get_xattr(missing, "a")):
                with pytest.raises(ObjectNotFound) as ei:
                    await call
                assert ei.value.errno == errno.ENOENT
                assert str(ei.value).startswith("[errno 2]")

    run(body)


def test_exclusive_create_and_remove(ceph_osd: CephCluster) -> None:
    name = _name("excl")

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            await ioctx.create(name, exclusive=True)
            with pytest.raises(ObjectExists):
                await ioctx.create(name, exclusive=True)
            await ioctx.create(name)  # not exclusive: fine
            assert await ioctx.remove_object(name)
            with pytest.raises(ObjectNotFound):
                await ioctx.stat(name)

    run(body)


def test_compound_write_op_is_atomic(ceph_osd: CephCluster) -> None:
    name = _name("cmp")

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            with WriteOp() as op:
                op.new(exclusive=True)
                op.write_full(b"hello")
                op.append(b" world")
                op.set_xattr("x", b"y")
                await ioctx.operate_write_op(op, name)
            with WriteOp() as op:  # fails as a whole: nothing of it is applied
                op.new(exclusive=True)
                op.write_full(b"overwritten")
                with pytest.raises(ObjectExists):
                    await ioctx.operate_write_op(op, name)
            assert await ioctx.read(name) == b"hello world"

    run(body)
    assert pyrados(ceph_osd, f"out = ioctx.get_xattr({name!r}, 'x')") == b"y"


def test_pool_management_seen_by_ceph_cli(ceph_cluster_factory: object) -> None:
    """Pools created and deleted through MPoolOp (a private cluster: deleting pools
    on the shared one would upset memstore's accounting)."""
    cluster = ceph_cluster_factory(num_osds=1)  # type: ignore[operator]
    assert isinstance(cluster, CephCluster)
    pool = _name("made")

    async def body() -> None:
        async with client(cluster) as c:
            await c.create_pool(pool)
            assert pool in await c.list_pools()
            pid = await c.pool_lookup(pool)
            assert pid is not None
            assert await c.pool_reverse_lookup(pid) == pool
            with pytest.raises(ObjectExists):
                await c.create_pool(pool)
            ioctx = await c.open_ioctx2(pid)
            await ioctx.write_full("o", b"in the new pool")
            stats = await c.get_cluster_stats()
            assert set(stats) == {"kb", "kb_used", "kb_avail", "num_objects"}
            r, out, _ = await c.mon_command(json.dumps({"prefix": "osd pool ls",
                                                        "format": "json"}))
            assert r == 0
            assert pool in json.loads(out)
            assert c.get_fsid() == cluster.fsid

    run(body)
    assert pool in cluster.ceph("osd", "pool", "ls").split()
    assert cluster.rados("-p", pool, "get", "o", "-") == b"in the new pool"

    async def delete() -> None:
        async with client(cluster) as c:
            await c.delete_pool(pool)
            assert pool not in await c.list_pools()
            with pytest.raises(ObjectNotFound):
                await c.delete_pool(pool)

    run(delete)
    assert pool not in cluster.ceph("osd", "pool", "ls").split()


def test_python_rados_is_there() -> None:
    """The librados oracle itself (CI installs python3-rados)."""
    require_python_rados()


def test_readme_example_runs(ceph_osd: CephCluster) -> None:
    """README's "RADOS from Python" example, against the test cluster and pool."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    match = re.search(r"## RADOS from Python: `asyncmsgr.rados`\n.*?```python\n(.*?)```",
                      readme, re.S)
    assert match is not None
    ns = _name("readme")
    code = (match.group(1)
            .replace('conffile="/etc/ceph/ceph.conf"',
                     f'conffile={str(ceph_osd.conf_path)!r}, '
                     f'keyring={str(ceph_osd.keyring_path)!r}')
            .replace('open_ioctx("rbd")', 'open_ioctx("test")')
            .replace('"obj"', f'"{ns}-obj"'))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("['test'")
    assert lines[1] == "b'hello, world'"
    assert lines[2] == "b'data' {'a': b'1', 'b': b'2'}"
    assert lines[-1] == "2"


def test_errors_read_as_python_rados_errors() -> None:
    """Each class (its bases, its message) against python3-rados itself."""
    require_python_rados()
    names = ["Error", "OSError", "InvalidArgumentError", "InterruptedOrTimeoutError",
             "PermissionError", "PermissionDeniedError", "ObjectNotFound", "NoData",
             "ObjectExists", "ObjectBusy", "IOError", "NoSpace", "NotConnected",
             "ConnectionShutdown", "TimedOut", "InProgress", "IsConnected",
             "RadosStateError", "IoctxStateError", "ObjectStateError", "LogicError"]
    script = (
        "import json, errno, rados\n"
        f"names = {names!r}\n"
        "out = {n: [[b.__name__ for b in getattr(rados, n).__mro__][:3],\n"
        "           str(getattr(rados, n)('m', errno=5))] for n in names}\n"
        "print(json.dumps(out))\n")
    proc = subprocess.run(["/usr/bin/python3", "-c", script], capture_output=True,
                          text=True, timeout=60, check=True)
    theirs = json.loads(proc.stdout)
    for n in names:
        cls = getattr(ours, n)
        # ours: Error is an AsyncmsgrError (the package's tree), the rest is the same
        mro = [b.__name__ for b in cls.__mro__ if b.__name__ != "AsyncmsgrError"][:3]
        assert [mro, str(cls("m", errno=5))] == theirs[n], n
    assert type(ours.make_ex(-errno.EFBIG, "x")) is ours.OSError


def test_three_osds_size_three_pool_targets_each_primary(ceph_osd3: CephCluster) -> None:
    """Objects spread over three OSDs: each op goes to the acting primary the cluster
    names (``ceph osd map``), and the C++ tool reads what was written."""
    names = [_name("spread") for _ in range(24)]

    async def body() -> None:
        async with client(ceph_osd3) as cluster:
            ioctx = await cluster.open_ioctx("test")
            await asyncio.gather(*(ioctx.write_full(n, n.encode()) for n in names))
            o = cluster.objecter
            used = {s.osd for s in o.sessions()}
            assert len(used) >= 2  # the primaries are spread
            for n in names[:6]:  # (each ceph osd map is a CLI run)
                t = o.new_op(n, ObjectLocator(ioctx.pool_id), [], 0).target
                o._calc_target(t)
                got = ceph_osd3.ceph_json("osd", "map", "test", n)
                assert isinstance(got, dict)
                assert t.osd == got["acting_primary"]
                assert list(t.acting) == got["acting"]

    run(body)
    for n in names[:5]:
        assert ceph_osd3.rados("-p", "test", "get", n, "-") == n.encode()


def test_execute_an_object_class_method(ceph_osd: CephCluster) -> None:
    """CALL (cls_hello, shipped with the OSD): the reply is the method's output."""
    name = _name("cls")

    async def body() -> None:
        async with client(ceph_osd) as cluster:
            ioctx = await cluster.open_ioctx("test")
            await ioctx.write_full(name, b"x")
            n, out = await ioctx.execute(name, "hello", "say_hello", b"asyncmsgr")
            assert out == b"Hello, asyncmsgr!"
            assert n == len(out)
            with pytest.raises(ours.OSError) as ei:
                await ioctx.execute(name, "hello", "no_such_method", b"")
            assert ei.value.errno == errno.EOPNOTSUPP

    run(body)
    lib = pyrados(ceph_osd, f"out = list(ioctx.execute({name!r}, 'hello', 'say_hello', "
                            "b'asyncmsgr', 100))")
    assert lib == [len(b"Hello, asyncmsgr!"), b"Hello, asyncmsgr!"]
