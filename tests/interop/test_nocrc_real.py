"""Peers running ``ms_crc_data = false``: messages whose footer says NOCRC (data
crc not computed, sent as 0) are valid (Ceph ``Message::encode`` /
``decode_message``), on msgr v1 and msgr2, both ways.

* a real Pacific mon with ``ms_crc_data = false``: its replies carry their
  output in the data segment (``MMonCommandAck``) without a data crc; our
  client, which checks data crcs, takes them over v1 and over msgr2;
* our client with ``ms_crc_data = false`` against a mon that checks data crcs:
  the command's input rides in the data segment without a crc, and the mon
  takes it;
* (``tests/aio/test_nocrc_peers.py``: two asyncmsgr messengers, one with data
  crcs off.)
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from ceph_cluster import MonCluster, ceph_mon_binary

from asyncmsgr.auth.cephx import CephxClient, Keyring
from asyncmsgr.config import MessengerConfig
from asyncmsgr.monc.client import MonClient, MonClientOptions
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]

ADMIN = AuthName(EntityType.CLIENT, "admin")
FAST = MonClientOptions(hunt_interval=0.5, ping_interval=0.5, ping_timeout=3.0,
                        mount_timeout=20.0)


def run(body: Callable[[], Coroutine[Any, Any, None]], timeout: float = 60.0) -> None:
    async def main() -> None:
        await asyncio.wait_for(body(), timeout)
    asyncio.run(main())


@pytest.fixture(scope="module")
def mon_nocrc() -> Iterator[MonCluster]:
    """A one-mon cluster (msgr2 and v1) whose daemons send no data crcs."""
    if ceph_mon_binary() is None:
        pytest.skip("ceph-mon is not installed (apt-get install ceph-mon ceph-common)")
    cluster = MonCluster(num_mons=1, auth_none=True, extra_conf={"ms_crc_data": "false"})
    cluster.start()
    try:
        cluster.wait_ready()
        yield cluster
    finally:
        cluster.stop()


def _addrs(cluster: MonCluster, protocol: str) -> list[EntityAddrVec]:
    mon = cluster.mons[0]
    port = mon.v1_port if protocol == "v1" else mon.v2_port
    return [EntityAddrVec.parse(f"{protocol}:127.0.0.1:{port}")]


def _cephx(cluster: MonCluster) -> CephxClient:
    key = Keyring.from_file(str(cluster.keyring_path)).get(ADMIN)
    assert key is not None
    return CephxClient(ADMIN, key, clock=time.time)


def _asok(path: Path, command: dict[str, str]) -> object:
    """One admin socket command (JSON and a NUL; the reply: be32 length, JSON)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5.0)
        sock.connect(str(path))
        sock.sendall(json.dumps(command).encode() + b"\0")
        head = sock.recv(4, socket.MSG_WAITALL)
        (length,) = struct.unpack(">I", head)
        return json.loads(sock.recv(length, socket.MSG_WAITALL))


def test_the_mon_really_runs_without_data_crcs(mon_nocrc: MonCluster) -> None:
    got = _asok(mon_nocrc.asok_path("a"), {"prefix": "config get", "var": "ms_crc_data",
                                            "format": "json"})
    assert got == {"ms_crc_data": "false"}


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_replies_without_data_crc_are_taken(mon_nocrc: MonCluster, protocol: str) -> None:
    async def body() -> None:
        monc = MonClient(_addrs(mon_nocrc, protocol), auth_client=_cephx(mon_nocrc),
                         config=MessengerConfig(ms_crc_data=True), options=FAST)
        await monc.connect()
        try:
            con = monc.active_connection
            assert con is not None
            assert con.is_msgr2 is (protocol == "v2")
            for _ in range(3):  # several replies, each with a data segment
                dump = await monc.command({"prefix": "mon dump", "format": "json"})
                assert dump.r == 0
                assert dump.outbuf  # the output is the reply's data segment
                assert json.loads(dump.outbuf)["fsid"] == mon_nocrc.fsid
            assert monc.active_connection is con  # no fault, no reconnect
        finally:
            await monc.shutdown()
    run(body)


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_our_requests_without_data_crc_are_taken(ceph_mon: MonCluster,
                                                 protocol: str) -> None:
    """``config-key set`` takes its value from the request's data segment; with
    our data crcs off it goes out NOCRC, and the mon (crcs on) stores it."""
    value = b"nocrc-" + bytes(range(32, 127)) * 4

    async def body() -> None:
        monc = MonClient(_addrs(ceph_mon, protocol), auth_client=_cephx(ceph_mon),
                         config=MessengerConfig(ms_crc_data=False), options=FAST)
        await monc.connect()
        try:
            key = f"asyncmsgr/test/nocrc-{protocol}"
            done = await monc.command({"prefix": "config-key set", "key": key}, value)
            assert done.r == 0, done.rs
            got = await monc.command({"prefix": "config-key get", "key": key})
            assert got.r == 0
            assert got.outbuf == value
            await monc.command({"prefix": "config-key rm", "key": key})
        finally:
            await monc.shutdown()
    run(body)
