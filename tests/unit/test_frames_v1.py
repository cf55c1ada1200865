"""msgr v1 codecs: banner, address exchange, connect/reply, items, item reader.

Vectors: wire-protocol.md §4.1 (connect, SEQ reply, server hello), §4.3 (MAuth
item, keepalive), and the mon pair capture (connects, CHALLENGE_AUTHORIZER,
RETRY_GLOBAL and SEQ replies, signed MSG items).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncmsgr.errors import (
    BadMessageCrc,
    BannerMismatch,
    DecodeError,
    EncodeError,
    FrameTooLarge,
    RemoteProtocolError,
    UnknownTag,
)
from asyncmsgr.frames import v1
from asyncmsgr.frames.assembler import FrameLimits
from asyncmsgr.message import MsgFooter, MsgHeader
from asyncmsgr.types import AddrType, EntityAddr, EntityName, UTime

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"

CONNECT_HEX = "fffffdffbdcf013f 08000000 01000000 00000000 0f000000 00000000 00000000 00"
REPLY_HEX = "0d fffffdffbdcf013f 01000000 01000000 0f000000 00000000 01"
MAUTH_ITEM_HEX = (
    "07"
    "0100000000000000 0000000000000000 1100 7f00 0100 3c000000 00000000 00000000 0000"
    "08 ffffffffffffffff 0100 0000 694babe2"
    "0000000000000000 ffff 0000000000000000 00000000 1e000000"
    "01 01000000 02000000 08000000 05000000 61646d696e 0000000000000000 00000000"
    "c5482728 00000000 00000000 0000000000000000 01"
)


def _hex(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


def _mon_pair() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CAPTURES / "vectors.json").read_text())
    conn: dict[str, Any] = data["msgr1_authorizer_signed_mon_mon"]
    return conn


def test_connect_vector() -> None:
    raw = _hex(CONNECT_HEX)
    msg = v1.ConnectMsg.decode(raw)
    assert msg.features == 0x3F01CFBDFFFDFFFF
    assert msg.host_type == 8
    assert msg.global_seq == 1
    assert msg.connect_seq == 0
    assert msg.protocol_version == v1.CEPH_MONC_PROTOCOL
    assert msg.authorizer_len == 0
    assert msg.encode() == raw
    assert len(raw) == v1.CONNECT_LEN == 33


def test_seq_reply_vector() -> None:
    raw = _hex(REPLY_HEX)
    reply = v1.ConnectReply.decode(raw)
    assert reply.tag == v1.V1Tag.SEQ
    assert (reply.global_seq, reply.connect_seq, reply.flags) == (1, 1, v1.CONNECT_LOSSY)
    assert reply.encode() == raw
    assert len(raw) == v1.CONNECT_REPLY_LEN == 26


def test_server_hello_vector() -> None:
    raw = (b"ceph v027" + _hex("00000000 00000000 0002 1a86 7f000001") + bytes(120)
           + _hex("00000000 00000000 0002 d68a 7f000001") + bytes(120))
    server, seen = v1.decode_server_hello(raw)
    assert str(server) == "v1:127.0.0.1:6790/0"
    assert str(seen) == "v1:127.0.0.1:54922/0"
    assert v1.encode_server_hello(server, seen) == raw


def test_mon_pair_handshake_vectors() -> None:
    conn = _mon_pair()
    hello = _hex(conn["server_hello"])
    server, seen = v1.decode_server_hello(hello)
    assert str(server) == conn["server_addr"].replace("legacy:", "v1:")
    assert str(seen) == conn["server_sees_client_as"].replace("legacy:", "v1:")
    tags = []
    for step in conn["connects"]:
        raw = _hex(step["connect"]["raw"])
        connect = v1.ConnectMsg.decode(raw)
        authorizer = raw[v1.CONNECT_LEN :]
        assert len(authorizer) == connect.authorizer_len
        assert v1.encode_connect(connect, authorizer) == raw
        reply_raw = _hex(step["reply"]["raw"])
        reply = v1.ConnectReply.decode(reply_raw)
        assert reply.encode() + reply_raw[v1.CONNECT_REPLY_LEN :] == reply_raw
        tags.append(v1.v1_tag_name(reply.tag))
    assert tags[0] == "CHALLENGE_AUTHORIZER"
    assert "RETRY_GLOBAL" in tags
    assert tags[-1] == "SEQ"


def test_mon_pair_items_round_trip() -> None:
    reader = v1.V1ItemReader()
    for item in _mon_pair()["items"]:
        wire = _hex(item["wire"])
        reader.feed(wire)
        got = reader.next_item()
        assert got is not None
        assert reader.buffered == 0
        assert b"".join(bytes(c) for c in v1.encode_item(got)) == wire
        if isinstance(got, v1.MsgItem):
            assert got.header.seq == item["header"]["seq"]
            assert got.footer.sig == int(item["footer"]["sig"], 16)
            assert got.footer.flags == 5  # COMPLETE | SIGNED


def test_mauth_item_vector_and_header_crc() -> None:
    raw = _hex(MAUTH_ITEM_HEX)
    assert len(raw) == 135
    reader = v1.V1ItemReader()
    reader.feed(raw)
    item = reader.next_item()
    assert isinstance(item, v1.MsgItem)
    assert item.header.crc == 0xE2AB4B69
    assert item.header.src == EntityName(8, -1)
    assert item.footer.front_crc == 0x282748C5
    assert len(item.front) == 60


def test_keepalive_vectors() -> None:
    ka = _hex("0e 281e066b e1e6f71a")
    ack = _hex("0f 281e066b e1e6f71a")
    reader = v1.V1ItemReader()
    reader.feed(ka + ack + b"\x09" + b"\x06" + _hex("08 0500000000000000"))
    got = [reader.next_item() for _ in range(5)]
    stamp = UTime(0x6B061E28, 0x1AF7E6E1)
    assert got == [v1.Keepalive2Item(timestamp=stamp), v1.Keepalive2AckItem(timestamp=stamp),
                   v1.KeepaliveItem(), v1.CloseItem(), v1.AckItem(seq=5)]
    assert reader.next_item() is None
    first = got[0]
    assert first is not None
    assert b"".join(bytes(c) for c in v1.encode_item(first)) == ka


def _msg_item(front: bytes = b"front", middle: bytes = b"", data: bytes = b"data") -> bytes:
    header = MsgHeader(seq=3, type=2, priority=127, version=1, front_len=len(front),
                       middle_len=len(middle), data_len=len(data),
                       src=EntityName(4, 1)).with_crc()
    footer = MsgFooter(front_crc=1, middle_crc=2, data_crc=3, sig=0, flags=1)
    item = v1.MsgItem(header=header, front=front, middle=middle, data=data, footer=footer)
    return b"".join(bytes(c) for c in v1.encode_item(item))


@pytest.mark.parametrize("chunk", [None, 1, 7])
def test_item_reader_fed_whole_bytewise_and_with_trailing(chunk: int | None) -> None:
    stream = _msg_item() + _hex("08 0700000000000000") + _msg_item(b"", b"mid", b"")
    reader = v1.V1ItemReader()
    items = []
    pieces = [stream] if chunk is None else [stream[i : i + chunk]
                                             for i in range(0, len(stream), chunk)]
    for piece in pieces:
        reader.feed(piece)
        while (item := reader.next_item()) is not None:
            items.append(item)
    assert [type(i).__name__ for i in items] == ["MsgItem", "AckItem", "MsgItem"]
    assert bytes(items[2].middle) == b"mid"  # type: ignore[union-attr]
    reader.feed(b"\x07" + bytes(10))  # trailing partial item stays buffered
    assert reader.next_item() is None
    assert reader.buffered == 11


def test_old_footer() -> None:
    header = MsgHeader(type=2, front_len=1).with_crc()
    item = v1.MsgItem(header=header, front=b"x", middle=b"", data=b"",
                      footer=MsgFooter(front_crc=7, flags=1))
    wire = b"".join(bytes(c) for c in v1.encode_item(item, old_footer=True))
    assert len(wire) == 1 + 53 + 1 + 13
    reader = v1.V1ItemReader(old_footer=True)
    reader.feed(wire)
    got = reader.next_item()
    assert isinstance(got, v1.MsgItem)
    assert got.footer.front_crc == 7


def test_bad_header_crc_is_caught_before_lengths_are_used() -> None:
    raw = bytearray(_msg_item())
    raw[1 + 22] = 0xFF  # front_len: would announce ~4 GiB if trusted
    reader = v1.V1ItemReader()
    reader.feed(bytes(raw[:60]))
    with pytest.raises(BadMessageCrc):
        reader.next_item()


def test_oversize_lengths_rejected_before_reading_body() -> None:
    header = MsgHeader(type=2, data_len=1 << 30).with_crc()
    reader = v1.V1ItemReader(limits=FrameLimits.pre_auth())
    reader.feed(b"\x07" + header.encode())
    with pytest.raises(FrameTooLarge):
        reader.next_item()


def test_unknown_tag() -> None:
    for tag in (0, 1, 16, 200):
        reader = v1.V1ItemReader()
        reader.feed(bytes([tag]) + bytes(20))
        with pytest.raises(UnknownTag):
            reader.next_item()


def test_banners() -> None:
    v1.check_banner(b"ceph v027" + b"rest")
    with pytest.raises(BannerMismatch, match="msgr2"):
        v1.check_banner(b"ceph v2\n\x10\x00")
    with pytest.raises(BannerMismatch, match="not a Ceph"):
        v1.check_banner(b"GET / HTTP/1.1")
    with pytest.raises(DecodeError):
        v1.decode_server_hello(b"ceph v027" + bytes(100))


def test_encode_errors() -> None:
    with pytest.raises(EncodeError):
        v1.ConnectMsg(features=1 << 64, host_type=8, global_seq=0, connect_seq=0,
                      protocol_version=15).encode()
    connect = v1.ConnectMsg(features=1, host_type=8, global_seq=1, connect_seq=0,
                            protocol_version=15, authorizer_len=3)
    with pytest.raises(EncodeError):
        v1.encode_connect(connect, b"ab")


def test_client_addr_and_connect() -> None:
    me = EntityAddr.from_host("127.0.0.1", 0, type=AddrType.LEGACY, nonce=3174026764)
    connect = v1.ConnectMsg.decode(_hex(CONNECT_HEX))
    out = v1.encode_addr_and_connect(me, connect)
    assert len(out) == 136 + 33
    assert v1.decode_legacy_addr(out) == me
    assert v1.ConnectMsg.decode(out[136:]) == connect


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 255), st.binary(max_size=120))
def test_item_reader_mutations_raise_only_protocol_errors(tag: int, body: bytes) -> None:
    reader = v1.V1ItemReader(limits=FrameLimits.pre_auth())
    reader.feed(bytes([tag]) + body)
    try:
        while reader.next_item() is not None:
            pass
    except RemoteProtocolError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_item_reader_bit_flips(data: st.DataObject) -> None:
    wire = bytearray(_msg_item(b"front bytes", b"m", b"d" * 10))
    pos = data.draw(st.integers(0, len(wire) - 1))
    wire[pos] ^= 1 << data.draw(st.integers(0, 7))
    reader = v1.V1ItemReader(limits=FrameLimits.pre_auth())
    reader.feed(bytes(wire))
    with contextlib.suppress(RemoteProtocolError):
        reader.next_item()


@settings(max_examples=100, deadline=None)
@given(st.integers(0, (1 << 64) - 1), st.integers(0, 255), st.integers(0, (1 << 32) - 1),
       st.integers(0, (1 << 32) - 1), st.binary(max_size=40))
def test_connect_round_trip(features: int, host: int, gseq: int, cseq: int,
                            authorizer: bytes) -> None:
    connect = v1.ConnectMsg(features=features, host_type=host, global_seq=gseq,
                            connect_seq=cseq, protocol_version=24,
                            authorizer_protocol=v1.CEPH_AUTH_CEPHX,
                            authorizer_len=len(authorizer), flags=1)
    raw = v1.encode_connect(connect, authorizer)
    assert v1.ConnectMsg.decode(raw) == connect
    reply = v1.ConnectReply(tag=v1.V1Tag.READY, features=features, global_seq=gseq,
                            connect_seq=cseq, protocol_version=24)
    assert v1.ConnectReply.decode(reply.encode()) == reply
    assert v1.decode_seq(v1.encode_seq(gseq)) == gseq
