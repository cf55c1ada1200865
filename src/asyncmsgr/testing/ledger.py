"""The per-session delivery ledger of the synthetic workload (``asyncmsgr stress``).

Ceph's ``SyntheticWorkload`` forgets a connection's pending messages on every
connect, accept or reset, so it cannot prove exactly-once delivery across
reconnects (ceph-messenger.md §9.1). This ledger keeps one *stream* per

    (sender messenger, sender connection id, generation, priority, link)

and requires every tracked message to arrive exactly once, in order within its
stream, with identical bytes. The only excuse for a missing message is a
*closed* stream:

* :meth:`Ledger.close_connection` closes the sender connection's current
  generation (call it from ``ms_handle_reset`` / ``ms_handle_remote_reset`` on the
  sending side, or when the workload itself marks that connection down); later
  sends on the connection open a new generation;
* :meth:`Ledger.close_link` closes, for good, every stream of a *link*: the
  client-side connection a conversation belongs to (the client's own messages and
  the server's echoes of them). Call it when the workload marks the client
  connection down: both directions of that session are discarded.

At the end, a message of a closed stream that never arrived is counted
``discarded_by_reset`` (or ``discarded_by_mark_down``); one of an open stream is
``lost``. A reset callback runs some time after the engine reset the session,
so it also excuses what was sent on the connection in between (such messages
normally still arrive, and then simply count as delivered). Closed streams do
not count as pending.

Checks on arrival (:meth:`Ledger.record_delivery`), per stream:

* a counter that was sent and already arrived: **duplicated**;
* a counter that was sent, not yet seen, but lower than one already delivered:
  **reordered** (it overtook nothing; something overtook it);
* bad magic, unknown stream, a counter never sent, the wrong destination, the
  wrong payload index, or bytes different from the canonical payload:
  **corrupted**.

Wire format: each tracked message carries a :data:`HEADER` (52 bytes, see
:class:`Header`) naming its stream, counter and payload index; its data segment
is the canonical payload from the :class:`PayloadTable`, so the receiver checks
the bytes without the sender's copy.

Pure bookkeeping: no I/O, no clock (callers pass their own ``stamp``), no event
loop. Thread-safe: one lock around the state; callbacks run outside it.
"""

from __future__ import annotations

import enum
import random
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from asyncmsgr.types import Buffer

#: ``magic, sender, dest, priority, pad, generation, payload, conn, link, counter, stamp``.
HEADER = struct.Struct("<4sHHHHIIQQQQ")
MAGIC = b"SYNL"
#: Violation samples kept for the report.
MAX_SAMPLES = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamKey:
    """One ordered stream of tracked messages."""

    sender: int
    """Index of the sending messenger in the workload."""
    conn: int
    """``conn_id`` of the sending connection (unique in the process)."""
    generation: int
    """How many times the sending connection's streams were closed before."""
    priority: int
    """Message priority; order is only promised within one priority."""
    link: int
    """``conn_id`` of the client-side connection the conversation belongs to."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    """The ledger header carried by every tracked message."""

    key: StreamKey
    dest: int
    """Index of the messenger that must receive the message."""
    counter: int
    """Position in the stream, from 1."""
    payload: int
    """Index of the canonical payload in the :class:`PayloadTable`."""
    stamp: int
    """Opaque caller value recorded at send time (e.g. a monotonic ns clock)."""

    def pack(self) -> bytes:
        """The wire form (:data:`HEADER`)."""
        k = self.key
        return HEADER.pack(MAGIC, k.sender, self.dest, k.priority, 0, k.generation,
                           self.payload, k.conn, k.link, self.counter, self.stamp)

    @classmethod
    def unpack(cls, data: Buffer) -> Header | None:
        """Parse a header; None if ``data`` is not one (wrong size or magic)."""
        if len(data) != HEADER.size:
            return None
        (magic, sender, dest, priority, _pad, generation, payload, conn, link, counter,
         stamp) = HEADER.unpack_from(data)
        if magic != MAGIC:
            return None
        key = StreamKey(sender=sender, conn=conn, generation=generation, priority=priority,
                        link=link)
        return cls(key=key, dest=dest, counter=counter, payload=payload, stamp=stamp)


class PayloadTable:
    """Canonical payloads: ``count`` sizes uniform in ``[min_size, max_size]``.

    Every payload is a read-only view into one pseudo-random buffer (seeded) at an
    offset of its own, so two payloads of the same size differ and the whole table
    costs ``max_size + count * 4099`` bytes instead of the sum of the sizes.
    """

    STRIDE = 4099

    def __init__(self, *, count: int = 100, min_size: int = 32, max_size: int = 4 << 20,
                 seed: int = 0) -> None:
        if count < 1 or min_size < 0 or max_size < min_size:
            raise ValueError(f"bad payload table: count={count} sizes "
                             f"[{min_size}, {max_size}]")
        rng = random.Random(seed)
        self.sizes = [rng.randint(min_size, max_size) for _ in range(count)]
        self._offsets = [i * self.STRIDE for i in range(count)]
        self._base = bytearray(rng.randbytes(max_size + count * self.STRIDE))
        self._view = memoryview(self._base).toreadonly()

    def __len__(self) -> int:
        return len(self.sizes)

    def payload(self, index: int) -> memoryview:
        """Payload ``index`` as a read-only view (send it as is; no copy)."""
        off = self._offsets[index]
        return self._view[off:off + self.sizes[index]]

    def matches(self, index: int, data: Buffer) -> bool:
        """True if ``data`` is exactly payload ``index`` (False for a bad index)."""
        if not 0 <= index < len(self.sizes) or len(data) != self.sizes[index]:
            return False
        off = self._offsets[index]
        # bytearray == buffer compares with memcmp; memoryview == memoryview does not.
        return self._base[off:off + self.sizes[index]] == data


class Verdict(enum.Enum):
    """What one arrival was."""

    IN_ORDER = "in_order"
    REORDERED = "reordered"
    DUPLICATED = "duplicated"
    CORRUPTED = "corrupted"


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrival:
    """The ledger's judgement of one received message."""

    verdict: Verdict
    header: Header | None
    """The parsed header (None when it could not be parsed)."""
    reason: str = ""
    """Why it is a violation (empty when in order)."""

    @property
    def ok(self) -> bool:
        """True for an in-order, intact, first delivery."""
        return self.verdict is Verdict.IN_ORDER


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerStats:
    """A snapshot of the ledger's counts."""

    sent: int
    """Tracked messages recorded by senders."""
    delivered: int
    """Distinct tracked messages that arrived (including reordered or corrupted ones)."""
    pending: int
    """Sent on open streams, not arrived yet: ``lost`` once the run is over."""
    discarded_by_reset: int
    """Sent on streams closed by a reset callback, never arrived."""
    discarded_by_mark_down: int
    """Sent on streams closed by the workload's own mark_down, never arrived."""
    duplicated: int
    reordered: int
    corrupted: int
    streams: int
    closed_streams: int
    samples: tuple[str, ...] = ()
    """The first violations, described."""

    @property
    def lost(self) -> int:
        """Sent on an open stream and never arrived (meaningful after the final wait)."""
        return self.pending

    def violations(self, *, loss_is_violation: bool = True) -> list[str]:
        """One line per kind of violation; empty when the run was clean.

        Duplicates, reorders and corruption are always violations; loss (not
        explained by a reset) unless ``loss_is_violation`` is false.
        """
        out: list[str] = []
        if loss_is_violation and self.lost:
            out.append(f"{self.lost} tracked messages lost without a reset")
        for name in ("duplicated", "reordered", "corrupted"):
            n = getattr(self, name)
            if n:
                out.append(f"{n} tracked messages {name}")
        return out


class CloseReason(enum.Enum):
    """Why a stream was closed."""

    RESET = "reset"
    """``ms_handle_reset`` / ``ms_handle_remote_reset`` on the sending side."""
    MARK_DOWN = "mark_down"
    """The workload marked the connection (or the link's client connection) down."""


@dataclass(slots=True)
class _Stream:
    key: StreamKey
    closed: CloseReason | None
    sent: int = 0
    high: int = 0
    """Highest counter delivered so far."""
    outstanding: dict[int, int] = field(default_factory=dict)
    """Counter -> payload index, for messages sent and not arrived."""


@dataclass(slots=True)
class _Endpoint:
    generation: int = 0
    current: list[_Stream] = field(default_factory=list)


class Ledger:
    """Thread-safe record of every tracked message; see the module docstring."""

    def __init__(self, payloads: PayloadTable) -> None:
        self.payloads = payloads
        self._lock = threading.Lock()
        self._streams: dict[StreamKey, _Stream] = {}
        self._endpoints: dict[tuple[int, int], _Endpoint] = {}
        self._by_link: dict[int, list[_Stream]] = {}
        self._closed_links: set[int] = set()
        self._sent = 0
        self._delivered = 0
        self._pending = 0
        self._duplicated = 0
        self._reordered = 0
        self._corrupted = 0
        self._samples: list[str] = []
        self._listener: Callable[[], None] | None = None

    def set_listener(self, listener: Callable[[], None] | None) -> None:
        """Call ``listener()`` (outside the lock, on the calling thread) whenever
        :meth:`pending` may have dropped: after a delivery or a close."""
        self._listener = listener

    # -- sending ---------------------------------------------------------------------

    def record_send(self, *, sender: int, dest: int, conn: int, link: int, priority: int,
                    payload: int, stamp: int = 0) -> Header:
        """Record a tracked message about to be sent; put ``header.pack()`` in it.

        Call before ``send_message`` (a fast receiver may see it at once).
        """
        with self._lock:
            ep = self._endpoints.get((sender, conn))
            if ep is None:
                ep = self._endpoints[(sender, conn)] = _Endpoint()
            key = StreamKey(sender=sender, conn=conn, generation=ep.generation,
                            priority=priority, link=link)
            st = self._streams.get(key)
            if st is None:
                closed = CloseReason.MARK_DOWN if link in self._closed_links else None
                st = self._streams[key] = _Stream(key=key, closed=closed)
                ep.current.append(st)
                self._by_link.setdefault(link, []).append(st)
            st.sent += 1
            st.outstanding[st.sent] = payload
            self._sent += 1
            if st.closed is None:
                self._pending += 1
            return Header(key=key, dest=dest, counter=st.sent, payload=payload, stamp=stamp)

    # -- closing ---------------------------------------------------------------------

    def close_connection(self, sender: int, conn: int, *,
                         reason: CloseReason = CloseReason.RESET) -> None:
        """Close the current generation of every stream sent on ``conn`` by ``sender``
        (a reset callback for that connection, or the workload's mark_down of it)."""
        with self._lock:
            ep = self._endpoints.get((sender, conn))
            if ep is None:
                ep = self._endpoints[(sender, conn)] = _Endpoint()
            for st in ep.current:
                self._close_locked(st, reason)
            ep.current = []
            ep.generation += 1
        self._notify()

    def close_link(self, link: int) -> None:
        """Close every stream, present and future, of the conversation ``link``
        (the workload marked that client connection down: both directions)."""
        with self._lock:
            self._closed_links.add(link)
            for st in self._by_link.get(link, ()):
                self._close_locked(st, CloseReason.MARK_DOWN)
        self._notify()

    def _close_locked(self, st: _Stream, reason: CloseReason) -> None:
        if st.closed is None:
            st.closed = reason
            self._pending -= len(st.outstanding)

    # -- receiving -------------------------------------------------------------------

    def record_delivery(self, header: Buffer, data: Buffer, *, receiver: int) -> Arrival:
        """Judge one received tracked message (``header`` as packed, ``data`` the
        received payload) arriving at messenger ``receiver``."""
        h = Header.unpack(header)
        if h is None:
            return self._corrupt(None, f"at {receiver}: unparsable ledger header "
                                       f"({len(header)} bytes)")
        intact = self.payloads.matches(h.payload, data)  # outside the lock: memcmp
        with self._lock:
            st = self._streams.get(h.key)
            if st is None:
                return self._corrupt_locked(h, f"{_fmt(h)}: unknown stream")
            if not 0 < h.counter <= st.sent:
                return self._corrupt_locked(h, f"{_fmt(h)}: counter never sent "
                                               f"(sent {st.sent})")
            expected_payload = st.outstanding.pop(h.counter, None)
            if expected_payload is None:
                self._duplicated += 1
                return self._violation_locked(h, Verdict.DUPLICATED,
                                              f"{_fmt(h)}: duplicate (high {st.high})")
            self._delivered += 1
            if st.closed is None:
                self._pending -= 1
            late = h.counter < st.high
            st.high = max(st.high, h.counter)
            if h.dest != receiver:
                arrival = self._corrupt_locked(h, f"{_fmt(h)}: delivered to {receiver}")
            elif expected_payload != h.payload or not intact:
                arrival = self._corrupt_locked(
                    h, f"{_fmt(h)}: payload {h.payload} ({len(data)} bytes) does not "
                       f"match payload {expected_payload} as sent")
            elif late:
                self._reordered += 1
                arrival = self._violation_locked(h, Verdict.REORDERED,
                                                 f"{_fmt(h)}: after {st.high}")
            else:
                arrival = Arrival(verdict=Verdict.IN_ORDER, header=h)
        self._notify()
        return arrival

    def _corrupt(self, h: Header | None, reason: str) -> Arrival:
        with self._lock:
            return self._corrupt_locked(h, reason)

    def _corrupt_locked(self, h: Header | None, reason: str) -> Arrival:
        self._corrupted += 1
        return self._violation_locked(h, Verdict.CORRUPTED, reason)

    def _violation_locked(self, h: Header | None, verdict: Verdict, reason: str) -> Arrival:
        if len(self._samples) < MAX_SAMPLES:
            self._samples.append(f"{verdict.value}: {reason}")
        return Arrival(verdict=verdict, header=h, reason=reason)

    def _notify(self) -> None:
        listener = self._listener
        if listener is not None:
            listener()

    # -- queries ---------------------------------------------------------------------

    def pending(self) -> int:
        """Tracked messages sent on open streams and not arrived yet."""
        return self._pending

    def pending_streams(self, limit: int = 10) -> list[str]:
        """Up to ``limit`` open streams with messages still outstanding, described."""
        with self._lock:
            out: list[str] = []
            for st in self._streams.values():
                if st.closed is None and st.outstanding:
                    k = st.key
                    out.append(f"sender {k.sender} conn {k.conn} gen {k.generation} "
                               f"prio {k.priority} link {k.link}: {len(st.outstanding)} "
                               f"outstanding (first {min(st.outstanding)}, sent "
                               f"{st.sent}, high {st.high})")
                    if len(out) >= limit:
                        break
            return out

    def stats(self) -> LedgerStats:
        """A consistent snapshot of the counts."""
        with self._lock:
            discarded: Counter[CloseReason | None] = Counter()
            for st in self._streams.values():
                discarded[st.closed] += len(st.outstanding)
            closed = sum(1 for st in self._streams.values() if st.closed is not None)
            return LedgerStats(sent=self._sent, delivered=self._delivered,
                               pending=self._pending,
                               discarded_by_reset=discarded[CloseReason.RESET],
                               discarded_by_mark_down=discarded[CloseReason.MARK_DOWN],
                               duplicated=self._duplicated, reordered=self._reordered,
                               corrupted=self._corrupted, streams=len(self._streams),
                               closed_streams=closed, samples=tuple(self._samples))


def _fmt(h: Header) -> str:
    k = h.key
    return (f"stream sender {k.sender} conn {k.conn} gen {k.generation} prio {k.priority} "
            f"link {k.link} counter {h.counter}")


__all__ = [
    "HEADER",
    "MAGIC",
    "Arrival",
    "CloseReason",
    "Header",
    "Ledger",
    "LedgerStats",
    "PayloadTable",
    "StreamKey",
    "Verdict",
]
