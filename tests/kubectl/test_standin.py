"""logs, exec and rolling-update against the stand-in server (the kubelet side of logs/exec and
ready pods for RCs come from other pieces; the stand-in speaks the same wire protocol)."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

import pytest

from tests.kubectl.helpers import write
from tests.kubectl.standin import StandIn, WebSocket

POD: dict[str, Any] = {
    "metadata": {"name": "web"},
    "spec": {"containers": [{"name": "app", "image": "x"}, {"name": "side", "image": "y"}]},
    "status": {"phase": "Running"},
}
RC: dict[str, Any] = {
    "metadata": {"name": "front", "labels": {"app": "front"}},
    "spec": {
        "replicas": 2,
        "selector": {"app": "front"},
        "template": {
            "metadata": {"labels": {"app": "front"}},
            "spec": {"containers": [{"name": "front", "image": "nginx:1"}]},
        },
    },
}


@pytest.fixture
def pod(standin: StandIn) -> StandIn:
    standin.put("pods", POD)
    standin.logs["web"] = "one\ntwo\nthree\n"
    return standin


def test_logs(pod, kubectl):
    r = kubectl("logs", "web")
    assert r.out == "one\ntwo\nthree\n"
    assert r.err == 'Defaulted container "app" out of: app, side\n'
    r = kubectl("logs", "pod/web", "-c", "side", "--tail=1", "--timestamps", "--since=5m", "--previous")
    assert (r.out, r.err) == ("three\n", "")
    _, path = pod.requests[-1]
    assert path.endswith(
        "/pods/web/log?container=side&timestamps=true&previous=true&tailLines=1&sinceSeconds=300"
    )
    r = kubectl("logs", "nope")
    assert (r.code, r.err) == (1, 'Error from server (NotFound): pods "nope" not found\n')
    assert kubectl("logs").code == 1


def _session(ws: WebSocket, q: dict[str, list[str]]) -> None:
    cmd = q.get("command") or ["attached"]
    if cmd[0] == "echo":
        ws.send(b"\x01" + " ".join(cmd[1:]).encode() + b"\n")
        ws.send(b"\x02to stderr\n")
        ws.send(b'\x03{"metadata":{},"status":"Success"}')
    elif cmd[0] == "exit":
        ws.send(
            b"\x03"
            + json.dumps(
                {
                    "metadata": {},
                    "status": "Failure",
                    "reason": "NonZeroExitCode",
                    "details": {"causes": [{"reason": "ExitCode", "message": cmd[1]}]},
                }
            ).encode()
        )
    elif cmd[0] == "cat":
        got = b""
        while True:
            frame = ws.recv()
            if frame is None or frame == b"\xff\x00":
                break
            assert frame[0] == 0
            got += frame[1:]
        ws.send(b"\x01" + got[::-1])
        ws.send(b'\x03{"metadata":{},"status":"Success"}')
    elif cmd[0] == "attached":
        ws.send(b"\x01output of the main process\n")
        ws.send(b'\x03{"metadata":{},"status":"Success"}')
    elif cmd[0] == "broken":
        ws.send(b'\x03{"metadata":{},"status":"Failure","message":"container not running"}')


def test_exec_output_exit_codes_and_stdin(pod, kubectl, monkeypatch):
    pod.exec_handler = _session
    r = kubectl("exec", "web", "-c", "app", "--", "echo", "hello", "world")
    assert (r.code, r.out, r.err) == (0, "hello world\n", "to stderr\n")
    ws_path = pod.requests[-1][1]
    assert "command=echo&command=hello&command=world&container=app&stdout=true&stderr=true" in ws_path
    r = kubectl("exec", "web", "-c", "app", "--", "exit", "7")
    assert (r.code, r.err) == (7, "command terminated with exit code 7\n")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"abc")))
    fake_stdin = _PipeStdin(b"stressed")
    monkeypatch.setattr("sys.stdin", fake_stdin)
    r = kubectl("exec", "-i", "web", "-c", "app", "--", "cat")
    fake_stdin.close()
    assert (r.code, r.out) == (0, "desserts")
    r = kubectl("exec", "web", "-c", "app", "--", "broken")
    assert (r.code, r.err) == (1, "error: container not running\n")
    r = kubectl("exec", "-t", "web", "-c", "app", "--", "echo", "x")
    assert r.err.startswith("Unable to use a TTY")


class _PipeStdin:
    """A stdin backed by a real pipe (exec reads the file descriptor)."""

    def __init__(self, data: bytes) -> None:
        import os

        self.r, w = os.pipe()
        os.write(w, data)
        os.close(w)

    def fileno(self) -> int:
        return self.r

    def isatty(self) -> bool:
        return False

    def close(self) -> None:
        import os

        try:
            os.close(self.r)
        except OSError:
            pass


def test_exec_refuses_completed_pods_and_missing_command(standin, kubectl):
    standin.put("pods", {**POD, "metadata": {"name": "done"}, "status": {"phase": "Succeeded"}})
    r = kubectl("exec", "done", "--", "true")
    assert (r.code, r.err) == (
        1,
        "error: cannot exec into a container in a completed pod; current phase is Succeeded\n",
    )
    assert kubectl("exec", "done").code == 1


def _rcs(s: StandIn) -> dict[str, Any]:
    return {k[2]: v for k, v in s.objects.items() if k[0] == "replicationcontrollers"}


def test_rolling_update_with_image_renames_back(standin, kubectl):
    standin.put("replicationcontrollers", RC)
    r = kubectl("rolling-update", "front", "--image=nginx:2", "--update-period=10ms", "--poll-interval=10ms")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    new = lines[0].split()[1]
    assert lines == [
        f"Created {new}",
        f"Scaling up {new} from 0 to 2, scaling down front from 2 to 0 (keep 2 pods available, "
        "don't exceed 3 pods)",
        f"Scaling {new} up to 1",
        "Scaling front down to 1",
        f"Scaling {new} up to 2",
        "Scaling front down to 0",
        "Update succeeded. Deleting front",
        f"Renaming {new} to front",
        'replicationcontroller "front" rolling updated',
    ]
    rcs = _rcs(standin)
    assert list(rcs) == ["front"]
    front = rcs["front"]
    assert front["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"
    assert front["spec"]["replicas"] == 2 and "deployment" in front["spec"]["selector"]
    r = kubectl("rolling-update", "front", "--image=nginx:2")
    assert r.code == 1 and "must be distinct" in r.err


def test_rolling_update_from_file_resumes_after_a_crash(standin, kubectl, tmp_path):
    standin.put("replicationcontrollers", RC)
    v2 = json.loads(json.dumps(RC))
    v2["metadata"]["name"] = "front-v2"
    v2["spec"]["selector"] = {"app": "front", "version": "2"}
    v2["spec"]["template"]["metadata"]["labels"] = {"app": "front", "version": "2"}
    path = str(
        write(tmp_path, "v2.json", json.dumps({"apiVersion": "v1", "kind": "ReplicationController", **v2}))
    )
    # a first run dies after the new RC was created and scaled to 1
    from kubectl import rolling_update

    calls = {"n": 0}
    real_set = rolling_update.Updater.set_replicas

    def dying(self: Any, name: str, n: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real_set(self, name, n)

    rolling_update.Updater.set_replicas = dying  # type: ignore[method-assign]
    try:
        r = kubectl("rolling-update", "front", "-f", path, "--update-period=10ms", "--poll-interval=10ms")
    finally:
        rolling_update.Updater.set_replicas = real_set  # type: ignore[method-assign]
    assert r.code == 130
    rcs = _rcs(standin)
    assert rcs["front-v2"]["spec"]["replicas"] == 1
    assert rcs["front-v2"]["metadata"]["annotations"]["kubectl.kubernetes.io/desired-replicas"] == "2"
    assert rcs["front"]["metadata"]["annotations"]["kubectl.kubernetes.io/next-controller-id"] == "front-v2"
    r = kubectl("rolling-update", "front", "-f", path, "--update-period=10ms", "--poll-interval=10ms")
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == "Continuing update with existing controller front-v2."
    assert r.out.splitlines()[-1] == 'replicationcontroller "front" rolling updated to "front-v2"'
    assert list(_rcs(standin)) == ["front-v2"] and _rcs(standin)["front-v2"]["spec"]["replicas"] == 2


def test_rolling_update_rollback(standin, kubectl, tmp_path):
    standin.put(
        "replicationcontrollers",
        {
            **RC,
            "metadata": {
                **RC["metadata"],
                "annotations": {"kubectl.kubernetes.io/next-controller-id": "front-v2"},
            },
            "spec": {**RC["spec"], "replicas": 1},
        },
    )
    standin.put(
        "replicationcontrollers",
        {
            "metadata": {
                "name": "front-v2",
                "annotations": {
                    "kubectl.kubernetes.io/desired-replicas": "2",
                    "kubectl.kubernetes.io/update-source-id": "front:x",
                },
            },
            "spec": {**RC["spec"], "replicas": 1, "selector": {"app": "front", "v": "2"}},
        },
    )
    r = kubectl("rolling-update", "front", "--rollback", "--update-period=10ms", "--poll-interval=10ms")
    assert r.code == 0, r.err
    assert r.out.splitlines()[-1] == 'replicationcontroller "front-v2" rolled back to "front"'
    rcs = _rcs(standin)
    assert list(rcs) == ["front"] and rcs["front"]["spec"]["replicas"] == 2
    assert "kubectl.kubernetes.io/next-controller-id" not in (
        rcs["front"]["metadata"].get("annotations") or {}
    )


def test_rolling_update_usage_errors(standin, kubectl, tmp_path):
    standin.put("replicationcontrollers", RC)
    assert kubectl("rolling-update", "front").err.startswith("error: Must specify --filename or --image")
    assert kubectl("rolling-update", "nope", "--image=x").code == 1
    same_name = write(
        tmp_path, "same.json", json.dumps({"apiVersion": "v1", "kind": "ReplicationController", **RC})
    )
    assert "cannot have the same name" in kubectl("rolling-update", "front", "-f", str(same_name)).err


def test_stand_in_threads_do_not_leak(standin):
    assert threading.active_count() < 50


def test_own_columns_when_the_server_sends_no_table(standin, kubectl):
    standin.tables = False
    standin.put(
        "pods",
        {
            "metadata": {"name": "a", "labels": {"x": "1"}},
            "spec": {"containers": [{"name": "c", "image": "i"}], "nodeName": "n1"},
            "status": {
                "phase": "Running",
                "podIP": "10.0.0.9",
                "containerStatuses": [
                    {"name": "c", "ready": True, "restartCount": 0, "state": {"running": {}}}
                ],
            },
        },
    )
    standin.put(
        "services",
        {
            "metadata": {"name": "s"},
            "spec": {
                "type": "NodePort",
                "clusterIP": "10.96.0.10",
                "ports": [{"port": 80, "nodePort": 30080}],
            },
        },
    )
    r = kubectl("get", "pods", "-o", "wide", "--show-labels")
    header, row = r.out.splitlines()
    assert header.split() == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED",
        "NODE",
        "READINESS",
        "GATES",
        "LABELS",
    ]
    assert row.split()[:4] == ["a", "1/1", "Running", "0"] and row.split()[5:] == [
        "10.0.0.9",
        "n1",
        "<none>",
        "<none>",
        "x=1",
    ]
    r = kubectl("get", "svc")
    assert r.out.splitlines()[1].split()[:5] == ["s", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP"]


def test_exec_tty_sends_size_and_relays_raw_input(pod, tmp_path):
    """-it on a real pseudo-terminal: tty=true, the window size first on channel 4, keystrokes on 0."""
    import fcntl
    import os
    import struct
    import subprocess
    import sys
    import termios

    seen: dict[str, Any] = {}

    def session(ws: WebSocket, q: dict[str, list[str]]) -> None:
        seen["query"] = q
        seen["resize"] = ws.recv()
        ws.send(b"\x01ready\r\n")
        got = b""
        while b"q" not in got:
            frame = ws.recv()
            if frame is None:
                break
            if frame[0] == 0:
                got += frame[1:]
        seen["stdin"] = got
        ws.send(
            b"\x03"
            + json.dumps(
                {
                    "status": "Failure",
                    "reason": "NonZeroExitCode",
                    "details": {"causes": [{"reason": "ExitCode", "message": "5"}]},
                }
            ).encode()
        )

    pod.exec_handler = session
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubectl.main", "exec", "-it", "web", "-c", "app", "--", "sh"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    try:
        out = b""
        while b"ready" not in out:
            out += os.read(leader, 1024)
        os.write(leader, b"ab q")  # raw mode: sent without waiting for a newline
        assert proc.wait(20) == 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    assert seen["query"]["tty"] == ["true"] and "stderr" not in seen["query"]
    assert seen["resize"][0] == 4 and json.loads(seen["resize"][1:]) == {"Width": 100, "Height": 30}
    assert seen["stdin"] == b"ab q"


def test_attach_and_label_list_and_scale_from_file(pod, kubectl, tmp_path):
    pod.exec_handler = _session
    r = kubectl("attach", "web", "-c", "app")
    assert (r.code, r.out) == (0, "output of the main process\n")
    assert "/pods/web/attach?container=app&stdout=true&stderr=true" in pod.requests[-1][1]
    assert kubectl("label", "pod", "web", "b=2", "a=1").code == 0
    assert kubectl("label", "pod", "web", "--list").out == "a=1\nb=2\n"
    pod.put("replicationcontrollers", RC)
    path = write(tmp_path, "rc.json", json.dumps({"apiVersion": "v1", "kind": "ReplicationController", **RC}))
    assert kubectl("scale", "--replicas=5", "-f", str(path)).out == "replicationcontroller/front scaled\n"
    assert _rcs(pod)["front"]["spec"]["replicas"] == 5


def test_apply_recomputes_the_patch_after_a_conflict(standin, kubectl, tmp_path, monkeypatch):
    from api.client import Client
    from api.errors import stale_conflict

    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    path = write(tmp_path, "p.json", json.dumps(manifest))
    assert kubectl("apply", "-f", str(path)).out == "pod/p created\n"
    manifest["spec"]["containers"][0]["image"] = "busybox:2"
    path.write_text(json.dumps(manifest))
    real_patch, calls = Client.patch, []

    def flaky(self: Any, *a: Any, **kw: Any) -> Any:
        calls.append(a)
        if len(calls) == 1:
            raise stale_conflict("pods", "p")
        return real_patch(self, *a, **kw)

    monkeypatch.setattr(Client, "patch", flaky)
    assert kubectl("apply", "-f", str(path)).out == "pod/p configured\n"
    assert len(calls) == 2
    assert standin.objects[("pods", "default", "p")]["spec"]["containers"][0]["image"] == "busybox:2"


def test_refused_upgrade_shows_the_status(pod, kubectl):
    from api.errors import service_unavailable

    pod.exec_refusal = service_unavailable("pods/exec is not available: no kubelet proxy in this server")
    r = kubectl("exec", "web", "-c", "app", "--", "ls")
    assert (r.code, r.err) == (
        1,
        "Error from server (ServiceUnavailable): pods/exec is not available: no kubelet "
        "proxy in this server\n",
    )
