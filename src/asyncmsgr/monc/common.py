"""The monitor client's errors, options, command results and map helpers.

Shared by :mod:`asyncmsgr.monc.core` (which re-exports them), its drivers and
the other clients that ride on a monitor session (:mod:`asyncmsgr.mgrc`):

* errors: :class:`MonClientError`, :class:`MonAuthError` (refused credentials,
  with the negative errno), :class:`MonTimeout`, :class:`MonClientClosed`;
* :class:`MonClientOptions` (the ``mon_client_*`` options) and
  :class:`CommandResult` (``r``, ``rs``, ``outbuf`` of any command's reply);
* :func:`osdmap_epochs`, :func:`mgrmap_epoch` (epochs of map messages) and
  :func:`dial_target` (which address of an addrvec to dial, and the protocol).
"""

from __future__ import annotations

import json
from typing import Any

from asyncmsgr.errors import AsyncmsgrError
from asyncmsgr.message import Message
from asyncmsgr.record import Record
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec
from asyncmsgr.wire.buffer import Reader

_set = object.__setattr__  # what a frozen class's __init__ assigns with

# -- errors ----------------------------------------------------------------------------


class MonClientError(AsyncmsgrError):
    """The monitor client could not do what was asked."""


class MonAuthError(MonClientError):
    """Every monitor dialled refused our credentials; ``result`` is a negative errno.

    ``msgr_v1``: the refusal came in an MAuthReply (msgr v1), whose ``result`` is
    the monitor's own (librados returns it as is; over msgr2 it reports EACCES).
    """

    def __init__(self, message: str, result: int = -13, *, msgr_v1: bool = False) -> None:
        super().__init__(message)
        self.result = result
        self.msgr_v1 = msgr_v1


class MonTimeout(MonClientError, TimeoutError):
    """No monitor session (or no reply) within the time allowed."""


class MonClientClosed(MonClientError):
    """The client was shut down while the operation waited."""


# -- options and results ---------------------------------------------------------------


class MonClientOptions(Record):
    """The ``mon_client_*`` options (Ceph's defaults)."""

    hunt_interval: float
    """``mon_client_hunt_interval``: seconds before trying other monitors."""
    hunt_parallel: int
    """``mon_client_hunt_parallel``: monitors dialled at once."""
    hunt_interval_backoff: float
    """``mon_client_hunt_interval_backoff``: multiplier growth per failed hunt."""
    hunt_interval_max_multiple: float
    """``mon_client_hunt_interval_max_multiple``."""
    ping_interval: float
    """``mon_client_ping_interval``: seconds between keepalives."""
    ping_timeout: float
    """``mon_client_ping_timeout``: no keepalive ack for this long → new session."""
    mount_timeout: float
    """``client_mount_timeout``: longest a connect waits."""
    op_timeout: float
    """``rados_mon_op_timeout``: default command timeout (0: none)."""
    hostname: str
    """Sent in MMonSubscribe."""

    __slots__ = ("hostname", "hunt_interval", "hunt_interval_backoff",
                 "hunt_interval_max_multiple", "hunt_parallel", "mount_timeout",
                 "op_timeout", "ping_interval", "ping_timeout")

    def __init__(self, *, hunt_interval: float = 3.0, hunt_parallel: int = 3,
                 hunt_interval_backoff: float = 1.5, hunt_interval_max_multiple: float = 10.0,
                 ping_interval: float = 10.0, ping_timeout: float = 30.0,
                 mount_timeout: float = 300.0, op_timeout: float = 0.0,
                 hostname: str = "") -> None:
        _set(self, "hunt_interval", hunt_interval)
        _set(self, "hunt_parallel", hunt_parallel)
        _set(self, "hunt_interval_backoff", hunt_interval_backoff)
        _set(self, "hunt_interval_max_multiple", hunt_interval_max_multiple)
        _set(self, "ping_interval", ping_interval)
        _set(self, "ping_timeout", ping_timeout)
        _set(self, "mount_timeout", mount_timeout)
        _set(self, "op_timeout", op_timeout)
        _set(self, "hostname", hostname)


class CommandResult(Record):
    """An MMonCommandAck: ``r`` (0 or -errno), status text ``rs``, output ``outbuf``."""

    r: int
    rs: str
    outbuf: bytes

    __slots__ = ("outbuf", "r", "rs")

    def __init__(self, r: int, rs: str, outbuf: bytes) -> None:
        _set(self, "r", r)
        _set(self, "rs", rs)
        _set(self, "outbuf", outbuf)

    def json(self) -> Any:
        """``outbuf`` parsed as JSON."""
        return json.loads(self.outbuf)


# -- map decoding for subscriptions ----------------------------------------------------


def osdmap_epochs(m: Message) -> tuple[int, int]:
    """(first, last) epochs carried by an MOSDMap; raises DecodeError."""
    r = Reader(bytes(m.front))
    r.pull_view(16)  # fsid
    epochs: list[int] = []
    for _ in range(2):  # incremental_maps, maps
        for _ in range(r.pull_count(8, "MOSDMap maps")):
            epochs.append(r.pull_u32())
            r.pull_blob_view()
    if not epochs:
        return 0, 0
    return min(epochs), max(epochs)


def mgrmap_epoch(m: Message) -> int:
    """The epoch of the MgrMap an MMgrMap carries; raises DecodeError."""
    r = Reader(bytes(m.front))
    r.pull_view(6)  # ENCODE_START: struct_v, compat, length
    return r.pull_u32()


def dial_target(av: EntityAddrVec, connect_msgr: str = "any") -> tuple[EntityAddr, int]:
    """The address to dial in ``av`` and the protocol (2 or 1) to speak there, as
    ``Messenger.pick_target`` chooses under ``asyncmsgr_connect_msgr`` (``v2``,
    ``v1`` or anything else for both). Raises ValueError when ``av`` has no
    address of the wanted protocol."""
    v2 = av.msgr2_addr if connect_msgr != "v1" else None
    if v2 is not None:
        return v2, 2
    v1 = av.legacy_addr if connect_msgr != "v2" else None
    if v1 is not None:
        return v1.with_type(AddrType.LEGACY), 1
    kind = {"v2": "msgr2", "v1": "msgr v1"}.get(connect_msgr, "v2 or v1")
    raise ValueError(f"{av} has no {kind} address to connect to")


__all__ = [
    "CommandResult",
    "MonAuthError",
    "MonClientClosed",
    "MonClientError",
    "MonClientOptions",
    "MonTimeout",
    "dial_target",
    "mgrmap_epoch",
    "osdmap_epochs",
]
