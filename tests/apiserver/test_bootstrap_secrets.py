"""Bootstrap secrets shared through the datastore: sealing, refusal of a wrong token, the race."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from apiserver import bootstrap_secrets as bs
from apiserver import certs
from apiserver.auth import load_credentials
from apiserver.storage.interface import KeyExistsError, KeyValue


class MemoryStore:
    """create-if-absent, get and list: the three operations bootstrap_secrets uses."""

    def __init__(self) -> None:
        self.kvs: dict[str, KeyValue] = {}
        self.rev = 0

    async def get(self, key: str) -> KeyValue | None:
        return self.kvs.get(key)

    async def list(self, prefix: str) -> tuple[int, list[KeyValue]]:
        return self.rev, [kv for k, kv in sorted(self.kvs.items()) if k.startswith(prefix)]

    async def create(self, key: str, obj: dict[str, Any]) -> KeyValue:
        await asyncio.sleep(0)  # let a racing server interleave
        if key in self.kvs:
            raise KeyExistsError(key)
        from api import jsonutil

        self.rev += 1
        self.kvs[key] = KeyValue(key, self.rev, jsonutil.dumps(obj))
        return self.kvs[key]


SECRETS = bs.ClusterSecrets("CA PEM", "CA KEY", "SA KEY", "admin", "node")


def test_seal_round_trip_and_no_plaintext() -> None:
    record = bs.seal(SECRETS, "tok")
    assert bs.unseal(record, "tok") == SECRETS
    assert "admin" not in str(record) and "CA KEY" not in str(record)
    assert bs.seal(SECRETS, "tok")["salt"] != record["salt"]  # fresh salt and nonce each time


def test_wrong_token_is_refused() -> None:
    record = bs.seal(SECRETS, "right")
    with pytest.raises(bs.BootstrapError, match="token does not open"):
        bs.unseal(record, "wrong")
    tampered = {**record, "data": record["data"][:-4] + "AAAA"}
    with pytest.raises(bs.BootstrapError):
        bs.unseal(tampered, "right")


def test_second_server_gets_the_first_ones_secrets(tmp_path: Path) -> None:
    store = MemoryStore()
    first, second = tmp_path / "a", tmp_path / "b"
    assert asyncio.run(bs.sync(store, first, "tok")) is True
    assert list(store.kvs) == [bs.token_key("tok")]
    assert asyncio.run(bs.sync(store, second, "tok")) is False
    assert bs.read_local(first) == bs.read_local(second)
    # each serves with its own certificate from the shared CA: one node token for both
    tls_a = certs.ensure_certs(first, ["127.0.0.1"])
    tls_b = certs.ensure_certs(second, ["127.0.0.2"])
    assert tls_a.server_cert.read_bytes() != tls_b.server_cert.read_bytes()
    assert load_credentials(first, tls_a).node_token == load_credentials(second, tls_b).node_token


def test_store_wins_over_a_stale_local_ca(tmp_path: Path) -> None:
    store = MemoryStore()
    asyncio.run(bs.sync(store, tmp_path / "a", "tok"))
    stale = tmp_path / "b"
    certs.ensure_certs(stale, ["127.0.0.1"])  # a CA and serving cert of its own
    asyncio.run(bs.sync(store, stale, "tok"))
    assert (stale / "tls/ca.crt").read_text() == (tmp_path / "a/tls/ca.crt").read_text()
    assert not (stale / "tls/server.crt").exists()  # re-issued from the shared CA by ensure_certs


def test_another_token_on_a_claimed_datastore_is_refused(tmp_path: Path) -> None:
    store = MemoryStore()
    asyncio.run(bs.sync(store, tmp_path / "a", "tok"))
    with pytest.raises(bs.BootstrapError, match="different token"):
        asyncio.run(bs.sync(store, tmp_path / "b", "other"))


def test_two_first_servers_at_once_agree(tmp_path: Path) -> None:
    store = MemoryStore()

    async def both() -> list[bool]:
        return list(
            await asyncio.gather(bs.sync(store, tmp_path / "a", "tok"), bs.sync(store, tmp_path / "b", "tok"))
        )

    published = asyncio.run(both())
    assert sorted(published) == [False, True]
    assert bs.read_local(tmp_path / "a") == bs.read_local(tmp_path / "b")
