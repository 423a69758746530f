"""Just enough of Kubernetes' protobuf encoding to read what kubectl's generators send.

`kubectl create namespace|service|configmap|secret|serviceaccount|deployment|job|cronjob` (and
`priorityclass`, `poddisruptionbudget`; `kubectl drain`'s Eviction, or its DeleteOptions with
`--disable-eviction`) use typed clients that POST
`application/vnd.kubernetes.protobuf`: the magic `k8s\\0`, then a runtime.Unknown envelope
(typeMeta=1 {apiVersion=1, kind=2}, raw=2) whose `raw` is the object in the generated.proto
encoding of k8s.io/api. Field numbers below are those of that file for the fields the
generators fill; others are skipped. Zero values are dropped, as Go's `omitempty` would.
A Pod (`kubectl debug node/NAME`, `kubectl debug POD --copy-to`) is read whole, from the tables
of protobuf_pod, and strictly. Everything else answers JSON (the clients also accept it).
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from collections.abc import Callable
from typing import Any

from api.errors import ApiError, bad_request, unsupported_media_type
from api.jsonutil import format_time
from apiserver.handlers.protobuf_pod import (
    INLINE,
    KEEP,
    POINTER,
    QUANTITIES,
    SKIP,
    B,
    Field,
    N,
    S,
)
from apiserver.handlers.protobuf_pod import SCHEMAS as POD_SCHEMAS

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

# message -> field number -> (json name, type, repeated[, flag]); type is a scalar kind or a
# message name. The core/v1 Pod (and the meta/v1 types every kind carries) are in protobuf_pod,
# whose docstring says what POINTER and INLINE mean; the kinds kubectl's generators send are here.
_S, _I, _B = S, N, B
BASE64 = "base64"  # a Go []byte field: its JSON form is base64 text
_KIND_SCHEMAS: dict[str, dict[int, Field]] = {
    "Unknown": {1: ("typeMeta", "TypeMeta", False), 2: ("raw", "bytes", False)},
    "TypeMeta": {1: ("apiVersion", _S, False), 2: ("kind", _S, False)},
    "Namespace": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "NamespaceSpec", False)},
    "NamespaceSpec": {1: ("finalizers", _S, True)},
    "Service": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "ServiceSpec", False)},
    "ServiceSpec": {
        1: ("ports", "ServicePort", True),
        2: ("selector", "map", False),
        3: ("clusterIP", _S, False),
        4: ("type", _S, False),
        5: ("externalIPs", _S, True),
        7: ("sessionAffinity", _S, False),
        10: ("externalName", _S, False),
        11: ("externalTrafficPolicy", _S, False),
        17: ("ipFamilyPolicy", _S, False),
        18: ("clusterIPs", _S, True),
        19: ("ipFamilies", _S, True),
    },
    "ServicePort": {
        1: ("name", _S, False),
        2: ("protocol", _S, False),
        3: ("port", _I, False),
        4: ("targetPort", "IntOrString", False),
        5: ("nodePort", _I, False),
        6: ("appProtocol", _S, False),
    },
    # kubectl create configmap | secret | serviceaccount
    "ConfigMap": {
        1: ("metadata", "ObjectMeta", False),
        2: ("data", "map", False),
        3: ("binaryData", "bytesmap", False),
        4: ("immutable", _B, False),
    },
    "Secret": {
        1: ("metadata", "ObjectMeta", False),
        2: ("data", "bytesmap", False),
        3: ("type", _S, False),
        4: ("stringData", "map", False),
        5: ("immutable", _B, False),
    },
    "ServiceAccount": {
        1: ("metadata", "ObjectMeta", False),
        2: ("secrets", "ObjectReference", True),
        3: ("imagePullSecrets", "LocalObjectReference", True),
        4: ("automountServiceAccountToken", _B, False),
    },
    "ObjectReference": {
        1: ("kind", _S, False),
        2: ("namespace", _S, False),
        3: ("name", _S, False),
        4: ("uid", _S, False),
        5: ("apiVersion", _S, False),
    },
    # kubectl create deployment | job | cronjob: the pod template as the generators fill it
    "Deployment": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "DeploymentSpec", False)},
    "DeploymentSpec": {
        1: ("replicas", _I, False),
        2: ("selector", "LabelSelector", False, POINTER),
        3: ("template", "PodTemplateSpec", False),
        4: ("strategy", "DeploymentStrategy", False),
        5: ("minReadySeconds", _I, False),
        6: ("revisionHistoryLimit", _I, False),
        7: ("paused", _B, False),
        9: ("progressDeadlineSeconds", _I, False),
    },
    "DeploymentStrategy": {1: ("type", _S, False)},
    "Job": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "JobSpec", False)},
    "JobSpec": {
        1: ("parallelism", _I, False),
        2: ("completions", _I, False),
        3: ("activeDeadlineSeconds", _I, False),
        4: ("selector", "LabelSelector", False, POINTER),
        5: ("manualSelector", _B, False),
        6: ("template", "PodTemplateSpec", False),
        7: ("backoffLimit", _I, False),
        8: ("ttlSecondsAfterFinished", _I, False),
        9: ("completionMode", _S, False),
        10: ("suspend", _B, False),
    },
    "CronJob": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "CronJobSpec", False)},
    "CronJobSpec": {
        1: ("schedule", _S, False),
        2: ("startingDeadlineSeconds", _I, False),
        3: ("concurrencyPolicy", _S, False),
        4: ("suspend", _B, False),
        5: ("jobTemplate", "JobTemplateSpec", False),
        6: ("successfulJobsHistoryLimit", _I, False),
        7: ("failedJobsHistoryLimit", _I, False),
        8: ("timeZone", _S, False),
    },
    "JobTemplateSpec": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "JobSpec", False)},
    # kubectl create role|clusterrole|rolebinding|clusterrolebinding|token, auth can-i|whoami
    "Role": {1: ("metadata", "ObjectMeta", False), 2: ("rules", "PolicyRule", True)},
    "ClusterRole": {
        1: ("metadata", "ObjectMeta", False),
        2: ("rules", "PolicyRule", True),
        3: ("aggregationRule", "AggregationRule", False, POINTER),
    },
    "PolicyRule": {
        1: ("verbs", _S, True),
        2: ("apiGroups", _S, True),
        3: ("resources", _S, True),
        4: ("resourceNames", _S, True),
        5: ("nonResourceURLs", _S, True),
    },
    "AggregationRule": {1: ("clusterRoleSelectors", "LabelSelector", True)},
    "RoleBinding": {
        1: ("metadata", "ObjectMeta", False),
        2: ("subjects", "Subject", True),
        3: ("roleRef", "RoleRef", False),
    },
    "ClusterRoleBinding": {
        1: ("metadata", "ObjectMeta", False),
        2: ("subjects", "Subject", True),
        3: ("roleRef", "RoleRef", False),
    },
    "Subject": {
        1: ("kind", _S, False),
        2: ("apiGroup", _S, False),
        3: ("name", _S, False),
        4: ("namespace", _S, False),
    },
    "RoleRef": {1: ("apiGroup", _S, False), 2: ("kind", _S, False), 3: ("name", _S, False)},
    "TokenRequest": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "TokenRequestSpec", False)},
    "TokenRequestSpec": {
        1: ("audiences", _S, True),
        3: ("boundObjectRef", "BoundObjectReference", False, POINTER),
        4: ("expirationSeconds", _I, False),
    },
    "BoundObjectReference": {
        1: ("kind", _S, False),
        2: ("apiVersion", _S, False),
        3: ("name", _S, False),
        4: ("uid", _S, False),
    },
    "SelfSubjectAccessReview": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "SelfSubjectAccessReviewSpec", False),
    },
    "SelfSubjectAccessReviewSpec": {
        1: ("resourceAttributes", "ResourceAttributes", False, POINTER),
        2: ("nonResourceAttributes", "NonResourceAttributes", False, POINTER),
    },
    "ResourceAttributes": {
        1: ("namespace", _S, False),
        2: ("verb", _S, False),
        3: ("group", _S, False),
        4: ("version", _S, False),
        5: ("resource", _S, False),
        6: ("subresource", _S, False),
        7: ("name", _S, False),
    },
    "NonResourceAttributes": {1: ("path", _S, False), 2: ("verb", _S, False)},
    "SelfSubjectRulesReview": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "SelfSubjectRulesReviewSpec", False),
    },
    "SelfSubjectRulesReviewSpec": {1: ("namespace", _S, False)},
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta", False)},
    # kubectl create ingress (networking.k8s.io/v1); IngressRule.ingressRuleValue is inline in JSON
    "Ingress": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "IngressSpec", False)},
    "IngressSpec": {
        1: ("defaultBackend", "IngressBackend", False, POINTER),
        2: ("tls", "IngressTLS", True),
        3: ("rules", "IngressRule", True),
        4: ("ingressClassName", _S, False),
    },
    "IngressBackend": {
        3: ("resource", "TypedLocalObjectReference", False, POINTER),
        4: ("service", "IngressServiceBackend", False, POINTER),
    },
    "IngressServiceBackend": {1: ("name", _S, False), 2: ("port", "ServiceBackendPort", False)},
    "ServiceBackendPort": {1: ("name", _S, False), 2: ("number", _I, False)},
    "IngressTLS": {1: ("hosts", _S, True), 2: ("secretName", _S, False)},
    "IngressRule": {1: ("host", _S, False), 2: ("ingressRuleValue", "IngressRuleValue", False, INLINE)},
    "IngressRuleValue": {1: ("http", "HTTPIngressRuleValue", False, POINTER)},
    "HTTPIngressRuleValue": {1: ("paths", "HTTPIngressPath", True)},
    "HTTPIngressPath": {
        1: ("path", _S, False),
        2: ("backend", "IngressBackend", False),
        3: ("pathType", _S, False),
    },
    # kubectl autoscale: autoscaling/v2 (k8s.io/api/autoscaling/v2/generated.proto)
    "HorizontalPodAutoscaler": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "HorizontalPodAutoscalerSpec", False),
    },
    "HorizontalPodAutoscalerSpec": {
        1: ("scaleTargetRef", "CrossVersionObjectReference", False),
        2: ("minReplicas", _I, False),
        3: ("maxReplicas", _I, False),
        4: ("metrics", "MetricSpec", True),
    },
    "CrossVersionObjectReference": {
        1: ("kind", _S, False),
        2: ("name", _S, False),
        3: ("apiVersion", _S, False),
    },
    "MetricSpec": {1: ("type", _S, False), 4: ("resource", "ResourceMetricSource", False, POINTER)},
    "ResourceMetricSource": {1: ("name", _S, False), 2: ("target", "MetricTarget", False)},
    "MetricTarget": {1: ("type", _S, False), 4: ("averageUtilization", _I, False)},
    # kubectl 1.27-1.32 autoscale: autoscaling/v1 (k8s.io/api/autoscaling/v1/generated.proto)
    "AutoscalingV1HorizontalPodAutoscaler": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "AutoscalingV1HorizontalPodAutoscalerSpec", False),
    },
    "AutoscalingV1HorizontalPodAutoscalerSpec": {
        1: ("scaleTargetRef", "CrossVersionObjectReference", False),
        2: ("minReplicas", _I, False),
        3: ("maxReplicas", _I, False),
        4: ("targetCPUUtilizationPercentage", _I, False),
    },
    # kubectl create priorityclass (k8s.io/api/scheduling/v1/generated.proto)
    "PriorityClass": {
        1: ("metadata", "ObjectMeta", False),
        2: ("value", _I, False),
        3: ("globalDefault", _B, False),
        4: ("description", _S, False),
        5: ("preemptionPolicy", _S, False),
    },
    # kubectl create poddisruptionbudget, and the Eviction kubectl drain POSTs to pods/<name>/eviction
    # (k8s.io/api/policy/v1/generated.proto; DeleteOptions from apimachinery's meta/v1)
    "PodDisruptionBudget": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "PodDisruptionBudgetSpec", False),
    },
    "PodDisruptionBudgetSpec": {
        1: ("minAvailable", "IntOrString", False, POINTER),
        2: ("selector", "LabelSelector", False, POINTER),
        3: ("maxUnavailable", "IntOrString", False, POINTER),
        4: ("unhealthyPodEvictionPolicy", _S, False),
    },
    "Eviction": {1: ("metadata", "ObjectMeta", False), 2: ("deleteOptions", "DeleteOptions", False, POINTER)},
    "DeleteOptions": {
        1: ("gracePeriodSeconds", _I, False, POINTER),
        2: ("preconditions", "Preconditions", False, POINTER),
        3: ("orphanDependents", _B, False),
        4: ("propagationPolicy", _S, False),
        5: ("dryRun", _S, True),
        6: ("ignoreStoreReadErrorWithClusterBreakingPotential", _B, False, POINTER),
    },
    "Preconditions": {1: ("uid", _S, False), 2: ("resourceVersion", _S, False)},
    # kubectl certificate approve|deny PUTs the request it read to /approval (certificates/v1); the
    # spec's `extra` (map of ExtraValue) is not read: an /approval write keeps the stored spec
    "CertificateSigningRequest": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "CertificateSigningRequestSpec", False),
        3: ("status", "CertificateSigningRequestStatus", False),
    },
    "CertificateSigningRequestSpec": {
        1: ("request", BASE64, False),
        2: ("username", _S, False),
        3: ("uid", _S, False),
        4: ("groups", _S, True),
        5: ("usages", _S, True),
        7: ("signerName", _S, False),
        8: ("expirationSeconds", _I, False),
    },
    "CertificateSigningRequestStatus": {
        1: ("conditions", "CertificateSigningRequestCondition", True),
        2: ("certificate", BASE64, False),
    },
    "CertificateSigningRequestCondition": {
        1: ("type", _S, False),
        2: ("reason", _S, False),
        3: ("message", _S, False),
        4: ("lastUpdateTime", "Time", False),
        5: ("lastTransitionTime", "Time", False),
        6: ("status", _S, False),
    },
    # kubectl create quota (core/v1 ResourceQuota; a Quantity is a message of its string form)
    "ResourceQuota": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "ResourceQuotaSpec", False)},
    "ResourceQuotaSpec": {1: ("hard", QUANTITIES, False), 2: ("scopes", _S, True)},
}
SCHEMAS: dict[str, dict[int, Field]] = POD_SCHEMAS | _KIND_SCHEMAS


def _keeps_zero(name: str) -> frozenset[str]:
    """The JSON keys of `name` whose zero is a value: its POINTER and KEEP fields and those of
    the structs it inlines (an inlined VolumeSource's `emptyDir: {}` is the Volume's)."""
    keys: set[str] = set()
    for key, kind, _repeated, *flags in SCHEMAS[name].values():
        if INLINE in flags:
            keys |= _keeps_zero(kind)
        elif POINTER in flags or KEEP in flags:
            keys.add(key)
    return frozenset(keys)


# per message, the keys whose zero is a value (read once from the tables)
_KEEPS_ZERO: dict[str, frozenset[str]] = {name: _keeps_zero(name) for name in SCHEMAS}
KINDS = {
    "Namespace",
    "Service",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Deployment",
    "Job",
    "CronJob",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "TokenRequest",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SelfSubjectReview",
    "Ingress",
    "HorizontalPodAutoscaler",
    "PriorityClass",
    "PodDisruptionBudget",
    "Eviction",
    "DeleteOptions",  # a DELETE's body: `kubectl drain --disable-eviction` sends one per pod
    "CertificateSigningRequest",
    "ResourceQuota",
    "Pod",
}
# kinds read strictly: a field not in the tables that carries a value refuses the body (415, send
# JSON) instead of being dropped. kubectl sends a whole Pod for `debug --copy-to` (any field of the
# pod copied): dropping what is not decoded here would make a different pod than asked.
STRICT = {"Pod"}
# (apiVersion, kind) -> message, for a kind whose versions number their fields differently
VERSIONED = {("autoscaling/v1", "HorizontalPodAutoscaler"): "AutoscalingV1HorizontalPodAutoscaler"}


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if pos >= len(buf):
            raise bad_request("malformed protobuf: truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise bad_request("malformed protobuf: varint too long")


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, pos = _varint(buf, pos)
            out.append((num, val))
        elif wire == 2:
            n, pos = _varint(buf, pos)
            if pos + n > len(buf):
                raise bad_request("malformed protobuf: truncated field")
            out.append((num, buf[pos : pos + n]))
            pos += n
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
            if pos > len(buf):
                raise bad_request("malformed protobuf: truncated field")
        else:
            raise bad_request(f"malformed protobuf: wire type {wire}")
    return out


def _map_entry(buf: bytes, kind: str) -> tuple[str, str]:
    """One map<string, string> entry, map<string, bytes> (JSON: base64), or map<string, Quantity>
    (a message whose field 1 is the quantity's string)."""
    key, value = "", b""
    for num, raw in _fields(buf):
        if num == 1 and isinstance(raw, bytes):
            key = raw.decode("utf-8", "replace")
        elif num == 2 and isinstance(raw, bytes):
            value = raw
    if kind == "bytesmap":
        return key, base64.b64encode(value).decode()
    if kind == QUANTITIES:
        value = next((v for n, v in _fields(value) if n == 1 and isinstance(v, bytes)), b"")
    return key, value.decode("utf-8", "replace")


def _is_zero(raw: int | bytes, depth: int = 0) -> bool:
    """Whether an undecoded field holds only zero values (Go's protobuf writes every non-pointer
    field, empty or not): a number 0, empty bytes, or a message of such fields."""
    if isinstance(raw, int):
        return raw == 0
    if not raw:
        return True
    if depth > 20:
        return False
    try:
        return all(_is_zero(v, depth + 1) for _, v in _fields(raw))
    except ApiError:  # not a message: text or bytes with something in them
        return False


def _signed(value: int) -> int:
    """A varint as the signed int64 (or sign-extended int32) Go wrote."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _packed(buf: bytes) -> list[int]:
    """A packed repeated integer field's values (Go writes them unpacked, one field each, but a
    proto2 reader takes both)."""
    out, pos = [], 0
    while pos < len(buf):
        value, pos = _varint(buf, pos)
        out.append(_signed(value))
    return out


def _time(obj: dict[str, Any]) -> str:
    """meta/v1 Time: whole seconds since the epoch, as JSON's RFC 3339 ("" for the zero time)."""
    seconds = obj.get("seconds", 0)
    return format_time(_dt.datetime.fromtimestamp(seconds, _dt.UTC)) if seconds else ""


# messages whose JSON form is a scalar: their decoded fields -> that value
_SCALAR_MESSAGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "IntOrString": lambda o: o.get("strVal", "") if o.get("type") == 1 else o.get("intVal", 0),
    "Time": _time,
    "Quantity": lambda o: o.get("string", ""),
    "FieldsV1": lambda o: json.loads(o["Raw"]) if o.get("Raw") else {},
}


def _message(buf: bytes, name: str, depth: int = 0, strict: bool = False) -> Any:
    if depth > 20:
        raise bad_request("malformed protobuf: nested too deeply")
    schema = SCHEMAS[name]
    obj: dict[str, Any] = {}
    for num, raw in _fields(buf):
        spec = schema.get(num)
        if spec is None:
            if strict and not _is_zero(raw):
                raise unsupported_media_type(
                    f"{CONTENT_TYPE} ({name} field {num} is not decoded here; send JSON)"
                )
            continue
        key, kind, repeated = spec[:3]
        flags = spec[3:]
        value: Any
        if kind == SKIP:
            continue
        if kind == _S:
            value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        elif kind == _I:
            if repeated and isinstance(raw, bytes):
                obj.setdefault(key, []).extend(_packed(raw))
                continue
            value = _signed(raw) if isinstance(raw, int) else 0
        elif kind == "bytes":
            value = raw
        elif kind == BASE64:
            value = base64.b64encode(raw).decode() if isinstance(raw, bytes) else ""
        elif kind == _B:
            value = bool(raw) if isinstance(raw, int) else False
        elif kind in ("map", "bytesmap", QUANTITIES):
            entry = _map_entry(raw, kind) if isinstance(raw, bytes) else ("", "")
            obj.setdefault(key, {})[entry[0]] = entry[1]
            continue
        else:
            value = _message(raw, kind, depth + 1, strict) if isinstance(raw, bytes) else {}
            if INLINE in flags:  # a Go embedded struct: its fields are this message's in JSON
                obj.update(value)
                continue
            if kind == "Quantity" and value == "0" and POINTER not in flags:
                continue  # Go writes "0" for an unset Quantity (a downward API `divisor`)
        if repeated:
            obj.setdefault(key, []).append(value)
        else:
            obj[key] = value
    if name in _SCALAR_MESSAGES:
        return _SCALAR_MESSAGES[name](obj)
    # every key here came off the wire: a pointer's (or KEEP field's) zero is a value, any other
    # zero is unset (an empty non-pointer struct too, as Go reads a missing one)
    kept = _KEEPS_ZERO[name]
    return {k: v for k, v in obj.items() if v not in ("", 0, None, {}) or v is True or k in kept}


def decode(body: bytes) -> dict[str, Any]:
    """The JSON-shaped object a protobuf request body carries; 415 for kinds not understood here."""
    if not body.startswith(MAGIC):
        raise bad_request("the protobuf body does not start with the Kubernetes magic number")
    try:
        env = _message(body[len(MAGIC) :], "Unknown")
        tm = env.get("typeMeta") or {}
        kind = tm.get("kind", "")
        if kind not in KINDS:
            raise unsupported_media_type(f"{CONTENT_TYPE} (kind {kind or '?'}; send JSON)")
        message = VERSIONED.get((tm.get("apiVersion", ""), kind), kind)
        obj = _message(env.get("raw") or b"", message, strict=kind in STRICT)
    except ApiError:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError, OSError, OverflowError) as e:
        raise bad_request(f"malformed protobuf: {e}") from None
    return {"apiVersion": tm.get("apiVersion", "v1"), "kind": kind, **obj}
