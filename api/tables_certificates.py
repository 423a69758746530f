"""Table columns of CertificateSigningRequest, as kube-apiserver 1.33 prints them
(pkg/printers/internalversion: printCertificateSigningRequest): who asked, which signer, the
duration asked for, and one word for where the request stands.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables
from api.humanize import human_duration

Obj = dict[str, Any]


def condition_word(csr: Obj) -> str:
    """kube's extractCSRStatus: Denied over Approved over Pending, then Failed and Issued."""
    kinds = {c.get("type") for c in (csr.get("status") or {}).get("conditions") or [] if isinstance(c, dict)}
    word = "Denied" if "Denied" in kinds else "Approved" if "Approved" in kinds else "Pending"
    if "Failed" in kinds:
        word += ",Failed"
    if (csr.get("status") or {}).get("certificate"):
        word += ",Issued"
    return word


def _csr_row(csr: Obj, now: _dt.datetime) -> list[Any]:
    spec = csr.get("spec") or {}
    seconds = spec.get("expirationSeconds")
    return [
        tables.name_cell(csr),
        tables.age_cell(csr, now),
        spec.get("signerName") or "<none>",
        spec.get("username") or "",
        human_duration(seconds) if isinstance(seconds, int) else "<none>",
        condition_word(csr),
    ]


_col = tables.column

tables.register(
    "certificatesigningrequests",
    [
        tables.NAME_COLUMN,
        tables.AGE_COLUMN,
        _col("SignerName", "The signer the request asks to issue its certificate."),
        _col("Requestor", "The user who created the request."),
        _col("RequestedDuration", "The validity the request asks for (spec.expirationSeconds)."),
        _col("Condition", "Pending, Approved or Denied; then Failed, and Issued once a certificate is set."),
    ],
    _csr_row,
)
