"""Processor: the listening sockets of a messenger (Ceph's ``Processor``).

``bind`` creates one non-blocking socket per address of the addrvec, binds it
(port 0 means: scan ``ms_bind_port_min..max`` skipping the avoid set; a busy
explicit port is retried ``ms_bind_retry_count`` times ``ms_bind_retry_delay``
seconds apart), reads back the bound name and listens. ``start`` registers a
readable file event; each event accepts until EAGAIN and hands every socket to
the messenger. Out of descriptors (EMFILE and friends) means: log, pause
accepting for a moment, retry — never give up on the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
from collections.abc import Callable, Iterable

from asyncmsgr.aio.connection import addr_from_sockaddr, sockaddr_of
from asyncmsgr.aio.event_center import EVENT_READABLE, Worker
from asyncmsgr.types import AF_INET6, AddrType, EntityAddr, EntityAddrVec

logger = logging.getLogger("asyncmsgr.ms.processor")

#: accept() errors that mean "out of resources": back off and retry.
ACCEPT_CAPACITY_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM,
                                    errno.ENOBUFS})
ACCEPT_BACKOFF_US = 100_000


class BindError(OSError):
    """No address of the requested range could be bound."""


class Processor:
    """Listening sockets of one messenger, accepting on one worker's center."""

    def __init__(self, worker: Worker, *, backlog: int,
                 on_accept: Callable[[socket.socket, EntityAddr, EntityAddr], None]) -> None:
        self.worker = worker
        self.backlog = backlog
        self.on_accept = on_accept
        self.listen_socks: list[tuple[socket.socket, EntityAddr]] = []
        self._started = False
        self.accept_errors = 0

    async def bind(self, addrs: EntityAddrVec, *, port_min: int, port_max: int,
                   avoid_ports: Iterable[int] = (), retry_count: int = 3,
                   retry_delay: float = 5.0) -> EntityAddrVec:
        """Bind every address; return them with the real ports. Raises BindError."""
        avoid = set(avoid_ports)
        bound: list[EntityAddr] = []
        try:
            for addr in addrs:
                for attempt in range(retry_count + 1):
                    try:
                        bound.append(self._bind_one(addr, port_min, port_max, avoid,
                                                    taken={a.port for a in bound}))
                        break
                    except BindError:
                        if attempt == retry_count:
                            raise
                        logger.warning("bind %s failed, retrying in %ss (ms_bind_retry_count, "
                                       "ms_bind_retry_delay)", addr, retry_delay)
                        await asyncio.sleep(retry_delay)
        except BaseException:
            self.close()
            raise
        return EntityAddrVec(tuple(bound))

    def _bind_one(self, addr: EntityAddr, port_min: int, port_max: int, avoid: set[int],
                  taken: set[int]) -> EntityAddr:
        family = socket.AF_INET6 if addr.family == AF_INET6 else socket.AF_INET
        if addr.port:
            ports: Iterable[int] = (addr.port,)
        else:
            ports = (p for p in range(port_min, port_max + 1)
                     if p not in avoid and p not in taken)
        host = addr.host or ("::" if family == socket.AF_INET6 else "0.0.0.0")
        last: OSError | None = None
        for port in ports:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(sockaddr_of(EntityAddr.from_host(host, port)))
                sock.listen(self.backlog)
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                last = exc
                continue
            name = sock.getsockname()
            real = addr_from_sockaddr(name, type=addr.type, nonce=addr.nonce)
            if not addr.host:
                real = EntityAddr(addr.type, addr.nonce, real.family, bytes(len(real.ip)),
                                  real.port)
            self.listen_socks.append((sock, real))
            return real
        code = last.errno if last is not None and last.errno else errno.EADDRINUSE
        why = last.strerror if last is not None and last.strerror else os.strerror(code)
        if addr.port:
            raise BindError(code, f"unable to bind to {addr}: port {addr.port}: {why}")
        raise BindError(code, f"unable to bind {addr} to any port of ms_bind_port_min.."
                              f"ms_bind_port_max ({port_min}-{port_max}): {why}")

    def start(self) -> None:
        """Start accepting (on the worker's thread)."""
        def go() -> None:
            if self._started:
                return
            self._started = True
            for sock, _addr in self.listen_socks:
                self.worker.center.create_file_event(sock.fileno(), EVENT_READABLE,
                                                     self._accept)
        if self.worker.center.in_thread():
            go()
        else:
            self.worker.center.submit_to(go)

    def _listen_addr(self, fd: int) -> EntityAddr:
        for sock, addr in self.listen_socks:
            if sock.fileno() == fd:
                return addr
        return EntityAddr()

    def _accept(self, fd: int) -> None:
        """Accept until EAGAIN; back off (not abort) when out of descriptors."""
        listen = next((s for s, _a in self.listen_socks if s.fileno() == fd), None)
        if listen is None:
            return
        listen_addr = self._listen_addr(fd)
        while True:
            try:
                sock, peer = listen.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in ACCEPT_CAPACITY_ERRNOS:
                    self.accept_errors += 1
                    logger.error("accept: %s; pausing accepts", exc)
                    self._pause(fd)
                    return
                if exc.errno in (errno.ECONNABORTED, errno.EPROTO, errno.EPERM):
                    continue
                logger.error("accept: %s", exc)
                return
            self.accept_errors = 0
            peer_addr = addr_from_sockaddr(peer, type=AddrType.MSGR2)
            try:
                self.on_accept(sock, listen_addr, peer_addr)
            except Exception:
                logger.exception("accepting %s failed", peer_addr)
                sock.close()

    def _pause(self, fd: int) -> None:
        center = self.worker.center
        center.delete_file_event(fd, EVENT_READABLE)

        def resume(_id: int) -> None:
            if any(s.fileno() == fd for s, _a in self.listen_socks):
                center.create_file_event(fd, EVENT_READABLE, self._accept)
        center.create_time_event(ACCEPT_BACKOFF_US, resume)

    def stop(self) -> None:
        """Stop accepting and close the listening sockets."""
        def go() -> None:
            if self._started:
                for sock, _addr in self.listen_socks:
                    self.worker.center.delete_file_event(sock.fileno(), EVENT_READABLE)
                self._started = False
            self.close()
        center = self.worker.center
        if center.in_thread() or center.stopped:
            go()
        else:
            center.submit_to(go)

    def close(self) -> None:
        """Close the sockets (no event bookkeeping)."""
        for sock, _addr in self.listen_socks:
            with contextlib.suppress(OSError):
                sock.close()
        self.listen_socks = []


__all__ = ["ACCEPT_CAPACITY_ERRNOS", "BindError", "Processor"]
