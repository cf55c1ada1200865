"""Policy factories (the flag table of ceph-messenger.md §3), by_name, PolicySet."""

from __future__ import annotations

import dataclasses

import pytest

from asyncmsgr.features import CEPH_FEATURES_SUPPORTED_DEFAULT
from asyncmsgr.policy import POLICY_NAMES, Policy, PolicySet
from asyncmsgr.throttle import Throttle
from asyncmsgr.types import EntityType

# factory: (lossy, server, standby, resetcheck, register_lossy_clients), from §3.
FLAG_TABLE: dict[str, tuple[int, int, int, int, int]] = {
    "lossy_client": (1, 0, 0, 0, 1),
    "lossless_client": (0, 0, 0, 1, 1),
    "lossless_peer": (0, 0, 1, 0, 1),
    "lossless_peer_reuse": (0, 0, 1, 1, 1),
    "stateful_server": (0, 1, 1, 1, 1),
    "stateless_server": (1, 1, 0, 0, 0),
    "stateless_registered_server": (1, 1, 0, 0, 1),
}


def flags_of(policy: Policy) -> tuple[int, int, int, int, int]:
    return (int(policy.lossy), int(policy.server), int(policy.standby),
            int(policy.resetcheck), int(policy.register_lossy_clients))


@pytest.mark.parametrize(("name", "flags"), sorted(FLAG_TABLE.items()))
def test_factory_flags(name: str, flags: tuple[int, int, int, int, int]) -> None:
    policy: Policy = getattr(Policy, name)()
    assert flags_of(policy) == flags
    assert policy.features_supported == CEPH_FEATURES_SUPPORTED_DEFAULT
    assert policy.features_required == 0
    assert policy.throttler_bytes is None
    assert policy.throttler_messages is None
    required: Policy = getattr(Policy, name)(features_required=0x1234)
    assert required.features_required == 0x1234
    assert flags_of(required) == flags
    assert Policy.by_name(name) == policy
    assert Policy.by_name(name.replace("_", "-")) == policy


def test_default_policy() -> None:
    policy = Policy()
    assert flags_of(policy) == (0, 0, 0, 1, 1)
    assert policy.features_supported == CEPH_FEATURES_SUPPORTED_DEFAULT == 0x3F01CFBDFFFDFFFF
    assert policy.features_required == 0
    assert Policy.by_name("default") == policy
    assert flags_of(policy) == tuple(int(v) for v in policy.flags().values())


def test_policy_names_cover_the_table() -> None:
    assert set(POLICY_NAMES) == set(FLAG_TABLE)


def test_by_name_unknown_lists_valid() -> None:
    with pytest.raises(ValueError, match="lossless_peer_reuse") as info:
        Policy.by_name("lossless")
    assert "lossy_client" in str(info.value)
    assert "default" in str(info.value)


def test_frozen_keyword_only_and_validated() -> None:
    policy = Policy.lossy_client()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.lossy = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        Policy(True)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Policy(lossy=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Policy(features_required=-1)
    with pytest.raises(ValueError):
        Policy(features_required=1 << 64)
    with pytest.raises(TypeError):
        Policy(throttler_bytes=10)  # type: ignore[arg-type]


def test_replace_and_throttlers() -> None:
    tb = Throttle("b", 100)
    tm = Throttle("m", 10)
    base = Policy.stateless_server()
    throttled = base.with_throttlers(bytes=tb, messages=tm)
    assert throttled.throttler_bytes is tb
    assert throttled.throttler_messages is tm
    assert flags_of(throttled) == flags_of(base)
    assert base.throttler_bytes is None
    cleared = throttled.with_throttlers()
    assert cleared.throttler_bytes is None
    assert cleared.throttler_messages is None
    changed = base.replace(standby=True, features_required=4)
    assert changed.standby
    assert changed.features_required == 4
    with pytest.raises(TypeError):
        base.replace(bogus=True)


def test_missing_features() -> None:
    policy = Policy.lossy_client(features_required=0b1011)
    assert policy.missing_features(0b1111) == 0
    assert policy.missing_features(0b0001) == 0b1010


def test_policy_set_default_and_per_type() -> None:
    ps = PolicySet()
    assert ps.get_policy(EntityType.OSD) == Policy()
    ps.set_default_policy(Policy.lossy_client())
    ps.set_policy(EntityType.MON, Policy.lossless_peer())
    assert ps.get_policy(EntityType.OSD) == Policy.lossy_client()
    assert ps.get_policy(EntityType.MON) == Policy.lossless_peer()
    assert ps.get_policy(int(EntityType.MON)) == Policy.lossless_peer()
    assert ps.get_default_policy() == Policy.lossy_client()
    assert ps.throttles() == []


def test_policy_set_throttlers() -> None:
    ps = PolicySet(Policy.stateless_server())
    ps.set_policy_throttlers(EntityType.CLIENT, 1000, 10)
    client = ps.get_policy(EntityType.CLIENT)
    assert client.throttler_bytes is not None
    assert client.throttler_messages is not None
    assert client.throttler_bytes.name == "msgr_throttle_bytes-client"
    assert client.throttler_bytes.max == 1000
    assert client.throttler_messages.name == "msgr_throttle_messages-client"
    assert client.throttler_messages.max == 10
    assert flags_of(client) == FLAG_TABLE["stateless_server"]
    # other types and the default stay unthrottled
    assert ps.get_policy(EntityType.OSD).throttler_bytes is None
    assert ps.get_default_policy().throttler_bytes is None
    # throttlers survive a later set_policy for that type
    ps.set_policy(EntityType.CLIENT, Policy.stateful_server())
    again = ps.get_policy(EntityType.CLIENT)
    assert flags_of(again) == FLAG_TABLE["stateful_server"]
    assert again.throttler_bytes is client.throttler_bytes
    # explicit Throttle objects and None
    shared = Throttle("shared", 5)
    ps.set_policy_throttlers(EntityType.OSD, shared, None)
    osd = ps.get_policy(EntityType.OSD)
    assert osd.throttler_bytes is shared
    assert osd.throttler_messages is None
    names = sorted(t.name for t in ps.throttles())
    assert names == ["msgr_throttle_bytes-client", "msgr_throttle_messages-client", "shared"]
