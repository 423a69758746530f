"""`@record` (runtime/datarecord.py) behaves like `@dataclass` wherever the runtime's value types rely on it."""

from __future__ import annotations

import dataclasses
import json

import pytest

from runtime.datarecord import FrozenInstanceError, asdict, field, fields, record, replace


@record
class Inner:
    a: int
    tags: list[str] = field(default_factory=list)


@record
class Outer:
    name: str
    inner: Inner
    n: int = 3
    items: list[Inner] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError("n must not be negative")


@record(frozen=True)
class Ref:
    repo: str
    tag: str = "latest"


@dataclasses.dataclass
class DInner:
    a: int
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class DOuter:
    name: str
    inner: DInner
    n: int = 3
    items: list[DInner] = dataclasses.field(default_factory=list)


def test_construction_defaults_and_factories_match_dataclasses() -> None:
    o = Outer("x", Inner(1), items=[Inner(2, ["t"])])
    d = DOuter("x", DInner(1), items=[DInner(2, ["t"])])
    assert asdict(o) == dataclasses.asdict(d)
    assert json.loads(json.dumps(asdict(o))) == dataclasses.asdict(d)
    assert Inner(1).tags is not Inner(1).tags  # a fresh list per instance
    assert repr(Inner(1)) == "Inner(a=1, tags=[])"
    assert [f.name for f in fields(Outer)] == ["name", "inner", "n", "items"] == [f.name for f in fields(o)]


def test_bad_arguments_raise_type_error() -> None:
    with pytest.raises(TypeError, match="missing required argument: 'inner'"):
        Outer("x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        Inner(1, nope=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values"):
        Inner(1, a=2)  # type: ignore[misc]
    with pytest.raises(TypeError, match="takes 2 arguments"):
        Inner(1, [], 3)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="negative"):
        Outer("x", Inner(1), -1)


def test_equality_hash_frozen_and_replace() -> None:
    assert Inner(1, ["a"]) == Inner(1, ["a"]) and Inner(1) != Inner(2)
    assert Inner(1) != DInner(1)  # another class is never equal
    with pytest.raises(TypeError):
        hash(Inner(1))  # mutable records are unhashable, as dataclasses are
    r = Ref("busybox")
    assert {r, Ref("busybox", "latest")} == {r}
    with pytest.raises(FrozenInstanceError):
        r.tag = "1"  # type: ignore[misc]
    o = Outer("x", Inner(1))
    o2 = replace(o, n=5)
    assert (o2.n, o2.name, o.n) == (5, "x", 3)
    with pytest.raises(ValueError):
        replace(o, n=-1)  # __post_init__ runs again
