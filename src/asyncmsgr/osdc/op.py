"""The Objecter's records: ops, linger ops, OSD sessions, options and counters.

* :class:`Op` (``Objecter::Op``): one MOSDOp's worth of operations on one object
  (or PG), its :class:`~asyncmsgr.osdc.target.OpTarget`, tid, attempts and how
  it completes (a future, or a callback for the Objecter's own ops);
* :class:`LingerOp` (``Objecter::LingerOp``): a watch or notify registration that
  is sent again whenever its target or session changes;
* :class:`OSDSession` (``Objecter::OSDSession``): the connection to one OSD and
  the ops and linger ops aimed at it; the homeless session (osd -1) holds ops
  that have no OSD to go to;
* :class:`OpResult`: what an op completes with;
* :class:`ObjecterOptions`: the ``objecter_*`` / ``rados_*`` options;
* :func:`objecter_counters`: the ``objecter`` perf counters (Ceph's names);
* :func:`calc_op_budget`: what an op costs against ``objecter_inflight_op_bytes``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from asyncmsgr.osd.ops import OSDOp, op_mode_modify, op_mode_read, op_type_attr, op_type_data
from asyncmsgr.osd.types import CEPH_NOSNAP, ObjectLocator, OsdReqId
from asyncmsgr.perf import PerfCounters, PerfCountersBuilder
from asyncmsgr.types import UTime

from .backoff import BackoffTable
from .budget import BudgetWaiter
from .target import OpTarget

if TYPE_CHECKING:
    from asyncmsgr.connection import Connection
    from asyncmsgr.types import EntityAddrVec


_EPOCH = UTime()


class OpResult(NamedTuple):
    """An op's outcome: ``result`` (0 or a negative errno) and each op's output.

    ``outs`` are the reply's ops (``outdata`` and ``rval`` each); empty when the
    op failed before an OSD answered (timeout, pool gone, shutdown).
    """

    result: int
    outs: list[OSDOp]
    user_version: int = 0
    epoch: int = 0


#: Completion callback of the Objecter's own ops: (result, the reply's outputs).
OnCommit = Callable[[OpResult], None]


class Op:
    """``Objecter::Op``: operations on one object, from submit to reply."""

    __slots__ = (
        "attempts",
        "budget",
        "budget_waiter",
        "features",
        "future",
        "incarnation",
        "map_dne_bound",
        "mid",
        "mid_key",
        "mtime",
        "onfinish",
        "ontimeout",
        "ops",
        "priority",
        "reqid",
        "session",
        "should_resend",
        "snap_seq",
        "snapid",
        "snaps",
        "stamp",
        "target",
        "tid",
        "wire_oloc",
    )

    def __init__(self, target: OpTarget, ops: list[OSDOp], *, mtime: UTime = _EPOCH,
                 snapid: int = CEPH_NOSNAP, snap_seq: int = 0,
                 snaps: list[int] | None = None, priority: int = 0, features: int = 0,
                 future: asyncio.Future[OpResult] | None = None,
                 onfinish: OnCommit | None = None) -> None:
        self.target = target
        self.ops = ops
        self.mtime = mtime
        self.snapid = snapid
        self.snap_seq = snap_seq
        self.snaps: list[int] = snaps if snaps is not None else []
        self.priority = priority
        self.features = features
        self.future = future
        """Completed with the :class:`OpResult` (user ops)."""
        self.onfinish = onfinish
        """Called with the :class:`OpResult` (the Objecter's own ops)."""
        self.tid = 0
        self.attempts = 0
        """Times sent; the next MOSDOp carries it as ``retry_attempt``."""
        self.session: OSDSession | None = None
        self.incarnation = 0
        self.stamp = 0.0
        self.budget = -1
        """Bytes taken from the in-flight throttle (-1: none taken)."""
        self.budget_waiter: BudgetWaiter | None = None
        """Its place in the budget queue while it waits for budget."""
        self.ontimeout: asyncio.TimerHandle | None = None
        self.should_resend = True
        """False for linger registrations and pings (the LingerOp resends itself)."""
        self.map_dne_bound = 0
        """Epoch by which a missing pool is known to be gone (``_check_op_pool_dne``)."""
        self.reqid: OsdReqId | None = None
        """An explicit reqid (None: the OSD uses ``client.GID.inc:tid``)."""
        self.mid = b""
        """The encoded middle of its MOSDOp (see :mod:`asyncmsgr.osdc.wire`)."""
        self.mid_key: tuple[object, str] | None = None
        """(target locator, target name) ``mid`` was encoded for."""
        self.wire_oloc = ObjectLocator(-1)
        """The locator the MOSDOp carries (set with ``mid``)."""

    @property
    def done(self) -> bool:
        """The op has completed (or its waiter went away)."""
        return self.future is not None and self.future.done()

    def complete(self, res: OpResult) -> None:
        """Hand ``res`` to whoever waits (once)."""
        fut = self.future
        if fut is not None:
            if not fut.done():
                fut.set_result(res)
        elif self.onfinish is not None:
            cb, self.onfinish = self.onfinish, None
            cb(res)

    def __repr__(self) -> str:
        t = self.target
        return (f"<Op tid={self.tid} {t.base_oid!r}@{t.base_oloc.pool} "
                f"{[o.name for o in self.ops]} osd.{t.osd} attempts={self.attempts}>")


def calc_op_budget(ops: list[OSDOp]) -> int:
    """``Objecter::calc_op_budget``: input bytes of writes, extents of reads."""
    budget = 0
    for o in ops:
        code = o.op
        if op_mode_modify(code):
            budget += len(o.indata)
        elif op_mode_read(code):
            if op_type_data(code):
                length = o.extent.length
                if 0 < length < 1 << 63:
                    budget += length
            elif op_type_attr(code):
                x = o.xattr
                budget += x.name_len + x.value_len
    return budget


@dataclass(eq=False)
class LingerOp:
    """``Objecter::LingerOp``: a watch (or notify) kept registered with the OSD.

    ``linger_id`` is also the watch/notify cookie the OSD echoes in MWatchNotify.
    """

    linger_id: int
    target: OpTarget
    is_watch: bool = False
    ops: list[OSDOp] = field(default_factory=list)
    """The registration ops (a WATCH or a NOTIFY)."""
    mtime: UTime = _EPOCH
    registered: bool = False
    canceled: bool = False
    register_gen: int = 0
    register_tid: int = 0
    ping_tid: int = 0
    last_error: int = 0
    """The first error seen since registration (0: none), as a negative errno."""
    watch_valid_thru: float = 0.0
    """Monotonic time the last successful ping was sent."""
    notify_id: int = 0
    session: OSDSession | None = None
    on_reg_commit: asyncio.Future[int] | None = None
    """Completed with the registration's result."""
    on_notify_finish: asyncio.Future[tuple[int, bytes]] | None = None
    """Completed with the notify's (return code, replies) (notify only)."""
    on_notify: Callable[[int, int, int, bytes], None] | None = None
    """Watch callback: (notify_id, cookie, notifier_gid, payload)."""
    on_error: Callable[[int, int], None] | None = None
    """Watch error callback: (cookie, negative errno)."""

    @property
    def cookie(self) -> int:
        """The cookie the OSD knows this registration by."""
        return self.linger_id


class OSDSession:
    """``Objecter::OSDSession``: one OSD's connection, ops and linger ops."""

    __slots__ = ("addrs", "backoffs", "con", "incarnation", "linger_ops", "ops", "osd",
                 "reopen_at", "resets")

    def __init__(self, osd: int) -> None:
        self.osd = osd
        self.con: Connection | None = None
        self.addrs: EntityAddrVec | None = None
        self.ops: dict[int, Op] = {}
        self.linger_ops: dict[int, LingerOp] = {}
        self.backoffs = BackoffTable()
        self.incarnation = 0
        self.resets = 0
        """Consecutive resets without a reply (backs reconnects off)."""
        self.reopen_at = 0.0
        """Monotonic time a delayed reopen is due (0: none pending)."""

    @property
    def is_homeless(self) -> bool:
        """The session of ops without an OSD (osd -1)."""
        return self.osd == -1

    def __repr__(self) -> str:
        return f"<OSDSession osd.{self.osd} ops={len(self.ops)} linger={len(self.linger_ops)}>"


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjecterOptions:
    """The Objecter's options, Ceph's names and Pacific's defaults."""

    osd_op_timeout: float = 0.0
    """``rados_osd_op_timeout``: seconds before an op fails with ETIMEDOUT (0: never)."""
    inflight_ops: int = 1024
    """``objecter_inflight_ops``: ops in flight before submitters wait (0: no limit)."""
    inflight_op_bytes: int = 100 << 20
    """``objecter_inflight_op_bytes``: op budget bytes in flight (0: no limit)."""
    tick_interval: float = 5.0
    """``objecter_tick_interval``: seconds between ticks (pings, laggy ops)."""
    laggy_timeout: float = 10.0
    """``objecter_timeout``: an op unanswered this long is laggy (its OSD is pinged)."""
    op_priority: int = 63
    """``osd_client_op_priority``: the MOSDOp priority."""
    honor_pool_full: bool = True
    """Writes wait while the cluster or their pool is full (no FULL_TRY/FULL_FORCE)."""
    watch_timeout: int = 30
    """``osd_client_watch_timeout``: seconds the OSD keeps a silent watch."""
    notify_timeout: float = 10.0
    """``client_notify_timeout``: default seconds a notify waits for acks."""
    mon_op_timeout: float = 0.0
    """``rados_mon_op_timeout``: seconds before a mon request fails (0: never)."""
    reconnect_max_delay: float = 1.0
    """Longest pause before re-dialling an OSD that keeps resetting (asyncmsgr)."""


class HotCounters:
    """The per-op ``objecter`` counters, kept as plain ints on the hot path and
    merged into the perf dump (:meth:`Objecter.perf_dump`)."""

    __slots__ = ("op", "op_active", "op_pg", "op_r", "op_reply", "op_rmw", "op_send",
                 "op_send_bytes", "op_w")

    def __init__(self) -> None:
        self.op = 0
        self.op_active = 0
        self.op_pg = 0
        self.op_r = 0
        self.op_reply = 0
        self.op_rmw = 0
        self.op_send = 0
        self.op_send_bytes = 0
        self.op_w = 0

    def dump(self) -> dict[str, int]:
        """The counters by Ceph's names."""
        return {name: getattr(self, name) for name in self.__slots__}


def objecter_counters() -> PerfCounters:
    """The ``objecter`` counters (a subset of Ceph's, same names)."""
    b = PerfCountersBuilder("objecter")
    b.add_u64("op_active", "Operations active")
    b.add_u64("op_laggy", "Laggy operations")
    b.add_u64_counter("op_send", "Sent operations")
    b.add_u64_counter("op_send_bytes", "Sent data")
    b.add_u64_counter("op_resend", "Resent operations")
    b.add_u64_counter("op_reply", "Operation reply")
    b.add_u64_counter("op_timeout", "Operations timed out")
    b.add_u64_counter("op", "Operations")
    b.add_u64_counter("op_r", "Read operations")
    b.add_u64_counter("op_w", "Write operations")
    b.add_u64_counter("op_rmw", "Read-modify-write operations")
    b.add_u64_counter("op_pg", "PG operation")
    b.add_u64("linger_active", "Active lingering operations")
    b.add_u64_counter("linger_send", "Sent lingering operations")
    b.add_u64_counter("linger_resend", "Resent lingering operations")
    b.add_u64_counter("linger_ping", "Sent pings to lingering operations")
    b.add_u64("poolop_active", "Active pool operations")
    b.add_u64_counter("poolop_send", "Sent pool operations")
    b.add_u64_counter("poolop_resend", "Resent pool operations")
    b.add_u64("poolstat_active", "Active get pool stat operations")
    b.add_u64_counter("poolstat_send", "Pool stat operations sent")
    b.add_u64("statfs_active", "Statfs operations")
    b.add_u64_counter("statfs_send", "Sent FS stats")
    b.add_u64("map_epoch", "OSD map epoch")
    b.add_u64_counter("map_full", "Full OSD maps received")
    b.add_u64_counter("map_inc", "Incremental OSD maps received")
    b.add_u64("osd_sessions", "Open sessions")
    b.add_u64_counter("osd_session_open", "Sessions opened")
    b.add_u64_counter("osd_session_close", "Sessions closed")
    b.add_u64("osd_laggy", "Laggy OSD sessions")
    b.add_u64_counter("osd_backoff_block", "Backoffs received (block)")
    b.add_u64_counter("osd_backoff_unblock", "Backoffs lifted (unblock)")
    return b.create()


__all__ = [
    "HotCounters",
    "LingerOp",
    "OSDSession",
    "ObjecterOptions",
    "OnCommit",
    "Op",
    "OpResult",
    "calc_op_budget",
    "objecter_counters",
]
