"""What a request to an extension server asks RBAC, and the identity sent along with it (pure).

kubelite knows nothing of an extension server's resources, so, as kube-apiserver's
RequestInfoFactory does for every request, the path alone says what is asked:
`/apis/<group>/<version>` (and anything shorter) is a non-resource request for that path;
`/apis/<g>/<v>/[namespaces/<ns>/]<resource>[/<name>[/<subresource>...]]` a resource request, the
verb from the method (a GET without a name is `list`, or `watch` with `watch=true`; a DELETE
without one `deletecollection`; the old `/watch/` prefix `watch`), a list's or watch's
`fieldSelector=metadata.name=<x>` naming the object as kube does. `namespaces/<name>` is the
namespace object itself, `namespaces/<name>/status|finalize` its subresources.

The identity goes as kube's front proxy sends it (client-go's SetAuthProxyHeaders): `X-Remote-User`,
one `X-Remote-Group` per group, `X-Remote-Extra-<key>` per extra value with the key %-escaped
where it is not an HTTP token character; whatever such headers the client sent are dropped.
"""

from __future__ import annotations

from apiserver.rbac.rules import Attributes

Header = tuple[bytes, bytes]
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_VERBS = {
    "POST": "create",
    "GET": "get",
    "HEAD": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}
_TOKEN = frozenset(b"!#$&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
REMOTE_USER = b"x-remote-user"
REMOTE_GROUP = b"x-remote-group"
REMOTE_EXTRA = b"x-remote-extra-"


def _named_by_selector(selector: str) -> str:
    """The name a field selector of exactly `metadata.name=<x>` (or `==`) picks, "" otherwise."""
    parts = [p for p in selector.split(",") if p]
    if len(parts) != 1:
        return ""
    key, sep, value = parts[0].partition("==") if "==" in parts[0] else parts[0].partition("=")
    return value if sep and key.strip() == "metadata.name" and not key.endswith("!") else ""


def attributes(
    user: str, groups: tuple[str, ...], method: str, path: str, query: dict[str, str]
) -> Attributes:
    """kube's authorizer attributes of a request under /apis."""
    parts = [p for p in path.split("/") if p]
    if len(parts) < 4 or parts[0] != "apis":
        return Attributes(user, groups, method.lower(), path=path, resource_request=False)
    group, rest = parts[1], parts[3:]
    verb = _VERBS.get(method, method.lower())
    if rest[0] == "watch":
        verb, rest = "watch", rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if not name and verb == "get":
        verb = "watch" if query.get("watch") in ("true", "1") else "list"
    if not name and verb == "delete":
        verb = "deletecollection"
    if verb in ("list", "watch") and not name:
        name = _named_by_selector(query.get("fieldSelector", ""))
    return Attributes(user, groups, verb, namespace, group, resource, subresource, name)


def _escape(key: str) -> bytes:
    return b"".join(bytes([b]) if b in _TOKEN else b"%%%02X" % b for b in key.encode("utf-8"))


def identity_headers(
    user: str, groups: tuple[str, ...], extra: tuple[tuple[str, tuple[str, ...]], ...] = ()
) -> list[Header]:
    out: list[Header] = [(REMOTE_USER, user.encode("utf-8"))]
    out += [(REMOTE_GROUP, g.encode("utf-8")) for g in groups]
    for key, values in extra:
        out += [(REMOTE_EXTRA + _escape(key), v.encode("utf-8")) for v in values]
    return out


def without_identity(headers: list[Header]) -> list[Header]:
    """The request's headers without any X-Remote-* identity the client sent itself."""
    return [
        (k, v)
        for k, v in headers
        if k.lower() not in (REMOTE_USER, REMOTE_GROUP) and not k.lower().startswith(REMOTE_EXTRA)
    ]
