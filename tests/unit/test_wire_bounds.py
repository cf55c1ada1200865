"""wire/ at its edges (from the mutation campaign's survivors): what each
fixed-width codec names in its errors, entity_addr_t's smallest sockaddr, legacy
IPv6 addresses with flowinfo and scope, the blank legacy address, addrvec
markers and counts."""

from __future__ import annotations

import array

import pytest

from asyncmsgr.errors import DecodeError, EncodeError
from asyncmsgr.features import CEPH_FEATURE_MSG_ADDR2
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec
from asyncmsgr.wire.buffer import Reader, Writer, as_view
from asyncmsgr.wire.codecs import (
    LEGACY_ADDR_LEN,
    encode_legacy_addr,
    pull_entity_addr,
    pull_entity_addrvec,
    pull_legacy_addr,
    push_entity_addr,
    push_entity_addrvec,
)

H = bytes.fromhex
WIDTHS = [("u8", 1, 256), ("u16", 2, 1 << 16), ("u32", 4, 1 << 32), ("u64", 8, 1 << 64),
          ("s8", 1, 128), ("s16", 2, 1 << 15), ("s32", 4, 1 << 31), ("s64", 8, 1 << 63)]


@pytest.mark.parametrize(("name", "size", "too_big"), WIDTHS)
def test_truncated_int_names_itself(name: str, size: int, too_big: int) -> None:
    with pytest.raises(DecodeError, match=rf"^{name}: need {size} bytes, have {size - 1}$"):
        getattr(Reader(bytes(size - 1)), f"pull_{name}")()


@pytest.mark.parametrize(("name", "size", "too_big"), WIDTHS)
def test_int_out_of_range_names_itself(name: str, size: int, too_big: int) -> None:
    w = Writer()
    with pytest.raises(EncodeError, match=rf"^{name}: {too_big} does not fit$"):
        getattr(w, f"push_{name}")(too_big)
    getattr(w, f"push_{name}")(too_big - 1)
    assert len(w) == size


@pytest.mark.parametrize(("name", "value", "raw"), [
    ("s8", -2, "fe"), ("s16", -2, "feff"), ("s32", -2, "feffffff"),
    ("s64", -2, "feffffffffffffff")])
def test_signed_round_trip(name: str, value: int, raw: str) -> None:
    w = Writer()
    getattr(w, f"push_{name}")(value)
    assert w.getvalue() == H(raw)
    assert getattr(Reader(H(raw)), f"pull_{name}")() == value


def _new_addr(elen: int, sockaddr: bytes) -> bytes:
    body = H("02000000" "05000000") + elen.to_bytes(4, "little") + sockaddr
    return H("01" "0101") + len(body).to_bytes(4, "little") + body


def test_entity_addr_with_a_family_only_sockaddr() -> None:
    """elen 2 (just the family) is valid (Ceph checks elen >= sizeof(sa_family))."""
    a = pull_entity_addr(Reader(_new_addr(2, H("0200"))))
    assert (a.type, a.nonce, a.family, a.port) == (AddrType.MSGR2, 5, 2, 0)


def test_entity_addr_with_a_one_byte_sockaddr_is_refused() -> None:
    with pytest.raises(DecodeError, match=r"^entity_addr_t: elen smaller than family len$"):
        pull_entity_addr(Reader(_new_addr(1, H("02"))))


def test_entity_addr_sockaddr_longer_than_its_family_is_refused() -> None:
    sockaddr = H("0200" "0ce4" "7f000001") + bytes(9)  # 17 > sizeof(sockaddr_in)
    with pytest.raises(DecodeError, match=r"^entity_addr_t: elen 17 exceeds sockaddr len$"):
        pull_entity_addr(Reader(_new_addr(17, sockaddr)))


def test_legacy_ipv6_keeps_flowinfo_and_scope() -> None:
    addr = EntityAddr(type=AddrType.LEGACY, nonce=9, family=10,
                      ip=bytes(range(16)), port=6789, flowinfo=0x12345, scope_id=3)
    raw = encode_legacy_addr(addr)
    assert len(raw) == LEGACY_ADDR_LEN
    assert raw[8:10] == H("000a")  # family big-endian in sockaddr_storage
    back = pull_legacy_addr(Reader(raw))
    assert (back.family, back.ip, back.port, back.flowinfo, back.scope_id) == \
        (10, bytes(range(16)), 6789, 0x12345, 3)


def test_blank_legacy_address_is_all_zero_but_the_nonce() -> None:
    raw = encode_legacy_addr(EntityAddr(nonce=0x01020304))
    assert raw == H("00000000" "04030201") + bytes(LEGACY_ADDR_LEN - 8)


def test_legacy_address_needs_its_136_bytes() -> None:
    with pytest.raises(DecodeError, match=f"^legacy entity_addr_t needs {LEGACY_ADDR_LEN}"):
        pull_legacy_addr(Reader(bytes(LEGACY_ADDR_LEN - 1)))


def test_legacy_address_with_a_bad_nonce_is_an_encode_error() -> None:
    with pytest.raises(EncodeError, match=r"^bad legacy address"):
        encode_legacy_addr(EntityAddr(nonce=1 << 32))


def test_addrvec_marker_above_two_is_refused() -> None:
    with pytest.raises(DecodeError, match=r"^entity_addrvec_t marker 3 > 2$"):
        pull_entity_addrvec(Reader(H("03") + bytes(8)))


@pytest.mark.parametrize(("count", "have"), [(2, 37), (1, 18)])
def test_addrvec_count_needs_19_bytes_an_address(count: int, have: int) -> None:
    """Each new-form address takes at least 19 bytes (marker, struct header, type,
    nonce, elen): a count the bytes cannot hold is refused before decoding."""
    raw = H("02") + count.to_bytes(4, "little") + bytes(have)
    with pytest.raises(DecodeError, match=f"^list: count {count} needs at least "
                                          f"{19 * count} bytes"):
        pull_entity_addrvec(Reader(raw))


def test_addrvec_of_one_legacy_address() -> None:
    one = EntityAddr.from_host("127.0.0.1", 6789, type=AddrType.LEGACY, nonce=4)
    raw = H("00") + encode_legacy_addr(one)[1:]
    assert pull_entity_addrvec(Reader(raw)) == EntityAddrVec((one,))


def test_list_items_are_one_byte_at_least_by_default() -> None:
    raw = (3).to_bytes(4, "little") + b"abc"
    assert Reader(raw).pull_list(Reader.pull_u8) == [0x61, 0x62, 0x63]


def test_truncated_struct_header_names_the_struct() -> None:
    with pytest.raises(DecodeError, match=r"^pg_t struct header: need 6 bytes, have 5$"):
        Reader(bytes(5)).pull_versioned(1, "pg_t")


def test_unencodable_string_is_an_encode_error() -> None:
    with pytest.raises(EncodeError, match=r"^string not encodable: "):
        Writer().push_string("\ud800")  # a lone high surrogate has no UTF-8 form


def test_short_ipv4_sockaddr_is_zero_padded() -> None:
    """elen 4: family and port only; the address is the zeroed rest of the union."""
    a = pull_entity_addr(Reader(_new_addr(4, H("0200" "1a85"))))
    assert (a.family, a.port, a.ip) == (2, 6789, bytes(4))


def test_short_ipv6_sockaddr_is_zero_padded() -> None:
    a = pull_entity_addr(Reader(_new_addr(8, H("0a00" "1a85" "00000001"))))
    assert (a.family, a.port, a.flowinfo, a.ip, a.scope_id) == (10, 6789, 1, bytes(16), 0)


@pytest.mark.parametrize("pull", ["pull_bytes", "pull_view"])
def test_truncated_bytes_name_themselves(pull: str) -> None:
    with pytest.raises(DecodeError, match=r"^bytes: need 3 bytes, have 2$"):
        getattr(Reader(b"ab"), pull)(3)


def test_container_counts_name_their_kind_and_need() -> None:
    raw = (3).to_bytes(4, "little") + bytes(5)
    with pytest.raises(DecodeError, match=r"^container: count 3 needs at least 6 bytes, "
                                          r"have 5$"):
        Reader(raw).pull_count(2)
    with pytest.raises(DecodeError, match=r"^map: count 3 needs at least 6 bytes, have 5$"):
        Reader(raw).pull_map(Reader.pull_u8, Reader.pull_u8, min_item_size=2)
    # map entries are one byte at least by default
    raw = (2).to_bytes(4, "little") + b"abcd"
    assert Reader(raw).pull_map(Reader.pull_u8, Reader.pull_u8) == {0x61: 0x62, 0x63: 0x64}


def test_as_view_flattens_to_unsigned_bytes() -> None:
    wide = as_view(array.array("H", [1, 2]))  # type: ignore[arg-type]  # any buffer
    assert (wide.format, wide.ndim, len(wide)) == ("B", 1, 4)
    flat = as_view(memoryview(bytes(range(6))).cast("B", (2, 3)))  # 2-D
    assert (flat.ndim, list(flat)) == (1, [0, 1, 2, 3, 4, 5])
    signed = as_view(memoryview(array.array("b", [-1, 2])))
    assert list(signed) == [255, 2]
    same = memoryview(b"xyz")
    assert as_view(same) is same  # already flat unsigned bytes: as it is


def test_address_of_another_family_fills_the_sockaddr_union() -> None:
    """Ceph's get_sockaddr_len() of a family it does not know is the whole union
    (28 bytes): elen 28, the family, then zeros."""
    w = Writer()
    push_entity_addr(w, EntityAddr(type=AddrType.MSGR2, nonce=5, family=1))
    raw = w.getvalue()
    elen = int.from_bytes(raw[15:19], "little")
    assert elen == 28
    assert raw[19:] == H("0100") + bytes(26)


def test_addrvec_passes_the_features_to_each_address() -> None:
    """Without SERVER_NAUTILUS an ANY-type address inside an addrvec goes out LEGACY."""
    w = Writer()
    one = EntityAddr.from_host("10.0.0.1", 1, type=AddrType.ANY)
    push_entity_addrvec(w, EntityAddrVec((one,)), CEPH_FEATURE_MSG_ADDR2)
    back = pull_entity_addrvec(Reader(w.getvalue()))
    assert back.addrs[0].type == AddrType.LEGACY


def test_reader_bounds_and_what_is_left_after_a_pull() -> None:
    with pytest.raises(DecodeError, match=r"^reader bounds outside the buffer$"):
        Reader(b"abc", 2, 5)
    r = Reader(b"abcd")
    r.pull_u16()
    with pytest.raises(DecodeError, match=r"^u32: need 4 bytes, have 2$"):
        r.pull_u32()


def test_map_entries_are_one_byte_at_least_by_default() -> None:
    raw = (3).to_bytes(4, "little") + b"abc"  # 3 keys of one byte, values of none
    assert Reader(raw).pull_map(Reader.pull_u8, lambda r: 0) == {0x61: 0, 0x62: 0, 0x63: 0}


@pytest.mark.parametrize(("addr", "text"), [
    (EntityAddr(type=AddrType.MSGR2, family=2, ip=b"\x01\x02\x03", port=1),
     r"^IPv4 address needs 4 bytes, got 3$"),
    (EntityAddr(type=AddrType.MSGR2, family=10, ip=bytes(4), port=1),
     r"^IPv6 address needs 16 bytes, got 4$"),
    (EntityAddr(type=AddrType.MSGR2, family=2, ip=bytes(4), port=70000),
     r"^bad socket address .*: "),
])
def test_unencodable_socket_addresses_say_why(addr: EntityAddr, text: str) -> None:
    with pytest.raises(EncodeError, match=text):
        push_entity_addr(Writer(), addr)
