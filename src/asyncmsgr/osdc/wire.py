"""The MOSDOp front on the Objecter's hot path, encoded in three straight-line pieces.

:class:`~asyncmsgr.messages.osd_op.MOSDOp` encodes field by field. The Objecter sends
many ops and resends a few, so here the v8 front (rados.md) is cut where a resend
changes it:

* **head**: ``spg_t``, hash, osdmap epoch, flags, the empty ``osd_reqid_t`` and the
  empty blkin trace (changes with the target and the map);
* **mid**: client_inc, mtime, ``object_locator_t``, the name, the ops (38 bytes
  each), snapid, snap_seq, snaps (fixed for the op's life: encoded once);
* **tail**: retry_attempt, features.

:class:`FastMOSDOp` is an MOSDOp whose ``encode_payload`` joins the pieces for
Pacific peers (RESEND_ON_SPLIT and NEW_OSDOP_ENCODING) and falls back to the
field-by-field encoder otherwise; tests check both give the same bytes.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence
from typing import Any

from asyncmsgr.errors import EncodeError
from asyncmsgr.features import feature_mask
from asyncmsgr.messages.osd_op import EMPTY_REQID, NO_TRACE, MOSDOp
from asyncmsgr.osd.ops import OSD_OP_ARGS_LEN, OSDOp
from asyncmsgr.osd.types import SPG, ObjectLocator, push_osd_reqid
from asyncmsgr.types import UTime
from asyncmsgr.wire.buffer import Writer

_NEEDED = feature_mask("RESEND_ON_SPLIT") | feature_mask("NEW_OSDOP_ENCODING") | \
    feature_mask("OBJECTLOCATOR")

# spg_t header (v1, compat 1, 18 bytes), pg_t (v1, pool, seed, preferred -1), shard,
# then hash, epoch, flags.
_HEAD = struct.Struct("<BBIBQIibIII")


def _empty_reqid_and_trace() -> bytes:
    w = Writer()
    push_osd_reqid(w, EMPTY_REQID)
    return w.getvalue() + bytes(24)


_REQID_TRACE = _empty_reqid_and_trace()
# one ceph_osd_op: op, flags, the 28-byte union, payload_len
_OP = struct.Struct(f"<HI{OSD_OP_ARGS_LEN}sI")
_SNAPS = struct.Struct("<QQI")
_TAIL = struct.Struct("<iQ")
_MAX_OPS = 1 << 16


def encode_head(pgid: SPG, obj_hash: int, epoch: int, flags: int) -> bytes:
    """spg_t, hash, epoch, flags, empty reqid, empty trace."""
    pg = pgid.pgid
    return _HEAD.pack(1, 1, 18, 1, pg.pool, pg.seed, -1, pgid.shard, obj_hash, epoch,
                      flags) + _REQID_TRACE


def encode_mid(client_inc: int, mtime: UTime, oloc: ObjectLocator, oid: str,
               ops: Sequence[OSDOp], snapid: int, snap_seq: int,
               snaps: Sequence[int]) -> bytes:
    """client_inc .. snaps: what stays the same across the op's resends."""
    nops = len(ops)
    if nops >= _MAX_OPS:
        raise EncodeError(f"too many ops ({nops})")
    if oloc.hash != -1 and oloc.key:
        raise ValueError("object_locator_t cannot have both a key and a hash")
    try:
        key = oloc.key.encode("utf-8", "surrogateescape")
        nspace = oloc.nspace.encode("utf-8", "surrogateescape")
        name = oid.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise EncodeError(f"string not encodable: {exc}") from exc
    nk, nn, nname = len(key), len(nspace), len(name)
    parts = [_mid_struct(nk, nn, nname).pack(
        client_inc, mtime.sec, mtime.nsec, 6, 6 if oloc.hash != -1 else 3, 28 + nk + nn,
        oloc.pool, -1, nk, key, nn, nspace, oloc.hash, nname, name, nops)]
    pack_op = _OP.pack
    for op in ops:
        args = op.args
        if len(args) != OSD_OP_ARGS_LEN:
            raise EncodeError("ceph_osd_op union has the wrong size")
        parts.append(pack_op(op.op & 0xFFFF, op.flags & 0xFFFFFFFF, args, len(op.indata)))
    parts.append(_SNAPS.pack(snapid, snap_seq, len(snaps)))
    if snaps:
        parts.append(struct.pack(f"<{len(snaps)}Q", *snaps))
    return b"".join(parts)


@functools.lru_cache(maxsize=256)
def _mid_struct(nk: int, nn: int, nname: int) -> struct.Struct:
    """client_inc, mtime, object_locator_t (header, pool, -1, key, nspace, hash), the
    name and the op count, for these string lengths."""
    return struct.Struct(f"<IIIBBIqiI{nk}sI{nn}sqI{nname}sH")


def encode_tail(retry_attempt: int, features: int) -> bytes:
    """retry_attempt, features."""
    return _TAIL.pack(retry_attempt, features)


class FastMOSDOp(MOSDOp):
    """An MOSDOp carrying its pre-encoded ``mid`` (see the module docstring)."""

    mid: bytes
    """:func:`encode_mid` of this op's fields (empty: encode field by field)."""

    __slots__ = ("mid",)

    def __init__(self, *, mid: bytes = b"", **fields: Any) -> None:
        MOSDOp.__init__(self, **fields)
        self.mid = mid

    def encode_payload(self, features: int) -> None:
        """Head + mid + tail for Pacific peers; MOSDOp's encoder otherwise."""
        if (not self.mid or features & _NEEDED != _NEEDED or self.reqid != EMPTY_REQID
                or self.trace != NO_TRACE):
            MOSDOp.encode_payload(self, features)
            return
        self.version = self.HEAD_VERSION
        self.front = b"".join((encode_head(self.pgid, self.hash, self.osdmap_epoch,
                                           self.flags), self.mid,
                               _TAIL.pack(self.retry_attempt, self.features)))
        ops = self.ops
        if len(ops) == 1:
            self.data = ops[0].indata
        else:
            present = [o.indata for o in ops if len(o.indata)]
            self.data = (b"" if not present else present[0] if len(present) == 1
                         else b"".join(present))


__all__ = ["FastMOSDOp", "encode_head", "encode_mid", "encode_tail"]
