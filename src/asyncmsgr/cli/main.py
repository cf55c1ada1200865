"""``asyncmsgr`` command line: one subcommand per tool.

Every subcommand accepts Ceph-style options anywhere on its command line
(``--ms_async_op_threads=2``, ``--ms-async-op-threads 2``,
``--asyncmsgr_embedded=false``, ``--debug_ms 1/5``, ``--log-file F``,
``--admin_socket PATH``, ``--asyncmsgr_prometheus_addr HOST:PORT``) and from
``CEPH_ARGS``; they are taken out before argparse sees the rest and handed to
the subcommand as ``args.config`` (a :class:`~asyncmsgr.config.MessengerConfig`,
with a tool's defaults: ``log_to_stderr`` and ``err_to_stderr`` true). The run
has one :class:`~asyncmsgr.context.Context` (``args.context``, named
``client.admin``) shared by every messenger the subcommand makes: it configures
logging (:mod:`asyncmsgr.log`) and serves the admin socket and the metrics
endpoint while the subcommand runs. ``asyncmsgr --help-config`` lists the
options. Event loops run on uvloop when it is installed and
``asyncmsgr_use_uvloop`` is true (off by default; see :mod:`asyncmsgr.loop`).

Subcommands live in their own modules, imported only when run (start-up time is
most of a one-shot command's wall time): :data:`SUBCOMMANDS` maps each name to
its module, which has ``register(subparsers)`` (argparse, with a
``func(args) -> int`` default) or, for a tool that parses its arguments the way
Ceph's tools do (:data:`OWN_ARGUMENTS`), ``main(argv, environ) -> int``.

Exit codes follow the tools' conventions: 0 success, 1 a check or operation
failed, 2 usage errors (unknown option, unreadable input), 130 interrupted
(Ctrl-C, with what was measured so far where a tool has it), 141 when stdout
was closed early (``asyncmsgr decode X | head -1``: nothing more is written, as
a program killed by SIGPIPE).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from importlib import import_module
from typing import TYPE_CHECKING

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
#: Of those, the tools that read no ceph.conf (Ceph's ``global_init`` only takes
#: the options from the command line and ``CEPH_ARGS``): the options are taken
#: out here (logging configured from them) and the rest handed to the tool.
CONFIG_ONLY_TOOLS = frozenset({"osdmaptool"})
#: The exit status of an interrupted run (128 + SIGINT) and of a closed stdout
#: (128 + SIGPIPE).
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
#: Shells ``--print-completion`` writes a script for (``asyncmsgr[completion]``).
COMPLETION_SHELLS = ("bash", "zsh", "tcsh")

_EPILOG = ("Ceph options such as --ms_async_op_threads=2, --asyncmsgr_embedded=false, "
           "--debug_ms=1/5, --log_file=PATH, --admin_socket=PATH or "
           "--asyncmsgr_prometheus_addr=HOST:PORT are accepted by every command (also from "
           "CEPH_ARGS); see 'asyncmsgr --help-config'.")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered (or only ``only``)."""
    import argparse  # noqa: PLC0415  (not needed by the OWN_ARGUMENTS tools)

    from asyncmsgr import __version__  # noqa: PLC0415

    parser = argparse.ArgumentParser(
        prog="asyncmsgr",
        description="Ceph's AsyncMessenger in Python: wire tools and benchmarks.",
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"asyncmsgr {__version__}")
    parser.add_argument("--help-config", action="store_true",
                        help="list the Ceph options every command takes (--ms_*, --debug_*, "
                             "--log_*, --admin_socket, --asyncmsgr_*) and exit")
    parser.add_argument("--print-completion", choices=COMPLETION_SHELLS, metavar="SHELL",
                        help="print a shell completion script (bash, zsh, tcsh; needs "
                             "asyncmsgr[completion]) and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in SUBCOMMANDS.items():
        if only is None or name == only:
            import_module(module).register(sub)
    return parser


def completion_script(shell: str) -> str:
    """A completion script for ``shell`` made by ``shtab`` from the parsers.

    Raises:
        ImportError: ``shtab`` is not installed (``pip install asyncmsgr[completion]``).
    """
    import shtab  # noqa: PLC0415  (optional extra, only for this)

    script: str = shtab.complete(build_parser(), shell=shell)
    return script


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run the command line; returns the process exit status.

    Args:
        argv: the arguments after the program name (default ``sys.argv[1:]``).
        env: the environment read for ``CEPH_ARGS`` (default ``os.environ``).
    """
    from asyncmsgr import log as ceph_log  # noqa: PLC0415

    args_in = list(sys.argv[1:] if argv is None else argv)
    environ = os.environ if env is None else env
    ceph_log.use_tool_defaults()
    if args_in[:1] == ["--version"]:  # before any parser is built: start-up time
        from asyncmsgr import __version__  # noqa: PLC0415

        print(f"asyncmsgr {__version__}")
        return 0
    if args_in and args_in[0] in OWN_ARGUMENTS:
        # Ceph's tools log their level 0 and -1 lines to stderr until their own
        # configuration (ceph.conf, --debug_*) says otherwise.
        ceph_log.configure(ceph_log.LogSettings.from_options({}))
        tool_args: list[str] | None = args_in[1:]
        if args_in[0] in CONFIG_ONLY_TOOLS:
            tool_args = _take_config_options(args_in[1:], environ)
        if tool_args is None:
            return 2
        status: int = import_module(SUBCOMMANDS[args_in[0]]).main(tool_args, environ)
        return status
    head = args_in[:args_in.index("--")] if "--" in args_in else args_in
    if "--help-config" in head:
        from asyncmsgr.config import config_help  # noqa: PLC0415

        sys.stdout.write(config_help())
        return 0
    shell = _completion_request(head)
    if shell is not None:
        return _print_completion(shell)
    from asyncmsgr.config import ConfigError, default_config, parse_config_args  # noqa: PLC0415

    try:
        config, rest = parse_config_args(args_in, environ, base=default_config())
    except ConfigError as exc:
        print(f"asyncmsgr: error: {exc}", file=sys.stderr)
        print("asyncmsgr: see 'asyncmsgr --help-config' for the options", file=sys.stderr)
        return 2
    rest = join_negative_values(rest)
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
    from asyncmsgr.context import Context, set_process_context  # noqa: PLC0415
    from asyncmsgr.loop import loop_policy  # noqa: PLC0415  (asyncio users only)

    args.config = config
    args.context = Context(config, name="client.admin", source="cmdline", tool=True)
    set_process_context(args.context)  # messengers made deep inside join it
    handlers = _signal_handlers()
    try:
        with args.context, loop_policy(config):  # asyncio.run() in the subcommand:
            status = args.func(args)              # uvloop if asked and there
    finally:
        set_process_context(None)
        _restore_signal_handlers(handlers)
    return status


_SIGNALS = ("SIGINT", "SIGTERM")


def _signal_handlers() -> dict[int, object]:
    """The process's SIGINT/SIGTERM handlers (main thread only)."""
    import signal  # noqa: PLC0415

    if _is_main_thread():
        return {int(getattr(signal, n)): signal.getsignal(getattr(signal, n)) for n in _SIGNALS}
    return {}


def _restore_signal_handlers(handlers: Mapping[int, object]) -> None:
    """Put back what :func:`_signal_handlers` saw: a subcommand's event loop may have
    left its own (a closed uvloop loop keeps them), which would swallow Ctrl-C for
    the rest of a program that called :func:`main`."""
    import signal  # noqa: PLC0415

    for signum, handler in handlers.items():
        if handler is not None and signal.getsignal(signum) is not handler:
            signal.signal(signum, handler)  # type: ignore[arg-type]


def _is_main_thread() -> bool:
    """Whether this is the main thread (signal handlers can only be set there)."""
    import threading  # noqa: PLC0415

    return threading.current_thread() is threading.main_thread()


def _take_config_options(argv: Sequence[str], environ: Mapping[str, str]) -> list[str] | None:
    """``argv`` without its Ceph options (``--debug_crush 20``, ``--log-file F``),
    logging configured from them; None (after a message) for a bad one."""
    from asyncmsgr import log as ceph_log  # noqa: PLC0415
    from asyncmsgr.config import ConfigError, parse_config_args  # noqa: PLC0415

    try:
        config, rest = parse_config_args(argv, environ)
    except ConfigError as exc:
        print(f"asyncmsgr: error: {exc}", file=sys.stderr)
        return None
    given = config.diff()
    if ceph_log.given(given):
        ceph_log.configure(ceph_log.LogSettings.from_options(given, tool=True))
    return rest


def join_negative_values(args: Sequence[str]) -> list[str]:
    """``--size -4K`` as ``--size=-4K``: argparse takes ``-1`` as a value but
    ``-4K`` as an unknown option, so a negative size would get two different
    errors; joined, the option's own check words both alike."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else ""
        if (arg.startswith("--") and "=" not in arg and len(nxt) > 1 and nxt[0] == "-"
                and (nxt[1].isdigit() or nxt[1] == ".")):
            out.append(f"{arg}={nxt}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def _completion_request(head: Sequence[str]) -> str | None:
    for i, arg in enumerate(head):
        if arg == "--print-completion":
            return head[i + 1] if i + 1 < len(head) else ""
        if arg.startswith("--print-completion="):
            return arg.partition("=")[2]
    return None


def _print_completion(shell: str) -> int:
    if shell not in COMPLETION_SHELLS:
        print(f"asyncmsgr: error: --print-completion: choose from "
              f"{', '.join(COMPLETION_SHELLS)}", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(completion_script(shell))
    except ImportError:
        print("asyncmsgr: error: shell completion needs shtab "
              "(pip install 'asyncmsgr[completion]')", file=sys.stderr)
        return 1
    return 0


def entry() -> None:
    """Console-script entry point: the exit status of :func:`main`; Ctrl-C and a
    closed stdout end the program with one line (or none) instead of a traceback."""
    try:
        status = main()
        sys.stdout.flush()
    except KeyboardInterrupt:
        print("asyncmsgr: interrupted", file=sys.stderr)
        status = EXIT_INTERRUPTED
    except BrokenPipeError:
        status = EXIT_BROKEN_PIPE
    except Exception:
        from asyncmsgr import log as ceph_log  # noqa: PLC0415

        ceph_log.dump_recent()  # as Ceph does on a crash, then the traceback
        raise
    if status == EXIT_BROKEN_PIPE or _stdout_broken():
        # Python flushes stdout again at exit: point it at /dev/null first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = EXIT_BROKEN_PIPE
    sys.exit(status)


def _stdout_broken() -> bool:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):
        return False
    return False


if __name__ == "__main__":
    entry()
