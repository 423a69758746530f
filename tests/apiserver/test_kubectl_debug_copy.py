"""`kubectl debug POD --copy-to=NEW` with the real kubectl 1.32 and 1.33, which POST the copy as a
protobuf Pod carrying everything the API server defaulted and admitted into the original (the
service account's projected volume, probes, security contexts with zero values, resources,
tolerations, affinity, ...): the copy is made, and its spec is the original's but for the debug
container kubectl adds (it would clear nodeName too: the original, scheduling-gated on a server
without a scheduler, has none). kubectl 1.27-1.31 send the copy as JSON."""

from __future__ import annotations

import httpx
import pytest

from tests.apiserver.conftest import Server
from tests.kubectls import kubectl
from tests.rich_pod import creatable, prerequisites

PODS = "/api/v1/namespaces/default/pods"


@pytest.fixture(scope="module", autouse=True)
def _classes(api: httpx.Client) -> None:
    for obj in prerequisites():
        plural = obj["kind"].lower() + "es"  # priorityclasses, runtimeclasses
        r = api.post(f"/apis/{obj['apiVersion']}/{plural}", json=obj)
        assert r.status_code == 201, r.text


@pytest.mark.parametrize("version", ["1.32", "1.33"])
def test_debug_copy_to_makes_the_whole_pod(srv: Server, api: httpx.Client, version: str) -> None:
    name = f"rich-{version.replace('.', '-')}"
    r = api.post(PODS, json=creatable(name))
    assert r.status_code == 201, r.text
    original = r.json()
    token = [v for v in original["spec"]["volumes"] if v["name"].startswith("kube-api-access-")]
    assert len(token) == 1 and token[0]["projected"]["sources"][0]["serviceAccountToken"]["path"] == "token"
    debug = ["debug", name, "--image=busybox:1", f"--copy-to={name}-copy", "--container=dbg"]
    done = srv.kubectl("-n", "default", *debug, binary=kubectl(version))
    assert done.returncode == 0, done.stderr
    copied = api.get(f"{PODS}/{name}-copy").json()
    assert copied["metadata"]["annotations"] == original["metadata"]["annotations"]
    spec, want = copied["spec"], original["spec"]
    added = spec["containers"].pop()
    assert added["name"] == "dbg" and added["image"] == "busybox:1"
    assert added["volumeMounts"] == [
        m for m in want["containers"][0]["volumeMounts"] if m["name"] == token[0]["name"]
    ]
    assert spec == want
    # the zero values a Go pointer keeps came through
    app = spec["containers"][0]
    assert (
        app["securityContext"]["runAsUser"] == 0
        and app["securityContext"]["allowPrivilegeEscalation"] is False
    )
    assert spec["terminationGracePeriodSeconds"] == 0 and spec["securityContext"]["fsGroup"] == 0
    assert {"name": "scratch", "emptyDir": {}} in spec["volumes"]
