"""Ceph's own tools and library as oracles for :mod:`asyncmsgr.crush`.

Used two ways:

* by ``tests/interop/test_crush_oracle.py``, which regenerates every answer with the
  installed Pacific tools and compares it with what is stored and with asyncmsgr;
* as a script, ``python tests/crush_oracle.py``, which rewrites the stored answers
  under ``tests/data/crush/`` (the unit tests read them without any Ceph binary).

Oracles: ``libceph-common.so.2`` through ctypes for the hashes (``crush_hash32*`` are
exported C symbols, ``ceph_str_hash_*`` C++ ones), and ``osdmaptool
--test-map-object`` on a map whose pool has ``pg_num`` = 2**30, which prints the
low 30 bits of an object name's hash (``ceph_stable_mod`` with a power-of-two
``pg_num`` is a mask).
"""

from __future__ import annotations

import ctypes
import gzip
import json
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from asyncmsgr.crush.codec import decode_crush_map, encode_crush_map
from asyncmsgr.crush.map import ChooseArg, CrushMap
from asyncmsgr.wire.crc32c import ceph_crc32c
from crush_corpus import CORPUS, MapCase

DATA = Path(__file__).resolve().parent / "data" / "crush"
LIBCEPH_COMMON = Path("/usr/lib/x86_64-linux-gnu/ceph/libceph-common.so.2")

#: Object names whose hashes are stored: every tail length of lookup2 (0..11) around
#: one, two and three 12-byte blocks, bytes above 0x7f, and names rados uses.
STR_NAMES: list[bytes] = (
    [bytes(range(97, 97 + n)) for n in range(40)]
    + [b"myobj", b"benchmark_last_metadata", b"rbd_directory", b"rbd_header.10074b0dc51",
       "ünïcødé-名前".encode(), bytes(range(0x80, 0x100)), b"\x00", b"\xff" * 13,
       b"ns\x1fobject", b"x" * 200]
)
#: Names given to osdmaptool (argv: no NUL bytes, valid text).
TOOL_NAMES: list[str] = ["myobj", "a", "abcdefghijk", "abcdefghijkl", "abcdefghijklm",
                         "benchmark_last_metadata", "rbd_directory", "obj-0", "obj-1",
                         "ünïcødé", "x" * 100]

_U32 = 0xFFFFFFFF
#: Arguments of the stored crush_hash32_N vectors (negative = bucket ids, as C casts).
HASH_INPUTS: list[int] = [0, 1, 2, 3, 7, 1023, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
                          -1, -2, -3, -42, 1315423911, 0xDEADBEEF, 123456789]


def have_libceph_common() -> bool:
    """True when Ceph's shared library is installed (ceph-common)."""
    return LIBCEPH_COMMON.exists()


def _lib() -> ctypes.CDLL:
    return ctypes.CDLL(str(LIBCEPH_COMMON))


def lib_crush_hash(n: int) -> Callable[..., int]:
    """Ceph's ``crush_hash32[_n](CRUSH_HASH_RJENKINS1, ...)``."""
    fn = getattr(_lib(), "crush_hash32" if n == 1 else f"crush_hash32_{n}")
    fn.restype = ctypes.c_uint32
    fn.argtypes = [ctypes.c_int] + [ctypes.c_uint32] * n

    def call(*args: int) -> int:
        return int(fn(0, *(a & _U32 for a in args)))
    return call


def lib_str_hash(kind: str) -> Callable[[bytes], int]:
    """Ceph's ``ceph_str_hash_rjenkins`` or ``ceph_str_hash_linux`` (C++ symbols)."""
    symbol = {"rjenkins": "_Z22ceph_str_hash_rjenkinsPKcj",
              "linux": "_Z19ceph_str_hash_linuxPKcj"}[kind]
    fn = getattr(_lib(), symbol)
    fn.restype = ctypes.c_uint32
    fn.argtypes = [ctypes.c_char_p, ctypes.c_uint]

    def call(data: bytes) -> int:
        return int(fn(data, len(data)))
    return call


def hash_inputs(n: int) -> list[tuple[int, ...]]:
    """Deterministic argument tuples for crush_hash32_n."""
    vals = HASH_INPUTS
    out = [tuple(vals[(i + j * 5) % len(vals)] for j in range(n)) for i in range(len(vals))]
    out += [tuple((i * 2654435761 + j * 40503) & _U32 for j in range(n)) for i in range(8)]
    return out


def lib_hash_vectors() -> dict[str, Any]:
    """Every stored hash vector, computed by libceph-common."""
    out: dict[str, Any] = {}
    for n in range(1, 6):
        fn = lib_crush_hash(n)
        out[f"crush_hash32_{n}"] = [[*args, fn(*args)] for args in hash_inputs(n)]
    for kind in ("rjenkins", "linux"):
        sfn = lib_str_hash(kind)
        out[f"str_{kind}"] = [[name.hex(), sfn(name)] for name in STR_NAMES]
    return out


# -- osdmaptool --------------------------------------------------------------------------


def _fix_osdmap_crc(data: bytearray) -> None:
    """Recompute the trailing crc of a full OSDMap (crc32c(-1) of everything before it)."""
    struct.pack_into("<I", data, len(data) - 4, ceph_crc32c(_U32, bytes(data[:-4])))


def osdmap_with_object_hash(workdir: Path, object_hash: int) -> Path:
    """``osdmaptool --createsimple 1 --pg-bits 30`` with pool 1's object_hash patched."""
    path = workdir / f"om-hash{object_hash}"
    subprocess.run(["osdmaptool", "--createsimple", "1", "--pg-bits", "30",
                    "--with-default-pool", "--clobber", str(path)],
                   check=True, capture_output=True)
    data = bytearray(path.read_bytes())
    # pg_pool_t starts: u8 type=1 (replicated), u8 size, u8 crush_rule, u8 object_hash,
    # u32 pg_num = 2**30
    at = data.find(bytes([2]) + struct.pack("<I", 1 << 30))
    if at < 0 or data.find(bytes([2]) + struct.pack("<I", 1 << 30), at + 1) >= 0:
        raise RuntimeError("could not locate pool 1's object_hash in the osdmap")
    data[at] = object_hash
    _fix_osdmap_crc(data)
    path.write_bytes(bytes(data))
    return path


_OBJ_LINE = re.compile(r"object '(.*)' -> 1\.([0-9a-f]+) -> ")


def tool_object_hashes30(object_hash: int) -> list[list[Any]]:
    """[name, low 30 bits of its hash] for TOOL_NAMES, as osdmaptool computes them."""
    out: list[list[Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        omap = osdmap_with_object_hash(Path(tmp), object_hash)
        for name in TOOL_NAMES:
            res = subprocess.run(["osdmaptool", str(omap), "--test-map-object", name,
                                  "--pool", "1"], check=True, capture_output=True, text=True)
            m = _OBJ_LINE.search(res.stdout)
            if m is None:
                raise RuntimeError(f"unexpected osdmaptool output {res.stdout!r}")
            out.append([name, int(m.group(2), 16)])
    return out


def osdmaptool(*args: str) -> str:
    """Run osdmaptool; its stdout."""
    res = subprocess.run(["osdmaptool", *args], check=True, capture_output=True, text=True)
    return res.stdout


def have_osdmaptool() -> bool:
    """True when ``osdmaptool`` is on PATH."""
    return shutil.which("osdmaptool") is not None


def hash_vectors() -> dict[str, Any]:
    """The whole content of ``tests/data/crush/hash_vectors.json``."""
    out = lib_hash_vectors()
    out["osdmaptool_rjenkins30"] = tool_object_hashes30(2)
    out["osdmaptool_linux30"] = tool_object_hashes30(1)
    return out


def dumps(value: dict[str, Any]) -> str:
    """JSON with one top-level key per line and one list item per line."""
    parts = []
    for key in sorted(value):
        item = value[key]
        if isinstance(item, list):
            inner = ",\n  ".join(json.dumps(x, sort_keys=True) for x in item)
            parts.append(f" {json.dumps(key)}: [\n  {inner}\n ]" if item
                         else f" {json.dumps(key)}: []")
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(item, sort_keys=True)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_json(name: str, value: dict[str, Any]) -> None:
    """Write one stored answer file, stably formatted."""
    (DATA / name).write_text(dumps(value))


# -- crushtool ---------------------------------------------------------------------------

#: x range of the stored mappings (the interop test uses 0..1023).
STORED_MAX_X = 63
_MAPPING_LINE = re.compile(r"^CRUSH rule (\d+) x (\d+) \[([-\d,]*)\]$")
_BAD_LINE = re.compile(r"^bad mapping rule (\d+) x (\d+) num_rep (\d+) result \[([-\d,]*)\]$")


def have_crushtool() -> bool:
    """True when ``crushtool`` is on PATH."""
    return shutil.which("crushtool") is not None


def crushtool(*args: str) -> str:
    """Run crushtool; its stdout."""
    res = subprocess.run(["crushtool", *args], check=True, capture_output=True, text=True)
    return res.stdout


def compile_case(case: MapCase, workdir: Path) -> Path:
    """Build or compile a corpus map into ``workdir/NAME.bin``."""
    out = workdir / f"{case.name}.bin"
    if case.build:
        crushtool("--build", *case.build, "-o", str(out))
    else:
        src = workdir / f"{case.name}.txt"
        src.write_text(case.text)
        crushtool("-c", str(src), "-o", str(out))
    return out


def _parse_list(text: str) -> list[int]:
    return [int(v) for v in text.split(",")] if text else []


def _weight_args(weights: tuple[tuple[int, str], ...]) -> list[str]:
    return [a for dev, w in weights for a in ("--weight", str(dev), w)]


def tool_mappings(path: Path, check_rule: int, num_rep: int,
                  weights: tuple[tuple[int, str], ...], max_x: int) -> list[list[int]]:
    """``crushtool --test --show-mappings`` for x in 0..max_x."""
    text = crushtool("-i", str(path), "--test", "--rule", str(check_rule), "--num-rep",
                     str(num_rep), "--show-mappings", "--min-x", "0", "--max-x", str(max_x),
                     *_weight_args(weights))
    results: dict[int, list[int]] = {}
    for line in text.splitlines():
        m = _MAPPING_LINE.match(line)
        if m is not None and int(m.group(1)) == check_rule:
            results[int(m.group(2))] = _parse_list(m.group(3))
    if sorted(results) != list(range(max_x + 1)):
        raise RuntimeError(f"crushtool printed x {sorted(results)[:5]}... for {path}")
    return [results[x] for x in range(max_x + 1)]


def tool_bad_mappings(path: Path, check_rule: int, num_rep: int,
                      weights: tuple[tuple[int, str], ...], max_x: int,
                      ) -> dict[int, list[int]]:
    """``crushtool --test --show-bad-mappings``: x -> result, for results that are short
    or hold CRUSH_ITEM_NONE."""
    text = crushtool("-i", str(path), "--test", "--rule", str(check_rule), "--num-rep",
                     str(num_rep), "--show-bad-mappings", "--min-x", "0", "--max-x",
                     str(max_x), *_weight_args(weights))
    out: dict[int, list[int]] = {}
    for line in text.splitlines():
        m = _BAD_LINE.match(line)
        if m is not None:
            out[int(m.group(2))] = _parse_list(m.group(4))
    return out


def crushtool_device_weight(text: str) -> int:
    """``CrushTester::set_device_weight``: float32 weight x 0x10000, clamped."""
    f32 = struct.unpack("<f", struct.pack("<f", float(text)))[0]
    return max(0, min(0x10000, int(f32 * 0x10000)))


def crushtester_weights(m: CrushMap, overrides: list[list[Any]]) -> list[int]:
    """CrushTester's weight vector: 0x10000 for devices some bucket holds, else 0,
    then the stored ``[device, text, weight]`` overrides."""
    weights = [0x10000 if m.check_item_present(i) else 0 for i in range(m.max_devices)]
    for dev, _text, w in overrides:
        weights[dev] = w
    return weights


def tool_reencode(path: Path, workdir: Path) -> bytes:
    """Ceph's own decode + encode of a map (a no-op tunable change makes crushtool
    write it back)."""
    total = crushtool("-i", str(path), "--dump")
    tries = json.loads(total)["tunables"]["choose_total_tries"]
    out = workdir / (path.name + ".reenc")
    crushtool("-i", str(path), "--set-choose-total-tries", str(tries), "-o", str(out))
    return out.read_bytes()


def corpus_answers(workdir: Path, max_x: int) -> tuple[dict[str, bytes], list[dict[str, Any]]]:
    """Every corpus map (name -> bytes) and crushtool's mappings for each check."""
    maps: dict[str, bytes] = {}
    answers: list[dict[str, Any]] = []
    for case in CORPUS:
        path = compile_case(case, workdir)
        maps[case.name] = path.read_bytes()
        for check in case.checks:
            for num_rep in check.num_reps:
                answers.append({
                    "map": case.name, "rule": check.rule, "num_rep": num_rep,
                    "weights": [[d, w, crushtool_device_weight(w)] for d, w in check.weights],
                    "results": tool_mappings(path, check.rule, num_rep, check.weights, max_x),
                })
    return maps, answers


def write_corpus() -> None:
    """Store the corpus maps (and text sources) and their crushtool mappings."""
    with tempfile.TemporaryDirectory() as tmp:
        maps, answers = corpus_answers(Path(tmp), STORED_MAX_X)
    for case in CORPUS:
        (DATA / f"{case.name}.bin").write_bytes(maps[case.name])
        if case.text:
            (DATA / f"{case.name}.txt").write_text(case.text)
    lines = "\n".join(json.dumps(a, separators=(",", ":")) for a in answers) + "\n"
    (DATA / "mappings.jsonl.gz").write_bytes(gzip.compress(lines.encode(), mtime=0))
    dumps = {case.name: tool_dump(DATA / f"{case.name}.bin") for case in CORPUS}
    (DATA / "dumps.json.gz").write_bytes(
        gzip.compress(json.dumps(dumps, sort_keys=True).encode(), mtime=0))


def tool_dump(path: Path) -> Any:
    """``crushtool -i MAP --dump`` (CrushWrapper::dump), parsed."""
    return json.loads(crushtool("-i", str(path), "--dump"))


#: Corpus maps whose device locations are stored (``crushtool --show-location``).
LOCATION_MAPS = ("classes", "rules-mixed", "odd-weights-jewel", "build-mixed")


def tool_location(path: Path, device: int) -> list[list[str]]:
    """``crushtool -i MAP --show-location DEV``: [type, bucket name] lines."""
    return [line.split("\t") for line in crushtool("-i", str(path), "--show-location",
                                                    str(device)).splitlines() if line]


def tool_locations() -> dict[str, dict[str, list[list[str]]]]:
    """Locations of every device of the LOCATION_MAPS."""
    out: dict[str, dict[str, list[list[str]]]] = {}
    for name in LOCATION_MAPS:
        path = DATA / f"{name}.bin"
        m = decode_crush_map(path.read_bytes())
        out[name] = {str(d): tool_location(path, d) for d in range(m.max_devices)}
    return out


def crafted_inputs() -> dict[str, bytes]:
    """Encodings Ceph's decoder normalises (built from corpus maps with asyncmsgr's
    encoder): choose args on buckets that are not straw2, mis-sized and
    mis-positioned weight sets, names and items beyond ``max_devices``, and every
    shorter encoding an older Ceph wrote (cut at each optional section)."""
    mixed = decode_crush_map((DATA / "rules-mixed.bin").read_bytes())
    out: dict[str, bytes] = {}
    out["choose-args-normalised"] = encode_crush_map(replace(mixed, choose_args={
        -1: {
            -2: ChooseArg(weight_set=((0x10000, 0x8000, 0x4000),), ids=(5, 6, 7)),  # list
            -5: ChooseArg(weight_set=((0x10000, 0x20000), (0x8000, 0x8000))),  # 2 of 3
            -6: ChooseArg(weight_set=((0x10000, 0x10000, 0x10000),)),  # 1 position of 2
            -1: ChooseArg(ids=(1, 2, 3)),  # uniform
        },
        5: {-5: ChooseArg(weight_set=((1, 2, 3, 4, 5),), ids=(9, 8, 7))},
    }))
    straw2 = decode_crush_map((DATA / "rules-straw2.bin").read_bytes())
    out["names-beyond-max-devices"] = encode_crush_map(
        replace(straw2, name_map={**straw2.name_map, 40: "osd.40"}))
    out["items-beyond-max-devices"] = encode_crush_map(replace(straw2, max_devices=5))
    base = (DATA / "rules-straw2.bin").read_bytes()
    luminous = 16  # four empty containers: class_map, class_name, class_bucket, choose_args
    for name, cut in (("pre-tunables", 23), ("tunables1", 11), ("tunables2", 7),
                      ("tunables3", 6), ("tunables4", 5), ("pre-stable", 1),
                      ("pre-luminous", 0)):
        out[f"truncated-{name}"] = base[:len(base) - luminous - cut]
    out["truncated-no-choose-args"] = base[:-4]
    return out


def write_reencodings() -> None:
    """Store crafted inputs and Ceph's re-encoding of each (``reencode/``)."""
    folder = DATA / "reencode"
    folder.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in crafted_inputs().items():
            src = folder / f"{name}.in"
            src.write_bytes(data)
            (folder / f"{name}.ceph").write_bytes(tool_reencode(src, Path(tmp)))


def load_stored_dumps() -> dict[str, Any]:
    """The stored ``crushtool --dump`` of every corpus map."""
    data: dict[str, Any] = json.loads(gzip.decompress((DATA / "dumps.json.gz").read_bytes()))
    return data


def load_stored_mappings() -> list[dict[str, Any]]:
    """The stored crushtool answers (``mappings.jsonl.gz``)."""
    raw = gzip.decompress((DATA / "mappings.jsonl.gz").read_bytes()).decode()
    return [json.loads(line) for line in raw.splitlines() if line]


def main() -> None:
    """Regenerate every stored answer under tests/data/crush/."""
    DATA.mkdir(parents=True, exist_ok=True)
    write_json("hash_vectors.json", hash_vectors())
    write_corpus()
    write_reencodings()
    write_json("locations.json", tool_locations())


if __name__ == "__main__":
    main()
