"""The nft wrapper against the real nf_tables: atomic, idempotent replacement and deletion."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from runtime.network import nft


@pytest.fixture
def table() -> Iterator[str]:
    name = "kltest_" + uuid.uuid4().hex[:10]
    yield name
    nft.delete_table("inet", name)


def _rules(name: str) -> str:
    return nft.run(f"list table inet {name}\n")


BODY_A = "    chain input {\n        type filter hook input priority 10; policy accept;\n        tcp dport 1 counter\n    }"
BODY_B = "    chain input {\n        type filter hook input priority 10; policy accept;\n        tcp dport 2 counter\n    }"


def test_apply_creates_then_replaces_without_duplicating(table: str) -> None:
    assert not nft.table_exists("inet", table)
    nft.apply_table("inet", table, BODY_A)
    assert nft.Table("inet", table) in nft.list_tables()
    assert "dport 1" in _rules(table)
    nft.apply_table("inet", table, BODY_A)  # idempotent
    assert _rules(table).count("dport 1") == 1
    nft.apply_table("inet", table, BODY_B)
    rules = _rules(table)
    assert "dport 2" in rules and "dport 1" not in rules
    assert [t for t in nft.list_tables() if t.name == table] == [nft.Table("inet", table)]


def test_a_bad_body_leaves_the_old_table_untouched(table: str) -> None:
    nft.apply_table("inet", table, BODY_A)
    with pytest.raises(nft.NftError, match="nft failed"):
        nft.apply_table("inet", table, BODY_A + "\n    chain broken { this is not nft }")
    assert "dport 1" in _rules(table), "the failed transaction must not have deleted the table"


def test_delete_table_is_idempotent_and_leaves_no_table(table: str) -> None:
    nft.apply_table("inet", table, BODY_A)
    nft.delete_table("inet", table)
    assert not nft.table_exists("inet", table)
    nft.delete_table("inet", table)
    assert not nft.table_exists("inet", table)


@pytest.mark.parametrize(
    ("family", "name"), [("ipx", "ok"), ("inet", "bad name"), ("inet", "x;flush ruleset"), ("inet", "")]
)
def test_bad_family_or_name_is_refused_before_nft_runs(family: str, name: str) -> None:
    with pytest.raises(nft.NftError, match="invalid nft"):
        nft.apply_table(family, name, BODY_A)
    with pytest.raises(nft.NftError, match="invalid nft"):
        nft.delete_table(family, name)


def test_table_script_is_one_transaction() -> None:
    script = nft.table_script("ip", "t1", "chain c {}")
    assert script == "table ip t1\ndelete table ip t1\ntable ip t1 {\nchain c {}\n}\n"
