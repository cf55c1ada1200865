"""Service ticket replies (wire-protocol.md §6.3 step 4) and the client's tickets.

A reply is ``u8 1, u32 n`` and per ticket ``u32 service_id, u8 1,
encode_encrypt(principal_key, CephXServiceTicket), u8 ticket_enc, bufferlist``
where the bufferlist is the encoded CephXTicketBlob, or (``ticket_enc``, global
id reclaim) ``encode_encrypt(old_session_key, that encoding)``.

A client keeps one :class:`Ticket` per service; Ceph computes ``expires = now +
validity`` and ``renew_after = expires - validity.sec / 4``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from asyncmsgr.auth.cephx.crypto import pull_decrypted, push_encrypted
from asyncmsgr.auth.cephx.types import CephXServiceTicket, CephXTicketBlob
from asyncmsgr.auth.keyring import CryptoKey
from asyncmsgr.errors import CephxDecryptError, DecodeError
from asyncmsgr.record import Record
from asyncmsgr.types import UTime
from asyncmsgr.wire.buffer import Reader, Writer

_set = object.__setattr__  # what a frozen class's __init__ assigns with

#: At most this many tickets in one reply (there are six service types).
MAX_TICKETS = 32


class TicketGrant(Record):
    """Server side: one ticket to put in a reply."""

    service_id: int
    session_key: CryptoKey
    validity: UTime
    ticket: CephXTicketBlob

    __slots__ = ("service_id", "session_key", "ticket", "validity")

    def __init__(self, service_id: int, session_key: CryptoKey, validity: UTime,
                 ticket: CephXTicketBlob) -> None:
        _set(self, "service_id", service_id)
        _set(self, "session_key", session_key)
        _set(self, "validity", validity)
        _set(self, "ticket", ticket)


class Ticket(Record):
    """Client side: a service ticket and what Ceph's CephXTicketHandler tracks."""

    service_id: int
    session_key: CryptoKey
    ticket: CephXTicketBlob
    validity: float
    expires: float
    """Seconds since the epoch (0: never)."""
    renew_after: float

    __slots__ = ("expires", "renew_after", "service_id", "session_key", "ticket", "validity")

    def __init__(self, service_id: int, session_key: CryptoKey, ticket: CephXTicketBlob,
                 validity: float, expires: float, renew_after: float) -> None:
        _set(self, "service_id", service_id)
        _set(self, "session_key", session_key)
        _set(self, "ticket", ticket)
        _set(self, "validity", validity)
        _set(self, "expires", expires)
        _set(self, "renew_after", renew_after)

    def have_key(self, now: float) -> bool:
        """Still valid at ``now``."""
        return not self.expires or now < self.expires

    def need_key(self, now: float) -> bool:
        """Due for renewal at ``now`` (Ceph's ``need_key``)."""
        return bool(self.expires) and now >= self.renew_after


def encode_ticket_reply(w: Writer, principal_key: CryptoKey, grants: Sequence[TicketGrant],
                        enc_ticket_key: CryptoKey | None = None) -> None:
    """``cephx_build_service_ticket_reply``; ``enc_ticket_key`` encrypts the
    ticket blobs (global_id reclaim with a valid old ticket)."""
    w.push_u8(1)
    w.push_u32(len(grants))
    for g in grants:
        w.push_u32(g.service_id)
        w.push_u8(1)
        push_encrypted(w, principal_key,
                       CephXServiceTicket(g.session_key, g.validity).to_bytes())
        blob = g.ticket.to_bytes()
        if enc_ticket_key is not None:
            w.push_u8(1)
            inner = Writer()
            inner.push_blob(blob)
            push_encrypted(w, enc_ticket_key, inner.getvalue())
        else:
            w.push_u8(0)
            w.push_blob(blob)


def decode_ticket_reply(r: Reader, principal_key: CryptoKey, now: float,
                        old_keys: Mapping[int, CryptoKey]) -> list[Ticket]:
    """Parse and decrypt a reply. ``old_keys`` maps a service to the session key
    an encrypted ticket blob is under. CephxDecryptError when a part does not
    decrypt (wrong key), DecodeError when it is malformed."""
    v = r.pull_u8()
    if v < 1:
        raise DecodeError(f"service ticket reply: struct_v {v}")
    n = r.pull_count(1 + 4 + 1 + 4, "service tickets")
    if n > MAX_TICKETS:
        raise DecodeError(f"service ticket reply with {n} tickets")
    out: list[Ticket] = []
    for _ in range(n):
        service_id = r.pull_u32()
        if r.pull_u8() < 1:
            raise DecodeError("service ticket: bad struct_v")
        msg_a = CephXServiceTicket.decode(pull_decrypted(r, principal_key))
        if r.pull_u8():
            old = old_keys.get(service_id)
            if old is None:
                raise CephxDecryptError(
                    f"encrypted ticket for service {service_id} but no old session key")
            blob = pull_decrypted(r, old).pull_blob()
        else:
            blob = r.pull_blob()
        ticket = CephXTicketBlob.from_bytes(blob)
        validity = float(msg_a.validity)
        expires = renew = 0.0
        if validity:
            expires = now + validity
            renew = expires - msg_a.validity.sec / 4
        out.append(Ticket(service_id, msg_a.session_key, ticket, validity, expires, renew))
    return out


__all__ = ["MAX_TICKETS", "Ticket", "TicketGrant", "decode_ticket_reply",
           "encode_ticket_reply"]
