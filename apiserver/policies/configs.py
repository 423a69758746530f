"""The ValidatingAdmissionPolicies and their bindings, mirrored from the store and parsed once.

Two watch-fed mirrors (`ParsedMirror`), kept current by this server's own writes at once (the
rows' `wrote` hook) and by other servers' through the store's watch. A binding to a policy that
does not exist does nothing, and a policy without a binding is never evaluated (kube builds a
hook only for policies with bindings), so `pairs` holds each bound policy with its bindings, in
name order. What a request could match by the policies' resourceRules depends only on its shape,
so the candidates are memoized per shape and forgotten on any change: a write costs one dict
lookup, and nothing at all when no binding exists. Expressions stay text here; they are compiled
(once per text) when a request first meets them, so parsing a policy never loads cel-python.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from api import jsonutil
from api.selectors import LabelSelector, selector_from_label_selector
from apiserver.mirror import ParsedMirror
from apiserver.storage.interface import Store
from apiserver.webhooks import matching
from apiserver.webhooks.configs import conditions
from apiserver.webhooks.request import Shape

log = logging.getLogger(__name__)
Obj = dict[str, Any]
T = TypeVar("T")
GROUP = "admissionregistration.k8s.io"
POLICY_PREFIX = f"/registry/{GROUP}/validatingadmissionpolicies/"
BINDING_PREFIX = f"/registry/{GROUP}/validatingadmissionpolicybindings/"


@dataclass(frozen=True)
class Match:
    """A MatchResources: the policy's matchConstraints or a binding's matchResources."""

    rules: tuple[Obj, ...]  # NamedRuleWithOperations
    exclude: tuple[Obj, ...]
    namespace_selector: LabelSelector | None  # None: every namespace
    object_selector: LabelSelector | None  # None: every object


@dataclass(frozen=True)
class Validation:
    expression: str
    message: str
    message_expression: str
    reason: str  # "" for kube's default, Invalid


@dataclass(frozen=True)
class Policy:
    name: str
    fail_closed: bool  # failurePolicy Fail
    param_kind: tuple[str, str] | None  # (apiVersion, kind)
    match: Match
    conditions: tuple[tuple[str, str], ...]  # matchConditions: (name, expression)
    variables: tuple[tuple[str, str], ...]  # (name, expression), in order
    validations: tuple[Validation, ...]
    audit_annotations: tuple[tuple[str, str], ...]  # (key, valueExpression)


@dataclass(frozen=True)
class ParamRef:
    name: str  # "" with a selector
    namespace: str
    selector: LabelSelector | None  # with no name: None matches every object
    deny_missing: bool  # parameterNotFoundAction Deny


@dataclass(frozen=True)
class Binding:
    name: str
    policy: str
    param_ref: ParamRef | None
    match: Match | None
    actions: tuple[str, ...]  # Deny, Warn, Audit


def _selector(sel: Any) -> LabelSelector | None:
    parsed = selector_from_label_selector(sel if isinstance(sel, dict) else {})
    return None if parsed is None or parsed.empty() else parsed


def _rules(items: Any) -> tuple[Obj, ...]:
    return tuple(r for r in items or [] if isinstance(r, dict))


def parse_match(match: Obj) -> Match:
    return Match(
        rules=_rules(match.get("resourceRules")),
        exclude=_rules(match.get("excludeResourceRules")),
        namespace_selector=_selector(match.get("namespaceSelector")),
        object_selector=_selector(match.get("objectSelector")),
    )


def _pairs(items: Any, key: str, value: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(i.get(key) or ""), str(i.get(value) or "")) for i in items or [] if isinstance(i, dict))


def parse_policy(obj: Obj) -> Policy:
    spec = obj.get("spec") or {}
    kind = spec.get("paramKind")
    return Policy(
        name=str((obj.get("metadata") or {}).get("name") or ""),
        fail_closed=spec.get("failurePolicy", "Fail") != "Ignore",
        param_kind=(str(kind.get("apiVersion") or ""), str(kind.get("kind") or ""))
        if isinstance(kind, dict)
        else None,
        match=parse_match(spec.get("matchConstraints") or {}),
        conditions=conditions(spec.get("matchConditions")),
        variables=_pairs(spec.get("variables"), "name", "expression"),
        validations=tuple(
            Validation(
                str(v.get("expression") or ""),
                str(v.get("message") or ""),
                str(v.get("messageExpression") or ""),
                str(v.get("reason") or ""),
            )
            for v in spec.get("validations") or []
            if isinstance(v, dict)
        ),
        audit_annotations=_pairs(spec.get("auditAnnotations"), "key", "valueExpression"),
    )


def parse_binding(obj: Obj) -> Binding:
    spec = obj.get("spec") or {}
    ref, match = spec.get("paramRef"), spec.get("matchResources")
    return Binding(
        name=str((obj.get("metadata") or {}).get("name") or ""),
        policy=str(spec.get("policyName") or ""),
        param_ref=ParamRef(
            str(ref.get("name") or ""),
            str(ref.get("namespace") or ""),
            _selector(ref.get("selector")),
            ref.get("parameterNotFoundAction") == "Deny",
        )
        if isinstance(ref, dict)
        else None,
        match=parse_match(match) if isinstance(match, dict) else None,
        actions=tuple(str(a) for a in spec.get("validationActions") or []),
    )


def _parser(parse: Callable[[Obj], T], what: str) -> Callable[[bytes], T | None]:
    def parsed(value: bytes) -> T | None:
        try:
            return parse(jsonutil.loads(value))
        except (TypeError, ValueError, AttributeError) as e:  # stored objects were validated
            log.warning("%s not understood, skipped: %s", what, e)
            return None

    return parsed


class _Mirror(ParsedMirror[T | None]):
    """A ParsedMirror that says when it changed."""

    def __init__(
        self, store: Store, prefix: str, parse: Callable[[bytes], T | None], changed: Callable[[], None]
    ):
        super().__init__(store, prefix, parse)
        self.changed = changed

    def note(self, key: str, value: bytes | None) -> None:
        super().note(key, value)
        self.changed()

    def _clear(self) -> None:
        super()._clear()
        self.changed()


class PolicyConfigs:
    """Both kinds, fed by their watches and by this server's own writes (`note`)."""

    def __init__(self, store: Store) -> None:
        self.policies = _Mirror(store, POLICY_PREFIX, _parser(parse_policy, "policy"), self._changed)
        self.bindings = _Mirror(store, BINDING_PREFIX, _parser(parse_binding, "binding"), self._changed)
        self.pairs: tuple[tuple[Policy, tuple[Binding, ...]], ...] = ()
        self._by_shape: dict[Shape, tuple[tuple[Policy, tuple[Binding, ...]], ...]] = {}

    def _changed(self) -> None:
        by_policy: dict[str, list[Binding]] = {}
        for _, binding in sorted(self.bindings.items.items()):
            if binding is not None:
                by_policy.setdefault(binding.policy, []).append(binding)
        self.pairs = tuple(
            (policy, tuple(by_policy[name]))
            for name, policy in sorted(self.policies.items.items())
            if policy is not None and name in by_policy
        )
        self._by_shape = {}

    def note(self, key: str, value: bytes | None) -> None:
        (self.policies if key.startswith(POLICY_PREFIX) else self.bindings).note(key, value)

    def policy(self, name: str) -> Policy | None:
        return self.policies.items.get(name)

    def candidates(self, shape: Shape) -> tuple[tuple[Policy, tuple[Binding, ...]], ...]:
        """The bound policies (in order) whose resourceRules match a request of this shape."""
        found = self._by_shape.get(shape)
        if found is None:
            found = self._by_shape[shape] = tuple(
                (p, b) for p, b in self.pairs if any(matching.rule_matches(r, *shape) for r in p.match.rules)
            )
        return found

    async def start(self) -> None:
        await self.policies.mirror.start()
        await self.bindings.mirror.start()

    async def stop(self) -> None:
        await self.policies.mirror.stop()
        await self.bindings.mirror.stop()
