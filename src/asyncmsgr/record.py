"""Frozen, slotted value classes written by hand: :class:`Record`.

A frozen ``@dataclass`` generates its ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` and ``__setattr__`` as source text and compiles it when the class is
created: about 0.4 ms per class on the development machine, 53 ms for the 134
dataclasses a one-shot ``asyncmsgr ceph`` used to import. A :class:`Record`
subclass declares its fields in ``__slots__`` (with their annotations) and writes
its keyword ``__init__`` by hand; the rest comes from this base, computed from
``__slots__`` at class creation without compiling anything:

* ``__eq__``: same class and equal field values (as a dataclass);
* ``__hash__``: the hash of the tuple of field values (as a frozen dataclass);
* ``__repr__``: ``Name(field=value, ...)`` (as a dataclass);
* ``__setattr__`` / ``__delattr__`` raise :class:`dataclasses.FrozenInstanceError`;
  ``__init__`` sets fields with ``object.__setattr__`` (as a frozen dataclass);
* ``__getstate__`` / ``__setstate__`` so ``copy`` and ``pickle`` work;
* :meth:`Record.replace` (``dataclasses.replace`` for records).

``_fields`` lists the field names in the order their annotations are declared,
base classes' first (``__slots__`` itself may be sorted).

A subclass without ``__slots__`` (a configuration record with many options,
each declared ``name: type = default`` with its docstring) keeps its defaults as
class attributes and uses the base's keyword-only ``__init__``, which sets only
the fields given and then calls ``__post_init__``. Type checkers see a
subclass as a frozen dataclass (``typing.dataclass_transform``), so assigning a
field is a type error as well. :class:`MutableRecord` is the same for a plain
``@dataclass``: fields assigned normally, ``__eq__`` and ``__repr__`` by field, and
unhashable.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, ClassVar, Self, dataclass_transform

_set = object.__setattr__


def _frozen_error(message: str) -> AttributeError:
    from dataclasses import FrozenInstanceError  # noqa: PLC0415  (rare path; import cost)

    return FrozenInstanceError(message)


def _describe_fields(cls: Any) -> None:
    """Set ``cls._fields`` and ``cls._values``.

    Slotted classes: the names in ``__slots__`` (of the class and its bases), in
    the order their annotations are declared. A class without ``__slots__`` of its
    own (keyword fields with class-level defaults): its annotated names that are
    not ``ClassVar``.
    """
    declared: list[str] = []
    annotations: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        # what inspect.get_annotations reads for a class, without importing inspect
        own = klass.__dict__.get("__annotations__", {})  # noqa: RUF063
        declared.extend(own)
        annotations.update(own)
    if "__slots__" not in cls.__dict__:
        names = [n for n in dict.fromkeys(declared)
                 if not str(annotations[n]).startswith(("ClassVar", "typing.ClassVar"))
                 and n not in ("_fields", "_values")]
    else:
        slotted: set[str] = set()
        for klass in cls.__mro__:
            slots = klass.__dict__.get("__slots__", ())
            slotted.update((slots,) if isinstance(slots, str) else slots)
        slotted -= {"__weakref__", "__dict__"}
        names = [n for n in dict.fromkeys(declared) if n in slotted]
        if len(names) != len(slotted):
            missing = sorted(slotted - set(names))
            raise TypeError(f"{cls.__qualname__}: slots without an annotation: {missing}")
    cls._fields = tuple(names)
    if len(names) == 1:
        one = attrgetter(names[0])
        cls._values = staticmethod(lambda self: (one(self),))
    elif names:
        cls._values = staticmethod(attrgetter(*names))
    else:
        cls._values = staticmethod(lambda _self: ())


class _Fields:  # noqa: PLW1641  (Record hashes its fields; MutableRecord is unhashable)
    """What both bases share: the field list, ``__repr__`` and ``__eq__``."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    """Field names, in the order their annotations are declared, bases first."""
    _values: ClassVar[Any] = staticmethod(lambda _self: ())
    """``record -> tuple of field values`` (an ``operator.attrgetter``)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _describe_fields(cls)

    def __repr__(self) -> str:
        body = ", ".join(f"{name}={value!r}"
                         for name, value in zip(self._fields, self._values(self), strict=True))
        return f"{type(self).__qualname__}({body})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            equal: bool = self._values(self) == self._values(other)
            return equal
        return NotImplemented


@dataclass_transform(frozen_default=True, eq_default=True, kw_only_default=True)
class Record(_Fields):
    """Base of hand-written frozen value classes (see the module docstring)."""

    __slots__ = ()

    def __init__(self, **values: Any) -> None:
        """Keyword fields of a class without ``__slots__``: those not given keep the
        class-level default; ``__post_init__`` (if any) runs last. Slotted
        subclasses write their own ``__init__``."""
        cls = type(self)
        fields = cls._fields
        for name, value in values.items():
            if name not in fields:
                raise TypeError(f"{cls.__qualname__}.__init__() got an unexpected keyword "
                                f"argument {name!r}")
            _set(self, name, value)
        for name in fields:
            if name not in values and not hasattr(cls, name):
                raise TypeError(f"{cls.__qualname__}.__init__() missing required keyword "
                                f"argument {name!r}")
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def __hash__(self) -> int:
        return hash(self._values(self))

    def __setattr__(self, name: str, value: object) -> None:
        raise _frozen_error(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise _frozen_error(f"cannot delete field {name!r}")

    def __getstate__(self) -> tuple[Any, ...]:
        values: tuple[Any, ...] = self._values(self)
        return values

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self._fields, state, strict=True):
            _set(self, name, value)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (``dataclasses.replace``); unknown names
        raise TypeError, as the class's ``__init__`` does."""
        values = dict(zip(self._fields, self._values(self), strict=True))
        values.update(changes)
        return type(self)(**values)


@dataclass_transform(eq_default=True)
class MutableRecord(_Fields):
    """Base of hand-written mutable value classes (a plain ``@dataclass``)."""

    __slots__ = ()
    # mutable: unhashable, as a dataclass
    __hash__ = None  # type: ignore[assignment]


__all__ = ["MutableRecord", "Record"]
