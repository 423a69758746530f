"""ObjectMeta validation (ValidateObjectMeta / ValidateObjectMetaUpdate) and shared cause helpers.

Names are checked with the kind's own rule (DNS-1123 subdomain for most kinds, DNS-1123 label
for namespaces, DNS-1035 label for services); `generateName` with the same rule allowing a
trailing '-'. Labels and annotations as the real server words it: one cause per bad key or
value, all on the `metadata.labels` / `metadata.annotations` path, and the 256 KiB limit on
the annotations' total size.
"""

from __future__ import annotations

from typing import Any

from api import names
from api.errors import Cause, field_forbidden, field_invalid, field_not_supported, field_required
from api.jsonutil import as_object
from api.names import NameCheck

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def too_long(path: str, limit: int) -> Cause:
    """field.TooLong (errors.py has no helper for it)."""
    unit = "byte" if limit == 1 else "bytes"
    return {
        "reason": "FieldValueTooLong",
        "message": f"Too long: may not be more than {limit} {unit}",
        "field": path,
    }


def one_of(path: str, value: Any, allowed: list[str], required_detail: str = "") -> list[Cause]:
    """A required field with a fixed set of values: Required when unset, NotSupported (listing
    them) when it is not one of them."""
    if value in (None, ""):
        return [field_required(path, required_detail)]
    if value not in allowed:
        return [field_not_supported(path, value, allowed)]
    return []


def not_found(path: str, value: Any) -> Cause:
    """field.NotFound (errors.py has no helper for it)."""
    shown = f'"{value}"' if isinstance(value, str) else value
    return {"reason": "FieldValueNotFound", "message": f"Not found: {shown}", "field": path}


def non_negative(path: str, value: Any) -> list[Cause]:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [field_invalid(path, value, names.NON_NEGATIVE_MSG)]
    return []


def go_map(value: Any) -> str:
    """A map[string]string as Go's %#v prints it (sorted keys), for messages about label maps."""
    if not isinstance(value, dict) or not value:
        return "map[string]string(nil)" if not value else str(value)
    inner = ",".join(f'"{k}":"{v}"' for k, v in sorted(value.items()))
    return "map[string]string{" + inner + "}"


def validate_labels(labels: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if not isinstance(labels, dict):
        return causes
    for key, value in labels.items():
        causes += [field_invalid(path, key, m) for m in names.is_qualified_name(str(key))]
        if not isinstance(value, str):
            continue
        causes += [field_invalid(path, value, m) for m in names.is_label_value(value)]
    return causes


def validate_annotations(annotations: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if not isinstance(annotations, dict):
        return causes
    total = 0
    for key, value in annotations.items():
        causes += [field_invalid(path, key, m) for m in names.is_qualified_name(str(key).lower())]
        total += len(str(key).encode()) + len(str(value).encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        causes.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return causes


def _owner_references(refs: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if not isinstance(refs, list):
        return causes
    controllers = 0
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict):
            continue
        p = f"{path}[{i}]"
        if not ref.get("apiVersion"):
            causes.append(
                field_invalid(f"{p}.apiVersion", ref.get("apiVersion") or "", "version must not be empty")
            )
        if not ref.get("kind"):
            causes.append(field_invalid(f"{p}.kind", ref.get("kind") or "", "kind must not be empty"))
        if not ref.get("name"):
            causes.append(field_invalid(f"{p}.name", ref.get("name") or "", "name must not be empty"))
        if not ref.get("uid"):
            causes.append(field_invalid(f"{p}.uid", ref.get("uid") or "", "uid must not be empty"))
        if ref.get("controller"):
            controllers += 1
    if controllers > 1:
        causes.append(field_invalid(path, "", "Only one reference can have Controller set to true"))
    return causes


def validate_object_meta(
    meta: Any, namespaced: bool, name_rule: NameCheck, path: str = "metadata", name_required: bool = True
) -> list[Cause]:
    if not isinstance(meta, dict):
        return [field_required(f"{path}.name", "name or generateName is required")]
    causes: list[Cause] = []
    generate = meta.get("generateName")
    if generate:
        causes += names.check(f"{path}.generateName", str(generate), names.name_check(name_rule, prefix=True))
    name = meta.get("name")
    if not name:
        if name_required and not generate:  # the handler generates the name from generateName
            causes.append(field_required(f"{path}.name", "name or generateName is required"))
    else:
        causes += names.check(f"{path}.name", str(name), name_rule)
    namespace = meta.get("namespace")
    if namespaced:
        if not namespace:
            causes.append(field_required(f"{path}.namespace"))
        else:
            causes += names.check(f"{path}.namespace", str(namespace), names.is_dns1123_label)
    elif namespace:
        causes.append(field_forbidden(f"{path}.namespace", "not allowed on this type"))
    causes += non_negative(f"{path}.generation", meta.get("generation"))
    causes += non_negative(f"{path}.deletionGracePeriodSeconds", meta.get("deletionGracePeriodSeconds"))
    causes += validate_labels(meta.get("labels"), f"{path}.labels")
    causes += validate_annotations(meta.get("annotations"), f"{path}.annotations")
    causes += _owner_references(meta.get("ownerReferences"), f"{path}.ownerReferences")
    for i, fin in enumerate(meta.get("finalizers") or []):
        if isinstance(fin, str):
            causes += [field_invalid(f"{path}.finalizers[{i}]", fin, m) for m in names.is_qualified_name(fin)]
    return causes


def validate_template_meta(meta: Any, path: str) -> list[Cause]:
    if not isinstance(meta, dict):
        return []
    return validate_labels(meta.get("labels"), f"{path}.labels") + validate_annotations(
        meta.get("annotations"), f"{path}.annotations"
    )


def immutable(path: str, new: Any, old: Any) -> list[Cause]:
    if new != old:
        return [field_invalid(path, new if new is not None else "", names.IMMUTABLE_MSG)]
    return []


def validate_object_meta_update(meta: Any, old_meta: Any, path: str = "metadata") -> list[Cause]:
    meta = meta if isinstance(meta, dict) else {}
    old_meta = old_meta if isinstance(old_meta, dict) else {}
    causes: list[Cause] = []
    for key in ("name", "namespace", "uid", "creationTimestamp"):
        if key in ("uid", "creationTimestamp") and not meta.get(key):
            continue  # the handler carries these over when the client leaves them out
        causes += immutable(f"{path}.{key}", meta.get(key), old_meta.get(key))
    return causes


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def validate_selector(sel: Any, path: str) -> list[Cause]:
    """unversionedvalidation.ValidateLabelSelector (label values checked strictly)."""
    if not isinstance(sel, dict):
        return []
    causes = validate_labels(sel.get("matchLabels"), f"{path}.matchLabels")
    for i, e in enumerate(_as_list(sel.get("matchExpressions"))):
        e, p = as_object(e), f"{path}.matchExpressions[{i}]"
        op, vals = e.get("operator"), _as_list(e.get("values"))
        if op in ("In", "NotIn"):
            if not vals:
                causes.append(
                    field_required(f"{p}.values", "must be specified when `operator` is 'In' or 'NotIn'")
                )
        elif op in ("Exists", "DoesNotExist"):
            if vals:
                causes.append(
                    field_forbidden(
                        f"{p}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                    )
                )
        else:
            causes.append(field_invalid(f"{p}.operator", op or "", "not a valid selector operator"))
        key = str(e.get("key") or "")
        causes += [field_invalid(f"{p}.key", key, m) for m in names.is_qualified_name(key)]
        for j, v in enumerate(vals):
            causes += [field_invalid(f"{p}.values[{j}]", v, m) for m in names.is_label_value(str(v))]
    return causes
