"""The parameter objects a policy is evaluated with for one binding and one request: kube's
CollectParams (k8s.io/apiserver/pkg/admission/plugin/policy/generic/policy_dispatcher.go).

- No paramKind, or a binding without paramRef: evaluated once, with `params` null.
- A paramKind no served resource has: the policy is misconfigured (`failed to find resource
  referenced by paramKind: '<group>/<version>, Kind=<kind>'`).
- For a namespaced paramKind the objects are looked up in paramRef.namespace, else the request's
  namespace; a request for a cluster-scoped object with neither is a misconfigured binding. A
  cluster-scoped paramKind with paramRef.namespace is one too.
- paramRef.name: that object (none when it does not exist); paramRef.selector: every object whose
  labels match, the policy evaluated once per object.
- None found: parameterNotFoundAction Deny makes it a misconfigured binding (`no params found for
  policy binding with `Deny` parameterNotFoundAction`); Allow lets the request through (the
  policy is evaluated zero times).

kube reads parameters from an informer; kubelite reads the store, so a parameter written just
before a request is already seen. Objects are given in the version the paramKind names (a custom
resource stored in another version is converted, by its CRD's conversion webhook if it has one)
and carry its apiVersion and kind.
"""

from __future__ import annotations

from typing import Any

from api import jsonutil
from api.resources import Resource, by_kind
from apiserver import logic
from apiserver.policies.configs import Binding, Policy

Obj = dict[str, Any]


class ConfigError(Exception):
    """A policy or binding that cannot be applied to the request; its failurePolicy decides."""


def param_resource(policy: Policy) -> Resource | None:
    """The resource of the policy's paramKind; None without one; ConfigError when none is served."""
    if policy.param_kind is None:
        return None
    api_version, kind = policy.param_kind
    res = by_kind(api_version, kind)
    if res is None:
        group, _, version = api_version.rpartition("/")
        raise ConfigError(
            f"failed to find resource referenced by paramKind: '{group}/{version}, Kind={kind}'"
        )
    return res


async def _objects(res: Resource, values: list[bytes], listed: bool) -> list[Obj]:
    objs = [jsonutil.loads(v) for v in await logic.served_values(res, values, listed)]
    for obj in objs:
        obj.setdefault("apiVersion", res.api_version)
        obj.setdefault("kind", res.kind)
    return objs


async def collect(store: Any, policy: Policy, binding: Binding, request_namespace: str) -> list[Obj | None]:
    """The parameter objects to evaluate the policy with (ConfigError when misconfigured)."""
    res = param_resource(policy)
    ref = binding.param_ref
    if res is None or ref is None:
        return [None]
    namespace: str | None = None
    if res.namespaced:
        namespace = ref.namespace or request_namespace
        if not namespace:
            raise ConfigError(
                "cannot use namespaced paramRef in policy binding that matches cluster-scoped resources"
            )
    elif ref.namespace:
        raise ConfigError("paramRef.namespace must not be provided for a cluster-scoped `paramKind`")
    if ref.name:
        kv = await store.get(res.storage_key(ref.name, namespace))
        found: list[Obj | None] = [*await _objects(res, [kv.value], False)] if kv is not None else []
    else:
        _, kvs = await store.list(res.storage_prefix(namespace))
        objs = await _objects(res, [kv.value for kv in kvs], True)
        found = [
            o
            for o in objs
            if ref.selector is None or ref.selector.matches((o.get("metadata") or {}).get("labels") or {})
        ]
    if not found and ref.deny_missing:
        raise ConfigError("no params found for policy binding with `Deny` parameterNotFoundAction")
    return found
