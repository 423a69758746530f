"""`kubectl create job NAME (--image=IMAGE | --from=cronjob/NAME) [-- COMMAND]` and
`kubectl create cronjob NAME --image=IMAGE --schedule=SCHEDULE [--restart=POLICY] [-- COMMAND]`.

Build the objects kubectl's create_job.go and create_cronjob.go build (one container named
after the Job or CronJob; restartPolicy Never for a Job, OnFailure by default for a CronJob;
`--from=cronjob/X` copies X's job template, adds `cronjob.kubernetes.io/instantiate: manual`
and makes X the Job's owner) and create them through `kubectl create`'s path, so `--dry-run`,
`-o` and `--save-config` behave as for `create -f`. Fields are in Go's struct order, which
`-o json` shows.
"""

from __future__ import annotations

from typing import Any

from kubectl.env import CommandError, Env
from kubectl.flags import WRITE_FLAGS, FlagSpec, Help, Parsed

_COMMON: FlagSpec = {**WRITE_FLAGS, "image": ("str", "", "")}
FLAGS: dict[str, FlagSpec] = {
    "create": {
        **_COMMON,
        "from": ("str", "", "", "The cron job (cronjob/NAME) whose job template the job is made from."),
        "schedule": ("str", "", "", "When the cron job runs, in cron format (e.g. '*/5 * * * *')."),
        "restart": ("str", "", "", "Restart policy of the job's pods: OnFailure (the default) or Never."),
    }
}
HELP = {
    "create job": Help(
        summary="Create a job running an image, or from a cron job's template",
        more="Arguments after -- become the container's command.",
        usage="NAME --image=image [--from=cronjob/name] -- [COMMAND] [args...]",
        examples="""
        # A job printing the date
        kubectl create job once --image=busybox -- date

        # Run a cron job now, from its template
        kubectl create job backup-now --from=cronjob/backup
        """,
        flags=(*WRITE_FLAGS, "image", "from"),
    ),
    "create cronjob": Help(
        summary="Create a cron job that runs an image on a schedule",
        more="Arguments after -- become the container's command.",
        aliases=("cj",),
        usage="NAME --image=image --schedule='0/5 * * * ?' -- [COMMAND] [args...]",
        examples="""
        # Every five minutes
        kubectl create cronjob tick --image=busybox --schedule='*/5 * * * *' -- date
        """,
        flags=(*WRITE_FLAGS, "image", "schedule", "restart"),
    ),
}


def _pod_template(name: str, image: str, command: list[str], restart: str) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": image}
    if command:
        c["command"] = list(command)
    c["resources"] = {}
    return {"metadata": {"creationTimestamp": None}, "spec": {"containers": [c], "restartPolicy": restart}}


def job_object(name: str, image: str, command: list[str]) -> dict[str, Any]:
    return {
        "kind": "Job",
        "apiVersion": "batch/v1",
        "metadata": {"name": name, "creationTimestamp": None},
        "spec": {"template": _pod_template(name, image, command, "Never")},
        "status": {},
    }


def job_from_cronjob(name: str, cronjob: dict[str, Any]) -> dict[str, Any]:
    tmpl = (cronjob.get("spec") or {}).get("jobTemplate") or {}
    tm = tmpl.get("metadata") or {}
    annotations = {"cronjob.kubernetes.io/instantiate": "manual", **(tm.get("annotations") or {})}
    cm = cronjob.get("metadata") or {}
    meta: dict[str, Any] = {"name": name, "creationTimestamp": None}
    if tm.get("labels"):
        meta["labels"] = dict(tm["labels"])
    meta["annotations"] = annotations
    meta["ownerReferences"] = [
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": cm.get("name"),
            "uid": cm.get("uid"),
            "controller": True,
        }
    ]
    return {
        "kind": "Job",
        "apiVersion": "batch/v1",
        "metadata": meta,
        "spec": dict(tmpl.get("spec") or {}),
        "status": {},
    }


def cronjob_object(name: str, image: str, schedule: str, restart: str, command: list[str]) -> dict[str, Any]:
    return {
        "kind": "CronJob",
        "apiVersion": "batch/v1",
        "metadata": {"name": name, "creationTimestamp": None},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "metadata": {"name": name, "creationTimestamp": None},
                "spec": {"template": _pod_template(name, image, command, restart or "OnFailure")},
            },
        },
        "status": {},
    }


def _one_name(p: Parsed, what: str) -> str:
    args = p.args[1:]
    if len(args) != 1:
        raise CommandError(
            f"error: exactly one NAME is required, got {len(args)}\n"
            f"See 'kubectl create {what} -h' for help and examples"
        )
    return args[0]


def create(env: Env, p: Parsed) -> int:
    from kubectl.creating import create_generated

    kind = "cronjob" if p.args[0] in ("cronjob", "cj") else "job"
    if kind == "job":
        if bool(p["image"]) == bool(p["from"]):
            raise CommandError("error: either --image or --from must be specified")
        name = _one_name(p, "job")
        if p["from"]:
            obj = job_from_cronjob(name, _source_cronjob(env, p["from"]))
        else:
            obj = job_object(name, p["image"], p.command)
    else:
        if not p["schedule"]:
            raise CommandError('error: required flag(s) "schedule" not set')
        name = _one_name(p, "cronjob")
        if not p["image"]:
            raise CommandError('error: required flag(s) "image" not set')
        obj = cronjob_object(name, p["image"], p["schedule"], p["restart"], p.command)
    # kubectl's create job/cronjob wrap the server's refusal
    return create_generated(env, p, obj, kind + "s", f"failed to create {kind}: ")


def _source_cronjob(env: Env, ref: str) -> dict[str, Any]:
    kind, _, name = ref.partition("/")
    if not name or kind.lower() not in ("cronjob", "cronjobs", "cj", "cronjob.batch", "cronjobs.batch"):
        raise CommandError(f"error: from must be an existing cronjob: {ref}")
    return dict(env.client.get(env.resource("cronjobs"), name, env.namespace))
