"""`kubectl get`: tables (the server's `Table` when offered), `-o yaml|json|name|jsonpath|custom-columns`,
selectors, `-A`, `--sort-by`, `--show-labels`, and `-w` live rows from a watch.

Human output asks for `Table` (TABLE_ACCEPT) exactly as kubectl does and falls back to our own
columns when the server answers a plain list. Missing names are reported one by one, the rest
still printed, exit 1 (as kubectl). `No resources found ...` goes to stderr, so pipes stay clean.
"""

from __future__ import annotations

from typing import Any

from api import requests as rq
from api.errors import ApiError
from api.resources import Resource
from kubectl.env import CommandError, Env
from kubectl.errors import api_error_text
from kubectl.flags import FILE_FLAGS, FlagSpec, Help, Parsed
from kubectl.printing import decorate, items_of, no_resources, rows_of, sort_rows
from kubectl.tables import Rows, TabWriter
from kubectl.targets import kind_prefix, parse_targets

FLAGS: dict[str, FlagSpec] = {
    "get": {
        "output": ("str", "", "o"),
        "selector": ("str", None, "l"),
        "field-selector": ("str", None, ""),
        "all-namespaces": ("bool", False, "A"),
        "watch": ("bool", False, "w", "After the list, keep printing changes to the objects as they happen."),
        "watch-only": ("bool", False, "", "Print only changes, without listing the objects first."),
        "show-labels": ("bool", False, "", "Add a column with all of each object's labels."),
        "sort-by": ("str", None, ""),
        "no-headers": ("bool", False, ""),
        "label-columns": (
            "list",
            [],
            "L",
            "Add a column for each of these label keys (comma separated, or the flag repeated).",
        ),
        "show-kind": ("bool", False, "", "Prefix each name with its resource type."),
        **FILE_FLAGS,
        "chunk-size": (
            "int",
            500,
            "",
            "Fetch long lists in pages of this many objects; 0 fetches all at once.",
        ),
        "ignore-not-found": ("bool", False, ""),
        "output-watch-events": (
            "bool",
            False,
            "",
            "With --watch, print each change as a watch event object (ADDED, MODIFIED, DELETED).",
        ),
        "show-managed-fields": ("bool", False, "", "Keep metadata.managedFields in JSON or YAML output."),
    }
}
HELP = {
    "get": Help(
        summary="List objects, or show the named ones",
        more="Lists the named objects, or every object of a type, as a table of their most telling "
        "fields; namespaced types are listed from the current namespace unless -A is given. "
        "-l and --field-selector narrow the list, -o picks another format (yaml, json, name, "
        "jsonpath, custom-columns, wide) and -w keeps watching for changes.\n\n"
        'Use "kubectl api-resources" for the resource types the server knows.',
        usage="[(-o|--output=)json|yaml|name|wide|jsonpath=...|custom-columns=...] "
        "(TYPE[.VERSION][.GROUP] [NAME | -l label] | TYPE[.VERSION][.GROUP]/NAME ...) [flags]",
        examples="""
        # Every pod of the current namespace, then with node and IP columns
        kubectl get pods
        kubectl get pods -o wide

        # One deployment as YAML
        kubectl get deployment web -o yaml

        # Several types at once, and objects named type/name
        kubectl get rc,services
        kubectl get deploy/web svc/web

        # Pods labelled app=web in every namespace, sorted by name
        kubectl get pods -A -l app=web --sort-by=.metadata.name

        # Just one field, with a JSONPath template
        kubectl get pod web-1 -o jsonpath='{.status.podIP}'

        # Watch pods change
        kubectl get pods -w
        """,
    )
}


def _fetch(
    env: Env, res: Resource, names: list[str], p: Parsed, table: bool, errors: list[str]
) -> tuple[list[Any], str]:
    """Answers (Tables, lists or objects) for one resource, and the list's resourceVersion."""
    ns = None if p["all-namespaces"] and not names else env.namespace
    answers: list[Any] = []
    rv = ""
    if names:
        for name in names:
            req = rq.get(res, name, ns)
            if table:
                req.accept = rq.TABLE_ACCEPT
            try:
                answers.append(env.client.call(req))
            except ApiError as e:
                if e.code == 404 and p["ignore-not-found"]:
                    continue
                if e.code != 404:
                    raise
                errors.append(api_error_text(e))
        return answers, rv
    req = rq.list_(res, ns, p["selector"], p["field-selector"], table=table)
    if table and p["sort-by"]:
        req.query["includeObject"] = "Object"
    ans = env.client.call(req)
    answers.append(ans)
    return answers, str((ans.get("metadata") or {}).get("resourceVersion") or "")


def get(env: Env, p: Parsed) -> int:
    output = p["output"]
    fmt, _, arg = output.partition("=")
    if fmt not in ("", "wide", "yaml", "json", "name", "jsonpath", "custom-columns", "jsonpath-as-json"):
        raise CommandError(
            f'error: unable to match a printer suitable for the output format "{output}", '
            "allowed formats are: custom-columns,custom-columns-file,go-template,"
            "go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,"
            "templatefile,wide,yaml"
        )
    if p["filename"]:
        from kubectl.manifests import load_paths

        docs = load_paths(p["filename"], p["recursive"])
        args = [
            f"{env.resource(d.obj.get('kind', '')).plural}/{(d.obj.get('metadata') or {}).get('name')}"
            for d in docs
        ]
    else:
        args = p.args
    wanted = parse_targets(env, args)
    if p["watch"] or p["watch-only"]:
        if len(wanted) != 1:
            raise CommandError("error: you may only specify a single resource type")
        from kubectl.watching import watch_rows

        return watch_rows(env, p, wanted[0][0], wanted[0][1])
    errors: list[str] = []
    if fmt in ("", "wide"):
        return _human(env, p, wanted, fmt == "wide", errors)
    single = len(wanted) == 1 and len(wanted[0][1]) == 1 and "/" not in (args[0] if args else "")
    single = single or (len(args) == 1 and "/" in args[0])
    items: list[dict[str, Any]] = []
    for res, names in wanted:
        answers, _ = _fetch(env, res, names, p, False, errors)
        for a in answers:
            items += items_of(a, res)
    if p["sort-by"]:
        from kubectl import jsonpath

        path = jsonpath.relaxed(p["sort-by"])
        items.sort(
            key=lambda o: (
                lambda v: (0, "") if not v else (1, v[0]) if isinstance(v[0], int | float) else (2, str(v[0]))
            )(jsonpath.evaluate(path, o))
        )
    for e in errors:
        print(e, file=env.err)
    if not items and not errors and fmt not in ("json", "yaml"):
        no_resources(env, p, any(r.namespaced for r, _ in wanted))
        return 0
    doc: Any = (
        items[0]
        if single and len(items) == 1
        else {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
    )
    if single and not items:
        return 1
    _print_objects(env, fmt, arg, doc, items, p)
    return 1 if errors else 0


def _print_objects(env: Env, fmt: str, arg: str, doc: Any, items: list[dict[str, Any]], p: Parsed) -> None:
    from kubectl import output

    if fmt == "yaml":
        env.out.write(output.to_yaml(doc, p["show-managed-fields"]))
    elif fmt == "json":
        env.out.write(output.to_json(doc, p["show-managed-fields"]))
    elif fmt == "name":
        env.out.write("".join(output.kind_name(o) + "\n" for o in items))
    elif fmt in ("jsonpath", "jsonpath-as-json"):
        from kubectl import jsonpath

        try:
            env.out.write(jsonpath.render(arg, doc))
        except jsonpath.JSONPathError as e:
            raise CommandError(f"error: error parsing jsonpath {arg}, {e}") from e
    elif fmt == "custom-columns":
        try:
            cols = output.parse_custom_columns(arg)
        except ValueError as e:
            raise CommandError(f"error: {e}") from e
        rows = [output.custom_column_cells(cols, o) for o in items]
        env.out.write(TabWriter().format(([[h for h, _ in cols]] if not p["no-headers"] else []) + rows))


def _human(
    env: Env, p: Parsed, wanted: list[tuple[Resource, list[str]]], wide: bool, errors: list[str]
) -> int:
    with_kind = len(wanted) > 1 or p["show-kind"] or (bool(p.args) and p.args[0] == "all")
    printed = 0
    for res, names in wanted:
        answers, _ = _fetch(env, res, names, p, True, errors)
        rows = Rows([], [], [])
        for a in answers:
            r = rows_of(a, res, wide)
            rows = r if not rows.headers else Rows(rows.headers, rows.rows + r.rows, rows.objects + r.objects)
        if not rows.rows:
            continue
        if p["sort-by"]:
            rows = sort_rows(rows, p["sort-by"])
        kind = kind_prefix(res)
        rows = decorate(rows, p, kind if with_kind else "")
        if printed:
            env.out.write("\n")
        env.out.write(rows.text(headers=not p["no-headers"]))
        printed += 1
    for e in errors:
        print(e, file=env.err)
    if not printed and not errors:
        no_resources(env, p, any(r.namespaced for r, _ in wanted))
    return 1 if errors else 0
