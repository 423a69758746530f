"""A whole core/v1 Pod in protobuf (what `kubectl debug POD --copy-to` sends from kubectl 1.32 on)
decodes to the JSON object it means: Go pointers keep their zero (`runAsUser: 0`,
`allowPrivilegeEscalation: false`, `emptyDir: {}`), every other zero Go wrote is dropped, inline
structs are flattened, IntOrString, Quantity and Time read as JSON does; a field the tables do not
know refuses the Pod, and its status is skipped. The bodies are made by tests' encoder from the
decoder's tables, as Go writes them (every non-pointer field, zero or not)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from api.errors import ApiError
from apiserver.handlers import protobuf, protobuf_pod
from apiserver.handlers.protobuf_pod import INLINE, QUANTITIES, SKIP, B, N, S
from tests.apiserver_unit.pb_encode import encode, envelope, length_delimited, number, varint
from tests.rich_pod import RICH_POD


def _decode(obj: dict[str, Any], go_zeros: bool = True) -> dict[str, Any]:
    return protobuf.decode(envelope("v1", "Pod", encode(obj, "Pod", go_zeros)))


@pytest.mark.parametrize("go_zeros", [True, False], ids=["every-field-written", "only-set-fields"])
def test_a_rich_pod_decodes_to_the_object_sent(go_zeros: bool) -> None:
    assert _decode(RICH_POD, go_zeros) == RICH_POD


def test_pointers_keep_their_zero_and_other_zeros_are_dropped() -> None:
    spec = _decode(RICH_POD)["spec"]
    app = spec["containers"][0]
    assert (
        app["securityContext"]["runAsUser"] == 0
        and app["securityContext"]["allowPrivilegeEscalation"] is False
    )
    assert spec["terminationGracePeriodSeconds"] == 0 and spec["tolerations"][1]["tolerationSeconds"] == 0
    assert spec["volumes"][1] == {"name": "scratch", "emptyDir": {}}  # an empty pointer struct is a value
    assert spec["volumes"][3]["configMap"]["defaultMode"] == 0
    assert (
        spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0][
            "namespaceSelector"
        ]
        == {}
    )
    # Go wrote `stdin: false`, `hostIPC: false`, `resources: {}` and `divisor: "0"` for what was not set
    assert spec["containers"][0]["stdin"] is True and "stdinOnce" not in spec["containers"][0]
    assert "resources" not in spec["containers"][1]
    assert "hostIPC" not in spec and "hostNetwork" not in spec
    assert app["env"][4]["valueFrom"] == {
        "resourceFieldRef": {"containerName": "app", "resource": "limits.memory"}
    }
    assert spec["volumes"][2]["emptyDir"]["sizeLimit"] == "0"  # a pointer Quantity keeps its zero
    assert spec["volumes"][11]["iscsi"]["lun"] == 0  # not omitempty in JSON: kube shows `lun: 0`


def test_int_or_string_quantity_and_time_read_as_json() -> None:
    pod = _decode(RICH_POD)
    app = pod["spec"]["containers"][0]
    assert (
        app["livenessProbe"]["httpGet"]["port"] == "http"
        and app["readinessProbe"]["tcpSocket"]["port"] == 8080
    )
    assert app["resources"]["limits"] == {"cpu": "500m", "memory": "128Mi"}
    assert pod["metadata"]["creationTimestamp"] == "2025-03-04T05:06:07Z"
    assert pod["metadata"]["managedFields"][0]["fieldsV1"] == {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}}
    }


def test_status_is_skipped_not_refused() -> None:
    pod_status = length_delimited(1, b"Running") + length_delimited(5, b"10.0.0.1")  # phase, hostIP
    raw = encode(RICH_POD, "Pod", go_zeros=False) + length_delimited(3, pod_status)
    assert protobuf.decode(envelope("v1", "Pod", raw)) == RICH_POD


def test_a_field_not_in_the_tables_refuses_the_pod_unless_zero() -> None:
    spec = encode(RICH_POD["spec"], "PodSpec")
    override = length_delimited(41, b"other-name")  # PodSpec.hostnameOverride (1.34)
    pod = length_delimited(1, encode(RICH_POD["metadata"], "ObjectMeta"))
    with pytest.raises(ApiError) as e:
        protobuf.decode(envelope("v1", "Pod", pod + length_delimited(2, spec + override)))
    assert e.value.code == 415 and "PodSpec field 41 is not decoded here" in e.value.message
    zero = protobuf.decode(envelope("v1", "Pod", pod + length_delimited(2, spec + length_delimited(41, b""))))
    assert zero == RICH_POD


def test_packed_and_negative_integers() -> None:
    groups = length_delimited(4, varint(0) + varint(1000) + varint(-1))  # supplementalGroups, packed
    spec = length_delimited(14, groups) + number(25, -5)  # securityContext, priority
    assert protobuf.decode(envelope("v1", "Pod", length_delimited(2, spec)))["spec"] == {
        "securityContext": {"supplementalGroups": [0, 1000, -1]},
        "priority": -5,
    }


def _sample(name: str) -> dict[str, Any]:
    """An object of message `name` with every field set to something that is not its zero."""
    leaves: dict[str, Any] = {
        S: "s",
        N: 7,
        B: True,
        "map": {"k": "v"},
        QUANTITIES: {"cpu": "1"},
        "IntOrString": "http",
        "Time": "2025-01-02T03:04:05Z",
        "Quantity": "2Gi",
        "FieldsV1": {"f:a": {}},
    }
    obj: dict[str, Any] = {}
    for key, kind, repeated, *flags in protobuf.SCHEMAS[name].values():
        if kind == SKIP:
            continue
        if INLINE in flags:
            obj.update(_sample(kind))
            continue
        value = leaves[kind] if kind in leaves else _sample(kind)
        obj[key] = [value, copy.deepcopy(value)] if repeated else value
    return obj


def test_every_field_of_every_message_a_pod_reaches_decodes() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", **_sample("Pod")}
    assert _decode(pod) == pod
    spec = pod["spec"]
    assert len(spec["volumes"][0]) == 31  # name and all 30 volume types (VolumeSource inline)
    assert spec["ephemeralContainers"][0]["targetContainerName"] == "s"


def test_the_tables_are_whole() -> None:
    """Every message a field names is in the tables, and the Pod's module shares no message name
    with the other kinds' (one would hide the other)."""
    scalar = {S, N, B, "bytes", protobuf.BASE64, "map", "bytesmap", QUANTITIES, SKIP}
    for fields in protobuf.SCHEMAS.values():
        for _key, kind, _repeated, *_flags in fields.values():
            assert kind in scalar or kind in protobuf.SCHEMAS, kind
    assert all(protobuf.SCHEMAS[name] is fields for name, fields in protobuf_pod.SCHEMAS.items())
