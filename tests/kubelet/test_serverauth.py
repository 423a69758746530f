"""The kubelet server's webhook authentication and authorization as pure parts (kubelet/serverauth.py):
kube's request attributes by path and method, the review bodies and answers, the refusal texts,
the TTL cache on a fake clock, and `admit`'s outcomes with an API client double that records
the reviews it is asked (so the caches' effect is counted)."""

from __future__ import annotations

import asyncio
from typing import Any

from kubelet import serverauth as sa


def test_request_attributes_by_path_and_method() -> None:
    subresources = {
        "/stats/summary": "stats",
        "/stats": "stats",
        "/metrics": "metrics",
        "/metrics/resource": "metrics",
        "/metrics/cadvisor": "metrics",
        "/logs/syslog": "log",
        "/spec/": "spec",
        "/checkpoint/ns/p/c": "checkpoint",
        # a path that only starts like one is not under it (kube's isSubpath)
        "/metricsfoo": "proxy",
        "/statsx/summary": "proxy",
        **dict.fromkeys(
            ("/pods", "/healthz", "/containerLogs/ns/p/c", "/exec/ns/p/c", "/portForward/ns/p"), "proxy"
        ),
    }
    assert {path: sa.request_attributes("GET", path) for path in subresources} == {
        path: ("get", sub) for path, sub in subresources.items()
    }
    verbs = {
        "HEAD": "get",
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete",
        "OPTIONS": "",
    }
    assert {m: sa.request_attributes(m, "/pods") for m in verbs} == {
        m: (v, "proxy") for m, v in verbs.items()
    }


def test_identities_and_review_bodies() -> None:
    assert sa.from_certificate("alice", ("ops", "dev")) == sa.Identity(
        "alice", ("ops", "dev", "system:authenticated")
    )
    assert sa.peer_identity(
        {
            "subject": (
                (("organizationName", "ops"),),
                (("commonName", "alice"),),
                (("organizationName", "dev"),),
            )
        }
    ) == ("alice", ("ops", "dev"))
    assert sa.peer_identity(None) == ("", ())
    assert sa.bearer_token([(b"Authorization", b"Bearer abc.def ")]) == "abc.def"
    assert sa.bearer_token([(b"authorization", b"Basic eHk=")]) is None
    assert sa.bearer_token([(b"authorization", b"Bearer ")]) is None
    assert sa.bearer_token([]) is None
    review = {
        "status": {
            "authenticated": True,
            "user": {
                "username": "system:serviceaccount:kube-system:metrics-server",
                "uid": "u-1",
                "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system"],
                "extra": {"authentication.kubernetes.io/pod-name": ["ms-1"]},
            },
        }
    }
    who = sa.reviewed_user(review)
    assert who == sa.Identity(
        "system:serviceaccount:kube-system:metrics-server",
        ("system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"),
        "u-1",
        (("authentication.kubernetes.io/pod-name", ("ms-1",)),),
    )
    assert sa.reviewed_user({"status": {"authenticated": False, "error": "invalid bearer token"}}) is None
    assert sa.reviewed_user({}) is None
    assert sa.token_review("t") == {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": "t"},
    }
    assert who is not None
    spec = sa.access_review(who, "get", "metrics", "node-1")["spec"]
    assert spec == {
        "user": who.name,
        "groups": list(who.groups),
        "uid": "u-1",
        "extra": {"authentication.kubernetes.io/pod-name": ["ms-1"]},
        "resourceAttributes": {
            "namespace": "",
            "verb": "get",
            "group": "",
            "version": "v1",
            "resource": "nodes",
            "subresource": "metrics",
            "name": "node-1",
        },
    }
    assert "uid" not in sa.access_review(sa.Identity("bob"), "get", "proxy", "n")["spec"]


def test_refusal_texts_are_the_kubelets() -> None:
    who = sa.Identity("system:serviceaccount:default:nobody")
    assert sa.refusal(who, "get", "metrics") == (
        403,
        "Forbidden (user=system:serviceaccount:default:nobody, verb=get, resource=nodes, subresource=metrics)",
    )
    assert sa.refusal(who, "create", "proxy", failed=True) == (
        500,
        "Authorization error (user=system:serviceaccount:default:nobody, verb=create, resource=nodes, "
        "subresource=proxy)",
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ttl_cache_keeps_each_answer_for_its_own_time() -> None:
    clock = Clock()
    cache = sa.TTLCache(clock, limit=3)
    cache.put("allowed", True, 300)
    cache.put("denied", False, 30)
    assert cache.get("allowed") == (True, True) and cache.get("denied") == (True, False)
    clock.now += 29.9
    assert cache.get("denied") == (True, False)
    clock.now += 0.1
    assert cache.get("denied") == (False, None) and cache.get("allowed") == (True, True)
    cache.put("none", None, 120)  # an unauthenticated answer is an answer too
    assert cache.get("none") == (True, None)
    for k in ("a", "b", "c"):
        cache.put(k, k, 10)
    assert len(cache) == 3 and cache.get("allowed") == (False, None)  # the oldest went first


class Reviews:
    """An API client double: answers TokenReviews from `users` (token -> Identity) and
    SubjectAccessReviews from `grants` ((user, subresource) pairs); counts every call."""

    def __init__(self, users: dict[str, sa.Identity], grants: set[tuple[str, str]]) -> None:
        self.users = users
        self.grants = grants
        self.calls: list[str] = []
        self.down = False

    async def create(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(resource)
        if self.down:
            raise ConnectionError("connection refused")
        spec = body["spec"]
        if resource == "tokenreviews":
            who = self.users.get(spec["token"])
            if who is None:
                return {**body, "status": {"authenticated": False, "error": "invalid bearer token"}}
            user = {"username": who.name, "groups": list(who.groups)}
            return {**body, "status": {"authenticated": True, "user": user}}
        allowed = (spec["user"], spec["resourceAttributes"]["subresource"]) in self.grants
        return {**body, "status": {"allowed": allowed}}


def test_admit_outcomes_and_caching() -> None:
    scraper = sa.Identity("system:serviceaccount:kube-system:metrics-server", ("system:serviceaccounts",))
    client = Reviews({"good": scraper}, {(scraper.name, "metrics"), ("carol", "proxy")})
    clock = Clock()
    auth = sa.WebhookAuth(client, "node-1", clock)
    apiserver = sa.from_certificate("kube-apiserver-kubelet-client", ("system:masters",))

    def admit(path: str, cert: sa.Identity | None = None, token: str | None = None) -> Any:
        return asyncio.run(sa.admit("GET", path, cert, token, "kube-apiserver-kubelet-client", auth))

    assert admit("/metrics/resource") == (401, "Unauthorized")
    assert admit("/metrics/resource", token="bad") == (401, "Unauthorized")
    assert admit("/metrics/resource", token="good") is None
    assert admit("/stats/summary", token="good") == (
        403,
        f"Forbidden (user={scraper.name}, verb=get, resource=nodes, subresource=stats)",
    )
    assert client.calls == ["tokenreviews", "tokenreviews", "subjectaccessreviews", "subjectaccessreviews"]
    # the API server's own certificate is never reviewed; another certificate is authorized
    assert admit("/exec/ns/p/c", cert=apiserver) is None
    assert admit("/pods", cert=sa.from_certificate("carol", ())) is None
    assert admit("/pods", cert=sa.from_certificate("dave", ())) == (
        403,
        "Forbidden (user=dave, verb=get, resource=nodes, subresource=proxy)",
    )
    assert len(client.calls) == 6
    # cached: the same questions within their times ask nothing
    client.calls.clear()
    assert admit("/metrics/resource", token="good") is None
    assert admit("/metrics/resource", token="bad") == (401, "Unauthorized")
    assert admit("/stats/summary", token="good")[0] == 403
    assert client.calls == []
    clock.now += sa.DENIED_TTL  # the denial is asked again, the grant and the token answers are kept
    assert admit("/stats/summary", token="good")[0] == 403
    assert admit("/metrics/resource", token="good") is None
    assert client.calls == ["subjectaccessreviews"]
    clock.now += sa.AUTHN_TTL  # 150 s in all: the tokens are reviewed again, the grant is still kept
    client.calls.clear()
    assert admit("/metrics/resource", token="good") is None
    assert client.calls == ["tokenreviews"]
    # the API server unreachable: a token cannot be authenticated (401), a review cannot be had (500)
    client.down = True
    assert admit("/metrics/resource", token="new") == (401, "Unauthorized")
    assert admit("/pods", cert=sa.from_certificate("erin", ()))[0] == 500
    client.down = False
    assert admit("/metrics/resource", token="new") == (401, "Unauthorized")  # the failure was not kept


def test_without_an_api_client_only_the_api_server_is_served() -> None:
    def admit(cert: sa.Identity | None, token: str | None = None) -> Any:
        return asyncio.run(sa.admit("GET", "/pods", cert, token, "kube-apiserver-kubelet-client", None))

    assert admit(sa.from_certificate("kube-apiserver-kubelet-client", ())) is None
    assert admit(sa.from_certificate("alice", ())) == (
        403,
        "Forbidden (user=alice, verb=get, resource=nodes, subresource=proxy)",
    )
    assert admit(None, "some-token") == (401, "Unauthorized")
