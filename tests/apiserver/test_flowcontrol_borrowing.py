"""Seats borrowed between priority levels through a real server (--max-requests-inflight 10, the
borrowing adjustment every 0.2 s instead of kube's 10 s): a ServiceAccount's level of 3 nominal
seats that may borrow 3 more and lends all of its own while idle, beside an idle level that lends
all of its 6. Creates whose bodies come slowly hold their seats; as their demand shows, the busy
level's current limit rises to 6 and six of them run at once while two wait in its queue, one more
gets kube's 429 (queue-full), and `apiserver_flowcontrol_*` on /metrics says so with kube's labels.
Once they finish, its limit falls back below its nominal seats (it lends them while idle)."""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.apiserver.conftest import Server, start_server
from tests.apiserver.test_flowcontrol_api import _sa_token
from tests.polling import wait_for

FC = "/apis/flowcontrol.apiserver.k8s.io/v1"
Samples = dict[str, list[tuple[dict[str, str], float]]]


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    os.environ["KUBELITE_APF_BORROWING_PERIOD"] = "0.2"  # the server process inherits it
    try:
        srv = start_server(
            Path(tmp_path_factory.mktemp("borrow")),
            "--max-requests-inflight",
            "10",
            "--max-mutating-requests-inflight",
            "0",
        )
    finally:
        del os.environ["KUBELITE_APF_BORROWING_PERIOD"]
    yield srv
    srv.stop()


def _level(name: str, shares: int, lendable: int, borrowing: int | None, queue: int) -> dict[str, Any]:
    limited: dict[str, Any] = {"nominalConcurrencyShares": shares, "lendablePercent": lendable}
    if borrowing is not None:
        limited["borrowingLimitPercent"] = borrowing
    limited["limitResponse"] = (
        {"type": "Queue", "queuing": {"queues": 1, "handSize": 1, "queueLengthLimit": queue}}
        if queue
        else {"type": "Reject"}
    )
    return {"metadata": {"name": name}, "spec": {"type": "Limited", "limited": limited}}


def _samples(api: httpx.Client) -> Samples:
    r = api.get("/metrics")
    assert r.status_code == 200, r.text
    out: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def _value(samples: Samples, metric: str, **labels: str) -> float | None:
    found = [v for lab, v in samples.get(metric, []) if all(lab.get(k) == x for k, x in labels.items())]
    return sum(found) if found else None


def _limit(api: httpx.Client, level: str, kind: str = "current") -> float | None:
    return _value(_samples(api), f"apiserver_flowcontrol_{kind}_limit_seats", priority_level=level)


def test_a_busy_level_borrows_the_seats_an_idle_one_lends(own: Server) -> None:
    with own.client() as api:
        token = _sa_token(api, "borrow", "bot")
        assert (
            api.post(f"{FC}/prioritylevelconfigurations", json=_level("lender", 500, 100, 0, 0)).status_code
            == 201
        )
        busy = _level("busy", 200, 100, 100, 2)
        assert api.post(f"{FC}/prioritylevelconfigurations", json=busy).status_code == 201
        schema = {
            "metadata": {"name": "busy"},
            "spec": {
                "priorityLevelConfiguration": {"name": "busy"},
                "matchingPrecedence": 500,
                "rules": [
                    {
                        "subjects": [
                            {
                                "kind": "ServiceAccount",
                                "serviceAccount": {"namespace": "borrow", "name": "bot"},
                            }
                        ],
                        "resourceRules": [
                            {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"]}
                        ],
                    }
                ],
            },
        }
        assert api.post(f"{FC}/flowschemas", json=schema).status_code == 201
        # 10 seats by shares (245 of the suggested levels + 700): busy ceil(2.1) = 3, lender ceil(5.3) = 6
        wait_for(lambda: _limit(api, "busy", "nominal") == 3, what="the busy level's nominal seats")
        s = _samples(api)
        assert _value(s, "apiserver_flowcontrol_nominal_limit_seats", priority_level="lender") == 6
        assert _value(s, "apiserver_flowcontrol_upper_limit_seats", priority_level="busy") == 6
        assert _value(s, "apiserver_flowcontrol_lower_limit_seats", priority_level="busy") == 0
        assert _value(s, "apiserver_flowcontrol_lower_limit_seats", priority_level="lender") == 0
        assert (_limit(api, "busy") or 0) < 3  # idle, and lending all it has

        ctx = ssl.create_default_context(cafile=str(own.ca_file))
        holders: list[ssl.SSLSocket] = []
        body = b'{"metadata": {"name": "held"}}'

        def hold() -> None:
            sock = ctx.wrap_socket(
                socket.create_connection(("127.0.0.1", own.port)), server_hostname="127.0.0.1"
            )
            sock.sendall(  # a create whose body comes slowly holds its seat while the server reads it
                b"POST /api/v1/namespaces/borrow/configmaps HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\n"
                + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body[:5]
            )
            holders.append(sock)

        def state() -> tuple[float, float]:
            s = _samples(api)
            pair = {"priority_level": "busy", "flow_schema": "busy"}
            return (
                _value(s, "apiserver_flowcontrol_current_executing_requests", **pair) or 0,
                _value(s, "apiserver_flowcontrol_current_inqueue_requests", **pair) or 0,
            )

        try:
            # add holders as seats open (never more than the queue's 2 waiting): the level's demand
            # raises its limit each adjustment until it runs 6, its nominal 3 plus 3 borrowed
            def grown() -> bool:
                executing, waiting = state()
                if executing + waiting == len(holders) and waiting < 2 and len(holders) < 8:
                    hold()
                return state() == (6, 2)

            wait_for(grown, what="six requests executing in busy, two waiting")
            assert _limit(api, "busy") == 6 and (_limit(api, "lender") or 0) < 6
            with own.client(token=token) as sa:
                r = sa.get("/api/v1/namespaces/borrow/configmaps")
            assert r.status_code == 429, r.text  # its queue is full
            s = _samples(api)
            pair = {"priority_level": "busy", "flow_schema": "busy"}
            assert _value(s, "apiserver_flowcontrol_current_executing_seats", **pair) == 6
            assert (
                _value(s, "apiserver_flowcontrol_rejected_requests_total", reason="queue-full", **pair) == 1
            )
            assert _value(s, "apiserver_flowcontrol_dispatched_requests_total", **pair) == 6
            exempt = _value(
                s,
                "apiserver_flowcontrol_dispatched_requests_total",
                priority_level="exempt",
                flow_schema="exempt",
            )
            assert exempt and exempt > 0  # the admin's requests: exempt, counted all the same
        finally:
            for sock in holders:
                sock.sendall(body[5:])
            answers = [sock.recv(4096) for sock in holders]
            for sock in holders:
                sock.close()
        assert all(a.startswith(b"HTTP/1.1 201") or a.startswith(b"HTTP/1.1 409") for a in answers), answers
        wait_for(lambda: state() == (0, 0), what="busy idle again")
        assert _value(_samples(api), "apiserver_flowcontrol_dispatched_requests_total", **pair) == 8
        wait_for(lambda: (_limit(api, "busy") or 0) < 3, what="busy lending its seats again", timeout=60)
