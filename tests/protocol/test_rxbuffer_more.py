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


def _fill(rx: RxBuffer, n: int) -> None:
    view = rx.get_buffer()
    assert len(view) >= n
    view[:n] = bytes(n)
    rx.buffer_updated(n)


def test_growth_doubles_from_the_initial_size_up_to_the_max() -> None:
    rx = RxBuffer(128, initial=16)
    assert (rx.capacity, rx.max_capacity) == (0, 128)
    sizes = []
    for _ in range(4):
        view = rx.get_buffer()
        sizes.append(rx.capacity)
        rx.buffer_updated(len(view))  # reads fill it: the next read is bigger
    assert sizes == [16, 32, 64, 128]
    assert rx.capacity == 128  # full at the max: not grown by buffer_updated
    assert rx.available == 128
    # full of unconsumed bytes at the max: only feed() gets here, so it doubles
    assert len(rx.get_buffer()) == 128
    assert rx.capacity == 256


def test_initial_size_is_capped_by_the_max() -> None:
    rx = RxBuffer(100, initial=4096)
    assert len(rx.get_buffer()) == 100


def test_a_full_buffer_with_consumed_bytes_is_compacted_not_grown() -> None:
    rx = RxBuffer(64, initial=64)
    _fill(rx, 64)
    rx.consume(24)
    view = rx.get_buffer()
    assert rx.capacity == 64
    assert len(view) == 24
    assert rx.window()[1:] == (0, 40)


def test_consume_everything_rewinds_to_the_start() -> None:
    rx = RxBuffer(64, initial=64)
    _fill(rx, 10)
    rx.consume(4)
    assert rx.window()[1:] == (4, 10)
    rx.consume(6)
    assert rx.window()[1:] == (0, 0)
    assert len(rx.get_buffer()) == 64


def test_feed_stops_at_a_full_large_body_buffer() -> None:
    rx = RxBuffer(64, initial=16)
    rx.start_big(4)
    assert rx.held == 4
    assert rx.feed(b"abcdefgh") == 4
    assert rx.big_complete()
    assert bytes(rx.take_big()) == b"abcd"
    assert rx.feed(b"efgh") == 4
    assert bytes(rx.peek(4)) == b"efgh"


def test_start_big_moves_only_its_own_bytes() -> None:
    rx = RxBuffer(64, initial=16)
    rx.feed(b"0123456789")
    rx.start_big(6)
    assert rx.big_filled == 6
    assert rx.big_complete()
    assert rx.available == 4
    assert bytes(rx.take_big()) == b"012345"
    assert bytes(rx.peek(4)) == b"6789"


def test_pending_bytes_that_fill_the_scratch_buffer_stay_in_the_own_buffer() -> None:
    rx = RxBuffer(64, initial=16)
    rx.feed(bytes(range(16)))  # 16 pending bytes in an own 16..32-byte buffer
    own = rx.window()[0].obj
    scratch = bytearray(16)
    rx.get_buffer(scratch)
    assert not rx.borrowing
    assert rx.window()[0].obj is own
    rx2 = RxBuffer(64, initial=16)
    rx2.feed(bytes(range(15)))
    view = rx2.get_buffer(scratch)
    assert rx2.borrowing
    assert len(view) == 1
    assert bytes(rx2.peek(15)) == bytes(range(15))


def test_fresh_and_reset_buffers_hold_nothing() -> None:
    rx = RxBuffer(64, initial=16)
    for _ in range(2):
        assert (rx.capacity, rx.held, rx.available, rx.big_filled) == (0, 0, 0, 0)
        assert rx.borrowing is False
        assert rx.receiving_big is False
        assert not rx.big_complete()
        assert rx.window()[1:] == (0, 0)
        # dirty it every way, then reset
        rx.feed(b"abc")
        rx.get_buffer(bytearray(64))
        rx.start_big(10)
        rx.feed(b"de")
        rx.reset()
    assert len(rx.get_buffer()) == 16


def test_large_body_receives_into_its_own_view() -> None:
    rx = RxBuffer(64, initial=16)
    rx.feed(b"ab")
    rx.start_big(10)
    view = rx.get_buffer(bytearray(64))  # the large body first, scratch or not
    assert len(view) == 8
    view[:3] = b"cde"
    rx.buffer_updated(3)
    assert rx.big_filled == 5
    assert rx.available == 0
    assert len(rx.get_buffer()) == 5
    assert rx.capacity == 16  # the reused buffer did not grow meanwhile
    rx.feed(b"fghij")
    assert bytes(rx.take_big()) == b"abcdefghij"


def test_leaving_a_scratch_buffer_for_a_bigger_item_allocates_exactly_enough() -> None:
    rx = RxBuffer(64, initial=16)
    scratch = bytearray(64)
    view = rx.get_buffer(scratch)
    view[:64] = bytes(range(64))
    rx.buffer_updated(64)  # the scratch buffer is full: not grown, it is not ours
    assert rx.borrowing
    assert rx.capacity == 64
    rx.consume(4)
    rx.ensure_room(100)  # 16 doubled to 128, capped at the max 64, but 100 needed
    assert rx.borrowing is False
    assert rx.capacity == 100
    assert bytes(rx.peek(60)) == bytes(range(4, 64))
    assert rx.window()[1:] == (0, 60)


def _own_exact(size: int, initial: int, pending: int) -> RxBuffer:
    """A buffer whose own storage is exactly ``pending`` bytes, all unconsumed
    (what ``detach`` leaves of an incomplete frame)."""
    rx = RxBuffer(size, initial=initial)
    view = rx.get_buffer(bytearray(size))
    view[:pending] = bytes(range(pending))
    rx.buffer_updated(pending)
    rx.detach()
    assert rx.capacity == pending
    return rx


def test_a_full_exact_buffer_doubles_from_its_own_size() -> None:
    rx = _own_exact(1000, 16, 40)
    assert len(rx.get_buffer()) == 40  # 40 doubled to 80, not 16 doubled to 128
    assert rx.capacity == 80
    assert bytes(rx.peek(40)) == bytes(range(40))


def test_a_full_exact_buffer_grows_only_to_the_max() -> None:
    rx = _own_exact(150, 16, 100)
    rx.get_buffer()
    assert rx.capacity == 150
    assert bytes(rx.peek(100)) == bytes(range(100))


def test_leaving_an_odd_sized_scratch_buffer_doubles_from_the_initial_size() -> None:
    rx = RxBuffer(1000, initial=16)
    scratch = bytearray(48)
    view = rx.get_buffer(scratch)
    view[:48] = bytes(range(48))
    rx.buffer_updated(48)
    rx.ensure_room(100)
    assert rx.borrowing is False
    assert rx.capacity == 128  # 16 doubled past 100, whatever the scratch's size
    assert bytes(rx.peek(48)) == bytes(range(48))


def test_borrowing_moves_only_the_unconsumed_bytes() -> None:
    rx = RxBuffer(64, initial=16)
    rx.feed(bytes(range(10)))
    rx.consume(4)
    scratch = bytearray(64)
    view = rx.get_buffer(scratch)
    assert rx.borrowing is True
    assert len(scratch) == 64
    assert len(view) == 58
    assert rx.window()[1:] == (0, 6)
    assert bytes(rx.peek(6)) == bytes(range(4, 10))


def test_a_small_buffer_left_by_detach_is_reused_until_reads_fill_it() -> None:
    rx = _own_exact(1000, 16, 6)
    rx.consume(6)
    view = rx.get_buffer()
    assert len(view) == 6  # no new allocation for an emptied buffer
    assert rx.capacity == 6
    view[:6] = b"abcdef"
    rx.buffer_updated(6)  # filled: it grows (to at least the initial size)
    assert rx.capacity == 16
    assert bytes(rx.peek(6)) == b"abcdef"
