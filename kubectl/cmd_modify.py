"""Small in-place changes: `scale`, `label`, `annotate`, `patch`.

Each sends one PATCH (or, for `scale --current-replicas`, GET then PUT on `/scale`, so a stale
expectation fails instead of overwriting) and prints kubectl's one-line result:
`replicationcontroller/web scaled`, `pod/web labeled`, `pod/web patched (no change)`.
"""

from __future__ import annotations

from typing import Any

from api import requests as rq
from api.errors import ApiError
from api.resources import Resource
from kubectl.env import CommandError, Env
from kubectl.errors import api_error_text
from kubectl.flags import FlagSpec, Help, Parsed
from kubectl.targets import NEED_ARGS, kind_prefix

_META: FlagSpec = {
    "overwrite": ("bool", False, ""),
    "selector": ("str", None, "l"),
    "all": ("bool", False, ""),
    "resource-version": ("str", None, "", "Only change the object if its resourceVersion is still this one."),
    "dry-run": ("str", "none", ""),
    "output": ("str", "", "o"),
    "list": (
        "bool",
        False,
        "",
        "Print the current labels or annotations of the objects instead of changing them.",
    ),
}
FLAGS: dict[str, FlagSpec] = {
    "scale": {
        "replicas": ("int", -1, "", "The number of replicas wanted."),
        "current-replicas": ("int", -1, "", "Only scale if the current size is this; -1 skips the check."),
        "resource-version": (
            "str",
            None,
            "",
            "Only change the object if its resourceVersion is still this one.",
        ),
        "filename": ("list", [], "f"),
        "timeout": ("str", "0s", ""),
        "output": ("str", "", "o"),
        "dry-run": ("str", "none", ""),
    },
    "label": dict(_META),
    "annotate": dict(_META),
    "patch": {
        "patch": ("str", None, "p", "The patch to apply, as JSON or YAML."),
        "patch-file": ("str", None, "", "A file holding the patch to apply."),
        "type": ("str", "strategic", "", "Kind of patch: json (RFC 6902), merge (RFC 7386) or strategic."),
        "dry-run": ("str", "none", ""),
        "output": ("str", "", "o"),
        "filename": ("list", [], "f"),
        "subresource": ("str", None, "", "Patch this subresource of the object instead (status or scale)."),
    },
}
HELP = {
    "scale": Help(
        summary="Change the replica count of a workload",
        more="Sets the replica count through the object's scale subresource. With --current-replicas "
        "or --resource-version the change is only made if the object is still as expected.",
        usage="[--resource-version=version] [--current-replicas=count] --replicas=COUNT "
        "(-f FILENAME | TYPE NAME)",
        examples="""
        # Three replicas of a deployment
        kubectl scale --replicas=3 deployment/web

        # The object a manifest names
        kubectl scale --replicas=2 -f web.yaml

        # Only if it has two replicas now
        kubectl scale --current-replicas=2 --replicas=5 rc/frontend
        """,
    ),
    "label": Help(
        summary="Add, change or remove labels of objects",
        more="A label is KEY=VALUE; KEY- removes it. An existing label is only changed with "
        "--overwrite. Keys and values must be valid label names and values.",
        usage="[--overwrite] (-f FILENAME | TYPE NAME) KEY_1=VAL_1 ... KEY_N=VAL_N "
        "[--resource-version=version]",
        examples="""
        # Add a label to a pod
        kubectl label pods web-1 tier=frontend

        # Change a label that is already set
        kubectl label --overwrite pods web-1 tier=backend

        # Label every pod of the namespace, then remove it again
        kubectl label pods --all reviewed=true
        kubectl label pods --all reviewed-
        """,
    ),
    "annotate": Help(
        summary="Add, change or remove annotations of objects",
        more="An annotation is KEY=VALUE; KEY- removes it. An existing annotation is only changed "
        "with --overwrite.",
        usage="[--overwrite] (-f FILENAME | TYPE NAME) KEY_1=VAL_1 ... KEY_N=VAL_N "
        "[--resource-version=version]",
        examples="""
        # Add a note to a pod
        kubectl annotate pods web-1 owner='team blue'

        # Replace it, then remove it
        kubectl annotate --overwrite pods web-1 owner='team green'
        kubectl annotate pods web-1 owner-
        """,
    ),
    "patch": Help(
        summary="Change fields of an object with a patch",
        more="Sends a strategic merge patch (the default), a JSON merge patch or a JSON patch to "
        "the named object, from -p or --patch-file.",
        usage="(-f FILENAME | TYPE NAME) [-p PATCH|--patch-file FILE]",
        examples="""
        # Change a node field with a strategic merge patch
        kubectl patch node node-1 -p '{"spec":{"unschedulable":true}}'

        # Change one container's image (containers are merged by name)
        kubectl patch pod web-1 -p '{"spec":{"containers":[{"name":"web","image":"busybox:2"}]}}'

        # A JSON patch
        kubectl patch pod web-1 --type=json -p '[{"op":"replace","path":"/metadata/labels/tier","value":"db"}]'

        # The replica count through the scale subresource
        kubectl patch deployment web --subresource=scale -p '{"spec":{"replicas":2}}'
        """,
    ),
}


def _split_targets(env: Env, args: list[str]) -> tuple[list[tuple[Resource, str]], list[str]]:
    """`TYPE NAME... rest` or `TYPE/NAME... rest` -> ([(resource, name)], rest)."""
    if not args:
        raise CommandError(NEED_ARGS)
    if "/" in args[0]:
        pairs, i = [], 0
        while i < len(args) and "/" in args[i] and "=" not in args[i]:
            kind, _, name = args[i].partition("/")
            pairs.append((env.resource(kind), name))
            i += 1
        return pairs, args[i:]
    res = env.resource(args[0])
    names, i = [], 1
    while i < len(args) and "=" not in args[i] and not args[i].endswith("-"):
        names.append(args[i])
        i += 1
    return [(res, n) for n in names], args[i:]


def _ns(env: Env, res: Resource) -> str | None:
    return env.namespace if res.namespaced else None


def scale(env: Env, p: Parsed) -> int:
    if p["replicas"] < 0:
        raise CommandError(
            'error: required flag(s) "replicas" not set'
            if "replicas" not in p.seen
            else "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0"
        )
    if p["filename"]:
        from kubectl.manifests import load_paths, resource_of

        targets = [
            (resource_of(env, d), (d.obj.get("metadata") or {}).get("name", ""))
            for d in load_paths(p["filename"])
        ]
        rest: list[str] = []
    else:
        targets, rest = _split_targets(env, p.args)
    if rest or not targets:
        raise CommandError(f"error: unexpected arguments: {rest}" if rest else NEED_ARGS)
    failed = False
    for res, name in targets:
        ns = _ns(env, res)
        try:
            if p["current-replicas"] >= 0 or p["resource-version"]:
                current = env.client.get(res, name, ns, "scale")
                have = (current.get("spec") or {}).get("replicas", 0)
                if p["current-replicas"] >= 0 and have != p["current-replicas"]:
                    raise CommandError(f"error: Expected replicas to be {p['current-replicas']}, was {have}")
                if (
                    p["resource-version"]
                    and current["metadata"].get("resourceVersion") != p["resource-version"]
                ):
                    raise CommandError(
                        f"error: Expected resource version to be {p['resource-version']}, was "
                        f"{current['metadata'].get('resourceVersion')}"
                    )
                current.setdefault("spec", {})["replicas"] = p["replicas"]
                env.client.update(res, current, ns, subresource="scale")
            else:
                env.client.patch(
                    res, name, {"spec": {"replicas": p["replicas"]}}, rq.MERGE_PATCH, ns, subresource="scale"
                )
        except ApiError as e:
            print(api_error_text(e), file=env.err)
            failed = True
            continue
        env.out.write(f"{kind_prefix(res)}/{name} scaled\n")
    return 1 if failed else 0


def _parse_pairs(pairs: list[str], what: str) -> tuple[dict[str, str], list[str]]:
    add: dict[str, str] = {}
    remove: list[str] = []
    for a in pairs:
        if a.endswith("-") and "=" not in a:
            remove.append(a[:-1])
        elif "=" in a:
            k, _, v = a.partition("=")
            if not k:
                raise CommandError(f"error: invalid {what} spec: {a}")
            add[k] = v
        else:
            raise CommandError(
                f"error: at least one {what} update is required"
                if not a
                else f"error: invalid {what} spec: {a}"
            )
    if not add and not remove:
        raise CommandError(f"error: at least one {what} update is required")
    return add, remove


def _meta_verb(env: Env, p: Parsed, field: str, word: str) -> int:
    what = "label" if field == "labels" else "annotation"
    if p["selector"] or p["all"]:
        if not p.args:
            raise CommandError(NEED_ARGS)
        res = env.resource(p.args[0])
        rest = p.args[1:]
        listing = env.client.list(res, _ns(env, res), label_selector=p["selector"])
        targets = [(res, (o.get("metadata") or {}).get("name", "")) for o in listing.get("items") or []]
    else:
        targets, rest = _split_targets(env, p.args)
        if not targets:
            raise CommandError(NEED_ARGS)
    if p["list"]:
        for res, name in targets:
            got = (env.client.get(res, name, _ns(env, res)).get("metadata") or {}).get(field) or {}
            env.out.write("".join(f"{k}={v}\n" for k, v in sorted(got.items())))
        return 0
    add, remove = _parse_pairs(rest, what)
    failed = False
    for res, name in targets:
        ns = _ns(env, res)
        try:
            current = env.client.get(res, name, ns)
            existing = (current.get("metadata") or {}).get(field) or {}
            for k, v in add.items():
                if k in existing and existing[k] != v and not p["overwrite"]:
                    raise CommandError(
                        f"error: '{k}' already has a value ({existing[k]}), and --overwrite is false"
                    )
            changes: dict[str, Any] = {k: v for k, v in add.items() if existing.get(k) != v}
            for k in remove:
                if k in existing:
                    changes[k] = None
            if changes:
                patch: dict[str, Any] = {"metadata": {field: changes}}
                if p["resource-version"]:
                    patch["metadata"]["resourceVersion"] = p["resource-version"]
                env.client.patch(res, name, patch, rq.MERGE_PATCH, ns)
        except ApiError as e:
            print(api_error_text(e), file=env.err)
            failed = True
            continue
        result = word if changes else f"not {word}"
        if changes and not any(v is not None for v in changes.values()):
            result = "un" + word
        env.out.write(f"{kind_prefix(res)}/{name} {result}\n")
    return 1 if failed else 0


def label(env: Env, p: Parsed) -> int:
    return _meta_verb(env, p, "labels", "labeled")


def annotate(env: Env, p: Parsed) -> int:
    return _meta_verb(env, p, "annotations", "annotated")


_PATCH_TYPES = {"strategic": rq.STRATEGIC_MERGE_PATCH, "merge": rq.MERGE_PATCH, "json": rq.JSON_PATCH}


def patch(env: Env, p: Parsed) -> int:
    ctype = _PATCH_TYPES.get(p["type"])
    if ctype is None:
        raise CommandError(f'error: --type must be one of [json merge strategic], not "{p["type"]}"')
    text = p["patch"]
    if p["patch-file"]:
        with open(p["patch-file"]) as f:
            text = f.read()
    if text is None:
        raise CommandError("error: must specify --patch or --patch-file containing the contents of the patch")
    body = _parse_patch(text)
    targets, _ = _split_targets(env, p.args)
    if not targets:
        raise CommandError(NEED_ARGS)
    from kubectl.creating import dry_run_mode, dry_run_suffix

    mode = dry_run_mode(p)
    failed = False
    for res, name in targets:
        ns = _ns(env, res)
        try:
            before = env.client.get(res, name, ns, p["subresource"])
            after = env.client.patch(
                res, name, body, ctype, ns, subresource=p["subresource"], dry_run=mode != "none"
            )
        except ApiError as e:
            print(api_error_text(e), file=env.err)
            failed = True
            continue
        if p["output"] in ("yaml", "json"):
            from kubectl import output

            env.out.write(output.to_yaml(after) if p["output"] == "yaml" else output.to_json(after))
            continue
        same = (before.get("metadata") or {}).get("resourceVersion") == (after.get("metadata") or {}).get(
            "resourceVersion"
        )
        env.out.write(
            f"{kind_prefix(res)}/{name} patched{' (no change)' if same and mode == 'none' else ''}"
            f"{dry_run_suffix(mode)}\n"
        )
    return 1 if failed else 0


def _parse_patch(text: str) -> Any:
    from api import jsonutil

    try:
        return jsonutil.loads(text)
    except jsonutil.JSONDecodeError:
        pass
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise CommandError(f'error: unable to parse "{text}": yaml: {getattr(e, "problem", e)}') from e
