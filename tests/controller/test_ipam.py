"""Node IPAM's pure choice: the first /24 of the cluster CIDR that overlaps nothing in use."""

from __future__ import annotations

import pytest

from controller.ipam import next_free


def test_first_subnet_clear_of_every_used_cidr() -> None:
    assert next_free("10.244.0.0/16", 24, set()) == "10.244.0.0/24"
    assert next_free("10.244.0.0/16", 24, {"10.244.0.0/24", "10.244.2.0/24"}) == "10.244.1.0/24"
    # a wider used range blocks every /24 inside it; a smaller one blocks the /24 around it
    assert next_free("10.244.0.0/16", 24, {"10.244.0.0/23", "10.244.2.128/25"}) == "10.244.3.0/24"
    # other families and ranges outside the cluster CIDR block nothing
    assert next_free("10.244.0.0/16", 24, {"fd00::/64", "10.0.0.0/24"}) == "10.244.0.0/24"
    assert next_free("10.244.0.0/22", 24, {f"10.244.{i}.0/24" for i in range(4)}) is None
    assert next_free("10.244.0.0/16", 24, {"10.0.0.0/8"}) is None
    assert next_free("fd00::/112", 120, {"fd00::/120"}) == "fd00::100/120"
    with pytest.raises(ValueError):
        next_free("10.244.0.0/24", 16, set())


def test_hundreds_of_nodes_cost_one_pass() -> None:
    used = {f"10.244.{i}.0/24" for i in range(256)} | {f"10.245.{i}.0/24" for i in range(245)}
    assert next_free("10.244.0.0/15", 24, used) == "10.245.245.0/24"
