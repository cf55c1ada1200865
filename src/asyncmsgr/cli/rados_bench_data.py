"""``rados bench``'s data: object names and contents, the metadata object, statistics.

The pieces of Ceph's ``obj_bencher.{h,cc}`` that are plain data (used by
:mod:`asyncmsgr.cli.rados_bench`):

* objects ``benchmark_data_<hostname>_<pid>_object<N>`` (the host name cut to 29
  bytes, as ``gethostname`` into ``char[30]``), op ``N`` writing ``op_size`` bytes
  filled with ``z`` that start ``I'm the %16dth op!`` + NUL (``snprintf``);
* the metadata object: ``u64 object_size, s32 num_ops, s32 pid, u64 op_size``
  little-endian (16 bytes before ``op_size`` was added);
* ``bench_data``: counters and the running latency, bandwidth and IOPS statistics.
"""

from __future__ import annotations

import math
import socket
import struct
from typing import NamedTuple

from asyncmsgr.osd.ops import AllocHintFlag

from .rados_format import c_cast

BENCH_LASTRUN_METADATA = "benchmark_last_metadata"
BENCH_PREFIX = "benchmark_data"

OP_WRITE, OP_SEQ_READ, OP_RAND_READ = 1, 2, 3
#: ``OpWriteDest`` of ``rados.cc``.
DEST_OBJ, DEST_OMAP, DEST_XATTR = 2, 4, 8
#: ``set_alloc_hint2`` flags of ``RadosBencher::aio_write``.
BENCH_HINT_FLAGS = int(AllocHintFlag.SEQUENTIAL_WRITE | AllocHintFlag.SEQUENTIAL_READ
                       | AllocHintFlag.APPEND_ONLY | AllocHintFlag.IMMUTABLE)

_META = struct.Struct("<QiiQ")
_META_OLD = struct.Struct("<Qii")  # 16 bytes
DBL_MAX = 1.7976931348623157e308
INT_MAX = (1 << 31) - 1
MB = 1024 * 1024


def bench_hostname() -> str:
    """``gethostname(cached_hostname, 29)``: the host name, at most 29 bytes."""
    raw = socket.gethostname().encode("utf-8", "surrogateescape")[:29]
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def object_prefix(pid: int, hostname: str | None = None) -> str:
    """``generate_object_prefix``: ``benchmark_data_<host>_<pid>``."""
    return f"{BENCH_PREFIX}_{hostname if hostname is not None else bench_hostname()}_{pid}"


def object_name(prefix: str, objnum: int) -> str:
    """``generate_object_name_fast``: ``<prefix>_object<N>``."""
    return f"{prefix}_object{objnum}"


def encode_metadata(object_size: int, num_ops: int, pid: int, op_size: int) -> bytes:
    """The metadata object ``write_bench`` leaves (24 bytes)."""
    return _META.pack(object_size, c_cast(num_ops, 32, True), c_cast(pid, 32, True),
                      op_size)


def decode_metadata(data: bytes) -> tuple[int, int, int, int]:
    """The metadata's fields: (object_size, num_ops, pid, op_size); a
    16-byte object (before ``op_size`` was added) has ``op_size == object_size``.

    Raises:
        ValueError: a length ``decode`` would run past (the C++ tool aborts).
    """
    if len(data) >= _META.size:
        return _META.unpack_from(data)
    if len(data) == _META_OLD.size:
        object_size, num, pid = _META_OLD.unpack_from(data)
        return object_size, num, pid, object_size
    raise ValueError(f"bench metadata of {len(data)} bytes")


def op_contents(index: int, op_size: int) -> bytes:
    """What op ``index`` writes: ``z`` * op_size overwritten by ``snprintf(buf,
    op_size, "I'm the %16dth op!", index)`` (its NUL included)."""
    if op_size <= 0:
        return b""
    head = f"I'm the {index:16d}th op!".encode()[:op_size - 1] + b"\0"
    return head + b"z" * (op_size - len(head))


class BenchMeta(NamedTuple):
    """What ``fetch_bench_metadata`` returns."""

    op_size: int
    object_size: int
    num_objects: int
    """Objects written: ``num_ops`` over the writes per object, rounded up."""
    pid: int
    num_ops: int


class BenchData:
    """``bench_data`` + ``bench_interval_data``."""

    def __init__(self, op_size: int, object_size: int, hints: bool) -> None:
        self.op_size = op_size
        self.object_size = object_size
        self.hints = hints
        self.done = False
        self.in_flight = 0
        self.started = 0
        self.finished = 0
        self.min_latency = 9999.0
        self.max_latency = 0.0
        self.avg_latency = 0.0
        self.total_latency = 0.0
        self.latency_diff_sum = 0.0
        self.cur_latency = 0.0
        self.start_time = 0.0
        self.min_bandwidth = DBL_MAX
        self.max_bandwidth = 0.0
        self.avg_bandwidth = 0.0
        self.bandwidth_cycles = 0
        self.bandwidth_diff_sum = 0.0
        self.min_iops = INT_MAX
        self.max_iops = 0
        self.avg_iops = 0.0
        self.iops_cycles = 0
        self.iops_diff_sum = 0.0

    def complete(self, latency: float, welford: bool) -> None:
        """One op finished after ``latency`` seconds (``welford``: track the
        latency variance, as write runs do)."""
        self.cur_latency = latency
        self.total_latency += latency
        self.max_latency = max(self.max_latency, latency)
        self.min_latency = min(self.min_latency, latency)
        self.finished += 1
        delta = latency - self.avg_latency
        self.avg_latency = self.total_latency / self.finished
        if welford:
            self.latency_diff_sum += delta * (latency - self.avg_latency)
        self.in_flight -= 1


def stddev(diff_sum: float, n: int) -> float:
    return math.sqrt(diff_sum / (n - 1)) if n > 1 else 0.0


__all__ = [
    "BENCH_HINT_FLAGS",
    "BENCH_LASTRUN_METADATA",
    "BENCH_PREFIX",
    "DBL_MAX",
    "DEST_OBJ",
    "DEST_OMAP",
    "DEST_XATTR",
    "MB",
    "OP_RAND_READ",
    "OP_SEQ_READ",
    "OP_WRITE",
    "BenchData",
    "BenchMeta",
    "bench_hostname",
    "decode_metadata",
    "encode_metadata",
    "object_name",
    "object_prefix",
    "op_contents",
    "stddev",
]
