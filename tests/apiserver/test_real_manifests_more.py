"""More real install manifests, applied with the real kubectl 1.33 and stored as sent (a third sweep).

Trimmed from the projects' install files under `manifests/`: Gateway API's standard CRDs
(GatewayClass with status defaults and a transition rule; Gateway's addresses held by
oneOf/anyOf/not alternatives and its infrastructure labels by CEL rules calling `split`, one of
Kubernetes' own CEL functions) with a GatewayClass and a Gateway; the snapshot controller's
VolumeSnapshot CRD (a `oneOf` source, a deprecated v1beta1 with its own warning) with a
snapshot; Tekton's webhook configurations (no rules: its webhook fills them in) and their
namespace and Secret. Each is applied server-side twice and read back as in
`test_real_manifests`, whose helpers these use; then what kube refuses is refused in its words.
"""

from __future__ import annotations

import json

import httpx

from tests.apiserver.conftest import KUBECTL, KUBECTL_127, Server
from tests.apiserver.test_real_manifests import apply_twice, assert_stored_as_sent, documents
from tests.polling import wait_for


def served(api: httpx.Client, path: str) -> None:
    wait_for(lambda: api.get(path).status_code == 200, timeout=10, what=f"{path} served")


def test_gateway_api_crds_and_resources(srv: Server, api: httpx.Client) -> None:
    apply_twice(srv, "gateway-api-crds.yaml")
    served(api, "/apis/gateway.networking.k8s.io/v1/namespaces/default/gateways")
    served(api, "/apis/gateway.networking.k8s.io/v1beta1/gatewayclasses")
    assert_stored_as_sent(srv, "gateway-api-crds.yaml")
    apply_twice(srv, "gateway-api-resources.yaml")
    assert_stored_as_sent(srv, "gateway-api-resources.yaml")
    gc = json.loads(srv.kubectl("get", "gc", "example", "-o", "json", check=True).stdout)
    assert gc["status"]["conditions"][0]["reason"] == "Pending"  # the schema's status default
    # the controller name is immutable (a transition rule)
    changed = documents("gateway-api-resources.yaml")[0]
    changed["spec"]["controllerName"] = "example.com/other"
    r = srv.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(changed))
    assert 'spec.controllerName: Invalid value: "string": Value is immutable' in r.stderr
    # the Gateway's rules: unique addresses, a label key's prefix (split) at most 253 characters
    bad = documents("gateway-api-resources.yaml")[1]
    bad["metadata"]["name"] = "bad"
    bad["spec"]["addresses"] = [{"value": "192.0.2.10"}, {"type": "IPAddress", "value": "192.0.2.10"}]
    bad["spec"]["infrastructure"]["labels"] = {"a" * 254 + "/x": "y"}
    r = srv.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(bad))
    assert r.returncode != 0
    assert 'spec.addresses: Invalid value: "array": IPAddress values must be unique' in r.stderr
    assert (
        'spec.infrastructure.labels: Invalid value: "object": If specified, the label key\'s prefix'
        in r.stderr
    )
    # an address that is neither an IPAddress nor anything else (oneOf: not both)
    bad["spec"]["infrastructure"]["labels"] = {}
    bad["spec"]["addresses"] = [{"type": "Hostname", "value": "Not_A_Host"}]
    r = srv.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(bad))
    assert "Hostname value must be empty or contain only valid characters" in r.stderr
    # an IPAddress that is no IP: the value's `format` (ipv4 or ipv6), in kube's words
    bad["spec"]["addresses"] = [{"type": "IPAddress", "value": "not-an-ip"}]
    r = srv.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(bad))
    assert r.returncode != 0
    assert (
        'spec.addresses[0].value: Invalid value: "not-an-ip": spec.addresses[0].value in body must be of '
        'type ipv4: "not-an-ip"' in r.stderr
    ), r.stderr
    assert '"spec.addresses[0].value" must validate at least one schema (anyOf)' in r.stderr
    bad["spec"]["addresses"] = [{"type": "IPAddress", "value": "2001:db8::1"}]
    r = srv.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(bad))
    assert r.returncode == 0, r.stderr


def test_custom_resources_updated_by_client_side_apply(srv: Server, api: httpx.Client) -> None:
    """kubectl's client-side apply picks its patch type from the OpenAPI paths: a custom
    resource's must not offer strategic merge (kube refuses it for them, 415)."""
    apply_twice(srv, "gateway-api-crds.yaml")
    served(api, "/apis/gateway.networking.k8s.io/v1/gatewayclasses")
    gc = documents("gateway-api-resources.yaml")[0]
    gc["metadata"]["name"] = "client-side"
    for binary, description in ((KUBECTL_127, "first"), (KUBECTL, "second")):
        for text in (description, description + " again"):
            gc["spec"]["description"] = text
            r = srv.kubectl("apply", "-f", "-", input=json.dumps(gc), binary=binary)
            assert r.returncode == 0, r.stderr
    got = json.loads(srv.kubectl("get", "gc", "client-side", "-o", "json", check=True).stdout)
    assert got["spec"]["description"] == "second again"


def test_volume_snapshots(srv: Server, api: httpx.Client) -> None:
    apply_twice(srv, "volumesnapshots-crd.yaml")
    served(api, "/apis/snapshot.storage.k8s.io/v1/namespaces/default/volumesnapshots")
    assert_stored_as_sent(srv, "volumesnapshots-crd.yaml")
    apply_twice(srv, "volumesnapshots.yaml")
    assert_stored_as_sent(srv, "volumesnapshots.yaml")
    both = documents("volumesnapshots.yaml")[0]
    both["metadata"]["name"] = "both"
    both["spec"]["source"]["volumeSnapshotContentName"] = "content"
    r = srv.kubectl("apply", "-f", "-", input=json.dumps(both))
    assert r.returncode != 0
    assert (
        'The VolumeSnapshot "both" is invalid: <nil>: Invalid value: "": "spec.source" must validate'
        " one and only one schema (oneOf). Found 2 valid alternatives"
    ) in r.stderr
    # the deprecated version is served, with the CRD's own warning
    r = srv.kubectl("get", "volumesnapshots.v1beta1.snapshot.storage.k8s.io", "-A", check=True)
    assert (
        "Warning: snapshot.storage.k8s.io/v1beta1 VolumeSnapshot is deprecated;"
        " use snapshot.storage.k8s.io/v1 VolumeSnapshot"
    ) in r.stderr
    assert "new-snapshot-demo" in r.stdout


def test_tekton_webhook_configurations_without_rules(srv: Server, api: httpx.Client) -> None:
    adm = "/apis/admissionregistration.k8s.io/v1"
    try:
        apply_twice(srv, "tekton-webhooks.yaml")
        assert_stored_as_sent(srv, "tekton-webhooks.yaml")
        # they match nothing until Tekton's webhook writes their rules: writes go through
        r = srv.kubectl("create", "configmap", "c", "-n", "tekton-pipelines", "--from-literal=a=b")
        assert r.returncode == 0, r.stderr
    finally:
        for name in ("validation.webhook.pipeline.tekton.dev", "config.webhook.pipeline.tekton.dev"):
            api.delete(f"{adm}/validatingwebhookconfigurations/{name}")
        api.delete(f"{adm}/mutatingwebhookconfigurations/webhook.pipeline.tekton.dev")
