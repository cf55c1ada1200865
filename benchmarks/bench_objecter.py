"""The Objecter's per-op path without sockets: CPU (or instructions) per 4 KiB op.

Drives :class:`~asyncmsgr.osdc.objecter.Objecter` the way ``rados bench`` does —
``--depth`` ops in flight through :meth:`Objecter.aio_operate`, each completion
starting the next op on a new object (writes: ``set-alloc-hint`` + ``write`` of
4 KiB, as ``rados bench write``; reads: ``read`` of 4 KiB) — against a loopback
OSD: every MOSDOp is encoded as for a Pacific peer (``Message.prepare``), and
answered with a MOSDOpReply decoded by :func:`~asyncmsgr.message.decode_message`
from bytes encoded before the run (the OSD's work is not counted), delivered to
the Objecter as the messenger's fast dispatch does. What is measured is the
client's own work per op apart from the messenger: building and targeting the op
(object hash, PG, placement), encoding the MOSDOp, decoding the reply, and
completing the op.

The map is the one of ``benchmarks/bench_rados.py``'s cluster: one OSD, pool
``bench`` with 32 PGs, size 1.

Run: ``python benchmarks/bench_objecter.py [--ops 20000] [--mode write|read]
[--profile]``; prints CPU µs per op (``time.process_time``). Deterministic
counts: run it under ``valgrind --tool=callgrind`` with two ``--ops`` values (and
the same ``--prepare``) and divide the difference of the totals by the difference
of the ops::

    for n in 300 800; do valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        python benchmarks/bench_objecter.py --mode write --ops $n --prepare 1000; done
    # instructions/op = (total(800) - total(300)) / 500

Figures (2026-12-05, CPython 3.11.7, pure Python; instructions per op, depth 16):

=============================================  ===========  ===========
commit                                         4 KiB write  4 KiB read
=============================================  ===========  ===========
6588a4f (aio API, before this work)                419,770      395,984
317f7b7 straight-line reply decode, rjenkins       264,320      259,672
36421ff merge of main, one layout per message      272,668      269,259
b20eb0f positional constructors                    255,914            -
  + whole-block prefix states, empty-reqid head    236,566      231,542
59edf50 shared mtime, reply versions, head reqid   225,100      222,498
(next) reply front in one unpack, mid in one pack   219,060      215,670
0384396 keyword-init constructors (seed 0)         255,358      249,421
  + constructors from class defaults (seed 0)     221,226      215,775
=============================================  ===========  ===========

Seed 0: ``PYTHONHASHSEED=0``. Between runs with other hash seeds the same
commit's figure moves by up to about 1 % (dict layouts), so compare two commits
with one fixed seed. After the module splits that followed those rows the per-op
call counts (``--profile``) are the same and the figures 222,110 and 216,248.

The whole client (``asyncmsgr rados bench N write -t 16 -b 4096 --no-cleanup`` under
callgrind against one memstore OSD, N = 3 and 12, instructions divided by the
difference of ``total_writes_made``): 505,884 instructions/op at 6588a4f, 337,850
at 59edf50; the messenger (framing, crc, socket I/O, dispatch) is about the
difference from the table's figure.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from collections import deque
from pathlib import Path

from asyncmsgr.features import CEPH_FEATURES_ALL
from asyncmsgr.message import MsgHeader, decode_message
from asyncmsgr.messages import MOSDOp, MOSDOpReply
from asyncmsgr.osd import ops as osd
from asyncmsgr.osd.ops import OsdFlag, OSDOp
from asyncmsgr.osd.types import ObjectLocator
from asyncmsgr.osdc.hashing import object_hash
from asyncmsgr.osdc.op import ObjecterOptions, OpResult
from asyncmsgr.types import EntityName, EntityType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "unit"))
try:
    from objecter_harness import FakeConnection, World, make_osdmap, make_pool
finally:
    sys.path.pop(0)

POOL = 1
OP_SIZE = 4096
_WRITE = int(OsdFlag.WRITE)
_READ = int(OsdFlag.READ)
_OSD0 = EntityName(EntityType.OSD, 0)


def object_name(i: int) -> str:
    """``rados bench``'s object names (host name and pid fixed)."""
    return f"benchmark_data_bench-host_12345_object{i}"


def reply_bytes(m: MOSDOp, mode: str) -> tuple[bytes, bytes]:
    """What the OSD answers to ``m``: (front, data)."""
    outs = [OSDOp(o.op, o.flags, o.args, outdata=b"z" * OP_SIZE if mode == "read" else b"")
            for o in m.ops]
    r = MOSDOpReply(oid=m.oid, pgid=m.pgid.pgid, flags=m.flags, result=0,
                    osdmap_epoch=m.osdmap_epoch, ops=outs, retry_attempt=m.retry_attempt,
                    user_version=1)
    r.prepare(CEPH_FEATURES_ALL)
    return bytes(r.front), bytes(r.data)


def _ignore(res: OpResult) -> None:
    """Completions of the ops that only make replies."""


class Driver:
    """``--depth`` ops in flight, a new object per op, for ``ops`` ops."""

    def __init__(self, world: World, mode: str, depth: int) -> None:
        self.world = world
        self.o = world.objecter
        self.mode = mode
        self.depth = depth
        self.started = 0
        self.finished = 0
        self.limit = 0
        self.oloc = ObjectLocator(POOL)
        data = bytearray(b"z" * OP_SIZE)
        self.ops = ([osd.set_alloc_hint(4 << 20, OP_SIZE, 0), osd.write(0, data)]
                    if mode == "write" else [osd.read(0, OP_SIZE)])
        self.flags = _WRITE if mode == "write" else _READ
        self.replies: dict[str, tuple[bytes, bytes]] = {}
        self.seq = 0

    def issue(self) -> None:
        """Start the next op."""
        n = self.started
        self.started += 1
        self.o.aio_operate(object_name(n), self.oloc, list(self.ops), self.flags,
                           self.completed)

    def completed(self, res: OpResult) -> None:
        """An op's completion: start the next one."""
        if res.result != 0:
            raise RuntimeError(f"op failed: {res.result}")
        self.finished += 1
        if self.started < self.limit:
            self.issue()

    def prepare_replies(self, count: int) -> None:
        """Encode the OSD's replies to the first ``count`` ops up front, from
        MOSDOps built by another Objecter on the same map."""
        world = make_world(ObjecterOptions(inflight_ops=0, inflight_op_bytes=0))
        loop = asyncio.get_event_loop()
        loop.run_until_complete(world.start())
        for n in range(count):
            world.objecter.aio_operate(object_name(n), self.oloc, list(self.ops), self.flags,
                                       _ignore)
        for _, m in world.ops_sent():
            self.replies[m.oid] = reply_bytes(m, self.mode)
        loop.run_until_complete(world.objecter.shutdown())
        object_hash.cache_clear()  # each name is hashed again (prefix states stay warm)

    def run(self, count: int) -> None:
        """Run ``count`` more ops to completion (replies in send order)."""
        self.limit = self.started + count
        sent: deque[tuple[FakeConnection, MOSDOp]] = deque()
        msgr_sent = self.world.msgr.sent
        while self.started < self.limit and len(msgr_sent) + len(sent) < self.depth:
            self.issue()
        dispatch = self.o.ms_fast_dispatch
        replies = self.replies
        while self.finished < self.limit:
            sent.extend(msgr_sent)  # type: ignore[arg-type]
            msgr_sent.clear()
            con, m = sent.popleft()
            con.sent.clear()
            front, data = replies[m.oid]
            self.seq += 1
            hdr = MsgHeader(self.seq, m.tid, 43, 127, 8, len(front), 0, len(data), 0, _OSD0,
                            2, 0, 0)
            r = decode_message(hdr, front, b"", data)
            r.connection = con
            dispatch(r)


def make_world(options: ObjecterOptions | None = None) -> World:
    """An Objecter on a one-OSD map with pool ``bench`` (32 PGs, size 1)."""
    return World(make_osdmap(num_osds=1, pools={POOL: ("bench", make_pool(32, size=1))}),
                 options=options)


def main(argv: list[str] | None = None) -> int:
    """Run; print CPU µs per op."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops", type=int, default=20000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--depth", type=int, default=16)
    ap.add_argument("--mode", choices=("write", "read"), default="write")
    ap.add_argument("--prepare", type=int, default=0,
                    help="replies encoded up front (at least warmup + ops); give the same "
                         "value to runs whose instruction counts are compared")
    ap.add_argument("--profile", action="store_true", help="cProfile the measured ops")
    args = ap.parse_args(argv)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    world = make_world()
    loop.run_until_complete(world.start())
    d = Driver(world, args.mode, args.depth)
    d.prepare_replies(max(args.prepare, args.warmup + args.ops))
    d.run(args.warmup)
    prof = cProfile.Profile() if args.profile else None
    t0 = time.process_time()
    if prof is not None:
        prof.enable()
    d.run(args.ops)
    if prof is not None:
        prof.disable()
    dt = time.process_time() - t0
    print(f"{args.mode} depth {args.depth}: {args.ops} ops, "
          f"{dt / args.ops * 1e6:.2f} µs CPU per op")
    if prof is not None:
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
    loop.run_until_complete(world.objecter.shutdown())
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
