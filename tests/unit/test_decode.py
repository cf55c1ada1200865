"""``asyncmsgr decode``: TCP reassembly, protocol detection, checks and counts.

Expected frame and message counts are those of the independent decoder that
produced ``captures/*.decoded.txt`` (see captures/README.md).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from asyncmsgr.cli.main import main
from asyncmsgr.tools.decoder import decode_capture
from asyncmsgr.tools.pcap import (
    TcpSegment,
    read_segments,
    reassemble,
    write_pcap,
    write_pcapng,
)

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"

# file -> (connections, frames, messages, secure_without_keys, by_type)
EXPECTED: dict[str, tuple[int, int, int, int, dict[str, int]]] = {
    "v2-crc-cephx-status.pcap": (2, 38, 18, 0, {
        "CONFIG": 2, "MGR_MAP": 1, "MON_COMMAND": 2, "MON_COMMAND_ACK": 2,
        "MON_GET_MAP": 2, "MON_MAP": 4, "MON_SUBSCRIBE": 4, "OSD_MAP": 1}),
    "v2-crc-none-status.pcap": (2, 34, 18, 0, {
        "CONFIG": 2, "MGR_MAP": 1, "MON_COMMAND": 2, "MON_COMMAND_ACK": 2,
        "MON_GET_MAP": 2, "MON_MAP": 4, "MON_SUBSCRIBE": 4, "OSD_MAP": 1}),
    "v2-crc-monpair-authorizer.pcap": (2, 184, 95, 0, {
        "FORWARD": 2, "MON_ELECTION": 8, "MON_PAXOS": 40, "MON_PING": 32,
        "MON_PROBE": 8, "ROUTE": 2, "TIMECHECK2": 3}),
    "v1-monpair-authorizer-signed.pcap": (3, 0, 85, 0, {
        "FORWARD": 2, "MON_ELECTION": 8, "MON_PAXOS": 38, "MON_PING": 24,
        "MON_PROBE": 8, "ROUTE": 2, "TIMECHECK2": 3}),
    "v1-cephx-status.pcap": (3, 12, 6, 2, {
        "AUTH": 2, "AUTH_REPLY": 2, "MON_MAP": 1, "MON_SUBSCRIBE": 1}),
    "v2-secure-cephx-status.pcap": (2, 12, 0, 2, {}),
}


def _capture(name: str) -> bytes:
    return (CAPTURES / name).read_bytes()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_decode_real_captures(name: str) -> None:
    conns, frames, messages, secure, by_type = EXPECTED[name]
    report = decode_capture(_capture(name))
    assert report.errors == []
    assert report.failed == 0
    assert report.passed >= frames + messages  # at least one crc per frame/message
    assert report.connections == conns
    assert report.frames == frames
    assert report.messages == messages
    assert report.secure_without_keys == secure
    assert dict(report.by_type) == by_type


def test_cli_json_and_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["decode", str(CAPTURES / "v2-crc-cephx-status.pcap"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    assert set(out) >= {"connections", "frames", "messages", "by_type", "checks"}
    assert out["frames"] == 38
    assert out["messages"] == 18
    assert out["by_type"]["MON_COMMAND_ACK"] == 2
    assert out["checks"]["failed"] == 0
    assert out["checks"]["passed"] > 0


def test_cli_text_lists_every_frame(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(CAPTURES / "v1-monpair-authorizer-signed.pcap")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(" MSG " in line for line in lines) == 85
    assert sum(" ACK " in line for line in lines) == 80
    assert "failed=0" in lines[-2] or "failed=0" in lines[-1]


def test_cli_unreadable_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["decode", str(tmp_path / "missing.pcap")]) == 2
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture at all")
    assert main(["decode", str(junk)]) == 2
    assert "junk.pcap" in capsys.readouterr().err


def _flip_payload_byte(data: bytes, marker: bytes) -> bytes:
    segs = list(read_segments(data))
    for i, seg in enumerate(segs):
        at = seg.payload.find(marker)
        if at >= 0:
            payload = bytearray(seg.payload)
            payload[at + len(marker)] ^= 0x01
            segs[i] = TcpSegment(seg.ts, seg.src, seg.sport, seg.dst, seg.dport, seg.seq,
                                 seg.flags, bytes(payload))
            return write_pcap(segs)
    raise AssertionError("marker not found")


def test_corrupted_message_fails_the_run(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    # flip a bit inside the "status" command text of an MMonCommand front
    bad = _flip_payload_byte((CAPTURES / "v2-crc-cephx-status.pcap").read_bytes(), b'"prefix')
    path = tmp_path / "bad.pcap"
    path.write_bytes(bad)
    assert main(["decode", str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["checks"]["failed"] >= 1
    assert out["errors"]


def test_corrupted_v1_message_fails() -> None:
    data = (CAPTURES / "v1-monpair-authorizer-signed.pcap").read_bytes()
    report = decode_capture(_flip_payload_byte(data, b"\x5a\x1d\x0c\x1e"))  # fsid bytes
    assert report.failed >= 1
    assert not report.ok


def test_reassembly_handles_reordering_duplicates_and_overlap() -> None:
    original = (CAPTURES / "v2-crc-cephx-status.pcap").read_bytes()
    want = decode_capture(original).as_json()
    segs = list(read_segments(original))
    rng = random.Random(7)
    mangled: list[TcpSegment] = []
    for seg in segs:
        if len(seg.payload) > 8 and rng.random() < 0.5:
            # split into two overlapping pieces, send the second one first
            cut = len(seg.payload) // 2
            first = TcpSegment(seg.ts, seg.src, seg.sport, seg.dst, seg.dport, seg.seq,
                               seg.flags, seg.payload[: cut + 4])
            second = TcpSegment(seg.ts, seg.src, seg.sport, seg.dst, seg.dport,
                                (seg.seq + cut) % (1 << 32), seg.flags & ~0x02,
                                seg.payload[cut:])
            mangled += [second, first]
        else:
            mangled.append(seg)
        if seg.payload and rng.random() < 0.3:
            mangled.append(seg)  # retransmission
    # swap some neighbours
    for i in range(0, len(mangled) - 1, 5):
        mangled[i], mangled[i + 1] = mangled[i + 1], mangled[i]
    got = decode_capture(write_pcap(mangled)).as_json()
    assert got == want


def test_pcapng_reads_the_same() -> None:
    original = (CAPTURES / "v1-monpair-authorizer-signed.pcap").read_bytes()
    segs = list(read_segments(original))
    assert decode_capture(write_pcapng(segs)).as_json() == decode_capture(original).as_json()


def test_missing_tcp_data_is_reported() -> None:
    segs = list(read_segments((CAPTURES / "v2-crc-cephx-status.pcap").read_bytes()))
    with_data = [i for i, s in enumerate(segs) if len(s.payload) > 100]
    del segs[with_data[len(with_data) // 2]]
    report = decode_capture(write_pcap(segs))
    assert not report.ok
    assert any("missing TCP data" in e or "bad frame" in e for e in report.errors)


def test_non_ceph_traffic_is_an_error() -> None:
    seg = TcpSegment(1.0, "127.0.0.1", 40000, "127.0.0.1", 80, 1000, 0x18,
                     b"GET / HTTP/1.1\r\n\r\n")
    report = decode_capture(write_pcap([seg]))
    assert report.connections == 1
    assert not report.ok
    assert "not Ceph messenger traffic" in report.errors[0]


def test_client_is_the_syn_sender() -> None:
    syn = TcpSegment(1.0, "127.0.0.1", 3300, "127.0.0.1", 50000, 5, 0x02, b"")
    data = TcpSegment(1.1, "127.0.0.1", 3300, "127.0.0.1", 50000, 6, 0x18, b"x")
    (conn,) = reassemble(write_pcap([syn, data]))
    assert conn.client == ("127.0.0.1", 3300)
    assert bytes(conn.c2s.data) == b"x"
