"""The AdmissionReview a webhook is sent, its answer read, and the errors a request ends with, as
kube-apiserver makes them (k8s.io/apiserver/pkg/admission/plugin/webhook: request, errors,
mutating and validating dispatchers). Pure.

- The request (admission.k8s.io/v1, or v1beta1 for a webhook whose admissionReviewVersions name
  it before v1; the same fields): a fresh uid per call; kind/resource and their request*
  twins (kubelite serves each resource in the version asked, so they agree; the kind is the
  body's, another than the resource's for pods/binding, pods/eviction and */scale); subResource; name
  and namespace (a Namespace's own name for a Namespace); operation; userInfo; object (none on
  DELETE), oldObject (on UPDATE and DELETE); dryRun; options (Create/Update/Patch/DeleteOptions).
- The answer must be an admission.k8s.io/v1 AdmissionReview whose response.uid is the request's;
  a mutating webhook gives patch and patchType together (JSONPatch only), a validating one
  neither (a v1beta1 answer is checked for none of this, as kube reads it). Anything else is a call error, which the failure policy decides like a dead
  webhook: kube's 500 `failed calling webhook "NAME": ...` under Fail.
- A refusal is kube's ToStatusErr: the webhook's status code (403 when it gives none) and
  reason, the message `<resource> "<name>" is forbidden: admission webhook "NAME" denied the
  request: MESSAGE` (`Internal error occurred: ...` for a 500).
- A patch is applied to the object as sent; a patch that does not apply is a 500 whatever the
  failure policy, as in kube; a non-empty patch on a DELETE too (there is no object to change).
"""

from __future__ import annotations

import base64
import binascii
import copy
from dataclasses import dataclass
from typing import Any

from api import jsonutil
from api.errors import ApiError
from apiserver.patch.jsonpatch import json_patch

Obj = dict[str, Any]
GROUP = "admission.k8s.io"


@dataclass(frozen=True)
class Attributes:
    """One admission request: what is written, by whom, how."""

    operation: str  # CREATE, UPDATE, DELETE
    group: str
    version: str
    kind: str
    resource: str
    subresource: str
    namespace: str  # for a Namespace: its own name, as kube sets it
    name: str
    obj: Obj | None
    old: Obj | None
    user: Any  # apiserver.auth.User
    dry_run: bool
    options: Obj
    # the kind's group and version when they are not the resource's: a write whose body is another
    # kind (autoscaling/v1 Scale of deployments/scale, policy/v1 Eviction of pods/eviction)
    kind_gv: tuple[str, str] | None = None


class CallError(Exception):
    """The webhook could not be called or answered badly; its failure policy decides."""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    status: Obj  # response.status (may be empty)
    patch: list[Any] | None  # the decoded JSONPatch, None without one
    warnings: tuple[str, ...]


def _user_info(user: Any) -> Obj:
    info: Obj = {"username": user.name}
    if user.uid:
        info["uid"] = user.uid
    if user.groups:
        info["groups"] = list(user.groups)
    if user.extra:
        info["extra"] = {k: list(v) for k, v in user.extra}
    return info


def request_attributes(a: Attributes, uid: str = "") -> Obj:
    """The AdmissionRequest without its objects: what a review carries around them, and what CEL
    admission expressions see as `request`."""
    group, version = a.kind_gv or (a.group, a.version)
    gvk = {"group": group, "version": version, "kind": a.kind}
    gvr = {"group": a.group, "version": a.version, "resource": a.resource}
    request: Obj = {"uid": uid, "kind": gvk, "resource": gvr}
    if a.subresource:
        request["subResource"] = a.subresource
    request["requestKind"], request["requestResource"] = gvk, gvr
    if a.subresource:
        request["requestSubResource"] = a.subresource
    if a.name:
        request["name"] = a.name
    if a.namespace:
        request["namespace"] = a.namespace
    request["operation"] = a.operation
    request["userInfo"] = _user_info(a.user)
    request["dryRun"] = a.dry_run
    request["options"] = a.options
    return request


def request_body(a: Attributes, uid: str, version: str = "v1") -> bytes:
    """The AdmissionReview sent, in `version` (v1 or v1beta1: the same request either way)."""
    request = request_attributes(a, uid)
    request["object"] = a.obj
    request["oldObject"] = a.old
    return jsonutil.dumps({"kind": "AdmissionReview", "apiVersion": f"{GROUP}/{version}", "request": request})


def read_response(body: bytes, uid: str, mutating: bool, version: str = "v1") -> Verdict:
    """The verdict in a webhook's answer; CallError when it is not a valid AdmissionReview of
    `version`. A v1beta1 answer is read as kube reads it: its uid, apiVersion and kind are not
    checked, a patch is a JSONPatch whatever patchType says, and a validating webhook's is ignored."""
    try:
        review = jsonutil.loads(body)
    except ValueError as e:
        raise CallError(f"failed to call webhook: the response is not JSON: {e}") from None
    response = review.get("response") if isinstance(review, dict) else None
    if not isinstance(response, dict):
        raise CallError("received invalid webhook response: webhook response was absent")
    if version == "v1beta1":
        return _verdict(response, _patch(response.get("patch")) if mutating else None)
    if response.get("uid") != uid:
        raise CallError(
            f'received invalid webhook response: expected response.uid="{uid}", got "{response.get("uid") or ""}"'
        )
    if (review.get("apiVersion"), review.get("kind")) != (f"{GROUP}/v1", "AdmissionReview"):
        raise CallError(
            "received invalid webhook response: expected webhook response of admission.k8s.io/v1, "
            f"Kind=AdmissionReview, got {review.get('apiVersion') or ''}, Kind={review.get('kind') or ''}"
        )
    raw_patch, patch_type = response.get("patch"), response.get("patchType")
    patch = None
    if mutating:
        if raw_patch and patch_type is None:
            raise CallError(
                "received invalid webhook response: webhook returned response.patch but not response.patchType"
            )
        if not raw_patch and patch_type is not None:
            raise CallError(
                "received invalid webhook response: webhook returned response.patchType but not response.patch"
            )
        if raw_patch:
            if patch_type != "JSONPatch":
                raise CallError(f'unsupported patch type "{patch_type}"')
            patch = _patch(raw_patch)
    elif raw_patch:
        raise CallError("received invalid webhook response: validating webhook may not return response.patch")
    elif patch_type is not None:
        raise CallError(
            "received invalid webhook response: validating webhook may not return response.patchType"
        )
    return _verdict(response, patch)


def _patch(raw: Any) -> list[Any] | None:
    """A response's base64 JSONPatch, decoded; None when there is none."""
    if not raw:
        return None
    try:
        patch = jsonutil.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError, TypeError) as e:
        raise CallError(f"received undecodable patch in webhook response: {e}") from None
    if not isinstance(patch, list):
        raise CallError("received undecodable patch in webhook response: not a JSON array")
    return patch


def _verdict(response: Obj, patch: list[Any] | None) -> Verdict:
    status = response.get("status")
    warnings = response.get("warnings")
    return Verdict(
        allowed=response.get("allowed") is True,
        status=status if isinstance(status, dict) else {},
        patch=patch or None,
        warnings=tuple(str(w) for w in warnings) if isinstance(warnings, list) else (),
    )


def call_failed(hook_name: str, reason: str) -> ApiError:
    """kube's NewInternalError(ErrCallingWebhook): a webhook that failed closed."""
    message = f'failed calling webhook "{hook_name}": {reason}'
    return ApiError(
        500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]}
    )


def internal(message: str) -> ApiError:
    return ApiError(
        500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]}
    )


def denied(hook_name: str, a: Attributes, status: Obj) -> ApiError:
    """kube's ToStatusErr for a webhook's refusal."""
    given = status.get("code")
    code = given if isinstance(given, int) and given else 403
    reason = str(status.get("reason") or "")
    by = f'admission webhook "{hook_name}" denied the request'
    if status.get("message"):
        message = f"{by}: {status['message']}"
    elif reason:
        message = f"{by}: {reason}"
    else:
        message = f"{by} without explanation"
    name = a.name or "Unknown"
    details = status.get("details") if isinstance(status.get("details"), dict) else None
    if code == 500:
        details = details or {"causes": [{"message": message}]}
        return ApiError(code, reason or "InternalError", f"Internal error occurred: {message}", details)
    resource = f"{a.resource}.{a.group}" if a.group else a.resource
    details = details or {"name": name, "group": a.group, "kind": a.resource}
    return ApiError(code, reason or "Forbidden", f'{resource} "{name}" is forbidden: {message}', details)


def apply_patch(hook_name: str, obj: Obj | None, patch: list[Any]) -> Obj:
    """The object with a webhook's JSONPatch applied (a new dict; `obj` is left as it was)."""
    if obj is None:
        raise internal(
            f'admission webhook "{hook_name}" attempted to modify the object, which is not supported for this operation'
        )
    try:
        patched = json_patch(copy.deepcopy(obj), patch)
    except ApiError as e:
        raise internal(e.message) from None
    if not isinstance(patched, dict):
        raise internal(f'admission webhook "{hook_name}" patched the object into a non-object')
    return patched
