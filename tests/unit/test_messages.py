"""Typed messages: round trips, hand-built vectors, version handling, bad input.

Trailing bytes after the last front field are tolerated by every message, as
Ceph's ``decode_payload`` implementations never check for the end of the front
(``test_trailing_front_bytes_ignored``). MAuth is the one layout where a short
tail matters: 1-3 bytes after ``auth_payload`` are a truncated ``monmap_epoch``.
MPing keeps its whole front, so it accepts anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncmsgr.errors import (
    DecodeError,
    EncodeError,
    IncompatibleEncoding,
    MessageDecodeError,
)
from asyncmsgr.features import CEPH_FEATURES_ALL, feature_mask
from asyncmsgr.message import (
    Message,
    MsgFooter,
    MsgHeader,
    RawMessage,
    decode_message,
    import_message_types,
)
from asyncmsgr.messages import (
    CEPH_SUBSCRIBE_ONETIME,
    MAuth,
    MAuthReply,
    MCommand,
    MCommandReply,
    MConfig,
    MMonCommand,
    MMonCommandAck,
    MMonGetMap,
    MMonGetVersion,
    MMonGetVersionReply,
    MMonMap,
    MMonSubscribe,
    MMonSubscribeAck,
    MonInfo,
    MonMap,
    MPing,
    PaxosHeader,
    SubscribeItem,
)
from asyncmsgr.messages.monmap import infer_release_from_mon_features, pull_mon_info
from asyncmsgr.osdc.wire import FastMOSDOp
from asyncmsgr.types import EntityAddrVec, EntityName, UTime
from asyncmsgr.wire.buffer import Reader, Writer

MESSAGE_TYPES = import_message_types()
FSID = uuid.UUID("5a1d0c1e-0000-4000-8000-00000000c0de")
BASE_FIELDS = frozenset(Message._fields)


def payload_fields(m: Message) -> dict[str, Any]:
    """The typed fields a subclass adds (Message compares by identity)."""
    return {name: getattr(m, name) for name in type(m)._fields if name not in BASE_FIELDS}


def roundtrip(m: Message, features: int = CEPH_FEATURES_ALL) -> Message:
    """prepare, then decode through a v1 header and footer (crcs checked)."""
    m.prepare(features)
    return decode_message(m.v1_header(), m.front, m.middle, m.data, footer=m.v1_footer())


def header_for(m: Message, version: int | None = None) -> MsgHeader:
    """A header for ``m`` with an optional header version override."""
    h = m.v1_header()
    return h if version is None else h._replace(version=version)


def sample_monmap() -> MonMap:
    addrs = EntityAddrVec.parse("[v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0]")
    return MonMap(fsid=FSID, epoch=3, last_changed=UTime(10, 20), created=UTime(1, 2),
                  persistent_features=0xFF, optional_features=0x1,
                  mon_info={"a": MonInfo(name="a", public_addrs=addrs, priority=1,
                                         weight=2, crush_loc={"zone": "z1", "dc": "x"}),
                            "b": MonInfo(name="b", public_addrs=addrs)},
                  ranks=("b", "a"), min_mon_release=16, removed_ranks=frozenset({3, -1}),
                  strategy=3, disallowed_leaders=frozenset({"b"}), stretch_mode_enabled=True,
                  tiebreaker_mon="b", stretch_marked_down_mons=frozenset({"x", "a"}))


SAMPLES: dict[str, Callable[[], Message]] = {
    "ping_empty": MPing,
    "ping_json": lambda: MPing.with_json('{"health": "HEALTH_OK"}'),
    "monmap": lambda: MMonMap.from_monmap(sample_monmap()),
    "subscribe": lambda: MMonSubscribe(
        what={"osdmap": SubscribeItem(7, CEPH_SUBSCRIBE_ONETIME), "config": SubscribeItem()},
        hostname="host"),
    "subscribe_ack": lambda: MMonSubscribeAck(interval=300, fsid=FSID),
    "auth": lambda: MAuth(paxos=PaxosHeader(version=5), protocol=2,
                          auth_payload=b"\x01\x02", monmap_epoch=9),
    "auth_reply": lambda: MAuthReply(protocol=2, result=-13, global_id=4105,
                                     result_bl=b"\xaa", result_msg="denied"),
    "get_map": MMonGetMap,
    "get_version": lambda: MMonGetVersion(handle=7, what="osdmap"),
    "get_version_reply": lambda: MMonGetVersionReply(handle=7, map_version=42,
                                                     oldest_version=1),
    "mon_command": lambda: MMonCommand(fsid=FSID, cmd=['{"prefix": "status"}'],
                                       data=b"input"),
    "mon_command_ack": lambda: MMonCommandAck(r=-2, rs="ENOENT", cmd=["{}"], data=b"out"),
    "config": lambda: MConfig(config={"b": "2", "a": "1"}),
    "command": lambda: MCommand(fsid=FSID, cmd=["{}", "x"], data=b"in"),
    "command_reply": lambda: MCommandReply(r=0, rs="ok", data=b"{}"),
}


# -- registry and round trips ----------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "type_", "name", "head", "compat"),
    [
        (MPing, 2, "PING", 1, 1),
        (MMonMap, 4, "MON_MAP", 1, 1),
        (MMonSubscribe, 15, "MON_SUBSCRIBE", 3, 1),
        (MMonSubscribeAck, 16, "MON_SUBSCRIBE_ACK", 1, 1),
        (MMonGetMap, 5, "MON_GET_MAP", 1, 1),
        (MAuth, 17, "AUTH", 1, 1),
        (MAuthReply, 18, "AUTH_REPLY", 1, 1),
        (MMonGetVersion, 19, "MON_GET_VERSION", 1, 1),
        (MMonGetVersionReply, 20, "MON_GET_VERSION_REPLY", 2, 2),
        (MMonCommand, 50, "MON_COMMAND", 1, 1),
        (MMonCommandAck, 51, "MON_COMMAND_ACK", 1, 1),
        (MConfig, 62, "CONFIG", 1, 1),
        (MCommand, 97, "COMMAND", 1, 1),
        (MCommandReply, 98, "COMMAND_REPLY", 1, 1),
    ],
)
def test_registered_with_pacific_versions(
    cls: type[Message], type_: int, name: str, head: int, compat: int
) -> None:
    assert MESSAGE_TYPES[type_] is cls
    m = cls()
    assert (m.type, m.type_name, cls.HEAD_VERSION, cls.COMPAT_VERSION) == (
        type_, name, head, compat)
    m.prepare()
    assert (m.version, m.compat_version) == (head, compat)


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_roundtrip_constructed(key: str) -> None:
    m = SAMPLES[key]()
    m.seq, m.tid, m.src = 4, 9, EntityName(8, 4105)
    out = roundtrip(m)
    assert type(out) is type(m)
    assert payload_fields(out) == payload_fields(m)
    assert (out.seq, out.tid, out.src, out.version) == (4, 9, EntityName(8, 4105), m.version)
    assert bytes(out.data) == bytes(m.data)
    out.prepare()
    assert bytes(out.front) == bytes(m.front)


def test_repr_is_short() -> None:
    m = MMonCommandAck(data=b"x" * 10_000)
    assert len(repr(m)) < 200
    assert "MON_COMMAND_ACK" in repr(m)


# -- hand-built vectors ----------------------------------------------------------------

# wire-protocol.md §4.3: the first MAuth from client.admin (v1, 135 bytes on the wire).
MAUTH_V1_WIRE = bytes.fromhex(
    "07"
    "0100000000000000" "0000000000000000" "1100" "7f00" "0100" "3c000000" "00000000"
    "00000000" "0000" "08" "ffffffffffffffff" "0100" "0000" "694babe2"
    "0000000000000000" "ffff" "0000000000000000" "00000000" "1e000000"
    "01" "01000000" "02000000" "08000000" "05000000" "61646d696e" "0000000000000000"
    "00000000"
    "c5482728" "00000000" "00000000" "0000000000000000" "01"
)
MAUTH_PAYLOAD = bytes.fromhex("010100000002000000080000000500000061646d696e0000000000000000")


def test_mauth_real_v1_vector_decodes() -> None:
    header = MsgHeader.decode(MAUTH_V1_WIRE[1:54])
    front = MAUTH_V1_WIRE[54:114]
    footer = MsgFooter.decode(MAUTH_V1_WIRE[114:])
    m = decode_message(header, front, footer=footer)
    assert isinstance(m, MAuth)
    assert m.paxos == PaxosHeader(version=0, deprecated_session_mon=0xFFFF,
                                  deprecated_session_mon_tid=0)
    assert (m.protocol, m.auth_payload, m.monmap_epoch) == (0, MAUTH_PAYLOAD, 0)
    assert (m.seq, m.priority, m.src) == (1, 127, EntityName(8, -1))


def test_mauth_real_v1_vector_encodes_byte_identical() -> None:
    m = MAuth(protocol=0, auth_payload=MAUTH_PAYLOAD, seq=1, priority=127,
              src=EntityName(8, -1))
    m.prepare()
    wire = b"\x07" + m.v1_header().encode() + bytes(m.front) + m.v1_footer().encode()
    assert wire == MAUTH_V1_WIRE


def test_mauth_without_epoch_reads_zero_and_short_epoch_fails() -> None:
    m = SAMPLES["auth"]()
    m.prepare()
    front = bytes(m.front)
    out = decode_message(m.v1_header(), front[:-4])
    assert isinstance(out, MAuth)
    assert (out.auth_payload, out.monmap_epoch) == (b"\x01\x02", 0)
    for cut in (1, 2, 3):
        with pytest.raises(MessageDecodeError):
            decode_message(m.v1_header(), front[:-cut])


@pytest.mark.parametrize(
    ("msg", "front_hex"),
    [
        (MAuthReply(protocol=1, result=-1, global_id=0x1122, result_bl=b"\xab",
                    result_msg="no"),
         "01000000" "ffffffff" "2211000000000000" "01000000ab" "020000006e6f"),
        (MMonGetVersion(handle=1, what="osdmap"),
         "0100000000000000" "060000006f73646d6170"),
        (MMonGetVersionReply(handle=1, map_version=0x10, oldest_version=2),
         "0100000000000000" "1000000000000000" "0200000000000000"),
        (MMonSubscribeAck(interval=0x12C, fsid=FSID),
         "2c010000" "5a1d0c1e00004000800000000000c0de"),
        (MCommand(fsid=FSID, cmd=["ab"]),
         "5a1d0c1e00004000800000000000c0de" "01000000" "020000006162"),
        (MCommandReply(r=-22, rs="bad"), "eaffffff" "03000000626164"),
        (MMonCommand(paxos=PaxosHeader(version=3), fsid=FSID, cmd=[]),
         "0300000000000000" "ffff" "0000000000000000"
         "5a1d0c1e00004000800000000000c0de" "00000000"),
        (MMonCommandAck(r=0, rs="", cmd=["x"]),
         "0000000000000000" "ffff" "0000000000000000"
         "00000000" "00000000" "01000000" "0100000078"),
        (MConfig(config={"b": "2", "a": "1"}),
         "02000000" "010000006101000000 31" "010000006201000000 32"),
        (MMonSubscribe(what={"osdmap": SubscribeItem(5, 1), "mgrmap": SubscribeItem()},
                       hostname="vm"),
         "02000000" "060000006d67726d6170" "0000000000000000" "00"
         "060000006f73646d6170" "0500000000000000" "01" "02000000766d"),
        (MPing(), ""),
        (MPing.with_json("{}"), "020000007b7d"),
        (MMonMap(monmap=b"\x09\x06"), "020000000906"),
    ],
)
def test_hand_vectors(msg: Message, front_hex: str) -> None:
    msg.prepare()
    assert bytes(msg.front).hex() == front_hex.replace(" ", "")
    out = decode_message(msg.v1_header(), msg.front)
    assert type(out) is type(msg)
    assert payload_fields(out) == payload_fields(msg)


def test_command_data_segment_kept() -> None:
    for m in (MMonCommand(cmd=["{}"], data=b"in"), MMonCommandAck(data=b"out"),
              MCommand(data=b"in"), MCommandReply(data=memoryview(b"out"))):
        before = m.data
        m.prepare()
        assert m.data is before
        assert not len(m.middle)
        out = decode_message(m.v1_header(), m.front, b"", m.data, footer=m.v1_footer())
        assert bytes(out.data) == bytes(before)


def test_ping_json_helper() -> None:
    assert MPing().json_text() is None
    assert MPing.with_json('{"a": 1}').json_text() == '{"a": 1}'
    with pytest.raises(DecodeError):
        MPing(payload=b"\x05\x00\x00\x00{}").json_text()


# -- versions and feature-dependent encodings ------------------------------------------


def test_get_version_reply_v1_has_no_oldest() -> None:
    m = MMonGetVersionReply(handle=1, map_version=2, oldest_version=3)
    m.prepare()
    out = decode_message(header_for(m, version=1), bytes(m.front)[:16])
    assert isinstance(out, MMonGetVersionReply)
    assert (out.handle, out.map_version, out.oldest_version) == (1, 2, 0)
    with pytest.raises(MessageDecodeError):
        decode_message(header_for(m, version=2), bytes(m.front)[:16])


def test_subscribe_v2_has_no_hostname() -> None:
    m = MMonSubscribe(what={"monmap": SubscribeItem(3, 0)}, hostname="h")
    m.prepare()
    front = bytes(m.front)[:-5]  # drop the hostname
    out = decode_message(header_for(m, version=2), front)
    assert isinstance(out, MMonSubscribe)
    assert (out.what, out.hostname) == ({"monmap": SubscribeItem(3, 0)}, "")


def test_subscribe_old_layout_decodes() -> None:
    # map<string, ceph_mon_subscribe_item_old{u64 unused, u64 have, u8 onetime}>
    w = Writer()
    w.push_u32(2)
    for name, have, onetime in (("mdsmap", 0, 0), ("osdmap", 9, 1)):
        w.push_string(name)
        w.push_u64(0xDEAD)
        w.push_u64(have)
        w.push_u8(onetime)
    for version in (0, 1):
        out = decode_message(header_for(MMonSubscribe(), version=version), w.getvalue())
        assert isinstance(out, MMonSubscribe)
        assert out.what == {"mdsmap": SubscribeItem(0, 0),
                            "osdmap": SubscribeItem(10, CEPH_SUBSCRIBE_ONETIME)}
        assert out.hostname == ""


def test_subscribe_without_subscribe2_uses_old_layout() -> None:
    m = MMonSubscribe(what={"osdmap": SubscribeItem(10, 1), "monmap": SubscribeItem(0, 0)},
                      hostname="dropped")
    out = roundtrip(m, CEPH_FEATURES_ALL & ~feature_mask("SUBSCRIBE2"))
    assert m.version == 0
    assert bytes(m.front).hex() == (
        "02000000"
        "060000006d6f6e6d6170" "0000000000000000" "0000000000000000" "00"
        "060000006f73646d6170" "0000000000000000" "0900000000000000" "01")
    assert isinstance(out, MMonSubscribe)
    assert (out.what, out.hostname) == (m.what, "")
    m.prepare()
    assert m.version == 3


def test_mon_map_refuses_pre_nautilus_peer() -> None:
    m = SAMPLES["monmap"]()
    with pytest.raises(EncodeError):
        m.prepare(CEPH_FEATURES_ALL & ~feature_mask("MONENC"))
    MMonMap().prepare(0)  # an empty map needs no re-encoding


def test_maps_sorted_by_utf8_bytes() -> None:
    # code-point order would put U+0100 first; std::string order puts byte 0x80 first
    raw80 = b"\x80".decode("utf-8", "surrogateescape")
    m = MConfig(config={"\u0100": "x", raw80: "y", "a": "z"})
    m.prepare()
    assert bytes(m.front).hex() == (
        "03000000" "0100000061" "010000007a" "0100000080" "0100000079"
        "02000000c480" "0100000078")
    out = decode_message(m.v1_header(), m.front)
    assert isinstance(out, MConfig)
    assert out.config == m.config


def test_config_duplicate_key_keeps_first() -> None:
    front = bytes.fromhex("02000000" "010000006101000000 31" "010000006101000000 32"
                          .replace(" ", ""))
    out = decode_message(header_for(MConfig()), front)
    assert isinstance(out, MConfig)
    assert out.config == {"a": "1"}


def test_subscribe_duplicate_key_keeps_last() -> None:
    item = "0000000000000000" "00"
    front = bytes.fromhex("02000000" "0100000061" + item + "0100000061" + item[:-2] + "01"
                          + "00000000")
    out = decode_message(header_for(MMonSubscribe(), version=3), front)
    assert isinstance(out, MMonSubscribe)
    assert out.what == {"a": SubscribeItem(0, 1)}


# -- MonMap ----------------------------------------------------------------------------


def test_monmap_roundtrip_and_accessors() -> None:
    mm = sample_monmap()
    blob = mm.encode()
    assert blob[:2] == b"\x09\x06"
    assert MonMap.decode(blob) == mm
    assert MonMap.decode(blob + b"trailing") == mm
    assert mm.rank_entries() == [(0, "b", mm.mon_info["b"].public_addrs),
                                 (1, "a", mm.mon_info["a"].public_addrs)]
    assert mm.rank_lines() == [
        "0: [v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0] mon.b",
        "1: [v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0] mon.a; crush_location {dc=x,zone=z1}",
    ]
    assert mm.get_addrs("zz") == EntityAddrVec()
    msg = MMonMap.from_monmap(mm)
    assert msg.decode_monmap() == mm


def _monmap_blob(struct_v: int, compat: int, body: bytes) -> bytes:
    w = Writer()
    with w.versioned(struct_v, compat):
        w.push_bytes(body)
    return w.getvalue()


def _monmap_v6_body(min_release: bytes = b"") -> bytes:
    w = Writer()
    w.push_bytes(FSID.bytes)
    w.push_u32(2)
    w.push_bytes(bytes(16))  # last_changed, created
    for features in (0x3F, 0):
        with w.versioned(1, 1):
            w.push_u64(features)
    w.push_u32(1)
    w.push_string("a")
    with w.versioned(1, 1):  # mon_info_t v1: name and addrs only
        w.push_string("a")
        w.push_u8(2)
        w.push_u32(0)
    w.push_u32(1)
    w.push_string("a")
    w.push_bytes(min_release)
    return w.getvalue()


def test_monmap_older_versions_fill_defaults() -> None:
    v6 = MonMap.decode(_monmap_blob(6, 6, _monmap_v6_body()))
    assert v6.min_mon_release == 15  # inferred: OCTOPUS is the highest bit of 0x3f
    assert (v6.epoch, v6.ranks, v6.strategy, v6.stretch_mode_enabled) == (2, ("a",), 1, False)
    assert v6.mon_info == {"a": MonInfo(name="a")}
    v7 = MonMap.decode(_monmap_blob(7, 6, _monmap_v6_body(b"\x0e")))
    assert v7.min_mon_release == 14
    # a future version with unknown trailing fields inside the struct
    v10 = MonMap.decode(_monmap_blob(10, 6, sample_monmap().encode()[6:] + b"future"))
    assert v10 == sample_monmap()


def _mon_info_blob(struct_v: int) -> bytes:
    """mon_info_t with every field up to ``struct_v`` (priority 7, weight 9)."""
    w = Writer()
    with w.versioned(struct_v, 1):
        w.push_string("m")
        w.push_u8(2)
        w.push_u32(0)
        if struct_v >= 2:
            w.push_u16(7)
        if struct_v >= 4:
            w.push_u16(9)
        if struct_v >= 5:
            w.push_u32(1)
            w.push_string("k")
            w.push_string("v")
        w.push_bytes(b"tail")  # newer fields: skipped
    return w.getvalue()


@pytest.mark.parametrize(
    ("struct_v", "priority", "weight", "crush_loc"),
    [(1, 0, 0, {}), (3, 7, 0, {}), (4, 7, 9, {}), (5, 7, 9, {"k": "v"}),
     (6, 7, 9, {"k": "v"})],
)
def test_mon_info_versions(
    struct_v: int, priority: int, weight: int, crush_loc: dict[str, str]
) -> None:
    info = pull_mon_info(Reader(_mon_info_blob(struct_v)))
    assert info == MonInfo(name="m", priority=priority, weight=weight, crush_loc=crush_loc)


@pytest.mark.parametrize(
    ("features", "release"),
    [(0xFF, 16), (0x7F, 16), (0x3F, 15), (0x1F, 14), (0x0F, 13), (0x07, 13), (0x03, 12),
     (0x01, 11), (0, 0)],
)
def test_release_inferred_from_mon_features(features: int, release: int) -> None:
    assert infer_release_from_mon_features(features) == release


def test_monmap_rejects_legacy_and_future_compat() -> None:
    with pytest.raises(DecodeError, match="pre-Nautilus"):
        MonMap.decode(_monmap_blob(5, 3, _monmap_v6_body()))
    with pytest.raises(IncompatibleEncoding):
        MonMap.decode(_monmap_blob(10, 10, _monmap_v6_body()))
    with pytest.raises(DecodeError):
        MonMap.decode(b"")


def test_monmap_every_prefix_fails() -> None:
    blob = sample_monmap().encode()
    for n in range(len(blob)):
        with pytest.raises(DecodeError):
            MonMap.decode(blob[:n])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_monmap_mutations_raise_only_decode_errors(data: st.DataObject) -> None:
    blob = bytearray(sample_monmap().encode())
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    try:
        mm = MonMap.decode(bytes(blob))
    except DecodeError:
        return
    MonMap.decode(mm.encode())


# -- malformed input -------------------------------------------------------------------

# Prefix lengths that decode: MAuth without its epoch; MPing keeps anything.
ACCEPTED_PREFIXES: dict[str, Callable[[int], set[int]]] = {
    "auth": lambda n: {n - 4},
    "ping_empty": lambda n: set(range(n)),
    "ping_json": lambda n: set(range(n)),
}


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_every_truncated_front_raises_message_decode_error(key: str) -> None:
    m = SAMPLES[key]()
    m.prepare()
    front = bytes(m.front)
    header = m.v1_header()
    accepted = ACCEPTED_PREFIXES[key](len(front)) if key in ACCEPTED_PREFIXES else set()
    for n in range(len(front)):
        if n in accepted:
            decode_message(header, front[:n])
        else:
            with pytest.raises(MessageDecodeError):
                decode_message(header, front[:n])


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_trailing_front_bytes_ignored(key: str) -> None:
    m = SAMPLES[key]()
    m.prepare()
    out = decode_message(m.v1_header(), bytes(m.front) + b"\x00\xfftrailing")
    fields = payload_fields(out)
    if isinstance(out, MPing):
        fields["payload"] = fields["payload"][: -len(b"\x00\xfftrailing")]
    assert fields == payload_fields(m)


def _decode_checked(header: MsgHeader, front: bytes) -> None:
    """decode_message may only raise MessageDecodeError; a decoded message re-encodes."""
    try:
        m = decode_message(header, front)
    except MessageDecodeError:
        return
    m.prepare()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_fronts_raise_only_message_decode_error(data: st.DataObject) -> None:
    m = SAMPLES[data.draw(st.sampled_from(sorted(SAMPLES)))]()
    m.prepare()
    front = bytearray(m.front)
    op = data.draw(st.sampled_from(["flip", "insert", "delete", "splice"]))
    pos = data.draw(st.integers(0, len(front)))
    if op == "flip" and front:
        pos = min(pos, len(front) - 1)
        front[pos] ^= data.draw(st.integers(1, 255))
    elif op == "insert":
        front[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
    elif op == "delete":
        del front[pos:pos + data.draw(st.integers(1, 8))]
    else:
        front[pos:] = data.draw(st.binary(max_size=32))
    version = data.draw(st.sampled_from([m.version, 0, 1, 2, 3, 9]))
    _decode_checked(header_for(m, version), bytes(front))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(MESSAGE_TYPES)), st.integers(0, 4), st.binary(max_size=64))
def test_random_fronts_raise_only_message_decode_error(
    type_: int, version: int, front: bytes
) -> None:
    if MESSAGE_TYPES[type_].__module__.startswith("asyncmsgr.messages"):
        _decode_checked(MsgHeader(type=type_, version=version), front)


def test_message_classes_are_slotted_with_keyword_fields() -> None:
    """Hand-written ``__init__``\\s: every field of every class is a keyword with its
    default, base fields pass through, nothing else is accepted, no ``__dict__``."""
    assert Message._fields[:3] == ("seq", "tid", "priority")
    for cls in [*MESSAGE_TYPES.values(), RawMessage, FastMOSDOp]:
        m = cls(tid=7, priority=9)
        assert (m.tid, m.priority, m.seq, m.front) == (7, 9, 0, b"")
        given = {name: object() for name in Message._fields}
        m = cls(**given)  # every base field reaches the instance, hot classes too
        assert all(getattr(m, name) is value for name, value in given.items()), cls
        assert type(m)._fields[:len(Message._fields)] == Message._fields
        assert all(hasattr(m, name) for name in type(m)._fields)
        assert not hasattr(m, "__dict__"), cls
        with pytest.raises(TypeError):
            cls(no_such_field=1)
    a, b = MMonCommand(), MMonCommand()
    a.cmd.append("x")
    assert b.cmd == []  # mutable defaults are per instance
    assert MMonCommand._fields[len(Message._fields):] == ("paxos", "fsid", "cmd")
