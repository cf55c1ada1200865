"""crush_do_rule against crushtool's answers stored in ``tests/data/crush``.

``mappings.jsonl.gz`` holds ``crushtool --test --show-mappings`` for x in 0..63 of
every check in :data:`crush_corpus.CORPUS` (the interop test regenerates them over
0..1023 and compares live). The weight vector is crushtool's: 0x10000 for every
device some bucket holds, 0 for the others, ``--weight`` overrides as stored; the
choose args are those crushtool uses (index 0, else the default set -1).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from asyncmsgr.crush.codec import decode_crush_map, encode_crush_map
from asyncmsgr.crush.map import (
    CRUSH_ITEM_NONE,
    DEFAULT_CHOOSE_ARGS,
    ChooseArg,
    CrushBucket,
    CrushMap,
    CrushRule,
    CrushRuleStep,
    CrushTunables,
    RuleOp,
    Straw2Bucket,
    TreeBucket,
)
from asyncmsgr.crush.mapper import CrushMapper, crush_do_rule
from crush_oracle import DATA, crushtester_weights, load_stored_mappings

ANSWERS = load_stored_mappings()
BY_MAP: dict[str, list[dict[str, Any]]] = defaultdict(list)
for _a in ANSWERS:
    BY_MAP[_a["map"]].append(_a)


@cache
def load_map(name: str) -> CrushMap:
    return decode_crush_map((DATA / f"{name}.bin").read_bytes())


def test_corpus_is_complete() -> None:
    assert len(BY_MAP) >= 20
    assert len(ANSWERS) >= 250
    for a in ANSWERS:
        assert len(a["results"]) == 64


@pytest.mark.parametrize("name", sorted(BY_MAP))
def test_mappings_equal_crushtool(name: str) -> None:
    m = load_map(name)
    choose_args = m.choose_args_get_with_fallback(0)
    mapper = CrushMapper(m)
    for a in BY_MAP[name]:
        weights = crushtester_weights(m, a["weights"])
        for x, expected in enumerate(a["results"]):
            got = mapper.do_rule(a["rule"], x, a["num_rep"], weights, choose_args)
            assert got == expected, (name, a["rule"], a["num_rep"], a["weights"], x)


def test_the_corpus_reaches_every_outcome() -> None:
    """The stored answers include short firstn results and NONE holes (bad mappings)."""
    short = holes = 0
    for a in ANSWERS:
        for res in a["results"]:
            short += len(res) < a["num_rep"]
            holes += CRUSH_ITEM_NONE in res
    assert short > 100
    assert holes > 100


def test_function_and_cached_mapper_agree() -> None:
    m = load_map("rules-straw2")
    w = crushtester_weights(m, [])
    for x in range(50):
        assert crush_do_rule(m, 0, x, 3, w) == CrushMapper(m).do_rule(0, x, 3, w)


def test_missing_rule_maps_to_nothing() -> None:
    m = load_map("rules-straw2")
    w = crushtester_weights(m, [])
    assert crush_do_rule(m, 99, 1, 3, w) == []
    assert crush_do_rule(m, -1, 1, 3, w) == []
    assert crush_do_rule(m, 0, 1, 0, w) == []


def test_short_weight_vector_marks_devices_out() -> None:
    m = load_map("rules-straw2")
    full = crushtester_weights(m, [])
    for x in range(64):
        got = crush_do_rule(m, 7, x, 3, full[:9])
        assert all(d < 9 for d in got)


def test_data_files_exist() -> None:
    assert isinstance(DATA, Path)
    assert (DATA / "mappings.jsonl.gz").is_file()


# -- where Ceph would crash: defined, documented outcomes ---------------------------------

def _steps(*steps: tuple[int, int, int]) -> tuple[CrushRuleStep, ...]:
    return tuple(CrushRuleStep(*s) for s in steps)


def _two_level(root_items: tuple[int, ...], *, extra: tuple[CrushBucket | None, ...] = (),
               rules: tuple[CrushRule | None, ...] = ()) -> CrushMap:
    host = Straw2Bucket(id=-2, type=1, items=(0, 1, 2), item_weights=(0x10000,) * 3)
    root = Straw2Bucket(id=-1, type=2, items=root_items,
                        item_weights=(0x10000,) * len(root_items))
    return CrushMap(buckets=(root, host, *extra), rules=rules, max_devices=3,
                    tunables=CrushTunables.optimal())


RULE_FIRSTN = CrushRule(ruleset=0, type=1, min_size=1, max_size=10, steps=_steps(
    (RuleOp.TAKE, -1, 0), (RuleOp.CHOOSELEAF_FIRSTN, 0, 1), (RuleOp.EMIT, 0, 0)))
RULE_INDEP = CrushRule(ruleset=1, type=3, min_size=1, max_size=10, steps=_steps(
    (RuleOp.TAKE, -1, 0), (RuleOp.CHOOSELEAF_INDEP, 0, 1), (RuleOp.EMIT, 0, 0)))


def test_dangling_bucket_reference_is_a_bad_item() -> None:
    # root holds bucket -3 whose slot is empty (Ceph would dereference NULL)
    m = _two_level((-2, -3), extra=(None,), rules=(RULE_FIRSTN, RULE_INDEP))
    w = [0x10000] * 3
    sizes = set()
    for x in range(200):
        got = crush_do_rule(m, 0, x, 2, w)
        assert set(got) <= {0, 1, 2}
        sizes.add(len(got))  # a replica that meets the hole is skipped, as a bad item
        indep = crush_do_rule(m, 1, x, 2, w)
        assert len(indep) == 2
        assert set(indep) - {CRUSH_ITEM_NONE} <= {0, 1, 2}
    assert sizes == {0, 1}


def test_invalid_take_maps_to_nothing() -> None:
    bad_takes = (-7, 5, -2 - 100)
    rules = tuple(CrushRule(ruleset=i, type=1, min_size=1, max_size=10, steps=_steps(
        (RuleOp.TAKE, t, 0), (RuleOp.CHOOSELEAF_FIRSTN, 0, 1), (RuleOp.EMIT, 0, 0)))
        for i, t in enumerate(bad_takes))
    m = _two_level((-2,), rules=rules)
    for r in range(len(rules)):
        assert crush_do_rule(m, r, 1, 3, [0x10000] * 3) == []


def test_take_device_and_unknown_ops() -> None:
    rule = CrushRule(ruleset=0, type=1, min_size=1, max_size=10, steps=_steps(
        (RuleOp.NOOP, 0, 0), (99, 1, 2), (RuleOp.TAKE, 2, 0), (RuleOp.EMIT, 0, 0),
        (RuleOp.TAKE, 1, 0), (RuleOp.EMIT, 0, 0)))
    m = _two_level((-2,), rules=(rule,))
    assert crush_do_rule(m, 0, 7, 1, [0]) == [2]  # emit is bounded by result_max
    assert crush_do_rule(m, 0, 7, 5, [0]) == [2, 1]  # take/emit ignore weights


def test_zero_weight_tree_never_returns_garbage() -> None:
    tree = TreeBucket(id=-1, type=1, items=(0, 1, 2), node_weights=(0,) * 8)
    rule = CrushRule(ruleset=0, type=1, min_size=1, max_size=10, steps=_steps(
        (RuleOp.TAKE, -1, 0), (RuleOp.CHOOSE_FIRSTN, 0, 0), (RuleOp.EMIT, 0, 0)))
    m = CrushMap(buckets=(tree,), rules=(rule,), max_devices=3)
    for x in range(100):
        assert set(crush_do_rule(m, 0, x, 3, [0x10000] * 3)) <= {0, 1, 2}


def test_stale_choose_args_are_ignored_for_missing_slots() -> None:
    m = load_map("rules-straw2")
    w = crushtester_weights(m, [])
    args = {-1000: ChooseArg(ids=(1, 2)), 5: ChooseArg(ids=(1,))}
    for x in range(32):
        assert crush_do_rule(m, 0, x, 3, w, args) == crush_do_rule(m, 0, x, 3, w)
    assert crush_do_rule(m, 0, 1, 3, w, {}) == crush_do_rule(m, 0, 1, 3, w)


def test_choose_args_cache_is_keyed_by_identity() -> None:
    m = load_map("choose-args-3")
    w = crushtester_weights(m, [])
    mapper = CrushMapper(m)
    args = m.choose_args[DEFAULT_CHOOSE_ARGS]
    first = [mapper.do_rule(0, x, 3, w, args) for x in range(64)]
    # a different set with the same id() after the first is gone must not be confused
    for _ in range(70):
        other = {k: ChooseArg(weight_set=v.weight_set[::-1], ids=v.ids)
                 for k, v in args.items()}
        mapper.do_rule(0, 1, 3, w, other)
    assert [mapper.do_rule(0, x, 3, w, args) for x in range(64)] == first


def test_mis_sized_choose_args_never_raise() -> None:
    """update_choose_args leaves weight sets alone when their positions disagree with
    the map's; Ceph then reads past them. The mapper pads with zero weights."""
    m = load_map("rules-straw2")
    raw = encode_crush_map(replace(m, choose_args={DEFAULT_CHOOSE_ARGS: {
        -1: ChooseArg(weight_set=((0x10000, 0x10000, 0x10000),)),
        -9: ChooseArg(weight_set=((1, 2, 3, 4, 5), (0x10000,)), ids=()),
    }}))
    decoded = decode_crush_map(raw)
    kept = decoded.choose_args[DEFAULT_CHOOSE_ARGS][-9]
    assert [len(ws) for ws in kept.weight_set] == [5, 1]  # as Ceph leaves them
    w = crushtester_weights(decoded, [])
    for x in range(64):
        assert len(crush_do_rule(decoded, 0, x, 3, w,
                                 decoded.choose_args_get_with_fallback(0))) <= 3
    bad_ids = {-9: ChooseArg(ids=(1, 2, 3))}
    assert crush_do_rule(m, 0, 5, 3, w, bad_ids) == crush_do_rule(m, 0, 5, 3, w)


def test_inputs_are_taken_modulo_2_32() -> None:
    """OSDMap passes the u32 placement seed; C sees it as an int: same result."""
    m = load_map("rules-straw2")
    w = crushtester_weights(m, [])
    for x in (0x80000000, 0xDEADBEEF, 0xFFFFFFFF):
        for rule in (0, 2, 5):
            assert crush_do_rule(m, rule, x, 3, w) == crush_do_rule(m, rule, x - 2**32, 3, w)


def test_a_replaced_map_gets_its_own_compiled_mapper() -> None:
    m = load_map("tunables-argonaut-straw2")
    w = crushtester_weights(m, [])
    before = [crush_do_rule(m, 0, x, 4, w) for x in range(128)]
    jewel = replace(m, tunables=CrushTunables.optimal())
    after = [crush_do_rule(jewel, 0, x, 4, w) for x in range(128)]
    assert before != after
    assert [crush_do_rule(m, 0, x, 4, w) for x in range(128)] == before
