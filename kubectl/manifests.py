"""Reading `-f FILE|DIR|-` manifests: YAML (multi-document) and JSON, `List` kinds expanded.

Everything is parsed before anything is sent: a file that does not parse names itself and the
line (`error: error parsing bad.yaml: ... yaml: line 4: ...`) and the command sends nothing.
Directories take `*.yaml`, `*.yml`, `*.json` (recursively with `-R`), in name order, as kubectl.
"""

from __future__ import annotations

import datetime as _dt
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubectl.env import CommandError

EXTENSIONS = (".yaml", ".yml", ".json")


@dataclass
class Doc:
    obj: dict[str, Any]
    source: str  # file name as given, or "STDIN"


def _files(name: str, recursive: bool) -> list[tuple[str, str]]:
    """(source name, text) for a -f argument."""
    if name == "-":
        return [("STDIN", sys.stdin.read())]
    p = Path(name)
    if not p.exists():
        raise CommandError(f'error: the path "{name}" does not exist')
    if p.is_dir():
        found = sorted(p.rglob("*") if recursive else p.iterdir())
        return [(str(f), f.read_text()) for f in found if f.is_file() and f.suffix in EXTENSIONS]
    try:
        return [(name, p.read_text())]
    except OSError as e:
        raise CommandError(f"error: {e.strerror}: {name}") from e


def _stringify(v: Any) -> Any:
    """YAML 1.1 timestamps become the strings they were written as (the API wants strings)."""
    if isinstance(v, dict):
        return {str(k): _stringify(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_stringify(x) for x in v]
    if isinstance(v, _dt.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, _dt.date):
        return v.isoformat()
    return v


def parse_text(text: str, source: str) -> list[dict[str, Any]]:
    """The objects in one file's text; CommandError naming the file and line if it does not parse."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        from api import jsonutil

        try:
            doc = jsonutil.loads(text)
            return _expand([doc], source)
        except jsonutil.JSONDecodeError:
            pass  # YAML's flow style also starts so; let the YAML parser explain
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = [d for d in yaml.load_all(text, Loader=loader) if d is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise CommandError(
            f"error: error parsing {source}: error converting YAML to JSON: yaml: {where}{problem}"
        ) from e
    return _expand([_stringify(d) for d in docs], source)


def _expand(docs: list[Any], source: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for d in docs:
        if not isinstance(d, dict):
            raise CommandError(
                f'error: error validating "{source}": error validating data: '
                "invalid object: expected a map; if you choose to ignore these errors, "
                "turn validation off with --validate=false"
            )
        if str(d.get("kind", "")).endswith("List") and isinstance(d.get("items"), list):
            out += _expand(d["items"], source)
            continue
        if not d.get("kind"):
            raise CommandError(
                f'error: error validating "{source}": error validating data: kind not set; '
                "if you choose to ignore these errors, turn validation off with --validate=false"
            )
        if not d.get("apiVersion"):
            raise CommandError(
                f'error: error validating "{source}": error validating data: apiVersion not set; '
                "if you choose to ignore these errors, turn validation off with --validate=false"
            )
        out.append(d)
    return out


def load_paths(names: list[str], recursive: bool = False) -> list[Doc]:
    if not names:
        raise CommandError("error: must specify one of -f and -k")
    docs: list[Doc] = []
    for name in names:
        for source, text in _files(name, recursive):
            docs += [Doc(o, source) for o in parse_text(text, source)]
    if not docs:
        raise CommandError("error: no objects passed to apply")
    return docs


def resource_of(env: Any, doc: Doc) -> Any:
    """The API resource for a manifest's kind, or kubectl's `no matches for kind` error."""
    from api.resources import by_kind

    obj = doc.obj
    res = by_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
    if res is None:
        from api.errors import ApiError
        from kubectl import discovery

        try:
            res = discovery.by_kind(env, obj.get("apiVersion", ""), obj.get("kind", ""))
        except ApiError:
            res = None
    if res is None:
        name = (obj.get("metadata") or {}).get("name", "")
        ns = (obj.get("metadata") or {}).get("namespace", "")
        raise CommandError(
            f'error: resource mapping not found for name: "{name}" namespace: "{ns}" from '
            f'"{doc.source}": no matches for kind "{obj.get("kind")}" in version '
            f'"{obj.get("apiVersion")}"\nensure CRDs are installed first'
        )
    return res
