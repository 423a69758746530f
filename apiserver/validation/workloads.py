"""What the workload kinds (apps/v1 and batch/v1) validate alike, worded as kube-apiserver.

metav1.LabelSelector checks (`validate_selector`, `validate_required_selector`), the pod
template of a controller (`validate_template`, `template_labels_match`), IntOrString percentages
(`validate_int_or_percent`), the immutable selector, and Go's `%#v` rendering of the values
kube puts in its messages (a selector prints as `v1.LabelSelector{MatchLabels:...}`, an
IntOrString as `intstr.IntOrString{Type:1, IntVal:0, StrVal:"0%"}`), so a 422 reads as the
real server's. Pure functions over wire dicts; never raise on odd input.
"""

from __future__ import annotations

import json
import re
from typing import Any

from api import names
from api.errors import Cause, field_forbidden, field_not_supported, field_required
from api.jsonutil import as_object
from api.selectors import label_selector_string, selector_from_label_selector
from apiserver.validation.meta import non_negative, validate_selector, validate_template_meta
from apiserver.validation.pod import validate_pod_spec

Obj = dict[str, Any]
_PERCENT = re.compile(r"^[0-9]+%$")
PERCENT_MSG = names.regex_error(
    "a valid percent string must be a numeric string followed by an ending '%'", "[0-9]+%", "1%", "93%"
)
_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# --- Go's %#v of the values kube names in its messages --------------------------------------------


def go_quote(s: Any) -> str:
    return json.dumps(str(s), ensure_ascii=False)


def go_string_map(value: Any) -> str:
    if value is None:
        return "map[string]string(nil)"
    items = sorted(as_object(value).items())
    return "map[string]string{" + ", ".join(f"{go_quote(k)}:{go_quote(v)}" for k, v in items) + "}"


def go_selector(sel: Any) -> str:
    if not isinstance(sel, dict):
        return "null"
    exprs = sel.get("matchExpressions")
    if exprs is None:
        shown = "[]v1.LabelSelectorRequirement(nil)"
    else:

        def req(e: Any) -> str:
            e = as_object(e)
            vals = e.get("values")
            vs = "[]string(nil)" if vals is None else "[]string{" + ", ".join(go_quote(v) for v in vals) + "}"
            return (
                f"v1.LabelSelectorRequirement{{Key:{go_quote(e.get('key', ''))}, "
                f"Operator:{go_quote(e.get('operator', ''))}, Values:{vs}}}"
            )

        shown = "[]v1.LabelSelectorRequirement{" + ", ".join(req(e) for e in _list(exprs)) + "}"
    return (
        f"v1.LabelSelector{{MatchLabels:{go_string_map(sel.get('matchLabels'))}, MatchExpressions:{shown}}}"
    )


def go_int_or_string(value: Any) -> str:
    if isinstance(value, str):
        return f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}"
    n = value if isinstance(value, int) and not isinstance(value, bool) else 0
    return f'intstr.IntOrString{{Type:0, IntVal:{n}, StrVal:""}}'


def invalid_raw(path: str, shown: str, detail: str) -> Cause:
    """field.Invalid with the value already rendered (structs, maps: Go's %#v)."""
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {shown}: {detail}", "field": path}


def semantic(value: Any) -> Any:
    """apiequality.Semantic's view of a JSON value: null and empty collections equal absence."""
    if isinstance(value, dict):
        out = {k: semantic(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [semantic(v) for v in value]
    return value


def immutable_selector(new: Obj, old: Obj, path: str = "spec.selector") -> list[Cause]:
    a, b = as_object(new.get("spec")).get("selector"), as_object(old.get("spec")).get("selector")
    if semantic(a) != semantic(b):
        return [invalid_raw(path, go_selector(a), names.IMMUTABLE_MSG)]
    return []


# --- shared by every workload ---------------------------------------------------------------------


def selector_matches(sel: Obj, labels: Obj) -> bool:
    """metav1.LabelSelectorAsSelector(sel).Matches(labels) for a selector that validated."""
    try:
        parsed = selector_from_label_selector(sel)
    except ValueError:
        return False
    return parsed is not None and parsed.matches(labels)


def selector_parses(sel: Any) -> bool:
    return isinstance(sel, dict) and all(
        as_object(e).get("operator") in _OPERATORS for e in _list(sel.get("matchExpressions"))
    )


def validate_required_selector(spec: Obj, kind: str) -> list[Cause]:
    """spec.selector required and not empty (`empty selector is invalid for <kind>`)."""
    sel = spec.get("selector")
    if sel is None:
        return [field_required("spec.selector")]
    causes = validate_selector(sel, "spec.selector")
    s = as_object(sel)
    if not s.get("matchLabels") and not s.get("matchExpressions"):
        causes.append(invalid_raw("spec.selector", go_selector(sel), f"empty selector is invalid for {kind}"))
    return causes


def template_labels_match(sel: Any, template: Obj, path: str) -> list[Cause]:
    """The template's labels must be selected (an empty selector selects everything)."""
    labels = as_object(as_object(template.get("metadata")).get("labels"))
    if selector_parses(sel) and not selector_matches(as_object(sel), labels):
        shown = go_string_map(as_object(template.get("metadata")).get("labels"))
        return [invalid_raw(f"{path}.metadata.labels", shown, "`selector` does not match template `labels`")]
    return []


def validate_template(template: Any, path: str, policies: list[str], kind: str | None) -> list[Cause]:
    """ValidatePodTemplateSpec plus the controller's restartPolicy rule (`policies`) and, for
    `kind`, the ban on activeDeadlineSeconds (`activeDeadlineSeconds in ReplicaSet is not Supported`)."""
    if not isinstance(template, dict):
        return [field_required(path)]
    causes = validate_template_meta(template.get("metadata"), f"{path}.metadata")
    causes += validate_pod_spec(template.get("spec"), f"{path}.spec", for_pod=False)
    spec = as_object(template.get("spec"))
    policy = spec.get("restartPolicy")
    if policy not in policies:
        causes.append(field_not_supported(f"{path}.spec.restartPolicy", policy or "", policies))
    if kind is not None and spec.get("activeDeadlineSeconds") is not None:
        causes.append(
            field_forbidden(
                f"{path}.spec.activeDeadlineSeconds", f"activeDeadlineSeconds in {kind} is not Supported"
            )
        )
    return causes


def _percent(value: Any) -> int | None:
    return int(value[:-1]) if isinstance(value, str) and _PERCENT.match(value) else None


def int_or_percent_value(value: Any) -> int:
    p = _percent(value)
    if p is not None:
        return p
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def validate_int_or_percent(
    value: Any, path: str, at_most_100: bool = True, only_100: bool = False
) -> list[Cause]:
    """ValidatePositiveIntOrPercent, then (unless `at_most_100` is off) IsNotMoreThan100Percent;
    `only_100` runs the second check alone, for kube's orders of messages."""
    if value is None:
        return []
    causes: list[Cause] = []
    if not only_100:
        if isinstance(value, str):
            if not _PERCENT.match(value):
                causes.append(invalid_raw(path, go_int_or_string(value), PERCENT_MSG))
        else:
            causes += non_negative(path, value)
    if (at_most_100 or only_100) and (_percent(value) or 0) > 100:
        causes.append(invalid_raw(path, go_int_or_string(value), "must not be greater than 100%"))
    return causes


def selector_string(sel: Any) -> str:
    """The Scale's status.selector: kube's selector string, "" when missing, empty or invalid."""
    try:
        return label_selector_string(sel if isinstance(sel, dict) else None)
    except (ValueError, AttributeError, TypeError):
        return ""
