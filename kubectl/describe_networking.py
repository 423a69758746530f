"""`kubectl describe networkpolicy`: what a policy isolates and allows, in kubectl's words.

kubectl has a describer of its own for NetworkPolicies (not the generic field dump): the pod
selector, then for each direction either "Not affecting ... traffic", the isolation note when
the policy has no rule, or each rule's ports and peers, rules separated by a dashed line. The
layout and phrases here are the real kubectl's (1.27-1.33 print the same), compared line by line
in tests/kubectl/test_describe_networkpolicy.py.
"""

from __future__ import annotations

from typing import Any

from api.selectors import format_label_selector
from kubectl.describe_writer import Obj, Out, heading, meta
from kubectl.env import Env

_INGRESS = ("ingress", "from", "From", "source")
_EGRESS = ("egress", "to", "To", "destination")


def _created_on(ts: str | None) -> str:
    """metav1.Time printed with %s: Go's `2006-01-02 15:04:05 -0700 MST`, in local time."""
    if not ts:
        return "0001-01-01 00:00:00 +0000 UTC"
    from api.jsonutil import parse_time

    return parse_time(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S %z %Z")


def _ports(out: Out, ports: list[Any], indent: str) -> None:
    if not ports:
        out.w(f"{indent}To Port: <any> (traffic allowed to all ports)")
        return
    for p in ports:
        port = p.get("port")
        shown = "<nil>" if port is None else str(port)
        protocol = p.get("protocol") or "TCP"
        if p.get("endPort") is not None:
            out.w(f"{indent}To Port Range: {shown}-{p['endPort']}/{protocol}")
        else:
            out.w(f"{indent}To Port: {shown}/{protocol}")


def _peers(out: Out, peers: list[Any], title: str, what: str, indent: str) -> None:
    if not peers:
        out.w(f"{indent}{title}: <any> (traffic not restricted by {what})")
        return
    for peer in peers:
        out.w(f"{indent}{title}:")
        if "namespaceSelector" in peer and peer["namespaceSelector"] is not None:
            out.w(f"{indent}  NamespaceSelector: {format_label_selector(peer['namespaceSelector'])}")
        if "podSelector" in peer and peer["podSelector"] is not None:
            out.w(f"{indent}  PodSelector: {format_label_selector(peer['podSelector'])}")
        block = peer.get("ipBlock")
        if block is not None:
            out.w(f"{indent}  IPBlock:")
            out.w(f"{indent}    CIDR: {block.get('cidr', '')}")
            out.w(f"{indent}    Except: {', '.join(block.get('except') or [])}")


def _direction(out: Out, spec: Obj, types: list[str], which: tuple[str, str, str, str]) -> None:
    key, peer_key, title, what = which
    name = key.capitalize()
    if name not in types:
        out.w(f"  Not affecting {key} traffic")
        return
    out.w(f"  Allowing {key} traffic:")
    rules = spec.get(key) or []
    if not rules:
        out.w(f"    <none> (Selected pods are isolated for {key} connectivity)")
        return
    for i, rule in enumerate(rules):
        if i:
            out.w("    ----------")
        _ports(out, rule.get("ports") or [], "    ")
        _peers(out, rule.get(peer_key) or [], title, what, "    ")


def describe_network_policy(env: Env, policy: Obj) -> str:
    out, spec = Out(), policy.get("spec") or {}
    heading(out, policy, ("Created on", _created_on(meta(policy).get("creationTimestamp"))))
    out.w("Spec:")
    selector = format_label_selector(spec.get("podSelector") or {})
    if selector == "<none>":
        selector = "<none> (Allowing the specific traffic to all pods in this namespace)"
    out.w(f"  PodSelector:     {selector}")
    types = [str(t) for t in spec.get("policyTypes") or []]
    _direction(out, spec, types, _INGRESS)
    _direction(out, spec, types, _EGRESS)
    out.w(f"  Policy Types: {', '.join(types)}")
    return out.text()
