"""``ceph.conf`` files, client arguments and ``mon_host``, as Ceph Pacific reads them.

Sans-I/O: no sockets, clocks or DNS. Reading files, the environment, the host
name and the home directory go through a :class:`ConfEnv` (default
:meth:`ConfEnv.from_os`), and host names in ``mon_host`` stay unresolved until
:meth:`ClientSettings.resolve_mons` is given a resolver.

Behaviour checked against Pacific 16.2.15's ``ceph-conf`` and ``monmaptool``
(``tests/interop/test_ceph_conf_oracle.py``):

* **Files** (``ConfUtils``): ``[section]`` headers taken verbatim (``[ mon ]`` is
  not ``[mon]``); ``key = value`` lines; ``#`` and ``;`` start a comment at the
  start of a line, after a header and after an unquoted value; a backslash
  escapes the next character (``a\\#b`` is ``a#b``) and at the end of a line joins
  the next line. Keys are trimmed and each run of blanks becomes one ``_``
  (``mon  host`` is ``mon_host``); **dashes are not** turned into underscores in a
  file (Pacific ignores ``mon-host = ...`` in ``ceph.conf``; on the command line
  ``--mon-host`` works). Values are trimmed; a quoted value keeps its blanks,
  honours ``\\"`` and may not contain ``#`` or ``;`` (Pacific refuses it), and only
  a comment may follow it. A key set twice keeps the last value; a section opened
  twice is merged. Lines before the first header belong to ``[global]``.
  Unlike Pacific, a last line without a newline is accepted.
* **Lookup** for ``type.id``: ``[type.id]``, then ``[type]``, then ``[global]``.
* **Metavariables**: ``$cluster``, ``$type``, ``$id``, ``$name``, ``$host``,
  ``$pid``, ``$home`` and any option name (``$run_dir``), also as ``${var}``; the
  longest ``[A-Za-z0-9_]`` run is the name, so ``$cluster_x`` is not
  ``$cluster`` + ``_x`` and stays as is, as any unknown name does. An expansion
  loop leaves the value unexpanded.
* **Arguments** (``ceph_argparse``): ``CEPH_ARGS`` is read first, so the command
  line wins; both beat the file. ``-c/--conf`` lists files (commas or blanks),
  the first existing one is read and a missing list is an error; without ``-c``,
  ``CEPH_CONF`` or the default search path is used and a missing file is not an
  error. Without ``--cluster``, a ``-c`` file named ``X.conf`` makes the cluster
  ``X``.
* **mon_host** (``MonMap::build_initial`` with ``init_with_ips``): items split on
  blanks and ``;``, addresses within an item on ``,``; ``[v2:..,v1:..]`` is one
  monitor taken as is; a single address without ``v1:``/``v2:`` is ambiguous:
  no port gives ``v2:IP:3300`` and a separate ``v1:IP:6789`` monitor, 6789 gives
  v1, 3300 gives v2, any other port gives v2 and a separate v1 on that port
  (``for_mkfs``, as ``monmaptool --generate``: no port gives one monitor
  ``[v2:IP:3300,v1:IP:6789]`` and no extra legacy monitors). Monitors are named
  ``noname-a``, ``noname-b``, ... and legacy extras ``noname-a-legacy``. Without
  ``mon_host``, ``[mon.X]`` sections with ``mon addr`` (a v1 address, default
  port 6789) are used.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import Self

from asyncmsgr.config import (
    ConfigError,
    MessengerConfig,
    OptionValue,
    convert_value,
    default_config,
    normalize_option_name,
    parse_config_args,
    str_list,
)
from asyncmsgr.monc.conffile import ConfFile, normalize_conf_key
from asyncmsgr.monc.monhost import (
    CEPH_MON_PORT_IANA,
    CEPH_MON_PORT_LEGACY,
    ConfError,
    InitialMon,
    MonHosts,
    MonMapBuilder,
    parse_addr_list,
    parse_mon_host,
    str_list_delims,
)
from asyncmsgr.record import Record
from asyncmsgr.types import (
    AddrType,
    AuthName,
    EntityAddr,
    EntityAddrVec,
    EntityType,
    entity_type_str,
)

_assign = object.__setattr__  # what a frozen class's __init__ assigns with

#: Pacific's ``conf`` search list when neither ``-c`` nor ``CEPH_CONF`` is given.
DEFAULT_CONF_SEARCH = ("$data_dir/config, /etc/ceph/$cluster.conf, "
                       "$home/.ceph/$cluster.conf, $cluster.conf")
#: Pacific's default ``keyring`` option.
DEFAULT_KEYRING = ("/etc/ceph/$cluster.$name.keyring,/etc/ceph/$cluster.keyring,"
                   "/etc/ceph/keyring,/etc/ceph/keyring.bin,")

#: Defaults of the options a mon client reads (Pacific ``options.cc``); used for
#: the typed accessors and for ``$option`` expansion.
DEFAULTS: Mapping[str, str] = {
    "run_dir": "/var/run/ceph",
    "data_dir": "/var/lib/ceph/$type/$cluster-$id",
    "keyring": DEFAULT_KEYRING,
    "key": "",
    "keyfile": "",
    "mon_host": "",
    "fsid": "",
    "auth_client_required": "cephx, none",
    "ms_mon_client_mode": "secure crc",
    "mon_client_ping_interval": "10",
    "mon_client_ping_timeout": "30",
    "mon_client_hunt_interval": "3",
    "mon_client_hunt_parallel": "3",
    "mon_client_hunt_interval_backoff": "1.5",
    "mon_client_hunt_interval_max_multiple": "10",
    "client_mount_timeout": "300",
    "rados_mon_op_timeout": "0",
}

#: Name prefixes of ``--option`` arguments treated as config options (others are
#: left for the tool); plus the exact names in :data:`DEFAULTS`.
OPTION_PREFIXES = ("ms_", "mon_", "auth_", "cephx_", "debug_", "rados_", "client_",
                   "asyncmsgr_", "log_", "admin_", "osd_", "mgr_", "public_", "cluster_")

_META_RE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


# --- environment ------------------------------------------------------------------

def _node_name() -> str:
    """``platform.node()`` without importing :mod:`platform` (start-up time)."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import platform  # noqa: PLC0415  (no os.uname: not POSIX)

    return platform.node()


def _read_os_file(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return None


class ConfEnv(Record):
    """What the configuration layer may know of the outside world."""

    environ: Mapping[str, str]
    """Environment variables (``CEPH_ARGS``, ``CEPH_CONF``)."""
    read_file: Callable[[str], str | None]
    """Returns a file's text, or None when it does not exist or cannot be read."""
    hostname: str
    """Short host name, for ``$host``."""
    home: str
    """Home directory, for ``$home`` and ``~``."""
    pid: int
    """Process id, for ``$pid``."""

    __slots__ = ("environ", "home", "hostname", "pid", "read_file")

    def __init__(self, *, environ: Mapping[str, str] | None = None,
                 read_file: Callable[[str], str | None] = lambda _path: None,
                 hostname: str = "localhost", home: str = "/root", pid: int = 0) -> None:
        _assign(self, "environ", {} if environ is None else environ)
        _assign(self, "read_file", read_file)
        _assign(self, "hostname", hostname)
        _assign(self, "home", home)
        _assign(self, "pid", pid)

    @classmethod
    def from_os(cls) -> Self:
        """The real process environment and file system."""
        return cls(environ=dict(os.environ), read_file=_read_os_file,
                   hostname=_node_name().split(".")[0] or "localhost",
                   home=os.path.expanduser("~"), pid=os.getpid())


# --- metavariables --------------------------------------------------------------------

def expand_meta(value: str, lookup: Callable[[str], str | None]) -> str:
    """Expand ``$var`` / ``${var}`` in ``value``; ``lookup`` gives a variable's raw value.

    Values found are expanded in turn; unknown names stay as written; a loop
    leaves ``value`` as it was.
    """
    try:
        return _expand(value, lookup, ())
    except _ExpansionLoop:
        return value


class _ExpansionLoop(Exception):
    pass


def _expand(value: str, lookup: Callable[[str], str | None], stack: tuple[str, ...]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        found = lookup(name)
        if found is None:
            return match.group(0)
        if name in stack:
            raise _ExpansionLoop(name)
        return _expand(found, lookup, (*stack, name))
    return _META_RE.sub(one, value)


def mons_from_conf_sections(conf: ConfFile) -> list[InitialMon]:
    """``MonMap::init_with_config_file``: ``[mon.X]`` sections with ``mon addr``."""
    builder = MonMapBuilder()
    for section in conf.sections:
        if not section.startswith("mon.") or len(section) <= 4:
            continue
        mon_id = section[4:]
        value = conf.lookup("mon addr", [section, "mon", "global"])
        if value is None:
            continue
        try:
            addr = EntityAddr.parse(value.strip(), AddrType.LEGACY)
        except ValueError:
            raise ConfError(f"unable to parse address for mon.{mon_id}: addr='{value}'") from None
        if addr.port == 0:
            addr = addr.with_port(CEPH_MON_PORT_LEGACY)
        builder.add_ambiguous(mon_id, addr, for_mkfs=False)
    return builder.mons


# --- arguments -------------------------------------------------------------------------

#: Short and long client arguments that take a value -> the option they set.
_VALUE_ARGS: Mapping[str, str] = {
    "-c": "conf", "--conf": "conf",
    "-m": "mon_host",
    "-n": "name", "--name": "name",
    "-i": "id", "--id": "id",
    "-k": "keyring", "--keyring": "keyring",
    "--key": "key",
    "-K": "keyfile", "--keyfile": "keyfile",
    "--cluster": "cluster",
    "--connect-timeout": "connect_timeout", "--connect_timeout": "connect_timeout",
}


class ClientArgs(Record):
    """What a command line (and ``CEPH_ARGS``) said, before any file is read."""

    values: Mapping[str, str]
    """``conf``, ``name``, ``id``, ``cluster``, ``connect_timeout`` and every config
    option given (normalised names), the last occurrence winning."""
    rest: tuple[str, ...]
    """Arguments that are not configuration (for the tool), ``--`` included."""

    __slots__ = ("rest", "values")

    def __init__(self, *, values: Mapping[str, str], rest: tuple[str, ...]) -> None:
        _assign(self, "values", values)
        _assign(self, "rest", rest)


def _is_option_name(name: str) -> bool:
    return name in DEFAULTS or name.startswith(OPTION_PREFIXES)


def _bool_options() -> frozenset[str]:
    return frozenset(k for k, v in MessengerConfig().as_dict().items() if isinstance(v, bool))


def parse_client_args(argv: Sequence[str], environ: Mapping[str, str]) -> ClientArgs:
    """Split ``CEPH_ARGS`` + ``argv`` into client settings and the rest.

    ``CEPH_ARGS`` is read first, so ``argv`` wins. ``--name=value`` and
    ``--name value`` both work for every option; a bool messenger option given
    bare means true (as :func:`asyncmsgr.config.parse_config_args`).

    Raises:
        ConfError: a value is missing.
    """
    values: dict[str, str] = {}
    env_rest, env_after = _scan(shlex.split(environ.get("CEPH_ARGS", "")), values)
    arg_rest, arg_after = _scan(list(argv), values)
    rest = env_rest + arg_rest
    if env_after is not None or arg_after is not None:
        rest += ["--", *(arg_after or []), *(env_after or [])]
    return ClientArgs(values=values, rest=tuple(rest))


def _scan(tokens: Sequence[str], out: dict[str, str]) -> tuple[list[str], list[str] | None]:
    bools = _bool_options()
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "--":
            return rest, list(tokens[i:])
        head, eq, text = token.partition("=")
        if token in _VALUE_ARGS:
            target, eq = _VALUE_ARGS[token], ""
        elif eq and head.startswith("--") and head in _VALUE_ARGS:
            target = _VALUE_ARGS[head]
        elif head.startswith("--"):
            name = normalize_option_name(head)
            if not eq and name.startswith("no_") and name[3:] in bools:
                _set(out, name[3:], "false")
                continue
            if not _is_option_name(name):
                rest.append(token)
                continue
            if not eq and name in bools:  # bare bool: true, never takes the next word
                _set(out, name, "true")
                continue
            target = name
        else:
            rest.append(token)
            continue
        if not eq:
            if i >= len(tokens):
                raise ConfError(f"option {token} requires an argument")
            text = tokens[i]
            i += 1
        _set(out, target, text)
    return rest, None


def _set(out: dict[str, str], key: str, value: str) -> None:
    """Set so that the dict's order is the order of the last assignments."""
    out.pop(key, None)
    out[key] = value


def _parse_name(values: Mapping[str, str], order: Sequence[str]) -> AuthName:
    """``--id x`` means ``client.x``; ``--name type.id``; the later one given wins."""
    name = AuthName(EntityType.CLIENT, "admin")
    for key in order:
        if key == "id" and "id" in values:
            name = AuthName(EntityType.CLIENT, values["id"])
        elif key == "name" and "name" in values:
            text = values["name"]
            try:
                name = AuthName.parse(text)
            except ValueError:
                raise ConfError(f"error parsing '--name': bad entity name '{text}'") from None
    return name


# --- settings --------------------------------------------------------------------------

class ClientSettings(Record):
    """Everything a mon client needs from ``ceph.conf`` and its arguments."""

    cluster: str
    """Cluster name (``$cluster``)."""
    name: AuthName
    """Auth name, ``client.admin`` unless ``--id``/``--name`` say otherwise."""
    conf_path: str | None
    """The ``ceph.conf`` that was read, if any."""
    options: Mapping[str, str]
    """Every option set by a file, ``CEPH_ARGS`` or the command line (normalised
    underscore names, metavariables expanded); defaults are not included."""
    mon_hosts: MonHosts
    """The initial monitors (``mon_host``, ``-m`` or ``[mon.X]`` sections)."""
    keyring_paths: tuple[str, ...]
    """The ``keyring`` search list, expanded."""
    key: str | None
    """``--key`` / ``key``: a base64 secret, or None."""
    keyfile: str | None
    """``--keyfile`` / ``keyfile``: a file holding a base64 secret, or None."""
    connect_timeout: float | None
    """``--connect-timeout`` (the ``ceph`` CLI's), seconds, or None."""
    messenger_config: MessengerConfig
    """The ``ms_*`` (and other messenger) options as a :class:`MessengerConfig`."""
    rest: tuple[str, ...]
    """Arguments that were not configuration."""
    metavariables: Mapping[str, str]
    """The built-in ``$cluster``, ``$name``, ``$host``, ... values used."""

    __slots__ = ("cluster", "conf_path", "connect_timeout", "key", "keyfile", "keyring_paths",
                 "messenger_config", "metavariables", "mon_hosts", "name", "options", "rest")

    def __init__(self, *, cluster: str, name: AuthName, conf_path: str | None,
                 options: Mapping[str, str], mon_hosts: MonHosts, keyring_paths: tuple[str, ...],
                 key: str | None, keyfile: str | None, connect_timeout: float | None,
                 messenger_config: MessengerConfig, rest: tuple[str, ...] = (),
                 metavariables: Mapping[str, str] | None = None) -> None:
        _assign(self, "cluster", cluster)
        _assign(self, "name", name)
        _assign(self, "conf_path", conf_path)
        _assign(self, "options", options)
        _assign(self, "mon_hosts", mon_hosts)
        _assign(self, "keyring_paths", keyring_paths)
        _assign(self, "key", key)
        _assign(self, "keyfile", keyfile)
        _assign(self, "connect_timeout", connect_timeout)
        _assign(self, "messenger_config", messenger_config)
        _assign(self, "rest", rest)
        _assign(self, "metavariables", {} if metavariables is None else metavariables)

    def get(self, name: str, default: str | None = None) -> str | None:
        """An option's value: set, else Pacific's default (for known ones), else ``default``."""
        key = normalize_option_name(name)
        if key in self.options:
            return self.options[key]
        if key in DEFAULTS:
            return _expand_default(self, DEFAULTS[key])
        return default

    def _typed(self, name: str, kind: str) -> OptionValue:
        raw = self.get(name)
        assert raw is not None
        try:
            return convert_value(name, kind, raw)
        except ConfigError as exc:
            raise ConfError(str(exc)) from None

    @property
    def mon_addrs(self) -> list[EntityAddrVec]:
        """The initial monitors' address vectors (host names not yet resolved excluded)."""
        return self.mon_hosts.addrvecs

    @property
    def unresolved_mon_hosts(self) -> tuple[str, ...]:
        """``mon_host`` entries that are host names (see :meth:`resolve_mons`)."""
        return self.mon_hosts.unresolved

    def resolve_mons(self, resolver: Callable[[str], Sequence[str]]) -> ClientSettings:
        """A copy with host names in ``mon_host`` resolved through ``resolver``."""
        return self.replace(mon_hosts=self.mon_hosts.resolve(resolver))

    @property
    def auth_client_required(self) -> list[str]:
        """Auth methods the client accepts, preferred first (``cephx``, ``none``)."""
        return str_list(self.get("auth_client_required") or "")

    @property
    def ms_mon_client_mode(self) -> list[str]:
        """msgr2 modes towards monitors, preferred first (``secure``, ``crc``)."""
        return str_list(self.get("ms_mon_client_mode") or "")

    @property
    def mon_client_ping_interval(self) -> float:
        """Seconds between keepalives to the monitor (10)."""
        return float(self._typed("mon_client_ping_interval", "float"))

    @property
    def mon_client_ping_timeout(self) -> float:
        """Seconds without a keepalive ack before hunting again (30)."""
        return float(self._typed("mon_client_ping_timeout", "float"))

    @property
    def mon_client_hunt_interval(self) -> float:
        """Seconds between hunting rounds (3)."""
        return float(self._typed("mon_client_hunt_interval", "float"))

    @property
    def mon_client_hunt_parallel(self) -> int:
        """Monitors dialled at once while hunting (3)."""
        return int(self._typed("mon_client_hunt_parallel", "int"))

    @property
    def client_mount_timeout(self) -> float:
        """Seconds to wait for authentication and the first maps (300)."""
        return float(self._typed("client_mount_timeout", "float"))

    @property
    def rados_mon_op_timeout(self) -> float:
        """Seconds a mon command may take, 0 for no limit."""
        return float(self._typed("rados_mon_op_timeout", "float"))


def _expand_default(settings: ClientSettings, value: str) -> str:
    return expand_meta(value, _lookup_in(settings.metavariables, settings.options))


def metavariables(cluster: str, name: AuthName, env: ConfEnv) -> dict[str, str]:
    """The built-in ``$`` variables for ``name`` in ``cluster`` (``$cctid``, the
    context's id, is left for the :class:`~asyncmsgr.context.Context` that uses the
    option: it does not exist yet)."""
    return {
        "cluster": cluster, "type": entity_type_str(name.type), "id": name.id,
        "num": name.id, "name": str(name), "host": env.hostname, "pid": str(env.pid),
        "home": env.home,
    }


def _lookup_in(builtins: Mapping[str, str],
               options: Mapping[str, str]) -> Callable[[str], str | None]:
    def lookup(var: str) -> str | None:
        if var in builtins:
            return builtins[var]
        if var in options:
            return options[var]
        return DEFAULTS.get(var)
    return lookup


def _meta_lookup(cluster: str, name: AuthName, env: ConfEnv,
                 options: Mapping[str, str]) -> Callable[[str], str | None]:
    return _lookup_in(metavariables(cluster, name, env), options)


def _conf_candidates(text: str, lookup: Callable[[str], str | None], home: str) -> list[str]:
    out = []
    for item in str_list_delims(text, ", \t\n;"):
        path = expand_meta(item, lookup)
        if path.startswith("~"):
            path = home + path[1:]
        out.append(path)
    return out


def load_client_settings(argv: Sequence[str] = (), *, env: ConfEnv | None = None,
                         name: str | None = None) -> ClientSettings:
    """Read arguments, ``CEPH_ARGS``, ``CEPH_CONF`` and ``ceph.conf`` as Ceph's tools do.

    Args:
        argv: command-line arguments (without the program name).
        env: the outside world (default :meth:`ConfEnv.from_os`).
        name: default auth name instead of ``client.admin``.

    Raises:
        ConfError: bad arguments, an unreadable ``-c`` list, a syntax error in the
            file, a bad ``mon_host``, or no monitors at all
            (``no monitors specified to connect to.``).
    """
    env = ConfEnv.from_os() if env is None else env
    args = parse_client_args(argv, env.environ)
    values = dict(args.values)
    order = [k for k in values if k in ("id", "name")]
    auth_name = _parse_name(values, order)
    if name is not None and not order:
        auth_name = AuthName.parse(name)
    return _settings(values, auth_name, env, rest=args.rest, argv=argv, conf_required=False)


def tool_settings(*, name: AuthName, cluster: str, conf: str, options: Mapping[str, str],
                  env: ConfEnv, rest: Sequence[str] = ()) -> ClientSettings:
    """Settings for a tool that parsed its own arguments, as ``rados.Rados(name=,
    clustername=, conffile=)`` then ``conf_parse_argv`` build them (the ``ceph`` CLI).

    ``conf``: the ``-c`` list, or ``""`` for ``CEPH_CONF`` / the default search
    list; unlike :func:`load_client_settings`, no file found is an error either
    way (librados's ``conf_read_file``). ``options``: the configuration options
    of the command line (:func:`~asyncmsgr.monc.conf_argv.conf_parse_argv`);
    ``CEPH_ARGS`` is the tool's business.

    Raises:
        ConfError: as :func:`load_client_settings`; :class:`ConfNotFound` (naming
            the files searched) when no configuration file exists.
    """
    values: dict[str, str] = {}
    if cluster:
        values["cluster"] = cluster
    if conf:
        values["conf"] = conf
    values.update(options)
    env = env.replace(environ={k: v for k, v in env.environ.items() if k != "CEPH_ARGS"})
    return _settings(values, name, env, rest=tuple(rest), argv=(), conf_required=True)


def _settings(values: dict[str, str], auth_name: AuthName, env: ConfEnv, *,
              rest: tuple[str, ...], argv: Sequence[str],
              conf_required: bool) -> ClientSettings:
    cluster = values.get("cluster", "")
    conf_path, conf = _find_conf(values, cluster or "ceph", auth_name, env,
                                 required=conf_required)
    if not cluster:
        cluster = "ceph"
        if "conf" in values and conf_path is not None and conf_path.endswith(".conf"):
            cluster = conf_path.rsplit("/", 1)[-1][:-len(".conf")] or "ceph"

    type_name = entity_type_str(auth_name.type)
    raw: dict[str, str] = {}
    if conf is not None:
        raw.update(conf.merged([str(auth_name), type_name, "global"]))
    for key, value in values.items():
        if key not in ("conf", "name", "id", "cluster", "connect_timeout"):
            raw[key] = value
    lookup = _meta_lookup(cluster, auth_name, env, raw)
    options = {k: expand_meta(v, lookup) for k, v in raw.items()}

    mon_host = options.get("mon_host", "").strip()
    if mon_host:
        mon_hosts = parse_mon_host(mon_host)
    else:
        found = mons_from_conf_sections(conf) if conf is not None else []
        mon_hosts = MonHosts(tuple(found))
    if not mon_hosts.mons and not mon_hosts.unresolved:
        raise ConfError("no monitors specified to connect to.")

    keyring = options.get("keyring", expand_meta(DEFAULT_KEYRING, lookup))
    connect_timeout = None
    if "connect_timeout" in values:
        try:
            connect_timeout = float(values["connect_timeout"])
        except ValueError:
            raise ConfError(
                f"--connect-timeout: invalid number '{values['connect_timeout']}'") from None
    return ClientSettings(
        cluster=cluster, name=auth_name, conf_path=conf_path, options=options,
        mon_hosts=mon_hosts,
        keyring_paths=tuple(_conf_candidates(keyring, lookup, env.home)),
        key=options.get("key") or None, keyfile=options.get("keyfile") or None,
        connect_timeout=connect_timeout,
        metavariables=metavariables(cluster, auth_name, env),
        messenger_config=_messenger_config(conf_options=options, argv=argv, env=env),
        rest=rest,
    )


def _find_conf(values: Mapping[str, str], cluster: str, name: AuthName,
               env: ConfEnv, *, required: bool = False) -> tuple[str | None, ConfFile | None]:
    lookup = _meta_lookup(cluster, name, env, {})
    if "conf" in values:
        search, required = values["conf"], True
    elif env.environ.get("CEPH_CONF"):
        search = env.environ["CEPH_CONF"]
    else:
        search = DEFAULT_CONF_SEARCH
    candidates = _conf_candidates(search, lookup, env.home)
    for path in candidates:
        text = env.read_file(path)
        if text is not None:
            return path, ConfFile.parse(text, path)
    if required:
        raise ConfNotFound(f"unable to open config file from search list {search}",
                           tuple(candidates))
    return None, None


class ConfNotFound(ConfError):
    """No configuration file in the search list; ``searched`` names the paths tried."""

    def __init__(self, message: str, searched: tuple[str, ...]) -> None:
        super().__init__(message)
        self.searched = searched


def _messenger_config(*, conf_options: Mapping[str, str], argv: Sequence[str],
                      env: ConfEnv) -> MessengerConfig:
    """Messenger options: file values as the base, then ``parse_config_args`` on top."""
    known = MessengerConfig().as_dict()
    from_file = {k: v for k, v in conf_options.items() if k in known}
    try:
        base = MessengerConfig.from_ceph_options(from_file, base=default_config())
        config, _rest = parse_config_args(argv, env.environ, base=base)
    except ConfigError as exc:
        raise ConfError(str(exc)) from None
    return config


__all__ = [
    "CEPH_MON_PORT_IANA",
    "CEPH_MON_PORT_LEGACY",
    "DEFAULTS",
    "DEFAULT_CONF_SEARCH",
    "DEFAULT_KEYRING",
    "ClientArgs",
    "ClientSettings",
    "ConfEnv",
    "ConfError",
    "ConfFile",
    "ConfNotFound",
    "InitialMon",
    "MonHosts",
    "expand_meta",
    "load_client_settings",
    "metavariables",
    "mons_from_conf_sections",
    "normalize_conf_key",
    "parse_addr_list",
    "parse_client_args",
    "parse_mon_host",
    "tool_settings",
]
