"""Which event loop asyncmsgr runs on: asyncio's own, or uvloop when asked for.

``asyncmsgr_use_uvloop`` (default false, see its docstring) asks for uvloop; it is used when the
``uvloop`` package is installed (``pip install asyncmsgr[uvloop]``) and silently
not otherwise, so the option never makes a program fail. The command line
(:mod:`asyncmsgr.cli.main`) and the asyncio driver of ``asyncmsgr ceph`` run
their coroutines with :func:`run`; programs can do the same::

    from asyncmsgr.loop import run
    run(main(), config=MessengerConfig(asyncmsgr_use_uvloop=True))  # uvloop if installed

or hand :func:`loop_factory` to ``asyncio.Runner``. Within :func:`loop_policy`,
every ``asyncio.run`` / ``asyncio.new_event_loop`` of the process uses the chosen
loop (how the CLI runs a subcommand). :func:`loop_kind` names
the loop in use, for reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from functools import cache
from types import ModuleType
from typing import Any, TypeVar

from asyncmsgr.config import MessengerConfig

T = TypeVar("T")


@cache
def uvloop_module() -> ModuleType | None:
    """The ``uvloop`` module, or None when it is not installed."""
    try:
        import uvloop  # noqa: PLC0415  (optional; imported only when asked for)
    except ImportError:
        return None
    module: ModuleType = uvloop
    return module


def wants_uvloop(config: MessengerConfig | None = None) -> bool:
    """``asyncmsgr_use_uvloop`` is set and uvloop is installed."""
    use = (config or MessengerConfig()).asyncmsgr_use_uvloop
    return use and uvloop_module() is not None


def loop_factory(config: MessengerConfig | None = None
                 ) -> Callable[[], asyncio.AbstractEventLoop]:
    """A new-loop function: ``uvloop.new_event_loop`` or ``asyncio.new_event_loop``."""
    module = uvloop_module() if wants_uvloop(config) else None
    if module is not None:
        factory: Callable[[], asyncio.AbstractEventLoop] = module.new_event_loop
        return factory
    return asyncio.new_event_loop


def new_event_loop(config: MessengerConfig | None = None) -> asyncio.AbstractEventLoop:
    """A new event loop of the kind ``config`` asks for."""
    return loop_factory(config)()


def run(main: Coroutine[Any, Any, T], *, config: MessengerConfig | None = None,
        debug: bool | None = None) -> T:
    """``asyncio.run(main)`` on the loop ``config`` asks for (uvloop if installed)."""
    with asyncio.Runner(debug=debug, loop_factory=loop_factory(config)) as runner:
        return runner.run(main)


@contextmanager
def loop_policy(config: MessengerConfig | None = None) -> Iterator[str]:
    """While in the block, ``asyncio.run`` and ``asyncio.new_event_loop`` (any
    thread) create the loop ``config`` asks for; yields its kind (``uvloop`` or
    ``asyncio``). The previous policy is restored on exit."""
    module = uvloop_module() if wants_uvloop(config) else None
    if module is None:
        yield "asyncio"
        return
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(module.EventLoopPolicy())
    try:
        yield "uvloop"
    finally:
        asyncio.set_event_loop_policy(previous)


def loop_kind(loop: asyncio.AbstractEventLoop | None = None) -> str:
    """``uvloop`` or ``asyncio``: the kind of ``loop`` (default: the running one)."""
    loop = loop or asyncio.get_running_loop()
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


__all__ = [
    "loop_factory",
    "loop_kind",
    "loop_policy",
    "new_event_loop",
    "run",
    "uvloop_module",
    "wants_uvloop",
]
