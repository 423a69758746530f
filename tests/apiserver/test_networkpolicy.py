"""NetworkPolicy (networking.k8s.io/v1) served as kube-apiserver serves it: v1 defaults, kube's 422
paths and words with nothing stored, unknown fields refused under Strict, the Pod-Selector table
through the real kubectl, discovery, the aggregated roles, and the official Python client."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from kubernetes import client

from tests.apiserver.conftest import KUBECTL_127, Server, table_rows, watch_events

NET = "/apis/networking.k8s.io/v1"
CIDR_MSG = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"


def policy(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def _causes(r: httpx.Response) -> list[tuple[str, str]]:
    assert r.status_code == 422, r.text
    assert r.json()["reason"] == "Invalid"
    return [(c["field"], c["message"]) for c in r.json()["details"]["causes"]]


def test_crud_watch_and_v1_defaults(http: httpx.Client, ns: str) -> None:
    base = f"{NET}/namespaces/{ns}/networkpolicies"
    start = http.get(base).json()["metadata"]["resourceVersion"]
    ports = [{"port": 53}, {"protocol": "UDP", "port": 53}, {"port": 8000, "endPort": 8080}]
    r = http.post(
        base, json=policy("dns", egress=[{"ports": ports}], ingress=[{"from": [{"podSelector": {}}]}])
    )
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["metadata"]["generation"] == 1 and "status" not in got
    assert got["spec"]["podSelector"] == {}  # Go never omits it
    assert got["spec"]["policyTypes"] == ["Ingress", "Egress"]  # egress rules given
    assert [p["protocol"] for p in got["spec"]["egress"][0]["ports"]] == ["TCP", "UDP", "TCP"]
    bare = http.post(base, json={"metadata": {"name": "bare"}})  # kind from the URL, spec defaulted
    assert bare.status_code == 201, bare.text
    assert bare.json()["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    only_egress = http.post(base, json=policy("deny-out", podSelector={}, policyTypes=["Egress"]))
    assert only_egress.json()["spec"]["policyTypes"] == ["Egress"]  # given ones are kept
    assert sorted(i["metadata"]["name"] for i in http.get(base).json()["items"]) == [
        "bare",
        "deny-out",
        "dns",
    ]

    cur = http.get(f"{base}/dns").json()
    cur["spec"]["podSelector"] = {"matchLabels": {"app": "web"}}
    r = http.put(f"{base}/dns", json=cur)
    assert r.status_code == 200, r.text
    assert r.json()["metadata"]["generation"] == 2
    r = http.patch(
        f"{base}/dns",
        json={"metadata": {"labels": {"team": "a"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.json()["metadata"]["generation"] == 2  # metadata only: the spec did not change
    assert http.delete(f"{base}/dns").status_code == 200
    assert http.get(f"{base}/dns").status_code == 404

    evs = watch_events(http, f"{base}?watch=true&resourceVersion={start}", 6)
    seen = [(e["type"], e["object"]["metadata"]["name"]) for e in evs]
    assert seen == [
        ("ADDED", "dns"),
        ("ADDED", "bare"),
        ("ADDED", "deny-out"),
        ("MODIFIED", "dns"),
        ("MODIFIED", "dns"),
        ("DELETED", "dns"),
    ]
    assert evs[3]["object"]["spec"]["podSelector"] == {"matchLabels": {"app": "web"}}


BAD_SPECS = [
    (
        {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In"}]}},
        "spec.podSelector.matchExpressions[0].values",
        "Required value: must be specified when `operator` is 'In' or 'NotIn'",
    ),
    (
        {"ingress": [{"ports": [{"protocol": "ICMP"}]}]},
        "spec.ingress[0].ports[0].protocol",
        'Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
    ),
    (
        {"egress": [{"ports": [{"port": 70000}]}]},
        "spec.egress[0].ports[0].port",
        "Invalid value: 70000: must be between 1 and 65535, inclusive",
    ),
    (
        {"ingress": [{"ports": [{"port": "Http"}]}]},
        "spec.ingress[0].ports[0].port",
        'Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    ),
    (
        {"ingress": [{"ports": [{"port": "http", "endPort": 90}]}]},
        "spec.ingress[0].ports[0].endPort",
        "Invalid value: 90: may not be specified when `port` is non-numeric",
    ),
    (
        {"egress": [{"ports": [{"endPort": 90}]}]},
        "spec.egress[0].ports[0].endPort",
        "Invalid value: 90: may not be specified when `port` is not specified",
    ),
    (
        {"ingress": [{"ports": [{"port": 100, "endPort": 99}]}]},
        "spec.ingress[0].ports[0].endPort",
        "Invalid value: 99: must be greater than or equal to `port`",
    ),
    (
        {"ingress": [{"from": [{}]}]},
        "spec.ingress[0].from[0]",
        "Required value: must specify a peer",
    ),
    (
        {"egress": [{"to": [{"namespaceSelector": {}, "ipBlock": {"cidr": "10.0.0.0/8"}}]}]},
        "spec.egress[0].to[0]",
        "Forbidden: may not specify both ipBlock and another peer",
    ),
    (
        {"ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "-a"}}}]}]},
        "spec.ingress[0].from[0].namespaceSelector.matchLabels",
        'Invalid value: "-a": a valid label must be an empty string or consist of alphanumeric characters, '
        "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
        "'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ),
    (
        {"egress": [{"to": [{"ipBlock": {"cidr": ""}}]}]},
        "spec.egress[0].to[0].ipBlock.cidr",
        "Required value",
    ),
    (
        {"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.1"}}]}]},
        "spec.egress[0].to[0].ipBlock.cidr",
        f'Invalid value: "10.0.0.1": {CIDR_MSG}',
    ),
    (
        {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/33"]}}]}]},
        "spec.ingress[0].from[0].ipBlock.except[0]",
        f'Invalid value: "10.0.0.0/33": {CIDR_MSG}',
    ),
    (
        {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}}]}]},
        "spec.ingress[0].from[0].ipBlock.except[0]",
        'Invalid value: "192.168.0.0/16": must be a strict subset of `cidr`',
    ),
    (
        {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}}]}]},
        "spec.ingress[0].from[0].ipBlock.except[0]",
        'Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`',
    ),
    (
        {"ingress": [{"from": [{"ipBlock": {"cidr": "fd00::/8", "except": ["10.1.0.0/16"]}}]}]},
        "spec.ingress[0].from[0].ipBlock.except[0]",
        'Invalid value: "10.1.0.0/16": must be a strict subset of `cidr`',
    ),
    (
        {"policyTypes": ["Ingress", "Outgoing"]},
        "spec.policyTypes[1]",
        'Unsupported value: "Outgoing": supported values: "Ingress", "Egress"',
    ),
    (
        {"policyTypes": ["Ingress", "Egress", "Ingress"]},
        "spec.policyTypes",
        'Invalid value: ["Ingress","Egress","Ingress"]: may not specify more than two policyTypes',
    ),
]


@pytest.mark.parametrize(("spec", "field", "message"), BAD_SPECS, ids=[f for _, f, _ in BAD_SPECS])
def test_bad_policy_is_refused_and_not_stored(
    http: httpx.Client, ns: str, spec: dict[str, Any], field: str, message: str
) -> None:
    base = f"{NET}/namespaces/{ns}/networkpolicies"
    assert _causes(http.post(base, json=policy("bad", **spec))) == [(field, message)]
    assert http.get(f"{base}/bad").status_code == 404


def test_updates_are_held_to_the_same_rules(http: httpx.Client, ns: str) -> None:
    base = f"{NET}/namespaces/{ns}/networkpolicies"
    good = policy("web", ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}])
    stored = http.post(base, json=good).json()
    bad = copy.deepcopy(stored)
    bad["spec"]["ingress"][0]["from"][0]["ipBlock"]["except"] = ["11.0.0.0/16"]
    assert _causes(http.put(f"{base}/web", json=bad)) == [
        (
            "spec.ingress[0].from[0].ipBlock.except[0]",
            'Invalid value: "11.0.0.0/16": must be a strict subset of `cidr`',
        )
    ]
    r = http.patch(
        f"{base}/web",
        json={"spec": {"policyTypes": ["Sideways"]}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert _causes(r) == [
        ("spec.policyTypes[0]", 'Unsupported value: "Sideways": supported values: "Ingress", "Egress"')
    ]
    assert http.get(f"{base}/web").json() == stored


def test_unknown_fields_strict_and_warned(http: httpx.Client, ns: str) -> None:
    base = f"{NET}/namespaces/{ns}/networkpolicies"
    body = policy("typo", ingress=[{"form": [{"podSelector": {}}]}])
    r = http.post(f"{base}?fieldValidation=Strict", json=body)
    assert r.status_code == 400
    assert r.json()["message"] == (
        'NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: '
        'strict decoding error: unknown field "spec.ingress[0].form"'
    )
    assert http.get(f"{base}/typo").status_code == 404
    r = http.post(f"{base}?fieldValidation=Warn", json={**body, "status": {"conditions": []}})
    assert r.status_code == 201
    assert 'unknown field \\"spec.ingress[0].form\\"' in r.headers["warning"]
    assert 'unknown field \\"status\\"' in r.headers["warning"]  # kube 1.28 removed the status
    assert r.json()["spec"]["ingress"] == [{}] and "status" not in r.json()


def test_discovery_and_kubectl_table(server: Server, http: httpx.Client, ns: str) -> None:
    found = [r for r in http.get(NET).json()["resources"] if r["name"].startswith("networkpolicies")]
    assert len(found) == 1  # no status subresource
    assert (
        found[0]["shortNames"] == ["netpol"]
        and found[0]["namespaced"]
        and found[0]["kind"] == "NetworkPolicy"
    )
    assert sorted(found[0]["verbs"]) == sorted(
        ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    )
    assert not found[0].get("categories")
    base = f"{NET}/namespaces/{ns}/networkpolicies"
    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
    }
    http.post(base, json=policy("allow-web", podSelector=selector)).raise_for_status()
    http.post(base, json=policy("deny-all", podSelector={})).raise_for_status()
    rows = table_rows(server.kubectl("-n", ns, "get", "netpol", check=True).stdout)
    assert rows[0] == ["NAME", "POD-SELECTOR", "AGE"]
    assert [r[:-1] for r in rows[1:]] == [
        ["allow-web", "app=web,tier", "in", "(a,b)"],
        ["deny-all", "<none>"],
    ]
    out = server.kubectl(
        "-n", ns, "get", "networkpolicies.networking.k8s.io", "-o", "name", check=True
    ).stdout
    assert out.split() == [
        "networkpolicy.networking.k8s.io/allow-web",
        "networkpolicy.networking.k8s.io/deny-all",
    ]


MANIFEST = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-api}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: api}}
      podSelector: {matchLabels: {app: api}}
    - ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}
    ports:
    - {port: 5432}
"""


def test_kubectl_apply_and_explain(server: Server, http: httpx.Client, ns: str) -> None:
    out = server.kubectl("-n", ns, "apply", "-f", "-", input=MANIFEST, check=True, binary=KUBECTL_127).stdout
    assert "networkpolicy.networking.k8s.io/db-from-api created" in out
    got = http.get(f"{NET}/namespaces/{ns}/networkpolicies/db-from-api").json()
    assert got["spec"]["ingress"][0]["ports"] == [{"port": 5432, "protocol": "TCP"}]
    assert got["spec"]["policyTypes"] == ["Ingress"]
    r = server.kubectl("-n", ns, "apply", "-f", "-", input=MANIFEST.replace("ipBlock", "ipBlok"))
    assert r.returncode != 0 and "ipBlok" in r.stderr
    explained = server.kubectl("explain", "networkpolicy.spec", check=True).stdout
    assert "KIND:       NetworkPolicy" in explained and "policyTypes\t<[]string>" in explained
    assert "egress-only policy" in explained


def test_aggregated_roles_cover_network_policies(http: httpx.Client, ns: str) -> None:
    for user, role in (("netpol-viewer", "view"), ("netpol-editor", "edit")):
        binding = {
            "metadata": {"name": user},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": user}],
        }
        http.post(
            f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings", json=binding
        ).raise_for_status()

    def allowed(user: str, verb: str) -> bool:
        attrs = {"namespace": ns, "verb": verb, "group": "networking.k8s.io", "resource": "networkpolicies"}
        review = {"spec": {"user": user, "resourceAttributes": attrs}}
        r = http.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", json=review)
        return bool(r.json()["status"]["allowed"])

    assert all(allowed("netpol-viewer", v) for v in ("get", "list", "watch"))
    assert not any(allowed("netpol-viewer", v) for v in ("create", "update", "delete"))
    assert all(
        allowed("netpol-editor", v) for v in ("create", "update", "patch", "delete", "deletecollection")
    )


def test_python_client_round_trips(api_client: Any, ns: str) -> None:
    net = client.NetworkingV1Api(api_client)
    body = client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="py"),
        spec=client.V1NetworkPolicySpec(
            pod_selector=client.V1LabelSelector(match_labels={"app": "web"}),
            egress=[
                client.V1NetworkPolicyEgressRule(
                    to=[client.V1NetworkPolicyPeer(ip_block=client.V1IPBlock(cidr="10.0.0.0/8"))],
                    ports=[client.V1NetworkPolicyPort(port=443, end_port=450)],
                )
            ],
        ),
    )
    made = net.create_namespaced_network_policy(ns, body)
    assert made.spec.policy_types == ["Ingress", "Egress"]
    assert made.spec.egress[0].ports[0].protocol == "TCP" and made.spec.egress[0].ports[0].end_port == 450
    got = net.read_namespaced_network_policy("py", ns)
    assert got.spec.pod_selector.match_labels == {"app": "web"}
    assert got.spec.egress[0].to[0].ip_block.cidr == "10.0.0.0/8"
    got.spec.ingress = [
        client.V1NetworkPolicyIngressRule(
            _from=[client.V1NetworkPolicyPeer(pod_selector=client.V1LabelSelector())]
        )
    ]
    replaced = net.replace_namespaced_network_policy("py", ns, got)
    assert replaced.spec.ingress[0]._from[0].pod_selector is not None
    assert [p.metadata.name for p in net.list_namespaced_network_policy(ns).items] == ["py"]
    net.delete_namespaced_network_policy("py", ns)
    assert net.list_namespaced_network_policy(ns).items == []
