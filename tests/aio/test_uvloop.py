"""``asyncmsgr_use_uvloop``: threaded workers run uvloop when it is installed."""

from __future__ import annotations

import asyncio
import sys

import pytest

from asyncmsgr.aio.event_center import loop_name, uvloop_factory
from asyncmsgr.cli import benchlib
from asyncmsgr.config import MessengerConfig
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy


def _threaded(use_uvloop: bool) -> MessengerConfig:
    return MessengerConfig(asyncmsgr_embedded=False, ms_async_op_threads=2,
                           asyncmsgr_use_uvloop=use_uvloop)


async def _loop_of(config: MessengerConfig) -> str | None:
    msgr = Messenger.create("client.1", config=config)
    msgr.start()
    try:
        return msgr.event_loop_name
    finally:
        msgr.shutdown()
        await msgr.wait()


def test_workers_run_asyncio_unless_asked() -> None:
    assert asyncio.run(_loop_of(_threaded(False))) == "asyncio"


def test_workers_fall_back_to_asyncio_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop raises ImportError
    assert uvloop_factory() is None
    assert asyncio.run(_loop_of(_threaded(True))) == "asyncio"


def test_embedded_messenger_reports_the_callers_loop() -> None:
    config = MessengerConfig(asyncmsgr_use_uvloop=True)  # embedded: the caller's loop
    assert asyncio.run(_loop_of(config)) == "asyncio"


@pytest.mark.timeout(60)
def test_threaded_messengers_exchange_messages_over_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop")
    config = _threaded(True)

    async def main() -> benchlib.ClientResult:
        msgr, _server = await benchlib.start_server(config, "v2:127.0.0.1:0",
                                                    Policy.stateless_server())
        try:
            assert msgr.event_loop_name == "uvloop"
            assert all(isinstance(w.center.loop, uvloop.Loop) for w in msgr.workers)
            opts = benchlib.ClientOptions(addr=str(msgr.my_addrs), mode="request", size=64,
                                          duration=None, ios=200, concurrency=4)
            return await benchlib.run_client(config, opts)
        finally:
            msgr.shutdown()
            await msgr.wait()

    result = asyncio.run(main())
    assert result.errors == []
    assert result.messages == 200
    assert result.event_loop == "uvloop"


def test_loop_name() -> None:
    plain = asyncio.new_event_loop()
    try:
        assert loop_name(plain) == "asyncio"
    finally:
        plain.close()
    uvloop = pytest.importorskip("uvloop")
    fast = uvloop.new_event_loop()
    try:
        assert loop_name(fast) == "uvloop"
    finally:
        fast.close()
