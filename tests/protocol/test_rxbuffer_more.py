"""RxBuffer details: ``ensure_room`` moves bytes only when the room after the read
position is short and never leaves a scratch buffer that is big enough,
``detach`` hands the scratch buffer back, ``take_big`` resets the large-body
state, and ``get_buffer`` of a machine goes to its ``rx_scratch``."""

from __future__ import annotations

from asyncmsgr.protocol.rxbuffer import RxBuffer
from asyncmsgr.testing.v2pair import ProtocolPair


def _filled(size: int, initial: int, n: int, consumed: int) -> RxBuffer:
    rx = RxBuffer(size, initial=initial)
    rx.feed(bytes(range(n)))
    rx.consume(consumed)
    return rx


def test_ensure_room_compacts_when_the_room_after_the_read_position_is_short() -> None:
    rx = _filled(64, 64, 40, 30)  # 64-byte buffer, read position 30, 10 bytes pending
    rx.ensure_room(40)  # 34 after the read position < 40 <= 64 + 30
    view, start, end = rx.window()
    assert (start, end) == (0, 10)
    assert len(view) - start >= 40
    assert bytes(rx.peek(10)) == bytes(range(30, 40))
    assert rx.capacity == 64


def test_ensure_room_keeps_the_read_position_when_the_room_is_exactly_enough() -> None:
    rx = _filled(64, 64, 40, 30)
    rx.ensure_room(34)  # exactly the room after the read position: no memmove
    assert rx.window()[1:] == (30, 40)


def test_ensure_room_stays_on_a_scratch_buffer_of_exactly_the_size_needed() -> None:
    rx = RxBuffer(64, initial=16)
    scratch = bytearray(64)
    view = rx.get_buffer(scratch)
    view[:10] = bytes(range(10))
    rx.buffer_updated(10)
    rx.consume(5)
    rx.ensure_room(64)
    assert rx.borrowing
    assert rx.window()[0].obj is scratch
    assert bytes(rx.peek(5)) == bytes(range(5, 10))


def test_detach_keeps_pending_bytes_or_nothing_and_stops_borrowing() -> None:
    for pending in (0, 3):
        rx = RxBuffer(64, initial=16)
        scratch = bytearray(64)
        view = rx.get_buffer(scratch)
        view[:8] = b"abcdefgh"
        rx.buffer_updated(8)
        rx.consume(8 - pending)
        rx.detach()
        assert rx.borrowing is False
        assert rx.capacity == pending
        assert rx.held == pending
        assert bytes(rx.peek(pending)) == b"fgh"[3 - pending :]
        scratch[:] = bytes(64)  # the scratch buffer is free for another connection
        assert bytes(rx.peek(pending)) == b"fgh"[3 - pending :]


def test_take_big_resets_the_large_body_state() -> None:
    rx = RxBuffer(64, initial=16)
    rx.feed(b"12345")
    rx.start_big(8)
    assert rx.big_filled == 5
    rx.feed(b"678")
    assert rx.big_complete()
    assert bytes(rx.take_big()) == b"12345678"
    assert rx.big_filled == 0
    assert not rx.receiving_big
    assert not rx.big_complete()
    rx.feed(b"9")
    assert bytes(rx.peek(1)) == b"9"


def test_machine_receives_into_its_scratch_buffer() -> None:
    p = ProtocolPair()
    s = p.server
    scratch = bytearray(s.options.rx_buffer_size)
    s.rx_scratch = scratch
    assert s.get_buffer().obj is scratch
