"""Fixtures with real Ceph clusters (see :mod:`asyncmsgr.testing.ceph_cluster`).

* ``ceph_mon``: a one-mon cluster (msgr2 + msgr1, cephx with auth none also
  allowed), shared by the whole session. Tests must leave it running and in
  quorum (kill or restart only on a private :class:`MonCluster`).
* ``ceph_mon_pair``: a two-mon cluster (mons ``a`` and ``b``), shared by the
  session; a test that kills a mon restarts it and calls ``wait_ready()``.
* ``ceph_mon_v1``: a one-mon msgr v1-only cluster (``ms_bind_msgr2 = false``, a
  v1-only monmap; cephx with auth none also allowed), shared by a test module.
* ``ceph_osd``: one mon and one memstore OSD (msgr2 + msgr1, cephx with auth
  none also allowed), pool ``ceph_osd.pool`` (``test``, 8 PGs, size 1), shared by
  the session. Tests may write objects and create pools; they must not delete
  pools (memstore's used-bytes underflow marks the OSD full) nor stop the OSD.
* ``ceph_osd3``: one mon and three OSDs, pool ``test`` of size 3, shared by the
  session (same rules).
* ``mon_cluster_factory`` (also ``ceph_cluster_factory``): builds private clusters
  (any :class:`~asyncmsgr.testing.ceph_cluster.CephCluster` options, e.g.
  ``num_osds=1, msgr="v1"``), stopped at the end of the test.

Every fixture skips the test, with the reason, only when ``ceph-mon`` (or, for
OSD clusters, ``ceph-osd``) is not installed (``.ci/run`` installs both, so CI
runs these tests). When a test that uses a cluster fails, the tail of each
daemon's log is added to the report.

Start-up here (2 vCPUs, shared): one OSD about 1.2 s, three OSDs 2.3-3.5 s; stop under 1 s.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest
from ceph_cluster import (
    CephCluster,
    MonCluster,
    MonClusterFactory,
    ceph_mon_binary,
    ceph_osd_binary,
)

_SKIP_REASON = ("ceph-mon is not installed (apt-get install ceph-mon ceph-common; "
                "see .ci/run)")
_SKIP_OSD_REASON = "ceph-osd is not installed (apt-get install ceph-osd; see .ci/run)"


def _require_ceph_mon() -> None:
    if ceph_mon_binary() is None:
        pytest.skip(_SKIP_REASON)


def _require_ceph_osd() -> None:
    _require_ceph_mon()
    if ceph_osd_binary() is None:
        pytest.skip(_SKIP_OSD_REASON)


def _started(**options: Any) -> MonCluster:
    cluster = MonCluster(**options)
    cluster.start()
    try:
        cluster.wait_ready()
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="session")
def ceph_mon() -> Iterator[MonCluster]:
    """A running one-mon cluster allowing cephx and auth none."""
    _require_ceph_mon()
    cluster = _started(num_mons=1, auth_none=True)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def ceph_mon_pair() -> Iterator[MonCluster]:
    """A running two-mon cluster (``a``, ``b``) allowing cephx and auth none."""
    _require_ceph_mon()
    cluster = _started(num_mons=2, auth_none=True)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def ceph_mon_v1() -> Iterator[MonCluster]:
    """A running one-mon msgr v1-only cluster allowing cephx and auth none."""
    _require_ceph_mon()
    cluster = _started(num_mons=1, auth_none=True, msgr="v1")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def ceph_osd() -> Iterator[CephCluster]:
    """A running cluster of one mon and one memstore OSD, pool ``test`` (size 1)."""
    _require_ceph_osd()
    cluster = _started(num_mons=1, num_osds=1, auth_none=True)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def ceph_osd3() -> Iterator[CephCluster]:
    """A running cluster of one mon and three memstore OSDs, pool ``test`` (size 3)."""
    _require_ceph_osd()
    cluster = _started(num_mons=1, num_osds=3, auth_none=True)
    yield cluster
    cluster.stop()


@pytest.fixture
def mon_cluster_factory() -> Iterator[MonClusterFactory]:
    """``factory(**CephCluster options)`` -> a started, ready cluster, stopped afterwards.

    Skips when the cluster asked for needs a Ceph daemon that is not installed.
    """
    _require_ceph_mon()
    made: list[MonCluster] = []

    def factory(**options: Any) -> MonCluster:
        if options.get("num_osds"):
            _require_ceph_osd()
        cluster = _started(**options)
        made.append(cluster)
        return cluster

    yield factory
    for cluster in made:
        cluster.stop()


@pytest.fixture
def ceph_cluster_factory(mon_cluster_factory: MonClusterFactory) -> MonClusterFactory:
    """The same factory under the cluster's name."""
    return mon_cluster_factory


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.failed:
        funcargs: dict[str, object] = getattr(item, "funcargs", {})
        for name, value in funcargs.items():
            if isinstance(value, MonCluster) and value.is_started:
                report.sections.append((f"daemon log tail ({name})",
                                        value.log_tail(lines=30)))
    return report
