"""Replies of the fake OSD: MOSDOpReply fronts packed by cached structs, PG ops.

:func:`make_reply` builds what ``MOSDOpReply(req, r, epoch, acktype)`` plus
``set_reply_versions`` gives on a Pacific OSD, already encoded (a RawMessage of
type 43, v8/compat 2, priority 127): :func:`reply_front` writes the same bytes as
:meth:`asyncmsgr.messages.osd_op_reply.MOSDOpReply.encode_payload` for a Pacific peer
(both pack with ``osd_op_reply.pack_reply_front``). :func:`execute_pg_op`
answers PG ops (PGNLS).
"""

from __future__ import annotations

import errno

from asyncmsgr.errors import DecodeError
from asyncmsgr.message import CEPH_MSG_PRIO_DEFAULT, RawMessage
from asyncmsgr.messages.osd_op import MOSDOp
from asyncmsgr.messages.osd_op_reply import MOSDOpReply, pack_reply_front
from asyncmsgr.osd.op_codes import OsdFlag, OsdOpCode
from asyncmsgr.osd.op_data import (
    LIBRADOS_ALL_NSPACES,
    ListObjectEntry,
    PgNlsResponse,
    push_pgnls_response,
)
from asyncmsgr.osd.ops import OSDOp
from asyncmsgr.osd.types import CEPH_NOSNAP, PG, EVersion, HObject, pull_hobject
from asyncmsgr.testing.fake_store import (
    OSD_MAX_PGLS,
    PGStore,
    hobject_sort_key,
    pg_hobj_end,
    pg_hobj_start,
)
from asyncmsgr.types import Buffer
from asyncmsgr.wire.buffer import Reader, Writer

_ACK = int(OsdFlag.ACK)
_ONDISK = int(OsdFlag.ONDISK)
_ACK_ONDISK = _ACK | _ONDISK
_ACK_MASK = ~(_ACK | int(OsdFlag.ONNVRAM) | _ONDISK)

def reply_front(oid: bytes, pool: int, seed: int, flags: int, result: int,
                bad: tuple[int, int], epoch: int, ops: list[OSDOp], retry: int,
                replay: EVersion, user_version: int) -> bytes:
    """An MOSDOpReply v8 front (the bytes ``MOSDOpReply.encode_payload`` writes for a
    Pacific peer, no redirect; ``bad`` is bad_replay_version as (epoch, version)),
    by :func:`~asyncmsgr.messages.osd_op_reply.pack_reply_front`."""
    return pack_reply_front(oid, PG(pool, seed), flags, result, EVersion(*bad), epoch, ops,
                            retry, replay, user_version)


def make_reply(m: MOSDOp, result: int, ops: list[OSDOp], flags: int, epoch: int,
               replay: EVersion, user_version: int) -> RawMessage:
    """``MOSDOpReply(req, r, epoch, acktype)`` + ``set_reply_versions``, encoded.

    The reply is sent as a ready-made MOSDOpReply v8 (compat 2): the same bytes
    :class:`~asyncmsgr.messages.osd_op_reply.MOSDOpReply` writes, without building it
    field by field; decode the front to inspect it.
    """
    bad = (replay.epoch, user_version) if user_version else replay
    pg = m.pgid.pgid
    front = reply_front(m.oid.encode("utf-8", "surrogateescape"), pg.pool, pg.seed,
                        (m.flags & _ACK_MASK) | flags, result, bad, epoch, ops,
                        m.retry_attempt, replay, user_version)
    outs = [op.outdata for op in ops if len(op.outdata)]
    data: Buffer = b"" if not outs else outs[0] if len(outs) == 1 else b"".join(outs)
    return RawMessage(raw_type=MOSDOpReply.TYPE, tid=m.tid, priority=CEPH_MSG_PRIO_DEFAULT,
                      version=MOSDOpReply.HEAD_VERSION,
                      compat_version=MOSDOpReply.COMPAT_VERSION, front=front, data=data)


def execute_pg_op(m: MOSDOp, pg: PGStore, pg_num: int, epoch: int) -> RawMessage:
    """A PG op vector (``PrimaryLogPG::do_pg_op``): PGNLS lists up to ``count``
    (at most ``osd_max_pgls``) objects from the cursor in hobject order, the
    namespace of the op's locator only (or all for librados' ``all_nspaces``),
    and answers result 1 with the PG's end as the next cursor once the PG is
    exhausted; a cursor outside the PG is EINVAL; other PG ops EOPNOTSUPP."""
    result = 0
    out: list[OSDOp] = []
    pgid = pg.pgid
    for op in m.ops:
        if op.op != OsdOpCode.PGNLS:
            result = -errno.EOPNOTSUPP
        else:
            try:
                cursor = pull_hobject(Reader(bytes(op.indata)))
            except DecodeError:
                cursor = None
            end = pg_hobj_end(pgid, pg_num)
            start = pg_hobj_start(pgid)
            if cursor is None or (not cursor.max and hobject_sort_key(cursor)
                                  >= hobject_sort_key(end)) or \
                    (cursor != HObject() and hobject_sort_key(cursor)
                     < hobject_sort_key(start)):
                result = -errno.EINVAL
            else:
                listed, nxt = pg.list_from(cursor, min(op.pgls.max_entries, OSD_MAX_PGLS))
                ns = m.oloc.nspace
                entries = [ListObjectEntry(k.nspace, k.oid, k.key) for k, _ in listed
                           if ns in (LIBRADOS_ALL_NSPACES, k.nspace)]
                if nxt is None:
                    handle, result = end, 1
                else:
                    handle = HObject(nxt.oid, nxt.key, CEPH_NOSNAP, pg.objects[nxt].hash,
                                     False, nxt.nspace, pgid.pool)
                w = Writer()
                push_pgnls_response(w, PgNlsResponse(handle, entries))
                out.append(OSDOp(op.op, op.flags, op.args, b"", w.getvalue()))
                continue
        out.append(OSDOp(op.op, op.flags, op.args, b"", b"", result))
        break
    return make_reply(m, result, out, _ACK_ONDISK, epoch, pg.last_update,
                      pg.last_user_version)


__all__ = ["execute_pg_op", "make_reply", "reply_front"]
