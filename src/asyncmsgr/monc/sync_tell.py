"""``tell``: blocking commands to one daemon, on a :class:`~asyncmsgr.monc.sync.SyncMonClient`.

:class:`SyncTell` drives a :class:`~asyncmsgr.monc.tell.TellCore` from the
monitor client's loop: the daemon's connection comes from
:meth:`~asyncmsgr.monc.sync.SyncMonClient.dial_daemon` (for an OSD, after the
monitors gave us its service ticket). :func:`fetch_osdmap` gets the current
OSDMap (a one-time ``osdmap`` subscription from epoch 0 brings the newest full
map) to find an OSD or a PG's primary.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from asyncmsgr.errors import DecodeError
from asyncmsgr.message import Message
from asyncmsgr.monc.common import CommandResult, MonClientClosed, MonTimeout
from asyncmsgr.monc.sync import SyncConnection, SyncMonClient
from asyncmsgr.monc.tell import TellCore
from asyncmsgr.record import MutableRecord
from asyncmsgr.types import EntityAddrVec, EntityType

if TYPE_CHECKING:
    from asyncmsgr.osd.osdmap import OSDMap


class _Slot(MutableRecord):
    result: CommandResult | None

    __slots__ = ("result",)

    def __init__(self) -> None:
        self.result = None


def fetch_osdmap(monc: SyncMonClient, timeout: float | None) -> OSDMap:
    """The newest OSDMap (full map of a one-time subscription from epoch 0).

    Raises MonTimeout, or DecodeError for a map that does not decode.
    """
    from asyncmsgr.messages import MOSDMap  # noqa: PLC0415  (tell osd / pg only)
    from asyncmsgr.osd.osdmap import OSDMap  # noqa: PLC0415

    before = monc.core.maps.get("osdmap")
    monc.core.sub_want("osdmap", 0, onetime=True)
    monc.run_until(lambda: monc.core.maps.get("osdmap") is not before
                   or monc.core.closing, timeout)
    m = monc.core.maps.get("osdmap")
    if m is before or not isinstance(m, MOSDMap) or not m.maps:
        raise MonTimeout("no OSDMap from the monitors")
    try:
        return OSDMap.decode(m.maps[max(m.maps)])
    except DecodeError:
        raise
    except (ValueError, IndexError) as exc:  # a codec bug must not look like a crash
        raise DecodeError(f"OSDMap: {exc}") from exc


class SyncTell:
    """Commands to the daemon of type ``peer_type`` at ``addrs``, on ``monc``."""

    def __init__(self, monc: SyncMonClient, peer_type: int, addrs: EntityAddrVec, *,
                 fsid: uuid.UUID) -> None:
        self.monc = monc
        self.peer_type = peer_type
        self.core: TellCore[SyncConnection, _Slot] = TellCore(self, addrs, fsid=fsid)

    def command(self, cmd: list[str], inbuf: bytes = b"", *,
                timeout: float | None = None) -> CommandResult:
        """Send an MCommand and wait for its reply (``r`` may be negative).

        Raises MonTimeout after ``timeout`` seconds (None: no limit).
        """
        monc = self.monc
        deadline = None if timeout is None else monc.clock() + timeout
        if self.peer_type != EntityType.MON and not monc.run_until(
                lambda: monc.core.request_tickets(self.peer_type, monc.clock(),
                                                  monc.wall_clock()) or monc.core.closing,
                timeout):
            raise MonTimeout("no service ticket from the monitors")
        slot = _Slot()
        op = self.core.start_command(cmd, inbuf, slot)
        left = None if deadline is None else max(0.0, deadline - monc.clock())
        try:
            monc.run_until(lambda: slot.result is not None or monc.core.closing, left)
        finally:
            self.core.forget(op.tid)
        if slot.result is None:
            if monc.core.closing:
                raise MonClientClosed("monitor client shut down")
            raise MonTimeout(f"no reply from {self.core.addrs} within {timeout:g} s")
        return slot.result

    def close(self) -> None:
        """Close the connection."""
        self.core.close()

    # -- TellLink ----------------------------------------------------------------------------

    def dial(self, addrs: EntityAddrVec) -> SyncConnection:
        """A connection to the daemon."""
        return self.monc.dial_daemon(self.peer_type, addrs, self)

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
        """The daemon accepted us."""
        self.core.handle_connect(con)

    def handle_message(self, con: SyncConnection, m: Message, now: float) -> bool:
        """Replies go to the core."""
        return self.core.handle_message(con, m)

    def handle_reset(self, con: SyncConnection, now: float) -> None:
        """The connection failed."""
        self.core.handle_reset(con)


__all__ = ["SyncTell", "fetch_osdmap"]
