"""Hypothesis strategies shared by the property tests (importable: ``tests`` is on
``pythonpath`` in pyproject.toml)."""

from __future__ import annotations

from hypothesis import strategies as st

#: Values planted by the "huge" mutation: lengths and counts a decoder must not trust.
HUGE_VALUES = (0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x1000000, 0x10000, 9)


@st.composite
def mutations(draw: st.DrawFn, base: bytes, *, random_max: int = 200) -> bytes:
    """``base`` with one hostile edit: bit flip, truncation, insertion, a huge
    length, extra bytes, or replaced by random bytes (up to ``random_max``)."""
    op = draw(st.sampled_from(["flip", "truncate", "insert", "huge", "random", "extend"]))
    data = bytearray(base)
    if op == "flip" and data:
        i = draw(st.integers(0, len(data) - 1))
        data[i] ^= 1 << draw(st.integers(0, 7))
    elif op == "truncate":
        del data[draw(st.integers(0, len(data))):]
    elif op == "insert":
        i = draw(st.integers(0, len(data)))
        data[i:i] = draw(st.binary(min_size=1, max_size=8))
    elif op == "huge" and data:
        i = draw(st.integers(0, len(data) - 1))
        data[i : i + 4] = draw(st.sampled_from(HUGE_VALUES)).to_bytes(4, "little")
    elif op == "random":
        return draw(st.binary(max_size=random_max))
    else:
        data += draw(st.binary(min_size=1, max_size=16))
    return bytes(data)
