"""The server's control loops (controller manager, scheduler) as child processes of its own.

k3s runs them in the server's process, and so did kubelite; but a Python process runs one
thread at a time, and under a pod burst the loops took 28% of the API server's event loop
(py-spy, 500 hollow nodes: informers parsing watch events, the scheduler's filtering and
scoring, the controllers' requests) while a quarter of the machine's two cores sat idle. As
processes they run on the other core. They reach the server exactly as before, over its
private Unix socket (plain HTTP, no TLS: `serve.PrivateListener`), so the server does the same
work for them as when they were in-process, and none of theirs.

`LoopProcess.run` starts `python -m apiserver.loopprocess`, hands it the loop (`module:function`,
one of `serve.LoopEntry`), the client config and the options as JSON on its stdin (the token
never shows in `ps`), and starts it again, after a back-off, whenever it ends; cancelling it
stops the child (SIGTERM, then SIGKILL). The child asks the kernel for SIGTERM when its parent
dies (PR_SET_PDEATHSIG), so a server killed with SIGKILL leaves no loop behind. Leader election
is the loops' own, as in-process.

Their work-queue and scheduler metrics (`api.procmetrics`) live in each child's default registry.
A child answers them on a Unix socket of its own (`metrics_socket`), and the server's `/metrics`
adds what `scrape` reads there to its own, so they are where they were when the loops ran inside.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from api.config import ClientConfig

log = logging.getLogger("kubelite.server")

PR_SET_PDEATHSIG = 1
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL when the server stops
MAX_BACKOFF = 30.0


def target_of(fn: Callable[..., Any]) -> str:
    """`module:function` of a loop entry, importable by the child."""
    return f"{fn.__module__}:{fn.__qualname__}"


class LoopProcess:
    def __init__(
        self,
        name: str,
        fn: Callable[..., Any],
        client: ClientConfig,
        options: dict[str, Any],
        verbose: bool,
        metrics_socket: str = "",
    ) -> None:
        self.name = name
        self.metrics_socket = metrics_socket
        self.spec = {
            "name": name,
            "target": target_of(fn),
            "client": {
                "server": client.server,
                "token": client.token,
                "ca_data": client.ca_data.decode() if client.ca_data else None,
            },
            "options": options,
            "verbose": verbose,
            "metrics_socket": metrics_socket,
        }
        self.pid: int | None = None
        self.starts = 0

    async def run(self) -> None:
        """Keep the child running until cancelled (then stop it)."""
        backoff = 1.0
        while True:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "apiserver.loopprocess", str(os.getpid()), stdin=asyncio.subprocess.PIPE
            )
            self.pid, self.starts = proc.pid, self.starts + 1
            try:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps(self.spec).encode())
                await proc.stdin.drain()
                proc.stdin.close()
                started = asyncio.get_running_loop().time()
                code = await proc.wait()
            except BaseException:
                await _stop(proc)
                raise
            ran = asyncio.get_running_loop().time() - started
            backoff = 1.0 if ran > 60 else min(MAX_BACKOFF, backoff * 2)
            log.warning(
                "%s (pid %d) ended with %s; starting it again in %.0f s", self.name, proc.pid, code, backoff
            )
            await asyncio.sleep(backoff)

    async def scrape(self, timeout: float = 2.0) -> bytes:
        """The child's metrics as Prometheus text; b"" while it is not answering (starting, restarting)."""
        if not self.metrics_socket:
            return b""
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(self.metrics_socket)
                try:
                    writer.write(b"GET /metrics HTTP/1.0\r\n\r\n")
                    answer = await reader.read()
                finally:
                    writer.close()
        except (OSError, TimeoutError):
            return b""
        head, _, body = answer.partition(b"\r\n\r\n")
        return body if head.startswith(b"HTTP/1.0 200") else b""


async def _answer_metrics(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One scrape from the parent: the request is read and ignored (there is one answer)."""
    from api import procmetrics

    try:
        await reader.readuntil(b"\r\n\r\n")
        body = procmetrics.exposition()
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(asyncio.shield(proc.wait()), STOP_GRACE)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


def _die_with_parent(parent: int) -> None:
    from runtime import libc

    libc.check(libc.function("prctl")(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


async def _serve(
    fn: Callable[..., Any], client: ClientConfig, options: dict[str, Any], metrics_socket: str
) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    metrics = None
    if metrics_socket:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(metrics_socket)  # a previous run's
        metrics = await asyncio.start_unix_server(_answer_metrics, metrics_socket)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await fn(client, options)
    finally:
        if metrics is not None:
            metrics.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(metrics_socket)


def main(argv: list[str]) -> int:
    _die_with_parent(int(argv[0]))
    spec = json.load(sys.stdin)
    client = spec["client"]
    if client.get("ca_data"):
        client["ca_data"] = client["ca_data"].encode()
    logging.basicConfig(
        level=logging.INFO if spec.get("verbose") else logging.WARNING,
        format=f"%(asctime)s %(levelname)s %(name)s [{spec['name']}]: %(message)s",
    )
    module, _, name = spec["target"].partition(":")
    fn = getattr(importlib.import_module(module), name)
    import uvloop

    from api.gctuning import tune_for_caches

    tune_for_caches()  # informer caches of every pod, as in the server's own process
    uvloop.run(_serve(fn, ClientConfig(**client), spec["options"], spec.get("metrics_socket") or ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
