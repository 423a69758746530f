"""A CRD's conversion webhook, the pure parts: the validation of `spec.conversion`, the
ConversionReview the webhook is sent and the checks its answer is held to, as kube-apiserver makes
them (apiextensions-apiserver pkg/apis/apiextensions/validation and
pkg/apiserver/conversion/webhook_converter.go). The call is `apiserver.crd.converter`.

- `spec.conversion` (`conversion_causes`): strategy None or Webhook; Webhook needs
  `webhook.clientConfig` (exactly one of an https url and a service, as an admission webhook's) and
  `webhook.conversionReviewVersions` naming v1 or v1beta1, and preserveUnknownFields not true;
  None takes neither. kube validates its internal type, so the paths are its own:
  `spec.conversion.webhookClientConfig`, `spec.conversion.conversionReviewVersions`.

- Sent: the objects not already in the desired apiVersion (none: no call at all), every object of
  one request in one review (a list's objects together). The review is an
  `apiextensions.k8s.io/<v>` ConversionReview whose request holds uid, desiredAPIVersion and
  objects, `<v>` the first of the CRD's conversionReviewVersions kube speaks (v1, v1beta1).
- The answer: a v1 one must be an apiextensions.k8s.io/v1 ConversionReview whose response.uid is
  the request's (v1beta1 answers are held to neither, as kube holds them); response.result.status
  must be Success (else its message is the error); as many convertedObjects as were sent, each in
  the desired apiVersion and of the sent object's kind, name, namespace and uid. An object's
  metadata is then the sent object's again but for labels and annotations, which the webhook may
  change (to valid ones): any other metadata change is undone, as kube undoes it.
- An error is kube's plain Go error, which kube-apiserver answers as a 500 Status of no reason
  (kubectl: `Error from server: conversion webhook for stable.example.com/v1, Kind=CronTab failed:
  ...`), worded after the object sent, as kube words it; a watch ends on it with an ERROR event
  carrying it as an InternalError (`ConversionFailed.for_watch`), as kube's watch does.
"""

from __future__ import annotations

import copy
from typing import Any

from api import jsonutil
from api.errors import ApiError, Cause, field_forbidden, field_invalid, field_not_supported, field_required
from api.jsonutil import as_object
from apiserver.validation.admission import client_config_causes, go_strings, review_version_causes
from apiserver.validation.meta import validate_annotations, validate_labels
from apiserver.validation.workloads import invalid_raw
from apiserver.webhooks.review import internal

Obj = dict[str, Any]
GROUP = "apiextensions.k8s.io"
STRATEGIES = ["None", "Webhook"]
REVIEW_VERSIONS = ["v1", "v1beta1"]  # the ConversionReview versions kube-apiserver speaks
_PATH = "spec.conversion"
_GO_TYPES = {bool: "bool", int: "int64", float: "float64", str: "string", list: "[]interface {}"}


class ConversionFailed(ApiError):
    """kube's 500 (no reason) for a conversion that failed."""

    def __init__(self, message: str) -> None:
        super().__init__(500, "", message)

    def for_watch(self) -> ApiError:
        return internal(self.message)


def conversion_causes(spec: Obj) -> list[Cause]:
    """kube's causes against a CRD's `spec.conversion` (defaulted: strategy None when absent)."""
    conversion = spec.get("conversion")
    if not isinstance(conversion, dict):
        return []
    out: list[Cause] = []
    strategy = conversion.get("strategy")
    if strategy not in (None, "None") and spec.get("preserveUnknownFields") is True:
        out.append(
            field_invalid(f"{_PATH}.strategy", strategy, "must be None if spec.preserveUnknownFields is true")
        )
    if not strategy:
        out.append(field_required(f"{_PATH}.strategy"))
    elif strategy not in STRATEGIES:
        out.append(field_not_supported(f"{_PATH}.strategy", strategy, STRATEGIES))
    webhook = as_object(conversion.get("webhook"))
    client = webhook.get("clientConfig")
    versions = webhook.get("conversionReviewVersions") or []
    versions = versions if isinstance(versions, list) else []
    if strategy != "Webhook":
        if client is not None:
            out.append(
                field_forbidden(
                    f"{_PATH}.webhookClientConfig", "should not be set when strategy is not set to Webhook"
                )
            )
        if versions:
            out.append(
                field_forbidden(
                    f"{_PATH}.conversionReviewVersions",
                    "should not be set when strategy is not set to Webhook",
                )
            )
        return out
    if not isinstance(client, dict):
        out.append(field_required(f"{_PATH}.webhookClientConfig", "required when strategy is set to Webhook"))
    else:
        out += client_config_causes(f"{_PATH}.webhookClientConfig", client)
    path = f"{_PATH}.conversionReviewVersions"
    if not versions:
        return [*out, field_required(path)]
    causes, seen = review_version_causes(path, versions)
    if not seen & set(REVIEW_VERSIONS):
        causes.append(
            invalid_raw(
                path, go_strings(versions), f"must include at least one of {', '.join(REVIEW_VERSIONS)}"
            )
        )
    return out + causes


def gvk(api_version: str, kind: str) -> str:
    """A GroupVersionKind as Go prints it: `group/version, Kind=Kind` (a slash even without group)."""
    group, _, version = api_version.rpartition("/")
    return f"{group}/{version}, Kind={kind}"


def _group_version(api_version: Any) -> str:
    """A GroupVersion as Go prints it (`v1` alone without a group; "" for what does not parse)."""
    text = api_version if isinstance(api_version, str) else ""
    return "" if text.count("/") > 1 else text


def to_send(objects: list[Obj], desired: str) -> list[int]:
    """Indexes of the objects the webhook is sent: those not already in the desired apiVersion."""
    return [i for i, obj in enumerate(objects) if obj.get("apiVersion") != desired]


def review_body(review_version: str, uid: str, desired: str, objects: list[Obj]) -> bytes:
    request = {"uid": uid, "desiredAPIVersion": desired, "objects": objects}
    return jsonutil.dumps(
        {
            "kind": "ConversionReview",
            "apiVersion": f"{GROUP}/{review_version}",
            "request": request,
            "response": {"uid": "", "convertedObjects": None, "result": {"metadata": {}}},
        }
    )


def status_error(status: int) -> str:
    """What kube's REST client says of a webhook's answer with a status other than 2xx."""
    if status == 404:
        return "the server could not find the requested resource"
    if status == 500:
        return 'an error on the server ("unknown") has prevented the request from succeeding'
    if status == 503:
        return "the server is currently unable to handle the request"
    return f"the server responded with the status code {status} but did not return more information"


def _response_objects(body: bytes, review_version: str, uid: str) -> list[Any]:
    """convertedObjects of a successful answer; ValueError with kube's words for anything else."""
    try:
        review = jsonutil.loads(body)
    except ValueError as e:
        raise ValueError(f"couldn't get version/kind; json parse error: {e}") from None
    review = review if isinstance(review, dict) else {}
    response = review.get("response")
    if review_version == "v1":
        got = gvk(str(review.get("apiVersion") or ""), str(review.get("kind") or ""))
        want = gvk(f"{GROUP}/v1", "ConversionReview")
        if got != want:
            raise ValueError(f"expected webhook response of {want}, got {got}")
    if not isinstance(response, dict):
        raise ValueError("no response provided")
    if review_version == "v1" and response.get("uid") != uid:
        raise ValueError(f'expected response.uid="{uid}", got "{response.get("uid") or ""}"')
    result = as_object(response.get("result"))
    if result.get("status") != "Success":
        if result.get("message"):
            raise ValueError(str(result["message"]))
        raise ValueError(f"response.result.status was '{result.get('status') or ''}', not 'Success'")
    objects = response.get("convertedObjects")
    return objects if isinstance(objects, list) else []


def converted_objects(
    body: bytes, review_version: str, uid: str, sent: list[Obj], desired: str, listed: bool
) -> list[Obj]:
    """The sent objects as the webhook converted them; ConversionFailed in kube's words. `listed`:
    they are a list's (kube words a list's errors with the index of the object, counted from 1)."""
    source = gvk(str(sent[0].get("apiVersion") or ""), str(sent[0].get("kind") or ""))
    try:
        got = _response_objects(body, review_version, uid)
    except ValueError as e:
        raise ConversionFailed(f"conversion webhook for {source} failed: {e}") from None
    if len(got) != len(sent):
        raise ConversionFailed(
            f"conversion webhook for {source} returned {len(got)} objects, expected {len(sent)}"
        )
    return [
        _checked(source, i, original, out, desired, listed)
        for i, (original, out) in enumerate(zip(sent, got, strict=True))
    ]


def _checked(source: str, i: int, original: Obj, out: Any, desired: str, listed: bool) -> Obj:
    """One converted object, its metadata restored; ConversionFailed when kube refuses it."""
    prefix = f"conversion webhook for {source} returned invalid"
    if not isinstance(out, dict) or not out.get("kind"):
        why = f"Object 'Kind' is missing in '{jsonutil.dumps(out).decode()}'"
        raise ConversionFailed(f"{prefix} converted object at index {i}: {why}" if listed else why)
    at = f"converted object at index {i + 1}" if listed else "object at index 0"
    received = _group_version(out.get("apiVersion"))
    if received != desired:
        raise ConversionFailed(
            f"{prefix} {at}: invalid groupVersion (expected {desired}, received {received})"
        )
    if out.get("kind") != original.get("kind"):
        raise ConversionFailed(
            f"{prefix} {at}: invalid kind (expected {original.get('kind')}, received {out.get('kind')})"
        )
    whole = f"converted object at index {i + 1}" if listed else "object"
    was, now = original.get("metadata") or {}, out.get("metadata")
    now_meta = now if isinstance(now, dict) else {}
    for key, word in (("name", "name"), ("namespace", "namespace"), ("uid", "UID")):
        if (was.get(key) or "") != (now_meta.get(key) or ""):
            raise ConversionFailed(
                f"{prefix} {whole}: must have the same {word}: {was.get(key) or ''} != {now_meta.get(key) or ''}"
            )
    why = _restore_metadata(original, out)
    if why:
        meta_at = f"metadata in object at index {i + 1}" if listed else "metadata"
        raise ConversionFailed(f"{prefix} {meta_at}: {why}")
    return out


def _go_type(value: Any) -> str:
    return "map[string]interface {}" if isinstance(value, dict) else _GO_TYPES.get(type(value), "<nil>")


def _restore_metadata(original: Obj, out: Obj) -> str:
    """Give `out` the original's metadata, keeping the labels and annotations the webhook set
    (in place); why not, or "" when done."""
    answered = out.get("metadata")
    if "metadata" not in out:
        return "missing metadata in converted object"
    if not isinstance(answered, dict):
        return f"invalid metadata of type {_go_type(answered)} in converted object"
    meta = copy.deepcopy(original.get("metadata") or {})
    for key, path in (("labels", "metadata.labels"), ("annotations", "metadata.annotation")):
        given = answered.get(key)
        if given is None:
            meta.pop(key, None)
            continue
        if not isinstance(given, dict):
            return f"invalid metadata.{key} of type {_go_type(given)} in converted object"
        for k, v in given.items():
            if not isinstance(v, str):
                return f"metadata.{key}[{k}] must be a string, but is {_go_type(v)} in converted object"
        if given != (meta.get(key) or {}):
            causes = validate_labels(given, path) if key == "labels" else validate_annotations(given, path)
            if causes:
                return _aggregate(causes)
        meta[key] = given
    out["metadata"] = meta
    return ""


def _aggregate(causes: list[Cause]) -> str:
    """field.ErrorList.ToAggregate().Error(): one error alone, several in brackets."""
    texts = [f"{c['field']}: {c['message']}" for c in causes]
    return texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
