"""Real Ceph monitors on 127.0.0.1 for interop tests (wire-protocol.md §1.1).

:class:`MonCluster` builds a throw-away cluster of one or two ``ceph-mon``
daemons in a temporary directory, without systemd, exactly along the §1.1
recipe: free ports picked when it starts (a msgr2 and a msgr1 port per mon, or
only a msgr1 port for a v1-only cluster), a fixed fsid, the fixed test keys of
§1.2 for ``mon.`` and ``client.admin`` (written by ``ceph-authtool``), a monmap
from ``monmaptool --create --enable-all-features --set-min-mon-release 16``,
``ceph-mon --mkfs`` and then ``ceph-mon -f`` in the background. Every daemon is
stopped by its PID (after checking ``/proc/PID/cmdline``, against PID reuse).

Readiness (:meth:`MonCluster.wait_ready`) is polled without spawning the ``ceph``
CLI: each mon's ports must accept a TCP connection and its admin socket must
report ``leader``/``peon`` with every running mon in the quorum. The admin
socket protocol is a command in JSON terminated by a NUL byte, answered by a
big-endian u32 length and the JSON reply.

Typical use (the fixtures in ``conftest.py`` do this)::

    with MonCluster(num_mons=1, auth_none=True) as cluster:
        cluster.wait_ready()
        status = json.loads(cluster.ceph("-s", "--format", "json"))

Daemons started here also get a parent-death signal (SIGKILL, through
util-linux ``setpriv --pdeathsig``), so they die with the test process even if
teardown never runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

#: The fixed fsid of the captures (wire-protocol.md §1.1).
FSID = "5a1d0c1e-0000-4000-8000-00000000c0de"
#: Fixed test keys (wire-protocol.md §1.2); test-only secrets.
MON_KEY = "AQDeHAZrH2VhHhAA+DhmW6shUSjwixiftkmR7g=="
ADMIN_KEY = "AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg=="

#: Which messengers the mons bind.
MsgrMode = Literal["v2+v1", "v1"]

MON_IDS = ("a", "b", "c")
_PORT_RANGES = {"v2": (3300, 3399), "v1": (6789, 6899)}


class CephCommandError(RuntimeError):
    """A ``ceph`` CLI call failed; carries the command, exit status and stderr."""

    def __init__(self, argv: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        super().__init__(
            f"{' '.join(argv)} exited with {returncode}:\n{stderr.strip() or stdout.strip()}")
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


class MonClusterError(RuntimeError):
    """The cluster could not be built, started or did not become ready."""


def ceph_mon_binary() -> str | None:
    """Path of ``ceph-mon`` (PATH, then /usr/bin and /usr/sbin), or None."""
    found = shutil.which("ceph-mon")
    if found:
        return found
    for candidate in ("/usr/bin/ceph-mon", "/usr/sbin/ceph-mon"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_ports(kind: str, count: int, taken: set[int]) -> list[int]:
    """``count`` free ports of the 3300 (``v2``) or 6789 (``v1``) range.

    The scan starts at a random offset so that parallel test sessions rarely
    race for the same port; a port is free when it can be bound on 127.0.0.1.
    """
    low, high = _PORT_RANGES[kind]
    span = high - low + 1
    start = random.randrange(span)
    out: list[int] = []
    for i in range(span):
        port = low + (start + i) % span
        if port not in taken and _port_free(port):
            out.append(port)
            taken.add(port)
            if len(out) == count:
                return out
    raise MonClusterError(f"no free {kind} ports in {low}-{high}")


def _death_signal_prefix() -> list[str]:
    """``setpriv --pdeathsig KILL --`` (util-linux) when available, else nothing.

    setpriv sets the parent-death signal and execs the daemon in place, so the mon
    keeps our process as its parent and dies with it; no ``preexec_fn`` needed.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


def admin_socket_command(path: Path, prefix: str, timeout: float = 1.0) -> object:
    """Run one admin socket command and return its decoded JSON reply.

    Raises:
        OSError: the socket is absent or the daemon did not answer in time.
        ValueError: the reply is not JSON.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(json.dumps({"prefix": prefix, "format": "json"}).encode() + b"\0")
        head = _recv_exact(sock, 4)
        (length,) = struct.unpack(">I", head)
        body = _recv_exact(sock, length)
    return json.loads(body)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("admin socket closed early")
        data += chunk
    return bytes(data)


def _port_listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass(frozen=True, slots=True)
class MonSpec:
    """One monitor of the cluster: its id and ports (``v2_port`` 0 when v1-only)."""

    mon_id: str
    v2_port: int
    v1_port: int

    @property
    def addrvec(self) -> str:
        """Its addresses as Ceph prints an addrvec (no nonces)."""
        if self.v2_port:
            return f"[v2:127.0.0.1:{self.v2_port},v1:127.0.0.1:{self.v1_port}]"
        return f"[v1:127.0.0.1:{self.v1_port}]"

    @property
    def mon_host(self) -> str:
        """Its ``mon_host`` entry: the addrvec, or ``v1:IP:PORT`` when v1-only."""
        if self.v2_port:
            return self.addrvec
        return f"v1:127.0.0.1:{self.v1_port}"

    @property
    def ports(self) -> tuple[int, ...]:
        """The ports it listens on."""
        return tuple(p for p in (self.v2_port, self.v1_port) if p)


class MonCluster:
    """One or two real ``ceph-mon`` daemons on 127.0.0.1 in a temporary directory.

    Args:
        num_mons: 1, 2 or 3 (mon ids ``a``, ``b``, ``c``).
        auth_none: also allow auth method none (``auth_service_required`` and
            ``auth_client_required`` = ``"cephx, none"``); cephx only otherwise.
        msgr: ``"v2+v1"`` (both messengers, the default) or ``"v1"`` (msgr v1
            only: ``ms_bind_msgr2 = false`` and a v1-only monmap).
        extra_conf: more ``[global]`` options (name -> value), written last.
        base_dir: parent of the temporary directory (default: the system's).
        keep_dir: keep the directory after :meth:`stop` (for debugging).
    """

    def __init__(self, *, num_mons: int = 1, auth_none: bool = True,
                 msgr: MsgrMode = "v2+v1", extra_conf: Mapping[str, str] | None = None,
                 base_dir: str | Path | None = None, keep_dir: bool = False) -> None:
        if num_mons not in (1, 2, 3):
            raise ValueError("num_mons must be 1, 2 or 3")
        if msgr not in ("v2+v1", "v1"):
            raise ValueError("msgr must be 'v2+v1' or 'v1'")
        self.num_mons = num_mons
        self.auth_none = auth_none
        self.msgr: MsgrMode = msgr
        self.extra_conf = dict(extra_conf or {})
        self._base_dir = base_dir
        self._keep_dir = keep_dir
        self._dir: Path | None = None
        self._mons: dict[str, MonSpec] = {}
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self.startup_seconds: float | None = None
        """Wall time of the last :meth:`start` plus :meth:`wait_ready`."""

    # --- paths and addresses -----------------------------------------------------

    @property
    def is_started(self) -> bool:
        """Whether :meth:`start` ran and :meth:`stop` did not (yet)."""
        return self._dir is not None

    @property
    def dir(self) -> Path:
        """The cluster's temporary directory."""
        if self._dir is None:
            raise MonClusterError("cluster not started")
        return self._dir

    @property
    def conf_path(self) -> Path:
        """``ceph.conf`` of the cluster."""
        return self.dir / "ceph.conf"

    @property
    def keyring_path(self) -> Path:
        """Keyring holding ``mon.`` and ``client.admin``."""
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
    def mon_addrs(self) -> list[str]:
        """Each mon's addrvec, e.g. ``[v2:127.0.0.1:3300,v1:127.0.0.1:6789]``."""
        return [m.addrvec for m in self.mons]

    @property
    def mon_host(self) -> str:
        """The ``mon_host`` value written into ``ceph.conf``."""
        return ",".join(m.mon_host for m in self.mons)

    def log_path(self, mon_id: str) -> Path:
        """The mon's own log file (``debug_ms = 1``)."""
        return self.dir / "log" / f"ceph-mon.{mon_id}.log"

    def stdout_path(self, mon_id: str) -> Path:
        """Where the daemon's stdout and stderr go."""
        return self.dir / "log" / f"mon.{mon_id}.stdout"

    def asok_path(self, mon_id: str) -> Path:
        """The mon's admin socket."""
        return self.dir / "run" / f"ceph-mon.{mon_id}.asok"

    def pid(self, mon_id: str) -> int | None:
        """PID of the running daemon, or None."""
        proc = self._procs.get(mon_id)
        if proc is None or proc.poll() is not None:
            return None
        return proc.pid

    def is_running(self, mon_id: str) -> bool:
        """Whether the mon's process is alive."""
        return self.pid(mon_id) is not None

    def log_tail(self, mon_id: str | None = None, lines: int = 40) -> str:
        """The last ``lines`` of each (or one) mon's stdout and log, for failure reports."""
        out: list[str] = []
        for mid in [mon_id] if mon_id else self.mon_ids:
            for path in (self.stdout_path(mid), self.log_path(mid)):
                try:
                    text = path.read_text(errors="replace").splitlines()[-lines:]
                except OSError:
                    continue
                out.append(f"==> {path} <==")
                out.extend(text)
        return "\n".join(out)

    # --- life cycle --------------------------------------------------------------

    def start(self) -> None:
        """Build the cluster directory, keyring, monmap and mon stores, start the mons.

        Call :meth:`wait_ready` next. Raises MonClusterError when a tool fails.
        """
        if self._dir is not None:
            raise MonClusterError("cluster already started")
        if ceph_mon_binary() is None:
            raise MonClusterError("ceph-mon is not installed")
        began = time.monotonic()
        self._dir = Path(tempfile.mkdtemp(prefix="asyncmsgr-mon-", dir=self._base_dir))
        try:
            for sub in ("run", "log", "mon"):
                (self._dir / sub).mkdir()
            taken: set[int] = set()
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
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began

    def _render_conf(self) -> str:
        d = self.dir
        auth_open = "cephx, none" if self.auth_none else "cephx"
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
            "mon_warn_on_insecure_global_id_reclaim": "false",
            "mon_warn_on_insecure_global_id_reclaim_allowed": "false",
            "mon_warn_on_pool_no_redundancy": "false",
            "osd_pool_default_size": "1",
            # temp dirs may sit on a small tmpfs: never warn or shut down for space
            "mon_data_avail_warn": "1",
            "mon_data_avail_crit": "0",
            "run_dir": f"{d}/run",
            "admin_socket": f"{d}/run/$cluster-$name.asok",
            "log_file": f"{d}/log/$cluster-$name.log",
            "keyring": str(d / "keyring"),
        }
        glob.update(self.extra_conf)
        lines = ["[global]"]
        lines.extend(f"    {k} = {v}" for k, v in glob.items())
        lines += [
            "[mon]",
            f"    mon_data = {d}/mon/$cluster-$id",
            f"    mon_cluster_log_file = {d}/log/cluster.log",
            "    debug_ms = 1",
        ]
        return "\n".join(lines) + "\n"

    def _make_keyring(self) -> None:
        ring = str(self.keyring_path)
        self._run_tool("ceph-authtool", "--create-keyring", ring, "--name", "mon.",
                       "--add-key", MON_KEY, "--cap", "mon", "allow *")
        self._run_tool("ceph-authtool", ring, "--name", "client.admin", "--add-key", ADMIN_KEY,
                       "--cap", "mon", "allow *", "--cap", "osd", "allow *",
                       "--cap", "mds", "allow *", "--cap", "mgr", "allow *")

    def _make_monmap(self) -> None:
        args = ["monmaptool", "--create", "--clobber", "--fsid", FSID,
                "--enable-all-features", "--set-min-mon-release", "16"]
        for mon in self.mons:
            args += ["--addv", mon.mon_id, mon.addrvec]
        args.append(str(self.dir / "monmap"))
        self._run_tool(*args)

    def _run_tool(self, *argv: str) -> str:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        if proc.returncode != 0:
            raise MonClusterError(
                f"{' '.join(argv)} exited with {proc.returncode}: "
                f"{proc.stderr.strip() or proc.stdout.strip()}")
        return proc.stdout

    def _spawn(self, mon_id: str) -> None:
        with self.stdout_path(mon_id).open("ab") as out:
            proc = subprocess.Popen(
                [*_death_signal_prefix(), "ceph-mon", "-c", str(self.conf_path),
                 "-i", mon_id, "-f"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )
        self._procs[mon_id] = proc

    def wait_ready(self, timeout: float = 30.0) -> float:
        """Wait until every running mon listens and all of them are in quorum.

        Returns:
            The seconds waited.

        Raises:
            MonClusterError: a mon exited, or ``timeout`` passed (the message
                carries the mons' log tails).
        """
        began = time.monotonic()
        deadline = began + timeout
        running = [m for m in self.mon_ids if self._procs.get(m) is not None]
        while True:
            for mid in running:
                proc = self._procs[mid]
                if proc.poll() is not None:
                    raise MonClusterError(
                        f"mon.{mid} exited with {proc.returncode}\n{self.log_tail(mid)}")
            if all(self._mon_ready(mid, len(running)) for mid in running):
                break
            if time.monotonic() > deadline:
                raise MonClusterError(
                    f"mons {running} not in quorum after {timeout} s\n{self.log_tail()}")
            time.sleep(0.05)
        waited = time.monotonic() - began
        if self.startup_seconds is not None:
            self.startup_seconds += waited
        return waited

    def _mon_ready(self, mon_id: str, quorum_size: int) -> bool:
        if not all(_port_listening(p) for p in self._mons[mon_id].ports):
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

    def mon_status(self, mon_id: str) -> dict[str, object]:
        """``mon_status`` from the mon's admin socket."""
        status = admin_socket_command(self.asok_path(mon_id), "mon_status")
        if not isinstance(status, dict):
            raise MonClusterError(f"unexpected mon_status reply {status!r}")
        return status

    def kill(self, mon_id: str) -> None:
        """SIGKILL one mon (its store and ports are kept for :meth:`restart`)."""
        self._signal_and_reap(mon_id, signal.SIGKILL, grace=0.0)

    def restart(self, mon_id: str) -> None:
        """Start a stopped or killed mon again with the same ports and data.

        A running mon is stopped first. Call :meth:`wait_ready` next.
        """
        if self.is_running(mon_id):
            self._signal_and_reap(mon_id, signal.SIGTERM, grace=10.0)
        self._spawn(mon_id)

    def stop(self) -> None:
        """Stop every mon (SIGTERM, then SIGKILL after 10 s) and remove the directory."""
        for mid in list(self._procs):
            self._signal_and_reap(mid, signal.SIGTERM, grace=10.0)
        self._procs.clear()
        if self._dir is not None and not self._keep_dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _signal_and_reap(self, mon_id: str, sig: signal.Signals, grace: float) -> None:
        proc = self._procs.get(mon_id)
        if proc is None or proc.poll() is not None:
            return
        if _is_our_mon(proc.pid, self.conf_path):
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, sig)
            try:
                proc.wait(timeout=grace if grace > 0 else 10.0)
                return
            except subprocess.TimeoutExpired:
                pass
            if _is_our_mon(proc.pid, self.conf_path):
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

    # --- oracle ------------------------------------------------------------------

    def ceph_argv(self, *args: str, connect_timeout: float = 10.0) -> list[str]:
        """The ``ceph`` command line for ``args`` against this cluster."""
        return ["ceph", "-c", str(self.conf_path), "-k", str(self.keyring_path),
                "--connect-timeout", f"{connect_timeout:g}", *args]

    def ceph(self, *args: str, timeout: float = 30.0, connect_timeout: float = 10.0,
             env: Mapping[str, str] | None = None) -> str:
        """Run the real ``ceph`` CLI against this cluster; returns its stdout.

        Raises:
            CephCommandError: non-zero exit (carries stderr).
            subprocess.TimeoutExpired: it ran longer than ``timeout``.
        """
        argv = self.ceph_argv(*args, connect_timeout=connect_timeout)
        run_env = {k: v for k, v in os.environ.items() if k not in ("CEPH_ARGS", "CEPH_CONF")}
        if env:
            run_env.update(env)
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              env=run_env, check=False)
        if proc.returncode != 0:
            raise CephCommandError(argv, proc.returncode, proc.stdout, proc.stderr)
        return proc.stdout

    def ceph_json(self, *args: str, timeout: float = 30.0) -> object:
        """:meth:`ceph` with ``--format json``, decoded."""
        return json.loads(self.ceph(*args, "--format", "json", timeout=timeout))


#: ``mon_cluster_factory(**MonCluster options)`` -> a started, ready cluster.
MonClusterFactory = Callable[..., MonCluster]


def _is_our_mon(pid: int, conf_path: Path) -> bool:
    """True when ``pid`` is still a ceph-mon started with our ``ceph.conf``."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    argv = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    return (bool(argv) and os.path.basename(argv[0]) == "ceph-mon"
            and str(conf_path) in argv)


__all__ = [
    "ADMIN_KEY",
    "FSID",
    "MON_KEY",
    "CephCommandError",
    "MonCluster",
    "MonClusterError",
    "MonClusterFactory",
    "MonSpec",
    "MsgrMode",
    "admin_socket_command",
    "ceph_mon_binary",
    "pick_ports",
]
