"""An edited message read by a v1 client through the proxy (R29 at the 1.1→2.0 step).

The 2.0 service gained message updating on 2017-09-28 and with it ``updated_at``; a v1 client has
no such field. Read through the proxy from a 2.0 (and 3.0) emulator, the edited message must look
exactly as a v1 client expects: no ``updated_at`` on the message or its parts.
"""

from __future__ import annotations

import httpx
import pytest

from layer_migrate.emulator import Emulator
from layer_migrate.proxy.config import ProxyConfig
from layer_migrate.proxy.serving import running

V11 = "application/vnd.layer+json; version=1.1"


@pytest.mark.parametrize("upstream_version", ["2.0", "3.0"])
def test_v1_client_reads_an_edited_message_in_v1_shape(upstream_version):
    with Emulator().running() as emu, running(ProxyConfig(upstream=emu.url, port=0,
                                                          upstream_version=upstream_version)) as proxy:
        v1 = httpx.Client(base_url=proxy.url, headers={"Authorization": f"Bearer {emu.token}",
                                                       "Accept": V11}, timeout=10)
        conv = v1.post(emu.path("/conversations"), json={"participants": ["a", "b"]}).json()
        cid = conv["id"].rsplit("/", 1)[-1]
        msg = v1.post(emu.path(f"/conversations/{cid}/messages"),
                      json={"sender": {"user_id": "a"},
                            "parts": [{"body": "old", "mime_type": "text/plain"}]}).json()
        mid = msg["id"].rsplit("/", 1)[-1]
        native = httpx.Client(base_url=emu.url, headers=emu.headers(upstream_version), timeout=10)
        edited = native.get(emu.path(f"/conversations/{cid}/messages/{mid}")).json()
        part = edited["parts"][0]["id"].rsplit("/", 1)[-1]
        r = native.put(emu.path(f"/conversations/{cid}/messages/{mid}/parts/{part}"),
                       json={"mime_type": "text/plain", "body": "new"})
        assert r.status_code == 200, r.text
        assert "updated_at" in native.get(emu.path(f"/conversations/{cid}/messages/{mid}")).json()

        got = v1.get(emu.path(f"/conversations/{cid}/messages/{mid}"))
        assert got.status_code == 200
        body = got.json()
        assert body["parts"][0]["body"] == "new"
        assert "updated_at" not in body
        assert all("updated_at" not in p for p in body["parts"])
        assert body["sender"] == {"user_id": "a", "name": None}
