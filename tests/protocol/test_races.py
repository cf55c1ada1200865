"""Accept-side session resolution (Ceph's handle_existing_connection /
handle_reconnect), rule by rule, and Ceph's address order."""

from __future__ import annotations

import pytest

from asyncmsgr.protocol.races import (
    ConnectAction,
    ConnectVerdict,
    ExistingView,
    IdentAction,
    ReconnectAction,
    addr_order_key,
    decide_client_ident,
    decide_connect_msg,
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
    assert ident(BASE.replace(closed=True))[0] is IdentAction.NEW_SESSION
    assert ident(BASE.replace(replacing=True))[0] is IdentAction.WAIT
    assert ident(BASE, gs=4)[0] is IdentAction.STALE  # existing pgs 5 > 4
    assert ident(BASE.replace(lossy=True))[0] is IdentAction.REPLACE_LOSSY
    # peer restarted: both cookies set and the client cookie changed
    restarted = BASE.replace(client_cookie=1, server_cookie=2)
    assert ident(restarted) == (IdentAction.REUSE, True, False)
    assert ident(restarted, resetcheck=False) == (IdentAction.REUSE, False, False)
    # establishment interrupted between CLIENT_IDENT and SERVER_IDENT
    assert ident(BASE.replace(client_cookie=7)) == (IdentAction.REUSE, False, False)
    assert ident(BASE.replace(ready_or_standby=True))[0] is IdentAction.REUSE


def test_ident_race_tie_break() -> None:
    # both connecting at once: the lower peer address wins, or a server always does
    assert ident(BASE, peer=LOW, me=HIGH)[0] is IdentAction.REUSE
    assert ident(BASE, peer=HIGH, me=LOW) == (IdentAction.WAIT, False, True)
    assert ident(BASE.replace(server=True), peer=HIGH, me=LOW)[0] is IdentAction.REUSE


def reconnect(existing: ExistingView | None, *, cookie: int = 7, gs: int = 5, cs: int = 1,
              me: EntityAddr = HIGH, resetcheck: bool = True) -> tuple[ReconnectAction,
                                                                        bool, int]:
    d = decide_reconnect(existing, client_cookie=cookie, global_seq=gs, connect_seq=cs,
                         my_addr=me, resetcheck=resetcheck)
    return d.action, d.full, d.value


def test_reconnect_rules_in_ceph_order() -> None:
    session = BASE.replace(client_cookie=7, server_cookie=9, connect_seq=1)
    assert reconnect(None) == (ReconnectAction.RESET, True, 0)
    assert reconnect(session.replace(closed=True)) == (ReconnectAction.RESET, True, 0)
    assert reconnect(session.replace(replacing=True)) == (ReconnectAction.RETRY_GLOBAL,
                                                           False, 5)
    assert reconnect(session, cookie=8) == (ReconnectAction.RESET, True, 0)
    assert reconnect(session, cookie=8, resetcheck=False) == (ReconnectAction.RESET,
                                                              False, 0)
    assert reconnect(session.replace(server_cookie=0)) == (ReconnectAction.RESET, False, 0)
    assert reconnect(session, gs=4) == (ReconnectAction.RETRY_GLOBAL, False, 5)
    assert reconnect(session.replace(connect_seq=3), cs=2) == (ReconnectAction.RETRY,
                                                                False, 3)
    assert reconnect(session, cs=2)[0] is ReconnectAction.REUSE


def test_reconnect_race() -> None:
    session = BASE.replace(client_cookie=7, server_cookie=9, connect_seq=1, peer_addr=HIGH)
    # equal connect_seq: the existing connection wins when its peer is the higher
    # address and it is not a server
    assert reconnect(session, cs=1, me=LOW)[0] is ReconnectAction.WAIT
    assert reconnect(session.replace(server=True), cs=1, me=LOW)[0] is \
        ReconnectAction.REUSE
    assert reconnect(session.replace(peer_addr=LOW), cs=1, me=HIGH)[0] is \
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


# -- msgr v1: handle_connect_message_2 ---------------------------------------------------

def connect(existing: ExistingView | None, *, gs: int = 5, cs: int = 1,
            peer: EntityAddr = LOW, me: EntityAddr = HIGH, resetcheck: bool = True,
            replacing: bool = False) -> ConnectVerdict:
    return decide_connect_msg(existing, global_seq=gs, connect_seq=cs, peer_addr=peer,
                              my_addr=me, resetcheck=resetcheck, replacing=replacing)


def test_v1_connect_rules_in_ceph_order() -> None:
    A = ConnectAction
    v1 = BASE.replace(connect_seq=1)
    # no session: open, unless the peer holds one we lost (RESETSESSION)
    assert connect(None, cs=0).action is A.OPEN
    assert connect(None, cs=3).action is A.RESETSESSION
    assert connect(None, cs=3, replacing=True).action is A.OPEN  # the socket moved here
    assert connect(v1.replace(closed=True), cs=3).action is A.OPEN
    # replacing, or an older global_seq: RETRY_GLOBAL with the existing pgs
    assert connect(v1.replace(replacing=True)) == ConnectVerdict(A.RETRY_GLOBAL, value=5)
    assert connect(v1, gs=4) == ConnectVerdict(A.RETRY_GLOBAL, value=5)
    assert connect(v1.replace(lossy=True)).action is A.REPLACE_LOSSY
    # the peer reset (cs 0 while we hold cs > 0): replace, reset ours with resetcheck
    assert connect(v1, cs=0) == ConnectVerdict(A.REPLACE, reset_existing=True,
                                               reset_from_peer=True)
    assert connect(v1, cs=0, resetcheck=False).reset_existing is False
    # an old attempt: RETRY_SESSION with existing cs + 1
    assert connect(v1.replace(connect_seq=4), cs=2) == ConnectVerdict(A.RETRY_SESSION, 5)
    # same cs, existing open or standby: RETRY_SESSION (replace when both are 0)
    opened = v1.replace(ready_or_standby=True)
    assert connect(opened, cs=1) == ConnectVerdict(A.RETRY_SESSION, value=2)
    assert connect(opened.replace(connect_seq=0), cs=0).action is A.REPLACE
    assert connect(opened.replace(connect_seq=0), cs=0,
                   resetcheck=False).action is A.RETRY_SESSION
    # same cs, both connecting: a race; the lower address or a server side wins
    assert connect(v1, cs=1, peer=LOW, me=HIGH).action is A.REPLACE
    assert connect(v1, cs=1, peer=HIGH, me=LOW) == ConnectVerdict(A.WAIT,
                                                                   keepalive_existing=True)
    assert connect(v1.replace(server=True), cs=1, peer=HIGH, me=LOW).action is A.REPLACE
    # a higher cs: a normal reconnect, unless we reset (existing cs 0, resetcheck)
    assert connect(v1, cs=2).action is A.REPLACE
    assert connect(v1.replace(connect_seq=0), cs=2).action is A.RESETSESSION
    assert connect(v1.replace(connect_seq=0), cs=2, resetcheck=False).action is A.REPLACE
