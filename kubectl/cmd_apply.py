"""`kubectl apply` (client-side three-way merge, or `--server-side`) and `kubectl create`.

Client-side apply keeps the manifest it last applied in the `kubectl.kubernetes.io/
last-applied-configuration` annotation (JSON, keys sorted, as Go writes it) and sends the
three-way strategic merge patch between that, the new manifest and the live object, so fields
dropped from the manifest are dropped from the object and fields set by others survive. Every
document is parsed first; then each is applied on its own: one failure is reported, the others
still go, and the exit code is 1.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from api import requests as rq
from api.errors import ApiError
from kubectl.env import CommandError, Env
from kubectl.errors import api_error_text
from kubectl.flags import FlagSpec, Parsed, UsageError
from kubectl.manifests import Doc, load_paths, resource_of

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_COMMON: FlagSpec = {
    "filename": ("list", [], "f"),
    "recursive": ("bool", False, "R"),
    "dry-run": ("str", "none", ""),
    "output": ("str", "", "o"),
    "validate": ("str", "strict", ""),
    "field-manager": ("str", "", ""),
    "save-config": ("bool", False, ""),
}
FLAGS: dict[str, FlagSpec] = {
    "apply": {**_COMMON, "server-side": ("bool", False, ""), "force-conflicts": ("bool", False, ""),
              "prune": ("bool", False, ""), "selector": ("str", None, "l"), "overwrite": ("bool", True, ""),
              "all": ("bool", False, ""),
              "force": ("bool", False, "")},
    "create": dict(_COMMON),
}


def dry_run_mode(p: Parsed) -> str:
    mode = p["dry-run"]
    if mode in ("", "true"):  # bare --dry-run meant client in old kubectl
        mode = "client"
    if mode not in ("none", "client", "server", "false"):
        raise UsageError(f'Invalid dry-run value ({mode}). Must be "none", "server", or "client".')
    return "none" if mode == "false" else mode


def display_name(obj: dict[str, Any], res: Any = None) -> str:
    kind = (obj.get("kind") or (res.kind if res else "")).lower()
    group = (res.group if res is not None else "") or (obj.get("apiVersion", "").split("/")[0]
                                                      if "/" in obj.get("apiVersion", "") else "")
    return f"{kind}{'.' + group if group else ''}/{(obj.get('metadata') or {}).get('name', '')}"


def report(env: Env, p: Parsed, obj: dict[str, Any], res: Any, what: str, mode: str) -> None:
    """`pod/web created`, or the object in `-o yaml|json|name`."""
    fmt = p["output"]
    if fmt in ("yaml", "json"):
        from kubectl import output

        obj.setdefault("apiVersion", res.api_version)
        obj.setdefault("kind", res.kind)
        env.out.write(output.to_yaml(obj) if fmt == "yaml" else output.to_json(obj))
        return
    if fmt == "name":
        env.out.write(display_name(obj, res) + "\n")
        return
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(mode, "")
    env.out.write(f"{display_name(obj, res)} {what}{suffix}\n")


def annotation_value(obj: dict[str, Any]) -> str:
    """The manifest as kubectl records it: compact JSON, keys sorted, without the annotation itself."""
    clean = copy.deepcopy(obj)
    # kubectl makes the annotations map to hold the annotation, so `"annotations":{}` stays
    clean.setdefault("metadata", {}).setdefault("annotations", {}).pop(LAST_APPLIED, None)
    text = json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


def with_annotation(obj: dict[str, Any]) -> dict[str, Any]:
    modified = copy.deepcopy(obj)
    modified.setdefault("metadata", {}).setdefault("annotations", {})[LAST_APPLIED] = annotation_value(obj)
    return modified


def namespace_for(env: Env, doc: Doc, res: Any) -> str | None:
    if not res.namespaced:
        return None
    meta = doc.obj.setdefault("metadata", {})
    given = meta.get("namespace")
    if given and env.namespace_explicit and given != env.namespace:
        raise CommandError(f'error: the namespace from the provided object "{given}" does not match the namespace '
                           f'"{env.namespace}". You must pass \'--namespace={given}\' to perform this operation.')
    ns = given or env.namespace
    meta["namespace"] = ns
    return str(ns)


def _wrap(err: ApiError, verb: str, source: str) -> str:
    if err.reason == "Invalid" and err.details is not None:
        return api_error_text(err)
    wrapped = ApiError(err.code, err.reason, f'error when {verb} "{source}": {err.message}', err.details)
    return api_error_text(wrapped)


def _apply_one(env: Env, p: Parsed, doc: Doc, mode: str) -> None:
    res = resource_of(env, doc)
    ns = namespace_for(env, doc, res)
    obj = doc.obj
    name = (obj.get("metadata") or {}).get("name")
    dry = mode == "server"
    if not name:
        raise CommandError(f'error: error when retrieving current configuration of:\nResource: "{res.plural}", '
                           f'GroupVersionKind: "{res.api_version}, Kind={res.kind}"\nName: "", Namespace: '
                           f'"{ns or ""}"\nfrom server for: "{doc.source}": resource name may not be empty')
    if p["server-side"]:
        req = rq.patch(res, name, obj, rq.APPLY_PATCH, ns, dry_run=dry,
                       field_manager=p["field-manager"] or "kubectl", force=p["force-conflicts"],
                       field_validation="Strict")
        if mode == "client":
            report(env, p, obj, res, "serverside-applied", mode)
            return
        out = env.client.call(req)
        report(env, p, out, res, "serverside-applied", mode)
        return
    modified = with_annotation(obj)
    try:
        current = env.client.get(res, name, ns)
    except ApiError as e:
        if e.code != 404:
            raise
        if mode == "client":
            report(env, p, modified, res, "created", mode)
            return
        try:
            created = env.client.create(res, modified, ns, dry_run=dry,
                                        field_manager=p["field-manager"] or "kubectl-client-side-apply",
                                        field_validation="Strict")
        except ApiError as e2:
            raise _Failed(_wrap(e2, "creating", doc.source)) from e2
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
            out = env.client.patch(res, name, patch, rq.STRATEGIC_MERGE_PATCH, ns, dry_run=dry,
                                   field_manager=p["field-manager"] or "kubectl-client-side-apply",
                                   field_validation="Strict")
            break
        except ApiError as e:
            if e.code != 409 or attempt == 4:
                raise _Failed(_wrap(e, "patching", doc.source)) from e
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


class _Failed(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _each(env: Env, docs: list[Doc], one: Any) -> int:
    failed = False
    for doc in docs:
        try:
            one(doc)
        except _Failed as e:
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
        raise CommandError("error: all resources selected for prune without explicitly passing --all. To prune all "
                           "resources, pass the --all flag. If you did not mean to prune all resources, specify a "
                           "label selector")
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
                        env.client.delete(res, meta["name"], ns, propagation_policy="Background",
                                          dry_run=mode == "server")
                except ApiError as e:
                    print(api_error_text(e), file=env.err)
                    failed = 1
                    continue
                o.setdefault("kind", res.kind)
                report(env, p, o, res, "pruned", mode)
    return failed


def create(env: Env, p: Parsed) -> int:
    mode = dry_run_mode(p)
    if p.args:
        sub = p.args[0]
        if sub in ("namespace", "ns"):
            if len(p.args) != 2:
                raise CommandError("error: exactly one NAME is required, got " + str(len(p.args) - 1))
            obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"creationTimestamp": None, "name": p.args[1]},
                   "spec": {}, "status": {}}
            return _create_obj(env, p, Doc(obj, ""), mode)
        raise CommandError(f'error: unknown command "{sub}" for "kubectl create"')
    docs = load_paths(p["filename"], p["recursive"])
    for d in docs:
        resource_of(env, d)
    return _each(env, docs, lambda d: _create_obj(env, p, d, mode, raise_=True))


def _create_obj(env: Env, p: Parsed, doc: Doc, mode: str, raise_: bool = False) -> int:
    res = resource_of(env, doc)
    ns = namespace_for(env, doc, res)
    obj = with_annotation(doc.obj) if p["save-config"] else doc.obj
    if mode == "client":
        report(env, p, obj, res, "created", mode)
        return 0
    try:
        out = env.client.create(res, obj, ns, dry_run=mode == "server",
                                field_manager=p["field-manager"] or "kubectl-create", field_validation="Strict")
    except ApiError as e:
        if doc.source:
            raise _Failed(_wrap(e, "creating", doc.source)) from e
        raise
    report(env, p, out, res, "created", mode)
    return 0
