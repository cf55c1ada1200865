"""CrushWrapper::decode/encode against Ceph's own bytes and views.

* every corpus map (written by crushtool) re-encodes byte for byte;
* crafted encodings (``tests/data/crush/reencode``) re-encode exactly as Ceph's
  decode + encode does (crushtool wrote the ``.ceph`` files): choose args stripped
  from non-straw2 buckets, mis-sized weight sets resized, ``max_devices`` raised to
  cover names and items, every older (shorter) encoding completed with defaults;
* ``dump_crush`` equals ``crushtool --dump`` for every corpus map (every field of
  the decoded map, as Ceph sees it);
* feature-dependent encodings; malformed input raises DecodeError only.
"""

from __future__ import annotations

import random
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from asyncmsgr.crush.codec import decode_crush_map, encode_crush_map, has_incompat_choose_args
from asyncmsgr.crush.dump import dump_crush
from asyncmsgr.crush.map import (
    CRUSH_MAGIC,
    DEFAULT_CHOOSE_ARGS,
    BucketAlg,
    ChooseArg,
    CrushMap,
    CrushTunables,
    Straw2Bucket,
)
from asyncmsgr.errors import DecodeError, EncodeError
from asyncmsgr.features import CEPH_FEATURES_SUPPORTED_DEFAULT
from crush_oracle import DATA, load_stored_dumps

CORPUS_FILES = sorted(DATA.glob("*.bin"))
REENCODE = DATA / "reencode"
DUMPS = load_stored_dumps()
TUNABLES5 = 1 << 58
LUMINOUS = (1 << 21) | (1 << 57)


def _load(name: str) -> bytes:
    return (DATA / f"{name}.bin").read_bytes()


def test_corpus_present() -> None:
    assert len(CORPUS_FILES) >= 20
    assert len(list(REENCODE.glob("*.in"))) >= 10


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.stem)
def test_corpus_maps_reencode_byte_identical(path: Path) -> None:
    data = path.read_bytes()
    assert encode_crush_map(decode_crush_map(data)) == data
    assert encode_crush_map(decode_crush_map(bytearray(data))) == data
    assert encode_crush_map(decode_crush_map(memoryview(data))) == data


@pytest.mark.parametrize("path", sorted(REENCODE.glob("*.in")), ids=lambda p: p.stem)
def test_reencoding_normalises_like_ceph(path: Path) -> None:
    ceph = path.with_suffix(".ceph").read_bytes()
    assert encode_crush_map(decode_crush_map(path.read_bytes())) == ceph


@pytest.mark.parametrize("name", sorted(DUMPS))
def test_dump_equals_crushtool_dump(name: str) -> None:
    assert dump_crush(decode_crush_map(_load(name))) == DUMPS[name]


def test_decoded_fields() -> None:
    m = decode_crush_map(_load("choose-args-3"))
    assert m.max_buckets == 16  # crushtool grows the bucket array in steps
    assert len(list(m.iter_buckets())) == 9
    assert m.max_rules == 13
    assert m.max_devices == 18
    assert m.type_map == {0: "osd", 1: "host", 2: "rack", 3: "root"}
    assert m.get_item_name(-9) == "default"
    assert m.get_item_id("h3") == -4
    assert m.tunables == CrushTunables.optimal()
    root = m.get_bucket(-9)
    assert isinstance(root, Straw2Bucket)
    assert root.items == (-7, -8)
    ca = m.choose_args[DEFAULT_CHOOSE_ARGS]
    assert set(ca) == {-1, -4, -7, -9}
    assert ca[-4] == ChooseArg(ids=(7, 8, 9))
    assert ca[-9].ids == (-100, -200)
    assert ca[-9].weight_set == ((0x10000, 0x50000), (0x30000, 0x10000), (0x10000, 0x10000))
    rule = m.get_rule(2)
    assert rule is not None
    assert (rule.ruleset, rule.type, rule.min_size, rule.max_size) == (2, 3, 3, 20)


def test_classes_decoded() -> None:
    m = decode_crush_map(_load("classes"))
    assert m.class_name == {0: "hdd", 1: "ssd"}
    assert m.get_item_class(1) == "ssd"
    assert m.get_item_class(0) == "hdd"
    # every real bucket has one shadow per class, named NAME~CLASS
    for bid, per_class in m.class_bucket.items():
        for cid, shadow in per_class.items():
            assert m.get_item_name(shadow) == f"{m.get_item_name(bid)}~{m.class_name[cid]}"
            assert m.is_shadow_item(shadow)
            assert m.get_item_class_id(shadow) == cid


# -- feature-dependent encodings ------------------------------------------------------


def test_encoding_without_tunables5_or_luminous() -> None:
    data = _load("rules-straw2")
    m = decode_crush_map(data)
    assert encode_crush_map(m, CEPH_FEATURES_SUPPORTED_DEFAULT & ~LUMINOUS) == data[:-16]
    old = CEPH_FEATURES_SUPPORTED_DEFAULT & ~LUMINOUS & ~TUNABLES5
    assert encode_crush_map(m, old) == data[:-17]
    back = decode_crush_map(data[:-17])
    assert back.tunables == replace(m.tunables, chooseleaf_stable=0)


def test_compat_choose_args_replace_straw2_weights() -> None:
    m = decode_crush_map(_load("rules-straw2"))
    ws = (0x1000, 0x2000)
    m2 = replace(m, choose_args={DEFAULT_CHOOSE_ARGS: {-9: ChooseArg(weight_set=(ws,))}})
    assert not has_incompat_choose_args(m2)
    pre_luminous = CEPH_FEATURES_SUPPORTED_DEFAULT & ~LUMINOUS
    old = decode_crush_map(encode_crush_map(m2, pre_luminous))
    root = old.get_bucket(-9)
    assert isinstance(root, Straw2Bucket)
    assert root.item_weights == ws
    assert not old.choose_args
    # everything else is untouched
    assert old.get_bucket(-1) == m.get_bucket(-1)


@pytest.mark.parametrize("choose_args", [
    {DEFAULT_CHOOSE_ARGS: {-9: ChooseArg(weight_set=((1, 2), (3, 4)))}},
    {DEFAULT_CHOOSE_ARGS: {-9: ChooseArg(ids=(1, 2))}},
    {3: {-9: ChooseArg(weight_set=((1, 2),))}},
    {DEFAULT_CHOOSE_ARGS: {}, 3: {}},
])
def test_incompat_choose_args_cannot_go_to_old_peers(
        choose_args: dict[int, dict[int, ChooseArg]]) -> None:
    m = replace(decode_crush_map(_load("rules-straw2")), choose_args=choose_args)
    assert has_incompat_choose_args(m)
    with pytest.raises(EncodeError):
        encode_crush_map(m, CEPH_FEATURES_SUPPORTED_DEFAULT & ~LUMINOUS)
    encode_crush_map(m)  # fine for Luminous and later


def test_encode_rejects_values_that_do_not_fit() -> None:
    m = decode_crush_map(_load("rules-straw2"))
    b = m.buckets[0]
    assert isinstance(b, Straw2Bucket)
    bad = replace(b, item_weights=(1 << 32, 1, 1))
    with pytest.raises(EncodeError):
        encode_crush_map(replace(m, buckets=(bad, *m.buckets[1:])))
    with pytest.raises(EncodeError):
        encode_crush_map(replace(m, tunables=replace(m.tunables, chooseleaf_vary_r=256)))


def test_empty_map_roundtrip() -> None:
    m = CrushMap()
    data = encode_crush_map(m)
    assert data[:4] == struct.pack("<I", CRUSH_MAGIC)
    assert decode_crush_map(data) == m


# -- malformed input --------------------------------------------------------------------


def _decode_or_error(data: bytes) -> CrushMap | None:
    try:
        return decode_crush_map(data)
    except DecodeError:
        return None


@pytest.mark.parametrize("name", ["choose-args-3", "classes", "rules-mixed", "build-tree"])
def test_every_truncation_is_a_decode_error_or_a_shorter_map(name: str) -> None:
    data = _load(name)
    ok = 0
    for n in range(len(data)):
        m = _decode_or_error(data[:n])
        if m is not None:
            ok += 1
            encode_crush_map(m)  # anything decoded can be encoded
    assert ok < 12  # only the optional-section boundaries decode


@pytest.mark.parametrize("name", ["choose-args-3", "classes", "rules-mixed"])
def test_corrupted_bytes_raise_only_decode_errors(name: str) -> None:
    data = _load(name)
    rng = random.Random(name)
    for _ in range(400):
        buf = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        m = _decode_or_error(bytes(buf))
        if m is not None:
            encode_crush_map(m)


def _header(max_buckets: int, max_rules: int = 0, max_devices: int = 0) -> bytes:
    return struct.pack("<IiIi", CRUSH_MAGIC, max_buckets, max_rules, max_devices)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "u32"),
    (struct.pack("<IiIi", 0x12345678, 0, 0, 0), "magic"),
    (_header(-1), "max_buckets"),
    (_header(0x7FFFFFFF), "max_buckets"),
    (_header(0, 0xFFFFFFFF), "max_rules"),
    (_header(1) + struct.pack("<I", 9), "unsupported bucket algorithm"),
    # slot says straw2, bucket says uniform
    (_header(1) + struct.pack("<IiHBBII", 5, -1, 1, 1, 0, 0, 0), "algorithm"),
    # a bucket claiming 2**30 items
    (_header(1) + struct.pack("<IiHBBII", 5, -1, 1, 5, 0, 0, 1 << 30), "items"),
    # a tree bucket with an item but no nodes
    (_header(1) + struct.pack("<IiHBBIIiB", 3, -1, 1, 3, 0, 0, 1, 0, 0), "nodes"),
    # a rule claiming 2**28 steps
    (_header(0, 1) + struct.pack("<II4B", 1, 1 << 28, 0, 1, 1, 10), "steps"),
    # a name map claiming 2**31 entries
    (_header(0) + struct.pack("<I", 1 << 31), "name map"),
])
def test_malformed_headers(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_crush_map(data)


def _with_choose_args(body: bytes) -> bytes:
    """rules-straw2 (9 buckets, no classes) with ``body`` as its choose_args section."""
    data = _load("rules-straw2")
    return data[:-4] + body


@pytest.mark.parametrize(("body", "message"), [
    # a choose arg for bucket slot 1000
    (struct.pack("<IqIIII", 1, -1, 1, 1000, 0, 0), "beyond max_buckets"),
    # ids of the wrong length for bucket -9 (2 items)
    (struct.pack("<IqIIIIii", 1, -1, 1, 8, 0, 1, 5, 6)[:-4], "ids"),
    # a weight set claiming 2**30 weights
    (struct.pack("<IqIIII", 1, -1, 1, 8, 1, 1 << 30), "weight_set"),
    (struct.pack("<I", 1 << 30), "choose_args"),
])
def test_malformed_choose_args(body: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_crush_map(_with_choose_args(body))


def test_ids_for_a_missing_bucket() -> None:
    m = decode_crush_map(_load("rules-straw2"))
    holed = replace(m, buckets=(None, *m.buckets[1:]))
    data = encode_crush_map(holed)[:-4] + struct.pack("<IqIIIIii", 1, -1, 1, 0, 0, 2, 1, 2)
    with pytest.raises(DecodeError, match="ids"):
        decode_crush_map(data)


def test_64_bit_name_keys_are_read_like_ceph() -> None:
    """decode_32_or_64_string_map: a zero length is the high half of a 64-bit key."""
    tail = _load("build-odd")
    m = decode_crush_map(tail)
    plain = encode_crush_map(m)
    # rebuild the type map with 64-bit keys
    old_types = struct.pack("<I", len(m.type_map)) + b"".join(
        struct.pack("<iI", k, len(v)) + v.encode() for k, v in sorted(m.type_map.items()))
    wide = struct.pack("<I", len(m.type_map)) + b"".join(
        struct.pack("<iII", k, 0, len(v)) + v.encode() for k, v in sorted(m.type_map.items()))
    assert old_types in plain
    converted = plain.replace(old_types, wide, 1)
    again = decode_crush_map(converted)
    assert again.type_map == m.type_map
    assert encode_crush_map(again) == plain


def test_bucket_alg_property() -> None:
    m = decode_crush_map(_load("rules-mixed"))
    algs = [b.alg for b in m.iter_buckets()]
    assert set(algs) == set(BucketAlg)
