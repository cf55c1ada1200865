"""MessengerConfig: Pacific defaults, text conversion, ranges, command-line parsing.

The expected defaults are copied from ceph-messenger.md §7 and
faults-and-bad-input.md §1.1, not read from the class.
"""

from __future__ import annotations

import dataclasses

import pytest

from asyncmsgr.config import (
    ConfigError,
    MessengerConfig,
    config_help,
    option_docs,
    parse_config_args,
    parse_size,
    str_list,
)
from asyncmsgr.errors import AsyncmsgrError
from asyncmsgr.types import EntityType

# ceph-messenger.md §7 (every ms_* row except RDMA/DPDK) and the related options.
PACIFIC_DEFAULTS: dict[str, object] = {
    "ms_type": "async+posix",
    "ms_public_type": "",
    "ms_cluster_type": "",
    "ms_async_op_threads": 3,
    "ms_async_reap_threshold": 5,
    "ms_bind_ipv4": True,
    "ms_bind_ipv6": False,
    "ms_bind_prefer_ipv4": False,
    "ms_bind_msgr1": True,
    "ms_bind_msgr2": True,
    "ms_bind_port_min": 6800,
    "ms_bind_port_max": 7300,
    "ms_bind_retry_count": 3,
    "ms_bind_retry_delay": 5,
    "ms_bind_before_connect": False,
    "ms_tcp_nodelay": True,
    "ms_tcp_rcvbuf": 0,
    "ms_tcp_prefetch_max_size": 4096,
    "ms_tcp_listen_backlog": 512,
    "ms_max_accept_failures": 4,
    "ms_initial_backoff": 0.2,
    "ms_max_backoff": 15.0,
    "ms_connection_ready_timeout": 10,
    "ms_connection_idle_timeout": 900,
    "ms_dispatch_throttle_bytes": 104857600,
    "ms_pq_max_tokens_per_priority": 16777216,
    "ms_pq_min_cost": 65536,
    "ms_crc_data": True,
    "ms_crc_header": True,
    "ms_learn_addr_from_peer": True,
    "ms_cluster_mode": "crc secure",
    "ms_service_mode": "crc secure",
    "ms_client_mode": "crc secure",
    "ms_mon_cluster_mode": "secure crc",
    "ms_mon_service_mode": "secure crc",
    "ms_mon_client_mode": "secure crc",
    "ms_die_on_bad_msg": False,
    "ms_die_on_unhandled_msg": False,
    "ms_die_on_old_message": False,
    "ms_die_on_skipped_message": False,
    "ms_die_on_bug": False,
    "ms_dump_on_send": False,
    "ms_dump_corrupt_message_level": 1,
    "ms_inject_socket_failures": 0,
    "ms_inject_internal_delays": 0,
    "ms_inject_delay_type": "",
    "ms_inject_delay_max": 1.0,
    "ms_inject_delay_probability": 0,
    "ms_inject_network_congestion": 0,
    "ms_blackhole_osd": False,
    "ms_blackhole_mon": False,
    "ms_blackhole_mds": False,
    "ms_blackhole_mgr": False,
    "ms_blackhole_client": False,
    "auth_cluster_required": "cephx",
    "auth_service_required": "cephx",
    "auth_client_required": "cephx, none",
    "cephx_require_signatures": False,
    "cephx_cluster_require_signatures": False,
    "cephx_service_require_signatures": False,
    "cephx_sign_messages": True,
    "cephx_require_version": 2,
    "cephx_cluster_require_version": 2,
    "cephx_service_require_version": 2,
    "mon_client_ping_interval": 10,
    "mon_client_ping_timeout": 30,
}

#: Pacific's logging, admin socket options (``ceph-conf --show-config``); the
#: stderr ones as a library has them (librados: ``common_preinit`` sets them false).
LOGGING_DEFAULTS: dict[str, object] = {
    "debug_none": "0/5", "debug_ms": "0/0", "debug_monc": "0/10", "debug_mgrc": "1/5",
    "debug_auth": "1/5", "debug_objecter": "0/1", "debug_rados": "0/5",
    "debug_crush": "1/1", "debug_osd": "1/5", "debug_asok": "1/5",
    "debug_perfcounter": "1/5",
    "log_file": "", "log_to_file": True, "log_to_stderr": False, "err_to_stderr": False,
    "log_max_recent": 500, "log_stderr_prefix": "",
    "admin_socket": "", "run_dir": "/var/run/ceph",
}

ASYNCMSGR_DEFAULTS: dict[str, object] = {
    "asyncmsgr_embedded": True,
    "asyncmsgr_use_uvloop": False,
    "asyncmsgr_max_preauth_segment": 65536,
    "asyncmsgr_preauth_buffer_budget": 32 * 1024 * 1024,
    "asyncmsgr_max_control_segment": 16 << 20,
    "asyncmsgr_max_front_segment": 16 << 20,
    "asyncmsgr_max_middle_segment": 16 << 20,
    "asyncmsgr_max_data_segment": 64 << 20,
    "asyncmsgr_rx_buffer_size": 262144,
    "asyncmsgr_large_segment_threshold": 65536,
    "asyncmsgr_connect_msgr": "auto",
    "asyncmsgr_prometheus_addr": "",
}


@pytest.mark.parametrize(("name", "default"), sorted(PACIFIC_DEFAULTS.items()))
def test_pacific_default(name: str, default: object) -> None:
    value = getattr(MessengerConfig(), name)
    assert value == default
    assert type(value) is type(default) or (isinstance(default, int)
                                            and isinstance(value, float))


def test_every_option_is_known_and_documented() -> None:
    expected = {**PACIFIC_DEFAULTS, **LOGGING_DEFAULTS, **ASYNCMSGR_DEFAULTS}
    assert MessengerConfig().as_dict() == expected
    docs = option_docs()
    assert set(docs) == set(expected)
    assert all(docs[name] and "\n" not in docs[name] for name in expected)
    assert not any(name.startswith(("ms_async_rdma", "ms_dpdk")) for name in expected)


def test_as_dict_order_and_help() -> None:
    names = list(MessengerConfig().as_dict())
    assert names[0] == "ms_type"
    text = config_help()
    for name in names:
        assert f"--{name} (" in text
    assert "--ms_async_op_threads (int, default 3)" in text
    assert "Number of worker threads" in text


def test_frozen_and_keyword_only() -> None:
    config = MessengerConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.ms_async_op_threads = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        MessengerConfig(3)  # type: ignore[call-arg, arg-type]


def test_replace_validates() -> None:
    config = MessengerConfig().replace(ms_async_op_threads=8, ms_crc_data=False)
    assert config.ms_async_op_threads == 8
    assert config.ms_crc_data is False
    assert MessengerConfig().ms_async_op_threads == 3
    with pytest.raises(ConfigError, match="ms_async_op_threads"):
        MessengerConfig().replace(ms_async_op_thread=2)
    with pytest.raises(ConfigError, match="expects int"):
        MessengerConfig().replace(ms_async_op_threads="2")
    with pytest.raises(ConfigError, match="expects int"):
        MessengerConfig().replace(ms_async_op_threads=True)
    with pytest.raises(ConfigError, match="expects bool"):
        MessengerConfig().replace(ms_crc_data=1)
    with pytest.raises(ConfigError, match="expects str"):
        MessengerConfig().replace(ms_inject_delay_type=3)
    # an int is a fine float, and is stored as a float
    assert MessengerConfig().replace(ms_max_backoff=3).ms_max_backoff == 3.0
    assert isinstance(MessengerConfig().replace(ms_max_backoff=3).ms_max_backoff, float)


def test_config_error_type() -> None:
    assert issubclass(ConfigError, AsyncmsgrError)
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(("name", "bad"), [
    ("ms_async_op_threads", 0),
    ("ms_async_op_threads", 25),
    ("ms_bind_port_min", -1),
    ("ms_bind_port_max", 65536),
    ("ms_inject_delay_probability", 1.5),
    ("ms_inject_delay_probability", -0.1),
    ("ms_max_backoff", -1.0),
    ("ms_inject_socket_failures", -1),
    ("ms_max_backoff", float("inf")),
    ("ms_cluster_mode", "crc fast"),
    ("ms_mon_client_mode", ""),
])
def test_out_of_range(name: str, bad: object) -> None:
    with pytest.raises(ConfigError, match=name):
        MessengerConfig.from_ceph_options({name: bad})  # type: ignore[dict-item]


@pytest.mark.parametrize(("name", "good"), [
    ("ms_async_op_threads", 1),
    ("ms_async_op_threads", 24),
    ("ms_bind_port_min", 0),
    ("ms_bind_port_max", 65535),
    ("ms_inject_delay_probability", 0.0),
    ("ms_inject_delay_probability", 1.0),
])
def test_range_limits_accepted(name: str, good: int | float) -> None:
    assert getattr(MessengerConfig.from_ceph_options({name: good}), name) == good


def test_port_order() -> None:
    with pytest.raises(ConfigError, match="ms_bind_port_min"):
        MessengerConfig(ms_bind_port_min=8000)
    config = MessengerConfig().replace(ms_bind_port_min=8000, ms_bind_port_max=8100)
    assert (config.ms_bind_port_min, config.ms_bind_port_max) == (8000, 8100)


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("4096", 4096), ("+7", 7), (" 12 ", 12),
    ("4K", 4096), ("4k", 4096), ("4Ki", 4096), ("4KiB", 4096), ("4KB", 4096),
    ("100M", 100 << 20), ("16MiB", 16 << 20), ("1G", 1 << 30), ("2Gi", 2 << 30),
    ("1T", 1 << 40), ("512B", 512), ("3 M", 3 << 20),
])
def test_size_suffixes(text: str, value: int) -> None:
    assert parse_size(text) == value
    config = MessengerConfig.from_ceph_options({"ms_dispatch_throttle_bytes": text})
    assert config.ms_dispatch_throttle_bytes == value


@pytest.mark.parametrize("text", ["", "M", "1.5M", "0x10", "10X", "10MiBs", "1e3", "ten"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)
    with pytest.raises(ConfigError, match="ms_tcp_rcvbuf"):
        MessengerConfig.from_ceph_options({"ms_tcp_rcvbuf": text})


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("TRUE", True), ("yes", True), ("On", True), ("1", True),
    ("false", False), ("No", False), ("off", False), ("0", False), ("FALSE", False),
])
def test_bool_text(text: str, value: bool) -> None:
    assert MessengerConfig.from_ceph_options({"ms_crc_data": text}).ms_crc_data is value


@pytest.mark.parametrize("text", ["", "2", "maybe", "t"])
def test_bad_bool_text(text: str) -> None:
    with pytest.raises(ConfigError, match="ms_crc_data"):
        MessengerConfig.from_ceph_options({"ms_crc_data": text})


def test_float_and_str_text() -> None:
    config = MessengerConfig.from_ceph_options({
        "ms_initial_backoff": "0.5", "ms_inject_delay_probability": "1",
        "ms_inject_delay_type": "client osd", "ms_cluster_mode": "secure",
        "mon_client_ping_timeout": "2.5",
    })
    assert config.ms_initial_backoff == 0.5
    assert config.ms_inject_delay_probability == 1.0
    assert config.ms_inject_delay_type == "client osd"
    assert config.ms_cluster_mode == "secure"
    assert config.mon_client_ping_timeout == 2.5
    for bad in ("fast", "nan", "inf", ""):
        with pytest.raises(ConfigError, match="ms_initial_backoff"):
            MessengerConfig.from_ceph_options({"ms_initial_backoff": bad})


def test_from_ceph_options_names() -> None:
    config = MessengerConfig.from_ceph_options({
        "--ms-async-op-threads": "2", "ms bind port min": "7000",
        "ms_crc_header": False, "asyncmsgr-embedded": "no",
    })
    assert config.ms_async_op_threads == 2
    assert config.ms_bind_port_min == 7000
    assert config.ms_crc_header is False
    assert config.asyncmsgr_embedded is False
    base = MessengerConfig(ms_async_op_threads=5)
    derived = MessengerConfig.from_ceph_options({"ms_crc_data": "false"}, base=base)
    assert derived.ms_async_op_threads == 5
    assert derived.ms_crc_data is False
    assert derived.diff() == {"ms_async_op_threads": 5, "ms_crc_data": False}


def test_unknown_option_lists_close_matches() -> None:
    with pytest.raises(ConfigError, match="did you mean ms_async_op_threads") as info:
        MessengerConfig.from_ceph_options({"ms_async_op_thread": "2"})
    assert "ms_async_op_thread'" in str(info.value)
    with pytest.raises(ConfigError, match=r"unknown option 'zzz'$"):
        MessengerConfig.from_ceph_options({"zzz": "1"})


def test_str_list() -> None:
    assert str_list("crc secure") == ["crc", "secure"]
    assert str_list(" cephx, none;x\ty ") == ["cephx", "none", "x", "y"]
    assert str_list("") == []


def test_blackhole_and_inject_delay_helpers() -> None:
    config = MessengerConfig(ms_blackhole_osd=True)
    assert config.is_blackhole(EntityType.OSD)
    assert not config.is_blackhole(EntityType.CLIENT)
    assert not config.is_blackhole(0x77)
    assert not MessengerConfig(ms_inject_delay_type="osd").inject_delay_applies(EntityType.OSD)
    delayed = MessengerConfig(ms_inject_delay_type="client osd",
                              ms_inject_delay_probability=0.5)
    assert delayed.inject_delay_applies(EntityType.OSD)
    assert delayed.inject_delay_applies(EntityType.CLIENT)
    assert not delayed.inject_delay_applies(EntityType.MON)
    assert not delayed.inject_delay_applies(0x77)


# --- parse_config_args ------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["--ms_async_op_threads=2"],
    ["--ms_async_op_threads", "2"],
    ["--ms-async-op-threads", "2"],
    ["--ms-async-op-threads=2"],
    ["--ms_async-op_threads", "2"],
])
def test_parse_forms(argv: list[str]) -> None:
    config, rest = parse_config_args(argv, {})
    assert config.ms_async_op_threads == 2
    assert rest == []


def test_parse_bare_bool_does_not_consume_next() -> None:
    config, rest = parse_config_args(["--ms_die_on_bad_msg", "file.bin"], {})
    assert config.ms_die_on_bad_msg is True
    assert rest == ["file.bin"]
    config, rest = parse_config_args(["--ms-crc-data=false", "--no-ms-tcp-nodelay"], {})
    assert config.ms_crc_data is False
    assert config.ms_tcp_nodelay is False
    assert rest == []
    with pytest.raises(ConfigError, match="takes no value"):
        parse_config_args(["--no-ms_crc_data=true"], {})


def test_parse_passes_other_arguments_in_order() -> None:
    argv = ["ping", "--id", "admin", "--ms_async_op_threads", "4", "-v",
            "--count=3", "--ms_crc_data=0", "mon.a"]
    config, rest = parse_config_args(argv, {})
    assert config.ms_async_op_threads == 4
    assert config.ms_crc_data is False
    assert rest == ["ping", "--id", "admin", "-v", "--count=3", "mon.a"]


def test_parse_ceph_args_env_and_precedence() -> None:
    env = {"CEPH_ARGS": "--ms_async_op_threads 5 --ms-crc-header=false --name 'osd.0'"}
    config, rest = parse_config_args(["--ms_async_op_threads=2", "x"], env)
    assert config.ms_async_op_threads == 2  # argv wins
    assert config.ms_crc_header is False  # from CEPH_ARGS
    assert rest == ["--name", "osd.0", "x"]
    config, rest = parse_config_args([], env)
    assert config.ms_async_op_threads == 5


def test_parse_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CEPH_ARGS", "--ms_async_op_threads=7")
    config, _ = parse_config_args([])
    assert config.ms_async_op_threads == 7
    monkeypatch.delenv("CEPH_ARGS")
    config, _ = parse_config_args([])
    assert config.ms_async_op_threads == 3


def test_parse_double_dash_ends_options() -> None:
    config, rest = parse_config_args(
        ["--ms_async_op_threads=2", "--", "--ms_async_op_threads=9", "--ms_bogus"], {})
    assert config.ms_async_op_threads == 2
    assert rest == ["--", "--ms_async_op_threads=9", "--ms_bogus"]
    env = {"CEPH_ARGS": "--ms_crc_data=false e1 -- tail"}
    config, rest = parse_config_args(["a1", "--", "b1"], env)
    assert config.ms_crc_data is False
    assert rest == ["e1", "a1", "--", "b1", "tail"]


def test_parse_unknown_ms_option_suggests() -> None:
    with pytest.raises(ConfigError, match="did you mean ms_async_op_threads"):
        parse_config_args(["--ms_async_op_thread=2"], {})
    with pytest.raises(ConfigError, match="ms_foo"):
        parse_config_args(["--ms_foo"], {})
    with pytest.raises(ConfigError, match="'--asyncmsgr-embeded'; did you mean asyncmsgr_embedded"):
        parse_config_args(["--asyncmsgr-embeded"], {})
    with pytest.raises(ConfigError, match="ms_foo"):
        parse_config_args([], {"CEPH_ARGS": "--ms_foo 1"})


def test_parse_errors() -> None:
    with pytest.raises(ConfigError, match="needs a value"):
        parse_config_args(["--ms_async_op_threads"], {})
    with pytest.raises(ConfigError, match="ms_async_op_threads"):
        parse_config_args(["--ms_async_op_threads", "many"], {})
    with pytest.raises(ConfigError, match="ms_async_op_threads"):
        parse_config_args(["--ms_async_op_threads=30"], {})


def test_parse_sizes_and_base() -> None:
    base = MessengerConfig(asyncmsgr_embedded=False)
    config, rest = parse_config_args(["--ms_dispatch_throttle_bytes", "1G"], {}, base=base)
    assert config.ms_dispatch_throttle_bytes == 1 << 30
    assert config.asyncmsgr_embedded is False
    assert rest == []


def test_protocol_and_mode_views_match_the_messengers() -> None:
    """config.protocol_options / mode_options (used without the messenger by the
    one-shot client) give what the messenger's own functions give."""
    from asyncmsgr import messenger  # noqa: PLC0415
    from asyncmsgr.config import mode_options, protocol_options  # noqa: PLC0415

    for cfg in (MessengerConfig(),
                MessengerConfig(ms_connection_ready_timeout=3.5, ms_crc_data=False,
                                asyncmsgr_max_preauth_segment=4096, ms_mon_client_mode="crc",
                                asyncmsgr_rx_buffer_size=8192, ms_max_backoff=2.0)):
        assert protocol_options(cfg) == messenger.protocol_options(cfg)
        assert mode_options(cfg) == messenger.mode_options(cfg)
