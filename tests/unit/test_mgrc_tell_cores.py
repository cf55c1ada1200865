"""The sans-I/O cores behind commands to managers and daemons: MgrClientCore, TellCore.

A fake link records what the cores ask for (dial, send, mark down, completions);
time is an argument. The rules are Ceph's ``MgrClient`` (session follows the
MgrMap, retry interval, MMgrCommand vs MCommand, resend on a new session, tells
only to the manager named) and the command half of ``Objecter``/``MonClient``
tells (targets, one connection, attempts, ENXIO).
"""

from __future__ import annotations

import errno
import uuid

import pytest

from asyncmsgr.features import CEPH_FEATUREMASK_SERVER_OCTOPUS
from asyncmsgr.message import Message
from asyncmsgr.messages import MCommand, MCommandReply, MgrMap, MMgrCommand, MMgrCommandReply
from asyncmsgr.messages.monmap import MonMap
from asyncmsgr.mgrc.core import MgrClientCore
from asyncmsgr.monc.common import CommandResult
from asyncmsgr.monc.tell import TargetError, TellCore, mon_target, osd_target
from asyncmsgr.types import EntityAddr, EntityAddrVec

FSID = uuid.UUID("5a1d0c1e-0000-4000-8000-00000000c0de")
A1 = EntityAddrVec((EntityAddr.parse("v2:127.0.0.1:6800/1"),))
A2 = EntityAddrVec((EntityAddr.parse("v2:127.0.0.1:6900/2"),))


class Link:
    """Records the I/O asked for; connections are numbered."""

    def __init__(self) -> None:
        self.dialled: list[EntityAddrVec] = []
        self.sent: list[tuple[int, Message]] = []
        self.down: list[int] = []
        self.done: list[tuple[str, CommandResult]] = []

    def dial(self, addrs: EntityAddrVec) -> int:
        self.dialled.append(addrs)
        return len(self.dialled)

    def send(self, con: int, m: Message) -> None:
        self.sent.append((con, m))

    def mark_down(self, con: int) -> None:
        self.down.append(con)

    def command_done(self, waiter: str, result: CommandResult) -> None:
        self.done.append((waiter, result))


def mgrmap(addrs: EntityAddrVec = A1, *, available: bool = True, name: str = "x",
           features: int = CEPH_FEATUREMASK_SERVER_OCTOPUS, epoch: int = 1) -> MgrMap:
    return MgrMap(epoch=epoch, active_addrs=addrs, active_gid=4100, available=available,
                  active_name=name, active_mgr_features=features)


def mgr_core() -> tuple[MgrClientCore[int, str], Link]:
    link = Link()
    return MgrClientCore(link, fsid=FSID), link


def test_commands_wait_for_an_available_manager() -> None:
    core, link = mgr_core()
    core.start_command(['{"prefix": "pg stat"}'], b"", "w1")
    assert link.dialled == []
    assert link.sent == []
    core.handle_mgrmap(mgrmap(available=False), now=0.0)
    assert link.dialled == []
    core.handle_mgrmap(mgrmap(epoch=2), now=0.1)
    assert link.dialled == [A1]
    (con, m), = link.sent
    assert con == 1
    assert isinstance(m, MMgrCommand)
    assert (m.tid, m.cmd, m.fsid) == (1, ['{"prefix": "pg stat"}'], uuid.UUID(int=0))


def test_message_kind_follows_features_and_tell() -> None:
    core, link = mgr_core()
    core.handle_mgrmap(mgrmap(features=0), now=0.0)
    core.start_command(["a"], b"in", "w1")
    core.start_command(["b"], b"", "w2", tell=True)
    (_, legacy), (_, tell) = link.sent
    assert isinstance(legacy, MCommand)
    assert legacy.fsid == uuid.UUID(int=0)
    assert bytes(legacy.data) == b"in"
    assert isinstance(tell, MCommand)
    assert tell.fsid == FSID


def test_tell_to_another_manager_waits_for_it() -> None:
    core, link = mgr_core()
    core.handle_mgrmap(mgrmap(name="x"), now=0.0)
    core.start_command(["v"], b"", "w", tell=True, name="y")
    assert link.sent == []
    core.handle_mgrmap(mgrmap(A2, name="y", epoch=2), now=5.0)
    assert link.down == [1]
    assert link.dialled == [A1, A2]
    assert [(c, type(m)) for c, m in link.sent] == [(2, MCommand)]


def test_a_new_session_ends_tells_for_another_manager() -> None:
    """``MgrClient::reconnect``: a pending tell named for a manager that is not
    the active one finishes with ENXIO."""
    core, link = mgr_core()
    core.start_command(["v"], b"", "w", tell=True, name="zz")
    core.handle_mgrmap(mgrmap(name="x"), now=0.0)
    assert link.done == [("w", CommandResult(-errno.ENXIO, "", b""))]
    assert link.sent == []
    assert core.commands == {}


def test_same_addresses_keep_the_session() -> None:
    core, link = mgr_core()
    core.handle_mgrmap(mgrmap(epoch=1), now=0.0)
    core.handle_mgrmap(mgrmap(epoch=2), now=1.0)
    assert link.dialled == [A1]
    assert link.down == []


def test_reset_reconnects_after_the_retry_interval() -> None:
    core, link = mgr_core()
    core.handle_mgrmap(mgrmap(), now=10.0)
    core.start_command(["a"], b"", "w")
    assert core.handle_reset(2, now=10.2) is False  # not the session
    assert core.handle_reset(1, now=10.2) is True
    assert link.dialled == [A1]                     # 0.2 s after the last attempt: later
    assert core.next_tick() == pytest.approx(11.0)
    core.tick(10.9)
    assert link.dialled == [A1]
    core.tick(11.0)
    assert link.dialled == [A1, A1]
    assert [c for c, _ in link.sent] == [1, 2]      # the command again, on the new session
    assert core.next_tick() is None


def test_replies_complete_commands() -> None:
    core, link = mgr_core()
    core.handle_mgrmap(mgrmap(), now=0.0)
    op = core.start_command(["a"], b"", "w1")
    core.start_command(["b"], b"", "w2")
    reply = MMgrCommandReply(r=-13, rs="denied")
    reply.tid = op.tid
    reply.data = b"out"
    assert core.handle_message(1, reply) is True
    assert link.done == [("w1", CommandResult(-13, "denied", b"out"))]
    stale = MCommandReply(r=0, rs="")
    stale.tid = 99
    assert core.handle_message(1, stale) is True    # unknown tid: taken, ignored
    assert core.handle_message(1, MMgrCommand()) is False
    core.forget(2)
    assert core.close() == []
    assert link.down == [1]


class FakeOSDMap:
    def __init__(self, states: dict[int, bool]) -> None:
        self.states = states

    def exists(self, osd: int) -> bool:
        return osd in self.states

    def is_up(self, osd: int) -> bool:
        return self.states.get(osd, False)

    def get_addrs(self, osd: int) -> EntityAddrVec:
        return A1 if osd == 0 else A2


def test_osd_targets() -> None:
    m = FakeOSDMap({0: True, 1: False})
    assert osd_target(m, 0) == A1
    with pytest.raises(TargetError) as down:
        osd_target(m, 1)
    assert (down.value.result, down.value.rs) == (-errno.ENXIO, "osd down")
    with pytest.raises(TargetError) as dne:
        osd_target(m, 7)
    assert (dne.value.result, dne.value.rs) == (-errno.ENOENT, "osd dne")


def test_mon_targets() -> None:
    monmap = MonMap(fsid=FSID, ranks=("a", "b"), mon_info={})
    with pytest.raises(TargetError) as dne:
        mon_target(monmap, "zz")
    assert dne.value.result == -errno.ENOENT


def test_tell_attempts_then_enxio() -> None:
    link = Link()
    core: TellCore[int, str] = TellCore(link, A1, fsid=FSID, max_attempts=2)
    core.start_command(["v"], b"", "w")
    (_con, m), = link.sent
    assert isinstance(m, MCommand)
    assert m.fsid == FSID
    assert m.tid == 1
    assert core.handle_reset(5) is False
    assert core.handle_reset(1) is True             # attempt 2
    assert len(link.dialled) == 2
    assert len(link.sent) == 2
    core.handle_reset(2)                            # no attempt left
    assert link.done == [("w", CommandResult(-errno.ENXIO, "daemon unavailable", b""))]


def test_tell_connect_restores_attempts_and_replies_complete() -> None:
    link = Link()
    core: TellCore[int, str] = TellCore(link, A1, fsid=FSID, max_attempts=2)
    core.start_command(["v"], b"", "w")
    core.handle_reset(1)
    core.handle_connect(2)
    core.handle_reset(2)                            # counted afresh after a connect
    assert len(link.dialled) == 3
    assert link.done == []
    reply = MCommandReply(r=0, rs="ok")
    reply.tid = 1
    assert core.handle_message(3, reply) is True
    assert link.done == [("w", CommandResult(0, "ok", b""))]
    assert core.handle_message(3, MMgrCommandReply()) is False
