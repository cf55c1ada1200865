"""Fault injection with Ceph's option names (faults-and-bad-input.md §1.1).

One :class:`FaultInjector` per messenger, consulted by its connections:

* ``ms_inject_socket_failures`` N: each socket read or send attempt shuts the
  socket down with probability 1/N (``AsyncConnection::read_until`` /
  ``_try_send``); the connection then faults through the real I/O error, in
  whatever state it is in.
* ``ms_inject_internal_delays`` seconds: sleep the worker thread at the
  race-prone points the protocol machine marks (``inject_delay``).
* ``ms_inject_delay_type`` / ``_probability`` / ``_max``: received messages from
  the listed peer types go through a per-connection FIFO (:class:`DelayedDelivery`)
  and each is held for a uniform ``[0, max)`` with the given probability. Order
  is kept: a message never overtakes the one in front of it.
* ``ms_inject_network_congestion`` N: a send attempt behaves as EAGAIN with
  probability (N-1)/N.
* ``ms_blackhole_<type>``: messages to and from that peer type are dropped
  (received ones still advance ``in_seq`` and are acknowledged).

``counts`` tallies what was injected, for tools and tests.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable

from asyncmsgr.config import MessengerConfig
from asyncmsgr.message import Message


class FaultInjector:
    """The injection decisions of one messenger (thread-safe)."""

    def __init__(self, config: MessengerConfig, rng: random.Random | None = None) -> None:
        self.config = config
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        #: Called with the connection whose socket an injected failure shuts
        #: (on that connection's thread), for tools measuring recovery.
        self.on_socket_failure: Callable[[object], None] | None = None

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    @property
    def socket_failures(self) -> int:
        """``ms_inject_socket_failures`` (0: off)."""
        return self.config.ms_inject_socket_failures

    def fail_socket_op(self, conn: object = None) -> bool:
        """True when ``conn``'s read or send attempt must shut its socket (1 in N)."""
        n = self.config.ms_inject_socket_failures
        if n <= 0 or self._rng.randrange(n) != 0:
            return False
        self._count("socket_failures")
        hook = self.on_socket_failure
        if hook is not None:
            hook(conn)
        return True

    def congested(self) -> bool:
        """True when this send attempt must behave as EAGAIN ((N-1) in N)."""
        n = self.config.ms_inject_network_congestion
        if n <= 0 or self._rng.randrange(n) == 0:
            return False
        self._count("congestion")
        return True

    def internal_delay(self) -> None:
        """Sleep the calling worker ``ms_inject_internal_delays`` seconds."""
        delay = self.config.ms_inject_internal_delays
        if delay > 0:
            self._count("internal_delays")
            time.sleep(delay)

    def delays_peer(self, peer_type: int) -> bool:
        """Whether received messages from ``peer_type`` go through DelayedDelivery."""
        return self.config.inject_delay_applies(peer_type)

    def delivery_delay(self) -> float:
        """The hold time of one received message: uniform ``[0, max)`` with the
        configured probability, else 0."""
        c = self.config
        if self._rng.random() >= c.ms_inject_delay_probability:
            return 0.0
        self._count("delayed_messages")
        return c.ms_inject_delay_max * self._rng.random()

    def blackholed(self, peer_type: int) -> bool:
        """True (and counted) when traffic with ``peer_type`` must be dropped."""
        if not self.config.is_blackhole(peer_type):
            return False
        self._count("blackholed_messages")
        return True

    def total(self) -> int:
        """Faults injected so far (socket failures, congestion stalls, delays, drops)."""
        with self._lock:
            return sum(self.counts.values())


class DelayedDelivery:
    """Ceph's ``DelayedDelivery``: a FIFO of received messages, each released no
    earlier than its own deadline and never before the one in front of it.

    Pure bookkeeping; the connection arms a timer for :meth:`next_deadline` and
    calls :meth:`pop_due` when it fires.
    """

    def __init__(self) -> None:
        self._queue: deque[tuple[float, Message]] = deque()

    def __len__(self) -> int:
        return len(self._queue)

    def queue(self, release_at: float, m: Message) -> None:
        """Append ``m``, to be released at ``release_at`` at the earliest."""
        self._queue.append((release_at, m))

    def next_deadline(self) -> float | None:
        """When the front message is due (None when empty)."""
        return self._queue[0][0] if self._queue else None

    def pop_due(self, now: float) -> list[Message]:
        """The messages at the front whose deadline has passed, in order."""
        q = self._queue
        out: list[Message] = []
        while q and q[0][0] <= now:
            out.append(q.popleft()[1])
        return out

    def flush(self) -> list[Message]:
        """Everything, in order (the connection stops: deliver now)."""
        out = [m for _at, m in self._queue]
        self._queue.clear()
        return out

    def discard(self, release: Callable[[Message], None]) -> int:
        """Drop everything (the session was reset), releasing each message."""
        n = len(self._queue)
        for _at, m in self._queue:
            release(m)
        self._queue.clear()
        return n


__all__ = ["DelayedDelivery", "FaultInjector"]
