"""msgr2 handshake validation: every (role, state, frame) pair that Ceph refuses
faults the connection, cleanly.

The allowed pairs are restated here from the state checks at the top of each
``ProtocolV2::handle_*`` of Ceph Pacific (``src/msg/async/ProtocolV2.cc``:
``handle_hello`` HELLO_CONNECTING/HELLO_ACCEPTING, ``handle_auth_request``
AUTH_ACCEPTING, ``handle_auth_bad_method`` / ``handle_auth_reply_more`` /
``handle_auth_done`` AUTH_CONNECTING, ``handle_auth_request_more``
AUTH_ACCEPTING_MORE, ``handle_auth_signature`` AUTH_*_SIGN, ``handle_client_ident``
/ ``handle_reconnect`` SESSION_ACCEPTING, ``handle_server_ident`` /
``handle_ident_missing_features`` SESSION_CONNECTING, ``handle_session_reset`` /
``_retry`` / ``_retry_global`` / ``handle_reconnect_ok`` SESSION_RECONNECTING,
``handle_wait`` SESSION_(RE)CONNECTING, ``handle_keepalive2(_ack)`` /
``handle_message_ack`` and MESSAGE READY; COMPRESSION_* is unknown to Pacific),
independently of ``FRAME_STATES``, which is checked against it.

For every other pair the machine is driven to the state at a frame boundary
(no sockets: :mod:`handshake_walk`), the frame is fed, and the test asserts the
typed error (UnknownTag) in the fault, that no handler ran, that the machine
left the state the way ``_fault()`` leaves it, and that no throttle is held.
"""

from __future__ import annotations

import pytest
from handshake_walk import FAULTED_STATES, V2Walk, inject

from asyncmsgr.frames.assembler import FrameAssembler
from asyncmsgr.frames.v2 import (
    AckFrame,
    AuthBadMethodFrame,
    AuthDoneFrame,
    AuthReplyMoreFrame,
    AuthRequestFrame,
    AuthRequestMoreFrame,
    AuthSignatureFrame,
    ClientIdentFrame,
    CompressionDoneFrame,
    CompressionRequestFrame,
    ControlFrame,
    HelloFrame,
    IdentMissingFeaturesFrame,
    Keepalive2AckFrame,
    Keepalive2Frame,
    ServerIdentFrame,
    SessionReconnectFrame,
    SessionReconnectOkFrame,
    SessionResetFrame,
    SessionRetryFrame,
    SessionRetryGlobalFrame,
    Tag,
    WaitFrame,
)
from asyncmsgr.message import MsgHeader2
from asyncmsgr.protocol.common import State
from asyncmsgr.protocol.v2_handshake import FRAME_STATES
from asyncmsgr.testing.v2pair import SERVER_ADDR
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec, UTime

S = State
#: Ceph Pacific's allowed states per frame (see the module docstring).
CEPH_ALLOWED: dict[Tag, frozenset[State]] = {
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
    Tag.MESSAGE: frozenset({S.READY}),
    Tag.KEEPALIVE2: frozenset({S.READY}),
    Tag.KEEPALIVE2_ACK: frozenset({S.READY}),
    Tag.ACK: frozenset({S.READY}),
    Tag.COMPRESSION_REQUEST: frozenset(),
    Tag.COMPRESSION_DONE: frozenset(),
}

#: The states in which each role reads frames, and how to get there.
CLIENT_STATES = (S.HELLO_CONNECTING, S.AUTH_CONNECTING, S.AUTH_CONNECTING_SIGN,
                 S.SESSION_CONNECTING, S.SESSION_RECONNECTING, S.READY)
SERVER_STATES = (S.HELLO_ACCEPTING, S.AUTH_ACCEPTING, S.AUTH_ACCEPTING_MORE,
                 S.AUTH_ACCEPTING_SIGN, S.SESSION_ACCEPTING, S.READY)
ROLE_STATES = [("client", s) for s in CLIENT_STATES] + [("server", s) for s in SERVER_STATES]

_CLIENT_ADDRS = EntityAddrVec((EntityAddr.from_host("127.0.0.1", 0, type=AddrType.ANY,
                                                    nonce=77),))
_FRAMES: dict[Tag, ControlFrame] = {f.TAG: f for f in (
    HelloFrame(entity_type=8, peer_addr=SERVER_ADDR),
    AuthRequestFrame(method=4, preferred_modes=(1,), auth_payload=b"hello"),
    AuthBadMethodFrame(method=4, result=-95, allowed_methods=(4,), allowed_modes=(1,)),
    AuthReplyMoreFrame(auth_payload=b"n0nce"),
    AuthRequestMoreFrame(auth_payload=b"answer:n0nce"),
    AuthDoneFrame(global_id=4242, con_mode=1, auth_payload=b"done:n0nce"),
    AuthSignatureFrame(signature=bytes(32)),
    ClientIdentFrame(addrs=_CLIENT_ADDRS, target_addr=SERVER_ADDR, gid=4100, global_seq=9,
                     supported_features=(1 << 64) - 1, required_features=0, flags=0,
                     cookie=5),
    ServerIdentFrame(addrs=EntityAddrVec((SERVER_ADDR,)), gid=0, global_seq=9,
                     supported_features=(1 << 64) - 1, required_features=0, flags=0,
                     cookie=6),
    IdentMissingFeaturesFrame(features=1),
    SessionReconnectFrame(addrs=_CLIENT_ADDRS, client_cookie=5, server_cookie=6,
                          global_seq=9, connect_seq=1, msg_seq=0),
    SessionResetFrame(full=True),
    SessionRetryFrame(connect_seq=3),
    SessionRetryGlobalFrame(global_seq=30),
    SessionReconnectOkFrame(msg_seq=0),
    WaitFrame(),
    Keepalive2Frame(timestamp=UTime(1, 2)),
    Keepalive2AckFrame(timestamp=UTime(1, 2)),
    AckFrame(seq=0),
    CompressionRequestFrame(is_compress=True, preferred_methods=(1,)),
    CompressionDoneFrame(is_compress=True, method=1),
)}


def frame_bytes(tag: Tag) -> bytes:
    """A well-formed msgr2.1 crc-mode frame of ``tag`` (a ping-sized MESSAGE)."""
    asm = FrameAssembler(rev1=True)
    if tag is Tag.MESSAGE:
        header = MsgHeader2(seq=1, type=2, priority=127, version=1, compat_version=1)
        chunks = asm.assemble_message(header.encode(), b"front")
    else:
        frame = _FRAMES[tag]
        chunks = asm.assemble(frame.TAG, (frame.encode_payload(),))
    return b"".join(bytes(c) for c in chunks)


def walk_to(role: str, state: State) -> V2Walk:
    """A pair whose ``role`` machine sits in ``state`` at a frame boundary."""
    w = V2Walk()
    if state is S.READY:
        w.established()
        return w
    if state is S.SESSION_RECONNECTING:
        w.established()
        w.reconnect()
    else:
        w.connect()
    w.run_until(role, state)
    return w


NOT_ALLOWED = [(role, state, tag) for role, state in ROLE_STATES for tag in Tag
               if state not in CEPH_ALLOWED[tag]]


def test_frame_states_table_is_cephs() -> None:
    """FRAME_STATES allows exactly what Ceph's handlers allow (MESSAGE and the
    Quincy compression frames are checked at the preamble, outside the table)."""
    table = {tag: states for tag, states in CEPH_ALLOWED.items()
             if tag not in (Tag.MESSAGE, Tag.COMPRESSION_REQUEST, Tag.COMPRESSION_DONE)}
    assert table == FRAME_STATES


def test_the_walk_covers_every_refused_pair() -> None:
    """Both roles, every state in which frames are read, every tag: 22 tags x 12
    (role, state) less the 27 allowed pairs (READY's four frames count twice)."""
    allowed = sum(1 for role, state in ROLE_STATES for tag in Tag
                  if state in CEPH_ALLOWED[tag])
    assert allowed == 27
    assert len(NOT_ALLOWED) == len(ROLE_STATES) * len(Tag) - allowed == 237


@pytest.mark.parametrize(("role", "state", "tag"), NOT_ALLOWED,
                         ids=[f"{r}-{s.name}-{t.name}" for r, s, t in NOT_ALLOWED])
def test_refused_frame_faults(role: str, state: State, tag: Tag) -> None:
    w = walk_to(role, state)
    machine = w.machine(role)
    seen = inject(machine, frame_bytes(tag), w.pair.now, f"recv_{tag.name}")
    assert seen.handled == 0, "the frame's handler ran"
    assert seen.reasons, f"{tag.name} in {state.name} did not fault"
    assert seen.reasons[0].startswith("UnknownTag:"), seen.reasons
    assert tag.name in seen.reasons[0] or "MESSAGE" in seen.reasons[0]
    assert seen.state in FAULTED_STATES, seen.state
    for event in machine.events_received():
        assert type(event).__name__ != "MessageReceived"
    assert w.throttles.held() == {}


@pytest.mark.parametrize(("role", "state"), ROLE_STATES,
                         ids=[f"{r}-{s.name}" for r, s in ROLE_STATES])
@pytest.mark.parametrize("tag", [0, 23, 0xFF])
def test_undefined_tag_faults_in_every_state(role: str, state: State, tag: int) -> None:
    w = walk_to(role, state)
    machine = w.machine(role)
    asm = FrameAssembler(rev1=True)
    data = b"".join(bytes(c) for c in asm.assemble(tag, (b"\x00" * 8,)))
    seen = inject(machine, data, w.pair.now, "ready")
    assert seen.reasons
    assert seen.reasons[0].startswith("UnknownTag:"), seen.reasons
    assert seen.state in FAULTED_STATES
    assert w.throttles.held() == {}


@pytest.mark.parametrize(("role", "state"), ROLE_STATES,
                         ids=[f"{r}-{s.name}" for r, s in ROLE_STATES])
def test_the_walk_reaches_each_state_at_a_frame_boundary(role: str, state: State) -> None:
    """The allowed frames are accepted where the walk stops (so the refusals above
    are about the state, not a broken stream)."""
    w = walk_to(role, state)
    machine = w.machine(role)
    assert machine.state is state
    if state is S.READY:
        seen = inject(machine, frame_bytes(Tag.KEEPALIVE2), w.pair.now, "recv_KEEPALIVE2")
        assert seen.handled == 1
        assert not seen.reasons
        assert seen.state is S.READY
