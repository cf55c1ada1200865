"""``crush_do_rule``: Ceph Pacific's ``crush/mapper.c``, result for result.

API (stable; the OSDMap code calls it)::

    crush_do_rule(crush_map, ruleno, x, result_max, weights, choose_args=None)
        -> list[int]

* ``ruleno``: a rule id, usually ``crush_map.find_rule(pool.crush_rule, pool.type,
  pool.size)``; an id past ``max_rules`` or a hole gives ``[]``.
* ``x``: the CRUSH input (the OSDMap passes the placement seed ``pps``); any int, taken
  modulo 2**32 where it is hashed.
* ``result_max``: the number of items wanted (the pool size).
* ``weights``: the 16.16 per-device weight vector indexed by device id, as the OSDMap
  passes ``osd_weight``: 0x10000 = in, 0 = out, in between = "in" for that fraction of
  inputs (``is_out`` hashes ``(x, id)``); devices at or past ``len(weights)`` are out.
* ``choose_args``: a pool's choose args, ``crush_map.choose_args_get_with_fallback(
  pool_id)`` (None: the buckets' own weights).
* Result: device ids (or bucket ids for rules that emit buckets). firstn rules
  return only what was found; indep rules keep positions and mark holes with
  ``CRUSH_ITEM_NONE`` (0x7fffffff).

Every step of ``mapper.c`` is here: the five bucket algorithms (uniform's hashed
permutation, list, tree, straw, straw2 with ``crush_ln``), ``crush_choose_firstn``
(local retries, local fallback permutation, total descents, chooseleaf with
``chooseleaf_descend_once``, ``chooseleaf_vary_r``, ``chooseleaf_stable``) and
``crush_choose_indep`` (breadth-first, positionally stable), the SET_* steps, the
``is_out`` test and choose-args weight sets (per position) and ids.

Where Ceph would crash or read freed memory (a rule hole, an item naming a bucket
slot that is empty), the item is treated as a bad item (skipped, or NONE for indep)
instead. Per-map data (item types, per-bucket arrays) is compiled once and cached on
the immutable :class:`~asyncmsgr.crush.map.CrushMap`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from asyncmsgr.crush.hash import HashLanes
from asyncmsgr.crush.hash import crush_hash32_rjenkins1_2 as _hash2
from asyncmsgr.crush.hash import crush_hash32_rjenkins1_3 as _rj3
from asyncmsgr.crush.hash import crush_hash32_rjenkins1_4 as _rj4
from asyncmsgr.crush.ln import straw2_neg_ln_table
from asyncmsgr.crush.map import (
    CRUSH_ITEM_NONE,
    CRUSH_ITEM_UNDEF,
    BucketAlg,
    ChooseArgMap,
    CrushBucket,
    CrushMap,
    ListBucket,
    RuleOp,
    Straw2Bucket,
    StrawBucket,
    TreeBucket,
)

__all__ = ["CrushMapper", "crush_do_rule"]

# An item type no rule step can ask for: a bucket id whose slot is empty.
_MISSING = 1 << 40
_NO_DRAW = 1 << 64  # straw2: a zero weight never wins (draw S64_MIN)
_HASH_RJENKINS1 = 0
_U32 = 0xFFFFFFFF

# (weight sets, ids, ids as lanes) of one straw2 bucket from its ChooseArg; () = not set.
_Arg = tuple[tuple[tuple[int, ...], ...], tuple[int, ...], int]

_LANES: dict[int, HashLanes] = {}
#: crush_bucket_choose bound to one input: (bucket, r, position) -> item.
_Choose = Callable[["_Bucket", int, int], int]


def _lanes(n: int) -> HashLanes:
    lanes = _LANES.get(n)
    if lanes is None:
        lanes = _LANES[n] = HashLanes(n)
    return lanes


def _zero3(a: int, b: int, c: int) -> int:
    return 0


def _zero4(a: int, b: int, c: int, d: int) -> int:
    return 0


class _Bucket:
    """One bucket, compiled for the mapper."""

    __slots__ = ("alg", "arrays", "h3", "h4", "id", "items", "items_lanes", "lanes", "size",
                 "slot", "type")

    def __init__(self, b: CrushBucket) -> None:
        self.id = b.id
        self.slot = -1 - b.id
        self.type = b.type
        self.alg = int(b.alg)
        self.items = b.items
        self.size = len(b.items)
        rj = b.hash == _HASH_RJENKINS1
        self.h3: Callable[[int, int, int], int] = _rj3 if rj else _zero3
        self.h4: Callable[[int, int, int, int], int] = _rj4 if rj else _zero4
        # straw and straw2 hash every item at once (None: hash type without a hash)
        self.lanes = _lanes(self.size) if rj and self.size > 1 else None
        self.items_lanes = self.lanes.pack(b.items) if self.lanes is not None else 0
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

    def low16(self, x: int, ids_lanes: int, r: int) -> tuple[int, ...]:
        """``crush_hash32_3(hash, x, ids[i], r) & 0xffff`` for every item i."""
        lanes = self.lanes
        if lanes is None:
            return (0,) * self.size
        return lanes.low16_hash3(x, ids_lanes, r)


def _perm_choose(b: _Bucket, x: int, r: int) -> int:
    """``bucket_perm_choose``: item ``r % size`` of a permutation hashed from
    (x, bucket id), built Fisher-Yates style up to that position (the C caches it
    per x; the permutation is the same)."""
    size = b.size
    pr = r % size
    h3 = b.h3
    bid = b.id
    if pr == 0:
        return b.items[h3(x, bid, 0) % size]
    perm = list(range(size))
    for p in range(pr + 1):
        if p < size - 1:
            i = h3(x, bid, p) % (size - p)
            if i:
                perm[p], perm[p + i] = perm[p + i], perm[p]
    return b.items[perm[pr]]


def _list_choose(b: _Bucket, x: int, r: int) -> int:
    """``bucket_list_choose``: from the last item back, the first whose
    ``(hash & 0xffff) * sum_weights[i] >> 16`` falls below its own weight."""
    item_weights, sum_weights = b.arrays
    items = b.items
    if b.lanes is None:
        h4 = b.h4
        us: Sequence[int] = [h4(x, item, r, b.id) & 0xFFFF for item in items]
    else:
        us = b.lanes.low16_hash4(x, b.items_lanes, r, b.id)
    for i in range(b.size - 1, -1, -1):
        if (us[i] * sum_weights[i]) >> 16 < item_weights[i]:
            return items[i]
    return items[0]


def _tree_choose(b: _Bucket, x: int, r: int) -> int:
    (node_weights,) = b.arrays
    h4 = b.h4
    bid = b.id
    n = len(node_weights) >> 1
    while not n & 1:
        t = (h4(x, n, r, bid) * node_weights[n]) >> 32
        h = (n & -n).bit_length() - 1  # height(n): trailing zero bits
        left = n - (1 << (h - 1))
        n = left if t < node_weights[left] else n + (1 << (h - 1))
    idx = n >> 1
    # beyond the items only when every weight on the path is 0 (undefined in Ceph)
    return b.items[idx] if idx < b.size else CRUSH_ITEM_NONE


def _straw_choose(b: _Bucket, x: int, r: int) -> int:
    """``bucket_straw_choose``: the largest (hash & 0xffff) * straw; first one wins ties."""
    if b.size == 1:
        return b.items[0]
    (straws,) = b.arrays
    draws = [u * s for u, s in zip(b.low16(x, b.items_lanes, r), straws, strict=True)]
    return b.items[draws.index(max(draws))]


def _straw2_choose(b: _Bucket, x: int, r: int, arg: _Arg | None, position: int,
                   neg_ln: list[int]) -> int:
    """``bucket_straw2_choose``: the highest ``(crush_ln(u) - 2**48) / weight``, u the
    16-bit hash of (x, id, r); first one wins ties; a zero weight never wins (item 0
    is the answer when every weight is zero).

    ``trunc(-n / w)`` is ``-(n // w)`` for n >= 0, so the highest draw is the smallest
    ``neg_ln[u] // w``.
    """
    if b.size == 1:
        return b.items[0]
    (weights,) = b.arrays
    ids_lanes = b.items_lanes
    if arg is not None:
        weight_set, arg_ids, arg_ids_lanes = arg
        if weight_set:
            weights = weight_set[position if position < len(weight_set) else -1]
        if arg_ids:
            ids_lanes = arg_ids_lanes
    qs = [neg_ln[u] // w if w else _NO_DRAW
          for u, w in zip(b.low16(x, ids_lanes, r), weights, strict=True)]
    return b.items[qs.index(min(qs))]


class CrushMapper:
    """A :class:`CrushMap` compiled for mapping; build once per map and reuse.

    ``do_rule`` is :func:`crush_do_rule`. Choose-args sets are compiled on first use
    and remembered (bounded).
    """

    __slots__ = ("_args_cache", "_buckets", "_map", "_max_buckets", "_max_devices",
                 "_neg_ln")

    def __init__(self, crush_map: CrushMap) -> None:
        self._map = crush_map
        self._max_buckets = crush_map.max_buckets
        self._max_devices = crush_map.max_devices
        self._buckets = [None if b is None else _Bucket(b) for b in crush_map.buckets]
        self._neg_ln: list[int] = []
        self._args_cache: dict[int, tuple[object, list[_Arg | None]]] = {}

    def _compile_args(self, choose_args: ChooseArgMap | None) -> list[_Arg | None] | None:
        if not choose_args:
            return None
        hit = self._args_cache.get(id(choose_args))
        if hit is not None and hit[0] is choose_args:
            return hit[1]
        by_slot: list[_Arg | None] = [None] * self._max_buckets
        for bid, arg in choose_args.items():
            slot = -1 - bid
            if 0 <= slot < self._max_buckets and (arg.weight_set or arg.ids):
                ids_lanes = 0
                if arg.ids and len(arg.ids) > 1:
                    ids_lanes = _lanes(len(arg.ids)).pack(arg.ids)
                by_slot[slot] = (arg.weight_set, arg.ids, ids_lanes)
        if len(self._args_cache) >= 64:
            self._args_cache.clear()
        self._args_cache[id(choose_args)] = (choose_args, by_slot)
        return by_slot

    # -- bucket choice ----------------------------------------------------------------

    def _chooser(self, x: int, args: list[_Arg | None] | None) -> _Choose:
        """``crush_bucket_choose`` for input ``x``, remembering each answer for the
        call: the choice is a pure function of (bucket, r, weight-set position), and
        retries revisit the same r many times."""
        memo: dict[tuple[int, int, int], int] = {}
        if not self._neg_ln:
            self._neg_ln = straw2_neg_ln_table()
        neg_ln = self._neg_ln

        def choose(b: _Bucket, r: int, position: int) -> int:
            alg = b.alg
            if alg == BucketAlg.STRAW2:
                arg = args[b.slot] if args is not None else None
                key = (b.slot, r, position if arg is not None and len(arg[0]) > 1 else 0)
                item = memo.get(key)
                if item is None:
                    item = memo[key] = _straw2_choose(b, x, r, arg, position, neg_ln)
                return item
            key = (b.slot, r, 0)
            item = memo.get(key)
            if item is None:
                if alg == BucketAlg.UNIFORM:
                    item = _perm_choose(b, x, r)
                elif alg == BucketAlg.LIST:
                    item = _list_choose(b, x, r)
                elif alg == BucketAlg.TREE:
                    item = _tree_choose(b, x, r)
                else:
                    item = _straw_choose(b, x, r)
                memo[key] = item
            return item

        return choose

    @staticmethod
    def _is_out(weights: Sequence[int], item: int, x: int) -> bool:
        """``is_out``: device ``item`` rejected for input ``x`` by its weight."""
        if item >= len(weights):
            return True
        w = weights[item]
        if w >= 0x10000:
            return False
        if w == 0:
            return True
        return (_hash2(x, item) & 0xFFFF) >= w

    # -- crush_choose_firstn ----------------------------------------------------------

    def _choose_firstn(self, choose: _Choose, bucket: _Bucket, weights: Sequence[int], x: int,
                       numrep: int, want_type: int, out: list[int], outpos: int,
                       out_size: int, tries: int, recurse_tries: int, local_retries: int,
                       local_fallback_retries: int, recurse_to_leaf: bool, vary_r: int,
                       stable: int, out2: list[int] | None, parent_r: int) -> int:
        buckets = self._buckets
        max_devices = self._max_devices
        count = out_size
        rep = 0 if stable else outpos
        item = 0
        while rep < numrep and count > 0:
            ftotal = 0
            skip_rep = False
            while True:  # descents
                retry_descent = False
                in_b = bucket
                flocal = 0
                while True:  # tries within one bucket
                    collide = False
                    retry_bucket = False
                    r = rep + parent_r + ftotal
                    if in_b.size == 0:
                        reject = True
                    else:
                        if (local_fallback_retries > 0 and flocal >= (in_b.size >> 1)
                                and flocal > local_fallback_retries):
                            item = _perm_choose(in_b, x, r)
                        else:
                            item = choose(in_b, r, outpos)
                        if item >= max_devices:
                            skip_rep = True
                            break
                        if item >= 0:
                            itemtype = 0
                        else:
                            slot = -1 - item
                            nb = buckets[slot] if slot < self._max_buckets else None
                            itemtype = nb.type if nb is not None else _MISSING
                        if itemtype != want_type:
                            if item >= 0 or itemtype == _MISSING:
                                skip_rep = True
                                break
                            nxt = buckets[-1 - item]
                            assert nxt is not None
                            in_b = nxt
                            retry_bucket = True
                            continue
                        collide = item in out[:outpos]
                        reject = False
                        if not collide and recurse_to_leaf:
                            if item < 0:
                                leaf_bucket = buckets[-1 - item]
                                assert out2 is not None
                                assert leaf_bucket is not None
                                sub_r = r >> (vary_r - 1) if vary_r else 0
                                got = self._choose_firstn(
                                    choose, leaf_bucket, weights, x,
                                    1 if stable else outpos + 1, 0, out2, outpos, count,
                                    recurse_tries, 0, local_retries, local_fallback_retries,
                                    False, vary_r, stable, None, sub_r)
                                if got <= outpos:
                                    reject = True  # no leaf found under it
                            else:
                                assert out2 is not None
                                out2[outpos] = item
                        if not reject and not collide and itemtype == 0:
                            reject = self._is_out(weights, item, x)
                    if reject or collide:
                        ftotal += 1
                        flocal += 1
                        if (collide and flocal <= local_retries) or (
                                local_fallback_retries > 0
                                and flocal <= in_b.size + local_fallback_retries):
                            retry_bucket = True  # retry locally, or exhaustive search
                        elif ftotal < tries:
                            retry_descent = True
                        else:
                            skip_rep = True
                    if not retry_bucket:
                        break
                if not retry_descent:
                    break
            rep += 1
            if skip_rep:
                continue
            out[outpos] = item
            outpos += 1
            count -= 1
        return outpos

    # -- crush_choose_indep -----------------------------------------------------------

    def _choose_indep(self, choose: _Choose, bucket: _Bucket, weights: Sequence[int], x: int,
                      left: int,
                      numrep: int, want_type: int, out: list[int], outpos: int,
                      tries: int, recurse_tries: int, recurse_to_leaf: bool,
                      out2: list[int] | None, parent_r: int) -> None:
        buckets = self._buckets
        max_devices = self._max_devices
        endpos = outpos + left
        for rep in range(outpos, endpos):
            out[rep] = CRUSH_ITEM_UNDEF
            if out2 is not None:
                out2[rep] = CRUSH_ITEM_UNDEF
        ftotal = 0
        while left > 0 and ftotal < tries:
            for rep in range(outpos, endpos):
                if out[rep] != CRUSH_ITEM_UNDEF:
                    continue
                in_b = bucket
                while True:
                    r = rep + parent_r
                    if in_b.alg == BucketAlg.UNIFORM and in_b.size % numrep == 0:
                        r += (numrep + 1) * ftotal
                    else:
                        r += numrep * ftotal
                    if in_b.size == 0:
                        break
                    item = choose(in_b, r, outpos)
                    if item >= max_devices:
                        out[rep] = CRUSH_ITEM_NONE
                        if out2 is not None:
                            out2[rep] = CRUSH_ITEM_NONE
                        left -= 1
                        break
                    if item >= 0:
                        itemtype = 0
                    else:
                        slot = -1 - item
                        nb = buckets[slot] if slot < self._max_buckets else None
                        itemtype = nb.type if nb is not None else _MISSING
                    if itemtype != want_type:
                        if item >= 0 or itemtype == _MISSING:
                            out[rep] = CRUSH_ITEM_NONE
                            if out2 is not None:
                                out2[rep] = CRUSH_ITEM_NONE
                            left -= 1
                            break
                        nxt = buckets[-1 - item]
                        assert nxt is not None
                        in_b = nxt
                        continue
                    if item in out[outpos:endpos]:
                        break  # collision: try again next round
                    if recurse_to_leaf:
                        if item < 0:
                            leaf_bucket = buckets[-1 - item]
                            assert leaf_bucket is not None
                            assert out2 is not None
                            self._choose_indep(choose, leaf_bucket, weights, x, 1, numrep, 0,
                                               out2, rep, recurse_tries, 0, False, None, r)
                            if out2[rep] == CRUSH_ITEM_NONE:
                                break  # placed nothing; no leaf
                        elif out2 is not None:
                            out2[rep] = item
                    if itemtype == 0 and self._is_out(weights, item, x):
                        break
                    out[rep] = item
                    left -= 1
                    break
            ftotal += 1
        for rep in range(outpos, endpos):
            if out[rep] == CRUSH_ITEM_UNDEF:
                out[rep] = CRUSH_ITEM_NONE
            if out2 is not None and out2[rep] == CRUSH_ITEM_UNDEF:
                out2[rep] = CRUSH_ITEM_NONE

    # -- crush_do_rule ----------------------------------------------------------------

    def do_rule(self, ruleno: int, x: int, result_max: int, weights: Sequence[int],
                choose_args: ChooseArgMap | None = None) -> list[int]:
        """``crush_do_rule`` (see the module docstring)."""
        m = self._map
        rule = m.rules[ruleno] if 0 <= ruleno < len(m.rules) else None
        if rule is None or result_max <= 0:
            return []
        choose = self._chooser(x, self._compile_args(choose_args))
        t = m.tunables
        buckets = self._buckets
        # the original choose_total_tries counted retries, not tries: add one
        choose_tries = t.choose_total_tries + 1
        choose_leaf_tries = 0
        local_retries = t.choose_local_tries
        local_fallback_retries = t.choose_local_fallback_tries
        vary_r = t.chooseleaf_vary_r
        stable = t.chooseleaf_stable
        result: list[int] = []
        w: list[int] = []
        for op, arg1, arg2 in rule.steps:
            if op == RuleOp.TAKE:
                if ((0 <= arg1 < self._max_devices)
                        or (0 <= -1 - arg1 < self._max_buckets
                            and buckets[-1 - arg1] is not None)):
                    w = [arg1]
            elif op == RuleOp.SET_CHOOSE_TRIES:
                if arg1 > 0:
                    choose_tries = arg1
            elif op == RuleOp.SET_CHOOSELEAF_TRIES:
                if arg1 > 0:
                    choose_leaf_tries = arg1
            elif op == RuleOp.SET_CHOOSE_LOCAL_TRIES:
                if arg1 >= 0:
                    local_retries = arg1
            elif op == RuleOp.SET_CHOOSE_LOCAL_FALLBACK_TRIES:
                if arg1 >= 0:
                    local_fallback_retries = arg1
            elif op == RuleOp.SET_CHOOSELEAF_VARY_R:
                if arg1 >= 0:
                    vary_r = arg1
            elif op == RuleOp.SET_CHOOSELEAF_STABLE:
                if arg1 >= 0:
                    stable = arg1
            elif op in _CHOOSE_OPS:
                if not w:
                    continue
                firstn = op in (RuleOp.CHOOSE_FIRSTN, RuleOp.CHOOSELEAF_FIRSTN)
                recurse_to_leaf = op in (RuleOp.CHOOSELEAF_FIRSTN, RuleOp.CHOOSELEAF_INDEP)
                o: list[int] = []
                c: list[int] = []
                for item in w:
                    numrep = arg1
                    if numrep <= 0:
                        numrep += result_max
                        if numrep <= 0:
                            continue
                    bno = -1 - item
                    if bno < 0 or bno >= self._max_buckets:
                        continue  # probably CRUSH_ITEM_NONE
                    start = buckets[bno]
                    if start is None:
                        continue
                    room = result_max - len(o)
                    if firstn:
                        if choose_leaf_tries:
                            recurse_tries = choose_leaf_tries
                        elif t.chooseleaf_descend_once:
                            recurse_tries = 1
                        else:
                            recurse_tries = choose_tries
                        out = [0] * room
                        out2 = [0] * room
                        n = self._choose_firstn(
                            choose, start, weights, x, numrep, arg2, out, 0, room,
                            choose_tries, recurse_tries, local_retries,
                            local_fallback_retries, recurse_to_leaf, vary_r, stable, out2, 0)
                    else:
                        n = min(numrep, room)
                        out = [0] * n
                        out2 = [0] * n
                        self._choose_indep(
                            choose, start, weights, x, n, numrep, arg2, out, 0, choose_tries,
                            choose_leaf_tries or 1, recurse_to_leaf, out2, 0)
                    o.extend(out[:n])
                    c.extend(out2[:n])
                w = c if recurse_to_leaf else o
            elif op == RuleOp.EMIT:
                result.extend(w[:result_max - len(result)])
                w = []
        return result


_CHOOSE_OPS = frozenset({RuleOp.CHOOSE_FIRSTN, RuleOp.CHOOSE_INDEP,
                         RuleOp.CHOOSELEAF_FIRSTN, RuleOp.CHOOSELEAF_INDEP})


def mapper_for(crush_map: CrushMap) -> CrushMapper:
    """The map's compiled mapper, built on first use and cached on the map."""
    mapper: Any = crush_map.cached("mapper")
    if mapper is None:
        mapper = CrushMapper(crush_map)
        crush_map.set_cached("mapper", mapper)
    assert isinstance(mapper, CrushMapper)
    return mapper


def crush_do_rule(crush_map: CrushMap, ruleno: int, x: int, result_max: int,
                  weights: Sequence[int], choose_args: ChooseArgMap | None = None,
                  ) -> list[int]:
    """Map input ``x`` through rule ``ruleno`` (see the module docstring)."""
    return mapper_for(crush_map).do_rule(ruleno, x, result_max, weights, choose_args)
