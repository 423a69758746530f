"""Strategic merge patch (`application/strategic-merge-patch+json`), driven by the schema table.

The merge itself is `api.strategic` (kubectl applies the same patches); this module only tells it
the merge keys the server knows from `apiserver.schema` (containers, env, volumes by `name`,
container ports by `containerPort`, `[string]@set` lists as sets ...), by wrapping a schema
`Spec` as an `api.strategic.MergeShape`. Fields the schema does not know (or `object` ones)
merge like a JSON merge patch. Works in place on a document the caller already copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api import strategic
from apiserver.patch.managed import child_spec
from apiserver.schema import Spec


@dataclass(frozen=True)
class SpecShape:
    """A schema node seen as an `api.strategic.MergeShape`."""

    spec: Spec

    def child(self, key: str) -> SpecShape | None:
        sub = child_spec(self.spec, key)
        return SpecShape(sub) if sub is not None else None

    def list_rule(self) -> tuple[str, bool]:
        if self.spec.form != "list":
            return "", False
        return self.spec.merge_key, self.spec.set_merge

    def item(self) -> SpecShape | None:
        return SpecShape(self.spec.elem) if self.spec.elem is not None else None


def strategic_merge(original: dict[str, Any], patch: Any, spec: Spec | None) -> dict[str, Any]:
    return strategic.strategic_merge(original, patch, SpecShape(spec) if spec is not None else None)
