"""Throw-away real Ceph clusters on 127.0.0.1: mons, memstore OSDs, a mgr; no systemd.

:class:`CephCluster` builds a cluster in a temporary (or given) directory along
the recipe of wire-protocol.md §1.1 and performance-notes.md §4: free ports
picked when it starts (a msgr2 and a msgr1 port per mon, or only msgr1 for a
v1-only cluster), a fixed fsid, fixed test keys (:data:`ADMIN_KEY`,
:data:`MON_KEY`, :func:`osd_key`) imported at ``ceph-mon --mkfs``, a monmap from
``monmaptool``, then the mons. With ``num_osds`` it adds memstore OSDs: ``ceph
osd create UUID ID``, ``ceph-osd --mkfs --osd-uuid UUID``, ``ceph-osd -f``; the
OSDs' keys and caps (``mon 'allow profile osd' mgr 'allow profile osd' osd
'allow *'``, what ``ceph auth get-or-create`` would give) come from the mkfs
keyring. A pool (:attr:`CephCluster.pool`, size ``min(3, num_osds)``) is
created and the cluster is ready once a probe object was written to it with the
real ``rados`` tool (without a ceph-mgr ``ceph -s`` shows no PG states). With
``mgr=True`` a ceph-mgr (:mod:`asyncmsgr.testing.ceph_mgr`) starts with the OSDs.

Options every cluster gets: ``osd_objectstore = memstore`` with a small device,
``osd_delete_sleep_* = 0`` (memstore counts as rotational), ``mon_allow_pool_size_one``,
``mon_allow_pool_delete``, ``osd_crush_chooseleaf_type = 0`` (size-3 pools on one
host), one admin socket per client process (``$pid.$cctid``).

Every daemon is stopped by its PID (after checking ``/proc/PID/cmdline`` against
PID reuse) and gets a parent-death signal (SIGKILL, through util-linux ``setpriv
--pdeathsig``), so it dies with the process that started it even if teardown
never runs.

Typical use (the fixtures in ``tests/interop/conftest.py`` do this)::

    with CephCluster(num_osds=1) as cluster:
        cluster.wait_ready()
        cluster.rados("-p", cluster.pool, "put", "obj", "/etc/hostname")

For users and benchmarks, ``python -m asyncmsgr.testing.ceph_cluster --osds 3
--dir D`` starts the same cluster, prints where ``ceph.conf`` and the keyring
are once it is ready, and stops it on SIGINT or SIGTERM (``--help``).

Known limits of memstore (Debian 16.2.15): data survives a clean stop (SIGTERM)
but not SIGKILL; deleting a pool may underflow the OSD's used bytes and mark it
full (performance-notes.md §4.4), so tests delete pools only on private clusters.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from asyncmsgr.testing.ceph_daemons import (
    ADMIN_KEY,
    FSID,
    MON_IDS,
    MON_KEY,
    OSD_CAPS,
    OSD_PORTS,
    CephClusterError,
    CephCommandError,
    MonClusterError,
    MonSpec,
    MsgrMode,
    admin_socket_command,
    ceph_binary,
    ceph_mon_binary,
    ceph_osd_binary,
    clean_env,
    death_signal_prefix,
    is_our_daemon,
    osd_key,
    osd_uuid,
    pick_ports,
    port_listening,
    release_ports,
)
from asyncmsgr.testing.ceph_mgr import (
    MGR_CAPS,
    MGR_CONFIG_DB,
    MGR_GLOBAL_OPTIONS,
    MGR_ID,
    MGR_KEY,
    mgr_conf_lines,
    wait_available,
)

_PROBE_OBJECT = "asyncmsgr-cluster-probe"
#: ``sun_path`` holds 108 bytes with the NUL.
_UNIX_PATH_MAX = 107
#: How much ``$cluster-$name.$pid.$cctid`` grows when expanded (a long client name).
_ASOK_EXPANSION = 48


class CephCluster:
    """Real ``ceph-mon`` (and ``ceph-osd``) daemons on 127.0.0.1 in one directory.

    Args:
        num_mons: 1, 2 or 3 (mon ids ``a``, ``b``, ``c``).
        num_osds: memstore OSDs ``osd.0`` .. (0: mons only).
        auth_none: also allow auth method none for clients
            (``auth_service_required``/``auth_client_required`` = ``"cephx, none"``);
            daemons always use cephx between them.
        msgr: ``"v2+v1"`` (both messengers, the default) or ``"v1"`` (msgr v1 only).
        pool: the pool created when there are OSDs (``""``: none).
        pg_num: PGs of that pool (and ``osd_pool_default_pg_num``).
        memstore_bytes: each OSD's memstore size (memory is used only as written).
        mgr: also run a ceph-mgr, ``mgr.x`` (see :mod:`asyncmsgr.testing.ceph_mgr`);
            :meth:`wait_ready` then waits until the MgrMap says it is available.
        extra_conf: more ``[global]`` options (name -> value), written last.
        base_dir: parent of the temporary directory (default: the system's).
        cluster_dir: build in this directory instead (created; must be empty).
        keep_dir: keep the directory after :meth:`stop` (always kept for ``cluster_dir``).
    """

    def __init__(self, *, num_mons: int = 1, num_osds: int = 0, auth_none: bool = True,
                 msgr: MsgrMode = "v2+v1", pool: str = "test", pg_num: int = 8,
                 memstore_bytes: int = 1 << 30, extra_conf: Mapping[str, str] | None = None,
                 base_dir: str | Path | None = None, cluster_dir: str | Path | None = None,
                 keep_dir: bool = False, mgr: bool = False) -> None:
        if num_mons not in (1, 2, 3):
            raise ValueError("num_mons must be 1, 2 or 3")
        if not 0 <= num_osds <= 16:
            raise ValueError("num_osds must be 0..16")
        if msgr not in ("v2+v1", "v1"):
            raise ValueError("msgr must be 'v2+v1' or 'v1'")
        self.num_mons = num_mons
        self.num_osds = num_osds
        self.auth_none = auth_none
        self.msgr: MsgrMode = msgr
        self.pool = pool if num_osds else ""
        self.pg_num = pg_num
        self.memstore_bytes = memstore_bytes
        self.mgr = mgr
        self.extra_conf = dict(extra_conf or {})
        self._base_dir = base_dir
        self._cluster_dir = Path(cluster_dir) if cluster_dir is not None else None
        self._keep_dir = keep_dir or cluster_dir is not None
        self._dir: Path | None = None
        self._run_dir: Path | None = None
        self._mons: dict[str, MonSpec] = {}
        #: The mon ports reserved by pick_ports, given back by stop().
        self._reserved_ports: set[int] = set()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._ready = False
        self.startup_seconds: float | None = None
        """Wall time of the last :meth:`start` plus :meth:`wait_ready`."""

    # --- paths and addresses -----------------------------------------------------

    @property
    def is_started(self) -> bool:
        """Whether :meth:`start` ran and :meth:`stop` did not (yet)."""
        return self._dir is not None

    @property
    def dir(self) -> Path:
        """The cluster's directory."""
        if self._dir is None:
            raise MonClusterError("cluster not started")
        return self._dir

    @property
    def conf_path(self) -> Path:
        """``ceph.conf`` of the cluster."""
        return self.dir / "ceph.conf"

    @property
    def keyring_path(self) -> Path:
        """Keyring holding ``mon.``, ``client.admin`` and the OSDs' keys."""
        return self.dir / "keyring"

    @property
    def fsid(self) -> str:
        """The cluster's fixed fsid."""
        return FSID

    @property
    def admin_key(self) -> str:
        """``client.admin``'s key, base64 (wire-protocol.md §1.2)."""
        return ADMIN_KEY

    @property
    def mon_key(self) -> str:
        """``mon.``'s key, base64."""
        return MON_KEY

    @property
    def mons(self) -> list[MonSpec]:
        """The monitors, in id order."""
        return [self._mons[k] for k in sorted(self._mons)]

    @property
    def mon_ids(self) -> list[str]:
        """The monitor ids (``a``, ``b``)."""
        return sorted(self._mons)

    @property
    def mgr_ids(self) -> list[str]:
        """The managers' names (``["mgr.x"]`` with ``mgr=True``, else none)."""
        return [f"mgr.{MGR_ID}"] if self.mgr else []

    @property
    def daemons(self) -> list[str]:
        """Every daemon: mon ids, ``mgr.x``, ``osd.N``."""
        return [*self.mon_ids, *self.mgr_ids, *(f"osd.{i}" for i in self.osd_ids)]

    @property
    def osd_ids(self) -> list[int]:
        """The OSD ids (``0`` .. ``num_osds - 1``)."""
        return list(range(self.num_osds))

    @property
    def mon_addrs(self) -> list[str]:
        """Each mon's addrvec, e.g. ``[v2:127.0.0.1:3300,v1:127.0.0.1:6789]``."""
        return [m.addrvec for m in self.mons]

    @property
    def mon_host(self) -> str:
        """The ``mon_host`` value written into ``ceph.conf``."""
        return ",".join(m.mon_host for m in self.mons)

    @staticmethod
    def _daemon(name: str) -> tuple[str, str]:
        kind, _, ident = name.partition(".")
        return kind, ident

    def log_path(self, daemon: str) -> Path:
        """A daemon's own log file; ``daemon`` is a mon id (``a``), ``osd.N`` or ``mgr.x``."""
        kind, _ = self._daemon(daemon)
        if kind in ("osd", "mgr"):
            return self.dir / "log" / f"ceph-{daemon}.log"
        return self.dir / "log" / f"ceph-mon.{daemon}.log"

    def stdout_path(self, daemon: str) -> Path:
        """Where the daemon's stdout and stderr go."""
        kind, _ = self._daemon(daemon)
        return self.dir / "log" / (f"{daemon}.stdout" if kind in ("osd", "mgr")
                                   else f"mon.{daemon}.stdout")

    @property
    def run_dir(self) -> Path:
        """Where the admin sockets are: ``DIR/run``, or a short temporary directory
        when ``DIR`` is too long for unix socket paths."""
        if self._run_dir is None:
            raise MonClusterError("cluster not started")
        return self._run_dir

    def asok_path(self, daemon: str) -> Path:
        """The daemon's admin socket (mon id, ``osd.N`` or ``mgr.x``)."""
        kind, _ = self._daemon(daemon)
        return self.run_dir / (f"ceph-{daemon}.asok" if kind in ("osd", "mgr")
                               else f"ceph-mon.{daemon}.asok")

    def osd_data(self, osd_id: int) -> Path:
        """The OSD's data directory."""
        return self.dir / "osd" / f"ceph-{osd_id}"

    def pid(self, daemon: str) -> int | None:
        """PID of the running daemon (mon id or ``osd.N``), or None."""
        proc = self._procs.get(daemon)
        if proc is None or proc.poll() is not None:
            return None
        return proc.pid

    def is_running(self, daemon: str) -> bool:
        """Whether the daemon's process is alive."""
        return self.pid(daemon) is not None

    def log_tail(self, daemon: str | None = None, lines: int = 40) -> str:
        """The last ``lines`` of each (or one) daemon's stdout and log."""
        out: list[str] = []
        names = [daemon] if daemon else self.daemons
        for name in names:
            for path in (self.stdout_path(name), self.log_path(name)):
                try:
                    text = path.read_text(errors="replace").splitlines()[-lines:]
                except OSError:
                    continue
                out.append(f"==> {path} <==")
                out.extend(text)
        return "\n".join(out)

    # --- life cycle --------------------------------------------------------------

    def start(self) -> None:
        """Build the directory, keyring, monmap and mon stores; start the mons.

        With OSDs this also waits for the mons' quorum, then creates, formats
        and starts the OSDs. Call :meth:`wait_ready` next. Raises
        MonClusterError when a tool fails.
        """
        if self._dir is not None:
            raise MonClusterError("cluster already started")
        if ceph_mon_binary() is None:
            raise MonClusterError("ceph-mon is not installed")
        if self.num_osds and ceph_osd_binary() is None:
            raise MonClusterError("ceph-osd is not installed")
        began = time.monotonic()
        self._ready = False
        if self._cluster_dir is not None:
            self._cluster_dir.mkdir(parents=True, exist_ok=True)
            if any(self._cluster_dir.iterdir()):
                raise MonClusterError(f"{self._cluster_dir} is not empty")
            self._dir = self._cluster_dir.resolve()
        else:
            self._dir = Path(tempfile.mkdtemp(prefix="asyncmsgr-ceph-", dir=self._base_dir))
        try:
            for sub in ("run", "log", "mon", "osd", "mgr"):
                (self._dir / sub).mkdir()
            self._run_dir = self._dir / "run"
            if len(str(self._run_dir)) + _ASOK_EXPANSION > _UNIX_PATH_MAX:
                self._run_dir = Path(tempfile.mkdtemp(prefix="asyncmsgr-run-"))
            taken = self._reserved_ports  # held until stop(), across restarts
            v1_ports = pick_ports("v1", self.num_mons, taken)
            v2_ports = (pick_ports("v2", self.num_mons, taken) if self.msgr == "v2+v1"
                        else [0] * self.num_mons)
            self._mons = {
                mid: MonSpec(mid, v2, v1)
                for mid, v2, v1 in zip(MON_IDS[:self.num_mons], v2_ports, v1_ports,
                                       strict=True)
            }
            self.conf_path.write_text(self._render_conf())
            self._make_keyring()
            self._make_monmap()
            for mid in self.mon_ids:
                self._run_tool("ceph-mon", "-c", str(self.conf_path), "--mkfs", "-i", mid,
                               "--monmap", str(self.dir / "monmap"),
                               "--keyring", str(self.keyring_path))
            for mid in self.mon_ids:
                self._spawn(mid)
            if self.num_osds or self.mgr:
                self._wait_quorum(30.0)
            for name in self.mgr_ids:  # loads its modules while the OSDs start
                self.ceph("config", "set", "mgr", *MGR_CONFIG_DB)
                self._spawn(name)
            if self.num_osds:
                self._make_osds()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began

    def _render_conf(self) -> str:
        d = self.dir
        run = self.run_dir
        client_asok = f"{run}/$cluster-$name.$pid.$cctid.asok"
        if len(client_asok) + _ASOK_EXPANSION > _UNIX_PATH_MAX:
            client_asok = ""
        auth_open = "cephx, none" if self.auth_none else "cephx"
        size = min(3, max(1, self.num_osds))
        glob: dict[str, str] = {
            "fsid": FSID,
            "mon_host": self.mon_host,
            "mon_initial_members": ", ".join(self.mon_ids),
            "public_network": "127.0.0.0/8",
            "auth_cluster_required": "cephx",
            "auth_service_required": auth_open,
            "auth_client_required": auth_open,
            "ms_bind_msgr1": "true",
            "ms_bind_msgr2": "true" if self.msgr == "v2+v1" else "false",
            "ms_bind_ipv6": "false",
            "mon_allow_pool_delete": "true",
            "mon_allow_pool_size_one": "true",
            "mon_warn_on_insecure_global_id_reclaim": "false",
            "mon_warn_on_insecure_global_id_reclaim_allowed": "false",
            "mon_warn_on_pool_no_redundancy": "false",
            "osd_pool_default_size": str(size),
            "osd_pool_default_pg_num": str(self.pg_num),
            "osd_pool_default_pgp_num": str(self.pg_num),
            "osd_crush_chooseleaf_type": "0",
            # temp dirs may sit on a small tmpfs: never warn or shut down for space
            "mon_data_avail_warn": "1",
            "mon_data_avail_crit": "0",
            "run_dir": str(run),
            "admin_socket": f"{run}/$cluster-$name.asok",
            "log_file": f"{d}/log/$cluster-$name.log",
            "keyring": str(d / "keyring"),
        }
        if self.mgr:
            glob.update(MGR_GLOBAL_OPTIONS)
        glob.update(self.extra_conf)
        lines = ["[global]"]
        lines.extend(f"    {k} = {v}" for k, v in glob.items())
        lines += [
            "[mon]",
            f"    mon_data = {d}/mon/$cluster-$id",
            f"    mon_cluster_log_file = {d}/log/cluster.log",
            "    debug_ms = 1",
            # map changes (osd create, pool create, boot) commit in ms, not 1 s
            "    paxos_propose_interval = 0.05",
            "    paxos_min_wait = 0.01",
            "[osd]",
            f"    osd_data = {d}/osd/$cluster-$id",
            "    osd_objectstore = memstore",
            f"    memstore_device_bytes = {self.memstore_bytes}",
            "    osd_delete_sleep_hdd = 0",
            "    osd_delete_sleep_ssd = 0",
            "    osd_delete_sleep_hybrid = 0",
            # a fast shutdown skips the store's umount: memstore would lose everything
            "    osd_fast_shutdown = false",
            f"    ms_bind_port_min = {OSD_PORTS[0]}",
            f"    ms_bind_port_max = {OSD_PORTS[1]}",
            *(mgr_conf_lines(f"{d}/mgr") if self.mgr else []),
            "[client]",
            # one admin socket per client process (several rados/ceph at once), or
            # none where the path would not fit a unix socket address (108 bytes)
            f"    admin_socket = {client_asok}",
        ]
        return "\n".join(lines) + "\n"

    def _make_keyring(self) -> None:
        ring = str(self.keyring_path)
        self._run_tool("ceph-authtool", "--create-keyring", ring, "--name", "mon.",
                       "--add-key", MON_KEY, "--cap", "mon", "allow *")
        self._run_tool("ceph-authtool", ring, "--name", "client.admin", "--add-key", ADMIN_KEY,
                       "--cap", "mon", "allow *", "--cap", "osd", "allow *",
                       "--cap", "mds", "allow *", "--cap", "mgr", "allow *")
        keys = [(f"osd.{i}", osd_key(i), OSD_CAPS) for i in self.osd_ids]
        keys += [(name, MGR_KEY, MGR_CAPS) for name in self.mgr_ids]
        for name, key, cap_list in keys:
            caps: list[str] = []
            for i in range(0, len(cap_list), 2):
                caps += ["--cap", cap_list[i], cap_list[i + 1]]
            self._run_tool("ceph-authtool", ring, "--name", name, "--add-key", key, *caps)

    def _make_monmap(self) -> None:
        args = ["monmaptool", "--create", "--clobber", "--fsid", FSID,
                "--enable-all-features", "--set-min-mon-release", "16"]
        for mon in self.mons:
            args += ["--addv", mon.mon_id, mon.addrvec]
        args.append(str(self.dir / "monmap"))
        self._run_tool(*args)

    def _make_osds(self) -> None:
        """``ceph osd create UUID ID`` for all at once, then ``ceph-osd --mkfs`` likewise."""
        creates = [(osd_id, subprocess.Popen(
            self.ceph_argv("osd", "create", osd_uuid(osd_id), str(osd_id)),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=clean_env())) for osd_id in self.osd_ids]
        for osd_id, proc in creates:
            try:
                out, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            if proc.returncode != 0 or out.strip() != str(osd_id):
                raise MonClusterError(f"ceph osd create for osd.{osd_id} exited with "
                                      f"{proc.returncode}: {out.strip()} {err.strip()}")
        mkfs: list[tuple[list[str], subprocess.Popen[str]]] = []
        for osd_id in self.osd_ids:
            self.osd_data(osd_id).mkdir(parents=True)
            argv = ["ceph-osd", "-c", str(self.conf_path), "-i", str(osd_id), "--mkfs",
                    "--osd-uuid", osd_uuid(osd_id)]
            mkfs.append((argv, subprocess.Popen(
                [*death_signal_prefix(), *argv], stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                env=clean_env())))
        failed = []
        for argv, proc in mkfs:
            try:
                out, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            if proc.returncode != 0:
                failed.append(f"{' '.join(argv)} exited with {proc.returncode}: {out.strip()}")
        if failed:
            raise MonClusterError("\n".join(failed))
        for osd_id in self.osd_ids:
            self._spawn(f"osd.{osd_id}")

    def _run_tool(self, *argv: str) -> str:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False,
                              env=clean_env())
        if proc.returncode != 0:
            raise MonClusterError(
                f"{' '.join(argv)} exited with {proc.returncode}: "
                f"{proc.stderr.strip() or proc.stdout.strip()}")
        return proc.stdout

    def _argv(self, daemon: str) -> list[str]:
        kind, ident = self._daemon(daemon)
        if kind in ("osd", "mgr"):
            return [f"ceph-{kind}", "-c", str(self.conf_path), "-i", ident, "-f"]
        return ["ceph-mon", "-c", str(self.conf_path), "-i", daemon, "-f"]

    def _spawn(self, daemon: str) -> None:
        with self.stdout_path(daemon).open("ab") as out:
            proc = subprocess.Popen(
                [*death_signal_prefix(), *self._argv(daemon)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=clean_env(),
            )
        self._procs[daemon] = proc

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Wait until the mons are in quorum and, with OSDs, all are up and a
        probe object can be written to :attr:`pool` (created the first time);
        with a manager, until the MgrMap says it is available.

        Returns:
            The seconds waited.

        Raises:
            MonClusterError: a daemon exited, or ``timeout`` passed (the message
                carries the logs' tails).
        """
        began = time.monotonic()
        deadline = began + timeout
        self._wait_quorum(timeout)
        if self.num_osds:
            self.wait_osds_up(max(1.0, deadline - time.monotonic()))
            if self.pool and not self._ready:
                self.create_pool(self.pool)
            if self.pool:
                self.probe_write(self.pool, max(1.0, deadline - time.monotonic()))
        if self.mgr:
            self.wait_mgr_available(max(1.0, deadline - time.monotonic()))
        self._ready = True
        waited = time.monotonic() - began
        if self.startup_seconds is not None:
            self.startup_seconds += waited
        return waited

    def _check_alive(self, daemons: Sequence[str]) -> None:
        for name in daemons:
            proc = self._procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise MonClusterError(
                    f"{name} exited with {proc.returncode}\n{self.log_tail(name)}")

    def _wait_quorum(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        running = [m for m in self.mon_ids if self._procs.get(m) is not None]
        while True:
            self._check_alive(running)
            if all(self._mon_ready(mid, len(running)) for mid in running):
                return
            if time.monotonic() > deadline:
                raise MonClusterError(
                    f"mons {running} not in quorum after {timeout} s\n{self.log_tail()}")
            time.sleep(0.05)

    def _mon_ready(self, mon_id: str, quorum_size: int) -> bool:
        if not all(port_listening(p) for p in self._mons[mon_id].ports):
            return False
        try:
            status = admin_socket_command(self.asok_path(mon_id), "mon_status")
        except (OSError, ValueError):
            return False
        if not isinstance(status, dict):
            return False
        quorum = status.get("quorum", [])
        return (status.get("state") in ("leader", "peon")
                and isinstance(quorum, list) and len(quorum) >= quorum_size)

    def osd_status(self, osd_id: int) -> dict[str, object] | None:
        """The OSD's admin socket ``status`` (``state``, ``newest_map``...), or None."""
        try:
            status = admin_socket_command(self.asok_path(f"osd.{osd_id}"), "status")
        except (OSError, ValueError):
            return None
        return status if isinstance(status, dict) else None

    def wait_osds_up(self, timeout: float = 30.0, osd_ids: Sequence[int] | None = None) -> None:
        """Wait until every running OSD (or those given) says it is ``active``.

        An OSD reports ``active`` once it has booted and seen itself up in the
        osdmap. Raises MonClusterError when one exits or ``timeout`` passes.
        """
        deadline = time.monotonic() + timeout
        wanted = [i for i in (self.osd_ids if osd_ids is None else osd_ids)
                  if self._procs.get(f"osd.{i}") is not None]
        while True:
            self._check_alive([f"osd.{i}" for i in wanted])
            states = {i: (self.osd_status(i) or {}).get("state") for i in wanted}
            if all(s == "active" for s in states.values()):
                return
            if time.monotonic() > deadline:
                raise MonClusterError(
                    f"OSDs not up after {timeout} s: {states}\n{self.log_tail(lines=20)}")
            time.sleep(0.05)

    def wait_mgr_available(self, timeout: float = 60.0) -> None:
        """Wait until ``ceph mgr stat`` says ``mgr.x`` is active and available
        (:func:`asyncmsgr.testing.ceph_mgr.wait_available`)."""
        wait_available(self, timeout)

    def create_pool(self, name: str, pg_num: int | None = None, size: int | None = None,
                    application: str | None = None) -> None:
        """``ceph osd pool create NAME PG PG`` (size from ``osd_pool_default_size``
        unless ``size`` is given; ``ceph osd pool application enable`` when asked:
        without a ceph-mgr nobody warns about a pool without one)."""
        pgs = str(pg_num or self.pg_num)
        self.ceph("osd", "pool", "create", name, pgs, pgs)
        if size is not None:
            self.ceph("osd", "pool", "set", name, "size", str(size),
                      "--yes-i-really-mean-it")
        if application:
            self.ceph("osd", "pool", "application", "enable", name, application)

    def probe_write(self, pool: str, timeout: float = 30.0) -> None:
        """Write then remove a probe object with the real ``rados`` (the PGs are active)."""
        probe = self.dir / "probe"
        probe.write_bytes(b"probe")
        op_timeout = f"{max(1.0, timeout):g}"
        self.rados("-p", pool, "put", _PROBE_OBJECT, str(probe),
                   f"--rados_osd_op_timeout={op_timeout}", timeout=timeout + 10)
        self.rados("-p", pool, "rm", _PROBE_OBJECT, f"--rados_osd_op_timeout={op_timeout}",
                   timeout=timeout + 10)

    def kill(self, daemon: str) -> None:
        """SIGKILL one daemon (mon id or ``osd.N``; ports and data are kept;
        a memstore OSD loses what it held since its last clean stop)."""
        self._signal_and_reap(daemon, signal.SIGKILL, grace=0.0)

    def restart(self, daemon: str) -> None:
        """Start a stopped or killed daemon again with the same data.

        A running daemon is stopped cleanly first (SIGTERM). Call
        :meth:`wait_ready` (or :meth:`wait_osds_up`) next.
        """
        if self.is_running(daemon):
            self._signal_and_reap(daemon, signal.SIGTERM, grace=20.0)
        self._spawn(daemon)

    def stop(self) -> None:
        """Stop every daemon (SIGTERM, then SIGKILL after 10 s); remove a temporary dir."""
        first = [d for d in self._procs if d.startswith(("osd.", "mgr."))]
        for name in [*first, *(d for d in self._procs if d not in first)]:
            self._signal_and_reap(name, signal.SIGTERM, grace=10.0)
        self._procs.clear()
        release_ports(self._reserved_ports)
        self._reserved_ports.clear()
        if self._dir is not None:
            if self._run_dir is not None and self._run_dir.parent != self._dir:
                shutil.rmtree(self._run_dir, ignore_errors=True)
            if not self._keep_dir:
                shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
            self._run_dir = None
        self._ready = False

    def _signal_and_reap(self, daemon: str, sig: signal.Signals, grace: float) -> None:
        proc = self._procs.get(daemon)
        if proc is None or proc.poll() is not None:
            return
        binary = self._argv(daemon)[0]
        if is_our_daemon(proc.pid, binary, self.conf_path):
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, sig)
            try:
                proc.wait(timeout=grace if grace > 0 else 10.0)
                return
            except subprocess.TimeoutExpired:
                pass
            if is_our_daemon(proc.pid, binary, self.conf_path):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10.0)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- oracles: the real CLI tools ----------------------------------------------

    def mon_status(self, mon_id: str) -> dict[str, object]:
        """``mon_status`` from the mon's admin socket."""
        status = admin_socket_command(self.asok_path(mon_id), "mon_status")
        if not isinstance(status, dict):
            raise MonClusterError(f"unexpected mon_status reply {status!r}")
        return status

    def ceph_argv(self, *args: str, connect_timeout: float = 10.0) -> list[str]:
        """The ``ceph`` command line for ``args`` against this cluster."""
        return ["ceph", "-c", str(self.conf_path), "-k", str(self.keyring_path),
                "--connect-timeout", f"{connect_timeout:g}", *args]

    def rados_argv(self, *args: str) -> list[str]:
        """The ``rados`` command line for ``args`` against this cluster."""
        return ["rados", "-c", str(self.conf_path), "-k", str(self.keyring_path), *args]

    def _run(self, argv: list[str], timeout: float, env: Mapping[str, str] | None,
             stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.run(argv, capture_output=True, timeout=timeout, input=stdin,
                              env=clean_env(env), check=False)
        if proc.returncode != 0:
            raise CephCommandError(argv, proc.returncode,
                                   proc.stdout.decode(errors="replace"),
                                   proc.stderr.decode(errors="replace"))
        return proc

    def ceph(self, *args: str, timeout: float = 30.0, connect_timeout: float = 10.0,
             env: Mapping[str, str] | None = None) -> str:
        """Run the real ``ceph`` CLI against this cluster; returns its stdout.

        Raises:
            CephCommandError: non-zero exit (carries stderr).
            subprocess.TimeoutExpired: it ran longer than ``timeout``.
        """
        argv = self.ceph_argv(*args, connect_timeout=connect_timeout)
        return self._run(argv, timeout, env).stdout.decode(errors="replace")

    def ceph_json(self, *args: str, timeout: float = 30.0) -> object:
        """:meth:`ceph` with ``--format json``, decoded."""
        return json.loads(self.ceph(*args, "--format", "json", timeout=timeout))

    def rados(self, *args: str, timeout: float = 60.0, env: Mapping[str, str] | None = None,
              stdin: bytes | None = None) -> bytes:
        """Run the real ``rados`` tool against this cluster; returns its stdout bytes.

        Raises CephCommandError (non-zero exit) or subprocess.TimeoutExpired.
        """
        return self._run(self.rados_argv(*args), timeout, env, stdin).stdout

    def osd_dump(self) -> dict[str, Any]:
        """``ceph osd dump --format json``."""
        dump = self.ceph_json("osd", "dump")
        if not isinstance(dump, dict):
            raise MonClusterError(f"unexpected osd dump {dump!r}")
        return dump

    def pool_id(self, name: str) -> int:
        """The id of pool ``name`` (from ``ceph osd dump``); KeyError if absent."""
        for p in self.osd_dump().get("pools", []):
            if p.get("pool_name") == name:
                return int(p["pool"])
        raise KeyError(name)

    def osd_addrs(self, osd_id: int) -> str:
        """The OSD's public addrvec as Ceph prints it (``[v2:IP:PORT/NONCE,v1:...]``)."""
        for osd in self.osd_dump().get("osds", []):
            if osd.get("osd") == osd_id:
                vec = osd["public_addrs"]["addrvec"]
                return "[" + ",".join(
                    f"{a['type']}:{a['addr']}/{a['nonce']}" for a in vec) + "]"
        raise KeyError(osd_id)


#: The mons-only name of the cluster class (the first fixtures used it).
MonCluster = CephCluster

#: ``factory(**CephCluster options)`` -> a started, ready cluster.
MonClusterFactory = Callable[..., CephCluster]
CephClusterFactory = MonClusterFactory


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m asyncmsgr.testing.ceph_cluster``: run a cluster until signalled
    (see :mod:`asyncmsgr.testing.ceph_cluster_main`)."""
    from asyncmsgr.testing.ceph_cluster_main import run  # noqa: PLC0415  (CLI only)

    return run(argv)


__all__ = [
    "ADMIN_KEY",
    "FSID",
    "MON_KEY",
    "CephCluster",
    "CephClusterError",
    "CephClusterFactory",
    "CephCommandError",
    "MonCluster",
    "MonClusterError",
    "MonClusterFactory",
    "MonSpec",
    "MsgrMode",
    "admin_socket_command",
    "ceph_binary",
    "ceph_mon_binary",
    "ceph_osd_binary",
    "main",
    "osd_key",
    "osd_uuid",
    "pick_ports",
]

if __name__ == "__main__":
    raise SystemExit(main())
