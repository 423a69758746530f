"""k3s's node password, checked where a bootstrap credential asks for a kubelet client certificate.

k3s's supervisor checks an agent's node password before it issues the kubelet's client certificate
(`/v1-k3s/client-kubelet.crt`). kubelite issues that certificate through kube's TLS bootstrap flow
instead (a `kubernetes.io/kube-apiserver-client-kubelet` CertificateSigningRequest), so the check is
an admission step of that request's create: when the requester is a bootstrap credential
(group `system:bootstrappers`), the request's subject names node `<name>` (`CN=system:node:<name>`)
and
- no Secret `<name>.node-password.k3s` is in kube-system yet: the name is claimed, the Secret made
  with the hash of the presented password (api/nodepassword.py);
- the Secret is there: the presented password must match its hash, else 403 with k3s's words
  ("Node password rejected, duplicate hostname ...") and no request is stored;
- no password was presented: 403 (a bootstrap request must say which node it is, to prove it).
Two servers (one datastore) claiming a name at once: the store's create decides, the loser checks
against the winner's hash. The approver (controller/clientapproving.py) checks the request against
the Secret again before approving it, so a request made before the name was freed and claimed by
another (Node deleted, Secret gone, another agent joined) is not approved either.

Requests of other signers or requesters (a node renewing its own certificate with it, an admin)
are not concerned. A dry-run create claims a free name too (the hook does not see dry runs).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from api import nodepassword
from api.errors import ApiError, admission_forbidden, object_name
from api.kubeletcerts import node_of_user
from api.resources import by_plural
from apiserver.kinds import HookContext, Obj, WriteHooks

log = logging.getLogger(__name__)

PLURAL = "certificatesigningrequests"
GROUP = "certificates.k8s.io"
MISSING = (
    f"a bootstrap request for a kubelet client certificate needs the node's password ({nodepassword.HEADER})"
)


def requested_node(spec: Obj) -> str:
    """The node a kubelet client request's subject names ("" when it names none or does not parse)."""
    from apiserver.validation.certificates import decoded, parse_request

    pem = decoded(spec.get("request"))
    if pem is None:
        return ""
    try:
        csr = parse_request(pem)
    except ValueError:
        return ""
    from cryptography.x509.oid import NameOID

    cns = [str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return node_of_user(cns[0]) if len(cns) == 1 else ""


def concerned(spec: Obj) -> bool:
    """A bootstrap credential's request for a kubelet client certificate."""
    groups = spec.get("groups")
    return (
        spec.get("signerName") == nodepassword.CLIENT_SIGNER
        and isinstance(groups, list)
        and nodepassword.BOOTSTRAPPERS in groups
    )


class NodePasswordHooks(WriteHooks):
    """The CertificateSigningRequest row's create hook: claim or check the node's password."""

    async def admit_create(self, ctx: HookContext, namespace: str | None, new: Obj) -> None:
        spec = new.get("spec")
        if not isinstance(spec, dict) or not concerned(spec):
            return
        node = requested_node(spec)
        if not node:
            return  # not a node's subject: the approver leaves it pending, the signer fails it
        value = nodepassword.presented(spec.get("extra"))
        if not value:
            raise admission_forbidden(PLURAL, GROUP, object_name(new), MISSING)
        stored = await _claim(ctx, node, value)
        if stored is not None and not await asyncio.to_thread(nodepassword.verify, value, stored):
            log.warning("node password of %s rejected: the name is claimed with another password", node)
            raise admission_forbidden(PLURAL, GROUP, object_name(new), nodepassword.REJECTED)


async def _claim(ctx: HookContext, node: str, value: str) -> str | None:
    """The stored hash to check `value` against, or None when this request just claimed the name."""
    registry: Any = ctx  # the registry lends itself as the hook context
    secrets = by_plural("", "secrets")
    assert secrets is not None
    name = nodepassword.secret_name(node)
    for _ in range(2):
        try:
            kv = await registry.get(secrets, nodepassword.NAMESPACE, name)
            return nodepassword.stored_hash(kv.obj)
        except ApiError as e:
            if e.code != 404:
                raise
        secret = await asyncio.to_thread(nodepassword.secret_object, node, value)
        try:
            await registry.create(secrets, nodepassword.NAMESPACE, secret)
        except ApiError as e:
            if e.code != 409:  # another server claimed it first: check against its hash
                raise
            continue
        log.info("node password of %s recorded in %s/%s", node, nodepassword.NAMESPACE, name)
        return None
    raise ApiError(409, "Conflict", f"the node password of {node} changed while it was being checked")
