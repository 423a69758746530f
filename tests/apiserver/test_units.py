"""Pure decisions of the HTTP layer: routing, lifecycle strategy, watch classification, node
authorization, durations, body decoding; and the allocator on a real SQLite store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from api.errors import ApiError
from api.resources import Resource, by_plural
from api.selectors import parse_label_selector
from apiserver import lifecycle
from apiserver.allocator import IP_PREFIX, Allocator
from apiserver.auth import ADMIN, Authenticator, User, authorize_node, kubeconfig_yaml
from apiserver.config import parse_duration, parse_listen
from apiserver.handlers.http import decode_body
from apiserver.handlers.routing import resolve
from apiserver.handlers.watch import classify
from apiserver.storage.interface import Event


def _resource(group: str, plural: str) -> Resource:
    r = by_plural(group, plural)
    assert r is not None
    return r


PODS = _resource("", "pods")
NAMESPACES = _resource("", "namespaces")
LEASES = _resource("coordination.k8s.io", "leases")


def test_routes() -> None:
    r = resolve("/api/v1/namespaces/default/pods/x/status")
    assert r and (r.resource.plural, r.namespace, r.name, r.subresource) == ("pods", "default", "x", "status")
    r = resolve("/api/v1/pods")
    assert r and r.resource.plural == "pods" and r.namespace is None and r.name is None
    r = resolve("/api/v1/namespaces/default")
    assert r and r.resource.plural == "namespaces" and r.name == "default"
    r = resolve("/api/v1/namespaces/x/finalize")
    assert r and r.resource.plural == "namespaces" and r.subresource == "finalize"
    r = resolve("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1")
    assert r and r.resource is LEASES and r.name == "n1"
    assert resolve("/api/v1/namespaces/x/nodes") is None  # nodes are cluster-scoped
    assert resolve("/api/v2/pods") is None and resolve("/apis/nosuch.example.com/v1/things") is None
    assert resolve("/api/v1/namespaces/a/pods/b/c/d") is None


def test_durations_and_listen() -> None:
    assert parse_duration("40s") == 40 and parse_duration("5m") == 300 and parse_duration("1h30m") == 5400
    assert parse_duration("250ms") == 0.25 and parse_duration("0.2") == 0.2
    with pytest.raises(ValueError):
        parse_duration("5 minutes")
    assert parse_listen("127.0.0.1:6443") == ("127.0.0.1", 6443)
    assert parse_listen(":8443") == ("0.0.0.0", 8443) and parse_listen("[::1]:1") == ("::1", 1)
    with pytest.raises(ValueError):
        parse_listen("localhost")


def test_identity_checks() -> None:
    obj = lifecycle.check_identity(PODS, {"metadata": {"name": "a"}}, "ns")
    assert list(obj)[:2] == ["kind", "apiVersion"] and obj["metadata"]["namespace"] == "ns"
    with pytest.raises(ApiError) as e:
        lifecycle.check_identity(PODS, {"kind": "Pod", "metadata": []}, "ns")
    assert e.value.code == 400
    cluster = lifecycle.check_identity(NAMESPACES, {"metadata": {"name": "a", "namespace": "x"}}, None)
    assert "namespace" not in cluster["metadata"]


def test_update_strategy() -> None:
    old = {
        "kind": "Pod",
        "metadata": {"name": "a", "uid": "u", "generation": 1, "creationTimestamp": "t"},
        "spec": {"x": 1},
        "status": {"phase": "Running"},
    }
    new = {
        "kind": "Pod",
        "metadata": {"name": "a", "uid": "forged"},
        "spec": {"x": 2},
        "status": {"phase": "Failed"},
    }
    out = lifecycle.prepare_for_update(PODS, new, old, None)
    assert out["metadata"]["uid"] == "u" and out["metadata"]["generation"] == 2
    assert out["status"] == {"phase": "Running"} and out["metadata"]["creationTimestamp"] == "t"
    st = lifecycle.prepare_for_update(PODS, {"spec": {"x": 9}, "status": {"phase": "Failed"}}, old, "status")
    assert st["spec"] == {"x": 1} and st["status"] == {"phase": "Failed"}
    assert lifecycle.same_object(
        {"metadata": {"resourceVersion": "1"}, "a": 1}, {"metadata": {"resourceVersion": "2"}, "a": 1}
    )
    assert not lifecycle.same_object({"metadata": {}, "a": 1}, {"metadata": {}, "a": 2})


def test_deletion_decisions() -> None:
    unbound: dict[str, Any] = {"spec": {}, "status": {}}
    bound = {"spec": {"nodeName": "n", "terminationGracePeriodSeconds": 7}, "status": {"phase": "Running"}}
    done = {"spec": {"nodeName": "n"}, "status": {"phase": "Succeeded"}}
    assert lifecycle.grace_period(PODS, unbound, {}) == 0
    assert lifecycle.grace_period(PODS, bound, {}) == 7
    assert lifecycle.grace_period(PODS, bound, {"gracePeriodSeconds": 0}) == 0
    assert lifecycle.grace_period(PODS, done, {}) == 0
    assert lifecycle.grace_period(NAMESPACES, bound, {"gracePeriodSeconds": 5}) == 0
    assert lifecycle.propagation_finalizer({"propagationPolicy": "Foreground"}) == "foregroundDeletion"
    assert lifecycle.propagation_finalizer({"orphanDependents": True}) == "orphan"
    assert lifecycle.propagation_finalizer({}) is None
    with pytest.raises(ApiError):
        lifecycle.propagation_finalizer({"propagationPolicy": "Sideways"})
    assert lifecycle.ready_to_remove(
        PODS, {"metadata": {"deletionTimestamp": "t", "deletionGracePeriodSeconds": 0}}
    )
    assert not lifecycle.ready_to_remove(
        PODS, {"metadata": {"deletionTimestamp": "t", "deletionGracePeriodSeconds": 30}}
    )
    assert not lifecycle.ready_to_remove(PODS, {"metadata": {"deletionTimestamp": "t", "finalizers": ["f"]}})
    assert not lifecycle.ready_to_remove(
        NAMESPACES, {"metadata": {"deletionTimestamp": "t"}, "spec": {"finalizers": ["kubernetes"]}}
    )


def _ev(kind: str, labels: dict[str, str], prev: dict[str, str] | None = None) -> Event:
    from api import jsonutil

    value = jsonutil.dumps({"metadata": {"name": "a", "labels": labels}})
    prev_value = jsonutil.dumps({"metadata": {"name": "a", "labels": prev}}) if prev is not None else None
    return Event(kind, "/k", 1, value, prev_value)


def test_watch_classification() -> None:
    sel = parse_label_selector("app=x")

    def match(o: dict[str, Any]) -> bool:
        return sel.matches(o["metadata"].get("labels"))

    assert classify(_ev("MODIFIED", {"app": "y"}, {"app": "x"}), match) == "DELETED"
    assert classify(_ev("MODIFIED", {"app": "x"}, {"app": "y"}), match) == "ADDED"
    assert classify(_ev("MODIFIED", {"app": "x"}, {"app": "x"}), match) == "MODIFIED"
    assert classify(_ev("MODIFIED", {"app": "y"}, {"app": "y"}), match) is None
    assert classify(_ev("DELETED", {"app": "x"}), match) == "DELETED"
    assert classify(_ev("ADDED", {"app": "y"}), match) is None
    assert classify(_ev("ADDED", {"app": "y"}), None) == "ADDED"


def test_watch_classification_remembers_what_it_showed() -> None:
    sel = parse_label_selector("app=x")
    parsed: list[dict[str, Any]] = []

    def match(o: dict[str, Any]) -> bool:
        parsed.append(o)
        return sel.matches(o["metadata"].get("labels"))

    visible: set[str] = set()
    assert classify(_ev("MODIFIED", {"app": "x"}, {"app": "y"}), match, None, visible) == "ADDED"
    assert visible == {"/k"} and len(parsed) == 2
    parsed.clear()
    assert classify(_ev("MODIFIED", {"app": "x"}, {"app": "x"}), match, None, visible) == "MODIFIED"
    assert len(parsed) == 1  # the previous state is known to match: not parsed again
    assert classify(_ev("MODIFIED", {"app": "y"}, {"app": "x"}), match, None, visible) == "DELETED"
    assert visible == set()
    assert classify(_ev("MODIFIED", {"app": "y"}, {"app": "y"}), match, None, visible) is None
    assert classify(_ev("ADDED", {"app": "x"}), match, None, visible) == "ADDED"
    assert classify(_ev("DELETED", {"app": "x"}), match, None, visible) == "DELETED" and visible == set()


def test_node_authorization() -> None:
    node = User("system:node:n1", ("system:nodes",), "n1")
    authorize_node(node, "update", "nodes", None, "status")
    authorize_node(node, "create", "leases", "kube-node-lease", None)
    authorize_node(node, "watch", "pods", None, None)
    authorize_node(node, "patch", "pods", "default", "status")
    authorize_node(node, "delete", "pods", "default", None)
    authorize_node(node, "create", "events", "default", None)
    authorize_node(node, "watch", "networkpolicies", None, None)  # the agent's policy filter
    authorize_node(node, "get", "runtimeclasses", None, None)  # a pod's class -> its handler
    authorize_node(node, "create", "tokenreviews", None, None)  # its server's webhook authentication
    authorize_node(node, "create", "subjectaccessreviews", None, None)  # and authorization
    for verb, res, ns, sub in (
        ("get", "subjectaccessreviews", None, None),
        ("create", "networkpolicies", "default", None),
        ("create", "runtimeclasses", None, None),
        ("create", "pods", "default", None),
        ("update", "pods", "default", None),
        ("create", "leases", "default", None),
        ("delete", "services", "default", None),
        ("create", "namespaces", None, None),
        ("update", "replicationcontrollers", "d", None),
    ):
        with pytest.raises(ApiError) as e:
            authorize_node(node, verb, res, ns, sub)
        assert e.value.code == 403


def test_authenticator() -> None:
    auth = Authenticator("admintoken", "s3cret", "ab" * 32)
    assert auth.authenticate(b"Bearer admintoken", None) is ADMIN
    # the node token bootstraps only: a bootstrapper, whatever node name a header claims
    u = auth.authenticate(b"Bearer node:s3cret", b"n1")
    assert not u.is_node and u.name.startswith("system:bootstrap:") and "system:bootstrappers" in u.groups
    assert not auth.authenticate(b"Bearer " + auth.node_token.encode(), None).is_node
    import base64

    bench = Authenticator("admintoken", "s3cret", "ab" * 32, trust_node_name_header=True)
    u = bench.authenticate(b"Bearer node:s3cret", b"n1")
    assert u.is_node and u.name == "system:node:n1"
    assert bench.authenticate(b"Basic " + base64.b64encode(b"node:s3cret"), b"n2").node_name == "n2"
    assert not bench.authenticate(b"Bearer node:s3cret", None).is_node  # no name: a bootstrapper
    for bad in (None, b"", b"Bearer nope", b"Token admintoken", b"Basic !!!"):
        with pytest.raises(ApiError):
            auth.authenticate(bad, None)
    assert "token: t\n" in kubeconfig_yaml("https://h:1", b"pem", "t")


def test_body_decoding() -> None:
    assert decode_body(b'{"a":1}', "") == {"a": 1}
    assert decode_body(b"a: 1\n", "") == {"a": 1}
    assert decode_body(b"a: 1\n", "application/yaml") == {"a": 1}
    for bad, ct in (
        (b"", ""),
        (b"{", "application/json"),
        (b"a: [", "application/yaml"),
        (b"[" * 200 + b"]" * 200, ""),
    ):
        with pytest.raises(ApiError) as e:
            decode_body(bad, ct)
        assert e.value.code == 400


def test_allocator_on_sqlite(tmp_path: Path) -> None:
    from apiserver.storage import open_store

    async def run() -> None:
        store = open_store(f"sqlite:///{tmp_path}/a.db", compact_interval=0)
        await store.start()
        try:
            alloc = Allocator(store, "10.0.0.0/29")  # 6 usable addresses; .1 is the kubernetes service's
            got = {await alloc.allocate_ip(f"ns/s{i}", None) for i in range(5)}
            assert got == {f"10.0.0.{i}" for i in range(2, 7)}
            with pytest.raises(ApiError) as e:
                await alloc.allocate_ip("ns/full", None)
            assert e.value.code == 422
            await alloc.release([IP_PREFIX + "10.0.0.4"])
            assert await alloc.allocate_ip("ns/again", None) == "10.0.0.4"
            svc: dict[str, Any] = {
                "metadata": {"name": "np", "namespace": "ns"},
                "spec": {"type": "NodePort", "clusterIP": "None", "ports": [{"port": 80}]},
            }
            keys = await alloc.allocate_service(svc)
            port = svc["spec"]["ports"][0]["nodePort"]
            assert keys == [f"/registry/allocations/nodeports/{port}"] and Allocator.held_keys(svc) == set(
                keys
            )
        finally:
            await store.close()

    asyncio.run(run())


def test_drop_unknown_paths() -> None:
    from apiserver.handlers.resources import drop_path

    obj: dict[str, Any] = {
        "spec": {"bogus": 1, "containers": [{"name": "c", "x": 2}]},
        "m": {"a.b": {"y": 1}},
    }
    drop_path(obj, "spec.bogus")
    drop_path(obj, "spec.containers[0].x")
    drop_path(obj, "m[a.b].y")
    drop_path(obj, "spec.containers[5].x")
    drop_path(obj, "nothing.here")
    assert obj == {"spec": {"containers": [{"name": "c"}]}, "m": {"a.b": {}}}


def test_certs_made_once_and_extended(tmp_path: Path) -> None:
    from cryptography import x509

    from apiserver.certs import ensure_certs

    first = ensure_certs(tmp_path, ["127.0.0.1"])
    ca, cert = first.ca_cert.read_bytes(), first.server_cert.read_bytes()
    again = ensure_certs(tmp_path, ["127.0.0.1"])
    assert again.ca_cert.read_bytes() == ca and again.server_cert.read_bytes() == cert  # reused on restart
    wider = ensure_certs(tmp_path, ["10.9.8.7", "api.example"])
    assert wider.ca_cert.read_bytes() == ca and wider.server_cert.read_bytes() != cert
    san = (
        x509.load_pem_x509_certificate(wider.server_cert.read_bytes())
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value
    )
    ips = {str(i) for i in san.get_values_for_type(x509.IPAddress)}
    assert {"10.9.8.7", "127.0.0.1"} <= ips and {"api.example", "localhost"} <= set(
        san.get_values_for_type(x509.DNSName)
    )
    assert (first.server_key.stat().st_mode & 0o777) == 0o600


def _pb_field(num: int, value: bytes | int) -> bytes:
    def varint(n: int) -> bytes:
        out = b""
        while True:
            b, n = n & 0x7F, n >> 7
            out += bytes([b | (0x80 if n else 0)])
            if not n:
                return out

    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    return varint(num << 3 | 2) + varint(len(value)) + value


def test_protobuf_bodies() -> None:
    from apiserver.handlers import protobuf

    meta = (
        _pb_field(1, b"web") + _pb_field(11, _pb_field(1, b"app") + _pb_field(2, b"web")) + _pb_field(2, b"")
    )
    port = _pb_field(1, b"http") + _pb_field(3, 80) + _pb_field(4, _pb_field(1, 1) + _pb_field(3, b"web"))
    spec = (
        _pb_field(1, port)
        + _pb_field(4, b"ClusterIP")
        + _pb_field(2, _pb_field(1, b"app") + _pb_field(2, b"web"))
    )
    raw = _pb_field(1, meta) + _pb_field(2, spec) + _pb_field(3, b"")
    body = protobuf.MAGIC + _pb_field(1, _pb_field(1, b"v1") + _pb_field(2, b"Service")) + _pb_field(2, raw)
    assert decode_body(body, protobuf.CONTENT_TYPE) == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "ports": [{"name": "http", "port": 80, "targetPort": "web"}],
            "type": "ClusterIP",
            "selector": {"app": "web"},
        },
    }
    node = protobuf.MAGIC + _pb_field(1, _pb_field(1, b"v1") + _pb_field(2, b"Node")) + _pb_field(2, b"")
    with pytest.raises(ApiError) as e:
        decode_body(node, protobuf.CONTENT_TYPE)
    assert e.value.code == 415  # a kind not decoded here

    def pod(spec: bytes) -> bytes:
        raw = _pb_field(1, _pb_field(1, b"dbg")) + _pb_field(2, spec)
        return protobuf.MAGIC + _pb_field(1, _pb_field(1, b"v1") + _pb_field(2, b"Pod")) + _pb_field(2, raw)

    container = _pb_field(1, b"c") + _pb_field(2, b"busybox") + _pb_field(16, 1) + _pb_field(18, 1)
    volume = _pb_field(1, b"host-root") + _pb_field(2, _pb_field(1, _pb_field(1, b"/") + _pb_field(2, b"")))
    # undecoded fields holding only zeros (Go writes every non-pointer field) are no value: here
    # PodSpec's hostnameOverride and workloadRef, newer than the 1.33 tables
    zeros = _pb_field(41, b"") + _pb_field(42, _pb_field(1, b"") + _pb_field(2, b""))
    spec = (
        _pb_field(2, container) + _pb_field(1, volume) + _pb_field(12, 1) + _pb_field(10, b"node-0") + zeros
    )
    assert decode_body(pod(spec), protobuf.CONTENT_TYPE) == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "dbg"},
        "spec": {
            "containers": [{"name": "c", "image": "busybox", "stdin": True, "tty": True}],
            "volumes": [{"name": "host-root", "hostPath": {"path": "/", "type": ""}}],  # a pointer
            "hostPID": True,
            "nodeName": "node-0",
        },
    }
    # a Pod is read strictly: an undecoded field with a value (hostnameOverride) is refused
    with pytest.raises(ApiError) as e:
        decode_body(pod(spec + _pb_field(41, b"other")), protobuf.CONTENT_TYPE)
    assert e.value.code == 415 and "PodSpec field 41" in e.value.message
    for bad in (b"nope", protobuf.MAGIC + b"\x0a\xff"):
        with pytest.raises(ApiError) as e:
            decode_body(bad, protobuf.CONTENT_TYPE)
        assert e.value.code == 400


def test_prefilter_never_rejects_a_match() -> None:
    from api import jsonutil
    from api.selectors import parse_field_selector
    from apiserver.handlers.prefilter import may_match

    pod_a = {
        "metadata": {"name": "a", "labels": {"app": "web", "tier": 'x"y'}},
        "spec": {"nodeName": "n1"},
        "status": {"phase": "Running"},
    }
    pod_b = {"metadata": {"name": "b", "labels": {"app": "db"}}, "spec": {"nodeName": "n2"}}
    cases = [
        ("app=web", ""),
        ("", "spec.nodeName=n1"),
        ("app in (web)", "status.phase=Running"),
        ('tier=x"y', ""),
        ("app!=db", ""),
        ("", "spec.nodeName!=n2"),
    ]
    for ls, fs in cases:
        labels, fields = parse_label_selector(ls), parse_field_selector(fs)
        test = may_match(labels, fields)
        for obj in (pod_a, pod_b):
            full = labels.matches(obj["metadata"]["labels"]) and fields.matches(obj)  # type: ignore[index]
            if full:
                assert test is None or test(jsonutil.dumps(obj)), (ls, fs, obj)
    test = may_match(parse_label_selector("app=web"), parse_field_selector("spec.nodeName=n1"))
    assert test is not None and test(jsonutil.dumps(pod_a)) and not test(jsonutil.dumps(pod_b))
    assert may_match(parse_label_selector("app!=web"), parse_field_selector("")) is None


def test_advertise_address() -> None:
    from apiserver.config import ServerConfig

    assert ServerConfig(Path("/d"), host="10.1.2.3").advertise_address == "10.1.2.3"
    assert (
        ServerConfig(
            Path("/d"), host="0.0.0.0", extra_sans=("127.0.0.1", "api.x", "192.168.5.1")
        ).advertise_address
        == "192.168.5.1"
    )
    wild = ServerConfig(Path("/d"), host="0.0.0.0")
    assert wild.advertise_address == "127.0.0.1" and wild.server_url == "https://127.0.0.1:6443"


def test_datastore_url_redacted() -> None:
    from apiserver.serve import redact

    assert redact("postgresql://u:s3cret@h/db") == "postgresql://u:***@h/db"
    assert redact("sqlite:////x/state.db") == "sqlite:////x/state.db"


def test_bad_datastore_is_one_line(tmp_path: Path) -> None:
    import subprocess

    from tests.apiserver.conftest import KUBELITE

    r = subprocess.run(
        [str(KUBELITE), "server", "--data-dir", str(tmp_path), "--datastore", "foo://x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and r.stderr.strip().startswith(
        "kubelite server: cannot open the datastore foo://x"
    )
    assert "Traceback" not in r.stderr
