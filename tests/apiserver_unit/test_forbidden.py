"""Every authorizer's 403 is worded as kube's responsewriters.Forbidden: the subject is the
resource without its subresource, the message names both, a node refusal adds its reason."""

from __future__ import annotations

from apiserver.auth import User, node_forbidden
from apiserver.rbac.authorizer import forbidden_error
from apiserver.rbac.rules import Attributes


def test_a_subresource_is_named_in_the_message_not_in_the_subject() -> None:
    err = forbidden_error(Attributes("jane", (), "create", "ns", "", "pods", "exec", "box"))
    assert err.status["message"] == (
        'pods "box" is forbidden: User "jane" cannot create resource "pods/exec" in API group "" '
        'in the namespace "ns"'
    )
    assert err.status["details"] == {"name": "box", "kind": "pods"}


def test_a_group_qualifies_the_subject_and_a_reason_follows_a_colon() -> None:
    err = forbidden_error(Attributes("u", (), "get", "", "apps", "deployments", "scale", "web"), "because")
    assert err.status["message"] == (
        'deployments.apps "web" is forbidden: User "u" cannot get resource "deployments/scale" in API group '
        '"apps" at the cluster scope: because'
    )
    assert err.status["details"] == {"name": "web", "group": "apps", "kind": "deployments"}


def test_the_node_refusal_is_the_same_403() -> None:
    node = User("system:node:n1", ("system:nodes",), node_name="n1")
    err = node_forbidden(node, "update", "nodes", None, "status")
    assert err.status["message"] == (
        'nodes is forbidden: User "system:node:n1" cannot update resource "nodes/status" in API group "" '
        "at the cluster scope"
    )
    assert err.status["details"] == {"kind": "nodes"}
