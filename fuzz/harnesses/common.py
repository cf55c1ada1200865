"""What every harness shares: the registry, the oracle and a byte cursor.

A harness is a plain function ``target(data: bytes) -> None``. It may raise only
the exception classes listed in its :class:`Harness` entry (``allowed``); any
other exception is a finding. :func:`run_one` is the oracle both the libFuzzer
entry point and the pytest replay call, so a crash reproduces the same way in
both.

Inputs are read through :class:`Cursor`, a deterministic reader that pads with
zeros past the end (so every byte string is a valid input and short inputs stay
meaningful); harnesses interpret the bytes as a small program (which frame to
build, which decoder to call) so mutations reach the decoders behind the
integrity checks.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from asyncmsgr.errors import AsyncmsgrError, RemoteProtocolError

T = TypeVar("T")

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class Cursor:
    """Reads typed values off the fuzzer's bytes; zeros past the end."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def remaining(self) -> int:
        """Bytes not yet read."""
        return max(0, len(self._data) - self._pos)

    def take(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer at the end of the input)."""
        n = max(0, n)
        out = self._data[self._pos : self._pos + n]
        self._pos += n
        return out

    def _fixed(self, st: struct.Struct) -> int:
        raw = self.take(st.size)
        if len(raw) < st.size:
            raw = raw + bytes(st.size - len(raw))
        value: int = st.unpack(raw)[0]
        return value

    def u8(self) -> int:
        """One byte (0 at the end)."""
        raw = self.take(1)
        return raw[0] if raw else 0

    def u16(self) -> int:
        """Little-endian u16."""
        return self._fixed(_U16)

    def u32(self) -> int:
        """Little-endian u32."""
        return self._fixed(_U32)

    def u64(self) -> int:
        """Little-endian u64."""
        return self._fixed(_U64)

    def flag(self) -> bool:
        """One byte's low bit."""
        return bool(self.u8() & 1)

    def below(self, n: int) -> int:
        """A value in ``[0, n)`` (one byte, two above 256)."""
        if n <= 1:
            self.u8()
            return 0
        return (self.u8() if n <= 256 else self.u16()) % n

    def choice(self, seq: Sequence[T]) -> T:
        """An element of ``seq`` (non-empty)."""
        return seq[self.below(len(seq))]

    def blob(self, max_len: int) -> bytes:
        """A u16 length (capped at ``max_len``), then that many bytes."""
        return self.take(self.u16() % (max_len + 1))

    def rest(self) -> bytes:
        """Everything left."""
        out = self._data[self._pos :]
        self._pos = len(self._data)
        return out


@dataclass(frozen=True, slots=True)
class Harness:
    """One fuzz target and what it may raise."""

    name: str
    target: Callable[[bytes], None]
    seeds: Callable[[], Iterable[bytes]]
    """Seed inputs built from the captures and sample maps (for :mod:`fuzz.seeds`)."""
    allowed: tuple[type[BaseException], ...] = (RemoteProtocolError,)
    """What may escape ``target``: the package's typed errors for bad input."""
    max_len: int = 4096
    """libFuzzer's ``-max_len`` for this target."""
    doc: str = ""


HARNESSES: dict[str, Harness] = {}


def register(harness: Harness) -> Harness:
    """Add ``harness`` to :data:`HARNESSES` (names are unique)."""
    if harness.name in HARNESSES:
        raise ValueError(f"harness {harness.name!r} registered twice")
    HARNESSES[harness.name] = harness
    return harness


class OracleFailure(AssertionError):
    """A harness saw a broken invariant other than an exception (e.g. a machine
    that faulted without telling, or a decoder that hid a foreign exception)."""


def run_one(harness: Harness, data: bytes) -> None:
    """Run one input; return if it ended well or with an allowed exception.

    Anything else propagates: that is a finding (libFuzzer writes the input to
    ``fuzz/crashes``; the replay test fails).
    """
    try:
        harness.target(data)
    except harness.allowed as exc:
        check_typed_cause(exc)


def check_typed_cause(exc: BaseException) -> None:
    """A typed error wrapping a foreign exception means a decoder raised an
    untyped one and a safety net caught it (e.g. ``decode_message``'s catch of
    IndexError): still a decoder bug."""
    cause = exc.__cause__
    while cause is not None:
        if not isinstance(cause, AsyncmsgrError):
            raise OracleFailure(
                f"{type(exc).__name__} wraps a foreign {type(cause).__name__}: {cause!r}"
            ) from cause
        cause = cause.__cause__
