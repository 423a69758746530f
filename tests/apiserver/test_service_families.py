"""A Service's IP families on kubelite's single-stack IPv4 cluster, as kube-apiserver sets and
checks them: set at create (before the cluster IP is allocated), RequireDualStack only where a
headless service without a selector may take every family, what the cluster cannot give refused
with a 422, and a change to ExternalName dropping what it carried over."""

from __future__ import annotations

from typing import Any

import httpx

from tests.apiserver.conftest import Server


def _svc(name: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"ports": [{"port": 80}], **spec}}


def test_families_set_at_create(server: Server, http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/services"
    cases = {
        "plain": (_svc("plain", selector={"app": "a"}), "SingleStack"),
        "headless": (_svc("headless", clusterIP="None", selector={"app": "a"}), "SingleStack"),
        "bare": (_svc("bare", clusterIP="None"), "RequireDualStack"),
        "node": (_svc("node", type="NodePort", selector={"app": "a"}), "SingleStack"),
    }
    for name, (body, policy) in cases.items():
        r = http.post(base, json=body)
        assert r.status_code == 201, r.text
        spec = r.json()["spec"]
        assert (spec["ipFamilyPolicy"], spec["ipFamilies"]) == (policy, ["IPv4"]), name
    r = http.post(
        base,
        json={"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "a.example"}},
    )
    assert r.status_code == 201, r.text
    assert "ipFamilies" not in r.json()["spec"] and "ipFamilyPolicy" not in r.json()["spec"]
    # the real kubectl's describe shows them, as for any kube Service
    out = server.kubectl("-n", ns, "describe", "svc", "plain", check=True).stdout
    assert "IP Family Policy:         SingleStack" in out and "IP Families:              IPv4" in out


def test_what_the_cluster_cannot_give_is_refused(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/services"
    refused = {
        "spec.ipFamilyPolicy": _svc("a", ipFamilyPolicy="RequireDualStack"),
        "spec.ipFamilies[0]": _svc("b", ipFamilies=["IPv6"]),
        "spec.ipFamilies": _svc("c", ipFamilyPolicy="SingleStack", ipFamilies=["IPv4", "IPv6"]),
    }
    for field, body in refused.items():
        r = http.post(base, json=body)
        assert r.status_code == 422, r.text
        assert field in {c["field"] for c in r.json()["details"]["causes"]}, r.text
    r = http.post(base, json=_svc("d", ipFamilyPolicy="Sometimes"))
    assert r.status_code == 422 and 'Unsupported value: "Sometimes"' in r.json()["message"]
    r = http.post(
        base,
        json={
            "metadata": {"name": "e"},
            "spec": {"type": "ExternalName", "externalName": "x.example", "ipFamilyPolicy": "SingleStack"},
        },
    )
    assert r.status_code == 422 and "may not be set for ExternalName services" in r.text
    # PreferDualStack is granted one family, as kube grants it on a single-stack cluster
    r = http.post(base, json=_svc("f", ipFamilyPolicy="PreferDualStack"))
    assert r.status_code == 201 and r.json()["spec"]["ipFamilies"] == ["IPv4"]
    assert [s["metadata"]["name"] for s in http.get(base).json()["items"]] == ["f"]


def test_change_to_external_name_drops_cluster_ip_fields(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/services"
    made = http.post(base, json=_svc("s", selector={"app": "a"}))
    assert made.status_code == 201, made.text
    svc = made.json()
    svc["spec"].update(type="ExternalName", externalName="db.example")
    svc["spec"].pop("selector")
    r = http.put(f"{base}/s", json=svc)
    assert r.status_code == 200, r.text
    spec = r.json()["spec"]
    assert spec["type"] == "ExternalName"
    assert not {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"} & set(spec)
    # and its cluster IP is free again
    again = http.post(base, json=_svc("t", clusterIP=svc["spec"]["clusterIP"]))
    assert again.status_code == 201, again.text
