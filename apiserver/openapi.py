"""OpenAPI v3 (per group-version) and v2 documents, generated from `apiserver.schema`.

Why: kubectl 1.30+ refuses `create`/`apply` unless `/openapi/v3` names the group-version and
its document has, for the kind, a `patch` operation carrying `x-kubernetes-group-version-kind`
and a `fieldValidation` query parameter (then it validates server-side with
`fieldValidation=Strict`). Client-side `apply` also reads `x-kubernetes-patch-merge-key` /
`x-kubernetes-patch-strategy` from the component schemas to build strategic merge patches,
and `kubectl explain` reads the schemas, so they are the real field tables, not stubs.

- `v3_root()` -> `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=H"}, ...}}`
- `v3_document(gv_path)` -> the document for `"api/v1"` or `"apis/coordination.k8s.io/v1"`, or None.
- `v3_document_json(gv_path)` -> the same, serialized once (bytes), for the handler.
- `v2_document()` / `v2_document_json()` -> Swagger 2.0 of everything, for clients asking JSON.
- `v2_document_protobuf()` -> the same document (paths and definitions) as gnostic's protobuf
  (`apiserver.openapi_v2pb`), answered with Content-Type `openapi_v2pb.OPENAPI_V2_PROTOBUF` when the Accept
  header asks for it: kubectl asks `/openapi/v2` for protobuf and decodes the body with
  proto.Unmarshal, so a JSON answer fails there.

v3 wraps a `$ref` that has a description in `allOf` (siblings of `$ref` are ignored in v3, as
kube's v3 documents do); v2 keeps them beside the `$ref` (kube's v2 shape, which kube-openapi's
v2 proto parser, and so `kubectl explain --output=plaintext-openapiv2`, reads).

Custom resources (rows added at run time, `api.resources.served_resources()`) are documented
from their CRD's `openAPIV3Schema`, given by `set_custom_schemas`, which also drops the caches.

Documents are deterministic and cached; callers must not mutate what they get.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from api.jsonutil import dumps
from api.resources import RESOURCES, Resource, Subresource, served_resources
from apiserver import openapi_v2pb, schema
from apiserver.schema import Spec
from apiserver.schema.docs import DOCS

VERSION_INFO = {"title": "Kubernetes", "version": "v1.33.0"}
_DESCRIPTIONS = {
    "fieldValidation": "fieldValidation instructs the server on how to handle objects in the "
    "request containing unknown or duplicate fields. Valid values are: Ignore, Warn (default), "
    "Strict."
}


# --- schemas -------------------------------------------------------------------------------------


def _ref(type_name: str, v3: bool) -> dict[str, Any]:
    prefix = "#/components/schemas/" if v3 else "#/definitions/"
    if type_name.startswith(_FULL):  # a custom resource's definition or another version's, named in full
        return {"$ref": prefix + type_name[len(_FULL) :]}
    return {"$ref": prefix + schema.definition_name(type_name)}


# --- custom resources ----------------------------------------------------------------------------

_FULL = "full:"
_STATIC = frozenset(RESOURCES)
# built-in rows in a version other than their kind's schema (SelfSubjectReview in v1beta1): kube
# documents each version under its own name and GVK, which `kubectl explain --api-version` looks for
_OTHER_VERSIONS = frozenset(
    r for r in RESOURCES if schema.group_version_of(r.type_name) not in (None, (r.group, r.version))
)
# (group, version, kind) -> openAPIV3Schema of a served custom resource (None: no schema)
_CUSTOM_SCHEMAS: dict[tuple[str, str, str], dict[str, Any] | None] = {}


def custom_definition_name(group: str, version: str, kind: str) -> str:
    """kube's name for a CRD's schema: the group reversed, `com.example.stable.v1.CronTab`."""
    return ".".join(reversed(group.split("."))) + f".{version}.{kind}"


def _type_name(r: Resource, listed: bool = False) -> str:
    kind = r.type_name + "List" if listed else r.type_name
    if r in _OTHER_VERSIONS:
        return _FULL + _other_version_name(r, kind)
    if r in _STATIC:
        return kind
    return _FULL + custom_definition_name(r.group, r.version, kind)


def _other_version_name(r: Resource, type_name: str) -> str:
    """kube's name for a built-in type in another version: `io.k8s.api.authentication.v1beta1.SelfSubjectReview`."""
    package = schema.definition_name(r.kind).rsplit(".", 2)[0]
    return f"{package}.{r.version}.{type_name}"


def _other_version_definitions(v3: bool) -> dict[str, Any]:
    """The kinds of `_OTHER_VERSIONS` under their version's name and GVK, with the fields of the
    schema's version (SelfSubjectReview's are the same in v1beta1); no Lists: never listed."""
    out: dict[str, Any] = {}
    for r in _OTHER_VERSIONS:
        body = _definition(r.kind, v3)
        body["x-kubernetes-group-version-kind"] = [{"group": r.group, "kind": r.kind, "version": r.version}]
        out[_other_version_name(r, r.kind)] = body
    return out


def set_custom_schemas(schemas: dict[tuple[str, str, str], dict[str, Any] | None]) -> None:
    """The schemas of the custom resources now served; forgets every cached document."""
    _CUSTOM_SCHEMAS.clear()
    _CUSTOM_SCHEMAS.update(schemas)
    for f in (
        _definitions,
        v3_document,
        v3_document_json,
        v3_root,
        v2_document,
        v2_document_json,
        v2_document_protobuf,
    ):
        f.cache_clear()


_V3_ONLY = ("allOf", "anyOf", "oneOf", "not")


def _v2_schema(s: dict[str, Any]) -> dict[str, Any]:
    """A CRD's structural schema as kube's v2 document gives it (apiextensions'
    ToStructuralOpenAPIV2, for kubectl's v2 models): no junctors; a nullable value loses its type,
    items and properties, and its name from the parent's `required`; a value that preserves
    unknown fields loses its items and properties; an array left without items loses its type."""
    out = {k: v for k, v in s.items() if k not in _V3_ONLY}
    if out.pop("nullable", False):
        for k in ("type", "items", "properties"):
            out.pop(k, None)
    if out.get("x-kubernetes-preserve-unknown-fields"):
        out.pop("items", None)
        out.pop("properties", None)
    if out.get("type") == "array" and "items" not in out:
        del out["type"]
    props = out.get("properties") or {}
    nullable = {k for k, p in props.items() if p.get("nullable")}
    extra = out.get("additionalProperties")
    if isinstance(extra, dict) and extra.get("nullable"):
        out.pop("required", None)
    elif nullable and out.get("required"):
        out["required"] = [r for r in out["required"] if r not in nullable]
        if not out["required"]:
            del out["required"]
    if "properties" in out:
        out["properties"] = {k: _v2_schema(p) for k, p in props.items()}
    if isinstance(out.get("items"), dict):
        out["items"] = _v2_schema(out["items"])
    if isinstance(extra, dict):
        out["additionalProperties"] = _v2_schema(extra)
    return out


def _custom_definitions(v3: bool) -> dict[str, Any]:
    meta_ref = _ref("ObjectMeta", v3)
    out: dict[str, Any] = {}
    for (group, version, kind), body in _CUSTOM_SCHEMAS.items():
        gvk = {"group": group, "kind": kind, "version": version}
        if body is not None and not v3:
            body = _v2_schema(body)
        props = dict((body or {}).get("properties") or {})
        props["apiVersion"] = {
            "type": "string",
            "description": DOCS.get("ObjectMeta.apiVersion")
            or "APIVersion defines the versioned schema of this representation of an object.",
        }
        props["kind"] = {
            "type": "string",
            "description": "Kind is a string value representing the REST resource this object represents.",
        }
        props["metadata"] = _beside_ref(meta_ref, {"description": "Standard object's metadata."}, v3)
        name = custom_definition_name(group, version, kind)
        out[name] = {
            **(body or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
            "properties": props,
            "x-kubernetes-group-version-kind": [gvk],
        }
        out[name + "List"] = {
            "type": "object",
            "description": f"{kind}List is a list of {kind}",
            "required": ["items"],
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "items": {"type": "array", "items": _ref(_FULL + name, v3)},
                "metadata": {"allOf": [_ref("ListMeta", v3)]} if v3 else _ref("ListMeta", v3),
            },
            "x-kubernetes-group-version-kind": [{**gvk, "kind": kind + "List"}],
        }
    return out


def _scalar(name: str, v3: bool) -> dict[str, Any]:
    if name == "string":
        return {"type": "string"}
    if name == "integer":
        return {"type": "integer", "format": "int64"}
    if name == "boolean":
        return {"type": "boolean"}
    if name == "number":
        return {"type": "number", "format": "double"}
    if name == "object":
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return _ref(name, v3)  # Time, MicroTime, Quantity, IntOrString


def spec_schema(spec: Spec, v3: bool = True) -> dict[str, Any]:
    if spec.form == "scalar":
        return _scalar(spec.name, v3)
    if spec.form == "struct":
        return _ref(spec.name, v3)
    assert spec.elem is not None
    if spec.form == "map":
        return {"type": "object", "additionalProperties": spec_schema(spec.elem, v3)}
    out: dict[str, Any] = {"type": "array", "items": spec_schema(spec.elem, v3)}
    if spec.merge_key:
        out["x-kubernetes-patch-merge-key"] = spec.merge_key
        out["x-kubernetes-patch-strategy"] = "merge"
        out["x-kubernetes-list-type"] = "map"
        out["x-kubernetes-list-map-keys"] = list(spec.list_keys)  # containerPort and protocol ...
    elif spec.set_merge:
        out["x-kubernetes-patch-strategy"] = "merge"
        out["x-kubernetes-list-type"] = "set"
    else:
        out["x-kubernetes-list-type"] = "atomic"
    return out


_WELL_KNOWN = {
    "Quantity": {
        "type": "string",
        "description": "Quantity is a fixed-point representation of a number (e.g. 100m, 1.5Gi, 2).",
    },
    "IntOrString": {
        "type": "string",
        "format": "int-or-string",
        "description": "IntOrString holds an int or a string.",
    },
    "Time": {"type": "string", "format": "date-time", "description": "RFC 3339 date and time, UTC."},
    "MicroTime": {"type": "string", "format": "date-time", "description": "RFC 3339 with microseconds."},
}
# OpenAPI v3 gives the two either-kind scalars as a oneOf, not a type (kube's OpenAPIV3OneOfTypes):
# `kubectl explain` then names them (`<map[string]Quantity>`, `<IntOrString>`), as it does for kube
_V3_ONE_OF = {"Quantity": ("string", "number"), "IntOrString": ("integer", "string")}


def _property(type_name: str, name: str, spec: Spec, v3: bool) -> dict[str, Any]:
    body = spec_schema(spec, v3)
    if schema.retain_keys(type_name, name):  # kubectl then sends `$retainKeys` (Recreate drops rollingUpdate)
        body = _beside_ref(body, {"x-kubernetes-patch-strategy": "retainKeys"}, v3)
    doc = DOCS.get(f"{type_name}.{name}")
    if doc is None:
        return body
    return _beside_ref(body, {"description": doc}, v3)


def _beside_ref(body: dict[str, Any], extra: dict[str, Any], v3: bool) -> dict[str, Any]:
    """`extra` added to a schema. v3 ignores the siblings of a `$ref`, so there a `$ref` is wrapped
    in `allOf` (kube's v3 shape); v2 keeps them beside it (kube's v2 shape, read by kubectl)."""
    if v3 and "$ref" in body:
        return {**extra, "allOf": [body]}
    return {**extra, **body}


def _definition(type_name: str, v3: bool) -> dict[str, Any]:
    spec = schema.type_spec(type_name)
    out: dict[str, Any] = {
        "type": "object",
        "properties": {k: _property(type_name, k, v, v3) for k, v in spec.fields.items()},
    }
    if type_name in DOCS:
        out["description"] = DOCS[type_name]
    if spec.required:
        out["required"] = list(spec.required)
    gv = schema.group_version_of(type_name)
    if gv is not None:
        kind = schema.kind_name(type_name)
        out["x-kubernetes-group-version-kind"] = [{"group": gv[0], "kind": kind, "version": gv[1]}]
    return out


@cache
def _definitions(v3: bool) -> dict[str, Any]:
    defs = {schema.definition_name(n): _definition(n, v3) for n in schema.all_types()}
    for name, body in _WELL_KNOWN.items():
        defs[schema.definition_name(name)] = dict(body)
        if v3 and name in _V3_ONE_OF:
            defs[schema.definition_name(name)] = {
                "description": body["description"],
                "oneOf": [{"type": t} for t in _V3_ONE_OF[name]],
            }
    defs.update(_custom_definitions(v3))
    defs.update(_other_version_definitions(v3))
    defs["io.k8s.apimachinery.pkg.apis.meta.v1.Patch"] = {
        "type": "object",
        "description": "Patch is provided to give a concrete name and type to the "
        "Kubernetes PATCH request body.",
    }
    return defs


# --- paths ---------------------------------------------------------------------------------------


def _param(name: str, where: str, v3: bool, type_: str = "string", required: bool = False) -> dict[str, Any]:
    p: dict[str, Any] = {"name": name, "in": where, "description": _DESCRIPTIONS.get(name, name)}
    if v3:
        p["schema"] = {"type": type_, "uniqueItems": True}
    else:
        p["type"] = type_
        p["uniqueItems"] = True
    if required:
        p["required"] = True
    return p


_WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
_LIST_PARAMS = (
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
)
_PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)


def _patch_types(r: Resource) -> tuple[str, ...]:
    """What a PATCH of `r` takes: a custom resource no strategic merge patch (kube's CRD paths
    say so, and kubectl's client-side apply picks its patch type from this list: offered it,
    kubectl sends one and gets a 415)."""
    if r not in _STATIC:
        return tuple(t for t in _PATCH_TYPES if t != "application/strategic-merge-patch+json")
    return _PATCH_TYPES


_BOOL_PARAMS = {"allowWatchBookmarks", "watch", "sendInitialEvents", "force"}
_INT_PARAMS = {"limit", "timeoutSeconds", "gracePeriodSeconds"}


def _params(names: tuple[str, ...], v3: bool) -> list[dict[str, Any]]:
    def type_of(n: str) -> str:
        return "boolean" if n in _BOOL_PARAMS else "integer" if n in _INT_PARAMS else "string"

    return [_param(n, "query", v3, type_of(n)) for n in names]


def _op_id(action: str, r: Resource, namespaced: bool, suffix: str = "") -> str:
    group = "".join(p.capitalize() for p in (r.group.split(".")[0] if r.group else "core").split("-"))
    scope = "Namespaced" if namespaced else ""
    return f"{action}{group}{r.version.capitalize()}{scope}{r.kind}{suffix}"


def _operation(
    action: str,
    verb: str,
    r: Resource,
    gvk: dict[str, str],
    response: str,
    v3: bool,
    params: tuple[str, ...] = (),
    body: str | None = None,
    namespaced: bool = True,
    suffix: str = "",
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "tags": [f"{(r.group or 'core').split('.')[0]}_{r.version}"],
        "description": f"{action} {r.kind}{suffix}",
        "operationId": _op_id(action, r, namespaced and r.namespaced, suffix),
        "parameters": _params(params, v3),
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": gvk,
    }
    ok = _ref(response, v3) if response != "string" else {"type": "string"}
    if v3:
        op["responses"] = {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": ok}, "application/yaml": {"schema": ok}},
            }
        }
        if body is not None:
            types = _patch_types(r) if verb == "patch" else ("*/*",)
            op["requestBody"] = {"content": {t: {"schema": _ref(body, v3)} for t in types}, "required": True}
    else:
        op["responses"] = {"200": {"description": "OK", "schema": ok}}
        op["consumes"] = list(_patch_types(r)) if verb == "patch" else ["*/*"]
        op["produces"] = ["application/json", "application/yaml"]
        if body is not None:
            op["parameters"].insert(
                0, {"name": "body", "in": "body", "required": True, "schema": _ref(body, v3)}
            )
    return op


def _path_params(r: Resource, v3: bool, named: bool) -> list[dict[str, Any]]:
    out = []
    if named:
        out.append(_param("name", "path", v3, required=True))
    if r.namespaced:
        out.append(_param("namespace", "path", v3, required=True))
    out.append(_param("pretty", "query", v3))
    return out


def _resource_paths(r: Resource, v3: bool) -> dict[str, Any]:
    gvk = {"group": r.group, "kind": r.kind, "version": r.version}
    K, L = _type_name(r), _type_name(r, listed=True)  # the response and body types
    base = r.group_version_path + ("/namespaces/{namespace}" if r.namespaced else "")
    coll, item = f"{base}/{r.plural}", f"{base}/{r.plural}/{{name}}"
    W = _WRITE_PARAMS
    if r.verbs == ("create",):  # a question (access reviews, token reviews): POST and nothing else
        return {
            coll: {
                "post": _operation("create", "post", r, gvk, K, v3, W, body=K),
                "parameters": _path_params(r, v3, named=False),
            }
        }
    paths: dict[str, Any] = {
        coll: {
            "get": _operation("list", "list", r, gvk, L, v3, _LIST_PARAMS),
            "post": _operation("create", "post", r, gvk, K, v3, W, body=K),
            "parameters": _path_params(r, v3, named=False),
        },
        item: {
            "get": _operation("read", "get", r, gvk, K, v3),
            "put": _operation("replace", "put", r, gvk, K, v3, W, body=K),
            "patch": _operation("patch", "patch", r, gvk, K, v3, (*W, "force"), body="Patch"),
            "delete": _operation(
                "delete",
                "delete",
                r,
                gvk,
                K,
                v3,
                ("dryRun", "gracePeriodSeconds", "propagationPolicy"),
                body="DeleteOptions",
            ),
            "parameters": _path_params(r, v3, named=True),
        },
    }
    if "deletecollection" in r.verbs:
        paths[coll]["delete"] = _operation(
            "deletecollection",
            "deletecollection",
            r,
            gvk,
            "Status",
            v3,
            _LIST_PARAMS,
            body="DeleteOptions",
            suffix="Collection",
        )
    if r.namespaced:
        all_ns = f"{r.group_version_path}/{r.plural}"
        paths[all_ns] = {
            "get": _operation(
                "list", "list", r, gvk, L, v3, _LIST_PARAMS, namespaced=False, suffix="ForAllNamespaces"
            ),
            "parameters": [_param("pretty", "query", v3)],
        }
    for s in r.subresources:
        paths[f"{item}/{s.name}"] = _subresource_path(r, s, v3)
        if s.name == "proxy":
            paths[f"{item}/proxy/{{path}}"] = _proxy_path(r, s, v3, with_path=True)
    return paths


def _proxy_path(r: Resource, s: Subresource, v3: bool, with_path: bool) -> dict[str, Any]:
    """`<item>/proxy[/{path}]`: a connect operation for every method the proxy relays."""
    gvk = {"group": s.group or r.group, "kind": s.kind, "version": s.version}
    params = _path_params(r, v3, named=True)
    if with_path:
        params.insert(1, _param("path", "path", v3, required=True))
    entry: dict[str, Any] = {"parameters": params}
    suffix = "ProxyWithPath" if with_path else "Proxy"
    for method in ("delete", "get", "head", "options", "patch", "post", "put"):
        query = () if with_path else ("path",)
        entry[method] = _operation(f"connect{method}", "connect", r, gvk, "string", v3, query, suffix=suffix)
    return entry


def _subresource_path(r: Resource, s: Subresource, v3: bool) -> dict[str, Any]:
    group = s.group or r.group
    gvk = {"group": group, "kind": s.kind, "version": s.version}
    kind = (
        s.kind
        if schema.kind_spec(s.kind) is not None and (r in _STATIC or s.kind == "Scale")
        else _type_name(r)
    )
    sfx = s.name.capitalize()
    if s.name == "proxy":
        return _proxy_path(r, s, v3, with_path=False)
    entry: dict[str, Any] = {"parameters": _path_params(r, v3, named=True)}
    if s.name == "log":
        entry["get"] = _operation(
            "read",
            "get",
            r,
            gvk,
            "string",
            v3,
            ("container", "follow", "previous", "sinceSeconds", "tailLines", "timestamps"),
            suffix="Log",
        )
        return entry
    if s.name in ("exec", "attach"):
        params = (
            *(("command",) if s.name == "exec" else ()),
            "container",
            "stdin",
            "stdout",
            "stderr",
            "tty",
        )
        sfx = s.name.title()
        entry["get"] = _operation("connectget", "connect", r, gvk, "string", v3, params, suffix=sfx)
        entry["post"] = _operation("connectpost", "connect", r, gvk, "string", v3, params, suffix=sfx)
        return entry
    if "create" in s.verbs:
        entry["post"] = _operation("create", "post", r, gvk, kind, v3, _WRITE_PARAMS, body=kind, suffix=sfx)
    if "get" in s.verbs:
        entry["get"] = _operation("read", "get", r, gvk, kind, v3, suffix=sfx)
    if "update" in s.verbs:
        entry["put"] = _operation("replace", "put", r, gvk, kind, v3, _WRITE_PARAMS, body=kind, suffix=sfx)
    if "patch" in s.verbs:
        entry["patch"] = _operation(
            "patch", "patch", r, gvk, kind, v3, (*_WRITE_PARAMS, "force"), body="Patch", suffix=sfx
        )
    return entry


# --- documents -----------------------------------------------------------------------------------


def _gv_paths() -> dict[str, list[Resource]]:
    out: dict[str, list[Resource]] = {}
    for r in served_resources():
        out.setdefault(r.group_version_path.lstrip("/"), []).append(r)
    return out


@cache
def v3_document(group_version_path: str) -> dict[str, Any] | None:
    served = _gv_paths().get(group_version_path.strip("/"))
    if served is None:
        return None
    paths: dict[str, Any] = {}
    for r in served:
        paths.update(_resource_paths(r, v3=True))
    return {
        "openapi": "3.0.0",
        "info": dict(VERSION_INFO),
        "paths": paths,
        "components": {"schemas": _definitions(True)},
    }


@cache
def v3_document_json(group_version_path: str) -> bytes | None:
    doc = v3_document(group_version_path)
    return None if doc is None else dumps(doc)


def document_hash(group_version_path: str) -> str:
    body = v3_document_json(group_version_path) or b""
    return hashlib.sha512(body).hexdigest().upper()


@cache
def v3_root() -> dict[str, Any]:
    return {
        "paths": {
            gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash={document_hash(gv)}"} for gv in _gv_paths()
        }
    }


@cache
def v2_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for r in served_resources():
        paths.update(_resource_paths(r, v3=False))
    return {"swagger": "2.0", "info": dict(VERSION_INFO), "paths": paths, "definitions": _definitions(False)}


@cache
def v2_document_json() -> bytes:
    return dumps(v2_document())


# --- /openapi/v2 as protobuf ---------------------------------------------------------------------
# kubectl asks `/openapi/v2` for gnostic's protobuf (`openapi_v2pb.OPENAPI_V2_PROTOBUF`) and builds
# its v2 models from the definitions: `explain --output=plaintext-openapiv2`, client-side apply's
# patch metadata, and kubectl 1.27's check for fieldValidation on the patch operations. The whole
# document, definitions included, is encoded by `openapi_v2pb`; built on the first request (about
# as long as the JSON form) and kept until the custom resources change.


@cache
def v2_document_protobuf() -> bytes:
    """`/openapi/v2` for clients asking protobuf."""
    return openapi_v2pb.encode_document(v2_document())
