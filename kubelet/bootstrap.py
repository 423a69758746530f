"""The kubelet's own client certificate, by TLS bootstrap (kube's `--bootstrap-kubeconfig` and client
certificate rotation), with k3s's node password.

The node token is a bootstrap credential: with it the agent may only ask for a certificate and read
the answer. It asks with a fresh EC P-256 key and a CertificateSigningRequest named `node-csr-<random>`
(kube's kubelet names its bootstrap requests `node-csr-...`) for signer
`kubernetes.io/kube-apiserver-client-kubelet`, subject `CN=system:node:<name>, O=system:nodes`,
usages digital signature and client auth, and sends its node password beside it
(`X-Kubelite-Node-Password`: a random value kept in `DATA_DIR/node-password`, 0600, made on the
first join; k3s keeps `/etc/rancher/node/password`). The API server records or checks the password
(a different one is refused with k3s's words: the agent stops with them), the controller manager
approves the request (controller/clientapproving.py: nodeclient) and signs it; the agent waits for
`status.certificate` through a watch of that request (kubelet/certmanager.py's `wait_issued`).

Kept as certificate then key in `DATA_DIR/pki/kubelet-client-current.pem` (kube's name), 0600, and
reused after a restart while it is unexpired, issued by the cluster CA (the one checked against the
node token) and names this node; otherwise the agent bootstraps again. Every request then goes with
that certificate alone (no token, no node-name header): the API server knows the node by it.

Rotation (kube's selfnodeclient): at a jittered 70-90 % of the certificate's validity (notBefore to
notAfter, as client-go's certificate manager: `nextRotationDeadline`) a new key and request are made
with the current certificate, so the requester is the node itself; once issued the pair replaces
the file and the client's TLS context: new requests present it, and a kept-alive connection of the
old one is closed rather than reused (kube's kubelet closes its connections on rotation), since the
API server checks a client certificate's validity on every request, as kube's does. A watch already
streaming stays on its connection until it ends. A request refused or an error is retried as kube's
manager does (certmanager.retry_delays), the old certificate serving meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import logging
import os
import random
from pathlib import Path
from typing import Any

from api import nodepassword
from api.config import ClientConfig
from api.errors import ApiError
from api.kubeletcerts import node_user
from kubelet.certmanager import (
    PERIOD,
    RESOURCE,
    WAIT_ISSUED,
    Refused,
    jittered,
    new_request,
    retry_delays,
    rotation_deadline,
    stored_problem,
    wait_issued,
)

log = logging.getLogger(__name__)

CERT_FILE = "kubelet-client-current.pem"
PASSWORD_FILE = "node-password"
RETRY = 5.0


class BootstrapRefused(Exception):
    """The server will not give this node a certificate (its password does not match the name's)."""


# --- decisions (pure) --------------------------------------------------------------------
def csr_object(request_pem: bytes, generate_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"generateName": generate_name},
        "spec": {
            "request": base64.b64encode(request_pem).decode(),
            "signerName": nodepassword.CLIENT_SIGNER,
            "usages": nodepassword.client_usages_for(rsa=False),
        },
    }


def unusable(pem: bytes, ca_pem: bytes, node: str, now: dt.datetime) -> str:
    """Why a stored client certificate is not to be used again ("" when it is): see
    `certmanager.stored_problem`, or it is another node's."""
    from cryptography.x509.oid import NameOID

    cert, why = stored_problem(pem, ca_pem, now)
    if cert is None:
        return why
    cns = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if cns != [node_user(node)]:
        return f"is for {cns}, not {node_user(node)}"
    return why


def with_certificate(cfg: ClientConfig, pem: bytes) -> ClientConfig:
    """`cfg` authenticating with the certificate and key in `pem` alone."""
    cert_end = pem.index(b"-----END CERTIFICATE-----") + len(b"-----END CERTIFICATE-----\n")
    headers = {k: v for k, v in cfg.extra_headers.items() if k != nodepassword.HEADER}
    return dataclasses.replace(
        cfg,
        token=None,
        client_cert_data=pem[:cert_end],
        client_key_data=pem[cert_end:],
        extra_headers=headers,
    )


def node_password(data_dir: Path) -> str:
    """This node's password, made on the first join and kept (0600)."""
    path = data_dir / PASSWORD_FILE
    if path.exists() and (value := path.read_text().strip()):
        return value
    value = nodepassword.new_password()
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value


# --- I/O ---------------------------------------------------------------------------------
async def ask(client: Any, node: str, path: Path, generate_name: str, wait: float | None = None) -> str:
    """One request for a client certificate, waited for (at most `wait` seconds: TimeoutError) and
    stored with its key; its name."""
    from api import x509 as certs

    request, key = new_request(node)
    created = await client.create(RESOURCE, csr_object(request, generate_name))
    name = str(created["metadata"]["name"])
    log.info("client certificate: asked with %s, waiting for its approval", name)
    pem = await asyncio.wait_for(wait_issued(client, name), wait)
    path.parent.mkdir(parents=True, exist_ok=True)
    certs.write_private(path, pem.rstrip(b"\n") + b"\n" + key)
    log.info("client certificate: %s issued, stored in %s", name, path)
    return name


async def bootstrap(cfg: ClientConfig, node: str, data_dir: Path) -> ClientConfig:
    """`cfg` (the node token's) turned into this node's own client certificate: the stored one if
    still good, else one asked for with the token and the node password (waited for as long as it
    takes, as kube's kubelet). BootstrapRefused when the server refuses the password."""
    from api.aclient import AsyncClient

    path = data_dir / "pki" / CERT_FILE
    if path.exists():
        why = unusable(path.read_bytes(), cfg.ca_data or b"", node, dt.datetime.now(dt.UTC))
        if not why:
            log.info("client certificate: reusing %s", path)
            return with_certificate(cfg, path.read_bytes())
        log.info("client certificate: %s %s, bootstrapping again", path, why)
    headers = {**cfg.extra_headers, nodepassword.HEADER: node_password(data_dir)}
    client = AsyncClient(dataclasses.replace(cfg, extra_headers=headers))
    delay = RETRY
    try:
        while True:
            try:
                await ask(client, node, path, "node-csr-")
                return with_certificate(cfg, path.read_bytes())
            except ApiError as e:
                if e.code == 403 and "Node password rejected" in str(e):
                    raise BootstrapRefused(str(e)) from None
                log.warning("client certificate: %s; asking again in %.0f s", e, delay)
            except (Refused, OSError) as e:
                log.warning("client certificate: %s; asking again in %.0f s", e, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 300.0)
    finally:
        await client.aclose()


async def rotate(client: Any, node: str, data_dir: Path, rng: random.Random | None = None) -> None:
    """Until cancelled: renew the client certificate at each deadline with the current one, and put
    each new one into `client`'s connections (kube's certificate rotation: its manager's loop, which
    runs at most once a second, its retries, its 15-minute wait for a request to be issued)."""
    from cryptography import x509

    rng = rng or random.Random()
    path = data_dir / "pki" / CERT_FILE
    while True:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        deadline = rotation_deadline(cert.not_valid_before_utc, cert.not_valid_after_utc, jittered(rng))
        log.info("client certificate valid until %s: renewing at %s", cert.not_valid_after_utc, deadline)
        await asyncio.sleep(max(PERIOD, (deadline - dt.datetime.now(dt.UTC)).total_seconds()))
        delays = retry_delays(rng)
        while True:
            try:
                await ask(client, node, path.with_name(CERT_FILE + ".new"), "csr-", WAIT_ISSUED)
                break
            except (ApiError, Refused, OSError) as e:  # TimeoutError (never issued) is an OSError
                delay = next(delays)
                log.warning("client certificate renewal: %s; asking again in %.0f s", e, delay)
                await asyncio.sleep(delay)
        os.replace(path.with_name(CERT_FILE + ".new"), path)
        use(client, with_certificate(client.config, path.read_bytes()))
        log.info("client certificate: renewed, new connections present it")


def use(client: Any, cfg: ClientConfig) -> None:
    """Give an AsyncClient's pool a TLS context with `cfg`'s certificate: new connections present it,
    and those of the old one are closed instead of reused (api/connpool.py), as kube's kubelet closes
    its connections on rotation, so no request goes with the old certificate once it is replaced."""
    client.config = cfg
    client.pool.ssl = cfg.ssl_context()
    client.pool.drop_idle()
