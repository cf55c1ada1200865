"""Captured Pacific 16.2.15 messages decode and re-encode to the same bytes.

Sources (``tests/data/captures``, copied from the shared reference; see its README.md):

* ``vectors.json``: plaintext msgr2 MESSAGE segments of four connections and the
  msgr v1 items of a mon pair (MON_GET_MAP and MON_PROBE have no class and are
  skipped);
* ``v2-crc-cephx-status.pcap`` and ``v2-crc-none-status.pcap`` (every connection
  is msgr2 crc mode, so plaintext): adds MMonCommand/MMonCommandAck with their
  data segments;
* the msgr v1 connection of ``v1-cephx-status.pcap``: MAuth, MAuthReply,
  MMonSubscribe and MMonMap with their v1 footers.

TCP streams are rebuilt with :func:`asyncmsgr.tools.pcap.reassemble`; msgr2 crc
frames are split here and their crcs checked; v1 messages are found by scanning
for a MSG tag followed by a header with a valid crc.
"""

from __future__ import annotations

import functools
import json
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import asyncmsgr.messages as msgs
from asyncmsgr.errors import RemoteProtocolError, UnknownMessageType
from asyncmsgr.message import (
    MSG_FOOTER_LEN,
    MSG_HEADER_LEN,
    Message,
    MsgFooter,
    MsgHeader,
    MsgHeader2,
    decode_message,
)
from asyncmsgr.tools.pcap import reassemble
from asyncmsgr.types import EntityName
from asyncmsgr.wire.crc32c import ceph_crc32c

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"
FSID = uuid.UUID("5a1d0c1e-0000-4000-8000-00000000c0de")
V2_KEYS = ("msgr2_crc_mon_cephx", "msgr2_secure_mon_cephx", "msgr2_crc_mon_auth_none",
           "msgr2_crc_authorizer_mon_mon")
#: Types in the captures that have no class here.
UNIMPLEMENTED = frozenset({41, 65, 66, 67, 140, 0x704})
PEER = EntityName(1, 0)

Parts = tuple[MsgHeader, bytes, bytes, bytes, MsgFooter | None]


def _captures() -> Path:
    return CAPTURES


@functools.cache
def _vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((_captures() / "vectors.json").read_text())
    return data


def _json_messages() -> list[Parts]:
    out: list[Parts] = []
    for key in V2_KEYS:
        for frame in _vectors()[key]["frames"]:
            if frame["tag_name"] != "MESSAGE":
                continue
            segs = [bytes.fromhex(s) for s in frame["segments_plain"]] + [b""] * 3
            h2 = MsgHeader2.decode(segs[0])
            header = h2.to_legacy(PEER, len(segs[1]), len(segs[2]), len(segs[3]))
            out.append((header, segs[1], segs[2], segs[3], None))
    for item in _vectors()["msgr1_authorizer_signed_mon_mon"]["items"]:
        if item["tag_name"] == "MSG":
            out.extend(_v1_messages(bytes.fromhex(item["wire"])))
    return out


# -- pcap helpers ----------------------------------------------------------------------


def _v2_crc_messages(stream: bytes) -> Iterator[Parts]:
    """MESSAGE frames of a msgr2.1 crc-mode stream (banner first), crcs checked."""
    assert stream[:8] == b"ceph v2\n"
    pos = 10 + struct.unpack_from("<H", stream, 8)[0]
    while pos < len(stream):
        pre = stream[pos:pos + 32]
        assert ceph_crc32c(0, pre[:28]) == struct.unpack_from("<I", pre, 28)[0]
        tag, nseg = pre[0], pre[1]
        lens = [struct.unpack_from("<I", pre, 2 + 6 * i)[0] for i in range(nseg)]
        pos += 32
        segs = [stream[pos:pos + lens[0]]]
        pos += lens[0]
        assert ceph_crc32c(0xFFFFFFFF, segs[0]) == struct.unpack_from("<I", stream, pos)[0]
        pos += 4
        if nseg > 1:
            for n in lens[1:]:
                segs.append(stream[pos:pos + n])
                pos += n
            for i, seg in enumerate(segs[1:]):  # epilogue: late_status, 3 crcs
                assert ceph_crc32c(0xFFFFFFFF, seg) == struct.unpack_from(
                    "<I", stream, pos + 1 + 4 * i)[0]
            pos += 13
        if tag == 17:  # MESSAGE
            segs += [b""] * (4 - len(segs))
            header = MsgHeader2.decode(segs[0]).to_legacy(PEER, len(segs[1]), len(segs[2]),
                                                          len(segs[3]))
            yield header, segs[1], segs[2], segs[3], None


def _v1_messages(stream: bytes) -> Iterator[Parts]:
    """msgr v1 MSG items: tag 7 then a header whose crc checks, then parts and footer."""
    pos = 0
    while pos + 1 + MSG_HEADER_LEN <= len(stream):
        if stream[pos] != 7:
            pos += 1
            continue
        try:
            h = MsgHeader.decode(stream[pos + 1:pos + 1 + MSG_HEADER_LEN])
        except RemoteProtocolError:  # short, or a 7 byte that starts no header
            pos += 1
            continue
        p = pos + 1 + MSG_HEADER_LEN
        parts = []
        for n in (h.front_len, h.middle_len, h.data_len):
            parts.append(stream[p:p + n])
            p += n
        footer = MsgFooter.decode(stream[p:p + MSG_FOOTER_LEN])
        yield h, parts[0], parts[1], parts[2], footer
        pos = p + MSG_FOOTER_LEN


@functools.cache
def _pcap_messages(name: str) -> list[Parts]:
    out: list[Parts] = []
    for conn in reassemble((_captures() / name).read_bytes()):
        for half in (conn.c2s, conn.s2c):
            data = bytes(half.data)
            if data.startswith(b"ceph v2\n"):
                out.extend(_v2_crc_messages(data))
            elif data.startswith(b"ceph v027"):
                out.extend(_v1_messages(data))
    return out


def _v1_status_messages() -> list[Parts]:
    """The msgr v1 connection of v1-cephx-status.pcap (its msgr2 ones are secure)."""
    out: list[Parts] = []
    for conn in reassemble((_captures() / "v1-cephx-status.pcap").read_bytes()):
        for half in (conn.c2s, conn.s2c):
            if bytes(half.data[:9]) == b"ceph v027":
                out.extend(_v1_messages(bytes(half.data)))
    return out


def _decode(parts: Parts) -> Message:
    header, front, middle, data, footer = parts
    return decode_message(header, front, middle, data, footer=footer)


def _assert_reencodes(all_parts: list[Parts]) -> list[Message]:
    """Decode every implemented message; prepare() must give the same front and data."""
    decoded = []
    for parts in all_parts:
        header, front, _middle, data, _footer = parts
        try:
            m = _decode(parts)
        except UnknownMessageType:
            assert header.type in UNIMPLEMENTED
            continue
        m.prepare()
        assert bytes(m.front) == front, f"{m.type_name} front differs"
        assert bytes(m.data) == data
        assert (m.version, m.compat_version) == (header.version, header.compat_version)
        decoded.append(m)
    return decoded


# -- vectors.json ----------------------------------------------------------------------


def test_vectors_json_messages_reencode_identically() -> None:
    decoded = _assert_reencodes(_json_messages())
    names = sorted({m.type_name for m in decoded})
    assert names == ["CONFIG", "MON_GET_MAP", "MON_MAP", "MON_SUBSCRIBE"]
    assert len(decoded) == 10  # 3 MON_SUBSCRIBE, 3 MON_GET_MAP, 2 MON_MAP, 2 CONFIG


def test_vectors_json_field_values() -> None:
    decoded = [_decode(p) for p in _json_messages() if p[0].type not in UNIMPLEMENTED]
    subs = [m for m in decoded if isinstance(m, msgs.MMonSubscribe)]
    assert len(subs) == 3
    for sub in subs:
        assert sub.what == {"config": msgs.SubscribeItem(0, 0),
                            "monmap": msgs.SubscribeItem(0, 0)}
        assert sub.hostname == "vm"
        assert (sub.seq, sub.version, sub.compat_version, sub.priority) == (2, 3, 1, 127)
    configs = [m for m in decoded if isinstance(m, msgs.MConfig)]
    assert [c.config for c in configs] == [{}, {}]
    maps = [m for m in decoded if isinstance(m, msgs.MMonMap)]
    assert [len(m.monmap) for m in maps] == [201, 201]
    assert all(m.priority == 196 for m in maps)


def test_monmap_from_capture() -> None:
    blob = next(m.monmap for m in (_decode(p) for p in _json_messages()
                                   if p[0].type == 4) if isinstance(m, msgs.MMonMap))
    assert blob[:6] == bytes.fromhex("0906c3000000")
    mm = msgs.MonMap.decode(blob)
    assert mm.encode() == blob
    assert mm.fsid == FSID
    assert mm.epoch == 1
    assert mm.ranks == ("a",)
    # what `monmaptool --print` shows for these 201 bytes (wire-protocol.md §9)
    assert mm.rank_lines() == ["0: [v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0] mon.a"]
    [(rank, name, addrs)] = mm.rank_entries()
    assert (rank, name, str(addrs)) == (0, "a", "[v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0]")
    assert mm.min_mon_release == msgs.CephRelease.PACIFIC
    assert mm.persistent_features == 0xFF
    assert mm.optional_features == 0
    assert mm.strategy == msgs.ElectionStrategy.CLASSIC
    assert mm.last_changed == mm.created
    assert not mm.stretch_mode_enabled
    assert (mm.mon_info["a"].priority, mm.mon_info["a"].weight) == (0, 0)
    assert msgs.MMonMap.from_monmap(mm).monmap == blob


# -- pcaps -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["v2-crc-cephx-status.pcap", "v2-crc-none-status.pcap"])
def test_pcap_v2_messages_reencode_identically(name: str) -> None:
    decoded = _assert_reencodes(_pcap_messages(name))
    counts: dict[str, int] = {}
    for m in decoded:
        counts[m.type_name] = counts.get(m.type_name, 0) + 1
    assert counts == {"MON_GET_MAP": 2, "MON_SUBSCRIBE": 4, "MON_MAP": 4, "CONFIG": 2,
                      "MON_COMMAND": 2, "MON_COMMAND_ACK": 2, "OSD_MAP": 1, "MGR_MAP": 1}


def test_pcap_mon_commands() -> None:
    decoded = [_decode(p) for p in _pcap_messages("v2-crc-cephx-status.pcap")
               if p[0].type in (50, 51)]
    cmds = [m for m in decoded if isinstance(m, msgs.MMonCommand)]
    acks = [m for m in decoded if isinstance(m, msgs.MMonCommandAck)]
    expected = [['{"prefix": "get_command_descriptions"}'], ['{"prefix": "status"}']]
    assert [c.cmd for c in cmds] == expected
    assert all(c.fsid == FSID and c.paxos == msgs.DEFAULT_PAXOS_HEADER for c in cmds)
    assert [c.tid for c in cmds] == [1, 2]
    assert all(not len(c.data) for c in cmds)
    assert [a.cmd for a in acks] == expected
    assert [(a.r, a.rs, a.tid) for a in acks] == [(0, "", 1), (0, "", 2)]
    assert [len(a.data) for a in acks] == [73271, 311]
    assert str(FSID).encode() in bytes(acks[1].data)  # `ceph -s` output: "id: <fsid>"
    assert json.loads(bytes(acks[0].data))  # command descriptions are JSON


def test_pcap_v1_auth_messages() -> None:
    parts = _v1_status_messages()
    assert [p[0].type for p in parts] == [17, 17, 15, 18, 18, 4]
    decoded = _assert_reencodes(parts)
    auth1, auth2, sub, reply1, reply2, monmap = decoded
    assert isinstance(auth1, msgs.MAuth)
    assert isinstance(auth2, msgs.MAuth)
    assert (auth1.protocol, auth1.monmap_epoch) == (0, 0)
    assert auth1.auth_payload.hex() == (
        "010100000002000000080000000500000061646d696e0000000000000000")
    assert auth1.paxos == msgs.DEFAULT_PAXOS_HEADER
    assert (auth2.protocol, len(auth2.auth_payload)) == (2, 36)
    assert isinstance(reply1, msgs.MAuthReply)
    assert isinstance(reply2, msgs.MAuthReply)
    assert (reply1.protocol, reply1.result, reply1.global_id) == (2, 0, 4105)
    assert reply1.result_bl.hex() == "01838315a0b822fabc"
    assert reply1.result_msg == ""
    assert (reply2.global_id, len(reply2.result_bl)) == (4105, 214 - 4 - 4 - 8 - 4 - 4)
    assert isinstance(sub, msgs.MMonSubscribe)
    assert sub.hostname == "vm"
    assert isinstance(monmap, msgs.MMonMap)
    assert monmap.decode_monmap().rank_lines() == [
        "0: [v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0] mon.a"]
