"""Issue 14 end to end: ``asyncmsgr_preauth_buffer_budget`` against many raw-socket
peers that stop one byte short of their AUTH_REQUEST (msgr2) or authorizer
(msgr v1), while an authenticated session keeps exchanging messages and a new
client still connects.

Attackers are let in one at a time (each write is awaited until the server
either charged its frame or closed the socket), so the number admitted is
exact: as many as fit in the budget. Without the budget every one is held.
"""

from __future__ import annotations

import asyncio

import pytest
from msgr_harness import EMBEDDED_IDS, EMBEDDED_MODES, Pair, make_config, msgr_pair, run

from asyncmsgr.messages import MPing
from asyncmsgr.testing.preauth_attack import v1_connect_prefix, v2_auth_request_prefix
from asyncmsgr.throttle import Throttle

ATTACKERS = 24
#: What one attacker makes the server hold, at least: its announced frame.
V2_FRAME = 65536 + 4
V1_FRAME = 4096
ADMITTED = 5


async def _ping(p: Pair, con: object, text: bytes) -> None:
    n = p.cd.count()
    con.send_message(MPing(data=text))  # type: ignore[attr-defined]
    await p.cd.wait_count(n + 1)
    assert bytes(p.cd.got[-1].data) == text


async def _attack(p: Pair, payload: bytes, frame: int, budget: Throttle) -> tuple[
        list[asyncio.StreamWriter], int]:
    """Open ATTACKERS connections one after the other; the held ones and how many
    the server closed."""
    addr = p.server.my_addrs.legacy_addr if p.protocol == "v1" else \
        p.server.my_addrs.msgr2_addr
    assert addr is not None
    held: list[asyncio.StreamWriter] = []
    refused = 0
    for _ in range(ATTACKERS):
        before = budget.current
        reader, writer = await asyncio.open_connection(addr.host, addr.port)
        writer.write(payload)
        eof = asyncio.ensure_future(reader.read())  # the server's banner, then EOF if closed
        await p.sd.rec.wait_until(lambda b=before, e=eof: e.done()  # type: ignore[misc]
                                  or budget.current >= b + frame,
                                  what="the attacker charged or closed", poll=0.01)
        if eof.done():
            refused += 1
            writer.close()
        else:
            eof.cancel()
            held.append(writer)
    return held, refused


@pytest.mark.parametrize("embedded", EMBEDDED_MODES, ids=EMBEDDED_IDS)
@pytest.mark.parametrize("protocol", ["v2", "v1"])
def test_budget_caps_unauthenticated_peers_and_sessions_keep_working(
        protocol: str, embedded: bool) -> None:
    frame = V2_FRAME if protocol == "v2" else V1_FRAME
    payload = v2_auth_request_prefix() if protocol == "v2" else v1_connect_prefix()
    # room for ADMITTED frames plus their handshake records, not one frame more
    budget_bytes = ADMITTED * frame + frame // 2

    async def main() -> None:
        cfg = make_config(embedded, asyncmsgr_preauth_buffer_budget=budget_bytes)
        async with msgr_pair(config=cfg, protocol=protocol) as p:
            budget = p.server.preauth_budget
            assert budget is not None
            session = await p.connect()  # authenticated before the attack
            await _ping(p, session, b"before")
            assert budget.current == 0  # an authenticated session is not charged
            held, refused = await _attack(p, payload, frame, budget)
            assert len(held) == ADMITTED
            assert refused == ATTACKERS - ADMITTED
            assert budget.current <= budget_bytes
            # the session still works, and a new client authenticates meanwhile
            await _ping(p, session, b"during")
            session.mark_down()
            fresh = await p.connect()
            await _ping(p, fresh, b"new client")
            assert budget.current <= budget_bytes
            # the held attackers leave: their charge is given back
            for writer in held:
                writer.close()
            await p.sd.rec.wait_until(lambda: budget.current == 0,
                                      what="the budget to drain", poll=0.01)

    run(main, timeout=60)


def test_without_a_budget_every_attacker_is_held() -> None:
    """The control: with ``asyncmsgr_preauth_buffer_budget=0`` nothing is refused
    (the test above fails when the budget check is removed)."""
    async def main() -> None:
        cfg = make_config(True, asyncmsgr_preauth_buffer_budget=0)
        async with msgr_pair(config=cfg) as p:
            assert p.server.preauth_budget is None
            meter = Throttle("meter", 0)  # counts what the attackers' frames announced
            addr = p.server.my_addrs.msgr2_addr
            assert addr is not None
            writers = []
            for _ in range(ATTACKERS // 4):
                _reader, writer = await asyncio.open_connection(addr.host, addr.port)
                writer.write(v2_auth_request_prefix())
                meter.take(V2_FRAME)
                writers.append(writer)
            await p.sd.rec.wait_until(
                lambda: sum(c.core.pre_auth_bytes for c in p.server._accepting)
                >= meter.current, what="all attackers buffered", poll=0.01)
            assert len(p.server._accepting) == ATTACKERS // 4
            for writer in writers:
                writer.close()

    run(main, timeout=60)
