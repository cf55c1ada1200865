"""asyncmsgr.monc.conf: ceph.conf syntax, sections, metavariables, arguments, mon_host.

Expected values are Ceph Pacific's (MonMap::_add_ambiguous_addr, ConfUtils, and
``ceph-conf`` / ``monmaptool --generate`` runs recorded in the module docstring of
asyncmsgr.monc.conf); tests/interop/test_ceph_conf_oracle.py checks them live.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from asyncmsgr.config import MessengerConfig
from asyncmsgr.monc.conf import (
    ClientSettings,
    ConfEnv,
    ConfError,
    ConfFile,
    expand_meta,
    load_client_settings,
    parse_client_args,
    parse_mon_host,
)
from asyncmsgr.types import AuthName, EntityType


def _env(files: Mapping[str, str], environ: Mapping[str, str] | None = None) -> ConfEnv:
    return ConfEnv(environ=dict(environ or {}), read_file=files.get, hostname="node1",
                   home="/home/u", pid=42)


def _load(argv: list[str], files: Mapping[str, str],
          environ: Mapping[str, str] | None = None) -> ClientSettings:
    return load_client_settings(argv, env=_env(files, environ))


def _mons(mon_host: str, *, for_mkfs: bool = False) -> list[str]:
    return [str(m) for m in parse_mon_host(mon_host, for_mkfs=for_mkfs).mons]


# --- mon_host ---------------------------------------------------------------------------

@pytest.mark.parametrize(("mon_host", "expected"), [
    ("127.0.0.1", ["v2:127.0.0.1:3300/0 mon.noname-a",
                   "v1:127.0.0.1:6789/0 mon.noname-a-legacy"]),
    ("127.0.0.1:6789", ["v1:127.0.0.1:6789/0 mon.noname-a-legacy"]),
    ("127.0.0.1:3300", ["v2:127.0.0.1:3300/0 mon.noname-a"]),
    ("127.0.0.1:7000", ["v2:127.0.0.1:7000/0 mon.noname-a",
                        "v1:127.0.0.1:7000/0 mon.noname-a-legacy"]),
    ("[::1]:3300", ["v2:[::1]:3300/0 mon.noname-a"]),
    ("v2:127.0.0.1:3300", ["v2:127.0.0.1:3300/0 mon.noname-a"]),
    ("v2:127.0.0.1", ["v2:127.0.0.1:3300/0 mon.noname-a"]),
    ("v1:127.0.0.1", ["v1:127.0.0.1:6789/0 mon.noname-a"]),
    ("[v2:127.0.0.1:3300,v1:127.0.0.1:6789]",
     ["[v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0] mon.noname-a"]),
    ("[v2:127.0.0.1:3301,v1:127.0.0.1:6790],[v2:127.0.0.2:3301,v1:127.0.0.2:6790]",
     ["[v2:127.0.0.1:3301/0,v1:127.0.0.1:6790/0] mon.noname-a",
      "[v2:127.0.0.2:3301/0,v1:127.0.0.2:6790/0] mon.noname-b"]),
    ("v1:1.1.1.1:6789 v2:2.2.2.2:3300;3.3.3.3:6789, 4.4.4.4:3300",
     ["v1:1.1.1.1:6789/0 mon.noname-a", "v2:2.2.2.2:3300/0 mon.noname-b",
      "v1:3.3.3.3:6789/0 mon.noname-c-legacy", "v2:4.4.4.4:3300/0 mon.noname-d"]),
    # the same address twice is one monitor
    ("v1:1.1.1.1:6789,1.1.1.1:6789", ["v1:1.1.1.1:6789/0 mon.noname-a"]),
])
def test_mon_host_forms(mon_host: str, expected: list[str]) -> None:
    assert _mons(mon_host) == expected


@pytest.mark.parametrize(("mon_host", "expected"), [
    ("127.0.0.1", ["[v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0] mon.noname-a"]),
    ("127.0.0.2:6789", ["v1:127.0.0.2:6789/0 mon.noname-a"]),
    ("127.0.0.5:7000", ["v2:127.0.0.5:7000/0 mon.noname-a"]),
])
def test_mon_host_for_mkfs(mon_host: str, expected: list[str]) -> None:
    assert _mons(mon_host, for_mkfs=True) == expected


def test_mon_host_hostnames_resolved_later() -> None:
    hosts = parse_mon_host("mon1.example.com:6789, 10.0.0.9, mon2")
    assert hosts.unresolved == ("mon1.example.com:6789", "mon2")
    assert [str(m) for m in hosts.mons] == ["v2:10.0.0.9:3300/0 mon.noname-b",
                                            "v1:10.0.0.9:6789/0 mon.noname-b-legacy"]
    table = {"mon1.example.com": ["10.0.0.1"], "mon2": ["10.0.0.2", "::2"]}
    resolved = hosts.resolve(lambda host: table[host])
    assert resolved.unresolved == ()
    assert [str(a) for a in resolved.addrvecs] == [
        "v2:10.0.0.9:3300/0", "v1:10.0.0.9:6789/0", "v1:10.0.0.1:6789/0",
        "v2:10.0.0.2:3300/0", "v1:10.0.0.2:6789/0", "v2:[::2]:3300/0", "v1:[::2]:6789/0"]
    with pytest.raises(ConfError, match="unable to resolve"):
        hosts.resolve(lambda host: [])


@pytest.mark.parametrize("bad", ["[v2:127.0.0.1:3300", "1.2.3.4:99999", "1.2.3.4:6789x",
                                 "[v2:1.2.3.4:3300,]", "a b!c", "300.1.1.1"])
def test_mon_host_garbage(bad: str) -> None:
    with pytest.raises(ConfError, match="unable to parse addrs in"):
        parse_mon_host(bad)


# --- file syntax --------------------------------------------------------------------------

def test_conf_syntax() -> None:
    conf = ConfFile.parse(
        "top = 1\n"
        "# comment\n"
        "; comment\n"
        "[global]   # after header\n"
        "  mon  host = 1.2.3.4   # trailing\n"
        "  mon_data = x ; trailing\n"
        "  mon-host = dash\n"
        '  log_file = "/q x y"  ; c\n'
        "  cont = abc \\\n"
        "def\n"
        "  dup = 1\n"
        "  dup = 2\n"
        '  esc = "a\\"b"\n'
        "  bare = a\\#b\\c\n"
        "  empty =\n"
        "  tab = a\tb  \n"
        "[ mon ]\n"
        "  x = 1\n"
        "[global]\n"
        "  later = 3"  # no final newline: accepted (Pacific refuses it)
    )
    g = conf.sections["global"]
    assert g["top"] == "1"
    assert g["mon_host"] == "1.2.3.4"
    assert g["mon_data"] == "x"
    assert g["mon-host"] == "dash"  # dashes are not normalised in files
    assert g["log_file"] == "/q x y"
    assert g["cont"] == "abc def"
    assert g["dup"] == "2"
    assert g["esc"] == 'a"b'
    assert g["bare"] == "a#bc"
    assert g["empty"] == ""
    assert g["tab"] == "a\tb"
    assert g["later"] == "3"
    assert conf.sections[" mon "] == {"x": "1"}
    assert conf.lookup("mon host", ["client", "global"]) == "1.2.3.4"


@pytest.mark.parametrize(("text", "match"), [
    ('a = "b;c"\n', "inside a quoted value"),
    ('a = "b#c"\n', "inside a quoted value"),
    ('a = "b c" x\n', "unexpected text"),
    ("novalue\n", "expected 'key = value'"),
    ("[global\n", "expected ']'"),
    ("]\n", "unexpected"),
    ("[]\n", "empty section"),
    (" = v\n", "empty key"),
    ('a = "open\n', "missing closing quote"),
    ("a = b \\\n", "backslash"),
])
def test_conf_syntax_errors(text: str, match: str) -> None:
    with pytest.raises(ConfError, match=match):
        ConfFile.parse(text, "x.conf")


# --- sections and metavariables -----------------------------------------------------------

_CONF = """\
[global]
    mon_host = 10.0.0.1
    debug_ms = 1
    keyring = /k/$cluster.$name.keyring
    log_file = /log/$cluster-$name-$type-$id-$host.log
    run_dir = /run/x
    admin_socket = $run_dir/${cluster}x-$cluster_x-$nope.asok
    a = $b
    b = $a
[client]
    debug_ms = 5
    mon_client_ping_interval = 4
[client.admin]
    debug_ms = 7
[client.foo]
    debug ms = 9
[mon]
    debug_ms = 20
"""


def test_section_precedence() -> None:
    files = {"/etc/ceph/ceph.conf": _CONF}
    assert _load([], files).options["debug_ms"] == "7"
    assert _load(["--id", "foo"], files).options["debug_ms"] == "9"
    assert _load(["-n", "client.bar"], files).options["debug_ms"] == "5"
    assert _load(["-n", "osd.3"], files).options["debug_ms"] == "1"
    assert _load(["-n", "mon.a"], files).options["debug_ms"] == "20"
    assert _load([], files).mon_client_ping_interval == 4.0
    assert _load(["-n", "osd.3"], files).mon_client_ping_interval == 10.0


def test_metavariables() -> None:
    s = _load(["-n", "client.foo"], {"/etc/ceph/ceph.conf": _CONF})
    assert s.cluster == "ceph"
    assert s.options["keyring"] == "/k/ceph.client.foo.keyring"
    assert s.keyring_paths == ("/k/ceph.client.foo.keyring",)
    assert s.options["log_file"] == "/log/ceph-client.foo-client-foo-node1.log"
    assert s.options["admin_socket"] == "/run/x/cephx-$cluster_x-$nope.asok"
    assert s.options["a"] == "$b"  # a loop leaves the value as it was
    assert expand_meta("$x/${x}y/$$x", {"x": "1"}.get) == "1/1y/$1"


def test_cluster_name_from_conf_file_name() -> None:
    files = {"/t/foo.conf": "keyring = /k/$cluster\nmon_host = 1.2.3.4\n",
             "/t/noext": "mon_host = 1.2.3.4\n"}
    assert _load(["-c", "/t/foo.conf"], files).cluster == "foo"
    assert _load(["-c", "/t/foo.conf"], files).options["keyring"] == "/k/foo"
    assert _load(["-c", "/missing.conf,/t/foo.conf"], files).cluster == "foo"
    assert _load(["-c", "/t/foo.conf", "--cluster", "qq"], files).cluster == "qq"
    assert _load(["-c", "/t/noext"], files).cluster == "ceph"
    # CEPH_CONF does not name the cluster
    assert _load([], files, {"CEPH_CONF": "/t/foo.conf"}).cluster == "ceph"


def test_default_search_paths() -> None:
    files = {"/home/u/.ceph/ceph.conf": "mon_host = 1.2.3.4\n"}
    s = _load([], files)
    assert s.conf_path == "/home/u/.ceph/ceph.conf"
    assert s.keyring_paths == ("/etc/ceph/ceph.client.admin.keyring", "/etc/ceph/ceph.keyring",
                               "/etc/ceph/keyring", "/etc/ceph/keyring.bin")
    s = _load(["--cluster", "c2", "-m", "1.2.3.4"], {"/etc/ceph/c2.conf": "debug_ms = 3\n"})
    assert s.conf_path == "/etc/ceph/c2.conf"
    assert s.options["debug_ms"] == "3"
    assert _load(["-m", "1.2.3.4"], {}, {"CEPH_CONF": "/none"}).conf_path is None
    with pytest.raises(ConfError, match="unable to open config file from search list /none"):
        _load(["-c", "/none"], {})
    with pytest.raises(ConfError, match=r"^no monitors specified to connect to\.$"):
        _load([], {})


def test_mon_sections_without_mon_host() -> None:
    conf = "[mon.a]\nmon addr = 10.0.0.1\n[mon.b]\nmon addr = 10.0.0.2:7000\n"
    s = _load(["-c", "/c.conf"], {"/c.conf": conf})
    assert [str(m) for m in s.mon_hosts.mons] == ["v1:10.0.0.1:6789/0 mon.a",
                                                  "v1:10.0.0.2:7000/0 mon.b"]
    with pytest.raises(ConfError, match=r"unable to parse address for mon\.a"):
        _load(["-c", "/c.conf"], {"/c.conf": "[mon.a]\nmon addr = nope\n"})


# --- arguments ------------------------------------------------------------------------------

def test_argument_precedence() -> None:
    files = {"/c.conf": "[global]\nkeyring = /file\nmon_host = 5.5.5.5\ndebug_ms = 1\n"
                        "ms_mon_client_mode = crc secure\n"}
    env = {"CEPH_ARGS": "--keyring=/env --mon_host 9.9.9.9 --debug-ms 2 --id envid"}
    s = _load(["-c", "/c.conf", "--keyring", "/cmd", "-m", "1.1.1.1"], files, env)
    assert s.options["keyring"] == "/cmd"
    assert s.options["mon_host"] == "1.1.1.1"
    assert s.options["debug_ms"] == "2"
    assert s.name == AuthName(EntityType.CLIENT, "envid")
    s = _load(["-c", "/c.conf"], files, env)
    assert s.options["keyring"] == "/env"
    assert [str(a) for a in s.mon_addrs] == ["v2:9.9.9.9:3300/0", "v1:9.9.9.9:6789/0"]
    s = _load(["-c", "/c.conf"], files)
    assert s.options["keyring"] == "/file"
    assert s.ms_mon_client_mode == ["crc", "secure"]
    assert s.messenger_config.ms_mon_client_mode == "crc secure"
    s = _load(["-c", "/c.conf", "--ms-mon-client-mode", "secure"], files,
              {"CEPH_ARGS": "--ms_mon_client_mode=crc"})
    assert s.messenger_config.ms_mon_client_mode == "secure"
    assert s.ms_mon_client_mode == ["secure"]


def test_client_arguments() -> None:
    files = {"/c.conf": "mon_host = 1.2.3.4\n"}
    s = _load(["-c", "/c.conf", "-n", "client.x", "--key", "QUJD", "-K", "/kf",
               "--connect-timeout", "2.5", "--format", "json", "status", "--",
               "--keyring", "/after"], files)
    assert s.name == AuthName(EntityType.CLIENT, "x")
    assert s.key == "QUJD"
    assert s.keyfile == "/kf"
    assert s.connect_timeout == 2.5
    assert s.rest == ("--format", "json", "status", "--", "--keyring", "/after")
    assert _load(["-c", "/c.conf", "-i", "y"], files).name == AuthName(EntityType.CLIENT, "y")
    assert _load(["-c", "/c.conf", "--name=osd.1", "--id", "z"], files).name == AuthName(
        EntityType.CLIENT, "z")
    s = _load(["-c", "/c.conf", "--ms_die_on_bad_msg", "status",
               "--no-ms-crc-data", "--auth-client-required=none"], files)
    assert s.messenger_config.ms_die_on_bad_msg is True
    assert s.messenger_config.ms_crc_data is False
    assert s.auth_client_required == ["none"]
    assert s.rest == ("status",)


def test_typed_defaults() -> None:
    s = _load(["-m", "1.2.3.4"], {})
    assert s.auth_client_required == ["cephx", "none"]
    assert s.ms_mon_client_mode == ["secure", "crc"]
    assert s.mon_client_ping_interval == 10.0
    assert s.mon_client_ping_timeout == 30.0
    assert s.mon_client_hunt_interval == 3.0
    assert s.mon_client_hunt_parallel == 3
    assert s.client_mount_timeout == 300.0
    assert s.rados_mon_op_timeout == 0.0
    assert s.key is None
    assert s.connect_timeout is None
    assert s.messenger_config == MessengerConfig()
    assert s.get("no_such_option", "d") == "d"
    assert s.get("run-dir") == "/var/run/ceph"


@pytest.mark.parametrize(("argv", "match"), [
    (["-m", "1.2.3.4", "-n", "nodot"], "error parsing '--name'"),
    (["-m", "1.2.3.4", "-n"], "requires an argument"),
    (["-m", "1.2.3.4", "--ms_no_such_option=1"], "unknown option"),
    (["-m", "1.2.3.4", "--ms_async_op_threads=lots"], "ms_async_op_threads"),
    (["-m", "1.2.3.4", "--connect-timeout", "soon"], "connect-timeout"),
    (["-m", "1.2.3.4", "--mon_client_hunt_parallel=x"], "mon_client_hunt_parallel"),
    (["-m", "[v2:bad"], "unable to parse addrs in '\\[v2:bad'"),
])
def test_bad_arguments(argv: list[str], match: str) -> None:
    def load_and_read() -> int:
        return _load(argv, {}).mon_client_hunt_parallel  # typed accessors convert lazily

    with pytest.raises(ConfError, match=match):
        load_and_read()


def test_parse_client_args_order() -> None:
    args = parse_client_args(["--keyring", "/a", "x", "--", "y"],
                             {"CEPH_ARGS": "--keyring /e e1 -- e2"})
    assert args.values == {"keyring": "/a"}
    assert args.rest == ("e1", "x", "--", "y", "e2")


def test_conf_error_is_value_error() -> None:
    assert issubclass(ConfError, ValueError)
