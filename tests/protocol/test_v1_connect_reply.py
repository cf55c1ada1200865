"""msgr v1 client: every ``ceph_msg_connect_reply`` outcome with its exact fault
reason, what READY records, and ``get_proto_version`` (Ceph Pacific
``ProtocolV1::handle_connect_reply_2`` / ``client_ready``)."""

from __future__ import annotations

import random
import struct

import pytest

from asyncmsgr.features import CEPH_FEATURE_CEPHX_V2, CEPH_FEATURES_ALL
from asyncmsgr.frames.v1 import (
    BANNER,
    CEPH_MDS_PROTOCOL,
    CEPH_MDSC_PROTOCOL,
    CEPH_MON_PROTOCOL,
    CEPH_MONC_PROTOCOL,
    CEPH_OSD_PROTOCOL,
    CEPH_OSDC_PROTOCOL,
    CONNECT_LOSSY,
    ConnectMsg,
    ConnectReply,
    V1Tag,
    encode_seq,
    encode_server_hello,
    v1_tag_name,
)
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.common import ProtocolOptions, State, Step
from asyncmsgr.protocol.v1 import ProtocolV1
from asyncmsgr.protocol.v1_handshake import proto_version
from asyncmsgr.testing.interceptor import TestInterceptor
from asyncmsgr.testing.v2pair import SERVER_V1_ADDR, FakeRegistry, ProtocolPair
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec, EntityName, EntityType

T = V1Tag
NOW = 7.0


def _client(policy: Policy | None = None) -> tuple[ProtocolV1, ConnectMsg]:
    reg = FakeRegistry(EntityName(EntityType.CLIENT, 4100),
                       EntityAddrVec((EntityAddr(type=AddrType.ANY, nonce=77),)),
                       policy or Policy.lossless_client())
    c = ProtocolV1(owner="c", registry=reg, options=ProtocolOptions(), policy=reg.policy,
                   peer_type=EntityType.OSD, target_addr=SERVER_V1_ADDR,
                   rng=random.Random(1))
    c.start_connect(0.0)
    c.connection_made(0.0)
    assert b"".join(bytes(x) for x in c.data_to_send(0.0)) == BANNER
    c.receive_data(encode_server_hello(SERVER_V1_ADDR, EntityAddr.from_host("127.0.0.1", 5000)),
                   0.0)
    out = b"".join(bytes(x) for x in c.data_to_send(0.0))
    c.events_received()
    return c, ConnectMsg.decode(out[136:])


def _reply(tag: int, **kw: int) -> bytes:
    fields = {"features": CEPH_FEATURES_ALL, "global_seq": 0, "connect_seq": 0,
              "protocol_version": 24, **kw}
    return ConnectReply(tag=tag, **fields).encode()


def _closes(c: ProtocolV1) -> list[str]:
    return [e.reason for e in c.events_received() if isinstance(e, ev.CloseSocket)]


_NO_RESERVED = Policy.lossless_client().replace(
    features_supported=CEPH_FEATURES_ALL & ~CEPH_FEATURE_CEPHX_V2)
_MINE = proto_version(EntityType.CLIENT, EntityType.OSD, connect=True)


@pytest.mark.parametrize(("policy", "reply", "reason"), [
    (None, _reply(T.BADAUTHORIZER),
     "AuthFailed: the server refused our authorizer (BADAUTHORIZER)"),
    (None, _reply(T.CHALLENGE_AUTHORIZER),
     "AuthFailed: the server challenged an authorizer we did not send"),
    (_NO_RESERVED, _reply(T.FEATURES),
     f"MissingFeatures: server requires features {CEPH_FEATURE_CEPHX_V2:#x} we lack"),
    (None, _reply(T.BADPROTOVER, protocol_version=99),
     f"ConnectRefused: protocol version mismatch: ours {_MINE}, the server's 99"),
    (None, _reply(99), f"UnknownTag: unexpected connect reply tag 99 ({v1_tag_name(99)})"),
    (None, _reply(T.WAIT), "received WAIT (connection race)"),
    (Policy.lossless_client(features_required=CEPH_FEATURE_CEPHX_V2),
     _reply(T.READY, connect_seq=1, features=CEPH_FEATURES_ALL & ~CEPH_FEATURE_CEPHX_V2),
     f"MissingFeatures: server lacks required features {CEPH_FEATURE_CEPHX_V2:#x}"),
    (None, _reply(T.READY, connect_seq=5), "DecodeError: server's connect_seq 5 != ours 1"),
], ids=["badauthorizer", "challenge", "features", "badprotover", "unknown", "wait",
        "server-lacks", "connect-seq"])
def test_connect_reply_faults_with_its_reason(policy: Policy | None, reply: bytes,
                                              reason: str) -> None:
    c, _ = _client(policy)
    c.receive_data(reply, NOW)
    assert _closes(c) == [reason]
    assert c.state is State.START_CONNECT


def test_retry_session_that_does_not_move_forward_is_a_decode_fault() -> None:
    c, _ = _client()
    c.receive_data(_reply(T.RETRY_SESSION, connect_seq=7), NOW)
    c.data_to_send(NOW)
    c.receive_data(_reply(T.RETRY_SESSION, connect_seq=7), NOW)
    assert _closes(c) == ["DecodeError: RETRY_SESSION with connect_seq 7 <= ours 7"]


def test_ready_records_the_server_and_becomes_ready() -> None:
    c, _ = _client()
    c.backoff = 2.0
    features = CEPH_FEATURES_ALL & ~CEPH_FEATURE_CEPHX_V2
    c.receive_data(_reply(T.READY, connect_seq=1, global_seq=33, features=features,
                          flags=CONNECT_LOSSY), NOW)
    assert c.state is State.OPEN
    assert c.session.peer_global_seq == 33
    assert c.lossy is True
    assert c.features == features
    assert c.backoff == 0.0
    assert c.last_active == NOW
    assert ev.Connected(reconnect=False) in c.events_received()


def test_ready_without_lossy_flag_is_lossless() -> None:
    c, _ = _client()
    c.receive_data(_reply(T.READY, connect_seq=1, global_seq=2), NOW)
    assert c.state is State.OPEN
    assert c.lossy is False


@pytest.mark.parametrize(("me", "peer", "connect", "expected"), [
    (EntityType.OSD, EntityType.OSD, True, CEPH_OSD_PROTOCOL),
    (EntityType.MDS, EntityType.MDS, False, CEPH_MDS_PROTOCOL),
    (EntityType.MON, EntityType.MON, True, CEPH_MON_PROTOCOL),
    (EntityType.CLIENT, EntityType.CLIENT, True, 0),
    (EntityType.CLIENT, EntityType.OSD, True, CEPH_OSDC_PROTOCOL),
    (EntityType.CLIENT, EntityType.MDS, True, CEPH_MDSC_PROTOCOL),
    (EntityType.CLIENT, EntityType.MON, True, CEPH_MONC_PROTOCOL),
    (EntityType.OSD, EntityType.CLIENT, False, CEPH_OSDC_PROTOCOL),  # the server's type
    (EntityType.MON, EntityType.CLIENT, False, CEPH_MONC_PROTOCOL),
    (EntityType.CLIENT, EntityType.MGR, True, 0),
])
def test_proto_version(me: int, peer: int, connect: bool, expected: int) -> None:
    assert proto_version(me, peer, connect=connect) == expected


# -- the client's side of the handshake --------------------------------------------------


def test_client_counts_its_banner_and_connect_and_is_a_client() -> None:
    c, connect = _client()
    assert c.handshake_counts["banner"] == 1
    assert c.handshake_counts["send_CONNECT"] == 1
    assert " client " in repr(c)
    assert c.last_active == 0.0
    assert connect.flags == 0
    assert connect.protocol_version == CEPH_OSDC_PROTOCOL
    assert connect.connect_seq == 0
    assert connect.host_type == EntityType.CLIENT


def test_lossy_client_says_so() -> None:
    _, connect = _client(Policy.lossy_client())
    assert connect.flags == CONNECT_LOSSY


def test_osd_to_osd_uses_the_cluster_protocol() -> None:
    reg = FakeRegistry(EntityName(EntityType.OSD, 1),
                       EntityAddrVec((EntityAddr(type=AddrType.ANY, nonce=77),)),
                       Policy.lossless_peer())
    c = ProtocolV1(owner="c", registry=reg, options=ProtocolOptions(), policy=reg.policy,
                   peer_type=EntityType.OSD, target_addr=SERVER_V1_ADDR,
                   rng=random.Random(1))
    c.start_connect(0.0)
    c.connection_made(0.0)
    c.data_to_send(0.0)
    c.receive_data(encode_server_hello(SERVER_V1_ADDR, EntityAddr.from_host("127.0.0.1", 5000)),
                   0.0)
    out = b"".join(bytes(x) for x in c.data_to_send(0.0))
    assert ConnectMsg.decode(out[136:]).protocol_version == CEPH_OSD_PROTOCOL


def test_reconnect_goes_through_send_reconnect() -> None:
    t = TestInterceptor()
    c, _ = _client()
    c.interceptor = t
    c.receive_data(_reply(T.RETRY_SESSION, connect_seq=4), NOW)
    assert t.step_history[c.owner] == [Step.SEND_RECONNECT]
    c2, _ = _client()
    c2.interceptor = t
    c2.receive_data(_reply(T.RETRY_GLOBAL, global_seq=9), NOW)
    assert t.step_history[c2.owner][-1] == Step.SEND_CLIENT_IDENTITY


def test_connect_reply_authorizer_at_the_cap_is_read_and_above_refused() -> None:
    cap = ProtocolOptions().max_authorizer_len
    c, _ = _client()
    c.receive_data(_reply(T.READY, connect_seq=1, authorizer_len=cap), NOW)
    assert c.state is State.CONNECTING_WAIT_CONNECT_REPLY_AUTH
    c2, _ = _client()
    c2.receive_data(_reply(T.READY, connect_seq=1, authorizer_len=cap + 1), NOW)
    assert _closes(c2) == [f"FrameTooLarge: authorizer reply of {cap + 1} bytes exceeds "
                           f"cap {cap}"]


def test_server_claiming_another_node_is_refused_with_its_reason() -> None:
    reg = FakeRegistry(EntityName(EntityType.CLIENT, 4100),
                       EntityAddrVec((EntityAddr(type=AddrType.ANY, nonce=77),)),
                       Policy.lossless_client())
    c = ProtocolV1(owner="c", registry=reg, options=ProtocolOptions(), policy=reg.policy,
                   peer_type=EntityType.OSD, target_addr=SERVER_V1_ADDR,
                   rng=random.Random(1))
    c.start_connect(0.0)
    c.connection_made(0.0)
    c.data_to_send(0.0)
    # a blank IP with another port: not the same node either
    other = EntityAddr(type=AddrType.LEGACY, nonce=SERVER_V1_ADDR.nonce,
                       port=SERVER_V1_ADDR.port + 1)
    c.receive_data(encode_server_hello(other, EntityAddr.from_host("127.0.0.1", 5000)), 0.0)
    [reason] = _closes(c)
    assert reason.startswith("WrongPeer: peer claims to be ")
    assert reason.endswith(f", not {SERVER_V1_ADDR}: wrong node")


def test_ready_for_a_second_session_is_a_reconnect() -> None:
    c, _ = _client()
    c.session.connect_seq = 1  # an earlier session existed
    c.receive_data(_reply(T.READY, connect_seq=2, global_seq=3), NOW)
    assert ev.Connected(reconnect=True) in c.events_received()


def test_seq_reply_then_ack_seq_then_more_in_one_read() -> None:
    """SEQ, the server's in_seq and a KEEPALIVE2 arrive together: all processed."""
    c, _ = _client()
    keepalive = bytes([T.KEEPALIVE2]) + struct.pack("<II", 1, 2)
    c.receive_data(_reply(T.SEQ, connect_seq=1, global_seq=3) + encode_seq(0) + keepalive,
                   NOW)
    assert c.state is State.OPEN
    assert c.last_active == NOW
    out = b"".join(bytes(x) for x in c.data_to_send(NOW))
    assert bytes([T.KEEPALIVE2_ACK]) in out[8:]  # after our in_seq, the echo


def test_v1_step_held_by_an_interceptor_runs_when_released() -> None:
    step = Step.SEND_CLIENT_IDENTITY
    t = TestInterceptor()
    t.breakpoint(step)
    p = ProtocolPair(protocol=1, client_policy=Policy.lossless_client(),
                     server_policy=Policy.stateful_server())
    p.client.interceptor = t
    p.connect()
    p.transfer()
    assert p.client.held_step is step
    p.client.release(p.now)
    p.transfer()
    assert p.client.state is State.OPEN
    assert p.server.state is State.OPEN
