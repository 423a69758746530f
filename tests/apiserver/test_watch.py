"""Watch through HTTP: order, resume without gaps, selectors turning into ADDED/DELETED,
bookmarks, timeouts, Table events."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from tests.apiserver.conftest import pod


def _events(
    http: httpx.Client, url: str, until: int, headers: dict[str, str] | None = None, on_open: Any = None
) -> list[dict[str, Any]]:
    """Read watch events until `until` of them arrived (or the server ends the stream)."""
    out: list[dict[str, Any]] = []
    with http.stream("GET", url, headers=headers or {}, timeout=30) as r:
        assert r.status_code == 200
        if on_open is not None:
            on_open()
        for line in r.iter_lines():
            if not line:
                continue
            out.append(json.loads(line))
            if len(out) >= until:
                break
    return out


def test_order_and_resume_without_gaps(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/endpoints"
    start = http.get(base).json()["metadata"]["resourceVersion"]
    for i in range(30):
        http.post(base, json={"metadata": {"name": f"e{i}"}}).raise_for_status()
    first = _events(http, f"{base}?watch=true&resourceVersion={start}", 10)
    assert [e["object"]["metadata"]["name"] for e in first] == [f"e{i}" for i in range(10)]
    assert all(e["type"] == "ADDED" for e in first)
    last_rv = first[-1]["object"]["metadata"]["resourceVersion"]
    rest = _events(http, f"{base}?watch=1&resourceVersion={last_rv}", 20)
    assert [e["object"]["metadata"]["name"] for e in rest] == [f"e{i}" for i in range(10, 30)]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in first + rest]
    assert rvs == sorted(rvs) and len(set(rvs)) == 30


def test_initial_added_then_changes(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/pods"
    http.post(base, json=pod("a")).raise_for_status()

    def change() -> None:
        http.post(base, json=pod("b")).raise_for_status()
        http.delete(f"{base}/b").raise_for_status()

    evs = _events(http, f"{base}?watch=true", 3, on_open=lambda: threading.Thread(target=change).start())
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in evs] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
        ("DELETED", "b"),
    ]


def test_selectors_per_event(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/pods"
    rv = http.get(base).json()["metadata"]["resourceVersion"]
    p = http.post(base, json=pod("s", labels={"app": "x"})).json()
    http.post(base, json=pod("other", labels={"app": "y"})).raise_for_status()
    p["metadata"]["labels"]["app"] = "y"
    p = http.put(f"{base}/s", json=p).json()
    p["metadata"]["labels"]["app"] = "x"
    http.put(f"{base}/s", json=p).raise_for_status()
    http.delete(f"{base}/s").raise_for_status()
    evs = _events(http, f"{base}?watch=true&resourceVersion={rv}&labelSelector=app%3Dx", 4)
    assert [e["type"] for e in evs] == ["ADDED", "DELETED", "ADDED", "DELETED"]
    assert {e["object"]["metadata"]["name"] for e in evs} == {"s"}
    evs = _events(http, f"{base}?watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3Dother", 1)
    assert evs[0]["object"]["metadata"]["name"] == "other"


def test_bookmarks_and_timeout(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/pods"
    rv = http.post(base, json=pod("bm")).json()["metadata"]["resourceVersion"]
    evs = _events(
        http, f"{base}?watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=3", 100
    )
    assert evs and all(e["type"] == "BOOKMARK" for e in evs)  # the server ended the stream at the timeout
    # a bookmark carries the store's revision: at least the pod's (the server's own Lease renewals move it on)
    assert (
        int(evs[-1]["object"]["metadata"]["resourceVersion"]) >= int(rv)
        and evs[-1]["object"]["kind"] == "Pod"
    )
    quiet = _events(http, f"{base}?watch=true&resourceVersion={rv}&timeoutSeconds=1", 100)
    assert quiet == []


def test_table_watch(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/pods"
    http.post(base, json=pod("tw")).raise_for_status()
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    evs = _events(http, f"{base}?watch=true&resourceVersion=0", 1, headers={"Accept": accept})
    t = evs[0]["object"]
    assert evs[0]["type"] == "ADDED" and t["kind"] == "Table" and len(t["rows"]) == 1
    assert t["rows"][0]["cells"][0] == "tw"


def test_watch_bad_resource_version(http: httpx.Client, ns: str) -> None:
    r = http.get(f"/api/v1/namespaces/{ns}/pods?watch=true&resourceVersion=abc")
    assert r.status_code == 400


def test_watch_list_initial_events_end(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/pods"
    http.post(base, json=pod("wl")).raise_for_status()
    q = "watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"
    evs = _events(http, f"{base}?{q}", 2)
    assert evs[0]["type"] == "ADDED" and evs[0]["object"]["metadata"]["name"] == "wl"
    assert evs[1]["type"] == "BOOKMARK"
    assert evs[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_a_list_or_watch_of_one_name(http: httpx.Client, ns: str) -> None:
    """`metadata.name=X` in a namespace reads that one key (kube's MatchesSingle): the object of
    that name only, none for a name nobody has, no continue token under a limit, other selectors
    still applied; across namespaces and for cluster-scoped kinds the name still selects."""
    base = f"/api/v1/namespaces/{ns}/configmaps"
    for name in ("a", "ab", "b"):
        http.post(base, json={"metadata": {"name": name, "labels": {"n": name}}}).raise_for_status()

    def names(url: str, **params: str) -> tuple[list[str], dict[str, Any]]:
        r = http.get(url, params=params)
        assert r.status_code == 200, r.text
        return [i["metadata"]["name"] for i in r.json()["items"]], r.json()["metadata"]

    got, meta = names(base, fieldSelector="metadata.name=a")
    assert got == ["a"] and int(meta["resourceVersion"]) >= int(
        http.get(f"{base}/a").json()["metadata"]["resourceVersion"]
    )
    got, meta = names(base, fieldSelector="metadata.name=ab", limit="1")
    assert got == ["ab"] and "continue" not in meta
    assert names(base, fieldSelector="metadata.name=nobody")[0] == []
    assert names(base, fieldSelector="metadata.name=a", labelSelector="n=b")[0] == []
    assert names(base, fieldSelector="metadata.name!=a")[0] == ["ab", "b"]
    everywhere = http.get("/api/v1/configmaps", params={"fieldSelector": "metadata.name=ab"}).json()["items"]
    found = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in everywhere]
    assert (ns, "ab") in found and {n for _, n in found} == {"ab"}
    assert names("/api/v1/namespaces", fieldSelector=f"metadata.name={ns}")[0] == [ns]

    def change() -> None:
        http.patch(
            f"{base}/a", json={"data": {"v": "1"}}, headers={"content-type": "application/merge-patch+json"}
        )
        http.patch(
            f"{base}/ab", json={"data": {"v": "1"}}, headers={"content-type": "application/merge-patch+json"}
        )

    evs = _events(
        http,
        f"{base}?watch=1&fieldSelector=metadata.name%3Dab",
        2,
        on_open=lambda: threading.Thread(target=change).start(),
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in evs] == [
        ("ADDED", "ab"),
        ("MODIFIED", "ab"),
    ]
    assert evs[1]["object"]["data"] == {"v": "1"}
