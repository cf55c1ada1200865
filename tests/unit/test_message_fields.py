"""Message and RawMessage as plain slotted classes: every field's default (a
message nobody stamped yet: seq/tid 0, priority 0 = the messenger's default, empty
buffers, no connection, zero timestamps), ``_fields`` built by
``Message.__init_subclass__`` (base fields first, then each class's annotated
slots in order; a slot without an annotation is refused), and the registry's lazy
path: a type whose module is not imported yet is imported on first use by
``message_class``, ``decode_message`` and ``import_message_types``, and a class
registered without a module entry is found too."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from asyncmsgr.message import (
    MESSAGE_TYPES,
    NO_SRC,
    Message,
    MsgHeader,
    RawMessage,
    decode_message,
    import_message_types,
    message_class,
    register_message,
)
from asyncmsgr.message_types import MESSAGE_MODULES

_BASE_FIELDS = ("seq", "tid", "priority", "version", "compat_version", "data_off", "src",
                "front", "middle", "data", "connection", "recv_stamp", "throttle_stamp",
                "recv_complete_stamp", "dispatch_stamp", "send_stamp",
                "dispatch_throttle_size", "release_hook")
_DEFAULTS = {"seq": 0, "tid": 0, "priority": 0, "version": 0, "compat_version": 0,
             "data_off": 0, "src": NO_SRC, "front": b"", "middle": b"", "data": b"",
             "connection": None, "recv_stamp": 0.0, "throttle_stamp": 0.0,
             "recv_complete_stamp": 0.0, "dispatch_stamp": 0.0, "send_stamp": 0.0,
             "dispatch_throttle_size": 0, "release_hook": None}


def _values(m: Message) -> dict[str, object]:
    return {name: getattr(m, name) for name in type(m)._fields}


def test_message_defaults() -> None:
    assert Message._fields == _BASE_FIELDS
    assert _values(Message()) == _DEFAULTS


def test_raw_message_defaults() -> None:
    assert RawMessage._fields == (*_BASE_FIELDS, "raw_type")
    m = RawMessage()
    assert _values(m) == {**_DEFAULTS, "raw_type": 0}
    assert m.type == 0
    assert RawMessage(raw_type=0x77).type == 0x77


def test_subclass_fields_follow_the_annotated_slots() -> None:
    class MOne(Message):
        TYPE: ClassVar[int] = 0x7F01
        b: int
        a: int
        __slots__ = ("a", "b")

    class MTwo(MOne):
        c: str
        __slots__ = "c"  # noqa: PLC0205  (a single slot may be a string)

    assert MOne._fields == (*_BASE_FIELDS, "b", "a")  # declaration order, not the slots'
    assert MTwo._fields == (*_BASE_FIELDS, "b", "a", "c")
    assert Message._fields == _BASE_FIELDS  # the base is untouched


def test_slot_without_annotation_is_refused() -> None:
    with pytest.raises(TypeError, match=r"^test_slot_without_annotation_is_refused\.<locals>"
                                        r"\.MBad: slots without an annotation: \['x', 'y'\]$"):
        class MBad(Message):
            z: int
            __slots__ = ("x", "y", "z")
    with pytest.raises(TypeError, match=r"MWorse: slots without an annotation: \['w'\]$"):
        class MWorse(Message):
            __slots__ = "w"  # noqa: PLC0205


# -- the lazy registry ---------------------------------------------------------------

_LAZY_TYPE = 0x7F42
_LAZY_MODULE = "asyncmsgr_test_lazy_message_type"
_LAZY_SOURCE = f"""
from typing import ClassVar
from asyncmsgr.message import Message, register_message

@register_message
class MLazy(Message):
    TYPE: ClassVar[int] = {_LAZY_TYPE}
    __slots__ = ()
"""


@pytest.fixture
def lazy_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A message type whose module is known to MESSAGE_MODULES but not imported."""
    (tmp_path / f"{_LAZY_MODULE}.py").write_text(_LAZY_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(MESSAGE_MODULES, _LAZY_TYPE, _LAZY_MODULE)
    assert _LAZY_TYPE not in MESSAGE_TYPES
    try:
        yield _LAZY_TYPE
    finally:
        MESSAGE_TYPES.pop(_LAZY_TYPE, None)
        sys.modules.pop(_LAZY_MODULE, None)


def test_message_class_imports_the_module_on_first_use(lazy_type: int) -> None:
    cls = message_class(lazy_type)
    assert cls is not None
    assert (cls.__name__, cls.__module__, cls.TYPE) == ("MLazy", _LAZY_MODULE, lazy_type)
    assert MESSAGE_TYPES[lazy_type] is cls
    assert message_class(lazy_type) is cls  # then from the table


def test_decode_message_imports_the_module_on_first_use(lazy_type: int) -> None:
    m = decode_message(MsgHeader(type=lazy_type, seq=3), b"")
    assert type(m).__module__ == _LAZY_MODULE
    assert (m.type, m.seq) == (lazy_type, 3)


def test_import_message_types_imports_every_module(lazy_type: int) -> None:
    table = import_message_types()
    assert table is MESSAGE_TYPES
    assert type.__getattribute__(table[lazy_type], "__module__") == _LAZY_MODULE


def test_a_class_registered_without_a_module_entry_is_found() -> None:
    @register_message
    class MLocal(Message):
        TYPE: ClassVar[int] = 0x7F43
        __slots__ = ()

    try:
        assert 0x7F43 not in MESSAGE_MODULES
        assert message_class(0x7F43) is MLocal
        assert type(decode_message(MsgHeader(type=0x7F43), b"")) is MLocal
    finally:
        MESSAGE_TYPES.pop(0x7F43, None)
