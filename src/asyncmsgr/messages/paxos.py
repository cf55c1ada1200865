"""The ``PaxosServiceMessage`` header that opens MAuth, MMonCommand(Ack), ...

Layout (wire-protocol.md §7.2): ``u64 version, s16 deprecated_session_mon,
u64 deprecated_session_mon_tid``. Clients send version 0, session mon -1
(``0xffff``) and tid 0. The session mon is kept as the unsigned 16-bit value read.
"""

from __future__ import annotations

from asyncmsgr.record import Record
from asyncmsgr.wire.buffer import Reader, Writer

#: Encoded size of the header.
PAXOS_HEADER_LEN = 18


_set = object.__setattr__  # what a frozen class's __init__ assigns with


class PaxosHeader(Record):
    """``PaxosServiceMessage`` fields common to the mon service messages."""

    version: int
    """Paxos version the sender has seen (``version_t``)."""
    deprecated_session_mon: int
    """Ceph's ``__s16 deprecated_session_mon`` as u16 (-1 = 0xffff)."""
    deprecated_session_mon_tid: int
    """Ceph's ``deprecated_session_mon_tid``."""

    __slots__ = ("deprecated_session_mon", "deprecated_session_mon_tid", "version")

    def __init__(self, *, version: int = 0, deprecated_session_mon: int = 0xFFFF,
                 deprecated_session_mon_tid: int = 0) -> None:
        _set(self, "version", version)
        _set(self, "deprecated_session_mon", deprecated_session_mon)
        _set(self, "deprecated_session_mon_tid", deprecated_session_mon_tid)


#: What every client sends.
DEFAULT_PAXOS_HEADER = PaxosHeader()


def pull_paxos_header(r: Reader) -> PaxosHeader:
    """``paxos_decode``."""
    version = r.pull_u64()
    mon = r.pull_u16()
    return PaxosHeader(version=version, deprecated_session_mon=mon,
                       deprecated_session_mon_tid=r.pull_u64())


def push_paxos_header(w: Writer, h: PaxosHeader) -> None:
    """``paxos_encode``."""
    w.push_u64(h.version)
    w.push_u16(h.deprecated_session_mon)
    w.push_u64(h.deprecated_session_mon_tid)


__all__ = [
    "DEFAULT_PAXOS_HEADER",
    "PAXOS_HEADER_LEN",
    "PaxosHeader",
    "pull_paxos_header",
    "push_paxos_header",
]
