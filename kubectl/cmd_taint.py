"""`kubectl taint nodes NAME... KEY[=VALUE]:EFFECT ... KEY[:EFFECT]-` (kubectl's pkg/cmd/taint).

Arguments are nodes until the first that looks like a taint (has `=` or `:`, or ends in `-`);
the taint specs are checked client-side with apimachinery's wording (qualified-name keys, label
values, the three effects) before anything is read. Each node's new list is kubectl's: the added
taints first, then its old ones not replaced, minus the removed; the result word is `tainted`,
`untainted` or `modified` as kubectl decides it. Failures of single nodes (a taint already there
without --overwrite, one to remove not found, a node missing) do not stop the others and are
printed at the end: `error: <why>` for one, one line each for several (exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api import requests as rq
from api.errors import ApiError
from api.names import is_label_value, is_qualified_name
from api.resources import lookup
from kubectl.env import CommandError, Env
from kubectl.errors import api_error_text
from kubectl.flags import FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {
    "taint": {
        "selector": ("str", "", "l"),
        "overwrite": ("bool", False, "", "Replace a taint of the same key and effect."),
        "all": ("bool", False, ""),
        "dry-run": ("str", "none", ""),
        "output": ("str", "", "o"),
        "validate": ("str", "strict", ""),
        "field-manager": ("str", "kubectl-taint", ""),
    }
}
HELP = {
    "taint": Help(
        summary="Update the taints on one or more nodes",
        more="A taint is KEY[=VALUE]:EFFECT, the effect NoSchedule, PreferNoSchedule or NoExecute; "
        "KEY:EFFECT- or KEY- removes taints. Pods that do not tolerate a taint are kept off the "
        "node, or with NoExecute evicted from it.",
        usage="NODE NAME KEY_1=VAL_1:TAINT_EFFECT_1 ... KEY_N=VAL_N:TAINT_EFFECT_N",
        examples="""
        # Keep pods without a matching toleration off node-1
        kubectl taint nodes node-1 dedicated=db:NoSchedule

        # Remove that taint
        kubectl taint nodes node-1 dedicated:NoSchedule-

        # Taint every node labelled tier=edge
        kubectl taint nodes -l tier=edge edge=true:PreferNoSchedule
        """,
    ),
}
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
USAGE_HINT = "\nSee 'kubectl taint -h' for help and examples"


@dataclass(frozen=True)
class Taint:
    key: str
    value: str = ""
    effect: str = ""

    def __str__(self) -> str:  # v1.Taint's ToString
        if not self.effect:
            return self.key if not self.value else f"{self.key}={self.value}:"
        return f"{self.key}:{self.effect}" if not self.value else f"{self.key}={self.value}:{self.effect}"

    def wire(self) -> dict[str, str]:
        out = {"key": self.key, "effect": self.effect}
        if self.value:
            out["value"] = self.value
        return out


def parse_taint(spec: str) -> Taint:
    """`KEY`, `KEY:EFFECT` or `KEY=VALUE:EFFECT`, or the error kubectl gives (as a usage error)."""
    parts = spec.split(":")
    value = effect = ""
    if len(parts) == 1:
        key = parts[0]
    elif len(parts) == 2:
        effect = parts[1]
        if effect not in EFFECTS:
            raise CommandError(f"error: invalid taint effect: {effect}, unsupported taint effect{USAGE_HINT}")
        kv = parts[0].split("=")
        if len(kv) > 2:
            raise CommandError(f"error: invalid taint spec: {spec}{USAGE_HINT}")
        key = kv[0]
        if len(kv) == 2:
            value = kv[1]
            if errs := is_label_value(value):
                raise CommandError(f"error: invalid taint spec: {spec}, {'; '.join(errs)}{USAGE_HINT}")
    else:
        raise CommandError(f"error: invalid taint spec: {spec}{USAGE_HINT}")
    if errs := is_qualified_name(key):
        raise CommandError(f"error: invalid taint spec: {spec}, {'; '.join(errs)}{USAGE_HINT}")
    return Taint(key, value, effect)


def parse_taints(specs: list[str]) -> tuple[list[Taint], list[Taint]]:
    add: list[Taint] = []
    remove: list[Taint] = []
    for spec in specs:
        if spec.endswith("-"):
            t = parse_taint(spec[:-1])
            remove.append(Taint(t.key, effect=t.effect))
            continue
        t = parse_taint(spec)
        if not t.effect:
            raise CommandError(f"error: invalid taint spec: {spec}{USAGE_HINT}")
        if any(a.key == t.key and a.effect == t.effect for a in add):
            raise CommandError(
                f"error: duplicated taints with the same key and effect: {{{t.key} {t.value} {t.effect} <nil>}}"
                + USAGE_HINT
            )
        add.append(t)
    return add, remove


def reorganize(
    old: list[Taint], overwrite: bool, add: list[Taint], remove: list[Taint]
) -> tuple[str, list[Taint], list[str]]:
    """kubectl's reorganizeTaints: (result word, new list, the removals not found)."""
    new = list(add)
    new += [o for o in old if not any(t.key == o.key and t.effect == o.effect for t in add)]
    added = len(old) != len(new)
    missing, removed = [], False
    for r in remove:
        kept = [t for t in new if not (t.key == r.key and (not r.effect or t.effect == r.effect))]
        removed, new = len(kept) != len(new), kept
        if not removed:
            missing.append(f'taint "{r}" not found')
    if (added and removed) or overwrite:
        return "modified", new, missing
    return ("tainted" if added else "untainted"), new, missing


def _split_args(args: list[str]) -> tuple[list[str], list[str]]:
    resources: list[str] = []
    specs: list[str] = []
    for a in args:
        if "=" in a or ":" in a or a.endswith("-"):
            specs.append(a)
        elif specs:
            raise CommandError(f"error: all resources must be specified before taint changes: {a}")
        else:
            resources.append(a)
    if not resources:
        raise CommandError("error: one or more resources must be specified as <resource> <name>")
    if not specs:
        raise CommandError("error: at least one taint update is required")
    return resources, specs


def _validate(env: Env, p: Parsed, resources: list[str], add: list[Taint], remove: list[Taint]) -> None:
    kind = resources[0].lower()
    res = lookup(kind)
    if res is None:
        try:
            res = env.resource(kind)
        except CommandError as e:
            raise CommandError(e.message.removeprefix("error: ")) from None
    if res.kind != "Node":
        raise CommandError(f"error: invalid resource type {kind}, only node types are supported")
    conflicts = [
        f"{r.key}={r.effect}"
        for a in add
        for r in remove
        if a.key == r.key and (not r.effect or a.effect == r.effect)
    ]
    if conflicts:
        raise CommandError(
            "error: can not both modify and remove the following taint(s) in the same command: "
            + ", ".join(conflicts)
        )
    if p["all"] and p["selector"]:
        raise CommandError("error: setting 'all' parameter with a non empty selector is prohibited")
    if not p["all"] and not p["selector"] and len(resources) < 2:
        raise CommandError(
            "error: at least one resource name must be specified since 'all' parameter is not set"
        )


def taint(env: Env, p: Parsed) -> int:
    from kubectl.creating import dry_run_mode, report

    resources, specs = _split_args(p.args)
    add, remove = parse_taints(specs)
    _validate(env, p, resources, add, remove)
    mode = dry_run_mode(p)
    errors: list[str] = []
    targets: list[Any] = resources[1:]  # names, fetched in turn (a missing one is one more error)
    if p["all"] or p["selector"]:
        targets = list(env.client.list("nodes", label_selector=p["selector"] or None).get("items") or [])
    node_res = rq.resource("nodes")
    for node in targets:
        if isinstance(node, str):
            try:
                node = env.client.get("nodes", node)
            except ApiError as e:
                errors.append(api_error_text(e))
                continue
        name = node["metadata"]["name"]
        old = [
            Taint(t.get("key", ""), t.get("value", ""), t.get("effect", ""))
            for t in (node.get("spec") or {}).get("taints") or []
        ]
        if not p["overwrite"]:
            existing = [a.key for a in add for o in old if a.key == o.key and a.effect == o.effect]
            if existing:
                errors.append(
                    f"node {name} already has {','.join(existing)} taint(s) with same effect(s) and --overwrite is false"
                )
                continue
        word, new, missing = reorganize(old, p["overwrite"], add, remove)
        if missing:
            errors += missing
            continue
        patch = {"spec": {"taints": [t.wire() for t in new] or None}}
        result = {**node, "spec": {**(node.get("spec") or {}), "taints": patch["spec"]["taints"]}}
        if mode != "client":
            try:
                result = env.client.patch(
                    "nodes",
                    name,
                    patch,
                    rq.MERGE_PATCH,
                    dry_run=mode == "server",
                    field_manager=p["field-manager"],
                )
            except ApiError as e:
                errors.append(api_error_text(e))
                continue
        report(env, p, result, node_res, word, "none")
    if len(errors) == 1:
        print(
            errors[0] if errors[0].startswith(("Error from server", "error:")) else f"error: {errors[0]}",
            file=env.err,
        )
    else:
        for message in errors:
            print(message, file=env.err)
    return 1 if errors else 0
