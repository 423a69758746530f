"""kubelet.netpol.rules: NetworkPolicies -> one nft table per node (pure), checked by the real nft."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from kubelet.netpol.rules import TABLE, PodAddr, pod_addrs, policy_types, ruleset


def pod(
    name: str,
    ip: str,
    labels: dict[str, str] | None = None,
    ns: str = "default",
    node: str = "n1",
    ports: list[dict[str, Any]] | None = None,
    **status: Any,
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
        "spec": {"nodeName": node, "containers": [{"name": "c", "ports": ports or []}]},
        "status": {"podIP": ip, "phase": "Running", **status},
    }


def policy(name: str, spec: dict[str, Any], ns: str = "default") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns}, "spec": spec}


PODS = [
    pod("web", "10.42.0.2", {"app": "web"}, ports=[{"name": "http", "containerPort": 8080}]),
    pod("client", "10.42.0.3", {"role": "client"}),
    pod("other", "10.42.1.4", {"role": "client"}, ns="other", node="n2"),
    pod("db", "10.42.1.5", {"app": "db"}, node="n2", ports=[{"name": "pg", "containerPort": 5432}]),
]
DNS = "10.96.0.10"
NS = {"default": {"kubernetes.io/metadata.name": "default"}, "other": {"team": "x"}}


def table(policies: list[dict[str, Any]], node: str = "n1", pods: list[dict[str, Any]] = PODS) -> str:
    return ruleset(policies, pod_addrs(pods), NS, node, DNS)


def nft_accepts(body: str) -> None:
    script = f"table ip {TABLE}\ndelete table ip {TABLE}\ntable ip {TABLE} {{\n{body}}}\n"
    r = subprocess.run(["nft", "-c", "-f", "-"], input=script, text=True, capture_output=True)
    assert r.returncode == 0, r.stderr + script


def elements(body: str, name: str) -> list[str]:
    """The addresses of named set `name` in `body`."""
    lines = body.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"set {name} {{")
    found = next(line for line in lines[start:] if "elements = {" in line)
    return found.split("{", 1)[1].rsplit("}", 1)[0].replace(" ", "").split(",")


def resolved(body: str, line: str) -> str:
    """`line` with each `@peers_N` written out as its addresses, for comparing."""
    for word in line.split():
        if word.startswith("@peers_"):
            line = line.replace(word, "{ " + ", ".join(elements(body, word[1:])) + " }")
    return line


def chain(body: str, name: str) -> list[str]:
    lines = body.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"chain {name} "))
    end = next(i for i in range(start, len(lines)) if lines[i].strip() == "}")
    return [line.strip() for line in lines[start + 1 : end]]


def test_no_policy_or_no_selected_pod_on_the_node_makes_no_table() -> None:
    assert table([]) == ""
    only_db = policy("p", {"podSelector": {"matchLabels": {"app": "db"}}})
    assert table([only_db], node="n1") == ""  # db runs on n2
    assert table([only_db], node="n2") != ""


def test_policy_types_default_as_kube() -> None:
    assert policy_types(policy("p", {"podSelector": {}})) == {"Ingress"}
    assert policy_types(policy("p", {"podSelector": {}, "egress": [{}]})) == {"Ingress", "Egress"}
    assert policy_types(policy("p", {"podSelector": {}, "policyTypes": ["Egress"]})) == {"Egress"}


def test_deny_all_ingress_drops_everything_for_every_pod_of_the_namespace() -> None:
    body = table([policy("deny", {"podSelector": {}})])
    # by namespace/name; the same rules make one chain both pods jump to
    assert "ip daddr vmap { 10.42.0.3 : jump in_0, 10.42.0.2 : jump in_0 }" in body
    assert "saddr vmap" not in body  # egress is not isolated
    assert chain(body, "in_0") == ["drop"]
    assert "ct state established,related accept" in body  # replies of what the pod opened
    nft_accepts(body)


def test_ingress_from_pods_and_namespaces_on_named_and_numbered_ports() -> None:
    allow = policy(
        "allow",
        {
            "podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [
                {
                    "from": [
                        {"podSelector": {"matchLabels": {"role": "client"}}},
                        {"namespaceSelector": {"matchLabels": {"team": "x"}}},
                    ],
                    "ports": [{"port": "http"}, {"protocol": "UDP", "port": 53}],
                },
                {"from": [{"ipBlock": {"cidr": "192.168.0.0/16", "except": ["192.168.1.0/24"]}}]},
            ],
        },
    )
    body = table([allow])
    lines = [resolved(body, line) for line in chain(body, "in_0")]
    # the podSelector peer is of the policy's namespace only; the namespaceSelector brings `other`
    assert lines[0] == "ip saddr { 10.42.0.3, 10.42.1.4 } tcp dport { 8080 } accept"
    assert lines[1] == "ip saddr { 10.42.0.3, 10.42.1.4 } udp dport { 53 } accept"
    assert lines[2] == "ip saddr 192.168.0.0/16 ip saddr != { 192.168.1.0/24 } accept"
    assert lines[-1] == "drop"
    assert "10.42.0.3 : jump" not in body  # client is not selected
    assert body.count("  set peers_") == 1  # the rule's pods, defined once and named by both lines
    nft_accepts(body)


def test_pod_and_namespace_selector_together_are_one_peer() -> None:
    both = policy(
        "both",
        {
            "podSelector": {},
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {"team": "x"}},
                            "podSelector": {"matchLabels": {"role": "client"}},
                        }
                    ]
                }
            ],
        },
    )
    body = table([both])
    assert resolved(body, chain(body, "in_0")[0]) == "ip saddr { 10.42.1.4 } accept"


def test_a_rule_whose_peers_match_no_pod_allows_nothing_and_empty_rule_allows_all() -> None:
    nobody = {"from": [{"podSelector": {"matchLabels": {"app": "none"}}}]}
    assert chain(table([policy("p", {"podSelector": {}, "ingress": [nobody]})]), "in_0") == ["drop"]
    anyone = policy("p", {"podSelector": {}, "ingress": [{}]})
    assert chain(table([anyone]), "in_0") == ["accept", "drop"]


def test_a_named_port_the_pod_lacks_matches_nothing() -> None:
    p = policy(
        "p", {"podSelector": {"matchLabels": {"role": "client"}}, "ingress": [{"ports": [{"port": "http"}]}]}
    )
    assert chain(table([p]), "in_0") == ["drop"]


def test_egress_returns_what_is_allowed_and_resolves_named_ports_on_the_destination() -> None:
    out = policy(
        "out",
        {
            "podSelector": {"matchLabels": {"role": "client"}},
            "policyTypes": ["Egress"],
            "egress": [
                {"to": [{"podSelector": {"matchLabels": {"app": "db"}}}], "ports": [{"port": "pg"}]},
                {"ports": [{"protocol": "TCP", "port": 80, "endPort": 90}, {"port": 85}]},
            ],
        },
    )
    body = table([out])
    assert "ip saddr vmap { 10.42.0.3 : jump out_0 }" in body
    assert "daddr vmap" not in body
    assert chain(body, "out_0") == [
        "ct original ip daddr 10.96.0.10 return",  # the cluster DNS (the nodes'), before the DNAT
        "ip daddr . tcp dport { 10.42.1.5 . 5432 } return",
        "tcp dport { 80-90 } return",
        "drop",
    ]
    nft_accepts(body)


def test_egress_deny_all_and_ingress_together() -> None:
    both = policy(
        "lock", {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress", "Egress"]}
    )
    body = table([both])
    assert chain(body, "in_0") == ["drop"]
    assert chain(body, "out_0") == ["ct original ip daddr 10.96.0.10 return", "drop"]
    nft_accepts(body)


def test_policies_of_another_namespace_do_not_select() -> None:
    assert table([policy("p", {"podSelector": {}}, ns="other")]) == ""


@pytest.mark.parametrize(
    "status",
    [{"podIP": ""}, {"phase": "Succeeded"}, {"phase": "Failed"}],
)
def test_pods_without_address_or_finished_are_left_out(status: dict[str, Any]) -> None:
    assert pod_addrs([pod("x", "10.42.0.9", **status)]) == []


def test_host_network_pods_are_left_out() -> None:
    p = pod("h", "192.0.2.1")
    p["spec"]["hostNetwork"] = True
    assert pod_addrs([p]) == []


def test_pod_addrs_carry_named_ports() -> None:
    (web,) = pod_addrs([PODS[0]])
    assert web == PodAddr("default", "web", "10.42.0.2", "n1", {"app": "web"}, (("http", "TCP", 8080),))
