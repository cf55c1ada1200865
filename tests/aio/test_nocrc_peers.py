"""Two asyncmsgr messengers over real sockets, one running ``ms_crc_data =
false``: its messages go out NOCRC (no data crc) and are taken by a peer that
checks data crcs, and it takes that peer's crc'd messages, on both protocols."""

from __future__ import annotations

import pytest
from msgr_harness import PROTOCOLS, make_client, make_config, make_server, run, stop

from asyncmsgr.messages import MPing
from asyncmsgr.types import EntityType

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("crc_off", ["client", "server"])
def test_peer_without_data_crcs(protocol: str, crc_off: str) -> None:
    payloads = [bytes([i]) * (100 + 37 * i) for i in range(5)]

    async def main() -> None:
        on = make_config()
        off = on.replace(ms_crc_data=False)
        server, sd = await make_server(off if crc_off == "server" else on,
                                       protocol=protocol)
        try:
            client, cd = await make_client(off if crc_off == "client" else on)
            try:
                con = client.connect_to(EntityType.OSD, server.my_addrs)
                for data in payloads:
                    con.send_message(MPing(data=data))
                await cd.wait_count(len(payloads))  # the server echoes each
                assert [bytes(m.data) for m in sd.got] == payloads
                assert [bytes(m.data) for m in cd.got] == payloads
            finally:
                await stop(client)
        finally:
            await stop(server)
    run(main)
