"""Where to reach the API server and with what credentials: kubeconfig loading, as kubectl does.

`$KUBECONFIG` may list several files (colon-separated); they merge with the first file's value
winning for each name and for `current-context`. The result is a `ClientConfig`, all a client
needs: server URL, CA, bearer token or client certificate, namespace. kubectl's own `config`
verbs work on the raw merged document (`load_merged`).
"""

from __future__ import annotations

import base64
import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVERS_EXTENSION = "kubelite.io/servers"
"""A cluster entry's extension listing every API server of the cluster: `{"servers": [URL, ...]}`
(kubeconfig `extensions` are where tools keep their own data; kubectl ignores what it does not know)."""


class ConfigError(Exception):
    """The kubeconfig is missing, unreadable, or does not name what was asked."""


@dataclass
class ClientConfig:
    server: str
    token: str | None = None
    ca_data: bytes | None = None  # PEM
    client_cert_data: bytes | None = None  # PEM
    client_key_data: bytes | None = None  # PEM
    insecure: bool = False
    namespace: str = "default"
    timeout: float | None = None  # seconds for a whole non-watch request; None = no limit
    user_agent: str = "kubelite"
    extra_headers: dict[str, str] = field(default_factory=dict)  # e.g. the node name of a node credential
    # headers a request may carry more than once, in order (`Impersonate-Group` per group)
    repeated_headers: tuple[tuple[str, str], ...] = ()
    fallback_servers: tuple[
        str, ...
    ] = ()  # other API servers of the cluster, tried when `server` is unreachable

    def all_servers(self) -> list[str]:
        """`server` first, then the fallbacks (no duplicates): the order clients try them in."""
        return list(dict.fromkeys([self.server, *self.fallback_servers]))

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.server.startswith("https"):
            return None
        if self.insecure:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ctx = ssl.create_default_context(cadata=self.ca_data.decode() if self.ca_data else None)
        if self.client_cert_data and self.client_key_data:
            import tempfile  # only here: it costs ~3 ms of a CLI's start

            # ssl wants files; keep them only as long as loading takes
            with tempfile.NamedTemporaryFile() as c, tempfile.NamedTemporaryFile() as k:
                c.write(self.client_cert_data)
                c.flush()
                k.write(self.client_key_data)
                k.flush()
                ctx.load_cert_chain(c.name, k.name)
        return ctx


def default_paths() -> list[Path]:
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


def load_merged(paths: list[Path] | None = None) -> dict[str, Any]:
    """Merge kubeconfig files: named entries and scalar fields keep the first file's value."""
    import yaml

    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": [], "current-context": ""}
    seen: dict[str, set[str]] = {"clusters": set(), "users": set(), "contexts": set()}
    for path in paths or default_paths():
        if not path.exists():
            continue
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f'error loading config file "{path}": {e}') from e
        if not isinstance(doc, dict):
            raise ConfigError(f'error loading config file "{path}": not a kubeconfig')
        for section in ("clusters", "users", "contexts"):
            for entry in doc.get(section) or []:
                name = entry.get("name")
                if name and name not in seen[section]:
                    seen[section].add(name)
                    # relative file paths in a kubeconfig are relative to that file
                    merged[section].append(_resolve_files(entry, path.parent))
        if not merged["current-context"] and doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
        merged.setdefault("_first_file", str(path))
    return merged


def _resolve_files(entry: dict[str, Any], base: Path) -> dict[str, Any]:
    for section in ("cluster", "user"):
        body = entry.get(section)
        if isinstance(body, dict):
            for key in ("certificate-authority", "client-certificate", "client-key", "tokenFile"):
                if body.get(key) and not os.path.isabs(body[key]):
                    body[key] = str(base / body[key])
    return entry


def _named(doc: dict[str, Any], section: str, name: str) -> dict[str, Any]:
    for entry in doc.get(section) or []:
        if entry.get("name") == name:
            return dict(entry.get(section[:-1]) or {})
    raise ConfigError(f'{section[:-1]} "{name}" not found in kubeconfig')


def _data(body: dict[str, Any], key: str) -> bytes | None:
    if body.get(f"{key}-data"):
        return base64.b64decode(body[f"{key}-data"])
    if body.get(key):
        try:
            return Path(body[key]).read_bytes()
        except OSError as e:
            raise ConfigError(f"unable to read {key} {body[key]}: {e}") from e
    return None


def cluster_servers(cluster: dict[str, Any]) -> tuple[str, ...]:
    """The servers a cluster entry's `kubelite.io/servers` extension lists (none without one)."""
    for ext in cluster.get("extensions") or []:
        body = (
            ext.get("extension") if isinstance(ext, dict) and ext.get("name") == SERVERS_EXTENSION else None
        )
        if isinstance(body, dict) and isinstance(body.get("servers"), list):
            return tuple(str(u).rstrip("/") for u in body["servers"] if u)
    return ()


def from_kubeconfig(
    paths: list[Path] | None = None,
    context: str | None = None,
    cluster: str | None = None,
    user: str | None = None,
) -> ClientConfig:
    """The ClientConfig kubectl would use for these files and overrides."""
    return from_merged(load_merged(paths), context, cluster, user)


def from_merged(
    doc: dict[str, Any],
    context: str | None = None,
    cluster: str | None = None,
    user: str | None = None,
) -> ClientConfig:
    """The ClientConfig for an already merged kubeconfig document (kubectl caches the merge)."""
    ctx_name = context or doc.get("current-context")
    ctx: dict[str, Any] = {}
    if ctx_name:
        ctx = _named(doc, "contexts", ctx_name)
    elif not (cluster and user):
        raise ConfigError(
            "no configuration has been provided, try setting KUBERNETES_MASTER environment variable"
        )
    cl = _named(doc, "clusters", cluster or ctx.get("cluster", ""))
    us = _named(doc, "users", user or ctx.get("user", "")) if (user or ctx.get("user")) else {}
    if not cl.get("server"):
        raise ConfigError("no server found for cluster")
    token = us.get("token")
    if not token and us.get("tokenFile"):
        token = Path(us["tokenFile"]).read_text().strip()
    return ClientConfig(
        server=cl["server"].rstrip("/"),
        fallback_servers=cluster_servers(cl),
        token=token,
        ca_data=_data(cl, "certificate-authority"),
        client_cert_data=_data(us, "client-certificate"),
        client_key_data=_data(us, "client-key"),
        insecure=bool(cl.get("insecure-skip-tls-verify")),
        namespace=ctx.get("namespace") or "default",
    )
