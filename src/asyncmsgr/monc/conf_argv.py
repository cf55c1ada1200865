"""Configuration options on a command line, as librados's ``conf_parse_argv`` takes them.

``md_config_t::parse_argv`` (Pacific) walks the arguments up to ``--`` and takes
out what is configuration, leaving the rest (in order) for the tool:

* ``-m HOST`` / ``--mon-host``, ``-k PATH`` / ``--keyring``, ``-K PATH`` /
  ``--keyfile`` (the file's text becomes ``key``; an unreadable file is
  ignored), ``--bind`` (``public_addr``), ``-M`` / ``--monmap``, ``-r``
  (``client_mountpoint``), ``-f`` / ``--foreground`` and ``-d`` (daemon flags,
  consumed), ``--no-mon-config`` / ``--mon-config``;
* ``--NAME V``, ``--NAME=V`` for every option of Ceph's schema
  (:mod:`asyncmsgr.monc.ceph_options`) and of this project's messenger
  (``--asyncmsgr_*``), ``-`` and ``_`` alike in the name; a bool option alone
  means true, ``--NAME=true|false|1|0``, ``--no-NAME`` false; ``--default-NAME V``
  sets it too.

A value-taking option at the end of the line, or a bool with another value,
is an error whose message is Ceph's (``parse error setting 'debug_ms' to ''
(Option --debug_ms requires an argument.)``); so is ``-m`` without a host
(``Option -m requires an argument.``). Values are checked later, by whoever
reads the option.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from asyncmsgr.monc.monhost import ConfError

#: ``-x`` / ``--long`` arguments with a value -> the option they set.
_SPECIAL_WITHARG = {
    "--monmap": "monmap", "-M": "monmap",
    "--mon_host": "mon_host", "-m": "mon_host",
    "--bind": "public_addr",
    "--keyring": "keyring", "-k": "keyring",
    "--client_mountpoint": "client_mountpoint", "-r": "client_mountpoint",
}
_KEYFILE = ("--keyfile", "-K")
#: Flags consumed without setting anything a client reads.
_SPECIAL_FLAGS = frozenset({"--foreground", "-f", "-d", "--no_mon_config", "--mon_config",
                            "--show_config"})


class ArgvError(ConfError):
    """A configuration option on the command line that librados refuses."""


def _underscored(arg: str) -> str:
    """``dashes_to_underscores``: the first two characters kept, then ``-`` -> ``_``
    up to the first ``=``."""
    head, rest = arg[:2], arg[2:]
    name, eq, value = rest.partition("=")
    return head + name.replace("-", "_") + eq + value


def conf_parse_argv(args: Sequence[str], *, bool_options: frozenset[str],
                    value_options: frozenset[str],
                    read_file: Callable[[str], str | None] = lambda _path: None,
                    ) -> tuple[dict[str, str], list[str]]:
    """Take the configuration options out of ``args`` (see the module docstring).

    Returns (option name -> value, the arguments left). Raises ArgvError.
    """
    options: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        norm = _underscored(arg)
        name, eq, value = norm.partition("=")
        taken = 1
        if name in _SPECIAL_FLAGS and not eq:
            pass
        elif name in _SPECIAL_WITHARG or name in _KEYFILE:
            if not eq:
                if i + 1 >= len(args):
                    raise ArgvError(f"Option {arg} requires an argument.")
                value = args[i + 1]
                taken = 2
            if name in _KEYFILE:
                text = read_file(value)
                if text is not None:
                    options["key"] = text
            else:
                options[_SPECIAL_WITHARG[name]] = value
        elif name.startswith("--"):
            taken = _take_option(name[2:], eq, value, args, i, options,
                                 bool_options, value_options)
        else:
            taken = 0
        if taken:
            i += taken
        else:
            rest.append(arg)
            i += 1
    return options, rest


def _take_option(opt: str, eq: str, value: str, args: Sequence[str], i: int,
                 options: dict[str, str], bool_options: frozenset[str],
                 value_options: frozenset[str]) -> int:
    """``parse_option`` for ``--opt``: how many arguments it took (0: not an option)."""
    if opt.startswith("default_") and opt[8:] in (bool_options | value_options):
        target = opt[8:]
        if not eq:
            if i + 1 >= len(args):
                raise ArgvError(f"parse error setting '{target}' to '' "
                                f"(Option --default-{target} requires an argument.\n)")
            options[target] = args[i + 1]
            return 2
        options[target] = value
        return 1
    if opt in bool_options:
        if not eq or value in ("true", "1"):
            options[opt] = "true"
        elif value in ("false", "0"):
            options[opt] = "false"
        else:
            raise ArgvError(f"parse error setting '{opt}' to ''")
        return 1
    if opt.startswith("no_") and opt[3:] in bool_options and not eq:
        options[opt[3:]] = "false"
        return 1
    if opt in value_options:
        if eq:
            options[opt] = value
            return 1
        if i + 1 >= len(args):
            raise ArgvError(f"parse error setting '{opt}' to '' "
                            f"(Option --{opt} requires an argument.\n)")
        options[opt] = args[i + 1]
        return 2
    return 0


__all__ = ["ArgvError", "conf_parse_argv"]
