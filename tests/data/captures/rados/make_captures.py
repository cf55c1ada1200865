"""Regenerate the RADOS captures of this directory (see README.md).

Run as root (tcpdump on the loopback interface), from the repository root::

    .venv/bin/python tests/data/captures/rados/make_captures.py [--only NAME]

It starts throw-away clusters with :mod:`asyncmsgr.testing.ceph_cluster` (one mon,
one memstore OSD, pool ``test``, the fixed test keys), then for each capture runs
real ``rados`` (and, for pool operations, python3-rados on Debian's
``/usr/bin/python3``) while ``tcpdump`` records the client traffic: only the mon's
and the OSD's public ports, and never the daemons' own connections that existed
before the capture started; pure TCP ACKs are dropped. Each capture is stored
gzipped as ``NAME.pcap.gz`` (``asyncmsgr decode`` reads it as it is) with a
``NAME.txt`` listing every command, its exit status and the head of its output.
"""

from __future__ import annotations

import argparse
import gzip
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from asyncmsgr.testing.ceph_cluster import CephCluster

HERE = Path(__file__).resolve().parent
# --no-mon-config: no bootstrap mon sessions for the central config (smaller captures;
# v2-crc-object-io keeps them to show a client's whole start-up)
CRC = ["--ms_mon_client_mode=crc", "--ms_client_mode=crc", "--no-mon-config"]
CRC_FULL = ["--ms_mon_client_mode=crc", "--ms_client_mode=crc"]
SECURE = ["--ms_mon_client_mode=secure", "--ms_client_mode=secure", "--no-mon-config"]
V1 = ["--no-mon-config"]


class Recorder:
    """Runs commands against a cluster and logs them for ``NAME.txt``."""

    def __init__(self, cluster: CephCluster, mode: list[str]) -> None:
        self.cluster = cluster
        self.mode = mode
        self.log: list[str] = []
        self.files = cluster.dir / "files"
        self.files.mkdir(exist_ok=True)

    def file(self, name: str, data: bytes) -> str:
        path = self.files / name
        path.write_bytes(data)
        return str(path)

    def rados(self, *args: str, ok: bool = True) -> str:
        argv = self.cluster.rados_argv(*self.mode, *args)
        proc = subprocess.run(argv, capture_output=True, timeout=60, check=False)
        self._note(["rados", *self.mode, *args], proc.returncode,
                   proc.stdout + proc.stderr)
        if ok and proc.returncode != 0:
            raise RuntimeError(f"{argv} failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode(errors="replace")

    def python_rados(self, script: str) -> None:
        """Run ``script`` with python3-rados; ``cluster`` is a connected Rados."""
        conf = self.cluster.conf_path
        keyring = self.cluster.keyring_path
        opts = {a.split("=", 1)[0].lstrip("-"): a.split("=", 1)[1]
                for a in self.mode if "=" in a}
        prologue = (
            "import json, rados\n"
            f"cluster = rados.Rados(conffile={str(conf)!r}, "
            f"conf=dict(keyring={str(keyring)!r}, **{opts!r}))\n"
            "cluster.connect()\n")
        code = prologue + script + "\ncluster.shutdown()\n"
        proc = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True,
                              timeout=60, check=False)
        self._note(["python3-rados", *script.strip().splitlines()], proc.returncode,
                   proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise RuntimeError(f"python3-rados failed: {proc.stderr.decode(errors='replace')}")

    def _note(self, argv: list[str], rc: int, out: bytes) -> None:
        text = out.decode(errors="replace").strip().splitlines()
        head = "\n".join(f"    {line}" for line in text[:12])
        more = f"\n    ... ({len(text) - 12} more lines)" if len(text) > 12 else ""
        self.log.append(f"$ {shlex.join(argv)}\n  exit {rc}\n{head}{more}".rstrip())


def _service_ports(cluster: CephCluster) -> set[int]:
    ports: set[int] = set()
    for mon in cluster.mons:
        ports.update(mon.ports)
    for osd in cluster.osd_dump()["osds"]:
        for addr in osd["public_addrs"]["addrvec"]:
            ports.add(int(addr["addr"].rsplit(":", 1)[1]))
    return ports


def _established_peers(service: set[int]) -> set[int]:
    """Client-side ports of TCP connections to ``service`` ports open right now."""
    out: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local = int(fields[1].rsplit(":", 1)[1], 16)
            remote = int(fields[2].rsplit(":", 1)[1], 16)
            if fields[3] != "01":  # ESTABLISHED
                continue
            if local in service and remote not in service:
                out.add(remote)
            elif remote in service and local not in service:
                out.add(local)
    return out


@contextmanager
def capture(cluster: CephCluster, path: Path) -> Iterator[None]:
    """tcpdump the client traffic to the cluster's mon and OSD public ports."""
    service = _service_ports(cluster)
    daemons = _established_peers(service)
    expr = "tcp and (" + " or ".join(f"port {p}" for p in sorted(service)) + ")"
    # keep SYN/FIN/RST and segments with data; drop pure ACKs (they carry nothing)
    expr += (" and ((tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0)"
             " or (ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2) != 0))")
    if daemons:
        expr += " and not (" + " or ".join(f"port {p}" for p in sorted(daemons)) + ")"
    tcpdump = shutil.which("tcpdump") or "/usr/bin/tcpdump"
    proc = subprocess.Popen([tcpdump, "-i", "lo", "--immediate-mode", "-U", "-s", "0", "-w",
                             str(path), expr],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if "listening" not in line:
        proc.kill()
        raise RuntimeError(f"tcpdump did not start: {line}")
    try:
        yield
    finally:
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def _object_io(r: Recorder) -> None:
    hello = r.file("hello.txt", b"hello world\n")
    r.rados("-p", "test", "put", "myobj", hello)
    r.rados("-p", "test", "get", "myobj", str(r.files / "out.txt"))
    r.rados("-p", "test", "stat", "myobj")
    r.rados("-p", "test", "stat", "missing", ok=False)
    r.rados("-p", "test", "get", "missing", str(r.files / "none.txt"), ok=False)
    r.rados("-p", "test", "rm", "myobj")


def _write_ops(r: Recorder) -> None:
    data = r.file("abc.txt", b"abcdefghijklmnopqrstuvwxyz")
    tail = r.file("tail.txt", b"0123456789")
    r.rados("-p", "test", "create", "wobj")
    r.rados("-p", "test", "create", "wobj", ok=False)  # EEXIST
    r.rados("-p", "test", "put", "wobj", data)
    r.rados("-p", "test", "put", "wobj", tail, "--offset", "30")
    r.rados("-p", "test", "append", "wobj", tail)
    r.rados("-p", "test", "truncate", "wobj", "8")
    r.rados("-p", "test", "stat", "wobj")
    r.rados("-p", "test", "get", "wobj", str(r.files / "wobj.out"))
    r.rados("-p", "test", "rm", "wobj")


def _xattr_omap(r: Recorder) -> None:
    data = r.file("x.txt", b"xattr and omap object\n")
    r.rados("-p", "test", "put", "kvobj", data)
    r.rados("-p", "test", "setxattr", "kvobj", "color", "blue")
    r.rados("-p", "test", "setxattr", "kvobj", "shape", "round")
    r.rados("-p", "test", "getxattr", "kvobj", "color")
    r.rados("-p", "test", "listxattr", "kvobj")
    r.rados("-p", "test", "rmxattr", "kvobj", "shape")
    r.rados("-p", "test", "getxattr", "kvobj", "shape", ok=False)  # ENODATA
    r.rados("-p", "test", "setomapval", "kvobj", "k1", "v1")
    r.rados("-p", "test", "setomapval", "kvobj", "k2", "value two")
    r.rados("-p", "test", "setomapheader", "kvobj", "the header")
    r.rados("-p", "test", "getomapheader", "kvobj")
    r.rados("-p", "test", "getomapval", "kvobj", "k2")
    r.rados("-p", "test", "listomapkeys", "kvobj")
    r.rados("-p", "test", "listomapvals", "kvobj")
    r.rados("-p", "test", "rmomapkey", "kvobj", "k1")
    r.rados("-p", "test", "listomapvals", "kvobj")
    r.rados("-p", "test", "clearomap", "kvobj")
    r.rados("-p", "test", "lock", "get", "kvobj", "mylock")  # cls lock.lock
    r.rados("-p", "test", "lock", "info", "kvobj", "mylock")  # cls lock.get_info
    r.rados("-p", "test", "listwatchers", "kvobj")
    r.rados("-p", "test", "rm", "kvobj")


def _ls_namespaces(r: Recorder) -> None:
    data = r.file("ls.txt", b"listing\n")
    r.rados("-p", "test", "put", "plain", data)
    r.rados("-p", "test", "-N", "ns1", "put", "inns", data)
    r.rados("-p", "test", "put", "keyed", data, "--object-locator", "lockey")
    r.rados("-p", "test", "ls")
    r.rados("-p", "test", "-N", "ns1", "ls")
    r.rados("-p", "test", "ls", "--all")
    r.rados("-p", "test", "rm", "plain")
    r.rados("-p", "test", "-N", "ns1", "rm", "inns")
    r.rados("-p", "test", "rm", "keyed", "--object-locator", "lockey")


def _watch_notify(r: Recorder) -> None:
    data = r.file("w.txt", b"watched\n")
    r.rados("-p", "test", "put", "wnobj", data)
    argv = r.cluster.rados_argv(*r.mode, "-p", "test", "watch", "wnobj")
    watcher = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    assert watcher.stdout is not None
    assert watcher.stdin is not None
    first = watcher.stdout.readline()  # "press enter to exit..."
    r.rados("-p", "test", "notify", "wnobj", "hello-watchers")
    time.sleep(0.2)
    watcher.stdin.write(b"\n")
    watcher.stdin.flush()
    rest, _ = watcher.communicate(timeout=30)
    r._note(["rados", *r.mode, "-p", "test", "watch", "wnobj"], watcher.returncode,
            first + rest)
    r.rados("-p", "test", "rm", "wnobj")


def _bench(r: Recorder) -> None:
    common = ["-p", "test", "bench", "2"]
    r.rados(*common, "write", "-t", "4", "-b", "4096", "-O", "4096", "--max-objects", "16",
            "--no-cleanup", "--run-name", "capture")
    r.rados(*common, "seq", "-t", "4", "--run-name", "capture")
    r.rados("-p", "test", "cleanup", "--run-name", "capture")


def _pools_stats(r: Recorder) -> None:
    r.rados("lspools")
    r.rados("df")
    r.python_rados(
        "cluster.create_pool('capture-pool')\n"
        "print(cluster.pool_lookup('capture-pool'))\n"
        "print(cluster.get_cluster_stats())\n"
        "cluster.delete_pool('capture-pool')\n"
        "print(cluster.mon_command(json.dumps({'prefix': 'osd pool create', "
        "'pool': 'capture-cmd', 'pg_num': 8}), b''))\n"
        "print(cluster.mon_command(json.dumps({'prefix': 'osd pool rm', "
        "'pool': 'capture-cmd', 'pool2': 'capture-cmd', "
        "'yes_i_really_really_mean_it': True}), b''))\n")


CaptureFn = Callable[[Recorder], None]
#: name -> (messenger of the cluster, client mode options, scenario)
CAPTURES: dict[str, tuple[str, list[str], CaptureFn, str]] = {
    "v2-crc-object-io": ("v2+v1", CRC_FULL, _object_io,
                         "put, get, stat, rm; stat and get of a missing object (ENOENT)"),
    "v2-crc-write-ops": ("v2+v1", CRC, _write_ops,
                         "create (exclusive; EEXIST the second time), writefull, write at an "
                         "offset, append, truncate, stat, read, delete"),
    "v2-crc-xattr-omap-cls": ("v2+v1", CRC, _xattr_omap,
                              "setxattr, getxattr, getxattrs, rmxattr (then ENODATA), omap "
                              "set/get header, get vals by keys, get keys, get vals, rm keys, "
                              "clear; cls lock.lock and lock.get_info calls; list-watchers"),
    "v2-crc-ls-namespaces": ("v2+v1", CRC, _ls_namespaces,
                             "objects in the default namespace, in ns1 and with a locator "
                             "key; PGNLS listings of one namespace and of all"),
    "v2-crc-watch-notify": ("v2+v1", CRC, _watch_notify,
                            "rados watch (watch, ping, notify event, notify-ack, unwatch) "
                            "and rados notify (notify, notify-complete)"),
    "v2-crc-bench": ("v2+v1", CRC, _bench,
                     "rados bench write (set-alloc-hint + write, 4 KiB, -t 4, 16 objects, "
                     "metadata object), seq (reads), cleanup (deletes)"),
    "v2-crc-pools-stats": ("v2+v1", CRC, _pools_stats,
                           "lspools, df (MGetPoolStats, MStatfs), python3-rados create_pool "
                           "and delete_pool (MPoolOp), get_cluster_stats, and osd pool "
                           "create / rm as mon commands (MMonCommand)"),
    "v1-object-io": ("v1", V1, _object_io, "put, get, stat, rm, ENOENT over msgr v1"),
    "v2-secure-object-io": ("v2+v1", SECURE, _object_io,
                            "put, get, stat, rm, ENOENT in msgr2 secure mode"),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", choices=sorted(CAPTURES))
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    names = args.only or list(CAPTURES)
    # pool deletion can leave memstore "full" (performance-notes.md §4.4): do it last
    names.sort(key=lambda n: n == "v2-crc-pools-stats")
    for msgr in ("v2+v1", "v1"):
        todo = [n for n in names if CAPTURES[n][0] == msgr]
        if not todo:
            continue
        with CephCluster(num_osds=1, msgr="v1" if msgr == "v1" else "v2+v1") as cluster:
            cluster.wait_ready()
            for name in todo:
                _msgr, mode, fn, what = CAPTURES[name]
                rec = Recorder(cluster, mode)
                raw = cluster.dir / f"{name}.pcap"
                with capture(cluster, raw):
                    fn(rec)
                pcap = args.out / f"{name}.pcap.gz"
                pcap.write_bytes(gzip.compress(raw.read_bytes(), 9, mtime=0))
                header = (f"# {name}.pcap.gz: {what}\n# cluster: 1 mon {cluster.mon_host}, "
                          f"1 memstore OSD, pool test (pg_num {cluster.pg_num}), msgr {msgr}, "
                          "cephx with the fixed test keys; $DIR is its directory\n")
                log = "\n".join(rec.log).replace(str(cluster.dir), "$DIR")
                (args.out / f"{name}.txt").write_text(header + log + "\n")
                print(f"{pcap.name}: {raw.stat().st_size} bytes, {pcap.stat().st_size} "
                      "gzipped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
