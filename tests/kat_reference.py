"""An independent reference for the known-answer vectors (tests/unit/test_kat_*).

Nothing here imports asyncmsgr: the layouts are restated from
``/work/shared/reference/wire-protocol.md`` (§2.1 crc32c, §4.3 ceph_msg_header
and footer, §4.4 CEPHX_V2 signatures, §5.2 msgr2.1 crc frames) and Ceph's
sources (``src/common/crc32c.cc``: register starts at the seed, no final xor;
``src/msg/async/frames_v2.cc``: preamble, inline seg0 crc, 13-byte epilogue;
``src/auth/cephx/CephxSessionHandler.cc`` ``_calc_signature``: the 32-byte
block, AES-128-CBC with the cephx IV, XOR of four le64 words). The crc is the
bit-by-bit loop of the CRC-32C definition (reflected polynomial 0x82F63B78), not
a table or a library, so the vectors do not share code with what they test.
"""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

CEPHX_IV = b"cephsageyudagreg"


def crc32c_bitwise(seed: int, data: bytes) -> int:
    """``ceph_crc32c(seed, data)``, one bit at a time."""
    crc = seed
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


def msgr2_preamble(tag: int, lengths: list[int], alignments: list[int]) -> bytes:
    """The 32-byte preamble: tag, num_segments, 4 x (le32 length, le16 alignment)
    (zero beyond num_segments), flags 0, reserved 0, le32 crc (seed 0) of the 28."""
    head = struct.pack("<BB", tag, len(lengths))
    for i in range(4):
        if i < len(lengths):
            head += struct.pack("<IH", lengths[i], alignments[i])
        else:
            head += struct.pack("<IH", 0, 0)
    head += b"\x00\x00"
    return head + struct.pack("<I", crc32c_bitwise(0, head))


def msgr2_rev1_crc_frame(tag: int, segments: list[bytes], alignments: list[int]) -> bytes:
    """msgr2.1 crc mode: preamble; seg0 and its crc (seed -1) when not empty; then,
    with more than one segment, seg1..3 raw and the epilogue ``u8 0x0e`` + three
    le32 crcs (seed -1: an empty segment inside num_segments is 0xffffffff,
    a segment beyond it 0)."""
    out = msgr2_preamble(tag, [len(s) for s in segments], alignments)
    if segments[0]:
        out += segments[0] + struct.pack("<I", crc32c_bitwise(0xFFFFFFFF, segments[0]))
    if len(segments) > 1:
        crcs = [crc32c_bitwise(0xFFFFFFFF, s) for s in segments[1:]]
        crcs += [0] * (3 - len(crcs))
        out += b"".join(segments[1:]) + struct.pack("<BIII", 0x0E, *crcs)
    return out


def cephx_v2_signature(key: bytes, header_crc: int, front_crc: int, front_len: int,
                       middle_crc: int, middle_len: int, data_crc: int, data_len: int,
                       seq: int) -> int:
    """CEPHX_V2 msgr v1 signature: the block ``le32 header_crc, front_crc,
    front_len, middle_crc, middle_len, data_crc, data_len, seq`` (32 bytes),
    PKCS#7-padded to 48, AES-128-CBC with the cephx IV; XOR of the first four
    le64 words of the ciphertext."""
    block = struct.pack("<8I", header_crc, front_crc, front_len, middle_crc, middle_len,
                        data_crc, data_len, seq & 0xFFFFFFFF)
    enc = Cipher(algorithms.AES(key), modes.CBC(CEPHX_IV)).encryptor()
    ct = enc.update(block + bytes([16]) * 16) + enc.finalize()
    a, b, c, d = struct.unpack_from("<4Q", ct)
    sig: int = a ^ b ^ c ^ d
    return sig


def msgr1_signed_message(key: bytes, *, seq: int, tid: int, type_: int, priority: int,
                         version: int, compat_version: int, src_type: int, src_num: int,
                         front: bytes, middle: bytes, data: bytes) -> bytes:
    """Tag MSG, ``ceph_msg_header`` (53: crc seed 0 over the first 49), the three
    parts, ``ceph_msg_footer`` (crcs seed 0, an empty part 0; sig; flags
    COMPLETE|SIGNED)."""
    head = struct.pack("<QQHHHIIIHBqHH", seq, tid, type_, priority, version, len(front),
                       len(middle), len(data), 0, src_type, src_num, compat_version, 0)
    hcrc = crc32c_bitwise(0, head)
    fcrc, mcrc, dcrc = (crc32c_bitwise(0, p) if p else 0 for p in (front, middle, data))
    sig = cephx_v2_signature(key, hcrc, fcrc, len(front), mcrc, len(middle), dcrc,
                             len(data), seq)
    return (bytes([7]) + head + struct.pack("<I", hcrc) + front + middle + data
            + struct.pack("<IIIQB", fcrc, mcrc, dcrc, sig, 1 | 4))
