"""Positional constructors of message classes, for the per-op hot paths.

On the Objecter's path one MOSDOp is built per send and one MOSDOpReply per
reply; their decoders and the Objecter know the fields they set in a fixed
order. :func:`positional_constructor` generates, once at import, a function
taking those fields positionally and calling the class's keyword ``__init__``
with them, so the defaults (fresh mutable values included) stay the class's own.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def positional_constructor(cls: type[T], hot: Sequence[str]) -> Callable[..., T]:
    """A function ``make(*values)`` building ``cls(**dict(zip(hot, values)))``.

    Raises TypeError when a hot name is not one of the class's ``_fields`` (or
    starts with ``_``, is a keyword, or repeats).
    """
    fields = getattr(cls, "_fields", ())
    unknown = [h for h in hot if h not in fields or keyword.iskeyword(h) or h.startswith("_")]
    if unknown or len(set(hot)) != len(hot):
        raise TypeError(f"{cls.__name__}: bad hot fields {list(hot)}")
    ns: dict[str, Any] = {"_cls": cls}
    args = ", ".join(hot)
    kwargs = ", ".join(f"{h}={h}" for h in hot)
    exec(f"def make({args}):\n    return _cls({kwargs})", ns)  # names checked above
    make: Callable[..., T] = ns["make"]
    make.__qualname__ = make.__name__ = f"new_{cls.__name__}"
    make.__doc__ = f"``{cls.__name__}`` from ({args}); other fields default."
    return make


__all__ = ["positional_constructor"]
