"""The conversion webhook of a CRD with `spec.conversion.strategy: Webhook`, called: the async
shell around the pure review and checks of `apiserver.crd.conversion`.

One `WebhookConverter` per such served CRD is published in `apiserver.crd.hooks.WEBHOOK`, where the
request path finds it (`logic.webhook_converter`): the objects of its custom resources are read
through it in the version asked for (a get or a watch event one object, a list all of its objects
in one review) and written through it in the storage version. Objects already in the version
wanted are not sent; when none is left there is no call. The call goes through the admission
webhooks' client (`apiserver.webhooks.transport`: kept-alive HTTPS, `url` or a Service's ready
endpoint, the caBundle) with kube's fixed 30 s timeout; what fails is a `ConversionFailed`.
"""

from __future__ import annotations

import logging

from api import jsonutil
from apiserver import lifecycle
from apiserver.crd import conversion
from apiserver.crd.conversion import ConversionFailed
from apiserver.crd.model import CustomKind, WebhookConversion
from apiserver.storage.interface import Store
from apiserver.webhooks import transport
from apiserver.webhooks.review import CallError

log = logging.getLogger(__name__)


class WebhookConverter:
    """Converts the stored bytes of one CRD's custom resources by calling its webhook."""

    def __init__(self, store: Store, kind: CustomKind, webhook: WebhookConversion) -> None:
        self.store = store
        self.name = kind.name
        self.webhook = webhook
        self.storage = f"{kind.group}/{kind.storage_version}"  # the apiVersion objects are stored in

    async def convert(self, api_version: str, values: list[bytes], listed: bool = False) -> list[bytes]:
        """`values` (objects as JSON) in `api_version`, in their order: those already in it as they
        are, the others as the webhook converted them, in one review. `listed`: they are a list's."""
        objects = [jsonutil.loads(v) for v in values]
        todo = conversion.to_send(objects, api_version)
        if not todo:
            return values
        sent = [objects[i] for i in todo]
        uid = lifecycle.new_uid()
        version = self.webhook.review_version
        body = conversion.review_body(version, uid, api_version, sent)
        try:
            status, answer = await transport.send(self.store, self.webhook, body)
            if not 200 <= status < 300:
                raise CallError(conversion.status_error(status))
        except CallError as e:
            source = conversion.gvk(str(sent[0].get("apiVersion") or ""), str(sent[0].get("kind") or ""))
            log.warning("conversion webhook of %s failed: %s", self.name, e)
            raise ConversionFailed(f"conversion webhook for {source} failed: {e}") from None
        converted = conversion.converted_objects(answer, version, uid, sent, api_version, listed)
        out = list(values)
        for i, obj in zip(todo, converted, strict=True):
            out[i] = jsonutil.dumps(obj)
        return out
