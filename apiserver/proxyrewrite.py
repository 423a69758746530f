"""What the `proxy` subresources change in what they relay, as kube's UpgradeAwareHandler, Go's
ReverseProxy and apimachinery's proxy Transport do it: pure functions over headers and bodies.

Request headers go upstream as they came except the hop-by-hop ones (Connection and those it
names, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade), `Expect` (answered here
already) and the caller's credentials: kube-apiserver's authentication and impersonation filters
delete `Authorization` and `Impersonate-*` before any handler runs (and kubelite's node-name
header goes with them). `Host` stays the one the client sent (kube does not set the upstream's),
`X-Forwarded-For` gains the client's address and `X-Forwarded-Uri` is the path as the client asked.

Response headers come back without the hop-by-hop ones and without CORS headers (kube's
corsRemovingTransport). Links are rewritten as kube still does (util/proxy/transport.go): a
`Location` header, or in a text/html body (identity, gzip or deflate) the URL attributes of kube's
table, that point at the upstream or at the Host the client used, with an absolute path, get the
proxy's path in front (`/x` -> `/api/v1/namespaces/ns/services/web/proxy/x`), so that links and
redirects stay inside the proxy. Relative links and other hosts' are left alone.
"""

from __future__ import annotations

import gzip
import html
import posixpath
import re
import zlib
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from apiserver.auth import NODE_NAME_HEADER, NODE_PASSWORD_HEADER

Headers = list[tuple[bytes, bytes]]
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"proxy-connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
_DROPPED = frozenset({b"authorization", NODE_NAME_HEADER, NODE_PASSWORD_HEADER, b"expect"})
_FORWARDED = frozenset({b"x-forwarded-for", b"x-forwarded-uri"})  # set here, from the client's
_HANDSHAKE = frozenset({b"host", b"sec-websocket-key", b"sec-websocket-version", b"sec-websocket-extensions"})
_CORS = frozenset(
    {
        b"access-control-allow-credentials",
        b"access-control-allow-headers",
        b"access-control-allow-methods",
        b"access-control-allow-origin",
    }
)
# which attributes of which elements hold URLs (kube's atomsToAttrs)
URL_ATTRIBUTES: dict[str, frozenset[str]] = {
    tag: frozenset(attrs.split())
    for tag, attrs in {
        "a": "href", "applet": "codebase", "area": "href", "audio": "src", "base": "href",
        "blockquote": "cite", "body": "background", "button": "formaction", "command": "icon",
        "del": "cite", "embed": "src", "form": "action", "frame": "longdesc src", "head": "profile",
        "html": "manifest", "iframe": "longdesc src", "img": "longdesc src usemap",
        "input": "src usemap formaction", "ins": "cite", "link": "href",
        "object": "classid codebase data usemap", "q": "cite", "script": "src", "source": "src",
        "video": "poster src",
    }.items()
}  # fmt: skip
# elements whose content is text, not markup (an HTML tokenizer's raw text states)
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"})
_TAG = re.compile(r"""<([a-zA-Z][^\s/>]*)((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_ATTR = re.compile(r"""([^\s/>"'=]+)(\s*=\s*)("[^"]*"|'[^']*'|[^\s"'>]+)""")
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)


def _named_by_connection(headers: Headers) -> set[bytes]:
    return {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
        if token.strip()
    }


def request_headers(
    headers: Headers, client: str | None, forwarded_uri: str, websocket: bool = False
) -> Headers:
    """The headers sent upstream for a client's request (a WebSocket's: without its handshake's)."""
    drop = _HOP_BY_HOP | _DROPPED | _FORWARDED | _named_by_connection(headers)
    if websocket:
        drop |= _HANDSHAKE
    out: Headers = []
    prior: list[bytes] = []
    for name, value in headers:
        low = name.lower()
        if low == b"x-forwarded-for":
            prior.append(value)
        if low not in drop and not low.startswith(b"impersonate-"):
            out.append((low, value))
    if client:
        out.append((b"x-forwarded-for", b", ".join([*prior, client.encode("latin-1")])))
    out.append((b"x-forwarded-uri", forwarded_uri.encode("utf-8")))
    return out


def response_headers(headers: Headers) -> Headers:
    """The upstream's answer headers as relayed: no hop-by-hop, no CORS (names lowercased)."""
    drop = _HOP_BY_HOP | _CORS | _named_by_connection(headers)
    return [(name.lower(), value) for name, value in headers if name.lower() not in drop]


def join_path(prefix: str, path: str) -> str:
    """Go's path.Join of the two, with `path`'s trailing slash kept."""
    joined = posixpath.normpath(f"{prefix}/{path}")
    joined = "/" + joined.lstrip("/") if joined.startswith("//") else joined
    return joined + "/" if path.endswith("/") and not joined.endswith("/") else joined


def rewrite_url(url: str, upstream_hosts: tuple[str, ...], request_host: str, prefix: str) -> str:
    """A URL the upstream sent, pointed through the proxy when it names the upstream (or the Host the
    client used) and an absolute path; any other URL as it was."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    host = parts.netloc.rpartition("@")[2]
    if (host and host not in upstream_hosts and host != request_host) or not parts.path.startswith("/"):
        return url
    scheme, netloc = (parts.scheme, parts.netloc) if host and host == request_host else ("", "")
    path = parts.path if parts.path.startswith(prefix) else join_path(prefix, parts.path)
    return urlunsplit((scheme, netloc, path, parts.query, parts.fragment))


def _rewrite_tag(tag: re.Match[str], rewrite: Callable[[str], str]) -> str:
    wanted = URL_ATTRIBUTES.get(tag.group(1).lower())
    if not wanted:
        return tag.group(0)

    def attribute(m: re.Match[str]) -> str:
        raw = m.group(3)
        if m.group(1).lower() not in wanted:
            return m.group(0)
        value = html.unescape(raw[1:-1] if raw[0] in "\"'" else raw)
        new = rewrite(value)
        return m.group(0) if new == value else f'{m.group(1)}="{html.escape(new, quote=True)}"'

    return f"<{tag.group(1)}{_ATTR.sub(attribute, tag.group(2))}>"


def rewrite_html(doc: str, rewrite: Callable[[str], str]) -> str:
    """`doc` with the URL attributes of its tags passed through `rewrite`; comments and the text of
    scripts, styles and the like untouched, everything else kept byte for byte."""
    out: list[str] = []
    pos = 0
    while (lt := doc.find("<", pos)) >= 0:
        comment = _COMMENT.match(doc, lt) if doc.startswith("<!--", lt) else None
        tag = None if comment else _TAG.match(doc, lt)
        if comment is not None or tag is None:
            end = comment.end() if comment is not None else lt + 1
            out.append(doc[pos:end])
            pos = end
            continue
        out += [doc[pos:lt], _rewrite_tag(tag, rewrite)]
        pos = tag.end()
        name = tag.group(1).lower()
        if name in _RAW_TEXT:
            close = re.compile(rf"</{name}\s*>", re.I).search(doc, pos)
            end = close.start() if close else len(doc)
            out.append(doc[pos:end])
            pos = end
    out.append(doc[pos:])
    return "".join(out)


def rewrite_body(body: bytes, encoding: str, rewrite: Callable[[str], str]) -> bytes:
    """An HTML body with its links rewritten, in its Content-Encoding; as it came when that encoding
    is not identity, gzip or deflate (kube leaves those alone) or does not decode."""
    encoding = encoding.strip().lower()
    wbits = 15
    try:
        if encoding in ("", "identity"):
            raw = body
        elif encoding == "gzip":
            raw = gzip.decompress(body)
        elif encoding == "deflate":
            wbits = 15 if body[:1] == b"\x78" else -15  # zlib-wrapped, or raw as Go's flate writes
            raw = zlib.decompress(body, wbits)
        else:
            return body
    except (OSError, EOFError, zlib.error):
        return body
    new = rewrite_html(raw.decode("utf-8", "surrogateescape"), rewrite).encode("utf-8", "surrogateescape")
    if new == raw:
        return body
    if encoding == "gzip":
        return gzip.compress(new)
    if encoding == "deflate":
        packer = zlib.compressobj(wbits=wbits)
        return packer.compress(new) + packer.flush()
    return new
