"""Spies for protocol-machine tests."""

from __future__ import annotations

from typing import Any

from asyncmsgr.protocol.base import ProtocolBase


class Recorder:
    """Counts what a machine counts (``msgr_*``) and the frames its fast loop took."""

    def __init__(self) -> None:
        self.counts: dict[str, float] = {}
        self.fast_frames = 0

    @classmethod
    def install(cls, machine: ProtocolBase) -> Recorder:
        rec = cls()
        machine.counters = rec
        original = machine._read_messages  # type: ignore[attr-defined]

        def spy(now: float) -> bool:
            before = machine.session.in_seq
            took: bool = original(now)
            rec.fast_frames += machine.session.in_seq - before
            return took

        machine._read_messages = spy  # type: ignore[attr-defined]
        return rec

    def inc(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def tinc(self, name: str, seconds: float) -> None:
        self.counts[name + ".n"] = self.counts.get(name + ".n", 0) + 1

    def tinc_many(self, name: str, seconds: float, count: int) -> None:
        self.counts[name + ".n"] = self.counts.get(name + ".n", 0) + count

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)
