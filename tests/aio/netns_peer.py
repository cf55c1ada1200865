"""One messenger peer for the network-namespace tests, driven over stdin/stdout.

Run it inside a namespace (``ip netns exec NS python netns_peer.py ROLE ...``);
``--ms_*`` options configure the messenger. Every report is one JSON object per
line on stdout, ``{"ev": KIND, "t": MONOTONIC, "sent": N, ...}``; commands
are lines on stdin.

``server --bind ADDR --policy NAME --name osd.0``
    Binds and reports ``bound`` (``addrs``), then ``msg`` per received MPing
    (``n`` the counter, ``ok`` the payload check, ``seq``, ``conn`` the
    connection id), ``accept``, ``reset`` and ``remote_reset``.

``client --connect ADDRS --peer-type osd --policy NAME --name client.1 --interval S --size B``
    Sends MPing ``n`` = 0, 1, 2, ... (data :func:`payload`) every ``interval``
    seconds and reports ``connect`` (with the protocol's handshake counts),
    ``state`` on every change of the connection's state (polled), ``reset``,
    ``remote_reset``, and with ``--reconnect-on-reset`` ``switch`` when it
    replaces a reset connection by a new one (``first``: the first ``n`` sent
    on it). Every report carries ``sent``, the messages sent so far. Command
    ``stop``: stop sending, report ``stopped``; on a lossless session then wait
    until the peer acknowledged the last message and report ``acked`` (``ok``
    false after ``--ack-timeout`` s).

Command ``exit`` (or end of input): report ``exit`` and shut down; callbacks
after that (shutdown resets every connection) are not reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import sys
import time
from typing import Any

from asyncmsgr.aio.connection import AsyncConnection
from asyncmsgr.config import MessengerConfig, parse_config_args
from asyncmsgr.connection import Connection
from asyncmsgr.dispatch import Dispatcher
from asyncmsgr.message import Message
from asyncmsgr.messages import MPing
from asyncmsgr.messenger import Messenger
from asyncmsgr.policy import Policy
from asyncmsgr.types import EntityAddrVec, EntityType

#: How often the client looks at its connection's state.
STATE_POLL = 0.01


def payload(n: int, size: int) -> bytes:
    """The data of message ``n``: the counter (8 bytes), then ``size`` bytes seeded by it."""
    return n.to_bytes(8, "big") + random.Random(n).randbytes(size)


def check_payload(data: bytes) -> tuple[int, bool]:
    """The counter of a message's data and whether the rest is :func:`payload`'s."""
    n = int.from_bytes(data[:8], "big")
    return n, len(data) >= 8 and data == payload(n, len(data) - 8)


class Reporter(Dispatcher):
    """Reports the messenger's callbacks as JSON lines until :attr:`closing`."""

    def __init__(self) -> None:
        self.closing = False
        self.sent = 0

    def report(self, ev: str, **fields: Any) -> None:
        """Write one JSON line stamped with ``time.monotonic()`` (nothing once closing)."""
        if not self.closing:
            print(json.dumps({"ev": ev, "t": time.monotonic(), "sent": self.sent, **fields}),
                  flush=True)

    def ms_dispatch(self, m: Message) -> bool:
        n, ok = check_payload(bytes(m.data))
        con = m.connection
        self.report("msg", n=n, ok=ok, seq=m.seq, conn=con.conn_id if con else None)
        return True

    def ms_handle_accept(self, con: Connection) -> None:
        self.report("accept", conn=con.conn_id, peer=str(con.peer_addrs))

    def ms_handle_connect(self, con: Connection) -> None:
        counts = dict(con.core.handshake_counts) if isinstance(con, AsyncConnection) else {}
        self.report("connect", conn=con.conn_id, counts=counts)

    def ms_handle_reset(self, con: Connection) -> bool:
        self.report("reset", conn=con.conn_id)
        return True

    def ms_handle_remote_reset(self, con: Connection) -> None:
        self.report("remote_reset", conn=con.conn_id)


class Client(Reporter):
    """The sender: numbered MPings on one connection, replaced after a reset if asked."""

    def __init__(self, msgr: Messenger, peer_type: EntityType, addrs: EntityAddrVec, *,
                 interval: float, size: int, reconnect_on_reset: bool) -> None:
        super().__init__()
        self.msgr = msgr
        self.peer_type = peer_type
        self.addrs = addrs
        self.interval = interval
        self.size = size
        self.reconnect_on_reset = reconnect_on_reset
        self.con: Connection | None = None
        self.last: Message | None = None

    def connect(self) -> Connection:
        """``connect_to`` the server (a new connection after a reset)."""
        self.con = self.msgr.connect_to(self.peer_type, self.addrs)
        return self.con

    def ms_handle_reset(self, con: Connection) -> bool:
        super().ms_handle_reset(con)
        if self.reconnect_on_reset and con is self.con and not self.closing:
            new = self.connect()
            self.report("switch", conn=new.conn_id, first=self.sent)
        return True

    async def send_forever(self) -> None:
        """Send message ``sent`` every ``interval`` seconds (the pacing, not a wait)."""
        while True:
            con = self.con
            assert con is not None
            m = MPing(data=payload(self.sent, self.size))
            con.send_message(m)
            self.last = m
            self.sent += 1
            await asyncio.sleep(self.interval)

    async def watch_state(self) -> None:
        """Report the connection's protocol state whenever it changes."""
        seen: tuple[int, str] | None = None
        while True:
            con = self.con
            if isinstance(con, AsyncConnection) and (con.conn_id, con.state.name) != seen:
                seen = (con.conn_id, con.state.name)
                self.report("state", conn=con.conn_id, state=con.state.name)
            await asyncio.sleep(STATE_POLL)

    async def wait_acked(self, timeout: float) -> None:
        """Report ``acked`` (``ok``) once the last message is acknowledged, or
        ``ok`` false with the ``error`` after ``timeout`` s (lossless only)."""
        con, last = self.con, self.last
        if not isinstance(con, AsyncConnection) or last is None or con.core.lossy:
            return
        try:
            await asyncio.wait_for(con.wait_acked(last), timeout)
        except (TimeoutError, OSError, ValueError) as exc:
            self.report("acked", ok=False, error=repr(exc))
        else:
            self.report("acked", ok=True)


async def _lines() -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def serve(config: MessengerConfig, args: argparse.Namespace) -> None:
    """The server role (see the module docstring)."""
    msgr = Messenger.create(args.name, config=config)
    msgr.set_default_policy(Policy.by_name(args.policy))
    rep = Reporter()
    await msgr.bind(args.bind)
    msgr.add_dispatcher_tail(rep)
    msgr.start()
    rep.report("bound", addrs=str(msgr.my_addrs))
    stdin = await _lines()
    while (line := (await stdin.readline()).decode().strip()) not in ("exit", ""):
        rep.report("error", error=f"unknown command {line!r}")
    rep.report("exit")
    rep.closing = True
    msgr.shutdown()
    await asyncio.wait_for(msgr.wait(), 10)


async def send(config: MessengerConfig, args: argparse.Namespace) -> None:
    """The client role (see the module docstring)."""
    msgr = Messenger.create(args.name, config=config)
    msgr.set_default_policy(Policy.by_name(args.policy))
    client = Client(msgr, EntityType.from_str(args.peer_type),
                    EntityAddrVec.parse(args.connect), interval=args.interval,
                    size=args.size, reconnect_on_reset=args.reconnect_on_reset)
    msgr.add_dispatcher_tail(client)
    msgr.start()
    client.connect()
    stdin = await _lines()
    async with asyncio.TaskGroup() as tg:
        sender = tg.create_task(client.send_forever())
        watcher = tg.create_task(client.watch_state())
        while (line := (await stdin.readline()).decode().strip()) not in ("exit", ""):
            if line == "stop":
                sender.cancel()
                client.report("stopped")
                await client.wait_acked(args.ack_timeout)
            else:
                client.report("error", error=f"unknown command {line!r}")
        sender.cancel()
        watcher.cancel()
    client.report("exit")
    client.closing = True
    msgr.shutdown()
    await asyncio.wait_for(msgr.wait(), 10)


def main(argv: list[str]) -> None:
    """Parse ``--ms_*`` options and the role's arguments, then run the role."""
    config, rest = parse_config_args(argv, env={})
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--debug", action="store_true", help="asyncmsgr DEBUG logs on stderr")
    roles = p.add_subparsers(dest="role", required=True)
    ps = roles.add_parser("server")
    ps.add_argument("--bind", required=True)
    ps.add_argument("--policy", default="stateful_server")
    ps.add_argument("--name", default="osd.0")
    pc = roles.add_parser("client")
    pc.add_argument("--connect", required=True)
    pc.add_argument("--peer-type", default="osd", help="the server's entity type")
    pc.add_argument("--policy", default="lossless_client")
    pc.add_argument("--name", default="client.4100")
    pc.add_argument("--interval", type=float, default=0.01)
    pc.add_argument("--size", type=int, default=512)
    pc.add_argument("--ack-timeout", type=float, default=5.0)
    pc.add_argument("--reconnect-on-reset", action="store_true")
    args = p.parse_args(rest)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="%(relativeCreated)8.0f %(name)s %(levelname)s %(message)s")
    if args.debug:
        logging.getLogger("asyncmsgr").setLevel(logging.DEBUG)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config, args) if args.role == "server" else send(config, args))


if __name__ == "__main__":
    main(sys.argv[1:])
