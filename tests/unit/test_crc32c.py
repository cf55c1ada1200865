"""ceph_crc32c against Ceph's own vectors and an independent bitwise model.

Vectors: Ceph ``src/test/common/test_crc32c.cc`` (performance-notes.md §1.1) and
the on-wire values of wire-protocol.md §2.1.
"""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from asyncmsgr.wire import crc32c as crc32c_mod
from asyncmsgr.wire.crc32c import SEGMENT_SEED, ceph_crc32c, crc32c_std

_POLY = 0x82F63B78  # reflected Castagnoli polynomial


def raw_crc32c(seed: int, data: bytes) -> int:
    """Bit-by-bit reflected CRC-32C register update: starts at ``seed``, no final xor."""
    reg = seed
    for byte in data:
        reg ^= byte
        for _ in range(8):
            reg = (reg >> 1) ^ (_POLY if reg & 1 else 0)
    return reg


CEPH_VECTORS: list[tuple[int, bytes, int]] = [
    (0, b"foo bar baz", 4119623852),
    (1234, b"foo bar baz", 881700046),
    (0, b"whiz bang boom", 2360230088),
    (5678, b"whiz bang boom", 3743019208),
    (0, b"\x01" * 5, 2715569182),
    (0, b"\x01" * 35, 440531800),
    (0, b"\x01" * 4_096_000, 31583199),
    (1234, b"\x01" * 4_096_000, 1400919119),
    (0, b"123456789", 0x58E3FA20),
    (0xFFFFFFFF, b"123456789", 0x1CF96D7C),
]


@pytest.mark.parametrize(("seed", "data", "expected"), CEPH_VECTORS,
                         ids=[f"seed{s}-len{len(d)}" for s, d, _ in CEPH_VECTORS])
def test_ceph_vectors(seed: int, data: bytes, expected: int) -> None:
    assert ceph_crc32c(seed, data) == expected


@pytest.mark.parametrize("seed", [0, 1, 1234, 0xFFFFFFFF])
def test_empty_input_returns_seed(seed: int) -> None:
    assert ceph_crc32c(seed, b"") == seed


def test_segment_seed_and_standard_relation() -> None:
    assert SEGMENT_SEED == 0xFFFFFFFF
    # ceph_crc32c(-1, d) is the bitwise NOT of the standard CRC-32C (0xe3069283).
    assert ceph_crc32c(SEGMENT_SEED, b"123456789") ^ 0xFFFFFFFF == 0xE3069283


def test_not_the_naive_library_call() -> None:
    # The pitfall of performance-notes.md §1.1: crc32c.crc32c(b"foo bar baz", 0).
    assert ceph_crc32c(0, b"foo bar baz") != 1599983188


def test_chaining_is_raw() -> None:
    a, b = b"ceph v2\n", b"\x10\x00" + bytes(range(40))
    assert ceph_crc32c(ceph_crc32c(7, a), b) == ceph_crc32c(7, a + b)


def test_matches_bitwise_model_on_random_inputs() -> None:
    rng = random.Random(0xC3F)
    for _ in range(60):
        data = rng.randbytes(rng.randrange(0, 200))
        seed = rng.choice([0, 0xFFFFFFFF, rng.getrandbits(32)])
        assert ceph_crc32c(seed, data) == raw_crc32c(seed, data), (seed, data.hex())


def test_bitwise_model_is_itself_right() -> None:
    # Guards the model used above: it must reproduce the published vectors.
    assert raw_crc32c(0, b"123456789") == 0x58E3FA20
    assert raw_crc32c(1234, b"foo bar baz") == 881700046


def test_accepts_every_buffer_type_without_changing_the_result() -> None:
    data = bytes(range(256)) * 3
    expected = ceph_crc32c(0xFFFFFFFF, data)
    buf = bytearray(b"xx" + data + b"yy")
    assert ceph_crc32c(0xFFFFFFFF, bytearray(data)) == expected
    assert ceph_crc32c(0xFFFFFFFF, memoryview(data)) == expected
    # a slice of a larger receive buffer, no copy
    assert ceph_crc32c(0xFFFFFFFF, memoryview(buf)[2:-2]) == expected


def test_wire_values() -> None:
    # wire-protocol.md §2.1: HELLO preamble crc (seed 0) and HELLO segment crc (seed -1).
    hello_preamble = bytes.fromhex("0101240000000800") + bytes(20)
    assert ceph_crc32c(0, hello_preamble) == 0x066BBD3F
    hello_seg = bytes.fromhex(
        "010101011c0000000200000000000000100000000200ce6c7f0000010000000000000000")
    assert ceph_crc32c(SEGMENT_SEED, hello_seg) == int.from_bytes(
        bytes.fromhex("72d9604b"), "little")
    client_hello_seg = bytes.fromhex(
        "080101011c00000002000000000000001000000002000ce47f0000010000000000000000")
    assert ceph_crc32c(SEGMENT_SEED, client_hello_seg) == 0x073E887D
    assert ceph_crc32c(SEGMENT_SEED, b"") == 0xFFFFFFFF


def test_std_mapping_and_residue() -> None:
    # the identities the hot paths inline (wire/crc32c.py)
    rng = random.Random(7)
    for _ in range(20):
        data = rng.randbytes(rng.randrange(0, 100))
        seed = rng.getrandbits(32)
        assert ceph_crc32c(seed, data) == crc32c_std(data, seed ^ 0xFFFFFFFF) ^ 0xFFFFFFFF
        assert ceph_crc32c(0xFFFFFFFF, data) == crc32c_std(data) ^ 0xFFFFFFFF
        # a buffer followed by its little-endian Ceph crc has Ceph crc 0
        for s in (0, 0xFFFFFFFF, seed):
            tail = ceph_crc32c(s, data).to_bytes(4, "little")
            assert ceph_crc32c(s, data + tail) == 0
            assert crc32c_std(data + tail, s ^ 0xFFFFFFFF) == 0xFFFFFFFF
        bad = (ceph_crc32c(0, data) ^ 1).to_bytes(4, "little")
        assert ceph_crc32c(0, data + bad) != 0


# -- how the C library is loaded (start-up time of one-shot commands) ---------------


def _run_python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    return proc.stdout.strip()


def test_import_skips_the_package_init_and_importlib_metadata() -> None:
    out = _run_python(
        "import sys, asyncmsgr.wire.crc32c as c\n"
        "print(c.ceph_crc32c(0, b'foo bar baz'), 'importlib.metadata' in sys.modules,"
        " 'crc32c' in sys.modules, 'crc32c._crc32c' in sys.modules)")
    assert out == "4119623852 False False True"


def test_an_imported_package_is_used_as_is() -> None:
    out = _run_python(
        "import crc32c, asyncmsgr.wire.crc32c as c\n"
        "print(c.crc32c_std is crc32c.crc32c, c.ceph_crc32c(1234, b'foo bar baz'))")
    assert out == "True 881700046"


def test_the_package_imported_afterwards_shares_the_extension() -> None:
    out = _run_python(
        "import asyncmsgr.wire.crc32c as c, crc32c\n"
        "print(crc32c.crc32c is c.crc32c_std, bool(crc32c.__version__))")
    assert out == "True True"


def test_falls_back_to_the_package_when_the_extension_is_not_found(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import crc32c as package  # noqa: PLC0415

    monkeypatch.delitem(sys.modules, "crc32c")
    monkeypatch.setattr(crc32c_mod, "_load_extension", lambda: None)
    fn = crc32c_mod._std_function()
    assert fn is sys.modules["crc32c"].crc32c
    assert fn(b"123456789") == 0xE3069283
    assert package.crc32c(b"123456789") == 0xE3069283


def test_load_extension_gives_the_c_function() -> None:
    module = crc32c_mod._load_extension()
    assert module is not None
    assert module.crc32c(b"123456789") == 0xE3069283
