"""The CRUSH map as Ceph Pacific's ``CrushWrapper`` holds it (``crush/crush.h``).

Values only: frozen dataclasses decoded by :mod:`asyncmsgr.crush.codec` and read by
:mod:`asyncmsgr.crush.mapper`. Positions are kept as Ceph keeps them, so a map
re-encodes byte for byte:

* ``CrushMap.buckets[i]`` is the bucket with id ``-1 - i`` (``None`` for a hole);
  ``CrushMap.rules[r]`` is rule ``r`` (``None`` for a hole);
* each bucket is one of :class:`UniformBucket`, :class:`ListBucket`,
  :class:`TreeBucket`, :class:`StrawBucket`, :class:`Straw2Bucket` with its
  algorithm's arrays (weights are 16.16 fixed point: 0x10000 is 1.0);
* names: ``type_map`` (type id -> name), ``name_map`` (item id -> name),
  ``rule_name_map`` (rule id -> name);
* device classes: ``class_map`` (item id -> class id), ``class_name`` (class id ->
  name), ``class_bucket`` (bucket id -> {class id -> shadow bucket id});
* ``choose_args``: choose-args index (a pool id, or ``DEFAULT_CHOOSE_ARGS`` = -1)
  -> {bucket id -> :class:`ChooseArg`} with only the buckets Ceph encodes (those with
  a weight set or ids).

For the OSDMap code (the API kept stable):

* ``CrushMap.find_rule(ruleset, type, size)`` is Pacific's ``CrushWrapper::find_rule``
  (a pool's ``crush_rule`` is a ruleset; the rule must also match the pool type and
  its ``min_size <= size <= max_size``); -1 when nothing matches;
* ``CrushMap.choose_args_get_with_fallback(pool_id)`` gives the choose args a pool
  maps with (its own, else the ``-1`` set, else ``None``);
* ``get_item_name``, ``get_item_id``, ``get_type_name``, ``get_rule_name``,
  ``get_bucket``, ``get_bucket_item_weight``, ``get_immediate_parent_id``,
  ``get_parent_of_type``, ``get_full_location_ordered``, ``get_item_class``,
  ``is_shadow_item``, ``find_roots`` and ``check_item_present`` answer what
  ``osdmaptool`` and ``ceph osd tree`` ask.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CRUSH_ITEM_NONE",
    "CRUSH_ITEM_UNDEF",
    "CRUSH_LEGACY_ALLOWED_BUCKET_ALGS",
    "CRUSH_MAGIC",
    "CRUSH_MAX_DEVICE_WEIGHT",
    "CRUSH_RULE_TYPE_ERASURE",
    "CRUSH_RULE_TYPE_REPLICATED",
    "DEFAULT_CHOOSE_ARGS",
    "BucketAlg",
    "ChooseArg",
    "ChooseArgMap",
    "CrushBucket",
    "CrushMap",
    "CrushRule",
    "CrushRuleStep",
    "CrushTunables",
    "ListBucket",
    "RuleOp",
    "Straw2Bucket",
    "StrawBucket",
    "TreeBucket",
    "UniformBucket",
]

#: ``CRUSH_MAGIC``: the first u32 of an encoded map.
CRUSH_MAGIC = 0x00010000
#: ``CRUSH_ITEM_NONE``: "no item" in an indep (erasure) result, a hole that keeps positions.
CRUSH_ITEM_NONE = 0x7FFFFFFF
#: ``CRUSH_ITEM_UNDEF``: not yet decided (internal to indep mapping).
CRUSH_ITEM_UNDEF = 0x7FFFFFFE
#: A device weight of 1.0 in the mapper's 16.16 ``weights`` vector (fully in).
CRUSH_MAX_DEVICE_WEIGHT = 0x10000
#: ``CrushWrapper::DEFAULT_CHOOSE_ARGS``: the choose args every pool falls back to.
DEFAULT_CHOOSE_ARGS = -1
#: Rule types (``pg_pool_t::TYPE_*``, ``CRUSH_RULE_TYPE_*``).
CRUSH_RULE_TYPE_REPLICATED = 1
CRUSH_RULE_TYPE_ERASURE = 3


class BucketAlg(enum.IntEnum):
    """``CRUSH_BUCKET_*``."""

    UNIFORM = 1
    LIST = 2
    TREE = 3
    STRAW = 4
    STRAW2 = 5


#: ``CRUSH_LEGACY_ALLOWED_BUCKET_ALGS``: uniform, list and straw.
CRUSH_LEGACY_ALLOWED_BUCKET_ALGS = (
    (1 << BucketAlg.UNIFORM) | (1 << BucketAlg.LIST) | (1 << BucketAlg.STRAW))
_HAMMER_ALLOWED_BUCKET_ALGS = CRUSH_LEGACY_ALLOWED_BUCKET_ALGS | (1 << BucketAlg.STRAW2)


class RuleOp(enum.IntEnum):
    """``CRUSH_RULE_*`` step opcodes (Pacific)."""

    NOOP = 0
    TAKE = 1
    CHOOSE_FIRSTN = 2
    CHOOSE_INDEP = 3
    EMIT = 4
    CHOOSELEAF_FIRSTN = 6
    CHOOSELEAF_INDEP = 7
    SET_CHOOSE_TRIES = 8
    SET_CHOOSELEAF_TRIES = 9
    SET_CHOOSE_LOCAL_TRIES = 10
    SET_CHOOSE_LOCAL_FALLBACK_TRIES = 11
    SET_CHOOSELEAF_VARY_R = 12
    SET_CHOOSELEAF_STABLE = 13


# -- buckets -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CrushBucket:
    """``struct crush_bucket``: what every algorithm shares."""

    id: int
    """Negative bucket id (``-1 - index`` in ``CrushMap.buckets``)."""
    type: int
    """Bucket type id (a key of ``type_map``)."""
    hash: int = 0
    """Hash type, ``CRUSH_HASH_RJENKINS1`` (0)."""
    weight: int = 0
    """Total 16.16 weight, as stored (Ceph keeps it, the mapper does not use it)."""
    items: tuple[int, ...] = ()
    """Children: device ids (>= 0) and bucket ids (< 0)."""

    @property
    def alg(self) -> BucketAlg:
        """The bucket algorithm."""
        raise NotImplementedError

    @property
    def size(self) -> int:
        """Number of items."""
        return len(self.items)

    def item_weight(self, pos: int) -> int:
        """``crush_get_bucket_item_weight``: the 16.16 weight of ``items[pos]``."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class UniformBucket(CrushBucket):
    """``crush_bucket_uniform``: items of one weight, chosen by a hashed permutation."""

    item_weight_all: int = 0
    """The weight of each item (``item_weight``)."""

    @property
    def alg(self) -> BucketAlg:
        return BucketAlg.UNIFORM

    def item_weight(self, pos: int) -> int:
        return self.item_weight_all


@dataclass(frozen=True, slots=True, kw_only=True)
class ListBucket(CrushBucket):
    """``crush_bucket_list``: weights and running sums (``sum_weights[i]`` = w0..wi)."""

    item_weights: tuple[int, ...] = ()
    sum_weights: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not len(self.item_weights) == len(self.sum_weights) == len(self.items):
            raise ValueError("list bucket: item_weights/sum_weights/items lengths differ")

    @property
    def alg(self) -> BucketAlg:
        return BucketAlg.LIST

    def item_weight(self, pos: int) -> int:
        return self.item_weights[pos]


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeBucket(CrushBucket):
    """``crush_bucket_tree``: a binary tree of node weights; leaves are odd nodes.

    ``items[i]`` sits at node ``2*i + 1``; ``len(node_weights)`` is ``num_nodes``
    (a u8 in Ceph's encoding).
    """

    node_weights: tuple[int, ...] = ()

    @property
    def alg(self) -> BucketAlg:
        return BucketAlg.TREE

    @property
    def num_nodes(self) -> int:
        """``num_nodes``."""
        return len(self.node_weights)

    def item_weight(self, pos: int) -> int:
        node = (pos << 1) + 1  # crush_calc_tree_node
        return self.node_weights[node] if node < len(self.node_weights) else 0


@dataclass(frozen=True, slots=True, kw_only=True)
class StrawBucket(CrushBucket):
    """``crush_bucket_straw``: item weights and the precomputed straw lengths."""

    item_weights: tuple[int, ...] = ()
    straws: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not len(self.item_weights) == len(self.straws) == len(self.items):
            raise ValueError("straw bucket: item_weights/straws/items lengths differ")

    @property
    def alg(self) -> BucketAlg:
        return BucketAlg.STRAW

    def item_weight(self, pos: int) -> int:
        return self.item_weights[pos]


@dataclass(frozen=True, slots=True, kw_only=True)
class Straw2Bucket(CrushBucket):
    """``crush_bucket_straw2``: item weights; draws use ``crush_ln`` (see mapper)."""

    item_weights: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.item_weights) != len(self.items):
            raise ValueError("straw2 bucket: item_weights/items lengths differ")

    @property
    def alg(self) -> BucketAlg:
        return BucketAlg.STRAW2

    def item_weight(self, pos: int) -> int:
        return self.item_weights[pos]


# -- rules -------------------------------------------------------------------------------


class CrushRuleStep(tuple[int, int, int]):
    """``crush_rule_step``: (op, arg1, arg2). ``op`` may be any u32 (unknown ops are
    kept and ignored by the mapper, as in Ceph)."""

    __slots__ = ()

    def __new__(cls, op: int, arg1: int = 0, arg2: int = 0) -> CrushRuleStep:
        return super().__new__(cls, (op, arg1, arg2))

    @property
    def op(self) -> int:
        """The opcode (compare with :class:`RuleOp`)."""
        return self[0]

    @property
    def arg1(self) -> int:
        """First argument (item for TAKE, count for CHOOSE*, value for SET_*)."""
        return self[1]

    @property
    def arg2(self) -> int:
        """Second argument (the type for CHOOSE*)."""
        return self[2]

    def __repr__(self) -> str:
        try:
            name = RuleOp(self[0]).name
        except ValueError:
            name = str(self[0])
        return f"CrushRuleStep({name}, {self[1]}, {self[2]})"


@dataclass(frozen=True, slots=True, kw_only=True)
class CrushRule:
    """``crush_rule`` with its ``crush_rule_mask`` (Pacific still keeps rulesets)."""

    ruleset: int
    """``mask.ruleset`` (u8); Pacific's tools keep it equal to the rule id."""
    type: int
    """``mask.type`` (u8): CRUSH_RULE_TYPE_REPLICATED (1) or _ERASURE (3), or other."""
    min_size: int
    """``mask.min_size`` (u8)."""
    max_size: int
    """``mask.max_size`` (u8)."""
    steps: tuple[CrushRuleStep, ...] = ()


# -- tunables ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CrushTunables:
    """The tunables of ``struct crush_map`` (defaults: ``set_tunables_legacy``, what a
    map without the tunables sections decodes to)."""

    choose_local_tries: int = 2
    choose_local_fallback_tries: int = 5
    choose_total_tries: int = 19
    chooseleaf_descend_once: int = 0
    chooseleaf_vary_r: int = 0
    chooseleaf_stable: int = 0
    straw_calc_version: int = 0
    allowed_bucket_algs: int = CRUSH_LEGACY_ALLOWED_BUCKET_ALGS

    @classmethod
    def argonaut(cls) -> CrushTunables:
        """``set_tunables_argonaut`` (straw_calc_version left at 0)."""
        return cls()

    @classmethod
    def legacy(cls) -> CrushTunables:
        """``set_tunables_legacy``: argonaut with straw_calc_version 0."""
        return cls()

    @classmethod
    def bobtail(cls) -> CrushTunables:
        """``set_tunables_bobtail``."""
        return cls(choose_local_tries=0, choose_local_fallback_tries=0,
                   choose_total_tries=50, chooseleaf_descend_once=1)

    @classmethod
    def firefly(cls) -> CrushTunables:
        """``set_tunables_firefly``."""
        return cls(choose_local_tries=0, choose_local_fallback_tries=0,
                   choose_total_tries=50, chooseleaf_descend_once=1, chooseleaf_vary_r=1)

    @classmethod
    def hammer(cls) -> CrushTunables:
        """``set_tunables_hammer``: firefly plus straw2 allowed."""
        return cls(choose_local_tries=0, choose_local_fallback_tries=0,
                   choose_total_tries=50, chooseleaf_descend_once=1, chooseleaf_vary_r=1,
                   allowed_bucket_algs=_HAMMER_ALLOWED_BUCKET_ALGS)

    @classmethod
    def jewel(cls) -> CrushTunables:
        """``set_tunables_jewel``: hammer plus chooseleaf_stable."""
        return cls(choose_local_tries=0, choose_local_fallback_tries=0,
                   choose_total_tries=50, chooseleaf_descend_once=1, chooseleaf_vary_r=1,
                   chooseleaf_stable=1, allowed_bucket_algs=_HAMMER_ALLOWED_BUCKET_ALGS)

    @classmethod
    def optimal(cls) -> CrushTunables:
        """``set_tunables_optimal`` / ``_default``: jewel with straw_calc_version 1
        (what crushtool --build, osdmaptool --createsimple and ceph-mon write)."""
        return cls(choose_local_tries=0, choose_local_fallback_tries=0,
                   choose_total_tries=50, chooseleaf_descend_once=1, chooseleaf_vary_r=1,
                   chooseleaf_stable=1, straw_calc_version=1,
                   allowed_bucket_algs=_HAMMER_ALLOWED_BUCKET_ALGS)

    def _base(self, total: int, descend: int, vary_r: int, stable: int) -> bool:
        return (self.choose_local_tries == (2 if total == 19 else 0)
                and self.choose_local_fallback_tries == (5 if total == 19 else 0)
                and self.choose_total_tries == total
                and self.chooseleaf_descend_once == descend
                and self.chooseleaf_vary_r == vary_r
                and self.chooseleaf_stable == stable)

    @property
    def profile(self) -> str:
        """``CrushWrapper::dump_tunables``' "profile": the release whose tunables these
        are (argonaut, bobtail, firefly, hammer, jewel) or "unknown"."""
        hammer_algs = self.allowed_bucket_algs == _HAMMER_ALLOWED_BUCKET_ALGS
        legacy_algs = self.allowed_bucket_algs == CRUSH_LEGACY_ALLOWED_BUCKET_ALGS
        if self._base(19, 0, 0, 0) and legacy_algs:
            return "argonaut"
        if self._base(50, 1, 0, 0) and legacy_algs:
            return "bobtail"
        if self._base(50, 1, 1, 0) and legacy_algs:
            return "firefly"
        if self._base(50, 1, 1, 0) and hammer_algs:
            return "hammer"
        if self._base(50, 1, 1, 1) and hammer_algs:
            return "jewel"
        return "unknown"


# -- choose args -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ChooseArg:
    """``crush_choose_arg`` of one straw2 bucket.

    ``weight_set[p]`` replaces the bucket's item weights when choosing replica
    position ``p`` (the last set serves every later position); ``ids`` replaces the
    item ids fed to the hash. Empty means "not overridden".
    """

    weight_set: tuple[tuple[int, ...], ...] = ()
    ids: tuple[int, ...] = ()


#: One choose-args set: bucket id -> its ChooseArg.
ChooseArgMap = Mapping[int, ChooseArg]


# -- the map -----------------------------------------------------------------------------


def _empty_map() -> dict[Any, Any]:
    return {}


@dataclass(frozen=True, slots=True, kw_only=True)
class CrushMap:
    """``CrushWrapper``: the crush_map plus names, classes and choose args.

    ``max_devices`` is kept as decoded (``crush_finalize`` and ``CrushWrapper::
    finalize`` raise it to cover every device in a bucket or named).
    """

    buckets: tuple[CrushBucket | None, ...] = ()
    rules: tuple[CrushRule | None, ...] = ()
    max_devices: int = 0
    type_map: Mapping[int, str] = field(default_factory=_empty_map)
    name_map: Mapping[int, str] = field(default_factory=_empty_map)
    rule_name_map: Mapping[int, str] = field(default_factory=_empty_map)
    tunables: CrushTunables = field(default_factory=CrushTunables)
    class_map: Mapping[int, int] = field(default_factory=_empty_map)
    class_name: Mapping[int, str] = field(default_factory=_empty_map)
    class_bucket: Mapping[int, Mapping[int, int]] = field(default_factory=_empty_map)
    choose_args: Mapping[int, ChooseArgMap] = field(default_factory=_empty_map)
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False,
                                   compare=False, hash=False)

    # -- sizes and lookups ------------------------------------------------------------

    @property
    def max_buckets(self) -> int:
        """``max_buckets``: bucket slots (holes included)."""
        return len(self.buckets)

    @property
    def max_rules(self) -> int:
        """``max_rules``: rule slots (holes included)."""
        return len(self.rules)

    def cached(self, key: str) -> Any:
        """Derived data computed once per map (used by the mapper); None if absent."""
        return self._cache.get(key)

    def set_cached(self, key: str, value: Any) -> None:
        """Remember derived data for this (immutable) map."""
        self._cache[key] = value

    def get_bucket(self, bucket_id: int) -> CrushBucket | None:
        """The bucket with this (negative) id, or None."""
        idx = -1 - bucket_id
        if 0 <= idx < len(self.buckets):
            return self.buckets[idx]
        return None

    def bucket_exists(self, bucket_id: int) -> bool:
        """``bucket_exists``."""
        return self.get_bucket(bucket_id) is not None

    def iter_buckets(self) -> Iterator[CrushBucket]:
        """Every bucket, in slot order (id -1, -2, ...)."""
        return (b for b in self.buckets if b is not None)

    def rule_exists(self, ruleno: int) -> bool:
        """``rule_exists``."""
        return 0 <= ruleno < len(self.rules) and self.rules[ruleno] is not None

    def get_rule(self, ruleno: int) -> CrushRule | None:
        """Rule ``ruleno`` or None."""
        return self.rules[ruleno] if 0 <= ruleno < len(self.rules) else None

    def find_rule(self, ruleset: int, rule_type: int, size: int) -> int:
        """``CrushWrapper::find_rule`` (Pacific): the first rule whose mask matches
        ``ruleset``, ``rule_type`` and ``min_size <= size <= max_size``; -1 if none.

        (Pacific's shortcut for maps whose rule ids equal their rulesets gives the
        same answer as this scan, ``crush_find_rule``.)
        """
        for i, rule in enumerate(self.rules):
            if (rule is not None and rule.ruleset == ruleset and rule.type == rule_type
                    and rule.min_size <= size <= rule.max_size):
                return i
        return -1

    def has_legacy_rule_ids(self) -> bool:
        """``has_legacy_rule_ids``: some rule's ruleset differs from its id."""
        return any(r is not None and r.ruleset != i for i, r in enumerate(self.rules))

    def choose_args_get_with_fallback(self, index: int) -> ChooseArgMap | None:
        """``choose_args_get_with_fallback``: the set for ``index`` (a pool id), else
        the ``DEFAULT_CHOOSE_ARGS`` (-1) set, else None (plain bucket weights)."""
        found = self.choose_args.get(index)
        if found is None:
            found = self.choose_args.get(DEFAULT_CHOOSE_ARGS)
        return found

    # -- names ------------------------------------------------------------------------

    def get_item_name(self, item: int) -> str | None:
        """``get_item_name``: a device's or bucket's name, or None."""
        return self.name_map.get(item)

    def get_item_id(self, name: str) -> int | None:
        """``get_item_id``: the id named ``name``, or None."""
        rmap: dict[str, int] | None = self.cached("name_rmap")
        if rmap is None:
            rmap = {v: k for k, v in self.name_map.items()}
            self.set_cached("name_rmap", rmap)
        return rmap.get(name)

    def get_type_name(self, type_id: int) -> str | None:
        """``get_type_name``."""
        return self.type_map.get(type_id)

    def get_type_id(self, name: str) -> int | None:
        """``get_type_id``: the type id named ``name``, or None."""
        for k, v in self.type_map.items():
            if v == name:
                return k
        return None

    def get_rule_name(self, ruleno: int) -> str | None:
        """``get_rule_name``."""
        return self.rule_name_map.get(ruleno)

    def get_rule_id(self, name: str) -> int | None:
        """``get_rule_id``: the rule named ``name``, or None."""
        for k, v in self.rule_name_map.items():
            if v == name:
                return k
        return None

    def is_shadow_item(self, item: int) -> bool:
        """``is_shadow_item``: a per-class shadow bucket (its name has a '~')."""
        name = self.name_map.get(item)
        return name is not None and "~" in name

    # -- device classes ---------------------------------------------------------------

    def get_item_class_id(self, item: int) -> int | None:
        """``get_item_class_id``."""
        return self.class_map.get(item)

    def get_item_class(self, item: int) -> str | None:
        """``get_item_class``: the class name of a device (or shadow bucket)."""
        cid = self.class_map.get(item)
        return None if cid is None else self.class_name.get(cid)

    def get_class_id(self, name: str) -> int | None:
        """``get_class_id``."""
        for k, v in self.class_name.items():
            if v == name:
                return k
        return None

    # -- hierarchy --------------------------------------------------------------------

    def get_bucket_item_weight(self, bucket_id: int, pos: int) -> int:
        """``get_bucket_item_weight`` (16.16)."""
        b = self.get_bucket(bucket_id)
        if b is None or not 0 <= pos < b.size:
            raise KeyError((bucket_id, pos))
        return b.item_weight(pos)

    def _parents(self) -> dict[int, int]:
        """item -> first non-shadow bucket (in slot order) holding it."""
        parents: dict[int, int] | None = self.cached("parents")
        if parents is None:
            parents = {}
            for b in self.iter_buckets():
                if self.is_shadow_item(b.id):
                    continue
                for item in b.items:
                    parents.setdefault(item, b.id)
            self.set_cached("parents", parents)
        return parents

    def _present(self) -> frozenset[int]:
        present: frozenset[int] | None = self.cached("present")
        if present is None:
            present = frozenset(item for b in self.iter_buckets() for item in b.items)
            self.set_cached("present", present)
        return present

    def check_item_present(self, item: int) -> bool:
        """``check_item_present``: some bucket (shadow ones included) holds ``item``."""
        return item in self._present()

    def get_immediate_parent_id(self, item: int) -> int | None:
        """``get_immediate_parent_id``: the first non-shadow bucket, in slot order,
        holding ``item``; None if there is none."""
        return self._parents().get(item)

    def get_full_location_ordered(self, item: int) -> list[tuple[str, str]]:
        """``get_full_location_ordered``: [(type name, bucket name)] from the
        immediate parent up to the root."""
        path: list[tuple[str, str]] = []
        seen = {item}
        cur = self.get_immediate_parent_id(item)
        while cur is not None and cur not in seen:
            seen.add(cur)
            b = self.get_bucket(cur)
            name = self.name_map.get(cur)
            if b is None or name is None:
                break
            path.append((self.type_map.get(b.type, ""), name))
            cur = self.get_immediate_parent_id(cur)
        return path

    def get_full_location(self, item: int) -> dict[str, str]:
        """``get_full_location``: {type name: bucket name} of every ancestor."""
        return dict(self.get_full_location_ordered(item))

    def get_parent_of_type(self, item: int, type_id: int) -> int:
        """``get_parent_of_type`` (rule -1): the nearest ancestor of that type, or 0."""
        seen = {item}
        cur = self.get_immediate_parent_id(item)
        while cur is not None and cur not in seen:
            seen.add(cur)
            b = self.get_bucket(cur)
            if b is None:
                break
            if b.type == type_id:
                return cur
            cur = self.get_immediate_parent_id(cur)
        return 0

    def find_roots(self) -> list[int]:
        """``find_roots``: buckets no bucket holds (shadow roots included), ascending
        as Ceph's ``set<int>``."""
        present = self._present()
        return sorted(b.id for b in self.iter_buckets() if b.id not in present)

    def find_nonshadow_roots(self) -> list[int]:
        """``find_nonshadow_roots``: the roots ``ceph osd tree`` shows."""
        return [r for r in self.find_roots() if not self.is_shadow_item(r)]
