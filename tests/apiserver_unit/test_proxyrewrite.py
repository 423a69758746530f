"""What the proxy subresources change on the way (apiserver.proxyrewrite): headers both ways, and the
links kube's proxy transport rewrites (Location, HTML attributes) in each content encoding."""

from __future__ import annotations

import gzip
import zlib

from apiserver.proxyrewrite import (
    join_path,
    request_headers,
    response_headers,
    rewrite_body,
    rewrite_html,
    rewrite_url,
)

PREFIX = "/api/v1/namespaces/ns/services/web:http/proxy"
UP = ("10.0.0.5:8080",)


def _headers(text: str) -> list[tuple[bytes, bytes]]:
    """`Name: value` lines as raw header pairs."""
    return [
        (n.strip().encode(), v.strip().encode())
        for n, v in (line.split(":", 1) for line in text.strip().splitlines())
    ]


def test_request_headers() -> None:
    asked = _headers(
        """
        Host: 127.0.0.1:8001
        Authorization: Bearer secret
        Impersonate-User: someone
        X-Kubelite-Node-Name: n1
        Connection: keep-alive, X-Hop
        X-Hop: 1
        Keep-Alive: timeout=5
        Transfer-Encoding: chunked
        Expect: 100-continue
        X-Forwarded-For: 1.2.3.4
        X-Forwarded-Uri: /spoofed
        Content-Type: text/plain
        Cookie: a=b
        """
    )
    sent = request_headers(asked, "127.0.0.1", PREFIX + "/x")
    assert sent == [
        (b"host", b"127.0.0.1:8001"),
        (b"content-type", b"text/plain"),
        (b"cookie", b"a=b"),
        (b"x-forwarded-for", b"1.2.3.4, 127.0.0.1"),
        (b"x-forwarded-uri", PREFIX.encode() + b"/x"),
    ]
    ws = request_headers(
        [(b"host", b"h"), (b"sec-websocket-key", b"k"), (b"sec-websocket-version", b"13"), (b"origin", b"o")],
        None,
        "/p",
        websocket=True,
    )
    assert ws == [(b"origin", b"o"), (b"x-forwarded-uri", b"/p")]


def test_response_headers() -> None:
    answered = _headers(
        """
        Content-Type: text/plain
        Content-Length: 4
        Access-Control-Allow-Origin: *
        Access-Control-Allow-Credentials: true
        Connection: close, X-Hop
        X-Hop: 1
        Transfer-Encoding: chunked
        Set-Cookie: a=b
        Set-Cookie: c=d
        """
    )
    got = response_headers(answered)
    assert got == _headers("content-type: text/plain\ncontent-length: 4\nset-cookie: a=b\nset-cookie: c=d")


def test_rewrite_url() -> None:
    def rw(url: str) -> str:
        return rewrite_url(url, UP, "localhost:8001", PREFIX)

    assert rw("/x/y/") == PREFIX + "/x/y/"
    assert rw("/x?a=1#f") == PREFIX + "/x?a=1#f"
    assert rw("http://10.0.0.5:8080/x") == PREFIX + "/x"  # the upstream's own URL: through the proxy
    assert rw("http://localhost:8001/x") == "http://localhost:8001" + PREFIX + "/x"  # the client's host kept
    assert rw(PREFIX + "/already") == PREFIX + "/already"
    assert rw("/a/../b") == PREFIX + "/b"
    for kept in (
        "rel/x",
        "../up",
        "http://other.example/x",
        "//other.example/x",
        "mailto:a@b",
        "#top",
        "?q=1",
        "",
    ):
        assert rw(kept) == kept


def test_join_path() -> None:
    assert join_path(PREFIX, "/") == PREFIX + "/"
    assert join_path("/p", "/a//b/") == "/p/a/b/"
    assert join_path("/p", "/") == "/p/"


def _links(url: str) -> str:
    return "/P" + url if url.startswith("/") else url


def test_rewrite_html_attributes_of_kubes_table_only() -> None:
    doc = (
        '<!DOCTYPE html><HTML manifest="/m"><A HREF="/a" title="/t">x</A>'
        "<img src=/i.png alt='/alt'><img longdesc='/d' usemap=\"/u\" data-src=\"/no\">"
        '<form action="/s?a=1&amp;b=&quot;2&quot;"><input formaction=/f value="/v"></form>'
        '<div href="/not-an-a">y</div><a href="rel">z</a>\n<p>1 < 2 > 0</p>'
    )
    assert rewrite_html(doc, _links) == (
        '<!DOCTYPE html><HTML manifest="/P/m"><A HREF="/P/a" title="/t">x</A>'
        '<img src="/P/i.png" alt=\'/alt\'><img longdesc="/P/d" usemap="/P/u" data-src="/no">'
        '<form action="/P/s?a=1&amp;b=&quot;2&quot;"><input formaction="/P/f" value="/v"></form>'
        '<div href="/not-an-a">y</div><a href="rel">z</a>\n<p>1 < 2 > 0</p>'
    )


def test_rewrite_html_skips_comments_and_raw_text() -> None:
    doc = (
        '<!-- <a href="/c"> --><script src="/s.js">document.write(\'<a href="/w">\')</script>'
        '<style>a[href="/x"]{}</style><textarea><a href="/t"></textarea><a href="/after">'
        '<iframe src="/frame"><a href="/inside"></iframe><a href="/unclosed'
    )
    assert rewrite_html(doc, _links) == (
        '<!-- <a href="/c"> --><script src="/P/s.js">document.write(\'<a href="/w">\')</script>'
        '<style>a[href="/x"]{}</style><textarea><a href="/t"></textarea><a href="/P/after">'
        '<iframe src="/P/frame"><a href="/inside"></iframe><a href="/unclosed'
    )


def test_rewrite_body_in_each_encoding() -> None:
    page = '<a href="/x">\xe9</a>'.encode() + b"\xff"  # not even valid UTF-8: kept byte for byte
    want = '<a href="/P/x">\xe9</a>'.encode() + b"\xff"
    assert rewrite_body(page, "", _links) == want
    assert gzip.decompress(rewrite_body(gzip.compress(page), "gzip", _links)) == want
    assert zlib.decompress(rewrite_body(zlib.compress(page), "deflate", _links)) == want
    raw = zlib.compressobj(wbits=-15)
    deflated = raw.compress(page) + raw.flush()
    assert zlib.decompress(rewrite_body(deflated, "deflate", _links), -15) == want  # Go's raw flate
    assert rewrite_body(b"brotli bytes", "br", _links) == b"brotli bytes"  # not understood: as it came
    assert rewrite_body(b"not gzip", "gzip", _links) == b"not gzip"
    unchanged = gzip.compress(b'<a href="rel">')
    assert rewrite_body(unchanged, "gzip", _links) is unchanged
