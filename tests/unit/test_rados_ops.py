"""``ReadOp`` / ``WriteOp`` output handling without a cluster: what ``finish`` gives each
op's output for a vector that succeeded, that failed as a whole, or whose output does
not decode."""

from __future__ import annotations

import errno

from asyncmsgr.osd.ops import OSDOp
from asyncmsgr.rados.ops import ReadOp
from asyncmsgr.wire.buffer import Writer


def _reply(op: OSDOp, outdata: bytes = b"", rval: int = 0) -> OSDOp:
    return op.with_outdata(outdata, rval)


def test_a_failed_vector_decodes_nothing() -> None:
    """A missing object: the OSD answers result -ENOENT with rval 0 and empty
    outputs for every op (``reply_op_error``); stat and omap must not be decoded."""
    op = ReadOp()
    st = op.stat()
    vals = op.get_omap_vals("", "", 10)
    keys = op.get_omap_keys("", 10)
    xattrs = op.get_xattrs()
    data = op.read(0, 10)
    op.finish([_reply(o) for o in op.ops], -errno.ENOENT)
    assert (st.done, st.rval, st.value) == (True, -errno.ENOENT, None)
    assert (vals.rval, vals.items, keys.rval, keys.items) == (-errno.ENOENT, [],
                                                              -errno.ENOENT, [])
    assert (xattrs.rval, xattrs.items) == (-errno.ENOENT, [])
    assert (data.rval, data.value) == (-errno.ENOENT, None)


def test_an_op_keeps_its_own_error_in_a_failed_vector() -> None:
    op = ReadOp()
    a = op.get_xattr("a")
    b = op.stat()
    op.finish([_reply(op.ops[0], rval=-errno.ENODATA), _reply(op.ops[1])], -errno.ENODATA)
    assert (a.rval, a.value) == (-errno.ENODATA, None)
    assert (b.rval, b.value) == (-errno.ENODATA, None)


def test_an_output_that_does_not_decode_is_eio_not_an_exception() -> None:
    """As librados' handlers (``C_ObjectOperation_decodevals`` ...): -EIO in the rval."""
    op = ReadOp()
    st = op.stat()
    vals = op.get_omap_vals("", "", 10)
    good = op.read(0, 3)
    op.finish([_reply(op.ops[0], b"\x01"), _reply(op.ops[1], b"\xff\xff"),
               _reply(op.ops[2], b"abc")], 0)
    assert (st.rval, st.value) == (-errno.EIO, None)
    assert (vals.rval, vals.items) == (-errno.EIO, [])
    assert (good.rval, good.value) == (0, b"abc")


def test_a_successful_vector_decodes_every_output() -> None:
    op = ReadOp()
    keys = op.get_omap_keys("", 10)
    w = Writer()
    w.push_u32(2)
    w.push_string("k1")
    w.push_string("k2")
    w.push_bool(False)
    op.finish([_reply(op.ops[0], w.getvalue())], 0)
    assert (keys.rval, [k for k, _ in keys], keys.more) == (0, ["k1", "k2"], False)
