"""The fake monitor's commands and maps against a real Pacific mon's recorded answers.

``tests/data/fake_cluster/real_mon.json`` holds what a real 16.2.15 mon (three
memstore OSDs, pool ``test``) answered (``record_real_mon.py`` there): its
``get_command_descriptions`` (the fake's descriptor of every command it serves
must be the real one, so the real ``ceph`` CLI parses both alike), the errnos and
status strings of a set of commands, the JSON their outputs have (the fake's must
have the same keys, recursively), and the MMgrMap it sends.

Known, intended differences: version strings carry a zero commit id; ``df`` and
``osd pool get-quota`` answer as a cluster with a manager would (the recorded mon
had none).
"""

from __future__ import annotations

import errno
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from asyncmsgr.crush.dump import dump_rule
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.types import PG
from asyncmsgr.testing import fake_osdmap
from asyncmsgr.testing.fake_cluster import FakeCluster
from asyncmsgr.testing.fake_cluster_mon import mgrmap_message
from asyncmsgr.testing.fake_mon_commands import (
    CommandRequest,
    CommandResult,
    CommandTable,
    MonCommand,
    parse_signature,
)
from asyncmsgr.types import EntityAddrVec, UTime
from asyncmsgr.wire.buffer import Reader

REAL = json.loads((Path(__file__).resolve().parents[1] / "data" / "fake_cluster" /
                   "real_mon.json").read_text())
#: Outputs whose dict keys are data (version strings, class names), not a schema.
DATA_KEYED = {("versions", ".mon"), ("versions", ".osd"), ("versions", ".overall"),
              ("mon versions", ""), ("df", ".stats_by_class")}
#: Commands the fake answers as a cluster with a manager would (the real mon had none).
WITH_MGR = {"osd pool get-quota"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[FakeCluster]:
    with FakeCluster(osds=3, pools=["test"]) as c:
        yield c


def _prefix(sig: list[Any]) -> str:
    return " ".join(w for w in sig if isinstance(w, str))


def _shape_diff(prefix: str, real: Any, fake: Any, path: str = "") -> list[str]:
    if isinstance(real, dict) and isinstance(fake, dict):
        if (prefix, path) in DATA_KEYED:
            return []
        out = []
        if set(real) != set(fake):
            out.append(f"{path}: real only {sorted(set(real) - set(fake))}, fake only "
                       f"{sorted(set(fake) - set(real))}")
        for k in set(real) & set(fake):
            out += _shape_diff(prefix, real[k], fake[k], f"{path}.{k}")
        return out
    if isinstance(real, list) and isinstance(fake, list):
        return _shape_diff(prefix, real[0], fake[0], f"{path}[0]") if real and fake else []
    numbers = (int, float)
    if isinstance(real, numbers) and isinstance(fake, numbers):
        return []
    if type(real) is not type(fake):
        return [f"{path}: {type(real).__name__} in the real, {type(fake).__name__} here"]
    return []


def test_descriptors_are_the_real_mons(cluster: FakeCluster) -> None:
    real = {_prefix(d["sig"]): d for d in REAL["descriptions"].values()}
    res = cluster.mon_command({"prefix": "get_command_descriptions"})
    assert res.r == 0
    mine = json.loads(res.out)
    assert list(mine) == [f"cmd{i:03d}" for i in range(len(mine))]
    assert len(mine) >= 70
    for d in mine.values():
        assert d == real[_prefix(d["sig"])], _prefix(d["sig"])


def test_tell_descriptors_are_the_real_mons(cluster: FakeCluster) -> None:
    real = {_prefix(d["sig"]): d for d in REAL["tell_descriptions"].values()}
    res = cluster.tell_mon({"prefix": "get_command_descriptions"})
    mine = json.loads(res.out)
    assert {_prefix(d["sig"]) for d in mine.values()} >= {"version", "mon_status", "help"}
    for d in mine.values():
        assert d == real[_prefix(d["sig"])]


@pytest.mark.parametrize("index", range(len(REAL["commands"])))
def test_answers_match_the_real_mons(cluster: FakeCluster, index: int) -> None:
    cmd, r, rs, out = REAL["commands"][index]
    mine = cluster.mon_command(cmd)
    if cmd["prefix"] in WITH_MGR:
        assert mine.r == 0
        return
    assert (mine.r, mine.rs) == (r, rs)
    if r != 0 or not out:
        return
    if cmd.get("format") == "json":
        assert _shape_diff(cmd["prefix"], json.loads(out), json.loads(mine.out)) == []
    else:
        _check_plain(cmd["prefix"], out, mine.out.decode())


def _check_plain(prefix: str, real: str, fake: str) -> None:
    """Plain outputs: same lines skeleton (labels and table columns)."""
    if prefix == "osd tree":
        assert fake.splitlines()[0].split() == real.splitlines()[0].split()
        width = len(fake.splitlines()[0])
        assert all(len(line) == width for line in fake.splitlines())
    elif prefix == "osd map":
        def head(text: str) -> str:
            return text.split(" -> ", maxsplit=1)[0].split(" pool ")[1]
        assert head(fake) == head(real)
        assert fake.count("->") == real.count("->") == 2
    else:
        labels = [line.split(":")[0].split(" ")[0] for line in real.splitlines()[:6]]
        assert [line.split(":")[0].split(" ")[0] for line in fake.splitlines()[:6]] == labels


def test_errnos_and_pool_commands(cluster: FakeCluster) -> None:
    assert cluster.mon_command({"prefix": "osd pool create", "pool": "p1",
                                "pg_num": 0}).r == -errno.ERANGE
    assert cluster.mon_command({"prefix": "osd pool create", "pool": "p1",
                                "pg_num": 4}).rs == "pool 'p1' created"
    epoch = cluster.osdmap.epoch
    assert cluster.mon_command({"prefix": "osd pool set", "pool": "p1", "var": "size",
                                "val": "1"}).r == -errno.EPERM
    res = cluster.mon_command({"prefix": "osd pool set", "pool": "p1", "var": "pg_num",
                               "val": "16"})
    assert res.rs == f"set pool {cluster.pool_id('p1')} pg_num to 16"
    assert cluster.osdmap.epoch == epoch + 1
    got = json.loads(cluster.mon_command({"prefix": "osd pool get", "pool": "p1",
                                          "var": "pg_num", "format": "json"}).out)
    assert got["pg_num"] == 16
    assert cluster.mon_command({"prefix": "osd pool application enable", "pool": "p1",
                                "app": "rbd"}).r == 0
    apps = cluster.mon_command({"prefix": "osd pool application get", "pool": "p1",
                                "format": "json"})
    assert json.loads(apps.out) == {"rbd": {}}
    res = cluster.mon_command({"prefix": "osd pool rm", "pool": "p1", "pool2": "p1",
                               "yes_i_really_really_mean_it": True})
    assert (res.r, res.rs) == (0, "pool 'p1' removed")
    assert cluster.mon_command({"prefix": "osd pool get", "pool": "p1",
                                "var": "size"}).r == -errno.ENOENT
    assert cluster.mon_command('{"prefix": ').r == -errno.EINVAL
    assert cluster.mon_command({"prefix": "osd pool get", "pool": "test"}).rs == \
        "missing required parameter var"


def test_auth_and_config_keys(cluster: FakeCluster) -> None:
    res = cluster.mon_command({"prefix": "auth get-or-create", "entity": "client.x",
                               "caps": ["mon", "allow r", "osd", "allow rw"]})
    assert res.r == 0
    key = cluster.mon_command({"prefix": "auth get-key", "entity": "client.x"}).out
    assert f"key = {key.decode()}" in res.out.decode()
    assert cluster.auth.get("client.x") == (key.decode(), {"mon": "allow r", "osd": "allow rw"})
    assert cluster.key_server.get_caps("client.x", "osd") == "allow rw"
    mismatch = cluster.mon_command({"prefix": "auth get-or-create", "entity": "client.x",
                                    "caps": ["mon", "allow *"]})
    assert mismatch.r == -errno.EINVAL
    assert cluster.mon_command({"prefix": "auth rm", "entity": "client.x"}).rs == "updated"
    assert cluster.key_server.get_secret("client.x") is None
    assert cluster.mon_command({"prefix": "config-key set", "key": "a/b",
                                "val": "v"}).rs == "set a/b"
    assert cluster.mon_command({"prefix": "config-key get", "key": "a/b"}).out == b"v"
    assert json.loads(cluster.mon_command({"prefix": "config-key ls",
                                           "format": "json"}).out) == ["a/b"]
    assert cluster.mon_command({"prefix": "config-key exists", "key": "zz"}).r == -errno.ENOENT
    cluster.mon_command({"prefix": "config set", "who": "client", "name": "debug_ms",
                         "value": "1"})
    cluster.mon_command({"prefix": "config set", "who": "client.admin", "name": "debug_ms",
                         "value": "5"})
    assert cluster.config_for("client.admin") == {"debug_ms": "5"}
    assert cluster.config_for("client.other") == {"debug_ms": "1"}


def test_osd_state_commands_and_health(cluster: FakeCluster) -> None:
    res = cluster.mon_command({"prefix": "osd down", "ids": ["1"]})
    assert res.rs == "marked down osd.1."
    try:
        health = json.loads(cluster.mon_command({"prefix": "health", "detail": "detail",
                                                 "format": "json"}).out)
        assert health["status"] == "HEALTH_WARN"
        assert health["checks"]["OSD_DOWN"]["detail"] == [{"message": "osd.1 is down"}]
        tree = json.loads(cluster.mon_command({"prefix": "osd tree", "format": "json"}).out)
        assert [n["status"] for n in tree["nodes"] if n["id"] >= 0] == ["up", "down", "up"]
        for seed in range(8):
            assert 1 not in cluster.osdmap.pg_to_up_acting_osds(PG(1, seed))[2]
    finally:
        cluster.mark_osd_up(1)
    assert cluster.mon_command({"prefix": "health"}).out == b"HEALTH_OK\n"
    assert cluster.mon_command({"prefix": "osd set", "key": "noout"}).rs == "noout is set"
    assert "noout flag(s) set" in cluster.mon_command({"prefix": "health"}).out.decode()
    assert cluster.mon_command({"prefix": "osd unset", "key": "noout"}).r == 0
    cluster.set_health_check("TEST_CHECK", "something to see", detail=["one", "two"])
    try:
        text = cluster.mon_command({"prefix": "health", "detail": "detail"}).out.decode()
        assert text.splitlines() == ["HEALTH_WARN something to see",
                                     "[WRN] TEST_CHECK: something to see", "    one",
                                     "    two"]
    finally:
        cluster.clear_health_check("TEST_CHECK")


def test_added_commands_are_described_and_answered(cluster: FakeCluster) -> None:
    def handler(req: CommandRequest) -> CommandResult:
        return CommandResult(0, "", f"hello {req.arg('who')}".encode())

    cluster.add_mon_command("hello name=who,type=CephString", handler, "say hello")
    descs = json.loads(cluster.mon_command({"prefix": "get_command_descriptions"}).out)
    assert {"sig": ["hello", {"name": "who", "type": "CephString"}], "help": "say hello",
            "module": "mon", "perm": "r", "flags": 0} in descs.values()
    assert cluster.mon_command({"prefix": "hello", "who": "you"}).out == b"hello you"


def test_signature_parsing_and_tables() -> None:
    assert parse_signature("osd pool get name=pool,type=CephPoolname "
                           "name=var,type=CephChoices,strings=size|min_size") == [
        "osd", "pool", "get", {"name": "pool", "type": "CephPoolname"},
        {"name": "var", "type": "CephChoices", "strings": "size|min_size"}]
    table = CommandTable([MonCommand("a b name=x,type=CephInt,req=false", "h",
                                     lambda r: CommandResult(0, "", b"ok"))], tell=True)
    assert json.loads(table.descriptions()) == {
        "cmd000": {"sig": ["a", "b", {"name": "x", "type": "CephInt", "req": "false"}],
                   "help": "h"}}
    assert "a b" in table
    table.remove("a b")
    assert table.prefixes() == []


def test_mgrmap_is_pacifics_encoding_without_a_manager() -> None:
    def walk(front: bytes) -> tuple[int, int]:
        """MgrMap::decode v12 up to the end; (struct_v, epoch)."""
        v, r = Reader(front).pull_versioned(12, "MgrMap")
        epoch = r.pull_u32()
        assert r.pull_u8() == 2  # entity_addrvec_t marker
        assert r.pull_u32() == 0
        r.pull_u64()
        r.pull_bool()
        r.pull_string()
        assert r.pull_u32() == 0  # standbys
        for _ in range(r.pull_u32()):  # modules
            r.pull_string()
        assert r.pull_u32() == 0  # services
        assert r.pull_u32() == 0  # available modules
        r.pull_view(8)  # active_change
        for _ in range(r.pull_u32()):  # always_on_modules
            r.pull_u32()
            for _ in range(r.pull_u32()):
                r.pull_string()
        r.pull_u64()
        r.pull_u32()
        assert r.pull_u32() == 0  # clients' addresses
        assert r.pull_u32() == 0  # clients' names (v12)
        assert r.at_end()
        return v, epoch
    assert walk(bytes.fromhex(REAL["mgrmap_front"])) == (12, 1)
    m = mgrmap_message()
    assert m.type == 0x704
    assert walk(bytes(m.front)) == (12, 1)


def test_osdmap_places_every_pg_on_the_fake_osds() -> None:
    now = UTime(1_800_000_000, 0)
    m = fake_osdmap.new_osdmap(uuid.uuid4(), 4, now)
    fake_osdmap.next_epoch(m, now)
    for o in range(4):
        fake_osdmap.mark_up(m, o, EntityAddrVec.parse(f"v2:127.0.0.1:{7000 + o}/1"), 1, now)
    pid = fake_osdmap.create_pool(m, "p", now, pg_num=32, size=3)
    assert pid == 1, "the first pool is pool 1, as on a real cluster"
    again = OSDMap.decode(m.encode())
    assert again.epoch == 2
    for seed in range(32):
        _, up_primary, acting, primary = again.pg_to_up_acting_osds(PG(pid, seed))
        assert len(set(acting)) == 3
        assert set(acting) <= {0, 1, 2, 3}
        assert primary == acting[0] == up_primary
    assert dump_rule(again.crush, 0)["steps"] == [
        {"op": "take", "item": -1, "item_name": "default"},
        {"op": "choose_firstn", "num": 0, "type": "osd"}, {"op": "emit"}]
    with pytest.raises(ValueError, match="already exists"):
        fake_osdmap.create_pool(m, "p", now)
