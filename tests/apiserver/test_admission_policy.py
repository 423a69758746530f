"""ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding (admissionregistration.k8s.io/v1)
against a real `kubelite server`: kube's defaults, status and 422s for both kinds (unsupported CEL
refused naming it), refusals and warnings in kube's words, reasons and messages, match rules and
selectors, variables, request and namespaceObject, parameters (and the permission to name their
kind), failure policies on errors, matchConditions, a custom resource held to a policy, and the
real kubectl applying a policy and its binding and being refused.

Every binding here selects its test's namespace by the `kubernetes.io/metadata.name` label, so
tests share the module's server without seeing each other's policies."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.apiserver.conftest import Server, table_rows

ADM = "/apis/admissionregistration.k8s.io/v1"
VAP, VAPB = f"{ADM}/validatingadmissionpolicies", f"{ADM}/validatingadmissionpolicybindings"
MERGE = {"Content-Type": "application/merge-patch+json"}
_ids = itertools.count()


@pytest.fixture
def ns(api: httpx.Client) -> Iterator[str]:
    name = f"vap-{next(_ids)}"
    r = api.post("/api/v1/namespaces", json={"metadata": {"name": name, "labels": {"env": "test"}}})
    assert r.status_code == 201, r.text
    yield name
    api.delete(f"/api/v1/namespaces/{name}")


def rule(*resources: str, operations: tuple[str, ...] = ("CREATE", "UPDATE"), **extra: Any) -> dict[str, Any]:
    return {
        "operations": list(operations),
        "apiGroups": [""],
        "apiVersions": ["v1"],
        "resources": list(resources or ("configmaps",)),
        **extra,
    }


def policy(name: str, *validations: dict[str, Any], **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"matchConstraints": {"resourceRules": [rule()]}, **spec}
    if validations:
        body["validations"] = list(validations)
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": body,
    }


def binding(
    name: str, policy_name: str, ns: str, actions: tuple[str, ...] = ("Deny",), **spec: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "policyName": policy_name,
        "validationActions": list(actions),
        "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}},
        **spec,
    }
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": body,
    }


@pytest.fixture
def made(api: httpx.Client) -> Iterator[Any]:
    """made(body, ...): create policies and bindings (by their kind), deleted after the test."""
    paths: list[str] = []

    def make(*bodies: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for body in bodies:
            base = VAP if body["kind"] == "ValidatingAdmissionPolicy" else VAPB
            r = api.post(base, json=body)
            assert r.status_code == 201, r.text
            paths.append(f"{base}/{body['metadata']['name']}")
            out.append(r.json())
        return out

    yield make
    for path in reversed(paths):
        api.delete(path)


def configmap(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    return {"metadata": {"name": name, **({"labels": labels} if labels else {})}, "data": data or {"k": "v"}}


def causes(r: httpx.Response) -> list[tuple[str, str]]:
    assert r.status_code == 422, r.text
    return [(c.get("field", ""), c["message"]) for c in r.json()["details"]["causes"]]


def denial(p: str, b: str, message: str) -> str:
    return f"ValidatingAdmissionPolicy '{p}' with binding '{b}' denied request: {message}"


# --- the kinds ----------------------------------------------------------------------------------


def test_defaults_status_generation_and_tables(api: httpx.Client, srv: Server, made: Any, ns: str) -> None:
    p = policy(f"{ns}-defaults", {"expression": "true"}, paramKind={"apiVersion": "v1", "kind": "ConfigMap"})
    p["spec"]["matchConstraints"]["excludeResourceRules"] = [rule("configmaps", resourceNames=["skip"])]
    b = binding(f"{ns}-defaults", p["metadata"]["name"], ns)
    b["spec"]["paramRef"] = {"name": "limits", "namespace": ns, "parameterNotFoundAction": "Allow"}
    got_policy, got_binding = made(p, b)
    spec = got_policy["spec"]
    assert spec["failurePolicy"] == "Fail"
    match = spec["matchConstraints"]
    assert (
        match["matchPolicy"] == "Equivalent"
        and match["namespaceSelector"] == {}
        and match["objectSelector"] == {}
    )
    assert match["resourceRules"][0]["scope"] == "*" and match["excludeResourceRules"][0]["scope"] == "*"
    assert got_policy["metadata"]["generation"] == 1
    assert got_policy["status"] == {"observedGeneration": 1, "typeChecking": {}}
    assert got_binding["metadata"]["generation"] == 1
    assert got_binding["spec"]["matchResources"]["matchPolicy"] == "Equivalent"
    assert got_binding["spec"]["matchResources"]["objectSelector"] == {}
    path = f"{VAP}/{p['metadata']['name']}"
    r = api.patch(path, json={"spec": {"validations": [{"expression": "1 == 1"}]}}, headers=MERGE)
    assert r.status_code == 200, r.text
    assert r.json()["metadata"]["generation"] == 2 and r.json()["status"]["observedGeneration"] == 2
    # a main write keeps the status; /status writes it
    r = api.patch(path, json={"status": {"observedGeneration": 7}}, headers=MERGE)
    assert r.json()["status"]["observedGeneration"] == 2
    r = api.patch(f"{path}/status", json={"status": {"observedGeneration": 7}}, headers=MERGE)
    assert r.status_code == 200 and r.json()["status"]["observedGeneration"] == 7
    rows = table_rows(
        srv.kubectl("get", "validatingadmissionpolicies", p["metadata"]["name"], check=True).stdout
    )
    assert rows[0] == ["NAME", "VALIDATIONS", "PARAMKIND", "AGE"]
    assert rows[1][:3] == [p["metadata"]["name"], "1", "v1/ConfigMap"]
    rows = table_rows(
        srv.kubectl("get", "validatingadmissionpolicybindings", b["metadata"]["name"], check=True).stdout
    )
    assert rows[0] == ["NAME", "POLICYNAME", "PARAMREF", "AGE"]
    assert rows[1][:3] == [b["metadata"]["name"], p["metadata"]["name"], f"{ns}/limits"]


def refused_policy(api: httpx.Client, change: dict[str, Any], field: str, message: str) -> None:
    p = policy("refused-policy", {"expression": "true"})
    p["spec"].update(change)
    got = causes(api.post(VAP, json=p))
    assert any(f == field and message in m for f, m in got), got
    assert api.get(f"{VAP}/refused-policy").status_code == 404


LOWER = "object.metadata.name.reverse() == 'x'"
ASK = "authorizer.group('').resource('pods').check('get').allowed()"


@pytest.mark.parametrize(
    ("validation", "field", "message"),
    [
        ({"expression": " "}, "expression", "expression is not specified"),
        ({"expression": "object.x +"}, "expression", "compilation failed: ERROR: <input>:1:10: Syntax error"),
        ({"expression": "params.max > 1"}, "expression", "undeclared reference to 'params'"),
        ({"expression": LOWER}, "expression", "'reverse' (Kubernetes' CEL libraries are not supported"),
        ({"expression": ASK}, "expression", "authorizer library is not supported"),
        ({"expression": "true", "messageExpression": "  "}, "messageExpression", "must be non-empty"),
        ({"expression": "true", "message": "two\nlines"}, "message", "message must not contain line breaks"),
        ({"expression": "true", "reason": "Conflict"}, "reason", 'Unsupported value: "Conflict"'),
    ],
)
def test_validation_refusals(api: httpx.Client, validation: dict[str, Any], field: str, message: str) -> None:
    refused_policy(api, {"validations": [validation]}, f"spec.validations[0].{field}", message)


CONNECT = {"resourceRules": [rule("pods/exec", operations=("CONNECT",))]}
TWO = [{"name": "a", "expression": "variables.b"}, {"name": "b", "expression": "1"}]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"failurePolicy": "Maybe"}, "spec.failurePolicy", 'Unsupported value: "Maybe"'),
        (
            {"matchConstraints": {"resourceRules": []}},
            "spec.matchConstraints.resourceRules",
            "Required value",
        ),
        ({"validations": []}, "spec.auditAnnotations", "validations or auditAnnotations must contain"),
        ({"variables": TWO}, "spec.variables[0].expression", "undefined field 'b'"),
        (
            {"variables": [{"name": "a-b", "expression": "1"}]},
            "spec.variables[0].name",
            "not a valid CEL identifier",
        ),
        ({"paramKind": {"apiVersion": "v1"}}, "spec.paramKind.kind", "Required value"),
        (
            {"matchConditions": [{"name": "c", "expression": "variables.x"}]},
            "spec.matchConditions[0].expression",
            "'variables'",
        ),
        (
            {"matchConstraints": CONNECT},
            "spec.matchConstraints.resourceRules[0].operations",
            "to admission policies",
        ),
        (
            {"auditAnnotations": [{"key": "k", "valueExpression": ""}]},
            "spec.auditAnnotations[0].valueExpression",
            "Required",
        ),
    ],
)
def test_policy_refusals(api: httpx.Client, change: dict[str, Any], field: str, message: str) -> None:
    refused_policy(api, change, field, message)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"validationActions": []}, "spec.validationActions", "at least one validation action is required"),
        (
            {"validationActions": ["Deny", "Warn"]},
            "spec.validationActions",
            "must not contain both Deny and Warn",
        ),
        ({"validationActions": ["Block"]}, "spec.validationActions[0]", 'Unsupported value: "Block"'),
        ({"validationActions": ["Deny", "Deny"]}, "spec.validationActions[1]", 'Duplicate value: "Deny"'),
        ({"policyName": ""}, "spec.policyName", "Required value"),
        (
            {"paramRef": {"name": "a", "selector": {}, "parameterNotFoundAction": "Deny"}},
            "spec.paramRef.name",
            "name and selector are mutually exclusive",
        ),
        ({"paramRef": {"name": "a"}}, "spec.paramRef.parameterNotFoundAction", "Required value"),
        (
            {"paramRef": {"parameterNotFoundAction": "Allow"}},
            "spec.paramRef",
            "one of name or selector must be specified",
        ),
        ({"matchResources": {"matchPolicy": "Fuzzy"}}, "spec.matchResouces.matchPolicy", '"Fuzzy"'),  # sic
    ],
)
def test_binding_refusals(api: httpx.Client, change: dict[str, Any], field: str, message: str) -> None:
    b = binding("refused-binding", "some-policy", "x")
    b["spec"].update(change)
    got = causes(api.post(VAPB, json=b))
    assert any(f == field and message in m for f, m in got), got


# --- what policies do ---------------------------------------------------------------------------


def test_deny_reasons_and_messages(api: httpx.Client, made: Any, ns: str) -> None:
    p = policy(
        f"{ns}-deny",
        {"expression": "object.data.k != 'bad'"},
        {"expression": "object.data.k != 'worse'", "message": "worse is forbidden", "reason": "Forbidden"},
        {
            "expression": "object.data.k != 'big'",
            "messageExpression": "'k is ' + object.data.k",
            "reason": "RequestEntityTooLarge",
        },
        {"expression": "object.data.k != 'odd'", "messageExpression": "1", "message": "odd"},
    )
    b = binding(f"{ns}-deny", p["metadata"]["name"], ns)
    made(p, b)  # the very next request is held to it: the mirror saw this server's write
    pn, bn, base = p["metadata"]["name"], b["metadata"]["name"], f"/api/v1/namespaces/{ns}/configmaps"
    r = api.post(base, json=configmap("c1", k="bad"))
    assert r.status_code == 422 and r.json()["reason"] == "Invalid", r.text
    message = denial(pn, bn, "failed expression: object.data.k != 'bad'")
    assert r.json()["message"] == f'configmaps "c1" is forbidden: {message}'
    assert r.json()["details"] == {"name": "c1", "kind": "configmaps", "causes": [{"message": message}]}
    r = api.post(base, json=configmap("c2", k="worse"))
    assert (r.status_code, r.json()["reason"]) == (403, "Forbidden")
    assert r.json()["message"].endswith(denial(pn, bn, "worse is forbidden"))
    r = api.post(base, json=configmap("c3", k="big"))
    assert (r.status_code, r.json()["reason"]) == (413, "RequestEntityTooLarge")
    assert r.json()["message"].endswith(denial(pn, bn, "k is big"))
    r = api.post(base, json=configmap("c4", k="odd"))  # messageExpression not a string: message
    assert r.json()["message"].endswith(denial(pn, bn, "odd"))
    assert api.post(base, json=configmap("c5", k="fine")).status_code == 201
    r = api.patch(f"{base}/c5", json={"data": {"k": "bad"}}, headers=MERGE)  # UPDATE too
    assert r.status_code == 422, r.text
    api.delete(f"{VAPB}/{bn}")  # the binding gone, at once nothing holds the request
    assert api.post(base, json=configmap("c6", k="bad")).status_code == 201


def test_warn_and_audit(api: httpx.Client, made: Any, ns: str) -> None:
    p = policy(f"{ns}-warn", {"expression": "object.data.k != 'bad'", "message": "bad value"})
    made(p, binding(f"{ns}-warn", p["metadata"]["name"], ns, ("Warn", "Audit")))
    r = api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap("w1", k="bad"))
    assert r.status_code == 201, r.text
    expected = (
        f"Validation failed for ValidatingAdmissionPolicy '{ns}-warn' with binding '{ns}-warn': bad value"
    )
    assert expected in r.headers.get("warning", "")
    r = api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap("w2", k="good"))
    assert r.status_code == 201 and "warning" not in r.headers


def test_match_rules_and_selectors(api: httpx.Client, made: Any, ns: str) -> None:
    p = policy(f"{ns}-match", {"expression": "false", "message": "held"})
    p["spec"]["matchConstraints"] = {
        "resourceRules": [rule("configmaps", operations=("CREATE", "DELETE"))],
        "excludeResourceRules": [rule("configmaps", operations=("*",), resourceNames=["exempt"])],
        "objectSelector": {"matchExpressions": [{"key": "free", "operator": "DoesNotExist"}]},
    }
    made(p, binding(f"{ns}-match", p["metadata"]["name"], ns))
    base = f"/api/v1/namespaces/{ns}/configmaps"
    assert api.post(base, json=configmap("held")).status_code == 422
    assert api.post(base, json=configmap("exempt")).status_code == 201  # excludeResourceRules
    assert api.post(base, json=configmap("free", {"free": "yes"})).status_code == 201  # objectSelector
    r = api.patch(f"{base}/free", json={"metadata": {"labels": None}}, headers=MERGE)  # UPDATE: not in rules
    assert r.status_code == 200, r.text
    r = api.delete(f"{base}/free")  # DELETE: the old object's labels are gone, so it is held
    assert r.status_code == 422 and "held" in r.json()["message"], r.text
    assert api.post("/api/v1/namespaces/default/configmaps", json=configmap(f"{ns}-other")).status_code == 201
    api.delete(f"/api/v1/namespaces/default/configmaps/{ns}-other")
    assert api.post(f"/api/v1/namespaces/{ns}/secrets", json={"metadata": {"name": "s"}}).status_code == 201


def test_variables_request_and_namespace_object(api: httpx.Client, made: Any, ns: str) -> None:
    p = policy(
        f"{ns}-vars",
        {
            "expression": "variables.owner == request.userInfo.username",
            "messageExpression": "'owner ' + variables.owner",
        },
        {
            "expression": "namespaceObject.metadata.labels.env == 'test' && request.namespace == namespaceObject.metadata.name"
        },
        {
            "expression": "request.operation == 'CREATE' && request.kind.kind == 'ConfigMap' && oldObject == null"
        },
        {"expression": "!request.dryRun || has(object.data.dry)", "message": "dry runs say so"},
        variables=[
            {"name": "owner", "expression": "object.data.owner"},
            {"name": "broken", "expression": "object.data.nope.more"},  # never read: never evaluated
        ],
    )
    made(p, binding(f"{ns}-vars", p["metadata"]["name"], ns))
    base = f"/api/v1/namespaces/{ns}/configmaps"
    assert api.post(base, json=configmap("v1", owner="admin")).status_code == 201
    r = api.post(base, json=configmap("v2", owner="mallory"))
    assert r.status_code == 422 and r.json()["message"].endswith("denied request: owner mallory"), r.text
    r = api.post(base, json=configmap("v3", owner="admin"), params={"dryRun": "All"})
    assert r.status_code == 422 and "dry runs say so" in r.json()["message"], r.text
    r = api.post(base, json=configmap("v4", owner="admin", dry="yes"), params={"dryRun": "All"})
    assert r.status_code == 201, r.text


def test_params_by_name_selector_and_not_found(api: httpx.Client, made: Any, ns: str) -> None:
    p = policy(
        f"{ns}-params",
        {
            "expression": "int(object.data.replicas) <= int(params.data.max)",
            "messageExpression": "'replicas must be at most ' + params.data.max",
        },
        paramKind={"apiVersion": "v1", "kind": "ConfigMap"},
    )
    p["spec"]["matchConstraints"]["objectSelector"] = {"matchLabels": {"checked": "yes"}}
    pn, base = p["metadata"]["name"], f"/api/v1/namespaces/{ns}/configmaps"
    ref = {"name": "limits", "parameterNotFoundAction": "Deny"}  # in the request's namespace
    made(p, binding(f"{ns}-byname", pn, ns, paramRef=ref))
    checked = {"checked": "yes"}
    r = api.post(base, json=configmap("p1", checked, replicas="3"))
    assert r.status_code == 422, r.text
    expected = (
        "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"
    )
    assert r.json()["message"].endswith(denial(pn, f"{ns}-byname", expected))
    assert api.post(base, json=configmap("limits", max="5")).status_code == 201  # seen at once
    assert api.post(base, json=configmap("p2", checked, replicas="3")).status_code == 201
    r = api.post(base, json=configmap("p3", checked, replicas="9"))
    assert r.json()["message"].endswith(denial(pn, f"{ns}-byname", "replicas must be at most 5")), r.text
    api.delete(f"{VAPB}/{ns}-byname")
    # a selector: evaluated with every matching object; none found under Allow lets it through
    selector = {"selector": {"matchLabels": {"limit": "yes"}}, "parameterNotFoundAction": "Allow"}
    made(binding(f"{ns}-bysel", pn, ns, paramRef=selector))
    assert api.post(base, json=configmap("p4", checked, replicas="9")).status_code == 201
    for name, most in (("l1", "8"), ("l2", "6")):
        assert api.post(base, json=configmap(name, {"limit": "yes"}, max=most)).status_code == 201
    assert api.post(base, json=configmap("p5", checked, replicas="6")).status_code == 201
    r = api.post(base, json=configmap("p6", checked, replicas="7"))
    assert r.json()["message"].endswith("replicas must be at most 6"), r.text


def test_misconfigured_policies_follow_failure_policy(api: httpx.Client, made: Any, ns: str) -> None:
    unknown = policy(
        f"{ns}-unknown", {"expression": "true"}, paramKind={"apiVersion": "example.com/v1", "kind": "Nope"}
    )
    ref = {"name": "x", "parameterNotFoundAction": "Allow"}
    made(unknown, binding(f"{ns}-unknown", f"{ns}-unknown", ns, paramRef=ref))
    r = api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap("m1"))
    assert r.status_code == 422, r.text
    expected = "failed to configure policy: failed to find resource referenced by paramKind: 'example.com/v1, Kind=Nope'"
    assert r.json()["message"].endswith(
        f"ValidatingAdmissionPolicy '{ns}-unknown' denied request: {expected}"
    )
    r = api.patch(f"{VAP}/{ns}-unknown", json={"spec": {"failurePolicy": "Ignore"}}, headers=MERGE)
    assert r.status_code == 200, r.text
    assert api.post(f"/api/v1/namespaces/{ns}/configmaps", json=configmap("m2")).status_code == 201


def test_evaluation_errors_and_match_conditions(api: httpx.Client, made: Any, ns: str) -> None:
    p = policy(
        f"{ns}-errors",
        {"expression": "object.data.missing == 'x'"},
        matchConditions=[
            {
                "name": "labelled",
                "expression": "has(object.metadata.labels) && 'check' in object.metadata.labels",
            },
            {"name": "not-exempt", "expression": "object.metadata.labels.check != 'exempt'"},
        ],
    )
    made(p, binding(f"{ns}-errors", p["metadata"]["name"], ns))
    base = f"/api/v1/namespaces/{ns}/configmaps"
    assert api.post(base, json=configmap("e1")).status_code == 201  # a false condition: skipped
    assert api.post(base, json=configmap("e2", {"check": "exempt"})).status_code == 201
    r = api.post(base, json=configmap("e3", {"check": "yes"}))  # evaluated: the expression fails
    assert r.status_code == 422, r.text
    assert "denied request: expression 'object.data.missing == 'x'' resulted in error:" in r.json()["message"]
    api.patch(
        f"{VAP}/{ns}-errors", json={"spec": {"failurePolicy": "Ignore"}}, headers=MERGE
    ).raise_for_status()
    assert api.post(base, json=configmap("e4", {"check": "yes"})).status_code == 201


NON_ROOT = "object.spec.containers.all(c, c.?securityContext.?runAsNonRoot.orValue(false))"


def test_optional_types_in_validations_and_match_conditions(api: httpx.Client, made: Any, ns: str) -> None:
    """cel-go's optional types, as kube 1.29+ compiles policies: `.?`, `[?`, orValue, hasValue."""
    p = policy(
        f"{ns}-nonroot",
        {"expression": NON_ROOT, "messageExpression": "'pod ' + object.metadata.name + ' may run as root'"},
        matchConstraints={"resourceRules": [rule("pods", operations=("CREATE",))]},
        matchConditions=[
            {"name": "not-exempt", "expression": "!object.metadata.?labels[?'exempt'].hasValue()"}
        ],
    )
    made(p, binding(f"{ns}-nonroot", p["metadata"]["name"], ns))
    pods = f"/api/v1/namespaces/{ns}/pods"

    def pod(name: str, security: dict[str, Any] | None = None, **labels: str) -> dict[str, Any]:
        container: dict[str, Any] = {"name": "c", "image": "busybox"}
        if security is not None:
            container["securityContext"] = security
        meta: dict[str, Any] = {"name": name, **({"labels": labels} if labels else {})}
        return {"metadata": meta, "spec": {"containers": [container]}}

    r = api.post(pods, json=pod("root"))  # no securityContext: runAsNonRoot reads as false
    assert r.status_code == 422, r.text
    message = denial(p["metadata"]["name"], f"{ns}-nonroot", "pod root may run as root")
    assert r.json()["message"] == f'pods "root" is forbidden: {message}'
    assert api.post(pods, json=pod("root2", {"runAsNonRoot": False})).status_code == 422
    assert api.post(pods, json=pod("nonroot", {"runAsNonRoot": True})).status_code == 201
    assert api.post(pods, json=pod("exempt", exempt="yes")).status_code == 201  # the condition is false


def test_optional_syntax_refused_where_cel_go_refuses_it(api: httpx.Client) -> None:
    refused_policy(
        api,
        {"validations": [{"expression": "has(object.?metadata)"}]},
        "spec.validations[0].expression",
        "compilation failed: ERROR: <input>:1:1: invalid argument to has() macro",
    )


def test_custom_resource_held_to_a_policy(api: httpx.Client, made: Any, ns: str) -> None:
    from tests.apiserver.test_crd import CRDS, CRONTAB, GROUP, crontab, served
    from tests.polling import wait_for

    if api.get(f"{CRDS}/{CRONTAB['metadata']['name']}").status_code == 404:
        assert api.post(CRDS, json=CRONTAB).status_code == 201
    coll = f"/apis/{GROUP}/v1/namespaces/{ns}/crontabs"
    wait_for(lambda: served(api, coll), timeout=10, what="crontabs served")
    p = policy(f"{ns}-cr", {"expression": "object.spec.replicas <= 5", "message": "at most 5 replicas"})
    p["spec"]["matchConstraints"]["resourceRules"] = [
        {
            "operations": ["CREATE", "UPDATE"],
            "apiGroups": [GROUP],
            "apiVersions": ["*"],
            "resources": ["crontabs"],
        }
    ]
    made(p, binding(f"{ns}-cr", p["metadata"]["name"], ns))
    assert api.post(coll, json=crontab("small", replicas=2)).status_code == 201
    r = api.post(coll, json=crontab("large", replicas=9))
    assert r.status_code == 422, r.text
    assert (
        r.json()["message"]
        == f'crontabs.{GROUP} "large" is forbidden: {denial(f"{ns}-cr", f"{ns}-cr", "at most 5 replicas")}'
    )


def test_kubectl_applies_a_policy_and_is_refused(srv: Server, api: httpx.Client, ns: str) -> None:
    manifest = f"""
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: {ns}-kubectl}}
spec:
  matchConstraints:
    resourceRules: [{{operations: [CREATE, UPDATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}}]
  validations:
  - expression: "object.data.size != 'large'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: {ns}-kubectl}}
spec:
  policyName: {ns}-kubectl
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {ns}}}}}
"""
    try:
        out = srv.kubectl("apply", "-f", "-", input=manifest, check=True).stdout
        assert f"validatingadmissionpolicy.admissionregistration.k8s.io/{ns}-kubectl created" in out
        assert f"validatingadmissionpolicybinding.admissionregistration.k8s.io/{ns}-kubectl created" in out
        cm = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big, namespace: {ns}}}\ndata: {{size: large}}\n"
        r = srv.kubectl("apply", "-f", "-", input=cm)
        assert r.returncode != 0
        assert (
            'The configmaps "big" is invalid: : '
            + denial(f"{ns}-kubectl", f"{ns}-kubectl", "failed expression: object.data.size != 'large'")
        ) in r.stderr, r.stderr
        assert api.get(f"/api/v1/namespaces/{ns}/configmaps/big").status_code == 404
    finally:
        srv.kubectl("delete", "-f", "-", input=manifest)


def test_param_kind_needs_get_permission(api: httpx.Client, ns: str) -> None:
    """kube's authorizeCreate: a user who cannot read every object of the paramKind cannot point a
    policy at it (system:masters is exempt)."""
    rbac, user = "/apis/rbac.authorization.k8s.io/v1", f"{ns}-writer"
    writer = {
        "apiGroups": ["admissionregistration.k8s.io"],
        "resources": ["*"],
        "verbs": ["create", "delete"],
    }
    role = {"metadata": {"name": user}, "rules": [writer]}
    grant = {
        "metadata": {"name": user},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": user},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }
    assert api.post(f"{rbac}/clusterroles", json=role).status_code == 201
    assert api.post(f"{rbac}/clusterrolebindings", json=grant).status_code == 201
    try:
        as_writer = {"Impersonate-User": user}
        p = policy(f"{ns}-authz", {"expression": "true"}, paramKind={"apiVersion": "v1", "kind": "ConfigMap"})
        got = causes(api.post(VAP, json=p, headers=as_writer))
        why = 'must have "get" permission on all objects of the referenced paramKind (kind=ConfigMap, apiVersion=v1)'
        assert any(
            f == "spec.paramKind" and m.startswith(f"Forbidden: user &{{{user} ") and why in m for f, m in got
        ), got
        role["rules"] = [writer, {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
        assert api.put(f"{rbac}/clusterroles/{user}", json=role).status_code == 200
        assert api.post(VAP, json=p, headers=as_writer).status_code == 201
        assert api.delete(f"{VAP}/{ns}-authz").status_code == 200
    finally:
        api.delete(f"{rbac}/clusterrolebindings/{user}")
        api.delete(f"{rbac}/clusterroles/{user}")
