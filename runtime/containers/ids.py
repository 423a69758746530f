"""Container ids and names the way Docker makes them: 64 hex ids, 12-char short ids, and
generated `adjective_surname` names; lookups accept a name, a full id or a unique id prefix."""

from __future__ import annotations

import os

_ADJECTIVES = (
    "admiring",
    "brave",
    "clever",
    "dazzling",
    "eager",
    "festive",
    "gallant",
    "happy",
    "jolly",
    "keen",
    "lucid",
    "modest",
    "nifty",
    "optimistic",
    "peaceful",
    "quirky",
    "relaxed",
    "serene",
    "tender",
    "upbeat",
    "vibrant",
    "wizardly",
    "youthful",
    "zealous",
    "bold",
    "calm",
    "kind",
)
_SURNAMES = (
    "hopper",
    "lovelace",
    "turing",
    "knuth",
    "ritchie",
    "thompson",
    "torvalds",
    "liskov",
    "dijkstra",
    "hamilton",
    "babbage",
    "curie",
    "noether",
    "shannon",
    "wozniak",
    "kernighan",
    "pike",
    "lamport",
    "backus",
    "mccarthy",
    "perlman",
    "goldberg",
    "allen",
    "bartik",
    "cerf",
    "engelbart",
    "hoare",
)

# checked with str methods, not `re` (it imports enum: ~10 ms of every `run`); as docker's
# [a-zA-Z0-9][a-zA-Z0-9_.-]* of at most 128 characters, and a hex id prefix of at most 64
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_NAME_CHARS = _ALNUM | frozenset("_.-")
_HEX = frozenset("0123456789abcdef")


def new_id() -> str:
    return os.urandom(32).hex()


def short_id(container_id: str) -> str:
    return container_id[:12]


def generate_name(taken: set[str]) -> str:
    """A random `adjective_surname` not in `taken` (a digit suffix once the pairs run out)."""
    for attempt in range(1000):
        a = _ADJECTIVES[int.from_bytes(os.urandom(2), "big") % len(_ADJECTIVES)]
        b = _SURNAMES[int.from_bytes(os.urandom(2), "big") % len(_SURNAMES)]
        name = f"{a}_{b}" if attempt < 50 else f"{a}_{b}{attempt}"
        if name not in taken:
            return name
    return "c_" + new_id()[:16]


def valid_name(name: str) -> bool:
    return 0 < len(name) <= 128 and name[0] in _ALNUM and _NAME_CHARS.issuperset(name)


def is_hex_prefix(ref: str) -> bool:
    """Could `ref` be a prefix of a container id (1-64 lowercase hex digits)?"""
    return 0 < len(ref) <= 64 and _HEX.issuperset(ref)
