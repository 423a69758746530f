"""Admission webhooks (admissionregistration.k8s.io/v1) against a real `kubelite server` and a real
HTTPS webhook in this process: kube's defaults and 422s for both kinds, a validating webhook's
refusal in kube's words, a mutating webhook's JSONPatch, selectors, matchConditions (CEL) deciding
which webhooks are called and their errors' failure policies, failure policies against a dead URL,
a timeout and a wrong CA, dry runs, the review's fields, subresource rules, a Service's endpoint,
reinvocation, and the real kubectl applying and listing both kinds.

Every configuration here selects its test's namespace by a label of its own, so tests share the
module's server without seeing each other's webhooks."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.apiserver.conftest import Server, table_rows
from tests.apiserver.webhook_server import WebhookServer, webhook_server

ADM = "/apis/admissionregistration.k8s.io/v1"
MUT, VAL = f"{ADM}/mutatingwebhookconfigurations", f"{ADM}/validatingwebhookconfigurations"
_ids = itertools.count()


@pytest.fixture(scope="module")
def hook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookServer]:
    with webhook_server(tmp_path_factory.mktemp("hook"), dns=("hook.hooks-svc.svc",)) as h:
        yield h


@pytest.fixture
def ns(api: httpx.Client) -> Iterator[str]:
    name = f"wh-{next(_ids)}"
    r = api.post("/api/v1/namespaces", json={"metadata": {"name": name, "labels": {"webhook-test": name}}})
    assert r.status_code == 201, r.text
    yield name
    api.delete(f"/api/v1/namespaces/{name}")


def webhook(name: str, url: str, ns: str, ca: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "clientConfig": {"url": url, "caBundle": ca},
        "rules": [
            {"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}
        ],
        "namespaceSelector": {"matchLabels": {"webhook-test": ns}},
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        **extra,
    }


def configuration(kind: str, name: str, *hooks: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name},
        "webhooks": list(hooks),
    }


@pytest.fixture
def configured(api: httpx.Client) -> Iterator[Any]:
    """configured(kind, name, *hooks): create a configuration, deleted after the test."""
    made: list[str] = []

    def make(kind: str, name: str, *hooks: dict[str, Any]) -> dict[str, Any]:
        base = MUT if kind.startswith("Mutating") else VAL
        r = api.post(base, json=configuration(kind, name, *hooks))
        assert r.status_code == 201, r.text
        made.append(f"{base}/{name}")
        return r.json()

    yield make
    for path in made:
        api.delete(path)


def condition(expression: str, name: str = "") -> dict[str, str]:
    return {"name": name or f"c{next(_ids)}", "expression": expression}


def labelled(key: str) -> dict[str, str]:
    """A matchCondition: the object has the label `key`."""
    return condition(f"has(object.metadata.labels) && '{key}' in object.metadata.labels")


def configmap(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, **({"labels": labels} if labels else {})}, "data": {"k": "v"}}


def _causes(r: httpx.Response) -> list[tuple[str, str]]:
    assert r.status_code == 422, r.text
    return [(c["field"], c["message"]) for c in r.json()["details"]["causes"]]


# --- the kinds ----------------------------------------------------------------------------------


def test_defaults_and_table(api: httpx.Client, srv: Server, hook: WebhookServer) -> None:
    svc_hook = {
        "name": "svc.defaults.example.com",
        "clientConfig": {"service": {"namespace": "default", "name": "x"}},
        "rules": [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}],
        "sideEffects": "NoneOnDryRun",
        "admissionReviewVersions": ["v1", "v1beta1"],
    }
    r = api.post(MUT, json=configuration("MutatingWebhookConfiguration", "defaults", svc_hook))
    assert r.status_code == 201, r.text
    got = r.json()["webhooks"][0]
    assert got["failurePolicy"] == "Fail" and got["matchPolicy"] == "Equivalent"
    assert got["namespaceSelector"] == {} and got["objectSelector"] == {}
    assert got["timeoutSeconds"] == 10 and got["reinvocationPolicy"] == "Never"
    assert got["rules"][0]["scope"] == "*" and got["clientConfig"]["service"]["port"] == 443
    try:
        out = srv.kubectl("get", "mutatingwebhookconfigurations", check=True).stdout
        assert table_rows(out)[0] == ["NAME", "WEBHOOKS", "AGE"]
        assert table_rows(out)[1][:2] == ["defaults", "1"]
    finally:
        api.delete(f"{MUT}/defaults")
    assert api.get(f"{MUT}/defaults").status_code == 404


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "short.name"}, "webhooks[0].name", "should be a domain with at least three segments"),
        (
            {"sideEffects": None},
            "webhooks[0].sideEffects",
            "Required value: must specify one of None, NoneOnDryRun",
        ),
        ({"sideEffects": "Some"}, "webhooks[0].sideEffects", 'Unsupported value: "Some"'),
        (
            {"admissionReviewVersions": ["v2", "v1alpha1"]},
            "webhooks[0].admissionReviewVersions",
            "must include at least one of v1, v1beta1",
        ),
        ({"admissionReviewVersions": []}, "webhooks[0].admissionReviewVersions", "Required value"),
        ({"clientConfig": {}}, "webhooks[0].clientConfig", "exactly one of url or service is required"),
        (
            {"clientConfig": {"url": "http://h/x"}},
            "webhooks[0].clientConfig.url",
            "'https' is the only allowed",
        ),
        ({"clientConfig": {"url": "https://h/x?a=b"}}, "webhooks[0].clientConfig.url", "query parameters"),
        (
            {"clientConfig": {"url": "https://h/x#f"}},
            "webhooks[0].clientConfig.url",
            "fragments are not permitted",
        ),
        (
            {"clientConfig": {"service": {"name": "s", "namespace": "n", "port": 70000}}},
            "webhooks[0].clientConfig.service.port",
            "port is not valid",
        ),
        ({"timeoutSeconds": 31}, "webhooks[0].timeoutSeconds", "between 1 and 30 seconds"),
        ({"failurePolicy": "Maybe"}, "webhooks[0].failurePolicy", 'Unsupported value: "Maybe"'),
        (
            {"matchConditions": [{"name": "c", "expression": "object.metadata.name.reverse() == 'x'"}]},
            "webhooks[0].matchConditions[0].expression",
            "undeclared reference to 'reverse' (Kubernetes' CEL libraries are not supported by this server)",
        ),
        (
            {
                "matchConditions": [
                    {"name": "c", "expression": "authorizer.requestResource.check('get').allowed()"}
                ]
            },
            "webhooks[0].matchConditions[0].expression",
            "authorizer library is not supported",
        ),
        (
            {"matchConditions": [{"name": "c", "expression": "params.x == 1"}]},
            "webhooks[0].matchConditions[0].expression",
            "undeclared reference to 'params'",
        ),
        (
            {"matchConditions": [{"name": "c", "expression": "true"}, {"name": "c", "expression": "true"}]},
            "webhooks[0].matchConditions[1].name",
            'Duplicate value: "c"',
        ),
        (
            {
                "rules": [
                    {
                        "operations": ["CONNECT"],
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["pods/exec"],
                    }
                ]
            },
            "webhooks[0].rules[0].operations",
            "does not offer CONNECT",
        ),
        (
            {
                "rules": [
                    {
                        "operations": ["CREATE"],
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["serviceaccounts/token"],
                    }
                ]
            },
            "webhooks[0].rules[0].resources[0]",
            "does not offer serviceaccounts/token writes",
        ),
        (
            {
                "rules": [
                    {
                        "operations": ["*"],
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["pods/exec"],
                    }
                ]
            },
            "webhooks[0].rules[0].resources[0]",
            "does not offer pods/exec (CONNECT)",
        ),
        (
            {
                "rules": [
                    {"operations": ["GET"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}
                ]
            },
            "webhooks[0].rules[0].operations[0]",
            'Unsupported value: "GET"',
        ),
        (
            {
                "rules": [
                    {
                        "operations": ["*"],
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["*/*", "pods"],
                    }
                ]
            },
            "webhooks[0].rules[0].resources",
            "if '*/*' is present, must not specify other resources",
        ),
        (
            {
                "rules": [
                    {
                        "operations": ["*"],
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["pods"],
                        "scope": "Node",
                    }
                ]
            },
            "webhooks[0].rules[0].scope",
            'Unsupported value: "Node"',
        ),
    ],
)
def test_refusals(api: httpx.Client, change: dict[str, Any], field: str, message: str) -> None:
    h = webhook("bad.refusal.example.com", "https://h/x", "x", "")
    del h["clientConfig"]["caBundle"]
    h.update(change)
    h = {k: v for k, v in h.items() if v is not None}
    r = api.post(VAL, json=configuration("ValidatingWebhookConfiguration", "refused", h))
    causes = _causes(r)
    assert any(f == field and message in m for f, m in causes), causes
    assert api.get(f"{VAL}/refused").status_code == 404


def test_connections_named_for_create_and_update_are_kept(api: httpx.Client, configured: Any) -> None:
    # gatekeeper's validating rule (deploy/gatekeeper.yaml) names connections for CREATE and
    # UPDATE: kube admits them only as CONNECT, so they match nothing there either
    rule = {
        "operations": ["CREATE", "UPDATE"],
        "apiGroups": ["*"],
        "apiVersions": ["*"],
        "resources": ["*", "pods/exec", "pods/portforward", "pods/proxy", "pods/attach", "services/proxy"],
    }
    h = webhook("gk.connections.example.com", "https://h/x", "x", "", rules=[rule])
    del h["clientConfig"]["caBundle"]
    made = configured("ValidatingWebhookConfiguration", "connections-kept", h)
    assert made["webhooks"][0]["rules"][0]["resources"] == rule["resources"]


def test_duplicate_webhook_names(api: httpx.Client) -> None:
    h = webhook("same.dup.example.com", "https://h/x", "x", "")
    causes = _causes(api.post(VAL, json=configuration("ValidatingWebhookConfiguration", "dup", h, h)))
    assert ("webhooks[1].name", 'Duplicate value: "same.dup.example.com"') in causes


# --- calling them -------------------------------------------------------------------------------


def test_validating_webhook_denies_in_its_words(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    configured(
        "ValidatingWebhookConfiguration",
        f"{ns}-deny",
        webhook("deny.wh.example.com", hook.url("/deny-bad"), ns, hook.ca_bundle),
    )
    r = api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap("bad-1"))
    assert r.status_code == 403, r.text
    assert r.json()["message"] == (
        'configmaps "bad-1" is forbidden: admission webhook "deny.wh.example.com" denied the request: no bad names here'
    )
    assert r.json()["reason"] == "Forbidden"
    assert api.get(f"/api/v1/namespaces/{ns}/configmaps/bad-1").status_code == 404
    assert api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap("good-1")).status_code == 201


def test_connections_to_a_webhook_are_kept_alive(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    """A handshake per write cost ~3 ms of the API server's CPU: the connection is kept."""
    configured(
        "ValidatingWebhookConfiguration",
        f"{ns}-kept",
        webhook("kept.wh.example.com", hook.url("/allow"), ns, hook.ca_bundle),
    )
    assert api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap("kept-0")).status_code == 201
    calls, connections = len(hook.requests("/allow")), hook.connections
    for i in range(1, 6):
        assert api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap(f"kept-{i}")).status_code == 201
    assert len(hook.requests("/allow")) == calls + 5
    assert hook.connections == connections  # five calls, no new connection


def test_mutating_webhook_patches_and_warns(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    configured(
        "MutatingWebhookConfiguration",
        f"{ns}-label",
        webhook("label.wh.example.com", hook.url("/label"), ns, hook.ca_bundle),
        webhook("warn.wh.example.com", hook.url("/warn"), ns, hook.ca_bundle),
    )
    r = api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap("m1", {"keep": "me"}))
    assert r.status_code == 201, r.text
    assert r.json()["metadata"]["labels"] == {"keep": "me", "mutated-by": "webhook"}
    assert "be careful" in r.headers.get("warning", "")
    stored = api.get(f"/api/v1/namespaces/{ns}/configmaps/m1").json()
    assert stored["metadata"]["labels"]["mutated-by"] == "webhook"
    # the second webhook saw the first one's patch
    assert hook.requests("/warn")[-1]["object"]["metadata"]["labels"]["mutated-by"] == "webhook"


def test_v1beta1_only_webhooks_get_v1beta1_reviews(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    """A webhook listing only v1beta1 (older kyverno's, istio's) is called with an
    admission.k8s.io/v1beta1 AdmissionReview, as kube calls it, and its patch is applied."""
    before = len(hook.review_versions)
    configured(
        "MutatingWebhookConfiguration",
        f"{ns}-beta",
        webhook(
            "beta.wh.example.com", hook.url("/label"), ns, hook.ca_bundle, admissionReviewVersions=["v1beta1"]
        ),
    )
    r = api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap("beta"))
    assert r.status_code == 201, r.text
    assert r.json()["metadata"]["labels"] == {"mutated-by": "webhook"}
    assert hook.review_versions[before:] == ["admission.k8s.io/v1beta1"]


def test_selectors_choose_what_calls(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    configured(
        "ValidatingWebhookConfiguration",
        f"{ns}-sel",
        webhook(
            "sel.wh.example.com",
            hook.url("/deny-bad"),
            ns,
            hook.ca_bundle,
            objectSelector={"matchLabels": {"checked": "yes"}},
        ),
    )
    base = f"/api/v1/namespaces/{ns}/configmaps"
    assert api.post(base, json=configmap("bad-unchecked")).status_code == 201  # objectSelector: no
    assert api.post(base, json=configmap("bad-checked", {"checked": "yes"})).status_code == 403
    other = f"wh-other-{next(_ids)}"
    api.post("/api/v1/namespaces", json={"metadata": {"name": other}}).raise_for_status()
    try:  # namespaceSelector: another namespace is not selected
        r = api.post(f"/api/v1/namespaces/{other}/configmaps", json=configmap("bad-x", {"checked": "yes"}))
        assert r.status_code == 201, r.text
    finally:
        api.delete(f"/api/v1/namespaces/{other}")


def test_match_conditions_choose_what_calls(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    conditions = [labelled("checked"), condition("request.userInfo.username == 'admin' && oldObject == null")]
    configured(
        "ValidatingWebhookConfiguration",
        f"{ns}-cond",
        webhook("cond.wh.example.com", hook.url("/deny-bad"), ns, hook.ca_bundle, matchConditions=conditions),
    )
    base = f"/api/v1/namespaces/{ns}/configmaps"
    before = len(hook.requests("/deny-bad"))
    assert api.post(base, json=configmap("bad-unchecked")).status_code == 201  # a false condition
    assert len(hook.requests("/deny-bad")) == before  # skipped, not called
    r = api.post(base, json=configmap("bad-checked", {"checked": "yes"}))  # all true: called
    assert r.status_code == 403 and "no bad names here" in r.json()["message"], r.text
    assert len(hook.requests("/deny-bad")) == before + 1
    assert api.post(base, json=configmap("good-checked", {"checked": "yes"})).status_code == 201


def test_match_condition_errors_follow_failure_policy(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    failing = [condition("object.data.missing == 'x'")]
    base = f"/api/v1/namespaces/{ns}/configmaps"
    h = webhook("condfail.wh.example.com", hook.url("/allow"), ns, hook.ca_bundle, matchConditions=failing)
    configured("ValidatingWebhookConfiguration", f"{ns}-condfail", h)
    before = len(hook.requests("/allow"))
    r = api.post(base, json=configmap("cf1"))
    assert r.status_code == 500 and r.json()["reason"] == "InternalError", r.text
    assert (
        'failed calling webhook "condfail.wh.example.com": failed to evaluate match condition: '
        "expression 'object.data.missing == 'x'' resulted in error"
    ) in r.json()["message"]
    api.delete(f"{VAL}/{ns}-condfail")
    h = webhook("condignore.wh.example.com", hook.url("/allow"), ns, hook.ca_bundle, matchConditions=failing)
    configured("ValidatingWebhookConfiguration", f"{ns}-condignore", {**h, "failurePolicy": "Ignore"})
    assert api.post(base, json=configmap("cf2")).status_code == 201
    assert len(hook.requests("/allow")) == before  # neither webhook was called


def test_mutating_match_conditions_see_earlier_patches(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    first = webhook("first.mc.example.com", hook.url("/label"), ns, hook.ca_bundle)
    second = webhook("second.mc.example.com", hook.url("/add-b"), ns, hook.ca_bundle)
    configured(
        "MutatingWebhookConfiguration",
        f"{ns}-mc",
        first,
        {**second, "matchConditions": [labelled("mutated-by")]},
    )
    r = api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap("mc"))
    assert r.status_code == 201, r.text
    assert r.json()["metadata"]["labels"] == {"mutated-by": "webhook", "b": "yes"}


def test_failure_policy_on_dead_url_timeout_and_wrong_ca(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any, tmp_path: Path
) -> None:
    from tests.apiserver.conftest import free_port
    from tests.tls import self_signed

    dead = f"https://127.0.0.1:{free_port()}/x"
    wrong_ca = __import__("base64").b64encode(self_signed("other", ca=True)[0]).decode()
    base = f"/api/v1/namespaces/{ns}/configmaps"
    cases = [
        ("dead", webhook("dead.wh.example.com", dead, ns, hook.ca_bundle), "connect"),
        (
            "slow",
            webhook("slow.wh.example.com", hook.url("/slow"), ns, hook.ca_bundle, timeoutSeconds=1),
            "context deadline exceeded",
        ),
        (
            "wrongca",
            webhook("ca.wh.example.com", hook.url("/allow"), ns, wrong_ca),
            "CERTIFICATE_VERIFY_FAILED",
        ),
        (
            "baduid",
            webhook("uid.wh.example.com", hook.url("/bad-uid"), ns, hook.ca_bundle),
            "expected response.uid",
        ),
    ]
    for label, h, words in cases:
        configured("ValidatingWebhookConfiguration", f"{ns}-{label}", h)
        r = api.post(base, json=configmap(f"fail-{label}"))
        assert r.status_code == 500, r.text
        assert r.json()["reason"] == "InternalError"
        assert (
            f'failed calling webhook "{h["name"]}"' in r.json()["message"] and words in r.json()["message"]
        ), r.text
        api.delete(f"{VAL}/{ns}-{label}")
        h = {**h, "failurePolicy": "Ignore"}
        configured("ValidatingWebhookConfiguration", f"{ns}-{label}-ignored", h)
        r = api.post(base, json=configmap(f"ignored-{label}"))
        assert r.status_code == 201, r.text
        api.delete(f"{VAL}/{ns}-{label}-ignored")
    hook.release.set()


def test_review_fields_update_delete_and_dry_run(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    h = webhook("fields.wh.example.com", hook.url("/allow"), ns, hook.ca_bundle)
    h["rules"][0]["operations"] = ["*"]
    h["objectSelector"] = {"matchLabels": {"fields": "yes"}}
    configured("ValidatingWebhookConfiguration", f"{ns}-fields", h)
    base = f"/api/v1/namespaces/{ns}/configmaps"
    assert (
        api.post(base, json=configmap("f1", {"fields": "yes"}), params={"fieldManager": "me"}).status_code
        == 201
    )
    created = hook.requests("/allow")[-1]
    assert created["operation"] == "CREATE" and created["name"] == "f1" and created["namespace"] == ns
    assert created["kind"] == {"group": "", "version": "v1", "kind": "ConfigMap"}
    assert created["resource"] == {"group": "", "version": "v1", "resource": "configmaps"}
    assert created["userInfo"]["username"] == "admin" and "system:masters" in created["userInfo"]["groups"]
    assert created["oldObject"] is None and created["dryRun"] is False
    assert created["options"]["kind"] == "CreateOptions" and created["options"]["fieldManager"] == "me"
    r = api.patch(
        f"{base}/f1", json={"data": {"k": "w"}}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert r.status_code == 200, r.text
    updated = hook.requests("/allow")[-1]
    assert updated["operation"] == "UPDATE" and updated["oldObject"]["data"] == {"k": "v"}
    assert updated["object"]["data"] == {"k": "w"} and updated["options"]["kind"] == "PatchOptions"
    assert (
        api.post(base, json=configmap("f2", {"fields": "yes"}), params={"dryRun": "All"}).status_code == 201
    )
    assert hook.requests("/allow")[-1]["dryRun"] is True
    assert api.get(f"{base}/f2").status_code == 404
    assert api.delete(f"{base}/f1").status_code == 200
    deleted = hook.requests("/allow")[-1]
    assert deleted["operation"] == "DELETE" and deleted["object"] is None
    assert deleted["oldObject"]["metadata"]["name"] == "f1" and deleted["options"]["kind"] == "DeleteOptions"


def test_subresource_rules(api: httpx.Client, ns: str, hook: WebhookServer, configured: Any) -> None:
    def rule(resources: list[str]) -> dict[str, Any]:
        return {"operations": ["UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": resources}

    configured(
        "ValidatingWebhookConfiguration",
        f"{ns}-sub",
        webhook(
            "status.wh.example.com", hook.url("/allow"), ns, hook.ca_bundle, rules=[rule(["pods/status"])]
        ),
        webhook("pods.wh.example.com", hook.url("/warn"), ns, hook.ca_bundle, rules=[rule(["pods"])]),
    )
    pods = f"/api/v1/namespaces/{ns}/pods"
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    assert api.post(pods, json=pod).status_code == 201
    before = (len(hook.requests("/allow")), len(hook.requests("/warn")))
    merge = {"Content-Type": "application/merge-patch+json"}
    r = api.patch(f"{pods}/p/status", json={"status": {"message": "hi"}}, headers=merge)
    assert r.status_code == 200, r.text
    assert (len(hook.requests("/allow")), len(hook.requests("/warn"))) == (before[0] + 1, before[1])
    assert hook.requests("/allow")[-1]["subResource"] == "status"
    assert hook.requests("/allow")[-1]["kind"]["kind"] == "Pod"
    r = api.patch(f"{pods}/p", json={"metadata": {"labels": {"x": "y"}}}, headers=merge)
    assert r.status_code == 200, r.text
    assert (len(hook.requests("/allow")), len(hook.requests("/warn"))) == (before[0] + 1, before[1] + 1)


def test_service_webhook_reaches_its_endpoint(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    svc_ns = "hooks-svc"
    hook.behind_service(api, svc_ns, "hook")
    h = webhook("svc.wh.example.com", "", ns, hook.ca_bundle)
    h["clientConfig"] = {
        "service": {"namespace": svc_ns, "name": "hook", "path": "/deny-bad"},
        "caBundle": hook.ca_bundle,
    }
    configured("ValidatingWebhookConfiguration", f"{ns}-svc", h)
    r = api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap("bad-svc"))
    assert r.status_code == 403 and "no bad names here" in r.json()["message"], r.text


def test_reinvocation_if_needed(api: httpx.Client, ns: str, hook: WebhookServer, configured: Any) -> None:
    configured(
        "MutatingWebhookConfiguration",
        f"{ns}-a",
        webhook("a.wh.example.com", hook.url("/add-a"), ns, hook.ca_bundle, reinvocationPolicy="IfNeeded"),
    )
    configured(
        "MutatingWebhookConfiguration",
        f"{ns}-b",
        webhook("b.wh.example.com", hook.url("/add-b"), ns, hook.ca_bundle),
    )
    before = len(hook.requests("/add-a"))
    r = api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap("re"))
    assert r.status_code == 201, r.text
    assert r.json()["metadata"]["labels"] == {"a": "yes", "b": "yes"}
    calls = hook.requests("/add-a")[before:]
    assert len(calls) == 2  # called again after b changed the object
    assert calls[1]["object"]["metadata"]["labels"] == {"a": "yes", "b": "yes"}


def test_kubectl_applies_both_kinds(srv: Server, api: httpx.Client, hook: WebhookServer) -> None:
    manifest = f"""
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: kubectl-validating}}
webhooks:
- name: v.kubectl.example.com
  clientConfig: {{url: "{hook.url("/allow")}", caBundle: {hook.ca_bundle}}}
  rules: [{{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [secrets]}}]
  namespaceSelector: {{matchLabels: {{kubectl-test: "yes"}}}}
  sideEffects: None
  admissionReviewVersions: [v1]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {{name: kubectl-mutating}}
webhooks:
- name: m.kubectl.example.com
  clientConfig: {{url: "{hook.url("/label")}", caBundle: {hook.ca_bundle}}}
  rules: [{{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [secrets]}}]
  namespaceSelector: {{matchLabels: {{kubectl-test: "yes"}}}}
  sideEffects: None
  admissionReviewVersions: [v1]
"""
    try:
        out = srv.kubectl("apply", "-f", "-", input=manifest, check=True).stdout
        assert "validatingwebhookconfiguration.admissionregistration.k8s.io/kubectl-validating created" in out
        assert "mutatingwebhookconfiguration.admissionregistration.k8s.io/kubectl-mutating created" in out
        rows = table_rows(srv.kubectl("get", "validatingwebhookconfigurations", check=True).stdout)
        assert rows[0] == ["NAME", "WEBHOOKS", "AGE"] and rows[1][:2] == ["kubectl-validating", "1"]
    finally:
        srv.kubectl("delete", "-f", "-", input=manifest)


def test_no_configuration_calls_nothing(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    h = webhook("secrets.wh.example.com", hook.url("/allow"), ns, hook.ca_bundle)
    h["rules"][0]["resources"] = ["secrets"]
    configured("ValidatingWebhookConfiguration", f"{ns}-secrets", h)
    before = len(hook.calls)
    assert api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap("quiet")).status_code == 201
    assert len(hook.calls) == before


def test_custom_resources_and_their_status(
    api: httpx.Client, ns: str, hook: WebhookServer, configured: Any
) -> None:
    from tests.apiserver.test_crd import CRDS, CRONTAB, GROUP, crontab, served
    from tests.polling import wait_for

    if api.get(f"{CRDS}/{CRONTAB['metadata']['name']}").status_code == 404:
        assert api.post(CRDS, json=CRONTAB).status_code == 201
    coll = f"/apis/{GROUP}/v1/namespaces/{ns}/crontabs"
    wait_for(lambda: served(api, coll), timeout=10, what="crontabs served")
    mutating = webhook("cr.wh.example.com", hook.url("/label"), ns, hook.ca_bundle)
    mutating["rules"] = [
        {"operations": ["CREATE"], "apiGroups": [GROUP], "apiVersions": ["*"], "resources": ["crontabs"]}
    ]
    status = webhook("crstatus.wh.example.com", hook.url("/deny-bad"), ns, hook.ca_bundle)
    status["rules"] = [
        {"operations": ["UPDATE"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/status"]}
    ]
    configured("MutatingWebhookConfiguration", f"{ns}-cr", mutating)
    configured("ValidatingWebhookConfiguration", f"{ns}-crstatus", status)
    r = api.post(coll, json=crontab("bad-cron"))
    assert r.status_code == 201, r.text
    assert r.json()["metadata"]["labels"] == {"mutated-by": "webhook"}
    assert hook.requests("/label")[-1]["kind"] == {"group": GROUP, "version": "v1", "kind": "CronTab"}
    merge = {"Content-Type": "application/merge-patch+json"}
    r = api.patch(f"{coll}/bad-cron/status", json={"status": {"replicas": 1}}, headers=merge)
    assert r.status_code == 403 and "no bad names here" in r.json()["message"], r.text
    assert r.json()["message"].startswith(f'crontabs.{GROUP} "bad-cron" is forbidden')
