"""The API server's request mix during a bench run, read off its own /metrics.

Per-pod CPU that grows with the cluster's size is either more work per request or more requests
per pod; `apiserver_request_total` before and after the run tells the second apart: each verb on
each resource (and subresource), per pod Running. Writes are what the store pays for, so they
come first. The store's own counters say how many of those writes each transaction carried
(its group commit).
"""

from __future__ import annotations

import re
import time
from collections import Counter

from api.client import Client
from api.requests import Request

_SAMPLE = re.compile(r"^apiserver_request_total\{([^}]*)\} ([0-9.e+]+)$", re.M)
_LABEL = re.compile(r'(\w+)="([^"]*)"')
_STORE = re.compile(r"^kubelite_store_write_(requests|transactions)_total ([0-9.e+]+)$", re.M)
WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE", "APPLY", "DELETECOLLECTION")


def metrics_text(client: Client) -> str:
    """The API server's /metrics, as Prometheus text."""
    return str(client.call(Request("GET", "/metrics", accept="text/plain")))


def request_counts(text: str) -> Counter[tuple[str, str]]:
    """(verb, resource[/subresource]) -> requests served so far, every response code summed (verbs as
    Kubernetes labels them: POST, PUT, PATCH, DELETE, GET, LIST, WATCH), from `metrics_text`."""
    counts: Counter[tuple[str, str]] = Counter()
    for labels, value in _SAMPLE.findall(text):
        label = dict(_LABEL.findall(labels))
        resource = label.get("resource", "") + (
            f"/{label['subresource']}" if label.get("subresource") else ""
        )
        counts[(label.get("verb", ""), resource)] += int(float(value))
    return counts


def store_counts(text: str) -> tuple[int, int]:
    """(writes asked of the store, transactions that carried them) so far, from `metrics_text`."""
    found = {name: int(float(value)) for name, value in _STORE.findall(text)}
    return found.get("requests", 0), found.get("transactions", 0)


def request_mix(
    before: Counter[tuple[str, str]], after: Counter[tuple[str, str]], pods: int, top: int = 8
) -> str:
    """The run's busiest requests per pod, writes first: `PATCH pods/status 1.02, ...`."""
    diff = after - before
    per_pod = {k: v / max(1, pods) for k, v in diff.items() if v}

    def line(keys: list[tuple[str, str]]) -> str:
        busiest = sorted(keys, key=lambda k: -per_pod[k])[:top]
        total = sum(per_pod[k] for k in keys)
        return f"{total:.2f}: " + ", ".join(
            f"{verb} {res} {per_pod[(verb, res)]:.2f}" for verb, res in busiest
        )

    writes = [k for k in per_pod if k[0] in WRITE_VERBS]
    reads = [k for k in per_pod if k[0] not in WRITE_VERBS]
    return f"writes {line(writes)}; reads {line(reads)}"


def settle(client: Client, quiet: float = 1.0, timeout: float = 60.0) -> float:
    """Wait until the writes the run caused have stopped (no write but a lease's for `quiet`
    seconds): kubelets write a pod's events after its Running status, so a run timed to the last
    pod Running leaves part of its work after the clock stops. Returns the seconds waited."""

    def writes() -> int:
        return sum(
            n
            for (verb, res), n in request_counts(metrics_text(client)).items()
            if verb in WRITE_VERBS and res != "leases"
        )

    t0 = time.monotonic()
    last, still_since = writes(), time.monotonic()
    while time.monotonic() - still_since < quiet and time.monotonic() - t0 < timeout:
        time.sleep(0.25)
        now = writes()
        if now != last:
            last, still_since = now, time.monotonic()
    return time.monotonic() - t0
