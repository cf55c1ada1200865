"""``mon_host`` as Ceph reads it: ``MonMap::init_with_ips`` and ``init_with_hosts``.

Sans-I/O: host names are kept as text until :meth:`MonHosts.resolve` is given a
resolver. The rules (checked against ``monmaptool --generate``) are listed in
:mod:`asyncmsgr.monc.conf`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from asyncmsgr.errors import AsyncmsgrError
from asyncmsgr.record import Record
from asyncmsgr.types import AddrType, EntityAddr, EntityAddrVec

_set = object.__setattr__  # what a frozen class's __init__ assigns with

CEPH_MON_PORT_IANA = 3300
CEPH_MON_PORT_LEGACY = 6789

_HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.\-]*[A-Za-z0-9])?(:[0-9]+)?$")


class ConfError(AsyncmsgrError, ValueError):
    """A configuration file, argument or ``mon_host`` that Ceph would refuse."""


class InitialMon(Record):
    """One monitor of the initial monmap: its name and addresses."""

    name: str
    addrs: EntityAddrVec

    __slots__ = ("addrs", "name")

    def __init__(self, name: str, addrs: EntityAddrVec) -> None:
        _set(self, "name", name)
        _set(self, "addrs", addrs)

    def __str__(self) -> str:
        return f"{self.addrs} mon.{self.name}"


class MonMapBuilder:
    def __init__(self) -> None:
        self.mons: list[InitialMon] = []

    def _contains(self, addrs: Iterable[EntityAddr]) -> bool:
        wanted = set(addrs)
        return any(a in wanted for mon in self.mons for a in mon.addrs)

    def add(self, name: str, addrs: Sequence[EntityAddr]) -> None:
        if any(m.name == name for m in self.mons):
            return
        self.mons.append(InitialMon(name, EntityAddrVec(tuple(addrs))))

    def add_ambiguous(self, name: str, addr: EntityAddr, *, for_mkfs: bool) -> None:
        """``MonMap::_add_ambiguous_addr``."""
        if addr.type != AddrType.ANY:
            if addr.port == 0:
                port = (CEPH_MON_PORT_LEGACY if addr.type == AddrType.LEGACY
                        else CEPH_MON_PORT_IANA)
                addr = addr.with_port(port)
            if not self._contains([addr]):
                self.add(name, [addr])
        elif addr.port == CEPH_MON_PORT_LEGACY:
            legacy = addr.with_type(AddrType.LEGACY)
            if not self._contains([legacy]):
                self.add(name if for_mkfs else f"{name}-legacy", [legacy])
        elif addr.port == CEPH_MON_PORT_IANA:
            v2 = addr.with_type(AddrType.MSGR2)
            if not self._contains([v2]):
                self.add(name, [v2])
        elif addr.port == 0:
            v2 = addr.with_type(AddrType.MSGR2).with_port(CEPH_MON_PORT_IANA)
            v1 = addr.with_type(AddrType.LEGACY).with_port(CEPH_MON_PORT_LEGACY)
            if for_mkfs:
                if not self._contains([v2, v1]):
                    self.add(name, [v2, v1])
            else:
                if not self._contains([v2]):
                    self.add(name, [v2])
                if not self._contains([v1]):
                    self.add(f"{name}-legacy", [v1])
        else:
            v2 = addr.with_type(AddrType.MSGR2)
            if not self._contains([v2]):
                self.add(name, [v2])
            v1 = addr.with_type(AddrType.LEGACY)
            if not for_mkfs and not self._contains([v1]):
                self.add(f"{name}-legacy", [v1])


def _split_top_level(item: str) -> list[str]:
    """Split on commas outside brackets (``[v2:a,v1:b],c`` -> two parts)."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, c in enumerate(item):
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(item[start:i])
            start = i + 1
    parts.append(item[start:])
    return [p for p in parts if p]


def parse_addr_list(text: str, default_type: int = AddrType.ANY) -> list[EntityAddrVec]:
    """``parse_ip_port_vec``: addresses and addrvecs split on blanks, ``;`` and ``,``.

    Raises:
        ValueError: a part is neither an address nor an address vector.
    """
    out: list[EntityAddrVec] = []
    for item in str_list_delims(text, " ;\t\n"):
        for part in _split_top_level(item):
            try:
                out.append(EntityAddrVec((EntityAddr.parse(part, default_type),)))
            except ValueError:
                out.append(EntityAddrVec.parse(part, default_type))
    return out


def str_list_delims(text: str, delims: str) -> list[str]:
    """``get_str_list(text, delims)``: split on any of ``delims``, drop empty parts."""
    return [p for p in re.split("[" + re.escape(delims) + "]+", text) if p]


class MonHosts(Record):
    """The result of reading ``mon_host``: monitors and names still to resolve."""

    mons: tuple[InitialMon, ...]
    """Monitors whose addresses are known."""
    unresolved: tuple[str, ...]
    """``host`` or ``host:port`` entries waiting for :meth:`resolve`."""
    for_mkfs: bool
    """Built with ``for_mkfs`` rules (as ``monmaptool --generate``)."""

    __slots__ = ("for_mkfs", "mons", "unresolved")

    def __init__(self, mons: tuple[InitialMon, ...], unresolved: tuple[str, ...] = (),
                 for_mkfs: bool = False) -> None:
        _set(self, "mons", mons)
        _set(self, "unresolved", unresolved)
        _set(self, "for_mkfs", for_mkfs)

    def resolve(self, resolver: Callable[[str], Sequence[str]]) -> MonHosts:
        """Resolve host names: ``resolver(host)`` returns IP literals.

        Each IP gets the entry's port (or none) and the ambiguous-address rules,
        as ``MonMap::init_with_hosts`` does. Raises ConfError when a name has no
        address.
        """
        if not self.unresolved:
            return self
        builder = MonMapBuilder()
        builder.mons = list(self.mons)
        index = len(self.mons)
        for entry in self.unresolved:
            host, _, port = entry.partition(":")
            ips = list(resolver(host))
            if not ips:
                raise ConfError(f"unable to resolve '{host}' in mon_host")
            kind = AddrType.MSGR2 if self.for_mkfs else AddrType.ANY
            for ip in ips:
                try:
                    addr = EntityAddr.from_host(ip, int(port or 0), type=kind)
                except ValueError:
                    raise ConfError(f"resolver gave a bad address {ip!r} for '{host}'") from None
                builder.add_ambiguous(f"noname-{_letter(index)}", addr, for_mkfs=self.for_mkfs)
                index += 1
        return MonHosts(tuple(builder.mons), (), self.for_mkfs)

    @property
    def addrvecs(self) -> list[EntityAddrVec]:
        """The monitors' address vectors, in order."""
        return [m.addrs for m in self.mons]


def _letter(i: int) -> str:
    return chr(ord("a") + i) if i < 26 else f"{i}"


def parse_mon_host(mon_host: str, *, for_mkfs: bool = False) -> MonHosts:
    """Read a ``mon_host`` value like ``MonMap::init_with_ips`` (then hosts).

    Raises:
        ConfError: ``unable to parse addrs in '...'`` (Ceph's wording).
    """
    try:
        vecs = parse_addr_list(mon_host)
    except ValueError:
        return _parse_with_hosts(mon_host, for_mkfs=for_mkfs)
    builder = MonMapBuilder()
    for i, vec in enumerate(vecs):
        name = f"noname-{_letter(i)}"
        if len(vec) == 1:
            builder.add_ambiguous(name, vec.addrs[0], for_mkfs=for_mkfs)
        else:
            builder.add(name, vec.addrs)
    if not builder.mons:
        raise ConfError("no monitors specified to connect to.")
    return MonHosts(tuple(builder.mons), (), for_mkfs)


def _parse_with_hosts(mon_host: str, *, for_mkfs: bool) -> MonHosts:
    """Entries that are IPs are taken now, host names kept for :meth:`MonHosts.resolve`."""
    builder = MonMapBuilder()
    unresolved: list[str] = []
    for i, entry in enumerate(str_list_delims(mon_host, ",; \t\n")):
        try:
            vec = parse_addr_list(entry)
        except ValueError:
            if not _HOST_RE.match(entry) or _looks_numeric(entry):
                raise ConfError(f"unable to parse addrs in '{mon_host}'") from None
            unresolved.append(entry)
            continue
        for addr_vec in vec:
            builder.add_ambiguous(f"noname-{_letter(i)}", addr_vec.addrs[0], for_mkfs=for_mkfs)
    return MonHosts(tuple(builder.mons), tuple(unresolved), for_mkfs)


def _looks_numeric(entry: str) -> bool:
    host = entry.partition(":")[0]
    return bool(host) and all(c.isdigit() or c == "." for c in host)


__all__ = [
    "CEPH_MON_PORT_IANA",
    "CEPH_MON_PORT_LEGACY",
    "ConfError",
    "InitialMon",
    "MonHosts",
    "MonMapBuilder",
    "parse_addr_list",
    "parse_mon_host",
    "str_list_delims",
]
