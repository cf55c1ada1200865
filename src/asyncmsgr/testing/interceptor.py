"""Ceph's ``TestInterceptor`` for asyncmsgr messengers (``test_msgr.cc``).

Set ``messenger.interceptor = TestInterceptor()`` before connections are made.
Every connection then calls :meth:`TestInterceptor.intercept` at Ceph's numbered
steps (:class:`~asyncmsgr.protocol.common.Step`), on its worker thread:

* a step with a breakpoint pauses that connection *before* the step (nothing of
  it done, no bytes read or written, no timers) until :meth:`proceed` picks
  CONTINUE, FAIL or STOP for it;
* otherwise a decision left by :meth:`proceed` for the step is used once, and
  CONTINUE by default.

Unlike Ceph, a paused connection does not block its worker: other connections
on the same thread carry on. The step history per connection backs
:meth:`count_step`, the handshake event counts Ceph's race tests assert.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict

from asyncmsgr.protocol.common import InterceptAction, Step


class TestInterceptor:
    """Breakpoints, one-shot decisions and step history (thread-safe)."""

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.step_history: defaultdict[object, list[Step]] = defaultdict(list)
        self.current_step: dict[object, Step] = {}
        self.breakpoints: set[Step] = set()
        self.decisions: dict[Step, InterceptAction] = {}
        self._paused: dict[object, Step] = {}
        self._wakeups: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    # -- called by connections (worker threads) --------------------------------------

    def intercept(self, conn: object, step: Step) -> InterceptAction:
        """Record ``step`` for ``conn``; PAUSE at a breakpoint, else the decision."""
        with self._lock:
            self.step_history[conn].append(step)
            self.current_step[conn] = step
            if step in self.breakpoints:
                self._paused[conn] = step
                action = InterceptAction.PAUSE
            else:
                action = self.decisions.pop(step, InterceptAction.CONTINUE)
            wakeups = list(self._wakeups)
        for loop, event in wakeups:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)
        return action

    # -- test side -------------------------------------------------------------------

    def breakpoint(self, step: Step) -> None:
        """Pause every connection reaching ``step`` from now on."""
        with self._lock:
            self.breakpoints.add(step)

    def remove_bp(self, step: Step) -> None:
        """No new pauses at ``step`` (paused connections stay paused)."""
        with self._lock:
            self.breakpoints.discard(step)

    async def wait(self, step: Step, conn: object | None = None,
                   timeout: float = 5.0) -> object:
        """Wait until ``conn`` (or any connection) is at ``step``; return it."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        entry = (loop, event)
        with self._lock:
            self._wakeups.append(entry)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event.clear()
                    with self._lock:
                        found = self._at(step, conn)
                    if found is not None:
                        return found
                    await event.wait()
        except TimeoutError:
            raise TimeoutError(f"no connection reached step {step.name} "
                               f"within {timeout} s") from None
        finally:
            with self._lock:
                self._wakeups.remove(entry)

    def _at(self, step: Step, conn: object | None) -> object | None:
        if conn is not None:
            return conn if self.current_step.get(conn) is step else None
        for c, s in self.current_step.items():
            if s is step:
                return c
        return None

    def proceed(self, step: Step, action: InterceptAction) -> None:
        """Resume the connections paused at ``step`` with ``action``; with none
        paused there, ``action`` is used by the next connection reaching it."""
        with self._lock:
            paused = [c for c, s in self._paused.items() if s is step]
            for c in paused:
                del self._paused[c]
            if not paused:
                self.decisions[step] = action
        for c in paused:
            release = getattr(c, "release", None)
            if release is None:
                raise TypeError(f"{c!r} cannot be released from a pause")
            release(action)

    def count_step(self, conn: object, step: Step) -> int:
        """How many times ``conn`` reached ``step``."""
        with self._lock:
            return self.step_history[conn].count(step)

    def paused(self) -> dict[object, Step]:
        """The connections currently held at a breakpoint."""
        with self._lock:
            return dict(self._paused)


__all__ = ["TestInterceptor"]
