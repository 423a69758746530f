"""NetworkPolicy enforcement on each node (`rules`: the pure rule set; `enforcer`: the loop)."""
