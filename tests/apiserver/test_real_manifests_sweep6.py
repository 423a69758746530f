"""A sixth sweep of real manifests: the projects' big CRDs, whole and unchanged, stored gzip-compressed.

- cert-manager's Certificate CRD (`deploy/crds/cert-manager.io_certificates.yaml`, controller-gen
  v0.19.0, 41 KB): five printer columns (two with `priority: 1`, two reading the Ready condition
  through a filter `[?(@.type == "Ready")]`), enums, int32 fields, a status condition list keyed
  by `type`, `x-kubernetes-list-type: atomic` everywhere.
- Istio's AuthorizationPolicy, PeerAuthentication (v1 and v1beta1 each) and ServiceEntry (v1,
  v1alpha3, v1beta1) CRDs from the base chart's `crd-all.gen.yaml`: CEL rules on objects with `has()` sums, on maps (`self.all(key, ...)`,
  `int(key)`), a ternary choosing a map literal; `oneOf` with `not: anyOf`; int-or-string status.
- external-secrets' ExternalSecret CRD (`config/crds/bases`, controller-gen v0.17.3, with the
  conversion stanza `deploy/crds/bundle.yaml` adds: a `Webhook` naming the `kubernetes` service):
  v1alpha1 deprecated (its two printer columns are both named `Store`), v1beta1 stored, defaults
  nested in defaulted objects, `maxProperties: 1`.
- cluster-api's Cluster CRD (`config/crd/bases/cluster.x-k8s.io_clusters.yaml`, controller-gen
  v0.11.4, 88 KB): v1alpha3 and v1alpha4 deprecated, v1beta1 stored, int-or-string fields,
  `x-kubernetes-preserve-unknown-fields` values of any JSON type, a pattern with escaped brackets.

Each is applied server-side twice and read back as in `test_real_manifests`, and client-side twice
with kubectl 1.33 (their last-applied annotations are under kube's 256 KiB); samples of each kind are
made and `kubectl get` shows their printer columns; bad ones are refused in kube's words. The
Certificate CRD is waited on to be Established, a Certificate's status is set through the status
subresource (`-o wide` shows the columns of priority 1) and `kubectl explain` reads its schema.
Last, the client-side apply of a CRD whose last-applied annotation would pass 256 KiB is refused as
kube refuses it (that CRD is the Certificate CRD with a long description, under another group: the
projects' CRDs over the limit are not in the fixtures).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import yaml

from tests.apiserver.conftest import Server
from tests.apiserver.test_real_manifests import apply_twice, assert_stored_as_sent, documents, manifest_text
from tests.apiserver.test_real_manifests_more import served

CERT_MANAGER = "sweep6-cert-manager.yaml.gz"


def _apply(srv: Server, doc: dict[str, Any]) -> tuple[int, str]:
    r = srv.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(doc))
    return r.returncode, r.stderr


def _certificate(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "secretName": f"{name}-tls",
            "duration": "2160h",
            "renewBefore": "360h",
            "subject": {"organizations": ["example"]},
            "commonName": "example.com",
            "isCA": False,
            "privateKey": {"algorithm": "RSA", "encoding": "PKCS1", "size": 2048, "rotationPolicy": "Always"},
            "usages": ["server auth", "client auth"],
            "dnsNames": ["example.com", "www.example.com"],
            "issuerRef": {"name": "ca-issuer", "kind": "Issuer", "group": "cert-manager.io"},
            "keystores": {"pkcs12": {"create": True, "profile": "Modern2023", "password": "changeit"}},
            "secretTemplate": {"labels": {"app": "web"}},
        },
    }


def test_cert_manager_certificate_crd(srv: Server, api: httpx.Client) -> None:
    apply_twice(srv, CERT_MANAGER)
    served(api, "/apis/cert-manager.io/v1/namespaces/default/certificates")
    assert_stored_as_sent(srv, CERT_MANAGER)
    srv.kubectl(
        "wait", "--for=condition=Established", "crd/certificates.cert-manager.io", "--timeout=10s", check=True
    )
    for _ in range(2):  # client-side, as the README's `kubectl apply -f` does
        r = srv.kubectl("apply", "-f", "-", input=manifest_text(CERT_MANAGER))
        assert r.returncode == 0, r.stderr

    cert = _certificate("web")
    rc, err = _apply(srv, cert)
    assert rc == 0, err
    got = json.loads(srv.kubectl("get", "cert", "web", "-o", "json", check=True).stdout)
    assert got["spec"] == cert["spec"]
    status = {
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Ready",
                    "message": "Certificate is up to date and has not expired",
                    "lastTransitionTime": "2026-01-01T00:00:00Z",
                    "observedGeneration": 1,
                }
            ],
            "notAfter": "2026-04-01T00:00:00Z",
            "revision": 1,
        }
    }
    srv.kubectl(
        "patch",
        "certificate",
        "web",
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(status),
        check=True,
    )
    table = srv.kubectl("get", "certificates", "web", check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "SECRET", "AGE"], table
    assert table[1].split()[:3] == ["web", "True", "web-tls"], table
    wide = srv.kubectl("get", "certs", "web", "-o", "wide", check=True).stdout.splitlines()
    assert wide[0].split() == ["NAME", "READY", "SECRET", "ISSUER", "STATUS", "AGE"], wide
    assert wide[1].split()[:4] == ["web", "True", "web-tls", "ca-issuer"], wide
    assert "Certificate is up to date and has not expired" in wide[1], wide

    explain = srv.kubectl(
        "explain", "certificates.spec", "--api-version=cert-manager.io/v1", check=True
    ).stdout
    assert "KIND:       Certificate" in explain, explain
    assert "Specification of the desired state of the Certificate resource." in explain, explain
    assert "issuerRef\t<Object> -required-" in explain, explain
    assert "renewBeforePercentage\t<integer>" in explain, explain

    bad = _certificate("bad")
    del bad["spec"]["secretName"]
    bad["spec"]["privateKey"]["algorithm"] = "DSA"
    bad["spec"]["usages"] = ["server auth", "world domination"]
    bad["spec"]["renewBeforePercentage"] = "ten"
    bad["spec"]["keystores"]["jks"] = {"alias": "x"}
    rc, err = _apply(srv, bad)
    assert rc != 0
    assert "spec.secretName: Required value" in err, err
    assert (
        'spec.privateKey.algorithm: Unsupported value: "DSA": supported values: "RSA", "ECDSA", "Ed25519"'
        in err
    ), err
    assert 'spec.usages[1]: Unsupported value: "world domination"' in err, err
    assert 'spec.renewBeforePercentage: Invalid value: "string"' in err and "must be of type integer" in err
    assert "spec.keystores.jks.create: Required value" in err, err


def test_client_side_apply_over_the_annotation_limit(srv: Server, api: httpx.Client) -> None:
    """kubectl's last-applied annotation past 256 KiB: kube refuses the client-side apply and takes
    the same CRD by `kubectl create` or `--server-side` (kube 1.33's words; older ones said `must
    have at most 262144 bytes`)."""
    crd = copy.deepcopy(documents(CERT_MANAGER)[0])
    crd["metadata"]["name"] = "certificates.sweep6.example.com"
    crd["spec"]["group"] = "sweep6.example.com"
    del crd["spec"]["names"]["shortNames"], crd["spec"]["names"]["categories"]
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    schema["description"] += "\n" + "A long description, as the big CRDs' are. " * 6400
    text = yaml.safe_dump(crd)
    assert len(text) > 262144
    r = srv.kubectl("apply", "-f", "-", input=text)
    assert r.returncode != 0
    assert (
        'The CustomResourceDefinition "certificates.sweep6.example.com" is invalid: '
        "metadata.annotations: Too long: may not be more than 262144 bytes" in r.stderr
    ), r.stderr
    crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/certificates.sweep6.example.com"
    assert api.get(crd_path).status_code == 404
    try:
        r = srv.kubectl("create", "-f", "-", input=text)
        assert r.returncode == 0, r.stderr
        r = srv.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=text)
        assert r.returncode == 0, r.stderr
    finally:
        api.delete(crd_path)


ISTIO = "sweep6-istio.yaml.gz"


def test_istio_security_crds(srv: Server, api: httpx.Client) -> None:
    apply_twice(srv, ISTIO)
    served(api, "/apis/security.istio.io/v1/namespaces/default/authorizationpolicies")
    served(api, "/apis/security.istio.io/v1beta1/namespaces/default/peerauthentications")
    assert_stored_as_sent(srv, ISTIO)
    for _ in range(2):
        r = srv.kubectl("apply", "-f", "-", input=manifest_text(ISTIO))
        assert r.returncode == 0, r.stderr
    policy: dict[str, Any] = {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "httpbin", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "httpbin", "version": "v1"}},
            "action": "ALLOW",
            "rules": [
                {
                    "from": [{"source": {"principals": ["cluster.local/ns/default/sa/sleep"]}}],
                    "to": [{"operation": {"methods": ["GET"], "paths": ["/info*"]}}],
                    "when": [{"key": "request.auth.claims[iss]", "values": ["https://accounts.google.com"]}],
                }
            ],
        },
    }
    rc, err = _apply(srv, policy)
    assert rc == 0, err
    custom = {
        "apiVersion": "security.istio.io/v1beta1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "ext-authz", "namespace": "default"},
        "spec": {
            "targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "waypoint"}],
            "action": "CUSTOM",
            "provider": {"name": "sample-ext-authz-grpc"},
            "rules": [{"to": [{"operation": {"paths": ["/headers"]}}]}],
        },
    }
    rc, err = _apply(srv, custom)
    assert rc == 0, err
    table = srv.kubectl("get", "authorizationpolicies", check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "ACTION", "AGE"], table
    assert [line.split()[:2] for line in table[1:]] == [["ext-authz", "CUSTOM"], ["httpbin", "ALLOW"]], table

    bad = json.loads(json.dumps(policy))
    bad["metadata"]["name"] = "bad"
    bad["spec"]["action"] = "PERMIT"
    bad["spec"]["targetRef"] = {"kind": "Service", "name": "httpbin", "namespace": "other"}
    bad["spec"]["selector"]["matchLabels"]["tier*"] = "x"
    bad["spec"]["rules"][0]["from"][0]["source"]["serviceAccounts"] = ["default/sleep"]
    bad["spec"]["rules"][0]["when"][0] = {"values": ["x"]}
    rc, err = _apply(srv, bad)
    assert rc != 0
    assert (
        'spec.action: Unsupported value: "PERMIT": supported values: "ALLOW", "DENY", "AUDIT", "CUSTOM"'
        in err
    )
    assert 'spec: Invalid value: "object": only one of targetRefs or selector can be set' in err, err
    assert (
        'spec.targetRef.namespace: Invalid value: "string": cross namespace referencing is not currently supported'
        in err
    ), err
    assert (
        'spec.selector.matchLabels: Invalid value: "object": wildcard not allowed in label key match' in err
    )
    assert (
        'spec.rules[0].from[0].source: Invalid value: "object": Cannot set serviceAccounts with namespaces or principals'
        in err
    ), err
    assert "spec.rules[0].when[0].key: Required value" in err, err

    peer: dict[str, Any] = {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "finance", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "finance"}},
            "mtls": {"mode": "STRICT"},
            "portLevelMtls": {"8080": {"mode": "DISABLE"}},
        },
    }
    rc, err = _apply(srv, peer)
    assert rc == 0, err
    table = srv.kubectl("get", "pa", "finance", check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "MODE", "AGE"] and table[1].split()[:2] == ["finance", "STRICT"], (
        table
    )
    bad_peer = json.loads(json.dumps(peer))
    bad_peer["metadata"]["name"] = "bad"
    del bad_peer["spec"]["selector"]
    bad_peer["spec"]["portLevelMtls"] = {"70000": {"mode": "STRICT"}}
    rc, err = _apply(srv, bad_peer)
    assert rc != 0
    assert 'spec.portLevelMtls: Invalid value: "object": port must be between 1-65535' in err, err
    assert 'spec: Invalid value: "object": portLevelMtls requires selector' in err, err


EXTERNAL_SECRETS = "sweep6-external-secrets.yaml.gz"


def test_external_secrets_externalsecret_crd(srv: Server, api: httpx.Client) -> None:
    """Two versions (v1alpha1 deprecated, two printer columns both named Store), a conversion webhook
    no pod serves: objects are written and read in the storage version, which needs no conversion."""
    apply_twice(srv, EXTERNAL_SECRETS)
    served(api, "/apis/external-secrets.io/v1beta1/namespaces/default/externalsecrets")
    assert_stored_as_sent(srv, EXTERNAL_SECRETS)
    for _ in range(2):
        r = srv.kubectl("apply", "-f", "-", input=manifest_text(EXTERNAL_SECRETS))
        assert r.returncode == 0, r.stderr
    es: dict[str, Any] = {
        "apiVersion": "external-secrets.io/v1beta1",
        "kind": "ExternalSecret",
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {
            "refreshInterval": "15m",
            "secretStoreRef": {"name": "vault-backend", "kind": "SecretStore"},
            "target": {"name": "db-credentials", "template": {"type": "Opaque"}},
            "data": [
                {
                    "secretKey": "password",
                    "remoteRef": {"key": "secret/db", "property": "password", "decryptingStrategy": {}},
                }
            ],
            "dataFrom": [
                {
                    "extract": {"key": "secret/db-extra"},
                    "rewrite": [{"regexp": {"source": "-", "target": "_"}}],
                }
            ],
        },
    }
    rc, err = _apply(srv, es)
    assert rc == 0, err
    got = json.loads(srv.kubectl("get", "es", "db", "-o", "json", check=True).stdout)
    assert got["apiVersion"] == "external-secrets.io/v1beta1"
    # the schema's defaults, nested ones inside a defaulted or empty object too
    assert got["spec"]["target"] == {
        "name": "db-credentials",
        "creationPolicy": "Owner",
        "deletionPolicy": "Retain",
        "template": {"type": "Opaque", "engineVersion": "v2", "mergePolicy": "Replace"},
    }, got["spec"]["target"]
    assert got["spec"]["data"][0]["remoteRef"] == {
        "key": "secret/db",
        "property": "password",
        "conversionStrategy": "Default",
        "decodingStrategy": "None",
        "metadataPolicy": "None",
        "decryptingStrategy": {"scheme": "None", "hash": "SHA1", "privateKeyType": "PKCS8"},
    }, got["spec"]["data"][0]["remoteRef"]
    assert got["spec"]["dataFrom"][0]["extract"]["decodingStrategy"] == "None"
    table = srv.kubectl("get", "externalsecrets", check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "STORETYPE", "STORE", "REFRESH", "INTERVAL", "STATUS", "READY"], table
    assert table[1].split() == ["db", "SecretStore", "vault-backend", "15m"], table

    bad = json.loads(json.dumps(es))
    bad["metadata"]["name"] = "bad"
    bad["spec"]["secretStoreRef"] = {"name": "Vault Backend", "kind": "Vault"}
    bad["spec"]["data"] = [
        {
            "secretKey": "pass word",
            "remoteRef": {"property": "password"},
            "sourceRef": {"storeRef": {"name": "a"}, "generatorRef": {"kind": "Password", "name": "p"}},
        }
    ]
    rc, err = _apply(srv, bad)
    assert rc != 0
    assert (
        'spec.secretStoreRef.kind: Unsupported value: "Vault": supported values: "SecretStore", "ClusterSecretStore"'
        in err
    )
    assert (
        'spec.secretStoreRef.name: Invalid value: "Vault Backend": spec.secretStoreRef.name in body should match'
        in err
    )
    assert "spec.data[0].remoteRef.key: Required value" in err, err
    assert (
        'spec.data[0].secretKey: Invalid value: "pass word": spec.data[0].secretKey in body should match'
        in err
    )
    assert "spec.data[0].sourceRef: Too many: 2: must have at most 1 items" in err, err


CLUSTER_API = "sweep6-cluster-api.yaml.gz"


def test_cluster_api_cluster_crd(srv: Server, api: httpx.Client) -> None:
    """Three versions, two deprecated, no conversion stanza: read in any, the object is the same but
    for its apiVersion, and kube warns of the deprecated one naming the version to use."""
    apply_twice(srv, CLUSTER_API)
    served(api, "/apis/cluster.x-k8s.io/v1beta1/namespaces/default/clusters")
    assert_stored_as_sent(srv, CLUSTER_API)
    for _ in range(2):
        r = srv.kubectl("apply", "-f", "-", input=manifest_text(CLUSTER_API))
        assert r.returncode == 0, r.stderr
    cluster: dict[str, Any] = {
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "Cluster",
        "metadata": {"name": "capi-quickstart", "namespace": "default"},
        "spec": {
            "clusterNetwork": {
                "pods": {"cidrBlocks": ["192.168.0.0/16"]},
                "services": {"cidrBlocks": ["10.128.0.0/12"]},
                "serviceDomain": "cluster.local",
            },
            "topology": {
                "class": "quick-start",
                "version": "v1.31.0",
                "controlPlane": {
                    "replicas": 3,
                    "machineHealthCheck": {"maxUnhealthy": "33%", "unhealthyRange": "[1-2]"},
                },
                "workers": {
                    "machineDeployments": [
                        {
                            "class": "default-worker",
                            "name": "md-0",
                            "replicas": 3,
                            "strategy": {
                                "type": "RollingUpdate",
                                "rollingUpdate": {
                                    "maxSurge": "25%",
                                    "maxUnavailable": 0,
                                    "deletePolicy": "Oldest",
                                },
                            },
                        }
                    ]
                },
                "variables": [
                    {"name": "imageRepository", "value": ""},
                    {
                        "name": "etcd",
                        "value": {
                            "dataDir": "/var/lib/etcd",
                            "extraArgs": ["--quota-backend-bytes=8589934592"],
                        },
                    },
                ],
            },
        },
    }
    rc, err = _apply(srv, cluster)
    assert rc == 0, err
    srv.kubectl(
        "patch", "cluster", "capi-quickstart", "--subresource=status", "--type=merge",
        "-p", '{"status": {"phase": "Provisioned", "infrastructureReady": true}}', check=True,
    )  # fmt: skip
    table = srv.kubectl("get", "clusters.cluster.x-k8s.io", check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "PHASE", "AGE", "VERSION"], table
    assert table[1].split()[:2] == ["capi-quickstart", "Provisioned"] and table[1].split()[3] == "v1.31.0"
    old = srv.kubectl("get", "clusters.v1alpha4.cluster.x-k8s.io", "capi-quickstart", "-o", "json")
    assert old.returncode == 0, old.stderr
    assert (
        "Warning: cluster.x-k8s.io/v1alpha4 Cluster is deprecated; use cluster.x-k8s.io/v1beta1 Cluster"
        in old.stderr
    )
    got = json.loads(old.stdout)
    assert got["apiVersion"] == "cluster.x-k8s.io/v1alpha4"
    assert got["spec"]["topology"]["variables"] == cluster["spec"]["topology"]["variables"]

    bad = json.loads(json.dumps(cluster))
    bad["metadata"]["name"] = "bad"
    topology = bad["spec"]["topology"]
    del topology["version"]
    topology["controlPlane"]["machineHealthCheck"]["unhealthyRange"] = "1-2"
    topology["workers"]["machineDeployments"][0]["strategy"]["rollingUpdate"]["deletePolicy"] = "Youngest"
    topology["variables"].append({"name": "noValue"})
    bad["spec"]["controlPlaneEndpoint"] = {"host": "10.0.0.1"}
    rc, err = _apply(srv, bad)
    assert rc != 0
    assert "spec.topology.version: Required value" in err, err
    assert "spec.controlPlaneEndpoint.port: Required value" in err, err
    assert "spec.topology.variables[2].value: Required value" in err, err
    assert (
        'spec.topology.controlPlane.machineHealthCheck.unhealthyRange: Invalid value: "1-2": '
        "spec.topology.controlPlane.machineHealthCheck.unhealthyRange in body should match '^\\[[0-9]+-[0-9]+\\]$'"
        in err
    ), err
    assert (
        'spec.topology.workers.machineDeployments[0].strategy.rollingUpdate.deletePolicy: Unsupported value: "Youngest": '
        'supported values: "Random", "Newest", "Oldest"' in err
    ), err


def test_istio_service_entry(srv: Server, api: httpx.Client) -> None:
    """ServiceEntry (three versions): CEL with `exists_one`, `in` a list literal, list literals in
    ternaries, on a map list keyed by name, on map values (whose path kube writes `ports[http]`)."""
    apply_twice(srv, ISTIO)
    served(api, "/apis/networking.istio.io/v1/namespaces/default/serviceentries")
    entry: dict[str, Any] = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": "external-api", "namespace": "default"},
        "spec": {
            "hosts": ["api.example.com"],
            "location": "MESH_EXTERNAL",
            "ports": [{"number": 443, "name": "https", "protocol": "TLS"}],
            "resolution": "DNS",
        },
    }
    rc, err = _apply(srv, entry)
    assert rc == 0, err
    static = {
        "apiVersion": "networking.istio.io/v1beta1",
        "kind": "ServiceEntry",
        "metadata": {"name": "vms", "namespace": "default"},
        "spec": {
            "hosts": ["vm.internal"],
            "addresses": ["10.10.0.0/24"],
            "location": "MESH_INTERNAL",
            "ports": [{"number": 8080, "name": "http", "protocol": "HTTP", "targetPort": 80}],
            "resolution": "STATIC",
            "endpoints": [{"address": "10.10.0.5", "ports": {"http": 8081}, "labels": {"app": "vm"}}],
        },
    }
    rc, err = _apply(srv, static)
    assert rc == 0, err
    table = srv.kubectl("get", "se", check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "HOSTS", "LOCATION", "RESOLUTION", "AGE"], table
    assert table[1].split()[:4] == ["external-api", '["api.example.com"]', "MESH_EXTERNAL", "DNS"], table
    assert table[2].split()[:4] == ["vms", '["vm.internal"]', "MESH_INTERNAL", "STATIC"], table

    bad = json.loads(json.dumps(static))
    bad["metadata"]["name"] = "bad"
    bad["spec"]["hosts"] = ["*"]
    bad["spec"]["resolution"] = "DNS"
    bad["spec"]["ports"].append({"number": 8080, "name": "http-alt"})
    bad["spec"]["endpoints"] = [{"ports": {"http": 70000}}]
    bad["spec"]["workloadSelector"] = {"labels": {"app": "vm"}}
    rc, err = _apply(srv, bad)
    assert rc != 0
    assert 'spec.hosts[0]: Invalid value: "string": hostname cannot be wildcard' in err, err
    assert 'spec.ports: Invalid value: "array": port number cannot be duplicated' in err, err
    assert 'spec.endpoints[0]: Invalid value: "object": Address is required' in err, err
    assert 'spec.endpoints[0].ports[http]: Invalid value: "integer": port must be between 1-65535' in err, err
    assert 'spec: Invalid value: "object": only one of WorkloadSelector or Endpoints can be set' in err, err
    assert (
        'spec: Invalid value: "object": CIDR addresses are allowed only for NONE/STATIC resolution types'
        in err
    ), err
