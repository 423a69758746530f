"""Label and field selector grammar and matching, as k8s.io/apimachinery defines them."""

import pytest

from api.errors import ApiError
from api.selectors import (
    field_value,
    map_to_string,
    parse_field_selector,
    parse_label_selector,
    selector_from_map,
)

LABELS = {"app": "web", "tier": "front", "env": "prod"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app!=db", True),
        ("missing!=x", True),  # != matches an absent key
        ("app in (web,db)", True),
        ("app in (db)", False),
        ("app notin (db, cache)", True),
        ("missing notin (x)", True),
        ("tier", True),
        ("missing", False),
        ("!missing", True),
        ("!app", False),
        ("app=web,tier=front", True),
        ("app=web, tier=back", False),
        ("example.com/role=x", False),
    ],
)
def test_label_selector_matches(selector, expected):
    assert parse_label_selector(selector).matches(LABELS) is expected


@pytest.mark.parametrize("bad", ["app in web", "app in (web", "=web", "app=web,,", "app=a=b", "bad key!=x"])
def test_bad_label_selectors_are_400(bad):
    with pytest.raises(ApiError) as e:
        parse_label_selector(bad)
    assert e.value.code == 400


def test_selector_round_trips_to_string():
    s = parse_label_selector("app=web,tier in (a,b),!x,env")
    assert parse_label_selector(str(s)) == s


def test_selector_from_map_is_sorted_equality():
    sel = selector_from_map({"b": "2", "a": "1"})
    assert str(sel) == "a=1,b=2" == map_to_string({"b": "2", "a": "1"})
    assert sel.matches({"a": "1", "b": "2", "c": "3"})
    assert not sel.matches({"a": "1"})
    assert selector_from_map({}).matches({"anything": "x"})


def test_field_selector():
    pod = {
        "metadata": {"name": "x", "namespace": "default"},
        "spec": {"nodeName": "n1", "hostNetwork": True},
        "status": {"phase": "Running"},
    }
    fs = parse_field_selector("metadata.name=x,spec.nodeName==n1,status.phase!=Failed")
    assert fs.matches(pod)
    assert fs.value_of("spec.nodeName") == "n1"
    assert not parse_field_selector("spec.nodeName=n2").matches(pod)
    assert parse_field_selector("spec.nodeName=").matches({"spec": {}})  # unbound pods
    assert field_value(pod, "spec.hostNetwork") == "true"
    with pytest.raises(ApiError):
        parse_field_selector("nonsense")
