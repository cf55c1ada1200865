"""asyncmsgr.loop: uvloop when installed and asked for, asyncio's loop otherwise;
and the command line runs its asyncio subcommands on that loop."""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from asyncmsgr import loop as aloop
from asyncmsgr.cli import main as cli_main
from asyncmsgr.config import MessengerConfig

HAVE_UVLOOP = aloop.uvloop_module() is not None
NO_UVLOOP = MessengerConfig(asyncmsgr_use_uvloop=False)
UVLOOP = MessengerConfig(asyncmsgr_use_uvloop=True)


@pytest.fixture
def without_uvloop(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As if uvloop were not installed."""
    aloop.uvloop_module.cache_clear()
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop -> ImportError
    yield
    aloop.uvloop_module.cache_clear()


async def _kind() -> str:
    return aloop.loop_kind()


def test_the_option_defaults_to_false() -> None:
    assert MessengerConfig().asyncmsgr_use_uvloop is False
    assert not aloop.wants_uvloop()


def test_asyncio_when_the_option_is_off() -> None:
    assert aloop.loop_factory(NO_UVLOOP) is asyncio.new_event_loop
    assert aloop.run(_kind(), config=NO_UVLOOP) == "asyncio"
    assert not aloop.wants_uvloop(NO_UVLOOP)


def test_asyncio_when_uvloop_is_not_installed(without_uvloop: None) -> None:
    assert aloop.uvloop_module() is None
    assert not aloop.wants_uvloop(UVLOOP)
    assert aloop.run(_kind(), config=UVLOOP) == "asyncio"
    with aloop.loop_policy(UVLOOP) as kind:
        assert kind == "asyncio"
        assert asyncio.run(_kind()) == "asyncio"


@pytest.mark.skipif(not HAVE_UVLOOP, reason="uvloop is not installed (asyncmsgr[uvloop])")
def test_uvloop_when_installed() -> None:
    assert aloop.wants_uvloop(UVLOOP)
    assert aloop.run(_kind(), config=UVLOOP) == "uvloop"
    loop = aloop.new_event_loop(UVLOOP)
    try:
        assert aloop.loop_kind(loop) == "uvloop"
    finally:
        loop.close()


@pytest.mark.skipif(not HAVE_UVLOOP, reason="uvloop is not installed (asyncmsgr[uvloop])")
def test_loop_policy_is_restored() -> None:
    before = asyncio.get_event_loop_policy()
    with aloop.loop_policy(UVLOOP) as kind:
        assert kind == "uvloop"
        assert asyncio.run(_kind()) == "uvloop"
    assert asyncio.get_event_loop_policy() is before
    assert asyncio.run(_kind()) == "asyncio"


def _fake_subcommand(seen: list[str]) -> types.ModuleType:
    """A subcommand module whose command runs asyncio.run and notes the loop kind."""
    module = types.ModuleType("asyncmsgr_test_loopcmd")

    def run(args: Any) -> int:
        seen.append(asyncio.run(_kind()))
        return 0

    def register(sub: Any) -> None:
        p = sub.add_parser("loopcmd", help="test")
        p.set_defaults(func=run)

    module.register = register  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize("flag", [None, "--asyncmsgr_use_uvloop=true"])
def test_cli_subcommands_run_on_the_chosen_loop(monkeypatch: pytest.MonkeyPatch,
                                                flag: str | None) -> None:
    seen: list[str] = []
    monkeypatch.setitem(sys.modules, "asyncmsgr_test_loopcmd", _fake_subcommand(seen))
    monkeypatch.setitem(cli_main.SUBCOMMANDS, "loopcmd", "asyncmsgr_test_loopcmd")
    argv = ["loopcmd"] + ([flag] if flag else [])
    assert cli_main.main(argv, {}) == 0
    want = "uvloop" if HAVE_UVLOOP and flag is not None else "asyncio"
    assert seen == [want]
    assert asyncio.run(_kind()) == "asyncio", "the policy does not outlive the command"


def test_cli_registers_only_the_subcommand_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other subcommands' modules are not imported to run one."""
    seen: list[str] = []
    monkeypatch.setitem(sys.modules, "asyncmsgr_test_loopcmd", _fake_subcommand(seen))
    monkeypatch.setitem(cli_main.SUBCOMMANDS, "loopcmd", "asyncmsgr_test_loopcmd")
    monkeypatch.setitem(cli_main.SUBCOMMANDS, "broken", "asyncmsgr_no_such_module")
    assert cli_main.main(["loopcmd"], {}) == 0
    with pytest.raises(ModuleNotFoundError):
        cli_main.main(["--help"], {})
