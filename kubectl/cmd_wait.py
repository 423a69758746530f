"""`kubectl wait --for=condition=Ready|--for=delete|--for=jsonpath='{...}'=VALUE [--timeout=30s]`.

Each object is checked once with a GET, then followed by a watch on its name from that
resourceVersion (never a poll), until the condition holds or the deadline passes:
`pod/web condition met`, or `error: timed out waiting for the condition on pods/web`, exit 1.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from api.errors import ApiError
from api.resources import Resource
from kubectl.env import CommandError, Env, parse_duration
from kubectl.flags import FlagSpec, Help, Parsed
from kubectl.targets import kind_prefix
from kubectl.waiting import wait_gone, watch_name

FLAGS: dict[str, FlagSpec] = {
    "wait": {
        "for": (
            "str",
            None,
            "",
            "The condition: delete, condition=NAME[=VALUE], jsonpath='{EXPR}'=VALUE or create.",
        ),
        "timeout": ("str", "30s", "", "How long to wait; 0 checks once, a negative value waits a week."),
        "selector": ("str", None, "l"),
        "all": ("bool", False, ""),
        "all-namespaces": ("bool", False, "A"),
        "filename": ("list", [], "f"),
        "field-selector": ("str", None, ""),
    }
}
HELP = {
    "wait": Help(
        summary="Wait until objects meet a condition or are deleted",
        more="Returns once every named object meets --for: it is deleted, it has a condition with "
        "the given status (True by default), or a JSONPath expression has the given value. Exits "
        "1 if --timeout passes first.",
        usage="([-f FILENAME] | resource.group/resource.name | resource.group [(-l label | --all)]) "
        "[--for=create|--for=delete|--for condition=available|--for=jsonpath='{}'[=value]]",
        examples="""
        # Until a pod is Ready
        kubectl wait --for=condition=Ready pod/web-1

        # Until a deployment is available, for at most two minutes
        kubectl wait --for=condition=Available --timeout=2m deployment/web

        # Until a field has a value
        kubectl wait --for=jsonpath='{.status.phase}'=Running pod/web-1

        # Until the pods labelled app=web are gone
        kubectl wait --for=delete pods -l app=web --timeout=60s
        """,
    )
}
Check = Callable[[dict[str, Any]], bool]


def condition_check(spec: str) -> Check:
    """A predicate for `condition=Ready`, `condition=Ready=false`, `jsonpath={.status.phase}=Running`."""
    kind, _, rest = spec.partition("=")
    if kind == "condition":
        cond, _, want = rest.partition("=")
        want = want or "True"

        def has(obj: dict[str, Any]) -> bool:
            for c in (obj.get("status") or {}).get("conditions") or []:
                if str(c.get("type", "")).lower() == cond.lower():
                    return str(c.get("status", "")).lower() == want.lower()
            return False

        return has
    if kind == "jsonpath":
        from kubectl import jsonpath

        expr, sep, want = rest.rpartition("=") if "}=" in rest or not rest.startswith("{") else (rest, "", "")
        if not sep:
            expr, want = rest, ""
        path = jsonpath.relaxed(expr)

        def matches(obj: dict[str, Any]) -> bool:
            vals = jsonpath.evaluate(path, obj)
            if not want:
                return bool(vals)
            return any(jsonpath.text_of(v) == want for v in vals)

        return matches
    raise CommandError(f'error: unrecognized condition: "{spec}"')


def _targets(env: Env, p: Parsed) -> list[tuple[Resource, str | None, str]]:
    from kubectl.targets import parse_targets as targets

    out = []
    for res, names in targets(env, p.args):
        ns = env.namespace if res.namespaced else None
        if names:
            out += [(res, ns, n) for n in names]
        elif p["all"] or p["selector"] or p["field-selector"]:
            listing = env.client.list(
                res,
                None if p["all-namespaces"] else ns,
                label_selector=p["selector"],
                field_selector=p["field-selector"],
            )
            out += [
                (
                    res,
                    (o.get("metadata") or {}).get("namespace") if res.namespaced else None,
                    (o.get("metadata") or {}).get("name", ""),
                )
                for o in listing.get("items") or []
            ]
        else:
            raise CommandError("error: resource(s) were provided, but no name was specified")
    return out


def wait(env: Env, p: Parsed) -> int:
    if not p["for"]:
        raise CommandError("error: --for must be specified")
    deleting = p["for"] == "delete"
    check = None if deleting else condition_check(p["for"])
    deadline = time.monotonic() + parse_duration(p["timeout"], "timeout")
    targets = _targets(env, p)
    if not targets:
        raise CommandError("error: no matching resources found")
    failed = False
    for res, ns, name in targets:
        kind = kind_prefix(res)
        try:
            ok = wait_one(env, res, ns, name, check, deadline)
        except ApiError as e:
            if e.code == 404 and not deleting:
                from kubectl.errors import api_error_text

                print(api_error_text(e), file=env.err)
                failed = True
                continue
            raise
        if ok:
            env.out.write(f"{kind}/{name} condition met\n")
            env.out.flush()
        else:
            print(f"error: timed out waiting for the condition on {res.plural}/{name}", file=env.err)
            failed = True
    return 1 if failed else 0


def wait_one(
    env: Env, res: Resource, ns: str | None, name: str, check: Check | None, deadline: float
) -> bool:
    """check None waits for deletion."""
    if check is None:
        return wait_gone(env, res, ns, name, deadline)
    while True:
        obj: dict[str, Any] = env.client.get(res, name, ns)
        if check(obj):
            return True
        if deadline - time.monotonic() <= 0:
            return False
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        for kind, o in watch_name(env, res, ns, name, rv, deadline):
            if kind == "ERROR":
                break
            if kind in ("ADDED", "MODIFIED") and check(o):
                return True
        if time.monotonic() >= deadline:
            return False
