"""ServiceAccount admission's decisions: whose automountServiceAccountToken wins, what is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from api import jsonutil
from api.errors import ApiError
from apiserver.saadmission import MOUNT_PATH, ServiceAccountCache, admit_pod, mount_service_account_token


def _pod(automount: bool | None = None, account: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "x"}]}
    if account:
        spec["serviceAccountName"] = account
    if automount is not None:
        spec["automountServiceAccountToken"] = automount
    return {"metadata": {"name": "p"}, "spec": spec}


def _mounted(pod: dict[str, Any]) -> bool:
    return any(m["mountPath"] == MOUNT_PATH for m in pod["spec"]["containers"][0].get("volumeMounts") or [])


@pytest.mark.parametrize(
    ("pod_says", "account_says", "mounted"),
    [
        (None, None, True),
        (None, True, True),
        (None, False, False),
        (True, False, True),
        (False, True, False),
        (False, None, False),
    ],
)
def test_the_pod_wins_then_the_account(
    pod_says: bool | None, account_says: bool | None, mounted: bool
) -> None:
    pod = _pod(pod_says)
    mount_service_account_token(pod, lambda: "abcde", account_says)
    assert _mounted(pod) is mounted
    assert pod["spec"]["serviceAccountName"] == pod["spec"]["serviceAccount"] == "default"


class _Store:
    def __init__(self, objects: dict[str, dict[str, Any]]) -> None:
        self.objects = objects
        self.reads = 0

    async def get(self, key: str) -> Any:
        self.reads += 1
        obj = self.objects.get(key)
        return None if obj is None else type("KV", (), {"value": jsonutil.dumps(obj)})()


def test_lookups_and_refusal() -> None:
    store = _Store({"/registry/serviceaccounts/ns/quiet": {"automountServiceAccountToken": False}})
    cache = ServiceAccountCache(store)  # type: ignore[arg-type]

    async def admit(pod: dict[str, Any]) -> dict[str, Any]:
        await admit_pod(cache, "ns", pod, lambda: "abcde")
        return pod

    assert not _mounted(asyncio.run(admit(_pod(account="quiet"))))  # a miss read from the store
    with pytest.raises(ApiError) as e:
        asyncio.run(admit(_pod(account="ghost")))
    assert e.value.code == 403
    assert str(e.value.message) == (
        'pods "p" is forbidden: error looking up service account ns/ghost: serviceaccount "ghost" not found'
    )
    # a missing `default` is admitted (mounted); once the cache is synced it costs no store read
    cache.mirror.synced.set()
    before = store.reads
    assert _mounted(asyncio.run(admit(_pod())))
    assert store.reads == before
    # the cache's view: this server's writes are fed in at once
    cache.note(
        "/registry/serviceaccounts/ns/default", jsonutil.dumps({"automountServiceAccountToken": False})
    )
    assert not _mounted(asyncio.run(admit(_pod())))
    cache.note("/registry/serviceaccounts/ns/default", None)
    assert _mounted(asyncio.run(admit(_pod())))


def test_a_shapeless_pod_is_left_to_the_type_check() -> None:
    cache = ServiceAccountCache(_Store({}))  # type: ignore[arg-type]
    for spec in (
        {"containers": 5},
        {"serviceAccountName": 5, "containers": []},
        {"volumes": "x", "containers": []},
    ):
        pod = {"metadata": {"name": "p"}, "spec": dict(spec)}
        asyncio.run(admit_pod(cache, "ns", pod, lambda: "abcde"))  # no error: validation names the field


def test_the_account_image_pull_secrets_fill_a_pod_without_its_own() -> None:
    account = {"imagePullSecrets": [{"name": "regcred"}, {"name": "other"}]}
    cache = ServiceAccountCache(_Store({"/registry/serviceaccounts/ns/puller": account}))  # type: ignore[arg-type]
    pod = _pod(account="puller")
    asyncio.run(admit_pod(cache, "ns", pod, lambda: "abcde"))
    assert pod["spec"]["imagePullSecrets"] == [{"name": "regcred"}, {"name": "other"}]
    pod = _pod(account="puller")
    pod["spec"]["imagePullSecrets"] = [{"name": "mine"}]
    asyncio.run(admit_pod(cache, "ns", pod, lambda: "abcde"))
    assert pod["spec"]["imagePullSecrets"] == [{"name": "mine"}]


def test_a_pod_with_a_token_volume_has_its_other_containers_mount_that_one() -> None:
    """A copy of a pod (`kubectl debug --copy-to`) keeps one token volume, as kube reuses it."""
    pod = _pod()
    mount_service_account_token(pod, lambda: "first", None)
    pod["spec"]["containers"].append({"name": "debugger", "image": "busybox"})
    mount_service_account_token(pod, lambda: "second", None)
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["kube-api-access-first"]
    assert pod["spec"]["containers"][1]["volumeMounts"] == [
        {"name": "kube-api-access-first", "readOnly": True, "mountPath": MOUNT_PATH}
    ]
