"""Messenger configuration: Ceph's ``ms_*`` options, with their Pacific defaults.

:class:`MessengerConfig` is a frozen, keyword-only dataclass whose field names are
Ceph's option names, so a ``ceph.conf`` section, ``ceph config`` output or a
``--ms_async_op_threads=2`` argument maps onto it directly
(:meth:`MessengerConfig.from_ceph_options`, :func:`parse_config_args`). Defaults
are those of Pacific 16.2.15 (``src/common/options.cc``), see ceph-messenger.md §7
and faults-and-bad-input.md §1.1. RDMA and DPDK options are left out: asyncmsgr
only has the posix stack.

Options that exist only in asyncmsgr use the ``asyncmsgr_`` prefix; the ``ms_``
prefix is kept for options Ceph has. ``ms_inject_network_congestion`` is
post-Pacific but included for fault injection.

Rules:

* Every field is validated when the object is built (type and range), so a
  ``MessengerConfig`` that exists is valid. Errors raise :class:`ConfigError`.
* Text values are converted by the field's type (see :func:`convert_value`):

  - ``bool``: ``true/false/yes/no/on/off/1/0``, case-insensitive;
  - ``int``: an optional sign, decimal digits, then an optional unit made of
    ``K``, ``M``, ``G`` or ``T`` (any case) optionally followed by ``i``, then an
    optional ``B``/``b``; each letter step multiplies by 1024 (binary units for
    every integer option, unlike Ceph's decimal ``strict_si_cast`` for non-size
    options). ``"100M"``, ``"100Mi"``, ``"100MiB"`` and ``"100MB"`` all mean
    ``100 * 2**20``; ``"512B"`` means 512; whitespace around is allowed;
  - ``float``: Python's ``float()`` of the text, finite only;
  - ``str``: the text itself.

* Option names accept ``-`` or ``_`` (and spaces, as in ``ceph.conf``) between
  words; a leading ``--`` is stripped.
"""

from __future__ import annotations

import math
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Self

from asyncmsgr.errors import AsyncmsgrError
from asyncmsgr.record import Record
from asyncmsgr.subsys import SUBSYSTEMS, parse_levels, tool_defaults
from asyncmsgr.types import EntityType

if TYPE_CHECKING:
    from asyncmsgr.auth.base import ModeOptions
    from asyncmsgr.protocol.common import ProtocolOptions

MiB = 1 << 20

#: A value given for an option: text (converted by the field type) or a Python value.
OptionValue = str | int | float | bool


class ConfigError(AsyncmsgrError, ValueError):
    """An unknown option, a value of the wrong type or outside its range."""


class MessengerConfig(Record):
    """Messenger options, named and defaulted as in Ceph Pacific 16.2.15.

    Build with keywords, :meth:`from_ceph_options` or :func:`parse_config_args`;
    derive with :meth:`replace`. Invalid values raise :class:`ConfigError`. A
    frozen :class:`~asyncmsgr.record.Record` whose defaults are the class
    attributes below (no dataclass code generation at import).
    """

    # --- messenger type and stack -------------------------------------------------
    ms_type: str = "async+posix"
    """Messenger and transport type; asyncmsgr implements ``async+posix`` only."""
    ms_public_type: str = ""
    """Messenger type on the public network (empty means ``ms_type``)."""
    ms_cluster_type: str = ""
    """Messenger type on the cluster network (empty means ``ms_type``)."""
    ms_async_op_threads: int = 3
    """Number of worker threads (event loops) of the network stack, 1 to 24."""
    ms_async_reap_threshold: int = 5
    """Number of closed connections that triggers a reap of dead connections."""

    # --- binding -----------------------------------------------------------------
    ms_bind_ipv4: bool = True
    """Bind IPv4 addresses."""
    ms_bind_ipv6: bool = False
    """Bind IPv6 addresses."""
    ms_bind_prefer_ipv4: bool = False
    """Prefer IPv4 when both families are bound and an address must be chosen."""
    ms_bind_msgr1: bool = True
    """Daemons bind a msgr v1 (legacy) address."""
    ms_bind_msgr2: bool = True
    """Daemons bind a msgr2 address."""
    ms_bind_port_min: int = 6800
    """Lowest port scanned when binding to port 0."""
    ms_bind_port_max: int = 7300
    """Highest port scanned when binding to port 0 (7568 after Pacific)."""
    ms_bind_retry_count: int = 3
    """Number of bind attempts when the address is in use."""
    ms_bind_retry_delay: float = 5.0
    """Seconds between bind attempts."""
    ms_bind_before_connect: bool = False
    """Bind the local address before connecting (``client_bind``)."""

    # --- TCP ---------------------------------------------------------------------
    ms_tcp_nodelay: bool = True
    """Set TCP_NODELAY on connections."""
    ms_tcp_rcvbuf: int = 0
    """SO_RCVBUF in bytes (0 keeps the OS default)."""
    ms_tcp_prefetch_max_size: int = 4096
    """Largest read Ceph prefetches into its rx buffer (64 KiB after Pacific)."""
    ms_tcp_listen_backlog: int = 512
    """Listen backlog of listening sockets."""
    ms_max_accept_failures: int = 4
    """Consecutive accept() failures tolerated (Ceph aborts past it; we back off)."""

    # --- connection life ---------------------------------------------------------
    ms_initial_backoff: float = 0.2
    """First reconnect delay in seconds; doubles on each failure."""
    ms_max_backoff: float = 15.0
    """Largest reconnect delay in seconds (also used right after a WAIT)."""
    ms_connection_ready_timeout: float = 10.0
    """Seconds a connection may take to become ready before it is faulted."""
    ms_connection_idle_timeout: float = 900.0
    """Seconds without traffic after which a ready connection is faulted."""

    # --- dispatch ----------------------------------------------------------------
    ms_dispatch_throttle_bytes: int = 100 * MiB
    """Byte budget of messages received but not yet dispatched (0 = unlimited)."""
    ms_pq_max_tokens_per_priority: int = 16 * MiB
    """Token bucket size per priority of the dispatch PrioritizedQueue."""
    ms_pq_min_cost: int = 65536
    """Minimum cost charged per message by the dispatch PrioritizedQueue."""

    # --- integrity and addressing ------------------------------------------------
    ms_crc_data: bool = True
    """Compute and check the data crc of msgr v1 messages."""
    ms_crc_header: bool = True
    """Compute and check the header and front/middle crcs of msgr v1 messages."""
    ms_learn_addr_from_peer: bool = True
    """Learn our own IP address from what the peer saw (works behind NAT)."""

    # --- msgr2 connection modes (lists, preferred first) -------------------------
    ms_cluster_mode: str = "crc secure"
    """msgr2 modes for daemon-to-daemon connections, preferred first."""
    ms_service_mode: str = "crc secure"
    """msgr2 modes a daemon accepts from clients, preferred first."""
    ms_client_mode: str = "crc secure"
    """msgr2 modes a client asks for, preferred first."""
    ms_mon_cluster_mode: str = "secure crc"
    """msgr2 modes for connections between monitors, preferred first."""
    ms_mon_service_mode: str = "secure crc"
    """msgr2 modes a monitor accepts, preferred first."""
    ms_mon_client_mode: str = "secure crc"
    """msgr2 modes used when connecting to a monitor, preferred first."""

    # --- assertions and debugging ------------------------------------------------
    ms_die_on_bad_msg: bool = False
    """Abort instead of faulting on a message that fails its crc or decode."""
    ms_die_on_unhandled_msg: bool = False
    """Abort on a message that no dispatcher handles."""
    ms_die_on_old_message: bool = False
    """Abort on a duplicate message (seq <= in_seq) although RECONNECT_SEQ is set."""
    ms_die_on_skipped_message: bool = False
    """Abort on a sequence gap (seq > in_seq + 1); otherwise it is only logged."""
    ms_die_on_bug: bool = False
    """Enable extra internal assertions (e.g. pre-auth transcript under 1 MB)."""
    ms_dump_on_send: bool = False
    """Hex-dump every message when it is sent."""
    ms_dump_corrupt_message_level: int = 1
    """Log level at which corrupt messages are hex-dumped."""

    # --- fault injection ---------------------------------------------------------
    ms_inject_socket_failures: int = 0
    """Fail each socket read or send with probability 1/N (0 = off)."""
    ms_inject_internal_delays: float = 0.0
    """Seconds to sleep at race-prone points of the handshake (0 = off)."""
    ms_inject_delay_type: str = ""
    """Peer entity types (e.g. ``"client osd"``) whose received messages are delayed."""
    ms_inject_delay_max: float = 1.0
    """Largest injected delivery delay in seconds."""
    ms_inject_delay_probability: float = 0.0
    """Probability (0 to 1) that a message from such a peer is delayed."""
    ms_inject_network_congestion: int = 0
    """Sends act as EAGAIN with probability (N-1)/N (0 = off; post-Pacific)."""
    ms_blackhole_osd: bool = False
    """Silently drop messages to and from OSDs."""
    ms_blackhole_mon: bool = False
    """Silently drop messages to and from monitors."""
    ms_blackhole_mds: bool = False
    """Silently drop messages to and from MDSs."""
    ms_blackhole_mgr: bool = False
    """Silently drop messages to and from managers."""
    ms_blackhole_client: bool = False
    """Silently drop messages to and from clients."""

    # --- authentication (not ms_*, used by the messenger) ------------------------
    auth_cluster_required: str = "cephx"
    """Auth methods required between daemons."""
    auth_service_required: str = "cephx"
    """Auth methods daemons require from clients."""
    auth_client_required: str = "cephx, none"
    """Auth methods a client accepts, preferred first."""
    cephx_require_signatures: bool = False
    """Require cephx message signatures on every connection."""
    cephx_cluster_require_signatures: bool = False
    """Require cephx message signatures between daemons."""
    cephx_service_require_signatures: bool = False
    """Require cephx message signatures from clients."""
    cephx_sign_messages: bool = True
    """Sign messages when the session allows it."""
    cephx_require_version: int = 2
    """Minimum cephx protocol version required of every peer."""
    cephx_cluster_require_version: int = 2
    """Minimum cephx protocol version required between daemons."""
    cephx_service_require_version: int = 2
    """Minimum cephx protocol version required of clients."""
    mon_client_ping_interval: float = 10.0
    """Seconds between MonClient keepalives to its monitor."""
    mon_client_ping_timeout: float = 30.0
    """Seconds without a monitor keepalive ack before the MonClient hunts."""

    # --- asyncmsgr only ----------------------------------------------------------
    asyncmsgr_embedded: bool = True
    """Run the messenger on the caller's event loop, with no worker threads."""
    asyncmsgr_use_uvloop: bool = False
    """Run on uvloop when it is installed (``asyncmsgr[uvloop]``): the command line,
    ``asyncmsgr.loop.run`` and the loops the messenger creates; false: asyncio's.
    Off by default: on uvloop 0.23 a socket registered with ``add_reader`` was seen
    to drop out of the loop's epoll set with the registration still reported
    (tests/aio/test_synthetic.py's lossy run under socket failures stalled in ~1 run
    of 20, a client socket in TCP_CLOSE that never became readable; asyncio's
    loop: 0 of 200); see docs/design.md, "Event loops"."""
    asyncmsgr_max_preauth_segment: int = 65536
    """Largest frame segment accepted before authentication completes, in bytes."""
    asyncmsgr_preauth_buffer_budget: int = 32 * MiB
    """Bytes all connections whose peer has not authenticated yet may hold for it
    together (receive buffers, the rest of a frame their preambles announced,
    handshake transcripts); a connection whose input does not fit is faulted,
    authenticated sessions are not counted (0: unlimited)."""
    asyncmsgr_max_control_segment: int = 16 * MiB
    """Largest segment of a control frame (and message header segment), in bytes."""
    asyncmsgr_max_front_segment: int = 16 * MiB
    """Largest message front segment, in bytes."""
    asyncmsgr_max_middle_segment: int = 16 * MiB
    """Largest message middle segment, in bytes."""
    asyncmsgr_max_data_segment: int = 64 * MiB
    """Largest message data segment, in bytes."""
    asyncmsgr_rx_buffer_size: int = 262144
    """Size of each socket read into the receive buffer, in bytes."""
    asyncmsgr_large_segment_threshold: int = 65536
    """Segments at least this long are received into their own buffer, in bytes."""
    asyncmsgr_connect_msgr: str = "auto"
    """Which protocol ``connect_to`` speaks: ``auto`` (msgr2 when the peer offers a
    v2 address, else v1), ``v2`` or ``v1``."""

    # --- logging (src/log, subsys.h; see asyncmsgr.log) ----------------------------
    debug_none: str = "0/5"
    """Log/gather levels (``N`` or ``N/M``, 0-99) of records no subsystem claims."""
    debug_ms: str = "0/0"
    """Log/gather levels of the messenger (logger ``asyncmsgr.ms``)."""
    debug_monc: str = "0/10"
    """Log/gather levels of the monitor client (``asyncmsgr.monc``)."""
    debug_mgrc: str = "1/5"
    """Log/gather levels of the manager client (``asyncmsgr.mgrc``)."""
    debug_auth: str = "1/5"
    """Log/gather levels of authentication (``asyncmsgr.auth``)."""
    debug_objecter: str = "0/1"
    """Log/gather levels of the Objecter (``asyncmsgr.objecter``)."""
    debug_rados: str = "0/5"
    """Log/gather levels of the RADOS API (``asyncmsgr.rados``)."""
    debug_crush: str = "1/1"
    """Log/gather levels of CRUSH (``asyncmsgr.crush``)."""
    debug_osd: str = "1/5"
    """Log/gather levels of the OSD map code (``asyncmsgr.osd``)."""
    debug_asok: str = "1/5"
    """Log/gather levels of the admin socket (``asyncmsgr.asok``)."""
    debug_perfcounter: str = "1/5"
    """Log/gather levels of perf counters and their exporter (``asyncmsgr.perfcounter``)."""
    log_file: str = ""
    """File log lines are appended to (empty: none); ``$name``, ``$pid``... expanded."""
    log_to_file: bool = True
    """Write log lines to ``log_file``."""
    log_to_stderr: bool = False
    """Write log lines to stderr (the command-line tools default to true)."""
    err_to_stderr: bool = False
    """Write error (level -1) lines to stderr (the command-line tools default to true)."""
    log_max_recent: int = 500
    """Recent log lines kept in memory, dumped on a crash and by ``log dump``."""
    log_stderr_prefix: str = ""
    """Text put before each log line written to stderr."""

    # --- admin socket and metrics ------------------------------------------------
    admin_socket: str = ""
    """Path of the admin socket (``ceph --admin-daemon PATH``; empty: none), with
    ``$run_dir``, ``$cluster``, ``$name``, ``$pid``, ``$cctid`` expanded."""
    run_dir: str = "/var/run/ceph"
    """Directory for runtime data (``$run_dir`` in ``admin_socket``)."""
    asyncmsgr_prometheus_addr: str = ""
    """``HOST:PORT`` to serve the perf counters on (``/metrics``, Prometheus text;
    needs ``asyncmsgr[prometheus]``); empty: off."""

    def __post_init__(self) -> None:
        for name, kind in _field_kinds().items():
            value = getattr(self, name)
            checked = _check_type(name, kind, value)
            if checked is not value:
                object.__setattr__(self, name, checked)
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            if (low is not None and value < low) or (high is not None and value > high):
                raise ConfigError(f"{name}={value!r} is out of range {_range_text(low, high)}")
        for name, kind in _field_kinds().items():
            if kind in ("int", "float") and name not in _RANGES and getattr(self, name) < 0:
                raise ConfigError(f"{name}={getattr(self, name)!r} must not be negative")
        if self.ms_bind_port_min > self.ms_bind_port_max:
            raise ConfigError(
                f"ms_bind_port_min ({self.ms_bind_port_min}) is above "
                f"ms_bind_port_max ({self.ms_bind_port_max})")
        if self.asyncmsgr_connect_msgr not in ("auto", "v2", "v1"):
            raise ConfigError(f"asyncmsgr_connect_msgr={self.asyncmsgr_connect_msgr!r}: "
                              "expected 'auto', 'v2' or 'v1'")
        for name in _DEBUG_OPTIONS:
            try:
                parse_levels(name, getattr(self, name))
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        if self.log_max_recent < 1:
            raise ConfigError(f"log_max_recent={self.log_max_recent!r} must be at least 1")
        if self.asyncmsgr_prometheus_addr:
            try:
                parse_host_port(self.asyncmsgr_prometheus_addr)
            except ValueError as exc:
                raise ConfigError(f"asyncmsgr_prometheus_addr: {exc}") from None
        for name in _MODE_OPTIONS:
            modes = str_list(getattr(self, name))
            bad = [m for m in modes if m not in ("crc", "secure")]
            if not modes or bad:
                raise ConfigError(
                    f"{name}={getattr(self, name)!r}: expected a list of 'crc' and 'secure'")

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (Python values, not text).

        Raises:
            ConfigError: an unknown option name (close matches are listed), a value
                of the wrong type or out of range.
        """
        kinds = _field_kinds()
        for name in changes:
            if name not in kinds:
                raise ConfigError(_unknown_message(name))
        return super().replace(**changes)

    @classmethod
    def from_ceph_options(cls, mapping: Mapping[str, OptionValue], *,
                          base: MessengerConfig | None = None) -> Self:
        """Build from Ceph-style option names and values.

        Names accept ``-``, ``_`` or spaces between words and a leading ``--``;
        text values are converted by the field's type (see the module docstring),
        Python values are type-checked. Options not given keep the value of
        ``base`` (default: Pacific's defaults).

        Raises:
            ConfigError: unknown option (with close matches), bad value or range.
        """
        kinds = _field_kinds()
        values: dict[str, Any] = {}
        for raw_name, value in mapping.items():
            name = normalize_option_name(raw_name)
            if name not in kinds:
                raise ConfigError(_unknown_message(raw_name))
            values[name] = convert_value(name, kinds[name], value)
        start: dict[str, Any] = base.as_dict() if base is not None else {}
        start.update(values)
        return cls(**start)

    def as_dict(self) -> dict[str, OptionValue]:
        """Every option and its value, in declaration order."""
        return {name: getattr(self, name) for name in _field_kinds()}

    def diff(self, other: MessengerConfig | None = None) -> dict[str, OptionValue]:
        """Options whose value differs from ``other`` (default: the defaults)."""
        ref = (other if other is not None else MessengerConfig()).as_dict()
        return {k: v for k, v in self.as_dict().items() if ref[k] != v}

    def is_blackhole(self, peer_type: int) -> bool:
        """``Connection::is_blackhole()``: drop all traffic with this entity type."""
        flag = _BLACKHOLE.get(peer_type)
        return bool(flag and getattr(self, flag))

    def inject_delay_applies(self, peer_type: int) -> bool:
        """Whether messages from this entity type go through delayed delivery."""
        if self.ms_inject_delay_probability <= 0 or not self.ms_inject_delay_type:
            return False
        try:
            type_name = EntityType(peer_type).type_str
        except ValueError:
            return False
        return type_name in str_list(self.ms_inject_delay_type)


_RANGES: dict[str, tuple[float | None, float | None]] = {
    "ms_async_op_threads": (1, 24),
    "ms_bind_port_min": (0, 65535),
    "ms_bind_port_max": (0, 65535),
    "ms_inject_delay_probability": (0.0, 1.0),
    "ms_dump_corrupt_message_level": (None, None),
    "cephx_require_version": (1, 2),
    "cephx_cluster_require_version": (1, 2),
    "cephx_service_require_version": (1, 2),
    "asyncmsgr_max_preauth_segment": (1, None),
    "asyncmsgr_max_control_segment": (1, None),
    "asyncmsgr_max_front_segment": (1, None),
    "asyncmsgr_max_middle_segment": (1, None),
    "asyncmsgr_max_data_segment": (1, None),
    "asyncmsgr_rx_buffer_size": (1, None),
}

_DEBUG_OPTIONS = tuple(f"debug_{s.name}" for s in SUBSYSTEMS)

_MODE_OPTIONS = (
    "ms_cluster_mode", "ms_service_mode", "ms_client_mode",
    "ms_mon_cluster_mode", "ms_mon_service_mode", "ms_mon_client_mode",
)

_BLACKHOLE: dict[int, str] = {
    EntityType.OSD: "ms_blackhole_osd",
    EntityType.MON: "ms_blackhole_mon",
    EntityType.MDS: "ms_blackhole_mds",
    EntityType.MGR: "ms_blackhole_mgr",
    EntityType.CLIENT: "ms_blackhole_client",
}

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
_INT_RE = re.compile(r"\s*([+-]?[0-9]+)\s*(?:([KMGTkmgt])(i)?)?([Bb])?\s*")
_UNIT_SHIFT = {"k": 10, "m": 20, "g": 30, "t": 40}
_STR_LIST_SPLIT = re.compile(r"[;,\s]+")


def _range_text(low: float | None, high: float | None) -> str:
    return f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"


@cache
def _field_kinds() -> dict[str, str]:
    """Field name -> ``"bool" | "int" | "float" | "str"`` in declaration order."""
    hints = MessengerConfig.__annotations__
    return {name: str(hints[name]) for name in MessengerConfig._fields}


def _check_type(name: str, kind: str, value: object) -> OptionValue:
    if kind == "bool":
        if isinstance(value, bool):
            return value
    elif kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            if not math.isfinite(number):
                raise ConfigError(f"{name}={value!r} must be finite")
            return value if isinstance(value, float) else number
    elif isinstance(value, str):
        return value
    raise ConfigError(f"{name} expects {kind}, got {type(value).__name__} {value!r}")


def normalize_option_name(name: str) -> str:
    """``--ms-async-op-threads`` -> ``ms_async_op_threads`` (no validity check)."""
    name = name.strip()
    if name.startswith("--"):
        name = name[2:]
    return name.replace("-", "_").replace(" ", "_")


def str_list(value: str) -> list[str]:
    """Ceph's ``get_str_list``: split on commas, semicolons and whitespace."""
    return [item for item in _STR_LIST_SPLIT.split(value) if item]


def parse_size(text: str) -> int:
    """Parse an integer with an optional binary unit (see the module docstring).

    Raises:
        ValueError: text that is not a number with a known unit.
    """
    match = _INT_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid integer {text!r}")
    digits, unit, _i, _b = match.groups()
    number = int(digits)
    if unit is not None:
        number <<= _UNIT_SHIFT[unit.lower()]
    return number


def parse_host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9283`` for IPv6; port 0 to 65535) -> ``(host, port)``.

    Raises:
        ValueError: no port, or a port that is not a number in range.
    """
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not host:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"bad port in {text!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} out of range in {text!r}")
    return host, port


def parse_bool(text: str) -> bool:
    """``true/false/yes/no/on/off/1/0``, case-insensitive; ValueError otherwise."""
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"invalid boolean {text!r} (use true/false, yes/no, on/off, 1/0)")


def convert_value(name: str, kind: str, value: OptionValue) -> OptionValue:
    """Convert text to ``kind``; non-text values pass through (checked later)."""
    if not isinstance(value, str) or kind == "str":
        return value
    try:
        if kind == "bool":
            return parse_bool(value)
        if kind == "int":
            return parse_size(value)
        number = float(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    if not math.isfinite(number):
        raise ConfigError(f"{name}={value!r} must be finite")
    return number


def _unknown_message(raw_name: str) -> str:
    name = normalize_option_name(raw_name)
    import difflib  # noqa: PLC0415  (error path only; import cost)

    close = difflib.get_close_matches(name, list(_field_kinds()), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown option {raw_name!r}{hint}"


# --- command line ---------------------------------------------------------------

_CONFIG_PREFIXES = ("ms_", "asyncmsgr_")


def _parse_tokens(tokens: Sequence[str], out: dict[str, OptionValue]) -> tuple[
        list[str], list[str] | None]:
    """Consume config options from ``tokens`` up to ``--`` into ``out``.

    Returns the other arguments before ``--`` and the arguments after it (None if
    there was no ``--``).
    """
    kinds = _field_kinds()
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "--":
            return rest, list(tokens[i:])
        if not token.startswith("--"):
            rest.append(token)
            continue
        raw, eq, text = token[2:].partition("=")
        name = normalize_option_name(raw)
        negated = False
        if name not in kinds and name.startswith("no_") and kinds.get(name[3:]) == "bool":
            name, negated = name[3:], True
        kind = kinds.get(name)
        if kind is None and name.startswith("debug_") and _other_ceph_subsystem(name):
            kind = "ignored"  # Ceph's level of a subsystem asyncmsgr has not: taken, unused
        if kind is None:
            if name.startswith(_CONFIG_PREFIXES):
                raise ConfigError(_unknown_message("--" + raw))
            rest.append(token)
            continue
        if kind == "ignored":
            if not eq and i < len(tokens):
                i += 1
            continue
        if negated:
            if eq:
                raise ConfigError(f"--no-{name} takes no value")
            out[name] = False
        elif eq:
            out[name] = text
        elif kind == "bool":
            out[name] = True
        elif i < len(tokens):
            out[name] = tokens[i]
            i += 1
        else:
            raise ConfigError(f"option --{raw} needs a value")
    return rest, None


def _other_ceph_subsystem(name: str) -> bool:
    """``debug_mon``...: a logging level of one of Ceph's subsystems that asyncmsgr
    does not have (accepted on command lines and in CEPH_ARGS, as Ceph's tools do)."""
    from asyncmsgr.monc.ceph_options import VALUE_OPTIONS  # noqa: PLC0415  (rare path)

    return name in VALUE_OPTIONS


def parse_config_args(argv: Sequence[str], env: Mapping[str, str] | None = None, *,
                      base: MessengerConfig | None = None,
                      ) -> tuple[MessengerConfig, list[str]]:
    """Take config options out of a command line, the way Ceph's tools do.

    Accepted forms: ``--ms_async_op_threads=2``, ``--ms_async_op_threads 2``,
    ``--ms-async-op-threads 2``; for a bool option a bare ``--ms_die_on_bad_msg``
    means true (it never consumes the next argument; use ``=false`` or
    ``--no-ms_die_on_bad_msg`` for false). ``CEPH_ARGS`` from ``env`` (default:
    ``os.environ``) is shlex-split and read first, so ``argv`` wins.

    ``--`` ends option parsing. The remaining arguments, in order, are: the
    non-config arguments of ``CEPH_ARGS`` before its ``--``, those of ``argv``
    before its ``--``, then (if either had one) ``--``, the arguments after
    ``argv``'s ``--``, and those after ``CEPH_ARGS``'s ``--``. Arguments that start
    with ``--`` but are not config options stay in the list for the tool's own
    parser, except names starting with ``ms_`` or ``asyncmsgr_`` that are not
    options: those raise (a typo would otherwise be silently ignored). The level
    of a Ceph logging subsystem asyncmsgr does not have (``--debug_mon 20``, e.g.
    from a cluster's ``CEPH_ARGS``) is taken and ignored.

    Raises:
        ConfigError: unknown ``--ms_*`` option (with close matches), missing or
            invalid value.
    """
    environ = os.environ if env is None else env
    values: dict[str, OptionValue] = {}
    env_rest, env_after = _parse_tokens(shlex.split(environ.get("CEPH_ARGS", "")), values)
    arg_rest, arg_after = _parse_tokens(list(argv), values)
    remaining = env_rest + arg_rest
    if env_after is not None or arg_after is not None:
        remaining.append("--")
        remaining.extend(arg_after or [])
        remaining.extend(env_after or [])
    return MessengerConfig.from_ceph_options(values, base=base), remaining


def default_config() -> MessengerConfig:
    """Pacific's defaults for this process: a library's, or in a command-line tool
    (:func:`asyncmsgr.log.use_tool_defaults`) with ``log_to_stderr`` and
    ``err_to_stderr`` true, as Ceph's tools have them."""
    if tool_defaults():
        return MessengerConfig(log_to_stderr=True, err_to_stderr=True)
    return MessengerConfig()


# --- views for the layers below -----------------------------------------------------

def mode_options(c: MessengerConfig) -> ModeOptions:
    """The ``ms_*_mode`` options as the auth methods take them."""
    from asyncmsgr.auth.base import ModeOptions  # noqa: PLC0415  (config stays light)

    return ModeOptions(cluster=c.ms_cluster_mode, service=c.ms_service_mode,
                       client=c.ms_client_mode, mon_cluster=c.ms_mon_cluster_mode,
                       mon_service=c.ms_mon_service_mode, mon_client=c.ms_mon_client_mode)


def protocol_options(c: MessengerConfig) -> ProtocolOptions:
    """The protocol machines' view of the configuration."""
    from asyncmsgr.frames.assembler import FrameLimits  # noqa: PLC0415  (config stays light)
    from asyncmsgr.protocol.common import ProtocolOptions  # noqa: PLC0415

    return ProtocolOptions(
        connection_ready_timeout=c.ms_connection_ready_timeout,
        connection_idle_timeout=c.ms_connection_idle_timeout,
        initial_backoff=c.ms_initial_backoff,
        max_backoff=c.ms_max_backoff,
        learn_addr_from_peer=c.ms_learn_addr_from_peer,
        die_on_old_message=c.ms_die_on_old_message,
        die_on_skipped_message=c.ms_die_on_skipped_message,
        die_on_bad_msg=c.ms_die_on_bad_msg,
        pre_auth_limits=FrameLimits.pre_auth(c.asyncmsgr_max_preauth_segment),
        limits=FrameLimits(control=c.asyncmsgr_max_control_segment,
                           front=c.asyncmsgr_max_front_segment,
                           middle=c.asyncmsgr_max_middle_segment,
                           data=c.asyncmsgr_max_data_segment),
        rx_buffer_size=c.asyncmsgr_rx_buffer_size,
        large_segment_threshold=c.asyncmsgr_large_segment_threshold,
        crc_header=c.ms_crc_header,
        crc_data=c.ms_crc_data,
    )


# --- help ------------------------------------------------------------------------

@cache
def option_docs() -> dict[str, str]:
    """Option name -> its one-line docstring, read from this module's source."""
    import ast  # noqa: PLC0415  (help only; import cost)
    import inspect  # noqa: PLC0415
    import itertools  # noqa: PLC0415
    import textwrap  # noqa: PLC0415

    try:
        source = textwrap.dedent(inspect.getsource(MessengerConfig))
    except (OSError, TypeError):  # no source available (frozen or .pyc-only install)
        return {}
    docs: dict[str, str] = {}
    body = ast.parse(source).body[0]
    assert isinstance(body, ast.ClassDef)
    statements = body.body
    for stmt, following in itertools.pairwise(statements):
        if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            docs[stmt.target.id] = " ".join(following.value.value.split())
    return docs


def config_help() -> str:
    """Every option with its type, default and description, one block each."""
    docs = option_docs()
    defaults = MessengerConfig().as_dict()
    lines: list[str] = []
    for name, kind in _field_kinds().items():
        lines.append(f"--{name} ({kind}, default {defaults[name]!r})")
        lines.append(f"    {docs.get(name, '')}".rstrip())
    return "\n".join(lines) + "\n"


__all__ = [
    "ConfigError",
    "MessengerConfig",
    "OptionValue",
    "config_help",
    "convert_value",
    "default_config",
    "mode_options",
    "normalize_option_name",
    "option_docs",
    "parse_bool",
    "parse_config_args",
    "parse_host_port",
    "parse_size",
    "protocol_options",
    "str_list",
]
