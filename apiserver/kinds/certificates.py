"""Row of CertificateSigningRequest (certificates.k8s.io/v1): a client asks for a certificate, someone
allowed to approves it, a signer issues it (controller/csrsigning.py), and once old it is deleted
(controller/csrcleaner.py).

kube's registry strategies and admission plugins, as rules of the row:
- Create: who asks is written into the spec (username, uid, groups, extra: kube's PrepareForCreate
  takes them from the request, never from the body) and the status starts empty, so nobody
  creates a pre-approved request. CertificateSubjectRestriction refuses a request for the
  kube-apiserver-client signer in the `system:masters` group (403): approving one by mistake
  would mint a cluster admin.
- A bootstrap credential's request for a kubelet client certificate proves the node's password
  (apiserver/nodepasswords.py: k3s's node password, claimed or checked at create).
- A main update changes metadata only (spec and status stay as stored, kube's PrepareForUpdate).
- `/approval` may add Approved or Denied (never remove one, never both) and nothing else; the
  CertificateApproval plugin asks the authorizer for `approve` on `signers` named by the
  request's signer (or its `domain/*`): 403 otherwise.
- `/status` may add other conditions (Failed) and set `status.certificate` once; the
  CertificateSigning plugin asks for `sign` on the signer when the certificate changes.
- Conditions written through either get kube's timestamps: lastUpdateTime now when unset,
  lastTransitionTime kept from the stored condition of the same type and status, else now.
"""

from __future__ import annotations

from typing import Any

from api import jsonutil
from api.errors import ApiError, admission_forbidden
from api.jsonutil import as_object
from apiserver.kinds import Obj, SubresourceWrite, row
from apiserver.lifecycle import keep_status
from apiserver.nodepasswords import NodePasswordHooks
from apiserver.rbac.rules import Attributes
from apiserver.validation.certificates import (
    conditions,
    decoded,
    parse_request,
    transition_causes,
    validate_csr,
    validate_csr_update,
)
from apiserver.validation.rbac import is_path_segment_name

GROUP = "certificates.k8s.io"
PLURAL = "certificatesigningrequests"
API_SERVER_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client"
MASTERS = "system:masters"


def _refused(name: str, why: str) -> ApiError:
    """An admission plugin's 403 (admission.NewForbidden): the object, then the plugin's reason."""
    return admission_forbidden(PLURAL, GROUP, name, why)


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _spec(obj: Obj) -> Obj:
    return as_object(obj.get("spec"))


def _prepare_create(obj: Obj) -> None:
    obj["status"] = {}


def _keep_spec(new: Obj, old: Obj) -> None:
    if "spec" in old:
        new["spec"] = old["spec"]


def _subject_organizations(obj: Obj) -> list[str]:
    """The O= of the request's subject ([] when the request does not parse: validation says why)."""
    pem = decoded(_spec(obj).get("request"))
    if pem is None:
        return []
    try:
        csr = parse_request(pem)
    except ValueError:
        return []
    from cryptography.x509.oid import NameOID

    return [str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]


def _admit(state: Any, user: Any, namespace: str | None, obj: Obj) -> None:
    """Who asks, written into the spec (a main update keeps the stored spec after this), and
    CertificateSubjectRestriction."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec["username"] = user.name
    spec["groups"] = list(user.groups)
    if user.uid:
        spec["uid"] = user.uid
    else:
        spec.pop("uid", None)
    if user.extra:
        spec["extra"] = {k: list(v) for k, v in user.extra}
    else:
        spec.pop("extra", None)
    if spec.get("signerName") == API_SERVER_CLIENT_SIGNER and MASTERS in _subject_organizations(obj):
        raise _refused(
            _name(obj), f"use of {API_SERVER_CLIENT_SIGNER} signer with {MASTERS} group is not allowed"
        )


def _stamp_conditions(new: Obj, old: Obj) -> None:
    """kube's v1 default (a condition's status is True) and populateConditionTimestamps."""
    now = jsonutil.now_str()
    before = conditions(old)
    for c in conditions(new):
        c.setdefault("status", "True")
        if not c.get("lastUpdateTime"):
            c["lastUpdateTime"] = now
        if not c.get("lastTransitionTime"):
            same = next(
                (
                    o["lastTransitionTime"]
                    for o in before
                    if o.get("type") == c.get("type")
                    and o.get("status") == c.get("status")
                    and o.get("lastTransitionTime")
                ),
                now,
            )
            c["lastTransitionTime"] = same


def _status(obj: Obj) -> Obj:
    return as_object(obj.get("status"))


def _prepare_status(new: Obj, old: Obj) -> None:
    """A /status write keeps the stored Approved and Denied conditions as they are when it carries
    as many (kube's preserveConditionInstances: a signer echoing them back changes nothing), then
    stamps the others."""
    if isinstance(new.get("status"), dict):
        for kind in ("Approved", "Denied"):
            before = [c for c in conditions(old) if c.get("type") == kind]
            after = [c for c in conditions(new) if c.get("type") == kind]
            if before and len(before) == len(after):
                kept = iter(before)
                new["status"]["conditions"] = [
                    next(kept) if c.get("type") == kind else c for c in conditions(new)
                ]
    _stamp_conditions(new, old)


def _prepare_approval(new: Obj, old: Obj) -> None:
    """What /approval may change is the conditions: the stored certificate stays."""
    if not isinstance(new.get("status"), dict):
        new["status"] = {}
    status = new["status"]
    cert = _status(old).get("certificate")
    if cert:
        status["certificate"] = cert
    else:
        status.pop("certificate", None)
    _stamp_conditions(new, old)


def _may_for_signer(state: Any, user: Any, verb: str, signer: str) -> bool:
    """kube's isAuthorizedForSignerName: the signer by name, then its domain's wildcard."""
    if state.authorizer is None:
        return True
    for name in (signer, signer.split("/", 1)[0] + "/*"):
        if state.authorizer.allowed(Attributes(user.name, user.groups, verb, "", GROUP, "signers", "", name)):
            return True
    return False


def _admit_approval(state: Any, user: Any, new: Obj, old: Obj) -> None:
    signer = str(_spec(old).get("signerName") or "")
    if not _may_for_signer(state, user, "approve", signer):
        raise _refused(_name(old), f'user not permitted to approve requests with signerName "{signer}"')


def _admit_signing(state: Any, user: Any, new: Obj, old: Obj) -> None:
    if _status(new).get("certificate") == _status(old).get("certificate"):
        return
    signer = str(_spec(old).get("signerName") or "")
    if not _may_for_signer(state, user, "sign", signer):
        raise _refused(_name(old), f'user not permitted to sign requests with signerName "{signer}"')


row(
    PLURAL,
    GROUP,
    name_rule=is_path_segment_name,  # kube checks no more than that the name fits in a path
    status_separate=True,
    field_paths=frozenset({"spec.signerName"}),  # approvers and signers list their own requests
    prepare_create=_prepare_create,
    prepare_update=_keep_spec,
    validate=validate_csr,
    validate_update=transition_causes,
    admit=_admit,
    hooks=NodePasswordHooks(),
    subresource_writes={
        "status": SubresourceWrite(
            keep_status,
            lambda new, old: validate_csr_update(new, old, certificate=True),
            _prepare_status,
            _admit_signing,
        ),
        "approval": SubresourceWrite(
            keep_status,
            lambda new, old: validate_csr_update(new, old, approval=True),
            _prepare_approval,
            _admit_approval,
        ),
    },
)
