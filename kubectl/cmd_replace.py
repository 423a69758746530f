"""`kubectl replace -f FILE`: each manifest PUT over the object of its name (`configmap/x replaced`).

As kubectl's replace.go: a manifest without a resourceVersion gets the live object's (a GET first;
if that fails the PUT goes as it is, so a missing object is `error when replacing "f.yaml":
configmaps "x" not found`, or created by a type that creates on update); `--subresource`
(status, scale) PUTs there; `--save-config` (or a manifest that already carries it) records the
last-applied annotation. `--force` deletes every object first (printed as `kubectl delete` prints
them, missing ones skipped), waits until each is gone (`--timeout`, 5 minutes by default), then
creates them all (`replaced` still). `--grace-period`, `--timeout` and `--cascade` only mean
something with `--force`.
"""

from __future__ import annotations

import time
from typing import Any

from api import requests as rq
from api.errors import ApiError
from kubectl.creating import (
    LAST_APPLIED,
    Failed,
    check_output,
    deleted_line,
    dry_run_mode,
    namespace_for,
    report,
    with_annotation,
    wrap_error,
)
from kubectl.env import CommandError, Env, parse_duration
from kubectl.errors import api_error_text
from kubectl.flags import FILE_FLAGS, WRITE_FLAGS, FlagSpec, Help, Parsed
from kubectl.manifests import Doc, load_paths, resource_of

FLAGS: dict[str, FlagSpec] = {
    "replace": {
        **FILE_FLAGS,
        **WRITE_FLAGS,
        "force": ("bool", False, ""),
        "grace-period": ("int", -1, "", "With --force: seconds the old objects get to stop."),
        "cascade": ("str", "background", "", "With --force: background, foreground or orphan."),
        "timeout": ("str", "0s", "", "With --force: how long to wait for the old objects to go."),
        "wait": ("bool", False, "", "Accepted for kubectl's sake."),
        "subresource": ("str", "", "", "Replace this subresource (status, scale) instead of the object."),
    }
}
HELP = {
    "replace": Help(
        summary="Replace a resource by file name or stdin",
        more="Sends each object of the manifests whole (a PUT), so the manifest must be complete; "
        "`kubectl get TYPE NAME -o yaml` gives one. With --force the objects are deleted and made "
        "again instead.",
        usage="-f FILENAME",
        examples="""
        # Replace what web.yaml describes
        kubectl replace -f web.yaml

        # From stdin, after changing an image
        kubectl get pod web -o yaml | sed 's/web:1/web:2/' | kubectl replace -f -

        # Delete and make again
        kubectl replace --force -f web.yaml
        """,
    ),
}


def replace(env: Env, p: Parsed) -> int:
    if p["grace-period"] >= 0 and not p["force"]:
        raise CommandError("error: --grace-period must have --force specified")
    timeout = parse_duration(p["timeout"], "timeout")
    if timeout and not p["force"]:
        raise CommandError("error: --timeout must have --force specified")
    check_output(p["output"])
    mode = dry_run_mode(p)
    if p["force"] and mode != "none":  # kubectl's words: a forced replace deletes for real
        raise CommandError("error: --dry-run can not be used when --force is set")
    docs = load_paths(p["filename"], p["recursive"])
    for d in docs:  # kinds are checked before anything is sent
        resource_of(env, d)
    if p["force"]:
        return _force(env, p, docs, timeout or 300.0)
    errors = []  # reported after the others, as kubectl aggregates them
    for doc in docs:
        try:
            _replace_one(env, p, doc, mode)
        except Failed as e:
            errors.append(e.text)
    for text in errors:
        print(text, file=env.err)
    return 1 if errors else 0


def _manifest(p: Parsed, doc: Doc) -> dict[str, Any]:
    annotations = (doc.obj.get("metadata") or {}).get("annotations") or {}
    return with_annotation(doc.obj) if p["save-config"] or LAST_APPLIED in annotations else doc.obj


def _replace_one(env: Env, p: Parsed, doc: Doc, mode: str) -> None:
    res = resource_of(env, doc)
    ns = namespace_for(env, doc, res)
    obj = _manifest(p, doc)
    if mode == "client":
        report(env, p, obj, res, "replaced", mode)
        return
    sub = p["subresource"] or None
    meta = obj.setdefault("metadata", {})
    try:
        if not meta.get("resourceVersion"):
            try:
                current = env.client.get(res, meta.get("name", ""), ns, sub)
                meta["resourceVersion"] = (current.get("metadata") or {}).get("resourceVersion")
            except ApiError:
                pass  # PUT as it is: a type that creates on update (services) creates it
        out = env.client.call(
            rq.update(
                res,
                obj,
                ns,
                subresource=sub,
                dry_run=mode == "server",
                field_manager=p["field-manager"] or "kubectl-replace",
                field_validation="Strict",
            )
        )
    except ApiError as e:
        raise Failed(wrap_error(e, "replacing", doc.source)) from e
    report(env, p, out, res, "replaced", mode)


def _force(env: Env, p: Parsed, docs: list[Doc], timeout: float) -> int:
    from kubectl.waiting import propagation_policy, wait_gone

    failed = False
    grace = p["grace-period"]
    gone = []
    for doc in docs:
        res = resource_of(env, doc)
        ns = namespace_for(env, doc, res)
        name = (doc.obj.get("metadata") or {}).get("name", "")
        try:
            env.client.call(
                rq.delete(
                    res,
                    name,
                    ns,
                    propagation_policy=propagation_policy(p["cascade"]),
                    grace_period_seconds=grace if grace >= 0 else None,
                )
            )
        except ApiError as e:
            if e.code != 404:
                print(api_error_text(e), file=env.err)
                failed = True
            continue
        env.out.write(deleted_line(res, name, p["output"]))
        gone.append((res, ns, name))
    deadline = time.monotonic() + timeout
    for res, ns, name in gone:
        if not wait_gone(env, res, ns, name, deadline):
            raise CommandError("error: timed out waiting for the condition")
    for doc in docs:
        res = resource_of(env, doc)
        try:
            out = env.client.create(
                res,
                _manifest(p, doc),
                namespace_for(env, doc, res),
                field_manager=p["field-manager"] or "kubectl-replace",
                field_validation="Strict",
            )
        except ApiError as e:
            print(api_error_text(e), file=env.err)
            failed = True
            continue
        report(env, p, out, res, "replaced", "none")
    return 1 if failed else 0
