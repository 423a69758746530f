"""Which objects a verb's arguments name: `TYPE NAME...`, `TYPE/NAME...`, `po,svc`; the pod and
container `logs`, `exec` and `attach` act on (a pod, or a workload's first pod; the default
container). Shared by the verbs so that none imports another.
"""

from __future__ import annotations

from typing import Any

from api.resources import Resource
from api.selectors import label_selector_string, map_to_string
from kubectl.env import CommandError, Env

# what kubectl says to a verb given no resource by argument or filename
NEED_ARGS = (
    "error: You must provide one or more resources by argument or filename.\n"
    "Example resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
    "   '<resource> <name>'\n   '<resource>'"
)


def kind_prefix(res: Resource) -> str:
    """`kind.group`, as kubectl names a resource before `/name` (`deployment.apps/web`, `pod/p`)."""
    return res.kind.lower() + (f".{res.group}" if res.group else "")


def selector_of(obj: dict[str, Any]) -> str:
    """A workload's `spec.selector` as a query: an RC's map or a metav1.LabelSelector."""
    selector = (obj.get("spec") or {}).get("selector") or {}
    if isinstance(selector.get("matchLabels"), dict) or "matchExpressions" in selector:
        return label_selector_string(selector)
    return map_to_string(selector)


def parse_targets(env: Env, args: list[str]) -> list[tuple[Resource, list[str]]]:
    """`pods web db`, `po,svc`, `all`, `pod/web rc/x` -> [(resource, names)]."""
    if not args:
        raise CommandError(
            'You must specify the type of resource to get. Use "kubectl api-resources" for a complete list '
            'of supported resources.\n\nerror: Required resource not specified.\nUse "kubectl explain '
            '<resource>" for a detailed description of that resource (e.g. kubectl explain pods).\n'
            "See 'kubectl get -h' for help and examples"
        )
    if "/" in args[0]:
        out: list[tuple[Resource, list[str]]] = []
        for a in args:
            kind, sep, name = a.partition("/")
            if not sep or not name:
                raise CommandError(
                    "error: there is no need to specify a resource type as a separate argument "
                    "when passing arguments in resource/name form (e.g. 'kubectl get "
                    "resource/<resource_name>' instead of 'kubectl get resource "
                    "resource/<resource_name>'"
                )
            res = env.resource(kind)
            for r, names in out:
                if r == res:
                    names.append(name)
                    break
            else:
                out.append((res, [name]))
        return out
    return [(r, list(args[1:])) for r in env.resources_for(args[0])]


DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"


def pick_container(env: Env, pod: dict[str, Any], wanted: str | None) -> str:
    """The container to use, announcing the default as kubectl does."""
    spec = pod.get("spec") or {}
    names = [c.get("name", "") for c in spec.get("containers") or []]
    if wanted:
        return wanted
    if not names:
        raise CommandError(f"error: pod {pod['metadata']['name']} does not have a container")
    annotated = ((pod.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CONTAINER)
    if annotated in names:
        return str(annotated)
    if len(names) > 1:
        print(f'Defaulted container "{names[0]}" out of: {", ".join(names)}', file=env.err)
    return names[0]


def resolve_pod(env: Env, args: list[str]) -> dict[str, Any]:
    """`POD`, `pod/POD`, or `rc/NAME` (the RC's first pod, by its selector)."""
    if not args:
        raise CommandError(
            "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
            "POD or TYPE/NAME is a required argument for the logs command\n"
            "See 'kubectl logs -h' for help and examples"
        )
    kind, sep, name = args[0].partition("/")
    if not sep:
        return dict(env.client.get("pods", args[0], env.namespace))
    res = env.resource(kind)
    if res.kind == "Pod":
        return dict(env.client.get("pods", name, env.namespace))
    obj = env.client.get(res, name, env.namespace)
    sel = selector_of(obj)
    pods = env.client.list("pods", env.namespace, label_selector=sel).get("items") or []
    if not pods:
        raise CommandError("error: timed out waiting for the condition")
    pods.sort(key=lambda p: (p.get("metadata") or {}).get("creationTimestamp") or "")
    if len(pods) > 1:
        print(f"Found {len(pods)} pods, using pod/{pods[0]['metadata']['name']}", file=env.err)
    return dict(pods[0])
