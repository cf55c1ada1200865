"""Receive buffer of a protocol machine, in ``asyncio.BufferedProtocol`` style.

The I/O layer asks :meth:`RxBuffer.get_buffer` where to put the next bytes
(``sock.recv_into(view)``) and reports how many arrived with
:meth:`RxBuffer.buffer_updated`. Small frames are parsed in place (views are
only valid until the next compaction or :meth:`RxBuffer.detach`, so anything
handed to users is copied). A frame body larger than the threshold is received
straight into its own bytearray, allocated only after its length was checked
against the caps, so large payloads are never copied.

Memory: the buffer's own storage is allocated on first use (16 KiB, doubling
up to its maximum while reads fill it or a frame needs more room). An I/O layer
with many connections per thread passes a shared *scratch* buffer to
:meth:`get_buffer`: bytes are received there and parsed in place, and
:meth:`detach`, called once the received bytes were processed, keeps only an
incomplete frame's bytes (if any) in a buffer of their exact size. An idle
connection then holds no receive buffer at all.
"""

from __future__ import annotations

_NO_STORAGE = bytearray()


class RxBuffer:
    """One reused receive buffer plus an optional dedicated large-body buffer."""

    __slots__ = ("_big", "_big_fill", "_big_mv", "_borrowed", "_buf", "_initial", "_max",
                 "_mv", "_r", "_w")

    #: Initial size of the reused buffer (Ceph's prefetch buffer is 4 KiB).
    INITIAL = 16384

    def __init__(self, size: int, *, initial: int = INITIAL) -> None:
        self._max = size
        self._initial = min(initial, size)
        self._buf = _NO_STORAGE  # allocated on first use
        self._mv = memoryview(self._buf)
        self._borrowed = False
        self._r = 0
        self._w = 0
        self._big: bytearray | None = None
        self._big_mv = memoryview(b"")
        self._big_fill = 0

    @property
    def capacity(self) -> int:
        """Current size of the buffer received into (0 before first use)."""
        return len(self._buf)

    @property
    def max_capacity(self) -> int:
        """The size the reused buffer may grow to."""
        return self._max

    @property
    def borrowing(self) -> bool:
        """True between a :meth:`get_buffer` that handed out the scratch buffer and
        :meth:`detach`."""
        return self._borrowed

    def _grow(self, need: int) -> None:
        """Move to an own buffer of at least ``need`` bytes (doubling, capped at the
        max); a borrowed scratch buffer is left."""
        size = max(len(self._buf), self._initial) if not self._borrowed else self._initial
        while size < need:
            size *= 2
        size = max(need, min(size, self._max))
        if size <= len(self._buf) and not self._borrowed:
            return
        pending = self._w - self._r
        buf = bytearray(size)
        buf[:pending] = self._mv[self._r : self._w]
        self._buf = buf
        self._mv = memoryview(buf)
        self._borrowed = False
        self._r, self._w = 0, pending

    @property
    def held(self) -> int:
        """Bytes of storage this buffer owns: its own buffer (not a borrowed
        scratch buffer) plus a dedicated large-body buffer."""
        own = 0 if self._borrowed else len(self._buf)
        return own + (len(self._big) if self._big is not None else 0)

    @property
    def available(self) -> int:
        """Bytes received and not consumed (in the reused buffer)."""
        return self._w - self._r

    @property
    def receiving_big(self) -> bool:
        """True while a large body is being received into its own buffer."""
        return self._big is not None

    def get_buffer(self, scratch: bytearray | None = None) -> memoryview:
        """Writable view for the next ``recv_into`` (never empty).

        With ``scratch`` (a buffer of the maximum size shared by connections that
        are processed one at a time), bytes go there until :meth:`detach`.
        """
        if self._big is not None:
            return self._big_mv[self._big_fill :]
        if scratch is not None and not self._borrowed:
            pending = self._w - self._r
            if pending < len(scratch):  # move a partial frame's bytes over
                scratch[:pending] = self._mv[self._r : self._w]
                self._buf = scratch
                self._mv = memoryview(scratch)
                self._borrowed = True
                self._r, self._w = 0, pending
        elif not self._buf:
            self._grow(self._initial)
        if self._w == len(self._buf):
            if self._r:
                self.compact()
            else:  # full of unconsumed bytes: a stream, give it more room
                self._grow(min(len(self._buf) * 2, self._max))
            if self._w == len(self._buf):  # at the max: only feed() gets here, double
                self._grow(2 * len(self._buf))
        return self._mv[self._w :]

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` were written into the view from :meth:`get_buffer`."""
        if self._big is not None:
            self._big_fill += nbytes
        else:
            self._w += nbytes
            if (self._w == len(self._buf) and len(self._buf) < self._max
                    and not self._borrowed):
                self._grow(min(len(self._buf) * 2, self._max))  # reads fill it: read bigger

    def detach(self) -> None:
        """Stop using the scratch buffer: keep the unconsumed bytes (an incomplete
        frame) in an own buffer of their size, or nothing. Call once the bytes
        received into the scratch buffer were processed; no-op otherwise."""
        if not self._borrowed:
            return
        pending = self._w - self._r
        buf = bytearray(self._mv[self._r : self._w]) if pending else _NO_STORAGE
        self._buf = buf
        self._mv = memoryview(buf)
        self._borrowed = False
        self._r, self._w = 0, pending

    def feed(self, data: bytes | bytearray | memoryview) -> int:
        """Copy ``data`` in (for callers that already hold bytes; tests, proxies).

        Stops when a dedicated large-body buffer is full (the machine must take
        it before more bytes can go anywhere); returns how many bytes were taken.
        """
        view = memoryview(data)
        taken = 0
        while len(view) > 0:
            if self._big is not None and self._big_fill == len(self._big):
                break
            buf = self.get_buffer()
            n = min(len(buf), len(view))
            buf[:n] = view[:n]
            self.buffer_updated(n)
            view = view[n:]
            taken += n
        return taken

    def peek(self, n: int) -> memoryview:
        """The next ``n`` unconsumed bytes (requires ``available >= n``)."""
        return self._mv[self._r : self._r + n]

    def window(self) -> tuple[memoryview, int, int]:
        """``(view, start, end)``: the unconsumed bytes are ``view[start:end]``
        (for loops that parse several items in place, then :meth:`consume`)."""
        return self._mv, self._r, self._w

    def consume(self, n: int) -> None:
        """Drop ``n`` bytes from the front."""
        self._r += n
        if self._r == self._w:
            self._r = self._w = 0

    def ensure_room(self, n: int) -> None:
        """Make sure ``n`` bytes can be buffered contiguously (grows if needed)."""
        if len(self._buf) - self._r < n:
            self.compact()
            if len(self._buf) < n:
                self._grow(n)

    def compact(self) -> None:
        """Move unconsumed bytes to the front (invalidates earlier views)."""
        if self._r:
            pending = self._w - self._r
            self._buf[:pending] = self._buf[self._r : self._w]
            self._r, self._w = 0, pending

    def start_big(self, total: int) -> None:
        """Receive the next ``total`` bytes into a dedicated buffer.

        Bytes already buffered move over first. The caller must have checked
        ``total`` against its caps.
        """
        big = bytearray(total)
        have = min(self.available, total)
        big[:have] = self._mv[self._r : self._r + have]
        self.consume(have)
        self._big = big
        self._big_mv = memoryview(big)
        self._big_fill = have

    @property
    def big_filled(self) -> int:
        """Bytes received so far into the dedicated buffer."""
        return self._big_fill

    def big_complete(self) -> bool:
        """True when the dedicated buffer is full."""
        return self._big is not None and self._big_fill == len(self._big)

    def take_big(self) -> bytearray:
        """Hand over the full dedicated buffer and go back to the reused one."""
        big = self._big
        assert big is not None
        self._big = None
        self._big_mv = memoryview(b"")
        self._big_fill = 0
        return big

    def reset(self) -> None:
        """Forget everything buffered (a fault or a new socket) and let go of the
        storage: the unread rest of a faulted peer's input is dropped, not copied
        off the scratch buffer, and the next socket starts small again."""
        self._buf = _NO_STORAGE
        self._mv = memoryview(self._buf)
        self._borrowed = False
        self._r = self._w = 0
        self._big = None
        self._big_mv = memoryview(b"")
        self._big_fill = 0


__all__ = ["RxBuffer"]
