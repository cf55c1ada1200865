"""crush_do_rule against crushtool's answers stored in ``tests/data/crush``.

``mappings.jsonl.gz`` holds ``crushtool --test --show-mappings`` for x in 0..63 of
every check in :data:`crush_corpus.CORPUS` (the interop test regenerates them over
0..1023 and compares live). The weight vector is crushtool's: 0x10000 for every
device some bucket holds, 0 for the others, ``--weight`` overrides as stored; the
choose args are those crushtool uses (index 0, else the default set -1).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from asyncmsgr.crush.codec import decode_crush_map
from asyncmsgr.crush.map import CRUSH_ITEM_NONE, CrushMap
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
