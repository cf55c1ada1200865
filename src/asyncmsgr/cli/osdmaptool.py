"""``asyncmsgr osdmaptool MAPFILE``: Ceph's ``osdmaptool`` placement tests in Python.

Accepts the real tool's arguments (``src/tools/osdmaptool.cc``) with Ceph's
argument rules (``--a-b`` and ``--a_b`` are the same option, ``--opt=value`` or
``--opt value``, ``--`` ends the options) and prints the same lines, to stdout
and stderr as the real tool does, with its exit codes:

* ``--test-map-object NAME [--pool ID]``, ``--test-map-pg PGID``;
* ``--test-map-pgs``, ``--test-map-pgs-dump``, ``--test-map-pgs-dump-all``
  (``--pool ID``, ``--pg_num N``);
* ``--mark-up-in``, ``--mark-out ID``, ``--mark-up ID``, ``--mark-in ID``
  (not persisted), ``--clear-temp``;
* ``--import-crush FILE`` (writes the map back, one epoch later, as the real tool
  does), ``--export-crush FILE``; ``--range-first A --range-last B``.

Other ``osdmaptool`` actions (``--createsimple``, ``--upmap``, ``--print``,
``--tree``, ``--adjust-crush-weight``, ...) are refused with exit status 2.
Status: 0 success, 1 usage errors and "There is no pool", 255 (Ceph's ``return
-1``) an unreadable or undecodable map.
"""

from __future__ import annotations

import math
import re
import struct
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from asyncmsgr.crush.map import CRUSH_ITEM_NONE, CrushMap
from asyncmsgr.errors import DecodeError
from asyncmsgr.osd.crush_edit import CrushEditError, adjust_item_weightf
from asyncmsgr.osd.incremental import Incremental
from asyncmsgr.osd.mapcommon import CEPH_OSD_IN, CEPH_OSD_OUT, CEPH_OSD_UP
from asyncmsgr.osd.osdmap import OSDMap
from asyncmsgr.osd.placement import (
    decode_crush,
    encode_crush,
    object_locator_to_pg,
    pg_to_acting_osds,
    pg_to_raw_osds,
    pg_to_raw_up_acting_osds,
    pg_to_up_acting_osds,
)
from asyncmsgr.osd.types import PG, ObjectLocator

ME = "osdmaptool"

USAGE = """\
 usage: [--print] <mapfilename>
   --create-from-conf      creates an osd map with default configurations
   --createsimple <numosd> [--clobber] [--pg-bits <bitsperosd>] [--pgp-bits <bits>] \
creates a relatively generic OSD map with <numosd> devices
   --pgp-bits <bits>       pgp_num map attribute will be shifted by <bits>
   --pg-bits <bits>        pg_num map attribute will be shifted by <bits>
   --clobber               allows osdmaptool to overwrite <mapfilename> if it already exists
   --export-crush <file>   write osdmap's crush map to <file>
   --import-crush <file>   replace osdmap's crush map with <file>
   --health                dump health checks
   --test-map-pgs [--pool <poolid>] [--pg_num <pg_num>] [--range-first <first> \
--range-last <last>] map all pgs
   --test-map-pgs-dump [--pool <poolid>] [--range-first <first> --range-last <last>] \
map all pgs
   --test-map-pgs-dump-all [--pool <poolid>] [--range-first <first> --range-last <last>] \
map all pgs to osds
   --mark-up-in            mark osds up and in (but do not persist)
   --mark-out <osdid>      mark an osd as out (but do not persist)
   --mark-up <osdid>       mark an osd as up (but do not persist)
   --mark-in <osdid>       mark an osd as in (but do not persist)
   --with-default-pool     include default pool when creating map
   --clear-temp            clear pg_temp and primary_temp
   --clean-temps           clean pg_temps
   --test-random           do random placements
   --test-map-pg <pgid>    map a pgid to osds
   --test-map-object <objectname> [--pool <poolid>] map an object to osds
   --upmap-cleanup <file>  clean up pg_upmap[_items] entries, writing
                           commands to <file> [default: - for stdout]
   --upmap <file>          calculate pg upmap entries to balance pg layout
                           writing commands to <file> [default: - for stdout]
   --upmap-max <max-count> set max upmap entries to calculate [default: 10]
   --upmap-deviation <max-deviation>
                           max deviation from target [default: 5]
   --upmap-pool <poolname> restrict upmap balancing to 1 or more pools
   --upmap-active          Act like an active balancer, keep applying changes until balanced
   --dump <format>         displays the map in plain text when <format> is 'plain', \
'json' if specified format is not supported
   --tree                  displays a tree of the map
   --test-crush [--range-first <first> --range-last <last>] map pgs to acting osds
   --adjust-crush-weight <osdid:weight>[,<osdid:weight>,<...>] change <osdid> CRUSH \
<weight> (but do not persist)
   --save                  write modified osdmap with upmap or crush-adjust changes
"""

#: Actions of the real tool this one does not implement (refused, exit 2).
_UNSUPPORTED_FLAGS = (
    "--print", "-p", "--create-from-conf", "--with-default-pool", "--health",
    "--upmap-active", "--clean-temps", "--test-random", "--test-crush", "--save",
    "--vstart", "--osd-size-aware",
)
_UNSUPPORTED_WITHARG = (
    "--dump", "--tree", "--createsimple", "--upmap-cleanup", "--upmap", "--read",
    "--adjust-crush-weight", "--upmap-pool", "--read-pool",
)
#: Options taking a value that only tune unsupported actions (accepted, unused).
_IGNORED_WITHARG = (
    "--osd-pg-bits", "--osd-pgp-bits", "--pg_bits", "--pgp_bits", "--upmap-max",
    "--upmap-deviation", "--upmap-seed",
)


class _Exit(Exception):
    """Stop with this status (the message is already written)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _norm(arg: str) -> str:
    """``dashes_to_underscores``: every '-' after the first two characters, up to '='."""
    head, rest = arg[:2], arg[2:]
    name, eq, value = rest.partition("=")
    return head + name.replace("-", "_") + eq + value


@dataclass
class _Args:
    """What the command line asked for (the real tool's variables)."""

    fn: str = ""
    pool: int = -1
    pg_num: int = -1
    mark_up_in: bool = False
    marked_out: int = -1
    marked_up: int = -1
    marked_in: int = -1
    clear_temp: bool = False
    test_map_pgs: bool = False
    test_map_pgs_dump: bool = False
    test_map_pgs_dump_all: bool = False
    test_map_object: str = ""
    test_map_pg: str = ""
    import_crush: str = ""
    export_crush: str = ""
    range_first: int = -1
    range_last: int = -1
    positional: list[str] = field(default_factory=list)


def _strict_int(text: str) -> int | None:
    """``strict_strtol``: the whole string is a decimal integer."""
    if re.fullmatch(r"\s*[+-]?\d+", text):
        return int(text)
    return None


def _int_or(text: str, default: int) -> int:
    """An integer option whose parse errors the tool ignores."""
    n = _strict_int(text)
    return default if n is None else n


def _stoi(text: str, err: TextIO) -> int:
    """``std::stoi``/``stod``: the leading number (Ceph aborts on garbage; we exit 1)."""
    m = re.match(r"\s*([+-]?\d+)", text)
    if m is None:
        print(f"{ME}: invalid integer argument {text!r}", file=err)
        raise _Exit(1)
    return int(m.group(1))


def _parse(argv: Sequence[str], err: TextIO) -> _Args:
    args = _Args()
    items = list(argv)
    i = 0

    def take(name: str) -> str | None:
        """``ceph_argparse_witharg``: the value of ``name`` at items[i], consumed."""
        nonlocal i
        a = _norm(items[i])
        key = _norm(name)
        if a == key:
            if i + 1 >= len(items):
                print(f"Option {items[i]} requires an argument.", file=err)
                raise _Exit(1)
            value = items[i + 1]
            del items[i:i + 2]
            return value
        if a.startswith(key + "="):
            value = items[i][len(key) + 1:]
            del items[i]
            return value
        return None

    def flag(*names: str) -> bool:
        if _norm(items[i]) in {_norm(n) for n in names}:
            del items[i]
            return True
        return False

    def int_arg(name: str) -> int | None:
        value = take(name)
        if value is None:
            return None
        n = _strict_int(value)
        if n is None:
            print(f"The option value '{value}' is invalid", file=err)
            raise _Exit(1)
        return n

    while i < len(items):
        if items[i] == "--":
            del items[i]
            break
        for name in _UNSUPPORTED_FLAGS:
            if flag(name):
                print(f"{ME}: {name} is not supported by asyncmsgr osdmaptool", file=err)
                raise _Exit(2)
        for name in _UNSUPPORTED_WITHARG:
            if take(name) is not None:
                print(f"{ME}: {name} is not supported by asyncmsgr osdmaptool", file=err)
                raise _Exit(2)
        if any(take(name) is not None for name in _IGNORED_WITHARG):
            continue
        if flag("--mark-up-in"):
            args.mark_up_in = True
        elif (v := take("--mark-out")) is not None:
            args.marked_out = _stoi(v, err)
        elif (v := take("--mark-up")) is not None:
            args.marked_up = _stoi(v, err)
        elif (v := take("--mark-in")) is not None:
            args.marked_in = _stoi(v, err)
        elif flag("--clear-temp"):
            args.clear_temp = True
        elif flag("--test-map-pgs"):
            args.test_map_pgs = True
        elif flag("--test-map-pgs-dump"):
            args.test_map_pgs_dump = True
        elif flag("--test-map-pgs-dump-all"):
            args.test_map_pgs_dump_all = True
        elif flag("--clobber"):
            pass
        elif (v := take("--export_crush")) is not None:
            args.export_crush = v
        elif (v := take("--import_crush")) is not None:
            args.import_crush = v
        elif (v := take("--test_map_pg")) is not None:
            args.test_map_pg = v
        elif (v := take("--test_map_object")) is not None:
            args.test_map_object = v
        elif (n := int_arg("--pg_num")) is not None:
            args.pg_num = n
        elif (v := take("--range_first")) is not None:
            args.range_first = _int_or(v, -1)
        elif (v := take("--range_last")) is not None:
            args.range_last = _int_or(v, -1)
        elif (n := int_arg("--pool")) is not None:
            args.pool = n
        else:
            i += 1
    args.positional = items
    return args


# -- output helpers --------------------------------------------------------------------------


def _vec(v: Sequence[int]) -> str:
    """``operator<<(vector<int>)``: ``[a,b,c]``."""
    return "[" + ",".join(str(x) for x in v) + "]"


def _g(x: float) -> str:
    """A double as ``ostream`` prints it by default (``%g``, 6 digits; ``-nan``)."""
    if math.isnan(x):
        return "-nan" if math.copysign(1.0, x) < 0 else "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def _f32(x: float) -> float:
    """Round to a C ``float``."""
    return struct.unpack("<f", struct.pack("<f", x))[0]  # type: ignore[no-any-return]


#: x86's default NaN (sign bit set): what 0.0 / 0.0 gives, printed ``-nan``.
_NEG_NAN: float = struct.unpack("<d", struct.pack("<Q", 0xFFF8000000000000))[0]


def _div(a: float, b: float) -> float:
    """IEEE division as x86 does it (0/0 is the default NaN, which prints ``-nan``)."""
    if b == 0:
        if a == 0 or math.isnan(a):
            return a if math.isnan(a) else _NEG_NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _sqrt(x: float) -> float:
    if math.isnan(x):
        return x
    if x < 0:
        return _NEG_NAN
    return math.sqrt(x)


def crush_item_weight(crush: CrushMap, item: int) -> int:
    """``CrushWrapper::get_item_weight``: the weight in the first bucket holding it.

    -ENOENT (-2) when no bucket holds it.
    """
    for b in crush.buckets:
        if b is None:
            continue
        if b.id == item:
            return b.weight
        for pos, it in enumerate(b.items):
            if it == item:
                return b.item_weight(pos)
    return -2


def _parse_pgid(text: str) -> PG | None:
    """``pg_t::parse`` (``sscanf("%llu.%x")``; trailing characters are ignored)."""
    m = re.match(r"\s*\+?(\d+)\.\s*[+]?(?:0[xX])?([0-9a-fA-F]+)", text)
    if m is None:
        return None
    return PG(int(m.group(1)) & 0xFFFFFFFFFFFFFFFF, int(m.group(2), 16) & 0xFFFFFFFF)


# -- the tool ----------------------------------------------------------------------------------


def _read(path: str, err: TextIO) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        print(f"{ME}: couldn't open {path}: can't open {path}: "
              f"({exc.errno}) {exc.strerror}", file=err)
        return None


def _mark(m: OSDMap, a: _Args, out: TextIO, err: TextIO) -> None:
    if a.mark_up_in:
        print("marking all OSDs up and in", file=out)
        crush = m.crush
        reweighted = False
        for i in range(m.max_osd):
            m.osd_state[i] |= CEPH_OSD_UP
            m.set_weight(i, CEPH_OSD_IN)
            if crush_item_weight(crush, i) == 0:
                try:
                    crush, _ = adjust_item_weightf(crush, i, 1.0)
                except CrushEditError as exc:
                    print(f"{ME}: --mark-up-in cannot give osd.{i} CRUSH weight 1.0: {exc}",
                          file=err)
                    raise _Exit(2) from exc
                reweighted = True
        if reweighted:
            m.set_crush(crush)
    if 0 <= a.marked_out < m.max_osd:
        print(f"marking OSD@{a.marked_out} as out", file=out)
        m.osd_state[a.marked_out] |= CEPH_OSD_UP
        m.set_weight(a.marked_out, CEPH_OSD_OUT)
    if 0 <= a.marked_up < m.max_osd:
        print(f"marking OSD@{a.marked_up} as up", file=out)
        m.osd_state[a.marked_up] |= CEPH_OSD_UP
    if 0 <= a.marked_in < m.max_osd:
        # the real tool prints and marks in the --mark-up id here (its bug, kept)
        print(f"marking OSD@{a.marked_up} as up", file=out)
        if 0 <= a.marked_up < m.max_osd:
            m.set_weight(a.marked_up, CEPH_OSD_IN)
    if a.clear_temp:
        print("clearing pg/primary temp", file=out)
        m.pg_temp.clear()
        m.primary_temp.clear()


def _import_crush(m: OSDMap, path: str, out: TextIO, err: TextIO) -> None:
    data = _read_crush(path, err)
    try:
        crush = decode_crush(data)
    except DecodeError as exc:
        print(f"{ME}: error decoding crush map {path}: {exc}", file=err)
        raise _Exit(1) from exc
    if crush.max_devices > m.max_osd:
        print(f"{ME}: crushmap max_devices {crush.max_devices} > osdmap max_osd "
              f"{m.max_osd}", file=err)
        raise _Exit(1)
    inc = Incremental(fsid=m.fsid, epoch=m.epoch + 1, crush=data)
    m.apply_incremental(inc)
    print(f"{ME}: imported {len(data)} byte crush map from {path}", file=out)


def _read_crush(path: str, err: TextIO) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        print(f"{ME}: error reading crush map from {path}: can't open {path}: "
              f"({exc.errno}) {exc.strerror}", file=err)
        raise _Exit(1) from exc


def _test_map_pgs(m: OSDMap, a: _Args, out: TextIO, err: TextIO) -> None:
    if a.pool != -1 and a.pool not in m.pools:
        print(f"There is no pool {a.pool}", file=err)
        raise _Exit(1)
    n = m.max_osd
    count = [0] * n
    first_count = [0] * n
    primary_count = [0] * n
    size = [0] * 30
    max_size = 0
    lines: list[str] = []
    for pid in sorted(m.pools):
        if a.pool not in (-1, pid):
            continue
        pool = m.pools[pid]
        if a.pg_num > 0:
            pool = replace(pool, pg_num=a.pg_num & 0xFFFFFFFF, pg_num_pending=a.pg_num)
            m.pools[pid] = pool
        lines.append(f"pool {pid} pg_num {pool.pg_num}")
        for ps in range(pool.pg_num):
            pgid = PG(pid, ps)
            if a.test_map_pgs_dump_all:
                raw, calced, up, up_p, acting, acting_p = pg_to_raw_up_acting_osds(m, pgid)
                osds, primary = acting, acting_p
                lines.append(f"{pgid} raw ({_vec(raw)}, p{calced}) up ({_vec(up)}, p{up_p})"
                             f" acting ({_vec(acting)}, p{acting_p})")
            else:
                osds, primary = pg_to_acting_osds(m, pgid)
                if a.test_map_pgs_dump:
                    lines.append(f"{pgid}\t{_vec(osds)}\t{primary}")
            size[len(osds)] += 1
            max_size = max(max_size, len(osds))
            for o in osds:
                if o != CRUSH_ITEM_NONE:
                    count[o] += 1
            if osds and osds[0] != CRUSH_ITEM_NONE:
                first_count[osds[0]] += 1
            if primary >= 0:
                primary_count[primary] += 1
        if len(lines) > 4096:
            out.write("\n".join(lines) + "\n")
            lines.clear()
    if lines:
        out.write("\n".join(lines) + "\n")
    _summary(m, count, first_count, primary_count, size, max_size, out)


def _summary(m: OSDMap, count: list[int], first_count: list[int], primary_count: list[int],
             size: list[int], max_size: int, out: TextIO) -> None:
    total = 0
    n_in = 0
    min_osd = max_osd = -1
    crush = m.crush
    out.write("#osd\tcount\tfirst\tprimary\tc wt\twt\n")
    counted = []
    for i in range(m.max_osd):
        if not m.is_in(i):
            continue
        cw = crush_item_weight(crush, i)
        if cw <= 0:
            continue
        counted.append(i)
        n_in += 1
        cwt = _f32(cw / 0x10000)
        wt = _f32(m.osd_weight[i] / CEPH_OSD_IN)
        out.write(f"osd.{i}\t{count[i]}\t{first_count[i]}\t{primary_count[i]}"
                  f"\t{_g(cwt)}\t{_g(wt)}\n")
        total += count[i]
        if count[i] and (min_osd < 0 or count[i] < count[min_osd]):
            min_osd = i
        if count[i] and (max_osd < 0 or count[i] > count[max_osd]):
            max_osd = i
    avg = total // n_in if n_in else 0
    dev = 0.0
    for i in counted:
        d = (avg - count[i]) % (1 << 64)  # uint64_t arithmetic, as in the tool
        dev += float((d * d) % (1 << 64))
    dev = _sqrt(_div(dev, n_in))
    # with no OSD in, total / in is 0 / 0: the NaN propagates through the product
    edev = _sqrt(total / n_in * (1.0 - 1.0 / n_in)) if n_in else _NEG_NAN
    out.write(f" in {n_in}\n")
    out.write(f" avg {avg} stddev {_g(dev)} ({_g(_div(dev, avg))}x) "
              f"(expected {_g(edev)} {_g(_div(edev, avg))}x))\n")
    if min_osd >= 0:
        out.write(f" min osd.{min_osd} {count[min_osd]}\n")
    if max_osd >= 0:
        out.write(f" max osd.{max_osd} {count[max_osd]}\n")
    for i in range(max_size + 1):
        if size[i]:
            out.write(f"size {i}\t{size[i]}\n")


def run(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    """The tool's ``main``; returns the exit status."""
    if not argv:
        print(f"{ME}: -h or --help for usage", file=err)
        return 1
    if any(x in ("-h", "--help") for x in argv):
        out.write(USAGE)
        return 1
    try:
        return _run(_parse(argv, err), out, err)
    except _Exit as exc:
        return exc.status


def _run(a: _Args, out: TextIO, err: TextIO) -> int:
    if not a.positional:
        print(f"{ME}: must specify osdmap filename", file=err)
        out.write(USAGE)
        return 1
    if len(a.positional) > 1:
        print(f"{ME}: too many arguments", file=err)
        out.write(USAGE)
        return 1
    fn = a.positional[0]
    if a.range_first >= 0 and a.range_last >= 0:
        for e in range(a.range_first, a.range_last + 1):
            path = f"{fn}/{e}"
            data = _read(path, err)
            if data is None:
                return 1
            out.write(f"{path} got {len(data)} bytes\n")
            OSDMap.decode(data)
        return 0
    print(f"{ME}: osdmap file '{fn}'", file=err)
    data = _read(fn, err)
    if data is None:
        return 255
    try:
        m = OSDMap.decode(data)
        _ = m.crush
    except DecodeError:
        print(f"{ME}: error decoding osdmap '{fn}'", file=err)
        return 255
    modified = False
    _mark(m, a, out, err)
    if a.import_crush:
        _import_crush(m, a.import_crush, out, err)
        modified = True
    if a.export_crush:
        with open(a.export_crush, "wb") as f:
            f.write(encode_crush(m.crush))
        out.write(f"{ME}: exported crush map to {a.export_crush}\n")
    if a.test_map_object:
        pool = a.pool
        if pool == -1:
            out.write(f"{ME}: assuming pool 1 (use --pool to override)\n")
            pool = 1
        if pool not in m.pools:
            print(f"There is no pool {pool}", file=err)
            return 1
        raw = object_locator_to_pg(m, a.test_map_object, ObjectLocator(pool))
        pgid = m.pools[pool].raw_pg_to_pg(raw)
        acting, _ = pg_to_acting_osds(m, pgid)
        out.write(f" object '{a.test_map_object}' -> {pgid} -> {_vec(acting)}\n")
    if a.test_map_pg:
        pgid_parsed = _parse_pgid(a.test_map_pg)
        if pgid_parsed is None:
            print(f"{ME}: failed to parse pg '{a.test_map_pg}", file=err)
            out.write(USAGE)
            return 1
        out.write(f" parsed '{a.test_map_pg}' -> {pgid_parsed}\n")
        raw_osds, raw_p = pg_to_raw_osds(m, pgid_parsed)
        up, up_p, acting, acting_p = pg_to_up_acting_osds(m, pgid_parsed)
        out.write(f"{pgid_parsed} raw ({_vec(raw_osds)}, p{raw_p}) up ({_vec(up)}, p{up_p})"
                  f" acting ({_vec(acting)}, p{acting_p})\n")
    if a.test_map_pgs or a.test_map_pgs_dump or a.test_map_pgs_dump_all:
        _test_map_pgs(m, a, out, err)
    if not (modified or a.export_crush or a.import_crush or a.test_map_pg
            or a.test_map_object or a.test_map_pgs or a.test_map_pgs_dump
            or a.test_map_pgs_dump_all):
        print(f"{ME}: no action specified?", file=err)
        out.write(USAGE)
        return 1
    if modified:
        m.epoch += 1
        encoded = m.encode()
        out.write(f"{ME}: writing epoch {m.epoch} to {fn}\n")
        try:
            with open(fn, "wb") as f:
                f.write(encoded)
        except OSError as exc:
            print(f"{ME}: error writing to '{fn}': ({exc.errno}) {exc.strerror}", file=err)
            return 1
    return 0


def main(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """``asyncmsgr osdmaptool ARGS``: run against the process's stdout/stderr.

    ``environ`` is accepted for the CLI's own-arguments calling convention;
    osdmaptool reads no environment.
    """
    status = run(argv, sys.stdout, sys.stderr)
    sys.stdout.flush()
    return status


def register(sub: Any) -> None:
    """List ``osdmaptool`` in the top-level help (its arguments are parsed by :func:`main`)."""
    p = sub.add_parser("osdmaptool", help="test placement on an OSDMap file, as Ceph's "
                       "osdmaptool does", add_help=False)
    p.set_defaults(func=lambda args: 2)


__all__ = ["crush_item_weight", "main", "register", "run"]
