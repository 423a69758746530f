"""API Priority and Fairness through a real server of the module's own, with a small concurrency
limit (--max-requests-inflight 2: a level of 1 share gets 1 seat): FlowSchema and
PriorityLevelConfiguration CRUD, 422s and the real kubectl's tables, the bootstrap objects, the
Dangling condition, the PF headers naming the schema an admin, a ServiceAccount and a node are
classified by, the Python client's list and watch, and a real overload: a ServiceAccount routed to a
level of one seat, one queue of one, whose create holds the seat while its client sends the body
slowly; its next request waits, the one after gets kube's 429, the admin is unaffected; a watch
holds the seat only while it starts."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.apiserver.conftest import Server, start_server, table_rows
from tests.polling import wait_for

FC = "/apis/flowcontrol.apiserver.k8s.io/v1"
FS_HEADER = "x-kubernetes-pf-flowschema-uid"
PL_HEADER = "x-kubernetes-pf-prioritylevel-uid"
DUMP = "/debug/api_priority_and_fairness/dump_priority_levels"


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(
        Path(tmp_path_factory.mktemp("apf")),
        "--max-requests-inflight",
        "2",
        "--max-mutating-requests-inflight",
        "0",
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def api(own: Server) -> Iterator[httpx.Client]:
    with own.client() as c:
        yield c


def _uid(api: httpx.Client, plural: str, name: str) -> str:
    r = api.get(f"{FC}/{plural}/{name}")
    assert r.status_code == 200, r.text
    return str(r.json()["metadata"]["uid"])


def _level(name: str, shares: int, queues: int = 1, hand: int = 1, length: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
        "kind": "PriorityLevelConfiguration",
        "metadata": {"name": name},
        "spec": {
            "type": "Limited",
            "limited": {
                "nominalConcurrencyShares": shares,
                "borrowingLimitPercent": 0,  # its seats stay its nominal ones: never borrows
                "limitResponse": {
                    "type": "Queue",
                    "queuing": {"queues": queues, "handSize": hand, "queueLengthLimit": length},
                },
            },
        },
    }


def _schema(name: str, level: str, subjects: list[dict[str, Any]], precedence: int = 500) -> dict[str, Any]:
    return {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
        "kind": "FlowSchema",
        "metadata": {"name": name},
        "spec": {
            "priorityLevelConfiguration": {"name": level},
            "matchingPrecedence": precedence,
            "distinguisherMethod": {"type": "ByUser"},
            "rules": [
                {
                    "subjects": subjects,
                    "resourceRules": [
                        {
                            "verbs": ["*"],
                            "apiGroups": ["*"],
                            "resources": ["*"],
                            "namespaces": ["*"],
                            "clusterScope": True,
                        }
                    ],
                }
            ],
        },
    }


def _sa_token(api: httpx.Client, ns: str, name: str) -> str:
    assert api.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).status_code in (201, 409)
    api.post(f"/api/v1/namespaces/{ns}/serviceaccounts", json={"metadata": {"name": name}})
    role = {"metadata": {"name": "rw"}, "rules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["*"]}]}
    api.post(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles", json=role)
    binding = {
        "metadata": {"name": f"rw-{name}"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "rw"},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}],
    }
    api.post(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings", json=binding)
    r = api.post(f"/api/v1/namespaces/{ns}/serviceaccounts/{name}/token", json={"spec": {}})
    assert r.status_code == 201, r.text
    return str(r.json()["status"]["token"])


def test_bootstrap_objects_and_kubectl_tables(own: Server, api: httpx.Client) -> None:
    schemas = {i["metadata"]["name"]: i for i in api.get(f"{FC}/flowschemas").json()["items"]}
    assert {
        "exempt",
        "catch-all",
        "probes",
        "system-nodes",
        "system-node-high",
        "service-accounts",
        "global-default",
        "kube-controller-manager",
        "endpoint-controller",
    } <= set(schemas)
    assert schemas["exempt"]["metadata"]["annotations"] == {"apf.kubernetes.io/autoupdate-spec": "true"}
    levels = {i["metadata"]["name"]: i for i in api.get(f"{FC}/prioritylevelconfigurations").json()["items"]}
    assert {
        "exempt",
        "catch-all",
        "system",
        "node-high",
        "leader-election",
        "workload-high",
        "workload-low",
        "global-default",
    } == set(levels)
    assert levels["catch-all"]["spec"]["limited"]["limitResponse"] == {"type": "Reject"}
    out = own.kubectl("get", "flowschemas,prioritylevelconfigurations", check=True).stdout
    rows = table_rows(out)
    assert rows[0] == [
        "NAME",
        "PRIORITYLEVEL",
        "MATCHINGPRECEDENCE",
        "DISTINGUISHERMETHOD",
        "AGE",
        "MISSINGPL",
    ]
    exempt = next(r for r in rows if r[0] == "flowschema.flowcontrol.apiserver.k8s.io/exempt")
    assert exempt[1:4] == ["exempt", "1", "<none>"]
    wait_for(lambda: "False" in own.kubectl("get", "flowschema", "exempt").stdout, what="MissingPL False")
    header = next(r for r in rows if r[0] == "NAME" and r[1] == "TYPE")
    assert header == [
        "NAME",
        "TYPE",
        "NOMINALCONCURRENCYSHARES",
        "QUEUES",
        "HANDSIZE",
        "QUEUELENGTHLIMIT",
        "AGE",
    ]
    low = next(r for r in rows if r[0].endswith("/workload-low"))
    assert low[1:6] == ["Limited", "100", "128", "6", "50"]


def test_crud_defaults_validation_and_dangling(api: httpx.Client) -> None:
    r = api.post(
        f"{FC}/prioritylevelconfigurations",
        json={
            "metadata": {"name": "plain"},
            "spec": {"type": "Limited", "limited": {"limitResponse": {"type": "Queue", "queuing": {}}}},
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["limited"] == {
        "nominalConcurrencyShares": 30,
        "lendablePercent": 0,
        "limitResponse": {"type": "Queue", "queuing": {"queues": 64, "handSize": 8, "queueLengthLimit": 50}},
    }
    bad = _level("bad", -1, queues=4, hand=8)
    r = api.post(f"{FC}/prioritylevelconfigurations", json=bad)
    assert r.status_code == 422, r.text
    fields = {c["field"] for c in r.json()["details"]["causes"]}
    assert fields == {"spec.limited.nominalConcurrencyShares", "spec.limited.limitResponse.queuing.handSize"}
    r = api.post(
        f"{FC}/prioritylevelconfigurations",
        json={"metadata": {"name": "exempt2"}, "spec": {"type": "Exempt"}},
    )
    assert r.status_code == 422 and "if and only if name is 'exempt'" in r.text
    nobody = [{"kind": "User", "user": {"name": "nobody"}}]
    wrong = _schema("wrong", "plain", [{"kind": "Robot"}], precedence=1)
    r = api.post(f"{FC}/flowschemas", json=wrong)
    assert r.status_code == 422
    assert {c["field"] for c in r.json()["details"]["causes"]} == {
        "spec.matchingPrecedence",
        "spec.rules[0].subjects[0].kind",
    }
    r = api.post(f"{FC}/flowschemas", json=_schema("lost", "no-such-level", nobody))
    assert r.status_code == 201 and r.json()["metadata"]["generation"] == 1

    def dangling() -> dict[str, Any] | None:
        conds = api.get(f"{FC}/flowschemas/lost").json().get("status", {}).get("conditions") or []
        return next((c for c in conds if c["type"] == "Dangling"), None)

    cond = wait_for(dangling, what="the Dangling condition")
    assert (cond["status"], cond["reason"]) == ("True", "NotFound")
    assert '"no-such-level" but there is no such object' in cond["message"]
    level = _level("no-such-level", 5)
    assert api.post(f"{FC}/prioritylevelconfigurations", json=level).status_code == 201
    wait_for(lambda: (dangling() or {}).get("status") == "False", what="Dangling False once the level exists")
    for plural, name in (
        ("flowschemas", "lost"),
        ("prioritylevelconfigurations", "no-such-level"),
        ("prioritylevelconfigurations", "plain"),
    ):
        assert api.delete(f"{FC}/{plural}/{name}").status_code == 200


def test_headers_name_the_schema_and_level(own: Server, api: httpx.Client) -> None:
    r = api.get("/api/v1/namespaces")
    assert (r.headers[FS_HEADER], r.headers[PL_HEADER]) == (
        _uid(api, "flowschemas", "exempt"),
        _uid(api, "prioritylevelconfigurations", "exempt"),
    )
    token = _sa_token(api, "hdr", "app")
    with own.client(token=token) as sa:
        r = sa.get("/api/v1/namespaces/hdr/configmaps")
        assert r.status_code == 200, r.text
        assert r.headers[FS_HEADER] == _uid(api, "flowschemas", "service-accounts")
        assert r.headers[PL_HEADER] == _uid(api, "prioritylevelconfigurations", "workload-low")
        assert sa.get("/api/v1/namespaces/hdr/secrets/none").headers[FS_HEADER] == _uid(
            api, "flowschemas", "service-accounts"
        )
    node_token = (own.data_dir / "node-token").read_text().strip()
    with own.client(token=node_token) as node:
        node.headers["X-Kubelite-Node-Name"] = "n1"
        r = node.post("/api/v1/nodes", json={"metadata": {"name": "n1"}})
        assert r.status_code == 201, r.text
        assert r.headers[FS_HEADER] == _uid(api, "flowschemas", "system-node-high")
        r = node.get("/api/v1/pods")
        assert r.headers[FS_HEADER] == _uid(api, "flowschemas", "system-nodes")
        assert r.headers[PL_HEADER] == _uid(api, "prioritylevelconfigurations", "system")


def test_python_client_lists_and_watches(own: Server, api: httpx.Client) -> None:
    from kubernetes import client, config, watch

    with config.new_client_from_config(str(own.kubeconfig)) as c:
        fc: Any = client.FlowcontrolApiserverV1Api(c)
        names = [s.metadata.name for s in fc.list_flow_schema().items]
        assert "exempt" in names and "catch-all" in names
        levels = fc.list_priority_level_configuration()
        assert {pl.metadata.name for pl in levels.items} >= {"exempt", "workload-low"}
        rv = levels.metadata.resource_version
        assert api.post(f"{FC}/prioritylevelconfigurations", json=_level("watched", 3)).status_code == 201
        w = watch.Watch()
        for ev in w.stream(fc.list_priority_level_configuration, resource_version=rv, timeout_seconds=10):
            if ev["object"].metadata.name == "watched":
                assert ev["type"] == "ADDED" and ev["object"].spec.limited.nominal_concurrency_shares == 3
                w.stop()
        assert api.delete(f"{FC}/prioritylevelconfigurations/watched").status_code == 200


def _level_row(api: httpx.Client, name: str) -> list[str]:
    for line in api.get(DUMP).text.splitlines():
        cells = [c.strip() for c in line.split(",")]
        if cells[0] == name:
            return cells
    return []


def test_overload_queues_then_rejects_while_the_admin_goes_on(own: Server, api: httpx.Client) -> None:
    token = _sa_token(api, "busy", "bot")
    assert api.post(f"{FC}/prioritylevelconfigurations", json=_level("tiny", 1)).status_code == 201
    subjects = [{"kind": "ServiceAccount", "serviceAccount": {"namespace": "busy", "name": "bot"}}]
    assert api.post(f"{FC}/flowschemas", json=_schema("tiny", "tiny", subjects)).status_code == 201
    assert (
        api.post("/api/v1/namespaces/busy/configmaps", json={"metadata": {"name": "one"}}).status_code == 201
    )
    ctx = ssl.create_default_context(cafile=str(own.ca_file))
    holder = ctx.wrap_socket(socket.create_connection(("127.0.0.1", own.port)), server_hostname="127.0.0.1")
    body = b'{"metadata": {"name": "slow"}}'
    holder.sendall(  # a create whose body comes slowly holds its seat while the server reads it
        b"POST /api/v1/namespaces/busy/configmaps HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body[:5]
    )
    try:
        wait_for(lambda: _level_row(api, "tiny")[5:6] == ["1"], what="the slow create executing in tiny")
        waited: list[httpx.Response] = []
        with own.client(token=token) as sa:
            queued = threading.Thread(
                target=lambda: waited.append(sa.get("/api/v1/namespaces/busy/configmaps/one"))
            )
            queued.start()
            wait_for(lambda: _level_row(api, "tiny")[4:5] == ["1"], what="a request waiting in tiny's queue")
            with own.client(token=token) as sa2:
                r = sa2.get("/api/v1/namespaces/busy/services")
            assert r.status_code == 429, r.text
            assert r.headers["retry-after"] == "1"
            assert r.json()["reason"] == "TooManyRequests"
            assert r.json()["message"] == "Too many requests, please try again later."
            assert r.json()["details"] == {"retryAfterSeconds": 1}
            assert r.headers[FS_HEADER] == _uid(api, "flowschemas", "tiny")
            assert api.get("/api/v1/namespaces/busy/configmaps/one").status_code == 200  # the admin: exempt
            assert not waited
            holder.sendall(body[5:])  # the create completes: its seat goes to the waiting request
            assert holder.recv(4096).startswith(b"HTTP/1.1 201")
            queued.join(30)
            assert waited and waited[0].status_code == 200, waited
            assert waited[0].headers[PL_HEADER] == _uid(api, "prioritylevelconfigurations", "tiny")
            assert _level_row(api, "tiny")[7] == "1"  # rejected once
            # a watch holds its seat only while it starts: the level's one seat is free again after it
            with sa.stream("GET", "/api/v1/namespaces/busy/configmaps?watch=true&timeoutSeconds=20") as w:
                assert w.status_code == 200
                first = next(w.iter_lines())
                assert '"name":"one"' in first.replace(" ", "")
                assert sa.get("/api/v1/namespaces/busy/configmaps/slow").status_code == 200
    finally:
        holder.close()
