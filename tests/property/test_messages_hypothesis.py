"""Random messages survive prepare -> v1 header/footer -> decode_message unchanged."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from asyncmsgr.message import Message, decode_message
from asyncmsgr.messages import (
    MAuth,
    MAuthReply,
    MCommand,
    MCommandReply,
    MConfig,
    MMonCommand,
    MMonCommandAck,
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
from asyncmsgr.types import AF_INET, AddrType, EntityAddr, EntityAddrVec, EntityName, UTime

BASE_FIELDS = frozenset(Message._fields)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
u64 = st.integers(0, 0xFFFF_FFFF_FFFF_FFFF)
s32 = st.integers(-(1 << 31), (1 << 31) - 1)
blobs = st.binary(max_size=40)
# valid text, and arbitrary bytes carried through surrogateescape
strings = st.one_of(st.text(max_size=12),
                    st.binary(max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape")))
uuids = st.builds(uuid.UUID, int=st.integers(0, (1 << 128) - 1))
string_lists = st.lists(strings, max_size=4)
string_maps = st.dictionaries(strings, strings, max_size=4)
paxos = st.builds(PaxosHeader, version=u64, deprecated_session_mon=u16,
                  deprecated_session_mon_tid=u64)
addrs = st.builds(EntityAddr, type=st.sampled_from([AddrType.LEGACY, AddrType.MSGR2,
                                                    AddrType.ANY]),
                  nonce=u32, family=st.just(AF_INET), ip=st.binary(min_size=4, max_size=4),
                  port=u16)
addrvecs = st.lists(addrs, max_size=3).map(lambda a: EntityAddrVec(tuple(a)))


@st.composite
def monmaps(draw: st.DrawFn) -> MonMap:
    names = draw(st.lists(strings, max_size=3, unique=True))
    infos = {n: MonInfo(name=draw(strings), public_addrs=draw(addrvecs), priority=draw(u16),
                        weight=draw(u16), crush_loc=draw(string_maps)) for n in names}
    return MonMap(
        fsid=draw(uuids), epoch=draw(u32), last_changed=UTime(draw(u32), draw(u32)),
        created=UTime(draw(u32), draw(u32)), persistent_features=draw(u64),
        optional_features=draw(u64), mon_info=infos, ranks=tuple(draw(string_lists)),
        min_mon_release=draw(u8), removed_ranks=frozenset(draw(st.lists(s32, max_size=3))),
        strategy=draw(u8), disallowed_leaders=frozenset(draw(string_lists)),
        stretch_mode_enabled=draw(st.booleans()), tiebreaker_mon=draw(strings),
        stretch_marked_down_mons=frozenset(draw(string_lists)))


messages = st.one_of(
    st.builds(MPing, payload=blobs),
    monmaps().map(MMonMap.from_monmap),
    st.builds(MMonMap, monmap=blobs),
    st.builds(MMonSubscribe,
              what=st.dictionaries(strings, st.builds(SubscribeItem, u64, u8), max_size=4),
              hostname=strings),
    st.builds(MMonSubscribeAck, interval=u32, fsid=uuids),
    st.builds(MAuth, paxos=paxos, protocol=u32, auth_payload=blobs, monmap_epoch=u32),
    st.builds(MAuthReply, protocol=u32, result=s32, global_id=u64, result_bl=blobs,
              result_msg=strings),
    st.builds(MMonGetVersion, handle=u64, what=strings),
    st.builds(MMonGetVersionReply, handle=u64, map_version=u64, oldest_version=u64),
    st.builds(MMonCommand, paxos=paxos, fsid=uuids, cmd=string_lists, data=blobs),
    st.builds(MMonCommandAck, paxos=paxos, r=s32, rs=strings, cmd=string_lists, data=blobs),
    st.builds(MConfig, config=string_maps),
    st.builds(MCommand, fsid=uuids, cmd=string_lists, data=blobs),
    st.builds(MCommandReply, r=s32, rs=strings, data=blobs),
)


def payload_fields(m: Message) -> dict[str, Any]:
    """The typed fields a subclass adds (Message compares by identity)."""
    return {name: getattr(m, name) for name in type(m)._fields if name not in BASE_FIELDS}


@settings(max_examples=200, deadline=None)
@given(messages, u64, u64, st.integers(0, 0xFF))
def test_message_roundtrip(m: Message, seq: int, tid: int, prio: int) -> None:
    m.seq, m.tid, m.priority, m.src = seq, tid, prio, EntityName(1, 0)
    m.prepare()
    out = decode_message(m.v1_header(), m.front, m.middle, m.data, footer=m.v1_footer())
    assert type(out) is type(m)
    assert payload_fields(out) == payload_fields(m)
    assert (out.seq, out.tid, out.priority, out.version, out.compat_version) == (
        seq, tid, prio, m.version, m.compat_version)
    assert bytes(out.data) == bytes(m.data)
    front = bytes(m.front)
    out.prepare()
    assert bytes(out.front) == front


@settings(max_examples=50, deadline=None)
@given(monmaps())
def test_monmap_roundtrip(mm: MonMap) -> None:
    blob = mm.encode()
    back = MonMap.decode(blob)
    assert back == mm
    assert back.encode() == blob
    assert [r for r, _n, _a in back.rank_entries()] == list(range(len(mm.ranks)))
