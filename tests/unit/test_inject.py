"""Fault-injection decisions and the DelayedDelivery FIFO (no sockets)."""

from __future__ import annotations

import random

from asyncmsgr.aio.inject import DelayedDelivery, FaultInjector
from asyncmsgr.config import MessengerConfig
from asyncmsgr.messages import MPing
from asyncmsgr.types import EntityType


def injector(**options: str | int | float | bool) -> FaultInjector:
    return FaultInjector(MessengerConfig().replace(**options), random.Random(7))


def test_socket_failures_are_one_in_n() -> None:
    inj = injector(ms_inject_socket_failures=30)
    hits = sum(inj.fail_socket_op() for _ in range(30_000))
    assert 800 < hits < 1200
    assert inj.counts["socket_failures"] == hits
    assert not any(injector().fail_socket_op() for _ in range(1000))


def test_congestion_stalls_n_minus_one_in_n() -> None:
    inj = injector(ms_inject_network_congestion=100)
    stalls = sum(inj.congested() for _ in range(10_000))
    assert 9800 < stalls < 10_000
    assert not any(injector().congested() for _ in range(100))


def test_delay_applies_to_listed_peer_types_with_probability() -> None:
    inj = injector(ms_inject_delay_type="client osd", ms_inject_delay_probability=0.5,
                   ms_inject_delay_max=2.0)
    assert inj.delays_peer(EntityType.OSD)
    assert inj.delays_peer(EntityType.CLIENT)
    assert not inj.delays_peer(EntityType.MON)
    delays = [inj.delivery_delay() for _ in range(4000)]
    held = [d for d in delays if d > 0]
    assert 1800 < len(held) < 2200
    assert max(held) < 2.0
    assert not injector(ms_inject_delay_type="osd").delays_peer(EntityType.OSD)  # p = 0


def test_blackhole_by_peer_type() -> None:
    inj = injector(ms_blackhole_osd=True)
    assert inj.blackholed(EntityType.OSD)
    assert not inj.blackholed(EntityType.CLIENT)
    assert inj.counts["blackholed_messages"] == 1


def test_delayed_delivery_keeps_order_behind_a_held_message() -> None:
    d = DelayedDelivery()
    a, b, c = (MPing(tid=i) for i in range(3))
    d.queue(10.0, a)
    d.queue(1.0, b)  # due earlier but behind ``a``
    d.queue(11.0, c)
    assert d.next_deadline() == 10.0
    assert d.pop_due(5.0) == []
    assert d.pop_due(10.5) == [a, b]
    assert d.pop_due(12.0) == [c]
    assert len(d) == 0
    assert d.next_deadline() is None


def test_delayed_delivery_flush_and_discard() -> None:
    d = DelayedDelivery()
    msgs = [MPing(tid=i) for i in range(3)]
    for m in msgs:
        d.queue(100.0, m)
    assert d.flush() == msgs
    released: list[object] = []
    for m in msgs:
        d.queue(100.0, m)
    assert d.discard(released.append) == 3
    assert released == msgs
    assert len(d) == 0
