"""Offline decoder of Ceph messenger traffic (behind ``asyncmsgr decode``).

For each reassembled TCP connection the protocol is detected from its banners
(msgr2 ``ceph v2\\n`` or msgr v1 ``ceph v027``), then every frame (v2) or
handshake step and item (v1) is decoded and every integrity check the bytes
allow is verified: msgr2 preamble and segment crcs, msgr v1 header and footer
crcs, and the decoding of every message whose type has a class. Messages of
unknown types are counted by name, not failed. A secure-mode connection is
decoded up to the point where encryption starts and then reported as such;
without keys that is not a failure. With entity keys (a :class:`KeySet`) the
cephx exchange, AUTH_SIGNATUREs, GCM tags and msgr v1 message signatures are
checked too and secure connections are decrypted (see
:mod:`asyncmsgr.tools.keyed`).

Results are :class:`Record` lines plus a :class:`DecodeReport` summary. Checks
that fail and streams that cannot be parsed are listed in ``errors``.
"""

from __future__ import annotations

import hmac
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from asyncmsgr.errors import (
    AsyncmsgrError,
    BadMessageCrc,
    MessageDecodeError,
    RemoteProtocolError,
    UnknownMessageType,
)
from asyncmsgr.features import CEPH_FEATURE_MSG_AUTH, CEPH_MSGR2_FEATURE_REVISION_1
from asyncmsgr.frames import v1
from asyncmsgr.frames.assembler import (
    FrameAssembler,
    FrameLimits,
    FrameReader,
    RawFrame,
)
from asyncmsgr.frames.v2 import (
    BANNER_PREFIX,
    CON_MODE_SECURE,
    AuthDoneFrame,
    AuthReplyMoreFrame,
    AuthRequestFrame,
    AuthRequestMoreFrame,
    AuthSignatureFrame,
    ClientIdentFrame,
    Frame,
    HelloFrame,
    MessageFrame,
    ServerIdentFrame,
    Tag,
    decode_banner_payload,
    decode_banner_prefix,
    decode_frame,
    tag_name,
)
from asyncmsgr.message import (
    CrcFlags,
    FooterFlags,
    Message,
    MsgHeader,
    check_footer_crcs,
    decode_message,
)
from asyncmsgr.message_types import message_type_name
from asyncmsgr.messages.auth import MAuth, MAuthReply
from asyncmsgr.tools.keyed import (
    AUTH_CEPHX,
    CephxTrace,
    Check,
    KeySet,
    SecureFrameError,
    SecureReader,
    summarize,
    v1_signature,
)
from asyncmsgr.tools.pcap import CaptureError, HalfStream, TcpConnection, reassemble
from asyncmsgr.types import Buffer, EntityName, entity_type_str
from asyncmsgr.wire.buffer import Reader
from asyncmsgr.wire.codecs import pull_auth_name

_AUTH_REPLIES = (Tag.AUTH_BAD_METHOD, Tag.AUTH_REPLY_MORE, Tag.AUTH_DONE)
#: Generous caps: the tool reads captures, not an adversary on a socket.
_TOOL_LIMITS = FrameLimits(control=64 << 20, front=256 << 20, middle=256 << 20,
                           data=1 << 30)


@dataclass(frozen=True, slots=True)
class Record:
    """One output line: a frame, a v1 item or handshake step, or a note."""

    conn: int
    ts: float
    direction: str
    """``C`` (client to server), ``S`` (server to client) or ``-``."""
    protocol: str
    name: str
    length: int
    detail: str = ""
    passed: int = 0
    failed: int = 0


@dataclass(slots=True)
class DecodeReport:
    """Totals over a capture; ``as_json()`` is what ``--json`` prints."""

    connections: int = 0
    frames: int = 0
    messages: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    passed: int = 0
    failed: int = 0
    secure_without_keys: int = 0
    decrypted: int = 0
    keyed: Counter[str] = field(default_factory=Counter)
    """``gcm_ok``, ``gcm_failed``, ``sig_ok``, ``sig_failed``, ``cephx_ok``, ..."""
    errors: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    decoded: list[tuple[int, str, Message]] | None = None
    """(connection, direction, message) of every typed message, in decoding
    order, when :func:`decode_capture` was asked to keep them."""

    @property
    def ok(self) -> bool:
        """No failed check and every stream parsed."""
        return self.failed == 0 and not self.errors

    def as_json(self) -> dict[str, object]:
        """The summary object printed by ``asyncmsgr decode --json``."""
        return {
            "connections": self.connections,
            "frames": self.frames,
            "messages": self.messages,
            "by_type": dict(sorted(self.by_type.items())),
            "checks": {"passed": self.passed, "failed": self.failed},
            "secure_without_keys": self.secure_without_keys,
            "decrypted_connections": self.decrypted,
            **{kind: {"ok": self.keyed[f"{kind}_ok"], "failed": self.keyed[f"{kind}_failed"]}
               for kind in ("gcm", "sig", "cephx")},
            "errors": list(self.errors),
        }


class _Conn:
    """Per-connection decoding context."""

    def __init__(self, report: DecodeReport, conn: TcpConnection,
                 keys: KeySet | None = None) -> None:
        self.report = report
        self.conn = conn
        self.keys = keys
        self.trace = CephxTrace(keys) if keys is not None else None
        self.peer_name = {"C": EntityName(0, -1), "S": EntityName(0, -1)}
        self.v1_auth: list[tuple[float, int, Message]] = []

    def record(self, half: HalfStream, end: int, direction: str, protocol: str, name: str,
               length: int, detail: str = "", passed: int = 0, failed: int = 0) -> int:
        """Append a record; returns its index (for :meth:`add_checks`)."""
        self.report.passed += passed
        self.report.failed += failed
        self.report.records.append(Record(self.conn.index, half.time_at(end), direction,
                                          protocol, name, length, detail, passed, failed))
        return len(self.report.records) - 1

    def add_checks(self, index: int, checks: Sequence[Check]) -> None:
        """Attach keyed checks to a record and count them."""
        if not checks:
            return
        rec = self.report.records[index]
        ok = sum(c.ok for c in checks)
        bad = len(checks) - ok
        for c in checks:
            self.report.keyed[f"{c.kind}_{'ok' if c.ok else 'failed'}"] += 1
            if not c.ok:
                self.report.errors.append(f"connection {self.conn.index} ({self.conn.label()})"
                                          f" {rec.direction} {rec.name}: {c.label()}")
        self.report.passed += ok
        self.report.failed += bad
        self.report.records[index] = replace(rec, detail=rec.detail + summarize(checks),
                                             passed=rec.passed + ok, failed=rec.failed + bad)

    def error(self, half: HalfStream, end: int, direction: str, protocol: str,
              text: str, *, failed_check: bool = False) -> None:
        msg = f"connection {self.conn.index} ({self.conn.label()}) {direction}: {text}"
        self.report.errors.append(msg)
        self.record(half, end, direction, protocol, "ERROR", 0, text,
                    failed=1 if failed_check else 0)

    def message(self, header: MsgHeader, front: Buffer, middle: Buffer,
                data: Buffer, direction: str = "-") -> tuple[str, int, int]:
        """Decode a message; return (detail, passed, failed) and count it."""
        name = message_type_name(header.type)
        self.report.messages += 1
        self.report.by_type[name] += 1
        detail = (f"{name} seq={header.seq} tid={header.tid} prio={header.priority} "
                  f"v{header.version} front={len(front)} middle={len(middle)} "
                  f"data={len(data)}")
        try:
            msg = decode_message(header, front, middle, data)
        except UnknownMessageType:
            return detail, 0, 0
        except MessageDecodeError as exc:
            return f"{detail} DECODE FAILED: {exc}", 0, 1
        if self.report.decoded is not None:
            self.report.decoded.append((self.conn.index, direction, msg))
        return f"{detail} {_summary(msg)}".rstrip(), 1, 0


def _summary(msg: Message) -> str:
    describe = getattr(msg, "describe", None)
    if callable(describe):  # messages that print as Ceph's log does
        return str(describe())
    base = set(Message._fields)
    parts = []
    for name in type(msg)._fields:
        if name in base:
            continue
        value = getattr(msg, name)
        text = value.hex() if isinstance(value, bytes | bytearray) else repr(value)
        if len(text) > 80:
            text = text[:77] + "..."
        parts.append(f"{name}={text}")
    return " ".join(parts)


# -- msgr2 -----------------------------------------------------------------------------


def _frame_checks(asm: FrameAssembler, frame: RawFrame) -> int:
    """How many crcs the assembler verified for this frame (crc mode)."""
    n = frame.preamble.num_segments
    if asm.rev1:
        return 1 + (1 if frame.preamble.lengths[0] else 0) + (n - 1)
    return 1 + n


def _decode_v2(ctx: _Conn) -> None:
    conn = ctx.conn
    halves = {"C": conn.c2s, "S": conn.s2c}
    banners: dict[str, tuple[int, int]] = {}
    offsets: dict[str, int] = {}
    for d, half in halves.items():
        data = half.data
        if not data:
            continue
        try:
            plen = decode_banner_prefix(data)
            if len(data) < 10 + plen:
                ctx.error(half, len(data), d, "v2", "banner truncated")
                continue
            banners[d] = decode_banner_payload(memoryview(data)[10 : 10 + plen])
        except RemoteProtocolError as exc:
            ctx.error(half, len(data), d, "v2", f"bad banner: {exc}", failed_check=True)
            continue
        offsets[d] = 10 + plen
        sup, req = banners[d]
        ctx.record(half, 10 + plen, d, "v2", "BANNER", 10 + plen,
                   f"supported={sup:#x} required={req:#x}")
    if len(banners) < 2:
        return
    rev1 = bool(banners["C"][0] & banners["S"][0] & CEPH_MSGR2_FEATURE_REVISION_1)
    readers: dict[str, tuple[FrameAssembler, FrameReader]] = {}
    for d, half in halves.items():
        asm = FrameAssembler(rev1=rev1, limits=_TOOL_LIMITS)
        rd = FrameReader(asm)
        rd.feed(memoryview(half.data)[offsets[d]:])
        readers[d] = (asm, rd)
    # Server side up to AUTH_DONE; each auth reply answers one client request.
    auth_done: AuthDoneFrame | None = None
    replies = 0
    s_ok = _v2_frames(ctx, "S", halves, readers, offsets, stop_after=Tag.AUTH_DONE)
    for frame, _ in s_ok:
        if isinstance(frame, AuthDoneFrame):
            auth_done = frame
        if frame.TAG in _AUTH_REPLIES:
            replies += 1
    # The client's clear frames: HELLO and one auth request per server reply; with
    # no AUTH_DONE yet (an unfinished handshake) one request may be unanswered.
    c_ok = _v2_frames(ctx, "C", halves, readers, offsets,
                      limit=1 + replies if auth_done is not None else 2 + replies)
    if auth_done is None:
        return
    hook: _Hook | None = None
    if ctx.trace is not None:
        _trace_v2_auth(ctx, c_ok, s_ok)
        hook = _signature_hook(ctx, bytes(conn.c2s.data[: offsets.get("C", 0)]),
                               bytes(conn.s2c.data[: offsets.get("S", 0)]))
    if auth_done.con_mode == CON_MODE_SECURE:
        secret = ctx.trace.connection_secret if ctx.trace is not None else None
        half = halves["S"]
        if secret is None or len(secret) < 40 or not rev1:
            missing = ctx.trace.missing if ctx.trace is not None else None
            if ctx.keys is None or missing:
                ctx.report.secure_without_keys += 1
            why = "no keys given" if ctx.keys is None else (
                f"no key for {missing}" if missing
                else "connection secret not derived" if rev1 else "msgr2.0 secure mode")
            for d in ("S", "C"):
                sealed = len(halves[d].data) - offsets[d] if d in readers else 0
                if sealed > 0:  # frame bounds are inside the encrypted preambles
                    ctx.record(halves[d], len(halves[d].data), d, "v2", "SECURE", sealed,
                               f"{sealed} bytes of msgr2 secure-mode frames not "
                               f"decrypted ({why})")
            if not any(r.name == "SECURE" and r.conn == conn.index
                       for r in ctx.report.records):
                ctx.record(half, len(half.data), "-", "v2", "SECURE", 0,
                           f"msgr2 secure mode from here on; {why}, no frames after it")
            return
        ctx.report.decrypted += 1
        for d, nonce in (("S", secret[16:28]), ("C", secret[28:40])):
            if d in readers:
                _v2_secure(ctx, d, halves[d], offsets[d],
                           SecureReader(secret[:16], nonce,
                                        bytes(halves[d].data[offsets[d]:])), hook)
        return
    _v2_frames(ctx, "S", halves, readers, offsets, hook=hook)
    _v2_frames(ctx, "C", halves, readers, offsets, hook=hook)


_Hook = Callable[[str, Frame], list[Check]]


def _trace_v2_auth(ctx: _Conn, c_ok: list[tuple[Frame, int]],
                   s_ok: list[tuple[Frame, int]]) -> None:
    """Feed the clear auth frames, in protocol order, to the cephx trace."""
    trace = ctx.trace
    assert trace is not None
    requests = [(f, i) for f, i in c_ok if isinstance(f, AuthRequestFrame | AuthRequestMoreFrame)]
    answers = [(f, i) for f, i in s_ok if f.TAG in _AUTH_REPLIES]
    for n, (req, ri) in enumerate(requests):
        if isinstance(req, AuthRequestFrame):
            ctx.add_checks(ri, trace.start(req.method, req.auth_payload))
        elif isinstance(req, AuthRequestMoreFrame):
            ctx.add_checks(ri, trace.more(req.auth_payload))
        if n < len(answers):
            ans, ai = answers[n]
            if isinstance(ans, AuthReplyMoreFrame):
                ctx.add_checks(ai, trace.reply_more(ans.auth_payload))
            elif isinstance(ans, AuthDoneFrame):
                ctx.add_checks(ai, trace.done(ans.auth_payload))


def _signature_hook(ctx: _Conn, c2s_pre: bytes, s2c_pre: bytes) -> _Hook:
    """Checks an AUTH_SIGNATURE frame against the pre-auth bytes its sender received."""
    trace = ctx.trace
    assert trace is not None

    def hook(d: str, frame: Frame) -> list[Check]:
        if not isinstance(frame, AuthSignatureFrame):
            return []
        want = trace.expected_signature(s2c_pre if d == "C" else c2s_pre)
        if want is None:
            return []
        who = "client" if d == "C" else "server"
        return [Check("sig", hmac.compare_digest(want, bytes(frame.signature)),
                      f"{who} AUTH_SIGNATURE")]

    return hook


def _v2_frames(ctx: _Conn, d: str, halves: dict[str, HalfStream],
               readers: dict[str, tuple[FrameAssembler, FrameReader]],
               offsets: dict[str, int], *, stop_after: Tag | None = None,
               limit: int | None = None,
               hook: _Hook | None = None) -> list[tuple[Frame, int]]:
    out: list[tuple[Frame, int]] = []
    if d not in readers:
        return out  # this direction already failed
    asm, rd = readers[d]
    half = halves[d]
    while limit is None or len(out) < limit:
        try:
            raw = rd.next_frame()
        except AsyncmsgrError as exc:
            ctx.error(half, offsets[d], d, "v2", f"bad frame at byte {offsets[d]}: {exc}",
                      failed_check=True)
            del readers[d]  # cannot resynchronise after a framing error
            return out
        if raw is None:
            if rd.buffered:
                ctx.record(half, len(half.data), d, "v2", "TRUNCATED", rd.buffered,
                           "stream ends inside a frame (capture stopped?)")
            return out
        offsets[d] += len(raw.raw)
        got = _v2_frame(ctx, d, half, offsets[d], raw.tag, raw.segments, len(raw.raw),
                        _frame_checks(asm, raw), hook)
        if got is not None:
            out.append(got)
        if stop_after is not None and raw.tag == stop_after:
            break
    return out


def _v2_secure(ctx: _Conn, d: str, half: HalfStream, offset: int, rd: SecureReader,
               hook: _Hook | None) -> None:
    """Decrypt and decode one direction after AUTH_DONE, checking every GCM tag."""
    while True:
        try:
            sf = rd.next_frame()
        except SecureFrameError as exc:
            ctx.error(half, offset + rd.pos, d, "v2",
                      f"bad secure frame at byte {offset + rd.pos}: {exc}", failed_check=True)
            return
        if sf is None:
            if rd.remaining:
                ctx.record(half, len(half.data), d, "v2", "TRUNCATED", rd.remaining,
                           "stream ends inside a frame (capture stopped?)")
            return
        end = offset + rd.pos
        got = _v2_frame(ctx, d, half, end, sf.tag, sf.segments, sf.wire_len, 1, hook)
        index = got[1] if got is not None else len(ctx.report.records) - 1
        n = len(sf.gcm)
        ctx.add_checks(index, [Check("gcm", ok, f"GCM tag {i + 1}/{n}")
                               for i, ok in enumerate(sf.gcm)])


def _v2_frame(ctx: _Conn, d: str, half: HalfStream, end: int, tag: int,
              segments: Sequence[Buffer] | None, wire_len: int, checks: int,
              hook: _Hook | None) -> tuple[Frame, int] | None:
    """Record one verified frame; returns the decoded frame and its record index."""
    ctx.report.frames += 1
    name = tag_name(tag)
    if segments is None:
        ctx.record(half, end, d, "v2", name, wire_len, "aborted by sender", passed=checks)
        return None
    try:
        frame = decode_frame(tag, segments)
    except RemoteProtocolError as exc:
        ctx.record(half, end, d, "v2", name, wire_len, f"payload decode failed: {exc}",
                   passed=checks, failed=1)
        ctx.report.errors.append(f"connection {ctx.conn.index} {d}: {name}: {exc}")
        return None
    if isinstance(frame, MessageFrame):
        h = frame.header
        header = h.to_legacy(ctx.peer_name[d], len(frame.front), len(frame.middle),
                             len(frame.data))
        detail, ok, bad = ctx.message(header, frame.front, frame.middle, frame.data, d)
        index = ctx.record(half, end, d, "v2", name, wire_len,
                           f"{detail} ack_seq={h.ack_seq}", passed=checks + ok, failed=bad)
        if bad:
            ctx.report.errors.append(f"connection {ctx.conn.index} {d}: {detail}")
    else:
        _learn_peer(ctx, d, frame)
        index = ctx.record(half, end, d, "v2", name, wire_len, _frame_detail(frame),
                           passed=checks)
    if hook is not None:
        ctx.add_checks(index, hook(d, frame))
    return frame, index


def _learn_peer(ctx: _Conn, d: str, frame: object) -> None:
    if isinstance(frame, HelloFrame):
        ctx.peer_name[d] = EntityName(frame.entity_type, ctx.peer_name[d].num)
    elif isinstance(frame, ClientIdentFrame | ServerIdentFrame):
        ctx.peer_name[d] = EntityName(ctx.peer_name[d].type, frame.gid)


def _frame_detail(frame: object) -> str:
    fields = getattr(frame, "_fields", ())
    parts = []
    for name in fields:
        value = getattr(frame, name)
        if isinstance(value, bytes):
            text = value.hex()
        elif name == "entity_type":
            text = entity_type_str(value)
        elif isinstance(value, int) and "features" in name:
            text = f"{value:#x}"
        else:
            text = str(value)
        if len(text) > 96:
            text = text[:93] + "..."
        parts.append(f"{name}={text}")
    return " ".join(parts)


# -- msgr v1 ---------------------------------------------------------------------------


def _decode_v1(ctx: _Conn) -> None:
    conn = ctx.conn
    c, s = conn.c2s, conn.s2c
    cd, sd = c.data, s.data
    if len(sd) < v1.SERVER_HELLO_LEN or len(cd) < v1.BANNER_LEN + 136:
        ctx.error(s, len(sd), "-", "v1", "handshake truncated")
        return
    try:
        v1.check_banner(cd)
        server_addr, seen = v1.decode_server_hello(sd)
        client_addr = v1.decode_legacy_addr(memoryview(cd)[v1.BANNER_LEN:])
    except RemoteProtocolError as exc:
        ctx.error(s, len(sd), "-", "v1", f"bad handshake: {exc}", failed_check=True)
        return
    ctx.record(s, v1.SERVER_HELLO_LEN, "S", "v1", "BANNER", v1.SERVER_HELLO_LEN,
               f"server={server_addr} sees_client_as={seen}")
    cpos = v1.BANNER_LEN + 136
    spos = v1.SERVER_HELLO_LEN
    ctx.record(c, cpos, "C", "v1", "BANNER", cpos, f"client={client_addr}")
    features = 0
    ready = False
    challenged = False
    while cpos + v1.CONNECT_LEN <= len(cd):
        connect = v1.ConnectMsg.decode(memoryview(cd)[cpos:])
        clen = v1.CONNECT_LEN + connect.authorizer_len
        if cpos + clen > len(cd):
            break
        cpos += clen
        ci = ctx.record(c, cpos, "C", "v1", "CONNECT", clen,
                   f"features={connect.features:#x} host_type="
                   f"{entity_type_str(connect.host_type)} global_seq={connect.global_seq} "
                   f"connect_seq={connect.connect_seq} proto={connect.protocol_version} "
                   f"auth_proto={connect.authorizer_protocol} "
                   f"authorizer={connect.authorizer_len}B flags={connect.flags}")
        if spos + v1.CONNECT_REPLY_LEN > len(sd):
            break
        reply = v1.ConnectReply.decode(memoryview(sd)[spos:])
        rlen = v1.CONNECT_REPLY_LEN + reply.authorizer_len
        if spos + rlen > len(sd):
            break
        spos += rlen
        ri = ctx.record(s, spos, "S", "v1", f"REPLY_{v1.v1_tag_name(reply.tag)}", rlen,
                        f"features={reply.features:#x} global_seq={reply.global_seq} "
                        f"connect_seq={reply.connect_seq} proto={reply.protocol_version} "
                        f"authorizer={reply.authorizer_len}B flags={reply.flags}")
        if ctx.trace is not None:
            _trace_v1_connect(ctx, ci, bytes(cd[cpos - connect.authorizer_len : cpos]),
                              connect.authorizer_protocol, challenged, ri, reply,
                              bytes(sd[spos - reply.authorizer_len : spos]))
        challenged = reply.tag == v1.V1Tag.CHALLENGE_AUTHORIZER
        if reply.tag == v1.V1Tag.SEQ:
            if spos + 8 > len(sd) or cpos + 8 > len(cd):
                break
            acked = v1.decode_seq(memoryview(sd)[spos:])
            in_seq = v1.decode_seq(memoryview(cd)[cpos:])
            spos += 8
            cpos += 8
            ctx.record(s, spos, "S", "v1", "SEQ", 8, f"acked_seq={acked}")
            ctx.record(c, cpos, "C", "v1", "SEQ", 8, f"in_seq={in_seq}")
        if reply.tag in (v1.V1Tag.READY, v1.V1Tag.SEQ):
            features = connect.features & reply.features
            ready = True
            break
    if not ready:
        return
    old = not features & CEPH_FEATURE_MSG_AUTH
    for d, half, pos in (("S", s, spos), ("C", c, cpos)):
        _v1_items(ctx, d, half, pos, old)
    if ctx.trace is not None:
        _trace_v1_mauth(ctx)


def _trace_v1_connect(ctx: _Conn, ci: int, authorizer: bytes, protocol: int,
                      challenged: bool, ri: int, reply: v1.ConnectReply,
                      reply_auth: bytes) -> None:
    trace = ctx.trace
    assert trace is not None
    if authorizer:
        if challenged:
            ctx.add_checks(ci, trace.more(authorizer))
        else:
            ctx.add_checks(ci, trace.start(protocol, authorizer))
    if not reply_auth:
        return
    if reply.tag == v1.V1Tag.CHALLENGE_AUTHORIZER:
        ctx.add_checks(ri, trace.reply_more(reply_auth))
    elif reply.tag in (v1.V1Tag.READY, v1.V1Tag.SEQ):
        ctx.add_checks(ri, trace.done(reply_auth))


def _trace_v1_mauth(ctx: _Conn) -> None:
    """Follow cephx through MAuth/MAuthReply messages, in capture order."""
    trace = ctx.trace
    assert trace is not None
    for _ts, index, msg in sorted(ctx.v1_auth, key=lambda t: (t[0], t[1])):
        if isinstance(msg, MAuth):
            if msg.protocol == 0:
                try:
                    r = Reader(msg.auth_payload)
                    r.pull_u8()
                    r.pull_list(lambda x: x.pull_u32(), 4)
                    trace.start_mon(str(pull_auth_name(r)))
                except AsyncmsgrError as exc:
                    ctx.add_checks(index, [Check("cephx", False, f"MAuth undecodable ({exc})")])
            elif msg.protocol == AUTH_CEPHX:
                ctx.add_checks(index, trace.more(msg.auth_payload))
        elif isinstance(msg, MAuthReply) and msg.protocol == AUTH_CEPHX and msg.result == 0:
            if trace.server_challenge is None:
                ctx.add_checks(index, trace.reply_more(msg.result_bl))
            else:
                ctx.add_checks(index, trace.done(msg.result_bl))


def _v1_items(ctx: _Conn, d: str, half: HalfStream, pos: int, old_footer: bool) -> None:
    reader = v1.V1ItemReader(old_footer=old_footer, limits=_TOOL_LIMITS)
    reader.feed(memoryview(half.data)[pos:])
    while True:
        try:
            item = reader.next_item()
        except BadMessageCrc as exc:
            ctx.error(half, pos, d, "v1", f"bad message header at byte {pos}: {exc}",
                      failed_check=True)
            return
        except RemoteProtocolError as exc:
            ctx.error(half, pos, d, "v1", f"bad item at byte {pos}: {exc}",
                      failed_check=True)
            return
        if item is None:
            if reader.buffered:
                ctx.record(half, len(half.data), d, "v1", "TRUNCATED", reader.buffered,
                           "stream ends inside an item (capture stopped?)")
            return
        length = len(reader.last_raw)
        pos += length
        if not isinstance(item, v1.MsgItem):
            detail = "" if isinstance(item, v1.KeepaliveItem | v1.CloseItem) else str(
                getattr(item, "seq", getattr(item, "timestamp", "")))
            ctx.record(half, pos, d, "v1", type(item).__name__.removesuffix("Item").upper(),
                       length, detail)
            continue
        _v1_message(ctx, d, half, pos, length, item)


def _v1_message(ctx: _Conn, d: str, half: HalfStream, pos: int, length: int,
                item: v1.MsgItem) -> None:
    footer = item.footer
    checks = 1 + 2 + (0 if footer.flags & FooterFlags.NOCRC else 1)  # header, f, m, d
    try:
        check_footer_crcs(footer, item.front, item.middle, item.data, CrcFlags.ALL)
    except BadMessageCrc as exc:
        ctx.report.messages += 1
        ctx.error(half, pos, d, "v1", f"{message_type_name(item.header.type)}: {exc}",
                  failed_check=True)
        return
    detail, ok, bad = ctx.message(item.header, item.front, item.middle, item.data, d)
    sig = " signed" if footer.flags & FooterFlags.SIGNED else ""
    index = ctx.record(half, pos, d, "v1", "MSG", length, f"{detail}{sig}",
                       passed=checks + ok, failed=bad)
    trace = ctx.trace
    if trace is not None:
        skey = trace.session_key if trace.flow == "authorizer" else None
        if sig and skey is not None:
            good = v1_signature(skey, item.header, footer) == footer.sig
            ctx.add_checks(index, [Check("sig", good, "message signature")])
        if item.header.type in (MAuth.TYPE, MAuthReply.TYPE):
            try:
                msg = decode_message(item.header, item.front, item.middle, item.data)
            except AsyncmsgrError:
                pass
            else:
                ctx.v1_auth.append((half.time_at(pos), index, msg))
    if bad:
        ctx.report.errors.append(f"connection {ctx.conn.index} {d}: {detail}")


# -- entry point -----------------------------------------------------------------------


#: Largest capture a gzip file may expand to.
MAX_GUNZIPPED = 1 << 30


def gunzip_capture(data: bytes) -> bytes:
    """``data`` itself, or its gzip-decompressed content (``.pcap.gz``).

    Raises CaptureError for a corrupt or truncated gzip stream or one that would
    expand beyond :data:`MAX_GUNZIPPED`.
    """
    if data[:2] != b"\x1f\x8b":
        return data
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, MAX_GUNZIPPED)
    except zlib.error as exc:
        raise CaptureError(f"bad gzip capture: {exc}") from None
    if inflater.unconsumed_tail:
        raise CaptureError(f"gzip capture expands beyond {MAX_GUNZIPPED} bytes")
    if not inflater.eof:
        raise CaptureError("truncated gzip capture")
    return out


def decode_capture(data: bytes, keys: KeySet | None = None, *,
                   keep_messages: bool = False) -> DecodeReport:
    """Decode every Ceph connection in a pcap/pcapng capture (gzipped or not).

    With ``keys`` the cephx exchanges, signatures and GCM tags are checked too
    and secure connections are decrypted; with ``keep_messages`` the decoded
    messages are kept in ``report.decoded``. Raises CaptureError when the file
    is not a capture.
    """
    data = gunzip_capture(data)
    report = DecodeReport(decoded=[] if keep_messages else None)
    keys = keys.fresh() if keys is not None else None
    problems: list[str] = []
    for conn in reassemble(data, problems):
        report.connections += 1
        ctx = _Conn(report, conn, keys)
        first = bytes(conn.c2s.data[:9] or conn.s2c.data[:9])
        for half, d in ((conn.c2s, "C"), (conn.s2c, "S")):
            if half.has_gap:
                ctx.error(half, len(half.data), d, "-",
                          f"missing TCP data after byte {len(half.data)}; stream cut short")
        if not first:
            continue
        if first.startswith(BANNER_PREFIX[: len(first)]) and first[:8] == BANNER_PREFIX:
            _decode_v2(ctx)
        elif first == v1.BANNER:
            _decode_v1(ctx)
        else:
            ctx.error(conn.c2s, 0, "-", "?", f"not Ceph messenger traffic: {first!r}")
    report.errors.extend(f"capture: {p}" for p in problems)
    report.records.sort(key=lambda r: (r.ts, r.conn))
    return report


__all__ = ["MAX_GUNZIPPED", "DecodeReport", "Record", "decode_capture", "gunzip_capture"]
