"""Command-line parsing of ``asyncmsgr rados``, as the C++ ``rados`` tool parses.

The tool's ``main`` (``src/tools/rados/rados.cc``) does three passes, kept here:

1. ``-f FMT`` is taken out first when ``FMT`` names a formatter (``global_init``
   would otherwise read ``-f`` as "foreground");
2. ``global_init``: ``CEPH_ARGS`` and the command line go through the
   configuration layer (:func:`asyncmsgr.monc.conf.load_client_settings`: ``-c``,
   ``-k``, ``-m``, ``-n``/``--id``, ``--keyfile``, any ``--ceph_option``); the
   daemon flags ``-f``/``-d``/``--foreground`` and ``--no-mon-config`` are taken too;
3. the tool's own loop (``ceph_argparse_flag`` / ``ceph_argparse_witharg``):
   ``--name=value`` or ``--name value``, dashes and underscores alike in long
   names, ``--`` ends the options; anything else, unknown ``--options``
   included, is a positional argument (so ``rados --foo ls`` is the unknown
   command ``--foo``, as with the C++ tool).

:func:`parse_args` returns a :class:`ParsedArgs` (options by the names ``rados.cc``
keeps them in its ``opts`` map, and the positional words) or raises
:class:`ArgsError` with the line to print and the exit status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from asyncmsgr.monc.conf import ClientSettings, ConfEnv, ConfError, load_client_settings

from .rados_format import CEPH_FORMATS

#: ``ceph_argparse_flag`` options: spellings -> the ``opts`` key.
FLAGS: Mapping[str, str] = {
    "--force-full": "force-full",
    "--delete-after": "delete-after",
    "-C": "create", "--create": "create", "--create-pool": "create",
    "--pretty-format": "pretty-format",
    "--show-time": "show-time",
    "--no-cleanup": "no-cleanup",
    "--no-hints": "no-hints",
    "--reuse-bench": "reuse-bench",
    "--no-verify": "no-verify",
    "--all": "all",
    "--default": "default",
    "--write-omap": "write-dest-omap",
    "--write-object": "write-dest-obj",
    "--write-xattr": "write-dest-xattr",
    "--with-clones": "with-clones",
    "--with-reference": "with-reference",
    "--striper": "striper",
}

#: ``ceph_argparse_witharg`` options: spellings -> the ``opts`` key.
WITHARG: Mapping[str, str] = {
    "--run-name": "run-name",
    "--prefix": "prefix",
    "-p": "pool", "--pool": "pool",
    "--target-pool": "target_pool",
    "--object-locator": "object_locator",
    "--target-locator": "target_locator",
    "--target-nspace": "target_nspace",
    "-t": "concurrent-ios", "--concurrent-ios": "concurrent-ios",
    "--block-size": "block-size", "-b": "block-size",
    "--object-size": "object-size", "-O": "object-size",
    "--max-objects": "max-objects",
    "--offset": "offset",
    "-s": "snap", "--snap": "snap",
    "-S": "snapid", "--snapid": "snapid",
    "--min-object-size": "min-object-size",
    "--max-object-size": "max-object-size",
    "--min-op-len": "min-op-len",
    "--max-op-len": "max-op-len",
    "--max-ops": "max-ops",
    "--max-backlog": "max-backlog",
    "--target-throughput": "target-throughput",
    "--offset-align": "offset_align",
    "--read-percent": "read-percent",
    "--num-objects": "num-objects",
    "--run-length": "run-length",
    "--workers": "workers",
    "-f": "format", "--format": "format",
    "--lock-tag": "lock-tag",
    "--lock-cookie": "lock-cookie",
    "--lock-description": "lock-description",
    "--lock-duration": "lock-duration",
    "--lock-type": "lock-type",
    "-N": "namespace", "--namespace": "namespace",
    "-o": "output", "--output": "output",
    "--omap-key-file": "omap-key-file",
    "--input-file": "input-file",
    "--obj-name-file": "obj-name-file",
    "--pgid": "pgid",
}

#: Ceph options the configuration layer leaves to the tool (its prefixes are the
#: messenger's and mon client's): the Objecter's, handed to the client by name.
CLIENT_OPTION_PREFIXES = ("objecter_",)

#: Flags ``global_init`` takes for itself (daemon and mon-config switches).
GLOBAL_FLAGS = ("-f", "--foreground", "-d", "--no-mon-config", "--no_mon_config")


class ArgsError(Exception):
    """The command line is refused: ``message`` goes to stderr, exit ``status``."""

    def __init__(self, message: str, status: int, *, usage: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.usage = usage


@dataclass(frozen=True)
class ParsedArgs:
    """A parsed ``rados`` command line."""

    settings: ClientSettings
    """The client configuration (monitors, name, keys, Ceph options)."""
    opts: Mapping[str, str]
    """The tool's options, keyed as ``rados.cc`` keys its ``opts`` map."""
    nargs: list[str] = field(default_factory=list)
    """The command and its arguments."""
    no_mon_config: bool = False
    """``--no-mon-config`` was given (connection errors then read "couldn't connect")."""
    conf: Mapping[str, str] = field(default_factory=dict)
    """Client options the configuration layer did not take (``--objecter_*``)."""


def _long_key(token: str) -> str:
    """``ceph_argparse_cmd_equals``: ``_`` and ``-`` match each other in a long name."""
    return token.replace("_", "-") if token.startswith("--") else token


def prescan_format(args: list[str], opts: dict[str, str]) -> list[str]:
    """``rados.cc``'s first loop: take ``-f FMT`` out when ``FMT`` is a formatter."""
    for j, token in enumerate(args):
        if token == "--" or j + 1 == len(args):
            break
        if token == "-f":
            value = args[j + 1]
            if value in CEPH_FORMATS or value == "":
                opts["format"] = value
                return args[:j] + args[j + 2:]
    return args


def scan_tool_args(rest: Sequence[str], opts: dict[str, str],
                   conf: dict[str, str] | None = None) -> list[str]:
    """``rados.cc``'s option loop over what ``global_init`` left: fills ``opts``
    (and ``conf`` with ``--objecter_*`` options), returns the positional words.

    Raises:
        ArgsError: an option that takes a value came last (exit 1), or a
            positional argument followed a value starting with ``-`` (the usage).
    """
    nargs: list[str] = []
    i = 0
    tokens = list(rest)
    last_value = ""  # rados.cc's ``val``: the last option value it parsed
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "--":
            nargs.extend(tokens[i:])
            break
        head, eq, value = token.partition("=")
        key = _long_key(head)
        option = head[2:].replace("-", "_") if head.startswith("--") else ""
        if conf is not None and option.startswith(CLIENT_OPTION_PREFIXES):
            if not eq:
                if i >= len(tokens):
                    raise ArgsError(f"Option {token} requires an argument.", 1)
                value = tokens[i]
                i += 1
            conf[option] = value
            continue
        if not eq and _long_key(token) in FLAGS:
            opts[FLAGS[_long_key(token)]] = "true"
            continue
        if key in WITHARG:
            if not eq:
                if i >= len(tokens):
                    raise ArgsError(f"Option {token} requires an argument.", 1)
                value = tokens[i]
                i += 1
            opts[WITHARG[key]] = value
            last_value = value
            continue
        if last_value.startswith("-"):
            # rados.cc tests ``val[0] == '-'`` (the last option *value*) before it
            # keeps a positional argument: ``-b -5 bench`` prints the usage
            raise ArgsError("", 1, usage=True)
        nargs.append(token)
    return nargs


def parse_args(argv: Sequence[str], env: ConfEnv) -> ParsedArgs:
    """Parse a ``rados`` command line (without the program name).

    Raises:
        ArgsError: what the C++ tool refuses before connecting, with its message
            and exit status; ``usage`` set when it prints its usage.
    """
    args = list(argv)
    opts: dict[str, str] = {}
    args = prescan_format(args, opts)
    no_mon_config = False
    kept: list[str] = []
    for j, token in enumerate(args):
        if token == "--":
            kept.extend(args[j:])
            break
        if token in GLOBAL_FLAGS:
            no_mon_config = no_mon_config or token.replace("_", "-") == "--no-mon-config"
            continue
        kept.append(token)
    try:
        settings = load_client_settings(kept, env=env)
    except ConfError as exc:
        text = str(exc)
        if text.startswith("unable to open config file"):
            text = f"global_init: {text}"
        raise ArgsError(text, 1) from None
    conf: dict[str, str] = {}
    nargs = scan_tool_args(settings.rest, opts, conf)
    if not nargs:
        raise ArgsError("rados: you must give an action. Try --help", 1)
    return ParsedArgs(settings=settings, opts=opts, nargs=nargs,
                      no_mon_config=no_mon_config, conf=conf)


def wants_help(argv: Sequence[str]) -> bool:
    """``ceph_argparse_need_usage``: ``-h`` or ``--help`` before any ``--``."""
    for token in argv:
        if token == "--":
            return False
        if token in ("-h", "--help"):
            return True
    return False


USAGE = """\
usage: rados [options] [commands]
POOL COMMANDS
   lspools                          list pools
   df                               show per-pool and total usage
   ls                               list objects in pool
   mkpool <pool-name>               create pool <pool-name> (asyncmsgr; gone from Pacific's rados)
   rmpool <pool-name> [<pool-name> --yes-i-really-really-mean-it]
                                    remove pool <pool-name> (asyncmsgr; gone from Pacific's rados)

OBJECT COMMANDS
   get <obj-name> <outfile>         fetch object
   put <obj-name> <infile> [--offset offset]
                                    write object with start offset (default:0)
   append <obj-name> <infile>       append object
   truncate <obj-name> length       truncate object
   create <obj-name>                create object
   rm <obj-name> ... [--force-full] remove object(s), --force-full forces remove when @@FULL
   listxattr <obj-name>
   getxattr <obj-name> attr
   setxattr <obj-name> attr val
   rmxattr <obj-name> attr
   stat <obj-name>                  stat the named object
   stat2 <obj-name>                 stat2 the named object (with high precision time)
   touch <obj-name> [timestamp]     change the named object modification time
   bench <seconds> write|seq|rand [-t concurrent_operations] [--no-cleanup] @@BENCH
                                    default is 16 concurrent IOs and 4 MB ops
                                    default is to clean up after write benchmark
                                    default run-name is 'benchmark_last_metadata'
   cleanup [--run-name run_name] [--prefix prefix]
                                    clean up a previous benchmark operation
                                    default run-name is 'benchmark_last_metadata'
   listomapkeys <obj-name>          list the keys in the object map
   listomapvals <obj-name>          list the keys and vals in the object map @@SP
   getomapval <obj-name> <key> [file] show the value for the specified key
                                    in the object's object map
   setomapval <obj-name> <key> <val | --input-file file>
   rmomapkey <obj-name> <key>
   clearomap <obj-name> [obj-name2 obj-name3...] clear all the omap keys for the specified objects
   getomapheader <obj-name> [file]
   setomapheader <obj-name> <val>
   watch <obj-name>                 add watcher on this object
   notify <obj-name> <message>      notify watcher of this object with message

GLOBAL OPTIONS:
   --object-locator object_locator
        set object_locator for operation
   -p pool
   --pool=pool
        select given pool by name
   -f [--format json|json-pretty|xml|xml-pretty]
   --format=[--format json|json-pretty|xml|xml-pretty]
   -b op_size
        set the block size for put/get ops and for write benchmarking
   -O object_size
        set the object size for put/get ops and for write benchmarking
   --max-objects
        set the max number of objects for write benchmarking
   --input-file file
        use the content of the specified file in place of <val>
   --create
        create the pool or directory that was specified
   -N namespace
   --namespace=namespace
        specify the namespace to use for the object
   --all
        Use with ls to list objects in all namespaces
        Put in CEPH_ARGS environment variable to make this the default
   --default
        Use with ls to list objects in default namespace
        Takes precedence over --all in case --all is in environment
   -o file
   --output=file
        write ls or bench --format output to this file

BENCH OPTIONS:
   -t N
   --concurrent-ios=N
        Set number of concurrent I/O operations
   --show-time
        prefix output with date/time
   --no-verify
        do not verify contents of read objects
   --write-object
        write contents to the objects
   --write-omap
        write contents to the omap
   --write-xattr
        write contents to the extended attributes

OMAP OPTIONS:
    --omap-key-file file            read the omap key from a file

GENERIC OPTIONS:
""".replace("@@FULL", "cluster is full").replace(
    "@@BENCH", "[--run-name run_name] [--no-hints] [--reuse-bench]").replace("@@SP", "")

#: ``generic_client_usage`` (the C++ tool prints it on stdout, after its usage).
GENERIC_USAGE = """\
  --conf/-c FILE    read configuration from the given configuration file
  --id ID           set ID portion of my name
  --name/-n TYPE.ID set name
  --cluster NAME    set cluster name (default: ceph)
  --keyring/-k FILE read keys from FILE (also --keyfile FILE, --key KEY)
  -m MONADDRESS     connect to the monitors at MONADDRESS

"""

__all__ = [
    "FLAGS",
    "GENERIC_USAGE",
    "GLOBAL_FLAGS",
    "USAGE",
    "WITHARG",
    "ArgsError",
    "ParsedArgs",
    "parse_args",
    "prescan_format",
    "scan_tool_args",
    "wants_help",
]
