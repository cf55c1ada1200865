"""asyncmsgr: Ceph's AsyncMessenger in Python (see README.md)."""
