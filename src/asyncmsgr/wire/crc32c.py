"""crc32c exactly as Ceph computes it (``ceph_crc32c(seed, data)``).

Ceph's function is the raw reflected CRC-32C register update: the register starts
at ``seed`` and there is no final inversion. The C library computes the standard,
finalised CRC-32C and continues from a finalised value, so the mapping is::

    ceph_crc32c(seed, d) = std_crc32c(d, seed ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

Seeds used on the wire (wire-protocol.md §2.1): msgr2 preamble 0, msgr2 segments
0xFFFFFFFF, msgr v1 header and footer crcs 0. Any object supporting the buffer
protocol (bytes, bytearray, memoryview slices of a receive buffer) is accepted
without a copy; the library releases the GIL for large buffers.

Start-up cost: the ``crc32c`` package's ``__init__`` (2.4 and later) asks
``importlib.metadata`` for its own version and imports its command-line module
(argparse), about 15 ms before the first checksum, a tenth of a one-shot
``asyncmsgr ceph``. Its C extension ``crc32c._crc32c`` (typed by the package's
``_crc32c.pyi``) holds the function; :func:`_load_extension` loads that file
without running the package ``__init__`` and falls back to ``import crc32c``
when the package is laid out differently (or already imported).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Protocol

from asyncmsgr.types import Buffer

_MASK = 0xFFFFFFFF


class StdCrc32c(Protocol):
    """The C library's function: standard CRC-32C of ``data`` continuing from ``value``."""

    def __call__(self, data: Buffer, value: int = 0, gil_release_mode: int = -1, /) -> int:
        ...


def _load_extension() -> ModuleType | None:
    """``crc32c._crc32c`` loaded from the installed package, or None."""
    import importlib.machinery  # noqa: PLC0415  (only here; cheap, mostly frozen)

    try:
        spec = importlib.machinery.PathFinder.find_spec("crc32c")
        if spec is None or not spec.submodule_search_locations:
            return None
        finder = importlib.machinery.FileFinder(
            spec.submodule_search_locations[0],
            (importlib.machinery.ExtensionFileLoader,
             importlib.machinery.EXTENSION_SUFFIXES))
        ext = finder.find_spec("crc32c._crc32c")
        if ext is None or ext.loader is None:
            return None
        module = ext.loader.create_module(ext)
        if module is None:
            return None
        ext.loader.exec_module(module)
    except (ImportError, OSError):
        return None
    if not callable(getattr(module, "crc32c", None)):
        return None
    sys.modules.setdefault("crc32c._crc32c", module)
    return module


def _std_function() -> StdCrc32c:
    module = sys.modules.get("crc32c")  # the package is already there: use it
    if module is None:
        module = _load_extension()
    if module is None:
        import crc32c  # noqa: PLC0415  (the documented entry point)

        module = crc32c
    fn: StdCrc32c = module.crc32c
    return fn


_std = _std_function()

#: The C library's standard (finalised) CRC-32C, for hot paths that inline the
#: mapping: ``ceph_crc32c(0, d) == std(d, 0xFFFFFFFF) ^ 0xFFFFFFFF`` and
#: ``ceph_crc32c(0xFFFFFFFF, d) == std(d) ^ 0xFFFFFFFF``. A buffer followed by its
#: little-endian Ceph crc has Ceph crc 0 (so ``std(d + crc, seed^M) == M``).
crc32c_std = _std

#: Seed of msgr2 segment crcs: an empty segment has crc 0xFFFFFFFF.
SEGMENT_SEED = 0xFFFFFFFF


def ceph_crc32c(seed: int, data: Buffer) -> int:
    """Return Ceph's crc32c of ``data`` continuing from ``seed`` (no final xor)."""
    crc: int = _std(data, seed ^ _MASK)
    return crc ^ _MASK


__all__ = ["SEGMENT_SEED", "StdCrc32c", "ceph_crc32c", "crc32c_std"]
