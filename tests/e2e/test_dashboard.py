"""The dashboard on a real cluster: a container's log followed through it as the container writes
(pods/log with follow, relayed line by line; in headless Chromium too, by clicking the pod's row),
and the charts' usage read from metrics.k8s.io."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator

import httpx
import pytest
import yaml

from tests.dashboard.test_browser import log_in
from tests.dashboard.webdriver import chromium
from tests.e2e.conftest import Cluster
from tests.polling import wait_for

anyio = pytest.mark.anyio
TICKER = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "dash-ticker"},
    "spec": {
        "containers": [
            {
                "name": "tick",
                "image": "busybox:1.35",  # a tag already in the store (`latest` would be pulled)
                "command": ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.5; done"],
            }
        ],
        "terminationGracePeriodSeconds": 0,
    },
}


def server_of(cluster: Cluster) -> str:
    return str(yaml.safe_load(cluster.kubeconfig.read_text())["clusters"][0]["cluster"]["server"])


def token_of(cluster: Cluster) -> str:
    return (cluster.data_dir / "server" / "admin-token").read_text().strip()


@pytest.fixture
async def dashboard(cluster: Cluster) -> AsyncIterator[httpx.AsyncClient]:
    server = server_of(cluster)
    token = token_of(cluster)
    ctx = ssl.create_default_context(cafile=str(cluster.data_dir / "server" / "tls" / "ca.crt"))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=server + "/dashboard", verify=ctx, headers=headers, timeout=30
    ) as c:
        yield c


@anyio
async def test_a_log_is_followed_and_usage_charted(cluster: Cluster, dashboard: httpx.AsyncClient) -> None:
    cluster.kubectl("apply", "-f", "-", input=json.dumps(TICKER))
    try:
        wait_for(
            lambda: "Running" in cluster.kubectl("get", "pod", "dash-ticker", check=False).stdout,
            90,
            "Running",
        )
        ticks: list[int] = []
        async with dashboard.stream("GET", "/api/logs/default/dash-ticker?container=tick&tail=1") as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            event = ""
            async for line in r.aiter_lines():
                if line.startswith("event: "):
                    event = line[len("event: ") :]
                elif line.startswith("data: ") and event == "line":
                    ticks.append(int(json.loads(line[len("data: ") :]).split()[1]))
                    if len(ticks) == 4:
                        break
        assert ticks == list(range(ticks[0], ticks[0] + 4))  # consecutive: followed as written

        seen: dict = {}

        async def charted() -> bool:
            seen.update((await dashboard.get("/api/usage?namespace=default")).json())
            names = {n["name"] for n in seen.get("nodes") or []}
            pods = {p["name"] for p in seen.get("pods") or []}
            return names == {"node-0", "node-1"} and "dash-ticker" in pods

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90  # kubelets sample every 2 s in these tests
        while not await charted():
            assert loop.time() < deadline, f"timed out waiting for both nodes and the pod in usage: {seen}"
            await asyncio.sleep(0.5)
        assert all(n["memory"] > 0 for n in seen["nodes"])

        with chromium(cluster.data_dir / "chromedriver.log") as browser:
            log_in(browser, server_of(cluster), token_of(cluster))
            row = 'section[data-kind="pods"] tr[data-key="default/dash-ticker"]'
            wait_for(lambda: browser.text(row), 60, "the ticker's row")
            browser.click(row)
            shown = wait_for(lambda: browser.text("#logs-text") or "", 30, "the log panel's first lines")
            wait_for(lambda: len(browser.text("#logs-text") or "") > len(shown), 30, "more lines, followed")
            assert "tick " in (browser.text("#logs-text") or "")
    finally:
        cluster.kubectl("delete", "pod", "dash-ticker", "--wait=false", check=False)
