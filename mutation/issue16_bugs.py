"""Plant each bug of issue 16 alone and check that the suite catches it.

Every entry replaces one exact snippet of a source file (it must occur once),
runs the given tests and restores
the file. A bug the tests do not catch is reported and the script exits 1.

    .venv/bin/python mutation/issue16_bugs.py [--only NAME] [--list]

Run it from the repository root; it takes about a minute (nice it on a shared
machine). The source files are restored even on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "asyncmsgr"


@dataclass(frozen=True)
class Bug:
    """One planted bug: ``old`` becomes ``new`` in ``path``; ``tests`` must fail."""

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


V2H = "protocol/v2_handshake.py"
HC = "tests/protocol/test_handshake_checks.py"
IC = "tests/unit/test_integrity_checks.py"

BUGS: tuple[Bug, ...] = (
    Bug("auth-done-mode-not-offered", V2H,
        "    if frame.con_mode not in p._sent_modes:",
        "    if False:",
        (HC,)),
    Bug("authorizer-global-id-mismatch", "auth/cephx/server.py",
        "        if not _eq64(info.ticket.global_id, a.global_id):",
        "        if False:",
        (IC,)),
    Bug("client-ident-target-not-ours", V2H,
        "    if frame.target_addr not in p.registry.my_addrs:",
        "    if False:",
        (HC,)),
    Bug("server-ident-wrong-peer", V2H,
        "    if p.target_addr not in frame.addrs:",
        "    if False:",
        (HC,)),
    Bug("server-ident-while-reconnecting", V2H,
        "    Tag.SERVER_IDENT: frozenset({S.SESSION_CONNECTING}),",
        "    Tag.SERVER_IDENT: frozenset({S.SESSION_CONNECTING, S.SESSION_RECONNECTING}),",
        ("tests/protocol/test_handshake_validation.py::test_refused_frame_faults", HC)),
    Bug("non-full-session-reset-keeps-in-seq", V2H,
        "        s.server_cookie = s.connect_seq = s.in_seq = 0",
        "        s.server_cookie = s.connect_seq = 0",
        (HC,)),
    Bug("server-ident-keeps-in-seq", V2H,
        "    s.discard_requeued_up_to(0)\n    s.in_seq = 0\n",
        "    s.discard_requeued_up_to(0)\n",
        (HC,)),
    Bug("full-session-reset-keeps-in-seq", "protocol/session.py",
        "        self.out_seq = self.in_seq = self.ack_left = 0",
        "        self.out_seq = self.ack_left = 0",
        (HC,)),
    Bug("decode-message-skips-middle-crc", "message.py",
        "        if mcrc != footer.middle_crc:",
        "        if False:",
        (IC,)),
    Bug("decode-message-ignores-nocrc", "message.py",
        "    if crc_flags & CrcFlags.DATA and not footer.flags & FooterFlags.NOCRC:",
        "    if crc_flags & CrcFlags.DATA:",
        (IC,)),
    Bug("v1-receiver-ignores-nocrc", "protocol/v1.py",
        "        if crc_flags & _CRC_DATA and not flags & _NOCRC:",
        "        if crc_flags & _CRC_DATA:",
        (HC,)),
    Bug("v1-receiver-skips-middle-crc", "protocol/v1.py",
        "            if calc != mc:",
        "            if False:",
        (HC,)),
    Bug("rev1-decoder-skips-empty-segment-crc", "frames/assembler.py",
        "            else:\n                seg = _EMPTY_VIEW\n                if expected != _M:",
        "            else:\n                seg = _EMPTY_VIEW\n                if False:",
        ("tests/unit/test_kat_rev1_empty_segments.py",)),
    Bug("rev1-fast-decoder-skips-empty-segment-crc", "frames/assembler.py",
        "            elif expected != _M:",
        "            elif False:",
        ("tests/unit/test_kat_rev1_empty_segments.py",)),
    Bug("pull-versioned-no-length-check", "wire/buffer.py",
        "        if length > self.remaining:\n            raise DecodeError(\n"
        "                f\"{what}: struct length",
        "        if False:\n            raise DecodeError(\n"
        "                f\"{what}: struct length",
        ("tests/unit/test_kat_nested_versioned.py",)),
    Bug("duplicate-leaks-dispatch-throttle", "protocol/base.py",
        "                if dispatch_size:\n                    assert",
        "                if False:\n                    assert",
        (HC,)),
    Bug("signature-block-middle-swapped", "auth/cephx/sign.py",
        "    block = _SIG_BLOCK.pack(header_crc, front_crc, front_len, middle_crc, middle_len,",
        "    block = _SIG_BLOCK.pack(header_crc, front_crc, front_len, middle_len, middle_crc,",
        ("tests/unit/test_kat_v1_signed_middle.py",)),
    Bug("v1-receiver-signature-middle-swapped", "protocol/v1.py",
        "            expected = signature_of(key, hdr.crc, fc, f, mc, m, dc, d, hdr.seq)",
        "            expected = signature_of(key, hdr.crc, fc, f, m, mc, dc, d, hdr.seq)",
        ("tests/unit/test_kat_v1_signed_middle.py",)),
    Bug("v1-sender-signature-middle-swapped", "protocol/v1.py",
        "                sig = signature_of(key, hcrc, fcrc, flen, mcrc, mlen, dcrc, dlen, seq)",
        "                sig = signature_of(key, hcrc, fcrc, flen, mlen, mcrc, dcrc, dlen, seq)",
        ("tests/unit/test_kat_v1_signed_middle.py",)),
)


def plant(bug: Bug) -> tuple[bool, float, str]:
    """Apply ``bug``, run its tests, restore; (caught, seconds, last output line)."""
    path = SRC / bug.path
    original = path.read_text()
    if original.count(bug.old) != 1:
        raise SystemExit(f"{bug.name}: the snippet occurs {original.count(bug.old)} times "
                         f"in {bug.path} (the source moved: update this list)")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    start = time.monotonic()
    try:
        path.write_text(original.replace(bug.old, bug.new))
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
             *bug.tests], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    finally:
        path.write_text(original)
    lines = proc.stdout.strip().splitlines()
    return proc.returncode != 0, time.monotonic() - start, lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", default=[], help="run these bugs only")
    ap.add_argument("--list", action="store_true", help="list the bugs and exit")
    args = ap.parse_args(argv)
    bugs = [b for b in BUGS if not args.only or b.name in args.only]
    if args.list:
        for b in bugs:
            print(f"{b.name:45} {b.path}")
        return 0
    missed = []
    for bug in bugs:
        caught, took, last = plant(bug)
        print(f"{'caught' if caught else 'MISSED':7} {bug.name:45} {took:5.1f}s  {last}")
        if not caught:
            missed.append(bug.name)
    print(f"{len(bugs) - len(missed)}/{len(bugs)} planted bugs caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
