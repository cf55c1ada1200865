"""``asyncmsgr ceph`` against the real ``ceph`` on a real mon + mgr + OSD cluster.

Every command line of :data:`READ_ONLY` (good and bad ones: unknown commands,
wrong types, out-of-range numbers, bad choices, missing and extra arguments,
unknown pools, tells to daemons that do not exist, a key without the caps) is
run by Pacific's ``ceph`` and by ``asyncmsgr ceph`` on both drivers; stdout
(parsed when it is JSON, byte for byte otherwise), stderr and the exit status
must be the same. Outputs that move with time (ages, stamps, counters) are
normalised first; what is normalised is said next to the case.

The real tool runs once per case, up front, several at a time (the cases do
not change the cluster); ``asyncmsgr ceph`` runs in this process. Commands that
change the cluster (:data:`CHANGES`) run one after the other, each tool on its
own pool, key or setting, and are compared with the names swapped.

The cluster is private to this module: ``CephCluster(num_osds=1, mgr=True)``,
pool ``test``; its start-up (mon, OSD and manager together) is most of the
module's time.
"""

from __future__ import annotations

import concurrent.futures
import io
import json
import os
import re
import shlex
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ceph_cluster import CephCluster, ceph_binary, ceph_mon_binary, ceph_osd_binary

from asyncmsgr.cli import ceph as ceph_cli
from asyncmsgr.messages import MMgrMap
from asyncmsgr.monc.conf import load_client_settings
from asyncmsgr.monc.sync import SyncMonClient
from asyncmsgr.testing.ceph_daemons import clean_env

pytestmark = [pytest.mark.interop, pytest.mark.timeout(300)]

#: (command line, how to compare). Flags: ``json`` (stdout parsed), ``ages``
#: ("(age 3m)", "(since 2s)" made equal), ``usage`` (the "usage:" line's sizes
#: made equal: the manager's statistics of the OSD's store move between the real
#: tool's run and ours), ``drop=a.b,c`` (JSON keys dropped),
#: ``ro`` (run as ``client.ro``, whose key has ``mon 'allow r'`` only).
READ_ONLY: list[tuple[str, str]] = [
    # status and health
    ("status", "ages usage"),
    ("-s", "ages usage"),
    ("-f json status", "json drop=quorum_age,servicemap,bytes_used,bytes_avail,bytes_total,"
                       "data_bytes"),
    ("health", ""),
    ("health detail", ""),
    ("-f json health", "json"),
    ("version", ""),
    ("versions", ""),
    ("-f json-pretty versions", "json"),
    ("features", "drop=client"),
    ("time-sync-status", "json drop=time_skew_status"),
    # monitors
    ("mon dump", ""),
    ("-f json mon dump", "json"),
    ("--format=json-pretty mon dump 1", "json"),
    ("mon stat", ""),
    ("quorum_status", "json drop=quorum_age"),
    ("-f json-pretty quorum_status", "json drop=quorum_age"),
    ("mon versions", ""),
    ("mon feature ls", ""),
    ("mon metadata a", ""),
    ("mon count-metadata ceph_version", ""),
    ("tell mon.a version", ""),
    ("tell mon.* version", ""),
    ("tell mon version", ""),
    ("tell mon.a mon_status", "json drop=quorum_age,feature_map"),
    # OSDs and pools
    ("osd tree", ""),
    ("-f json osd tree", "json"),
    ("osd tree up", ""),
    ("osd tree --states up,in", ""),
    ("osd ls", ""),
    ("-f json osd ls", "json"),
    ("osd dump", ""),
    ("-f json osd dump", "json"),
    ("osd stat", "ages"),
    ("-f json osd stat", "json"),
    ("osd getmaxosd", ""),
    ("osd pool ls", ""),
    ("osd lspools", ""),
    ("osd pool ls detail", ""),
    ("-f json osd pool ls detail", "json"),
    ("osd pool get test size", ""),
    ("osd pool get test all", ""),
    ("-f json osd pool get test pg_num", "json"),
    ("osd pool get test size --format json", "json"),
    ("osd pool get-quota test", ""),
    ("osd pool application get test", ""),
    ("osd pool autoscale-status", ""),
    ("osd pool stats", ""),
    ("osd pool stats test", ""),
    ("osd crush dump", ""),
    ("osd crush tree", ""),
    ("-f json osd crush tree", "json"),
    ("osd crush rule ls", ""),
    ("osd crush rule dump", ""),
    ("osd crush class ls", ""),
    ("osd crush weight-set ls", ""),
    ("osd crush show-tunables", ""),
    ("osd erasure-code-profile ls", ""),
    ("osd erasure-code-profile get default", ""),
    ("osd blocklist ls", ""),
    ("osd find 0", ""),
    ("osd metadata 0", ""),
    ("osd count-metadata osd_objectstore", ""),
    ("osd versions", ""),
    ("osd map test obj1", ""),
    ("-f json osd map test obj1", "json"),
    ("osd utilization", ""),
    ("osd numa-status", ""),
    ("osd ok-to-stop 0", ""),
    ("osd safe-to-destroy 0", ""),
    ("osd getcrushmap 1", ""),
    ("osd dump 1", ""),
    # the manager's commands
    ("pg stat", ""),
    ("-f json pg stat", "json"),
    ("pg dump pgs_brief", ""),
    ("-f json pg ls-by-pool test", "json"),
    ("pg map 1.0", ""),
    ("-f json pg map 1.0", "json"),
    ("pg dump_stuck", ""),
    ("osd df", ""),
    ("-f json osd df", "json"),
    ("osd df tree", ""),
    ("osd perf", ""),
    ("df", ""),
    ("df detail", ""),
    ("-f json df", "json"),
    ("iostat -p 0", ""),
    ("balancer status", "json drop=last_optimize_duration,last_optimize_started,"
                        "no_optimization_needed,optimize_result"),
    ("crash ls", ""),
    ("device ls", ""),
    ("progress", ""),
    ("fs ls", ""),
    ("fs dump", ""),
    ("mds stat", ""),
    ("node ls", ""),
    ("mgr dump", "json drop=active_change"),
    ("mgr stat", ""),
    ("mgr module ls", ""),
    ("mgr services", ""),
    ("mgr versions", ""),
    ("mgr metadata", ""),
    ("tell mgr version", ""),
    ("tell mgr.x version", ""),
    # auth and configuration
    ("auth ls", ""),
    ("auth get client.admin", ""),
    ("-f json auth get client.admin", "json"),
    ("auth get mon.", ""),
    ("auth print-key client.admin", ""),
    ("config dump", ""),
    ("config get mon.a", ""),
    ("config get mon.a debug_mon", ""),
    ("config show osd.0 osd_objectstore", ""),
    ("config generate-minimal-conf", ""),
    ("config-key ls", ""),
    # OSD tells and PG commands
    ("tell osd.0 version", ""),
    ("tell osd.* version", ""),
    ("tell osd.0 config get osd_objectstore", ""),
    ("tell osd.0 dump_ops_in_flight", "json drop=num_ops,ops"),
    ("pg 1.0 query", "json drop=info,peer_info,recovery_state,snap_trimq,snap_trimq_len"),
    ("tell 1.0 query", "json drop=info,peer_info,recovery_state,snap_trimq,snap_trimq_len"),
    # failures the monitors, the manager or the OSD report
    ("osd pool get nosuchpool size", ""),
    ("osd map nosuchpool obj1", ""),
    ("osd pool get test nosuchvar", ""),
    ("auth get client.nobody", ""),
    ("config-key get nosuchkey", ""),
    ("osd crush rule dump nosuchrule", ""),
    ("mon_status", ""),
    ("tell osd.0 nope", ""),
    ("osd down 99", ""),
    # command lines ceph refuses itself
    ("frobnicate", ""),
    ("osd", ""),
    ("osd pool", ""),
    ("osd tree extra", ""),
    ("osd tree -1", ""),
    ("osd tree --bogus", ""),
    ("osd pool create", ""),
    ("config set", ""),
    ("osd pool set test size abc", ""),
    ("osd pool set-quota test max_objects abc", ""),
    ("osd set-full-ratio 2", ""),
    ("osd reweight 0 1.5", ""),
    ("osd primary-affinity 0 2", ""),
    ("osd pool get test foo", ""),
    ("mon dump 1 2", ""),
    ("pg map 1.zz", ""),
    ("osd blocklist add 1.2.3.4/5x", ""),
    ("--ms_foo 1 version", ""),
    ("--frobnicate status", ""),
    ("tell foo version", ""),
    ("tell osd.x version", ""),
    ("tell osd.99 version", ""),
    ("tell mon.zz version", ""),
    ("tell osd.0", ""),
    # a key with mon 'allow r' only
    ("osd tree", "ro"),
    ("osd pool create x 8", "ro"),
    ("auth ls", "ro"),
    ("pg stat", "ro"),
    ("tell osd.0 version", "ro"),
    ("tell mon.a version", "ro"),
]

#: Commands that change the cluster, run one after the other: ``{name}`` is the
#: real tool's object (pool, key, setting) or ours, compared with names swapped.
CHANGES: list[str] = [
    "osd pool create {name} 4",
    "osd pool create {name} 4",
    "osd pool application enable {name} rbd",
    "osd pool application enable {name} rbd",
    "osd pool set {name} size 1",
    "osd pool mksnap {name} snap1",
    "osd pool set-quota {name} max_objects 100",
    "osd pool rename {name} {name}-renamed",
    "osd pool rename {name} nosuchpool",
    "auth add client.{name} mon 'allow r'",
    "auth caps client.{name} mon 'allow rw'",
    "auth rm client.{name}",
    "config-key set cli/{name} v1",
    "config-key exists cli/{name}",
    "config-key rm cli/{name}",
    "config set osd.0 debug_osd 1/5",
    "config rm osd.0 debug_osd",
    "osd set noout",
    "osd unset noout",
    "log hello-from-{name}",
]

_AGES = re.compile(rb"(\(|, )(age|since) [^)]*\)")
_USAGE = re.compile(rb"(usage: +).*")
RO_KEYRING = "ro.keyring"


def _flags(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for word in text.split():
        key, _, value = word.partition("=")
        out[key] = value
    return out


def _drop(d: Any, keys: set[str]) -> Any:
    if isinstance(d, dict):
        return {k: _drop(v, keys) for k, v in d.items() if k not in keys}
    if isinstance(d, list):
        return [_drop(v, keys) for v in d]
    return d


def normalised(line: str, flags: str, out: bytes) -> Any:
    """stdout as compared: parsed JSON (minus volatile keys) or bytes."""
    f = _flags(flags)
    if "ages" in f:
        out = _AGES.sub(rb"\1\2 T)", out)
    if "usage" in f:
        out = _USAGE.sub(rb"\1SIZES", out)
    if "json" in f or "drop" in f:
        if not out.strip():
            return out
        doc = json.loads(out)
        if "drop" in f:
            doc = _drop(doc, set(f["drop"].split(",")))
        return doc
    return out


def _argv(cluster: CephCluster, line: str, flags: str) -> list[str]:
    keyring = str(cluster.dir / RO_KEYRING) if "ro" in _flags(flags) else str(
        cluster.keyring_path)
    extra = ["--id", "ro"] if "ro" in _flags(flags) else []
    return ["-c", str(cluster.conf_path), "-k", keyring, "--connect-timeout", "20",
            *extra, *shlex.split(line)]


def real_ceph(cluster: CephCluster, argv: list[str]) -> tuple[int, bytes, bytes]:
    """The real tool's (exit status, stdout, stderr)."""
    proc = subprocess.run(["ceph", *argv], capture_output=True, timeout=60, check=False,
                          env=clean_env())
    return proc.returncode, proc.stdout, proc.stderr


def ours(argv: list[str], driver: ceph_cli.Driver) -> tuple[int, bytes, bytes]:
    """``asyncmsgr ceph``'s (exit status, stdout, stderr), run in this process."""
    out, err = io.StringIO(), io.StringIO()
    rc = ceph_cli.main(argv, {}, stdout=out, stderr=err, driver=driver)
    return (rc, out.getvalue().encode("utf-8", "surrogateescape"),
            err.getvalue().encode("utf-8", "surrogateescape"))


@pytest.fixture(scope="module")
def cluster() -> Iterator[CephCluster]:
    """mon + mgr + memstore OSD, pool ``test``, key ``client.ro`` (mon 'allow r')."""
    if ceph_mon_binary() is None or ceph_osd_binary() is None or ceph_binary("ceph-mgr") is None:
        pytest.skip("ceph-mon, ceph-osd and ceph-mgr are needed (.ci/run installs them)")
    c = CephCluster(num_mons=1, num_osds=1, mgr=True, auth_none=False)
    c.start()
    try:
        c.wait_ready(timeout=90)
        ring = c.ceph("auth", "get-or-create", "client.ro", "mon", "allow r")
        (c.dir / RO_KEYRING).write_text(ring)
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def oracle(cluster: CephCluster) -> dict[tuple[str, str], tuple[int, bytes, bytes]]:
    """The real tool's answer to every read-only case, four at a time."""
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = {case: pool.submit(real_ceph, cluster, _argv(cluster, *case))
                   for case in READ_ONLY}
        return {case: f.result() for case, f in futures.items()}


def test_the_list_is_long_enough() -> None:
    """The issue's bar: at least 100 command lines, bad ones included."""
    assert len(READ_ONLY) + len(CHANGES) >= 100
    assert len(READ_ONLY) >= 100


@pytest.mark.parametrize("driver", ["sync", "asyncio"])
@pytest.mark.parametrize("case", READ_ONLY, ids=[f"{line}[{flags}]" if flags else line
                                                 for line, flags in READ_ONLY])
def test_same_as_ceph(cluster: CephCluster, oracle: dict[tuple[str, str],
                                                        tuple[int, bytes, bytes]],
                      case: tuple[str, str], driver: ceph_cli.Driver) -> None:
    line, flags = case
    argv = _argv(cluster, line, flags)
    want_rc, want_out, want_err = oracle[case]
    rc, out, err = ours(argv, driver)
    if (rc, _program(err), normalised(line, flags, out)) != (
            want_rc, _program(want_err), normalised(line, flags, want_out)):
        # The real tool ran up front; the cluster may have moved since (PGs
        # peered, the manager's statistics updated): ask it again, now.
        want_rc, want_out, want_err = real_ceph(cluster, argv)
    assert (rc, _program(err)) == (want_rc, _program(want_err)), line
    assert normalised(line, flags, out) == normalised(line, flags, want_out), line


def _program(stderr: bytes) -> str:
    """stderr with the program's name (``/usr/bin/ceph``, ``asyncmsgr ceph``) as ``ceph``."""
    return stderr.decode().replace("/usr/bin/ceph", "ceph").replace("asyncmsgr ceph", "ceph")


def _swap(text: bytes, mine: str, theirs: str) -> bytes:
    """Our object's name as the real tool's, and numbers that differ with them
    (pool ids) made equal."""
    text = text.replace(mine.encode(), theirs.encode())
    return re.sub(rb"pool \d+", b"pool N", text)


def test_changes_same_as_ceph(cluster: CephCluster, tmp_path: Path) -> None:
    """Each changing command by the real tool on its objects, then by ours on
    ours (the sync driver; the asyncio one on a few): same status and output."""
    for i, template in enumerate(CHANGES):
        driver: ceph_cli.Driver = "asyncio" if i % 4 == 3 else "sync"
        theirs = template.format(name="cli-real")
        mine = template.format(name="cli-ours")
        want = real_ceph(cluster, _argv(cluster, theirs, ""))
        got = ours(_argv(cluster, mine, ""), driver)
        assert got[0] == want[0], (mine, got, want)
        assert _swap(got[1], "cli-ours", "cli-real") == _swap(want[1], "cli-ours", "cli-real")
        assert _swap(got[2], "cli-ours", "cli-real") == _swap(want[2], "cli-ours", "cli-real")


def test_input_and_output_files(cluster: CephCluster, tmp_path: Path) -> None:
    """``-i FILE`` sends the file as the command's input, ``-o FILE`` gets the
    output (``-o -``: stdout, raw)."""
    blob = tmp_path / "value"
    blob.write_bytes(b"from a file\x00\xff")
    for who, name in (("real", "cli-in-real"), ("ours", "cli-in-ours")):
        argv = _argv(cluster, f"-i {blob} config-key set cli/{name}", "")
        rc, _out, err = real_ceph(cluster, argv) if who == "real" else ours(argv, "sync")
        assert rc == 0, err
    for who, name in (("real", "cli-in-real"), ("ours", "cli-in-ours")):
        target = tmp_path / f"{who}.out"
        argv = _argv(cluster, f"-o {target} config-key get cli/{name}", "")
        rc, out, _err = real_ceph(cluster, argv) if who == "real" else ours(argv, "sync")
        assert (rc, out) == (0, b"")
    assert (tmp_path / "ours.out").read_bytes() == (tmp_path / "real.out").read_bytes() \
        == b"from a file\x00\xff"
    want = real_ceph(cluster, _argv(cluster, "-o - -f json osd pool ls", ""))
    assert ours(_argv(cluster, "-o - -f json osd pool ls", ""), "sync") == want


def test_mgrmap_as_ceph_dumps_it(cluster: CephCluster) -> None:
    """The MgrMap our client decodes says what ``ceph mgr dump`` says."""
    dump = cluster.ceph_json("mgr", "dump")
    assert isinstance(dump, dict)
    settings = load_client_settings(["-c", str(cluster.conf_path),
                                     "-k", str(cluster.keyring_path)])
    auth = ceph_cli.make_auth_client(settings)
    with SyncMonClient(settings.mon_addrs, auth_client=auth,
                       config=settings.messenger_config) as monc:
        monc.connect(20)
        monc.core.sub_want("mgrmap")
        m = monc.wait_for_map("mgrmap", 20)
    assert isinstance(m, MMgrMap)
    mgrmap = m.decode_mgrmap()
    assert mgrmap.epoch == dump["epoch"]
    assert (mgrmap.active_gid, mgrmap.active_name, mgrmap.available) == (
        dump["active_gid"], dump["active_name"], dump["available"])
    assert [{"type": {1: "v1", 2: "v2"}[a.type], "addr": a.sockaddr_str(), "nonce": a.nonce}
            for a in mgrmap.active_addrs.addrs] == dump["active_addrs"]["addrvec"]
    assert mgrmap.active_mgr_features == dump["active_mgr_features"]
    assert sorted(mgrmap.modules) == dump["modules"]
    assert list(mgrmap.available_modules) == [i["name"] for i in dump["available_modules"]]
    assert {str(k): sorted(v) for k, v in mgrmap.always_on_modules.items()} == {
        str(16 - i): sorted(dump["always_on_modules"][name])
        for i, name in enumerate(("pacific", "octopus", "nautilus"))}


def test_manager_timeouts_as_ceph(cluster: CephCluster) -> None:
    """The manager frozen (SIGSTOP), ``--rados_mon_op_timeout 1``: what librados
    returns then (mgr_command: ETIMEDOUT, positive) and how ``ceph`` reports it.
    (``tell mgr.zz``, a manager that is not the active one, races in librados:
    ENXIO when the MgrMap comes after the command, a timeout otherwise.)"""
    pid = cluster.pid("mgr.x")
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        for line in ("pg stat", "tell mgr version"):
            argv = _argv(cluster, f"--rados_mon_op_timeout 1 {line}", "")
            want = real_ceph(cluster, argv)
            got = ours(argv, "sync")
            assert got[0] == want[0], line
            assert got[2].splitlines()[-1:] == want[2].splitlines()[-1:], line
    finally:
        os.kill(pid, signal.SIGCONT)
