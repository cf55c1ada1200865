"""The modules built as C extensions (Cython compiles these very sources).

The pure-Python modules are the reference: a compiled module is the same
source, compiled, so every protocol rule stays in one place. ``setup.py``
reads :data:`MODULES` (without importing the package) to know what to build;
a missing compiler or a failed build leaves the pure-Python modules in use.
``ASYNCMSGR_NO_EXTENSIONS=1`` in the environment makes imports skip the
compiled modules (see :func:`source_only`), and builds skip building them.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from types import ModuleType

#: The per-message path: the sans-I/O core and its hot I/O-side callers.
MODULES: tuple[str, ...] = (
    "asyncmsgr.frames.assembler",
    "asyncmsgr.protocol.rxbuffer",
    "asyncmsgr.protocol.session",
    "asyncmsgr.protocol.base",
    "asyncmsgr.protocol.v2",
    "asyncmsgr.protocol.v1",
    "asyncmsgr.message",
    "asyncmsgr.throttle",
    "asyncmsgr.perf",
    "asyncmsgr.dispatch",
    "asyncmsgr.messenger",
    "asyncmsgr.aio.connection",
)

#: The environment switch that forces the pure-Python modules.
NO_EXTENSIONS_ENV = "ASYNCMSGR_NO_EXTENSIONS"


def disabled(environ: os._Environ[str] | dict[str, str] = os.environ) -> bool:
    """True when ``ASYNCMSGR_NO_EXTENSIONS`` is set to anything but ``""``/``0``."""
    return environ.get(NO_EXTENSIONS_ENV, "") not in ("", "0")


class _SourceOnlyFinder(importlib.abc.MetaPathFinder):
    """Finds :data:`MODULES` as their ``.py`` source even where a built extension
    sits next to it (an in-place or editable build)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MODULES or not path:
            return None
        leaf = fullname.rpartition(".")[2] + ".py"
        for entry in path:
            source = os.path.join(entry, leaf)
            if os.path.isfile(source):
                return importlib.util.spec_from_file_location(fullname, source)
        return None


def source_only() -> None:
    """Import :data:`MODULES` from source from now on (idempotent)."""
    if not any(isinstance(f, _SourceOnlyFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceOnlyFinder())


def compiled() -> list[str]:
    """The modules of :data:`MODULES` imported so far that are C extensions."""
    out = []
    for name in MODULES:
        module = sys.modules.get(name)
        spec = getattr(module, "__spec__", None)
        if spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            out.append(name)
    return out


__all__ = ["MODULES", "NO_EXTENSIONS_ENV", "compiled", "disabled", "source_only"]
