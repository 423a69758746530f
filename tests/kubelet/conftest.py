"""Fixtures shared by the kubelet tests.

`health_server` is a real gRPC server with grpcio's standard health servicer on a free loopback
port, for the gRPC probe's unit tests and the real-container readiness test alike (grpc is
imported only by the tests that ask for it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from grpc_health.v1 import health


@pytest.fixture
def health_server() -> Iterator[tuple[int, health.HealthServicer]]:
    from concurrent import futures

    import grpc
    from grpc_health.v1 import health, health_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port, servicer
    finally:
        server.stop(None)
