"""CRUSH as Ceph Pacific computes it: hashes, the map and its encoding, the mapper.

Sans-I/O (layer 1): imports only the standard library and asyncmsgr's layer 0
(:mod:`asyncmsgr.wire`, :mod:`asyncmsgr.errors`, :mod:`asyncmsgr.features`,
:mod:`asyncmsgr.types`).

For the OSDMap code, the whole placement path is::

    crush = decode_crush_map(osdmap_crush_bufferlist)   # DecodeError on bad input
    ruleno = crush.find_rule(pool.crush_rule, pool.type, pool.size)   # -1: none
    if ruleno >= 0:
        raw = crush_do_rule(crush, ruleno, pps, pool.size, osd_weight,
                            crush.choose_args_get_with_fallback(pool_id))

* ``osd_weight`` is the OSDMap's per-OSD 16.16 weight vector indexed by OSD id
  (0x10000 in, 0 out); OSDs at or past its length count as out.
* The result holds device ids; ``CRUSH_ITEM_NONE`` (0x7fffffff) marks the holes an
  indep (erasure) rule leaves, firstn rules return shorter lists instead.
* ``crush_do_rule`` compiles the map once and caches it on the (immutable)
  :class:`CrushMap`; :class:`CrushMapper` is the same thing held explicitly.
* Names and hierarchy: ``get_item_name``, ``get_item_id``, ``get_type_name``,
  ``get_rule_name``, ``get_bucket``, ``get_immediate_parent_id``,
  ``get_parent_of_type``, ``get_full_location[_ordered]``, ``get_item_class``,
  ``find_roots``/``find_nonshadow_roots``, ``is_shadow_item``; ``dump_crush`` is
  ``ceph osd crush dump``.
* ``encode_crush_map(crush, features)`` writes it back byte for byte (features
  select the sections, as Ceph's encode does).
* Object names hash with ``ceph_str_hash(pool.object_hash, name)``; the placement
  seed with ``crush_hash32_2(CRUSH_HASH_RJENKINS1, stable_mod(ps), pool_id)``.
"""

from asyncmsgr.crush.codec import decode_crush_map, encode_crush_map
from asyncmsgr.crush.dump import dump_crush
from asyncmsgr.crush.hash import (
    CEPH_STR_HASH_LINUX,
    CEPH_STR_HASH_RJENKINS,
    CRUSH_HASH_RJENKINS1,
    ceph_str_hash,
    ceph_str_hash_linux,
    ceph_str_hash_rjenkins,
    crush_hash32,
    crush_hash32_2,
    crush_hash32_3,
    crush_hash32_4,
    crush_hash32_5,
)
from asyncmsgr.crush.map import (
    CRUSH_ITEM_NONE,
    CRUSH_RULE_TYPE_ERASURE,
    CRUSH_RULE_TYPE_REPLICATED,
    DEFAULT_CHOOSE_ARGS,
    BucketAlg,
    ChooseArg,
    ChooseArgMap,
    CrushBucket,
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
from asyncmsgr.crush.mapper import CrushMapper, crush_do_rule

__all__ = [
    "CEPH_STR_HASH_LINUX",
    "CEPH_STR_HASH_RJENKINS",
    "CRUSH_HASH_RJENKINS1",
    "CRUSH_ITEM_NONE",
    "CRUSH_RULE_TYPE_ERASURE",
    "CRUSH_RULE_TYPE_REPLICATED",
    "DEFAULT_CHOOSE_ARGS",
    "BucketAlg",
    "ChooseArg",
    "ChooseArgMap",
    "CrushBucket",
    "CrushMap",
    "CrushMapper",
    "CrushRule",
    "CrushRuleStep",
    "CrushTunables",
    "ListBucket",
    "RuleOp",
    "Straw2Bucket",
    "StrawBucket",
    "TreeBucket",
    "UniformBucket",
    "ceph_str_hash",
    "ceph_str_hash_linux",
    "ceph_str_hash_rjenkins",
    "crush_do_rule",
    "crush_hash32",
    "crush_hash32_2",
    "crush_hash32_3",
    "crush_hash32_4",
    "crush_hash32_5",
    "decode_crush_map",
    "dump_crush",
    "encode_crush_map",
]
