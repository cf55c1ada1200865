"""Known answer: a msgr v1 message with front, middle and data, signed with CEPHX_V2
(the captures have signed messages, none with a middle, so the middle crc and
length slots of the signature block were never told apart).

Provenance: computed with ``tests/kat_reference.py`` (bitwise CRC-32C; the
32-byte block of Ceph's ``CephxSessionHandler::_calc_signature``, AES-128-CBC
with the cephx IV via the ``cryptography`` package directly), not with
asyncmsgr. Session key: the one of wire-protocol.md §4.4's capture vector.
Message: seq 7, tid 0, type 0x7ff0 (unregistered), priority 127, version 1,
compat 1, src client.4100, front "front-bytes", middle "MIDDLE", data
"data-payload".
"""

from __future__ import annotations

import pytest

from asyncmsgr.auth.cephx.sign import message_signature, signature_of
from asyncmsgr.message import MSG_HEADER_LEN, MsgFooter, MsgHeader, RawMessage
from asyncmsgr.protocol import events as ev
from asyncmsgr.testing.v2pair import ProtocolPair
from asyncmsgr.types import EntityName, EntityType
from kat_reference import msgr1_signed_message

KEY = bytes.fromhex("8d8c477e00b01ae5fea8733e69223116")
FRONT, MIDDLE, DATA = b"front-bytes", b"MIDDLE", b"data-payload"
HEADER_CRC, FRONT_CRC, MIDDLE_CRC, DATA_CRC = 0xD0DD9438, 0x790699E9, 0x28DC361E, 0xE6B11743
SIG = 0xE559340FEA95A172
#: the same block with the middle crc and length swapped
SWAPPED_SIG = 0xEEEEBED6CED9A786
WIRE = bytes.fromhex(
    "07"
    "0700000000000000" "0000000000000000" "f07f" "7f00" "0100"       # seq tid type prio ver
    "0b000000" "06000000" "0c000000" "0000"                          # lengths, data_off
    "08" "0410000000000000" "0100" "0000" "3894ddd0"                 # src, compat, crc
    "66726f6e742d6279746573" "4d4944444c45" "646174612d7061796c6f6164"
    "e9990679" "1e36dc28" "4317b1e6" "72a195ea0f3459e5" "05")        # footer, SIGNED


def _kw() -> dict[str, object]:
    return {"seq": 7, "tid": 0, "type_": 0x7FF0, "priority": 127, "version": 1,
            "compat_version": 1, "src_type": EntityType.CLIENT, "src_num": 4100,
            "front": FRONT, "middle": MIDDLE, "data": DATA}


def test_vector_follows_the_layout() -> None:
    assert msgr1_signed_message(KEY, **_kw()) == WIRE  # type: ignore[arg-type]


def test_signature_block_order() -> None:
    assert signature_of(KEY, HEADER_CRC, FRONT_CRC, len(FRONT), MIDDLE_CRC, len(MIDDLE),
                        DATA_CRC, len(DATA), 7) == SIG
    assert SIG != SWAPPED_SIG


def test_message_signature_reads_the_footer_and_header() -> None:
    header = MsgHeader.decode(WIRE[1:1 + MSG_HEADER_LEN])
    footer = MsgFooter.decode(WIRE[-21:])
    assert (header.crc, footer.front_crc, footer.middle_crc, footer.data_crc) == \
        (HEADER_CRC, FRONT_CRC, MIDDLE_CRC, DATA_CRC)
    assert (header.middle_len, footer.sig) == (len(MIDDLE), SIG)
    assert message_signature(KEY, header, footer) == SIG


def _signed_pair() -> ProtocolPair:
    p = ProtocolPair(protocol=1)
    p.handshake()
    for side in (p.client, p.server):
        side.sign_key = KEY  # type: ignore[attr-defined]
    return p


def test_sender_writes_the_vector() -> None:
    p = _signed_pair()
    p.client.session.out_seq = 6
    p.client.send_message(RawMessage(
        raw_type=0x7FF0, priority=127, version=1, compat_version=1,
        src=EntityName(EntityType.CLIENT, 4100), front=FRONT, middle=MIDDLE, data=DATA),
        p.now)
    assert b"".join(bytes(c) for c in p.client.data_to_send(p.now)) == WIRE


def test_receiver_takes_the_vector() -> None:
    p = _signed_pair()
    p.server.session.in_seq = 6
    p.server.receive_data(WIRE, p.now)
    evs = p.server.events_received()
    got = [e.message for e in evs if isinstance(e, ev.MessageReceived)]
    assert len(got) == 1
    m = got[0]
    assert (bytes(m.front), bytes(m.middle), bytes(m.data), m.seq) == (FRONT, MIDDLE, DATA, 7)


@pytest.mark.parametrize("sig", [SWAPPED_SIG, SIG ^ 1])
def test_receiver_refuses_another_signature(sig: int) -> None:
    p = _signed_pair()
    p.server.session.in_seq = 6
    wire = WIRE[:-9] + sig.to_bytes(8, "little") + WIRE[-1:]
    p.server.receive_data(wire, p.now)
    evs = p.server.events_received()
    assert not [e for e in evs if isinstance(e, ev.MessageReceived)]
    reasons = [e.reason for e in evs if isinstance(e, ev.CloseSocket)]
    assert reasons
    assert reasons[0].startswith("BadSignature")
