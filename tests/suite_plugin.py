"""Suite-wide fixtures, loaded as a plugin (``-p suite_plugin`` in pyproject.toml: a
second ``conftest`` module would clash with tests/interop/conftest.py for mypy)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from asyncmsgr import log as ceph_log


@pytest.fixture(autouse=True)
def _python_logging_defaults() -> Iterator[None]:
    """Python's logging as it was after each test: a command line run in-process
    configures Ceph-style logging for the whole process (levels, no propagation),
    which would hide records from ``caplog`` in later tests."""
    yield
    if ceph_log.current_handler() is not None or ceph_log.tool_defaults():
        ceph_log.reset()
