"""Validation of ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding
(admissionregistration.k8s.io/v1) as kube-apiserver words it (pkg/apis/admissionregistration/
validation: validateValidatingAdmissionPolicySpec, validateValidatingAdmissionPolicyBindingSpec).

A policy:
- failurePolicy Fail|Ignore (defaulted, so Required only when sent as null);
- paramKind, when given: an apiVersion (group a DNS subdomain, version a DNS-1035 label) and a
  kind (a DNS-1035 label once lowercased);
- matchConstraints required, with at least one resourceRule; a MatchResources is a matchPolicy,
  both selectors (defaulted), resourceRules and excludeResourceRules (each a rule as webhooks
  have, plus resourceNames: path segments, no duplicates);
- matchConditions as webhooks have them (`validation.admission`), `params` in scope with a
  paramKind; variables each a CEL identifier with an expression that may read the variables
  declared before it;
- validations or auditAnnotations (at least one); a validation's expression, messageExpression
  (non-empty when given), message (non-empty when given, one line), reason Forbidden|Invalid|
  RequestEntityTooLarge; an audit annotation's key (`<policy name>/<key>` a qualified name, unique)
  and valueExpression (at most 5 KiB).

A binding: policyName (a DNS subdomain); paramRef with exactly one of name and selector and a
parameterNotFoundAction Deny|Allow; matchResources (kube names its errors `spec.matchResouces`,
sic); validationActions, at least one of Deny, Warn, Audit, no duplicates, not Deny with Warn.

Every expression must compile here (`apiserver.cel.admission`): kube's undeclared-reference
errors, and this server's refusal of the authorizer library and of Kubernetes CEL library
functions cel-python lacks, naming them. Updates are held to the same rules. Pure functions.
"""

from __future__ import annotations

import re
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
from apiserver.cel.admission import POLICY_EXPRESSION, expression_causes, match_condition_causes
from apiserver.validation.admission import (
    FAILURE_POLICIES,
    MATCH_POLICIES,
    as_list,
    rule_causes,
)
from apiserver.validation.meta import one_of, validate_selector
from apiserver.validation.rbac import is_path_segment_name
from apiserver.validation.workloads import invalid_raw

Obj = dict[str, Any]
REASONS = ["Forbidden", "Invalid", "RequestEntityTooLarge"]
ACTIONS = ["Audit", "Deny", "Warn"]
NOT_FOUND_ACTIONS = ["Deny", "Allow"]
MAX_AUDIT_ANNOTATIONS = 20
MAX_VALUE_EXPRESSION = 5 * 1024
OFFERED_TO = "admission policies"
_CEL_IDENT = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")
_CEL_RESERVED = frozenset(
    {
        *("true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function"),
        *("if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"),
    }
)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _param_kind(path: str, kind: Obj) -> list[Cause]:
    causes: list[Cause] = []
    api_version = _text(kind.get("apiVersion"))
    if not api_version:
        causes.append(field_required(f"{path}.apiVersion"))
    elif api_version.count("/") > 1:
        causes.append(
            field_invalid(f"{path}.apiVersion", api_version, f"unexpected GroupVersion string: {api_version}")
        )
    elif api_version != "/":
        group, _, version = api_version.rpartition("/")
        if group and (errs := names.is_dns1123_subdomain(group)):
            causes.append(field_invalid(f"{path}.apiVersion", group, ",".join(errs)))
        if not version:
            causes.append(field_invalid(f"{path}.apiVersion", api_version, "version must be specified"))
        elif errs := names.is_dns1035_label(version):
            causes.append(field_invalid(f"{path}.apiVersion", version, ",".join(errs)))
    kind_name = _text(kind.get("kind"))
    if not kind_name:
        causes.append(field_required(f"{path}.kind"))
    elif errs := names.is_dns1035_label(kind_name.lower()):
        causes.append(
            field_invalid(
                f"{path}.kind",
                kind_name,
                "may have mixed case, but should otherwise match: " + ",".join(errs),
            )
        )
    return causes


def _named_rule(path: str, rule: Obj) -> list[Cause]:
    at = [(f"{path}.resourceNames[{i}]", _text(n)) for i, n in enumerate(as_list(rule.get("resourceNames")))]
    causes = [field_invalid(p, name, m) for p, name in at for m in is_path_segment_name(name)]
    return causes + field_duplicates(at) + rule_causes(path, rule, OFFERED_TO)


def match_resources_causes(path: str, match: Any) -> list[Cause]:
    """validateMatchResources (nothing to check when absent)."""
    if not isinstance(match, dict):
        return []
    causes = one_of(f"{path}.matchPolicy", match.get("matchPolicy"), MATCH_POLICIES)
    for selector in ("namespaceSelector", "objectSelector"):
        if match.get(selector) is None:
            causes.append(field_required(f"{path}.{selector}"))
        else:
            causes += validate_selector(match.get(selector), f"{path}.{selector}")
    for key in ("resourceRules", "excludeResourceRules"):
        for i, rule in enumerate(as_list(match.get(key))):
            causes += _named_rule(f"{path}.{key}[{i}]", as_object(rule))
    return causes


def _variables(path: str, variables: list[Any], declared: tuple[str, ...]) -> tuple[list[Cause], list[str]]:
    causes: list[Cause] = []
    known: list[str] = []
    for i, variable in enumerate(variables):
        variable, at = as_object(variable), f"{path}[{i}]"
        name, text = _text(variable.get("name")), _text(variable.get("expression"))
        if not name.strip():
            causes.append(field_required(f"{at}.name", "name is not specified"))
        elif not _CEL_IDENT.match(name) or name in _CEL_RESERVED:
            causes.append(field_invalid(f"{at}.name", name, "name is not a valid CEL identifier"))
        if not text.strip():
            causes.append(field_required(f"{at}.expression", "expression is not specified"))
        else:
            causes += expression_causes(f"{at}.expression", text, declared, known)
        known.append(name)
    return causes, known


def _validation(path: str, v: Obj, declared: tuple[str, ...], variables: list[str]) -> list[Cause]:
    text, message_expression = _text(v.get("expression")), _text(v.get("messageExpression"))
    message = _text(v.get("message"))
    if not text.strip():
        causes = [field_required(f"{path}.expression", "expression is not specified")]
    else:
        causes = expression_causes(f"{path}.expression", text, declared, variables)
    if message_expression and not message_expression.strip():
        causes.append(
            field_invalid(f"{path}.messageExpression", message_expression, "must be non-empty if specified")
        )
    elif message_expression:
        causes += expression_causes(f"{path}.messageExpression", message_expression, declared, variables)
    if message and not message.strip():
        causes.append(field_invalid(f"{path}.message", message, "message must be non-empty if specified"))
    elif re.search(r"[\n\r]", message.strip()):
        causes.append(field_invalid(f"{path}.message", message, "message must not contain line breaks"))
    reason = v.get("reason")
    if reason is not None and reason not in REASONS:
        causes.append(field_not_supported(f"{path}.reason", reason, REASONS))
    return causes


def _audit_annotations(
    path: str, policy: str, annotations: list[Any], declared: tuple[str, ...], variables: list[str]
) -> list[Cause]:
    causes: list[Cause] = []
    if len(annotations) > MAX_AUDIT_ANNOTATIONS:
        causes.append(
            invalid_raw(
                path,
                f"<{len(annotations)} items>",
                f"must not have more than {MAX_AUDIT_ANNOTATIONS} auditAnnotations",
            )
        )
    for i, annotation in enumerate(annotations):
        annotation, at = as_object(annotation), f"{path}[{i}]"
        key, text = _text(annotation.get("key")), _text(annotation.get("valueExpression")).strip()
        if policy:
            full = f"{policy}/{key}"
            causes += [field_invalid(f"{at}.key", full, m) for m in names.is_qualified_name(full)]
        else:
            causes.append(field_invalid(f"{at}.key", key, "requires metadata.name be non-empty"))
        if not text:
            causes.append(field_required(f"{at}.valueExpression", "valueExpression is not specified"))
        elif len(text) > MAX_VALUE_EXPRESSION:
            causes.append(
                field_required(
                    f"{at}.valueExpression", f"must not exceed {MAX_VALUE_EXPRESSION} bytes in length"
                )
            )
        else:
            causes += expression_causes(f"{at}.valueExpression", text, declared, variables)
    return causes + field_duplicates(
        [(f"{path}[{i}].key", as_object(a).get("key")) for i, a in enumerate(annotations)]
    )


def validate_policy(obj: Obj) -> list[Cause]:
    spec = as_object(obj.get("spec"))
    causes = one_of("spec.failurePolicy", spec.get("failurePolicy"), FAILURE_POLICIES)
    declared: tuple[str, ...] = POLICY_EXPRESSION
    if spec.get("paramKind") is not None:
        causes += _param_kind("spec.paramKind", as_object(spec.get("paramKind")))
        declared = (*declared, "params")
    constraints = spec.get("matchConstraints")
    if not isinstance(constraints, dict):
        causes.append(field_required("spec.matchConstraints"))
    else:
        causes += match_resources_causes("spec.matchConstraints", constraints)
        if not as_list(constraints.get("resourceRules")):
            causes.append(field_required("spec.matchConstraints.resourceRules"))
    conditions_declared = tuple(n for n in declared if n != "variables")
    causes += match_condition_causes(
        "spec.matchConditions", as_list(spec.get("matchConditions")), conditions_declared
    )
    more, variables = _variables("spec.variables", as_list(spec.get("variables")), declared)
    causes += more
    validations, annotations = as_list(spec.get("validations")), as_list(spec.get("auditAnnotations"))
    if not validations and not annotations:
        detail = "validations or auditAnnotations must contain at least one item"
        return [
            *causes,
            field_required("spec.validations", detail),
            field_required("spec.auditAnnotations", detail),
        ]
    for i, v in enumerate(validations):
        causes += _validation(f"spec.validations[{i}]", as_object(v), declared, variables)
    name = _text(as_object(obj.get("metadata")).get("name"))
    return causes + _audit_annotations("spec.auditAnnotations", name, annotations, declared, variables)


def validate_policy_status(new: Obj, old: Obj) -> list[Cause]:
    """validateValidatingAdmissionPolicyStatus: each typeChecking warning names its field and says
    something."""
    status = as_object(new.get("status"))
    warnings = as_list(as_object(status.get("typeChecking")).get("expressionWarnings"))
    causes: list[Cause] = []
    for i, warning in enumerate(warnings):
        warning, at = as_object(warning), f"status.typeChecking.expressionWarnings[{i}]"
        if not warning.get("warning"):
            causes.append(field_required(f"{at}.warning"))
        if not _text(warning.get("fieldRef")).strip():
            causes.append(field_required(f"{at}.fieldRef"))
    return causes


def _param_ref(path: str, ref: Any) -> list[Cause]:
    if not isinstance(ref, dict):
        return []
    causes: list[Cause] = []
    name, selector = _text(ref.get("name")), ref.get("selector")
    exclusive = "name and selector are mutually exclusive"
    if name:
        causes += [field_invalid(f"{path}.name", name, m) for m in is_path_segment_name(name)]
        if selector is not None:
            causes.append(field_forbidden(f"{path}.name", exclusive))
    if selector is not None:
        causes += validate_selector(selector, f"{path}.selector")
        if name:
            causes.append(field_forbidden(f"{path}.selector", exclusive))
    if not name and selector is None:
        causes.append(field_required(path, "one of name or selector must be specified"))
    action = ref.get("parameterNotFoundAction")
    if not action:
        causes.append(field_required(f"{path}.parameterNotFoundAction"))
    elif action not in NOT_FOUND_ACTIONS:
        causes.append(field_not_supported(f"{path}.parameterNotFoundAction", action, NOT_FOUND_ACTIONS))
    return causes


def _actions(path: str, actions: list[Any]) -> list[Cause]:
    at = [(f"{path}[{i}]", action) for i, action in enumerate(actions)]
    causes = [field_not_supported(p, a, ACTIONS) for p, a in at if a not in ACTIONS] + field_duplicates(at)
    if {"Deny", "Warn"} <= {str(a) for a in actions}:
        shown = "[]admissionregistration.ValidationAction{" + ", ".join(f'"{a}"' for a in actions) + "}"
        why = (
            "must not contain both Deny and Warn (repeating the same validation failure information in "
            "the API response and headers serves no purpose)"
        )
        causes.append(invalid_raw(path, shown, why))
    if not actions:
        causes.append(field_required(path, "at least one validation action is required"))
    return causes


def validate_binding(obj: Obj) -> list[Cause]:
    spec = as_object(obj.get("spec"))
    policy = _text(spec.get("policyName"))
    if not policy:
        causes = [field_required("spec.policyName")]
    else:
        causes = [field_invalid("spec.policyName", policy, m) for m in names.is_dns1123_subdomain(policy)]
    causes += _param_ref("spec.paramRef", spec.get("paramRef"))
    causes += match_resources_causes("spec.matchResouces", spec.get("matchResources"))  # sic, as kube
    return causes + _actions("spec.validationActions", as_list(spec.get("validationActions")))
