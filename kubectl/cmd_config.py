"""`kubectl config view|get-contexts|current-context|use-context|set-context`.

Reads the merged kubeconfig (`$KUBECONFIG` list or `~/.kube/config`, or `--kubeconfig`) and
writes back only the one file that holds what changes (the first file for `current-context`,
the file that defines a context for `set-context`), as kubectl does. `view` hides secrets
(`DATA+OMITTED`, `REDACTED`) unless `--raw`.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from kubectl.env import CommandError, Env
from kubectl.flags import FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {
    "config": {
        "raw": ("bool", False, "", "Show certificate data and tokens as they are rather than redacted."),
        "minify": ("bool", False, "", "Keep only what the current context uses."),
        "flatten": ("bool", False, "", "Put the content of referenced files (certificates, keys) inline."),
        "output": ("str", "yaml", "o", "Output format: yaml, json, or name (get-contexts)."),
        "current": ("bool", False, "", "Change the current context."),
        "no-headers": ("bool", False, ""),
    }
}
HELP = {
    "config": Help(
        summary="Read and change kubeconfig files",
        more="Reads and changes kubeconfig files: --kubeconfig if given, else the files of "
        "$KUBECONFIG (merged, changes going to the file that holds what changes), else "
        "~/.kube/config.",
        usage="SUBCOMMAND",
        examples="""
        # The merged configuration, then switch context
        kubectl config view
        kubectl config use-context kind-dev
        """,
        flags=(),
    ),
    "config view": Help(
        summary="Print the kubeconfig, merged from its files",
        more="Certificate data and tokens are redacted unless --raw.",
        usage="[flags]",
        examples="""
        # Everything, then just what the current context uses
        kubectl config view
        kubectl config view --minify

        # One value, with JSONPath
        kubectl config view -o jsonpath='{.users[?(@.name == "admin")].user.token}'
        """,
        flags=("flatten", "minify", "output", "raw"),
    ),
    "config get-contexts": Help(
        summary="List the kubeconfig's contexts",
        usage="[(-o|--output=)name)]",
        examples="""
        # All contexts, and one
        kubectl config get-contexts
        kubectl config get-contexts dev
        """,
        flags=("no-headers", "output"),
    ),
    "config current-context": Help(
        summary="Print the name of the current context",
        usage="",
        examples="""
        # The context kubectl uses by default
        kubectl config current-context
        """,
        flags=(),
    ),
    "config use-context": Help(
        summary="Make a context the current one",
        aliases=("use",),
        usage="CONTEXT_NAME",
        examples="""
        # Use the dev context from now on
        kubectl config use-context dev
        """,
        flags=(),
    ),
    "config set-context": Help(
        summary="Create or change a context of the kubeconfig",
        more="Creates the context, or changes the fields given: --cluster, --user and --namespace "
        "set the context's own fields here.",
        usage="[NAME | --current] [--cluster=cluster_nickname] [--user=user_nickname] "
        "[--namespace=namespace]",
        examples="""
        # Make the current context use another namespace
        kubectl config set-context --current --namespace=team-a

        # Point the dev context at a user
        kubectl config set-context dev --user=alice
        """,
        flags=("current",),
    ),
}
# `set-context --namespace` is the verb's own flag, not the global -n: read it from the args
_SECRET_DATA = ("certificate-authority-data", "client-certificate-data", "client-key-data")


def _paths(env: Env) -> list[Path]:
    from api.config import default_paths

    return env.kubeconfig_paths() or default_paths()


def _load(path: Path) -> dict[str, Any]:
    import yaml

    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text()) or {}
    return doc if isinstance(doc, dict) else {}


def _save(path: Path, doc: dict[str, Any]) -> None:
    from kubectl.output import to_yaml

    doc.setdefault("apiVersion", "v1")
    doc.setdefault("kind", "Config")
    doc.setdefault("preferences", {})
    for section in ("clusters", "contexts", "users"):
        doc.setdefault(section, [])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".kubelite-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(to_yaml(doc))
    os.replace(tmp, path)


def _merged(env: Env) -> dict[str, Any]:
    from api.config import load_merged

    doc = load_merged(_paths(env))
    doc.pop("_first_file", None)
    return doc


def config(env: Env, p: Parsed) -> int:
    if not p.args:
        raise CommandError(
            "error: Required subcommand missing: use one of view, get-contexts, current-context, "
            "use-context, set-context"
        )
    sub, args = p.args[0], p.args[1:]
    handler = {
        "view": _view,
        "get-contexts": _get_contexts,
        "current-context": _current,
        "use-context": _use,
        "use": _use,
        "set-context": _set_context,
    }.get(sub)
    if handler is None:
        raise CommandError(f'error: unknown command "{sub}" for "kubectl config"')
    return handler(env, p, args)


def _view(env: Env, p: Parsed, args: list[str]) -> int:
    doc = _merged(env)
    if p["minify"]:
        cur = doc.get("current-context") or ""
        if env.flags.flags.get("context"):
            cur = env.flags.flags["context"]
        ctxs = [c for c in doc["contexts"] if c.get("name") == cur]
        if not ctxs:
            raise CommandError("error: current-context must exist in order to minify")
        ctx = ctxs[0].get("context") or {}
        doc["contexts"] = ctxs
        doc["clusters"] = [c for c in doc["clusters"] if c.get("name") == ctx.get("cluster")]
        doc["users"] = [u for u in doc["users"] if u.get("name") == ctx.get("user")]
        doc["current-context"] = cur
    if not p["raw"]:
        doc = copy.deepcopy(doc)
        for section, key in (("clusters", "cluster"), ("users", "user")):
            for entry in doc[section]:
                body = entry.get(key) or {}
                for k in _SECRET_DATA:
                    if body.get(k):
                        body[k] = "DATA+OMITTED"
                for k in ("token", "password"):
                    if body.get(k):
                        body[k] = "REDACTED"
    out = {
        "apiVersion": "v1",
        "clusters": doc["clusters"],
        "contexts": doc["contexts"],
        "current-context": doc.get("current-context") or "",
        "kind": "Config",
        "preferences": {},
        "users": doc["users"],
    }
    fmt, _, arg = p["output"].partition("=")
    from kubectl import output

    if fmt == "json":
        env.out.write(_config_json(out))
    elif fmt == "jsonpath":
        from kubectl import jsonpath

        env.out.write(jsonpath.render(arg, out))
    else:
        env.out.write(output.to_yaml(out))
    return 0


def _get_contexts(env: Env, p: Parsed, args: list[str]) -> int:
    from kubectl.tables import TabWriter

    doc = _merged(env)
    cur = doc.get("current-context")
    rows = []
    for c in doc["contexts"]:
        if args and c.get("name") not in args:
            continue
        body = c.get("context") or {}
        rows.append(
            [
                "*" if c.get("name") == cur else "",
                c.get("name", ""),
                body.get("cluster", ""),
                body.get("user", ""),
                body.get("namespace", ""),
            ]
        )
    if args and not rows:
        raise CommandError(f"error: context {args[0]} not found")
    if p["output"] == "name":
        env.out.write("".join(r[1] + "\n" for r in rows))
        return 0
    header = [] if p["no-headers"] else [["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]]
    env.out.write(TabWriter().format(header + rows))
    return 0


def _current(env: Env, p: Parsed, args: list[str]) -> int:
    cur = _merged(env).get("current-context")
    if not cur:
        raise CommandError("error: current-context is not set")
    env.out.write(cur + "\n")
    return 0


def _use(env: Env, p: Parsed, args: list[str]) -> int:
    if len(args) != 1:
        raise CommandError(
            "error: Unexpected args: " + str(args) if args else "error: empty context names are not allowed"
        )
    name = args[0]
    if not any(c.get("name") == name for c in _merged(env)["contexts"]):
        raise CommandError(f'error: no context exists with the name: "{name}"')
    path = _paths(env)[0]
    doc = _load(path)
    doc["current-context"] = name
    _save(path, doc)
    env.out.write(f'Switched to context "{name}".\n')
    return 0


def _set_context(env: Env, p: Parsed, args: list[str]) -> int:
    merged = _merged(env)
    if p["current"]:
        if args:
            raise CommandError("error: you cannot specify a context name and --current")
        name = merged.get("current-context") or ""
        if not name:
            raise CommandError("error: no current context is set")
    elif len(args) != 1:
        raise CommandError("error: you must specify a non-empty context name or --current")
    else:
        name = args[0]
    # the file that defines the context, else the first one
    target = next(
        (
            path
            for path in _paths(env)
            if any(c.get("name") == name for c in _load(path).get("contexts") or [])
        ),
        _paths(env)[0],
    )
    doc = _load(target)
    contexts = doc.setdefault("contexts", [])
    entry = next((c for c in contexts if c.get("name") == name), None)
    created = entry is None
    if entry is None:
        entry = {"name": name, "context": {}}
        contexts.append(entry)
    body = entry.setdefault("context", {})
    f = env.flags.flags
    for flag, key in (("namespace", "namespace"), ("cluster", "cluster"), ("user", "user")):
        if f.get(flag) is not None:
            if f[flag]:
                body[key] = f[flag]
            else:
                body.pop(key, None)
    _save(target, doc)
    env.out.write(f'Context "{name}" {"created" if created else "modified"}.\n')
    return 0


# clientcmdapi.Config's field order, which kubectl's JSON printer keeps (its YAML is sorted)
_ORDER = {
    "": [
        "kind",
        "apiVersion",
        "preferences",
        "clusters",
        "users",
        "contexts",
        "current-context",
        "extensions",
    ],
    "cluster": [
        "server",
        "tls-server-name",
        "insecure-skip-tls-verify",
        "certificate-authority",
        "certificate-authority-data",
        "proxy-url",
        "disable-compression",
        "extensions",
    ],
    "user": [
        "client-certificate",
        "client-certificate-data",
        "client-key",
        "client-key-data",
        "token",
        "tokenFile",
        "as",
        "as-uid",
        "as-groups",
        "as-user-extra",
        "username",
        "password",
        "auth-provider",
        "exec",
        "extensions",
    ],
    "context": ["cluster", "user", "namespace", "extensions"],
}


def _ordered(d: dict[str, Any], order: list[str]) -> dict[str, Any]:
    return {**{k: d[k] for k in order if k in d}, **{k: v for k, v in d.items() if k not in order}}


def _config_json(doc: dict[str, Any]) -> str:
    out = _ordered(doc, _ORDER[""])
    for section, key in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
        out[section] = [
            {"name": e.get("name"), key: _ordered(e.get(key) or {}, _ORDER[key])}
            for e in doc.get(section) or []
        ]
    import json

    return json.dumps(out, indent=4, ensure_ascii=False) + "\n"
