"""Pieces shared by the protocol machines: states, options, the registry
interface the messenger implements, the policy/throttle shapes the core needs,
and the fault decision of Ceph's ``_fault()`` as a pure function.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import Enum, IntEnum
from typing import Any, Protocol

from asyncmsgr.frames.assembler import FrameLimits
from asyncmsgr.record import Record
from asyncmsgr.types import EntityAddr, EntityAddrVec, EntityName


class State(Enum):
    """Protocol states, named as in Ceph.

    msgr2 uses the names of ``ProtocolV2.h``. msgr v1 uses the step names of
    Ceph's AsyncConnection before the Protocol split (``STATE_CONNECTING_*``,
    ``STATE_ACCEPTING_*``, ``STATE_OPEN_*``, without the ``STATE_`` prefix),
    which name every read of the legacy handshake and message. Both share
    NONE, START_CONNECT, START_ACCEPT, the THROTTLE_* steps, STANDBY, WAIT and
    CLOSED.
    """

    # Members are singletons compared by identity: hash them by identity too, in C
    # (Enum.__hash__ is Python code, run on every state-set membership test).
    __hash__ = object.__hash__

    NONE = "NONE"
    START_CONNECT = "START_CONNECT"
    BANNER_CONNECTING = "BANNER_CONNECTING"
    HELLO_CONNECTING = "HELLO_CONNECTING"
    AUTH_CONNECTING = "AUTH_CONNECTING"
    AUTH_CONNECTING_SIGN = "AUTH_CONNECTING_SIGN"
    SESSION_CONNECTING = "SESSION_CONNECTING"
    SESSION_RECONNECTING = "SESSION_RECONNECTING"
    START_ACCEPT = "START_ACCEPT"
    BANNER_ACCEPTING = "BANNER_ACCEPTING"
    HELLO_ACCEPTING = "HELLO_ACCEPTING"
    AUTH_ACCEPTING = "AUTH_ACCEPTING"
    AUTH_ACCEPTING_MORE = "AUTH_ACCEPTING_MORE"
    AUTH_ACCEPTING_SIGN = "AUTH_ACCEPTING_SIGN"
    SESSION_ACCEPTING = "SESSION_ACCEPTING"
    READY = "READY"
    THROTTLE_MESSAGE = "THROTTLE_MESSAGE"
    THROTTLE_BYTES = "THROTTLE_BYTES"
    THROTTLE_DISPATCH_QUEUE = "THROTTLE_DISPATCH_QUEUE"
    THROTTLE_DONE = "THROTTLE_DONE"
    READ_MESSAGE_COMPLETE = "READ_MESSAGE_COMPLETE"
    STANDBY = "STANDBY"
    WAIT = "WAIT"
    CLOSED = "CLOSED"
    # msgr v1: connect side
    CONNECTING = "CONNECTING"
    CONNECTING_WAIT_BANNER_AND_IDENTIFY = "CONNECTING_WAIT_BANNER_AND_IDENTIFY"
    CONNECTING_SEND_CONNECT_MSG = "CONNECTING_SEND_CONNECT_MSG"
    CONNECTING_WAIT_CONNECT_REPLY = "CONNECTING_WAIT_CONNECT_REPLY"
    CONNECTING_WAIT_CONNECT_REPLY_AUTH = "CONNECTING_WAIT_CONNECT_REPLY_AUTH"
    CONNECTING_WAIT_ACK_SEQ = "CONNECTING_WAIT_ACK_SEQ"
    CONNECTING_READY = "CONNECTING_READY"
    # msgr v1: accept side
    ACCEPTING = "ACCEPTING"
    ACCEPTING_WAIT_BANNER_ADDR = "ACCEPTING_WAIT_BANNER_ADDR"
    ACCEPTING_WAIT_CONNECT_MSG = "ACCEPTING_WAIT_CONNECT_MSG"
    ACCEPTING_WAIT_CONNECT_MSG_AUTH = "ACCEPTING_WAIT_CONNECT_MSG_AUTH"
    ACCEPTING_WAIT_SEQ = "ACCEPTING_WAIT_SEQ"
    ACCEPTING_READY = "ACCEPTING_READY"
    # msgr v1: the session is open; one item (tag + payload) at a time
    OPEN = "OPEN"
    OPEN_KEEPALIVE2 = "OPEN_KEEPALIVE2"
    OPEN_KEEPALIVE2_ACK = "OPEN_KEEPALIVE2_ACK"
    OPEN_TAG_ACK = "OPEN_TAG_ACK"
    OPEN_MESSAGE_HEADER = "OPEN_MESSAGE_HEADER"
    READ_FRONT = "OPEN_MESSAGE_READ_FRONT"
    READ_MIDDLE = "OPEN_MESSAGE_READ_MIDDLE"
    READ_DATA_PREPARE = "OPEN_MESSAGE_READ_DATA_PREPARE"
    READ_DATA = "OPEN_MESSAGE_READ_DATA"
    READ_FOOTER_AND_DISPATCH = "OPEN_MESSAGE_READ_FOOTER_AND_DISPATCH"


#: v1 connect-side states (after START_CONNECT).
V1_CONNECTING_STATES = frozenset({
    State.CONNECTING, State.CONNECTING_WAIT_BANNER_AND_IDENTIFY,
    State.CONNECTING_SEND_CONNECT_MSG, State.CONNECTING_WAIT_CONNECT_REPLY,
    State.CONNECTING_WAIT_CONNECT_REPLY_AUTH, State.CONNECTING_WAIT_ACK_SEQ,
    State.CONNECTING_READY,
})
#: v1 accept-side states up to the reply (Ceph's half-accepted connection).
V1_ACCEPTING_STATES = frozenset({
    State.ACCEPTING, State.ACCEPTING_WAIT_BANNER_ADDR, State.ACCEPTING_WAIT_CONNECT_MSG,
    State.ACCEPTING_WAIT_CONNECT_MSG_AUTH,
})
#: ``state >= START_CONNECT && state <= SESSION_RECONNECTING`` (and v1's steps)
CONNECTING_STATES = frozenset({
    State.START_CONNECT, State.BANNER_CONNECTING, State.HELLO_CONNECTING,
    State.AUTH_CONNECTING, State.AUTH_CONNECTING_SIGN, State.SESSION_CONNECTING,
    State.SESSION_RECONNECTING,
}) | V1_CONNECTING_STATES
#: ``state >= START_ACCEPT && state <= SESSION_ACCEPTING`` (v1: up to
#: ACCEPTING_WAIT_CONNECT_MSG_AUTH)
ACCEPTING_STATES = frozenset({
    State.START_ACCEPT, State.BANNER_ACCEPTING, State.HELLO_ACCEPTING,
    State.AUTH_ACCEPTING, State.AUTH_ACCEPTING_MORE, State.AUTH_ACCEPTING_SIGN,
    State.SESSION_ACCEPTING,
}) | V1_ACCEPTING_STATES
#: v1: the session is open and an item is being read.
V1_OPEN_STATES = frozenset({
    State.OPEN, State.OPEN_KEEPALIVE2, State.OPEN_KEEPALIVE2_ACK, State.OPEN_TAG_ACK,
    State.OPEN_MESSAGE_HEADER, State.READ_FRONT, State.READ_MIDDLE,
    State.READ_DATA_PREPARE, State.READ_DATA, State.READ_FOOTER_AND_DISPATCH,
})
#: The session is up (frames flow); THROTTLE_* are the READY sub-steps of a message.
READY_STATES = frozenset({
    State.READY, State.THROTTLE_MESSAGE, State.THROTTLE_BYTES,
    State.THROTTLE_DISPATCH_QUEUE, State.THROTTLE_DONE, State.READ_MESSAGE_COMPLETE,
}) | V1_OPEN_STATES
#: Before AUTH_SIGNATURE: frames are counted in the pre-auth transcript.
PRE_AUTH_STATES = frozenset({
    State.BANNER_CONNECTING, State.HELLO_CONNECTING, State.AUTH_CONNECTING,
    State.BANNER_ACCEPTING, State.HELLO_ACCEPTING, State.AUTH_ACCEPTING,
    State.AUTH_ACCEPTING_MORE,
})

#: Accepting and the peer not authenticated yet (msgr2: before AUTH_DONE; v1:
#: before an authorizer was accepted): what the messenger charges to
#: ``asyncmsgr_preauth_buffer_budget``.
UNAUTHENTICATED_ACCEPTING_STATES = frozenset({
    State.START_ACCEPT, State.BANNER_ACCEPTING, State.HELLO_ACCEPTING,
    State.AUTH_ACCEPTING, State.AUTH_ACCEPTING_MORE,
}) | V1_ACCEPTING_STATES


class InterceptAction(Enum):
    """What an interceptor wants at a step (Ceph's ``Interceptor::ACTION``)."""

    CONTINUE = "CONTINUE"
    FAIL = "FAIL"
    """Fault the connection here (``_fault()``)."""
    STOP = "STOP"
    """Stop the connection and queue a reset."""
    PAUSE = "PAUSE"
    """A breakpoint: stop before the step and hold the connection (no bytes out,
    none read, no timers) until ``ProtocolV2.release(now, action)`` applies
    CONTINUE (run the step), FAIL or STOP."""


class Step(IntEnum):
    """Ceph's ``Interceptor::STEP`` numbers: where a ProtocolV2 calls the interceptor."""

    START_CLIENT_BANNER_EXCHANGE = 1
    START_SERVER_BANNER_EXCHANGE = 2
    BANNER_EXCHANGE_BANNER_CONNECTING = 3
    BANNER_EXCHANGE = 4
    HANDLE_PEER_BANNER_BANNER_CONNECTING = 5
    HANDLE_PEER_BANNER = 6
    HANDLE_PEER_BANNER_PAYLOAD_HELLO_CONNECTING = 7
    HANDLE_PEER_BANNER_PAYLOAD = 8
    SEND_AUTH_REQUEST = 9
    HANDLE_AUTH_REQUEST_ACCEPTING_SIGN = 10
    SEND_CLIENT_IDENTITY = 11
    SEND_SERVER_IDENTITY = 12
    SEND_RECONNECT = 13
    SEND_RECONNECT_OK = 14
    READY = 15
    HANDLE_MESSAGE = 16
    READ_MESSAGE_COMPLETE = 17
    SESSION_RETRY = 18
    """Sending SESSION_RETRY_GLOBAL."""


class Interceptor(Protocol):
    """Test hook called at Ceph's numbered INTERCEPT points."""

    def intercept(self, conn: object, step: Step) -> InterceptAction:
        """Decide what the connection does at ``step``."""
        ...


class ThrottleLike(Protocol):
    """The non-blocking part of ``Throttle`` the machines use."""

    def get_or_fail(self, c: int = 1) -> bool:
        """Take ``c`` if it fits now."""
        ...

    def put(self, c: int = 1) -> int:
        """Return ``c``."""
        ...


class PolicyLike(Protocol):
    """The Policy fields the machines read (see :mod:`asyncmsgr.policy`)."""

    @property
    def lossy(self) -> bool: ...
    @property
    def server(self) -> bool: ...
    @property
    def standby(self) -> bool: ...
    @property
    def resetcheck(self) -> bool: ...
    @property
    def features_supported(self) -> int: ...
    @property
    def features_required(self) -> int: ...
    @property
    def throttler_bytes(self) -> ThrottleLike | None: ...
    @property
    def throttler_messages(self) -> ThrottleLike | None: ...


class ConnectionRegistry(Protocol):
    """Synchronous questions a machine asks its messenger (thread-safe)."""

    @property
    def my_name(self) -> EntityName:
        """Our entity name (type and number)."""
        ...

    @property
    def my_addrs(self) -> EntityAddrVec:
        """The addresses we are reachable at (possibly learnt)."""
        ...

    def get_global_seq(self, old: int = 0) -> int:
        """``max(global_seq, old) + 1``, process-monotonic per messenger."""
        ...

    def learned_addr(self, peer_addr_for_me: EntityAddr) -> None:
        """The peer told us how it sees us (fills a blank IP)."""
        ...

    def policy_for(self, peer_type: int) -> PolicyLike:
        """The policy for peers of this entity type."""
        ...

    def lookup_existing(self, conn: object, peer_addrs: EntityAddrVec) -> Any:
        """The protocol machine of the registered connection to ``peer_addrs``.

        None when there is none, when it is ``conn`` itself, or when ``conn``
        is an unregistered lossy client (``register_lossy_clients`` false).
        """
        ...

    def stop_connection(self, machine: Any, *, queue_reset: bool) -> None:
        """Stop another connection (on its own thread)."""
        ...

    def kick_connection(self, machine: Any) -> None:
        """Queue a keepalive on another connection (race loser: push it through)."""
        ...

    def reuse_connection(self, conn: object, machine: Any, handover: Any) -> None:
        """Move ``conn``'s socket into the connection owning ``machine``.

        ``handover`` is what that machine's ``take_over`` needs. ``conn`` is
        stopped by its machine right after this returns.
        """
        ...

    def accept_conn(self, conn: object, peer_addrs: EntityAddrVec) -> bool:
        """Register an accepted connection; False when another owns the address."""
        ...

    def tolerates_missing_authorizer(self) -> bool:
        """msgr v1: accept a connect message without authorizer (a dispatcher has
        ``require_authorizer`` False, as a monitor's does for clients)."""
        ...


_set = object.__setattr__  # what a frozen class's __init__ assigns with
_LIMITS = FrameLimits()
_PRE_AUTH_LIMITS = FrameLimits.pre_auth()


class ProtocolOptions(Record):
    """The configuration a protocol machine reads (from ``MessengerConfig``)."""

    connection_ready_timeout: float
    """``ms_connection_ready_timeout``: fault a connection not READY by then."""
    connection_idle_timeout: float
    """``ms_connection_idle_timeout``: fault a READY connection idle that long."""
    initial_backoff: float
    """``ms_initial_backoff``."""
    max_backoff: float
    """``ms_max_backoff``."""
    learn_addr_from_peer: bool
    """``ms_learn_addr_from_peer``."""
    die_on_old_message: bool
    """``ms_die_on_old_message``: raise instead of dropping a duplicate."""
    die_on_skipped_message: bool
    """``ms_die_on_skipped_message``: raise on a seq gap."""
    die_on_bad_msg: bool
    """``ms_die_on_bad_msg``: raise instead of faulting on an undecodable message."""
    pre_auth_limits: FrameLimits
    """Segment caps until authentication completes."""
    limits: FrameLimits
    """Segment caps afterwards."""
    rx_buffer_size: int
    """The reused receive buffer."""
    large_segment_threshold: int
    """Frame bodies above this are received into their own buffer."""
    write_batch_bytes: int
    """Messages encoded per ``data_to_send`` call (the rest stay queued)."""
    throttle_retry: float
    """Retry interval for a throttle that is full (Ceph: 1 ms)."""
    max_pre_auth_transcript: int
    """Bound on the bytes kept for AUTH_SIGNATURE."""
    crc_header: bool
    """``ms_crc_header`` (msgr v1): header, front and middle crcs."""
    crc_data: bool
    """``ms_crc_data`` (msgr v1): the data crc."""
    sign_messages: bool
    """``cephx_sign_messages`` (msgr v1): sign and check messages of sessions
    set up with a cephx authorizer."""
    max_authorizer_len: int
    """Cap on a msgr v1 authorizer or authorizer reply (Ceph asserts < 4096)."""
    fast_path: bool
    """Take runs of READY messages in one loop (msgr2.1 crc mode); False runs
    every frame through the general path, which gives the same results. The
    default is True unless ``ASYNCMSGR_GENERAL_PATH=1`` is in the environment."""

    __slots__ = ("connection_idle_timeout", "connection_ready_timeout", "crc_data",
                 "crc_header", "die_on_bad_msg", "die_on_old_message",
                 "die_on_skipped_message", "fast_path", "initial_backoff",
                 "large_segment_threshold", "learn_addr_from_peer", "limits",
                 "max_authorizer_len", "max_backoff", "max_pre_auth_transcript",
                 "pre_auth_limits", "rx_buffer_size", "sign_messages", "throttle_retry",
                 "write_batch_bytes")

    def __init__(self, *, connection_ready_timeout: float = 10.0,
                 connection_idle_timeout: float = 900.0, initial_backoff: float = 0.2,
                 max_backoff: float = 15.0, learn_addr_from_peer: bool = True,
                 die_on_old_message: bool = False, die_on_skipped_message: bool = False,
                 die_on_bad_msg: bool = False, pre_auth_limits: FrameLimits = _PRE_AUTH_LIMITS,
                 limits: FrameLimits = _LIMITS, rx_buffer_size: int = 262144,
                 large_segment_threshold: int = 65536, write_batch_bytes: int = 4 << 20,
                 throttle_retry: float = 0.001, max_pre_auth_transcript: int = 1 << 20,
                 crc_header: bool = True, crc_data: bool = True, sign_messages: bool = True,
                 max_authorizer_len: int = 4096, fast_path: bool | None = None) -> None:
        _set(self, "connection_ready_timeout", connection_ready_timeout)
        _set(self, "connection_idle_timeout", connection_idle_timeout)
        _set(self, "initial_backoff", initial_backoff)
        _set(self, "max_backoff", max_backoff)
        _set(self, "learn_addr_from_peer", learn_addr_from_peer)
        _set(self, "die_on_old_message", die_on_old_message)
        _set(self, "die_on_skipped_message", die_on_skipped_message)
        _set(self, "die_on_bad_msg", die_on_bad_msg)
        _set(self, "pre_auth_limits", pre_auth_limits)
        _set(self, "limits", limits)
        _set(self, "rx_buffer_size", rx_buffer_size)
        _set(self, "large_segment_threshold", large_segment_threshold)
        _set(self, "write_batch_bytes", write_batch_bytes)
        _set(self, "throttle_retry", throttle_retry)
        _set(self, "max_pre_auth_transcript", max_pre_auth_transcript)
        _set(self, "crc_header", crc_header)
        _set(self, "crc_data", crc_data)
        _set(self, "sign_messages", sign_messages)
        _set(self, "max_authorizer_len", max_authorizer_len)
        _set(self, "fast_path", general_path_forced() is False if fast_path is None else fast_path)


def general_path_forced(environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``ASYNCMSGR_GENERAL_PATH`` is set (to anything but ``""``/``0``):
    protocol machines then take no fast path (a switch for tests and comparisons)."""
    return environ.get("ASYNCMSGR_GENERAL_PATH", "") not in ("", "0")


def next_backoff(current: float, options: ProtocolOptions, *, wait: bool) -> float:
    """Ceph's reconnect backoff: WAIT jumps to the max; else start or double, capped."""
    if wait:
        return options.max_backoff
    if current <= 0:
        return options.initial_backoff
    return min(current * 2, options.max_backoff)


__all__ = [
    "ACCEPTING_STATES",
    "CONNECTING_STATES",
    "PRE_AUTH_STATES",
    "READY_STATES",
    "UNAUTHENTICATED_ACCEPTING_STATES",
    "V1_ACCEPTING_STATES",
    "V1_CONNECTING_STATES",
    "V1_OPEN_STATES",
    "ConnectionRegistry",
    "InterceptAction",
    "Interceptor",
    "PolicyLike",
    "ProtocolOptions",
    "State",
    "Step",
    "ThrottleLike",
    "next_backoff",
]
