"""Ceph's MgrClient without I/O: the session with the active manager and its commands.

:class:`MgrClientCore` holds the decisions of a client of ceph-mgr (Ceph's
``src/mgr/MgrClient.cc``, the command-sending part a librados client uses) and
drives a :class:`MgrLink`, the I/O its driver provides. Like
:class:`~asyncmsgr.monc.core.MonClientCore` it never reads a clock (``now`` is
an input) and imports no asyncio or socket; the blocking driver is
:mod:`asyncmsgr.mgrc.sync`, the asyncio one :mod:`asyncmsgr.mgrc.client`.

The rules:

* **The session** follows the MgrMap (from the monitors' ``mgrmap``
  subscription): when there is no session, or the active manager's addresses
  changed, the old connection is marked down and, if the map says the active
  manager is available, a new one is dialled (``MgrClient::reconnect``), at
  most once per ``mgr_connect_retry_interval`` (a retry is due then, see
  :meth:`MgrClientCore.tick`). A client sends no MMgrOpen.
* **Commands** carry tids. A command (``ceph pg stat``, the ones the
  descriptions flag for the mgr) goes as MMgrCommand with a nil fsid when the
  active manager has SERVER_OCTOPUS (``active_mgr_features``), else as MCommand;
  a tell (``ceph tell mgr.x ...``) goes as MCommand with the cluster's fsid, and
  only to the manager it names: started while another is active it waits, and
  a new session with another one ends it with ENXIO. Every outstanding command
  is sent again on each new session; a reply (MMgrCommandReply or MCommandReply
  from the manager) completes it.
* A reset of the session's connection reconnects.
"""

from __future__ import annotations

import errno
import logging
import uuid
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

from asyncmsgr.features import CEPH_FEATUREMASK_SERVER_OCTOPUS, has_feature
from asyncmsgr.message import Message
from asyncmsgr.messages import MCommand, MCommandReply, MgrMap, MMgrCommand, MMgrCommandReply
from asyncmsgr.monc.core import CommandResult
from asyncmsgr.record import MutableRecord
from asyncmsgr.subsys import python_level
from asyncmsgr.types import EntityAddrVec

logger = logging.getLogger("asyncmsgr.mgrc")
#: MgrClient logs its sessions at Ceph level 4 (debug_mgrc defaults to 1).
_LEVEL_4 = python_level(4)

C = TypeVar("C", bound=Hashable)
"""A connection handle of the driver."""
W = TypeVar("W")
"""What a driver waits on for a command."""
W_contra = TypeVar("W_contra", contravariant=True)

#: ``mgr_connect_retry_interval`` (Pacific default).
CONNECT_RETRY_INTERVAL = 1.0


class MgrLink(Protocol[C, W_contra]):
    """The I/O a :class:`MgrClientCore` asks of its driver; every call returns at once."""

    def dial(self, addrs: EntityAddrVec) -> C:
        """Open a lossy connection to the manager at ``addrs`` (messages queue)."""
        ...

    def send(self, con: C, m: Message) -> None:
        """Queue ``m`` on ``con``."""
        ...

    def mark_down(self, con: C) -> None:
        """Close ``con`` for good (no reset is reported for it)."""
        ...

    def command_done(self, waiter: W_contra, result: CommandResult) -> None:
        """A command was answered."""
        ...


class MgrCommand(MutableRecord, Generic[W]):
    """An outstanding command (``MgrCommand`` of Ceph's command table)."""

    tid: int
    cmd: list[str]
    inbuf: bytes
    waiter: W
    tell: bool
    """A ``tell``: MCommand with the fsid, only to the manager named."""
    name: str
    """The manager a tell is for (``""``: whichever is active)."""

    __slots__ = ("cmd", "inbuf", "name", "tell", "tid", "waiter")

    def __init__(self, tid: int, cmd: list[str], inbuf: bytes, waiter: W, *,
                 tell: bool = False, name: str = "") -> None:
        self.tid = tid
        self.cmd = cmd
        self.inbuf = inbuf
        self.waiter = waiter
        self.tell = tell
        self.name = name


class MgrClientCore(Generic[C, W]):
    """The state and decisions of one manager client (see the module docstring).

    ``fsid`` is the cluster's (sent in tells). The driver feeds it MgrMaps
    (:meth:`handle_mgrmap`), its connection's events and :meth:`tick` when
    :meth:`next_tick` is due.
    """

    def __init__(self, link: MgrLink[C, W], *, fsid: uuid.UUID | None = None,
                 retry_interval: float = CONNECT_RETRY_INTERVAL) -> None:
        self.link = link
        self.fsid = fsid if fsid is not None else uuid.UUID(int=0)
        self.retry_interval = retry_interval
        self.map: MgrMap | None = None
        self.session: C | None = None
        self.session_addrs = EntityAddrVec()
        self.last_connect_attempt: float | None = None
        self.retry_at: float | None = None
        """When a connection attempt put off by the retry interval is due."""
        self.commands: dict[int, MgrCommand[W]] = {}
        self.last_tid = 0
        self.closing = False
        #: Sessions opened.
        self.sessions = 0

    # -- the map and the session ---------------------------------------------------------

    def handle_mgrmap(self, mgrmap: MgrMap, now: float) -> None:
        """A new MgrMap: reconnect when the active manager moved (``handle_mgr_map``)."""
        self.map = mgrmap
        logger.debug("mgrmap e%d, active %s at %s (available %s)", mgrmap.epoch,
                     mgrmap.active_name, mgrmap.active_addrs, mgrmap.available)
        if self.session is None or self.session_addrs != mgrmap.active_addrs:
            self.reconnect(now)

    def reconnect(self, now: float) -> None:
        """Drop the session and, if a manager is available, dial it (at most once
        per retry interval); send every outstanding command again."""
        if self.closing:
            return
        if self.session is not None:
            self.link.mark_down(self.session)
            self.session = None
            self.session_addrs = EntityAddrVec()
        mgrmap = self.map
        if mgrmap is None or not mgrmap.available:
            logger.debug("no active mgr available yet")
            return
        if self.last_connect_attempt is not None and \
                now < self.last_connect_attempt + self.retry_interval:
            self.retry_at = self.last_connect_attempt + self.retry_interval
            return
        self.retry_at = None
        self.last_connect_attempt = now
        self.session_addrs = mgrmap.active_addrs
        self.session = self.link.dial(mgrmap.active_addrs)
        self.sessions += 1
        logger.log(_LEVEL_4, "starting new session with mgr.%s at %s",
                   mgrmap.active_name, mgrmap.active_addrs)
        for op in list(self.commands.values()):
            if op.tell and op.name and op.name != mgrmap.active_name:
                del self.commands[op.tid]  # a tell for a manager that is not the active one
                self.link.command_done(op.waiter, CommandResult(-errno.ENXIO, "", b""))
            else:
                self._send(op)

    def next_tick(self) -> float | None:
        """When :meth:`tick` is due (a put-off connection attempt), or None."""
        return self.retry_at

    def tick(self, now: float) -> None:
        """Run a put-off connection attempt when it is due."""
        if self.retry_at is not None and now >= self.retry_at:
            self.retry_at = None
            if self.session is None:
                self.reconnect(now)

    def handle_reset(self, con: C, now: float) -> bool:
        """The session's connection failed: reconnect. False when ``con`` is not it."""
        if con is not self.session:
            return False
        logger.log(_LEVEL_4, "session with %s reset", self.session_addrs)
        self.session = None
        self.session_addrs = EntityAddrVec()
        self.reconnect(now)
        return True

    def close(self) -> list[MgrCommand[W]]:
        """Stop: mark the session down; returns the commands never to be answered."""
        self.closing = True
        if self.session is not None:
            self.link.mark_down(self.session)
            self.session = None
        pending = list(self.commands.values())
        self.commands.clear()
        return pending

    # -- commands -------------------------------------------------------------------------

    def start_command(self, cmd: list[str], inbuf: bytes, waiter: W, *, tell: bool = False,
                      name: str = "") -> MgrCommand[W]:
        """Register a command and send it if there is a session (``start_command``,
        ``start_tell_command``)."""
        self.last_tid += 1
        op = MgrCommand(self.last_tid, list(cmd), inbuf, waiter, tell=tell, name=name)
        self.commands[op.tid] = op
        if self.session is not None:
            self._send(op)
        else:
            logger.debug("no mgr session (no running mgr daemon?), waiting")
        return op

    def forget(self, tid: int) -> None:
        """The waiter gave up: never complete or re-send ``tid``."""
        self.commands.pop(tid, None)

    def message_for(self, op: MgrCommand[W]) -> Message:
        """MMgrCommand (nil fsid) to an Octopus+ manager, MCommand otherwise; a tell
        is MCommand with the fsid (``CommandOp::get_message``)."""
        mgrmap = self.map
        octopus = mgrmap is not None and has_feature(mgrmap.active_mgr_features,
                                                     CEPH_FEATUREMASK_SERVER_OCTOPUS)
        m: Message
        if op.tell:
            m = MCommand(fsid=self.fsid, cmd=op.cmd)
        elif octopus:
            m = MMgrCommand(cmd=op.cmd)
        else:
            m = MCommand(cmd=op.cmd)
        m.tid = op.tid
        m.data = op.inbuf
        return m

    def _send(self, op: MgrCommand[W]) -> None:
        session, mgrmap = self.session, self.map
        if session is None or mgrmap is None:
            return
        if op.tell and op.name and op.name != mgrmap.active_name:
            logger.debug("mgr.%s is not the active mgr, waiting", op.name)
            return
        self.link.send(session, self.message_for(op))

    def handle_message(self, con: C, m: Message) -> bool:
        """A reply from the manager; False when ``m`` is not for this client."""
        if not isinstance(m, MMgrCommandReply | MCommandReply):
            return False
        op = self.commands.pop(m.tid, None)
        if op is None:
            logger.debug("reply to unknown tid %d", m.tid)
            return True
        self.link.command_done(op.waiter, CommandResult(m.r, m.rs, bytes(m.data)))
        return True


__all__ = ["CONNECT_RETRY_INTERVAL", "MgrClientCore", "MgrCommand", "MgrLink"]
