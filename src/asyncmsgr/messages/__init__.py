"""Ceph's typed messages (Pacific layouts, wire-protocol.md §7.2).

Importing this package registers every class below with
:func:`asyncmsgr.message.register_message`, so :func:`~asyncmsgr.message.decode_message`
returns them. Each class sets Ceph's ``TYPE``/``HEAD_VERSION``/``COMPAT_VERSION``
(a Ceph message that names no compat version gets its head version, as
``Message::encode`` does), builds its front in ``encode_payload`` and parses it in
``decode_payload``; re-encoding a decoded front gives the same bytes.

=====================  ====  ========  =====================================
class                  type  v/compat  module
=====================  ====  ========  =====================================
MPing                     2  1/1      :mod:`.ping`
MMonMap                   4  1/1      :mod:`.mon` (map in :mod:`.monmap`)
MMonGetMap                5  1/1      :mod:`.mon`
MMonSubscribe            15  3/1      :mod:`.mon`
MMonSubscribeAck         16  1/1      :mod:`.mon`
MAuth                    17  1/1      :mod:`.auth`
MAuthReply               18  1/1      :mod:`.auth`
MMonGetVersion           19  1/1      :mod:`.mon`
MMonGetVersionReply      20  2/2      :mod:`.mon`
MOSDMap                  41  4/3      :mod:`.osdmap` (maps in :mod:`asyncmsgr.osd`)
MMonCommand              50  1/1      :mod:`.command`
MMonCommandAck           51  1/1      :mod:`.command`
MConfig                  62  1/1      :mod:`.config`
MCommand                 97  1/1      :mod:`.command`
MCommandReply            98  1/1      :mod:`.command`
=====================  ====  ========  =====================================
"""

from __future__ import annotations

from asyncmsgr.messages.auth import MAuth, MAuthReply
from asyncmsgr.messages.command import MCommand, MCommandReply, MMonCommand, MMonCommandAck
from asyncmsgr.messages.config import MConfig
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
from asyncmsgr.messages.osdmap import MOSDMap
from asyncmsgr.messages.paxos import DEFAULT_PAXOS_HEADER, PaxosHeader
from asyncmsgr.messages.ping import MPing

__all__ = [
    "CEPH_SUBSCRIBE_ONETIME",
    "DEFAULT_PAXOS_HEADER",
    "CephRelease",
    "ElectionStrategy",
    "MAuth",
    "MAuthReply",
    "MCommand",
    "MCommandReply",
    "MConfig",
    "MMonCommand",
    "MMonCommandAck",
    "MMonGetMap",
    "MMonGetVersion",
    "MMonGetVersionReply",
    "MMonMap",
    "MMonSubscribe",
    "MMonSubscribeAck",
    "MOSDMap",
    "MPing",
    "MonFeature",
    "MonInfo",
    "MonMap",
    "PaxosHeader",
    "SubscribeItem",
]
