"""The container side of kubelite's runtime: OCI bundles run by runc under conmon.

Public API (what `runtime.real`, the CLI and `runtime.build` call)::

    c = Containers(root, network=factory, images=factory)   # service.py: request -> created container
    c.create(RunRequest(...)) -> Record ; c.get(name_or_id_prefix) -> Record ; c.remove(rec, force)
    e = c.engine                                              # engine.py: conmon + runc, all synchronous
    e.start(rec) ; e.attach(rec) -> socket ; e.wait_exit(rec, timeout) -> bool ; e.refresh(rec) -> Record
    e.stop(rec, timeout) ; e.kill(rec, sig) ; e.exec_sync(rec, argv, timeout) -> (rc, out, err)
    e.exec_argv(rec, argv, tty) -> argv for an attached `runc exec` (execs.RuncExecSession streams it)
    spec.build_spec(BundleRequest) -> OCI config.json dict (pure)

State lives under `<root>/containers/<id>/` (record.json, config.json, upper/work/rootfs, ctr.log);
conmon writes exit codes to `<root>/exits/<id>`. Errors are `ContainerError` subclasses with
one-line messages and docker's exit codes (125, 126, 127). Importing this package is light: no
asyncio, no network, no image unpacking.
"""
