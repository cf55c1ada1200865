"""Known answers: versioned structs nested in versioned structs, at their bounds.

``ENCODE_START(v, compat)`` writes ``u8 v, u8 compat, le32 len`` and ``len``
bytes of body (wire-protocol.md §2.2; Ceph ``include/encoding.h``
``DECODE_START`` checks the length against what is left: "struct_len > remaining"
throws ``buffer::malformed_input``). A nested struct's length is bounded by its
*parent's* remaining bytes, not by the buffer's: the top-level check alone lets
an inner struct read the field that follows its parent.

Provenance: the bytes below are written by hand from those layouts (Ceph
``osd_types.h`` ``obj_list_watch_response_t`` v1 { u32 n, ``watch_item_t``
v2/compat 1 { entity_name_t, u64 cookie, u32 timeout_seconds, entity_addr_t } };
``msg_types.h`` ``entity_addr_t`` new form: marker 1, ENCODE_START(1, 1),
u32 type, u32 nonce, u32 sockaddr_len, sockaddr with a big-endian port).
"""

from __future__ import annotations

import pytest

from asyncmsgr.errors import DecodeError
from asyncmsgr.osd.op_data import WatchItem, decode_list_watchers, push_list_watchers_output
from asyncmsgr.types import AddrType, EntityAddr, EntityName, EntityType
from asyncmsgr.wire.buffer import Reader, Writer

H = bytes.fromhex
#: entity_addr_t v1:127.0.0.1:6800/99, new form (1 + 6 + 28 bytes)
ADDR = H("01" "0101" "1c000000" "01000000" "63000000" "10000000" "0200" "1a90" "7f000001"
         "0000000000000000")
#: watch_item_t { client.4100, cookie 0x1234, timeout 30, ADDR }: 9 + 8 + 4 + 35 = 56
ITEM_BODY = H("08" "0410000000000000" "3412000000000000" "1e000000") + ADDR
ITEM = H("0201" "38000000") + ITEM_BODY
#: obj_list_watch_response_t v1 { n = 1, ITEM }: 4 + 62 = 66
RESPONSE = H("0101" "42000000" "01000000") + ITEM
#: what follows the response in a larger buffer (another op's output)
NEXT_FIELD = H("ff")
WATCHER = WatchItem(EntityName(EntityType.CLIENT, 4100), 0x1234, 30,
                    EntityAddr.from_host("127.0.0.1", 6800, type=AddrType.LEGACY, nonce=99))


def _with(raw: bytes, at: int, value: bytes) -> bytes:
    return raw[:at] + value + raw[at + len(value):]


def test_vector_is_what_the_encoder_writes() -> None:
    w = Writer()
    push_list_watchers_output(w, [WATCHER], features=(1 << 64) - 1)
    assert w.getvalue() == RESPONSE
    assert len(ITEM_BODY) == 0x38
    assert len(RESPONSE) == 6 + 0x42


def test_exact_bounds_decode() -> None:
    assert decode_list_watchers(RESPONSE + NEXT_FIELD) == [WATCHER]


def test_inner_struct_one_byte_past_its_parent_is_refused() -> None:
    # watch_item_t claims 57 bytes, its parent has 56 left; the byte after the
    # parent exists (NEXT_FIELD), so only the nested check can catch it
    raw = _with(RESPONSE, 6 + 4 + 2, H("39000000")) + NEXT_FIELD
    with pytest.raises(DecodeError, match="watch_item_t: struct length 57 exceeds the 56"):
        decode_list_watchers(raw)


def test_innermost_struct_one_byte_past_its_parent_is_refused() -> None:
    # entity_addr_t (third level) claims 29 of the 28 bytes its parent has left
    at = 6 + 4 + 6 + 21 + 1 + 2
    assert RESPONSE[at:at + 4] == H("1c000000")
    raw = _with(RESPONSE, at, H("1d000000")) + NEXT_FIELD
    with pytest.raises(DecodeError, match="entity_addr_t: struct length 29 exceeds the 28"):
        decode_list_watchers(raw)


def test_inner_struct_with_unknown_trailing_fields_is_skipped() -> None:
    # a newer watch_item_t with 3 more bytes: the parent grows by 3, and those
    # bytes are skipped by the inner reader
    item = H("0201" "3b000000") + ITEM_BODY + H("aabbcc")
    raw = H("0101" "45000000" "01000000") + item + NEXT_FIELD
    assert decode_list_watchers(raw) == [WATCHER]


# -- the primitive itself, on a synthetic layout -------------------------------------------

#: outer v2 { u32 0x11223344, inner v1 { u64 0x0102030405060708 }, u16 0xbeef }
SYNTH = H("0201" "14000000" "44332211" "0101" "08000000" "0807060504030201" "efbe")


def _decode_synth(raw: bytes) -> tuple[int, int, int, int]:
    r = Reader(raw)
    _v, outer = r.pull_versioned(2, "outer")
    a = outer.pull_u32()
    _iv, inner = outer.pull_versioned(1, "inner")
    b = inner.pull_u64()
    c = outer.pull_u16()
    return a, b, c, r.pull_u8()


def test_synthetic_exact() -> None:
    assert _decode_synth(SYNTH + NEXT_FIELD) == (0x11223344, 0x0102030405060708, 0xBEEF, 0xFF)


@pytest.mark.parametrize(("inner_len", "ok"), [(8, True), (10, True), (11, False),
                                                (0xFFFFFFFF, False)])
def test_synthetic_inner_length_against_the_parent(inner_len: int, ok: bool) -> None:
    """The parent has 10 bytes left at the inner header: up to 10 is inside it
    (then the parent's u16 is missing, a later error), 11 is not."""
    raw = _with(SYNTH, 6 + 4 + 2, inner_len.to_bytes(4, "little")) + NEXT_FIELD * 8
    r = Reader(raw)
    _v, outer = r.pull_versioned(2, "outer")
    outer.pull_u32()
    if ok:
        _iv, inner = outer.pull_versioned(1, "inner")
        assert inner.remaining == inner_len
        assert outer.remaining == 10 - inner_len
    else:
        with pytest.raises(DecodeError, match="exceeds the 10 bytes left"):
            outer.pull_versioned(1, "inner")
