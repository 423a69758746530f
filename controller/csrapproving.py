"""The kubelet-serving approver: a kubelet's request for a serving certificate is approved when it
asks for exactly what its node is, so kubelets serve certificates of the cluster CA out of the box
(as in k3s, where the server issues kubelet serving certificates itself).

kube leaves `kubernetes.io/kubelet-serving` requests to the cluster's admin (its csrapproving
controller approves only kubelet client certificates): anyone who can make a node credential could
otherwise ask for a certificate naming any address, and the API server and metrics-server trust
what the cluster CA signs for an address. Here the approval is automatic but checked, field by
field, against what the requester is and what its Node object says (`verdict`, a pure function):
- the requester (`spec.username`, written by the API server, never by the body) is
  `system:node:<name>` and in group `system:nodes`;
- the CSR's subject is exactly `CN=<that username>`, `O=system:nodes`;
- the usages are the kubelet's: digital signature and server auth, plus key encipherment only
  for an RSA key (api/kubeletcerts.py);
- there is at least one name, and every name is the node's: DNS names among the node name and
  its Hostname/InternalDNS/ExternalDNS addresses, IP addresses among its InternalIP/ExternalIP
  addresses, read from the Node in the informer's cache; no e-mail or URI names.
A request that fails any of these is left pending, never denied: a Denied condition is final (it
can never be removed), while the admin may still look at it and `kubectl certificate approve` it
(kube's own behaviour for every serving request), and a request that names an address the Node
does not list yet (the kubelet asked before its status write arrived) is judged again when the
Node changes. Pending requests are removed by the csrcleaner after a day.

An approval is an `Approved` condition written through `/approval`, reason `AutoApproved` and a
message naming this controller (kube's approver writes the same reason for kubelet client
certificates). The signer (controller/csrsigning.py) then issues it from the cluster CA.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from api import jsonutil
from api.errors import ApiError
from api.informer import Informer
from api.kubeletcerts import NODES_GROUP, SIGNER, node_of_user, node_serving_names, node_user, usages_for
from controller.base import ApiClient, Obj, QueueController, meta

log = logging.getLogger(__name__)

RESOURCE = "certificatesigningrequests"
REASON = "AutoApproved"
MESSAGE = (
    "Auto approving kubelet serving certificate: kubelite csrapproving controller, names match node {node}"
)


def decided(csr: Obj) -> bool:
    """Approved or denied already: nothing left for an approver to judge."""
    conditions = (csr.get("status") or {}).get("conditions") or []
    return any(isinstance(c, dict) and c.get("type") in ("Approved", "Denied") for c in conditions)


def verdict(csr: Obj, node: Obj | None) -> str:
    """Why this kubelet-serving request is left pending ("" when it is to be approved). `node` is the
    Node object of the requesting node from the cache, None when there is none."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    spec = csr.get("spec") or {}
    if spec.get("signerName") != SIGNER:
        return f"not a {SIGNER} request"
    username = str(spec.get("username") or "")
    node_name = node_of_user(username)
    if not node_name:
        return f"requester {username!r} is not a node (system:node:<name>)"
    if NODES_GROUP not in (spec.get("groups") or []):
        return f"requester {username!r} is not in group {NODES_GROUP}"
    try:
        request = x509.load_pem_x509_csr(base64.b64decode(str(spec.get("request") or ""), validate=True))
    except (ValueError, binascii.Error):
        return "the request does not parse as a PEM certificate request"
    cns = [str(a.value) for a in request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    orgs = [str(a.value) for a in request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    if cns != [username]:
        return f"subject common name {cns} is not the requester {username!r}"
    if orgs != [NODES_GROUP]:
        return f"subject organization {orgs} is not exactly [{NODES_GROUP!r}]"
    rsa_key = isinstance(request.public_key(), rsa.RSAPublicKey)
    usages = sorted(str(u) for u in spec.get("usages") or [])
    if usages != sorted(usages_for(rsa_key)):
        return f"usages {usages} are not {sorted(usages_for(rsa_key))}"
    try:
        san = list(request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        san = []
    if not san:
        return "the request names no DNS name or IP address"
    if node is None:
        return f"node {node_name!r} is not known (yet)"
    dns, ips = node_serving_names(node)
    for n in san:
        if isinstance(n, x509.DNSName):
            if n.value not in dns:
                return f"DNS name {n.value!r} is not one of node {node_name!r}'s names {dns}"
        elif isinstance(n, x509.IPAddress):
            if str(n.value) not in ips:
                return f"IP address {n.value} is not one of node {node_name!r}'s addresses {ips}"
        else:
            return f"subject alternative name {n} is neither a DNS name nor an IP address"
    return ""


def approved_status(csr: Obj, message: str, now: str) -> Obj:
    """The request's status with the Approved condition added (what PUT /approval carries)."""
    status = dict(csr.get("status") or {})
    condition = {
        "type": "Approved",
        "status": "True",
        "reason": REASON,
        "message": message,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
    }
    status["conditions"] = [*(status.get("conditions") or []), condition]
    return status


class CsrApprover(QueueController):
    """What the approvers share: the requests' informer, a pending reason logged once (until it
    changes), and the approval's write."""

    def __init__(self, client: ApiClient, csrs: Informer) -> None:
        super().__init__(workers=1)
        self.client = client
        self.csrs = csrs
        self._pending_said: dict[str, str] = {}  # name -> the reason last logged (said once)
        csrs.add_handlers(self.enqueue, lambda _old, new: self.enqueue(new), self._forget)

    def _forget(self, obj: Any) -> None:
        self._pending_said.pop(str(meta(obj if isinstance(obj, dict) else {}).get("name") or ""), None)

    def left_pending(self, name: str, what: str, why: str) -> None:
        if self._pending_said.get(name) != why:
            self._pending_said[name] = why
            log.info("%s %s left pending: %s", what, name, why)

    async def approve(self, key: str, csr: Obj, message: str) -> bool:
        """Write the Approved condition; False when the request went or changed meanwhile (then
        judged again from the newer object)."""
        self._pending_said.pop(str(meta(csr).get("name") or ""), None)
        try:
            await self.client.update(
                RESOURCE,
                dict(csr, status=approved_status(csr, message, jsonutil.now_str())),
                subresource="approval",
            )
        except ApiError as e:
            if e.code == 409:  # the cache is behind: judge it again from the newer object
                self.queue.add_after(key, 0.05)
            elif e.code != 404:
                raise
            return False
        return True


class KubeletServingApprover(CsrApprover):
    """Approves the kubelet-serving requests `verdict` allows; the others are left pending."""

    name = "csrapproving"

    def __init__(self, client: ApiClient, csrs: Informer, nodes: Informer) -> None:
        super().__init__(client, csrs)
        self.nodes = nodes
        nodes.add_handlers(self._node_changed, lambda _old, new: self._node_changed(new), lambda _obj: None)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.csrs, self.nodes, *informers)

    def _node_changed(self, node: Obj) -> None:
        """A node's addresses may now allow its pending requests: judge them again."""
        user = node_user(str(meta(node).get("name") or ""))
        for csr in self.csrs.list():
            if (csr.get("spec") or {}).get("username") == user and not decided(csr):
                self.enqueue(csr)

    async def sync(self, key: str) -> None:
        csr = self.csrs.get(key)
        if csr is None or (csr.get("spec") or {}).get("signerName") != SIGNER or decided(csr):
            return
        name = str(meta(csr).get("name") or "")
        node_name = node_of_user(str((csr.get("spec") or {}).get("username") or ""))
        why = verdict(csr, self.nodes.get(node_name) if node_name else None)
        if why:
            self.left_pending(name, "kubelet serving request", why)
            return
        if not await self.approve(key, csr, MESSAGE.format(node=node_name)):
            return
        log.info("approved kubelet serving request %s of node %s", name, node_name)
