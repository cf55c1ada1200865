"""``CrushWrapper::dump`` (Pacific): the JSON of ``crushtool --dump`` and
``ceph osd crush dump``, as plain dicts and lists (ready for :func:`json.dumps`).

Sections, in Ceph's order: ``devices`` (every id below ``max_devices``, unnamed ones
as ``deviceN``), ``types`` (from type 0 up, a missing type 0 shown as "device"),
``buckets`` (id -1 downwards), ``rules`` (with Pacific's ruleset/min_size/max_size;
steps Pacific has no name for are dumped as opcode/arg1/arg2, SET_CHOOSELEAF_VARY_R
and SET_CHOOSELEAF_STABLE included), ``tunables`` (with the profile and the derived
feature flags) and ``choose_args`` (weights as floats, weight / 0x10000).
"""

from __future__ import annotations

from typing import Any

from asyncmsgr.crush.hash import crush_hash_name
from asyncmsgr.crush.map import BucketAlg, CrushMap, RuleOp

__all__ = ["bucket_alg_name", "dump_crush", "dump_rule", "dump_tunables",
           "min_required_version"]

_STEP_NAMES = {
    RuleOp.CHOOSE_FIRSTN: "choose_firstn",
    RuleOp.CHOOSE_INDEP: "choose_indep",
    RuleOp.CHOOSELEAF_FIRSTN: "chooseleaf_firstn",
    RuleOp.CHOOSELEAF_INDEP: "chooseleaf_indep",
}
_V2_OPS = frozenset({RuleOp.CHOOSE_INDEP, RuleOp.CHOOSELEAF_INDEP, RuleOp.SET_CHOOSE_TRIES,
                     RuleOp.SET_CHOOSELEAF_TRIES})


def bucket_alg_name(alg: int) -> str:
    """``crush_bucket_alg_name``."""
    try:
        return BucketAlg(alg).name.lower()
    except ValueError:
        return "unknown"


def _rules_use(m: CrushMap, ops: frozenset[int]) -> bool:
    return any(step.op in ops for r in m.rules if r is not None for step in r.steps)


def min_required_version(m: CrushMap) -> str:
    """``get_min_required_version``: the oldest release that can use this map."""
    t = m.tunables
    if _rules_use(m, frozenset({RuleOp.SET_CHOOSELEAF_STABLE})) or t.chooseleaf_stable:
        return "jewel"
    if any(b.alg == BucketAlg.STRAW2 for b in m.iter_buckets()):
        return "hammer"
    if t.chooseleaf_vary_r:
        return "firefly"
    if t.chooseleaf_descend_once or (t.choose_local_tries, t.choose_local_fallback_tries,
                                     t.choose_total_tries) != (2, 5, 19):
        return "bobtail"
    return "argonaut"


def dump_tunables(m: CrushMap) -> dict[str, Any]:
    """``dump_tunables``."""
    t = m.tunables
    core = (t.choose_local_tries, t.choose_local_fallback_tries, t.choose_total_tries,
            t.chooseleaf_descend_once, t.chooseleaf_vary_r, t.chooseleaf_stable)
    return {
        "choose_local_tries": t.choose_local_tries,
        "choose_local_fallback_tries": t.choose_local_fallback_tries,
        "choose_total_tries": t.choose_total_tries,
        "chooseleaf_descend_once": t.chooseleaf_descend_once,
        "chooseleaf_vary_r": t.chooseleaf_vary_r,
        "chooseleaf_stable": t.chooseleaf_stable,
        "straw_calc_version": t.straw_calc_version,
        "allowed_bucket_algs": t.allowed_bucket_algs,
        "profile": t.profile,
        "optimal_tunables": int(core == (0, 0, 50, 1, 1, 1)),
        "legacy_tunables": int(core == (2, 5, 19, 0, 0, 0)),
        "minimum_required_version": min_required_version(m),
        "require_feature_tunables": int(core[:3] != (2, 5, 19)),
        "require_feature_tunables2": int(t.chooseleaf_descend_once != 0),
        "has_v2_rules": int(_rules_use(m, _V2_OPS)),
        "require_feature_tunables3": int(t.chooseleaf_vary_r != 0),
        "has_v3_rules": int(_rules_use(m, frozenset({RuleOp.SET_CHOOSELEAF_VARY_R}))),
        "has_v4_buckets": int(any(b.alg == BucketAlg.STRAW2 for b in m.iter_buckets())),
        "require_feature_tunables5": int(t.chooseleaf_stable != 0),
        "has_v5_rules": int(_rules_use(m, frozenset({RuleOp.SET_CHOOSELEAF_STABLE}))),
    }


def dump_rule(m: CrushMap, ruleno: int) -> dict[str, Any]:
    """``dump_rule`` (Pacific's fields)."""
    rule = m.rules[ruleno]
    assert rule is not None
    out: dict[str, Any] = {"rule_id": ruleno}
    name = m.get_rule_name(ruleno)
    if name is not None:
        out["rule_name"] = name
    out.update(ruleset=rule.ruleset, type=rule.type, min_size=rule.min_size,
               max_size=rule.max_size)
    steps: list[dict[str, Any]] = []
    for op, arg1, arg2 in rule.steps:
        if op == RuleOp.NOOP:
            steps.append({"op": "noop"})
        elif op == RuleOp.TAKE:
            steps.append({"op": "take", "item": arg1,
                          "item_name": m.get_item_name(arg1) or ""})
        elif op == RuleOp.EMIT:
            steps.append({"op": "emit"})
        elif op in _STEP_NAMES:
            steps.append({"op": _STEP_NAMES[RuleOp(op)], "num": arg1,
                          "type": m.get_type_name(arg2) or ""})
        elif op == RuleOp.SET_CHOOSE_TRIES:
            steps.append({"op": "set_choose_tries", "num": arg1})
        elif op == RuleOp.SET_CHOOSELEAF_TRIES:
            steps.append({"op": "set_chooseleaf_tries", "num": arg1})
        else:
            steps.append({"opcode": op, "arg1": arg1, "arg2": arg2})
    out["steps"] = steps
    return out


def dump_crush(m: CrushMap) -> dict[str, Any]:
    """``CrushWrapper::dump``: what ``crushtool -i MAP --dump`` prints."""
    devices = []
    for i in range(m.max_devices):
        dev: dict[str, Any] = {"id": i, "name": m.get_item_name(i) or f"device{i}"}
        cls = m.get_item_class(i)
        if cls is not None:
            dev["class"] = cls
        devices.append(dev)
    types = []
    left = len(m.type_map)
    i = 0
    while left:
        name = m.get_type_name(i)
        if name is None:
            if i == 0:
                types.append({"type_id": 0, "name": "device"})
        else:
            left -= 1
            types.append({"type_id": i, "name": name})
        i += 1
        if i > max(m.type_map, default=0):  # names only below 0 are never reached
            break
    buckets = []
    for b in m.iter_buckets():
        bd: dict[str, Any] = {"id": b.id}
        name = m.get_item_name(b.id)
        if name is not None:
            bd["name"] = name
        bd["type_id"] = b.type
        tname = m.get_type_name(b.type)
        if tname is not None:
            bd["type_name"] = tname
        bd.update(weight=b.weight, alg=bucket_alg_name(b.alg), hash=crush_hash_name(b.hash),
                  items=[{"id": item, "weight": b.item_weight(pos), "pos": pos}
                         for pos, item in enumerate(b.items)])
        buckets.append(bd)
    choose_args: dict[str, Any] = {}
    for index in sorted(m.choose_args):
        args = m.choose_args[index]
        entries = []
        for bid in sorted(args, reverse=True):
            arg = args[bid]
            if not arg.weight_set and not arg.ids:
                continue
            entry: dict[str, Any] = {"bucket_id": bid}
            if arg.weight_set:
                entry["weight_set"] = [[w / 0x10000 for w in ws] for ws in arg.weight_set]
            if arg.ids:
                entry["ids"] = list(arg.ids)
            entries.append(entry)
        choose_args[str(index)] = entries
    return {
        "devices": devices,
        "types": types,
        "buckets": buckets,
        "rules": [dump_rule(m, r) for r in range(m.max_rules) if m.rules[r] is not None],
        "tunables": dump_tunables(m),
        "choose_args": choose_args,
    }
