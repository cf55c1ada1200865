"""Record / MutableRecord behave as the frozen / plain dataclasses they replace."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle
from typing import Any, ClassVar

import pytest

from asyncmsgr.record import MutableRecord, Record

_set = object.__setattr__


class Point(Record):
    x: int
    y: bytes
    label: str

    __slots__ = ("label", "x", "y")  # sorted: the field order is the annotations'

    def __init__(self, *, x: int, y: bytes = b"", label: str = "p") -> None:
        _set(self, "x", x)
        _set(self, "y", y)
        _set(self, "label", label)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PointDC:
    x: int
    y: bytes = b""
    label: str = "p"


class Box(MutableRecord):
    items: list[int]
    name: str

    __slots__ = ("items", "name")

    def __init__(self, items: list[int], name: str = "") -> None:
        self.items = items
        self.name = name


@dataclasses.dataclass(slots=True)
class BoxDC:
    items: list[int]
    name: str = ""


def test_fields_follow_the_annotations_not_the_slots() -> None:
    assert Point._fields == ("x", "y", "label")
    assert Box._fields == ("items", "name")


def test_frozen_record_matches_a_frozen_dataclass() -> None:
    a, dc = Point(x=1, y=b"\x00"), PointDC(x=1, y=b"\x00")
    assert repr(a) == repr(dc).replace("PointDC", "Point")
    assert a == Point(x=1, y=b"\x00")
    assert a != Point(x=2, y=b"\x00")
    assert a != dc  # another class: NotImplemented, as a dataclass
    assert hash(a) == hash(dc) == hash((1, b"\x00", "p"))
    assert len({a, Point(x=1, y=b"\x00"), Point(x=3)}) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.x = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del a.label
    with pytest.raises(AttributeError):
        _set(a, "other", 1)  # slotted: no new attributes either


def test_copy_pickle_and_replace() -> None:
    a = Point(x=7, y=b"ab", label="q")
    for twin in (copy.copy(a), copy.deepcopy(a), pickle.loads(pickle.dumps(a))):
        assert twin == a
        assert twin is not a
    b = a.replace(label="r")
    assert b == Point(x=7, y=b"ab", label="r")
    assert a.label == "q"
    with pytest.raises(TypeError):
        a.replace(nope=1)


def test_mutable_record_matches_a_plain_dataclass() -> None:
    b, dc = Box([1]), BoxDC([1])
    assert repr(b) == repr(dc).replace("BoxDC", "Box")
    assert b == Box([1])
    assert b != Box([2])
    b.items.append(2)
    b.name = "n"
    assert b == Box([1, 2], "n")
    with pytest.raises(TypeError):
        hash(b)
    with pytest.raises(TypeError):
        hash(dc)


def test_a_slot_without_annotation_is_refused() -> None:
    with pytest.raises(TypeError, match="without an annotation"):
        class Bad(Record):
            a: int
            __slots__ = ("a", "b")


def test_subclass_fields_add_to_the_base_fields() -> None:
    class Base(Record):
        a: int
        __slots__ = ("a",)

    class Sub(Base):
        b: int
        __slots__ = ("b",)

        def __init__(self, *, a: int, b: int) -> None:
            _set(self, "a", a)
            _set(self, "b", b)

    assert Sub._fields == ("a", "b")
    assert repr(Sub(a=1, b=2)) == "test_subclass_fields_add_to_the_base_fields.<locals>." \
        "Sub(a=1, b=2)"


# -- every record of the package: __init__ takes and sets exactly its fields ----------

_MODULES = [
    "asyncmsgr.types", "asyncmsgr.frames.v2", "asyncmsgr.protocol.events",
    "asyncmsgr.auth.base", "asyncmsgr.auth.keyring", "asyncmsgr.auth.none",
    "asyncmsgr.auth.cephx.types", "asyncmsgr.auth.cephx.tickets",
    "asyncmsgr.auth.cephx.client", "asyncmsgr.monc.conf", "asyncmsgr.monc.monhost",
]


def _records() -> list[type[Any]]:
    out: list[type[Any]] = []
    for name in _MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, Record | MutableRecord)
                    and value.__module__ == name and value._fields):
                out.append(value)
    return out


def test_the_sweep_sees_the_converted_classes() -> None:
    names = {cls.__name__ for cls in _records()}
    assert {"EntityAddr", "HelloFrame", "MessageReceived", "AuthConnectionMeta",
            "CephXAuthenticate", "Ticket", "ClientSettings", "MonHosts"} <= names


@pytest.mark.parametrize("cls", _records(), ids=lambda c: c.__name__)
def test_init_takes_and_sets_every_field(cls: type[Any]) -> None:
    params = [p for p in inspect.signature(cls.__init__).parameters.values()
              if p.name != "self"]
    assert [p.name for p in params] == list(cls._fields)
    markers = {p.name: object() for p in params}
    try:
        obj = cls(**markers)
    except (TypeError, ValueError, AttributeError):
        # the class checks its values (CryptoKey's length...): nothing more to see
        return
    for name, marker in markers.items():
        assert getattr(obj, name) is marker, name


class Options(Record):
    """A record without __slots__: class-level defaults, the base's keyword __init__."""

    name: str
    size: int = 4
    ratio: float = 0.5
    checked: ClassVar[list[str]] = []

    def __post_init__(self) -> None:
        Options.checked.append(self.name)
        if self.size < 0:
            raise ValueError("size")


def test_dict_mode_record() -> None:
    Options.checked.clear()
    a = Options(name="a")
    assert Options._fields == ("name", "size", "ratio")
    assert (a.name, a.size, a.ratio) == ("a", 4, 0.5)
    assert repr(a) == "Options(name='a', size=4, ratio=0.5)"
    assert a == Options(name="a", size=4)
    assert hash(a) == hash(("a", 4, 0.5))
    b = a.replace(size=8)
    assert (b.size, a.size) == (8, 4)
    assert Options.checked == ["a", "a", "a"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.size = 1  # type: ignore[misc]
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        Options(name="x", nope=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="missing required keyword argument 'name'"):
        Options()  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="size"):
        Options(name="x", size=-1)
    assert pickle.loads(pickle.dumps(b)) == b
