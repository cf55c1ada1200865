"""What a hostile peer sends to pin a server's pre-auth memory (issue 14).

Each payload is a valid handshake prefix that stops one byte short of the item
the server must buffer before it can judge it: an AUTH_REQUEST whose segments
are at the pre-auth cap (msgr2), or a connect message with a full-size
authorizer (msgr v1). The tests and ``benchmarks/bench_preauth.py`` open many
connections and write one of these on each.
"""

from __future__ import annotations

from asyncmsgr.frames.assembler import FrameAssembler
from asyncmsgr.frames.v1 import (
    BANNER as V1_BANNER,
)
from asyncmsgr.frames.v1 import (
    CEPH_AUTH_CEPHX,
    CEPH_OSDC_PROTOCOL,
    ConnectMsg,
    encode_addr_and_connect,
)
from asyncmsgr.frames.v2 import HelloFrame, Tag, encode_banner
from asyncmsgr.types import AddrType, EntityAddr, EntityType

#: The default ``asyncmsgr_max_preauth_segment``.
PREAUTH_SEGMENT = 65536
#: The largest authorizer a msgr v1 server takes (``max_authorizer_len``).
V1_AUTHORIZER = 4096


def v2_auth_request_prefix(*, segments: int = 1, segment_len: int = PREAUTH_SEGMENT) -> bytes:
    """msgr2.1 crc: banner, HELLO, and an AUTH_REQUEST of ``segments`` segments of
    ``segment_len`` bytes each, without its last byte."""
    asm = FrameAssembler(rev1=True)
    hello = HelloFrame(entity_type=EntityType.CLIENT,
                       peer_addr=EntityAddr.from_host("127.0.0.1", 0))
    out = bytearray(encode_banner())
    for chunk in asm.assemble(Tag.HELLO, (hello.encode_payload(),)):
        out += chunk
    for chunk in asm.assemble(Tag.AUTH_REQUEST, [b"\x01" * segment_len] * segments,
                              [8] * segments):
        out += chunk
    return bytes(out[:-1])


def v1_connect_prefix(*, authorizer_len: int = V1_AUTHORIZER) -> bytes:
    """msgr v1: banner, the client's address and a connect message announcing a
    cephx authorizer of ``authorizer_len`` bytes, without its last byte."""
    connect = ConnectMsg(features=0, host_type=int(EntityType.CLIENT), global_seq=1,
                         connect_seq=0, protocol_version=CEPH_OSDC_PROTOCOL,
                         authorizer_protocol=CEPH_AUTH_CEPHX,
                         authorizer_len=authorizer_len)
    me = EntityAddr.from_host("127.0.0.1", 0, type=AddrType.LEGACY)
    body = encode_addr_and_connect(me, connect, b"\x01" * authorizer_len)
    return V1_BANNER + body[:-1]


__all__ = ["PREAUTH_SEGMENT", "V1_AUTHORIZER", "v1_connect_prefix", "v2_auth_request_prefix"]
