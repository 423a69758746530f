"""Roles, ClusterRoles and bindings, mirrored from the store and indexed for requests.

One watch covers the whole `rbac.authorization.k8s.io` prefix. Bindings are indexed by subject:
`("User", name)`, `("Group", name)` and `("ServiceAccount", "ns/name")`, cluster-wide for
ClusterRoleBindings and per namespace for RoleBindings, so `rules_for` touches only the
bindings that name this user, its groups or its service account.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from api import jsonutil
from apiserver.mirror import StoreMirror
from apiserver.storage.interface import Store

PREFIX = "/registry/rbac.authorization.k8s.io/"
SA_PREFIX = "system:serviceaccount:"
Obj = dict[str, Any]
SubjectKey = tuple[str, str]


def subject_keys(user: str, groups: tuple[str, ...]) -> list[SubjectKey]:
    keys = [("User", user), *(("Group", g) for g in groups)]
    if user.startswith(SA_PREFIX):
        ns, _, name = user[len(SA_PREFIX) :].partition(":")
        keys.append(("ServiceAccount", f"{ns}/{name}"))
    return keys


def _binding_subjects(binding: Obj, binding_ns: str) -> list[SubjectKey]:
    out: list[SubjectKey] = []
    for s in binding.get("subjects") or []:
        if not isinstance(s, dict):
            continue
        kind, name = s.get("kind"), s.get("name") or ""
        if kind == "ServiceAccount":
            out.append(("ServiceAccount", f"{s.get('namespace') or binding_ns}/{name}"))
        elif kind in ("User", "Group"):
            out.append((kind, name))
    return out


class RbacCache:
    def __init__(self, store: Store) -> None:
        self.roles: dict[tuple[str, str], Obj] = {}  # (ns, name)
        self.cluster_roles: dict[str, Obj] = {}
        self.bindings: dict[str, tuple[str, Obj]] = {}  # key -> (namespace or "", binding)
        # (namespace or "" for cluster bindings) -> subject -> binding keys
        self.by_subject: dict[str, dict[SubjectKey, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.mirror = StoreMirror(store, PREFIX, self.changed, self._clear)

    def _clear(self) -> None:
        self.roles.clear()
        self.cluster_roles.clear()
        self.bindings.clear()
        self.by_subject.clear()

    def changed(self, key: str, value: bytes | None) -> None:
        parts = key[len(PREFIX) :].split("/")
        plural = parts[0]
        obj = jsonutil.loads(value) if value is not None else None
        if plural == "clusterroles" and len(parts) == 2:
            if obj is None:
                self.cluster_roles.pop(parts[1], None)
            else:
                self.cluster_roles[parts[1]] = obj
        elif plural == "roles" and len(parts) == 3:
            if obj is None:
                self.roles.pop((parts[1], parts[2]), None)
            else:
                self.roles[(parts[1], parts[2])] = obj
        elif plural in ("rolebindings", "clusterrolebindings"):
            ns = parts[1] if plural == "rolebindings" and len(parts) == 3 else ""
            self._unindex(key)
            if obj is not None:
                self.bindings[key] = (ns, obj)
                for subject in _binding_subjects(obj, ns):
                    self.by_subject[ns][subject].add(key)

    def _unindex(self, key: str) -> None:
        old = self.bindings.pop(key, None)
        if old is None:
            return
        ns, obj = old
        for subject in _binding_subjects(obj, ns):
            keys = self.by_subject[ns].get(subject)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.by_subject[ns][subject]

    def _role_rules(self, ref: Any, ns: str) -> list[Obj]:
        if not isinstance(ref, dict):
            return []
        if ref.get("kind") == "ClusterRole":
            role = self.cluster_roles.get(ref.get("name") or "")
        elif ref.get("kind") == "Role" and ns:
            role = self.roles.get((ns, ref.get("name") or ""))
        else:
            role = None
        return [r for r in (role or {}).get("rules") or [] if isinstance(r, dict)]

    def rules_for(self, user: str, groups: tuple[str, ...], namespace: str) -> list[Obj]:
        """Every rule that applies to this user in `namespace` ("" for cluster-scoped requests)."""
        keys = subject_keys(user, groups)
        rules: list[Obj] = []
        for ns in ("", namespace) if namespace else ("",):
            index = self.by_subject.get(ns)
            if not index:
                continue
            seen: set[str] = set()
            for subject in keys:
                for bkey in index.get(subject, ()):
                    if bkey in seen:
                        continue
                    seen.add(bkey)
                    _, binding = self.bindings[bkey]
                    rules += self._role_rules(binding.get("roleRef"), ns)
        return rules
