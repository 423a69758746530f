"""Pure pieces of kubectl: flags, ages, table layout, YAML/JSON output, JSONPath, strategic patches."""

from __future__ import annotations

import copy

import pytest

from api.humanize import human_duration
from api.podstatus import pod_status_cells
from api.strategic import PathShape, merge_key, merge_patch, strategic_merge
from kubectl import jsonpath, output, strategic
from kubectl.cmd_exec import exec_url, exit_code_of
from kubectl.env import parse_duration
from kubectl.flags import UsageError, parse
from kubectl.main import split_verb
from kubectl.tables import TabWriter, go_tabwriter

SPEC = {
    "output": ("str", "", "o"),
    "watch": ("bool", False, "w"),
    "stdin": ("bool", False, "i"),
    "tty": ("bool", False, "t"),
    "replicas": ("int", -1, ""),
    "filename": ("list", [], "f"),
}


def test_flags_as_cobra_reads_them():
    p = parse(
        ["pods", "-oyaml", "-n", "x", "web", "--replicas=3", "-it", "-f", "a.yaml,b.yaml", "--", "sh", "-c"],
        SPEC,
    )
    assert p.args == ["pods", "web"] and p.command == ["sh", "-c"]
    assert p["output"] == "yaml" and p["namespace"] == "x" and p["replicas"] == 3
    assert p["stdin"] and p["tty"] and p["filename"] == ["a.yaml", "b.yaml"]
    assert parse(["--watch=false", "-o=json"], SPEC)["watch"] is False
    with pytest.raises(UsageError, match="unknown flag: --nope"):
        parse(["--nope"], SPEC)
    with pytest.raises(UsageError, match="flag needs an argument"):
        parse(["-o"], SPEC)
    with pytest.raises(UsageError, match="invalid argument"):
        parse(["--replicas=x"], SPEC)


def test_verb_found_after_global_flags():
    assert split_verb(["-n", "x", "--context=c", "get", "pods"]) == (
        "get",
        ["-n", "x", "--context=c", "pods"],
    )
    assert split_verb(["--insecure-skip-tls-verify", "version"]) == (
        "version",
        ["--insecure-skip-tls-verify"],
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (59, "59s"),
        (119, "119s"),
        (182, "3m2s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (10 * 3600, "10h"),
        (2 * 86400, "2d"),
        (2 * 86400 + 3600, "2d1h"),
        (30 * 86400, "30d"),
        (3 * 365 * 86400, "3y"),
        (-5, "<invalid>"),
    ],
)
def test_ages_like_kubectl(seconds, text):
    assert human_duration(seconds) == text


def test_durations():
    assert parse_duration("1m30s") == 90 and parse_duration("500ms") == 0.5 and parse_duration("7") == 7
    with pytest.raises(UsageError):
        parse_duration("soon")


def test_table_layout_min_width_and_padding():
    assert (
        TabWriter().format([["NAME", "A", "AGE"], ["web", "1/1", "5s"]])
        == "NAME   A     AGE\nweb    1/1   5s\n"
    )


def test_go_tabwriter_blocks_reset_at_lines_without_cells():
    text = go_tabwriter(
        [
            "Name:\tx",
            "Namespace:\tdefault",
            "Containers:",
            "  c:",
            "    Image:\tbusybox",
            "    Environment:\t<none>",
            "Volumes:\t<none>",
        ]
    )
    assert text == (
        "Name:       x\nNamespace:  default\nContainers:\n  c:\n    Image:        busybox\n"
        "    Environment:  <none>\nVolumes:          <none>\n"
    )


def test_yaml_like_go_yaml():
    doc = {
        "metadata": {"name": "web", "resourceVersion": "12", "annotations": {"a": "{}\n", "y": "on"}},
        "spec": {
            "containers": [{"name": "c", "args": ["-c", "a: b"], "ports": [{"containerPort": 80}]}],
            "empty": {},
            "none": [],
            "flag": True,
            "when": "2024-01-01T00:00:00Z",
            "n": None,
        },
    }
    assert (
        output.to_yaml(doc)
        == """metadata:
  annotations:
    a: |
      {}
    "y": "on"
  name: web
  resourceVersion: "12"
spec:
  containers:
  - args:
    - -c
    - 'a: b'
    name: c
    ports:
    - containerPort: 80
  empty: {}
  flag: true
  "n": null
  none: []
  when: "2024-01-01T00:00:00Z"
"""
    )


def test_json_sorted_four_spaces_html_escaped():
    assert output.to_json({"b": 1, "a": "<x>"}) == '{\n    "a": "\\u003cx\\u003e",\n    "b": 1\n}\n'


def test_jsonpath():
    data = {
        "items": [
            {
                "metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "x"}},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]},
            },
            {"metadata": {"name": "b"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}},
        ]
    }
    assert jsonpath.render("{.items[*].metadata.name}", data) == "a b"
    assert (
        jsonpath.render(
            '{range .items[*]}{.metadata.name}{"\\t"}{.status.conditions[?(@.type=="Ready")].status}'
            '{"\\n"}{end}',
            data,
        )
        == "a\tTrue\nb\tFalse\n"
    )
    assert jsonpath.render("{.items[0].metadata.labels['app.kubernetes.io/name']}", data) == "x"
    assert jsonpath.render("{.items[-1].metadata.name}", data) == "b"
    assert jsonpath.render("{.items[0].metadata}", data).startswith('{"name":"a"')
    assert jsonpath.render("{..name}", data) == "a b"
    assert jsonpath.render("{.nothing}", data) == ""
    assert jsonpath.relaxed("metadata.name") == ".metadata.name"
    # brackets and braces inside quotes do not close anything; an unclosed one is an error
    quoted = {"metadata": {"labels": {"a]}b": "q"}}}
    assert jsonpath.render("{.metadata.labels['a]}b']}", quoted) == "q"
    for bad in ("{.items[0}", "{.items[0].metadata.name"):
        with pytest.raises(jsonpath.JSONPathError, match="unclosed"):
            jsonpath.render(bad, data)


def test_custom_columns():
    cols = output.parse_custom_columns("NAME:.metadata.name,IMAGES:.spec.containers[*].image,X:.nope")
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"image": "a"}, {"image": "b"}]}}
    assert output.custom_column_cells(cols, pod) == ["p", "a,b", "<none>"]
    with pytest.raises(ValueError):
        output.parse_custom_columns("NAME")


def test_three_way_patch_removes_what_the_manifest_dropped():
    original = {
        "metadata": {"labels": {"a": "1", "b": "2"}},
        "spec": {"containers": [{"name": "web", "image": "x:1", "env": [{"name": "A", "value": "1"}]}]},
    }
    modified = {"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "web", "image": "x:2"}]}}
    current = {
        "metadata": {"labels": {"a": "1", "b": "2", "other": "keep"}, "uid": "u"},
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "x:1",
                    "env": [{"name": "A", "value": "1"}],
                    "imagePullPolicy": "Always",
                }
            ],
            "nodeName": "n1",
        },
    }
    patch = strategic.three_way_patch(original, modified, current)
    assert patch == {
        "metadata": {"labels": {"b": None}},
        "spec": {
            "containers": [{"name": "web", "env": None, "image": "x:2"}],
            "$setElementOrder/containers": [{"name": "web"}],
        },
    }
    result = strategic_merge(copy.deepcopy(current), patch, PathShape())
    assert result["metadata"]["labels"] == {"a": "1", "other": "keep"}
    assert result["spec"]["containers"] == [{"name": "web", "image": "x:2", "imagePullPolicy": "Always"}]
    assert result["spec"]["nodeName"] == "n1"
    assert strategic.three_way_patch(modified, modified, result) == {}


def test_list_items_deleted_by_key_and_ports_keyed_by_context():
    original = {"spec": {"ports": [{"port": 80}, {"port": 443}]}}
    modified = {"spec": {"ports": [{"port": 80}]}}
    patch = strategic.three_way_patch(original, modified, original)
    assert patch["spec"]["ports"] == [{"port": 443, "$patch": "delete"}]
    assert strategic_merge(copy.deepcopy(original), patch, PathShape()) == modified
    assert merge_key(("spec", "containers", "ports")) == "containerPort"
    assert merge_key(("spec", "ports")) == "port"
    assert merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None}}) == {"a": {"c": 2}}


def test_pod_status_column():
    running = {
        "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {"name": "a", "ready": True, "restartCount": 2, "state": {"running": {}}},
                {
                    "name": "b",
                    "ready": False,
                    "restartCount": 1,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                },
            ],
        },
    }
    assert pod_status_cells(running) == ("1/2", "CrashLoopBackOff", "3")
    assert (
        pod_status_cells({"metadata": {"deletionTimestamp": "x"}, "status": {"phase": "Running"}})[1]
        == "Terminating"
    )


def test_exec_status_and_url():
    assert exit_code_of({"status": "Success"}) == (0, "")
    assert exit_code_of(
        {
            "status": "Failure",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "42"}]},
        }
    ) == (42, "command terminated with exit code 42")
    assert exit_code_of({"status": "Failure", "message": "boom"}) == (1, "error: boom")
    url = exec_url(
        "https://h:1", "/api/v1/namespaces/d/pods/p/exec", ["sh", "-c", "echo hi"], "c", True, True
    )
    assert url == (
        "wss://h:1/api/v1/namespaces/d/pods/p/exec?command=sh&command=-c&command=echo+hi&container=c"
        "&stdin=true&stdout=true&tty=true"
    )


def test_fast_client_speaks_http11_to_a_plain_server():
    """Keep-alive, Content-Length and chunked bodies, Status errors, a closed connection retried."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from api.client import Client, ConnectionFailed
    from api.config import ClientConfig
    from api.errors import ApiError
    from api.requests import Request

    seen: list[tuple[str, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            if self.path == "/chunked":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for part in (b'{"a":', b"1}"):
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            elif self.path == "/missing":
                body = b'{"kind":"Status","status":"Failure","reason":"NotFound","message":"x not found","code":404}'
                self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                body = b"plain text"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                if self.path == "/close":
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        c = Client(ClientConfig(server=f"http://127.0.0.1:{srv.server_address[1]}", token="tok"))
        assert c.call(Request("GET", "/chunked")) == {"a": 1}
        assert c.call(Request("GET", "/text")) == "plain text"
        with pytest.raises(ApiError) as e:
            c.call(Request("GET", "/missing"))
        assert (e.value.code, e.value.reason) == (404, "NotFound")
        assert c.call(Request("GET", "/close")) == "plain text"
        assert c.call(Request("GET", "/again")) == "plain text"  # reconnected after the server closed
        assert seen[0] == ("/chunked", "Bearer tok")
        c.close()
    finally:
        srv.shutdown()
        srv.server_close()
    with pytest.raises(ConnectionFailed) as down:
        Client(ClientConfig(server=f"http://127.0.0.1:{srv.server_address[1]}")).call(Request("GET", "/"))
    assert isinstance(down.value.__cause__, ConnectionRefusedError)
