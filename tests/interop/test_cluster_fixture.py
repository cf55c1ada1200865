"""The real-monitor fixtures work: quorum, fsid, auth none, kill and restart."""

from __future__ import annotations

import pytest
from ceph_cluster import CephCommandError, MonCluster, MonClusterFactory

from asyncmsgr.testing import ceph_daemons

pytestmark = [pytest.mark.interop, pytest.mark.timeout(60)]


def _status(cluster: MonCluster, *extra: str) -> dict[str, object]:
    status = cluster.ceph_json(*extra, "-s")
    assert isinstance(status, dict)
    return status


def test_one_mon_in_quorum(ceph_mon: MonCluster) -> None:
    status = _status(ceph_mon)
    assert status["fsid"] == ceph_mon.fsid
    assert status["quorum_names"] == ["a"]
    health = status["health"]
    assert isinstance(health, dict)
    assert health["status"] == "HEALTH_OK", health
    assert ceph_mon.startup_seconds is not None


def test_one_mon_addresses(ceph_mon: MonCluster) -> None:
    dump = ceph_mon.ceph_json("mon", "dump")
    assert isinstance(dump, dict)
    (mon,) = dump["mons"]
    spec = ceph_mon.mons[0]
    addrs = [(a["type"], a["addr"]) for a in mon["public_addrs"]["addrvec"]]
    assert addrs == [("v2", f"127.0.0.1:{spec.v2_port}"), ("v1", f"127.0.0.1:{spec.v1_port}")]
    assert ceph_mon.mon_addrs == [
        f"[v2:127.0.0.1:{spec.v2_port},v1:127.0.0.1:{spec.v1_port}]"]


def test_auth_none_allowed(ceph_mon: MonCluster) -> None:
    status = _status(ceph_mon, "--auth_client_required=none")
    assert status["fsid"] == ceph_mon.fsid


def test_ceph_error_carries_stderr(ceph_mon: MonCluster) -> None:
    with pytest.raises(CephCommandError) as info:
        ceph_mon.ceph("no-such-command")
    assert info.value.returncode != 0
    assert info.value.stderr


def test_admin_key_in_keyring(ceph_mon: MonCluster) -> None:
    assert ceph_mon.ceph("auth", "print-key", "client.admin").strip() == ceph_mon.admin_key


def test_two_mons_in_quorum(ceph_mon_pair: MonCluster) -> None:
    status = _status(ceph_mon_pair)
    assert status["quorum_names"] == ["a", "b"]
    assert len(ceph_mon_pair.mon_addrs) == 2


def test_kill_and_restart_one_of_two(ceph_mon_pair: MonCluster) -> None:
    # With two mons a majority is both, so a killed mon must come back for quorum.
    ceph_mon_pair.kill("b")
    assert not ceph_mon_pair.is_running("b")
    assert ceph_mon_pair.is_running("a")
    # while it is down its ports stay reserved: no other test process picks them
    (spec,) = (m for m in ceph_mon_pair.mons if m.mon_id == "b")
    for port in spec.ports:
        assert port in ceph_daemons._held_ports
    ceph_mon_pair.restart("b")
    ceph_mon_pair.wait_ready(timeout=30)
    assert _status(ceph_mon_pair)["quorum_names"] == ["a", "b"]


def test_cephx_only_refuses_auth_none(mon_cluster_factory: MonClusterFactory) -> None:
    cluster = mon_cluster_factory(auth_none=False, msgr="v1")
    assert cluster.mon_host.startswith("v1:")
    dump = cluster.ceph_json("mon", "dump")
    assert isinstance(dump, dict)
    assert [a["type"] for a in dump["mons"][0]["public_addrs"]["addrvec"]] == ["v1"]
    with pytest.raises(CephCommandError):
        cluster.ceph("--auth_client_required=none", "-s", connect_timeout=3, timeout=20)
    cluster.kill("a")
    cluster.restart("a")
    cluster.wait_ready()
    assert _status(cluster)["quorum_names"] == ["a"]
