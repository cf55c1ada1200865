"""Ceph's ``entity_addr_t`` order byte for byte, the race rules at their exact
boundaries (equal addresses, connect_seq 1, a half-known session), the session's
queue order and reset, and the general-path switch."""

from __future__ import annotations

import struct
from socket import AF_INET6

import pytest

from asyncmsgr.messages import MPing
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.common import general_path_forced
from asyncmsgr.protocol.races import (
    ConnectAction,
    ExistingView,
    IdentAction,
    ReconnectAction,
    addr_order_key,
    decide_client_ident,
    decide_connect_msg,
    decide_reconnect,
)
from asyncmsgr.protocol.session import OutQueue, Session
from asyncmsgr.types import AddrType, EntityAddr

A = EntityAddr.from_host("127.0.0.1", 6800, nonce=1)
BASE = ExistingView(closed=False, replacing=False, ready_or_standby=False, lossy=False,
                    server=False, client_cookie=0, server_cookie=0, connect_seq=0,
                    peer_global_seq=5, peer_addr=A)


# -- addr_order_key: the bytes memcmp compares ----------------------------------------------


def test_order_key_of_ipv4_is_the_struct_bytes() -> None:
    a = EntityAddr.from_host("10.1.2.3", 0x8001, type=AddrType.MSGR2, nonce=0x80000001)
    key = addr_order_key(a)
    assert key == (struct.pack("<IIH", 2, 0x80000001, 2) + b"\x80\x01" + bytes([10, 1, 2, 3])
                   + bytes(26 - 6))
    assert len(key) == 8 + 28


def test_order_key_of_ipv6_has_flowinfo_and_scope() -> None:
    ip = bytes(15) + b"\x01"
    a = EntityAddr(AddrType.MSGR2, 7, AF_INET6, ip, 3300, 0x81020304, 0x8A0B0C0D)
    key = addr_order_key(a)
    body = (struct.pack(">H", 3300) + b"\x81\x02\x03\x04" + ip + b"\x0d\x0c\x0b\x8a")
    assert len(body) == 26  # sockaddr_in6 fills the union
    assert key == struct.pack("<IIH", AddrType.MSGR2, 7, AF_INET6) + body


def test_order_key_of_other_families_and_none() -> None:
    blank = EntityAddr()
    assert addr_order_key(blank) == struct.pack("<IIH", blank.type, 0, 0) + bytes(26)
    assert addr_order_key(None) == b""
    assert addr_order_key(None) < addr_order_key(blank)


def test_high_ports_and_nonces_sort_unsigned() -> None:
    assert addr_order_key(A.with_port(0x7FFF)) < addr_order_key(A.with_port(0x8000))
    assert addr_order_key(A.with_nonce(0x7F)) < addr_order_key(A.with_nonce(0x80))


# -- the race rules at their boundaries -------------------------------------------------------


def test_ident_race_with_the_same_address_waits() -> None:
    """Equal addresses: the peer is not lower, so we (not a server) wait."""
    d = decide_client_ident(BASE, global_seq=5, cookie=7, peer_addr=A, my_addr=A,
                            resetcheck=True)
    assert d.action is IdentAction.WAIT


def test_ident_with_only_a_client_cookie_is_not_a_restart() -> None:
    """A restart needs both cookies set (the session was established)."""
    half = BASE.replace(client_cookie=1, server_cookie=0, ready_or_standby=True)
    d = decide_client_ident(half, global_seq=5, cookie=7, peer_addr=A, my_addr=A,
                            resetcheck=True)
    assert (d.action, d.reset_existing) == (IdentAction.REUSE, False)


def test_reconnect_race_with_the_same_address_reuses() -> None:
    session = BASE.replace(client_cookie=7, server_cookie=9, connect_seq=1)
    d = decide_reconnect(session, client_cookie=7, global_seq=5, connect_seq=1, my_addr=A,
                         resetcheck=True)
    assert d.action is ReconnectAction.REUSE


def test_reconnect_to_a_session_without_server_cookie_is_a_partial_reset() -> None:
    session = BASE.replace(client_cookie=7, server_cookie=0, connect_seq=1)
    d = decide_reconnect(session, client_cookie=7, global_seq=5, connect_seq=1, my_addr=A,
                         resetcheck=True)
    assert d.action is ReconnectAction.RESET
    assert d.full is False


def test_v1_connect_seq_1_against_a_lost_session_is_reset() -> None:
    """v1 rule: a client with connect_seq > 0 whose session we do not have."""
    v = decide_connect_msg(None, global_seq=5, connect_seq=1, peer_addr=A, my_addr=A,
                           resetcheck=True, replacing=False)
    assert v.action is ConnectAction.RESETSESSION
    # ... unless this connection already took a socket over (then it opens)
    v = decide_connect_msg(None, global_seq=5, connect_seq=1, peer_addr=A, my_addr=A,
                           resetcheck=True, replacing=True)
    assert v.action is ConnectAction.OPEN


def test_v1_connect_race_with_the_same_address_waits() -> None:
    existing = BASE.replace(connect_seq=1, ready_or_standby=False)
    v = decide_connect_msg(existing, global_seq=5, connect_seq=1, peer_addr=A, my_addr=A,
                           resetcheck=True, replacing=False)
    assert v.action is ConnectAction.WAIT


# -- session ---------------------------------------------------------------------------------


def test_out_queue_iterates_highest_priority_first() -> None:
    q = OutQueue()
    for prio, tid in ((63, 1), (255, 2), (127, 3), (196, 4)):
        q.push(MPing(priority=prio, tid=tid))
    assert [m.tid for m in q] == [2, 4, 3, 1]


def test_requeue_into_an_empty_queue_counts() -> None:
    q = OutQueue()
    q.push(MPing(priority=127, tid=9))
    q.push_front_highest([MPing(priority=127, tid=1), MPing(priority=127, tid=2)])
    assert len(q) == 3
    assert [m.tid for m in q][:2] == [1, 2]


def test_requeue_goes_before_what_the_highest_queue_holds() -> None:
    q = OutQueue()
    q.push(MPing(priority=255, tid=9))
    q.push_front_highest([MPing(priority=127, tid=1), MPing(priority=127, tid=2)])
    assert [m.tid for m in q] == [1, 2, 9]
    assert len(q) == 3


def test_session_reset_zeroes_the_cookies() -> None:
    s = Session()
    s.client_cookie, s.server_cookie = 5, 6
    s.connect_seq, s.peer_global_seq, s.message_seq = 7, 8, 9
    s.reset()
    assert s.client_cookie == 0
    assert s.server_cookie == 0
    assert (s.connect_seq, s.peer_global_seq, s.message_seq) == (0, 0, 0)
    assert type(s.connect_seq) is int
    assert type(s.client_cookie) is int
    assert type(s.server_cookie) is int


def test_messages_dropped_keeps_its_messages() -> None:
    m = MPing()
    assert ev.MessagesDropped(messages=(m,)).messages == (m,)


# -- general path switch ----------------------------------------------------------------------


@pytest.mark.parametrize(("env", "forced"), [
    ({}, False), ({"ASYNCMSGR_GENERAL_PATH": ""}, False),
    ({"ASYNCMSGR_GENERAL_PATH": "0"}, False), ({"ASYNCMSGR_GENERAL_PATH": "1"}, True),
    ({"ASYNCMSGR_GENERAL_PATH": "XX0XX"}, True), ({"": "1"}, False),
    ({"asyncmsgr_general_path": "1"}, False),
])
def test_general_path_forced(env: dict[str, str], forced: bool) -> None:
    assert general_path_forced(env) is forced
