"""Real install manifests applied with the real kubectl 1.33 and stored as sent.

The YAML under `manifests/` is taken from public projects' install files, trimmed to their
distinctive objects: metallb-native (a CRD with two deprecated versions, defaults and a conversion
webhook; a DaemonSet serving one port over TCP and UDP; validating webhooks), gatekeeper (webhook
configurations naming connection subresources and those kube admits as another kind: pods/binding,
pods/eviction, deployments/scale and the other */scale; a CRD restricting metadata.name, anti-affinity,
seccomp, a PodDisruptionBudget), the ZooKeeper tutorial (headless Service, PDB, StatefulSet with
volumeClaimTemplates), Reloader (resourceFieldRef divisors, seccomp) and Traefik's CRDs (int-or-string,
a 64-bit maximum, `required: [metadata, spec]`) with resources of them.

Each is applied server-side twice (a second apply is how these manifests are upgraded, and is
where a list keyed wrongly shows) and then read back: every field sent must be stored with the
value sent (what the server adds, defaults and status, is not compared; a CRD's status and a
`creationTimestamp: null` sent are the server's to set). gatekeeper goes last: its webhooks, which
no pod serves, would stand in the way of later writes.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from api.quantity_text import canonical_quantity
from tests.apiserver.conftest import Server
from tests.polling import wait_for

MANIFESTS = Path(__file__).parent / "manifests"


def manifest_text(name: str) -> str:
    """A manifest's text; the big ones are stored gzip-compressed (`.yaml.gz`)."""
    path = MANIFESTS / name
    return gzip.decompress(path.read_bytes()).decode() if name.endswith(".gz") else path.read_text()


def documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(manifest_text(name)) if d]


_QUANTITY_MAPS = (".requests", ".limits", ".overhead", ".capacity", ".hard")


def _same_quantity(path: str, sent: Any, stored: Any) -> bool:
    """A quantity comes back in kube's canonical text (`0.5` as `500m`, `1000m` as `1`)."""
    if not path.rpartition(".")[0].endswith(_QUANTITY_MAPS) or not isinstance(stored, str):
        return False
    try:
        return canonical_quantity(str(sent)) == stored
    except ValueError:
        return False


def differences(sent: Any, stored: Any, path: str = "") -> list[str]:
    """Where `stored` lacks a field of `sent` or holds another value (lists compared item by item;
    a quantity in its canonical text is the same value)."""
    if isinstance(sent, dict):
        if not isinstance(stored, dict):
            return [f"{path}: {json.dumps(stored)[:80]}"]
        out: list[str] = []
        for k, v in sent.items():
            if k not in stored:  # kube leaves out empty values and false omitempty booleans
                if v not in ({}, [], None) and v is not False:
                    out.append(f"{path}.{k}: missing")
            else:
                out += differences(v, stored[k], f"{path}.{k}")
        return out
    if isinstance(sent, list):
        if not isinstance(stored, list) or len(stored) != len(sent):
            return [f"{path}: {len(sent)} items sent, stored {json.dumps(stored)[:80]}"]
        return [
            d
            for i, (a, b) in enumerate(zip(sent, stored, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    if sent == stored or _same_quantity(path, sent, stored):
        return []
    return [f"{path}: sent {sent!r}, stored {stored!r}"]


def resource(doc: dict[str, Any]) -> str:
    group, _, version = doc["apiVersion"].rpartition("/")
    return f"{doc['kind']}.{version}.{group}" if group else doc["kind"]


def assert_stored_as_sent(srv: Server, name: str) -> None:
    for doc in documents(name):
        meta = doc["metadata"]
        where = ["-n", meta["namespace"]] if meta.get("namespace") else []
        got = srv.kubectl("get", resource(doc), meta["name"], "-o", "json", *where, check=True)
        sent = {
            k: v for k, v in doc.items() if not (doc["kind"] == "CustomResourceDefinition" and k == "status")
        }
        sent["metadata"] = {k: v for k, v in meta.items() if not (k == "creationTimestamp" and v is None)}
        assert differences(sent, json.loads(got.stdout)) == [], f"{doc['kind']}/{meta['name']}"


def apply_twice(srv: Server, name: str) -> None:
    for _ in range(2):
        r = srv.kubectl("apply", "--server-side", "-f", "-", input=manifest_text(name))
        assert r.returncode == 0, r.stderr
        assert r.stderr == "", r.stderr


@pytest.mark.parametrize("name", ["zookeeper.yaml", "reloader.yaml", "metallb.yaml"])
def test_applied_server_side_twice_and_stored_as_sent(srv: Server, name: str) -> None:
    apply_twice(srv, name)
    assert_stored_as_sent(srv, name)


def test_metallb_speaker_keeps_its_tcp_and_udp_ports(srv: Server) -> None:
    apply_twice(srv, "metallb.yaml")
    ds = json.loads(
        srv.kubectl("get", "ds", "speaker", "-n", "metallb-system", "-o", "json", check=True).stdout
    )
    ports = ds["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert [(p["name"], p["containerPort"], p["protocol"]) for p in ports] == [
        ("monitoring", 7472, "TCP"),
        ("memberlist-tcp", 7946, "TCP"),
        ("memberlist-udp", 7946, "UDP"),
    ]


def test_traefik_crds_and_their_resources(srv: Server, api: httpx.Client) -> None:
    apply_twice(srv, "traefik-crds.yaml")
    wait_for(
        lambda: api.get("/apis/traefik.io/v1alpha1/namespaces/default/ingressroutes").status_code == 200,
        timeout=10,
        what="ingressroutes served",
    )
    assert_stored_as_sent(srv, "traefik-crds.yaml")
    apply_twice(srv, "traefik-resources.yaml")
    assert_stored_as_sent(srv, "traefik-resources.yaml")
    # the schema holds: a port is an int or a string, nothing else
    bad = documents("traefik-resources.yaml")[1]
    bad["spec"]["routes"][0]["services"][0]["port"] = [80]
    r = srv.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(bad))
    assert r.returncode != 0
    assert "spec.routes[0].services[0].port" in r.stderr


def test_gatekeeper(srv: Server, api: httpx.Client) -> None:
    try:
        apply_twice(srv, "gatekeeper.yaml")
        assert_stored_as_sent(srv, "gatekeeper.yaml")
        wait_for(
            lambda: api.get("/apis/syncset.gatekeeper.sh/v1alpha1/syncsets").status_code == 200,
            timeout=10,
            what="syncsets served",
        )
        syncset = {
            "apiVersion": "syncset.gatekeeper.sh/v1alpha1",
            "kind": "SyncSet",
            "metadata": {"name": "s" * 64},
            "spec": {"gvks": [{"group": "", "version": "v1", "kind": "Namespace"}]},
        }
        r = srv.kubectl("apply", "-f", "-", input=json.dumps(syncset))
        assert "metadata.name: Too long: may not be more than 63 bytes" in r.stderr
        # the validating configuration unchanged but for its name, by a client-side apply too
        validating = next(
            d for d in documents("gatekeeper.yaml") if d["kind"] == "ValidatingWebhookConfiguration"
        )
        validating["metadata"]["name"] = "gatekeeper-client-side"
        r = srv.kubectl("apply", "-f", "-", input=json.dumps(validating))
        assert r.returncode == 0 and r.stderr == "", r.stderr
        rules = api.get(
            f"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/{validating['metadata']['name']}"
        ).json()["webhooks"][0]["rules"]
        assert {"pods/binding", "pods/eviction", "deployments/scale", "replicationcontrollers/scale"} <= set(
            rules[0]["resources"]
        )
    finally:
        adm = "/apis/admissionregistration.k8s.io/v1"
        api.delete(f"{adm}/validatingwebhookconfigurations/gatekeeper-client-side")
        api.delete(f"{adm}/validatingwebhookconfigurations/gatekeeper-validating-webhook-configuration")
        api.delete(f"{adm}/mutatingwebhookconfigurations/gatekeeper-mutating-webhook-configuration")
