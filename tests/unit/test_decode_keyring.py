"""``asyncmsgr decode --keyring``: cephx proofs, AUTH_SIGNATUREs, GCM tags, v1 signatures.

Expected counts come from the independent decoder's ``captures/*.decoded.txt``:
the secure capture has 26 encrypted frames carrying 46 GCM messages (one per
96-byte preamble block, one per segment 0 longer than 48 bytes, one per frame
with more than one segment), and decodes to the same 38 frames / 18 messages as
the crc capture.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asyncmsgr.cli.main import main
from asyncmsgr.tools.decoder import DecodeReport, decode_capture
from asyncmsgr.tools.keyed import KeySet
from asyncmsgr.tools.pcap import TcpSegment, read_segments, write_pcap

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"
CLIENT = "AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg=="
MON = "AQDeHAZrH2VhHhAA+DhmW6shUSjwixiftkmR7g=="
KEYRING = f"[client.admin]\n\tkey = {CLIENT}\n[mon.]\n\tkey = {MON}\n"


def _keys(client: str | None = CLIENT, mon: str | None = MON) -> KeySet:
    ks = KeySet()
    if client:
        ks.add_key(f"client.admin={client}")
    if mon:
        ks.add_key(f"mon.={mon}")
    return ks


def _decode(name: str, keys: KeySet | None) -> DecodeReport:
    return decode_capture((CAPTURES / name).read_bytes(), keys)


def _counts(r: DecodeReport) -> dict[str, int]:
    return {k: r.keyed[k] for k in ("gcm_ok", "gcm_failed", "sig_ok", "sig_failed",
                                    "cephx_ok", "cephx_failed")}


def test_secure_capture_decrypts_like_crc() -> None:
    r = _decode("v2-secure-cephx-status.pcap", _keys())
    crc = _decode("v2-crc-cephx-status.pcap", None)
    assert r.errors == []
    assert r.ok
    assert r.decrypted == 2
    assert r.secure_without_keys == 0
    # proof, AUTH ticket, connection secret (x2) + the extra mon/osd/mgr tickets
    assert _counts(r) == {"gcm_ok": 46, "gcm_failed": 0, "sig_ok": 4, "sig_failed": 0,
                          "cephx_ok": 7, "cephx_failed": 0}
    assert (r.frames, r.messages) == (crc.frames, crc.messages) == (38, 18)
    assert r.by_type == crc.by_type
    names = [rec.name for rec in r.records if rec.direction != "-"]
    assert names == [rec.name for rec in crc.records if rec.direction != "-"]
    sigs = [rec for rec in r.records if rec.name == "AUTH_SIGNATURE"]
    assert len(sigs) == 4
    assert all("AUTH_SIGNATURE ok" in rec.detail and "GCM tag 1/1 ok" in rec.detail
               for rec in sigs)


def test_secure_capture_without_keys_is_unchanged() -> None:
    r = _decode("v2-secure-cephx-status.pcap", None)
    assert (r.frames, r.messages, r.secure_without_keys, r.decrypted) == (12, 0, 2, 0)
    assert not r.keyed


def test_crc_capture_signatures_and_proofs() -> None:
    r = _decode("v2-crc-cephx-status.pcap", _keys(mon=None))
    assert r.ok
    assert _counts(r) == {"gcm_ok": 0, "gcm_failed": 0, "sig_ok": 4, "sig_failed": 0,
                          "cephx_ok": 7, "cephx_failed": 0}
    proofs = [rec for rec in r.records if "cephx proof of client.admin ok" in rec.detail]
    assert [p.name for p in proofs] == ["AUTH_REQUEST_MORE"] * 2


def test_auth_none_signatures_are_zero() -> None:
    r = _decode("v2-crc-none-status.pcap", _keys())
    assert r.ok
    assert r.keyed["sig_ok"] == 4
    assert r.keyed["cephx_ok"] == 0


def test_monpair_authorizer_with_mon_key() -> None:
    r = _decode("v2-crc-monpair-authorizer.pcap", _keys(client=None))
    assert r.ok
    # ticket, challenge decrypt, nonce unchanged, challenge+1, reply nonce+1
    assert _counts(r) == {"gcm_ok": 0, "gcm_failed": 0, "sig_ok": 2, "sig_failed": 0,
                          "cephx_ok": 5, "cephx_failed": 0}
    texts = " ".join(rec.detail for rec in r.records)
    for want in ("authorizer ticket decrypt (mon. key", "authorizer challenge+1 ok",
                 "authorize reply nonce+1 ok"):
        assert want in texts


def test_monpair_without_mon_key_has_no_keyed_checks() -> None:
    r = _decode("v2-crc-monpair-authorizer.pcap", _keys(mon=None))
    assert r.ok
    assert not r.keyed


def test_v1_monpair_signatures() -> None:
    r = _decode("v1-monpair-authorizer-signed.pcap", _keys())
    assert r.ok
    assert r.keyed["sig_ok"] == 85  # every message is signed
    assert r.keyed["sig_failed"] == 0
    assert r.keyed["cephx_ok"] >= 6
    assert r.keyed["cephx_failed"] == 0


def test_v1_cephx_status_mauth_and_reclaim() -> None:
    r = _decode("v1-cephx-status.pcap", _keys())
    assert r.ok
    assert r.decrypted == 2
    assert r.secure_without_keys == 0
    # v1 MAuth proof + ticket; the v2 reclaim decrypts its ticket with the old session key
    assert _counts(r) == {"gcm_ok": 46, "gcm_failed": 0, "sig_ok": 4, "sig_failed": 0,
                          "cephx_ok": 9, "cephx_failed": 0}
    auth = [rec for rec in r.records if "AUTH_REPLY" in rec.detail and "|" in rec.detail]
    assert auth


def test_wrong_client_key_fails_without_crashing() -> None:
    r = _decode("v2-secure-cephx-status.pcap", _keys(client=MON))
    assert not r.ok
    assert r.keyed["cephx_failed"] >= 4  # proof and ticket, both connections
    assert r.keyed["cephx_ok"] == 0
    assert r.decrypted == 0
    assert r.secure_without_keys == 0  # keys were given, just wrong
    assert any("wrong key" in e for e in r.errors)


def test_wrong_mon_key_fails_v1_and_v2_authorizers() -> None:
    for name in ("v2-crc-monpair-authorizer.pcap", "v1-monpair-authorizer-signed.pcap"):
        r = _decode(name, _keys(mon=CLIENT))
        assert not r.ok
        assert r.keyed["cephx_failed"] >= 1
        assert r.keyed["sig_ok"] == 0


def test_missing_client_key_is_secure_without_keys() -> None:
    r = _decode("v2-secure-cephx-status.pcap", _keys(client=None))
    assert r.ok
    assert r.secure_without_keys == 2
    assert r.decrypted == 0


def _flip(data: bytes, marker: bytes, skip: int) -> bytes:
    segs = list(read_segments(data))
    for i, seg in enumerate(segs):
        at = seg.payload.find(marker)
        if at >= 0:
            assert at + skip < len(seg.payload)
            payload = bytearray(seg.payload)
            payload[at + skip] ^= 0x01
            segs[i] = TcpSegment(seg.ts, seg.src, seg.sport, seg.dst, seg.dport, seg.seq,
                                 seg.flags, bytes(payload))
            return write_pcap(segs)
    raise AssertionError("marker not found")


# first bytes of the encrypted 73488-byte MON_COMMAND_ACK (decoded.txt, conn 2)
_ACK_FRAME = bytes.fromhex("9b918d1da51c3b0aa8c449f18fac037f")


def test_flipped_byte_fails_exactly_that_frames_gcm_tag() -> None:
    bad = _flip((CAPTURES / "v2-secure-cephx-status.pcap").read_bytes(), _ACK_FRAME, 300)
    r = decode_capture(bad, _keys())
    assert r.keyed["gcm_failed"] == 1
    assert r.keyed["gcm_ok"] == 45
    assert not r.ok
    failed = [rec for rec in r.records if rec.failed]
    assert len(failed) == 1
    assert failed[0].name == "MESSAGE"
    assert "MON_COMMAND_ACK" in failed[0].detail
    assert "GCM tag 2/2 FAILED" in failed[0].detail
    assert (r.frames, r.messages) == (38, 18)  # later frames still decode


def test_flipped_preamble_block_is_a_failed_check() -> None:
    bad = _flip((CAPTURES / "v2-secure-cephx-status.pcap").read_bytes(), _ACK_FRAME, 5)
    r = decode_capture(bad, _keys())
    assert not r.ok
    assert r.failed >= 1
    assert any("bad secure frame" in e for e in r.errors)


def test_truncated_secure_stream_is_reported() -> None:
    segs = list(read_segments((CAPTURES / "v2-secure-cephx-status.pcap").read_bytes()))
    big = max(range(len(segs)), key=lambda i: len(segs[i].payload))
    seg = segs[big]
    segs[big] = TcpSegment(seg.ts, seg.src, seg.sport, seg.dst, seg.dport, seg.seq,
                           seg.flags, seg.payload[: len(seg.payload) // 2])
    r = decode_capture(write_pcap(segs[: big + 1]), _keys())
    assert r.keyed["gcm_failed"] == 0
    assert any(rec.name == "TRUNCATED" for rec in r.records)


def test_cli_keyring_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kr = tmp_path / "ceph.keyring"
    kr.write_text(KEYRING)
    cap = str(CAPTURES / "v2-secure-cephx-status.pcap")
    assert main(["decode", cap, "--keyring", str(kr), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["decrypted_connections"] == 2
    assert out["gcm"] == {"ok": 46, "failed": 0}
    assert out["sig"] == {"ok": 4, "failed": 0}
    assert out["cephx"] == {"ok": 7, "failed": 0}
    assert out["secure_without_keys"] == 0
    assert out["messages"] == 18


def test_cli_key_text_and_wrong_key(capsys: pytest.CaptureFixture[str]) -> None:
    cap = str(CAPTURES / "v2-crc-cephx-status.pcap")
    assert main(["decode", cap, "--key", f"client.admin={CLIENT}"]) == 0
    text = capsys.readouterr().out
    assert "cephx proof of client.admin ok" in text
    assert "signatures ok=4 failed=0" in text
    assert main(["decode", cap, "--key", f"client.admin={MON}"]) == 1
    text = capsys.readouterr().out
    assert "FAILED" in text
    assert "wrong key" in text


def test_cli_bad_key_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cap = str(CAPTURES / "v2-crc-cephx-status.pcap")
    assert main(["decode", cap, "--key", "client.admin"]) == 2
    assert main(["decode", cap, "--keyring", str(tmp_path / "nope")]) == 2
    assert "nope" in capsys.readouterr().err
