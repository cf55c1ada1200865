"""The ``ceph`` tool's own options (``parse_cmdargs``), read without importing argparse.

``ceph`` reads its own options with argparse's ``parse_known_args``: the options
below anywhere before ``--``, long ones abbreviated to any unique prefix, short
ones with the value attached (``-cFILE``) or flags combined (``-sw``), errors
with a usage line and exit status 2; everything else is left, in order, for
librados and the command. :func:`build_parser` is that parser.

Importing argparse costs a one-shot command start-up time, so
:func:`parse_tool_args` first tries :func:`quick_parse`, which reads the plain
cases (each option spelled in full, ``--opt=value``, values that are not
options, negative numbers as values or words) exactly as argparse does, and
hands anything else (an abbreviation, an attached value, combined flags, a bad
value, a missing one, ``--help``) to argparse. ``tests/cli/test_ceph_toolargs.py``
checks both against each other.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

if TYPE_CHECKING:
    import argparse

FORMATS = ("json", "json-pretty", "xml", "xml-pretty", "plain", "yaml")

_EPILOG = """\
configuration options (librados's rules; also from CEPH_ARGS):
  -m MONHOST             monitors to contact (mon_host)
  -k KEYRING             keyring file (keyring)
  --key KEY              secret, base64 (key)
  --keyfile FILE         file holding the secret (key)
  --OPTION VALUE         any Ceph option (--ms_mon_client_mode secure,
                         --auth_client_required cephx, --rados_mon_op_timeout 10,
                         --asyncmsgr_connect_msgr v1, ...); bool options alone mean true

commands: every command the monitors, managers and OSDs describe (ceph -h lists them),
  e.g. status, health detail, osd tree, osd pool ls detail, auth get client.admin,
  pg stat, tell osd.0 version, tell mon.a sessions, tell mgr help

exit status: 0, the errno of a failed command (22 for an invalid command),
  13 when the monitors refuse the credentials, 1 when none answers or the
  configuration is unusable, 2 for usage errors"""

#: dest -> default, as the parser sets them.
DEFAULTS: dict[str, Any] = {
    "completion": False, "help": False, "cephconf": None, "input_file": None,
    "output_file": None, "setuser": None, "setgroup": None, "client_id": None,
    "client_name": None, "cluster": None, "admin_socket": None, "status": False,
    "watch": False, "watch_debug": False, "watch_info": False, "watch_sec": False,
    "watch_warn": False, "watch_error": False, "watch_channel": None, "version": False,
    "verbose": False, "output_format": None, "cluster_timeout": None, "block": False,
    "period": 1,
}

#: Option string -> (dest, kind): ``flag`` (store true), ``off`` (store false),
#: ``str``, ``int``, ``float`` or ``format`` (a choice of FORMATS).
OPTIONS: dict[str, tuple[str, str]] = {
    "--completion": ("completion", "flag"), "-h": ("help", "flag"), "--help": ("help", "flag"),
    "-c": ("cephconf", "str"), "--conf": ("cephconf", "str"),
    "-i": ("input_file", "str"), "--in-file": ("input_file", "str"),
    "-o": ("output_file", "str"), "--out-file": ("output_file", "str"),
    "--setuser": ("setuser", "str"), "--setgroup": ("setgroup", "str"),
    "--id": ("client_id", "str"), "--user": ("client_id", "str"),
    "--name": ("client_name", "str"), "-n": ("client_name", "str"),
    "--cluster": ("cluster", "str"), "--admin-daemon": ("admin_socket", "str"),
    "-s": ("status", "flag"), "--status": ("status", "flag"),
    "-w": ("watch", "flag"), "--watch": ("watch", "flag"),
    "--watch-debug": ("watch_debug", "flag"), "--watch-info": ("watch_info", "flag"),
    "--watch-sec": ("watch_sec", "flag"), "--watch-warn": ("watch_warn", "flag"),
    "--watch-error": ("watch_error", "flag"),
    "-W": ("watch_channel", "str"), "--watch-channel": ("watch_channel", "str"),
    "--version": ("version", "flag"), "-v": ("version", "flag"),
    "--verbose": ("verbose", "flag"), "--concise": ("verbose", "off"),
    "-f": ("output_format", "format"), "--format": ("output_format", "format"),
    "--connect-timeout": ("cluster_timeout", "int"),
    "--block": ("block", "flag"), "--period": ("period", "float"), "-p": ("period", "float"),
}
_LONG = tuple(o for o in OPTIONS if o.startswith("--"))
_SHORT = frozenset(o for o in OPTIONS if not o.startswith("--"))
#: argparse's ``_negative_number_matcher``.
_NEGATIVE = re.compile(r"^-\d+$|^-\d*\.\d+$")


class ArgsExit(Exception):
    """argparse would exit (``--help`` printed, or a usage error): ``status``."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def build_parser(stdout: TextIO | None = None, stderr: TextIO | None = None,
                 ) -> argparse.ArgumentParser:
    """``ceph``'s own options as argparse reads them; messages go to the streams
    given, and exiting raises :class:`ArgsExit`."""
    import argparse  # noqa: PLC0415  (start-up time: only when the quick path cannot)

    class Parser(argparse.ArgumentParser):
        def _print_message(self, message: str, file: Any = None) -> None:
            if message:
                to_err = file is None or file is sys.stderr
                target = (stderr or sys.stderr) if to_err else (stdout or sys.stdout)
                target.write(message)

        def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
            if message:
                self._print_message(message, sys.stderr)
            raise ArgsExit(status)

    parser = Parser(prog="asyncmsgr ceph", add_help=False,
                    description="Ceph administration tool (Pacific's ceph, in Python)",
                    epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--completion", action="store_true", help=argparse.SUPPRESS)
    add("-h", "--help", action="store_true",
        help="this help, then the monitors' commands (those starting with the words "
             "given; 'tell TARGET' for a daemon's)")
    add("-c", "--conf", dest="cephconf", help="ceph configuration file")
    add("-i", "--in-file", dest="input_file", help='input file, or "-" for stdin')
    add("-o", "--out-file", dest="output_file", help='output file, or "-" for stdout')
    add("--setuser", dest="setuser", help="set user file permission")
    add("--setgroup", dest="setgroup", help="set group file permission")
    add("--id", "--user", dest="client_id", help="client id for authentication")
    add("--name", "-n", dest="client_name", help="client name for authentication")
    add("--cluster", help="cluster name")
    add("--admin-daemon", dest="admin_socket",
        help="submit admin-socket commands (not supported here: use Ceph's ceph)")
    add("-s", "--status", action="store_true", help="show cluster status")
    add("-w", "--watch", action="store_true", help="watch live cluster changes")
    for level, what in (("debug", "debug"), ("info", "info"), ("sec", "security"),
                        ("warn", "warn"), ("error", "error")):
        add(f"--watch-{level}", action="store_true", help=f"watch {what} events")
    add("-W", "--watch-channel", dest="watch_channel",
        help="watch live cluster changes on a specific channel "
             "(e.g., cluster, audit, cephadm, or '*' for all)")
    add("--version", "-v", action="store_true", help="display version")
    add("--verbose", action="store_true", help="make verbose (accepted; prints nothing more)")
    add("--concise", dest="verbose", action="store_false", help="make less verbose")
    add("-f", "--format", choices=list(FORMATS), dest="output_format", metavar="FORMAT",
        help=f"output format: {', '.join(FORMATS)} (the daemon formats it)")
    add("--connect-timeout", dest="cluster_timeout", type=int,
        help="set a timeout for connecting to the cluster")
    add("--block", action="store_true",
        help="block until completion (scrub and deep-scrub only; accepted, not waited for)")
    add("--period", "-p", default=1, type=float,
        help="polling period, default 1.0 second (for polling commands only)")
    return parser


def _optional_like(token: str) -> bool:
    """Would argparse take ``token`` for an option rather than a value?"""
    return token.startswith("-") and token != "-" and not _NEGATIVE.match(token)


def _convert(kind: str, text: str) -> Any:
    """The value as the parser stores it; None when argparse would refuse it."""
    if kind == "str":
        return text
    if kind == "format":
        return text if text in FORMATS else None
    try:
        return int(text) if kind == "int" else float(text)
    except ValueError:
        return None


def quick_parse(args: Sequence[str]) -> tuple[SimpleNamespace, list[str]] | None:
    """``parse_known_args`` for the plain cases (see the module docstring); None
    when argparse must decide."""
    values = dict(DEFAULTS)
    extras: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        i += 1
        if token == "--":
            extras.extend(args[i - 1:])
            break
        if not _optional_like(token):
            extras.append(token)
            continue
        name, eq, text = token.partition("=") if token.startswith("--") else (token, "", "")
        spec = OPTIONS.get(name)
        if spec is None:
            if token.startswith("--"):
                if any(opt.startswith(name) for opt in _LONG):
                    return None  # an abbreviation
            elif token[:2] in _SHORT:
                return None  # an attached value or combined flags
            extras.append(token)
            continue
        dest, kind = spec
        if kind in ("flag", "off"):
            if eq:
                return None  # argparse refuses the value
            values[dest] = kind == "flag"
            continue
        if not eq:
            if i >= len(args) or _optional_like(args[i]):
                return None  # the value is missing
            text = args[i]
            i += 1
        value = _convert(kind, text)
        if value is None:
            return None
        values[dest] = value
    if values["help"]:
        return None  # the usage text comes from argparse
    return SimpleNamespace(**values), extras


def parse_tool_args(args: Sequence[str], stdout: TextIO | None = None,
                    stderr: TextIO | None = None) -> tuple[Any, list[str]]:
    """(options, the arguments left), as ``parse_known_args`` gives them; raises
    :class:`ArgsExit` where argparse exits."""
    quick = quick_parse(args)
    if quick is not None:
        return quick
    parsed, extras = build_parser(stdout, stderr).parse_known_args(list(args))
    return parsed, extras


__all__ = ["DEFAULTS", "FORMATS", "OPTIONS", "ArgsExit", "build_parser", "parse_tool_args",
           "quick_parse"]
