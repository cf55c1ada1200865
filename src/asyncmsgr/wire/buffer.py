"""Ceph's encoding primitives (``encoding.h`` / ``denc``): Reader and Writer.

All integers are little-endian. Strings and bufferlists are ``u32 len`` + bytes,
containers are ``u32 count`` + items, ``std::optional`` is ``u8 present`` + value,
and a versioned struct (``ENCODE_START(v, compat)``) is ``u8 struct_v,
u8 struct_compat, u32 len`` + ``len`` bytes of body.

Rules every decoder here follows:

* a length or count is checked against the bytes actually present before
  anything is sliced or allocated (a count of items needs at least
  ``count * min_item_size`` bytes);
* a versioned struct is decoded from a sub-reader bounded by its declared
  length, so it can never read past it, and unknown trailing bytes are skipped;
* every failure raises :class:`~asyncmsgr.errors.DecodeError` (or
  :class:`~asyncmsgr.errors.IncompatibleEncoding`), never another exception.

``Reader.pull_view`` returns zero-copy memoryview slices; ``pull_bytes`` copies.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

from asyncmsgr.errors import DecodeError, EncodeError, IncompatibleEncoding
from asyncmsgr.types import Buffer

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

U8 = struct.Struct("<B")
U16 = struct.Struct("<H")
U32 = struct.Struct("<I")
U64 = struct.Struct("<Q")
S8 = struct.Struct("<b")
S16 = struct.Struct("<h")
S32 = struct.Struct("<i")
S64 = struct.Struct("<q")
_VERSION_HDR = struct.Struct("<BBI")


def as_view(data: Buffer) -> memoryview:
    """A flat unsigned-byte memoryview of ``data`` (no copy)."""
    if type(data) is bytes or type(data) is bytearray:
        return memoryview(data)
    mv = data if isinstance(data, memoryview) else memoryview(data)
    if mv.ndim != 1 or mv.format != "B":
        mv = mv.cast("B")
    return mv


class Reader:
    """Sequential little-endian decoder over a buffer, bounded by ``end``."""

    __slots__ = ("_buf", "_end", "_pos")

    def __init__(self, data: Buffer, start: int = 0, end: int | None = None) -> None:
        self._buf = as_view(data)
        self._pos = start
        self._end = len(self._buf) if end is None else end
        if not 0 <= start <= self._end <= len(self._buf):
            raise DecodeError("reader bounds outside the buffer")

    @property
    def pos(self) -> int:
        """Offset of the next byte to read in the underlying buffer."""
        return self._pos

    @property
    def remaining(self) -> int:
        """Bytes left before the end bound."""
        return self._end - self._pos

    def at_end(self) -> bool:
        """True when every byte has been consumed."""
        return self._pos >= self._end

    def expect_end(self, what: str) -> None:
        """Raise DecodeError if bytes are left (for exactly-sized structures)."""
        if self._pos != self._end:
            raise DecodeError(f"{what}: {self._end - self._pos} unexpected trailing bytes")

    def _take(self, n: int, what: str) -> int:
        pos = self._pos
        if n < 0 or self._end - pos < n:
            raise DecodeError(
                f"{what}: need {n} bytes, have {self._end - pos}"
            )
        self._pos = pos + n
        return pos

    def pull_u8(self) -> int:
        """u8."""
        v: int = U8.unpack_from(self._buf, self._take(1, "u8"))[0]
        return v

    def pull_u16(self) -> int:
        """le16."""
        v: int = U16.unpack_from(self._buf, self._take(2, "u16"))[0]
        return v

    def pull_u32(self) -> int:
        """le32."""
        v: int = U32.unpack_from(self._buf, self._take(4, "u32"))[0]
        return v

    def pull_u64(self) -> int:
        """le64."""
        v: int = U64.unpack_from(self._buf, self._take(8, "u64"))[0]
        return v

    def pull_s8(self) -> int:
        """s8."""
        v: int = S8.unpack_from(self._buf, self._take(1, "s8"))[0]
        return v

    def pull_s16(self) -> int:
        """Signed le16."""
        v: int = S16.unpack_from(self._buf, self._take(2, "s16"))[0]
        return v

    def pull_s32(self) -> int:
        """Signed le32."""
        v: int = S32.unpack_from(self._buf, self._take(4, "s32"))[0]
        return v

    def pull_s64(self) -> int:
        """Signed le64."""
        v: int = S64.unpack_from(self._buf, self._take(8, "s64"))[0]
        return v

    def pull_bool(self) -> bool:
        """bool: one byte, non-zero is true (as Ceph decodes it)."""
        return self.pull_u8() != 0

    def pull_view(self, n: int) -> memoryview:
        """The next ``n`` bytes as a zero-copy view."""
        pos = self._take(n, "bytes")
        return self._buf[pos : pos + n]

    def pull_bytes(self, n: int) -> bytes:
        """The next ``n`` bytes, copied."""
        pos = self._take(n, "bytes")
        return bytes(self._buf[pos : pos + n])

    def pull_rest(self) -> memoryview:
        """Everything up to the end bound, as a view."""
        return self.pull_view(self._end - self._pos)

    def pull_blob_view(self) -> memoryview:
        """bufferlist (``u32 len`` + bytes) as a zero-copy view."""
        n = self.pull_u32()
        if n > self.remaining:
            raise DecodeError(f"bufferlist length {n} exceeds the {self.remaining} bytes left")
        return self.pull_view(n)

    def pull_blob(self) -> bytes:
        """bufferlist (``u32 len`` + bytes), copied."""
        return bytes(self.pull_blob_view())

    def pull_string(self) -> str:
        """std::string. Bytes that are not UTF-8 survive via surrogateescape."""
        return bytes(self.pull_blob_view()).decode("utf-8", "surrogateescape")

    def pull_count(self, min_item_size: int, what: str = "container") -> int:
        """A ``u32`` element count, checked against the bytes left."""
        n = self.pull_u32()
        if n * min_item_size > self.remaining:
            raise DecodeError(
                f"{what}: count {n} needs at least {n * min_item_size} bytes, "
                f"have {self.remaining}"
            )
        return n

    def pull_list(self, item: Callable[[Reader], T], min_item_size: int = 1) -> list[T]:
        """vector/list: ``u32 n`` + n items."""
        n = self.pull_count(min_item_size, "list")
        return [item(self) for _ in range(n)]

    def pull_map(
        self,
        key: Callable[[Reader], K],
        value: Callable[[Reader], V],
        min_item_size: int = 1,
    ) -> dict[K, V]:
        """map: ``u32 n`` + n (key, value) pairs; later duplicates win, as in Ceph."""
        n = self.pull_count(min_item_size, "map")
        out: dict[K, V] = {}
        for _ in range(n):
            k = key(self)
            out[k] = value(self)
        return out

    def pull_optional(self, item: Callable[[Reader], T]) -> T | None:
        """std::optional: ``u8 present`` + value."""
        return item(self) if self.pull_u8() else None

    def pull_versioned(self, known_v: int, what: str) -> tuple[int, Reader]:
        """DECODE_START: read the struct header and return (struct_v, body reader).

        The body reader is bounded by the declared length; this reader moves past
        the whole struct, so unknown trailing fields are skipped. A ``compat_v``
        newer than ``known_v`` raises IncompatibleEncoding.
        """
        pos = self._take(6, f"{what} struct header")
        struct_v, compat_v, length = _VERSION_HDR.unpack_from(self._buf, pos)
        if compat_v > known_v:
            raise IncompatibleEncoding(
                f"{what}: struct compat {compat_v} is newer than known version {known_v}"
            )
        if length > self.remaining:
            raise DecodeError(
                f"{what}: struct length {length} exceeds the {self.remaining} bytes left"
            )
        body = Reader(self._buf, self._pos, self._pos + length)
        self._pos += length
        return struct_v, body


class Writer:
    """Little-endian encoder appending to one bytearray."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def __len__(self) -> int:
        return len(self._buf)

    def getvalue(self) -> bytes:
        """The encoded bytes."""
        return bytes(self._buf)

    @property
    def buffer(self) -> bytearray:
        """The underlying bytearray (no copy; do not keep views while writing)."""
        return self._buf

    def _pack(self, st: struct.Struct, value: int, what: str) -> None:
        try:
            self._buf += st.pack(value)
        except struct.error as exc:
            raise EncodeError(f"{what}: {value!r} does not fit") from exc

    def push_u8(self, v: int) -> None:
        """u8."""
        self._pack(U8, v, "u8")

    def push_u16(self, v: int) -> None:
        """le16."""
        self._pack(U16, v, "u16")

    def push_u32(self, v: int) -> None:
        """le32."""
        self._pack(U32, v, "u32")

    def push_u64(self, v: int) -> None:
        """le64."""
        self._pack(U64, v, "u64")

    def push_s8(self, v: int) -> None:
        """s8."""
        self._pack(S8, v, "s8")

    def push_s16(self, v: int) -> None:
        """Signed le16."""
        self._pack(S16, v, "s16")

    def push_s32(self, v: int) -> None:
        """Signed le32."""
        self._pack(S32, v, "s32")

    def push_s64(self, v: int) -> None:
        """Signed le64."""
        self._pack(S64, v, "s64")

    def push_bool(self, v: bool) -> None:
        """bool as one byte."""
        self._buf.append(1 if v else 0)

    def push_bytes(self, data: Buffer) -> None:
        """Raw bytes, no length."""
        self._buf += data

    def push_blob(self, data: Buffer) -> None:
        """bufferlist: ``u32 len`` + bytes."""
        self.push_u32(len(as_view(data)))
        self._buf += data

    def push_string(self, s: str) -> None:
        """std::string (UTF-8, surrogateescape for round-tripped raw bytes)."""
        try:
            raw = s.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise EncodeError(f"string not encodable: {exc}") from exc
        self.push_blob(raw)

    def push_list(self, items: Iterable[T], item: Callable[[Writer, T], None]) -> None:
        """vector/list: ``u32 n`` + items."""
        seq = list(items)
        self.push_u32(len(seq))
        for x in seq:
            item(self, x)

    def push_map(
        self,
        mapping: Mapping[K, V],
        key: Callable[[Writer, K], None],
        value: Callable[[Writer, V], None],
    ) -> None:
        """map: ``u32 n`` + pairs in the mapping's iteration order."""
        self.push_u32(len(mapping))
        for k, v in mapping.items():
            key(self, k)
            value(self, v)

    def push_optional(self, v: T | None, item: Callable[[Writer, T], None]) -> None:
        """std::optional."""
        if v is None:
            self._buf.append(0)
        else:
            self._buf.append(1)
            item(self, v)

    @contextmanager
    def versioned(self, struct_v: int, compat_v: int) -> Iterator[None]:
        """ENCODE_START/ENCODE_FINISH: header written now, length back-patched."""
        self._pack(U8, struct_v, "struct_v")
        self._pack(U8, compat_v, "compat_v")
        at = len(self._buf)
        self._buf += b"\0\0\0\0"
        yield
        U32.pack_into(self._buf, at, len(self._buf) - at - 4)

    @contextmanager
    def length_prefixed(self) -> Iterator[None]:
        """A bufferlist whose bytes are written inside the block."""
        at = len(self._buf)
        self._buf += b"\0\0\0\0"
        yield
        U32.pack_into(self._buf, at, len(self._buf) - at - 4)


def pull_u32_item(r: Reader) -> int:
    """Item decoder for ``vector<u32>``."""
    return r.pull_u32()


def push_u32_item(w: Writer, v: int) -> None:
    """Item encoder for ``vector<u32>``."""
    w.push_u32(v)


def pull_string_item(r: Reader) -> str:
    """Item decoder for ``vector<string>``."""
    return r.pull_string()


def push_string_item(w: Writer, v: str) -> None:
    """Item encoder for ``vector<string>``."""
    w.push_string(v)


__all__ = [
    "S8",
    "S16",
    "S32",
    "S64",
    "U8",
    "U16",
    "U32",
    "U64",
    "Reader",
    "Writer",
    "as_view",
    "pull_string_item",
    "pull_u32_item",
    "push_string_item",
    "push_u32_item",
]
