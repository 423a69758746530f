"""Validation of the smaller kinds: ReplicationController, PodTemplate, Namespace, Node, Endpoints,
Event, Lease, and the Binding and Scale bodies of the pods/binding and replicationcontrollers/scale
subresources. Messages as kube-apiserver words them.
"""

from __future__ import annotations

from typing import Any

from api import names
from api.errors import Cause, field_forbidden, field_invalid, field_not_supported, field_required
from api.jsonutil import as_object
from apiserver.validation.meta import go_map, non_negative, one_of, validate_labels, validate_template_meta
from apiserver.validation.pod import PROTOCOLS, TAINT_EFFECTS, validate_pod_spec


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def validate_pod_template(obj: dict[str, Any]) -> list[Cause]:
    """kube's ValidatePodTemplate past the metadata: ValidatePodTemplateSpec of `template`, as a
    workload's template is held (no restartPolicy rule of its own, no ephemeral containers); on
    update too. The template always exists (defaulting makes it), so an empty one names its
    missing containers."""
    template = as_object(obj.get("template"))
    return validate_template_meta(template.get("metadata"), "template.metadata") + validate_pod_spec(
        template.get("spec"), "template.spec", for_pod=False
    )


def validate_replication_controller(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [field_required("spec")]
    causes: list[Cause] = []
    causes += non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
    selector = spec.get("selector")
    if not selector:
        causes.append(field_required("spec.selector"))
    else:
        causes += validate_labels(selector, "spec.selector")
    causes += non_negative("spec.replicas", spec.get("replicas"))
    template = spec.get("template")
    if not isinstance(template, dict):
        causes.append(field_required("spec.template"))
        return causes
    labels = as_object(as_object(template.get("metadata")).get("labels"))
    if isinstance(selector, dict) and selector and any(labels.get(k) != v for k, v in selector.items()):
        causes.append(
            {
                "reason": "FieldValueInvalid",
                "message": f"Invalid value: {go_map(labels)}: `selector` does not match template `labels`",
                "field": "spec.template.metadata.labels",
            }
        )
    causes += validate_template_meta(template.get("metadata"), "spec.template.metadata")
    tspec = as_object(template.get("spec"))
    causes += validate_pod_spec(template.get("spec"), "spec.template.spec", for_pod=False)
    policy = tspec.get("restartPolicy")
    if policy and policy != "Always" and policy in ("OnFailure", "Never"):
        causes.append(field_not_supported("spec.template.spec.restartPolicy", policy, ["Always"]))
    if tspec.get("activeDeadlineSeconds") is not None:
        causes.append(
            field_invalid(
                "spec.template.spec.activeDeadlineSeconds",
                tspec["activeDeadlineSeconds"],
                "activeDeadlineSeconds in ReplicationController is not Supported",
            )
        )
    return causes


def validate_namespace(obj: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    for i, fin in enumerate(_list(as_object(obj.get("spec")).get("finalizers"))):
        causes += [field_invalid(f"spec.finalizers[{i}]", fin, m) for m in names.is_qualified_name(str(fin))]
    phase = as_object(obj.get("status")).get("phase")
    if phase not in (None, "", "Active", "Terminating"):
        causes.append(field_not_supported("status.phase", phase, ["Active", "Terminating"]))
    return causes


def validate_node(obj: dict[str, Any]) -> list[Cause]:
    spec = as_object(obj.get("spec"))
    causes: list[Cause] = []
    for i, cidr in enumerate(_list(spec.get("podCIDRs"))):
        causes += [field_invalid(f"spec.podCIDRs[{i}]", cidr, m) for m in names.is_cidr(str(cidr))]
    if spec.get("podCIDR") and not spec.get("podCIDRs"):
        causes += [
            field_invalid("spec.podCIDR", spec["podCIDR"], m) for m in names.is_cidr(str(spec["podCIDR"]))
        ]
    for i, taint in enumerate(_list(spec.get("taints"))):
        taint, p = as_object(taint), f"spec.taints[{i}]"
        if not taint.get("key"):
            causes.append(field_required(f"{p}.key"))
        else:
            causes += [
                field_invalid(f"{p}.key", taint["key"], m) for m in names.is_qualified_name(str(taint["key"]))
            ]
        causes += one_of(f"{p}.effect", taint.get("effect"), TAINT_EFFECTS)
        if taint.get("value"):
            causes += [
                field_invalid(f"{p}.value", taint["value"], m)
                for m in names.is_label_value(str(taint["value"]))
            ]
    for i, addr in enumerate(_list(as_object(obj.get("status")).get("addresses"))):
        if not as_object(addr).get("type"):
            causes.append(field_required(f"status.addresses[{i}].type"))
    return causes


def validate_node_update(obj: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    old_cidrs = _list(as_object(old.get("spec")).get("podCIDRs"))
    new_cidrs = _list(as_object(obj.get("spec")).get("podCIDRs"))
    if old_cidrs and new_cidrs != old_cidrs:
        return [
            field_forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')
        ]
    return []


def validate_endpoints(obj: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    for si, subset in enumerate(_list(obj.get("subsets"))):
        subset, sp = as_object(subset), f"subsets[{si}]"
        for key in ("addresses", "notReadyAddresses"):
            for ai, addr in enumerate(_list(subset.get(key))):
                ip = as_object(addr).get("ip")
                if not ip:
                    causes.append(field_required(f"{sp}.{key}[{ai}].ip"))
                else:
                    causes += [field_invalid(f"{sp}.{key}[{ai}].ip", ip, m) for m in names.is_ip(str(ip))]
        ports = _list(subset.get("ports"))
        for pi, port in enumerate(ports):
            port, pp = as_object(port), f"{sp}.ports[{pi}]"
            if len(ports) > 1 and not port.get("name"):
                causes.append(field_required(f"{pp}.name"))
            elif port.get("name"):
                causes += names.check(f"{pp}.name", str(port["name"]), names.is_dns1123_label)
            causes += [
                field_invalid(f"{pp}.port", port.get("port", 0), m)
                for m in names.is_port_num(port.get("port"))
            ]
            causes += one_of(f"{pp}.protocol", port.get("protocol"), PROTOCOLS)
    return causes


def validate_event(obj: dict[str, Any]) -> list[Cause]:
    namespace = as_object(obj.get("metadata")).get("namespace") or ""
    involved = as_object(obj.get("involvedObject"))
    inv_ns = involved.get("namespace") or ""
    causes: list[Cause] = []
    if (not inv_ns and namespace not in ("", "default")) or (inv_ns and inv_ns != namespace):
        causes.append(field_invalid("involvedObject.namespace", inv_ns, "does not match event.namespace"))
    if obj.get("type") not in (None, "", "Normal", "Warning"):
        causes.append(field_not_supported("type", obj["type"], ["Normal", "Warning"]))
    causes += non_negative("count", obj.get("count"))
    return causes


def validate_lease(obj: dict[str, Any]) -> list[Cause]:
    spec = as_object(obj.get("spec"))
    causes: list[Cause] = []
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and (not isinstance(duration, int) or duration <= 0):
        causes.append(field_invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    causes += non_negative("spec.leaseTransitions", spec.get("leaseTransitions"))
    return causes


def validate_binding(obj: dict[str, Any]) -> list[Cause]:
    """The body of POST pods/<name>/binding."""
    target = as_object(obj.get("target"))
    causes: list[Cause] = []
    if target.get("kind") and target["kind"] != "Node":
        causes.append(field_not_supported("target.kind", target["kind"], ["Node", "<empty>"]))
    if not target.get("name"):
        causes.append(field_required("target.name"))
    return causes


def validate_scale(obj: dict[str, Any]) -> list[Cause]:
    """The body of PUT/PATCH replicationcontrollers/<name>/scale."""
    return non_negative("spec.replicas", as_object(obj.get("spec")).get("replicas"))
