"""No import cycles inside kubectl: verbs share modules (creating, printing, targets, waiting,
cache), never each other, and the shared modules import no verb (import-linter checks the
latter two in `make lint`; a cycle between two helpers, like env <-> discovery once, it cannot)."""

from __future__ import annotations

import grimp


def test_kubectl_has_no_import_cycles() -> None:
    graph = grimp.build_graph("kubectl")
    cycles = sorted(
        {
            tuple(sorted((a, b)))
            for a in graph.modules
            for b in graph.find_modules_directly_imported_by(a)
            if graph.chain_exists(importer=b, imported=a)
        }
    )
    assert cycles == []
