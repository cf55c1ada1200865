"""cephx against real Pacific traffic (tests/data/captures, wire-protocol.md §5.5, §6).

The captures use fixed test keys, so every proof and ciphertext can be
recomputed. The replay tests drive a real ProtocolV2 client with the server's
captured bytes and a fixed rng, and compare what it sends with the capture.
"""

from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import asyncmsgr.messages as msgs
from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer, ModeOptions
from asyncmsgr.auth.cephx import CephxAuthServer, CephxClient, CryptoKey, KeyServer
from asyncmsgr.auth.cephx.crypto import challenge_key, dec_bl, decode_decrypt, encode_encrypt
from asyncmsgr.auth.cephx.tickets import Ticket, decode_ticket_reply
from asyncmsgr.auth.cephx.types import (
    SECRET_ID_ENTITY_KEY,
    CephXAuthenticate,
    CephXAuthorize,
    CephXAuthorizeChallenge,
    CephXAuthorizer,
    CephXAuthorizeReply,
    CephXRequestHeader,
    CephXResponseHeader,
    CephXServiceTicketInfo,
    CephXTicketBlob,
)
from asyncmsgr.errors import AuthFailed, CephxDecryptError, RemoteProtocolError
from asyncmsgr.frames.assembler import FrameAssembler, FrameReader
from asyncmsgr.frames.v2 import (
    CON_MODE_CRC,
    CON_MODE_SECURE,
    AuthDoneFrame,
    AuthReplyMoreFrame,
    AuthRequestMoreFrame,
    decode_banner_prefix,
    decode_frame,
)
from asyncmsgr.message import MSG_FOOTER_LEN, MSG_HEADER_LEN, MsgFooter, MsgHeader, decode_message
from asyncmsgr.policy import Policy
from asyncmsgr.protocol.common import ProtocolOptions, State
from asyncmsgr.protocol.v2 import ProtocolV2
from asyncmsgr.testing.v2pair import FakeRegistry
from asyncmsgr.tools.pcap import reassemble
from asyncmsgr.types import AddrType, AuthName, EntityAddr, EntityAddrVec, EntityName, EntityType
from asyncmsgr.wire.buffer import Reader

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"
ADMIN = AuthName(EntityType.CLIENT, "admin")
MON_NAME = AuthName(EntityType.MON, "")


@cache
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CAPTURES / "vectors.json").read_text())
    return data


def admin_key() -> CryptoKey:
    return CryptoKey.from_base64(vectors()["keys"]["client_admin"])


def mon_key() -> CryptoKey:
    return CryptoKey.from_base64(vectors()["keys"]["mon"])


def frame_payload(vec: str, tag_name: str, index: int = 0) -> dict[str, Any]:
    frames = [f for f in vectors()[vec]["frames"] if f["tag_name"] == tag_name]
    frame: dict[str, Any] = frames[index]
    return frame


class FixedRng(random.Random):
    """getrandbits / randbytes from a script (then from a seeded generator)."""

    def __init__(self, *values: int) -> None:
        super().__init__(7)
        self.values = list(values)

    def getrandbits(self, k: int) -> int:
        if self.values:
            return self.values.pop(0)
        return super().getrandbits(k)


# -- primitives ---------------------------------------------------------------------


def test_keys_decode_to_documented_secrets() -> None:
    v = vectors()["keys"]
    assert admin_key().secret.hex() == v["client_admin_secret_hex"]
    assert mon_key().secret.hex() == v["mon_secret_hex"]
    assert admin_key().to_base64() == v["client_admin"]


def test_challenge_key_vector() -> None:
    # wire-protocol.md §6.3: encode_encrypt bytes, then the XOR of its words
    blob = encode_encrypt(admin_key(), bytes.fromhex("9df01e53f0f5267cd7ee1a2c62f82c36"))
    assert blob.hex() == ("20000000" "53086085eb938eed" "f3b1ebabe291148c"
                          "9762379c9488fa48" "958a76f38413655b")
    assert challenge_key(admin_key(), 0x7C26F5F0531EF09D, 0x362CF8622C1AEED7) == \
        0x41CA51A229608ABD
    for vec in ("msgr2_crc_mon_cephx", "msgr2_secure_mon_cephx"):
        ch = vectors()[vec]["auth"]["challenge"]
        assert challenge_key(admin_key(), int(ch["server_challenge"], 16),
                             int(ch["client_challenge"], 16)) == int(ch["key"], 16)


def test_captured_authenticate_request_decodes() -> None:
    payload = bytes.fromhex(frame_payload("msgr2_crc_mon_cephx", "AUTH_REQUEST_MORE")
                            ["decoded"]["auth_payload"])
    r = Reader(payload)
    assert CephXRequestHeader.decode(r).request_type == 0x0100
    req = CephXAuthenticate.decode(r)
    assert r.at_end()
    assert (req.struct_v, req.client_challenge, req.key) == (
        3, 0x362CF8622C1AEED7, 0x41CA51A229608ABD)
    assert req.old_ticket == CephXTicketBlob()
    assert req.other_keys == 0x20
    assert req.to_bytes() == payload[2:]


def _decode_auth_done(vec: str) -> tuple[list[Ticket], bytes, bytes]:
    payload = bytes.fromhex(frame_payload(vec, "AUTH_DONE")["decoded"]["auth_payload"])
    r = Reader(payload)
    assert CephXResponseHeader.decode(r) == CephXResponseHeader(0x0100, 0)
    tickets = decode_ticket_reply(r, admin_key(), 1000.0, {})
    cbl = r.pull_blob()
    extra = r.pull_blob()
    assert r.at_end()
    return tickets, cbl, extra


def test_captured_auth_done_decrypts_with_client_key() -> None:
    tickets, cbl, extra = _decode_auth_done("msgr2_crc_mon_cephx")
    (t,) = tickets
    assert t.service_id == EntityType.AUTH
    assert t.session_key.secret.hex() == "5dfe2c3356ae3544c670fe9f9dfd3c11"
    assert t.validity == 259200.0  # auth_mon_ticket_ttl, 72 h
    assert (t.expires, t.renew_after) == (1000.0 + 259200, 1000.0 + 259200 - 259200 / 4)
    assert t.ticket.secret_id == 2
    assert len(t.ticket.blob) == 96
    # crc mode: the connection secret is an encrypted empty string
    assert len(cbl) == 4 + 16
    assert Reader(decode_decrypt(t.session_key, cbl)).pull_blob() == b""
    assert extra == b""


def test_captured_auth_done_wrong_key_is_a_typed_error() -> None:
    payload = bytes.fromhex(frame_payload("msgr2_crc_mon_cephx", "AUTH_DONE")
                            ["decoded"]["auth_payload"])
    r = Reader(payload)
    CephXResponseHeader.decode(r)
    with pytest.raises(CephxDecryptError):
        decode_ticket_reply(r, mon_key(), 0.0, {})


def test_captured_secure_connection_secret() -> None:
    v = vectors()["msgr2_secure_mon_cephx"]["auth"]
    tickets, cbl, _extra = _decode_auth_done("msgr2_secure_mon_cephx")
    assert tickets[0].session_key.secret.hex() == v["session_key"]
    secret = Reader(decode_decrypt(tickets[0].session_key, cbl)).pull_blob()
    assert secret.hex() == v["connection_secret"]
    assert len(secret) == 64
    assert secret[:16].hex() == v["gcm_key"]
    assert secret[16:28].hex() == v["nonce_s2c"]
    assert secret[28:40].hex() == v["nonce_c2s"]


# -- replay: a real ProtocolV2 client against the captured mon bytes -------------------


def _replay_client(vec: str, mode: str, client_challenge: int) -> tuple[
        ProtocolV2, CephxClient, list[bytes]]:
    v = vectors()[vec]
    mon_addr = EntityAddr.from_host("127.0.0.1", 3300, nonce=0)
    registry = FakeRegistry(EntityName(EntityType.CLIENT, -1),
                            EntityAddrVec((EntityAddr(type=AddrType.ANY, nonce=77),)),
                            Policy.lossy_client())
    auth = CephxClient(ADMIN, admin_key(), clock=lambda: 1795562774.0,
                       modes=ModeOptions(mon_client=mode), want_keys=0,
                       rng=FixedRng(client_challenge))
    client = ProtocolV2(owner="c", registry=registry, options=ProtocolOptions(),
                        policy=registry.policy, auth_client=auth, peer_type=EntityType.MON,
                        target_addr=mon_addr, wallclock=lambda: 1795562774.0,
                        rng=random.Random(1))
    registry.machines["c"] = client
    client.start_connect(0.0)
    client.connection_made(0.0)
    sent: list[bytes] = []

    def pump(data: bytes) -> None:
        client.receive_data(data, 0.0)
        sent.append(b"".join(bytes(c) for c in client.data_to_send(0.0)))

    sent.append(b"".join(bytes(c) for c in client.data_to_send(0.0)))
    s2c = [f for f in v["frames"] if f["dir"] == "server->client"]
    pump(bytes.fromhex(v["banner_server"]) + bytes.fromhex(s2c[0]["wire"]))  # HELLO
    pump(bytes.fromhex(s2c[1]["wire"]))  # AUTH_REPLY_MORE
    pump(bytes.fromhex(s2c[2]["wire"]) + bytes.fromhex(s2c[3]["wire"]))  # DONE + SIG
    return client, auth, sent


@pytest.mark.parametrize(("vec", "mode", "cc"), [
    ("msgr2_crc_mon_cephx", "crc", 0x362CF8622C1AEED7),
    ("msgr2_secure_mon_cephx", "secure", 0x88C4FC6CD61ED4B1),
])
def test_replay_mon_handshake_reproduces_client_bytes(vec: str, mode: str, cc: int) -> None:
    v = vectors()[vec]
    client, auth, sent = _replay_client(vec, mode, cc)
    c2s = {f["tag_name"]: bytes.fromhex(f["wire"])
           for f in v["frames"] if f["dir"] == "client->server"}
    assert sent[0] == bytes.fromhex(v["banner_client"])
    assert sent[1] == c2s["HELLO"] + c2s["AUTH_REQUEST"]
    assert sent[2] == c2s["AUTH_REQUEST_MORE"]
    # AUTH_SIGNATURE (encrypted in secure mode) and then CLIENT_IDENT
    assert sent[3].startswith(c2s["AUTH_SIGNATURE"])
    # the server's signature verified, so the client went on to CLIENT_IDENT
    assert client.state is State.SESSION_CONNECTING
    assert client.auth_meta.con_mode == (CON_MODE_SECURE if mode == "secure" else CON_MODE_CRC)
    assert client.auth_meta.session_key.hex() == v["auth"]["session_key"]
    assert client.auth_meta.connection_secret.hex() == v["auth"]["connection_secret"]
    assert auth.global_id == v["auth"]["global_id"]
    assert auth.last_error is None
    assert set(auth.tickets) == {EntityType.AUTH}


def test_replay_with_wrong_key_records_a_readable_error() -> None:
    v = vectors()["msgr2_crc_mon_cephx"]
    auth = CephxClient(ADMIN, mon_key(), clock=lambda: 0.0,
                       modes=ModeOptions(mon_client="crc"), want_keys=0,
                       rng=FixedRng(0x362CF8622C1AEED7))
    peer = AuthPeer(peer_type=EntityType.MON, peer_addrs=EntityAddrVec(),
                    my_type=EntityType.CLIENT)
    meta = AuthConnectionMeta()
    auth.get_auth_request(peer, meta)
    auth.handle_auth_reply_more(peer, meta, bytes.fromhex(
        frame_payload("msgr2_crc_mon_cephx", "AUTH_REPLY_MORE")["decoded"]["auth_payload"]))
    with pytest.raises(AuthFailed):
        auth.handle_auth_done(peer, meta, 4107, CON_MODE_CRC, bytes.fromhex(
            frame_payload("msgr2_crc_mon_cephx", "AUTH_DONE")["decoded"]["auth_payload"]))
    assert auth.last_error is not None
    assert "cannot decrypt the monitor's reply: wrong key" in str(auth.last_error)
    assert "client.admin" in str(auth.last_error)
    assert meta.session_key == b""
    assert v


# -- mon <-> mon authorizer --------------------------------------------------------------


def _authz_payloads() -> tuple[bytes, bytes, bytes, bytes]:
    vec = "msgr2_crc_authorizer_mon_mon"

    def p(tag: str) -> bytes:
        return bytes.fromhex(frame_payload(vec, tag)["decoded"]["auth_payload"])
    return p("AUTH_REQUEST"), p("AUTH_REPLY_MORE"), p("AUTH_REQUEST_MORE"), p("AUTH_DONE")


def test_mon_authorizer_vector_decrypts() -> None:
    a = vectors()["msgr2_crc_authorizer_mon_mon"]["auth"]
    req, challenge, req_more, done = _authz_payloads()
    authz = CephXAuthorizer.decode(Reader(req))
    assert (authz.global_id, authz.service_id) == (0, EntityType.MON)
    assert authz.ticket.secret_id == SECRET_ID_ENTITY_KEY == 2**64 - 1
    assert len(authz.ticket.blob) == 96
    assert len(req) == 158
    info = CephXServiceTicketInfo.from_bytes(dec_bl(mon_key(), authz.ticket.blob))
    assert info.ticket.name == MON_NAME
    assert info.ticket.global_id == 0
    assert info.ticket.auid == 2**64 - 1
    assert str(info.ticket.expires) == a["authorizer"]["ticket"]["expires"]
    assert info.session_key.secret.hex() == a["session_key"]
    msg = CephXAuthorize.from_bytes(dec_bl(info.session_key, authz.enc_authorize))
    assert msg == CephXAuthorize(0xC653EB0FBCE74E, False, 0)
    ch = CephXAuthorizeChallenge.from_bytes(dec_bl(info.session_key, challenge))
    assert ch.server_challenge == 0x601D26FFE7AFF88
    authz2 = CephXAuthorizer.decode(Reader(req_more))
    assert authz2.ticket == authz.ticket
    msg2 = CephXAuthorize.from_bytes(dec_bl(info.session_key, authz2.enc_authorize))
    assert msg2 == CephXAuthorize(0xC653EB0FBCE74E, True, 0x601D26FFE7AFF89)
    reply = CephXAuthorizeReply.decode(Reader(decode_decrypt(info.session_key, done)))
    assert reply == CephXAuthorizeReply(0xC653EB0FBCE74F, b"")


def _mon_ticket() -> Ticket:
    req = _authz_payloads()[0]
    authz = CephXAuthorizer.decode(Reader(req))
    info = CephXServiceTicketInfo.from_bytes(dec_bl(mon_key(), authz.ticket.blob))
    return Ticket(EntityType.MON, info.session_key, authz.ticket, 3600.0,
                  float(info.ticket.expires), float(info.ticket.expires) - 900)


def test_mon_authorizer_client_reproduces_capture() -> None:
    req, challenge, req_more, done = _authz_payloads()
    now = 1795563134.5
    auth = CephxClient(MON_NAME, mon_key(), clock=lambda: now, i_am_client=False,
                       modes=ModeOptions(mon_cluster="crc"), rng=FixedRng(0xC653EB0FBCE74E))
    auth.add_ticket(_mon_ticket())
    peer = AuthPeer(peer_type=EntityType.MON, peer_addrs=EntityAddrVec(),
                    my_type=EntityType.MON)
    meta = AuthConnectionMeta()
    # a mon reaches another mon with its authorizer, not the mon (hello) payload
    request = auth.get_auth_request(peer, meta)
    assert request.payload == req
    assert request.preferred_modes == (CON_MODE_CRC,)
    assert auth.handle_auth_reply_more(peer, meta, challenge) == req_more
    auth.handle_auth_done(peer, meta, 0, CON_MODE_CRC, done)
    assert meta.session_key.hex() == "d11fcca052e0a70c7c4840537be81b59"
    assert meta.connection_secret == b""


def test_mon_authorizer_client_rejects_bad_nonce() -> None:
    _req, challenge, _more, _done = _authz_payloads()
    t = _mon_ticket()
    auth = CephxClient(MON_NAME, mon_key(), clock=lambda: 1795563134.5, i_am_client=False,
                       modes=ModeOptions(mon_cluster="crc"), rng=FixedRng(0xC653EB0FBCE74E))
    auth.add_ticket(t)
    peer = AuthPeer(peer_type=EntityType.MON, peer_addrs=EntityAddrVec(),
                    my_type=EntityType.MON)
    meta = AuthConnectionMeta()
    auth.get_auth_request(peer, meta)
    auth.handle_auth_reply_more(peer, meta, challenge)
    forged = encode_encrypt(t.session_key, CephXAuthorizeReply(0xC653EB0FBCE74E).to_bytes())
    with pytest.raises(AuthFailed, match="bad nonce"):
        auth.handle_auth_done(peer, meta, 0, CON_MODE_CRC, forged)
    assert meta.session_key == b""


def test_mon_authorizer_server_verifies_capture() -> None:
    req, challenge, req_more, done = _authz_payloads()
    now = 1795563134.5
    ks = KeyServer(clock=lambda: now)
    ks.add_entity(MON_NAME, mon_key())
    server = CephxAuthServer(ks, AuthName(EntityType.MON, "b"), lambda: now, role="mon",
                             modes=ModeOptions(mon_cluster="crc"),
                             rng=FixedRng(0x601D26FFE7AFF88))
    peer = AuthPeer(peer_type=EntityType.MON, peer_addrs=EntityAddrVec(),
                    my_type=EntityType.MON)
    meta = AuthConnectionMeta(con_mode=CON_MODE_CRC)
    first = server.handle_auth_request(peer, meta, False, 2, req)
    assert not first.done
    assert first.payload == challenge
    last = server.handle_auth_request(peer, meta, True, 2, req_more)
    assert last.done
    assert last.payload == done
    assert last.global_id == 0
    assert meta.peer_name == MON_NAME
    assert meta.session_key.hex() == "d11fcca052e0a70c7c4840537be81b59"


def test_mon_authorizer_server_rejects_replayed_first_request_as_answer() -> None:
    req, _challenge, req_more, _done = _authz_payloads()
    now = 1795563134.5
    ks = KeyServer(clock=lambda: now)
    ks.add_entity(MON_NAME, mon_key())
    peer = AuthPeer(peer_type=EntityType.MON, peer_addrs=EntityAddrVec(),
                    my_type=EntityType.MON)
    # a different challenge than the capture's: the captured answer must fail
    server = CephxAuthServer(ks, AuthName(EntityType.MON, "b"), lambda: now,
                             rng=FixedRng(12345))
    meta = AuthConnectionMeta(con_mode=CON_MODE_CRC)
    assert not server.handle_auth_request(peer, meta, False, 2, req).done
    with pytest.raises(AuthFailed) as info:
        server.handle_auth_request(peer, meta, True, 2, req_more)
    assert info.value.result == -13
    # an authorizer that offers an answer up front still gets challenged
    meta = AuthConnectionMeta(con_mode=CON_MODE_CRC)
    assert not server.handle_auth_request(peer, meta, False, 2, req_more).done
    # once the ticket has expired, nothing verifies
    late = CephxAuthServer(ks, AuthName(EntityType.MON, "b"), lambda: now + 7200)
    with pytest.raises(AuthFailed, match="expired"):
        late.handle_auth_request(peer, AuthConnectionMeta(), False, 2, req)


# -- msgr v1 MAuth (v1-cephx-status.pcap) and the global_id reclaim ---------------------------


@cache
def _v1_auth_messages() -> list[msgs.MAuth | msgs.MAuthReply]:
    """MAuth / MAuthReply of the msgr v1 connection in v1-cephx-status.pcap, in
    stream order (client's first): scan for MSG tags whose header crc checks."""
    out: list[msgs.MAuth | msgs.MAuthReply] = []
    for conn in reassemble((CAPTURES / "v1-cephx-status.pcap").read_bytes()):
        for half in (conn.c2s, conn.s2c):
            stream = bytes(half.data)
            if not stream.startswith(b"ceph v027"):
                continue
            pos = 0
            while pos + 1 + MSG_HEADER_LEN <= len(stream):
                if stream[pos] != 7:
                    pos += 1
                    continue
                try:
                    h = MsgHeader.decode(stream[pos + 1:pos + 1 + MSG_HEADER_LEN])
                except RemoteProtocolError:
                    pos += 1
                    continue
                p = pos + 1 + MSG_HEADER_LEN
                front = stream[p:p + h.front_len]
                p += h.front_len + h.middle_len + h.data_len
                footer = MsgFooter.decode(stream[p:p + MSG_FOOTER_LEN])
                pos = p + MSG_FOOTER_LEN
                if h.type in (17, 18):
                    m = decode_message(h, front, b"", b"", footer=footer)
                    assert isinstance(m, msgs.MAuth | msgs.MAuthReply)
                    out.append(m)
    return out


def test_v1_mauth_exchange_replays() -> None:
    auth1, auth2, reply1, reply2 = _v1_auth_messages()
    assert isinstance(auth1, msgs.MAuth)
    assert isinstance(auth2, msgs.MAuth)
    assert isinstance(reply1, msgs.MAuthReply)
    assert isinstance(reply2, msgs.MAuthReply)
    client = CephxClient(ADMIN, admin_key(), clock=lambda: 1795562771.0, want_keys=0,
                         rng=FixedRng(0xC97511F024085E81))
    assert client.build_v1_hello() == auth1.auth_payload
    nxt = client.handle_v1_reply(reply1.protocol, reply1.result, reply1.global_id,
                                 reply1.result_bl)
    assert nxt == auth2.auth_payload
    assert auth2.protocol == 2
    assert client.handle_v1_reply(reply2.protocol, reply2.result, reply2.global_id,
                                  reply2.result_bl) is None
    assert client.global_id == 4105
    t = client.tickets[EntityType.AUTH]
    assert t.session_key.secret.hex() == "ddf87864471af905cff64016df017f48"


def _v2_auth_frames(pcap: str, index: int) -> dict[str, object]:
    conn = reassemble((CAPTURES / pcap).read_bytes())[index]
    out: dict[str, object] = {}
    for name, half in (("C", conn.c2s), ("S", conn.s2c)):
        data = bytes(half.data)
        plen = decode_banner_prefix(data)
        rd = FrameReader(FrameAssembler(rev1=True))
        rd.feed(data[10 + plen:])
        while True:
            raw = rd.next_frame()
            assert raw is not None
            assert raw.segments is not None
            frame = decode_frame(raw.tag, raw.segments)
            out[f"{name}:{type(frame).__name__}"] = frame
            if isinstance(frame, AuthDoneFrame | AuthRequestMoreFrame):
                break
    return out


def test_v2_reclaim_with_old_ticket_gets_an_encrypted_ticket() -> None:
    _auth1, _auth2, reply1, reply2 = _v1_auth_messages()
    assert isinstance(reply1, msgs.MAuthReply)
    assert isinstance(reply2, msgs.MAuthReply)
    client = CephxClient(ADMIN, admin_key(), clock=lambda: 1795562771.0, want_keys=0,
                         rng=FixedRng(0xC97511F024085E81))
    client.build_v1_hello()
    client.handle_v1_reply(2, 0, 4105, reply1.result_bl)
    client.handle_v1_reply(2, 0, 4105, reply2.result_bl)
    old_auth = client.tickets[EntityType.AUTH]
    # the client then reconnects over msgr2 with global_id 4105 and its old ticket
    frames = _v2_auth_frames("v1-cephx-status.pcap", 1)
    more = frames["S:AuthReplyMoreFrame"]
    done = frames["S:AuthDoneFrame"]
    sent = frames["C:AuthRequestMoreFrame"]
    assert isinstance(more, AuthReplyMoreFrame)
    assert isinstance(done, AuthDoneFrame)
    assert isinstance(sent, AuthRequestMoreFrame)
    req = CephXAuthenticate.decode(Reader(sent.auth_payload[2:]))
    assert req.old_ticket == old_auth.ticket
    client.rng = FixedRng(req.client_challenge)
    peer = AuthPeer(peer_type=EntityType.MON, peer_addrs=EntityAddrVec(),
                    my_type=EntityType.CLIENT)
    meta = AuthConnectionMeta()
    hello = client.get_auth_request(peer, meta)
    assert hello.payload.endswith((4105).to_bytes(8, "little"))
    assert client.handle_auth_reply_more(peer, meta, more.auth_payload) == sent.auth_payload
    client.handle_auth_done(peer, meta, done.global_id, done.con_mode, done.auth_payload)
    assert meta.session_key.hex() == "dd18288a08c5bc07e98643daf60f0f80"
    assert client.tickets[EntityType.AUTH].ticket != old_auth.ticket
    assert meta.connection_secret.hex().startswith("ca2eec5f48b773ff")
