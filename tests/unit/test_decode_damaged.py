"""``asyncmsgr decode`` on damaged captures and unfinished connections: every
problem said (exit 1, a line on stderr), every complete clear frame listed, what
could not be decrypted marked; a reader that goes away ends the run quietly."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from asyncmsgr.cli.main import main
from asyncmsgr.tools.decoder import decode_capture
from asyncmsgr.tools.pcap import read_segments, write_pcapng

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"
CRC_CEPHX = CAPTURES / "v2-crc-cephx-status.pcap"
SECURE = CAPTURES / "v2-secure-cephx-status.pcap"


def records(data: bytes) -> list[tuple[int, int]]:
    """``(offset, length)`` of each record of a little-endian pcap."""
    out = []
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack_from("<I", data, pos + 8)[0]
        out.append((pos, 16 + incl))
        pos += 16 + incl
    return out


def with_length(data: bytes, index: int, length: int) -> bytes:
    """``data`` with record ``index`` claiming ``length`` captured bytes."""
    pos = records(data)[index][0]
    out = bytearray(data)
    struct.pack_into("<II", out, pos + 8, length, length)
    return bytes(out)


def run_decode(tmp_path: Path, data: bytes, capsys: pytest.CaptureFixture[str],
               *extra: str) -> tuple[int, str, str]:
    path = tmp_path / "capture.pcap"
    path.write_bytes(data)
    status = main(["decode", str(path), *extra], env={})
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_whole_capture_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _out, err = run_decode(tmp_path, CRC_CEPHX.read_bytes(), capsys)
    assert (status, err) == (0, "")


def test_truncated_mid_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = CRC_CEPHX.read_bytes()
    last_pos, last_len = records(data)[-1]
    status, out, err = run_decode(tmp_path, data[:last_pos + last_len - 5], capsys)
    assert status == 1
    assert f"is cut short: {last_len - 16 - 5} of its {last_len - 16} bytes" in err
    assert err.count("\n") == 1
    assert "MON_COMMAND_ACK" in out  # what came before is still decoded


def test_truncated_inside_a_record_header(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = CRC_CEPHX.read_bytes()
    last_pos, _ = records(data)[-1]
    status, _out, err = run_decode(tmp_path, data[:last_pos + 7], capsys)
    assert status == 1
    assert "7 bytes after record" in err
    assert "not a whole record header" in err


@pytest.mark.parametrize(("length", "words"), [
    (0, "has length 0"),
    (1 << 31, "claims 2147483648 bytes, more than a record holds (262144)"),
    (0xFFFFFFFF, "claims 4294967295 bytes"),
])
def test_bad_record_lengths(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            length: int, words: str) -> None:
    data = CRC_CEPHX.read_bytes()
    status, _out, err = run_decode(tmp_path, with_length(data, 5, length), capsys)
    assert status == 1
    assert f"record 5 at byte {records(data)[5][0]} {words}" in err
    assert "Traceback" not in err


def test_pcapng_cut_short() -> None:
    data = write_pcapng(list(read_segments(CRC_CEPHX.read_bytes())))
    report = decode_capture(data[:-10])
    assert not report.ok
    assert any("is cut short" in e for e in report.errors), report.errors
    bad = bytearray(data)
    struct.pack_into("<I", bad, 4, 13)  # section header block length not a multiple of 4
    report = decode_capture(bytes(bad))
    assert any("has a bad length 13" in e for e in report.errors), report.errors


def _prefix_until(data: bytes, stop: str) -> bytes:
    """The longest record prefix of ``data`` whose decode has no ``stop`` frame yet."""
    best = data[:24]
    for pos, length in records(data):
        candidate = data[:pos + length]
        if any(r.name == stop for r in decode_capture(candidate).records):
            break
        best = candidate
    return best


def test_unfinished_handshake_lists_its_complete_frames() -> None:
    """Captured before the server's first auth reply: the client's AUTH_REQUEST is
    a complete frame and is listed."""
    data = _prefix_until(CRC_CEPHX.read_bytes(), "AUTH_REPLY_MORE")
    report = decode_capture(data)
    names = [(r.direction, r.name) for r in report.records if r.conn == 0]
    assert ("C", "AUTH_REQUEST") in names, names
    assert ("S", "AUTH_REPLY_MORE") not in names
    auth = next(r for r in report.records if r.name == "AUTH_REQUEST")
    assert auth.passed >= 2  # its crcs checked


def test_secure_mode_without_keys_marks_every_direction() -> None:
    report = decode_capture(SECURE.read_bytes())
    assert report.ok
    sealed = [r for r in report.records if r.name == "SECURE"]
    assert sorted((r.conn, r.direction) for r in sealed) == [
        (0, "C"), (0, "S"), (1, "C"), (1, "S")]
    for r in sealed:
        assert r.length > 0
        assert "not decrypted (no keys given)" in r.detail
    clear = [r.name for r in report.records if r.conn == 0 and r.name != "SECURE"]
    assert clear[-1] == "AUTH_DONE"
    assert "AUTH_REQUEST_MORE" in clear


def test_reader_going_away_is_quiet() -> None:
    """``asyncmsgr decode X | head -1`` once head has exited: no traceback, 141 as a
    program killed by SIGPIPE (the read end is closed before anything is written)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "asyncmsgr", "decode", str(CRC_CEPHX)],
                              stdout=write_end, stderr=subprocess.PIPE, timeout=60,
                              check=False)
    finally:
        os.close(write_end)
    assert proc.stderr == b""
    assert proc.returncode == 141
