"""A real mon's OSDMap history for the OSDMap tests (and the data generator).

:func:`build_history` drives a :class:`~ceph_cluster.MonCluster` through a fixed
list of ``ceph`` commands that touch every part of the OSDMap a Pacific mon can
change without OSD daemons: OSD ids (``osd create``/``osd new``/``purge-new``),
CRUSH (hosts, racks, weights, device classes, rules), replicated and erasure
pools (power-of-two and other pg_num, EC profiles with k/m), pool snapshots,
quotas, options and application metadata, ``pg-upmap``, ``pg-upmap-items``,
``pg-temp``, ``primary-temp``, primary affinity, ``osd out``, per-OSD and
per-CRUSH-node flags, blocklists (IPv4/IPv6), full ratios, cluster flags and a
pool deletion. Commands the Pacific mon asserts on for never-started OSDs
(``osd in``, ``osd reweight``, ``osd crush reweight``, ``osd destroy``) are
avoided (see rados.md).

:func:`record_history` sends them with asyncmsgr's MonClient, fetches every
epoch's full map (``osd getmap E``) and subscribes to ``osdmap`` from epoch 1:
the mon answers with MOSDMap incrementals.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ceph_cluster import MonCluster

from asyncmsgr.auth.base import ModeOptions
from asyncmsgr.auth.none import AuthNoneClient
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.message import Message
from asyncmsgr.messages import MOSDMap
from asyncmsgr.monc.client import MonClient, MonClientOptions
from asyncmsgr.osd.mapcommon import CEPH_OSD_UP
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.types import PG
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType

#: The mon commands, in order (the JSON ``ceph`` sends for them); each must succeed.
SCENARIO: list[dict[str, object]] = [
    {"prefix": "osd create"},
    {"prefix": "osd create"},
    {"prefix": "osd create"},
    {"prefix": "osd create"},
    {"prefix": "osd create"},
    {"prefix": "osd create"},
    {"prefix": "osd crush add",
     "id": 0,
     "weight": 1.0,
     "args": ["host=h0", "rack=r0", "root=default"]},
    {"prefix": "osd crush add",
     "id": 1,
     "weight": 1.0,
     "args": ["host=h0", "rack=r0", "root=default"]},
    {"prefix": "osd crush add",
     "id": 2,
     "weight": 0.5,
     "args": ["host=h1", "rack=r0", "root=default"]},
    {"prefix": "osd crush add",
     "id": 3,
     "weight": 1.0,
     "args": ["host=h1", "rack=r0", "root=default"]},
    {"prefix": "osd crush add",
     "id": 4,
     "weight": 2.0,
     "args": ["host=h2", "rack=r1", "root=default"]},
    {"prefix": "osd crush add",
     "id": 5,
     "weight": 1.0,
     "args": ["host=h2", "rack=r1", "root=default"]},
    {"prefix": "osd pool create", "pool": "rp", "pg_num": 32},
    {"prefix": "osd pool set", "pool": "rp", "var": "size", "val": "3"},
    {"prefix": "osd pool create", "pool": "rp12", "pg_num": 12, "pgp_num": 12},
    {"prefix": "osd pool set", "pool": "rp12", "var": "size", "val": "2"},
    {"prefix": "osd pool create", "pool": "rp3", "pg_num": 16, "pgp_num": 8},
    {"prefix": "osd erasure-code-profile set",
     "name": "k2m1",
     "profile": ["k=2", "m=1", "crush-failure-domain=osd"]},
    {"prefix": "osd pool create",
     "pool": "ec21",
     "pg_num": 16,
     "pgp_num": 16,
     "pool_type": "erasure",
     "erasure_code_profile": "k2m1"},
    {"prefix": "osd erasure-code-profile set",
     "name": "k3m2",
     "profile": ["k=3", "m=2", "crush-failure-domain=host"]},
    {"prefix": "osd pool create",
     "pool": "ec32",
     "pg_num": 24,
     "pgp_num": 24,
     "pool_type": "erasure",
     "erasure_code_profile": "k3m2"},
    {"prefix": "osd pool application enable", "pool": "rp", "app": "rbd"},
    {"prefix": "osd pg-upmap", "pgid": "1.0", "id": [0, 2, 4]},
    {"prefix": "osd pg-upmap-items", "pgid": "1.1", "id": [0, 5]},
    {"prefix": "osd pg-upmap-items", "pgid": "4.2", "id": [0, 5, 1, 3]},
    {"prefix": "osd pg-upmap-items", "pgid": "1.7", "id": [4, 1]},
    {"prefix": "osd pg-temp", "pgid": "1.2", "id": [4, 5]},
    {"prefix": "osd primary-temp", "pgid": "1.3", "id": 2},
    {"prefix": "osd primary-affinity", "id": 1, "weight": 0.5},
    {"prefix": "osd primary-affinity", "id": 3, "weight": 0.0},
    {"prefix": "osd out", "ids": ["2"]},
    {"prefix": "osd pool mksnap", "pool": "rp", "snap": "snap1"},
    {"prefix": "osd pool mksnap", "pool": "rp", "snap": "snap2"},
    {"prefix": "osd pool rmsnap", "pool": "rp", "snap": "snap1"},
    {"prefix": "osd blocklist", "blocklistop": "add", "addr": "127.0.0.1:0/123"},
    {"prefix": "osd blocklist", "blocklistop": "add", "addr": "10.0.0.5"},
    {"prefix": "osd blocklist", "blocklistop": "add", "addr": "[::1]:6789/99"},
    {"prefix": "osd blocklist", "blocklistop": "rm", "addr": "127.0.0.1:0/123"},
    {"prefix": "osd set", "key": "pause"},
    {"prefix": "osd set", "key": "noout"},
    {"prefix": "osd unset", "key": "pause"},
    {"prefix": "osd set-full-ratio", "ratio": 0.97},
    {"prefix": "osd set-nearfull-ratio", "ratio": 0.8},
    {"prefix": "osd pool rename", "srcpool": "rp12", "destpool": "rp12b"},
    {"prefix": "osd pool set", "pool": "rp3", "var": "min_size", "val": "1"},
    {"prefix": "osd pool set", "pool": "rp", "var": "compression_mode", "val": "aggressive"},
    {"prefix": "osd pool set", "pool": "rp", "var": "target_size_ratio", "val": "0.25"},
    {"prefix": "osd pool set-quota", "pool": "rp", "field": "max_objects", "val": "1000"},
    {"prefix": "osd pool application set",
     "pool": "rp",
     "app": "rbd",
     "key": "key",
     "value": "val"},
    {"prefix": "osd rm-pg-upmap-items", "pgid": "1.1"},
    {"prefix": "osd pg-upmap-items", "pgid": "1.5", "id": [1, 2]},
    {"prefix": "osd crush rule create-replicated",
     "name": "rrack",
     "root": "default",
     "type": "rack"},
    {"prefix": "osd crush set-device-class", "class": "ssd", "ids": ["osd.4", "osd.5"]},
    {"prefix": "osd crush rule create-replicated",
     "name": "rssd",
     "root": "default",
     "type": "host",
     "class": "ssd"},
    {"prefix": "osd pool create",
     "pool": "ssdpool",
     "pg_num": 8,
     "pgp_num": 8,
     "pool_type": "replicated",
     "erasure_code_profile": "rssd"},
    {"prefix": "osd pool create",
     "pool": "rackpool",
     "pg_num": 8,
     "pgp_num": 8,
     "pool_type": "replicated",
     "erasure_code_profile": "rrack"},
    {"prefix": "osd pool set", "pool": "rackpool", "var": "size", "val": "2"},
    {"prefix": "osd erasure-code-profile set", "name": "tmp", "profile": ["k=2", "m=2"]},
    {"prefix": "osd erasure-code-profile rm", "name": "tmp"},
    {"prefix": "osd pool delete",
     "pool": "rp3",
     "pool2": "rp3",
     "yes_i_really_really_mean_it": True},
    {"prefix": "osd new", "uuid": "6a3c8d52-1f4e-4b7a-9c0d-2e5f8a1b3c4d"},
    {"prefix": "osd purge-new", "id": 6, "yes_i_really_mean_it": True},
    {"prefix": "osd add-noup", "ids": ["osd.0"]},
    {"prefix": "osd set-group", "flags": "noout", "who": ["h1"]},
    {"prefix": "osd pool set", "pool": "ec21", "var": "allow_ec_overwrites", "val": "true"},
    {"prefix": "osd primary-affinity", "id": 1, "weight": 1.0},
    {"prefix": "osd out", "ids": ["5"]},
]


@dataclass
class History:
    """What :func:`record_history` saw."""

    fulls: dict[int, bytes]
    """Epoch to the full map ``osd getmap`` returned."""
    messages: list[MOSDMap]
    """The MOSDMaps answering an ``osdmap`` subscription from epoch 1."""


def mon_options() -> dict[str, str]:
    """Mon options that make each OSDMap change commit at once."""
    return {"paxos_propose_interval": "0.01", "paxos_min_wait": "0.001"}


def _client(cluster: MonCluster) -> MonClient:
    auth = AuthNoneClient(AuthName(EntityType.CLIENT, "admin"), modes=ModeOptions())
    options = MonClientOptions(hunt_interval=0.5, ping_interval=0.5, ping_timeout=3.0,
                               mount_timeout=20.0)
    return MonClient([EntityAddrVec.parse(a) for a in cluster.mon_addrs], auth_client=auth,
                     options=options)


async def run_commands(monc: MonClient, commands: list[dict[str, object]]) -> None:
    """Send each mon command; raise RuntimeError on the first failure."""
    for cmd in commands:
        res = await monc.command(cmd, timeout=30)
        if res.r != 0:
            raise RuntimeError(f"{cmd}: {res.r} {res.rs}")


async def newest_epoch(monc: MonClient) -> int:
    """The mon's current OSDMap epoch."""
    res = await monc.command({"prefix": "osd stat", "format": "json"}, timeout=30)
    return int(res.json()["epoch"])


async def fetch_full(monc: MonClient, epoch: int) -> bytes:
    """``osd getmap EPOCH``: the full map the mon stores."""
    res = await monc.command({"prefix": "osd getmap", "epoch": epoch}, timeout=30)
    if res.r != 0:
        raise RuntimeError(f"osd getmap {epoch}: {res.r} {res.rs}")
    return res.outbuf


async def subscribe(monc: MonClient, start: int, last: int) -> list[MOSDMap]:
    """Subscribe to ``osdmap`` from ``start``; the MOSDMaps up to epoch ``last``."""
    got: list[MOSDMap] = []
    done = asyncio.Event()

    class Tap(Dispatcher):
        """Sees every MOSDMap before the MonClient does."""

        def ms_dispatch(self, m: Message) -> bool:
            if isinstance(m, MOSDMap):
                got.append(m)
                if m.last >= last:
                    done.set()
            return False

    tap = Tap()
    monc.messenger.add_dispatcher_head(tap)
    monc.sub_want("osdmap", start)
    await asyncio.wait_for(done.wait(), 20)
    return got


async def _record(cluster: MonCluster) -> History:
    async with _client(cluster) as monc:
        await monc.connect(timeout=20)
        await run_commands(monc, SCENARIO)
        last = await newest_epoch(monc)
        fulls = {e: await fetch_full(monc, e) for e in range(1, last + 1)}
        messages = await subscribe(monc, 1, last)
    return History(fulls, messages)


def record_history(cluster: MonCluster) -> History:
    """Run :data:`SCENARIO`, then collect every full map and the incremental stream."""
    return asyncio.run(_record(cluster))


def inject_placement_overrides(m: OSDMap) -> None:
    """Add what a mon without running OSDs cleans away, to test placement with it.

    Marks osd.0, 1, 3 and 4 up (osd.5 stays down, osd.2 out), and adds pg_temp
    and primary_temp entries (with down and nonexistent OSDs, on replicated and EC
    pools, with and without each other), pg_upmap entries (one naming an out OSD,
    one on an EC pool), pg_upmap_items (a swap, a target already in the set, a
    source not in it) and primary affinities. Pools as :data:`SCENARIO` leaves
    them (1 rp, 2 rp12b, 4 ec21, 5 ec32, 6 ssdpool, 7 rackpool).
    """
    for osd in (0, 1, 3, 4):
        m.osd_state[osd] |= CEPH_OSD_UP
    m.pg_temp.update({
        PG(1, 2): (4, 5), PG(1, 3): (5, 1, 0), PG(2, 4): (3,), PG(1, 0x1F): (6, 0),
        PG(4, 1): (0, 2, 5), PG(5, 3): (0, 1, 2, 3, 4), PG(7, 2): (5,),
    })
    m.primary_temp.update({PG(1, 3): 1, PG(1, 4): 3, PG(4, 2): 4, PG(2, 5): 5})
    m.pg_upmap.update({PG(1, 5): (0, 3, 4), PG(1, 6): (2, 3, 4), PG(4, 3): (5, 0, 3)})
    m.pg_upmap_items.update({
        PG(1, 6): ((3, 1),), PG(1, 8): ((0, 4), (4, 0)), PG(5, 6): ((0, 5), (1, 2)),
        PG(2, 1): ((99, 1),), PG(1, 9): ((1, 0), (3, 4)), PG(4, 7): ((0, 1),),
    })
    m.set_primary_affinity(0, 0x4000)
    m.set_primary_affinity(4, 0)
