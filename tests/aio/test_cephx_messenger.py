"""cephx over real sockets: an asyncmsgr client authenticates with a "mon"-role
messenger (CephxAuthServer as mon) to get tickets, then reaches an "osd"-role
messenger through the authorizer with challenge; crc and secure modes; wrong key;
a tampered secure frame; auth none alongside. Every test runs under ``run``'s
timeout and waits on events (or polls state no callback reports)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from msgr_harness import (
    FakeDispatcher,
    Recorder,
    as_async,
    make_client,
    make_config,
    make_server,
    run,
    stop,
)

from asyncmsgr.auth.cephx import CephxAuthServer, CephxClient, CryptoKey, Keyring, KeyServer
from asyncmsgr.frames.v2 import AUTH_CEPHX, AUTH_NONE, CON_MODE_CRC, CON_MODE_SECURE
from asyncmsgr.messages import MPing
from asyncmsgr.messenger import Messenger, mode_options
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.v1 import ProtocolV1
from asyncmsgr.types import AuthName, Buffer, EntityType

ADMIN = AuthName(EntityType.CLIENT, "admin")
ADMIN_KEY = CryptoKey.from_base64("AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==")
KEYRING = Keyring.from_text(f"""
[client.admin]
    key = {ADMIN_KEY.to_base64()}
    caps mon = "allow *"
    caps osd = "allow *"
""")


@dataclass
class Cluster:
    mon: Messenger
    osd: Messenger
    client: Messenger
    mon_d: FakeDispatcher
    osd_d: FakeDispatcher
    cd: FakeDispatcher
    auth: CephxClient


@asynccontextmanager
async def cluster(mode: str, *, key: CryptoKey = ADMIN_KEY,
                  methods: tuple[int, ...] = (AUTH_CEPHX,),
                  client_methods: tuple[int, ...] = (AUTH_CEPHX,),
                  osd_protocol: str = "v2") -> AsyncIterator[Cluster]:
    cfg = make_config(True, ms_mon_client_mode=mode, ms_client_mode=mode,
                      ms_mon_service_mode="secure crc", ms_service_mode="crc secure")
    modes = mode_options(cfg)
    ks = KeyServer(KEYRING, clock=time.time)
    mon_auth = CephxAuthServer(ks, AuthName(EntityType.MON, "a"), time.time, role="mon",
                               modes=modes, methods=methods)
    osd_auth = CephxAuthServer(ks, AuthName(EntityType.OSD, "0"), time.time, modes=modes,
                               methods=methods)
    auth = CephxClient(ADMIN, key, clock=time.time, modes=modes, methods=client_methods)
    mon, mon_d = await make_server(cfg, name="mon.0", auth_server=mon_auth)
    osd, osd_d = await make_server(cfg, name="osd.0", auth_server=osd_auth,
                                   protocol=osd_protocol)
    client, cd = await make_client(cfg, auth_client=auth)
    try:
        yield Cluster(mon, osd, client, mon_d, osd_d, cd, auth)
    finally:
        await stop(client, mon, osd)


async def ping(c: Cluster, server: Messenger, sd: FakeDispatcher, peer_type: int,
               data: bytes) -> ProtocolBase:
    before = c.cd.count()
    con = as_async(c.client.connect_to(peer_type, server.my_addrs))
    con.send_message(MPing(data=data))
    await con.wait_connected()
    await sd.rec.wait_until(lambda: any(bytes(m.data) == data for m in sd.got),
                            what="server got the ping")
    await c.cd.wait_count(before + 1)  # the server's echo: messages flow both ways
    assert bytes(c.cd.got[-1].data) == data
    return con.core


@pytest.mark.parametrize(("mode", "expect"), [("crc", CON_MODE_CRC),
                                              ("secure", CON_MODE_SECURE)])
def test_mon_then_osd_over_sockets(mode: str, expect: int) -> None:
    async def main() -> None:
        async with cluster(mode) as c:
            core = await ping(c, c.mon, c.mon_d, EntityType.MON, b"to the mon")
            assert core.auth_meta.con_mode == expect
            assert len(core.auth_meta.connection_secret) == (64 if mode == "secure" else 0)
            assert c.auth.global_id == 4096
            assert EntityType.OSD in c.auth.tickets
            core = await ping(c, c.osd, c.osd_d, EntityType.OSD, b"to the osd")
            assert core.auth_meta.con_mode == expect
            assert core.auth_meta.session_key == \
                c.auth.tickets[EntityType.OSD].session_key.secret
            (osd_con,) = c.osd_d.accepts
            assert as_async(osd_con).core.auth_meta.peer_name == ADMIN
            assert c.auth.last_error is None
    run(main, timeout=30)


def test_osd_over_msgr_v1_with_authorizer_and_signatures() -> None:
    """Tickets from the mon (msgr2), then the osd over msgr v1: a cephx authorizer
    with challenge in the connect messages, and every message signed with the
    ticket's session key in both directions (checked by the receiver)."""
    async def main() -> None:
        async with cluster("crc", osd_protocol="v1") as c:
            await ping(c, c.mon, c.mon_d, EntityType.MON, b"to the mon")
            core = await ping(c, c.osd, c.osd_d, EntityType.OSD, b"to the osd over v1")
            assert isinstance(core, ProtocolV1)
            key = c.auth.tickets[EntityType.OSD].session_key.secret
            assert core.sign_key == key
            assert core.handshake_counts.get("recv_CHALLENGE_AUTHORIZER") == 1
            (osd_con,) = c.osd_d.accepts
            server_core = as_async(osd_con).core
            assert isinstance(server_core, ProtocolV1)
            assert server_core.sign_key == key
            assert server_core.auth_meta.peer_name == ADMIN
            assert not as_async(osd_con).is_msgr2
    run(main, timeout=30)


def test_wrong_key_never_connects() -> None:
    async def main() -> None:
        async with cluster("secure", key=CryptoKey.aes(bytes(16))) as c:
            con = as_async(c.client.connect_to(EntityType.MON, c.mon.my_addrs))
            con.send_message(MPing(data=b"must not arrive"))
            rec = Recorder()
            await rec.wait_until(lambda: c.auth.last_error is not None, poll=0.01,
                                 what="the auth failure")
            assert "authentication failed for client.admin: permission denied" in \
                str(c.auth.last_error)
            assert not con.is_connected()
            assert not c.mon_d.got
            assert not c.mon_d.accepts
            assert not c.cd.connects
    run(main, timeout=30)


def test_tampered_secure_frame_faults_without_delivery(caplog: pytest.LogCaptureFixture
                                                       ) -> None:
    async def main() -> None:
        async with cluster("secure") as c:
            await ping(c, c.mon, c.mon_d, EntityType.MON, b"hello mon")
            con = as_async(c.client.connect_to(EntityType.OSD, c.osd.my_addrs))
            await con.wait_connected()
            assert con.core.auth_meta.con_mode == CON_MODE_SECURE
            real = con.core.data_to_send
            tampered: list[int] = []

            def flip(now: float) -> list[Buffer]:
                chunks = real(now)
                if chunks and not tampered:
                    last = bytearray(chunks[-1])
                    last[len(last) // 2] ^= 0x01
                    chunks[-1] = bytes(last)
                    tampered.append(1)
                return chunks

            con.core.data_to_send = flip  # type: ignore[method-assign]
            con.send_message(MPing(data=b"tampered in flight"))
            rec = Recorder()
            await rec.wait_until(
                lambda: any("DecryptError" in r.getMessage() for r in caplog.records),
                poll=0.01, what="the server's DecryptError fault")
            assert tampered
            assert not c.osd_d.got
    with caplog.at_level(logging.INFO, logger="asyncmsgr"):
        run(main, timeout=30)


@pytest.mark.parametrize(("methods", "client_methods"), [
    ((AUTH_CEPHX, AUTH_NONE), (AUTH_NONE,)),
    ((AUTH_NONE,), (AUTH_CEPHX, AUTH_NONE)),
])
def test_auth_none_alongside(methods: tuple[int, ...], client_methods: tuple[int, ...]
                             ) -> None:
    async def main() -> None:
        async with cluster("crc secure", methods=methods, client_methods=client_methods) as c:
            core = await ping(c, c.mon, c.mon_d, EntityType.MON, b"none to mon")
            assert core.auth_meta.auth_method == AUTH_NONE
            assert core.auth_meta.session_key == b""  # all-zero signatures
            core = await ping(c, c.osd, c.osd_d, EntityType.OSD, b"none to osd")
            assert core.auth_meta.auth_method == AUTH_NONE
            assert not c.auth.tickets
    run(main, timeout=30)

