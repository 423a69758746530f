"""`kubectl create service clusterip|nodeport|loadbalancer|externalname NAME [--tcp=port[:target]]`.

Builds the Service kubectl's create_service.go builds: label and selector `app: NAME`, one TCP
port per `--tcp` value (comma lists allowed, as a StringSlice flag) named after the value with
`:` made `-` (`5678:8080` is port 5678, targetPort 8080, name `5678-8080`; a target that is not
a number is a named port), `--node-port` on every port of a NodePort service, `--clusterip=None`
for a headless one, `--external-name` (a DNS subdomain) for an ExternalName one. The checks and
their wording are kubectl's, down to strconv's. kubectl's service generators never read
`--save-config` (their Complete skips it), so it is accepted and ignored here too.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from kubectl.env import CommandError, Env
from kubectl.flags import WRITE_FLAGS, FlagSpec, Help, Parsed

TYPES = {
    "clusterip": "ClusterIP",
    "nodeport": "NodePort",
    "loadbalancer": "LoadBalancer",
    "externalname": "ExternalName",
}
_TCP: FlagSpec = {"tcp": ("list", [], "", "A port of the service, port or port:targetPort; may be repeated.")}
_OWN: dict[str, FlagSpec] = {
    "clusterip": {
        **_TCP,
        "clusterip": ("str", "", "", "The cluster IP to ask for; 'None' makes a headless service."),
    },
    "nodeport": {**_TCP, "node-port": ("int", 0, "", "The port on every node; 0 lets the server choose.")},
    "loadbalancer": _TCP,
    "externalname": {**_TCP, "external-name": ("str", "", "", "The DNS name the service is an alias of.")},
}
FLAGS: dict[str, FlagSpec] = {
    "create": {**WRITE_FLAGS, **{k: v for own in _OWN.values() for k, v in own.items()}}
}
_SHAPE = "NAME [--tcp=<port>:<targetPort>] [--dry-run=server|client|none]"
HELP = {
    "create service": Help(
        summary="Create a service of one of several types",
        more="The subcommand names the service's type.",
        aliases=("svc",),
        usage="(clusterip | externalname | loadbalancer | nodeport)",
        examples="""
        # A cluster-internal service for the pods labelled app=web
        kubectl create service clusterip web --tcp=80:8080
        """,
        flags=(),
    ),
    "create service clusterip": Help(
        summary="Create a service reachable at a cluster IP",
        more="Its selector is app=NAME, so pods labelled so receive its traffic.",
        usage=_SHAPE,
        examples="""
        # Port 80 to the pods' 8080
        kubectl create service clusterip web --tcp=80:8080

        # A headless service
        kubectl create service clusterip db --clusterip=None
        """,
        flags=(*WRITE_FLAGS, *_OWN["clusterip"]),
    ),
    "create service nodeport": Help(
        summary="Create a service reachable on a port of every node",
        usage=_SHAPE,
        examples="""
        # Port 80, on node port 30080
        kubectl create service nodeport web --tcp=80:8080 --node-port=30080
        """,
        flags=(*WRITE_FLAGS, *_OWN["nodeport"]),
    ),
    "create service loadbalancer": Help(
        summary="Create a service behind an external load balancer",
        usage=_SHAPE,
        examples="""
        # Port 443 to the pods' 8443
        kubectl create service loadbalancer web --tcp=443:8443
        """,
        flags=(*WRITE_FLAGS, *_OWN["loadbalancer"]),
    ),
    "create service externalname": Help(
        summary="Create a service that is a DNS alias of an outside name",
        usage="NAME --external-name external.name [--dry-run=server|client|none]",
        examples="""
        # db resolves to a managed database's name
        kubectl create service externalname db --external-name=db.example.com
        """,
        flags=(*WRITE_FLAGS, *_OWN["externalname"]),
    ),
}
_PORT_NAME = re.compile(r"^[-a-z0-9]+$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _parse_uint16(text: str) -> int:
    """strconv.ParseUint(text, 10, 16), with its errors."""
    if not text or not text.isascii() or not text.isdigit():
        raise CommandError(f'error: strconv.ParseUint: parsing "{text}": invalid syntax')
    if int(text) > 65535:
        raise CommandError(f'error: strconv.ParseUint: parsing "{text}": value out of range')
    return int(text)


def port_name_errors(name: str) -> list[str]:
    """validation.IsValidPortName."""
    errs = []
    if len(name) > 15:
        errs.append("must be no more than 15 characters")
    if not _PORT_NAME.match(name):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", name):
        errs.append("must contain at least one letter (a-z)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens (-)")
    if name[:1] == "-" or name[-1:] == "-":
        errs.append("must not begin or end with a hyphen (-)")
    return errs


def parse_ports(spec: str) -> tuple[int, int | str]:
    """`port[:targetPort]` -> (port, targetPort); the target defaults to the port."""
    parts = spec.split(":")
    port = _parse_uint16(parts[0])
    if len(parts) == 1:
        return port, port
    target = parts[1]
    if re.fullmatch(r"[+-]?[0-9]+", target):
        if not 1 <= int(target) <= 65535:
            raise CommandError("error: must be between 1 and 65535, inclusive")
        return port, int(target)
    errs = port_name_errors(target)
    if errs:
        raise CommandError("error: " + ",".join(errs))
    return port, target


def service_object(
    name: str, type_: str, tcp: list[str], cluster_ip: str = "", node_port: int = 0, external_name: str = ""
) -> dict[str, Any]:
    if cluster_ip == "None" and type_ != "ClusterIP":
        raise CommandError("error: ClusterIP=None can only be used with ClusterIP service type")
    if cluster_ip != "None" and not tcp and type_ != "ExternalName":
        raise CommandError("error: at least one tcp port specifier must be provided")
    if type_ == "ExternalName" and (len(external_name) > 253 or not _DNS1123_SUBDOMAIN.match(external_name)):
        raise CommandError(f"error: invalid service external name {external_name}")
    ports: list[dict[str, Any]] = []
    for spec in tcp:
        port, target = parse_ports(spec)
        entry: dict[str, Any] = {"name": spec.replace(":", "-"), "protocol": "TCP", "port": port}
        entry["targetPort"] = target
        if node_port:
            entry["nodePort"] = node_port
        ports.append(entry)
    spec_: dict[str, Any] = {}
    if ports:
        spec_["ports"] = ports
    spec_["selector"] = {"app": name}
    if cluster_ip:
        spec_["clusterIP"] = cluster_ip
    spec_["type"] = type_
    if external_name:
        spec_["externalName"] = external_name
    return {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": name, "creationTimestamp": None, "labels": {"app": name}},
        "spec": spec_,
        "status": {"loadBalancer": {}},
    }


def _slice(values: list[str]) -> list[str]:
    """A StringSlice flag's values: each occurrence split at commas."""
    return [v for value in values if value for v in value.split(",")]


def create(env: Env, p: Parsed) -> int:
    from kubectl.creating import create_generated, one_name, unknown_flags

    rest = p.args[1:]
    if not rest or rest[0] not in TYPES:  # `create service` itself takes no flags
        unknown_flags(p, [], "service")
    if not rest:
        from kubectl.helppage import page

        print(page(HELP, FLAGS, "create", ["service"]), end="", file=sys.stderr)
        return 1
    sub = rest[0]
    if sub not in TYPES:
        raise CommandError(
            f"error: unknown command \"{sub}\"\nSee 'kubectl create service -h' for help and examples"
        )
    unknown_flags(p, [*WRITE_FLAGS, *_OWN[sub]], f"service {sub}")
    if sub == "externalname" and "external-name" not in p.seen:
        raise CommandError('error: required flag(s) "external-name" not set')
    name = one_name(rest[1:], f"service {sub}")
    obj = service_object(
        name,
        TYPES[sub],
        _slice(p["tcp"]),
        p.flags.get("clusterip") or "",
        p.flags.get("node-port") or 0,
        p.flags.get("external-name") or "",
    )
    p.flags["save-config"] = False
    return create_generated(env, p, obj, "services", f"failed to create {TYPES[sub]} service: ")
