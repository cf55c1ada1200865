"""Messenger over real sockets: Ceph's test_msgr.cc basics (ceph-messenger.md §9.1).

SimpleTest, SimpleMsgr2Test, FeatureTest, TimeoutTest, StatelessTest, AnonTest,
MessageTest, plus loopback delivery, ms_handle_refused, the asyncio face
(``async with``, ``wait_connected``, ``wait_acked``), clean shutdown and a
200-connection fan-in. Every test binds ``v2:127.0.0.1:0`` (a port scan), so
tests may run in parallel.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest
from msgr_harness import (
    EMBEDDED_IDS,
    EMBEDDED_MODES,
    FakeDispatcher,
    as_async,
    make_client,
    make_config,
    make_server,
    msgr_pair,
    run,
    session_of,
    stop,
)

from asyncmsgr.errors import ConnectionClosed
from asyncmsgr.features import CEPH_FEATURES_SUPPORTED_DEFAULT
from asyncmsgr.frames.v1 import SERVER_HELLO_LEN
from asyncmsgr.frames.v2 import BANNER_LEN, V1_BANNER, encode_banner
from asyncmsgr.messages import MCommand, MPing
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec, EntityType

modes = pytest.mark.parametrize("embedded", EMBEDDED_MODES, ids=EMBEDDED_IDS)


# -- SimpleTest -------------------------------------------------------------------------


@modes
def test_simple_round_trip(embedded: bool) -> None:
    async def main() -> None:
        async with msgr_pair(embedded=embedded) as p:
            con = await p.connect()
            assert con.is_connected()
            assert con.peer_type == EntityType.OSD
            con.send_message(MPing(data=b"ping"))
            await p.cd.wait_count(1)
            assert session_of(con).count == 1
            reply = p.cd.got[0]
            assert isinstance(reply, MPing)
            assert bytes(reply.data) == b"ping"
            assert reply.connection is con
            # the server saw one message on one connection, and accepted it
            assert p.sd.count() == 1
            server_con = p.sd.got[0].connection
            assert server_con is not None
            assert session_of(server_con).count == 1
            await p.sd.wait_for(p.sd.accepts)
            assert p.sd.accepts == [server_con]
            await p.cd.wait_for(p.cd.connects)
            assert p.cd.connects == [con]
    run(main)


@modes
def test_simple_rebind_avoids_ports(embedded: bool) -> None:
    async def main() -> None:
        async with msgr_pair(embedded=embedded) as p:
            con = await p.connect()
            con.send_message(MPing())
            await p.cd.wait_count(1)
            old = p.server.my_addrs
            old_port = old.addrs[0].port
            old_nonce = old.addrs[0].nonce
            avoid = set(range(old_port, old_port + 10))
            await p.server.rebind(avoid)
            new = p.server.my_addrs
            assert new.addrs[0].port not in avoid
            assert new.addrs[0].nonce == (old_nonce + 1_000_000) & 0xFFFFFFFF
            # rebind marked the old session down: the lossy client is told
            await p.cd.wait_for(p.cd.resets)
            assert p.cd.resets == [con]
            assert not con.is_connected()
            # the old port no longer answers; the new one does
            con2 = await p.connect()
            assert con2 is not con
            assert con2.peer_addrs == new
            con2.send_message(MPing())
            await p.cd.wait_count(2)
            assert session_of(con2).count == 1
            assert con.priv is None  # its session ended with the reset
    run(main)


@modes
def test_simple_mark_down_resets(embedded: bool) -> None:
    async def main() -> None:
        async with msgr_pair(embedded=embedded) as p:
            con = await p.connect()
            con.send_message(MPing())
            await p.cd.wait_count(1)
            p.client.mark_down(p.server.my_addrs)
            assert not con.is_connected()  # at once, whatever thread closes it
            # connect_to right away makes a new connection, not the dying one
            con2 = await p.connect()
            assert con2 is not con
            await p.cd.wait_for(p.cd.resets)
            assert p.cd.resets == [con]
            assert not con.is_connected()
            con2.send_message(MPing())
            await p.cd.wait_count(2)
            assert session_of(con2).count == 1
    run(main)


@modes
def test_simple_server_shutdown_then_send(embedded: bool) -> None:
    async def main() -> None:
        cfg = make_config(embedded)
        server, _sd = await make_server(cfg)
        client, cd = await make_client(cfg)
        try:
            con = client.connect_to(EntityType.OSD, server.my_addrs)
            await as_async(con).wait_connected()
            con.send_message(MPing())
            await cd.wait_count(1)
            await stop(server)
            con.send_message(MPing())
            await cd.wait_for(cd.resets)
            assert cd.resets == [con]
            assert not con.is_connected()
            assert cd.count() == 1
        finally:
            await stop(client)
    run(main)


@modes
def test_loopback_delivery(embedded: bool) -> None:
    async def main() -> None:
        async with msgr_pair(embedded=embedded) as p:
            for msgr, d in ((p.client, p.cd), (p.server, p.sd)):
                lo = msgr.get_loopback_connection()
                assert lo.is_loopback
                assert lo.is_connected()
                # connect_to our own address is the loopback connection too
                if msgr is p.server:
                    assert msgr.connect_to(EntityType.OSD, msgr.my_addrs) is lo
                lo.send_message(MPing(data=b"self"))  # fast path
                lo.send_message(MCommand(cmd=["queued"]))  # normal path
                await d.wait_count(2)
                assert [type(m) for m in d.preprocessed] == [MPing, MCommand]
                assert [m.connection for m in d.got] == [lo, lo]
                assert d.fast[0][0].type == MPing.TYPE
                assert d.queued[0][0].type == MCommand.TYPE
                assert session_of(lo).count == 2
                assert d.got[0].src == msgr.my_name
    run(main)


# -- SimpleMsgr2Test --------------------------------------------------------------------


@modes
def test_msgr2_bindv_v2_and_v1(embedded: bool) -> None:
    async def main() -> None:
        async with msgr_pair(embedded=embedded,
                             server_addr="[v2:127.0.0.1:0,v1:127.0.0.1:0]") as p:
            addrs = p.server.my_addrs
            assert [a.type for a in addrs] == [AddrType.MSGR2, AddrType.LEGACY]
            assert addrs.addrs[0].port != addrs.addrs[1].port
            con = await p.connect()
            assert con.peer_addrs == addrs
            con.send_message(MPing())
            await p.cd.wait_count(1)
            p.client.mark_down(addrs)
            await p.cd.wait_for(p.cd.resets)
            assert not con.is_connected()
            con2 = await p.connect()
            con2.send_message(MPing())
            await p.cd.wait_count(2)
    run(main)


@pytest.mark.parametrize("port", ["v2", "v1"])
def test_banner_of_the_other_protocol_is_a_clear_fault(
        port: str, caplog: pytest.LogCaptureFixture) -> None:
    """A v1 banner on the v2 port, or a v2 banner on the v1 port: BannerMismatch
    naming the protocol the peer speaks, and the half-accepted connection stops."""
    async def main() -> None:
        async with msgr_pair(server_addr="[v2:127.0.0.1:0,v1:127.0.0.1:0]") as p:
            addr = p.server.my_addrs.msgr2_addr if port == "v2" else \
                p.server.my_addrs.legacy_addr
            assert addr is not None
            reader, writer = await asyncio.open_connection(addr.host, addr.port)
            # a v1 client sends exactly its 9-byte banner, then waits for ours;
            # a msgr2 client sends its banner prefix and payload at once
            writer.write(V1_BANNER if port == "v2" else encode_banner())
            got = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            if port == "v2":
                assert got.startswith(b"ceph v2\n")
                assert len(got) == BANNER_LEN  # our banner, then nothing but the close
            else:
                assert got.startswith(V1_BANNER)
                assert len(got) == SERVER_HELLO_LEN  # banner and two addresses
            await p.sd.wait_for(p.sd.resets)  # the half-accepted connection was stopped
            assert p.server.get_connections() == []
            assert p.sd.accepts == []
    with caplog.at_level(logging.INFO, logger="asyncmsgr.ms.protocol"):
        run(main)
    other = "msgr v1" if port == "v2" else "msgr2"
    assert any("BannerMismatch" in r.getMessage() and f"peer speaks {other}" in r.getMessage()
               for r in caplog.records)


# -- FeatureTest ------------------------------------------------------------------------

_REQUIRED_BITS = (0x3FF | (1 << 13))  # bits 0-9 and 13, as in Ceph's FeatureTest


@modes
def test_feature_required_by_server(embedded: bool) -> None:
    async def main() -> None:
        cfg = make_config(embedded)
        server, sd = await make_server(
            cfg, policy=Policy.stateless_server(features_required=_REQUIRED_BITS))
        lacking = Policy.lossy_client().replace(
            features_supported=CEPH_FEATURES_SUPPORTED_DEFAULT & ~(1 << 13))
        client, cd = await make_client(cfg, policy=lacking)
        client2, cd2 = await make_client(cfg)
        try:
            con = as_async(client.connect_to(EntityType.OSD, server.my_addrs))
            con.send_message(MPing())
            # the server refuses the identity; the half-accepted connection stops
            await sd.wait_for(sd.resets, timeout=5)
            refused = sd.resets[0]
            counts = as_async(refused).core.handshake_counts
            assert counts.get("send_IDENT_MISSING_FEATURES") == 1
            assert "ready" not in counts
            assert not con.is_connected()
            assert sd.accepts == []
            assert cd.connects == []
            assert sd.count() == 0
            con.mark_down()
            # with the bit the client gets through
            con2 = as_async(client2.connect_to(EntityType.OSD, server.my_addrs))
            await asyncio.wait_for(con2.wait_connected(), 5)
            assert con2.features & (1 << 13)
            con2.send_message(MPing())
            await cd2.wait_count(1)
            assert sd.count() == 1
        finally:
            await stop(client, client2, server)
    run(main)


# -- TimeoutTest ------------------------------------------------------------------------


@modes
def test_idle_timeout(embedded: bool) -> None:
    async def main() -> None:
        cfg = make_config(embedded, ms_connection_idle_timeout=1.0)
        async with msgr_pair(config=cfg) as p:
            con = await p.connect()
            con.send_message(MPing())
            await p.cd.wait_count(1)
            idle_from = time.monotonic()
            assert con.is_connected()
            await p.cd.wait_for(p.cd.resets, timeout=3)
            assert time.monotonic() - idle_from >= 0.9
            assert p.cd.resets == [con]
            assert not con.is_connected()
            await p.sd.wait_for(p.sd.resets, timeout=3)  # both sides timed out
    run(main)


# -- StatelessTest ----------------------------------------------------------------------


@modes
def test_stateless_server_mark_down(embedded: bool) -> None:
    async def main() -> None:
        async with msgr_pair(embedded=embedded) as p:
            con = await p.connect()
            con.send_message(MPing())
            await p.cd.wait_count(1)
            server_con = p.sd.got[0].connection
            assert server_con is not None
            # the stateless server registers no lossy client: it is anonymous there
            assert server_con.peer_type == EntityType.CLIENT
            server_con.mark_down()
            assert not server_con.is_connected()
            con.send_keepalive()
            await p.cd.wait_for(p.cd.resets)
            assert p.cd.resets == [con]
            assert not con.is_connected()
            assert p.sd.resets == []  # Connection.mark_down: no callback on that side
            con2 = await p.connect()
            assert con2 is not con
            con2.send_message(MPing())
            await p.cd.wait_count(2)
            assert session_of(con2).count == 1
    run(main)


# -- AnonTest ---------------------------------------------------------------------------


@modes
def test_anon_connections_are_distinct(embedded: bool) -> None:
    async def main() -> None:
        async with msgr_pair(embedded=embedded) as p:
            a = await p.connect(anon=True)
            b = await p.connect(anon=True)
            assert a is not b
            assert a.is_anon
            assert b.is_anon
            a.send_message(MPing(data=b"a"))
            b.send_message(MPing(data=b"b"))
            await p.cd.wait_count(2)
            assert session_of(a).count == 1
            assert session_of(b).count == 1
            assert bytes(session_of(a).received[0].data) == b"a"
            assert bytes(session_of(b).received[0].data) == b"b"
            server_cons = {m.connection for m in p.sd.got}
            assert len(server_cons) == 2
            for sc in server_cons:
                assert sc is not None
                assert session_of(sc).count == 1
            # a registered connection is yet another one
            c = await p.connect()
            assert c is not a
            assert c is not b
    run(main)


# -- MessageTest ------------------------------------------------------------------------


@modes
def test_large_messages(embedded: bool) -> None:
    async def main() -> None:
        async with msgr_pair(embedded=embedded, server_policy=Policy.stateful_server(),
                             client_policy=Policy.lossless_peer()) as p:
            con = await p.connect()
            cmd = [f"{i:026d}" for i in range(30720)]  # 30,720 x 26 bytes
            data = bytes(i % 251 for i in range(30720 * 26))
            con.send_message(MCommand(cmd=cmd))
            con.send_message(MPing(data=data))
            await p.sd.wait_count(2)
            first, second = p.sd.got  # MPing is fast-dispatched: compare by type
            by_type = {type(first): first, type(second): second}
            got_cmd = by_type[MCommand]
            assert isinstance(got_cmd, MCommand)
            assert len(got_cmd.front) > 800_000
            assert got_cmd.cmd == cmd
            assert bytes(by_type[MPing].data) == data
            # the two echoes come back with the same data
            await p.cd.wait_count(2)
            assert sorted(len(m.data) for m in p.cd.got) == [0, len(data)]
            assert any(bytes(m.data) == data for m in p.cd.got)
    run(main)


# -- ms_handle_refused ------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@modes
def test_refused(embedded: bool) -> None:
    async def main() -> None:
        client, cd = await make_client(make_config(embedded))
        try:
            addr = EntityAddr.from_host("127.0.0.1", _closed_port(), type=AddrType.MSGR2,
                                        nonce=1)
            con = client.connect_to(EntityType.OSD, EntityAddrVec((addr,)))
            con.send_message(MPing())
            await cd.wait_for(cd.refused)
            assert cd.refused[0] is con
            assert not con.is_connected()
            assert cd.connects == []
        finally:
            await stop(client)
    run(main)


# -- the asyncio face -------------------------------------------------------------------


def test_async_with_and_wait_acked() -> None:
    async def main() -> None:
        cfg = make_config()
        sd = FakeDispatcher(is_server=True)
        cd = FakeDispatcher(is_server=False)
        async with Messenger.create("osd.0", config=cfg) as server, \
                Messenger.create("client.-1", config=cfg) as client:
            server.set_default_policy(Policy.stateful_server())
            await server.bind("v2:127.0.0.1:0")
            server.add_dispatcher_tail(sd)
            client.set_default_policy(Policy.lossless_client())
            client.add_dispatcher_tail(cd)
            assert server.started
            assert client.started
            con = as_async(client.connect_to(EntityType.OSD, server.my_addrs))
            m = MPing(data=b"ack me")
            con.send_message(m)  # queued before the session is up
            await asyncio.wait_for(con.wait_connected(), 5)
            # two waiters on one message both resolve
            await asyncio.wait_for(asyncio.gather(con.wait_acked(m), con.wait_acked(m)), 5)
            assert m.seq == 1
            assert con.core.session.sent == type(con.core.session.sent)()
            # already acknowledged: resolves at once
            await asyncio.wait_for(con.wait_acked(m), 1)
            await cd.wait_count(1)
        assert not server.started
        assert not client.started
        # after the block, the connection is closed
        assert not con.is_connected()
        with pytest.raises(ConnectionClosed):
            await con.wait_connected()
    run(main)


@modes
def test_waiters_on_settled_state_resolve_at_once(embedded: bool) -> None:
    """``wait_connected`` on a connection already up (and ``wait_acked`` on a message
    already acknowledged) are settled by the worker thread, which must wake the
    caller's loop: before the fix they only returned when some unrelated timer
    woke that loop."""
    async def main() -> None:
        async with msgr_pair(embedded=embedded, server_policy=Policy.stateful_server(),
                             client_policy=Policy.lossless_client()) as p:
            con = await p.connect()
            m = MPing()
            con.send_message(m)
            await asyncio.wait_for(con.wait_acked(m), 5)
            for _ in range(3):
                t0 = time.monotonic()
                await asyncio.wait_for(con.wait_connected(), 5)
                await asyncio.wait_for(con.wait_acked(m), 5)
                assert time.monotonic() - t0 < 0.5
    run(main)


def test_wait_acked_raises_on_lossy() -> None:
    async def main() -> None:
        async with msgr_pair() as p:
            con = await p.connect()
            m = MPing()
            con.send_message(m)
            with pytest.raises(ValueError, match="lossy"):
                await con.wait_acked(m)
            await p.cd.wait_count(1)
    run(main)


@modes
def test_wait_acked_raises_when_server_makes_session_lossy(embedded: bool) -> None:
    """A lossless client of a stateless server learns in SERVER_IDENT that the
    session is lossy: a waiter registered before that must not hang."""
    async def main() -> None:
        async with msgr_pair(embedded=embedded,
                             client_policy=Policy.lossless_client()) as p:
            con = as_async(p.client.connect_to(EntityType.OSD, p.server.my_addrs))
            m = MPing()
            con.send_message(m)
            with pytest.raises(ValueError, match="lossy"):
                await asyncio.wait_for(con.wait_acked(m), 5)
            await asyncio.wait_for(con.wait_connected(), 5)
            assert con.core.lossy
    run(main)


@modes
def test_wait_acked_after_mark_down_raises(embedded: bool) -> None:
    async def main() -> None:
        async with msgr_pair(embedded=embedded, server_policy=Policy.stateful_server(),
                             client_policy=Policy.lossless_client()) as p:
            con = await p.connect()
            acked = MPing()
            con.send_message(acked)
            await asyncio.wait_for(con.wait_acked(acked), 5)
            con.mark_down()
            late = MPing()
            con.send_message(late)  # dropped: the connection is closed
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(con.wait_acked(late), 5)
            # a message acknowledged before the close still counts as acknowledged
            await asyncio.wait_for(con.wait_acked(acked), 5)
    run(main)


# -- shutdown leaves nothing behind -----------------------------------------------------


@modes
def test_shutdown_leaves_no_threads_or_tasks(embedded: bool) -> None:
    def workers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("msgr-worker-")]

    assert workers() == []

    async def main() -> None:
        before = asyncio.all_tasks()
        async with msgr_pair(embedded=embedded) as p:
            cons = [await p.connect(anon=True) for _ in range(3)]
            for con in cons:
                con.send_message(MPing())
            await p.cd.wait_count(3)
            if not embedded:
                assert len(workers()) == 2 * p.config.ms_async_op_threads
        assert workers() == []
        assert asyncio.all_tasks() == before
        for con in cons:
            assert not con.is_connected()
    run(main)
    assert workers() == []


# -- many connections -------------------------------------------------------------------


@modes
def test_200_connections(embedded: bool) -> None:
    n = 200

    async def main() -> None:
        async with msgr_pair(embedded=embedded) as p:
            cons = [as_async(p.client.connect_to(EntityType.OSD, p.server.my_addrs,
                                                 anon=True)) for _ in range(n)]
            assert len({c.conn_id for c in cons}) == n
            for i, con in enumerate(cons):
                con.send_message(MPing(data=i.to_bytes(4, "little")))
            await p.cd.wait_count(n, timeout=15)
            await p.sd.wait_count(n)
            for i, con in enumerate(cons):
                s = session_of(con)
                assert s.count == 1
                assert int.from_bytes(s.received[0].data, "little") == i
            server_cons = {m.connection for m in p.sd.got}
            assert len(server_cons) == n
            assert len(p.server.get_connections()) == n
            assert len(p.client.get_connections()) == n
        assert p.server.get_connections() == []
        assert p.client.get_connections() == []
    run(main, timeout=30)


@modes
def test_perf_counters_follow_traffic(embedded: bool) -> None:
    async def main() -> None:
        async with msgr_pair(embedded=embedded) as p:
            con = await p.connect()
            for _ in range(10):
                con.send_message(MPing(data=b"x" * 1000))
            await p.cd.wait_count(10)
            client = p.client.perf_dump()
            worker = next(v for k, v in client.items() if k.startswith("AsyncMessenger::"))
            assert worker["msgr_send_messages"] == 10
            assert worker["msgr_recv_messages"] == 10
            assert isinstance(worker["msgr_send_bytes"], int)
            assert worker["msgr_send_bytes"] > 10 * 1000
            lat = worker["msgr_send_messages_queue_lat"]
            assert isinstance(lat, dict)
            assert lat["avgcount"] == 10
            recv_time = worker["msgr_running_recv_time"]
            assert isinstance(recv_time, float)
            assert recv_time > 0
            assert any(k.startswith("throttle-msgr_dispatch_throttler") for k in client)
    run(main)
