"""A Ceph test double in one process: fake mons and OSDs the real tools accept.

:class:`FakeCluster` runs ``mons`` fake monitors
(:mod:`asyncmsgr.testing.fake_mon`) and ``osds`` fake OSDs
(:mod:`asyncmsgr.testing.fake_osd`) on 127.0.0.1, with an OSDMap built in code
(:mod:`asyncmsgr.testing.fake_osdmap`: every PG of every pool placed on the
fake OSDs by CRUSH), objects in memory, cephx (tickets for every service,
issued by the mons and checked by the OSDs) or auth none, msgr2 (crc and
secure) and/or msgr v1. The real ``ceph``, ``rados`` and librados clients use
it through the ``ceph.conf`` and keyring it writes (:meth:`FakeCluster.write_conf`).

Two ways to run it::

    async with FakeCluster(osds=3, pools=["test"]) as cluster:   # on this loop
        ...
    with FakeCluster(pools=["test"], conf_dir=tmp) as cluster:    # own thread
        subprocess.run(["rados", "-c", cluster.conf_path, "-p", "test", "ls"])

Every public method may be called from any thread (calls from outside the
cluster's loop are carried over to it and waited for). Hooks for tests:
:meth:`~FakeCluster.add_op_hook` (fail, delay or drop OSD ops),
:meth:`~FakeCluster.add_mon_command` (extra ``ceph`` commands),
:meth:`~FakeCluster.add_cls_method` (object class methods for CALL),
:meth:`~FakeCluster.set_health_check`, :meth:`~FakeCluster.mark_osd_down` /
``mark_osd_up`` / ``mark_osd_out`` / ``mark_osd_in``, :meth:`~FakeCluster.set_osdmap_flags`
(``pause``, ``full``...), and pool changes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple, TypeVar

from asyncmsgr.auth.base import AuthServer, ModeOptions
from asyncmsgr.auth.cephx import CephxAuthServer
from asyncmsgr.config import MessengerConfig
from asyncmsgr.features import CEPH_FEATURES_SUPPORTED_DEFAULT
from asyncmsgr.frames.v2 import AUTH_CEPHX, AUTH_NONE
from asyncmsgr.loop import run as run_loop
from asyncmsgr.messages.monmap import MonMap
from asyncmsgr.messages.osdmap import MOSDMap
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.pool import PgPool
from asyncmsgr.osd.types import PG
from asyncmsgr.testing import fake_osdmap
from asyncmsgr.testing.fake_cluster_mon import AuthDb, ClusterKeyServer, ClusterMonBackend
from asyncmsgr.testing.fake_mon import FakeMonCluster
from asyncmsgr.testing.fake_mon_commands import (
    MON_COMMANDS,
    TELL_COMMANDS,
    CommandError,
    CommandRequest,
    CommandResult,
    CommandTable,
    MonCommand,
    parse_command,
)
from asyncmsgr.testing.fake_mon_dumps import ClusterView, health_json, osdmap_flags
from asyncmsgr.testing.fake_mon_osd_commands import OSD_COMMANDS
from asyncmsgr.testing.fake_osd import FakeOSD, OpHook, WatchService
from asyncmsgr.testing.fake_osd_ops import OpContext
from asyncmsgr.testing.fake_store import ObjectKey, ObjectStore
from asyncmsgr.types import AuthName, EntityType, UTime

T = TypeVar("T")

AuthMode = Literal["cephx", "none", "cephx,none"]
MsgrMode = Literal["v2+v1", "v2", "v1"]
MsMode = Literal["crc", "secure", "any"]

_BINDS: dict[str, str] = {"v2+v1": "[v2:127.0.0.1:{p2},v1:127.0.0.1:{p1}]",
                          "v2": "v2:127.0.0.1:{p2}", "v1": "v1:127.0.0.1:{p1}"}
_CAPS_ALL = {"mon": "allow *", "osd": "allow *", "mgr": "allow *", "mds": "allow *"}
_OSD_CAPS = {"mon": "allow profile osd", "mgr": "allow profile osd", "osd": "allow *"}


class ClsMethod(NamedTuple):
    """An object class method: ``fn(ctx, indata) -> outdata`` (raise
    :class:`~asyncmsgr.testing.fake_osd_ops.OpError` to fail); ``write``
    methods may change ``ctx.obj`` (``ctx.create()``, then set ``ctx.modified``)."""

    fn: Callable[[OpContext, bytes], bytes]
    write: bool

    def call(self, ctx: OpContext, indata: bytes) -> bytes:
        """Run the method."""
        return self.fn(ctx, indata)


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """An injected health check (``ceph health detail`` shows it)."""

    severity: str
    summary: str
    detail: tuple[str, ...] = ()


class FakeCluster:
    """Fake mons and OSDs serving the real tools (see the module docstring).

    Args:
        osds: fake OSDs (``osd.0`` ...).
        mons: fake monitors (``mon.a`` ...).
        pools: replicated pools created at start.
        pg_num: PGs of those pools and the default of new ones.
        pool_size: their size (default ``min(3, osds)``).
        auth: ``cephx`` (the default), ``none``, or ``cephx,none``.
        msgr: what the daemons bind: ``v2+v1`` (default), ``v2`` or ``v1``.
        ms_mode: msgr2 connection modes the daemons accept: ``any`` (crc and
            secure, the default), ``crc`` or ``secure`` (written to the conf too).
        mon_ports: fixed ``(v2, v1)`` ports per mon (default: free ports).
        osd_ports: fixed ``(v2, v1)`` ports per OSD.
        conf_dir: write ``ceph.conf`` and ``ceph.client.admin.keyring`` there at start.
        fsid: the cluster fsid (default: random).
        admin_key: client.admin's key (base64; default: random).
        osd_size: bytes each OSD reports (its CRUSH weight follows).
        config: messenger options for every daemon.
        seed: randomness for keys (default: the system's).
    """

    def __init__(self, *, osds: int = 1, mons: int = 1, pools: Iterable[str] = (),
                 pg_num: int = 8, pool_size: int | None = None, auth: AuthMode = "cephx",
                 msgr: MsgrMode = "v2+v1", ms_mode: MsMode = "any",
                 mon_ports: Sequence[tuple[int, int]] | None = None,
                 osd_ports: Sequence[tuple[int, int]] | None = None,
                 conf_dir: str | Path | None = None, fsid: uuid.UUID | None = None,
                 admin_key: str | None = None, osd_size: int = fake_osdmap.TIB,
                 config: MessengerConfig | None = None, seed: int | None = None) -> None:
        if not 1 <= osds <= 64:
            raise ValueError("osds must be 1..64")
        if not 1 <= mons <= 5:
            raise ValueError("mons must be 1..5")
        if auth not in ("cephx", "none", "cephx,none"):
            raise ValueError(f"auth must be cephx, none or 'cephx,none', not {auth!r}")
        if msgr not in _BINDS:
            raise ValueError(f"msgr must be v2+v1, v2 or v1, not {msgr!r}")
        if ms_mode not in ("crc", "secure", "any"):
            raise ValueError(f"ms_mode must be crc, secure or any, not {ms_mode!r}")
        for what, ports, n in (("mon_ports", mon_ports, mons), ("osd_ports", osd_ports, osds)):
            if ports is not None and len(ports) != n:
                raise ValueError(f"{what} needs {n} (v2, v1) pairs")
        self.num_osds = osds
        self.num_mons = mons
        self.initial_pools = list(pools)
        self.default_pg_num = pg_num
        self.pool_size = pool_size or min(3, osds)
        self.auth_mode: AuthMode = auth
        self.msgr: MsgrMode = msgr
        self.ms_mode: MsMode = ms_mode
        self.mon_ports = list(mon_ports) if mon_ports is not None else None
        self.osd_ports = list(osd_ports) if osd_ports is not None else None
        self.conf_dir = Path(conf_dir) if conf_dir is not None else None
        self.fsid = fsid or uuid.uuid4()
        self.osd_size = osd_size
        self.messenger_config = config
        self.features = CEPH_FEATURES_SUPPORTED_DEFAULT
        self.rng = random.Random(seed) if seed is not None else random.Random()

        self.auth = AuthDb(self.rng)
        self.admin_key = self.auth.add("client.admin", dict(_CAPS_ALL), key=admin_key)
        for o in range(osds):
            self.auth.add(f"osd.{o}", dict(_OSD_CAPS))
        self.key_server = ClusterKeyServer(self.auth, clock=time.time, rng=self.rng)

        self.store = ObjectStore()
        self.watches = WatchService()
        self.commands = CommandTable([*MON_COMMANDS, *OSD_COMMANDS])
        """``ceph`` commands (MMonCommand); :meth:`add_mon_command` adds more."""
        self.tell_commands = CommandTable(TELL_COMMANDS, tell=True)
        """``tell mon.X`` commands (MCommand)."""
        self.op_hooks: list[OpHook] = []
        self.cls_methods: dict[tuple[str, str], ClsMethod] = {}
        self.config_keys: dict[str, bytes] = {}
        self.config_db: dict[tuple[str, str], str] = {}
        self.health_checks: dict[str, HealthCheck] = {}
        self.cluster_log: list[str] = []

        self.started_at = time.time()
        now = UTime.from_float(self.started_at)
        self.osdmap: OSDMap = fake_osdmap.new_osdmap(self.fsid, osds, now,
                                                     osd_size=osd_size)
        self._primaries: dict[PG, int] = {}
        self._encoded: dict[int, MOSDMap] = {}
        self.backend = ClusterMonBackend(self)
        self.mon_cluster: FakeMonCluster | None = None
        self.osds: list[FakeOSD] = []
        self._global_ids = itertools.count(4096)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._thread: threading.Thread | None = None
        self._stop_event: asyncio.Event | None = None
        self._thread_error: BaseException | None = None
        self.conf_path: Path | None = None
        self.keyring_path: Path | None = None
        self.ready_seconds = 0.0
        """How long :meth:`start` took (binding every daemon, building the maps)."""

    # -- lifecycle -----------------------------------------------------------------------

    def _auth_methods(self) -> tuple[int, ...]:
        return {"cephx": (AUTH_CEPHX,), "none": (AUTH_NONE,),
                "cephx,none": (AUTH_CEPHX, AUTH_NONE)}[self.auth_mode]

    def _modes(self) -> ModeOptions:
        if self.ms_mode == "any":
            return ModeOptions()
        m = self.ms_mode
        return ModeOptions(cluster=m, service=m, client=m, mon_cluster=m, mon_service=m,
                           mon_client=m)

    def _auth_server(self, name: AuthName, role: Literal["mon", "service"]) -> AuthServer:
        return CephxAuthServer(self.key_server, name, time.time, role=role,
                               methods=self._auth_methods(), modes=self._modes(), rng=self.rng,
                               _global_ids=self._global_ids)

    def _bind(self, ports: tuple[int, int] | None) -> str:
        p2, p1 = ports if ports is not None else (0, 0)
        return _BINDS[self.msgr].format(p2=p2, p1=p1)

    async def start(self) -> None:
        """Bind every daemon on this loop, build the maps, write the conf if asked."""
        t0 = time.perf_counter()
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        names = iter(range(self.num_mons))
        mon_binds = [self._bind(self.mon_ports[i] if self.mon_ports else None)
                     for i in range(self.num_mons)]
        self.mon_cluster = FakeMonCluster(
            self.num_mons, config=self.messenger_config, msgr="v2+v1",
            auth_server_factory=lambda: self._auth_server(
                AuthName(EntityType.MON, chr(ord("a") + next(names))), "mon"),
            backend=self.backend, threaded=False, binds=mon_binds, fsid=self.fsid,
            created=UTime.from_float(self.started_at))
        try:
            await self.mon_cluster.start()
            now = self.now()
            fake_osdmap.next_epoch(self.osdmap, now)
            for o in range(self.num_osds):
                osd = FakeOSD(o, self)
                ports = self.osd_ports[o] if self.osd_ports else None
                await osd.start(self._bind(ports), self.messenger_config,
                                self._auth_server(AuthName(EntityType.OSD, str(o)), "service"),
                                nonce=self.rng.randrange(1, 1 << 31))
                self.osds.append(osd)
                fake_osdmap.mark_up(self.osdmap, o, osd.addrs, self.features, now)
            for name in self.initial_pools:
                fake_osdmap.create_pool(self.osdmap, name, now, pg_num=self.default_pg_num,
                                        size=self.pool_size)
            self._map_changed()
        except BaseException:
            await self.stop()
            raise
        if self.conf_dir is not None:
            self.write_conf(self.conf_dir / "ceph.conf")
        self.ready_seconds = time.perf_counter() - t0

    async def stop(self) -> None:
        """Stop every daemon (clients see their sessions reset)."""
        for osd in self.osds:
            await osd.stop()
        self.osds = []
        if self.mon_cluster is not None:
            await self.mon_cluster.stop()
            self.mon_cluster = None

    async def __aenter__(self) -> FakeCluster:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def __enter__(self) -> FakeCluster:
        """Run the cluster on an event loop in a thread of its own until exit."""
        ready = threading.Event()

        async def serve() -> None:
            self._stop_event = asyncio.Event()
            try:
                await self.start()
            except BaseException as exc:
                self._thread_error = exc
                ready.set()
                return
            ready.set()
            try:
                await self._stop_event.wait()
            finally:
                await self.stop()

        def run() -> None:
            run_loop(serve(), config=self.messenger_config)

        self._thread = threading.Thread(target=run, name="fake-cluster", daemon=True)
        self._thread.start()
        ready.wait()
        if self._thread_error is not None:
            self._thread.join()
            raise self._thread_error
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        loop, stop = self._loop, self._stop_event
        if loop is not None and stop is not None and self._thread is not None:
            loop.call_soon_threadsafe(stop.set)
            self._thread.join()
            self._thread = None

    def _on_loop(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the cluster's loop (directly when already there)."""
        loop = self._loop
        if loop is None or threading.get_ident() == self._loop_thread:
            return fn()
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()

        def call() -> None:
            try:
                fut.set_result(fn())
            except BaseException as exc:  # handed to the waiting thread
                fut.set_exception(exc)
        loop.call_soon_threadsafe(call)
        return fut.result(timeout=30)

    # -- what clients need -----------------------------------------------------------------

    @property
    def mon_addrs(self) -> list[str]:
        """Each mon's address vector (``[v2:127.0.0.1:P,v1:127.0.0.1:Q]``)."""
        if self.mon_cluster is None:
            return []
        return [str(av) for av in self.mon_cluster.addrs]

    @property
    def mon_host(self) -> str:
        """``mon_host`` for ceph.conf (every mon, comma separated)."""
        return ",".join(self.mon_addrs)

    def conf_text(self, keyring_path: str | Path | None = None) -> str:
        """The ``ceph.conf`` a client needs (``keyring`` pointing at ``keyring_path``)."""
        auth = {"cephx": "cephx", "none": "none", "cephx,none": "cephx, none"}[self.auth_mode]
        lines = ["[global]", f"    fsid = {self.fsid}", f"    mon_host = {self.mon_host}",
                 f"    auth_cluster_required = {auth}", f"    auth_service_required = {auth}",
                 f"    auth_client_required = {auth}"]
        if keyring_path is not None:
            lines.append(f"    keyring = {Path(keyring_path).resolve()}")
        if self.ms_mode != "any":
            lines += [f"    ms_client_mode = {self.ms_mode}",
                      f"    ms_mon_client_mode = {self.ms_mode}"]
        lines += ["[client]", "    admin_socket = ", "    log_to_stderr = false",
                  "    err_to_stderr = false", "    log_file = /dev/null"]
        return "\n".join(lines) + "\n"

    def keyring_text(self) -> str:
        """client.admin's keyring."""
        return (f"[client.admin]\n    key = {self.admin_key}\n"
                + "".join(f'    caps {svc} = "{cap}"\n' for svc, cap in sorted(_CAPS_ALL.items())))

    def write_conf(self, path: str | Path) -> Path:
        """Write ``ceph.conf`` at ``path`` and ``ceph.client.admin.keyring`` beside it."""
        conf = Path(path)
        conf.parent.mkdir(parents=True, exist_ok=True)
        keyring = conf.parent / "ceph.client.admin.keyring"
        keyring.write_text(self.keyring_text())
        os.chmod(keyring, 0o600)
        tmp = conf.with_name(conf.name + ".tmp")
        tmp.write_text(self.conf_text(keyring))
        tmp.replace(conf)
        self.conf_path, self.keyring_path = conf, keyring
        return conf

    def client_env(self) -> dict[str, str]:
        """``CEPH_CONF``/``CEPH_KEYRING`` for subprocesses (after :meth:`write_conf`)."""
        if self.conf_path is None or self.keyring_path is None:
            raise RuntimeError("write_conf() first (or pass conf_dir)")
        return {"CEPH_CONF": str(self.conf_path), "CEPH_KEYRING": str(self.keyring_path)}

    # -- state the daemons read ------------------------------------------------------------

    def now(self) -> UTime:
        """The current time."""
        return UTime.from_float(time.time())

    def monmap(self) -> MonMap:
        """The current monmap."""
        assert self.mon_cluster is not None
        return self.mon_cluster.monmap()

    def view(self) -> ClusterView:
        """A snapshot for the mon's dumps."""
        usage = {pid: self.store.pool_usage(pid) for pid in self.osdmap.pools}
        return ClusterView(self.fsid, self.monmap(), self.osdmap, self.started_at, time.time(),
                           self.osd_size, usage)

    def health_json(self, detail: bool) -> dict[str, Any]:
        """Computed (OSD_DOWN, OSDMAP_FLAGS) and injected health checks."""
        m = self.osdmap
        checks: dict[str, tuple[str, str, Sequence[str]]] = {}
        down = [o for o in range(m.max_osd) if m.exists(o) and not m.is_up(o)]
        if down:
            checks["OSD_DOWN"] = ("HEALTH_WARN", f"{len(down)} osds down",
                                  [f"osd.{o} is down" for o in down])
        shown = [f for f in osdmap_flags(m) if f in ("full", "pauserd", "pausewr", "noup",
                                                      "nodown", "noout", "noin")]
        if shown:
            checks["OSDMAP_FLAGS"] = ("HEALTH_WARN", f"{','.join(shown)} flag(s) set", [])
        for code, hc in self.health_checks.items():
            checks[code] = (hc.severity, hc.summary, hc.detail)
        return health_json(checks, detail)

    def config_for(self, who: str) -> dict[str, str]:
        """The config database's options for an entity (global < type < name)."""
        kind = who.split(".", 1)[0]
        out: dict[str, str] = {}
        for section in ("global", kind, who):
            for (w, name), value in sorted(self.config_db.items()):
                if w == section:
                    out[name] = value
        return out

    def config_changed(self) -> None:
        """The config database changed (clients get it on their next subscription)."""

    def mon_sessions(self, mon: str) -> list[dict[str, str]]:
        """``tell mon.X sessions``: the clients subscribed to maps."""
        return [{"name": str(con.peer_name), "addr": str(con.peer_addrs)}
                for con in self.backend.subs]

    def primary(self, pgid: PG) -> int:
        """The acting primary of a PG in the current map (cached per epoch)."""
        p = self._primaries.get(pgid)
        if p is None:
            p = self._primaries[pgid] = self.osdmap.pg_to_up_acting_osds(pgid)[3]
        return p

    def osdmap_message(self, features: int) -> MOSDMap:
        """The current full map as an MOSDMap (oldest = newest = this epoch)."""
        epoch = self.osdmap.epoch
        cached = self._encoded.get(features)
        if cached is None or cached.last != epoch:
            blob = self.osdmap.encode(features)
            cached = MOSDMap(fsid=self.fsid, maps={epoch: blob}, oldest_map=epoch,
                             newest_map=epoch)
            self._encoded[features] = cached
        return MOSDMap(fsid=self.fsid, maps=dict(cached.maps), oldest_map=epoch,
                       newest_map=epoch)

    # -- map changes ----------------------------------------------------------------------

    def _map_changed(self) -> None:
        self._primaries.clear()
        self._encoded.clear()
        self.osdmap.invalidate()
        self.backend.publish_osdmap()

    def _change(self, fn: Callable[[OSDMap, UTime], T]) -> T:
        def change() -> T:
            now = self.now()
            fake_osdmap.next_epoch(self.osdmap, now)
            result = fn(self.osdmap, now)
            self._map_changed()
            return result
        return self._on_loop(change)

    def create_pool(self, name: str, *, pg_num: int | None = None, pgp_num: int | None = None,
                    size: int | None = None, autoscale: str = "on",
                    application: str = "") -> int:
        """Create a replicated pool (a new epoch); returns its id. ValueError if it exists."""
        why = fake_osdmap.check_pool_name(name)
        if why is not None:
            raise ValueError(why)
        mode = {"off": 0, "warn": 1, "on": 2}.get(autoscale, 2)

        def change(m: OSDMap, now: UTime) -> int:
            pid = fake_osdmap.create_pool(m, name, now, pg_num=pg_num or self.default_pg_num,
                                          pgp_num=pgp_num or 0, size=size or self.pool_size,
                                          application=application)
            m.pools[pid] = replace(m.pools[pid], pg_autoscale_mode=mode)
            return pid
        return self._change(change)

    def delete_pool(self, name: str) -> None:
        """Delete a pool and its objects (a new epoch). KeyError if absent."""
        def change(m: OSDMap, now: UTime) -> None:
            pid = m.lookup_pg_pool_name(name)
            if pid < 0:
                raise KeyError(name)
            fake_osdmap.remove_pool(m, pid)
            self.store.drop_pool(pid)
        self._change(change)

    def rename_pool(self, pool_id: int, name: str) -> None:
        """Rename a pool (a new epoch)."""
        def change(m: OSDMap, now: UTime) -> None:
            m.pool_name[pool_id] = name
            m.invalidate()
        self._change(change)

    def update_pool(self, pool_id: int, pool: PgPool) -> None:
        """Replace a pool's parameters (a new epoch); objects follow a new pg_num."""
        def change(m: OSDMap, now: UTime) -> None:
            old = m.pools[pool_id]
            fake_osdmap.set_pool(m, pool_id, pool)
            if old.pg_num != pool.pg_num:
                self.store.resplit(pool_id, pool)
        self._change(change)

    def pool_id(self, name: str) -> int:
        """A pool's id (KeyError if absent)."""
        pid = self.osdmap.lookup_pg_pool_name(name)
        if pid < 0:
            raise KeyError(name)
        return pid

    def mark_osd_down(self, osd: int) -> None:
        """``osd.N`` stops answering and the map marks it down (clients re-target)."""
        def change(m: OSDMap, now: UTime) -> None:
            self.osds[osd].up = False
            fake_osdmap.mark_down(m, osd, now)
        self._change(change)

    def mark_osd_up(self, osd: int) -> None:
        """``osd.N`` answers again and the map marks it up."""
        def change(m: OSDMap, now: UTime) -> None:
            self.osds[osd].up = True
            fake_osdmap.mark_up(m, osd, self.osds[osd].addrs, self.features, now)
        self._change(change)

    def mark_osd_out(self, osd: int) -> None:
        """Weight ``osd.N`` out (its PGs move to the other OSDs)."""
        self._change(lambda m, now: fake_osdmap.set_in(m, osd, False, now))

    def mark_osd_in(self, osd: int) -> None:
        """Weight ``osd.N`` back in."""
        self._change(lambda m, now: fake_osdmap.set_in(m, osd, True, now))

    def set_osdmap_flags(self, bits: int, on: bool) -> None:
        """Set or clear OSDMap flags (``CEPH_OSDMAP_*``: PAUSEWR makes clients hold writes,
        FULL makes them fail or hold them)."""
        def change(m: OSDMap, now: UTime) -> None:
            m.flags = m.flags | bits if on else m.flags & ~bits
        self._change(change)

    def mon_command(self, cmd: str | Mapping[str, Any], inbuf: bytes = b"") -> CommandResult:
        """Run a ``ceph`` command in process, as a mon would answer it over the wire
        (``get_command_descriptions`` included): ``(r, rs, outbuf)``."""
        try:
            args = parse_command([cmd]) if isinstance(cmd, str) else dict(cmd)
        except CommandError as exc:
            return CommandResult(exc.r, exc.rs)
        name = self.monmap().ranks[0] if self.mon_cluster is not None else "a"
        return self._on_loop(lambda: self.commands.dispatch(
            CommandRequest(args, inbuf, self, name)))

    def tell_mon(self, cmd: str | Mapping[str, Any], name: str = "a") -> CommandResult:
        """``tell mon.NAME`` in process."""
        try:
            args = parse_command([cmd]) if isinstance(cmd, str) else dict(cmd)
        except CommandError as exc:
            return CommandResult(exc.r, exc.rs)
        return self._on_loop(lambda: self.tell_commands.dispatch(
            CommandRequest(args, b"", self, name)))

    # -- hooks ------------------------------------------------------------------------------

    def add_op_hook(self, hook: OpHook) -> Callable[[], None]:
        """Ask ``hook(OpRequest)`` before every OSD op; it returns None (run it) or an
        :class:`~asyncmsgr.testing.fake_osd.OpFault` (fail, delay or drop it).
        Returns a function that removes the hook."""
        self._on_loop(lambda: self.op_hooks.append(hook))

        def remove() -> None:
            self._on_loop(lambda: self.op_hooks.remove(hook) if hook in self.op_hooks else None)
        return remove

    def add_mon_command(self, signature: str, handler: Callable[[CommandRequest],
                                                                 CommandResult],
                        help: str = "", *, module: str = "mon", perm: str = "r",
                        flags: int = 0) -> None:
        """Serve another command (Ceph's signature syntax, listed in
        ``get_command_descriptions`` so the real ``ceph`` CLI accepts it)."""
        command = MonCommand(signature, help, handler, module, perm, flags)
        self._on_loop(lambda: self.commands.add(command))

    def add_cls_method(self, cls: str, method: str, fn: Callable[[OpContext, bytes], bytes], *,
                       write: bool = False) -> None:
        """Serve object class method ``cls.method`` for CALL ops."""
        self._on_loop(lambda: self.cls_methods.__setitem__((cls, method),
                                                           ClsMethod(fn, write)))

    def set_health_check(self, code: str, summary: str, *, severity: str = "HEALTH_WARN",
                         detail: Sequence[str] = ()) -> None:
        """Report a health check (``HEALTH_WARN``/``HEALTH_ERR``) until cleared."""
        check = HealthCheck(severity, summary, tuple(detail))
        self._on_loop(lambda: self.health_checks.__setitem__(code, check))

    def clear_health_check(self, code: str) -> None:
        """Stop reporting an injected health check."""
        self._on_loop(lambda: self.health_checks.pop(code, None))

    # -- reading the store (tests) ------------------------------------------------------------

    def object_data(self, pool: str, oid: str, *, nspace: str = "", key: str = "") -> bytes:
        """An object's bytes (KeyError if absent)."""
        def read() -> bytes:
            pid = self.pool_id(pool)
            want = ObjectKey(nspace, key, oid)
            for k, obj in self.store.objects(pid):
                if k == want:
                    return bytes(obj.data)
            raise KeyError(oid)
        return self._on_loop(read)

    def list_objects(self, pool: str, *, nspace: str | None = None) -> list[str]:
        """Object names of a pool (every namespace unless one is given), sorted."""
        def ls() -> list[str]:
            pid = self.pool_id(pool)
            return sorted(k.oid for k, _ in self.store.objects(pid)
                          if nspace is None or k.nspace == nspace)
        return self._on_loop(ls)


__all__ = ["AuthMode", "ClsMethod", "FakeCluster", "HealthCheck", "MsMode", "MsgrMode"]
