"""The protocol layer's value objects: ProtocolOptions' defaults are Ceph Pacific's
option defaults (``ceph-conf -D``: ms_connection_ready_timeout 10,
ms_connection_idle_timeout 900, ms_initial_backoff 0.2, ms_max_backoff 15, the
ms_die_on_* debug switches off, ms_crc_* and cephx_sign_messages on) and our own
documented sizes; the fast path follows ASYNCMSGR_GENERAL_PATH; a fresh Session
starts every counter at 0 and keeps the queues it is given; verdicts and the
Handover default to "nothing more to do" (0 / False)."""

from __future__ import annotations

from collections import deque

import pytest

from asyncmsgr.auth.base import AuthConnectionMeta
from asyncmsgr.frames.assembler import FrameAssembler, FrameLimits
from asyncmsgr.message import Message
from asyncmsgr.messages import MPing
from asyncmsgr.protocol.common import ProtocolOptions
from asyncmsgr.protocol.races import (
    ConnectAction,
    ConnectVerdict,
    IdentAction,
    IdentVerdict,
    ReconnectAction,
    ReconnectVerdict,
)
from asyncmsgr.protocol.rxbuffer import RxBuffer
from asyncmsgr.protocol.session import OutQueue, Session
from asyncmsgr.protocol.v2_handshake import Handover
from asyncmsgr.types import EntityAddr, EntityAddrVec, EntityName, EntityType


def test_protocol_options_defaults_are_cephs() -> None:
    o = ProtocolOptions()
    assert o.connection_ready_timeout == 10.0
    assert o.connection_idle_timeout == 900.0
    assert o.initial_backoff == 0.2
    assert o.max_backoff == 15.0
    assert o.learn_addr_from_peer is True
    assert (o.die_on_old_message, o.die_on_skipped_message, o.die_on_bad_msg) == (
        False, False, False)
    assert (o.crc_header, o.crc_data, o.sign_messages) == (True, True, True)
    # Ceph's msgr v1 asserts an authorizer below 4 KiB; the 1 ms throttle retry
    assert o.max_authorizer_len == 4096
    assert o.throttle_retry == 0.001
    # our own sizes (documented in ProtocolOptions)
    assert o.rx_buffer_size == 256 * 1024
    assert o.large_segment_threshold == 64 * 1024
    assert o.write_batch_bytes == 4 << 20
    assert o.max_pre_auth_transcript == 1 << 20
    assert o.limits == FrameLimits()
    assert o.pre_auth_limits == FrameLimits.pre_auth()


def test_protocol_options_keep_what_they_are_given() -> None:
    o = ProtocolOptions(connection_ready_timeout=1.5, die_on_skipped_message=True,
                        rx_buffer_size=4096, max_authorizer_len=100, fast_path=False)
    assert (o.connection_ready_timeout, o.die_on_skipped_message, o.rx_buffer_size,
            o.max_authorizer_len, o.fast_path) == (1.5, True, 4096, 100, False)
    assert ProtocolOptions(fast_path=True).fast_path is True


@pytest.mark.parametrize(("value", "fast"), [(None, True), ("", True), ("0", True),
                                             ("1", False), ("yes", False)])
def test_fast_path_default_follows_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                   value: str | None, fast: bool) -> None:
    if value is None:
        monkeypatch.delenv("ASYNCMSGR_GENERAL_PATH", raising=False)
    else:
        monkeypatch.setenv("ASYNCMSGR_GENERAL_PATH", value)
    assert ProtocolOptions().fast_path is fast
    # an explicit choice wins over the environment
    assert ProtocolOptions(fast_path=not fast).fast_path is (not fast)


def test_fresh_session_counters_are_zero() -> None:
    s = Session()
    assert (s.out_seq, s.in_seq, s.ack_left, s.client_cookie, s.server_cookie,
            s.connect_seq, s.global_seq, s.peer_global_seq, s.message_seq) == (0,) * 9
    assert len(s.out_queue) == 0
    assert len(s.sent) == 0


def test_session_keeps_the_queues_and_counters_it_is_given() -> None:
    queue = OutQueue()
    queue.push(MPing(priority=127, tid=1))
    sent: deque[Message] = deque([MPing(priority=127, tid=2)])
    s = Session(out_queue=queue, sent=sent, global_seq=7, peer_global_seq=8, message_seq=9,
                connect_seq=3)
    assert s.out_queue is queue
    assert s.sent is sent
    assert (s.global_seq, s.peer_global_seq, s.message_seq, s.connect_seq) == (7, 8, 9, 3)


def test_verdict_defaults_ask_for_nothing_more() -> None:
    c = ConnectVerdict(ConnectAction.OPEN)
    assert (c.value, c.reset_existing, c.reset_from_peer, c.keepalive_existing) == (
        0, False, False, False)
    i = IdentVerdict(IdentAction.REUSE)
    assert (i.reset_existing, i.keepalive_existing) == (False, False)
    r = ReconnectVerdict(ReconnectAction.RESET)
    assert (r.full, r.value) == (False, 0)


def test_handover_defaults() -> None:
    h = Handover(asm=FrameAssembler(), auth_meta=AuthConnectionMeta(), rx=RxBuffer(4096),
                 peer_type=EntityType.CLIENT,
                 peer_addrs=EntityAddrVec((EntityAddr.from_host("127.0.0.1", 1),)),
                 target_addr=EntityAddr.from_host("127.0.0.1", 1),
                 peer_name=EntityName(EntityType.CLIENT, 4), features=1, client_cookie=2,
                 peer_global_seq=3, reconnect=False)
    assert (h.connect_seq, h.msg_seq, h.reset_existing) == (0, 0, False)
