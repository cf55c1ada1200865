"""The cluster session behind ``asyncmsgr ceph``: what librados does for the ``ceph`` tool.

:class:`CephSession` is the interface the tool's flow
(:mod:`asyncmsgr.cli.ceph_commands`) uses, as ``ceph`` uses a ``rados.Rados``
handle: connect, then ``mon_command`` (any monitor, or one by name: a tell),
``mgr_command`` (the active manager, or a tell to one by name),
``osd_command``, ``pg_command`` (the PG's primary OSD) and ``watch`` (the
cluster log). Commands return a :class:`~asyncmsgr.monc.common.CommandResult`
whose ``r`` is 0 or a negative errno, as librados returns them; a daemon that
cannot be reached is such a result too (``osd dne``, ``osd down``...).

Two implementations: :class:`SyncSession` (the default) drives everything from
one :class:`~asyncmsgr.monc.sync.SyncMonClient` loop in this thread; the asyncio
one (:mod:`asyncmsgr.cli.ceph_aio`) runs a :class:`~asyncmsgr.monc.client.MonClient`
on an event loop.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from asyncmsgr.auth.base import AuthClient
from asyncmsgr.errors import DecodeError
from asyncmsgr.messages import LogEntry, MLog
from asyncmsgr.monc.common import CommandResult, MonClientOptions
from asyncmsgr.monc.conf import ClientSettings
from asyncmsgr.types import EntityType

if TYPE_CHECKING:
    from asyncmsgr.mgrc.sync import SyncMgrClient
    from asyncmsgr.monc.sync import SyncMonClient
    from asyncmsgr.osd.osdmap import OSDMap

#: ``rados_monitor_log`` levels -> the subscription each asks for.
WATCH_LEVELS = {"debug": "log-debug", "info": "log-info", "warn": "log-warn",
                "warning": "log-warn", "err": "log-error", "error": "log-error",
                "sec": "log-sec"}


class CephSession(Protocol):
    """A connected client of one cluster (see the module docstring)."""

    def connect(self, timeout: float | None) -> None:
        """Authenticate with a monitor; raises MonAuthError or MonTimeout."""
        ...

    def mon_command(self, cmd: str, inbuf: bytes = b"", *, name: str = "",
                    timeout: float | None = None) -> CommandResult:
        """To any monitor (MMonCommand), or to monitor ``name`` (MCommand)."""
        ...

    def mgr_command(self, cmd: str, inbuf: bytes = b"", *, tell: bool = False,
                    name: str = "", timeout: float | None = None) -> CommandResult:
        """To the active manager; ``tell``: to manager ``name`` (or any active)."""
        ...

    def osd_command(self, osd: int, cmd: str, inbuf: bytes = b"", *,
                    timeout: float | None = None) -> CommandResult:
        """To ``osd.N``."""
        ...

    def pg_command(self, pgid: str, cmd: str, inbuf: bytes = b"", *,
                   timeout: float | None = None) -> CommandResult:
        """To the primary OSD of PG ``pgid``."""
        ...

    def watch(self, level: str, on_entry: Callable[[LogEntry], None]) -> None:
        """Subscribe to the cluster log at ``level`` and call ``on_entry`` for every
        entry, until interrupted (KeyboardInterrupt)."""
        ...

    def close(self) -> None:
        """Close every connection."""
        ...


def _unreachable(result: int, rs: str) -> CommandResult:
    return CommandResult(result, rs, b"")


class SyncSession:
    """:class:`CephSession` on a blocking :class:`~asyncmsgr.monc.sync.SyncMonClient`."""

    def __init__(self, settings: ClientSettings, auth_client: AuthClient,
                 options: MonClientOptions) -> None:
        from asyncmsgr.monc.sync import SyncMonClient  # noqa: PLC0415  (start-up time)

        self.monc: SyncMonClient = SyncMonClient(
            settings.mon_addrs, auth_client=auth_client, config=settings.messenger_config,
            options=options)
        self._mgr: SyncMgrClient | None = None
        self._osdmap: OSDMap | None = None

    def connect(self, timeout: float | None) -> None:
        """Hunt and authenticate; the MgrMap subscription starts with the session
        (librados subscribes at connect, so the map is there for mgr commands)."""
        self.monc.core.sub_want("mgrmap")
        self.monc.connect(timeout)

    def mon_command(self, cmd: str, inbuf: bytes = b"", *, name: str = "",
                    timeout: float | None = None) -> CommandResult:
        """MMonCommand to the session's monitor, or MCommand to monitor ``name``."""
        if not name:
            return self.monc.command([cmd], inbuf, timeout=timeout)
        from asyncmsgr.monc.sync_tell import SyncTell  # noqa: PLC0415  (tell only)
        from asyncmsgr.monc.tell import TargetError, mon_target  # noqa: PLC0415

        monmap = self.monc.monmap
        assert monmap is not None
        try:
            addrs = mon_target(monmap, name)
        except TargetError as exc:
            return _unreachable(exc.result, exc.rs)
        tell = SyncTell(self.monc, EntityType.MON, addrs, fsid=monmap.fsid)
        try:
            return tell.command([cmd], inbuf, timeout=timeout)
        finally:
            tell.close()

    def mgr_command(self, cmd: str, inbuf: bytes = b"", *, tell: bool = False,
                    name: str = "", timeout: float | None = None) -> CommandResult:
        """MMgrCommand (or MCommand) to the active manager."""
        if self._mgr is None:
            from asyncmsgr.mgrc.sync import SyncMgrClient  # noqa: PLC0415  (mgr only)

            self._mgr = SyncMgrClient(self.monc)
        return self._mgr.command([cmd], inbuf, timeout=timeout, tell=tell, name=name)

    def _current_osdmap(self, timeout: float | None) -> OSDMap:
        if self._osdmap is None:
            from asyncmsgr.monc.sync_tell import fetch_osdmap  # noqa: PLC0415  (osd only)

            self._osdmap = fetch_osdmap(self.monc, timeout)
        return self._osdmap

    def _osd_tell(self, addrs_fn: Callable[[OSDMap], object], cmd: str,
                  inbuf: bytes, timeout: float | None) -> CommandResult:
        from asyncmsgr.monc.sync_tell import SyncTell  # noqa: PLC0415  (osd only)
        from asyncmsgr.monc.tell import TargetError  # noqa: PLC0415
        from asyncmsgr.types import EntityAddrVec  # noqa: PLC0415

        try:
            osdmap = self._current_osdmap(timeout)
            addrs = addrs_fn(osdmap)
        except TargetError as exc:
            return _unreachable(exc.result, exc.rs)
        except DecodeError as exc:
            return _unreachable(-errno.EIO, f"undecodable OSDMap: {exc}")
        assert isinstance(addrs, EntityAddrVec)
        fsid = osdmap.fsid
        tell = SyncTell(self.monc, EntityType.OSD, addrs, fsid=fsid)
        try:
            return tell.command([cmd], inbuf, timeout=timeout)
        finally:
            tell.close()

    def osd_command(self, osd: int, cmd: str, inbuf: bytes = b"", *,
                    timeout: float | None = None) -> CommandResult:
        """MCommand to ``osd.N`` (found in the OSDMap)."""
        from asyncmsgr.monc.tell import osd_target  # noqa: PLC0415  (osd only)

        return self._osd_tell(lambda m: osd_target(m, osd), cmd, inbuf, timeout)

    def pg_command(self, pgid: str, cmd: str, inbuf: bytes = b"", *,
                   timeout: float | None = None) -> CommandResult:
        """MCommand to the PG's acting primary."""
        from asyncmsgr.monc.tell import pg_target  # noqa: PLC0415  (pg only)

        return self._osd_tell(lambda m: pg_target(m, pgid)[1], cmd, inbuf, timeout)

    def watch(self, level: str, on_entry: Callable[[LogEntry], None]) -> None:
        """Subscribe to ``log-LEVEL`` and serve the loop until interrupted."""
        what = WATCH_LEVELS[level]
        core = self.monc.core

        def on_map(kind: str) -> None:
            m = core.maps.get("log")
            if kind == "log" and isinstance(m, MLog):
                for entry in m.entries:
                    on_entry(entry)

        self.monc.add_map_listener(on_map)
        core.sub_want(what, 0)
        self.monc.run_until(lambda: core.closing, None)

    def close(self) -> None:
        """Close every connection."""
        if self._mgr is not None:
            self._mgr.close()
        self.monc.close()


__all__ = ["WATCH_LEVELS", "CephSession", "SyncSession"]
