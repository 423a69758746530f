"""Joining a cluster with the server URL and a node token alone, securely (k3s's scheme).

The token `K10<sha256 of the CA PEM>::node:<secret>` carries the hash of the server's CA. The
agent fetches the CA from `/cacerts` over an unverified connection, checks its hash against
the token, and only then trusts it, so the secret is sent only to the server that owns that
CA. A wrong token format or a CA that does not match stops the agent with one clear line.

The token is a bootstrap credential: a real node next gets its own client certificate with it
(kubelet/bootstrap.py). Hollow nodes (`name_header`) instead name themselves in an
`X-Kubelite-Node-Name` header beside the token, which only a server run with
`--trust-node-name-header` (benchmarks) believes.
"""

from __future__ import annotations

import hashlib
import http.client
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from api.config import ClientConfig

NODE_NAME_HEADER = "X-Kubelite-Node-Name"


class JoinError(Exception):
    """The agent cannot join: bad token, unreachable server, or a CA that does not match."""


@dataclass(frozen=True)
class NodeToken:
    ca_hash: str
    credential: str  # what goes in the Authorization header: node:<secret>


def parse_token(token: str) -> NodeToken:
    token = token.strip()
    if not token.startswith("K10") or "::" not in token:
        raise JoinError(
            "invalid node token: expected the format K10<ca-hash>::node:<secret> "
            "(the content of the server's DATA_DIR/node-token)"
        )
    ca_hash, _, credential = token[3:].partition("::")
    if len(ca_hash) != 64 or not credential.startswith("node:") or len(credential) <= len("node:"):
        raise JoinError("invalid node token: expected the format K10<ca-hash>::node:<secret>")
    return NodeToken(ca_hash.lower(), credential)


def fetch_ca(server: str, timeout: float = 10.0) -> bytes:
    """The server's CA bundle from /cacerts, read without verification (it is checked by hash next)."""
    u = urlsplit(server)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection(u.hostname or "localhost", u.port or 443, timeout=timeout, context=ctx)
    try:
        conn.request("GET", "/cacerts")
        resp = conn.getresponse()
        body = resp.read()
    except OSError as e:
        raise JoinError(f"cannot reach the server at {server}: {e}") from e
    finally:
        conn.close()
    if resp.status != 200:
        raise JoinError(f"the server at {server} did not give its CA (HTTP {resp.status})")
    return body


def join_config(
    server: str, token: str, node_name: str, ca_pem: bytes | None = None, name_header: bool = False
) -> ClientConfig:
    """A client configuration for this node, once the server's CA has been checked against the token."""
    parsed = parse_token(token)
    ca = ca_pem if ca_pem is not None else fetch_ca(server)
    got = hashlib.sha256(ca).hexdigest()
    if got != parsed.ca_hash:
        raise JoinError(
            f"the server's CA (sha256 {got[:12]}...) does not match the node token "
            f"({parsed.ca_hash[:12]}...): refusing to send the secret"
        )
    return ClientConfig(
        server=server.rstrip("/"),
        token=parsed.credential,
        ca_data=ca,
        extra_headers={NODE_NAME_HEADER: node_name} if name_header else {},
        user_agent=f"kubelite-agent/{node_name}",
    )
