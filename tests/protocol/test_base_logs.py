"""The log lines ProtocolBase writes for faults and for odd sequence numbers
(what an operator reads in the ``ms`` log): their exact text and level."""

from __future__ import annotations

import logging

import pytest

from asyncmsgr.errors import EncodeError
from asyncmsgr.message import RawMessage
from asyncmsgr.messages import MPing
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.testing.v2pair import CLIENT_SOCKET_ADDR, ProtocolPair

LOGGER = "asyncmsgr.ms.protocol"


def lines(caplog: pytest.LogCaptureFixture, side: ProtocolBase) -> list[tuple[int, str]]:
    """(level, message) of the records about ``side``, formatted now."""
    prefix = repr(side)
    return [(r.levelno, r.getMessage()) for r in caplog.records
            if r.name == LOGGER and r.getMessage().startswith(prefix)]


def wire_of(side: ProtocolBase, now: float) -> bytes:
    return b"".join(bytes(c) for c in side.data_to_send(now))


def test_fault_is_logged_with_its_reason(caplog: pytest.LogCaptureFixture) -> None:
    p = ProtocolPair()
    p.handshake()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        p.client.fault(p.now, "test: why")
    c = p.client
    assert (logging.DEBUG, f"{c!r}: fault (test: why)") in lines(caplog, c)


def test_protocol_error_while_reading_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    p = ProtocolPair()
    s = p.server
    s.start_accept(p.now, CLIENT_SOCKET_ADDR)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        s.receive_data(b"GET / HTTP/1.1\r\n", p.now)
    assert (logging.INFO, f"{s!r}: fault: BannerMismatch: bad banner b'GET / HTTP': "
            "not a Ceph msgr2 peer") in lines(caplog, s)


def test_error_while_writing_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    class Unencodable(RawMessage):
        def encode_payload(self, features: int) -> None:
            raise EncodeError("field out of range")

    p = ProtocolPair()
    p.handshake()
    c = p.client
    c.send_message(Unencodable(raw_type=0x7777, priority=127), p.now)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        c.data_to_send(p.now)
    assert (logging.INFO, f"{c!r}: fault: EncodeError: field out of range") in lines(
        caplog, c)


def test_old_and_skipped_messages_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    p = ProtocolPair()
    p.handshake()
    c, s = p.client, p.server
    c.send_message(MPing(priority=127), p.now)
    first = wire_of(c, p.now)
    c.send_message(MPing(priority=127), p.now)
    c.data_to_send(p.now)  # seq 2: lost
    c.send_message(MPing(priority=127), p.now)
    third = wire_of(c, p.now)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        s.receive_data(first, p.now)
        s.receive_data(first, p.now)
        s.receive_data(third, p.now)
    got = lines(caplog, s)
    assert (logging.WARNING, f"{s!r}: got old message 1 <= 1, discarding") in got
    assert (logging.INFO, f"{s!r}: missed message? skipped from seq 1 to 3") in got
