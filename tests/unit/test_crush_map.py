"""The CrushMap model: rule lookup, choose args, names, hierarchy, tunables.

Locations are checked against ``crushtool --show-location`` (stored in
``tests/data/crush/locations.json``); tunables profiles against the profile
``crushtool --dump`` names (the stored dumps).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from asyncmsgr.crush.codec import decode_crush_map
from asyncmsgr.crush.map import (
    CRUSH_LEGACY_ALLOWED_BUCKET_ALGS,
    CRUSH_RULE_TYPE_ERASURE,
    CRUSH_RULE_TYPE_REPLICATED,
    DEFAULT_CHOOSE_ARGS,
    ChooseArg,
    CrushMap,
    CrushRule,
    CrushRuleStep,
    CrushTunables,
    ListBucket,
    RuleOp,
    Straw2Bucket,
    StrawBucket,
    TreeBucket,
    UniformBucket,
)
from crush_oracle import DATA, load_stored_dumps

LOCATIONS = json.loads((DATA / "locations.json").read_text())


def load(name: str) -> CrushMap:
    return decode_crush_map((DATA / f"{name}.bin").read_bytes())


@pytest.mark.parametrize("name", sorted(LOCATIONS))
def test_full_location_equals_crushtool(name: str) -> None:
    m = load(name)
    for dev, lines in LOCATIONS[name].items():
        assert sorted(m.get_full_location(int(dev)).items()) == [tuple(x) for x in lines]


def test_location_is_ordered_from_the_device_up() -> None:
    m = load("rules-mixed")
    assert m.get_full_location_ordered(4) == [("host", "h1"), ("rack", "rack0"),
                                              ("root", "default")]
    assert m.get_full_location_ordered(-1) == [("rack", "rack0"), ("root", "default")]
    assert m.get_full_location_ordered(-9) == []


def test_parents_skip_shadow_buckets() -> None:
    m = load("classes")
    assert m.get_immediate_parent_id(1) == m.get_item_id("h0")
    assert m.get_parent_of_type(1, 2) == m.get_item_id("rack0")
    assert m.get_parent_of_type(1, 3) == m.get_item_id("default")
    assert m.get_parent_of_type(1, 9) == 0
    assert m.get_immediate_parent_id(m.get_item_id("default") or 0) is None


def test_roots() -> None:
    m = load("classes")
    roots = m.find_roots()
    assert roots == sorted(roots)
    assert m.find_nonshadow_roots() == [m.get_item_id("default")]
    names = {m.get_item_name(r) for r in roots}
    assert names == {"default", "default~hdd", "default~ssd"}


def test_item_presence() -> None:
    m = load("odd-weights-jewel")
    assert all(m.check_item_present(i) for i in range(12))
    assert not m.check_item_present(12)
    assert m.check_item_present(m.get_item_id("hempty") or 0)


def test_names_and_ids() -> None:
    m = load("rules-straw2")
    assert m.get_item_name(3) == "osd.3"
    assert m.get_item_id("osd.3") == 3
    assert m.get_item_id("nope") is None
    assert m.get_type_name(1) == "host"
    assert m.get_type_id("rack") == 2
    assert m.get_type_id("nope") is None
    assert m.get_rule_name(2) == "ec_host"
    assert m.get_rule_id("ec_host") == 2
    assert m.get_rule_id("nope") is None
    assert m.get_class_id("ssd") is None
    c = load("classes")
    assert c.get_class_id("ssd") == 1


def test_bucket_item_weights_per_algorithm() -> None:
    m = load("rules-mixed")
    kinds = {type(b) for b in m.iter_buckets()}
    assert kinds == {UniformBucket, ListBucket, TreeBucket, StrawBucket, Straw2Bucket}
    for b in m.iter_buckets():
        for pos in range(b.size):
            assert m.get_bucket_item_weight(b.id, pos) == b.item_weight(pos)
    with pytest.raises(KeyError):
        m.get_bucket_item_weight(-1, 99)
    with pytest.raises(KeyError):
        m.get_bucket_item_weight(-99, 0)


# -- rules --------------------------------------------------------------------------------


def test_find_rule_matches_ruleset_type_and_size() -> None:
    m = load("rules-straw2")
    assert m.find_rule(0, CRUSH_RULE_TYPE_REPLICATED, 3) == 0
    assert m.find_rule(2, CRUSH_RULE_TYPE_ERASURE, 3) == 2
    assert m.find_rule(2, CRUSH_RULE_TYPE_ERASURE, 20) == 2
    assert m.find_rule(2, CRUSH_RULE_TYPE_ERASURE, 2) == -1  # below min_size 3
    assert m.find_rule(2, CRUSH_RULE_TYPE_ERASURE, 21) == -1  # above max_size 20
    assert m.find_rule(2, CRUSH_RULE_TYPE_REPLICATED, 3) == -1  # wrong type
    assert m.find_rule(0, CRUSH_RULE_TYPE_REPLICATED, 11) == -1
    assert m.find_rule(99, CRUSH_RULE_TYPE_REPLICATED, 3) == -1
    assert not m.has_legacy_rule_ids()


def test_find_rule_with_legacy_rulesets() -> None:
    """crush_find_rule: the first rule of the ruleset whose size range fits."""
    steps = (CrushRuleStep(RuleOp.TAKE, -1), CrushRuleStep(RuleOp.EMIT))
    rules = (
        CrushRule(ruleset=5, type=1, min_size=1, max_size=2, steps=steps),
        CrushRule(ruleset=5, type=1, min_size=3, max_size=10, steps=steps),
        None,
        CrushRule(ruleset=0, type=1, min_size=1, max_size=10, steps=steps),
    )
    m = CrushMap(rules=rules)
    assert m.has_legacy_rule_ids()
    assert m.find_rule(5, 1, 1) == 0
    assert m.find_rule(5, 1, 3) == 1
    assert m.find_rule(5, 1, 11) == -1
    assert m.find_rule(0, 1, 3) == 3
    assert m.find_rule(3, 1, 3) == -1
    assert m.rule_exists(3)
    assert not m.rule_exists(2)
    assert not m.rule_exists(4)
    assert m.get_rule(2) is None


def test_rule_step_fields() -> None:
    step = CrushRuleStep(RuleOp.CHOOSELEAF_FIRSTN, 0, 1)
    assert (step.op, step.arg1, step.arg2) == (6, 0, 1)
    assert "CHOOSELEAF_FIRSTN" in repr(step)
    assert "99" in repr(CrushRuleStep(99))


# -- choose args --------------------------------------------------------------------------


def test_choose_args_fallback() -> None:
    m = load("choose-args-0")
    assert set(m.choose_args) == {DEFAULT_CHOOSE_ARGS, 0, 3}
    assert m.choose_args_get_with_fallback(0) is m.choose_args[0]
    assert m.choose_args_get_with_fallback(3) is m.choose_args[3]
    assert m.choose_args_get_with_fallback(7) is m.choose_args[DEFAULT_CHOOSE_ARGS]
    plain = load("rules-straw2")
    assert plain.choose_args_get_with_fallback(1) is None
    only_pool = replace(plain, choose_args={4: {-9: ChooseArg(ids=(1, 2))}})
    assert only_pool.choose_args_get_with_fallback(5) is None
    assert only_pool.choose_args_get_with_fallback(4) == {-9: ChooseArg(ids=(1, 2))}


# -- tunables -----------------------------------------------------------------------------


def test_profiles_match_crushtool() -> None:
    dumps = load_stored_dumps()
    seen = set()
    for name, dump in dumps.items():
        profile = load(name).tunables.profile
        assert profile == dump["tunables"]["profile"], name
        seen.add(profile)
    assert seen == {"argonaut", "bobtail", "firefly", "hammer", "jewel"}


@pytest.mark.parametrize(("tunables", "profile"), [
    (CrushTunables.legacy(), "argonaut"),
    (CrushTunables.argonaut(), "argonaut"),
    (CrushTunables.bobtail(), "bobtail"),
    (CrushTunables.firefly(), "firefly"),
    (CrushTunables.hammer(), "hammer"),
    (CrushTunables.jewel(), "jewel"),
    (CrushTunables.optimal(), "jewel"),
    (CrushTunables(choose_total_tries=20), "unknown"),
    (replace(CrushTunables.hammer(), allowed_bucket_algs=CRUSH_LEGACY_ALLOWED_BUCKET_ALGS),
     "firefly"),
])
def test_profile_names(tunables: CrushTunables, profile: str) -> None:
    assert tunables.profile == profile


def test_optimal_is_what_pacific_tools_write() -> None:
    assert load("build-straw2").tunables == CrushTunables.optimal()
    assert CrushMap().tunables == CrushTunables.legacy()


def test_list_and_straw_buckets_check_lengths() -> None:
    with pytest.raises(ValueError, match="list"):
        ListBucket(id=-1, type=1, items=(1, 2), item_weights=(1,), sum_weights=(1, 2))
    with pytest.raises(ValueError, match="straw"):
        StrawBucket(id=-1, type=1, items=(1,), item_weights=(1,), straws=())
    with pytest.raises(ValueError, match="straw2"):
        Straw2Bucket(id=-1, type=1, items=(1,), item_weights=())
    tree = TreeBucket(id=-1, type=1, items=(1,), node_weights=(0, 5))
    assert tree.item_weight(0) == 5
    assert tree.num_nodes == 2
    assert TreeBucket(id=-1, type=1, items=(1, 2), node_weights=(0, 5)).item_weight(1) == 0


def test_crush_package_imports_only_layer_zero() -> None:
    """crush/ is a layer-1 sans-I/O package: stdlib plus wire, errors, features, types."""
    import ast  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    import asyncmsgr.crush  # noqa: PLC0415

    allowed = {"asyncmsgr.crush", "asyncmsgr.wire", "asyncmsgr.errors", "asyncmsgr.features",
               "asyncmsgr.types"}
    pkg = Path(asyncmsgr.crush.__file__).parent
    files = sorted(pkg.glob("*.py"))
    assert len(files) >= 8
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name.startswith("asyncmsgr"):
                    assert any(name == a or name.startswith(a + ".") for a in allowed), (
                        f"{path.name} imports {name}")
