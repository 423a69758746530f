"""CustomResourceDefinitions against a real `kubelite server`: the CRD's own validation and status,
its resources served once Established (schema validation with kube's messages, defaults, pruning,
strict field validation, status and scale subresources, printer columns, discovery), and the
cleanup of its objects when the CRD is deleted. Clients: httpx, the real kubectl, and the official
Python client (CustomObjectsApi, ApiextensionsV1Api)."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from tests.apiserver.conftest import KUBECTL_127, Server
from tests.polling import wait_for

GROUP = "stable.example.com"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"

CRONTAB: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"crontabs.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {
            "plural": "crontabs",
            "singular": "crontab",
            "kind": "CronTab",
            "shortNames": ["ct"],
            "categories": ["all"],
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "description": "CronTab runs a command now and then.",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["cronSpec"],
                                "properties": {
                                    "cronSpec": {
                                        "type": "string",
                                        "pattern": r"^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$",
                                        "description": "The schedule, in cron format.",
                                    },
                                    "image": {"type": "string", "maxLength": 20},
                                    "replicas": {
                                        "type": "integer",
                                        "minimum": 0,
                                        "maximum": 10,
                                        "default": 1,
                                    },
                                    "size": {"type": "string", "enum": ["S", "M", "L"]},
                                    "selector": {"type": "string"},
                                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {
                                    "replicas": {"type": "integer"},
                                    "phase": {"type": "string"},
                                },
                            },
                        },
                    }
                },
                "selectableFields": [{"jsonPath": ".spec.size"}],
                "subresources": {
                    "status": {},
                    "scale": {
                        "specReplicasPath": ".spec.replicas",
                        "statusReplicasPath": ".status.replicas",
                        "labelSelectorPath": ".spec.selector",
                    },
                },
                "additionalPrinterColumns": [
                    {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
                    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                    {"name": "Image", "type": "string", "jsonPath": ".spec.image", "priority": 1},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
            }
        ],
    },
}


def crontab(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "CronTab",
        "metadata": {"name": name},
        "spec": {"cronSpec": "* * * * */5", "image": "my-cron", **spec},
    }


def established(http: httpx.Client, name: str) -> dict[str, Any] | None:
    crd = http.get(f"{CRDS}/{name}").json()
    conds = {c["type"]: c["status"] for c in (crd.get("status") or {}).get("conditions") or []}
    return crd if conds.get("Established") == "True" and conds.get("NamesAccepted") == "True" else None


def served(http: httpx.Client, path: str) -> bool:
    return http.get(path).status_code == 200


@pytest.fixture(scope="module")
def crontabs(http: httpx.Client) -> Any:
    r = http.post(CRDS, json=CRONTAB)
    assert r.status_code == 201, r.text
    wait_for(lambda: established(http, CRONTAB["metadata"]["name"]), timeout=10, what="CRD established")
    wait_for(lambda: served(http, f"/apis/{GROUP}/v1/crontabs"), timeout=10, what="crontabs served")
    yield CRONTAB["metadata"]["name"]


def base(ns: str) -> str:
    return f"/apis/{GROUP}/v1/namespaces/{ns}/crontabs"


# --- the CRD itself -------------------------------------------------------------------------------


def test_crd_status_names_and_defaults(http: httpx.Client, crontabs: str) -> None:
    crd = http.get(f"{CRDS}/{crontabs}").json()
    assert crd["status"]["acceptedNames"]["kind"] == "CronTab"
    assert crd["status"]["acceptedNames"]["listKind"] == "CronTabList"
    assert crd["status"]["storedVersions"] == ["v1"]
    conds = {c["type"]: c for c in crd["status"]["conditions"]}
    assert conds["NamesAccepted"]["reason"] == "NoConflicts"
    assert conds["Established"]["reason"] == "InitialNamesAccepted"
    assert crd["spec"]["conversion"] == {"strategy": "None"}
    assert crd["metadata"]["generation"] == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda c: c["metadata"].update(name="wrong.stable.example.com"),
            "metadata.name",
            'must be spec.names.plural+"."+spec.group',
        ),
        (
            lambda c: (c["spec"].update(group="example"), c["metadata"].update(name="crontabs.example")),
            "spec.group",
            "should be a domain with at least one dot",
        ),
        (
            lambda c: c["spec"]["versions"][0].update(storage=False),
            "spec.versions",
            "must have exactly one version marked as storage version",
        ),
        (lambda c: c["spec"].update(scope="Global"), "spec.scope", 'Unsupported value: "Global"'),
        (
            lambda c: c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"].pop("type"),
            "spec.validation.openAPIV3Schema.properties[spec].type",
            "Required value: must not be empty for specified object fields",
        ),
        (
            lambda c: c["spec"]["versions"][0].pop("schema"),
            "spec.versions[0].schema.openAPIV3Schema",
            "Required value: schemas are required",
        ),
    ],
)
def test_bad_crds_are_refused(http: httpx.Client, change: Any, field: str, message: str) -> None:
    crd = copy.deepcopy(CRONTAB)
    crd["metadata"]["name"] = "widgets.stable.example.com"
    crd["spec"]["names"] = {"plural": "widgets", "kind": "Widget"}
    change(crd)
    r = http.post(CRDS, json=crd)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["message"].startswith("CustomResourceDefinition.apiextensions.k8s.io ")
    assert any(c["field"] == field and message in c["message"] for c in body["details"]["causes"]), body
    assert http.get(f"{CRDS}/{crd['metadata']['name']}").status_code == 404


def test_unknown_schema_keywords_are_unknown_fields(http: httpx.Client, server: Server) -> None:
    crd = copy.deepcopy(CRONTAB)
    crd["metadata"]["name"] = "typos.stable.example.com"
    crd["spec"]["names"] = {"plural": "typos", "kind": "Typo"}
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["maxProps"] = 3
    r = http.post(CRDS + "?fieldValidation=Strict", json=crd)
    assert r.status_code == 400, r.text
    assert r.json()["message"].endswith(
        "strict decoding error: unknown field "
        '"spec.versions[0].schema.openAPIV3Schema.properties.spec.maxProps"'
    )
    proc = server.kubectl("create", "-f", "-", input=json.dumps(crd))  # kubectl validates with Strict
    assert proc.returncode != 0 and "maxProps" in proc.stderr
    r = http.post(CRDS, json=crd)  # Warn: dropped, with a warning
    assert r.status_code == 201 and r.headers.get("warning")
    assert (
        "maxProps" not in r.json()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    )
    assert http.delete(f"{CRDS}/typos.stable.example.com").status_code == 200


# --- its resources ------------------------------------------------------------------------------------


def test_bad_object_is_422_naming_the_field_and_nothing_is_stored(
    http: httpx.Client, crontabs: str, ns: str
) -> None:
    r = http.post(base(ns), json=crontab("bad", replicas="three"))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "spec.replicas"
    assert body["message"] == (
        'CronTab.stable.example.com "bad" is invalid: spec.replicas: Invalid value: '
        '"string": spec.replicas in body must be of type integer: "string"'
    )
    assert http.get(f"{base(ns)}/bad").status_code == 404
    r = http.post(base(ns), json=crontab("bad2", replicas=11, size="XL", image="x" * 21, cronSpec="nope"))
    assert r.status_code == 422
    causes = {c["field"]: c["message"] for c in r.json()["details"]["causes"]}
    assert (
        causes["spec.replicas"]
        == "Invalid value: 11: spec.replicas in body should be less than or equal to 10"
    )
    assert causes["spec.size"] == 'Unsupported value: "XL": supported values: "S", "M", "L"'
    assert causes["spec.image"] == "Too long: may not be more than 20 bytes"
    assert causes["spec.cronSpec"].startswith('Invalid value: "nope": spec.cronSpec in body should match ')
    r = http.post(
        base(ns),
        json={"apiVersion": f"{GROUP}/v1", "kind": "CronTab", "metadata": {"name": "b3"}, "spec": {}},
    )
    assert r.status_code == 422
    assert r.json()["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.cronSpec"}
    ]
    assert http.get(base(ns)).json()["items"] == []


def test_metadata_name_restricted_by_the_schema(http: httpx.Client) -> None:
    # gatekeeper's syncsets.syncset.gatekeeper.sh (deploy/gatekeeper.yaml), trimmed
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "syncsets.syncset.gatekeeper.sh"},
        "spec": {
            "group": "syncset.gatekeeper.sh",
            "names": {
                "kind": "SyncSet",
                "listKind": "SyncSetList",
                "plural": "syncsets",
                "singular": "syncset",
            },
            "preserveUnknownFields": False,
            "scope": "Cluster",
            "versions": [
                {
                    "name": "v1alpha1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "metadata": {
                                    "type": "object",
                                    "properties": {"name": {"type": "string", "maxLength": 63}},
                                },
                                "spec": {
                                    "type": "object",
                                    "properties": {"gvks": {"type": "array", "items": {"type": "object"}}},
                                },
                            },
                        }
                    },
                }
            ],
        },
    }
    r = http.post(CRDS, json=crd)
    assert r.status_code == 201, r.text
    path = "/apis/syncset.gatekeeper.sh/v1alpha1/syncsets"
    try:
        wait_for(lambda: served(http, path), timeout=10, what="syncsets served")
        obj = {"apiVersion": "syncset.gatekeeper.sh/v1alpha1", "kind": "SyncSet", "spec": {"gvks": []}}
        r = http.post(path, json={**obj, "metadata": {"name": "s" * 64}})
        assert r.status_code == 422, r.text
        assert r.json()["details"]["causes"] == [
            {
                "reason": "FieldValueTooLong",
                "message": "Too long: may not be more than 63 bytes",
                "field": "metadata.name",
            }
        ]
        assert http.post(path, json={**obj, "metadata": {"name": "s" * 63}}).status_code == 201
    finally:
        http.delete(f"{CRDS}/{crd['metadata']['name']}")


def test_defaults_and_pruning(http: httpx.Client, crontabs: str, ns: str) -> None:
    body = crontab("web", bogus=1, extra={"anything": {"goes": True}})
    body["topLevel"] = "x"
    r = http.post(base(ns), json=body)
    assert r.status_code == 201, r.text
    obj = r.json()
    assert obj["spec"]["replicas"] == 1  # the schema's default
    assert "bogus" not in obj["spec"] and "topLevel" not in obj  # pruned
    assert obj["spec"]["extra"] == {"anything": {"goes": True}}  # x-kubernetes-preserve-unknown-fields
    assert obj["metadata"]["generation"] == 1
    assert r.headers.get_list("warning")  # Warn (the default) says what it dropped
    stored = http.get(f"{base(ns)}/web").json()
    assert stored["spec"] == obj["spec"]


def test_strict_field_validation_is_400(http: httpx.Client, crontabs: str, ns: str) -> None:
    r = http.post(base(ns) + "?fieldValidation=Strict", json=crontab("strict", bogus=1))
    assert r.status_code == 400, r.text
    assert 'strict decoding error: unknown field "spec.bogus"' in r.json()["message"]
    assert http.get(f"{base(ns)}/strict").status_code == 404
    assert http.post(base(ns), json=crontab("strict")).status_code == 201
    r = http.patch(
        f"{base(ns)}/strict?fieldValidation=Strict",
        json={"spec": {"bogus": 1}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 400 and 'unknown field "spec.bogus"' in r.json()["message"]


def test_status_subresource_and_generation(http: httpx.Client, crontabs: str, ns: str) -> None:
    body = crontab("st")
    body["status"] = {"phase": "ignored on create"}
    obj = http.post(base(ns), json=body).json()
    assert "status" not in obj
    obj["status"] = {"phase": "Running", "replicas": 1}
    r = http.put(f"{base(ns)}/st/status", json=obj)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == {"phase": "Running", "replicas": 1}
    assert r.json()["metadata"]["generation"] == 1
    bad = http.patch(
        f"{base(ns)}/st/status",
        json={"status": {"replicas": "two"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert bad.status_code == 422 and bad.json()["details"]["causes"][0]["field"] == "status.replicas"
    r = http.patch(
        f"{base(ns)}/st",
        json={"spec": {"image": "v2"}, "status": {"phase": "main write ignored"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"]["phase"] == "Running"
    assert r.json()["metadata"]["generation"] == 2
    smp = http.patch(
        f"{base(ns)}/st",
        json={"spec": {"image": "v3"}},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert smp.status_code == 415 and smp.json()["reason"] == "UnsupportedMediaType"


def test_scale_subresource(http: httpx.Client, server: Server, crontabs: str, ns: str) -> None:
    http.post(base(ns), json=crontab("sc", replicas=2, selector="app=sc"))
    scale = http.get(f"{base(ns)}/sc/scale").json()
    assert (
        scale["kind"] == "Scale"
        and scale["spec"]["replicas"] == 2
        and scale["status"]["selector"] == "app=sc"
    )
    r = server.kubectl("-n", ns, "scale", "crontab/sc", "--replicas=4")
    assert r.returncode == 0, r.stderr
    assert "scaled" in r.stdout
    assert http.get(f"{base(ns)}/sc").json()["spec"]["replicas"] == 4
    r = server.kubectl("-n", ns, "scale", "crontab/sc", "--replicas=40")
    assert r.returncode != 0 and "spec.replicas" in r.stderr


def test_kubectl_get_printer_columns_and_short_name(
    http: httpx.Client, server: Server, crontabs: str, ns: str
) -> None:
    http.post(base(ns), json=crontab("pc", replicas=3))
    out = server.kubectl("-n", ns, "get", "ct", check=True).stdout.splitlines()
    assert out[0].split() == ["NAME", "SPEC", "REPLICAS", "AGE"]
    assert out[1].split()[:7] == ["pc", "*", "*", "*", "*", "*/5", "3"]
    wide = server.kubectl("-n", ns, "get", "crontabs", "-o", "wide", check=True).stdout.splitlines()
    assert wide[0].split() == ["NAME", "SPEC", "REPLICAS", "IMAGE", "AGE"]  # declared order
    assert wide[1].split()[-2] == "my-cron"
    got = json.loads(
        server.kubectl("-n", ns, "get", "crontab.stable.example.com/pc", "-o", "json", check=True).stdout
    )
    assert got["spec"]["replicas"] == 3
    http.post(base(ns), json=crontab("small", size="S"))
    picked = server.kubectl(
        "-n", ns, "get", "ct", "--field-selector", "spec.size=S", "-o", "name", check=True
    )
    assert picked.stdout.split() == ["crontab.stable.example.com/small"]
    bad = server.kubectl("-n", ns, "get", "ct", "--field-selector", "spec.image=x")
    assert bad.returncode != 0 and "field label not supported: spec.image" in bad.stderr
    server.kubectl(
        "-n", ns, "label", "ct", "pc", "tier=web", check=True
    )  # kubectl patches custom kinds by merge
    assert server.kubectl(
        "-n", ns, "get", "ct", "-l", "tier=web", "-o", "name", check=True
    ).stdout.split() == ["crontab.stable.example.com/pc"]
    described = server.kubectl("-n", ns, "describe", "ct", "pc", check=True).stdout
    assert "Kind:         CronTab" in described and "Cron Spec:" in described
    everything = server.kubectl("-n", ns, "get", "all", "-o", "name", check=True).stdout.split()
    assert "crontab.stable.example.com/pc" in everything  # categories: ["all"]


def test_discovery_and_api_resources(http: httpx.Client, server: Server, crontabs: str) -> None:
    groups = http.get("/apis").json()
    assert any(g["name"] == GROUP for g in groups["groups"])
    rl = http.get(f"/apis/{GROUP}/v1").json()
    names = {r["name"]: r for r in rl["resources"]}
    assert names["crontabs"]["shortNames"] == ["ct"] and names["crontabs"]["kind"] == "CronTab"
    assert {"crontabs/status", "crontabs/scale"} <= set(names)
    r = server.kubectl("api-resources", "--api-group", GROUP, check=True)
    assert "crontabs" in r.stdout and "ct" in r.stdout and "CronTab" in r.stdout
    crd_line = [
        line
        for line in server.kubectl("api-resources", check=True).stdout.splitlines()
        if line.startswith("customresourcedefinitions")
    ]
    assert crd_line and "crd,crds" in crd_line[0]
    got = server.kubectl("get", "crd", check=True).stdout.splitlines()
    assert got[0].split() == ["NAME", "CREATED", "AT"]
    assert any(line.startswith(crontabs + " ") and line.split()[1].endswith("Z") for line in got[1:])


def test_kubectl_explain_reads_the_schema(server: Server, crontabs: str) -> None:
    r = server.kubectl("explain", "crontabs.spec", check=True)
    assert "cronSpec" in r.stdout and "The schedule, in cron format." in r.stdout
    r = server.kubectl("explain", "ct", check=True)
    assert "CronTab runs a command now and then." in r.stdout


def test_kubectl_apply_127_and_133(server: Server, crontabs: str, ns: str) -> None:
    manifest = json.dumps(crontab("applied", replicas=2))
    for binary in (KUBECTL_127, "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"):
        r = server.kubectl("-n", ns, "apply", "-f", "-", input=manifest, binary=binary)
        assert r.returncode == 0, (binary, r.stderr)
    r = server.kubectl("-n", ns, "get", "crontabs", "applied", binary=KUBECTL_127, check=True)
    assert "applied" in r.stdout
    r = server.kubectl(
        "-n", ns, "apply", "--server-side", "-f", "-", input=json.dumps(crontab("ssa", replicas=3))
    )
    assert r.returncode == 0, r.stderr
    r = server.kubectl(
        "-n", ns, "apply", "--server-side", "-f", "-", input=json.dumps(crontab("ssa", replicas=4))
    )
    assert r.returncode == 0, r.stderr
    r = server.kubectl("-n", ns, "get", "ct", "ssa", "-o", "jsonpath={.spec.replicas}", check=True)
    assert r.stdout == "4"
    bad = json.dumps(crontab("applied-bad", replicas="x"))
    r = server.kubectl("-n", ns, "apply", "-f", "-", input=bad)
    assert r.returncode != 0 and "spec.replicas" in r.stderr


def test_python_client(server: Server, crontabs: str, ns: str) -> None:
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes import client, config

    api_client = config.new_client_from_config(str(server.kubeconfig))
    ext = client.ApiextensionsV1Api(api_client)
    crd = ext.read_custom_resource_definition(crontabs)
    assert crd.status.accepted_names.kind == "CronTab"
    assert crontabs in [c.metadata.name for c in ext.list_custom_resource_definition().items]
    made = copy.deepcopy(CRONTAB)
    made["metadata"]["name"] = f"pythons.{GROUP}"
    made["spec"]["names"] = {"plural": "pythons", "kind": "Python"}
    created_crd = ext.create_custom_resource_definition(made)  # type: ignore[arg-type]  # the client takes a dict too
    assert created_crd.spec.names.list_kind == "PythonList"
    wait_for(
        lambda: ext.read_custom_resource_definition(f"pythons.{GROUP}").status.conditions,
        timeout=10,
        what="conditions",
    )
    ext.delete_custom_resource_definition(f"pythons.{GROUP}")
    objs = client.CustomObjectsApi(api_client)
    created = objs.create_namespaced_custom_object(GROUP, "v1", ns, "crontabs", crontab("py"))
    assert created["spec"]["replicas"] == 1
    with pytest.raises(kubernetes.client.exceptions.ApiException) as e:
        objs.create_namespaced_custom_object(GROUP, "v1", ns, "crontabs", crontab("py2", replicas="x"))
    assert e.value.status == 422
    listed = objs.list_namespaced_custom_object(GROUP, "v1", ns, "crontabs")
    assert [o["metadata"]["name"] for o in listed["items"]] == ["py"]
    objs.patch_namespaced_custom_object_scale(GROUP, "v1", ns, "crontabs", "py", {"spec": {"replicas": 5}})
    assert objs.get_namespaced_custom_object(GROUP, "v1", ns, "crontabs", "py")["spec"]["replicas"] == 5


def test_deleting_the_crd_removes_its_objects_and_stops_serving(http: httpx.Client) -> None:
    crd = copy.deepcopy(CRONTAB)
    crd["metadata"]["name"] = f"gadgets.{GROUP}"
    crd["spec"]["names"] = {"plural": "gadgets", "kind": "Gadget", "shortNames": ["gd"]}
    crd["spec"]["scope"] = "Cluster"
    assert http.post(CRDS, json=crd).status_code == 201
    gadgets = f"/apis/{GROUP}/v1/gadgets"
    wait_for(lambda: served(http, gadgets), timeout=10, what="gadgets served")
    for i in range(3):
        g = crontab(f"g{i}")
        g["kind"] = "Gadget"
        if i == 0:  # held by a finalizer of its own: the CRD stays Terminating until it is released
            g["metadata"]["finalizers"] = ["example.com/hold"]
        assert http.post(gadgets, json=g).status_code == 201
    r = http.delete(f"{CRDS}/gadgets.{GROUP}")
    assert r.status_code == 200
    assert r.json()["metadata"]["finalizers"] == ["customresourcecleanup.apiextensions.k8s.io"]
    wait_for(
        lambda: [i["metadata"]["name"] for i in http.get(gadgets).json()["items"]] == ["g0"],
        timeout=10,
        what="the free instances deleted",
    )
    held = http.get(f"{gadgets}/g0").json()
    assert held["metadata"]["deletionTimestamp"]
    terminating = http.get(f"{CRDS}/gadgets.{GROUP}").json()
    assert {c["type"]: c["status"] for c in terminating["status"]["conditions"]}["Terminating"] == "True"
    g = crontab("late")
    g["kind"] = "Gadget"
    refused = http.post(gadgets, json=g)
    assert refused.status_code == 405, refused.text
    assert refused.json()["message"] == "create not allowed while custom resource definition is terminating"
    http.patch(
        f"{gadgets}/g0",
        json={"metadata": {"finalizers": None}},
        headers={"Content-Type": "application/merge-patch+json"},
    ).raise_for_status()
    wait_for(lambda: http.get(f"{CRDS}/gadgets.{GROUP}").status_code == 404, timeout=15, what="CRD gone")
    wait_for(lambda: http.get(gadgets).status_code == 404, timeout=10, what="not served")
    rl = http.get(f"/apis/{GROUP}/v1").json()
    assert "gadgets" not in {r["name"] for r in rl.get("resources", [])}
    # recreated, it starts empty: the old objects were deleted from the store
    assert http.post(CRDS, json=crd).status_code == 201
    wait_for(lambda: served(http, gadgets), timeout=10, what="gadgets served again")
    assert http.get(gadgets).json()["items"] == []
    http.delete(f"{CRDS}/gadgets.{GROUP}")
    wait_for(lambda: http.get(f"{CRDS}/gadgets.{GROUP}").status_code == 404, timeout=15, what="CRD gone")


def test_scale_at_the_crds_own_paths_and_watch(http: httpx.Client, server: Server, ns: str) -> None:
    crd = copy.deepcopy(CRONTAB)
    crd["metadata"]["name"] = f"pools.{GROUP}"
    crd["spec"]["names"] = {"plural": "pools", "kind": "Pool"}
    version = crd["spec"]["versions"][0]
    props = version["schema"]["openAPIV3Schema"]["properties"]
    props["spec"] = {
        "type": "object",
        "properties": {"size": {"type": "integer", "maximum": 9}, "match": {"type": "string"}},
    }
    props["status"] = {"type": "object", "properties": {"ready": {"type": "integer"}}}
    version["subresources"] = {
        "status": {},
        "scale": {
            "specReplicasPath": ".spec.size",
            "statusReplicasPath": ".status.ready",
            "labelSelectorPath": ".spec.match",
        },
    }
    version.pop("additionalPrinterColumns")
    assert http.post(CRDS, json=crd).status_code == 201
    pools = f"/apis/{GROUP}/v1/namespaces/{ns}/pools"
    try:
        wait_for(lambda: served(http, pools), timeout=10, what="pools served")
        rv = http.get(pools).json()["metadata"]["resourceVersion"]
        with http.stream("GET", f"{pools}?watch=true&resourceVersion={rv}&timeoutSeconds=10") as stream:
            made = http.post(
                pools,
                json={
                    "apiVersion": f"{GROUP}/v1",
                    "kind": "Pool",
                    "metadata": {"name": "p"},
                    "spec": {"size": 1, "match": "app=p"},
                },
            )
            assert made.status_code == 201, made.text
            ev = json.loads(next(stream.iter_lines()))
            assert ev["type"] == "ADDED" and ev["object"]["metadata"]["name"] == "p"
        http.patch(
            f"{pools}/p/status",
            json={"status": {"ready": 1}},
            headers={"Content-Type": "application/merge-patch+json"},
        ).raise_for_status()
        scale = http.get(f"{pools}/p/scale").json()
        assert (scale["spec"]["replicas"], scale["status"]["replicas"], scale["status"]["selector"]) == (
            1,
            1,
            "app=p",
        )
        r = server.kubectl("-n", ns, "scale", "pool/p", "--replicas=3")
        assert r.returncode == 0, r.stderr
        assert http.get(f"{pools}/p").json()["spec"] == {"size": 3, "match": "app=p"}
        out = server.kubectl("-n", ns, "get", "pools", check=True).stdout.splitlines()
        assert out[0].split() == ["NAME", "AGE"]  # no printer columns: kube's default Age
    finally:
        http.delete(f"{CRDS}/pools.{GROUP}")


def test_kubectl_applies_changes_and_deletes_a_crd(http: httpx.Client, server: Server, ns: str) -> None:
    crd = copy.deepcopy(CRONTAB)
    crd["metadata"]["name"] = f"sprockets.{GROUP}"
    crd["spec"]["names"] = {"plural": "sprockets", "kind": "Sprocket", "shortNames": ["spr"]}
    version = crd["spec"]["versions"][0]
    version["additionalPrinterColumns"] = []
    r = server.kubectl("apply", "-f", "-", input=json.dumps(crd), binary=KUBECTL_127)
    assert r.returncode == 0, r.stderr
    coll = f"/apis/{GROUP}/v1/namespaces/{ns}/sprockets"
    wait_for(lambda: served(http, coll), timeout=10, what="sprockets served")
    assert http.post(coll, json=dict(crontab("s1"), kind="Sprocket")).status_code == 201
    out = server.kubectl("-n", ns, "get", "spr", check=True).stdout.splitlines()
    assert out[0].split() == ["NAME", "AGE"]
    # a changed schema and columns are served as soon as the CRD is updated
    version["additionalPrinterColumns"] = [{"name": "Image", "type": "string", "jsonPath": ".spec.image"}]
    version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["image"]["maxLength"] = 3
    r = server.kubectl("apply", "-f", "-", input=json.dumps(crd))
    assert r.returncode == 0, r.stderr
    assert "configured" in r.stdout
    assert http.get(f"{CRDS}/sprockets.{GROUP}").json()["metadata"]["generation"] == 2

    def columns() -> list[str]:
        return [
            c["name"]
            for c in http.get(
                coll, headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
            ).json()["columnDefinitions"]
        ]

    wait_for(lambda: columns() == ["Name", "Image"], timeout=10, what="new columns")
    resp = http.post(coll, json=dict(crontab("s2"), kind="Sprocket"))
    assert (
        resp.status_code == 422
        and resp.json()["details"]["causes"][0]["message"] == "Too long: may not be more than 3 bytes"
    )
    deleted = server.kubectl("delete", "crd", f"sprockets.{GROUP}", timeout=60)
    assert deleted.returncode == 0, deleted.stderr
    assert http.get(f"{CRDS}/sprockets.{GROUP}").status_code == 404
    wait_for(lambda: http.get(coll).status_code == 404, timeout=10, what="sprockets not served")


def test_two_served_versions_read_in_the_version_asked_for(
    http: httpx.Client, server: Server, ns: str
) -> None:
    crd = copy.deepcopy(CRONTAB)
    crd["metadata"]["name"] = f"widgets.{GROUP}"
    crd["spec"]["names"] = {"plural": "widgets", "kind": "Widget"}
    v1 = crd["spec"]["versions"][0]
    v1.pop("subresources")
    v1beta1 = copy.deepcopy(v1)
    v1beta1.update(name="v1beta1", storage=False)
    v1beta1["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["replicas"]["maximum"] = 100
    crd["spec"]["versions"] = [v1beta1, v1]
    assert http.post(CRDS, json=crd).status_code == 201
    beta, ga = (f"/apis/{GROUP}/{v}/namespaces/{ns}/widgets" for v in ("v1beta1", "v1"))
    try:
        wait_for(lambda: served(http, beta) and served(http, ga), timeout=10, what="both versions served")
        group = next(g for g in http.get("/apis").json()["groups"] if g["name"] == GROUP)
        assert group["preferredVersion"]["version"] == "v1"
        assert {v["version"] for v in group["versions"]} == {"v1", "v1beta1"}
        made = http.post(
            beta, json=dict(crontab("w", replicas=50), apiVersion=f"{GROUP}/v1beta1", kind="Widget")
        )
        assert made.status_code == 201, made.text  # v1beta1's own schema allows 50
        assert made.json()["apiVersion"] == f"{GROUP}/v1beta1"
        assert http.get(f"{ga}/w").json()["apiVersion"] == f"{GROUP}/v1"
        assert [i["apiVersion"] for i in http.get(ga).json()["items"]] == [f"{GROUP}/v1"]
        patched = http.patch(
            f"{ga}/w",
            json={"spec": {"replicas": 2}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["apiVersion"] == f"{GROUP}/v1"
        assert http.get(f"{beta}/w").json()["apiVersion"] == f"{GROUP}/v1beta1"
        too_many = http.post(ga, json=dict(crontab("w2", replicas=50), kind="Widget"))
        assert too_many.status_code == 422  # v1's schema: at most 10
        with http.stream("GET", f"{beta}?watch=true&timeoutSeconds=2") as stream:
            ev = json.loads(next(stream.iter_lines()))
            assert ev["object"]["apiVersion"] == f"{GROUP}/v1beta1"
        out = server.kubectl(
            "-n", ns, "get", "widgets.v1beta1.stable.example.com", "w", "-o", "json", check=True
        )
        assert json.loads(out.stdout)["apiVersion"] == f"{GROUP}/v1beta1"
    finally:
        http.delete(f"{CRDS}/widgets.{GROUP}")


def test_validation_rules_are_enforced_or_the_crd_refused(http: httpx.Client, ns: str) -> None:
    """x-kubernetes-validations: a rule at the spec node (422 in kube's words, nothing stored), a
    transition rule on update only, and a CRD whose rule calls a Kubernetes CEL library refused."""
    crd = copy.deepcopy(CRONTAB)
    crd["metadata"]["name"] = f"limits.{GROUP}"
    crd["spec"]["names"] = {"plural": "limits", "kind": "Limit"}
    spec_schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec_schema["properties"]["minReplicas"] = {"type": "integer"}
    spec_schema["x-kubernetes-validations"] = [
        {
            "rule": "!has(self.minReplicas) || self.minReplicas <= self.replicas",
            "message": "minReplicas exceeds replicas",
        },
        {"rule": "self.image == oldSelf.image", "message": "image is immutable"},
    ]
    unsupported = copy.deepcopy(crd)
    unsupported["metadata"]["name"] = f"urls.{GROUP}"
    unsupported["spec"]["names"] = {"plural": "urls", "kind": "Url"}
    unsupported["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
        "x-kubernetes-validations"
    ] = [{"rule": "self.image.reverse() == 'x'"}]
    r = http.post(CRDS, json=unsupported)
    assert r.status_code == 422, r.text
    cause = r.json()["details"]["causes"][0]
    assert cause["field"] == (
        "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule"
    )
    assert "undeclared reference to 'reverse'" in cause["message"]
    assert http.get(f"{CRDS}/urls.{GROUP}").status_code == 404
    assert http.post(CRDS, json=crd).status_code == 201
    limits = f"/apis/{GROUP}/v1/namespaces/{ns}/limits"
    wait_for(lambda: served(http, limits), timeout=10, what="limits served")

    def limit(name: str, **spec: Any) -> dict[str, Any]:
        body = crontab(name, **spec)
        body["kind"] = "Limit"
        return body

    r = http.post(limits, json=limit("l1", replicas=2, minReplicas=3))
    assert r.status_code == 422, r.text
    assert r.json()["message"] == (
        f'Limit.{GROUP} "l1" is invalid: spec: Invalid value: "object": minReplicas exceeds replicas'
    )
    assert http.get(f"{limits}/l1").status_code == 404
    assert http.post(limits, json=limit("l1", replicas=3, minReplicas=3)).status_code == 201
    # the transition rule: the image may not change, other fields may
    r = http.patch(
        f"{limits}/l1",
        json={"spec": {"image": "other"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": 'Invalid value: "object": image is immutable',
            "field": "spec",
        }
    ]
    r = http.patch(
        f"{limits}/l1",
        json={"spec": {"replicas": 5}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    http.delete(f"{CRDS}/limits.{GROUP}")
    wait_for(lambda: http.get(f"{CRDS}/limits.{GROUP}").status_code == 404, timeout=15, what="CRD gone")
