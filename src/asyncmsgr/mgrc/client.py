"""Ceph's MgrClient on asyncio, next to a :class:`~asyncmsgr.monc.client.MonClient`.

:class:`MgrClient` drives :class:`~asyncmsgr.mgrc.core.MgrClientCore` on the
MonClient's messenger: it subscribes to the ``mgrmap``, feeds each MgrMap to the
core, connects to the active manager (a lossy client connection; the cephx
authorizer comes from the manager's ticket, which :meth:`MgrClient.command` asks
the monitors for first) and is a dispatcher for the manager's replies. All
methods run on the MonClient's event loop.
"""

from __future__ import annotations

import asyncio
import logging

from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.errors import DecodeError
from asyncmsgr.message import Message
from asyncmsgr.messages import MgrMap, MMgrMap
from asyncmsgr.mgrc.core import MgrClientCore
from asyncmsgr.monc.client import MonClient
from asyncmsgr.monc.common import CommandResult, MonTimeout
from asyncmsgr.policy import Policy
from asyncmsgr.types import EntityAddrVec, EntityType

logger = logging.getLogger("asyncmsgr.mgrc")

_Future = asyncio.Future[CommandResult]


class MgrClient(Dispatcher):
    """Commands to the active ceph-mgr, through ``monc``'s messenger."""

    def __init__(self, monc: MonClient) -> None:
        self.monc = monc
        monmap = monc.monmap
        self.core: MgrClientCore[Connection, _Future] = MgrClientCore(
            self, fsid=monmap.fsid if monmap is not None else None)
        self._seen: Message | None = None
        self._retry: asyncio.TimerHandle | None = None
        msgr = monc.messenger
        msgr.set_policy(EntityType.MGR, Policy.lossy_client())
        msgr.add_dispatcher_tail(self)
        monc.add_map_listener(self._map_received)
        monc.sub_want("mgrmap")
        self._take_map()

    @property
    def mgrmap(self) -> MgrMap | None:
        """The latest MgrMap."""
        return self.core.map

    async def command(self, cmd: list[str], inbuf: bytes = b"", *,
                      timeout: float | None = None, tell: bool = False,
                      name: str = "") -> CommandResult:
        """Send a command (``tell``: to the manager ``name``, or any active one) and
        return its reply (``r`` may be negative). Raises MonTimeout."""
        try:
            async with asyncio.timeout(timeout):
                await self.monc.wait_for_ticket(int(EntityType.MGR))
                future: _Future = asyncio.get_running_loop().create_future()
                op = self.core.start_command(cmd, inbuf, future, tell=tell, name=name)
                try:
                    return await future
                finally:
                    self.core.forget(op.tid)
        except TimeoutError:
            raise MonTimeout(f"no reply from the manager within {timeout:g} s") from None

    def close(self) -> None:
        """Close the session; outstanding commands fail."""
        if self._retry is not None:
            self._retry.cancel()
        for op in self.core.close():
            if not op.waiter.done():
                op.waiter.cancel()

    # -- feeding the core --------------------------------------------------------------------

    def _map_received(self, what: str) -> None:
        if what == "mgrmap":
            self._take_map()

    def _take_map(self) -> None:
        m = self.monc.maps.get("mgrmap")
        if m is None or m is self._seen:
            return
        self._seen = m
        try:
            mgrmap = (m.decode_mgrmap() if isinstance(m, MMgrMap)
                      else MgrMap.decode(bytes(m.front)))
        except DecodeError as exc:
            logger.warning("undecodable MgrMap: %s", exc)
            return
        self.core.handle_mgrmap(mgrmap, self._now())
        self._schedule()

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _schedule(self) -> None:
        """Arm the timer for a put-off connection attempt."""
        at = self.core.next_tick()
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if at is not None:
            self._retry = asyncio.get_running_loop().call_at(at, self._on_retry)

    def _on_retry(self) -> None:
        self._retry = None
        self.core.tick(self._now())
        self._schedule()

    # -- MgrLink -----------------------------------------------------------------------------

    def dial(self, addrs: EntityAddrVec) -> Connection:
        """A lossy connection to the manager."""
        return self.monc.messenger.connect_to(EntityType.MGR, addrs)

    def send(self, con: Connection, m: Message) -> None:
        """Queue ``m``."""
        con.send_message(m)

    def mark_down(self, con: Connection) -> None:
        """Close ``con``."""
        con.mark_down()

    def command_done(self, waiter: _Future, result: CommandResult) -> None:
        """Settle the command's future."""
        if not waiter.done():
            waiter.set_result(result)

    # -- dispatch ----------------------------------------------------------------------------

    def ms_dispatch(self, m: Message) -> bool:
        """Replies on the manager session go to the core."""
        con = m.connection
        if con is None or con is not self.core.session:
            return False
        return self.core.handle_message(con, m)

    def ms_handle_reset(self, con: Connection) -> bool:
        """The session's connection failed: the core reconnects."""
        ours = self.core.handle_reset(con, self._now())
        if ours:
            self._schedule()
        return ours

    def ms_handle_refused(self, con: Connection) -> bool:
        """A refused connection resets like any other failure."""
        return self.ms_handle_reset(con)


__all__ = ["MgrClient"]
