"""Restart policy, CrashLoopBackOff timing, and container environment building."""

import pytest

from kubelet.env import container_env, expand, service_env
from kubelet.restart import Backoff, crash_loop_message, should_restart


def test_should_restart():
    assert should_restart("Always", 0) and should_restart("Always", 1)
    assert should_restart("OnFailure", 1) and not should_restart("OnFailure", 0)
    assert not should_restart("Never", 1)


def test_backoff_doubles_caps_and_resets_after_long_run():
    b = Backoff()
    assert b.failed("k", now=0) == 10
    assert b.remaining("k", now=4) == 6
    assert b.failed("k", now=10) == 20
    delays = [b.failed("k", now=t) for t in range(20, 30)]
    assert delays[-1] == 300 and max(delays) == 300
    assert b.failed("k", now=1000, ran_for=600) == 10  # ran 10 minutes: forgotten
    b.forget("k")
    assert b.remaining("k", now=1000) == 0


def test_crash_loop_message():
    assert (
        crash_loop_message(20, "c", "p", "default", "u1")
        == "back-off 20s restarting failed container=c pod=p_default(u1)"
    )
    assert crash_loop_message(300, "c", "p", "ns", "u").startswith("back-off 5m0s ")


def test_service_env_has_kubernetes_and_docker_link_variables():
    svc = {
        "metadata": {"name": "web-svc"},
        "spec": {"clusterIP": "10.96.0.12", "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
    }
    env = service_env(
        [svc, {"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "ports": [{"port": 1}]}}]
    )
    assert env["WEB_SVC_SERVICE_HOST"] == "10.96.0.12"
    assert env["WEB_SVC_SERVICE_PORT"] == "80" and env["WEB_SVC_SERVICE_PORT_HTTP"] == "80"
    assert env["WEB_SVC_PORT"] == "tcp://10.96.0.12:80"
    assert env["WEB_SVC_PORT_80_TCP_ADDR"] == "10.96.0.12"
    assert not any(k.startswith("H_") for k in env)


def test_expand():
    assert expand("$(A)-$(B)-$$(A)-$(MISSING)", {"A": "1", "B": "2"}) == "1-2-$(A)-$(MISSING)"


def test_container_env_downward_api_and_order():
    pod = {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u", "labels": {"app": "x"}},
        "spec": {"nodeName": "n1"},
    }
    c = {
        "env": [
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "GREETING", "value": "hi $(POD) on $(NODE)"},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        ]
    }
    env = container_env(pod, c, "10.244.0.5", "192.168.0.2")
    assert env == {"POD": "p", "IP": "10.244.0.5", "APP": "x", "GREETING": "hi p on $(NODE)", "NODE": "n1"}
    with pytest.raises(ValueError):
        container_env(
            pod, {"env": [{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}}]}, "", ""
        )
