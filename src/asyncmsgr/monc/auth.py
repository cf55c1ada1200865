"""How a :class:`~asyncmsgr.monc.client.MonClient` authenticates with a monitor.

* **msgr2**: the handshake runs the auth client; :class:`MonAuthAdapter` wraps it
  to report refusals to the MonClient.
* **msgr v1** (wire-protocol.md §6.4, §6.7): the client connects without an
  authorizer and authenticates in messages before sending anything else:
  MAuth(protocol 0, ``u8 1, vector<u32> methods, EntityName, u64 global_id``) →
  MAuthReply(the method the mon picked, the global_id it assigned). Auth none is
  done there; cephx's reply carries the server challenge, answered by
  MAuth(protocol 2, GET_AUTH_SESSION_KEY) whose reply holds the AUTH ticket and
  the service tickets asked for (one GET_PRINCIPAL_SESSION_KEY round more when
  some are still missing). :class:`V1MonAuth` runs that exchange for one
  connection.
* **Ticket renewal** over an open session, either protocol: an MAuth built by a
  :class:`TicketRenewer` (cephx).

Hunting dials several monitors at once, so each v1 exchange of a
:class:`~asyncmsgr.auth.cephx.CephxClient` works on a private copy of its state
(tickets, global_id, server challenge); :meth:`V1MonAuth.adopt` hands the
winner's to the client, as Ceph's MonClient takes over the winning
MonConnection's auth handler.
"""

from __future__ import annotations

import copy
import errno
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from asyncmsgr.auth.base import AuthClient, AuthConnectionMeta, AuthPeer, AuthRequest
from asyncmsgr.auth.cephx.client import CephxClient, describe_result
from asyncmsgr.errors import AuthFailed, DecodeError
from asyncmsgr.frames.v2 import AUTH_CEPHX, AUTH_NONE
from asyncmsgr.messages import MAuth, MAuthReply
from asyncmsgr.types import AuthName
from asyncmsgr.wire.buffer import Writer, push_u32_item
from asyncmsgr.wire.codecs import push_auth_name

# -- ticket renewal --------------------------------------------------------------------


@runtime_checkable
class TicketRenewer(Protocol):
    """What cephx adds to an AuthClient for renewal over a mon session."""

    def need_tickets(self, now: float) -> bool:
        """True when a wanted ticket is missing or due for renewal."""
        ...

    def build_ticket_request(self) -> bytes:
        """The MAuth ``auth_payload`` asking for service tickets."""
        ...

    def handle_ticket_reply(self, result_bl: bytes) -> None:
        """Take the tickets of an MAuthReply; raise AuthFailed."""
        ...


# -- msgr2: the auth client seen by the messenger --------------------------------------


def refusal_text(result: int) -> str:
    """A sentence for a monitor's refusal with ``result`` (a negative errno)."""
    if result in (-13, -1):
        return "monitor refused authentication: permission denied (wrong key?)"
    if result == -2:
        return "monitor refused authentication: unknown entity"
    if result == -95:
        return "monitor refused authentication: no auth method in common"
    return f"monitor refused authentication (error {result})"


class MonAuthAdapter:
    """Delegates to the user's AuthClient and reports refusals to the MonClient.

    After a monitor refused a method and allowed others (AUTH_BAD_METHOD), later
    attempts start with those (Ceph's MonConnection keeps its next method).

    Called on the messenger's worker (maybe another thread): ``report`` must hop
    to the MonClient's loop itself.
    """

    def __init__(self, inner: AuthClient, report: Callable[[AuthFailed], None]) -> None:
        self.inner = inner
        self._report = report
        self._fallback: tuple[int, ...] = ()
        """The methods a monitor still allowed after refusing one of ours."""

    def get_auth_request(self, peer: AuthPeer, meta: AuthConnectionMeta) -> AuthRequest:
        if self._fallback and not meta.allowed_methods:
            # Ceph's MonConnection keeps the method it moved to: a monitor that
            # refused cephx in the AUTH_REQUEST_MORE round closes the connection
            # (no second AUTH_REQUEST there), so the next attempt starts with it
            meta.allowed_methods = self._fallback
        try:
            return self.inner.get_auth_request(peer, meta)
        except AuthFailed as exc:
            self._report(exc)
            raise

    def handle_auth_reply_more(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               payload: bytes) -> bytes:
        try:
            return self.inner.handle_auth_reply_more(peer, meta, payload)
        except AuthFailed as exc:
            self._report(exc)
            raise

    def handle_auth_done(self, peer: AuthPeer, meta: AuthConnectionMeta, global_id: int,
                         con_mode: int, payload: bytes) -> None:
        try:
            self.inner.handle_auth_done(peer, meta, global_id, con_mode, payload)
        except AuthFailed as exc:
            self._report(exc)
            raise

    def handle_auth_bad_method(self, peer: AuthPeer, meta: AuthConnectionMeta,
                               old_method: int, result: int,
                               allowed_methods: tuple[int, ...],
                               allowed_modes: tuple[int, ...]) -> bool:
        retry = self.inner.handle_auth_bad_method(peer, meta, old_method, result,
                                                  allowed_methods, allowed_modes)
        if retry:
            self._fallback = tuple(m for m in allowed_methods if m != old_method)
        else:
            err = getattr(self.inner, "last_error", None)
            if not isinstance(err, AuthFailed):
                err = AuthFailed(refusal_text(result), result)
            self._report(err)
        return retry


# -- msgr v1: MAuth / MAuthReply -------------------------------------------------------


@runtime_checkable
class V1AuthClient(Protocol):
    """An auth client that runs the msgr v1 MAuth exchange itself (cephx)."""

    def build_v1_hello(self) -> bytes:
        """The payload of MAuth(protocol 0)."""
        ...

    def handle_v1_reply(self, protocol: int, result: int, global_id: int,
                        result_bl: bytes) -> bytes | None:
        """The next MAuth payload, or None once authenticated; raises AuthFailed."""
        ...


class _NoneV1:
    """The v1 exchange of auth none: offer method none, accept the mon's global_id."""

    def __init__(self, name: AuthName, global_id: int) -> None:
        self.name = name
        self.global_id = global_id

    def build_v1_hello(self) -> bytes:
        w = Writer()
        w.push_u8(1)
        w.push_list([AUTH_NONE], push_u32_item)
        push_auth_name(w, self.name)
        w.push_u64(self.global_id)
        return w.getvalue()

    def handle_v1_reply(self, protocol: int, result: int, global_id: int,
                        result_bl: bytes) -> bytes | None:
        if result < 0:
            raise AuthFailed(describe_result(self.name, result), result)
        if protocol != AUTH_NONE:
            raise AuthFailed(f"authentication failed for {self.name}: the monitor chose "
                             f"auth method {protocol}, we offered only none",
                             -errno.EOPNOTSUPP)
        if global_id:
            self.global_id = global_id
        return None


def _fork_cephx(client: CephxClient) -> CephxClient:
    """A copy whose tickets, global_id and challenge change independently."""
    fork = copy.copy(client)
    fork.tickets = dict(client.tickets)
    return fork


class V1MonAuth:
    """The MAuth exchange of one msgr v1 monitor connection.

    ``auth``: the MonClient's auth client: a CephxClient (exchange on a private
    copy), another :class:`V1AuthClient` (used as is: its exchanges with
    monitors dialled in parallel share its state, so hunt one at a time), or any
    client with an ``AuthName`` ``name`` (auth none). Raises AuthFailed
    (-EOPNOTSUPP) for a client that can do none of these.
    """

    def __init__(self, auth: object, monmap_epoch: int = 0) -> None:
        self._target = auth
        self._epoch = monmap_epoch
        self._work: V1AuthClient
        if isinstance(auth, CephxClient):
            self._work = _fork_cephx(auth)
        elif isinstance(auth, V1AuthClient):
            self._work = auth
        else:
            name = getattr(auth, "name", None)
            if not isinstance(name, AuthName):
                raise AuthFailed(f"{type(auth).__name__} cannot authenticate with a "
                                 "monitor over msgr v1", -errno.EOPNOTSUPP)
            gid = getattr(auth, "global_id", 0)
            self._work = _NoneV1(name, gid if isinstance(gid, int) else 0)
        self.global_id = 0
        """The global_id the monitor assigned (0 until its first reply)."""
        self.rounds = 0
        """MAuth messages built so far."""

    def _mauth(self, protocol: int, payload: bytes) -> MAuth:
        self.rounds += 1
        return MAuth(protocol=protocol, auth_payload=payload, monmap_epoch=self._epoch)

    def hello(self) -> MAuth:
        """MAuth(protocol 0) listing the methods the client accepts."""
        return self._mauth(0, self._work.build_v1_hello())

    def handle(self, reply: MAuthReply) -> MAuth | None:
        """The next MAuth, or None when authenticated; raises AuthFailed (a refusal,
        or a reply that does not decode or decrypt)."""
        if reply.global_id:
            self.global_id = reply.global_id
        try:
            nxt = self._work.handle_v1_reply(reply.protocol, reply.result,
                                             reply.global_id, bytes(reply.result_bl))
        except DecodeError as exc:
            raise AuthFailed(f"malformed MAuthReply: {exc}", -errno.EINVAL) from None
        if nxt is None:
            return None
        return self._mauth(AUTH_CEPHX, nxt)

    def adopt(self) -> None:
        """This exchange won: its state becomes the auth client's."""
        work, target = self._work, self._target
        if isinstance(work, CephxClient) and isinstance(target, CephxClient) \
                and work is not target:
            target.global_id = work.global_id
            target.tickets = work.tickets
            target.server_challenge = work.server_challenge
            target.last_error = None
        elif isinstance(work, _NoneV1) and hasattr(target, "global_id"):
            setattr(target, "global_id", work.global_id)  # noqa: B010 (any client type)
        gid = getattr(work, "global_id", 0)
        if isinstance(gid, int) and gid:
            self.global_id = gid


__all__ = ["MonAuthAdapter", "TicketRenewer", "V1AuthClient", "V1MonAuth", "refusal_text"]
