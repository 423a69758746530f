"""`kubectl version`, `cluster-info`, `api-resources`, `api-versions`, `completion bash|zsh`.

`api-resources` asks the server's discovery (`/api/v1`, `/apis`), so it shows what any
Kubernetes-compatible server serves; the built-in table is used only if discovery fails.
Colours (cluster-info) only when stdout is a terminal.
"""

from __future__ import annotations

from typing import Any

from api import requests as rq
from api.errors import ApiError
from kubectl.env import CommandError, Env
from kubectl.flags import FlagSpec, Help, Parsed

CLIENT_VERSION = {
    "major": "1",
    "minor": "33",
    "gitVersion": "v1.33.0-kubelite",
    "gitCommit": "",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "python3.11",
    "compiler": "cpython",
    "platform": "linux/amd64",
}

FLAGS: dict[str, FlagSpec] = {
    "version": {
        "client": ("bool", False, "", "Only the client's version; the server is not asked."),
        "output": ("str", "", "o", "Print the versions as yaml or json."),
        "short": ("bool", False, "", "Only the version numbers."),
    },
    "cluster-info": {},
    "api-resources": {
        "namespaced": ("str", None, "", "true: only namespaced types; false: only cluster-wide ones."),
        "output": ("str", "", "o"),
        "no-headers": ("bool", False, ""),
        "api-group": ("str", None, "", "Only the types of this API group ('' is the core group)."),
        "verbs": ("list", [], "", "Only the types that support all these verbs (comma separated)."),
        "sort-by": ("str", None, ""),
    },
    "completion": {},
    "api-versions": {},
}
HELP = {
    "version": Help(
        summary="Print the versions of kubectl and of the API server",
        more="The version of this kubectl and, unless --client, of the API server it talks to.",
        usage="[flags]",
        examples="""
        # Both versions
        kubectl version

        # As JSON, without asking the server
        kubectl version --client -o json
        """,
    ),
    "cluster-info": Help(
        summary="Print where the control plane and cluster services answer",
        more="The address of the API server and of the services labelled "
        "kubernetes.io/cluster-service=true in kube-system.",
        usage="[flags]",
        examples="""
        # Where the control plane answers
        kubectl cluster-info
        """,
    ),
    "api-resources": Help(
        summary="List the resource types the server serves",
        more="Every resource type the server serves, from its discovery documents: name, short "
        "names, API version, whether namespaced, and kind.",
        usage="[flags]",
        examples="""
        # Every type
        kubectl api-resources

        # Just the names, with their groups
        kubectl api-resources -o name

        # Cluster-wide types of one group, and types that can be listed
        kubectl api-resources --namespaced=false --api-group=rbac.authorization.k8s.io
        kubectl api-resources --verbs=list,get
        """,
    ),
    "api-versions": Help(
        summary="Print the supported API versions on the server, in the form of group/version",
        usage="",
        examples="""
        # Every group/version the server serves
        kubectl api-versions
        """,
    ),
    "completion": Help(
        summary="Print a shell completion script for bash or zsh",
        more="Prints a script that makes the shell complete kubectl's commands and flags; load it "
        "in the shell's start-up file.",
        usage="SHELL",
        examples="""
        # Completion in this bash session, and in every later one
        source <(kubectl completion bash)
        echo 'source <(kubectl completion bash)' >> ~/.bashrc

        # For zsh
        source <(kubectl completion zsh)
        """,
    ),
}


def version(env: Env, p: Parsed) -> int:
    server: Any = None
    err: Exception | None = None
    if not p["client"]:
        try:
            server = env.client.call(rq.Request("GET", "/version"))
        except Exception as e:  # reported after the client version, as kubectl does
            err = e
    fmt = p["output"]
    if fmt in ("json", "yaml"):
        from kubectl import output

        doc: dict[str, Any] = {"clientVersion": CLIENT_VERSION, "kustomizeVersion": "v5.6.0"}
        if server:
            doc["serverVersion"] = server
        env.out.write(output.to_json(doc) if fmt == "json" else output.to_yaml(doc))
    else:
        env.out.write(f"Client Version: {CLIENT_VERSION['gitVersion']}\nKustomize Version: v5.6.0\n")
        if server:
            env.out.write(f"Server Version: {server.get('gitVersion', '')}\n")
    if err is not None:
        raise err
    return 0


def cluster_info(env: Env, p: Parsed) -> int:
    if p.args and p.args[0] == "dump":
        raise CommandError("error: cluster-info dump is not supported by kubelite's kubectl")
    env.client.call(rq.Request("GET", "/version"))  # fails like kubectl when the server is down
    tty = env.out.isatty()

    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if tty else text

    env.out.write(
        f"{paint('Kubernetes control plane', '0;32')} is running at {paint(env.config.server, '0;33')}\n"
    )
    try:
        svcs = env.client.list("services", "kube-system", label_selector="kubernetes.io/cluster-service=true")
    except ApiError:
        svcs = {"items": []}
    for s in svcs.get("items") or []:
        meta = s.get("metadata") or {}
        name = str((meta.get("labels") or {}).get("kubernetes.io/name") or meta.get("name"))
        url = f"{env.config.server}/api/v1/namespaces/kube-system/services/{meta.get('name')}/proxy"
        env.out.write(f"{paint(name, '0;32')} is running at {paint(url, '0;33')}\n")
    env.out.write("\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n")
    return 0


def _discover(env: Env) -> list[dict[str, Any]]:
    """Rows {name, shortNames, apiVersion, namespaced, kind, verbs, categories} from discovery."""
    out: list[dict[str, Any]] = []
    try:
        lists = [("v1", env.client.call(rq.Request("GET", "/api/v1")))]
        groups = env.client.call(rq.Request("GET", "/apis"))
        for g in groups.get("groups") or []:
            gv = (g.get("preferredVersion") or {}).get("groupVersion")
            if gv:
                try:
                    lists.append((gv, env.client.call(rq.Request("GET", f"/apis/{gv}"))))
                except ApiError:  # an extension server not available now: left out, as kubectl does
                    continue
    except ApiError:
        from api.resources import RESOURCES, by_plural

        return [  # each resource once, in its preferred version, as discovery would list it
            {
                "name": r.plural,
                "shortNames": list(r.short_names),
                "apiVersion": r.api_version,
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": list(r.verbs),
                "categories": list(r.categories),
            }
            for r in RESOURCES
            if by_plural(r.group, r.plural) is r
        ]
    for gv, lst in lists:
        for r in sorted(lst.get("resources") or [], key=lambda r: r.get("name", "")):
            if "/" in r.get("name", ""):
                continue
            out.append({**r, "apiVersion": gv})
    return out


def api_resources(env: Env, p: Parsed) -> int:
    from kubectl.tables import TabWriter

    rows = _discover(env)
    if p["namespaced"] is not None:
        want = p["namespaced"].lower() in ("true", "1", "")
        rows = [r for r in rows if bool(r.get("namespaced")) == want]
    if p["api-group"] is not None:
        rows = [
            r
            for r in rows
            if (r["apiVersion"].split("/")[0] if "/" in r["apiVersion"] else "") == p["api-group"]
        ]
    for v in p["verbs"]:
        rows = [r for r in rows if set(v.split(",")) <= set(r.get("verbs") or [])]
    # kubectl's order: by API group (the core group first), then by name, unless --sort-by says otherwise
    rows.sort(key=lambda r: (r["apiVersion"].split("/")[0] if "/" in r["apiVersion"] else "", r["name"]))
    if p["sort-by"] == "kind":
        rows.sort(key=lambda r: r.get("kind", ""))
    elif p["sort-by"] == "name":
        rows.sort(key=lambda r: r["name"])
    if p["output"] == "name":
        env.out.write(
            "".join(
                r["name"] + (f".{r['apiVersion'].split('/')[0]}" if "/" in r["apiVersion"] else "") + "\n"
                for r in rows
            )
        )
        return 0
    wide = p["output"] == "wide"
    header = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"] + (
        ["VERBS", "CATEGORIES"] if wide else []
    )
    table = [] if p["no-headers"] else [header]
    for r in rows:
        row = [
            r["name"],
            ",".join(r.get("shortNames") or []),
            r["apiVersion"],
            "true" if r.get("namespaced") else "false",
            r.get("kind", ""),
        ]
        if wide:
            row += [",".join(r.get("verbs") or []), ",".join(r.get("categories") or [])]
        table.append(row)
    env.out.write(TabWriter().format(table))
    return 0


def api_versions(env: Env, p: Parsed) -> int:
    """Every group/version the server serves (not only the preferred ones), sorted, as kubectl."""
    versions = [str(v) for v in env.client.call(rq.Request("GET", "/api")).get("versions") or []]
    for g in env.client.call(rq.Request("GET", "/apis")).get("groups") or []:
        versions += [v.get("groupVersion", "") for v in g.get("versions") or []]
    env.out.write("".join(v + "\n" for v in sorted(versions)))
    return 0


_BASH = r"""# kubectl (kubelite) bash completion; load with: source <(kubectl completion bash)
_kubelite_kubectl() {
    local cur prev verb i
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    verb=""
    for ((i=1; i<COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            -*) ;;
            *) verb="${COMP_WORDS[i]}"; break ;;
        esac
    done
    case "$prev" in
        -n|--namespace)
            COMPREPLY=( $(compgen -W "$(kubectl get namespaces -o jsonpath='{.items[*].metadata.name}' 2>/dev/null)" -- "$cur") )
            return ;;
        -o|--output)
            COMPREPLY=( $(compgen -W "json yaml wide name jsonpath= custom-columns=" -- "$cur") )
            return ;;
        -f|--filename)
            COMPREPLY=( $(compgen -f -- "$cur") )
            return ;;
    esac
    if [[ -z "$verb" ]]; then
        COMPREPLY=( $(compgen -W "@VERBS@" -- "$cur") )
        return
    fi
    case "$verb" in
        config)
            COMPREPLY=( $(compgen -W "view get-contexts current-context use-context set-context" -- "$cur") ) ;;
        completion)
            COMPREPLY=( $(compgen -W "bash zsh" -- "$cur") ) ;;
        get|describe|delete|edit|label|annotate|patch|scale|wait|expose|rolling-update|logs|exec)
            local type="" j
            for ((j=i+1; j<COMP_CWORD; j++)); do
                [[ "${COMP_WORDS[j]}" != -* ]] && { type="${COMP_WORDS[j]}"; break; }
            done
            case "$verb" in logs|exec) [[ -z "$type" ]] && type=pods || type="" ;; esac
            if [[ -z "$type" && "$verb" != logs && "$verb" != exec ]]; then
                COMPREPLY=( $(compgen -W "@TYPES@" -- "$cur") )
            elif [[ -n "$type" || "$verb" == logs || "$verb" == exec ]]; then
                [[ -z "$type" ]] && type=pods
                COMPREPLY=( $(compgen -W "$(kubectl get "$type" -o jsonpath='{.items[*].metadata.name}' 2>/dev/null)" -- "$cur") )
            fi ;;
    esac
}
complete -o default -F _kubelite_kubectl kubectl
"""


def completion(env: Env, p: Parsed) -> int:
    from api.resources import RESOURCES
    from kubectl.main import VERBS

    if len(p.args) != 1 or p.args[0] not in ("bash", "zsh"):
        raise CommandError(
            "error: Shell not specified." if not p.args else f'error: Unsupported shell type "{p.args[0]}".'
        )
    types = sorted({n for r in RESOURCES for n in (r.plural, r.singular, *r.short_names)} | {"all"})
    script = _BASH.replace("@VERBS@", " ".join(sorted(VERBS))).replace("@TYPES@", " ".join(types))
    if p.args[0] == "zsh":
        script = (
            "#compdef kubectl\n# kubectl (kubelite) zsh completion: source <(kubectl completion zsh)\n"
            "autoload -U +X bashcompinit && bashcompinit\n" + script
        )
    env.out.write(script)
    return 0
