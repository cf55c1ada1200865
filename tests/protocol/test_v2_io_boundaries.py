"""ProtocolV2 at the edges the socket tests found (no I/O, injected clock):
when the machine takes bytes, and how early it refuses a banner."""

from __future__ import annotations

import pytest

from asyncmsgr.frames.v2 import BANNER_PREFIX, V1_BANNER, encode_banner
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import State
from asyncmsgr.testing.v2pair import ProtocolPair
from asyncmsgr.types import EntityAddr


def state(side: ProtocolBase) -> State:
    """The current state (a call, so mypy does not narrow across actions)."""
    return side.state


def test_client_reads_nothing_before_connection_made() -> None:
    """In START_CONNECT there is no connected socket: ``wants_read`` is False, so
    the I/O layer does not read the server's banner into a buffer that
    ``connection_made`` then resets (the banner was lost and the HELLO frame that
    followed was parsed as a banner)."""
    p = ProtocolPair()
    assert not p.client.wants_read  # NONE
    p.client.start_connect(p.now)
    assert not p.client.wants_read  # START_CONNECT: the TCP connect is in progress
    p.client.connection_made(p.now)
    assert p.client.wants_read
    p.server.start_accept(p.now, EntityAddr.from_host("127.0.0.1", 40000))
    assert p.server.wants_read
    p.transfer()
    assert p.client.state is State.READY
    p.client.stop()
    assert not p.client.wants_read  # CLOSED


def test_fault_while_connecting_stops_reading_until_reconnected() -> None:
    p = ProtocolPair()
    p.client.start_connect(p.now)
    p.client.connection_made(p.now)
    p.client.connection_failed(p.now, refused=True)
    assert p.client.state is State.START_CONNECT  # backoff, then a new socket
    assert not p.client.wants_read
    assert ev.Refused() in p.client.events_received()


@pytest.mark.parametrize("head", [V1_BANNER, V1_BANNER[:7]])
def test_v1_banner_alone_faults_at_once(head: bytes) -> None:
    """A msgr v1 client sends its 9-byte banner and waits for ours: the server must
    not wait for the 10th byte of a v2 prefix (it stalled until the ready timeout)."""
    p = ProtocolPair()
    p.server.start_accept(p.now, EntityAddr.from_host("127.0.0.1", 1))
    p.server.receive_data(head, p.now)
    assert p.server.state is State.CLOSED
    assert ev.ResetSession() in p.server.events_received()


@pytest.mark.parametrize("head", [b"G", b"ceph v1", b"\x00" * 9])
def test_garbage_banner_faults_on_first_wrong_byte(head: bytes) -> None:
    p = ProtocolPair()
    p.server.start_accept(p.now, EntityAddr.from_host("127.0.0.1", 1))
    p.server.receive_data(head, p.now)
    assert p.server.state is State.CLOSED


def test_v2_banner_prefix_trickled_is_accepted() -> None:
    p = ProtocolPair()
    p.server.start_accept(p.now, EntityAddr.from_host("127.0.0.1", 1))
    banner = encode_banner()
    for i in range(len(BANNER_PREFIX) + 2):
        p.server.receive_data(banner[i:i + 1], p.now)
        assert state(p.server) is State.BANNER_ACCEPTING
    p.server.receive_data(banner[len(BANNER_PREFIX) + 2:], p.now)
    assert state(p.server) is State.HELLO_ACCEPTING
