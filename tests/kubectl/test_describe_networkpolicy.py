"""`kubectl describe networkpolicy`, ours beside the real kubectl 1.33: every branch of kubectl's
describer (ports and port ranges, every kind of peer, empty rules, isolation notes, directions
the policy does not affect)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.kubectl.helpers import same

POLICIES = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, labels: {a: b, c: d}}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector: {matchLabels: {role: client}}
    - namespaceSelector: {matchLabels: {team: x}}
      podSelector: {matchExpressions: [{key: tier, operator: In, values: [a, b]}]}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.2.0.0/16]}
    ports: [{port: http}, {protocol: UDP, port: 53, endPort: 60}, {protocol: SCTP}]
  - {}
  egress:
  - to: [{namespaceSelector: {}}, {ipBlock: {cidr: 192.168.0.0/16}}]
  - ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, annotations: {why: "quiet"}}
spec:
  podSelector: {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-egress}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
"""


def test_describe_networkpolicy_matches_real(ns: str, kubectl: Any, real: Any, tmp_path: Path) -> None:
    path = tmp_path / "policies.yaml"
    path.write_text(POLICIES)
    assert kubectl("apply", "-f", str(path)).code == 0
    for name in ("web", "deny-all", "no-egress"):
        out = same(kubectl, real, "describe", "netpol", name).out
        assert "Spec:\n  PodSelector:" in out, out
    both = same(kubectl, real, "describe", "networkpolicies").out  # all of them, two blank lines apart
    assert both.count("Name:") == 3
