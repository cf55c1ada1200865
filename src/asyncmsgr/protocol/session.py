"""Session state shared by the protocol machines (Ceph ``Protocol`` members).

* ``out_queue``: priority -> FIFO of messages not yet written; the highest
  priority goes first (``_get_next_outgoing``).
* ``sent``: messages written on a lossless session and not yet acknowledged.
* ``out_seq`` / ``in_seq``: last seq written / last seq received; ``ack_left``
  counts received messages not acknowledged yet.
* cookies and sequence numbers identifying the session across reconnects.

Rules (ceph-messenger.md §4.1): a resend reuses its seq (``requeue_sent`` puts
the sent list back at the front of the highest priority and rewinds
``out_seq``), and ``discard_requeued_up_to`` drops what the peer already has.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from asyncmsgr.message import CEPH_MSG_PRIO_HIGHEST, Message
from asyncmsgr.record import MutableRecord


class OutQueue:
    """Messages waiting to be written, by priority (higher first), FIFO within one."""

    __slots__ = ("_count", "_queues")

    def __init__(self) -> None:
        self._queues: dict[int, deque[Message]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[Message]:
        for prio in sorted(self._queues, reverse=True):
            yield from self._queues[prio]

    def push(self, m: Message) -> None:
        """Append ``m`` at its priority."""
        q = self._queues.get(m.priority)
        if q is None:
            q = self._queues[m.priority] = deque()
        q.append(m)
        self._count += 1

    def pop(self) -> Message | None:
        """The next message to write (highest priority, oldest first), or None."""
        if not self._count:
            return None
        prio = max(self._queues)
        q = self._queues[prio]
        m = q.popleft()
        if not q:
            del self._queues[prio]
        self._count -= 1
        return m

    def push_front_highest(self, messages: list[Message]) -> None:
        """Put ``messages`` (in order) before everything at CEPH_MSG_PRIO_HIGHEST."""
        if not messages:
            return
        q = self._queues.get(CEPH_MSG_PRIO_HIGHEST)
        if q is None:
            q = self._queues[CEPH_MSG_PRIO_HIGHEST] = deque()
        q.extendleft(reversed(messages))
        self._count += len(messages)

    def discard_requeued_up_to(self, out_seq: int, seq: int) -> tuple[int, list[Message]]:
        """Drop requeued messages with ``0 < m.seq <= seq`` from the highest queue.

        Stops at the first never-sent message (seq 0). Returns the new out_seq
        (advanced by one per dropped message) and the dropped messages.
        """
        q = self._queues.get(CEPH_MSG_PRIO_HIGHEST)
        dropped: list[Message] = []
        if q is None:
            return out_seq, dropped
        while q:
            m = q[0]
            if m.seq == 0 or m.seq > seq:
                break
            dropped.append(q.popleft())
            out_seq += 1
        self._count -= len(dropped)
        if not q:
            del self._queues[CEPH_MSG_PRIO_HIGHEST]
        return out_seq, dropped

    def clear(self) -> list[Message]:
        """Remove and return every queued message (in send order)."""
        out = list(self)
        self._queues.clear()
        self._count = 0
        return out


class Session(MutableRecord):
    """Sequence numbers, cookies and queues of one peer session."""

    out_queue: OutQueue
    sent: deque[Message]
    out_seq: int
    in_seq: int
    ack_left: int
    client_cookie: int
    server_cookie: int
    connect_seq: int
    global_seq: int
    peer_global_seq: int
    message_seq: int
    """The peer's last received seq, learnt from SESSION_RECONNECT (server side)."""

    __slots__ = ("ack_left", "client_cookie", "connect_seq", "global_seq", "in_seq",
                 "message_seq", "out_queue", "out_seq", "peer_global_seq", "sent",
                 "server_cookie")

    def __init__(self, *, out_queue: OutQueue | None = None,
                 sent: deque[Message] | None = None, out_seq: int = 0, in_seq: int = 0,
                 ack_left: int = 0, client_cookie: int = 0, server_cookie: int = 0,
                 connect_seq: int = 0, global_seq: int = 0, peer_global_seq: int = 0,
                 message_seq: int = 0) -> None:
        self.out_queue = OutQueue() if out_queue is None else out_queue
        self.sent = deque() if sent is None else sent
        self.out_seq = out_seq
        self.in_seq = in_seq
        self.ack_left = ack_left
        self.client_cookie = client_cookie
        self.server_cookie = server_cookie
        self.connect_seq = connect_seq
        self.global_seq = global_seq
        self.peer_global_seq = peer_global_seq
        self.message_seq = message_seq

    def requeue_sent(self) -> None:
        """Move unacknowledged messages back to the front; their seqs will be reused."""
        if not self.sent:
            return
        messages = list(self.sent)
        self.sent.clear()
        self.out_seq -= len(messages)
        self.out_queue.push_front_highest(messages)

    def discard_requeued_up_to(self, seq: int) -> list[Message]:
        """Drop requeued messages the peer already has (its last seq is ``seq``)."""
        self.out_seq, dropped = self.out_queue.discard_requeued_up_to(self.out_seq, seq)
        return dropped

    def handle_ack(self, seq: int) -> list[Message]:
        """Trim the sent list up to ``seq``; return the acknowledged messages.

        (Ceph trims at most 128 per ACK, a stack-array limit; we trim all, so an
        acknowledged message is never left waiting for the next ACK.)
        """
        acked: list[Message] = []
        sent = self.sent
        while sent and sent[0].seq <= seq:
            acked.append(sent.popleft())
        return acked

    def discard_out_queue(self) -> list[Message]:
        """Drop the sent list and the out queue (``discard_out_queue``)."""
        dropped = list(self.sent)
        self.sent.clear()
        dropped.extend(self.out_queue.clear())
        return dropped

    def reset(self) -> list[Message]:
        """``reset_session``: forget everything; return the discarded messages."""
        dropped = self.discard_out_queue()
        self.out_seq = self.in_seq = self.ack_left = 0
        self.client_cookie = self.server_cookie = 0
        self.connect_seq = self.peer_global_seq = self.message_seq = 0
        return dropped


__all__ = ["OutQueue", "Session"]
