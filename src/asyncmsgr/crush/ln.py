"""``crush_ln``: CRUSH's fixed-point 2**44 * log2(x + 1), as ``crush/mapper.c`` has it.

straw2 turns a 16-bit hash ``u`` into ``crush_ln(u) - 2**48`` (a fixed-point natural
log scaled into [-2**48, 0]) and divides it by the item's 16.16 weight; the tables
are :mod:`asyncmsgr.crush.ln_table`. :func:`straw2_neg_ln_table` precomputes
``2**48 - crush_ln(u)`` for every ``u`` once, so the mapper's inner loop is one
lookup and one division.
"""

from __future__ import annotations

from asyncmsgr.crush.ln_table import LL_TBL, RH_LH_TBL

__all__ = ["crush_ln", "straw2_neg_ln_table"]

_M64 = (1 << 64) - 1
_LN_ONE = 0x1000000000000  # 2**48: crush_ln(0xffff)


def crush_ln(xin: int) -> int:
    """``crush_ln(xin)`` for ``0 <= xin <= 0xffff`` (the straw2 domain).

    Normalises ``x = xin + 1`` to 16 significant bits, looks up 2**56/x and
    log2 of its top 8 bits in ``RH_LH_TBL``, refines with ``LL_TBL`` on the next 8
    bits, all in unsigned 64-bit arithmetic as the C does.
    """
    if not 0 <= xin <= 0xFFFF:
        raise ValueError(f"crush_ln input {xin} outside 0..0xffff")
    x = xin + 1
    iexpon = 15
    if not x & 0x18000:
        bits = 16 - (x & 0x1FFFF).bit_length()  # __builtin_clz(x & 0x1FFFF) - 16
        x <<= bits
        iexpon = 15 - bits
    index1 = (x >> 8) << 1
    rh = RH_LH_TBL[index1 - 256]  # ~ 2**56 / index1
    lh = RH_LH_TBL[index1 + 1 - 256]  # ~ 2**48 * log2(index1 / 256)
    xl64 = ((x * rh) & _M64) >> 48
    result = iexpon << (12 + 32)
    lh = ((lh + LL_TBL[xl64 & 0xFF]) & _M64) >> (48 - 12 - 32)
    return (result + lh) & _M64


_NEG_LN: list[int] = []


def straw2_neg_ln_table() -> list[int]:
    """``2**48 - crush_ln(u)`` for u in 0..0xffff (>= 0), built on first use.

    A straw2 draw is ``trunc((crush_ln(u) - 2**48) / w)`` = ``-(table[u] // w)``; the
    highest draw is the smallest ``table[u] // w``.
    """
    if not _NEG_LN:
        _NEG_LN.extend(_LN_ONE - crush_ln(u) for u in range(0x10000))
    return _NEG_LN
