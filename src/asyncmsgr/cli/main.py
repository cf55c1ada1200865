"""``asyncmsgr`` command line: one subcommand per tool.

Exit codes follow the tools' conventions: 0 success, 1 a check or operation
failed, 2 usage errors (unknown option, unreadable input).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from asyncmsgr.cli import decode


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="asyncmsgr",
        description="Ceph's AsyncMessenger in Python: wire tools and benchmarks.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    decode.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
