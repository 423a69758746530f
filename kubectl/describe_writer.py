"""The writer behind `kubectl describe`: kubectl's PrefixWriter lines and its shared blocks.

Lines are written as kubectl writes them (indent levels of two spaces, `\t` between label and
value) and aligned by `go_tabwriter` with kubectl's settings (padding 2), block by block: the
events table is flushed and aligned on its own, as kubectl flushes before it. Labels,
annotations (without the last-applied configuration), events, containers, volumes and
tolerations are printed the same way for every kind.
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError
from api.humanize import age
from kubectl.env import Env
from kubectl.tables import go_tabwriter

Obj = dict[str, Any]

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


def format_labels(labels: dict[str, str] | None) -> str:
    """labels.FormatLabels: `k=v` pairs sorted by key, comma-separated; `<none>` if empty."""
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or "<none>"


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


def heading(out: Out, o: Obj, *fields: tuple[str, object]) -> None:
    """How most of kubectl's describers open: Name, Namespace (of a namespaced object), the kind's
    own fields that come before the labels (in the order given), then Labels and Annotations."""
    m = meta(o)
    out.w(f"Name:\t{m.get('name')}")
    if m.get("namespace"):
        out.w(f"Namespace:\t{m['namespace']}")
    for title, value in fields:
        out.w(f"{title}:\t{value}")
    labels_block(out, "Labels", m.get("labels"))
    annotations_block(out, m.get("annotations"))


def controlled_by_line(out: Out, o: Obj) -> None:
    """ "Controlled By: Kind/name" for an object with a controller ownerReference (nothing otherwise)."""
    ref = next((r for r in meta(o).get("ownerReferences") or [] if r.get("controller")), None)
    if ref is not None:
        out.w(f"Controlled By:\t{ref.get('kind')}/{ref.get('name')}")


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
        out.w(
            f"{L1}{e.get('type', '')}\t{e.get('reason', '')}\t{interval}\t{source}\t"
            f"{(e.get('message') or '').strip()}"
        )


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
        return list(
            env.client.list("events", m.get("namespace") or None, field_selector=sel).get("items") or []
        )
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
    return (
        f"{what} delay={p.get('initialDelaySeconds', 0)}s timeout={p.get('timeoutSeconds', 1)}s "
        f"period={p.get('periodSeconds', 10)}s #success={p.get('successThreshold', 1)} "
        f"#failure={p.get('failureThreshold', 3)}"
    )


def field_value(pod: Obj | None, path: str) -> str:
    """What a `fieldRef` env var resolves to in this pod (kubectl describe shows it)."""
    if not pod:
        return ""
    import re

    m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if m:
        return str(((pod.get("metadata") or {}).get(m.group(1)) or {}).get(m.group(2), ""))
    cur: Any = pod
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return "" if cur is None else str(cur)


def containers_block(
    out: Out,
    title: str,
    containers: list[Obj],
    statuses: list[Obj] | None,
    space: str,
    indent: str = "",
    pod: Obj | None = None,
) -> None:
    out.w(f"{indent}{title}:")
    by_name = {s.get("name"): s for s in statuses or []}
    for c in containers:
        st = by_name.get(c.get("name"))
        out.w(f"{L1}{space}{c.get('name')}:")
        if st is not None:
            out.w(f"{L2}Container ID:\t{st.get('containerID', '')}")
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
        for key, name in (
            ("livenessProbe", "Liveness"),
            ("readinessProbe", "Readiness"),
            ("startupProbe", "Startup"),
        ):
            if c.get(key):
                out.w(f"{L2}{name}:\t{_probe(c[key])}")
        env = c.get("env") or []
        out.w(f"{L2}Environment:" + ("" if env else "\t<none>"))
        for e in env:
            if "value" in e or not e.get("valueFrom"):
                out.w(f"{L3}{e.get('name')}:\t{e.get('value', '')}")
            else:
                ref = e["valueFrom"].get("fieldRef") or {}
                value = field_value(pod, ref.get("fieldPath", ""))
                out.w(
                    f"{L3}{e.get('name')}:\t{value} ({ref.get('apiVersion', 'v1')}:{ref.get('fieldPath', '')})"
                )
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
        elif "configMap" in v or "secret" in v:
            cm = v.get("configMap") or {}
            sec = v.get("secret") or {}
            pairs = (
                [("Type", "ConfigMap (a volume populated by a ConfigMap)"), ("Name", cm.get("name", ""))]
                if "configMap" in v
                else [
                    ("Type", "Secret (a volume populated by a Secret)"),
                    ("SecretName", sec.get("secretName", "")),
                ]
            )
            _fields(out, indent + L2, [*pairs, ("Optional", _go_bool((cm or sec).get("optional")))])
        elif "projected" in v:
            out.w(
                f"{indent}{L2}Type:\tProjected (a volume that contains injected data from multiple sources)"
            )
            for source in (v.get("projected") or {}).get("sources") or []:
                if "secret" in source or "configMap" in source:
                    label = "SecretName" if "secret" in source else "ConfigMapName"
                    s = source.get("secret") or source.get("configMap") or {}
                    _fields(
                        out,
                        indent + L2,
                        [(label, s.get("name", "")), ("Optional", _go_bool(s.get("optional")))],
                    )
                elif "downwardAPI" in source:
                    out.w(f"{indent}{L2}DownwardAPI:\ttrue")
                elif "serviceAccountToken" in source:
                    exp = (source["serviceAccountToken"] or {}).get("expirationSeconds", 3600)
                    out.w(f"{indent}{L2}TokenExpirationSeconds:\t{exp}")
        elif "downwardAPI" in v:
            out.w(f"{indent}{L2}Type:\tDownwardAPI (a volume populated by information about the pod)")
            out.w(f"{indent}{L2}Items:")
            for item in (v.get("downwardAPI") or {}).get("items") or []:
                ref = item.get("fieldRef") or {}
                res = item.get("resourceFieldRef") or {}
                if ref:
                    out.w(f"{indent}{L3}{ref.get('fieldPath')} -> {item.get('path')}")
                if res:
                    out.w(f"{indent}{L3}{res.get('resource')} -> {item.get('path')}")
        elif "persistentVolumeClaim" in v:
            claim = v.get("persistentVolumeClaim") or {}
            out.w(
                f"{indent}{L2}Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same "
                "namespace)"
            )
            out.w(f"{indent}{L2}ClaimName:\t{claim.get('claimName', '')}")
            out.w(f"{indent}{L2}ReadOnly:\t{_go_bool(claim.get('readOnly'))}")
        else:
            kind = next((k for k in v if k != "name"), "unknown")
            out.w(f"{indent}{L2}Type:\t{kind}")


def _fields(out: Out, prefix: str, pairs: list[tuple[str, object]]) -> None:
    for label, value in pairs:
        out.w(f"{prefix}{label}:\t{value}")


def _go_bool(value: object) -> str:
    return "true" if value is True else "false"


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
