"""`kubectl describe`: the long, human form of pods and replication controllers (services, nodes
and namespaces in `describe_others`), with the object's events.

Lines are written as kubectl's PrefixWriter writes them (indent levels of two spaces, `\\t`
between label and value) and aligned by `go_tabwriter` with kubectl's settings, so the output
lines up exactly as the real one; the events table is flushed and aligned on its own.
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError
from api.resources import Resource
from kubectl.env import CommandError, Env
from kubectl.flags import FlagSpec, Parsed
from kubectl.tables import age, go_tabwriter

Obj = dict[str, Any]
FLAGS: dict[str, FlagSpec] = {"describe": {"selector": ("str", None, "l"), "all-namespaces": ("bool", False, "A"),
                                           "show-events": ("bool", True, ""), "filename": ("list", [], "f"),
                                           "recursive": ("bool", False, "R")}}
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
L1, L2, L3 = "  ", "    ", "      "


class Out:
    """Lines with tabs, in blocks aligned separately (kubectl flushes before the events table)."""

    def __init__(self) -> None:
        self.blocks: list[list[str]] = [[]]

    def w(self, text: str) -> None:
        self.blocks[-1].extend(text.split("\n"))

    def flush(self) -> None:
        self.blocks.append([])

    def text(self) -> str:
        return "".join(go_tabwriter(b) for b in self.blocks if b)


def rfc1123z(ts: str | None) -> str:
    if not ts:
        return "<unset>"
    from api.jsonutil import parse_time

    t = parse_time(ts).astimezone()
    return t.strftime("%a, %d %b %Y %H:%M:%S %z")


def meta(o: Obj) -> Obj:
    return o.get("metadata") or {}


def labels_block(out: Out, title: str, labels: dict[str, str] | None, indent: str = "") -> None:
    if not labels:
        out.w(f"{indent}{title}:\t<none>")
        return
    for i, k in enumerate(sorted(labels)):
        out.w(f"{indent}{title}:\t{k}={labels[k]}" if i == 0 else f"{indent}\t{k}={labels[k]}")


def annotations_block(out: Out, annotations: dict[str, str] | None, indent: str = "") -> None:
    shown = {k: v for k, v in (annotations or {}).items() if k != LAST_APPLIED}
    if not shown:
        out.w(f"{indent}Annotations:\t<none>")
        return
    for i, k in enumerate(sorted(shown)):
        v = shown[k].strip()
        if len(v) > 200:
            v = v[:197] + "..."
        v = v.replace("\n", f"\n{indent}\t")
        out.w(f"{indent}Annotations:\t{k}: {v}" if i == 0 else f"{indent}\t{k}: {v}")


def events_block(out: Out, events: list[Obj] | None) -> None:
    if events is None:
        return
    if not events:
        out.w("Events:\t<none>")
        return
    out.flush()
    events = sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    out.w("Events:\n  Type\tReason\tAge\tFrom\tMessage")
    out.w(f"{L1}----\t------\t----\t----\t-------")
    for e in events:
        first = age(e.get("firstTimestamp") or e.get("eventTime"))
        count = int(e.get("count") or 1)
        interval = f"{age(e.get('lastTimestamp'))} (x{count} over {first})" if count > 1 else first
        source = (e.get("source") or {}).get("component") or e.get("reportingComponent") or ""
        out.w(f"{L1}{e.get('type', '')}\t{e.get('reason', '')}\t{interval}\t{source}\t"
              f"{(e.get('message') or '').strip()}")


def fetch_events(env: Env, o: Obj) -> list[Obj] | None:
    if not env.flags.flags.get("show-events", True):
        return None
    m = meta(o)
    sel = f"involvedObject.name={m.get('name')}"
    if m.get("namespace"):
        sel += f",involvedObject.namespace={m['namespace']}"
    if m.get("uid"):
        sel += f",involvedObject.uid={m['uid']}"
    try:
        return list(env.client.list("events", m.get("namespace") or None, field_selector=sel).get("items") or [])
    except ApiError:
        return []


def _ports(ports: list[Obj], key: str) -> str:
    return ", ".join(f"{p.get(key, 0)}/{p.get('protocol') or 'TCP'}" for p in ports)


def _state(out: Out, title: str, state: Obj) -> None:
    if state.get("running") is not None:
        out.w(f"{L2}{title}:\tRunning\n{L3}Started:\t{rfc1123z(state['running'].get('startedAt'))}")
    elif state.get("terminated") is not None:
        t = state["terminated"]
        out.w(f"{L2}{title}:\tTerminated")
        if t.get("reason"):
            out.w(f"{L3}Reason:\t{t['reason']}")
        if t.get("message"):
            out.w(f"{L3}Message:\t{t['message']}")
        out.w(f"{L3}Exit Code:\t{t.get('exitCode', 0)}")
        if t.get("signal"):
            out.w(f"{L3}Signal:\t{t['signal']}")
        out.w(f"{L3}Started:\t{rfc1123z(t.get('startedAt'))}\n{L3}Finished:\t{rfc1123z(t.get('finishedAt'))}")
    else:
        out.w(f"{L2}{title}:\tWaiting")
        reason = (state.get("waiting") or {}).get("reason")
        if reason:
            out.w(f"{L3}Reason:\t{reason}")


def _probe(p: Obj) -> str:
    if p.get("httpGet"):
        h = p["httpGet"]
        what = f"http-get {(h.get('scheme') or 'HTTP').lower()}://{h.get('host', '')}:{h.get('port')}{h.get('path', '')}"
    elif p.get("tcpSocket"):
        what = f"tcp-socket :{p['tcpSocket'].get('port')}"
    elif p.get("exec"):
        what = "exec [" + " ".join(p["exec"].get("command") or []) + "]"
    else:
        what = "unknown"
    return (f"{what} delay={p.get('initialDelaySeconds', 0)}s timeout={p.get('timeoutSeconds', 1)}s "
            f"period={p.get('periodSeconds', 10)}s #success={p.get('successThreshold', 1)} "
            f"#failure={p.get('failureThreshold', 3)}")


def containers_block(out: Out, title: str, containers: list[Obj], statuses: list[Obj] | None, space: str,
                     indent: str = "") -> None:
    out.w(f"{indent}{title}:")
    by_name = {s.get("name"): s for s in statuses or []}
    for c in containers:
        st = by_name.get(c.get("name"))
        out.w(f"{L1}{space}{c.get('name')}:")
        if st and st.get("containerID"):
            out.w(f"{L2}Container ID:\t{st['containerID']}")
        out.w(f"{L2}Image:\t{c.get('image', '')}")
        if st is not None:
            out.w(f"{L2}Image ID:\t{st.get('imageID', '')}")
        ports = _ports(c.get("ports") or [], "containerPort")
        host = _ports(c.get("ports") or [], "hostPort")
        out.w(f"{L2}{'Ports' if ',' in ports else 'Port'}:\t{ports or '<none>'}")
        out.w(f"{L2}{'Host Ports' if ',' in host else 'Host Port'}:\t{host or '<none>'}")
        for key, name in (("command", "Command"), ("args", "Args")):
            if c.get(key):
                out.w(f"{L2}{name}:")
                for part in c[key]:
                    for line in str(part).split("\n"):
                        out.w(f"{L3}{line}")
        if st is not None:
            _state(out, "State", st.get("state") or {})
            if (st.get("lastState") or {}).get("terminated"):
                _state(out, "Last State", st["lastState"])
            out.w(f"{L2}Ready:\t{'True' if st.get('ready') else 'False'}")
            out.w(f"{L2}Restart Count:\t{st.get('restartCount', 0)}")
        res = c.get("resources") or {}
        for key, name in (("limits", "Limits"), ("requests", "Requests")):
            if res.get(key):
                out.w(f"{L2}{name}:")
                for k in sorted(res[key]):
                    out.w(f"{L3}{k}:\t{res[key][k]}")
        for key, name in (("livenessProbe", "Liveness"), ("readinessProbe", "Readiness"),
                          ("startupProbe", "Startup")):
            if c.get(key):
                out.w(f"{L2}{name}:\t{_probe(c[key])}")
        env = c.get("env") or []
        out.w(f"{L2}Environment:" + ("" if env else "\t<none>"))
        for e in env:
            if "value" in e or not e.get("valueFrom"):
                out.w(f"{L3}{e.get('name')}:\t{e.get('value', '')}")
            else:
                ref = e["valueFrom"].get("fieldRef") or {}
                out.w(f"{L3}{e.get('name')}:\t ({ref.get('apiVersion', 'v1')}:{ref.get('fieldPath', '')})")
        mounts = sorted(c.get("volumeMounts") or [], key=lambda m: m.get("mountPath", ""))
        out.w(f"{L2}Mounts:" + ("" if mounts else "\t<none>"))
        for m in mounts:
            flags = ["ro" if m.get("readOnly") else "rw"]
            if m.get("subPath"):
                flags.append(f'path="{m["subPath"]}"')
            out.w(f"{L3}{m.get('mountPath')} from {m.get('name')} ({','.join(flags)})")


def volumes_block(out: Out, volumes: list[Obj] | None, indent: str = "") -> None:
    if not volumes:
        out.w(f"{indent}Volumes:\t<none>")
        return
    out.w(f"{indent}Volumes:")
    for v in volumes:
        out.w(f"{indent}{L1}{v.get('name')}:")
        if "emptyDir" in v:
            ed = v.get("emptyDir") or {}
            out.w(f"{indent}{L2}Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)")
            out.w(f"{indent}{L2}Medium:\t{ed.get('medium', '')}")
            out.w(f"{indent}{L2}SizeLimit:\t{ed.get('sizeLimit', '<unset>')}")
        elif "hostPath" in v:
            hp = v.get("hostPath") or {}
            out.w(f"{indent}{L2}Type:\tHostPath (bare host directory volume)")
            out.w(f"{indent}{L2}Path:\t{hp.get('path', '')}")
            out.w(f"{indent}{L2}HostPathType:\t{hp.get('type', '')}")
        else:
            kind = next((k for k in v if k != "name"), "unknown")
            out.w(f"{indent}{L2}Type:\t{kind}")


def tolerations_block(out: Out, tolerations: list[Obj] | None, indent: str = "") -> None:
    if not tolerations:
        out.w(f"{indent}Tolerations:\t<none>")
        return
    for i, t in enumerate(tolerations):
        text = t.get("key", "")
        if t.get("value"):
            text += f"={t['value']}"
        if t.get("effect"):
            text += f":{t['effect']}"
        if t.get("operator") == "Exists" and not t.get("value"):
            text += " op=Exists"
        if t.get("tolerationSeconds") is not None:
            text += f" for {t['tolerationSeconds']}s"
        out.w(f"{indent}Tolerations:\t{text}" if i == 0 else f"{indent}\t{text}")


def _qos(spec: Obj) -> str:
    cs = spec.get("containers") or []
    reqs = [((c.get("resources") or {}).get("requests") or {}) for c in cs]
    lims = [((c.get("resources") or {}).get("limits") or {}) for c in cs]
    if not any(reqs) and not any(lims):
        return "BestEffort"
    guaranteed = all(lim.get(r) and (req.get(r, lim.get(r)) == lim.get(r)) for req, lim in zip(reqs, lims, strict=True)
                     for r in ("cpu", "memory"))
    return "Guaranteed" if guaranteed else "Burstable"


def describe_pod(env: Env, pod: Obj) -> str:
    out, m = Out(), meta(pod)
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    out.w(f"Name:\t{m.get('name')}\nNamespace:\t{m.get('namespace')}")
    if spec.get("priority") is not None:
        out.w(f"Priority:\t{spec['priority']}")
    if spec.get("priorityClassName"):
        out.w(f"Priority Class Name:\t{spec['priorityClassName']}")
    if spec.get("serviceAccountName"):
        out.w(f"Service Account:\t{spec['serviceAccountName']}")
    node = spec.get("nodeName")
    out.w(f"Node:\t{node + ('/' + status['hostIP'] if status.get('hostIP') else '') if node else '<none>'}")
    if status.get("startTime"):
        out.w(f"Start Time:\t{rfc1123z(status['startTime'])}")
    labels_block(out, "Labels", m.get("labels"))
    annotations_block(out, m.get("annotations"))
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
    owner = next((o for o in m.get("ownerReferences") or [] if o.get("controller")), None)
    if owner:
        out.w(f"Controlled By:\t{owner.get('kind')}/{owner.get('name')}")
    if spec.get("initContainers"):
        containers_block(out, "Init Containers", spec["initContainers"], status.get("initContainerStatuses"), "")
    containers_block(out, "Containers", spec.get("containers") or [], status.get("containerStatuses"), "")
    conds = status.get("conditions") or []
    if conds:
        out.w("Conditions:\n  Type\tStatus")
        for c in conds:
            out.w(f"{L1}{c.get('type')} \t{c.get('status')} ")
    volumes_block(out, spec.get("volumes"))
    out.w(f"QoS Class:\t{status.get('qosClass') or _qos(spec)}")
    sel = spec.get("nodeSelector") or {}
    out.w("Node-Selectors:\t" + (",".join(f"{k}={v}" for k, v in sorted(sel.items())) or "<none>"))
    tolerations_block(out, spec.get("tolerations"))
    events_block(out, fetch_events(env, pod))
    return out.text()


def describe_rc(env: Env, rc: Obj) -> str:
    out, m = Out(), meta(rc)
    spec, status = rc.get("spec") or {}, rc.get("status") or {}
    selector = spec.get("selector") or {}
    out.w(f"Name:\t{m.get('name')}\nNamespace:\t{m.get('namespace')}")
    out.w("Selector:\t" + ",".join(f"{k}={v}" for k, v in sorted(selector.items())))
    labels_block(out, "Labels", m.get("labels"))
    annotations_block(out, m.get("annotations"))
    out.w(f"Replicas:\t{status.get('replicas', 0)} current / {spec.get('replicas', 1)} desired")
    counts = {"Running": 0, "Pending": 0, "Succeeded": 0, "Failed": 0}
    try:
        sel = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        for p in env.client.list("pods", m.get("namespace"), label_selector=sel).get("items") or []:
            owners = [o.get("uid") for o in meta(p).get("ownerReferences") or [] if o.get("controller")]
            if owners and m.get("uid") not in owners:
                continue
            phase = (p.get("status") or {}).get("phase") or "Pending"
            counts[phase] = counts.get(phase, 0) + 1
    except ApiError:
        pass
    out.w(f"Pods Status:\t{counts['Running']} Running / {counts['Pending']} Waiting / {counts['Succeeded']} "
          f"Succeeded / {counts['Failed']} Failed")
    template = spec.get("template") or {}
    tspec = template.get("spec") or {}
    out.w("Pod Template:")
    labels_block(out, "Labels", meta(template).get("labels"), L1)
    if meta(template).get("annotations"):
        annotations_block(out, meta(template).get("annotations"), L1)
    if tspec.get("serviceAccountName"):
        out.w(f"{L1}Service Account:\t{tspec['serviceAccountName']}")
    if tspec.get("initContainers"):
        containers_block(out, "Init Containers", tspec["initContainers"], None, " ", L1)
    containers_block(out, "Containers", tspec.get("containers") or [], None, " ", L1)
    volumes_block(out, tspec.get("volumes"), L1)
    sel2 = tspec.get("nodeSelector") or {}
    out.w(f"{L1}Node-Selectors:\t" + (",".join(f"{k}={v}" for k, v in sorted(sel2.items())) or "<none>"))
    tolerations_block(out, tspec.get("tolerations"), L1)
    events_block(out, fetch_events(env, rc))
    return out.text()


def describe(env: Env, p: Parsed) -> int:
    from kubectl import describe_others as others

    describers = {"Pod": describe_pod, "ReplicationController": describe_rc, "Service": others.describe_service,
                  "Node": others.describe_node, "Namespace": others.describe_namespace}
    targets: list[tuple[Resource, list[str]]]
    if p["filename"]:
        from kubectl.manifests import load_paths, resource_of

        targets = [(resource_of(env, d), [(d.obj.get("metadata") or {}).get("name", "")])
                   for d in load_paths(p["filename"], p["recursive"])]
    else:
        from kubectl.cmd_get import targets as parse_targets

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
                print(f"No resources found in {env.namespace} namespace." if res.namespaced and
                      not p["all-namespaces"] else "No resources found", file=env.err)
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
