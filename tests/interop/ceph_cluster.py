"""Real Ceph clusters for interop tests: re-exports :mod:`asyncmsgr.testing.ceph_cluster`.

The builder lives in the package (users and benchmarks start the same cluster
with ``python -m asyncmsgr.testing.ceph_cluster``); this module keeps the names
the tests and helpers import (``from ceph_cluster import MonCluster``).
"""

from __future__ import annotations

from asyncmsgr.testing.ceph_cluster import (
    ADMIN_KEY,
    FSID,
    MON_KEY,
    CephCluster,
    CephClusterError,
    CephClusterFactory,
    CephCommandError,
    MonCluster,
    MonClusterError,
    MonClusterFactory,
    MonSpec,
    MsgrMode,
    admin_socket_command,
    ceph_binary,
    ceph_mon_binary,
    ceph_osd_binary,
    osd_key,
    osd_uuid,
    pick_ports,
)

__all__ = [
    "ADMIN_KEY",
    "FSID",
    "MON_KEY",
    "CephCluster",
    "CephClusterError",
    "CephClusterFactory",
    "CephCommandError",
    "MonCluster",
    "MonClusterError",
    "MonClusterFactory",
    "MonSpec",
    "MsgrMode",
    "admin_socket_command",
    "ceph_binary",
    "ceph_mon_binary",
    "ceph_osd_binary",
    "osd_key",
    "osd_uuid",
    "pick_ports",
]
