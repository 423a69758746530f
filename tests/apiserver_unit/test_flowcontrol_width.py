"""A request's seats as kube 1.33's work estimator gives them: LISTs from the stored objects
(selectors, limits, names, cache or storage), writes from the watches that see their event, and a
level's widest request."""

from __future__ import annotations

from apiserver.flowcontrol.width import (
    WatchIdentity,
    interested,
    level_max_seats,
    list_from_cache,
    list_seats,
    mutating_work,
    watch_identity,
)


def test_level_max_seats() -> None:
    assert level_max_seats(245, 6, True) == 10  # min(37, 40), capped at kube's 10
    assert level_max_seats(13, 6, True) == 2  # min(ceil(1.95), 13 // 6)
    assert level_max_seats(3, 6, True) == 1
    assert level_max_seats(13, 1, False) == 10  # a Reject level: only the cap


def test_list_seats() -> None:
    assert list_seats(None, {}, 10) == 1  # not counted yet: the minimum
    assert list_seats(450, {}, 10) == 5  # from the cache: every stored object, 100 a seat
    assert list_seats(450, {}, 3) == 3  # the level's max
    assert list_seats(5, {}, 10) == 1
    assert list_seats(10_000, {"fieldSelector": "metadata.name=x"}, 10) == 1
    from_storage = {"limit": "100", "resourceVersion": "42", "resourceVersionMatch": "Exact"}
    assert not list_from_cache(from_storage)
    assert list_seats(1_000, from_storage, 10) == 2  # 2 * limit
    assert list_seats(1_000, {**from_storage, "labelSelector": "a=b"}, 10) == 10  # stored + limit
    assert list_seats(250, {"continue": "x", "limit": "50", "fieldSelector": "a=b"}, 10) == 3
    assert list_from_cache({"limit": "500", "resourceVersion": "0"})


def test_mutating_work() -> None:
    assert mutating_work(9, 10) == (0, 0.0)  # under 10 watches: no extra width
    assert mutating_work(10, 10) == (1, 0.005)
    seats, latency = mutating_work(250, 10)  # 25 seats for 5 ms, reshaped to 10 seats for 12.5 ms
    assert seats == 10 and abs(latency - 0.0125) < 1e-12


def test_watches_counted_as_kubes_watch_tracker_counts_them() -> None:
    """A kubelet's watch of its own pods is not counted; a watch by name counts only for writes
    to that object; cluster-wide and namespace watches count for every write in their scope."""
    counts: dict[WatchIdentity, int] = {}

    def watch(group: str, resource: str, namespace: str, query: dict[str, str], n: int = 1) -> None:
        identity = watch_identity(group, resource, namespace, query)
        if identity is not None:
            counts[identity] = counts.get(identity, 0) + n

    watch("", "pods", "", {"fieldSelector": "spec.nodeName=node-1"}, 500)  # 500 kubelets
    watch("", "pods", "", {}, 2)  # the controller manager's and the scheduler's informers
    watch("", "pods", "default", {"labelSelector": "app=x"})
    watch("", "pods", "", {"fieldSelector": "spec.nodeName="})  # unscheduled pods: counted
    watch("", "configmaps", "default", {"fieldSelector": "metadata.name=kube-root-ca.crt"}, 500)
    watch("", "nodes", "", {"fieldSelector": "metadata.name=node-7"})
    assert interested(counts, "", "pods", "default", "") == 4
    assert interested(counts, "", "pods", "other", "p") == 3
    assert interested(counts, "", "configmaps", "default", "") == 0  # a create names no object
    assert interested(counts, "", "configmaps", "default", "kube-root-ca.crt") == 500
    assert interested(counts, "", "configmaps", "kube-system", "kube-root-ca.crt") == 0
    assert interested(counts, "", "nodes", "", "node-7") == 1
    assert interested(counts, "", "nodes", "", "node-8") == 0
    assert interested(counts, "apps", "pods", "default", "") == 0  # another group's resource
    # `!=` requires no value, and `==` is `=`
    assert watch_identity("", "pods", "", {"fieldSelector": "spec.nodeName!=a"}) == ("", "pods", "", "")
    assert watch_identity("", "secrets", "ns", {"fieldSelector": "metadata.name==s"}) == (
        "",
        "secrets",
        "ns",
        "s",
    )
