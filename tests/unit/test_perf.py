"""Perf counters: kinds, dump format, Pacific's msgr_* worker set, collection."""

from __future__ import annotations

import json

import pytest

from asyncmsgr.perf import (
    CounterKind,
    PerfCollection,
    PerfCounters,
    PerfCountersBuilder,
    TimeAvg,
    msgr_worker_counters,
)
from asyncmsgr.throttle import Throttle

# ceph-messenger.md §8, Pacific, in order.
PACIFIC_WORKER_COUNTERS = [
    ("msgr_recv_messages", "u64"),
    ("msgr_send_messages", "u64"),
    ("msgr_recv_bytes", "u64"),
    ("msgr_send_bytes", "u64"),
    ("msgr_created_connections", "u64"),
    ("msgr_active_connections", "u64"),
    ("msgr_running_total_time", "time"),
    ("msgr_running_send_time", "time"),
    ("msgr_running_recv_time", "time"),
    ("msgr_running_fast_dispatch_time", "time"),
    ("msgr_send_messages_queue_lat", "time_avg"),
    ("msgr_handle_ack_lat", "time_avg"),
]


def sample() -> PerfCounters:
    return (PerfCountersBuilder("test")
            .add_u64("gauge", "a gauge")
            .add_u64_counter("count")
            .add_time("busy")
            .add_time_avg("lat", "latency")
            .create())


def test_kinds_and_dump() -> None:
    pc = sample()
    assert pc.dump() == {"gauge": 0, "count": 0, "busy": 0.0,
                         "lat": {"avgcount": 0, "sum": 0.0, "avgtime": 0.0}}
    pc.inc("count")
    pc.inc("count", 4)
    pc.inc("gauge", 3)
    pc.dec("gauge")
    pc.tinc("busy", 0.25)
    pc.tinc("busy", 0.5)
    pc.tinc("lat", 1.0)
    pc.tinc("lat", 3.0)
    dump = pc.dump()
    assert dump == {"gauge": 2, "count": 5, "busy": 0.75,
                    "lat": {"avgcount": 2, "sum": 4.0, "avgtime": 2.0}}
    assert pc.perf_dump() == dump
    json.dumps(dump)
    pc.set("gauge", 10)
    pc.tset("busy", 2.0)
    assert pc.get("gauge") == 10
    assert pc.get("busy") == 2.0
    assert pc.get("lat") == TimeAvg(avgcount=2, sum=4.0)
    assert TimeAvg(avgcount=2, sum=4.0).avgtime == 2.0


def test_dump_is_a_copy_and_snapshot_is_immutable() -> None:
    pc = sample()
    dump = pc.dump()
    snap = pc.snapshot()
    pc.inc("count")
    assert dump["count"] == 0
    assert snap["count"] == 0
    with pytest.raises(TypeError):
        snap["count"] = 5  # type: ignore[index]
    assert list(snap) == ["gauge", "count", "busy", "lat"]


@pytest.mark.parametrize("call", [
    lambda pc: pc.inc("nope"),
    lambda pc: pc.dec("nope"),
    lambda pc: pc.set("nope", 1),
    lambda pc: pc.tinc("nope", 1.0),
    lambda pc: pc.tset("nope", 1.0),
    lambda pc: pc.get("nope"),
    lambda pc: pc.inc("busy"),      # a time counter is not a u64
    lambda pc: pc.inc("lat"),
    lambda pc: pc.tinc("count", 1.0),
    lambda pc: pc.tset("lat", 1.0),
    lambda pc: pc.set("busy", 1),
])
def test_unknown_or_wrong_kind_raises_keyerror(call: object) -> None:
    pc = sample()
    assert callable(call)
    with pytest.raises(KeyError):
        call(pc)


def test_builder_rejects_duplicates_and_reset() -> None:
    with pytest.raises(ValueError, match="twice"):
        PerfCountersBuilder("x").add_u64("a").add_time("a")
    pc = sample()
    pc.inc("count", 3)
    pc.tinc("lat", 1.0)
    pc.reset()
    assert pc.get("count") == 0
    assert pc.get("lat") == TimeAvg(avgcount=0, sum=0.0)
    assert pc.schema()["lat"] == {"type": "time_avg", "description": "latency"}
    assert pc.schema()["count"]["type"] == CounterKind.U64_COUNTER


def test_msgr_worker_counters() -> None:
    pc = msgr_worker_counters(2)
    assert pc.name == pc.perf_name == "AsyncMessenger::Worker-2"
    dump = pc.dump()
    assert list(dump) == [name for name, _ in PACIFIC_WORKER_COUNTERS]
    schema = pc.schema()
    for name, kind in PACIFIC_WORKER_COUNTERS:
        assert schema[name]["type"].startswith(kind)
        assert schema[name]["description"]
        expected: object = ({"avgcount": 0, "sum": 0.0, "avgtime": 0.0}
                            if kind == "time_avg" else 0)
        assert dump[name] == expected
    assert schema["msgr_active_connections"]["type"] == "u64"  # a gauge
    pc.inc("msgr_active_connections")
    pc.inc("msgr_active_connections")
    pc.dec("msgr_active_connections")
    pc.inc("msgr_recv_bytes", 4096)
    pc.tinc("msgr_send_messages_queue_lat", 0.5)
    dump = pc.dump()
    assert dump["msgr_active_connections"] == 1
    assert dump["msgr_recv_bytes"] == 4096
    assert dump["msgr_send_messages_queue_lat"] == {"avgcount": 1, "sum": 0.5, "avgtime": 0.5}
    # worker sets are independent
    assert msgr_worker_counters(2).get("msgr_recv_bytes") == 0


def test_collection() -> None:
    coll = PerfCollection()
    w0 = msgr_worker_counters(0)
    w1 = msgr_worker_counters(1)
    throttle = Throttle("msgr_dispatch_throttler-client", 100)
    assert coll.add(w1) == "AsyncMessenger::Worker-1"
    coll.add(w0)
    assert coll.add(throttle) == "throttle-msgr_dispatch_throttler-client"
    assert coll.add(w0) == "AsyncMessenger::Worker-0"  # same object again: fine
    with pytest.raises(ValueError, match="already registered"):
        coll.add(msgr_worker_counters(0))
    coll.add(sample(), name="custom")
    w0.inc("msgr_send_messages", 2)
    throttle.take(7)
    dump = coll.perf_dump()
    assert list(dump) == ["AsyncMessenger::Worker-0", "AsyncMessenger::Worker-1", "custom",
                          "throttle-msgr_dispatch_throttler-client"]
    assert dump["AsyncMessenger::Worker-0"]["msgr_send_messages"] == 2
    assert dump["throttle-msgr_dispatch_throttler-client"]["val"] == 7
    assert dump["throttle-msgr_dispatch_throttler-client"]["max"] == 100
    json.dumps(dump)
    assert len(coll) == 4
    assert "custom" in coll
    coll.remove("custom")
    coll.remove(throttle)
    coll.remove("absent")
    assert coll.names() == ["AsyncMessenger::Worker-0", "AsyncMessenger::Worker-1"]
