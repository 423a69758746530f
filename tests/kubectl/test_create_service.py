"""`kubectl create service clusterip|nodeport|loadbalancer|externalname` and `create ingress`, ours
beside the real kubectl 1.33: the same objects, errors and stored results."""

from __future__ import annotations

from collections.abc import Callable

from tests.kubectl.conftest import Result
from tests.kubectl.helpers import created_alike, same, same_dry_run

Run = Callable[..., Result]


def test_service_objects_match_real(ns: str, kubectl: Run, real: Run) -> None:
    for args in (
        ("service", "clusterip", "my-cs", "--tcp=5678:8080"),
        ("service", "clusterip", "my-cs", "--clusterip=None"),
        ("svc", "clusterip", "two", "--tcp=80:http", "--tcp=90,91"),
        ("service", "nodeport", "my-ns", "--tcp=5678:8080", "--node-port=30001"),
        ("service", "loadbalancer", "lb", "--tcp=80", "-n", "other", "--save-config"),
        ("service", "externalname", "ext", "--external-name=bar.com", "--tcp=80"),
    ):
        same_dry_run(kubectl, real, "create", *args)
    obj = same_dry_run(kubectl, real, "create", "service", "clusterip", "my-cs", "--tcp=5678:8080")
    assert obj["spec"]["ports"] == [
        {"name": "5678-8080", "protocol": "TCP", "port": 5678, "targetPort": 8080}
    ]
    assert obj["spec"]["selector"] == obj["metadata"]["labels"] == {"app": "my-cs"}


def test_service_errors_match_real(ns: str, kubectl: Run, real: Run) -> None:
    # `create service` alone: its help page on stderr, exit 1; the words are ours, the layout kubectl's
    ours, theirs = kubectl("create", "service"), real("create", "service")
    assert (ours.code, ours.out, theirs.code, theirs.out) == (1, "", 1, "")

    def layout(text: str) -> tuple[list[str], list[str], list[str]]:
        """The headings, the subcommands listed and the closing lines: the page without its prose."""
        headings = [line for line in text.splitlines() if line.endswith(":") and not line.startswith(" ")]
        listed = text.split("Available Commands:\n")[1].split("\n\n")[0].splitlines()
        return headings, [line.split()[0] for line in listed], text.splitlines()[-2:]

    headings, listed, closing = layout(ours.err)
    assert ([h for h in headings if h != "Examples:"], listed, closing) == layout(theirs.err)
    for args in (
        ("service", "foo"),
        ("service", "clusterip"),
        ("service", "clusterip", "a", "b", "--tcp=80"),
        ("service", "clusterip", "x"),  # no --tcp
        ("service", "clusterip", "x", "--tcp=abc"),
        ("service", "clusterip", "x", "--tcp=70000"),
        ("service", "clusterip", "x", "--tcp=80:99999"),
        ("service", "clusterip", "x", "--tcp=80:http_x"),
        ("service", "nodeport", "x", "--clusterip=None"),  # not a nodeport flag
        ("service", "nodeport", "x", "--tcp=80", "--node-port=abc"),
        ("service", "externalname", "x"),
        ("service", "externalname", "x", "--external-name=Bad_Name"),
    ):
        r = same(kubectl, real, "create", *args)
        assert r.code == 1 and r.err, args


def test_services_are_created_as_real_creates_them(ns: str, kubectl: Run, real: Run) -> None:
    web = created_alike(kubectl, real, "services", "web", "service", "clusterip", "web", "--tcp=80:8080")
    assert web["spec"]["ports"][0]["targetPort"] == 8080 and web["spec"]["type"] == "ClusterIP"
    created_alike(kubectl, real, "services", "hl", "service", "clusterip", "hl", "--clusterip=None")
    created_alike(kubectl, real, "services", "ext", "service", "externalname", "ext", "--external-name=a.b.c")
    r = kubectl("create", "service", "nodeport", "np", "--tcp=80", "--node-port=31923")
    assert (r.code, r.out) == (0, "service/np created\n"), r.err
    got = kubectl("get", "svc", "np", "-o", "jsonpath={.spec.type} {.spec.ports[0].nodePort}")
    assert got.out == "NodePort 31923"  # (test_http's shapes take 30123 on the same server)
    r = same(kubectl, real, "create", "service", "clusterip", "o-web", "--tcp=80")  # exists
    assert r.code == 1 and "failed to create ClusterIP service" in r.err
    r = same(kubectl, real, "create", "service", "clusterip", "dry", "--tcp=80", "--dry-run=server")
    assert r.out == "service/dry created (server dry run)\n"
    assert kubectl("get", "svc", "dry").code == 1


def test_ingress_objects_match_real(ns: str, kubectl: Run, real: Run) -> None:
    for rules in (
        ("--rule=foo.com/bar=svc1:8080,tls=my-cert",),
        (
            "--class=other",
            "--rule=/path=svc:port",
            "--annotation=a=1",
            "--annotation",
            "b=2=3",
            "--save-config",
        ),
        ("--rule=foo.com/=svc:port", "--rule=foo.com/admin/=svcadmin:portadmin"),
        ("--rule=foo.com/path*=svc:8080", "--rule=bar.com/admin*=svc2:http"),
        ("--rule=foo.com/=svc:https,tls", "--rule=foo.com/path/subpath*=othersvc:8080"),
        (
            "--default-backend=defaultsvc:http",
            "--rule=foo.com/*=svc:8080,tls=secret1",
            "--rule=bar.com/*=svc:8080,tls=secret1",
            "--rule=/x=svc:80,tls",
        ),
        ("--default-backend=x:1", "-n", "other"),
    ):
        same_dry_run(kubectl, real, "create", "ingress", "ing", *rules)
    obj = same_dry_run(
        kubectl, real, "create", "ing", "ing", "--rule=foo.com/path*=svc:8080", "--rule=/x=s:http"
    )
    paths = [r["http"]["paths"][0] for r in obj["spec"]["rules"]]
    assert [(p["path"], p["pathType"]) for p in paths] == [("/path", "Prefix"), ("/x", "Exact")]
    assert paths[1]["backend"]["service"]["port"] == {"name": "http"}


def test_ingress_errors_and_create(ns: str, kubectl: Run, real: Run) -> None:
    for args in (
        ("ingress", "i"),
        ("ingress", "i", "--rule=bad"),
        ("ingress", "i", "--default-backend=x"),
        ("ingress", "i", "--default-backend=x:1", "--annotation=noeq"),
        ("ingress", "--rule=a/b=c:1"),
    ):
        r = same(kubectl, real, "create", *args)
        assert r.code == 1 and r.err.startswith("error: "), args
    rule = "--rule=foo.com/bar*=web:80,tls=cert"
    ing = created_alike(kubectl, real, "ingresses", "ing", "ingress", "ing", rule, "--class=nginx")
    assert ing["spec"]["tls"] == [{"hosts": ["foo.com"], "secretName": "cert"}]
    r = same(kubectl, real, "create", "ingress", "o-ing", rule)
    assert r.code == 1 and "failed to create ingress" in r.err
