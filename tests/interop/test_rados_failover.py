"""Exactly once across OSD failures: a workload of appends and overwrites on three
memstore OSDs (size-3 pool) while an OSD is killed and restarted, or marked out.

Appends expose any op applied twice (or lost); every object is read back by
asyncmsgr and by the C++ ``rados`` tool and must be exactly what the client was
told it wrote. The OSDs back clients off the PGs they peer (MOSDBackoff), so the
restart also exercises backoffs. The clusters are private (the test kills daemons) and detect a dead
OSD in about two seconds (fast heartbeats, one reporter suffices).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from ceph_cluster import CephCluster, MonClusterFactory
from rados_util import client, run

from asyncmsgr.osd.types import ObjectLocator
from asyncmsgr.rados import IoCtx, Rados

pytestmark = [pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(240)]

FAST_FAILURE = {
    "osd_heartbeat_interval": "1",
    "osd_heartbeat_grace": "3",
    "mon_osd_min_down_reporters": "1",
    "mon_osd_reporter_subtree_level": "osd",
    "osd_beacon_report_interval": "5",
    "mon_osd_down_out_interval": "0",
    # the OSDs ask clients to back off PGs while they peer (MOSDBackoff)
    "osd_backoff_on_peering": "true",
}
OBJECTS = 12


def _cluster(factory: MonClusterFactory) -> CephCluster:
    cluster = factory(num_osds=3, extra_conf=FAST_FAILURE)
    assert isinstance(cluster, CephCluster)
    return cluster


class Workload:
    """Writers appending numbered records to their objects until told to stop."""

    def __init__(self, ioctx: IoCtx, prefix: str) -> None:
        self.ioctx = ioctx
        self.prefix = prefix
        self.expected: dict[str, bytes] = {}
        self.done = 0
        self.stop = asyncio.Event()

    def name(self, i: int) -> str:
        return f"{self.prefix}-{i}"

    async def writer(self, i: int) -> None:
        oid = self.name(i)
        await self.ioctx.write_full(oid, b"head;")
        content = b"head;"
        n = 0
        while not self.stop.is_set():
            rec = f"{i}:{n};".encode()
            if n % 7 == 6:  # now and then a whole rewrite, then appends go on
                content = b"re" + rec
                await self.ioctx.write_full(oid, content)
            else:
                await self.ioctx.append(oid, rec)
                content += rec
            self.expected[oid] = content
            self.done += 1
            n += 1

    async def run_while(self, action: Callable[[], Awaitable[None]]) -> None:
        writers = [asyncio.ensure_future(self.writer(i)) for i in range(OBJECTS)]
        try:
            while self.done < 60:  # the workload is under way
                await asyncio.sleep(0.05)
            await action()
            target = self.done + 200
            while self.done < target:  # and goes on after the change
                await asyncio.sleep(0.05)
        finally:
            self.stop.set()
            await asyncio.gather(*writers)

    async def verify(self) -> None:
        for oid, content in self.expected.items():
            got = await self.ioctx.read(oid, len(content) + 100)
            assert got == content, f"{oid}: {len(got)} bytes, expected {len(content)}"


def _tool_check(cluster: CephCluster, expected: dict[str, bytes]) -> None:
    for oid, content in expected.items():
        assert cluster.rados("-p", "test", "get", oid, "-") == content, oid


async def _wait_for(cond: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.1)


def _up_osds(cluster: CephCluster) -> set[int]:
    return {o["osd"] for o in cluster.osd_dump()["osds"] if o["up"]}


def test_osd_killed_and_restarted_mid_workload(ceph_cluster_factory: MonClusterFactory) -> None:
    cluster = _cluster(ceph_cluster_factory)

    async def body() -> None:
        async with client(cluster) as rados:
            ioctx = await rados.open_ioctx("test")
            load = Workload(ioctx, "kill")
            victim = 0

            async def kill_and_restart() -> None:
                # the primary of some of the objects, whatever it is: osd.0 serves a third
                await asyncio.to_thread(cluster.kill, f"osd.{victim}")
                await _wait_for(lambda: victim not in _up_osds(cluster), 60)
                await asyncio.sleep(1.0)  # writes go on with two replicas
                await asyncio.to_thread(cluster.restart, f"osd.{victim}")
                await asyncio.to_thread(cluster.wait_osds_up, 60.0)

            await load.run_while(kill_and_restart)
            await load.verify()
            counters = rados.objecter.perf_dump()
            assert counters["op_resend"] or counters["osd_session_close"]
            assert counters["map_inc"] >= 2
            # peering PGs of the restarted OSD blocked some ops (MOSDBackoff), and
            # they went again on unblock
            assert counters["osd_backoff_block"] > 0
            expected = load.expected

        _tool_check(cluster, expected)

    run(body, timeout=200)


def test_osd_marked_out_and_in_mid_workload(ceph_cluster_factory: MonClusterFactory) -> None:
    cluster = _cluster(ceph_cluster_factory)

    async def body() -> None:
        async with client(cluster) as rados:
            ioctx = await rados.open_ioctx("test")
            load = Workload(ioctx, "out")

            async def out_and_in() -> None:
                before = rados.objecter.osdmap.epoch
                await asyncio.to_thread(cluster.ceph, "osd", "out", "1")
                await _wait_for(lambda: rados.objecter.osdmap.epoch > before, 30)
                await asyncio.sleep(1.0)
                await asyncio.to_thread(cluster.ceph, "osd", "in", "1")

            await load.run_while(out_and_in)
            await load.verify()
            expected = load.expected

        _tool_check(cluster, expected)

    run(body, timeout=200)


def test_primary_moves_by_primary_affinity(ceph_cluster_factory: MonClusterFactory) -> None:
    """Primary affinity 0 on every OSD but one moves every primary there: each op
    in flight is resent to its new primary (same reqid) and applied once."""
    cluster = _cluster(ceph_cluster_factory)

    async def body() -> None:
        rados: Rados
        async with client(cluster) as rados:
            ioctx = await rados.open_ioctx("test")
            load = Workload(ioctx, "aff")

            async def move_primaries() -> None:
                await asyncio.to_thread(cluster.ceph, "osd", "primary-affinity", "osd.0", "0")
                await asyncio.to_thread(cluster.ceph, "osd", "primary-affinity", "osd.1", "0")

            await load.run_while(move_primaries)
            await load.verify()
            expected = load.expected
            o = rados.objecter
            for oid in expected:  # we aim where the cluster says, and that is osd.2
                t = o.new_op(oid, ObjectLocator(ioctx.pool_id), [], 0).target
                o._calc_target(t)
                got = cluster.ceph_json("osd", "map", "test", oid)
                assert isinstance(got, dict)
                assert t.osd == got["acting_primary"] == 2

        _tool_check(cluster, expected)

    run(body, timeout=200)


def test_osd_sessions_use_renewed_tickets(ceph_cluster_factory: MonClusterFactory) -> None:
    """Service tickets that live 5 s: long after the first ones expired, a restarted
    OSD is dialled again with an authorizer from a renewed ticket (cephx)."""
    cluster = ceph_cluster_factory(num_osds=1, extra_conf={"auth_service_ticket_ttl": "5"})
    assert isinstance(cluster, CephCluster)

    async def body() -> None:
        async with client(cluster, auth_client_required="cephx") as rados:
            ioctx = await rados.open_ioctx("test")
            await ioctx.write_full("renew", b"1")
            assert rados.monc is not None
            renewals = rados.monc.renewals
            await asyncio.sleep(12)  # two lifetimes
            assert rados.monc.renewals > renewals
            await asyncio.to_thread(cluster.restart, "osd.0")  # clean: data kept
            await asyncio.to_thread(cluster.wait_osds_up, 60.0)
            await ioctx.append("renew", b"2")
            assert await ioctx.read("renew") == b"12"
            assert rados.objecter.perf_dump()["osd_session_open"] >= 2

    run(body, timeout=120)
