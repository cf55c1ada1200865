"""A blocking manager client riding on a :class:`~asyncmsgr.monc.sync.SyncMonClient`.

:class:`SyncMgrClient` drives :class:`~asyncmsgr.mgrc.core.MgrClientCore` from
the monitor client's poll loop, in the calling thread: it subscribes to the
``mgrmap``, feeds each MgrMap to the core, dials the active manager with
:meth:`~asyncmsgr.monc.sync.SyncMonClient.dial_daemon` (a cephx authorizer from
the manager's ticket: :meth:`SyncMgrClient.command` first asks the monitors for
it when missing), and waits for replies.
"""

from __future__ import annotations

import logging

from asyncmsgr.errors import DecodeError
from asyncmsgr.message import Message
from asyncmsgr.messages import MgrMap, MMgrMap
from asyncmsgr.mgrc.core import MgrClientCore
from asyncmsgr.monc.common import CommandResult, MonClientClosed, MonTimeout
from asyncmsgr.monc.sync import SyncConnection, SyncMonClient
from asyncmsgr.record import MutableRecord
from asyncmsgr.types import EntityAddrVec, EntityType

logger = logging.getLogger("asyncmsgr.mgrc")


class _Slot(MutableRecord):
    """Where a command's answer lands."""

    result: CommandResult | None

    __slots__ = ("result",)

    def __init__(self) -> None:
        self.result = None


class SyncMgrClient:
    """Commands to the active ceph-mgr, on ``monc``'s session and loop.

    ``monc`` must be connected. Use one per SyncMonClient.
    """

    def __init__(self, monc: SyncMonClient) -> None:
        self.monc = monc
        monmap = monc.monmap
        self.core: MgrClientCore[SyncConnection, _Slot] = MgrClientCore(
            self, fsid=monmap.fsid if monmap is not None else None)
        self._seen: Message | None = None
        monc.add_ticker(self.core)
        monc.add_map_listener(self._map_received)
        monc.core.sub_want("mgrmap")
        self._take_map()

    @property
    def mgrmap(self) -> MgrMap | None:
        """The latest MgrMap."""
        return self.core.map

    def command(self, cmd: list[str], inbuf: bytes = b"", *, timeout: float | None = None,
                tell: bool = False, name: str = "") -> CommandResult:
        """Send a command (``tell``: to the manager ``name``, or any active one) and
        wait for its reply (``r`` may be negative).

        Raises MonTimeout after ``timeout`` seconds (None: no limit), and
        MonClientClosed when the monitor client is shut down meanwhile.
        """
        monc = self.monc
        deadline = None if timeout is None else monc.clock() + timeout
        if not monc.run_until(lambda: monc.core.request_tickets(
                int(EntityType.MGR), monc.clock(), monc.wall_clock()) or monc.core.closing,
                timeout):
            raise MonTimeout(f"no manager ticket from the monitors within {timeout:g} s")
        slot = _Slot()
        op = self.core.start_command(cmd, inbuf, slot, tell=tell, name=name)
        left = None if deadline is None else max(0.0, deadline - monc.clock())
        try:
            monc.run_until(lambda: slot.result is not None or monc.core.closing, left)
        finally:
            self.core.forget(op.tid)
        if slot.result is None:
            if monc.core.closing:
                raise MonClientClosed("monitor client shut down")
            raise MonTimeout(f"no reply from the manager within {timeout:g} s")
        return slot.result

    def close(self) -> None:
        """Close the session with the manager."""
        self.core.close()

    # -- feeding the core ------------------------------------------------------------------

    def _map_received(self, what: str) -> None:
        if what == "mgrmap":
            self._take_map()

    def _take_map(self) -> None:
        m = self.monc.core.maps.get("mgrmap")
        if m is None or m is self._seen:
            return
        self._seen = m
        try:
            mgrmap = (m.decode_mgrmap() if isinstance(m, MMgrMap)
                      else MgrMap.decode(bytes(m.front)))
        except DecodeError as exc:
            logger.warning("undecodable MgrMap: %s", exc)
            return
        self.core.handle_mgrmap(mgrmap, self.monc.clock())

    # -- MgrLink ---------------------------------------------------------------------------

    def dial(self, addrs: EntityAddrVec) -> SyncConnection:
        """A connection to the manager (:meth:`command` made sure of its ticket)."""
        return self.monc.dial_daemon(EntityType.MGR, addrs, self)

    def send(self, con: SyncConnection, m: Message) -> None:
        """Queue ``m``."""
        self.monc.send_to(con, m)

    def mark_down(self, con: SyncConnection) -> None:
        """Close ``con``."""
        self.monc.mark_down(con)

    def command_done(self, waiter: _Slot, result: CommandResult) -> None:
        """Fill the command's slot."""
        waiter.result = result

    # -- ConnHandler -------------------------------------------------------------------------

    def handle_connect(self, con: SyncConnection, now: float) -> None:
        """The manager accepted us."""
        logger.debug("connected to %r", con)

    def handle_message(self, con: SyncConnection, m: Message, now: float) -> bool:
        """Replies go to the core."""
        return self.core.handle_message(con, m)

    def handle_reset(self, con: SyncConnection, now: float) -> None:
        """The connection failed: the core reconnects."""
        self.core.handle_reset(con, now)


__all__ = ["SyncMgrClient"]
