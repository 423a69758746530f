"""Every namespace gets a `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap.

kube-controller-manager's serviceaccount controller and root-ca-cert-publisher, in one loop:
for each active namespace (not Terminating) the `default` ServiceAccount exists, and, when
the manager knows the cluster CA, a ConfigMap `kube-root-ca.crt` holds it under `ca.crt`
(projected service-account volumes mount it). Something deleted is made again; a ConfigMap
whose CA differs is corrected. Handlers only enqueue the namespace; `sync` re-reads the caches.
"""

from __future__ import annotations

import logging

from api.errors import ApiError
from api.informer import DeletedFinalStateUnknown, Informer, deleted_object
from controller.base import ApiClient, Obj, QueueController, meta

log = logging.getLogger(__name__)

DEFAULT_SA = "default"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"


def missing(namespace: Obj, accounts: Informer, configmaps: Informer, root_ca: str) -> list[tuple[str, Obj]]:
    """(resource, object) pairs to create in this namespace: a pure decision over the caches."""
    m = meta(namespace)
    name = str(m.get("name") or "")
    if (
        not name
        or m.get("deletionTimestamp")
        or (namespace.get("status") or {}).get("phase") == "Terminating"
    ):
        return []
    out: list[tuple[str, Obj]] = []
    if accounts.get(f"{name}/{DEFAULT_SA}") is None:
        out.append(
            (
                "serviceaccounts",
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": DEFAULT_SA, "namespace": name},
                },
            )
        )
    if root_ca:
        cm = configmaps.get(f"{name}/{ROOT_CA_CONFIGMAP}")
        if cm is None or (cm.get("data") or {}).get("ca.crt") != root_ca:
            out.append(
                (
                    "configmaps",
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {
                            "name": ROOT_CA_CONFIGMAP,
                            "namespace": name,
                            "annotations": {
                                "kubernetes.io/description": (
                                    "Contains a CA bundle that can be used to verify the "
                                    "kube-apiserver when using internal endpoints such as "
                                    "the internal service IP or kubernetes.default.svc. No "
                                    "other usage is guaranteed across distributions of "
                                    "Kubernetes clusters."
                                )
                            },
                        },
                        "data": {"ca.crt": root_ca},
                    },
                )
            )
    return out


class ServiceAccountsController(QueueController):
    name = "serviceaccount"

    def __init__(
        self,
        client: ApiClient,
        namespaces: Informer,
        accounts: Informer,
        configmaps: Informer,
        root_ca: str = "",
        workers: int = 2,
    ) -> None:
        super().__init__(workers)
        self.client = client
        self.namespaces, self.accounts, self.configmaps = namespaces, accounts, configmaps
        self.root_ca = root_ca
        namespaces.add_handlers(self.enqueue, lambda old, new: self.enqueue(new))
        accounts.add_handlers(on_delete=self._owned_gone)
        configmaps.add_handlers(
            on_update=lambda old, new: self._owned_changed(new), on_delete=self._owned_gone
        )

    def _owned_gone(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self._owned_changed(deleted_object(obj))

    def _owned_changed(self, obj: Obj) -> None:
        if meta(obj).get("name") in (DEFAULT_SA, ROOT_CA_CONFIGMAP) and meta(obj).get("namespace"):
            self.queue.add(str(meta(obj)["namespace"]))

    async def run(self, *informers: Informer) -> None:
        await super().run(self.namespaces, self.accounts, self.configmaps, *informers)

    async def sync(self, key: str) -> None:
        namespace = self.namespaces.get(key)
        if namespace is None:
            return
        for resource, obj in missing(namespace, self.accounts, self.configmaps, self.root_ca):
            try:
                await self.client.create(resource, obj, key)
            except ApiError as e:
                if e.code == 409 and resource == "configmaps":  # exists with another CA: correct it
                    current = await self.client.get(resource, ROOT_CA_CONFIGMAP, key)
                    await self.client.update(resource, {**current, "data": obj["data"]}, key)
                elif e.code not in (403, 404, 409):  # 403: the namespace began terminating meanwhile
                    raise
