"""`kubelite runtime build` (a Dockerfile subset) and `commit`: images made from real containers.

Supported: FROM (a local image or scratch), COPY/ADD of local files, RUN (in a real container on
the current rootfs; its overlay upper dir becomes the step's layer), ENV, WORKDIR, USER, CMD,
ENTRYPOINT, EXPOSE, LABEL, ARG. Each layer-making step leaves an untagged intermediate image,
and a cache entry keyed by (parent, instruction, content of the files it copies), so an
unchanged step is not run again. ADD does not fetch URLs or unpack archives (local copy only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.containers.errors import ContainerError, InvalidConfig
from runtime.containers.service import Containers, RunRequest

if TYPE_CHECKING:
    from runtime.images import Image, ImageStore, LayerRef

# created by runc as mount points; dropped from a RUN layer when the image did not have them
MOUNTPOINTS = ("proc", "sys", "dev", "etc/hosts", "etc/hostname", "etc/resolv.conf")


class BuildError(ContainerError):
    pass


@dataclass
class Instruction:
    line: int
    op: str
    args: str  # raw text after the keyword


def parse_dockerfile(text: str) -> list[Instruction]:
    """Join continuations, drop comments; an unknown instruction is an error naming its line."""
    out: list[Instruction] = []
    buf, start = "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if not buf:
            start = n
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        op, _, rest = buf.partition(" ")
        op = op.upper()
        if op not in (
            "FROM",
            "RUN",
            "COPY",
            "ADD",
            "ENV",
            "WORKDIR",
            "USER",
            "CMD",
            "ENTRYPOINT",
            "EXPOSE",
            "LABEL",
            "ARG",
        ):
            raise BuildError(f"Dockerfile line {start}: unknown instruction {op}")
        out.append(Instruction(start, op, rest.strip()))
        buf = ""
    if not out or out[0].op not in ("FROM", "ARG"):
        raise BuildError("Dockerfile must start with FROM")
    return out


def json_or_shell(text: str) -> list[str]:
    """`["a", "b"]` (exec form) or `a b` (shell form -> /bin/sh -c)."""
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return ["/bin/sh", "-c", text]


def substitute(text: str, env: dict[str, str]) -> str:
    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", lambda m: env.get(m.group(1) or m.group(2), ""), text)


def key_values(text: str) -> dict[str, str]:
    """`K=V K2="v 2"` or the legacy `K V...` form."""
    parts = shlex.split(text)
    if parts and "=" not in parts[0]:
        return {parts[0]: " ".join(parts[1:])}
    out = {}
    for p in parts:
        k, eq, v = p.partition("=")
        if not eq:
            raise BuildError(f"expected KEY=VALUE, got {p!r}")
        out[k] = v
    return out


@dataclass
class State:
    config: dict[str, Any]  # the full OCI image config
    layers: list[LayerRef] = field(default_factory=list)
    image_id: str = ""  # of the last layer-making step ("" = scratch)
    cache_key: str = ""

    @property
    def section(self) -> dict[str, Any]:
        return self.config.setdefault("config", {})

    def env(self) -> dict[str, str]:
        return dict(e.partition("=")[::2] for e in self.section.get("Env") or [])


def _empty_config() -> dict[str, Any]:
    import platform

    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return {
        "architecture": arch,
        "os": "linux",
        "config": {"Env": [], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [],
    }


class Builder:
    def __init__(
        self,
        containers: Containers,
        context: Path,
        build_args: dict[str, str],
        no_cache: bool = False,
        out: Any = sys.stdout,
    ) -> None:
        self.c = containers
        self.store: ImageStore = containers.images
        self.context = context.resolve()
        self.build_args = build_args
        self.no_cache = no_cache
        self.out = out
        self.cache_dir = Path(containers.root) / "build-cache"

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def build(self, instructions: list[Instruction], tags: list[str]) -> Image:
        args: dict[str, str] = {}
        state: State | None = None
        total = len(instructions)
        for i, ins in enumerate(instructions, 1):
            self.say(f"STEP {i}/{total}: {ins.op} {ins.args}")
            if ins.op == "ARG":
                name, _, default = ins.args.partition("=")
                args[name.strip()] = self.build_args.get(name.strip(), default.strip())
                continue
            if ins.op == "FROM":
                state = self._from(substitute(ins.args, args))
                continue
            if state is None:
                raise BuildError(f"Dockerfile line {ins.line}: {ins.op} before FROM")
            self._step(state, ins, args)
        assert state is not None
        state.config["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        image = self.store.create_image(state.config, state.layers, tags)
        self.say(f"COMMIT {', '.join(tags) or image.id}\n{image.id}")
        return image

    def _from(self, ref: str) -> State:
        if ref == "scratch":
            return State(_empty_config(), cache_key="scratch")
        image = self.store.resolve(ref)
        if image is None:
            raise BuildError(f"FROM {ref}: image not found (pull, load or build it first)")
        config = json.loads(json.dumps(image.config))
        config.setdefault("history", [])
        return State(config, list(image.layers), image.id, cache_key=image.id)

    def _step(self, state: State, ins: Instruction, args: dict[str, str]) -> None:
        sec = state.section
        env = {**args, **state.env()}
        text = substitute(ins.args, env) if ins.op not in ("RUN", "CMD", "ENTRYPOINT") else ins.args
        if ins.op == "ENV":
            merged = state.env()
            merged.update(key_values(text))
            sec["Env"] = [f"{k}={v}" for k, v in merged.items()]
        elif ins.op == "WORKDIR":
            sec["WorkingDir"] = os.path.normpath(os.path.join(sec.get("WorkingDir") or "/", text))
        elif ins.op == "USER":
            sec["User"] = text
        elif ins.op == "CMD":
            sec["Cmd"] = json_or_shell(text)
        elif ins.op == "ENTRYPOINT":
            sec["Entrypoint"] = json_or_shell(text)
        elif ins.op == "EXPOSE":
            ports = sec.setdefault("ExposedPorts", {})
            for p in text.split():
                ports[p if "/" in p else f"{p}/tcp"] = {}
        elif ins.op == "LABEL":
            sec.setdefault("Labels", {}).update(key_values(text))
        elif ins.op in ("COPY", "ADD"):
            self._layer_step(state, ins, text, lambda upper: self._copy(text, upper, ins))
            return
        elif ins.op == "RUN":
            self._layer_step(state, ins, text, lambda upper: self._run(state, text, args, upper))
            return
        state.cache_key = _hash(state.cache_key, ins.op, text)
        state.config["history"].append({"created_by": f"{ins.op} {text}", "empty_layer": True})

    def _layer_step(self, state: State, ins: Instruction, text: str, make: Any) -> None:
        content = self._content_digest(text) if ins.op in ("COPY", "ADD") else ""
        key = _hash(state.cache_key, json.dumps(state.section, sort_keys=True), ins.op, text, content)
        cached = self._cache_get(key)
        if cached is not None:
            self.say(" ---> Using cache")
            state.layers, state.image_id, state.cache_key = list(cached.layers), cached.id, key
            state.config["history"].append({"created_by": f"{ins.op} {text}"})
            return
        with tempfile.TemporaryDirectory(dir=self.c.root) as tmp:
            layer = make(Path(tmp))
        state.layers.append(layer)
        state.config["history"].append({"created_by": f"{ins.op} {text}"})
        image = self.store.create_image(state.config, state.layers, [])
        state.image_id, state.cache_key = image.id, key
        self._cache_put(key, image.id)

    def _copy(self, text: str, tmp: Path, ins: Instruction) -> LayerRef:
        parts = json_or_shell(text) if text.startswith("[") else shlex.split(text)
        parts = [p for p in parts if not p.startswith("--")]
        if len(parts) < 2:
            raise BuildError(f"Dockerfile line {ins.line}: {ins.op} needs a source and a destination")
        *srcs, dest = parts
        upper = tmp / "upper"
        upper.mkdir()
        dest_is_dir = dest.endswith("/") or len(srcs) > 1
        for src in srcs:
            path = (self.context / src).resolve()
            if not str(path).startswith(str(self.context)) or not path.exists():
                raise BuildError(f"Dockerfile line {ins.line}: {src}: not found in the build context")
            target = upper / dest.lstrip("/")
            if path.is_dir():
                shutil.copytree(path, target, symlinks=True, dirs_exist_ok=True)
            else:
                if dest_is_dir or target.is_dir():
                    target = target / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        return self.store.layer_from_dir(upper)

    def _run(self, state: State, text: str, args: dict[str, str], tmp: Path) -> LayerRef:
        if state.image_id == "" and not state.layers:
            raise BuildError("RUN needs a FROM image with a shell")
        image = self.store.resolve(state.image_id) if state.image_id else None
        if image is None or image.layers != state.layers:
            image = self.store.create_image(state.config, state.layers, [])
        sec = state.section
        req = RunRequest(
            image=image.id,
            command=json_or_shell(text),
            args=[],
            env={**{k: v for k, v in args.items() if k not in state.env()}},
            working_dir=sec.get("WorkingDir") or "/",
            user=sec.get("User") or "",
            net="host",
            image_id=image.id,
            layer_dirs=[str(p) for p in self.store.layer_dirs(image)],
            image_config=dict(sec),
        )
        rec = self.c.create(req)
        try:
            from runtime.containers.terminal import pump_attach

            sock = self.c.engine.attach(rec)
            try:
                self.c.engine.start(rec)
                pump_attach(sock, None, self.out.fileno(), self.out.fileno())
            finally:
                sock.close()
            self.c.engine.wait_exit(rec)
            rec = self.c.engine.refresh(rec)
            if rec.exit_code != 0:
                raise BuildError(f"RUN {text}: exited with code {rec.exit_code}")
            upper = Path(self.c.engine.bundle(rec.id)) / "upper"
            lowers = [Path(p) for p in rec.layer_dirs]
            for rel in MOUNTPOINTS:
                p = upper / rel
                if (
                    (p.is_dir() and not any(p.iterdir())) or (p.is_file() and p.stat().st_size == 0)
                ) and not any((low / rel).exists() for low in lowers):
                    p.rmdir() if p.is_dir() else p.unlink()
            return self.store.layer_from_dir(upper)
        finally:
            self.c.remove(rec, force=True)

    def _content_digest(self, text: str) -> str:
        h = hashlib.sha256()
        for src in shlex.split(text)[:-1]:
            root = (self.context / src).resolve()
            paths = sorted(root.rglob("*")) if root.is_dir() else [root]
            for p in paths:
                h.update(str(p.relative_to(self.context) if p.is_relative_to(self.context) else p).encode())
                if p.is_file():
                    h.update(p.read_bytes())
                    h.update(str(p.stat().st_mode).encode())
        return h.hexdigest()

    def _cache_get(self, key: str) -> Image | None:
        if self.no_cache:
            return None
        try:
            image_id = (self.cache_dir / key).read_text().strip()
        except OSError:
            return None
        return self.store.resolve(image_id)

    def _cache_put(self, key: str, image_id: str) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        (self.cache_dir / key).write_text(image_id)


def _hash(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _containers(args: argparse.Namespace) -> Containers:
    from runtime.containers.commands import containers

    return containers(args)


def cmd_build(args: argparse.Namespace) -> int:
    context = Path(args.context)
    dockerfile = Path(args.file) if args.file else context / "Dockerfile"
    try:
        text = dockerfile.read_text()
    except OSError as e:
        raise InvalidConfig(f"cannot read {dockerfile}: {e.strerror}") from None
    build_args = dict(a.partition("=")[::2] for a in args.build_arg)
    out = open(os.devnull, "w") if args.quiet else sys.stdout  # noqa: SIM115
    image = Builder(_containers(args), context, build_args, args.no_cache, out).build(
        parse_dockerfile(text), args.tag
    )
    if args.quiet:
        print(image.id)
    return 0


def cmd_commit(args: argparse.Namespace) -> int:
    """A new image: the container's image + one layer of its upper dir, its command as CMD."""
    c = _containers(args)
    rec = c.get(args.container)
    base = c.images.resolve(rec.image_id)
    if base is None:
        raise BuildError(f"the image of container {rec.name} is gone")
    layer = c.images.layer_from_dir(Path(c.engine.bundle(rec.id)) / "upper")
    config = json.loads(json.dumps(base.config))
    sec = config.setdefault("config", {})
    req = rec.config
    if req.get("command"):
        sec["Entrypoint"] = req["command"]
    if req.get("args") is not None or req.get("command"):
        sec["Cmd"] = req.get("args") or []
    if req.get("env"):
        merged = dict(e.partition("=")[::2] for e in sec.get("Env") or [])
        merged.update(req["env"])
        sec["Env"] = [f"{k}={v}" for k, v in merged.items()]
    config["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    config.setdefault("history", []).append(
        {"created_by": f"kubelite runtime commit {rec.name}", "comment": args.message}
    )
    image = c.images.create_image(config, [*base.layers, layer], [args.ref] if args.ref else [])
    print(image.id)
    return 0
