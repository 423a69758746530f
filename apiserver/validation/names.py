"""The name, label and value checks now live in `api.names` (kubectl words its own client-side
checks, e.g. `kubectl taint`'s keys, the same way); re-exported here for the API server's callers."""

from api.names import *  # noqa: F403
