"""What every verb needs: the client, the namespace, resource names resolved, output streams.

Built from the global flags (`--kubeconfig`, `--context`, `--server`, `-n` ...) the way kubectl
layers them: explicit flags over the kubeconfig's context over defaults. The client is made on
first use, so `kubectl version --client` and `kubectl completion` never read a kubeconfig.
"""

from __future__ import annotations

import re
import sys
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from api.config import ClientConfig, ConfigError, from_merged
from api.errors import ApiError
from api.resources import RESOURCES, Resource, lookup
from kubectl.cache import merged_kubeconfig
from kubectl.flags import Parsed, UsageError


class CommandError(Exception):
    """A failure already worded as kubectl words it; printed as is, exit code attached."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def parse_duration(text: str, flag: str = "duration") -> float:
    """Go durations (`30s`, `1m30s`, `500ms`, `2h`) or a bare number of seconds."""
    text = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    total, pos = 0.0, 0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise UsageError(f'invalid argument "{text}" for "--{flag}" flag: time: invalid duration "{text}"')
    return total


class Env:
    def __init__(self, flags: Parsed, stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> None:
        self.flags = flags
        self.out = stdout or sys.stdout
        self.err = stderr or sys.stderr

    def kubeconfig_paths(self) -> list[Path] | None:
        kc = self.flags.flags.get("kubeconfig")
        return [Path(kc).expanduser()] if kc else None

    @cached_property
    def config(self) -> ClientConfig:
        f = self.flags.flags
        if not f.get("server") and not self._has_kubeconfig():
            # what kubectl does without any configuration
            cfg = ClientConfig(server="http://localhost:8080")
        elif f.get("server") and not (f.get("context") or self._has_kubeconfig()):
            cfg = ClientConfig(server=f["server"].rstrip("/"))
        else:
            doc = merged_kubeconfig(self.kubeconfig_paths())
            for flag, section, text in (
                (
                    "context",
                    "contexts",
                    "Error in configuration: context was not found for specified context: {}",
                ),
                ("cluster", "clusters", 'error: no server found for cluster "{}"'),
            ):
                if f.get(flag) and not any(e.get("name") == f[flag] for e in doc.get(section) or []):
                    raise CommandError(text.format(f[flag]))
            try:
                cfg = from_merged(doc, f.get("context"), f.get("cluster"), f.get("user"))
            except ConfigError as e:
                if not f.get("server"):
                    raise CommandError(f"error: {e}") from e
                cfg = ClientConfig(server=f["server"].rstrip("/"))
        if f.get("server"):
            cfg.server = f["server"].rstrip("/")
            cfg.fallback_servers = ()  # the one server asked for, as kubectl
            if "://" not in cfg.server:
                cfg.server = "http://" + cfg.server
        if f.get("token"):
            cfg.token = f["token"]
        if f.get("as") or f.get("as-group") or f.get("as-uid"):
            cfg.repeated_headers = self._impersonation()
        if f.get("certificate-authority"):
            try:
                cfg.ca_data = Path(f["certificate-authority"]).read_bytes()
            except OSError as e:
                raise CommandError(
                    f"error: unable to read certificate-authority {f['certificate-authority']}: {e.strerror}"
                ) from e
        if f.get("insecure-skip-tls-verify"):
            cfg.insecure = True
        timeout = parse_duration(f.get("request-timeout") or "0", "request-timeout")
        cfg.timeout = timeout or None
        cfg.user_agent = "kubectl/v1.33.0 (kubelite)"
        return cfg

    def _impersonation(self) -> tuple[tuple[str, str], ...]:
        """`--as`, `--as-group` (repeatable), `--as-uid` as client-go's Impersonate-* headers."""
        f = self.flags.flags
        if not f.get("as"):
            user = f.get("user") or ""
            if not user and self._has_kubeconfig():
                doc = merged_kubeconfig(self.kubeconfig_paths())
                ctx_name = f.get("context") or doc.get("current-context")
                for e in doc.get("contexts") or []:
                    if e.get("name") == ctx_name:
                        user = (e.get("context") or {}).get("user") or ""
            raise CommandError(
                f"error: requesting uid, groups or user-extra for {user} without impersonating a user"
            )
        headers = [("Impersonate-User", f["as"])]
        headers += [("Impersonate-Group", g) for g in f.get("as-group") or []]
        if f.get("as-uid"):
            headers.append(("Impersonate-Uid", f["as-uid"]))
        return tuple(headers)

    def _has_kubeconfig(self) -> bool:
        from api.config import default_paths

        return any(p.exists() for p in (self.kubeconfig_paths() or default_paths()))

    @cached_property
    def client(self) -> Any:
        from api.client import Client

        return Client(self.config)

    @property
    def namespace(self) -> str:
        ns = self.flags.flags.get("namespace")
        return ns or self.config.namespace or "default"

    @property
    def namespace_explicit(self) -> bool:
        return bool(self.flags.flags.get("namespace"))

    def resource(self, name: str) -> Resource:
        r = lookup(name)
        if r is None and "." in name:
            # `pods.v1.` / `replicationcontrollers.v1` forms
            r = lookup(name.split(".", 1)[0])
        if r is None:
            from kubectl import discovery

            try:
                r = discovery.by_name(self, name)
            except ApiError:
                r = None
        if r is None:
            raise CommandError(f'error: the server doesn\'t have a resource type "{name}"')
        return r

    def resources_for(self, name: str) -> list[Resource]:
        """`all` and comma lists expand; each name resolves or fails."""
        out: list[Resource] = []
        for part in name.split(","):
            if not part:
                continue
            if part == "all":
                out += [r for r in RESOURCES if "all" in r.categories]
            else:
                out.append(self.resource(part))
        return out

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()
