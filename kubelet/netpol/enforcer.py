"""The NetworkPolicy loop of each agent: watch policies, pods and namespaces, program one nft table.

Built as the service proxy is (`kubelet.proxy.proxier`): informer handlers only mark the table
dirty; one loop recomputes the whole rule set from the caches (`rules.ruleset`) and replaces the
table in one atomic `nft -f` transaction, so a missed event is healed by the next rebuild and a
restart replaces the table rather than adding to it. Changes within `min_interval` are coalesced:
a pod scaled up gets its address into its peers' rules well within a second. When no pod of this
node is isolated the table is deleted (a node without policies has none). `stop()` removes it.

Every pod of the cluster is watched (peers are named by labels anywhere), as the policy agents of
the CNI plugins do; hollow nodes run none of this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from api.informer import InformerFactory
from kubelet.netpol.rules import TABLE, pod_addrs, ruleset

log = logging.getLogger(__name__)


def nft_apply(body: str) -> None:
    from runtime.network import nft

    if body:
        nft.apply_table("ip", TABLE, body)
    else:
        nft.delete_table("ip", TABLE)


class PolicyEnforcer:
    def __init__(
        self,
        informers: InformerFactory,
        node_name: str,
        dns_ip: str = "",
        apply: Callable[[str], None] = nft_apply,
        min_interval: float = 0.1,
    ) -> None:
        self.node_name = node_name
        self.dns_ip = dns_ip  # the kube-dns Service address, whose queries egress rules let pass
        self.policies = informers.informer("networkpolicies")
        self.pods = informers.informer("pods")
        self.namespaces = informers.informer("namespaces")
        self._apply = apply
        self._min_interval = min_interval
        self._dirty = asyncio.Event()
        self.applied_body: str | None = None  # None: nothing applied yet (a stale table may exist)
        self.applies = 0  # transactions sent
        self.rebuilds = 0  # rule sets computed (one that changes nothing sends none)
        self.pods.add_handlers(self._mark, self._pod_updated, self._mark)
        for inf in (self.policies, self.namespaces):
            inf.add_handlers(self._mark, lambda old, new: self._mark(new), self._mark)

    def _mark(self, _obj: Any = None) -> None:
        self._dirty.set()

    def _pod_updated(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Only what the rules read: most pod updates (conditions, container states) change none."""
        if (
            (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get("labels")
            or (old.get("status") or {}).get("podIP") != (new.get("status") or {}).get("podIP")
            or (old.get("status") or {}).get("phase") != (new.get("status") or {}).get("phase")
        ):
            self._dirty.set()

    def current_ruleset(self) -> str:
        labels = {
            str((ns.get("metadata") or {}).get("name")): (ns.get("metadata") or {}).get("labels") or {}
            for ns in self.namespaces.list()
        }
        return ruleset(self.policies.list(), pod_addrs(self.pods.list()), labels, self.node_name, self.dns_ip)

    async def run(self) -> None:
        await asyncio.gather(
            self.policies.synced.wait(), self.pods.synced.wait(), self.namespaces.synced.wait()
        )
        self._dirty.set()
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            body = self.current_ruleset()
            self.rebuilds += 1
            if body != self.applied_body:
                try:
                    await asyncio.to_thread(self._apply, body)
                    self.applied_body = body
                    self.applies += 1
                except Exception:
                    log.exception("programming the network policies failed; retrying")
                    self._dirty.set()
            await asyncio.sleep(self._min_interval)

    def stop(self) -> None:
        self._apply("")
