"""``asyncmsgr decode CAPTURE [--json]``: decode and verify Ceph traffic in a pcap.

Reassembles each TCP stream of a libpcap (or pcapng) capture, detects msgr v1 or
msgr2 per connection, decodes every frame and message and verifies every crc.
Prints one line per frame or message, or with ``--json`` one summary object.
Exit status 1 when a check fails, a stream cannot be parsed or the capture
itself is damaged (a record cut short, of length 0 or longer than a record can
be: also said on stderr); a secure-mode connection without keys is reported,
not failed. 2 when the file cannot be read or is no capture.

With ``--keyring FILE`` (repeatable) or ``--key NAME=BASE64`` the cephx
exchanges are followed too: the client's challenge proof, the ticket, connection
secret and service ticket decryption (client key), the authorizer ticket, nonce
and challenge answer (``mon.`` key for mon<->mon), both AUTH_SIGNATUREs, msgr v1
message signatures, and secure-mode connections are decrypted with every GCM tag
checked. A wrong key makes those checks fail.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from asyncmsgr.auth.keyring import Keyring
from asyncmsgr.errors import KeyringError
from asyncmsgr.tools.decoder import DecodeReport, Record, decode_capture
from asyncmsgr.tools.keyed import KeySet
from asyncmsgr.tools.pcap import CaptureError


def register(sub: Any) -> None:
    """Add the ``decode`` subcommand to an argparse subparsers object."""
    p = sub.add_parser("decode", help="decode and verify Ceph messenger traffic in a pcap",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("capture", help="libpcap or pcapng file (e.g. from tcpdump -w), "
                                   "optionally gzipped")
    p.add_argument("--json", action="store_true", help="print one JSON summary object")
    p.add_argument("--keyring", "-k", action="append", default=[], metavar="FILE",
                   help="Ceph keyring with entity keys (repeatable)")
    p.add_argument("--key", action="append", default=[], metavar="NAME=BASE64",
                   help="one entity key, e.g. client.admin=AQD... (repeatable)")
    p.set_defaults(func=run)


def _line(rec: Record, t0: float) -> str:
    arrow = {"C": "C>", "S": "<S", "-": "--"}[rec.direction]
    checks = ""
    if rec.passed or rec.failed:
        checks = f" [{rec.passed} ok" + (f", {rec.failed} FAILED]" if rec.failed else "]")
    return (f"{rec.ts - t0:10.6f} #{rec.conn} {arrow} {rec.protocol} {rec.name:<22} "
            f"{rec.length:>7} {rec.detail}{checks}")


def print_text(report: DecodeReport, out: Any) -> None:
    """One line per record, then a summary."""
    t0 = report.records[0].ts if report.records else 0.0
    for rec in report.records:
        print(_line(rec, t0), file=out)
    types = ", ".join(f"{k}={v}" for k, v in sorted(report.by_type.items()))
    print(f"connections={report.connections} frames={report.frames} "
          f"messages={report.messages} checks passed={report.passed} "
          f"failed={report.failed} secure_without_keys={report.secure_without_keys}",
          file=out)
    k = report.keyed
    if k or report.decrypted:
        print(f"decrypted={report.decrypted} gcm ok={k['gcm_ok']} failed={k['gcm_failed']} "
              f"signatures ok={k['sig_ok']} failed={k['sig_failed']} "
              f"cephx ok={k['cephx_ok']} failed={k['cephx_failed']}", file=out)
    if types:
        print(f"by type: {types}", file=out)
    for err in report.errors:
        print(f"error: {err}", file=out)


def run(args: argparse.Namespace) -> int:
    """Decode the capture; 0 when every check passed, 1 otherwise, 2 if unreadable."""
    keys: KeySet | None = None
    if args.keyring or args.key:
        keys = KeySet()
        try:
            for path in args.keyring:
                keys.add_keyring(Keyring.from_file(path))
            for spec in args.key:
                keys.add_key(spec)
        except (KeyringError, ValueError) as exc:
            print(f"asyncmsgr decode: {exc}", file=sys.stderr)
            return 2
    try:
        with open(args.capture, "rb") as f:
            data = f.read()
        report = decode_capture(data, keys)
    except OSError as exc:
        print(f"asyncmsgr decode: cannot read {args.capture}: {exc.strerror}", file=sys.stderr)
        return 2
    except CaptureError as exc:
        print(f"asyncmsgr decode: {args.capture}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_json()))
    else:
        print_text(report, sys.stdout)
    for err in report.errors:  # the file itself is damaged: say so where it is seen
        if err.startswith("capture: "):
            print(f"asyncmsgr decode: {args.capture}: {err.removeprefix('capture: ')}",
                  file=sys.stderr)
    return 0 if report.ok else 1
