"""Warnings on pods and pod templates, as kube-apiserver gives them (pkg/api/pod/warnings.go): the
write is accepted, each finding is a Warning header in kube's words at the template's path, the
real kubectl prints them, and a pod with none of these gets none."""

from __future__ import annotations

from typing import Any

import httpx

from apiserver.validation.podwarnings import persistent_volume_warnings, pod_warnings, template_warnings
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


def test_retired_volume_plugins_in_kube_words() -> None:
    """pkg/api/pod/warnings.go and pkg/api/persistentvolume/util.go: the plugins kube deprecated
    or removed warn (storageos under kube's Go name), the network ones it still has do not."""
    volumes = [
        {"name": "a", "rbd": {"monitors": ["10.0.0.1:6789"], "image": "foo"}},
        {"name": "b", "cephfs": {"monitors": ["10.0.0.1:6789"]}},
        {"name": "c", "storageos": {"volumeName": "v"}},
        {"name": "d", "glusterfs": {"endpoints": "e", "path": "p"}},
        {"name": "e", "nfs": {"server": "10.0.0.1", "path": "/"}},
        {"name": "f", "gcePersistentDisk": {"pdName": "disk"}},
    ]
    assert pod_warnings({"spec": _pod_spec(volumes=volumes)}) == [
        "spec.volumes[0].rbd: deprecated in v1.28, non-functional in v1.31+",
        "spec.volumes[1].cephfs: deprecated in v1.28, non-functional in v1.31+",
        "spec.volumes[2].storageOS: deprecated in v1.22, non-functional in v1.25+",
        "spec.volumes[3].glusterfs: deprecated in v1.25, non-functional in v1.26+",
    ]
    pv = {
        "spec": {
            "persistentVolumeReclaimPolicy": "Recycle",
            "rbd": {"monitors": ["10.0.0.1:6789"], "image": "foo"},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "beta.kubernetes.io/os", "operator": "Exists"}]}
                    ]
                }
            },
        }
    }
    assert persistent_volume_warnings(pv) == [
        "spec.persistentVolumeReclaimPolicy: The Recycle reclaim policy is deprecated. "
        "Instead, the recommended approach is to use dynamic provisioning.",
        "spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].key: "
        'beta.kubernetes.io/os is deprecated since v1.14; use "kubernetes.io/os" instead',
        "spec.rbd: deprecated in v1.28, non-functional in v1.31+",
    ]
    assert persistent_volume_warnings({"spec": {"nfs": {"server": "s", "path": "/"}}}) == []


def test_every_kube_volume_source_is_kept(server: Server, http: httpx.Client, ns: str) -> None:
    """A pod may name any of kube's volume sources: kept as sent, strictly validated or not. Were
    one taken for an unknown field, a client not asking for strict validation would see it dropped
    and the volume turned into an empty emptyDir (the default of a volume with no source)."""
    volumes = [
        {"name": "git", "gitRepo": {"repository": "https://example.com/x.git", "revision": "main"}},
        {"name": "rbd", "rbd": {"monitors": ["10.16.154.78:6789"], "image": "foo", "fsType": "ext4"}},
        {"name": "gce", "gcePersistentDisk": {"pdName": "my-data-disk", "fsType": "ext4"}},
        {"name": "ebs", "awsElasticBlockStore": {"volumeID": "vol-1"}},
        {"name": "fc", "fc": {"targetWWNs": ["500a0982991b8dc5"], "lun": 2}},
        {"name": "flex", "flexVolume": {"driver": "kubernetes.io/lvm"}},
    ]
    for name, query in (("strict", "?fieldValidation=Strict"), ("lax", "")):
        pod = {"metadata": {"name": name}, "spec": _pod_spec(volumes=volumes)}
        r = http.post(f"/api/v1/namespaces/{ns}/pods{query}", json=pod)
        assert r.status_code == 201, r.text
        assert r.json()["spec"]["volumes"][: len(volumes)] == volumes
        assert r.headers.get_list("warning") == [
            '299 - "spec.volumes[0].gitRepo: deprecated in v1.11"',
            '299 - "spec.volumes[1].rbd: deprecated in v1.28, non-functional in v1.31+"',
        ]
    # a pod has no `local` volume source (a PersistentVolume does): unknown, as in kube
    pod = {"metadata": {"name": "local"}, "spec": _pod_spec(volumes=[{"name": "l", "local": {"path": "/x"}}])}
    r = http.post(f"/api/v1/namespaces/{ns}/pods?fieldValidation=Strict", json=pod)
    assert r.status_code == 400 and 'unknown field \\"spec.volumes[0].local' in r.text
