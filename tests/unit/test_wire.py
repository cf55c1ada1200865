"""Reader/Writer, the common codecs, value types and feature constants.

Vectors: wire-protocol.md §2.2 (encodings), §3.1 (feature masks), §5.8 (addresses
seen in captures). Address printing and parsing follow Ceph's ``msg_types.cc``.
"""

from __future__ import annotations

import array
import uuid

import pytest

from asyncmsgr import features as F
from asyncmsgr.errors import (
    DecodeError,
    EncodeError,
    IncompatibleEncoding,
    LocalProtocolError,
    RemoteProtocolError,
)
from asyncmsgr.types import (
    AF_INET,
    AF_INET6,
    AF_UNSPEC,
    AddrType,
    AuthName,
    EntityAddr,
    EntityAddrVec,
    EntityName,
    EntityType,
    UTime,
    addr_type_name,
    entity_type_str,
)
from asyncmsgr.wire.buffer import (
    Reader,
    Writer,
    as_view,
    pull_string_item,
    pull_u32_item,
    push_string_item,
    push_u32_item,
)
from asyncmsgr.wire.codecs import (
    LEGACY_ADDR_LEN,
    encode_legacy_addr,
    pull_auth_name,
    pull_entity_addr,
    pull_entity_addrvec,
    pull_entity_name,
    pull_legacy_addr,
    pull_utime,
    pull_uuid,
    push_auth_name,
    push_entity_addr,
    push_entity_addrvec,
    push_entity_name,
    push_legacy_addr,
    push_utime,
    push_uuid,
    sockaddr_len,
)

H = bytes.fromhex

# wire-protocol.md §2.2: v2 addr 127.0.0.1:3300, nonce 0
V2_3300 = H("01" "0101" "1c000000" "02000000" "00000000" "10000000"
            "0200" "0ce4" "7f000001" "0000000000000000")
V1_6789 = H("01" "0101" "1c000000" "01000000" "00000000" "10000000"
            "0200" "1a85" "7f000001" "0000000000000000")


def enc(fn: object, *args: object) -> bytes:
    """Encode with a push_* function into fresh bytes."""
    w = Writer()
    assert callable(fn)
    fn(w, *args)
    return w.getvalue()


# -- Reader / Writer: fixed ints ------------------------------------------------------


def test_unsigned_ints_little_endian() -> None:
    w = Writer()
    w.push_u8(0x01)
    w.push_u16(0x0203)
    w.push_u32(0x04050607)
    w.push_u64(0x08090A0B0C0D0E0F)
    raw = w.getvalue()
    assert raw == H("01" "0302" "07060504" "0f0e0d0c0b0a0908")
    assert len(w) == 15
    r = Reader(raw)
    assert (r.pull_u8(), r.pull_u16(), r.pull_u32(), r.pull_u64()) == (
        0x01, 0x0203, 0x04050607, 0x08090A0B0C0D0E0F)
    assert r.at_end()
    r.expect_end("ints")


def test_signed_ints() -> None:
    w = Writer()
    w.push_s8(-1)
    w.push_s16(-2)
    w.push_s32(-3)
    w.push_s64(-1)
    raw = w.getvalue()
    assert raw == H("ff" "feff" "fdffffff" "ffffffffffffffff")
    r = Reader(raw)
    assert (r.pull_s8(), r.pull_s16(), r.pull_s32(), r.pull_s64()) == (-1, -2, -3, -1)


@pytest.mark.parametrize(("method", "value"), [
    ("push_u8", 256), ("push_u8", -1), ("push_u16", 1 << 16), ("push_u32", 1 << 32),
    ("push_u64", 1 << 64), ("push_u64", -1), ("push_s8", 128), ("push_s16", -(1 << 15) - 1),
    ("push_s32", 1 << 31), ("push_s64", 1 << 63),
])
def test_out_of_range_is_encode_error(method: str, value: int) -> None:
    w = Writer()
    with pytest.raises(EncodeError) as info:
        getattr(w, method)(value)
    assert isinstance(info.value, LocalProtocolError)
    assert isinstance(info.value, ValueError)
    assert len(w) == 0


@pytest.mark.parametrize(("method", "size"), [
    ("pull_u8", 1), ("pull_u16", 2), ("pull_u32", 4), ("pull_u64", 8), ("pull_s8", 1),
    ("pull_s16", 2), ("pull_s32", 4), ("pull_s64", 8), ("pull_bool", 1),
])
def test_truncated_int_is_decode_error_and_does_not_advance(method: str, size: int) -> None:
    r = Reader(b"\xaa" * (size - 1))
    with pytest.raises(DecodeError):
        getattr(r, method)()
    assert r.pos == 0
    assert r.remaining == size - 1
    assert getattr(Reader(b"\xaa" * size), method)() is not None


def test_bool_nonzero_is_true() -> None:
    r = Reader(b"\x00\x01\x02\xff")
    assert [r.pull_bool() for _ in range(4)] == [False, True, True, True]
    w = Writer()
    w.push_bool(True)
    w.push_bool(False)
    assert w.getvalue() == b"\x01\x00"


def test_reader_bounds() -> None:
    data = bytes(range(10))
    r = Reader(data, 2, 5)
    assert r.pos == 2
    assert r.remaining == 3
    assert r.pull_bytes(3) == b"\x02\x03\x04"
    with pytest.raises(DecodeError):
        r.pull_u8()  # byte 5 exists in the buffer but is past the end bound
    for start, end in [(-1, None), (11, None), (5, 4), (0, 11)]:
        with pytest.raises(DecodeError):
            Reader(data, start, end)


def test_expect_end_reports_trailing() -> None:
    r = Reader(b"\x01\x02")
    r.pull_u8()
    with pytest.raises(DecodeError, match="1 unexpected trailing"):
        r.expect_end("thing")


def test_pull_view_is_zero_copy_and_pull_bytes_copies() -> None:
    buf = bytearray(b"abcdef")
    r = Reader(buf)
    view = r.pull_view(3)
    copy = r.pull_bytes(3)
    buf[0] = ord("X")
    buf[3] = ord("Y")
    assert bytes(view) == b"Xbc"
    assert copy == b"def"
    assert isinstance(view, memoryview)
    assert isinstance(copy, bytes)
    del view


def test_pull_rest_and_negative_length() -> None:
    r = Reader(b"abcd")
    r.pull_u8()
    assert bytes(r.pull_rest()) == b"bcd"
    assert r.at_end()
    with pytest.raises(DecodeError):
        Reader(b"abc").pull_bytes(-1)


def test_as_view_casts_to_unsigned_bytes() -> None:
    arr = array.array("I", [1, 2])
    mv = as_view(memoryview(arr))
    assert mv.format == "B"
    assert len(mv) == 8
    assert bytes(mv) == H("0100000002000000")


# -- blobs, strings, containers -------------------------------------------------------


def test_blob_and_string_encoding() -> None:
    w = Writer()
    w.push_blob(b"\x00\x01")
    w.push_string("admin")
    w.push_blob(memoryview(b"xyz")[2:])
    raw = w.getvalue()
    assert raw == H("02000000" "0001" "05000000" "61646d696e" "01000000" "7a")
    r = Reader(raw)
    assert r.pull_blob() == b"\x00\x01"
    assert r.pull_string() == "admin"
    assert bytes(r.pull_blob_view()) == b"z"


@pytest.mark.parametrize("length", [5, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF])
def test_blob_length_past_end(length: int) -> None:
    raw = length.to_bytes(4, "little") + b"abcd"
    for method in ("pull_blob", "pull_blob_view", "pull_string"):
        r = Reader(raw)
        with pytest.raises(DecodeError, match="exceeds"):
            getattr(r, method)()


def test_string_non_utf8_survives_round_trip() -> None:
    raw = H("03000000" "ff6180")
    s = Reader(raw).pull_string()
    w = Writer()
    w.push_string(s)
    assert w.getvalue() == raw


def test_unencodable_string_is_encode_error() -> None:
    with pytest.raises(EncodeError):
        Writer().push_string("\ud800")


def test_list_and_map() -> None:
    w = Writer()
    w.push_list([1, 2, 0xFFFFFFFF], push_u32_item)
    w.push_map({"a": 1, "bc": 2}, push_string_item, push_u32_item)
    w.push_list([], push_u32_item)
    raw = w.getvalue()
    assert raw[:16] == H("03000000" "01000000" "02000000" "ffffffff")
    r = Reader(raw)
    assert r.pull_list(pull_u32_item, 4) == [1, 2, 0xFFFFFFFF]
    assert r.pull_map(pull_string_item, pull_u32_item, 8) == {"a": 1, "bc": 2}
    assert r.pull_list(pull_u32_item, 4) == []
    r.expect_end("containers")


def test_map_later_duplicate_wins() -> None:
    raw = H("02000000" "01000000" "0a000000" "01000000" "0b000000")
    assert Reader(raw).pull_map(pull_u32_item, pull_u32_item) == {1: 0x0B}


@pytest.mark.parametrize("count", [3, 0x40000000, 0xFFFFFFFF])
def test_count_checked_against_bytes_left(count: int) -> None:
    raw = count.to_bytes(4, "little") + bytes(8)
    with pytest.raises(DecodeError, match="count"):
        Reader(raw).pull_list(pull_u32_item, 4)
    with pytest.raises(DecodeError, match="count"):
        Reader(raw).pull_map(pull_u32_item, pull_u32_item, 8)


def test_truncated_list_item() -> None:
    # count says 2 u32s, the minimum size check passes with min 1 but the data is short
    raw = H("02000000" "01000000" "0200")
    with pytest.raises(DecodeError):
        Reader(raw).pull_list(pull_u32_item, 1)


def test_optional() -> None:
    w = Writer()
    w.push_optional(7, push_u32_item)
    w.push_optional(None, push_u32_item)
    raw = w.getvalue()
    assert raw == H("01" "07000000" "00")
    r = Reader(raw)
    assert r.pull_optional(pull_u32_item) == 7
    assert r.pull_optional(pull_u32_item) is None
    # any non-zero present flag means present
    assert Reader(H("02" "05000000")).pull_optional(pull_u32_item) == 5


def test_length_prefixed_backpatch() -> None:
    w = Writer()
    w.push_u8(9)
    with w.length_prefixed():
        w.push_u32(1)
        w.push_u16(2)
    assert w.getvalue() == H("09" "06000000" "01000000" "0200")


# -- versioned structs ---------------------------------------------------------------


def test_versioned_header_backpatched() -> None:
    w = Writer()
    with w.versioned(9, 6):
        w.push_bytes(bytes(0xC3))
    raw = w.getvalue()
    assert raw[:6] == H("09" "06" "c3000000")  # the monmap header of wire-protocol.md §2.2
    assert len(raw) == 6 + 0xC3


def _struct(v: int, compat: int, body: bytes) -> bytes:
    return bytes([v, compat]) + len(body).to_bytes(4, "little") + body


def test_versioned_skips_unknown_trailing_fields() -> None:
    # a v3 encoder appended a u64 that our v1 decoder does not know
    raw = _struct(3, 1, H("2a000000" "ffffffffffffffff")) + H("ee")
    r = Reader(raw)
    v, body = r.pull_versioned(1, "thing")
    assert v == 3
    assert body.pull_u32() == 42
    assert body.remaining == 8
    assert r.pull_u8() == 0xEE  # the outer reader moved past the whole struct
    assert r.at_end()


def test_versioned_rejects_newer_compat() -> None:
    raw = _struct(3, 2, H("2a000000"))
    with pytest.raises(IncompatibleEncoding, match="compat 2"):
        Reader(raw).pull_versioned(1, "thing")
    # compat equal to the known version is fine
    v, _body = Reader(raw).pull_versioned(2, "thing")
    assert v == 3


def test_versioned_never_reads_past_its_length() -> None:
    # the body claims 2 bytes; a decoder that wants a u32 must fail even though
    # the outer buffer has plenty of bytes after the struct
    raw = _struct(1, 1, H("2a00")) + bytes(16)
    _v, body = Reader(raw).pull_versioned(1, "thing")
    with pytest.raises(DecodeError):
        body.pull_u32()


@pytest.mark.parametrize("raw", [
    H("0101"),                       # header truncated
    H("0101" "05000000" "0102"),     # length past the end
    H("0101" "ffffffff"),            # huge length
])
def test_versioned_malformed(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        Reader(raw).pull_versioned(1, "thing")


# -- utime, uuid, names --------------------------------------------------------------


def test_utime() -> None:
    t = UTime(0x6B062038, 0x2DB09DDF)
    raw = enc(push_utime, t)
    assert raw == H("3820066b" "df9db02d")  # the KEEPALIVE2 stamp of wire-protocol.md §5.7
    assert pull_utime(Reader(raw)) == t
    assert str(UTime(5, 7)) == "5.000000007"
    assert UTime.from_float(1.5) == UTime(1, 500_000_000)
    assert float(UTime(2, 250_000_000)) == 2.25
    assert UTime(1, 999) < UTime(2, 0)
    with pytest.raises(DecodeError):
        pull_utime(Reader(b"\x00" * 7))


def test_uuid_is_16_raw_bytes() -> None:
    fsid = uuid.UUID("5a1d0c1e-0000-4000-8000-00000000c0de")
    raw = enc(push_uuid, fsid)
    assert raw == H("5a1d0c1e00004000800000000000c0de")
    assert pull_uuid(Reader(raw)) == fsid
    with pytest.raises(DecodeError):
        pull_uuid(Reader(raw[:15]))


def test_entity_name_encoding_and_printing() -> None:
    new_client = EntityName(EntityType.CLIENT, -1)
    raw = enc(push_entity_name, new_client)
    assert raw == H("08" "ffffffffffffffff")
    assert pull_entity_name(Reader(raw)) == new_client
    assert str(new_client) == "client.?"
    assert str(EntityName(EntityType.CLIENT, -7)) == "client.?"
    assert str(EntityName(EntityType.OSD, 3)) == "osd.3"
    assert str(EntityName(EntityType.MON, 0)) == "mon.0"
    assert str(EntityName(0x40, 1)) == "unknown.1"
    assert EntityName.parse("client.4107") == EntityName(EntityType.CLIENT, 4107)
    assert EntityName.parse("mgr.-1") == EntityName(EntityType.MGR, -1)
    for bad in ("osd", "osd.", "osd.x", "bogus.1"):
        with pytest.raises(ValueError):
            EntityName.parse(bad)


def test_auth_name() -> None:
    admin = AuthName(EntityType.CLIENT, "admin")
    raw = enc(push_auth_name, admin)
    assert raw == H("08000000" "05000000" "61646d696e")  # wire-protocol.md §2.2
    assert pull_auth_name(Reader(raw)) == admin
    assert str(admin) == "client.admin"
    assert AuthName.parse("mon.") == AuthName(EntityType.MON, "")
    assert str(AuthName.parse("mon.")) == "mon."
    with pytest.raises(ValueError):
        AuthName.parse("admin")


def test_entity_types() -> None:
    assert [t.type_str for t in EntityType] == [
        "mon", "mds", "osd", "client", "mgr", "auth", "any"]
    assert EntityType.from_str("osd") is EntityType.OSD
    assert entity_type_str(0x08) == "client"
    assert entity_type_str(3) == "unknown"
    with pytest.raises(ValueError):
        EntityType.from_str("nope")


# -- entity_addr_t -------------------------------------------------------------------


def test_new_form_ipv4_vector() -> None:
    addr = EntityAddr.from_host("127.0.0.1", 3300)
    assert enc(push_entity_addr, addr) == V2_3300
    r = Reader(V2_3300 + b"\xee")
    assert pull_entity_addr(r) == addr
    assert r.pull_u8() == 0xEE


def test_new_form_ipv6() -> None:
    addr = EntityAddr(type=AddrType.MSGR2, nonce=5, family=AF_INET6,
                      ip=bytes(15) + b"\x01", port=6789, flowinfo=0x01020304,
                      scope_id=0x0A0B0C0D)
    raw = enc(push_entity_addr, addr)
    assert raw == (H("01" "0101" "28000000" "02000000" "05000000" "1c000000")
                   + H("0a00" "1a85" "01020304") + bytes(15) + b"\x01"
                   + H("0d0c0b0a"))
    assert sockaddr_len(AF_INET6) == 28
    assert pull_entity_addr(Reader(raw)) == addr
    assert str(addr) == "v2:[::1]:6789/5"


def test_new_form_unspecified_family() -> None:
    blank = EntityAddr(type=AddrType.ANY, nonce=9)
    raw = enc(push_entity_addr, blank)
    back = pull_entity_addr(Reader(raw))
    assert back == blank
    assert back.is_blank_ip
    # elen 0: no sockaddr at all
    raw0 = H("01" "0101" "0c000000" "03000000" "09000000" "00000000")
    assert pull_entity_addr(Reader(raw0)) == blank


def test_new_form_struct_skips_trailing_and_rejects_newer_compat() -> None:
    body = V2_3300[7:]
    newer = H("01" "0201") + (len(body) + 3).to_bytes(4, "little") + body + b"xyz"
    r = Reader(newer + b"\x77")
    assert str(pull_entity_addr(r)) == "v2:127.0.0.1:3300/0"
    assert r.pull_u8() == 0x77
    incompatible = H("01" "0202") + len(body).to_bytes(4, "little") + body
    with pytest.raises(IncompatibleEncoding):
        pull_entity_addr(Reader(incompatible))


@pytest.mark.parametrize(("elen_and_rest", "what"), [
    (H("01000000" "02"), "elen 1 < family"),
    (H("11000000" "0200") + bytes(15), "elen 17 > sockaddr_in"),
    (H("1d000000" "0a00") + bytes(27), "elen 29 > sockaddr_in6"),
    (H("10000000" "0200") + bytes(4), "elen past struct"),
])
def test_new_form_bad_elen(elen_and_rest: bytes, what: str) -> None:
    body = H("02000000" "00000000") + elen_and_rest
    raw = H("01" "0101") + len(body).to_bytes(4, "little") + body
    with pytest.raises(DecodeError):
        pull_entity_addr(Reader(raw))


@pytest.mark.parametrize("marker", [2, 3, 0xFF])
def test_entity_addr_bad_marker(marker: int) -> None:
    with pytest.raises(DecodeError, match="marker"):
        pull_entity_addr(Reader(bytes([marker]) + V2_3300[1:]))


def test_legacy_form_136_bytes() -> None:
    addr = EntityAddr.from_host("127.0.0.1", 6789, type=AddrType.LEGACY, nonce=0x11223344)
    raw = encode_legacy_addr(addr)
    assert len(raw) == LEGACY_ADDR_LEN == 136
    # u32 type 0, u32 nonce, sockaddr_storage with a BIG-endian family
    assert raw[:16] == H("00000000" "44332211" "0002" "1a85" "7f000001")
    assert raw[16:] == bytes(120)
    assert pull_legacy_addr(Reader(raw)) == addr
    assert pull_entity_addr(Reader(raw)) == addr  # marker 0 = legacy
    assert enc(push_legacy_addr, addr) == raw
    # without MSG_ADDR2, push_entity_addr writes the legacy form
    assert enc(push_entity_addr, addr, 0) == raw


def test_legacy_form_ipv6_and_unspec() -> None:
    addr = EntityAddr(type=AddrType.LEGACY, nonce=1, family=AF_INET6,
                      ip=bytes(15) + b"\x01", port=6789)
    raw = encode_legacy_addr(addr)
    assert raw[8:12] == H("000a" "1a85")
    assert pull_legacy_addr(Reader(raw)) == addr
    none = pull_legacy_addr(Reader(encode_legacy_addr(EntityAddr(nonce=4))))
    assert none.type == AddrType.NONE
    assert none.nonce == 4
    assert none.family == AF_UNSPEC


def test_legacy_form_truncated() -> None:
    raw = encode_legacy_addr(EntityAddr.from_host("10.0.0.1", 1, type=AddrType.LEGACY))
    with pytest.raises(DecodeError):
        pull_legacy_addr(Reader(raw[:135]))
    with pytest.raises(DecodeError):
        pull_entity_addr(Reader(raw[:100]))


def test_any_type_downgraded_for_pre_nautilus_peers() -> None:
    addr = EntityAddr.from_host("127.0.0.1", 0, type=AddrType.ANY, nonce=7)
    modern = enc(push_entity_addr, addr)
    assert modern[7:11] == H("03000000")
    old = enc(push_entity_addr, addr, F.CEPH_FEATURE_MSG_ADDR2)
    assert old[7:11] == H("01000000")
    assert pull_entity_addr(Reader(old)) == addr.with_type(AddrType.LEGACY)


@pytest.mark.parametrize("addr", [
    EntityAddr(type=2, family=AF_INET, ip=b"\x01\x02\x03", port=1),
    EntityAddr(type=2, family=AF_INET6, ip=bytes(4), port=1),
    EntityAddr(type=2, family=AF_INET, ip=bytes(4), port=70000),
    EntityAddr(type=2, family=AF_INET6, ip=bytes(16), port=1, scope_id=1 << 32),
    EntityAddr(type=1 << 32, family=AF_INET, ip=bytes(4)),
])
def test_unencodable_addresses(addr: EntityAddr) -> None:
    with pytest.raises(EncodeError):
        enc(push_entity_addr, addr)


def test_legacy_nonce_out_of_range() -> None:
    with pytest.raises(EncodeError):
        encode_legacy_addr(EntityAddr(nonce=1 << 32))


# -- entity_addrvec_t ----------------------------------------------------------------

# SERVER_IDENT of mon.a (wire-protocol.md §2.2, §5.8)
ADDRVEC_MON_A = H("02" "02000000") + V2_3300 + V1_6789


def test_addrvec_marker2_vector() -> None:
    av = EntityAddrVec.parse("[v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0]")
    assert enc(push_entity_addrvec, av) == ADDRVEC_MON_A
    back = pull_entity_addrvec(Reader(ADDRVEC_MON_A))
    assert back == av
    assert str(back) == "[v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0]"
    assert back.msgr2_addr == av.addrs[0]
    assert back.legacy_addr == av.addrs[1]
    assert len(back) == 2
    assert av.addrs[1] in back
    assert list(back) == list(av.addrs)


def test_addrvec_marker1_and_marker0_single_address() -> None:
    assert pull_entity_addrvec(Reader(V2_3300)) == EntityAddrVec(
        (EntityAddr.from_host("127.0.0.1", 3300),))
    legacy = EntityAddr.from_host("127.0.0.1", 6789, type=AddrType.LEGACY)
    assert pull_entity_addrvec(Reader(encode_legacy_addr(legacy))) == EntityAddrVec((legacy,))


def test_addrvec_without_addr2_writes_the_legacy_address() -> None:
    av = EntityAddrVec.parse("[v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0]")
    raw = enc(push_entity_addrvec, av, 0)
    assert raw == encode_legacy_addr(av.addrs[1])
    # no legacy address at all: a blank one
    only_v2 = EntityAddrVec((av.addrs[0],))
    assert enc(push_entity_addrvec, only_v2, 0) == encode_legacy_addr(EntityAddr())


@pytest.mark.parametrize("raw", [
    H("03"),
    H("02" "ffffffff"),
    H("02" "02000000") + V2_3300,        # second address missing
    H("02" "01000000") + V2_3300[:-1],
    H("02"),
])
def test_addrvec_malformed(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        pull_entity_addrvec(Reader(raw))


# -- address strings (Ceph's operator<< and parse) -----------------------------------


@pytest.mark.parametrize(("text", "type_", "host", "port", "nonce"), [
    ("v2:127.0.0.1:3300/0", AddrType.MSGR2, "127.0.0.1", 3300, 0),
    ("v1:127.0.0.1:6789/0", AddrType.LEGACY, "127.0.0.1", 6789, 0),
    ("v2:[::1]:3300/12", AddrType.MSGR2, "::1", 3300, 12),
    ("v1:[fe80::1:2]:6789/4294967295", AddrType.LEGACY, "fe80::1:2", 6789, 0xFFFFFFFF),
])
def test_address_print_parse_round_trip(text: str, type_: int, host: str, port: int,
                                        nonce: int) -> None:
    addr = EntityAddr.parse(text)
    assert (addr.type, addr.host, addr.port, addr.nonce) == (type_, host, port, nonce)
    assert str(addr) == text


def test_address_parse_defaults_and_special_forms() -> None:
    bare6 = EntityAddr.parse("[::1]:6789/5")
    assert bare6.type == AddrType.MSGR2
    assert bare6.family == AF_INET6
    assert (bare6.port, bare6.nonce) == (6789, 5)
    assert str(bare6) == "v2:[::1]:6789/5"
    assert EntityAddr.parse("[::1]:6789/5", AddrType.LEGACY).type == AddrType.LEGACY
    none = EntityAddr.parse("-")
    assert none == EntityAddr()
    assert str(none) == "-"
    anyaddr = EntityAddr.parse("any:127.0.0.1:0/2930629172")
    assert anyaddr.type == AddrType.ANY
    assert str(anyaddr) == "127.0.0.1:0/2930629172"  # Ceph prints no prefix for ANY
    plain = EntityAddr.parse("10.1.2.3")
    assert (plain.type, plain.family, plain.port, plain.nonce) == (
        AddrType.MSGR2, AF_INET, 0, 0)
    assert EntityAddr.parse("10.1.2.3:") == plain


@pytest.mark.parametrize("text", [
    "", "v2:", "300.1.1.1:1/0", "[::1", "[::1:6789", "1.2.3.4:65536", "1.2.3.4x",
    "1.2.3.4/4294967296", "v3:1.2.3.4", "::1]", "-x",
])
def test_address_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        EntityAddr.parse(text)


def test_addrvec_parse_and_print() -> None:
    text = "[v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0]"
    av = EntityAddrVec.parse(text)
    assert [a.type for a in av] == [AddrType.MSGR2, AddrType.LEGACY]
    assert str(av) == text
    single = EntityAddrVec.parse("v2:127.0.0.1:3300/0")
    assert str(single) == "v2:127.0.0.1:3300/0"
    assert len(single) == 1
    v6 = EntityAddrVec.parse("[::1]:6789/5")
    assert len(v6) == 1
    assert str(v6) == "v2:[::1]:6789/5"
    v6vec = EntityAddrVec.parse("[v2:[::1]:3300/0,v1:[::1]:6789/0]")
    assert str(v6vec) == "[v2:[::1]:3300/0,v1:[::1]:6789/0]"
    assert str(EntityAddrVec()) == ""
    assert str(EntityAddrVec.parse("-")) == "-"
    for bad in ("[]", "[v2:1.2.3.4:1/0", "[v2:1.2.3.4:1/0;v1:1.2.3.4:2/0]", "[,]"):
        with pytest.raises(ValueError):
            EntityAddrVec.parse(bad)


def test_addrvec_find() -> None:
    av = EntityAddrVec.parse("[v1:1.2.3.4:6789/0,any:1.2.3.4:0/9]")
    assert av.find(AddrType.MSGR2) is None
    assert av.msgr2_addr == av.addrs[1]  # falls back to ANY
    assert av.legacy_addr == av.addrs[0]
    assert EntityAddrVec().msgr2_addr is None


def test_sockaddr_and_type_names() -> None:
    assert EntityAddr.from_host("::ffff:1.2.3.4", 80).host == "::ffff:1.2.3.4"
    assert EntityAddr(type=2, family=7).sockaddr_str() == "(unrecognized address family 7)"
    assert addr_type_name(AddrType.CIDR) == "cidr"
    assert addr_type_name(99) == "???"
    a = EntityAddr.from_host("1.2.3.4", 1, nonce=2)
    b = EntityAddr.from_host("::1", 9)
    assert a.with_port(5).port == 5
    assert a.with_nonce(8).nonce == 8
    assert a.with_type(AddrType.LEGACY).type == AddrType.LEGACY
    learned = a.with_ip_of(b)
    assert (learned.family, learned.host, learned.port, learned.nonce) == (AF_INET6, "::1", 1, 2)
    assert EntityAddr().host == ""
    assert not a.is_blank_ip
    assert EntityAddr.from_host("0.0.0.0", 1).is_blank_ip


# -- features ------------------------------------------------------------------------


def test_features_all_matches_pacific() -> None:
    assert F.CEPH_FEATURES_ALL == 0x3F01CFBDFFFDFFFF
    assert F.CEPH_FEATURES_SUPPORTED_DEFAULT == 0x3F01CFBDFFFDFFFF
    clear = {17, 33, 38, 44, 45, *range(49, 56), 62, 63}
    assert {b for b in range(64) if not F.CEPH_FEATURES_ALL >> b & 1} == clear


FEATURE_MASKS = {
    "RECONNECT_SEQ": (F.CEPH_FEATUREMASK_RECONNECT_SEQ, 0x40),
    "SERVER_NAUTILUS": (F.CEPH_FEATUREMASK_SERVER_NAUTILUS, 0x0200000010000004),
    "SERVER_LUMINOUS": (F.CEPH_FEATUREMASK_SERVER_LUMINOUS, 0x0200000000200000),
    "SERVER_MIMIC": (F.CEPH_FEATUREMASK_SERVER_MIMIC, 0x0200000010000000),
    "SERVER_OCTOPUS": (F.CEPH_FEATUREMASK_SERVER_OCTOPUS, 0x0200000010010000),
    "SERVER_PACIFIC": (F.CEPH_FEATUREMASK_SERVER_PACIFIC, 0x0200000010100000),
    "MSG_AUTH": (F.CEPH_FEATUREMASK_MSG_AUTH, 0x800000),
    "MSGR_KEEPALIVE2": (F.CEPH_FEATUREMASK_MSGR_KEEPALIVE2, 0x40000000000),
    "SERVER_JEWEL": (F.CEPH_FEATUREMASK_SERVER_JEWEL, 0x0200000000000000),
    "MON_STATEFUL_SUB": (F.CEPH_FEATURE_MON_STATEFUL_SUB, 0x0200000000000000),
    "MSG_ADDR2": (F.CEPH_FEATUREMASK_MSG_ADDR2, 0x0800000000000000),
    "CEPHX_V2": (F.CEPH_FEATUREMASK_CEPHX_V2, 0x2000000000000000),
}


@pytest.mark.parametrize("name", sorted(FEATURE_MASKS))
def test_feature_masks(name: str) -> None:
    const, expected = FEATURE_MASKS[name]
    assert const == expected
    assert F.feature_mask(name) == expected
    assert F.has_feature(F.CEPH_FEATURES_ALL, expected)


def test_feature_helpers() -> None:
    # the bit alone is not the feature: the incarnation bits are needed too
    assert not F.has_feature(F.CEPH_FEATURE_SERVER_NAUTILUS,
                             F.CEPH_FEATUREMASK_SERVER_NAUTILUS)
    assert F.MSGR2_FRAME_ASSUMED == 0x0A00000010000004
    assert F.MSGR2_REQUIRED == 0x0800000000000000
    assert F.CEPH_FEATURE_RESERVED == 1 << 62
    assert F.CEPH_FEATURE_RESERVED_BROKEN == 1 << 63
    with pytest.raises(KeyError):
        F.feature_mask("NO_SUCH_FEATURE")
    # the mon's required mask for clients (wire-protocol.md §3.1)
    names = F.feature_names(0x0C01020002040000)
    for n in ("CRUSH_TUNABLES", "CRUSH_TUNABLES2", "CRUSH_TUNABLES3", "CRUSH_V4",
              "CRUSH_TUNABLES5", "MSG_ADDR2"):
        assert n in names
    assert "SERVER_NAUTILUS" not in names
    assert "SERVER_PACIFIC" in F.feature_names(F.CEPH_FEATURES_ALL)


def test_msgr2_banner_features() -> None:
    assert F.CEPH_MSGR2_FEATURE_REVISION_1 == 1
    assert F.CEPH_MSGR2_FEATURE_COMPRESSION == 2
    assert F.CEPH_MSGR2_SUPPORTED_FEATURES == 1
    assert F.CEPH_MSGR2_REQUIRED_FEATURES == 0


def test_error_tree() -> None:
    assert issubclass(IncompatibleEncoding, DecodeError)
    assert issubclass(DecodeError, RemoteProtocolError)
    assert not issubclass(EncodeError, RemoteProtocolError)
    assert DecodeError.error_code == 5


def test_addrvec_parse_rejects_trailing_comma() -> None:
    with pytest.raises(ValueError, match="trailing"):
        EntityAddrVec.parse("[v2:1.2.3.4:1/0,]")
    assert len(EntityAddrVec.parse("[v2:1.2.3.4:1/0,v1:1.2.3.4:2/0]")) == 2
