"""What MOSDOp (:mod:`asyncmsgr.messages.osd_op`) and MOSDOpReply
(:mod:`asyncmsgr.messages.osd_op_reply`) share: the blkin trace both carry, the
``struct`` formats of the common fields their fast codecs are built from, the
bounded cache of whole-front packers by shape, and Ceph's ``cpp_strerror``.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from typing import NamedTuple

from asyncmsgr.osd.types import PG, EVersion
from asyncmsgr.types import Buffer
from asyncmsgr.wire.buffer import Reader, Writer

#: Ops in one message: ``num_ops`` is a u16 on MOSDOp's wire.
MAX_OPS = 1 << 16
NO_PG = PG(0, 0)
NO_VERSION = EVersion()


class BlkinTrace(NamedTuple):
    """``blkin_trace_info``: zipkin ids (all zero when tracing is off)."""

    trace_id: int = 0
    span_id: int = 0
    parent_span_id: int = 0


#: Tracing off.
NO_TRACE = BlkinTrace()


def pull_trace(r: Reader) -> BlkinTrace:
    """``Message::decode_trace``: three u64."""
    a = r.pull_u64()
    b = r.pull_u64()
    return BlkinTrace(a, b, r.pull_u64())


def push_trace(w: Writer, t: BlkinTrace) -> None:
    """``Message::encode_trace``."""
    w.push_u64(t.trace_id)
    w.push_u64(t.span_id)
    w.push_u64(t.parent_span_id)

# -- fixed runs of fields as ``struct`` formats ---------------------------------------------
# Each layout is stated once (here, or in the message's module) and the fast
# encoders and decoders of both messages are built from it (with ``OSD_OP_FORMAT``);
# the field-by-field Reader/Writer code serves the other versions and the headers
# Pacific does not write.

#: pg_t: u8 version (1), u64 pool, u32 seed, s32 preferred (-1).
PG_T = "BQIi"
#: eversion_t: u64 version, u32 epoch.
EVERSION_T = "QI"
#: blkin_trace_info: three u64.
TRACE_T = "QQQ"
_U32 = struct.Struct("<I")

#: Packers of whole fronts by shape, cached up to a bound (a workload has few shapes).
SHAPES: dict[tuple[object, ...], struct.Struct] = {}
_MAX_SHAPES = 1024


def shape_struct(key: tuple[object, ...], fmt: str) -> struct.Struct:
    """The packer of ``fmt``, cached in :data:`SHAPES` under ``key`` (while room)."""
    st = SHAPES.get(key)
    if st is None:
        st = struct.Struct(fmt)
        if len(SHAPES) < _MAX_SHAPES:
            SHAPES[key] = st
    return st


def string_at(buf: memoryview, pos: int, end: int) -> tuple[str | None, int]:
    """A ``std::string`` at ``pos`` (None if it does not fit before ``end``)."""
    if pos + 4 > end:
        return None, pos
    (n,) = _U32.unpack_from(buf, pos)
    pos += 4
    if pos + n > end:
        return None, pos
    return bytes(buf[pos:pos + n]).decode("utf-8", "surrogateescape"), pos + n


def concat_payloads(parts: Sequence[Buffer]) -> Buffer:
    """The ops' payloads back to back; a lone payload is passed on uncopied."""
    present = [p for p in parts if len(p)]
    if not present:
        return b""
    if len(present) == 1:
        return present[0]
    return b"".join(present)



def cpp_strerror(r: int) -> str:
    """Ceph's ``cpp_strerror``: ``(2) No such file or directory``.

    ``r`` is a C ``int`` there: negating INT_MIN leaves it negative, and a value
    from a wider field wraps to 32 bits, as the C++ conversion does.
    """
    err = -r if r < 0 else r
    err = ((err + 0x80000000) & 0xFFFFFFFF) - 0x80000000
    return f"({err}) {os.strerror(err)}"


__all__ = [
    "EVERSION_T",
    "MAX_OPS",
    "NO_PG",
    "NO_TRACE",
    "NO_VERSION",
    "PG_T",
    "SHAPES",
    "TRACE_T",
    "BlkinTrace",
    "concat_payloads",
    "cpp_strerror",
    "pull_trace",
    "push_trace",
    "shape_struct",
    "string_at",
]
