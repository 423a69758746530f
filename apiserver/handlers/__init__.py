"""HTTP handlers of the API server: raw ASGI, bytes in and bytes out (see apiserver.app).

`routing` turns a path into a `Route`; `resources` serves the generic verbs of every resource,
`subresources` status/scale/binding/log/exec, `meta` the discovery, OpenAPI, version and health
endpoints; `http` holds the small request/response helpers they share.
"""
