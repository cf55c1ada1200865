"""Every msgr2 frame of the shipped captures: decode, check fields, re-assemble.

Source: ``tests/data/captures/vectors.json`` (copied from the shared reference; Ceph
Pacific 16.2.15 on
127.0.0.1, see ``captures/README.md``), connections ``msgr2_crc_mon_cephx``,
``msgr2_crc_mon_auth_none``, ``msgr2_crc_authorizer_mon_mon`` and
``msgr2_secure_mon_cephx``. Frames are read per direction through a
:class:`FrameReader` fed the whole direction stream at once; both directions switch
to secure mode right after AUTH_DONE (wire-protocol.md §5.6). Each decoded frame is
re-assembled by a separate sending assembler and must be byte-identical.

The AUTH_SIGNATURE checks recompute HMAC-SHA256 over the raw received bytes
(banner + frames), wire-protocol.md §5.5, and the 96-byte secure vector of §5.6.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from asyncmsgr.crypto.onwire import GcmRx, GcmTx, SecureKeys
from asyncmsgr.frames.assembler import FrameAssembler, FrameReader, RawFrame
from asyncmsgr.frames.v2 import (
    CON_MODE_SECURE,
    AuthDoneFrame,
    AuthReplyMoreFrame,
    AuthRequestFrame,
    AuthRequestMoreFrame,
    AuthSignatureFrame,
    ClientIdentFrame,
    Frame,
    HelloFrame,
    MessageFrame,
    ServerIdentFrame,
    Tag,
    decode_banner_payload,
    decode_banner_prefix,
    decode_frame,
    frame_spec,
)
from asyncmsgr.message_types import message_type_name
from asyncmsgr.types import EntityAddr, entity_type_str

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"
VECTORS = CAPTURES / "vectors.json"
CONNECTIONS = ["msgr2_crc_mon_cephx", "msgr2_crc_mon_auth_none",
               "msgr2_crc_authorizer_mon_mon", "msgr2_secure_mon_cephx"]
C2S = "client->server"
S2C = "server->client"
H = bytes.fromhex


@cache
def _load_all() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS.read_text())
    return data


def load(name: str) -> dict[str, Any]:
    conn: dict[str, Any] = _load_all()[name]
    return conn


def as_int(value: int | str) -> int:
    return value if isinstance(value, int) else int(value, 0)


@dataclass
class Decoded:
    """One captured frame with what our stack made of it."""

    vector: dict[str, Any]
    raw: RawFrame
    frame: Frame
    reassembled: bytes


def decode_connection(conn: dict[str, Any]) -> list[Decoded]:
    """Read every frame of a connection in capture order, switching to secure after
    AUTH_DONE, and re-assemble each one with the sender's own assembler."""
    rev1 = bool(conn["rev1"])
    receivers = {C2S: FrameAssembler(rev1=rev1), S2C: FrameAssembler(rev1=rev1)}
    senders = {C2S: FrameAssembler(rev1=rev1), S2C: FrameAssembler(rev1=rev1)}
    readers = {d: FrameReader(asm) for d, asm in receivers.items()}
    for f in conn["frames"]:
        readers[f["dir"]].feed(H(f["wire"]))
    out: list[Decoded] = []
    for f in conn["frames"]:
        direction = f["dir"]
        raw = readers[direction].next_frame()
        assert raw is not None, f["tag_name"]
        assert raw.segments is not None
        frame = decode_frame(raw.tag, raw.segments)
        spec = frame_spec(frame)
        chunks = senders[direction].assemble(spec.tag, spec.segments, spec.alignments)
        out.append(Decoded(f, raw, frame, b"".join(bytes(c) for c in chunks)))
        if isinstance(frame, AuthDoneFrame) and frame.con_mode == CON_MODE_SECURE:
            secret = H(conn["auth"]["connection_secret"])
            client_tx, client_rx = SecureKeys.from_connection_secret(
                secret, crossed=False).handlers(rev1=rev1)
            server_tx, server_rx = SecureKeys.from_connection_secret(
                secret, crossed=True).handlers(rev1=rev1)
            senders[C2S].set_tx(client_tx)
            receivers[S2C].set_rx(client_rx)
            senders[S2C].set_tx(server_tx)
            receivers[C2S].set_rx(server_rx)
    for reader in readers.values():
        assert reader.buffered == 0
    return out


def check_fields(frame: Frame, d: dict[str, Any]) -> None:
    """Compare a decoded frame with the capture's independent decode."""
    if isinstance(frame, HelloFrame):
        assert entity_type_str(frame.entity_type) == d["entity_type"]
        assert str(frame.peer_addr) == d["peer_addr"]
    elif isinstance(frame, AuthRequestFrame):
        assert frame.method == d["method"]
        assert list(frame.preferred_modes) == d["preferred_modes"]
        assert frame.auth_payload.hex() == d["auth_payload"]
    elif isinstance(frame, AuthReplyMoreFrame | AuthRequestMoreFrame):
        assert frame.auth_payload.hex() == d["auth_payload"]
    elif isinstance(frame, AuthDoneFrame):
        assert frame.global_id == d["global_id"]
        assert frame.con_mode == d["con_mode"]
        assert frame.auth_payload.hex() == d["auth_payload"]
    elif isinstance(frame, AuthSignatureFrame):
        assert frame.signature.hex() == d["signature"]
    elif isinstance(frame, ClientIdentFrame | ServerIdentFrame):
        assert list(frame.addrs) == [EntityAddr.parse(a) for a in d["addrs"]]
        for addr, text in zip(frame.addrs, d["addrs"], strict=True):
            # Ceph prints no prefix for TYPE_ANY; the capture decoder writes "any:"
            assert str(addr) == text.removeprefix("any:")
        if isinstance(frame, ClientIdentFrame):
            assert str(frame.target_addr) == d["target_addr"]
        assert frame.gid == as_int(d["gid"])
        assert frame.global_seq == as_int(d["global_seq"])
        assert frame.supported_features == as_int(d["features_supported"])
        assert frame.required_features == as_int(d["features_required"])
        assert frame.flags == as_int(d["flags"])
        assert frame.cookie == as_int(d["cookie"])
    elif isinstance(frame, MessageFrame):
        h2 = d["header2"]
        hdr = frame.header
        got = {name: getattr(hdr, name) for name in h2 if name != "type_name"}
        assert got == {k: v for k, v in h2.items() if k != "type_name"}
        assert message_type_name(hdr.type) == h2["type_name"]
        assert (len(frame.front), len(frame.middle), len(frame.data)) == (
            d["front_len"], d["middle_len"], d["data_len"])
    else:
        pytest.fail(f"unexpected frame {frame!r} in the capture")


@pytest.mark.parametrize("name", CONNECTIONS)
def test_banners(name: str) -> None:
    conn = load(name)
    for key in ("banner_client", "banner_server"):
        banner = H(conn[key])
        assert decode_banner_prefix(banner) == 16
        supported, required = decode_banner_payload(banner[10:])
        assert bool(supported & 1) == conn["rev1"]
        assert required == 0


@pytest.mark.parametrize("name", CONNECTIONS)
def test_every_frame_decodes_and_reassembles(name: str) -> None:
    conn = load(name)
    decoded = decode_connection(conn)
    assert len(decoded) == len(conn["frames"]) > 0
    for item in decoded:
        f, raw = item.vector, item.raw
        wire = H(f["wire"])
        assert len(wire) == f["onwire_len"]
        assert raw.raw == wire
        assert raw.tag == f["tag"] == item.frame.TAG
        assert Tag(raw.tag).name == f["tag_name"]
        assert list(raw.preamble.lengths) == f["seg_lens"]
        plain = H(f["preamble_plain"])
        assert raw.preamble.tag == plain[0]
        assert raw.preamble.num_segments == plain[1]
        assert raw.segments is not None
        assert [bytes(s) for s in raw.segments] == [H(s) for s in f["segments_plain"]]
        check_fields(item.frame, f["decoded"])
        assert item.reassembled == wire, f"{f['dir']} {f['tag_name']} not byte-identical"


def test_secure_connection_really_switched() -> None:
    conn = load("msgr2_secure_mon_cephx")
    decoded = decode_connection(conn)
    done = next(i for i, d in enumerate(decoded) if isinstance(d.frame, AuthDoneFrame))
    for i, item in enumerate(decoded):
        wire = H(item.vector["wire"])
        if i <= done:
            assert wire[:32] == H(item.vector["preamble_plain"])
        else:
            # encrypted: the preamble is not visible and rev1 secure frames start with 96
            assert wire[:32] != H(item.vector["preamble_plain"])
            assert len(wire) >= 96
    assert {d.vector["tag_name"] for d in decoded[done + 1: done + 3]} == {"AUTH_SIGNATURE"}


def test_secure_nonce_sequences() -> None:
    conn = load("msgr2_secure_mon_cephx")
    secret = H(conn["auth"]["connection_secret"])
    assert conn["auth"]["gcm_key"] == secret[:16].hex()
    assert conn["auth"]["nonce_s2c"] == secret[16:28].hex()
    assert conn["auth"]["nonce_c2s"] == secret[28:40].hex()
    for crossed, key in ((False, "gcm_nonces_used_c2s_first"),
                         (True, "gcm_nonces_used_s2c_first")):
        keys = SecureKeys.from_connection_secret(secret, crossed=crossed)
        tx = GcmTx(keys.key, keys.tx_nonce, rev1=True)
        seen = []
        for _ in conn[key]:
            seen.append(tx.next_nonce().hex())
            tx.encrypt(b"")
        assert seen == conn[key]


def _transcripts(conn: dict[str, Any], decoded: list[Decoded]) -> tuple[bytes, bytes]:
    """(what the client received before signing, what the server received before signing)."""
    s2c = H(conn["banner_server"])
    c2s = H(conn["banner_client"])
    s2c_done = c2s_done = False
    for item in decoded:
        if item.vector["dir"] == S2C and not s2c_done:
            # the client signs everything up to and including AUTH_DONE
            s2c += item.raw.raw
            s2c_done = isinstance(item.frame, AuthDoneFrame)
        elif item.vector["dir"] == C2S and not c2s_done:
            # the server signs what it got before its AUTH_SIGNATURE went out, which
            # is everything the client sent before its own AUTH_SIGNATURE
            c2s_done = isinstance(item.frame, AuthSignatureFrame)
            if not c2s_done:
                c2s += item.raw.raw
    assert s2c_done
    assert c2s_done
    return s2c, c2s


def _signatures(decoded: list[Decoded]) -> tuple[bytes, bytes]:
    """(client's AUTH_SIGNATURE, server's AUTH_SIGNATURE)."""
    sigs = {d.vector["dir"]: d.frame.signature for d in decoded
            if isinstance(d.frame, AuthSignatureFrame)}
    return sigs[C2S], sigs[S2C]


@pytest.mark.parametrize("name", ["msgr2_crc_mon_cephx", "msgr2_crc_authorizer_mon_mon",
                                  "msgr2_secure_mon_cephx"])
def test_auth_signature_is_hmac_of_received_bytes(name: str) -> None:
    conn = load(name)
    decoded = decode_connection(conn)
    key = H(conn["auth"]["session_key"])
    assert len(key) == 16
    client_received, server_received = _transcripts(conn, decoded)
    assert len(client_received) == conn["auth"]["client_signed_bytes"]
    assert len(server_received) == conn["auth"]["server_signed_bytes"]
    client_sig, server_sig = _signatures(decoded)
    assert hmac.compare_digest(
        client_sig, hmac.new(key, client_received, hashlib.sha256).digest())
    assert hmac.compare_digest(
        server_sig, hmac.new(key, server_received, hashlib.sha256).digest())
    # one byte of the transcript changed: the signature no longer matches
    tampered = bytearray(client_received)
    tampered[9] ^= 0x01
    assert hmac.new(key, bytes(tampered), hashlib.sha256).digest() != client_sig


def test_auth_signature_published_vector() -> None:
    # wire-protocol.md §5.5: key, byte counts (26+72+49+262, 26+72+74+76) and signatures
    conn = load("msgr2_crc_mon_cephx")
    decoded = decode_connection(conn)
    assert conn["auth"]["session_key"] == "5dfe2c3356ae3544c670fe9f9dfd3c11"
    client_received, server_received = _transcripts(conn, decoded)
    assert len(client_received) == 26 + 72 + 49 + 262 == 409
    assert len(server_received) == 26 + 72 + 74 + 76 == 248
    key = H("5dfe2c3356ae3544c670fe9f9dfd3c11")
    assert hmac.new(key, client_received, hashlib.sha256).hexdigest() == (
        "127767d4a33271f32a4328b40623959ee1e7a5476066b857a550bbf5f2498fcf")
    assert hmac.new(key, server_received, hashlib.sha256).hexdigest() == (
        "ed9bfdbdd7a87f9b8dee7d6c9d6f4a402192b93b36f146d6151e10f3955c5d6c")


def test_auth_none_signatures_are_zero() -> None:
    conn = load("msgr2_crc_mon_auth_none")
    assert conn["auth"]["session_key"] == ""
    client_sig, server_sig = _signatures(decode_connection(conn))
    assert client_sig == server_sig == bytes(32)


def test_secure_auth_signature_96_byte_vector() -> None:
    # wire-protocol.md §5.6
    conn = load("msgr2_secure_mon_cephx")
    secret = H(conn["auth"]["connection_secret"])
    assert secret.hex().startswith(
        "16578de10f5d316340256ac3030709343ebeb413417a5716d0b07637"
        "efb49f783f01b2f2f803bf35f56b94b7")
    frame = next(f for f in conn["frames"]
                 if f["tag_name"] == "AUTH_SIGNATURE" and f["dir"] == S2C)
    wire = H(frame["wire"])
    assert len(wire) == 96
    assert wire[:16] == H("67bb5ccbb8bec290c41dc7ff799bc7a3")
    rx = GcmRx(secret[:16], H("3ebeb413417a5716d0b07637"), rev1=True)
    plain = bytes(rx.decrypt(wire))
    assert plain[:32] == H("07012000000008000000000000000000000000000000000000000000a80c9872")
    assert plain[64:] == bytes(16)
    signature = plain[32:64]
    # it is the server's HMAC over the 248 bytes it received before signing
    decoded = decode_connection(conn)
    _, server_received = _transcripts(conn, decoded)
    key = H(conn["auth"]["session_key"])
    assert signature == hmac.new(key, server_received, hashlib.sha256).digest()
    assert signature == _signatures(decoded)[1]
