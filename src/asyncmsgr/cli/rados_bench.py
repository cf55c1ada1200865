"""``rados bench`` and ``rados cleanup``: Ceph's ``ObjBencher`` on asyncio.

Follows ``src/common/obj_bencher.{h,cc}`` (Pacific) and ``RadosBencher`` in
``src/tools/rados/rados.cc``:

* objects ``benchmark_data_<hostname>_<pid>_object<N>`` (the host name cut to
  29 bytes, as ``gethostname`` into ``char[30]``), each op writing ``op_size``
  bytes at ``op_size * (N % writes_per_object)``, filled with ``z`` and starting
  ``I'm the %16dth op!`` + NUL (``snprintf``), so ``seq``/``rand`` can verify;
* the metadata object (``benchmark_last_metadata`` or ``--run-name``): ``u64
  object_size, s32 num_ops, s32 pid, u64 op_size`` little-endian (``num_ops``:
  the writes made; ``cleanup`` derives the object count from it), written with
  ``write_full`` at the end of a write run and read by ``seq``/``rand``/``cleanup``
  — the C++ tool's encoding, so either tool reads what the other left;
* the per-second lines (or ``--format`` entries) of ``status_printer``, its
  bandwidth/IOPS/latency statistics (Welford running variances) and the summary
  lines and JSON keys of ``write_bench`` / ``seq_read_bench`` / ``rand_read_bench``.

Ops are driven by completion callbacks (no task per op): each completion
records its latency and starts the next op from inside the reply's dispatch,
as librados' aio completions do in the C++ tool. Write ops carry
``set-alloc-hint`` + ``write`` (``--no-hints``: ``write`` alone).

Intentional differences: the JSON ``stddev_iops`` of a write run is printed as
an integer (the C++ tool passes a double to ``%d`` and prints garbage); ``rand``
draws with Python's ``random`` instead of libc's ``rand()``; Ctrl-C stops issuing
ops, lets the summary of what was done print and exits 130 (the C++ tool dies).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import os
import random
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from asyncmsgr.crush.ln import straw2_neg_ln_table
from asyncmsgr.osd import ops as osd
from asyncmsgr.osd.op_data import LIBRADOS_ALL_NSPACES
from asyncmsgr.osd.ops import OsdFlag, OSDOp
from asyncmsgr.osd.types import ObjectLocator
from asyncmsgr.osdc.op import OpResult, calc_op_budget
from asyncmsgr.rados import IoCtx
from asyncmsgr.rados.errors import Error
from asyncmsgr.types import Buffer, UTime

from .rados_bench_data import (
    BENCH_HINT_FLAGS,
    BENCH_LASTRUN_METADATA,
    BENCH_PREFIX,
    DEST_OBJ,
    DEST_OMAP,
    DEST_XATTR,
    MB,
    OP_RAND_READ,
    OP_SEQ_READ,
    OP_WRITE,
    BenchData,
    BenchMeta,
    bench_hostname,
    decode_metadata,
    encode_metadata,
    object_name,
    object_prefix,
    op_contents,
    stddev,
)
from .rados_format import Formatter, c_cast, c_strtoll, cpp_strerror, fmt_double, fmt_f
from .rados_format import format_now as _now_text

if TYPE_CHECKING:
    from .rados import Tool

#: Ctrl-C's exit status, after the summary of what was measured (128 + SIGINT).
EXIT_INTERRUPTED = 130
_WRITE = int(OsdFlag.WRITE)
_READ = int(OsdFlag.READ)


class ObjBencher:
    """One ``rados bench`` / ``cleanup`` run against an :class:`IoCtx`."""

    def __init__(self, t: Tool, ioctx: IoCtx, formatter: Formatter | None,
                 write_out: Callable[[str], None], show_time: bool) -> None:
        self.t = t
        self.ioctx = ioctx
        self.objecter = ioctx.objecter
        self.formatter = formatter
        self.write_out = write_out
        """Where the formatter's text goes (stdout or ``-o FILE``)."""
        self.show_time = show_time
        self.data = BenchData(0, 0, True)
        self.write_dest = DEST_OBJ
        self.pid = os.getpid()
        self._done: asyncio.Future[int] | None = None
        self.state: dict[str, Any] = {}
        """The running phase's flags: Ctrl-C sets ``stopping`` (see :func:`cmd_bench`)."""
        self.interrupted = False

    # -- output ---------------------------------------------------------------------

    def out(self, line: str) -> None:
        """``out(cout) << line << std::endl`` (``--show-time`` prefixes the time)."""
        self.t.io.out((_now_text() + " " if self.show_time else "") + line + "\n")

    def err(self, line: str) -> None:
        """``cerr << line << std::endl``."""
        self.t.io.err(line)

    def _flush_formatter(self) -> None:
        if self.formatter is not None:
            self.formatter.flush(self.write_out)

    # -- ops --------------------------------------------------------------------------

    def oloc(self, nspace: str | None = None) -> ObjectLocator:
        """The IoCtx's locator (in namespace ``nspace`` if given)."""
        io = self.ioctx
        return ObjectLocator(io.pool_id, io.locator_key,
                             io.nspace if nspace is None else nspace)

    def submit(self, oid: str, oloc: ObjectLocator, ops: list[OSDOp], flags: int,
               cb: Callable[[OpResult], None], budget: int = -1) -> None:
        """``aio_operate``: take the Objecter's budget (``calc_op_budget`` unless
        given) and send; ``cb`` runs in the reply's dispatch (waits for budget in a
        task only when it is short)."""
        o = self.objecter
        mtime = UTime.from_float(time.time()) if flags & _WRITE else None
        op = o.new_op(oid, oloc, ops, flags | self.ioctx.extra_op_flags,
                      mtime=mtime, onfinish=cb)
        if budget < 0:
            budget = calc_op_budget(ops)
        if o.budget.try_take(budget):
            op.budget = budget
            o.submit_nowait(op)
            return

        async def later() -> None:
            await o.budget.take(budget)
            op.budget = budget
            o.submit_nowait(op)
        o.loop.create_task(later())

    def write_ops(self, data: bytearray | bytes, offset: int) -> list[OSDOp]:
        """``RadosBencher::aio_write``'s op vector."""
        d = self.data
        ops: list[OSDOp] = []
        if self.write_dest & DEST_OBJ:
            if d.hints:
                ops.append(osd.set_alloc_hint(d.object_size, d.op_size, BENCH_HINT_FLAGS))
            ops.append(osd.write(offset, data))
        if self.write_dest & DEST_OMAP:
            ops.append(osd.omap_set({f"bench-omap-key-{offset}": bytes(data)}))
        if self.write_dest & DEST_XATTR:
            ops.append(osd.setxattr(f"bench-xattr-key-{c_cast(offset, 32, True)}", data))
        return ops

    async def sync_read(self, oid: str, length: int) -> bytes | int:
        """``sync_read``: the bytes, or a negative errno."""
        try:
            return await self.ioctx.read(oid, length, 0)
        except Error as exc:
            return -(exc.errno or errno.EIO)

    async def sync_write(self, oid: str, data: bytes) -> int:
        """``sync_write`` (``write_full``)."""
        try:
            await self.ioctx.write_full(oid, data)
        except Error as exc:
            return -(exc.errno or errno.EIO)
        return 0

    async def sync_remove(self, oid: str) -> int:
        """``sync_remove``."""
        try:
            await self.ioctx.remove_object(oid)
        except Error as exc:
            return -(exc.errno or errno.EIO)
        return 0

    async def fetch_metadata(self, meta: str) -> BenchMeta | int:
        """``fetch_bench_metadata``: the metadata or -errno (an empty object is
        -ENOENT)."""
        got = await self.sync_read(meta, 24)
        if isinstance(got, int):
            return got
        if not got:
            return -errno.ENOENT
        try:
            object_size, num_ops, pid, op_size = decode_metadata(got)
        except ValueError:
            return -errno.EINVAL
        wpo = object_size // op_size if op_size else 0
        if wpo <= 0:
            return -errno.EINVAL  # the C++ tool divides by it
        return BenchMeta(op_size, object_size, (num_ops + wpo - 1) // wpo, pid, num_ops)

    # -- the status printer ------------------------------------------------------------

    async def status_printer(self) -> None:
        """``status_printer``: one line (or entry) a second until ``done``."""
        d = self.data
        f = self.formatter
        loop = asyncio.get_running_loop()
        i = 0
        previous = 0
        cycle = 0
        iops = 0
        if f is not None:
            f.open_array_section("datas")
        tick = d.start_time  # loop.time() is time.monotonic()
        while not d.done:
            if i % 20 == 0 and f is None:
                if i > 0:
                    self.t.io.out(f"{_now_text()} min lat: {fmt_double(d.min_latency)} "
                                  f"max lat: {fmt_double(d.max_latency)} "
                                  f"avg lat: {fmt_double(d.avg_latency)}\n")
                self.out(f"{'sec':>5}{'Cur ops':>8}{'started':>10}{'finished':>10}"
                         f"{'avg MB/s':>10}{'cur MB/s':>10}{'last lat(s)':>12}"
                         f"{'avg lat(s)':>12}")
            bandwidth = (d.finished - previous) * d.op_size / MB / cycle if cycle else -1.0
            if bandwidth > -1:
                d.max_bandwidth = max(d.max_bandwidth, bandwidth)
                d.min_bandwidth = min(d.min_bandwidth, bandwidth)
                d.bandwidth_cycles += 1
                delta = bandwidth - d.avg_bandwidth
                d.avg_bandwidth += delta / d.bandwidth_cycles
                d.bandwidth_diff_sum += delta * (bandwidth - d.avg_bandwidth)
            iops = int((d.finished - previous) / cycle) if cycle else -1
            if iops > -1:
                d.max_iops = max(d.max_iops, iops)
                d.min_iops = min(d.min_iops, iops)
                d.iops_cycles += 1
                delta = iops - d.avg_iops
                d.avg_iops += delta / d.iops_cycles
                d.iops_diff_sum += delta * (iops - d.avg_iops)
            elapsed = time.monotonic() - d.start_time
            avg_bw = d.op_size * d.finished / elapsed / MB if elapsed > 0 else 0.0
            changed = previous != d.finished
            if changed:
                previous = d.finished
                cycle = 0
            if f is None:
                cur = fmt_double(bandwidth) if changed else "0"
                last = fmt_double(d.cur_latency) if changed else "-"
                self.out(f"{i:>5} {d.in_flight:>7} {d.started:>9} {d.finished:>9} "
                         f"{fmt_double(avg_bw):>9} {cur:>9} {last:>11} "
                         f"{fmt_double(d.avg_latency):>11}")
            else:
                f.open_object_section("data")
                f.dump_format("sec", str(i))
                f.dump_format("cur_ops", str(d.in_flight))
                f.dump_format("started", str(d.started))
                f.dump_format("finished", str(d.finished))
                f.dump_format("avg_bw", fmt_f(avg_bw))
                f.dump_format("cur_bw", fmt_f(bandwidth if changed else 0.0))
                f.dump_format("last_lat", fmt_f(d.cur_latency if changed else 0.0))
                f.dump_format("avg_lat", fmt_f(d.avg_latency))
                f.close_section()
                self._flush_formatter()
            i += 1
            cycle += 1
            tick += 1.0
            await asyncio.sleep(max(0.0, tick - loop.time()))
        if f is not None:
            f.close_section()
        if iops < 0:
            runtime = time.monotonic() - d.start_time
            d.min_iops = d.max_iops = int(d.finished / runtime) if runtime > 0 else 0

    # -- runs -----------------------------------------------------------------------------

    async def aio_bench(self, operation: int, seconds: int, concurrent: int, op_size: int,
                        object_size: int, max_objects: int, cleanup: bool, hints: bool,
                        run_name: str, reuse_bench: bool, no_verify: bool) -> int:
        """``aio_bench``: 0 or a negative errno."""
        if concurrent <= 0:
            return -errno.EINVAL
        meta = run_name or BENCH_LASTRUN_METADATA
        num_ops = 0
        prev_pid = 0
        if operation != OP_WRITE or reuse_bench:
            got = await self.fetch_metadata(meta)
            if isinstance(got, int):
                if got == -errno.ENOENT:
                    self.err("Must write data before using reuse_bench for a write benchmark!"
                             if reuse_bench else
                             "Must write data before running a read benchmark!")
                return got
            op_size, object_size, prev_pid, num_ops = (got.op_size, got.object_size,
                                                       got.pid, got.num_ops)
        self.data = BenchData(op_size, object_size, hints)
        straw2_neg_ln_table()  # CRUSH's straw2 table is built on first use: not in a run
        f = self.formatter
        if f is not None:
            f.open_object_section("bench")
        r = 0
        if operation == OP_WRITE:
            r = await self.write_bench(seconds, concurrent, meta, max_objects, prev_pid)
        elif operation == OP_SEQ_READ:
            r = await self.read_bench(seconds, num_ops, concurrent, prev_pid, no_verify,
                                      rand=False)
        elif operation == OP_RAND_READ:
            r = await self.read_bench(seconds, num_ops, concurrent, prev_pid, no_verify,
                                      rand=True)
        if r == 0 and operation == OP_WRITE and cleanup:
            got = await self.fetch_metadata(meta)
            if isinstance(got, int):
                if got == -errno.ENOENT:
                    self.err("Should never happen: bench metadata missing for current run!")
                r = got
            else:
                start = time.monotonic()
                self.out("Cleaning up (deleting benchmark objects)")
                r = await self.clean_up_objects(got.num_objects, got.pid, concurrent)
                if r == 0:
                    self.out("Clean up completed and total clean up time :"
                             f"{fmt_double(time.monotonic() - start)}")
                    r = await self.sync_remove(meta)
        if f is not None:
            f.close_section()
            self._flush_formatter()
            self.write_out("\n")
        return r

    async def _join_printer(self, printer: asyncio.Task[None]) -> None:
        self.data.done = True
        await printer

    async def write_bench(self, seconds: int, concurrent: int, meta: str, max_objects: int,
                          prev_pid: int) -> int:
        """``write_bench``: keep ``concurrent`` writes in flight for ``seconds``."""
        d = self.data
        f = self.formatter
        if f is None:
            self.out(f"Maintaining {concurrent} concurrent writes of {d.op_size} bytes to "
                     f"objects of size {d.object_size} for up to {seconds} seconds or "
                     f"{max_objects} objects")
        else:
            f.dump_format("concurrent_ios", str(concurrent))
            f.dump_format("object_size", str(d.object_size))
            f.dump_format("op_size", str(d.op_size))
            f.dump_format("seconds_to_run", str(seconds))
            f.dump_format("max_objects", str(max_objects))
        pid = prev_pid or self.pid
        prefix = object_prefix(pid)
        if f is None:
            self.out(f"Object prefix: {prefix}")
        else:
            f.dump_string("object_prefix", prefix)
        wpo = d.object_size // d.op_size if d.op_size else 1
        wpo = wpo or 1
        limit = (d.object_size * max_objects + d.op_size - 1) // d.op_size \
            if max_objects and d.op_size else 0
        contents = [bytearray(op_contents(i, d.op_size)) for i in range(concurrent)]
        start_times = [0.0] * concurrent
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()
        state = self.state = {"stopping": False, "error": 0}
        monotonic = time.monotonic
        oloc = self.oloc()
        d.start_time = monotonic()
        stop_time = d.start_time + seconds

        # Each slot's ops and budget only change with the offset (a slot reuses its
        # buffer, as the C++ tool does), so they are built once per slot and offset.
        slot_ops: list[tuple[int, list[OSDOp], int]] = [(-1, [], 0)] * concurrent
        reuse_ops = self.write_dest == DEST_OBJ  # omap/xattr ops hold a copy of the data
        head_len = min(len(f"I'm the {0:16d}th op!") + 1, d.op_size)

        def issue(slot: int) -> None:
            n = d.started
            buf = contents[slot]
            if head_len:
                buf[:head_len] = f"I'm the {n:16d}th op!\0".encode()[:head_len - 1] + b"\0"
            offset = d.op_size * (n % wpo)
            cached_offset, ops, budget = slot_ops[slot]
            if cached_offset != offset or not reuse_ops:
                ops = self.write_ops(buf, offset)
                budget = calc_op_budget(ops)
                slot_ops[slot] = (offset, ops, budget)
            start_times[slot] = monotonic()
            self.submit(f"{prefix}_object{n // wpo}", oloc, list(ops), _WRITE,
                        callbacks[slot], budget)
            d.started += 1
            d.in_flight += 1

        def completed(slot: int, res: OpResult) -> None:
            if done.done():
                return
            now = monotonic()
            if res.result != 0:
                state["stopping"] = True
                if not done.done():
                    done.set_result(res.result)
                return
            d.complete(now - start_times[slot], True)
            if not state["stopping"] and seconds and now < stop_time:
                issue(slot)
                if limit and d.started >= limit:
                    state["stopping"] = True
            else:
                state["stopping"] = True
            if state["stopping"] and d.in_flight == 0 and not done.done():
                done.set_result(0)

        callbacks = [functools.partial(completed, slot) for slot in range(concurrent)]
        for slot in range(concurrent):
            issue(slot)
        printer = loop.create_task(self.status_printer())
        if not seconds:
            state["stopping"] = True
        r = await done
        time_passed = monotonic() - d.start_time
        await self._join_printer(printer)
        if r != 0:
            return r
        bandwidth = d.finished * d.op_size / time_passed / MB
        bw_sd = stddev(d.bandwidth_diff_sum, d.bandwidth_cycles)
        iops_sd = stddev(d.iops_diff_sum, d.iops_cycles)
        lat_sd = stddev(d.latency_diff_sum, d.finished)
        avg_iops = int(d.finished / time_passed)
        if f is None:
            self.out(f"Total time run:         {fmt_double(time_passed)}")
            for label, value in (
                    ("Total writes made:      ", str(d.finished)),
                    ("Write size:             ", str(d.op_size)),
                    ("Object size:            ", str(d.object_size)),
                    ("Bandwidth (MB/sec):     ", fmt_double(bandwidth)),
                    ("Stddev Bandwidth:       ", fmt_double(bw_sd)),
                    ("Max bandwidth (MB/sec): ", fmt_double(d.max_bandwidth)),
                    ("Min bandwidth (MB/sec): ", fmt_double(d.min_bandwidth)),
                    ("Average IOPS:           ", str(avg_iops)),
                    ("Stddev IOPS:            ", fmt_double(iops_sd)),
                    ("Max IOPS:               ", str(d.max_iops)),
                    ("Min IOPS:               ", str(d.min_iops)),
                    ("Average Latency(s):     ", fmt_double(d.avg_latency)),
                    ("Stddev Latency(s):      ", fmt_double(lat_sd)),
                    ("Max latency(s):         ", fmt_double(d.max_latency)),
                    ("Min latency(s):         ", fmt_double(d.min_latency))):
                self.t.io.out(label + value + "\n")
        else:
            for key, text in (
                    ("total_time_run", fmt_f(time_passed)),
                    ("total_writes_made", str(d.finished)),
                    ("write_size", str(d.op_size)),
                    ("object_size", str(d.object_size)),
                    ("bandwidth", fmt_f(bandwidth)),
                    ("stddev_bandwidth", fmt_f(bw_sd)),
                    ("max_bandwidth", fmt_f(d.max_bandwidth)),
                    ("min_bandwidth", fmt_f(d.min_bandwidth)),
                    ("average_iops", str(avg_iops)),
                    ("stddev_iops", str(int(iops_sd))),
                    ("max_iops", str(d.max_iops)),
                    ("min_iops", str(d.min_iops)),
                    ("average_latency", fmt_f(d.avg_latency)),
                    ("stddev_latency", fmt_f(lat_sd)),
                    ("max_latency", fmt_f(d.max_latency)),
                    ("min_latency", fmt_f(d.min_latency))):
                f.dump_format(key, text)
        await self.sync_write(meta, encode_metadata(d.object_size, d.finished, pid, d.op_size))
        return 0

    async def read_bench(self, seconds: int, num_ops: int, concurrent: int, pid: int,
                         no_verify: bool, *, rand: bool) -> int:
        """``seq_read_bench`` / ``rand_read_bench``: read the ``num_ops`` writes of a
        write run (in order, or drawn at random)."""
        d = self.data
        f = self.formatter
        rpo = (d.object_size // d.op_size if d.op_size else 1) or 1
        prefix = object_prefix(pid)
        start_times = [0.0] * concurrent
        index = list(range(concurrent))
        names = [""] * concurrent
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()
        state = self.state = {"stopping": False, "errors": 0}
        monotonic = time.monotonic
        oloc = self.oloc()
        op_size = d.op_size
        ztails: dict[int, bytes] = {}

        def correct(out: Buffer, idx: int) -> bool:
            if len(out) != op_size:
                return False
            if op_size == 0:
                return True
            head = f"I'm the {idx:16d}th op!".encode()[:op_size - 1] + b"\0"
            n = len(head)
            tail = ztails.get(n)
            if tail is None:
                tail = ztails[n] = b"z" * (op_size - n)
            # bytes.startswith takes any buffer and memcmp()s it, where memoryview
            # equality compares item by item (20 ms for 4 MiB)
            return head.startswith(out[:n]) and tail.startswith(out[n:])

        reads: dict[int, OSDOp] = {}  # offset -> the (immutable) READ op
        read_budget = calc_op_budget([osd.read(0, op_size)])

        def issue(slot: int, n: int) -> None:
            index[slot] = n
            name = names[slot] = f"{prefix}_object{n // rpo}"
            offset = op_size * (n % rpo)
            op = reads.get(offset)
            if op is None:
                op = reads[offset] = osd.read(offset, op_size)
            start_times[slot] = monotonic()
            self.submit(name, oloc, [op], _READ, callbacks[slot], read_budget)
            d.started += 1
            d.in_flight += 1

        def completed(slot: int, res: OpResult) -> None:
            if done.done():
                return
            now = monotonic()
            d.cur_latency = now - start_times[slot]
            out = res.outs[0].outdata if res.outs else b""
            stopping = state["stopping"]
            if not stopping and not no_verify and not correct(out, index[slot]):
                self.err(f"{names[slot]} is not correct!")
                state["errors"] += 1
            if res.result < 0:
                self.err(f"read got {res.result}")
                state["stopping"] = True
                done.set_result(res.result)
                return
            d.complete(now - start_times[slot], False)
            if stopping and not no_verify and not correct(out, index[slot]):
                self.err(f"{names[slot]} is not correct!")
                state["errors"] += 1
            if not stopping and seconds and now < finish_time and \
                    (rand or num_ops > d.started):
                issue(slot, random.randrange(num_ops) if rand else d.started)
            else:
                state["stopping"] = True
            if state["stopping"] and d.in_flight == 0 and not done.done():
                done.set_result(0)

        if rand and num_ops <= 0:
            return -errno.EINVAL  # rand() % 0: the C++ tool dies of SIGFPE
        d.start_time = monotonic()
        finish_time = d.start_time + seconds
        printer = loop.create_task(self.status_printer())
        callbacks = [functools.partial(completed, slot) for slot in range(concurrent)]
        for slot in range(concurrent):
            issue(slot, slot)
        if not seconds or (not rand and num_ops <= d.started):
            state["stopping"] = True
        r = await done
        time_passed = monotonic() - d.start_time
        await self._join_printer(printer)
        if r < 0:
            return r
        bandwidth = d.finished * op_size / time_passed / MB
        iops_sd = stddev(d.iops_diff_sum, d.iops_cycles)
        avg_iops = int(d.finished / time_passed)
        if f is None:
            self.out(f"Total time run:       {fmt_double(time_passed)}")
            for label, value in (
                    ("Total reads made:     ", str(d.finished)),
                    ("Read size:            ", str(op_size)),
                    ("Object size:          ", str(d.object_size)),
                    ("Bandwidth (MB/sec):   ", fmt_double(bandwidth)),
                    ("Average IOPS:         ", str(avg_iops)),
                    ("Stddev IOPS:          ", fmt_double(iops_sd)),
                    ("Max IOPS:             ", str(d.max_iops)),
                    ("Min IOPS:             ", str(d.min_iops)),
                    ("Average Latency(s):   ", fmt_double(d.avg_latency)),
                    ("Max latency(s):       ", fmt_double(d.max_latency)),
                    ("Min latency(s):       ", fmt_double(d.min_latency))):
                self.t.io.out(label + value + "\n")
        else:
            for key, text in (
                    ("total_time_run", fmt_f(time_passed)),
                    ("total_reads_made", str(d.finished)),
                    ("read_size", str(op_size)),
                    ("object_size", str(d.object_size)),
                    ("bandwidth", fmt_f(bandwidth)),
                    ("average_iops", str(avg_iops)),
                    ("stddev_iops", fmt_f(iops_sd)),
                    ("max_iops", str(d.max_iops)),
                    ("min_iops", str(d.min_iops)),
                    ("average_latency", fmt_f(d.avg_latency)),
                    ("max_latency", fmt_f(d.max_latency)),
                    ("min_latency", fmt_f(d.min_latency))):
                f.dump_format(key, text)
        return -errno.EIO if state["errors"] else 0

    # -- cleanup --------------------------------------------------------------------------

    async def _remove_all(self, names: list[tuple[str, str]], concurrent: int) -> int:
        """Remove ``(name, namespace)`` pairs, ``concurrent`` at a time; ENOENT is
        fine. Returns the count removed, or a negative errno."""
        if not names:
            return 0
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()
        it = iter(names)
        state = {"in_flight": 0, "finished": 0}

        def issue() -> bool:
            nxt = next(it, None)
            if nxt is None:
                return False
            name, ns = nxt
            self.submit(name, self.oloc(ns), [osd.remove()], _WRITE, completed)
            state["in_flight"] += 1
            return True

        def completed(res: OpResult) -> None:
            if done.done():
                return
            state["in_flight"] -= 1
            if res.result not in (0, -errno.ENOENT):
                self.err(f"remove got {res.result}")
                done.set_result(res.result)
                return
            state["finished"] += 1
            if not issue() and state["in_flight"] == 0:
                done.set_result(state["finished"])

        for _ in range(max(1, concurrent)):
            if not issue():
                break
        return await done

    async def clean_up_objects(self, num_objects: int, pid: int, concurrent: int) -> int:
        """``clean_up(num_objects, prevPid, concurrentios)``."""
        if concurrent <= 0:
            return -errno.EINVAL
        if num_objects == 0:
            return 0
        prefix = object_prefix(pid)
        ns = self.ioctx.nspace
        got = await self._remove_all([(object_name(prefix, i), ns)
                                      for i in range(num_objects)], concurrent)
        if got < 0:
            return got
        self.out(f"Removed {got} object{'s' if got != 1 else ''}")
        return 0

    async def _list(self) -> list[tuple[str, str]]:
        return [(e.key, e.nspace) async for e in self.ioctx.list_objects()]

    async def clean_up_slow(self, prefix: str, concurrent: int) -> int:
        """``clean_up_slow``: remove every object whose name starts with ``prefix``."""
        if concurrent <= 0:
            return -errno.EINVAL
        self.out("Warning: using slow linear search")
        try:
            names = [(n, ns) for n, ns in await self._list() if n.startswith(prefix)]
        except Error:
            return -errno.EIO
        got = await self._remove_all(names, concurrent)
        if got < 0:
            return -errno.EIO
        self.out(f"Removed {got} object{'s' if got != 1 else ''}")
        return 0

    async def clean_up(self, orig_prefix: str, concurrent: int, run_name: str) -> int:
        """``clean_up(prefix, concurrentios, run_name)`` (``rados cleanup``)."""
        meta = run_name or BENCH_LASTRUN_METADATA
        prefix = orig_prefix or f"{BENCH_PREFIX}_{bench_hostname()}"
        if not prefix.startswith(BENCH_PREFIX):
            self.err(f'Specified --prefix invalid, it must begin with "{BENCH_PREFIX}"')
            return -errno.EINVAL
        try:
            listed = await self._list()
        except Error as exc:
            return -(exc.errno or errno.EIO)
        meta_ns = {ns for n, ns in listed if n == meta}
        all_ns = {ns for n, ns in listed if n.startswith(prefix)}
        for ns in sorted(all_ns, key=lambda s: s.encode("utf-8", "surrogateescape")):
            self.ioctx.set_namespace(ns)
            if ns not in meta_ns:
                r = await self.clean_up_slow(prefix, concurrent)
                if r < 0:
                    self.err(f"clean_up_slow error r= {r}")
                    return r
                continue
            got = await self.fetch_metadata(meta)
            if isinstance(got, int):
                return got
            r = await self.clean_up_objects(got.num_objects, got.pid, concurrent)
            if r != 0:
                return r
            r = await self.sync_remove(meta)
            if r != 0:
                return r
        return 0


# -- the commands ----------------------------------------------------------------------

def _outstream(t: Tool) -> tuple[Callable[[str], None], Callable[[], None]]:
    """(write, close) of the formatter's stream: ``-o FILE`` or stdout."""
    if t.output is None:
        return t.io.out, lambda: None
    fh = open(t.output, "w", encoding="utf-8", errors="surrogateescape")  # noqa: SIM115

    def write(text: str) -> None:
        fh.write(text)
        fh.flush()
    return write, fh.close


async def cmd_bench(t: Tool) -> int:
    """``bench SECONDS write|seq|rand [-t N] [-b SIZE] [--no-cleanup] ...``."""
    n = t.nargs
    if t.ioctx is None or len(n) < 3:
        t.io.usage()
        return 1
    value, rest = c_strtoll(n[1])
    if rest:
        t.io.err(f"Invalid value for seconds: '{n[1]}'")
        return 1
    seconds = c_cast(max(-(1 << 63), min(value, (1 << 63) - 1)), 32, True)
    operation = {"write": OP_WRITE, "seq": OP_SEQ_READ, "rand": OP_RAND_READ}.get(n[2], 0)
    if not operation:
        t.io.usage()
        return 1
    dest = 0
    for key, bit in (("write-dest-obj", DEST_OBJ), ("write-dest-omap", DEST_OMAP),
                     ("write-dest-xattr", DEST_XATTR)):
        if key in t.opts:
            dest |= bit
    if operation != OP_WRITE:
        if t.block_size_specified:
            t.io.err("-b|--block_size option can be used only with 'write' bench test")
            return 1
        if dest:
            t.io.err("--write-object, --write-omap and --write-xattr options can only be "
                     "used with the 'write' bench test")
            return 1
    elif not dest:
        dest = DEST_OBJ
    if t.formatter is None and t.output is not None:
        t.io.err("-o|--output option can only be used with '--format' option")
        return 1
    write_out, close = _outstream(t) if t.formatter is not None else (t.io.out, lambda: None)
    bencher = ObjBencher(t, t.ioctx, t.formatter, write_out, "show-time" in t.opts)
    bencher.write_dest = dest
    op_size, object_size = t.op_size, t.object_size
    if not object_size:
        object_size = op_size
    elif object_size < op_size:
        op_size = object_size
    hints = "no-hints" not in t.opts
    t.io.out(f"hints = {int(hints)}\n")
    loop = asyncio.get_running_loop()

    def interrupt() -> None:  # Ctrl-C: stop issuing, let the summary print; twice: quit
        bencher.interrupted = bencher.state["stopping"] = True
        loop.remove_signal_handler(signal.SIGINT)
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, interrupt)
    try:
        r = await bencher.aio_bench(operation, seconds, t.concurrent_ios, op_size,
                                    object_size, t.max_objects, "no-cleanup" not in t.opts,
                                    hints, t.opts.get("run-name", ""),
                                    "reuse-bench" in t.opts, "no-verify" in t.opts)
    finally:
        close()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGINT)
    if r != 0:
        t.io.err(f"error during benchmark: {cpp_strerror(r)}")
    if bencher.interrupted:
        t.io.err("Interrupted")
        return EXIT_INTERRUPTED
    return r


async def cmd_cleanup(t: Tool) -> int:
    """``cleanup [--run-name NAME] [--prefix PREFIX]``."""
    if t.ioctx is None:
        t.io.usage()
        return 1
    if t.wildcard:
        t.ioctx.set_namespace(LIBRADOS_ALL_NSPACES)
    bencher = ObjBencher(t, t.ioctx, None, t.io.out, "show-time" in t.opts)
    r = await bencher.clean_up(t.opts.get("prefix", ""), t.concurrent_ios,
                               t.opts.get("run-name", ""))
    if r != 0:
        t.io.err(f"error during cleanup: {cpp_strerror(r)}")
    return r


__all__ = [
    "BENCH_HINT_FLAGS",
    "BENCH_LASTRUN_METADATA",
    "BENCH_PREFIX",
    "BenchData",
    "BenchMeta",
    "ObjBencher",
    "bench_hostname",
    "cmd_bench",
    "cmd_cleanup",
    "decode_metadata",
    "encode_metadata",
    "object_name",
    "object_prefix",
    "op_contents",
]
