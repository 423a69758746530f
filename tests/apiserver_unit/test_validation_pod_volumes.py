"""A Pod's volumes and volume mounts as kube-apiserver validates them: one source each, unique
names, mounts that refer to a volume, propagation and recursive read-only, and paths (subPath,
projected files) that stay inside the volume.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.apiserver_unit.validation_cases import (
    Case,
    Causes,
    Obj,
    check_rule,
    dup,
    forbidden,
    inv,
    req,
    rules,
    setp,
    unsupported,
)

CASES: list[Case] = [
    (
        "volume-name-unique",
        "pods",
        setp("spec.volumes", [{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}]),
        [dup("spec.volumes[1].name", '"data"')],
    ),
    (
        "volume-one-source",
        "pods",
        setp("spec.volumes", [{"name": "data", "emptyDir": {}, "hostPath": {"path": "/x"}}]),
        [forbidden("spec.volumes[0].hostPath", "may not specify more than 1 volume type")],
    ),
    (
        "volume-mount-refers",
        "pods",
        setp("spec.containers.0.volumeMounts", [{"name": "nope", "mountPath": "/d"}]),
        [
            {
                "reason": "FieldValueNotFound",
                "message": 'Not found: "nope"',
                "field": "spec.containers[0].volumeMounts[0].name",
            }
        ],
    ),
    (
        "volume-mount-path",
        "pods",
        lambda o: (
            o["spec"].update(volumes=[{"name": "d"}]),
            o["spec"]["containers"][0].update(volumeMounts=[{"name": "d"}]),
        ),
        [req("spec.containers[0].volumeMounts[0].mountPath")],
    ),
    (
        "host-path-type",
        "pods",
        setp("spec.volumes", [{"name": "d", "hostPath": {"path": "/x", "type": "Folder"}}]),
        [
            unsupported(
                "spec.volumes[0].hostPath.type",
                '"Folder"',
                '"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"',
            )
        ],
    ),
    (
        "mount-propagation-and-recursive-read-only",
        "pods",
        lambda o: (
            o["spec"].update(volumes=[{"name": "d", "hostPath": {"path": "/x"}}]),
            o["spec"]["containers"][0].update(
                volumeMounts=[
                    {"name": "d", "mountPath": "/a", "mountPropagation": "Bidirectional"},
                    {"name": "d", "mountPath": "/b", "recursiveReadOnly": "Enabled"},
                    {
                        "name": "d",
                        "mountPath": "/c",
                        "readOnly": True,
                        "recursiveReadOnly": "IfPossible",
                        "mountPropagation": "HostToContainer",
                    },
                    {"name": "d", "mountPath": "/e", "mountPropagation": "Sideways"},
                ]
            ),
        ),
        [
            forbidden(
                "spec.containers[0].volumeMounts[0].mountPropagation",
                "Bidirectional mount propagation is available only to privileged containers",
            ),
            forbidden(
                "spec.containers[0].volumeMounts[1].recursiveReadOnly",
                "may only be specified when readOnly is specified",
            ),
            forbidden(
                "spec.containers[0].volumeMounts[2].recursiveReadOnly",
                "may only be specified when mountPropagation is None or not specified",
            ),
            unsupported(
                "spec.containers[0].volumeMounts[3].mountPropagation",
                '"Sideways"',
                '"Bidirectional", "HostToContainer", "None"',
            ),
        ],
    ),
    (
        "volume-mount-subpath-stays-inside",
        "pods",
        lambda o: (
            o["spec"].update(volumes=[{"name": "d", "emptyDir": {}}]),
            o["spec"]["containers"][0].update(
                volumeMounts=[
                    {"name": "d", "mountPath": "/a", "subPath": "/etc"},
                    {"name": "d", "mountPath": "/b", "subPath": "x/../../etc"},
                    {"name": "d", "mountPath": "/c", "subPath": "logs/..x"},  # a name, not a step up
                    {"name": "d", "mountPath": "/e", "subPath": "x", "subPathExpr": "$(POD_NAME)"},
                ]
            ),
        ),
        [
            inv("spec.containers[0].volumeMounts[0].subPath", '"/etc"', "must be a relative path"),
            inv("spec.containers[0].volumeMounts[1].subPath", '"x/../../etc"', "must not contain '..'"),
            inv(
                "spec.containers[0].volumeMounts[3].subPathExpr",
                '"$(POD_NAME)"',
                "subPathExpr and subPath are mutually exclusive",
            ),
        ],
    ),
    (
        "projected-file-paths-stay-inside",
        "pods",
        setp(
            "spec.volumes",
            [
                {
                    "name": "c",
                    "configMap": {"name": "cm", "items": [{"key": "k", "path": "/root/.ssh/keys"}]},
                },
                {"name": "s", "secret": {"secretName": "s", "items": [{"key": "k", "path": "..data/k"}]}},
                {
                    "name": "d",
                    "downwardAPI": {
                        "items": [{"path": "a/../../b", "fieldRef": {"fieldPath": "metadata.name"}}]
                    },
                },
                {
                    "name": "p",
                    "projected": {
                        "sources": [
                            {"serviceAccountToken": {"path": "/token"}},
                            {"configMap": {"name": "cm", "items": [{"key": "k", "path": "ok/file"}]}},
                        ]
                    },
                },
            ],
        ),
        [
            inv("spec.volumes[0].configMap.items[0].path", '"/root/.ssh/keys"', "must be a relative path"),
            inv("spec.volumes[1].secret.items[0].path", '"..data/k"', "must not start with '..'"),
            inv("spec.volumes[2].downwardAPI.items[0].path", '"a/../../b"', "must not contain '..'"),
            inv(
                "spec.volumes[3].projected.sources[0].serviceAccountToken.path",
                '"/token"',
                "must be a relative path",
            ),
        ],
    ),
]


@rules(CASES)
def test_rule(plural: str, mutate: Callable[[Obj], object], causes: Causes) -> None:
    check_rule(plural, mutate, causes)
