"""``python -m asyncmsgr``."""

from asyncmsgr.cli.main import entry

entry()
