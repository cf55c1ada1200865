"""Positional constructors of message classes, for the per-op hot paths.

On the Objecter's path one MOSDOp is built per send and one MOSDOpReply per
reply; their decoders and the Objecter know the fields they set in a fixed
order. Calling the class's keyword ``__init__`` with them costs the parsing of
30-odd keyword parameters per message (and a ``**fields`` dict for a subclass
that forwards to its base). :func:`positional_constructor` generates, once at
import, straight-line code that allocates the object with ``object.__new__`` and
assigns each field slot: the hot fields from its arguments, every other field
the value the class's own ``__init__`` gives it by default.

Those defaults are read from the class itself, never restated: one instance
built by ``cls()`` is the template. A default that is an immutable value
(None, numbers, strings, bytes, UUIDs, tuples and frozen records of them) is shared, as
``__init__`` shares it; an empty ``list``/``dict``/``set``/``bytearray`` (the
``[] if ops is None else ops`` idiom) is created fresh for every object; any
other default is refused at generation time. A hot field whose ``__init__``
turns an explicit None into such a fresh container gets the same treatment.

Contract on the class (what makes the result equal to ``cls(**kwargs)``): its
``__init__`` only assigns its fields, each from its own argument (no default
derived from another field, no other side effects). tests/unit/
test_message_construct.py checks every generated constructor against the
keyword ``__init__`` field by field.
"""

from __future__ import annotations

import keyword
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from asyncmsgr.record import Record

T = TypeVar("T")

#: Mutable defaults built fresh per object, as the source text that builds one.
_FRESH: dict[type, str] = {list: "[]", dict: "{}", set: "set()", bytearray: "bytearray()"}
_ATOMS = (type(None), bool, int, float, complex, str, bytes, frozenset, uuid.UUID)


def _shareable(value: object) -> bool:
    """Immutable all the way down, so one default object may serve every instance."""
    if isinstance(value, _ATOMS):
        return True
    if isinstance(value, tuple):  # NamedTuples included
        return all(_shareable(v) for v in value)
    if isinstance(value, Record):  # frozen
        return all(_shareable(getattr(value, f)) for f in value._fields)
    return False


def _maps_none(cls: type[Any], name: str) -> bool:
    """Whether ``cls(name=None)`` stores something else than None (a fresh default)."""
    try:
        return getattr(cls(**{name: None}), name) is not None
    except Exception:  # an __init__ refusing None does not map it
        return False


def positional_constructor(cls: type[T], hot: Sequence[str]) -> Callable[..., T]:
    """A function ``make(*values)`` building what ``cls(**dict(zip(hot, values)))``
    builds, without the keyword call (see the module docstring).

    Raises TypeError when a hot name is not one of the class's ``_fields`` (or
    starts with ``_``, is a keyword, or repeats), when ``cls()`` does not set every
    field or sets attributes that are not fields, or when a default is mutable and
    not an empty container.
    """
    fields: tuple[str, ...] = getattr(cls, "_fields", ())
    unknown = [h for h in hot if h not in fields or keyword.iskeyword(h) or h.startswith("_")]
    if unknown or len(set(hot)) != len(hot):
        raise TypeError(f"{cls.__name__}: bad hot fields {list(hot)}")
    template = cls()
    if getattr(template, "__dict__", None):
        raise TypeError(f"{cls.__name__}: __init__ sets attributes that are not fields")
    ns: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = [f"def make({', '.join(hot)}):", "    _m = _new(_cls)"]
    for name in fields:
        try:
            default = getattr(template, name)
        except AttributeError:
            raise TypeError(f"{cls.__name__}.{name}: not set by __init__") from None
        fresh = _FRESH.get(type(default)) if not default else None
        if name in hot:
            value = name
            if fresh is not None and _maps_none(cls, name):
                value = f"{name} if {name} is not None else {fresh}"
        elif fresh is not None:
            value = fresh
        elif _shareable(default):
            ns[f"_d_{name}"] = default
            value = f"_d_{name}"
        else:
            raise TypeError(f"{cls.__name__}.{name}: a mutable default ({default!r}) "
                            "cannot be rebuilt for every object")
        lines.append(f"    _m.{name} = {value}")
    lines.append("    return _m")
    exec("\n".join(lines), ns)  # the class's own field names, checked above
    make: Callable[..., T] = ns["make"]
    make.__qualname__ = make.__name__ = f"new_{cls.__name__}"
    make.__doc__ = f"``{cls.__name__}`` from ({', '.join(hot)}); other fields default."
    return make


__all__ = ["positional_constructor"]
