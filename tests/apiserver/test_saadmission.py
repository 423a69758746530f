"""ServiceAccount admission on a real server: the account's own automountServiceAccountToken is
honoured (the pod's field wins), and a pod naming a missing account is refused as kube does."""

from __future__ import annotations

import httpx

from tests.apiserver.conftest import pod
from tests.objects import apps_body
from tests.polling import wait_for

MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def _mounted(obj: dict[str, object]) -> bool:
    spec = obj["spec"]
    assert isinstance(spec, dict)
    vols = [v["name"] for v in spec.get("volumes") or []]
    mounts = [m["mountPath"] for m in spec["containers"][0].get("volumeMounts") or []]
    return any(v.startswith("kube-api-access-") for v in vols) and MOUNT in mounts


def test_account_automount_false_is_honoured_and_the_pod_wins(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}"
    r = http.post(
        f"{base}/serviceaccounts", json={"metadata": {"name": "quiet"}, "automountServiceAccountToken": False}
    )
    assert r.status_code == 201, r.text
    loud = {"metadata": {"name": "loud"}, "imagePullSecrets": [{"name": "regcred"}]}
    r = http.post(f"{base}/serviceaccounts", json=loud)
    assert r.status_code == 201, r.text

    def create(name: str, account: str, automount: bool | None = None) -> dict[str, object]:
        body = pod(name)
        body["spec"]["serviceAccountName"] = account  # type: ignore[index]
        if automount is not None:
            body["spec"]["automountServiceAccountToken"] = automount  # type: ignore[index]
        r = http.post(f"{base}/pods", json=body)
        assert r.status_code == 201, r.text
        out: dict[str, object] = r.json()
        return out

    quiet = create("quiet", "quiet")
    assert not _mounted(quiet)
    assert "automountServiceAccountToken" not in quiet["spec"]  # type: ignore[operator]
    assert _mounted(create("quiet-but-pod-says-yes", "quiet", True))
    made = create("loud", "loud")
    assert _mounted(made)
    assert made["spec"]["imagePullSecrets"] == [{"name": "regcred"}]  # type: ignore[index]
    assert "imagePullSecrets" not in quiet["spec"]  # type: ignore[operator]
    assert not _mounted(create("loud-but-pod-says-no", "loud", False))
    # a dry run is admitted the same way
    body = pod("dry")
    body["spec"]["serviceAccountName"] = "quiet"  # type: ignore[index]
    r = http.post(f"{base}/pods", params={"dryRun": "All"}, json=body)
    assert r.status_code == 201 and not _mounted(r.json()), r.text


def test_missing_account_is_refused(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}"
    body = pod("orphan")
    body["spec"]["serviceAccountName"] = "ghost"  # type: ignore[index]
    r = http.post(f"{base}/pods", json=body)
    assert r.status_code == 403, r.text
    status = r.json()
    assert status["reason"] == "Forbidden"
    assert status["message"] == (
        f'pods "orphan" is forbidden: error looking up service account {ns}/ghost: '
        'serviceaccount "ghost" not found'
    )
    assert http.get(f"{base}/pods/orphan").status_code == 404
    # made a moment later (no watch delay on this server's own write): admitted
    assert http.post(f"{base}/serviceaccounts", json={"metadata": {"name": "ghost"}}).status_code == 201
    r = http.post(f"{base}/pods", json=body)
    assert r.status_code == 201 and _mounted(r.json()), r.text
    # deleted: refused again once the server's account cache has seen the deletion (by its watch)
    assert http.delete(f"{base}/serviceaccounts/ghost").status_code == 200
    body["metadata"]["name"] = "orphan2"  # type: ignore[index]
    wait_for(
        lambda: http.post(f"{base}/pods", params={"dryRun": "All"}, json=body).status_code == 403,
        what="the deleted account refused",
    )


def test_a_replica_set_recovers_once_its_account_exists(loops_http: httpx.Client) -> None:
    """The refusal is an error the workload controllers retry (as kube's do, with backoff): pods
    appear once the ServiceAccount is made (a manifest applying the Deployment before its account)."""
    rs = apps_body("ReplicaSet", "late", 2, "busybox")
    rs["spec"]["template"]["spec"]["serviceAccountName"] = "late"
    r = loops_http.post("/apis/apps/v1/namespaces/default/replicasets", json=rs)
    assert r.status_code == 201, r.text

    def failure() -> str:
        conds = (
            loops_http.get("/apis/apps/v1/namespaces/default/replicasets/late").json().get("status") or {}
        ).get("conditions") or []
        return next((c["message"] for c in conds if c["type"] == "ReplicaFailure"), "")

    message = wait_for(failure, what="the ReplicaFailure condition")
    assert 'serviceaccount "late" not found' in message
    r = loops_http.post("/api/v1/namespaces/default/serviceaccounts", json={"metadata": {"name": "late"}})
    assert r.status_code == 201, r.text
    wait_for(
        lambda: (
            len(
                loops_http.get(
                    "/api/v1/namespaces/default/pods", params={"labelSelector": "app=late"}
                ).json()["items"]
            )
            == 2
        ),
        what="the replica set's pods once the account exists",
    )
