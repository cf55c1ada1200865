"""The lazy message registry: type numbers -> modules, imported on first decode.

``message_types.MESSAGE_MODULES`` names the module of every typed class and
``asyncmsgr.messages`` resolves its names on first access; these tests check both
tables against what the modules define, and that a fresh interpreter decodes
every type number while importing only the modules of the types it met.
"""

from __future__ import annotations

import json
import subprocess
import sys

import asyncmsgr.messages as msgs
from asyncmsgr.features import CEPH_FEATURES_ALL
from asyncmsgr.message import MESSAGE_TYPES, import_message_types, message_class
from asyncmsgr.message_types import MESSAGE_MODULES

_CHILD = r"""
import json, sys
from asyncmsgr.message import MsgHeader, decode_message
import asyncmsgr.messages
def loaded():
    return sorted(m for m in sys.modules if m.startswith("asyncmsgr.messages."))
out = {"at_start": loaded(), "decoded": {}}
for t, version, compat, front in json.loads(sys.argv[1]):
    before = set(loaded())
    m = decode_message(MsgHeader(type=t, version=version, compat_version=compat),
                       bytes.fromhex(front))
    out["decoded"][str(t)] = [type(m).__module__, type(m).__qualname__,
                              sorted(set(loaded()) - before)]
print(json.dumps(out))
"""


def test_modules_table_matches_what_the_modules_register() -> None:
    registered = import_message_types()
    ours = {t: cls.__module__ for t, cls in registered.items()
            if cls.__module__.startswith("asyncmsgr.messages.")}
    assert ours == MESSAGE_MODULES
    for type_, module in MESSAGE_MODULES.items():
        cls = message_class(type_)
        assert cls is not None
        assert (cls.TYPE, cls.__module__) == (type_, module)


def test_unknown_type_has_no_class() -> None:
    assert message_class(0x7FFF) is None
    assert 0x7FFF not in MESSAGE_TYPES


def test_package_names_resolve_to_their_modules() -> None:
    for name in msgs.__all__:
        value = getattr(msgs, name)
        module = msgs._MODULE_OF[name]
        assert getattr(sys.modules[f"asyncmsgr.messages.{module}"], name) is value
    assert set(msgs._MODULE_OF) == set(msgs.__all__)
    try:
        msgs.NoSuchMessage  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError:
        pass
    else:
        raise AssertionError("an unknown name resolved")


def test_fresh_interpreter_decodes_every_type_importing_only_its_module() -> None:
    cases = []
    for type_, cls in sorted(import_message_types().items()):
        if type_ not in MESSAGE_MODULES:
            continue
        m = cls()
        m.prepare(CEPH_FEATURES_ALL)
        cases.append((type_, m.version, m.compat_version, bytes(m.front).hex()))
    assert len(cases) == len(MESSAGE_MODULES)
    proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(cases)],
                          capture_output=True, text=True, timeout=60, check=True)
    out = json.loads(proc.stdout)
    assert out["at_start"] == []  # importing the package imports no message module
    seen: set[str] = set()
    for type_, *_ in cases:
        got_module, qualname, newly = out["decoded"][str(type_)]
        seen.update(newly)
        assert (got_module, qualname) == (MESSAGE_MODULES[type_],
                                          MESSAGE_TYPES[type_].__qualname__)
        assert got_module in seen
    # the first decode (MPing) imported its module alone
    assert out["decoded"]["2"][2] == ["asyncmsgr.messages.ping"]
