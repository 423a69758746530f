"""Container ids and names the way Docker makes them: 64 hex ids, 12-char short ids, and
generated `adjective_surname` names; lookups accept a name, a full id or a unique id prefix."""

from __future__ import annotations

import os
import re

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

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$")
HEX_RE = re.compile(r"^[0-9a-f]{1,64}$")


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
    return bool(NAME_RE.match(name))
