"""The authorization decision for a request, and the 403 kube-apiserver answers when it is no.

`system:masters` is allowed everything without looking (kube's privileged group); nodes are
judged by the node authorizer (`apiserver.auth`, `apiserver.nodegraph`) before this; everyone
else needs a rule from a binding that names their user, a group or their service account.

The verb of a request is kube's: `get`/`list`/`watch`, `create`, `update`, `patch`, `delete`,
`deletecollection`; exec, attach and port-forward upgrades are `create` on the subresource (what
kube-apiserver asks since websocket exec became the default). A `proxy` request is asked as kube's
RequestInfo names any method: GET and HEAD `get`, POST `create`, PUT `update`, PATCH `patch`,
DELETE `delete`, anything else (OPTIONS) the empty verb, which only a `*` rule grants.
"""

from __future__ import annotations

from api.errors import ApiError, forbidden
from apiserver.rbac.cache import RbacCache
from apiserver.rbac.rules import Attributes, any_allows

SUPERUSER_GROUP = "system:masters"
CONNECT_SUBRESOURCES = frozenset({"exec", "attach", "portforward"})
_VERB = {
    ("GET", False): "list",
    ("GET", True): "get",
    ("HEAD", True): "get",
    ("POST", False): "create",
    ("POST", True): "create",
    ("PUT", True): "update",
    ("PATCH", True): "patch",
    ("DELETE", True): "delete",
    ("DELETE", False): "deletecollection",
}


def request_verb(method: str, named: bool, watch: bool, subresource: str | None) -> str:
    if subresource in CONNECT_SUBRESOURCES:
        return "create"
    if subresource == "proxy":
        return _VERB.get((method, True), "")
    verb = _VERB.get((method, named), method.lower())
    return "watch" if verb == "list" and watch else verb


class Authorizer:
    def __init__(self, cache: RbacCache) -> None:
        self.cache = cache

    def allowed(self, a: Attributes) -> bool:
        if SUPERUSER_GROUP in a.groups:
            return True
        return any_allows(
            self.cache.rules_for(a.user, a.groups, a.namespace if a.resource_request else ""), a
        )

    def check(self, a: Attributes) -> None:
        if not self.allowed(a):
            raise forbidden_error(a)


def forbidden_error(a: Attributes, reason: str = "") -> ApiError:
    """kube's wording (responsewriters.Forbidden): `pods "x" is forbidden: User "u" cannot get
    resource "pods/log" in API group "" in the namespace "ns"`, or `forbidden: User "u" cannot get
    path "/apis"`; the subject and details name the resource without its subresource. Every 403
    of an authorizer is made here, the Node authorizer's with its `reason` after a colon."""
    suffix = f": {reason}" if reason else ""
    if not a.resource_request:
        err = forbidden(f'forbidden: User "{a.user}" cannot {a.verb} path "{a.path}"{suffix}')
        err.details = {}
        return err
    what = f"{a.resource}/{a.subresource}" if a.subresource else a.resource
    qualified = f"{a.resource}.{a.api_group}" if a.api_group else a.resource
    subject = f'{qualified} "{a.name}"' if a.name else qualified
    where = f'in the namespace "{a.namespace}"' if a.namespace else "at the cluster scope"
    err = forbidden(
        f'{subject} is forbidden: User "{a.user}" cannot {a.verb} resource "{what}" in API group '
        f'"{a.api_group}" {where}{suffix}'
    )
    details: dict[str, str] = {}
    if a.name:
        details["name"] = a.name
    if a.api_group:
        details["group"] = a.api_group
    details["kind"] = a.resource
    err.details = details
    return err
