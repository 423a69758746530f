"""`kubectl create ingress NAME --rule=host/path=svc:port[,tls[=secret]] [--class] [--default-backend]
[--annotation k=v]`.

Builds the networking.k8s.io/v1 Ingress kubectl's create_ingress.go builds from its rule syntax:
a rule is checked against kubectl's pattern (Go's `\\w` is ASCII, hence re.ASCII); its path is
`pathType: Exact`, or `Prefix` with the trailing `*` dropped; rules of one host share one entry;
a port that is a number is `port.number`, else `port.name`; `,tls` adds the host to the TLS
entry of the same secret (`,tls=secret`) or a new one, each host once. Creating goes through
`creating.create_generated`.
"""

from __future__ import annotations

import re
from typing import Any

from kubectl.env import CommandError, Env
from kubectl.flags import WRITE_FLAGS, FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {
    "create": {
        **WRITE_FLAGS,
        "class": ("str", "", "", "The ingress class (the controller that serves it)."),
        "rule": (
            "list",
            [],
            "",
            "A rule host/path=service:port[,tls[=secret]] (path* for a prefix); may be repeated.",
        ),
        "default-backend": ("str", "", "", "The service:port of requests no rule matches."),
        "annotation": ("list", [], "", "An annotation (key=value) for the ingress; may be repeated."),
    }
}
HELP = {
    "create ingress": Help(
        summary="Create an ingress from host/path rules",
        more="A rule's path matches exactly, or as a prefix when it ends with *. ,tls serves the "
        "host over TLS, with the certificate of the named secret.",
        aliases=("ing",),
        usage="NAME --rule=host/path=service:port[,tls[=secret]]",
        examples="""
        # One host, one path
        kubectl create ingress web --rule="example.com/=web:80"

        # Everything under /api to another service, over TLS
        kubectl create ingress api --rule="example.com/api*=api:8080,tls=example-tls"

        # A class and a catch-all backend
        kubectl create ingress edge --class=nginx --default-backend=fallback:80 --rule="shop.example.com/*=shop:80"
        """,
    )
}
_RULE = re.compile(
    r"^(?P<host>[\w\*\-\.]*)(?P<path>/[^,=\n]*)=(?P<svcname>[\w\-]+):(?P<svcport>[\w\-]+)"
    r"(,(?P<istls>tls)=?(?P<secretname>[\w\-]+)?)?$",
    re.ASCII,
)


def validate(rules: list[str], annotations: list[str], default_backend: str) -> None:
    if not default_backend and not rules:
        raise CommandError(
            "error: not enough information provided: every ingress has to either specify a "
            "default-backend (which catches all traffic) or a list of rules (which catch specific paths)"
        )
    for rule in rules:
        if not _RULE.match(rule):
            raise CommandError(
                f"error: rule {rule} is invalid and should be in format host/path=svcname:svcport[,tls[=secret]]"
            )
    for annotation in annotations:
        if "=" not in annotation:
            raise CommandError(
                f"error: annotation {annotation} is invalid and should be in format key=[value]"
            )
    if default_backend and len(default_backend.split(":")) != 2:
        raise CommandError("error: default-backend should be in format servicename:serviceport")


def backend(service: str) -> dict[str, Any]:
    """`svc:8080` -> port.number, `svc:http` -> port.name (intstr.Parse)."""
    name, port = service.split(":")[0], service.split(":")[1]
    number = re.fullmatch(r"[+-]?[0-9]+", port)
    return {"service": {"name": name, "port": {"number": int(port)} if number else {"name": port}}}


def http_path(path_and_service: str) -> dict[str, Any]:
    path, service = path_and_service.split("=")[0], path_and_service.split("=")[1]
    path = "/" + path
    path_type = "Exact"
    if path.endswith("*"):
        path_type, path = "Prefix", path[:-1]
    return {"path": path, "pathType": path_type, "backend": backend(service)}


def tls_entries(rules: list[str]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    seen_hosts: set[str] = set()
    for rule in rules:
        parts = rule.split(",")
        if len(parts) != 2:
            continue
        host = rule.split("/", 1)[0]
        secret_parts = parts[1].split("=")
        secret = secret_parts[1] if len(secret_parts) > 1 else ""
        if host in seen_hosts:
            continue
        same_secret = next((e for e in entries if e.get("secretName", "") == secret), None)
        seen_hosts.add(host)
        if same_secret is not None:
            same_secret.setdefault("hosts", []).append(host)
            continue
        entry: dict[str, Any] = {}
        if host:
            entry["hosts"] = [host]
        if secret:
            entry["secretName"] = secret
        if entry:
            entries.append(entry)
    return entries


def ingress_rules(rules: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rule in rules:
        host, rest = rule.split(",")[0].split("/", 1)
        path = http_path(rest)
        same_host = next((r for r in out if r.get("host", "") == host), None)
        if same_host is not None:
            same_host["http"]["paths"].append(path)
            continue
        entry: dict[str, Any] = {"host": host} if host else {}
        entry["http"] = {"paths": [path]}
        out.append(entry)
    return out


def ingress_object(
    name: str, class_: str, rules: list[str], default_backend: str, annotations: list[str]
) -> dict[str, Any]:
    validate(rules, annotations, default_backend)
    meta: dict[str, Any] = {"name": name, "creationTimestamp": None}
    if annotations:
        pairs = dict(a.split("=", 1) for a in annotations)
        meta["annotations"] = dict(sorted(pairs.items()))
    spec: dict[str, Any] = {}
    if class_:
        spec["ingressClassName"] = class_
    if default_backend:
        spec["defaultBackend"] = backend(default_backend)
    tls = tls_entries(rules)
    if tls:
        spec["tls"] = tls
    if rules:
        spec["rules"] = ingress_rules(rules)
    return {
        "kind": "Ingress",
        "apiVersion": "networking.k8s.io/v1",
        "metadata": meta,
        "spec": spec,
        "status": {"loadBalancer": {}},
    }


def create(env: Env, p: Parsed) -> int:
    from kubectl.creating import create_generated, one_name

    name = one_name(p.args[1:], "ingress")
    obj = ingress_object(name, p["class"], p["rule"], p["default-backend"], p["annotation"])
    return create_generated(env, p, obj, "ingresses", "failed to create ingress: ")
