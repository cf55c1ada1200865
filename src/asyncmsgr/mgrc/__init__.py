"""Ceph's MgrClient: commands to the active ceph-mgr.

* :mod:`asyncmsgr.mgrc.core`: the decisions, without I/O (:class:`MgrClientCore`);
* :mod:`asyncmsgr.mgrc.sync`: on a blocking :class:`~asyncmsgr.monc.sync.SyncMonClient`;
* :mod:`asyncmsgr.mgrc.client`: on asyncio, with a :class:`~asyncmsgr.monc.client.MonClient`.

Nothing is imported here: import the module you need.
"""
