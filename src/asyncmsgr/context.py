"""What Ceph's ``CephContext`` gives a process running asyncmsgr: configuration at
runtime, perf counters, logging, the admin socket and the metrics exporter.

A :class:`Context` is shared by the messengers of a process (the command line
makes one per run and hands it to every messenger) or owned by one messenger
(the API: ``Messenger.create(..., config=MessengerConfig(admin_socket=...))``
makes its own; ``MonClient`` and ``Rados`` therefore get one through theirs).
It starts its services when its first user attaches (:meth:`Context.get`) and
stops them when the last one leaves (:meth:`Context.put`):

* **logging**, when it is a command-line tool's or the configuration names a
  logging option (:mod:`asyncmsgr.log`);
* **the admin socket** when ``admin_socket`` is set, at the path with ``$run_dir``,
  ``$cluster``, ``$name``, ``$type``, ``$id``, ``$host``, ``$pid`` and ``$cctid``
  (this context's id) expanded, as Ceph expands them; a path that cannot be bound
  is logged (level -1) and the process goes on, as in Ceph;
* **the Prometheus exporter** when ``asyncmsgr_prometheus_addr`` is set
  (:mod:`asyncmsgr.metrics`).

**Configuration** (:class:`ConfigStore`): the options of a
:class:`~asyncmsgr.config.MessengerConfig`, in layers as Ceph's ``md_config_t``
keeps them: ``default``, what the program was given (``cmdline`` for the command
line, ``override`` through the API) and ``override`` for ``config set`` /
``injectargs``. Options in :data:`RUNTIME_OPTIONS` take effect at once: the
logging options (levels, outputs, ``log_max_recent``) and the fault-injection
ones (``ms_inject_*``, ``ms_blackhole_*``, applied to every attached messenger
and its open connections). Any other option is stored and shown, and ``config
set`` answers Ceph's ``(not observed, change may require restart)``.

**Perf counters**: every attached messenger's sets (``AsyncMessenger::Worker-N``
summed over messengers, as Ceph's workers are shared by a context's messengers,
and their ``throttle-*``) and any source added with :meth:`Context.add_perf`
(the ``objecter``).
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from asyncmsgr import log as ceph_log
from asyncmsgr.admin_socket import (
    ADMIN_SOCK_VERSION,
    AdminSocket,
    AsokError,
    Command,
    Fixed,
    Reply,
    command_table,
    describe,
)
from asyncmsgr.config import (
    ConfigError,
    MessengerConfig,
    OptionValue,
    convert_value,
    normalize_option_name,
    option_docs,
    parse_config_args,
)
from asyncmsgr.perf import PerfSource, TimeAvg, perf_schema_of

if TYPE_CHECKING:
    from asyncmsgr.messenger import Messenger

logger = logging.getLogger("asyncmsgr.asok")

#: Options a ``config set`` changes at once (Ceph's runtime flag).
RUNTIME_OPTIONS: frozenset[str] = frozenset({
    *ceph_log.option_names(),
    "err_to_stderr",
    "ms_inject_socket_failures", "ms_inject_internal_delays", "ms_inject_delay_type",
    "ms_inject_delay_max", "ms_inject_delay_probability", "ms_inject_network_congestion",
    "ms_blackhole_osd", "ms_blackhole_mon", "ms_blackhole_mds", "ms_blackhole_mgr",
    "ms_blackhole_client",
})
_LOG_OPTIONS = frozenset({*ceph_log.option_names(), "err_to_stderr"})
_INJECT_OPTIONS = RUNTIME_OPTIONS - _LOG_OPTIONS
#: The layers of a value, lowest first, as ``config diff`` names them.
SOURCES = ("default", "file", "env", "cmdline", "override")


class OptionSpec(NamedTuple):
    """One option as ``config help`` describes it."""

    name: str
    kind: str
    """``bool``, ``int``, ``float`` or ``str``."""
    default: OptionValue
    runtime: bool
    description: str


def option_text(value: OptionValue) -> str:
    """A value as ``config get`` / ``config show`` print it (``true``, ``3.000000``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:f}"
    return str(value)


class ConfigStore:
    """The layered option values of one context (thread-safe)."""

    def __init__(self, config: MessengerConfig, source: str = "override") -> None:
        if source not in SOURCES[1:]:
            raise ValueError(f"unknown source {source!r}")
        self._lock = threading.Lock()
        self._defaults = MessengerConfig().as_dict()
        self._kinds = {name: _kind(value) for name, value in self._defaults.items()}
        self._layers: dict[str, dict[str, OptionValue]] = {s: {} for s in SOURCES[1:]}
        self._layers[source].update(config.diff())
        self._config = config
        self._observers: list[Callable[[MessengerConfig, frozenset[str]], None]] = []

    @property
    def config(self) -> MessengerConfig:
        """The values in effect."""
        return self._config

    def observe(self, callback: Callable[[MessengerConfig, frozenset[str]], None]) -> None:
        """Call ``callback(config, changed_names)`` after each change."""
        self._observers.append(callback)

    def spec(self, name: str) -> OptionSpec:
        """The option's description (KeyError if unknown)."""
        return OptionSpec(name=name, kind=self._kinds[name], default=self._defaults[name],
                          runtime=name in RUNTIME_OPTIONS,
                          description=option_docs().get(name, ""))

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def get(self, name: str) -> OptionValue:
        """The value in effect (KeyError if unknown)."""
        return self._config.as_dict()[name]

    def show(self) -> dict[str, str]:
        """Every option's value as text, sorted by name (``config show``)."""
        values = self._config.as_dict()
        return {name: option_text(values[name]) for name in sorted(values)}

    def diff(self) -> dict[str, dict[str, OptionValue]]:
        """Options set anywhere: each layer's value and the final one (``config diff``)."""
        out: dict[str, dict[str, OptionValue]] = {}
        values = self._config.as_dict()
        with self._lock:
            names = sorted({n for layer in self._layers.values() for n in layer})
            for name in names:
                entry: dict[str, OptionValue] = {"default": self._defaults[name]}
                for source in SOURCES[1:]:
                    if name in self._layers[source]:
                        entry[source] = self._layers[source][name]
                entry["final"] = values[name]
                out[name] = entry
        return out

    def set(self, name: str, text: OptionValue) -> str:
        """``config set NAME VALUE`` at the ``override`` layer; returns Ceph's success
        text (empty for a runtime option).

        Raises:
            AsokError: ENOENT for an unknown option, EINVAL for a bad value.
        """
        return self.set_many({name: text})

    def set_many(self, values: Mapping[str, OptionValue]) -> str:
        """Several options at once (``injectargs``); see :meth:`set`."""
        changes: dict[str, OptionValue] = {}
        notes: list[str] = []
        for raw, text in values.items():
            name = normalize_option_name(raw)
            if name not in self._kinds:
                raise AsokError(errno.ENOENT, f"error setting '{raw}' to '{text}': "
                                f"(2) {os.strerror(errno.ENOENT)}")
            try:
                value = convert_value(name, self._kinds[name], text)
                if name.startswith("debug_"):
                    value = ceph_log.format_levels(ceph_log.parse_levels(name, str(value)))
            except (ConfigError, ValueError):
                raise AsokError(errno.EINVAL, f"error setting '{raw}' to '{text}': "
                                f"(22) {os.strerror(errno.EINVAL)}") from None
            changes[name] = value
            if name not in RUNTIME_OPTIONS:
                shown = text if isinstance(text, str) else option_text(text)
                notes.append(f"{name} = '{shown}' (not observed, change may require restart) ")
        with self._lock:
            try:
                new = self._config.replace(**changes)
            except ConfigError as exc:
                raise AsokError(errno.EINVAL, f"error setting: {exc}") from None
            self._layers["override"].update(changes)
            self._config = new
        self._notify(new, frozenset(changes))
        return "".join(notes)

    def unset(self, name: str) -> None:
        """``config unset``: drop the ``override`` value (ENOENT if unknown)."""
        name = normalize_option_name(name)
        if name not in self._kinds:
            raise AsokError(errno.ENOENT, f"error unsetting '{name}': (2) "
                            f"{os.strerror(errno.ENOENT)}")
        with self._lock:
            if self._layers["override"].pop(name, None) is None:
                return
            value = self._defaults[name]
            for source in SOURCES[1:]:
                value = self._layers[source].get(name, value)
            new = self._config.replace(**{name: value})
            self._config = new
        self._notify(new, frozenset({name}))

    def _notify(self, config: MessengerConfig, changed: frozenset[str]) -> None:
        for callback in list(self._observers):
            try:
                callback(config, changed)
            except Exception:  # an observer's bug must not undo the change
                logger.exception("config observer %r failed", callback)


def _kind(value: OptionValue) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


class Context:
    """A process's (or an API user's) CephContext; see the module docstring."""

    def __init__(self, config: MessengerConfig | None = None, *, name: str = "client.admin",
                 cluster: str = "ceph", source: str = "override", tool: bool = False) -> None:
        self.name = name
        self.cluster = cluster
        self.tool = tool
        self._source = source
        self._base = config or MessengerConfig()
        self._store: ConfigStore | None = None
        self._lock = threading.RLock()
        self._refs = 0
        self._messengers: list[Messenger] = []
        self._extra_perf: list[PerfSource] = []
        self._commands: dict[str, Command] = {}
        self.admin_socket: AdminSocket | None = None
        self.exporter: Any = None
        """The running :class:`~asyncmsgr.metrics.PrometheusExporter`, if any."""
        self.started_at = time.time()

    def __repr__(self) -> str:
        return f"<Context {self.name} cctid={self.cctid}>"

    # -- configuration -----------------------------------------------------------------

    @property
    def store(self) -> ConfigStore:
        """The runtime configuration (made on first use)."""
        with self._lock:
            if self._store is None:
                self._store = ConfigStore(self._base, self._source)
                self._store.observe(self._on_change)
            return self._store

    @property
    def config(self) -> MessengerConfig:
        """The options in effect (runtime changes included)."""
        store = self._store
        return store.config if store is not None else self._base

    @property
    def cctid(self) -> str:
        """``$cctid``: this context's id, in decimal (Ceph prints its address)."""
        return str(id(self))

    def metavariables(self) -> dict[str, str]:
        """The ``$`` variables of ``admin_socket`` and ``log_file``."""
        kind, _, ident = self.name.partition(".")
        return {"cluster": self.cluster, "name": self.name, "type": kind, "id": ident,
                "num": ident, "host": socket.gethostname().split(".")[0],
                "pid": str(os.getpid()), "cctid": self.cctid,
                "run_dir": self.config.run_dir, "home": os.path.expanduser("~")}

    def expand(self, text: str) -> str:
        """``text`` with this context's metavariables expanded."""
        return ceph_log.expand_path(text, self.metavariables())

    def log_settings(self) -> ceph_log.LogSettings:
        """The logging options in effect (``log_file`` expanded)."""
        values: dict[str, object] = dict(self.config.as_dict())
        values["log_file"] = self.expand(str(values["log_file"]))
        return ceph_log.LogSettings.from_options(values)

    def apply_logging(self) -> None:
        """Configure the process's logging from this context's options."""
        ceph_log.configure(self.log_settings())

    def _on_change(self, config: MessengerConfig, changed: frozenset[str]) -> None:
        if changed & _LOG_OPTIONS:
            self.apply_logging()
        if changed & _INJECT_OPTIONS:
            for msgr in self.messengers():
                msgr.apply_runtime_config(config)

    # -- users and services --------------------------------------------------------------

    def get(self) -> None:
        """One more user; the first starts the services."""
        with self._lock:
            self._refs += 1
            if self._refs == 1:
                self._start()

    def put(self) -> None:
        """One user fewer; the last stops the services."""
        with self._lock:
            if self._refs == 0:
                return
            self._refs -= 1
            if self._refs == 0:
                self._stop()

    def __enter__(self) -> Context:
        self.get()
        return self

    def __exit__(self, *exc: object) -> None:
        self.put()

    def _start(self) -> None:
        c = self.config
        if self.tool or ceph_log.given(c.diff()):
            self.apply_logging()
        if c.admin_socket:
            path = self.expand(c.admin_socket)
            asok = AdminSocket(path, self.commands)
            try:
                asok.start()
            except OSError as exc:
                logger.error("AdminSocketConfigObs::init: failed: %s",
                             exc.strerror if exc.strerror else exc)
            else:
                self.admin_socket = asok
        if c.asyncmsgr_prometheus_addr:
            from asyncmsgr.metrics import start_exporter  # noqa: PLC0415  (optional extra)

            self.exporter = start_exporter(self, c.asyncmsgr_prometheus_addr)

    def _stop(self) -> None:
        asok, self.admin_socket = self.admin_socket, None
        if asok is not None:
            asok.shutdown()
        exporter, self.exporter = self.exporter, None
        if exporter is not None:
            exporter.shutdown()

    def shutdown(self) -> None:
        """Stop the services whoever still uses the context."""
        with self._lock:
            self._refs = 0
            self._stop()

    def attach(self, msgr: Messenger) -> None:
        """A messenger starts running in this context (a user; its counters join)."""
        with self._lock:
            if msgr in self._messengers:
                return
            self._messengers.append(msgr)
        self.get()

    def detach(self, msgr: Messenger) -> None:
        """The messenger stopped."""
        with self._lock:
            if msgr not in self._messengers:
                return
            self._messengers.remove(msgr)
        self.put()

    def messengers(self) -> list[Messenger]:
        """The attached messengers."""
        with self._lock:
            return list(self._messengers)

    def add_perf(self, source: PerfSource) -> None:
        """Add a perf counter set (``perf dump`` key: its ``perf_name``)."""
        with self._lock:
            self._extra_perf.append(source)

    def remove_perf(self, source: PerfSource) -> None:
        """Remove a set added with :meth:`add_perf` (no error if absent)."""
        with self._lock:
            if source in self._extra_perf:
                self._extra_perf.remove(source)

    def register_command(self, command: Command) -> None:
        """Serve one more admin socket command (EEXIST if the prefix is taken)."""
        with self._lock:
            if command.prefix in self._builtin_prefixes() or command.prefix in self._commands:
                raise ValueError(f"admin socket command {command.prefix!r} already exists")
            self._commands[command.prefix] = command

    # -- perf counters ----------------------------------------------------------------------

    def perf_sources(self) -> list[tuple[str, PerfSource]]:
        """``(key, source)`` of every set, messengers' first (keys may repeat)."""
        out: list[tuple[str, PerfSource]] = []
        for msgr in self.messengers():
            out.extend(msgr.perf.items())
        with self._lock:
            out.extend((s.perf_name, s) for s in self._extra_perf)
        return out

    def perf_dump(self) -> dict[str, dict[str, object]]:
        """``{logger: {counter: value}}``, sorted by logger; sets sharing a key summed."""
        merged: dict[str, dict[str, object]] = {}
        for key, source in self.perf_sources():
            dump = source.perf_dump()
            if key in merged:
                merged[key] = _sum_dumps(merged[key], dump)
            else:
                merged[key] = dict(dump)
        return dict(sorted(merged.items()))

    def perf_schema(self) -> dict[str, dict[str, dict[str, object]]]:
        """``{logger: {counter: schema}}`` (``perf schema``)."""
        out: dict[str, dict[str, dict[str, object]]] = {}
        for key, source in self.perf_sources():
            out.setdefault(key, perf_schema_of(source))
        return dict(sorted(out.items()))

    def perf_reset(self, name: str) -> bool:
        """``perf reset all`` or one logger; False if nothing is called ``name``."""
        found = False
        for key, source in self.perf_sources():
            if name in ("all", key):
                reset = getattr(source, "reset", None)
                if callable(reset):
                    reset()
                found = True
        return found

    # -- admin socket commands -----------------------------------------------------------

    def commands(self) -> dict[str, Command]:
        """Every admin socket command, by prefix."""
        with self._lock:
            extra = list(self._commands.values())
        return command_table([*_builtin_commands(self), *extra])

    def _builtin_prefixes(self) -> set[str]:
        return {c.prefix for c in _builtin_commands(self)}

    def messenger_status(self) -> dict[str, object]:
        """``messenger status``: every attached messenger and its connections."""
        return {"messengers": [m.status() for m in self.messengers()]}


_process_context: Context | None = None


def process_context() -> Context | None:
    """The context a command-line run made for the whole process (None otherwise):
    messengers made without one join it (:class:`~asyncmsgr.messenger.Messenger`)."""
    return _process_context


def set_process_context(context: Context | None) -> None:
    """Make ``context`` the process's (None: no more); the command line does it
    around a subcommand, so every messenger the subcommand makes, however deep,
    is served by the one admin socket and metrics endpoint."""
    global _process_context  # noqa: PLW0603  (one per process, as the command line)
    _process_context = context


def _sum_dumps(a: Mapping[str, object], b: Mapping[str, object]) -> dict[str, object]:
    out = dict(a)
    for name, value in b.items():
        old = out.get(name)
        if isinstance(old, dict) and isinstance(value, dict):
            count = int(old.get("avgcount", 0)) + int(value.get("avgcount", 0))
            total = float(old.get("sum", 0.0)) + float(value.get("sum", 0.0))
            out[name] = {"avgcount": count, "sum": total,
                         "avgtime": total / count if count else 0.0}
        elif isinstance(old, int | float) and isinstance(value, int | float):
            out[name] = old + value
        else:
            out[name] = value
    return out


def _times(value: object) -> object:
    """Floats of a perf dump written as Ceph writes times (nine decimals)."""
    if isinstance(value, dict):
        return {k: _times(v) for k, v in value.items()}
    if isinstance(value, TimeAvg):
        return {"avgcount": value.avgcount, "sum": Fixed(value.sum),
                "avgtime": Fixed(value.avgtime)}
    if isinstance(value, float):
        return Fixed(value)
    return value


# -- the commands ----------------------------------------------------------------------------


def _str_arg(cmdmap: Mapping[str, Any], name: str) -> str:
    value = cmdmap.get(name)
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _builtin_commands(ctx: Context) -> list[Command]:
    from asyncmsgr import __version__  # noqa: PLC0415  (cycle: the package imports nothing)

    def version(_c: Mapping[str, Any]) -> Reply:
        return Reply({"version": __version__, "release": "asyncmsgr",
                      "release_type": "stable", "ceph_release": "pacific"}, "version")

    def git_version(_c: Mapping[str, Any]) -> Reply:
        return Reply({"git_version": __version__}, "version")

    def proto_version(_c: Mapping[str, Any]) -> Reply:
        return Reply(None, raw=ADMIN_SOCK_VERSION.encode())

    def help_(_c: Mapping[str, Any]) -> Reply:
        return Reply({p: c.help for p, c in ctx.commands().items() if c.help}, "help")

    def descriptions(_c: Mapping[str, Any]) -> Reply:
        return Reply({f"cmd{i:03d}": {"sig": describe(c.desc), "help": c.help}
                      for i, c in enumerate(ctx.commands().values())}, "command_descriptions")

    def config_show(_c: Mapping[str, Any]) -> Reply:
        return Reply({"name": ctx.name, "cluster": ctx.cluster, **ctx.store.show()},
                     "config_show")

    def config_get(c: Mapping[str, Any]) -> Reply:
        name = normalize_option_name(_str_arg(c, "var"))
        if name not in ctx.store:
            raise AsokError(errno.ENOENT, f"error getting '{name}': (2) "
                            f"{os.strerror(errno.ENOENT)}")
        return Reply({name: option_text(ctx.store.get(name))}, "config_get")

    def config_set(c: Mapping[str, Any]) -> Reply:
        return Reply({"success": ctx.store.set(_str_arg(c, "var"), _str_arg(c, "val"))},
                     "config_set")

    def config_unset(c: Mapping[str, Any]) -> Reply:
        ctx.store.unset(_str_arg(c, "var"))
        return Reply({}, "config_unset")

    def config_diff(_c: Mapping[str, Any]) -> Reply:
        return Reply({"diff": ctx.store.diff()}, "config_diff")

    def config_help(c: Mapping[str, Any]) -> Reply:
        name = normalize_option_name(_str_arg(c, "var"))
        if not name:
            return Reply({"options": [_help_entry(ctx.store.spec(n))
                                      for n in sorted(ctx.store.show())]}, "config_help")
        if name not in ctx.store:
            raise AsokError(errno.ENOENT, f"Setting not found: '{name}'")
        return Reply({"option": _help_entry(ctx.store.spec(name))}, "config_help")

    def injectargs(c: Mapping[str, Any]) -> Reply:
        args = c.get("injected_args") or []
        argv = [str(a) for a in (args if isinstance(args, list) else str(args).split())]
        current = ctx.config
        try:
            new, rest = parse_config_args(argv, {}, base=current)
        except ConfigError:
            rest = argv
        if rest or not argv:
            raise AsokError(errno.EINVAL, f" failed to parse arguments: {' '.join(argv)}\n")
        before = current.as_dict()
        ctx.store.set_many({k: v for k, v in new.as_dict().items() if before[k] != v})
        return Reply({}, "injectargs")

    def perf_dump(c: Mapping[str, Any]) -> Reply:
        dump = ctx.perf_dump()
        logger_name, counter = _str_arg(c, "logger"), _str_arg(c, "counter")
        if logger_name:
            dump = {k: v for k, v in dump.items() if k == logger_name}
            if counter:
                dump = {k: {n: x for n, x in v.items() if n == counter}
                        for k, v in dump.items()}
        return Reply(_times(dump), "perfcounter_collection")

    def perf_schema(_c: Mapping[str, Any]) -> Reply:
        return Reply(ctx.perf_schema(), "perfcounter_collection")

    def perf_reset(c: Mapping[str, Any]) -> Reply:
        var = _str_arg(c, "var")
        if ctx.perf_reset(var):
            return Reply({"success": f"perf reset {var}"}, "perf_reset")
        return Reply({"error": f"Not find: {var}"}, "perf_reset")

    def perf_histogram_dump(_c: Mapping[str, Any]) -> Reply:
        return Reply({key: {} for key in ctx.perf_dump()}, "perf_histogram_collection")

    def perf_histogram_schema(_c: Mapping[str, Any]) -> Reply:
        return Reply({key: {} for key in ctx.perf_dump()}, "perf_histogram_schema")

    def log_dump(_c: Mapping[str, Any]) -> Reply:
        ceph_log.dump_recent()
        return Reply({}, "log_dump")

    def log_flush(_c: Mapping[str, Any]) -> Reply:
        handler = ceph_log.current_handler()
        if handler is not None:
            handler.flush()
        return Reply({}, "log_flush")

    def log_reopen(_c: Mapping[str, Any]) -> Reply:
        handler = ceph_log.current_handler()
        if handler is not None:
            handler.reopen()
        return Reply({}, "log_reopen")

    def messenger_status(_c: Mapping[str, Any]) -> Reply:
        return Reply(ctx.messenger_status(), "messenger_status")

    s = "name=var,type=CephString"
    logger_args = "name=logger,type=CephString,req=false name=counter,type=CephString,req=false"
    return [
        Command("0", "0", "", proto_version),
        Command("1", "1", "", perf_dump),
        Command("2", "2", "", perf_schema),
        Command("config diff", "config diff",
                "dump diff of current config and default config", config_diff),
        Command("config diff get", f"config diff get {s}",
                "dump diff get <field>: dump diff of current and default config setting "
                "<field>", config_diff),
        Command("config get", f"config get {s}", "config get <field>: get the config value",
                config_get),
        Command("config help", "config help name=var,type=CephString,req=false",
                "get config setting schema and descriptions", config_help),
        Command("config set", f"config set {s} name=val,type=CephString,n=N",
                "config set <field> <val> [<val> ...]: set a config variable", config_set),
        Command("config show", "config show", "dump current config settings", config_show),
        Command("config unset", f"config unset {s}",
                "config unset <field>: unset a config variable", config_unset),
        Command("get_command_descriptions", "get_command_descriptions",
                "list available commands", descriptions),
        Command("git_version", "git_version", "get git sha1", git_version),
        Command("help", "help", "list available commands", help_),
        Command("injectargs", "injectargs name=injected_args,type=CephString,n=N",
                "inject configuration arguments into running daemon", injectargs),
        Command("log dump", "log dump", "dump recent log entries to log file", log_dump),
        Command("log flush", "log flush", "flush log entries to log file", log_flush),
        Command("log reopen", "log reopen", "reopen log file", log_reopen),
        Command("messenger status", "messenger status",
                "show the messengers, their connections, states, peers and queues",
                messenger_status),
        Command("perf dump", f"perf dump {logger_args}", "dump perfcounters value",
                perf_dump),
        Command("perf histogram dump", f"perf histogram dump {logger_args}",
                "dump perf histogram values", perf_histogram_dump),
        Command("perf histogram schema", "perf histogram schema",
                "dump perf histogram schema", perf_histogram_schema),
        Command("perf reset", f"perf reset {s}",
                "perf reset <name>: perf reset all or one perfcounter name", perf_reset),
        Command("perf schema", "perf schema", "dump perfcounters schema", perf_schema),
        Command("perfcounters_dump", "perfcounters_dump", "", perf_dump),
        Command("perfcounters_schema", "perfcounters_schema", "", perf_schema),
        Command("version", "version", "get ceph version", version),
    ]


def _help_entry(spec: OptionSpec) -> dict[str, object]:
    return {"name": spec.name, "type": spec.kind, "level": "advanced",
            "desc": spec.description, "long_desc": "", "default": option_text(spec.default),
            "daemon_default": "", "tags": [], "services": [], "see_also": [],
            "enum_values": [], "min": "", "max": "",
            "can_update_at_runtime": spec.runtime,
            "flags": ["runtime"] if spec.runtime else []}


def option_names() -> Iterable[str]:
    """Every option a context knows (MessengerConfig's)."""
    return MessengerConfig().as_dict().keys()


__all__ = [
    "RUNTIME_OPTIONS",
    "SOURCES",
    "ConfigStore",
    "Context",
    "OptionSpec",
    "option_names",
    "option_text",
    "process_context",
    "set_process_context",
]
