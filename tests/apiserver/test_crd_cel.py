"""CRD rules through a live server and the real kubectl 1.33: messageExpression, reason and
fieldPath, Kubernetes' quantity/cidr libraries, cel-go's optional types, a string `format`, and a
CRD whose rule names a field its schema lacks refused at create in kube's words."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx

from tests.apiserver.conftest import Server
from tests.apiserver.test_crd import CRDS, CRONTAB, GROUP, served
from tests.polling import wait_for


def _crd() -> dict[str, Any]:
    crd = copy.deepcopy(CRONTAB)
    crd["metadata"]["name"] = f"pools.{GROUP}"
    crd["spec"]["names"] = {"plural": "pools", "kind": "Pool"}
    crd["spec"]["versions"] = [crd["spec"]["versions"][0]]
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec["properties"].update(
        {
            "memory": {"type": "string"},
            "range": {"type": "string"},
            "gateway": {"type": "string", "format": "ipv4"},
        }
    )
    spec["x-kubernetes-validations"] = [
        {
            "rule": "!has(self.memory) || quantity(self.memory).isLessThan(quantity('4Gi'))",
            "messageExpression": "'memory ' + self.memory + ' is not below 4Gi'",
            "reason": "FieldValueForbidden",
            "fieldPath": ".memory",
        },
        {
            "rule": "!has(self.gateway) || cidr(self.range).containsIP(self.gateway)",
            "message": "the gateway must be in the range",
            "messageExpression": "self.range.size() > 100 ? 'unused' : ''",  # blank: the message
        },
    ]
    return crd


def test_rules_with_message_expressions_and_kube_libraries(
    http: httpx.Client, server: Server, ns: str
) -> None:
    crd = _crd()
    bad = copy.deepcopy(crd)
    bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
        "x-kubernetes-validations"
    ] = [{"rule": "self.memroy == 'x'"}]
    r = server.kubectl("create", "-f", "-", input=json.dumps(bad))
    assert r.returncode != 0
    assert (
        "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: "
        "apiextensions.ValidationRule{Rule:\"self.memroy == 'x'\"" in r.stderr
    ), r.stderr
    assert "compilation failed: ERROR: <input>:1:5: undefined field 'memroy'" in r.stderr
    assert http.get(f"{CRDS}/pools.{GROUP}").status_code == 404

    server.kubectl("create", "-f", "-", input=json.dumps(crd), check=True)
    pools = f"/apis/{GROUP}/v1/namespaces/{ns}/pools"
    wait_for(lambda: served(http, pools), timeout=10, what="pools served")

    def pool(**spec: Any) -> str:
        body = {"apiVersion": f"{GROUP}/v1", "kind": "Pool", "metadata": {"name": "p", "namespace": ns}}
        body["spec"] = {"cronSpec": "* * * * */5", "image": "i", "range": "10.0.0.0/8", **spec}
        return json.dumps(body)

    r = server.kubectl("apply", "--server-side", "-f", "-", input=pool(memory="8Gi", gateway="192.168.0.1"))
    assert r.returncode != 0
    assert "spec.memory: Forbidden: memory 8Gi is not below 4Gi" in r.stderr, r.stderr
    assert 'spec: Invalid value: "object": the gateway must be in the range' in r.stderr
    r = server.kubectl("apply", "--server-side", "-f", "-", input=pool(memory="1Gi", gateway="10.1.2.300"))
    assert (
        'spec.gateway: Invalid value: "10.1.2.300": spec.gateway in body must be of type ipv4: "10.1.2.300"'
        in (r.stderr)
    ), r.stderr
    r = server.kubectl("apply", "--server-side", "-f", "-", input=pool(memory="1Gi", gateway="10.1.2.3"))
    assert r.returncode == 0, r.stderr
    http.delete(f"{CRDS}/pools.{GROUP}")


def test_rules_with_optional_types(http: httpx.Client, server: Server, ns: str) -> None:
    """cel-go's optional types in CRD rules (kube 1.29+): `.?` chains read fields that may be absent."""
    crd = copy.deepcopy(CRONTAB)
    crd["metadata"]["name"] = f"gauges.{GROUP}"
    crd["spec"]["names"] = {"plural": "gauges", "kind": "Gauge"}
    crd["spec"]["versions"] = [crd["spec"]["versions"][0]]
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    schema["properties"]["spec"]["required"] = []
    del schema["properties"]["spec"]["properties"]["replicas"]["default"]
    schema["x-kubernetes-validations"] = [{"rule": "self.?spec.?replicaz.orValue(1) <= 5"}]
    r = server.kubectl("create", "-f", "-", input=json.dumps(crd))
    assert r.returncode != 0
    assert "compilation failed: ERROR: <input>:1:11: undefined field 'replicaz'" in r.stderr, r.stderr

    schema["x-kubernetes-validations"] = [
        {"rule": "self.?spec.?replicas.orValue(1) <= 5", "message": "at most 5 replicas"},
        {
            "rule": "self.?spec.?extra[?'tier'].orValue('gold') in ['gold', 'silver']",
            "message": "no such tier",
        },
    ]
    server.kubectl("create", "-f", "-", input=json.dumps(crd), check=True)
    gauges = f"/apis/{GROUP}/v1/namespaces/{ns}/gauges"
    wait_for(lambda: served(http, gauges), timeout=10, what="gauges served")

    def gauge(name: str, spec: dict[str, Any] | None) -> dict[str, Any]:
        body = {"apiVersion": f"{GROUP}/v1", "kind": "Gauge", "metadata": {"name": name}}
        return body if spec is None else {**body, "spec": spec}

    assert http.post(gauges, json=gauge("bare", None)).status_code == 201  # no spec: 1 <= 5
    assert http.post(gauges, json=gauge("empty", {})).status_code == 201
    assert (
        http.post(gauges, json=gauge("five", {"replicas": 5, "extra": {"tier": "silver"}})).status_code == 201
    )
    refused = http.post(gauges, json=gauge("six", {"replicas": 6, "extra": {"tier": "bronze"}}))
    assert refused.status_code == 422, refused.text
    assert [(c.get("field"), c["message"]) for c in refused.json()["details"]["causes"]] == [
        (None, 'Invalid value: "object": at most 5 replicas'),  # a rule at the root: no field
        (None, 'Invalid value: "object": no such tier'),
    ]
    http.delete(f"{CRDS}/gauges.{GROUP}")
