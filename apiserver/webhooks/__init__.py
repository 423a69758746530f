"""Dynamic admission webhooks (admissionregistration.k8s.io/v1), as kube-apiserver calls them.

A write by a client (create, update, delete of any resource, custom resources too, of the
subresources written as the object itself, such as pods/status, and of those kube admits as
another kind: a pods/binding Binding, a pods/eviction Eviction, a */scale Scale, see
`apiserver.subadmission`) is offered to the webhooks whose configuration matches it: mutating
ones after the built-in mutating admission and before validation, in the order of their
configurations' names and then their own order, each seeing the previous one's patch; validating
ones after validation and the built-in validating admission, all at once. A webhook refuses
with a 403 in its own words, a webhook that cannot be called refuses with a 500 unless its
failurePolicy is Ignore.

The modules, decisions apart from I/O:

- `configs`: the configurations, mirrored from the store by a watch and parsed once into `Hook`s,
  with the webhooks a request's resource and operation could match memoized per request shape,
  so a write with none configured (or none matching) costs one dict lookup.
- `matching`: pure; kube's rules, namespaceSelector and objectSelector.
- `request`: a write as admission sees it (attributes, shape, its namespace read once), shared
  with the ValidatingAdmissionPolicies (`apiserver.policies`).
- `review`: pure; the AdmissionReview sent, the answer read, the patch applied, the Status errors.
- `transport`: the HTTPS POST (url as given, or a Service's ready endpoint with TLS server name
  `<name>.<namespace>.svc`); httpx and ssl are imported there, on the first call.
- `dispatch`: the thin async shell the registry calls: selectors, matchConditions (CEL, through
  `apiserver.cel`, loaded only for a webhook that has them), calls, failure policies,
  reinvocation.

Writes the API server makes for itself (its leases, quota and CRD status) are not offered, as
the registry is given no `Requester` for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apiserver.auth import User

_OPTION_KINDS = {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions"}


@dataclass
class Requester:
    """Who made a write, the options it was made with (as the review's `options`), and what the
    webhooks said back to them: warnings the handler answers as Warning headers."""

    user: User
    options: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def requester(user: User, method: str, query: dict[str, str]) -> Requester:
    """The Requester of an HTTP write: kube's CreateOptions, UpdateOptions or PatchOptions from the
    query (a DELETE's DeleteOptions are added by the registry, which has them)."""
    options: dict[str, Any] = {
        "kind": _OPTION_KINDS.get(method, "DeleteOptions"),
        "apiVersion": "meta.k8s.io/v1",
    }
    if query.get("dryRun"):
        options["dryRun"] = [query["dryRun"]]
    if method == "PATCH" and query.get("force") in ("true", "1"):
        options["force"] = True
    if query.get("fieldManager"):
        options["fieldManager"] = query["fieldManager"]
    return Requester(user, options)
