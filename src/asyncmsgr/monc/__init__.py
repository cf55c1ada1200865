"""Monitor client: ``ceph.conf`` and client arguments (:mod:`asyncmsgr.monc.conf`).

The configuration layer is sans-I/O: file reads, the host name and the
environment are injected through :class:`asyncmsgr.monc.conf.ConfEnv`.
"""
