"""`kubectl create role|clusterrole|rolebinding|clusterrolebinding NAME ...`: RBAC objects from flags.

A role is one rule per API group (groups sorted) over the `--resource` names, each resolved as
kubectl's create_role.go resolves it: `resource[.group][/subresource]` looked up through the
server's discovery (`discovery.resource_for`: short names, singular names and group prefixes,
so `deploy` is `deployments` in `apps`), an unknown one refused with the RESTMapper's words.
Its checks are kubectl's: a warning for a verb outside the standard ones, the special verbs
(`use`, `bind`, `escalate`, `impersonate`) only on their own resources, `*` ending the checks, a
clusterrole's non-resource URLs only with their verbs and a trailing `*`, an aggregation rule
alone. Bindings name a role or cluster role and their users, groups and `ns:name` service
accounts. Objects are built in Go's field order (`--save-config` records it).
"""

from __future__ import annotations

from typing import Any

from kubectl.env import CommandError, Env
from kubectl.flags import WRITE_FLAGS, FlagSpec, Help, Parsed, UsageError

RBAC = "rbac.authorization.k8s.io"
RBAC_V1 = f"{RBAC}/v1"
_ROLE: FlagSpec = {
    "verb": ("list", [], "", "A verb the rule allows (get, list, watch, create ... or *); may be repeated."),
    "resource": (
        "list",
        [],
        "",
        "A resource (plural[.group][/subresource]) the rule covers; may be repeated.",
    ),
    "resource-name": ("list", [], "", "Limit the rule to objects of this name; may be repeated."),
}
_CLUSTERROLE: FlagSpec = {
    **_ROLE,
    "non-resource-url": ("list", [], "", "A URL path (e.g. /healthz) the rule allows; may be repeated."),
    "aggregation-rule": (
        "list",
        [],
        "",
        "Labels (key=value) of the cluster roles whose rules this one gathers.",
    ),
}
_SUBJECTS: FlagSpec = {
    "user": ("list", [], "", "A user to grant the role to; may be repeated."),
    "group": ("list", [], "", "A group to grant the role to; may be repeated."),
    "serviceaccount": (
        "list",
        [],
        "",
        "A service account (namespace:name) to grant the role to; may be repeated.",
    ),
}
_OWN: dict[str, FlagSpec] = {
    "role": _ROLE,
    "clusterrole": _CLUSTERROLE,
    "rolebinding": {
        **_SUBJECTS,
        "role": ("str", "", "", "The role to grant."),
        "clusterrole": ("str", "", "", "The cluster role to grant."),
    },
    "clusterrolebinding": {**_SUBJECTS, "clusterrole": ("str", "", "", "The cluster role to grant.")},
}
FLAGS: dict[str, FlagSpec] = {"create": {**WRITE_FLAGS, **_CLUSTERROLE, **_OWN["rolebinding"]}}
HELP = {
    "create role": Help(
        summary="Create a role from one rule",
        usage="NAME --verb=verb --resource=resource.group/subresource [--resource-name=resourcename] "
        "[--dry-run=server|client|none]",
        examples="""
        # Read access to pods
        kubectl create role pod-reader --verb=get,list,watch --resource=pods

        # Only two named config maps
        kubectl create role conf-reader --verb=get --resource=configmaps --resource-name=web --resource-name=db

        # A subresource
        kubectl create role log-reader --verb=get --resource=pods/log
        """,
        flags=(*WRITE_FLAGS, *_OWN["role"]),
    ),
    "create clusterrole": Help(
        summary="Create a cluster-wide role from one or more rules",
        usage="NAME --verb=verb --resource=resource.group [--resource-name=resourcename] "
        "[--dry-run=server|client|none]",
        examples="""
        # Read access to nodes everywhere
        kubectl create clusterrole node-reader --verb=get,list,watch --resource=nodes

        # Health endpoints of the API server
        kubectl create clusterrole probe --verb=get --non-resource-url=/healthz --non-resource-url=/readyz

        # The rules of every cluster role labelled team=a
        kubectl create clusterrole team-a --aggregation-rule=team=a
        """,
        flags=(*WRITE_FLAGS, *_OWN["clusterrole"]),
    ),
    "create rolebinding": Help(
        summary="Grant a role or cluster role in one namespace",
        usage="NAME --clusterrole=NAME|--role=NAME [--user=username] [--group=groupname] "
        "[--serviceaccount=namespace:serviceaccountname] [--dry-run=server|client|none]",
        examples="""
        # A role to a user
        kubectl create rolebinding alice-reads --role=pod-reader --user=alice

        # The built-in view cluster role, in this namespace only, to a service account
        kubectl create rolebinding ci-view --clusterrole=view --serviceaccount=ci:builder
        """,
        flags=(*WRITE_FLAGS, *_OWN["rolebinding"]),
    ),
    "create clusterrolebinding": Help(
        summary="Grant a cluster role to users, groups or service accounts everywhere",
        usage="NAME --clusterrole=NAME [--user=username] [--group=groupname] "
        "[--serviceaccount=namespace:serviceaccountname] [--dry-run=server|client|none]",
        examples="""
        # Cluster admin to a group
        kubectl create clusterrolebinding ops-admin --clusterrole=cluster-admin --group=ops
        """,
        flags=(*WRITE_FLAGS, *_OWN["clusterrolebinding"]),
    ),
}
RESOURCE_VERBS = (
    *("*", "get", "delete", "list", "create", "update", "patch", "watch", "proxy"),
    *("deletecollection", "use", "bind", "escalate", "impersonate"),
)
NON_RESOURCE_VERBS = ("*", "get", "post", "put", "delete", "patch", "head", "options")
SPECIAL_VERBS: dict[str, tuple[tuple[str, str], ...]] = {  # verb -> (group, resource) it applies to
    "use": (("policy", "podsecuritypolicies"), ("extensions", "podsecuritypolicies")),
    "bind": ((RBAC, "roles"), (RBAC, "clusterroles")),
    "escalate": ((RBAC, "roles"), (RBAC, "clusterroles")),
    "impersonate": (
        ("", "users"),
        ("", "serviceaccounts"),
        ("", "groups"),
        ("authentication.k8s.io", "userextras"),
    ),
}
Resource = tuple[str, str, str]  # (resource, group, subresource) as given


def _slice(values: list[str]) -> list[str]:
    """A StringSlice flag's values: each occurrence split at commas."""
    return [v for value in values if value for v in value.split(",")]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def verbs_of(values: list[str]) -> list[str]:
    verbs = _unique(_slice(values))
    return ["*"] if "*" in verbs else verbs


def resources_of(values: list[str]) -> list[Resource]:
    out: list[Resource] = []
    for text in _slice(values):
        base, slash, sub = text.partition("/")
        resource, _, group = base.partition(".")
        if resource == "*" and not group and not slash:
            return [("*", "", "")]
        out.append((resource, group, sub))
    return out


def _no_match(resource: str, group: str) -> CommandError:
    where = f' in group "{group}"' if group else ""
    return CommandError(f'the server doesn\'t have a resource type "{resource}"{where}')


def check_resources(env: Env, verbs: list[str], resources: list[Resource]) -> None:
    from kubectl import discovery

    for resource, group, _ in resources:
        if not resource:
            raise CommandError("error: resource must be specified if apiGroup/subresource specified")
        if resource == "*":
            return  # kubectl checks nothing after a `*`
        found = discovery.resource_for(env, resource, group)
        g, plural = found or (group, resource)
        for verb in verbs:
            if verb in SPECIAL_VERBS and (g, plural) not in SPECIAL_VERBS[verb]:
                raise CommandError(f"error: can not perform '{verb}' on '{plural}' in group '{g}'")
        if found is None and not any(v in SPECIAL_VERBS for v in verbs):
            raise _no_match(resource, group)


def policy_rules(
    env: Env, verbs: list[str], resources: list[Resource], names: list[str], urls: list[str]
) -> list[dict[str, Any]]:
    from kubectl import discovery

    by_group: dict[str, list[str]] = {}
    for resource, group, sub in resources:
        found = discovery.resource_for(env, resource, group) if resource != "*" else None
        g, plural = found or (group, resource)
        name = f"{plural}/{sub}" if sub else plural
        if name not in by_group.setdefault(g, []):
            by_group[g].append(name)
    rules: list[dict[str, Any]] = []
    for g in sorted(by_group):
        rule: dict[str, Any] = {"verbs": verbs, "apiGroups": [g], "resources": by_group[g]}
        if names:
            rule["resourceNames"] = names
        rules.append(rule)
    if urls:
        rules.append({"verbs": verbs, "nonResourceURLs": urls})
    return rules


def _warn_verbs(env: Env, verbs: list[str]) -> None:
    for verb in verbs:
        if verb not in RESOURCE_VERBS:
            env.err.write(f"Warning: '{verb}' is not a standard resource verb\n")


def role_object(env: Env, name: str, p: Parsed) -> dict[str, Any]:
    verbs, resources = verbs_of(p["verb"]), resources_of(p["resource"])
    names = _unique(p["resource-name"])
    if not verbs:
        raise CommandError("error: at least one verb must be specified")
    _warn_verbs(env, verbs)
    if not resources:
        raise CommandError("error: at least one resource must be specified")
    check_resources(env, verbs, resources)
    meta = {"name": name, "creationTimestamp": None}
    rules = policy_rules(env, verbs, resources, names, [])
    return {"kind": "Role", "apiVersion": RBAC_V1, "metadata": meta, "rules": rules}


def aggregation_labels(values: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for value in values:
        for pair in value.split(","):
            key, eq, val = pair.partition("=")
            if not eq:
                raise UsageError(
                    f'invalid argument "{value}" for "--aggregation-rule" flag: malformed pair, expect string=string'
                )
            labels[key] = val
    return dict(sorted(labels.items()))


def cluster_role_object(env: Env, name: str, p: Parsed) -> dict[str, Any]:
    verbs, resources = verbs_of(p["verb"]), resources_of(p["resource"])
    names, urls = _unique(p["resource-name"]), _unique(_slice(p["non-resource-url"]))
    aggregation = aggregation_labels(p["aggregation-rule"])
    obj: dict[str, Any] = {"kind": "ClusterRole", "apiVersion": RBAC_V1}
    obj["metadata"] = {"name": name, "creationTimestamp": None}
    if aggregation:
        if urls or verbs or resources or names:
            raise CommandError(
                "error: aggregation rule must be specified without nonResourceURLs, verbs, resources or resourceNames"
            )
        obj["rules"] = None
        obj["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": aggregation}]}
        return obj
    if not verbs:
        raise CommandError("error: at least one verb must be specified")
    if not resources and not urls:
        raise CommandError("error: one of resource or nonResourceURL must be specified")
    if resources:
        _warn_verbs(env, verbs)
        check_resources(env, verbs, resources)
    for verb in verbs if urls else []:
        if verb not in NON_RESOURCE_VERBS:
            raise CommandError(f"error: invalid verb: '{verb}' for nonResourceURL")
    for url in urls:
        if url == "*":
            continue
        if not url.startswith("/"):
            raise CommandError("error: nonResourceURL should start with /")
        if "*" in url[:-1]:
            raise CommandError("error: nonResourceURL only supports wildcard matches when '*' is at the end")
    obj["rules"] = policy_rules(env, verbs, resources, names, urls)
    return obj


def subjects(users: list[str], groups: list[str], service_accounts: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"kind": "User", "apiGroup": RBAC, "name": u} for u in users]
    out += [{"kind": "Group", "apiGroup": RBAC, "name": g} for g in groups]
    for sa in service_accounts:
        parts = sa.split(":")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise CommandError("error: serviceaccount must be <namespace>:<name>")
        out.append({"kind": "ServiceAccount", "name": parts[1], "namespace": parts[0]})
    return out


def binding_object(
    kind: str, name: str, role_kind: str, role: str, users: list[str], p: Parsed
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "kind": kind,
        "apiVersion": RBAC_V1,
        "metadata": {"name": name, "creationTimestamp": None},
    }
    found = subjects(users, p["group"], p["serviceaccount"])
    if found:
        obj["subjects"] = found
    obj["roleRef"] = {"apiGroup": RBAC, "kind": role_kind, "name": role}
    return obj


def create(env: Env, p: Parsed) -> int:
    from kubectl.creating import create_generated, one_name, unknown_flags

    what = p.args[0]
    # a binding's --user (its subjects) shadows the global --user (the kubeconfig's), as in kubectl;
    # elsewhere --user is the global one
    users: list[str] = list(p.flags.get("user") or [])
    p.flags["user"] = None if what.endswith("binding") else (users[-1] if users else None)
    unknown_flags(p, [*WRITE_FLAGS, *_OWN[what]], what)
    if what == "clusterrolebinding" and "clusterrole" not in p.seen:
        raise CommandError('error: required flag(s) "clusterrole" not set')
    aggregation_labels(p["aggregation-rule"])  # a flag's parse error: before anything else
    name = one_name(p.args[1:], what)
    if what == "role":
        return create_generated(env, p, role_object(env, name, p), "roles")
    if what == "clusterrole":
        return create_generated(env, p, cluster_role_object(env, name, p), "clusterroles")
    if what == "rolebinding":
        if bool(p["role"]) == bool(p["clusterrole"]):
            raise CommandError("error: exactly one of clusterrole or role must be specified")
        kind, ref = ("Role", p["role"]) if p["role"] else ("ClusterRole", p["clusterrole"])
        obj = binding_object("RoleBinding", name, kind, ref, users, p)
        return create_generated(env, p, obj, "rolebindings", "failed to create rolebinding: ")
    obj = binding_object("ClusterRoleBinding", name, "ClusterRole", p["clusterrole"], users, p)
    return create_generated(env, p, obj, "clusterrolebindings", "failed to create clusterrolebinding: ")
