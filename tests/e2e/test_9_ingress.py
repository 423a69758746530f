"""Ingress on a real two-node cluster: the agents' nginx answers `Host: demo.local` on every
node's port 80 from the service's pods, keeps answering with no failed request through a rolling
update of them, serves TLS from a kubernetes.io/tls Secret, and the real kubectl prints the
Ingress, its class and the EndpointSlices as it prints kube's."""

from __future__ import annotations

import collections
import functools
import json
import re
import threading
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import Cluster
from tests.objects import manifest, service, web_rc
from tests.polling import wait_for
from tests.tls import https_get, self_signed

# a pod serves on while its removal reaches the slices and each node's nginx (~1 s here)
APP = manifest(
    web_rc("demo", 3, grace=15, pre_stop_sleep=5),
    service("demo", {"name": "web", "port": 80, "targetPort": "http"}),
)


def node_ips(c: Cluster) -> list[str]:
    nodes = json.loads(c.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    return sorted(a["address"] for n in nodes for a in n["status"]["addresses"] if a["type"] == "InternalIP")


def ready_pods(c: Cluster) -> set[str]:
    pods = json.loads(c.kubectl("get", "pods", "-l", "app=demo", "-o", "json").stdout)["items"]
    return {
        p["metadata"]["name"]
        for p in pods
        if not p["metadata"].get("deletionTimestamp")
        and any(
            cd["type"] == "Ready" and cd["status"] == "True" for cd in p["status"].get("conditions") or []
        )
    }


def get(ip: str, host: str = "demo.local", path: str = "/") -> tuple[int, str]:
    try:
        r = httpx.get(f"http://{ip}{path}", headers={"Host": host}, timeout=3)
    except httpx.HTTPError as e:
        return 0, repr(e)
    return r.status_code, r.text.strip()


def answer(ip: str) -> str | None:
    code, body = get(ip)
    return body if code == 200 else None


def gone(ip: str) -> bool:
    return get(ip)[0] == 404


def nginx_logs(c: Cluster) -> str:
    """What each node's nginx said and when its agent reloaded it: why a request failed."""
    out = []
    for node in sorted((c.data_dir / "nodes").glob("node-*")):
        err = node / "ingress" / "logs" / "error.log"
        lines = err.read_text(errors="replace").splitlines() if err.exists() else []
        # "connect() to 10.244.0.3:8080 failed (101: Network is unreachable) while connecting ..."
        what = collections.Counter(re.sub(r"^.*?\*\d+ ", "", x).split(", client:")[0] for x in lines)
        out.append(f"--- {node.name} nginx error.log: {len(lines)} lines, the last 5, then by message")
        out += lines[-5:] + [f"{n:6d} {msg}" for msg, n in what.most_common(10)]
        agent_log = c.data_dir / "logs" / f"{node.name}.log"
        if agent_log.exists():
            reloads = [x for x in agent_log.read_text(errors="replace").splitlines() if "ingress:" in x]
            out.append(f"--- {node.name} agent: ingress reloads (last 15 of {len(reloads)})")
            out += reloads[-15:]
    return "\n".join(out)


def tls_answer(ip: str, host: str, ca: bytes) -> str:
    """The body of a 200 from the node's port 443 for `host`, else ""."""
    try:
        head, body = https_get(ip, 443, host, "/", ca, timeout=3)
    except OSError:
        return ""
    return body.decode().strip() if head.startswith(b"HTTP/1.1 200") else ""


def test_ingress_routes_survives_rolling_update_and_serves_tls(cluster: Cluster, tmp_path: Path) -> None:
    c = cluster
    c.kubectl("apply", "-f", "-", input=APP)
    wait_for(lambda: len(ready_pods(c)) == 3, 120, what="3 ready demo pods")
    cert_pem, key_pem = self_signed("secure.local", ["secure.local"])
    crt, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    crt.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    c.kubectl("create", "secret", "tls", "demo-tls", f"--cert={crt}", f"--key={key}", real=True)
    c.kubectl(
        "create",
        "ingress",
        "demo",
        "--rule=demo.local/*=demo:web",
        "--rule=secure.local/*=demo:80,tls=demo-tls",
        real=True,
    )
    ips = node_ips(c)
    assert len(ips) == 2
    # every node answers for demo.local from one of the service's pods; an unknown host is a 404
    for ip in ips:
        body = wait_for(functools.partial(answer, ip), 60, what=f"demo.local on {ip}")
        assert body is not None and body.startswith("demo-"), body
        assert get(ip, host="nobody.local")[0] == 404
        assert wait_for(
            functools.partial(tls_answer, ip, "secure.local", cert_pem), 30, what=f"TLS on {ip}"
        ).startswith("demo-")
    # status and what the real kubectl prints
    ing = wait_for(
        lambda: (
            (i := json.loads(c.kubectl("get", "ingress", "demo", "-o", "json").stdout))["status"]
            .get("loadBalancer", {})
            .get("ingress")
            and i
        ),
        30,
        what="ingress status",
    )
    assert [x["ip"] for x in ing["status"]["loadBalancer"]["ingress"]] == ips
    assert ing["spec"]["ingressClassName"] == "kubelite"
    lines = c.kubectl("get", "ingress", real=True).stdout.splitlines()
    assert lines[0].split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    row = lines[1].split()
    assert row[:3] == ["demo", "kubelite", "demo.local,secure.local"] and row[4:6] == ["80,", "443"]
    assert row[3] == ",".join(ips) if len(",".join(ips)) <= 16 else row[3].endswith("...")
    lines = c.kubectl(
        "get", "endpointslices", "-l", "kubernetes.io/service-name=demo", real=True
    ).stdout.splitlines()
    assert lines[0].split()[:4] == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS"]
    assert lines[1].split()[1:3] == ["IPv4", "8080"] and lines[1].startswith("demo-")
    assert len(lines[1].split()[3].split(",")) == 3

    # a rolling update of the backends while requests go to both nodes: none may fail
    failures: list[str] = []
    answered: dict[str, int] = {}
    stop = threading.Event()

    def hammer(ip: str) -> None:
        while not stop.is_set():
            code, body = get(ip)
            if code == 200 and body.startswith("demo"):
                answered[body] = answered.get(body, 0) + 1
            else:
                now = time.time()
                stamp = time.strftime("%T", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
                failures.append(f"{stamp} {ip}: {code} {body[:80]}")

    threads = [threading.Thread(target=hammer, args=(ip,)) for ip in ips]
    for t in threads:
        t.start()
    try:
        c.kubectl(
            "rolling-update",
            "demo",
            "demo-v2",
            "--image=kubelite/web:latest",
            "--update-period=1s",
            timeout=240,
        )
        wait_for(lambda: len(ready_pods(c)) == 3, 60, what="3 ready v2 pods")
    finally:
        stop.set()
        for t in threads:
            t.join()
    total = sum(answered.values()) + len(failures)
    print(
        f"rolling update through the ingress: {total} requests, {len(failures)} failed, "
        f"{len(answered)} pods answered"
    )
    assert failures == [], f"{len(failures)} of {total} requests failed: {failures[:10]}\n{nginx_logs(c)}"
    assert any(name.startswith("demo-v2") for name in answered), answered
    c.kubectl("delete", "ingress", "demo")
    c.kubectl("delete", "rc", "demo-v2")
    c.kubectl("delete", "svc", "demo")
    c.kubectl("delete", "secret", "demo-tls")
    for ip in ips:
        wait_for(functools.partial(gone, ip), 30, what=f"demo.local gone from {ip}")
