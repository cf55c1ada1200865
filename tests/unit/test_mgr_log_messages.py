"""MgrMap / MMgrMap, MMgrCommand(Reply) and MLog / LogEntry codecs.

The MgrMap of a real Pacific monitor (the capture ``v2-crc-cephx-status.pcap``)
decodes; a hand-built v11 encoding (``src/mon/MgrMap.h``) round-trips every field
the client reads; every truncation raises DecodeError and nothing else; counts
are checked against the bytes left before anything is allocated.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from asyncmsgr.errors import DecodeError, MessageDecodeError
from asyncmsgr.message import MsgHeader, decode_message
from asyncmsgr.messages import LogEntry, MgrMap, MLog, MMgrCommand, MMgrCommandReply, MMgrMap
from asyncmsgr.messages.log import CLOG_INFO, CLOG_WARN
from asyncmsgr.messages.paxos import PaxosHeader
from asyncmsgr.types import AddrType, AuthName, EntityAddr, EntityAddrVec, EntityName, UTime
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import push_entity_addrvec, push_utime

DATA = Path(__file__).resolve().parent.parent / "data" / "ceph_cli"
FSID = uuid.UUID("5a1d0c1e-0000-4000-8000-00000000c0de")
ADDRS = EntityAddrVec((EntityAddr.parse("v2:127.0.0.1:6815/4453"),
                       EntityAddr.parse("v1:127.0.0.1:6816/4453")))


def _versioned(w: Writer, v: int, compat: int, body: bytes) -> None:
    w.push_u8(v)
    w.push_u8(compat)
    w.push_blob(body)


def _strings(w: Writer, items: list[str]) -> None:
    w.push_u32(len(items))
    for s in items:
        w.push_string(s)


def encode_mgrmap(*, available: bool = True, features: int = (1 << 62) - 1) -> bytes:
    """A v11 MgrMap as ``MgrMap::encode`` lays it out (one standby, two modules)."""
    b = Writer()
    b.push_u32(7)                                   # epoch
    push_entity_addrvec(b, ADDRS)                   # active_addrs
    b.push_u64(4100)                                # active_gid
    b.push_bool(available)
    b.push_string("x")                              # active_name
    b.push_u32(1)                                   # standbys
    b.push_u64(4200)
    sb = Writer()
    sb.push_u64(4200)
    sb.push_string("y")
    _strings(sb, ["status"])                        # old_available_modules
    sb.push_u32(0)                                  # available_modules
    sb.push_u64(features)
    _versioned(b, 4, 1, sb.getvalue())
    _strings(b, ["iostat"])                         # modules
    b.push_u32(1)                                   # services
    b.push_string("prometheus")
    b.push_string("http://x:9283/")
    b.push_u32(2)                                   # available_modules
    for name in ("iostat", "status"):
        mi = Writer()
        mi.push_string(name)
        mi.push_bool(True)
        mi.push_string("")
        mi.push_u32(0)                              # module_options
        _versioned(b, 2, 1, mi.getvalue())
    push_utime(b, UTime(1_700_000_000, 5))          # active_change
    b.push_u32(1)                                   # always_on_modules
    b.push_u32(16)
    _strings(b, ["balancer", "crash"])
    b.push_u64(features)                            # active_mgr_features
    b.push_u32(3)                                   # last_failure_osd_epoch
    b.push_u32(0)                                   # clients
    w = Writer()
    _versioned(w, 11, 6, b.getvalue())
    return w.getvalue()


def test_mgrmap_fields() -> None:
    m = MgrMap.decode(encode_mgrmap())
    assert (m.epoch, m.active_gid, m.available, m.active_name) == (7, 4100, True, "x")
    assert m.active_addrs == ADDRS
    assert m.standbys == {4200: "y"}
    assert m.modules == frozenset({"iostat"})
    assert m.services == {"prometheus": "http://x:9283/"}
    assert m.available_modules == ("iostat", "status")
    assert m.active_change == UTime(1_700_000_000, 5)
    assert m.always_on_modules == {16: frozenset({"balancer", "crash"})}
    assert m.active_mgr_features == (1 << 62) - 1


def test_mgrmaps_of_a_real_monitor() -> None:
    """MgrMaps a Pacific mon sent, without a manager and with ``mgr.x`` active
    (``tests/data/ceph_cli/README.md``)."""
    none = MgrMap.decode((DATA / "mgrmap-no-mgr.bin").read_bytes())
    assert (none.epoch, none.available, none.active_gid, none.active_name) == (1, False, 0, "")
    assert none.modules == frozenset({"iostat", "nfs", "restful"})
    assert "pg_autoscaler" in none.always_on_modules[16]
    active = MMgrMap(mgrmap=(DATA / "mgrmap-active.bin").read_bytes()).decode_mgrmap()
    assert (active.epoch, active.available, active.active_gid, active.active_name) == (
        4, True, 4100, "x")
    assert str(active.active_addrs) == "[v2:127.0.0.1:6804/3859,v1:127.0.0.1:6805/3859]"
    assert active.active_mgr_features == 4540138314316775423
    assert "iostat" in active.available_modules


def test_mgrmap_truncations_raise_decode_error() -> None:
    data = encode_mgrmap()
    for n in range(len(data)):
        with pytest.raises(DecodeError):
            MgrMap.decode(data[:n])


def test_mgrmap_counts_are_bounded() -> None:
    """A standby count larger than the bytes left is refused before looping."""
    data = bytearray(encode_mgrmap())
    # epoch(4) + addrvec + gid(8) + bool + "x": find the standby count after "x"
    pos = data.index(b"\x01\x00\x00\x00x") + 5
    data[pos:pos + 4] = (0x7FFFFFFF).to_bytes(4, "little")
    with pytest.raises(DecodeError, match="count"):
        MgrMap.decode(bytes(data))


def test_mgrmap_before_nautilus_is_refused() -> None:
    w = Writer()
    _versioned(w, 5, 1, b"\x00" * 8)
    with pytest.raises(DecodeError, match="predates"):
        MgrMap.decode(w.getvalue())


def _roundtrip(m: MMgrCommand | MMgrCommandReply | MLog) -> object:
    m.encode_payload(0xFFFFFFFFFFFFFFFF)
    header = MsgHeader(type=m.TYPE, version=m.HEAD_VERSION, compat_version=m.COMPAT_VERSION,
                       front_len=len(m.front))
    return decode_message(header, m.front, b"", m.data)


def test_mgr_command_messages() -> None:
    cmd = MMgrCommand(cmd=['{"prefix": "pg stat"}'])
    cmd.data = b"input"
    got = _roundtrip(cmd)
    assert isinstance(got, MMgrCommand)
    assert got.cmd == ['{"prefix": "pg stat"}']
    assert got.fsid == uuid.UUID(int=0)
    assert bytes(got.data) == b"input"
    reply = _roundtrip(MMgrCommandReply(r=-13, rs="access denied"))
    assert isinstance(reply, MMgrCommandReply)
    assert (reply.r, reply.rs) == (-13, "access denied")


def _entry(seq: int, msg: str, channel: str = "cluster", prio: int = CLOG_INFO) -> LogEntry:
    return LogEntry(name=AuthName(1, "a"), rank=EntityName(1, 0), addrs=ADDRS,
                    stamp=UTime(1_700_000_000, 123_456_789), seq=seq, prio=prio, msg=msg,
                    channel=channel)


def test_mlog_roundtrip() -> None:
    m = MLog(paxos=PaxosHeader(version=42), fsid=FSID,
             entries=[_entry(1, "hello"), _entry(2, "careful", "audit", CLOG_WARN)])
    got = _roundtrip(m)
    assert isinstance(got, MLog)
    assert got.paxos.version == 42
    assert got.fsid == FSID
    assert got.entries == m.entries
    assert [e.prio_name for e in got.entries] == ["[INF]", "[WRN]"]
    assert str(got.entries[0].name) == "mon.a"


def test_log_entry_v6_extra_fields_are_skipped() -> None:
    """A newer entry (v6: epoch, logmsg) decodes: its length bounds what is read."""
    w = Writer()
    _entry(9, "new").push(w, 0xFFFFFFFFFFFFFFFF)
    data = bytearray(w.getvalue())
    data[0] = 6
    body_len = int.from_bytes(data[2:6], "little")
    extra = b"\x07\x00\x00\x00" + b"more"
    data[2:6] = (body_len + len(extra)).to_bytes(4, "little")
    data += extra
    r = Reader(bytes(data))
    assert LogEntry.pull(r).msg == "new"
    assert r.remaining == 0


def test_mlog_truncations_and_counts() -> None:
    m = MLog(fsid=FSID, entries=[_entry(1, "hello")])
    m.encode_payload(0xFFFFFFFFFFFFFFFF)
    front = bytes(m.front)
    for n in range(len(front)):
        header = MsgHeader(type=MLog.TYPE, version=1, compat_version=1, front_len=n)
        with pytest.raises(MessageDecodeError):
            decode_message(header, front[:n])
    huge = bytearray(front)
    huge[34:38] = (1 << 30).to_bytes(4, "little")  # the entry count after header + fsid
    header = MsgHeader(type=MLog.TYPE, version=1, compat_version=1, front_len=len(huge))
    with pytest.raises(MessageDecodeError, match="count"):
        decode_message(header, bytes(huge))


def test_entity_addr_of_entries_keeps_legacy_type() -> None:
    assert _entry(1, "x").addrs.addrs[1].type == AddrType.LEGACY
