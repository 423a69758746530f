"""The front proxy's identity, and how extension API servers learn to trust it.

kube-apiserver relays a request to an extension server with a client certificate of its own
(`--proxy-client-cert-file`) signed by a CA apart from the cluster CA (`--requestheader-client-ca-file`:
a certificate of the cluster CA must never be able to claim any identity through X-Remote-User).
kubelite makes both beside its CA on first start, kept in DATA_DIR/tls: `front-proxy-ca.crt|key`
and `front-proxy-client.crt|key` (CN `front-proxy-client`, client auth only; re-issued when missing
or no longer signed by that CA).

It publishes them as kube does (the clusterauthenticationtrust controller), in the ConfigMap
`kube-system/extension-apiserver-authentication` that every extension server reads: the cluster
CA as `client-ca-file`, the front-proxy CA as `requestheader-client-ca-file` (merged with the CAs
other servers of the cluster put there, so that several servers with their own front-proxy CA are
all trusted), the allowed names `["front-proxy-client"]`, and the header names `X-Remote-User`,
`X-Remote-Group`, `X-Remote-Extra-` as JSON lists. The Role
`kube-system/extension-apiserver-authentication-reader` lets an extension server read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.resources import by_plural

NAMESPACE = "kube-system"
CONFIGMAP = "extension-apiserver-authentication"
CLIENT_NAME = "front-proxy-client"
USERNAME_HEADERS = ["X-Remote-User"]
GROUP_HEADERS = ["X-Remote-Group"]
EXTRA_PREFIXES = ["X-Remote-Extra-"]
_TEN_YEARS = 3650
_PEM_END = "-----END CERTIFICATE-----"


@dataclass(frozen=True)
class FrontProxyFiles:
    ca_cert: Path
    ca_key: Path
    client_cert: Path
    client_key: Path


def _files(data_dir: Path) -> FrontProxyFiles:
    tls = data_dir / "tls"
    return FrontProxyFiles(
        tls / "front-proxy-ca.crt",
        tls / "front-proxy-ca.key",
        tls / "front-proxy-client.crt",
        tls / "front-proxy-client.key",
    )


def ensure_front_proxy(data_dir: Path) -> FrontProxyFiles:
    """Load or make the front-proxy CA and its client certificate."""
    from api import x509 as certs

    files = _files(data_dir)
    files.ca_cert.parent.mkdir(parents=True, exist_ok=True)
    if not (files.ca_cert.exists() and files.ca_key.exists()):
        key = certs.new_key()
        subject = certs.name("front-proxy-ca")
        ca = certs.sign(
            certs.builder(subject, subject, key, _TEN_YEARS)
            .add_extension(certs.x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(certs.key_usage(cert_sign=True), critical=True),
            key,
        )
        certs.write_private(files.ca_key, certs.key_pem(key))
        certs.write_private(files.ca_cert, certs.cert_pem(ca))
    ca, signer = certs.load_cert(files.ca_cert), certs.load_key(files.ca_key)
    have = files.client_cert.exists() and files.client_key.exists()
    if have and certs.load_cert(files.client_cert).issuer == ca.subject:
        return files
    key = certs.new_key()
    cert = certs.sign(
        certs.builder(certs.name(CLIENT_NAME), ca.subject, key, _TEN_YEARS)
        .add_extension(certs.key_usage(), critical=True)
        .add_extension(certs.x509.ExtendedKeyUsage([certs.CLIENT_AUTH]), critical=False),
        signer,
    )
    certs.write_private(files.client_key, certs.key_pem(key))
    certs.write_private(files.client_cert, certs.cert_pem(cert))
    return files


def pem_blocks(bundle: str) -> list[str]:
    """The certificates of a PEM bundle, each as its own block ending in a newline."""
    blocks, current = [], []
    for line in bundle.splitlines():
        if line.strip():
            current.append(line.strip())
        if line.strip() == _PEM_END:
            blocks.append("\n".join(current) + "\n")
            current = []
    return blocks


def merged_bundle(existing: str, mine: str) -> str:
    """`existing` with the certificates of `mine` it lacks appended (order kept, no duplicates)."""
    blocks = pem_blocks(existing)
    return "".join(blocks + [b for b in pem_blocks(mine) if b not in blocks])


def _merged_list(existing: Any, mine: list[str]) -> str:
    try:
        have = json.loads(existing) if isinstance(existing, str) else []
    except ValueError:
        have = []
    listed = [v for v in have if isinstance(v, str)] if isinstance(have, list) else []
    return json.dumps(listed + [v for v in mine if v not in listed], separators=(",", ":"))


def configmap_data(
    client_ca: str, front_proxy_ca: str, existing: dict[str, Any] | None = None
) -> dict[str, str]:
    """The ConfigMap's data: this server's trust merged into what the cluster's servers published."""
    old = existing or {}
    return {
        "client-ca-file": merged_bundle(str(old.get("client-ca-file") or ""), client_ca),
        "requestheader-allowed-names": _merged_list(old.get("requestheader-allowed-names"), [CLIENT_NAME]),
        "requestheader-client-ca-file": merged_bundle(
            str(old.get("requestheader-client-ca-file") or ""), front_proxy_ca
        ),
        "requestheader-extra-headers-prefix": _merged_list(
            old.get("requestheader-extra-headers-prefix"), EXTRA_PREFIXES
        ),
        "requestheader-group-headers": _merged_list(old.get("requestheader-group-headers"), GROUP_HEADERS),
        "requestheader-username-headers": _merged_list(
            old.get("requestheader-username-headers"), USERNAME_HEADERS
        ),
    }


async def publish(registry: Any, client_ca: str, front_proxy_ca: str) -> None:
    """Create or update the ConfigMap so that it holds this server's trust (a compare-and-swap)."""
    configmaps = by_plural("", "configmaps")
    assert configmaps is not None

    def mutate(cur: dict[str, Any], kv: Any) -> tuple[dict[str, Any], str | None]:
        cur["data"] = configmap_data(client_ca, front_proxy_ca, cur.get("data"))
        return cur, None

    def create() -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": CONFIGMAP, "namespace": NAMESPACE},
            "data": configmap_data(client_ca, front_proxy_ca),
        }

    kv = await registry.store.get(configmaps.storage_key(CONFIGMAP, NAMESPACE))
    if kv is not None and kv.obj.get("data") == configmap_data(client_ca, front_proxy_ca, kv.obj.get("data")):
        return
    await registry.update(configmaps, NAMESPACE, CONFIGMAP, mutate, create=create)  # retried on conflicts


def reader_role() -> dict[str, Any]:
    """kube's bootstrap Role that lets an extension server read the ConfigMap."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {
            "name": "extension-apiserver-authentication-reader",
            "namespace": NAMESPACE,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["configmaps"],
                "resourceNames": [CONFIGMAP],
                "verbs": ["get", "list", "watch"],
            }
        ],
    }
