"""Connection policies (Ceph ``src/msg/Policy.h``) and the per-peer-type policy set.

A :class:`Policy` says how a connection to a peer of some entity type behaves on
faults and what it requires (ceph-messenger.md §3). Build one with a named
constructor; the flags are:

=================================  =====  ======  =======  ==========  ======================
factory                            lossy  server  standby  resetcheck  register_lossy_clients
=================================  =====  ======  =======  ==========  ======================
``Policy()``                       0      0       0        1           1
``lossy_client``                   1      0       0        0           1
``lossless_client``                0      0       0        1           1
``lossless_peer``                  0      0       1        0           1
``lossless_peer_reuse``            0      0       1        1           1
``stateful_server``                0      1       1        1           1
``stateless_server``               1      1       0        0           0
``stateless_registered_server``    1      1       0        0           1
=================================  =====  ======  =======  ==========  ======================

:class:`PolicySet` is ``SimplePolicyMessenger``'s policy set: a default policy and a
policy per peer entity type, plus optional per-type throttlers.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any, Self

from asyncmsgr.features import CEPH_FEATURES_SUPPORTED_DEFAULT
from asyncmsgr.throttle import Throttle
from asyncmsgr.types import entity_type_str

_U64_MAX = (1 << 64) - 1


@dataclass(frozen=True, kw_only=True, slots=True)
class Policy:
    """How connections to one kind of peer behave (Ceph ``Messenger::Policy``).

    Use the named constructors (:meth:`lossy_client`, :meth:`lossless_peer`, ...)
    and derive with :meth:`replace` / :meth:`with_throttlers`.
    """

    lossy: bool = False
    """After the handshake any fault ends the connection for good (no replay)."""
    server: bool = False
    """Never initiate a reconnect; park in STANDBY and wait for the peer."""
    standby: bool = False
    """On a fault with nothing to send, park in STANDBY until there is."""
    resetcheck: bool = True
    """Detect and report that the peer lost its session (remote reset)."""
    register_lossy_clients: bool = True
    """Register accepted lossy clients, so a newer connection replaces an older one."""
    features_supported: int = CEPH_FEATURES_SUPPORTED_DEFAULT
    """Feature bits we offer to such peers."""
    features_required: int = 0
    """Feature bits such peers must offer, or the handshake fails."""
    throttler_bytes: Throttle | None = None
    """Budget for front+middle+data bytes of received, undispatched messages."""
    throttler_messages: Throttle | None = None
    """Budget for the number of received, undispatched messages."""

    def __post_init__(self) -> None:
        for name in ("lossy", "server", "standby", "resetcheck", "register_lossy_clients"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"Policy.{name} must be a bool")
        for name in ("features_supported", "features_required"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not (
                    0 <= value <= _U64_MAX):
                raise ValueError(f"Policy.{name} must be a 64-bit unsigned int, got {value!r}")
        for name in ("throttler_bytes", "throttler_messages"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Throttle):
                raise TypeError(f"Policy.{name} must be a Throttle or None")

    # --- Ceph's factories -----------------------------------------------------

    @classmethod
    def lossy_client(cls, features_required: int = 0) -> Self:
        """Client to OSD / mon / mgr: lossy, reconnect by a new connect_to."""
        return cls(lossy=True, server=False, standby=False, resetcheck=False,
                   register_lossy_clients=True, features_required=features_required)

    @classmethod
    def lossless_client(cls, features_required: int = 0) -> Self:
        """Client to a stateful server (MDS): lossless, reconnects at once."""
        return cls(lossy=False, server=False, standby=False, resetcheck=True,
                   register_lossy_clients=True, features_required=features_required)

    @classmethod
    def lossless_peer(cls, features_required: int = 0) -> Self:
        """OSD to OSD: lossless, standby, peers do not reset each other."""
        return cls(lossy=False, server=False, standby=True, resetcheck=False,
                   register_lossy_clients=True, features_required=features_required)

    @classmethod
    def lossless_peer_reuse(cls, features_required: int = 0) -> Self:
        """Peers that must detect resets (MDS to MDS): lossless, standby, resetcheck."""
        return cls(lossy=False, server=False, standby=True, resetcheck=True,
                   register_lossy_clients=True, features_required=features_required)

    @classmethod
    def stateful_server(cls, features_required: int = 0) -> Self:
        """MDS for its clients: lossless server that keeps sessions."""
        return cls(lossy=False, server=True, standby=True, resetcheck=True,
                   register_lossy_clients=True, features_required=features_required)

    @classmethod
    def stateless_server(cls, features_required: int = 0) -> Self:
        """OSD or mon for clients: lossy server; lossy clients are not registered."""
        return cls(lossy=True, server=True, standby=False, resetcheck=False,
                   register_lossy_clients=False, features_required=features_required)

    @classmethod
    def stateless_registered_server(cls, features_required: int = 0) -> Self:
        """Lossy server allowing one registered connection per client (post-Pacific?)."""
        return cls(lossy=True, server=True, standby=False, resetcheck=False,
                   register_lossy_clients=True, features_required=features_required)

    @classmethod
    def by_name(cls, name: str) -> Self:
        """A policy by factory name (``"lossless_peer"``, ``"lossy-client"``, ``"default"``).

        Raises:
            ValueError: unknown name; the message lists the valid ones.
        """
        key = name.strip().replace("-", "_")
        if key == "default":
            return cls()
        if key not in POLICY_NAMES:
            raise ValueError(
                f"unknown policy {name!r}; valid: default, {', '.join(POLICY_NAMES)}")
        factory = getattr(cls, key)
        policy: Self = factory()
        return policy

    # --- derivation -----------------------------------------------------------

    def replace(self, **changes: Any) -> Policy:
        """A copy with ``changes`` applied (TypeError for an unknown field)."""
        return dataclasses.replace(self, **changes)

    def with_throttlers(self, *, bytes: Throttle | None = None,
                        messages: Throttle | None = None) -> Policy:
        """A copy with both throttlers set (None removes one)."""
        return dataclasses.replace(self, throttler_bytes=bytes, throttler_messages=messages)

    def missing_features(self, peer_features: int) -> int:
        """The required feature bits the peer does not offer (0 if none)."""
        return self.features_required & ~peer_features

    def flags(self) -> dict[str, bool]:
        """The five behaviour flags by name."""
        return {
            "lossy": self.lossy, "server": self.server, "standby": self.standby,
            "resetcheck": self.resetcheck,
            "register_lossy_clients": self.register_lossy_clients,
        }


#: The names :meth:`Policy.by_name` accepts (besides ``"default"``).
POLICY_NAMES: tuple[str, ...] = (
    "lossy_client",
    "lossless_client",
    "lossless_peer",
    "lossless_peer_reuse",
    "stateful_server",
    "stateless_server",
    "stateless_registered_server",
)


class PolicySet:
    """A default policy plus one per peer entity type (Ceph ``PolicySet``).

    Throttlers set with :meth:`set_policy_throttlers` are kept apart and applied
    on top of the type's policy (or the default one), whatever order the calls
    come in. Meant to be configured before the messenger starts; reads are
    lock-free, writes take a lock.
    """

    __slots__ = ("_default", "_effective", "_lock", "_policies", "_throttlers")

    def __init__(self, default: Policy | None = None) -> None:
        self._lock = threading.Lock()
        self._default = default if default is not None else Policy()
        self._policies: dict[int, Policy] = {}
        self._throttlers: dict[int, tuple[Throttle | None, Throttle | None]] = {}
        self._effective: dict[int, Policy] = {}

    def set_default_policy(self, policy: Policy) -> None:
        """Policy for peer types without their own."""
        with self._lock:
            self._default = policy
            self._rebuild_locked()

    def get_default_policy(self) -> Policy:
        """The default policy."""
        return self._default

    def set_policy(self, peer_type: int, policy: Policy) -> None:
        """Policy for peers of ``peer_type`` (an :class:`~asyncmsgr.types.EntityType`)."""
        with self._lock:
            self._policies[int(peer_type)] = policy
            self._rebuild_locked()

    def get_policy(self, peer_type: int) -> Policy:
        """The policy for ``peer_type`` (its own, else the default), throttlers applied."""
        return self._effective.get(peer_type, self._default)

    def set_policy_throttlers(self, peer_type: int, bytes: int | Throttle | None,
                              messages: int | Throttle | None) -> None:
        """Throttle messages received from peers of ``peer_type``.

        An int creates a :class:`Throttle` of that budget, named
        ``msgr_throttle_bytes-<type>`` / ``msgr_throttle_messages-<type>``
        (``<type>`` as ``client``, ``osd``); None means no throttler.
        """
        type_name = entity_type_str(peer_type)
        byte_throttle = (Throttle(f"msgr_throttle_bytes-{type_name}", bytes)
                         if isinstance(bytes, int) else bytes)
        msg_throttle = (Throttle(f"msgr_throttle_messages-{type_name}", messages)
                        if isinstance(messages, int) else messages)
        with self._lock:
            self._throttlers[int(peer_type)] = (byte_throttle, msg_throttle)
            self._rebuild_locked()

    def throttles(self) -> list[Throttle]:
        """Every distinct throttler in use, for registration with perf counters."""
        seen: dict[int, Throttle] = {}
        policies = [self._default, *self._effective.values()]
        for policy in policies:
            for throttle in (policy.throttler_bytes, policy.throttler_messages):
                if throttle is not None:
                    seen.setdefault(id(throttle), throttle)
        return list(seen.values())

    def _rebuild_locked(self) -> None:
        effective: dict[int, Policy] = dict(self._policies)
        for peer_type, (tb, tm) in self._throttlers.items():
            base = effective.get(peer_type, self._default)
            effective[peer_type] = base.with_throttlers(bytes=tb, messages=tm)
        self._effective = effective


__all__ = ["POLICY_NAMES", "Policy", "PolicySet"]
