"""pytest fixtures for the fake Ceph cluster (registered through the ``pytest11``
entry point ``asyncmsgr``, so installing asyncmsgr is enough to use them).

* ``fake_cluster``: a started :class:`~asyncmsgr.testing.fake_cluster.FakeCluster`
  (its own thread and event loop; a fresh one per test, about 10 ms to start)
  with ``ceph.conf`` and ``ceph.client.admin.keyring`` written in the test's
  ``tmp_path``. Defaults: one mon, one OSD, pool ``test``, cephx. Change them
  with a marker::

      @pytest.mark.fake_cluster(osds=3, pools=["rbd", "data"], auth="none")
      def test_something(fake_cluster):
          subprocess.run(["rados", "-c", str(fake_cluster.conf_path), "-p", "rbd", "ls"])

* ``fake_ceph_env``: the same cluster, with ``CEPH_CONF`` and ``CEPH_KEYRING``
  set in the environment for the test (the real tools and librados then find it
  without ``-c``); yields the cluster.
* ``fake_cluster_factory``: ``make(**kwargs)`` starts more clusters (any
  :class:`FakeCluster` argument); all are stopped after the test.

The module imports the cluster only when a fixture is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from asyncmsgr.testing.fake_cluster import FakeCluster

#: What the ``fake_cluster`` fixture starts unless a marker says otherwise.
DEFAULTS: dict[str, Any] = {"osds": 1, "pools": ("test",)}


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fake_cluster`` marker."""
    config.addinivalue_line(
        "markers", "fake_cluster(**kwargs): FakeCluster arguments for the fake_cluster, "
                   "fake_ceph_env fixtures (osds, mons, pools, auth, msgr, ms_mode ...)")


def _start(kwargs: dict[str, Any], conf_dir: Path) -> FakeCluster:
    from asyncmsgr.testing.fake_cluster import FakeCluster  # noqa: PLC0415  (lazy)
    cluster = FakeCluster(**{**DEFAULTS, **kwargs, "conf_dir": conf_dir})
    return cluster.__enter__()


@pytest.fixture
def fake_cluster_factory(tmp_path: Path) -> Iterator[Callable[..., FakeCluster]]:
    """``make(**kwargs)``: start a FakeCluster (conf in its own directory of tmp_path)."""
    started: list[FakeCluster] = []

    def make(**kwargs: Any) -> FakeCluster:
        conf_dir = tmp_path / f"fake-cluster-{len(started)}"
        cluster = _start(kwargs, conf_dir)
        started.append(cluster)
        return cluster

    yield make
    for cluster in reversed(started):
        cluster.__exit__(None, None, None)


@pytest.fixture
def fake_cluster(request: pytest.FixtureRequest,
                 fake_cluster_factory: Callable[..., FakeCluster]) -> FakeCluster:
    """A started fake cluster (marker ``fake_cluster(**kwargs)`` for its arguments)."""
    marker = request.node.get_closest_marker("fake_cluster")
    kwargs: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    return fake_cluster_factory(**kwargs)


@pytest.fixture
def fake_ceph_env(fake_cluster: FakeCluster,
                  monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    """``fake_cluster`` with CEPH_CONF and CEPH_KEYRING set for the test."""
    for name, value in fake_cluster.client_env().items():
        monkeypatch.setenv(name, value)
    return fake_cluster


__all__ = ["DEFAULTS", "fake_ceph_env", "fake_cluster", "fake_cluster_factory",
           "pytest_configure"]
