"""The kubelet client approver: kube's csrapproving for kubelet client certificates (its sarapprove.go
recognizers), with k3s's node password, and the cleaner that frees a node's name with its Node.

A `kubernetes.io/kube-apiserver-client-kubelet` request is a node client request when its subject
is exactly `O=system:nodes` and `CN=system:node:<name>`, it names no DNS, IP, e-mail or URI, and its
usages are the kubelet's (digital signature and client auth, plus key encipherment for an RSA key).
Then, as kube's recognizers, in order:
- selfnodeclient: the requester is the subject's own user, in group system:nodes (a node renewing
  its certificate with the current one); the requester must be allowed `create` on
  `certificatesigningrequests/selfnodeclient` (a SubjectAccessReview; RBAC grants it to
  system:nodes). Message: "Auto approving self kubelet client certificate after SubjectAccessReview."
- nodeclient: any other requester allowed `create` on `certificatesigningrequests/nodeclient` (RBAC
  grants it to system:bootstrappers). Before that, k3s's rule: the request must carry the node
  password's digest (`spec.extra`, written by the API server from the bootstrap credential) and the
  Secret `<name>.node-password.k3s` must be there with a matching hash (the API server made it or
  checked it when the request was created; checked again here, since the name may have been freed
  and claimed by another node since). Message: "Auto approving kubelet client certificate after
  SubjectAccessReview."
Anything else is left pending (never denied, as kube's approver; the admin may still approve it),
and logged once with why. Reason `AutoApproved` as kube writes it. `verdict` is the pure decision.

The cleaner: a deleted Node takes its `<name>.node-password.k3s` Secret with it (k3s's node
controller does the same), so that the name may join again with another password.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from api import nodepassword
from api.errors import ApiError
from api.informer import DeletedFinalStateUnknown, Informer
from api.kubeletcerts import NODES_GROUP, node_of_user
from controller.base import ApiClient, Obj, QueueController, meta, unwrap
from controller.csrapproving import RESOURCE, CsrApprover, decided

log = logging.getLogger(__name__)

SELF_MESSAGE = "Auto approving self kubelet client certificate after SubjectAccessReview."
MESSAGE = "Auto approving kubelet client certificate after SubjectAccessReview."
SELF, BOOTSTRAP = "selfnodeclient", "nodeclient"


@dataclass(frozen=True)
class Verdict:
    """`recognizer` (SELF or BOOTSTRAP) when the request may be approved once the requester is
    allowed it; else `pending` says why it is left alone."""

    recognizer: str = ""
    pending: str = ""
    node: str = ""


def node_client_problem(spec: Obj) -> tuple[str, str]:
    """(node name, "") for a well-formed kubelet client request, else ("", why not)."""
    import base64
    import binascii

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    if spec.get("signerName") != nodepassword.CLIENT_SIGNER:
        return "", f"not a {nodepassword.CLIENT_SIGNER} request"
    try:
        request = x509.load_pem_x509_csr(base64.b64decode(str(spec.get("request") or ""), validate=True))
    except (ValueError, binascii.Error):
        return "", "the request does not parse as a PEM certificate request"
    orgs = [str(a.value) for a in request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    cns = [str(a.value) for a in request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if orgs != [NODES_GROUP]:
        return "", f"subject organization {orgs} is not exactly [{NODES_GROUP!r}]"
    node = node_of_user(cns[0]) if len(cns) == 1 else ""
    if not node:
        return "", f"subject common name {cns} is not system:node:<name>"
    try:
        if list(request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value):
            return "", "a kubelet client certificate names no DNS name, IP, e-mail or URI"
    except x509.ExtensionNotFound:
        pass
    wanted = sorted(nodepassword.client_usages_for(isinstance(request.public_key(), rsa.RSAPublicKey)))
    usages = sorted(str(u) for u in spec.get("usages") or [])
    if usages != wanted:
        return "", f"usages {usages} are not {wanted}"
    return node, ""


def verdict(csr: Obj, secret: Obj | None, matches: Any = nodepassword.verify) -> Verdict:
    """What to do with a kubelet client request. `secret`: the node's password Secret (None: none);
    `matches(digest, stored hash)` checks a password (scrypt: slow, so asked last)."""
    spec = csr.get("spec") or {}
    node, why = node_client_problem(spec)
    if why:
        return Verdict(pending=why)
    username = str(spec.get("username") or "")
    groups = spec.get("groups") or []
    if username == f"system:node:{node}" and NODES_GROUP in groups:
        return Verdict(SELF, node=node)
    if nodepassword.BOOTSTRAPPERS not in groups:
        return Verdict(
            pending=f"requester {username!r} is neither node {node!r} nor a bootstrapper", node=node
        )
    value = nodepassword.presented(spec.get("extra"))
    if not value:
        return Verdict(pending="the request carries no node password", node=node)
    stored = nodepassword.stored_hash(secret)
    if not stored:
        return Verdict(pending=f"no node password is recorded for {node!r} (the name was freed)", node=node)
    if not matches(value, stored):
        return Verdict(pending=nodepassword.REJECTED, node=node)
    return Verdict(BOOTSTRAP, node=node)


def access_review(spec: Obj, subresource: str) -> Obj:
    """kube's approver's SubjectAccessReview: may the requester create `certificatesigningrequests/<sub>`."""
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": spec.get("username") or "",
            "groups": spec.get("groups") or [],
            "uid": spec.get("uid") or "",
            "extra": spec.get("extra") or {},
            "resourceAttributes": {
                "group": "certificates.k8s.io",
                "resource": RESOURCE,
                "subresource": subresource,
                "verb": "create",
            },
        },
    }


class KubeletClientApprover(CsrApprover):
    """Approves the kubelet client requests `verdict` and a SubjectAccessReview allow."""

    name = "csrapproving-client"

    async def run(self, *informers: Informer) -> None:
        await super().run(self.csrs, *informers)

    async def sync(self, key: str) -> None:
        csr = self.csrs.get(key)
        if csr is None or decided(csr) or (csr.get("status") or {}).get("certificate"):
            return
        spec = csr.get("spec") or {}
        if spec.get("signerName") != nodepassword.CLIENT_SIGNER:
            return
        node, _ = node_client_problem(spec)
        secret = (
            await self._secret(node)
            if node and nodepassword.BOOTSTRAPPERS in (spec.get("groups") or [])
            else None
        )
        v = verdict(csr, secret)
        if v.recognizer and not await self._allowed(spec, v.recognizer):
            v = Verdict(pending=f"the requester may not create {RESOURCE}/{v.recognizer}", node=v.node)
        if v.pending:
            self.left_pending(key, "kubelet client request", v.pending)
            return
        if not await self.approve(key, csr, SELF_MESSAGE if v.recognizer == SELF else MESSAGE):
            return
        log.info("approved kubelet client request %s of node %s (%s)", key, v.node, v.recognizer)

    async def _secret(self, node: str) -> Obj | None:
        try:
            got: Obj = await self.client.get(
                "secrets", nodepassword.secret_name(node), nodepassword.NAMESPACE
            )
        except ApiError as e:
            if e.code == 404:
                return None
            raise
        return got

    async def _allowed(self, spec: Obj, subresource: str) -> bool:
        review = await self.client.create("subjectaccessreviews", access_review(spec, subresource))
        return bool((review.get("status") or {}).get("allowed"))


class NodePasswordCleaner(QueueController):
    """A deleted Node's password Secret is deleted (k3s: the name is free to join again)."""

    name = "nodepassword"

    def __init__(self, client: ApiClient, nodes: Informer) -> None:
        super().__init__(workers=1)
        self.client = client
        self.nodes = nodes
        nodes.add_handlers(lambda _obj: None, lambda _old, _new: None, self._deleted)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.nodes, *informers)

    def _deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        name = str(meta(unwrap(obj)).get("name") or "")
        if name:
            self.queue.add(name)

    async def sync(self, key: str) -> None:
        if self.nodes.get(key) is not None:
            return  # registered again meanwhile: its name stays claimed
        try:
            await self.client.delete("secrets", nodepassword.secret_name(key), nodepassword.NAMESPACE)
        except ApiError as e:
            if e.code != 404:
                raise
            return
        log.info("node %s deleted: its node password is forgotten", key)
