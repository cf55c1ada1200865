"""librados's ``conf_parse_argv`` rules, and the cluster-log and ticket parts of MonClientCore.

``conf_parse_argv`` is checked case by case against what Pacific 16.2.15's
``ceph`` did with the same arguments (which ones it consumed, the errors it
printed: see ``tests/interop/test_ceph_cli_errors.py`` for the live comparison).
"""

from __future__ import annotations

import uuid

import pytest

from asyncmsgr.auth.cephx.client import CephxClient
from asyncmsgr.auth.keyring import CryptoKey
from asyncmsgr.auth.none import AuthNoneClient
from asyncmsgr.message import Message
from asyncmsgr.messages import MAuth, MLog, MMonSubscribe, SubscribeItem
from asyncmsgr.messages.paxos import PaxosHeader
from asyncmsgr.monc.ceph_options import BOOL_OPTIONS, VALUE_OPTIONS
from asyncmsgr.monc.conf_argv import ArgvError, conf_parse_argv
from asyncmsgr.monc.core import MonAuthError, MonClientCore
from asyncmsgr.types import AuthName, EntityAddr, EntityAddrVec, EntityType

ADMIN_KEY = "AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg=="


def parse(*args: str, files: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    return conf_parse_argv(list(args), bool_options=BOOL_OPTIONS, value_options=VALUE_OPTIONS,
                           read_file=(files or {}).get)


@pytest.mark.parametrize(("args", "options", "rest"), [
    (["osd", "tree"], {}, ["osd", "tree"]),
    (["-m", "1.2.3.4", "status"], {"mon_host": "1.2.3.4"}, ["status"]),
    (["--mon-host=1.2.3.4"], {"mon_host": "1.2.3.4"}, []),
    (["-k", "/k", "--keyring=/k2"], {"keyring": "/k2"}, []),
    (["--debug-ms", "1/5", "--debug_monc=20"], {"debug_ms": "1/5", "debug_monc": "20"}, []),
    (["--ms_crc_data"], {"ms_crc_data": "true"}, []),
    (["--ms-crc-data=0", "--no-ms_crc_header"],
     {"ms_crc_data": "false", "ms_crc_header": "false"}, []),
    (["--ms_foo", "1", "--frobnicate"], {}, ["--ms_foo", "1", "--frobnicate"]),
    (["--default-debug_ms", "3"], {"debug_ms": "3"}, []),
    (["-f", "-d", "status"], {}, ["status"]),
    (["status", "--", "--debug_ms", "1"], {}, ["status", "--", "--debug_ms", "1"]),
    (["--key", "AQ=="], {"key": "AQ=="}, []),
    (["--ms_bind_port_min", "abc"], {"ms_bind_port_min": "abc"}, []),
])
def test_conf_parse_argv(args: list[str], options: dict[str, str], rest: list[str]) -> None:
    assert parse(*args) == (options, rest)


def test_keyfile_sets_key_and_an_unreadable_one_is_ignored() -> None:
    assert parse("--keyfile", "/kf", files={"/kf": "AQ==\n"}) == ({"key": "AQ==\n"}, [])
    assert parse("-K", "/nope", "status") == ({}, ["status"])


@pytest.mark.parametrize(("args", "message"), [
    (["status", "--debug_ms"],
     "parse error setting 'debug_ms' to '' (Option --debug_ms requires an argument.\n)"),
    (["--ms_crc_data=maybe"], "parse error setting 'ms_crc_data' to ''"),
    (["status", "-m"], "Option -m requires an argument."),
])
def test_conf_parse_argv_errors(args: list[str], message: str) -> None:
    with pytest.raises(ArgvError) as exc:
        parse(*args)
    assert str(exc.value) == message


# -- MonClientCore: cluster log subscriptions and service tickets -------------------------

class Link:
    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.maps: list[str] = []

    def dial(self, addrs: EntityAddrVec, target: EntityAddr, protocol: int) -> int:
        return 1

    def send(self, con: int, m: Message) -> None:
        self.sent.append(m)

    def send_keepalive(self, con: int) -> None:
        pass

    def last_keepalive_ack(self, con: int) -> object:
        return None

    def mark_down(self, con: int) -> None:
        pass

    def session_established(self, con: int, global_id: int) -> None:
        pass

    def session_ready(self) -> None:
        pass

    def session_lost(self) -> None:
        pass

    def connect_failed(self, err: MonAuthError) -> None:
        pass

    def request_done(self, waiter: object, value: object) -> None:
        pass

    def map_received(self, what: str) -> None:
        self.maps.append(what)


MON = EntityAddrVec((EntityAddr.parse("v2:127.0.0.1:3300"),))


def connected_core(auth: object | None = None) -> tuple[MonClientCore[int, object], Link]:
    link = Link()
    client = auth if auth is not None else CephxClient(
        AuthName(EntityType.CLIENT, "admin"), CryptoKey.from_base64(ADMIN_KEY),
        clock=lambda: 1_700_000_000.0)
    core: MonClientCore[int, object] = MonClientCore(
        [MON], link=link, auth_client=client)  # type: ignore[arg-type]
    core.start(0.0)
    core.handle_connect(1, msgr2=True, now=0.0)
    link.sent.clear()
    return core, link


def mlog(version: int) -> MLog:
    return MLog(paxos=PaxosHeader(version=version), fsid=uuid.UUID(int=1))


def test_log_subscription_moves_past_each_version() -> None:
    core, link = connected_core()
    core.sub_want("log-info", 0)
    (sub,) = [m for m in link.sent if isinstance(m, MMonSubscribe)]
    assert sub.what["log-info"] == SubscribeItem(0, 0)
    first = mlog(7)
    assert core.handle_message(1, first, 1.0) is True
    assert core.maps["log"] is first
    assert link.maps == ["log"]
    assert core.subs["log-info"] == SubscribeItem(8, 0)
    assert core.handle_message(1, mlog(7), 2.0) is True   # not newer: dropped
    assert link.maps == ["log"]
    assert core.maps["log"] is first


def test_request_tickets_asks_once_per_retry_period() -> None:
    core, link = connected_core()
    auth = core.auth_client
    assert isinstance(auth, CephxClient)
    assert core.request_tickets(int(EntityType.MGR), 1.0, 1_700_000_000.0) is False
    assert [type(m) for m in link.sent] == [MAuth]
    assert core.request_tickets(int(EntityType.MGR), 2.0, 1_700_000_000.0) is False
    assert len(link.sent) == 1                              # one MAuth at a time
    assert core.request_tickets(int(EntityType.MGR), 7.0, 1_700_000_000.0) is False
    assert len(link.sent) == 2                              # again after 5 s


def test_request_tickets_without_cephx_is_done() -> None:
    core, link = connected_core(AuthNoneClient(AuthName(EntityType.CLIENT, "admin")))
    assert core.request_tickets(int(EntityType.MGR), 1.0, 0.0) is True
    assert link.sent == []
