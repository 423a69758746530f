"""Bound service-account tokens: signed JWTs, the TokenRequest API, and their authentication.

As kube-apiserver issues them: ES256 JWTs signed with the cluster's service-account key
(`tls/sa.key`, made on first start), `iss` the cluster's issuer, `aud` the audiences asked for
(the API server's own by default), `exp` within [10 min, 48 h], `sub`
`system:serviceaccount:<ns>:<name>` and a `kubernetes.io` claim naming the namespace, the
ServiceAccount and, for a token bound to a pod, the pod (with uids). A token is accepted only
while what it names still exists with the same uid: deleting the ServiceAccount or the pod
revokes it, which is what "bound" means.

The signature and claims are checked without I/O (`verify`); the existence checks read the store
(`authenticate`). A successful authentication is remembered for 10 s, as kube-apiserver's token
cache does (an ES256 verification costs ~0.2-0.7 ms): this server forgets a token at once when it
deletes the ServiceAccount or pod the token names (`forget`); another server's deletion is seen
within those 10 s.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
import uuid
from pathlib import Path
from typing import Any

from api import jsonutil
from api.errors import unauthorized
from api.resources import by_plural
from apiserver.auth import User

ISSUER = "https://kubernetes.default.svc.cluster.local"
DEFAULT_EXPIRATION = 3600
CACHE_SECONDS = 10.0  # kube-apiserver's token success cache
MIN_EXPIRATION, MAX_EXPIRATION = 600, 48 * 3600

SA_PREFIX = "system:serviceaccount:"
SERVICE_ACCOUNTS = by_plural("", "serviceaccounts")
PODS = by_plural("", "pods")
SECRETS = by_plural("", "secrets")


def lifetime(expiration_seconds: int) -> int:
    """The seconds a token asked for `expiration_seconds` is valid: the request, within our bounds
    (what a TokenRequest's answer says in its `spec.expirationSeconds`)."""
    return max(MIN_EXPIRATION, min(MAX_EXPIRATION, expiration_seconds))


def _load_or_make_key(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def looks_like_jwt(token: bytes) -> bool:
    return token.count(b".") == 2 and token.startswith(b"eyJ")


async def bearer_user(
    state: Any, header: bytes | None, node_name: bytes | None, password: bytes | None = None
) -> User:
    """Who an Authorization header speaks for: a service-account JWT (checked against the store),
    else the admin or node credential (`state.auth`); 401 otherwise. Requests and TokenReviews alike."""
    if state.tokens is not None and header:
        scheme, _, cred = header.strip().partition(b" ")
        if scheme.lower() == b"bearer" and looks_like_jwt(cred.strip()):
            user: User = await state.tokens.authenticate(cred.strip().decode("latin-1"), state.registry)
            return user
    who: User = state.auth.authenticate(header, node_name, password)
    return who


class TokenIssuer:
    def __init__(self, key_path: Path, issuer: str = ISSUER, audiences: tuple[str, ...] = (ISSUER,)) -> None:
        from cryptography.hazmat.primitives import serialization

        self.key = _load_or_make_key(key_path)
        self.public = self.key.public_key()
        der = self.public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = hashlib.sha256(der).hexdigest()[:43]
        self.issuer = issuer
        self.audiences = audiences
        # token -> (valid until (monotonic), user, "ns/account", pod uid or "")
        self._authenticated: dict[str, tuple[float, User, str, str]] = {}

    def issue(
        self,
        namespace: str,
        sa: dict[str, Any],
        audiences: list[str] | None = None,
        expiration: int = DEFAULT_EXPIRATION,
        bound: dict[str, Any] | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[str, dt.datetime]:
        import jwt

        now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
        exp = now + dt.timedelta(seconds=lifetime(expiration))
        meta = sa.get("metadata") or {}
        k8s: dict[str, Any] = {
            "namespace": namespace,
            "serviceaccount": {"name": meta.get("name"), "uid": meta.get("uid")},
        }
        if bound:
            k8s[str(bound.get("kind", "Pod")).lower()] = {"name": bound.get("name"), "uid": bound.get("uid")}
        claims = {
            "aud": list(audiences or self.audiences),
            "exp": int(exp.timestamp()),
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "iss": self.issuer,
            "jti": str(uuid.uuid4()),
            "sub": f"{SA_PREFIX}{namespace}:{meta.get('name')}",
            "kubernetes.io": k8s,
        }
        token = jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": self.kid})
        return token, exp

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this issuer signed for one of its audiences, unexpired; else None."""
        import jwt

        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.public,
                algorithms=["ES256"],
                audience=list(self.audiences),
                issuer=self.issuer,
                options={"require": ["exp", "sub"]},
            )
        except jwt.PyJWTError:
            return None
        return claims

    async def authenticate(self, token: str, registry: Any) -> User:
        """The service account a valid token speaks for; 401 when it is invalid, expired or revoked."""
        now = time.monotonic()
        hit = self._authenticated.get(token)
        if hit is not None and now < hit[0]:
            return hit[1]
        claims = self.verify(token)
        if claims is None or not str(claims.get("sub", "")).startswith(SA_PREFIX):
            raise unauthorized()
        k8s = claims.get("kubernetes.io") or {}
        ns = str(k8s.get("namespace") or "")
        sa_ref = k8s.get("serviceaccount") or {}
        assert SERVICE_ACCOUNTS is not None and PODS is not None
        if not await _alive(registry, SERVICE_ACCOUNTS, ns, sa_ref):
            raise unauthorized()
        pod_ref = k8s.get("pod")
        if pod_ref and not await _alive(registry, PODS, ns, pod_ref):
            raise unauthorized()
        name = str(sa_ref.get("name") or "")
        user = User(
            f"{SA_PREFIX}{ns}:{name}",
            ("system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"),
        )
        if len(self._authenticated) > 10000:
            self._authenticated = {k: v for k, v in self._authenticated.items() if v[0] > now}
        until = min(now + CACHE_SECONDS, now + max(0.0, float(claims["exp"]) - time.time()))
        self._authenticated[token] = (until, user, f"{ns}/{name}", str((pod_ref or {}).get("uid") or ""))
        return user

    def forget(self, res: Any, last: dict[str, Any]) -> None:
        """A ServiceAccount or pod this server removed: the tokens naming it stop working now."""
        meta = last.get("metadata") or {}
        if res is SERVICE_ACCOUNTS:
            gone = f"{meta.get('namespace')}/{meta.get('name')}"
            self._authenticated = {k: v for k, v in self._authenticated.items() if v[2] != gone}
        elif res is PODS and self._authenticated:
            uid = str(meta.get("uid") or "")
            self._authenticated = {k: v for k, v in self._authenticated.items() if v[3] != uid}


async def _alive(registry: Any, res: Any, namespace: str, ref: dict[str, Any]) -> bool:
    kv = await registry.store.get(res.storage_key(str(ref.get("name") or ""), namespace))
    if kv is None:
        return False
    meta = jsonutil.loads(kv.value).get("metadata") or {}
    if meta.get("uid") != ref.get("uid"):
        return False
    # a deleting pod's token works until its deletion time (the end of its grace period), as in kube
    deadline = meta.get("deletionTimestamp")
    return not deadline or jsonutil.parse_time(str(deadline)) > dt.datetime.now(dt.UTC)
