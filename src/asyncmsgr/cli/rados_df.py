"""``rados df``: per-pool usage (``MGetPoolStats``) and the cluster's (``MStatfs``).

The table is Ceph's ``TextTable`` (columns two spaces apart, the name column
left-aligned, the numbers right-aligned, each as wide as its widest cell) and
the totals are ``byte_u_t`` values; ``--format`` dumps the same numbers as
``rados.cc`` does. The monitor only has pool statistics when a ceph-mgr feeds
it; without one the pool list is empty and the totals are zero, as with the
C++ tool.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from asyncmsgr.errors import DecodeError
from asyncmsgr.messages.pool import RawStruct
from asyncmsgr.osdc.monops import MonOpError
from asyncmsgr.wire.buffer import Reader

from .rados_format import byte_u, cpp_strerror

if TYPE_CHECKING:
    from .rados import Tool


class PoolStat(NamedTuple):
    """The ``librados::pool_stat_t`` fields ``rados df`` prints."""

    num_bytes: int
    num_kb: int
    num_objects: int
    num_object_clones: int
    num_object_copies: int
    num_objects_missing_on_primary: int
    num_objects_unfound: int
    num_objects_degraded: int
    num_rd: int
    num_rd_kb: int
    num_wr: int
    num_wr_kb: int
    compressed_bytes_orig: int
    compressed_bytes_alloc: int


def _pull_versioned(r: Reader) -> tuple[int, Reader]:
    """``DECODE_START``: (struct_v, a reader over exactly the struct's bytes)."""
    v = r.pull_u8()
    r.pull_u8()  # compat
    body = r.pull_blob_view()
    return v, Reader(body)


def decode_pool_stat(raw: RawStruct) -> PoolStat:
    """``pool_stat_t::decode`` (v7+: ``object_stat_collection_t`` with its
    ``object_stat_sum_t``, log sizes, ``store_statfs_t``, ``num_store_stats``) and
    librados' conversion (``num_bytes`` = stored bytes when per-pool stats exist).

    Raises:
        DecodeError: an encoding older than Nautilus or truncated.
    """
    if raw.struct_v < 7:
        raise DecodeError(f"pool_stat_t v{raw.struct_v} is older than Nautilus")
    r = Reader(memoryview(raw.body))
    _cv, coll = _pull_versioned(r)  # object_stat_collection_t
    sv, s = _pull_versioned(coll)  # object_stat_sum_t
    if sv < 14:
        raise DecodeError(f"object_stat_sum_t v{sv} is too old")
    num_bytes = s.pull_s64()
    num_objects = s.pull_s64()
    num_object_clones = s.pull_s64()
    num_object_copies = s.pull_s64()
    num_objects_missing_on_primary = s.pull_s64()
    num_objects_degraded = s.pull_s64()
    num_objects_unfound = s.pull_s64()
    num_rd = s.pull_s64()
    num_rd_kb = s.pull_s64()
    num_wr = s.pull_s64()
    num_wr_kb = s.pull_s64()
    r.pull_s64()  # log_size
    r.pull_s64()  # ondisk_log_size
    r.pull_s32()  # up
    r.pull_s32()  # acting
    _fv, st = _pull_versioned(r)  # store_statfs_t
    st.pull_s64()  # total
    st.pull_s64()  # available
    st.pull_s64()  # internally_reserved
    allocated = st.pull_s64()
    data_stored = st.pull_s64()
    st.pull_s64()  # data_compressed
    compressed_alloc = st.pull_s64()
    compressed_orig = st.pull_s64()
    num_store_stats = r.pull_s32()
    del allocated
    stored = data_stored if num_store_stats else num_bytes
    return PoolStat(
        num_bytes=stored, num_kb=(stored + 1023) // 1024, num_objects=num_objects,
        num_object_clones=num_object_clones, num_object_copies=num_object_copies,
        num_objects_missing_on_primary=num_objects_missing_on_primary,
        num_objects_unfound=num_objects_unfound,
        num_objects_degraded=num_objects_degraded, num_rd=num_rd, num_rd_kb=num_rd_kb,
        num_wr=num_wr, num_wr_kb=num_wr_kb, compressed_bytes_orig=compressed_orig,
        compressed_bytes_alloc=compressed_alloc)


_COLUMNS = ("POOL_NAME", "USED", "OBJECTS", "CLONES", "COPIES", "MISSING_ON_PRIMARY",
            "UNFOUND", "DEGRADED", "RD_OPS", "RD", "WR_OPS", "WR", "USED COMPR",
            "UNDER COMPR")


def text_table(rows: Sequence[Sequence[str]]) -> str:
    """``TextTable`` of :data:`_COLUMNS`: POOL_NAME left-aligned, the rest right."""
    widths = [len(h) for h in _COLUMNS]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in (_COLUMNS, *rows):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(widths[i + 1]) for i, cell in enumerate(row[1:])]
        lines.append("  ".join(cells).rstrip() + "\n")
    return "".join(lines)


async def cmd_df(t: Tool) -> int:
    """``df``: one row per pool (or ``-p POOL``) and the cluster totals."""
    assert t.rados is not None
    rados = t.rados
    names = [t.pool_name] if t.pool_name is not None else await rados.list_pools()
    try:
        raw = await rados.mon_ops.get_pool_stats(list(names))
    except MonOpError as exc:
        t.io.err(f"error fetching pool stats: {cpp_strerror(exc.result)}")
        return 1
    try:
        stats = {name: decode_pool_stat(v) for name, v in raw.items()}
    except DecodeError as exc:
        t.io.err(f"error fetching pool stats: {exc}")
        return 1
    f = t.formatter
    rows: list[list[str]] = []
    if f is not None:
        f.open_object_section("stats")
        f.open_array_section("pools")
    for name in sorted(stats, key=lambda s: s.encode("utf-8", "surrogateescape")):
        s = stats[name]
        if f is None:
            rows.append([name, byte_u(s.num_bytes), str(s.num_objects),
                         str(s.num_object_clones), str(s.num_object_copies),
                         str(s.num_objects_missing_on_primary), str(s.num_objects_unfound),
                         str(s.num_objects_degraded), str(s.num_rd),
                         byte_u(s.num_rd_kb << 10), str(s.num_wr), byte_u(s.num_wr_kb << 10),
                         byte_u(s.compressed_bytes_alloc), byte_u(s.compressed_bytes_orig)])
            continue
        f.open_object_section("pool")
        f.dump_string("name", name)
        pool_id = await rados.pool_lookup(name)
        if pool_id is not None:
            f.dump_int("id", pool_id)
        for key, value in (("size_bytes", s.num_bytes), ("size_kb", s.num_kb),
                           ("num_objects", s.num_objects),
                           ("num_object_clones", s.num_object_clones),
                           ("num_object_copies", s.num_object_copies),
                           ("num_objects_missing_on_primary",
                            s.num_objects_missing_on_primary),
                           ("num_objects_unfound", s.num_objects_unfound),
                           ("num_objects_degraded", s.num_objects_degraded),
                           ("read_ops", s.num_rd), ("read_bytes", s.num_rd_kb * 1024),
                           ("write_ops", s.num_wr), ("write_bytes", s.num_wr_kb * 1024),
                           ("compress_bytes_used", s.compressed_bytes_alloc),
                           ("compress_under_bytes", s.compressed_bytes_orig)):
            f.dump_int(key, value)
        f.close_section()
    if f is None:
        t.io.out(text_table(rows))
    try:
        st = await rados.mon_ops.get_fs_stats()
    except MonOpError as exc:
        t.io.err(f"error getting total cluster usage: {cpp_strerror(exc.result)}")
        return 1
    if f is None:
        t.io.out(f"\ntotal_objects    {st.num_objects}\n"
                 f"total_used       {byte_u(st.kb_used << 10)}\n"
                 f"total_avail      {byte_u(st.kb_avail << 10)}\n"
                 f"total_space      {byte_u(st.kb << 10)}\n")
    else:
        f.close_section()
        f.dump_int("total_objects", st.num_objects)
        f.dump_int("total_used", st.kb_used)
        f.dump_int("total_avail", st.kb_avail)
        f.dump_int("total_space", st.kb)
        f.close_section()
        f.flush(t.io.out)
    return 0


__all__ = ["PoolStat", "cmd_df", "decode_pool_stat", "text_table"]
