"""``asyncmsgr fake-cluster``: a Ceph test double the real ``ceph``, ``rados`` and librados use.

Starts fake monitors and OSDs in this process on 127.0.0.1 (objects kept in
memory; see :mod:`asyncmsgr.testing.fake_cluster`), writes a ``ceph.conf`` at
``--conf-out`` and ``ceph.client.admin.keyring`` beside it, prints where they
are once every daemon answers, and serves until SIGINT or SIGTERM::

    asyncmsgr fake-cluster --osds 3 --pool rbd --conf-out /tmp/fc/ceph.conf &
    ceph -c /tmp/fc/ceph.conf -s
    rados -c /tmp/fc/ceph.conf -p rbd put obj ./file

With ``--json`` the ready line is one JSON object (``conf``, ``keyring``,
``mon_host``, ``fsid``, ``pools``, ``ready_seconds``). Exit status 0 after a
clean stop, 2 for bad arguments, 1 when the cluster cannot start (a fixed port
in use, say).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import sys
import uuid
from typing import Any

from asyncmsgr.config import MessengerConfig
from asyncmsgr.loop import run as run_loop
from asyncmsgr.testing.fake_cluster import FakeCluster


def _ports(text: str) -> tuple[int, int]:
    v2, sep, v1 = text.partition(",")
    try:
        p2 = int(v2)
        p1 = int(v1) if sep else p2 + 1
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected V2PORT[,V1PORT], not {text!r}") from None
    if not (0 < p2 < 65536 and 0 < p1 < 65536):
        raise argparse.ArgumentTypeError(f"ports must be 1..65535: {text!r}")
    return p2, p1


def register(sub: Any) -> None:
    """Add the ``fake-cluster`` subcommand to an argparse subparsers object."""
    p = sub.add_parser("fake-cluster", help="run fake Ceph mons and OSDs for the real tools",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--conf-out", required=True, metavar="PATH",
                   help="write ceph.conf here (the keyring goes beside it)")
    p.add_argument("--osds", type=int, default=1, metavar="N", help="fake OSDs (default 1)")
    p.add_argument("--mons", type=int, default=1, metavar="N", help="fake mons (default 1)")
    p.add_argument("--pool", action="append", default=[], metavar="NAME",
                   help="create this replicated pool at start (repeatable)")
    p.add_argument("--pg-num", type=int, default=8, metavar="N",
                   help="PGs per pool (default 8)")
    p.add_argument("--size", type=int, default=0, metavar="N",
                   help="pool size (default min(3, OSDs))")
    p.add_argument("--auth", choices=("cephx", "none", "cephx,none"), default="cephx",
                   help="what clients may authenticate with (default cephx)")
    p.add_argument("--msgr", choices=("v2+v1", "v2", "v1"), default="v2+v1",
                   help="what the daemons listen with (default both)")
    p.add_argument("--ms-mode", choices=("any", "crc", "secure"), default="any",
                   help="msgr2 modes the daemons accept (default any)")
    p.add_argument("--mon-port", action="append", default=[], type=_ports,
                   metavar="V2[,V1]", help="fixed ports of a mon (repeat per mon)")
    p.add_argument("--osd-port-base", type=int, default=0, metavar="P",
                   help="fixed OSD ports: osd.N listens on P+2N (v2) and P+2N+1 (v1)")
    p.add_argument("--fsid", type=uuid.UUID, default=None, help="cluster fsid (default random)")
    p.add_argument("--admin-key", default=None, metavar="BASE64",
                   help="client.admin's key (default random)")
    p.add_argument("--json", action="store_true", help="print the ready line as JSON")
    p.set_defaults(func=run)


def cluster_from_args(args: argparse.Namespace) -> FakeCluster:
    """The cluster the arguments describe (ValueError for impossible ones)."""
    config: MessengerConfig | None = getattr(args, "config", None)
    mon_ports = args.mon_port or None
    if mon_ports is not None and len(mon_ports) != args.mons:
        raise ValueError(f"--mon-port given {len(mon_ports)} times for {args.mons} mon(s)")
    osd_ports = None
    if args.osd_port_base:
        osd_ports = [(args.osd_port_base + 2 * o, args.osd_port_base + 2 * o + 1)
                     for o in range(args.osds)]
    return FakeCluster(osds=args.osds, mons=args.mons, pools=args.pool, pg_num=args.pg_num,
                       pool_size=args.size or None, auth=args.auth, msgr=args.msgr,
                       ms_mode=args.ms_mode, mon_ports=mon_ports, osd_ports=osd_ports,
                       fsid=args.fsid, admin_key=args.admin_key, config=config)


def ready_line(cluster: FakeCluster, as_json: bool) -> str:
    """What is printed once the cluster answers."""
    assert cluster.conf_path is not None
    assert cluster.keyring_path is not None
    pools = [cluster.osdmap.pool_name[p] for p in sorted(cluster.osdmap.pools)]
    if as_json:
        return json.dumps({"ready": True, "conf": str(cluster.conf_path),
                           "keyring": str(cluster.keyring_path), "mon_host": cluster.mon_host,
                           "fsid": str(cluster.fsid), "osds": cluster.num_osds, "pools": pools,
                           "ready_seconds": round(cluster.ready_seconds, 4)})
    return (f"fake cluster ready in {cluster.ready_seconds:.3f} s: {cluster.num_mons} mon(s) "
            f"{cluster.mon_host}, {cluster.num_osds} OSD(s), pools: "
            f"{', '.join(pools) or '(none)'}\n"
            f"CEPH_CONF={cluster.conf_path}\nCEPH_KEYRING={cluster.keyring_path}")


async def serve(cluster: FakeCluster, conf_out: str, as_json: bool) -> None:
    """Start, write the conf, print the ready line, serve until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with cluster:
        cluster.write_conf(conf_out)
        # a long-lived server: objects made so far stay, so spare the collector
        # from walking them again and again (this process only)
        gc.freeze()
        print(ready_line(cluster, as_json), flush=True)
        await stop.wait()


def run(args: argparse.Namespace) -> int:
    """Run until a signal; the exit status."""
    try:
        cluster = cluster_from_args(args)
    except ValueError as exc:
        print(f"asyncmsgr fake-cluster: error: {exc}", file=sys.stderr)
        return 2
    try:
        run_loop(serve(cluster, args.conf_out, args.json), config=cluster.messenger_config)
    except OSError as exc:
        print(f"asyncmsgr fake-cluster: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


__all__ = ["cluster_from_args", "ready_line", "register", "run", "serve"]
