"""message.py field by field: the three wire headers and the footer (new and old
forms) with their error texts, the crc flags of ``v1_header``/``v1_footer``,
``decode_message``'s raw parts on an unknown type and the middle it hands a
decoder, ``register_message`` and ``release_throttles``."""

from __future__ import annotations

import array
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Self

import pytest

from asyncmsgr.errors import (
    BadMessageCrc,
    DecodeError,
    EncodeError,
    MessageDecodeError,
    UnknownMessageType,
)
from asyncmsgr.message import (
    MESSAGE_TYPES,
    MSG_FOOTER_LEN,
    MSG_HEADER2_LEN,
    MSG_HEADER_LEN,
    MSG_OLD_FOOTER_LEN,
    CrcFlags,
    FooterFlags,
    Message,
    MsgFooter,
    MsgHeader,
    MsgHeader2,
    decode_message,
    register_message,
)
from asyncmsgr.message_types import message_type_name
from asyncmsgr.messages import MPing
from asyncmsgr.types import EntityName, EntityType
from asyncmsgr.wire.buffer import Reader
from asyncmsgr.wire.crc32c import ceph_crc32c

SRC = EntityName(EntityType.OSD, 7)


def _message() -> MPing:
    m = MPing(seq=3, tid=0x1122, priority=196, version=1, compat_version=1, data_off=512,
              src=SRC)
    m.front = b"front"
    m.middle = b"middle!"
    m.data = b"data bytes"
    return m


# -- ceph_msg_header ---------------------------------------------------------------------


def test_v1_header_fields_and_crc() -> None:
    h = _message().v1_header()
    assert (h.seq, h.tid, h.type, h.priority, h.version) == (3, 0x1122, MPing.TYPE, 196, 1)
    assert (h.front_len, h.middle_len, h.data_len, h.data_off) == (5, 7, 10, 512)
    assert (h.src, h.compat_version) == (SRC, 1)
    assert h.crc == ceph_crc32c(0, h.encode()[:49])
    assert h.crc != 0


@pytest.mark.parametrize("flags", [0, CrcFlags.DATA])
def test_v1_header_without_header_crc_has_none(flags: int) -> None:
    assert _message().v1_header(crc_flags=flags).crc == 0


def test_header_decode_round_trip_keeps_every_field() -> None:
    h = MsgHeader(seq=1, tid=2, type=3, priority=4, version=5, front_len=6, middle_len=7,
                  data_len=8, data_off=9, src=SRC, compat_version=10, reserved=11).with_crc()
    raw = h.encode()
    assert len(raw) == MSG_HEADER_LEN
    assert MsgHeader.decode(raw) == h


def test_header_decode_checks_the_crc_by_default() -> None:
    raw = bytearray(MsgHeader(seq=1).with_crc().encode())
    raw[0] ^= 1
    calc = ceph_crc32c(0, bytes(raw[:49]))
    stored = struct.unpack_from("<I", raw, 49)[0]
    with pytest.raises(BadMessageCrc) as e:
        MsgHeader.decode(raw)
    assert str(e.value) == f"bad header crc {stored:#010x} != {calc:#010x}"
    assert MsgHeader.decode(raw, check_crc=False).seq == 0


def test_header_decode_and_encode_errors() -> None:
    with pytest.raises(DecodeError) as d:
        MsgHeader.decode(bytes(52))
    assert str(d.value) == "ceph_msg_header needs 53 bytes, got 52"
    with pytest.raises(EncodeError) as e:
        MsgHeader(seq=-1).encode()
    assert str(e.value).startswith("ceph_msg_header field out of range: ")


# -- ceph_msg_header2 --------------------------------------------------------------------


def test_v2_header_fields() -> None:
    h = _message().v2_header(ack_seq=99)
    assert h == MsgHeader2(seq=3, tid=0x1122, type=MPing.TYPE, priority=196, version=1,
                           data_off=512, ack_seq=99, compat_version=1)
    assert MsgHeader2.decode(h.encode()) == h


def test_header2_to_legacy_has_no_crc() -> None:
    h2 = MsgHeader2(seq=1, tid=2, type=3, priority=4, version=5, data_off=6, ack_seq=7,
                    compat_version=8, reserved=9)
    legacy = h2.to_legacy(SRC, 10, 11, 12)
    assert legacy == MsgHeader(seq=1, tid=2, type=3, priority=4, version=5, front_len=10,
                               middle_len=11, data_len=12, data_off=6, src=SRC,
                               compat_version=8, reserved=9, crc=0)


def test_header2_errors() -> None:
    with pytest.raises(DecodeError) as d:
        MsgHeader2.decode(bytes(MSG_HEADER2_LEN + 1))
    assert str(d.value) == "ceph_msg_header2 must be 41 bytes, got 42"
    with pytest.raises(EncodeError) as e:
        MsgHeader2(seq=-1).encode()
    assert str(e.value).startswith("ceph_msg_header2 field out of range: ")


# -- ceph_msg_footer (and the old 13-byte form) ------------------------------------------------


def test_footer_round_trips_new_and_old() -> None:
    f = MsgFooter(front_crc=1, middle_crc=2, data_crc=3, sig=4,
                  flags=FooterFlags.COMPLETE | FooterFlags.NOCRC)
    assert len(f.encode()) == MSG_FOOTER_LEN
    assert MsgFooter.decode(f.encode()) == f
    old = f.encode(old=True)
    assert old == struct.pack("<IIIB", 1, 2, 3, FooterFlags.COMPLETE | FooterFlags.NOCRC)
    assert MsgFooter.decode(old, old=True) == f._replace(sig=0)
    # an old footer followed by other bytes: only the first 13 are read
    assert MsgFooter.decode(old + b"\xff" * 8, old=True) == f._replace(sig=0)


def test_footer_errors() -> None:
    with pytest.raises(DecodeError) as d:
        MsgFooter.decode(bytes(MSG_OLD_FOOTER_LEN - 1), old=True)
    assert str(d.value) == "ceph_msg_footer needs 13 bytes, got 12"
    with pytest.raises(DecodeError) as d2:
        MsgFooter.decode(bytes(MSG_OLD_FOOTER_LEN))
    assert str(d2.value) == "ceph_msg_footer needs 21 bytes, got 13"
    with pytest.raises(EncodeError) as e:
        MsgFooter(front_crc=-1).encode(old=True)
    assert str(e.value).startswith("ceph_msg_footer field out of range: ")


def test_v1_footer_crc_flags() -> None:
    m = _message()
    full = m.v1_footer()
    assert full.front_crc == ceph_crc32c(0, b"front")
    assert full.middle_crc == ceph_crc32c(0, b"middle!")
    assert full.data_crc == ceph_crc32c(0, b"data bytes")
    assert full.flags == FooterFlags.COMPLETE
    data_only = m.v1_footer(crc_flags=CrcFlags.DATA)
    assert (data_only.front_crc, data_only.middle_crc) == (0, 0)
    assert data_only.data_crc == full.data_crc
    header_only = m.v1_footer(crc_flags=CrcFlags.HEADER)
    assert header_only.data_crc == 0
    assert header_only.flags == FooterFlags.COMPLETE | FooterFlags.NOCRC


def test_bad_front_crc_error_text() -> None:
    m = _message()
    f = m.v1_footer()._replace(front_crc=5)
    with pytest.raises(BadMessageCrc) as e:
        decode_message(m.v1_header(), m.front, m.middle, m.data, footer=f)
    assert str(e.value) == f"bad front crc 0x00000005 != {ceph_crc32c(0, b'front'):#010x}"


# -- decode_message ------------------------------------------------------------------------


def test_unknown_type_keeps_the_raw_parts() -> None:
    h = MsgHeader(type=0x7FFE)
    with pytest.raises(UnknownMessageType) as e:
        decode_message(h, b"f", b"m", b"d")
    assert (e.value.header, e.value.front, e.value.middle, e.value.data) == \
        (h, b"f", b"m", b"d")


@dataclass(kw_only=True, eq=False, slots=True, repr=False)
class _MiddleSeen(Message):
    TYPE: ClassVar[int] = 0x7FF0
    seen: bytes = b""

    @classmethod
    def decode_payload(cls, header: MsgHeader, front: Reader, middle: memoryview,
                       data: memoryview) -> Self:
        return cls(seen=bytes(middle) + b"|" + bytes(data) + b"|%d,%d" % (len(middle), len(data)))


@pytest.fixture
def middle_seen() -> Iterator[type[_MiddleSeen]]:
    register_message(_MiddleSeen)
    try:
        yield _MiddleSeen
    finally:
        del MESSAGE_TYPES[_MiddleSeen.TYPE]


def test_decoder_gets_the_middle_and_data(middle_seen: type[_MiddleSeen]) -> None:
    out = decode_message(MsgHeader(type=middle_seen.TYPE), b"", b"mid", b"dat")
    assert isinstance(out, middle_seen)
    assert out.seen == b"mid|dat|3,3"
    # a view of wider items reaches the decoder as bytes (len counts bytes)
    wide = memoryview(array.array("H", [1, 2]))
    out = decode_message(MsgHeader(type=middle_seen.TYPE), b"", wide, wide)
    assert isinstance(out, middle_seen)
    assert out.seen.endswith(b"|4,4")


def test_register_message_refuses_a_second_class_for_a_type(
        middle_seen: type[_MiddleSeen]) -> None:
    assert MESSAGE_TYPES[middle_seen.TYPE] is middle_seen
    assert register_message(middle_seen) is middle_seen  # the same class again: fine

    @dataclass(kw_only=True, eq=False, slots=True, repr=False)
    class Other(Message):
        TYPE: ClassVar[int] = 0x7FF0

    with pytest.raises(ValueError, match=r"message type 32752 already registered to "):
        register_message(Other)
    assert MESSAGE_TYPES[middle_seen.TYPE] is middle_seen


def test_repr_names_the_class() -> None:
    assert repr(MPing(seq=1, tid=2)).startswith("<MPing ")


def test_release_throttles_runs_the_hook_once() -> None:
    calls: list[int] = []
    m = MPing()
    m.release_hook = lambda: calls.append(1)
    m.release_throttles()
    m.release_throttles()
    assert calls == [1]
    assert m.release_hook is None


@dataclass(kw_only=True, eq=False, slots=True, repr=False)
class _Broken(Message):
    TYPE: ClassVar[int] = 0x7FF1

    @classmethod
    def decode_payload(cls, header: MsgHeader, front: Reader, middle: memoryview,
                       data: memoryview) -> Self:
        raise ValueError("boom")


def test_foreign_decode_errors_are_wrapped_with_type_and_version() -> None:
    register_message(_Broken)
    try:
        with pytest.raises(MessageDecodeError) as e:
            decode_message(MsgHeader(type=_Broken.TYPE, version=3), b"")
    finally:
        del MESSAGE_TYPES[_Broken.TYPE]
    assert str(e.value) == f"{message_type_name(_Broken.TYPE)} v3: ValueError('boom')"
    assert isinstance(e.value.__cause__, ValueError)
