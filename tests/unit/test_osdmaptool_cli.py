"""``asyncmsgr osdmaptool`` against the real osdmaptool's stored output.

``tests/data/osdmap/expected/<map>.<case>.txt`` is what ``osdmaptool <map> <args>``
printed (``generate.py``); the error cases repeat what the real tool prints and
its exit status, observed with Ceph 16.2.15.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from asyncmsgr.cli import main as cli_main
from asyncmsgr.cli.osdmaptool import USAGE, run
from asyncmsgr.osd.osdmap import OSDMap

DATA = Path(__file__).resolve().parents[1] / "data" / "osdmap"

CASES: dict[str, list[str]] = {
    "dump-all": ["--test-map-pgs-dump-all"],
    "dump-all-upin": ["--test-map-pgs-dump-all", "--mark-up-in"],
    "dump-upin-out1": ["--test-map-pgs-dump", "--mark-up-in", "--mark-out", "1"],
    "pgs-upin": ["--test-map-pgs", "--mark-up-in"],
    "object": ["--test-map-object", "rbd_data.1234", "--mark-up-in"],
    "dump-all-out0": ["--test-map-pgs-dump-all", "--mark-out", "0"],
}
EXPECTED = sorted(p.name for p in (DATA / "expected").glob("*.txt"))


def tool(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", EXPECTED)
def test_output_matches_osdmaptool(name: str) -> None:
    mapfile, case, _ = name.rsplit(".", 2)
    status, out, err = tool(str(DATA / mapfile), *CASES[case])
    assert status == 0
    assert out == (DATA / "expected" / name).read_text()
    assert err == f"osdmaptool: osdmap file '{DATA / mapfile}'\n"


def test_every_case_has_expected_output() -> None:
    assert len(EXPECTED) == 4 * len(CASES)


def test_ceph_argument_spellings() -> None:
    m = str(DATA / "hosts.osdmap")
    want = (0, "marking all OSDs up and in\n object 'x' -> 1.33 -> [4,0,3]\n",
            f"osdmaptool: osdmap file '{m}'\n")  # osdmaptool's answer
    assert tool(m, "--test-map-object", "x", "--pool", "1", "--mark-up-in") == want
    assert tool(m, "--test_map_object=x", "--pool=1", "--mark_up_in") == want
    assert tool("--pool", "1", "--test-map-object=x", "--mark-up-in", m) == want
    # "--" ends the options: what follows is positional
    assert tool(m, "--test-map-object", "x", "--", "--mark-up-in")[0] == 1


def test_missing_file() -> None:
    status, out, err = tool("/nonexistent/map", "--test-map-pgs")
    assert (status, out) == (255, "")
    assert err.splitlines() == [
        "osdmaptool: osdmap file '/nonexistent/map'",
        "osdmaptool: couldn't open /nonexistent/map: can't open /nonexistent/map: "
        "(2) No such file or directory"]


def test_undecodable_file(tmp_path: Path) -> None:
    bad = tmp_path / "trunc"
    bad.write_bytes((DATA / "simple3.osdmap").read_bytes()[:100])
    status, out, err = tool(str(bad), "--test-map-pgs")
    assert (status, out) == (255, "")
    assert err.splitlines()[-1] == f"osdmaptool: error decoding osdmap '{bad}'"


def test_missing_pool() -> None:
    status, out, err = tool(str(DATA / "simple3.osdmap"), "--test-map-object", "foo",
                            "--pool", "7")
    assert (status, out, err.splitlines()[-1]) == (1, "", "There is no pool 7")
    status, out, err = tool(str(DATA / "simple3.osdmap"), "--test-map-pgs-dump", "--pool",
                            "9")
    assert (status, out, err.splitlines()[-1]) == (1, "", "There is no pool 9")


def test_assumed_pool_and_bad_pool_value() -> None:
    status, out, _ = tool(str(DATA / "simple3.osdmap"), "--test-map-object", "foo")
    assert status == 0
    assert out == ("osdmaptool: assuming pool 1 (use --pool to override)\n"
                   " object 'foo' -> 1.6 -> []\n")
    assert tool(str(DATA / "simple3.osdmap"), "--test-map-pgs", "--pool", "abc") == (
        1, "", "The option value 'abc' is invalid\n")
    assert tool(str(DATA / "simple3.osdmap"), "--test-map-pgs", "--pool") == (
        1, "", "Option --pool requires an argument.\n")


def test_usage_errors() -> None:
    m = str(DATA / "simple3.osdmap")
    assert tool() == (1, "", "osdmaptool: -h or --help for usage\n")
    assert tool("-h") == (1, USAGE, "")
    status, out, err = tool(m)
    assert (status, out) == (1, USAGE)
    assert err.splitlines()[-1] == "osdmaptool: no action specified?"
    assert tool(m, "x", "--test-map-pgs") == (1, USAGE, "osdmaptool: too many arguments\n")
    status, out, err = tool(m, "--test-map-pg", "1.x")
    assert (status, out) == (1, USAGE)
    assert err.splitlines()[-1] == "osdmaptool: failed to parse pg '1.x"
    status, out, err = tool(m, "--upmap", "-")
    assert status == 2
    assert "not supported" in err


def test_test_map_pg() -> None:
    status, out, _ = tool(str(DATA / "simple3.osdmap"), "--test-map-pg", "1.5", "--mark-up-in")
    assert status == 0
    lines = out.splitlines()
    assert lines[:2] == ["marking all OSDs up and in", " parsed '1.5' -> 1.5"]
    assert lines[2].startswith("1.5 raw ([")
    assert lines[2].endswith(")")
    status, out, _ = tool(str(DATA / "simple3.osdmap"), "--test-map-pg", "7.1")
    assert out.splitlines()[1] == "7.1 raw ([], p-1) up ([], p-1) acting ([], p-1)"


def test_clear_temp_and_pg_num(tmp_path: Path) -> None:
    status, out, _ = tool(str(DATA / "hosts.osdmap"), "--clear-temp", "--test-map-pgs",
                          "--pg_num", "20", "--pool", "1")
    assert status == 0
    lines = out.splitlines()
    assert lines[:2] == ["clearing pg/primary temp", "pool 1 pg_num 20"]
    assert lines[-1] == "size 0\t20"


def test_export_and_import_crush(tmp_path: Path) -> None:
    target = tmp_path / "map"
    shutil.copy(DATA / "hosts.osdmap", target)
    crush = tmp_path / "crush"
    status, out, _ = tool(str(target), "--export-crush", str(crush))
    assert (status, out) == (0, f"osdmaptool: exported crush map to {crush}\n")
    before = OSDMap.decode(target.read_bytes())
    status, out, _ = tool(str(target), "--import-crush", str(crush))
    assert status == 0
    assert out.splitlines() == [
        f"osdmaptool: imported {crush.stat().st_size} byte crush map from {crush}",
        f"osdmaptool: writing epoch {before.epoch + 2} to {target}"]
    after = OSDMap.decode(target.read_bytes())
    assert after.crush_data == before.crush_data
    # require_osd_release is unset in --createsimple maps: crush_version stays (as in Ceph)
    assert after.crush_version == before.crush_version
    assert after.epoch == before.epoch + 2


def test_main_dispatches_to_osdmaptool(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli_main.main(["osdmaptool", str(DATA / "simple3.osdmap"), "--test-map-object",
                            "foo", "--pool", "1"])
    assert status == 0
    assert capsys.readouterr().out == " object 'foo' -> 1.6 -> []\n"
