"""Rows of the resources answered by code on each request and never stored: `componentstatuses`
(the control plane's health, `apiserver.componentstatuses`) and metrics.k8s.io's NodeMetrics and
PodMetrics (from the kubelets, `apiserver.metricsapi`). The handlers are imported on their first
request: no other request pays for them."""

from __future__ import annotations

from typing import Any

from apiserver.kinds import row


async def _component_statuses(state: Any, req: Any, send: Any, route: Any) -> None:
    from apiserver import componentstatuses

    await componentstatuses.handle(state, req, send, route)


async def _metrics(state: Any, req: Any, send: Any, route: Any) -> None:
    from apiserver import metricsapi

    await metricsapi.handle(state, req, send, route)


row("componentstatuses", serve=_component_statuses)
row("nodes", "metrics.k8s.io", serve=_metrics)
row("pods", "metrics.k8s.io", serve=_metrics)
