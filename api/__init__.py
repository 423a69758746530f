"""Everything a component needs to speak the Kubernetes v1 API, shared by server and clients.

Objects travel as plain dicts (the wire JSON), never as model instances: a stored row is
bytes, a handler reads it into a dict once when it must look inside, and writes it back once.
This package holds what every side agrees on: the resource table (`resources`), Status errors
(`errors`), label and field selectors (`selectors`), JSON and time helpers (`jsonutil`), the
REST client, watch streams, informers and the work queue.
"""
