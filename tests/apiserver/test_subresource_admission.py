"""Admission of the writes kube admits as another kind than their resource: pods/binding (a v1
Binding), pods/eviction (a policy/v1 Eviction) and <resource>/scale (an autoscaling/v1 Scale),
against a real `kubelite server` and the real HTTPS webhook of tests/apiserver/webhook_server.py
(test_webhooks' fixtures). For each: the review's kind, resource, subResource and request* fields
and its objects; a webhook's denial refuses the write in its words and writes nothing; a mutating
webhook's patch takes effect (a Binding's node, a Scale's replicas on the Deployment). A
ValidatingAdmissionPolicy matching deployments/scale reads the Scale, and the real kubectl 1.33's
`kubectl scale` refused by a webhook prints the refusal."""

from __future__ import annotations

from typing import Any

import httpx

from tests.apiserver import test_webhooks
from tests.apiserver.conftest import Server
from tests.apiserver.webhook_server import WebhookServer

# test_webhooks' fixtures: its HTTPS webhook, a namespace its configurations select, and configured()
hook, ns, configured = test_webhooks.hook, test_webhooks.ns, test_webhooks.configured
webhook = test_webhooks.webhook

MERGE = {"Content-Type": "application/merge-patch+json"}
VAP = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies"
VAPB = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings"


def rule(group: str, resource: str, operation: str) -> dict[str, Any]:
    return {"operations": [operation], "apiGroups": [group], "apiVersions": ["v1"], "resources": [resource]}


def hooked(name: str, path: str, hook: WebhookServer, ns: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return webhook(name, hook.url(path), ns, hook.ca_bundle, rules=rules)


def make_pod(api: httpx.Client, ns: str, name: str) -> None:
    pod = {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    r = api.post(f"/api/v1/namespaces/{ns}/pods", json=pod)
    assert r.status_code == 201, r.text


def make_deployment(api: httpx.Client, ns: str, name: str, replicas: int = 1) -> str:
    labels = {"app": name}
    body = {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    r = api.post(base, json=body)
    assert r.status_code == 201, r.text
    return f"{base}/{name}"


def binding(name: str, node: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": name},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    }


def kinds_of(review: dict[str, Any]) -> tuple[Any, ...]:
    return (
        review["kind"],
        review["resource"],
        review.get("subResource"),
        review["requestKind"],
        review["requestResource"],
        review.get("requestSubResource"),
    )


# --- pods/binding -------------------------------------------------------------------------------


def test_binding_is_admitted_as_a_binding(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    rules = [rule("", "pods/binding", "CREATE")]
    configured(
        "MutatingWebhookConfiguration",
        f"{ns}-bind-m",
        hooked("node.bind.example.com", "/target-node-b", hook, ns, rules),
    )
    configured(
        "ValidatingWebhookConfiguration",
        f"{ns}-bind-v",
        hooked("deny.bind.example.com", "/deny-bad", hook, ns, rules),
    )
    pods = f"/api/v1/namespaces/{ns}/pods"
    make_pod(api, ns, "p1")
    r = api.post(f"{pods}/p1/binding", json=binding("p1", "node-a"))
    assert r.status_code == 201, r.text
    assert api.get(f"{pods}/p1").json()["spec"]["nodeName"] == "node-b"  # the webhook's node
    asked, judged = hook.requests("/target-node-b")[-1], hook.requests("/deny-bad")[-1]
    gvk = {"group": "", "version": "v1", "kind": "Binding"}
    gvr = {"group": "", "version": "v1", "resource": "pods"}
    assert kinds_of(asked) == kinds_of(judged) == (gvk, gvr, "binding", gvk, gvr, "binding")
    assert asked["operation"] == "CREATE" and asked["name"] == "p1" and asked["namespace"] == ns
    assert asked["object"]["target"]["name"] == "node-a" and asked["oldObject"] is None
    assert asked["object"]["kind"] == "Binding" and asked["object"]["metadata"]["namespace"] == ns
    assert judged["object"]["target"]["name"] == "node-b"  # validation sees the mutated Binding
    assert asked["options"]["kind"] == "CreateOptions"

    make_pod(api, ns, "bad-p")
    r = api.post(f"{pods}/bad-p/binding", json=binding("bad-p", "node-a"))
    assert r.status_code == 403, r.text
    assert r.json()["message"] == (
        'pods "bad-p" is forbidden: admission webhook "deny.bind.example.com" denied the request: no bad names here'
    )
    assert "nodeName" not in api.get(f"{pods}/bad-p").json()["spec"]  # nothing written


# --- pods/eviction ------------------------------------------------------------------------------


def test_eviction_is_admitted_as_an_eviction(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    rules = [rule("", "pods/eviction", "CREATE")]
    configured(
        "ValidatingWebhookConfiguration",
        f"{ns}-evict",
        hooked("deny.evict.example.com", "/deny-bad", hook, ns, rules),
    )
    pods = f"/api/v1/namespaces/{ns}/pods"
    make_pod(api, ns, "e1")
    eviction = {
        "apiVersion": "policy/v1beta1",
        "kind": "Eviction",
        "metadata": {"name": "e1"},
        "deleteOptions": {"gracePeriodSeconds": 0},
    }
    r = api.post(f"{pods}/e1/eviction", json=eviction)
    assert r.status_code == 201, r.text
    assert api.get(f"{pods}/e1").status_code == 404
    review = hook.requests("/deny-bad")[-1]
    gvk = {"group": "policy", "version": "v1", "kind": "Eviction"}  # the endpoint's kind, as kube converts
    gvr = {"group": "", "version": "v1", "resource": "pods"}
    assert kinds_of(review) == (gvk, gvr, "eviction", gvk, gvr, "eviction")
    assert review["operation"] == "CREATE" and review["name"] == "e1" and review["oldObject"] is None
    assert review["object"]["apiVersion"] == "policy/v1" and review["object"]["deleteOptions"] == {
        "gracePeriodSeconds": 0
    }

    make_pod(api, ns, "bad-e")
    r = api.post(f"{pods}/bad-e/eviction", json={**eviction, "metadata": {"name": "bad-e"}})
    assert r.status_code == 403, r.text
    assert r.json()["message"] == (
        'pods "bad-e" is forbidden: admission webhook "deny.evict.example.com" denied the request: no bad names here'
    )
    pod = api.get(f"{pods}/bad-e")
    assert pod.status_code == 200 and "deletionTimestamp" not in pod.json()["metadata"]  # nothing deleted


# --- */scale ------------------------------------------------------------------------------------


def test_scale_is_admitted_as_a_scale(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    rules = [rule("apps", "deployments/scale", "UPDATE")]
    configured(
        "MutatingWebhookConfiguration",
        f"{ns}-scale-m",
        hooked("five.scale.example.com", "/replicas-5", hook, ns, rules),
    )
    configured(
        "ValidatingWebhookConfiguration",
        f"{ns}-scale-v",
        hooked("deny.scale.example.com", "/deny-bad", hook, ns, rules),
    )
    web = make_deployment(api, ns, "web")
    r = api.patch(f"{web}/scale", json={"spec": {"replicas": 3}}, headers=MERGE)
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["replicas"] == 5  # the webhook's patch of the Scale
    assert api.get(web).json()["spec"]["replicas"] == 5  # written to the Deployment
    asked, judged = hook.requests("/replicas-5")[-1], hook.requests("/deny-bad")[-1]
    gvk = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    gvr = {"group": "apps", "version": "v1", "resource": "deployments"}
    assert kinds_of(asked) == kinds_of(judged) == (gvk, gvr, "scale", gvk, gvr, "scale")
    assert asked["operation"] == "UPDATE" and asked["options"]["kind"] == "PatchOptions"
    assert asked["object"]["kind"] == "Scale" and asked["object"]["spec"]["replicas"] == 3
    assert (
        asked["oldObject"]["spec"]["replicas"] == 1 and asked["oldObject"]["status"]["selector"] == "app=web"
    )
    assert judged["object"]["spec"]["replicas"] == 5 and judged["oldObject"]["spec"]["replicas"] == 1
    calls = len(hook.requests("/replicas-5"))
    r = api.patch(web, json={"metadata": {"labels": {"x": "y"}}}, headers=MERGE)
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 5, r.text
    assert len(hook.requests("/replicas-5")) == calls  # the Deployment's own update is not deployments/scale

    bad = make_deployment(api, ns, "bad-web")
    scale = api.get(f"{bad}/scale").json()
    r = api.put(f"{bad}/scale", json={**scale, "spec": {"replicas": 2}})
    assert r.status_code == 403, r.text
    assert r.json()["message"] == (
        'deployments.apps "bad-web" is forbidden: admission webhook "deny.scale.example.com" denied the request: '
        "no bad names here"
    )
    assert hook.requests("/replicas-5")[-1]["options"]["kind"] == "UpdateOptions"
    assert api.get(bad).json()["spec"]["replicas"] == 1  # nothing written


def test_kubectl_scale_refused_by_a_webhook(
    srv: Server, api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    rules = [rule("apps", "deployments/scale", "UPDATE"), rule("", "replicationcontrollers/scale", "UPDATE")]
    configured(
        "ValidatingWebhookConfiguration",
        f"{ns}-kubectl",
        hooked("deny.kubectl.example.com", "/deny-bad", hook, ns, rules),
    )
    bad = make_deployment(api, ns, "bad-x")
    r = srv.kubectl("-n", ns, "scale", "deployment", "bad-x", "--replicas=4")
    assert r.returncode != 0
    # kubectl prints the Status's message after `Error from server (<reason>): `; the message
    # ends in kube's ToStatusErr words (the prefix before them is `apiserver.webhooks.review.denied`'s)
    err = r.stderr.strip()
    assert err.startswith("Error from server (Forbidden): "), err
    assert err.endswith(
        'admission webhook "deny.kubectl.example.com" denied the request: no bad names here'
    ), err
    assert err.count("\n") == 0
    assert api.get(bad).json()["spec"]["replicas"] == 1
    make_deployment(api, ns, "good-x")
    r = srv.kubectl("-n", ns, "scale", "deployment", "good-x", "--replicas=4")
    assert r.returncode == 0, r.stderr
    review = hook.requests("/deny-bad")[-1]
    assert review["kind"]["kind"] == "Scale" and review["object"]["spec"]["replicas"] == 4

    rc = {
        "metadata": {"name": "bad-rc"},
        "spec": {
            "replicas": 1,
            "selector": {"app": "rc"},
            "template": {
                "metadata": {"labels": {"app": "rc"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    assert api.post(f"/api/v1/namespaces/{ns}/replicationcontrollers", json=rc).status_code == 201
    r = srv.kubectl("-n", ns, "scale", "rc", "bad-rc", "--replicas=3")
    assert r.returncode != 0 and 'replicationcontrollers "bad-rc" is forbidden' in r.stderr, r.stderr
    assert hook.requests("/deny-bad")[-1]["resource"] == {
        "group": "",
        "version": "v1",
        "resource": "replicationcontrollers",
    }


def test_custom_resource_scale(api: httpx.Client, ns: str, hook: WebhookServer, configured: Any) -> None:
    from tests.apiserver.test_crd import CRDS, CRONTAB, GROUP, crontab, served
    from tests.polling import wait_for

    if api.get(f"{CRDS}/{CRONTAB['metadata']['name']}").status_code == 404:
        assert api.post(CRDS, json=CRONTAB).status_code == 201
    coll = f"/apis/{GROUP}/v1/namespaces/{ns}/crontabs"
    wait_for(lambda: served(api, coll), timeout=10, what="crontabs served")
    rules = [
        {
            "operations": ["UPDATE"],
            "apiGroups": [GROUP],
            "apiVersions": ["*"],
            "resources": ["crontabs/scale"],
        }
    ]
    configured(
        "MutatingWebhookConfiguration",
        f"{ns}-crscale",
        hooked("five.cr.example.com", "/replicas-5", hook, ns, rules),
    )
    assert api.post(coll, json=crontab("sc", replicas=2, selector="app=sc")).status_code == 201
    r = api.patch(f"{coll}/sc/scale", json={"spec": {"replicas": 3}}, headers=MERGE)
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 5, r.text
    assert api.get(f"{coll}/sc").json()["spec"]["replicas"] == 5
    review = hook.requests("/replicas-5")[-1]
    assert review["kind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert review["resource"] == {"group": GROUP, "version": "v1", "resource": "crontabs"}


# --- ValidatingAdmissionPolicy --------------------------------------------------------------------


def test_policy_on_deployments_scale(api: httpx.Client, ns: str) -> None:
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": f"{ns}-max"},
        "spec": {
            "matchConstraints": {"resourceRules": [rule("apps", "deployments/scale", "UPDATE")]},
            "validations": [
                {
                    "expression": "request.kind.kind == 'Scale' && object.spec.replicas <= 3",
                    "message": "at most 3 replicas",
                }
            ],
        },
    }
    bound = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": f"{ns}-max"},
        "spec": {
            "policyName": f"{ns}-max",
            "validationActions": ["Deny"],
            "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}},
        },
    }
    assert api.post(VAP, json=policy).status_code == 201
    assert api.post(VAPB, json=bound).status_code == 201
    try:
        web = make_deployment(api, ns, "web")
        r = api.patch(f"{web}/scale", json={"spec": {"replicas": 5}}, headers=MERGE)
        assert r.status_code == 422, r.text
        assert r.json()["message"] == (
            f"deployments.apps \"web\" is forbidden: ValidatingAdmissionPolicy '{ns}-max' with binding "
            f"'{ns}-max' denied request: at most 3 replicas"
        )
        assert api.get(web).json()["spec"]["replicas"] == 1
        r = api.patch(f"{web}/scale", json={"spec": {"replicas": 3}}, headers=MERGE)
        assert r.status_code == 200, r.text
        r = api.patch(web, json={"spec": {"replicas": 7}}, headers=MERGE)  # not a Scale: not matched
        assert r.status_code == 200, r.text
    finally:
        api.delete(f"{VAPB}/{ns}-max")
        api.delete(f"{VAP}/{ns}-max")
