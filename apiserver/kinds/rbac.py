"""Rows of Role, ClusterRole, RoleBinding and ClusterRoleBinding.

Every write reaches the server's RBAC cache at once (`RbacHooks.wrote`), so a binding made by
this server applies to the very next request. Admission refuses privilege escalation as kube's
RBAC storage does: a Role or ClusterRole may only grant what its author already has (or the
author holds `escalate` on it), and a binding may only point at a role whose rules the author
has (or the author holds `bind` on it). `system:masters` is exempt.
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError, forbidden
from apiserver.kinds import HookContext, Obj, WriteHooks, row
from apiserver.rbac.authorizer import SUPERUSER_GROUP
from apiserver.rbac.rules import Attributes, any_allows, covers
from apiserver.validation.rbac import (
    GROUP,
    is_path_segment_name,
    validate_binding_update,
    validate_cluster_role,
    validate_cluster_role_binding,
    validate_role,
    validate_role_binding,
)


class RbacHooks(WriteHooks):
    def wrote(self, ctx: HookContext, key: str, value: bytes | None) -> None:
        ctx.rbac.changed(key, value)


def _user_rules(state: Any, user: Any, namespace: str | None) -> list[Obj]:
    rules: list[Obj] = state.registry.rbac.rules_for(user.name, user.groups, namespace or "")
    return rules


def _has_verb(state: Any, user: Any, verb: str, resource: str, namespace: str | None, name: str) -> bool:
    a = Attributes(user.name, user.groups, verb, namespace or "", GROUP, resource, "", name)
    return any_allows(_user_rules(state, user, namespace), a)


def _escalation(kind: str, name: str, user: Any, why: str) -> ApiError:
    plural = kind.lower() + "s"
    return forbidden(
        f'{plural}.{GROUP} "{name}" is forbidden: user "{user.name}" (groups={list(user.groups)}) '
        f"is attempting to grant RBAC permissions not currently held:\n{why}"
    )


def _admit_role(plural: str) -> Any:
    def admit(state: Any, user: Any, namespace: str | None, obj: Obj) -> None:
        if SUPERUSER_GROUP in user.groups:
            return
        name = (obj.get("metadata") or {}).get("name") or ""
        if _has_verb(state, user, "escalate", plural, namespace, name):
            return
        owned = _user_rules(state, user, namespace)
        missing = [r for r in obj.get("rules") or [] if isinstance(r, dict) and not covers(owned, r)]
        if missing:
            raise _escalation(
                obj.get("kind") or "Role", name, user, "\n".join(_rule_text(r) for r in missing)
            )

    return admit


def _admit_binding(plural: str) -> Any:
    def admit(state: Any, user: Any, namespace: str | None, obj: Obj) -> None:
        if SUPERUSER_GROUP in user.groups:
            return
        raw = obj.get("roleRef")
        ref: Obj = raw if isinstance(raw, dict) else {}
        role_plural = "clusterroles" if ref.get("kind") == "ClusterRole" else "roles"
        if _has_verb(state, user, "bind", role_plural, namespace, ref.get("name") or ""):
            return
        cache = state.registry.rbac
        role = (
            cache.cluster_roles.get(ref.get("name") or "")
            if role_plural == "clusterroles"
            else cache.roles.get((namespace or "", ref.get("name") or ""))
        )
        owned = _user_rules(state, user, namespace)
        missing = [r for r in (role or {}).get("rules") or [] if isinstance(r, dict) and not covers(owned, r)]
        if missing:
            name = (obj.get("metadata") or {}).get("name") or ""
            raise _escalation(
                obj.get("kind") or "RoleBinding", name, user, "\n".join(_rule_text(r) for r in missing)
            )

    return admit


def _rule_text(rule: Obj) -> str:
    parts = []
    for key in ("apiGroups", "resources", "resourceNames", "nonResourceURLs", "verbs"):
        if rule.get(key):
            parts.append(f"{key}:[" + " ".join(f'"{v}"' for v in rule[key]) + "]")
    return "{" + " ".join(parts) + "}"


_hooks = RbacHooks()
row(
    "roles",
    GROUP,
    name_rule=is_path_segment_name,
    validate=validate_role,
    hooks=_hooks,
    admit=_admit_role("roles"),
)
row(
    "clusterroles",
    GROUP,
    name_rule=is_path_segment_name,
    validate=validate_cluster_role,
    hooks=_hooks,
    admit=_admit_role("clusterroles"),
)
row(
    "rolebindings",
    GROUP,
    name_rule=is_path_segment_name,
    validate=validate_role_binding,
    validate_update=validate_binding_update,
    hooks=_hooks,
    admit=_admit_binding("rolebindings"),
)
row(
    "clusterrolebindings",
    GROUP,
    name_rule=is_path_segment_name,
    validate=validate_cluster_role_binding,
    validate_update=validate_binding_update,
    hooks=_hooks,
    admit=_admit_binding("clusterrolebindings"),
)
