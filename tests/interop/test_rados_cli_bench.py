"""``asyncmsgr rados bench`` / ``cleanup`` against the C++ ``rados bench``.

Short runs (1 s) on a real memstore OSD: seq and rand of either tool read (and
verify, byte for byte) what a write of the other left, through the C++ tool's
metadata object; ``cleanup`` of either removes the other's objects; the per-second
header, the summary labels and the ``--format json`` keys are the C++ tool's.
Each test uses a namespace of its own (``-N``), so runs never see each other.
"""

from __future__ import annotations

import json
import re
import struct

import pytest
from ceph_cluster import CephCluster
from rados_cli_util import Run, ours, real, uniq

from asyncmsgr.cli.rados_bench import decode_metadata, op_contents

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]

POOL = "test"
HEADER = "  sec Cur ops   started  finished  avg MB/s  cur MB/s last lat(s)  avg lat(s)"


def _p(ns: str) -> list[str]:
    return ["-p", POOL, "-N", ns]


def _labels(text: str) -> list[str]:
    """The lines that are not per-second lines, numbers replaced by ``N``."""
    return [re.sub(r"[-+]?\d[\d.]*(e[-+]\d+)?", "N", line) for line in text.splitlines()
            if not line.startswith(" ") and line[:1].isalpha()]


def _ok(run: Run) -> Run:
    assert run.rc == 0, (run.text, run.err_text)
    assert "is not correct" not in run.err_text
    return run


def _objects(cluster: CephCluster, ns: str) -> list[str]:
    return sorted(real(cluster, *_p(ns), "ls").text.splitlines())


def _total(run: Run, label: str) -> int:
    m = re.search(rf"^{re.escape(label)}\s+(\d+)$", run.text, re.M)
    assert m, run.text
    return int(m.group(1))


@pytest.mark.parametrize("writer", ["ours", "rados"])
def test_reads_of_either_tool_verify_the_writes_of_the_other(ceph_osd: CephCluster,
                                                             writer: str) -> None:
    ns = uniq("bench")
    w, r = (ours, real) if writer == "ours" else (real, ours)
    wr = _ok(w(ceph_osd, *_p(ns), "bench", "1", "write", "-b", "4096", "-t", "4",
               "--no-cleanup"))
    made = _total(wr, "Total writes made:")
    assert made > 0
    meta = real(ceph_osd, *_p(ns), "get", "benchmark_last_metadata", "-").out
    object_size, num_ops, pid, op_size = decode_metadata(meta)
    assert (len(meta), object_size, num_ops, op_size) == (24, 4096, made, 4096)
    prefix = re.search(r"^Object prefix: (\S+)$", wr.text, re.M)
    assert prefix
    assert prefix.group(1).endswith(f"_{pid}")
    # the objects are the C++ tool's: named and filled as it names and fills them
    names = _objects(ceph_osd, ns)
    assert len(names) == made + 1
    assert f"{prefix.group(1)}_object{made - 1}" in names
    assert real(ceph_osd, *_p(ns), "get", f"{prefix.group(1)}_object7", "-").out == \
        op_contents(7, 4096)
    # seq reads every write (verifying each), then rand for a second: both tools
    for reader in (r, w):
        seq = _ok(reader(ceph_osd, *_p(ns), "bench", "1", "seq", "-t", "4"))
        reads = _total(seq, "Total reads made:")
        assert reads == made or (0 < reads < made and "Total time run:       1" in seq.text)
        _ok(reader(ceph_osd, *_p(ns), "bench", "1", "rand", "-t", "4"))
    # cleanup by the other tool removes them all, metadata included
    c = _ok(r(ceph_osd, *_p(ns), "cleanup"))
    assert c.text == f"Removed {made} object{'s' if made != 1 else ''}\n"
    assert _objects(ceph_osd, ns) == []


def test_object_size_and_run_name_across_tools(ceph_osd: CephCluster) -> None:
    """``-O`` bigger than ``-b`` (two writes per object) and ``--run-name``."""
    ns = uniq("bench")
    run = ["--run-name", "myrun"]
    wr = _ok(ours(ceph_osd, *_p(ns), "bench", "1", "write", "-b", "4K", "-O", "8K", "-t", "2",
                  "--no-cleanup", "--max-objects", "5", *run))
    assert "Maintaining 2 concurrent writes of 4096 bytes to objects of size 8192 for up " \
           "to 1 seconds or 5 objects\n" in wr.text
    assert _total(wr, "Total writes made:") == 10
    object_size, num_ops, _pid, op_size = decode_metadata(
        real(ceph_osd, *_p(ns), "get", "myrun", "-").out)
    assert (object_size, num_ops, op_size) == (8192, 10, 4096)
    assert len(_objects(ceph_osd, ns)) == 5 + 1
    seq = _ok(real(ceph_osd, *_p(ns), "bench", "1", "seq", "-t", "2", *run))
    assert _total(seq, "Total reads made:") == 10
    assert "Object size:          8192\n" in seq.text
    c = _ok(real(ceph_osd, *_p(ns), "cleanup", *run))
    assert c.text == "Removed 5 objects\n"
    assert _objects(ceph_osd, ns) == []
    # and the other way: written by rados, read and cleaned by us
    _ok(real(ceph_osd, *_p(ns), "bench", "1", "write", "-b", "4K", "-O", "8K", "-t", "2",
             "--no-cleanup", "--max-objects", "3", *run))
    seq = _ok(ours(ceph_osd, *_p(ns), "bench", "1", "seq", "-t", "2", *run))
    assert _total(seq, "Total reads made:") == 6
    assert _ok(ours(ceph_osd, *_p(ns), "cleanup", *run)).text == "Removed 3 objects\n"
    assert _objects(ceph_osd, ns) == []


def test_write_with_cleanup_and_the_output_lines(ceph_osd: CephCluster) -> None:
    ns = uniq("bench")
    a = _ok(ours(ceph_osd, *_p(ns), "bench", "1", "write", "-b", "4096", "-t", "2"))
    r = _ok(real(ceph_osd, *_p(ns), "bench", "1", "write", "-b", "4096", "-t", "2"))
    for run in (a, r):
        lines = run.text.splitlines()
        assert lines[:2] == ["hints = 1", "Maintaining 2 concurrent writes of 4096 bytes to "
                             "objects of size 4096 for up to 1 seconds or 0 objects"]
        assert lines[3] == HEADER
        # the status thread (task) prints second 0 when it first runs, which on a
        # loaded machine may be after writes finished: then it shows their figures
        # (cur MB/s -1, no full cycle yet), else zeros and no latency
        sec, _cur, _started, finished, *figures = lines[4].split()
        assert (sec, len(figures)) == ("0", 4), lines[4]
        if finished == "0":
            assert figures == ["0", "0", "-", "0"], lines[4]
        else:
            assert figures[1] == "-1", lines[4]
            assert all(re.fullmatch(r"[0-9.e+-]+", f) for f in figures), lines[4]
        assert lines[-3] == "Cleaning up (deleting benchmark objects)"
        assert re.fullmatch(r"Removed \d+ objects", lines[-2])
        assert re.fullmatch(r"Clean up completed and total clean up time :[0-9.e-]+",
                            lines[-1])
    assert _labels(a.text) == _labels(r.text)
    assert _objects(ceph_osd, ns) == []
    # the read summaries have the same lines too
    _ok(real(ceph_osd, *_p(ns), "bench", "1", "write", "-b", "4096", "-t", "2",
             "--no-cleanup"))
    for mode in ("seq", "rand"):
        a = _ok(ours(ceph_osd, *_p(ns), "bench", "1", mode, "-t", "2"))
        r = _ok(real(ceph_osd, *_p(ns), "bench", "1", mode, "-t", "2"))
        assert _labels(a.text) == _labels(r.text)
        assert a.text.splitlines()[1] == r.text.splitlines()[1] == HEADER
    _ok(ours(ceph_osd, *_p(ns), "cleanup"))


def _json_doc(text: str) -> dict[str, object]:
    assert text.startswith("hints = 1\n"), text
    doc = json.loads(text[len("hints = 1\n"):])
    assert isinstance(doc, dict)
    return doc


@pytest.mark.parametrize("fmt", ["json", "json-pretty"])
def test_json_summary_keys_equal(ceph_osd: CephCluster, fmt: str) -> None:
    ns = uniq("bench")
    keys = {}
    for name, tool in (("ours", ours), ("rados", real)):
        w = _ok(tool(ceph_osd, *_p(ns), "bench", "1", "write", "-b", "4096", "-t", "2",
                     "--no-cleanup", "--format", fmt))
        doc = _json_doc(w.text)
        datas = doc.pop("datas")
        assert isinstance(datas, list)
        assert datas
        keys[name, "write"] = (list(doc), sorted({k for d in datas for k in d}))
        assert doc["total_writes_made"] == str(_total_json(doc, "total_writes_made"))
        s = _ok(tool(ceph_osd, *_p(ns), "bench", "1", "seq", "-t", "2", "--format", fmt))
        doc = _json_doc(s.text)
        datas = doc.pop("datas")
        assert isinstance(datas, list)
        keys[name, "seq"] = (list(doc), sorted({k for d in datas for k in d}))
        _ok(tool(ceph_osd, *_p(ns), "cleanup"))
    assert keys["ours", "write"] == keys["rados", "write"]
    assert keys["ours", "seq"] == keys["rados", "seq"]
    assert keys["ours", "write"][0][:6] == ["concurrent_ios", "object_size", "op_size",
                                            "seconds_to_run", "max_objects", "object_prefix"]
    assert {"total_time_run", "total_writes_made", "write_size", "object_size", "bandwidth",
            "stddev_bandwidth", "max_bandwidth", "min_bandwidth", "average_iops",
            "stddev_iops", "max_iops", "min_iops", "average_latency", "stddev_latency",
            "max_latency", "min_latency"} <= set(keys["ours", "write"][0])
    assert keys["ours", "write"][1] == ["avg_bw", "avg_lat", "cur_bw", "cur_ops", "finished",
                                        "last_lat", "sec", "started"]


def _total_json(doc: dict[str, object], key: str) -> int:
    value = doc[key]
    assert isinstance(value, str)
    assert value.isdigit()
    return int(value)


def test_json_to_output_file(ceph_osd: CephCluster, tmp_path: pytest.TempPathFactory) -> None:
    ns = uniq("bench")
    out = tmp_path / "bench.json"  # type: ignore[operator]
    a = _ok(ours(ceph_osd, *_p(ns), "bench", "1", "write", "-b", "4096", "-t", "2",
                 "--format", "json", "-o", str(out)))
    # the summary goes to the file; the cleanup lines stay on stdout
    assert a.text.splitlines()[0] == "hints = 1"
    assert a.text.splitlines()[1] == "Cleaning up (deleting benchmark objects)"
    doc = json.loads(out.read_text())
    assert int(doc["total_writes_made"]) > 0
    assert _objects(ceph_osd, ns) == []


#: The seconds of a bench run that ends on its own (max-objects, an error) first.
SECONDS = "60"


def test_seq_without_a_write_and_missing_objects(ceph_osd: CephCluster) -> None:
    ns = uniq("bench")
    for tool in (ours, real):
        run = tool(ceph_osd, *_p(ns), "bench", "1", "seq")
        assert (run.rc, run.err_text) == (1, "Must write data before running a read "
                                             "benchmark!\nerror during benchmark: (2) No "
                                             "such file or directory\nerror 2: (2) No such "
                                             "file or directory\n")
    # metadata naming 3 writes, but read with 8 in flight: the 4th object is missing.
    # Each run below ends on its own event (the 3rd write, a missing or a wrong
    # object); the seconds are only a bound, generous so that a loaded machine
    # cannot end a run by time first (fewer writes, object1 never read).
    _ok(real(ceph_osd, *_p(ns), "bench", SECONDS, "write", "-b", "4096", "-t", "1",
             "--max-objects", "3", "--no-cleanup"))
    assert _total(real(ceph_osd, *_p(ns), "bench", SECONDS, "seq", "-t", "1"),
                  "Total reads made:") == 3
    a = ours(ceph_osd, *_p(ns), "bench", SECONDS, "seq", "-t", "8")
    r = real(ceph_osd, *_p(ns), "bench", SECONDS, "seq", "-t", "8")
    for run in (a, r):
        assert run.rc == 1
        assert "read got -2\n" in run.err_text
        assert run.err_text.endswith("error during benchmark: (2) No such file or directory\n"
                                     "error 2: (2) No such file or directory\n")
    # a corrupted object is reported, and the run fails with EIO
    meta = real(ceph_osd, *_p(ns), "get", "benchmark_last_metadata", "-").out
    _obj_size, _num, pid, _op = decode_metadata(meta)
    victim = next(n for n in _objects(ceph_osd, ns) if n.endswith("_object1"))
    assert real(ceph_osd, *_p(ns), "put", victim, "-", stdin=b"x" * 4096).rc == 0
    for tool in (ours, real):
        run = tool(ceph_osd, *_p(ns), "bench", SECONDS, "seq", "-t", "1")
        assert run.rc == 1
        assert f"{victim} is not correct!\n" in run.err_text
        assert run.err_text.endswith("error during benchmark: (5) Input/output error\n"
                                     "error 5: (5) Input/output error\n")
    assert struct.pack("<i", pid) in meta
    _ok(ours(ceph_osd, *_p(ns), "cleanup"))
    assert _objects(ceph_osd, ns) == []


def test_cleanup_by_prefix_without_metadata(ceph_osd: CephCluster) -> None:
    ns = uniq("bench")
    _ok(real(ceph_osd, *_p(ns), "bench", "1", "write", "-b", "4096", "-t", "2",
             "--no-cleanup", "--max-objects", "4"))
    assert real(ceph_osd, *_p(ns), "rm", "benchmark_last_metadata").rc == 0
    a = _ok(ours(ceph_osd, *_p(ns), "cleanup"))
    assert a.text == "Warning: using slow linear search\nRemoved 4 objects\n"
    assert _objects(ceph_osd, ns) == []
    for tool in (ours, real):
        run = tool(ceph_osd, *_p(ns), "cleanup", "--prefix", "bogus")
        assert (run.rc, run.err_text) == (1, 'Specified --prefix invalid, it must begin with '
                                             '"benchmark_data"\nerror during cleanup: (22) '
                                             'Invalid argument\nerror 22: (22) Invalid '
                                             'argument\n')


def test_write_xattr_and_omap_destinations(ceph_osd: CephCluster) -> None:
    ns = uniq("bench")
    _ok(ours(ceph_osd, *_p(ns), "bench", "1", "write", "-b", "64", "-t", "1",
             "--max-objects", "2", "--no-cleanup", "--write-xattr", "--write-omap",
             "--write-object"))
    names = [n for n in _objects(ceph_osd, ns) if n != "benchmark_last_metadata"]
    assert len(names) == 2
    for name in names:
        assert real(ceph_osd, *_p(ns), "listxattr", name).text == "bench-xattr-key-0\n"
        assert real(ceph_osd, *_p(ns), "listomapkeys", name).text == "bench-omap-key-0\n"
        n = int(name.rsplit("object", 1)[1])
        assert real(ceph_osd, *_p(ns), "getxattr", name, "bench-xattr-key-0").out == \
            op_contents(n, 64)
    _ok(real(ceph_osd, *_p(ns), "cleanup"))


def test_objecter_throttle_option(ceph_osd: CephCluster) -> None:
    """``--objecter_inflight_ops`` (and from ``CEPH_ARGS``) throttles the bench's ops:
    they wait for the Objecter's budget and all complete."""
    ns = uniq("bench")
    w = _ok(ours(ceph_osd, *_p(ns), "--objecter_inflight_ops=2", "bench", "1", "write",
                 "-b", "4096", "-t", "8", "--no-cleanup"))
    made = _total(w, "Total writes made:")
    s = _ok(ours(ceph_osd, *_p(ns), "bench", "1", "seq", "-t", "8",
                 env={"CEPH_ARGS": "--objecter-inflight-ops 1"}))
    assert 0 < _total(s, "Total reads made:") <= made
    _ok(real(ceph_osd, *_p(ns), "cleanup"))
    assert _objects(ceph_osd, ns) == []
