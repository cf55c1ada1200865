"""Frame codec benchmark: msgr2 MESSAGE frames against a minimal framing.

Measures, in one run, encode and decode of a MESSAGE frame (ceph_msg_header2 +
data of 4 KiB or 4 MiB) in msgr2.1 crc and secure mode, and the same payloads
through a minimal hand-written framing (8-byte length + crc32c header, one
crc32c call per frame). Reports microseconds per operation (best of several
repeats, to filter scheduler noise) and the ratio to the minimal framing.

Targets (issue "Foundation"): 4 KiB crc-mode encode+decode <= 2x minimal;
4 MiB <= 1.2x minimal.

Run: ``python benchmarks/bench_frames.py [--json] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import struct
import time
from collections.abc import Callable

import crc32c

from asyncmsgr.crypto.onwire import SecureKeys
from asyncmsgr.frames.assembler import FrameAssembler
from asyncmsgr.frames.v2 import MESSAGE_ALIGNMENTS, Tag
from asyncmsgr.message import MsgHeader2
from asyncmsgr.types import Buffer

_HDR = struct.Struct("<II")


def minimal_encode(payload: Buffer) -> list[Buffer]:
    """Length + crc32c header, payload passed through."""
    return [_HDR.pack(len(payload), crc32c.crc32c(payload)), payload]


def minimal_decode(wire: memoryview) -> memoryview:
    """Parse one minimal frame from a contiguous buffer, verifying the crc."""
    length, crc = _HDR.unpack_from(wire, 0)
    payload = wire[8 : 8 + length]
    if crc32c.crc32c(payload) != crc:
        raise ValueError("bad crc")
    return payload


def per_op_us(fn: Callable[[], object], *, min_time: float, repeats: int) -> float:
    """Best-of-``repeats`` microseconds per call, each repeat lasting ~min_time."""
    n = 1
    while True:  # calibrate
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time / 4:
            break
        n *= 2
    loops = max(1, int(n * (min_time / max(dt, 1e-9))))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        best = min(best, (time.perf_counter() - t0) / loops)
    return best * 1e6


def _secure_pair() -> tuple[FrameAssembler, FrameAssembler]:
    secret = bytes(range(64))
    ctx, crx = SecureKeys.from_connection_secret(secret, crossed=False).handlers()
    stx, srx = SecureKeys.from_connection_secret(secret, crossed=True).handlers()
    # client encodes, server decodes
    return FrameAssembler(tx=ctx, rx=crx), FrameAssembler(tx=stx, rx=srx)


def bench(size: int, *, min_time: float, repeats: int) -> dict[str, float]:
    """All figures for one payload size."""
    data = bytes(size)
    header = MsgHeader2(seq=1, type=42, priority=127, version=8, compat_version=1)
    out: dict[str, float] = {}

    # minimal framing
    wire_min = memoryview(b"".join(bytes(c) for c in minimal_encode(data)))
    out["minimal_encode_us"] = per_op_us(lambda: minimal_encode(data),
                                         min_time=min_time, repeats=repeats)
    out["minimal_decode_us"] = per_op_us(lambda: minimal_decode(wire_min),
                                         min_time=min_time, repeats=repeats)

    # msgr2.1 crc mode
    asm = FrameAssembler()

    def encode_crc() -> list[Buffer]:
        return asm.assemble_message(header.encode(), b"", b"", data)

    wire = memoryview(b"".join(bytes(c) for c in encode_crc()))
    plen = asm.preamble_onwire_len

    def decode_crc() -> MsgHeader2:
        pre = asm.disassemble_preamble(wire[:plen])
        got = asm.disassemble_message(pre, wire[plen : plen + pre.body_len])
        assert got is not None
        return got[0]

    out["crc_encode_us"] = per_op_us(encode_crc, min_time=min_time, repeats=repeats)
    out["crc_decode_us"] = per_op_us(decode_crc, min_time=min_time, repeats=repeats)

    # msgr2.1 secure mode: fresh pairs per measurement so nonces stay in step
    def secure_encode_us() -> float:
        tx_asm, _ = _secure_pair()
        return per_op_us(lambda: tx_asm.assemble(
            Tag.MESSAGE, (header.encode(), b"", b"", data), MESSAGE_ALIGNMENTS),
            min_time=min_time, repeats=repeats)

    def secure_decode_us() -> float:
        # encode a batch of frames up front, then time decoding them in order
        tx_asm, rx_asm = _secure_pair()
        frames = [memoryview(b"".join(bytes(c) for c in tx_asm.assemble(
            Tag.MESSAGE, (header.encode(), b"", b"", data), MESSAGE_ALIGNMENTS)))
            for _ in range(64 if size > 65536 else 2048)]
        pl = rx_asm.preamble_onwire_len
        t0 = time.perf_counter()
        for w in frames:
            pre = rx_asm.disassemble_preamble(w[:pl])
            segs = rx_asm.disassemble_segments(pre, w[pl : pl + rx_asm.body_onwire_len(pre)])
            assert segs is not None
        return (time.perf_counter() - t0) / len(frames) * 1e6

    out["secure_encode_us"] = secure_encode_us()
    out["secure_decode_us"] = min(secure_decode_us() for _ in range(repeats))

    mini = out["minimal_encode_us"] + out["minimal_decode_us"]
    out["crc_ratio"] = (out["crc_encode_us"] + out["crc_decode_us"]) / mini
    out["secure_ratio"] = (out["secure_encode_us"] + out["secure_decode_us"]) / mini
    return out


def main() -> None:
    """Print the figures (a table, or JSON with --json)."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="short run (smoke test)")
    args = ap.parse_args()
    min_time, repeats = (0.02, 2) if args.quick else (0.3, 5)
    results = {name: bench(size, min_time=min_time, repeats=repeats)
               for name, size in (("4KiB", 4096), ("4MiB", 4 << 20))}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'size':6} {'minimal enc+dec':>16} {'crc enc':>9} {'crc dec':>9} "
          f"{'crc ratio':>9} {'sec enc':>9} {'sec dec':>9} {'sec ratio':>9}   (us/op)")
    for name, r in results.items():
        print(f"{name:6} {r['minimal_encode_us'] + r['minimal_decode_us']:16.2f} "
              f"{r['crc_encode_us']:9.2f} {r['crc_decode_us']:9.2f} {r['crc_ratio']:9.2f} "
              f"{r['secure_encode_us']:9.2f} {r['secure_decode_us']:9.2f} "
              f"{r['secure_ratio']:9.2f}")
    print("targets: 4KiB crc ratio <= 2.0, 4MiB crc ratio <= 1.2")


if __name__ == "__main__":
    main()
