"""msgr2 banner and HELLO, field by field: the peer's msgr2 feature bits (what we
refuse, with the reason and a reset; msgr2.1 only when the peer has it), a
banner step held by an interceptor, what HELLO records on each side, a HELLO
from the wrong peer type, and a client without an auth client (Ceph Pacific
``ProtocolV2::_handle_peer_banner_payload`` / ``handle_hello``)."""

from __future__ import annotations

from typing import ClassVar

import pytest
from handshake_walk import V2Walk

from asyncmsgr.features import CEPH_MSGR2_FEATURE_COMPRESSION, CEPH_MSGR2_FEATURE_REVISION_1
from asyncmsgr.frames.v2 import encode_banner
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.common import PolicyLike, State, Step
from asyncmsgr.testing.interceptor import TestInterceptor
from asyncmsgr.testing.v2pair import FakeRegistry, ProtocolPair
from asyncmsgr.types import EntityName, EntityType


def _client_after_banner(supported: int, required: int) -> tuple[ProtocolPair, list[ev.Event]]:
    p = ProtocolPair()
    p.connect()
    p.client.data_to_send(p.now)
    p.client.receive_data(encode_banner(supported, required), p.now)
    return p, p.client.events_received()


def test_peer_requiring_a_feature_we_lack_is_refused_with_a_reset() -> None:
    p, events = _client_after_banner(CEPH_MSGR2_FEATURE_REVISION_1,
                                     CEPH_MSGR2_FEATURE_COMPRESSION)
    assert [e.reason for e in events if isinstance(e, ev.CloseSocket)] == \
        [f"peer requires msgr2 features {CEPH_MSGR2_FEATURE_COMPRESSION:#x}"]
    assert ev.ResetSession() in events
    assert p.client.state is State.CLOSED


def test_peer_requiring_msgr2_1_is_fine() -> None:
    p, events = _client_after_banner(CEPH_MSGR2_FEATURE_REVISION_1,
                                     CEPH_MSGR2_FEATURE_REVISION_1)
    assert not [e for e in events if isinstance(e, ev.CloseSocket)]
    assert p.client.state is State.HELLO_CONNECTING
    assert p.client._asm.rev1 is True  # type: ignore[attr-defined]


def test_peer_without_msgr2_1_gets_msgr2_0_frames() -> None:
    p, events = _client_after_banner(0, 0)
    assert not [e for e in events if isinstance(e, ev.CloseSocket)]
    assert p.client._asm.rev1 is False  # type: ignore[attr-defined]


@pytest.mark.parametrize("side", ["client", "server"])
def test_banner_step_held_by_an_interceptor_goes_on_when_released(side: str) -> None:
    t = TestInterceptor()
    step = Step.HANDLE_PEER_BANNER_BANNER_CONNECTING if side == "client" \
        else Step.HANDLE_PEER_BANNER
    t.breakpoint(step)
    p = ProtocolPair()
    machine = p.client if side == "client" else p.server
    machine.interceptor = t
    p.connect()
    p.transfer()
    assert machine.held_step is step
    machine.release(p.now)
    p.transfer()
    assert p.client.state is State.READY
    assert p.server.state is State.READY


class _Asked(FakeRegistry):
    """Records which peer types the policy was asked for."""

    __slots__ = ()
    asked: ClassVar[list[int]] = []

    def policy_for(self, peer_type: int) -> PolicyLike:
        self.asked.append(peer_type)
        return self.policy


def test_hello_on_the_accepting_side_records_the_peer_type() -> None:
    w = V2Walk()
    _Asked.asked.clear()
    w.pair.server_registry.__class__ = _Asked
    w.connect()
    server = w.run_until("server", State.AUTH_ACCEPTING)
    assert server.peer_type == EntityType.CLIENT
    assert server.peer_name == EntityName(EntityType.CLIENT, -1)
    assert _Asked.asked == [EntityType.CLIENT]


def test_hello_from_another_peer_type_is_refused_with_a_reset() -> None:
    p = ProtocolPair()
    p.server_registry.my_name = EntityName(EntityType.MON, 0)  # we dialled an OSD
    p.connect()
    p.transfer()
    reasons = [e.reason for e in p.client_events if isinstance(e, ev.CloseSocket)]
    assert reasons[:1] == [f"peer type {EntityType.MON} != expected {EntityType.OSD}"]
    assert ev.ResetSession() in p.client_events


def test_client_without_auth_client_cannot_authenticate() -> None:
    p = ProtocolPair(client_policy=Policy.lossless_client())
    p.client.auth_client = None
    p.connect()
    p.transfer()
    reasons = [e.reason for e in p.client_events if isinstance(e, ev.CloseSocket)]
    assert reasons[:1] == ["AuthFailed: no auth client configured"]
