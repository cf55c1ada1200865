"""An in-process stand-in for Ceph monitors, for MonClient tests without a cluster.

:class:`FakeMonCluster` binds ``n`` messengers named ``mon.0`` ... on 127.0.0.1,
each answering the monitor client protocol the way a Pacific mon does for a
client: MMonGetMap and a ``monmap`` subscription → MMonMap (all mons of the
cluster), a ``config`` subscription → MConfig, MMonGetVersion → a reply,
MMonCommand → :attr:`FakeMon.handler`'s ``(r, rs, outbuf)`` (default: ``status``,
``version``, ``health``, ``mon dump`` with JSON output, ``-EINVAL`` otherwise).
Client sessions are lossy (``stateless_server``), as on a real mon.
Each mon runs one worker thread, so :meth:`FakeMon.freeze` can stall it the way
SIGSTOP stalls a daemon: nothing is read, answered or acknowledged until
:meth:`FakeMon.thaw`.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from asyncmsgr.auth.base import AuthServer
from asyncmsgr.config import MessengerConfig
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.message import Message
from asyncmsgr.messages import (
    MConfig,
    MMonCommand,
    MMonCommandAck,
    MMonGetMap,
    MMonGetVersion,
    MMonGetVersionReply,
    MMonMap,
    MMonSubscribe,
    MonInfo,
    MonMap,
)
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.types import EntityAddrVec, EntityName, EntityType

FAKE_FSID = uuid.UUID("5a1d0c1e-0000-4000-8000-00000000fa4e")
FAKE_VERSION = "ceph version 16.2.15 (asyncmsgr fake mon) pacific (stable)"

CommandHandler = Callable[[list[str], bytes], tuple[int, str, bytes]]


@dataclass
class FakeMon(Dispatcher):
    """One fake monitor (a bound Messenger plus this dispatcher)."""

    rank: int
    cluster: FakeMonCluster
    messenger: Messenger | None = None
    handler: CommandHandler | None = None
    commands: list[list[str]] = field(default_factory=list)
    """Every command received (also from connections that then failed)."""
    config: dict[str, str] = field(default_factory=dict)
    _thawed: threading.Event = field(default_factory=threading.Event)

    @property
    def name(self) -> str:
        """``a``, ``b``, ... as in a monmap."""
        return chr(ord("a") + self.rank)

    @property
    def addrs(self) -> EntityAddrVec:
        """The bound address vector."""
        assert self.messenger is not None
        return self.messenger.my_addrs

    async def start(self, config: MessengerConfig | None,
                    auth_server: AuthServer | None) -> None:
        """Bind a free msgr2 port on 127.0.0.1 and start dispatching."""
        cfg = dataclasses.replace(config or MessengerConfig(), asyncmsgr_embedded=False,
                                  ms_async_op_threads=1)
        msgr = Messenger.create(EntityName(EntityType.MON, self.rank), config=cfg,
                                auth_server=auth_server)
        msgr.set_policy(EntityType.CLIENT, Policy.stateless_server())
        msgr.add_dispatcher_head(self)
        await msgr.bind("v2:127.0.0.1:0")
        msgr.start()
        self.messenger = msgr

    def freeze(self) -> None:
        """Stall the mon's worker thread (no reads, replies or keepalive acks)."""
        assert self.messenger is not None
        self._thawed.clear()

        def stall() -> None:
            self._thawed.wait()

        for worker in self.messenger.workers:
            worker.center.dispatch_event_external(stall)

    def thaw(self) -> None:
        """Let a frozen mon run again."""
        self._thawed.set()

    async def stop(self) -> None:
        """Shut the messenger down (clients see their sessions reset)."""
        self.thaw()
        msgr, self.messenger = self.messenger, None
        if msgr is not None:
            msgr.shutdown()
            await msgr.wait()

    def ms_dispatch(self, m: Message) -> bool:
        """Answer as a mon answers a client."""
        con = m.connection
        if con is None:
            return False
        if isinstance(m, MMonGetMap):
            con.send_message(MMonMap.from_monmap(self.cluster.monmap()))
        elif isinstance(m, MMonSubscribe):
            if "monmap" in m.what:
                con.send_message(MMonMap.from_monmap(self.cluster.monmap()))
            if "config" in m.what:
                con.send_message(MConfig(config=dict(self.config)))
        elif isinstance(m, MMonGetVersion):
            con.send_message(MMonGetVersionReply(handle=m.handle, map_version=1,
                                                 oldest_version=1))
        elif isinstance(m, MMonCommand):
            self.commands.append(list(m.cmd))
            handler = self.handler or self.cluster.default_handler
            r, rs, out = handler(list(m.cmd), bytes(m.data))
            ack = MMonCommandAck(r=r, rs=rs, cmd=list(m.cmd), data=out)
            ack.tid = m.tid
            con.send_message(ack)
        else:
            return False
        return True


class FakeMonCluster:
    """``n`` fake mons sharing one monmap; ``async with`` starts and stops them."""

    def __init__(self, n: int = 1, *, config: MessengerConfig | None = None,
                 auth_server_factory: Callable[[], AuthServer] | None = None) -> None:
        self.mons = [FakeMon(rank, self) for rank in range(n)]
        self.config = config
        self.auth_server_factory = auth_server_factory
        self.fsid = FAKE_FSID

    async def start(self) -> None:
        """Start every mon."""
        for mon in self.mons:
            server = self.auth_server_factory() if self.auth_server_factory else None
            await mon.start(self.config, server)

    async def stop(self) -> None:
        """Stop every mon still running."""
        for mon in self.mons:
            await mon.stop()

    async def __aenter__(self) -> FakeMonCluster:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def addrs(self) -> list[EntityAddrVec]:
        """Every mon's addresses (for ``mon_host``)."""
        return [mon.addrs for mon in self.mons if mon.messenger is not None]

    def monmap(self) -> MonMap:
        """The monmap every mon serves (running mons only)."""
        infos = {mon.name: MonInfo(name=mon.name, public_addrs=mon.addrs)
                 for mon in self.mons if mon.messenger is not None}
        return MonMap(fsid=self.fsid, epoch=1, mon_info=infos, ranks=tuple(infos))

    def default_handler(self, cmd: Sequence[str], inbuf: bytes) -> tuple[int, str, bytes]:
        """``status``, ``version``, ``health``, ``mon dump``; -EINVAL otherwise."""
        try:
            req = json.loads(cmd[0]) if cmd else {}
        except ValueError:
            return -22, "invalid JSON command", b""
        prefix = req.get("prefix")
        names = [mon.name for mon in self.mons if mon.messenger is not None]
        if prefix == "status":
            out: object = {"fsid": str(self.fsid), "health": {"status": "HEALTH_OK"},
                           "quorum_names": names}
        elif prefix == "version":
            out = {"version": FAKE_VERSION}
        elif prefix == "health":
            out = {"status": "HEALTH_OK", "checks": {}, "mutes": []}
        elif prefix == "mon dump":
            out = {"epoch": 1, "fsid": str(self.fsid),
                   "mons": [{"rank": i, "name": n} for i, n in enumerate(names)]}
            return 0, "dumped monmap epoch 1", json.dumps(out).encode()
        else:
            return -22, f"unrecognized command prefix {prefix!r}", b""
        return 0, "", json.dumps(out).encode()


__all__ = ["FAKE_FSID", "FAKE_VERSION", "FakeMon", "FakeMonCluster"]
