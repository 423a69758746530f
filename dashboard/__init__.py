"""The web dashboard: a read-only view of the cluster in a browser, served beside the API.

It is a client of the API like kubectl: every list, watch, log and metrics read is made with
the viewer's own bearer token (forwarded, never replaced by a stronger one), so authentication
and RBAC are the API server's, exactly. `kubelite server` mounts it under /dashboard/ on the
API server's port (`dashboard.mount`); FastAPI is imported on the first request there only.
"""
