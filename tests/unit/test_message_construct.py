"""Generated positional constructors build what the class's keyword ``__init__`` builds."""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

import pytest

from asyncmsgr.message import Message, message_class
from asyncmsgr.message_types import MESSAGE_MODULES
from asyncmsgr.messages import MOSDOp, MOSDOpReply, MPing
from asyncmsgr.messages.construct import positional_constructor
from asyncmsgr.messages.osd_op_common import BlkinTrace
from asyncmsgr.messages.osd_op_reply import _new_reply
from asyncmsgr.osd import ops
from asyncmsgr.osd.types import PG, SPG, EVersion, ObjectLocator, OsdReqId
from asyncmsgr.osdc.wire import FastMOSDOp, new_fast_mosdop
from asyncmsgr.types import EntityName, UTime


def _fields(m: object) -> dict[str, object]:
    return {name: getattr(m, name) for name in type(m)._fields}  # type: ignore[attr-defined]


def _same_as_init(cls: type[Any], make: Any, kw: dict[str, object]) -> None:
    """``make(*kw.values())`` equals ``cls(**kw)`` field by field, and two objects
    built by ``make`` share no mutable default."""
    fast, ref = make(*kw.values()), cls(**kw)
    assert type(fast) is cls
    assert not hasattr(fast, "__dict__")  # slotted all the way down
    assert set(cls._fields) == set(_fields(ref))  # every field compared
    assert _fields(fast) == _fields(ref)
    other = make(*kw.values())
    for name, value in _fields(fast).items():
        if isinstance(value, list | dict | set | bytearray) and name not in kw:
            assert getattr(other, name) is not value, name  # fresh per object


def test_reply_constructor_equals_init() -> None:
    kw: dict[str, object] = {
        "oid": "o", "pgid": PG(1, 2), "flags": 5, "result": -2,
        "bad_replay_version": EVersion(3, 4), "osdmap_epoch": 9, "ops": [ops.stat()],
        "retry_attempt": 1, "replay_version": EVersion(5, 6), "user_version": 7,
        "redirect": None, "trace": BlkinTrace(1, 2, 3)}
    _same_as_init(MOSDOpReply, _new_reply, kw)


def test_fast_mosdop_constructor_equals_init() -> None:
    kw: dict[str, object] = {
        "pgid": SPG(PG(1, 2)), "hash": 3, "osdmap_epoch": 4, "flags": 5,
        "reqid": OsdReqId(EntityName(8, 3), 2, 1), "client_inc": 6, "mtime": UTime(7, 8),
        "oloc": ObjectLocator(1), "oid": "x", "ops": [ops.stat()], "snapid": 9,
        "snap_seq": 10, "snaps": [1], "retry_attempt": 11, "features": 12, "mid": b"m",
        "tid": 13, "priority": 14}
    _same_as_init(FastMOSDOp, new_fast_mosdop, kw)


def test_defaults_are_the_classes_and_mutable_ones_fresh() -> None:
    make = positional_constructor(MOSDOp, ("oid",))
    a, b = make("a"), make("b")
    assert a.ops == b.ops == []
    assert a.snaps == b.snaps == []
    assert a.ops is not b.ops  # a fresh list per message
    assert a.snaps is not b.snaps
    a.ops.append(ops.stat())
    assert b.ops == make("c").ops == []
    assert _fields(a) != _fields(MOSDOp(oid="a"))  # the append shows
    assert _fields(b) == _fields(MOSDOp(oid="b"))
    # a hot field the __init__ turns from None into a fresh list does so here too
    hot_ops = positional_constructor(MOSDOp, ("ops", "oid"))
    c, d = hot_ops(None, "c"), hot_ops(None, "d")
    assert c.ops == d.ops == []
    assert c.ops is not d.ops
    given = [ops.stat()]
    assert hot_ops(given, "e").ops is given
    # while a field whose None is a value keeps None
    red = positional_constructor(MOSDOpReply, ("redirect",))
    assert red(None).redirect is None


@pytest.mark.parametrize("type_", sorted(MESSAGE_MODULES))
def test_every_message_class_builds_its_defaults(type_: int) -> None:
    importlib.import_module(MESSAGE_MODULES[type_])
    cls = message_class(type_)
    assert cls is not None
    _same_as_init(cls, positional_constructor(cls, ()), {})


class _SharedList(Message):
    things: list[int]
    _DEFAULT: ClassVar[list[int]] = [1]

    __slots__ = ("things",)

    def __init__(self, *, things: list[int] | None = None, **base: Any) -> None:
        super().__init__(**base)
        self.things = self._DEFAULT if things is None else things


class _Extra(Message):  # no __slots__: its instances have a __dict__
    def __init__(self, **base: Any) -> None:
        super().__init__(**base)
        self.cache: dict[int, int] = {}


class _Unset(Message):  # Message's __init__ does not set n
    n: int
    __slots__ = ("n",)


def test_constructor_refuses_what_it_cannot_build() -> None:
    for cls, hot in ((MPing, ("nope",)), (MPing, ("_m",)), (MPing, ("seq", "seq")),
                     (int, ("real",)), (_SharedList, ()), (_Extra, ()),
                     (_Unset, ())):
        with pytest.raises(TypeError):
            positional_constructor(cls, hot)
    assert positional_constructor(MPing, ("seq",))(4).seq == 4
