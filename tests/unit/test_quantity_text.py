"""api.quantity_text: the canonical text a Go client sends, checked against what kubectl 1.33's
`create quota --dry-run=client` printed for each value."""

from __future__ import annotations

import pytest

from api.quantity import QUANTITY_ERROR
from api.quantity_text import SUFFIX_ERROR, canonical_quantity

KUBECTL_133 = {
    "1000m": "1", "0.5": "500m", "1024Mi": "1Gi", "2000": "2k", "1e3": "1e3", "1.5Gi": "1536Mi",
    "100M": "100M", "1k": "1k", "1500m": "1500m", "0.1Gi": "107374182400m", "1.5": "1500m", "12e6": "12e6",
    "1Ki": "1Ki", "1025Ki": "1025Ki", "0.0001": "100u", "+5": "+5", "1.0": "1", "2048": "2048", "1E3": "1E3",
    "5e-3": "5e-3", "100Mi": "100Mi", ".5": "500m", "1000k": "1M", "1" + "0" * 24: "1", "-1": "-1",
    "-1500m": "-1500m", "0.0000000001": "1n", "1.G": "1.G", "0Gi": "0", "2047.5Ki": "2096640", "1e-12": "1e-9",
    "3e2": "300", "-0.5Gi": "-512Mi", "0.00": "0", "5Ei": "5Ei", "9Ei": "9223372036854775807",
}  # fmt: skip


@pytest.mark.parametrize(("given", "sent"), KUBECTL_133.items())
def test_canonical_text(given: str, sent: str) -> None:
    assert canonical_quantity(given) == sent


@pytest.mark.parametrize(
    ("given", "error"),
    [("abc", QUANTITY_ERROR), ("", QUANTITY_ERROR), ("1X", QUANTITY_ERROR), ("1m5", SUFFIX_ERROR)],
)
def test_errors(given: str, error: str) -> None:
    with pytest.raises(ValueError, match="^" + __import__("re").escape(error) + "$"):
        canonical_quantity(given)
