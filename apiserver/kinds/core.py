"""Rows of the core (v1) kinds and coordination.k8s.io Leases: what kube's registry strategies
for these kinds do, as data over the pure functions of `apiserver.defaults` and
`apiserver.validation`.

Two kinds need I/O around their writes: a Service holds cluster IPs and node ports (store keys
reserved by `apiserver.allocator`, so they are unique across API servers), and a Namespace is
mirrored in the registry's namespace cache, which admits creates without a store read.
"""

from __future__ import annotations

import copy
from typing import Any

from api import jsonutil, names
from api.errors import bad_request
from api.selectors import map_to_string
from apiserver import defaults, limitranger, priorityadmission, runtimeclassadmission
from apiserver.allocator import Allocator
from apiserver.kinds import HookContext, Obj, SubresourceWrite, WriteHooks, row
from apiserver.lifecycle import keep_ephemeral_containers, random_suffix
from apiserver.saadmission import admit_pod
from apiserver.validation.ephemeral import validate_ephemeral_create, validate_ephemeral_update
from apiserver.validation.others import (
    validate_endpoints,
    validate_event,
    validate_lease,
    validate_namespace,
    validate_node,
    validate_node_update,
    validate_pod_template,
    validate_replication_controller,
)
from apiserver.validation.pod import validate_pod_spec, validate_pod_status, validate_pod_update
from apiserver.validation.podwarnings import pod_warnings, template_warnings
from apiserver.validation.service import validate_service, validate_service_update

NAMESPACE_FINALIZER = "kubernetes"


# --- Pod ----------------------------------------------------------------------------------------


SCHEDULING_GATED = {
    "type": "PodScheduled",
    "status": "False",
    "reason": "SchedulingGated",
    "message": "Scheduling is blocked due to non-empty scheduling gates",
}


def _pod_create(obj: Obj) -> None:
    obj["status"] = {"phase": "Pending"}
    if (obj.get("spec") or {}).get("schedulingGates"):  # kube's applySchedulingGatedCondition
        since = obj["metadata"].get("creationTimestamp")
        obj["status"]["conditions"] = [
            {**SCHEDULING_GATED, "lastProbeTime": None, "lastTransitionTime": since}
        ]


class PodHooks(WriteHooks):
    """ServiceAccount, Priority, RuntimeClass and LimitRanger admission: reads of the account and
    of the priority classes (from the server's caches) and of a named runtime class (from the
    store) before the create; the priority set then is kept on updates."""

    async def admit_create(self, ctx: HookContext, namespace: str | None, new: Obj) -> None:
        await admit_pod(ctx.service_accounts, namespace or "", new, random_suffix)
        await priorityadmission.admit_pod(ctx.priority_classes, new)
        await runtimeclassadmission.admit_pod(ctx.store, new)
        await limitranger.admit_pod(ctx.limit_ranges, namespace or "", new)

    def carry_over(self, new: Obj, old: Obj) -> None:
        priorityadmission.keep_priority(new, old)


def _pod_grace(obj: Obj, options: dict[str, Any]) -> int:
    """Only pods on a node and not finished are deleted gracefully."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
        return 0
    g = options.get("gracePeriodSeconds")
    if g is None:
        g = spec.get("terminationGracePeriodSeconds", 30)
    try:
        return max(0, int(g))
    except (TypeError, ValueError):
        raise bad_request(f"invalid gracePeriodSeconds: {g!r}") from None


def _as_written_now(old_spec: Any) -> Any:
    """A stored pod's spec as this server would store it now (quantities in canonical text, false
    omitempty booleans dropped), so that a pod stored by an older kubelite compares equal to
    itself on an update that does not change its spec."""
    if not isinstance(old_spec, dict):
        return old_spec
    spec = copy.deepcopy(old_spec)
    defaults.pod_spec_defaults(spec)
    return spec


row(
    "pods",
    warnings=pod_warnings,
    status_separate=True,
    generation=True,
    prepare_create=_pod_create,
    defaults=defaults.default_pod,
    hooks=PodHooks(),
    validate=lambda obj: validate_pod_spec(obj.get("spec"), "spec", for_pod=True),
    validate_update=lambda new, old: validate_pod_update(new.get("spec"), _as_written_now(old.get("spec"))),
    validate_status=lambda new, old: validate_pod_status(new),
    validate_create=lambda obj: validate_ephemeral_create(obj.get("spec")),
    subresource_writes={
        # kube's ValidatePodEphemeralContainersUpdate: the whole pod as on create, and what was there stays
        "ephemeralcontainers": SubresourceWrite(
            keep_ephemeral_containers,
            lambda new, old: (
                validate_pod_spec(new.get("spec"), "spec", for_pod=True)
                + validate_ephemeral_update(
                    new.get("spec"), old.get("spec"), (old.get("metadata") or {}).get("annotations")
                )
            ),
            defaults=True,
        )
    },
    field_paths=frozenset(
        {
            "spec.nodeName",
            "status.phase",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.podIP",
            "status.nominatedNodeName",
            "spec.hostNetwork",
        }
    ),
    grace_period=_pod_grace,
)

# --- ReplicationController ----------------------------------------------------------------------


def _rc_create(obj: Obj) -> None:
    obj["status"] = {"replicas": 0}


row(
    "replicationcontrollers",
    warnings=template_warnings("spec", "template"),
    status_separate=True,
    generation=True,
    prepare_create=_rc_create,
    defaults=defaults.default_replication_controller,
    validate=validate_replication_controller,
    field_paths=frozenset({"status.replicas"}),
    scale_selector=lambda rc: map_to_string((rc.get("spec") or {}).get("selector")),
)

# --- PodTemplate --------------------------------------------------------------------------------


def _pod_template_defaults(obj: Obj) -> None:
    """The pod defaults on the template, which always exists (Go's template is a struct, so it
    is decoded, defaulted and validated even when the body has none)."""
    template = obj.get("template")
    if template is None:
        template = obj["template"] = {}
    if isinstance(template, dict):
        if template.get("spec") is None:
            template["spec"] = {}
        defaults.template_defaults(obj)


row(
    "podtemplates",
    warnings=template_warnings("template"),
    generation=True,  # kube's strategy: 1 on create, +1 for each change of the template
    spec_field="template",
    defaults=_pod_template_defaults,
    validate=validate_pod_template,
)

# --- Service ------------------------------------------------------------------------------------


class ServiceHooks(WriteHooks):
    """Cluster IPs and node ports are store keys: claimed before the write, released after."""

    def carry_over(self, new: Obj, old: Obj) -> None:
        Allocator.keep_allocated(new, old)

    async def claim(self, ctx: HookContext, new: Obj, old: Obj | None) -> list[str]:
        claimed: list[str] = await ctx.allocator.allocate_service(new, old)
        return claimed

    async def release(self, ctx: HookContext, keys: list[str]) -> None:
        await ctx.allocator.release(keys)

    async def preview(self, ctx: HookContext, new: Obj, old: Obj | None) -> None:
        await ctx.allocator.dry_run().allocate_service(new, old)

    async def updated(self, ctx: HookContext, new: Obj, old: Obj) -> None:
        await ctx.allocator.release(sorted(Allocator.held_keys(old) - Allocator.held_keys(new)))

    async def removed(self, ctx: HookContext, last: Obj) -> None:
        await ctx.allocator.release(sorted(Allocator.held_keys(last)))


def _service_create(obj: Obj) -> None:
    obj["status"] = {"loadBalancer": {}}


row(
    "services",
    name_rule=names.is_dns1035_label,
    status_separate=True,
    create_on_update=True,
    prepare_create=_service_create,
    defaults=defaults.default_service,
    validate=validate_service,
    validate_update=validate_service_update,
    field_paths=frozenset({"spec.clusterIP", "spec.type"}),
    hooks=ServiceHooks(),
)

# --- Namespace ----------------------------------------------------------------------------------


def terminating(value: bytes) -> bool:
    """Whether a stored namespace is being deleted (bytes first: most are not)."""
    if b'"deletionTimestamp"' not in value:
        return False
    meta = jsonutil.loads(value).get("metadata") or {}
    return bool(meta.get("deletionTimestamp"))


class NamespaceHooks(WriteHooks):
    """Every namespace write of this server reaches its namespace cache at once."""

    PREFIX = "/registry/namespaces/"

    def wrote(self, ctx: HookContext, key: str, value: bytes | None) -> None:
        ctx.namespaces.note(key[len(self.PREFIX) :], value)


def _namespace_create(obj: Obj) -> None:
    obj["status"] = {"phase": "Active"}
    spec = obj.get("spec")
    obj["spec"] = {**(spec if isinstance(spec, dict) else {}), "finalizers": [NAMESPACE_FINALIZER]}


def _namespace_update(new: Obj, old: Obj) -> None:
    """spec.finalizers only shrink through /finalize; a main write keeps them."""
    spec = new["spec"] = dict(new.get("spec") or {})
    old_fin = (old.get("spec") or {}).get("finalizers")
    if old_fin is not None:
        spec["finalizers"] = old_fin
    else:
        spec.pop("finalizers", None)


def _namespace_deleting(obj: Obj) -> None:
    obj["status"] = {**(obj.get("status") or {}), "phase": "Terminating"}


row(
    "namespaces",
    name_rule=names.is_dns1123_label,
    status_separate=True,
    prepare_create=_namespace_create,
    prepare_update=_namespace_update,
    defaults=defaults.default_namespace,
    validate=validate_namespace,
    validate_status=lambda new, old: validate_namespace(new),
    field_paths=frozenset({"status.phase"}),
    holds_removal=lambda obj: bool((obj.get("spec") or {}).get("finalizers")),
    on_deleting=_namespace_deleting,
    hooks=NamespaceHooks(),
)

# --- the rest -----------------------------------------------------------------------------------

row(
    "nodes",
    status_separate=True,
    defaults=defaults.default_node,
    validate=validate_node,
    validate_update=validate_node_update,
    validate_status=lambda new, old: validate_node(new),
    field_paths=frozenset({"spec.unschedulable"}),
)
row("endpoints", create_on_update=True, defaults=defaults.default_endpoints, validate=validate_endpoints)
row(
    "events",
    create_on_update=True,
    validate=validate_event,
    field_paths=frozenset(
        {
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        }
    ),
)
row("leases", "coordination.k8s.io", create_on_update=True, validate=validate_lease)
