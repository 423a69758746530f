"""Loop entries for tests/apiserver_unit/test_loopprocess.py, run in child processes."""

from __future__ import annotations

import asyncio
import gc
import json
import os
from pathlib import Path
from typing import Any

from api.config import ClientConfig


async def record_and_wait(client: ClientConfig, options: dict[str, Any]) -> None:
    """Append what the child was given (and its pid) to options["out"]; end at once if told to."""
    from api.procmetrics import scheduling_attempt

    scheduling_attempt("scheduled", 0.01)  # something for the server to scrape
    line = {
        "server": client.server,
        "token": client.token,
        "ca": (client.ca_data or b"").decode(),
        "pid": os.getpid(),
        "gc_young": gc.get_threshold()[0],  # the loop's informer caches: young collections made rare
    }
    with Path(options["out"]).open("a") as f:
        f.write(json.dumps(line) + "\n")
    if not options.get("end"):
        await asyncio.Event().wait()
