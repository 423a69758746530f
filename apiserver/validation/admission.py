"""Validation of MutatingWebhookConfiguration and ValidatingWebhookConfiguration
(admissionregistration.k8s.io/v1) as kube-apiserver words it (pkg/apis/admissionregistration/
validation and k8s.io/apiserver/pkg/util/webhook: ValidateWebhookURL, ValidateWebhookService).

- A webhook's name is fully qualified (a DNS subdomain of at least three segments) and unique in
  its configuration.
- Each rule names operations (CREATE, UPDATE, DELETE, CONNECT or `*` alone), apiGroups and
  apiVersions (`*` alone), resources (`*`, `*/*` alone, `pods/*`, `*/status`, as kube limits their
  mixing) and a scope of Cluster, Namespaced or `*`.
- failurePolicy Fail|Ignore, matchPolicy Exact|Equivalent, reinvocationPolicy Never|IfNeeded,
  timeoutSeconds 1-30, sideEffects required and None|NoneOnDryRun (v1 refuses Some and Unknown).
- clientConfig is exactly one of `url` (https, a host, no user, query or fragment) and `service`
  (name, namespace, a port 1-65535, a path of DNS-subdomain segments).
- admissionReviewVersions is required, without duplicates, each a DNS-1035 label, and must name
  v1 or v1beta1 (the first of them named is the version the webhook is sent).

- matchConditions: at most 64, each with a qualified name unique in the webhook and a CEL
  expression over object, oldObject and request that compiles (`apiserver.cel.admission`: an
  expression reading kube's `authorizer` library, or calling a Kubernetes CEL library function
  cel-python lacks, is refused naming it).

kubelite's own refusals: a rule naming the CONNECT operation or a subresource whose writes are not
offered to admission (serviceaccounts/token, namespaces/finalize, the connections), which would
never be called. pods/binding, pods/eviction and */scale are offered, as their body's kind
(`apiserver.subadmission`), and may be named. The rule and matchConditions
checks are shared with ValidatingAdmissionPolicy (`validation.admissionpolicy`). Updates are held
to the same rules: nothing stored was held to looser ones, so kube's update leniencies have no
counterpart. Pure functions over wire dicts; never raise on odd input.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from typing import Any

from api import names
from api.errors import (
    Cause,
    field_duplicates,
    field_forbidden,
    field_invalid,
    field_not_supported,
    field_required,
)
from api.jsonutil import as_object
from apiserver.cel.admission import match_condition_causes
from apiserver.validation.meta import validate_selector
from apiserver.validation.workloads import invalid_raw

Obj = dict[str, Any]

# kube's sets, listed sorted as sets.String.List() gives them in its messages
OPERATIONS = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"]
SCOPES = ["*", "Cluster", "Namespaced"]
FAILURE_POLICIES = ["Fail", "Ignore"]
MATCH_POLICIES = ["Equivalent", "Exact"]
SIDE_EFFECTS = ["None", "NoneOnDryRun"]
REINVOCATION_POLICIES = ["IfNeeded", "Never"]
REVIEW_VERSIONS = ["v1", "v1beta1"]  # the AdmissionReview versions kube-apiserver sends
_URL_FORM = "; desired format: https://host[/path]"


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def go_strings(values: list[Any]) -> str:
    """A []string as Go's %#v shows it in a field error."""
    return "[]string{" + ", ".join(f'"{v}"' for v in values) + "}"


def _fully_qualified(path: str, name: Any) -> list[Cause]:
    name = name if isinstance(name, str) else ""
    if not name:
        return [field_required(path)]
    errs = names.is_dns1123_subdomain(name)
    if errs:
        return [field_invalid(path, name, ",".join(errs))]
    if len(name.split(".")) < 3:
        return [
            field_invalid(path, name, "should be a domain with at least three segments separated by dots")
        ]
    return []


def _wildcard_alone(path: str, values: list[Any], what: str) -> list[Cause]:
    if len(values) > 1 and "*" in values:
        return [invalid_raw(path, go_strings(values), f"if '*' is present, must not specify other {what}")]
    return []


def _resources(path: str, resources: list[Any]) -> list[Cause]:
    """validateResources: a resource or resource/subresource each, with kube's limits on mixing
    `x/*`, `*/x`, `*/*` and `*` with the rest."""
    causes: list[Cause] = [] if resources else [field_required(path)]
    with_any_sub: set[str] = set()
    any_with_sub: set[str] = set()
    double = single = plain = False
    for i, entry in enumerate(resources):
        entry = entry if isinstance(entry, str) else ""
        if not entry:
            causes.append(field_required(f"{path}[{i}]"))
            continue
        double = double or entry == "*/*"
        single = single or entry == "*"
        res, slash, sub = entry.partition("/")
        if not slash:
            plain = entry != "*"  # as kube: the last plain entry decides
            continue
        if res in with_any_sub:
            causes.append(
                field_invalid(f"{path}[{i}]", entry, f"if '{res}/*' is present, must not specify {entry}")
            )
        if sub in any_with_sub:
            causes.append(
                field_invalid(f"{path}[{i}]", entry, f"if '*/{sub}' is present, must not specify {entry}")
            )
        if sub == "*":
            with_any_sub.add(res)
        if res == "*":
            any_with_sub.add(sub)
    shown = go_strings(resources)
    if len(resources) > 1 and double:
        causes.append(invalid_raw(path, shown, "if '*/*' is present, must not specify other resources"))
    if single and plain:
        causes.append(
            invalid_raw(
                path, shown, "if '*' is present, must not specify other resources without subresources"
            )
        )
    return causes


# subresources whose writes kubelite does not offer to admission (a TokenRequest, which is not
# stored; a namespace's finalize, written apart from the generic write path), so a rule naming one
# would never be called; binding, eviction and scale are offered (apiserver.subadmission)
NOT_OFFERED = frozenset({"finalize", "token"})
# subresources reached only by a connection: kube admits them as CONNECT, never as a CREATE or
# UPDATE, so a rule naming one without CONNECT (gatekeeper's names pods/exec for CREATE and
# UPDATE) matches nothing in kube either, and is kept
CONNECTIONS = frozenset({"attach", "exec", "portforward", "proxy"})


def _not_offered(path: str, operations: list[Any], resources: list[Any], to: str) -> list[Cause]:
    """kubelite's own refusal of a rule that names what it never offers to admission: the CONNECT
    operation, one of NOT_OFFERED by name, or one of CONNECTIONS under `*` operations (wildcard
    resources stay: they match what is offered)."""
    causes: list[Cause] = []
    if "CONNECT" in operations:
        causes.append(
            field_forbidden(
                f"{path}.operations",
                f"kubelite does not offer CONNECT (exec, attach, port-forward, proxy) to {to}",
            )
        )
    for i, entry in enumerate(resources):
        sub = entry.partition("/")[2] if isinstance(entry, str) else ""
        if sub in NOT_OFFERED:
            causes.append(
                field_forbidden(f"{path}.resources[{i}]", f"kubelite does not offer {entry} writes to {to}")
            )
        elif sub in CONNECTIONS and "*" in operations:
            causes.append(
                field_forbidden(
                    f"{path}.resources[{i}]", f"kubelite does not offer {entry} (CONNECT) to {to}"
                )
            )
    return causes


def rule_causes(path: str, rule: Obj, to: str = "admission webhooks") -> list[Cause]:
    """validateRuleWithOperations, and what kubelite never offers to admission (`to` says whom)."""
    operations = as_list(rule.get("operations"))
    causes: list[Cause] = [] if operations else [field_required(f"{path}.operations")]
    causes += _wildcard_alone(f"{path}.operations", operations, "operations")
    for i, op in enumerate(operations):
        if op not in OPERATIONS:
            causes.append(field_not_supported(f"{path}.operations[{i}]", op, OPERATIONS))
    groups, versions = as_list(rule.get("apiGroups")), as_list(rule.get("apiVersions"))
    if not groups:
        causes.append(field_required(f"{path}.apiGroups"))
    causes += _wildcard_alone(f"{path}.apiGroups", groups, "API groups")
    if not versions:
        causes.append(field_required(f"{path}.apiVersions"))
    causes += _wildcard_alone(f"{path}.apiVersions", versions, "API versions")
    causes += [field_required(f"{path}.apiVersions[{i}]") for i, v in enumerate(versions) if not v]
    causes += _resources(f"{path}.resources", as_list(rule.get("resources")))
    causes += _not_offered(path, operations, as_list(rule.get("resources")), to)
    scope = rule.get("scope")
    if scope is not None and scope not in SCOPES:
        causes.append(field_not_supported(f"{path}.scope", scope, SCOPES))
    return causes


def _url(path: str, url: str) -> list[Cause]:
    try:
        u = urllib.parse.urlsplit(url)
        host = u.netloc.rpartition("@")[2]
    except ValueError as e:
        return [field_required(path, f"url must be a valid URL: {e}{_URL_FORM}")]
    causes = []
    if u.scheme != "https":
        causes.append(field_invalid(path, u.scheme, "'https' is the only allowed URL scheme" + _URL_FORM))
    if not host:
        causes.append(field_invalid(path, host, "host must be provided" + _URL_FORM))
    if "@" in u.netloc:
        causes.append(
            field_invalid(path, u.netloc.rpartition("@")[0], "user information is not permitted in the URL")
        )
    if u.fragment:
        causes.append(field_invalid(path, u.fragment, "fragments are not permitted in the URL"))
    if u.query:
        causes.append(field_invalid(path, u.query, "query parameters are not permitted in the URL"))
    return causes


def _service(path: str, svc: Obj) -> list[Cause]:
    causes = []
    if not svc.get("name"):
        causes.append(field_required(f"{path}.name", "service name is required"))
    if not svc.get("namespace"):
        causes.append(field_required(f"{path}.namespace", "service namespace is required"))
    port = svc.get("port", 443)
    if errs := names.is_port_num(port):
        causes.append(field_invalid(f"{path}.port", port, "port is not valid: " + ", ".join(errs)))
    url_path = svc.get("path")
    if not isinstance(url_path, str) or url_path in ("", "/"):
        return causes
    if url_path == "//":
        return [*causes, field_invalid(f"{path}.path", url_path, "segment[0] may not be empty")]
    if not url_path.startswith("/"):
        causes.append(field_invalid(f"{path}.path", url_path, "must start with a '/'"))
    steps = url_path[1:].removesuffix("/").split("/")
    for i, step in enumerate(steps):
        if not step:
            causes.append(field_invalid(f"{path}.path", url_path, f"segment[{i}] may not be empty"))
            continue
        causes += [
            field_invalid(f"{path}.path", url_path, f"segment[{i}]: {m}")
            for m in names.is_dns1123_subdomain(step)
        ]
    return causes


def client_config_causes(path: str, cc: Obj) -> list[Cause]:
    """A webhook clientConfig's (kube's WebhookClientConfig, shared by CRD conversion webhooks)."""
    url, svc = cc.get("url"), cc.get("service")
    if (url is None) == (svc is None):
        return [field_required(path, "exactly one of url or service is required")]
    causes = _url(f"{path}.url", url) if isinstance(url, str) else _service(f"{path}.service", as_object(svc))
    bundle = cc.get("caBundle")
    if isinstance(bundle, str) and bundle:
        try:
            base64.b64decode(bundle, validate=True)
        except (binascii.Error, ValueError):
            causes.append(
                field_invalid(f"{path}.caBundle", "<bytes>", "must be base64-encoded PEM certificates")
            )
    return causes


def review_version_causes(path: str, versions: list[Any]) -> tuple[list[Cause], set[str]]:
    """A list of review versions' (admission or conversion): no duplicates, each a DNS-1035 label;
    and the versions it names."""
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, v in enumerate(versions):
        v = v if isinstance(v, str) else ""
        if v in seen:
            causes.append(field_invalid(f"{path}[{i}]", v, "duplicate version"))
            continue
        seen.add(v)
        causes += [field_invalid(f"{path}[{i}]", v, m) for m in names.is_dns1035_label(v)]
    return causes, seen


def _review_versions(path: str, versions: list[Any]) -> list[Cause]:
    if not versions:
        return [field_required(path, "must specify one of v1, v1beta1")]
    causes, seen = review_version_causes(path, versions)
    if not seen & set(REVIEW_VERSIONS):
        causes.append(
            invalid_raw(
                path, go_strings(versions), f"must include at least one of {', '.join(REVIEW_VERSIONS)}"
            )
        )
    return causes


def one_of(path: str, value: Any, allowed: list[str]) -> list[Cause]:
    return [field_not_supported(path, value, allowed)] if value is not None and value not in allowed else []


def _webhook(path: str, hook: Obj, mutating: bool) -> list[Cause]:
    causes = _fully_qualified(f"{path}.name", hook.get("name"))
    for i, rule in enumerate(as_list(hook.get("rules"))):
        causes += rule_causes(f"{path}.rules[{i}]", as_object(rule))
    causes += one_of(f"{path}.failurePolicy", hook.get("failurePolicy"), FAILURE_POLICIES)
    causes += one_of(f"{path}.matchPolicy", hook.get("matchPolicy"), MATCH_POLICIES)
    side_effects = hook.get("sideEffects")
    if side_effects is None:
        causes.append(field_required(f"{path}.sideEffects", "must specify one of None, NoneOnDryRun"))
    causes += one_of(f"{path}.sideEffects", side_effects, SIDE_EFFECTS)
    timeout = hook.get("timeoutSeconds")
    if isinstance(timeout, int) and not 1 <= timeout <= 30:
        causes.append(
            field_invalid(
                f"{path}.timeoutSeconds", timeout, "the timeout value must be between 1 and 30 seconds"
            )
        )
    for selector in ("namespaceSelector", "objectSelector"):
        causes += validate_selector(hook.get(selector), f"{path}.{selector}")
    if mutating:
        causes += one_of(f"{path}.reinvocationPolicy", hook.get("reinvocationPolicy"), REINVOCATION_POLICIES)
    causes += client_config_causes(f"{path}.clientConfig", as_object(hook.get("clientConfig")))
    causes += match_condition_causes(f"{path}.matchConditions", as_list(hook.get("matchConditions")))
    causes += _review_versions(
        f"{path}.admissionReviewVersions", as_list(hook.get("admissionReviewVersions"))
    )
    return causes


def _configuration(obj: Obj, mutating: bool) -> list[Cause]:
    hooks = [as_object(hook) for hook in as_list(obj.get("webhooks"))]
    causes = [c for i, hook in enumerate(hooks) for c in _webhook(f"webhooks[{i}]", hook, mutating)]
    return causes + field_duplicates(
        [(f"webhooks[{i}].name", hook.get("name")) for i, hook in enumerate(hooks)]
    )


def validate_mutating_configuration(obj: Obj) -> list[Cause]:
    return _configuration(obj, mutating=True)


def validate_validating_configuration(obj: Obj) -> list[Cause]:
    return _configuration(obj, mutating=False)
