"""`kubectl describe` for services, nodes and namespaces, and a generic form for anything else.

Same writer and layout rules as `kubectl.describe`. A service's endpoints come from its
Endpoints object; a node lists its non-terminated pods (field selector `spec.nodeName`).
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError
from api.humanize import age
from kubectl.describe_writer import (
    L1,
    Obj,
    Out,
    events_block,
    fetch_events,
    format_labels,
    heading,
    meta,
    rfc1123z,
)
from kubectl.env import Env


def describe_service(env: Env, svc: Obj) -> str:
    out, m = Out(), meta(svc)
    spec = svc.get("spec") or {}
    heading(out, svc)
    out.w(f"Selector:\t{format_labels(spec.get('selector'))}")
    out.w(f"Type:\t{spec.get('type') or 'ClusterIP'}")
    if spec.get("ipFamilyPolicy"):
        out.w(f"IP Family Policy:\t{spec['ipFamilyPolicy']}")
    out.w("IP Families:\t" + (",".join(spec.get("ipFamilies") or []) or "<none>"))
    if spec.get("clusterIP"):
        out.w(f"IP:\t{spec['clusterIP']}")
        out.w("IPs:\t" + ",".join(spec.get("clusterIPs") or [spec["clusterIP"]]))
    if spec.get("externalIPs"):
        out.w("External IPs:\t" + ",".join(spec["externalIPs"]))
    endpoints: Any = None
    try:
        endpoints = env.client.get("endpoints", m.get("name", ""), m.get("namespace"))
    except ApiError:
        endpoints = None
    for port in spec.get("ports") or []:
        name = port.get("name") or "<unset>"
        proto = port.get("protocol") or "TCP"
        out.w(f"Port:\t{name}  {port.get('port')}/{proto}")
        target = port.get("targetPort", port.get("port"))
        out.w(f"TargetPort:\t{target}/{proto}")
        if port.get("nodePort"):
            out.w(f"NodePort:\t{name}  {port['nodePort']}/{proto}")
        out.w(f"Endpoints:\t{_endpoints_for(endpoints, port)}")
    out.w(f"Session Affinity:\t{spec.get('sessionAffinity') or 'None'}")
    if spec.get("externalTrafficPolicy"):
        out.w(f"External Traffic Policy:\t{spec['externalTrafficPolicy']}")
    if spec.get("internalTrafficPolicy"):
        out.w(f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}")
    events_block(out, fetch_events(env, svc))
    return out.text()


def _endpoints_for(ep: Obj | None, port: Obj) -> str:
    if not ep:
        return "<none>"
    addrs = []
    for subset in ep.get("subsets") or []:
        ports = subset.get("ports") or []
        match = [p for p in ports if p.get("name", "") == port.get("name", "")] or ports[:1]
        for a in subset.get("addresses") or []:
            for p in match:
                addrs.append(f"{a.get('ip')}:{p.get('port')}")
    if not addrs:
        return "<none>"
    shown = ",".join(addrs[:3])
    return shown + (f" + {len(addrs) - 3} more..." if len(addrs) > 3 else "")


def describe_namespace(env: Env, ns: Obj) -> str:
    """kubectl's describeNamespace: then the namespace's quotas and LimitRanges (when listed)."""
    out = Out()
    heading(out, ns)
    out.w(f"Status:\t{(ns.get('status') or {}).get('phase') or 'Active'}")
    name = meta(ns).get("name")
    for plural, section in (("resourcequotas", _quotas), ("limitranges", _limit_ranges)):
        try:
            items = env.client.list(plural, name).get("items") or []
        except ApiError:
            continue  # a server without the kind, or a user without the right: no section (kubectl)
        out.w("")
        section(out, items)
    return out.text()


_SCOPE_HELP = {
    "Terminating": "Matches all pods that have an active deadline. These pods have a limited lifespan on a "
    "node before being actively terminated by the system.",
    "NotTerminating": "Matches all pods that do not have an active deadline. These pods usually include long "
    "running pods whose container command is not expected to terminate.",
    "BestEffort": "Matches all pods that do not have resource requirements set. These pods have a best effort "
    "quality of service.",
    "NotBestEffort": "Matches all pods that have at least one resource requirement set. These pods have a "
    "burstable or guaranteed quality of service.",
}


def _quotas(out: Out, quotas: list[Obj]) -> None:
    """kubectl's DescribeResourceQuotas."""
    if not quotas:
        out.w("No resource quota.")
        return
    out.w("Resource Quotas")
    for q in sorted(quotas, key=lambda q: meta(q).get("name") or ""):
        out.w(f"{L1}Name:\t{meta(q).get('name')}")
        scopes = sorted(str(s) for s in (q.get("spec") or {}).get("scopes") or [])
        if scopes:
            out.w(f"{L1}Scopes:\t{', '.join(scopes)}")
            out.w("\n".join(f"{L1}* {_SCOPE_HELP[s]}" for s in scopes if s in _SCOPE_HELP))
        out.w(f"{L1}Resource\tUsed\tHard\n{L1}--------\t---\t---")
        status = q.get("status") or {}
        hard, used = status.get("hard") or {}, status.get("used") or {}
        for resource in sorted(hard):
            out.w(f"{L1}{resource}\t{used.get(resource, '0')}\t{hard[resource]}")


def _limit_ranges(out: Out, ranges: list[Obj]) -> None:
    """kubectl's DescribeLimitRanges (each item's resources in name order: kubectl's order is a Go
    map's)."""
    if not ranges:
        out.w("No LimitRange resource.")
        return
    out.w("Resource Limits")
    out.w(" Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio")
    out.w(" ----\t--------\t---\t---\t---------------\t-------------\t-----------------------")
    keys = ("min", "max", "defaultRequest", "default", "maxLimitRequestRatio")
    for lr in ranges:
        for item in (lr.get("spec") or {}).get("limits") or []:
            maps = [item.get(k) or {} for k in keys]
            for resource in sorted({r for m in maps for r in m}):
                cells = "\t".join(str(m.get(resource, "-")) for m in maps)
                out.w(f" {item.get('type')}\t{resource}\t{cells}")


def describe_node(env: Env, node: Obj) -> str:
    out, m = Out(), meta(node)
    spec, status = node.get("spec") or {}, node.get("status") or {}
    labels = m.get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    heading(out, node, ("Roles", ",".join(roles) or "<none>"))
    out.w(f"CreationTimestamp:\t{rfc1123z(m.get('creationTimestamp'))}")
    taints = spec.get("taints") or []
    if taints:
        for i, t in enumerate(taints):
            text = f"{t.get('key')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect')}"
            out.w(f"Taints:\t{text}" if i == 0 else f"\t{text}")
    else:
        out.w("Taints:\t<none>")
    out.w(f"Unschedulable:\t{'true' if spec.get('unschedulable') else 'false'}")
    try:
        lease = env.client.get("leases", m.get("name", ""), "kube-node-lease")
        ls = lease.get("spec") or {}
        out.w(f"Lease:\n{L1}HolderIdentity:\t{ls.get('holderIdentity', '<unset>')}")
        out.w(
            f"{L1}AcquireTime:\t{rfc1123z(ls.get('acquireTime'))}\n{L1}RenewTime:\t{rfc1123z(ls.get('renewTime'))}"
        )
    except ApiError as e:
        out.w(f"Lease:\tFailed to get lease: {e.message}")
    conds = status.get("conditions") or []
    if conds:
        out.w("Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage")
        out.w(f"{L1}----\t------\t-----------------\t------------------\t------\t-------")
        for c in conds:
            out.w(
                f"{L1}{c.get('type')} \t{c.get('status')} \t{rfc1123z(c.get('lastHeartbeatTime'))} \t"
                f"{rfc1123z(c.get('lastTransitionTime'))} \t{c.get('reason', '')} \t{c.get('message', '')}"
            )
    addrs = status.get("addresses") or []
    out.w("Addresses:" if addrs else "Addresses:\t<none>")
    for a in addrs:
        out.w(f"{L1}{a.get('type')}:\t{a.get('address')}")
    for key, title in (("capacity", "Capacity"), ("allocatable", "Allocatable")):
        if status.get(key):
            out.w(f"{title}:")
            for k in sorted(status[key]):
                out.w(f"{L1}{k}:\t{status[key][k]}")
    info = status.get("nodeInfo") or {}
    if info:
        out.w("System Info:")
        for k, title in (
            ("machineID", "Machine ID"),
            ("systemUUID", "System UUID"),
            ("bootID", "Boot ID"),
            ("kernelVersion", "Kernel Version"),
            ("osImage", "OS Image"),
            ("operatingSystem", "Operating System"),
            ("architecture", "Architecture"),
            ("containerRuntimeVersion", "Container Runtime Version"),
            ("kubeletVersion", "Kubelet Version"),
            ("kubeProxyVersion", "Kube-Proxy Version"),
        ):
            out.w(f"{L1}{title}:\t{info.get(k, '')}")
    if spec.get("podCIDR"):
        out.w(f"PodCIDR:\t{spec['podCIDR']}")
    if spec.get("podCIDRs"):
        out.w(f"PodCIDRs:\t{','.join(spec['podCIDRs'])}")
    try:
        pods = (
            env.client.list("pods", None, field_selector=f"spec.nodeName={m.get('name')}").get("items") or []
        )
    except ApiError:
        pods = []
    pods = [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    out.w(f"Non-terminated Pods:\t({len(pods)} in total)")
    alloc = status.get("allocatable") or status.get("capacity") or {}
    out.w(f"{L1}Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge")
    out.w(f"{L1}---------\t----\t\t------------\t----------\t---------------\t-------------\t---")
    totals = {
        k: 0.0
        for k in (
            "cpu/requests",
            "cpu/limits",
            "memory/requests",
            "memory/limits",
            "ephemeral-storage/requests",
            "ephemeral-storage/limits",
        )
    }
    for p in pods:
        pm = meta(p)
        cells = []
        for res_name in ("cpu", "memory"):
            for kind in ("requests", "limits"):
                v = sum(
                    _quantity(((c.get("resources") or {}).get(kind) or {}).get(res_name, "0"))
                    for c in (p.get("spec") or {}).get("containers") or []
                )
                totals[f"{res_name}/{kind}"] += v
                cells.append(_share(v, alloc.get(res_name), res_name))
        out.w(
            f"{L1}{pm.get('namespace')}\t{pm.get('name')}\t\t"
            + "\t".join(cells)
            + f"\t{age(pm.get('creationTimestamp'))}"
        )
    out.w("Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)")
    out.w(f"{L1}Resource\tRequests\tLimits\n{L1}--------\t--------\t------")
    for res_name in ("cpu", "memory", "ephemeral-storage"):
        out.w(
            f"{L1}{res_name}\t{_share(totals[res_name + '/requests'], alloc.get(res_name), res_name)}\t"
            f"{_share(totals[res_name + '/limits'], alloc.get(res_name), res_name)}"
        )
    events_block(out, fetch_events(env, node))
    return out.text()


_SUFFIX = {
    "m": 0.001,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 1024.0,
    "Mi": 1024.0**2,
    "Gi": 1024.0**3,
    "Ti": 1024.0**4,
}


def _quantity(text: Any) -> float:
    s = str(text)
    for suffix in sorted(_SUFFIX, key=len, reverse=True):
        if s.endswith(suffix):
            try:
                return float(s[: -len(suffix)]) * _SUFFIX[suffix]
            except ValueError:
                return 0.0
    try:
        return float(s)
    except ValueError:
        return 0.0


def _share(value: float, allocatable: Any, resource: str) -> str:
    """`100m (5%)`, `64Mi (1%)`, `0 (0%)` as kubectl's node describe prints them."""
    total = _quantity(allocatable) if allocatable else 0.0
    pct = int(value / total * 100) if total else 0
    if not value:
        return "0 (0%)"
    if resource == "cpu":
        milli = round(value * 1000)
        text = f"{milli // 1000}" if milli % 1000 == 0 else f"{milli}m"
    else:
        text = f"{int(value)}"
        for suffix in ("Ti", "Gi", "Mi", "Ki"):
            if value % _SUFFIX[suffix] == 0:
                text = f"{int(value // _SUFFIX[suffix])}{suffix}"
                break
    return f"{text} ({pct}%)"


def describe_generic(env: Env, obj: Obj) -> str:
    """Name, namespace, labels, annotations, then the rest of the object as indented fields."""
    out = Out()
    heading(out, obj)
    out.w(f"API Version:\t{obj.get('apiVersion', '')}\nKind:\t{obj.get('kind', '')}")

    def walk(v: Any, indent: str) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                if isinstance(x, dict | list) and x:
                    out.w(f"{indent}{k[:1].upper() + k[1:]}:")
                    walk(x, indent + L1)
                else:
                    out.w(f"{indent}{k[:1].upper() + k[1:]}:\t{x}")
        elif isinstance(v, list):
            for x in v:
                walk(x, indent + L1) if isinstance(x, dict | list) else out.w(f"{indent}{x}")

    walk({k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}, "")
    events_block(out, fetch_events(env, obj))
    return out.text()
