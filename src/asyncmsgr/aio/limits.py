"""Which option refused a frame: a ``FrameTooLarge`` fault's text mapped to the
``asyncmsgr_max_*_segment`` option (and its value) that set the cap, so the log
line of a refused frame says what to raise."""

from __future__ import annotations

import re

from asyncmsgr.config import MessengerConfig

#: ``FrameTooLarge`` texts: msgr2 ``<TAG> segment <i> of <n> bytes exceeds cap <c>``,
#: msgr v1 ``msgr v1 <part> of <n> bytes exceeds cap <c>``.
_TOO_LARGE = re.compile(r"(?:(\w+) segment (\d)|msgr v1 (\w+)) of (\d+) bytes exceeds cap (\d+)")
_SEGMENT_OPTIONS = ("asyncmsgr_max_control_segment", "asyncmsgr_max_front_segment",
                    "asyncmsgr_max_middle_segment", "asyncmsgr_max_data_segment")


def refusing_limit(reason: str, config: MessengerConfig) -> str:
    """The option whose cap a ``FrameTooLarge`` fault ``reason`` hit, with its value
    (``asyncmsgr_max_data_segment = 67108864``)."""
    match = _TOO_LARGE.search(reason)
    if match is None:
        return "a frame size limit"
    tag, index, v1_part, _length, cap = match.groups()
    if int(cap) == config.asyncmsgr_max_preauth_segment:
        option = "asyncmsgr_max_preauth_segment"
    elif v1_part is not None:
        option = f"asyncmsgr_max_{v1_part}_segment" if v1_part in (
            "front", "middle", "data") else "asyncmsgr_max_control_segment"
    elif tag == "MESSAGE":
        option = _SEGMENT_OPTIONS[int(index)]
    else:
        option = "asyncmsgr_max_control_segment"
    return f"{option} = {cap}"


__all__ = ["refusing_limit"]
