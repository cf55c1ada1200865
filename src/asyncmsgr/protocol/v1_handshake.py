"""ProtocolV1 handshake: banner, legacy address exchange, connect / connect_reply.

Order (wire-protocol.md §4.1)::

    C: banner "ceph v027"          S: banner, its legacy addr, the client's addr as seen
    C: its legacy addr, ceph_msg_connect + authorizer
                                   S: ceph_msg_connect_reply + authorizer reply:
                                      CHALLENGE_AUTHORIZER -> C: connect again (answered)
                                      RETRY_GLOBAL / RETRY_SESSION / RESETSESSION
                                                           -> C: connect again
                                      WAIT -> C: fault with the max backoff
                                      BADPROTOVER / FEATURES / BADAUTHORIZER -> C: fault
                                      SEQ + u64 -> C: u64 (the ack exchange), then open
                                      READY -> open

The accept side walks ACCEPTING -> ACCEPTING_WAIT_BANNER_ADDR ->
ACCEPTING_WAIT_CONNECT_MSG -> ACCEPTING_WAIT_CONNECT_MSG_AUTH -> (decision,
reply) -> ACCEPTING_WAIT_SEQ -> ACCEPTING_READY -> OPEN. The decision on an
existing session is :func:`asyncmsgr.protocol.races.decide_connect_msg`.
Authorizers go through the same AuthClient / AuthServer as msgr2: the
authorizer is the AUTH_REQUEST payload, a challenge is an AUTH_REPLY_MORE and
the authorizer reply of READY/SEQ is checked like AUTH_DONE.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer
from asyncmsgr.errors import (
    AuthFailed,
    BannerMismatch,
    ConnectRefused,
    DecodeError,
    FrameTooLarge,
    MissingFeatures,
    UnknownTag,
    WrongPeer,
)
from asyncmsgr.features import CEPH_FEATURE_RECONNECT_SEQ
from asyncmsgr.frames.v1 import (
    BANNER,
    BANNER_LEN,
    CEPH_AUTH_CEPHX,
    CEPH_MDS_PROTOCOL,
    CEPH_MDSC_PROTOCOL,
    CEPH_MON_PROTOCOL,
    CEPH_MONC_PROTOCOL,
    CEPH_OSD_PROTOCOL,
    CEPH_OSDC_PROTOCOL,
    CONNECT_LEN,
    CONNECT_LOSSY,
    CONNECT_REPLY_LEN,
    MSGR2_BANNER_PREFIX,
    SERVER_HELLO_LEN,
    ConnectMsg,
    ConnectReply,
    V1Tag,
    check_banner,
    decode_legacy_addr,
    decode_seq,
    decode_server_hello,
    encode_connect,
    encode_seq,
    encode_server_hello,
    v1_tag_name,
)
from asyncmsgr.frames.v2 import CON_MODE_CRC
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import logger
from asyncmsgr.protocol.common import READY_STATES, State, Step
from asyncmsgr.protocol.races import (
    ConnectAction,
    ConnectVerdict,
    ExistingView,
    decide_connect_msg,
)
from asyncmsgr.protocol.rxbuffer import RxBuffer
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec, EntityName, EntityType
from asyncmsgr.wire.codecs import encode_legacy_addr

if TYPE_CHECKING:
    from asyncmsgr.protocol.v1 import ProtocolV1

S = State
#: What a v1 server reads first: banner + the client's legacy address.
ACCEPT_HELLO_LEN = BANNER_LEN + 136
_U64_LEN = 8


@dataclass(slots=True)
class HandshakeState:
    """Per-socket handshake scratch state (reset on every new socket)."""

    connect: ConnectMsg | None = None
    """Server: the connect message being handled."""
    reply: ConnectReply | None = None
    """Client: the reply being handled."""
    authorizer: bytes = b""
    """Client: the authorizer sent (and resent) on this socket."""
    auth_method: int = 0
    authorizer_built: bool = False
    challenged: bool = False
    """Server: a challenge is outstanding on this socket."""
    reset_from_peer: bool = False
    """Server: the peer reset (connect_seq 0); answer READY, not SEQ."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Handover:
    """What an accepting connection hands the existing one it is merged into
    (Ceph's ``replace``); the socket itself moves at the I/O layer."""

    rx: RxBuffer
    peer_type: int
    peer_addrs: EntityAddrVec
    target_addr: EntityAddr
    connect_features: int
    authorizer_reply: bytes
    reset_existing: bool
    reset_from_peer: bool


# -- shared helpers ----------------------------------------------------------------------

_CLUSTER_PROTOCOL: dict[int, int] = {
    EntityType.OSD: CEPH_OSD_PROTOCOL, EntityType.MDS: CEPH_MDS_PROTOCOL,
    EntityType.MON: CEPH_MON_PROTOCOL}
_PUBLIC_PROTOCOL: dict[int, int] = {
    EntityType.OSD: CEPH_OSDC_PROTOCOL, EntityType.MDS: CEPH_MDSC_PROTOCOL,
    EntityType.MON: CEPH_MONC_PROTOCOL}


def proto_version(my_type: int, peer_type: int, *, connect: bool) -> int:
    """``get_proto_version``: the cluster protocol between peers of one type, else
    the public protocol of the server's type (0 for other types)."""
    if peer_type == my_type:
        return _CLUSTER_PROTOCOL.get(my_type, 0)
    return _PUBLIC_PROTOCOL.get(peer_type if connect else my_type, 0)


def my_legacy_addr(p: ProtocolV1) -> EntityAddr:
    """``get_myaddr_legacy``: our v1 (or any) address, as a legacy address."""
    av = p.registry.my_addrs
    a = av.legacy_addr or (av.addrs[0] if av.addrs else EntityAddr())
    return a.with_type(AddrType.LEGACY)


def _my_type(p: ProtocolV1) -> int:
    return p.registry.my_name.type


def _auth_peer(p: ProtocolV1) -> AuthPeer:
    return AuthPeer(peer_type=p.peer_type, peer_addrs=p.peer_addrs, my_type=_my_type(p))


def _check_partial_banner(have: bytes) -> None:
    """Fault on the first byte that cannot start ``ceph v027`` (a msgr2 peer is
    recognised by its 7th byte, so nobody waits for a ready timeout)."""
    n = min(len(have), BANNER_LEN)
    if BANNER.startswith(have[:n]):
        return
    if n >= 7 and MSGR2_BANNER_PREFIX.startswith(have[:min(n, len(MSGR2_BANNER_PREFIX))]):
        raise BannerMismatch("peer speaks msgr2 (banner 'ceph v2'), not msgr v1")
    raise BannerMismatch(f"bad banner {have[:n]!r}: not a Ceph msgr v1 peer")


def _take_hello(p: ProtocolV1, need: int) -> bytes | None:
    """The peer's banner and address(es) once ``need`` bytes are in; until then
    check the banner so far (None: wait for more)."""
    rx = p._rx
    if rx.available < need:
        _check_partial_banner(bytes(rx.peek(min(rx.available, BANNER_LEN))))
        rx.ensure_room(need)
        return None
    raw = bytes(rx.peek(need))
    rx.consume(need)
    return raw


def _new_socket(p: ProtocolV1) -> None:
    p._rx.reset()
    p._reset_stream()
    p._out = []
    p.auth_meta = AuthConnectionMeta()


def _then(p: ProtocolV1, step: Step, finish: Callable[[float], None], now: float) -> None:
    """Interceptor ``step``, then ``finish``: at once, or when a PAUSE is released."""
    if not p._intercept(step, finish):
        finish(now)


# -- client ------------------------------------------------------------------------------

def connection_made(p: ProtocolV1, now: float) -> None:
    """The TCP connection is up: send the banner."""
    if p.state is not S.START_CONNECT:
        return
    p.last_active = now
    _then(p, Step.START_CLIENT_BANNER_EXCHANGE, lambda at: _send_client_banner(p), now)


def _send_client_banner(p: ProtocolV1) -> None:
    p._is_server = False
    _new_socket(p)
    p.state = S.CONNECTING
    p.session.global_seq = p.registry.get_global_seq()
    p._queue(BANNER)
    p._count("banner")
    p.state = S.CONNECTING_WAIT_BANNER_AND_IDENTIFY


def _read_server_hello(p: ProtocolV1, now: float) -> bool:
    raw = _take_hello(p, SERVER_HELLO_LEN)
    if raw is None:
        return False
    paddr, addr_for_me = decode_server_hello(raw)
    target = p.target_addr
    same = (paddr.family, paddr.ip, paddr.port, paddr.nonce) == \
        (target.family, target.ip, target.port, target.nonce)
    same_node = paddr.is_blank_ip and (paddr.port, paddr.nonce) == (target.port, target.nonce)
    if not same and not same_node:
        raise WrongPeer(f"peer claims to be {paddr}, not {target}: wrong node")
    if p.options.learn_addr_from_peer:
        p.registry.learned_addr(addr_for_me)
    p.inject_delay()
    p._queue(encode_legacy_addr(my_legacy_addr(p)))
    _send_connect_msg(p, now)
    return True


def _build_authorizer(p: ProtocolV1) -> None:
    """``ms_deliver_get_authorizer``: none towards a mon unless we are one."""
    h = p.hs
    h.authorizer_built = True
    if p.auth_client is None or (p.peer_type == EntityType.MON
                                 and _my_type(p) != EntityType.MON):
        return
    request = p.auth_client.get_auth_request(_auth_peer(p), p.auth_meta)
    p.auth_meta.auth_method = request.method
    h.auth_method = request.method
    h.authorizer = request.payload


def _send_connect_msg(p: ProtocolV1, now: float) -> None:
    h = p.hs
    p.state = S.CONNECTING_SEND_CONNECT_MSG
    if not h.authorizer_built:
        _build_authorizer(p)
    s = p.session
    connect = ConnectMsg(
        features=p.policy.features_supported, host_type=_my_type(p),
        global_seq=s.global_seq, connect_seq=s.connect_seq,
        protocol_version=proto_version(_my_type(p), p.peer_type, connect=True),
        authorizer_protocol=h.auth_method, authorizer_len=len(h.authorizer),
        flags=CONNECT_LOSSY if p.lossy else 0)

    def finish(at: float) -> None:
        p._queue(encode_connect(connect, h.authorizer))
        p._count("send_CONNECT")
        p.state = S.CONNECTING_WAIT_CONNECT_REPLY
    _then(p, Step.SEND_CLIENT_IDENTITY if s.connect_seq == 0 else Step.SEND_RECONNECT,
          finish, now)


def _read_connect_reply(p: ProtocolV1, now: float) -> bool:
    rx = p._rx
    if rx.available < CONNECT_REPLY_LEN:
        return False
    reply = ConnectReply.decode(rx.peek(CONNECT_REPLY_LEN))
    rx.consume(CONNECT_REPLY_LEN)
    if reply.authorizer_len > p.options.max_authorizer_len:
        raise FrameTooLarge(f"authorizer reply of {reply.authorizer_len} bytes exceeds "
                            f"cap {p.options.max_authorizer_len}")
    p._count(f"recv_{v1_tag_name(reply.tag)}")
    p.hs.reply = reply
    if reply.authorizer_len:
        p.state = S.CONNECTING_WAIT_CONNECT_REPLY_AUTH
        return True
    _handle_connect_reply(p, reply, b"", now)
    return True


def _read_connect_reply_auth(p: ProtocolV1, now: float) -> bool:
    reply = p.hs.reply
    assert reply is not None
    rx = p._rx
    if rx.available < reply.authorizer_len:
        rx.ensure_room(reply.authorizer_len)
        return False
    payload = bytes(rx.peek(reply.authorizer_len))
    rx.consume(reply.authorizer_len)
    _handle_connect_reply(p, reply, payload, now)
    return True


def _handle_connect_reply(p: ProtocolV1, r: ConnectReply, auth_reply: bytes,
                          now: float) -> None:
    """Ceph's ``handle_connect_reply_2`` (ceph-messenger.md §4.5, client side)."""
    s = p.session
    h = p.hs
    tag = r.tag
    if tag == V1Tag.CHALLENGE_AUTHORIZER:
        if p.auth_client is None or not h.authorizer:
            raise AuthFailed("the server challenged an authorizer we did not send", -22)
        h.authorizer = p.auth_client.handle_auth_reply_more(_auth_peer(p), p.auth_meta,
                                                             auth_reply)
        _send_connect_msg(p, now)
    elif tag == V1Tag.FEATURES:
        missing = r.features & ~p.policy.features_supported
        raise MissingFeatures(f"server requires features {missing:#x} we lack", missing)
    elif tag == V1Tag.BADPROTOVER:
        mine = proto_version(_my_type(p), p.peer_type, connect=True)
        raise ConnectRefused(f"protocol version mismatch: ours {mine}, the server's "
                             f"{r.protocol_version}", tag)
    elif tag == V1Tag.BADAUTHORIZER:
        raise AuthFailed("the server refused our authorizer (BADAUTHORIZER)", -13)
    elif tag == V1Tag.RESETSESSION:
        p.reset_session()
        s.connect_seq = 0
        _send_connect_msg(p, now)
    elif tag == V1Tag.RETRY_GLOBAL:
        s.global_seq = p.registry.get_global_seq(r.global_seq)
        _send_connect_msg(p, now)
    elif tag == V1Tag.RETRY_SESSION:
        if r.connect_seq <= s.connect_seq:
            raise DecodeError(f"RETRY_SESSION with connect_seq {r.connect_seq} <= ours "
                              f"{s.connect_seq}")
        s.connect_seq = r.connect_seq
        _send_connect_msg(p, now)
    elif tag == V1Tag.WAIT:
        p.state = S.WAIT
        p.fault(now, "received WAIT (connection race)")
    elif tag in (V1Tag.SEQ, V1Tag.READY):
        missing = p.policy.features_required & ~r.features
        if missing:
            raise MissingFeatures(f"server lacks required features {missing:#x}", missing)
        _verify_authorizer_reply(p, auth_reply)
        if tag == V1Tag.SEQ:
            p.state = S.CONNECTING_WAIT_ACK_SEQ
        else:
            _client_ready(p, now)
    else:
        raise UnknownTag(f"unexpected connect reply tag {tag} ({v1_tag_name(tag)})")


def _verify_authorizer_reply(p: ProtocolV1, auth_reply: bytes) -> None:
    """READY/SEQ: check the server proved it knows the session key (nonce + 1)."""
    h = p.hs
    if not h.authorizer or p.auth_client is None:
        return
    if h.auth_method == CEPH_AUTH_CEPHX and not auth_reply:
        raise AuthFailed("the server accepted our authorizer without proving it knows "
                         "the session key", -13)
    p.auth_client.handle_auth_done(_auth_peer(p), p.auth_meta, 0, CON_MODE_CRC, auth_reply)


def _read_ack_seq(p: ProtocolV1, now: float) -> bool:
    rx = p._rx
    if rx.available < _U64_LEN:
        return False
    newly_acked = decode_seq(rx.peek(_U64_LEN))
    rx.consume(_U64_LEN)
    s = p.session
    dropped = s.discard_requeued_up_to(newly_acked)
    if dropped:
        p._emit(ev.MessagesAcked(messages=tuple(dropped)))
    p._queue(encode_seq(s.in_seq))
    _client_ready(p, now)
    return True


def _client_ready(p: ProtocolV1, now: float) -> None:
    r = p.hs.reply
    assert r is not None
    s = p.session
    p.state = S.CONNECTING_READY
    s.peer_global_seq = r.global_seq
    p.lossy = bool(r.flags & CONNECT_LOSSY)
    s.connect_seq += 1
    if s.connect_seq != r.connect_seq:
        raise DecodeError(f"server's connect_seq {r.connect_seq} != ours {s.connect_seq}")
    p.backoff = 0.0
    p.features = r.features & p.policy.features_supported
    p._emit(ev.Connected(reconnect=s.connect_seq > 1))
    p.ready(now)


# -- server ------------------------------------------------------------------------------

def start_accept(p: ProtocolV1, now: float, peer_socket_addr: EntityAddr) -> None:
    """A socket was accepted: send banner, our address and the peer's as seen."""
    p._is_server = True
    addr = peer_socket_addr.with_type(AddrType.LEGACY)
    p.target_addr = addr
    p.peer_addrs = EntityAddrVec((addr,))
    p.connect_started = p.last_active = now
    p._ready_deadline = now + p.options.connection_ready_timeout
    p.state = S.START_ACCEPT
    _then(p, Step.START_SERVER_BANNER_EXCHANGE, lambda at: _send_server_banner(p), now)


def _send_server_banner(p: ProtocolV1) -> None:
    _new_socket(p)
    p.state = S.ACCEPTING
    p._queue(encode_server_hello(my_legacy_addr(p), p.target_addr))
    p._count("banner")
    p.state = S.ACCEPTING_WAIT_BANNER_ADDR


def _read_client_banner(p: ProtocolV1, now: float) -> bool:
    raw = _take_hello(p, ACCEPT_HELLO_LEN)
    if raw is None:
        return False
    check_banner(raw)
    peer = decode_legacy_addr(raw[BANNER_LEN:])
    if peer.is_blank_ip:  # the peer does not know its IP: take the socket's
        peer = p.target_addr.with_port(peer.port).with_nonce(peer.nonce)
    peer = peer.with_type(AddrType.LEGACY)
    p.peer_addrs = EntityAddrVec((peer,))
    p.target_addr = peer
    p.state = S.ACCEPTING_WAIT_CONNECT_MSG
    return True


def _read_connect_msg(p: ProtocolV1, now: float) -> bool:
    rx = p._rx
    if rx.available < CONNECT_LEN:
        return False
    connect = ConnectMsg.decode(rx.peek(CONNECT_LEN))
    rx.consume(CONNECT_LEN)
    if connect.authorizer_len > p.options.max_authorizer_len:
        raise FrameTooLarge(f"authorizer of {connect.authorizer_len} bytes exceeds cap "
                            f"{p.options.max_authorizer_len}")
    p.hs.connect = connect
    p.state = S.ACCEPTING_WAIT_CONNECT_MSG_AUTH
    if not connect.authorizer_len:
        _handle_connect_msg(p, connect, b"", now)
    return True


def _read_connect_msg_auth(p: ProtocolV1, now: float) -> bool:
    connect = p.hs.connect
    if connect is None:
        return False
    rx = p._rx
    if rx.available < connect.authorizer_len:
        rx.ensure_room(connect.authorizer_len)
        return False
    authorizer = bytes(rx.peek(connect.authorizer_len))
    rx.consume(connect.authorizer_len)
    _handle_connect_msg(p, connect, authorizer, now)
    return True


def _reply(p: ProtocolV1, c: ConnectMsg, tag: int, *, global_seq: int = 0,
           connect_seq: int = 0, auth_reply: bytes = b"") -> None:
    """``send_connect_message_reply``: any reply but SEQ/READY; wait for the next
    connect message."""
    pol = p.policy
    reply = ConnectReply(
        tag=tag, features=(c.features & pol.features_supported) | pol.features_required,
        global_seq=global_seq, connect_seq=connect_seq,
        protocol_version=proto_version(_my_type(p), p.peer_type, connect=False),
        authorizer_len=len(auth_reply))
    p._queue(reply.encode() + auth_reply)
    p._count(f"send_{v1_tag_name(tag)}")
    p.hs.connect = None
    p.state = S.ACCEPTING_WAIT_CONNECT_MSG


def _verify_authorizer(p: ProtocolV1, c: ConnectMsg, authorizer: bytes) -> bytes | None:
    """The authorizer reply, or None after answering CHALLENGE / BADAUTHORIZER."""
    h = p.hs
    if not authorizer and p.registry.tolerates_missing_authorizer():
        return b""
    server = p.auth_server
    try:
        if server is None:
            raise AuthFailed("no auth server configured", -22)
        result = server.handle_auth_request(_auth_peer(p), p.auth_meta, h.challenged,
                                            c.authorizer_protocol, authorizer)
    except AuthFailed as exc:
        logger.info("%r: bad authorizer: %s", p, exc)
        h.challenged = False
        p.auth_meta = AuthConnectionMeta()
        _reply(p, c, V1Tag.BADAUTHORIZER)
        return None
    if not result.done:
        h.challenged = True
        _reply(p, c, V1Tag.CHALLENGE_AUTHORIZER, auth_reply=result.payload)
        return None
    h.challenged = False
    return result.payload


def existing_view(e: ProtocolV1) -> ExistingView:
    """How an accepting connection sees a registered v1 connection."""
    s = e.session
    return ExistingView(
        closed=e.state is S.CLOSED, replacing=e.replacing,
        ready_or_standby=e.state in READY_STATES or e.state is S.STANDBY,
        lossy=e.lossy, server=e.policy.server, client_cookie=0, server_cookie=0,
        connect_seq=s.connect_seq, peer_global_seq=s.peer_global_seq,
        peer_addr=e.peer_addrs.legacy_addr)


def _handle_connect_msg(p: ProtocolV1, c: ConnectMsg, authorizer: bytes, now: float) -> None:
    """Ceph's ``handle_connect_message_2``."""
    p._count("recv_CONNECT")
    p.peer_type = c.host_type
    p.peer_name = EntityName(c.host_type, -1)
    p.policy = p.registry.policy_for(c.host_type)
    p.lossy = p.policy.lossy
    if c.protocol_version != proto_version(_my_type(p), p.peer_type, connect=False):
        _reply(p, c, V1Tag.BADPROTOVER)
        return
    if p.policy.features_required & ~c.features:
        _reply(p, c, V1Tag.FEATURES)
        return
    auth_reply = _verify_authorizer(p, c, authorizer)
    if auth_reply is None:
        return
    existing: ProtocolV1 | None = p.registry.lookup_existing(p.owner, p.peer_addrs)
    p.inject_delay()
    if existing is not None and existing.proto_type != 1:  # msgr2 to the same peer
        p.registry.stop_connection(existing, queue_reset=False)
        existing = None
    if existing is not None and existing.state is S.CLOSED:
        # Ceph's lookup_conn never returns a stopped connection (deleted_conns), so
        # a reconnect (cs > 0) to a marked-down session gets RESETSESSION (rule 9)
        existing = None
    verdict = decide_connect_msg(
        existing_view(existing) if existing is not None else None,
        global_seq=c.global_seq, connect_seq=c.connect_seq,
        peer_addr=p.peer_addrs.legacy_addr, my_addr=my_legacy_addr(p),
        resetcheck=p.policy.resetcheck, replacing=p.replacing)
    _act(p, c, verdict, existing, auth_reply, now)


def _act(p: ProtocolV1, c: ConnectMsg, v: ConnectVerdict, existing: ProtocolV1 | None,
         auth_reply: bytes, now: float) -> None:
    A = ConnectAction
    if v.action is A.RESETSESSION:  # also with no existing session (rule 9)
        _reply(p, c, V1Tag.RESETSESSION, auth_reply=auth_reply)
    elif v.action is A.OPEN or existing is None:
        _open(p, c, auth_reply, now)
    elif v.action is A.REPLACE_LOSSY:
        p.registry.stop_connection(existing, queue_reset=True)
        _open(p, c, auth_reply, now)
    elif v.action is A.RETRY_GLOBAL:
        _reply(p, c, V1Tag.RETRY_GLOBAL, global_seq=v.value, auth_reply=auth_reply)
    elif v.action is A.RETRY_SESSION:
        _reply(p, c, V1Tag.RETRY_SESSION, connect_seq=v.value, auth_reply=auth_reply)
    elif v.action is A.WAIT:
        if v.keepalive_existing:
            p.registry.kick_connection(existing)
        _reply(p, c, V1Tag.WAIT, auth_reply=auth_reply)
    else:
        p._rx.detach()  # the buffer moves, maybe to another thread: off the shared scratch
        handover = Handover(rx=p._rx, peer_type=p.peer_type, peer_addrs=p.peer_addrs,
                            target_addr=p.target_addr, connect_features=c.features,
                            authorizer_reply=auth_reply, reset_existing=v.reset_existing,
                            reset_from_peer=v.reset_from_peer)
        p._rx = RxBuffer(p.options.rx_buffer_size)  # the stream belongs to existing now
        p.registry.reuse_connection(p.owner, existing, handover)
        p.stop(queue_reset=True, reason="socket moved into the existing session")


def _open(p: ProtocolV1, c: ConnectMsg, auth_reply: bytes, now: float) -> None:
    """``open()``: a new session (or the replaced one) on this connection."""
    s = p.session
    h = p.hs
    s.connect_seq = c.connect_seq + 1
    s.peer_global_seq = c.global_seq
    wait_for_seq = bool(c.features & CEPH_FEATURE_RECONNECT_SEQ) and not h.reset_from_peer
    if not wait_for_seq:
        s.discard_requeued_up_to(0)
        h.reset_from_peer = False
        s.in_seq = 0
    tag = V1Tag.SEQ if wait_for_seq else V1Tag.READY
    reply = ConnectReply(
        tag=tag, features=p.policy.features_supported,
        global_seq=p.registry.get_global_seq(), connect_seq=s.connect_seq,
        protocol_version=proto_version(_my_type(p), p.peer_type, connect=False),
        authorizer_len=len(auth_reply), flags=CONNECT_LOSSY if p.lossy else 0)
    p.features = reply.features & c.features
    data = reply.encode() + auth_reply + (encode_seq(s.in_seq) if wait_for_seq else b"")
    if not p.registry.accept_conn(p.owner, p.peer_addrs):
        p.fault(now, "another connection owns this peer address")
        return
    p.replacing = False
    p.inject_delay()

    def finish(at: float) -> None:
        p._queue(data)
        p._count(f"send_{tag.name}")
        p.hs.connect = None
        p._emit(ev.Accepted(reconnect=s.connect_seq > 1))
        if wait_for_seq:
            p.state = S.ACCEPTING_WAIT_SEQ
        else:
            p.state = S.ACCEPTING_READY
            p.ready(at)
    _then(p, Step.SEND_SERVER_IDENTITY, finish, now)


def _read_seq(p: ProtocolV1, now: float) -> bool:
    rx = p._rx
    if rx.available < _U64_LEN:
        return False
    newly_acked = decode_seq(rx.peek(_U64_LEN))
    rx.consume(_U64_LEN)
    dropped = p.session.discard_requeued_up_to(newly_acked)
    if dropped:
        p._emit(ev.MessagesAcked(messages=tuple(dropped)))
    p.state = S.ACCEPTING_READY
    p.ready(now)
    return True


def take_over(p: ProtocolV1, h: Handover, now: float) -> None:
    """Adopt an accepted socket for this existing session and answer RETRY_GLOBAL
    on it; the client's next connect message opens the session here."""
    if not p._begin_take_over(reset_existing=h.reset_existing):
        return
    p._reset_stream()
    p._rx = h.rx
    p.auth_meta = AuthConnectionMeta()  # a fresh challenge on this socket
    p._is_server = True
    p.peer_type = h.peer_type
    p.peer_addrs = h.peer_addrs
    p.target_addr = h.target_addr
    p.hs.reset_from_peer = h.reset_from_peer
    p.replacing = True
    p.connect_started = now
    p._ready_deadline = now + p.options.connection_ready_timeout
    p.state = S.ACCEPTING
    c = ConnectMsg(features=h.connect_features, host_type=h.peer_type, global_seq=0,
                   connect_seq=0, protocol_version=0)
    _reply(p, c, V1Tag.RETRY_GLOBAL, global_seq=p.session.peer_global_seq,
           auth_reply=h.authorizer_reply)


READERS: dict[State, Callable[[ProtocolV1, float], bool]] = {
    S.CONNECTING_WAIT_BANNER_AND_IDENTIFY: _read_server_hello,
    S.CONNECTING_WAIT_CONNECT_REPLY: _read_connect_reply,
    S.CONNECTING_WAIT_CONNECT_REPLY_AUTH: _read_connect_reply_auth,
    S.CONNECTING_WAIT_ACK_SEQ: _read_ack_seq,
    S.ACCEPTING_WAIT_BANNER_ADDR: _read_client_banner,
    S.ACCEPTING_WAIT_CONNECT_MSG: _read_connect_msg,
    S.ACCEPTING_WAIT_CONNECT_MSG_AUTH: _read_connect_msg_auth,
    S.ACCEPTING_WAIT_SEQ: _read_seq,
}
"""The reader of each handshake state (a state missing here reads nothing)."""


__all__ = [
    "ACCEPT_HELLO_LEN",
    "READERS",
    "Handover",
    "HandshakeState",
    "existing_view",
    "my_legacy_addr",
    "proto_version",
    "take_over",
]
