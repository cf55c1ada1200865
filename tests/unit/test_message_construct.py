"""Generated positional constructors build what the class's keyword ``__init__`` builds."""

from __future__ import annotations

import pytest

from asyncmsgr.messages import MOSDOp, MOSDOpReply, MPing
from asyncmsgr.messages.construct import positional_constructor
from asyncmsgr.messages.osd_op import BlkinTrace, _new_reply
from asyncmsgr.osd import ops
from asyncmsgr.osd.types import PG, SPG, EVersion, ObjectLocator
from asyncmsgr.osdc.wire import FastMOSDOp, new_fast_mosdop
from asyncmsgr.types import UTime


def _fields(m: object) -> dict[str, object]:
    return {name: getattr(m, name) for name in type(m)._fields}  # type: ignore[attr-defined]


def test_reply_constructor_equals_init() -> None:
    kw: dict[str, object] = {
        "oid": "o", "pgid": PG(1, 2), "flags": 5, "result": -2,
        "bad_replay_version": EVersion(3, 4), "osdmap_epoch": 9, "ops": [ops.stat()],
        "retry_attempt": 1, "replay_version": EVersion(5, 6), "user_version": 7,
        "redirect": None, "trace": BlkinTrace(1, 2, 3)}
    fast = _new_reply(*kw.values())
    assert type(fast) is MOSDOpReply
    assert _fields(fast) == _fields(MOSDOpReply(**kw))  # type: ignore[arg-type]


def test_fast_mosdop_constructor_equals_init_and_factories_are_fresh() -> None:
    kw = {"pgid": SPG(PG(1, 2)), "hash": 3, "osdmap_epoch": 4, "flags": 5,
          "reqid": MOSDOp().reqid, "client_inc": 6, "mtime": UTime(7, 8),
          "oloc": ObjectLocator(1), "oid": "x", "ops": [ops.stat()], "snapid": 9,
          "snap_seq": 10, "snaps": [1], "retry_attempt": 11, "features": 12, "mid": b"m",
          "tid": 13, "priority": 14}
    fast = new_fast_mosdop(*kw.values())
    ref = FastMOSDOp(**kw)  # type: ignore[arg-type]
    assert _fields(fast) == _fields(ref)
    make = positional_constructor(MOSDOp, ("oid",))
    a, b = make("a"), make("b")
    assert a.ops == b.ops == []
    assert a.ops is not b.ops  # a fresh list per message
    assert _fields(a) == _fields(MOSDOp(oid="a"))


def test_constructor_refuses_what_it_cannot_build() -> None:
    for cls, hot in ((MPing, ("nope",)), (MPing, ("_m",)), (MPing, ("seq", "seq")),
                     (int, ("real",))):
        with pytest.raises(TypeError):
            positional_constructor(cls, hot)
    assert positional_constructor(MPing, ("seq",))(4).seq == 4
