"""msgr v1 validation: every tag a state does not take faults the connection.

msgr v1 reads a tag in two places (Ceph's ``ProtocolV1``): the client's
``handle_connect_reply_2`` (the tag of ``ceph_msg_connect_reply``: READY,
RESETSESSION, WAIT, RETRY_SESSION, RETRY_GLOBAL, BADPROTOVER, BADAUTHORIZER,
FEATURES, SEQ, CHALLENGE_AUTHORIZER) and, once the session is open,
``handle_tag`` on either side (MSG, ACK, KEEPALIVE, KEEPALIVE2, KEEPALIVE2_ACK,
CLOSE; anything else is "bad tag" and ``_fault()``). The tables below restate
those lists; every other defined tag, and a few undefined byte values, are fed
in each place, and the test asserts the typed error (UnknownTag), a clean fault
and that no throttle is held.
"""

from __future__ import annotations

import random

import pytest

from asyncmsgr.features import CEPH_FEATURES_ALL
from asyncmsgr.frames.v1 import ConnectReply, V1Tag, encode_server_hello
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import ProtocolOptions, State
from asyncmsgr.protocol.v1 import ProtocolV1
from asyncmsgr.testing.v2pair import SERVER_V1_ADDR, FakeRegistry, ProtocolPair
from asyncmsgr.throttle import Throttle
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec, EntityName, EntityType

T = V1Tag
#: The tags ``handle_connect_reply_2`` acts on.
REPLY_TAGS = frozenset({T.READY, T.RESETSESSION, T.WAIT, T.RETRY_SESSION, T.RETRY_GLOBAL,
                        T.BADPROTOVER, T.BADAUTHORIZER, T.FEATURES, T.SEQ,
                        T.CHALLENGE_AUTHORIZER})
#: The tags ``handle_tag`` takes once the session is open.
OPEN_TAGS = frozenset({T.MSG, T.ACK, T.KEEPALIVE, T.KEEPALIVE2, T.KEEPALIVE2_ACK, T.CLOSE})
UNDEFINED = (0, 17, 0x63, 0xFF)
FAULTED = frozenset({State.CLOSED, State.STANDBY, State.START_CONNECT, State.WAIT})

REFUSED_REPLY = [int(t) for t in T if t not in REPLY_TAGS] + list(UNDEFINED)
REFUSED_OPEN = [(role, int(t)) for role in ("client", "server") for t in T
                if t not in OPEN_TAGS] + \
    [(role, t) for role in ("client", "server") for t in UNDEFINED]


def _closes(machine: ProtocolBase) -> list[str]:
    return [e.reason for e in machine.events_received() if isinstance(e, ev.CloseSocket)]


def test_the_walk_covers_every_refused_tag() -> None:
    """16 defined tags: 6 refused at the reply, 10 refused once open (per role)."""
    assert len(REPLY_TAGS) == 10
    assert len(OPEN_TAGS) == 6
    assert len(REFUSED_REPLY) == 6 + len(UNDEFINED)
    assert len(REFUSED_OPEN) == 2 * (10 + len(UNDEFINED))


@pytest.mark.parametrize("tag", REFUSED_REPLY)
def test_refused_connect_reply_tag_faults(tag: int) -> None:
    msgs = Throttle("msgs", 100)
    reg = FakeRegistry(EntityName(EntityType.CLIENT, 4100),
                       EntityAddrVec((EntityAddr(type=AddrType.ANY, nonce=77),)),
                       Policy.lossless_client().with_throttlers(messages=msgs))
    c = ProtocolV1(owner="c", registry=reg, options=ProtocolOptions(), policy=reg.policy,
                   peer_type=EntityType.OSD, target_addr=SERVER_V1_ADDR,
                   rng=random.Random(1))
    c.start_connect(0.0)
    c.connection_made(0.0)
    c.receive_data(encode_server_hello(SERVER_V1_ADDR,
                                       EntityAddr.from_host("127.0.0.1", 5000)), 0.0)
    assert c.state is State.CONNECTING_WAIT_CONNECT_REPLY
    c.data_to_send(0.0)
    c.events_received()
    reply = ConnectReply(tag=tag, features=CEPH_FEATURES_ALL, global_seq=1, connect_seq=1,
                         protocol_version=24).encode()
    c.receive_data(reply, 0.0)
    reasons = _closes(c)
    assert reasons
    assert reasons[0].startswith("UnknownTag:"), reasons
    assert c.state in FAULTED
    assert not c.is_connected
    assert msgs.current == 0


@pytest.mark.parametrize(("role", "tag"), REFUSED_OPEN)
def test_refused_tag_on_an_open_session_faults(role: str, tag: int) -> None:
    throttles = [Throttle(n, 1 << 20) for n in ("c-msgs", "c-bytes", "s-msgs", "s-bytes",
                                                "c-dispatch", "s-dispatch")]
    p = ProtocolPair(protocol=1,
                     client_policy=Policy.lossless_client().with_throttlers(
                         messages=throttles[0], bytes=throttles[1]),
                     server_policy=Policy.stateful_server().with_throttlers(
                         messages=throttles[2], bytes=throttles[3]))
    p.client.dispatch_throttle = throttles[4]
    p.server.dispatch_throttle = throttles[5]
    p.handshake()
    machine = p.client if role == "client" else p.server
    assert machine.state is State.OPEN
    # a whole item's worth of bytes: the refusal must come from the tag alone
    machine.receive_data(bytes([tag]) + bytes(80), p.now)
    reasons = _closes(machine)
    assert reasons
    assert reasons[0].startswith("UnknownTag:"), reasons
    assert f"tag {tag} " in reasons[0]
    assert machine.state in FAULTED
    assert not [e for e in machine.events_received() if isinstance(e, ev.MessageReceived)]
    assert {t.name: t.current for t in throttles if t.current} == {}
