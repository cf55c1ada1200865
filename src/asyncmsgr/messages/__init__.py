"""Ceph's typed messages (Pacific layouts, wire-protocol.md §7.2).

Importing a module of this package registers its classes with
:func:`asyncmsgr.message.register_message`, so :func:`~asyncmsgr.message.decode_message`
returns them; ``decode_message`` imports a module the first time one of its types
is decoded (``message_types.MESSAGE_MODULES``). The package itself imports
nothing: ``from asyncmsgr.messages import MPing`` imports :mod:`.ping` alone
(PEP 562 ``__getattr__``), so a one-shot command pays only for its messages.

Each class sets Ceph's ``TYPE``/``HEAD_VERSION``/``COMPAT_VERSION`` (a Ceph
message that names no compat version gets its head version, as
``Message::encode`` does), builds its front in ``encode_payload`` and parses it in
``decode_payload``; re-encoding a decoded front gives the same bytes.

=====================  ====  ========  =====================================
class                  type  v/compat  module
=====================  ====  ========  =====================================
MPing                     2  1/1      :mod:`.ping`
MMonMap                   4  1/1      :mod:`.mon` (map in :mod:`.monmap`)
MMonGetMap                5  1/1      :mod:`.mon`
MStatfs                  13  2/1      :mod:`.pool`
MStatfsReply             14  1/1      :mod:`.pool`
MMonSubscribe            15  3/1      :mod:`.mon`
MMonSubscribeAck         16  1/1      :mod:`.mon`
MAuth                    17  1/1      :mod:`.auth`
MAuthReply               18  1/1      :mod:`.auth`
MMonGetVersion           19  1/1      :mod:`.mon`
MMonGetVersionReply      20  2/2      :mod:`.mon`
MOSDMap                  41  4/3      :mod:`.osdmap` (maps in :mod:`asyncmsgr.osd`)
MOSDOp                   42  8/3      :mod:`.osd_op` (ops in :mod:`asyncmsgr.osd.ops`)
MOSDOpReply              43  8/2      :mod:`.osd_op_reply`
MWatchNotify             44  3/1      :mod:`.watch`
MPoolOpReply             48  1/1      :mod:`.pool`
MPoolOp                  49  4/2      :mod:`.pool`
MMonCommand              50  1/1      :mod:`.command`
MMonCommandAck           51  1/1      :mod:`.command`
MLog                     52  1/1      :mod:`.log`
MGetPoolStats            58  1/1      :mod:`.pool`
MGetPoolStatsReply       59  2/1      :mod:`.pool`
MOSDBackoff              61  1/1      :mod:`.osd`
MConfig                  62  1/1      :mod:`.config`
MCommand                 97  1/1      :mod:`.command`
MCommandReply            98  1/1      :mod:`.command`
MMgrMap               0x704  1/1      :mod:`.mgr` (map: :class:`.mgr.MgrMap`)
MMgrCommand           0x709  1/1      :mod:`.mgr`
MMgrCommandReply      0x70A  1/1      :mod:`.mgr`
=====================  ====  ========  =====================================
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asyncmsgr.messages.auth import MAuth, MAuthReply
    from asyncmsgr.messages.command import MCommand, MCommandReply, MMonCommand, MMonCommandAck
    from asyncmsgr.messages.config import MConfig
    from asyncmsgr.messages.log import LogEntry, MLog
    from asyncmsgr.messages.mgr import MgrMap, MMgrCommand, MMgrCommandReply, MMgrMap
    from asyncmsgr.messages.mon import (
        CEPH_SUBSCRIBE_ONETIME,
        MMonGetMap,
        MMonGetVersion,
        MMonGetVersionReply,
        MMonMap,
        MMonSubscribe,
        MMonSubscribeAck,
        SubscribeItem,
    )
    from asyncmsgr.messages.monmap import (
        CephRelease,
        ElectionStrategy,
        MonFeature,
        MonInfo,
        MonMap,
    )
    from asyncmsgr.messages.osd import MOSDBackoff
    from asyncmsgr.messages.osd_op import MOSDOp
    from asyncmsgr.messages.osd_op_reply import MOSDOpReply
    from asyncmsgr.messages.osdmap import MOSDMap
    from asyncmsgr.messages.paxos import DEFAULT_PAXOS_HEADER, PaxosHeader
    from asyncmsgr.messages.ping import MPing
    from asyncmsgr.messages.pool import (
        MGetPoolStats,
        MGetPoolStatsReply,
        MPoolOp,
        MPoolOpReply,
        MStatfs,
        MStatfsReply,
    )
    from asyncmsgr.messages.watch import MWatchNotify

#: Each public name -> the module of this package that defines it.
_MODULE_OF: dict[str, str] = {
    "CEPH_SUBSCRIBE_ONETIME": "mon",
    "DEFAULT_PAXOS_HEADER": "paxos",
    "CephRelease": "monmap",
    "ElectionStrategy": "monmap",
    "LogEntry": "log",
    "MAuth": "auth",
    "MAuthReply": "auth",
    "MCommand": "command",
    "MCommandReply": "command",
    "MConfig": "config",
    "MGetPoolStats": "pool",
    "MGetPoolStatsReply": "pool",
    "MLog": "log",
    "MMgrCommand": "mgr",
    "MMgrCommandReply": "mgr",
    "MMgrMap": "mgr",
    "MMonCommand": "command",
    "MMonCommandAck": "command",
    "MMonGetMap": "mon",
    "MMonGetVersion": "mon",
    "MMonGetVersionReply": "mon",
    "MMonMap": "mon",
    "MMonSubscribe": "mon",
    "MMonSubscribeAck": "mon",
    "MOSDBackoff": "osd",
    "MOSDMap": "osdmap",
    "MOSDOp": "osd_op",
    "MOSDOpReply": "osd_op_reply",
    "MPing": "ping",
    "MPoolOp": "pool",
    "MPoolOpReply": "pool",
    "MStatfs": "pool",
    "MStatfsReply": "pool",
    "MWatchNotify": "watch",
    "MgrMap": "mgr",
    "MonFeature": "monmap",
    "MonInfo": "monmap",
    "MonMap": "monmap",
    "PaxosHeader": "paxos",
    "SubscribeItem": "mon",
}


if not TYPE_CHECKING:  # mypy sees the imports above, so a misspelt name is an error

    def __getattr__(name: str) -> Any:
        """Import the module defining ``name`` on first access (PEP 562)."""
        module = _MODULE_OF.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "CEPH_SUBSCRIBE_ONETIME",
    "DEFAULT_PAXOS_HEADER",
    "CephRelease",
    "ElectionStrategy",
    "LogEntry",
    "MAuth",
    "MAuthReply",
    "MCommand",
    "MCommandReply",
    "MConfig",
    "MGetPoolStats",
    "MGetPoolStatsReply",
    "MLog",
    "MMgrCommand",
    "MMgrCommandReply",
    "MMgrMap",
    "MMonCommand",
    "MMonCommandAck",
    "MMonGetMap",
    "MMonGetVersion",
    "MMonGetVersionReply",
    "MMonMap",
    "MMonSubscribe",
    "MMonSubscribeAck",
    "MOSDBackoff",
    "MOSDMap",
    "MOSDOp",
    "MOSDOpReply",
    "MPing",
    "MPoolOp",
    "MPoolOpReply",
    "MStatfs",
    "MStatfsReply",
    "MWatchNotify",
    "MgrMap",
    "MonFeature",
    "MonInfo",
    "MonMap",
    "PaxosHeader",
    "SubscribeItem",
]
