"""The questions clients ask by creating an object: access reviews (`kubectl auth can-i`), rules
reviews (`can-i --list`), token reviews and `kubectl auth whoami`. Each is answered from the
server's authorizer or authenticator and returned; nothing is stored (kube's behaviour). Kubelets
ask TokenReviews and SubjectAccessReviews for the callers of their own HTTPS servers (kube's
webhook authentication and authorization modes, kubelet/serverauth.py).
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError, invalid
from apiserver.kinds import Obj, row
from apiserver.rbac.rules import Attributes

AUTHZ, AUTHN = "authorization.k8s.io", "authentication.k8s.io"


def _attributes(
    kind: str, spec: Obj, user: str, groups: tuple[str, ...], namespace: str | None
) -> Attributes:
    res, non = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if (res is None) == (non is None):
        raise invalid(
            kind,
            "",
            [
                {
                    "reason": "FieldValueInvalid",
                    "field": "spec.resourceAttributes",
                    "message": 'Invalid value: "null": exactly one of nonResourceAttributes or '
                    "resourceAttributes must be specified",
                }
            ],
            AUTHZ,
        )
    if isinstance(non, dict):
        return Attributes(
            user, groups, str(non.get("verb") or ""), path=str(non.get("path") or ""), resource_request=False
        )
    res = res if isinstance(res, dict) else {}
    ns = namespace if namespace is not None else str(res.get("namespace") or "")
    return Attributes(
        user,
        groups,
        str(res.get("verb") or ""),
        ns,
        str(res.get("group") or ""),
        str(res.get("resource") or ""),
        str(res.get("subresource") or ""),
        str(res.get("name") or ""),
    )


def _reviewed(body: Obj, allowed: bool) -> Obj:
    out = dict(body)
    out["status"] = {"allowed": allowed}
    if not allowed:
        out["status"]["reason"] = ""
    out.setdefault("metadata", {})
    return out


def _self_access(state: Any, user: Any, namespace: str | None, body: Obj) -> Obj:
    a = _attributes("SelfSubjectAccessReview", body.get("spec") or {}, user.name, user.groups, None)
    return _reviewed(body, state.authorizer.allowed(a))


def _subject_access(kind: str) -> Any:
    def answer(state: Any, user: Any, namespace: str | None, body: Obj) -> Obj:
        spec = body.get("spec") or {}
        if not spec.get("user") and not spec.get("groups"):
            raise invalid(
                kind,
                "",
                [
                    {
                        "reason": "FieldValueInvalid",
                        "field": "spec.user",
                        "message": 'Invalid value: "": at least one of user or group must be specified',
                    }
                ],
                AUTHZ,
            )
        a = _attributes(
            kind,
            spec,
            str(spec.get("user") or ""),
            tuple(spec.get("groups") or ()),
            namespace if kind == "LocalSubjectAccessReview" else None,
        )
        return _reviewed(body, state.authorizer.allowed(a))

    return answer


def _self_rules(state: Any, user: Any, namespace: str | None, body: Obj) -> Obj:
    ns = str((body.get("spec") or {}).get("namespace") or "")
    if "system:masters" in user.groups:
        rules: list[Obj] = [
            {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
            {"verbs": ["*"], "nonResourceURLs": ["*"]},
        ]
    else:
        rules = state.registry.rbac.rules_for(user.name, user.groups, ns)
    resource_rules = [
        {k: r[k] for k in ("verbs", "apiGroups", "resources", "resourceNames") if r.get(k)}
        for r in rules
        if not r.get("nonResourceURLs")
    ]
    non_resource = [
        {"verbs": r.get("verbs") or [], "nonResourceURLs": r["nonResourceURLs"]}
        for r in rules
        if r.get("nonResourceURLs")
    ]
    return {
        **body,
        "metadata": body.get("metadata") or {},
        "status": {"resourceRules": resource_rules, "nonResourceRules": non_resource, "incomplete": False},
    }


def _user_info(user: Any) -> Obj:
    info: Obj = {"username": user.name, "groups": list(user.groups)}
    if getattr(user, "uid", ""):
        info["uid"] = user.uid
    if getattr(user, "extra", ()):
        info["extra"] = {k: list(v) for k, v in user.extra}
    return info


def _self_subject(state: Any, user: Any, namespace: str | None, body: Obj) -> Obj:
    return {**body, "metadata": body.get("metadata") or {}, "status": {"userInfo": _user_info(user)}}


async def _token_review(state: Any, user: Any, namespace: str | None, body: Obj) -> Obj:
    """What this server's authenticator makes of the token: service-account JWTs (what a kubelet's
    webhook authentication asks about) as well as the admin and node credentials."""
    from apiserver.satokens import bearer_user

    token = str((body.get("spec") or {}).get("token") or "")
    try:
        who = await bearer_user(state, b"Bearer " + token.encode("latin-1", "replace"), None)
    except ApiError:
        return {
            **body,
            "metadata": body.get("metadata") or {},
            "status": {"authenticated": False, "error": "invalid bearer token"},
        }
    return {
        **body,
        "metadata": body.get("metadata") or {},
        "status": {"authenticated": True, "user": _user_info(who)},
    }


row("selfsubjectaccessreviews", AUTHZ, answer=_self_access)
row("subjectaccessreviews", AUTHZ, answer=_subject_access("SubjectAccessReview"))
row("localsubjectaccessreviews", AUTHZ, answer=_subject_access("LocalSubjectAccessReview"))
row("selfsubjectrulesreviews", AUTHZ, answer=_self_rules)
row("selfsubjectreviews", AUTHN, answer=_self_subject)
row("tokenreviews", AUTHN, answer=_token_review)
