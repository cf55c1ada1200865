"""RxBuffer: small when idle, grows for streams and big frames, never loses bytes."""

from __future__ import annotations

from asyncmsgr.protocol.rxbuffer import RxBuffer


def test_starts_small_and_grows_when_reads_fill_it() -> None:
    rx = RxBuffer(262144)
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
