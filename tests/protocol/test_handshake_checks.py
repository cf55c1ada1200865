"""The handshake and integrity checks of issue 16, each with a test that fails
when the check is removed: the connection mode AUTH_DONE picks, who CLIENT_IDENT
and SERVER_IDENT say they reach / are, the ``in_seq`` rules of SESSION_RESET and
SERVER_IDENT (Ceph Pacific ``ProtocolV2::handle_session_reset`` and
``send_server_ident``), the dispatch throttle of a dropped duplicate, and the
footer's NOCRC flag and middle crc on msgr v1.
"""

from __future__ import annotations

import pytest
from handshake_walk import V2Walk, inject

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer
from asyncmsgr.frames.assembler import FrameAssembler
from asyncmsgr.frames.v2 import (
    CON_MODE_CRC,
    CON_MODE_SECURE,
    ServerIdentFrame,
    Tag,
)
from asyncmsgr.message import MSG_HEADER_LEN, FooterFlags, Message, MsgHeader2
from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import ProtocolOptions, State
from asyncmsgr.testing.dummy_auth import DummyAuthClient, DummyAuthServer
from asyncmsgr.testing.v2pair import SERVER_ADDR, ProtocolPair
from asyncmsgr.throttle import Throttle
from asyncmsgr.types import EntityAddr, EntityAddrVec

S = State


def closes(events: list[ev.Event]) -> list[str]:
    return [e.reason for e in events if isinstance(e, ev.CloseSocket)]


def received(events: list[ev.Event]) -> list[Message]:
    return [e.message for e in events if isinstance(e, ev.MessageReceived)]


def state(side: ProtocolBase) -> State:
    return side.state


# -- AUTH_DONE: the connection mode must be one the client offered ------------------------


class _ModePickingServer(DummyAuthServer):
    """A server that answers with ``forced`` whatever the client offered."""

    forced: int = CON_MODE_SECURE

    def pick_con_mode(self, peer_type: int, method: int,
                      preferred_modes: tuple[int, ...]) -> int:
        return self.forced


@pytest.mark.parametrize(("offered", "forced"), [
    ((CON_MODE_SECURE,), CON_MODE_CRC),   # a downgrade of secure to crc
    ((CON_MODE_CRC,), CON_MODE_SECURE),
])
def test_auth_done_with_a_mode_never_offered_is_an_auth_fault(
        offered: tuple[int, ...], forced: int) -> None:
    server = _ModePickingServer(modes=(CON_MODE_SECURE, CON_MODE_CRC))
    server.forced = forced
    p = ProtocolPair(client_auth=DummyAuthClient(modes=offered), server_auth=server)
    p.connect()
    p.transfer()
    reasons = closes(p.client_events)
    assert reasons, "the client accepted AUTH_DONE"
    assert reasons[0].startswith("AuthFailed:"), reasons
    assert "connection mode" in reasons[0]
    assert "send_AUTH_SIGNATURE" not in p.client.handshake_counts
    assert p.client.auth_meta.con_mode != forced or not p.client.is_connected
    assert state(p.client) is S.START_CONNECT  # faulted: a lossless client retries
    assert not p.client.is_connected


def test_auth_done_with_an_offered_mode_is_accepted() -> None:
    server = _ModePickingServer(modes=(CON_MODE_SECURE, CON_MODE_CRC))
    server.forced = CON_MODE_CRC
    p = ProtocolPair(client_auth=DummyAuthClient(modes=(CON_MODE_SECURE, CON_MODE_CRC)),
                     server_auth=server)
    p.handshake()
    assert p.client.auth_meta.con_mode == CON_MODE_CRC


# -- CLIENT_IDENT / SERVER_IDENT: who is reached --------------------------------------------


def test_client_ident_for_an_address_that_is_not_ours_faults() -> None:
    p = ProtocolPair()
    p.client.target_addr = SERVER_ADDR.with_port(SERVER_ADDR.port + 1)  # someone else
    p.connect()
    p.transfer()
    reasons = closes(p.server_events)
    assert reasons
    assert reasons[0].startswith("WrongPeer:"), reasons
    assert "not us" in reasons[0]
    assert "send_SERVER_IDENT" not in p.server.handshake_counts
    assert not p.server_registry.registered
    assert state(p.server) is S.CLOSED  # a half-accepted connection with nothing queued


def test_client_ident_for_our_address_is_accepted() -> None:
    p = ProtocolPair()
    p.handshake()
    assert p.server.handshake_counts["send_SERVER_IDENT"] == 1


def _server_ident(addrs: EntityAddrVec) -> bytes:
    frame = ServerIdentFrame(addrs=addrs, gid=0, global_seq=9,
                             supported_features=(1 << 64) - 1, required_features=0,
                             flags=0, cookie=6)
    chunks = FrameAssembler(rev1=True).assemble(Tag.SERVER_IDENT, (frame.encode_payload(),))
    return b"".join(bytes(c) for c in chunks)


def test_server_ident_without_the_dialled_address_faults() -> None:
    w = V2Walk()
    w.connect()
    client = w.run_until("client", S.SESSION_CONNECTING)
    other = EntityAddrVec((SERVER_ADDR.with_nonce(SERVER_ADDR.nonce + 1),))
    seen = inject(client, _server_ident(other), w.pair.now, "recv_SERVER_IDENT")
    assert seen.reasons
    assert seen.reasons[0].startswith("WrongPeer:"), seen.reasons
    assert "does not include" in seen.reasons[0]
    assert seen.state is S.START_CONNECT
    assert not client.is_connected


def test_server_ident_with_the_dialled_address_among_others_is_accepted() -> None:
    w = V2Walk()
    w.connect()
    client = w.run_until("client", S.SESSION_CONNECTING)
    addrs = EntityAddrVec((SERVER_ADDR.with_nonce(5), SERVER_ADDR))
    seen = inject(client, _server_ident(addrs), w.pair.now, "recv_SERVER_IDENT")
    assert seen.handled == 1
    assert not seen.reasons
    assert seen.state is S.READY
    assert client.peer_addrs == addrs


def test_server_ident_while_reconnecting_faults() -> None:
    """SERVER_IDENT answers CLIENT_IDENT only; a reconnecting client faults on it
    (Ceph: ``handle_server_ident`` "not in session connect state")."""
    w = V2Walk()
    w.established()
    w.reconnect()
    client = w.run_until("client", S.SESSION_RECONNECTING)
    seen = inject(client, _server_ident(EntityAddrVec((SERVER_ADDR,))), w.pair.now,
                  "recv_SERVER_IDENT")
    assert seen.handled == 0
    assert seen.reasons
    assert seen.reasons[0].startswith("UnknownTag: SERVER_IDENT not allowed")
    assert client.session.server_cookie != 6  # nothing of the frame was taken


# -- in_seq across session resets (Ceph Pacific ProtocolV2.cc) -----------------------------


def _send(p: ProtocolPair, side: ProtocolBase, n: int, tid0: int = 0) -> None:
    for i in range(n):
        side.send_message(MPing(priority=127, tid=tid0 + i, data=b"x"), p.now)
    p.transfer()


def test_server_ident_for_a_restarted_peer_starts_in_seq_over() -> None:
    """``send_server_ident`` sets ``in_seq = 0``: with lossless_peer (no resetcheck)
    the session is reused without reset_session(), and the restarted peer numbers
    its messages from 1 again; they must not be dropped as old."""
    p = ProtocolPair(client_policy=Policy.lossless_peer(),
                     server_policy=Policy.lossless_peer())
    p.handshake()
    _send(p, p.client, 5)
    existing = p.server
    assert existing.session.in_seq == 5
    p.break_connection()
    # a new incarnation of the client: same address, new session (new cookie)
    fresh = ProtocolPair(client_policy=Policy.lossless_peer(),
                         server_policy=Policy.lossless_peer(), seed=7)
    p.client = fresh.client
    p.client.registry = p.client_registry
    p.client_registry.machines["client"] = p.client
    p.client_events = []
    p.reconnect()
    p.transfer()
    assert p.server is existing  # reused without a reset (resetcheck is off)
    assert ev.RemoteReset() not in p.server_events
    assert state(p.server) is S.READY
    assert existing.session.in_seq == 0
    p.server_events = []
    _send(p, p.client, 2, tid0=100)
    assert [m.tid for m in received(p.server_events)] == [100, 101]
    assert existing.session.in_seq == 2


def _reconnecting_after(p: ProtocolPair, server_sent: int) -> ProtocolBase:
    """The client has received ``server_sent`` messages; the connection breaks and
    the server's session now belongs to another client incarnation (cookie and
    numbering of its own), as when the peer connected to us meanwhile."""
    _send(p, p.server, server_sent)
    assert p.client.session.in_seq == server_sent
    existing = p.server
    p.break_connection()
    existing.session.client_cookie ^= 0x5A5A
    existing.session.out_seq = 0
    existing.session.sent.clear()
    return existing


def test_non_full_session_reset_starts_in_seq_over() -> None:
    """SESSION_RESET(full=false) (the server's policy has no resetcheck): the
    client keeps its queue but zeroes server_cookie, connect_seq and in_seq
    (``handle_session_reset``), so the server's new numbering is accepted."""
    p = ProtocolPair(client_policy=Policy.lossless_client(),
                     server_policy=Policy.lossless_peer())
    p.handshake()
    existing = _reconnecting_after(p, 4)
    p.client.send_message(MPing(priority=127, tid=50), p.now)  # survives the reset
    p.reconnect()
    p.transfer()
    assert p.client.handshake_counts.get("recv_SESSION_RESET") == 1
    assert ev.RemoteReset() not in p.client_events  # not full: the session is kept
    assert p.client.handshake_counts.get("send_CLIENT_IDENT") == 2
    assert state(p.client) is S.READY
    assert p.server is existing
    assert [m.tid for m in received(p.server_events)][-1:] == [50]
    p.client_events = []
    _send(p, p.server, 3, tid0=200)
    assert [m.tid for m in received(p.client_events)] == [200, 201, 202]
    assert p.client.session.in_seq == 3


def test_full_session_reset_starts_everything_over() -> None:
    p = ProtocolPair(client_policy=Policy.lossless_client(),
                     server_policy=Policy.stateful_server())
    p.handshake()
    _send(p, p.server, 4)
    p.break_connection()
    p.server_registry.registered.clear()  # the server restarted: no session
    p.reconnect()
    p.transfer()
    assert p.server.handshake_counts["send_SESSION_RESET"] == 1
    assert ev.RemoteReset() in p.client_events
    assert p.client.session.in_seq == 0
    p.client_events = []
    _send(p, p.server, 2, tid0=300)
    assert [m.tid for m in received(p.client_events)] == [300, 301]


# -- a dropped duplicate gives its throttle budget back -----------------------------------


@pytest.mark.parametrize("protocol", [1, 2])
@pytest.mark.parametrize("fast_path", [True, False])
def test_dropped_duplicate_releases_every_throttle(protocol: int, fast_path: bool) -> None:
    dispatch = Throttle("dispatch", 1 << 20)
    t_bytes = Throttle("bytes", 1 << 20)
    t_msgs = Throttle("msgs", 100)
    p = ProtocolPair(protocol=protocol, options=ProtocolOptions(fast_path=fast_path),
                     server_policy=Policy.stateful_server().with_throttlers(
                         bytes=t_bytes, messages=t_msgs))
    p.server.dispatch_throttle = dispatch
    p.handshake()
    p.client.send_message(MPing(priority=127, data=b"d" * 1000), p.now)
    wire = b"".join(bytes(c) for c in p.client.data_to_send(p.now))
    p.server.receive_data(wire, p.now)
    (first,) = received(p.server.events_received())
    held = (dispatch.current, t_bytes.current, t_msgs.current)
    assert held == (1000, 1000, 1)
    assert first.dispatch_throttle_size == 1000
    p.server.receive_data(wire, p.now)  # the same seq again: dropped as old
    assert received(p.server.events_received()) == []
    assert (dispatch.current, t_bytes.current, t_msgs.current) == held
    first.release_throttles()
    dispatch.put(first.dispatch_throttle_size)
    assert (dispatch.current, t_bytes.current, t_msgs.current) == (0, 0, 0)


# -- msgr v1: NOCRC and the middle crc ------------------------------------------------------


def _v1_message(p: ProtocolPair, m: Message) -> bytes:
    p.client.send_message(m, p.now)
    return b"".join(bytes(c) for c in p.client.data_to_send(p.now))


def test_v1_receiver_honours_nocrc_from_a_sender_without_data_crcs() -> None:
    """A peer running ``ms_crc_data = false`` sends data crc 0 and footer NOCRC;
    a receiver that checks data crcs must not check that one."""
    p = ProtocolPair(protocol=1, options=ProtocolOptions(crc_data=False),
                     server_options=ProtocolOptions(crc_data=True))
    p.handshake()
    raw = _v1_message(p, MPing(priority=127, data=b"D" * 300))
    footer = raw[-21:]
    assert footer[-1] == FooterFlags.COMPLETE | FooterFlags.NOCRC
    assert footer[8:12] == bytes(4)  # no data crc
    p.server.receive_data(raw, p.now)
    evs = p.server.events_received()
    assert not closes(evs)
    assert [bytes(m.data) for m in received(evs)] == [b"D" * 300]


def test_v1_receiver_checks_the_data_crc_without_nocrc() -> None:
    p = ProtocolPair(protocol=1)
    p.handshake()
    raw = bytearray(_v1_message(p, MPing(priority=127, data=b"D" * 300)))
    assert raw[-1] == FooterFlags.COMPLETE
    raw[-13] ^= 1  # the data crc
    p.server.receive_data(bytes(raw), p.now)
    reasons = closes(p.server.events_received())
    assert reasons
    assert reasons[0].startswith("BadMessageCrc: bad data crc")


def test_v1_middle_crc_is_checked() -> None:
    p = ProtocolPair(protocol=1)
    p.handshake()
    m = MPing(priority=127, payload=b"F" * 12, data=b"D" * 30)
    m.middle = b"M" * 10
    raw = bytearray(_v1_message(p, m))
    good = bytes(raw)
    raw[1 + MSG_HEADER_LEN + 12 + 3] ^= 0x10  # a byte of the middle
    p.server.receive_data(bytes(raw), p.now)
    reasons = closes(p.server.events_received())
    assert reasons
    assert reasons[0].startswith("BadMessageCrc: bad middle crc")
    q = ProtocolPair(protocol=1)
    q.handshake()
    q.server.receive_data(good, q.now)
    (got,) = received(q.server.events_received())
    assert bytes(got.middle) == b"M" * 10


@pytest.mark.parametrize("flags", [FooterFlags.COMPLETE,
                                   FooterFlags.COMPLETE | FooterFlags.NOCRC])
def test_v2_accepts_messages_whatever_header2_flags_say(flags: int) -> None:
    """msgr2 carries no message crcs (the frame has segment crcs): Ceph rebuilds
    the footer from header2's flags and decodes with no crc checks, so NOCRC or
    not, a message is taken."""
    p = ProtocolPair()
    p.handshake()
    header = MsgHeader2(seq=1, type=MPing.TYPE, priority=127, version=1, compat_version=1,
                        flags=flags)
    wire = b"".join(bytes(c) for c in p.client._asm.assemble_message(  # type: ignore[attr-defined]
        header.encode(), b"", b"", b"payload"))
    p.server.receive_data(wire, p.now)
    evs = p.server.events_received()
    assert not closes(evs)
    assert [bytes(m.data) for m in received(evs)] == [b"payload"]


# -- helpers must not be vacuous -------------------------------------------------------------


def test_mode_picking_server_really_forces() -> None:
    s = _ModePickingServer()
    s.forced = CON_MODE_CRC
    assert s.pick_con_mode(8, 4, (CON_MODE_SECURE,)) == CON_MODE_CRC
    meta = AuthConnectionMeta()
    reply = s.handle_auth_request(AuthPeer(peer_type=8, peer_addrs=EntityAddrVec(),
                                           my_type=4), meta, False, 4, b"hello")
    assert not reply.done
    assert EntityAddr() not in EntityAddrVec((SERVER_ADDR,))
