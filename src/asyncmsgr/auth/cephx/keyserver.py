"""A small in-process cephx key service (the role of Ceph's ``KeyServer``).

It holds the entity secrets (from a :class:`~asyncmsgr.auth.keyring.Keyring`)
and, per service id, *rotating* secrets that encrypt the tickets for that
service. A rotating secret is current for its service's ticket TTL
(``auth_mon_ticket_ttl`` = 72 h for AUTH, ``auth_service_ticket_ttl`` = 1 h for
the others); it is kept for decryption one TTL longer, so every ticket issued
under it stays verifiable until it expires. ``secret_id`` counts from 1.

``secret_id = 2**64-1`` means a ticket encrypted with the service's own entity
key (``mon.``), as mons use between themselves (wire-protocol.md §6.5).

One KeyServer object may be shared by a "mon" CephxAuthServer and "service"
CephxAuthServers in the same process (Ceph's daemons fetch the rotating
secrets from the mon instead; that path is not implemented).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from asyncmsgr.auth.cephx.crypto import dec_bl, enc_bl
from asyncmsgr.auth.cephx.tickets import Ticket, TicketGrant
from asyncmsgr.auth.cephx.types import (
    SECRET_ID_ENTITY_KEY,
    AuthCapsInfo,
    AuthTicket,
    CephXServiceTicketInfo,
    CephXTicketBlob,
)
from asyncmsgr.auth.keyring import CryptoKey, Keyring, KeyringEntry
from asyncmsgr.types import AuthName, EntityType, UTime
from asyncmsgr.wire.buffer import Reader, Writer

AUTH_MON_TICKET_TTL = 72 * 3600.0
AUTH_SERVICE_TICKET_TTL = 3600.0
#: Rotating secrets kept per service (Ceph keeps previous, current, next).
KEEP_SECRETS = 3


@dataclass(frozen=True, slots=True)
class RotatingSecret:
    """One rotating service secret."""

    secret_id: int
    key: CryptoKey
    current_until: float
    """New tickets use it until then; it decrypts for one more TTL."""


def _service_name(service_id: int) -> str:
    try:
        return EntityType(service_id).type_str
    except ValueError:
        return f"service {service_id}"


class KeyServer:
    """Entity keys plus rotating per-service secrets (sans-I/O: ``clock`` and
    ``rng`` are injected)."""

    def __init__(self, keyring: Keyring | None = None, *, clock: Callable[[], float],
                 rng: random.Random | None = None,
                 auth_mon_ticket_ttl: float = AUTH_MON_TICKET_TTL,
                 auth_service_ticket_ttl: float = AUTH_SERVICE_TICKET_TTL) -> None:
        self.clock = clock
        self.rng = rng if rng is not None else random.SystemRandom()
        self.auth_mon_ticket_ttl = auth_mon_ticket_ttl
        self.auth_service_ticket_ttl = auth_service_ticket_ttl
        self._entities: dict[str, KeyringEntry] = dict(keyring.entries) if keyring else {}
        self._rotating: dict[int, list[RotatingSecret]] = {}

    # -- entities ----------------------------------------------------------------------

    def add_entity(self, name: AuthName | str, key: CryptoKey,
                   caps: Mapping[str, str] | None = None) -> None:
        """Add or replace an entity (``caps``: service -> cap string)."""
        n = name if isinstance(name, AuthName) else AuthName.parse(name)
        self._entities[str(n)] = KeyringEntry(n, key, MappingProxyType(dict(caps or {})))

    def get_secret(self, name: AuthName | str) -> CryptoKey | None:
        """The entity's key, or None."""
        e = self._entities.get(str(name))
        return e.key if e is not None else None

    def get_caps(self, name: AuthName | str, service: str) -> str | None:
        """The entity's cap string for ``service`` (``"mon"``, ``"osd"``...)."""
        e = self._entities.get(str(name))
        return e.caps.get(service) if e is not None else None

    def generate_secret(self) -> CryptoKey:
        """A fresh random AES key created now."""
        return CryptoKey.aes(self.rng.randbytes(16), UTime.from_float(self.clock()))

    # -- rotating secrets --------------------------------------------------------------

    def ticket_ttl(self, service_id: int) -> float:
        """How long a ticket for ``service_id`` is valid."""
        if service_id == EntityType.AUTH:
            return self.auth_mon_ticket_ttl
        return self.auth_service_ticket_ttl

    def _secrets(self, service_id: int, now: float) -> list[RotatingSecret]:
        ttl = self.ticket_ttl(service_id)
        secrets = self._rotating.setdefault(service_id, [])
        if not secrets or now >= secrets[-1].current_until:
            next_id = secrets[-1].secret_id + 1 if secrets else 1
            secrets.append(RotatingSecret(next_id, self.generate_secret(), now + ttl))
        # drop secrets no ticket can still use
        while len(secrets) > 1 and (len(secrets) > KEEP_SECRETS or
                                    now >= secrets[0].current_until + ttl):
            secrets.pop(0)
        return secrets

    def get_service_secret(self, service_id: int) -> RotatingSecret:
        """The current rotating secret (rotating first if it is due)."""
        return self._secrets(service_id, self.clock())[-1]

    def find_service_secret(self, service_id: int, secret_id: int) -> CryptoKey | None:
        """The rotating secret ``secret_id`` if it is still kept; for
        SECRET_ID_ENTITY_KEY the service's entity key (``mon.``)."""
        if secret_id == SECRET_ID_ENTITY_KEY:
            return self.get_secret(AuthName(service_id, ""))
        for s in self._secrets(service_id, self.clock()):
            if s.secret_id == secret_id:
                return s.key
        return None

    # -- tickets -----------------------------------------------------------------------

    def service_caps(self, name: AuthName, service_id: int) -> AuthCapsInfo:
        """AuthCapsInfo for a ticket: the entity's cap for that service, encoded."""
        cap = self.get_caps(name, _service_name(service_id))
        if cap is None:
            return AuthCapsInfo()
        w = Writer()
        w.push_string(cap)
        return AuthCapsInfo(allow_all=False, caps=w.getvalue())

    def build_grant(self, service_id: int, name: AuthName, global_id: int, *,
                    caps: AuthCapsInfo | None = None) -> TicketGrant:
        """A new session key and ticket for ``name`` to use ``service_id``
        (``build_session_auth_info`` + ``cephx_build_service_ticket_blob``)."""
        now = self.clock()
        ttl = self.ticket_ttl(service_id)
        secret = self.get_service_secret(service_id)
        session_key = self.generate_secret()
        ticket = AuthTicket(name=name, global_id=global_id, created=UTime.from_float(now),
                            expires=UTime.from_float(now + ttl),
                            caps=caps if caps is not None else self.service_caps(
                                name, service_id))
        blob = enc_bl(secret.key, CephXServiceTicketInfo(ticket, session_key).to_bytes())
        return TicketGrant(service_id, session_key, UTime.from_float(ttl),
                           CephXTicketBlob(secret.secret_id, blob))

    def issue_entity_ticket(self, service_id: int, name: AuthName,
                            global_id: int = 0) -> Ticket:
        """A ticket under the service's own entity key (secret_id 2**64-1), as a
        mon builds for itself to talk to other mons; returned client-side ready."""
        key = self.get_secret(AuthName(service_id, ""))
        if key is None:
            raise KeyError(f"no key for {_service_name(service_id)}.")
        now = self.clock()
        ttl = self.ticket_ttl(service_id)
        session_key = self.generate_secret()
        ticket = AuthTicket(name=name, global_id=global_id, created=UTime.from_float(now),
                            expires=UTime.from_float(now + ttl))
        blob = enc_bl(key, CephXServiceTicketInfo(ticket, session_key).to_bytes())
        return Ticket(service_id, session_key, CephXTicketBlob(SECRET_ID_ENTITY_KEY, blob),
                      ttl, now + ttl, now + ttl - ttl / 4)

    def decode_ticket(self, service_id: int, blob: CephXTicketBlob) -> CephXServiceTicketInfo:
        """Open a ticket blob for ``service_id`` (``cephx_decode_ticket``).
        KeyError when its secret is unknown (rotated out); CephxDecryptError or
        DecodeError when it does not decrypt."""
        key = self.find_service_secret(service_id, blob.secret_id)
        if key is None:
            raise KeyError(f"no {_service_name(service_id)} secret with id {blob.secret_id}")
        return CephXServiceTicketInfo.decode(Reader(dec_bl(key, blob.blob)))


__all__ = ["AUTH_MON_TICKET_TTL", "AUTH_SERVICE_TICKET_TTL", "KeyServer", "RotatingSecret"]
