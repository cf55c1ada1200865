"""crc32c exactly as Ceph computes it (``ceph_crc32c(seed, data)``).

Ceph's function is the raw reflected CRC-32C register update: the register starts
at ``seed`` and there is no final inversion. The C library computes the standard,
finalised CRC-32C and continues from a finalised value, so the mapping is::

    ceph_crc32c(seed, d) = std_crc32c(d, seed ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

Seeds used on the wire (wire-protocol.md §2.1): msgr2 preamble 0, msgr2 segments
0xFFFFFFFF, msgr v1 header and footer crcs 0. Any object supporting the buffer
protocol (bytes, bytearray, memoryview slices of a receive buffer) is accepted
without a copy; the library releases the GIL for large buffers.
"""

from __future__ import annotations

import crc32c as _crc32c

from asyncmsgr.types import Buffer

_MASK = 0xFFFFFFFF
_std = _crc32c.crc32c

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


__all__ = ["SEGMENT_SEED", "ceph_crc32c", "crc32c_std"]
