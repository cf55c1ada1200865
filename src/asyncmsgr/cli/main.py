"""``asyncmsgr`` command line: one subcommand per tool.

Every subcommand accepts Ceph-style messenger options anywhere on its command
line (``--ms_async_op_threads=2``, ``--ms-async-op-threads 2``,
``--asyncmsgr_embedded=false``) and from ``CEPH_ARGS``; they are taken out
before argparse sees the rest and handed to the subcommand as ``args.config``
(a :class:`~asyncmsgr.config.MessengerConfig`). ``asyncmsgr --help-config``
lists them.

Exit codes follow the tools' conventions: 0 success, 1 a check or operation
failed, 2 usage errors (unknown option, unreadable input).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from asyncmsgr.config import ConfigError, config_help, parse_config_args

_EPILOG = ("Messenger options such as --ms_async_op_threads=2 or --asyncmsgr_embedded=false "
           "are accepted by every command (also from CEPH_ARGS); "
           "see 'asyncmsgr --help-config'.")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="asyncmsgr",
        description="Ceph's AsyncMessenger in Python: wire tools and benchmarks.",
        epilog=_EPILOG,
    )
    parser.add_argument("--help-config", action="store_true",
                        help="list the messenger options (--ms_*, --asyncmsgr_*) and exit")
    # Imported here so that ``asyncmsgr ceph`` starts without the benchmark and
    # stress machinery (start-up time is part of its performance target).
    from asyncmsgr.cli import bench, ceph, decode, stress  # noqa: PLC0415

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    decode.register(sub)
    bench.register(sub)
    stress.register(sub)
    ceph.register(sub)
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run the command line; returns the process exit status.

    Args:
        argv: the arguments after the program name (default ``sys.argv[1:]``).
        env: the environment read for ``CEPH_ARGS`` (default ``os.environ``).
    """
    args_in = list(sys.argv[1:] if argv is None else argv)
    environ = os.environ if env is None else env
    if args_in[:1] == ["ceph"]:  # Ceph's own argument rules (ceph.conf, -c, -m, -k ...)
        from asyncmsgr.cli import ceph  # noqa: PLC0415  (start-up time, see above)

        return ceph.main(args_in[1:], environ)
    if args_in[:1] == ["rados"]:  # the rados tool's own argument rules
        return __import__("asyncmsgr.cli.rados", fromlist=["main"]).main(args_in[1:], environ)
    if args_in[:1] == ["osdmaptool"]:  # osdmaptool's own argument rules
        from asyncmsgr.cli import osdmaptool  # noqa: PLC0415  (start-up time, see above)

        return osdmaptool.main(args_in[1:])
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
    parser = build_parser()
    try:
        args = parser.parse_args(rest)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("asyncmsgr: error: a command is required", file=sys.stderr)
        return 2
    args.config = config
    status: int = args.func(args)
    return status


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
