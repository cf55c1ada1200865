"""``CrushWrapper::decode`` / ``encode`` as Pacific does them, byte for byte.

Layout (all little-endian, no struct versioning; later sections are optional and
decoded only while bytes remain, as Ceph's ``if (!blp.end())`` chain does)::

    u32 magic (0x00010000), s32 max_buckets, u32 max_rules, s32 max_devices
    max_buckets x bucket: u32 alg (0 = hole) [s32 id, u16 type, u8 alg, u8 hash,
        u32 weight, u32 size, size x s32 item, per-algorithm arrays]
    max_rules x rule: u32 exists [u32 len, u8 ruleset, u8 type, u8 min_size,
        u8 max_size, len x (u32 op, s32 arg1, s32 arg2)]
    type_map, name_map, rule_name_map: map<s32, string>
    u32 choose_local_tries, u32 choose_local_fallback_tries, u32 choose_total_tries
    u32 chooseleaf_descend_once | u8 chooseleaf_vary_r | u8 straw_calc_version
    u32 allowed_bucket_algs | u8 chooseleaf_stable        (if CRUSH_TUNABLES5)
    class_map map<s32,s32>, class_name map<s32,string>,
    class_bucket map<s32, map<s32,s32>>, choose_args      (if SERVER_LUMINOUS)

``choose_args`` is ``u32 n`` x (s64 index, u32 count, count x (u32 bucket index,
u32 positions, positions x (u32 size, size x u32 weight), u32 ids_size, ids_size x
s32 id)).

Decoding then does what Ceph's decode does after reading: ``update_choose_args``
(drop choose args of buckets that are gone or not straw2; resize mis-sized weight
sets) and ``finalize`` (``max_devices`` grows to cover every device a bucket holds
or the name map names). Encoding takes the peer's features: without
CRUSH_TUNABLES5 there is no ``chooseleaf_stable``; without SERVER_LUMINOUS no classes
or choose args; without CRUSH_CHOOSE_ARGS a single default weight set replaces the
straw2 weights (``encode_compat_choose_args``). The default features are Pacific's
``CEPH_FEATURES_SUPPORTED_DEFAULT``, what crushtool, osdmaptool and ceph-mon write.

Where Ceph would assert or read out of bounds (a choose arg for a bucket slot past
``max_buckets``, ids for a missing bucket or of the wrong length, a bucket whose two
``alg`` fields disagree, a tree bucket with items but fewer than two nodes), decoding
raises :class:`~asyncmsgr.errors.DecodeError`. Every count is checked against the
bytes left before anything is allocated.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from asyncmsgr.crush.map import (
    CRUSH_MAGIC,
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
    Straw2Bucket,
    StrawBucket,
    TreeBucket,
    UniformBucket,
)
from asyncmsgr.errors import DecodeError, EncodeError
from asyncmsgr.features import CEPH_FEATURES_SUPPORTED_DEFAULT, feature_mask, has_feature
from asyncmsgr.types import Buffer
from asyncmsgr.wire.buffer import Reader, Writer

__all__ = [
    "decode_crush_map",
    "encode_crush_map",
    "has_incompat_choose_args",
]

_FEATURE_TUNABLES5_BIT = 1 << 58  # tested as a raw bit, as CrushWrapper::encode does
_FEATUREMASK_LUMINOUS = feature_mask("SERVER_LUMINOUS")
_FEATUREMASK_CHOOSE_ARGS = feature_mask("CRUSH_CHOOSE_ARGS")

_BUCKET_HDR = struct.Struct("<iHBBII")  # id, type, alg, hash, weight, size
_RULE_HDR = struct.Struct("<I4B")  # len, ruleset, type, min_size, max_size
_STEP = struct.Struct("<Iii")


def _u32s(r: Reader, n: int, what: str) -> tuple[int, ...]:
    if n * 4 > r.remaining:
        raise DecodeError(f"{what}: {n} words need {n * 4} bytes, have {r.remaining}")
    return struct.unpack_from(f"<{n}I", r.pull_view(n * 4))


def _s32s(r: Reader, n: int, what: str) -> tuple[int, ...]:
    if n * 4 > r.remaining:
        raise DecodeError(f"{what}: {n} words need {n * 4} bytes, have {r.remaining}")
    return struct.unpack_from(f"<{n}i", r.pull_view(n * 4))


# -- decode ------------------------------------------------------------------------------


def _pull_bucket(r: Reader) -> CrushBucket | None:
    alg = r.pull_u32()
    if alg == 0:
        return None
    if alg not in BucketAlg._value2member_map_:
        raise DecodeError(f"unsupported bucket algorithm: {alg}")
    bid, btype, balg, bhash, weight, size = _BUCKET_HDR.unpack(r.pull_view(_BUCKET_HDR.size))
    if balg != alg:
        raise DecodeError(f"bucket {bid}: algorithm {alg} in the slot, {balg} in the bucket")
    items = _s32s(r, size, f"bucket {bid} items")
    common = {"id": bid, "type": btype, "hash": bhash, "weight": weight, "items": items}
    if alg == BucketAlg.UNIFORM:
        return UniformBucket(item_weight_all=r.pull_u32(), **common)
    if alg == BucketAlg.LIST:
        pairs = _u32s(r, 2 * size, f"list bucket {bid} weights")
        return ListBucket(item_weights=pairs[0::2], sum_weights=pairs[1::2], **common)
    if alg == BucketAlg.TREE:
        num_nodes = r.pull_u8()
        if size and num_nodes < 2:
            raise DecodeError(f"tree bucket {bid}: {size} items but {num_nodes} nodes")
        return TreeBucket(node_weights=_u32s(r, num_nodes, f"tree bucket {bid} nodes"),
                          **common)
    if alg == BucketAlg.STRAW:
        pairs = _u32s(r, 2 * size, f"straw bucket {bid} weights")
        return StrawBucket(item_weights=pairs[0::2], straws=pairs[1::2], **common)
    return Straw2Bucket(item_weights=_u32s(r, size, f"straw2 bucket {bid} weights"),
                        **common)


def _pull_rule(r: Reader) -> CrushRule | None:
    if r.pull_u32() == 0:
        return None
    length, ruleset, rtype, min_size, max_size = _RULE_HDR.unpack(
        r.pull_view(_RULE_HDR.size))
    if length * _STEP.size > r.remaining:
        raise DecodeError(f"rule with {length} steps exceeds the {r.remaining} bytes left")
    raw = r.pull_view(length * _STEP.size)
    steps = tuple(CrushRuleStep(*s) for s in _STEP.iter_unpack(raw))
    return CrushRule(ruleset=ruleset, type=rtype, min_size=min_size, max_size=max_size,
                     steps=steps)


def _pull_32_or_64_string_map(r: Reader) -> dict[int, str]:
    """``decode_32_or_64_string_map``: keys were once encoded as 64 bits; a zero
    "length" is taken as the high half of such a key and the real length follows."""
    n = r.pull_count(8, "name map")
    out: dict[int, str] = {}
    for _ in range(n):
        key = r.pull_s32()
        strlen = r.pull_u32()
        if strlen == 0:
            strlen = r.pull_u32()
        if strlen > r.remaining:
            raise DecodeError(f"name of {key}: {strlen} bytes, have {r.remaining}")
        out[key] = r.pull_bytes(strlen).decode("utf-8", "surrogateescape")
    return out


def _pull_s32_map(r: Reader) -> dict[int, int]:
    n = r.pull_count(8, "map<s32,s32>")
    vals = _s32s(r, 2 * n, "map<s32,s32>")
    return dict(zip(vals[0::2], vals[1::2], strict=True))


def _pull_choose_args(r: Reader, buckets: tuple[CrushBucket | None, ...],
                      ) -> dict[int, dict[int, ChooseArg]]:
    out: dict[int, dict[int, ChooseArg]] = {}
    for _ in range(r.pull_count(12, "choose_args")):
        index = r.pull_s64()
        args: dict[int, ChooseArg] = {}
        for _ in range(r.pull_count(12, "choose_arg_map")):
            bucket_index = r.pull_u32()
            if bucket_index >= len(buckets):
                raise DecodeError(f"choose_args {index}: bucket slot {bucket_index} "
                                  f"beyond max_buckets {len(buckets)}")
            positions = r.pull_count(4, "weight_set")
            weight_set = tuple(_u32s(r, r.pull_u32(), "weight_set weights")
                               for _ in range(positions))
            ids_size = r.pull_u32()
            ids: tuple[int, ...] = ()
            if ids_size:
                bucket = buckets[bucket_index]
                if bucket is None or bucket.size != ids_size:
                    raise DecodeError(f"choose_args {index}: {ids_size} ids for bucket "
                                      f"slot {bucket_index}")
                ids = _s32s(r, ids_size, "choose_arg ids")
            args[-1 - bucket_index] = ChooseArg(weight_set=weight_set, ids=ids)
        out[index] = args
    return out


def _choose_args_positions(args: Mapping[int, ChooseArg], max_buckets: int) -> int:
    """``get_choose_args_positions``: the first bucket's positions, else 1."""
    for bid in sorted(args, reverse=True):
        if -1 - bid < max_buckets and args[bid].weight_set:
            return len(args[bid].weight_set)
    return 1


def _update_choose_args(choose_args: dict[int, dict[int, ChooseArg]],
                        buckets: tuple[CrushBucket | None, ...]) -> None:
    """``CrushWrapper::update_choose_args(nullptr)``, run by decode."""
    for index, args in choose_args.items():
        positions = _choose_args_positions(args, len(buckets))
        fixed: dict[int, ChooseArg] = {}
        for bid, arg in args.items():
            bucket = buckets[-1 - bid]
            if bucket is None or bucket.alg != BucketAlg.STRAW2:
                continue  # stripped: neither ids nor weight sets survive
            kept = arg
            if arg.weight_set and len(arg.weight_set) == positions:
                size = bucket.size
                kept = ChooseArg(
                    weight_set=tuple(ws if len(ws) == size
                                     else (ws + (0,) * size)[:size]
                                     for ws in arg.weight_set),
                    ids=arg.ids)
            if kept.weight_set or kept.ids:
                fixed[bid] = kept
        choose_args[index] = fixed


def decode_crush_map(data: Buffer) -> CrushMap:
    """Decode an encoded crush map (``crushtool -o`` output, the OSDMap's crush
    bufferlist, ``ceph osd getcrushmap``). Raises DecodeError on malformed input."""
    r = Reader(data)
    magic = r.pull_u32()
    if magic != CRUSH_MAGIC:
        raise DecodeError(f"bad crush magic {magic:#x}")
    max_buckets = r.pull_s32()
    max_rules = r.pull_u32()
    max_devices = r.pull_s32()
    if max_buckets < 0 or max_buckets * 4 > r.remaining:
        raise DecodeError(f"max_buckets {max_buckets} with {r.remaining} bytes left")
    buckets = tuple(_pull_bucket(r) for _ in range(max_buckets))
    if max_rules * 4 > r.remaining:
        raise DecodeError(f"max_rules {max_rules} with {r.remaining} bytes left")
    rules = tuple(_pull_rule(r) for _ in range(max_rules))
    type_map = _pull_32_or_64_string_map(r)
    name_map = _pull_32_or_64_string_map(r)
    rule_name_map = _pull_32_or_64_string_map(r)

    t = CrushTunables()
    tun = {name: getattr(t, name) for name in t.__dataclass_fields__}
    if not r.at_end():
        tun["choose_local_tries"] = r.pull_u32()
        tun["choose_local_fallback_tries"] = r.pull_u32()
        tun["choose_total_tries"] = r.pull_u32()
    if not r.at_end():
        tun["chooseleaf_descend_once"] = r.pull_u32()
    if not r.at_end():
        tun["chooseleaf_vary_r"] = r.pull_u8()
    if not r.at_end():
        tun["straw_calc_version"] = r.pull_u8()
    if not r.at_end():
        tun["allowed_bucket_algs"] = r.pull_u32()
    if not r.at_end():
        tun["chooseleaf_stable"] = r.pull_u8()
    class_map: dict[int, int] = {}
    class_name: dict[int, str] = {}
    class_bucket: dict[int, dict[int, int]] = {}
    if not r.at_end():
        class_map = _pull_s32_map(r)
        class_name = r.pull_map(Reader.pull_s32, Reader.pull_string, 8)
        class_bucket = r.pull_map(Reader.pull_s32, _pull_s32_map, 8)
    choose_args: dict[int, dict[int, ChooseArg]] = {}
    if not r.at_end():
        choose_args = _pull_choose_args(r, buckets)
    _update_choose_args(choose_args, buckets)

    # crush_finalize + CrushWrapper::finalize
    for b in buckets:
        if b is not None and b.items:
            max_devices = max(max_devices, max(b.items) + 1)
    if name_map:
        max_devices = max(max_devices, max(name_map) + 1)
    return CrushMap(
        buckets=buckets, rules=rules, max_devices=max_devices, type_map=type_map,
        name_map=name_map, rule_name_map=rule_name_map, tunables=CrushTunables(**tun),
        class_map=class_map, class_name=class_name, class_bucket=class_bucket,
        choose_args=choose_args)


# -- encode ------------------------------------------------------------------------------


def has_incompat_choose_args(m: CrushMap) -> bool:
    """``has_incompat_choose_args``: choose args a pre-Luminous peer cannot be given
    (anything beyond one default set of single-position weight sets)."""
    if not m.choose_args:
        return False
    if len(m.choose_args) > 1 or DEFAULT_CHOOSE_ARGS not in m.choose_args:
        return True
    return any(len(a.weight_set) != 1 or a.ids
               for a in m.choose_args[DEFAULT_CHOOSE_ARGS].values()
               if a.weight_set or a.ids)


def _push_u32s(w: Writer, values: tuple[int, ...] | list[int], what: str) -> None:
    try:
        w.push_bytes(struct.pack(f"<{len(values)}I", *values))
    except struct.error as exc:
        raise EncodeError(f"{what}: {exc}") from exc


def _push_s32s(w: Writer, values: tuple[int, ...] | list[int], what: str) -> None:
    try:
        w.push_bytes(struct.pack(f"<{len(values)}i", *values))
    except struct.error as exc:
        raise EncodeError(f"{what}: {exc}") from exc


def _push_bucket(w: Writer, b: CrushBucket | None, compat: ChooseArgMap | None) -> None:
    if b is None:
        w.push_u32(0)
        return
    alg = int(b.alg)
    w.push_u32(alg)
    try:
        w.push_bytes(_BUCKET_HDR.pack(b.id, b.type, alg, b.hash, b.weight, b.size))
    except struct.error as exc:
        raise EncodeError(f"bucket {b.id}: {exc}") from exc
    _push_s32s(w, b.items, f"bucket {b.id} items")
    if isinstance(b, UniformBucket):
        w.push_u32(b.item_weight_all)
    elif isinstance(b, ListBucket):
        _push_u32s(w, [v for pair in zip(b.item_weights, b.sum_weights, strict=True)
                       for v in pair], f"list bucket {b.id}")
    elif isinstance(b, TreeBucket):
        w.push_u8(b.num_nodes)
        _push_u32s(w, b.node_weights, f"tree bucket {b.id}")
    elif isinstance(b, StrawBucket):
        _push_u32s(w, [v for pair in zip(b.item_weights, b.straws, strict=True)
                       for v in pair], f"straw bucket {b.id}")
    elif isinstance(b, Straw2Bucket):
        weights = b.item_weights
        arg = compat.get(b.id) if compat is not None else None
        if arg is not None and arg.weight_set:
            weights = (arg.weight_set[0] + (0,) * b.size)[:b.size]
        _push_u32s(w, weights, f"straw2 bucket {b.id}")
    else:
        raise EncodeError(f"bucket {b.id}: unknown bucket class {type(b).__name__}")


def _push_rule(w: Writer, rule: CrushRule | None) -> None:
    if rule is None:
        w.push_u32(0)
        return
    w.push_u32(1)
    try:
        w.push_bytes(_RULE_HDR.pack(len(rule.steps), rule.ruleset, rule.type,
                                    rule.min_size, rule.max_size))
        for step in rule.steps:
            w.push_bytes(_STEP.pack(*step))
    except struct.error as exc:
        raise EncodeError(f"rule: {exc}") from exc


def _push_string_map(w: Writer, m: Mapping[int, str]) -> None:
    w.push_u32(len(m))
    for k in sorted(m):
        w.push_s32(k)
        w.push_string(m[k])


def _push_s32_map(w: Writer, m: Mapping[int, int]) -> None:
    w.push_u32(len(m))
    for k in sorted(m):
        w.push_s32(k)
        w.push_s32(m[k])


def _push_choose_args(w: Writer, m: CrushMap) -> None:
    w.push_u32(len(m.choose_args))
    for index in sorted(m.choose_args):
        w.push_s64(index)
        args = m.choose_args[index]
        present = [bid for bid in sorted(args, reverse=True)
                   if args[bid].weight_set or args[bid].ids]
        w.push_u32(len(present))
        for bid in present:
            arg = args[bid]
            w.push_u32(-1 - bid)
            w.push_u32(len(arg.weight_set))
            for ws in arg.weight_set:
                w.push_u32(len(ws))
                _push_u32s(w, ws, f"choose_args {index} bucket {bid}")
            w.push_u32(len(arg.ids))
            _push_s32s(w, arg.ids, f"choose_args {index} bucket {bid} ids")


def encode_crush_map(m: CrushMap, features: int = CEPH_FEATURES_SUPPORTED_DEFAULT) -> bytes:
    """``CrushWrapper::encode(bl, features)``. Raises EncodeError when a value does
    not fit its field, or when choose args cannot be expressed for ``features``."""
    w = Writer()
    w.push_u32(CRUSH_MAGIC)
    w.push_s32(m.max_buckets)
    w.push_u32(m.max_rules)
    w.push_s32(m.max_devices)
    compat: ChooseArgMap | None = None
    if m.choose_args and not has_feature(features, _FEATUREMASK_CHOOSE_ARGS):
        if has_incompat_choose_args(m):
            raise EncodeError("choose_args cannot be encoded without CRUSH_CHOOSE_ARGS")
        compat = m.choose_args[DEFAULT_CHOOSE_ARGS]
    for b in m.buckets:
        _push_bucket(w, b, compat)
    for rule in m.rules:
        _push_rule(w, rule)
    _push_string_map(w, m.type_map)
    _push_string_map(w, m.name_map)
    _push_string_map(w, m.rule_name_map)
    t = m.tunables
    w.push_u32(t.choose_local_tries)
    w.push_u32(t.choose_local_fallback_tries)
    w.push_u32(t.choose_total_tries)
    w.push_u32(t.chooseleaf_descend_once)
    w.push_u8(t.chooseleaf_vary_r)
    w.push_u8(t.straw_calc_version)
    w.push_u32(t.allowed_bucket_algs)
    if features & _FEATURE_TUNABLES5_BIT:
        w.push_u8(t.chooseleaf_stable)
    if has_feature(features, _FEATUREMASK_LUMINOUS):
        _push_s32_map(w, m.class_map)
        w.push_u32(len(m.class_name))
        for k in sorted(m.class_name):
            w.push_s32(k)
            w.push_string(m.class_name[k])
        w.push_u32(len(m.class_bucket))
        for k in sorted(m.class_bucket):
            w.push_s32(k)
            _push_s32_map(w, m.class_bucket[k])
        _push_choose_args(w, m)
    return w.getvalue()
