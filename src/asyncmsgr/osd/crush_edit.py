"""CRUSH weight changes the OSDMap tools make (``CrushWrapper::adjust_item_weight``).

``osdmaptool --mark-up-in`` gives every OSD whose CRUSH weight is 0 a weight of
1.0. :func:`adjust_item_weight` does what Pacific's ``CrushWrapper`` does: in
every bucket (in bucket order) holding the item, ``crush_bucket_adjust_item_weight``
(``crush/builder.c``: uniform, list, tree, straw with ``crush_calc_straw``,
straw2), then the bucket's new total weight is set in its own parents, and so
on up. Maps with choose_args (weight sets) are refused: Ceph also rewrites the
weight sets, which this module does not do.
"""

from __future__ import annotations

import math
from dataclasses import replace

from asyncmsgr.crush.map import (
    CrushBucket,
    CrushMap,
    ListBucket,
    Straw2Bucket,
    StrawBucket,
    TreeBucket,
    UniformBucket,
)

_U32 = 0xFFFFFFFF


class CrushEditError(ValueError):
    """A CRUSH change this module cannot make the way Ceph would."""


def _s32(v: int) -> int:
    """C ``int`` wrap-around of a weight difference."""
    v &= _U32
    return v - (1 << 32) if v >= 1 << 31 else v


def _calc_depth(size: int) -> int:
    if size == 0:
        return 0
    depth = 1
    t = size - 1
    while t:
        t >>= 1
        depth += 1
    return depth


def _tree_parent(n: int) -> int:
    """builder.c's ``parent``: up one level of the implicit tree."""
    h = (n & -n).bit_length() - 1  # height: the trailing zero bits
    return n - (1 << h) if n & (1 << (h + 1)) else n + (1 << h)


def crush_calc_straw(weights: tuple[int, ...], straw_calc_version: int) -> tuple[int, ...]:
    """``crush_calc_straw``: the straw lengths of a straw bucket (double arithmetic)."""
    size = len(weights)
    reverse: list[int] = []
    for i in range(size):  # insertion sort by weight, stable
        for j, r in enumerate(reverse):
            if weights[i] < weights[r]:
                reverse.insert(j, i)
                break
        else:
            reverse.append(i)
    straws = [0] * size
    numleft = size
    straw = 1.0
    wbelow = 0.0
    lastw = 0.0
    i = 0
    while i < size:
        if weights[reverse[i]] == 0:
            straws[reverse[i]] = 0
            i += 1
            if straw_calc_version >= 1:
                numleft -= 1
            continue
        straws[reverse[i]] = int(straw * 0x10000) & _U32
        i += 1
        if i == size:
            break
        if straw_calc_version == 0:
            if weights[reverse[i]] == weights[reverse[i - 1]]:
                continue
            wbelow += (float(weights[reverse[i - 1]]) - lastw) * numleft
            for j in range(i, size):
                if weights[reverse[j]] == weights[reverse[i]]:
                    numleft -= 1
                else:
                    break
        else:
            wbelow += (float(weights[reverse[i - 1]]) - lastw) * numleft
            numleft -= 1
        wnext = float(numleft * (weights[reverse[i]] - weights[reverse[i - 1]]))
        pbelow = wbelow / (wbelow + wnext)
        straw *= math.pow(1.0 / pbelow, 1.0 / numleft)
        lastw = float(weights[reverse[i - 1]])
    return tuple(straws)


def _adjust_in_bucket(b: CrushBucket, item: int, weight: int,
                      straw_calc_version: int) -> tuple[CrushBucket, int]:
    """``crush_bucket_adjust_item_weight``: (new bucket, weight difference)."""
    if isinstance(b, UniformBucket):
        diff = _s32((weight - b.item_weight_all) * len(b.items))
        return replace(b, item_weight_all=weight, weight=(weight * len(b.items)) & _U32), diff
    idx = b.items.index(item)
    if isinstance(b, ListBucket):
        diff = _s32(weight - b.item_weights[idx])
        iw = list(b.item_weights)
        iw[idx] = weight
        sums = [(s + diff) & _U32 if j >= idx else s for j, s in enumerate(b.sum_weights)]
        return replace(b, item_weights=tuple(iw), sum_weights=tuple(sums),
                       weight=(b.weight + diff) & _U32), diff
    if isinstance(b, TreeBucket):
        node = 2 * idx + 1
        nw = list(b.node_weights)
        diff = _s32(weight - nw[node])
        nw[node] = weight
        for _ in range(1, _calc_depth(len(b.items))):
            node = _tree_parent(node)
            nw[node] = (nw[node] + diff) & _U32
        return replace(b, node_weights=tuple(nw), weight=(b.weight + diff) & _U32), diff
    if isinstance(b, StrawBucket):
        diff = _s32(weight - b.item_weights[idx])
        iw = list(b.item_weights)
        iw[idx] = weight
        return replace(b, item_weights=tuple(iw), weight=(b.weight + diff) & _U32,
                       straws=crush_calc_straw(tuple(iw), straw_calc_version)), diff
    if isinstance(b, Straw2Bucket):
        diff = _s32(weight - b.item_weights[idx])
        iw = list(b.item_weights)
        iw[idx] = weight
        return replace(b, item_weights=tuple(iw), weight=(b.weight + diff) & _U32), diff
    raise CrushEditError(f"bucket {b.id}: unknown algorithm")


def adjust_item_weight(crush: CrushMap, item: int, weight: int) -> tuple[CrushMap, int]:
    """``CrushWrapper::adjust_item_weight(id, weight)``: (new map, buckets changed).

    ``weight`` is 16.16 fixed point. Raises CrushEditError for maps with choose
    args (Ceph would also rewrite their weight sets).
    """
    if crush.choose_args:
        raise CrushEditError("maps with choose_args (weight sets) are not supported")
    buckets = list(crush.buckets)
    changed = _adjust(buckets, item, weight, crush.tunables.straw_calc_version)
    return replace(crush, buckets=tuple(buckets)), changed


def _adjust(buckets: list[CrushBucket | None], item: int, weight: int, scv: int) -> int:
    changed = 0
    for bidx in range(len(buckets)):
        b = buckets[bidx]
        if b is None:
            continue
        hits = 0
        for _ in range(b.items.count(item)):
            cur = buckets[bidx]
            assert cur is not None
            new, _diff = _adjust_in_bucket(cur, item, weight, scv)
            buckets[bidx] = new
            _adjust(buckets, new.id, new.weight, scv)
            hits += 1
        if hits:
            changed += 1
    return changed


def adjust_item_weightf(crush: CrushMap, item: int, weight: float) -> tuple[CrushMap, int]:
    """``adjust_item_weightf``: the weight as a float (``(int)(w * (float)0x10000)``)."""
    return adjust_item_weight(crush, item, int(weight * 0x10000))


__all__ = ["CrushEditError", "adjust_item_weight", "adjust_item_weightf", "crush_calc_straw"]
