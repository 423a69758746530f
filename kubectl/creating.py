"""What `create`, `apply` and the `create <kind>` / `run` generators share: the dry-run mode, the
`pod/web created` line (or the object in `-o yaml|json|name`), the last-applied annotation, the
object's namespace against `-n`, and creating one document. Its own module so that no verb
imports another.

A generator's object is a typed Go struct in kubectl, so two things differ from `create -f`: its
namespace is written only when `-n` is given, and `--save-config` records it in the struct's
field order (the generators here build their dicts in that order) rather than with sorted keys.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from typing import Any

from api.errors import ApiError
from kubectl.env import CommandError, Env
from kubectl.errors import api_error_text
from kubectl.flags import Parsed, UsageError
from kubectl.manifests import Doc, resource_of

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def dry_run_mode(p: Parsed) -> str:
    mode = p["dry-run"]
    if mode in ("", "true"):  # bare --dry-run meant client in old kubectl
        mode = "client"
    if mode not in ("none", "client", "server", "false"):
        raise UsageError(f'Invalid dry-run value ({mode}). Must be "none", "server", or "client".')
    return "none" if mode == "false" else mode


def dry_run_suffix(mode: str) -> str:
    """What kubectl appends to a result line under `--dry-run` (mode as `dry_run_mode` gives it)."""
    return {"client": " (dry run)", "server": " (server dry run)"}.get(mode, "")


def deleted_line(res: Any, name: str, fmt: str, mode: str = "none") -> str:
    """kubectl's line for a deleted object (`delete`, `replace --force`): `pod "web" deleted`, or
    `pod/web` with `-o name`."""
    from kubectl.targets import kind_prefix

    if fmt == "name":
        return f"{kind_prefix(res)}/{name}\n"
    return f'{kind_prefix(res)} "{name}" deleted{dry_run_suffix(mode)}\n'


def display_name(obj: dict[str, Any], res: Any = None) -> str:
    kind = (obj.get("kind") or (res.kind if res else "")).lower()
    group = (res.group if res is not None else "") or (
        obj.get("apiVersion", "").split("/")[0] if "/" in obj.get("apiVersion", "") else ""
    )
    return f"{kind}{'.' + group if group else ''}/{(obj.get('metadata') or {}).get('name', '')}"


PRINTER_FORMATS = "go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,yaml"


def check_output(fmt: str) -> None:
    """The `-o` values kubectl's PrintFlags take (those we print: json, yaml, name, jsonpath=), else
    its refusal."""
    if fmt and fmt.partition("=")[0] not in PRINTER_FORMATS.split(","):
        raise CommandError(
            f'error: unable to match a printer suitable for the output format "{fmt}", allowed formats '
            f"are: {PRINTER_FORMATS}"
        )


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
    if fmt.startswith("jsonpath="):
        from kubectl import jsonpath

        env.out.write(jsonpath.render(fmt.partition("=")[2], obj))
        return
    env.out.write(f"{display_name(obj, res)} {what}{dry_run_suffix(mode)}\n")


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
        raise CommandError(
            f'error: the namespace from the provided object "{given}" does not match the namespace '
            f"\"{env.namespace}\". You must pass '--namespace={given}' to perform this operation."
        )
    ns = given or env.namespace
    meta["namespace"] = ns
    return str(ns)


def wrap_error(err: ApiError, verb: str, source: str) -> str:
    if err.reason == "Invalid" and err.details is not None:
        return api_error_text(err)
    wrapped = ApiError(err.code, err.reason, f'error when {verb} "{source}": {err.message}', err.details)
    return api_error_text(wrapped)


class Failed(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def create_obj(env: Env, p: Parsed, doc: Doc, mode: str, raise_: bool = False) -> int:
    res = resource_of(env, doc)
    ns = namespace_for(env, doc, res)
    obj = with_annotation(doc.obj) if p["save-config"] else doc.obj
    if mode == "client":
        report(env, p, obj, res, "created", mode)
        return 0
    try:
        out = env.client.create(
            res,
            obj,
            ns,
            dry_run=mode == "server",
            field_manager=p["field-manager"] or "kubectl-create",
            field_validation="Strict",
        )
    except ApiError as e:
        if doc.source:
            raise Failed(wrap_error(e, "creating", doc.source)) from e
        raise
    report(env, p, out, res, "created", mode)
    return 0


def typed_annotation(obj: dict[str, Any]) -> str:
    """The last-applied value of a generated object: compact JSON in field order, as Go encodes it."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


def unknown_flags(p: Parsed, allowed: Iterable[str], command: str, verb: str = "create") -> None:
    """Flags a family's module accepts for some member but not for this one, refused as cobra does."""
    from kubectl.flags import GLOBAL_FLAGS

    for name in sorted(p.seen - set(allowed) - set(GLOBAL_FLAGS)):
        raise CommandError(f"error: unknown flag: --{name}\nSee 'kubectl {verb} {command} --help' for usage.")


def one_name(args: list[str], command: str) -> str:
    if len(args) != 1:
        raise CommandError(
            f"error: exactly one NAME is required, got {len(args)}\n"
            f"See 'kubectl create {command} -h' for help and examples"
        )
    return args[0]


def create_generated(
    env: Env,
    p: Parsed,
    obj: dict[str, Any],
    plural: str,
    failure: str = "",
    sent: Callable[[dict[str, Any]], None] | None = None,
) -> int:
    """Create what a `create <kind>` generator built: the namespace from `-n` only, `--save-config`,
    `--dry-run`, `-o`. `failure` is the generator's `failed to create X: ` prefix to a refusal
    (none: the server's error as is); `sent` trims what is sent but not printed."""
    res = env.resource(plural)
    meta = obj["metadata"]
    if res.namespaced and env.namespace_explicit:
        name = meta.pop("name")
        obj["metadata"] = meta = {"name": name, "namespace": env.namespace, **meta}
    if p.flags.get("save-config"):
        meta.setdefault("annotations", {})[LAST_APPLIED] = typed_annotation(obj)
    mode = dry_run_mode(p)
    if mode == "client":
        report(env, p, obj, res, "created", mode)
        return 0
    if sent is not None:
        sent(obj)
    try:
        out = env.client.create(
            res,
            obj,
            env.namespace if res.namespaced else None,
            dry_run=mode == "server",
            field_manager=p["field-manager"] or "kubectl-create",
            field_validation="Strict",
        )
    except ApiError as e:
        if failure:
            raise CommandError(f"error: {failure}{e.message}") from None
        raise
    report(env, p, out, res, "created", mode)
    return 0
