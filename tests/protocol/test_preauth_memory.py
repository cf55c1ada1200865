"""Issue 14 at the protocol machines: what a server holds for a peer that has not
authenticated, and the frames it refuses before buffering them.

* A control frame whose preamble announces more than one segment faults the
  machine on the preamble alone (msgr2.1 and msgr2.0 crc before auth, secure
  after), so its body is never buffered.
* ``pre_auth_bytes`` reports, for an accepting machine whose peer has not
  authenticated, the bytes it holds plus those its current item still needs:
  the announced rest of a frame (msgr2) or of an authorizer (msgr v1), before
  they arrive. It is 0 once the peer authenticated, and for a client.
"""

from __future__ import annotations

import pytest

from asyncmsgr.frames.assembler import PREAMBLE_LEN, FrameAssembler
from asyncmsgr.frames.v2 import CON_MODE_SECURE, HelloFrame, Tag, encode_banner
from asyncmsgr.protocol import events as ev
from asyncmsgr.protocol.base import ProtocolBase
from asyncmsgr.protocol.common import State
from asyncmsgr.testing.dummy_auth import DummyAuthClient, DummyAuthServer
from asyncmsgr.testing.preauth_attack import v1_connect_prefix
from asyncmsgr.testing.v2pair import CLIENT_SOCKET_ADDR, ProtocolPair
from asyncmsgr.types import EntityAddr, EntityType

NOW = 1000.0


def _accepting(protocol: int = 2) -> ProtocolBase:
    """A lone server machine reading from a shared scratch buffer, as in the
    messenger: an incomplete item is kept in a buffer of its exact size."""
    p = ProtocolPair(protocol=protocol)
    server = p.server
    server.rx_scratch = bytearray(server.options.rx_buffer_size)
    server.start_accept(NOW, CLIENT_SOCKET_ADDR)
    server.data_to_send(NOW)  # its banner (and v1 addresses)
    return server


def _deliver(machine: ProtocolBase, data: bytes) -> None:
    """``recv_into(get_buffer())`` then ``buffer_updated``, as AsyncConnection does."""
    view = memoryview(data)
    while view.nbytes and machine.state is not State.CLOSED:
        buf = machine.get_buffer()
        n = min(len(buf), len(view))
        buf[:n] = view[:n]
        machine.buffer_updated(n, NOW)
        view = view[n:]


def _hello_and_preamble(*, rev1: bool, tag: Tag, segments: list[bytes]) -> bytes:
    """Banner (rev1 offered or not), HELLO, and only the preamble of a frame."""
    asm = FrameAssembler(rev1=rev1)
    hello = HelloFrame(entity_type=EntityType.CLIENT,
                       peer_addr=EntityAddr.from_host("127.0.0.1", 0))
    out = bytearray(encode_banner(supported=1 if rev1 else 0))
    for chunk in asm.assemble(Tag.HELLO, (hello.encode_payload(),)):
        out += chunk
    frame = b"".join(bytes(c) for c in asm.assemble(tag, segments, [8] * len(segments)))
    return bytes(out) + frame[:PREAMBLE_LEN]


def _close_reasons(machine: ProtocolBase) -> list[str]:
    return [e.reason for e in machine.take_events() if isinstance(e, ev.CloseSocket)]


@pytest.mark.parametrize("rev1", [True, False], ids=["rev1", "rev0"])
@pytest.mark.parametrize("nseg", [2, 4])
def test_multi_segment_auth_request_faults_on_its_preamble(rev1: bool, nseg: int) -> None:
    server = _accepting()
    _deliver(server, _hello_and_preamble(rev1=rev1, tag=Tag.AUTH_REQUEST,
                                         segments=[bytes(65536)] * nseg))
    assert server.state is State.CLOSED  # no byte of the 64-256 KiB body was needed
    assert server.pre_auth_bytes == 0
    assert "recv_AUTH_REQUEST" not in server.handshake_counts


def test_multi_segment_control_frame_faults_on_its_preamble_in_secure_mode() -> None:
    p = ProtocolPair(client_auth=DummyAuthClient(modes=(CON_MODE_SECURE,)),
                     server_auth=DummyAuthServer(modes=(CON_MODE_SECURE,)))
    p.handshake()
    assert p.server.auth_meta.con_mode == CON_MODE_SECURE
    asm = p.client._asm  # type: ignore[attr-defined]  # its keys and nonces
    frame = b"".join(bytes(c) for c in asm.assemble(Tag.KEEPALIVE2, [bytes(1024)] * 4,
                                                    [8] * 4))
    p.server.receive_data(frame[:asm.preamble_onwire_len], p.now)
    reasons = [e.reason for e in p.server.events_received() if isinstance(e, ev.CloseSocket)]
    assert reasons
    assert "BadFrameStructure" in reasons[0]
    assert "KEEPALIVE2 frame with 4 segments" in reasons[0]


def test_pre_auth_bytes_counts_a_frame_announced_but_not_received() -> None:
    server = _accepting()
    body = 60000  # below the large-segment threshold: not received into its own buffer
    _deliver(server, _hello_and_preamble(rev1=True, tag=Tag.AUTH_REQUEST,
                                         segments=[bytes(body)]))
    assert server.state is State.AUTH_ACCEPTING
    # the segment and its crc are wanted before any of it arrived
    assert server.pre_auth_bytes >= body + 4
    _deliver(server, bytes(30000))
    assert server.pre_auth_bytes >= body + 4


def test_pre_auth_bytes_counts_the_large_body_buffer() -> None:
    server = _accepting()
    _deliver(server, _hello_and_preamble(rev1=True, tag=Tag.AUTH_REQUEST,
                                         segments=[bytes(65536)]))
    assert server.pre_auth_bytes >= 65536 + 4


def test_v1_pre_auth_bytes_counts_the_announced_authorizer() -> None:
    server = _accepting(protocol=1)
    prefix = v1_connect_prefix(authorizer_len=4000)
    _deliver(server, prefix[:-3999])  # the connect message and 1 authorizer byte
    assert server.state is State.ACCEPTING_WAIT_CONNECT_MSG_AUTH
    assert server.pre_auth_bytes >= 4000


@pytest.mark.parametrize("protocol", [2, 1])
def test_pre_auth_bytes_is_zero_once_authenticated_and_for_a_client(protocol: int) -> None:
    p = ProtocolPair(protocol=protocol)
    p.connect()
    assert p.client.pre_auth_bytes == 0
    p.transfer()
    assert p.server.state is p.machine_class.OPEN_STATE
    assert p.server.pre_auth_bytes == 0
    assert p.client.pre_auth_bytes == 0
