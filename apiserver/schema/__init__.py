"""Schemas of the served kinds: the one source for OpenAPI, strict field checks and merge keys.

`types.py` holds the compact field table; this module parses it once into `Spec` trees and
answers the questions other modules ask:

- `unknown_fields(kind, obj)` -> dotted paths of fields the kind does not declare, e.g.
  `["spec.containers[0].imagee"]`, for `fieldValidation=Strict` (the real server answers
  400 `... strict decoding error: unknown field "spec.containers[0].imagee"`) and, under `Warn`,
  for `Warning` headers. Free-form fields (`object`) are not descended into.
- `type_errors(kind, obj)` -> `(path, message)` for values of the wrong JSON type, worded like
  the real server's decode error (`json: cannot unmarshal string into Go struct field ...`),
  which it answers with 400 BadRequest.
- `kind_spec(kind)` -> the `Spec` of a kind (or of `<Kind>List`), `None` if unknown.
- `Spec.field(name)` / `Spec.elem` walk down; `Spec.merge_key` and `Spec.set_merge` give the
  strategic-merge strategy of a list (`name` for containers, `containerPort` for container
  ports, `port` for service ports ...); `Spec.list_keys` and `Spec.element_id` the keys that
  identify an element for server-side apply, which may be more (kube's `listMapKeys`: a
  container port is its `containerPort` and `protocol`, TCP when unset).
- `definition_name(type_name)` -> the OpenAPI name, `io.k8s.api.core.v1.Pod` style;
  `all_types()` -> every (type name, package, fields, required) for the OpenAPI builder.

Assumes the table is consistent (every referenced type exists); `_check_table` asserts it at
import so a typo fails every test at once instead of silently accepting anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from apiserver.schema import types as _t
from apiserver.schema import types_admission as _tad
from apiserver.schema import types_apiextensions as _tx
from apiserver.schema import types_apiregistration as _tar
from apiserver.schema import types_apps as _ta
from apiserver.schema import types_autoscaling as _tas
from apiserver.schema import types_certificates as _tce
from apiserver.schema import types_config as _tc
from apiserver.schema import types_events as _te
from apiserver.schema import types_flowcontrol as _tfc
from apiserver.schema import types_networking as _tn
from apiserver.schema import types_node as _tnd
from apiserver.schema import types_policy as _tp
from apiserver.schema import types_quota as _tq
from apiserver.schema import types_rbac as _tr
from apiserver.schema import types_scheduling as _tsc
from apiserver.schema import types_storage as _ts

SCALARS = frozenset(
    {"string", "integer", "boolean", "number", "Time", "MicroTime", "Quantity", "IntOrString", "object"}
)


@dataclass
class Spec:
    """One node of a schema: a scalar, a named struct, a list or a map."""

    form: str  # "scalar" | "struct" | "list" | "map"
    name: str = ""  # scalar name or struct type name
    elem: Spec | None = None  # for list and map
    merge_key: str = ""  # list of structs merged by this key (strategic merge)
    set_merge: bool = False  # list of scalars merged as a set
    # server-side apply's keys of such a list when they are more than `merge_key`, and the
    # values keys take when an element leaves them out (kube's `+default`)
    apply_keys: tuple[str, ...] = ()
    key_defaults: dict[str, str] = field(default_factory=dict)
    fields: dict[str, Spec] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    # whether a value fits this node exactly, made on first use (`_fits`)
    fits: Callable[[Any], bool] | None = field(default=None, repr=False, compare=False)

    def field(self, name: str) -> Spec | None:
        return self.fields.get(name) if self.form == "struct" else None

    @property
    def free_form(self) -> bool:
        return self.form == "scalar" and self.name == "object"

    @property
    def list_keys(self) -> tuple[str, ...]:
        """The fields that identify an element of this keyed list for server-side apply."""
        return self.apply_keys or ((self.merge_key,) if self.merge_key else ())

    def element_id(self, item: dict[str, Any]) -> dict[str, Any]:
        """An element's identity in this keyed list: its key fields, defaulted where unset
        (`{"containerPort": 53, "protocol": "UDP"}`), in name order as FieldsV1 writes them."""
        return {k: item.get(k, self.key_defaults.get(k)) for k in sorted(self.list_keys)}


_TABLES: dict[str, tuple[str, dict[str, dict[str, str]]]] = {
    "meta": (_t.META, _t.META_TYPES),
    "core": (_t.CORE, _t.CORE_TYPES),
    "coordination": (_t.COORDINATION, _t.COORDINATION_TYPES),
    "autoscaling": (_t.AUTOSCALING, _t.AUTOSCALING_TYPES),
    "apps": (_ta.APPS, _ta.APPS_TYPES),
    "batch": (_ta.BATCH, _ta.BATCH_TYPES),
    "core-config": (_t.CORE, _tc.CONFIG_TYPES),
    "events": (_te.EVENTS, _te.EVENTS_TYPES),
    "core-storage": (_t.CORE, _ts.STORAGE_CORE_TYPES),
    "core-quota": (_t.CORE, _tq.QUOTA_TYPES),
    "storage": (_ts.STORAGE, _ts.STORAGE_TYPES),
    "scheduling": (_tsc.SCHEDULING, _tsc.SCHEDULING_TYPES),
    "flowcontrol": (_tfc.FLOWCONTROL, _tfc.FLOWCONTROL_TYPES),
    "node": (_tnd.NODE, _tnd.NODE_TYPES),
    "certificates": (_tce.CERTIFICATES, _tce.CERTIFICATES_TYPES),
    "policy": (_tp.POLICY, _tp.POLICY_TYPES),
    "discovery": (_tn.DISCOVERY, _tn.DISCOVERY_TYPES),
    "networking": (_tn.NETWORKING, _tn.NETWORKING_TYPES),
    "rbac": (_tr.RBAC, _tr.RBAC_TYPES),
    "authorization": (_tr.AUTHORIZATION, _tr.AUTHORIZATION_TYPES),
    "authentication": (_tr.AUTHENTICATION, _tr.AUTHENTICATION_TYPES),
    "apiextensions": (_tx.APIEXTENSIONS, _tx.APIEXTENSIONS_TYPES),
    "autoscaling-v2": (_tas.AUTOSCALING_V2, _tas.AUTOSCALING_V2_TYPES),
    "autoscaling-v1": (_tas.AUTOSCALING_V1, _tas.AUTOSCALING_V1_TYPES),
    "metrics": (_tas.METRICS, _tas.METRICS_TYPES),
    "admissionregistration": (_tad.ADMISSIONREGISTRATION, _tad.ADMISSIONREGISTRATION_TYPES),
    "apiregistration": (_tar.APIREGISTRATION, _tar.APIREGISTRATION_TYPES),
}
_KINDS: dict[str, str] = {
    **_t.KINDS,
    **_ta.KINDS,
    **_tc.CONFIG_KINDS,
    **_tr.RBAC_KINDS,
    **_ts.STORAGE_KINDS,
    **_tsc.SCHEDULING_KINDS,
    **_tfc.FLOWCONTROL_KINDS,
    **_tnd.NODE_KINDS,
    **_tce.CERTIFICATES_KINDS,
    **_tq.QUOTA_KINDS,
    **_tp.POLICY_KINDS,
    **_tx.APIEXTENSIONS_KINDS,
    **_te.EVENTS_KINDS,
}
_KINDS.update(_tn.NETWORKING_KINDS)
_KINDS.update(_tas.AUTOSCALING_V2_KINDS)
_KINDS.update(_tas.AUTOSCALING_V1_KINDS)
_KINDS.update(_tas.METRICS_KINDS)
_KINDS.update(_tad.ADMISSIONREGISTRATION_KINDS)
_KINDS.update(_tar.APIREGISTRATION_KINDS)
_PACKAGE: dict[str, str] = {}
_RAW: dict[str, dict[str, str]] = {}
for _pkg, _table in _TABLES.values():
    for _name, _fields in _table.items():
        _PACKAGE[_name] = _pkg
        _RAW[_name] = _fields
for _kind in (
    *_t.LISTED_KINDS,
    *_tn.NETWORKING_LISTED_KINDS,
    *_ta.LISTED_KINDS,
    *_tc.CONFIG_LISTED_KINDS,
    *_tr.RBAC_LISTED_KINDS,
    *_ts.STORAGE_LISTED_KINDS,
    *_tsc.SCHEDULING_LISTED_KINDS,
    *_tfc.FLOWCONTROL_LISTED_KINDS,
    *_tnd.NODE_LISTED_KINDS,
    *_tce.CERTIFICATES_LISTED_KINDS,
    *_tq.QUOTA_LISTED_KINDS,
    *_tp.POLICY_LISTED_KINDS,
    *_tx.APIEXTENSIONS_LISTED_KINDS,
    *_tas.AUTOSCALING_V2_LISTED_KINDS,
    *_tas.AUTOSCALING_V1_LISTED_KINDS,
    *_tas.METRICS_LISTED_KINDS,
    *_tad.ADMISSIONREGISTRATION_LISTED_KINDS,
    *_tar.APIREGISTRATION_LISTED_KINDS,
    *_te.EVENTS_LISTED_KINDS,
):
    _PACKAGE[_kind + "List"] = _PACKAGE[_kind]
    _RAW[_kind + "List"] = {
        "kind": "string",
        "apiVersion": "string",
        "metadata": "ListMeta",
        "items!": f"[{_kind}]",
    }

_STRUCTS: dict[str, Spec] = {}
_NAMES = {
    **_te.NAMES,
    **_tas.NAMES,
    **_tar.NAMES,
    **_ts.NAMES,
    **_tfc.NAMES,
}  # table name -> kube's, where two groups share a type's name


def _parse(text: str) -> Spec:
    merge_key = ""
    if "@" in text:
        text, merge_key = text.split("@", 1)
    if text.startswith("["):
        elem = _parse(text[1:-1])
        if merge_key == "set":
            return Spec("list", elem=elem, set_merge=True)
        if "," in merge_key:  # `containerPort,protocol=TCP`: server-side apply's keys, defaults
            keys = [k.partition("=") for k in merge_key.split(",")]
            return Spec(
                "list",
                elem=elem,
                merge_key=keys[0][0],
                apply_keys=tuple(k for k, _, _ in keys),
                key_defaults={k: d for k, eq, d in keys if eq},
            )
        return Spec("list", elem=elem, merge_key=merge_key)
    if text.startswith("{"):
        return Spec("map", elem=_parse(text[1:-1]))
    if text in SCALARS:
        return Spec("scalar", name=text)
    return _struct(text)


def _struct(name: str) -> Spec:
    spec = _STRUCTS.get(name)
    if spec is None:
        # Register before filling: types refer to themselves through lists (none today, but cheap).
        spec = _STRUCTS[name] = Spec("struct", name=name)
        raw = _RAW[name]
        spec.required = tuple(k[:-1] for k in raw if k.endswith("!"))
        spec.fields = {k.rstrip("!"): _parse(v) for k, v in raw.items()}
        _RETAIN_KEYS.update((name, k.rstrip("!")) for k, v in raw.items() if v.endswith("@retainKeys"))
    return spec


# struct fields written `Type@retainKeys` (Go `patchStrategy:"retainKeys"`: DeploymentSpec.strategy)
_RETAIN_KEYS: set[tuple[str, str]] = set()


def retain_keys(type_name: str, field_name: str) -> bool:
    """Whether a strategic merge patch of this field names the keys to keep (`$retainKeys`)."""
    return (type_name, field_name) in _RETAIN_KEYS


def _check_table() -> None:
    for name in _RAW:
        _struct(name)


_check_table()


def kind_spec(kind: str) -> Spec | None:
    return _STRUCTS.get(kind) if kind in _RAW else None


def type_spec(type_name: str) -> Spec:
    return _STRUCTS[type_name]


def kind_name(type_name: str) -> str:
    """kube's name of a type of the table (`EventsV1Event` is events.k8s.io's `Event`)."""
    return _NAMES.get(type_name, type_name)


def definition_name(type_name: str) -> str:
    if type_name == "Quantity":
        return "io.k8s.apimachinery.pkg.api.resource.Quantity"
    if type_name == "IntOrString":
        return "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
    if type_name in ("Time", "MicroTime", "Patch"):
        return f"{_t.META}.{type_name}"
    return f"{_PACKAGE[type_name]}.{kind_name(type_name)}"


def all_types() -> list[str]:
    return list(_RAW)


def group_version_of(kind: str) -> tuple[str, str] | None:
    """(group, version) of a top-level kind or its List, for `x-kubernetes-group-version-kind`."""
    base = kind[:-4] if kind.endswith("List") and kind[:-4] in _KINDS else kind
    api_version = _KINDS.get(base)
    if api_version is None:
        return None
    group, _, version = api_version.rpartition("/")
    return group, version


def unknown_fields(kind: str, obj: dict[str, Any]) -> list[str]:
    """Dotted paths of the fields of `obj` that kind `kind` does not declare ([] if unknown kind)."""
    spec = kind_spec(kind)
    out: list[str] = []
    if spec is not None and not _fits(spec)(obj):
        _walk(spec, obj, "", out)
    return out


def _fits(spec: Spec) -> Callable[[Any], bool]:
    """A check that a value has no unknown field and no value of a wrong JSON type under `spec`.

    Every write is checked twice (its fields, then its types after defaulting), and nearly every
    write is clean: the two walks built paths for errors that were not there (38 us for a defaulted
    pod; 23 us with this check first). This check builds no path and answers one bool, from a
    function per schema node made once (a struct's is a dict from field name to its child's
    function); only a value that does not fit is walked again, by `_walk` and `_check_types`."""
    fn = spec.fits
    if fn is not None:
        return fn
    if spec.form == "scalar":
        fn = spec.fits = _SCALAR_OK[spec.name]
        return fn
    if spec.form == "struct":
        checks: dict[str, Callable[[Any], bool]] = {}

        def struct_fits(value: Any) -> bool:
            if type(value) is not dict:
                return False
            get = checks.get
            for key, sub in value.items():
                check = get(key)
                if check is None or (sub is not None and not check(sub)):
                    return False
            return True

        spec.fits = struct_fits  # before its fields: a type may hold itself
        checks.update((name, _fits(child)) for name, child in spec.fields.items())
        return struct_fits
    assert spec.elem is not None
    elem_fits = _fits(spec.elem)
    if spec.form == "list":

        def list_fits(value: Any) -> bool:
            if type(value) is not list:
                return False
            for item in value:  # noqa: SIM110 (all() over a generator: a fifth slower on a pod)
                if item is not None and not elem_fits(item):
                    return False
            return True

        fn = spec.fits = list_fits
        return fn

    def map_fits(value: Any) -> bool:
        if type(value) is not dict:
            return False
        for item in value.values():  # noqa: SIM110 (as list_fits)
            if item is not None and not elem_fits(item):
                return False
        return True

    fn = spec.fits = map_fits
    return fn


@cache
def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _walk(spec: Spec, value: Any, path: str, out: list[str]) -> None:
    if spec.form == "struct":
        if not isinstance(value, dict):
            return
        for key, sub in value.items():
            child = spec.fields.get(key)
            if child is None:
                out.append(_join(path, key))
            elif sub is not None:
                _walk(child, sub, _join(path, key), out)
    elif spec.form == "list":
        elem = spec.elem
        if isinstance(value, list) and elem is not None and elem.form == "struct":
            for i, item in enumerate(value):
                _walk(elem, item, f"{path}[{i}]", out)
    elif spec.form == "map":
        elem = spec.elem
        if isinstance(value, dict) and elem is not None and elem.form == "struct":
            for k, item in value.items():
                _walk(elem, item, f"{path}[{k}]", out)


_JSON_TYPE = {str: "string", bool: "bool", int: "number", float: "number", list: "array", dict: "object"}
_GO_TYPE = {
    "string": "string",
    "integer": "int64",
    "boolean": "bool",
    "number": "float64",
    "Time": "Time",
    "MicroTime": "MicroTime",
    "Quantity": "Quantity",
    "IntOrString": "IntOrString",
}


def _is_str(v: Any) -> bool:
    return type(v) is str


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_bool(v: Any) -> bool:
    return type(v) is bool


def _is_number(v: Any) -> bool:
    return type(v) is int or type(v) is float


def _is_quantity(v: Any) -> bool:
    return type(v) is str or type(v) is int or type(v) is float


def _is_int_or_string(v: Any) -> bool:
    return type(v) is str or type(v) is int


def _anything(v: Any) -> bool:
    return True


_SCALAR_OK = {
    "string": _is_str,
    "Time": _is_str,
    "MicroTime": _is_str,
    "integer": _is_int,
    "boolean": _is_bool,
    "number": _is_number,
    "Quantity": _is_quantity,
    "IntOrString": _is_int_or_string,
    "object": _anything,
}


def type_errors(kind: str, obj: Any) -> list[tuple[str, str]]:
    """(path, message) for every value whose JSON type does not fit the schema.

    The real server fails decoding such a body with 400 BadRequest: `Pod in version "v1" cannot be
    handled as a Pod: json: cannot unmarshal string into Go struct field PodSpec.spec.containers
    of type []v1.Container`; the message here follows that shape. null is accepted anywhere.
    """
    spec = kind_spec(kind)
    out: list[tuple[str, str]] = []
    if spec is not None and not _fits(spec)(obj):
        _check_types(spec, obj, "", kind, out)
    return out


def _go_name(spec: Spec) -> str:
    if spec.form == "scalar":
        return _GO_TYPE.get(spec.name, "interface {}")
    if spec.form == "struct":
        return f"v1.{kind_name(spec.name)}"
    assert spec.elem is not None
    return ("[]" if spec.form == "list" else "map[string]") + _go_name(spec.elem)


def _type_error(spec: Spec, value: Any, path: str, parent: str, out: list[tuple[str, str]]) -> None:
    plain = ".".join(p for p in path.replace("[", ".[").split(".") if p and not p.startswith("["))
    out.append(
        (
            path,
            f"json: cannot unmarshal {_JSON_TYPE.get(type(value), 'value')} into Go struct field "
            f"{kind_name(parent)}.{plain} of type {_go_name(spec)}",
        )
    )


def _check_types(spec: Spec, value: Any, path: str, parent: str, out: list[tuple[str, str]]) -> None:
    # Hot path (every write): scalars are checked inline, paths are built only for containers.
    form = spec.form
    if form == "struct":
        if type(value) is not dict:
            _type_error(spec, value, path, parent, out)
            return
        fields = spec.fields
        for key, sub in value.items():
            child = fields.get(key)
            if child is None or sub is None:
                continue
            if child.form == "scalar":
                if not _SCALAR_OK[child.name](sub):
                    _type_error(child, sub, _join(path, key), spec.name, out)
            else:
                _check_types(child, sub, _join(path, key), spec.name, out)
        return
    if form == "scalar":
        if not _SCALAR_OK[spec.name](value):
            _type_error(spec, value, path, parent, out)
        return
    elem = spec.elem
    assert elem is not None
    if form == "list":
        if type(value) is not list:
            _type_error(spec, value, path, parent, out)
            return
        for i, item in enumerate(value):
            if item is not None:
                _check_types(elem, item, f"{path}[{i}]", parent, out)
        return
    if type(value) is not dict:
        _type_error(spec, value, path, parent, out)
        return
    for k, item in value.items():
        if item is not None:
            _check_types(elem, item, f"{path}[{k}]", parent, out)
