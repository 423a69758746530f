"""CRD conversion webhooks, the decisions: `spec.conversion` validation, the ConversionReview sent,
the answer's checks in kube's words (webhook_converter.go), the metadata restored, and the
converter shell against a fake transport (what is sent, when nothing is)."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest

from api import jsonutil, resources
from apiserver import logic
from apiserver.crd import conversion, converter, hooks, model
from apiserver.crd.conversion import ConversionFailed, conversion_causes, converted_objects
from apiserver.crd.model import CustomKind, WebhookConversion, webhook_conversion
from apiserver.crd.served import publish
from apiserver.webhooks.review import CallError
from tests.apiserver_unit.test_crd import CRD, established

G = "stable.example.com"


def obj(name: str = "a", version: str = "v1", **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{G}/{version}",
        "kind": "CronTab",
        "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}", "generation": 1, **meta},
        "spec": {"schedule": "x"},
    }


def answer(objects: list[Any], uid: str = "u", version: str = "v1", **result: Any) -> bytes:
    return jsonutil.dumps(
        {
            "apiVersion": f"apiextensions.k8s.io/{version}",
            "kind": "ConversionReview",
            "response": {"uid": uid, "convertedObjects": objects, "result": result or {"status": "Success"}},
        }
    )


def as_beta(o: dict[str, Any]) -> dict[str, Any]:
    return {**o, "apiVersion": f"{G}/v1beta1", "metadata": dict(o["metadata"])}


def check(body: bytes, sent: list[dict[str, Any]], listed: bool = False, version: str = "v1") -> Any:
    return converted_objects(body, version, "u", sent, f"{G}/v1beta1", listed)


def failure(body: bytes, sent: list[dict[str, Any]], listed: bool = False, version: str = "v1") -> str:
    with pytest.raises(ConversionFailed) as e:
        check(body, sent, listed, version)
    assert (e.value.code, e.value.reason) == (500, "")
    return e.value.message


def test_the_review_sent() -> None:
    review = json.loads(conversion.review_body("v1", "u1", f"{G}/v1beta1", [obj()]))
    assert review["apiVersion"] == "apiextensions.k8s.io/v1" and review["kind"] == "ConversionReview"
    assert review["request"] == {"uid": "u1", "desiredAPIVersion": f"{G}/v1beta1", "objects": [obj()]}
    assert conversion.to_send([obj("a"), obj("b", "v1beta1")], f"{G}/v1beta1") == [0]


def test_a_good_answer_and_the_metadata_restored() -> None:
    out = as_beta(obj())
    out["metadata"].update(generation=99, resourceVersion="7", labels={"new": "label"})
    [got] = check(answer([out]), [obj()])
    assert got["apiVersion"] == f"{G}/v1beta1"
    assert got["metadata"] == {**obj()["metadata"], "labels": {"new": "label"}}
    dropped = as_beta(obj(labels={"a": "b"}))
    dropped["metadata"].pop("labels")
    assert "labels" not in check(answer([dropped]), [obj(labels={"a": "b"})])[0]["metadata"]


def test_a_v1beta1_answer_is_held_to_neither_uid_nor_kind() -> None:
    body = jsonutil.dumps(
        {"response": {"convertedObjects": [as_beta(obj())], "result": {"status": "Success"}}}
    )
    assert check(body, [obj()], version="v1beta1")[0]["apiVersion"] == f"{G}/v1beta1"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"nope", "failed: couldn't get version/kind; json parse error"),
        (
            jsonutil.dumps({"apiVersion": "v1", "kind": "Status"}),
            "failed: expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got /v1, Kind=Status",
        ),
        (answer([], uid="other"), 'failed: expected response.uid="u", got "other"'),
        (answer([], status="Failure", message="no way"), "failed: no way"),
        (answer([], status="Failure"), "failed: response.result.status was 'Failure', not 'Success'"),
        (answer([]), "returned 0 objects, expected 1"),
    ],
)
def test_bad_answers(body: bytes, words: str) -> None:
    assert failure(body, [obj()]).startswith(f"conversion webhook for {G}/v1, Kind=CronTab {words}")


def test_bad_objects_single_and_listed() -> None:
    prefix = f"conversion webhook for {G}/v1, Kind=CronTab returned invalid"
    same = obj()
    assert failure(answer([same]), [obj()]) == (
        f"{prefix} object at index 0: invalid groupVersion (expected {G}/v1beta1, received {G}/v1)"
    )
    assert failure(answer([obj("b"), same]), [obj("b"), obj()], listed=True) == (
        f"{prefix} converted object at index 1: invalid groupVersion (expected {G}/v1beta1, received {G}/v1)"
    )
    other = {**as_beta(obj()), "kind": "Other"}
    assert failure(answer([other]), [obj()]).endswith("invalid kind (expected CronTab, received Other)")
    renamed = as_beta(obj())
    renamed["metadata"]["name"] = "b"
    assert failure(answer([renamed]), [obj()]) == f"{prefix} object: must have the same name: a != b"
    moved = as_beta(obj())
    moved["metadata"]["uid"] = "x"
    assert failure(answer([moved]), [obj()], listed=True) == (
        f"{prefix} converted object at index 1: must have the same UID: uid-a != x"
    )
    kindless = {"apiVersion": f"{G}/v1beta1"}
    assert failure(answer([kindless]), [obj()]).startswith("Object 'Kind' is missing in '{")
    assert failure(answer([kindless]), [obj()], listed=True).startswith(
        f"{prefix} converted object at index 0: Object 'Kind' is missing"
    )


def test_bad_labels_and_metadata() -> None:
    prefix = f"conversion webhook for {G}/v1, Kind=CronTab returned invalid metadata"
    bad = as_beta(obj())
    bad["metadata"]["labels"] = {"a b": "c"}
    assert failure(answer([bad]), [obj()]).startswith(f'{prefix}: metadata.labels: Invalid value: "a b": ')
    typed = as_beta(obj())
    typed["metadata"]["annotations"] = {"k": 1}
    assert failure(answer([typed]), [obj()], listed=True) == (
        f"{prefix} in object at index 1: metadata.annotations[k] must be a string, but is int64 in converted object"
    )
    metaless = as_beta(obj())
    metaless["metadata"] = "x"
    assert "must have the same name: a != " in failure(answer([metaless]), [obj()])


def crd_spec(**conversion_: Any) -> dict[str, Any]:
    return {"conversion": conversion_}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (crd_spec(strategy="None"), []),
        (
            crd_spec(
                strategy="Webhook",
                webhook={"clientConfig": {"url": "https://h/c"}, "conversionReviewVersions": ["v1"]},
            ),
            [],
        ),
        (
            crd_spec(strategy="Webhook"),
            [
                (
                    "spec.conversion.webhookClientConfig",
                    "Required value: required when strategy is set to Webhook",
                ),
                ("spec.conversion.conversionReviewVersions", "Required value"),
            ],
        ),
        (
            crd_spec(
                strategy="Webhook", webhook={"clientConfig": {}, "conversionReviewVersions": ["v2", "v2"]}
            ),
            [
                (
                    "spec.conversion.webhookClientConfig",
                    "Required value: exactly one of url or service is required",
                ),
                ("spec.conversion.conversionReviewVersions[1]", 'Invalid value: "v2": duplicate version'),
                (
                    "spec.conversion.conversionReviewVersions",
                    'Invalid value: []string{"v2", "v2"}: must include at least one of v1, v1beta1',
                ),
            ],
        ),
        (
            crd_spec(
                strategy="None",
                webhook={"clientConfig": {"url": "https://h"}, "conversionReviewVersions": ["v1"]},
            ),
            [
                (
                    "spec.conversion.webhookClientConfig",
                    "Forbidden: should not be set when strategy is not set to Webhook",
                ),
                (
                    "spec.conversion.conversionReviewVersions",
                    "Forbidden: should not be set when strategy is not set to Webhook",
                ),
            ],
        ),
        (crd_spec(strategy=""), [("spec.conversion.strategy", "Required value")]),
    ],
)
def test_conversion_causes(spec: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(c["field"], c["message"]) for c in conversion_causes(spec)] == expected


def test_the_review_version_sent_is_the_first_kube_speaks() -> None:
    spec = {
        "conversion": {
            "strategy": "Webhook",
            "webhook": {
                "clientConfig": {"service": {"namespace": "n", "name": "s"}},
                "conversionReviewVersions": ["v2", "v1beta1", "v1"],
            },
        }
    }
    hook = webhook_conversion(spec)
    assert hook == WebhookConversion("", ("n", "s", "", 443), b"", "v1beta1", 30.0)
    assert webhook_conversion({"conversion": {"strategy": "None"}}) is None


def test_the_converter_sends_only_what_needs_converting(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []

    async def send(store: Any, target: Any, body: bytes) -> tuple[int, bytes]:
        review = json.loads(body)
        sent.append(review)
        objects = [as_beta(o) for o in review["request"]["objects"]]
        return 200, answer(objects, uid=review["request"]["uid"])

    monkeypatch.setattr(converter.transport, "send", send)
    kind = CustomKind(f"crontabs.{G}", G, "crontabs", "CronTab", "v1", False)
    conv = converter.WebhookConverter(None, kind, WebhookConversion("https://h/c", None, b"", "v1"))  # type: ignore[arg-type]
    assert conv.storage == f"{G}/v1"
    values = [jsonutil.dumps(obj("a")), jsonutil.dumps(as_beta(obj("b")))]
    out = asyncio.run(conv.convert(f"{G}/v1beta1", values, listed=True))
    assert len(sent) == 1 and [o["metadata"]["name"] for o in sent[0]["request"]["objects"]] == ["a"]
    assert out[1] is values[1] and json.loads(out[0])["apiVersion"] == f"{G}/v1beta1"
    assert asyncio.run(conv.convert(f"{G}/v1beta1", values[1:])) == values[1:] and len(sent) == 1

    async def down(store: Any, target: Any, body: bytes) -> tuple[int, bytes]:
        raise CallError('Post "https://h/c?timeout=30s": dial tcp h:443: connect: connection refused')

    monkeypatch.setattr(converter.transport, "send", down)
    with pytest.raises(ConversionFailed) as e:
        asyncio.run(conv.convert(f"{G}/v1beta1", values))
    assert e.value.message == (
        f"conversion webhook for {G}/v1, Kind=CronTab failed: "
        'Post "https://h/c?timeout=30s": dial tcp h:443: connect: connection refused'
    )
    assert e.value.for_watch().status["reason"] == "InternalError"

    async def missing(store: Any, target: Any, body: bytes) -> tuple[int, bytes]:
        return 404, b"404 page not found"

    monkeypatch.setattr(converter.transport, "send", missing)
    with pytest.raises(ConversionFailed, match=r"failed: the server could not find the requested resource$"):
        asyncio.run(conv.convert(f"{G}/v1beta1", values))


def test_published_webhooks_replace_the_apiversion_swap() -> None:
    crd = established(copy.deepcopy(CRD))
    crd["spec"]["conversion"] = {
        "strategy": "Webhook",
        "webhook": {"clientConfig": {"url": "https://h/c"}, "conversionReviewVersions": ["v1"]},
    }
    kind = model.served_kind(crd)
    assert kind is not None and kind.conversion is not None
    publish([kind], store=object())  # type: ignore[arg-type]
    try:
        beta = kind.version("v1beta1")
        assert beta is not None
        found = logic.webhook_converter(beta.resource)
        assert found is hooks.WEBHOOK[(kind.group, kind.plural)] and found.storage == f"{kind.group}/v1"
        assert logic.served_bytes(beta.resource) is None  # no apiVersion swap: the webhook converts
        assert (kind.group, kind.plural) not in hooks.MULTI_VERSION
        assert logic.webhook_converter(resources.by_plural("", "pods")) is None  # type: ignore[arg-type]
        values = [b"{}"]
        pods = resources.by_plural("", "pods")
        assert asyncio.run(logic.served_values(pods, values)) is values  # type: ignore[arg-type]
    finally:
        publish([])
    assert not hooks.WEBHOOK
