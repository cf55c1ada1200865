"""Positional constructors of message dataclasses, for the per-op hot paths.

A message dataclass's ``__init__`` takes every field (the Message header and
runtime fields included, 30 to 40 of them) as keyword arguments; on the
Objecter's path one MOSDOp is built per send and one MOSDOpReply per reply,
and parsing those keywords costs about as much as the rest of the decode.
:func:`positional_constructor` generates, once at import, straight-line code
that takes the fields a hot path sets, positionally, and gives every other
field its declared default (or a fresh value of its default factory), exactly
as the dataclass ``__init__`` would. Only for dataclasses without
``__post_init__`` and without ``init=False`` fields.
"""

from __future__ import annotations

import dataclasses
import keyword
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def positional_constructor(cls: type[T], hot: Sequence[str]) -> Callable[..., T]:
    """A function ``make(*values)`` building a ``cls`` with the ``hot`` fields set from
    ``values`` (in that order) and the others at their defaults.

    Raises TypeError when ``cls`` is not such a dataclass, a hot name is not one of
    its fields (or starts with ``_``, or repeats), or a field that is not hot has no
    default.
    """
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: not a dataclass without __post_init__")
    fields = dataclasses.fields(cls)
    names = {f.name for f in fields}
    unknown = [h for h in hot if h not in names or keyword.iskeyword(h) or h.startswith("_")]
    if unknown or len(set(hot)) != len(hot):
        raise TypeError(f"{cls.__name__}: bad hot fields {list(hot)}")
    ns: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = [f"def make({', '.join(hot)}):", "    _m = _new(_cls)"]
    for f in fields:
        if not f.init:
            raise TypeError(f"{cls.__name__}.{f.name}: init=False fields are not supported")
        if f.name in hot:
            lines.append(f"    _m.{f.name} = {f.name}")
        elif f.default is not dataclasses.MISSING:
            ns[f"_d_{f.name}"] = f.default
            lines.append(f"    _m.{f.name} = _d_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            ns[f"_f_{f.name}"] = f.default_factory
            lines.append(f"    _m.{f.name} = _f_{f.name}()")
        else:
            raise TypeError(f"{cls.__name__}.{f.name} has no default and is not hot")
    lines.append("    return _m")
    exec("\n".join(lines), ns)  # our own field names, checked above
    make: Callable[..., T] = ns["make"]
    make.__qualname__ = make.__name__ = f"new_{cls.__name__}"
    make.__doc__ = f"``{cls.__name__}`` from ({', '.join(hot)}); other fields default."
    return make


__all__ = ["positional_constructor"]
