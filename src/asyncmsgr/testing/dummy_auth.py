"""A deterministic auth method for tests (the role of Ceph's DummyAuthClientServer).

Both sides derive the same session key and 64-byte connection secret from a
shared test secret and a server nonce, so the pre-auth AUTH_SIGNATURE is a real
HMAC and secure mode (AES-GCM) can be exercised without cephx. Never use it
outside tests: it proves nothing about identity.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer, AuthReply, AuthRequest
from asyncmsgr.errors import AuthFailed
from asyncmsgr.frames.v2 import CON_MODE_CRC, CON_MODE_SECURE, CON_MODE_UNKNOWN

#: Method number used by the dummy method (Ceph's GSS slot, unused by Pacific).
AUTH_DUMMY = 4


def _derive(shared: bytes, nonce: bytes) -> tuple[bytes, bytes]:
    key = hashlib.sha256(b"key" + shared + nonce).digest()[:16]
    secret = hashlib.sha512(b"secret" + shared + nonce).digest()
    return key, secret


@dataclass(slots=True)
class DummyAuthClient:
    """Client side: asks for ``modes`` (most preferred first)."""

    shared: bytes = b"test-secret"
    modes: tuple[int, ...] = (CON_MODE_SECURE, CON_MODE_CRC)

    def get_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta) -> AuthRequest:
        """One round: the payload is just a greeting."""
        return AuthRequest(AUTH_DUMMY, self.modes, b"hello")

    def handle_auth_reply_more(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               payload: bytes) -> bytes:
        """Answer the server's nonce."""
        meta.method_state["nonce"] = payload
        return b"answer:" + payload

    def handle_auth_done(self, peer: AuthPeer, meta: AuthConnectionMeta, global_id: int,
                         con_mode: int, payload: bytes) -> None:
        """Derive the key and secret from the nonce the server sent."""
        nonce = meta.method_state.get("nonce")
        if not isinstance(nonce, bytes) or payload != b"done:" + nonce:
            raise AuthFailed("dummy auth: bad final payload", -13)
        key, secret = _derive(self.shared, nonce)
        meta.session_key = key
        meta.connection_secret = secret if con_mode == CON_MODE_SECURE else b""

    def handle_auth_bad_method(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               old_method: int, result: int,
                               allowed_methods: tuple[int, ...],
                               allowed_modes: tuple[int, ...]) -> bool:
        """No fallback."""
        return False


@dataclass(slots=True)
class DummyAuthServer:
    """Server side: two rounds (REPLY_MORE with a nonce, then DONE)."""

    shared: bytes = b"test-secret"
    modes: tuple[int, ...] = (CON_MODE_SECURE, CON_MODE_CRC)
    nonce: bytes = b"n0nce"

    def get_supported_auth_methods(self, peer_type: int) -> tuple[tuple[int, ...],
                                                                   tuple[int, ...]]:
        """Only the dummy method."""
        return (AUTH_DUMMY,), self.modes

    def pick_con_mode(self, peer_type: int, method: int,
                      preferred_modes: tuple[int, ...]) -> int:
        """The client's first mode that we allow."""
        for mode in preferred_modes:
            if mode in self.modes:
                return mode
        return CON_MODE_UNKNOWN

    def handle_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta, more: bool,
                            method: int, payload: bytes) -> AuthReply:
        """Round 1: send the nonce; round 2: check the answer, derive the keys."""
        if method != AUTH_DUMMY:
            raise AuthFailed(f"method {method} not supported", -95)
        if not more:
            return AuthReply(done=False, payload=self.nonce)
        if payload != b"answer:" + self.nonce:
            raise AuthFailed("dummy auth: wrong answer", -13)
        key, secret = _derive(self.shared, self.nonce)
        meta.session_key = key
        meta.connection_secret = secret if meta.con_mode == CON_MODE_SECURE else b""
        return AuthReply(done=True, payload=b"done:" + self.nonce, global_id=4242)


__all__ = ["AUTH_DUMMY", "DummyAuthClient", "DummyAuthServer"]
