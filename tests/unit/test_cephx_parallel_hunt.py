"""cephx with parallel hunting: one CephxClient authenticates with several
monitors at once (``mon_client_hunt_parallel``); each request presents the same
old AUTH ticket, and each monitor encrypts the new ticket blob with that ticket's
session key. The first to finish replaces the client's tickets; the others must
still decrypt their answers with the keys *their* request presented.

Found by tests/interop/test_ceph_faults.py (a losing hunter logged "cannot
decrypt the monitor's reply: wrong key" during monitor failovers).
"""

from __future__ import annotations

import random

from asyncmsgr.auth.base import AuthConnectionMeta, AuthPeer, AuthReply
from asyncmsgr.auth.cephx import CephxAuthServer, CephxClient, CryptoKey, Keyring, KeyServer
from asyncmsgr.frames.v2 import AUTH_CEPHX, CON_MODE_CRC
from asyncmsgr.types import AuthName, EntityAddrVec, EntityType

KEY = CryptoKey.from_base64("AQDeHAZr6oMsHxAA019FEnzwuOARTTPFYEVkrg==")
KEYRING = Keyring.from_text(f'[client.admin]\n key = {KEY.to_base64()}\n caps mon = "allow *"\n')
TO_MON = AuthPeer(peer_type=EntityType.MON, peer_addrs=EntityAddrVec(),
                  my_type=EntityType.CLIENT)
TO_CLIENT = AuthPeer(peer_type=EntityType.CLIENT, peer_addrs=EntityAddrVec(),
                     my_type=EntityType.MON)


def _clock() -> float:
    return 1_700_000_000.0


def _round(client: CephxClient, mon: CephxAuthServer) -> tuple[AuthConnectionMeta, AuthReply]:
    """A client/mon exchange up to the mon's AUTH_DONE (not yet given to the client)."""
    cm, sm = AuthConnectionMeta(), AuthConnectionMeta()
    req = client.get_auth_request(TO_MON, cm)
    cm.auth_method = req.method
    first = mon.handle_auth_request(TO_CLIENT, sm, False, AUTH_CEPHX, req.payload)
    more = client.handle_auth_reply_more(TO_MON, cm, first.payload)
    return cm, mon.handle_auth_request(TO_CLIENT, sm, True, AUTH_CEPHX, more)


def test_hunters_finishing_after_the_winner_decrypt_with_their_own_old_ticket() -> None:
    ks = KeyServer(KEYRING, clock=_clock, rng=random.Random(1))
    mons = [CephxAuthServer(ks, AuthName(EntityType.MON, m), _clock, role="mon",
                            rng=random.Random(i)) for i, m in enumerate("abc")]
    client = CephxClient(AuthName(EntityType.CLIENT, "admin"), KEY, clock=_clock,
                         rng=random.Random(4))
    meta, done = _round(client, mons[0])
    client.handle_auth_done(TO_MON, meta, done.global_id, CON_MODE_CRC, done.payload)
    first_ticket = client.tickets[EntityType.AUTH]
    # the session drops; the client hunts two monitors at once, both answer
    (m1, d1), (m2, d2) = _round(client, mons[1]), _round(client, mons[2])
    client.handle_auth_done(TO_MON, m1, d1.global_id, CON_MODE_CRC, d1.payload)
    assert client.tickets[EntityType.AUTH] != first_ticket
    client.handle_auth_done(TO_MON, m2, d2.global_id, CON_MODE_CRC, d2.payload)
    assert m1.session_key
    assert m2.session_key
    assert client.last_error is None
    assert client.global_id == done.global_id  # reclaimed with the old ticket
