"""`kubectl auth can-i VERB TYPE[/NAME]|URL`, `auth can-i --list` and `auth whoami`.

can-i asks the server a SelfSubjectAccessReview and prints `yes` (exit 0) or `no[ - reason]` (exit
1); a type the server does not know is still asked, under the name as given, after a warning, as
kubectl does (RBAC may name types no discovery lists: `users`, `groups`). `--list` asks a
SelfSubjectRulesReview and prints its rules the way kubectl's rbac util does: each rule broken
down to one verb, resource and name, those differing only by verb joined again, sorted by the Go
text of the rule (`&PolicyRule{Verbs:[...],APIGroups:[...],...}`). whoami asks a SelfSubjectReview
(authentication.k8s.io/v1). All three pair with the `--as`/`--as-group` global flags.
"""

from __future__ import annotations

from typing import Any

from kubectl.env import CommandError, Env
from kubectl.flags import FlagSpec, Help, Parsed

CAN_I_FLAGS: FlagSpec = {
    "all-namespaces": ("bool", False, "A"),
    "quiet": ("bool", False, "q", "Print nothing: the exit status is the answer."),
    "subresource": ("str", "", "", "The subresource to ask about (log, status, scale ...)."),
    "list": ("bool", False, "", "List every action allowed in the namespace."),
    "no-headers": ("bool", False, ""),
}
FLAGS: dict[str, FlagSpec] = {"auth": {**CAN_I_FLAGS, "output": ("str", "", "o")}}
HELP = {
    "auth": Help(
        summary="Ask the API server about your own access",
        usage="SUBCOMMAND",
        examples="""
        # Whether you may delete pods here
        kubectl auth can-i delete pods

        # Who the server takes you for
        kubectl auth whoami
        """,
        flags=(),
    ),
    "auth can-i": Help(
        summary="Check whether an action is allowed",
        more="Asks the server with a SelfSubjectAccessReview and prints yes or no; the exit status "
        "is 0 for yes and 1 for no. With --list, a SelfSubjectRulesReview lists everything you may "
        "do in the namespace.",
        usage="VERB [TYPE | TYPE/NAME | NONRESOURCEURL]",
        examples="""
        # May I create deployments in the current namespace?
        kubectl auth can-i create deployments.apps

        # May I read secrets in every namespace?
        kubectl auth can-i list secrets -A

        # A subresource, and a URL that is not a resource
        kubectl auth can-i get pods --subresource=log
        kubectl auth can-i get /healthz

        # Everything I may do in namespace dev
        kubectl auth can-i --list -n dev
        """,
        flags=tuple(CAN_I_FLAGS),
    ),
    "auth whoami": Help(
        summary="Experimental: Check self subject attributes",
        more="Prints the user name, UID, groups and extra attributes the server authenticated the "
        "request as (a SelfSubjectReview).",
        usage="[flags]",
        examples="""
        # Who am I?
        kubectl auth whoami

        # The same as JSON
        kubectl auth whoami -o json
        """,
        flags=("output",),
    ),
}
RESOURCE_VERBS = {
    *("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"),
    *("use", "bind", "impersonate", "*", "approve", "sign", "escalate", "attest"),
}
NON_RESOURCE_VERBS = {"get", "put", "post", "head", "options", "delete", "patch", "*"}
UNDISCOVERABLE = {"users", "groups"}  # RBAC names them for `impersonate`; no discovery lists them
TWO_ARGS = (
    "error: you must specify two arguments: verb resource or verb resource/resourceName.\n"
    "See 'kubectl auth can-i -h' for help and examples."
)


def auth(env: Env, p: Parsed) -> int:
    from kubectl.creating import unknown_flags

    sub = p.args[0] if p.args else ""
    if sub == "can-i":
        unknown_flags(p, CAN_I_FLAGS, "can-i", "auth")
        return can_i(env, p, p.args[1:])
    if sub == "whoami":
        unknown_flags(p, ["output"], "whoami", "auth")
        return whoami(env, p)
    if sub:
        raise CommandError(f'error: unknown command "{sub}" for "kubectl auth"')
    from kubectl.helppage import page

    env.out.write(page(HELP, FLAGS, "auth", []))
    return 1  # as kubectl 1.33 does for a bare `kubectl auth`


def _warn(env: Env, text: str) -> None:
    print(f"Warning: {text}", file=env.err)


def can_i(env: Env, p: Parsed, args: list[str]) -> int:
    if p["list"]:
        if args:
            raise CommandError("error: list option must be specified with no arguments")
        if p["quiet"] or p["all-namespaces"] or p["subresource"]:
            raise CommandError(
                "error: list option can't be specified with neither quiet, all-namespaces nor subresource options"
            )
        return _list(env, p)
    if len(args) != 2:
        raise CommandError(TWO_ARGS)
    verb, target = args
    namespace = "" if p["all-namespaces"] else env.namespace
    spec: dict[str, Any]
    if target.startswith("/"):
        if p["subresource"]:
            raise CommandError("error: --subresource can not be used with NonResourceURL")
        if verb not in NON_RESOURCE_VERBS:
            _warn(env, f"verb '{verb}' is not a known verb\n")
        spec = {"nonResourceAttributes": {"path": target, "verb": verb}}
    else:
        kind, _, name = target.partition("/")
        group, resource, namespaced = _resource_for(env, kind)
        if not p["all-namespaces"]:
            if namespaced is False:
                where = f" in group '{group}'" if group else ""
                _warn(env, f"resource '{resource}' is not namespace scoped{where}\n")
            if verb not in RESOURCE_VERBS:
                _warn(env, f"verb '{verb}' is not a known verb\n")
        attrs = {"namespace": namespace, "verb": verb, "group": group, "resource": resource}
        attrs.update({"subresource": p["subresource"], "name": name})
        spec = {"resourceAttributes": {k: v for k, v in attrs.items() if v}}
    if p["no-headers"]:
        raise CommandError("error: --no-headers cannot be set without --list specified")
    review = _review(env, "selfsubjectaccessreviews", "SelfSubjectAccessReview", spec)
    status = review.get("status") or {}
    if not p["quiet"]:
        if status.get("allowed"):
            env.out.write("yes\n")
        else:
            why = [str(status[k]) for k in ("reason", "evaluationError") if status.get(k)]
            env.out.write(" - ".join(["no", *why]) + "\n")
    return 0 if status.get("allowed") else 1


def _resource_for(env: Env, arg: str) -> tuple[str, str, bool | None]:
    """(group, plural, namespaced or None if unknown) as kubectl's RESTMapper resolves `pods`,
    `deploy.apps`, `jobs.v1.batch`; an unknown type is asked as given, after a warning."""
    if arg == "*":
        return "", "*", True
    from api.errors import ApiError
    from kubectl import discovery

    low = arg.lower()
    base, _, group = low.partition(".")
    candidates = [(base, group)]
    parts = low.split(".")
    if len(parts) >= 3:  # resource.version.group
        candidates.insert(0, (parts[0], ".".join(parts[2:])))
    try:
        found = discovery.resources(env)
    except ApiError:
        found = []
    for res, grp in candidates:
        hit = discovery.resource_for(env, res, grp) if found else None
        if hit is not None:
            namespaced = next(
                (bool(r.get("namespaced")) for r in found if (r.get("group"), r.get("name")) == hit), None
            )
            return hit[0], hit[1], namespaced
    if low not in UNDISCOVERABLE:
        where = f" in group '{group}'" if group else ""
        _warn(env, f"the server doesn't have a resource type '{base}'{where}\n")
    return "", arg, None


def _review(env: Env, plural: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    res = env.resource(plural)
    body = {
        "kind": kind,
        "apiVersion": res.api_version,
        "metadata": {"creationTimestamp": None},
        "spec": spec,
    }
    return dict(env.client.create(res, body))


# --- can-i --list ------------------------------------------------------------------------------

Rule = dict[str, list[str]]
_FIELDS = {
    "verbs": "Verbs",
    "apiGroups": "APIGroups",
    "resources": "Resources",
    "resourceNames": "ResourceNames",
    "nonResourceURLs": "NonResourceURLs",
}


def breakdown(rule: Rule) -> list[Rule]:
    """One verb, one resource, one name per rule (rbac util's BreakdownRule)."""
    out: list[Rule] = []
    names = rule.get("resourceNames") or []
    for group in rule.get("apiGroups") or []:
        for resource in rule.get("resources") or []:
            for verb in rule.get("verbs") or []:
                base = {"apiGroups": [group], "resources": [resource], "verbs": [verb]}
                out += [{**base, "resourceNames": [n]} for n in names] if names else [base]
    for url in rule.get("nonResourceURLs") or []:
        out += [{"nonResourceURLs": [url], "verbs": [verb]} for verb in rule.get("verbs") or []]
    return out


def compact(rules: list[Rule]) -> list[Rule]:
    """Rules on one group, resource and name that differ only by verb, joined (CompactRules)."""
    out: list[Rule] = []
    simple: dict[tuple[str, str, tuple[str, ...]], Rule] = {}
    for r in rules:
        names = r.get("resourceNames") or []
        if r.get("nonResourceURLs") or len(names) > 1 or len(r.get("apiGroups") or []) != 1:
            out.append(r)
            continue
        if len(r.get("resources") or []) != 1:
            out.append(r)
            continue
        key = (r["apiGroups"][0], r["resources"][0], tuple(names))
        if key in simple:
            simple[key]["verbs"] = simple[key]["verbs"] + r.get("verbs", [])
        else:
            simple[key] = {**r, "verbs": list(r.get("verbs") or [])}
    return out + list(simple.values())


def _go_text(rule: Rule) -> str:
    """PolicyRule.String(): what kubectl sorts the rules by."""
    return (
        "&PolicyRule{" + "".join(f"{go}:[{' '.join(rule.get(k) or [])}]," for k, go in _FIELDS.items()) + "}"
    )


def _combine(resources: list[str], groups: list[str]) -> str:
    if not resources:
        return ""
    base, slash, sub = resources[0].partition("/")
    if groups and groups[0]:
        base += "." + groups[0]
    return base + (slash + sub if slash else "")


def _list(env: Env, p: Parsed) -> int:
    from kubectl.tables import TabWriter

    review = _review(env, "selfsubjectrulesreviews", "SelfSubjectRulesReview", {"namespace": env.namespace})
    status = review.get("status") or {}
    if status.get("incomplete"):
        _warn(env, f"the list may be incomplete: {status.get('evaluationError', '')}")
    rules: list[Rule] = []
    for r in status.get("resourceRules") or []:
        rules += breakdown({k: r.get(k) or [] for k in ("verbs", "apiGroups", "resources", "resourceNames")})
    for r in status.get("nonResourceRules") or []:
        rules += breakdown({"verbs": r.get("verbs") or [], "nonResourceURLs": r.get("nonResourceURLs") or []})
    rows = [] if p["no-headers"] else [["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]]
    for r in sorted(compact(rules), key=_go_text):
        rows.append(
            [_combine(r.get("resources") or [], r.get("apiGroups") or [])]
            + [f"[{' '.join(r.get(k) or [])}]" for k in ("nonResourceURLs", "resourceNames", "verbs")]
        )
    env.out.write(TabWriter().format(rows))
    return 0


# --- whoami ------------------------------------------------------------------------------------


def whoami(env: Env, p: Parsed) -> int:
    from kubectl.creating import check_output, report

    check_output(p["output"])
    res = env.resource("selfsubjectreviews")
    body = {
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "status": {"userInfo": {}},
    }
    review = env.client.create(res, body)
    info = (review.get("status") or {}).get("userInfo") or {}
    if p["output"] == "json":  # a typed object: its fields in struct order
        from kubectl import output

        fields = ("username", "uid", "groups", "extra")
        typed = {**body, "status": {"userInfo": {k: info[k] for k in fields if info.get(k)}}}
        env.out.write(output.to_json(typed, sort_keys=False))
        return 0
    if p["output"] == "name":  # the review has no name
        env.out.write("selfsubjectreview.authentication.k8s.io/<unknown>\n")
        return 0
    if p["output"]:
        report(env, p, review, res, "", "none")
        return 0
    from kubectl.tables import TabWriter

    rows = [["ATTRIBUTE", "VALUE"]]
    if info.get("username"):
        rows.append(["Username", info["username"]])
    if info.get("uid"):
        rows.append(["UID", info["uid"]])
    if info.get("groups"):
        rows.append(["Groups", f"[{' '.join(info['groups'])}]"])
    for key in sorted(info.get("extra") or {}):
        rows.append([f"Extra: {key}", f"[{' '.join(info['extra'][key])}]"])
    env.out.write(TabWriter().format(rows))
    return 0
