"""Registry credentials: docker-style `auth.json` files and the `WWW-Authenticate` challenge.

Credentials come from `--authfile` when given, else `<root>/auth.json`, else
`~/.docker/config.json` (the first file that exists; podman and docker write the same shape:
`{"auths": {"<host>": {"auth": base64("user:password")}}}`). Keys may carry a scheme or a path
(`https://index.docker.io/v1/`), so hosts are compared after stripping those. Pure functions
except the two that touch files.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

from runtime.images.errors import AuthError

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def host_key(key: str) -> str:
    """`https://index.docker.io/v1/` -> `docker.io`; `http://localhost:5000/` -> `localhost:5000`."""
    host = re.sub(r"^[a-z]+://", "", key).split("/", 1)[0]
    return "docker.io" if host in _HUB_ALIASES else host


def default_authfiles(root: Path) -> list[Path]:
    return [root / "auth.json", Path.home() / ".docker" / "config.json"]


def load_credentials(registry: str, authfile: Path | None, root: Path | None) -> tuple[str, str] | None:
    """(user, password) for `registry` from the first auth file that exists, or None."""
    files = [authfile] if authfile else default_authfiles(root) if root else []
    for path in files:
        try:
            doc = json.loads(path.read_text())
        except FileNotFoundError:
            continue
        except ValueError as e:
            raise AuthError(f"{path}: not valid JSON: {e}") from None
        return credentials_from(doc, registry)
    return None


def credentials_from(doc: dict, registry: str) -> tuple[str, str] | None:
    wanted = host_key(registry)
    for key, entry in (doc.get("auths") or {}).items():
        if host_key(key) != wanted or not isinstance(entry, dict):
            continue
        if entry.get("auth"):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except ValueError:
                raise AuthError(f"malformed auth entry for {key}") from None
            return user, password
        if entry.get("username"):
            return entry["username"], entry.get("password", "")
    return None


def save_login(path: Path, registry: str, user: str, password: str) -> None:
    """Add or replace the entry for `registry` in `path`, keeping other entries (mode 0600)."""
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        doc = {}
    except ValueError as e:
        raise AuthError(f"{path}: not valid JSON: {e}") from None
    auths = doc.setdefault("auths", {})
    key = DOCKER_HUB_KEY if host_key(registry) == "docker.io" else host_key(registry)
    for existing in [k for k in auths if host_key(k) == host_key(registry)]:
        del auths[existing]
    auths[key] = {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(tmp, path)


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="https://a/token",service="reg",scope="repository:x:pull"` -> ("bearer", {...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)).replace('\\"', '"')
        for m in _PARAM.finditer(rest)
    }
    return scheme.lower(), params


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
