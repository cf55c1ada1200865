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
import json
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asyncmsgr.wire.crc32c import ceph_crc32c

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


def main() -> None:
    """Regenerate every stored answer under tests/data/crush/."""
    DATA.mkdir(parents=True, exist_ok=True)
    write_json("hash_vectors.json", hash_vectors())


if __name__ == "__main__":
    main()
