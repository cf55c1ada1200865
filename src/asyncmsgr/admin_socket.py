"""Ceph's admin socket (``src/common/admin_socket.cc``): the server of ``ceph --admin-daemon``.

A Unix stream socket served by one thread (as Ceph's ``AdminSocket`` thread),
so it answers whatever the process's event loops are doing. One request per
connection, Pacific's protocol:

* the client sends a command, JSON, ending with ``\\0`` or ``\\n`` (the old
  binary form, four bytes ``00 00 00 N``, is taken as ``0`` (the protocol
  version), ``perfcounters_dump`` or ``perfcounters_schema``);
* the server answers a big-endian ``u32`` length and that many bytes, then
  closes. Errors are answered, not signalled: ``ERROR: (22) Invalid
  argument\\n<why>\\n`` (the protocol has no status; ``ceph`` prints them).

The command is found by its ``prefix``; ``format`` is ``json``, ``json-pretty``
(the default, also for anything else), ``xml`` or ``xml-pretty``, written as
Ceph's formatters write them (:func:`render`). The real ``ceph`` tool first asks
``get_command_descriptions`` and checks the command line against the
signatures before sending it, so every command carries Ceph's descriptor
(``config get name=var,type=CephString``), turned into signatures by
:func:`describe`.

The commands themselves (``help``, ``version``, ``config ...``, ``perf ...``,
``log ...``, ``messenger status``) are a :class:`~asyncmsgr.context.Context`'s;
this module is the transport and the formats.

Binding follows Ceph: a path longer than ``sun_path`` is refused; a path in
use by a live admin socket is ``EEXIST``; a stale socket file is replaced. The
file is removed at shutdown and at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import json
import logging
import os
import selectors
import socket
import struct
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

logger = logging.getLogger("asyncmsgr.asok")

#: What command ``0`` answers (``CEPH_ADMIN_SOCK_VERSION``).
ADMIN_SOCK_VERSION = "2"
FORMATS = ("json", "json-pretty", "xml", "xml-pretty")
#: Longest request accepted (Ceph reads at most 1024 bytes; injectargs lists grow).
MAX_REQUEST = 65536
#: Seconds a client may take to send its request or read the answer.
CLIENT_TIMEOUT = 10.0
#: ``sockaddr_un.sun_path`` holds 108 bytes with the terminating NUL.
MAX_PATH = 107
_OLD_PROTOCOL = {0: "0", 1: "perfcounters_dump", 2: "perfcounters_schema"}


class AsokError(Exception):
    """A command failed: answered as ``ERROR: (errno) strerror\\n<message>\\n``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def answer(self) -> bytes:
        """The bytes sent back."""
        return (f"ERROR: ({self.code}) {os.strerror(self.code)}\n{self.message}\n"
                .encode())


class Fixed(float):
    """A float written with a fixed number of decimals (Ceph's ``utime_t`` and
    perf times: 9), e.g. ``Fixed(0.5)`` -> ``0.500000000``."""

    decimals = 9

    def text(self) -> str:
        """The number as written."""
        return f"{float(self):.{self.decimals}f}"


class Reply(NamedTuple):
    """A command's answer: a value to format (under ``section`` in XML) or raw bytes."""

    value: Any
    """A JSON-ready value (dict, list, str, int, float, bool, None, :class:`Fixed`)."""
    section: str = "result"
    """The outer element name in XML (Ceph's formatter section name)."""
    raw: bytes | None = None
    """Sent as is instead of ``value`` (command ``0``)."""


Handler = Callable[[Mapping[str, Any]], Reply]


class Command(NamedTuple):
    """One admin socket command."""

    prefix: str
    """What ``prefix`` selects it (``config get``)."""
    desc: str
    """Ceph's descriptor: the prefix then ``name=var,type=CephString[,req=false][,n=N]``
    arguments (what ``get_command_descriptions`` turns into a signature)."""
    help: str
    """One line for ``help`` (empty: not listed, as Ceph's hidden commands)."""
    handler: Handler
    """Called with the request's fields (on the admin socket thread)."""


# -- formats ------------------------------------------------------------------------------


def _json(value: Any, pretty: bool, depth: int) -> str:
    if isinstance(value, Fixed):
        return value.text()
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        items = [(json.dumps(str(k), ensure_ascii=False), _json(v, pretty, depth + 1))
                 for k, v in value.items()]
        if not items:
            return "{}"
        if not pretty:
            return "{" + ",".join(f"{k}:{v}" for k, v in items) + "}"
        pad = "    " * (depth + 1)
        body = ",\n".join(f"{pad}{k}: {v}" for k, v in items)
        return "{\n" + body + "\n" + "    " * depth + "}"
    if isinstance(value, list | tuple):
        parts = [_json(v, pretty, depth + 1) for v in value]
        if not parts:
            return "[]"
        if not pretty:
            return "[" + ",".join(parts) + "]"
        pad = "    " * (depth + 1)
        return "[\n" + ",\n".join(pad + p for p in parts) + "\n" + "    " * depth + "]"
    return json.dumps(str(value))


def _xml_text(value: Any) -> str:
    if isinstance(value, Fixed):
        return value.text()
    if isinstance(value, bool):
        return "true" if value else "false"
    text = "" if value is None else str(value)
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;").replace('"', "&quot;"))


def _xml(name: str, value: Any, pretty: bool, depth: int, out: list[str]) -> None:
    pad = " " * depth if pretty else ""
    nl = "\n" if pretty else ""
    if isinstance(value, Mapping | list | tuple):
        out.append(f"{pad}<{name}>{nl}")
        if isinstance(value, Mapping):
            for k, v in value.items():
                _xml(str(k), v, pretty, depth + 1, out)
        else:
            item = "arg" if name == "sig" else "item"
            for v in value:
                _xml(item, v, pretty, depth + 1, out)
        out.append(f"{pad}</{name}>{nl}")
    else:
        out.append(f"{pad}<{name}>{_xml_text(value)}</{name}>{nl}")


def render(value: Any, fmt: str, section: str = "result") -> bytes:
    """``value`` as Ceph's formatter ``fmt`` writes it (json-pretty for unknown names).

    JSON: compact, or pretty with four spaces and a final newline; XML: under
    ``<section>``, one space per level when pretty.
    """
    if fmt in ("xml", "xml-pretty"):
        out: list[str] = []
        _xml(section, value, fmt == "xml-pretty", 0, out)
        text = "".join(out)
        if fmt == "xml-pretty":
            text += "\n"
        return text.encode()
    pretty = fmt != "json"
    text = _json(value, pretty, 0)
    return (text + "\n" if pretty else text).encode()


def describe(desc: str) -> list[Any]:
    """Ceph's ``dump_cmd_to_json``: a descriptor as a signature, e.g.
    ``config get name=var,type=CephString`` -> ``["config", "get", {"name": "var",
    "type": "CephString"}]`` (``req`` only when false, keys sorted)."""
    sig: list[Any] = []
    for word in desc.split():
        if "=" not in word:
            sig.append(word)
            continue
        arg: dict[str, str] = {}
        for part in word.split(","):
            key, _, val = part.partition("=")
            arg[key] = val
        if arg.get("req") == "true":
            del arg["req"]
        sig.append(dict(sorted(arg.items())))
    return sig


# -- the server ---------------------------------------------------------------------------

_cleanup_lock = threading.Lock()
_cleanup_paths: set[str] = set()
_cleanup_registered = False


def _cleanup_at_exit() -> None:
    with _cleanup_lock:
        for path in list(_cleanup_paths):
            with contextlib.suppress(OSError):
                os.unlink(path)
        _cleanup_paths.clear()


def _remember(path: str) -> None:
    global _cleanup_registered  # noqa: PLW0603  (one atexit hook per process, as Ceph)
    with _cleanup_lock:
        _cleanup_paths.add(path)
        if not _cleanup_registered:
            atexit.register(_cleanup_at_exit)
            _cleanup_registered = True


def _forget(path: str) -> None:
    with _cleanup_lock:
        _cleanup_paths.discard(path)


def _alive(path: str) -> bool:
    """Whether an admin socket answers at ``path`` (Ceph's ``AdminSocketClient::ping``)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2.0)
        try:
            s.connect(path)
        except OSError:
            return False
        return True


class AdminSocket:
    """The admin socket of one context: ``start()``, then ``shutdown()``.

    ``commands`` is called for the current command table on each request.
    """

    def __init__(self, path: str, commands: Callable[[], Mapping[str, Command]]) -> None:
        self.path = path
        self._commands = commands
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self.requests = 0
        """Requests answered (for tests and ``messenger status``)."""

    def __repr__(self) -> str:
        return f"<AdminSocket {self.path!r}>"

    @property
    def running(self) -> bool:
        """True between a successful :meth:`start` and :meth:`shutdown`."""
        return self._thread is not None

    def start(self) -> None:
        """Bind, listen and start the thread.

        Raises:
            OSError: the socket cannot be created (with Ceph's wording in the
                message: path too long, ``(17) File exists`` for a live socket).
        """
        path = self.path
        if len(os.fsencode(path)) > MAX_PATH:
            raise OSError(errno.ENAMETOOLONG,
                          f"The UNIX domain socket path {path} is too long! The maximum "
                          f"length on this system is {MAX_PATH}")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            try:
                sock.bind(path)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                if _alive(path):
                    raise OSError(errno.EEXIST, f"failed to bind the UNIX domain socket to "
                                  f"'{path}': (17) File exists") from None
                logger.log(1, "unlink stale file %s", path)
                os.unlink(path)
                sock.bind(path)
            sock.listen(5)
        except OSError:
            sock.close()
            raise
        _remember(path)
        self._sock = sock
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._entry, name="admin_socket", daemon=True)
        self._thread.start()
        logger.log(15, "init %s", path)

    def shutdown(self) -> None:
        """Stop the thread, close and remove the socket file (idempotent)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        assert self._wake_w is not None
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")
        if thread is not threading.current_thread():
            thread.join(CLIENT_TIMEOUT + 5)
        for s in (self._sock, self._wake_r, self._wake_w):
            if s is not None:
                s.close()
        self._sock = self._wake_r = self._wake_w = None
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        _forget(self.path)

    def _entry(self) -> None:
        sock, wake = self._sock, self._wake_r
        assert sock is not None
        assert wake is not None
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ)
            sel.register(wake, selectors.EVENT_READ)
            while True:
                ready = sel.select()
                if any(key.fileobj is wake for key, _ in ready):
                    return
                try:
                    conn, _ = sock.accept()
                except OSError as exc:
                    logger.error("AdminSocket: do_accept error: '%s'", exc)
                    continue
                with conn:
                    self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(CLIENT_TIMEOUT)
        try:
            request = _read_request(conn)
        except OSError as exc:
            logger.error("AdminSocket: error reading request code: %s", exc)
            return
        if request is None:
            return
        answer = self.execute(request)
        try:
            conn.sendall(struct.pack(">I", len(answer)) + answer)
        except OSError as exc:
            logger.error("AdminSocket: error writing response: %s", exc)
            return
        self.requests += 1

    def execute(self, request: str) -> bytes:
        """The answer to one request (JSON text, or an old-protocol command name)."""
        if request in _OLD_PROTOCOL.values():
            cmdmap: dict[str, Any] = {"prefix": request}
        else:
            try:
                parsed = json.loads(request)
            except ValueError:
                return AsokError(errno.EINVAL, "invalid json").answer()
            if not isinstance(parsed, dict):
                return AsokError(errno.EINVAL, "invalid json").answer()
            cmdmap = parsed
        prefix = str(cmdmap.get("prefix", ""))
        fmt = str(cmdmap.get("format", ""))
        if fmt not in FORMATS:
            fmt = "json-pretty"
        command = self._find(prefix)
        if command is None:
            return AsokError(errno.EINVAL, f"unknown command prefix {prefix}").answer()
        try:
            reply = command.handler(cmdmap)
        except AsokError as exc:
            return exc.answer()
        except Exception as exc:  # a handler bug must not kill the socket thread
            logger.exception("AdminSocket: request '%s' failed", prefix)
            return AsokError(errno.EIO, f"{type(exc).__name__}: {exc}").answer()
        if reply.raw is not None:
            return reply.raw
        return render(reply.value, fmt, reply.section)

    def _find(self, prefix: str) -> Command | None:
        commands = self._commands()
        words = prefix.split()
        while words:
            found = commands.get(" ".join(words))
            if found is not None:
                return found
            words.pop()
        return None


def _read_request(conn: socket.socket) -> str | None:
    """The request's text (the old binary protocol mapped to its command names);
    None when the client went away or sent too much."""
    buf = bytearray()
    while True:
        chunk = conn.recv(1)
        if not chunk:
            return None
        buf += chunk
        if buf[0] == 0:
            if len(buf) == 4:
                return _OLD_PROTOCOL.get(buf[3], "foo")
            continue
        if buf[-1] in (0, 0x0A):
            return buf[:-1].decode("utf-8", "replace")
        if len(buf) >= MAX_REQUEST:
            logger.error("AdminSocket: error reading request too long")
            return None


def client_request(path: str, command: Mapping[str, Any] | str, *,
                   timeout: float = CLIENT_TIMEOUT) -> bytes:
    """Send one request to the admin socket at ``path`` and return the answer
    (what ``ceph --admin-daemon`` does underneath, without the signature check).

    Raises:
        OSError: no socket there, or it closed early.
    """
    text = command if isinstance(command, str) else json.dumps(dict(command))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(text.encode() + b"\0")
        head = _recv_exact(s, 4)
        (length,) = struct.unpack(">I", head)
        return _recv_exact(s, length)


def _recv_exact(s: socket.socket, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        chunk = s.recv(min(n - len(out), 1 << 20))
        if not chunk:
            raise OSError(errno.ECONNRESET, "the admin socket closed before the answer ended")
        out += chunk
    return bytes(out)


def command_table(commands: Sequence[Command]) -> dict[str, Command]:
    """``prefix -> Command``, sorted as Ceph's ``std::map`` keeps them."""
    return {c.prefix: c for c in sorted(commands, key=lambda c: c.prefix)}


__all__ = [
    "ADMIN_SOCK_VERSION",
    "FORMATS",
    "AdminSocket",
    "AsokError",
    "Command",
    "Fixed",
    "Handler",
    "Reply",
    "client_request",
    "command_table",
    "describe",
    "render",
]
