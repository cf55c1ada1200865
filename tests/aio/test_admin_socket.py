"""The admin socket served to the real ``ceph --admin-daemon`` and ``ceph daemon``,
and the Prometheus exporter scraped over HTTP.

One module-scoped pair of messengers (``osd.0`` and ``client.-1``) shares one
:class:`~asyncmsgr.context.Context` with ``admin_socket =
$run_dir/$cluster-$name.asok`` and ``asyncmsgr_prometheus_addr =
127.0.0.1:0``; they run on an event loop in a thread of their own while the
tests call the real tool (skipped when ``ceph`` is not installed; CI has it).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from asyncmsgr import __version__
from asyncmsgr.config import MessengerConfig
from asyncmsgr.connection import Connection
from asyncmsgr.context import Context
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.message import Message
from asyncmsgr.messages import MPing
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.types import EntityType

CEPH = shutil.which("ceph")
needs_ceph = pytest.mark.skipif(CEPH is None, reason="the ceph tool is not installed "
                                "(apt-get install ceph-common; see .ci/run)")


class _Counting(Dispatcher):
    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def ms_dispatch(self, m: Message) -> bool:
        with self.changed:
            self.count += 1
            self.changed.notify_all()
        return True

    def wait_count(self, n: int, timeout: float = 10.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.count >= n, timeout), \
                f"{self.count} of {n} messages arrived"


class Live:
    """Two messengers in one context on a loop thread; :meth:`send` pings the server."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        config = MessengerConfig(admin_socket="$run_dir/$cluster-$name.asok",
                                 run_dir=str(run_dir), asyncmsgr_prometheus_addr="127.0.0.1:0")
        self.context = Context(config, name="osd.0", cluster="testclu")
        self.server_d = _Counting()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.server: Messenger | None = None
        self.client: Messenger | None = None
        self.con: Connection | None = None
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self._ready.wait(20), "the messengers did not start"
        if self._error is not None:
            raise self._error

    @property
    def asok(self) -> Path:
        return self.run_dir / "testclu-osd.0.asok"

    def _run(self) -> None:
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            config = self.context.config
            server = Messenger.create("osd.0", config=config, context=self.context)
            server.set_default_policy(Policy.stateless_server())
            await server.bind("v2:127.0.0.1:0")
            server.add_dispatcher_head(self.server_d)
            server.start()
            client = Messenger.create("client.-1", config=config, context=self.context)
            client.set_default_policy(Policy.lossy_client())
            client.add_dispatcher_head(_Counting())
            client.start()
            self.server, self.client = server, client
            con = client.connect_to(EntityType.OSD, server.my_addrs)
            self.con = con
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            raise
        self._ready.set()
        await self._stop.wait()
        for m in (client, server):
            m.shutdown()
        for m in (client, server):
            await asyncio.wait_for(m.wait(), 10)

    def send(self, n: int) -> None:
        """Send ``n`` pings and wait until the server has them."""
        before = self.server_d.count
        con = self.con
        assert con is not None

        def go() -> None:
            for i in range(n):
                con.send_message(MPing(data=bytes(100 + i)))
        self.loop.call_soon_threadsafe(go)
        self.server_d.wait_count(before + n)

    def stop(self) -> None:
        stop = self._stop
        if stop is not None:
            self.loop.call_soon_threadsafe(stop.set)
        self.thread.join(20)
        self.loop.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The messengers, with five pings delivered."""
    # a short directory: sun_path holds 107 bytes
    live = Live(tmp_path_factory.mktemp("asok"))
    try:
        live.send(5)
        yield live
    finally:
        live.stop()
    assert not live.asok.exists(), "the admin socket file outlived the context"


def ceph(*args: str, asok: Path, daemon: bool = False) -> subprocess.CompletedProcess[str]:
    """The real tool: ``ceph --admin-daemon ASOK ARGS`` (or ``ceph daemon ASOK ARGS``)."""
    assert CEPH is not None
    argv = [CEPH, "daemon", str(asok), *args] if daemon else \
        [CEPH, "--admin-daemon", str(asok), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


def ceph_json(*args: str, asok: Path) -> Any:
    done = ceph(*args, asok=asok)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def ceph_many(*commands: tuple[str, ...], asok: Path) -> list[tuple[int, str]]:
    """Several independent commands at once (the tool takes ~0.6 s to start):
    ``(exit status, stdout + stderr)`` of each, in order."""
    assert CEPH is not None
    procs = [subprocess.Popen([CEPH, "--admin-daemon", str(asok), *c], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for c in commands]
    out = []
    for p in procs:
        text, _ = p.communicate(timeout=30)
        out.append((p.returncode, text))
    return out


# -- the admin socket --------------------------------------------------------------------


def test_metavariables_expanded(live: Live) -> None:
    """``$run_dir/$cluster-$name.asok`` is bound at the expanded path."""
    assert live.asok.is_socket()
    assert live.context.admin_socket is not None
    assert live.context.admin_socket.path == str(live.asok)


@needs_ceph
def test_help_and_version(live: Live) -> None:
    helps = ceph_json("help", asok=live.asok)
    for prefix in ("config get", "config set", "config show", "config diff", "perf dump",
                   "perf schema", "version", "messenger status", "help"):
        assert prefix in helps, prefix
    version = ceph("version", asok=live.asok, daemon=True)  # ``ceph daemon PATH`` too
    assert version.returncode == 0, version.stderr
    assert json.loads(version.stdout)["version"] == __version__


@needs_ceph
def test_perf_dump_counts_the_messages(live: Live) -> None:
    """``perf dump`` sums the workers of both messengers; more pings, higher counts."""
    before = ceph_json("perf", "dump", asok=live.asok)
    workers = [k for k in before if k.startswith("AsyncMessenger::Worker-")]
    assert workers
    sent = sum(before[w]["msgr_send_messages"] for w in workers)
    received = sum(before[w]["msgr_recv_messages"] for w in workers)
    assert sent >= 5
    assert received >= 5
    live.send(3)
    after = ceph_json("perf", "dump", asok=live.asok)
    assert sum(after[w]["msgr_send_messages"] for w in workers) >= sent + 3
    assert sum(after[w]["msgr_recv_messages"] for w in workers) >= received + 3
    one = ceph_json("perf", "dump", workers[0], "msgr_send_messages", asok=live.asok)
    assert list(one) == [workers[0]]
    assert list(one[workers[0]]) == ["msgr_send_messages"]


@needs_ceph
def test_perf_schema_describes_every_counter(live: Live) -> None:
    schema = ceph_json("perf", "schema", asok=live.asok)
    dump = ceph_json("perf", "dump", asok=live.asok)
    assert set(schema) == set(dump)
    for logger, counters in dump.items():
        assert set(schema[logger]) == set(counters), logger
    worker = next(k for k in schema if k.startswith("AsyncMessenger::Worker-"))
    sent = schema[worker]["msgr_send_messages"]
    assert sent["metric_type"] == "counter"
    assert sent["type"] == 10
    throttle = next(k for k in schema if k.startswith("throttle-"))
    assert schema[throttle]["val"]["metric_type"] == "gauge"


@needs_ceph
def test_config_show_get_diff(live: Live) -> None:
    (s1, show_text), (s2, get_text), (s3, diff_text), (_, missing) = ceph_many(
        ("config", "show"), ("config", "get", "admin_socket"), ("config", "diff"),
        ("config", "get", "no_such_option"), asok=live.asok)
    assert s1 == s2 == s3 == 0
    show = json.loads(show_text)
    assert show["name"] == "osd.0"
    assert show["cluster"] == "testclu"
    assert show["run_dir"] == str(live.run_dir)
    assert show["ms_async_op_threads"] == "3"
    assert json.loads(get_text) == {"admin_socket": "$run_dir/$cluster-$name.asok"}
    diff = json.loads(diff_text)["diff"]
    assert diff["run_dir"]["override"] == str(live.run_dir)
    assert diff["run_dir"]["default"] == "/var/run/ceph"
    assert "ms_async_op_threads" not in diff
    assert "(2) No such file or directory" in missing


@needs_ceph
def test_config_set_takes_effect_at_runtime(live: Live, tmp_path: Path) -> None:
    """``config set log_file`` and ``debug_ms``: the next messages are logged there at
    level 1 (nothing before); ``ms_inject_socket_failures`` reaches the messengers;
    an option needing a restart says so."""
    log_file = tmp_path / "osd.log"
    live.send(2)
    assert ceph_json("config", "set", "log_file", str(log_file), asok=live.asok) == {
        "success": ""}
    live.send(2)
    assert not log_file.exists() or " -- " not in log_file.read_text()
    assert ceph_json("config", "set", "debug_ms", "1/5", asok=live.asok) == {"success": ""}
    live.send(2)
    lines = [line for line in log_file.read_text().splitlines() if " -- " in line]
    assert any(" 1 -- <== " in line and "MPing" in line for line in lines), lines
    assert ceph_json("config", "diff", asok=live.asok)["diff"]["debug_ms"] == {
        "default": "0/0", "override": "1/5", "final": "1/5"}

    assert ceph_json("config", "set", "ms_inject_socket_failures", "1000",
                     asok=live.asok) == {"success": ""}
    assert live.server is not None
    assert live.client is not None
    assert live.server.config.ms_inject_socket_failures == 1000
    assert live.client.injector.config.ms_inject_socket_failures == 1000
    (_, restart), (_, bad) = ceph_many(
        ("config", "set", "ms_tcp_nodelay", "false"), ("config", "set", "debug_ms", "lots"),
        asok=live.asok)
    assert "not observed, change may require restart" in json.loads(restart)["success"]
    assert "(22) Invalid argument" in bad
    live.context.store.set_many({"ms_inject_socket_failures": 0, "debug_ms": "0/0",
                                 "log_file": ""})
    assert live.client.config.ms_inject_socket_failures == 0


@needs_ceph
def test_messenger_status(live: Live) -> None:
    status = ceph_json("messenger", "status", asok=live.asok)
    by_name = {m["name"]: m for m in status["messengers"]}
    assert set(by_name) == {"osd.0", "client.?"}
    server, client = by_name["osd.0"], by_name["client.?"]
    assert server["did_bind"]
    assert server["started"]
    assert live.server is not None
    assert server["my_addrs"] == str(live.server.my_addrs)
    assert client["connections_count"] == 1
    con = client["connections"][0]
    assert con["state"] == "READY"
    assert con["protocol"] == "v2"
    assert con["lossy"]
    assert con["peer_addrs"] == str(live.server.my_addrs)
    assert con["peer_name"] == "osd.0"
    assert con["out_seq"] >= 5
    accepted = [c for c in server["connections"] if c["peer_name"].startswith("client.")]
    assert accepted
    assert accepted[0]["in_seq"] >= 5


# -- metrics ----------------------------------------------------------------------------


def scrape(live: Live) -> dict[str, Any]:
    """``/metrics`` parsed: family name -> family."""
    exporter = live.context.exporter
    assert exporter is not None, "prometheus-client is in the test extra"
    with urllib.request.urlopen(exporter.url, timeout=10) as reply:
        assert reply.status == 200
        text = reply.read().decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_metrics_scraped(live: Live) -> None:
    """Counter, gauge and summary as the counters' kinds say, labelled like the mgr's."""
    families = scrape(live)
    sent = families["ceph_asyncmessenger_worker_msgr_send_messages"]
    assert sent.type == "counter"
    samples = [s for s in sent.samples if s.name.endswith("_total")]
    assert samples
    assert all(s.labels["ceph_daemon"] == "osd.0" for s in samples)
    assert sum(s.value for s in samples) >= 5
    total_before = sum(s.value for s in samples)
    live.send(4)
    after = scrape(live)["ceph_asyncmessenger_worker_msgr_send_messages"]
    assert sum(s.value for s in after.samples if s.name.endswith("_total")) >= total_before + 4
    throttle_val = families["ceph_throttle_val"]
    assert throttle_val.type == "gauge"
    assert any("throttle" in s.labels for s in throttle_val.samples)
    summaries = [f for f in families.values() if f.type == "summary"]
    assert summaries, "time_avg counters are summaries"
    names = {s.name for s in summaries[0].samples}
    assert names == {summaries[0].name + "_count", summaries[0].name + "_sum"}


def test_a_messengers_own_context_serves_both(tmp_path: Path) -> None:
    """Through the API alone: a messenger given ``admin_socket`` and
    ``asyncmsgr_prometheus_addr`` in its config makes its context, which serves both
    while it runs and removes the socket when it stops."""
    config = MessengerConfig(admin_socket=str(tmp_path / "$name.asok"),
                             asyncmsgr_prometheus_addr="127.0.0.1:0")
    seen: dict[str, Any] = {}

    async def go() -> None:
        msgr = Messenger.create("osd.3", config=config)
        await msgr.bind("v2:127.0.0.1:0")
        msgr.start()
        try:
            context = msgr.context
            seen["asok"] = (tmp_path / "osd.3.asok").is_socket()
            assert context.exporter is not None
            with urllib.request.urlopen(context.exporter.url, timeout=10) as reply:
                seen["metrics"] = reply.read().decode()
        finally:
            msgr.shutdown()
            await msgr.wait()

    asyncio.run(asyncio.wait_for(go(), 30))
    assert seen["asok"]
    assert 'ceph_daemon="osd.3"' in seen["metrics"]
    assert not (tmp_path / "osd.3.asok").exists()
