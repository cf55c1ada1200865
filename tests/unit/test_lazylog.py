"""asyncmsgr.lazylog: loggers that import logging only when a record could be emitted."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from asyncmsgr.lazylog import DEBUG, get_logger

_CHILD = r"""
import json, sys
from asyncmsgr.lazylog import get_logger, quiet_unless_configured, DEBUG, WARNING
if sys.argv[1] == "quiet":
    quiet_unless_configured("asyncmsgr")
log = get_logger("asyncmsgr.test")
log.debug("dropped %d", 1)
log.info("dropped %d", 2)
steps = {"enabled": [log.isEnabledFor(DEBUG), log.isEnabledFor(WARNING)],
         "after_info": "logging" in sys.modules}
log.warning("kept %d", 3)
steps["after_warning"] = "logging" in sys.modules
print(json.dumps(steps))
"""


def _child(mode: str) -> tuple[dict[str, object], str]:
    proc = subprocess.run([sys.executable, "-c", _CHILD, mode], capture_output=True,
                          text=True, timeout=60, check=True)
    out: dict[str, object] = json.loads(proc.stdout)
    return out, proc.stderr


def test_debug_and_info_do_not_import_logging_a_warning_does() -> None:
    out, err = _child("plain")
    assert out == {"enabled": [False, True], "after_info": False, "after_warning": True}
    assert err == "kept 3\n"  # logging's last resort handler, as a real logger's
    assert "dropped" not in err


def test_quiet_gets_its_null_handler_when_logging_is_imported() -> None:
    out, err = _child("quiet")
    assert out["after_warning"] is True
    assert err == ""


def test_forwards_to_the_real_logger_once_logging_is_imported(
        caplog: pytest.LogCaptureFixture) -> None:
    log = get_logger("asyncmsgr.test_log")
    with caplog.at_level(logging.DEBUG, logger="asyncmsgr.test_log"):
        log.debug("d %s", "x")  # the first call binds: the record names this file
        assert log.isEnabledFor(DEBUG)
        log.info("i")
        log.warning("w")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("e")
    got = [(r.levelno, r.getMessage(), r.filename) for r in caplog.records]
    assert got == [(logging.DEBUG, "d x", "test_lazylog.py"),
                   (logging.INFO, "i", "test_lazylog.py"),
                   (logging.WARNING, "w", "test_lazylog.py"),
                   (logging.ERROR, "e", "test_lazylog.py")]
    assert caplog.records[-1].exc_info is not None
    assert log.isEnabledFor == logging.getLogger("asyncmsgr.test_log").isEnabledFor


def test_the_one_shot_cli_modules_do_not_import_logging() -> None:
    code = ("import sys, asyncmsgr.cli.main, asyncmsgr.cli.ceph, asyncmsgr.cli.ceph_session, "
            "asyncmsgr.monc.sync, asyncmsgr.cli.ceph_commands; "
            "print(sorted(m for m in ('logging', 'dataclasses', 'hmac', 'asyncio', "
            "'asyncmsgr.osdc', 'asyncmsgr.rados', 'asyncmsgr.crush', 'asyncmsgr.osd') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert proc.stdout.strip() == "[]"
