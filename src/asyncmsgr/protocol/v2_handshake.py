"""ProtocolV2 handshake phases: banner, HELLO, AUTH, AUTH_SIGNATURE, IDENT.

Order (wire-protocol.md §5.4)::

    C: banner                      S: banner
    C: HELLO                       S: HELLO
    C: AUTH_REQUEST                S: AUTH_REPLY_MORE | AUTH_BAD_METHOD | AUTH_DONE
    C: AUTH_REQUEST_MORE ...       S: AUTH_DONE, AUTH_SIGNATURE   (then encrypted)
    C: AUTH_SIGNATURE, CLIENT_IDENT | SESSION_RECONNECT
                                   S: SERVER_IDENT | IDENT_MISSING_FEATURES | WAIT |
                                      SESSION_RESET | SESSION_RETRY(_GLOBAL) | RECONNECT_OK

``FRAME_STATES`` says in which states each frame may arrive; anything else
faults. Interceptor step numbers are Ceph's (ceph-messenger.md §6.3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer, AuthReply
from asyncmsgr.crypto.onwire import SecureKeys
from asyncmsgr.errors import AuthFailed, DecodeError, MissingFeatures, WrongPeer
from asyncmsgr.features import (
    CEPH_MSGR2_FEATURE_REVISION_1,
    CEPH_MSGR2_REQUIRED_FEATURES,
    CEPH_MSGR2_SUPPORTED_FEATURES,
    MSGR2_REQUIRED,
)
from asyncmsgr.frames.assembler import FrameAssembler
from asyncmsgr.frames.v2 import (
    CEPH_MSG_CONNECT_LOSSY,
    CON_MODE_SECURE,
    AuthBadMethodFrame,
    AuthDoneFrame,
    AuthReplyMoreFrame,
    AuthRequestFrame,
    AuthRequestMoreFrame,
    AuthSignatureFrame,
    ClientIdentFrame,
    ControlFrame,
    HelloFrame,
    IdentMissingFeaturesFrame,
    ServerIdentFrame,
    SessionReconnectFrame,
    SessionReconnectOkFrame,
    SessionResetFrame,
    SessionRetryFrame,
    SessionRetryGlobalFrame,
    Tag,
    WaitFrame,
    decode_banner_payload,
)
from asyncmsgr.message import Message
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.common import READY_STATES, State, Step
from asyncmsgr.protocol.races import (
    ExistingView,
    IdentAction,
    ReconnectAction,
    decide_client_ident,
    decide_reconnect,
)
from asyncmsgr.protocol.rxbuffer import RxBuffer
from asyncmsgr.record import Record
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec, EntityName

if TYPE_CHECKING:
    from asyncmsgr.protocol.v2 import ProtocolV2

S = State
#: In which states each frame may be received (Ceph's per-handler state checks).
FRAME_STATES: dict[Tag, frozenset[State]] = {
    Tag.HELLO: frozenset({S.HELLO_CONNECTING, S.HELLO_ACCEPTING}),
    Tag.AUTH_REQUEST: frozenset({S.AUTH_ACCEPTING}),
    Tag.AUTH_BAD_METHOD: frozenset({S.AUTH_CONNECTING}),
    Tag.AUTH_REPLY_MORE: frozenset({S.AUTH_CONNECTING}),
    Tag.AUTH_REQUEST_MORE: frozenset({S.AUTH_ACCEPTING_MORE}),
    Tag.AUTH_DONE: frozenset({S.AUTH_CONNECTING}),
    Tag.AUTH_SIGNATURE: frozenset({S.AUTH_CONNECTING_SIGN, S.AUTH_ACCEPTING_SIGN}),
    Tag.CLIENT_IDENT: frozenset({S.SESSION_ACCEPTING}),
    Tag.SERVER_IDENT: frozenset({S.SESSION_CONNECTING}),
    Tag.IDENT_MISSING_FEATURES: frozenset({S.SESSION_CONNECTING}),
    Tag.SESSION_RECONNECT: frozenset({S.SESSION_ACCEPTING}),
    Tag.SESSION_RESET: frozenset({S.SESSION_RECONNECTING}),
    Tag.SESSION_RETRY: frozenset({S.SESSION_RECONNECTING}),
    Tag.SESSION_RETRY_GLOBAL: frozenset({S.SESSION_RECONNECTING}),
    Tag.SESSION_RECONNECT_OK: frozenset({S.SESSION_RECONNECTING}),
    Tag.WAIT: frozenset({S.SESSION_CONNECTING, S.SESSION_RECONNECTING}),
    Tag.KEEPALIVE2: frozenset({S.READY}),
    Tag.KEEPALIVE2_ACK: frozenset({S.READY}),
    Tag.ACK: frozenset({S.READY}),
}


def _acked_by_peer(p: ProtocolV2, messages: list[Message]) -> None:
    """Requeued messages the peer turned out to have: report them acknowledged."""
    if messages:
        p._emit(ev.MessagesAcked(messages=tuple(messages)))


def _queue_after(p: ProtocolV2, step: Step, frame: ControlFrame, *, now: float = 0.0,
                 then_ready: bool = False) -> None:
    """Interceptor step ``step``, then queue ``frame`` (and go READY): at once, or
    when a PAUSE there is released."""
    def finish(at: float) -> None:
        p._queue_frame(frame)
        if then_ready:
            p.ready(at)
    if not p._intercept(step, finish):
        finish(now)


def _auth_peer(p: ProtocolV2) -> AuthPeer:
    return AuthPeer(peer_type=p.peer_type, peer_addrs=p.peer_addrs,
                    my_type=p.registry.my_name.type)

# -- banner / hello ----------------------------------------------------------------

def handle_banner_payload(p: ProtocolV2, payload: bytes) -> None:
    peer_supported, peer_required = decode_banner_payload(payload)
    if p._intercept(Step.HANDLE_PEER_BANNER_BANNER_CONNECTING
                    if p._state is S.BANNER_CONNECTING else Step.HANDLE_PEER_BANNER,
                    lambda now: _check_peer_banner(p, peer_supported, peer_required)):
        return
    _check_peer_banner(p, peer_supported, peer_required)


def _check_peer_banner(p: ProtocolV2, peer_supported: int, peer_required: int) -> None:
    if CEPH_MSGR2_REQUIRED_FEATURES & ~peer_supported:
        p.stop(queue_reset=True, reason="peer lacks required msgr2 features")
        return
    if peer_required & ~CEPH_MSGR2_SUPPORTED_FEATURES:
        p.stop(queue_reset=True,
                  reason=f"peer requires msgr2 features {peer_required:#x}")
        return
    p._asm.rev1 = bool(peer_supported & CEPH_MSGR2_FEATURE_REVISION_1)
    p.state = S.HELLO_CONNECTING if p._state is S.BANNER_CONNECTING \
        else S.HELLO_ACCEPTING
    _queue_after(p, Step.HANDLE_PEER_BANNER_PAYLOAD_HELLO_CONNECTING
                 if p._state is S.HELLO_CONNECTING else Step.HANDLE_PEER_BANNER_PAYLOAD,
                 HelloFrame(entity_type=p.registry.my_name.type, peer_addr=p.target_addr))

def handle_hello(p: ProtocolV2, frame: HelloFrame, now: float) -> None:
    """HELLO: the peer's type; a client learns its own address from it."""
    if p._state is S.HELLO_ACCEPTING:
        p.peer_type = frame.entity_type
        p.peer_name = EntityName(frame.entity_type, -1)
        p.policy = p.registry.policy_for(frame.entity_type)
        p.lossy = p.policy.lossy
        p.state = S.AUTH_ACCEPTING
        return
    if p.peer_type and frame.entity_type != p.peer_type:
        p.stop(queue_reset=True,
                  reason=f"peer type {frame.entity_type} != expected {p.peer_type}")
        return
    p.peer_type = frame.entity_type
    if p.options.learn_addr_from_peer:
        p.registry.learned_addr(frame.peer_addr)
    p.state = S.AUTH_CONNECTING
    _send_auth_request(p)

# -- client auth -------------------------------------------------------------------

def _send_auth_request(p: ProtocolV2) -> None:
    if p.auth_client is None:
        raise AuthFailed("no auth client configured", -22)
    request = p.auth_client.get_auth_request(_auth_peer(p), p.auth_meta)
    p.auth_meta.auth_method = request.method
    p._sent_modes = request.preferred_modes
    _queue_after(p, Step.SEND_AUTH_REQUEST,
                 AuthRequestFrame(method=request.method,
                                  preferred_modes=request.preferred_modes,
                                  auth_payload=request.payload))

def handle_auth_bad_method(p: ProtocolV2, frame: AuthBadMethodFrame,
                           now: float) -> None:
    """AUTH_BAD_METHOD: let the auth client pick again, or give up."""
    assert p.auth_client is not None
    p.auth_meta.allowed_methods = frame.allowed_methods
    p.auth_meta.allowed_modes = frame.allowed_modes
    retry = p.auth_client.handle_auth_bad_method(
        _auth_peer(p), p.auth_meta, frame.method, frame.result,
        frame.allowed_methods, frame.allowed_modes)
    if not retry:
        raise AuthFailed(f"server refused auth method {frame.method} "
                         f"(result {frame.result}, allowed {list(frame.allowed_methods)})",
                         frame.result)
    _send_auth_request(p)

def handle_auth_reply_more(p: ProtocolV2, frame: AuthReplyMoreFrame,
                           now: float) -> None:
    """AUTH_REPLY_MORE: answer with AUTH_REQUEST_MORE."""
    assert p.auth_client is not None
    reply = p.auth_client.handle_auth_reply_more(_auth_peer(p), p.auth_meta,
                                                    frame.auth_payload)
    p._queue_frame(AuthRequestMoreFrame(auth_payload=reply))

def handle_auth_done(p: ProtocolV2, frame: AuthDoneFrame, now: float) -> None:
    """AUTH_DONE: install the mode, sign what we received."""
    assert p.auth_client is not None
    if frame.con_mode not in p._sent_modes:
        raise AuthFailed(f"server chose connection mode {frame.con_mode}, "
                         f"not one of ours {list(p._sent_modes)}", -22)
    p.auth_client.handle_auth_done(_auth_peer(p), p.auth_meta,
                                      frame.global_id, frame.con_mode,
                                      frame.auth_payload)
    p.auth_meta.con_mode = frame.con_mode
    _install_crypto(p, crossed=False)
    p.state = S.AUTH_CONNECTING_SIGN
    p._queue_frame(AuthSignatureFrame(signature=p._own_signature()))

def _install_crypto(p: ProtocolV2, *, crossed: bool) -> None:
    if p.auth_meta.con_mode != CON_MODE_SECURE:
        return
    keys = SecureKeys.from_connection_secret(p.auth_meta.connection_secret,
                                             crossed=crossed)
    tx, rx = keys.handlers(rev1=p._asm.rev1)
    p._asm.set_tx(tx)
    p._asm.set_rx(rx)

def handle_auth_signature(p: ProtocolV2, frame: AuthSignatureFrame,
                          now: float) -> None:
    """AUTH_SIGNATURE: check the peer signed what we sent; go to the session."""
    if not p._verify_signature(frame.signature):
        raise AuthFailed("pre-auth signature mismatch", -13)
    if p._state is S.AUTH_ACCEPTING_SIGN:
        p.state = S.SESSION_ACCEPTING
        return
    if p.session.server_cookie:
        p.state = S.SESSION_RECONNECTING
        _send_reconnect(p)
    else:
        p.state = S.SESSION_CONNECTING
        _send_client_ident(p)

# -- client session ----------------------------------------------------------------

def _send_client_ident(p: ProtocolV2) -> None:
    s = p.session
    if not p.lossy and not s.client_cookie:
        s.client_cookie = p.rng.randrange(1, 1 << 64)
    flags = CEPH_MSG_CONNECT_LOSSY if p.lossy else 0
    frame = ClientIdentFrame(
        addrs=p.registry.my_addrs, target_addr=p.target_addr,
        gid=p.registry.my_name.num, global_seq=s.global_seq,
        supported_features=p.policy.features_supported,
        required_features=p.policy.features_required | MSGR2_REQUIRED,
        flags=flags, cookie=s.client_cookie)
    _queue_after(p, Step.SEND_CLIENT_IDENTITY, frame)

def _send_reconnect(p: ProtocolV2) -> None:
    s = p.session
    frame = SessionReconnectFrame(
        addrs=p.registry.my_addrs, client_cookie=s.client_cookie,
        server_cookie=s.server_cookie, global_seq=s.global_seq,
        connect_seq=s.connect_seq, msg_seq=s.in_seq)
    _queue_after(p, Step.SEND_RECONNECT, frame)

def handle_server_ident(p: ProtocolV2, frame: ServerIdentFrame, now: float) -> None:
    """SERVER_IDENT: the session is established."""
    if p.target_addr not in frame.addrs:
        raise WrongPeer(f"peer identifies as {frame.addrs}, which does not include "
                        f"{p.target_addr}")
    s = p.session
    s.server_cookie = frame.cookie
    p.peer_addrs = frame.addrs
    p.peer_name = EntityName(p.peer_type, frame.gid)
    p.features = frame.supported_features & p.policy.features_supported
    s.peer_global_seq = frame.global_seq
    p.lossy = bool(frame.flags & CEPH_MSG_CONNECT_LOSSY)
    p.backoff = 0.0
    p._emit(ev.Connected(reconnect=False))
    p.ready(now)

def handle_ident_missing_features(p: ProtocolV2, frame: IdentMissingFeaturesFrame,
                                  now: float) -> None:
    """IDENT_MISSING_FEATURES: we cannot talk to this server."""
    raise MissingFeatures(f"server requires features {frame.features:#x} we lack",
                          frame.features)

def handle_wait(p: ProtocolV2, frame: WaitFrame, now: float) -> None:
    """WAIT: we lost a connection race; back off (max) and reconnect."""
    p.state = S.WAIT
    p.fault(now, "received WAIT (connection race)")

def handle_session_reset(p: ProtocolV2, frame: SessionResetFrame, now: float) -> None:
    """SESSION_RESET: start a new session (full: the peer lost everything)."""
    s = p.session
    if frame.full:
        p.reset_session()
    else:
        s.server_cookie = s.connect_seq = s.in_seq = 0
    p.state = S.SESSION_CONNECTING
    _send_client_ident(p)

def handle_session_retry(p: ProtocolV2, frame: SessionRetryFrame, now: float) -> None:
    """SESSION_RETRY: reconnect with a higher connect_seq."""
    p.session.connect_seq = frame.connect_seq + 1
    _send_reconnect(p)

def handle_session_retry_global(p: ProtocolV2, frame: SessionRetryGlobalFrame,
                                now: float) -> None:
    """SESSION_RETRY_GLOBAL: reconnect with a higher global_seq."""
    p.session.global_seq = p.registry.get_global_seq(frame.global_seq)
    _send_reconnect(p)

def handle_reconnect_ok(p: ProtocolV2, frame: SessionReconnectOkFrame,
                        now: float) -> None:
    """SESSION_RECONNECT_OK: resumed; drop what the server already has."""
    _acked_by_peer(p, p.session.discard_requeued_up_to(frame.msg_seq))
    p.backoff = 0.0
    p._emit(ev.Connected(reconnect=True))
    p.ready(now)

# -- server auth -------------------------------------------------------------------

def handle_auth_request(p: ProtocolV2, frame: AuthRequestFrame, now: float) -> None:
    """AUTH_REQUEST: pick a mode, run the first server step."""
    server = p.auth_server
    if server is None:
        raise AuthFailed("no auth server configured", -22)
    p.auth_meta.auth_method = frame.method
    mode = server.pick_con_mode(p.peer_type, frame.method, frame.preferred_modes)
    if not mode:
        _auth_bad_method(p, -95)
        return
    p.auth_meta.con_mode = mode
    _handle_auth_request(p, frame.auth_payload, more=False)

def handle_auth_request_more(p: ProtocolV2, frame: AuthRequestMoreFrame,
                             now: float) -> None:
    """AUTH_REQUEST_MORE: the next server step."""
    _handle_auth_request(p, frame.auth_payload, more=True)

def _auth_bad_method(p: ProtocolV2, result: int) -> None:
    assert p.auth_server is not None
    methods, modes = p.auth_server.get_supported_auth_methods(p.peer_type)
    p.state = S.AUTH_ACCEPTING
    p._queue_frame(AuthBadMethodFrame(method=p.auth_meta.auth_method,
                                         result=result, allowed_methods=methods,
                                         allowed_modes=modes))

def _handle_auth_request(p: ProtocolV2, payload: bytes, *, more: bool) -> None:
    assert p.auth_server is not None
    try:
        reply = p.auth_server.handle_auth_request(
            _auth_peer(p), p.auth_meta, more, p.auth_meta.auth_method,
            payload)
    except AuthFailed as exc:
        if exc.result == -16:  # EBUSY: kick the client, it may come back later
            raise
        _auth_bad_method(p, exc.result)
        return
    if not reply.done:
        p.state = S.AUTH_ACCEPTING_MORE
        p._queue_frame(AuthReplyMoreFrame(auth_payload=reply.payload))
        return
    if p._intercept(Step.HANDLE_AUTH_REQUEST_ACCEPTING_SIGN,
                    lambda now: _send_auth_done(p, reply)):
        return
    _send_auth_done(p, reply)


def _send_auth_done(p: ProtocolV2, reply: AuthReply) -> None:
    p.state = S.AUTH_ACCEPTING_SIGN
    p._queue_frame(AuthDoneFrame(global_id=reply.global_id,
                                    con_mode=p.auth_meta.con_mode,
                                    auth_payload=reply.payload))
    _install_crypto(p, crossed=True)
    p._queue_frame(AuthSignatureFrame(signature=p._own_signature()))

# -- server session ----------------------------------------------------------------

_set = object.__setattr__  # what a frozen class's __init__ assigns with


class Handover(Record):
    """What an accepting connection hands to the existing one it is merged into
    (Ceph's ``reuse_connection``): the negotiated stream state and the peer's
    identity. The socket itself moves at the I/O layer."""

    asm: FrameAssembler
    auth_meta: AuthConnectionMeta
    rx: RxBuffer
    peer_type: int
    peer_addrs: EntityAddrVec
    target_addr: EntityAddr
    peer_name: EntityName
    features: int
    client_cookie: int
    peer_global_seq: int
    reconnect: bool
    connect_seq: int
    msg_seq: int
    reset_existing: bool

    __slots__ = ("asm", "auth_meta", "client_cookie", "connect_seq", "features", "msg_seq",
                 "peer_addrs", "peer_global_seq", "peer_name", "peer_type", "reconnect",
                 "reset_existing", "rx", "target_addr")

    def __init__(self, *, asm: FrameAssembler, auth_meta: AuthConnectionMeta, rx: RxBuffer,
                 peer_type: int, peer_addrs: EntityAddrVec, target_addr: EntityAddr,
                 peer_name: EntityName, features: int, client_cookie: int,
                 peer_global_seq: int, reconnect: bool, connect_seq: int = 0,
                 msg_seq: int = 0, reset_existing: bool = False) -> None:
        _set(self, "asm", asm)
        _set(self, "auth_meta", auth_meta)
        _set(self, "rx", rx)
        _set(self, "peer_type", peer_type)
        _set(self, "peer_addrs", peer_addrs)
        _set(self, "target_addr", target_addr)
        _set(self, "peer_name", peer_name)
        _set(self, "features", features)
        _set(self, "client_cookie", client_cookie)
        _set(self, "peer_global_seq", peer_global_seq)
        _set(self, "reconnect", reconnect)
        _set(self, "connect_seq", connect_seq)
        _set(self, "msg_seq", msg_seq)
        _set(self, "reset_existing", reset_existing)


def infer_target_addr(addrs: EntityAddrVec, socket_addr: EntityAddr) -> EntityAddr:
    """Ceph's ``_infer_target_addr``: the peer's first non-legacy address of the
    socket's family (where to reconnect); the socket address when none matches."""
    for a in addrs.addrs:
        if a.type != AddrType.LEGACY and a.family == socket_addr.family:
            return a
    return socket_addr


def existing_view(p: ProtocolV2) -> ExistingView:
    """How an accepting connection sees this (registered) one."""
    s = p.session
    return ExistingView(
        closed=p.state is S.CLOSED, replacing=p.replacing,
        ready_or_standby=p.state in READY_STATES or p.state is S.STANDBY,
        lossy=p.lossy, server=p.policy.server, client_cookie=s.client_cookie,
        server_cookie=s.server_cookie, connect_seq=s.connect_seq,
        peer_global_seq=s.peer_global_seq, peer_addr=p.peer_addrs.msgr2_addr)


def _handover(p: ProtocolV2, *, reconnect: bool, connect_seq: int = 0, msg_seq: int = 0,
              reset_existing: bool = False) -> Handover:
    p._rx.detach()  # the buffer moves, maybe to another thread: off the shared scratch
    return Handover(asm=p._asm, auth_meta=p.auth_meta, rx=p._rx, peer_type=p.peer_type,
                    peer_addrs=p.peer_addrs, target_addr=p.target_addr,
                    peer_name=p.peer_name, features=p.features,
                    client_cookie=p.session.client_cookie,
                    peer_global_seq=p.session.peer_global_seq, reconnect=reconnect,
                    connect_seq=connect_seq, msg_seq=msg_seq,
                    reset_existing=reset_existing)


def _reuse(p: ProtocolV2, existing: ProtocolV2, handover: Handover) -> None:
    """Move our socket into ``existing`` and stop this temporary connection; like
    Ceph, it gets a reset (dispatchers may see ``ms_handle_reset`` for a
    connection they never saw accepted)."""
    # the stream state now belongs to ``existing``: keep nothing shared with it
    p._rx = RxBuffer(p.options.rx_buffer_size)
    p._asm = FrameAssembler(limits=p.options.pre_auth_limits)
    p.registry.reuse_connection(p.owner, existing, handover)
    p.stop(queue_reset=True, reason="socket moved into the existing session")


def handle_client_ident(p: ProtocolV2, frame: ClientIdentFrame, now: float) -> None:
    """CLIENT_IDENT: check who the client is, resolve races, send SERVER_IDENT."""
    if not frame.addrs.addrs or (frame.addrs.addrs[0].family == 0
                                 and not frame.addrs.addrs[0].ip):
        raise DecodeError("client_ident with empty addrs")
    if frame.target_addr not in p.registry.my_addrs:
        raise WrongPeer(f"peer is trying to reach {frame.target_addr}, which is not "
                        f"us ({p.registry.my_addrs})")
    p.peer_addrs = frame.addrs
    p.target_addr = infer_target_addr(frame.addrs, p.target_addr)
    p.peer_name = EntityName(p.peer_type, frame.gid)
    s = p.session
    s.client_cookie = frame.cookie
    missing = (p.policy.features_required | MSGR2_REQUIRED) & \
        ~frame.supported_features
    if missing:
        p._queue_frame(IdentMissingFeaturesFrame(features=missing))
        return
    p.features = frame.supported_features & p.policy.features_supported
    s.peer_global_seq = frame.global_seq
    existing: ProtocolV2 | None = p.registry.lookup_existing(p.owner, frame.addrs)
    p.inject_delay()
    verdict = decide_client_ident(
        existing_view(existing) if existing is not None else None,
        global_seq=frame.global_seq, cookie=frame.cookie,
        peer_addr=frame.addrs.msgr2_addr, my_addr=p.registry.my_addrs.msgr2_addr,
        resetcheck=p.policy.resetcheck)
    action = verdict.action
    if action is IdentAction.NEW_SESSION or existing is None:
        _send_server_ident(p, now)
    elif action is IdentAction.REPLACE_LOSSY:
        p.registry.stop_connection(existing, queue_reset=True)
        _send_server_ident(p, now)
    elif action is IdentAction.STALE:
        p.stop(queue_reset=True, reason="stale connection (older global_seq)")
    elif action is IdentAction.WAIT:
        if verdict.keepalive_existing:
            p.registry.kick_connection(existing)
        p._queue_frame(WaitFrame())
    else:
        _reuse(p, existing, _handover(p, reconnect=False,
                                      reset_existing=verdict.reset_existing))


def _send_server_ident(p: ProtocolV2, now: float) -> None:
    s = p.session
    s.discard_requeued_up_to(0)
    s.in_seq = 0
    if not p.lossy:
        s.server_cookie = p.rng.randrange(1, 1 << 64)
    flags = CEPH_MSG_CONNECT_LOSSY if p.lossy else 0
    gs = p.registry.get_global_seq()
    frame = ServerIdentFrame(
        addrs=p.registry.my_addrs, gid=p.registry.my_name.num, global_seq=gs,
        supported_features=p.policy.features_supported,
        required_features=p.policy.features_required | MSGR2_REQUIRED,
        flags=flags, cookie=s.server_cookie)
    if not p.registry.accept_conn(p.owner, p.peer_addrs):
        p.fault(now, "another connection owns this peer address")
        return
    p.inject_delay()
    p._emit(ev.Accepted(reconnect=False))
    _queue_after(p, Step.SEND_SERVER_IDENTITY, frame, now=now, then_ready=True)


def _send_reconnect_ok(p: ProtocolV2, now: float) -> None:
    s = p.session
    _acked_by_peer(p, s.discard_requeued_up_to(s.message_seq))
    frame = SessionReconnectOkFrame(msg_seq=s.in_seq)
    if not p.registry.accept_conn(p.owner, p.peer_addrs):
        p.fault(now, "another connection owns this peer address")
        return
    p.inject_delay()
    p._emit(ev.Accepted(reconnect=True))
    _queue_after(p, Step.SEND_RECONNECT_OK, frame, now=now, then_ready=True)


def handle_reconnect(p: ProtocolV2, frame: SessionReconnectFrame, now: float) -> None:
    """SESSION_RECONNECT: resume the existing session, or tell the client what to do."""
    p.peer_addrs = frame.addrs
    p.target_addr = infer_target_addr(frame.addrs, p.target_addr)
    p.session.peer_global_seq = frame.global_seq
    existing: ProtocolV2 | None = p.registry.lookup_existing(p.owner, frame.addrs)
    p.inject_delay()
    verdict = decide_reconnect(
        existing_view(existing) if existing is not None else None,
        client_cookie=frame.client_cookie, global_seq=frame.global_seq,
        connect_seq=frame.connect_seq, my_addr=p.registry.my_addrs.msgr2_addr,
        resetcheck=p.policy.resetcheck)
    action = verdict.action
    if action is ReconnectAction.RESET or existing is None:
        p._queue_frame(SessionResetFrame(full=verdict.full or existing is None))
    elif action is ReconnectAction.RETRY_GLOBAL:
        _queue_after(p, Step.SESSION_RETRY,
                     SessionRetryGlobalFrame(global_seq=verdict.value))
    elif action is ReconnectAction.RETRY:
        p._queue_frame(SessionRetryFrame(connect_seq=verdict.value))
    elif action is ReconnectAction.WAIT:
        p._queue_frame(WaitFrame())
    else:
        p.session.client_cookie = frame.client_cookie
        _reuse(p, existing, _handover(p, reconnect=True, connect_seq=frame.connect_seq,
                                      msg_seq=frame.msg_seq))


def take_over(p: ProtocolV2, h: Handover, now: float) -> None:
    """Adopt an accepted socket's stream for this existing session and answer the
    peer: SERVER_IDENT (new session, same user-visible connection) or
    RECONNECT_OK. The I/O layer has already moved the socket here."""
    if not p._begin_take_over(reset_existing=h.reset_existing):
        return
    p._pre = None
    p._asm = h.asm
    p.auth_meta = h.auth_meta
    p._rx = h.rx
    p._banner_done = True
    p._banner_len = 0
    p._transcript_on = False
    p._is_server = True
    p.peer_type = h.peer_type
    p.peer_addrs = h.peer_addrs
    p.target_addr = h.target_addr
    s = p.session
    if not h.reconnect:
        s.client_cookie = h.client_cookie
        p.peer_name = h.peer_name
        p.features = h.features
    s.peer_global_seq = h.peer_global_seq
    p.replacing = True
    p.reconnecting = h.reconnect
    p.state = S.SESSION_ACCEPTING
    p.connect_started = now
    p._ready_deadline = now + p.options.connection_ready_timeout
    if h.reconnect:
        s.connect_seq = h.connect_seq
        s.message_seq = h.msg_seq
        _send_reconnect_ok(p, now)
    else:
        _send_server_ident(p, now)


__all__ = ["FRAME_STATES", "Handover", "existing_view", "take_over"]
