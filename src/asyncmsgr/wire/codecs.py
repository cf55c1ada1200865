"""pull_/push_ codecs for Ceph's common structures.

* ``utime_t`` (u32 sec, u32 nsec), ``uuid_d`` (16 raw bytes);
* ``entity_name_t`` (u8 type, s64 num) and the auth ``EntityName``
  (u32 type, string id);
* ``entity_addr_t`` in both forms: the *new* form (``u8 marker=1`` +
  ENCODE_START(1, 1) + type, nonce, sockaddr length, little-endian family,
  big-endian port, address) used whenever the peer has MSG_ADDR2 and in every
  msgr2 frame, and the *legacy* 136-byte form (u32 type=0, u32 nonce, 128-byte
  sockaddr_storage with a **big-endian** family) used by the msgr v1 banner;
* ``entity_addrvec_t`` (``u8 marker=2`` + vector of new-form addresses, or a
  single legacy/new address for old peers).

Decoders accept every form Ceph's decoders accept and raise DecodeError otherwise.
"""

from __future__ import annotations

import struct
import uuid

from asyncmsgr.errors import DecodeError, EncodeError
from asyncmsgr.features import (
    CEPH_FEATURE_MSG_ADDR2,
    CEPH_FEATUREMASK_SERVER_NAUTILUS,
    MSGR2_FRAME_ASSUMED,
    has_feature,
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
    UTime,
)
from asyncmsgr.wire.buffer import Reader, Writer

#: Size of a legacy (pre-ADDR2) entity_addr_t: u32 type, u32 nonce, sockaddr_storage.
LEGACY_ADDR_LEN = 136
SOCKADDR_STORAGE_LEN = 128
SOCKADDR_IN_LEN = 16
SOCKADDR_IN6_LEN = 28

_BE16 = struct.Struct(">H")
_LEGACY_HDR = struct.Struct("<II")
_SIN6_TAIL = struct.Struct(">HI16sI")  # port, flowinfo (network order), addr, scope


def sockaddr_len(family: int) -> int:
    """``entity_addr_t::get_sockaddr_len`` on Linux (sizeof the sockaddr union otherwise)."""
    if family == AF_INET:
        return SOCKADDR_IN_LEN
    return SOCKADDR_IN6_LEN


# -- time, uuid, names -----------------------------------------------------------------


def pull_utime(r: Reader) -> UTime:
    """utime_t / ceph_timespec."""
    sec = r.pull_u32()
    return UTime(sec, r.pull_u32())


def push_utime(w: Writer, t: UTime) -> None:
    """utime_t / ceph_timespec."""
    w.push_u32(t.sec)
    w.push_u32(t.nsec)


def pull_uuid(r: Reader) -> uuid.UUID:
    """uuid_d: 16 raw bytes."""
    return uuid.UUID(bytes=r.pull_bytes(16))


def push_uuid(w: Writer, u: uuid.UUID) -> None:
    """uuid_d: 16 raw bytes."""
    w.push_bytes(u.bytes)


def pull_entity_name(r: Reader) -> EntityName:
    """entity_name_t: u8 type, s64 num."""
    t = r.pull_u8()
    return EntityName(t, r.pull_s64())


def push_entity_name(w: Writer, n: EntityName) -> None:
    """entity_name_t: u8 type, s64 num."""
    w.push_u8(n.type)
    w.push_s64(n.num)


def pull_auth_name(r: Reader) -> AuthName:
    """Auth EntityName: u32 type, string id."""
    t = r.pull_u32()
    return AuthName(t, r.pull_string())


def push_auth_name(w: Writer, n: AuthName) -> None:
    """Auth EntityName: u32 type, string id."""
    w.push_u32(n.type)
    w.push_string(n.id)


# -- sockaddr --------------------------------------------------------------------------


def _sockaddr_from_data(family: int, data: bytes) -> tuple[bytes, int, int, int]:
    """Parse ``sa_data`` (everything after the family) into (ip, port, flowinfo, scope).

    ``data`` is zero-padded to the full structure, as Ceph copies a short
    sockaddr into a zeroed union.
    """
    if family == AF_INET:
        data = data.ljust(SOCKADDR_IN_LEN - 2, b"\0")
        return data[2:6], _BE16.unpack_from(data, 0)[0], 0, 0
    if family == AF_INET6:
        data = data.ljust(SOCKADDR_IN6_LEN - 2, b"\0")
        port, flow, ip, _ = _SIN6_TAIL.unpack_from(data, 0)
        scope = int.from_bytes(data[22:26], "little")
        return ip, port, flow, scope
    return b"", 0, 0, 0


def _sockaddr_data(addr: EntityAddr) -> bytes:
    """``sa_data`` of the address: everything after the 2-byte family."""
    try:
        if addr.family == AF_INET:
            if len(addr.ip) != 4:
                raise EncodeError(f"IPv4 address needs 4 bytes, got {len(addr.ip)}")
            return _BE16.pack(addr.port) + addr.ip + bytes(8)
        if addr.family == AF_INET6:
            if len(addr.ip) != 16:
                raise EncodeError(f"IPv6 address needs 16 bytes, got {len(addr.ip)}")
            return (_SIN6_TAIL.pack(addr.port, addr.flowinfo, addr.ip, 0)[:22]
                    + addr.scope_id.to_bytes(4, "little"))
    except (struct.error, OverflowError) as exc:
        raise EncodeError(f"bad socket address {addr!r}: {exc}") from exc
    return bytes(SOCKADDR_IN6_LEN - 2)


# -- entity_addr_t ---------------------------------------------------------------------


def pull_entity_addr(r: Reader) -> EntityAddr:
    """entity_addr_t in either form (marker 0 = legacy, 1 = new)."""
    marker = r.pull_u8()
    if marker == 0:
        return _pull_legacy_after_marker(r)
    if marker != 1:
        raise DecodeError(f"entity_addr_t marker {marker} != 1")
    return _pull_new_addr_after_marker(r)


def _pull_new_addr_after_marker(r: Reader) -> EntityAddr:
    _v, body = r.pull_versioned(1, "entity_addr_t")
    type_ = body.pull_u32()
    nonce = body.pull_u32()
    elen = body.pull_u32()
    family = AF_UNSPEC
    ip, port, flow, scope = b"", 0, 0, 0
    if elen:
        if elen < 2:
            raise DecodeError("entity_addr_t: elen smaller than family len")
        family = body.pull_u16()
        if elen - 2 > sockaddr_len(family) - 2:
            raise DecodeError(f"entity_addr_t: elen {elen} exceeds sockaddr len")
        ip, port, flow, scope = _sockaddr_from_data(family, body.pull_bytes(elen - 2))
    return EntityAddr(type_, nonce, family, ip, port, flow, scope)


def _pull_legacy_after_marker(r: Reader) -> EntityAddr:
    r.pull_view(3)  # the rest of the u32 type, which legacy encoders write as 0
    nonce = r.pull_u32()
    ss = r.pull_bytes(SOCKADDR_STORAGE_LEN)
    family = _BE16.unpack_from(ss, 0)[0]
    ip, port, flow, scope = _sockaddr_from_data(family, ss[2:])
    type_ = AddrType.NONE if family == AF_UNSPEC else AddrType.LEGACY
    return EntityAddr(type_, nonce, family, ip, port, flow, scope)


def push_entity_addr(w: Writer, addr: EntityAddr, features: int = MSGR2_FRAME_ASSUMED) -> None:
    """entity_addr_t: the new form when ``features`` has MSG_ADDR2, else legacy."""
    if not features & CEPH_FEATURE_MSG_ADDR2:
        push_legacy_addr(w, addr)
        return
    type_ = addr.type
    if type_ == AddrType.ANY and not has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS):
        type_ = AddrType.LEGACY
    w.push_u8(1)
    with w.versioned(1, 1):
        w.push_u32(type_)
        w.push_u32(addr.nonce)
        data = _sockaddr_data(addr)
        w.push_u32(len(data) + 2)
        w.push_u16(addr.family)
        w.push_bytes(data)


def push_legacy_addr(w: Writer, addr: EntityAddr) -> None:
    """The 136-byte legacy entity_addr_t (family big-endian inside sockaddr_storage)."""
    try:
        w.push_bytes(_LEGACY_HDR.pack(0, addr.nonce))
        w.push_bytes(_BE16.pack(addr.family))
    except struct.error as exc:
        raise EncodeError(f"bad legacy address {addr!r}") from exc
    data = _sockaddr_data(addr) if addr.family in (AF_INET, AF_INET6) else b""
    w.push_bytes(data.ljust(SOCKADDR_STORAGE_LEN - 2, b"\0"))


def pull_legacy_addr(r: Reader) -> EntityAddr:
    """The 136-byte legacy form only (msgr v1 banner exchange)."""
    if r.remaining < LEGACY_ADDR_LEN:
        raise DecodeError(f"legacy entity_addr_t needs {LEGACY_ADDR_LEN} bytes")
    r.pull_u8()
    return _pull_legacy_after_marker(r)


def encode_legacy_addr(addr: EntityAddr) -> bytes:
    """The 136 bytes of a legacy address."""
    w = Writer()
    push_legacy_addr(w, addr)
    return w.getvalue()


# -- entity_addrvec_t ------------------------------------------------------------------


def pull_entity_addrvec(r: Reader) -> EntityAddrVec:
    """entity_addrvec_t: marker 0/1 = one address, 2 = vector of new-form addresses."""
    marker = r.pull_u8()
    if marker == 0:
        return EntityAddrVec((_pull_legacy_after_marker(r),))
    if marker == 1:
        return EntityAddrVec((_pull_new_addr_after_marker(r),))
    if marker != 2:
        raise DecodeError(f"entity_addrvec_t marker {marker} > 2")
    # each address is at least marker + struct header + type + nonce + elen = 19 bytes
    return EntityAddrVec(tuple(r.pull_list(pull_entity_addr, min_item_size=19)))


def push_entity_addrvec(
    w: Writer, av: EntityAddrVec, features: int = MSGR2_FRAME_ASSUMED
) -> None:
    """entity_addrvec_t; a single legacy address for peers without MSG_ADDR2."""
    if not features & CEPH_FEATURE_MSG_ADDR2:
        legacy = av.find(AddrType.LEGACY) or EntityAddr()
        push_legacy_addr(w, legacy)
        return
    w.push_u8(2)
    w.push_u32(len(av.addrs))
    for a in av.addrs:
        push_entity_addr(w, a, features)


__all__ = [
    "LEGACY_ADDR_LEN",
    "encode_legacy_addr",
    "pull_auth_name",
    "pull_entity_addr",
    "pull_entity_addrvec",
    "pull_entity_name",
    "pull_legacy_addr",
    "pull_utime",
    "pull_uuid",
    "push_auth_name",
    "push_entity_addr",
    "push_entity_addrvec",
    "push_entity_name",
    "push_legacy_addr",
    "push_utime",
    "push_uuid",
    "sockaddr_len",
]
