"""The fake monitor's commands: Ceph's signatures, ``get_command_descriptions``, dispatch.

A :class:`MonCommand` is one entry of Ceph's command table
(``src/mon/MonCommands.h``): the signature string (``osd pool create
name=pool,type=CephPoolname name=pg_num,type=CephInt,range=0,req=false ...``,
copied as data for every command the fake implements), help text, module,
permissions and flags, plus the handler that answers it. A
:class:`CommandTable` answers ``get_command_descriptions`` with Ceph's JSON
(``{"cmd000": {"sig": [...], "help": ..., "module": ..., "perm": ...,
"flags": ...}}``, the signature parsed as ``dump_cmd_to_json`` does), so the
real ``ceph`` CLI validates and sends exactly these commands, and dispatches a
JSON command to its handler by ``prefix``. Unknown prefixes get Ceph's
``-EINVAL "command not known"``.

Handlers take a :class:`CommandRequest` and return a :class:`CommandResult`
``(r, rs, outbuf)``; they raise :class:`CommandError` for a failure with
Ceph's errno and message. :func:`formatted` renders a result as the command's
``format`` asks (``json``, ``json-pretty``, else the plain text).

The mon's own commands (status, health, versions, monmap, auth, config-key,
config) are defined here (:data:`MON_COMMANDS`); the OSD and pool commands in
:mod:`asyncmsgr.testing.fake_mon_osd_commands`; ``tell mon.X`` commands in
:data:`TELL_COMMANDS`.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from asyncmsgr.testing import fake_mon_dumps as dumps

if TYPE_CHECKING:
    from asyncmsgr.testing.fake_cluster import FakeCluster

#: ``MonCommand::FLAG_*``.
FLAG_NOFORWARD = 1 << 0
FLAG_OBSOLETE = 1 << 1
FLAG_DEPRECATED = 1 << 2
FLAG_MGR = 1 << 3
FLAG_POLL = 1 << 4
FLAG_HIDDEN = 1 << 5


class CommandResult(NamedTuple):
    """A command's answer: errno (0 or negative), status string, output bytes."""

    r: int = 0
    rs: str = ""
    out: bytes = b""


class CommandError(Exception):
    """A handler's failure: ``-errno`` and Ceph's message."""

    def __init__(self, r: int, rs: str) -> None:
        super().__init__(rs)
        self.r = r
        self.rs = rs


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """One command as the mon received it."""

    args: Mapping[str, Any]
    """The JSON command (``prefix`` and the named arguments)."""
    inbuf: bytes
    cluster: FakeCluster
    mon: str = "a"
    """The name of the mon answering."""

    @property
    def prefix(self) -> str:
        """The command's words (``osd pool create``)."""
        return str(self.args.get("prefix", ""))

    @property
    def format(self) -> str:
        """``json``, ``json-pretty``, ``plain`` ... (default plain)."""
        return str(self.args.get("format") or "plain")

    def arg(self, name: str, default: str | None = None) -> str:
        """A string argument (CommandError(-EINVAL) if a required one is missing)."""
        v = self.args.get(name, default)
        if v is None:
            raise CommandError(-errno.EINVAL, f"missing required parameter {name}")
        if isinstance(v, list):
            return " ".join(str(x) for x in v)
        return str(v)

    def arg_int(self, name: str, default: int | None = None) -> int:
        """An integer argument."""
        v = self.args.get(name, default)
        if v is None:
            raise CommandError(-errno.EINVAL, f"missing required parameter {name}")
        try:
            return int(v)
        except (TypeError, ValueError):
            raise CommandError(-errno.EINVAL, f"{name} must be an integer, not {v!r}") from None

    def arg_bool(self, name: str) -> bool:
        """A CephBool argument (absent: False)."""
        v = self.args.get(name, False)
        return v is True or str(v).lower() in ("true", "1", "yes")

    def arg_list(self, name: str) -> list[str]:
        """An ``n=N`` argument as a list (absent: empty)."""
        v = self.args.get(name)
        if v is None:
            return []
        if isinstance(v, list):
            return [str(x) for x in v]
        return [str(v)]


Handler = Callable[[CommandRequest], CommandResult]


def parse_signature(sig: str) -> list[str | dict[str, str]]:
    """``dump_cmd_to_json``: literal words stay strings, ``name=x,type=T,...`` become
    dicts of their key/value pairs."""
    out: list[str | dict[str, str]] = []
    for word in sig.split():
        if "=" not in word:
            out.append(word)
            continue
        desc: dict[str, str] = {}
        for part in word.split(","):
            k, _, v = part.partition("=")
            desc[k] = v
        out.append(desc)
    return out


@dataclass(frozen=True, slots=True)
class MonCommand:
    """One command: Ceph's descriptor and the fake's handler."""

    signature: str
    help: str
    handler: Handler
    module: str = "mon"
    perm: str = "r"
    flags: int = 0
    prefix: str = field(init=False)

    def __post_init__(self) -> None:
        words = [w for w in self.signature.split() if "=" not in w]
        object.__setattr__(self, "prefix", " ".join(words))

    def descriptor(self) -> dict[str, Any]:
        """The ``get_command_descriptions`` entry."""
        return {"sig": parse_signature(self.signature), "help": self.help,
                "module": self.module, "perm": self.perm, "flags": self.flags}

    def required(self) -> list[str]:
        """Names of the arguments the signature requires."""
        out = []
        for word in parse_signature(self.signature):
            if isinstance(word, dict) and word.get("req", "true").lower() == "true":
                out.append(word["name"])
        return out


class CommandTable:
    """Commands by prefix, in the order ``get_command_descriptions`` lists them."""

    def __init__(self, commands: Iterable[MonCommand] = (), *, tell: bool = False) -> None:
        self._commands: dict[str, MonCommand] = {}
        self.tell = tell
        """A ``tell`` table: descriptors carry only ``sig`` and ``help``."""
        for c in commands:
            self.add(c)

    def add(self, command: MonCommand) -> None:
        """Add (or replace, by prefix) a command."""
        self._commands[command.prefix] = command

    def remove(self, prefix: str) -> None:
        """Forget a command."""
        self._commands.pop(prefix, None)

    def __contains__(self, prefix: object) -> bool:
        return prefix in self._commands

    def prefixes(self) -> list[str]:
        """Every prefix, in table order."""
        return list(self._commands)

    def descriptions(self) -> bytes:
        """``get_command_descriptions`` output."""
        out: dict[str, Any] = {}
        for i, c in enumerate(self._commands.values()):
            d = c.descriptor()
            out[f"cmd{i:03d}"] = {"sig": d["sig"], "help": d["help"]} if self.tell else d
        return json.dumps(out).encode()

    def dispatch(self, req: CommandRequest) -> CommandResult:
        """Answer one command (Ceph's errno and message on failure)."""
        if req.prefix == "get_command_descriptions":
            return CommandResult(0, "", self.descriptions())
        command = self._commands.get(req.prefix)
        if command is None:
            return CommandResult(-errno.EINVAL, "command not known")
        try:
            for name in command.required():
                if name not in req.args:
                    raise CommandError(-errno.EINVAL, f"missing required parameter {name}")
            return command.handler(req)
        except CommandError as exc:
            return CommandResult(exc.r, exc.rs)


def parse_command(cmd: list[str]) -> dict[str, Any]:
    """An MMonCommand's strings as the JSON dict (CommandError(-EINVAL) if not JSON)."""
    try:
        req = json.loads("".join(cmd)) if cmd else {}
    except ValueError:
        raise CommandError(-errno.EINVAL, "invalid JSON command") from None
    if not isinstance(req, dict):
        raise CommandError(-errno.EINVAL, "command is not a JSON object")
    return req


def formatted(req: CommandRequest, obj: Any, plain: str | Callable[[], str],
              rs: str = "") -> CommandResult:
    """``obj`` as JSON for ``-f json``/``json-pretty``, else the plain text."""
    fmt = req.format
    if fmt == "json":
        return CommandResult(0, rs, json.dumps(obj, separators=(",", ":")).encode())
    if fmt == "json-pretty":
        return CommandResult(0, rs, (json.dumps(obj, indent=4) + "\n").encode())
    text = plain() if callable(plain) else plain
    return CommandResult(0, rs, text.encode())


# -- mon commands ------------------------------------------------------------------------


def _status(req: CommandRequest) -> CommandResult:
    c = req.cluster
    v = c.view()
    h = c.health_json(False)
    return formatted(req, dumps.status_json(v, h), lambda: dumps.status_text(v, h))


def _health(req: CommandRequest) -> CommandResult:
    detail = req.args.get("detail") == "detail"
    h = req.cluster.health_json(detail)
    return formatted(req, h, lambda: dumps.health_text(h, detail))


def _version(req: CommandRequest) -> CommandResult:
    return formatted(req, {"version": dumps.FAKE_CEPH_VERSION}, dumps.FAKE_CEPH_VERSION + "\n")


def _versions(req: CommandRequest) -> CommandResult:
    c = req.cluster
    mons = len(c.monmap().ranks)
    osds = c.osdmap.get_num_up_osds()
    ver = dumps.FAKE_CEPH_VERSION
    out = {"mon": {ver: mons}, "mgr": {}, "osd": {ver: osds} if osds else {}, "mds": {},
           "overall": {ver: mons + osds}}
    return formatted(req, out, json.dumps(out, indent=4) + "\n")


def _mon_versions(req: CommandRequest) -> CommandResult:
    out = {dumps.FAKE_CEPH_VERSION: len(req.cluster.monmap().ranks)}
    return formatted(req, out, json.dumps(out, indent=4) + "\n")


def _fsid(req: CommandRequest) -> CommandResult:
    fsid = str(req.cluster.fsid)
    return formatted(req, {"fsid": fsid}, fsid + "\n")


def _mon_dump(req: CommandRequest) -> CommandResult:
    m = req.cluster.monmap()
    epoch = req.args.get("epoch")
    if epoch is not None and int(epoch) != m.epoch:
        raise CommandError(-errno.ENOENT, f"there is no map for epoch {epoch}")
    d = dumps.monmap_json(m)
    d["quorum"] = list(range(len(m.ranks)))
    return formatted(req, d, lambda: dumps.monmap_text(m), f"dumped monmap epoch {m.epoch}")


def _mon_stat(req: CommandRequest) -> CommandResult:
    m = req.cluster.monmap()
    d = {"epoch": m.epoch, "min_mon_release_name": "pacific", "num_mons": len(m.ranks),
         "leader": m.ranks[0] if m.ranks else "",
         "quorum": [{"rank": i, "name": n} for i, n in enumerate(m.ranks)]}
    return formatted(req, d, lambda: dumps.mon_stat_text(m))


def _quorum_status(req: CommandRequest) -> CommandResult:
    c = req.cluster
    m = c.monmap()
    v = c.view()
    d = {"election_epoch": 3, "quorum": list(range(len(m.ranks))),
         "quorum_names": list(m.ranks), "quorum_leader_name": m.ranks[0] if m.ranks else "",
         "quorum_age": int(v.now - v.quorum_since),
         "features": {"quorum_con": str(c.features),
                      "quorum_mon": list(dumps.MON_FEATURE_NAMES)},
         "monmap": dumps.monmap_json(m)}
    return formatted(req, d, json.dumps(d) + "\n")


def _mon_status(req: CommandRequest) -> CommandResult:
    c = req.cluster
    m = c.monmap()
    rank = list(m.ranks).index(req.mon) if req.mon in m.ranks else -1
    d = {"name": req.mon, "rank": rank, "state": "leader" if rank == 0 else "peon",
         "election_epoch": 3, "quorum": list(range(len(m.ranks))),
         "quorum_age": int(c.view().now - c.view().quorum_since),
         "features": {"required_con": "2449958747317026820",
                      "required_mon": list(dumps.MON_FEATURE_NAMES),
                      "quorum_con": str(c.features),
                      "quorum_mon": list(dumps.MON_FEATURE_NAMES)},
         "outside_quorum": [], "extra_probe_peers": [], "sync_provider": [],
         "monmap": dumps.monmap_json(m)}
    return formatted(req, d, json.dumps(d, indent=4) + "\n")


# -- auth ----------------------------------------------------------------------------------


def _keyring_text(entries: Iterable[tuple[str, str, Mapping[str, str]]]) -> str:
    out = []
    for name, key, caps in entries:
        out.append(f"[{name}]\n\tkey = {key}\n")
        out.extend(f'\tcaps {svc} = "{cap}"\n' for svc, cap in sorted(caps.items()))
    return "".join(out)


def _entity(req: CommandRequest) -> tuple[str, str, dict[str, str]]:
    name = req.arg("entity")
    found = req.cluster.auth.get(name)
    if found is None:
        raise CommandError(-errno.ENOENT, f"failed to find {name} in keyring")
    key, caps = found
    return name, key, caps


def _auth_get(req: CommandRequest) -> CommandResult:
    name, key, caps = _entity(req)
    d = [{"entity": name, "key": key, "caps": dict(sorted(caps.items()))}]
    return formatted(req, d, lambda: _keyring_text([(name, key, caps)]),
                     f"exported keyring for {name}")


def _auth_get_key(req: CommandRequest) -> CommandResult:
    _, key, _ = _entity(req)
    return formatted(req, {"key": key}, key)


def _caps_pairs(req: CommandRequest) -> dict[str, str]:
    caps = req.arg_list("caps")
    if len(caps) % 2:
        raise CommandError(-errno.EINVAL, "bad capabilities request; odd number of arguments")
    return dict(zip(caps[0::2], caps[1::2], strict=True))


def _auth_add(req: CommandRequest) -> CommandResult:
    name = req.arg("entity")
    caps = _caps_pairs(req)
    auth = req.cluster.auth
    existing = auth.get(name)
    if existing is not None:
        if caps and caps != existing[1]:
            raise CommandError(-errno.EINVAL, f"entity {name} exists but caps do not match")
        return CommandResult(0, f"entity {name} exists but key does not match"
                             if req.inbuf else "")
    auth.add(name, caps, key_from=req.inbuf)
    return CommandResult(0, f"added key for {name}")


def _auth_get_or_create(req: CommandRequest) -> CommandResult:
    name = req.arg("entity")
    caps = _caps_pairs(req)
    auth = req.cluster.auth
    existing = auth.get(name)
    if existing is not None and caps and caps != existing[1]:
        raise CommandError(-errno.EINVAL, f"key for {name} exists but cap {next(iter(caps))} "
                           "does not match")
    if existing is None:
        auth.add(name, caps, key_from=req.inbuf)
    _, key, mine = _entity(req)
    if req.prefix == "auth get-or-create-key":
        return formatted(req, {"key": key}, key)
    d = [{"entity": name, "key": key, "caps": dict(sorted(mine.items()))}]
    return formatted(req, d, lambda: _keyring_text([(name, key, {})]))


def _auth_ls(req: CommandRequest) -> CommandResult:
    entries = req.cluster.auth.entries()
    d = {"auth_dump": [{"entity": n, "key": k, "caps": dict(sorted(c.items()))}
                       for n, k, c in entries]}

    def text() -> str:
        out = []
        for n, k, c in entries:
            out.append(f"{n}\n\tkey: {k}\n")
            out.extend(f"\tcaps: [{svc}] {cap}\n" for svc, cap in sorted(c.items()))
        return "".join(out)
    return formatted(req, d, text, "" if req.format.startswith("json")
                     else "installed auth entries:\n")


def _auth_del(req: CommandRequest) -> CommandResult:
    name = req.arg("entity")
    if not req.cluster.auth.remove(name):
        raise CommandError(-errno.ENOENT, f"entity {name} does not exist")
    return CommandResult(0, "updated")


def _auth_export(req: CommandRequest) -> CommandResult:
    if "entity" in req.args:
        name, key, caps = _entity(req)
        entries = [(name, key, caps)]
    else:
        entries = req.cluster.auth.entries()
    d = [{"entity": n, "key": k, "caps": dict(sorted(c.items()))} for n, k, c in entries]
    return formatted(req, d, lambda: _keyring_text(entries), "export auth(key=...)")


# -- config-key / config -----------------------------------------------------------------


def _ck_get(req: CommandRequest) -> CommandResult:
    key = req.arg("key")
    v = req.cluster.config_keys.get(key)
    if v is None:
        raise CommandError(-errno.ENOENT, "")
    return CommandResult(0, "", v)


def _ck_set(req: CommandRequest) -> CommandResult:
    key = req.arg("key")
    val = req.args.get("val")
    data = str(val).encode() if val is not None else req.inbuf
    req.cluster.config_keys[key] = data
    return CommandResult(0, f"set {key}")


def _ck_ls(req: CommandRequest) -> CommandResult:
    keys = sorted(req.cluster.config_keys)
    if req.format == "json":
        return CommandResult(0, "", json.dumps(keys, separators=(",", ":")).encode())
    return CommandResult(0, "", (json.dumps(keys, indent=4) + "\n").encode())


def _ck_rm(req: CommandRequest) -> CommandResult:
    key = req.arg("key")
    if req.cluster.config_keys.pop(key, None) is None:
        return CommandResult(0, f"no such key '{key}'")
    return CommandResult(0, "key deleted")


def _ck_exists(req: CommandRequest) -> CommandResult:
    key = req.arg("key")
    if key in req.cluster.config_keys:
        return CommandResult(0, f"key '{key}' exists")
    return CommandResult(-errno.ENOENT, f"key '{key}' doesn't exist")


def _ck_dump(req: CommandRequest) -> CommandResult:
    prefix = req.arg("key", "")
    d = {k: v.decode("utf-8", "replace") for k, v in sorted(req.cluster.config_keys.items())
         if k.startswith(prefix)}
    return CommandResult(0, "", (json.dumps(d, indent=4) + "\n").encode())


def _config_set(req: CommandRequest) -> CommandResult:
    req.cluster.config_db[(req.arg("who"), req.arg("name"))] = req.arg("value")
    req.cluster.config_changed()
    return CommandResult(0, "")


def _config_rm(req: CommandRequest) -> CommandResult:
    req.cluster.config_db.pop((req.arg("who"), req.arg("name")), None)
    req.cluster.config_changed()
    return CommandResult(0, "")


def _config_get(req: CommandRequest) -> CommandResult:
    who = req.arg("who")
    values = req.cluster.config_for(who)
    key = req.args.get("key")
    if key is not None:
        if key not in values:
            raise CommandError(-errno.ENOENT, f"unrecognized key '{key}'")
        return formatted(req, values[key], values[key] + "\n")
    return formatted(req, values, "".join(f"{k} = {v}\n" for k, v in sorted(values.items())))


def _config_dump(req: CommandRequest) -> CommandResult:
    rows = [{"section": who, "name": name, "value": value, "level": "advanced",
             "can_update_at_runtime": True, "mask": ""}
            for (who, name), value in sorted(req.cluster.config_db.items())]

    def text() -> str:
        lines = ["WHO     MASK  LEVEL     OPTION  VALUE  RO"]
        lines += [f"{r['section']}  advanced  {r['name']}  {r['value']}" for r in rows]
        return "\n".join(lines) + "\n"
    return formatted(req, rows, text)


def _log(req: CommandRequest) -> CommandResult:
    req.cluster.cluster_log.append(" ".join(req.arg_list("logtext")))
    return CommandResult(0, "")


MON_COMMANDS: tuple[MonCommand, ...] = (
    MonCommand("fsid", "show cluster FSID/UUID", _fsid),
    MonCommand("log name=logtext,type=CephString,n=N", "log supplied text to the monitor log",
               _log, perm="rw"),
    MonCommand("status", "show cluster status", _status),
    MonCommand("health name=detail,type=CephChoices,req=false,strings=detail",
               "show cluster health", _health),
    MonCommand("quorum_status", "report status of monitor quorum", _quorum_status),
    MonCommand("mon_status", "report status of monitors", _mon_status,
               flags=FLAG_NOFORWARD | FLAG_HIDDEN),
    MonCommand("version", "show mon daemon version", _version,
               flags=FLAG_NOFORWARD | FLAG_HIDDEN),
    MonCommand("mon versions", "check running versions of monitors", _mon_versions),
    MonCommand("versions", "check running versions of ceph daemons", _versions),
    MonCommand("mon dump name=epoch,type=CephInt,range=0,req=false",
               "dump formatted monmap (optionally from epoch)", _mon_dump),
    MonCommand("mon stat", "summarize monitor status", _mon_stat),
    MonCommand("auth export name=entity,type=CephString,req=false",
               "write keyring for requested entity, or master keyring if none given",
               _auth_export, module="auth", perm="rx"),
    MonCommand("auth get name=entity,type=CephString", "write keyring file with requested key",
               _auth_get, module="auth", perm="rx"),
    MonCommand("auth get-key name=entity,type=CephString", "display requested key",
               _auth_get_key, module="auth", perm="rx"),
    MonCommand("auth print-key name=entity,type=CephString", "display requested key",
               _auth_get_key, module="auth", perm="rx"),
    MonCommand("auth list", "list authentication state", _auth_ls, module="auth", perm="rx",
               flags=FLAG_DEPRECATED),
    MonCommand("auth ls", "list authentication state", _auth_ls, module="auth", perm="rx"),
    MonCommand("auth add name=entity,type=CephString name=caps,type=CephString,n=N,req=false",
               "add auth info for <entity> from input file, or random key if no input is "
               "given, and/or any caps specified in the command",
               _auth_add, module="auth", perm="rwx"),
    MonCommand("auth get-or-create-key name=entity,type=CephString "
               "name=caps,type=CephString,n=N,req=false",
               "get, or add, key for <name> from system/caps pairs specified in the "
               "command.  If key already exists, any given caps must match the existing "
               "caps for that key.", _auth_get_or_create, module="auth", perm="rwx"),
    MonCommand("auth get-or-create name=entity,type=CephString "
               "name=caps,type=CephString,n=N,req=false",
               "add auth info for <entity> from input file, or random key if no input "
               "given, and/or any caps specified in the command",
               _auth_get_or_create, module="auth", perm="rwx"),
    MonCommand("auth del name=entity,type=CephString", "delete all caps for <name>", _auth_del,
               module="auth", perm="rwx", flags=FLAG_DEPRECATED),
    MonCommand("auth rm name=entity,type=CephString", "remove all caps for <name>", _auth_del,
               module="auth", perm="rwx"),
    MonCommand("config-key get name=key,type=CephString", "get <key>", _ck_get,
               module="config-key"),
    MonCommand("config-key set name=key,type=CephString name=val,type=CephString,req=false",
               "set <key> to value <val>", _ck_set, module="config-key", perm="rw"),
    MonCommand("config-key put name=key,type=CephString name=val,type=CephString,req=false",
               "put <key>, value <val>", _ck_set, module="config-key", perm="rw",
               flags=FLAG_DEPRECATED),
    MonCommand("config-key del name=key,type=CephString", "delete <key>", _ck_rm,
               module="config-key", perm="rw", flags=FLAG_DEPRECATED),
    MonCommand("config-key rm name=key,type=CephString", "rm <key>", _ck_rm,
               module="config-key", perm="rw"),
    MonCommand("config-key exists name=key,type=CephString", "check for <key>'s existence",
               _ck_exists, module="config-key"),
    MonCommand("config-key list", "list keys", _ck_ls, module="config-key",
               flags=FLAG_DEPRECATED),
    MonCommand("config-key ls", "list keys", _ck_ls, module="config-key"),
    MonCommand("config-key dump name=key,type=CephString,req=false",
               "dump keys and values (with optional prefix)", _ck_dump, module="config-key"),
    MonCommand("config set name=who,type=CephString name=name,type=CephString "
               "name=value,type=CephString name=force,type=CephBool,req=false",
               "Set a configuration option for one or more entities", _config_set,
               module="config", perm="rw"),
    MonCommand("config rm name=who,type=CephString name=name,type=CephString",
               "Clear a configuration option for one or more entities", _config_rm,
               module="config", perm="rw"),
    MonCommand("config get name=who,type=CephString name=key,type=CephString,req=False",
               "Show configuration option(s) for an entity", _config_get, module="config"),
    MonCommand("config dump", "Show all configuration option(s)", _config_dump),
)


# -- tell mon.X ------------------------------------------------------------------------------


def _tell_version(req: CommandRequest) -> CommandResult:
    d = {"version": "16.2.15", "release": "pacific", "release_type": "stable"}
    return formatted(req, d, json.dumps(d, indent=4) + "\n")


def _tell_git_version(req: CommandRequest) -> CommandResult:
    d = {"git_version": dumps.FAKE_GIT_SHA}
    return formatted(req, d, json.dumps(d, indent=4) + "\n")


def _tell_help(req: CommandRequest) -> CommandResult:
    table = req.cluster.tell_commands
    lines = {p: table_help(table, p) for p in table.prefixes()}
    return formatted(req, lines, json.dumps(lines, indent=4) + "\n")


def table_help(table: CommandTable, prefix: str) -> str:
    """A command's help text."""
    d = json.loads(table.descriptions())
    for entry in d.values():
        if " ".join(w for w in entry["sig"] if isinstance(w, str)) == prefix:
            return str(entry["help"])
    return ""


def _tell_sessions(req: CommandRequest) -> CommandResult:
    out = req.cluster.mon_sessions(req.mon)
    return formatted(req, out, json.dumps(out, indent=4) + "\n")


TELL_COMMANDS: tuple[MonCommand, ...] = (
    MonCommand("get_command_descriptions", "list available commands", _tell_help),
    MonCommand("git_version", "get git sha1", _tell_git_version),
    MonCommand("help", "list available commands", _tell_help),
    MonCommand("mon_status", "report status of monitors", _mon_status),
    MonCommand("sessions", "list existing sessions", _tell_sessions),
    MonCommand("version", "get ceph version", _tell_version),
)


__all__ = [
    "FLAG_DEPRECATED",
    "FLAG_HIDDEN",
    "FLAG_MGR",
    "FLAG_NOFORWARD",
    "FLAG_OBSOLETE",
    "FLAG_POLL",
    "MON_COMMANDS",
    "TELL_COMMANDS",
    "CommandError",
    "CommandRequest",
    "CommandResult",
    "CommandTable",
    "Handler",
    "MonCommand",
    "formatted",
    "parse_command",
    "parse_signature",
]
