"""Ceph keys and keyring files.

``CryptoKey`` is Ceph's ``CryptoKey``: ``u16 type (1 = AES), utime_t created,
u16 len, secret[len]``; a keyring's ``key =`` value is base64 of exactly that
encoding (wire-protocol.md §2.2).

A keyring file is INI-like::

    [client.admin]
        key = AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==
        caps mon = "allow *"

Section names are entity names; ``#`` and ``;`` start comments; whitespace
around names, ``=`` and values is free; values may be double- or single-quoted.
Every problem raises :class:`~asyncmsgr.errors.KeyringError` with a message
naming the file, line and entity.
"""

from __future__ import annotations

import base64
import binascii
import os
from types import MappingProxyType
from typing import Self

from asyncmsgr.errors import DecodeError, EncodeError, KeyringError
from asyncmsgr.record import Record
from asyncmsgr.types import AuthName, UTime
from asyncmsgr.wire.buffer import Reader, Writer
from asyncmsgr.wire.codecs import pull_utime, push_utime

_set = object.__setattr__  # what a frozen class's __init__ assigns with

CRYPTO_NONE = 0
CRYPTO_AES = 1
AES_KEY_LEN = 16
_EPOCH = UTime()


class CryptoKey(Record):
    """A cephx secret. ``type`` 1 (AES) needs exactly 16 secret bytes; type 0
    (NONE) an empty secret."""

    type: int
    created: UTime
    secret: bytes

    __slots__ = ("created", "secret", "type")

    def __init__(self, type: int = CRYPTO_AES, created: UTime = _EPOCH,
                 secret: bytes = b"") -> None:
        _set(self, "type", type)
        _set(self, "created", created)
        _set(self, "secret", secret)
        self.__post_init__()

    def __post_init__(self) -> None:
        if self.type == CRYPTO_AES and len(self.secret) != AES_KEY_LEN:
            raise EncodeError(f"an AES key needs {AES_KEY_LEN} secret bytes, "
                              f"got {len(self.secret)}")
        if self.type == CRYPTO_NONE and self.secret:
            raise EncodeError("a type-NONE key has no secret")
        if self.type not in (CRYPTO_NONE, CRYPTO_AES):
            raise EncodeError(f"unsupported key type {self.type}")

    @classmethod
    def aes(cls, secret: bytes, created: UTime = _EPOCH) -> CryptoKey:
        """An AES key from its 16 raw secret bytes."""
        return cls(CRYPTO_AES, created, bytes(secret))

    def encode(self, w: Writer) -> None:
        """``u16 type, utime created, u16 len, secret``."""
        w.push_u16(self.type)
        push_utime(w, self.created)
        w.push_u16(len(self.secret))
        w.push_bytes(self.secret)

    def to_bytes(self) -> bytes:
        """The 28-byte encoding of an AES key."""
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def decode(cls, r: Reader) -> Self:
        """Inverse of :meth:`encode`; DecodeError on a bad type or length."""
        ktype = r.pull_u16()
        created = pull_utime(r)
        n = r.pull_u16()
        if ktype == CRYPTO_AES and n != AES_KEY_LEN:
            raise DecodeError(f"AES key of {n} bytes (want {AES_KEY_LEN})")
        if ktype == CRYPTO_NONE and n:
            raise DecodeError("type-NONE key with a secret")
        if ktype not in (CRYPTO_NONE, CRYPTO_AES):
            raise DecodeError(f"unsupported key type {ktype}")
        return cls(ktype, created, r.pull_bytes(n))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode exactly one encoded key."""
        r = Reader(data)
        key = cls.decode(r)
        r.expect_end("CryptoKey")
        return key

    @classmethod
    def from_base64(cls, text: str) -> Self:
        """Parse a keyring ``key =`` value; KeyringError when it is not a key."""
        text = text.strip()
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise KeyringError(f"key {text[:8]!r}... is not valid base64") from None
        try:
            return cls.from_bytes(raw)
        except DecodeError as exc:
            raise KeyringError(f"key {text[:8]!r}... is not a Ceph key ({exc})") from None

    def to_base64(self) -> str:
        """The keyring form."""
        return base64.b64encode(self.to_bytes()).decode("ascii")

    def __repr__(self) -> str:  # never print secrets
        return f"CryptoKey(type={self.type}, created={self.created})"


class KeyringEntry(Record):
    """One ``[entity]`` section: the key and its caps (``caps mon = "allow *"``)."""

    name: AuthName
    key: CryptoKey
    caps: MappingProxyType[str, str]

    __slots__ = ("caps", "key", "name")

    def __init__(self, name: AuthName, key: CryptoKey,
                 caps: MappingProxyType[str, str] | None = None) -> None:
        _set(self, "name", name)
        _set(self, "key", key)
        _set(self, "caps", MappingProxyType({}) if caps is None else caps)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _strip_comment(line: str) -> str:
    out = []
    quote = ""
    for ch in line:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "#;":
            break
        out.append(ch)
    return "".join(out).strip()


class Keyring(Record):
    """Parsed keyring: entity name (``client.admin``) -> :class:`KeyringEntry`."""

    entries: MappingProxyType[str, KeyringEntry]
    source: str

    __slots__ = ("entries", "source")

    def __init__(self, entries: MappingProxyType[str, KeyringEntry],
                 source: str = "<keyring>") -> None:
        _set(self, "entries", entries)
        _set(self, "source", source)

    @classmethod
    def from_text(cls, text: str, source: str = "<keyring>") -> Keyring:
        """Parse keyring text; KeyringError names the line of any problem."""
        entries: dict[str, KeyringEntry] = {}
        current: AuthName | None = None
        key: CryptoKey | None = None
        caps: dict[str, str] = {}

        def finish() -> None:
            if current is None:
                return
            if key is None:
                raise KeyringError(f"{source}: [{current}] has no 'key =' line")
            entries[str(current)] = KeyringEntry(current, key, MappingProxyType(dict(caps)))

        for lineno, raw in enumerate(text.splitlines(), 1):
            line = _strip_comment(raw)
            if not line:
                continue
            where = f"{source}:{lineno}"
            if line.startswith("["):
                if not line.endswith("]"):
                    raise KeyringError(f"{where}: unterminated section header {line!r}")
                finish()
                try:
                    current = AuthName.parse(line[1:-1].strip())
                except ValueError as exc:
                    raise KeyringError(f"{where}: {exc}") from None
                key, caps = None, {}
                continue
            name, eq, value = line.partition("=")
            if not eq:
                raise KeyringError(f"{where}: expected 'name = value', got {line!r}")
            if current is None:
                raise KeyringError(f"{where}: {name.strip()!r} before any [entity] section")
            words = name.split()
            if words == ["key"]:
                try:
                    key = CryptoKey.from_base64(_unquote(value))
                except KeyringError as exc:
                    raise KeyringError(f"{where}: [{current}]: {exc}") from None
            elif len(words) == 2 and words[0] == "caps":
                caps[words[1]] = _unquote(value)
            # other settings (auid, ...) are ignored, as Ceph ignores unknown ones
        finish()
        return cls(MappingProxyType(entries), source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Keyring:
        """Read and parse a keyring file; KeyringError if it cannot be read."""
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            raise KeyringError(f"keyring file {os.fspath(path)!r} does not exist") from None
        except OSError as exc:
            raise KeyringError(f"cannot read keyring file {os.fspath(path)!r}: "
                               f"{exc.strerror}") from None
        except UnicodeDecodeError:
            raise KeyringError(f"keyring file {os.fspath(path)!r} is not text") from None
        return cls.from_text(text, os.fspath(path))

    def entry(self, name: str | AuthName) -> KeyringEntry:
        """The section for ``name``; KeyringError when there is none."""
        found = self.entries.get(str(name))
        if found is None:
            have = ", ".join(sorted(self.entries)) or "none"
            raise KeyringError(f"no key for {name} in {self.source} (it has: {have})")
        return found

    def get(self, name: str | AuthName) -> CryptoKey:
        """The key of ``name`` (``"client.admin"`` or an AuthName)."""
        return self.entry(name).key

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str | AuthName) and str(name) in self.entries

    def to_text(self) -> str:
        """Render in Ceph's format (tab-indented, caps quoted)."""
        out = []
        for name, e in self.entries.items():
            out.append(f"[{name}]\n\tkey = {e.key.to_base64()}\n")
            for svc, cap in e.caps.items():
                out.append(f'\tcaps {svc} = "{cap}"\n')
        return "".join(out)


__all__ = ["AES_KEY_LEN", "CRYPTO_AES", "CRYPTO_NONE", "CryptoKey", "Keyring",
           "KeyringEntry", "KeyringError"]
