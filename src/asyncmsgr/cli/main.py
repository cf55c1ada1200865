"""``asyncmsgr`` command line: one subcommand per tool.

Every subcommand accepts Ceph-style messenger options anywhere on its command
line (``--ms_async_op_threads=2``, ``--ms-async-op-threads 2``,
``--asyncmsgr_embedded=false``) and from ``CEPH_ARGS``; they are taken out
before argparse sees the rest and handed to the subcommand as ``args.config``
(a :class:`~asyncmsgr.config.MessengerConfig`). ``asyncmsgr --help-config``
lists them. Event loops run on uvloop when it is installed and
``asyncmsgr_use_uvloop`` is true (the default; see :mod:`asyncmsgr.loop`).

Subcommands live in their own modules, imported only when run (start-up time is
most of a one-shot command's wall time): :data:`SUBCOMMANDS` maps each name to
its module, which has ``register(subparsers)`` (argparse, with a
``func(args) -> int`` default) or, for a tool that parses its arguments the way
Ceph's tools do (:data:`OWN_ARGUMENTS`), ``main(argv, environ) -> int``.

Exit codes follow the tools' conventions: 0 success, 1 a check or operation
failed, 2 usage errors (unknown option, unreadable input).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from importlib import import_module
from typing import TYPE_CHECKING

from asyncmsgr.config import ConfigError, config_help, parse_config_args

if TYPE_CHECKING:
    import argparse

#: Subcommand name -> the module implementing it.
SUBCOMMANDS: dict[str, str] = {
    "decode": "asyncmsgr.cli.decode",
    "bench": "asyncmsgr.cli.bench",
    "stress": "asyncmsgr.cli.stress",
    "ceph": "asyncmsgr.cli.ceph",
    "osdmaptool": "asyncmsgr.cli.osdmaptool",
    "rados": "asyncmsgr.cli.rados",
    "fake-cluster": "asyncmsgr.cli.fake_cluster",
}
#: Subcommands that read their own arguments (Ceph's rules: ceph.conf, -c, -m, -k
#: ...): ``module.main(argv, environ)`` runs before argparse is even imported.
OWN_ARGUMENTS = frozenset({"ceph", "osdmaptool", "rados"})

_EPILOG = ("Messenger options such as --ms_async_op_threads=2 or --asyncmsgr_embedded=false "
           "are accepted by every command (also from CEPH_ARGS); "
           "see 'asyncmsgr --help-config'.")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered (or only ``only``)."""
    import argparse  # noqa: PLC0415  (not needed by the OWN_ARGUMENTS tools)

    parser = argparse.ArgumentParser(
        prog="asyncmsgr",
        description="Ceph's AsyncMessenger in Python: wire tools and benchmarks.",
        epilog=_EPILOG,
    )
    parser.add_argument("--help-config", action="store_true",
                        help="list the messenger options (--ms_*, --asyncmsgr_*) and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in SUBCOMMANDS.items():
        if only is None or name == only:
            import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run the command line; returns the process exit status.

    Args:
        argv: the arguments after the program name (default ``sys.argv[1:]``).
        env: the environment read for ``CEPH_ARGS`` (default ``os.environ``).
    """
    args_in = list(sys.argv[1:] if argv is None else argv)
    environ = os.environ if env is None else env
    if args_in and args_in[0] in OWN_ARGUMENTS:
        status: int = import_module(SUBCOMMANDS[args_in[0]]).main(args_in[1:], environ)
        return status
    head = args_in[:args_in.index("--")] if "--" in args_in else args_in
    if "--help-config" in head:
        sys.stdout.write(config_help())
        return 0
    try:
        config, rest = parse_config_args(args_in, environ)
    except ConfigError as exc:
        print(f"asyncmsgr: error: {exc}", file=sys.stderr)
        print("asyncmsgr: see 'asyncmsgr --help-config' for the messenger options",
              file=sys.stderr)
        return 2
    first = next((a for a in rest if not a.startswith("-")), None)
    parser = build_parser(first if first in SUBCOMMANDS else None)
    try:
        args = parser.parse_args(rest)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("asyncmsgr: error: a command is required", file=sys.stderr)
        return 2
    args.config = config
    from asyncmsgr.loop import loop_policy  # noqa: PLC0415  (asyncio users only)

    with loop_policy(config):  # asyncio.run() in the subcommand: uvloop if asked and there
        status = args.func(args)
    return status


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
