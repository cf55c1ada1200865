"""Inputs and outputs of RADOS object operations (what ``OSDOp.indata``/``outdata`` hold).

Each structure has a ``push_*`` encoder and a ``pull_*``/``decode_*`` decoder, as
Pacific's OSD (``PrimaryLogPG::do_osd_ops``) and librados' ``ObjectOperation``
read and write them:

* STAT output: ``u64 size, utime mtime`` (:class:`ObjectStat`);
* GETXATTRS output: ``map<string, bufferlist>``;
* OMAPGETKEYS input ``string start_after, u64 max``; output ``set<string>`` then
  ``bool more`` (older OSDs leave it out: ``more`` is then None);
* OMAPGETVALS input ``string start_after, u64 max, string filter_prefix``; output
  ``map<string, bufferlist>`` then ``bool more``;
* OMAPGETVALSBYKEYS/OMAPRMKEYS input ``set<string>``; OMAPSETVALS input
  ``map<string, bufferlist>``;
* NOTIFY input ``u32 prot_ver, u32 timeout, bufferlist payload``; its output the
  ``u64 notify_id``; NOTIFY_ACK input ``u64 notify_id, u64 cookie, bufferlist reply``;
  the notify-complete payload ``map<pair<u64 gid, u64 cookie>, bufferlist> acks,
  set<pair<u64, u64>> timeouts`` (:class:`NotifyResult`);
* LIST_WATCHERS output ``obj_list_watch_response_t`` (:class:`WatchItem` each);
* SPARSE_READ output ``map<u64 offset, u64 length>`` then the data bufferlist;
* PGNLS output ``pg_nls_response_t``: the next cursor (``hobject_t``) and the
  entries (namespace, name, locator key) (:class:`PgNlsResponse`).

Every count is checked against the bytes present before anything is built;
every failure is a :class:`~asyncmsgr.errors.DecodeError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from asyncmsgr.errors import DecodeError
from asyncmsgr.osd.types import HObject, pull_hobject, push_hobject
from asyncmsgr.types import Buffer, EntityAddr, EntityName, UTime
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import (
    pull_entity_addr,
    pull_entity_name,
    pull_utime,
    push_entity_addr,
    push_entity_name,
    push_utime,
)

#: Smallest encoded string or bufferlist (its u32 length).
_LEN = 4


def _key(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _reader(data: Buffer) -> Reader:
    return Reader(data)


# -- stat -------------------------------------------------------------------------------


class ObjectStat(NamedTuple):
    """STAT's output: the object's size and modification time."""

    size: int
    mtime: UTime


def push_stat(w: Writer, st: ObjectStat) -> None:
    """STAT output: ``u64 size, utime_t mtime``."""
    w.push_u64(st.size)
    push_utime(w, st.mtime)


def decode_stat(outdata: Buffer) -> ObjectStat:
    """STAT output (trailing bytes ignored, as librados does)."""
    r = _reader(outdata)
    size = r.pull_u64()
    return ObjectStat(size, pull_utime(r))


# -- xattrs and omap ------------------------------------------------------------------------


def push_bytes_map(w: Writer, m: Mapping[str, Buffer]) -> None:
    """``map<string, bufferlist>``, keys in ``std::string`` order."""
    w.push_u32(len(m))
    for k in sorted(m, key=_key):
        w.push_string(k)
        w.push_blob(m[k])


def pull_bytes_map(r: Reader) -> dict[str, bytes]:
    """``map<string, bufferlist>`` (a later duplicate key wins, as ``m[k] = v``)."""
    n = r.pull_count(2 * _LEN, "map<string,bufferlist>")
    out: dict[str, bytes] = {}
    for _ in range(n):
        k = r.pull_string()
        out[k] = r.pull_blob()
    return out


def decode_xattrs(outdata: Buffer) -> dict[str, bytes]:
    """GETXATTRS output: name -> value."""
    return pull_bytes_map(_reader(outdata))


def push_omap_map(w: Writer, values: Mapping[str, Buffer]) -> None:
    """OMAPSETVALS input (and OMAPGETVALS' map)."""
    push_bytes_map(w, values)


def push_omap_key_set(w: Writer, keys: Iterable[str]) -> None:
    """``set<string>``: sorted, no duplicates (OMAPRMKEYS, OMAPGETVALSBYKEYS input)."""
    unique = sorted(set(keys), key=_key)
    w.push_u32(len(unique))
    for k in unique:
        w.push_string(k)


def pull_omap_key_set(r: Reader) -> list[str]:
    """``set<string>`` in wire order."""
    n = r.pull_count(_LEN, "set<string>")
    return [r.pull_string() for _ in range(n)]


def push_omap_get_keys_input(w: Writer, start_after: str, max_return: int) -> None:
    """OMAPGETKEYS input: ``string start_after, u64 max_to_get``."""
    w.push_string(start_after)
    w.push_u64(max_return)


def push_omap_get_vals_input(w: Writer, start_after: str, max_return: int,
                             filter_prefix: str) -> None:
    """OMAPGETVALS input: ``string start_after, u64 max_to_get, string filter_prefix``."""
    w.push_string(start_after)
    w.push_u64(max_return)
    w.push_string(filter_prefix)


class OmapKeys(NamedTuple):
    """OMAPGETKEYS output: keys in order and whether more follow."""

    keys: list[str]
    more: bool | None


class OmapVals(NamedTuple):
    """OMAPGETVALS output: key -> value and whether more follow."""

    vals: dict[str, bytes]
    more: bool | None


def _more(r: Reader) -> bool | None:
    return None if r.at_end() else r.pull_bool()


def decode_omap_keys(outdata: Buffer) -> OmapKeys:
    """OMAPGETKEYS output: ``set<string>`` then ``bool more`` (None if absent)."""
    r = _reader(outdata)
    keys = pull_omap_key_set(r)
    return OmapKeys(keys, _more(r))


def push_omap_keys_output(w: Writer, keys: Iterable[str], more: bool) -> None:
    """OMAPGETKEYS output."""
    push_omap_key_set(w, keys)
    w.push_bool(more)


def decode_omap_vals(outdata: Buffer) -> OmapVals:
    """OMAPGETVALS output: ``map<string, bufferlist>`` then ``bool more``."""
    r = _reader(outdata)
    vals = pull_bytes_map(r)
    return OmapVals(vals, _more(r))


def push_omap_vals_output(w: Writer, vals: Mapping[str, Buffer], more: bool) -> None:
    """OMAPGETVALS output."""
    push_bytes_map(w, vals)
    w.push_bool(more)


def decode_omap_vals_by_keys(outdata: Buffer) -> dict[str, bytes]:
    """OMAPGETVALSBYKEYS output: ``map<string, bufferlist>``."""
    return pull_bytes_map(_reader(outdata))


# -- watch / notify -------------------------------------------------------------------------


def push_notify_input(w: Writer, prot_ver: int, timeout: int, payload: Buffer) -> None:
    """NOTIFY input: ``u32 prot_ver, u32 timeout, bufferlist payload``."""
    w.push_u32(prot_ver)
    w.push_u32(timeout)
    w.push_blob(payload)


class NotifyInput(NamedTuple):
    """NOTIFY input."""

    prot_ver: int
    timeout: int
    payload: bytes


def decode_notify_input(indata: Buffer) -> NotifyInput:
    """NOTIFY input."""
    r = _reader(indata)
    prot_ver = r.pull_u32()
    timeout = r.pull_u32()
    return NotifyInput(prot_ver, timeout, r.pull_blob())


def decode_notify_id(outdata: Buffer) -> int:
    """NOTIFY output: the ``u64`` notify id."""
    return _reader(outdata).pull_u64()


def push_notify_ack_input(w: Writer, notify_id: int, cookie: int, reply: Buffer) -> None:
    """NOTIFY_ACK input: ``u64 notify_id, u64 cookie, bufferlist reply``."""
    w.push_u64(notify_id)
    w.push_u64(cookie)
    w.push_blob(reply)


class NotifyAck(NamedTuple):
    """NOTIFY_ACK input."""

    notify_id: int
    cookie: int
    reply: bytes


def decode_notify_ack_input(indata: Buffer) -> NotifyAck:
    """NOTIFY_ACK input (an empty input acks with no reply, as old clients do)."""
    r = _reader(indata)
    notify_id = r.pull_u64()
    cookie = r.pull_u64()
    return NotifyAck(notify_id, cookie, b"" if r.at_end() else r.pull_blob())


@dataclass(frozen=True, slots=True)
class NotifyResult:
    """What a completed notify returns: each watcher's reply, who timed out."""

    acks: dict[tuple[int, int], bytes] = field(default_factory=dict)
    """(watcher gid, watch cookie) -> reply bytes."""
    timeouts: frozenset[tuple[int, int]] = frozenset()
    """(watcher gid, watch cookie) that did not ack in time."""


def push_notify_result(w: Writer, res: NotifyResult) -> None:
    """``map<pair<u64,u64>, bufferlist> acks, set<pair<u64,u64>> timeouts``."""
    w.push_u32(len(res.acks))
    for (gid, cookie) in sorted(res.acks):
        w.push_u64(gid)
        w.push_u64(cookie)
        w.push_blob(res.acks[(gid, cookie)])
    w.push_u32(len(res.timeouts))
    for gid, cookie in sorted(res.timeouts):
        w.push_u64(gid)
        w.push_u64(cookie)


def decode_notify_result(data: Buffer) -> NotifyResult:
    """The notify-complete payload (an MWatchNotify's data, or a notify's reply).

    An empty buffer is an empty result (a notify nobody watched).
    """
    if not len(data):
        return NotifyResult()
    r = _reader(data)
    n = r.pull_count(16 + _LEN, "notify acks")
    acks: dict[tuple[int, int], bytes] = {}
    for _ in range(n):
        gid = r.pull_u64()
        cookie = r.pull_u64()
        acks[(gid, cookie)] = r.pull_blob()
    timeouts: set[tuple[int, int]] = set()
    if not r.at_end():
        m = r.pull_count(16, "notify timeouts")
        for _ in range(m):
            gid = r.pull_u64()
            timeouts.add((gid, r.pull_u64()))
    return NotifyResult(acks, frozenset(timeouts))


class WatchItem(NamedTuple):
    """``watch_item_t``: one watcher of an object."""

    name: EntityName
    cookie: int
    timeout_seconds: int
    addr: EntityAddr | None


def push_list_watchers_output(w: Writer, items: Iterable[WatchItem],
                              features: int) -> None:
    """``obj_list_watch_response_t`` (v1) of ``watch_item_t`` (v2, compat 1)."""
    items = list(items)
    with w.versioned(1, 1):
        w.push_u32(len(items))
        for item in items:
            with w.versioned(2, 1):
                push_entity_name(w, item.name)
                w.push_u64(item.cookie)
                w.push_u32(item.timeout_seconds)
                if item.addr is None:
                    raise ValueError("watch_item_t v2 needs the watcher's address")
                push_entity_addr(w, item.addr, features)


def decode_list_watchers(outdata: Buffer) -> list[WatchItem]:
    """LIST_WATCHERS output: ``obj_list_watch_response_t``."""
    _, body = _reader(outdata).pull_versioned(1, "obj_list_watch_response_t")
    n = body.pull_count(6, "watchers")
    out = []
    for _ in range(n):
        v, item = body.pull_versioned(2, "watch_item_t")
        name = pull_entity_name(item)
        cookie = item.pull_u64()
        timeout = item.pull_u32()
        addr = pull_entity_addr(item) if v >= 2 else None
        out.append(WatchItem(name, cookie, timeout, addr))
    return out


# -- sparse read ---------------------------------------------------------------------------


class SparseRead(NamedTuple):
    """SPARSE_READ output: the (offset, length) extents and their data back to back."""

    extents: list[tuple[int, int]]
    data: bytes


def push_sparse_read_output(w: Writer, res: SparseRead) -> None:
    """``map<u64,u64>`` then the data bufferlist."""
    w.push_u32(len(res.extents))
    for off, length in res.extents:
        w.push_u64(off)
        w.push_u64(length)
    w.push_blob(res.data)


def decode_sparse_read(outdata: Buffer) -> SparseRead:
    """SPARSE_READ output; the extents' lengths must add up to the data's."""
    r = _reader(outdata)
    n = r.pull_count(16, "sparse-read extents")
    extents = []
    for _ in range(n):
        off = r.pull_u64()
        extents.append((off, r.pull_u64()))
    data = r.pull_blob()
    if sum(length for _, length in extents) != len(data):
        raise DecodeError(f"sparse-read: extents cover {sum(n for _, n in extents)} bytes, "
                          f"data has {len(data)}")
    return SparseRead(extents, data)


# -- PGNLS ---------------------------------------------------------------------------------

#: librados' ``all_nspaces``: list every namespace (``rados ls --all``).
LIBRADOS_ALL_NSPACES = "\x01"


class ListObjectEntry(NamedTuple):
    """``librados::ListObjectImpl``: one listed object."""

    nspace: str
    oid: str
    locator: str = ""


@dataclass(frozen=True, slots=True)
class PgNlsResponse:
    """``pg_nls_response_t``: where to continue and what was listed."""

    handle: HObject
    """The cursor for the next PGNLS of this PG (``MAX`` when it is exhausted)."""
    entries: list[ListObjectEntry] = field(default_factory=list)


def push_pgnls_response(w: Writer, res: PgNlsResponse) -> None:
    """``pg_nls_response_t`` (v1)."""
    with w.versioned(1, 1):
        push_hobject(w, res.handle)
        w.push_u32(len(res.entries))
        for e in res.entries:
            w.push_string(e.nspace)
            w.push_string(e.oid)
            w.push_string(e.locator)


def decode_pgnls(outdata: Buffer) -> PgNlsResponse:
    """PGNLS output (trailing bytes after the response are ignored)."""
    _, body = _reader(outdata).pull_versioned(1, "pg_nls_response_t")
    handle = pull_hobject(body)
    n = body.pull_count(3 * _LEN, "pg_nls_response_t entries")
    entries = []
    for _ in range(n):
        nspace = body.pull_string()
        oid = body.pull_string()
        entries.append(ListObjectEntry(nspace, oid, body.pull_string()))
    return PgNlsResponse(handle, entries)


__all__ = [
    "LIBRADOS_ALL_NSPACES",
    "ListObjectEntry",
    "NotifyAck",
    "NotifyInput",
    "NotifyResult",
    "ObjectStat",
    "OmapKeys",
    "OmapVals",
    "PgNlsResponse",
    "SparseRead",
    "WatchItem",
    "decode_list_watchers",
    "decode_notify_ack_input",
    "decode_notify_id",
    "decode_notify_input",
    "decode_notify_result",
    "decode_omap_keys",
    "decode_omap_vals",
    "decode_omap_vals_by_keys",
    "decode_pgnls",
    "decode_sparse_read",
    "decode_stat",
    "decode_xattrs",
    "pull_bytes_map",
    "pull_omap_key_set",
    "push_bytes_map",
    "push_list_watchers_output",
    "push_notify_ack_input",
    "push_notify_input",
    "push_notify_result",
    "push_omap_get_keys_input",
    "push_omap_get_vals_input",
    "push_omap_key_set",
    "push_omap_keys_output",
    "push_omap_map",
    "push_omap_vals_output",
    "push_pgnls_response",
    "push_sparse_read_output",
    "push_stat",
]
