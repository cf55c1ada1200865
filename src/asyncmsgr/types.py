"""Value types shared by every layer: entity types, names and addresses.

Names follow Ceph: :class:`EntityName` is ``entity_name_t`` (a type and a number,
``osd.3``), :class:`AuthName` is the auth ``EntityName`` (a type and a string id,
``client.admin``), :class:`EntityAddr` is ``entity_addr_t`` and
:class:`EntityAddrVec` is ``entity_addrvec_t``. Their wire codecs live in
:mod:`asyncmsgr.wire.codecs`; printing and parsing follow Ceph's
``operator<<`` and ``parse`` (``src/msg/msg_types.cc``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from enum import IntEnum
from typing import NewType

from asyncmsgr.record import Record

#: Anything the buffer protocol accepts on our hot paths.
Buffer = bytes | bytearray | memoryview

GlobalId = NewType("GlobalId", int)
Cookie = NewType("Cookie", int)

AF_UNSPEC = 0
AF_INET = 2
AF_INET6 = 10

_set = object.__setattr__  # what a frozen class's __init__ assigns with


class EntityType(IntEnum):
    """``CEPH_ENTITY_TYPE_*``: the kind of daemon or client at either end."""

    MON = 0x01
    MDS = 0x02
    OSD = 0x04
    CLIENT = 0x08
    MGR = 0x10
    AUTH = 0x20
    ANY = 0xFF

    @property
    def type_str(self) -> str:
        """Ceph's ``ceph_entity_type_name``: ``mon``, ``osd``, ``client``, ..."""
        return _ENTITY_TYPE_NAMES.get(self, "unknown")

    @classmethod
    def from_str(cls, name: str) -> EntityType:
        """Inverse of :attr:`type_str`; raises ValueError for an unknown name."""
        for member, text in _ENTITY_TYPE_NAMES.items():
            if text == name:
                return member
        raise ValueError(f"unknown entity type {name!r}")


_ENTITY_TYPE_NAMES = {
    EntityType.MON: "mon",
    EntityType.MDS: "mds",
    EntityType.OSD: "osd",
    EntityType.CLIENT: "client",
    EntityType.MGR: "mgr",
    EntityType.AUTH: "auth",
    EntityType.ANY: "any",
}


def entity_type_str(value: int) -> str:
    """Name of an entity type number, ``unknown`` when it is not one."""
    try:
        return EntityType(value).type_str
    except ValueError:
        return "unknown"


class EntityName(Record):
    """``entity_name_t``: u8 type + s64 num (``osd.3``; a new client is ``client.?``)."""

    type: int
    num: int

    __slots__ = ("num", "type")

    def __init__(self, type: int, num: int) -> None:
        _set(self, "type", type)
        _set(self, "num", num)

    NEW = -1

    def __str__(self) -> str:
        if self.num < 0:
            return f"{entity_type_str(self.type)}.?"
        return f"{entity_type_str(self.type)}.{self.num}"

    @classmethod
    def parse(cls, text: str) -> EntityName:
        """Parse ``type.num`` (``osd.3``, ``client.4107``); raises ValueError."""
        kind, sep, num = text.partition(".")
        if not sep or not num or not num.lstrip("-").isdigit():
            raise ValueError(f"bad entity name {text!r}")
        return cls(EntityType.from_str(kind), int(num))


class AuthName(Record):
    """Auth ``EntityName``: u32 type + string id (``client.admin``, ``mon.``)."""

    type: int
    id: str

    __slots__ = ("id", "type")

    def __init__(self, type: int, id: str) -> None:
        _set(self, "type", type)
        _set(self, "id", id)

    def __str__(self) -> str:
        return f"{entity_type_str(self.type)}.{self.id}"

    @classmethod
    def parse(cls, text: str) -> AuthName:
        """Parse ``type.id``: ``client.admin``, ``osd.0``, ``mon.``; raises ValueError."""
        kind, sep, ident = text.partition(".")
        if not sep:
            raise ValueError(f"bad auth entity name {text!r} (want TYPE.ID)")
        return cls(EntityType.from_str(kind), ident)


class UTime(Record):
    """``utime_t`` / ``ceph_timespec``: u32 seconds + u32 nanoseconds."""

    sec: int
    nsec: int

    __slots__ = ("nsec", "sec")

    def __init__(self, sec: int = 0, nsec: int = 0) -> None:
        _set(self, "sec", sec)
        _set(self, "nsec", nsec)

    def __lt__(self, other: UTime) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.sec, self.nsec) < (other.sec, other.nsec)

    def __le__(self, other: UTime) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.sec, self.nsec) <= (other.sec, other.nsec)

    def __gt__(self, other: UTime) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.sec, self.nsec) > (other.sec, other.nsec)

    def __ge__(self, other: UTime) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.sec, self.nsec) >= (other.sec, other.nsec)

    @classmethod
    def from_float(cls, t: float) -> UTime:
        """From seconds since the epoch (as ``time.time()`` returns)."""
        sec = int(t)
        return cls(sec, min(int((t - sec) * 1e9), 999_999_999))

    def __float__(self) -> float:
        return self.sec + self.nsec / 1e9

    def __str__(self) -> str:
        return f"{self.sec}.{self.nsec:09d}"


class AddrType(IntEnum):
    """``entity_addr_t::TYPE_*``."""

    NONE = 0
    LEGACY = 1  # msgr v1, printed "v1"
    MSGR2 = 2  # printed "v2"
    ANY = 3
    CIDR = 4


_ADDR_TYPE_NAMES = {
    AddrType.NONE: "none",
    AddrType.LEGACY: "v1",
    AddrType.MSGR2: "v2",
    AddrType.ANY: "any",
    AddrType.CIDR: "cidr",
}


def addr_type_name(value: int) -> str:
    """``entity_addr_t::get_type_name``."""
    try:
        return _ADDR_TYPE_NAMES[AddrType(value)]
    except ValueError:
        return "???"


class EntityAddr(Record):
    """``entity_addr_t``: address type, nonce and a socket address.

    ``ip`` holds the raw address bytes (4 for IPv4, 16 for IPv6, empty when the
    family is unspecified); ``port`` is the host-order port.
    """

    type: int
    nonce: int
    family: int
    ip: bytes
    port: int
    flowinfo: int
    scope_id: int

    __slots__ = ("family", "flowinfo", "ip", "nonce", "port", "scope_id", "type")

    def __init__(self, type: int = AddrType.NONE, nonce: int = 0, family: int = AF_UNSPEC,
                 ip: bytes = b"", port: int = 0, flowinfo: int = 0, scope_id: int = 0) -> None:
        _set(self, "type", type)
        _set(self, "nonce", nonce)
        _set(self, "family", family)
        _set(self, "ip", ip)
        _set(self, "port", port)
        _set(self, "flowinfo", flowinfo)
        _set(self, "scope_id", scope_id)

    @classmethod
    def from_host(
        cls, host: str, port: int, *, type: int = AddrType.MSGR2, nonce: int = 0
    ) -> EntityAddr:
        """Build from an IP literal (``127.0.0.1``, ``::1``); raises ValueError."""
        ip = ipaddress.ip_address(host)
        family = AF_INET if ip.version == 4 else AF_INET6
        return cls(type=type, nonce=nonce, family=family, ip=ip.packed, port=port)

    @property
    def host(self) -> str:
        """The IP as text (empty for an unspecified family)."""
        if self.family == AF_INET and len(self.ip) == 4:
            return str(ipaddress.IPv4Address(self.ip))
        if self.family == AF_INET6 and len(self.ip) == 16:
            v6 = ipaddress.IPv6Address(self.ip)
            mapped = v6.ipv4_mapped
            return f"::ffff:{mapped}" if mapped is not None else v6.compressed
        return ""

    @property
    def is_blank_ip(self) -> bool:
        """True when no IP is set (family unspecified or all-zero address)."""
        return not any(self.ip)

    def sockaddr_str(self) -> str:
        """``operator<<(ostream&, const sockaddr*)``: ``1.2.3.4:80`` or ``[::1]:80``."""
        if self.family == AF_INET:
            return f"{self.host}:{self.port}"
        if self.family == AF_INET6:
            return f"[{self.host}]:{self.port}"
        return f"(unrecognized address family {self.family})"

    def __str__(self) -> str:
        if self.type == AddrType.NONE:
            return "-"
        prefix = "" if self.type == AddrType.ANY else addr_type_name(self.type) + ":"
        return f"{prefix}{self.sockaddr_str()}/{self.nonce}"

    def with_type(self, type: int) -> EntityAddr:
        """Copy with another address type."""
        return EntityAddr(type, self.nonce, self.family, self.ip, self.port,
                          self.flowinfo, self.scope_id)

    def with_nonce(self, nonce: int) -> EntityAddr:
        """Copy with another nonce."""
        return EntityAddr(self.type, nonce, self.family, self.ip, self.port,
                          self.flowinfo, self.scope_id)

    def with_port(self, port: int) -> EntityAddr:
        """Copy with another port."""
        return EntityAddr(self.type, self.nonce, self.family, self.ip, port,
                          self.flowinfo, self.scope_id)

    def with_ip_of(self, other: EntityAddr) -> EntityAddr:
        """Copy taking family and IP from ``other`` (address learning)."""
        return EntityAddr(self.type, self.nonce, other.family, other.ip, self.port,
                          other.flowinfo, other.scope_id)

    @classmethod
    def parse(cls, text: str, default_type: int = AddrType.MSGR2) -> EntityAddr:
        """Parse one address like ``entity_addr_t::parse``; raises ValueError.

        Accepts ``v1:``/``v2:``/``any:`` prefixes, ``-`` (TYPE_NONE), IPv4 and
        bracketed IPv6, an optional ``:port`` and ``/nonce``.
        """
        addr, rest = _parse_addr_prefix(text, default_type)
        if rest:
            raise ValueError(f"trailing characters in address {text!r}")
        return addr


def _parse_addr_prefix(text: str, default_type: int) -> tuple[EntityAddr, str]:
    """Parse one address at the start of ``text``; return it and the rest."""
    type_ = default_type
    s = text
    for prefix, value in (("v1:", AddrType.LEGACY), ("v2:", AddrType.MSGR2),
                          ("any:", AddrType.ANY)):
        if s.startswith(prefix):
            s = s[len(prefix):]
            type_ = value
            break
    else:
        if s.startswith("-"):
            return EntityAddr(), s[1:]
    brackets = s.startswith("[")
    if brackets:
        s = s[1:]
    v4 = _take_while(s, "0123456789.")
    v6 = _take_while(s, "0123456789abcdefABCDEF:")
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    try:
        ip = ipaddress.IPv4Address(v4)
        s = s[len(v4):]
    except ValueError:
        try:
            ip = ipaddress.IPv6Address(v6)
        except ValueError:
            raise ValueError(f"bad address {text!r}") from None
        s = s[len(v6):]
    if brackets:
        if not s.startswith("]"):
            raise ValueError(f"missing ']' in address {text!r}")
        s = s[1:]
    port = 0
    if s.startswith(":"):
        digits = _take_while(s[1:], "0123456789")
        port = int(digits) if digits else 0
        if port > 65535:
            raise ValueError(f"port out of range in {text!r}")
        s = s[1 + len(digits):]
    nonce = 0
    if s.startswith("/"):
        digits = _take_while(s[1:], "0123456789")
        nonce = int(digits) if digits else 0
        if nonce > 0xFFFFFFFF:
            raise ValueError(f"nonce out of range in {text!r}")
        s = s[1 + len(digits):]
    family = AF_INET if ip.version == 4 else AF_INET6
    return EntityAddr(type=type_, nonce=nonce, family=family, ip=ip.packed, port=port), s


def _take_while(s: str, allowed: str) -> str:
    n = 0
    while n < len(s) and s[n] in allowed:
        n += 1
    return s[:n]


class EntityAddrVec(Record):
    """``entity_addrvec_t``: the addresses one entity listens on (v2 first)."""

    addrs: tuple[EntityAddr, ...]

    __slots__ = ("addrs",)

    def __init__(self, addrs: tuple[EntityAddr, ...] = ()) -> None:
        _set(self, "addrs", addrs)

    def __str__(self) -> str:
        if not self.addrs:
            return ""
        if len(self.addrs) == 1:
            return str(self.addrs[0])
        return "[" + ",".join(str(a) for a in self.addrs) + "]"

    def __iter__(self) -> Iterator[EntityAddr]:
        return iter(self.addrs)

    def __len__(self) -> int:
        return len(self.addrs)

    def __contains__(self, addr: object) -> bool:
        return addr in self.addrs

    def find(self, type: int) -> EntityAddr | None:
        """First address of the given type, or None."""
        for a in self.addrs:
            if a.type == type:
                return a
        return None

    @property
    def msgr2_addr(self) -> EntityAddr | None:
        """``get_msgr2_addr``: the v2 (or any) address."""
        return self.find(AddrType.MSGR2) or self.find(AddrType.ANY)

    @property
    def legacy_addr(self) -> EntityAddr | None:
        """``get_legacy_addr``: the v1 (or any) address."""
        return self.find(AddrType.LEGACY) or self.find(AddrType.ANY)

    @classmethod
    def parse(cls, text: str, default_type: int = AddrType.MSGR2) -> EntityAddrVec:
        """Parse ``[v2:a,v1:b]`` or one address, like ``entity_addrvec_t::parse``."""
        s = text.strip()
        if s.startswith("["):
            try:
                single = EntityAddr.parse(s, default_type)
            except ValueError:
                single = None
            if single is not None and single.family == AF_INET6:
                return cls((single,))
            if not s.endswith("]"):
                raise ValueError(f"missing ']' in address vector {text!r}")
            body = s[1:-1]
            out: list[EntityAddr] = []
            while body:
                addr, body = _parse_addr_prefix(body, default_type)
                out.append(addr)
                if body.startswith(","):
                    body = body[1:]
                    if not body:
                        raise ValueError(f"trailing ',' in address vector {text!r}")
                elif body:
                    raise ValueError(f"bad address vector {text!r}")
            if not out:
                raise ValueError(f"empty address vector {text!r}")
            return cls(tuple(out))
        return cls((EntityAddr.parse(s, default_type),))


__all__ = [
    "AF_INET",
    "AF_INET6",
    "AF_UNSPEC",
    "AddrType",
    "AuthName",
    "Buffer",
    "Cookie",
    "EntityAddr",
    "EntityAddrVec",
    "EntityName",
    "EntityType",
    "GlobalId",
    "UTime",
    "addr_type_name",
    "entity_type_str",
]
