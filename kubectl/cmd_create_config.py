"""`kubectl create configmap|secret generic|secret docker-registry|secret tls|serviceaccount NAME`.

Builds the objects kubectl's generators build (create_configmap.go, create_secret.go,
create_secret_docker.go, create_secret_tls.go): `--from-literal=key=value`, `--from-file=[key=]path`
(a directory gives one key per regular file), `--from-env-file`;
ConfigMap values that are not UTF-8 go to `binaryData`; Secret values are base64. Then it goes
through `kubectl create`'s path, so `--dry-run`, `-o` and `--save-config` behave as for `create -f`.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from kubectl.env import CommandError, Env
from kubectl.flags import WRITE_FLAGS, FlagSpec, Help, Parsed

_COMMON: FlagSpec = {
    **WRITE_FLAGS,
    "from-literal": ("list", [], "", "A key and its value (key=value); the flag may be repeated."),
    "from-file": (
        "list",
        [],
        "",
        "A file ([key=]path, the key defaulting to the file name) or a directory of files; may be repeated.",
    ),
    "from-env-file": ("list", [], "", "A file of KEY=value lines, each line one key; may be repeated."),
    "append-hash": ("bool", False, "", "End the object's name with a hash of its content."),
    "type": ("str", "", "", "The secret's type (Opaque when not given)."),
    "docker-username": ("str", "", "", "User name for the registry."),
    "docker-password": ("str", "", "", "Password for the registry."),
    "docker-email": ("str", "", "", "Email for the registry."),
    "docker-server": ("str", "https://index.docker.io/v1/", "", "Address of the registry."),
    "cert": ("str", "", "", "Path of the PEM certificate (chain)."),
    "key": ("str", "", "", "Path of the PEM private key of that certificate."),
}
FLAGS: dict[str, FlagSpec] = {"create": _COMMON}
_FROM = (*WRITE_FLAGS, "from-literal", "from-file", "from-env-file", "append-hash")
HELP = {
    "create configmap": Help(
        summary="Create a config map from files, directories, env files or literal values",
        more="Each file becomes a key named after it; a directory gives a key for each regular "
        "file in it whose name is a valid key.",
        aliases=("cm",),
        usage="NAME [--from-file=[key=]source] [--from-literal=key1=value1] [--dry-run=server|client|none]",
        examples="""
        # The files of a directory, one key each
        kubectl create configmap web-conf --from-file=conf/

        # A file under another key, and two literals
        kubectl create configmap web-conf --from-file=site.conf=nginx.conf
        kubectl create configmap flags --from-literal=mode=fast --from-literal=level=3

        # The lines of an env file
        kubectl create configmap env --from-env-file=app.env
        """,
        flags=_FROM,
    ),
    "create secret": Help(
        summary="Create a secret of one of several types",
        more="generic holds any keys (type Opaque unless --type), tls a certificate and its key, "
        "docker-registry the credentials of an image registry.",
        usage="(docker-registry | generic | tls)",
        examples="""
        # A secret of two literal keys
        kubectl create secret generic db --from-literal=user=app --from-literal=password=s3cret
        """,
        flags=(),
    ),
    "create secret generic": Help(
        summary="Create a secret from files, directories, env files or literal values",
        more="Keys come as for a config map: one per file (named after it, unless key=path), per "
        "regular file of a directory, per literal, or per line of an env file.",
        usage="NAME [--type=string] [--from-file=[key=]source] [--from-literal=key1=value1] "
        "[--dry-run=server|client|none]",
        examples="""
        # Two literal keys
        kubectl create secret generic db --from-literal=user=app --from-literal=password=s3cret

        # SSH keys under chosen key names
        kubectl create secret generic ssh --from-file=id=keys/id_ed25519 --from-file=id.pub=keys/id_ed25519.pub

        # Of another type
        kubectl create secret generic token --type=example.com/token --from-literal=token=abc
        """,
        flags=(*_FROM, "type"),
    ),
    "create secret tls": Help(
        summary="Create a TLS secret from a certificate and its key",
        more="The certificate and key must match; they are stored as tls.crt and tls.key.",
        usage="NAME --cert=path/to/cert/file --key=path/to/key/file [--dry-run=server|client|none]",
        examples="""
        # From PEM files
        kubectl create secret tls web-tls --cert=tls/web.crt --key=tls/web.key
        """,
        flags=(*WRITE_FLAGS, "cert", "key", "append-hash"),
    ),
    "create secret docker-registry": Help(
        summary="Create a secret for pulling images from a registry",
        more="Pods name it in imagePullSecrets. The credentials come from the --docker-* flags, or "
        "from an existing Docker config file with --from-file=.dockerconfigjson=path.",
        usage="NAME --docker-username=user --docker-password=password --docker-email=email "
        "[--docker-server=string] [--from-file=[key=]source] [--dry-run=server|client|none]",
        examples="""
        # For a private registry
        kubectl create secret docker-registry pull --docker-server=registry.example.com:5000 --docker-username=ci --docker-password=s3cret --docker-email=ci@example.com

        # From a Docker config file
        kubectl create secret docker-registry pull --from-file=.dockerconfigjson=$HOME/.docker/config.json
        """,
        flags=(
            *WRITE_FLAGS,
            "docker-username",
            "docker-password",
            "docker-email",
            "docker-server",
            "from-file",
            "append-hash",
        ),
    ),
    "create serviceaccount": Help(
        summary="Create a service account",
        aliases=("sa",),
        usage="NAME [--dry-run=server|client|none]",
        examples="""
        # A service account for a build system
        kubectl create serviceaccount builder
        """,
        flags=tuple(WRITE_FLAGS),
    ),
}
_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def _valid_key(key: str, kind: str) -> None:
    if not _KEY.match(key) or key in (".", "..") or key.startswith(".."):
        # kubectl words the two generators differently, to the letter
        lead = (
            f"is not a valid key name for a {kind}:"
            if kind == "ConfigMap"
            else f"is not valid key name for a {kind}"
        )
        raise CommandError(
            f'error: "{key}" {lead} a valid config key '
            "must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
            "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
        )


def _add(values: dict[str, bytes], key: str, value: bytes, kind: str) -> None:
    _valid_key(key, kind)
    if key in values:
        raise CommandError(f'error: cannot add key "{key}", another key by that name already exists')
    values[key] = value


def collect(
    literals: list[str], files: list[str], env_files: list[str], kind: str = "ConfigMap"
) -> dict[str, bytes]:
    """key -> raw value from the --from-* flags, in kubectl's order (files, literals, env files).
    `kind` (ConfigMap or Secret) words the errors."""
    values: dict[str, bytes] = {}
    for spec in files:
        key, sep, path = spec.partition("=")
        if not sep:
            key, path = "", spec
        p = Path(path)
        if p.is_dir():
            if key:
                raise CommandError("error: cannot give a key name for a directory path")
            for child in sorted(p.iterdir()):
                if child.is_file():
                    _add(values, child.name, child.read_bytes(), kind)
            continue
        if not p.exists():
            raise CommandError(f"error: error reading {path}: no such file or directory")
        _add(values, key or p.name, p.read_bytes(), kind)
    for lit in literals:
        key, sep, value = lit.partition("=")
        if not sep or not key:
            raise CommandError(f"error: invalid literal source {lit}, expected key=value")
        _add(values, key, value.encode(), kind)
    for path in env_files:
        for line in Path(path).read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            _add(values, key.strip(), value.encode() if sep else b"", kind)
    return values


def config_map(name: str, values: dict[str, bytes]) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": name, "creationTimestamp": None},
    }
    data, binary = {}, {}
    for k, v in values.items():
        try:
            data[k] = v.decode("utf-8")
        except UnicodeDecodeError:
            binary[k] = base64.b64encode(v).decode()
    if data:
        obj["data"] = data
    if binary:
        obj["binaryData"] = binary
    return obj


def secret(name: str, values: dict[str, bytes], type_: str = "") -> dict[str, Any]:
    obj: dict[str, Any] = {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {"name": name, "creationTimestamp": None},
    }
    if values:
        obj["data"] = {k: base64.b64encode(v).decode() for k, v in values.items()}
    if type_:
        obj["type"] = type_
    return obj


def docker_config(server: str, user: str, password: str, email: str) -> bytes:
    entry = {
        "username": user,
        "password": password,
        "email": email,
        "auth": base64.b64encode(f"{user}:{password}".encode()).decode(),
    }
    if not email:
        del entry["email"]
    return json.dumps({"auths": {server: entry}}, separators=(",", ":")).encode()


def _tls(cert_path: str, key_path: str) -> dict[str, bytes]:
    if not cert_path or not key_path:
        raise CommandError('error: required flag(s) "cert", "key" not set')
    cert, key = Path(cert_path).read_bytes(), Path(key_path).read_bytes()
    from api.x509 import pair_matches

    try:
        matches = pair_matches(cert, key)
    except ValueError as e:
        raise CommandError(f"error: failed to load key pair tls: {e}") from None
    if not matches:
        raise CommandError("error: failed to load key pair tls: private key does not match public key")
    return {"tls.crt": cert, "tls.key": key}


def build(p: Parsed) -> dict[str, Any]:
    what, *rest = p.args
    if what == "secret":
        if not rest:
            raise CommandError("error: must specify generic, docker-registry or tls")
        kind, *names = rest
    else:
        kind, names = what, rest
    if len(names) != 1:
        raise CommandError("error: exactly one NAME is required, got " + str(len(names)))
    name = names[0]
    if what in ("configmap", "cm"):
        return config_map(name, collect(p["from-literal"], p["from-file"], p["from-env-file"]))
    if what in ("serviceaccount", "sa"):
        return {
            "kind": "ServiceAccount",
            "apiVersion": "v1",
            "metadata": {"name": name, "creationTimestamp": None},
        }
    if kind == "generic":
        return secret(
            name, collect(p["from-literal"], p["from-file"], p["from-env-file"], "Secret"), p["type"]
        )
    if kind == "docker-registry":
        values = collect([], p["from-file"], [], "Secret")
        if ".dockerconfigjson" not in values:
            if not p["docker-username"] or not p["docker-password"]:
                raise CommandError('error: required flag(s) "docker-password", "docker-username" not set')
            values[".dockerconfigjson"] = docker_config(
                p["docker-server"], p["docker-username"], p["docker-password"], p["docker-email"]
            )
        return secret(name, values, "kubernetes.io/dockerconfigjson")
    if kind == "tls":
        return secret(name, _tls(p["cert"], p["key"]), "kubernetes.io/tls")
    raise CommandError(f'error: unknown secret type "{kind}": must be generic, docker-registry or tls')


def create(env: Env, p: Parsed) -> int:
    from kubectl.creating import create_generated

    obj = build(p)
    word = obj["kind"].lower()  # the generators' own wording of a refusal (secret's has no colon)
    failure = f"failed to create {word}{' ' if word == 'secret' else ': '}"
    return create_generated(env, p, obj, word + "s", failure)
