"""`kubectl rollout status|history|undo|restart|pause|resume` for Deployments, DaemonSets and
StatefulSets.

The I/O around `kubectl.rollout_rules`: `status` reads the object, then watches it (field
selector on its name) printing kubectl's message at every event until the rollout is done, the
progress deadline is exceeded or `--timeout` passes; `history` and `undo` read the ReplicaSets
(Deployment) or ControllerRevisions (DaemonSet, StatefulSet) the object controls; `restart`
stamps `kubectl.kubernetes.io/restartedAt` on the template; `pause`/`resume` flip spec.paused.
Each prints kubectl's one line (`deployment.apps/web rolled back`).
"""

from __future__ import annotations

import re
import time
from typing import Any

from api import requests as rq
from api.errors import ApiError
from api.resources import Resource
from kubectl import rollout_rules as rules
from kubectl.env import CommandError, Env, parse_duration
from kubectl.flags import FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {
    "rollout": {
        "watch": (
            "bool",
            True,
            "w",
            "Keep watching until the rollout is done; false prints the status once.",
        ),
        "revision": (
            "int",
            0,
            "",
            "The revision to show (history) or to watch (status); 0 means the latest.",
        ),
        "timeout": ("str", "0s", "", "How long to watch before giving up; 0 means no limit."),
        "to-revision": ("int", 0, "", "The revision to go back to; 0 means the one before the current."),
        "dry-run": ("str", "none", ""),
        "output": ("str", "", "o"),
        "filename": ("list", [], "f"),
        "selector": ("str", None, "l"),
        "recursive": ("bool", False, "R"),
        "field-manager": ("str", "kubectl-rollout", ""),
    }
}
_PICK = ("filename", "recursive", "selector")
_WRITE = (*_PICK, "field-manager", "output")
HELP = {
    "rollout": Help(
        summary="Follow, pause, restart or undo the rollout of workloads",
        more="Watch, pause, resume, restart or undo the rollout of a deployment, daemon set or "
        "stateful set (pause and resume: deployments only).",
        usage="SUBCOMMAND",
        examples="""
        # Follow a deployment's rollout
        kubectl rollout status deployment/web

        # Go back to the previous revision
        kubectl rollout undo deployment/web

        # Restart the pods of every deployment labelled app=web
        kubectl rollout restart deployment -l app=web
        """,
        flags=(),
    ),
    "rollout status": Help(
        summary="Follow a rollout until it completes",
        more="Prints the rollout's progress as it happens and returns when it is done, failed, or "
        "--timeout passed. With --revision it stops with an error if a newer revision takes over.",
        usage="(TYPE NAME | TYPE/NAME) [flags]",
        examples="""
        # Until a deployment's rollout completes
        kubectl rollout status deployment/web

        # Just the current state, without waiting
        kubectl rollout status daemonset/agent --watch=false
        """,
        flags=(*_PICK, "revision", "timeout", "watch"),
    ),
    "rollout history": Help(
        summary="List the revisions of a workload",
        usage="(TYPE NAME | TYPE/NAME) [flags]",
        examples="""
        # The revisions of a deployment
        kubectl rollout history deployment/web

        # The pod template of revision 3
        kubectl rollout history statefulset/db --revision=3
        """,
        flags=(*_PICK, "output", "revision"),
    ),
    "rollout undo": Help(
        summary="Go back to an earlier revision",
        more="Puts back the pod template of an earlier revision, the previous one by default.",
        usage="(TYPE NAME | TYPE/NAME) [flags]",
        examples="""
        # Back to the previous revision
        kubectl rollout undo deployment/web

        # Back to revision 2, showing what would be sent
        kubectl rollout undo daemonset/agent --to-revision=2 --dry-run=server
        """,
        flags=(*_PICK, "dry-run", "output", "to-revision"),
    ),
    "rollout restart": Help(
        summary="Replace every pod of a workload",
        more="Replaces every pod of the workload with a new one, by stamping the time on its pod template.",
        usage="RESOURCE",
        examples="""
        # A deployment's pods
        kubectl rollout restart deployment/web

        # Every daemon set of the namespace
        kubectl rollout restart daemonset
        """,
        flags=_WRITE,
    ),
    "rollout pause": Help(
        summary="Hold a deployment's rollouts",
        more="A paused deployment starts no rollout, whatever changes, until it is resumed.",
        usage="RESOURCE",
        examples="""
        # Hold a deployment's rollouts while changing it several times
        kubectl rollout pause deployment/web
        """,
        flags=_WRITE,
    ),
    "rollout resume": Help(
        summary="Let a paused deployment roll out again",
        more="The deployment then rolls out what changed while it was paused.",
        usage="RESOURCE",
        examples="""
        # Let a paused deployment roll out again
        kubectl rollout resume deployment/web
        """,
        flags=_WRITE,
    ),
}

_SUBS = ("status", "history", "undo", "restart", "pause", "resume")
_KINDS = {
    "status": ("Deployment", "DaemonSet", "StatefulSet"),
    "history": ("Deployment", "DaemonSet", "StatefulSet"),
    "undo": ("Deployment", "DaemonSet", "StatefulSet"),
    "restart": ("Deployment", "DaemonSet", "StatefulSet"),
    "pause": ("Deployment",),
    "resume": ("Deployment",),
}


def _label(res: Resource, name: str) -> str:
    return f"{res.kind.lower()}{'.' + res.group if res.group else ''}/{name}"


def _targets(env: Env, p: Parsed, args: list[str]) -> list[tuple[Resource, str]]:
    if p["filename"]:
        from kubectl.manifests import load_paths, resource_of

        return [
            (resource_of(env, d), (d.obj.get("metadata") or {}).get("name", ""))
            for d in load_paths(p["filename"], p["recursive"])
        ]
    if not args:
        raise CommandError("error: required resource not specified")
    if "/" in args[0]:
        out = []
        for a in args:
            kind, _, name = a.partition("/")
            out.append((env.resource(kind), name))
        return out
    res = env.resource(args[0])
    names = args[1:]
    if not names and p["selector"]:
        items = env.client.list(res, env.namespace, label_selector=p["selector"]).get("items") or []
        names = [(o.get("metadata") or {}).get("name", "") for o in items]
    if not names:
        raise CommandError("error: required resource not specified")
    return [(res, n) for n in names]


_UNSUPPORTED = {
    "status": "error: no status viewer has been implemented for {kind}",
    "history": 'error: no history viewer has been implemented for "{kind}"',
    "undo": 'error: no rollbacker has been implemented for "{kind}"',
    "restart": 'error: {gr} "{name}" restarting is not supported',
    "pause": 'error: {gr} "{name}" pausing is not supported',
    "resume": 'error: {gr} "{name}" resuming is not supported',
}


def _group_resource(res: Resource) -> str:
    return f"{res.plural}.{res.group}" if res.group else res.plural


def rollout(env: Env, p: Parsed) -> int:
    if not p.args or p.args[0] not in _SUBS:
        if p.args:
            raise CommandError(
                f'error: unknown command "{" ".join(p.args)}"\n'
                "See 'kubectl rollout -h' for help and examples"
            )
        from kubectl.helppage import page

        env.out.write(page(HELP, FLAGS, "rollout", []))
        return 0
    sub, args = p.args[0], p.args[1:]
    failed = 0
    for res, name in _targets(env, p, args):
        obj = env.client.get(res, name, env.namespace)
        if res.kind not in _KINDS[sub]:
            print(_UNSUPPORTED[sub].format(kind=res.kind, gr=_group_resource(res), name=name), file=env.err)
            failed = 1
            continue
        try:
            globals()[f"_{sub}"](env, p, res, name, obj)
        except rules.RolloutError as e:
            raise CommandError(f"error: {e}") from None
        except _ObjectError as e:
            print(f'error: {_group_resource(res)} "{name}" {e}', file=env.err)
            failed = 1
    return failed


class _ObjectError(Exception):
    """Reported as `error: deployments.apps "web" <message>`, the next object still handled."""


def _status(env: Env, p: Parsed, res: Resource, name: str, obj: Any) -> None:
    view = rules.STATUS[res.kind]
    timeout = parse_duration(p["timeout"], "timeout")
    deadline = time.monotonic() + timeout if timeout > 0 else None
    shown = None
    while True:
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if rv != shown:  # printed at every change, as kubectl prints at every watch event
            msg, done = view(obj)
            env.out.write(msg)
            env.out.flush()
            if done or not p["watch"]:
                return
            shown = rv
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise CommandError("error: timed out waiting for the condition")
        changed = _next_change(env, res, name, rv, left)
        # the watch ended or expired without a change: read the object afresh
        obj = changed if changed is not None else env.client.get(res, name, env.namespace)


def _next_change(env: Env, res: Resource, name: str, rv: str | None, left: float | None) -> Any:
    """The object at its next change seen by a watch, or None when the watch ends first."""
    seconds = 300 if left is None else max(1, min(300, int(left + 0.999)))
    try:
        for ev in env.client.watch(
            res,
            env.namespace,
            resource_version=rv,
            field_selector=f"metadata.name={name}",
            timeout_seconds=seconds,
        ):
            typ = ev.get("type")
            if typ in ("ADDED", "MODIFIED"):
                return ev.get("object")
            if typ == "DELETED":
                raise CommandError("error: object has been deleted")
            if typ == "ERROR":
                return None
    except ApiError as e:
        if e.code != 410:
            raise
    return None


def _history_items(env: Env, res: Resource, obj: Any) -> dict[int, Any]:
    sel = (obj.get("spec") or {}).get("selector")
    from kubectl.describe_template import selector_query

    label_selector = selector_query(sel)
    plural = "replicasets" if res.kind == "Deployment" else "controllerrevisions"
    items = env.client.list(plural, env.namespace, label_selector=label_selector).get("items") or []
    return rules.history_of(res.kind, rules.controlled_by(obj, items))


def _history(env: Env, p: Parsed, res: Resource, name: str, obj: Any) -> None:
    history = _history_items(env, res, obj)
    if p["revision"] > 0:
        item = history.get(p["revision"])
        if item is None:
            raise CommandError("error: unable to find the specified revision")
        from kubectl.describe_template import pod_template_block
        from kubectl.describe_writer import Out

        out = Out()
        pod_template_block(out, rules.template_of(res.kind, item, shown=True))
        # kubectl prints it unaligned, continuation lines of a label list without the indent
        raw = "".join(re.sub(r"^ +\t", "\t", line) + "\n" for block in out.blocks for line in block)
        env.out.write(f"{_label(res, name)} with revision #{p['revision']}\n{raw}\n")
        return
    env.out.write(f"{_label(res, name)} \n{rules.history_table(history)}\n")


def _undo(env: Env, p: Parsed, res: Resource, name: str, obj: Any) -> None:
    to = p["to-revision"]
    if res.kind == "Deployment" and (obj.get("spec") or {}).get("paused"):
        raise rules.RolloutError(
            "you cannot rollback a paused deployment; resume it first with "
            "'kubectl rollout resume' and try again"
        )
    target = rules.undo_target(res.kind, name, _history_items(env, res, obj), to)
    if rules.matches_current(res.kind, obj, target):
        env.out.write(
            f"{_label(res, name)} skipped rollback (current template already matches revision {to})\n"
        )
        return
    dry = p["dry-run"] not in ("none", "false")
    if not dry:
        try:
            if res.kind == "Deployment":
                env.client.patch(
                    res, name, rules.deployment_undo_patch(obj, target), rq.JSON_PATCH, env.namespace
                )
            else:
                env.client.patch(res, name, target.get("data") or {}, rq.STRATEGIC_MERGE_PATCH, env.namespace)
        except ApiError as e:
            revision = rules.rs_revision(target) if res.kind == "Deployment" else target.get("revision")
            raise rules.RolloutError(f"failed restoring revision {revision}: {e}") from None
    env.out.write(f"{_label(res, name)} rolled back{' (dry run)' if dry else ''}\n")


def _restart(env: Env, p: Parsed, res: Resource, name: str, obj: Any) -> None:
    import datetime as dt

    if res.kind == "Deployment" and (obj.get("spec") or {}).get("paused"):
        raise _ObjectError("can't restart paused deployment (run rollout resume first)")
    now = dt.datetime.now().astimezone().replace(microsecond=0).isoformat().replace("+00:00", "Z")
    body = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}}}}
    env.client.patch(
        res, name, body, rq.STRATEGIC_MERGE_PATCH, env.namespace, field_manager=p["field-manager"]
    )
    env.out.write(f"{_label(res, name)} restarted\n")


def _pause(env: Env, p: Parsed, res: Resource, name: str, obj: Any, paused: bool = True) -> None:
    word = "paused" if paused else "resumed"
    if bool((obj.get("spec") or {}).get("paused")) == paused:
        raise _ObjectError("is already paused" if paused else "is not paused")
    body = {"spec": {"paused": True if paused else None}}
    env.client.patch(
        res, name, body, rq.STRATEGIC_MERGE_PATCH, env.namespace, field_manager=p["field-manager"]
    )
    env.out.write(f"{_label(res, name)} {word}\n")


def _resume(env: Env, p: Parsed, res: Resource, name: str, obj: Any) -> None:
    _pause(env, p, res, name, obj, paused=False)
