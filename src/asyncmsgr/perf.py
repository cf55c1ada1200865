"""Perf counters named and dumped as Ceph's (``src/common/perf_counters.h``).

A :class:`PerfCounters` set is declared up front with
:class:`PerfCountersBuilder`; using a name that was not declared (or declared with
another kind) raises :class:`KeyError`. Kinds, and how :meth:`PerfCounters.dump`
prints them (as ``ceph daemon <name> perf dump``):

* ``u64`` / ``u64_counter``: an int (``inc``, ``dec``, ``set``); a ``u64`` is a
  gauge that may go down, a ``u64_counter`` only grows (by convention);
* ``time``: accumulated seconds as a float (``tinc``, ``tset``);
* ``time_avg``: ``{"avgcount": n, "sum": seconds, "avgtime": seconds / n}``
  (each ``tinc`` adds one sample).

Each set has a single writer (the worker owning it); ``inc`` is a plain dict
``+=``. Dumps from other threads may see a set mid-update, never a broken one.

:func:`msgr_worker_counters` declares Pacific's 12 ``msgr_*`` counters of one
worker (logger ``AsyncMessenger::Worker-<id>``); :class:`PerfCollection` gathers
named sets and throttles into one ``perf dump``.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, Self


class CounterKind(StrEnum):
    """The kinds of counter (Ceph ``perfcounter_type_d`` combinations)."""

    U64 = "u64"
    U64_COUNTER = "u64_counter"
    TIME = "time"
    TIME_AVG = "time_avg"


@dataclass(frozen=True, kw_only=True, slots=True)
class TimeAvg:
    """A snapshot of a ``time_avg`` counter."""

    avgcount: int
    """Number of samples."""
    sum: float
    """Total seconds."""

    @property
    def avgtime(self) -> float:
        """Mean seconds per sample (0.0 when there is none)."""
        return self.sum / self.avgcount if self.avgcount else 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class CounterSpec:
    """How one counter is declared."""

    name: str
    """Counter name, e.g. ``msgr_recv_messages``."""
    kind: CounterKind
    """What the counter holds."""
    description: str = ""
    """One-line description (``perf schema``)."""
    units: str = "none"
    """``bytes`` or ``none`` (``perf schema``'s ``units``)."""

    def ceph_schema(self) -> dict[str, object]:
        """This counter as ``ceph daemon ... perf schema`` describes it."""
        type_bits, metric, value = _CEPH_TYPES[self.kind]
        return {"type": type_bits, "metric_type": metric, "value_type": value,
                "description": self.description, "nick": "", "priority": 0,
                "units": self.units}


#: ``perfcounter_type_d`` bits, ``metric_type`` and ``value_type`` of each kind, as
#: ``perf schema`` prints them (PERFCOUNTER_TIME 1, U64 2, LONGRUNAVG 4, COUNTER 8).
_CEPH_TYPES: dict[CounterKind, tuple[int, str, str]] = {
    CounterKind.U64: (2, "gauge", "integer"),
    CounterKind.U64_COUNTER: (10, "counter", "integer"),
    CounterKind.TIME: (1, "gauge", "real"),
    CounterKind.TIME_AVG: (5, "gauge", "real-integer-pair"),
}


class PerfCounters:
    """A named set of counters; build with :class:`PerfCountersBuilder`."""

    __slots__ = ("_avg_count", "_avg_sum", "_name", "_specs", "_time", "_u64")

    def __init__(self, name: str, specs: tuple[CounterSpec, ...]) -> None:
        self._name = name
        self._specs = {spec.name: spec for spec in specs}
        self._u64: dict[str, int] = {}
        self._time: dict[str, float] = {}
        self._avg_sum: dict[str, float] = {}
        self._avg_count: dict[str, int] = {}
        self.reset()

    def __repr__(self) -> str:
        return f"<PerfCounters {self._name!r} ({len(self._specs)} counters)>"

    @property
    def name(self) -> str:
        """The logger name, e.g. ``AsyncMessenger::Worker-0``."""
        return self._name

    @property
    def perf_name(self) -> str:
        """Key of this set in a ``perf dump`` (the name)."""
        return self._name

    def reset(self) -> None:
        """Zero every counter (``perf reset``)."""
        for spec in self._specs.values():
            if spec.kind is CounterKind.TIME:
                self._time[spec.name] = 0.0
            elif spec.kind is CounterKind.TIME_AVG:
                self._avg_sum[spec.name] = 0.0
                self._avg_count[spec.name] = 0
            else:
                self._u64[spec.name] = 0

    # --- hot path -------------------------------------------------------------

    def inc(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to a u64 counter (KeyError if not a u64 counter)."""
        self._u64[name] += amount

    def dec(self, name: str, amount: int = 1) -> None:
        """Subtract ``amount`` from a u64 counter (not checked against 0)."""
        self._u64[name] -= amount

    def set(self, name: str, value: int) -> None:
        """Set a u64 counter."""
        if name not in self._u64:
            raise KeyError(name)
        self._u64[name] = value

    def tinc(self, name: str, seconds: float) -> None:
        """Add ``seconds`` to a time counter, or one sample to a time_avg counter."""
        if name in self._time:
            self._time[name] += seconds
        else:
            self._avg_sum[name] += seconds
            self._avg_count[name] += 1

    def tinc_many(self, name: str, seconds: float, count: int) -> None:
        """Add ``count`` samples totalling ``seconds`` to a time_avg counter (what
        ``count`` :meth:`tinc` calls would add; a time counter just adds ``seconds``)."""
        if name in self._time:
            self._time[name] += seconds
        else:
            self._avg_sum[name] += seconds
            self._avg_count[name] += count

    def tset(self, name: str, seconds: float) -> None:
        """Set a time counter."""
        if name not in self._time:
            raise KeyError(name)
        self._time[name] = seconds

    # --- reading --------------------------------------------------------------

    def get(self, name: str) -> int | float | TimeAvg:
        """One counter's current value (an int, seconds, or a :class:`TimeAvg`)."""
        if name in self._u64:
            return self._u64[name]
        if name in self._time:
            return self._time[name]
        if name in self._avg_sum:
            return TimeAvg(avgcount=self._avg_count[name], sum=self._avg_sum[name])
        raise KeyError(name)

    def snapshot(self) -> Mapping[str, int | float | TimeAvg]:
        """An immutable mapping of every counter, in declaration order."""
        return types.MappingProxyType({name: self.get(name) for name in self._specs})

    def dump(self) -> dict[str, object]:
        """The counters as ``perf dump`` prints them (JSON-ready, a fresh dict)."""
        out: dict[str, object] = {}
        for name in self._specs:
            value = self.get(name)
            if isinstance(value, TimeAvg):
                out[name] = {"avgcount": value.avgcount, "sum": value.sum,
                             "avgtime": value.avgtime}
            else:
                out[name] = value
        return out

    def perf_dump(self) -> dict[str, object]:
        """Same as :meth:`dump`."""
        return self.dump()

    def schema(self) -> dict[str, dict[str, str]]:
        """Kind and description of each counter (like ``perf schema``)."""
        return {spec.name: {"type": spec.kind.value, "description": spec.description}
                for spec in self._specs.values()}

    def specs(self) -> tuple[CounterSpec, ...]:
        """The counters' declarations, in order."""
        return tuple(self._specs.values())

    def perf_schema(self) -> dict[str, dict[str, object]]:
        """Each counter as ``ceph daemon ... perf schema`` prints it."""
        return {spec.name: spec.ceph_schema() for spec in self._specs.values()}


class PerfCountersBuilder:
    """Declares the counters of a :class:`PerfCounters` set (Ceph's builder)."""

    __slots__ = ("_name", "_specs")

    def __init__(self, name: str) -> None:
        self._name = name
        self._specs: list[CounterSpec] = []

    def _add(self, name: str, kind: CounterKind, description: str) -> Self:
        if any(spec.name == name for spec in self._specs):
            raise ValueError(f"counter {name!r} declared twice in {self._name!r}")
        self._specs.append(CounterSpec(name=name, kind=kind, description=description))
        return self

    def add_u64(self, name: str, description: str = "") -> Self:
        """A gauge: goes up and down."""
        return self._add(name, CounterKind.U64, description)

    def add_u64_counter(self, name: str, description: str = "") -> Self:
        """A monotonic count."""
        return self._add(name, CounterKind.U64_COUNTER, description)

    def add_time(self, name: str, description: str = "") -> Self:
        """Accumulated seconds."""
        return self._add(name, CounterKind.TIME, description)

    def add_time_avg(self, name: str, description: str = "") -> Self:
        """Seconds per sample: sum and count."""
        return self._add(name, CounterKind.TIME_AVG, description)

    def create(self) -> PerfCounters:
        """The counter set, all zero."""
        return PerfCounters(self._name, tuple(self._specs))


#: Pacific's per-worker counters, in Ceph's order.
MSGR_WORKER_COUNTERS: tuple[CounterSpec, ...] = (
    CounterSpec(name="msgr_recv_messages", kind=CounterKind.U64_COUNTER,
                description="Network received messages"),
    CounterSpec(name="msgr_send_messages", kind=CounterKind.U64_COUNTER,
                description="Network sent messages"),
    CounterSpec(name="msgr_recv_bytes", kind=CounterKind.U64_COUNTER,
                description="Network received bytes", units="bytes"),
    CounterSpec(name="msgr_send_bytes", kind=CounterKind.U64_COUNTER,
                description="Network sent bytes", units="bytes"),
    CounterSpec(name="msgr_created_connections", kind=CounterKind.U64_COUNTER,
                description="Created connection number"),
    CounterSpec(name="msgr_active_connections", kind=CounterKind.U64,
                description="Active connection number"),
    CounterSpec(name="msgr_running_total_time", kind=CounterKind.TIME,
                description="The total time of thread running"),
    CounterSpec(name="msgr_running_send_time", kind=CounterKind.TIME,
                description="The total time of message sending"),
    CounterSpec(name="msgr_running_recv_time", kind=CounterKind.TIME,
                description="The total time of message receiving"),
    CounterSpec(name="msgr_running_fast_dispatch_time", kind=CounterKind.TIME,
                description="The total time of fast dispatch"),
    CounterSpec(name="msgr_send_messages_queue_lat", kind=CounterKind.TIME_AVG,
                description="Network sent messages lat"),
    CounterSpec(name="msgr_handle_ack_lat", kind=CounterKind.TIME_AVG,
                description="Connection handle ack lat"),
)


#: A throttle's logger (``throttle-<name>``), in Ceph's order (``Throttle.cc``).
THROTTLE_COUNTERS: tuple[CounterSpec, ...] = (
    CounterSpec(name="val", kind=CounterKind.U64, description="Currently available throttle"),
    CounterSpec(name="max", kind=CounterKind.U64, description="Max value for throttle"),
    CounterSpec(name="get_started", kind=CounterKind.U64_COUNTER,
                description="Number of get calls, increased before wait"),
    CounterSpec(name="get", kind=CounterKind.U64_COUNTER, description="Gets"),
    CounterSpec(name="get_sum", kind=CounterKind.U64_COUNTER, description="Got data"),
    CounterSpec(name="get_or_fail_fail", kind=CounterKind.U64_COUNTER,
                description="Get blocked during get_or_fail"),
    CounterSpec(name="get_or_fail_success", kind=CounterKind.U64_COUNTER,
                description="Successful get during get_or_fail"),
    CounterSpec(name="take", kind=CounterKind.U64_COUNTER, description="Takes"),
    CounterSpec(name="take_sum", kind=CounterKind.U64_COUNTER, description="Taken data"),
    CounterSpec(name="put", kind=CounterKind.U64_COUNTER, description="Puts"),
    CounterSpec(name="put_sum", kind=CounterKind.U64_COUNTER, description="Put data"),
    CounterSpec(name="wait", kind=CounterKind.TIME_AVG, description="Waiting latency"),
)


def msgr_worker_counters(worker_id: int) -> PerfCounters:
    """The 12 ``msgr_*`` counters of worker ``worker_id``
    (logger ``AsyncMessenger::Worker-<id>``)."""
    return PerfCounters(f"AsyncMessenger::Worker-{worker_id}", MSGR_WORKER_COUNTERS)


class PerfSource(Protocol):
    """Anything :class:`PerfCollection` can hold: PerfCounters, Throttle, ..."""

    @property
    def perf_name(self) -> str:
        """Key in the dump."""
        ...

    def perf_dump(self) -> dict[str, object]:
        """The source's counters, JSON-ready."""
        ...


def perf_schema_of(source: PerfSource) -> dict[str, dict[str, object]]:
    """``source``'s ``perf schema`` entries: its own ``perf_schema()`` when it has
    one, else guessed from its dump (an int is a ``u64``, a float a ``time``, an
    ``avgcount``/``sum`` pair a ``time_avg``)."""
    own = getattr(source, "perf_schema", None)
    if callable(own):
        schema: dict[str, dict[str, object]] = own()
        return schema
    out: dict[str, dict[str, object]] = {}
    for name, value in source.perf_dump().items():
        if isinstance(value, dict):
            kind = CounterKind.TIME_AVG
        elif isinstance(value, float):
            kind = CounterKind.TIME
        else:
            kind = CounterKind.U64
        out[name] = CounterSpec(name=name, kind=kind).ceph_schema()
    return out


class PerfCollection:
    """Named perf sources gathered into one dump (Ceph's ``PerfCountersCollection``).

    Thread-safe. Keys are the sources' ``perf_name`` (``throttle-<name>`` for a
    :class:`~asyncmsgr.throttle.Throttle`) unless a name is given.
    """

    __slots__ = ("_lock", "_sources")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: dict[str, PerfSource] = {}

    def add(self, source: PerfSource, *, name: str | None = None) -> str:
        """Register ``source``; returns its key.

        Raises:
            ValueError: another source already has that key.
        """
        key = name if name is not None else source.perf_name
        with self._lock:
            existing = self._sources.get(key)
            if existing is not None and existing is not source:
                raise ValueError(f"perf logger {key!r} already registered")
            self._sources[key] = source
        return key

    def remove(self, source_or_name: PerfSource | str) -> None:
        """Unregister a source by key or by object (no error if absent)."""
        with self._lock:
            if isinstance(source_or_name, str):
                self._sources.pop(source_or_name, None)
                return
            for key in [k for k, v in self._sources.items() if v is source_or_name]:
                del self._sources[key]

    def __contains__(self, name: object) -> bool:
        return name in self._sources

    def __len__(self) -> int:
        return len(self._sources)

    def names(self) -> list[str]:
        """Registered keys, sorted."""
        with self._lock:
            return sorted(self._sources)

    def items(self) -> list[tuple[str, PerfSource]]:
        """``(key, source)`` pairs, sorted by key."""
        with self._lock:
            return sorted(self._sources.items())

    def perf_dump(self) -> dict[str, dict[str, object]]:
        """``{logger: {counter: value}}``, loggers sorted by name, as ``perf dump``."""
        return {key: source.perf_dump() for key, source in self.items()}

    def perf_schema(self) -> dict[str, dict[str, dict[str, object]]]:
        """``{logger: {counter: schema}}``, as ``perf schema``."""
        return {key: perf_schema_of(source) for key, source in self.items()}


__all__ = [
    "MSGR_WORKER_COUNTERS",
    "THROTTLE_COUNTERS",
    "CounterKind",
    "CounterSpec",
    "PerfCollection",
    "PerfCounters",
    "PerfCountersBuilder",
    "PerfSource",
    "TimeAvg",
    "msgr_worker_counters",
    "perf_schema_of",
]
