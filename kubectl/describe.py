"""`kubectl describe`: the long, human form of pods and replication controllers (services, nodes
and namespaces in `describe_others`), with the object's events.

Lines are written as kubectl's PrefixWriter writes them (indent levels of two spaces, `\\t`
between label and value) and aligned by `go_tabwriter` with kubectl's settings, so the output
lines up exactly as the real one (`describe_writer` holds the writer and the shared blocks).
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError
from api.humanize import age
from api.qos import qos_class
from api.resources import Resource
from kubectl.describe_template import pod_template_block, pods_status_line
from kubectl.describe_writer import (
    L1,
    Obj,
    Out,
    containers_block,
    controlled_by_line,
    events_block,
    fetch_events,
    format_labels,
    heading,
    meta,
    rfc1123z,
    tolerations_block,
    volumes_block,
)
from kubectl.env import CommandError, Env
from kubectl.flags import FILE_FLAGS, FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {
    "describe": {
        "selector": ("str", None, "l"),
        "all-namespaces": ("bool", False, "A"),
        "show-events": ("bool", True, "", "Include the events about the object."),
        **FILE_FLAGS,
    }
}
HELP = {
    "describe": Help(
        summary="Show objects in detail, with their events",
        more="Prints a readable account of each object: its spec and status, the objects it "
        "relates to and, unless --show-events=false, its recent events. NAME may be a prefix: "
        "every object whose name starts with it is described.",
        usage="(-f FILENAME | TYPE [NAME_PREFIX | -l label] | TYPE/NAME)",
        examples="""
        # A node, and a pod
        kubectl describe nodes node-1
        kubectl describe pods/web-1

        # Every pod whose name starts with web
        kubectl describe pods web

        # Pods chosen by label, or the objects of a manifest
        kubectl describe pods -l app=web
        kubectl describe -f web.yaml
        """,
    )
}


def describe_pod(env: Env, pod: Obj) -> str:
    out, m = Out(), meta(pod)
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    fields: list[tuple[str, object]] = []
    if spec.get("priority") is not None:
        fields.append(("Priority", spec["priority"]))
    for key, title in (
        ("priorityClassName", "Priority Class Name"),
        ("serviceAccountName", "Service Account"),
    ):
        if spec.get(key):
            fields.append((title, spec[key]))
    node = spec.get("nodeName")
    fields.append(
        ("Node", node + ("/" + status["hostIP"] if status.get("hostIP") else "") if node else "<none>")
    )
    if status.get("startTime"):
        fields.append(("Start Time", rfc1123z(status["startTime"])))
    heading(out, pod, *fields)
    if m.get("deletionTimestamp"):
        out.w(f"Status:\tTerminating (lasts {age(m['deletionTimestamp'])})")
        out.w(f"Termination Grace Period:\t{m.get('deletionGracePeriodSeconds', 0)}s")
    else:
        out.w(f"Status:\t{status.get('phase', '')}")
    for key, title in (("reason", "Reason"), ("message", "Message")):
        if status.get(key):
            out.w(f"{title}:\t{status[key]}")
    out.w(f"IP:\t{status.get('podIP', '')}")
    ips = status.get("podIPs") or []
    if ips:
        out.w("IPs:\n" + "\n".join(f"  IP:\t{i.get('ip')}" for i in ips))
    else:
        out.w("IPs:\t<none>")
    controlled_by_line(out, pod)
    if status.get("nominatedNodeName"):  # the node preemption is making room on (kubectl's words)
        out.w(f"NominatedNodeName:\t{status['nominatedNodeName']}")
    if spec.get("initContainers"):
        containers_block(
            out, "Init Containers", spec["initContainers"], status.get("initContainerStatuses"), "", pod=pod
        )
    containers_block(
        out, "Containers", spec.get("containers") or [], status.get("containerStatuses"), "", pod=pod
    )
    conds = status.get("conditions") or []
    if conds:
        out.w("Conditions:\n  Type\tStatus")
        for c in conds:
            out.w(f"{L1}{c.get('type')} \t{c.get('status')} ")
    volumes_block(out, spec.get("volumes"))
    out.w(f"QoS Class:\t{status.get('qosClass') or qos_class(spec)}")
    out.w(f"Node-Selectors:\t{format_labels(spec.get('nodeSelector'))}")
    tolerations_block(out, spec.get("tolerations"))
    events_block(out, fetch_events(env, pod))
    return out.text()


def describe_rc(env: Env, rc: Obj) -> str:
    out = Out()
    spec, status = rc.get("spec") or {}, rc.get("status") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
    heading(out, rc, ("Selector", selector))
    out.w(f"Replicas:\t{status.get('replicas', 0)} current / {spec.get('replicas', 1)} desired")
    out.w(pods_status_line(env, rc, selector or None))
    pod_template_block(out, spec.get("template") or {})
    events_block(out, fetch_events(env, rc))
    return out.text()


def describe(env: Env, p: Parsed) -> int:
    from kubectl import describe_apps as apps
    from kubectl import describe_autoscaling as autoscaling
    from kubectl import describe_networking as networking
    from kubectl import describe_others as others
    from kubectl import describe_workloads as workloads

    describers = {
        "Pod": describe_pod,
        "ReplicationController": describe_rc,
        "Service": others.describe_service,
        "Node": others.describe_node,
        "Namespace": others.describe_namespace,
        "Deployment": apps.describe_deployment,
        "ReplicaSet": apps.describe_replicaset,
        "DaemonSet": workloads.describe_daemonset,
        "StatefulSet": workloads.describe_statefulset,
        "Job": workloads.describe_job,
        "CronJob": workloads.describe_cronjob,
        "HorizontalPodAutoscaler": autoscaling.describe_hpa,
        "NetworkPolicy": networking.describe_network_policy,
    }
    targets: list[tuple[Resource, list[str]]]
    if p["filename"]:
        from kubectl.manifests import load_paths, resource_of

        targets = [
            (resource_of(env, d), [(d.obj.get("metadata") or {}).get("name", "")])
            for d in load_paths(p["filename"], p["recursive"])
        ]
    else:
        from kubectl.targets import parse_targets

        targets = parse_targets(env, p.args)
    texts: list[str] = []
    failed = False
    fn_of = lambda res: describers.get(res.kind, others.describe_generic)  # noqa: E731
    for res, names in targets:
        ns = env.namespace if res.namespaced else None
        objs: list[Obj] = []
        if names:
            for n in names:
                try:
                    objs.append(env.client.get(res, n, ns))
                except ApiError as e:
                    if e.code != 404:
                        raise
                    if len(targets) == 1 and len(names) == 1:
                        return _describe_prefix(env, res, ns, n, e, fn_of(res))
                    from kubectl.errors import api_error_text

                    print(api_error_text(e), file=env.err)
                    failed = True
        else:
            listing = env.client.list(res, None if p["all-namespaces"] else ns, label_selector=p["selector"])
            objs = list(listing.get("items") or [])
            if not objs and not failed:
                print(
                    f"No resources found in {env.namespace} namespace."
                    if res.namespaced and not p["all-namespaces"]
                    else "No resources found",
                    file=env.err,
                )
        texts += [fn_of(res)(env, o) for o in objs]
    env.out.write("\n\n".join(texts))  # kubectl puts two blank lines between objects
    if not texts and not failed and not targets:
        raise CommandError("error: Required resource not specified.")
    return 1 if failed else 0


def _describe_prefix(env: Env, res: Resource, ns: str | None, prefix: str, err: ApiError, fn: Any) -> int:
    """A name that is not found describes every object whose name starts with it (kubectl does)."""
    listing = env.client.list(res, ns).get("items") or []
    match = [o for o in listing if meta(o).get("name", "").startswith(prefix)]
    if not match:
        from kubectl.errors import api_error_text

        print(api_error_text(err), file=env.err)
        return 1
    for o in match:
        env.out.write(fn(env, o) + "\n")
    return 0
