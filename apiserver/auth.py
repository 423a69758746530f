"""Who is calling, and may they: bearer tokens, the admin kubeconfig and k3s-style node tokens.

Two credentials exist, both made on first start and kept in DATA_DIR:
- the admin token (`admin-token`), written into `kubeconfig.yaml` for kubectl and the Python client;
- the node secret (`node-secret`), handed out as `node-token` = `K10<sha256(CA PEM)>::node:<secret>`
  (k3s's format: an agent checks the CA it fetched from `/cacerts` against the hash before it
  sends the secret). Agents may authenticate with the whole token or with `node:<secret>`.
The node token is a bootstrap credential, as a kube bootstrap token: it acts as user
`system:bootstrap:<id>` (id: 6 hex digits of the secret's hash) in group `system:bootstrappers`,
which RBAC lets create and read CertificateSigningRequests and nothing else (rbac/bootstrap.py);
the password an agent sends beside it (`X-Kubelite-Node-Password`) becomes a digest in the user's
`extra` (api/nodepassword.py). A node then acts with its own client certificate (`CN=system:node:
<name>, O=system:nodes`), which is the identity the node rules below key on.
Bench only (`kubelite server --trust-node-name-header`): the node token with an
`X-Kubelite-Node-Name` header acts as `system:node:<name>` without a certificate, so the hollow
nodes of one agent process share its connections (anyone with the token is then any node).
What nodes may do is `authorize_node`,
a pure function: nodes, leases in kube-node-lease, events, read pods/services/endpoints, status
writes or deletion of pods (bound to that node, when the name is known), the token and access
reviews a kubelet asks about its own callers, reads of CSIDrivers, its own CSINode, and creating
and reading CertificateSigningRequests (its serving certificate, kubelet/certmanager.py: kube's
NodeRules grant the same four verbs; what a node may get approved is controller/csrapproving.py's
business, not the authorizer's).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from api import nodepassword
from api.errors import ApiError, forbidden, unauthorized
from api.kubeletcerts import NODES_GROUP, node_of_user
from apiserver.certs import TLSFiles
from apiserver.rbac.authorizer import forbidden_error
from apiserver.rbac.rules import Attributes

NODE_NAME_HEADER = b"x-kubelite-node-name"
NODE_PASSWORD_HEADER = nodepassword.HEADER.lower().encode()
PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version", "/cacerts"})


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...]
    node_name: str | None = None  # set for node credentials that said which node they are
    uid: str = ""  # only an impersonated identity has one (Impersonate-Uid)
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()  # and extras (Impersonate-Extra-*)

    @property
    def is_node(self) -> bool:
        """A node identity, as kube's NodeIdentifier: group system:nodes and a `system:node:<name>`
        user (a system:nodes member with another name is judged by RBAC)."""
        return NODES_GROUP in self.groups and bool(self.node_name)


def certificate_user(name: str, groups: tuple[str, ...]) -> User:
    """The user of a verified client certificate (CN, O=s): a node when it is `system:node:<name>`
    in system:nodes, so that the node rules key on the certificate's name."""
    node = node_of_user(name) if NODES_GROUP in groups else ""
    return User(name, (*groups, "system:authenticated"), node or None)


ADMIN = User("admin", ("system:masters", "system:authenticated"))
BOOTSTRAP_PREFIX = nodepassword.BOOTSTRAP_PREFIX


def _read_or_make_secret(path: Path) -> str:
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value
    value = secrets.token_hex(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value


class Authenticator:
    """Checks an Authorization header against the admin token and the node secret."""

    def __init__(
        self, admin_token: str, node_secret: str, ca_hash: str, trust_node_name_header: bool = False
    ) -> None:
        self.admin_token = admin_token.encode()
        self.node_secret = node_secret
        self.node_token = node_token(ca_hash, node_secret)
        self._node_forms = [self.node_token.encode(), f"node:{node_secret}".encode()]
        self.bootstrap_user = BOOTSTRAP_PREFIX + hashlib.sha256(node_secret.encode()).hexdigest()[:6]
        self.trust_node_name_header = trust_node_name_header

    def authenticate(
        self, authorization: bytes | None, node_name: bytes | None, password: bytes | None = None
    ) -> User:
        if not authorization:
            raise unauthorized()
        scheme, _, cred = authorization.strip().partition(b" ")
        cred = cred.strip()
        low = scheme.lower()
        if low == b"basic":
            try:
                cred = base64.b64decode(cred, validate=True)
            except ValueError:
                raise unauthorized() from None
        elif low != b"bearer":
            raise unauthorized()
        if hmac.compare_digest(cred, self.admin_token):
            return ADMIN
        if any(hmac.compare_digest(cred, form) for form in self._node_forms):
            if node_name and self.trust_node_name_header:  # bench only: hollow nodes
                name = node_name.decode("latin-1")
                return User(f"system:node:{name}", (NODES_GROUP, "system:authenticated"), name)
            extra: tuple[tuple[str, tuple[str, ...]], ...] = ()
            if password:
                extra = ((nodepassword.EXTRA_KEY, (nodepassword.digest(password.decode("latin-1")),)),)
            return User(
                self.bootstrap_user, (nodepassword.BOOTSTRAPPERS, "system:authenticated"), extra=extra
            )
        raise unauthorized()


def node_token(ca_hash: str, secret: str) -> str:
    return f"K10{ca_hash}::node:{secret}"


def load_credentials(data_dir: Path, tls: TLSFiles, trust_node_name_header: bool = False) -> Authenticator:
    """Load or create the admin token and node secret; (re)write `node-token` for the current CA."""
    admin = _read_or_make_secret(data_dir / "admin-token")
    secret = _read_or_make_secret(data_dir / "node-secret")
    auth = Authenticator(admin, secret, tls.ca_hash(), trust_node_name_header)
    _write_atomic(data_dir / "node-token", (auth.node_token + "\n").encode(), 0o600)
    return auth


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def kubeconfig_yaml(server_url: str, ca_pem: bytes, token: str) -> str:
    """An admin kubeconfig the real kubectl and the Python client read unchanged (context `default`)."""
    ca = base64.b64encode(ca_pem).decode()
    return (
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        "- name: default\n"
        "  cluster:\n"
        f"    server: {server_url}\n"
        f"    certificate-authority-data: {ca}\n"
        "contexts:\n"
        "- name: default\n"
        "  context:\n"
        "    cluster: default\n"
        "    user: default\n"
        "current-context: default\n"
        "preferences: {}\n"
        "users:\n"
        "- name: default\n"
        "  user:\n"
        f"    token: {token}\n"
    )


def write_kubeconfig(path: Path, server_url: str, tls: TLSFiles, auth: Authenticator) -> None:
    _write_atomic(path, kubeconfig_yaml(server_url, tls.ca_pem(), auth.admin_token.decode()).encode(), 0o600)


# --- authorization -------------------------------------------------------------------------

_READ = frozenset({"get", "list", "watch"})
_NODE_FREE = frozenset({"nodes", "events"})  # resources a node may use with any verb
_REVIEWS = frozenset(
    {
        "tokenreviews",
        "subjectaccessreviews",
        "localsubjectaccessreviews",
        # what RBAC's system:basic-user grants every authenticated user (kube's node authorizer has no
        # opinion on them and RBAC allows them): `kubectl auth whoami` and `auth can-i` as the node
        "selfsubjectreviews",
        "selfsubjectaccessreviews",
        "selfsubjectrulesreviews",
    }
)
_CSR_VERBS = frozenset({"create", "get", "list", "watch"})
_CSI_NODE_VERBS = frozenset({"get", "create", "update", "patch", "delete"})  # kube's authorizeCSINode


def authorize_node(
    user: User, verb: str, resource: str, namespace: str | None, subresource: str | None
) -> None:
    """Raise 403 unless a node credential may do `verb` on this resource (before looking at objects)."""
    if resource in _NODE_FREE:
        return
    if resource == "leases" and namespace == "kube-node-lease":
        return
    if resource in ("services", "endpoints", "namespaces") and verb in _READ and subresource is None:
        return
    if (
        resource in ("endpointslices", "ingresses", "ingressclasses", "networkpolicies")
        and verb in _READ
        and subresource is None
    ):
        return  # the service proxy, the ingress controller and the policy filter built into the agent
    if resource == "runtimeclasses" and verb in _READ and subresource is None:
        return  # the kubelet resolves a pod's class to its handler (kube's system:node rules)
    if resource == "csidrivers" and verb in _READ and subresource is None:
        return  # the kubelet reads a csi volume's driver (kube's NodeRules)
    if resource == "csinodes" and verb in _CSI_NODE_VERBS and subresource is None:
        return  # its own only: the name is checked by the API server's node rules (apiserver.app, kinds.csi)
    if resource == "ingresses" and subresource == "status" and verb in ("get", "update", "patch"):
        return  # the agent's ingress controller writes the node addresses it serves on
    if resource in ("configmaps", "secrets") and verb in _READ and subresource is None:
        # only what its pods use, read by name or listed/watched by `metadata.name=<name>` (kubelet's
        # Watch strategy): apiserver.nodegraph checks the object named
        return
    if resource in ("persistentvolumeclaims", "persistentvolumes") and verb == "get" and subresource is None:
        return  # the claims its pods use and their volumes: apiserver.nodegraph checks
    if resource == "serviceaccounts" and verb == "create" and subresource == "token":
        return  # tokens for the accounts its pods run as: apiserver.nodegraph checks
    if resource in _REVIEWS and verb == "create" and subresource is None:
        return  # the kubelet's webhook authentication and authorization of its own callers (kube's NodeRules)
    if resource == "certificatesigningrequests" and verb in _CSR_VERBS and subresource is None:
        return  # the kubelet's serving certificate: ask, then watch for it (kube's NodeRules)
    if resource == "pods":
        if verb in _READ and subresource in (None, "log", "status"):
            return
        if subresource == "status" and verb in ("update", "patch"):
            return
        if subresource is None and verb == "delete":
            return
    raise node_forbidden(user, verb, resource, namespace, subresource)


def node_forbidden(
    user: User,
    verb: str,
    resource: str,
    namespace: str | None,
    subresource: str | None,
    name: str = "",
    reason: str = "",
) -> ApiError:
    """kube's Node authorizer refusal: the authorizers' 403, with the node's `reason` when it has one."""
    return forbidden_error(
        Attributes(user.name, user.groups, verb, namespace or "", "", resource, subresource or "", name),
        reason,
    )


def check_pod_on_node(user: User, pod_node: str | None, verb: str, name: str, namespace: str | None) -> None:
    """A node may write status of / delete only the pods bound to it (when it named itself)."""
    if user.node_name is not None and pod_node != user.node_name:
        raise forbidden(
            f'pods "{name}" is forbidden: User "{user.name}" cannot {verb} pods bound to another node'
            + (f' in the namespace "{namespace}"' if namespace else "")
        )
