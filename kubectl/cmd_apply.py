"""`kubectl apply` (client-side three-way merge, or `--server-side`) and `kubectl create -f`.

Client-side apply keeps the manifest it last applied in the `kubectl.kubernetes.io/
last-applied-configuration` annotation (JSON, keys sorted, as Go writes it) and sends the
three-way strategic merge patch between that, the new manifest and the live object, so fields
dropped from the manifest are dropped from the object and fields set by others survive. Every
document is parsed first; then each is applied on its own: one failure is reported, the others
still go, and the exit code is 1.
"""

from __future__ import annotations

import json
from typing import Any

from api import requests as rq
from api.errors import ApiError
from kubectl.creating import (
    LAST_APPLIED,
    Failed,
    create_obj,
    dry_run_mode,
    namespace_for,
    report,
    with_annotation,
    wrap_error,
)
from kubectl.env import CommandError, Env
from kubectl.errors import api_error_text
from kubectl.flags import FILE_FLAGS, WRITE_FLAGS, FlagSpec, Help, Parsed
from kubectl.manifests import Doc, load_paths, resource_of

_COMMON: FlagSpec = {**FILE_FLAGS, **WRITE_FLAGS}
FLAGS: dict[str, FlagSpec] = {
    "apply": {
        **_COMMON,
        "server-side": ("bool", False, "", "Have the server merge the manifest (server-side apply)."),
        "force-conflicts": (
            "bool",
            False,
            "",
            "With --server-side, take fields another manager owns instead of failing.",
        ),
        "prune": (
            "bool",
            False,
            "",
            "Delete objects that were applied before but are missing from the configuration now (needs -l or --all).",
        ),
        "selector": ("str", None, "l"),
        "overwrite": ("bool", True, ""),
        "all": ("bool", False, ""),
        "force": ("bool", False, ""),
    },
    "create": dict(_COMMON),
}
HELP = {
    "apply": Help(
        summary="Create or update objects to match manifests",
        more="Creates the objects of the manifests that do not exist yet and changes those that "
        "do, merging the manifest with what the object holds: fields that left the manifest since "
        "the last apply (recorded in the last-applied annotation) are removed, fields others set "
        "are kept. --server-side has the server do that merge.",
        usage="(-f FILENAME | -k DIRECTORY)",
        examples="""
        # The objects of a file, of a directory tree, and from stdin
        kubectl apply -f web.yaml
        kubectl apply -R -f manifests/
        cat web.json | kubectl apply -f -

        # Applied by the server, as manager "ci"
        kubectl apply --server-side --field-manager=ci -f web.yaml

        # Delete the objects labelled app=web that the manifests no longer have
        kubectl apply --prune -l app=web -f manifests/
        """,
    ),
    "create": Help(
        summary="Create objects from manifests, or common ones from flags",
        more="Creates the objects of JSON or YAML manifests, failing for those that exist. The "
        "subcommands build common objects from flags instead.",
        usage="-f FILENAME",
        examples="""
        # The objects of a manifest, and from stdin
        kubectl create -f web.yaml
        cat web.json | kubectl create -f -

        # Print what would be created
        kubectl create -f web.yaml --dry-run=client -o yaml
        """,
        commands={
            "clusterrole": "Create a cluster-wide role from one or more rules",
            "clusterrolebinding": "Grant a cluster role to users, groups or service accounts everywhere",
            "configmap": "Create a config map from files, directories, env files or literal values",
            "cronjob": "Create a cron job that runs an image on a schedule",
            "deployment": "Create a deployment running one or more images",
            "ingress": "Create an ingress from host/path rules",
            "job": "Create a job running an image, or from a cron job's template",
            "namespace": "Create a namespace",
            "poddisruptionbudget": "Create a pod disruption budget for the pods a selector picks",
            "priorityclass": "Create a priority class for pods",
            "quota": "Create a resource quota with hard limits",
            "role": "Create a role from one rule",
            "rolebinding": "Grant a role or cluster role in one namespace",
            "secret": "Create a secret of one of several types",
            "service": "Create a service of one of several types",
            "serviceaccount": "Create a service account",
            "token": "Request a token for a service account",
        },
    ),
}


def _apply_one(env: Env, p: Parsed, doc: Doc, mode: str) -> None:
    res = resource_of(env, doc)
    ns = namespace_for(env, doc, res)
    obj = doc.obj
    name = (obj.get("metadata") or {}).get("name")
    dry = mode == "server"
    if not name:
        raise CommandError(
            f'error: error when retrieving current configuration of:\nResource: "{res.plural}", '
            f'GroupVersionKind: "{res.api_version}, Kind={res.kind}"\nName: "", Namespace: '
            f'"{ns or ""}"\nfrom server for: "{doc.source}": resource name may not be empty'
        )
    if p["server-side"]:
        req = rq.patch(
            res,
            name,
            obj,
            rq.APPLY_PATCH,
            ns,
            dry_run=dry,
            field_manager=p["field-manager"] or "kubectl",
            force=p["force-conflicts"],
            field_validation="Strict",
        )
        if mode == "client":
            report(env, p, obj, res, "serverside-applied", mode)
            return
        out = env.client.call(req)
        report(env, p, out, res, "serverside-applied", mode)
        return
    modified = with_annotation(obj)
    # client-side apply sends its create and its patch with the same options
    write = {
        "dry_run": dry,
        "field_manager": p["field-manager"] or "kubectl-client-side-apply",
        "field_validation": "Strict",
    }
    try:
        current = env.client.get(res, name, ns)
    except ApiError as e:
        if e.code != 404:
            raise
        if mode == "client":
            report(env, p, modified, res, "created", mode)
            return
        try:
            created = env.client.create(res, modified, ns, **write)
        except ApiError as e2:
            raise Failed(wrap_error(e2, "creating", doc.source)) from e2
        report(env, p, created, res, "created", mode)
        return
    from kubectl.strategic import three_way_patch

    for attempt in range(5):  # a concurrent writer makes the patch conflict: recompute it, as kubectl does
        patch = three_way_patch(_last_applied(current), modified, current)
        if not patch:
            report(env, p, current, res, "unchanged", mode)
            return
        if mode == "client":
            report(env, p, current, res, "configured", mode)
            return
        try:
            out = env.client.patch(res, name, patch, rq.STRATEGIC_MERGE_PATCH, ns, **write)
            break
        except ApiError as e:
            if e.code != 409 or attempt == 4:
                raise Failed(wrap_error(e, "patching", doc.source)) from e
            current = env.client.get(res, name, ns)
    report(env, p, out, res, "configured", mode)


def _last_applied(current: dict[str, Any]) -> dict[str, Any] | None:
    text = ((current.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _each(env: Env, docs: list[Doc], one: Any) -> int:
    failed = False
    for doc in docs:
        try:
            one(doc)
        except Failed as e:
            print(e.text, file=env.err)
            failed = True
        except ApiError as e:
            print(api_error_text(e), file=env.err)
            failed = True
        except CommandError as e:
            print(e.message, file=env.err)
            failed = True
    return 1 if failed else 0


def apply(env: Env, p: Parsed) -> int:
    mode = dry_run_mode(p)
    if p["prune"] and not (p["selector"] or p["all"]):
        raise CommandError(
            "error: all resources selected for prune without explicitly passing --all. To prune all "
            "resources, pass the --all flag. If you did not mean to prune all resources, specify a "
            "label selector"
        )
    docs = load_paths(p["filename"], p["recursive"])
    if p["selector"]:
        from api.selectors import parse_label_selector

        wanted = parse_label_selector(p["selector"])
        docs = [d for d in docs if wanted.matches((d.obj.get("metadata") or {}).get("labels"))]
    for d in docs:  # kinds are checked before anything is sent
        resource_of(env, d)
    code = _each(env, docs, lambda d: _apply_one(env, p, d, mode))
    if p["prune"]:
        code = max(code, _prune(env, p, docs, mode))
    return code


PRUNE_TYPES = ("pods", "replicationcontrollers", "services")


def _prune(env: Env, p: Parsed, docs: list[Doc], mode: str) -> int:
    """Delete what was applied before (it has the annotation) but is no longer in the manifests."""
    keep = set()
    namespaces = set()
    for d in docs:
        res = resource_of(env, d)
        meta = d.obj.get("metadata") or {}
        keep.add((res.plural, meta.get("namespace") or "", meta.get("name")))
        if res.namespaced:
            namespaces.add(meta.get("namespace") or env.namespace)
    failed = 0
    for ns in sorted(namespaces or {env.namespace}):
        for plural in PRUNE_TYPES:
            listing = env.client.list(plural, ns, label_selector=p["selector"])
            for o in listing.get("items") or []:
                meta = o.get("metadata") or {}
                if LAST_APPLIED not in (meta.get("annotations") or {}):
                    continue
                if (plural, ns, meta.get("name")) in keep or meta.get("deletionTimestamp"):
                    continue
                res = env.resource(plural)
                try:
                    if mode != "client":
                        env.client.delete(
                            res, meta["name"], ns, propagation_policy="Background", dry_run=mode == "server"
                        )
                except ApiError as e:
                    print(api_error_text(e), file=env.err)
                    failed = 1
                    continue
                o.setdefault("kind", res.kind)
                report(env, p, o, res, "pruned", mode)
    return failed


def create(env: Env, p: Parsed) -> int:
    mode = dry_run_mode(p)
    if p.args:  # the generators (`create role ...`) have modules of their own: main.SUBVERBS
        raise CommandError(
            f"error: Unexpected args: [{' '.join(p.args)}]\nSee 'kubectl create -h' for help and examples"
        )
    docs = load_paths(p["filename"], p["recursive"])
    for d in docs:
        resource_of(env, d)
    return _each(env, docs, lambda d: create_obj(env, p, d, mode, raise_=True))
