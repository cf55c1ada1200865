"""asyncmsgr.monc.conf against Pacific's own tools (``ceph-conf``, ``monmaptool``).

Generated ``ceph.conf`` files are read by ``ceph-conf -c FILE -n NAME --lookup KEY``
and by :func:`load_client_settings`; ``mon_host`` is compared with what
``monmaptool --create --generate`` builds (MonMap::build_initial with for_mkfs)
against :func:`parse_mon_host` with ``for_mkfs=True``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from asyncmsgr.monc.conf import ConfEnv, load_client_settings, parse_mon_host

pytestmark = [
    pytest.mark.interop, pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("ceph-conf") is None or shutil.which("monmaptool") is None,
                       reason="ceph-conf/monmaptool not installed (apt-get install ceph-common "
                              "ceph-base; see .ci/run)"),
]

CONF = """\
# generated for the oracle
; both comment styles
[global]
    fsid = 5a1d0c1e-0000-4000-8000-00000000c0de
    mon host = {mon_host}   # trailing comment
    keyring = /k/$cluster.$name.keyring
    log_file = "/log/$cluster-$name-$type-$id.log"   ; quoted
    admin_socket = $run_dir/${{cluster}}-$name.asok
    run_dir = /r
    debug ms = 1
    mon_client_ping_interval = 4
    cont = abc \\
def
    esc = a\\#b
[client]
    debug_ms = 5
    rados_mon_op_timeout = 7
[client.admin]
    debug_ms = 7
[client.foo]
    debug  ms = 9
[mon]
    debug_ms = 20
"""

MON_HOSTS = [
    "127.0.0.1",
    "127.0.0.2:6789, 127.0.0.3:3300 127.0.0.4:7000",
    "[v2:127.0.0.5:3301,v1:127.0.0.5:6790],[v2:127.0.0.6:3301,v1:127.0.0.6:6790]",
    "v1:127.0.0.7 v2:127.0.0.8;[::1]:3300,v2:127.0.0.9:4000",
]
NAMES = ["client.admin", "client.foo", "client.bar", "osd.3", "mon.a"]
KEYS = ["mon_host", "keyring", "log_file", "admin_socket", "debug_ms",
        "mon_client_ping_interval", "rados_mon_op_timeout", "cont", "esc"]


def _ceph_conf(conf: Path, name: str, key: str) -> str | None:
    proc = subprocess.run(["ceph-conf", "-c", str(conf), "-n", name, "--lookup", key],
                          capture_output=True, text=True, timeout=30, check=False,
                          env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})
    if proc.returncode != 0:
        assert not proc.stderr.strip(), proc.stderr
        return None
    return proc.stdout.rstrip("\n")


@pytest.mark.parametrize("mon_host", MON_HOSTS)
def test_lookup_matches_ceph_conf(tmp_path: Path, mon_host: str) -> None:
    conf = tmp_path / "oracle.conf"
    conf.write_text(CONF.format(mon_host=mon_host))
    env = ConfEnv.from_os()
    env = ConfEnv(environ={}, read_file=env.read_file, hostname=env.hostname, home=env.home)
    for name in NAMES:
        ours = load_client_settings(["-c", str(conf), "-n", name], env=env)
        assert ours.cluster == "oracle"
        for key in KEYS:
            assert ours.options.get(key) == _ceph_conf(conf, name, key), (name, key)


def _monmaptool_mons(conf: Path, tmp_path: Path, mon_host: str) -> dict[str, str]:
    monmap = tmp_path / "monmap"
    # -m, not the file: ';' would start a comment in ceph.conf
    subprocess.run(["monmaptool", "--create", "--generate", "-c", str(conf), "-m", mon_host,
                    "--clobber", str(monmap)], capture_output=True, check=True, timeout=30)
    out = subprocess.run(["monmaptool", "--print", str(monmap)], capture_output=True,
                         text=True, check=True, timeout=30).stdout
    return {m.group(2): m.group(1)
            for m in re.finditer(r"^\d+: (\S+) mon\.(\S+)$", out, re.MULTILINE)}


@pytest.mark.parametrize("mon_host", MON_HOSTS)
def test_mon_host_matches_monmaptool(tmp_path: Path, mon_host: str) -> None:
    conf = tmp_path / "ceph.conf"
    conf.write_text("[global]\nfsid = 5a1d0c1e-0000-4000-8000-00000000c0de\n")
    ours = {m.name: str(m.addrs) for m in parse_mon_host(mon_host, for_mkfs=True).mons}
    assert ours == _monmaptool_mons(conf, tmp_path, mon_host)
