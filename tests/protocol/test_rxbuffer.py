"""RxBuffer: small when idle, grows for streams and big frames, never loses bytes."""

from __future__ import annotations

from asyncmsgr.protocol.rxbuffer import RxBuffer


def test_starts_small_and_grows_when_reads_fill_it() -> None:
    rx = RxBuffer(262144)
    assert rx.capacity == 0  # nothing until the first read
    rx.get_buffer()
    assert rx.capacity == RxBuffer.INITIAL
    data = bytes(range(256)) * 400  # 102,400 bytes, more than the initial size
    got = bytearray()
    fed = 0
    while fed < len(data):
        view = rx.get_buffer()
        n = min(len(view), len(data) - fed)
        view[:n] = data[fed : fed + n]
        rx.buffer_updated(n)
        fed += n
    assert rx.capacity > RxBuffer.INITIAL
    assert rx.capacity <= 262144
    got += rx.peek(rx.available)
    assert bytes(got) == data


def test_ensure_room_grows_for_a_frame_and_keeps_pending_bytes() -> None:
    rx = RxBuffer(262144)
    rx.feed(b"abc")
    rx.consume(1)
    rx.ensure_room(70000)
    assert rx.capacity >= 70000
    assert bytes(rx.peek(2)) == b"bc"


def test_capacity_never_exceeds_max_unless_a_frame_needs_it() -> None:
    rx = RxBuffer(20000)
    rx.feed(bytes(50000))
    assert rx.capacity >= 50000  # feed had to hold everything
    rx2 = RxBuffer(20000)
    for _ in range(10):
        view = rx2.get_buffer()
        rx2.buffer_updated(len(view))
        rx2.consume(rx2.available)
    assert rx2.capacity <= 20000


def test_scratch_buffer_holds_reads_and_detach_keeps_only_a_partial_frame() -> None:
    scratch = bytearray(4096)
    rx = RxBuffer(4096)
    view = rx.get_buffer(scratch)
    assert rx.borrowing
    assert len(view) == 4096
    view[:10] = b"0123456789"
    rx.buffer_updated(10)
    assert bytes(rx.peek(4)) == b"0123"
    rx.consume(4)
    rx.detach()  # 6 bytes of an incomplete frame move off the scratch buffer
    assert not rx.borrowing
    assert rx.capacity == 6
    scratch[:] = bytes(4096)  # another connection reads into it
    assert bytes(rx.peek(6)) == b"456789"
    view = rx.get_buffer(scratch)  # the partial frame goes back to the scratch
    assert rx.borrowing
    assert len(view) == 4090
    view[:2] = b"ab"
    rx.buffer_updated(2)
    assert bytes(rx.peek(8)) == b"456789ab"
    rx.consume(8)
    rx.detach()
    assert rx.capacity == 0
    assert rx.available == 0


def test_scratch_buffer_full_of_one_frame_moves_to_an_own_buffer() -> None:
    scratch = bytearray(64)
    rx = RxBuffer(64)
    view = rx.get_buffer(scratch)
    view[:] = bytes(range(64))
    rx.buffer_updated(64)
    rx.ensure_room(100)  # a frame larger than the scratch buffer
    assert not rx.borrowing
    assert rx.capacity >= 100
    assert bytes(rx.peek(64)) == bytes(range(64))
    rx.detach()  # no-op: not borrowing
    assert bytes(rx.peek(64)) == bytes(range(64))


def test_held_counts_own_and_large_body_storage_not_the_scratch() -> None:
    rx = RxBuffer(262144)
    scratch = bytearray(262144)
    view = rx.get_buffer(scratch)
    view[:100] = bytes(100)
    rx.buffer_updated(100)
    assert rx.held == 0  # all of it in the shared scratch buffer
    rx.detach()
    assert rx.held == 100  # the partial item, in a buffer of its size
    rx.start_big(70000)  # the 100 bytes move into it; the small buffer stays
    assert rx.held == 100 + 70000


def test_reset_drops_unread_input_without_copying_it_off_the_scratch() -> None:
    """A peer faulted with 200 KiB of its input unread (a refused preamble) must not
    leave the machine holding a copy of it (issue 14's 4-segment flood)."""
    rx = RxBuffer(262144)
    scratch = bytearray(262144)
    view = rx.get_buffer(scratch)
    view[:200000] = bytes(200000)
    rx.buffer_updated(200000)
    rx.consume(32)
    rx.reset()
    assert rx.held == 0
    assert rx.available == 0
    rx.detach()  # what buffer_updated's caller does next: nothing left to keep
    assert rx.held == 0
    view = rx.get_buffer()  # a new socket starts small
    assert len(view) == RxBuffer.INITIAL
