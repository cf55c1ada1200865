"""Ceph's ``test_msgr`` synthetic workload with a per-session ledger (``asyncmsgr stress``).

:mod:`asyncmsgr.stress.workload` runs it; :mod:`asyncmsgr.testing.ledger` keeps the
books; :mod:`asyncmsgr.cli.stress` is the command line.
"""
