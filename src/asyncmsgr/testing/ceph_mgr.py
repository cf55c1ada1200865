"""The ceph-mgr of a :class:`~asyncmsgr.testing.ceph_cluster.CephCluster`.

One manager, ``mgr.x``, with a fixed test key (:data:`MGR_KEY`, test-only
secret) and the caps ``ceph auth get-or-create`` would give it. It runs in the
foreground (``ceph-mgr -f -i x``) with ``mgr_standby_modules = false`` and only
the modules Pacific always runs (``always_on_modules``: balancer, crash,
devicehealth, orchestrator, pg_autoscaler, progress, rbd_support, status,
telemetry, volumes; leaving one out is a ``MGR_MODULE_ERROR`` health error) plus
``iostat``: every other module is in ``mgr_disabled_modules`` (no dashboard, no
prometheus, no restful). Loading the modules is most of its start-up (about
4 s here on 2 vCPUs, about 12 s with every module).

So that it does not change the cluster under the tests' feet:
``mgr/devicehealth/enable_monitoring`` is off (set in the mons' configuration
database before it starts; no ``device_health_metrics`` pool) and new pools
get ``pg_autoscale_mode = off`` (the autoscaler leaves ``pg_num`` alone).

Ready means the mon's MgrMap names it active and available (``ceph mgr stat``).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from asyncmsgr.testing.ceph_daemons import (
    CephCommandError,
    MonClusterError,
    admin_socket_command,
)

if TYPE_CHECKING:
    from asyncmsgr.testing.ceph_cluster import CephCluster

MGR_ID = "x"
#: ``mgr.x``'s key (test-only secret).
MGR_KEY = "AQAA8VNlAAAAABAAjaG+kcgx3YNFsVukF/TffQ=="
MGR_CAPS = ("mon", "allow profile mgr", "osd", "allow *", "mds", "allow *")

#: Pacific's always-on modules: loaded (a missing one is a health error).
ALWAYS_ON_MODULES = ("balancer", "crash", "devicehealth", "orchestrator", "pg_autoscaler",
                     "progress", "rbd_support", "status", "telemetry", "volumes")
#: Modules never loaded (``mgr_disabled_modules``): every other one but iostat.
DISABLED_MODULES = ("alerts", "cephadm", "dashboard", "diskprediction_local", "influx",
                    "insights", "k8sevents", "localpool", "mds_autoscaler", "mirroring",
                    "nfs", "osd_perf_query", "osd_support", "prometheus", "restful",
                    "rook", "selftest", "snap_schedule", "stats", "telegraf",
                    "test_orchestrator", "zabbix")

#: ``ceph config set mgr NAME VALUE --force`` before the manager starts (module options
#: live in the mons' configuration database, not in ``ceph.conf``; unknown to the mons
#: until a manager declares them, hence --force).
MGR_CONFIG_DB = ("mgr/devicehealth/enable_monitoring", "false", "--force")

#: ``[global]`` options a cluster with a manager gets.
MGR_GLOBAL_OPTIONS: Mapping[str, str] = {
    "osd_pool_default_pg_autoscale_mode": "off",
    # the mon creates the first MgrMap with these enabled (Pacific: restful iostat nfs)
    "mgr_initial_modules": "iostat",
}


def mgr_conf_lines(data_dir: str) -> list[str]:
    """The ``[mgr]`` section of ``ceph.conf``."""
    return [
        "[mgr]",
        f"    mgr_data = {data_dir}/$cluster-$id",
        "    mgr_standby_modules = false",
        f"    mgr_disabled_modules = {' '.join(DISABLED_MODULES)}",
    ]


def mgr_stat_ready(stat: object, mgr_id: str = MGR_ID) -> bool:
    """Whether ``ceph mgr stat --format json`` names ``mgr_id`` active and available."""
    return (isinstance(stat, dict) and stat.get("available") is True
            and stat.get("active_name") == mgr_id)


def wait_available(cluster: CephCluster, timeout: float = 60.0) -> None:
    """Wait until ``ceph mgr stat`` says ``mgr.x`` is active and available; first
    until its admin socket says it is initialized, to spare ``ceph`` calls.

    Raises MonClusterError when it exits or ``timeout`` passes.
    """
    deadline = time.monotonic() + timeout
    daemon = f"mgr.{MGR_ID}"
    while True:
        if not cluster.is_running(daemon):
            raise MonClusterError(f"{daemon} is not running\n{cluster.log_tail(daemon)}")
        try:
            status = admin_socket_command(cluster.asok_path(daemon), "mgr_status")
        except (OSError, ValueError):
            status = None
        if isinstance(status, dict) and status.get("initialized"):
            try:
                stat = cluster.ceph_json("mgr", "stat", timeout=10)
            except (CephCommandError, subprocess.TimeoutExpired, ValueError):
                stat = None
            if mgr_stat_ready(stat):
                return
        if time.monotonic() > deadline:
            raise MonClusterError(f"{daemon} not available after {timeout} s\n"
                                  f"{cluster.log_tail(daemon, lines=20)}")
        time.sleep(0.1)


__all__ = [
    "ALWAYS_ON_MODULES",
    "DISABLED_MODULES",
    "MGR_CAPS",
    "MGR_CONFIG_DB",
    "MGR_GLOBAL_OPTIONS",
    "MGR_ID",
    "MGR_KEY",
    "mgr_conf_lines",
    "mgr_stat_ready",
    "wait_available",
]
