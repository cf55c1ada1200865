"""The fuzz harnesses; importing this package registers all of them in
:data:`HARNESSES` (name -> :class:`~fuzz.harnesses.common.Harness`).

``any`` multiplexes them (its first input byte picks one): one libFuzzer process
then covers every target, which is what the short CI run uses, since
instrumenting asyncmsgr at start-up is most of a short run's time.
"""

from __future__ import annotations

from collections.abc import Iterator

from . import cephx, decoders, frames, handshake, sessions  # noqa: F401  (registration)
from .common import HARNESSES, Cursor, Harness, OracleFailure, register, run_one

#: The real targets, in the order the ``any`` harness's first byte indexes.
TARGETS: tuple[str, ...] = tuple(sorted(HARNESSES))


def any_target(data: bytes) -> None:
    """Run ``data[1:]`` through the harness ``data[0]`` picks (its oracle included)."""
    if not data:
        return
    run_one(HARNESSES[TARGETS[data[0] % len(TARGETS)]], data[1:])


def prefixed(name: str, data: bytes) -> bytes:
    """The ``any`` input that runs ``data`` through harness ``name``."""
    return bytes([TARGETS.index(name)]) + data


def _any_seeds() -> Iterator[bytes]:
    for name in TARGETS:
        for i, seed in enumerate(HARNESSES[name].seeds()):
            if i >= 8:
                break
            yield prefixed(name, seed)


register(Harness(
    name="any",
    target=any_target,
    seeds=_any_seeds,
    allowed=(),  # each harness's own allowed errors are handled by run_one inside
    max_len=max(HARNESSES[n].max_len for n in TARGETS) + 1,
    doc="all harnesses in one process (first byte picks one): the CI smoke run",
))

__all__ = ["HARNESSES", "TARGETS", "Cursor", "Harness", "OracleFailure", "prefixed",
           "run_one"]
