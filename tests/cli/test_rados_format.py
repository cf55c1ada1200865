"""``asyncmsgr rados`` output and parsing rules, checked against outputs of Pacific's
C++ ``rados`` tool (the expected strings below were printed by it)."""

from __future__ import annotations

import io
import statistics
import time

import pytest

from asyncmsgr.cli.rados_args import (
    ArgsError,
    parse_args,
    prescan_format,
    scan_tool_args,
    wants_help,
)
from asyncmsgr.cli.rados_bench import (
    BenchData,
    decode_metadata,
    encode_metadata,
    object_name,
    object_prefix,
    op_contents,
)
from asyncmsgr.cli.rados_df import text_table
from asyncmsgr.cli.rados_format import (
    JSONFormatter,
    ParseError,
    XMLFormatter,
    byte_u,
    c_cast,
    c_strtoll,
    cpp_strerror,
    create_formatter,
    escape_json,
    escape_xml,
    fmt_double,
    fmt_f,
    format_utime,
    hexdump,
    strict_iecstrtoll,
)
from asyncmsgr.monc.conf import ConfEnv

# -- hexdump ---------------------------------------------------------------------------


def test_hexdump_short_and_empty() -> None:
    assert hexdump(b"hello") == (
        "00000000  68 65 6c 6c 6f                                    |hello|\n00000005\n")
    assert hexdump(b"bin\x01\x02x") == (
        "00000000  62 69 6e 01 02 78                                 |bin..x|\n00000006\n")
    assert hexdump(b"") == ""
    assert hexdump(b"abc", trailing_newline=False).endswith("|abc|")


def test_hexdump_rows_and_folding() -> None:
    # the notify payload the rados watcher prints (encoded string "hello")
    assert hexdump(b"\x05\x00\x00\x00hello") == (
        "00000000  05 00 00 00 68 65 6c 6c  6f                       |....hello|\n"
        "00000009\n")
    got = hexdump(b"z" * 70 + b"tail")
    assert got == (
        "00000000  7a 7a 7a 7a 7a 7a 7a 7a  7a 7a 7a 7a 7a 7a 7a 7a  |zzzzzzzzzzzzzzzz|\n"
        "*\n"
        "00000040  7a 7a 7a 7a 7a 7a 74 61  69 6c                    |zzzzzzt"
        "ail|\n0000004a\n")
    # two identical rows print both, the third folds; a last identical row is printed
    got = hexdump(bytes(48))
    assert got.splitlines() == [
        "00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|",
        "*",
        "00000020  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|",
        "00000030"]
    assert "|.~ .|" in hexdump(b"\x80~ \x7f")


# -- formatters ------------------------------------------------------------------------

def _ls(f: JSONFormatter | XMLFormatter, objs: list[tuple[str, str, str]]) -> str:
    f.open_array_section("objects")
    for ns, name, loc in objs:
        f.open_object_section("object")
        f.dump_string("namespace", ns)
        f.dump_string("name", name)
        if loc:
            f.dump_string("locator", loc)
        f.close_section()
    f.close_section()
    out = io.StringIO()
    f.flush(out.write)
    return out.getvalue()


def test_json_formatter_like_ceph() -> None:
    objs = [("ns1", "locobj", "LOC"), ("ns1", "nsobj", "")]
    assert _ls(JSONFormatter(), objs) == (
        '[{"namespace":"ns1","name":"locobj","locator":"LOC"},'
        '{"namespace":"ns1","name":"nsobj"}]')
    assert _ls(JSONFormatter(True), objs) == (
        '[\n    {\n        "namespace": "ns1",\n        "name": "locobj",\n'
        '        "locator": "LOC"\n    },\n    {\n        "namespace": "ns1",\n'
        '        "name": "nsobj"\n    }\n]\n')
    assert _ls(JSONFormatter(), []) == "[]"
    assert _ls(JSONFormatter(True), []) == "[]\n"
    f = JSONFormatter(True)
    f.open_object_section("stats")
    f.open_array_section("pools")
    f.close_section()
    f.dump_int("total_objects", 0)
    f.close_section()
    out = io.StringIO()
    f.flush(out.write)
    assert out.getvalue() == '{\n    "pools": [],\n    "total_objects": 0\n}\n'


def test_xml_formatter_like_ceph() -> None:
    objs = [("ns1", "locobj", "LOC"), ("ns1", "nsobj", "")]
    assert _ls(XMLFormatter(), objs) == (
        "<objects><object><namespace>ns1</namespace><name>locobj</name><locator>LOC"
        "</locator></object><object><namespace>ns1</namespace><name>nsobj</name></object>"
        "</objects>")
    assert _ls(XMLFormatter(True), objs) == (
        "<objects>\n <object>\n  <namespace>ns1</namespace>\n  <name>locobj</name>\n"
        "  <locator>LOC</locator>\n </object>\n <object>\n  <namespace>ns1</namespace>\n"
        "  <name>nsobj</name>\n </object>\n</objects>\n\n")


def test_escaping() -> None:
    assert escape_json('a/b"c\\d\té') == 'a/b\\"c\\\\d\\té'
    assert escape_json("ctl\x01\x7f\n\r") == "ctl\\u0001\\u007f\\n\\u000d"
    assert escape_xml("x<&>'q\"") == "x&lt;&amp;&gt;&apos;q&quot;"
    assert escape_xml("ctl\x01\x7f\t\n\r") == "ctl&#x01;&#x7f;\t\n&#x0d;"


def test_create_formatter_names() -> None:
    assert isinstance(create_formatter("json"), JSONFormatter)
    assert isinstance(create_formatter(""), JSONFormatter)  # json-pretty
    assert isinstance(create_formatter("xml-pretty"), XMLFormatter)
    assert create_formatter("plain") is None  # "unrecognized format: plain", as rados


# -- numbers ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("8G", 8 << 30), ("4KB", 4096), ("4Ki", 4096), ("1B", 1), ("0", 0), ("+7", 7),
    ("1E", 1 << 60),
])
def test_strict_iecstrtoll_values(text: str, value: int) -> None:
    assert strict_iecstrtoll(text) == value


@pytest.mark.parametrize(("text", "error"), [
    ("", "strict_iecstrtoll: value not specified"),
    (" 5", "strict_iecstrtoll: unit prefix not recognized"),
    ("5x", "strict_iecstrtoll: unit prefix not recognized"),
    ("1e3", "strict_iecstrtoll: unit prefix not recognized"),
    ("abc", "strict_iecstrtoll: illegal prefix (length > 2)"),
    ("4Bi", 'strict_iecstrtoll: illegal prefix "Bi"'),
    ("-1", "strict_iecstrtoll: value should not be negative"),
    ("+-3", "Expected option value to be integer, got '+-3'"),
    ("99999999999999999999", "The option value '99999999999999999999' seems to be invalid"),
])
def test_strict_iecstrtoll_errors(text: str, error: str) -> None:
    with pytest.raises(ParseError) as info:
        strict_iecstrtoll(text)
    assert str(info.value) == error


def test_c_integers() -> None:
    assert c_strtoll("12abc") == (12, "abc")
    assert c_strtoll("  -5") == (-5, "")
    assert c_strtoll("xx") == (0, "xx")
    assert c_strtoll("") == (0, "")
    assert c_cast(8 << 30, 32, True) == 0  # -t 8G: 0 concurrent ios, so EINVAL
    assert c_cast(0xFFFFFFFF, 32, True) == -1
    assert c_cast(1 << 32 | 5, 32, False) == 5


def test_doubles_bytes_errors_and_times(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [fmt_double(x) for x in (0.0, 12.2, 0.00106046, 9.8661e-05, 1.7976931348623157e308,
                                    39.91558, 10218.0)] == [
        "0", "12.2", "0.00106046", "9.8661e-05", "1.79769e+308", "39.9156", "10218"]
    assert fmt_f(0.000584) == "0.000584"
    assert fmt_f(85.5228) == "85.522800"
    assert [byte_u(x) for x in (0, 1023, 1024, 1536, 10239, 1 << 20, 123456789)] == [
        "0 B", "1023 B", "1 KiB", "1.5 KiB", "10 KiB", "1 MiB", "118 MiB"]
    assert cpp_strerror(-2) == "(2) No such file or directory"
    assert cpp_strerror(61) == "(61) No data available"
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert format_utime(1_700_000_000, 182_572_999) == "2023-11-14T22:13:20.182572+0000"
        assert format_utime(5, 1000) == "5.000001"  # below ten years: relative
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


# -- arguments ---------------------------------------------------------------------------

def test_prescan_and_tool_options() -> None:
    opts: dict[str, str] = {}
    assert prescan_format(["-p", "x", "-f", "json", "ls"], opts) == ["-p", "x", "ls"]
    assert opts == {"format": "json"}
    opts = {}
    assert prescan_format(["-f", "plain", "ls"], opts) == ["-f", "plain", "ls"]
    assert opts == {}
    opts = {}
    nargs = scan_tool_args(["-p", "pool", "--namespace=ns", "--no_cleanup", "-t", "4",
                            "bench", "1", "write", "--run-name", "r", "--", "-x"], opts)
    assert nargs == ["bench", "1", "write", "-x"]
    assert opts == {"pool": "pool", "namespace": "ns", "no-cleanup": "true",
                    "concurrent-ios": "4", "run-name": "r"}
    assert scan_tool_args(["--foo", "ls", "-ptest"], {}) == ["--foo", "ls", "-ptest"]
    with pytest.raises(ArgsError) as info:
        scan_tool_args(["lspools", "-p"], {})
    assert (info.value.message, info.value.status) == ("Option -p requires an argument.", 1)
    with pytest.raises(ArgsError) as info:  # rados.cc's val[0] == '-' check
        scan_tool_args(["-b", "-5", "bench"], {})
    assert info.value.usage
    assert info.value.status == 1
    assert wants_help(["ls", "--help"])
    assert not wants_help(["--", "-h"])


def test_parse_args_with_the_conf_layer() -> None:
    conf = "[global]\nmon_host = 127.0.0.1:3300\n"
    env = ConfEnv(environ={"CEPH_ARGS": "--all --id bob"},
                  read_file=lambda p: conf if p == "/c.conf" else None)
    args = parse_args(["-c", "/c.conf", "-p", "data", "--ms_crc_data=false", "-f", "json",
                       "--no-mon-config", "ls"], env)
    assert args.nargs == ["ls"]
    assert args.opts == {"format": "json", "all": "true", "pool": "data"}
    assert args.no_mon_config
    assert str(args.settings.name) == "client.bob"
    with pytest.raises(ArgsError) as info:
        parse_args(["-c", "/nope.conf", "ls"], env)
    assert info.value.message == ("global_init: unable to open config file from search list "
                                  "/nope.conf")
    with pytest.raises(ArgsError) as info:
        parse_args(["-c", "/c.conf"], ConfEnv(read_file=lambda p: conf))
    assert info.value.message == "rados: you must give an action. Try --help"


# -- bench -----------------------------------------------------------------------------

def test_bench_names_contents_and_metadata() -> None:
    assert object_prefix(29532, "vm") == "benchmark_data_vm_29532"
    assert object_name("benchmark_data_vm_29532", 704) == "benchmark_data_vm_29532_object704"
    # bytes read back from objects the C++ tool wrote (-b 64, and -b 20)
    assert op_contents(3, 64) == b"I'm the                3th op!\x00" + b"z" * 33
    assert op_contents(3, 20) == b"I'm the            \x00"
    assert op_contents(0, 1) == b"\x00"
    # the metadata object the C++ tool left after 20443 writes by pid 29532
    meta = bytes.fromhex("0010000000000000db4f00005c7300000010000000000000")
    assert decode_metadata(meta) == (4096, 20443, 29532, 4096)
    assert encode_metadata(4096, 20443, 29532, 4096) == meta
    assert decode_metadata(meta[:16]) == (4096, 20443, 29532, 4096)
    with pytest.raises(ValueError):
        decode_metadata(meta[:20])


def test_bench_latency_statistics() -> None:
    d = BenchData(4096, 4096, True)
    lats = [0.002, 0.0011, 0.0035, 0.0009, 0.0021]
    d.in_flight = len(lats)
    for lat in lats:
        d.complete(lat, True)
    assert (d.finished, d.in_flight) == (5, 0)
    assert d.avg_latency == pytest.approx(statistics.mean(lats))
    assert (d.latency_diff_sum / 4) ** 0.5 == pytest.approx(statistics.stdev(lats))
    assert (d.min_latency, d.max_latency) == (0.0009, 0.0035)


def test_df_table() -> None:
    assert text_table([]) == (
        "POOL_NAME  USED  OBJECTS  CLONES  COPIES  MISSING_ON_PRIMARY  UNFOUND  DEGRADED  "
        "RD_OPS  RD  WR_OPS  WR  USED COMPR  UNDER COMPR\n")


def test_objecter_options_reach_the_client() -> None:
    conf = "[global]\nmon_host = 127.0.0.1:3300\n"
    env = ConfEnv(environ={"CEPH_ARGS": "--objecter-inflight-ops 7"},
                  read_file=lambda p: conf if p == "/c.conf" else None)
    args = parse_args(["-c", "/c.conf", "--objecter_inflight_op_bytes=1M", "lspools"], env)
    assert args.nargs == ["lspools"]
    assert dict(args.conf) == {"objecter_inflight_ops": "7",
                               "objecter_inflight_op_bytes": "1M"}
