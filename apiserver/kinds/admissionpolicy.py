"""Rows of ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding
(admissionregistration.k8s.io/v1, GA in 1.30): CEL policies the API server evaluates itself on
writes (`apiserver/policies`).

kube's strategies (pkg/registry/admissionregistration/validatingadmissionpolicy{,binding}):

- Defaulting is v1's SetObjectDefaults: a policy's failurePolicy Fail; a MatchResources (the
  policy's matchConstraints, a binding's matchResources, when present) gets matchPolicy
  Equivalent and `{}` selectors, each of its rules the scope `*`.
- Generation starts at 1 and counts spec changes, for both kinds. A policy's status is written
  only through /status; kube's type-checking controller then records the generation it checked
  (`status.observedGeneration`, `status.typeChecking`). kubelite type-checks nothing beyond the
  write-time compile, so it records the new generation at the write itself, with no warnings.
- Creating or changing a policy's paramKind needs `get` on every object of that kind, and a
  binding's paramRef `get` on the object it names (kube's authorizeCreate/authorizeUpdate); a
  user without it is refused with kube's `spec.paramKind`/`spec.paramRef` Forbidden error.
  `system:masters` is exempt.

The registry's policy mirror is fed this server's own writes at once (`wrote`), so a request right
after a binding is created is already held to it.
"""

from __future__ import annotations

from typing import Any

from api.errors import field_forbidden, invalid
from api.jsonutil import as_object
from api.resources import by_kind
from apiserver.kinds import HookContext, Obj, WriteHooks, row
from apiserver.rbac.authorizer import SUPERUSER_GROUP
from apiserver.rbac.rules import Attributes
from apiserver.validation.admissionpolicy import validate_binding, validate_policy, validate_policy_status

GROUP = "admissionregistration.k8s.io"


class _Mirrored(WriteHooks):
    def wrote(self, ctx: HookContext, key: str, value: bytes | None) -> None:
        ctx.policies.note(key, value)


def _match_defaults(match: Any) -> None:
    if not isinstance(match, dict):
        return
    match.setdefault("matchPolicy", "Equivalent")
    for selector in ("namespaceSelector", "objectSelector"):
        if match.get(selector) is None:
            match[selector] = {}
    for key in ("resourceRules", "excludeResourceRules"):
        for rule in match.get(key) or []:
            if isinstance(rule, dict) and rule.get("scope") is None:
                rule["scope"] = "*"


def _policy_defaults(obj: Obj) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        spec.setdefault("failurePolicy", "Fail")
        _match_defaults(spec.get("matchConstraints"))


def _binding_defaults(obj: Obj) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        _match_defaults(spec.get("matchResources"))


def _observed(obj: Obj, generation: int, status: Any) -> None:
    kept = status if isinstance(status, dict) else {}
    obj["status"] = {**kept, "observedGeneration": generation, "typeChecking": kept.get("typeChecking") or {}}


def _policy_created(obj: Obj) -> None:
    _observed(obj, 1, None)


def _policy_updated(new: Obj, old: Obj) -> None:
    generation = int((old.get("metadata") or {}).get("generation") or 1)
    _observed(new, generation + 1 if new.get("spec") != old.get("spec") else generation, old.get("status"))


def _go_user(user: Any) -> str:
    """A user as kube's `%v` of a *user.DefaultInfo shows it."""
    extra = " ".join(f"{k}:[{' '.join(v)}]" for k, v in user.extra)
    return f"&{{{user.name} {user.uid} [{' '.join(user.groups)}] map[{extra}]}}"


def _param_resource(kind: Any) -> tuple[str, str]:
    """(group, resource) of a paramKind, `*` for what cannot be resolved (kube's defaults)."""
    if not isinstance(kind, dict) or not isinstance(kind.get("apiVersion"), str):
        return "*", "*"
    api_version = kind["apiVersion"]
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    res = by_kind(api_version, str(kind.get("kind") or ""))
    return group, res.plural if res is not None else "*"


def _refuse_unless(state: Any, user: Any, a: Attributes, kind: str, obj: Obj, field: str, why: str) -> None:
    if state.authorizer is None or SUPERUSER_GROUP in user.groups or state.authorizer.allowed(a):
        return
    name = str((obj.get("metadata") or {}).get("name") or "")
    raise invalid(kind, name, [field_forbidden(field, why)], GROUP)


def _admit_policy(state: Any, user: Any, namespace: str | None, obj: Obj) -> None:
    kind = as_object(obj.get("spec")).get("paramKind")
    if not isinstance(kind, dict):
        return
    group, resource = _param_resource(kind)
    a = Attributes(user.name, user.groups, "get", "*", group, resource, "", "*")
    why = (
        f'user {_go_user(user)} must have "get" permission on all objects of the referenced paramKind '
        f"(kind={kind.get('kind')}, apiVersion={kind.get('apiVersion')})"
    )
    _refuse_unless(state, user, a, "ValidatingAdmissionPolicy", obj, "spec.paramKind", why)


def _admit_binding(state: Any, user: Any, namespace: str | None, obj: Obj) -> None:
    spec = as_object(obj.get("spec"))
    ref = spec.get("paramRef")
    if not isinstance(ref, dict):
        return
    policy = state.registry.policies.policy(str(spec.get("policyName") or ""))
    kind = policy.param_kind if policy is not None else None
    group, resource = _param_resource({"apiVersion": kind[0], "kind": kind[1]} if kind else None)
    a = Attributes(
        user.name,
        user.groups,
        "get",
        str(ref.get("namespace") or ""),
        group,
        resource,
        "",
        str(ref.get("name") or ""),
    )
    why = f'user {_go_user(user)} does not have "get" permission on the object referenced by paramRef'
    _refuse_unless(state, user, a, "ValidatingAdmissionPolicyBinding", obj, "spec.paramRef", why)


row(
    "validatingadmissionpolicies",
    GROUP,
    status_separate=True,
    generation=True,
    defaults=_policy_defaults,
    prepare_create=_policy_created,
    prepare_update=_policy_updated,
    validate=validate_policy,
    validate_status=validate_policy_status,
    admit=_admit_policy,
    hooks=_Mirrored(),
)
row(
    "validatingadmissionpolicybindings",
    GROUP,
    generation=True,
    defaults=_binding_defaults,
    validate=validate_binding,
    admit=_admit_binding,
    hooks=_Mirrored(),
)
