"""Fake mons that ``asyncmsgr ceph`` can talk to: they describe their commands.

``ceph`` (and so ``asyncmsgr ceph``) asks for ``get_command_descriptions``
before any command. :func:`describe_commands` makes the fake mons of a
:class:`~asyncmsgr.testing.fake_mon.FakeMonCluster` answer it with the real
Pacific descriptions (``tests/data/ceph_cli``) of the commands they serve
(``status``, ``version``, ``health``, ``mon dump``); :func:`conf_file` writes a
``ceph.conf`` naming them, since ``ceph`` needs a configuration file.
"""

from __future__ import annotations

import json
from pathlib import Path

from asyncmsgr.testing.fake_mon import FakeMonCluster

_DATA = Path(__file__).resolve().parent.parent / "data" / "ceph_cli" / "descriptions.mon.json"
_SERVED = (["status"], ["version"], ["health"], ["mon", "dump"])


def _descriptions() -> bytes:
    real = json.loads(_DATA.read_text())
    kept = {tag: cmd for tag, cmd in real.items()
            if [w for w in cmd["sig"] if isinstance(w, str)] in _SERVED}
    return json.dumps(kept).encode()


def describe_commands(cluster: FakeMonCluster) -> None:
    """Every mon of ``cluster`` answers ``get_command_descriptions`` too."""
    described = _descriptions()

    def handler(cmd: list[str], inbuf: bytes) -> tuple[int, str, bytes]:
        if cmd and json.loads(cmd[0]).get("prefix") == "get_command_descriptions":
            return 0, "", described
        return cluster.default_handler(cmd, inbuf)

    for mon in cluster.mons:
        mon.handler = handler


def conf_file(directory: Path, mon_host: str = "") -> Path:
    """A ``ceph.conf`` (``mon_host`` when given; ``-m`` on the command line wins)."""
    path = directory / "ceph.conf"
    path.write_text(f"[global]\nmon_host = {mon_host}\n" if mon_host else "[global]\n")
    return path


__all__ = ["conf_file", "describe_commands"]
