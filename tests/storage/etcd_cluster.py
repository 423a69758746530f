"""A real etcd cluster on loopback for tests and benches: N members of Debian's etcd-server.

Each member gets free loopback ports and its own data dir under one temp dir; the members
form a static cluster (`--initial-cluster`), so nothing is discovered over the network. The
context manager waits (by polling with a deadline) until every member answers /health, and on
exit stops every member it started (SIGTERM, then SIGKILL after a grace) and removes the dir:
no etcd process is left behind, whatever the tests did.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass(frozen=True)
class ClientTLS:
    """Serve clients over HTTPS with this CA, server cert and key, and require client certs."""

    ca: Path
    cert: Path
    key: Path

    def context(self, client_cert: Path | None = None, client_key: Path | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if client_cert is not None:
            ctx.load_cert_chain(str(client_cert), str(client_key) if client_key else None)
        return ctx


@dataclass
class EtcdCluster:
    client_urls: list[str]
    workdir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def endpoints(self) -> str:
        """`h1:p1,h2:p2,...` as etcdctl's --endpoints and our etcd:// URL want them."""
        return ",".join(u.split("://", 1)[1] for u in self.client_urls)

    def datastore_url(self, prefix: str = "") -> str:
        return f"etcd://{self.endpoints}/{prefix.lstrip('/')}"

    def etcdctl(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ETCDCTL, f"--endpoints={self.endpoints}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"},
        )


def make_pki(directory: Path) -> tuple[ClientTLS, Path, Path]:
    """A CA, a member certificate for 127.0.0.1 and a client certificate. The member's has both
    serverAuth and clientAuth: etcd's JSON gateway dials its own gRPC port with it."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def issue(
        cn: str,
        signer: ec.EllipticCurvePrivateKey | None,
        issuer: x509.Name | None,
        usages: list[x509.ObjectIdentifier],
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        b = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=signer is None, path_length=None), critical=True)
        )
        if usages:
            b = b.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            b = b.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return key, b.sign(signer or key, hashes.SHA256())

    def write(stem: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> tuple[Path, Path]:
        (directory / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (directory / f"{stem}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return directory / f"{stem}.crt", directory / f"{stem}.key"

    ca_key, ca = issue("etcd-test-ca", None, None, [])
    ca_path, _ = write("ca", ca_key, ca)
    member = write(
        "member",
        *issue(
            "etcd-member",
            ca_key,
            ca.subject,
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
        ),
    )
    client = write("client", *issue("kubelite", ca_key, ca.subject, [ExtendedKeyUsageOID.CLIENT_AUTH]))
    return ClientTLS(ca_path, *member), *client


def _healthy(url: str, ctx: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1, context=ctx) as r:
            return bool(json.loads(r.read()).get("health") == "true")
    except (OSError, ValueError):
        return False


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@contextlib.contextmanager
def etcd_cluster(
    members: int = 3,
    timeout: float = 30,
    tls: ClientTLS | None = None,
    health_cert: tuple[Path, Path] | None = None,
) -> Iterator[EtcdCluster]:
    """With `tls`, clients speak HTTPS and must show a certificate signed by its CA
    (`health_cert` is the one the readiness poll shows)."""
    workdir = Path(tempfile.mkdtemp(prefix="kubelite-etcd-"))
    ports = free_ports(2 * members)
    names = [f"m{i}" for i in range(members)]
    peer = [f"http://127.0.0.1:{ports[2 * i + 1]}" for i in range(members)]
    scheme = "https" if tls else "http"
    client = [f"{scheme}://127.0.0.1:{ports[2 * i]}" for i in range(members)]
    tls_flags = (
        []
        if tls is None
        else [
            "--cert-file",
            str(tls.cert),
            "--key-file",
            str(tls.key),
            "--trusted-ca-file",
            str(tls.ca),
            "--client-cert-auth",
        ]
    )
    health_ctx = None if tls is None else tls.context(*(health_cert or (None, None)))
    initial = ",".join(f"{n}={u}" for n, u in zip(names, peer, strict=True))
    cluster = EtcdCluster(client, workdir)
    try:
        for i, name in enumerate(names):
            log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 (the child keeps it)
            cluster.procs.append(
                subprocess.Popen(
                    [
                        ETCD,
                        "--name",
                        name,
                        "--data-dir",
                        str(workdir / name),
                        "--listen-client-urls",
                        client[i],
                        "--advertise-client-urls",
                        client[i],
                        "--listen-peer-urls",
                        peer[i],
                        "--initial-advertise-peer-urls",
                        peer[i],
                        "--initial-cluster",
                        initial,
                        "--initial-cluster-state",
                        "new",
                        "--initial-cluster-token",
                        workdir.name,
                        "--logger",
                        "zap",
                        "--log-level",
                        "error",
                        "--heartbeat-interval",
                        "50",
                        "--election-timeout",
                        "500",
                        *tls_flags,
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            )
            log.close()
        deadline = time.monotonic() + timeout
        while not all(_healthy(u, health_ctx) for u in client):
            dead = [p.args for p in cluster.procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                logs = "\n".join((workdir / f"{n}.log").read_text(errors="replace")[-2000:] for n in names)
                raise RuntimeError(f"etcd cluster did not become healthy (exited: {len(dead)}):\n{logs}")
            time.sleep(0.05)
        yield cluster
    finally:
        _stop(cluster.procs)
        shutil.rmtree(workdir, ignore_errors=True)
