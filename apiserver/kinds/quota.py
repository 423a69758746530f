"""Row of LimitRange (core/v1): defaulted and validated as kube does (`validation/limitrange.py`);
the LimitRanger admission that applies it to pods and claims is `apiserver/limitranger.py`, fed by
the registry's mirror of every LimitRange (its writes reach the mirror at once, `wrote`).
"""

from __future__ import annotations

from apiserver.kinds import HookContext, WriteHooks, row
from apiserver.validation.limitrange import default_limit_range, validate_limit_range


class _Mirrored(WriteHooks):
    def wrote(self, ctx: HookContext, key: str, value: bytes | None) -> None:
        ctx.limit_ranges.note(key, value)


row("limitranges", defaults=default_limit_range, validate=validate_limit_range, hooks=_Mirrored())
