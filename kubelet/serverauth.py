"""Who may call the kubelet's HTTPS server: kube's webhook authentication and authorization modes.

As a kubelet started with `--anonymous-auth=false --authentication-token-webhook
--authorization-mode=Webhook --client-ca-file=<cluster CA>`:

- Authentication. A client certificate signed by the cluster CA (the TLS handshake checks the
  signature) is the user its CN names, in the groups its O entries name, plus
  `system:authenticated`. Otherwise `Authorization: Bearer <token>` is sent to the API server in a
  TokenReview and the user is what the review says. Neither: 401 `Unauthorized` (no anonymous).
  Review answers are kept `AUTHN_TTL` (kubelet's `authentication.webhook.cacheTTL`, 2 min, which the
  kubelet's delegating authenticator uses for authenticated and unauthenticated answers alike); a
  review that fails (the API server unreachable) is not kept, and the request gets a 401.
- Authorization. Every request but the API server's own (its client certificate's CN, which the
  kubelet serves as it always has) is asked of the API server in a SubjectAccessReview: the user,
  groups, uid and extra from authentication, and kube's attributes of the request
  (`request_attributes`): the HTTP method's verb, resource `nodes`, the subresource the path names,
  the node's name. Allowed answers are kept `ALLOWED_TTL` (5 min), denied ones `DENIED_TTL` (30 s),
  kubelet's `authorization.webhook.cacheAuthorizedTTL`/`cacheUnauthorizedTTL`. Denied: 403
  `Forbidden (user=U, verb=V, resource=nodes, subresource=S)`; the review failed: 500
  `Authorization error (...)`, the kubelet's words.

Decisions are pure functions (`request_attributes`, `access_review`, `reviewed_user`, `refusal`);
`WebhookAuth` only adds the API calls and the caches. The fine-grained subresources of
`KubeletFineGrainedAuthz` (`nodes/pods`, `nodes/healthz` tried before `nodes/proxy`) are not asked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

AUTHN_TTL, ALLOWED_TTL, DENIED_TTL = 120.0, 300.0, 30.0
_VERBS = {
    "GET": "get",
    "HEAD": "get",
    "POST": "create",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}
# path prefix -> subresource of nodes (kube's nodeAuthorizerAttributesGetter and the kubelet docs)
_SUBRESOURCES = (
    ("/stats", "stats"),
    ("/metrics", "metrics"),
    ("/logs", "log"),
    ("/spec", "spec"),
    ("/checkpoint", "checkpoint"),
)
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class Identity:
    """An authenticated caller, as kube's user.Info."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()


class ReviewError(Exception):
    """The API server did not answer a review."""


# --- pure decisions ------------------------------------------------------------------------
def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def request_attributes(method: str, path: str) -> tuple[str, str]:
    """(verb, subresource of `nodes`) kube's kubelet authorizes a request by: `/stats/*` stats,
    `/metrics[/*]` metrics, `/logs/*` log, `/spec/*` spec, `/checkpoint/*` checkpoint (no such
    endpoint here: authorized, then 404), anything else (logs of containers,
    exec, `/pods`, `/healthz` ...) proxy; GET and HEAD get, POST create, PUT update, PATCH patch,
    DELETE delete (another method: no verb, which no rule grants)."""
    verb = _VERBS.get(method.upper(), "")
    for prefix, sub in _SUBRESOURCES:
        if _under(path, prefix):
            return verb, sub
    return verb, "proxy"


def from_certificate(cn: str, organizations: tuple[str, ...]) -> Identity:
    """kube's x509 authenticator: CN the user, O the groups, plus system:authenticated."""
    return Identity(cn, (*organizations, "system:authenticated"))


def bearer_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    for key, value in headers:
        if key.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def token_review(token: str) -> dict[str, Any]:
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}


def reviewed_user(review: dict[str, Any]) -> Identity | None:
    """The user an answered TokenReview authenticates, None when it does not."""
    status = review.get("status") or {}
    user = status.get("user") or {}
    if not status.get("authenticated") or not user.get("username"):
        return None
    groups = tuple(str(g) for g in user.get("groups") or ())
    if "system:authenticated" not in groups:  # kube's AuthenticatedGroupAdder
        groups = (*groups, "system:authenticated")
    extra = tuple(
        sorted((str(k), tuple(str(x) for x in v or ())) for k, v in (user.get("extra") or {}).items())
    )
    return Identity(str(user["username"]), groups, str(user.get("uid") or ""), extra)


def access_review(who: Identity, verb: str, subresource: str, node: str) -> dict[str, Any]:
    """The SubjectAccessReview kube's webhook authorizer sends for one request to node `node`."""
    spec: dict[str, Any] = {
        "user": who.name,
        "groups": list(who.groups),
        "resourceAttributes": {
            "namespace": "",
            "verb": verb,
            "group": "",
            "version": "v1",
            "resource": "nodes",
            "subresource": subresource,
            "name": node,
        },
    }
    if who.uid:
        spec["uid"] = who.uid
    if who.extra:
        spec["extra"] = {k: list(v) for k, v in who.extra}
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}


def refusal(who: Identity, verb: str, subresource: str, failed: bool = False) -> tuple[int, str]:
    """The kubelet's answer to a request it does not authorize: 403, or 500 when the review failed."""
    attrs = f"(user={who.name}, verb={verb}, resource=nodes, subresource={subresource})"
    return (500, f"Authorization error {attrs}") if failed else (403, f"Forbidden {attrs}")


class TTLCache:
    """Answers kept until their own deadline (clock injected); the oldest go past `limit` entries."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, limit: int = _CACHE_LIMIT) -> None:
        self.clock = clock
        self.limit = limit
        self._entries: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> tuple[bool, Any]:
        """(found, value): an entry past its deadline is not found."""
        hit = self._entries.get(key)
        if hit is None:
            return False, None
        if self.clock() >= hit[0]:
            del self._entries[key]
            return False, None
        return True, hit[1]

    def put(self, key: str, value: Any, ttl: float) -> None:
        self._entries.pop(key, None)
        self._entries[key] = (self.clock() + ttl, value)
        while len(self._entries) > self.limit:
            del self._entries[next(iter(self._entries))]

    def __len__(self) -> int:
        return len(self._entries)


# --- the webhook shell ---------------------------------------------------------------------
class WebhookAuth:
    """Token and access reviews through the kubelet's API client, each answer cached as kube's."""

    def __init__(self, client: Any, node_name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.node_name = node_name
        self.tokens = TTLCache(clock)
        self.decisions = TTLCache(clock)

    async def authenticate(self, token: str) -> Identity | None:
        key = hashlib.sha256(token.encode()).hexdigest()
        found, who = self.tokens.get(key)
        if found:
            return who
        try:
            review = await self.client.create("tokenreviews", token_review(token))
        except Exception as e:
            raise ReviewError(f"TokenReview failed: {e}") from e
        who = reviewed_user(review)
        self.tokens.put(key, who, AUTHN_TTL)
        return who

    async def authorized(self, who: Identity, verb: str, subresource: str) -> bool:
        body = access_review(who, verb, subresource, self.node_name)
        key = json.dumps(body["spec"], sort_keys=True)
        found, allowed = self.decisions.get(key)
        if found:
            return bool(allowed)
        try:
            answer = await self.client.create("subjectaccessreviews", body)
        except Exception as e:
            raise ReviewError(f"SubjectAccessReview failed: {e}") from e
        allowed = bool((answer.get("status") or {}).get("allowed"))
        self.decisions.put(key, allowed, ALLOWED_TTL if allowed else DENIED_TTL)
        return allowed


async def admit(
    method: str,
    path: str,
    cert: Identity | None,
    token: str | None,
    api_server_cn: str,
    auth: WebhookAuth | None,
) -> tuple[int, str] | None:
    """None when the request may go on, else the (status, text) the kubelet answers: the client
    certificate first, then the bearer token; the API server's own certificate is not reviewed;
    without `auth` (no API client: tests of the server alone) nobody else is served."""
    who = cert
    if who is None and token is not None and auth is not None:
        try:
            who = await auth.authenticate(token)
        except ReviewError as e:
            log.warning("kubelet authentication: %s", e)
    if who is None:
        return 401, "Unauthorized"
    if cert is not None and cert.name == api_server_cn:
        return None
    verb, sub = request_attributes(method, path)
    if auth is None:
        return refusal(who, verb, sub)
    try:
        allowed = await auth.authorized(who, verb, sub)
    except ReviewError as e:
        log.error("kubelet authorization: %s", e)
        return refusal(who, verb, sub, failed=True)
    return None if allowed else refusal(who, verb, sub)


def peer_identity(peercert: dict[str, Any] | None) -> tuple[str, tuple[str, ...]]:
    """(CN, O entries) of a verified peer certificate as `ssl` gives it ("" and () for none)."""
    cn, orgs = "", []
    for rdn in (peercert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName" and not cn:
                cn = str(value)
            elif key == "organizationName":
                orgs.append(str(value))
    return cn, tuple(orgs)
