"""asyncmsgr.log: Ceph's subsystem levels (N/M), the line format, outputs and the
recent-lines ring, on Python's logging."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest

from asyncmsgr import log as ceph_log
from asyncmsgr.config import MessengerConfig
from asyncmsgr.context import Context

SRC = Path(__file__).resolve().parents[2] / "src" / "asyncmsgr"
#: ``2026-12-05T16:25:01.123+0000 7f3a2b1c4740  1 -- message`` (Ceph's Log::_flush).
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4} [0-9a-f]+ +(-?\d+) (.*)$")


@pytest.mark.parametrize(("text", "levels"), [
    ("1", (1, 1)), ("1/5", (1, 5)), (" 20/5 ", (20, 5)), ("0/0", (0, 0)), ("99", (99, 99)),
])
def test_parse_levels(text: str, levels: tuple[int, int]) -> None:
    assert ceph_log.parse_levels("debug_ms", text) == levels
    assert ceph_log.parse_levels("debug_ms", ceph_log.format_levels(levels)) == levels


@pytest.mark.parametrize(("text", "why"), [
    ("a", "value must take the form N or N/M, where N and M are integers"),
    ("1/2/3", "value must take the form N or N/M"), ("", "value must take the form"),
    ("100", "value must be in range [0, 99]"), ("1/-1", "value must be in range"),
])
def test_parse_levels_refused_in_ceph_words(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"error setting 'debug_ms' to '{text}'")) \
            as info:
        ceph_log.parse_levels("debug_ms", text)
    assert why in str(info.value)


def test_levels_map_onto_python_and_back() -> None:
    assert ceph_log.python_level(-1) == logging.ERROR
    assert ceph_log.python_level(0) == logging.WARNING
    assert ceph_log.python_level(1) == logging.INFO
    assert ceph_log.python_level(5) == ceph_log.CEPH_LEVEL_5 == 15
    assert ceph_log.python_level(10) == logging.DEBUG
    assert ceph_log.python_level(20) == ceph_log.python_level(40) == 1
    for n in range(-1, 19):
        assert ceph_log.ceph_level(ceph_log.python_level(n)) == n
    assert ceph_log.ceph_level(1) == 20
    levels = [ceph_log.python_level(n) for n in range(20)]
    assert levels == sorted(levels, reverse=True)  # higher Ceph level, less severe


def test_every_logger_in_the_source_has_a_subsystem() -> None:
    """Loggers named in the package's source belong to a subsystem of the table."""
    names = set()
    for path in SRC.rglob("*.py"):
        names.update(re.findall(r'getLogger\("(asyncmsgr[.\w]*)"\)', path.read_text()))
    assert len(names) >= 10
    for name in names:
        if name == ceph_log.PACKAGE_LOGGER:
            continue
        subsystem = ceph_log.subsystem_of(name)
        assert subsystem.name != "none", f"logger {name} belongs to no subsystem"
        assert name == subsystem.logger or name.startswith(subsystem.logger + ".")
    assert ceph_log.subsystem_of("asyncmsgr.ms.protocol").name == "ms"
    assert ceph_log.subsystem_of("asyncmsgr.msx").name == "none"
    assert ceph_log.subsystem_of("asyncmsgr.testing.fake_mon").name == "none"


def test_defaults_are_pacifics() -> None:
    config = MessengerConfig()
    for s in ceph_log.SUBSYSTEMS:
        assert ceph_log.parse_levels("x", getattr(config, f"debug_{s.name}")) == (
            s.log_level, s.gather_level), s.name


def _install(stderr: io.StringIO, **options: object) -> ceph_log.CephLogHandler:
    return ceph_log.configure(ceph_log.LogSettings.from_options(options),
                              stderr=lambda: stderr)


def test_line_format_and_n_m_levels() -> None:
    """``debug_ms 1/10``: level 1 written, level 5 and 10 only in the ring, level 20 never
    built; another subsystem keeps its own levels."""
    err = io.StringIO()
    handler = _install(err, debug_ms="1/10", log_to_stderr=True)
    ms = logging.getLogger("asyncmsgr.ms.protocol")
    ms.info("one %d", 1)
    ms.log(ceph_log.CEPH_LEVEL_5, "five")
    ms.debug("ten")
    assert not ms.isEnabledFor(ceph_log.CEPH_LEVEL_20)
    ms.log(ceph_log.CEPH_LEVEL_20, "twenty")
    logging.getLogger("asyncmsgr.monc.client").info("monc one")  # debug_monc 0/10
    logging.getLogger("asyncmsgr.monc.client").warning("monc zero")
    lines = err.getvalue().splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(int(m.group(1)), m.group(2)) for m in parsed if m] == [
        (1, "-- one 1"), (0, "monclient: monc zero")]
    recent = list(handler.recent)
    assert [LINE.match(r).group(2) for r in recent if LINE.match(r)] == [  # type: ignore[union-attr]
        "-- one 1", "-- five", "-- ten", "monclient: monc one", "monclient: monc zero"]


def test_quiet_until_configured_and_free_when_off() -> None:
    """A library leaves logging alone; configured with the defaults, debug_ms 0/0
    builds no record below level 0 (Python's own isEnabledFor guard)."""
    ctx = Context(MessengerConfig())
    with ctx:
        assert ceph_log.current_handler() is None
    err = io.StringIO()
    _install(err)
    ms = logging.getLogger("asyncmsgr.ms")
    assert not ms.isEnabledFor(logging.INFO)
    assert not logging.getLogger("asyncmsgr.ms.connection").isEnabledFor(logging.INFO)
    ms.info("never")
    assert err.getvalue() == ""


def test_a_library_given_a_logging_option_configures(tmp_path: Path) -> None:
    log_file = tmp_path / "client.log"
    ctx = Context(MessengerConfig(debug_monc="1", log_file=str(tmp_path / "$name.log")),
                  name="client")
    with ctx:
        handler = ceph_log.current_handler()
        assert handler is not None
        assert not handler.settings.log_to_stderr  # a library's default
        logging.getLogger("asyncmsgr.monc.client").info("hunting: waiting")
        handler.flush()
    assert "monclient: hunting: waiting" in log_file.read_text()


def test_outputs(tmp_path: Path) -> None:
    """log_file appended; stderr only with log_to_stderr (errors with err_to_stderr);
    an unopenable file is reported."""
    err = io.StringIO()
    path = tmp_path / "x.log"
    path.write_text("before\n")
    _install(err, debug_auth="1", log_file=str(path), log_to_stderr=False,
             err_to_stderr=True)
    auth = logging.getLogger("asyncmsgr.auth")
    auth.info("informative")
    auth.error("bad key")
    text = path.read_text().splitlines()
    assert text[0] == "before"
    assert [LINE.match(t).group(2) for t in text[1:]] == [  # type: ignore[union-attr]
        "auth: informative", "auth: bad key"]
    assert [LINE.match(t).group(1) for t in err.getvalue().splitlines()] == [  # type: ignore[union-attr]
        "-1"]
    handler = _install(err, log_file=str(tmp_path / "missing" / "x.log"))
    assert "unable to open log file" in handler.file_error


def test_dump_recent() -> None:
    err = io.StringIO()
    _install(err, debug_ms="0/10", log_to_stderr=True, log_max_recent=2)
    ms = logging.getLogger("asyncmsgr.ms")
    for i in range(3):
        ms.debug("kept %d", i)
    assert err.getvalue() == ""
    assert ceph_log.dump_recent()
    out = err.getvalue().splitlines()
    assert out[0] == "--- begin dump of recent events ---"
    assert [LINE.match(t).group(2) for t in out[1:3]] == [  # type: ignore[union-attr]
        "-- kept 1", "-- kept 2"]
    assert "   0/10 ms" in out
    assert out[-1] == "--- end dump of recent events ---"


def test_reset_restores_pythons_defaults() -> None:
    _install(io.StringIO(), debug_ms="20")
    ceph_log.use_tool_defaults()
    ceph_log.reset()
    assert ceph_log.current_handler() is None
    assert not ceph_log.tool_defaults()
    package = logging.getLogger(ceph_log.PACKAGE_LOGGER)
    assert package.propagate
    assert logging.getLogger("asyncmsgr.ms").level == logging.NOTSET
