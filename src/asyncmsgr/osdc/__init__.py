"""The OSD client: Ceph's Objecter (``src/osdc``) on asyncio.

* :mod:`.objecter` — :class:`Objecter`: OSD sessions, maps, op send/reply/resend;
* :mod:`.target` — op targeting and resend decisions (sans-I/O, ``_calc_target``);
* :mod:`.maps` — walking the epochs of an MOSDMap (sans-I/O);
* :mod:`.mapflow` — ``handle_osd_map`` / ``_scan_requests``: what a new map resends;
* :mod:`.backoff` — OSD backoff ranges (sans-I/O);
* :mod:`.op` — ops, linger ops, sessions, options, counters;
* :mod:`.budget` — the in-flight throttles; :mod:`.wire` — the pre-encoded MOSDOp;
  :mod:`.hashing` — cached object-name hashes;
* :mod:`.linger` — watch and notify;
* :mod:`.monops` — pool ops and statistics through the monitor.

The user-facing API is :mod:`asyncmsgr.rados`.
"""

from asyncmsgr.osdc.monops import MonOpError, MonOps
from asyncmsgr.osdc.objecter import Objecter
from asyncmsgr.osdc.op import LingerOp, ObjecterOptions, Op, OpResult, OSDSession
from asyncmsgr.osdc.target import OpTarget, PgMappingCache, RecalcResult, calc_target

__all__ = [
    "LingerOp",
    "MonOpError",
    "MonOps",
    "OSDSession",
    "Objecter",
    "ObjecterOptions",
    "Op",
    "OpResult",
    "OpTarget",
    "PgMappingCache",
    "RecalcResult",
    "calc_target",
]
