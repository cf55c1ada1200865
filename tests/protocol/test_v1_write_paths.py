"""ProtocolV1's send side and the per-peer footer rules: the exact footer bytes
(crcs, flags, signature) for each ``ms_crc_*`` setting, old-footer peers
(without CEPH_FEATURE_MSG_AUTH: ``ceph_msg_footer_old``), the counted bytes,
when messages are signed (cephx session key, ``sign_messages``, MSG_AUTH and
CEPHX_V2) and what a bad signature says, and where a reset session's out_seq
starts (``randomize_out_seq``)."""

from __future__ import annotations

import random

import pytest
from test_v1_core import cephx_v1_pair
from v1pair_helpers import (
    FOOTER,
    OLD_FOOTER,
    RecCounters,
    ceph_crc,
    closes,
    header_of,
    messages,
    out_bytes,
    raw,
    v1_pair,
)

from asyncmsgr.auth.cephx.sign import signature_of
from asyncmsgr.features import CEPH_FEATURE_CEPHX_V2, CEPH_FEATURE_MSG_AUTH, CEPH_FEATURES_ALL
from asyncmsgr.message import (
    MSG_FOOTER_LEN,
    MSG_HEADER_CRC_OFFSET,
    MSG_HEADER_LEN,
    MSG_OLD_FOOTER_LEN,
    FooterFlags,
)
from asyncmsgr.policy import Policy
from asyncmsgr.protocol.common import ProtocolOptions
from asyncmsgr.testing.v2pair import ProtocolPair

pytestmark = pytest.mark.timeout(30)
HEAD = 1 + MSG_HEADER_LEN
COMPLETE = int(FooterFlags.COMPLETE)
NOCRC = int(FooterFlags.NOCRC)
SIGNED = int(FooterFlags.SIGNED)
F, M, D = b"front-bytes", b"middle", b"the data part"


def _item(p: ProtocolPair, **kw: bytes) -> bytes:
    p.client.send_message(raw(kw.get("f", F), kw.get("m", M), kw.get("d", D)), p.now)
    return out_bytes(p.client, p.now)


def _old_peer_pair(**kw: object) -> ProtocolPair:
    """A client whose features lack MSG_AUTH: both ends use the old footer."""
    p = v1_pair(client_policy=Policy.lossless_client().replace(
        features_supported=CEPH_FEATURES_ALL & ~CEPH_FEATURE_MSG_AUTH), **kw)
    p.handshake()
    assert not p.client.features & CEPH_FEATURE_MSG_AUTH
    assert not p.server.features & CEPH_FEATURE_MSG_AUTH
    return p


# -- footers -------------------------------------------------------------------------------


def test_unsigned_footer_has_every_crc_and_a_zero_signature() -> None:
    p = v1_pair()
    p.handshake()
    item = _item(p)
    assert len(item) == HEAD + len(F) + len(M) + len(D) + MSG_FOOTER_LEN
    assert header_of(item).crc == ceph_crc(item[1:1 + MSG_HEADER_CRC_OFFSET])
    assert item[-MSG_FOOTER_LEN:] == FOOTER.pack(ceph_crc(F), ceph_crc(M), ceph_crc(D), 0,
                                                 COMPLETE)


@pytest.mark.parametrize(("crc_header", "crc_data"), [(False, True), (False, False),
                                                      (True, False)])
def test_crc_options_decide_what_the_sender_computes(crc_header: bool, crc_data: bool) -> None:
    """``ms_crc_header`` off: header, front and middle crcs are 0; ``ms_crc_data``
    off: the data crc is 0 and the footer says NOCRC. A peer with the same
    settings takes the message."""
    opts = ProtocolOptions(crc_header=crc_header, crc_data=crc_data)
    p = v1_pair(options=opts)
    p.handshake()
    item = _item(p)
    h = header_of(item)
    assert h.crc == (ceph_crc(item[1:1 + MSG_HEADER_CRC_OFFSET]) if crc_header else 0)
    hc = (ceph_crc(F), ceph_crc(M)) if crc_header else (0, 0)
    flags = COMPLETE if crc_data else COMPLETE | NOCRC
    assert item[-MSG_FOOTER_LEN:] == FOOTER.pack(*hc, ceph_crc(D) if crc_data else 0, 0,
                                                 flags)
    p.server.receive_data(item, p.now)
    [m] = messages(p.server.events_received())
    assert (bytes(m.front), bytes(m.middle), bytes(m.data)) == (F, M, D)


def test_sent_bytes_are_counted_per_batch() -> None:
    p = v1_pair()
    p.handshake()
    rec = RecCounters()
    p.client.counters = rec
    p.client.send_message(raw(b"a" * 3, b"b" * 5, b"c" * 7), p.now)
    p.client.send_message(raw(b"x" * 11), p.now)
    wire = out_bytes(p.client, p.now)
    assert rec.n["msgr_send_messages"] == 2
    assert rec.n["msgr_send_bytes"] == len(wire) == 2 * (HEAD + MSG_FOOTER_LEN) + 15 + 11


# -- old-footer peers ----------------------------------------------------------------------


@pytest.mark.parametrize("crc_data", [True, False])
def test_old_footer_peer_gets_and_sends_ceph_msg_footer_old(crc_data: bool) -> None:
    p = _old_peer_pair(options=ProtocolOptions(crc_data=crc_data))
    tx, rx = RecCounters(), RecCounters()
    p.client.counters, p.server.counters = tx, rx
    item = _item(p)
    assert len(item) == HEAD + len(F) + len(M) + len(D) + MSG_OLD_FOOTER_LEN
    flags = COMPLETE if crc_data else COMPLETE | NOCRC
    assert item[-MSG_OLD_FOOTER_LEN:] == OLD_FOOTER.pack(
        ceph_crc(F), ceph_crc(M), ceph_crc(D) if crc_data else 0, flags)
    p.server.receive_data(item + _item(p, f=b"2"), p.now)
    got = messages(p.server.events_received())
    assert [(bytes(m.front), bytes(m.middle), bytes(m.data)) for m in got] == [
        (F, M, D), (b"2", M, D)]
    assert tx.n["msgr_send_bytes"] == rx.n["msgr_recv_bytes"] == 2 * len(item) - len(F) + 1


@pytest.mark.parametrize(("where", "error"), [
    (-MSG_OLD_FOOTER_LEN - 1, "BadMessageCrc: bad data crc"),
    (-MSG_OLD_FOOTER_LEN + 8, "BadMessageCrc: bad data crc"),
    (-1, "MessageAborted: message seq 1 aborted by its sender")])
def test_old_footer_is_checked(where: int, error: str) -> None:
    """The last data byte, the old footer's data crc, its flags (COMPLETE)."""
    p = _old_peer_pair()
    item = bytearray(_item(p))
    item[where] ^= COMPLETE if where == -1 else 0x10
    p.server.receive_data(bytes(item), p.now)
    evs = p.server.events_received()
    assert messages(evs) == []
    assert closes(evs)[0].startswith(error)


# -- signatures ----------------------------------------------------------------------------


def test_bad_signature_says_which_message_and_both_signatures() -> None:
    p, _ = cephx_v1_pair()
    p.handshake()
    key = p.server.sign_key  # type: ignore[attr-defined]
    assert key
    item = bytearray(_item(p))
    fc, mc, dc, sig, flags = FOOTER.unpack_from(item, len(item) - MSG_FOOTER_LEN)
    assert flags == COMPLETE | SIGNED
    h = header_of(bytes(item))
    expected = signature_of(key, h.crc, fc, len(F), mc, len(M), dc, len(D), h.seq)
    assert sig == expected
    FOOTER.pack_into(item, len(item) - MSG_FOOTER_LEN, fc, mc, dc, sig ^ 0x100, flags)
    p.server.receive_data(bytes(item), p.now)
    assert closes(p.server.events_received()) == [
        f"BadSignature: message seq 1 (signed): signature {sig ^ 0x100:#018x} != "
        f"{expected:#018x}"]


def test_unsigned_message_to_a_signing_peer_says_not_signed() -> None:
    p, _ = cephx_v1_pair()
    p.handshake()
    item = bytearray(_item(p))
    end = len(item) - MSG_FOOTER_LEN
    fc, mc, dc, sig, _flags = FOOTER.unpack_from(item, end)
    FOOTER.pack_into(item, end, fc, mc, dc, 0, COMPLETE)
    p.server.receive_data(bytes(item), p.now)
    assert closes(p.server.events_received()) == [
        f"BadSignature: message seq 1 (not signed): signature {0:#018x} != {sig:#018x}"]


def _cephx_open(*, sign: bool = True, drop: int = 0) -> ProtocolPair:
    p, _ = cephx_v1_pair()
    if not sign:
        p.client.options = p.server.options = ProtocolOptions(sign_messages=False)
    if drop:
        p.client.policy = Policy.lossless_client().replace(
            features_supported=CEPH_FEATURES_ALL & ~drop)
    p.handshake()
    assert p.client.auth_meta.session_key
    assert p.server.auth_meta.session_key
    return p


@pytest.mark.parametrize(("sign", "drop"), [
    (False, 0),  # ms sign_messages off at both ends
    (True, CEPH_FEATURE_CEPHX_V2),  # a peer without CEPHX_V2
    (True, CEPH_FEATURE_MSG_AUTH)])  # a peer without MSG_AUTH (old footer)
def test_no_signatures_without_the_option_and_both_features(sign: bool, drop: int) -> None:
    """A cephx session key alone does not sign: ``sign_messages``, MSG_AUTH and
    CEPHX_V2 are all needed; unsigned messages flow both ways.

    Without MSG_AUTH or with cephx_sign_messages off this is Ceph's rule
    (CephxSessionHandler::check_message_signature returns 0 unchecked). Without
    CEPHX_V2 Ceph would sign with its legacy pre-Mimic block instead; we do not
    implement that one (Pacific refuses such peers: cephx_require_version and
    cephx_service_require_version default to 2)."""
    p = _cephx_open(sign=sign, drop=drop)
    assert p.client.sign_key == p.server.sign_key == b""  # type: ignore[attr-defined]
    item = _item(p)
    if drop == CEPH_FEATURE_MSG_AUTH:
        assert item[-MSG_OLD_FOOTER_LEN:] == OLD_FOOTER.pack(ceph_crc(F), ceph_crc(M),
                                                             ceph_crc(D), COMPLETE)
    else:
        assert item[-MSG_FOOTER_LEN:] == FOOTER.pack(ceph_crc(F), ceph_crc(M), ceph_crc(D),
                                                     0, COMPLETE)
    p.server.receive_data(item, p.now)
    assert [bytes(m.data) for m in messages(p.server.events_received())] == [D]
    p.server.send_message(raw(b"back"), p.now)
    p.client.receive_data(out_bytes(p.server, p.now), p.now)
    assert [bytes(m.front) for m in messages(p.client.events_received())] == [b"back"]


# -- randomize_out_seq ---------------------------------------------------------------------


class _Edge(random.Random):
    """randrange at one end of its range (``high``: the last value)."""

    def __init__(self, high: bool) -> None:
        super().__init__(0)
        self.high = high

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        return stop - 1 if self.high else start


@pytest.mark.parametrize(("features", "high", "out_seq"), [
    (CEPH_FEATURE_MSG_AUTH, True, 0x7FFFFFFF), (CEPH_FEATURE_MSG_AUTH, False, 0),
    (CEPH_FEATURES_ALL & ~CEPH_FEATURE_MSG_AUTH, True, 0), (0, True, 0)])
def test_reset_session_starts_out_seq_within_seq_mask(features: int, high: bool,
                                                      out_seq: int) -> None:
    """ProtocolV1::randomize_out_seq: with MSG_AUTH a random point in
    [0, SEQ_MASK] (0x7fffffff), else 0."""
    p = v1_pair()
    p.client.rng = _Edge(high)
    p.client.features = features
    p.client.session.out_seq = 12345
    p.client.reset_session()
    assert p.client.session.out_seq == out_seq
