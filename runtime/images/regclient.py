"""One registry's HTTP session (OCI distribution v2 over httpx) with the auth challenge flow.

A request goes out with whatever authorization the session already earned; a 401 answer's
`WWW-Authenticate` says what to do: `Basic` -> resend with the stored credentials, `Bearer` ->
fetch a token from the realm for the requested scope (with the credentials, if any) and resend.
Credentials go out with the first request when there are some (Basic), so an anonymous or
basic-auth registry costs one request per call.
Plain HTTP when asked (`insecure`) and always for loopback registries, as docker does.
Imported only when pulling or pushing (httpx costs ~130 ms to import).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from runtime.images.auth import basic_header, parse_challenge
from runtime.images.errors import AuthError, RegistryError

_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def registry_url(domain: str, insecure: bool) -> str:
    """Base URL of a registry named in a reference (docker.io is served by registry-1.docker.io)."""
    host = "registry-1.docker.io" if domain == "docker.io" else domain
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    plain = insecure or hostname in _LOOPBACK_HOSTS
    return f"{'http' if plain else 'https'}://{host}"


def registry_error(resp: httpx.Response, what: str) -> RegistryError:
    """A one-line error from a registry's JSON error body (`{"errors": [{"code", "message"}]}`)."""
    detail = ""
    try:
        errors = resp.json().get("errors") or []
        detail = "; ".join(f"{e.get('code', '')}: {e.get('message', '')}" for e in errors)
    except ValueError:
        detail = resp.text[:200].strip()
    cls = AuthError if resp.status_code in (401, 403) else RegistryError
    return cls(f"{what}: HTTP {resp.status_code}{' ' + detail if detail else ''}")


class RegistrySession:
    def __init__(
        self,
        domain: str,
        credentials: tuple[str, str] | None = None,
        insecure: bool = False,
        event_hooks: dict[str, list[Callable[..., Any]]] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.domain = domain
        self.base = registry_url(domain, insecure)
        self.credentials = credentials
        self._auth: dict[str, str] = {}  # scope -> Authorization header value
        # With credentials at hand, try Basic up front: a basic-auth registry then costs one
        # request per call (an up-to-date pull stays one manifest GET); a bearer challenge turns it off.
        self._basic = credentials is not None
        # No TLS to a plain-HTTP registry: skip loading the CA bundle (~17 ms per session).
        self.client = httpx.AsyncClient(
            verify=self.base.startswith("https://"),
            timeout=httpx.Timeout(60.0, connect=10.0),
            follow_redirects=True,
            transport=transport,
            event_hooks=event_hooks or {},
            limits=httpx.Limits(max_connections=8),
        )

    async def __aenter__(self) -> RegistrySession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base + path

    def _authorization(self, scope: str) -> str | None:
        if self._basic and self.credentials:
            return basic_header(*self.credentials)
        return self._auth.get(scope)

    async def request(
        self,
        method: str,
        path: str,
        scope: str,
        *,
        headers: dict[str, str] | None = None,
        content: Any = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send, answering one 401 challenge; `stream=True` leaves the body unread (caller closes)."""
        for attempt in range(2):
            hdrs = dict(headers or {})
            authorization = self._authorization(scope)
            if authorization:
                hdrs["Authorization"] = authorization
            req = self.client.build_request(method, self.url(path), headers=hdrs, content=content)
            try:
                resp = await self.client.send(req, stream=stream)
            except httpx.HTTPError as e:
                raise RegistryError(f"cannot reach registry {self.domain} ({self.base}): {e}") from None
            if resp.status_code != 401 or attempt == 1:
                return resp
            challenge = resp.headers.get("WWW-Authenticate", "")
            await resp.aclose()
            if self._authorization(scope) == authorization:  # else a concurrent request already answered
                await self._answer(challenge, scope, authorization)
            if content is not None and not isinstance(content, bytes | str):
                raise AuthError(f"registry {self.domain} asked for credentials in the middle of an upload")
        raise AssertionError("unreachable")

    async def _answer(self, challenge: str, scope: str, sent: str | None) -> None:
        scheme, params = parse_challenge(challenge)
        if scheme == "basic":
            if not self.credentials:
                raise AuthError(f"registry {self.domain} requires authentication: log in first")
            if sent is not None and sent.startswith("Basic "):
                raise AuthError(f"registry {self.domain} rejected the credentials")
            self._basic = True
        elif scheme == "bearer":
            self._basic = False
            self._auth[scope] = "Bearer " + await self._token(params, scope)
        else:
            raise AuthError(f"registry {self.domain}: unsupported authentication challenge {challenge!r}")

    async def _token(self, params: dict[str, str], scope: str) -> str:
        realm = params.get("realm")
        if not realm:
            raise AuthError(f"registry {self.domain}: bearer challenge without a realm")
        query = {
            k: v
            for k, v in (("service", params.get("service")), ("scope", scope or params.get("scope")))
            if v
        }
        headers = {"Authorization": basic_header(*self.credentials)} if self.credentials else {}
        try:
            resp = await self.client.get(realm, params=query, headers=headers)
        except httpx.HTTPError as e:
            raise AuthError(f"cannot reach token server {realm}: {e}") from None
        if resp.status_code != 200:
            raise registry_error(resp, f"token request to {realm} refused")
        try:
            body = resp.json()
            token = body.get("token") or body.get("access_token")
        except ValueError:
            token = None
        if not isinstance(token, str) or not token:
            raise AuthError(f"token server {realm} returned no token")
        return token
