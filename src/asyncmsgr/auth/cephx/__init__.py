"""cephx authentication, sans-I/O (wire-protocol.md §6).

Client: authenticate with a mon, then reach other daemons with the tickets::

    from asyncmsgr.auth.cephx import CephxClient, Keyring
    keyring = Keyring.from_file("/etc/ceph/ceph.client.admin.keyring")
    name = AuthName.parse("client.admin")
    auth = CephxClient(name, keyring.get(name), clock=time.time)
    msgr = Messenger(..., auth_client=auth)     # connect to a mon first
    # after the mon handshake: auth.global_id, auth.tickets[service_id]
    # renewal over the mon session (MAuth):
    if auth.need_tickets():
        send MAuth(protocol=2, auth_payload=auth.build_ticket_request())
        ... auth.handle_ticket_reply(reply.result_bl)
    # failures: auth.last_error (AuthFailed, human-readable message)

Server::

    ks = KeyServer(keyring, clock=time.time)             # entity + rotating secrets
    mon_auth = CephxAuthServer(ks, AuthName.parse("mon.a"), time.time, role="mon")
    osd_auth = CephxAuthServer(ks, AuthName.parse("osd.0"), time.time)  # authorizers
    Messenger(..., auth_server=mon_auth)

``methods=(AUTH_CEPHX, AUTH_NONE)`` on either side also allows auth none.

The names below are loaded on first use (PEP 562), so a client that imports
:mod:`asyncmsgr.auth.cephx.client` does not pay for the server side.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asyncmsgr.auth.cephx.client import DEFAULT_WANT_KEYS, CephxClient, describe_result
    from asyncmsgr.auth.cephx.keyserver import KeyServer
    from asyncmsgr.auth.cephx.server import CephxAuthServer, MAuthResult, MonSession
    from asyncmsgr.auth.cephx.tickets import Ticket
    from asyncmsgr.auth.keyring import CryptoKey, Keyring
    from asyncmsgr.errors import KeyringError

#: Public name -> the module defining it.
_WHERE = {
    "DEFAULT_WANT_KEYS": "asyncmsgr.auth.cephx.client",
    "CephxClient": "asyncmsgr.auth.cephx.client",
    "describe_result": "asyncmsgr.auth.cephx.client",
    "KeyServer": "asyncmsgr.auth.cephx.keyserver",
    "CephxAuthServer": "asyncmsgr.auth.cephx.server",
    "MAuthResult": "asyncmsgr.auth.cephx.server",
    "MonSession": "asyncmsgr.auth.cephx.server",
    "Ticket": "asyncmsgr.auth.cephx.tickets",
    "CryptoKey": "asyncmsgr.auth.keyring",
    "Keyring": "asyncmsgr.auth.keyring",
    "KeyringError": "asyncmsgr.errors",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__all__ = [
    "DEFAULT_WANT_KEYS",
    "CephxAuthServer",
    "CephxClient",
    "CryptoKey",
    "KeyServer",
    "Keyring",
    "KeyringError",
    "MAuthResult",
    "MonSession",
    "Ticket",
    "describe_result",
]
