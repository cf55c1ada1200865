"""The ``ceph`` CLI's command-line rules: descriptions, typed arguments, matching.

Daemons describe their commands (``get_command_descriptions``, Ceph's
``src/mon/MonCommands.h``, ``src/mgr/MgrCommands.h``, the OSD's and the mgr
modules' tables) as JSON: ``{"cmd000": {"sig": ["osd", "pool", "get",
{"name": "pool", "type": "CephPoolname"}, ...], "help": ..., "flags": 8}}``. The
``ceph`` tool (``ceph_argparse.py``) matches the words typed against them; this
module does the same, by the same rules, and returns the messages ``ceph``
prints instead of printing them:

* :func:`parse_descriptions` turns the JSON into :class:`Command` objects (commands
  without ``cli`` in ``avail`` are dropped; an unknown argument type is an error);
* :func:`validate_command` finds the command: every description is scored by how
  many leading words match (:func:`match_count`, partial matches of the last word
  allowed; a full match scores half a point more), the best ones are tried in
  order of fewest required arguments, and the first that validates wins; a
  solid mismatch on an argument stops the search with ``Invalid command: ...``
  and the command's usage line, no candidate with ``no valid command found; N
  closest matches:``;
* :func:`validate` reads one signature: positional words, ``--name value`` and
  ``--name=value`` keyword forms (``-`` and ``_`` alike; a bare ``--flag`` for a
  CephBool), repeated arguments (``n=N``: every following word that validates,
  comma-separated lists too unless the type is CephString), optional arguments
  skipped when a word does not fit them;
* the argument types (:mod:`asyncmsgr.cli.ceph_argtypes`, re-exported here)
  check a word and give the value sent in the JSON command;
* :func:`find_cmd_target` tells where a command goes (``tell osd.0 ...``,
  ``pg 1.0 ...``, else the monitors), :func:`concise_sig` renders usage lines and
  :func:`format_help` the two-column help of ``ceph -h``.
"""

from __future__ import annotations

import json
import math
import re
import string
from collections.abc import Iterable, Mapping, Sequence

from asyncmsgr.cli.ceph_argtypes import (
    ARG_TYPES,
    ArgType,
    ArgumentError,
    ArgumentFormat,
    ArgumentMissing,
    ArgumentNumber,
    ArgumentPrefix,
    ArgumentTooFew,
    ArgumentValid,
    CephBool,
    CephChoices,
    CephEntityAddr,
    CephFilepath,
    CephFloat,
    CephFragment,
    CephInt,
    CephIPAddr,
    CephName,
    CephObjectname,
    CephOsdName,
    CephPgid,
    CephPoolname,
    CephPrefix,
    CephSocketpath,
    CephString,
    CephUUID,
    JsonFormat,
    Value,
    parse_name,
)

# Flags are from MonCommand.h
FLAG_NOFORWARD = 1 << 0
FLAG_OBSOLETE = 1 << 1
FLAG_DEPRECATED = 1 << 2
FLAG_MGR = 1 << 3
FLAG_POLL = 1 << 4
FLAG_HIDDEN = 1 << 5

_KWARG_EQUALS = re.compile("--([^=]+)=(.+)")
_KWARG_SPACE = re.compile("--([^=]+)")
#: Words taken as values of a positional argument although they start with ``--``
#: (confirmation flags that pre-Nautilus daemons declared as strings).
_DASHED_VALUES = frozenset({"--yes-i-really-mean-it", "--yes-i-really-really-mean-it",
                            "--yes-i-really-really-mean-it-not-faking", "--force"})


# -- descriptors and commands ---------------------------------------------------------------

class ArgDesc:
    """One element of a signature (``argdesc``): its type, name, count, whether
    it is required."""

    __slots__ = ("instance", "kind", "n", "name", "repeat", "req")

    def __init__(self, kind: type[ArgType], *, name: str, n: str | int = 1,
                 req: object = True, typeargs: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        self.name = name
        self.repeat = n in ("n", "N")
        """``n=N``: one or more."""
        self.n = 1 if self.repeat else int(n)
        self.req = True if kind is CephPrefix else req in (True, "True", "true")
        try:
            self.instance: ArgType = kind(**dict(typeargs or {}))
        except TypeError as exc:
            raise JsonFormat(f"bad arguments for {kind.__name__}: {exc}") from None

    def __str__(self) -> str:
        inst = self.instance
        if self.kind is CephPrefix or (isinstance(inst, CephChoices) and len(inst.strings) == 1):
            s = str(inst)
        else:
            s = f"{self.name}({inst})" + ("..." if self.repeat else "")
        return s if self.req else f"[{s}]"

    def helpstr(self) -> str:
        """The usage form: ``<name>``, ``<name:int>``, choices, ``--flag``..."""
        inst = self.instance
        if self.kind is CephBool:
            chunk = "--" + self.name.replace("_", "-")
        elif self.kind is CephPrefix:
            chunk = str(inst)
        elif self.kind is CephChoices:
            chunk = f"--{self.name} {{{inst}}}" if self.name == "format" else str(inst)
        elif self.kind is CephOsdName:
            chunk = "<id|osd.id>"
        elif self.kind is CephName:
            chunk = "<type.id>"
        elif self.kind is CephInt:
            chunk = f"<{self.name}:int>"
        elif self.kind is CephFloat:
            chunk = f"<{self.name}:float>"
        else:
            chunk = f"<{self.name}>"
        if self.repeat:
            chunk += "..."
        return chunk if self.req else f"[{chunk}]"


class Command:
    """One command description: its signature, help text, flags and the rest.

    The signature's descriptors are built when first used (a command line is
    matched against the few commands whose first word fits, see
    :func:`validate_command`); ``raw`` is the JSON signature, already checked to
    name only known types.
    """

    __slots__ = ("_sig", "first", "flags", "help", "info", "raw", "tag")

    def __init__(self, tag: str, sig: Sequence[object], help_text: str, flags: int,
                 info: Mapping[str, object]) -> None:
        self.tag = tag
        self.raw = sig
        self._sig: list[ArgDesc] | None = None
        self.first = sig[0] if sig and isinstance(sig[0], str) else None
        """The first fixed word, or None when the signature starts otherwise."""
        self.help = help_text
        self.flags = flags
        self.info = info
        """The other fields (``module``, ``perm``, ``avail``)."""

    @property
    def sig(self) -> list[ArgDesc]:
        """The descriptors; raises JsonFormat for arguments a type refuses."""
        if self._sig is None:
            self._sig = parse_sig(self.raw)
        return self._sig

    def __repr__(self) -> str:
        return f"<Command {concise_sig(self.sig)}>"


def parse_sig(sig: Sequence[object]) -> list[ArgDesc]:
    """A JSON signature -> its descriptors (``parse_funcsig``); raises JsonFormat."""
    out: list[ArgDesc] = []
    for desc in sig:
        if isinstance(desc, str):
            out.append(ArgDesc(CephPrefix, name="prefix", typeargs={"prefix": desc}))
            continue
        if not isinstance(desc, dict) or "type" not in desc:
            raise JsonFormat(f"JSON descriptor {sig} has no type")
        kind = ARG_TYPES.get(str(desc["type"]))
        if kind is None:
            raise JsonFormat(f"unknown type {desc['type']}")
        extra = {str(k): str(v) for k, v in desc.items() if k not in ("type", "name", "n", "req")}
        n = desc.get("n", 1)
        out.append(ArgDesc(kind, name=str(desc.get("name")),
                           n=n if isinstance(n, str | int) else 1,
                           req=desc.get("req", True), typeargs=extra))
    return out


def parse_descriptions(text: str | bytes, consumer: str = "cli") -> dict[str, Command]:
    """``get_command_descriptions`` output -> commands by tag (``parse_json_funcsigs``).

    Raises:
        JsonFormat: not JSON, or a description ``ceph`` could not use.
    """
    try:
        overall = json.loads(text)
    except ValueError as exc:
        raise JsonFormat(f"Couldn't parse JSON: {exc}") from None
    if not isinstance(overall, dict):
        raise JsonFormat("command descriptions are not a JSON object")
    out: dict[str, Command] = {}
    for tag, cmd in overall.items():
        if not isinstance(cmd, dict) or "sig" not in cmd:
            raise JsonFormat(f"JSON descriptor {tag} has no 'sig'")
        avail = cmd.get("avail")
        if avail is not None and consumer not in avail:
            continue
        flags = cmd.get("flags", 0)
        info = {k: v for k, v in cmd.items() if k not in ("sig", "help", "flags")}
        sig = cmd["sig"]
        _check_sig(sig)
        out[tag] = Command(tag, sig, str(cmd.get("help", "")),
                           flags if isinstance(flags, int) else 0, info)
    return out


def _check_sig(sig: object) -> None:
    """What ``parse_funcsig`` refuses, without building the descriptors."""
    if not isinstance(sig, list):
        raise JsonFormat(f"JSON descriptor {sig} is not a list")
    for desc in sig:
        if isinstance(desc, str):
            continue
        if not isinstance(desc, dict) or "type" not in desc:
            raise JsonFormat(f"JSON descriptor {sig} has no type")
        if str(desc["type"]) not in ARG_TYPES:
            raise JsonFormat(f"unknown type {desc['type']}")


def concise_sig(sig: Iterable[ArgDesc]) -> str:
    """The usage line of a signature (``osd pool get <pool> size|min_size|...``)."""
    return " ".join(d.helpstr() for d in sig)


# -- matching and validation ----------------------------------------------------------------

def _validate_one(word: str, desc: ArgDesc, is_kwarg: bool, partial: bool = False) -> list[Value]:
    """The values of one word for ``desc`` (a comma list for repeated non-strings)."""
    if desc.repeat and (is_kwarg or desc.kind is not CephString):
        return [desc.instance.valid(part, partial) for part in word.split(",")]
    return [desc.instance.valid(word, partial)]


def match_count(args: Sequence[str], sig: Sequence[ArgDesc], partial: bool = False) -> int:
    """How many descriptors of ``sig`` the words match (``matchnum``); with
    ``partial`` the last word may be the start of a fixed word or choice."""
    words = list(args)
    count = 0
    for desc in sig:
        seen = 0
        want = desc.n
        while seen < want:
            if not words:
                return count
            word = words.pop(0)
            try:
                _validate_one(word, desc, False, partial and not words)
            except ArgumentError:
                if not desc.req:
                    words.insert(0, word)
                    break
                return count
            seen += 1
            if desc.repeat:
                want = seen + 1
        if desc.req:
            count += 1
    return count


def _store(desc: ArgDesc, values: list[Value], d: dict[str, Value]) -> None:
    if desc.repeat:
        if desc.name in d:
            d[desc.name] = d[desc.name] + values
        else:
            d[desc.name] = values
    elif desc.kind is CephPrefix and desc.name in d:
        d[desc.name] += " " + values[-1]
    else:
        d[desc.name] = values[-1]


def validate(args: Sequence[str], sig: Sequence[ArgDesc], flags: int = 0,
             partial: bool = False, notes: list[str] | None = None) -> dict[str, Value]:
    """Read ``args`` against one signature -> the command's JSON fields.

    A word that does not match a fixed word raises ArgumentPrefix (not this
    command); a bad argument raises the ArgumentError saying why. With
    ``partial``, reading stops quietly where the words run out or stop matching.
    ``notes`` receives what ``ceph`` prints on the way (a skipped optional word
    that was left unused). The MGR flag adds ``"target": ["mon-mgr", ""]``, POLL
    ``"poll": true``.
    """
    words = list(args)
    required = sum(1 for desc in sig if desc.req)
    matched = 0
    d: dict[str, Value] = {}
    saved: tuple[str, ArgumentError] | None = None
    by_name = {desc.name: desc for desc in sig if desc.kind is not CephPrefix}
    injectargs = bool(words) and words[0] == "injectargs"
    for desc in sig:
        seen = 0
        want = desc.n
        while seen < want:
            word = words.pop(0) if words else None
            if word is None:
                if not desc.req or desc.name in d:
                    break
            else:
                kw = _keyword(word, words, by_name)
                if kw is not None:
                    kw_desc, kw_value = kw
                    values = _validate_one(kw_value, kw_desc, True)
                    matched += 1
                    _store(kw_desc, values, d)
                    continue
                if word.startswith("--") and not (
                        desc.kind is CephChoices or word in _DASHED_VALUES or injectargs):
                    raise ArgumentValid(f"Unexpected argument '{word}'")
            if word is None:  # out of words for a required argument
                if desc.repeat and seen >= 1:
                    break
                if partial:
                    return d
                if desc.repeat:
                    raise ArgumentNumber(f"saw {seen} of {desc}, expected at least 1")
                if seen == 0 and want == 1:
                    raise ArgumentMissing(f"missing required parameter {desc}")
                raise ArgumentNumber(f"saw {seen} of {desc}, expected {want}")
            try:
                values = _validate_one(word, desc, False)
            except ArgumentError as exc:
                if not desc.req:
                    saved = (word, exc)
                    words.insert(0, word)
                    break
                if partial:
                    return d
                raise
            seen += 1
            if desc.repeat:
                want = seen + 1
            matched += 1
            _store(desc, values, d)
            saved = None
    if matched < required:
        raise ArgumentTooFew("not enough arguments given")
    if words and not partial:
        if saved is not None and notes is not None:
            notes.append(f"{saved[0]} not valid:  {saved[1]}")
        raise ArgumentError("unused arguments: " + str(words))
    if flags & FLAG_MGR:
        d["target"] = ("mon-mgr", "")
    if flags & FLAG_POLL:
        d["poll"] = True
    return d


def _keyword(word: str, words: list[str],
             by_name: Mapping[str, ArgDesc]) -> tuple[ArgDesc, str] | None:
    """``--name=value``, ``--name value`` or a bare ``--flag`` for a CephBool;
    takes the value from ``words`` when it is the next word."""
    m = _KWARG_EQUALS.match(word)
    if m is not None:
        desc = by_name.get(m.group(1).replace("-", "_"))
        return (desc, m.group(2)) if desc is not None else None
    m = _KWARG_SPACE.match(word)
    if m is None:
        return None
    desc = by_name.get(m.group(1).replace("-", "_"))
    if desc is None:
        return None
    if desc.kind is CephBool:
        return desc, "true"
    if words:
        return desc, words.pop(0)
    return None


class Validated:
    """What :func:`validate_command` found: the JSON fields (empty when nothing
    valid was found), the command, and the lines ``ceph`` prints to stderr."""

    __slots__ = ("args", "command", "messages")

    def __init__(self, args: dict[str, Value], command: Command | None,
                 messages: list[str]) -> None:
        self.args = args
        self.command = command
        self.messages = messages


def validate_command(commands: Mapping[str, Command], args: Sequence[str]) -> Validated:
    """Find the command ``args`` means and read its arguments (see the module
    docstring); :attr:`Validated.args` is empty when none fits, and then
    :attr:`Validated.messages` says why, as ``ceph`` does.

    Only the commands whose first word can match are scored first: every other
    one scores 0.5 (no word matched, partially or fully), so when one of these
    scores 1 or more the answer is the same as over all commands; otherwise all
    are scored (the ``closest matches`` of a line that matches nothing).
    """
    if args:
        word, last = args[0], len(args) == 1
        fits = {tag: c for tag, c in commands.items()
                if c.first is None or c.first == word or (last and c.first.startswith(word))}
        found = _best(fits, args)
        if found is not None:
            return found
    found = _best(commands, args, always=True)
    assert found is not None
    return found


def _best(commands: Mapping[str, Command], args: Sequence[str], *,
          always: bool = False) -> Validated | None:
    """:func:`validate_command` over ``commands``; None when the best score is
    below 1 and not ``always``."""
    best = 0.0
    bestcmds: list[Command] = []
    for cmd in commands.values():
        if cmd.flags & FLAG_OBSOLETE:
            continue
        score: float = match_count(args, cmd.sig, partial=True)
        if score >= math.floor(best) and score == match_count(args, cmd.sig):
            score += 0.5
        if score < best:
            continue
        if score > best:
            best = score
            bestcmds = [cmd]
        else:
            bestcmds.append(cmd)
    if best < 1 and not always:
        return None
    ranked = sorted(bestcmds, key=lambda c: sum(1 for desc in c.sig if desc.req))
    messages: list[str] = []
    found: Command | None = None
    valid: dict[str, Value] = {}
    error: ArgumentError | None = None
    for cmd in ranked:
        try:
            valid = validate(args, cmd.sig, flags=cmd.flags, notes=messages)
            found = cmd
            break
        except ArgumentPrefix:
            continue
        except ArgumentMissing as exc:
            error = exc
            if len(bestcmds) == 1:
                found = cmd
            break
        except ArgumentTooFew:
            continue
        except ArgumentError as exc:
            error = exc
            found = cmd
            break
    if found is not None:
        if not valid:
            messages.append(f"Invalid command: {error}")
            messages.append(f"{concise_sig(found.sig)} :  {found.help}")
        return Validated(valid, found, messages)
    shown = [c for c in bestcmds if not c.flags & (FLAG_DEPRECATED | FLAG_HIDDEN)][:10]
    messages.append(f"no valid command found; {len(shown)} closest matches:")
    messages.extend(concise_sig(c.sig) for c in shown)
    return Validated({}, None, messages)


# -- targets ------------------------------------------------------------------------------------

Target = tuple[str | None, str | int | None]
"""Where a command goes: ``("mon", "")``, ``("mon", "a")``, ``("osd", 0)``,
``("osd", "*")``, ``("mgr", None)``, ``("mgr", "x")``, ``("pg", "1.0")``."""

_TELL_NAME = parse_sig(["tell", {"name": "target", "type": "CephName"}])
_TELL_PGID = parse_sig(["tell", {"name": "pgid", "type": "CephPgid"}])
_PG_PGID = parse_sig(["pg", {"name": "pgid", "type": "CephPgid"}])


def find_cmd_target(args: Sequence[str]) -> Target:
    """Where ``args`` go (``find_cmd_target``): ``tell NAME``, ``tell PGID``,
    ``pg PGID``, else any monitor. Raises ArgumentError for a ``tell`` target
    that is not an entity name."""
    for sig, is_pg in ((_TELL_NAME, False), (_TELL_PGID, True)):
        try:
            d = validate(args, sig, partial=True)
        except ArgumentError:
            continue
        if len(d) == 2:
            if is_pg:
                return "pg", str(d["pgid"])
            return parse_name(str(d["target"]))
    if len(args) > 1 and args[0] == "tell":
        return parse_name(args[1])
    try:
        d = validate(args, _PG_PGID, partial=True)
    except ArgumentError:
        pass
    else:
        if len(d) == 2:
            return "pg", str(d["pgid"])
    return "mon", ""


def complete(commands: Mapping[str, Command], args: Sequence[str]) -> str:
    """``ceph --completion WORDS``: the possible next words, one per line (a lone
    match with no more words to offer shows ``#`` and its help)."""
    if args and args[0] == "tell":
        args = args[2:]
    matches = 0
    comps: list[str] = []
    last: Command | None = None
    for cmd in commands.values():
        if cmd.flags & (FLAG_OBSOLETE | FLAG_HIDDEN):
            continue
        sig = cmd.sig
        j = 0
        for arg in args[:-1]:
            if j > len(sig) - 1:
                break
            if arg not in sig[j].instance.complete(arg) and sig[j].req:
                break
            if not sig[j].repeat:
                j += 1
        else:
            if j < len(sig) and args:
                comps += sig[j].instance.complete(args[-1])
            matches += 1
            last = cmd
    if matches == 1 and not comps and last is not None:
        comps = [" ", "#" + last.help]
    return "\n".join(sorted(set(comps))) + "\n"


# -- help -----------------------------------------------------------------------------------

_DONTSPLIT = string.ascii_letters + "{[<>]}"


def wrap(s: str, width: int, indent: int) -> list[str]:
    """``s`` cut into lines of at most ``width``, breaking between words where
    possible, continuation lines indented by ``indent`` (``ceph``'s ``wrap``)."""
    out: list[str] = []
    result = ""
    leader = ""
    while s:
        if len(s) <= width:
            out.append(leader + s)
            break
        split = width
        while split > 0 and s[split - 1] in _DONTSPLIT:
            split -= 1
        if split == 0:
            split = width
        if result:
            result = leader
        else:
            leader = " " * indent
            width -= 1
        result += s[:split].lstrip()
        s = s[split:]
        out.append(result)
    return out


def format_help(commands: Mapping[str, Command], columns: int = 80,
                partial: str | None = None) -> str:
    """The two-column help of ``ceph -h`` (usage | help text), sorted by usage,
    hidden, obsolete and deprecated commands left out; ``partial``: only usages
    starting with it."""
    lines: list[str] = []
    width = columns - 1
    sig_width = width // 2
    help_width = width // 2 + width % 2
    for cmd in sorted(commands.values(), key=lambda c: concise_sig(c.sig)):
        if not cmd.help or cmd.flags & (FLAG_OBSOLETE | FLAG_DEPRECATED | FLAG_HIDDEN):
            continue
        concise = concise_sig(cmd.sig)
        if partial and not concise.startswith(partial):
            continue
        sigs = wrap(concise, sig_width, 1)
        helps = wrap(cmd.help, help_width, 1)
        rows = max(len(sigs), len(helps))
        sigs += [""] * (rows - len(sigs))
        helps += [""] * (rows - len(helps))
        lines.extend(f"{s:{sig_width}s} {h}\n" for s, h in zip(sigs, helps, strict=True))
    return "".join(lines)


__all__ = [
    "ARG_TYPES",
    "FLAG_DEPRECATED",
    "FLAG_HIDDEN",
    "FLAG_MGR",
    "FLAG_NOFORWARD",
    "FLAG_OBSOLETE",
    "FLAG_POLL",
    "ArgDesc",
    "ArgType",
    "ArgumentError",
    "ArgumentFormat",
    "ArgumentMissing",
    "ArgumentNumber",
    "ArgumentPrefix",
    "ArgumentTooFew",
    "ArgumentValid",
    "CephBool",
    "CephChoices",
    "CephEntityAddr",
    "CephFilepath",
    "CephFloat",
    "CephFragment",
    "CephIPAddr",
    "CephInt",
    "CephName",
    "CephObjectname",
    "CephOsdName",
    "CephPgid",
    "CephPoolname",
    "CephPrefix",
    "CephSocketpath",
    "CephString",
    "CephUUID",
    "Command",
    "JsonFormat",
    "Target",
    "Validated",
    "Value",
    "complete",
    "concise_sig",
    "find_cmd_target",
    "format_help",
    "match_count",
    "parse_descriptions",
    "parse_name",
    "parse_sig",
    "validate",
    "validate_command",
    "wrap",
]
