"""Volumes whose files the kubelet writes: configMap, secret, downwardAPI and projected.

Contents are decided by a pure function (`volume_files`: relative path -> (bytes, mode)); the
writer puts them on disk the way kubelet's AtomicWriter does, so a reader never sees half an
update: the files live in a timestamped hidden directory `..2026_12_03_10_00_00.123456`, the
symlink `..data` points at the current one, and each visible name is a symlink through it
(`key -> ..data/key`). An update writes a new directory and swaps `..data` with one rename;
then stale names and the old directory go. Unchanged contents leave everything as it is.

Missing objects: optional ones give an empty volume (or skip the source); others raise
`VolumeError` worded as kubelet's MountVolume.SetUp failure. `serviceAccountToken` projections
take the bound token the kubelet requested for the pod (`PodObjects.tokens`).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

from api.podrefs import CONFIGMAPS, SECRETS
from kubelet.env import field_ref, resource_field
from kubelet.podobjects import KIND_WORD, ContainerConfigError, PodObjects

Files = dict[str, tuple[bytes, int]]
DATA = "..data"
DEFAULT_MODE = 0o644
KINDS = ("configMap", "secret", "downwardAPI", "projected")


class VolumeError(Exception):
    """A volume the kubelet cannot provide (unsupported source, missing object, bad hostPath type)."""


def check_descending(rel: str, what: str) -> None:
    """Refuse a path meant to stay inside a volume that is absolute or steps up (`..`). The API
    server refuses such paths too; the node checks again, as kube's kubelet does, for objects
    stored before that check or written by anything that skipped it."""
    if rel.startswith("/"):
        raise VolumeError(f"{what} {rel!r}: must be a relative path")
    if ".." in rel.split("/"):
        raise VolumeError(f"{what} {rel!r}: must not contain '..'")


def _raw_values(resource: str, obj: dict[str, Any]) -> dict[str, bytes]:
    out = (
        {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
        if resource == SECRETS
        else {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
    )
    if resource == CONFIGMAPS:
        for k, v in (obj.get("binaryData") or {}).items():
            out.setdefault(k, base64.b64decode(v))
    return out


def _object_files(
    objects: PodObjects,
    resource: str,
    name: str,
    items: list[dict[str, Any]] | None,
    optional: bool,
    mode: int,
    volume: str,
) -> Files:
    obj = objects.get(resource, name)
    if obj is None:
        if optional:
            return {}
        raise VolumeError(
            f'MountVolume.SetUp failed for volume "{volume}" : {KIND_WORD[resource]} "{name}" not found'
        )
    values = _raw_values(resource, obj)
    if not items:
        return {k: (v, mode) for k, v in values.items()}
    files: Files = {}
    for item in items:
        key = item.get("key") or ""
        if key not in values:
            if optional:
                continue
            raise VolumeError(
                f'MountVolume.SetUp failed for volume "{volume}" : {KIND_WORD[resource]} '
                f"references non-existent config key: {key}"
            )
        files[item["path"]] = (values[key], int(item.get("mode") or mode))
    return files


def _downward_files(
    pod: dict[str, Any], items: list[dict[str, Any]], mode: int, pod_ip: str, host_ip: str
) -> Files:
    files: Files = {}
    meta = pod.get("metadata") or {}
    for item in items:
        if "fieldRef" in item:
            path = item["fieldRef"].get("fieldPath") or ""
            if path in ("metadata.labels", "metadata.annotations"):
                values = meta.get(path.split(".")[1]) or {}
                text = "\n".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(values.items()))
            else:
                text = field_ref(pod, path, pod_ip, host_ip)
        elif "resourceFieldRef" in item:
            ref = item["resourceFieldRef"]
            try:
                text = resource_field(pod, {}, ref)
            except ContainerConfigError as e:
                raise VolumeError(str(e)) from None
        else:
            continue
        files[item["path"]] = (text.encode(), int(item.get("mode") or mode))
    return files


def _escape(value: str) -> str:
    """strconv.Quote's inside, as kubelet writes label values."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def volume_files(
    pod: dict[str, Any], vol: dict[str, Any], objects: PodObjects, pod_ip: str = "", host_ip: str = ""
) -> Files:
    """The files of one configMap/secret/downwardAPI/projected volume (pure)."""
    name = vol["name"]
    if "configMap" in vol:
        src = vol["configMap"] or {}
        return _object_files(
            objects,
            CONFIGMAPS,
            src.get("name") or "",
            src.get("items"),
            bool(src.get("optional")),
            int(src.get("defaultMode", DEFAULT_MODE)),
            name,
        )
    if "secret" in vol:
        src = vol["secret"] or {}
        return _object_files(
            objects,
            SECRETS,
            src.get("secretName") or "",
            src.get("items"),
            bool(src.get("optional")),
            int(src.get("defaultMode", DEFAULT_MODE)),
            name,
        )
    if "downwardAPI" in vol:
        src = vol["downwardAPI"] or {}
        return _downward_files(
            pod, src.get("items") or [], int(src.get("defaultMode", DEFAULT_MODE)), pod_ip, host_ip
        )
    src = vol.get("projected") or {}
    mode = int(src.get("defaultMode", DEFAULT_MODE))
    files: Files = {}
    for source in src.get("sources") or []:
        if "configMap" in source:
            s = source["configMap"] or {}
            files.update(
                _object_files(
                    objects,
                    CONFIGMAPS,
                    s.get("name") or "",
                    s.get("items"),
                    bool(s.get("optional")),
                    mode,
                    name,
                )
            )
        elif "secret" in source:
            s = source["secret"] or {}
            files.update(
                _object_files(
                    objects, SECRETS, s.get("name") or "", s.get("items"), bool(s.get("optional")), mode, name
                )
            )
        elif "downwardAPI" in source:
            files.update(
                _downward_files(pod, (source["downwardAPI"] or {}).get("items") or [], mode, pod_ip, host_ip)
            )
        elif "serviceAccountToken" in source:
            s = source["serviceAccountToken"] or {}
            token = objects.tokens.get(
                (str(s.get("audience") or ""), int(s.get("expirationSeconds") or 3600))
            )
            if token is None:
                account = (pod.get("spec") or {}).get("serviceAccountName") or "default"
                raise VolumeError(
                    f'MountVolume.SetUp failed for volume "{name}" : failed to fetch token: '
                    f'serviceaccounts "{account}" not found'
                )
            files[s.get("path") or "token"] = (token.encode(), mode)
        else:
            kinds = sorted(source)
            raise VolumeError(
                f'MountVolume.SetUp failed for volume "{name}" : projected source {kinds} '
                "is not supported by this kubelet"
            )
    return files


def _current(target: Path) -> Files | None:
    data = target / DATA
    if not data.is_symlink():
        return None
    base = target / os.readlink(data)
    out: Files = {}
    for root, _, names in os.walk(base):
        for n in names:
            p = Path(root) / n
            out[str(p.relative_to(base))] = (p.read_bytes(), p.stat().st_mode & 0o7777)
    return out


def write_atomic(target: Path, files: Files, now: dt.datetime | None = None) -> bool:
    """Make `target` show exactly `files`; True when something changed on disk."""
    for rel in files:
        check_descending(rel, "file path")
        if rel.startswith(".."):  # the names the writer itself uses (..data, ..2026_...)
            raise VolumeError(f"file path {rel!r}: must not start with '..'")
    target.mkdir(parents=True, exist_ok=True)
    if _current(target) == files:
        return False
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("..%Y_%m_%d_%H_%M_%S.%f")
    new_dir = target / stamp
    suffix = 0
    while new_dir.exists():
        suffix += 1
        new_dir = target / f"{stamp}{suffix}"
    new_dir.mkdir(mode=0o755)
    for rel, (content, mode) in files.items():
        path = new_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode)
    old = os.readlink(target / DATA) if (target / DATA).is_symlink() else None
    tmp = target / "..data_tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(new_dir.name, tmp)
    os.rename(tmp, target / DATA)  # the one atomic step: readers switch from old to new here
    visible = {rel.split("/", 1)[0] for rel in files}
    for entry in target.iterdir():
        if entry.name.startswith(".."):
            continue
        if entry.name not in visible and entry.is_symlink():
            entry.unlink()
    for name in visible:
        link = target / name
        if not link.is_symlink():
            os.symlink(f"{DATA}/{name}", link)
    if old and old != new_dir.name:
        shutil.rmtree(target / old, ignore_errors=True)
    return True
