"""CRUSH's integer hashes and Ceph's object-name hashes, bit-exact.

* ``crush_hash32(type, a)`` … ``crush_hash32_5(type, a, b, c, d, e)`` are Ceph's
  ``src/crush/hash.c``: Robert Jenkins' 96-bit mix applied to 32-bit inputs with the
  seed 1315423911. Only ``CRUSH_HASH_RJENKINS1`` (0) exists; any other type hashes
  to 0, as in Ceph. Arguments are taken modulo 2**32, so negative bucket ids may be
  passed as they are (C converts them to ``__u32``).
* ``ceph_str_hash_rjenkins(data)``, ``ceph_str_hash_linux(data)`` and
  ``ceph_str_hash(type, data)`` are ``src/common/ceph_hash.cc``: the hashes of object
  names (a pool's ``object_hash``: ``CEPH_STR_HASH_LINUX`` = 1,
  ``CEPH_STR_HASH_RJENKINS`` = 2). An unknown type gives 0xFFFFFFFF (Ceph's ``-1``).

The rjenkins functions ``crush_hash32_rjenkins1*`` are also exported for hot loops
that have already checked the bucket's hash type (the mapper does). Their bodies are
generated once at import as straight-line code from the mixing schedules below, which
mirror ``hash.c`` line for line; ``_reference_hash`` is the same computation written
plainly, and the tests hold the two (and Ceph's own library) to the same answers.
:class:`HashLanes` computes many rjenkins1 hashes in one pass (packed lanes), for the
mapper's straw, straw2 and list buckets.

Every hash here is an ``int`` in ``0 .. 2**32-1``.
"""

from __future__ import annotations

import struct
import types
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "CEPH_STR_HASH_LINUX",
    "CEPH_STR_HASH_RJENKINS",
    "CRUSH_HASH_DEFAULT",
    "CRUSH_HASH_RJENKINS1",
    "RJENKINS_INIT",
    "HashLanes",
    "ceph_str_hash",
    "ceph_str_hash_linux",
    "ceph_str_hash_name",
    "ceph_str_hash_rjenkins",
    "crush_hash32",
    "crush_hash32_2",
    "crush_hash32_3",
    "crush_hash32_4",
    "crush_hash32_5",
    "crush_hash32_rjenkins1",
    "crush_hash32_rjenkins1_2",
    "crush_hash32_rjenkins1_3",
    "crush_hash32_rjenkins1_4",
    "crush_hash32_rjenkins1_5",
    "crush_hash_name",
    "rjenkins_state",
]

#: ``CRUSH_HASH_RJENKINS1`` (crush/hash.h): the only CRUSH hash.
CRUSH_HASH_RJENKINS1 = 0
#: ``CRUSH_HASH_DEFAULT``.
CRUSH_HASH_DEFAULT = CRUSH_HASH_RJENKINS1
#: ``CEPH_STR_HASH_LINUX`` (include/ceph_hash.h): the Linux dcache hash.
CEPH_STR_HASH_LINUX = 1
#: ``CEPH_STR_HASH_RJENKINS``: Jenkins' lookup2 hash, every pool's default.
CEPH_STR_HASH_RJENKINS = 2

_M = 0xFFFFFFFF
_SEED = 1315423911  # crush_hash_seed
_X0 = 231232
_Y0 = 1232

# One crush_hashmix(a, b, c), step by step: target, the two subtracted variables (the
# second is also the one shifted), shift direction and bits.
_MIX_STEPS = (
    ("a", "b", "c", ">>", 13), ("b", "c", "a", "<<", 8), ("c", "a", "b", ">>", 13),
    ("a", "b", "c", ">>", 12), ("b", "c", "a", "<<", 16), ("c", "a", "b", ">>", 5),
    ("a", "b", "c", ">>", 3), ("b", "c", "a", "<<", 10), ("c", "a", "b", ">>", 15),
)

# crush_hash32_rjenkins1*: the argument names and the (a, b, c) triples handed to
# crush_hashmix in hash.c, in order. "h" is the running hash, "x"/"y" the constants;
# the one-argument hash also mixes "b", a copy of "a".
_SCHEDULES: dict[int, tuple[str, tuple[tuple[str, str, str], ...]]] = {
    1: ("a", (("b", "x", "h"), ("y", "a", "h"))),
    2: ("a b", (("a", "b", "h"), ("x", "a", "h"), ("b", "y", "h"))),
    3: ("a b c", (("a", "b", "h"), ("c", "x", "h"), ("y", "a", "h"), ("b", "x", "h"),
                  ("y", "c", "h"))),
    4: ("a b c d", (("a", "b", "h"), ("c", "d", "h"), ("a", "x", "h"), ("y", "b", "h"),
                    ("c", "x", "h"), ("y", "d", "h"))),
    5: ("a b c d e", (("a", "b", "h"), ("c", "d", "h"), ("e", "x", "h"), ("y", "a", "h"),
                      ("b", "x", "h"), ("y", "c", "h"), ("d", "x", "h"), ("y", "e", "h"))),
}


def _mix_lines(a: str, b: str, c: str) -> list[str]:
    """Python statements for ``crush_hashmix(a, b, c)`` on u32 variables."""
    names = {"a": a, "b": b, "c": c}
    lines = []
    for tgt, first, second, op, bits in _MIX_STEPS:
        t, f, s = names[tgt], names[first], names[second]
        # a = a-b; a = a-c; a = a^(c>>13) becomes a = ((a - b - c) & M) ^ (c >> 13)
        shifted = f"({s} >> {bits})" if op == ">>" else f"(({s} << {bits}) & {_M})"
        lines.append(f"{t} = (({t} - {f} - {s}) & {_M}) ^ {shifted}")
    return lines


def _generate(n: int) -> Callable[..., int]:
    params, schedule = _SCHEDULES[n]
    args = params.split()
    body = [f"{v} &= {_M}" for v in args]
    body.append(f"h = {_SEED} ^ " + " ^ ".join(args))
    if n == 1:
        body.append("b = a")  # crush_hash32_rjenkins1 mixes a copy of its argument
    body.append(f"x = {_X0}")
    body.append(f"y = {_Y0}")
    for triple in schedule:
        body.extend(_mix_lines(*triple))
    body.append("return h")
    name = "crush_hash32_rjenkins1" + ("" if n == 1 else f"_{n}")
    src = f"def {name}({', '.join(args)}):\n" + "".join(f"    {s}\n" for s in body)
    namespace: dict[str, object] = {}
    exec(compile(src, f"<asyncmsgr.crush.hash {name}>", "exec"), namespace)
    fn = namespace[name]
    assert callable(fn)
    fn.__doc__ = f"``{name}`` of hash.c on u32 arguments."
    fn.__module__ = __name__
    return fn


# -- many inputs at once -----------------------------------------------------------------
#
# Python's cost is per operation, not per bit, so the straw/straw2 draws of a whole
# bucket are hashed together: lane i of a "lane int" holds a u32 at bit 48*i. Every
# step of crush_hashmix stays inside its lane: a - b - c is computed as
# a + 2**33 - b - c (never negative, below 2**34), a left shift by at most 16 stays
# below 2**48, and a right shift only moves bits of the next lane above bit 32 of
# this one; the lane mask then keeps each lane's low 32 bits, which are exactly the
# u32 results.

_LANE_BITS = 48


def _lane_mix_lines(a: str, b: str, c: str) -> list[str]:
    names = {"a": a, "b": b, "c": c}
    lines = []
    for tgt, first, second, op, bits in _MIX_STEPS:
        t, f, s = names[tgt], names[first], names[second]
        lines.append(f"{t} = (({t} + B - {f} - {s}) ^ ({s} {op} {bits})) & LM")
    return lines


def _compile_lanes(name: str, params: str, head: list[str], n: int, tail: str,
                   ) -> types.FunctionType:
    _args, schedule = _SCHEDULES[n]
    body = [*head, "x = X", "y = Y"]
    for triple in schedule:
        body.extend(_lane_mix_lines(*triple))
    body.append(tail)
    src = f"def {name}({params}):\n" + "".join(f"    {s}\n" for s in body)
    namespace: dict[str, object] = {}
    exec(compile(src, f"<asyncmsgr.crush.hash {name}>", "exec"), namespace)
    fn = namespace[name]
    assert isinstance(fn, types.FunctionType)
    return fn


# rjenkins1_3 on three lane ints
_LANES3 = _compile_lanes("hash3_lanes", "a, b, c, O, B, LM, S, X, Y",
                         ["h = S ^ a ^ b ^ c"], 3, "return h")
# the straw/straw2 draw: crush_hash32_3(x, ids[i], r) & 0xffff for every lane i
_LOW16_3 = _compile_lanes(
    "low16_hash3", "xin, b, rin, O, B, LM, S, X, Y, unpack, nbytes",
    [f"a = (xin & {_M}) * O", f"c = (rin & {_M}) * O", "h = S ^ a ^ b ^ c"], 3,
    "return unpack(h.to_bytes(nbytes, 'little'))")
# the list draw: crush_hash32_4(x, items[i], r, bucket id) & 0xffff for every lane i
_LOW16_4 = _compile_lanes(
    "low16_hash4", "xin, b, rin, din, O, B, LM, S, X, Y, unpack, nbytes",
    [f"a = (xin & {_M}) * O", f"c = (rin & {_M}) * O", f"d = (din & {_M}) * O",
     "h = S ^ a ^ b ^ c ^ d"], 4,
    "return unpack(h.to_bytes(nbytes, 'little'))")
# the same two with r given per lane (a lane int), for several r at once
_LOW16_3R = _compile_lanes(
    "low16_hash3_r", "xin, b, c, O, B, LM, S, X, Y, unpack, nbytes",
    [f"a = (xin & {_M}) * O", "h = S ^ a ^ b ^ c"], 3,
    "return unpack(h.to_bytes(nbytes, 'little'))")
_LOW16_4R = _compile_lanes(
    "low16_hash4_r", "xin, b, c, din, O, B, LM, S, X, Y, unpack, nbytes",
    [f"a = (xin & {_M}) * O", f"d = (din & {_M}) * O", "h = S ^ a ^ b ^ c ^ d"], 4,
    "return unpack(h.to_bytes(nbytes, 'little'))")


def _bind(template: types.FunctionType, *defaults: object) -> Callable[..., Any]:
    """``template`` with its trailing parameters bound to ``defaults`` (as fast locals)."""
    return types.FunctionType(template.__code__, template.__globals__, template.__name__,
                              defaults)


class HashLanes:
    """``n`` u32 lanes packed in one int, to compute n rjenkins1 hashes at once.

    ``pack`` builds a lane int (values taken modulo 2**32); ``hash3(a, b, c)`` hashes
    three lane ints lane by lane; ``low16_hash3(x, b, r)`` is ``crush_hash32_3(x,
    b[i], r) & 0xffff`` for every lane (``x``, ``r`` plain ints) and
    ``low16_hash4(x, b, r, d)`` the same for ``crush_hash32_4(x, b[i], r, d)``;
    ``low16_hash3_r(x, b, c)`` and ``low16_hash4_r(x, b, c, d)`` take ``r`` per lane.
    """

    __slots__ = ("hash3", "low16_hash3", "low16_hash3_r", "low16_hash4", "low16_hash4_r",
                 "n", "ones")

    def __init__(self, n: int) -> None:
        if n <= 0:
            raise ValueError("HashLanes needs at least one lane")
        self.n = n
        ones = sum(1 << (_LANE_BITS * i) for i in range(n))
        self.ones = ones
        consts = (ones, (1 << 33) * ones, _M * ones, _SEED * ones, _X0 * ones, _Y0 * ones)
        low16 = struct.Struct("<" + "H4x" * n).unpack
        nbytes = _LANE_BITS // 8 * n
        self.hash3: Callable[[int, int, int], int] = _bind(_LANES3, *consts)
        self.low16_hash3: Callable[[int, int, int], tuple[int, ...]] = _bind(
            _LOW16_3, *consts, low16, nbytes)
        self.low16_hash4: Callable[[int, int, int, int], tuple[int, ...]] = _bind(
            _LOW16_4, *consts, low16, nbytes)
        self.low16_hash3_r: Callable[[int, int, int], tuple[int, ...]] = _bind(
            _LOW16_3R, *consts, low16, nbytes)
        self.low16_hash4_r: Callable[[int, int, int, int], tuple[int, ...]] = _bind(
            _LOW16_4R, *consts, low16, nbytes)

    def pack(self, values: Sequence[int]) -> int:
        """A lane int holding ``values`` (one per lane)."""
        if len(values) != self.n:
            raise ValueError(f"{len(values)} values for {self.n} lanes")
        out = 0
        for i, v in enumerate(values):
            out |= (v & _M) << (_LANE_BITS * i)
        return out

    def broadcast(self, value: int) -> int:
        """A lane int with ``value`` in every lane."""
        return (value & _M) * self.ones

    def unpack(self, lanes: int) -> list[int]:
        """The u32 in each lane."""
        return [(lanes >> (_LANE_BITS * i)) & _M for i in range(self.n)]


crush_hash32_rjenkins1: Callable[[int], int] = _generate(1)
crush_hash32_rjenkins1_2: Callable[[int, int], int] = _generate(2)
crush_hash32_rjenkins1_3: Callable[[int, int, int], int] = _generate(3)
crush_hash32_rjenkins1_4: Callable[[int, int, int, int], int] = _generate(4)
crush_hash32_rjenkins1_5: Callable[[int, int, int, int, int], int] = _generate(5)


def _reference_hash(values: Sequence[int]) -> int:
    """hash.c written plainly (one mix function), for cross-checking the generated code."""

    def mix(a: int, b: int, c: int) -> tuple[int, int, int]:
        a = ((a - b - c) & _M) ^ (c >> 13)
        b = ((b - c - a) & _M) ^ ((a << 8) & _M)
        c = ((c - a - b) & _M) ^ (b >> 13)
        a = ((a - b - c) & _M) ^ (c >> 12)
        b = ((b - c - a) & _M) ^ ((a << 16) & _M)
        c = ((c - a - b) & _M) ^ (b >> 5)
        a = ((a - b - c) & _M) ^ (c >> 3)
        b = ((b - c - a) & _M) ^ ((a << 10) & _M)
        c = ((c - a - b) & _M) ^ (b >> 15)
        return a, b, c

    params, schedule = _SCHEDULES[len(values)]
    env = {name: v & _M for name, v in zip(params.split(), values, strict=True)}
    h = _SEED
    for v in env.values():
        h ^= v
    env.update(h=h, x=_X0, y=_Y0)
    if len(values) == 1:
        env["b"] = env["a"]
    for p, q, r in schedule:
        env[p], env[q], env[r] = mix(env[p], env[q], env[r])
    return env["h"]


def crush_hash32(hash_type: int, a: int) -> int:
    """``crush_hash32``: 0 unless ``hash_type`` is CRUSH_HASH_RJENKINS1."""
    return crush_hash32_rjenkins1(a) if hash_type == CRUSH_HASH_RJENKINS1 else 0


def crush_hash32_2(hash_type: int, a: int, b: int) -> int:
    """``crush_hash32_2``."""
    return crush_hash32_rjenkins1_2(a, b) if hash_type == CRUSH_HASH_RJENKINS1 else 0


def crush_hash32_3(hash_type: int, a: int, b: int, c: int) -> int:
    """``crush_hash32_3``."""
    return crush_hash32_rjenkins1_3(a, b, c) if hash_type == CRUSH_HASH_RJENKINS1 else 0


def crush_hash32_4(hash_type: int, a: int, b: int, c: int, d: int) -> int:
    """``crush_hash32_4``."""
    if hash_type != CRUSH_HASH_RJENKINS1:
        return 0
    return crush_hash32_rjenkins1_4(a, b, c, d)


def crush_hash32_5(hash_type: int, a: int, b: int, c: int, d: int, e: int) -> int:
    """``crush_hash32_5``."""
    if hash_type != CRUSH_HASH_RJENKINS1:
        return 0
    return crush_hash32_rjenkins1_5(a, b, c, d, e)


def crush_hash_name(hash_type: int) -> str:
    """``crush_hash_name``: "rjenkins1" or "unknown"."""
    return "rjenkins1" if hash_type == CRUSH_HASH_RJENKINS1 else "unknown"


# -- object-name hashes (common/ceph_hash.cc) --------------------------------------------


_WORDS: dict[int, struct.Struct] = {}


def _words(nblocks: int) -> struct.Struct:
    """``3 * nblocks`` little-endian u32 words."""
    st = _WORDS.get(nblocks)
    if st is None:
        st = struct.Struct(f"<{3 * nblocks}I")
        if len(_WORDS) < 64:
            _WORDS[nblocks] = st
    return st


#: lookup2's (a, b, c) before the first block (golden ratio, initval 0).
RJENKINS_INIT = (0x9E3779B9, 0x9E3779B9, 0)


def _lookup2(words: Sequence[int], a: int, b: int, c: int, length: int) -> tuple[int, int, int]:
    """Mix ``words`` (three per 12-byte block) into (a, b, c).

    With ``length`` >= 0 the last three words are the zero-padded tail: the
    third is shifted up a byte and the length added (the C switch's ``c +=
    length`` and ``k[8..10] << 8..24``). Masks only where a right shift or the
    state needs 32 bits.
    """
    last = len(words) - 3 if length >= 0 else -1
    for i in range(0, len(words), 3):
        a += words[i]
        b += words[i + 1]
        c = (c + (words[i + 2] if i != last else (words[i + 2] << 8) + length)) & _M
        # mix(a, b, c)
        a = ((a - b - c) & _M) ^ (c >> 13)
        b = ((b - c - a) ^ (a << 8)) & _M
        c = ((c - a - b) & _M) ^ (b >> 13)
        a = ((a - b - c) & _M) ^ (c >> 12)
        b = ((b - c - a) ^ (a << 16)) & _M
        c = ((c - a - b) & _M) ^ (b >> 5)
        a = ((a - b - c) & _M) ^ (c >> 3)
        b = ((b - c - a) ^ (a << 10)) & _M
        c = ((c - a - b) & _M) ^ (b >> 15)
    return a, b, c


def rjenkins_state(data: bytes, nblocks: int, state: tuple[int, int, int] = RJENKINS_INIT,
                   start: int = 0) -> tuple[int, int, int]:
    """lookup2's (a, b, c) after the first ``nblocks`` whole 12-byte blocks of
    ``data`` (resume from it with :func:`ceph_str_hash_rjenkins`).

    ``state`` and ``start`` resume: ``state`` is this function's answer for the
    first ``start // 12`` blocks (``start`` a multiple of 12).
    """
    if not 0 <= nblocks <= len(data) // 12 or start % 12 or not 0 <= start <= 12 * nblocks:
        raise ValueError(f"blocks {start // 12}..{nblocks} of a {len(data)}-byte string")
    n = nblocks - start // 12
    if not n:
        return state
    a, b, c = state
    return _lookup2(_words(n).unpack_from(data, start), a, b, c, -1)


def ceph_str_hash_rjenkins(data: bytes | bytearray | memoryview,
                           state: tuple[int, int, int] = RJENKINS_INIT, start: int = 0) -> int:
    """``ceph_str_hash_rjenkins``: Jenkins' lookup2 over ``data`` (initval 0).

    Twelve-byte blocks are read as three little-endian words; the last 0..11 bytes
    are added with the length in the low byte of ``c``, as the C switch does (here
    the tail is zero-padded to a block, so every block goes through the same
    inlined ``mix``, and all words come from one unpack).

    ``state`` and ``start`` resume a hash: ``state`` is :func:`rjenkins_state` of
    ``data``'s first ``start // 12`` blocks (``start`` a multiple of 12), so
    names sharing a prefix need not mix it again.
    """
    k = bytes(data)
    length = len(k)
    if start % 12 or not 0 <= start <= length:
        raise ValueError(f"resume offset {start} of a {length}-byte string")
    nblocks = (length - start) // 12 + 1
    words = _words(nblocks).unpack(k[start:] + bytes(start + nblocks * 12 - length))
    a, b, c = state
    return _lookup2(words, a, b, c, length)[2]


def ceph_str_hash_linux(data: bytes | bytearray | memoryview) -> int:
    """``ceph_str_hash_linux``: the Linux dcache name hash, on u32."""
    h = 0
    for ch in bytes(data):
        h = ((h + (ch << 4) + (ch >> 4)) * 11) & _M
    return h


def ceph_str_hash(hash_type: int, data: bytes | bytearray | memoryview) -> int:
    """``ceph_str_hash``: by a pool's ``object_hash``; 0xFFFFFFFF for unknown types."""
    if hash_type == CEPH_STR_HASH_LINUX:
        return ceph_str_hash_linux(data)
    if hash_type == CEPH_STR_HASH_RJENKINS:
        return ceph_str_hash_rjenkins(data)
    return _M


def ceph_str_hash_name(hash_type: int) -> str:
    """``ceph_str_hash_name``: "linux", "rjenkins" or "unknown"."""
    return {CEPH_STR_HASH_LINUX: "linux", CEPH_STR_HASH_RJENKINS: "rjenkins"}.get(
        hash_type, "unknown")
