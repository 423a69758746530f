"""Table columns of the admissionregistration.k8s.io kinds, as kube-apiserver 1.33 prints them
(pkg/printers/internalversion):

- MutatingWebhookConfiguration, ValidatingWebhookConfiguration (printMutatingWebhook,
  printValidatingWebhook): the name, how many webhooks the configuration holds, the age.
- ValidatingAdmissionPolicy (printValidatingAdmissionPolicy): the name, how many validations,
  the paramKind as `<apiVersion>/<kind>` (`<unset>` without one), the age.
- ValidatingAdmissionPolicyBinding (printValidatingAdmissionPolicyBinding): the name, the policy,
  the paramRef as `<namespace>/<name>` (`*/<name>` without a namespace, the selector in Go's
  LabelSelector.String() form without a name, `<unset>` without one), the age.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables

Obj = dict[str, Any]
UNSET = "<unset>"


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def _configuration_row(cfg: Obj, now: _dt.datetime) -> list[Any]:
    return [tables.name_cell(cfg), _count(cfg.get("webhooks")), tables.age_cell(cfg, now)]


def _policy_row(policy: Obj, now: _dt.datetime) -> list[Any]:
    spec = policy.get("spec") or {}
    kind = spec.get("paramKind")
    param_kind = (
        f"{kind.get('apiVersion') or ''}/{kind.get('kind') or ''}" if isinstance(kind, dict) else UNSET
    )
    return [
        tables.name_cell(policy),
        _count(spec.get("validations")),
        param_kind,
        tables.age_cell(policy, now),
    ]


def go_label_selector(selector: Obj) -> str:
    """metav1.LabelSelector's String() (the generated protobuf one kube's printer calls)."""
    labels = selector.get("matchLabels") or {}
    shown_labels = "".join(f"{k}: {labels[k]}," for k in sorted(labels))
    requirements = "".join(
        "LabelSelectorRequirement{"
        f"Key:{e.get('key') or ''},Operator:{e.get('operator') or ''},"
        f"Values:[{' '.join(str(v) for v in e.get('values') or [])}],}},"
        for e in selector.get("matchExpressions") or []
        if isinstance(e, dict)
    )
    return (
        f"&LabelSelector{{MatchLabels:map[string]string{{{shown_labels}}},"
        f"MatchExpressions:[]LabelSelectorRequirement{{{requirements}}},}}"
    )


def _param_ref(ref: Any) -> str:
    if not isinstance(ref, dict):
        return UNSET
    if ref.get("name"):
        return f"{ref.get('namespace') or '*'}/{ref['name']}"
    if isinstance(ref.get("selector"), dict):
        return go_label_selector(ref["selector"])
    return UNSET


def _binding_row(binding: Obj, now: _dt.datetime) -> list[Any]:
    spec = binding.get("spec") or {}
    return [
        tables.name_cell(binding),
        spec.get("policyName") or "",
        _param_ref(spec.get("paramRef")),
        tables.age_cell(binding, now),
    ]


_WEBHOOKS = tables.column(
    "Webhooks", "Webhooks indicates the number of webhooks in this configuration.", type_="integer"
)
_VALIDATIONS = tables.column(
    "Validations",
    "Validations indicates the number of validation rules defined in this configuration",
    type_="integer",
)
_PARAM_KIND = tables.column(
    "ParamKind", "ParamKind specifies the kind of resources used to parameterize this policy"
)
_POLICY_NAME = tables.column(
    "PolicyName", "PolicyName indicates the policy definition which the policy binding binded to"
)
_PARAM_REF = tables.column(
    "ParamRef", "ParamRef indicates the param resource which sets the configration param"
)

for _plural in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"):
    tables.register(_plural, [tables.NAME_COLUMN, _WEBHOOKS, tables.AGE_COLUMN], _configuration_row)
tables.register(
    "validatingadmissionpolicies",
    [tables.NAME_COLUMN, _VALIDATIONS, _PARAM_KIND, tables.AGE_COLUMN],
    _policy_row,
)
tables.register(
    "validatingadmissionpolicybindings",
    [tables.NAME_COLUMN, _POLICY_NAME, _PARAM_REF, tables.AGE_COLUMN],
    _binding_row,
)
