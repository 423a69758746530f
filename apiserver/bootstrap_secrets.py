"""The cluster's bootstrap secrets, shared through the datastore under a token, as k3s does.

Several API servers on one datastore must be one cluster: the same CA (a kubeconfig or a node
token from one works against every other), the same service-account signing key (a pod's token
is valid on any server), the same admin token and node secret. The first server started with
`--token T` seals these (AES-256-GCM, key = PBKDF2-HMAC-SHA256 of T with a random salt) into the
key `/bootstrap/<sha256(T)[:12]>` with the store's create-if-absent; a later server with the
same token reads and opens them and writes them into its DATA_DIR, where the usual loaders
(`certs.ensure_certs`, `auth.load_credentials`, `satokens.TokenIssuer`) find them. Each server
still issues its own serving certificate (its own names), signed by the shared CA.

Two first servers at once: both try the create, one wins, the loser reads the winner's record
and overwrites what it had made locally. A server whose token does not open the record (or
that finds a record under another token's key) is refused with a clear message, as k3s refuses
"bootstrap data already found and encrypted with different token".
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from apiserver.storage.interface import KeyExistsError, KeyValue

PREFIX = "/bootstrap/"
PBKDF2_ITERATIONS = 200_000  # ~60 ms once per server start; the record is only as strong as T
FORMAT = "kubelite.io/bootstrap-secrets/v1"


class BootstrapError(Exception):
    """The token cannot open the cluster's secrets (a wrong token, or a damaged record)."""


class SecretStore(Protocol):
    async def get(self, key: str) -> KeyValue | None: ...

    async def list(self, prefix: str) -> tuple[int, list[KeyValue]]: ...

    async def create(self, key: str, obj: dict[str, Any]) -> KeyValue: ...


@dataclass(frozen=True)
class ClusterSecrets:
    ca_cert: str  # PEM
    ca_key: str
    sa_key: str
    admin_token: str
    node_secret: str


# DATA_DIR-relative files each secret lives in (what the loaders read)
FILES = {
    "ca_cert": "tls/ca.crt",
    "ca_key": "tls/ca.key",
    "sa_key": "tls/sa.key",
    "admin_token": "admin-token",
    "node_secret": "node-secret",
}


def token_key(token: str) -> str:
    return PREFIX + hashlib.sha256(token.encode()).hexdigest()[:12]


def _derive(token: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    return PBKDF2HMAC(hashes.SHA256(), 32, salt, PBKDF2_ITERATIONS).derive(token.encode())


def seal(secrets: ClusterSecrets, token: str) -> dict[str, Any]:
    """The stored record: salt, nonce and the AES-GCM ciphertext of the secrets as JSON."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_derive(token, salt)).encrypt(
        nonce, json.dumps(asdict(secrets)).encode(), FORMAT.encode()
    )
    b64 = base64.b64encode
    return {
        "kind": "BootstrapSecrets",
        "apiVersion": FORMAT,
        "metadata": {},
        "salt": b64(salt).decode(),
        "nonce": b64(nonce).decode(),
        "data": b64(sealed).decode(),
    }


def unseal(record: dict[str, Any], token: str) -> ClusterSecrets:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        salt, nonce, data = (base64.b64decode(record[k]) for k in ("salt", "nonce", "data"))
        plain = AESGCM(_derive(token, salt)).decrypt(nonce, data, FORMAT.encode())
    except InvalidTag:
        raise BootstrapError(
            "the token does not open the cluster's bootstrap secrets: "
            "give the --token the first server was started with"
        ) from None
    except (KeyError, TypeError, ValueError) as e:
        raise BootstrapError(f"the stored bootstrap secrets are damaged: {e}") from None
    return ClusterSecrets(**json.loads(plain))


def read_local(data_dir: Path) -> ClusterSecrets | None:
    """The secrets as DATA_DIR holds them, or None when any is missing."""
    try:
        values = {name: (data_dir / rel).read_text() for name, rel in FILES.items()}
    except OSError:
        return None
    values["admin_token"], values["node_secret"] = (
        values["admin_token"].strip(),
        values["node_secret"].strip(),
    )
    return ClusterSecrets(**values) if all(values.values()) else None


def write_local(data_dir: Path, secrets: ClusterSecrets) -> None:
    """Write the secrets where the loaders read them (0600); a changed CA drops the serving
    certificate so that `certs.ensure_certs` issues one from the shared CA."""
    old_ca = (data_dir / FILES["ca_cert"]).read_text() if (data_dir / FILES["ca_cert"]).exists() else None
    (data_dir / "tls").mkdir(parents=True, exist_ok=True)
    for name, rel in FILES.items():
        value: str = getattr(secrets, name)
        if name in ("admin_token", "node_secret"):
            value += "\n"
        path = data_dir / rel
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value)
        os.replace(tmp, path)
    if old_ca != secrets.ca_cert:
        (data_dir / "tls" / "server.crt").unlink(missing_ok=True)
        (data_dir / "tls" / "server.key").unlink(missing_ok=True)


def make_local(data_dir: Path) -> ClusterSecrets:
    """The secrets DATA_DIR has, made by the usual loaders where missing (a first server)."""
    from apiserver import certs
    from apiserver.auth import _read_or_make_secret
    from apiserver.satokens import _load_or_make_key

    data_dir.mkdir(parents=True, exist_ok=True)
    certs.ensure_ca(data_dir)
    _load_or_make_key(data_dir / FILES["sa_key"])
    _read_or_make_secret(data_dir / FILES["admin_token"])
    _read_or_make_secret(data_dir / FILES["node_secret"])
    found = read_local(data_dir)
    assert found is not None
    return found


async def sync(store: SecretStore, data_dir: Path, token: str) -> bool:
    """Make DATA_DIR hold the cluster's secrets for `token`; True if this server published them."""
    key = token_key(token)
    kv = await store.get(key)
    if kv is None:
        _, others = await store.list(PREFIX)
        if others:
            raise BootstrapError(
                "bootstrap data already found in the datastore and encrypted with "
                "a different token: give the --token the first server was started with"
            )
        local = make_local(data_dir)
        try:
            await store.create(key, seal(local, token))
            return True
        except KeyExistsError:  # another first server won the race: take its secrets
            kv = await store.get(key)
            if kv is None:
                raise BootstrapError(f"{key} vanished while it was being read") from None
    secrets = unseal(kv.obj, token)
    if read_local(data_dir) != secrets:
        write_local(data_dir, secrets)
    return False
