"""README stays true: its commands exist and its Python examples run as written."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import asyncmsgr
from asyncmsgr.testing.fake_cluster import FakeCluster

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_python_example_runs() -> None:
    match = re.search(r"## Using the messenger\n\n```python\n(.*?)```", README, re.S)
    assert match is not None
    out = subprocess.run([sys.executable, "-c", match.group(1)], capture_output=True,
                         text=True, timeout=60, cwd=ROOT, check=True)
    assert out.stdout.strip() == "b'hello'"


def test_two_commands_are_there_and_ci_runs_the_test_command() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    main_job, test_cmd = blocks[0].strip(), blocks[1].strip()
    assert "asyncmsgr bench" in main_job
    assert "pytest" in test_cmd
    assert test_cmd in (ROOT / ".ci" / "run").read_text()


# -- every Python example runs as written, against a fake cluster where it needs one --


def python_blocks() -> list[str]:
    """The README's ```python blocks, in order."""
    return re.findall(r"```python\n(.*?)```", README, re.S)


def block_with(marker: str) -> str:
    found = [b for b in python_blocks() if marker in b]
    assert len(found) == 1, f"one README example with {marker!r}, found {len(found)}"
    return found[0]


def run_example(code: str, cwd: Path, timeout: float = 60) -> str:
    """Run ``code`` as a script (a file, as a user would); its stdout."""
    script = cwd / "example.py"
    script.write_text(code)
    env = {k: v for k, v in os.environ.items() if k not in ("CEPH_ARGS", "CEPH_CONF")}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_python_example_is_covered() -> None:
    """A new example must get a test here (and its marker in this list)."""
    messenger = re.search(r"## Using the messenger\n\n```python\n(.*?)```", README, re.S)
    assert messenger is not None
    markers = ["MonClient([", "Rados(conffile=", "def test_my_tool(fake_cluster)",
               "with FakeCluster("]
    for block in python_blocks():
        assert block == messenger.group(1) or any(m in block for m in markers), \
            f"README example without a test:\n{block[:200]}"


def test_monclient_example(tmp_path: Path) -> None:
    """The MonClient example (its own event loop), the fake cluster's address and
    keyring put where the example has the placeholders."""
    code = block_with("MonClient([")
    assert "asyncio.run(main())" in code
    with FakeCluster(osds=1, conf_dir=tmp_path) as cluster:
        assert cluster.keyring_path is not None
        code = code.replace("/etc/ceph/ceph.client.admin.keyring", str(cluster.keyring_path))
        code = code.replace("[v2:10.0.0.1:3300,v1:10.0.0.1:6789]", cluster.mon_host)
        out = run_example(code, tmp_path)
    assert out.split() == ["0", "HEALTH_OK"]


def test_rados_example(tmp_path: Path) -> None:
    code = block_with("Rados(conffile=")
    with FakeCluster(osds=1, pools=["rbd"], conf_dir=tmp_path) as cluster:
        code = code.replace('"/etc/ceph/ceph.conf"', repr(str(cluster.conf_path)))
        out = run_example(code, tmp_path)
        assert sorted(cluster.list_objects("rbd")) == ["greeting", "obj"]
    lines = out.splitlines()
    assert lines[0].startswith("['rbd']")
    assert lines[1] == "b'hello, world'"
    assert "b'data' {'a': b'1', 'b': b'2'}" in lines
    assert lines[-1] == "2"  # ObjectNotFound's errno


def test_fake_cluster_example(tmp_path: Path) -> None:
    code = block_with("with FakeCluster(")
    code = code.replace('"/tmp/fc-example"', repr(str(tmp_path / "fc")))
    assert run_example(code, tmp_path).splitlines() == ["b'[\"data\"]'", "b'hi you'"]


@pytest.mark.skipif(shutil.which("rados") is None, reason="the rados tool is not installed "
                    "(apt-get install ceph-common; see .ci/run)")
def test_pytest_plugin_example(tmp_path: Path) -> None:
    """The plugin's example as a user's test file, run by pytest."""
    test_file = tmp_path / "test_user.py"
    test_file.write_text(block_with("def test_my_tool(fake_cluster)"))
    env = {k: v for k, v in os.environ.items() if k not in ("CEPH_ARGS", "CEPH_CONF")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(test_file)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_captures_readmes_name_files_that_exist() -> None:
    """Every file a captures README names (in backquotes) is there; each pcap of the
    table has its NAME.txt and NAME.decoded.txt."""
    for readme in (ROOT / "tests" / "data" / "captures").rglob("README.md"):
        text = readme.read_text()
        for name in re.findall(r"`([\w./-]+\.(?:pcap|pcap\.gz|txt|json|md|py))`", text):
            if name.startswith("NAME."):
                continue
            path = (readme.parent / name).resolve()
            in_repo = (ROOT / name).resolve()
            assert path.exists() or in_repo.exists(), f"{readme}: {name} does not exist"
        for pcap in re.findall(r"^\| `([\w-]+)\.pcap(?:\.gz)?` \|", text, re.M):
            assert (readme.parent / f"{pcap}.txt").exists(), f"{readme}: {pcap}.txt"


def test_version() -> None:
    assert asyncmsgr.__version__ == importlib.metadata.version("asyncmsgr")
    done = subprocess.run([sys.executable, "-m", "asyncmsgr", "--version"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout == f"asyncmsgr {asyncmsgr.__version__}\n"
