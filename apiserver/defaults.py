"""Defaulting: the values kube-apiserver fills in before validation, so stored objects match.

Each `default_<kind>(obj)` mutates the wire dict in place, for create and update alike (it only
fills what is missing, so applying it twice changes nothing); the kinds' strategy rows
(`apiserver.kinds`) name them. Sources: k8s.io/kubernetes
pkg/apis/core/v1/defaults.go, the registry strategies' PrepareForCreate (pod phase Pending and
qosClass, namespace phase Active) and the DefaultTolerationSeconds admission plugin (pods
tolerate not-ready/unreachable nodes for 300 s before eviction).

Not here: metadata (uid, creationTimestamp, resourceVersion, generation) and allocation of
clusterIP/nodePorts, which need storage; the handlers do those.
"""

from __future__ import annotations

import functools
from typing import Any

from api.conditions import DEFAULT_TOLERATION_SECONDS
from api.qos import qos_class
from api.quantity_text import canonical_quantity

Obj = dict[str, Any]


@functools.lru_cache(maxsize=4096)
def _canonical_text(text: str) -> str:
    try:
        return canonical_quantity(text)
    except ValueError:
        return text  # malformed: kept for validation to refuse in its words


def canonical(value: Any) -> Any:
    """A quantity as kube stores a resource.Quantity it decoded: its canonical text (`0.5` is
    `500m`, `1024Mi` is `1Gi`, a JSON number its text), what is not a quantity left as it is."""
    if isinstance(value, str):
        return _canonical_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _canonical_text(str(value) if isinstance(value, int) else repr(value))
    return value


# volume sources whose `readOnly` is a plain `bool ...,omitempty` in kube's types (csi's and
# azureDisk's are *bool: a false one is kept)
_PLAIN_READ_ONLY = (
    "persistentVolumeClaim",
    "nfs",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "iscsi",
    "rbd",
    "cephfs",
    "glusterfs",
    "fc",
    "azureFile",
    "cinder",
    "flexVolume",
)


def drop_false(obj: Any, *keys: str) -> None:
    """Fields kube types as a plain `bool` with `omitempty`: a false one is not in what kube stores
    and answers (it decodes to the zero value, which it does not write), so it is not kept."""
    if isinstance(obj, dict):
        for key in keys:
            if obj.get(key) is False:
                del obj[key]


def canonical_quantities(quantities: Any) -> None:
    """Each value of a map of quantities (requests, limits, capacity, hard ...) made `canonical`."""
    if isinstance(quantities, dict):
        for name, value in quantities.items():
            quantities[name] = canonical(value)


def image_tag(image: str) -> str:
    """The tag of an image reference: `latest` when there is none, `` when pinned by digest."""
    if "@" in image:
        return ""
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else "latest"


def _probe(probe: Obj | None) -> None:
    if not isinstance(probe, dict):
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    _handler(probe)


def _handler(handler: Obj | None) -> None:
    if not isinstance(handler, dict):
        return
    http = handler.get("httpGet")
    if isinstance(http, dict):
        http.setdefault("path", "/")
        http.setdefault("scheme", "HTTP")


def _container(c: Obj, host_network: bool) -> None:
    if not isinstance(c, dict):
        return
    if isinstance(c.get("lifecycle"), dict):
        c["lifecycle"].pop("stopSignal", None)  # ContainerStopSignals, alpha
    drop_false(c, "stdin", "stdinOnce", "tty")
    for mount in c.get("volumeMounts") or []:
        drop_false(mount, "readOnly")
    if isinstance(c.get("resources"), dict):
        c["resources"].pop("claims", None)  # DynamicResourceAllocation, off
        canonical_quantities(c["resources"].get("limits"))
        canonical_quantities(c["resources"].get("requests"))
    c.setdefault("resources", {})
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if not c.get("imagePullPolicy"):
        c["imagePullPolicy"] = (
            "Always" if image_tag(str(c.get("image") or "")) == "latest" else "IfNotPresent"
        )
    for port in c.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if host_network and not port.get("hostPort") and port.get("containerPort"):
                port["hostPort"] = port["containerPort"]
    for env in c.get("env") or []:
        ref = ((env or {}).get("valueFrom") or {}).get("fieldRef") if isinstance(env, dict) else None
        if isinstance(ref, dict):
            ref.setdefault("apiVersion", "v1")
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(c.get(name))
    lifecycle = c.get("lifecycle")
    if isinstance(lifecycle, dict):
        _handler(lifecycle.get("postStart"))
        _handler(lifecycle.get("preStop"))


def _volume(v: Obj) -> None:
    if not isinstance(v, dict):
        return
    for source in _PLAIN_READ_ONLY:
        drop_false(v.get(source), "readOnly")
    if "image" in v:
        # ImageVolume is off by kube 1.33's default gates: the source is dropped after decoding
        # (so no emptyDir default), and a volume left with no source is refused by validation
        # ("must specify a volume type"), as kube refuses it
        del v["image"]
        return
    sources = [k for k in v if k != "name"]
    if not sources:
        v["emptyDir"] = {}
    for kind in ("secret", "configMap", "downwardAPI", "projected"):
        if isinstance(v.get(kind), dict):
            v[kind].setdefault("defaultMode", 420)
    if isinstance(v.get("hostPath"), dict):
        v["hostPath"].setdefault("type", "")
    empty_dir = v.get("emptyDir")
    if isinstance(empty_dir, dict) and "sizeLimit" in empty_dir:
        empty_dir["sizeLimit"] = canonical(empty_dir["sizeLimit"])


def pod_spec_defaults(spec: Obj) -> None:
    # what kube 1.33's default feature gates drop (dropDisabledFields), stored without them as kube
    # stores the pod rather than kept and ignored: pod-level `resources` (PodLevelResources, alpha)
    # and resource claims (DynamicResourceAllocation, off); the containers' parts in _container
    spec.pop("resources", None)
    spec.pop("resourceClaims", None)
    canonical_quantities(spec.get("overhead"))
    drop_false(spec, "hostNetwork", "hostPID", "hostIPC")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    host_network = bool(spec.get("hostNetwork"))
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            _container(c, host_network)
    for v in spec.get("volumes") or []:
        _volume(v)


def template_defaults(spec: Obj) -> None:
    """The pod defaults on the pod template of a workload's spec (RC, apps/v1, Job, CronJob's job)."""
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        pod_spec_defaults(template["spec"])


def _default_tolerations(spec: Obj) -> None:
    tolerations = spec.get("tolerations")
    if tolerations is not None and not isinstance(tolerations, list):
        return
    tolerations = list(tolerations or [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        # As the admission plugin: a toleration of this key (or of every key) for NoExecute (or every effect).
        if not any(
            isinstance(t, dict)
            and t.get("key") in (key, None, "")
            and t.get("effect") in ("NoExecute", None, "")
            for t in tolerations
        ):
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
                }
            )
    spec["tolerations"] = tolerations


def default_pod(obj: Obj) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    for c in spec.get("containers") or []:
        if isinstance(c, dict) and isinstance(c.get("resources"), dict):
            limits = c["resources"].get("limits")
            if isinstance(limits, dict) and limits:
                requests = c["resources"].setdefault("requests", {})
                if isinstance(requests, dict):
                    for name, value in limits.items():
                        requests.setdefault(name, value)
    pod_spec_defaults(spec)
    _default_tolerations(spec)
    status = obj.get("status")
    if not isinstance(status, dict):
        status = obj["status"] = {}
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", qos_class(spec))


def default_replication_controller(obj: Obj) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    template = spec.get("template")
    labels = ((template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None) or None
    if labels:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = obj.setdefault("metadata", {})
        if not meta.get("labels"):
            meta["labels"] = dict(labels)
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    template_defaults(spec)
    status = obj.get("status")
    if not isinstance(status, dict):
        status = obj["status"] = {}
    status.setdefault("replicas", 0)


def default_service(obj: Obj) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    drop_false(spec, "publishNotReadyAddresses")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("type", "ClusterIP")
    svc_type = spec["type"]
    if spec["sessionAffinity"] == "ClientIP" and not spec.get("sessionAffinityConfig"):
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if port.get("targetPort") in (None, 0, ""):
                port["targetPort"] = port.get("port")
    if svc_type in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if svc_type == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if svc_type != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
        # kube's initIPFamilyFields, on a single-stack IPv4 cluster: set on create (before the
        # cluster IP is allocated); a headless service without a selector may take every family
        headless_unselected = spec.get("clusterIP") == "None" and not spec.get("selector")
        spec.setdefault("ipFamilyPolicy", "RequireDualStack" if headless_unselected else "SingleStack")
        if not spec.get("ipFamilies"):
            spec["ipFamilies"] = ["IPv4"]
        if spec.get("clusterIP") and not spec.get("clusterIPs"):
            spec["clusterIPs"] = [spec["clusterIP"]]
    status = obj.get("status")
    if not isinstance(status, dict):
        status = obj["status"] = {}
    status.setdefault("loadBalancer", {})


def default_namespace(obj: Obj) -> None:
    meta = obj.setdefault("metadata", {})
    if isinstance(meta, dict) and meta.get("name"):
        labels = meta.get("labels")
        if not isinstance(labels, dict):
            labels = meta["labels"] = {}
        labels["kubernetes.io/metadata.name"] = meta["name"]
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    spec.setdefault("finalizers", ["kubernetes"])
    status = obj.get("status")
    if not isinstance(status, dict):
        status = obj["status"] = {}
    status.setdefault("phase", "Active")


def default_node(obj: Obj) -> None:
    drop_false(obj.get("spec"), "unschedulable")
    status = obj.get("status")
    if isinstance(status, dict):
        canonical_quantities(status.get("capacity"))
        canonical_quantities(status.get("allocatable"))
    if isinstance(status, dict) and status.get("capacity") and not status.get("allocatable"):
        status["allocatable"] = dict(status["capacity"])


def default_endpoints(obj: Obj) -> None:
    subsets = obj.get("subsets")
    if isinstance(subsets, list):
        # as kube's RepackSubsets leaves them: a subset with no address (or a null one) says nothing
        kept = [
            s for s in subsets if isinstance(s, dict) and (s.get("addresses") or s.get("notReadyAddresses"))
        ]
        if kept:
            obj["subsets"] = kept
        else:
            del obj["subsets"]
    for subset in obj.get("subsets") or []:
        for port in (subset or {}).get("ports") or [] if isinstance(subset, dict) else []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
