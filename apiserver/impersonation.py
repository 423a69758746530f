"""Impersonation: a request that carries `Impersonate-*` headers acts as another identity.

As kube-apiserver's WithImpersonation filter, after authentication: `Impersonate-User` (a user
name, or `system:serviceaccount:<ns>:<name>`), `Impersonate-Group` (repeated), `Impersonate-Uid`
and `Impersonate-Extra-<key>` (repeated per value; the key lowercased, then %-decoded) each need
the requester to be allowed the verb `impersonate` on what they name:

    users <name>, groups <name>                         core group, cluster scope
    serviceaccounts <name> in <ns>                      core group, in the account's namespace
    uids <uid>, userextras/<key> <value>                authentication.k8s.io, cluster scope

The first refusal answers kube's 403 (`users "jane" is forbidden: User "bob" cannot impersonate
resource "users" in API group "" at the cluster scope`); groups, uid or extras without a user are
kube's 500. The new identity: a service account gets its fixed groups when none were asked for;
a named user gets `system:authenticated` unless `system:authenticated` or
`system:unauthenticated` is among its groups (`system:anonymous` gets `system:unauthenticated`).

`wanted` is the only cost of a request without these headers (three dict lookups); `act_as` is
pure over the raw header list (repeated headers kept) and an `allowed(Attributes)` callable.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from urllib.parse import unquote

from api.errors import internal
from api.kubeletcerts import node_of_user
from apiserver.auth import User
from apiserver.rbac.authorizer import forbidden_error
from apiserver.rbac.rules import Attributes
from apiserver.satokens import SA_PREFIX

PREFIX = b"impersonate-"
USER = b"impersonate-user"
GROUP = b"impersonate-group"
UID = b"impersonate-uid"
EXTRA = b"impersonate-extra-"
AUTHN_GROUP = "authentication.k8s.io"
AUTHENTICATED, UNAUTHENTICATED, ANONYMOUS = (
    "system:authenticated",
    "system:unauthenticated",
    "system:anonymous",
)

Headers = Iterable[tuple[bytes, bytes]]


def wanted(headers: Container[bytes]) -> bool:
    """Does the request ask for impersonation? Three lookups in the header dict (ASGI names are
    lowercase; 0.1 us where a scan for the Impersonate-Extra- prefix costs 2 us): extras come with
    a user from every client, and extras alone, which kube answers 500, change nothing here."""
    return USER in headers or GROUP in headers or UID in headers


def service_account(name: str) -> tuple[str, str] | None:
    """(namespace, name) of a `system:serviceaccount:<ns>:<name>` user name; None for another user."""
    if not name.startswith(SA_PREFIX):
        return None
    parts = name[len(SA_PREFIX) :].split(":")
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]


def requests(headers: Headers) -> tuple[str, list[str], str, list[tuple[str, str]]]:
    """(user, groups, uid, extras as (key, value)) as the headers ask, in their order."""
    user, uid = "", ""
    groups: list[str] = []
    extras: list[tuple[str, str]] = []
    for raw_name, raw_value in headers:
        if not raw_name.startswith(PREFIX):
            continue
        value = raw_value.decode("latin-1").strip()
        if raw_name == USER:
            user = user or value  # Go's Header.Get: the first
        elif raw_name == GROUP:
            groups.append(value)
        elif raw_name == UID:
            uid = uid or value
        elif raw_name.startswith(EXTRA):
            key = raw_name[len(EXTRA) :].decode("latin-1").lower()
            extras.append((unquote(key), value))  # a malformed escape stays as sent, as in kube
    return user, groups, uid, extras


def act_as(requester: User, headers: Headers, allowed: Callable[[Attributes], bool]) -> User:
    """The identity the request acts as, once the requester may impersonate every part of it."""
    name, groups, uid, extras = requests(headers)
    if not name:
        if groups or uid or extras:
            asked = [f"group {g}" for g in groups] + [f"userextra {k}={v}" for k, v in extras]
            if uid:
                asked.append(f"uid {uid}")
            raise internal(f"requested [{', '.join(asked)}] without impersonating a user")
        return requester

    def check(namespace: str, api_group: str, resource: str, target: str, sub: str = "") -> None:
        a = Attributes(
            requester.name, requester.groups, "impersonate", namespace, api_group, resource, sub, target
        )
        if not allowed(a):
            raise forbidden_error(a)

    account = service_account(name)
    if account is not None:
        check(account[0], "", "serviceaccounts", account[1])
    else:
        check("", "", "users", name)
    for group in groups:
        check("", "", "groups", group)
    for key, value in extras:
        check("", AUTHN_GROUP, "userextras", value, key)
    if uid:
        check("", AUTHN_GROUP, "uids", uid)
    if account is not None and not groups:
        groups = ["system:serviceaccounts", f"system:serviceaccounts:{account[0]}"]
    if name != ANONYMOUS:
        if AUTHENTICATED not in groups and UNAUTHENTICATED not in groups:
            groups.append(AUTHENTICATED)
    elif UNAUTHENTICATED not in groups:
        groups.append(UNAUTHENTICATED)
    extra: dict[str, list[str]] = {}
    for key, value in extras:
        extra.setdefault(key, []).append(value)
    # a node identity when it names one (kube's NodeIdentifier): the node rules judge it
    node = (node_of_user(name) or None) if "system:nodes" in groups else None
    return User(name, tuple(groups), node, uid=uid, extra=tuple((k, tuple(v)) for k, v in extra.items()))
