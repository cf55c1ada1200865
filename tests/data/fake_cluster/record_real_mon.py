"""Record a real Pacific mon's answers, the reference the fake cluster's tests compare with.

Run from the repository root (needs ceph-mon and ceph-osd)::

    .venv/bin/python tests/data/fake_cluster/record_real_mon.py

Starts one mon and three memstore OSDs (``asyncmsgr.testing.ceph_cluster``, pool
``test``, size 3), writes one object, and stores in ``real_mon.json``:

* ``descriptions``: ``get_command_descriptions`` as the mon answers it;
* ``tell_descriptions``: the same asked of ``tell mon.a`` (an MCommand);
* ``commands``: for each JSON command of :data:`COMMANDS`, ``[r, rs, outbuf]``
  (outbuf as text; JSON outputs stay JSON text);
* ``mgrmap_front``: the MMgrMap front the mon sends (hex; no manager runs).

Tests compare the fake's descriptors and its outputs' JSON keys with these.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from asyncmsgr.auth.cephx import CephxClient, CryptoKey, Keyring
from asyncmsgr.monc.client import MonClient
from asyncmsgr.monc.sync import SyncMonClient
from asyncmsgr.testing.ceph_cluster import CephCluster
from asyncmsgr.types import AuthName, EntityAddrVec

HERE = Path(__file__).resolve().parent

#: The commands recorded (all with ``format`` json unless they set it).
COMMANDS: list[dict[str, Any]] = [
    {"prefix": "status"}, {"prefix": "status", "format": "plain"},
    {"prefix": "health"}, {"prefix": "health", "detail": "detail"},
    {"prefix": "health", "format": "plain"},
    {"prefix": "mon dump"}, {"prefix": "mon dump", "format": "plain"}, {"prefix": "mon stat"},
    {"prefix": "quorum_status"}, {"prefix": "version"}, {"prefix": "versions"},
    {"prefix": "mon versions"}, {"prefix": "fsid"},
    {"prefix": "osd dump"}, {"prefix": "osd dump", "format": "plain"},
    {"prefix": "osd tree"}, {"prefix": "osd tree", "format": "plain"}, {"prefix": "osd ls"},
    {"prefix": "osd stat"}, {"prefix": "osd getmaxosd"}, {"prefix": "osd lspools"},
    {"prefix": "osd pool ls"}, {"prefix": "osd pool ls", "detail": "detail"},
    {"prefix": "osd pool get", "pool": "test", "var": "all"},
    {"prefix": "osd pool get", "pool": "test", "var": "size"},
    {"prefix": "osd pool get", "pool": "nope", "var": "size"},
    {"prefix": "osd pool get-quota", "pool": "test"},
    {"prefix": "osd pool application get", "pool": "test"},
    {"prefix": "osd map", "pool": "test", "object": "obj1"},
    {"prefix": "osd map", "pool": "test", "object": "obj1", "format": "plain"},
    {"prefix": "osd crush rule ls"}, {"prefix": "osd crush rule dump"},
    {"prefix": "osd erasure-code-profile ls"},
    {"prefix": "osd erasure-code-profile get", "name": "default"},
    {"prefix": "df"}, {"prefix": "auth get", "entity": "client.admin"},
    {"prefix": "auth get", "entity": "client.nobody"}, {"prefix": "auth ls"},
    {"prefix": "config-key ls"}, {"prefix": "config-key get", "key": "nokey"},
    {"prefix": "osd pool create", "pool": "test"},
    {"prefix": "osd pool rm", "pool": "test"},
    {"prefix": "no such command"},
]


async def _mgrmap(addrs: list[EntityAddrVec], name: AuthName, key: CryptoKey) -> bytes:
    monc = MonClient(addrs, auth_client=CephxClient(name, key, clock=time.time))
    await monc.connect()
    try:
        monc.sub_want("mgrmap")
        await monc.wait_for_map("mgrmap", timeout=10)
        return bytes(monc.maps["mgrmap"].front)
    finally:
        await monc.shutdown()


def main() -> None:
    """Start the cluster, record, write ``real_mon.json``."""
    with CephCluster(num_osds=3, pool="test") as cluster:
        cluster.wait_ready()
        cluster.rados("-p", "test", "put", "obj1", "/etc/hostname")
        name = AuthName.parse("client.admin")
        key = Keyring.from_file(str(cluster.keyring_path)).get(name)
        addrs = [EntityAddrVec.parse(a) for a in cluster.mon_addrs]
        out: dict[str, Any] = {"commands": []}
        with SyncMonClient(addrs, auth_client=CephxClient(name, key, clock=time.time)) as monc:
            monc.connect(timeout=30)
            res = monc.command({"prefix": "get_command_descriptions"})
            out["descriptions"] = json.loads(bytes(res.outbuf))
            for cmd in COMMANDS:
                full = {"format": "json", **cmd}
                res = monc.command(full)
                text = bytes(res.outbuf).decode("utf-8", "replace")
                out["commands"].append([full, res.r, res.rs, text])
        tell = cluster.ceph("tell", "mon.a", "get_command_descriptions")
        out["tell_descriptions"] = json.loads(tell)
        out["mgrmap_front"] = asyncio.run(_mgrmap(addrs, name, key)).hex()
    (HERE / "real_mon.json").write_text(json.dumps(out, indent=1, sort_keys=False) + "\n")


if __name__ == "__main__":
    main()
