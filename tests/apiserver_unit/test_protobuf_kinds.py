"""The protobuf bodies the real kubectl 1.33 sends for `create secret|serviceaccount|deployment|job|
cronjob` (captured from it, hex below) decode to the JSON objects it means."""

from __future__ import annotations

from typing import Any

from apiserver.handlers import protobuf
from tests.apiserver_unit.pb_encode import envelope

# captured `raw` of the runtime.Unknown envelope, kubectl 1.33 against a kubelite server
SECRET = "0a120a02733112001a0022002a00320038004200120d0a0475736572120561646d696e1a076d792f74797065"
SERVICE_ACCOUNT = "0a150a05726f626f7412001a0022002a00320038004200"
DEPLOYMENT = (
    "0a1d0a02643112001a0022002a003200380042005a090a03617070120264311295010802120b0a090a03617070120264311a7c0a1b0a"
    "0012001a0022002a003200380042005a090a0361707012026431125d123f0a0762757379626f78120962757379626f783a311a05736c"
    "6565701a0231302a00320a0a001000185022002a0042006a007200800100880100900100a201001a00320042004a00520058006000680"
    "08201008a01009a0100c2010022020a00280038001a0c080010001800200028003800"
)
JOB = (
    "0a120a026a3112001a0022002a00320038004200126232600a100a0012001a0022002a00320038004200124c12290a026a3112096275"
    "7379626f783a311a04747275652a0042006a007200800100880100900100a201001a054e65766572320042004a005200580060006800"
    "8201008a01009a0100c201001a082000280030003a00"
)
CRONJOB = (
    "0a130a03636a3112001a0022002a00320038004200128f010a0b2a2f31202a202a202a202a1a002a7e0a130a03636a3112001a002200"
    "2a00320038004200126732650a100a0012001a0022002a003200380042001251122a0a03636a31120962757379626f783a311a047472"
    "75652a0042006a007200800100880100900100a201001a094f6e4661696c757265320042004a0052005800600068008201008a01009a"
    "0100c201001a00"
)


def _decode(api_version: str, kind: str, raw_hex: str) -> dict[str, Any]:
    return protobuf.decode(envelope(api_version, kind, bytes.fromhex(raw_hex)))


def test_secret_data_is_base64() -> None:
    assert _decode("v1", "Secret", SECRET) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s1"},
        "data": {"user": "YWRtaW4="},
        "type": "my/type",
    }


def test_service_account() -> None:
    assert _decode("v1", "ServiceAccount", SERVICE_ACCOUNT)["metadata"] == {"name": "robot"}


def test_deployment_template() -> None:
    d = _decode("apps/v1", "Deployment", DEPLOYMENT)
    assert d["metadata"] == {"name": "d1", "labels": {"app": "d1"}}
    spec = d["spec"]
    assert spec["replicas"] == 2 and spec["selector"] == {"matchLabels": {"app": "d1"}}
    assert spec["template"]["metadata"] == {"labels": {"app": "d1"}}
    assert spec["template"]["spec"]["containers"] == [
        {
            "name": "busybox",
            "image": "busybox:1",
            "command": ["sleep", "10"],
            "ports": [{"containerPort": 80}],
        }
    ]


def test_job_and_cronjob() -> None:
    job = _decode("batch/v1", "Job", JOB)
    assert job["spec"]["template"]["spec"] == {
        "containers": [{"name": "j1", "image": "busybox:1", "command": ["true"]}],
        "restartPolicy": "Never",
    }
    cj = _decode("batch/v1", "CronJob", CRONJOB)
    assert cj["spec"]["schedule"] == "*/1 * * * *"
    tmpl = cj["spec"]["jobTemplate"]
    assert tmpl["metadata"] == {"name": "cj1"}
    assert tmpl["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
