"""What ``ceph`` does once connected: find the command, send it, print as ``ceph`` prints.

:func:`run_connected` follows ``ceph``'s ``main()`` after ``connect()`` (Pacific
16.2.15's ``/usr/bin/ceph``), on a :class:`~asyncmsgr.cli.ceph_session.CephSession`:

1. ``-h``: ``Monitor commands:`` (or ``Tell TYPE commands:``) and the two-column
   table of the daemon's commands starting with the words given;
   ``tell TARGET help`` likewise;
2. ``-w``/``--watch-*``/``-W CHANNEL``: the status (plain), then every cluster log
   entry of the watched channel at the chosen level, until interrupted;
3. ``-i FILE`` is the command's input, ``-o FILE`` receives its output; ``-s``
   means ``status``;
4. no command: commands are read from stdin, one a line (``ceph>`` on a
   terminal);
5. the target (``tell osd.0``, ``tell mon.a``, ``tell mgr``, ``tell 1.0``,
   ``pg 1.0 ...``, a ``*`` for every daemon of a type, else the monitors), its
   ``get_command_descriptions``, the command matched against them
   (:mod:`asyncmsgr.cli.ceph_args`; ``--format`` added), sent where the target
   or the description's MGR flag says; a polling command (``iostat``) repeats
   every ``--period`` seconds;
6. the output exactly as ``ceph`` writes it: the daemon's bytes as they are (a
   blank line first with a JSON format; ``mon.a: `` before each with several
   targets), the status text to stderr, ``Error ENAME: text`` and the errno as
   exit status when ``r`` is negative.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from typing import Any, BinaryIO, Protocol, TextIO

from asyncmsgr.cli import ceph_args as ca
from asyncmsgr.cli.ceph_session import CephSession
from asyncmsgr.messages import LogEntry
from asyncmsgr.monc.common import CommandResult, MonAuthError, MonTimeout
from asyncmsgr.record import MutableRecord
from asyncmsgr.types import UTime


class ToolOptions(MutableRecord):
    """The tool's own options (``parse_cmdargs``), as the flow reads them."""

    help: bool
    status: bool
    watch: bool
    watch_channel: str | None
    watch_levels: dict[str, bool]
    output_format: str | None
    input_file: str | None
    output_file: str | None
    period: float
    completion: bool
    program: str
    injectargs: list[str] | None
    """``injectargs`` and what followed it (a tell's command, kept from librados)."""

    __slots__ = ("completion", "help", "injectargs", "input_file", "output_file",
                 "output_format", "period", "program", "status", "watch", "watch_channel",
                 "watch_levels")

    def __init__(self, *, help: bool = False, status: bool = False,
                 watch: bool = False, watch_channel: str | None = None,
                 watch_levels: dict[str, bool] | None = None,
                 output_format: str | None = None, input_file: str | None = None,
                 output_file: str | None = None, period: float = 1.0,
                 completion: bool = False, program: str = "ceph") -> None:
        self.help = help
        self.status = status
        self.watch = watch
        self.watch_channel = watch_channel
        self.watch_levels = {} if watch_levels is None else watch_levels
        self.output_format = output_format
        self.input_file = input_file
        self.output_file = output_file
        self.period = period
        self.completion = completion
        self.program = program
        self.injectargs: list[str] | None = None


class Output:
    """stdout as ``ceph`` uses it: text with ``print`` and the daemons' bytes raw
    (to the binary buffer when the stream has one). A reader that went away
    (EPIPE: ``| head``) is ignored, as ``ceph`` ignores it; :attr:`broken` says so."""

    def __init__(self, text: TextIO) -> None:
        self.text = text
        self.broken = False

    def write(self, s: str) -> None:
        """Text, as ``print(..., end="")``."""
        try:
            self.text.write(s)
        except BrokenPipeError:
            self.broken = True

    def raw(self, data: bytes) -> None:
        """Bytes as they are (``raw_write``)."""
        buffer: BinaryIO | None = getattr(self.text, "buffer", None)
        try:
            if buffer is not None:
                self.text.flush()
                buffer.write(data)
                buffer.flush()
            else:
                self.text.write(data.decode("utf-8", "surrogateescape"))
        except BrokenPipeError:
            self.broken = True

    def flush(self) -> None:
        """Flush what was written."""
        try:
            self.text.flush()
        except BrokenPipeError:
            self.broken = True


def terminal_size() -> tuple[int, int]:
    """(rows, columns) of the terminal on stdin, (25, 80) without one (``Termsize``)."""
    try:
        size = os.get_terminal_size(sys.stdin.fileno())
    except (OSError, ValueError, AttributeError):
        return 25, 80
    return size.lines, size.columns


def format_stamp(stamp: UTime, tz_offset: int | None = None) -> str:
    """``utime_t``'s ``operator<<``: ``2024-01-02T03:04:05.123456+0000`` in local
    time (``tz_offset``: seconds east of UTC; default the local zone's then)."""
    if tz_offset is None:
        tm = time.localtime(stamp.sec)
        tz_offset = tm.tm_gmtoff
    else:
        tm = time.gmtime(stamp.sec + tz_offset)
    sign = "-" if tz_offset < 0 else "+"
    minutes = abs(tz_offset) // 60
    return (time.strftime("%Y-%m-%dT%H:%M:%S", tm) + f".{stamp.nsec // 1000:06d}"
            + f"{sign}{minutes // 60:02d}{minutes % 60:02d}")


def watch_line(entry: LogEntry, tz_offset: int | None = None) -> str:
    """What ``ceph -w`` prints for a cluster log entry (``RadosClient::handle_log``):
    ``STAMP NAME [PRIO] MESSAGE``."""
    return f"{format_stamp(entry.stamp, tz_offset)} {entry.name} {entry.prio_name} {entry.msg}"


def _hdr(out: Output, s: str) -> None:
    """``hdr()``: ``print('\\n', s, '\\n', '=' * len(s))``."""
    out.write(f"\n {s} \n {'=' * len(s)}\n")


def _errname(code: int) -> str:
    return errno.errorcode.get(code, "Unknown")


class Flow:
    """One run of the tool's command part (see the module docstring)."""

    def __init__(self, session: CephSession, opts: ToolOptions, out: Output, err: TextIO,
                 *, timeout: float | None = None) -> None:
        self.session = session
        self.opts = opts
        self.out = out
        self.err = err
        self.timeout = timeout
        """Per-command timeout (``rados_mon_op_timeout``; None: none)."""

    def say(self, *parts: object) -> None:
        """``print(..., file=sys.stderr)``."""
        print(*parts, file=self.err)

    # -- sending ----------------------------------------------------------------------

    def send(self, target: ca.Target, cmd: dict[str, Any], inbuf: bytes = b"",
             timeout: float | None = None) -> CommandResult:
        """``json_command``: the command as JSON to the target (a ``target`` field
        redirects it: ``mon-mgr`` for the manager; an OSD target drops it)."""
        cmddict = dict(cmd)
        kind, ident = cmd.get("target", target)
        if kind == "osd":
            name = cmddict.pop("target", f"osd.{ident}")
            with contextlib.suppress(ca.ArgumentError):
                ident = ca.parse_name(str(name))[1]
        text = json.dumps(cmddict)
        limit = self.timeout if timeout is None else timeout
        try:
            return self._send(kind, ident, cmddict, text, inbuf, limit)
        except MonTimeout:  # rados_mon_op_timeout: what librados returns then
            if kind in ("mgr", "mon-mgr"):
                return CommandResult(errno.ETIMEDOUT, "", b"")  # positive, as mgr_command
            return CommandResult(-errno.ETIMEDOUT, "", b"")
        except MonAuthError as exc:
            return CommandResult(exc.result, str(exc), b"")

    def _send(self, kind: str | None, ident: str | int | None, cmddict: dict[str, Any],
              text: str, inbuf: bytes, limit: float | None) -> CommandResult:
        s = self.session
        if kind == "osd":
            if not isinstance(ident, int):
                raise ca.ArgumentValid(f"osd id {ident} is not an integer")
            return s.osd_command(ident, text, inbuf, timeout=limit)
        if kind == "mgr":  # a tell (MCommand with the fsid), to any active one without a name
            name = "" if ident is None else str(ident)
            return s.mgr_command(text, inbuf, tell=True, name=name, timeout=limit)
        if kind == "mon-mgr":
            return s.mgr_command(text, inbuf, timeout=limit)
        if kind == "pg":
            if "pgid" not in cmddict:
                cmddict["pgid"] = ident
                text = json.dumps(cmddict)
            return s.pg_command(str(ident), text, inbuf, timeout=limit)
        if kind == "mon":
            name = "" if ident in ("", None) else str(ident)
            return s.mon_command(text, inbuf, name=name, timeout=limit)
        raise ca.ArgumentValid(f"Bad target type '{kind}'")

    def descriptions(self, target: ca.Target,
                     timeout: float | None = None) -> tuple[int, dict[str, ca.Command] | str]:
        """``get_command_descriptions`` of a target: (0, commands) or (r, why)."""
        res = self.send(target, {"prefix": "get_command_descriptions"}, timeout=timeout)
        if res.r:
            return res.r, res.rs
        return 0, ca.parse_descriptions(res.outbuf)

    def ids_by_service(self, service: str | None) -> list[str]:
        """The daemons a ``*`` target means (``osd ls``, ``mon dump``, the active
        manager, ``fs dump``)."""
        if service == "osd":
            res = self.send(("mon", ""), {"prefix": "osd ls"})
            if res.r:
                raise RuntimeError("Can't contact mon for osd list")
            return [line.decode() for line in res.outbuf.split(b"\n") if line]
        if service == "mon":
            res = self.send(("mon", ""), {"prefix": "mon dump", "format": "json"})
            if res.r:
                raise RuntimeError("Can't contact mon for mon list")
            return [str(m["name"]) for m in res.json()["mons"]]
        if service == "mgr":
            res = self.send(("mon", ""), {"prefix": "mgr dump", "format": "json"})
            if res.r:
                raise RuntimeError("Can't contact mon for mgr list")
            return [str(res.json()["active_name"])]
        if service == "mds":
            res = self.send(("mon", ""), {"prefix": "fs dump", "format": "json"})
            if res.r:
                raise RuntimeError("Can't contact mon for mds list")
            d = res.json()
            names = [str(i["name"]) for i in d["standbys"]]
            for fs in d["filesystems"]:
                names.extend(str(i["name"]) for i in fs["mdsmap"]["info"].values())
            return names
        raise KeyError(service)

    # -- help ----------------------------------------------------------------------------

    def extended_help(self, target: ca.Target, partial: str | None) -> int:
        """The daemon's command table (``do_extended_help``)."""
        ret, got = self.descriptions(target, timeout=10)
        if ret:
            kind = target[0]
            if ret in (-errno.EPERM, -errno.EACCES) and kind in ("osd", "mds"):
                self.say("Permission denied.  Check that your user has 'allow *' "
                         "capabilities for the target daemon type.")
            elif ret == -errno.EPERM:
                self.say("Permission denied.  Check your user has proper "
                         "capabilities configured")
            else:
                self.say(f"couldn't get command descriptions for {target}: {got} ({ret})")
            return ret
        assert isinstance(got, dict)
        self.out.write(ca.format_help(got, columns=terminal_size()[1], partial=partial))
        return 0

    def validate_target(self, target: list[str]) -> bool:
        """Does ``tell TYPE.ID`` name a daemon that exists (``validate_target``)?"""
        if len(target) == 2:
            service, ident = target
            try:
                ids = self.ids_by_service(service)
            except KeyError:
                self.say(f"WARN: {service} is not a legal service name, should be one of "
                         "mon/osd/mds/mgr")
                return False
            if ident in ids or (ids and ident == "*"):
                return True
            self.say("WARN: the service id you provided does not exist. service id should "
                     f"be one of {'/'.join(ids)}.")
            return False
        if len(target) == 1 and target[0] in ("mgr", "mon"):
            return True
        self.say(f'WARN: "{".".join(target)}" is not a legal target. it should be one of '
                 "mon.<id>/osd.<int>/mds.<id>/mgr")
        return False

    def help(self, childargs: list[str]) -> int:
        """``ceph -h [words]`` after the general usage: the monitors' (or a tell
        target's) commands."""
        if len(childargs) >= 2 and childargs[0] == "tell":
            parts = childargs[1].split(".", 1)
            if not self.validate_target(parts):
                self.say(f"target {childargs[1]} doesn't exist; please pass correct target "
                         "to tell command (e.g., mon.a, osd.1, mds.a, mgr)")
                return 1
            _hdr(self.out, f"Tell {parts[0]} commands:")
            rest = childargs[2:]
            return self.extended_help(_as_target(parts), " ".join(rest))
        _hdr(self.out, "Monitor commands:")
        return self.extended_help(("mon", ""), " ".join(childargs))

    # -- watching -------------------------------------------------------------------------

    def watch(self, level: str) -> int:
        """``ceph -w``: the status, then the log entries of the watched channel."""
        res = self.send(("mon", ""), {"prefix": "status"})
        if res.r:
            self.say("status query failed: ", res.rs)
            return res.r
        self.out.write(res.outbuf.decode("utf-8", "surrogateescape") + "\n")
        self.out.flush()
        channel = self.opts.watch_channel

        def on_entry(entry: LogEntry) -> None:
            if channel in (entry.channel, "*"):
                self.out.write(watch_line(entry) + "\n")
                self.out.flush()

        try:
            self.session.watch(level, on_entry)
        except KeyboardInterrupt:
            return 0
        return 0

    # -- one command ----------------------------------------------------------------------

    def do_command(self, target: ca.Target, childargs: list[str],
                   commands: dict[str, ca.Command], inbuf: bytes) -> tuple[int, bytes, str]:
        """Validate, send (repeating a polling command), -> (r, outbuf, outs)."""
        v = ca.validate_command(commands, childargs)
        for line in v.messages:
            self.say(line)
        if not v.args:
            return -errno.EINVAL, b"", "invalid command"
        valid: dict[str, Any] = dict(v.args)
        if self.opts.output_format:
            valid["format"] = self.opts.output_format
        poll = bool(valid.get("poll", False))
        if poll:
            valid["width"] = terminal_size()[1]
        next_header = 0
        while True:
            try:
                if next_header == 0 and poll:
                    valid["print_header"] = True
                    next_header = terminal_size()[0] - 3
                next_header -= 1
                res = self.send(target, valid, inbuf)
                ret, outbuf, outs = res.r, res.outbuf, res.rs
                if poll:
                    valid["print_header"] = False
                else:
                    break
                if ret:
                    ret = abs(ret)
                    self.say(f"Error: {ret} {_errname(ret)}")
                    break
                if outbuf:
                    self.out.write(outbuf.decode("utf-8", "surrogateescape") + "\n")
                if outs:
                    self.say(outs)
                if self.opts.period <= 0:
                    break
                time.sleep(self.opts.period)
            except KeyboardInterrupt:
                self.out.write("Interrupted\n")
                return errno.EINTR, b"", ""
        if ret == errno.ETIMEDOUT:
            ret = -ret
            if not outs:
                outs = ("Connection timed out. Please check the client's "
                        "permission and connection.")
        return ret, outbuf, outs

    def interactive(self, commands: dict[str, ca.Command],
                    inbuf: bytes) -> tuple[int, bytes, str]:
        """No command given: read them from stdin, one a line (``ceph>`` prompts on
        a terminal; ``q``, ``quit``, ``exit`` or the end of input stop)."""
        from asyncmsgr.cli.ceph_toolargs import ArgsExit, parse_tool_args  # noqa: PLC0415

        tty = sys.stdin.isatty()
        while True:
            try:
                line = self._read_line(tty)
            except EOFError:
                return 0, b"\n", ""
            if line is None:
                return 0, b"", ""
            try:
                words = parse_tool_args(shlex.split(line), self.out.text, self.err)[1]
                target = ca.find_cmd_target(words)
            except (ValueError, ArgsExit, ca.ArgumentError) as exc:
                self.say(f"error handling command target: {exc}")
                continue
            if words and words[0] == "tell":
                self.say("Can not use 'tell' in interactive mode.")
                continue
            ret, outbuf, outs = self.do_command(target, words, commands, inbuf)
            if ret < 0:
                self.say(f"Error {_errname(-ret)}: {outs}")
            else:
                if outs:
                    self.say(outs)
                if outbuf:
                    self.out.write(outbuf.decode("utf-8", "surrogateescape") + "\n")
            self.out.flush()

    def _read_line(self, tty: bool) -> str | None:
        """The next non-empty command line (``read_input``); None to stop."""
        while True:
            if tty:
                line = input("ceph> ").rstrip()
                if line in ("q", "quit", "Q", "exit"):
                    return None
            else:
                raw = sys.stdin.readline()
                if not raw:
                    return None
                line = raw.rstrip()
            if line:
                return line

    def run(self, childargs: list[str]) -> int:
        """Everything after ``connect()`` (see the module docstring)."""
        opts = self.opts
        if opts.help:
            return self.help(childargs)
        if len(childargs) >= 3 and childargs[0] == "tell" and childargs[2] == "help":
            parts = childargs[1].split(".", 1)
            if self.validate_target(parts):
                _hdr(self.out, f"Tell {parts[0]} commands")
                return self.extended_help(_as_target(parts), None)
            self.say(f"target {childargs[1]} doesn't exists, please pass correct target to "
                     "tell command, such as mon.a/osd.1/mds.a/mgr")
            return 1
        level = watch_level(opts)
        if level:
            return self.watch(level)
        inbuf = b""
        if opts.input_file:
            try:
                if opts.input_file == "-":
                    inbuf = sys.stdin.buffer.read()
                else:
                    with open(opts.input_file, "rb") as f:
                        inbuf = f.read()
            except OSError as exc:
                self.say(f"Can't open input file {opts.input_file}: {exc}")
                return 1
        outf: _ByteSink | None = None
        if opts.output_file:
            try:
                outf = (_StdoutBytes(self.out) if opts.output_file == "-"
                        else open(opts.output_file, "wb"))  # noqa: SIM115  (closed below)
            except OSError as exc:
                self.say(f"Can't open output file {opts.output_file}: {exc}")
                return 1
        try:
            return self._run_targets(childargs, inbuf, outf)
        finally:
            if outf is not None and opts.output_file != "-":
                outf.close()

    def _run_targets(self, childargs: list[str], inbuf: bytes, outf: _ByteSink | None) -> int:
        opts = self.opts
        if opts.status:
            childargs.insert(0, "status")
        try:
            target = ca.find_cmd_target(childargs)
        except ca.ArgumentError as exc:
            self.say(f"error handling command target: {exc}")
            return 1
        if childargs and childargs[0] == "tell":
            childargs = childargs[2:]
            if opts.injectargs:
                childargs = list(opts.injectargs)
            if not childargs:
                self.say(f'"{opts.program} tell" requires additional arguments.',
                         f'Try "{opts.program} tell <name> <command> [options...]" instead.')
                return errno.EINVAL
        if target[1] == "*":
            targets: list[ca.Target] = [(target[0], ident)
                                        for ident in self.ids_by_service(target[0])]
        else:
            targets = [target]
        final = 0
        for one in targets:
            prefix = suffix = ""
            if not opts.output_file and len(targets) > 1:
                prefix, suffix = f"{one[0]}.{one[1]}: ", "\n"
            ret, got = self.descriptions(_typed_target(one))
            outbuf = b""
            if ret:
                if ret > 0:
                    raise RuntimeError(f"Unexpected return code from {one[0]}.{one[1]}: {ret}")
                outs = f"problem getting command descriptions from {one[0]}.{one[1]}"
            else:
                assert isinstance(got, dict)
                if opts.completion:
                    self.out.write(ca.complete(got, childargs))
                    return 0
                if childargs:
                    ret, outbuf, outs = self.do_command(_typed_target(one), list(childargs),
                                                        got, inbuf)
                else:
                    ret, outbuf, outs = self.interactive(got, inbuf)
            self.out.flush()
            if outf is not None:
                outf.write(outbuf)
            else:
                fmt = opts.output_format
                if fmt and fmt.startswith("json"):
                    self.out.write("\n")
                if suffix:
                    outbuf = outbuf.rstrip()
                if outbuf:
                    self.out.write(prefix)
                    self.out.raw(outbuf)
                    self.out.write(suffix)
            self.out.flush()
            if ret < 0:
                ret = -ret
                self.say(f"Error {_errname(ret)}: {outs}")
                final = ret
            elif outs:
                self.say(prefix + outs)
        return final


class _ByteSink(Protocol):
    def write(self, data: bytes, /) -> int: ...

    def close(self) -> None: ...


class _StdoutBytes:
    """``-o -``: the output file is stdout's binary buffer."""

    def __init__(self, out: Output) -> None:
        self._out = out

    def write(self, data: bytes) -> int:
        self._out.raw(data)
        return len(data)

    def close(self) -> None:
        self._out.flush()


def _as_target(parts: Sequence[str]) -> ca.Target:
    """``TYPE.ID`` split -> a target as ``tell`` help uses it (osd ids as ints)."""
    kind = parts[0]
    ident = parts[1] if len(parts) > 1 else None
    if kind == "osd" and ident is not None and ident.isdigit():
        return kind, int(ident)
    return kind, ident if ident is not None else ("" if kind == "mon" else None)


def _typed_target(target: ca.Target) -> ca.Target:
    """A ``*`` expansion gives ids as text: OSD ids are numbers."""
    kind, ident = target
    if kind == "osd" and isinstance(ident, str) and ident.isdigit():
        return kind, int(ident)
    return target


def watch_level(opts: ToolOptions) -> str:
    """The level ``ceph`` watches at: the last set of ``--watch``, ``--watch-debug``,
    ``--watch-error``, ``--watch-info``, ``--watch-sec``, ``--watch-warn`` in that
    (alphabetical) order; ``-w`` alone means info; ``""`` when not watching."""
    level = ""
    if opts.watch:
        level = "info"
    for name in ("debug", "error", "info", "sec", "warn"):
        if opts.watch_levels.get(name):
            level = name
    return level


def run_connected(session: CephSession, opts: ToolOptions, childargs: list[str],
                  out: TextIO, err: TextIO, *, timeout: float | None = None) -> int:
    """The command part of ``ceph`` on a connected session; its exit status.

    When stdout's reader went away, stdout is pointed at ``/dev/null`` so that
    nothing complains when the interpreter flushes it at exit."""
    output = Output(out)
    try:
        return Flow(session, opts, output, err, timeout=timeout).run(childargs)
    finally:
        if output.broken and out is sys.stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


__all__ = ["Flow", "Output", "ToolOptions", "format_stamp", "run_connected", "terminal_size",
           "watch_level", "watch_line"]
