"""ObjectMeta's maps and lists are `omitempty` in kube: a write that empties one (the real
kubectl removing the last annotation or label) leaves no `{}` or `[]` behind, and a create that
sends one empty stores none."""

from __future__ import annotations

import httpx

from tests.apiserver.conftest import Server


def test_emptied_meta_is_dropped(server: Server, http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    body = {"metadata": {"name": "em", "labels": {}, "finalizers": [], "annotations": {"a": "1"}}}
    r = http.post(base, json=body)
    assert r.status_code == 201, r.text
    assert "labels" not in r.json()["metadata"] and "finalizers" not in r.json()["metadata"]
    server.kubectl("-n", ns, "annotate", "cm", "em", "a-", check=True)
    server.kubectl("-n", ns, "label", "cm", "em", "x=y", check=True)
    server.kubectl("-n", ns, "label", "cm", "em", "x-", check=True)
    meta = http.get(f"{base}/em").json()["metadata"]
    assert "annotations" not in meta and "labels" not in meta, meta
