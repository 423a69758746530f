"""Pod and pod template validation (ValidatePodSpec and friends), worded as kube-apiserver does.

Covers: containers required, container names (DNS-1123 label, unique across init, app and
ephemeral containers; an ephemeral one's own rules are `validation.ephemeral`'s), image required for pods (templates may leave it to admission), ports (1-65535,
port names as IANA service names unique within a container, protocol enum, host port clashes),
enums (restartPolicy, dnsPolicy, imagePullPolicy, terminationMessagePolicy), resource
quantities (parse, non-negative, requests <= limits), probes and lifecycle handlers (exactly one
handler), volumes (unique DNS-1123 names, at most one source, hostPath path, the paths of
projected files relative and without `..`, an inline `csi` driver name) and volume mounts (refer to a volume, unique mount
paths, a subPath that stays inside its volume), env names. `validate_pod_update` allows only what the
real server allows to change on a running pod (not its ephemeral containers: their subresource).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from api import names
from api.errors import (
    Cause,
    field_duplicate,
    field_forbidden,
    field_invalid,
    field_not_supported,
    field_required,
)
from api.jsonutil import as_object
from api.quantity import QUANTITY_ERROR, parse_quantity
from apiserver.validation.csisources import csi_inline_source
from apiserver.validation.ephemeral import IN_TEMPLATE, ephemeral_rules
from apiserver.validation.meta import non_negative, not_found, one_of, validate_labels
from apiserver.validation.placement import validate_affinity, validate_topology_spread
from apiserver.validation.scheduling import validate_preemption_policy

RESTART_POLICIES = ["Always", "OnFailure", "Never"]
DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]
TAINT_EFFECTS = ["NoExecute", "NoSchedule", "PreferNoSchedule"]
TERMINATION_MESSAGE_POLICIES = ["FallbackToLogsOnError", "File"]
HOST_PATH_TYPES = [
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
]
_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_LIFECYCLE_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")
_OVERCOMMIT_FORBIDDEN_PREFIX = "hugepages-"
POD_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def validate_port_num_or_name(value: Any, path: str) -> list[Cause]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [field_invalid(path, value, m) for m in names.is_port_num(value)]
    if isinstance(value, str):
        if value.isdigit():
            return [field_invalid(path, int(value), m) for m in names.is_port_num(int(value))]
        return [field_invalid(path, value, m) for m in names.is_port_name(value)]
    return [field_invalid(path, value, "must contain an int or string")]


def _container_ports(ports: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, port in enumerate(_list(ports)):
        p, port = f"{path}[{i}]", as_object(port)
        name = port.get("name")
        if name:
            causes += [field_invalid(f"{p}.name", name, m) for m in names.is_port_name(str(name))]
            if name in seen:
                causes.append(field_duplicate(f"{p}.name", name))
            seen.add(str(name))
        cp = port.get("containerPort")
        if not cp:
            causes.append(field_required(f"{p}.containerPort"))
        else:
            causes += [field_invalid(f"{p}.containerPort", cp, m) for m in names.is_port_num(cp)]
        if port.get("hostPort"):
            causes += [
                field_invalid(f"{p}.hostPort", port["hostPort"], m)
                for m in names.is_port_num(port["hostPort"])
            ]
        causes += one_of(f"{p}.protocol", port.get("protocol"), PROTOCOLS)
    return causes


def _resources(res: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    res = as_object(res)
    parsed: dict[str, dict[str, Any]] = {"limits": {}, "requests": {}}
    for what in ("limits", "requests"):
        for rname, value in as_object(res.get(what)).items():
            p = f"{path}.{what}[{rname}]"
            try:
                q = parse_quantity(value)
            except ValueError:
                causes.append(field_invalid(p, str(value), QUANTITY_ERROR))
                continue
            if q < 0:
                causes.append(field_invalid(p, str(value), names.NON_NEGATIVE_MSG))
            parsed[what][rname] = (q, value)
    for rname, (q, value) in parsed["requests"].items():
        if rname in parsed["limits"]:
            limit, shown = parsed["limits"][rname]
            if rname.startswith(_OVERCOMMIT_FORBIDDEN_PREFIX) and q != limit:
                causes.append(
                    field_invalid(
                        f"{path}.requests", str(value), f"must be equal to {rname} limit of {shown}"
                    )
                )
            elif q > limit:
                causes.append(
                    field_invalid(
                        f"{path}.requests",
                        str(value),
                        f"must be less than or equal to {rname} limit of {shown}",
                    )
                )
    return causes


def _handler(handler: Any, path: str, kinds: tuple[str, ...]) -> list[Cause]:
    handler = as_object(handler)
    present = [k for k in kinds if handler.get(k) is not None]
    if not present:
        return [field_required(path, "must specify a handler type")]
    if len(present) > 1:
        return [field_forbidden(f"{path}.{present[1]}", "may not specify more than 1 handler type")]
    kind = present[0]
    body = as_object(handler[kind])
    causes: list[Cause] = []
    if kind == "exec" and not _list(body.get("command")):
        causes.append(field_required(f"{path}.exec.command"))
    if kind in ("httpGet", "tcpSocket"):
        if body.get("port") in (None, ""):
            causes.append(field_required(f"{path}.{kind}.port"))
        else:
            causes += validate_port_num_or_name(body["port"], f"{path}.{kind}.port")
    if kind == "httpGet" and body.get("scheme") not in (None, "HTTP", "HTTPS"):
        causes.append(field_not_supported(f"{path}.httpGet.scheme", body["scheme"], ["HTTP", "HTTPS"]))
    if kind == "grpc":
        causes += [
            field_invalid(f"{path}.grpc.port", body.get("port"), m)
            for m in names.is_port_num(body.get("port"))
        ]
    return causes


def _probe(probe: Any, path: str, liveness_like: bool) -> list[Cause]:
    if probe is None:
        return []
    probe = as_object(probe)
    causes = _handler(probe, path, _HANDLERS)
    for key in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        causes += non_negative(f"{path}.{key}", probe.get(key))
    if liveness_like and probe.get("successThreshold") not in (None, 1):
        causes.append(field_invalid(f"{path}.successThreshold", probe["successThreshold"], "must be 1"))
    return causes


def _env(env: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, var in enumerate(_list(env)):
        var = as_object(var)
        if not var.get("name"):
            causes.append(field_required(f"{path}[{i}].name"))
        if var.get("value") and var.get("valueFrom") is not None:
            causes.append(
                field_invalid(f"{path}[{i}].valueFrom", "", "may not be specified when `value` is not empty")
            )
    return causes


PROPAGATIONS = ["Bidirectional", "HostToContainer", "None"]
RECURSIVE_READ_ONLY = ["Disabled", "Enabled", "IfPossible"]


def _mount_modes(m: dict[str, Any], p: str, privileged: bool) -> list[Cause]:
    """mountPropagation (Bidirectional only for a privileged container) and recursiveReadOnly
    (only on a read-only mount that does not propagate), as kube's validation has them."""
    causes: list[Cause] = []
    propagation = m.get("mountPropagation")
    if propagation is not None:
        if propagation not in PROPAGATIONS:
            causes.append(field_not_supported(f"{p}.mountPropagation", propagation, PROPAGATIONS))
        elif propagation == "Bidirectional" and not privileged:
            causes.append(
                field_forbidden(
                    f"{p}.mountPropagation",
                    "Bidirectional mount propagation is available only to privileged containers",
                )
            )
    rro = m.get("recursiveReadOnly")
    if rro is not None and rro != "Disabled":
        if rro not in RECURSIVE_READ_ONLY:
            causes.append(field_not_supported(f"{p}.recursiveReadOnly", rro, RECURSIVE_READ_ONLY))
        else:
            if not m.get("readOnly"):
                causes.append(
                    field_forbidden(
                        f"{p}.recursiveReadOnly", "may only be specified when readOnly is specified"
                    )
                )
            if propagation not in (None, "None"):
                causes.append(
                    field_forbidden(
                        f"{p}.recursiveReadOnly",
                        "may only be specified when mountPropagation is None or not specified",
                    )
                )
    return causes


def _volume_mounts(mounts: Any, path: str, volumes: set[str], privileged: bool = False) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, m in enumerate(_list(mounts)):
        p, m = f"{path}[{i}]", as_object(m)
        name = m.get("name")
        if not name:
            causes.append(field_required(f"{p}.name"))
        elif name not in volumes:
            causes.append(not_found(f"{p}.name", name))
        causes += local_path(m.get("subPath"), f"{p}.subPath")
        causes += _mount_modes(m, p, privileged)
        if m.get("subPathExpr"):
            if m.get("subPath"):
                causes.append(
                    field_invalid(
                        f"{p}.subPathExpr", m["subPathExpr"], "subPathExpr and subPath are mutually exclusive"
                    )
                )
            causes += local_path(m["subPathExpr"], f"{p}.subPathExpr")
        mount_path = m.get("mountPath")
        if not mount_path:
            causes.append(field_required(f"{p}.mountPath"))
        elif mount_path in seen:
            causes.append(field_invalid(f"{p}.mountPath", mount_path, "must be unique"))
        else:
            seen.add(mount_path)
    return causes


def local_path(value: Any, path: str, non_reserved: bool = False) -> list[Cause]:
    """A path inside a volume that cannot lead out of it (kube's validateLocalDescendingPath, and
    with `non_reserved` validateLocalNonReservedPath: a projected file may not start with `..`,
    the names the kubelet's atomic writer keeps for itself)."""
    if not isinstance(value, str) or not value:
        return []
    causes = []
    if value.startswith("/"):
        causes.append(field_invalid(path, value, "must be a relative path"))
    if ".." in value.split("/"):
        causes.append(field_invalid(path, value, "must not contain '..'"))
    if non_reserved and value.startswith(".."):
        causes.append(field_invalid(path, value, "must not start with '..'"))
    return causes


def _projected_paths(source: dict[str, Any], path: str) -> list[Cause]:
    """The file paths a configMap, secret, downwardAPI or projected volume writes."""
    causes = []
    for kind in ("configMap", "secret", "downwardAPI"):
        for j, item in enumerate(_list(as_object(source.get(kind)).get("items"))):
            causes += local_path(
                as_object(item).get("path"), f"{path}.{kind}.items[{j}].path", non_reserved=True
            )
    token = as_object(source.get("serviceAccountToken"))
    causes += local_path(token.get("path"), f"{path}.serviceAccountToken.path", non_reserved=True)
    return causes


def _container_common(c: dict[str, Any], path: str, volumes: set[str], for_pod: bool) -> list[Cause]:
    """kube's validateContainerCommon: what every kind of container is checked for, ephemeral ones too."""
    causes: list[Cause] = []
    image = c.get("image")
    if for_pod and not image:
        causes.append(field_required(f"{path}.image"))
    elif isinstance(image, str) and image and image.strip() != image:
        causes.append(field_invalid(f"{path}.image", image, "must not have leading or trailing whitespace"))
    causes += _container_ports(c.get("ports"), f"{path}.ports")
    causes += _env(c.get("env"), f"{path}.env")
    causes += _resources(c.get("resources"), f"{path}.resources")
    privileged = as_object(c.get("securityContext")).get("privileged") is True
    causes += _volume_mounts(c.get("volumeMounts"), f"{path}.volumeMounts", volumes, privileged)
    causes += one_of(f"{path}.imagePullPolicy", c.get("imagePullPolicy"), PULL_POLICIES)
    causes += one_of(
        f"{path}.terminationMessagePolicy", c.get("terminationMessagePolicy"), TERMINATION_MESSAGE_POLICIES
    )
    return causes


def _container(c: Any, path: str, volumes: set[str], for_pod: bool, init: bool) -> list[Cause]:
    c = as_object(c)
    causes = _container_common(c, path, volumes, for_pod)
    sidecar = init and c.get("restartPolicy") == "Always"
    if c.get("restartPolicy") is not None and not sidecar:
        causes.append(
            field_not_supported(f"{path}.restartPolicy", c["restartPolicy"], ["Always"])
            if init
            else field_forbidden(f"{path}.restartPolicy", "may not be set for non-init containers")
        )
    if init and not sidecar:
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if c.get(probe) is not None:
                causes.append(
                    field_forbidden(
                        f"{path}.{probe}", "may not be set for init containers without restartPolicy=Always"
                    )
                )
    else:
        causes += _probe(c.get("livenessProbe"), f"{path}.livenessProbe", liveness_like=True)
        causes += _probe(c.get("readinessProbe"), f"{path}.readinessProbe", liveness_like=False)
        causes += _probe(c.get("startupProbe"), f"{path}.startupProbe", liveness_like=True)
    lifecycle = as_object(c.get("lifecycle"))
    for hook in ("postStart", "preStop"):
        if lifecycle.get(hook) is not None:
            causes += _handler(lifecycle[hook], f"{path}.lifecycle.{hook}", _LIFECYCLE_HANDLERS)
    return causes


def _unique_label(name: Any, path: str, seen: set[str]) -> list[Cause]:
    """A volume's or container's name: required, a DNS-1123 label, not one of `seen` (added to it)."""
    if not name:
        return [field_required(path)]
    causes = names.check(path, str(name), names.is_dns1123_label)
    if name in seen:
        causes.append(field_duplicate(path, name))
    seen.add(str(name))
    return causes


def _volumes(volumes: Any, path: str) -> tuple[list[Cause], set[str]]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, v in enumerate(_list(volumes)):
        p, v = f"{path}[{i}]", as_object(v)
        name = v.get("name")
        causes += _unique_label(name, f"{p}.name", seen)
        sources = [k for k in v if k != "name" and v[k] is not None]
        if not sources:
            causes.append(field_required(p, "must specify a volume type"))
        elif len(sources) > 1:
            causes.append(field_forbidden(f"{p}.{sources[1]}", "may not specify more than 1 volume type"))
        causes += _projected_paths(v, p)
        for k, source in enumerate(_list(as_object(v.get("projected")).get("sources"))):
            causes += _projected_paths(as_object(source), f"{p}.projected.sources[{k}]")
        host_path = v.get("hostPath")
        kind = host_path.get("type") if isinstance(host_path, dict) else None
        if kind is not None and kind not in HOST_PATH_TYPES:
            causes.append(field_not_supported(f"{p}.hostPath.type", kind, HOST_PATH_TYPES))
        if isinstance(host_path, dict) and not host_path.get("path"):
            causes.append(field_required(f"{p}.hostPath.path"))
        if sources == ["csi"]:
            causes += csi_inline_source(v["csi"], f"{p}.csi")
    return causes, seen


def _host_ports(spec: dict[str, Any], path: str) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for ci, c in enumerate(_list(spec.get("containers"))):
        for pi, port in enumerate(_list(as_object(c).get("ports"))):
            port = as_object(port)
            if not port.get("hostPort"):
                continue
            key = f"{port.get('hostIP') or ''}/{port['hostPort']}/{port.get('protocol') or 'TCP'}"
            shown = f"{port['hostPort']}/{port.get('protocol') or 'TCP'}"
            if key in seen:
                causes.append(field_duplicate(f"{path}.containers[{ci}].ports[{pi}].hostPort", shown))
            seen.add(key)
    return causes


def validate_pod_spec(spec: Any, path: str = "spec", for_pod: bool = True) -> list[Cause]:
    if not isinstance(spec, dict):
        return [field_required(path)]
    causes, volumes = _volumes(spec.get("volumes"), f"{path}.volumes")
    containers = _list(spec.get("containers"))
    if not containers:
        causes.append(field_required(f"{path}.containers"))
    all_names: set[str] = set()
    for key, init in (("initContainers", True), ("containers", False)):
        for i, c in enumerate(_list(spec.get(key))):
            p = f"{path}.{key}[{i}]"
            causes += _unique_label(as_object(c).get("name"), f"{p}.name", all_names)
            causes += _container(c, p, volumes, for_pod, init)
    others = set(all_names)  # what a targetContainerName may name
    for i, c in enumerate(_list(spec.get("ephemeralContainers"))):
        p, c = f"{path}.ephemeralContainers[{i}]", as_object(c)
        causes += _unique_label(c.get("name"), f"{p}.name", all_names)
        causes += _container_common(c, p, volumes, True)  # an image always (validateContainerOnlyForPod)
        causes += ephemeral_rules(c, p, others)
    if not for_pod and _list(spec.get("ephemeralContainers")):
        causes.append(field_forbidden(f"{path}.ephemeralContainers", IN_TEMPLATE))
    causes += _host_ports(spec, path)
    causes += validate_affinity(spec.get("affinity"), f"{path}.affinity")
    if spec.get("preemptionPolicy") is not None:
        causes += validate_preemption_policy(spec["preemptionPolicy"], f"{path}.preemptionPolicy")
    causes += validate_topology_spread(
        spec.get("topologySpreadConstraints"), f"{path}.topologySpreadConstraints"
    )
    if spec.get("hostNetwork"):
        for key in ("initContainers", "containers"):
            for ci, c in enumerate(_list(spec.get(key))):
                for pi, port in enumerate(_list(as_object(c).get("ports"))):
                    port = as_object(port)
                    if port.get("hostPort") and port.get("hostPort") != port.get("containerPort"):
                        causes.append(
                            field_invalid(
                                f"{path}.{key}[{ci}].ports[{pi}].hostPort",
                                port["hostPort"],
                                "must match `containerPort` when `hostNetwork` is true",
                            )
                        )
    causes += validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector")
    causes += one_of(f"{path}.restartPolicy", spec.get("restartPolicy"), RESTART_POLICIES)
    causes += one_of(f"{path}.dnsPolicy", spec.get("dnsPolicy"), DNS_POLICIES)
    causes += non_negative(f"{path}.terminationGracePeriodSeconds", spec.get("terminationGracePeriodSeconds"))
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and (not isinstance(deadline, int) or not 1 <= deadline <= 2**31 - 1):
        causes.append(
            field_invalid(
                f"{path}.activeDeadlineSeconds", deadline, "must be between 1 and 2147483647, inclusive"
            )
        )
    for key in ("nodeName",):
        if spec.get(key):
            causes += names.check(f"{path}.{key}", str(spec[key]), names.is_dns1123_subdomain)
    causes += _scheduling_gates(spec, path, for_pod)
    if isinstance(spec.get("os"), dict):
        causes += one_of(f"{path}.os.name", spec["os"].get("name"), ["linux", "windows"])
    if spec.get("shareProcessNamespace") is True and spec.get("hostPID") is True:
        causes.append(  # kube validates both as its internal type holds them: in the security context
            field_invalid(
                f"{path}.securityContext.shareProcessNamespace",
                True,
                "ShareProcessNamespace and HostPID cannot both be enabled",
            )
        )
    if spec.get("hostname"):
        causes += names.check(f"{path}.hostname", str(spec["hostname"]), names.is_dns1123_label)
    causes += validate_tolerations(spec.get("tolerations"), f"{path}.tolerations")
    if spec.get("runtimeClassName") is not None:
        causes += names.check(
            f"{path}.runtimeClassName", str(spec["runtimeClassName"]), names.is_dns1123_subdomain
        )
    if isinstance(spec.get("overhead"), dict):
        causes += validate_overhead(spec["overhead"], f"{path}.overhead")
    return causes


def validate_overhead(overhead: Any, path: str) -> list[Cause]:
    """kube's validateOverhead, for a pod's and a RuntimeClass's: the quantities checked as a
    container's limits, so the causes name `<path>.limits[<resource>]` as kube's do."""
    return _resources({"limits": overhead}, path)


def _go_toleration(t: dict[str, Any]) -> str:
    """The toleration as Go's %#v prints core.Toleration (kube prints a set tolerationSeconds as
    a pointer address, which cannot be matched; its value is shown instead)."""
    seconds = t.get("tolerationSeconds")
    shown = "(*int64)(nil)" if seconds is None else f"(*int64)({seconds})"
    key, op, value, effect = (json.dumps(str(t.get(k) or "")) for k in ("key", "operator", "value", "effect"))
    return f"core.Toleration{{Key:{key}, Operator:{op}, Value:{value}, Effect:{effect}, TolerationSeconds:{shown}}}"


def validate_tolerations(tolerations: Any, path: str) -> list[Cause]:
    """kube's ValidateTolerations, for a pod's and a RuntimeClass's, in its order per toleration:
    the key a qualified name; an empty key only with Exists; tolerationSeconds only with
    NoExecute; an Equal (or empty) operator's value a label value (kube's messages joined by
    ";", on the operator's path), none with Exists; the effect empty or a taint effect."""
    causes: list[Cause] = []
    for i, t in enumerate(_list(tolerations)):
        t, p = as_object(t), f"{path}[{i}]"
        key, op, value, effect = (str(t.get(k) or "") for k in ("key", "operator", "value", "effect"))
        if key:
            causes += names.check(f"{p}.key", key, names.is_qualified_name)
        if not key and op != "Exists":
            causes.append(
                field_invalid(
                    f"{p}.operator",
                    op,
                    'operator must be Exists when `key` is empty, which means "match all values and all keys"',
                )
            )
        if t.get("tolerationSeconds") is not None and effect != "NoExecute":
            causes.append(
                field_invalid(
                    f"{p}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"
                )
            )
        if op in ("", "Equal"):
            msgs = names.is_label_value(value)
            if msgs:
                causes.append(field_invalid(f"{p}.operator", value, ";".join(msgs)))
        elif op == "Exists":
            if value:
                causes.append(
                    {
                        "reason": "FieldValueInvalid",
                        "message": f"Invalid value: {_go_toleration(t)}: value must be empty when `operator` is 'Exists'",
                        "field": f"{p}.operator",
                    }
                )
        else:
            causes.append(field_not_supported(f"{p}.operator", op, ["Equal", "Exists"]))
        if effect and effect not in TAINT_EFFECTS:
            causes.append(field_not_supported(f"{p}.effect", effect, TAINT_EFFECTS))
    return causes


def _scheduling_gates(spec: dict[str, Any], path: str, for_pod: bool) -> list[Cause]:
    """Gate names are qualified names, each once; a pod bound to a node has none left."""
    causes: list[Cause] = []
    seen: set[str] = set()
    gates = _list(spec.get("schedulingGates"))
    for i, gate in enumerate(gates):
        name = str(as_object(gate).get("name") or "")
        causes += names.check(f"{path}.schedulingGates[{i}].name", name, names.is_qualified_name)
        if name in seen:
            causes.append(field_duplicate(f"{path}.schedulingGates[{i}].name", name))
        seen.add(name)
    if gates and for_pod and spec.get("nodeName"):
        causes.append(
            field_forbidden(f"{path}.nodeName", "cannot be set until all schedulingGates have been cleared")
        )
    return causes


def validate_pod_update(spec: Any, old_spec: Any, path: str = "spec") -> list[Cause]:
    """Only images, activeDeadlineSeconds (set or lowered) and added tolerations may change."""
    new, old = copy.deepcopy(as_object(spec)), as_object(old_spec)
    causes: list[Cause] = []
    for key in ("containers", "initContainers"):
        olds, news = _list(old.get(key)), _list(new.get(key))
        if len(olds) == len(news):
            for o, n in zip(olds, news, strict=True):
                if isinstance(n, dict) and isinstance(o, dict):
                    n["image"] = o.get("image")
    old_deadline, new_deadline = old.get("activeDeadlineSeconds"), new.get("activeDeadlineSeconds")
    if (
        new_deadline is not None
        and old_deadline is not None
        and isinstance(new_deadline, int)
        and new_deadline > old_deadline
    ):
        causes.append(
            field_invalid(
                f"{path}.activeDeadlineSeconds", new_deadline, "must be less than or equal to previous value"
            )
        )
    if old_deadline is not None and new_deadline is None:
        causes.append(
            field_invalid(
                f"{path}.activeDeadlineSeconds", None, "must not update from a positive integer to nil value"
            )
        )
    new["activeDeadlineSeconds"] = old_deadline
    old_tol, new_tol = _list(old.get("tolerations")), _list(new.get("tolerations"))
    if all(t in new_tol for t in old_tol):
        new["tolerations"] = old.get("tolerations")
    old_gates, new_gates = _list(old.get("schedulingGates")), _list(new.get("schedulingGates"))
    for gate in new_gates:  # gates may be removed, never added
        if gate not in old_gates:
            causes.append(
                field_forbidden(
                    f"{path}.schedulingGates",
                    f"only deletion is allowed, but found new scheduling gate '{as_object(gate).get('name')}'",
                )
            )
    if "schedulingGates" in old:
        new["schedulingGates"] = old["schedulingGates"]
    else:
        new.pop("schedulingGates", None)
    old_grace = old.get("terminationGracePeriodSeconds")
    if isinstance(old_grace, int) and old_grace < 0 and new.get("terminationGracePeriodSeconds") == 1:
        new["terminationGracePeriodSeconds"] = old_grace
    normalized_old = dict(old)
    normalized_old["activeDeadlineSeconds"] = old_deadline
    if new != normalized_old:
        causes.append(field_forbidden(path, POD_UPDATE_FORBIDDEN))
    return causes


def validate_pod_status(obj: dict[str, Any]) -> list[Cause]:
    """A write to pods/status: the IPs, restart counts and nominated node it reports."""
    raw = obj.get("status")
    status: dict[str, Any] = raw if isinstance(raw, dict) else {}
    causes: list[Cause] = []
    for key in ("podIPs", "hostIPs"):
        for i, entry in enumerate(status.get(key) or []):
            ip = (entry or {}).get("ip") if isinstance(entry, dict) else None
            if ip:
                causes += [field_invalid(f"status.{key}[{i}].ip", ip, m) for m in names.is_ip(str(ip))]
    for key in ("containerStatuses", "initContainerStatuses"):
        for i, cs in enumerate(status.get(key) or []):
            if isinstance(cs, dict) and isinstance(cs.get("restartCount"), int) and cs["restartCount"] < 0:
                causes.append(
                    field_invalid(
                        f"status.{key}[{i}].restartCount", cs["restartCount"], names.NON_NEGATIVE_MSG
                    )
                )
    if status.get("nominatedNodeName"):
        causes += names.check(
            "status.nominatedNodeName", str(status["nominatedNodeName"]), names.is_dns1123_subdomain
        )
    return causes
