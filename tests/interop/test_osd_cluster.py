"""The OSD cluster fixtures and ``python -m asyncmsgr.testing.ceph_cluster`` work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ceph_cluster import CephCluster, MonClusterFactory, ceph_mon_binary, osd_key

from asyncmsgr.auth.keyring import CryptoKey, Keyring

pytestmark = [pytest.mark.interop, pytest.mark.timeout(90)]


def test_one_osd_cluster(ceph_osd: CephCluster, tmp_path: Path) -> None:
    dump = ceph_osd.osd_dump()
    assert [(o["osd"], o["up"], o["in"]) for o in dump["osds"]] == [(0, 1, 1)]
    (pool,) = [p for p in dump["pools"] if p["pool_name"] == "test"]
    assert (pool["size"], pool["pg_num"]) == (1, ceph_osd.pg_num)
    status = ceph_osd.osd_status(0)
    assert status is not None
    assert status["state"] == "active"
    assert ceph_osd.startup_seconds is not None
    assert ceph_osd.startup_seconds < 30
    src = tmp_path / "in"
    src.write_bytes(b"fixture")
    ceph_osd.rados("-p", "test", "put", "fixture-obj", str(src))
    assert ceph_osd.rados("-p", "test", "stat", "fixture-obj").strip().endswith(b"size 7")


def test_three_osd_cluster(ceph_osd3: CephCluster) -> None:
    dump = ceph_osd3.osd_dump()
    assert [(o["osd"], o["up"]) for o in dump["osds"]] == [(0, 1), (1, 1), (2, 1)]
    (pool,) = dump["pools"]
    assert (pool["pool_name"], pool["size"], pool["min_size"]) == ("test", 3, 2)


def test_osd_keys_are_the_fixed_test_keys(ceph_osd3: CephCluster) -> None:
    ring = Keyring.from_file(str(ceph_osd3.keyring_path))
    for i in ceph_osd3.osd_ids:
        assert ring.get(f"osd.{i}") == CryptoKey.from_base64(osd_key(i))
        assert ceph_osd3.ceph("auth", "print-key", f"osd.{i}").strip() == osd_key(i)
    caps = ceph_osd3.ceph_json("auth", "get", "osd.1")
    assert isinstance(caps, list)
    assert caps[0]["caps"] == {"mgr": "allow profile osd", "mon": "allow profile osd",
                               "osd": "allow *"}


def test_osd_restart_keeps_data(mon_cluster_factory: MonClusterFactory,
                                tmp_path: Path) -> None:
    cluster = mon_cluster_factory(num_osds=1)
    src = tmp_path / "in"
    src.write_bytes(b"survives a clean restart")
    cluster.rados("-p", "test", "put", "keep", str(src))
    old = cluster.pid("osd.0")
    cluster.restart("osd.0")  # SIGTERM: memstore saves its data
    assert cluster.pid("osd.0") not in (None, old)
    cluster.wait_ready()
    out = tmp_path / "out"
    cluster.rados("-p", "test", "get", "keep", str(out))
    assert out.read_bytes() == src.read_bytes()


def _daemons_using(conf: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(conf).encode() in argv and Path(argv[0].decode()).name in ("ceph-mon",
                                                                        "ceph-osd"):
            pids.append(int(entry.name))
    return pids


@pytest.mark.timeout(120)
def test_entry_point_runs_until_sigterm(tmp_path: Path) -> None:
    """``python -m asyncmsgr.testing.ceph_cluster --osds 1 --dir D``: what users run."""
    d = tmp_path / "cluster"
    proc = subprocess.Popen(
        [sys.executable, "-m", "asyncmsgr.testing.ceph_cluster", "--osds", "1",
         "--dir", str(d)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("CEPH_KEYRING="):
                break
        text = "".join(lines)
        assert "ready in" in text, text
        conf = d / "ceph.conf"
        assert f"CEPH_CONF={conf}" in text
        assert _daemons_using(conf)
        out = subprocess.run(["rados", "-c", str(conf), "-k", str(d / "keyring"), "lspools"],
                             capture_output=True, text=True, timeout=30, check=True)
        assert out.stdout.split() == ["test"]
        os.kill(proc.pid, signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert rest.strip().endswith("stopped")
    assert not _daemons_using(conf)
    assert conf.exists()  # --dir is kept


def test_long_directory_gets_short_socket_paths(tmp_path: Path) -> None:
    """Unix socket paths hold 107 bytes: a long cluster directory moves the admin
    sockets to a short temporary directory (removed on stop)."""
    if ceph_mon_binary() is None:
        pytest.skip("ceph-mon is not installed")
    long_dir = tmp_path / ("d" * 80)
    cluster = CephCluster(cluster_dir=long_dir)
    with cluster:
        cluster.wait_ready()
        run = cluster.run_dir
        assert run.parent != long_dir
        assert cluster.asok_path("a").exists()
        assert cluster.ceph("fsid").strip() == cluster.fsid
    assert not run.exists()
    assert (long_dir / "ceph.conf").exists()
