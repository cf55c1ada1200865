"""Mon test ports are reserved machine-wide while a cluster holds them.

A stopped daemon's port can be bound, so the bind check alone would hand it to
another test process between the daemon's stop and its restart; the ``flock``
reservation of :func:`pick_ports` keeps it until :func:`release_ports`.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from asyncmsgr.testing import ceph_daemons
from asyncmsgr.testing.ceph_daemons import MonClusterError, pick_ports, release_ports

pytestmark = pytest.mark.timeout(30)

V1_RANGE = set(range(7600, 7700))


def _reservable_by_another_process(port: int) -> bool:
    code = ("import sys; from asyncmsgr.testing.ceph_daemons import _reserve;"
            f"sys.exit(0 if _reserve({port}) else 3)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=20, check=False)
    assert out.returncode in (0, 3), out.stderr
    return out.returncode == 0


def test_a_picked_port_stays_reserved_until_released() -> None:
    (port,) = pick_ports("v1", 1, set())
    try:
        assert port in V1_RANGE
        assert not _reservable_by_another_process(port)
        # nothing listens on it, yet a pick that could only return it fails
        with pytest.raises(MonClusterError, match="no free v1 ports"):
            pick_ports("v1", 1, V1_RANGE - {port})
    finally:
        release_ports([port])
    assert _reservable_by_another_process(port)


def test_a_failed_pick_reserves_nothing() -> None:
    before = dict(ceph_daemons._held_ports)
    with pytest.raises(MonClusterError, match="no free v2 ports"):
        pick_ports("v2", 101, set())  # more than 3300-3399 holds
    assert ceph_daemons._held_ports == before


def test_release_ignores_ports_not_held() -> None:
    before = dict(ceph_daemons._held_ports)
    release_ports([1, 7600 if 7600 not in before else 7601])
    assert ceph_daemons._held_ports == before
