"""MConfig (62): the config options a mon pushes to a daemon or client.

Front: ``map<string,string> config`` (name to value), keys sorted; a duplicate
key keeps its first value, as Ceph's denc decoder does. Trailing front bytes
are ignored, as in Ceph.
"""

from __future__ import annotations

from typing import Any, Self

from asyncmsgr.message import Message, MsgHeader, register_message
from asyncmsgr.messages._encoding import pull_string_map, push_string_map
from asyncmsgr.wire.buffer import Reader, Writer


@register_message
class MConfig(Message):
    """``MConfig``: option values from the mon's config database."""

    TYPE = 62  # MSG_CONFIG
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    config: dict[str, str]
    """Option name to value."""

    __slots__ = ("config",)

    def __init__(self, *, config: dict[str, str] | None = None, **base: Any) -> None:
        Message.__init__(self, **base)
        self.config = {} if config is None else config

    def encode_payload(self, features: int) -> None:
        """Build the front."""
        w = Writer()
        push_string_map(w, self.config)
        self.front = w.getvalue()

    @classmethod
    def decode_payload(
        cls, header: MsgHeader, front: Reader, middle: memoryview, data: memoryview
    ) -> Self:
        """Parse the front."""
        return cls(config=pull_string_map(front))


__all__ = ["MConfig"]
