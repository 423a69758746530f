"""HTTP handlers of the API server: raw ASGI, bytes in and bytes out (see apiserver.app).

`routing` turns a path into a `Route`; `resources` serves the generic verbs of every resource,
`subresources` status/scale/binding/finalize/log/exec, `meta` discovery, OpenAPI, version and
health; `http` holds the request/response helpers and the shared `State`;
`prefilter` the byte pre-test of selectors; `protobuf` the reader of kubectl's protobuf bodies.
"""
