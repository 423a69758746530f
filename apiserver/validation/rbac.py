"""Validation of Role, ClusterRole, RoleBinding and ClusterRoleBinding as kube-apiserver words it
(pkg/apis/rbac/validation): names are path segments (`system:controller:x` is fine), every rule
has verbs and either resources with API groups or non-resource URLs (never both, and never in
a namespaced Role), a binding's roleRef names a Role or ClusterRole of the RBAC group and never
changes, and its subjects are of the three kinds with the fields each needs.
"""

from __future__ import annotations

from typing import Any

from api.errors import Cause, field_invalid, field_not_supported, field_required

GROUP = "rbac.authorization.k8s.io"


def is_path_segment_name(value: str) -> list[str]:
    """path.IsValidPathSegmentName."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _rules(obj: dict[str, Any], namespaced: bool) -> list[Cause]:
    causes: list[Cause] = []
    for i, rule in enumerate(_list(obj.get("rules"))):
        rule = rule if isinstance(rule, dict) else {}
        p = f"rules[{i}]"
        if not rule.get("verbs"):
            causes.append(field_required(f"{p}.verbs", "verbs must contain at least one value"))
        urls = _list(rule.get("nonResourceURLs"))
        if urls:
            if namespaced:
                causes.append(
                    field_invalid(
                        f"{p}.nonResourceURLs",
                        _go_list(urls),
                        "namespaced rules cannot apply to non-resource URLs",
                    )
                )
            if rule.get("apiGroups") or rule.get("resources"):
                causes.append(
                    field_invalid(
                        f"{p}.nonResourceURLs",
                        _go_list(urls),
                        "rules cannot apply to both regular resources and non-resource URLs",
                    )
                )
            continue
        if not rule.get("apiGroups"):
            causes.append(
                field_required(f"{p}.apiGroups", "resource rules must supply at least one api group")
            )
        if not rule.get("resources"):
            causes.append(
                field_required(f"{p}.resources", "resource rules must supply at least one resource")
            )
    return causes


def _go_list(values: list[Any]) -> str:
    return "[]string{" + ", ".join(f'"{v}"' for v in values) + "}"


def validate_role(obj: dict[str, Any]) -> list[Cause]:
    return _rules(obj, namespaced=True)


def validate_cluster_role(obj: dict[str, Any]) -> list[Cause]:
    causes = _rules(obj, namespaced=False)
    agg = obj.get("aggregationRule")
    if isinstance(agg, dict) and not agg.get("clusterRoleSelectors"):
        causes.append(
            field_required(
                "aggregationRule.clusterRoleSelectors",
                "at least one clusterRoleSelector required if aggregationRule is non-nil",
            )
        )
    return causes


def _binding(obj: dict[str, Any], kinds: list[str]) -> list[Cause]:
    causes: list[Cause] = []
    raw_ref = obj.get("roleRef")
    ref: dict[str, Any] = raw_ref if isinstance(raw_ref, dict) else {}
    if ref.get("apiGroup") != GROUP:
        causes.append(field_not_supported("roleRef.apiGroup", ref.get("apiGroup") or "", [GROUP]))
    if ref.get("kind") not in kinds:
        causes.append(field_not_supported("roleRef.kind", ref.get("kind") or "", kinds))
    if not ref.get("name"):
        causes.append(field_required("roleRef.name"))
    for i, s in enumerate(_list(obj.get("subjects"))):
        s = s if isinstance(s, dict) else {}
        p = f"subjects[{i}]"
        kind = s.get("kind")
        if not s.get("name"):
            causes.append(field_required(f"{p}.name"))
        if kind == "ServiceAccount":
            if s.get("apiGroup"):
                causes.append(field_not_supported(f"{p}.apiGroup", s["apiGroup"], [""]))
            if not s.get("namespace") and not (obj.get("metadata") or {}).get("namespace"):
                causes.append(field_required(f"{p}.namespace"))
        elif kind in ("User", "Group"):
            if s.get("apiGroup") != GROUP:
                causes.append(field_not_supported(f"{p}.apiGroup", s.get("apiGroup") or "", [GROUP]))
        else:
            causes.append(field_not_supported(f"{p}.kind", kind or "", ["ServiceAccount", "User", "Group"]))
    return causes


def validate_role_binding(obj: dict[str, Any]) -> list[Cause]:
    return _binding(obj, ["Role", "ClusterRole"])


def validate_cluster_role_binding(obj: dict[str, Any]) -> list[Cause]:
    return _binding(obj, ["ClusterRole"])


def validate_binding_update(obj: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    if obj.get("roleRef") != old.get("roleRef"):
        raw = obj.get("roleRef")
        ref = raw if isinstance(raw, dict) else {}
        shown = (
            f'rbac.RoleRef{{APIGroup:"{ref.get("apiGroup") or ""}", Kind:"{ref.get("kind") or ""}", '
            f'Name:"{ref.get("name") or ""}"}}'
        )
        return [
            {
                "reason": "FieldValueInvalid",
                "message": f"Invalid value: {shown}: cannot change roleRef",
                "field": "roleRef",
            }
        ]
    return []
