"""`csi` volumes on a node where no CSI driver is registered: every one fails to mount, with the words
kube's kubelet uses in that state (its csi volume plugin), reported as FailedMount events.

This kubelet has no plugin-registration socket, so its list of registered CSI drivers is always
empty. What kube's kubelet says then depends on the driver's CSIDriver object (fetched with the
pod's objects, `kubelet.podobjects`):

- an inline (ephemeral) `csi` volume needs a CSIDriver listing the `Ephemeral` lifecycle mode, or
  NewMounter refuses it; with one, SetUp finds no client for the driver;
- a PersistentVolume's `csi` source must be attached first unless its CSIDriver says
  `attachRequired: false`; no attach/detach controller runs here, so such a volume stays
  unattached (kube's kubelet gives up waiting with the same words, after its two minutes); with
  attach not required, MountDevice finds no client for the driver.
"""

from __future__ import annotations

from typing import Any

CSIDRIVERS = "csidrivers"
NOT_REGISTERED = "driver name {} not found in the list of registered CSI drivers"

Obj = dict[str, Any]


def drivers_used(pod: Obj, volumes: list[Obj | None]) -> set[str]:
    """The CSI drivers the pod's inline `csi` volumes and these (bound) PersistentVolumes name."""
    out = set()
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        driver = ((vol or {}).get("csi") or {}).get("driver")
        if isinstance(driver, str) and driver:
            out.add(driver)
    for pv in volumes:
        driver = (((pv or {}).get("spec") or {}).get("csi") or {}).get("driver")
        if isinstance(driver, str) and driver:
            out.add(driver)
    return out


def inline_error(name: str, source: Obj, csidriver: Obj | None) -> str:
    """Why the inline `csi` volume `name` does not mount (csiPlugin.NewMounter, then mounter.SetUpAt)."""
    driver = str(source.get("driver") or "")
    if csidriver is None:
        why = f'volume mode "Ephemeral" not supported by driver {driver} (no CSIDriver object)'
        return f'MountVolume.NewMounter initialization failed for volume "{name}" : {why}'
    modes = list((csidriver.get("spec") or {}).get("volumeLifecycleModes") or [])
    if "Ephemeral" not in modes:
        listed = "[" + " ".join(f'"{m}"' for m in modes) + "]"  # Go's %q of a slice
        why = f'volume mode "Ephemeral" not supported by driver {driver} (only supports {listed})'
        return f'MountVolume.NewMounter initialization failed for volume "{name}" : {why}'
    return (
        f'MountVolume.SetUp failed for volume "{name}" : kubernetes.io/csi: mounter.SetUpAt failed to get '
        f"CSI client: {NOT_REGISTERED.format(driver)}"
    )


def persistent_error(volume: str, pv_name: str, source: Obj, csidriver: Obj | None) -> str:
    """Why a claim volume bound to a `csi` PersistentVolume does not mount."""
    attach = (csidriver or {}).get("spec", {}).get("attachRequired")
    if csidriver is None or attach is None or attach:
        return (
            f"Unable to attach or mount volumes: unmounted volumes=[{volume}], unattached "
            f"volumes=[{volume}]: timed out waiting for the condition"
        )
    driver = str(source.get("driver") or "")
    return (
        f'MountVolume.MountDevice failed for volume "{pv_name}" : kubernetes.io/csi: attacher.MountDevice '
        f"failed to create newCsiDriverClient: {NOT_REGISTERED.format(driver)}"
    )
