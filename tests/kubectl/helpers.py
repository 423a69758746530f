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
