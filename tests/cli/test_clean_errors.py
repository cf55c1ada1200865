"""Issue 13's clean errors for ``bench`` and ``stress`` (and a messenger refusing an
oversized frame): one line saying what is wrong, the right exit status, at once.

The ``asyncmsgr ceph`` counterparts (``--connect-timeout -1``, unknown ``--ms_*``
options, a wrong key, ``--id nobody``, an unresolvable ``-m`` host, a garbage
keyring, a missing conf file) are compared with the real ``ceph`` in
``tests/interop/test_ceph_cli_errors.py``; ``decode``'s in
``tests/unit/test_decode_damaged.py``.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
import time
from collections.abc import Iterator

import pytest

from asyncmsgr.cli.main import main
from asyncmsgr.config import MessengerConfig
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.message import Message
from asyncmsgr.messages import MPing
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.types import EntityType


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """(exit status, stderr) of an in-process run."""
    status = main(list(argv), env={})
    return status, capsys.readouterr().err


def last_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert lines, "nothing said"
    return lines[-1]


@pytest.mark.parametrize(("argv", "words"), [
    (["bench", "--size", "100G"], "100G is more than a message carries (4294967295 bytes"),
    (["bench", "--size", "1G", "--ios", "1"],
     "is above asyncmsgr_max_data_segment (67108864), the largest data segment"),
    (["stress", "--max-payload", "100G"],
     "--max-payload 107374182400 is above asyncmsgr_max_data_segment (67108864)"),
    (["stress", "--servers", "1000", "--clients", "1000"],
     "1000 servers and 1000 clients need 2000 ports; ms_bind_port_min..ms_bind_port_max "
     "(6800-7300) has 501"),
    (["bench", "client", "--addr", "garbage"], "invalid address 'garbage'"),
    (["bench", "--ms_foo", "1"], "unknown option '--ms_foo'"),
    (["stress", "--ms-bind-port-mn", "3"],
     "unknown option '--ms-bind-port-mn'; did you mean ms_bind_port_min"),
])
def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], argv: list[str],
                                   words: str) -> None:
    status, err = run(capsys, *argv)
    assert status == 2
    assert "Traceback" not in err
    assert words in err
    assert sum(words in line for line in err.splitlines()) == 1


def test_too_many_connections_for_the_fd_limit(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda _which: (256, 256))
    status, err = run(capsys, "stress", "--servers", "2", "--clients", "2",
                      "--max-connections", "500")
    assert status == 2
    assert "the limit is 256 (ulimit -n)" in last_line(err)


@pytest.mark.parametrize("option", [["bench"], ["bench", "client", "--addr", "v2:1.2.3.4:5"],
                                    ["stress"]])
def test_negative_sizes_worded_alike(capsys: pytest.CaptureFixture[str],
                                     option: list[str]) -> None:
    """``-4K`` looks like an option to argparse, ``-1`` does not: both get the same
    message, the value quoted as given."""
    flag = "--max-payload" if option[0] == "stress" else "--size"
    words = []
    for value in ("-4K", "-1"):
        status, err = run(capsys, *option, flag, value)
        assert status == 2
        line = last_line(err)
        assert line.endswith(f"must not be negative, got {value}"), line
        words.append(line.replace(value, "V"))
    assert words[0] == words[1]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield int(s.getsockname()[1])


@pytest.mark.parametrize("how", ["addr", "range"])
def test_busy_port_fails_at_once_naming_it(capsys: pytest.CaptureFixture[str],
                                           busy_port: int, how: str) -> None:
    if how == "addr":
        argv = ["bench", "server", "--addr", f"v2:127.0.0.1:{busy_port}"]
        words = f"port {busy_port}: Address already in use"
    else:
        argv = ["bench", "server", f"--ms_bind_port_min={busy_port}",
                f"--ms_bind_port_max={busy_port}"]
        words = (f"to any port of ms_bind_port_min..ms_bind_port_max "
                 f"({busy_port}-{busy_port}): Address already in use")
    t0 = time.monotonic()
    status, err = run(capsys, *argv)
    assert time.monotonic() - t0 < 5  # not ms_bind_retry_count x ms_bind_retry_delay
    assert status == 1
    assert words in last_line(err)


def test_stress_bind_failure_is_one_line(capsys: pytest.CaptureFixture[str],
                                         busy_port: int) -> None:
    status, err = run(capsys, "stress", "--servers", "1", "--clients", "1", "--ops", "5",
                      f"--ms_bind_port_min={busy_port}", f"--ms_bind_port_max={busy_port + 1}")
    # two messengers and two ports, one of them taken: a bind fails, said once
    assert status == 1
    line = last_line(err)
    assert line.startswith("asyncmsgr stress: unable to bind")
    assert f"ms_bind_port_min..ms_bind_port_max ({busy_port}-{busy_port + 1})" in line


def test_oversized_data_segment_named_on_both_sides(caplog: pytest.LogCaptureFixture) -> None:
    """A message above the peer's asyncmsgr_max_data_segment: the sender warns as it
    queues it, the receiver names the option when it drops the connection."""
    limit = 4096
    config = MessengerConfig(asyncmsgr_max_data_segment=limit)

    class Sink(Dispatcher):
        def ms_dispatch(self, m: Message) -> bool:
            return True

    async def go() -> None:
        server = Messenger.create("osd.0", config=config)
        server.set_default_policy(Policy.stateless_server())
        await server.bind("v2:127.0.0.1:0")
        server.add_dispatcher_head(Sink())
        server.start()
        client = Messenger.create("client.1", config=config)
        client.set_default_policy(Policy.lossy_client())
        client.add_dispatcher_head(Sink())
        client.start()
        try:
            con = client.connect_to(EntityType.OSD, server.my_addrs)
            con.send_message(MPing(data=bytes(limit + 1)))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                    "refused a frame" in r.getMessage() for r in caplog.records):
                await asyncio.sleep(0.01)
        finally:
            for m in (client, server):
                m.shutdown()
                await m.wait()

    with caplog.at_level(logging.WARNING, logger="asyncmsgr"):
        asyncio.run(asyncio.wait_for(go(), 30))
    messages = [r.getMessage() for r in caplog.records]
    sender = [m for m in messages if "with a data segment of 4097 bytes" in m]
    assert sender
    assert f"above asyncmsgr_max_data_segment = {limit}" in sender[0]
    receiver = [m for m in messages if "refused a frame" in m]
    assert receiver, messages
    assert f"the limit is asyncmsgr_max_data_segment = {limit}" in receiver[0]
