"""asyncmsgr: Ceph's AsyncMessenger in Python (see README.md)."""

from asyncmsgr._version import __version__

__all__ = ["__version__"]
