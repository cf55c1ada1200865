"""The MOSDOp front on the Objecter's hot path: its middle encoded once per op.

The v8 front (rados.md) is encoded by :mod:`asyncmsgr.messages.osd_op` in three
pieces, cut where a resend changes it:

* **head**: ``spg_t``, hash, osdmap epoch, flags, the ``osd_reqid_t`` (empty for a
  client) and the blkin trace (changes with the target and the map);
* **mid**: client_inc, mtime, ``object_locator_t``, the name, the ops (38 bytes
  each), snapid, snap_seq, snaps (fixed for the op's life: encoded once);
* **tail**: retry_attempt, features.

:class:`FastMOSDOp` is an MOSDOp carrying its encoded middle, whose
``encode_payload`` joins head + middle + tail for Pacific peers (RESEND_ON_SPLIT and
NEW_OSDOP_ENCODING) and falls back to MOSDOp's encoder otherwise; tests check both
give the same bytes.
"""

from __future__ import annotations

from typing import Any

from asyncmsgr.features import feature_mask
from asyncmsgr.messages.construct import positional_constructor
from asyncmsgr.messages.osd_op import (
    MOSDOp,
    encode_v8_head,
    encode_v8_mid,
    encode_v8_tail,
)

_NEEDED = feature_mask("RESEND_ON_SPLIT") | feature_mask("NEW_OSDOP_ENCODING") | \
    feature_mask("OBJECTLOCATOR")

#: :func:`asyncmsgr.messages.osd_op.encode_v8_mid` (the layouts live there).
encode_mid = encode_v8_mid


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
        if not self.mid or features & _NEEDED != _NEEDED:
            MOSDOp.encode_payload(self, features)
            return
        self.version = self.HEAD_VERSION
        self.front = b"".join((encode_v8_head(self.pgid, self.hash, self.osdmap_epoch,
                                              self.flags, self.reqid, self.trace), self.mid,
                               encode_v8_tail(self.retry_attempt, self.features)))
        ops = self.ops
        if len(ops) == 1:
            self.data = ops[0].indata
        else:
            present = [o.indata for o in ops if len(o.indata)]
            self.data = (b"" if not present else present[0] if len(present) == 1
                         else b"".join(present))


#: FastMOSDOp from what ``Objecter._prepare_osd_op`` sets (one per send).
new_fast_mosdop = positional_constructor(FastMOSDOp, (
    "pgid", "hash", "osdmap_epoch", "flags", "reqid", "client_inc", "mtime", "oloc", "oid",
    "ops", "snapid", "snap_seq", "snaps", "retry_attempt", "features", "mid", "tid",
    "priority"))


__all__ = ["FastMOSDOp", "encode_mid", "new_fast_mosdop"]
