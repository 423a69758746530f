"""Row of APIService (apiregistration.k8s.io/v1), as kube-aggregator's registry strategy keeps it.

Cluster-scoped, named `<version>.<group>` (a path segment, checked against the spec by the
validation); a service's port defaults to 443 (SetDefaults_ServiceReference). On create the status
is reset and a Local APIService is marked Available at once (PrepareForCreate); a main write
keeps the stored status and /status writes change nothing else (kube's status strategy keeps
spec, labels, annotations, finalizers and owners). No generation, no create on PUT.

The aggregator's mirror (`apiserver.aggregation.served`) is fed this server's own writes at once,
so a request right after an APIService is written is routed by it.
"""

from __future__ import annotations

from api import jsonutil
from apiserver.aggregation.apiservices import DEFAULT_PORT, local_condition
from apiserver.kinds import HookContext, Obj, WriteHooks, row
from apiserver.validation.apiregistration import validate_api_service, validate_api_service_status
from apiserver.validation.rbac import is_path_segment_name


class _Mirrored(WriteHooks):
    def wrote(self, ctx: HookContext, key: str, value: bytes | None) -> None:
        if ctx.apiservices is not None:
            ctx.apiservices.note(key, value)


def _defaults(obj: Obj) -> None:
    spec = obj.get("spec")
    service = spec.get("service") if isinstance(spec, dict) else None
    if isinstance(service, dict) and service.get("port") is None:
        service["port"] = DEFAULT_PORT


def _prepare_create(obj: Obj) -> None:
    spec = obj.get("spec")
    local = not (isinstance(spec, dict) and isinstance(spec.get("service"), dict))
    obj["status"] = {"conditions": [local_condition(jsonutil.now_str())]} if local else {}


row(
    "apiservices",
    "apiregistration.k8s.io",
    name_rule=is_path_segment_name,
    status_separate=True,
    defaults=_defaults,
    prepare_create=_prepare_create,
    validate=validate_api_service,
    validate_status=validate_api_service_status,
    hooks=_Mirrored(),
)
