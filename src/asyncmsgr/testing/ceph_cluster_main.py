"""``python -m asyncmsgr.testing.ceph_cluster``: a throw-away cluster on the command line.

Starts a :class:`~asyncmsgr.testing.ceph_cluster.CephCluster` (``--mons``,
``--osds``, ``--mgr``...), prints where its ``ceph.conf`` and keyring are once it
is ready, and stops it on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
from collections.abc import Sequence

from asyncmsgr.testing.ceph_cluster import CephCluster
from asyncmsgr.testing.ceph_daemons import MonClusterError


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, start the cluster, print where it is, stop it on a signal."""

    ap = argparse.ArgumentParser(
        prog="python -m asyncmsgr.testing.ceph_cluster",
        description="Start a throw-away Ceph cluster (real ceph-mon + memstore ceph-osd) on "
                    "127.0.0.1; print its ceph.conf and keyring once a probe object was "
                    "written; stop it on SIGINT/SIGTERM. Test keys only: never expose it.")
    ap.add_argument("--mons", type=int, default=1, choices=(1, 2, 3))
    ap.add_argument("--osds", type=int, default=1, help="memstore OSDs (default 1)")
    ap.add_argument("--dir", help="build here (created, must be empty; kept afterwards); "
                                  "default: a temporary directory removed at exit")
    ap.add_argument("--pool", default="test", help="pool to create (default test)")
    ap.add_argument("--pg-num", type=int, default=8)
    ap.add_argument("--memstore-bytes", type=int, default=1 << 30)
    ap.add_argument("--cephx-only", action="store_true",
                    help="refuse auth none (default: clients may use cephx or none)")
    ap.add_argument("--msgr", choices=("v2+v1", "v1"), default="v2+v1")
    ap.add_argument("--mgr", action="store_true", help="also run a ceph-mgr (mgr.x)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="extra [global] option (repeatable)")
    args = ap.parse_args(argv)
    extra = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            ap.error(f"--set wants NAME=VALUE, got {item!r}")
        extra[name.strip()] = value.strip()
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    cluster = CephCluster(num_mons=args.mons, num_osds=args.osds, pool=args.pool,
                          pg_num=args.pg_num, memstore_bytes=args.memstore_bytes,
                          auth_none=not args.cephx_only, msgr=args.msgr, mgr=args.mgr,
                          extra_conf=extra,
                          cluster_dir=args.dir)
    try:
        cluster.start()
        cluster.wait_ready()
        print(f"ready in {cluster.startup_seconds:.1f} s: {cluster.num_mons} mon(s) "
              f"{cluster.mon_host}, {cluster.num_osds} OSD(s)"
              + (f", pool {cluster.pool!r}" if cluster.pool else ""), flush=True)
        print(f"CEPH_CONF={cluster.conf_path}", flush=True)
        print(f"CEPH_KEYRING={cluster.keyring_path}", flush=True)
        print(f"e.g.: rados -c {cluster.conf_path} -k {cluster.keyring_path} "
              f"-p {cluster.pool or 'POOL'} bench 10 write", flush=True)
        while not stop:
            signal.pause()
    except MonClusterError as exc:
        print(f"error: {exc}", flush=True)
        return 1
    finally:
        cluster.stop()
    print("stopped", flush=True)
    return 0


__all__ = ["run"]
