"""``tell`` on asyncio: commands to one daemon through a MonClient's messenger.

:class:`AsyncTell` drives a :class:`~asyncmsgr.monc.tell.TellCore` (the
decisions) with one anonymous lossy connection of the MonClient's messenger to
the daemon (an OSD after its service ticket is there, or one monitor, which
authenticates us afresh) and takes that connection's replies as a dispatcher.
:func:`fetch_osdmap` gets the newest OSDMap.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.errors import DecodeError
from asyncmsgr.message import Message
from asyncmsgr.monc.client import MonClient
from asyncmsgr.monc.common import CommandResult, MonTimeout
from asyncmsgr.monc.tell import TellCore
from asyncmsgr.policy import Policy
from asyncmsgr.types import EntityAddrVec, EntityType

if TYPE_CHECKING:
    from asyncmsgr.osd.osdmap import OSDMap

_Future = asyncio.Future[CommandResult]


async def fetch_osdmap(monc: MonClient, timeout: float | None) -> OSDMap:
    """The newest OSDMap (one-time ``osdmap`` subscription from epoch 0).

    Raises MonTimeout, or DecodeError for a map that does not decode.
    """
    from asyncmsgr.messages import MOSDMap  # noqa: PLC0415  (tell osd / pg only)
    from asyncmsgr.osd.osdmap import OSDMap  # noqa: PLC0415

    arrived = asyncio.Event()
    monc.add_map_listener(lambda what: arrived.set() if what == "osdmap" else None)
    monc.sub_want("osdmap", 0, onetime=True)
    try:
        async with asyncio.timeout(timeout):
            await arrived.wait()
    except TimeoutError:
        raise MonTimeout("no OSDMap from the monitors") from None
    m = monc.maps.get("osdmap")
    if not isinstance(m, MOSDMap) or not m.maps:
        raise MonTimeout("no full OSDMap from the monitors")
    try:
        return OSDMap.decode(m.maps[max(m.maps)])
    except DecodeError:
        raise
    except (ValueError, IndexError) as exc:
        raise DecodeError(f"OSDMap: {exc}") from exc


class AsyncTell(Dispatcher):
    """Commands to the daemon of type ``peer_type`` at ``addrs``."""

    def __init__(self, monc: MonClient, peer_type: int, addrs: EntityAddrVec, *,
                 fsid: uuid.UUID) -> None:
        self.monc = monc
        self.peer_type = peer_type
        self.core: TellCore[Connection, _Future] = TellCore(self, addrs, fsid=fsid)
        msgr = monc.messenger
        if peer_type != EntityType.MON:
            msgr.set_policy(peer_type, Policy.lossy_client())
        msgr.add_dispatcher_head(self)

    async def command(self, cmd: list[str], inbuf: bytes = b"", *,
                      timeout: float | None = None) -> CommandResult:
        """Send an MCommand and return its reply; raises MonTimeout."""
        try:
            async with asyncio.timeout(timeout):
                if self.peer_type != EntityType.MON:
                    await self.monc.wait_for_ticket(self.peer_type)
                future: _Future = asyncio.get_running_loop().create_future()
                op = self.core.start_command(cmd, inbuf, future)
                try:
                    return await future
                finally:
                    self.core.forget(op.tid)
        except TimeoutError:
            raise MonTimeout(f"no reply from {self.core.addrs} within {timeout:g} s") from None

    def close(self) -> None:
        """Close the connection (the dispatcher stays, ignoring other connections)."""
        self.core.close()

    # -- TellLink ----------------------------------------------------------------------------

    def dial(self, addrs: EntityAddrVec) -> Connection:
        """An anonymous connection to the daemon."""
        return self.monc.messenger.connect_to(self.peer_type, addrs, anon=True)

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

    def ms_handle_connect(self, con: Connection) -> None:
        """The daemon accepted us."""
        self.core.handle_connect(con)

    def ms_dispatch(self, m: Message) -> bool:
        """Replies on our connection go to the core."""
        con = m.connection
        if con is None or con is not self.core.session:
            return False
        return self.core.handle_message(con, m)

    def ms_handle_reset(self, con: Connection) -> bool:
        """Our connection failed: the core tries again."""
        return self.core.handle_reset(con)

    def ms_handle_refused(self, con: Connection) -> bool:
        """Refused: as a reset."""
        return self.core.handle_reset(con)


__all__ = ["AsyncTell", "fetch_osdmap"]
