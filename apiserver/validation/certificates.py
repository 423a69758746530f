"""Validation of CertificateSigningRequest as kube-apiserver words it
(pkg/apis/certificates/validation: ValidateCertificateSigningRequestCreate, its Update, StatusUpdate
and ApprovalUpdate variants).

One set of rules with two switches, as kube has it: which write may add or change the Approved and
Denied conditions (only `/approval`) and which may fill `status.certificate` (only `/status`, and
only once). Every write checks the whole object again: the request is a PEM `CERTIFICATE REQUEST`
whose signature verifies, the usages are known and distinct, the signer name is a domain and a
path (`example.com/signer-name`), a requested duration is at least ten minutes, conditions have
one of each type, and a certificate is PEM `CERTIFICATE` blocks only. `request` and `certificate`
are Go `[]byte`: base64 text on the wire, decoded here.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from api.errors import (
    Cause,
    field_duplicate,
    field_forbidden,
    field_invalid,
    field_not_supported,
    field_required,
)
from api.jsonutil import as_object
from api.names import is_dns1123_label, is_dns1123_subdomain
from apiserver.validation.meta import too_long

Obj = dict[str, Any]

APPROVED, DENIED, FAILED = "Approved", "Denied", "Failed"
LEGACY_UNKNOWN_SIGNER = "kubernetes.io/legacy-unknown"
USAGES = sorted(
    (
        "signing",
        "digital signature",
        "content commitment",
        "key encipherment",
        "key agreement",
        "data encipherment",
        "cert sign",
        "crl sign",
        "encipher only",
        "decipher only",
        "any",
        "server auth",
        "client auth",
        "code signing",
        "email protection",
        "s/mime",
        "ipsec end system",
        "ipsec tunnel",
        "ipsec user",
        "timestamping",
        "ocsp signing",
        "microsoft sgc",
        "netscape sgc",
    )
)
_USAGES = frozenset(USAGES)
_TRUE_ONLY = frozenset({APPROVED, DENIED, FAILED})  # conditions whose status may only be True
_STATUSES = ["False", "True", "Unknown"]
_EXCLUSIVE = {APPROVED: DENIED, DENIED: APPROVED}
_MAX_DOMAIN, _MAX_PATH = 253, 253 + 63 + 1


def decoded(value: Any) -> bytes | None:
    """A `[]byte` field's bytes (None when it is not base64 text)."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_request(pem: bytes) -> Any:
    """The x509 CSR in `pem`, its signature checked; ValueError in kube's words otherwise."""
    from cryptography import x509  # the server has it loaded already (its own certificates)

    if not pem.lstrip().startswith(b"-----BEGIN CERTIFICATE REQUEST-----"):
        raise ValueError("PEM block type must be CERTIFICATE REQUEST")
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        csr = x509.load_pem_x509_csr(pem)
        valid = csr.is_signature_valid
        key = csr.public_key()
    except ValueError as e:
        raise ValueError(f"x509: malformed certificate request: {e}") from None
    except UnsupportedAlgorithm as e:  # a key or signature type OpenSSL here does not know
        raise ValueError(f"x509: cannot verify signature: {e}") from None
    if not valid:
        raise ValueError(_signature_failure(key))
    return csr


def _signature_failure(key: Any) -> str:
    """Go's words for a request whose signature does not verify, by its key's type."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, ec.EllipticCurvePublicKey):
        return "x509: ECDSA verification failure"
    if isinstance(key, rsa.RSAPublicKey):
        return "crypto/rsa: verification error"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "x509: Ed25519 verification failure"
    return "x509: signature verification failure"


def certificate_error(pem: bytes) -> str:
    """Why `pem` is not a list of PEM certificates ("" when it is, or is empty)."""
    if not pem:
        return ""
    from cryptography import x509

    blocks = 0
    for chunk in pem.split(b"-----BEGIN ")[1:]:
        kind = chunk.split(b"-----", 1)[0].decode("latin-1")
        if kind != "CERTIFICATE":
            return f'only CERTIFICATE PEM blocks are allowed, found "{kind}"'
        try:
            x509.load_pem_x509_certificate(b"-----BEGIN " + chunk)
        except ValueError as e:
            return f"x509: malformed certificate: {e}"
        blocks += 1
    return "" if blocks else "must contain at least one CERTIFICATE PEM block"


def signer_name_causes(path: str, name: Any) -> list[Cause]:
    """kube's ValidateCertificateSigningRequestSignerName: `<fqdn>/<path>`, each part checked."""
    if not name:
        return [field_required(path, "signerName must be provided")]
    if not isinstance(name, str) or name.count("/") != 1:
        return [
            field_invalid(
                path, name, "must be a fully qualified domain and path of the form 'example.com/signer-name'"
            )
        ]
    domain, rest = name.split("/")
    out: list[Cause] = []
    if len(domain) > _MAX_DOMAIN:
        out.append(too_long(path, _MAX_DOMAIN))
    labels = domain.split(".")
    for label in labels:
        errs = is_dns1123_label(label)
        if errs:
            out += [field_invalid(path, domain, f'validating label "{label}": {e}') for e in errs]
            break
    if len(labels) < 2:
        out.append(
            field_invalid(path, domain, "should be a domain with at least two segments separated by dots")
        )
    for label in rest.split("."):
        errs = is_dns1123_subdomain(label)
        if errs:
            out += [field_invalid(path, rest, f'validating label "{label}": {e}') for e in errs]
            break
    if len(name) > _MAX_DOMAIN + _MAX_PATH + 1:
        out.append(too_long(path, _MAX_DOMAIN + _MAX_PATH + 1))
    return out


def conditions(obj: Obj) -> list[Obj]:
    raw = as_object(obj.get("status")).get("conditions")
    return [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []


def _condition_causes(obj: Obj) -> list[Cause]:
    out: list[Cause] = []
    seen: set[str] = set()
    for i, c in enumerate(conditions(obj)):
        path, kind, status = f"status.conditions[{i}]", c.get("type") or "", c.get("status") or ""
        if not kind:
            out.append(field_required(f"{path}.type"))
        allowed = ["True"] if kind in _TRUE_ONLY else _STATUSES
        if not status:
            out.append(field_required(f"{path}.status"))
        elif status not in allowed:
            out.append(field_not_supported(f"{path}.status", status, allowed))
        if _EXCLUSIVE.get(kind) in seen:
            out.append(
                field_invalid(f"{path}.type", kind, "Approved and Denied conditions are mutually exclusive")
            )
        if kind in seen:
            out.append(field_duplicate(f"{path}.type", kind))
        seen.add(kind)
    return out


def validate_csr(obj: Obj) -> list[Cause]:
    """The whole object, on every write (metadata is the generic code's)."""
    spec = as_object(obj.get("spec"))
    out: list[Cause] = []
    request = decoded(spec.get("request"))
    if request is None:
        out.append(field_invalid("spec.request", spec.get("request"), "illegal base64 data"))
    else:
        try:
            parse_request(request)
        except ValueError as e:
            out.append(field_invalid("spec.request", "<request data>", str(e)))
    raw_usages = spec.get("usages")
    usages: list[Any] = raw_usages if isinstance(raw_usages, list) else []
    if not usages:
        out.append(field_required("spec.usages", "usages must be provided"))
    seen: set[str] = set()
    for i, usage in enumerate(usages):
        if usage not in _USAGES:
            out.append(field_not_supported(f"spec.usages[{i}]", usage, USAGES))
        if usage in seen:
            out.append(field_duplicate(f"spec.usages[{i}]", usage))
        seen.add(usage)
    signer = spec.get("signerName")
    if signer == LEGACY_UNKNOWN_SIGNER:
        out.append(
            field_invalid(
                "spec.signerName", signer, "the legacy signerName is not allowed via this API version"
            )
        )
    else:
        out += signer_name_causes("spec.signerName", signer)
    seconds = spec.get("expirationSeconds")
    if isinstance(seconds, int) and seconds < 600:
        out.append(
            field_invalid(
                "spec.expirationSeconds",
                seconds,
                "may not specify a duration less than 600 seconds (10 minutes)",
            )
        )
    out += _condition_causes(obj)
    cert = (obj.get("status") or {}).get("certificate")
    if cert:
        raw = decoded(cert)
        why = "illegal base64 data" if raw is None else certificate_error(raw)
        if why:
            out.append(field_invalid("status.certificate", "<certificate data>", why))
    return out


def _of_type(obj: Obj, kind: str) -> list[Obj]:
    return [c for c in conditions(obj) if c.get("type") == kind]


def validate_csr_update(new: Obj, old: Obj, approval: bool = False, certificate: bool = False) -> list[Cause]:
    """kube's validateCertificateSigningRequestUpdate: `approval` is the /approval write (may add
    Approved or Denied), `certificate` the /status write (may set the certificate, once)."""
    return validate_csr(new) + transition_causes(new, old, approval, certificate)


def transition_causes(new: Obj, old: Obj, approval: bool = False, certificate: bool = False) -> list[Cause]:
    """What an update may not do to the conditions and the certificate (see validate_csr_update)."""
    out: list[Cause] = []
    for kind in (APPROVED, DENIED, FAILED):
        if len(_of_type(new, kind)) < len(_of_type(old, kind)):
            out.append(
                field_forbidden("status.conditions", f'updates may not remove a condition of type "{kind}"')
            )
    if not approval:
        for kind in (APPROVED, DENIED):
            before, after = _of_type(old, kind), _of_type(new, kind)
            if len(after) > len(before):
                out.append(
                    field_forbidden("status.conditions", f'updates may not add a condition of type "{kind}"')
                )
            elif len(after) == len(before) and after != before:
                out.append(
                    field_forbidden(
                        "status.conditions", f'updates may not modify a condition of type "{kind}"'
                    )
                )
    new_cert = (new.get("status") or {}).get("certificate") or ""
    old_cert = (old.get("status") or {}).get("certificate") or ""
    if new_cert != old_cert:
        if not certificate:
            out.append(field_forbidden("status.certificate", "updates may not set certificate content"))
        elif old_cert:
            out.append(
                field_forbidden("status.certificate", "updates may not modify existing certificate content")
            )
    return out
