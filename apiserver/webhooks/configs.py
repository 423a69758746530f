"""The webhook configurations, mirrored from the store and parsed once into `Hook`s.

Two watch-fed mirrors (`ParsedMirror`), one per kind; each keeps its webhooks in kube's calling
order (configurations sorted by name, then each configuration's own order). What a request could
match by its rules depends only on its shape (group, version, resource, subresource, operation,
and whether it names a namespace), so the candidates are memoized per shape and forgotten on any
change: a write costs one dict lookup, and nothing at all when no configuration exists.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from typing import Any

from api import jsonutil
from api.selectors import LabelSelector, selector_from_label_selector
from apiserver.mirror import ParsedMirror
from apiserver.storage.interface import Store
from apiserver.validation.admission import REVIEW_VERSIONS
from apiserver.webhooks import matching
from apiserver.webhooks.request import Shape

log = logging.getLogger(__name__)
Obj = dict[str, Any]
GROUP = "admissionregistration.k8s.io"
MUTATING_PREFIX = f"/registry/{GROUP}/mutatingwebhookconfigurations/"
VALIDATING_PREFIX = f"/registry/{GROUP}/validatingwebhookconfigurations/"


@dataclass(frozen=True)
class Hook:
    """One webhook of a stored (so defaulted and validated) configuration."""

    configuration: str
    name: str
    rules: tuple[Obj, ...]
    fail_closed: bool  # failurePolicy Fail
    namespace_selector: LabelSelector | None  # None: every namespace
    object_selector: LabelSelector | None  # None: every object
    timeout: float
    reinvoke: bool  # reinvocationPolicy IfNeeded
    url: str  # "" for a service
    service: tuple[str, str, str, int] | None  # namespace, name, path, port
    ca_bundle: bytes  # PEM; empty: the system roots
    conditions: tuple[tuple[str, str], ...]  # matchConditions: (name, CEL expression)
    review_version: str = "v1"  # the AdmissionReview version sent: the first of its list kube knows


def _selector(sel: Any) -> LabelSelector | None:
    parsed = selector_from_label_selector(sel if isinstance(sel, dict) else {})
    return None if parsed is None or parsed.empty() else parsed


def client_config(cc: Any) -> tuple[str, tuple[str, str, str, int] | None, bytes]:
    """(url, service (namespace, name, path, port), caBundle PEM) of a stored clientConfig: an
    admission webhook's or a CRD conversion webhook's (the same type in kube)."""
    cc = cc if isinstance(cc, dict) else {}
    svc = cc.get("service")
    bundle = cc.get("caBundle") or ""
    service = (
        (
            str(svc.get("namespace")),
            str(svc.get("name")),
            str(svc.get("path") or ""),
            int(svc.get("port") or 443),
        )
        if isinstance(svc, dict)
        else None
    )
    return str(cc.get("url") or ""), service, base64.b64decode(bundle) if bundle else b""


def parse_hook(configuration: str, hook: Obj) -> Hook:
    url, service, ca_bundle = client_config(hook.get("clientConfig"))
    return Hook(
        configuration=configuration,
        name=str(hook.get("name") or ""),
        rules=tuple(r for r in hook.get("rules") or [] if isinstance(r, dict)),
        fail_closed=hook.get("failurePolicy", "Fail") != "Ignore",
        namespace_selector=_selector(hook.get("namespaceSelector")),
        object_selector=_selector(hook.get("objectSelector")),
        timeout=float(hook.get("timeoutSeconds") or 10),
        reinvoke=hook.get("reinvocationPolicy") == "IfNeeded",
        url=url,
        service=service,
        ca_bundle=ca_bundle,
        conditions=conditions(hook.get("matchConditions")),
        review_version=next(
            (v for v in hook.get("admissionReviewVersions") or [] if v in REVIEW_VERSIONS), "v1"
        ),
    )


def conditions(items: Any) -> tuple[tuple[str, str], ...]:
    """matchConditions as (name, expression) pairs, in order."""
    return tuple(
        (str(c.get("name") or ""), str(c.get("expression") or "").strip())
        for c in items or []
        if isinstance(c, dict)
    )


def parse_configuration(value: bytes) -> tuple[Hook, ...]:
    obj = jsonutil.loads(value)
    name = str((obj.get("metadata") or {}).get("name") or "")
    try:
        return tuple(parse_hook(name, h) for h in obj.get("webhooks") or [] if isinstance(h, dict))
    except (
        TypeError,
        ValueError,
        AttributeError,
    ) as e:  # stored objects were validated; never let one break the mirror
        log.warning("webhook configuration %s not understood, skipped: %s", name, e)
        return ()


class Configurations(ParsedMirror[tuple[Hook, ...]]):
    """One kind's configurations: `ordered` holds every webhook in calling order."""

    def __init__(self, store: Store, prefix: str) -> None:
        super().__init__(store, prefix, parse_configuration)
        self.ordered: tuple[Hook, ...] = ()
        self._by_shape: dict[Shape, tuple[Hook, ...]] = {}

    def note(self, key: str, value: bytes | None) -> None:
        super().note(key, value)
        self.ordered = tuple(h for _, hooks in sorted(self.items.items()) for h in hooks)
        self._by_shape = {}

    def _clear(self) -> None:
        super()._clear()
        self.ordered = ()
        self._by_shape = {}

    def candidates(self, shape: Shape) -> tuple[Hook, ...]:
        """The webhooks (in order) whose rules match a request of this shape."""
        found = self._by_shape.get(shape)
        if found is None:
            found = self._by_shape[shape] = tuple(
                h for h in self.ordered if any(matching.rule_matches(r, *shape) for r in h.rules)
            )
        return found


class WebhookConfigs:
    """Both kinds, fed by their watches and by this server's own writes (`note`)."""

    def __init__(self, store: Store) -> None:
        self.mutating = Configurations(store, MUTATING_PREFIX)
        self.validating = Configurations(store, VALIDATING_PREFIX)

    def note(self, key: str, value: bytes | None) -> None:
        (self.mutating if key.startswith(MUTATING_PREFIX) else self.validating).note(key, value)

    async def start(self) -> None:
        await self.mutating.mirror.start()
        await self.validating.mirror.start()

    async def stop(self) -> None:
        await self.mutating.mirror.stop()
        await self.validating.mirror.stop()
