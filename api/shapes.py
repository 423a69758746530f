"""TypedDict shapes of the objects the code reads most: ObjectMeta, OwnerReference, and the
parts of a Pod's spec and status the kubelet writes and the controllers read.

Objects travel as plain JSON dicts (decoded once, patched, re-encoded: no model round trips on
the hot paths); these shapes only let mypy check the field names and types where code reads or
builds them. Every shape is partial (`total=False`) and lists a subset of kube's fields (the
k8s.io/api/core/v1 and meta/v1 types): an object on the wire may carry more. Adopt them one
signature at a time; `dict[str, Any]` stays what an unknown object is.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

ConditionStatus = Literal["True", "False", "Unknown"]
PodPhase = Literal["Pending", "Running", "Succeeded", "Failed", "Unknown"]


class OwnerReference(TypedDict, total=False):
    apiVersion: str
    kind: str
    name: str
    uid: str
    controller: bool
    blockOwnerDeletion: bool


class ObjectMeta(TypedDict, total=False):
    name: str
    generateName: str
    namespace: str
    uid: str
    resourceVersion: str
    generation: int
    creationTimestamp: str | None
    deletionTimestamp: str | None
    deletionGracePeriodSeconds: int
    labels: dict[str, str]
    annotations: dict[str, str]
    ownerReferences: list[OwnerReference]
    finalizers: list[str]


class Condition(TypedDict, total=False):
    """A pod's condition (PodCondition); nodes' and workloads' conditions share these fields."""

    type: str
    status: ConditionStatus
    reason: str
    message: str
    lastProbeTime: str | None
    lastTransitionTime: str | None


class PodIP(TypedDict):
    ip: str


class ContainerStatus(TypedDict, total=False):
    name: str
    image: str
    imageID: str
    containerID: str
    ready: bool
    started: bool
    restartCount: int
    state: dict[str, Any]
    lastState: dict[str, Any]


class PodStatus(TypedDict, total=False):
    phase: PodPhase
    conditions: list[Condition]
    message: str
    reason: str
    hostIP: str
    hostIPs: list[PodIP]
    podIP: str
    podIPs: list[PodIP]
    startTime: str
    containerStatuses: list[ContainerStatus]
    initContainerStatuses: list[ContainerStatus]
    ephemeralContainerStatuses: list[ContainerStatus]
    qosClass: Literal["Guaranteed", "Burstable", "BestEffort"]


class Container(TypedDict, total=False):
    name: str
    image: str
    command: list[str]
    args: list[str]
    env: list[dict[str, Any]]
    ports: list[dict[str, Any]]
    resources: dict[str, dict[str, str]]
    volumeMounts: list[dict[str, Any]]


class PodSpec(TypedDict, total=False):
    containers: list[Container]
    initContainers: list[Container]
    ephemeralContainers: list[Container]
    restartPolicy: Literal["Always", "OnFailure", "Never"]
    nodeName: str
    serviceAccountName: str
    hostNetwork: bool
    terminationGracePeriodSeconds: int
    volumes: list[dict[str, Any]]


class Pod(TypedDict, total=False):
    apiVersion: str
    kind: str
    metadata: ObjectMeta
    spec: PodSpec
    status: PodStatus
