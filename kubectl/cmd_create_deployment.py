"""`kubectl create deployment NAME --image=IMAGE [--replicas=N] [--port=P] [-- COMMAND]`.

Builds the Deployment kubectl's create_deployment.go builds (label and selector `app=NAME`,
one container per image named after the image's last path segment without tag or digest,
`_` made `-`, duplicates numbered) and creates it through `kubectl create`'s path, so
`--dry-run`, `-o` and `--save-config` behave as for `create -f`.
"""

from __future__ import annotations

from typing import Any

from kubectl.env import CommandError, Env
from kubectl.flags import WRITE_FLAGS, FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {
    "create": {
        **WRITE_FLAGS,
        "image": ("list", [], "", "Image of a container; give it several times for several containers."),
        "replicas": ("int", 1, "r", "Number of replicas."),
        "port": ("int", -1, "", "Port the container exposes; -1 exposes none."),
    }
}
HELP = {
    "create deployment": Help(
        summary="Create a deployment running one or more images",
        more="The containers are named after their images; arguments after -- become the "
        "command of the (single) container.",
        aliases=("deploy",),
        usage="NAME --image=image -- [COMMAND] [args...]",
        examples="""
        # Three replicas of nginx
        kubectl create deployment web --image=nginx --replicas=3

        # A container that runs a command, exposing a port
        kubectl create deployment clock --image=busybox --port=8080 -- sh -c 'while date; do sleep 5; done'

        # Two containers in each pod
        kubectl create deployment pair --image=nginx --image=busybox
        """,
    )
}


def container_names(images: list[str]) -> list[str]:
    """The image's last path segment without tag or digest; a name with `_` gets `-` instead and a
    random 5-letter suffix, as sanitizeAndUniquify makes it (repeated names stay as they are)."""
    import random

    names = [image.split("/")[-1].split("@")[0].split(":")[0] for image in images]
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return [
        f"{n.replace('_', '-')}-{''.join(random.choices(alphabet, k=5))}" if "_" in n else n for n in names
    ]


def deployment_object(
    name: str, images: list[str], replicas: int, port: int, command: list[str]
) -> dict[str, Any]:
    labels = {"app": name}
    containers: list[dict[str, Any]] = []
    for cname, image in zip(container_names(images), images, strict=True):
        c: dict[str, Any] = {"name": cname, "image": image}  # Go's field order: json -o keeps it
        if command:
            c["command"] = list(command)
        containers.append(c)
    if port >= 0:
        containers[0]["ports"] = [{"containerPort": port}]
    for c in containers:
        c["resources"] = {}
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {"name": name, "creationTimestamp": None, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"creationTimestamp": None, "labels": labels},
                "spec": {"containers": containers},
            },
            "strategy": {},
        },
        "status": {},
    }


def create(env: Env, p: Parsed) -> int:
    from kubectl.creating import create_generated

    args = p.args[1:]  # after "deployment"
    if len(args) != 1:
        raise CommandError("error: exactly one NAME is required, got " + str(len(args)))
    if not p["image"]:
        raise CommandError('error: required flag(s) "image" not set')
    if len(p["image"]) > 1 and p.command:
        raise CommandError("error: cannot specify multiple --image options and command")
    obj = deployment_object(args[0], p["image"], p["replicas"], p["port"], p.command)

    def sent(o: dict[str, Any]) -> None:
        # the null timestamps are how the typed object prints; the server stores the template without
        o["spec"]["template"]["metadata"].pop("creationTimestamp")

    return create_generated(env, p, obj, "deployments", sent=sent)
