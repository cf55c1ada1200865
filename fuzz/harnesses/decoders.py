"""Payload decoders: every registered message type, the OSD op reply data, the
OSDMap (full and incremental, pg_pool_t, with placement on the decoded map), the
CRUSH map and the monmap.

The OSDMap and incremental carry a crc32c over their bytes; the harness fixes
it up (unless the input says not to), so mutations reach the fields behind it.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Iterator
from typing import Any

from asyncmsgr.crush.codec import decode_crush_map
from asyncmsgr.crush.map import CrushMap, RuleOp
from asyncmsgr.crush.mapper import crush_do_rule
from asyncmsgr.errors import AsyncmsgrError, DecodeError
from asyncmsgr.features import CEPH_FEATURES_ALL
from asyncmsgr.message import Message, MsgHeader, decode_message, import_message_types
from asyncmsgr.messages.mon import MMonMap
from asyncmsgr.messages.monmap import MonMap
from asyncmsgr.messages.osd_op import MOSDOpReply
from asyncmsgr.messages.osdmap import MOSDMap
from asyncmsgr.osd import op_data
from asyncmsgr.osd.incremental import Incremental
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.osdmap_codec import (
    _decode_client,
    _decode_osd_only,
    pull_crc_wrapper,
)
from asyncmsgr.osd.pool import pull_pg_pool
from asyncmsgr.osd.types import PG, ObjectLocator
from asyncmsgr.types import EntityName
from asyncmsgr.wire.buffer import Reader
from asyncmsgr.wire.crc32c import ceph_crc32c

from .common import Cursor, Harness, register
from .samples import captured_messages, crush_files, osdmap_files

#: Every typed message class (all imported here), by type number.
MESSAGE_TYPES = import_message_types()
#: Registered message types, in a fixed order (the input's first byte picks one).
MESSAGE_TYPE_ORDER: tuple[int, ...] = tuple(sorted(MESSAGE_TYPES))
_SRC = EntityName(8, 0)
_TRIES_STEPS = frozenset({RuleOp.SET_CHOOSE_TRIES, RuleOp.SET_CHOOSELEAF_TRIES,
                          RuleOp.SET_CHOOSE_LOCAL_TRIES,
                          RuleOp.SET_CHOOSE_LOCAL_FALLBACK_TRIES})
_CHOOSE_STEPS = frozenset({RuleOp.CHOOSE_FIRSTN, RuleOp.CHOOSE_INDEP,
                           RuleOp.CHOOSELEAF_FIRSTN, RuleOp.CHOOSELEAF_INDEP})


def message_target(data: bytes) -> None:
    """decode_message for a registered type, then what the tools print of it."""
    c = Cursor(data)
    mtype = c.choice(MESSAGE_TYPE_ORDER)
    version, compat = c.u8(), c.u8()
    front, middle = c.blob(len(data)), c.blob(len(data))
    payload = c.rest()
    header = MsgHeader(seq=1, tid=c.u8(), type=mtype, version=version,
                       front_len=len(front), middle_len=len(middle), data_len=len(payload),
                       src=_SRC, compat_version=compat)
    m = decode_message(header, front, middle, payload)
    _show(m)


def _show(m: Message) -> None:
    """What the CLI and logs do with a decoded message."""
    repr(m)
    describe: Callable[[], str] | None = getattr(m, "describe", None)
    if describe is not None:
        describe()


def encode_message_seed(mtype: int, version: int, compat: int, front: bytes, middle: bytes,
                        payload: bytes) -> bytes | None:
    """An input for :func:`message_target`."""
    if mtype not in MESSAGE_TYPE_ORDER or len(front) > 0xFFFF or len(middle) > 0xFFFF:
        return None
    return (bytes([MESSAGE_TYPE_ORDER.index(mtype), version & 0xFF, compat & 0xFF])
            + struct.pack("<H", len(front)) + front + struct.pack("<H", len(middle)) + middle
            + payload)


def _message_seeds() -> Iterator[bytes]:
    seen: set[tuple[int, int, int]] = set()
    for m in captured_messages():
        # a few of each type and size class, not all 1340
        key = (m.type, m.version, len(m.front).bit_length())
        if key in seen:
            continue
        seen.add(key)
        seed = encode_message_seed(m.type, m.version, m.compat_version, m.front, m.middle,
                                   m.data)
        if seed is not None:
            yield seed
    for mtype, cls in sorted(MESSAGE_TYPES.items()):  # types no capture holds
        try:
            msg = cls()
            msg.prepare(CEPH_FEATURES_ALL)
        except (AsyncmsgrError, TypeError, ValueError):
            continue
        seed = encode_message_seed(mtype, msg.version, msg.compat_version, bytes(msg.front),
                                   bytes(msg.middle), bytes(msg.data))
        if seed is not None:
            yield seed


register(Harness(
    name="messages",
    target=message_target,
    seeds=_message_seeds,
    max_len=32768,
    doc="every registered message decoder (decode_message), plus repr/describe",
))


# -- OSD op reply data ---------------------------------------------------------------------

_OP_DATA: tuple[Callable[[bytes], Any], ...] = (
    op_data.decode_stat, op_data.decode_xattrs, op_data.decode_omap_keys,
    op_data.decode_omap_vals, op_data.decode_omap_vals_by_keys, op_data.decode_notify_input,
    op_data.decode_notify_id, op_data.decode_notify_ack_input, op_data.decode_notify_result,
    op_data.decode_list_watchers, op_data.decode_sparse_read, op_data.decode_pgnls,
)


def op_data_target(data: bytes) -> None:
    """The decoders of an OSD op's outdata (stat, xattrs, omap, notify, pgnls...)."""
    c = Cursor(data)
    decoder = c.choice(_OP_DATA)
    decoder(c.rest())


def _op_data_seeds() -> Iterator[bytes]:
    for m in captured_messages():
        if m.type != MOSDOpReply.TYPE:
            continue
        header = MsgHeader(type=m.type, version=m.version, compat_version=m.compat_version,
                           front_len=len(m.front), data_len=len(m.data))
        try:
            reply = decode_message(header, m.front, m.middle, m.data)
        except AsyncmsgrError:
            continue
        assert isinstance(reply, MOSDOpReply)
        for op in reply.ops:
            out = bytes(op.outdata)
            if out:
                for i in range(len(_OP_DATA)):
                    yield bytes([i]) + out


register(Harness(
    name="osd_op_data",
    target=op_data_target,
    seeds=_op_data_seeds,
    max_len=8192,
    doc="OSD op outdata decoders (stat, xattrs, omap, watch/notify, sparse read, pgnls)",
))


# -- OSDMap, incremental, pg_pool_t, placement -------------------------------------------------


def fix_map_crc(data: bytes, *, incremental: bool) -> bytes:
    """``data`` with its crc field recomputed (when its fields parse that far)."""
    try:
        struct_v, body, _outer, start, end, _ = pull_crc_wrapper(data, "map")
        if struct_v < 8:
            return data
        if incremental:
            inc = Incremental()
            inc._decode_client(body)
            inc._decode_osd_only(body)
        else:
            m = OSDMap()
            _decode_client(m, body)
            _decode_osd_only(m, body)
        crc_at = body.pos
        if crc_at + 4 > end:
            return data
    except DecodeError:
        return data
    crc = ceph_crc32c(0xFFFFFFFF, data[start:crc_at])
    if crc_at + 4 < end:
        crc = ceph_crc32c(crc, data[crc_at + 4 : end])
    return data[:crc_at] + struct.pack("<I", crc) + data[crc_at + 4 :]


@functools.cache
def _base_map() -> bytes | None:
    """The full map incrementals are applied to (encoded: each input decodes a copy)."""
    files = osdmap_files()
    return OSDMap.decode(files[0]).encode() if files else None


def osdmap_target(data: bytes) -> None:
    """OSDMap / Incremental / pg_pool_t decoders; placement on what decodes."""
    c = Cursor(data)
    what = c.below(3)
    fix = not c.u8() & 0x80
    blob = c.rest()
    if what == 2:
        pool = pull_pg_pool(Reader(blob))
        pool.raw_pg_to_pg(PG(0, 12345))
        return
    if fix:
        blob = fix_map_crc(blob, incremental=what == 1)
    if what == 1:
        inc = Incremental.decode(blob)
        base = _base_map()
        if base is not None and inc.fullmap == b"":
            m = OSDMap.decode(base)  # a private copy to change
            m.apply_incremental(inc)
            _place(m)
        return
    _place(OSDMap.decode(blob))


#: CRUSH retries (or replica counts) above this make mapping slow by design (Ceph
#: loops as long on such a map, which only a monitor can hand out): the harness
#: skips mapping then.
MAX_TRIES = 100


def mapping_is_bounded(crush: CrushMap) -> bool:
    """True when every retry count of the map and its rules is small."""
    t = crush.tunables
    if max(t.choose_total_tries, t.choose_local_tries,
           t.choose_local_fallback_tries) > MAX_TRIES:
        return False
    for rule in crush.rules:
        for step in rule.steps if rule is not None else ():
            if step.op in _TRIES_STEPS and step.arg1 > MAX_TRIES:
                return False
            if step.op in _CHOOSE_STEPS and step.arg1 > MAX_TRIES:  # numrep: a loop bound
                return False
    return True


def _place(m: OSDMap) -> None:
    """Map a few objects and PGs of each pool, as the Objecter would."""
    if not mapping_is_bounded(m.crush):
        return
    for pool_id in list(m.pools)[:4]:
        raw = m.object_locator_to_pg("obj", ObjectLocator(pool_id))
        pg = m.raw_pg_to_pg(raw)
        m.pg_to_up_acting_osds(pg)


def _osdmap_seeds() -> Iterator[bytes]:
    for blob in osdmap_files():
        yield bytes([0, 0]) + blob
    for m in captured_messages():
        if m.type != MOSDMap.TYPE:
            continue
        header = MsgHeader(type=m.type, version=m.version, compat_version=m.compat_version,
                           front_len=len(m.front))
        try:
            msg = decode_message(header, m.front)
        except AsyncmsgrError:
            continue
        assert isinstance(msg, MOSDMap)
        for blob in msg.maps.values():
            yield bytes([0, 0]) + blob
        for blob in msg.incremental_maps.values():
            yield bytes([1, 0]) + blob


register(Harness(
    name="osdmap",
    target=osdmap_target,
    seeds=_osdmap_seeds,
    allowed=(AsyncmsgrError,),  # EpochGap (an AsyncmsgrError) is the answer to a gap
    max_len=65536,
    doc="OSDMap, OSDMap::Incremental (crc fixed up), pg_pool_t; placement on the result",
))


# -- CRUSH -----------------------------------------------------------------------------------


def crush_target(data: bytes) -> None:
    """decode_crush_map, then a few mappings through each rule."""
    c = Cursor(data)
    x = c.u32()
    crush = decode_crush_map(c.rest())
    if not mapping_is_bounded(crush):
        return
    weights = [0x10000] * min(crush.max_devices, 1024)
    for ruleno in range(min(len(crush.rules), 4)):
        crush_do_rule(crush, ruleno, x, 3, weights)


def _crush_seeds() -> Iterator[bytes]:
    for blob in crush_files():
        yield bytes(4) + blob


register(Harness(
    name="crush",
    target=crush_target,
    seeds=_crush_seeds,
    max_len=65536,
    doc="CRUSH map decoder and crush_do_rule on the decoded map",
))


# -- monmap ---------------------------------------------------------------------------------


def monmap_target(data: bytes) -> None:
    """MonMap.decode."""
    MonMap.decode(data)


def _monmap_seeds() -> Iterator[bytes]:
    seen: set[bytes] = set()
    for m in captured_messages():
        if m.type != MMonMap.TYPE:
            continue
        blob = Reader(m.front).pull_blob()
        if blob not in seen:
            seen.add(blob)
            yield blob


register(Harness(
    name="monmap",
    target=monmap_target,
    seeds=_monmap_seeds,
    max_len=8192,
    doc="MonMap decoder (monmap blobs of MMonMap)",
))
