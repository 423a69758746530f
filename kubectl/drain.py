"""Emptying one node for `kubectl drain` (kubectl's pkg/drain): which pods may go, then evicting them.

`classify` is kubectl's filter chain as a pure function over a pod: skipped (a mirror pod, or
one deleting longer than --skip-wait-for-delete-timeout), refused with the flag that would allow
it (DaemonSet-managed without --ignore-daemonsets, emptyDir without --delete-emptydir-data, no
controller without --force), or deleted, perhaps with a warning. Refusals of one node are reported
together, grouped by reason: `cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to
ignore): ns/a, ns/b`.

Evictions (policy/v1 Eviction to pods/NAME/eviction) answered 429 -- a PodDisruptionBudget that
allows no disruption now -- are retried every 5 seconds until --timeout, as kubectl does; kubectl
runs one goroutine per pod, here one pass over the pods still refused per retry, waiting meanwhile
for the evicted ones to go (a watch per pod, `kubectl.waiting`), so the output has the same lines.
`--disable-eviction` deletes instead. Errors come back as kubectl's messages, one per failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api import requests as rq
from api.errors import ApiError
from api.humanize import go_duration
from api.jsonutil import parse_time
from kubectl.creating import dry_run_suffix
from kubectl.env import CommandError, Env, parse_duration
from kubectl.flags import Parsed
from kubectl.waiting import wait_gone

Pod = dict[str, Any]
RETRY_DELAY = 5.0  # kubectl's EvictErrorRetryDelay
MIRROR = "kubernetes.io/config.mirror"
DAEMONSET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods"
LOCAL_STORAGE_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
UNMANAGED_FATAL = "cannot delete Pods that declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"
PODS = rq.resource("pods")


@dataclass
class Options:
    force: bool
    ignore_daemonsets: bool
    delete_emptydir_data: bool
    grace_period: int
    timeout: float  # seconds, 0: none
    timeout_text: str  # as Go prints the duration
    pod_selector: str
    disable_eviction: bool
    skip_wait_seconds: int
    mode: str  # dry run: none, client, server

    @classmethod
    def from_flags(cls, p: Parsed, mode: str) -> Options:
        from api.selectors import parse_label_selector

        try:
            parse_label_selector(p["pod-selector"])
        except ApiError:
            raise CommandError(
                "error: --pod-selector=<pod_selector> must be a valid label selector"
            ) from None
        timeout = parse_duration(p["timeout"], "timeout")
        return cls(
            p["force"],
            p["ignore-daemonsets"],
            p["delete-emptydir-data"],
            p["grace-period"],
            timeout,
            go_duration(timeout),
            p["pod-selector"],
            p["disable-eviction"],
            p["skip-wait-for-delete-timeout"],
            mode,
        )


def joined(errors: list[str]) -> str:
    """An aggregate error as Go prints it: the one message, or `[a, b]`."""
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"


def _finished(pod: Pod) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _deleting_too_long(pod: Pod, skip_seconds: int) -> bool:
    stamp = (pod.get("metadata") or {}).get("deletionTimestamp")
    return (
        skip_seconds > 0
        and isinstance(stamp, str)
        and int(time.time() - parse_time(stamp).timestamp()) > skip_seconds
    )


def classify(pod: Pod, opts: Options, daemonset_error: Callable[[str, str], str | None]) -> tuple[str, str]:
    """(verdict, message): verdict `delete`, `skip`, `warn-delete`, `warn-skip` or `error`.
    `daemonset_error(namespace, name)`: why the pod's DaemonSet cannot be read, None when it exists."""
    meta = pod.get("metadata") or {}
    if _deleting_too_long(pod, opts.skip_wait_seconds):
        return "skip", ""
    owner = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
    if owner is not None and owner.get("kind") == "DaemonSet" and not _finished(pod):
        why = daemonset_error(meta.get("namespace", ""), owner.get("name", ""))
        if why is not None:
            return ("warn-delete", why) if why.endswith("not found") and opts.force else ("error", why)
        if not opts.ignore_daemonsets:
            return "error", DAEMONSET_FATAL
        return "warn-skip", DAEMONSET_WARNING
    if MIRROR in (meta.get("annotations") or {}):
        return "skip", ""
    emptydir = any("emptyDir" in v for v in (pod.get("spec") or {}).get("volumes") or [])
    if emptydir and not _finished(pod) and not opts.delete_emptydir_data:
        return "error", LOCAL_STORAGE_FATAL
    # (kubectl's warning for deleting local storage is always replaced by the next filter's verdict)
    if _finished(pod) or owner is not None:
        return "delete", ""
    if opts.force:
        return "warn-delete", UNMANAGED_WARNING
    return "error", UNMANAGED_FATAL


def pods_for_deletion(env: Env, node: str, opts: Options) -> tuple[list[Pod], list[str], list[str]]:
    """(pods to delete, warnings, errors) for the node's pods, messages grouped by reason in the
    order the pods come."""
    listing = env.client.list(
        PODS, None, label_selector=opts.pod_selector or None, field_selector=f"spec.nodeName={node}"
    )
    daemonsets: dict[tuple[str, str], str | None] = {}

    def daemonset_error(ns: str, name: str) -> str | None:
        if (ns, name) not in daemonsets:
            try:
                env.client.get("daemonsets", name, ns)
                daemonsets[ns, name] = None
            except ApiError as e:
                daemonsets[ns, name] = e.message
        return daemonsets[ns, name]

    pods: list[Pod] = []
    warned: dict[str, list[str]] = {}
    failed: dict[str, list[str]] = {}
    for pod in listing.get("items") or []:
        verdict, message = classify(pod, opts, daemonset_error)
        meta = pod.get("metadata") or {}
        ref = f"{meta.get('namespace')}/{meta.get('name')}"
        if verdict.endswith("delete"):
            pods.append(pod)
        if verdict.startswith("warn"):
            warned.setdefault(message, []).append(ref)
        elif verdict == "error":
            failed.setdefault(message or "unexpected error", []).append(ref)
    warnings = [f"{m}: {', '.join(refs)}" for m, refs in warned.items()]
    return pods, warnings, [f"cannot delete {m}: {', '.join(refs)}" for m, refs in failed.items()]


def drain_node(env: Env, node: str, opts: Options) -> list[str]:
    """Evict (or delete) what may go from the node and wait for it; kubectl's errors, [] when drained."""
    pods, warnings, errors = pods_for_deletion(env, node, opts)
    if errors:
        return errors
    if warnings:
        print("Warning: " + "; ".join(warnings), file=env.err)
    if opts.mode == "client":
        for pod in pods:
            env.out.write(f"evicting pod {_ref(pod)} (dry run)\n")
        return []
    if not pods:
        return []
    deadline = time.monotonic() + opts.timeout if opts.timeout else float("inf")
    errors = (
        _delete_all(env, pods, opts, deadline)
        if opts.disable_eviction
        else _evict_all(env, pods, opts, deadline)
    )
    if errors:
        left, _, new_errors = pods_for_deletion(env, node, opts)
        if left:
            print(
                f'There are pending pods in node "{node}" when an error occurred: {joined(errors)}',
                file=env.err,
            )
            for pod in left:
                print(f"pod/{pod['metadata']['name']}", file=env.err)
        if new_errors:
            print(
                "Following errors occurred while getting the list of pods to delete:\n" + joined(new_errors),
                end="",
                file=env.err,
            )
    return errors


def _ref(pod: Pod) -> str:
    return f"{pod['metadata'].get('namespace')}/{pod['metadata']['name']}"


def _delete_options(opts: Options) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if opts.grace_period >= 0:
        options["gracePeriodSeconds"] = opts.grace_period
    if opts.mode == "server":
        options["dryRun"] = ["All"]
    return options


def _evict_all(env: Env, pods: list[Pod], opts: Options, deadline: float) -> list[str]:
    errors: list[str] = []
    evicted: list[Pod] = []
    pending = pods
    while pending:
        refused = []
        for pod in pending:
            meta = pod["metadata"]
            name, ns = meta["name"], meta.get("namespace")
            env.out.write(f"evicting pod {ns}/{name}{dry_run_suffix(opts.mode)}\n")  # mode: none or server
            env.out.flush()
            if time.monotonic() >= deadline:
                errors.append(
                    f'error when evicting pods/"{name}" -n "{ns}": global timeout reached: {opts.timeout_text}'
                )
                continue
            eviction = {
                "apiVersion": "policy/v1",
                "kind": "Eviction",
                "metadata": {"name": name, "namespace": ns},
                "deleteOptions": _delete_options(opts),
            }
            try:
                env.client.create(PODS, eviction, ns, subresource="eviction", name=name)
            except ApiError as e:
                if e.code == 404:
                    continue
                if e.code == 429:
                    print(
                        f'error when evicting pods/"{name}" -n "{ns}" (will retry after '
                        f"{go_duration(RETRY_DELAY)}): {e.message}",
                        file=env.err,
                    )
                    refused.append(pod)
                    continue
                errors.append(f'error when evicting pods/"{name}" -n "{ns}": {e.message}')
                continue
            if opts.mode != "server":
                evicted.append(pod)
        if refused:  # the evicted ones may go meanwhile
            evicted, errors = _wait(
                env, evicted, opts, min(deadline, time.monotonic() + RETRY_DELAY), errors, False
            )
            time.sleep(max(0.0, min(deadline, time.monotonic() + RETRY_DELAY) - time.monotonic()))
        pending = [_fresh(env, pod) for pod in refused]
    return _wait(env, evicted, opts, deadline, errors, True)[1]


def _fresh(env: Env, pod: Pod) -> Pod:
    try:
        return dict(env.client.get(PODS, pod["metadata"]["name"], pod["metadata"].get("namespace")))
    except ApiError:
        return pod  # the eviction sorts it out with the pod as it was


def _delete_all(env: Env, pods: list[Pod], opts: Options, deadline: float) -> list[str]:
    for pod in pods:
        meta = pod["metadata"]
        try:
            grace = opts.grace_period if opts.grace_period >= 0 else None
            req = rq.delete(
                PODS, meta["name"], meta.get("namespace"), None, grace, dry_run=opts.mode == "server"
            )
            env.client.call(req)
        except ApiError as e:
            if e.code != 404:
                return [e.message]
    if opts.mode == "server":
        return []
    left, _ = _wait(env, pods, opts, deadline, [], True, verb="deleted")
    return ["context deadline exceeded"] if left else []


def _wait(
    env: Env,
    pods: list[Pod],
    opts: Options,
    deadline: float,
    errors: list[str],
    final: bool,
    verb: str = "evicted",
) -> tuple[list[Pod], list[str]]:
    """Wait until each pod is gone (printing `pod/NAME evicted`) or the deadline; (pods left, errors
    with, when `final`, one for each pod left)."""
    left = []
    for pod in pods:
        meta = pod["metadata"]
        name, ns = meta["name"], meta.get("namespace")
        gone = _wait_one(env, pod, opts, deadline)
        if gone == "skipped":
            continue
        if gone == "gone":
            env.out.write(f"pod/{name} {verb}\n")
            env.out.flush()
            continue
        left.append(pod)
        if final and verb == "evicted":
            errors = [
                *errors,
                f'error when waiting for pod "{name}" in namespace "{ns}" to terminate: context deadline exceeded',
            ]
    return left, errors


def _wait_one(env: Env, pod: Pod, opts: Options, deadline: float) -> str:
    """`gone`, `skipped` (deleting longer than --skip-wait-for-delete-timeout) or `left`."""
    meta = pod["metadata"]
    name, ns, uid = meta["name"], meta.get("namespace"), meta.get("uid")
    while True:
        try:
            current = env.client.get(PODS, name, ns)
        except ApiError as e:
            if e.code == 404:
                return "gone"
            raise
        if (current.get("metadata") or {}).get("uid") != uid:
            return "gone"
        if _deleting_too_long(current, opts.skip_wait_seconds):
            env.out.write(
                f'pod "{name}" has DeletionTimestamp older than {opts.skip_wait_seconds} seconds, skipping\n'
            )
            return "skipped"
        until = deadline
        stamp = (current.get("metadata") or {}).get("deletionTimestamp")
        if opts.skip_wait_seconds > 0 and stamp:  # wake when the skip applies
            until = min(
                deadline,
                time.monotonic() + parse_time(stamp).timestamp() + opts.skip_wait_seconds + 1 - time.time(),
            )
        if wait_gone(env, PODS, ns, name, until, uid):
            return "gone"
        if until >= deadline:
            return "left"
