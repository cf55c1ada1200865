"""The asyncio driver of ``asyncmsgr ceph``: :class:`AsyncioSession`.

The same :class:`~asyncmsgr.cli.ceph_session.CephSession` as
:class:`~asyncmsgr.cli.ceph_session.SyncSession`, on a
:class:`~asyncmsgr.monc.client.MonClient` and its messenger: the manager through
:class:`~asyncmsgr.mgrc.client.MgrClient`, tells through
:class:`~asyncmsgr.monc.tell_client.AsyncTell`. The session owns an event loop
(uvloop when ``asyncmsgr_use_uvloop`` and installed) and runs each call to
completion on it, so the tool's flow stays the same for both drivers.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from asyncmsgr.auth.base import AuthClient
from asyncmsgr.cli.ceph_session import WATCH_LEVELS
from asyncmsgr.errors import DecodeError
from asyncmsgr.messages import LogEntry, MLog
from asyncmsgr.monc.common import CommandResult, MonClientOptions
from asyncmsgr.monc.conf import ClientSettings
from asyncmsgr.types import EntityAddrVec, EntityType

if TYPE_CHECKING:
    from asyncmsgr.mgrc.client import MgrClient
    from asyncmsgr.monc.client import MonClient
    from asyncmsgr.osd.osdmap import OSDMap

T = TypeVar("T")


class AsyncioSession:
    """:class:`~asyncmsgr.cli.ceph_session.CephSession` on asyncio."""

    def __init__(self, settings: ClientSettings, auth_client: AuthClient,
                 options: MonClientOptions) -> None:
        from asyncmsgr.loop import new_event_loop  # noqa: PLC0415  (start-up time)
        from asyncmsgr.monc.client import MonClient  # noqa: PLC0415

        self._loop = new_event_loop(settings.messenger_config)
        self._settings = settings
        self._auth = auth_client
        self._options = options
        self._monc_class = MonClient
        self.monc: MonClient | None = None
        self._mgr: MgrClient | None = None
        self._osdmap: OSDMap | None = None

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(coro)

    def _client(self) -> Any:
        assert self.monc is not None
        return self.monc

    def connect(self, timeout: float | None) -> None:
        """Hunt and authenticate (the MgrMap subscription starts with the session)."""
        async def go() -> None:
            settings = self._settings
            self.monc = self._monc_class(settings.mon_addrs, auth_client=self._auth,
                                         config=settings.messenger_config,
                                         options=self._options)
            self.monc.sub_want("mgrmap")
            await self.monc.connect(timeout)

        self._run(go())

    def mon_command(self, cmd: str, inbuf: bytes = b"", *, name: str = "",
                    timeout: float | None = None) -> CommandResult:
        """MMonCommand to the session's monitor, or MCommand to monitor ``name``."""
        monc = self._client()
        if not name:
            result: CommandResult = self._run(monc.command([cmd], inbuf, timeout=timeout))
            return result
        from asyncmsgr.monc.tell import TargetError, mon_target  # noqa: PLC0415

        monmap = monc.monmap
        try:
            addrs = mon_target(monmap, name)
        except TargetError as exc:
            return CommandResult(exc.result, exc.rs, b"")
        return self._tell(EntityType.MON, addrs, cmd, inbuf, timeout, monmap.fsid)

    def _tell(self, peer_type: int, addrs: EntityAddrVec, cmd: str, inbuf: bytes,
              timeout: float | None, fsid: Any) -> CommandResult:
        from asyncmsgr.monc.tell_client import AsyncTell  # noqa: PLC0415  (tell only)

        async def go() -> CommandResult:
            tell = AsyncTell(self._client(), peer_type, addrs, fsid=fsid)
            try:
                return await tell.command([cmd], inbuf, timeout=timeout)
            finally:
                tell.close()

        return self._run(go())

    def mgr_command(self, cmd: str, inbuf: bytes = b"", *, tell: bool = False,
                    name: str = "", timeout: float | None = None) -> CommandResult:
        """MMgrCommand (or MCommand) to the active manager."""
        async def go() -> CommandResult:
            if self._mgr is None:
                from asyncmsgr.mgrc.client import MgrClient  # noqa: PLC0415  (mgr only)

                self._mgr = MgrClient(self._client())
            return await self._mgr.command([cmd], inbuf, timeout=timeout, tell=tell,
                                           name=name)

        return self._run(go())

    def _osd_tell(self, addrs_fn: Callable[[OSDMap], EntityAddrVec], cmd: str, inbuf: bytes,
                  timeout: float | None) -> CommandResult:
        from asyncmsgr.monc.tell import TargetError  # noqa: PLC0415  (osd only)
        from asyncmsgr.monc.tell_client import fetch_osdmap  # noqa: PLC0415

        try:
            if self._osdmap is None:
                self._osdmap = self._run(fetch_osdmap(self._client(), timeout))
            addrs = addrs_fn(self._osdmap)
        except TargetError as exc:
            return CommandResult(exc.result, exc.rs, b"")
        except DecodeError as exc:
            return CommandResult(-errno.EIO, f"undecodable OSDMap: {exc}", b"")
        return self._tell(EntityType.OSD, addrs, cmd, inbuf, timeout, self._osdmap.fsid)

    def osd_command(self, osd: int, cmd: str, inbuf: bytes = b"", *,
                    timeout: float | None = None) -> CommandResult:
        """MCommand to ``osd.N``."""
        from asyncmsgr.monc.tell import osd_target  # noqa: PLC0415  (osd only)

        return self._osd_tell(lambda m: osd_target(m, osd), cmd, inbuf, timeout)

    def pg_command(self, pgid: str, cmd: str, inbuf: bytes = b"", *,
                   timeout: float | None = None) -> CommandResult:
        """MCommand to the PG's acting primary."""
        from asyncmsgr.monc.tell import pg_target  # noqa: PLC0415  (pg only)

        return self._osd_tell(lambda m: pg_target(m, pgid)[1], cmd, inbuf, timeout)

    def watch(self, level: str, on_entry: Callable[[LogEntry], None]) -> None:
        """Subscribe to ``log-LEVEL`` and run the loop until interrupted."""
        monc = self._client()

        def on_map(kind: str) -> None:
            m = monc.maps.get("log")
            if kind == "log" and isinstance(m, MLog):
                for entry in m.entries:
                    on_entry(entry)

        async def go() -> None:
            monc.add_map_listener(on_map)
            monc.sub_want(WATCH_LEVELS[level], 0)
            await asyncio.Event().wait()

        self._run(go())

    def close(self) -> None:
        """Shut the clients and the loop down."""
        try:
            if self._mgr is not None:
                self._mgr.close()
            if self.monc is not None:
                self._run(self.monc.shutdown())
        finally:
            self._loop.close()


__all__ = ["AsyncioSession"]
