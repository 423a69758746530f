"""CRD conversion webhooks (`spec.conversion.strategy: Webhook`) against a real `kubelite server`
and a real HTTPS conversion webhook in this process (tests/apiserver/webhook_server.py) converting
the k8s docs' CronTab: v1 (the storage version) `spec.schedule` is v1beta1's `spec.cronSpec`.

Covered: the CRD accepted and defaulted, and refused (422) in kube's words; reads, lists (one review
per list, nothing sent for objects already in the version asked), watches and writes in the other
version; selectors across versions; per-version printer columns; labels a webhook sets kept and
other metadata changes undone; a dead webhook and bad answers failing in kube's words (a watch
with an ERROR event); a slow webhook holding back only the watch that needs it; a `service`
clientConfig; a v1beta1 ConversionReview; the real kubectl."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.apiserver.conftest import Server, free_port, table_rows
from tests.apiserver.webhook_server import WebhookServer, webhook_server
from tests.polling import wait_for

GROUP = "stable.example.com"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
MERGE = {"Content-Type": "application/merge-patch+json"}


def _version(name: str, storage: bool, field: str) -> dict[str, Any]:
    return {
        "name": name,
        "served": True,
        "storage": storage,
        "schema": {
            "openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "properties": {
                            field: {"type": "string"},
                            "image": {"type": "string"},
                            "replicas": {"type": "integer"},
                        },
                    }
                },
            }
        },
        "additionalPrinterColumns": [{"name": field.title(), "type": "string", "jsonPath": f".spec.{field}"}],
    }


def crd(plural: str, kind: str, client_config: dict[str, Any], review_versions: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [_version("v1beta1", False, "cronSpec"), _version("v1", True, "schedule")],
            "conversion": {
                "strategy": "Webhook",
                "webhook": {"clientConfig": client_config, "conversionReviewVersions": review_versions},
            },
        },
    }


@pytest.fixture(scope="module")
def hook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookServer]:
    with webhook_server(tmp_path_factory.mktemp("conv"), dns=("conv.conv-svc.svc",)) as h:
        yield h


def make_crd(api: httpx.Client, body: dict[str, Any]) -> str:
    """Create a CRD and wait until both its versions are served; its name."""
    r = api.post(CRDS, json=body)
    assert r.status_code == 201, r.text
    plural = body["spec"]["names"]["plural"]

    def served() -> bool:
        return all(api.get(f"/apis/{GROUP}/{v}/{plural}").status_code == 200 for v in ("v1", "v1beta1"))

    wait_for(served, timeout=15, what=f"{plural} served")
    return str(body["metadata"]["name"])


@pytest.fixture(scope="module")
def crontabs(api: httpx.Client, hook: WebhookServer) -> str:
    config = {"url": hook.url("/convert"), "caBundle": hook.ca_bundle}
    return make_crd(api, crd("crontabs", "CronTab", config, ["v1", "v1beta1"]))


@pytest.fixture(scope="module")
def ns(api: httpx.Client) -> str:
    api.post("/api/v1/namespaces", json={"metadata": {"name": "conv"}}).raise_for_status()
    return "conv"


def path(version: str, ns: str, plural: str = "crontabs") -> str:
    return f"/apis/{GROUP}/{version}/namespaces/{ns}/{plural}"


def v1_object(name: str, plural_kind: str = "CronTab", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": plural_kind,
        "metadata": {"name": name, "labels": labels},
        "spec": {"schedule": "*/5 * * * *", "image": "my-cron"},
    }


def calls(hook: WebhookServer, at: str = "/convert") -> list[dict[str, Any]]:
    return hook.requests(at)


# --- the CRD ----------------------------------------------------------------------------------------


def test_the_crd_is_accepted_and_its_service_port_defaulted(
    api: httpx.Client, hook: WebhookServer, crontabs: str
) -> None:
    got = api.get(f"{CRDS}/{crontabs}").json()
    assert got["spec"]["conversion"]["strategy"] == "Webhook"
    assert got["spec"]["conversion"]["webhook"]["conversionReviewVersions"] == ["v1", "v1beta1"]
    body = crd("svcs", "Svc", {"service": {"namespace": "x", "name": "y"}}, ["v1"])
    r = api.post(f"{CRDS}?dryRun=All", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["conversion"]["webhook"]["clientConfig"]["service"]["port"] == 443


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda c: c["spec"]["conversion"].pop("webhook"),
            "spec.conversion.webhookClientConfig",
            "Required value: required when strategy is set to Webhook",
        ),
        (
            lambda c: c["spec"]["conversion"].pop("webhook"),
            "spec.conversion.conversionReviewVersions",
            "Required value",
        ),
        (
            lambda c: c["spec"]["conversion"]["webhook"]["clientConfig"].update(
                service={"namespace": "a", "name": "b"}
            ),
            "spec.conversion.webhookClientConfig",
            "Required value: exactly one of url or service is required",
        ),
        (
            lambda c: c["spec"]["conversion"]["webhook"]["clientConfig"].update(
                url="http://127.0.0.1/convert"
            ),
            "spec.conversion.webhookClientConfig.url",
            "'https' is the only allowed URL scheme",
        ),
        (
            lambda c: c["spec"]["conversion"]["webhook"].update(conversionReviewVersions=["v2"]),
            "spec.conversion.conversionReviewVersions",
            'Invalid value: []string{"v2"}: must include at least one of v1, v1beta1',
        ),
        (
            lambda c: c["spec"]["conversion"]["webhook"].update(conversionReviewVersions=["v1", "v1"]),
            "spec.conversion.conversionReviewVersions[1]",
            'Invalid value: "v1": duplicate version',
        ),
        (
            lambda c: c["spec"]["conversion"].update(strategy="Magic"),
            "spec.conversion.strategy",
            'Unsupported value: "Magic": supported values: "None", "Webhook"',
        ),
        (
            lambda c: c["spec"]["conversion"].update(strategy="None"),
            "spec.conversion.webhookClientConfig",
            "Forbidden: should not be set when strategy is not set to Webhook",
        ),
        (
            lambda c: c["spec"].update(preserveUnknownFields=True),
            "spec.conversion.strategy",
            'Invalid value: "Webhook": must be None if spec.preserveUnknownFields is true',
        ),
    ],
)
def test_bad_conversions_are_refused(
    api: httpx.Client, hook: WebhookServer, change: Any, field: str, message: str
) -> None:
    body = crd("badconfs", "BadConf", {"url": hook.url("/convert"), "caBundle": hook.ca_bundle}, ["v1"])
    change(body)
    r = api.post(CRDS, json=body)
    assert r.status_code == 422, r.text
    causes = r.json()["details"]["causes"]
    assert any(c["field"] == field and message in c["message"] for c in causes), causes


# --- reads, lists, writes -----------------------------------------------------------------------------


def test_created_in_v1_read_in_v1beta1_and_back(
    api: httpx.Client, hook: WebhookServer, crontabs: str, ns: str
) -> None:
    before = len(calls(hook))
    made = api.post(path("v1", ns), json=v1_object("read"))
    assert made.status_code == 201, made.text
    assert len(calls(hook)) == before  # written in the storage version: nothing to convert
    beta = api.get(f"{path('v1beta1', ns)}/read")
    assert beta.status_code == 200, beta.text
    got = beta.json()
    assert got["apiVersion"] == f"{GROUP}/v1beta1"
    assert got["spec"] == {"cronSpec": "*/5 * * * *", "image": "my-cron"}
    assert got["metadata"] == made.json()["metadata"]
    [sent] = calls(hook)[before:]
    assert sent["desiredAPIVersion"] == f"{GROUP}/v1beta1" and sent["uid"]
    assert [o["apiVersion"] for o in sent["objects"]] == [f"{GROUP}/v1"]
    assert hook.review_versions[-1] == "apiextensions.k8s.io/v1"  # the first of the list kube speaks
    assert api.get(f"{path('v1', ns)}/read").json()["spec"]["schedule"] == "*/5 * * * *"
    assert len(calls(hook)) == before + 1  # read in the storage version: nothing sent


def test_a_list_is_converted_in_one_review(
    api: httpx.Client, hook: WebhookServer, crontabs: str, ns: str
) -> None:
    for name, tier in (("l1", "a"), ("l2", "b"), ("l3", "a")):
        assert api.post(path("v1", ns), json=v1_object(name, tier=tier)).status_code == 201
    before = len(calls(hook))
    items = api.get(path("v1beta1", ns)).json()["items"]
    assert len(calls(hook)) == before + 1
    assert len(calls(hook)[-1]["objects"]) == len(items) >= 3
    assert {i["apiVersion"] for i in items} == {f"{GROUP}/v1beta1"}
    assert all("cronSpec" in i["spec"] and "schedule" not in i["spec"] for i in items)
    assert all(i["spec"]["schedule"] for i in api.get(path("v1", ns)).json()["items"])
    assert len(calls(hook)) == before + 1  # the storage version: nothing sent
    chosen = api.get(path("v1beta1", ns), params={"labelSelector": "tier=a"}).json()["items"]
    assert sorted(i["metadata"]["name"] for i in chosen) == ["l1", "l3"]
    assert all("cronSpec" in i["spec"] for i in chosen)
    assert len(calls(hook)[-1]["objects"]) == 2  # only what the selector chose is sent
    one = api.get(path("v1beta1", ns), params={"fieldSelector": "metadata.name=l2"}).json()["items"]
    assert [i["metadata"]["name"] for i in one] == ["l2"] and "cronSpec" in one[0]["spec"]
    page = api.get(path("v1beta1", ns), params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["metadata"]["continue"]
    assert len(calls(hook)[-1]["objects"]) == 2  # one review per page
    table = api.get(path("v1beta1", ns), headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
    assert [c["name"] for c in table.json()["columnDefinitions"]][:2] == ["Name", "Cronspec"]
    assert {r["cells"][1] for r in table.json()["rows"]} == {"*/5 * * * *"}


def test_writes_in_v1beta1_are_stored_in_v1(
    api: httpx.Client, hook: WebhookServer, crontabs: str, ns: str
) -> None:
    before = len(calls(hook))
    body = {
        "apiVersion": f"{GROUP}/v1beta1",
        "kind": "CronTab",
        "metadata": {"name": "beta"},
        "spec": {"cronSpec": "1 * * * *", "image": "b"},
    }
    made = api.post(path("v1beta1", ns), json=body)
    assert made.status_code == 201, made.text
    assert made.json()["apiVersion"] == f"{GROUP}/v1beta1" and made.json()["spec"]["cronSpec"] == "1 * * * *"
    to_storage, back = calls(hook)[before:]
    assert (
        to_storage["desiredAPIVersion"] == f"{GROUP}/v1" and back["desiredAPIVersion"] == f"{GROUP}/v1beta1"
    )
    stored = api.get(f"{path('v1', ns)}/beta").json()
    assert stored["spec"] == {"schedule": "1 * * * *", "image": "b"}
    assert len(calls(hook)) == before + 2  # stored in v1: read there without a call
    patched = api.patch(
        f"{path('v1beta1', ns)}/beta", json={"spec": {"cronSpec": "2 * * * *"}}, headers=MERGE
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["spec"]["cronSpec"] == "2 * * * *"
    assert api.get(f"{path('v1', ns)}/beta").json()["spec"]["schedule"] == "2 * * * *"
    replaced = dict(patched.json(), spec={"cronSpec": "3 * * * *", "image": "c"})
    put = api.put(f"{path('v1beta1', ns)}/beta", json=replaced)
    assert put.status_code == 200, put.text
    assert api.get(f"{path('v1', ns)}/beta").json()["spec"] == {"schedule": "3 * * * *", "image": "c"}
    gone = api.delete(f"{path('v1beta1', ns)}/beta")
    assert gone.status_code == 200  # a custom resource's removal answers kube's Success Status, in no version
    assert gone.json()["details"] == {
        "name": "beta",
        "group": GROUP,
        "kind": "crontabs",
        "uid": replaced["metadata"]["uid"],
    }


# --- watches ------------------------------------------------------------------------------------------


def _lines(r: httpx.Response) -> Iterator[dict[str, Any]]:
    for line in r.iter_lines():
        if line:
            yield json.loads(line)


def test_a_watch_in_v1beta1_sees_converted_events(
    api: httpx.Client, hook: WebhookServer, crontabs: str, ns: str
) -> None:
    rv = api.get(path("v1", ns)).json()["metadata"]["resourceVersion"]
    url = f"{path('v1beta1', ns)}?watch=true&resourceVersion={rv}&timeoutSeconds=20"
    with api.stream("GET", url) as r:
        events = _lines(r)
        assert api.post(path("v1", ns), json=v1_object("w1")).status_code == 201
        added = next(events)
        assert (added["type"], added["object"]["apiVersion"]) == ("ADDED", f"{GROUP}/v1beta1")
        assert added["object"]["spec"]["cronSpec"] == "*/5 * * * *"
        api.patch(f"{path('v1', ns)}/w1", json={"spec": {"schedule": "9 * * * *"}}, headers=MERGE)
        modified = next(events)
        assert modified["type"] == "MODIFIED" and modified["object"]["spec"]["cronSpec"] == "9 * * * *"
        api.delete(f"{path('v1', ns)}/w1")
        deleted = next(events)
        assert deleted["type"] == "DELETED" and deleted["object"]["spec"]["cronSpec"] == "9 * * * *"
    assert api.post(path("v1", ns), json=v1_object("w0", tier="w")).status_code == 201
    url = f"{path('v1beta1', ns)}?watch=true&labelSelector=tier%3Dw&timeoutSeconds=20"
    with api.stream("GET", url) as r:  # no resourceVersion: what exists first, converted
        first = next(_lines(r))
    assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", "w0")
    assert first["object"]["spec"]["cronSpec"] == "*/5 * * * *"


def test_a_slow_webhook_holds_back_only_its_watch(api: httpx.Client, hook: WebhookServer, ns: str) -> None:
    config = {"url": hook.url("/convert-slow"), "caBundle": hook.ca_bundle}
    make_crd(api, crd("slowtabs", "SlowTab", config, ["v1"]))
    rv = api.get(path("v1", ns, "slowtabs")).json()["metadata"]["resourceVersion"]
    got: dict[str, tuple[float, dict[str, Any]]] = {}

    def watch(version: str) -> None:
        url = f"{path(version, ns, 'slowtabs')}?watch=true&resourceVersion={rv}&timeoutSeconds=20"
        with api.stream("GET", url) as r:
            event = next(_lines(r))
            got[version] = (time.monotonic(), event)

    threads = [threading.Thread(target=watch, args=(v,), daemon=True) for v in ("v1beta1", "v1")]
    for t in threads:
        t.start()
    try:
        assert api.post(path("v1", ns, "slowtabs"), json=v1_object("s1", "SlowTab")).status_code == 201
        wait_for(lambda: "v1" in got, timeout=5, what="the v1 watcher's event")
        wait_for(lambda: calls(hook, "/convert-slow"), timeout=5, what="the v1beta1 watcher's conversion")
        assert "v1beta1" not in got  # its conversion is still waiting
    finally:
        hook.release.set()
    wait_for(lambda: "v1beta1" in got, timeout=10, what="the v1beta1 watcher's event")
    assert got["v1beta1"][1]["object"]["spec"]["cronSpec"] == "*/5 * * * *"
    assert got["v1"][0] < got["v1beta1"][0]


# --- failures -----------------------------------------------------------------------------------------


def test_a_dead_webhook_fails_in_kubes_words(
    srv: Server, api: httpx.Client, hook: WebhookServer, ns: str
) -> None:
    port = free_port()
    make_crd(api, crd("deadtabs", "DeadTab", {"url": f"https://127.0.0.1:{port}/convert"}, ["v1"]))
    assert api.post(path("v1", ns, "deadtabs"), json=v1_object("d1", "DeadTab")).status_code == 201
    assert api.get(f"{path('v1', ns, 'deadtabs')}/d1").status_code == 200  # no conversion, no call
    want = (
        f"conversion webhook for {GROUP}/v1, Kind=DeadTab failed: "
        f'Post "https://127.0.0.1:{port}/convert?timeout=30s": dial tcp 127.0.0.1:{port}: connect: '
    )
    for r in (api.get(f"{path('v1beta1', ns, 'deadtabs')}/d1"), api.get(path("v1beta1", ns, "deadtabs"))):
        assert r.status_code == 500, r.text
        assert "reason" not in r.json() and r.json()["message"].startswith(want), r.text
    body = {"apiVersion": f"{GROUP}/v1beta1", "kind": "DeadTab", "metadata": {"name": "d2"}, "spec": {}}
    r = api.post(path("v1beta1", ns, "deadtabs"), json=body)
    assert r.status_code == 500 and f"conversion webhook for {GROUP}/v1beta1, Kind=DeadTab failed" in r.text
    assert api.get(f"{path('v1', ns, 'deadtabs')}/d2").status_code == 404  # nothing stored
    for query in (
        "",
        "&resourceVersion=" + api.get(path("v1", ns, "deadtabs")).json()["metadata"]["resourceVersion"],
    ):
        with api.stream("GET", f"{path('v1beta1', ns, 'deadtabs')}?watch=true&timeoutSeconds=10{query}") as s:
            if query:
                api.patch(f"{path('v1', ns, 'deadtabs')}/d1", json={"spec": {"image": "x"}}, headers=MERGE)
            events = list(_lines(s))  # the stream ends after the error
        assert [e["type"] for e in events] == ["ERROR"]
        status = events[0]["object"]
        assert (status["code"], status["reason"]) == (500, "InternalError")
        assert status["message"].startswith("Internal error occurred: " + want)
    shown = srv.kubectl("-n", ns, "get", f"deadtabs.v1beta1.{GROUP}", "d1")
    assert shown.returncode == 1 and shown.stderr.startswith("Error from server: " + want), shown.stderr


@pytest.mark.parametrize(
    ("at", "single", "listed"),
    [
        (
            "/convert-wrong-version",
            "returned invalid object at index 0: invalid groupVersion "
            f"(expected {GROUP}/v1beta1, received {GROUP}/v1)",
            "returned invalid converted object at index 1: invalid groupVersion "
            f"(expected {GROUP}/v1beta1, received {GROUP}/v1)",
        ),
        (
            "/convert-rename",
            "returned invalid object: must have the same name: b1 != b1-renamed",
            "returned invalid converted object at index 1: must have the same name: b1 != b1-renamed",
        ),
        ("/convert-drop", "returned 0 objects, expected 1", "returned 0 objects, expected 1"),
        ("/convert-fail", "failed: cannot convert this", "failed: cannot convert this"),
    ],
)
def test_bad_answers_fail(
    api: httpx.Client, hook: WebhookServer, ns: str, at: str, single: str, listed: str
) -> None:
    name = "badtabs." + GROUP
    config = {"url": hook.url(at), "caBundle": hook.ca_bundle}
    if api.get(f"{CRDS}/{name}").status_code == 404:
        make_crd(api, crd("badtabs", "BadTab", config, ["v1"]))
        assert api.post(path("v1", ns, "badtabs"), json=v1_object("b1", "BadTab")).status_code == 201
    else:
        patch = {"spec": {"conversion": {"webhook": {"clientConfig": config}}}}
        assert api.patch(f"{CRDS}/{name}", json=patch, headers=MERGE).status_code == 200
    prefix = f"conversion webhook for {GROUP}/v1, Kind=BadTab "

    def failed() -> httpx.Response | None:
        r = api.get(f"{path('v1beta1', ns, 'badtabs')}/b1")
        return r if r.json().get("message") == prefix + single else None

    r = wait_for(failed, timeout=10, what=f"the error of {at}")
    assert r.status_code == 500 and "reason" not in r.json()
    r = api.get(path("v1beta1", ns, "badtabs"))
    assert (r.status_code, r.json()["message"]) == (500, prefix + listed)


def test_labels_a_webhook_sets_are_kept_and_other_metadata_restored(
    api: httpx.Client, hook: WebhookServer, ns: str
) -> None:
    make_crd(
        api,
        crd(
            "labeltabs", "LabelTab", {"url": hook.url("/convert-labels"), "caBundle": hook.ca_bundle}, ["v1"]
        ),
    )
    made = api.post(path("v1", ns, "labeltabs"), json=v1_object("lt", "LabelTab", keep="me")).json()
    got = api.get(f"{path('v1beta1', ns, 'labeltabs')}/lt").json()
    assert got["metadata"]["labels"] == {"keep": "me", "converted": "yes"}
    assert got["metadata"]["generation"] == made["metadata"]["generation"] == 1


def test_a_service_webhook_and_a_v1beta1_review(api: httpx.Client, hook: WebhookServer, ns: str) -> None:
    svc_ns = "conv-svc"
    hook.behind_service(api, svc_ns, "conv")
    config = {
        "service": {"namespace": svc_ns, "name": "conv", "path": "/convert"},
        "caBundle": hook.ca_bundle,
    }
    make_crd(api, crd("svctabs", "SvcTab", config, ["v1beta1", "v1"]))
    assert api.post(path("v1", ns, "svctabs"), json=v1_object("sv", "SvcTab")).status_code == 201
    got = api.get(f"{path('v1beta1', ns, 'svctabs')}/sv")
    assert got.status_code == 200, got.text
    assert got.json()["spec"]["cronSpec"] == "*/5 * * * *"
    assert hook.review_versions[-1] == "apiextensions.k8s.io/v1beta1"  # the first listed kube speaks


# --- the real kubectl -------------------------------------------------------------------------------


def test_kubectl_gets_the_other_version(srv: Server, api: httpx.Client, crontabs: str, ns: str) -> None:
    assert api.post(path("v1", ns), json=v1_object("kc")).status_code == 201
    out = srv.kubectl("-n", ns, "get", f"crontabs.v1beta1.{GROUP}", "kc", "-o", "yaml", check=True).stdout
    assert f"apiVersion: {GROUP}/v1beta1" in out and "cronSpec: '*/5 * * * *'" in out
    assert "schedule" not in out
    rows = table_rows(srv.kubectl("-n", ns, "get", f"crontabs.v1beta1.{GROUP}", "kc", check=True).stdout)
    assert rows[0] == ["NAME", "CRONSPEC"] and rows[1][:2] == ["kc", "*/5"]
    out = srv.kubectl("-n", ns, "get", f"crontabs.v1.{GROUP}", "kc", "-o", "json", check=True).stdout
    assert json.loads(out)["spec"]["schedule"] == "*/5 * * * *"


def test_none_strategy_is_unchanged(api: httpx.Client, ns: str) -> None:
    body = crd("nonetabs", "NoneTab", {}, [])
    body["spec"]["conversion"] = {"strategy": "None"}
    make_crd(api, copy.deepcopy(body))
    assert api.post(path("v1", ns, "nonetabs"), json=v1_object("n", "NoneTab")).status_code == 201
    got = api.get(f"{path('v1beta1', ns, 'nonetabs')}/n").json()
    assert got["apiVersion"] == f"{GROUP}/v1beta1" and got["spec"]["schedule"] == "*/5 * * * *"
