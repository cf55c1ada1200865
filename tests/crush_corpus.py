"""The CRUSH maps asyncmsgr is compared on, and what is asked of each.

Every map is either built by ``crushtool --build`` or compiled from a text map by
``crushtool -c``; :data:`CORPUS` lists them with the (rule, num_rep, device weights)
combinations tested by ``crushtool --test --show-mappings``. Together they cover:
every bucket algorithm at every level and mixed, choose/chooseleaf x firstn/indep,
multi-step and multi-take rules, negative and zero counts, every SET_* step, each
tunables profile (argonaut/legacy, bobtail, firefly, hammer, jewel/optimal), device
classes (``step take default class ssd`` through shadow trees), choose_args weight
sets (1 and 3 positions, with and without ids, index 0 and -1), zero, fractional
and uneven weights, empty buckets, an unknown bucket hash type, out and partially-out devices
(``--weight``),
and result sizes larger than the hierarchy can fill (bad mappings, NONE holes).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CORPUS", "Check", "MapCase"]


@dataclass(frozen=True)
class Check:
    """One ``crushtool --test`` run: a rule, result sizes, ``--weight DEV W`` pairs."""

    rule: int
    num_reps: tuple[int, ...]
    weights: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class MapCase:
    """A map (``build`` arguments or a text map) and its checks."""

    name: str
    checks: tuple[Check, ...]
    build: tuple[str, ...] = ()
    text: str = ""


TUNABLES = {
    "argonaut": (2, 5, 19, 0, 0, 0, 0, 22),
    "bobtail": (0, 0, 50, 1, 0, 0, 0, 22),
    "firefly": (0, 0, 50, 1, 1, 0, 1, 22),
    "hammer": (0, 0, 50, 1, 1, 0, 1, 54),
    "jewel": (0, 0, 50, 1, 1, 1, 1, 54),
}
_TUNABLE_NAMES = ("choose_local_tries", "choose_local_fallback_tries", "choose_total_tries",
                  "chooseleaf_descend_once", "chooseleaf_vary_r", "chooseleaf_stable",
                  "straw_calc_version", "allowed_bucket_algs")

TYPES = ((0, "osd"), (1, "host"), (2, "rack"), (3, "root"))


def _w(v: float) -> str:
    return f"{v:.5f}"


def text_map(*, tunables: str, osds: list[tuple[int, float, str | None]],
             hosts: list[tuple[str, str, list[int]]], racks: list[tuple[str, str, list[str]]],
             root_alg: str, rules: str, choose_args: str = "",
             extra_root_items: tuple[str, ...] = ()) -> str:
    """A text map: ``osds`` (id, weight, class), hosts (name, alg, osd ids), racks
    (name, alg, host names) under one root ``default`` (plus extra root items)."""
    lines = [f"tunable {n} {v}" for n, v in zip(_TUNABLE_NAMES, TUNABLES[tunables],
                                                 strict=True)]
    weight = {}
    for osd, w, cls in osds:
        lines.append(f"device {osd} osd.{osd}" + (f" class {cls}" if cls else ""))
        weight[f"osd.{osd}"] = w
    lines += [f"type {i} {n}" for i, n in TYPES]
    next_id = -1

    def bucket(kind: str, name: str, alg: str, items: list[str]) -> None:
        nonlocal next_id
        total = sum(weight[i] for i in items)
        weight[name] = total
        body = [f"{kind} {name} {{", f"\tid {next_id}", f"\talg {alg}", "\thash 0"]
        body += [f"\titem {i} weight {_w(weight[i])}" for i in items]
        body.append("}")
        lines.extend(body)
        next_id -= 1

    for name, alg, ids in hosts:
        bucket("host", name, alg, [f"osd.{i}" for i in ids])
    for name, alg, host_names in racks:
        bucket("rack", name, alg, host_names)
    bucket("root", "default", root_alg, [r[0] for r in racks] + list(extra_root_items))
    return "\n".join(lines) + "\n" + rules + choose_args


def rule(rid: int, name: str, steps: list[str], *, erasure: bool = False,
         min_size: int = 1, max_size: int = 10) -> str:
    """A text rule."""
    body = [f"rule {name} {{", f"\tid {rid}",
            f"\ttype {'erasure' if erasure else 'replicated'}",
            f"\tmin_size {min_size}", f"\tmax_size {max_size}"]
    body += [f"\tstep {s}" for s in steps]
    return "\n".join([*body, "}"]) + "\n"


# 18 osds, 6 hosts of 3, 2 racks of 3 hosts; uneven weights (one zero, one 1.337)
_OSD_WEIGHTS = {4: 0.5, 7: 2.0, 11: 0.0, 13: 1.337, 16: 0.25}


def _osds(classes: bool = False, uniform: bool = False) -> list[tuple[int, float, str | None]]:
    return [(i, 1.0 if uniform else _OSD_WEIGHTS.get(i, 1.0),
             ("ssd" if i % 3 == 1 else "hdd") if classes else None) for i in range(18)]


def _hosts(alg: str | list[str]) -> list[tuple[str, str, list[int]]]:
    algs = alg if isinstance(alg, list) else [alg] * 6
    return [(f"h{h}", algs[h], [3 * h, 3 * h + 1, 3 * h + 2]) for h in range(6)]


def _racks(alg: str) -> list[tuple[str, str, list[str]]]:
    return [("rack0", alg, ["h0", "h1", "h2"]), ("rack1", alg, ["h3", "h4", "h5"])]


RULES = (
    rule(0, "rep_host", ["take default", "chooseleaf firstn 0 type host", "emit"])
    + rule(1, "rep_rack_host", ["take default", "choose firstn 0 type rack",
                                "chooseleaf firstn 2 type host", "emit"])
    + rule(2, "ec_host", ["take default", "chooseleaf indep 0 type host", "emit"],
           erasure=True, min_size=3, max_size=20)
    + rule(3, "ec_rack_host", ["take default", "choose indep 0 type rack",
                               "chooseleaf indep 2 type host", "emit"], erasure=True)
    + rule(4, "rep_sets", ["set_choose_tries 100", "set_chooseleaf_tries 5",
                           "set_chooseleaf_vary_r 0", "set_chooseleaf_stable 0",
                           "take default", "chooseleaf firstn 0 type host", "emit"])
    + rule(5, "rep_local", ["set_choose_local_tries 2", "set_choose_local_fallback_tries 5",
                            "set_chooseleaf_vary_r 2", "take default",
                            "choose firstn 0 type osd", "emit"])
    + rule(6, "rep_two_takes", ["take rack0", "chooseleaf firstn 2 type host", "emit",
                                "take rack1", "chooseleaf firstn -1 type host", "emit"])
    + rule(7, "rep_osd", ["take default", "choose firstn 0 type osd", "emit"])
    + rule(8, "ec_sets", ["set_chooseleaf_tries 5", "set_choose_tries 100", "take default",
                          "chooseleaf indep 0 type host", "emit"], erasure=True)
    + rule(9, "take_device", ["take osd.3", "emit"])
    + rule(10, "ec_osd", ["take default", "choose indep 0 type osd", "emit"], erasure=True)
    + rule(11, "rep_vary3_stable", ["set_chooseleaf_vary_r 3", "set_chooseleaf_stable 1",
                                    "take default", "chooseleaf firstn 0 type host", "emit"])
    + rule(12, "rep_rack_then_osd", ["take default", "choose firstn 2 type rack",
                                     "choose firstn 2 type host",
                                     "chooseleaf firstn 1 type osd", "emit"])
)
_NREPS = (1, 2, 3, 4, 7)
_OUT = ((2, "0"), (5, "0.5"), (9, "0.25"), (15, "0"), (12, "0.75"))


def _all_rules(nreps: tuple[int, ...] = _NREPS) -> tuple[Check, ...]:
    checks = [Check(r, nreps) for r in range(13)]
    checks += [Check(0, (3,), _OUT), Check(2, (4,), _OUT), Check(5, (3,), _OUT),
               Check(10, (6,), _OUT)]
    return tuple(checks)


def _few_rules() -> tuple[Check, ...]:
    return (Check(0, (1, 3, 7)), Check(1, (4,)), Check(2, (4, 7)), Check(5, (3,)),
            Check(7, (3,)), Check(10, (5,)), Check(0, (3,), _OUT), Check(2, (5,), _OUT))


def _tunables_case(profile: str, alg: str) -> MapCase:
    return MapCase(f"tunables-{profile}-{alg}", _few_rules(), text=text_map(
        tunables=profile, osds=_osds(), hosts=_hosts(alg), racks=_racks(alg), root_alg=alg,
        rules=RULES))


_CLASS_RULES = (
    rule(0, "ssd_host", ["take default class ssd", "chooseleaf firstn 0 type host", "emit"])
    + rule(1, "hdd_host_ec", ["take default class hdd", "chooseleaf indep 0 type host",
                              "emit"], erasure=True)
    + rule(2, "hdd_rack1_osd", ["take rack1 class hdd", "choose firstn 0 type osd", "emit"])
    + rule(3, "all_host", ["take default", "chooseleaf firstn 0 type host", "emit"])
)

_CHOOSE_ARGS_3 = """choose_args 18446744073709551615 {
  {
    bucket_id -9
    weight_set [
      [ 1.0 5.0 ]
      [ 3.0 1.0 ]
      [ 1.0 1.0 ]
    ]
    ids [ -100 -200 ]
  }
  {
    bucket_id -7
    weight_set [
      [ 0.5 2.0 1.0 ]
      [ 2.0 0.5 0.0 ]
      [ 1.0 1.0 1.0 ]
    ]
  }
  {
    bucket_id -1
    weight_set [
      [ 0.1 0.2 0.3 ]
      [ 0.3 0.2 0.1 ]
      [ 1.0 0.0 1.0 ]
    ]
    ids [ 100 101 102 ]
  }
  {
    bucket_id -4
    ids [ 7 8 9 ]
  }
}
"""

_CHOOSE_ARGS_0 = """choose_args 18446744073709551615 {
  {
    bucket_id -9
    weight_set [
      [ 5.0 1.0 ]
    ]
  }
}
choose_args 0 {
  {
    bucket_id -9
    weight_set [
      [ 1.0 4.0 ]
    ]
  }
  {
    bucket_id -2
    weight_set [
      [ 0.0 1.0 2.0 ]
    ]
  }
}
choose_args 3 {
  {
    bucket_id -9
    weight_set [
      [ 1.0 0.0 ]
    ]
  }
}
"""

# a root over an ordinary host, an empty host, a host of zero-weight osds, a host of
# fractional weights, with every algorithm at host level
_ODD_RULES = (
    rule(0, "rep_host", ["take default", "chooseleaf firstn 0 type host", "emit"])
    + rule(1, "ec_host", ["take default", "chooseleaf indep 0 type host", "emit"],
           erasure=True)
    + rule(2, "rep_osd", ["take default", "choose firstn 0 type osd", "emit"])
    + rule(3, "ec_osd", ["take default", "choose indep 0 type osd", "emit"], erasure=True)
)


def _odd_text(tunables: str) -> str:
    weights = (1.0, 1.0, 0.0, 0.0, 0.001, 3.5, 0.75, 1.0, 1.0, 2.0, 0.0, 1.25)
    osds: list[tuple[int, float, str | None]] = [(i, w, None) for i, w in enumerate(weights)]
    hosts = [("h0", "straw2", [0, 1]), ("hempty", "straw2", []), ("hzero", "straw2", [2, 3]),
             ("hfrac", "straw2", [4, 5, 6]), ("hlist", "list", [7, 8, 9]),
             ("htree", "tree", [10, 11]), ("hstraw", "straw", [])]
    racks = [("rack0", "straw2", ["h0", "hempty", "hzero"]),
             ("rack1", "list", ["hfrac", "hlist", "htree", "hstraw"])]
    return text_map(tunables=tunables, osds=osds, hosts=hosts, racks=racks,
                    root_alg="straw2", rules=_ODD_RULES)


_ODD_CHECKS = (Check(0, (1, 2, 3, 5)), Check(1, (3, 6)), Check(2, (2, 4)), Check(3, (4,)),
               Check(0, (3,), ((0, "0"), (9, "0.5"))))

_MIXED = ["uniform", "list", "tree", "straw", "straw2", "straw2"]

CORPUS: tuple[MapCase, ...] = (
    *(MapCase(f"build-{alg}", (Check(0, (1, 2, 3, 5)), Check(0, (3,), _OUT)),
              build=("--num_osds", "24", "host", alg, "4", "rack", alg, "3", "root", alg, "0"))
      for alg in ("uniform", "list", "tree", "straw", "straw2")),
    MapCase("build-mixed", (Check(0, (2, 3, 4)), Check(0, (3,), _OUT)),
            build=("--num_osds", "30", "host", "straw2", "3", "rack", "list", "3",
                   "row", "tree", "2", "root", "straw", "0")),
    MapCase("build-odd", (Check(0, (1, 3, 5)),),
            build=("--num_osds", "13", "host", "straw2", "4", "root", "uniform", "0")),
    MapCase("rules-straw2", _all_rules(), text=text_map(
        tunables="jewel", osds=_osds(), hosts=_hosts("straw2"), racks=_racks("straw2"),
        root_alg="straw2", rules=RULES)),
    MapCase("rules-mixed", _all_rules((2, 3, 6)), text=text_map(
        tunables="jewel", osds=_osds(uniform=True), hosts=_hosts(_MIXED),
        racks=_racks("list"), root_alg="tree", rules=RULES)),
    MapCase("rules-uniform", _few_rules(), text=text_map(
        tunables="jewel", osds=_osds(uniform=True), hosts=_hosts("uniform"),
        racks=_racks("uniform"), root_alg="uniform", rules=RULES)),
    _tunables_case("argonaut", "straw"),
    _tunables_case("argonaut", "straw2"),
    _tunables_case("bobtail", "straw"),
    _tunables_case("firefly", "straw"),
    _tunables_case("hammer", "straw2"),
    _tunables_case("jewel", "list"),
    MapCase("tunables-argonaut-uniform", _few_rules(), text=text_map(
        tunables="argonaut", osds=_osds(uniform=True), hosts=_hosts("uniform"),
        racks=_racks("uniform"), root_alg="uniform", rules=RULES)),
    MapCase("classes", (Check(0, (1, 3, 4)), Check(1, (3, 5)), Check(2, (2, 4)),
                        Check(3, (3,)), Check(0, (3,), ((1, "0"), (4, "0.5")))),
            text=text_map(tunables="jewel", osds=_osds(classes=True),
                          hosts=_hosts("straw2"), racks=_racks("straw2"),
                          root_alg="straw2", rules=_CLASS_RULES)),
    MapCase("choose-args-3", _few_rules(), text=text_map(
        tunables="jewel", osds=_osds(), hosts=_hosts("straw2"), racks=_racks("straw2"),
        root_alg="straw2", rules=RULES, choose_args=_CHOOSE_ARGS_3)),
    MapCase("choose-args-0", (Check(0, (2, 3)), Check(2, (4,)), Check(7, (3,))), text=text_map(
        tunables="jewel", osds=_osds(), hosts=_hosts("straw2"), racks=_racks("straw2"),
        root_alg="straw2", rules=RULES, choose_args=_CHOOSE_ARGS_0)),
    MapCase("odd-weights-jewel", _ODD_CHECKS, text=_odd_text("jewel")),
    MapCase("odd-weights-argonaut", _ODD_CHECKS, text=_odd_text("argonaut")),
    # every bucket with a hash type Ceph does not know: every hash is 0
    MapCase("hash-unknown", _few_rules(), text=text_map(
        tunables="jewel", osds=_osds(uniform=True), hosts=_hosts(_MIXED),
        racks=_racks("list"), root_alg="tree", rules=RULES).replace("\thash 0", "\thash 1")),
    MapCase("large-straw2", (Check(0, (3,)),),
            build=("--num_osds", "160", "host", "straw2", "4", "rack", "straw2", "10",
                   "root", "straw2", "0")),
)


def random_case(seed: int) -> MapCase:
    """A random map (seeded): 1-3 racks of 1-5 hosts of 0-5 osds, random bucket
    algorithms (uniform only over equal weights), weights among 0, fractions and
    up to 5.0, a random tunables profile, four rules, random sizes and overrides."""
    import random  # noqa: PLC0415 - only the generator needs it

    rng = random.Random(seed)
    algs = ["list", "tree", "straw", "straw2", "straw2"]
    osds: list[tuple[int, float, str | None]] = []
    hosts: list[tuple[str, str, list[int]]] = []
    racks: list[tuple[str, str, list[str]]] = []
    choices = (0.0, 0.1, 0.25, 0.5, 1.0, 1.0, 1.0, 1.5, 2.0, 3.7, 5.0)
    for r in range(rng.randint(1, 3)):
        names = []
        for _ in range(rng.randint(1, 5)):
            alg = rng.choice([*algs, "uniform"])
            same = rng.choice(choices[1:])
            ids = []
            for _ in range(rng.randint(0, 5)):
                osd = len(osds)
                osds.append((osd, same if alg == "uniform" else rng.choice(choices), None))
                ids.append(osd)
            name = f"h{len(hosts)}"
            hosts.append((name, alg, ids))
            names.append(name)
        racks.append((f"rack{r}", rng.choice(algs), names))
    if not osds:
        osds.append((0, 1.0, None))
        hosts[0][2].append(0)
    rules = (rule(0, "rep_host", ["take default", "chooseleaf firstn 0 type host", "emit"])
             + rule(1, "ec_host", ["take default", "chooseleaf indep 0 type host", "emit"],
                    erasure=True)
             + rule(2, "rep_osd", ["take default", "choose firstn 0 type osd", "emit"])
             + rule(3, "ec_rack", ["take default", "choose indep 0 type rack",
                                   "chooseleaf indep 1 type host", "emit"], erasure=True))
    overrides = tuple((rng.randrange(len(osds)), rng.choice(("0", "0.5", "0.1", "0.9")))
                      for _ in range(rng.randint(0, 3)))
    checks = tuple(Check(r, (rng.randint(1, 6),), overrides if rng.random() < 0.5 else ())
                   for r in range(4))
    text = text_map(tunables=rng.choice(list(TUNABLES)), osds=osds, hosts=hosts,
                    racks=racks, root_alg=rng.choice(algs), rules=rules)
    return MapCase(f"random-{seed}", checks, text=text)
