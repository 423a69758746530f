"""A node's password and its kubelet client certificate, in the words every end uses: the agent that
bootstraps (kubelet/bootstrap.py), the API server that records the password (apiserver/nodepasswords.py)
and the controller that approves the request (controller/clientapproving.py).

k3s's node password: the first time an agent joins under a name it presents a random password it
keeps in its data dir (k3s: `/etc/rancher/node/password`; kubelite: `DATA_DIR/node-password`), and
the server keeps a salted hash of it in the Secret `<node>.node-password.k3s` of kube-system (k3s's
name, so its tooling and runbooks apply; data key `hash`). A later bootstrap under that name with
another password is refused with k3s's words; deleting the Node deletes the Secret, which frees
the name. The agent sends the password in a header of its bootstrap requests only (over TLS, to a
server whose CA it checked against the node token); the authenticator turns it into a SHA-256
digest carried as the bootstrap user's `extra`, which kube's CSR strategy copies into the
request's `spec.extra` (written by the API server, never by the body). What the Secret stores is a
scrypt hash of that digest (k3s: scrypt too), so both the API server and the approver can check a
request against it without ever storing or showing the password; the digest of a random 256-bit
password is no help to whoever reads it, since only the authenticator writes it.

The kubelet client certificate (kube's `kubernetes.io/kube-apiserver-client-kubelet` signer):
subject `CN=system:node:<name>, O=system:nodes`, no subject alternative names, usages digital
signature and client auth (plus key encipherment for an RSA key).

Pure functions (hashlib and secrets only).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

HEADER = "X-Kubelite-Node-Password"
EXTRA_KEY = "kubelite.io/node-password-sha256"  # the digest in the bootstrap user's extra
NAMESPACE = "kube-system"
SUFFIX = ".node-password.k3s"
SECRET_TYPE = "kubelite.io/node-password"
BOOTSTRAPPERS = "system:bootstrappers"
BOOTSTRAP_PREFIX = "system:bootstrap:"
CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
CLIENT_USAGES = ("digital signature", "client auth")  # an EC (or Ed25519) key
RSA_CLIENT_USAGES = ("digital signature", "key encipherment", "client auth")
REJECTED = (
    "Node password rejected, duplicate hostname or contents of the agent's '<data-dir>/node-password' "
    "may not match server node-passwd entry"
)
_SCRYPT = (2**14, 8, 1)  # N, r, p: k3s's scrypt parameters


def secret_name(node: str) -> str:
    return node + SUFFIX


def node_of_secret(name: str) -> str:
    """The node a node-password Secret is for ("" for any other Secret)."""
    return name[: -len(SUFFIX)] if name.endswith(SUFFIX) and len(name) > len(SUFFIX) else ""


def new_password() -> str:
    return secrets.token_hex(32)


def digest(password: str) -> str:
    """What the authenticator carries for a presented password (hex SHA-256)."""
    return hashlib.sha256(password.encode()).hexdigest()


def hash_digest(value: str, salt: bytes | None = None) -> str:
    """A salted scrypt hash of a password's digest: `$scrypt$N$r$p$<salt hex>$<hash hex>`."""
    n, r, p = _SCRYPT
    salt = salt if salt is not None else secrets.token_bytes(16)
    out = hashlib.scrypt(value.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"$scrypt${n}${r}${p}${salt.hex()}${out.hex()}"


def verify(value: str, stored: str) -> bool:
    """Whether `value` (a digest) is what `stored` (a `hash_digest`) was made from."""
    parts = stored.split("$")
    if len(parts) != 7 or parts[1] != "scrypt":
        return False
    try:
        n, r, p, salt, want = int(parts[2]), int(parts[3]), int(parts[4]), bytes.fromhex(parts[5]), parts[6]
        got = hashlib.scrypt(value.encode(), salt=salt, n=n, r=r, p=p, dklen=len(want) // 2)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), want)


def secret_object(node: str, value: str) -> dict[str, Any]:
    """The Secret recording a node's password (from its digest)."""
    import base64

    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": secret_name(node), "namespace": NAMESPACE},
        "type": SECRET_TYPE,
        "immutable": True,
        "data": {"hash": base64.b64encode(hash_digest(value).encode()).decode()},
    }


def stored_hash(secret: dict[str, Any] | None) -> str:
    """The hash a node-password Secret holds ("" when none or unreadable)."""
    import base64
    import binascii

    data = (secret or {}).get("data") or {}
    try:
        return base64.b64decode(str(data.get("hash") or ""), validate=True).decode()
    except (binascii.Error, ValueError):
        return ""


def presented(extra: Any) -> str:
    """The password digest a request's `spec.extra` carries ("" when none)."""
    values = extra.get(EXTRA_KEY) if isinstance(extra, dict) else None
    return str(values[0]) if isinstance(values, list) and len(values) == 1 else ""


def client_usages_for(rsa: bool) -> list[str]:
    return list(RSA_CLIENT_USAGES if rsa else CLIENT_USAGES)
