"""Read libpcap / pcapng captures and reassemble TCP streams (no third-party code).

:func:`read_packets` yields ``(timestamp, ip payload info)`` for TCP segments of
IPv4 and IPv6 packets on the usual link types (Ethernet, Linux cooked v1/v2, BSD
loopback, raw IP). :func:`reassemble` groups them into :class:`TcpConnection`
objects with one :class:`HalfStream` per direction; each half-stream orders
segments by sequence number, trims retransmitted and overlapping bytes, and
records where gaps remain. The client is the side that sent the SYN, else the
side with the higher port.
"""

from __future__ import annotations

import ipaddress
import struct
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
LINKTYPE_RAW_ALT = 12

_TCP_FIN = 0x01
_TCP_SYN = 0x02
_TCP_RST = 0x04
_TCP_ACK = 0x10
_SEQ_MOD = 1 << 32
_HALF = 1 << 31


class CaptureError(Exception):
    """The file is not a capture we can read."""


@dataclass(frozen=True, slots=True)
class TcpSegment:
    """One TCP segment from the capture."""

    ts: float
    src: str
    sport: int
    dst: str
    dport: int
    seq: int
    flags: int
    payload: bytes


#: The largest record a capture may hold (libpcap's ``MAXIMUM_SNAPLEN``, 256 KiB):
#: a record claiming more is corruption, not a packet.
MAX_RECORD = 262144


def _iter_pcap(data: bytes, problems: list[str]) -> Iterator[tuple[float, int, bytes]]:
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise CaptureError("not a pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    if len(data) < 24:
        raise CaptureError("truncated pcap header")
    snaplen = struct.unpack_from(endian + "I", data, 16)[0]
    linktype = struct.unpack_from(endian + "I", data, 20)[0] & 0x0FFFFFFF
    limit = max(MAX_RECORD, min(snaplen, 1 << 24))
    rec = struct.Struct(endian + "IIII")
    pos = 24
    index = 0
    while pos + 16 <= len(data):
        sec, frac, incl, _orig = rec.unpack_from(data, pos)
        if incl > limit:
            problems.append(f"record {index} at byte {pos} claims {incl} bytes, more than a "
                            f"record holds ({limit}); the rest of the file is not read")
            return
        pos += 16
        if pos + incl > len(data):
            problems.append(f"record {index} at byte {pos - 16} is cut short: "
                            f"{len(data) - pos} of its {incl} bytes (a truncated capture)")
            return
        if incl == 0:
            problems.append(f"record {index} at byte {pos - 16} has length 0")
        else:
            ts = sec + frac / (1e9 if nano else 1e6)
            yield ts, linktype, data[pos : pos + incl]
        pos += incl
        index += 1
    if pos < len(data):
        problems.append(f"{len(data) - pos} bytes after record {index - 1} are not a whole "
                        "record header (a truncated capture)")


def _iter_pcapng(data: bytes, problems: list[str]) -> Iterator[tuple[float, int, bytes]]:
    pos = 0
    endian = "<"
    interfaces: list[tuple[int, float]] = []
    while pos + 12 <= len(data):
        btype_raw = data[pos : pos + 4]
        if btype_raw == b"\x0a\x0d\x0d\x0a":
            bom = data[pos + 8 : pos + 12]
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            interfaces = []
        btype, blen = struct.unpack_from(endian + "II", data, pos)
        if blen < 12 or blen % 4:
            problems.append(f"block at byte {pos} has a bad length {blen}; the rest of the "
                            "file is not read")
            return
        if pos + blen > len(data):
            problems.append(f"block at byte {pos} is cut short: {len(data) - pos} of its "
                            f"{blen} bytes (a truncated capture)")
            return
        body = data[pos + 8 : pos + blen - 4]
        if btype == 1 and len(body) >= 8:  # interface description
            linktype = struct.unpack_from(endian + "H", body, 0)[0]
            interfaces.append((linktype, _if_tsresol(body[8:], endian)))
        elif btype == 6 and len(body) >= 20:  # enhanced packet
            ifid, hi, lo, caplen, _orig = struct.unpack_from(endian + "IIIII", body, 0)
            if caplen > len(body) - 20:
                problems.append(f"packet block at byte {pos} claims {caplen} bytes, its "
                                f"block holds {len(body) - 20}")
            elif ifid < len(interfaces):
                linktype, resol = interfaces[ifid]
                yield ((hi << 32 | lo) * resol, linktype, body[20 : 20 + caplen])
        elif btype == 3 and len(body) >= 4 and interfaces:  # simple packet
            linktype, _ = interfaces[0]
            yield 0.0, linktype, body[4:]
        pos += blen
    if pos < len(data):
        problems.append(f"{len(data) - pos} bytes at the end are not a whole block "
                        "(a truncated capture)")


def _if_tsresol(options: bytes, endian: str) -> float:
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(endian + "HH", options, pos)
        if code == 0:
            break
        if code == 9 and length >= 1:
            v = options[pos + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        pos += 4 + ((length + 3) & ~3)
    return 1e-6


def _network_layer(linktype: int, frame: bytes) -> bytes | None:
    if linktype == LINKTYPE_ETHERNET:
        if len(frame) < 14:
            return None
        etype = struct.unpack_from(">H", frame, 12)[0]
        off = 14
        while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:
            etype = struct.unpack_from(">H", frame, off + 2)[0]
            off += 4
        return frame[off:] if etype in (0x0800, 0x86DD) else None
    if linktype == LINKTYPE_LINUX_SLL:
        return frame[16:] if len(frame) >= 16 else None
    if linktype == LINKTYPE_LINUX_SLL2:
        return frame[20:] if len(frame) >= 20 else None
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        return frame[4:] if len(frame) >= 4 else None
    if linktype in (LINKTYPE_RAW, LINKTYPE_RAW_ALT, LINKTYPE_IPV4, LINKTYPE_IPV6):
        return frame
    return None


def _tcp_of_ip(ip: bytes) -> tuple[str, str, bytes] | None:
    if not ip:
        return None
    version = ip[0] >> 4
    if version == 4 and len(ip) >= 20:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack_from(">H", ip, 2)[0]
        frag = struct.unpack_from(">H", ip, 6)[0]
        if ip[9] != 6 or frag & 0x3FFF:
            return None  # not TCP, or a fragment
        end = total if 0 < total <= len(ip) else len(ip)
        return (str(ipaddress.IPv4Address(ip[12:16])), str(ipaddress.IPv4Address(ip[16:20])),
                ip[ihl:end])
    if version == 6 and len(ip) >= 40:
        nxt = ip[6]
        plen = struct.unpack_from(">H", ip, 4)[0]
        src = str(ipaddress.IPv6Address(ip[8:24]))
        dst = str(ipaddress.IPv6Address(ip[24:40]))
        body = ip[40 : 40 + plen] if plen else ip[40:]
        while nxt in (0, 43, 60) and len(body) >= 8:
            nxt, hlen = body[0], (body[1] + 1) * 8
            body = body[hlen:]
        return (src, dst, body) if nxt == 6 else None
    return None


def read_segments(data: bytes, problems: list[str] | None = None) -> Iterator[TcpSegment]:
    """Every TCP segment in a pcap or pcapng capture, in file order.

    What is wrong with the file itself (a record cut short, of length 0 or longer
    than a record can be) is appended to ``problems``; reading stops at a record
    that cannot be trusted.
    """
    problems = [] if problems is None else problems
    pcapng = data[:4] == b"\x0a\x0d\x0d\x0a"
    records = _iter_pcapng(data, problems) if pcapng else _iter_pcap(data, problems)
    for ts, linktype, frame in records:
        ip = _network_layer(linktype, frame)
        if ip is None:
            continue
        got = _tcp_of_ip(ip)
        if got is None:
            continue
        src, dst, tcp = got
        if len(tcp) < 20:
            continue
        sport, dport, seq = struct.unpack_from(">HHI", tcp, 0)
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        if doff < 20 or doff > len(tcp):
            continue
        yield TcpSegment(ts, src, sport, dst, dport, seq, flags, bytes(tcp[doff:]))


@dataclass(slots=True)
class HalfStream:
    """One direction of a TCP connection, reassembled."""

    data: bytearray = field(default_factory=bytearray)
    _next: int | None = None
    _pending: dict[int, bytes] = field(default_factory=dict)
    _offsets: list[int] = field(default_factory=list)
    _times: list[float] = field(default_factory=list)

    @property
    def has_gap(self) -> bool:
        """True when bytes after a hole were seen but the hole was never filled."""
        return bool(self._pending)

    def time_at(self, offset: int) -> float:
        """Capture time of the packet that delivered the byte before ``offset``."""
        if not self._times:
            return 0.0
        i = bisect_left(self._offsets, offset)
        return self._times[min(i, len(self._times) - 1)]

    def add(self, seg: TcpSegment) -> None:
        """Place one segment (SYN sets the start; out-of-order data waits)."""
        if seg.flags & _TCP_SYN:
            self._next = (seg.seq + 1) % _SEQ_MOD
            if not seg.payload:
                return
            seq = (seg.seq + 1) % _SEQ_MOD
        else:
            seq = seg.seq
        if not seg.payload:
            return
        if self._next is None:
            self._next = seq
        prev = self._pending.get(seq)
        if prev is None or len(prev) < len(seg.payload):
            self._pending[seq] = seg.payload
        self._drain(seg.ts)

    def _drain(self, ts: float) -> None:
        assert self._next is not None
        progress = True
        while progress and self._pending:
            progress = False
            for seq in list(self._pending):
                payload = self._pending[seq]
                ahead = (seq - self._next) % _SEQ_MOD
                if ahead < _HALF and ahead > 0:
                    continue  # still in the future
                del self._pending[seq]
                skip = 0 if ahead == 0 else (self._next - seq) % _SEQ_MOD
                if skip < len(payload):
                    self.data += payload[skip:]
                    self._next = (self._next + len(payload) - skip) % _SEQ_MOD
                    self._offsets.append(len(self.data))
                    self._times.append(ts)
                progress = True


@dataclass(slots=True)
class TcpConnection:
    """A TCP connection: endpoints (client first) and both half-streams."""

    client: tuple[str, int]
    server: tuple[str, int]
    first_ts: float
    c2s: HalfStream = field(default_factory=HalfStream)
    s2c: HalfStream = field(default_factory=HalfStream)
    index: int = 0

    def label(self) -> str:
        """``client -> server`` endpoint text."""
        return f"{_ep(self.client)} -> {_ep(self.server)}"


def _ep(ep: tuple[str, int]) -> str:
    host, port = ep
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def reassemble(data: bytes, problems: list[str] | None = None) -> list[TcpConnection]:
    """Group a capture's TCP segments into connections, ordered by first packet.

    A new SYN on a 4-tuple whose previous connection had ended starts a new
    connection (port reuse). ``problems``: see :func:`read_segments`.
    """
    conns: dict[tuple[tuple[str, int], tuple[str, int]], TcpConnection] = {}
    closed: set[tuple[tuple[str, int], tuple[str, int]]] = set()
    order: list[TcpConnection] = []
    for seg in read_segments(data, problems):
        a, b = (seg.src, seg.sport), (seg.dst, seg.dport)
        key = (a, b) if a <= b else (b, a)
        syn_only = seg.flags & _TCP_SYN and not seg.flags & _TCP_ACK
        conn = conns.get(key)
        if conn is None or (syn_only and key in closed):
            closed.discard(key)
            if syn_only:
                client, server = a, b
            elif seg.flags & _TCP_SYN:  # SYN+ACK comes from the server
                client, server = b, a
            else:
                client, server = (a, b) if seg.sport > seg.dport else (b, a)
            conn = TcpConnection(client, server, seg.ts, index=len(order))
            conns[key] = conn
            order.append(conn)
        half = conn.c2s if a == conn.client else conn.s2c
        half.add(seg)
        if seg.flags & (_TCP_FIN | _TCP_RST):
            closed.add(key)
    return order


def _ip_packet(seg: TcpSegment) -> bytes:
    """A raw IPv4/IPv6 packet carrying the segment (checksums left zero)."""
    tcp = struct.pack(">HHIIBBHHH", seg.sport, seg.dport, seg.seq, 0, 5 << 4,
                      seg.flags, 65535, 0, 0) + seg.payload
    src, dst = ipaddress.ip_address(seg.src), ipaddress.ip_address(seg.dst)
    if src.version == 4:
        return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                           src.packed, dst.packed) + tcp
    return struct.pack(">IHBB16s16s", 6 << 28, len(tcp), 6, 64, src.packed,
                       dst.packed) + tcp


def write_pcap(segments: list[TcpSegment]) -> bytes:
    """A libpcap file (LINKTYPE_RAW, microsecond stamps) holding the segments."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE_RAW))
    for seg in segments:
        pkt = _ip_packet(seg)
        sec = int(seg.ts)
        out += struct.pack("<IIII", sec, int((seg.ts - sec) * 1e6), len(pkt), len(pkt))
        out += pkt
    return bytes(out)


def write_pcapng(segments: list[TcpSegment]) -> bytes:
    """A pcapng file (one LINKTYPE_RAW interface, microsecond stamps)."""

    def block(btype: int, body: bytes) -> bytes:
        body += bytes(-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    out = bytearray(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
    out += block(1, struct.pack("<HHI", LINKTYPE_RAW, 0, 262144))
    for seg in segments:
        pkt = _ip_packet(seg)
        us = int(seg.ts * 1e6)
        out += block(6, struct.pack("<IIIII", 0, us >> 32, us & 0xFFFFFFFF, len(pkt),
                                    len(pkt)) + pkt)
    return bytes(out)


__all__ = [
    "CaptureError",
    "HalfStream",
    "TcpConnection",
    "TcpSegment",
    "read_segments",
    "reassemble",
    "write_pcap",
    "write_pcapng",
]
