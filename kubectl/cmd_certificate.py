"""`kubectl certificate approve|deny NAME... | -f FILE`: a condition added to a CertificateSigningRequest
through its `/approval` subresource.

As kubectl's certificates.go: each request is read (certificates.k8s.io/v1), refused if it already
has the opposite condition (`certificate signing request "x" is already Denied`), left alone if it
already has this one (`--force` sends it back unchanged), else sent back with an `Approved` (reason `KubectlApprove`)
or `Denied` (`KubectlDeny`) condition; a conflict re-reads and retries, up to ten times. One failure
does not stop the others; the errors come last, the exit code is 1. What is printed is the request as first read.
"""

from __future__ import annotations

from typing import Any

from api import jsonutil
from api.errors import ApiError
from kubectl.env import CommandError, Env
from kubectl.errors import api_error_text
from kubectl.flags import FILE_FLAGS, FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {
    "certificate": {
        **FILE_FLAGS,
        "force": ("bool", False, "", "Write the condition even if the request already has it."),
        "output": ("str", "", "o"),
    },
}
HELP = {
    "certificate": Help(
        summary="Modify certificate resources",
        usage="SUBCOMMAND",
        examples="""
        # Approve a node's pending client certificate request
        kubectl certificate approve node-csr-abc12
        """,
        flags=(),
    ),
    "certificate approve": Help(
        summary="Approve a certificate signing request",
        more="Adds the Approved condition to each request, after which its signer issues the "
        "certificate. Make sure the request is who it claims to be before approving it.",
        usage="(-f FILENAME | NAME)",
        examples="""
        # Approve one request
        kubectl certificate approve csr-xyz
        """,
    ),
    "certificate deny": Help(
        summary="Deny a certificate signing request",
        more="Adds the Denied condition to each request: no certificate is issued for it.",
        usage="(-f FILENAME | NAME)",
        examples="""
        # Deny one request
        kubectl certificate deny csr-xyz
        """,
    ),
}
# subcommand -> (the condition it adds, the one it must not find, reason, message)
ACTIONS = {
    "approve": (
        "Approved",
        "Denied",
        "KubectlApprove",
        "This CSR was approved by kubectl certificate approve.",
    ),
    "deny": ("Denied", "Approved", "KubectlDeny", "This CSR was denied by kubectl certificate deny."),
}
PLURAL = "certificatesigningrequests"


def certificate(env: Env, p: Parsed) -> int:
    from kubectl.creating import check_output, report

    sub = p.args[0] if p.args else ""
    if sub not in ACTIONS:
        if sub:
            raise CommandError(f'error: unknown command "{sub}" for "kubectl certificate"')
        from kubectl.helppage import page

        env.out.write(page(HELP, FLAGS, "certificate", []))
        return 0
    check_output(p["output"])
    names = list(p.args[1:])
    if p["filename"]:
        from kubectl.manifests import load_paths

        names += [
            (d.obj.get("metadata") or {}).get("name", "") for d in load_paths(p["filename"], p["recursive"])
        ]
    if not names:
        raise CommandError("error: one or more CSRs must be specified as <name> or -f <filename>")
    res = env.resource(PLURAL)
    errors = []  # reported after the others, as kubectl aggregates them
    for name in names:
        try:
            obj = _modify(env, res, name, sub, p["force"])
        except ApiError as e:
            errors.append(api_error_text(e))
            continue
        except CommandError as e:
            errors.append(e.message)
            continue
        report(env, p, obj, res, "approved" if sub == "approve" else "denied", "none")
    for text in errors:
        print(text, file=env.err)
    return 1 if errors else 0


def _modify(env: Env, res: Any, name: str, sub: str, force: bool) -> dict[str, Any]:
    """Add the condition (unless there or `force`); the request as first read."""
    want, refuse, reason, message = ACTIONS[sub]
    first: dict[str, Any] | None = None
    for attempt in range(11):
        csr = env.client.get(res, name)
        first = first or dict(csr)
        conditions = (csr.get("status") or {}).get("conditions") or []
        for c in conditions:
            if c.get("type") == refuse:
                raise CommandError(f'error: certificate signing request "{name}" is already {refuse}')
        if any(c.get("type") == want for c in conditions):
            if not force:
                break
        else:
            condition = {
                "type": want,
                "status": "True",
                "reason": reason,
                "message": message,
                "lastUpdateTime": jsonutil.now_str(),
            }
            csr.setdefault("status", {})["conditions"] = [*conditions, condition]
        try:
            env.client.update(res, csr, subresource="approval")
        except ApiError as e:
            if e.code == 409 and attempt < 10:
                continue
            raise
        break
    assert first is not None
    return first
