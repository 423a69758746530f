"""Everything that is not a resource: health, version, CA, discovery and OpenAPI documents.

Discovery is negotiated by the Accept header (aggregated v2/v2beta1 with its exact Content-Type,
else the legacy documents). The documents are pure functions of the resource table, so each is
encoded once and served from memory; `/openapi/*` comes from `apiserver.openapi` (JSON, or the
gnostic protobuf form of v2 for kubectl 1.27). While some APIService names an extension server,
`/apis` (both forms) and `/apis/<group>` merge its group/versions in
(`apiserver.aggregation.discovery`), encoded once per change of the APIServices.
"""

from __future__ import annotations

import platform
from functools import cache
from typing import Any

from api import jsonutil
from api.errors import ApiError
from apiserver import discovery, openapi
from apiserver.handlers.http import JSON, Request, State, respond

VERSION = {
    "major": "1",
    "minor": "33",
    "gitVersion": "v1.33.0-kubelite",
    "gitCommit": "kubelite",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": f"python{platform.python_version()}",
    "compiler": "cpython",
    "platform": f"linux/{'amd64' if platform.machine() in ('x86_64', 'AMD64') else 'arm64'}",
}


OPENAPI_V2_PROTOBUF_ANSWER = b"application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def not_found_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


@cache
def _encoded(key: str) -> bytes:
    kind, _, arg = key.partition(":")
    doc: Any
    if kind == "agg-core":
        doc = discovery.aggregated(True, arg)
    elif kind == "agg-apis":
        doc = discovery.aggregated(False, arg)
    elif kind == "groups":
        doc = discovery.api_group_list()
    elif kind == "group":
        doc = discovery.api_group(arg)
    elif kind == "resources":
        g, _, v = arg.rpartition("/")
        doc = discovery.resource_list(g, v)
    elif kind == "version":
        doc = VERSION
    elif kind == "v2":
        doc = openapi.v2_document_json()
    elif kind == "v2pb":
        doc = openapi.v2_document_protobuf()
    elif kind == "v3root":
        doc = openapi.v3_root()
    else:
        doc = openapi.v3_document_json(arg)
    if doc is None:
        raise not_found_path()
    return doc if isinstance(doc, bytes) else jsonutil.dumps(doc)


def forget_documents() -> None:
    """Drop the encoded documents (the custom resources served changed)."""
    _encoded.cache_clear()
    _MERGED.clear()


class _MergedDocuments:
    """The documents with the extension servers' group/versions merged in, for one generation of
    the APIServices (a change of them, or of the custom resources, drops them)."""

    def __init__(self) -> None:
        self.generation = -1
        self.bodies: dict[str, bytes] = {}

    def clear(self) -> None:
        self.bodies.clear()

    def get(self, agg: Any, key: str) -> bytes:
        """`_encoded(key)` with what the service-backed APIServices serve merged in."""
        if self.generation != agg.generation:
            self.generation, self.bodies = agg.generation, {}
        body = self.bodies.get(key)
        if body is None:
            from apiserver.aggregation import discovery as merge

            kind, _, arg = key.partition(":")
            infos = agg.all()
            doc: Any
            if kind == "agg-apis":
                doc = merge.merge_aggregated(discovery.aggregated(False, arg), infos, agg.fetched)
            elif kind == "groups":
                doc = merge.merge_group_list(discovery.api_group_list(), infos)
            else:
                doc = merge.merge_group(discovery.api_group(arg), arg, infos)
            if doc is None:
                raise not_found_path()
            body = self.bodies[key] = jsonutil.dumps(doc)
        return body


_MERGED = _MergedDocuments()


async def handle_public(state: State, req: Request, send: Any) -> None:
    p = req.path
    if p == "/version":
        await respond(send, 200, _encoded("version:"))
    elif p == "/cacerts":
        await respond(send, 200, state.ca_pem, b"text/plain")
    else:
        await respond(send, 200, b"ok", b"text/plain; charset=utf-8")


async def handle_meta(state: State, req: Request, send: Any) -> bool:
    """Answer discovery and OpenAPI paths; False when the path is not one of them."""
    parts = [x for x in req.path.split("/") if x]
    if req.method != "GET" or not parts:
        return False
    accept = req.accept
    agg = state.aggregator if state.aggregator is not None and state.aggregator.remote else None
    document = _encoded if agg is None else lambda key: _MERGED.get(agg, key)  # extension servers' too
    if parts == ["api"] or parts == ["apis"]:
        ct = discovery.negotiate_discovery(accept)
        core = parts == ["api"]
        if ct is not None:
            version = "v2" if ct == discovery.AGGREGATED_V2 else "v2beta1"
            body = _encoded("agg-core:" + version) if core else document("agg-apis:" + version)
            await respond(send, 200, body, ct.encode(), [(b"vary", b"Accept")])
        elif core:
            doc = discovery.api_versions(f"{state.config.client_host}:{state.config.port}")
            await respond(send, 200, jsonutil.dumps(doc), JSON, [(b"vary", b"Accept")])
        else:
            await respond(send, 200, document("groups:"), JSON, [(b"vary", b"Accept")])
        return True
    if parts[0] == "api" and len(parts) == 2:
        await respond(send, 200, _encoded(f"resources:/{parts[1]}"))
        return True
    if parts[0] == "apis" and len(parts) == 2:
        await respond(send, 200, document(f"group:{parts[1]}"))
        return True
    if parts[0] == "apis" and len(parts) == 3:
        await respond(send, 200, _encoded(f"resources:{parts[1]}/{parts[2]}"))
        return True
    if parts[0] == "openapi":
        if parts == ["openapi", "v2"]:
            if "protobuf" in accept:  # kubectl 1.27 reads only the gnostic protobuf form
                # answered under the name without "@": Go's mime parser rejects the "@" form
                await respond(send, 200, _encoded("v2pb:"), OPENAPI_V2_PROTOBUF_ANSWER)
            else:
                await respond(send, 200, _encoded("v2:"))
        elif parts == ["openapi", "v3"]:
            await respond(send, 200, _encoded("v3root:"))
        elif len(parts) > 2 and parts[1] == "v3":
            await respond(send, 200, _encoded("v3:" + "/".join(parts[2:])))
        else:
            raise not_found_path()
        return True
    return False
