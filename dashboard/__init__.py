"""The web dashboard: a read-only view of the cluster in a browser, served beside the API.

It is a client of the API like kubectl: what a viewer may see is decided by the API server with
the viewer's own bearer token (its lists, logs and metrics reads are made with it; the watches
every page shares are opened only for kinds the API let that token list and watch, asked again
every minute: hub.py), so authentication and RBAC are the API server's. `kubelite server` mounts
it under /dashboard/ on the API server's port (`dashboard.mount`); FastAPI is imported on the
first request there only.
"""
