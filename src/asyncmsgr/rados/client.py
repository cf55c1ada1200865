"""``Rados``: a connection to a Ceph cluster (python-rados' ``Rados`` on asyncio).

::

    async with Rados(conffile="/etc/ceph/ceph.conf") as cluster:
        print(await cluster.list_pools())
        async with await cluster.open_ioctx("rbd") as ioctx:
            await ioctx.write_full("greeting", b"hello")
            print(await ioctx.read("greeting"))

Configuration is read as python-rados reads it: ``conffile`` (a path; None or
:data:`Rados.DEFAULT_CONF_FILES` searches ``$CEPH_CONF`` and Ceph's default
paths; the default, :data:`Rados.NO_CONF_FILE`, reads none), then ``conf``
(option -> value), then :meth:`conf_set`; ``name``/``rados_id`` choose the
entity (``client.admin`` by default) and ``keyring`` the keyring file.
:meth:`conf_parse_env` / :meth:`conf_parse_argv` add ``CEPH_ARGS`` / command
line options. :meth:`connect` authenticates with the monitors (cephx or none;
msgr2 crc or secure, or msgr v1) and waits for the first osdmap.
"""

from __future__ import annotations

import errno
import os
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any

from asyncmsgr.auth.base import AuthClient, parse_auth_methods
from asyncmsgr.auth.cephx import CephxClient, CryptoKey, Keyring, KeyringError
from asyncmsgr.auth.none import AuthNoneClient
from asyncmsgr.frames.v2 import AUTH_CEPHX, AUTH_NONE
from asyncmsgr.messenger import mode_options
from asyncmsgr.monc.client import (
    MonAuthError,
    MonClient,
    MonClientError,
    MonClientOptions,
    MonTimeout,
)
from asyncmsgr.monc.conf import ClientSettings, ConfEnv, ConfError, load_client_settings
from asyncmsgr.osdc.monops import MonOpError, MonOps
from asyncmsgr.osdc.objecter import Objecter
from asyncmsgr.osdc.op import ObjecterOptions

from .errors import (
    Error,
    InvalidArgumentError,
    ObjectNotFound,
    RadosStateError,
    TimedOut,
    make_ex,
)
from .ioctx import IoCtx

__all__ = ["Rados"]

_FLOAT_OPTIONS = {
    "rados_osd_op_timeout": ("osd_op_timeout", 0.0),
    "objecter_tick_interval": ("tick_interval", 5.0),
    "objecter_timeout": ("laggy_timeout", 10.0),
    "client_notify_timeout": ("notify_timeout", 10.0),
    "rados_mon_op_timeout": ("mon_op_timeout", 0.0),
}
_INT_OPTIONS = {
    "objecter_inflight_ops": ("inflight_ops", 1024),
    "objecter_inflight_op_bytes": ("inflight_op_bytes", 100 << 20),
    "osd_client_op_priority": ("op_priority", 63),
    "osd_client_watch_timeout": ("watch_timeout", 30),
}


def objecter_options(options: Mapping[str, str]) -> ObjecterOptions:
    """The Objecter's options from Ceph option values (names as in ceph.conf)."""
    kw: dict[str, Any] = {}
    try:
        for name, (field, _) in _FLOAT_OPTIONS.items():
            if name in options:
                kw[field] = float(options[name])
        for name, (field, _) in _INT_OPTIONS.items():
            if name in options:
                kw[field] = int(float(options[name]))
    except ValueError as exc:
        raise InvalidArgumentError(f"bad option value: {exc}", errno.EINVAL) from None
    return ObjecterOptions(**kw)


class Rados:
    """A client of one cluster: the MonClient, the Objecter, pools and IoCtxs."""

    #: ``conffile`` value: search ``$CEPH_CONF`` and Ceph's default paths.
    DEFAULT_CONF_FILES = -2
    #: ``conffile`` value: read no configuration file (python-rados' default).
    NO_CONF_FILE = -1

    def __init__(self, rados_id: str | None = None, name: str | None = None,
                 clustername: str | None = None,
                 conf_defaults: Mapping[str, str] | None = None,
                 conffile: str | int | None = NO_CONF_FILE,
                 conf: Mapping[str, str] | None = None, *, keyring: str | None = None,
                 env: ConfEnv | None = None) -> None:
        if rados_id and name:
            raise Error("Rados(): can't supply both rados_id and name")
        if rados_id:
            name = f"client.{rados_id}"
        self.name = name or "client.admin"
        self.clustername = clustername or ""
        self.state = "configuring"
        self._env = env or ConfEnv.from_os()
        self._conf: dict[str, str] = {}
        self._conffile: str | None = None
        self._read_conf = False
        self._argv: list[str] = []
        self._parse_env = False
        for key, value in (conf_defaults or {}).items():
            self.conf_set(key, value)
        if conffile is None or conffile == self.DEFAULT_CONF_FILES:
            self.conf_read_file()
        elif isinstance(conffile, str) and conffile:
            self.conf_read_file(conffile)
        for key, value in (conf or {}).items():
            self.conf_set(key, value)
        if keyring is not None:
            self.conf_set("keyring", keyring)
        self.settings: ClientSettings | None = None
        self.monc: MonClient | None = None
        self._objecter: Objecter | None = None
        self._mon_ops: MonOps | None = None

    def __repr__(self) -> str:
        return f"<Rados {self.name} {self.state}>"

    # -- configuration ------------------------------------------------------------------

    def require_state(self, *states: str) -> None:
        """Raise RadosStateError unless in one of ``states``."""
        if self.state not in states:
            raise RadosStateError(f"You cannot perform that operation on a Rados object in "
                                  f"state {self.state}.")

    def conf_read_file(self, path: str | None = None) -> None:
        """Read ``path`` (None: the default search) when connecting."""
        self.require_state("configuring")
        self._conffile = path
        self._read_conf = True

    def conf_set(self, option: str, val: str) -> None:
        """Set a Ceph option (wins over the file)."""
        self.require_state("configuring")
        self._conf[option.replace("-", "_").strip()] = str(val)

    def conf_get(self, option: str) -> str | None:
        """An option's value (set, read from the file, or Ceph's default)."""
        key = option.replace("-", "_").strip()
        if key in self._conf:
            return self._conf[key]
        settings = self.settings or self._load()
        return settings.get(key)

    def conf_parse_argv(self, args: Sequence[str]) -> None:
        """Take Ceph options from command-line arguments (``--id``, ``-c``, ``--opt=v``)."""
        self.require_state("configuring")
        self._argv.extend(args)

    def conf_parse_env(self, var: str | None = "CEPH_ARGS") -> None:
        """Take Ceph options from the environment variable ``var`` (CEPH_ARGS)."""
        self.require_state("configuring")
        if var and var != "CEPH_ARGS":
            self._argv.extend(self._env.environ.get(var, "").split())
        else:
            self._parse_env = True

    def _load(self) -> ClientSettings:
        argv: list[str] = []
        if self._read_conf and self._conffile:
            argv += ["-c", self._conffile]
        if self.clustername:
            argv += ["--cluster", self.clustername]
        argv += ["--name", self.name]
        argv += self._argv
        for key, value in self._conf.items():
            argv.append(f"--{key}={value}")
        environ = dict(self._env.environ)
        if not self._parse_env:
            environ.pop("CEPH_ARGS", None)
        env = ConfEnv(environ=environ,
                      read_file=self._env.read_file if self._read_conf else _no_file,
                      hostname=self._env.hostname, home=self._env.home, pid=self._env.pid)
        try:
            settings = load_client_settings(argv, env=env)
        except ConfError as exc:
            raise InvalidArgumentError(str(exc), errno.EINVAL) from None
        if settings.unresolved_mon_hosts:
            settings = settings.resolve_mons(_resolver)
        return settings

    # -- connection ---------------------------------------------------------------------

    async def connect(self, timeout: float = 0) -> None:
        """Authenticate with the monitors and wait for the first osdmap."""
        self.require_state("configuring")
        settings = self._load()
        self.settings = settings
        options = dict(settings.options)
        options.update(self._conf)
        mount = timeout or settings.client_mount_timeout
        monc_options = MonClientOptions(
            hunt_interval=settings.mon_client_hunt_interval,
            hunt_parallel=settings.mon_client_hunt_parallel,
            ping_interval=settings.mon_client_ping_interval,
            ping_timeout=settings.mon_client_ping_timeout,
            mount_timeout=mount, op_timeout=settings.rados_mon_op_timeout,
            hostname=socket.gethostname().split(".")[0])
        auth = make_auth_client(settings)
        monc = MonClient(settings.mon_addrs, auth_client=auth,
                         config=settings.messenger_config, options=monc_options)
        try:
            await monc.connect(mount)
        except MonAuthError as exc:
            await monc.shutdown()
            r = exc.result if exc.msgr_v1 else -errno.EACCES
            raise make_ex(r, f"error connecting to the cluster: {exc}") from None
        except MonTimeout as exc:
            await monc.shutdown()
            raise TimedOut(f"error connecting to the cluster: {exc}", errno.ETIMEDOUT) \
                from None
        except MonClientError as exc:
            await monc.shutdown()
            raise make_ex(-errno.EINVAL, f"error connecting to the cluster: {exc}") \
                from None
        self.monc = monc
        objecter = Objecter(monc, options=objecter_options(options))
        self._objecter = objecter
        self._mon_ops = MonOps(objecter)
        objecter.start()
        try:
            await objecter.wait_for_osd_map(timeout=mount or None)
        except TimeoutError:
            await self._teardown()
            raise TimedOut("error connecting to the cluster: no osdmap",
                           errno.ETIMEDOUT) from None
        self.state = "connected"

    async def shutdown(self) -> None:
        """Fail what is in flight (ConnectionShutdown) and disconnect."""
        if self.state == "shutdown":
            return
        await self._teardown()
        self.state = "shutdown"

    async def _teardown(self) -> None:
        if self._objecter is not None:
            await self._objecter.shutdown()
        if self.monc is not None:
            await self.monc.shutdown()

    async def __aenter__(self) -> Rados:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    @property
    def objecter(self) -> Objecter:
        """The Objecter (after :meth:`connect`)."""
        if self._objecter is None:
            raise RadosStateError("not connected")
        return self._objecter

    @property
    def mon_ops(self) -> MonOps:
        """Pool and statistics requests (after :meth:`connect`)."""
        if self._mon_ops is None:
            raise RadosStateError("not connected")
        return self._mon_ops

    # -- cluster ------------------------------------------------------------------------

    def get_fsid(self) -> str:
        """The cluster's fsid."""
        self.require_state("connected")
        assert self.monc is not None
        assert self.monc.monmap is not None
        return str(self.monc.monmap.fsid)

    def get_instance_id(self) -> int:
        """Our global id (``client.ID``)."""
        self.require_state("connected")
        assert self.monc is not None
        return self.monc.global_id

    async def wait_for_latest_osdmap(self) -> int:
        """Wait until we have the monitor's newest osdmap; 0."""
        self.require_state("connected")
        await self.objecter.wait_for_latest_osdmap()
        return 0

    async def mon_command(self, cmd: str, inbuf: bytes = b"", timeout: int = 0,
                          target: str | int | None = None) -> tuple[int, bytes, str]:
        """Send a JSON command to the monitors: (ret, outbuf, outs)."""
        self.require_state("connected")
        assert self.monc is not None
        if target is not None:
            raise InvalidArgumentError("mon_command: a target monitor is not supported",
                                       errno.EINVAL)
        try:
            res = await self.monc.command(cmd, inbuf, timeout=timeout or None)
        except MonTimeout as exc:
            return -errno.ETIMEDOUT, b"", str(exc)
        return res.r, bytes(res.outbuf), res.rs

    async def get_cluster_stats(self) -> dict[str, int]:
        """Cluster usage: ``kb``, ``kb_used``, ``kb_avail``, ``num_objects``."""
        self.require_state("connected")
        try:
            st = await self.mon_ops.get_fs_stats()
        except MonOpError as exc:
            raise make_ex(exc.result, str(exc)) from None
        return {"kb": st.kb, "kb_used": st.kb_used, "kb_avail": st.kb_avail,
                "num_objects": st.num_objects}

    # -- pools ----------------------------------------------------------------------------

    async def list_pools(self) -> list[str]:
        """The names of every pool, by id."""
        self.require_state("connected")
        m = self.objecter.osdmap
        return [m.pool_name[p] for p in sorted(m.pools) if p in m.pool_name]

    async def _lookup(self, pool_name: str) -> int:
        """``lookup_pool``: the id, checking the newest map first if not found; -ENOENT."""
        o = self.objecter
        pid = o.osdmap.lookup_pg_pool_name(pool_name)
        if pid < 0:
            await o.wait_for_latest_osdmap()
            pid = o.osdmap.lookup_pg_pool_name(pool_name)
        return pid

    async def pool_exists(self, pool_name: str) -> bool:
        """Whether the pool exists."""
        self.require_state("connected")
        return await self._lookup(pool_name) >= 0

    async def pool_lookup(self, pool_name: str) -> int | None:
        """The pool's id, or None."""
        self.require_state("connected")
        pid = await self._lookup(pool_name)
        return pid if pid >= 0 else None

    async def pool_reverse_lookup(self, pool_id: int) -> str | None:
        """The pool's name, or None."""
        self.require_state("connected")
        o = self.objecter
        if not o.osdmap.have_pg_pool(pool_id):
            await o.wait_for_latest_osdmap()
        return o.osdmap.get_pool_name(pool_id)

    async def create_pool(self, pool_name: str, crush_rule: int | None = None,
                          auid: int | None = None) -> None:
        """Create a pool (MPoolOp); returns once our osdmap has it."""
        self.require_state("connected")
        try:
            r = await self.mon_ops.create_pool(pool_name,
                                               -1 if crush_rule is None else crush_rule)
        except MonOpError as exc:
            r = exc.result
        if r < 0:
            raise make_ex(r, f"error creating pool '{pool_name}'")

    async def delete_pool(self, pool_name: str) -> None:
        """Delete a pool (MPoolOp); returns once our osdmap has lost it."""
        self.require_state("connected")
        pid = await self._lookup(pool_name)
        if pid < 0:
            raise ObjectNotFound(f"error deleting pool '{pool_name}'", errno.ENOENT)
        try:
            r = await self.mon_ops.delete_pool(pid)
        except MonOpError as exc:
            r = exc.result
        if r < 0:
            raise make_ex(r, f"error deleting pool '{pool_name}'")

    async def open_ioctx(self, ioctx_name: str) -> IoCtx:
        """An :class:`IoCtx` on pool ``ioctx_name`` (ObjectNotFound if absent)."""
        self.require_state("connected")
        pid = await self._lookup(ioctx_name)
        if pid < 0:
            raise ObjectNotFound(f"error opening pool '{ioctx_name}'", errno.ENOENT)
        return IoCtx(self, pid, ioctx_name)

    async def open_ioctx2(self, pool_id: int) -> IoCtx:
        """An :class:`IoCtx` on pool ``pool_id`` (ObjectNotFound if absent)."""
        self.require_state("connected")
        name = await self.pool_reverse_lookup(pool_id)
        if name is None:
            raise ObjectNotFound(f"error opening pool id '{pool_id}'", errno.ENOENT)
        return IoCtx(self, pool_id, name)


def _no_file(_path: str) -> str | None:
    return None


def _resolver(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def make_auth_client(settings: ClientSettings) -> AuthClient:
    """cephx with the key from ``key``, ``keyfile`` or the keyring, or auth none, as
    ``auth_client_required`` allows (what ``asyncmsgr ceph`` does); raises
    ObjectNotFound (ENOENT) without a usable key, as librados does."""
    modes = mode_options(settings.messenger_config)
    try:
        methods = parse_auth_methods(", ".join(settings.auth_client_required))
    except ValueError as exc:
        raise InvalidArgumentError(f"auth_client_required: {exc}", errno.EINVAL) from None
    name = settings.name
    if AUTH_CEPHX in methods:
        key: CryptoKey | None = None
        try:
            key = _load_key(settings)
        except (KeyringError, OSError, ValueError) as exc:
            if AUTH_NONE not in methods:
                raise ObjectNotFound(str(exc), errno.ENOENT) from None
        if key is not None:
            return CephxClient(name, key, clock=time.time, modes=modes, methods=methods)
        if AUTH_NONE not in methods:
            raise ObjectNotFound(f"auth: unable to find a keyring for {name} on "
                                 f"{','.join(settings.keyring_paths)}", errno.ENOENT)
    if AUTH_NONE not in methods:
        raise InvalidArgumentError("auth_client_required lists no usable method",
                                   errno.EINVAL)
    return AuthNoneClient(name, modes=modes)


def _load_key(settings: ClientSettings) -> CryptoKey | None:
    if settings.key:
        return CryptoKey.from_base64(settings.key.strip())
    if settings.keyfile:
        with open(settings.keyfile, encoding="ascii") as f:
            return CryptoKey.from_base64(f.read().strip())
    for path in settings.keyring_paths:
        if os.path.exists(path):
            return Keyring.from_file(path).get(settings.name)
    return None
