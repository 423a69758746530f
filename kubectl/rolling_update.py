"""`kubectl rolling-update OLD [NEW] (-f FILE | --image=IMG) [--update-period] [--rollback]`.

The client-side rolling update of replication controllers from kubectl 1.0-1.17: the new RC is
scaled up one pod at a time and the old one down one at a time (keeping the desired count
available and never more than one extra pod), waiting for the new pods to be ready and
`--update-period` between steps. It survives a crash: the new RC records
`kubectl.kubernetes.io/desired-replicas` and `update-source-id`, the old one
`next-controller-id`, so running the same command again continues where it stopped, and
`--rollback` turns an interrupted update around. With `--image` and no NEW name, both RCs get
a `deployment=<hash>` selector key so their pods stay apart, and the new RC takes the old
name at the end.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from api.errors import ApiError
from kubectl.env import CommandError, Env, parse_duration
from kubectl.flags import FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {
    "rolling-update": {
        "filename": ("list", [], "f"),
        "image": ("str", None, "", "Image for the new controller's pods (instead of -f)."),
        "update-period": ("str", "1m0s", "", "How long to wait between updating two pods."),
        "poll-interval": ("str", "3s", "", "How often to check the new pods while waiting for them."),
        "timeout": ("str", "5m0s", "", "How long to wait for each new pod to be ready before giving up."),
        "rollback": (
            "bool",
            False,
            "",
            "Go back to the old controller, abandoning an update that was interrupted.",
        ),
        "deployment-label-key": (
            "str",
            "deployment",
            "",
            "The label that tells the old pods from the new ones.",
        ),
        "container": (
            "str",
            None,
            "",
            "The container whose image --image changes, when the pod has several.",
        ),
        "dry-run": ("str", "none", ""),
        "image-pull-policy": ("str", None, ""),
        "output": ("str", "", "o"),
    }
}
HELP = {
    "rolling-update": Help(
        summary="Replace a replication controller's pods one by one",
        more="Replaces a replication controller's pods one at a time by those of a new controller, "
        "from a manifest (-f) or the old one with a new --image, then renames the new controller "
        "to the old name. The old command of kubectl 1.17 and before; `rollout` does this for "
        "deployments.",
        usage="OLD_CONTROLLER_NAME ([NEW_CONTROLLER_NAME] --image=NEW_CONTAINER_IMAGE | -f NEW_CONTROLLER_SPEC)",
        examples="""
        # From a manifest of the new controller
        kubectl rolling-update frontend-v1 -f frontend-v2.json

        # The same controller with another image
        kubectl rolling-update frontend --image=busybox:2

        # Go back after an interrupted update
        kubectl rolling-update frontend-v1 frontend-v2 --rollback
        """,
    )
}
DESIRED = "kubectl.kubernetes.io/desired-replicas"
SOURCE = "kubectl.kubernetes.io/update-source-id"
NEXT = "kubectl.kubernetes.io/next-controller-id"
Obj = dict[str, Any]


def template_hash(rc: Obj) -> str:
    text = json.dumps((rc.get("spec") or {}).get("template") or {}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


class Updater:
    def __init__(self, env: Env, p: Parsed) -> None:
        self.env, self.p = env, p
        self.ns = env.namespace
        self.period = parse_duration(p["update-period"], "update-period")
        self.poll = parse_duration(p["poll-interval"], "poll-interval")
        self.timeout = parse_duration(p["timeout"], "timeout")

    def say(self, text: str) -> None:
        self.env.out.write(text + "\n")
        self.env.out.flush()

    def get(self, name: str) -> Obj | None:
        try:
            return dict(self.env.client.get("replicationcontrollers", name, self.ns))
        except ApiError as e:
            if e.code == 404:
                return None
            raise

    def mutate(self, name: str, change: Callable[[Obj], None]) -> Obj:
        """Read, change, write back; on a conflict (the controller wrote status meanwhile) read again,
        as the old kubectl's updateRcWithRetries did."""
        for _ in range(10):
            rc = self.get(name)
            if rc is None:
                raise CommandError(f'Error from server (NotFound): replicationcontrollers "{name}" not found')
            change(rc)
            try:
                return dict(self.env.client.update("replicationcontrollers", rc, self.ns))
            except ApiError as e:
                if e.code != 409:
                    raise
        raise CommandError(f"error: replicationcontroller {name} kept changing; giving up")

    def set_replicas(self, name: str, n: int) -> None:
        self.env.client.patch("replicationcontrollers", name, {"spec": {"replicas": n}}, namespace=self.ns)

    def annotate(self, name: str, ann: dict[str, str | None]) -> None:
        self.env.client.patch(
            "replicationcontrollers", name, {"metadata": {"annotations": ann}}, namespace=self.ns
        )

    def wait_ready(self, name: str, want: int) -> None:
        """Until the RC reports `want` ready replicas."""
        self._poll(name, lambda st: want == 0 or int(st.get("readyReplicas") or 0) >= want)

    def wait_down(self, name: str, want: int) -> None:
        """Until the RC has no more than `want` replicas."""
        self._poll(name, lambda st: int(st.get("replicas") or 0) <= want)

    def _poll(self, name: str, done: Callable[[Obj], bool]) -> None:
        """Read the RC's status at --poll-interval (as kubectl did) until `done`, or fail at --timeout."""
        deadline = time.monotonic() + self.timeout
        while not done((self.get(name) or {}).get("status") or {}):
            if time.monotonic() > deadline:
                raise CommandError("error: timed out waiting for any update progress to be made")
            time.sleep(self.poll)

    def roll(self, old: Obj, new: Obj, desired: int) -> None:
        oname, nname = old["metadata"]["name"], new["metadata"]["name"]
        o = int((old.get("spec") or {}).get("replicas", 0))
        n = int((new.get("spec") or {}).get("replicas", 0))
        self.say(
            f"Scaling up {nname} from {n} to {desired}, scaling down {oname} from {o} to 0 "
            f"(keep {desired} pods available, don't exceed {desired + 1} pods)"
        )
        while n < desired or o > 0:
            if n < desired and o + n <= desired:
                n += 1
                self.say(f"Scaling {nname} up to {n}")
                self.set_replicas(nname, n)
                self.wait_ready(nname, n)
            if o > 0 and o + n > desired:
                o -= 1
                self.say(f"Scaling {oname} down to {o}")
                self.set_replicas(oname, o)
                self.wait_down(oname, o)
            if n < desired or o > 0:
                time.sleep(self.period)


def _new_from_image(up: Updater, old: Obj, new_name: str | None, image: str) -> tuple[Obj, bool]:
    """The new RC for `--image`: old's copy with the image, both sides keyed by `deployment=<hash>`."""
    key = up.p["deployment-label-key"]
    containers = ((old["spec"].get("template") or {}).get("spec") or {}).get("containers") or []
    target = up.p["container"] or (containers[0]["name"] if len(containers) == 1 else None)
    if target is None:
        raise CommandError("error: Must specify container to update when updating a multi-container pod")
    if any(c.get("name") == target and c.get("image") == image for c in containers):
        raise CommandError("error: Specified --image must be distinct from existing container image")
    new = copy.deepcopy(old)
    for c in new["spec"]["template"]["spec"]["containers"]:
        if c.get("name") == target:
            c["image"] = image
            if up.p["image-pull-policy"]:
                c["imagePullPolicy"] = up.p["image-pull-policy"]
    h = template_hash(new)
    name = new_name or f"{old['metadata']['name']}-{h}"
    new["metadata"] = {
        "name": name,
        "namespace": up.ns,
        "labels": dict(old["metadata"].get("labels") or {}),
        "annotations": {},
    }
    new["spec"]["replicas"] = 0
    new["spec"]["selector"] = {**(new["spec"].get("selector") or {}), key: h}
    new["spec"]["template"].setdefault("metadata", {}).setdefault("labels", {})[key] = h
    new.pop("status", None)
    # the old RC and its pods get their own key, so the two selectors never overlap
    if key not in (old["spec"].get("selector") or {}):
        oh = template_hash(old)
        old_name = old["metadata"]["name"]

        def label_template(rc: Obj) -> None:
            rc["spec"]["template"].setdefault("metadata", {}).setdefault("labels", {})[key] = oh

        def add_selector(rc: Obj) -> None:
            rc["spec"]["selector"] = {**rc["spec"]["selector"], key: oh}

        old = up.mutate(old_name, label_template)
        sel = ",".join(f"{k}={v}" for k, v in sorted((old["spec"].get("selector") or {}).items()))
        for pod in up.env.client.list("pods", up.ns, label_selector=sel).get("items") or []:
            up.env.client.patch(
                "pods", pod["metadata"]["name"], {"metadata": {"labels": {key: oh}}}, namespace=up.ns
            )
        up.mutate(old_name, add_selector)
    return new, new_name is None


def rolling_update(env: Env, p: Parsed) -> int:
    if not p.args:
        raise CommandError("error: Must specify the controller to update")
    up = Updater(env, p)
    old_name = p.args[0]
    new_name = p.args[1] if len(p.args) > 1 else None
    if bool(p["filename"]) == bool(p["image"]) and not p["rollback"]:
        raise CommandError("error: Must specify --filename or --image for new controller")
    old = up.get(old_name)
    if old is None:
        raise CommandError(
            f"error: couldn't find a replication controller with source id == {old_name}/{env.namespace}"
            if p["rollback"]
            else f'Error from server (NotFound): replicationcontrollers "{old_name}" not found'
        )
    if p["rollback"]:
        return _rollback(up, old)
    rename = False
    new: Obj | None = None
    if p["filename"]:
        from kubectl.manifests import load_paths

        docs = [d.obj for d in load_paths(p["filename"])]
        if len(docs) != 1 or docs[0].get("kind") != "ReplicationController":
            raise CommandError(
                "error: rolling-update only supports a single ReplicationController in --filename"
            )
        new = docs[0]
        new_name = new["metadata"]["name"]
        if new_name == old_name:
            raise CommandError(
                f"error: {p['filename'][0]} cannot have the same name as the existing ReplicationController"
            )
        if (new.get("spec") or {}).get("selector") == (old.get("spec") or {}).get("selector"):
            raise CommandError(
                f"error: {p['filename'][0]} must specify a matching key with non-equal value in "
                f"Selector for {old_name}"
            )
    existing_new = (
        up.get(new_name)
        if new_name
        else (
            up.get(old["metadata"].get("annotations", {}).get(NEXT, ""))
            if (old["metadata"].get("annotations") or {}).get(NEXT)
            else None
        )
    )
    desired = int((old.get("spec") or {}).get("replicas", 1))
    if existing_new is not None and (existing_new["metadata"].get("annotations") or {}).get(
        SOURCE, ""
    ).startswith(f"{old_name}:"):
        new = existing_new
        desired = int(new["metadata"]["annotations"].get(DESIRED, desired))
        rename = p["image"] is not None and len(p.args) < 2
        up.say(f"Continuing update with existing controller {new['metadata']['name']}.")
    else:
        if p["image"]:
            new, rename = _new_from_image(up, old, new_name, p["image"])
            old = up.get(old_name) or old
        assert new is not None
        desired = int((new.get("spec") or {}).get("replicas") or desired) if p["filename"] else desired
        new.setdefault("metadata", {}).setdefault("annotations", {})
        new["metadata"]["annotations"][DESIRED] = str(desired)
        new["metadata"]["annotations"][SOURCE] = f"{old_name}:{old['metadata'].get('uid', '')}"
        new["metadata"]["namespace"] = env.namespace
        new.setdefault("spec", {})["replicas"] = 0
        if up.p["dry-run"] not in ("none", "false"):
            up.say(f"Created {new['metadata']['name']} (dry run)")
            return 0
        new = dict(env.client.create("replicationcontrollers", new, env.namespace))
        up.annotate(old_name, {NEXT: new["metadata"]["name"]})
        up.say(f"Created {new['metadata']['name']}")
    up.roll(old, new, desired)
    nname = new["metadata"]["name"]
    up.say(f"Update succeeded. Deleting {old_name}")
    env.client.delete("replicationcontrollers", old_name, env.namespace, propagation_policy="Background")
    if rename:
        from kubectl.waiting import wait_gone

        wait_gone(env, env.resource("rc"), env.namespace, old_name, time.monotonic() + up.timeout)
        up.say(f"Renaming {nname} to {old_name}")
        renamed = copy.deepcopy(up.get(nname) or new)
        renamed["metadata"] = {
            "name": old_name,
            "namespace": env.namespace,
            "labels": renamed["metadata"].get("labels") or {},
            "annotations": {
                k: v
                for k, v in (renamed["metadata"].get("annotations") or {}).items()
                if k not in (DESIRED, SOURCE, NEXT)
            },
        }
        renamed.pop("status", None)
        env.client.create("replicationcontrollers", renamed, env.namespace)
        # orphan the pods so the renamed RC adopts them instead of replacing them
        env.client.delete("replicationcontrollers", nname, env.namespace, propagation_policy="Orphan")
        env.out.write(f'replicationcontroller "{old_name}" rolling updated\n')
    else:
        env.out.write(f'replicationcontroller "{old_name}" rolling updated to "{nname}"\n')
    return 0


def _rollback(up: Updater, old: Obj) -> int:
    """Turn an interrupted OLD -> NEW update around: NEW scales down, OLD back up."""
    old_name = old["metadata"]["name"]
    next_name = (old["metadata"].get("annotations") or {}).get(NEXT)
    new = up.get(next_name) if next_name else None
    if new is None:
        raise CommandError(
            f"error: {old_name} is not in the middle of a rolling update (no {NEXT} annotation "
            "naming an existing controller)"
        )
    desired = int((new["metadata"].get("annotations") or {}).get(DESIRED) or old["spec"].get("replicas") or 1)
    up.say(f'Setting "{old_name}" replicas to {desired}')
    up.say(f"Continuing update with existing controller {old_name}.")
    up.roll(new, old, desired)
    up.say(f"Update succeeded. Deleting {new['metadata']['name']}")
    up.env.client.delete(
        "replicationcontrollers", new["metadata"]["name"], up.ns, propagation_policy="Background"
    )
    up.annotate(old_name, {NEXT: None})
    up.env.out.write(f'replicationcontroller "{new["metadata"]["name"]}" rolled back to "{old_name}"\n')
    return 0
