"""Commands to one daemon (``ceph tell osd.0 ...``, ``tell mon.a ...``, ``pg 1.0 ...``).

The decisions, without I/O:

* **Where** (:func:`osd_target`, :func:`pg_target`, :func:`mon_target`): an OSD
  that is not in the OSDMap fails with ENOENT ``osd dne``, one that is down with
  ENXIO ``osd down`` (``Objecter::_calc_command_target``); a PG goes to its
  acting primary (ENOENT ``pool dne`` when its pool is gone, ENXIO ``pg has no
  primary`` when nobody serves it); a monitor by name must be in the monmap
  (ENOENT ``mon dne``, as ``MonClient`` finishes a tell to an unknown name).
* **How** (:class:`TellCore`): one lossy connection to the daemon (an
  authorizer from its service's ticket; a whole authentication with a
  monitor), MCommand carrying the cluster's fsid and a tid, completed by the
  MCommandReply of that tid. Outstanding commands are sent again on a new
  connection when the old one resets, at most ``max_attempts`` times in all
  (``mon_client_directed_command_retry`` for monitors); then they fail with
  ENXIO.
"""

from __future__ import annotations

import errno
import logging
import uuid
from collections.abc import Hashable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from asyncmsgr.message import Message
from asyncmsgr.messages import MCommand, MCommandReply, MonMap
from asyncmsgr.monc.common import CommandResult
from asyncmsgr.record import MutableRecord
from asyncmsgr.types import EntityAddrVec

if TYPE_CHECKING:
    from asyncmsgr.osd.osdmap import OSDMap

logger = logging.getLogger("asyncmsgr.monc.tell")

C = TypeVar("C", bound=Hashable)
W = TypeVar("W")
W_contra = TypeVar("W_contra", contravariant=True)

#: Connections tried per command before it fails (``mon_client_directed_command_retry``
#: is 2 retries after the first try).
MAX_ATTEMPTS = 3


class TargetError(Exception):
    """The daemon cannot be reached: ``result`` (negative errno) and ``rs``."""

    def __init__(self, result: int, rs: str) -> None:
        super().__init__(rs)
        self.result = result
        self.rs = rs


class OSDStates(Protocol):
    """What :func:`osd_target` reads of an OSDMap."""

    def exists(self, osd: int) -> bool: ...

    def is_up(self, osd: int) -> bool: ...

    def get_addrs(self, osd: int) -> EntityAddrVec: ...


def osd_target(osdmap: OSDStates, osd: int) -> EntityAddrVec:
    """``osd.N``'s addresses; raises TargetError (``osd dne``, ``osd down``)."""
    if not osdmap.exists(osd):
        raise TargetError(-errno.ENOENT, "osd dne")
    if not osdmap.is_up(osd):
        raise TargetError(-errno.ENXIO, "osd down")
    return osdmap.get_addrs(osd)


def pg_target(osdmap: OSDMap, pgid: str) -> tuple[int, EntityAddrVec]:
    """The acting primary of PG ``POOL.SEED`` and its addresses; raises TargetError."""
    from asyncmsgr.osd.types import PG  # noqa: PLC0415  (pg commands only)

    try:
        pg = PG.parse(pgid)
    except ValueError:
        raise TargetError(-errno.EINVAL, f"invalid pgid {pgid}") from None
    if osdmap.get_pg_pool(pg.pool) is None:
        raise TargetError(-errno.ENOENT, "pool dne")
    _up, _up_primary, _acting, primary = osdmap.pg_to_up_acting_osds(pg)
    if primary < 0 or not osdmap.is_up(primary):
        raise TargetError(-errno.ENXIO, "pg has no primary")
    return primary, osdmap.get_addrs(primary)


def mon_target(monmap: MonMap, name: str) -> EntityAddrVec:
    """Monitor ``name``'s addresses; raises TargetError (``mon dne``)."""
    for _rank, rank_name, addrs in monmap.rank_entries():
        if rank_name == name:
            return addrs
    raise TargetError(-errno.ENOENT, "mon dne")


class TellLink(Protocol[C, W_contra]):
    """The I/O a :class:`TellCore` asks of its driver; every call returns at once."""

    def dial(self, addrs: EntityAddrVec) -> C:
        """Open a lossy connection to the daemon (messages queue)."""
        ...

    def send(self, con: C, m: Message) -> None:
        """Queue ``m`` on ``con``."""
        ...

    def mark_down(self, con: C) -> None:
        """Close ``con`` for good."""
        ...

    def command_done(self, waiter: W_contra, result: CommandResult) -> None:
        """A command was answered (or failed: negative ``r``)."""
        ...


class TellCommand(MutableRecord, Generic[W]):
    """An outstanding command."""

    tid: int
    cmd: list[str]
    inbuf: bytes
    waiter: W

    __slots__ = ("cmd", "inbuf", "tid", "waiter")

    def __init__(self, tid: int, cmd: list[str], inbuf: bytes, waiter: W) -> None:
        self.tid = tid
        self.cmd = cmd
        self.inbuf = inbuf
        self.waiter = waiter


class TellCore(Generic[C, W]):
    """Commands to the daemon at ``addrs`` (see the module docstring)."""

    def __init__(self, link: TellLink[C, W], addrs: EntityAddrVec, *, fsid: uuid.UUID,
                 max_attempts: int = MAX_ATTEMPTS) -> None:
        self.link = link
        self.addrs = addrs
        self.fsid = fsid
        self.max_attempts = max_attempts
        self.session: C | None = None
        self.attempts = 0
        self.commands: dict[int, TellCommand[W]] = {}
        self.last_tid = 0

    def start_command(self, cmd: list[str], inbuf: bytes, waiter: W) -> TellCommand[W]:
        """Register a command, dialling the daemon on the first."""
        self.last_tid += 1
        op = TellCommand(self.last_tid, list(cmd), inbuf, waiter)
        self.commands[op.tid] = op
        if self.session is None:
            self._connect()
        else:
            self._send(op)
        return op

    def forget(self, tid: int) -> None:
        """The waiter gave up."""
        self.commands.pop(tid, None)

    def _connect(self) -> None:
        if self.attempts >= self.max_attempts:
            for op in list(self.commands.values()):
                self._finish(op, CommandResult(-errno.ENXIO, "daemon unavailable", b""))
            return
        self.attempts += 1
        self.session = self.link.dial(self.addrs)
        for op in self.commands.values():
            self._send(op)

    def _send(self, op: TellCommand[W]) -> None:
        if self.session is None:
            return
        m = MCommand(fsid=self.fsid, cmd=op.cmd)
        m.tid = op.tid
        m.data = op.inbuf
        self.link.send(self.session, m)

    def _finish(self, op: TellCommand[W], result: CommandResult) -> None:
        self.commands.pop(op.tid, None)
        self.link.command_done(op.waiter, result)

    def handle_connect(self, con: C) -> None:
        """The daemon accepted us: a later reset starts the attempts afresh."""
        if con is self.session:
            self.attempts = 0

    def handle_reset(self, con: C) -> bool:
        """The connection failed: try again (or fail the commands). False when
        ``con`` is not ours."""
        if con is not self.session:
            return False
        logger.info("tell: connection to %s reset", self.addrs)
        self.session = None
        if self.commands:
            self._connect()
        return True

    def handle_message(self, con: C, m: Message) -> bool:
        """An MCommandReply completes its command; False for anything else."""
        if not isinstance(m, MCommandReply):
            return False
        op = self.commands.get(m.tid)
        if op is not None:
            self._finish(op, CommandResult(m.r, m.rs, bytes(m.data)))
        return True

    def close(self) -> None:
        """Mark the connection down."""
        if self.session is not None:
            self.link.mark_down(self.session)
            self.session = None


__all__ = ["MAX_ATTEMPTS", "OSDStates", "TargetError", "TellCommand", "TellCore", "TellLink",
           "mon_target", "osd_target", "pg_target"]
