"""The fake monitor's OSD, CRUSH and pool commands (Ceph's ``OSDMonitor`` commands).

Signatures, help, module, permissions and flags are Pacific's
(``src/mon/MonCommands.h``); outputs, messages and errnos follow ``OSDMonitor``
(``pool 'x' created``, ``-ENOENT "unrecognized pool 'x'"``, ``-EPERM`` without
``--yes-i-really-really-mean-it``). Map changes go through the cluster
(:class:`~asyncmsgr.testing.fake_cluster.FakeCluster`), which moves the OSDMap
to a new epoch and sends it to every subscriber.
"""

from __future__ import annotations

import errno
import json
from dataclasses import replace
from typing import Any

from asyncmsgr.crush.dump import dump_crush, dump_rule
from asyncmsgr.osd.mapcommon import CEPH_OSDMAP_PGLOG_HARDLIMIT
from asyncmsgr.osd.pool import (
    FLAG_BULK,
    FLAG_HASHPSPOOL,
    FLAG_NODEEP_SCRUB,
    FLAG_NODELETE,
    FLAG_NOPGCHANGE,
    FLAG_NOSCRUB,
    FLAG_NOSIZECHANGE,
    FLAG_WRITE_FADVISE_DONTNEED,
    PgPool,
)
from asyncmsgr.osd.types import ObjectLocator
from asyncmsgr.testing import fake_mon_dumps as dumps
from asyncmsgr.testing.fake_mon_commands import (
    FLAG_DEPRECATED,
    CommandError,
    CommandRequest,
    CommandResult,
    MonCommand,
    formatted,
)

#: ``osd set``/``osd unset`` keys and their map flag bits (``OSDMonitor::prepare_set_flag``).
OSDMAP_SET_FLAGS: dict[str, int] = {
    name: 1 << i for i, name in enumerate(dumps.OSDMAP_FLAG_NAMES)
    if name in ("full", "pauserd", "pausewr", "noup", "nodown", "noout", "noin", "nobackfill",
                "norebalance", "norecover", "noscrub", "nodeep-scrub", "notieragent",
                "nosnaptrim", "pglog_hardlimit")
}
_POOL_BOOL_FLAGS = {"hashpspool": FLAG_HASHPSPOOL, "nodelete": FLAG_NODELETE,
                    "nopgchange": FLAG_NOPGCHANGE, "nosizechange": FLAG_NOSIZECHANGE,
                    "write_fadvise_dontneed": FLAG_WRITE_FADVISE_DONTNEED,
                    "noscrub": FLAG_NOSCRUB, "nodeep-scrub": FLAG_NODEEP_SCRUB,
                    "bulk": FLAG_BULK}
_AUTOSCALE = {"off": 0, "warn": 1, "on": 2}
#: ``mon_max_pool_pg_num``.
MON_MAX_POOL_PG_NUM = 65536


def _epoch_arg(req: CommandRequest) -> None:
    epoch = req.args.get("epoch")
    if epoch is not None and int(epoch) != req.cluster.osdmap.epoch:
        raise CommandError(-errno.ENOENT, f"there is no map for epoch {epoch}")


def _pool(req: CommandRequest, arg: str = "pool") -> tuple[int, PgPool, str]:
    name = req.arg(arg)
    m = req.cluster.osdmap
    pid = m.lookup_pg_pool_name(name)
    if pid < 0:
        raise CommandError(-errno.ENOENT, f"unrecognized pool '{name}'")
    return pid, m.pools[pid], name


# -- OSDs and maps -------------------------------------------------------------------------


def _osd_stat(req: CommandRequest) -> CommandResult:
    m = req.cluster.osdmap
    return formatted(req, dumps.osd_stat_json(m),
                     lambda: dumps.osd_stat_text(m, req.cluster.view().now))


def _osd_dump(req: CommandRequest) -> CommandResult:
    _epoch_arg(req)
    m = req.cluster.osdmap
    return formatted(req, dumps.osd_dump_json(m), lambda: dumps.osd_dump_text(m))


def _osd_tree(req: CommandRequest) -> CommandResult:
    _epoch_arg(req)
    m = req.cluster.osdmap
    return formatted(req, dumps.osd_tree_json(m), lambda: dumps.osd_tree_text(m))


def _osd_ls(req: CommandRequest) -> CommandResult:
    _epoch_arg(req)
    m = req.cluster.osdmap
    ids = [o for o in range(m.max_osd) if m.exists(o)]
    return formatted(req, ids, "".join(f"{o}\n" for o in ids))


def _osd_getmap(req: CommandRequest) -> CommandResult:
    _epoch_arg(req)
    c = req.cluster
    return CommandResult(0, f"got osdmap epoch {c.osdmap.epoch}", c.osdmap.encode(c.features))


def _osd_getcrushmap(req: CommandRequest) -> CommandResult:
    _epoch_arg(req)
    m = req.cluster.osdmap
    return CommandResult(0, str(m.crush_version), m.crush_data)


def _osd_getmaxosd(req: CommandRequest) -> CommandResult:
    m = req.cluster.osdmap
    return formatted(req, {"epoch": m.epoch, "max_osd": m.max_osd},
                     f"max_osd = {m.max_osd} in epoch {m.epoch}\n")


def _osd_map(req: CommandRequest) -> CommandResult:
    pid, _, name = _pool(req)
    m = req.cluster.osdmap
    obj = req.arg("object")
    nspace = req.arg("nspace", "")
    raw = m.object_locator_to_pg(obj, ObjectLocator(pid, nspace=nspace))
    pg = m.raw_pg_to_pg(raw)
    up, up_p, acting, acting_p = m.pg_to_up_acting_osds(pg)
    raw_text = f"{raw.pool}.{raw.seed:08x}"
    d = {"epoch": m.epoch, "pool": name, "pool_id": pid, "objname": obj, "raw_pgid": raw_text,
         "pgid": str(pg), "up": up, "up_primary": up_p, "acting": acting,
         "acting_primary": acting_p}
    full = f"{nspace}/{obj}" if nspace else obj

    def vec(v: list[int]) -> str:
        return "[" + ",".join(str(o) for o in v) + "]"
    text = (f"osdmap e{m.epoch} pool '{name}' ({pid}) object '{full}' -> pg {raw_text} "
            f"({pg}) -> up ({vec(up)}, p{up_p}) acting ({vec(acting)}, p{acting_p})\n")
    return formatted(req, d, text)


def _osd_lspools(req: CommandRequest) -> CommandResult:
    m = req.cluster.osdmap
    pools = [{"poolnum": pid, "poolname": m.pool_name[pid]} for pid in sorted(m.pools)]
    return formatted(req, pools, "".join(f"{p['poolnum']} {p['poolname']}\n" for p in pools))


def _ids(req: CommandRequest) -> list[int]:
    m = req.cluster.osdmap
    out = []
    for word in req.arg_list("ids"):
        if word in ("any", "all"):
            return [o for o in range(m.max_osd) if m.exists(o)]
        text = word[4:] if word.startswith("osd.") else word
        if not text.isdigit() or not m.exists(int(text)):
            raise CommandError(-errno.ENOENT, f"osd.{text} does not exist")
        out.append(int(text))
    return out


def _osd_down(req: CommandRequest) -> CommandResult:
    ids = _ids(req)
    for o in ids:
        req.cluster.mark_osd_down(o)
    return CommandResult(0, "".join(f"marked down osd.{o}. " for o in ids).rstrip())


def _osd_out(req: CommandRequest) -> CommandResult:
    ids = _ids(req)
    for o in ids:
        req.cluster.mark_osd_out(o)
    return CommandResult(0, "".join(f"marked out osd.{o}. " for o in ids).rstrip())


def _osd_in(req: CommandRequest) -> CommandResult:
    ids = _ids(req)
    for o in ids:
        req.cluster.mark_osd_in(o)
    return CommandResult(0, "".join(f"marked in osd.{o}. " for o in ids).rstrip())


def _flag_bits(key: str) -> int:
    if key == "pause":
        return OSDMAP_SET_FLAGS["pauserd"] | OSDMAP_SET_FLAGS["pausewr"]
    bit = OSDMAP_SET_FLAGS.get(key)
    if bit is None:
        raise CommandError(-errno.EINVAL, f"unrecognized flag '{key}'")
    return bit


def _osd_set(req: CommandRequest) -> CommandResult:
    key = req.arg("key")
    req.cluster.set_osdmap_flags(_flag_bits(key), True)
    return CommandResult(0, f"{key} is set")


def _osd_unset(req: CommandRequest) -> CommandResult:
    key = req.arg("key")
    bits = _flag_bits(key)
    if bits == CEPH_OSDMAP_PGLOG_HARDLIMIT:
        raise CommandError(-errno.EPERM, "pglog_hardlimit cannot be unset")
    req.cluster.set_osdmap_flags(bits, False)
    return CommandResult(0, f"{key} is unset")


def _crush_rule_ls(req: CommandRequest) -> CommandResult:
    crush = req.cluster.osdmap.crush
    names = [crush.rule_name_map[r] for r in sorted(crush.rule_name_map)]
    return formatted(req, names, "".join(f"{n}\n" for n in names))


def _crush_rule_dump(req: CommandRequest) -> CommandResult:
    crush = req.cluster.osdmap.crush
    name = req.args.get("name")
    if name is not None:
        rid = crush.get_rule_id(str(name))
        if rid is None:
            raise CommandError(-errno.ENOENT, f"unknown crush rule '{name}'")
        d: Any = dump_rule(crush, rid)
    else:
        d = [dump_rule(crush, r) for r in sorted(crush.rule_name_map)]
    return formatted(req, d, json.dumps(d, indent=4) + "\n")


def _crush_dump(req: CommandRequest) -> CommandResult:
    d = dump_crush(req.cluster.osdmap.crush)
    return formatted(req, d, json.dumps(d, indent=4) + "\n")


def _ec_ls(req: CommandRequest) -> CommandResult:
    names = sorted(req.cluster.osdmap.erasure_code_profiles)
    return formatted(req, names, "".join(f"{n}\n" for n in names))


def _ec_get(req: CommandRequest) -> CommandResult:
    name = req.arg("name")
    prof = req.cluster.osdmap.erasure_code_profiles.get(name)
    if prof is None:
        raise CommandError(-errno.ENOENT, f"unknown erasure code profile '{name}'")
    return formatted(req, dict(prof), "".join(f"{k}={v}\n" for k, v in sorted(prof.items())))


def _blocklist_ls(req: CommandRequest) -> CommandResult:
    return formatted(req, [], "", "listed 0 entries")


def _df(req: CommandRequest) -> CommandResult:
    v = req.cluster.view()
    return formatted(req, dumps.df_json(v), lambda: dumps.df_text(v))


# -- pools ---------------------------------------------------------------------------------


def _pool_create(req: CommandRequest) -> CommandResult:
    c = req.cluster
    name = req.arg("pool")
    if c.osdmap.lookup_pg_pool_name(name) >= 0:
        return CommandResult(0, f"pool '{name}' already exists")
    if req.args.get("pool_type", "replicated") != "replicated":
        raise CommandError(-errno.EOPNOTSUPP, "the fake cluster has replicated pools only")
    pg_num = req.arg_int("pg_num", c.default_pg_num)
    if not 0 < pg_num <= MON_MAX_POOL_PG_NUM:
        raise CommandError(-errno.ERANGE, f"'pg_num' must be greater than 0 and less than or "
                           f"equal to {MON_MAX_POOL_PG_NUM} (you may adjust "
                           "'mon max pool pg num' for higher values)")
    pgp_num = req.arg_int("pgp_num", pg_num)
    if pgp_num > pg_num:
        raise CommandError(-errno.EINVAL, "'pgp_num' must be greater than 0 and lower or "
                           f"equal than 'pg_num', which in this case is {pg_num}")
    rule = req.args.get("rule")
    if rule is not None and c.osdmap.crush.get_rule_id(str(rule)) is None:
        raise CommandError(-errno.ENOENT, f"specified rule {rule} doesn't exist")
    size = req.arg_int("size", 0) or None
    c.create_pool(name, pg_num=pg_num, pgp_num=pgp_num, size=size,
                  autoscale=str(req.args.get("autoscale_mode", "on")))
    return CommandResult(0, f"pool '{name}' created")


def _pool_rm(req: CommandRequest) -> CommandResult:
    c = req.cluster
    name = req.arg("pool")
    pid = c.osdmap.lookup_pg_pool_name(name)
    if pid < 0:
        return CommandResult(0, f"pool '{name}' does not exist")
    sure = req.arg_bool("yes_i_really_really_mean_it") or \
        req.arg_bool("yes_i_really_really_mean_it_not_faking")
    if req.args.get("pool2") != name or not sure:
        raise CommandError(-errno.EPERM, "WARNING: this will *PERMANENTLY DESTROY* all data "
                           f"stored in pool {name}.  If you are *ABSOLUTELY CERTAIN* that is "
                           "what you want, pass the pool name *twice*, followed by "
                           "--yes-i-really-really-mean-it.")
    if c.osdmap.pools[pid].flags & FLAG_NODELETE:
        raise CommandError(-errno.EPERM, "pool deletion is disabled; you must unset nodelete "
                           "flag for the pool first")
    c.delete_pool(name)
    return CommandResult(0, f"pool '{name}' removed")


def _pool_rename(req: CommandRequest) -> CommandResult:
    c = req.cluster
    pid, _, src = _pool(req, "srcpool")
    dest = req.arg("destpool")
    if c.osdmap.lookup_pg_pool_name(dest) >= 0:
        raise CommandError(-errno.EEXIST, f"pool '{dest}' already exists")
    c.rename_pool(pid, dest)
    return CommandResult(0, f"pool '{src}' renamed to '{dest}'")


def _pool_ls(req: CommandRequest) -> CommandResult:
    m = req.cluster.osdmap
    ids = sorted(m.pools)
    if req.args.get("detail") == "detail":
        d: Any = [dumps.pool_json(pid, m.pool_name[pid], m.pools[pid], "pool_id") for pid in ids]
        return formatted(req, d, "".join(dumps.pool_text(pid, m.pool_name[pid], m.pools[pid])
                                         + "\n\n" for pid in ids))
    names = [m.pool_name[pid] for pid in ids]
    return formatted(req, names, "".join(f"{n}\n" for n in names))


def _pool_values(req: CommandRequest, pool: PgPool) -> dict[str, Any]:
    crush = req.cluster.osdmap.crush
    values: dict[str, Any] = {
        "size": pool.size, "min_size": pool.min_size, "pg_num": pool.pg_num,
        "pgp_num": pool.pgp_num,
        "crush_rule": crush.get_rule_name(pool.crush_rule) or str(pool.crush_rule),
    }
    for name, bit in _POOL_BOOL_FLAGS.items():
        if name != "bulk":
            values[name] = bool(pool.flags & bit)
    values.update({"use_gmt_hitset": pool.use_gmt_hitset, "fast_read": pool.fast_read,
                   "pg_autoscale_mode": {0: "off", 1: "warn", 2: "on"}.get(
                       pool.pg_autoscale_mode, "on"),
                   "bulk": bool(pool.flags & FLAG_BULK),
                   "target_max_objects": pool.target_max_objects,
                   "target_max_bytes": pool.target_max_bytes,
                   "min_read_recency_for_promote": pool.min_read_recency_for_promote,
                   "min_write_recency_for_promote": pool.min_write_recency_for_promote,
                   "hit_set_period": pool.hit_set_period, "hit_set_count": pool.hit_set_count})
    return values


_ALL_KEYS = ("size", "min_size", "pg_num", "pgp_num", "crush_rule", "hashpspool", "nodelete",
             "nopgchange", "nosizechange", "write_fadvise_dontneed", "noscrub",
             "nodeep-scrub", "use_gmt_hitset", "fast_read", "pg_autoscale_mode", "bulk")


def _plain_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _pool_get(req: CommandRequest) -> CommandResult:
    pid, pool, name = _pool(req)
    var = req.arg("var")
    values = _pool_values(req, pool)
    if var == "all":
        keys = list(_ALL_KEYS)
        plain = {k: values[k] for k in keys}
        plain["use_gmt_hitset"] = int(pool.use_gmt_hitset)
        plain["fast_read"] = int(pool.fast_read)
        d = {"pool": name, "pool_id": pid, **{k: values[k] for k in keys}}
        return formatted(req, d, "".join(f"{k}: {_plain_value(v)}\n" for k, v in plain.items()))
    if var not in values:
        raise CommandError(-errno.ENOENT, f"option '{var}' is not set on pool '{name}'")
    value = values[var]
    return formatted(req, {"pool": name, "pool_id": pid, var: value},
                     f"{var}: {_plain_value(value)}\n")


def _pool_set(req: CommandRequest) -> CommandResult:
    c = req.cluster
    pid, pool, _ = _pool(req)
    var = req.arg("var")
    val = req.arg("val")
    new: PgPool
    if var in ("size", "min_size", "pg_num", "pgp_num", "pgp_num_actual"):
        try:
            n = int(val)
        except ValueError:
            raise CommandError(-errno.EINVAL, f"error parsing integer value '{val}'") from None
        if var == "size":
            if n <= 0 or n > 10:
                raise CommandError(-errno.EINVAL, "pool size must be between 1 and 10")
            if n == 1 and not req.arg_bool("yes_i_really_mean_it"):
                raise CommandError(-errno.EPERM, "WARNING: setting pool size 1 could lead to "
                                   "data loss without recovery. If you are *ABSOLUTELY "
                                   "CERTAIN* that is what you want, pass the flag "
                                   "--yes-i-really-mean-it.")
            new = replace(pool, size=n, min_size=min(pool.min_size, n) or n - n // 2)
        elif var == "min_size":
            if n <= 0 or n > pool.size:
                raise CommandError(-errno.EINVAL,
                                   f"pool min_size must be between 1 and size, which is set "
                                   f"to {pool.size}")
            new = replace(pool, min_size=n)
        elif var == "pg_num":
            if n <= 0 or n > MON_MAX_POOL_PG_NUM:
                raise CommandError(-errno.ERANGE, f"'pg_num' must be between 1 and "
                                   f"{MON_MAX_POOL_PG_NUM}")
            new = replace(pool, pg_num=n, pg_num_target=n, pg_num_pending=n,
                          pgp_num=min(pool.pgp_num, n), pgp_num_target=min(pool.pgp_num, n))
        else:
            if n <= 0 or n > pool.pg_num:
                raise CommandError(-errno.EINVAL, f"specified pgp_num {n} > pg_num "
                                   f"{pool.pg_num}")
            new = replace(pool, pgp_num=n, pgp_num_target=n)
    elif var in _POOL_BOOL_FLAGS:
        on = val.lower() in ("true", "1", "yes")
        if not on and val.lower() not in ("false", "0", "no"):
            raise CommandError(-errno.EINVAL, "expecting value 'true', 'false', '0', or '1'")
        bit = _POOL_BOOL_FLAGS[var]
        new = replace(pool, flags=pool.flags | bit if on else pool.flags & ~bit)
    elif var == "pg_autoscale_mode":
        if val not in _AUTOSCALE:
            raise CommandError(-errno.EINVAL, f"specified invalid mode {val}")
        new = replace(pool, pg_autoscale_mode=_AUTOSCALE[val])
    elif var == "crush_rule":
        rid = c.osdmap.crush.get_rule_id(val)
        if rid is None:
            raise CommandError(-errno.ENOENT, f"crush rule {val} does not exist")
        new = replace(pool, crush_rule=rid)
    elif var in ("target_max_objects", "target_max_bytes", "fast_read", "use_gmt_hitset"):
        try:
            n = int(val)
        except ValueError:
            raise CommandError(-errno.EINVAL, f"error parsing integer value '{val}'") from None
        if var == "target_max_objects":
            new = replace(pool, target_max_objects=n)
        elif var == "target_max_bytes":
            new = replace(pool, target_max_bytes=n)
        elif var == "fast_read":
            new = replace(pool, fast_read=bool(n))
        else:
            new = replace(pool, use_gmt_hitset=bool(n))
    else:
        raise CommandError(-errno.EOPNOTSUPP, f"the fake cluster does not set '{var}'")
    c.update_pool(pid, new)
    return CommandResult(0, f"set pool {pid} {var} to {val}")


def _pool_set_quota(req: CommandRequest) -> CommandResult:
    pid, pool, name = _pool(req)
    field = req.arg("field")
    try:
        n = int(req.arg("val"))
    except ValueError:
        raise CommandError(-errno.EINVAL, "error parsing value") from None
    new = replace(pool, quota_max_objects=n) if field == "max_objects" else \
        replace(pool, quota_max_bytes=n)
    req.cluster.update_pool(pid, new)
    return CommandResult(0, f"set-quota {field} = {n} for pool {name}")


def _pool_get_quota(req: CommandRequest) -> CommandResult:
    pid, pool, name = _pool(req)
    d = {"pool_name": name, "pool_id": pid, "quota_max_objects": pool.quota_max_objects,
         "quota_max_bytes": pool.quota_max_bytes}
    objs = "N/A" if not pool.quota_max_objects else f"{pool.quota_max_objects} objects"
    size = "N/A" if not pool.quota_max_bytes else dumps.byte_u(pool.quota_max_bytes)
    return formatted(req, d, f"quotas for pool '{name}':\n  max objects: {objs}\n"
                             f"  max bytes  : {size}\n")


def _app_enable(req: CommandRequest) -> CommandResult:
    pid, pool, name = _pool(req)
    app = req.arg("app")
    apps = {k: dict(v) for k, v in pool.application_metadata.items()}
    if app not in apps:
        if apps and not req.arg_bool("yes_i_really_mean_it"):
            raise CommandError(-errno.EPERM, "Are you SURE? Pool '{name}' already has an "
                               "enabled application; pass --yes-i-really-mean-it to proceed "
                               "anyway")
        apps[app] = {}
        req.cluster.update_pool(pid, replace(pool, application_metadata=apps))
    return CommandResult(0, f"enabled application '{app}' on pool '{name}'")


def _app_disable(req: CommandRequest) -> CommandResult:
    pid, pool, name = _pool(req)
    app = req.arg("app")
    apps = {k: dict(v) for k, v in pool.application_metadata.items()}
    if app not in apps:
        return CommandResult(0, f"application '{app}' is not enabled on pool '{name}'")
    if not req.arg_bool("yes_i_really_mean_it"):
        raise CommandError(-errno.EPERM, "Are you SURE? Disabling an application within a "
                           "pool might result in loss of application functionality; pass "
                           "--yes-i-really-mean-it to proceed anyway")
    del apps[app]
    req.cluster.update_pool(pid, replace(pool, application_metadata=apps))
    return CommandResult(0, f"disable application '{app}' on pool '{name}'")


def _app_set(req: CommandRequest) -> CommandResult:
    pid, pool, name = _pool(req)
    app = req.arg("app")
    apps = {k: dict(v) for k, v in pool.application_metadata.items()}
    if app not in apps:
        raise CommandError(-errno.ENOENT, f"application '{app}' is not enabled on pool "
                           f"'{name}'")
    key = req.arg("key")
    value = req.arg("value")
    apps[app][key] = value
    req.cluster.update_pool(pid, replace(pool, application_metadata=apps))
    return CommandResult(0, f"set application '{app}' key '{key}' to '{value}' on pool "
                            f"'{name}'")


def _app_rm(req: CommandRequest) -> CommandResult:
    pid, pool, name = _pool(req)
    app = req.arg("app")
    key = req.arg("key")
    apps = {k: dict(v) for k, v in pool.application_metadata.items()}
    if app not in apps or key not in apps[app]:
        raise CommandError(-errno.ENOENT, f"application '{app}' on pool '{name}' does not "
                           f"have key '{key}'")
    del apps[app][key]
    req.cluster.update_pool(pid, replace(pool, application_metadata=apps))
    return CommandResult(0, f"removed application '{app}' key '{key}' on pool '{name}'")


def _app_get(req: CommandRequest) -> CommandResult:
    c = req.cluster
    m = c.osdmap
    if "pool" not in req.args:
        d: Any = {m.pool_name[pid]: m.pools[pid].application_metadata for pid in sorted(m.pools)}
        return formatted(req, d, json.dumps(d, indent=4) + "\n")
    _pid, pool, name = _pool(req)
    d = {k: dict(v) for k, v in pool.application_metadata.items()}
    app = req.args.get("app")
    if app is not None:
        if app not in d:
            raise CommandError(-errno.ENOENT, f"pool '{name}' does not have application "
                               f"'{app}'")
        d = d[app]
        key = req.args.get("key")
        if key is not None:
            if key not in d:
                raise CommandError(-errno.ENOENT, f"application '{app}' on pool '{name}' "
                                   f"does not have key '{key}'")
            return formatted(req, d[key], f"{d[key]}\n")
    return formatted(req, d, json.dumps(d, indent=4) + "\n")


OSD_COMMANDS: tuple[MonCommand, ...] = (
    MonCommand("df name=detail,type=CephChoices,req=false,strings=detail",
               "show cluster free space stats", _df),
    MonCommand("osd stat", "print summary of OSD map", _osd_stat, module="osd"),
    MonCommand("osd dump name=epoch,type=CephInt,range=0,req=false",
               "print summary of OSD map", _osd_dump, module="osd"),
    MonCommand("osd tree name=epoch,type=CephInt,range=0,req=false "
               "name=states,type=CephChoices,n=N,req=false,strings=up|down|in|out|destroyed",
               "print OSD tree", _osd_tree, module="osd"),
    MonCommand("osd ls name=epoch,type=CephInt,range=0,req=false", "show all OSD ids", _osd_ls,
               module="osd"),
    MonCommand("osd getmap name=epoch,type=CephInt,range=0,req=false", "get OSD map",
               _osd_getmap, module="osd"),
    MonCommand("osd getcrushmap name=epoch,type=CephInt,range=0,req=false", "get CRUSH map",
               _osd_getcrushmap, module="osd"),
    MonCommand("osd getmaxosd", "show largest OSD id", _osd_getmaxosd, module="osd"),
    MonCommand("osd map name=pool,type=CephPoolname name=object,type=CephObjectname "
               "name=nspace,type=CephString,req=false",
               "find pg for <object> in <pool> with [namespace]", _osd_map, module="osd"),
    MonCommand("osd lspools", "list pools", _osd_lspools, module="osd", flags=FLAG_DEPRECATED),
    MonCommand("osd crush rule ls", "list crush rules", _crush_rule_ls, module="osd"),
    MonCommand("osd crush rule dump name=name,type=CephString,goodchars=[A-Za-z0-9-_.],"
               "req=false", "dump crush rule <name> (default all)", _crush_rule_dump,
               module="osd"),
    MonCommand("osd crush dump", "dump crush map", _crush_dump, module="osd"),
    MonCommand("osd erasure-code-profile get name=name,type=CephString,"
               "goodchars=[A-Za-z0-9-_.]", "get erasure code profile <name>", _ec_get,
               module="osd"),
    MonCommand("osd erasure-code-profile ls", "list all erasure code profiles", _ec_ls,
               module="osd"),
    MonCommand("osd set name=key,type=CephChoices,strings=full|pause|noup|nodown|noout|noin|"
               "nobackfill|norebalance|norecover|noscrub|nodeep-scrub|notieragent|nosnaptrim|"
               "pglog_hardlimit name=yes_i_really_mean_it,type=CephBool,req=false",
               "set <key>", _osd_set, module="osd", perm="rw"),
    MonCommand("osd unset name=key,type=CephChoices,strings=full|pause|noup|nodown|noout|"
               "noin|nobackfill|norebalance|norecover|noscrub|nodeep-scrub|notieragent|"
               "nosnaptrim", "unset <key>", _osd_unset, module="osd", perm="rw"),
    MonCommand("osd down name=ids,type=CephString,n=N "
               "name=definitely_dead,type=CephBool,req=false",
               "set osd(s) <id> [<id>...] down, or use <any|all> to set all osds down",
               _osd_down, module="osd", perm="rw"),
    MonCommand("osd out name=ids,type=CephString,n=N",
               "set osd(s) <id> [<id>...] out, or use <any|all> to set all osds out",
               _osd_out, module="osd", perm="rw"),
    MonCommand("osd in name=ids,type=CephString,n=N",
               "set osd(s) <id> [<id>...] in, can use <any|all> to automatically set all "
               "previously out osds in", _osd_in, module="osd", perm="rw"),
    MonCommand("osd blocklist ls", "show blocklisted clients", _blocklist_ls, module="osd"),
    MonCommand("osd pool ls name=detail,type=CephChoices,req=false,strings=detail",
               "list pools", _pool_ls, module="osd"),
    MonCommand("osd pool create name=pool,type=CephPoolname "
               "name=pg_num,type=CephInt,range=0,req=false "
               "name=pgp_num,type=CephInt,range=0,req=false "
               "name=pool_type,type=CephChoices,req=false,strings=replicated|erasure "
               "name=erasure_code_profile,type=CephString,goodchars=[A-Za-z0-9-_.],req=false "
               "name=rule,type=CephString,req=false "
               "name=expected_num_objects,type=CephInt,range=0,req=false "
               "name=size,type=CephInt,range=0,req=false "
               "name=pg_num_min,type=CephInt,range=0,req=false "
               "name=pg_num_max,type=CephInt,range=0,req=false "
               "name=autoscale_mode,type=CephChoices,req=false,strings=on|off|warn "
               "name=bulk,type=CephBool,req=false "
               "name=target_size_bytes,type=CephInt,range=0,req=false "
               "name=target_size_ratio,type=CephFloat,range=0.0,req=false",
               "create pool", _pool_create, module="osd", perm="rw"),
    MonCommand("osd pool delete name=pool,type=CephPoolname "
               "name=pool2,type=CephPoolname,req=false "
               "name=yes_i_really_really_mean_it,type=CephBool,req=false "
               "name=yes_i_really_really_mean_it_not_faking,type=CephBool,req=false",
               "delete pool", _pool_rm, module="osd", perm="rw", flags=FLAG_DEPRECATED),
    MonCommand("osd pool rm name=pool,type=CephPoolname name=pool2,type=CephPoolname,req=false "
               "name=yes_i_really_really_mean_it,type=CephBool,req=false "
               "name=yes_i_really_really_mean_it_not_faking,type=CephBool,req=false",
               "remove pool", _pool_rm, module="osd", perm="rw"),
    MonCommand("osd pool rename name=srcpool,type=CephPoolname name=destpool,type=CephPoolname",
               "rename <srcpool> to <destpool>", _pool_rename, module="osd", perm="rw"),
    MonCommand("osd pool get name=pool,type=CephPoolname name=var,type=CephChoices,strings="
               "size|min_size|pg_num|pgp_num|crush_rule|hashpspool|nodelete|nopgchange|"
               "nosizechange|write_fadvise_dontneed|noscrub|nodeep-scrub|hit_set_type|"
               "hit_set_period|hit_set_count|hit_set_fpp|use_gmt_hitset|target_max_objects|"
               "target_max_bytes|cache_target_dirty_ratio|cache_target_dirty_high_ratio|"
               "cache_target_full_ratio|cache_min_flush_age|cache_min_evict_age|"
               "erasure_code_profile|min_read_recency_for_promote|all|"
               "min_write_recency_for_promote|fast_read|hit_set_grade_decay_rate|"
               "hit_set_search_last_n|scrub_min_interval|scrub_max_interval|"
               "deep_scrub_interval|recovery_priority|recovery_op_priority|scrub_priority|"
               "compression_mode|compression_algorithm|compression_required_ratio|"
               "compression_max_blob_size|compression_min_blob_size|csum_type|csum_min_block|"
               "csum_max_block|allow_ec_overwrites|fingerprint_algorithm|pg_autoscale_mode|"
               "pg_autoscale_bias|pg_num_min|pg_num_max|target_size_bytes|target_size_ratio|"
               "dedup_tier|dedup_chunk_algorithm|dedup_cdc_chunk_size|bulk",
               "get pool parameter <var>", _pool_get, module="osd"),
    MonCommand("osd pool set name=pool,type=CephPoolname name=var,type=CephChoices,strings="
               "size|min_size|pg_num|pgp_num|pgp_num_actual|crush_rule|hashpspool|nodelete|"
               "nopgchange|nosizechange|write_fadvise_dontneed|noscrub|nodeep-scrub|"
               "hit_set_type|hit_set_period|hit_set_count|hit_set_fpp|use_gmt_hitset|"
               "target_max_bytes|target_max_objects|cache_target_dirty_ratio|"
               "cache_target_dirty_high_ratio|cache_target_full_ratio|cache_min_flush_age|"
               "cache_min_evict_age|min_read_recency_for_promote|"
               "min_write_recency_for_promote|fast_read|hit_set_grade_decay_rate|"
               "hit_set_search_last_n|scrub_min_interval|scrub_max_interval|"
               "deep_scrub_interval|recovery_priority|recovery_op_priority|scrub_priority|"
               "compression_mode|compression_algorithm|compression_required_ratio|"
               "compression_max_blob_size|compression_min_blob_size|csum_type|csum_min_block|"
               "csum_max_block|allow_ec_overwrites|fingerprint_algorithm|pg_autoscale_mode|"
               "pg_autoscale_bias|pg_num_min|pg_num_max|target_size_bytes|target_size_ratio|"
               "dedup_tier|dedup_chunk_algorithm|dedup_cdc_chunk_size|bulk "
               "name=val,type=CephString name=yes_i_really_mean_it,type=CephBool,req=false",
               "set pool parameter <var> to <val>", _pool_set, module="osd", perm="rw"),
    MonCommand("osd pool set-quota name=pool,type=CephPoolname "
               "name=field,type=CephChoices,strings=max_objects|max_bytes "
               "name=val,type=CephString", "set object or byte limit on pool",
               _pool_set_quota, module="osd", perm="rw"),
    MonCommand("osd pool get-quota name=pool,type=CephPoolname",
               "obtain object or byte limits for pool", _pool_get_quota, module="osd"),
    MonCommand("osd pool application enable name=pool,type=CephPoolname "
               "name=app,type=CephString,goodchars=[A-Za-z0-9-_.] "
               "name=yes_i_really_mean_it,type=CephBool,req=false",
               "enable use of an application <app> [cephfs,rbd,rgw] on pool <poolname>",
               _app_enable, module="osd", perm="rw"),
    MonCommand("osd pool application disable name=pool,type=CephPoolname "
               "name=app,type=CephString name=yes_i_really_mean_it,type=CephBool,req=false",
               "disables use of an application <app> on pool <poolname>", _app_disable,
               module="osd", perm="rw"),
    MonCommand("osd pool application set name=pool,type=CephPoolname name=app,type=CephString "
               "name=key,type=CephString,goodchars=[A-Za-z0-9-_.] "
               "name=value,type=CephString,goodchars=[A-Za-z0-9-_.=]",
               "sets application <app> metadata key <key> to <value> on pool <poolname>",
               _app_set, module="osd", perm="rw"),
    MonCommand("osd pool application rm name=pool,type=CephPoolname name=app,type=CephString "
               "name=key,type=CephString",
               "removes application <app> metadata key <key> on pool <poolname>", _app_rm,
               module="osd", perm="rw"),
    MonCommand("osd pool application get name=pool,type=CephPoolname,req=fasle "
               "name=app,type=CephString,req=false name=key,type=CephString,req=false",
               "get value of key <key> of application <app> on pool <poolname>", _app_get,
               module="osd"),
)


__all__ = ["MON_MAX_POOL_PG_NUM", "OSDMAP_SET_FLAGS", "OSD_COMMANDS"]
