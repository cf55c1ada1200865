"""Logging on the command line and through the API: ``--debug_ms 20/5``,
``--log-file``, ``--log_to_stderr``, quiet by default, every subcommand taking
the options, and ``debug_monc >= 1`` saying what hunting waits for."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from asyncmsgr import log as ceph_log
from asyncmsgr.cli.main import main
from asyncmsgr.config import MessengerConfig
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.message import Message
from asyncmsgr.messages import MPing
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.testing.fake_cluster import FakeCluster
from asyncmsgr.types import EntityType

REPO = Path(__file__).resolve().parents[2]
CAPTURE = REPO / "tests" / "data" / "captures" / "v2-crc-none-status.pcap"
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4} [0-9a-f]+ +(-?\d+) (.*)$")
BENCH = ["bench", "--ios", "40", "--size", "64", "--json"]


def log_lines(text: str) -> list[tuple[int, str]]:
    """``(level, subsystem prefix + message)`` of every Ceph-format line in ``text``."""
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            out.append((int(m.group(1)), m.group(2)))
    return out


def test_quiet_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(BENCH, env={}) == 0
    assert log_lines(capsys.readouterr().err) == []


def test_debug_ms_20_5(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BENCH, "--debug_ms", "20/5"], env={}) == 0
    lines = log_lines(capsys.readouterr().err)
    ms = [(level, text) for level, text in lines if text.startswith("-- ")]
    assert ms, lines
    levels = {level for level, _ in ms}
    assert 1 in levels  # message lines (<== / -->)
    assert any(level >= 10 for level in levels)  # state changes
    assert any("<==" in text for _, text in ms)


def test_debug_ms_1_written_and_gathered(capsys: pytest.CaptureFixture[str]) -> None:
    """``1/10`` writes level 1 only; level 10 lines are kept in the recent ring."""
    assert main([*BENCH, "--debug-ms=1/10"], env={}) == 0
    written = log_lines(capsys.readouterr().err)
    assert written
    assert {level for level, _ in written} == {1}
    handler = ceph_log.current_handler()
    assert handler is not None
    gathered = log_lines("\n".join(handler.recent))
    assert any(level == 10 for level, _ in gathered)


def test_log_file_without_stderr(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log_file = tmp_path / "bench.log"
    assert main([*BENCH, "--debug_ms", "1", "--log-file", str(log_file),
                 "--log_to_stderr=false"], env={}) == 0
    assert log_lines(capsys.readouterr().err) == []
    lines = log_lines(log_file.read_text())
    assert lines
    assert all(text.startswith("-- ") for _, text in lines)


def test_ceph_args_environment(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log_file = tmp_path / "env.log"
    assert main(BENCH, env={"CEPH_ARGS": f"--debug_ms=1 --log_file={log_file}"}) == 0
    assert log_lines(log_file.read_text())


def test_bad_level_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BENCH, "--debug_ms", "lots"], env={}) == 2
    err = capsys.readouterr().err
    assert "error setting 'debug_ms' to 'lots' (value must take the form N or N/M" in err


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeCluster]:
    """A fake cluster (auth none) with a ceph.conf."""
    conf_dir = tmp_path_factory.mktemp("fc")
    with FakeCluster(osds=1, pools=("test",), auth="none", conf_dir=conf_dir) as c:
        yield c


@pytest.mark.parametrize(("tool", "argv", "subsystem"), [
    ("ceph", ["health"], "monclient: "),
    ("rados", ["lspools"], "-- "),
])
def test_own_argument_tools_log(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                cluster: FakeCluster, tool: str, argv: list[str],
                                subsystem: str) -> None:
    """``ceph`` and ``rados`` read the options from their command line (the fake
    cluster's ceph.conf says log_file=/dev/null, log_to_stderr=false: the command
    line wins)."""
    log_file = tmp_path / f"{tool}.log"
    conf = str(cluster.conf_path)
    assert main([tool, "-c", conf, *argv], env={}) == 0
    assert log_lines(capsys.readouterr().err) == []
    assert main([tool, "-c", conf, *argv, "--debug_ms", "1", "--debug_monc", "10",
                 "--log-file", str(log_file)], env={}) == 0
    assert any(text.startswith(subsystem) for _, text in log_lines(log_file.read_text()))


def test_every_subcommand_takes_the_options(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    opts = ["--debug_ms", "1", "--debug_crush", "5", "--log-file", str(tmp_path / "x.log"),
            "--log_to_stderr=false"]
    assert main(["decode", str(CAPTURE), *opts], env={}) == 0
    assert main(["stress", "--servers", "1", "--clients", "1", "--ops", "20",
                 "--max-payload", "1K", *opts], env={}) == 0
    mapfile = REPO / "tests" / "data" / "osdmap" / "simple3.osdmap"
    assert main(["osdmaptool", str(mapfile), "--test-map-pg", "1.0", *opts], env={}) == 0
    assert "1.0 raw (" in capsys.readouterr().out


def silent_listener() -> socket.socket:
    """A port that accepts and never says a word (a monitor that hangs)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    return s


def test_debug_monc_says_what_hunting_waits_for(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    with silent_listener() as s:
        port = s.getsockname()[1]
        conf = tmp_path / "ceph.conf"
        conf.write_text(f"[global]\nmon_host = 127.0.0.1:{port}\nauth_client_required = none\n")
        argv = ["ceph", "-c", str(conf), "--connect-timeout", "1",
                "--mon_client_hunt_interval", "0.3", "health"]
        assert main(argv, env={}) == 1
        quiet = capsys.readouterr().err
        assert log_lines(quiet) == []
        assert "timed out" in quiet
        assert main([*argv, "--debug_monc", "1"], env={}) == 1
        lines = [text for _, text in log_lines(capsys.readouterr().err)]
    waiting = [t for t in lines if t.startswith("monclient: hunting: waiting for a monitor")]
    assert waiting
    assert f"127.0.0.1:{port}" in waiting[0]
    assert any("answered within 0.3 s" in t for t in lines), lines


def test_api_messenger_logs_when_given_an_option(tmp_path: Path) -> None:
    """A program's messenger with ``debug_ms`` set logs to its ``log_file`` (and not
    to stderr: a library's default)."""
    log_file = tmp_path / "client.7.log"
    config = MessengerConfig(debug_ms="1", log_file=str(tmp_path / "$name.log"))

    class Got(Dispatcher):
        def __init__(self) -> None:
            self.event = asyncio.Event()

        def ms_dispatch(self, m: Message) -> bool:
            self.event.set()
            return True

    async def run() -> None:
        got = Got()
        server = Messenger.create("osd.0", config=MessengerConfig())
        server.set_default_policy(Policy.stateless_server())
        await server.bind("v2:127.0.0.1:0")
        server.add_dispatcher_head(got)
        server.start()
        client = Messenger.create("client.7", config=config)
        client.set_default_policy(Policy.lossy_client())
        client.start()
        con = client.connect_to(EntityType.OSD, server.my_addrs)
        con.send_message(MPing())
        await got.event.wait()
        for m in (client, server):
            m.shutdown()
            await m.wait()

    asyncio.run(asyncio.wait_for(run(), 20))
    handler = ceph_log.current_handler()
    assert handler is not None
    assert not handler.settings.log_to_stderr
    lines = log_lines(log_file.read_text())
    assert any(text.startswith(("-- --> ", "-- <== ")) for _, text in lines), \
        lines
