"""Real install manifests of a fifth sweep, applied with the real kubectl and stored as sent.

Whole objects as the projects ship them, trimmed to a few per project under `manifests/`:
- cert-manager v1.8.0's release `cert-manager.yaml` (as vendored by knative/serving): its
  namespace, the CertificateRequest CRD (`format: byte`, an enum of key usages, a status list
  keyed by `type`), the webhook's and cainjector's Deployments, Service, Roles and bindings; and,
  in a file of their own, its mutating and validating webhook configurations with the
  `cert-manager.io/inject-ca-from-secret` annotation, `matchPolicy: Equivalent`, `*/*` resources
  and a namespaceSelector.
- Argo CD's AppProject CRD (`required: [metadata, spec]`), its aggregated `argocd-edit` role, the
  application controller's ClusterRole (`*` everything, nonResourceURLs), StatefulSet and
  NetworkPolicy (an empty `namespaceSelector: { }`).
- external-secrets' Webhook generator CRD from `deploy/crds/bundle.yaml`, with its
  `conversion: {strategy: Webhook}` naming the `kubernetes` service.
- Istio's WasmPlugin CRD from the base chart's `crd-all.gen.yaml` (CEL rules on maps, on an
  int-or-string status, and calling Kubernetes' URL library: `isURL`, `url(...).getScheme()`)
  and the base chart's `istiod-default-validator` (templates/default.yaml rendered by hand for
  the default revision).
- Crossplane's Usage CRD (CEL rules with `has()` on optional objects).

Each is applied server-side twice and read back as in `test_real_manifests`, whose helpers these
use; then a sample custom resource of each is made, and what the schema or a CEL rule forbids is
refused in kube's words.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from tests.apiserver.conftest import KUBECTL_127, Server
from tests.apiserver.test_real_manifests import MANIFESTS, apply_twice, assert_stored_as_sent
from tests.apiserver.test_real_manifests_more import served


def _apply(srv: Server, doc: dict[str, Any]) -> tuple[int, str]:
    r = srv.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(doc))
    return r.returncode, r.stderr


def test_cert_manager(srv: Server, api: httpx.Client) -> None:
    apply_twice(srv, "sweep5-cert-manager.yaml")
    served(api, "/apis/cert-manager.io/v1/namespaces/default/certificaterequests")
    assert_stored_as_sent(srv, "sweep5-cert-manager.yaml")
    request: dict[str, Any] = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "CertificateRequest",
        "metadata": {"name": "sample", "namespace": "default"},
        "spec": {
            "issuerRef": {"name": "ca-issuer", "kind": "Issuer"},
            "request": base64.b64encode(b"-----BEGIN CERTIFICATE REQUEST-----\n").decode(),
            "usages": ["digital signature", "key encipherment"],
            "extra": {"groups": ["a", "b"]},
        },
    }
    rc, err = _apply(srv, request)
    assert rc == 0, err
    got = json.loads(srv.kubectl("get", "cr", "sample", "-o", "json", check=True).stdout)
    assert got["spec"]["usages"] == ["digital signature", "key encipherment"]
    bad = json.loads(json.dumps(request))
    bad["metadata"]["name"] = "bad"
    bad["spec"]["usages"] = ["world domination"]
    bad["spec"]["request"] = "not base64!"
    rc, err = _apply(srv, bad)
    assert rc != 0
    assert 'spec.usages[0]: Unsupported value: "world domination"' in err, err
    assert "spec.request: Invalid value" in err and "must be of type byte" in err, err
    adm = "/apis/admissionregistration.k8s.io/v1"
    try:
        apply_twice(srv, "sweep5-cert-manager-webhooks.yaml")
        assert_stored_as_sent(srv, "sweep5-cert-manager-webhooks.yaml")
        # no pod serves the webhook, whose failurePolicy is Fail: kube refuses the write
        request["metadata"]["name"] = "after-webhooks"
        rc, err = _apply(srv, request)
        assert rc != 0
        assert 'failed calling webhook "webhook.cert-manager.io"' in err, err
    finally:
        api.delete(f"{adm}/validatingwebhookconfigurations/cert-manager-webhook")
        api.delete(f"{adm}/mutatingwebhookconfigurations/cert-manager-webhook")


def test_argocd(srv: Server, api: httpx.Client) -> None:
    apply_twice(srv, "sweep5-argocd.yaml")
    served(api, "/apis/argoproj.io/v1alpha1/namespaces/default/appprojects")
    assert_stored_as_sent(srv, "sweep5-argocd.yaml")
    project: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "sample", "namespace": "default"},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"namespace": "*", "server": "https://kubernetes.default.svc"}],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
            "roles": [
                {
                    "name": "ci",
                    "policies": ["p, proj:sample:ci, applications, sync, sample/*, allow"],
                    "jwtTokens": [{"iat": 1700000000}],
                }
            ],
        },
    }
    rc, err = _apply(srv, project)
    assert rc == 0, err
    got = json.loads(srv.kubectl("get", "appproj", "sample", "-o", "json", check=True).stdout)
    assert got["spec"]["roles"][0]["jwtTokens"] == [{"iat": 1700000000}]
    bad = json.loads(json.dumps(project))
    bad["metadata"]["name"] = "bad"
    bad["spec"]["roles"] = [{"jwtTokens": [{"iat": "yesterday"}]}]
    rc, err = _apply(srv, bad)
    assert rc != 0
    assert "spec.roles[0].name: Required value" in err, err
    assert (
        'spec.roles[0].jwtTokens[0].iat: Invalid value: "string": spec.roles[0].jwtTokens[0].iat in body must be of type integer: "string"'
        in err
    ), err
    no_spec: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "nospec", "namespace": "default"},
    }
    rc, err = _apply(srv, no_spec)
    assert rc != 0 and "spec: Required value" in err, err


def test_external_secrets_generator_with_conversion_webhook(srv: Server, api: httpx.Client) -> None:
    """The CRD names a conversion webhook no pod serves; with one version, nothing is converted."""
    apply_twice(srv, "sweep5-external-secrets.yaml")
    served(api, "/apis/generators.external-secrets.io/v1alpha1/namespaces/default/webhooks")
    assert_stored_as_sent(srv, "sweep5-external-secrets.yaml")
    generator: dict[str, Any] = {
        "apiVersion": "generators.external-secrets.io/v1alpha1",
        "kind": "Webhook",
        "metadata": {"name": "sample", "namespace": "default"},
        "spec": {
            "url": "https://example.com/generate",
            "method": "POST",
            "result": {"jsonPath": "$.token"},
            "secrets": [{"name": "auth", "secretRef": {"name": "creds", "key": "token"}}],
        },
    }
    rc, err = _apply(srv, generator)
    assert rc == 0, err
    assert (
        json.loads(srv.kubectl("get", "webhookl", "sample", "-o", "json", check=True).stdout)["spec"]
        == generator["spec"]
    )
    bad = json.loads(json.dumps(generator))
    bad["metadata"]["name"] = "bad"
    del bad["spec"]["url"]
    bad["spec"]["caProvider"] = {"name": "ca", "type": "Vault"}
    rc, err = _apply(srv, bad)
    assert rc != 0
    assert "spec.url: Required value" in err, err
    assert (
        'spec.caProvider.type: Unsupported value: "Vault": supported values: "Secret", "ConfigMap"' in err
    ), err


def test_istio(srv: Server, api: httpx.Client) -> None:
    adm = "/apis/admissionregistration.k8s.io/v1"
    try:
        apply_twice(srv, "sweep5-istio.yaml")
        served(api, "/apis/extensions.istio.io/v1alpha1/namespaces/default/wasmplugins")
        assert_stored_as_sent(srv, "sweep5-istio.yaml")
        plugin: dict[str, Any] = {
            "apiVersion": "extensions.istio.io/v1alpha1",
            "kind": "WasmPlugin",
            "metadata": {"name": "sample", "namespace": "default"},
            "spec": {
                "selector": {"matchLabels": {"istio": "ingressgateway"}},
                "url": "oci://ghcr.io/istio-ecosystem/wasm-extensions/basic_auth:1.12.0",
                "phase": "AUTHN",
                "pluginConfig": {
                    "basic_auth_rules": [{"prefix": "/productpage", "request_methods": ["GET", "POST"]}]
                },
                "vmConfig": {"env": [{"name": "POD_NAME", "valueFrom": "HOST"}]},
            },
        }
        rc, err = _apply(srv, plugin)
        assert rc == 0, err
        # a URL without a scheme passes the rule's second branch
        plugin["spec"]["url"] = "ghcr.io/istio-ecosystem/wasm-extensions/basic_auth:1.12.0"
        rc, err = _apply(srv, plugin)
        assert rc == 0, err
        bad = json.loads(json.dumps(plugin))
        bad["metadata"]["name"] = "bad"
        bad["spec"]["url"] = "ftp://example.com/plugin.wasm"
        bad["spec"]["selector"]["matchLabels"] = {"app*": "x"}
        bad["spec"]["targetRef"] = {"kind": "Gateway", "name": "gw"}
        bad["spec"]["vmConfig"]["env"][0]["value"] = "v"
        rc, err = _apply(srv, bad)
        assert rc != 0
        assert (
            'spec.url: Invalid value: "string": url must have schema one of [http, https, file, oci]' in err
        ), err
        assert (
            'spec.selector.matchLabels: Invalid value: "object": wildcard not allowed in label key match'
            in err
        ), err
        assert 'spec: Invalid value: "object": only one of targetRefs or selector can be set' in err, err
        assert (
            'spec.vmConfig.env[0]: Invalid value: "object": value may only be set when valueFrom is INLINE'
            in err
        ), err
        # the VM's env is a map list keyed by name, a port list within an atomic list too
        twice = json.loads(json.dumps(plugin))
        twice["metadata"]["name"] = "twice"
        twice["spec"]["vmConfig"]["env"].append({"name": "POD_NAME"})
        twice["spec"]["match"] = [{"ports": [{"number": 80}, {"number": 443}, {"number": 80}]}]
        r = srv.kubectl("create", "-f", "-", input=json.dumps(twice))
        assert r.returncode != 0
        assert (
            'spec.vmConfig.env[1]: Duplicate value: map[string]interface {}{"name":"POD_NAME"}' in r.stderr
        ), r.stderr
        assert 'spec.match[0].ports[2]: Duplicate value: map[string]interface {}{"number":80}' in r.stderr
    finally:
        api.delete(f"{adm}/validatingwebhookconfigurations/istiod-default-validator")


def test_crossplane_usage(srv: Server, api: httpx.Client) -> None:
    apply_twice(srv, "sweep5-crossplane.yaml")
    served(api, "/apis/apiextensions.crossplane.io/v1alpha1/usages")
    assert_stored_as_sent(srv, "sweep5-crossplane.yaml")
    usage: dict[str, Any] = {
        "apiVersion": "apiextensions.crossplane.io/v1alpha1",
        "kind": "Usage",
        "metadata": {"name": "sample"},
        "spec": {
            "of": {"apiVersion": "example.org/v1", "kind": "Database", "resourceRef": {"name": "db"}},
            "by": {
                "apiVersion": "example.org/v1",
                "kind": "App",
                "resourceSelector": {"matchLabels": {"a": "b"}},
            },
        },
    }
    rc, err = _apply(srv, usage)
    assert rc == 0, err
    # its DETAILS column reads an annotation through an escaped dot: crossplane\.io/usage-details
    usage["metadata"]["annotations"] = {"crossplane.io/usage-details": "App uses DB"}
    rc, err = _apply(srv, usage)
    assert rc == 0, err
    table = srv.kubectl("get", "usages", check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "DETAILS", "READY", "AGE"]
    assert table[1].split()[:4] == ["sample", "App", "uses", "DB"]
    bad: dict[str, Any] = {
        "apiVersion": usage["apiVersion"],
        "kind": "Usage",
        "metadata": {"name": "bad"},
        "spec": {"of": {"apiVersion": "example.org/v1", "kind": "Database"}},
    }
    rc, err = _apply(srv, bad)
    assert rc != 0
    assert 'spec: Invalid value: "object": either "spec.by" or "spec.reason" must be specified.' in err, err
    assert (
        'spec.of: Invalid value: "object": either a resource reference or a resource selector should be set.'
        in err
    ), err


def test_kubectl_127_applies_them_client_side(srv: Server, api: httpx.Client) -> None:
    for name in (
        "sweep5-argocd.yaml",
        "sweep5-istio.yaml",
        "sweep5-crossplane.yaml",
        "sweep5-cert-manager.yaml",
    ):
        for _ in range(2):
            r = srv.kubectl("apply", "-f", str(MANIFESTS / name), binary=KUBECTL_127)
            assert r.returncode == 0, r.stderr
    api.delete(
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/istiod-default-validator"
    )
