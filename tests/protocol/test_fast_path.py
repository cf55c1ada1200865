"""The READY fast path gives the results of the general path.

``ProtocolOptions.fast_path`` (``ASYNCMSGR_GENERAL_PATH=1`` turns it off for a
whole run) only changes how many frames one ``_step`` takes: the same bytes in
give the same messages, events, acks, counters and bytes out. Each scenario
runs both ways and compares everything observable; a spy proves the fast loop
really took the messages.
"""

from __future__ import annotations

from typing import Any

import pytest
from v2pair_helpers import Recorder

from asyncmsgr.messages import MPing
from asyncmsgr.policy import Policy
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.common import ProtocolOptions
from asyncmsgr.protocol.session import Session
from asyncmsgr.testing.v2pair import ProtocolPair
from asyncmsgr.throttle import Throttle

SIZES = (0, 1, 100, 4096, 5000, 20000, 70000, 3, 64, 4096)


def _messages(n: int) -> list[MPing]:
    return [MPing(payload=i.to_bytes(4, "little"), data=bytes([i % 251]) * SIZES[i % len(SIZES)],
                  tid=i) for i in range(n)]


def _summary(events: list[ev.Event]) -> list[Any]:
    out: list[Any] = []
    for e in events:
        if isinstance(e, ev.MessageReceived):
            m = e.message
            out.append(("msg", type(m).__name__, m.seq, m.tid, bytes(m.front),
                        bytes(m.data), m.src))
        elif isinstance(e, ev.MessagesAcked):
            out.append(("acked", tuple(m.seq for m in e.messages)))
        else:
            out.append(type(e).__name__)
    return out


def _run(fast: bool, *, trickle: int | None, throttle: int | None, n: int = 60,
         keepalives: bool = True) -> dict[str, Any]:
    options = ProtocolOptions(fast_path=fast, large_segment_threshold=8192)
    server_policy = Policy.stateful_server()
    if throttle is not None:
        server_policy = server_policy.with_throttlers(
            messages=Throttle("msgs", throttle), bytes=Throttle("bytes", 30000))
    p = ProtocolPair(options=options, server_policy=server_policy)
    p.server_registry.policy = server_policy
    p.server.policy = server_policy
    p.handshake()
    rec = Recorder.install(p.server)
    for i, m in enumerate(_messages(n)):
        p.client.send_message(m, p.now)
        if keepalives and i % 17 == 5:
            p.client.send_keepalive(p.now)
    received: list[Any] = []
    for _ in range(2000):
        p.transfer(trickle=trickle)
        got = [e.message for e in p.server_events if isinstance(e, ev.MessageReceived)]
        for r in got[len(received):]:
            r.release_throttles()
            received.append(r)
        if len(received) == n:
            break
        p.advance(0.002)  # throttle retry
    p.transfer()
    return {
        "server": _summary(p.server_events),
        "client": _summary(p.client_events),
        "wire_s2c": b"".join(p.wire_s2c),
        "session": Session._values(p.server.session)[2:],
        "client_session": Session._values(p.client.session)[2:],
        "counters": rec.counts,
        "fast_frames": rec.fast_frames,
    }


@pytest.mark.parametrize("trickle", [None, 1000, 7])
@pytest.mark.parametrize("throttle", [None, 3])
def test_fast_and_general_paths_agree(trickle: int | None, throttle: int | None) -> None:
    fast = _run(True, trickle=trickle, throttle=throttle)
    general = _run(False, trickle=trickle, throttle=throttle)
    if trickle is None or trickle >= 1000:  # 7-byte reads never hold a whole frame
        assert fast["fast_frames"] > 0  # the fused loop took messages
    assert general["fast_frames"] == 0
    for key in ("server", "client", "wire_s2c", "session", "client_session", "counters"):
        assert fast[key] == general[key], key
    msgs = [e for e in fast["server"] if e[0] == "msg"]
    assert [e[2] for e in msgs] == list(range(1, 61))  # every message, in order, once


def test_fast_path_takes_a_burst_in_one_step() -> None:
    r = _run(True, trickle=None, throttle=None, n=40, keepalives=False)
    assert r["fast_frames"] >= 30  # small frames of a burst, without per-frame _step
