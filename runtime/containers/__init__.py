"""The container side of kubelite's runtime: OCI bundles run by runc under conmon.

Public API (what `runtime.real`, the CLI and `runtime.build` call)::

    engine = Engine(root)                          # root = the runtime root; state in root/"containers"
    engine.create(req: CreateRequest) -> Record    # rootfs overlay + bundle + conmon/`runc create`
    engine.start(rec) ; engine.attach(rec) -> socket ; engine.wait(rec) -> int
    engine.stop(rec, timeout) ; engine.kill(rec, sig) ; engine.remove(rec, force)
    engine.refresh(rec) -> Record                  # state from disk + kernel (exit file, pid, OOM)
    engine.exec_sync(rec, argv, timeout) -> (rc, out, err) ; engine.exec_process(...)
    store = ContainerStore(root/"containers")      # records on disk, names, id prefix lookup

Errors are `ContainerError` subclasses with one-line messages (runtime.containers.errors).
Importing this package is light: no asyncio, no network, no image unpacking.
"""
