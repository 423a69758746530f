"""Warnings on pods and pod templates, as kube-apiserver gives them (pkg/api/pod/warnings.go): the
write is accepted, each finding is a Warning header in kube's words at the template's path, the
real kubectl prints them, and a pod with none of these gets none."""

from __future__ import annotations

from typing import Any

import httpx

from apiserver.validation.podwarnings import pod_warnings, template_warnings
from tests.apiserver.conftest import Server

SECCOMP = "seccomp.security.alpha.kubernetes.io/pod"


def _pod_spec(**extra: Any) -> dict[str, Any]:
    return {"containers": [{"name": "c", "image": "busybox:1"}], **extra}


def test_each_finding_in_kube_words() -> None:
    pod = {
        "metadata": {
            "annotations": {
                SECCOMP: "runtime/default",
                "container.apparmor.security.beta.kubernetes.io/c": "x",
            }
        },
        "spec": {
            "nodeSelector": {"beta.kubernetes.io/os": "linux"},
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "failure-domain.beta.kubernetes.io/zone", "operator": "Exists"}
                                ]
                            }
                        ]
                    }
                }
            },
            "volumes": [{"name": "v", "gitRepo": {"repository": "r"}}],
            "terminationGracePeriodSeconds": -1,
            "containers": [
                {
                    "name": "c",
                    "env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}],
                    "resources": {"requests": {"memory": "1.5"}},
                    "ports": [{"containerPort": 80}],
                },
                {"name": "d", "ports": [{"containerPort": 80}]},
            ],
        },
    }
    assert pod_warnings(pod) == [
        f'metadata.annotations[{SECCOMP}]: non-functional in v1.27+; use the "seccompProfile" field instead',
        'metadata.annotations[container.apparmor.security.beta.kubernetes.io/c]: deprecated since v1.30; use the "appArmorProfile" field instead',
        'spec.nodeSelector[beta.kubernetes.io/os]: deprecated since v1.14; use "kubernetes.io/os" instead',
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key: "
        'failure-domain.beta.kubernetes.io/zone is deprecated since v1.17; use "topology.kubernetes.io/zone" instead',
        "spec.volumes[0].gitRepo: deprecated in v1.11",
        "spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1",
        'spec.containers[0].resources.requests[memory]: fractional byte value "1.5" is invalid, must be an integer',
        'spec.containers[0].env[1]: hides previous definition of "A", which may be dropped when using apply',
        "spec.containers[1].ports[0]: duplicate port definition with spec.containers[0].ports[0]",
    ]
    assert pod_warnings({"metadata": {"name": "p"}, "spec": _pod_spec()}) == []
    cron = {
        "spec": {
            "jobTemplate": {
                "spec": {"template": {"metadata": {"annotations": {SECCOMP: "x"}}, "spec": _pod_spec()}}
            }
        }
    }
    (only,) = template_warnings("spec", "jobTemplate", "spec", "template")(cron)
    assert only.startswith(f"spec.jobTemplate.spec.template.metadata.annotations[{SECCOMP}]: non-functional")


def test_workloads_and_pods_warn_through_the_api(server: Server, http: httpx.Client, ns: str) -> None:
    template = {
        "metadata": {"labels": {"app": "w"}, "annotations": {SECCOMP: "runtime/default"}},
        "spec": _pod_spec(),
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "w"},
        "spec": {"selector": {"matchLabels": {"app": "w"}}, "template": template},
    }
    r = http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=deployment)
    assert r.status_code == 201, r.text
    expected = f'299 - "spec.template.metadata.annotations[{SECCOMP}]: non-functional in v1.27+; use the \\"seccompProfile\\" field instead"'
    assert r.headers.get_list("warning") == [expected]
    # the real kubectl prints it, on an apply as on a create
    r2 = server.kubectl(
        "-n",
        ns,
        "apply",
        "-f",
        "-",
        input=httpx.Response(200, json={**deployment, "metadata": {"name": "w2"}}).text,
    )
    assert r2.returncode == 0, r2.stderr
    assert f"Warning: spec.template.metadata.annotations[{SECCOMP}]: non-functional in v1.27+" in r2.stderr
    pod = {"metadata": {"name": "p"}, "spec": _pod_spec(nodeSelector={"beta.kubernetes.io/arch": "amd64"})}
    r = http.post(f"/api/v1/namespaces/{ns}/pods", json=pod)
    assert r.status_code == 201
    assert r.headers.get_list("warning") == [
        '299 - "spec.nodeSelector[beta.kubernetes.io/arch]: deprecated since v1.14; use \\"kubernetes.io/arch\\" instead"'
    ]
    # an update warns too; a status write does not
    r = http.patch(
        f"/api/v1/namespaces/{ns}/pods/p",
        json={"metadata": {"labels": {"x": "y"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and len(r.headers.get_list("warning")) == 1
    r = http.patch(
        f"/api/v1/namespaces/{ns}/pods/p/status",
        json={"status": {"message": "m"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and r.headers.get_list("warning") == []
    clean = {"metadata": {"name": "clean"}, "spec": _pod_spec()}
    r = http.post(f"/api/v1/namespaces/{ns}/pods", json=clean)
    assert r.status_code == 201 and "warning" not in r.headers
