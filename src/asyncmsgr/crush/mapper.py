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

Where Ceph would crash or read out of bounds, the result is defined instead: a rule
hole maps to ``[]``; an item naming an empty bucket slot is a bad item (skipped by
firstn, NONE for indep); a tree walk that ends past the items (all weights zero on
the path) yields NONE; choose-args weight sets shorter than their bucket are padded
with zero weights, ids of the wrong length are ignored. Everything Ceph defines is
reproduced exactly (the tests compare with crushtool and osdmaptool).

Speed: the map is compiled once (:class:`CrushMapper`, cached on the map by
:func:`crush_do_rule`); see :mod:`asyncmsgr.crush.buckets` for how draws are hashed
and cached. A 4096-PG pool on 160 OSDs maps in about half a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asyncmsgr.crush.buckets import Arg, Chooser, CompiledBucket, compile_arg
from asyncmsgr.crush.hash import crush_hash32_rjenkins1_2 as _hash2
from asyncmsgr.crush.ln import straw2_neg_ln_table
from asyncmsgr.crush.map import (
    CRUSH_ITEM_NONE,
    CRUSH_ITEM_UNDEF,
    BucketAlg,
    ChooseArgMap,
    CrushMap,
    RuleOp,
)

__all__ = ["CrushMapper", "crush_do_rule"]

# An item type no rule step can ask for: a bucket id whose slot is empty.
_MISSING = 1 << 40


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
        self._buckets = [None if b is None else CompiledBucket(b) for b in crush_map.buckets]
        self._neg_ln: list[int] = []
        self._args_cache: dict[int, tuple[object, list[Arg | None]]] = {}

    def _compile_args(self, choose_args: ChooseArgMap | None) -> list[Arg | None] | None:
        if not choose_args:
            return None
        hit = self._args_cache.get(id(choose_args))
        if hit is not None and hit[0] is choose_args:
            return hit[1]
        by_slot: list[Arg | None] = [None] * self._max_buckets
        for bid, arg in choose_args.items():
            slot = -1 - bid
            bucket = self._buckets[slot] if 0 <= slot < self._max_buckets else None
            if bucket is None or not (arg.weight_set or arg.ids):
                continue
            # Ceph reads past a weight set or ids array shorter than the bucket (a map
            # decode leaves so when its positions disagree): here the missing weights
            # are 0 and ids of the wrong length are not used
            size = bucket.size
            weight_set = tuple(ws if len(ws) == size else (ws + (0,) * size)[:size]
                               for ws in arg.weight_set)
            ids = arg.ids if len(arg.ids) == size else ()
            by_slot[slot] = compile_arg(weight_set, ids)
        if len(self._args_cache) >= 64:
            self._args_cache.clear()
        self._args_cache[id(choose_args)] = (choose_args, by_slot)
        return by_slot

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

    def _choose_firstn(self, chooser: Chooser, bucket: CompiledBucket,
                       weights: Sequence[int], x: int,
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
                            item = chooser.perm_choose(in_b, r)
                        else:
                            item = chooser.choose(in_b, r, outpos)
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
                                    chooser, leaf_bucket, weights, x,
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

    def _choose_indep(self, chooser: Chooser, bucket: CompiledBucket,
                      weights: Sequence[int], x: int,
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
                    item = chooser.choose(in_b, r, outpos)
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
                            self._choose_indep(chooser, leaf_bucket, weights, x, 1, numrep, 0,
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
        if not self._neg_ln:
            self._neg_ln = straw2_neg_ln_table()
        chooser = Chooser(x, self._compile_args(choose_args), self._neg_ln)
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
                            chooser, start, weights, x, numrep, arg2, out, 0, room,
                            choose_tries, recurse_tries, local_retries,
                            local_fallback_retries, recurse_to_leaf, vary_r, stable, out2, 0)
                    else:
                        n = min(numrep, room)
                        out = [0] * n
                        out2 = [0] * n
                        self._choose_indep(
                            chooser, start, weights, x, n, numrep, arg2, out, 0, choose_tries,
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
