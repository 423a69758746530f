"""EndpointSlice, Ingress and IngressClass served as kube-apiserver serves them: the real kubectl
creates and prints them, bad ones get kube's 422 and store nothing, the default IngressClass
made at bootstrap is defaulted onto an Ingress without a class, and the server keeps the
`kubernetes` service's slice."""

from __future__ import annotations

from typing import Any

import httpx

from tests.apiserver.conftest import Server

DISC = "/apis/discovery.k8s.io/v1"
NET = "/apis/networking.k8s.io/v1"


def _slice(name: str, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": name, "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [
            {"addresses": ["10.244.1.5"], "conditions": {"ready": True}, "nodeName": "n1"},
            {
                "addresses": ["10.244.2.7"],
                "conditions": {"ready": False, "serving": True, "terminating": True},
            },
        ],
        "ports": [{"name": "http", "port": 8080}],
    }
    body.update(over)
    return body


def _causes(r: httpx.Response) -> list[tuple[str, str]]:
    assert r.status_code == 422, r.text
    return [(c["field"], c["message"]) for c in r.json()["details"]["causes"]]


def test_slice_defaults_validation_and_immutable_address_type(http: httpx.Client, ns: str) -> None:
    base = f"{DISC}/namespaces/{ns}/endpointslices"
    r = http.post(base, json=_slice("web-abc"))
    assert r.status_code == 201, r.text
    assert r.json()["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    causes = _causes(http.post(base, json=_slice("bad", addressType="IPv5")))
    assert causes == [("addressType", 'Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"')]
    causes = _causes(
        http.post(
            base,
            json=_slice(
                "bad",
                endpoints=[{"addresses": []}, {"addresses": ["fe80::1"]}],
                ports=[{"name": "a", "protocol": "XTP"}, {"name": "a"}],
            ),
        )
    )
    assert ("endpoints[0].addresses", "Required value: must contain at least 1 address") in causes
    assert ("endpoints[1].addresses[0]", 'Invalid value: "fe80::1": must be an IPv4 address') in causes
    assert ("ports[0].protocol", 'Unsupported value: "XTP": supported values: "SCTP", "TCP", "UDP"') in causes
    assert ("ports[1].name", 'Duplicate value: "a"') in causes
    assert http.get(f"{base}/bad").status_code == 404
    cur = http.get(f"{base}/web-abc").json()
    cur["addressType"] = "IPv6"
    assert ("addressType", 'Invalid value: "IPv6": field is immutable') in _causes(
        http.put(f"{base}/web-abc", json=cur)
    )


def test_kubectl_prints_slices_as_kube(server: Server, http: httpx.Client, ns: str) -> None:
    http.post(f"{DISC}/namespaces/{ns}/endpointslices", json=_slice("web-abc"))
    many = [{"addresses": [f"10.0.0.{i}"]} for i in range(1, 6)]
    http.post(f"{DISC}/namespaces/{ns}/endpointslices", json=_slice("web-many", endpoints=many, ports=[]))
    out = server.kubectl("-n", ns, "get", "endpointslices", check=True).stdout
    rows = [line.split(None, 4) for line in out.splitlines()]
    assert rows[0][:4] == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS"]
    assert rows[1][:4] == ["web-abc", "IPv4", "8080", "10.244.1.5,10.244.2.7"]
    assert rows[2][:3] == ["web-many", "IPv4", "<unset>"]
    assert "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more..." in out.splitlines()[2]


def test_default_ingress_class_and_kubectl_create_ingress(
    server: Server, http: httpx.Client, ns: str
) -> None:
    out = server.kubectl("get", "ingressclass", check=True).stdout.splitlines()
    assert out[0].split() == ["NAME", "CONTROLLER", "PARAMETERS", "AGE"]
    assert out[1].split()[:3] == ["kubelite", "kubelite.io/ingress-nginx", "<none>"]
    server.kubectl(
        "-n",
        ns,
        "create",
        "ingress",
        "demo",
        "--rule=demo.local/=web:80",
        "--rule=secure.local/api*=api:http,tls=api-cert",
        check=True,
    )
    ing = http.get(f"{NET}/namespaces/{ns}/ingresses/demo").json()
    assert ing["spec"]["ingressClassName"] == "kubelite"  # DefaultIngressClass
    paths = {r["host"]: r["http"]["paths"][0] for r in ing["spec"]["rules"]}
    assert paths["demo.local"]["pathType"] == "Exact"
    assert paths["secure.local"]["pathType"] == "Prefix"
    assert paths["secure.local"]["backend"]["service"]["port"] == {"name": "http"}
    out = server.kubectl("-n", ns, "get", "ing", check=True).stdout.splitlines()
    assert out[0].split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    assert out[1].split()[:5] == ["demo", "kubelite", "demo.local,secure.local", "80,", "443"]
    # status only through /status, which fills the Address column
    ing["status"] = {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}
    assert http.put(f"{NET}/namespaces/{ns}/ingresses/demo/status", json=ing).status_code == 200
    out = server.kubectl("-n", ns, "get", "ing", "demo", check=True).stdout.splitlines()
    assert out[1].split()[:4] == ["demo", "kubelite", "demo.local,secure.local", "10.0.0.1"]


def test_class_annotation_is_deprecated_on_create(http: httpx.Client, ns: str) -> None:
    """kube's Ingress WarningsOnCreate: the `kubernetes.io/ingress.class` annotation without
    `spec.ingressClassName` (guestbook-go's ingress); an update is not warned."""
    rule = {
        "http": {
            "paths": [
                {
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": {"service": {"name": "s", "port": {"number": 80}}},
                }
            ]
        }
    }
    annotations = {"kubernetes.io/ingress.class": "istio"}
    ing: dict[str, Any] = {
        "metadata": {"name": "annotated", "annotations": annotations},
        "spec": {"rules": [rule]},
    }
    r = http.post(f"{NET}/namespaces/{ns}/ingresses", json=ing)
    assert r.status_code == 201, r.text
    assert r.headers.get_list("warning") == [
        '299 - "annotation \\"kubernetes.io/ingress.class\\" is deprecated, please use \'spec.ingressClassName\' instead"'
    ]
    r = http.patch(
        f"{NET}/namespaces/{ns}/ingresses/annotated",
        json={"metadata": {"labels": {"a": "b"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and r.headers.get_list("warning") == []
    # with the field too it is refused (kube's validation), so never warned
    both = {
        **ing,
        "metadata": {"name": "both", "annotations": annotations},
        "spec": {"ingressClassName": "x", "rules": [rule]},
    }
    assert http.post(f"{NET}/namespaces/{ns}/ingresses", json=both).status_code == 422


def test_bad_ingresses_are_refused(http: httpx.Client, ns: str) -> None:
    base = f"{NET}/namespaces/{ns}/ingresses"

    def ing(rules: list[object], **spec: object) -> dict[str, object]:
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "bad"},
            "spec": {"rules": rules, **spec},
        }

    svc = {"service": {"name": "web", "port": {"number": 80}}}
    causes = _causes(http.post(base, json=ing([])))
    assert causes == [("spec", 'Invalid value: "": either `defaultBackend` or `rules` must be specified')]
    causes = _causes(
        http.post(
            base,
            json=ing(
                [
                    {
                        "host": "*.x.*",
                        "http": {
                            "paths": [
                                {"path": "/a", "backend": svc},
                                {"path": "rel", "pathType": "Prefix", "backend": svc},
                                {"path": "/a", "pathType": "Regex", "backend": svc},
                                {
                                    "path": "/b",
                                    "pathType": "Exact",
                                    "backend": {"service": {"name": "web", "port": {}}},
                                },
                                {
                                    "path": "/c",
                                    "pathType": "Exact",
                                    "backend": {**svc, "resource": {"kind": "B", "name": "b"}},
                                },
                            ]
                        },
                    },
                    {"host": "10.0.0.1"},
                ],
                tls=[{"hosts": ["UP.example"]}],
            ),
        )
    )
    fields = dict(causes)
    assert "a wildcard DNS-1123 subdomain" in fields["spec.rules[0].host"]
    assert fields["spec.rules[0].http.paths[0].pathType"] == "Required value: pathType must be specified"
    assert fields["spec.rules[0].http.paths[1].path"] == 'Invalid value: "rel": must be an absolute path'
    assert fields["spec.rules[0].http.paths[2].pathType"].startswith('Unsupported value: "Regex"')
    assert fields["spec.rules[0].http.paths[3].backend"] == "Required value: port name or number is required"
    assert (
        fields["spec.rules[0].http.paths[4].backend"]
        == 'Invalid value: "": cannot set both resource and service backends'
    )
    assert fields["spec.rules[1].host"] == 'Invalid value: "10.0.0.1": must be a DNS name, not an IP address'
    assert "RFC 1123 subdomain" in fields["spec.tls[0].hosts[0]"]
    assert http.get(f"{base}/bad").status_code == 404


def test_ingress_class_controller_is_immutable(http: httpx.Client) -> None:
    base = f"{NET}/ingressclasses"
    body = {
        "metadata": {"name": "other-class"},
        "spec": {"controller": "example.com/lb", "parameters": {"kind": "LbConfig", "name": "lb"}},
    }
    r = http.post(base, json=body)
    assert r.status_code == 201 and r.json()["spec"]["parameters"]["scope"] == "Cluster"
    try:
        causes = _causes(
            http.post(
                base,
                json={
                    "metadata": {"name": "x"},
                    "spec": {"parameters": {"kind": "K", "name": "n", "scope": "Namespace"}},
                },
            )
        )
        assert ("spec.controller", "Required value") in causes
        assert (
            "spec.parameters.namespace",
            "Required value: `parameters.scope` is set to 'Namespace'",
        ) in causes
        cur = http.get(f"{base}/other-class").json()
        cur["spec"]["controller"] = "example.com/other"
        assert _causes(http.put(f"{base}/other-class", json=cur)) == [
            ("spec.controller", 'Invalid value: "example.com/other": field is immutable')
        ]
    finally:
        http.delete(f"{base}/other-class")


def test_server_keeps_the_kubernetes_slice(http: httpx.Client, server: Server) -> None:
    eps = http.get(f"{DISC}/namespaces/default/endpointslices/kubernetes").json()
    assert eps["metadata"]["labels"]["kubernetes.io/service-name"] == "kubernetes"
    assert eps["ports"] == [{"name": "https", "port": server.port, "protocol": "TCP"}]
    assert eps["endpoints"][0]["conditions"] == {"ready": True}


MANIFEST = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: applied}
spec:
  ingressClassName: kubelite
  defaultBackend: {service: {name: web, port: {number: 80}}}
  rules:
  - host: "*.apps.example"
    http:
      paths:
      - {path: /v1, pathType: Exact, backend: {service: {name: api, port: {name: http}}}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: hand-made, labels: {kubernetes.io/service-name: ext}}
addressType: FQDN
endpoints: [{addresses: [db.example.com], conditions: {ready: true}, hints: {forZones: [{name: a}]}}]
ports: [{name: pg, port: 5432}]
"""


def test_kubectl_apply_validates_against_openapi_and_explains(
    server: Server, http: httpx.Client, ns: str
) -> None:
    from tests.apiserver.conftest import KUBECTL, KUBECTL_127

    for binary in (KUBECTL, KUBECTL_127):  # 1.27 validates client-side through OpenAPI v2
        out = server.kubectl("-n", ns, "apply", "-f", "-", input=MANIFEST, check=True, binary=binary).stdout
        assert (
            "ingress.networking.k8s.io/applied" in out and "endpointslice.discovery.k8s.io/hand-made" in out
        )
    eps = http.get(f"{DISC}/namespaces/{ns}/endpointslices/hand-made").json()
    assert eps["endpoints"][0]["hints"] == {"forZones": [{"name": "a"}]}  # kept as sent
    bad = MANIFEST.replace("pathType: Exact", "pathTyp: Exact")
    r = server.kubectl("-n", ns, "apply", "-f", "-", input=bad)
    assert r.returncode != 0 and "pathTyp" in r.stderr
    explained = server.kubectl("explain", "ingress.spec.rules.http.paths.pathType", check=True).stdout
    assert "KIND:       Ingress" in explained and "FIELD: pathType <string>" in explained
    assert "element by element" in explained
