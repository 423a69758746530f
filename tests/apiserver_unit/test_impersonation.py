"""Impersonation's decision: what the requester must be allowed, and the identity it acts as."""

from __future__ import annotations

import pytest

from api.errors import ApiError
from apiserver.auth import User
from apiserver.impersonation import act_as, requests, wanted
from apiserver.rbac.rules import Attributes

BOB = User("bob", ("devs", "system:authenticated"))


def _ask(headers: list[tuple[bytes, bytes]], allow: bool = True) -> tuple[User, list[Attributes]]:
    asked: list[Attributes] = []

    def allowed(a: Attributes) -> bool:
        asked.append(a)
        return allow

    return act_as(BOB, headers, allowed), asked


def test_no_headers_costs_nothing_and_changes_nothing() -> None:
    assert not wanted({b"authorization": b"", b"accept": b"", b"user-agent": b""})
    assert wanted({b"accept": b"", b"impersonate-user": b""})
    assert wanted({b"impersonate-group": b""}) and wanted({b"impersonate-uid": b""})
    user, asked = _ask([(b"accept", b"*/*")])
    assert user is BOB and asked == []


def test_a_user_with_groups_uid_and_extras() -> None:
    user, asked = _ask(
        [
            (b"impersonate-user", b"jane"),
            (b"impersonate-group", b"ops"),
            (b"impersonate-group", b"qa"),
            (b"impersonate-extra-scopes", b"view"),
            (b"impersonate-extra-scopes", b"edit"),
            (b"impersonate-extra-example.com%2fteam", b"a"),
            (b"impersonate-uid", b"1234"),
        ]
    )
    assert user.name == "jane"
    assert user.groups == ("ops", "qa", "system:authenticated")
    assert user.uid == "1234"
    assert dict(user.extra) == {"scopes": ("view", "edit"), "example.com/team": ("a",)}
    questions = [(a.verb, a.namespace, a.api_group, a.resource, a.subresource, a.name) for a in asked]
    assert questions == [
        ("impersonate", "", "", "users", "", "jane"),
        ("impersonate", "", "", "groups", "", "ops"),
        ("impersonate", "", "", "groups", "", "qa"),
        ("impersonate", "", "authentication.k8s.io", "userextras", "scopes", "view"),
        ("impersonate", "", "authentication.k8s.io", "userextras", "scopes", "edit"),
        ("impersonate", "", "authentication.k8s.io", "userextras", "example.com/team", "a"),
        ("impersonate", "", "authentication.k8s.io", "uids", "", "1234"),
    ]
    assert all(a.user == "bob" and a.groups == BOB.groups for a in asked)


def test_a_service_account_is_asked_in_its_namespace_and_gets_its_groups() -> None:
    user, asked = _ask([(b"impersonate-user", b"system:serviceaccount:team:robot")])
    assert [(a.namespace, a.resource, a.name) for a in asked] == [("team", "serviceaccounts", "robot")]
    assert user.groups == ("system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated")
    # a malformed account name is a plain user name
    _, asked = _ask([(b"impersonate-user", b"system:serviceaccount:team")])
    assert [(a.resource, a.name) for a in asked] == [("users", "system:serviceaccount:team")]


def test_authenticated_and_anonymous_groups() -> None:
    user, _ = _ask([(b"impersonate-user", b"jane"), (b"impersonate-group", b"system:unauthenticated")])
    assert user.groups == ("system:unauthenticated",)
    user, _ = _ask([(b"impersonate-user", b"system:anonymous")])
    assert user.groups == ("system:unauthenticated",)


def test_refusals() -> None:
    with pytest.raises(ApiError) as e:
        _ask([(b"impersonate-user", b"jane")], allow=False)
    assert e.value.code == 403
    assert e.value.message == (
        'users "jane" is forbidden: User "bob" cannot impersonate resource "users" in API group "" '
        "at the cluster scope"
    )
    with pytest.raises(ApiError) as e:
        _ask([(b"impersonate-user", b"system:serviceaccount:team:robot")], allow=False)
    assert e.value.message == (
        'serviceaccounts "robot" is forbidden: User "bob" cannot impersonate resource "serviceaccounts" '
        'in API group "" in the namespace "team"'
    )
    with pytest.raises(ApiError) as e:
        _ask([(b"impersonate-group", b"ops")])
    assert e.value.code == 500 and "without impersonating a user" in e.value.message


def test_requests_parse() -> None:
    assert requests([(b"impersonate-user", b"a"), (b"impersonate-user", b"b")]) == ("a", [], "", [])
