"""Role-based access control as kube-apiserver's RBAC authorizer does it.

- `rules`: the pure question "does this PolicyRule allow these request attributes".
- `cache`: Roles, ClusterRoles and their bindings mirrored from the store by a watch, bindings
  indexed by subject so that a request looks only at the bindings that name its user, its
  groups or its service account (1,000 RoleBindings cost a request nothing extra).
- `authorizer`: the decision for a request and the 403 worded as kube's.
- `bootstrap`: the default roles and bindings every cluster starts with (cluster-admin, admin,
  edit, view, system:discovery, system:basic-user, system:public-info-viewer).
"""
