"""`kubectl edit TYPE NAME`: the live object in `$KUBE_EDITOR`/`$EDITOR`, saved back as a patch.

As kubectl: the file starts with a comment header; an emptied file cancels; an unchanged one
says `Edit cancelled, no changes made.`; text that does not parse, or that the server rejects,
re-opens the editor with the error as comments at the top. Giving up on an invalid edit keeps
a copy of it in a temp file and says where. The change goes out as a two-way strategic merge
patch with the resourceVersion as precondition, so a concurrent write is a Conflict, not lost.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from typing import Any

from api import requests as rq
from api.errors import ApiError
from kubectl.env import CommandError, Env
from kubectl.errors import causes_of
from kubectl.flags import FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {
    "edit": {
        "output": ("str", "yaml", "o", "Format to edit in: yaml or json."),
        "filename": ("list", [], "f"),
        "save-config": ("bool", False, ""),
        "validate": ("str", "strict", ""),
    }
}
HELP = {
    "edit": Help(
        summary="Change objects in a text editor",
        more="Opens the objects in $KUBE_EDITOR or $EDITOR (else vi) as YAML, or JSON with -o json, "
        "and sends the changes back when the editor exits. If the server refuses them, the file is "
        "reopened with the error at the top; leaving it unchanged gives up.",
        usage="(RESOURCE/NAME | -f FILENAME)",
        examples="""
        # A service, in the default editor
        kubectl edit svc/web

        # A deployment as JSON, in another editor
        KUBE_EDITOR=nano kubectl edit deployment/web -o json
        """,
    )
}

HEADER = (
    "# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
    "# and an empty file will abort the edit. If an error occurs while saving this file will be\n"
    "# reopened with the relevant failures.\n#\n"
)


def strip_comments(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#"))


def _editor() -> list[str]:
    ed = os.environ.get("KUBE_EDITOR") or os.environ.get("EDITOR") or "vi"
    return shlex.split(ed)


def _render(obj: dict[str, Any], fmt: str) -> str:
    from kubectl import output

    return output.to_json(obj) if fmt == "json" else output.to_yaml(obj)


def _parse(text: str, fmt: str) -> Any:
    if fmt == "json":
        from api import jsonutil

        return jsonutil.loads(text)
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def edit(env: Env, p: Parsed) -> int:
    from kubectl.targets import parse_targets as targets

    fmt = p["output"] if p["output"] in ("yaml", "json") else "yaml"
    pairs = [(r, n) for r, names in targets(env, p.args) for n in names]
    if not pairs:
        raise CommandError("error: edit needs a resource name (e.g. kubectl edit pod web)")
    failed = False
    for res, name in pairs:
        ns = env.namespace if res.namespaced else None
        if not edit_one(env, res, name, ns, fmt):
            failed = True
    return 1 if failed else 0


def edit_one(env: Env, res: Any, name: str, ns: str | None, fmt: str) -> bool:
    from kubectl.strategic import two_way_patch

    original = env.client.get(res, name, ns)
    original.setdefault("apiVersion", res.api_version)
    original.setdefault("kind", res.kind)
    body = _render(original, fmt)
    notes = ""
    kind = res.kind.lower()
    while True:
        fd, path = tempfile.mkstemp(prefix="kubectl-edit-", suffix=f".{fmt}")
        with os.fdopen(fd, "w") as f:
            f.write(HEADER + notes + body)
        try:
            subprocess.run([*_editor(), path], check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            os.unlink(path)
            raise CommandError(f"error: there was a problem with the editor {_editor()!r}: {e}") from e
        with open(path) as f:
            edited_text = f.read()
        content = strip_comments(edited_text)
        if not content.strip():
            os.unlink(path)
            print("Edit cancelled, no valid changes were saved.", file=env.err)
            return True
        if content == body:
            os.unlink(path)
            if notes:
                print(
                    f"error: Edit cancelled, no valid changes were saved.\nA copy of your changes has been "
                    f'stored to "{_keep(edited_text, fmt)}"',
                    file=env.err,
                )
                return False
            print("Edit cancelled, no changes made.", file=env.err)
            return True
        os.unlink(path)
        body = content
        try:
            edited = _parse(content, fmt)
        except Exception as e:  # YAML or JSON syntax: shown to the user in the file
            mark = getattr(e, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            problem = getattr(e, "problem", None) or str(e)
            notes = f"# The edited file had a syntax error: error converting YAML to JSON: yaml: {where}{problem}\n#\n"
            continue
        if not isinstance(edited, dict):
            notes = "# The edited file had a syntax error: expected a map\n#\n"
            continue
        patch = two_way_patch(original, edited)
        if not patch:
            print("Edit cancelled, no changes made.", file=env.err)
            return True
        patch.setdefault("metadata", {})["resourceVersion"] = (original.get("metadata") or {}).get(
            "resourceVersion"
        )
        try:
            env.client.patch(res, name, patch, rq.STRATEGIC_MERGE_PATCH, ns)
        except ApiError as e:
            if e.code in (400, 422):
                lines = causes_of(e) or [e.message]
                notes = (
                    f'# {res.plural} "{name}" was not valid:\n' + "".join(f"# * {c}\n" for c in lines) + "#\n"
                )
                continue
            raise
        env.out.write(f"{kind}/{name} edited\n")
        return True


def _keep(text: str, fmt: str) -> str:
    fd, path = tempfile.mkstemp(prefix="kubectl-edit-", suffix=f".{fmt}")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path
