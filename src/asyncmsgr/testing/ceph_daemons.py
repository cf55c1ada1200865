"""Building blocks of :mod:`asyncmsgr.testing.ceph_cluster`: test keys, ports, binaries.

* the fixed test identity: :data:`FSID`, :data:`MON_KEY`, :data:`ADMIN_KEY`,
  :func:`osd_key` and :func:`osd_uuid` (test-only secrets, wire-protocol.md §1);
* where the Ceph programs are (:func:`ceph_binary`), free reserved ports
  (:func:`pick_ports`, :func:`release_ports`), a daemon's admin socket
  (:func:`admin_socket_command`),
  the parent-death signal prefix and the PID-reuse guard used to stop daemons;
* :class:`MonSpec`, one monitor's id and ports; the errors.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import random
import shutil
import socket
import struct
import tempfile
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: The fixed fsid of the captures (wire-protocol.md §1.1).
FSID = "5a1d0c1e-0000-4000-8000-00000000c0de"
#: Fixed test keys (wire-protocol.md §1.2); test-only secrets.
MON_KEY = "AQDeHAZrH2VhHhAA+DhmW6shUSjwixiftkmR7g=="
ADMIN_KEY = "AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg=="

#: Which messengers the daemons bind.
MsgrMode = Literal["v2+v1", "v1"]

MON_IDS = ("a", "b", "c")
#: v1 is not Ceph's 6789 neighbourhood: 6800-7300 is ms_bind_port_min..max, where
#: every messenger of the test process binds (a mon given a port picked there lost
#: it to a messenger that bound between the pick and the mon's bind).
_PORT_RANGES = {"v2": (3300, 3399), "v1": (7600, 7699)}
#: OSDs bind here (Ceph's ``ms_bind_port_min/max``), away from the mons' v1 range.
OSD_PORTS = (6900, 7599)
OSD_CAPS = ("mon", "allow profile osd", "mgr", "allow profile osd", "osd", "allow *")


class CephCommandError(RuntimeError):
    """A ``ceph``/``rados`` CLI call failed; carries the command, exit status and stderr."""

    def __init__(self, argv: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        super().__init__(
            f"{' '.join(argv)} exited with {returncode}:\n{stderr.strip() or stdout.strip()}")
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


class MonClusterError(RuntimeError):
    """The cluster could not be built, started or did not become ready."""


#: The same error under the cluster's name.
CephClusterError = MonClusterError


def ceph_binary(name: str) -> str | None:
    """Path of a Ceph program (PATH, then /usr/bin and /usr/sbin), or None."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in (f"/usr/bin/{name}", f"/usr/sbin/{name}"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def ceph_mon_binary() -> str | None:
    """Path of ``ceph-mon``, or None."""
    return ceph_binary("ceph-mon")


def ceph_osd_binary() -> str | None:
    """Path of ``ceph-osd``, or None."""
    return ceph_binary("ceph-osd")


def osd_key(osd_id: int) -> str:
    """The fixed test key of ``osd.ID`` (base64 ``CryptoKey``; test-only secret).

    Layout: le16 type 1 (AES), le32 created seconds, le32 nanoseconds, le16 16,
    then 16 secret bytes derived from the id.
    """
    secret = hashlib.sha256(f"asyncmsgr test osd.{osd_id}".encode()).digest()[:16]
    raw = struct.pack("<HIIH", 1, 1_700_000_000, 0, 16) + secret
    return base64.b64encode(raw).decode()


def osd_uuid(osd_id: int) -> str:
    """The fixed uuid of ``osd.ID``."""
    return str(uuid.UUID(int=(0x5A1D0C1E_0000_4000_8000_0000_0000_0000) | (osd_id + 1)))


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


#: Lock files by which the test processes of this machine reserve mon ports
#: (:func:`pick_ports`); one ``PORT.lock`` per port, held with ``flock``. Under
#: the temp dir: processes run with different ``TMPDIR`` do not see each other's.
PORT_LOCK_DIR = Path(tempfile.gettempdir()) / "asyncmsgr-ports"
#: Reservations held by this process: port -> file descriptor of its locked file.
_held_ports: dict[int, int] = {}


def _reserve(port: int) -> bool:
    """Take the machine-wide reservation of ``port``; False when another holds it.

    Without a usable lock directory (not writable) nothing is reserved and
    True is returned: the bind check alone then decides, as before.
    """
    if port in _held_ports:
        return False
    try:
        PORT_LOCK_DIR.mkdir(exist_ok=True)
        fd = os.open(PORT_LOCK_DIR / f"{port}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _held_ports[port] = fd
    return True


def release_ports(ports: Iterable[int]) -> None:
    """Give back the reservations :func:`pick_ports` took for ``ports`` (held
    ones only; the others are ignored). A process's reservations also end
    when it exits."""
    for port in ports:
        fd = _held_ports.pop(port, None)
        if fd is not None:
            os.close(fd)  # closing the only descriptor drops the flock


def pick_ports(kind: str, count: int, taken: set[int]) -> list[int]:
    """``count`` free ports of the 3300 (``v2``) or 7600 (``v1``) range, reserved.

    A port is picked when it can be bound on 127.0.0.1 and its machine-wide
    reservation (a ``flock`` on ``PORT_LOCK_DIR/PORT.lock``) could be taken.
    The reservation stays held until :func:`release_ports` (or the process
    ends), so a daemon stopped and restarted on it does not lose it to another
    test process picking ports meanwhile (the bind check alone sees a stopped
    daemon's port as free). The scan starts at a random offset so that
    parallel test sessions rarely contend for the same port.
    """
    low, high = _PORT_RANGES[kind]
    span = high - low + 1
    start = random.randrange(span)
    out: list[int] = []
    for i in range(span):
        port = low + (start + i) % span
        if port in taken or not _reserve(port):
            continue
        if not _port_free(port):
            release_ports([port])
            continue
        out.append(port)
        taken.add(port)
        if len(out) == count:
            return out
    release_ports(out)
    raise MonClusterError(f"no free {kind} ports in {low}-{high}")


def death_signal_prefix() -> list[str]:
    """``setpriv --pdeathsig KILL --`` (util-linux) when available, else nothing.

    setpriv sets the parent-death signal and execs the daemon in place, so the
    daemon keeps our process as its parent and dies with it.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


def admin_socket_command(path: Path, prefix: str, timeout: float = 1.0) -> object:
    """Run one admin socket command and return its decoded JSON reply.

    The protocol: the command as JSON and a NUL byte; the reply is a big-endian
    u32 length and the JSON.

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


def port_listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def clean_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    run_env = {k: v for k, v in os.environ.items() if k not in ("CEPH_ARGS", "CEPH_CONF")}
    if env:
        run_env.update(env)
    return run_env


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


def is_our_daemon(pid: int, binary: str, conf_path: Path) -> bool:
    """True when ``pid`` is still ``binary`` started with our ``ceph.conf``."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    argv = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    return (bool(argv) and os.path.basename(argv[0]) == binary
            and str(conf_path) in argv)


__all__ = [
    "ADMIN_KEY",
    "FSID",
    "MON_IDS",
    "MON_KEY",
    "OSD_CAPS",
    "OSD_PORTS",
    "PORT_LOCK_DIR",
    "CephClusterError",
    "CephCommandError",
    "MonClusterError",
    "MonSpec",
    "MsgrMode",
    "admin_socket_command",
    "ceph_binary",
    "ceph_mon_binary",
    "ceph_osd_binary",
    "clean_env",
    "death_signal_prefix",
    "is_our_daemon",
    "osd_key",
    "osd_uuid",
    "pick_ports",
    "port_listening",
    "release_ports",
]
