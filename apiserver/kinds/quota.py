"""Rows of LimitRange and ResourceQuota (core/v1).

A LimitRange is defaulted and validated as kube does (`validation/limitrange.py`); the LimitRanger
admission that applies it to pods and claims is `apiserver/limitranger.py`. A ResourceQuota starts
with an empty status (the quota controller fills `hard` and `used`), takes only the resources and
scopes kubelite counts (`validation/quota.py`), and is read by the quota admission
(`apiserver/quotaadmission.py`). Both admissions read the registry's mirrors, which this server's
own writes reach at once (`wrote`): a quota charged by one create is seen by the next.
"""

from __future__ import annotations

from apiserver.defaults import canonical_quantities
from apiserver.kinds import HookContext, Obj, WriteHooks, row
from apiserver.validation.limitrange import default_limit_range, validate_limit_range
from apiserver.validation.quota import validate_quota


class _LimitRangesMirrored(WriteHooks):
    def wrote(self, ctx: HookContext, key: str, value: bytes | None) -> None:
        ctx.limit_ranges.note(key, value)


class _QuotasMirrored(WriteHooks):
    def wrote(self, ctx: HookContext, key: str, value: bytes | None) -> None:
        ctx.quotas.note(key, value)


def _empty_status(obj: Obj) -> None:
    obj["status"] = {}


row("limitranges", defaults=default_limit_range, validate=validate_limit_range, hooks=_LimitRangesMirrored())


def _canonical_hard(obj: Obj) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        canonical_quantities(spec.get("hard"))


row(
    "resourcequotas",
    status_separate=True,
    prepare_create=_empty_status,
    defaults=_canonical_hard,
    validate=validate_quota,
    hooks=_QuotasMirrored(),
)
