"""Pod volumes on the node: emptyDir (disk or memory), hostPath, and the volumes whose files the
kubelet writes (configMap, secret, downwardAPI, projected: `kubelet.projection`), as bind mounts.

An emptyDir lives under the pod's directory (`<data-dir>/pods/<uid>/volumes/<name>`) and is
shared by every container of the pod; `medium: Memory` mounts one tmpfs there (once, so all
containers see the same files) and teardown unmounts it. hostPath binds the node's path,
creating it for `DirectoryOrCreate`. Written volumes live beside emptyDirs and are mounted
read-only, as kubelet mounts them; each sync rewrites them atomically when their objects
changed. A `persistentVolumeClaim` resolves claim -> bound PersistentVolume (both fetched with
the pod's objects) -> its hostPath or local path, bound like a hostPath (a local-path volume's
DirectoryOrCreate makes its directory on first mount); until the claim is Bound the pod waits
with kube's FailedMount words. A `csi` volume, inline or behind a claim, never mounts (no CSI
driver registers with this kubelet): `kubelet.csi` words why as kube's kubelet does. What each
container sees is its `volumeMounts`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from api.podrefs import CLAIMS, LOCAL_PATH_PROVISIONER, PROVISIONED_BY, VOLUMES
from api.quantity import to_int
from kubelet import csi
from kubelet.env import expand
from kubelet.podfiles import DISK, PodFiles, pod_dir
from kubelet.podobjects import PodObjects
from kubelet.projection import KINDS as WRITTEN_KINDS
from kubelet.projection import VolumeError, check_descending, volume_files
from runtime.interface import Mount

__all__ = ["VolumeError", "container_mounts", "pod_dir", "setup_volumes", "teardown_volumes"]


PROPAGATION = {"None": "rprivate", "HostToContainer": "rslave", "Bidirectional": "rshared"}


def setup_volumes(
    pod: dict[str, Any],
    data_dir: Path,
    objects: PodObjects | None = None,
    pod_ip: str = "",
    host_ip: str = "",
    files: PodFiles = DISK,
) -> dict[str, Path]:
    """Create (idempotently) every volume of the pod; returns name -> host path."""
    uid = pod["metadata"]["uid"]
    objects = objects or PodObjects(pod["metadata"].get("namespace") or "default")
    out: dict[str, Path] = {}
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        name = vol["name"]
        if any(kind in vol for kind in WRITTEN_KINDS):
            out[name] = files.volume(data_dir, uid, name, volume_files(pod, vol, objects, pod_ip, host_ip))
        elif "emptyDir" in vol:
            medium = (vol["emptyDir"] or {}).get("medium") or ""
            if medium not in ("", "Memory"):  # HugePages media: no huge pages here
                raise VolumeError(f"volume {name}: emptyDir medium {medium!r} is not supported")
            limit = (vol["emptyDir"] or {}).get("sizeLimit")
            size = to_int(limit) if limit is not None else None
            out[name] = files.empty_dir(data_dir, uid, name, medium == "Memory", size)
        elif "hostPath" in vol:
            out[name] = _host_path(vol["hostPath"])
        elif "persistentVolumeClaim" in vol:
            out[name] = claim_path(pod, vol, objects)
        elif "csi" in vol:  # no CSI driver is ever registered with this kubelet
            source = vol.get("csi") or {}
            raise VolumeError(
                csi.inline_error(name, source, objects.get(csi.CSIDRIVERS, str(source.get("driver"))))
            )
        else:
            kinds = [k for k in vol if k != "name"]
            raise VolumeError(f"volume {name}: unsupported volume type {kinds}")
    return out


HOST_PATH_CHECKS: dict[str, tuple[Callable[[Path], bool], str]] = {
    "Directory": (Path.is_dir, "a directory"),
    "File": (Path.is_file, "a file"),
    "Socket": (Path.is_socket, "a socket file"),
    "CharDevice": (Path.is_char_device, "a character device"),
    "BlockDevice": (Path.is_block_device, "a block device"),
}


def _host_path(hp: dict[str, Any], mode: int = 0o755) -> Path:
    """A hostPath after kube's type check: the *OrCreate types make what is missing (a file
    only in a directory that exists, as kube does); the others must find what they name."""
    path = Path(hp["path"])
    kind = hp.get("type", "")
    if kind == "DirectoryOrCreate" and not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
    elif kind == "FileOrCreate" and not path.exists():
        try:
            path.touch(0o644)
        except OSError as e:
            raise VolumeError(f"hostPath type check failed: {path}: {e.strerror}") from None
    elif kind == "FileOrCreate" and not path.is_file():
        raise VolumeError(f"hostPath type check failed: {path} is not a file")
    elif kind in HOST_PATH_CHECKS and not HOST_PATH_CHECKS[kind][0](path):
        raise VolumeError(f"hostPath type check failed: {path} is not {HOST_PATH_CHECKS[kind][1]}")
    return path


def claim_path(pod: dict[str, Any], vol: dict[str, Any], objects: PodObjects) -> Path:
    """The node path behind a claim volume; VolumeError worded as kubelet's volume manager."""
    name, claim_name = vol["name"], str((vol.get("persistentVolumeClaim") or {}).get("claimName") or "")
    ns = pod["metadata"].get("namespace") or "default"

    def fail(why: str) -> VolumeError:
        return VolumeError(
            f"Unable to attach or mount volumes: unmounted volumes=[{name}], unattached "
            f"volumes=[{name}]: error processing PVC {ns}/{claim_name}: {why}"
        )

    claim = objects.get(CLAIMS, claim_name)
    if claim is None:
        raise fail(f'failed to fetch PVC from API server: persistentvolumeclaims "{claim_name}" not found')
    if (claim.get("metadata") or {}).get("deletionTimestamp"):
        raise fail("PVC is being deleted")
    volume_name = (claim.get("spec") or {}).get("volumeName")
    if not volume_name or (claim.get("status") or {}).get("phase") != "Bound":
        raise fail("PVC is not bound")
    pv = objects.get(VOLUMES, str(volume_name))
    if pv is None:
        raise fail(
            f'failed to fetch PV {volume_name} from API server: persistentvolumes "{volume_name}" not found'
        )
    spec = pv.get("spec") or {}
    if spec.get("hostPath"):
        # rancher's local-path helper makes a claim's directory with `mkdir -m 0777`, so that a
        # non-root container can write its volume
        local_path = (pv.get("metadata") or {}).get("annotations", {}).get(
            PROVISIONED_BY
        ) == LOCAL_PATH_PROVISIONER
        return _host_path(spec["hostPath"], 0o777 if local_path else 0o755)
    if spec.get("csi"):
        source = spec["csi"]
        driver = objects.get(csi.CSIDRIVERS, str(source.get("driver") or ""))
        raise VolumeError(csi.persistent_error(name, str(volume_name), source, driver))
    if spec.get("local"):
        path = Path(str(spec["local"].get("path") or ""))
        if not path.exists():
            raise VolumeError(
                f'MountVolume.NewMounter initialization failed for volume "{volume_name}" : path '
                f'"{path}" does not exist'
            )
        return path
    kinds = [
        k
        for k in spec
        if k
        not in (
            "capacity",
            "accessModes",
            "claimRef",
            "persistentVolumeReclaimPolicy",
            "storageClassName",
            "mountOptions",
            "volumeMode",
            "nodeAffinity",
        )
    ]
    raise VolumeError(f"volume {name}: persistent volume {volume_name} of unsupported type {kinds}")


def container_mounts(
    container: dict[str, Any],
    volumes: dict[str, Path],
    read_only: frozenset[str] = frozenset(),
    env: Mapping[str, str] | None = None,
) -> list[Mount]:
    """The container's volumeMounts; volumes named in `read_only` (written ones) are always read-only.
    A `subPathExpr` is expanded from the container's `env` (`logs/$(POD_NAME)`)."""
    mounts = []
    for vm in container.get("volumeMounts") or []:
        host = volumes.get(vm["name"])
        if host is None:
            raise VolumeError(f"volumeMount {vm['name']} refers to no volume of the pod")
        sub_path = vm.get("subPath") or expand(vm.get("subPathExpr") or "", env or {})
        if sub_path:
            host = _inside(host, sub_path)
        ro = bool(vm.get("readOnly")) or vm["name"] in read_only
        mounts.append(
            Mount(
                container_path=vm["mountPath"],
                host_path=str(host),
                read_only=ro,
                propagation=PROPAGATION.get(vm.get("mountPropagation") or "None", "rprivate"),
                # the kernel here has mount_setattr, so IfPossible is always possible
                recursive_read_only=ro and vm.get("recursiveReadOnly") in ("Enabled", "IfPossible"),
            )
        )
    return mounts


def teardown_volumes(data_dir: Path, uid: str, files: PodFiles = DISK) -> None:
    """Unmount memory-backed emptyDirs and remove the pod's directory (hostPaths are left alone)."""
    files.remove_pod(data_dir, uid)


def written_volumes(pod: dict[str, Any]) -> frozenset[str]:
    """Names of the pod's volumes whose files the kubelet writes (mounted read-only)."""
    return frozenset(
        v["name"]
        for v in (pod.get("spec") or {}).get("volumes") or []
        if any(kind in v for kind in WRITTEN_KINDS)
    )


def read_only_volumes(pod: dict[str, Any]) -> frozenset[str]:
    """Names of the volumes every mount of is read-only: the written ones, and claims the pod
    mounts `readOnly` (kube's persistentVolumeClaim.readOnly)."""
    claims = frozenset(
        v["name"]
        for v in (pod.get("spec") or {}).get("volumes") or []
        if (v.get("persistentVolumeClaim") or {}).get("readOnly")
    )
    return written_volumes(pod) | claims


def _inside(volume: Path, sub_path: str) -> Path:
    """The host path of a volumeMount's subPath, refused unless it stays inside the volume once
    symlinks are followed: a container can make a link in its own volume (`ln -s / x`) and a
    subPath through it would otherwise bind the node's root into the next container (kube's
    CVE-2017-1002101). A key of a written volume resolves to the file itself (kube's subPath
    does not follow updates either); a missing directory is made, inside the volume."""
    check_descending(sub_path, "subPath")
    resolved = (volume / sub_path).resolve()
    if not resolved.is_relative_to(volume.resolve()):
        raise VolumeError(f"subPath {sub_path!r}: leads out of its volume (through a symbolic link)")
    if not resolved.exists():
        resolved.mkdir(parents=True, exist_ok=True)
    return resolved
