"""Shared test helpers: manifests written to files, and side-by-side runs with the real kubectl."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

RC_AND_SERVICE = """apiVersion: v1
kind: ReplicationController
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: solo
  labels:
    tier: cache
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
"""


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def same(ours: Callable[..., Any], real: Callable[..., Any], *args: str, tries: int = 3) -> Any:
    """Run both; equal (exit code, stdout, stderr) expected. Ages may tick between the two runs,
    so a difference is retried a few times before it counts."""
    for _ in range(tries):
        a, b = ours(*args), real(*args)
        if (a.code, a.out, a.err) == (b.code, b.out, b.err):
            return a
    import difflib

    diff = "".join(
        difflib.unified_diff(
            (b.out + b.err).splitlines(True), (a.out + a.err).splitlines(True), "real", "ours"
        )
    )
    assert (a.code, a.out, a.err) == (b.code, b.out, b.err), f"kubectl {' '.join(args)} differs:\n{diff}"
    return a


def same_dry_run(ours: Callable[..., Any], real: Callable[..., Any], *args: str) -> dict[str, Any]:
    """`create ARGS --dry-run=client`: the same object in -o json (parsed), the same -o yaml and
    `-o name` text and the same `(dry run)` line. Returns the object."""
    import json

    a = ours(*args, "--dry-run=client", "-o", "json")
    b = real(*args, "--dry-run=client", "-o", "json")
    assert (a.code, a.err) == (b.code, b.err) == (0, ""), (args, a.err, b.err)
    obj: dict[str, Any] = json.loads(a.out)
    assert obj == json.loads(b.out), args
    for tail in (("-o", "yaml"), ("-o", "name"), ()):
        same(ours, real, *args, "--dry-run=client", *tail)
    return obj


def created_alike(
    ours: Callable[..., Any], real: Callable[..., Any], plural: str, name: str, *args: str
) -> dict[str, Any]:
    """`create ... o-NAME ARGS` by ours and `create ... r-NAME ARGS` by the real kubectl (the NAME
    in ARGS is where the generator's name goes): both say created, and what the server stored is
    the same but for names, times, uids and allocated addresses. Returns ours as stored."""
    import json
    import re

    stored = {}
    for who, run in (("o", ours), ("r", real)):
        given = [f"{who}-{name}" if a == name else a for a in args]
        r = run("create", *given)
        assert r.code == 0 and r.out.endswith(f"/{who}-{name} created\n"), (who, args, r.out, r.err)
        got = ours("get", plural, f"{who}-{name}", "-o", "json")
        assert got.code == 0, got.err
        text = re.sub(rf"\b{who}-{re.escape(name)}\b", name, got.out)
        obj = json.loads(text)
        meta = obj["metadata"]
        for k in ("uid", "resourceVersion", "creationTimestamp", "generation"):
            meta.pop(k, None)
        meta["managedFields"] = [
            {k: v for k, v in f.items() if k != "time"} for f in meta.get("managedFields") or []
        ]
        spec = obj.get("spec") or {}
        for k in ("clusterIP", "clusterIPs"):
            if spec.get(k) not in ("None", ["None"]):
                spec.pop(k, None)
        stored[who] = obj
    assert stored["o"] == stored["r"], args
    return stored["o"]
