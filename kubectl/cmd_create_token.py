"""`kubectl create token SERVICE_ACCOUNT [--audience A]... [--duration D] [--bound-object-kind K
--bound-object-name N [--bound-object-uid U]]`: a TokenRequest on `serviceaccounts/NAME/token`.

As kubectl's create_token.go: nothing is stored, so there is no `--dry-run` or `--save-config`;
the token is printed bare (a newline only on a terminal), or the whole TokenRequest with `-o`.
`--duration` is a Go duration in whole seconds (`10m`, `1h30m`; a bare number other than 0 has no
unit and is refused as pflag refuses it); a bound object is a Pod, a Secret or a Node (1.33's list).
"""

from __future__ import annotations

import re
from typing import Any

from kubectl.env import CommandError, Env
from kubectl.flags import FlagSpec, Help, Parsed, UsageError

FLAGS: dict[str, FlagSpec] = {
    "create": {
        "output": ("str", "", "o"),
        "audience": (
            "list",
            [],
            "",
            "An intended audience of the token; may be repeated (the API server's by default).",
        ),
        "duration": (
            "str",
            "0s",
            "",
            "How long the token is valid; the server may shorten it (0s: the server's default).",
        ),
        "bound-object-kind": (
            "str",
            "",
            "",
            "Kind of an object the token is bound to (Pod, Secret or Node): it dies with it.",
        ),
        "bound-object-name": ("str", "", "", "Name of that object."),
        "bound-object-uid": ("str", "", "", "UID of that object; by default its current one."),
    }
}
HELP = {
    "create token": Help(
        summary="Request a token for a service account",
        more="Asks the TokenRequest API for a signed token of the service account and prints it.",
        usage="SERVICE_ACCOUNT_NAME",
        examples="""
        # A token of the builder service account
        kubectl create token builder

        # Valid for one hour, for another audience
        kubectl create token builder --duration=1h --audience=https://vault.example.com

        # Bound to a pod
        kubectl create token builder --bound-object-kind=Pod --bound-object-name=web-1
        """,
    )
}
BOUND_KINDS = {"Node": "v1", "Pod": "v1", "Secret": "v1"}
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)")


def go_duration(text: str) -> float:
    """time.ParseDuration, in seconds; UsageError worded as pflag words a bad --duration."""
    body = text[1:] if text[:1] in "+-" else text
    sign = -1.0 if text.startswith("-") else 1.0
    if body == "0":
        return 0.0
    if re.fullmatch(r"[0-9.]+", body):
        raise UsageError(
            f'invalid argument "{text}" for "--duration" flag: time: missing unit in duration "{text}"'
        )
    total, pos = 0.0, 0
    for m in _PART.finditer(body):
        if m.start() != pos or m.group(1) in ("", "."):
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not body or pos != len(body):
        raise UsageError(f'invalid argument "{text}" for "--duration" flag: time: invalid duration "{text}"')
    return sign * total


def token_request(audiences: list[str], seconds: float, kind: str, name: str, uid: str) -> dict[str, Any]:
    """Checked as kubectl checks its flags, then the request body."""
    if seconds < 0:
        raise CommandError("error: --duration must be greater than or equal to 0")
    if seconds != int(seconds):
        raise CommandError("error: --duration cannot be expressed in units less than seconds")
    if any(not a for a in audiences):
        raise CommandError("error: --audience must not be an empty string")
    if not kind:
        if name:
            raise CommandError(
                "error: --bound-object-name can only be set if --bound-object-kind is provided"
            )
        if uid:
            raise CommandError("error: --bound-object-uid can only be set if --bound-object-kind is provided")
    else:
        if kind not in BOUND_KINDS:
            raise CommandError(
                f"error: supported --bound-object-kind values are {', '.join(sorted(BOUND_KINDS))}"
            )
        if not name:
            raise CommandError("error: --bound-object-name is required if --bound-object-kind is provided")
    spec: dict[str, Any] = {"audiences": list(audiences) or None}
    if seconds > 0:
        spec["expirationSeconds"] = int(seconds)
    if kind:
        ref = {"kind": kind, "apiVersion": BOUND_KINDS[kind], "name": name}
        if uid:
            ref["uid"] = uid
        spec["boundObjectRef"] = ref
    return {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": {"token": "", "expirationTimestamp": None},
    }


def create(env: Env, p: Parsed) -> int:
    from api.errors import ApiError
    from kubectl.creating import one_name

    name = one_name(p.args[1:], "token")
    seconds = go_duration(p["duration"])
    body = token_request(
        p["audience"], seconds, p["bound-object-kind"], p["bound-object-name"], p["bound-object-uid"]
    )
    fmt = p["output"]
    if fmt and fmt not in ("yaml", "json", "name"):
        raise CommandError(
            f'error: unable to match a printer suitable for the output format "{fmt}", allowed formats are: '
            "json,name,yaml"
        )
    try:
        out = env.client.create(
            env.resource("serviceaccounts"), body, env.namespace, subresource="token", name=name
        )
    except ApiError as e:
        raise CommandError(f"error: failed to create token: {e.message}") from None
    token = ((out or {}).get("status") or {}).get("token")
    if not token:
        raise CommandError("error: failed to create token: no token in server response")
    if fmt:
        from kubectl import output

        out.setdefault("kind", "TokenRequest")
        out.setdefault("apiVersion", "authentication.k8s.io/v1")
        meta = out.setdefault("metadata", {})
        meta.setdefault("name", name)
        out.setdefault("spec", {}).setdefault("boundObjectRef", None)  # the typed struct prints its nil
        if fmt == "name":
            env.out.write(f"tokenrequest.authentication.k8s.io/{meta['name']}\n")
        else:
            env.out.write(output.to_yaml(out) if fmt == "yaml" else output.to_json(out))
        return 0
    env.out.write(token + ("\n" if env.out.isatty() else ""))
    return 0
