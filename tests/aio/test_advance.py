"""``_advance``: after ``sendmsg`` wrote ``sent`` bytes, the rest is still queued, in order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from asyncmsgr.aio.connection import _IOV_MAX, _advance
from asyncmsgr.types import Buffer


@given(st.lists(st.binary(max_size=40), min_size=1, max_size=30), st.data())
def test_advance_keeps_exactly_the_unwritten_bytes(chunks: list[bytes],
                                                   data: st.DataObject) -> None:
    pending: list[Buffer] = list(chunks)
    whole = b"".join(chunks)
    sent = data.draw(st.integers(0, len(whole)))
    _advance(pending, sent)
    assert b"".join(bytes(c) for c in pending) == whole[sent:]
    assert not pending or len(pending[0]) > 0 or sent == 0


def test_advance_past_the_iov_batch() -> None:
    pending: list[Buffer] = [b"ab"] * (_IOV_MAX + 10)
    _advance(pending, 2 * _IOV_MAX - 1)  # sendmsg saw the first _IOV_MAX chunks
    assert [bytes(c) for c in pending[:2]] == [b"b", b"ab"]
    assert len(pending) == 11
