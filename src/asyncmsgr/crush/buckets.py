"""``crush_bucket_choose`` for the five bucket algorithms (``crush/mapper.c``).

:class:`CompiledBucket` holds one bucket's arrays as the mapper wants them;
:class:`Chooser` answers ``crush_bucket_choose(bucket, x, r, arg, position)`` and
``bucket_perm_choose`` for one input ``x`` (one ``crush_do_rule`` call), caching what
the C caches (the uniform permutation, as its ``crush_work_bucket`` does) and more:

* straw, straw2 and list buckets hash all their items at once (packed lanes, see
  :class:`~asyncmsgr.crush.hash.HashLanes`), and the 16-bit draws of a bucket are
  kept per ``r``: a choice is a pure function of (bucket, x, r) plus, for straw2, the
  weight-set position;
* when a bucket is asked again for a new ``r`` within the call (a retry, or the next
  replica), the draws of the next few ``r`` are computed in the same pass: firstn
  retries use r = rep + ftotal and indep rounds r = rep + numrep * ftotal, both
  walking r upwards.

Results are exactly the C's; only the amount of hashing differs.
"""

from __future__ import annotations

from collections.abc import Callable

from asyncmsgr.crush.hash import HashLanes
from asyncmsgr.crush.hash import crush_hash32_rjenkins1_3 as _rj3
from asyncmsgr.crush.hash import crush_hash32_rjenkins1_4 as _rj4
from asyncmsgr.crush.map import (
    CRUSH_ITEM_NONE,
    BucketAlg,
    CrushBucket,
    ListBucket,
    Straw2Bucket,
    StrawBucket,
    TreeBucket,
)

__all__ = ["Arg", "Chooser", "CompiledBucket", "compile_arg"]

_HASH_RJENKINS1 = 0
_U32 = 0xFFFFFFFF
_NO_DRAW = 1 << 64  # straw2: a zero weight never wins (its draw is S64_MIN)
_STRAW2 = int(BucketAlg.STRAW2)
_UNIFORM = int(BucketAlg.UNIFORM)
_LIST = int(BucketAlg.LIST)
_TREE = int(BucketAlg.TREE)
_LANE_TARGET = 48  # lanes per batched pass (items x r values)

#: One straw2 bucket's ChooseArg: (weight sets, ids, ids packed as lanes or 0).
Arg = tuple[tuple[tuple[int, ...], ...], tuple[int, ...], int]

_LANES: dict[int, HashLanes] = {}
# (n items, batch) -> (lanes, multiplier repeating an n-lane int, r offsets j per block)
_BATCH: dict[tuple[int, int], tuple[HashLanes, int, int]] = {}


def _lanes(n: int) -> HashLanes:
    lanes = _LANES.get(n)
    if lanes is None:
        lanes = _LANES[n] = HashLanes(n)
    return lanes


def _batch(n: int, count: int) -> tuple[HashLanes, int, int]:
    found = _BATCH.get((n, count))
    if found is None:
        lanes = _lanes(n * count)
        block = _lanes(n)
        repeat = sum(1 << (48 * n * j) for j in range(count))
        offsets = sum(block.broadcast(j) << (48 * n * j) for j in range(count))
        found = _BATCH[(n, count)] = (lanes, repeat, offsets)
    return found


def _zero3(a: int, b: int, c: int) -> int:
    return 0


def _zero4(a: int, b: int, c: int, d: int) -> int:
    return 0


def compile_arg(weight_set: tuple[tuple[int, ...], ...], ids: tuple[int, ...]) -> Arg:
    """A ChooseArg as the chooser uses it."""
    return weight_set, ids, _lanes(len(ids)).pack(ids) if ids else 0


class CompiledBucket:
    """One bucket, compiled for the mapper."""

    __slots__ = ("alg", "arrays", "batch", "h3", "h4", "id", "items", "items_lanes", "lanes",
                 "rj", "size", "slot", "type")

    def __init__(self, b: CrushBucket) -> None:
        self.id = b.id
        self.slot = -1 - b.id
        self.type = b.type
        self.alg = int(b.alg)
        self.items = b.items
        self.size = len(b.items)
        self.rj = b.hash == _HASH_RJENKINS1  # any other hash type hashes to 0
        self.h3: Callable[[int, int, int], int] = _rj3 if self.rj else _zero3
        self.h4: Callable[[int, int, int, int], int] = _rj4 if self.rj else _zero4
        self.lanes = _lanes(self.size) if self.size else None
        self.items_lanes = self.lanes.pack(b.items) if self.lanes is not None else 0
        self.batch = max(2, _LANE_TARGET // self.size) if self.size else 0
        arrays: tuple[tuple[int, ...], ...] = ()
        if isinstance(b, ListBucket):
            arrays = (b.item_weights, b.sum_weights)
        elif isinstance(b, TreeBucket):
            arrays = (b.node_weights,)
        elif isinstance(b, StrawBucket):
            arrays = (b.straws,)
        elif isinstance(b, Straw2Bucket):
            arrays = (b.item_weights,)
        self.arrays = arrays


class Chooser:
    """``crush_bucket_choose`` and ``bucket_perm_choose`` for one input ``x``."""

    __slots__ = ("_args", "_draws", "_memo", "_neg_ln", "_perms", "_seen", "_straw2_memo",
                 "x")

    def __init__(self, x: int, args: list[Arg | None] | None, neg_ln: list[int]) -> None:
        self.x = x
        self._args = args
        self._neg_ln = neg_ln
        self._draws: dict[tuple[int, int], tuple[int, ...]] = {}
        self._seen: set[int] = set()
        self._memo: dict[tuple[int, int], int] = {}
        self._straw2_memo: dict[tuple[int, int, int], int] = {}
        self._perms: dict[int, list[int]] = {}

    # -- the 16-bit draws ---------------------------------------------------------------

    def _draws_for(self, b: CompiledBucket, ids_lanes: int, r: int, tag: int,
                   ) -> tuple[int, ...]:
        """``hash(x, ids[i], r [, bucket id for list]) & 0xffff`` for every item.

        ``tag`` keys the cache: the bucket's slot, or ``-1 - slot`` when choose_args
        ids replace its items.
        """
        key = (tag, r)
        found = self._draws.get(key)
        if found is not None:
            return found
        lanes = b.lanes
        assert lanes is not None
        if not b.rj:
            found = (0,) * b.size
        elif tag not in self._seen or not 0 <= r < _U32 - b.batch:
            self._seen.add(tag)
            found = (lanes.low16_hash4(self.x, ids_lanes, r, b.id) if b.alg == _LIST
                     else lanes.low16_hash3(self.x, ids_lanes, r))
        else:
            count = b.batch
            wide, repeat, offsets = _batch(b.size, count)
            rs = r * wide.ones + offsets
            us = (wide.low16_hash4_r(self.x, ids_lanes * repeat, rs, b.id) if b.alg == _LIST
                  else wide.low16_hash3_r(self.x, ids_lanes * repeat, rs))
            n = b.size
            draws = self._draws
            for j in range(1, count):
                draws[(tag, r + j)] = us[j * n:(j + 1) * n]
            found = us[:n]
        self._draws[key] = found
        return found

    # -- crush_bucket_choose ------------------------------------------------------------

    def choose(self, b: CompiledBucket, r: int, position: int) -> int:
        """``crush_bucket_choose(b, x, r, choose_args[b], position)``."""
        alg = b.alg
        if alg == _STRAW2:
            if b.size == 1:
                return b.items[0]  # i == 0 always wins
            arg = self._args[b.slot] if self._args is not None else None
            # the position matters only through a choose_args weight set
            key = (b.slot, r, position if arg is not None and len(arg[0]) > 1 else 0)
            item = self._straw2_memo.get(key)
            if item is not None:
                return item
            (weights,) = b.arrays
            if arg is None:
                draws = self._draws_for(b, b.items_lanes, r, b.slot)
            else:
                weight_set, arg_ids, arg_lanes = arg
                if weight_set:
                    weights = weight_set[position if position < len(weight_set) else -1]
                if arg_ids:
                    draws = self._draws_for(b, arg_lanes, r, -1 - b.slot)
                else:
                    draws = self._draws_for(b, b.items_lanes, r, b.slot)
            # highest draw trunc((crush_ln(u) - 2**48) / w) = smallest neg_ln[u] // w
            neg_ln = self._neg_ln
            qs = [neg_ln[u] // w if w else _NO_DRAW
                  for u, w in zip(draws, weights, strict=True)]
            item = self._straw2_memo[key] = b.items[qs.index(min(qs))]
            return item
        if alg == _UNIFORM:
            return self.perm_choose(b, r)
        if alg == _LIST:
            item_weights, sum_weights = b.arrays
            draws = self._draws_for(b, b.items_lanes, r, b.slot)
            for i in range(b.size - 1, -1, -1):
                if (draws[i] * sum_weights[i]) >> 16 < item_weights[i]:
                    return b.items[i]
            return b.items[0]
        if alg == _TREE:
            tree_key = (b.slot, r)
            item = self._memo.get(tree_key)
            if item is None:
                item = self._memo[tree_key] = self._tree_choose(b, r)
            return item
        # straw: the largest (hash & 0xffff) * straw, first one wins ties
        if b.size == 1:
            return b.items[0]
        (straws,) = b.arrays
        values = [u * s for u, s in zip(self._draws_for(b, b.items_lanes, r, b.slot),
                                        straws, strict=True)]
        return b.items[values.index(max(values))]

    def _tree_choose(self, b: CompiledBucket, r: int) -> int:
        """``bucket_tree_choose``: descend by node weights from the root node."""
        (node_weights,) = b.arrays
        h4 = b.h4
        x = self.x
        bid = b.id
        n = len(node_weights) >> 1
        while not n & 1:
            t = (h4(x, n, r, bid) * node_weights[n]) >> 32
            half = (n & -n) >> 1  # 1 << (height(n) - 1)
            n = n - half if t < node_weights[n - half] else n + half
        idx = n >> 1
        # past the items only if every weight on the path is 0 (undefined in Ceph)
        return b.items[idx] if idx < b.size else CRUSH_ITEM_NONE

    def perm_choose(self, b: CompiledBucket, r: int) -> int:
        """``bucket_perm_choose``: item ``r % size`` of the permutation hashed from
        (x, bucket id), built Fisher-Yates style as far as needed and kept for the
        call (the C keeps it in its work area the same way)."""
        size = b.size
        pr = r % size
        perm = self._perms.get(b.slot)
        if perm is None:
            perm = self._perms[b.slot] = [*range(size), 0]  # last entry: steps done
        done = perm[size]
        if done <= pr:
            h3 = b.h3
            x = self.x
            bid = b.id
            for p in range(done, pr + 1):
                if p < size - 1:
                    i = h3(x, bid, p) % (size - p)
                    if i:
                        perm[p], perm[p + i] = perm[p + i], perm[p]
            perm[size] = pr + 1
        return b.items[perm[pr]]
