"""Table columns of MutatingWebhookConfiguration and ValidatingWebhookConfiguration, as
kube-apiserver 1.33 prints them (pkg/printers/internalversion: printMutatingWebhook,
printValidatingWebhook): the name, how many webhooks the configuration holds, the age.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables

Obj = dict[str, Any]


def _configuration_row(cfg: Obj, now: _dt.datetime) -> list[Any]:
    hooks = cfg.get("webhooks")
    return [tables.name_cell(cfg), len(hooks) if isinstance(hooks, list) else 0, tables.age_cell(cfg, now)]


_WEBHOOKS = tables.column(
    "Webhooks", "Webhooks indicates the number of webhooks in this configuration.", type_="integer"
)

for _plural in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"):
    tables.register(_plural, [tables.NAME_COLUMN, _WEBHOOKS, tables.AGE_COLUMN], _configuration_row)
