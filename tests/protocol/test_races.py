"""Accept-side session resolution (Ceph's handle_existing_connection /
handle_reconnect), rule by rule, and Ceph's address order."""

from __future__ import annotations

from dataclasses import replace

import pytest

from asyncmsgr.protocol.races import (
    ExistingView,
    IdentAction,
    ReconnectAction,
    addr_order_key,
    decide_client_ident,
    decide_reconnect,
)
from asyncmsgr.types import AddrType, EntityAddr

LOW = EntityAddr.from_host("127.0.0.1", 6800, nonce=1)
HIGH = EntityAddr.from_host("127.0.0.1", 6801, nonce=1)
BASE = ExistingView(closed=False, replacing=False, ready_or_standby=False, lossy=False,
                    server=False, client_cookie=0, server_cookie=0, connect_seq=0,
                    peer_global_seq=5, peer_addr=LOW)


def ident(existing: ExistingView | None, *, gs: int = 5, cookie: int = 7,
          peer: EntityAddr = LOW, me: EntityAddr = HIGH,
          resetcheck: bool = True) -> tuple[IdentAction, bool, bool]:
    d = decide_client_ident(existing, global_seq=gs, cookie=cookie, peer_addr=peer,
                            my_addr=me, resetcheck=resetcheck)
    return d.action, d.reset_existing, d.keepalive_existing


def test_ident_rules_in_ceph_order() -> None:
    assert ident(None)[0] is IdentAction.NEW_SESSION
    assert ident(replace(BASE, closed=True))[0] is IdentAction.NEW_SESSION
    assert ident(replace(BASE, replacing=True))[0] is IdentAction.WAIT
    assert ident(BASE, gs=4)[0] is IdentAction.STALE  # existing pgs 5 > 4
    assert ident(replace(BASE, lossy=True))[0] is IdentAction.REPLACE_LOSSY
    # peer restarted: both cookies set and the client cookie changed
    restarted = replace(BASE, client_cookie=1, server_cookie=2)
    assert ident(restarted) == (IdentAction.REUSE, True, False)
    assert ident(restarted, resetcheck=False) == (IdentAction.REUSE, False, False)
    # establishment interrupted between CLIENT_IDENT and SERVER_IDENT
    assert ident(replace(BASE, client_cookie=7)) == (IdentAction.REUSE, False, False)
    assert ident(replace(BASE, ready_or_standby=True))[0] is IdentAction.REUSE


def test_ident_race_tie_break() -> None:
    # both connecting at once: the lower peer address wins, or a server always does
    assert ident(BASE, peer=LOW, me=HIGH)[0] is IdentAction.REUSE
    assert ident(BASE, peer=HIGH, me=LOW) == (IdentAction.WAIT, False, True)
    assert ident(replace(BASE, server=True), peer=HIGH, me=LOW)[0] is IdentAction.REUSE


def reconnect(existing: ExistingView | None, *, cookie: int = 7, gs: int = 5, cs: int = 1,
              me: EntityAddr = HIGH, resetcheck: bool = True) -> tuple[ReconnectAction,
                                                                        bool, int]:
    d = decide_reconnect(existing, client_cookie=cookie, global_seq=gs, connect_seq=cs,
                         my_addr=me, resetcheck=resetcheck)
    return d.action, d.full, d.value


def test_reconnect_rules_in_ceph_order() -> None:
    session = replace(BASE, client_cookie=7, server_cookie=9, connect_seq=1)
    assert reconnect(None) == (ReconnectAction.RESET, True, 0)
    assert reconnect(replace(session, closed=True)) == (ReconnectAction.RESET, True, 0)
    assert reconnect(replace(session, replacing=True)) == (ReconnectAction.RETRY_GLOBAL,
                                                           False, 5)
    assert reconnect(session, cookie=8) == (ReconnectAction.RESET, True, 0)
    assert reconnect(session, cookie=8, resetcheck=False) == (ReconnectAction.RESET,
                                                              False, 0)
    assert reconnect(replace(session, server_cookie=0)) == (ReconnectAction.RESET, False, 0)
    assert reconnect(session, gs=4) == (ReconnectAction.RETRY_GLOBAL, False, 5)
    assert reconnect(replace(session, connect_seq=3), cs=2) == (ReconnectAction.RETRY,
                                                                False, 3)
    assert reconnect(session, cs=2)[0] is ReconnectAction.REUSE


def test_reconnect_race() -> None:
    session = replace(BASE, client_cookie=7, server_cookie=9, connect_seq=1, peer_addr=HIGH)
    # equal connect_seq: the existing connection wins when its peer is the higher
    # address and it is not a server
    assert reconnect(session, cs=1, me=LOW)[0] is ReconnectAction.WAIT
    assert reconnect(replace(session, server=True), cs=1, me=LOW)[0] is \
        ReconnectAction.REUSE
    assert reconnect(replace(session, peer_addr=LOW), cs=1, me=HIGH)[0] is \
        ReconnectAction.REUSE


@pytest.mark.parametrize(("a", "b"), [
    (EntityAddr.from_host("127.0.0.1", 6800), EntityAddr.from_host("127.0.0.1", 6801)),
    (EntityAddr.from_host("127.0.0.1", 9999, nonce=1),
     EntityAddr.from_host("127.0.0.1", 1, nonce=2)),  # nonce before port
    (EntityAddr.from_host("127.0.0.1", 1, type=AddrType.LEGACY),
     EntityAddr.from_host("127.0.0.1", 1, type=AddrType.MSGR2)),  # type first
    (EntityAddr.from_host("10.0.0.1", 6800), EntityAddr.from_host("10.0.0.2", 6800)),
])
def test_address_order_is_memcmp_of_the_struct(a: EntityAddr, b: EntityAddr) -> None:
    assert addr_order_key(a) < addr_order_key(b)
    assert not addr_order_key(b) < addr_order_key(a)
    assert len(addr_order_key(a)) == 8 + 28


def test_nonce_compares_as_little_endian_bytes() -> None:
    # memcmp sees the nonce's LE bytes: 0x0100 (bytes 00 01) sorts before 0x0001
    a = EntityAddr.from_host("127.0.0.1", 1, nonce=0x0100)
    b = EntityAddr.from_host("127.0.0.1", 1, nonce=0x0001)
    assert addr_order_key(a) < addr_order_key(b)
