"""Pieces shared by the protocol machines: states, options, the registry
interface the messenger implements, the policy/throttle shapes the core needs,
and the fault decision of Ceph's ``_fault()`` as a pure function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any, Protocol

from asyncmsgr.frames.assembler import FrameLimits
from asyncmsgr.types import EntityAddr, EntityAddrVec, EntityName


class State(Enum):
    """ProtocolV2 states, named as in Ceph's ``ProtocolV2.h``."""

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


#: ``state >= START_CONNECT && state <= SESSION_RECONNECTING``
CONNECTING_STATES = frozenset({
    State.START_CONNECT, State.BANNER_CONNECTING, State.HELLO_CONNECTING,
    State.AUTH_CONNECTING, State.AUTH_CONNECTING_SIGN, State.SESSION_CONNECTING,
    State.SESSION_RECONNECTING,
})
#: ``state >= START_ACCEPT && state <= SESSION_ACCEPTING``
ACCEPTING_STATES = frozenset({
    State.START_ACCEPT, State.BANNER_ACCEPTING, State.HELLO_ACCEPTING,
    State.AUTH_ACCEPTING, State.AUTH_ACCEPTING_MORE, State.AUTH_ACCEPTING_SIGN,
    State.SESSION_ACCEPTING,
})
#: The session is up (frames flow); THROTTLE_* are the READY sub-steps of a message.
READY_STATES = frozenset({
    State.READY, State.THROTTLE_MESSAGE, State.THROTTLE_BYTES,
    State.THROTTLE_DISPATCH_QUEUE, State.THROTTLE_DONE, State.READ_MESSAGE_COMPLETE,
})
#: Before AUTH_SIGNATURE: frames are counted in the pre-auth transcript.
PRE_AUTH_STATES = frozenset({
    State.BANNER_CONNECTING, State.HELLO_CONNECTING, State.AUTH_CONNECTING,
    State.BANNER_ACCEPTING, State.HELLO_ACCEPTING, State.AUTH_ACCEPTING,
    State.AUTH_ACCEPTING_MORE,
})


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


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolOptions:
    """The configuration a protocol machine reads (from ``MessengerConfig``)."""

    connection_ready_timeout: float = 10.0
    """``ms_connection_ready_timeout``: fault a connection not READY by then."""
    connection_idle_timeout: float = 900.0
    """``ms_connection_idle_timeout``: fault a READY connection idle that long."""
    initial_backoff: float = 0.2
    """``ms_initial_backoff``."""
    max_backoff: float = 15.0
    """``ms_max_backoff``."""
    learn_addr_from_peer: bool = True
    """``ms_learn_addr_from_peer``."""
    die_on_old_message: bool = False
    """``ms_die_on_old_message``: raise instead of dropping a duplicate."""
    die_on_skipped_message: bool = False
    """``ms_die_on_skipped_message``: raise on a seq gap."""
    die_on_bad_msg: bool = False
    """``ms_die_on_bad_msg``: raise instead of faulting on an undecodable message."""
    pre_auth_limits: FrameLimits = field(default_factory=FrameLimits.pre_auth)
    """Segment caps until authentication completes."""
    limits: FrameLimits = field(default_factory=FrameLimits)
    """Segment caps afterwards."""
    rx_buffer_size: int = 262144
    """The reused receive buffer."""
    large_segment_threshold: int = 65536
    """Frame bodies above this are received into their own buffer."""
    write_batch_bytes: int = 4 << 20
    """Messages encoded per ``data_to_send`` call (the rest stay queued)."""
    throttle_retry: float = 0.001
    """Retry interval for a throttle that is full (Ceph: 1 ms)."""
    max_pre_auth_transcript: int = 1 << 20
    """Bound on the bytes kept for AUTH_SIGNATURE."""


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
