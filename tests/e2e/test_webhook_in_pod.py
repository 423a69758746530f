"""Admission webhooks served by a pod behind a Service, as cert-manager's and ingress-nginx's are:
the API server finds the Service's ready endpoint, dials the pod over TLS, verifies its certificate
against the configuration's caBundle for the name `<service>.<namespace>.svc`, and applies what
the pod answers. The webhook is a few lines of Python's standard library in a python:3 pod; its
certificate is made here and handed over in a `kubernetes.io/tls` Secret.

Checked with the real kubectl: an object the mutating webhook patches is stored patched; one the
validating webhook denies is refused in kube's words and not stored; and with the pod gone, a
`Fail` policy refuses writes it covers while others go through.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Cluster
from tests.polling import wait_for
from tests.tls import self_signed

NS = "whe2e"
SERVICE_HOST = f"wh.{NS}.svc"
SERVER = """
import base64, json, ssl, sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Webhook(BaseHTTPRequestHandler):
    def do_GET(self):
        self._answer(b"ok", "text/plain")

    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        request = review["request"]
        labels = (request["object"].get("metadata") or {}).get("labels") or {}
        response = {"uid": request["uid"], "allowed": True}
        path = self.path.split("?")[0]  # kube adds ?timeout=<timeoutSeconds>s
        if path == "/validate" and labels.get("deny") == "yes":
            response = {"uid": request["uid"], "allowed": False, "status": {"code": 403, "message": "e2e says no"}}
        elif path == "/mutate":
            patch = [{"op": "add", "path": "/metadata/labels/admitted-by", "value": "e2e-webhook"}]
            response["patchType"] = "JSONPatch"
            response["patch"] = base64.b64encode(json.dumps(patch).encode()).decode()
        print(path, request["operation"], request["name"], response["allowed"], flush=True)
        out = {"apiVersion": review["apiVersion"], "kind": "AdmissionReview", "response": response}
        self._answer(json.dumps(out).encode(), "application/json")

    def _answer(self, body, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = HTTPServer(("", 8443), Webhook)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain("/tls/tls.crt", "/tls/tls.key")
server.socket = tls.wrap_socket(server.socket, server_side=True)
print("serving", flush=True)
server.serve_forever()
"""


def _backend(cert: bytes, key: bytes) -> str:
    objects: list[dict[str, object]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "wh-tls", "namespace": NS},
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": base64.b64encode(cert).decode(), "tls.key": base64.b64encode(key).decode()},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "wh-code", "namespace": NS},
            "data": {"webhook.py": SERVER},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "wh", "namespace": NS, "labels": {"app": "wh"}},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "webhook",
                        "image": "python:3",
                        "command": ["python3", "-u", "/code/webhook.py"],
                        "ports": [{"name": "https", "containerPort": 8443}],
                        "readinessProbe": {
                            "httpGet": {"path": "/healthz", "port": 8443, "scheme": "HTTPS"},
                            "periodSeconds": 1,
                        },
                        "volumeMounts": [
                            {"name": "code", "mountPath": "/code"},
                            {"name": "tls", "mountPath": "/tls"},
                        ],
                    }
                ],
                "volumes": [
                    {"name": "code", "configMap": {"name": "wh-code"}},
                    {"name": "tls", "secret": {"secretName": "wh-tls"}},
                ],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "wh", "namespace": NS},
            "spec": {"selector": {"app": "wh"}, "ports": [{"port": 443, "targetPort": "https"}]},
        },
    ]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})


def _configurations(ca: bytes) -> str:
    def hook(name: str, path: str) -> dict[str, object]:
        return {
            "name": name,
            "clientConfig": {
                "service": {"namespace": NS, "name": "wh", "path": path, "port": 443},
                "caBundle": base64.b64encode(ca).decode(),
            },
            "rules": [
                {
                    "apiGroups": [""],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE"],
                    "resources": ["configmaps"],
                }
            ],
            "objectSelector": {"matchLabels": {"e2e-webhook": "on"}},
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "failurePolicy": "Fail",
            "timeoutSeconds": 5,
        }

    mutating = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "e2e-in-pod"},
        "webhooks": [hook("label.e2e.example.com", "/mutate")],
    }
    validating = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "e2e-in-pod"},
        "webhooks": [hook("deny.e2e.example.com", "/validate")],
    }
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [mutating, validating]})


def _config_map(name: str, **labels: str) -> str:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NS, "labels": labels},
    }
    return json.dumps(body)


@pytest.fixture(scope="module")
def webhook(cluster: Cluster) -> Iterator[Cluster]:
    """The webhook pod Ready behind its Service, and both configurations pointing at it."""
    c = cluster
    cert, key = self_signed(SERVICE_HOST, dns=[SERVICE_HOST], ca=True)
    c.kubectl("apply", "-f", "-", input=_backend(cert, key), real=True)
    try:
        wait_for(
            lambda: c.kubectl(
                "-n", NS, "get", "endpoints", "wh", "-o", "jsonpath={.subsets[*].addresses[*].ip}"
            ).stdout.strip(),
            90,
            "the webhook pod Ready behind its Service",
        )
        c.kubectl("apply", "-f", "-", input=_configurations(cert), real=True)
        # the configurations are read through a watch: as kube's e2e does, a marker write tells
        # when they are in force
        marker = _config_map("marker", **{"e2e-webhook": "on", "deny": "yes"})

        def refused() -> bool:
            if c.kubectl("create", "-f", "-", input=marker, check=False).returncode != 0:
                return True
            c.kubectl("-n", NS, "delete", "configmap", "marker", check=False)
            return False

        wait_for(refused, 30, "the webhooks in force")
        yield c
    finally:
        c.kubectl(
            "delete", "mutatingwebhookconfiguration,validatingwebhookconfiguration", "e2e-in-pod", check=False
        )
        c.kubectl("delete", "namespace", NS, "--wait=false", check=False)


def test_a_webhook_in_a_pod_mutates_and_denies_through_its_service(webhook: Cluster) -> None:
    c = webhook
    c.kubectl("create", "-f", "-", input=_config_map("allowed", **{"e2e-webhook": "on"}), real=True)
    labels = json.loads(c.kubectl("-n", NS, "get", "configmap", "allowed", "-o", "json").stdout)["metadata"][
        "labels"
    ]
    assert labels == {"e2e-webhook": "on", "admitted-by": "e2e-webhook"}

    denied = c.kubectl(
        "create",
        "-f",
        "-",
        input=_config_map("denied", **{"e2e-webhook": "on", "deny": "yes"}),
        real=True,
        check=False,
    )
    assert denied.returncode != 0
    assert 'admission webhook "deny.e2e.example.com" denied the request: e2e says no' in denied.stderr, (
        denied.stderr
    )
    assert c.kubectl("-n", NS, "get", "configmap", "denied", check=False).returncode != 0

    # what the webhook pod saw: one review per hook for each create it was asked about
    log = c.kubectl("-n", NS, "logs", "wh").stdout.splitlines()
    assert "/mutate CREATE allowed True" in log and "/validate CREATE allowed True" in log, log
    assert "/validate CREATE denied False" in log, log

    # objects the configurations do not select are not sent at all
    c.kubectl("create", "-f", "-", input=_config_map("unselected", deny="yes"), real=True)
    assert not [
        line for line in c.kubectl("-n", NS, "logs", "wh").stdout.splitlines() if "unselected" in line
    ]


def test_with_the_webhook_pod_gone_a_fail_policy_refuses_what_it_covers(webhook: Cluster) -> None:
    c = webhook
    c.kubectl("-n", NS, "delete", "pod", "wh", "--wait=true", "--timeout=60s")
    wait_for(
        lambda: (
            not c.kubectl(
                "-n", NS, "get", "endpoints", "wh", "-o", "jsonpath={.subsets[*].addresses[*].ip}"
            ).stdout.strip()
        ),
        30,
        "no ready endpoint left",
    )
    refused = c.kubectl(
        "create", "-f", "-", input=_config_map("orphan", **{"e2e-webhook": "on"}), real=True, check=False
    )
    assert refused.returncode != 0
    assert 'failed calling webhook "label.e2e.example.com"' in refused.stderr, refused.stderr
    assert 'no endpoints available for service "wh"' in refused.stderr, refused.stderr
    # a write no configuration selects is untouched by the outage
    c.kubectl("create", "-f", "-", input=_config_map("bystander"), real=True)
