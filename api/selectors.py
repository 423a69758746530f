"""Label and field selectors: parsed once into pure predicates over wire dicts.

Grammar as in k8s.io/apimachinery `labels.Parse`: requirements joined by commas, each one of
`k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (does not exist).
Field selectors (`fields.ParseSelector`) allow `=`, `==`, `!=` on dotted paths; which paths a
resource supports is the server's concern (each kind's strategy row), the match is generic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.errors import ApiError, bad_request


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.op
        if op == "exists":
            return self.key in labels
        if op == "!":
            return self.key not in labels
        if op in ("=", "in"):
            return self.key in labels and labels[self.key] in self.values
        # "!=" and "notin" match when the key is absent, as Kubernetes does
        return labels.get(self.key) not in self.values if self.key in labels else True

    def __str__(self) -> str:
        if self.op == "exists":
            return self.key
        if self.op == "!":
            return "!" + self.key
        if self.op in ("in", "notin"):
            return f"{self.key} {self.op} ({','.join(self.values)})"
        return f"{self.key}{self.op}{self.values[0]}"


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        ls = labels or {}
        return all(r.matches(ls) for r in self.requirements)

    def empty(self) -> bool:
        return not self.requirements

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


_TOKEN = re.compile(r"\s*(\(|\)|,|!=|==|=|!|[^\s(),!=]+)")


def _tokens(s: str) -> list[str]:
    out, pos = [], 0
    s = s.strip()
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m:
            raise bad_request(f"unable to parse requirement: {s!r}")
        out.append(m.group(1))
        pos = m.end()
        while pos < len(s) and s[pos].isspace():
            pos += 1
    return out


def parse_label_selector(s: str | None) -> LabelSelector:
    """Parse a label selector string; raise a 400 ApiError on bad syntax."""
    if not s or not s.strip():
        return LabelSelector()
    toks = _tokens(s)
    reqs: list[Requirement] = []
    i = 0

    def err(msg: str) -> ApiError:
        return bad_request(f"unable to parse requirement: {msg} in {s!r}")

    while i < len(toks):
        t = toks[i]
        if t == "!":
            if i + 1 >= len(toks) or toks[i + 1] in "(),!=":
                raise err("expected a key after '!'")
            reqs.append(Requirement(toks[i + 1], "!"))
            i += 2
        else:
            key = t
            if key in ("(", ")", ",", "=", "==", "!="):
                raise err(f"unexpected {key!r}")
            i += 1
            if i >= len(toks) or toks[i] == ",":
                reqs.append(Requirement(key, "exists"))
            elif toks[i] in ("=", "==", "!="):
                op = "!=" if toks[i] == "!=" else "="
                i += 1
                val = ""
                if i < len(toks) and toks[i] not in (",", "(", ")"):
                    val = toks[i]
                    i += 1
                reqs.append(Requirement(key, op, (val,)))
            elif toks[i] in ("in", "notin"):
                op = toks[i]
                i += 1
                if i >= len(toks) or toks[i] != "(":
                    raise err(f"expected '(' after {op}")
                i += 1
                vals: list[str] = []
                while i < len(toks) and toks[i] != ")":
                    if toks[i] != ",":
                        vals.append(toks[i])
                    i += 1
                if i >= len(toks):
                    raise err("expected ')'")
                i += 1
                reqs.append(Requirement(key, op, tuple(vals)))
            else:
                raise err(f"unexpected {toks[i]!r}")
        if i < len(toks):
            if toks[i] != ",":
                raise err(f"expected ',' but got {toks[i]!r}")
            i += 1
    for r in reqs:
        _check_label_key(r.key, s)
    return LabelSelector(tuple(reqs))


_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def _check_label_key(key: str, s: str) -> None:
    if not _KEY.match(key):
        raise bad_request(f"unable to parse requirement: invalid label key {key!r} in {s!r}")


def selector_from_map(match_labels: Mapping[str, str] | None) -> LabelSelector:
    """An equality selector from a map, as RC `spec.selector` and Service `spec.selector` are."""
    return LabelSelector(tuple(Requirement(k, "=", (v,)) for k, v in sorted((match_labels or {}).items())))


_EXPR_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def selector_from_label_selector(sel: Mapping[str, Any] | None) -> LabelSelector | None:
    """A metav1.LabelSelector (`matchLabels` + `matchExpressions`, as apps/v1 and batch/v1 have).

    None for a missing selector (matches nothing, as LabelSelectorAsSelector's Nothing); `{}`
    matches everything. An unknown operator raises ValueError (validation refuses it earlier).
    """
    if sel is None:
        return None
    reqs = [Requirement(k, "=", (v,)) for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op = _EXPR_OPS.get(e.get("operator", ""))
        if op is None:
            raise ValueError(f"{e.get('operator')!r} is not a valid label selector operator")
        reqs.append(Requirement(e.get("key", ""), op, tuple(e.get("values") or ())))
    return LabelSelector(tuple(reqs))


def map_to_string(match_labels: Mapping[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((match_labels or {}).items()))


def label_selector_string(sel: Mapping[str, Any] | None) -> str:
    """metav1.LabelSelectorAsSelector(sel).String(): requirements sorted by key, `in`/`notin`
    values sorted (`app=web,tier in (a,b)`); "" for a missing or empty selector. What a Scale's
    status.selector and the workload tables' Selector column show. ValueError on a bad operator."""
    if not sel:
        return ""
    reqs = [Requirement(str(k), "=", (str(v),)) for k, v in (sel.get("matchLabels") or {}).items()]
    for e in sel.get("matchExpressions") or []:
        op = _EXPR_OPS.get(e.get("operator", ""))
        if op is None:
            raise ValueError(f"{e.get('operator')!r} is not a valid label selector operator")
        reqs.append(
            Requirement(str(e.get("key", "")), op, tuple(sorted(str(v) for v in e.get("values") or ())))
        )
    return ",".join(str(r) for r in sorted(reqs, key=lambda r: r.key))


def format_label_selector(sel: Any, empty: str = "<none>") -> str:
    """metav1.FormatLabelSelector, the printers' Selector cells: `<none>` for an empty selector,
    `<error>` for a bad one (with `empty=""`, a Deployment's cell, `<invalid>`)."""
    try:
        text = label_selector_string(sel if isinstance(sel, dict) else None)
    except (ValueError, AttributeError, TypeError):
        return "<error>" if empty == "<none>" else "<invalid>"
    return text or empty


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    op: str  # "=" or "!="
    value: str


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        for r in self.requirements:
            got = field_value(obj, r.path)
            if (got == r.value) != (r.op == "="):
                return False
        return True

    def empty(self) -> bool:
        return not self.requirements

    def paths(self) -> set[str]:
        return {r.path for r in self.requirements}

    def renamed(self, paths: Mapping[str, str]) -> FieldSelector:
        """The same terms on other paths (a label of one shape -> its field in another)."""
        return FieldSelector(
            tuple(FieldRequirement(paths.get(r.path, r.path), r.op, r.value) for r in self.requirements)
        )

    def value_of(self, path: str) -> str | None:
        """The value required by an `=` term on `path` (used to narrow a listing)."""
        for r in self.requirements:
            if r.path == path and r.op == "=":
                return r.value
        return None


def parse_field_selector(s: str | None) -> FieldSelector:
    if not s or not s.strip():
        return FieldSelector()
    reqs = []
    for part in s.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^([^=!]+)(==|=|!=)(.*)$", part)
        if not m:
            raise bad_request(f"invalid selector: '{s}'; can't understand '{part}'")
        op = "!=" if m.group(2) == "!=" else "="
        reqs.append(FieldRequirement(m.group(1).strip(), op, m.group(3).strip()))
    return FieldSelector(tuple(reqs))


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The string a field selector compares: missing fields read as ""."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return ""
        cur = cur.get(part)
        if cur is None:
            return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)
